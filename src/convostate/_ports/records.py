"""The records that stores keep and hand back: plain frozen values, the same for every store."""

from __future__ import annotations

import enum
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import NamedTuple

import attrs
import pendulum

from convostate._core.analytics.facts import Count, Metric
from convostate._core.ids import ConversationId, RuleId, UserId
from convostate._core.model import Conversation
from convostate._core.timing import epoch_microseconds


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


class EmailStatus(enum.Enum):
    """Where an email of the outbox stands: what ``Outbox.emails`` lists by."""

    PENDING = "pending"
    """Not sent yet: waiting for its first attempt, or for its next one (``next_attempt_at``)."""
    SENT = "sent"
    """The mail server accepted it (``sent_at``)."""
    FAILED = "failed"
    """It failed for good (``failed_at``): the server refused it for good, or it was still failing when
    the retries ran out. It is not retried; ``last_error`` says why."""


@attrs.frozen
class OutgoingEmail:
    """An email in the store's outbox: queued before the first attempt to send it, so it is never lost, and
    kept after it is sent (``sent_at``) or has failed for good (``failed_at``), however many attempts fail
    on the way.

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
    next_attempt_at: pendulum.DateTime | None = None
    """Not to be tried before this instant (the ``retry_at`` of the last ``email_failed``); None: at once.
    The backoff lives here, in the store, so it survives restarts and holds for every worker."""
    failed_at: pendulum.DateTime | None = None
    """When it failed for good (``email_failed`` with no ``retry_at``); None while it may still be sent."""

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def status(self) -> EmailStatus:
        if self.sent_at is not None:
            return EmailStatus.SENT
        return EmailStatus.PENDING if self.failed_at is None else EmailStatus.FAILED

    def parsed(self) -> EmailMessage:
        """The email, as the ``EmailMessage`` the mailer sends."""
        parsed = message_from_bytes(self.message, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class ContactTotal(NamedTuple):
    """One count of a contact's (:class:`~convostate.analytics.Count`) or how many durations of one metric
    were measured, with the instants of the first and the latest fact counted. (The analytics records are
    named tuples, like the change set: a sidebar reads dozens and a report thousands.)"""

    count: int  # type: ignore[assignment]  # the field, over tuple's count(): what every record calls it
    first_at: pendulum.DateTime
    last_at: pendulum.DateTime


class DurationSample(NamedTuple):
    """One measured duration of a contact's conversations."""

    metric: Metric
    micros: int
    conversation_id: ConversationId
    at: pendulum.DateTime


class DailyTotal(NamedTuple):
    """A day's sum of one count, or of one metric's durations (``count`` measured, ``total`` microseconds),
    for one inbox or user."""

    scope_id: str
    day: date
    kind: Count | Metric
    count: int  # type: ignore[assignment]  # as in ContactTotal
    total: int


class DailyBucket(NamedTuple):
    """How many of a day's durations of one metric fell in one histogram bucket, and their sum in
    microseconds, for one inbox or user."""

    scope_id: str
    day: date
    metric: Metric
    bucket: int
    count: int  # type: ignore[assignment]  # as in DailyTotal
    total: int
