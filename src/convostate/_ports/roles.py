"""The ports: what the application service needs from the outside world, as small protocols split by role.

A host plugs in its own implementations (a Django-backed store, its SMTP relay, a frozen clock in tests).
A store plays every storage role: it reads the directory, the conversation log, the views, the timer
queue and the outbox, and it writes only through :meth:`Store.commit`, one change set at a time, plus the
outbox's delivery bookkeeping. Each role has a conformance suite in ``convostate.testing.conformance``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from typing import Final, Protocol, runtime_checkable

import pendulum

from convostate._core.analytics.facts import Count, Metric, Scope
from convostate._core.errors import InvalidInput
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.tabs import Tab
from convostate._ports.changes import ChangeSet, ExternalDelivery
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

DEFAULT_ACCOUNT: Final = "default"
"""The account of a store opened without one: a host with a single account never names it."""


@runtime_checkable
class Clock(Protocol):
    """Where the application service reads the time. The core never reads a clock itself."""

    def now(self) -> pendulum.DateTime:
        """The current instant, timezone-aware."""
        ...


@runtime_checkable
class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Send one email, or raise. The caller keeps the message until this returns, and retries.

        Raise :class:`~convostate.PermanentDeliveryFailure` when trying again cannot help (the server
        refused the email for good): it is then not retried. Anything else raised (a
        :class:`~convostate.TemporaryDeliveryFailure`, a ``ConnectionError``, a ``TimeoutError``) is a
        temporary failure, retried with backoff. Once the server has accepted the email, do not raise: a
        raise after acceptance sends it again.
        """
        ...


@runtime_checkable
class IdGenerator(Protocol):
    def new_id(self, kind: str) -> str:
        """A new, never-used id for a ``kind`` of thing ("conversation", "message", "user", ...)."""
        ...


class Directory(Protocol):
    """The account's users, inboxes, contacts and settings.

    Users, inboxes and settings share one version, which every directory change moves on by one: an action
    that read them commits only if they are still as it read them.
    """

    def directory_version(self) -> int: ...
    def user(self, user_id: UserId) -> User | None: ...
    def user_by_email(self, email: str) -> User | None: ...
    def users(self) -> Sequence[User]: ...
    def inbox(self, inbox_id: InboxId) -> Inbox | None: ...
    def inboxes(self) -> Sequence[Inbox]: ...
    def contact(self, contact_id: ContactId) -> Contact | None: ...
    def contact_by_phone(self, phone: str) -> Contact | None:
        """The contact whose phone is ``phone`` (E.164, as stored), if any."""
        ...

    def contact_by_email(self, email: str) -> Contact | None:
        """The contact whose email is ``email``, compared case-insensitively (``str.casefold``), if any."""
        ...

    def settings(self) -> AccountSettings: ...


class ConversationLog(Protocol):
    """Conversations' states and events, and the turn counts of round-robin rules."""

    def conversation(self, conversation_id: ConversationId) -> Conversation | None: ...
    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None: ...
    def delivered_to(self, inbox_id: InboxId, external_id: str) -> ConversationId | None:
        """The conversation the provider's message ``external_id`` was delivered to in the inbox, if it
        was (``ExternalDelivery``): a batch recognises a redelivered message before it commits."""
        ...

    def events(self, conversation_id: ConversationId) -> Sequence[Event]: ...
    def conversations_assigned_to(self, user_id: UserId, inbox_id: InboxId) -> Sequence[ConversationId]:
        """The conversations of the inbox the user is assigned to, open or closed, ordered by id. A change
        set that rests on this answer says so (``ChangeSet.assignments_seen``)."""
        ...

    def conversations_after(self, after: ConversationId | None, *, limit: int) -> Sequence[Conversation]:
        """At most ``limit`` conversations in id order (byte order), starting after ``after`` (None: from
        the first): a retention sweep walks the account a batch at a time with it. (With SQL: a range of
        the primary key.)"""
        ...

    def rotations(self, rule_ids: Iterable[RuleId]) -> Mapping[RuleId, int]:
        """How many turns each round-robin rule has given so far (0 for one that never gave one)."""
        ...


class Views(Protocol):
    """Tab pages and badge counts, from rows and counters kept by every commit, never by a scan."""

    def tab_page(
        self,
        tab: Tab,
        user_id: UserId,
        inbox_ids: Collection[InboxId],
        *,
        after: Position | None,
        limit: int,
    ) -> Sequence[Conversation]: ...
    def tab_counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]: ...


class TimerQueue(Protocol):
    """The time rules due for conversations, kept with each conversation's state by every commit."""

    def due(self, now: pendulum.DateTime, *, limit: int, after: DueTimer | None = None) -> Sequence[DueTimer]:
        """Timers due at or before ``now``, oldest first, starting after ``after``, claimed or not."""
        ...

    def claim_due(
        self, now: pendulum.DateTime, *, limit: int, until: pendulum.DateTime
    ) -> Sequence[DueTimer]:
        """Atomically claim up to ``limit`` timers due at or before ``now`` that no one holds past ``now``,
        oldest first, for this worker until ``until``. A commit that replaces a conversation's timers ends
        their claims; a worker that dies leaves its claims to expire. (With PostgreSQL:
        ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``.)"""
        ...

    def release(self, timers: Sequence[DueTimer]) -> None:
        """End the claims on ``timers`` now, so the next sweep may claim them at once (a sweep gives back
        the timers it reports stuck, so that every sweep reports them). Unknown timers are ignored."""
        ...


class Outbox(Protocol):
    """Emails (exports) kept until they are sent or fail for good: enqueued by a commit, claimed and marked
    one by one, each pending one with the earliest instant it may be tried again (``next_attempt_at``).

    An email's ``status`` (:class:`~convostate.ports.EmailStatus`) follows from its fields: sent
    (``sent_at``), failed for good (``failed_at``), else pending. Sent and failed are final: nothing moves
    an email out of them.
    """

    def outgoing_email(self, email_id: str) -> OutgoingEmail | None:
        """The email with this id, whatever its status; None if there is none."""
        ...

    def pending_emails(
        self, limit: int, *, due_at: pendulum.DateTime | None = None
    ) -> Sequence[OutgoingEmail]:
        """At most ``limit`` pending emails (neither sent nor failed for good), oldest ``created_at`` first,
        emails created at the same instant in the order they were enqueued.

        With ``due_at``, only those a worker may try at that instant: ``next_attempt_at`` is None or at or
        before ``due_at``, and ``claimed_until`` is None or at or before ``due_at``. (With SQL:
        ``WHERE sent_at IS NULL AND failed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <=
        :due_at) AND (claimed_until IS NULL OR claimed_until <= :due_at)``.) Without it, every pending
        email, claimed or waiting or not.
        """
        ...

    def emails(self, status: EmailStatus, *, limit: int, after: str | None = None) -> Sequence[OutgoingEmail]:
        """At most ``limit`` emails in ``status``, in the order of :meth:`pending_emails` (``created_at``,
        then the order enqueued), starting after the email whose id is ``after`` (the last of the previous
        page, whatever its status now). An ``after`` that is no email in the outbox is refused with
        :class:`~convostate.InvalidInput`."""
        ...

    def conversation_emails(self, conversation_ids: Collection[ConversationId]) -> Sequence[OutgoingEmail]:
        """Every email of these conversations, whatever its status, in the outbox's order: what an erasure
        of their contact must rewrite (``Erasure.emails``)."""
        ...

    def claim_email(
        self, email_id: str, at: pendulum.DateTime, until: pendulum.DateTime
    ) -> OutgoingEmail | None:
        """Atomically claim a pending email for one worker to send, until ``until``: the claimed email, or
        None if it is sent, failed for good, unknown, not due yet (``next_attempt_at`` after ``at``), or
        claimed by another worker past ``at``. (With SQL: ``UPDATE ... SET claimed_until = :until WHERE
        id = :id AND sent_at IS NULL AND failed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at
        <= :at) AND (claimed_until IS NULL OR claimed_until <= :at) RETURNING ...``.)"""
        ...

    def email_sent(self, email_id: str, at: pendulum.DateTime) -> None:
        """The mailer accepted the email at ``at``: it leaves the pending emails for good, with one more
        attempt counted and its claim released. Marking a sent or failed email sent, or failed, changes
        nothing; an unknown id is refused with :class:`~convostate.InvalidInput`."""
        ...

    def email_failed(
        self, email_id: str, at: pendulum.DateTime, error: str, *, retry_at: pendulum.DateTime | None
    ) -> None:
        """An attempt to send the email failed at ``at`` with ``error``: one more attempt is counted,
        ``last_error`` and ``last_attempt_at`` are set and its claim is released.

        With ``retry_at``, the failure is temporary: the email stays pending with ``next_attempt_at =
        retry_at``, and is neither listed as due nor claimed before then. With ``retry_at=None``, it failed
        for good: ``failed_at = at``, and it leaves the pending emails like a sent one. A sent or failed
        email stays as it is; an unknown id is refused with :class:`~convostate.InvalidInput`.

        The application service writes ``error`` with no NUL and no lone surrogate, at most 1,000
        characters plus a note of about 40 when it gives up, so a text column of 2,000 holds it.
        """
        ...


class Analytics(Protocol):
    """Contact analytics and daily report figures: the sums of every commit's facts
    (``ConversationChange.facts``), kept by each commit, never by a scan.

    A store adds each fact of scope ``CONTACT`` to the contact's total of its kind (count, first and
    latest ``at``) and, for a duration, keeps it as a sample; a fact of scope ``INBOX`` or ``USER`` to the
    day's total of its kind for that inbox or user (count and sum of values) and, for a duration, to the
    count of its histogram bucket (:func:`~convostate.analytics.bucket_of`) that day.
    """

    def contact_conversations(self, contact_id: ContactId) -> Sequence[Conversation]:
        """The contact's conversations, in every inbox, in the order they started (ties by id)."""
        ...

    def contact_totals(self, contact_id: ContactId) -> Mapping[Count | Metric, ContactTotal]:
        """The contact's totals by kind; a kind with no fact is absent."""
        ...

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        """Every duration measured for the contact, in the order committed."""
        ...

    def daily_totals(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyTotal]:
        """The non-zero day totals of ``scope_ids`` from ``first_day`` to ``last_day`` (both included), in
        any order."""
        ...

    def daily_buckets(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyBucket]:
        """The non-zero bucket counts of ``scope_ids`` from ``first_day`` to ``last_day``, in any order."""
        ...


class Store(Directory, ConversationLog, Views, TimerQueue, Outbox, Analytics, Protocol):
    """Every storage role, and the one write: :meth:`commit`.

    A store may be shared by threads (and, for a database, by processes): every method is atomic, and
    ``commit`` applies a whole change set or nothing.
    """

    def commit(self, changes: ChangeSet) -> None:
        """Apply ``changes`` atomically, after checking every expectation in it.

        Raises:
            ConcurrencyConflict: a conversation is not at its ``expected_version``, the directory is not at
                ``directory_version``, a rotation is not at its ``expected`` count, a user's assignments in
                an inbox are not the ``assignments_seen``, an erasure's conversation is not at the version
                it read, or a new conversation's contact already has one
                in that inbox (someone else saved first: load again and retry).
            DuplicateDelivery: the change set's external message id was already delivered to the inbox.
            UnknownInbox: a new conversation's inbox is neither stored nor saved by the change set.
            DuplicateContact: a new contact's phone or email is another contact's.
            InvalidInput: the change set contradicts itself or the store (a version that does not follow
                from the events, a user id or email, contact id or email id already taken; an erasure's
                contact, event or email that is not stored).
        """
        ...


class Accounts(Protocol):
    """The role of a store that holds many accounts, as a SaaS host's one database does.

    Every other role reads and writes one account, the store's :attr:`account`; ids are unique within an
    account at most, so two accounts may hold the same ids. A host opens each account's store from one
    shared store with :meth:`for_account`, which must cost next to nothing (no schema check, no new
    connections): a web request may open one per call. The sweeps ask which accounts have work.
    """

    account: str
    """The account every read and write of this store is scoped to."""

    def for_account(self, account: str) -> AccountStore:
        """The store of ``account`` on the same database (or memory), sharing this store's connections;
        an account that is new gets its (empty) directory and default settings."""
        ...

    def accounts_due(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        """At most ``limit`` accounts that hold a timer due at ``now`` and claimed by nobody, the one whose
        oldest such timer is oldest first (ties by account)."""
        ...

    def accounts_with_mail(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        """At most ``limit`` accounts that hold a pending email a sweep may send at ``now`` (its backoff
        over, claimed by nobody), the one whose oldest such email is oldest first (ties by account)."""
        ...


class AccountStore(Store, Accounts, Protocol):
    """A store of every role that also holds many accounts (the memory store and the SQL store)."""


class DuplicateDelivery(Exception):
    """Raised by ``Store.commit`` when a message's external id was already delivered to that inbox."""

    def __init__(self, message: str, conversation_id: ConversationId) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        """The conversation the message was delivered to the first time."""


def delivered_twice(delivery: ExternalDelivery) -> InvalidInput:
    """The error for a change set that delivers one provider message id twice: one wording, every store."""
    return InvalidInput(f"message {delivery.external_id} is delivered twice in one change set")


def already_delivered(delivery: ExternalDelivery, first: ConversationId) -> DuplicateDelivery:
    """The error for ``delivery``, whose message went to ``first`` before: one wording for every store."""
    return DuplicateDelivery(
        f"message {delivery.external_id} was already delivered to {delivery.inbox_id}", first
    )
