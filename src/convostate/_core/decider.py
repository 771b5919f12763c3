"""The rules of one conversation, in one place: ``decide`` what a command changes, ``evolve`` the state.

Both are pure. ``decide`` reads the time from its context, never from a clock, so the same command on the same
state at the same instant always yields the same events; ``evolve`` folds one event into the state, so
replaying a conversation's events from :data:`INITIAL_STATE` rebuilds it exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import reduce
from typing import Any, Final, TypeVar

import attrs
import pendulum

from convostate._core.actors import Actor, ActorKind
from convostate._core.commands import (
    Assign,
    Close,
    Command,
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
)
from convostate._core.errors import InvalidInput, NotAMember, SingleUserInbox, UnknownConversation
from convostate._core.events import (
    Assigned,
    Closed,
    ConversationStarted,
    Event,
    MarkedRead,
    MarkedUnread,
    MessageReceived,
    MessageSent,
    Reopened,
    ReopenReason,
    Snoozed,
    Starred,
    Unassigned,
    Unsnoozed,
    Unstarred,
)
from convostate._core.ids import UserId
from convostate._core.instants import elapsed
from convostate._core.model import (
    AccountSettings,
    Conversation,
    Direction,
    Inbox,
    Message,
    OutboundMessage,
    ReadModel,
    Status,
)
from convostate._core.status import STATUS_MACHINE
from convostate._core.validate import aware_datetime, frozenset_of, instance_of

_Member = TypeVar("_Member")

INITIAL_STATE: Final[Conversation | None] = None
"""The state before a conversation's first event: it does not exist yet."""


_USERS = frozenset_of(UserId, "UserId('ana')")


def _offline(context: DecisionContext, attribute: Any, offline: frozenset[UserId]) -> None:
    """The users' check, then ``_within``: one validator rather than attrs' list of two, since a context is
    built for every command, and nearly always nobody is offline (no user, within any set)."""
    if type(offline) is frozenset and not offline:
        return
    _USERS(context, attribute, offline)
    _within(context, offline)


@attrs.frozen
class DecisionContext:
    """What a decision may depend on besides the state and the command: the time, the account's settings and
    the conversation's inbox (for membership). The application service fills it in; tests build it
    directly."""

    now: pendulum.DateTime = attrs.field(converter=aware_datetime)
    settings: AccountSettings = attrs.field(
        factory=AccountSettings, validator=instance_of(AccountSettings, "AccountSettings()")
    )
    inbox: Inbox = attrs.field(
        kw_only=True,
        validator=instance_of(Inbox, "Inbox.multi_user(InboxId('support'), 'Support')"),
    )
    unavailable: frozenset[UserId] = attrs.field(
        default=frozenset(),
        kw_only=True,
        validator=frozenset_of(UserId, "UserId('ana')"),
    )
    """The users who are away or offline (``User.availability``) among the conversation's assignees and
    the users of the round-robin rules: the application service reads them from the directory; the core
    cannot. Nobody else's availability can change a decision."""
    offline: frozenset[UserId] = attrs.field(
        default=frozenset(),
        kw_only=True,
        validator=_offline,
    )
    """Those of ``unavailable`` who are offline; the others are away. Decisions treat both alike; only the
    history tells them apart."""


def _within(context: DecisionContext, offline: frozenset[UserId]) -> None:
    if not offline <= context.unavailable:
        stray = ", ".join(sorted(user.value for user in offline - context.unavailable))
        raise InvalidInput(f"offline users must be unavailable too; not in unavailable: {stray}")


def decide(state: Conversation | None, command: Command, context: DecisionContext) -> tuple[Event, ...]:
    """The events ``command`` causes on ``state``; an empty tuple when it changes nothing.

    Raises:
        UnknownConversation: the command needs a conversation that has not started.
        NotAMember: assigning a user who is not a member of the inbox.
        SingleUserInbox: assigning or unassigning in a single-user inbox.
        InvalidInput: not a command, or a command, state and context that do not belong together.
    """
    handler = _DECIDERS.get(type(command))
    if handler is None:
        raise InvalidInput(f"decide() takes a command such as Close(...), got {type(command).__name__}")
    if state is None:
        if not isinstance(command, ReceiveMessage):
            raise UnknownConversation(
                f"conversation {command.conversation_id} has not started; only the contact's first message "
                "(ReceiveMessage) starts a conversation"
            )
        if context.inbox.id is not command.inbox_id and context.inbox.id != command.inbox_id:
            raise InvalidInput(
                f"the context's inbox is {context.inbox.id}, the message's is {command.inbox_id}"
            )
    else:
        # ``is not`` first: ids are nearly always the very objects the state holds, and ``!=`` is a call.
        if state.id is not command.conversation_id and state.id != command.conversation_id:
            raise InvalidInput(f"a command for {command.conversation_id} was decided on {state.id}")
        if context.inbox.id is not state.inbox_id and context.inbox.id != state.inbox_id:
            raise InvalidInput(
                f"the context's inbox is {context.inbox.id}, the conversation's is {state.inbox_id}"
            )
        if context.now < state.updated_at:
            return _stamped_in_order(handler, state, command, context)
    return handler(state, command, context)


def _stamped_in_order(
    handler: Callable[[Any, Any, DecisionContext], tuple[Event, ...]],
    state: Conversation,
    command: Command,
    context: DecisionContext,
) -> tuple[Event, ...]:
    """Decide at the conversation's last instant when the clock reads earlier, and say so on each event.

    Refusing would lose the contact's messages for as long as the clock is behind (a webhook cannot wait),
    so the events are stamped at the last event's instant, which keeps the log in order, and each records
    what the clock read, which the history shows.
    """
    clock_read = context.now
    events = handler(state, command, attrs.evolve(context, now=state.updated_at))
    return tuple(attrs.evolve(event, clock_read=clock_read) for event in events)


def _receive(
    state: Conversation | None, command: ReceiveMessage, context: DecisionContext
) -> tuple[Event, ...]:
    """Record the message. Reopening a closed conversation is the job of the rules (see DEFAULT_RULES), so
    that a host can change what happens: reopen, follow up in a new conversation, or stay closed."""
    now, actor = context.now, command.actor
    message = Message(
        command.message_id,
        command.conversation_id,
        Direction.INBOUND,
        actor,
        command.body,
        command.sent_at or now,
        command.external_id,
    )
    received = MessageReceived(command.conversation_id, actor, now, message)
    if state is None:
        started = ConversationStarted(
            command.conversation_id, actor, now, command.inbox_id, command.contact_id, command.linked_from
        )
        return (started, received)
    if (state.contact_id is not command.contact_id and state.contact_id != command.contact_id) or (
        state.inbox_id is not command.inbox_id and state.inbox_id != command.inbox_id
    ):
        raise InvalidInput(
            f"conversation {state.id} is between {state.contact_id} and {state.inbox_id}, "
            f"not {command.contact_id} and {command.inbox_id}"
        )
    if command.linked_from is not None:
        raise InvalidInput(f"linked_from only applies to a new conversation; {state.id} has already started")
    return (received,)


def _reply(state: Conversation | None, command: SendReply, context: DecisionContext) -> tuple[Event, ...]:
    """A reply is sent whatever the status (it does not reopen), and the replying user has read the thread."""
    state = _existing(state)
    message = Message(
        command.message_id,
        state.id,
        Direction.OUTBOUND,
        command.actor,
        command.body,
        context.now,
        command.external_id,
    )
    sent = MessageSent(state.id, command.actor, context.now, message)
    replier = command.actor.user_id
    if replier is None or not state.is_unread_for(replier):
        return (sent,)
    return (sent, _read_state_change(state, replier, command.actor, context, unread=False))


def _assign(state: Conversation | None, command: Assign, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    refuse_single_user(context.inbox)
    if command.user_id not in context.inbox.members:
        raise not_a_member(context.inbox, command.user_id)
    if command.user_id in state.assignees:
        return ()
    return (Assigned(state.id, command.actor, context.now, command.user_id),)


def _unassign(state: Conversation | None, command: Unassign, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    refuse_single_user(context.inbox)
    if command.user_id not in state.assignees:
        return ()
    return (Unassigned(state.id, command.actor, context.now, command.user_id),)


def _close(state: Conversation | None, command: Close, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if STATUS_MACHINE.target(state.status, Close) is None:
        return ()
    return (Closed(state.id, command.actor, context.now, state.assignees),)


def _reopen(state: Conversation | None, command: Reopen, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if STATUS_MACHINE.target(state.status, Reopen) is None:
        return ()
    assert state.closed_at is not None
    reason = ReopenReason.BY_RULE if command.actor.kind is ActorKind.RULE else ReopenReason.BY_USER
    return (Reopened(state.id, command.actor, context.now, reason, state.closed_at),)


def _snooze(state: Conversation | None, command: Snooze, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if command.until <= context.now:
        raise InvalidInput(f"snooze until a later time than now ({context.now}), got {command.until}")
    if state.snoozed_until == command.until:
        return ()
    return (Snoozed(state.id, command.actor, context.now, command.until),)


def _unsnooze(state: Conversation | None, command: Unsnooze, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if state.snoozed_until is None:
        return ()
    return (Unsnoozed(state.id, command.actor, context.now),)


def _star(state: Conversation | None, command: Star, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if command.user_id in state.starred_by:
        return ()
    return (Starred(state.id, command.actor, context.now, command.user_id),)


def _unstar(state: Conversation | None, command: Unstar, context: DecisionContext) -> tuple[Event, ...]:
    state = _existing(state)
    if command.user_id not in state.starred_by:
        return ()
    return (Unstarred(state.id, command.actor, context.now, command.user_id),)


def _mark_read(state: Conversation | None, command: MarkRead, context: DecisionContext) -> tuple[Event, ...]:
    return _set_read_state(_existing(state), command.user_id, command.actor, context, unread=False)


def _mark_unread(
    state: Conversation | None, command: MarkUnread, context: DecisionContext
) -> tuple[Event, ...]:
    return _set_read_state(_existing(state), command.user_id, command.actor, context, unread=True)


def _set_read_state(
    state: Conversation, user_id: UserId | None, actor: Actor, context: DecisionContext, *, unread: bool
) -> tuple[Event, ...]:
    if user_id is None or context.settings.read_model is ReadModel.SHARED:
        already = state.unread is unread and not state.read_overrides
    else:
        already = state.is_unread_for(user_id) is unread
    return () if already else (_read_state_change(state, user_id, actor, context, unread=unread),)


def _read_state_change(
    state: Conversation, user_id: UserId | None, actor: Actor, context: DecisionContext, *, unread: bool
) -> MarkedRead | MarkedUnread:
    for_user = None if context.settings.read_model is ReadModel.SHARED else user_id
    event_type = MarkedUnread if unread else MarkedRead
    return event_type(state.id, actor, context.now, for_user)


def _existing(state: Conversation | None) -> Conversation:
    if state is None:  # decide() refuses this before any handler but the inbound one runs
        raise AssertionError("unreachable: decide() checks that the conversation exists")
    return state


def refuse_single_user(inbox: Inbox) -> None:
    """Assigning or unassigning in a single-user inbox (FastCore refuses it with these words too)."""
    if inbox.is_single_user:
        raise SingleUserInbox(
            f"inbox {inbox.id} is a single-user inbox: its owner {inbox.owner} is always the only "
            "participant, "
            "so nobody can be assigned or unassigned"
        )


def not_a_member(inbox: Inbox, user_id: UserId) -> NotAMember:
    """The error for assigning a user who is not in the inbox (FastCore raises it too)."""
    return NotAMember(
        f"{user_id} is not a member of inbox {inbox.id}; add them to the inbox first, "
        "or assign one of its members"
    )


_DECIDERS: dict[type[Any], Callable[[Conversation | None, Any, DecisionContext], tuple[Event, ...]]] = {
    ReceiveMessage: _receive,
    SendReply: _reply,
    Assign: _assign,
    Unassign: _unassign,
    Close: _close,
    Reopen: _reopen,
    Snooze: _snooze,
    Unsnooze: _unsnooze,
    Star: _star,
    Unstar: _unstar,
    MarkRead: _mark_read,
    MarkUnread: _mark_unread,
}


def evolve(state: Conversation | None, event: Event) -> Conversation:
    """The state after ``event``. Raises InvalidInput for an event that does not belong to ``state``."""
    apply = _EVOLVERS.get(type(event))
    if apply is not None and state is not None:  # the commonest case, with the fewest checks
        state_id, event_id = state.id, event.conversation_id
        if state_id is event_id or state_id == event_id:
            return apply(state, event)
    if apply is None and not isinstance(event, ConversationStarted):
        raise InvalidInput(f"evolve() takes an event such as Closed(...), got {type(event).__name__}")
    if isinstance(event, ConversationStarted):
        if state is not None:
            raise InvalidInput(f"conversation {state.id} has already started")
        return Conversation(
            event.conversation_id,
            event.inbox_id,
            event.contact_id,
            started_at=event.at,
            last_activity_at=event.at,
            updated_at=event.at,
            linked_from=event.linked_from,
            version=1,
            opened_at=event.at,
        )
    if state is None or state.id != event.conversation_id:
        where = "a conversation that has not started" if state is None else str(state.id)
        raise InvalidInput(f"an event of {event.conversation_id} cannot apply to {where}")
    assert apply is not None
    return apply(state, event)


def replay(events: Iterable[Event]) -> Conversation | None:
    """Rebuild a conversation from its events, oldest first."""
    return reduce(evolve, events, INITIAL_STATE)


_FIELD_NAMES = tuple(field.name for field in attrs.fields(Conversation))


def _replacer(*names: str) -> Callable[..., Conversation]:
    """A function ``(state, at, <names>)`` that returns ``state`` with the fields ``names`` changed, one
    version on, updated at ``at``: what each evolver needs, for every event.

    Generated, as attrs generates ``__init__``: one straight call of ``Conversation`` with every other field
    read from ``state``, which costs half of building a list of all the fields and placing the changes in it
    by name (attrs.evolve costs three times that).
    """
    unknown = set(names) - set(_FIELD_NAMES) | set(names) & {"version", "updated_at"}
    if unknown:
        raise AssertionError(f"not fields an evolver sets: {sorted(unknown)}")  # pragma: no cover
    values = [
        "state.version + 1"
        if name == "version"
        else "at"
        if name == "updated_at"
        else name
        if name in names
        else f"state.{name}"
        for name in _FIELD_NAMES
    ]
    source = f"def replace(state, at, {', '.join(names)}):\n    return Conversation({', '.join(values)})\n"
    namespace: dict[str, Any] = {"Conversation": Conversation}
    exec(source, namespace)
    replace: Callable[..., Conversation] = namespace["replace"]
    return replace


_SMALL_SETS: dict[frozenset[Any], frozenset[Any]] = {}
"""Each set of at most one user, made once and shared. A conversation holds three sets of users (assignees,
stars, read overrides), nearly always with at most one member, and a frozenset takes 216 bytes however small:
sharing them saves hundreds of bytes per conversation. There are as many as there are users, plus one (and
as many again for FastCore, whose sets hold the users' text)."""


def shared_small_set(users: frozenset[_Member]) -> frozenset[_Member]:
    return _SMALL_SETS.setdefault(users, users) if len(users) < 2 else users


_NOBODY: frozenset[UserId] = shared_small_set(frozenset())


_with_message_in = _replacer(
    "unread",
    "read_overrides",
    "last_inbound_at",
    "last_activity_at",
    "awaiting_reply_since",
    "awaiting_first_reply_since",
    "unanswered_outbound",
)
_with_message_out = _replacer("last_outbound_at", "last_activity_at", "unanswered_outbound")
_with_reply = _replacer(
    "last_outbound_at",
    "last_activity_at",
    "replied_this_round",
    "awaiting_first_reply_since",
    "awaiting_reply_since",
    "unanswered_outbound",
)
_with_assignees = _replacer("assignees")
_with_close = _replacer(
    "status",
    "closed_at",
    "closes",
    "replied_this_round",
    "awaiting_first_reply_since",
    "awaiting_reply_since",
)
_with_reopen = _replacer("status", "closed_at", "opened_at")
_with_snooze = _replacer("snoozed_until")
_with_stars = _replacer("starred_by")
_with_read_state = _replacer("unread", "read_overrides")
_with_read_overrides = _replacer("read_overrides")


def _received(state: Conversation, event: MessageReceived) -> Conversation:
    at = event.at
    return _with_message_in(
        state,
        at,
        unread=True,
        read_overrides=_NOBODY,
        last_inbound_at=at,
        last_activity_at=at,
        awaiting_reply_since=state.awaiting_reply_since or at,
        awaiting_first_reply_since=(
            state.awaiting_first_reply_since or (None if state.replied_this_round else at)
        ),
        unanswered_outbound=(),
    )


ANSWER_WINDOW = timedelta(hours=24)
"""How soon the contact must write back for an outbound message to count as answered (the response rate)."""


def _sent(state: Conversation, event: MessageSent) -> Conversation:
    at = event.at
    by = event.actor.user_id
    outbound = OutboundMessage(at, by)
    kept = tuple(sent for sent in state.unanswered_outbound if elapsed(at, sent.at) <= ANSWER_WINDOW)
    if by is None:  # a rule's or an integration's message answers nobody
        return _with_message_out(
            state, at, last_outbound_at=at, last_activity_at=at, unanswered_outbound=(*kept, outbound)
        )
    return _with_reply(
        state,
        at,
        last_outbound_at=at,
        last_activity_at=at,
        replied_this_round=True,
        awaiting_first_reply_since=None,
        awaiting_reply_since=None,
        unanswered_outbound=(*kept, outbound),
    )


def _assigned(state: Conversation, event: Assigned) -> Conversation:
    return _with_assignees(state, event.at, assignees=shared_small_set(state.assignees | {event.user_id}))


def _unassigned(state: Conversation, event: Unassigned) -> Conversation:
    return _with_assignees(state, event.at, assignees=shared_small_set(state.assignees - {event.user_id}))


def _closed(state: Conversation, event: Closed) -> Conversation:
    return _with_close(
        state,
        event.at,
        status=Status.CLOSED,
        closed_at=event.at,
        closes=state.closes + 1,
        replied_this_round=False,
        awaiting_first_reply_since=None,
        awaiting_reply_since=None,
    )


def _reopened(state: Conversation, event: Reopened) -> Conversation:
    return _with_reopen(state, event.at, status=Status.OPEN, closed_at=None, opened_at=event.at)


def _snoozed(state: Conversation, event: Snoozed) -> Conversation:
    return _with_snooze(state, event.at, snoozed_until=event.until)


def _unsnoozed(state: Conversation, event: Unsnoozed) -> Conversation:
    return _with_snooze(state, event.at, snoozed_until=None)


def _starred(state: Conversation, event: Starred) -> Conversation:
    return _with_stars(state, event.at, starred_by=shared_small_set(state.starred_by | {event.user_id}))


def _unstarred(state: Conversation, event: Unstarred) -> Conversation:
    return _with_stars(state, event.at, starred_by=shared_small_set(state.starred_by - {event.user_id}))


def _marked(state: Conversation, event: MarkedRead | MarkedUnread) -> Conversation:
    unread = isinstance(event, MarkedUnread)
    if event.for_user is None:
        return _with_read_state(state, event.at, unread=unread, read_overrides=_NOBODY)
    if state.unread is unread:
        overrides = shared_small_set(state.read_overrides - {event.for_user})
    else:
        overrides = shared_small_set(state.read_overrides | {event.for_user})
    return _with_read_overrides(state, event.at, read_overrides=overrides)


_EVOLVERS: dict[type[Any], Callable[[Conversation, Any], Conversation]] = {
    MessageReceived: _received,
    MessageSent: _sent,
    Assigned: _assigned,
    Unassigned: _unassigned,
    Closed: _closed,
    Reopened: _reopened,
    Snoozed: _snoozed,
    Unsnoozed: _unsnoozed,
    Starred: _starred,
    Unstarred: _unstarred,
    MarkedRead: _marked,
    MarkedUnread: _marked,
}
