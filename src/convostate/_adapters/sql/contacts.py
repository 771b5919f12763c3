"""New contacts, at most one per phone number and per email address in an account: checked before the
commit writes, and held by unique keys (``account, phone`` and ``account, email_key``) against a writer that
adds the same one at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from convostate._adapters.sql import dialects
from convostate._adapters.sql.queries import Queries
from convostate._adapters.sql.tables import Tables
from convostate._adapters.sql.values import encode
from convostate._core.errors import InvalidInput, duplicate_contact
from convostate._core.ids import ContactId
from convostate._core.model import Contact


class NewContacts:
    def __init__(self, tables: Tables, queries: Queries, account: str) -> None:
        self._t = tables
        self._q = queries
        self._account = account
        self._add_contacts: Any = None  # built on first use, for the connection's dialect

    def check_lines(self, connection: sa.Connection, contacts: Sequence[Contact]) -> None:
        """Refuse a new contact whose phone or email another contact has, stored or earlier in the set:
        one indexed read of the stored holders, then the memory store's order of checks."""
        phones = [contact.phone for contact in contacts if contact.phone is not None]
        emails = [contact.email.casefold() for contact in contacts if contact.email is not None]
        if not phones and not emails:
            return
        stored_phones: dict[str, ContactId] = {}
        stored_emails: dict[str, ContactId] = {}
        rows = connection.execute(
            self._q.contact_lines, {"account": self._account, "phones": phones, "emails": emails}
        )
        for holder, phone, email in rows:
            if phone is not None:
                stored_phones[phone] = ContactId(holder)
            if email is not None:
                stored_emails[email] = ContactId(holder)
        new_phones: dict[str, ContactId] = {}
        new_emails: dict[str, ContactId] = {}
        for contact in contacts:
            if contact.phone is not None:
                held = stored_phones.get(contact.phone, new_phones.get(contact.phone))
                if held is not None:
                    raise duplicate_contact("phone number", contact.phone, held)
                new_phones[contact.phone] = contact.id
            if contact.email is not None:
                key = contact.email.casefold()
                held = stored_emails.get(key, new_emails.get(key))
                if held is not None:
                    raise duplicate_contact("email address", contact.email, held)
                new_emails[key] = contact.id

    def add(self, connection: sa.Connection, contacts: Sequence[Contact]) -> None:
        """Insert the new contacts, skipping any row a unique key refuses: a writer that took the same id,
        phone or email since the checks (PostgreSQL waits for it to commit, then skips the row, where it
        would raise an IntegrityError that ends the transaction). A skipped row is then refused as the
        checks refuse it, now that they see the other writer's row."""
        if self._add_contacts is None:
            c = self._t.contacts.c
            self._add_contacts = (
                dialects.insert(connection.dialect, self._t.contacts).on_conflict_do_nothing().returning(c.id)
            )
        added = connection.execute(
            self._add_contacts,
            [
                {
                    "account": self._account,
                    "id": contact.id.value,
                    "payload": encode(contact),
                    "phone": contact.phone,
                    "email_key": None if contact.email is None else contact.email.casefold(),
                }
                for contact in contacts
            ],
        ).scalars()
        if len(set(added)) < len(contacts):
            self.check_lines(connection, contacts)
            raise InvalidInput(
                f"a contact with id {', '.join(contact.id.value for contact in contacts)} already exists"
            )
