"""Contact analytics: contacts found by phone or email, and the tables every commit adds its facts to.

Revision ID: 0002
Revises: 0001

A contact's phone and email were only in its payload: they are copied into the new columns, each kept by the
first contact (in id order) that has it, so that the unique constraints can be made over data an older
release let repeat. The analytics are worked out from every stored conversation's events, as each commit
would have added them (``observe``), dated in the account's time zone of now: so the figures of contacts,
inboxes and users include what happened before the upgrade.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

from convostate._adapters.sql.analytics import FactSums
from convostate._adapters.sql.migrations.prefix import prefix
from convostate._adapters.sql.values import decode, decode_event
from convostate._core.analytics.facts import observe
from convostate._core.events import Event
from convostate._core.model import AccountSettings, Inbox

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")
"""Keys and tie-breaks compare byte by byte on every database (the memory store's order)."""
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""Numbered by the database on insert: SQLite does so only for an ``INTEGER PRIMARY KEY``."""
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SEPARATORS = re.compile(r"[\s().\-]")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
"""The model's address check as it is in this revision: a migration keeps its own copy of what it checks."""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def upgrade() -> None:
    p = prefix()
    with op.batch_alter_table(f"{p}contacts") as contacts:
        contacts.add_column(sa.Column("phone", KEY, nullable=True))
        contacts.add_column(sa.Column("email_key", KEY, nullable=True))
    _copy_contact_lines(p)
    with op.batch_alter_table(f"{p}contacts") as contacts:
        contacts.create_unique_constraint(f"{p}contacts_phone", ["account", "phone"])
        contacts.create_unique_constraint(f"{p}contacts_email", ["account", "email_key"])
    op.create_table(
        f"{p}contact_conversations",
        sa.Column("account", KEY, nullable=False),
        sa.Column("contact_id", KEY, nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.PrimaryKeyConstraint("account", "contact_id", "started", "conversation_id"),
    )
    _copy_contact_conversations(p)
    op.create_table(
        f"{p}contact_totals",
        sa.Column("account", KEY, nullable=False),
        sa.Column("contact_id", KEY, nullable=False),
        sa.Column("kind", KEY, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "contact_id", "kind"),
    )
    op.create_table(
        f"{p}contact_samples",
        sa.Column("seq", SEQUENCE, autoincrement=True, nullable=False),
        sa.Column("account", KEY, nullable=False),
        sa.Column("contact_id", KEY, nullable=False),
        sa.Column("metric", KEY, nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", KEY, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(
        f"{p}contact_samples_contact", f"{p}contact_samples", ["account", "contact_id", "seq"], unique=False
    )
    op.create_table(
        f"{p}daily_totals",
        sa.Column("account", KEY, nullable=False),
        sa.Column("scope", KEY, nullable=False),
        sa.Column("scope_id", KEY, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", KEY, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "scope", "scope_id", "day", "kind"),
    )
    op.create_table(
        f"{p}daily_buckets",
        sa.Column("account", KEY, nullable=False),
        sa.Column("scope", KEY, nullable=False),
        sa.Column("scope_id", KEY, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("metric", KEY, nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "scope", "scope_id", "day", "metric", "bucket"),
    )
    _count_the_past(p)


def _copy_contact_lines(p: str) -> None:
    """Each stored contact's phone and casefolded email into the new columns, the first contact of an
    account in id order keeping a value that another has too.

    Revision 0001 took any text for a phone or an email; a contact must now have an E.164 phone and an
    address, one contact per line. A phone is kept once its spaces, dots, dashes and brackets are dropped,
    if that makes it E.164. A value that is not a phone or an address, or that an earlier contact has, is
    moved out of the field into a tag (``legacy-phone:...``, ``legacy-email:...``), so that nothing is lost
    and the contact still reads back.
    """
    bind = op.get_bind()
    contacts = sa.table(
        f"{p}contacts", sa.column("account"), sa.column("id"), sa.column("payload"), sa.column("phone")
    )
    contacts.append_column(sa.column("email_key"))
    taken: set[tuple[str, str, str]] = set()
    updates: list[dict[str, Any]] = []
    rows = bind.execute(
        sa.select(contacts.c.account, contacts.c.id, contacts.c.payload).order_by(
            contacts.c.account, contacts.c.id
        )
    )
    for account, contact_id, payload in rows:
        data = json.loads(payload)
        phone, email = data.get("phone"), data.get("email")
        tags = list(data.get("tags") or [])
        values: dict[str, Any] = {"b_account": account, "b_id": contact_id, "phone": None, "email_key": None}
        if isinstance(phone, str):
            plain = _SEPARATORS.sub("", phone)
            if _E164.fullmatch(plain) and (account, "phone", plain) not in taken:
                taken.add((account, "phone", plain))
                values["phone"] = data["phone"] = plain
            else:
                tags.append(f"legacy-phone:{phone}"[:100])
                data["phone"] = None
        if isinstance(email, str):
            address = email.strip()
            if _EMAIL.fullmatch(address) and (account, "email", address.casefold()) not in taken:
                taken.add((account, "email", address.casefold()))
                values["email_key"] = address.casefold()
                data["email"] = address
            else:
                tags.append(f"legacy-email:{email}"[:100])
                data["email"] = None
        data["tags"] = sorted(set(tags))
        values["payload"] = json.dumps(data, separators=(",", ":"))
        updates.append(values)
    if updates:
        bind.execute(
            sa.update(contacts)
            .where(contacts.c.account == sa.bindparam("b_account"), contacts.c.id == sa.bindparam("b_id"))
            .values(
                phone=sa.bindparam("phone"),
                email_key=sa.bindparam("email_key"),
                payload=sa.bindparam("payload"),
            ),
            updates,
        )


def _copy_contact_conversations(p: str) -> None:
    """Every stored conversation under its contact, by when it started (from its payload)."""
    bind = op.get_bind()
    conversations = sa.table(f"{p}conversations", sa.column("account"), sa.column("id"), sa.column("payload"))
    target = sa.table(
        f"{p}contact_conversations",
        sa.column("account"),
        sa.column("contact_id"),
        sa.column("started"),
        sa.column("conversation_id"),
    )
    batch: list[dict[str, Any]] = []
    for account, conversation_id, payload in bind.execute(
        sa.select(conversations.c.account, conversations.c.id, conversations.c.payload)
    ):
        data = json.loads(payload)
        batch.append(
            {
                "account": account,
                "contact_id": data["contact_id"],
                "started": _micros(data["started_at"]),
                "conversation_id": conversation_id,
            }
        )
        if len(batch) >= 10_000:
            bind.execute(target.insert(), batch)
            batch = []
    if batch:
        bind.execute(target.insert(), batch)


def _count_the_past(p: str) -> None:
    """Each account's facts, from every stored conversation's events replayed from the start, added to the
    analytics tables (empty until now, so each key is inserted once). Events are read in one pass per
    account, in conversation and version order."""
    bind = op.get_bind()
    accounts = sa.table(f"{p}accounts", sa.column("account"), sa.column("settings"))
    inboxes = sa.table(f"{p}inboxes", sa.column("account"), sa.column("id"), sa.column("payload"))
    conversations = sa.table(f"{p}conversations", sa.column("account"), sa.column("id"), sa.column("payload"))
    events = sa.table(
        f"{p}events",
        sa.column("account"),
        sa.column("conversation_id"),
        sa.column("version"),
        sa.column("payload"),
    )
    for account, settings in bind.execute(sa.select(accounts.c.account, accounts.c.settings)).all():
        zone = "UTC" if settings is None else decode(settings, AccountSettings).timezone
        owners = {
            inbox_id: decode(payload, Inbox).owner
            for inbox_id, payload in bind.execute(
                sa.select(inboxes.c.id, inboxes.c.payload).where(inboxes.c.account == account)
            )
        }
        inbox_of = {
            conversation_id: json.loads(payload)["inbox_id"]
            for conversation_id, payload in bind.execute(
                sa.select(conversations.c.id, conversations.c.payload).where(
                    conversations.c.account == account
                )
            )
        }
        sums = FactSums()
        current: str | None = None
        log: list[Event] = []
        rows = bind.execute(
            sa.select(events.c.conversation_id, events.c.payload)
            .where(events.c.account == account)
            .order_by(events.c.conversation_id, events.c.version)
        )
        for conversation_id, payload in rows:
            if conversation_id != current:
                if log:
                    sums.add(observe(None, log, zone, owner=owners.get(inbox_of.get(current, ""))))
                current, log = conversation_id, []
            log.append(decode_event(payload))
        if log:
            sums.add(observe(None, log, zone, owner=owners.get(inbox_of.get(current, ""))))
        for name, table_rows in sums.rows(account).items():
            table = sa.table(f"{p}{name}", *(sa.column(column) for column in table_rows[0]))
            for first in range(0, len(table_rows), 10_000):
                bind.execute(table.insert(), table_rows[first : first + 10_000])


def _micros(text: str) -> int:
    """Epoch microseconds of a stored ISO 8601 instant, exactly (no float on the way)."""
    instant = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    elapsed = instant - _EPOCH
    return (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds


def downgrade() -> None:
    p = prefix()
    for table in (
        "daily_buckets",
        "daily_totals",
        "contact_samples",
        "contact_totals",
        "contact_conversations",
    ):
        op.drop_table(f"{p}{table}")
    with op.batch_alter_table(f"{p}contacts") as contacts:
        contacts.drop_constraint(f"{p}contacts_email", type_="unique")
        contacts.drop_constraint(f"{p}contacts_phone", type_="unique")
        contacts.drop_column("email_key")
        contacts.drop_column("phone")
