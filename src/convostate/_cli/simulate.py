"""``simulate``: a seeded day or month of synthetic traffic, to see the rules and a store at work at a
scale no hand-written story reaches, and to load a database for a demo or a benchmark.

The traffic is ``convostate.testing.Simulation``'s (a notebook can drive it a step at a time); this module
reads the arguments, opens the store, draws the progress bar and prints the summary.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import pendulum

from convostate import Helpdesk
from convostate._cli.output import CommandFailed, emit
from convostate.testing import ManualClock, SequentialIds, Simulation
from convostate.testing._simulation import AGENTS, MAX_CONVERSATIONS, MAX_DAYS

START = pendulum.datetime(2026, 3, 2, 8, 0, tz="UTC")
"""A fixed start, so a seed gives the same instants (and reopen windows) on every machine."""


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
        ("--conversations", arguments.conversations, 1, MAX_CONVERSATIONS),
        ("--days", arguments.days, 1, MAX_DAYS),
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
        simulation = Simulation(helpdesk, clock, seed=arguments.seed, agents=arguments.agents)
        progress = Progress(sys.stderr, arguments.days)
        simulation.run(arguments.conversations, arguments.days, progress=progress.show)
        progress.done()
        summary = simulation.summary()
    emit(arguments, summary, table(summary))
    return 0


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
