"""The default store: everything in this process's memory, for scripts, notebooks, tests and one-process apps.

It keeps the same promises as any store (see :class:`convostate.Store`): a conversation's new state and its
events are written together or not at all, a stale ``expected_version`` is refused, an external message id
is delivered once per inbox, and tabs and badges come from an index updated on every write.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs
import pendulum
from sortedcontainers import SortedList

from convostate._adapters.tab_index import TabIndex
from convostate._core.errors import ConcurrencyConflict, InvalidInput, UnknownInbox
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.rules.engine import Timer
from convostate._core.tabs import Tab
from convostate._core.timing import epoch_microseconds
from convostate._ports import DueTimer, DuplicateDelivery, OutgoingEmail, Position, TabCount

_DueEntry = tuple[int, str, str, DueTimer]
"""A timer in the due-index: (due instant in epoch microseconds, conversation id, rule id, the timer). A
conversation has one timer per rule, so the first three are unique and the timer itself is never compared."""


def _due_entry(timer: DueTimer) -> _DueEntry:
    return (epoch_microseconds(timer.due_at), timer.conversation_id.value, timer.rule_id.value, timer)


class MemoryStore:
    def __init__(self) -> None:
        self._users: dict[UserId, User] = {}
        self._user_ids_by_email: dict[str, UserId] = {}
        self._inboxes: dict[InboxId, Inbox] = {}
        self._contacts: dict[ContactId, Contact] = {}
        self._settings = AccountSettings()
        self._conversations: dict[ConversationId, Conversation] = {}
        self._between: dict[tuple[ContactId, InboxId], ConversationId] = {}
        self._events: dict[ConversationId, list[Event]] = {}
        self._delivered: dict[tuple[InboxId, str], ConversationId] = {}
        self._index = TabIndex()
        # Each timer is kept ready to hand out, in its entry in the sorted due-index, so due(now) costs
        # what it returns, not what the account holds.
        self._timers: dict[ConversationId, tuple[_DueEntry, ...]] = {}
        self._due: Any = SortedList()  # of _DueEntry, oldest first
        self._rotations: dict[RuleId, int] = {}
        self._outbox: dict[str, OutgoingEmail] = {}  # in the order enqueued

    def add_user(self, user: User) -> None:
        email = user.email.casefold()
        if user.id in self._users or email in self._user_ids_by_email:
            raise InvalidInput(f"a user with id {user.id} or email {user.email} already exists")
        self._users[user.id] = user
        self._user_ids_by_email[email] = user.id

    def user(self, user_id: UserId) -> User | None:
        return self._users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        user_id = self._user_ids_by_email.get(email.casefold())
        return None if user_id is None else self._users[user_id]

    def users(self) -> Sequence[User]:
        return list(self._users.values())

    def save_inbox(self, inbox: Inbox) -> None:
        self._inboxes[inbox.id] = inbox

    def inbox(self, inbox_id: InboxId) -> Inbox | None:
        return self._inboxes.get(inbox_id)

    def inboxes(self) -> Sequence[Inbox]:
        return list(self._inboxes.values())

    def add_contact(self, contact: Contact) -> None:
        if contact.id in self._contacts:
            raise InvalidInput(f"a contact with id {contact.id} already exists")
        self._contacts[contact.id] = contact

    def contact(self, contact_id: ContactId) -> Contact | None:
        return self._contacts.get(contact_id)

    def settings(self) -> AccountSettings:
        return self._settings

    def save_settings(self, settings: AccountSettings) -> None:
        self._settings = settings

    def conversation(self, conversation_id: ConversationId) -> Conversation | None:
        return self._conversations.get(conversation_id)

    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None:
        return self._between.get((contact_id, inbox_id))

    def append(
        self,
        conversation: Conversation,
        events: Sequence[Event],
        *,
        expected_version: int,
        external_id: str | None = None,
        timers: Sequence[Timer] = (),
        rotations: Mapping[RuleId, int] | None = None,
    ) -> None:
        current = self._conversations.get(conversation.id)
        stored_version = current.version if current is not None else 0
        if stored_version != expected_version:
            raise ConcurrencyConflict(
                f"conversation {conversation.id} is at version {stored_version}, not {expected_version}: "
                "someone else changed it; load it again and retry"
            )
        if conversation.version != expected_version + len(events):
            raise InvalidInput(
                f"version {conversation.version} does not follow {expected_version} plus {len(events)} events"
            )
        pair = (conversation.contact_id, conversation.inbox_id)
        if current is None and pair in self._between and conversation.linked_from != self._between[pair]:
            raise ConcurrencyConflict(
                f"{conversation.contact_id} already has a conversation in {conversation.inbox_id}: "
                f"{self._between[pair]}; add the message to it"
            )
        delivery = (conversation.inbox_id, external_id) if external_id is not None else None
        if delivery is not None and delivery in self._delivered:
            raise DuplicateDelivery(
                f"message {external_id} was already delivered to {conversation.inbox_id}",
                self._delivered[delivery],
            )
        inbox = self._inboxes.get(conversation.inbox_id)
        if inbox is None:
            raise UnknownInbox(f"no inbox {conversation.inbox_id}")
        self._index.update(current, conversation, inbox)
        self._set_timers(conversation.id, timers)
        self._conversations[conversation.id] = conversation
        self._events.setdefault(conversation.id, []).extend(events)
        if current is None:
            self._between[pair] = conversation.id
        if delivery is not None:
            self._delivered[delivery] = conversation.id
        self._rotations.update(rotations or {})

    def events(self, conversation_id: ConversationId) -> Sequence[Event]:
        return tuple(self._events.get(conversation_id, ()))

    def conversations_assigned_to(self, user_id: UserId, inbox_id: InboxId) -> Sequence[ConversationId]:
        return self._index.assigned(user_id, inbox_id)

    def tab_page(
        self,
        tab: Tab,
        user_id: UserId,
        inbox_ids: Collection[InboxId],
        *,
        after: Position | None,
        limit: int,
    ) -> Sequence[Conversation]:
        ids = self._index.page(tab, user_id, inbox_ids, after, limit)
        return [self._conversations[conversation_id] for conversation_id in ids]

    def tab_counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]:
        return self._index.counts(user_id, inbox_ids)

    def due(self, now: pendulum.DateTime, *, limit: int, after: DueTimer | None = None) -> Sequence[DueTimer]:
        start = 0
        if after is not None:
            # Just past ``after``'s entry: no text sorts between a rule id and the same id + NUL.
            place = (
                epoch_microseconds(after.due_at),
                after.conversation_id.value,
                after.rule_id.value + "\0",
            )
            start = self._due.bisect_left(place)
        end = self._due.bisect_left((epoch_microseconds(now) + 1,))  # every entry due at or before now
        return [entry[3] for entry in self._due.islice(start, min(end, start + limit))]

    def rotation(self, rule_id: RuleId) -> int:
        return self._rotations.get(rule_id, 0)

    def enqueue_email(self, email: OutgoingEmail) -> None:
        if email.id in self._outbox:
            raise InvalidInput(f"an email with id {email.id} is already in the outbox; ids are never reused")
        self._outbox[email.id] = email

    def outgoing_email(self, email_id: str) -> OutgoingEmail | None:
        return self._outbox.get(email_id)

    def pending_emails(self, limit: int) -> Sequence[OutgoingEmail]:
        pending = [email for email in self._outbox.values() if email.sent_at is None]
        pending.sort(
            key=lambda email: epoch_microseconds(email.created_at)
        )  # stable: ties stay in enqueue order
        return pending[:limit]

    def claim_email(
        self, email_id: str, at: pendulum.DateTime, until: pendulum.DateTime
    ) -> OutgoingEmail | None:
        email = self._outbox.get(email_id)
        if email is None or email.sent_at is not None:
            return None
        if email.claimed_until is not None and email.claimed_until > at:
            return None
        claimed = self._outbox[email_id] = attrs.evolve(email, claimed_until=until)
        return claimed

    def email_sent(self, email_id: str, at: pendulum.DateTime) -> None:
        email = self._outgoing(email_id)
        if email.sent_at is None:
            self._outbox[email_id] = attrs.evolve(
                email, attempts=email.attempts + 1, last_attempt_at=at, sent_at=at, claimed_until=None
            )

    def email_failed(self, email_id: str, at: pendulum.DateTime, error: str) -> None:
        email = self._outgoing(email_id)
        if email.sent_at is None:
            self._outbox[email_id] = attrs.evolve(
                email, attempts=email.attempts + 1, last_error=error, last_attempt_at=at, claimed_until=None
            )

    def _outgoing(self, email_id: str) -> OutgoingEmail:
        email = self._outbox.get(email_id)
        if email is None:
            raise InvalidInput(f"no email {email_id} in the outbox")
        return email

    def _set_timers(self, conversation_id: ConversationId, timers: Sequence[Timer]) -> None:
        for entry in self._timers.pop(conversation_id, ()):
            self._due.remove(entry)
        if timers:
            entries = tuple(
                _due_entry(DueTimer(timer.due_at, conversation_id, timer.rule_id)) for timer in timers
            )
            self._due.update(entries)
            self._timers[conversation_id] = entries

    def dump(self) -> dict[str, Any]:
        """A deep copy of everything stored, comparable with ``==``: tests use it to prove nothing changed."""
        return copy.deepcopy(
            {
                "users": self._users,
                "inboxes": self._inboxes,
                "contacts": self._contacts,
                "settings": self._settings,
                "conversations": self._conversations,
                "between": self._between,
                "events": self._events,
                "delivered": self._delivered,
                "index": self._index.dump(),
                "timers": self._timers,
                "rotations": self._rotations,
                "outbox": self._outbox,
            }
        )
