"""``simulate``: a seeded day or month of synthetic traffic, to see the rules and a store at work at a
scale no hand-written story reaches, and to load a database for a demo or a benchmark.

Contacts write, agents reply, assign and close, and contacts write back within the reopen window or after
it, all on a manual clock the simulation moves, so the same seed always gives the same traffic and the
same summary. Every action goes through the ``Helpdesk`` facade, as a host's would.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from typing import Any, TextIO

import attrs
import pendulum

from convostate import Contact, ConversationId, Helpdesk, Reopened, Role, Status, Tab, User
from convostate._cli.output import CommandFailed, emit
from convostate.testing import ManualClock, SequentialIds

START = pendulum.datetime(2026, 3, 2, 8, 0, tz="UTC")
"""A fixed start, so a seed gives the same instants (and reopen windows) on every machine."""
DAY = 86_400.0
WEEK = 7 * DAY
AGENTS = ("Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jo")


@attrs.define
class Tally:
    messages_in: int = 0
    messages_out: int = 0
    assignments: int = 0
    closes: int = 0
    reopened_to_assignees: int = 0
    reopened_unassigned: int = 0
    timers_fired: int = 0


def register(commands: Any, parent: argparse.ArgumentParser) -> None:
    simulate = commands.add_parser(
        "simulate", parents=[parent], help="run seeded synthetic traffic and summarize it"
    )
    simulate.add_argument("--conversations", type=int, default=100, metavar="N", help="default: %(default)s")
    simulate.add_argument("--days", type=int, default=1, metavar="D", help="default: %(default)s")
    simulate.add_argument("--seed", type=int, default=0, metavar="S", help="default: %(default)s")
    simulate.add_argument("--agents", type=int, default=3, help=f"1 to {len(AGENTS)} (default: %(default)s)")
    simulate.add_argument(
        "--db", metavar="URL", help="a database URL to fill (a new one); default: the memory store"
    )
    simulate.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    for name, value, low, high in (
        ("--conversations", arguments.conversations, 1, 1_000_000),
        ("--days", arguments.days, 1, 3650),
        ("--agents", arguments.agents, 1, len(AGENTS)),
    ):
        if not low <= value <= high:
            raise CommandFailed(f"{name} must be from {low:,} to {high:,}, got {value:,}", code=2)
    clock = ManualClock(START)
    ids = SequentialIds()
    helpdesk = (
        Helpdesk.open(arguments.db, clock=clock, ids=ids) if arguments.db else Helpdesk(clock=clock, ids=ids)
    )
    with helpdesk:
        if helpdesk.store.users():
            raise CommandFailed("the database already holds a helpdesk: simulate into a new one")
        simulation = Simulation(helpdesk, clock, random.Random(arguments.seed), arguments.agents)
        simulation.run(arguments.conversations, arguments.days, Progress(sys.stderr, arguments.days))
        summary = simulation.summary()
    emit(arguments, summary, table(summary))
    return 0


class Simulation:
    """A queue of what happens next, by instant: the clock jumps from one happening to the next."""

    def __init__(self, helpdesk: Helpdesk, clock: ManualClock, chance: random.Random, agents: int) -> None:
        self.helpdesk, self.clock, self.chance = helpdesk, clock, chance
        admin = helpdesk.add_user("Admin", "admin@example.com", role=Role.ADMIN)
        self.agents: list[User] = [
            helpdesk.add_user(name, f"{name.lower()}@example.com", by=admin.id) for name in AGENTS[:agents]
        ]
        self.inbox = helpdesk.add_inbox("Support", members=[agent.id for agent in self.agents], by=admin.id)
        self.contacts: list[Contact] = []
        self.conversations: dict[int, ConversationId] = {}
        self.tally = Tally()
        self._queue: list[tuple[float, int, str, int]] = []
        self._order = 0

    def _later(self, seconds: float, what: str, contact: int) -> None:
        self._order += 1
        heapq.heappush(self._queue, (seconds, self._order, what, contact))

    def run(self, conversations: int, days: int, progress: Progress) -> None:
        end = days * DAY
        for index in range(conversations):
            self.contacts.append(self.helpdesk.add_contact(name=f"Contact {index + 1}"))
            self._later(self.chance.uniform(0, end), "write", index)
        for day in range(1, days + 1):
            self._later(day * DAY - 1, "sweep", -1)
        while self._queue and self._queue[0][0] < end:
            seconds, _, what, contact = heapq.heappop(self._queue)
            self.clock.set(START.add(seconds=int(seconds)))
            progress.show(seconds / DAY)
            if what == "write":
                self._contact_writes(seconds, contact)
            elif what == "answer":
                self._agent_answers(seconds, contact)
            else:
                self.tally.timers_fired += len(self.helpdesk.run_due().acted)
        progress.done()

    def _contact_writes(self, now: float, contact: int) -> None:
        outcome = self.helpdesk.receive(self.contacts[contact].id, self.inbox.id, "Hello, about my order")
        self.conversations[contact] = outcome.conversation.id
        self.tally.messages_in += 1
        if any(isinstance(event, Reopened) for event in outcome.events):
            if outcome.conversation.assignees:
                self.tally.reopened_to_assignees += 1
            else:
                self.tally.reopened_unassigned += 1
        self._later(now + 60 + self.chance.expovariate(1 / 3600), "answer", contact)

    def _agent_answers(self, now: float, contact: int) -> None:
        conversation = self.helpdesk.conversation(self.conversations[contact])
        if conversation.status is Status.CLOSED:
            return
        assigned = sorted(conversation.assignees, key=lambda user_id: user_id.value)
        if assigned:
            agent = assigned[0]
        else:
            agent = self.chance.choice(self.agents).id
            self.helpdesk.assign(conversation.id, agent, by=agent)
            self.tally.assignments += 1
        self.helpdesk.reply(conversation.id, "Thanks, looking into it", by=agent)
        self.tally.messages_out += 1
        if self.chance.random() < 0.3:  # the contact answers the reply, the same day
            self._later(now + 60 + self.chance.expovariate(1 / (3 * 3600)), "write", contact)
            return
        self.helpdesk.close(conversation.id, by=agent)
        self.tally.closes += 1
        if self.chance.random() < 0.5:  # and writes back after the close: within the week, or after it
            within = self.chance.random() < 0.6
            delay = (
                self.chance.uniform(3600, WEEK - 3600)
                if within
                else self.chance.uniform(WEEK + 3600, 2 * WEEK)
            )
            self._later(now + delay, "write", contact)

    def summary(self) -> dict[str, Any]:
        statuses = [self.helpdesk.conversation(cid).status for cid in self.conversations.values()]
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
        tally = self.tally
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


def table(summary: dict[str, Any]) -> str:
    """The summary as two columns, for a person at a terminal."""
    conversations, messages, reopens, tabs = (
        summary["conversations"],
        summary["messages"],
        summary["reopens"],
        summary["tabs"],
    )

    def count(entry: dict[str, int]) -> tuple[int, str]:
        return entry["total"], f"{entry['unread']} unread" if entry["unread"] else ""

    rows: list[tuple[str, tuple[int, str]]] = [
        ("conversations", (conversations["started"], "")),
        ("  open", (conversations["open"], "")),
        ("  closed", (conversations["closed"], "")),
        ("messages in", (messages["in"], "")),
        ("messages out", (messages["out"], "")),
        ("assignments", (summary["assignments"], "")),
        ("closes", (summary["closes"], "")),
        ("reopens", (reopens["total"], "")),
        ("  within the window", (reopens["within_window"], "back to their assignees")),
        ("  after the window", (reopens["after_window"], "to Unassigned")),
        ("timers fired", (summary["timers_fired"], "")),
        ("tab unassigned", count(tabs["unassigned"])),
        ("tab all open", count(tabs["all_open"])),
        ("tab closed", count(tabs["closed"])),
    ]
    rows += [(f"tab assigned to {name}", count(entry)) for name, entry in tabs["assigned_to_you"].items()]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {number:>8,}  {note}".rstrip() for name, (number, note) in rows)


class Progress:
    """A one-line bar on stderr, redrawn with ``\\r``, only when a person is watching (a TTY): a log file
    or a pipe gets nothing from it."""

    WIDTH = 30

    def __init__(self, stream: TextIO, days: int) -> None:
        self.stream, self.days = stream, days
        self.visible = stream.isatty()
        self._shown = -1

    def show(self, day: float) -> None:
        percent = min(100, int(100 * day / self.days))
        if not self.visible or percent == self._shown:
            return
        self._shown = percent
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(
            f"\rsimulating [{bar}] {percent:3}%  day {min(int(day) + 1, self.days)} of {self.days}"
        )
        self.stream.flush()

    def done(self) -> None:
        if self.visible and self._shown >= 0:
            self.stream.write("\r" + " " * (self.WIDTH + 40) + "\r")
            self.stream.flush()
