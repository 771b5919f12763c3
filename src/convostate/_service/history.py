"""Readable summaries of events, for activity logs, so a host can answer "why did this reopen unassigned?"."""

from __future__ import annotations

from collections.abc import Callable

from convostate._core.actors import Actor, ActorKind
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
    Snoozed,
    Starred,
    Unassigned,
    Unsnoozed,
    Unstarred,
)
from convostate._core.ids import RuleId


def _quote(body: str, limit: int = 60) -> str:
    return repr(body if len(body) <= limit else body[: limit - 1] + "…")


def summarize(
    event: Event,
    timezone: str = "UTC",
    name: Callable[[object], str] = str,
    because: Callable[[RuleId], str] = lambda _: "",
) -> str:
    """One line for an activity log. ``name`` turns a user or contact id into what a person calls it;
    ``because`` gives the reason of the rule that caused an event, so the log says why."""
    line = _summary(event, timezone, name)
    if event.actor.kind is ActorKind.RULE:
        assert isinstance(event.actor.id, RuleId)
        reason = because(event.actor.id)
        if reason:
            line += f" ({reason[:1].lower()}{reason[1:].rstrip('.')})"
    if event.clock_read is not None:
        read = event.clock_read.in_timezone(timezone).format("YYYY-MM-DD HH:mm:ss zz")
        line += (
            f" [the clock read {read}, before the conversation's last event: stamped at that event's time]"
        )
    return line


def _summary(event: Event, timezone: str, name: Callable[[object], str]) -> str:
    who = _who(event.actor, name)
    match event:
        case ConversationStarted():
            return f"{who} started the conversation in inbox {event.inbox_id}"
        case MessageReceived():
            return f"{who} wrote {_quote(event.message.body)}"
        case MessageSent():
            return f"{who} replied {_quote(event.message.body)}"
        case Assigned():
            skipped = ", ".join(f"{name(user)}: {availability.value}" for user, availability in event.skipped)
            return f"{who} assigned {name(event.user_id)}" + (f" (skipped {skipped})" if skipped else "")
        case Unassigned():
            because = f": {event.because.value}" if event.because is not None else ""
            return f"{who} unassigned {name(event.user_id)}{because}"
        case Closed():
            assigned = ", ".join(sorted(name(user) for user in event.assignees)) or "nobody"
            return f"{who} closed it (assigned: {assigned})"
        case Reopened():
            return f"{who} reopened it"
        case Snoozed():
            return f"{who} snoozed it until {event.until.in_timezone(timezone).format('YYYY-MM-DD HH:mm zz')}"
        case Unsnoozed():
            return f"{who} ended its snooze"
        case Starred() | Unstarred():
            verb = "starred" if isinstance(event, Starred) else "unstarred"
            for_whom = "" if event.actor.id == event.user_id else f" for {name(event.user_id)}"
            return f"{who} {verb} it{for_whom}"
        case MarkedRead() | MarkedUnread():
            state = "read" if isinstance(event, MarkedRead) else "unread"
            scope = "everyone" if event.for_user is None else name(event.for_user)
            return f"{who} marked it {state} for {scope}"
    raise AssertionError(f"no summary for {type(event).__name__}")  # pragma: no cover


def _who(actor: Actor, name: Callable[[object], str]) -> str:
    return f"rule {actor.id}" if actor.kind is ActorKind.RULE else name(actor.id)
