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
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import Message

REOPEN_ON_INBOUND = RuleId("reopen-on-inbound")
"""The built-in rule that reopens a closed conversation when the contact writes."""

UNASSIGN_AFTER_WINDOW = RuleId("unassign-after-reopen-window")
"""The built-in rule that sends a conversation to Unassigned when the contact writes after the window."""


class ReopenReason(enum.Enum):
    """Why a conversation reopened, so a host can answer "why is this unassigned now?"."""

    BY_USER = "by_user"
    CONTACT_WROTE_WITHIN_WINDOW = "contact_wrote_within_window"
    """Back to its assignees ("Yours")."""
    CONTACT_WROTE_AFTER_WINDOW = "contact_wrote_after_window"
    """To Unassigned; Unassigned events by the rule follow."""


@attrs.frozen
class _Event:
    conversation_id: ConversationId
    actor: Actor
    at: pendulum.DateTime


@attrs.frozen
class ConversationStarted(_Event):
    inbox_id: InboxId
    contact_id: ContactId


@attrs.frozen
class MessageReceived(_Event):
    message: Message


@attrs.frozen
class MessageSent(_Event):
    message: Message


@attrs.frozen
class Assigned(_Event):
    user_id: UserId


@attrs.frozen
class Unassigned(_Event):
    user_id: UserId


@attrs.frozen
class Closed(_Event):
    assignees: frozenset[UserId]
    """Who was assigned when it closed: they stay assigned, and it returns to them if it reopens in time."""


@attrs.frozen
class Reopened(_Event):
    reason: ReopenReason
    closed_at: pendulum.DateTime
    window_ends_at: pendulum.DateTime | None = None
    """When the contact wrote: the first instant that counted as after the window (None for a user's
    reopen)."""


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
    | Starred
    | Unstarred
    | MarkedRead
    | MarkedUnread
)
"""Every event the decider returns."""
