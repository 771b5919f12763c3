"""The ports: what the application service needs from the outside world, as small protocols.

A host plugs in its own implementations (a Django-backed store, its SMTP relay, a frozen clock in tests);
convostate ships memory adapters that are the defaults, and a conformance suite (``convostate.testing``)
that any store can run against itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Protocol, runtime_checkable

import attrs
import pendulum

from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.rules.engine import Timer
from convostate._core.tabs import Tab
from convostate._core.timing import epoch_microseconds


@runtime_checkable
class Clock(Protocol):
    """Where the application service reads the time. The core never reads a clock itself."""

    def now(self) -> pendulum.DateTime:
        """The current instant, timezone-aware."""
        ...


@runtime_checkable
class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Send one email, or raise. The caller keeps the message until this returns, and retries."""
        ...


@runtime_checkable
class IdGenerator(Protocol):
    def new_id(self, kind: str) -> str:
        """A new, never-used id for a ``kind`` of thing ("conversation", "message", "user", ...)."""
        ...


@attrs.frozen
class TabCount:
    """How many conversations a tab lists for a user, and how many of those are unread for that user."""

    total: int
    unread: int


@attrs.frozen(order=True)
class DueTimer:
    """A time rule due for a conversation: what ``Store.due`` lists, oldest first."""

    due_at: pendulum.DateTime
    conversation_id: ConversationId = attrs.field(order=lambda cid: cid.value)
    rule_id: RuleId = attrs.field(order=lambda rule_id: rule_id.value)


@attrs.frozen(order=True)
class Position:
    """Where a conversation sits in a tab: newest activity first, ties broken by id."""

    newest_first: int
    conversation_id: str

    @classmethod
    def of(cls, conversation: Conversation) -> Position:
        """Where ``conversation`` sits in its tabs: minus its last activity in microseconds, and its id."""
        return cls(-epoch_microseconds(conversation.last_activity_at), conversation.id.value)


@attrs.frozen
class OutgoingEmail:
    """An email in the store's outbox: queued before the first attempt to send it, so it is never lost, and
    kept until it is sent (``sent_at``), however many attempts fail on the way.

    ``message`` is the whole email as bytes (``EmailMessage.as_bytes()``), so any store can keep it in a
    binary column; :meth:`parsed` gives it back as an ``EmailMessage``. Its ``Message-ID`` header is fixed
    when the email is built, so every attempt sends the same one.
    """

    id: str
    conversation_id: ConversationId
    requested_by: UserId
    message: bytes
    created_at: pendulum.DateTime
    attempts: int = 0
    """How many times sending it was tried, the successful attempt included."""
    last_error: str | None = None
    """What the latest failed attempt raised; None if no attempt has failed."""
    last_attempt_at: pendulum.DateTime | None = None
    """When sending it was last tried (the ``at`` of ``email_sent`` or ``email_failed``)."""
    sent_at: pendulum.DateTime | None = None
    """When the mailer accepted it; None while it is pending."""
    claimed_until: pendulum.DateTime | None = None
    """While a worker is sending it (``Store.claim_email``), until when; other workers leave it alone."""

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def parsed(self) -> EmailMessage:
        """The email, as the ``EmailMessage`` the mailer sends."""
        parsed = message_from_bytes(self.message, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Store(Protocol):
    """Users, inboxes, contacts, settings and conversations, with the queries that tabs and badges need.

    ``append`` is the one write for conversations: it stores the new state, its events and its timers
    together, or nothing (an append with no events only replaces the timers), and with them the new turn
    counts of round-robin rules (``rotations``), so that a refused decision gives away no turn. It raises
    :class:`~convostate.ConcurrencyConflict` when the stored version is not
    ``expected_version`` (someone else saved first), and :class:`DuplicateDelivery` when ``external_id``
    was already delivered to the inbox, so that a redelivered message is never applied twice.
    """

    # The account directory.
    def add_user(self, user: User) -> None: ...
    def user(self, user_id: UserId) -> User | None: ...
    def user_by_email(self, email: str) -> User | None: ...
    def users(self) -> Sequence[User]: ...
    def save_inbox(self, inbox: Inbox) -> None: ...
    def inbox(self, inbox_id: InboxId) -> Inbox | None: ...
    def inboxes(self) -> Sequence[Inbox]: ...
    def add_contact(self, contact: Contact) -> None: ...
    def contact(self, contact_id: ContactId) -> Contact | None: ...
    def settings(self) -> AccountSettings: ...
    def save_settings(self, settings: AccountSettings) -> None: ...

    # Conversations.
    def conversation(self, conversation_id: ConversationId) -> Conversation | None: ...
    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None: ...
    def append(
        self,
        conversation: Conversation,
        events: Sequence[Event],
        *,
        expected_version: int,
        external_id: str | None = None,
        timers: Sequence[Timer] = (),
        rotations: Mapping[RuleId, int] | None = None,
    ) -> None: ...
    def events(self, conversation_id: ConversationId) -> Sequence[Event]: ...
    def conversations_assigned_to(self, user_id: UserId, inbox_id: InboxId) -> Sequence[ConversationId]: ...

    # Views.
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

    # Timers.
    def due(self, now: pendulum.DateTime, *, limit: int, after: DueTimer | None = None) -> Sequence[DueTimer]:
        """Timers due at or before ``now``, oldest first, starting after ``after``."""
        ...

    def rotation(self, rule_id: RuleId) -> int:
        """How many turns a round-robin rule has given so far (``append(rotations=...)`` records more)."""
        ...

    # The outbox: emails (exports) kept until they are sent.
    def enqueue_email(self, email: OutgoingEmail) -> None:
        """Keep ``email`` until it is sent. An id already in the outbox (sent or not) is refused with
        :class:`~convostate.InvalidInput` and changes nothing."""
        ...

    def outgoing_email(self, email_id: str) -> OutgoingEmail | None:
        """The email with this id, pending or sent; None if there is none."""
        ...

    def pending_emails(self, limit: int) -> Sequence[OutgoingEmail]:
        """At most ``limit`` emails not sent yet (claimed or not), oldest ``created_at`` first, emails created
        at the same instant in the order they were enqueued."""
        ...

    def claim_email(
        self, email_id: str, at: pendulum.DateTime, until: pendulum.DateTime
    ) -> OutgoingEmail | None:
        """Atomically claim a pending email for one worker to send, until ``until``: the claimed email, or
        None if it is sent, unknown, or claimed by another worker past ``at``. (With SQL:
        ``UPDATE ... WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until <= :at)``.)"""
        ...

    def email_sent(self, email_id: str, at: pendulum.DateTime) -> None:
        """The mailer accepted the email at ``at``: it leaves the pending emails for good, with one more
        attempt counted. Marking a sent email sent again, or failed, changes nothing; an unknown id is
        refused with :class:`~convostate.InvalidInput`."""
        ...

    def email_failed(self, email_id: str, at: pendulum.DateTime, error: str) -> None:
        """An attempt to send the email failed with ``error``: it stays pending, with one more attempt
        counted, ``last_error`` set and its claim released, to be retried. An unknown id is refused with
        :class:`~convostate.InvalidInput`."""
        ...


class DuplicateDelivery(Exception):
    """Raised by ``Store.append`` when a message's external id was already delivered to that inbox."""

    def __init__(self, message: str, conversation_id: ConversationId) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        """The conversation the message was delivered to the first time."""
