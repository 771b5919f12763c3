"""Contact info and a 30-day report as the account grows: ``python benchmarks/analytics.py``.

One account (an admin, 19 agents, ten inboxes) grows to each size in turn (10k, 100k, 1M conversations by
default), each conversation with a contact of its own, started over a year, living a short life decided by
the pure core: the contact writes, it may be assigned, answered, written to again, closed, and written to
once more within or after the reopen window. Support receives the same traffic at every size (the first
7,300 conversations: twenty a day), the other nine inboxes share the rest, so the busiest of them goes
from a few conversations a day to some 300. One contact, Maria, has a long history (two conversations of
twenty rounds each) that is the same at every size. Conversations are written through the store's real
``commit``, a thousand to a change set, with the tab changes and the analytics facts the facade would
compute, so the projections are exactly what the facade keeps.

Timed through the facade at each size: ``contact_info`` for Maria (as an agent), and a 30-day ``report`` (as
the admin) for Support, whose month is the same at every size (what must not depend on how many
conversations exist), and for the busiest other inbox, whose month grows with the account (what a report
costs when its own traffic grows: at most the histogram's buckets per day). Each is the median CPU time of
many calls; the ratio of the largest size to the smallest is what must stay flat. ``--store sqlite`` (a
file) or ``--store postgres`` (with ``CONVOSTATE_POSTGRES_URL``) runs the same on the SQL store, where the
conversations beyond Support's are loaded in bulk (``World._grow_in_bulk``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import pendulum

from convostate import (
    Actor,
    Contact,
    ContactId,
    Conversation,
    ConversationId,
    Event,
    Helpdesk,
    Inbox,
    MessageId,
    Role,
    Store,
)
from convostate.analytics import observe
from convostate.core import Assign, Close, DecisionContext, ReceiveMessage, SendReply, tab_changes
from convostate.ports import ChangeSet, ConversationChange
from convostate.rules import DEFAULT_RULES, handle
from convostate.testing import ManualClock

START: Final = pendulum.datetime(2025, 12, 1, tz="UTC")
SPAN_MINUTES: Final = 365 * 24 * 60
SIZES: Final = (10_000, 100_000, 1_000_000)
SUPPORT_CONVERSATIONS: Final = 7_300
"""Support's conversations: twenty a day for a year, at every size."""
BATCH: Final = 1_000
RESULTS: Final = Path(__file__).parent / "results"


class World:
    """The account, grown a size at a time."""

    def __init__(self, store: Store, seed: int, *, bulk: bool = False) -> None:
        self.bulk = bulk
        self.clock = ManualClock(START.add(days=366))
        self.desk = Helpdesk(store=store, clock=self.clock)
        self.admin = self.desk.add_user("Admin", "admin@example.com", role=Role.ADMIN).id
        agents = [
            self.desk.add_user(f"Agent {n}", f"agent{n}@example.com", by=self.admin).id for n in range(19)
        ]
        self.support = self.desk.add_inbox("Support", members=agents[:10], by=self.admin)
        self.others = [
            self.desk.add_inbox(f"Sales {n}", members=agents[10:], by=self.admin) for n in range(1, 10)
        ]
        self.agent = agents[0]
        self.settings = self.desk.settings()
        self.rng = random.Random(seed)
        self.size = 0
        self.maria = self.desk.add_contact(name="Maria", phone="+15555550100").id
        self._write(
            [self._life(f"maria-{inbox.id.value}", self.maria, inbox, rounds=20) for inbox in self.inboxes]
        )

    @property
    def inboxes(self) -> tuple[Inbox, Inbox]:
        return (self.support, self.others[0])

    def _inbox_of(self, n: int) -> tuple[Inbox, int]:
        """Conversation ``n``'s inbox and its start minute: Support's spread evenly over the year."""
        if n < SUPPORT_CONVERSATIONS:
            per_day = SUPPORT_CONVERSATIONS // 365
            return self.support, (n // per_day) * 24 * 60 + self.rng.randrange(24 * 60)
        return self.rng.choice(self.others), self.rng.randrange(SPAN_MINUTES - 24 * 60)

    def grow(self, to: int) -> None:
        if to <= self.size:
            return
        if self.bulk and self.size >= SUPPORT_CONVERSATIONS:
            self._grow_in_bulk(to)
            return
        contacts: list[Contact] = []
        changes: list[ConversationChange] = []
        for n in range(self.size, to):
            contact = Contact(ContactId(f"contact-{n}"), f"Contact {n}", f"+1{2_000_000_000 + n}")
            contacts.append(contact)
            inbox, minute = self._inbox_of(n)
            changes.append(self._life(f"conversation-{n}", contact.id, inbox, rounds=1, minute=minute))
            if len(changes) == BATCH:
                self.desk.store.commit(ChangeSet(tuple(changes), contacts=tuple(contacts)))
                contacts, changes = [], []
        if changes:
            self.desk.store.commit(ChangeSet(tuple(changes), contacts=tuple(contacts)))
        self.size = to

    def _grow_in_bulk(self, to: int) -> None:
        """The other inboxes' conversations on a SQL store, ten thousand at a time: their contacts, their
        states and the analytics rows the store's commit writes for them (its own ``FactSums`` and upserts,
        one statement per table per batch). Their events and tab rows are left out: no measured read
        touches them, and a commit per conversation would take an hour at 1M on this machine."""
        from convostate._adapters.sql.analytics import AnalyticsWrites, FactSums  # noqa: PLC0415
        from convostate._adapters.sql.values import encode  # noqa: PLC0415

        store: Any = self.desk.store
        tables, account = store.tables, store.account
        writes = AnalyticsWrites(tables, account)
        for first in range(self.size, to, 10_000):
            sums, contacts, states = FactSums(), [], []
            for n in range(first, min(first + 10_000, to)):
                contact = Contact(ContactId(f"contact-{n}"), f"Contact {n}", f"+1{2_000_000_000 + n}")
                inbox, minute = self._inbox_of(n)
                change = self._life(f"conversation-{n}", contact.id, inbox, rounds=1, minute=minute)
                sums.start(change.state)
                sums.add(change.facts)
                contacts.append(
                    {
                        "account": account,
                        "id": contact.id.value,
                        "payload": encode(contact),
                        "phone": contact.phone,
                        "email_key": None,
                    }
                )
                states.append(
                    {
                        "account": account,
                        "id": change.state.id.value,
                        "version": change.state.version,
                        "payload": encode(change.state),
                    }
                )
            with store.engine.begin() as connection:
                connection.execute(tables.contacts.insert(), contacts)
                connection.execute(tables.conversations.insert(), states)
                writes.write(connection, sums)
        self.size = to

    def _write(self, changes: list[ConversationChange]) -> None:
        self.desk.store.commit(ChangeSet(tuple(changes)))

    def _life(
        self, name: str, contact: ContactId, inbox: Inbox, *, rounds: int, minute: int | None = None
    ) -> ConversationChange:
        """A conversation's whole life, decided by the core with the default rules, as one change."""
        rng, cid = self.rng, ConversationId(name)
        agent = rng.choice(sorted(inbox.members, key=lambda user: user.value))
        if minute is None:
            minute = rng.randrange(SPAN_MINUTES - 60 * 24 * 11 * rounds)
        at = START.add(minutes=minute)
        state: Conversation | None = None
        events: list[Event] = []
        count = 0

        def run(command: Any, minutes: float) -> None:
            nonlocal state, at
            at = at.add(seconds=round(minutes * 60))
            handled = handle(state, command, DecisionContext(at, self.settings, inbox=inbox), DEFAULT_RULES)
            state = handled.state
            events.extend(handled.events)

        def inbound(minutes: float) -> None:
            nonlocal count
            count += 1
            run(ReceiveMessage(cid, inbox.id, contact, MessageId(f"{name}-{count}"), "Hello"), minutes)

        def reply(minutes: float) -> None:
            nonlocal count
            count += 1
            run(SendReply(cid, MessageId(f"{name}-{count}"), "Hi", Actor.user(agent)), minutes)

        inbound(0)
        for round_ in range(rounds):
            if round_ and rng.random() < 0.9:
                inbound(rng.choice((60 * 24 * 3, 60 * 24 * 10)))  # within the week, or after it
            if rng.random() < 0.7:
                run(Assign(cid, agent, Actor.user(agent)), 1)
            if rng.random() < 0.8:
                reply(rng.expovariate(1 / 90))
                if rng.random() < 0.4:
                    inbound(rng.expovariate(1 / 30))
                    reply(rng.expovariate(1 / 20))
            if rng.random() < 0.6:
                run(Close(cid, Actor.user(agent)), rng.expovariate(1 / 120))
        assert state is not None
        return ConversationChange(
            state,
            tuple(events),
            0,
            (),
            tab_changes(None, state, inbox),
            observe(None, events, self.settings.timezone, owner=inbox.owner),
        )


def timed(action: Callable[[], object], seconds: float = 2.0) -> tuple[float, int]:
    """The median CPU milliseconds of this thread in ``action`` over about ``seconds`` of calls, after a
    warm-up call: CPU time, so that other processes on the machine do not count."""
    action()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 20:
        started = time.thread_time_ns()
        action()
        samples.append((time.thread_time_ns() - started) / 1e6)
    return round(statistics.median(samples), 4), len(samples)


def measure(world: World) -> dict[str, Any]:
    desk = world.desk
    last = (START.add(days=330)).date()
    first = last - timedelta(days=29)
    info = desk.contact_info(world.maria, by=world.agent)
    figures: dict[str, Any] = {
        "maria": {
            "conversations": info.figures.conversations,
            "messages_in": info.figures.messages_in,
            "reply_count": info.figures.reply.count,
        }
    }
    figures["contact_info_ms"], figures["contact_info_calls"] = timed(
        lambda: desk.contact_info(world.maria, by=world.agent)
    )
    for name, inbox in (("support", world.support), ("busiest", world.others[0])):
        report = desk.report(by=world.admin, inbox_id=inbox.id, first_day=first, last_day=last)
        assert report.total.messages_in == sum(row.figures.messages_in for row in report.rows)
        figures[f"{name}_month"] = {
            "conversations": report.total.conversations,
            "durations": sum(
                stats.count
                for stats in (report.total.first_response, report.total.reply, report.total.resolution)
            ),
        }
        figures[f"report_{name}_ms"], figures[f"report_{name}_calls"] = timed(
            lambda inbox=inbox: desk.report(by=world.admin, inbox_id=inbox.id, first_day=first, last_day=last)
        )
    return figures


def store_for(kind: str, directory: Path) -> Store:
    if kind == "memory":
        from convostate import MemoryStore  # noqa: PLC0415

        return MemoryStore()
    from convostate.sql import SqlStore  # noqa: PLC0415

    if kind == "sqlite":
        return SqlStore.open(f"sqlite:///{directory / 'analytics.db'}")
    url = os.environ.get("CONVOSTATE_POSTGRES_URL")
    if not url:
        sys.exit("set CONVOSTATE_POSTGRES_URL to run against PostgreSQL")
    return SqlStore.open(url, account=f"bench-{os.getpid()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("memory", "sqlite", "postgres"), default="memory")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--seed", type=int, default=20_261_130)
    parser.add_argument("--output", type=Path, default=None)
    arguments = parser.parse_args()
    sizes = sorted(int(size) for size in arguments.sizes.split(","))
    results: dict[str, Any] = {"store": arguments.store, "python": sys.version.split()[0], "sizes": {}}
    with tempfile.TemporaryDirectory() as directory:
        world = World(
            store_for(arguments.store, Path(directory)), arguments.seed, bulk=arguments.store != "memory"
        )
        for size in sizes:
            started = time.perf_counter()
            world.grow(min(size, SUPPORT_CONVERSATIONS))  # Support's year, through the real commit
            world.grow(size)
            loaded = time.perf_counter() - started
            # The loaded conversations out of the collector's way, as a long-running host's old objects
            # are: the timings are the queries', not a collection that a load happened to leave due.
            gc.collect()
            gc.freeze()
            figures = measure(world)
            figures["load_seconds"] = round(loaded, 1)
            results["sizes"][size] = figures
            support, busiest = figures["support_month"], figures["busiest_month"]
            print(
                f"{size:>9,} conversations (+{loaded:.0f} s to load): contact info "
                f"{figures['contact_info_ms']:.3f} ms; 30-day report: Support "
                f"{figures['report_support_ms']:.2f} ms ({support['conversations']} conversations), "
                f"busiest inbox {figures['report_busiest_ms']:.2f} ms ({busiest['conversations']})",
                flush=True,
            )
    smallest, largest = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
    for key in ("contact_info_ms", "report_support_ms", "report_busiest_ms"):
        ratio = largest[key] / smallest[key]
        results[f"{key}_ratio"] = round(ratio, 2)
        at_largest, at_smallest = (
            f"{largest[key]:.3f} ms at {sizes[-1]:,}",
            f"{smallest[key]:.3f} ms at {sizes[0]:,}",
        )
        print(f"{key}: {at_largest} / {at_smallest} = {ratio:.2f}")
    output = arguments.output or RESULTS / f"analytics-{arguments.store}-latest.json"
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
