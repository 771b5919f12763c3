"""What happened to a conversation: the facts the decider returns and ``evolve`` folds into state.

Every event says who or what caused it (``actor``: a user, the contact, or a rule) and when (``at``, the
time the command was decided). Replaying a conversation's events from the start rebuilds it exactly.
"""

from __future__ import annotations

import enum
from typing import TypeAlias

import attrs
import pendulum

from convostate._core.actors import Actor
from convostate._core.ids import ContactId, ConversationId, InboxId, UserId
from convostate._core.model import Availability, Message


class ReopenReason(enum.Enum):
    """Who reopened it: a user, or a rule (whose id is the event's actor, and whose conditions say why)."""

    BY_USER = "by_user"
    BY_RULE = "by_rule"


@attrs.frozen
class _Event:
    conversation_id: ConversationId
    actor: Actor
    at: pendulum.DateTime
    clock_read: pendulum.DateTime | None = attrs.field(default=None, kw_only=True)
    """What the host's clock read when it was behind the conversation's last event (a clock stepped back by
    NTP or a restored VM); the event is then stamped at the last event's instant instead, so that a
    conversation's events stay in order and its windows are never measured backwards. None otherwise."""


@attrs.frozen
class ConversationStarted(_Event):
    inbox_id: InboxId
    contact_id: ContactId
    linked_from: ConversationId | None = None


@attrs.frozen
class MessageReceived(_Event):
    message: Message


@attrs.frozen
class MessageSent(_Event):
    message: Message


@attrs.frozen
class Assigned(_Event):
    user_id: UserId
    skipped: tuple[tuple[UserId, Availability], ...] = attrs.field(default=(), kw_only=True)
    """The users a round-robin rule passed over before this one because they were away or offline, in
    rotation order, with their availability then: so the history can say why it was not their turn after
    all. Replay ignores it; empty for every other assignment."""


@attrs.frozen
class Unassigned(_Event):
    user_id: UserId
    because: Availability | None = attrs.field(default=None, kw_only=True)
    """The user's availability when a rule unassigned them for not being available (the default reopen
    rule), so the history says why they lost it; None for every other unassignment. Replay ignores it."""


@attrs.frozen
class Closed(_Event):
    assignees: frozenset[UserId]
    """Who was assigned when it closed: they stay assigned, and it returns to them if it reopens in time."""


@attrs.frozen
class Reopened(_Event):
    reason: ReopenReason
    closed_at: pendulum.DateTime


@attrs.frozen
class Snoozed(_Event):
    until: pendulum.DateTime


@attrs.frozen
class Unsnoozed(_Event):
    pass


@attrs.frozen
class Starred(_Event):
    user_id: UserId


@attrs.frozen
class Unstarred(_Event):
    user_id: UserId


@attrs.frozen
class MarkedRead(_Event):
    for_user: UserId | None
    """The user whose read state changed, or None when it changed for everyone (the shared read model)."""


@attrs.frozen
class MarkedUnread(_Event):
    for_user: UserId | None


Event: TypeAlias = (
    ConversationStarted
    | MessageReceived
    | MessageSent
    | Assigned
    | Unassigned
    | Closed
    | Reopened
    | Snoozed
    | Unsnoozed
    | Starred
    | Unstarred
    | MarkedRead
    | MarkedUnread
)
"""Every event the decider returns."""
