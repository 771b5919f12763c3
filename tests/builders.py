"""Plain builders for the example tests: an inbox, a decision context at a given time, commands, and
a runner that handles commands as a host gets them: ``handle(state, command, context, DEFAULT_RULES)``,
that is ``decide`` and ``evolve`` and then the default rules (reopen on inbound, unassign after the reopen
window, wake a snoozed conversation). Pass ``rules=DECIDE_ONLY`` to run plain ``decide`` instead, or any
other ``RuleSet``.

Nothing here is a fixture: each test says what it builds, so it reads on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import pendulum

from convostate import (
    AccountSettings,
    Actor,
    ContactId,
    Conversation,
    ConversationId,
    Event,
    Inbox,
    InboxId,
    MessageId,
    ReadModel,
    UserId,
)
from convostate.core import (
    INITIAL_STATE,
    Assign,
    Close,
    Command,
    DecisionContext,
    MarkRead,
    MarkUnread,
    ReceiveMessage,
    Reopen,
    SendReply,
    Snooze,
    Star,
    Unassign,
    Unsnooze,
    Unstar,
    decide,
    evolve,
)
from convostate.rules import DEFAULT_RULES, RuleSet, handle

ANA = UserId("ana")
BEN = UserId("ben")
CARA = UserId("cara")
DAN = UserId("dan")
"""``dan`` is a user of the account but never a member of the default inbox."""

MEMBERS = frozenset({ANA, BEN, CARA})
INBOX_ID = InboxId("support")
CONTACT = ContactId("maria")
CONVERSATION = ConversationId("conv-1")

NOW = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
"""A Monday morning, far from any daylight-saving change in UTC."""

PER_USER = AccountSettings(read_model=ReadModel.PER_USER)

DECIDE_ONLY: Final = None
"""``rules=DECIDE_ONLY``: run plain ``decide`` and ``evolve``, without any rules."""


def multi_user_inbox(members: Iterable[UserId] = MEMBERS, *, inbox_id: InboxId = INBOX_ID) -> Inbox:
    return Inbox.multi_user(inbox_id, "Support", frozenset(members))


def single_user_inbox(owner: UserId = ANA, *, inbox_id: InboxId = INBOX_ID) -> Inbox:
    return Inbox.single_user(inbox_id, "Ana's line", owner)


def context(
    at: pendulum.DateTime = NOW,
    *,
    inbox: Inbox | None = None,
    settings: AccountSettings | None = None,
) -> DecisionContext:
    """A decision at ``at`` in ``inbox`` (default: the support inbox of ana, ben and cara)."""
    return DecisionContext(
        at,
        settings if settings is not None else AccountSettings(),
        inbox=inbox if inbox is not None else multi_user_inbox(),
    )


def by(user: UserId = ANA) -> Actor:
    return Actor.user(user)


def inbound(
    body: str = "Hello, my order has not arrived",
    *,
    message_id: str = "m-in",
    conversation_id: ConversationId = CONVERSATION,
    contact_id: ContactId = CONTACT,
    inbox_id: InboxId = INBOX_ID,
) -> ReceiveMessage:
    return ReceiveMessage(conversation_id, inbox_id, contact_id, MessageId(message_id), body)


def reply(
    body: str = "Sorry about that, it ships today",
    *,
    actor: Actor | None = None,
    message_id: str = "m-out",
) -> SendReply:
    author = actor if actor is not None else by(ANA)
    return SendReply(CONVERSATION, MessageId(message_id), body, author)


def assign(user: UserId, *, actor: UserId = ANA) -> Assign:
    return Assign(CONVERSATION, user, by(actor))


def unassign(user: UserId, *, actor: UserId = ANA) -> Unassign:
    return Unassign(CONVERSATION, user, by(actor))


def close(*, actor: UserId = ANA) -> Close:
    return Close(CONVERSATION, by(actor))


def reopen(*, actor: UserId = ANA) -> Reopen:
    return Reopen(CONVERSATION, by(actor))


def star(user: UserId = ANA) -> Star:
    return Star(CONVERSATION, user, by(user))


def unstar(user: UserId = ANA) -> Unstar:
    return Unstar(CONVERSATION, user, by(user))


def mark_read(user: UserId = ANA) -> MarkRead:
    return MarkRead(CONVERSATION, user, by(user))


def mark_unread(user: UserId = ANA) -> MarkUnread:
    return MarkUnread(CONVERSATION, user, by(user))


def snooze(until: pendulum.DateTime, *, actor: UserId = ANA) -> Snooze:
    return Snooze(CONVERSATION, until, by(actor))


def unsnooze(*, actor: UserId = ANA) -> Unsnooze:
    return Unsnooze(CONVERSATION, by(actor))


def step(
    state: Conversation | None,
    command: Command,
    ctx: DecisionContext,
    *,
    rules: RuleSet | None = DEFAULT_RULES,
) -> tuple[Conversation, tuple[Event, ...]]:
    """Handle ``command`` on ``state`` with ``rules`` (default: the default rules; ``DECIDE_ONLY``: none)
    and fold every event in: the new state and the events, the command's first, then the rules'."""
    if rules is None:
        events = decide(state, command, ctx)
        for event in events:
            state = evolve(state, event)
    else:
        handled = handle(state, command, ctx, rules)
        if handled.follow_ups:
            raise AssertionError(f"{command!r} left follow-ups the example tests do not expect: {handled}")
        state, events = handled.state, handled.events
    if state is None:
        raise AssertionError(f"{command!r} on a conversation that has not started recorded nothing")
    return state, events


def run(
    commands: Iterable[Command],
    ctx: DecisionContext | None = None,
    *,
    state: Conversation | None = INITIAL_STATE,
    rules: RuleSet | None = DEFAULT_RULES,
) -> tuple[Conversation, tuple[Event, ...]]:
    """Run ``commands`` in order, all handled in ``ctx`` with ``rules``: the final state and every event."""
    ctx = ctx if ctx is not None else context()
    recorded: list[Event] = []
    for command in commands:
        state, events = step(state, command, ctx, rules=rules)
        recorded.extend(events)
    if state is None:
        raise AssertionError("run() needs a state or a command that starts the conversation")
    return state, tuple(recorded)


def started(ctx: DecisionContext | None = None) -> Conversation:
    """A conversation the contact has just opened: open, unread, nobody assigned."""
    state, _ = run([inbound()], ctx)
    return state
