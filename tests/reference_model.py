"""A small, obviously correct model of one conversation, for the property tests to check the decider against.

It shares no code with convostate's rules: plain mutable sets and dicts, and the reopen window computed with
the standard library's zoneinfo rather than pendulum. A wall time that happens twice (fall back) resolves to
the later instant; one that a spring-forward skips moves forward by the gap (the documented behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from convostate import CalendarDuration

UTC = timezone.utc


def window_end(closed_at: datetime, tz_name: str, window: CalendarDuration) -> datetime:
    assert window.years == 0, "the reference model only knows weeks and shorter"
    assert window.months == 0, "the reference model only knows weeks and shorter"
    zone = ZoneInfo(tz_name)
    utc = closed_at.astimezone(UTC)
    instant = datetime(*utc.utctimetuple()[:6], utc.microsecond, tzinfo=UTC)  # a plain datetime, no pendulum
    wall = instant.astimezone(zone).replace(tzinfo=None)
    wall += timedelta(weeks=window.weeks, days=window.days)
    moved = _on_wall_clock(wall, zone)
    return moved.astimezone(UTC) + timedelta(
        hours=window.hours, minutes=window.minutes, seconds=window.seconds
    )


def _on_wall_clock(wall: datetime, zone: ZoneInfo) -> datetime:
    earlier, later = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    exists = earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    return later if exists else earlier


class Refused(Exception):
    """The reference says the command is refused; ``kind`` names the error the real one must raise."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class ReferenceMetrics:
    """docs/analytics.md's definitions, followed literally over one conversation's history: lists of
    instants, no state machine of fields."""

    started_at: datetime | None = None
    inbound: list[datetime] = field(default_factory=list)
    outbound: list[datetime] = field(default_factory=list)
    closes: list[datetime] = field(default_factory=list)
    reopens: dict[str, int] = field(default_factory=dict)
    opened_at: datetime | None = None
    round_inbound: list[datetime] = field(default_factory=list)
    """Inbound messages since it started or last closed."""
    round_replies: int = 0
    """User replies since it started or last closed."""
    unanswered: list[datetime] = field(default_factory=list)
    """Inbound messages since the last user reply or close."""
    first_responses: list[int] = field(default_factory=list)
    reopen_first_responses: list[int] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    resolutions: list[int] = field(default_factory=list)
    answered: int = 0
    outbound_since_inbound: list[datetime] = field(default_factory=list)

    def contact_wrote(self, now: datetime) -> None:
        if self.started_at is None:
            self.started_at = self.opened_at = now
        self.answered += sum(1 for sent in self.outbound_since_inbound if now - sent <= timedelta(hours=24))
        self.outbound_since_inbound = []
        self.inbound.append(now)
        self.round_inbound.append(now)
        self.unanswered.append(now)

    def user_replied(self, now: datetime) -> None:
        self.outbound.append(now)
        self.outbound_since_inbound.append(now)
        if self.round_replies == 0 and self.round_inbound:
            measured = _micros(now - self.round_inbound[0])
            (self.reopen_first_responses if self.closes else self.first_responses).append(measured)
        if self.unanswered:
            self.replies.append(_micros(now - self.unanswered[0]))
        self.round_replies += 1
        self.unanswered = []

    def closed(self, now: datetime) -> None:
        assert self.opened_at is not None
        self.closes.append(now)
        self.resolutions.append(_micros(now - self.opened_at))
        self.round_inbound, self.round_replies, self.unanswered = [], 0, []

    def reopened(self, how: str, now: datetime) -> None:
        self.reopens[how] = self.reopens.get(how, 0) + 1
        self.opened_at = now


def _micros(elapsed: timedelta) -> int:
    return (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds


@dataclass
class ReferenceConversation:
    users: tuple[str, ...]
    members: frozenset[str]
    single_user: bool
    shared_reads: bool
    tz_name: str
    window: CalendarDuration
    skips_unavailable: bool = True
    """The account's ``reopen_skips_unavailable``: within the window, only the available assignees stay."""
    open: bool = True
    assignees: set[str] = field(default_factory=set)
    stars: set[str] = field(default_factory=set)
    unread: dict[str, bool] = field(default_factory=dict)
    closed_at: datetime | None = None
    last_activity: datetime | None = None
    metrics: ReferenceMetrics = field(default_factory=ReferenceMetrics)

    def receive(self, now: datetime, unavailable: frozenset[str] = frozenset()) -> None:
        """``unavailable``: the users away or offline when the contact writes."""
        self.last_activity = now
        self.unread = dict.fromkeys(self.users, True)
        self.metrics.contact_wrote(now)
        if not self.open:
            assert self.closed_at is not None
            if now >= window_end(self.closed_at, self.tz_name, self.window):
                self.assignees.clear()
            elif self.skips_unavailable:
                self.assignees -= unavailable
            self.open, self.closed_at = True, None
            returned = bool(self.assignees) or self.single_user
            self.metrics.reopened("to_assignees" if returned else "to_unassigned", now)

    def reply(self, user: str | None, now: datetime | None = None) -> None:
        self.last_activity = now or self.last_activity
        if user is not None:
            self.mark(user, unread=False)
            if now is not None:  # the decider's machine does not follow the analytics
                self.metrics.user_replied(now)

    def assign(self, user: str) -> None:
        if self.single_user:
            raise Refused("SingleUserInbox")
        if user not in self.members:
            raise Refused("NotAMember")
        self.assignees.add(user)

    def unassign(self, user: str) -> None:
        if self.single_user:
            raise Refused("SingleUserInbox")
        self.assignees.discard(user)

    def close(self, now: datetime) -> None:
        if self.open:
            self.open, self.closed_at = False, now
            self.metrics.closed(now)

    def reopen(self, now: datetime | None = None) -> None:
        if not self.open and now is not None:
            self.metrics.reopened("by_user", now)
        self.open, self.closed_at = True, None

    def star(self, user: str) -> None:
        self.stars.add(user)

    def unstar(self, user: str) -> None:
        self.stars.discard(user)

    def mark(self, user: str, *, unread: bool) -> None:
        if self.shared_reads:
            self.unread = dict.fromkeys(self.users, unread)
        else:
            self.unread[user] = unread

    def participants(self) -> set[str]:
        return set(self.members) if self.single_user else set(self.assignees)

    def tabs(self, user: str) -> set[str]:
        tabs = set()
        if self.open:
            tabs.add("all_open")
            if user in self.participants():
                tabs.add("assigned_to_you")
            if not self.participants():
                tabs.add("unassigned")
        else:
            tabs.add("closed")
        if user in self.stars:
            tabs.add("starred")
        return tabs
