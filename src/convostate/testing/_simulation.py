"""Seeded synthetic traffic through the facade: what ``convostate simulate`` runs, and what a notebook or a
benchmark drives a step at a time to watch the tabs and the figures move.

Contacts write, agents reply, assign and close, and contacts write back within the reopen window or after
it, all on a manual clock the simulation moves, so the same seed always gives the same traffic and the
same summary. Every action goes through the ``Helpdesk`` facade, as a host's would.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
import pendulum

from convostate._adapters.clocks import ManualClock
from convostate._core.errors import InvalidInput
from convostate._core.events import Reopened
from convostate._core.ids import ConversationId
from convostate._core.model import Contact, Inbox, Role, Status, User
from convostate._core.tabs import Tab
from convostate._helpdesk import Helpdesk

DAY = 86_400.0
WEEK = 7 * DAY
AGENTS = ("Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jo")
MAX_CONVERSATIONS = 1_000_000
MAX_DAYS = 3650


@attrs.define
class _Tally:
    messages_in: int = 0
    messages_out: int = 0
    assignments: int = 0
    closes: int = 0
    reopened_to_assignees: int = 0
    reopened_unassigned: int = 0
    timers_fired: int = 0


def _whole(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return value


class Simulation:
    """Seeded traffic on a new helpdesk: a queue of what happens next, by instant; the clock jumps from
    one happening to the next.

    Building one adds an admin, ``agents`` agents (Ana, Bo, Chen... at most 10) and a "Support" inbox to
    ``helpdesk``, whose clock must be ``clock``. :meth:`plan` queues the first messages of
    ``conversations`` contacts at random instants of ``days`` days from the clock's instant, and a sweep
    of due timers at the end of each day; :meth:`run_until` then plays what happens before an instant (so
    a caller can look at the badges or the figures between two steps), and :meth:`run` plans and plays it
    all. Each contact writes once; an agent picks the conversation up about an hour later (assigning it to
    themselves if nobody is), replies, and either hears back the same day (30%) or closes it; half the
    closed conversations hear from their contact again, 60% of those within a week and the rest after it.
    The same seed gives the same traffic, on any store.
    """

    def __init__(self, helpdesk: Helpdesk, clock: ManualClock, *, seed: int = 0, agents: int = 3) -> None:
        if not isinstance(helpdesk, Helpdesk):
            raise InvalidInput(f"helpdesk must be a Helpdesk, got {type(helpdesk).__name__}")
        if not isinstance(clock, ManualClock):
            raise InvalidInput(
                "clock must be the helpdesk's ManualClock (the simulation moves it), "
                f"got {type(clock).__name__}"
            )
        _whole("agents", agents, 1, len(AGENTS))
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise InvalidInput(f"seed must be a whole number, got {seed!r}")
        self.helpdesk, self.clock = helpdesk, clock
        self._chance = random.Random(seed)
        self.start: pendulum.DateTime = clock.now()
        """The instant the simulated days count from."""
        self.admin: User = helpdesk.add_user("Admin", "admin@example.com", role=Role.ADMIN)
        self.agents: tuple[User, ...] = tuple(
            helpdesk.add_user(name, f"{name.lower()}@example.com", by=self.admin.id)
            for name in AGENTS[:agents]
        )
        self.inbox: Inbox = helpdesk.add_inbox(
            "Support", members=[agent.id for agent in self.agents], by=self.admin.id
        )
        self._contacts: list[Contact] = []
        self._conversations: dict[int, ConversationId] = {}
        self._tally = _Tally()
        self._queue: list[tuple[float, int, str, int]] = []
        self._order = 0
        self._days = 0

    @property
    def end(self) -> pendulum.DateTime | None:
        """The end of the planned days (nothing happens from then on); None before :meth:`plan`."""
        return self.start.add(days=self._days) if self._days else None

    @property
    def finished(self) -> bool:
        """Whether everything planned before the end has happened (True before :meth:`plan` too)."""
        return not self._queue or self._queue[0][0] >= self._days * DAY

    @property
    def conversation_ids(self) -> tuple[ConversationId, ...]:
        """The conversations started so far, in the order of their contacts."""
        return tuple(self._conversations[index] for index in sorted(self._conversations))

    def plan(self, conversations: int, days: int) -> None:
        """Add ``conversations`` contacts and queue their first messages over ``days`` days.

        Raises:
            InvalidInput: a size out of range (1 to 1,000,000 conversations, 1 to 3,650 days), or a second
                plan for the same simulation.
        """
        _whole("conversations", conversations, 1, MAX_CONVERSATIONS)
        _whole("days", days, 1, MAX_DAYS)
        if self._days:
            raise InvalidInput("this simulation is planned already: build a new one on a new helpdesk")
        self._days = days
        end = days * DAY
        for index in range(conversations):
            self._contacts.append(self.helpdesk.add_contact(name=f"Contact {index + 1}"))
            self._later(self._chance.uniform(0, end), "write", index)
        for day in range(1, days + 1):
            self._later(day * DAY - 1, "sweep", -1)

    def run_until(self, instant: datetime, *, progress: Callable[[float], None] | None = None) -> int:
        """Play every planned happening before ``instant`` (and before the end), in order; return how many.
        ``progress`` is called after each with the simulated days gone since the start.

        Raises:
            InvalidInput: ``instant`` without a time zone.
        """
        if not isinstance(instant, datetime) or instant.tzinfo is None:
            raise InvalidInput(f"instant must be a datetime with a time zone, got {instant!r}")
        until = min((pendulum.instance(instant) - self.start).total_seconds(), self._days * DAY)
        played = 0
        while self._queue and self._queue[0][0] < until:
            seconds, _, what, contact = heapq.heappop(self._queue)
            self.clock.set(self.start.add(seconds=int(seconds)))
            if what == "write":
                self._contact_writes(seconds, contact)
            elif what == "answer":
                self._agent_answers(seconds, contact)
            else:
                self._tally.timers_fired += len(self.helpdesk.run_due().acted)
            played += 1
            if progress is not None:
                progress(seconds / DAY)
        return played

    def run(self, conversations: int, days: int, *, progress: Callable[[float], None] | None = None) -> None:
        """:meth:`plan`, then play everything up to the end."""
        self.plan(conversations, days)
        end = self.end
        assert end is not None
        self.run_until(end, progress=progress)

    def _later(self, seconds: float, what: str, contact: int) -> None:
        self._order += 1
        heapq.heappush(self._queue, (seconds, self._order, what, contact))

    def _contact_writes(self, now: float, contact: int) -> None:
        outcome = self.helpdesk.receive(self._contacts[contact].id, self.inbox.id, "Hello, about my order")
        self._conversations[contact] = outcome.conversation.id
        self._tally.messages_in += 1
        if any(isinstance(event, Reopened) for event in outcome.events):
            if outcome.conversation.assignees:
                self._tally.reopened_to_assignees += 1
            else:
                self._tally.reopened_unassigned += 1
        self._later(now + 60 + self._chance.expovariate(1 / 3600), "answer", contact)

    def _agent_answers(self, now: float, contact: int) -> None:
        conversation = self.helpdesk.conversation(self._conversations[contact])
        if conversation.status is Status.CLOSED:
            return
        assigned = sorted(conversation.assignees, key=lambda user_id: user_id.value)
        if assigned:
            agent = assigned[0]
        else:
            agent = self._chance.choice(self.agents).id
            self.helpdesk.assign(conversation.id, agent, by=agent)
            self._tally.assignments += 1
        self.helpdesk.reply(conversation.id, "Thanks, looking into it", by=agent)
        self._tally.messages_out += 1
        if self._chance.random() < 0.3:  # the contact answers the reply, the same day
            self._later(now + 60 + self._chance.expovariate(1 / (3 * 3600)), "write", contact)
            return
        self.helpdesk.close(conversation.id, by=agent)
        self._tally.closes += 1
        if self._chance.random() < 0.5:  # and writes back after the close: within the week, or after it
            within = self._chance.random() < 0.6
            delay = (
                self._chance.uniform(3600, WEEK - 3600)
                if within
                else self._chance.uniform(WEEK + 3600, 2 * WEEK)
            )
            self._later(now + delay, "write", contact)

    def summary(self) -> dict[str, Any]:
        """What happened so far, as JSON-ready data: conversations, messages, assignments, closes, reopens
        (within the window, back to their assignees; after it, to Unassigned), timers fired, the tabs'
        counts (the first agent's for the shared tabs, each agent's Assigned to You) and the clock."""
        statuses = [self.helpdesk.conversation(cid).status for cid in self._conversations.values()]
        badges = {agent.name: self.helpdesk.badges(agent.id) for agent in self.agents}
        first = badges[self.agents[0].name]
        tabs: dict[str, Any] = {
            tab.value: {"total": first[tab].total, "unread": first[tab].unread}
            for tab in (Tab.UNASSIGNED, Tab.ALL_OPEN, Tab.CLOSED)
        }
        tabs[Tab.ASSIGNED_TO_YOU.value] = {
            name: {"total": counts[Tab.ASSIGNED_TO_YOU].total, "unread": counts[Tab.ASSIGNED_TO_YOU].unread}
            for name, counts in badges.items()
        }
        tally = self._tally
        return {
            "conversations": {
                "started": len(statuses),
                "open": statuses.count(Status.OPEN),
                "closed": statuses.count(Status.CLOSED),
            },
            "messages": {"in": tally.messages_in, "out": tally.messages_out},
            "assignments": tally.assignments,
            "closes": tally.closes,
            "reopens": {
                "total": tally.reopened_to_assignees + tally.reopened_unassigned,
                "within_window": tally.reopened_to_assignees,
                "after_window": tally.reopened_unassigned,
            },
            "timers_fired": tally.timers_fired,
            "tabs": tabs,
            "ended_at": self.clock.now().to_iso8601_string(),
        }
