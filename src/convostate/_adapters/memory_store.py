"""The default store: everything in this process's memory, for scripts, notebooks, tests and one-process apps.

It keeps the same promises as any store (see :class:`convostate.Store`) and is safe to share between the
threads of one process (a FastAPI or Flask app with sync endpoints, several sweep workers): one lock makes
every read and every commit atomic, and a commit checks all of a change set's expectations before it
writes any of it, so a refused change set leaves the store exactly as it was.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import attrs
import pendulum
from sortedcontainers import SortedList

from convostate._adapters.analytics_index import AnalyticsIndex
from convostate._adapters.event_log import EventLog, pack, pack_rewrites, unpack
from convostate._adapters.tab_index import TabIndex
from convostate._core.analytics.facts import Count, Metric, Scope
from convostate._core.errors import ConcurrencyConflict, InvalidInput, UnknownInbox, duplicate_contact
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.rules.engine import Timer
from convostate._core.tab_changes import NO_TAB_CHANGES
from convostate._core.tabs import Tab
from convostate._core.timing import epoch_microseconds
from convostate._core.validate import non_empty_text
from convostate._ports import arguments as check
from convostate._ports.changes import ChangeSet, ConversationChange, Erasure, ExternalDelivery
from convostate._ports.records import (
    ContactTotal,
    DailyBucket,
    DailyTotal,
    DueTimer,
    DurationSample,
    EmailStatus,
    OutgoingEmail,
    Position,
    TabCount,
)
from convostate._ports.roles import DEFAULT_ACCOUNT, already_delivered, delivered_twice

_DueEntry = tuple[int, str, str, DueTimer]
"""A timer in the due-index: (due instant in epoch microseconds, conversation id, rule id, the timer). A
conversation has one timer per rule, so the first three are unique and the timer itself is never compared."""


def _due_entries(conversation_id: ConversationId, timers: Sequence[Timer]) -> tuple[_DueEntry, ...]:
    """The timers' entries in the due-index, or InvalidInput for a timer that is not one (a hand-made
    change set's), before anything is written."""
    entries = []
    for timer in timers:
        due = DueTimer(check.timer_due_at(timer, conversation_id), conversation_id, timer.rule_id)
        entries.append((epoch_microseconds(due.due_at), conversation_id.value, due.rule_id.value, due))
    return tuple(entries)


_Packed = tuple[bytes | None, tuple[_DueEntry, ...]]
"""A conversation change's events packed (None: it has none) and its timers' entries in the due-index,
made before anything is written."""
_Rewrites = dict[ConversationId, dict[int, Any]]
"""An erasure's rewritten events, packed, by conversation and version."""


def _free_at(held_until: pendulum.DateTime | None, at: pendulum.DateTime) -> bool:
    """Whether a claim or a backoff that lasts until ``held_until`` (None: none) is over at ``at``."""
    return held_until is None or held_until <= at


def _oldest_first(emails: Iterable[OutgoingEmail]) -> list[OutgoingEmail]:
    """The outbox's order: oldest ``created_at`` first, ties in the order enqueued (the dict's order)."""
    return sorted(emails, key=lambda email: epoch_microseconds(email.created_at))


class _Accounts:
    """The accounts of one memory "database": the stores :meth:`MemoryStore.for_account` hands out."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stores: dict[str, MemoryStore] = {}


class MemoryStore:
    """Every storage role in one process's memory, for one account; thread-safe.

    :meth:`for_account` opens another account's store beside it, as a database holds many accounts.
    """

    def __init__(self, *, account: str = DEFAULT_ACCOUNT) -> None:
        self.account = non_empty_text("account", account)
        self._accounts = _Accounts()
        self._accounts.stores[self.account] = self
        self._lock = threading.RLock()
        self._directory_version = 0
        self._users: dict[UserId, User] = {}
        self._user_ids_by_email: dict[str, UserId] = {}
        self._inboxes: dict[InboxId, Inbox] = {}
        self._contacts: dict[ContactId, Contact] = {}
        self._contact_ids_by_phone: dict[str, ContactId] = {}
        self._contact_ids_by_email: dict[str, ContactId] = {}
        self._analytics = AnalyticsIndex()
        self._settings = AccountSettings()
        self._conversations: dict[ConversationId, Conversation] = {}
        self._conversation_ids: Any = SortedList()  # of their texts: code point order is UTF-8's byte order
        # Each inbox's conversations by contact: nested, not keyed by (contact, inbox) pairs, which would
        # cost a tuple per conversation (56 bytes; a million conversations, 53 MiB).
        self._between: dict[InboxId, dict[ContactId, ConversationId]] = {}
        self._events = EventLog()
        self._delivered: dict[tuple[InboxId, str], ConversationId] = {}
        self._index = TabIndex()
        # Each timer is kept ready to hand out, in its entry in the sorted due-index, so due(now) costs
        # what it returns, not what the account holds.
        self._timers: dict[ConversationId, tuple[_DueEntry, ...]] = {}
        self._due: Any = SortedList()  # of _DueEntry, oldest first
        self._claims: dict[tuple[str, str], int] = {}  # (conversation, rule) -> claimed until, epoch µs
        self._rotations: dict[RuleId, int] = {}
        self._outbox: dict[str, OutgoingEmail] = {}  # in the order enqueued

    # ------------------------------------------------------------------ accounts

    def for_account(self, account: str) -> MemoryStore:
        name = non_empty_text("account", account)
        with self._accounts.lock:
            store = self._accounts.stores.get(name)
            if store is None:
                store = MemoryStore(account=name)
                store._accounts = self._accounts
                self._accounts.stores[name] = store
            return store

    def accounts_due(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        at = epoch_microseconds(check.an_instant("now", now))
        check.a_limit(limit)
        waiting = []
        for store in self._every_account():
            oldest = store._oldest_free_timer(at)
            if oldest is not None:
                waiting.append((oldest, store.account))
        return [account for _, account in sorted(waiting)[:limit]]

    def accounts_with_mail(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        due = check.an_instant("now", now)
        check.a_limit(limit)
        waiting = []
        for store in self._every_account():
            sendable = store.pending_emails(1, due_at=due)
            if sendable:
                waiting.append((epoch_microseconds(sendable[0].created_at), store.account))
        return [account for _, account in sorted(waiting)[:limit]]

    def _every_account(self) -> list[MemoryStore]:
        with self._accounts.lock:
            return list(self._accounts.stores.values())

    def _oldest_free_timer(self, at: int) -> int | None:
        """The due instant of the oldest timer due at ``at`` that nobody holds, or None."""
        with self._lock:
            end = self._due.bisect_left((at + 1,))
            for entry in self._due.islice(0, end):
                if self._claims.get((entry[1], entry[2]), at) <= at:
                    return int(entry[0])
        return None

    # ------------------------------------------------------------------ directory

    def directory_version(self) -> int:
        return self._directory_version

    def user(self, user_id: UserId) -> User | None:
        if type(user_id) is not UserId:  # inline: read on every action (the port checks say what is wrong)
            check.an_id("user_id", user_id, UserId)
        return self._users.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        with self._lock:
            user_id = self._user_ids_by_email.get(check.text("email", email).casefold())
            return None if user_id is None else self._users[user_id]

    def users(self) -> Sequence[User]:
        with self._lock:
            return list(self._users.values())

    def inbox(self, inbox_id: InboxId) -> Inbox | None:
        if type(inbox_id) is not InboxId:
            check.an_id("inbox_id", inbox_id, InboxId)
        return self._inboxes.get(inbox_id)

    def inboxes(self) -> Sequence[Inbox]:
        with self._lock:
            return list(self._inboxes.values())

    def contact(self, contact_id: ContactId) -> Contact | None:
        if type(contact_id) is not ContactId:
            check.an_id("contact_id", contact_id, ContactId)
        return self._contacts.get(contact_id)

    def contact_by_phone(self, phone: str) -> Contact | None:
        with self._lock:
            contact_id = self._contact_ids_by_phone.get(check.text("phone", phone))
            return None if contact_id is None else self._contacts[contact_id]

    def contact_by_email(self, email: str) -> Contact | None:
        with self._lock:
            contact_id = self._contact_ids_by_email.get(check.text("email", email).casefold())
            return None if contact_id is None else self._contacts[contact_id]

    def settings(self) -> AccountSettings:
        return self._settings

    # ------------------------------------------------------------------ conversation log

    def conversation(self, conversation_id: ConversationId) -> Conversation | None:
        if type(conversation_id) is not ConversationId:
            check.an_id("conversation_id", conversation_id, ConversationId)
        return self._conversations.get(conversation_id)

    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None:
        contact = check.an_id("contact_id", contact_id, ContactId)
        return self._between.get(check.an_id("inbox_id", inbox_id, InboxId), {}).get(contact)

    def delivered_to(self, inbox_id: InboxId, external_id: str) -> ConversationId | None:
        inbox = check.an_id("inbox_id", inbox_id, InboxId)
        return self._delivered.get((inbox, non_empty_text("external_id", external_id)))

    def events(self, conversation_id: ConversationId) -> Sequence[Event]:
        check.an_id("conversation_id", conversation_id, ConversationId)
        with self._lock:
            packed = self._events.packed(conversation_id)
        return unpack(conversation_id, packed)  # outside the lock: a long history keeps no commit waiting

    def conversations_assigned_to(self, user_id: UserId, inbox_id: InboxId) -> Sequence[ConversationId]:
        check.an_id("user_id", user_id, UserId)
        check.an_id("inbox_id", inbox_id, InboxId)
        with self._lock:
            return self._index.assigned(user_id, inbox_id)

    def conversations_after(self, after: ConversationId | None, *, limit: int) -> Sequence[Conversation]:
        start = None if after is None else check.an_id("after", after, ConversationId).value
        check.a_limit(limit)
        with self._lock:
            start_at = 0 if start is None else self._conversation_ids.bisect_right(start)
            taken = [
                ConversationId(each) for each in self._conversation_ids.islice(start_at, start_at + limit)
            ]
            return [self._conversations[conversation_id] for conversation_id in taken]

    def rotations(self, rule_ids: Iterable[RuleId]) -> Mapping[RuleId, int]:
        wanted = rule_ids if rule_ids == () else check.ids("rule_ids", rule_ids, RuleId)
        with self._lock:
            return {rule_id: self._rotations.get(rule_id, 0) for rule_id in wanted}

    # ------------------------------------------------------------------ views

    def tab_page(
        self,
        tab: Tab,
        user_id: UserId,
        inbox_ids: Collection[InboxId],
        *,
        after: Position | None,
        limit: int,
    ) -> Sequence[Conversation]:
        inboxes = check.a_tab_page(tab, user_id, inbox_ids, after, limit)
        with self._lock:
            ids = self._index.page(tab, user_id, inboxes, after, limit)
            return [self._conversations[conversation_id] for conversation_id in ids]

    def tab_counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]:
        check.an_id("user_id", user_id, UserId)
        inboxes = check.inbox_ids(inbox_ids, InboxId)
        with self._lock:
            return self._index.counts(user_id, inboxes)

    # ------------------------------------------------------------------ timers

    def due(self, now: pendulum.DateTime, *, limit: int, after: DueTimer | None = None) -> Sequence[DueTimer]:
        now = check.an_instant("now", now)
        check.a_limit(limit)
        check.a_due_timer(after)
        with self._lock:
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

    def claim_due(
        self, now: pendulum.DateTime, *, limit: int, until: pendulum.DateTime
    ) -> Sequence[DueTimer]:
        check.a_limit(limit)
        at = epoch_microseconds(check.an_instant("now", now))
        claimed_until = epoch_microseconds(check.an_instant("until", until))
        claimed: list[DueTimer] = []
        with self._lock:
            end = self._due.bisect_left((at + 1,))
            for entry in self._due.islice(0, end):
                key = (entry[1], entry[2])
                if self._claims.get(key, at) > at:
                    continue  # another worker holds it
                self._claims[key] = claimed_until
                claimed.append(entry[3])
                if len(claimed) == limit:
                    break
        return claimed

    def release(self, timers: Sequence[DueTimer]) -> None:
        claims = check.due_timers(timers)
        with self._lock:
            for timer in claims:
                self._claims.pop((timer.conversation_id.value, timer.rule_id.value), None)

    # ------------------------------------------------------------------ outbox

    def outgoing_email(self, email_id: str) -> OutgoingEmail | None:
        return self._outbox.get(check.text("email_id", email_id))

    def pending_emails(
        self, limit: int, *, due_at: pendulum.DateTime | None = None
    ) -> Sequence[OutgoingEmail]:
        check.a_limit(limit)
        due = check.an_optional_instant("due_at", due_at)
        with self._lock:
            pending = [
                email
                for email in self._outbox.values()
                if email.sent_at is None
                and email.failed_at is None
                and (
                    due is None
                    or (_free_at(email.next_attempt_at, due) and _free_at(email.claimed_until, due))
                )
            ]
        return _oldest_first(pending)[:limit]

    def emails(self, status: EmailStatus, *, limit: int, after: str | None = None) -> Sequence[OutgoingEmail]:
        wanted = check.an_email_status(status)
        check.a_limit(limit)
        after_id = check.an_optional_text("after", after)
        with self._lock:
            ordered = _oldest_first(self._outbox.values())
            if after_id is not None:
                start = self._outgoing(after_id)
                ordered = ordered[next(n for n, email in enumerate(ordered) if email.id == start.id) + 1 :]
        return [email for email in ordered if email.status is wanted][:limit]

    def conversation_emails(self, conversation_ids: Collection[ConversationId]) -> Sequence[OutgoingEmail]:
        wanted = set(check.ids("conversation_ids", conversation_ids, ConversationId))
        with self._lock:
            return _oldest_first(email for email in self._outbox.values() if email.conversation_id in wanted)

    def claim_email(
        self, email_id: str, at: pendulum.DateTime, until: pendulum.DateTime
    ) -> OutgoingEmail | None:
        check.text("email_id", email_id)
        check.an_instant("at", at)
        check.an_instant("until", until)
        with self._lock:
            email = self._outbox.get(email_id)
            if email is None or email.status is not EmailStatus.PENDING:
                return None
            if not (_free_at(email.next_attempt_at, at) and _free_at(email.claimed_until, at)):
                return None
            claimed = self._outbox[email_id] = attrs.evolve(email, claimed_until=until)
            return claimed

    def email_sent(self, email_id: str, at: pendulum.DateTime) -> None:
        check.text("email_id", email_id)
        check.an_instant("at", at)
        with self._lock:
            email = self._outgoing(email_id)
            if email.status is EmailStatus.PENDING:
                self._outbox[email_id] = attrs.evolve(
                    email, attempts=email.attempts + 1, last_attempt_at=at, sent_at=at, claimed_until=None
                )

    def email_failed(
        self, email_id: str, at: pendulum.DateTime, error: str, *, retry_at: pendulum.DateTime | None
    ) -> None:
        check.text("email_id", email_id)
        check.an_instant("at", at)
        check.text("error", error)
        check.an_optional_instant("retry_at", retry_at)
        with self._lock:
            email = self._outgoing(email_id)
            if email.status is EmailStatus.PENDING:
                self._outbox[email_id] = attrs.evolve(
                    email,
                    attempts=email.attempts + 1,
                    last_error=error,
                    last_attempt_at=at,
                    claimed_until=None,
                    next_attempt_at=retry_at,
                    failed_at=None if retry_at is not None else at,
                )

    def _outgoing(self, email_id: str) -> OutgoingEmail:
        email = self._outbox.get(email_id)
        if email is None:
            raise InvalidInput(f"no email {email_id} in the outbox")
        return email

    # ------------------------------------------------------------------ the one write

    def commit(self, changes: ChangeSet) -> None:
        check.a_change_set(changes)
        packed, rewrites = self._storable(changes)
        with self._lock:
            self._check(changes)
            self._apply(changes, packed, rewrites)

    @staticmethod
    def _storable(changes: ChangeSet) -> tuple[list[_Packed], _Rewrites | None]:
        """What the change set writes, in the form it is kept, made before the lock is taken and before
        anything is written: what cannot be kept (only a hand-made change set holds such a thing) is refused
        with InvalidInput here, so applying the rest cannot fail half-way."""
        packed = []
        for change in changes.conversations:
            conversation_id = change.state.id
            packed.append(
                (
                    pack(conversation_id, change.events) if change.events else None,
                    _due_entries(conversation_id, change.timers) if change.timers else (),
                )
            )
            if change.facts:
                check.storable_facts(change.facts)
        erasure = changes.erasure
        return packed, None if erasure is None else pack_rewrites(erasure.events)

    def _check(self, changes: ChangeSet) -> None:
        """Every expectation of the change set, before anything is written."""
        if changes.directory_version is not None and changes.directory_version != self._directory_version:
            raise ConcurrencyConflict(
                f"the account's users, inboxes or settings changed (version {self._directory_version}, "
                f"not {changes.directory_version}): load them again and retry"
            )
        if not (changes.directory or changes.contacts or changes.rotations or changes.assignments_seen):
            self._check_conversations(changes.conversations, {})  # the commonest: conversations only
        else:
            self._check_directory_contacts_and_reads(changes)
        if changes.erasure is not None:
            self._check_erasure(changes.erasure)
        if changes.deliveries:
            self._check_deliveries(changes.deliveries)
        email_ids: set[str] = set()
        for outgoing in changes.emails or ():
            if outgoing.id in self._outbox or outgoing.id in email_ids:
                raise InvalidInput(
                    f"an email with id {outgoing.id} is already in the outbox; ids are never reused"
                )
            email_ids.add(outgoing.id)

    def _check_deliveries(self, deliveries: Sequence[ExternalDelivery]) -> None:
        seen: set[tuple[InboxId, str]] = set()
        for delivery in deliveries:
            key = (delivery.inbox_id, delivery.external_id)
            if key in self._delivered:
                raise already_delivered(delivery, self._delivered[key])
            if key in seen:
                raise delivered_twice(delivery)
            seen.add(key)

    def _check_erasure(self, erasure: Erasure) -> None:
        """An erasure rewrites what is stored: each conversation it read is still at that version, and
        each contact, event and email it rewrites is there."""
        check.an_erasure(erasure)
        read = dict(erasure.conversations)
        if erasure.contact is not None:
            if erasure.contact.id not in self._contacts:
                raise InvalidInput(f"no contact {erasure.contact.id} to erase")
            if set(self._analytics.conversation_ids(erasure.contact.id)) != set(read):
                raise ConcurrencyConflict(
                    f"{erasure.contact.id} started a conversation since the erasure read them: "
                    "decide it again"
                )
        for conversation_id, version in erasure.conversations:
            stored = self._conversations.get(conversation_id)
            if stored is None or stored.version != version:
                raise ConcurrencyConflict(
                    f"conversation {conversation_id} changed since the erasure read it: decide it again"
                )
        for rewritten in erasure.events:
            rewritten_in = self._conversations.get(rewritten.conversation_id)
            if (
                rewritten.conversation_id not in read
                or rewritten_in is None
                or not 1 <= rewritten.version <= rewritten_in.version
                or rewritten.event.conversation_id != rewritten.conversation_id
            ):
                raise InvalidInput(
                    f"no event {rewritten.version} of conversation {rewritten.conversation_id} "
                    "among the conversations the erasure read"
                )
        wanted = set(erasure.emails_of)
        held = {email.id for email in self._outbox.values() if email.conversation_id in wanted}
        if held != {email.id for email in erasure.emails if email.conversation_id in wanted}:
            raise ConcurrencyConflict(
                "an email was queued since the erasure read the outbox: decide it again"
            )
        for email in erasure.emails:
            stored_email = self._outbox.get(email.id)
            if stored_email is None or stored_email.conversation_id != email.conversation_id:
                raise InvalidInput(f"no email {email.id} of conversation {email.conversation_id} to erase")

    def _apply_erasure(self, erasure: Erasure, rewrites: _Rewrites) -> None:
        contact = erasure.contact
        if contact is not None:
            before = self._contacts[contact.id]
            if before.phone is not None:
                self._contact_ids_by_phone.pop(before.phone, None)
            if before.email is not None:
                self._contact_ids_by_email.pop(before.email.casefold(), None)
            self._contacts[contact.id] = contact
            if contact.phone is not None:
                self._contact_ids_by_phone[contact.phone] = contact.id
            if contact.email is not None:
                self._contact_ids_by_email[contact.email.casefold()] = contact.id
        for conversation_id, records in rewrites.items():
            self._events.rewrite(conversation_id, records)
        for email in erasure.emails:
            self._outbox[email.id] = email

    def _check_directory_contacts_and_reads(self, changes: ChangeSet) -> None:
        new_inboxes: dict[InboxId, Inbox] = {}
        if changes.directory is not None:
            emails: set[str] = set()
            user_ids: set[UserId] = set()
            for user in changes.directory.availability:
                known = self._users.get(user.id)
                if known is None or attrs.evolve(known, availability=user.availability) != user:
                    raise InvalidInput(
                        f"user {user.id} is not in the directory as given; only availability changes"
                    )
            for user in changes.directory.users:
                email = user.email.casefold()
                taken = user.id in self._users or user.id in user_ids
                if taken or email in self._user_ids_by_email or email in emails:
                    raise InvalidInput(f"a user with id {user.id} or email {user.email} already exists")
                emails.add(email)
                user_ids.add(user.id)
            new_inboxes = {inbox.id: inbox for inbox in changes.directory.inboxes}
        contact_ids: set[ContactId] = set()
        phones: dict[str, ContactId] = {}
        emails_: dict[str, ContactId] = {}
        for contact in changes.contacts:
            if contact.id in self._contacts or contact.id in contact_ids:
                raise InvalidInput(f"a contact with id {contact.id} already exists")
            contact_ids.add(contact.id)
            if contact.phone is not None:
                holder = self._contact_ids_by_phone.get(contact.phone, phones.get(contact.phone))
                if holder is not None:
                    raise duplicate_contact("phone number", contact.phone, holder)
                phones[contact.phone] = contact.id
            if contact.email is not None:
                email = contact.email.casefold()
                holder = self._contact_ids_by_email.get(email, emails_.get(email))
                if holder is not None:
                    raise duplicate_contact("email address", contact.email, holder)
                emails_[email] = contact.id
        for seen in changes.assignments_seen:
            now = set(self._index.assigned(seen.user_id, seen.inbox_id))
            if now != seen.conversation_ids:
                raise ConcurrencyConflict(
                    f"{seen.user_id}'s assignments in {seen.inbox_id} changed since this decision read them: "
                    "retry"
                )
        for turns in changes.rotations:
            if self._rotations.get(turns.rule_id, 0) != turns.expected:
                raise ConcurrencyConflict(
                    f"rule {turns.rule_id} gave a turn since this decision read its rotation: retry"
                )
        self._check_conversations(changes.conversations, new_inboxes)

    def _check_conversations(
        self, changes: Sequence[ConversationChange], new_inboxes: Mapping[InboxId, Inbox]
    ) -> None:
        if len(changes) == 1 and changes[0].expected_version != 0:  # the commonest: one existing conversation
            change = changes[0]
            current = self._conversations.get(change.state.id)
            if (
                current is None
                or current.version != change.expected_version
                or (change.state.version != change.expected_version + len(change.events))
            ):
                self._check_version(change, current)  # raises, saying which
            return
        versions: dict[ConversationId, int] = {}  # as the earlier changes of this set leave them
        between: dict[tuple[ContactId, InboxId], ConversationId] = {}
        for change in changes:
            conversation, expected = change.state, change.expected_version
            stored_version = versions.get(conversation.id)
            if stored_version is None:
                self._check_version(change, self._conversations.get(conversation.id))
            else:
                self._check_version(change, stored_version)
            versions[conversation.id] = conversation.version
            if expected != 0:
                continue  # a conversation that exists is in a known inbox, and holds its pair already
            pair = (conversation.contact_id, conversation.inbox_id)
            holder = between.get(
                pair, self._between.get(conversation.inbox_id, {}).get(conversation.contact_id)
            )
            if holder is not None and conversation.linked_from != holder:
                raise ConcurrencyConflict(
                    f"{conversation.contact_id} already has a conversation in {conversation.inbox_id}: "
                    f"{holder}; add the message to it"
                )
            if conversation.inbox_id not in self._inboxes and conversation.inbox_id not in new_inboxes:
                raise UnknownInbox(f"no inbox {conversation.inbox_id}")
            between[pair] = conversation.id

    @staticmethod
    def _check_version(change: ConversationChange, current: Conversation | int | None) -> None:
        """``current`` is the stored conversation (None if there is none) or the version an earlier change
        of the same change set leaves it at."""
        conversation, expected = change.state, change.expected_version
        stored_version = current if isinstance(current, int) else 0 if current is None else current.version
        if stored_version != expected:
            raise ConcurrencyConflict(
                f"conversation {conversation.id} is at version {stored_version}, not {expected}: "
                "someone else changed it; load it again and retry"
            )
        change.check_follows()

    def _apply(self, changes: ChangeSet, packed: list[_Packed], rewrites: _Rewrites | None) -> None:
        # The tab rows first, for every conversation: the one write that can still fail (on rows of the
        # wrong types, made by hand), and the index takes itself back if it does, so nothing is written.
        self._index.apply(
            [
                (change.state.id, change.state.inbox_id, change.tabs)
                for change in changes.conversations
                if change.tabs is not NO_TAB_CHANGES
            ]
        )
        if changes.directory is not None:
            for user in changes.directory.users:
                self._users[user.id] = user
                self._user_ids_by_email[user.email.casefold()] = user.id
            for user in changes.directory.availability:
                self._users[user.id] = user
            for inbox in changes.directory.inboxes:
                self._inboxes[inbox.id] = inbox
            if changes.directory.settings is not None:
                self._settings = changes.directory.settings
            self._directory_version += 1
        for contact in changes.contacts:
            self._contacts[contact.id] = contact
            if contact.phone is not None:
                self._contact_ids_by_phone[contact.phone] = contact.id
            if contact.email is not None:
                self._contact_ids_by_email[contact.email.casefold()] = contact.id
        for turns in changes.rotations:
            self._rotations[turns.rule_id] = turns.count
        for change, (chunk, timers) in zip(changes.conversations, packed, strict=True):
            conversation = change.state
            self._set_timers(conversation.id, timers)
            self._conversations[conversation.id] = conversation
            if chunk is not None:
                self._events.append(conversation.id, chunk)
            if change.expected_version == 0:
                contacts = self._between.get(conversation.inbox_id)
                if contacts is None:
                    contacts = self._between[conversation.inbox_id] = {}
                contacts[conversation.contact_id] = conversation.id
                self._conversation_ids.add(conversation.id.value)
                self._analytics.started(conversation.contact_id, conversation.id)
            if change.facts:
                self._analytics.add(change.facts)
        for delivery in changes.deliveries:
            self._delivered[(delivery.inbox_id, delivery.external_id)] = delivery.conversation_id
        for outgoing in changes.emails:
            self._outbox[outgoing.id] = outgoing
        if changes.erasure is not None and rewrites is not None:
            self._apply_erasure(changes.erasure, rewrites)

    # ------------------------------------------------------------------ analytics

    def contact_conversations(self, contact_id: ContactId) -> Sequence[Conversation]:
        check.an_id("contact_id", contact_id, ContactId)
        with self._lock:
            found = [self._conversations[each] for each in self._analytics.conversation_ids(contact_id)]
        return sorted(found, key=lambda state: (epoch_microseconds(state.started_at), state.id.value))

    def contact_totals(self, contact_id: ContactId) -> Mapping[Count | Metric, ContactTotal]:
        check.an_id("contact_id", contact_id, ContactId)
        with self._lock:
            return self._analytics.contact_totals(contact_id)

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        check.an_id("contact_id", contact_id, ContactId)
        with self._lock:
            return self._analytics.contact_durations(contact_id)

    def daily_totals(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyTotal]:
        scope_ids = check.report_scope(scope, scope_ids, first_day, last_day)
        with self._lock:
            return self._analytics.daily_totals(scope, scope_ids, first_day, last_day)

    def daily_buckets(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyBucket]:
        scope_ids = check.report_scope(scope, scope_ids, first_day, last_day)
        with self._lock:
            return self._analytics.daily_buckets(scope, scope_ids, first_day, last_day)

    def _set_timers(self, conversation_id: ConversationId, entries: tuple[_DueEntry, ...]) -> None:
        for entry in self._timers.pop(conversation_id, ()):
            self._due.remove(entry)
            self._claims.pop((entry[1], entry[2]), None)
        if entries:
            self._due.update(entries)
            self._timers[conversation_id] = entries

    def dump(self) -> dict[str, Any]:
        """A deep copy of everything stored, comparable with ``==``: tests use it to prove nothing changed."""
        with self._lock:
            return copy.deepcopy(
                {
                    "directory_version": self._directory_version,
                    "users": self._users,
                    "inboxes": self._inboxes,
                    "contacts": self._contacts,
                    "settings": self._settings,
                    "conversations": self._conversations,
                    "between": self._between,
                    "events": self._events.dump(),
                    "delivered": self._delivered,
                    "index": self._index.dump(),
                    "timers": self._timers,
                    "claims": self._claims,
                    "rotations": self._rotations,
                    "outbox": self._outbox,
                    "contacts_by_phone": self._contact_ids_by_phone,
                    "contacts_by_email": self._contact_ids_by_email,
                    "analytics": self._analytics.dump(),
                }
            )
