"""The account directory: users, inboxes and their members, contacts and settings.

Users, inboxes and settings share one version in the store, so each change here is decided on what it read
and committed only if nobody changed the directory since: two "first admins" cannot both be added, and
removing a member unassigns them everywhere in the same commit that takes them out of the inbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from convostate._core.business_hours import BusinessHours
from convostate._core.errors import InvalidInput, PermissionDenied
from convostate._core.ids import ContactId, InboxId, UserId
from convostate._core.model import AccountSettings, Availability, Contact, Inbox, Role, User
from convostate._core.validate import check_type, frozenset_from
from convostate._ports.changes import ChangeSet, DirectoryChange
from convostate._ports.roles import IdGenerator, Store
from convostate._service.access import Access
from convostate._service.contacts import ContactService
from convostate._service.conversations import ConversationService
from convostate._service.unit_of_work import UnitOfWork


class DirectoryService:
    def __init__(
        self,
        *,
        store: Store,
        work: UnitOfWork,
        ids: IdGenerator,
        access: Access,
        conversations: ConversationService,
        contacts: ContactService,
    ) -> None:
        self._contacts = contacts
        self._store = store
        self._work = work
        self._ids = ids
        self._access = access
        self._conversations = conversations

    def add_user(self, name: str, email: str, *, role: Role = Role.AGENT, by: UserId | None = None) -> User:
        user_id = UserId(self._ids.new_id("user"))

        def attempt() -> tuple[ChangeSet, User]:
            version = self._store.directory_version()
            if self._store.users():
                self._access.admin(by)
            elif role is not Role.ADMIN or by is not None:
                raise PermissionDenied(
                    "the account has no users yet: add its first user as an admin, with no by="
                )
            user = User(user_id, name, email, role)
            if self._store.user_by_email(email) is not None:
                raise InvalidInput(
                    f"a user with email {email} already exists; emails are unique in an account"
                )
            return ChangeSet(directory_version=version, directory=DirectoryChange(users=(user,))), user

        return self._work.run(attempt, "the account's users")

    def set_availability(self, user_id: UserId, availability: Availability) -> User:
        check_type("availability", availability, Availability, "Availability.AWAY")

        def attempt() -> tuple[ChangeSet, User]:
            version = self._store.directory_version()
            user = attrs.evolve(self._access.user(user_id), availability=availability)
            change = DirectoryChange(availability=(user,))
            return ChangeSet(directory_version=version, directory=change), user

        return self._work.run(attempt, f"user {user_id}")

    def add_inbox(
        self,
        name: str,
        *,
        members: Iterable[UserId] = (),
        by: UserId,
        business_hours: BusinessHours | None = None,
    ) -> Inbox:
        inbox_id = InboxId(self._ids.new_id("inbox"))
        member_ids = frozenset_from("members", members, "[UserId('user-1')]")

        def attempt() -> tuple[ChangeSet, Inbox]:
            version = self._store.directory_version()
            self._access.admin(by)
            for member in member_ids:
                self._access.user(member)
            inbox = Inbox.multi_user(inbox_id, name, member_ids, business_hours=business_hours)
            return self._save(version, inbox)

        return self._work.run(attempt, "the account's inboxes")

    def add_single_user_inbox(
        self, name: str, *, owner: UserId, by: UserId, business_hours: BusinessHours | None = None
    ) -> Inbox:
        inbox_id = InboxId(self._ids.new_id("inbox"))

        def attempt() -> tuple[ChangeSet, Inbox]:
            version = self._store.directory_version()
            self._access.admin(by)
            self._access.user(owner)
            inbox = Inbox.single_user(inbox_id, name, owner, business_hours=business_hours)
            return self._save(version, inbox)

        return self._work.run(attempt, "the account's inboxes")

    def set_business_hours(
        self, inbox_id: InboxId, business_hours: BusinessHours | None, *, by: UserId
    ) -> Inbox:
        def attempt() -> tuple[ChangeSet, Inbox]:
            version = self._store.directory_version()
            self._access.admin(by)
            inbox = self._access.inbox(inbox_id)
            return self._save(version, attrs.evolve(inbox, business_hours=business_hours))

        return self._work.run(attempt, f"inbox {inbox_id}")

    def add_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        def attempt() -> tuple[ChangeSet, Inbox]:
            version = self._store.directory_version()
            self._access.admin(by)
            inbox, _ = self._access.multi_user_inbox(inbox_id), self._access.user(user_id)
            return self._save(version, attrs.evolve(inbox, members=inbox.members | {user_id}))

        return self._work.run(attempt, f"inbox {inbox_id}")

    def remove_member(self, inbox_id: InboxId, user_id: UserId, *, by: UserId) -> Inbox:
        """Take a member out of an inbox and unassign them from its conversations, in one commit."""

        def attempt() -> tuple[ChangeSet, Inbox]:
            version = self._store.directory_version()
            self._access.admin(by)
            inbox, _ = self._access.multi_user_inbox(inbox_id), self._access.user(user_id)
            turns = self._conversations.turns()
            unassigned, seen = self._conversations.unassign_everywhere(user_id, inbox, by, turns)
            updated = attrs.evolve(inbox, members=inbox.members - {user_id})
            change_set = ChangeSet(
                tuple(unassigned),
                version,
                DirectoryChange(inboxes=(updated,)),
                rotations=turns.taken(),
                assignments_seen=(seen,),
            )
            return change_set, updated

        return self._work.run(attempt, f"inbox {inbox_id}")

    @staticmethod
    def _save(version: int, inbox: Inbox) -> tuple[ChangeSet, Inbox]:
        """Save ``inbox`` if the directory is still at ``version``, read before any of the checks."""
        return ChangeSet(directory_version=version, directory=DirectoryChange(inboxes=(inbox,))), inbox

    def add_contact(
        self,
        *,
        name: str = "",
        phone: str | None = None,
        email: str | None = None,
        tags: Iterable[str] = (),
    ) -> Contact:
        """Add a contact with its phone in E.164 and its email checked; a phone or email another contact
        has already is refused (DuplicateContact, by the store's commit, so two webhooks racing with the
        same new number cannot both add it)."""
        labels = frozenset_from("tags", tags, "['vip']")
        number = None if phone is None else self._contacts.normal_phone(phone)
        address = None if email is None else self._contacts.normal_email(email)
        contact = Contact(ContactId(self._ids.new_id("contact")), name, number, address, labels)
        self._store.commit(ChangeSet(contacts=(contact,)))
        return contact

    def update_settings(self, *, by: UserId, **changes: Any) -> AccountSettings:
        known = {field.name for field in attrs.fields(AccountSettings)}

        def attempt() -> tuple[ChangeSet, AccountSettings]:
            version = self._store.directory_version()
            self._access.admin(by)
            unknown = sorted(changes.keys() - known)
            if unknown:
                raise InvalidInput(f"unknown settings {unknown}; the settings are {sorted(known)}")
            updated = attrs.evolve(self._store.settings(), **changes)
            return ChangeSet(directory_version=version, directory=DirectoryChange(settings=updated)), updated

        return self._work.run(attempt, "the account's settings")
