"""What one change adds to the analytics: facts, each a count or a measured duration, for the contact, the
inbox and the users it concerns.

:func:`observe` is the one place that says what counts: a store only adds facts up (counters per contact,
and per inbox and user by day; durations as samples per contact and as histogram buckets per day), so every
figure follows each change in the same commit, never a scan. Applied to a conversation's whole log it gives
what a store should hold, which is how the property tests check the stores.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

import pendulum

from convostate._core.business_hours import BusinessHours, business_time_between
from convostate._core.decider import ANSWER_WINDOW, evolve
from convostate._core.errors import InvalidInput
from convostate._core.events import (
    Closed,
    ConversationStarted,
    Event,
    MessageReceived,
    MessageSent,
    Reopened,
    ReopenReason,
)
from convostate._core.ids import UserId
from convostate._core.instants import UTC_EPOCH, elapsed
from convostate._core.model import Conversation

__all__ = ["ANSWER_WINDOW", "Count", "Fact", "Metric", "Scope", "local_day", "observe"]


class Count(enum.Enum):
    """Things counted, per contact and per inbox and user by day."""

    CONVERSATIONS = "conversations"
    """Conversations started (by the inbound message that started them)."""
    MESSAGES_IN = "messages_in"
    MESSAGES_OUT = "messages_out"
    CLOSED = "closed"
    REOPENED_TO_ASSIGNEES = "reopened_to_assignees"
    """Reopened by a rule with someone still assigned: back to them (within the window, by default); in a
    single-user inbox, back to its owner."""
    REOPENED_TO_UNASSIGNED = "reopened_to_unassigned"
    """Reopened by a rule with nobody assigned: to Unassigned (after the window, by default, or when
    nobody was assigned when it closed)."""
    REOPENED_BY_USER = "reopened_by_user"
    OUTBOUND_ANSWERED = "outbound_answered"
    """Outbound messages the contact wrote back to within 24 hours (counted on the outbound's day)."""


class Metric(enum.Enum):
    """Durations measured, each from one instant to a later one of the same conversation."""

    FIRST_RESPONSE = "first_response"
    """From a conversation's first inbound message to the first reply by a user."""
    REOPEN_FIRST_RESPONSE = "reopen_first_response"
    """The same for each later round: from the inbound message that reopened it (the first since it
    closed) to the first reply by a user since it closed."""
    REPLY = "reply"
    """From the oldest inbound message no user has answered to the reply that answers it."""
    RESOLUTION = "resolution"
    """From its start, or its last reopen, to its close."""
    FIRST_RESPONSE_BUSINESS = "first_response_business"
    """The same durations in business time: the working time between the same two instants, on the
    inbox's business hours, else the account's (measured only where there are some)."""
    REOPEN_FIRST_RESPONSE_BUSINESS = "reopen_first_response_business"
    REPLY_BUSINESS = "reply_business"
    RESOLUTION_BUSINESS = "resolution_business"

    @property
    def in_business_time(self) -> Metric:
        """The business-time twin of a calendar-time metric."""
        return _BUSINESS[self]


_BUSINESS: Final = {
    Metric.FIRST_RESPONSE: Metric.FIRST_RESPONSE_BUSINESS,
    Metric.REOPEN_FIRST_RESPONSE: Metric.REOPEN_FIRST_RESPONSE_BUSINESS,
    Metric.REPLY: Metric.REPLY_BUSINESS,
    Metric.RESOLUTION: Metric.RESOLUTION_BUSINESS,
}


class Scope(enum.Enum):
    CONTACT = "contact"
    INBOX = "inbox"
    USER = "user"


class Fact(NamedTuple):
    """One count (``value`` 1) or one measured duration (``value`` in microseconds) for one scope, dated
    by ``at`` and by ``day``, the account's local date of ``at``."""

    scope: Scope
    scope_id: str
    kind: Count | Metric
    value: int
    at: pendulum.DateTime
    day: date
    conversation_id: str


_new: Final = tuple.__new__
"""Facts are made in C, as the named tuple's own ``__new__`` would in Python: some are made per action."""
_CONTACT, _INBOX, _USER = Scope.CONTACT, Scope.INBOX, Scope.USER

_EPOCH_ORDINAL: Final = UTC_EPOCH.date().toordinal()
_SLOT_SECONDS: Final = 900
"""Every UTC offset in use is a multiple of 15 minutes, so the local date is the same for a whole UTC
quarter hour: it is worked out once per quarter hour (a quarter hour that does straddle a local midnight,
as 1970s Monrovia's -0:44:30 can, is never cached)."""


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The account's calendar date at ``at``: what a report's day is."""
    since = elapsed(at, UTC_EPOCH)
    slot = (since.days * 86_400 + since.seconds) // _SLOT_SECONDS
    days = _DAYS.get(zone)
    if days is None:
        days = _DAYS.setdefault(zone, {})
    day = days.get(slot)
    if day is None:
        # The same instant as a standard library datetime: its astimezone is C, where pendulum's copies the
        # instant into one, converts, and copies the result back into a pendulum DateTime, in Python.
        day = _exact_day(UTC_EPOCH + since, zone)
        start = UTC_EPOCH + timedelta(seconds=slot * _SLOT_SECONDS)
        if _exact_day(start, zone) == _exact_day(start + timedelta(seconds=_SLOT_SECONDS - 1), zone):
            if len(days) > 500_000:
                days.clear()
            days[slot] = day
    return day


def _exact_day(at: datetime, zone: ZoneInfo) -> date:
    local = at.astimezone(zone)  # the instance's own method: pendulum's is what converts pendulum's
    return date(local.year, local.month, local.day)


_DAYS: dict[ZoneInfo, dict[int, date]] = {}


def _micros(elapsed: timedelta) -> int:
    return (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds


class _Facts:
    """Collects the facts of one conversation's change."""

    def __init__(
        self, conversation: str, contact: str, inbox: str, zone: ZoneInfo, calendar: BusinessHours | None
    ) -> None:
        self.facts: list[Fact] = []
        self._conversation = conversation
        self._contact = contact
        self._inbox = inbox
        self._zone = zone
        self._calendar = calendar
        self._last_at: datetime | None = None
        self._last_day = UTC_EPOCH.date()

    def measure(
        self, metric: Metric, start: pendulum.DateTime, at: pendulum.DateTime, users: Iterable[str]
    ) -> None:
        """A duration from ``start`` to ``at``, in calendar time and, with a calendar, in business time."""
        self.add(metric, _micros(elapsed(at, start)), at, users)
        if self._calendar is not None:
            worked = business_time_between(self._calendar, start, at)
            self.add(metric.in_business_time, _micros(worked), at, users)

    def add(self, kind: Count | Metric, value: int, at: pendulum.DateTime, users: Iterable[str] = ()) -> None:
        if at is self._last_at:  # an event's facts share its instant
            day = self._last_day
        else:
            day = self._last_day = local_day(at, self._zone)
            self._last_at = at
        conversation, append = self._conversation, self.facts.append
        append(_new(Fact, (_CONTACT, self._contact, kind, value, at, day, conversation)))
        append(_new(Fact, (_INBOX, self._inbox, kind, value, at, day, conversation)))
        for user in users:
            append(_new(Fact, (_USER, user, kind, value, at, day, conversation)))


_COUNTED: Final = frozenset({ConversationStarted, MessageReceived, MessageSent, Closed, Reopened})
"""The events that make facts; the others (assignments, stars, read state, snoozes) make none."""


def observe(
    before: Conversation | None,
    events: Sequence[Event],
    time_zone: str,
    *,
    owner: UserId | None = None,
    calendar: BusinessHours | None = None,
) -> tuple[Fact, ...]:
    """The facts of ``events`` applied to ``before`` (None for a new conversation), dated in ``time_zone``.

    ``owner`` is the owner of a single-user inbox (``Inbox.owner``): the participant of each of its
    conversations, who closes and reopens count for as assignees do in other inboxes. ``calendar`` is the
    business hours durations are also measured on (the inbox's, else the account's; None: none).

    Each event is judged on the state just before it, which ``evolve`` keeps the measuring instants in
    (``awaiting_reply_since`` and the rest), so this costs the events, not the conversation's history; a
    change of one event costs no ``evolve`` at all.
    """
    last = len(events) - 1  # the last event that makes facts: from the end, without a generator
    while last >= 0 and type(events[last]) not in _COUNTED:
        last -= 1
    if last < 0:
        return ()
    owners = () if owner is None else (owner.value,)
    state = before
    collected: _Facts | None = None
    for index in range(last + 1):
        event = events[index]
        if type(event) in _COUNTED:
            if collected is None:
                collected = _collector(state, event, _zone(time_zone), calendar)
            _observe(state, event, collected, owners)
        if index < last:
            state = evolve(state, event)
    assert collected is not None
    return tuple(collected.facts)


def _collector(
    state: Conversation | None, event: Event, zone: ZoneInfo, calendar: BusinessHours | None
) -> _Facts:
    if state is not None:
        return _Facts(state.id.value, state.contact_id.value, state.inbox_id.value, zone, calendar)
    if not isinstance(event, ConversationStarted):
        raise InvalidInput(f"a new conversation starts with ConversationStarted, not {type(event).__name__}")
    return _Facts(event.conversation_id.value, event.contact_id.value, event.inbox_id.value, zone, calendar)


def _observe(before: Conversation | None, event: Event, facts: _Facts, owners: tuple[str, ...]) -> None:
    at = event.at
    if isinstance(event, ConversationStarted):
        facts.add(Count.CONVERSATIONS, 1, at)
        return
    if before is None:
        raise InvalidInput(
            f"an event of {event.conversation_id} cannot apply to a conversation that has not started"
        )
    if isinstance(event, MessageReceived):
        facts.add(Count.MESSAGES_IN, 1, at)
        for sent in before.unanswered_outbound:
            if elapsed(at, sent.at) <= ANSWER_WINDOW:
                facts.add(Count.OUTBOUND_ANSWERED, 1, sent.at, () if sent.by is None else (sent.by.value,))
    elif isinstance(event, MessageSent):
        by = event.actor.user_id
        users = () if by is None else (by.value,)
        facts.add(Count.MESSAGES_OUT, 1, at, users)
        if by is not None:
            if before.awaiting_first_reply_since is not None:
                metric = Metric.FIRST_RESPONSE if before.closes == 0 else Metric.REOPEN_FIRST_RESPONSE
                facts.measure(metric, before.awaiting_first_reply_since, at, users)
            if before.awaiting_reply_since is not None:
                facts.measure(Metric.REPLY, before.awaiting_reply_since, at, users)
    elif isinstance(event, Closed):
        assignees = sorted(user.value for user in event.assignees) or owners
        facts.add(Count.CLOSED, 1, at, assignees)
        opened_at = before.opened_at or before.started_at
        facts.measure(Metric.RESOLUTION, opened_at, at, assignees)
    elif isinstance(event, Reopened):
        if event.reason is ReopenReason.BY_USER:
            by = event.actor.user_id
            facts.add(Count.REOPENED_BY_USER, 1, at, () if by is None else (by.value,))
        elif before.assignees or owners:  # a reopen leaves the assignees as they are
            returned_to = sorted(user.value for user in before.assignees) or owners
            facts.add(Count.REOPENED_TO_ASSIGNEES, 1, at, returned_to)
        else:
            facts.add(Count.REOPENED_TO_UNASSIGNED, 1, at)


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES.setdefault(name, ZoneInfo(name))
    return zone
