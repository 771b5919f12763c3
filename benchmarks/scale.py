"""Tabs and badges as the account grows: ``python benchmarks/scale.py --max 1000000``.

One account (an admin, 19 agents in two multi-user inboxes) grows to each size in turn (10k, 100k, 1M
conversations by default), one contact per conversation. Conversations are loaded in bulk, bypassing the
facade's per-action checks: each one's short life (the contact writes; maybe assigned, replied to,
starred, read, closed) is decided and evolved by the pure core and written with one ``Store.commit`` of
its whole change (tab changes, timers and analytics facts as the facade works them out), so the memory
store's tab index and projections are what the facade would keep. The queries then go
through the facade: ``Helpdesk.tab(user, tab, limit=25)`` (first page, and the page after it) and
``Helpdesk.badges(user)``, for an agent who sees one inbox and for the admin who sees both.

Each query's time is the median over many timed batches; the ratio of the largest size to the smallest is
what must stay flat. Memory per conversation is the growth of the process's resident set size (RSS,
from /proc/self/statm) while the conversations are loaded, after the contacts are, divided by their number;
``--trace`` adds a tracemalloc breakdown of where a conversation's bytes go, on a separate 10k build.

A quarter of the conversations that stay open are snoozed for up to 30 days, and the store keeps the timer
that the default rules derive for each (the facade does the same on every write), so ``Helpdesk.due(now)`` is
timed at the instant when exactly 1,000, and then 10,000, timers are due: its cost must follow the number
due, not the number of conversations.

Every query is a function in ``MEASUREMENTS`` that takes the grown world and returns the named calls to time.
"""

from __future__ import annotations

import argparse
import gc
import json
import linecache
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from engines import EPOCH, REPLY_BODY, Account, StreamClock
from run import RESULTS, environment
from stream import DAY_US, directory

from convostate import (
    Actor,
    Contact,
    ContactId,
    ConversationId,
    Event,
    Helpdesk,
    Inbox,
    MessageId,
    Tab,
    UserId,
)
from convostate.core import (
    Assign,
    Close,
    DecisionContext,
    MarkRead,
    ReceiveMessage,
    SendReply,
    Snooze,
    Star,
    decide,
    evolve,
    tab_changes,
)
from convostate.ports import ChangeSet, ConversationChange
from convostate.rules import DEFAULT_RULES, timers
from convostate.testing import SequentialIds

try:  # the analytics facts, where this version has them (to compare with one that has not)
    from convostate.analytics import observe

    def _facts(state: Any, events: list[Event], timezone: str) -> tuple[Any, ...]:
        return (observe(None, events, timezone),)

except ImportError:  # pragma: no cover

    def _facts(state: Any, events: list[Event], timezone: str) -> tuple[Any, ...]:
        return ()


SIZES: Final = (10_000, 100_000, 1_000_000)
SPAN_US: Final = 90 * DAY_US
"""The conversations started over 90 days."""
SNOOZE_US: Final = 30 * DAY_US
"""A snoozed conversation sleeps for up to 30 days."""
PAGE: Final = 25
PAGE_SIZE_BYTES: Final = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """The resident set size of this process, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE_BYTES


@dataclass
class World:
    """One account and its conversations, grown a size at a time; ``tally`` is what the tabs must show."""

    helpdesk: Helpdesk
    users: list[UserId]
    inboxes: list[Inbox]
    inbox_of: tuple[int, ...]
    rng: random.Random
    size: int = 0
    timers: int = 0
    """How many conversations have a timer (a snooze that the default rules will end)."""
    tally: Counter[str] = field(default_factory=Counter)

    @property
    def admin(self) -> UserId:
        return self.users[0]

    @property
    def agent(self) -> UserId:
        """An agent in the first inbox only."""
        return self.users[1]


def new_world(capacity: int, seed: int) -> World:
    # The directory has its own generator, so the first 10k conversations are the same whatever --max is.
    account = directory(capacity, 20, 2, random.Random(seed))
    helpdesk = Helpdesk(clock=StreamClock(EPOCH), ids=SequentialIds())
    # No contacts yet (they are added per size, so their memory is measured apart from the conversations').
    made = Account(helpdesk, account, contacts=False)
    return World(helpdesk, made.users, made.inboxes, account.inbox_of, random.Random(seed + 1))


def add_contacts(world: World, to: int) -> None:
    store = world.helpdesk.store
    for first in range(world.size, to, 1_000):
        batch = range(first, min(first + 1_000, to))
        contacts = tuple(
            Contact(ContactId(f"contact-{n}"), f"Contact {n}", f"+1{2_000_000_000 + n}") for n in batch
        )
        store.commit(ChangeSet(contacts=contacts))


def life(rng: random.Random, members: Sequence[UserId]) -> list[tuple[str, UserId, object]]:
    """What happens to a conversation after the contact's first message, drawn from ``rng``: each step is
    (what, the agent who acts, detail): assigned (detail: whom; sometimes a second agent), replied to or
    read, starred, then closed or snoozed (detail: for how many microseconds after it started).
    ``fast_scale.py`` draws the same lives."""
    steps: list[tuple[str, UserId, object]] = []
    agent = rng.choice(members)
    if rng.random() < 0.7:
        steps.append(("assign", agent, agent))
        if rng.random() < 0.2:
            steps.append(("assign", agent, rng.choice(members)))
    if rng.random() < 0.5:
        steps.append(("reply", agent, None))
    elif rng.random() < 0.3:
        steps.append(("read", agent, None))
    if rng.random() < 0.1:
        steps.append(("star", agent, None))
    if rng.random() < 0.3:
        steps.append(("close", agent, None))
    elif rng.random() < 0.25:
        steps.append(("snooze", agent, rng.randrange(DAY_US // 24, SNOOZE_US)))
    return steps


def add_conversations(world: World, to: int) -> None:
    """Conversations ``world.size`` to ``to``: decided and evolved by the core, one append each."""
    store, rng, settings = world.helpdesk.store, world.rng, world.helpdesk.settings()
    for n in range(world.size, to):
        inbox = world.inboxes[world.inbox_of[n]]
        members = sorted(inbox.members, key=lambda user: user.value)
        cid = ConversationId(f"conversation-{n}")
        started = EPOCH.add(microseconds=rng.randrange(SPAN_US))
        commands: list[Any] = [
            ReceiveMessage(cid, inbox.id, ContactId(f"contact-{n}"), MessageId(f"message-{n}-0"), "Hi")
        ]
        for what, agent, detail in life(rng, members):
            actor = Actor.user(agent)
            if what == "assign":
                commands.append(Assign(cid, detail, actor))  # type: ignore[arg-type]
            elif what == "reply":
                commands.append(SendReply(cid, MessageId(f"message-{n}-1"), REPLY_BODY, actor))
            elif what == "read":
                commands.append(MarkRead(cid, agent, actor))
            elif what == "star":
                commands.append(Star(cid, agent, actor))
            elif what == "close":
                commands.append(Close(cid, actor))
            else:  # the default rules' time rule wakes it: the store keeps its timer, and due(now) finds it
                commands.append(Snooze(cid, started.add(microseconds=detail), actor))  # type: ignore[arg-type]
        state = None
        events: list[Event] = []
        for minutes, command in enumerate(commands):
            context = DecisionContext(started.add(minutes=minutes), settings, inbox=inbox)
            decided = decide(state, command, context)
            for event in decided:
                state = evolve(state, event)
            events.extend(decided)
        assert state is not None
        change = ConversationChange(
            state,
            tuple(events),
            0,
            timers(state, DEFAULT_RULES, context),
            tab_changes(None, state, inbox),
            *_facts(state, events, settings.timezone),
        )
        store.commit(ChangeSet((change,)))
        world.timers += 1 if state.snoozed_until is not None else 0
        world.tally["open" if state.is_open else "closed"] += 1
        if state.is_open and not state.assignees:
            world.tally["unassigned"] += 1
        if state.is_open and world.agent in state.assignees:
            world.tally["agent assigned"] += 1
    world.size = to


# ------------------------------------------------------------------------------------------ the queries

Calls = dict[str, Callable[[], object]]


def tab_pages(world: World) -> Calls:
    """The first page of every tab, and the page after it in All open, for the agent and the admin."""
    helpdesk, calls = world.helpdesk, {}
    for who, user in (("agent", world.agent), ("admin", world.admin)):
        for tab in Tab:
            calls[f"tab {tab.value} ({who})"] = _first_page(helpdesk, user, tab)
        cursor = helpdesk.tab(user, Tab.ALL_OPEN, limit=PAGE).next_cursor
        calls[f"tab all_open page 2 ({who})"] = _next_page(helpdesk, user, cursor)
    _check_pages(world)
    return calls


def _first_page(helpdesk: Helpdesk, user: UserId, tab: Tab) -> Callable[[], object]:
    return lambda: helpdesk.tab(user, tab, limit=PAGE)


def _next_page(helpdesk: Helpdesk, user: UserId, cursor: str | None) -> Callable[[], object]:
    return lambda: helpdesk.tab(user, Tab.ALL_OPEN, cursor=cursor, limit=PAGE)


def _check_pages(world: World) -> None:
    page = world.helpdesk.tab(world.admin, Tab.CLOSED, limit=PAGE).conversations
    activity = [conversation.last_activity_at for conversation in page]
    if len(page) != min(PAGE, world.tally["closed"]) or activity != sorted(activity, reverse=True):
        raise SystemExit(f"the admin's Closed tab is wrong at {world.size} conversations: {page}")


def badges(world: World) -> Calls:
    """Badges for the agent and the admin; the admin's counts must be the world's tally."""
    helpdesk = world.helpdesk
    seen = helpdesk.badges(world.admin)
    expected = {
        "closed": world.tally["closed"],
        "all_open": world.tally["open"],
        "unassigned": world.tally["unassigned"],
    }
    found = {
        "closed": seen.closed.total,
        "all_open": seen.all_open.total,
        "unassigned": seen.unassigned.total,
    }
    agent = helpdesk.badges(world.agent).assigned_to_you.total
    if found != expected or agent != world.tally["agent assigned"]:
        raise SystemExit(f"badges disagree with the tally at {world.size}: {found} {agent} vs {world.tally}")
    return {
        "badges (agent)": lambda: helpdesk.badges(world.agent),
        "badges (admin)": lambda: helpdesk.badges(world.admin),
    }


DUE_COUNTS: Final = (1_000, 10_000)
"""``due(now)`` at an instant when this many timers are due, where the world has that many."""


def due_timers(world: World) -> Calls:
    """``Helpdesk.due(now, limit=n)`` at the instant the ``n``-th oldest timer falls due, so exactly ``n``
    of the snoozed conversations' timers are due: a sweep's work, whatever the account's size."""
    helpdesk, calls = world.helpdesk, {}
    far = EPOCH.add(years=10)
    for count in DUE_COUNTS:
        if world.timers < count:
            continue
        now = helpdesk.due(far, limit=count)[-1].due_at
        found = helpdesk.due(now, limit=count + 1)
        if len(found) != count or any(timer.due_at > now for timer in found):
            raise SystemExit(f"due({now}) found {len(found)} timers at {world.size}, not {count}")
        calls[f"due(now), {count:,} due"] = _due(helpdesk, now, count)
    return calls


def _due(helpdesk: Helpdesk, now: Any, count: int) -> Callable[[], object]:
    return lambda: helpdesk.due(now, limit=count)


MEASUREMENTS: list[Callable[[World], Calls]] = [tab_pages, badges, due_timers]
"""Every query to time: each takes the grown world and returns named calls."""


def per_call(call: Callable[[], object], batches: int, batch_seconds: float = 0.002) -> float:
    """The median time of one call, in seconds, over ``batches`` timed batches of calls."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < batch_seconds or count < 1:
        call()
        count += 1
    samples = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(count):
            call()
        samples.append((time.perf_counter() - start) / count)
    return statistics.median(samples)


# ------------------------------------------------------------------------------------------ memory detail


def traced_breakdown(size: int, seed: int, top: int = 15) -> dict[str, Any]:
    """Bytes per conversation by tracemalloc on a fresh ``size`` build, by the line of convostate (or else
    the innermost line) that allocated them."""
    world = new_world(size, seed)
    add_contacts(world, size)
    gc.collect()
    tracemalloc.start(16)
    try:
        add_conversations(world, size)
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    by_line: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    code: dict[str, str] = {}
    for stat in snapshot.statistics("traceback"):
        frames = list(stat.traceback)  # oldest first
        inside = [frame for frame in frames if f"{os.sep}convostate{os.sep}" in frame.filename]
        frame = (inside or frames)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        by_line[where] += stat.size
        blocks[where] += stat.count
        code[where] = linecache.getline(frame.filename, frame.lineno).strip()
    lines = [
        {
            "where": where,
            "code": code[where],
            "bytes_per_conversation": size_ / size,
            "blocks_per_conversation": blocks[where] / size,
        }
        for where, size_ in by_line.most_common(top)
    ]
    return {"size": size, "bytes_per_conversation": sum(by_line.values()) / size, "top": lines}


# ------------------------------------------------------------------------------------------ the run


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=SIZES[-1], help="the largest size (default 1,000,000)")
    parser.add_argument(
        "--sizes", default=",".join(str(size) for size in SIZES), help="comma-separated sizes to grow through"
    )
    parser.add_argument("--batches", type=int, default=51, help="timed batches per query (median)")
    parser.add_argument("--seed", type=int, default=20_260_105)
    parser.add_argument("--trace", action="store_true", help="add a tracemalloc breakdown of a 10k build")
    parser.add_argument("--output", type=Path, default=RESULTS / "scale-latest.json")
    args = parser.parse_args(argv)
    args.sizes = sorted(size for size in (int(text) for text in args.sizes.split(",")) if size <= args.max)
    if not args.sizes:
        parser.error("no size at or below --max")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    env = environment()
    print(
        f"Python {env['python']} on {env['cpu']} ({env['cores']} cores); GC enabled, thresholds "
        f"{tuple(env['gc_threshold'])}; convostate {env['convostate']} ({env['git']})"
    )
    world = new_world(args.sizes[-1], args.seed)
    sizes: list[dict[str, Any]] = []
    for size in args.sizes:
        grown = size - world.size
        gc.collect()
        base = rss()
        start = time.perf_counter()
        add_contacts(world, size)
        gc.collect()
        contacts_rss, contacts_seconds = rss(), time.perf_counter() - start
        start = time.perf_counter()
        add_conversations(world, size)
        gc.collect()
        seconds, after = time.perf_counter() - start, rss()
        print(
            f"{size:>9,} conversations: grew by {grown:,} in {seconds:.1f} s "
            f"({seconds / grown * 1e6:.0f} µs each, contacts {contacts_seconds:.1f} s); "
            f"RSS {after / 2**20:,.0f} MiB; tally {dict(world.tally)}; timers {world.timers:,}",
            flush=True,
        )
        queries: dict[str, float] = {}
        for measurement in MEASUREMENTS:
            for name, call in measurement(world).items():
                queries[name] = per_call(call, args.batches)
        sizes.append(
            {
                "conversations": size,
                "build_seconds": seconds,
                "build_us_per_conversation": seconds / grown * 1e6,
                "rss_bytes": after,
                "rss_per_conversation_bytes": (after - contacts_rss) / grown,
                "rss_per_contact_bytes": (contacts_rss - base) / grown,
                "tally": dict(world.tally),
                "timers": world.timers,
                "queries_us": {name: value * 1e6 for name, value in queries.items()},
            }
        )
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "environment": env,
        "memory_method": (
            "RSS growth (/proc/self/statm) while the conversations of each size step were added, "
            "after their contacts, divided by their number"
        ),
        "sizes": sizes,
    }
    if args.trace:
        report["tracemalloc_10k"] = traced_breakdown(10_000, args.seed)
    print()
    print(render(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")


def render(report: dict[str, Any]) -> str:
    sizes = report["sizes"]
    smallest, largest = sizes[0], sizes[-1]
    ratio_name = f"{_short(largest['conversations'])}/{_short(smallest['conversations'])}"
    head = " | ".join(_short(size["conversations"]) for size in sizes)
    lines = [
        f"| query (µs per call, median) | {head} | {ratio_name} |",
        "| --- | " + "---: | " * len(sizes) + "---: |",
    ]
    names = list(dict.fromkeys(name for size in sizes for name in size["queries_us"]))
    for name in names:
        values = [size["queries_us"].get(name) for size in sizes]
        cells = " | ".join("-" if value is None else f"{value:.1f}" for value in values)
        ratio = "-" if values[0] is None or values[-1] is None else f"{values[-1] / values[0]:.2f}"
        lines.append(f"| {name} | {cells} | {ratio} |")
    lines += [
        "",
        "| conversations | build (s) | build µs/conv | RSS (MiB) | RSS growth per conversation "
        "| per contact |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        lines.append(
            f"| {size['conversations']:,} | {size['build_seconds']:.1f} | "
            f"{size['build_us_per_conversation']:.0f} | {size['rss_bytes'] / 2**20:,.0f} | "
            f"{size['rss_per_conversation_bytes'] / 1024:.2f} KiB | {size['rss_per_contact_bytes']:.0f} B |"
        )
    largest = sizes[-1]
    per_conversation = largest["rss_per_conversation_bytes"] / 1024
    verdict = "met" if per_conversation <= 1 else f"MISSED by {per_conversation:.1f}x"
    lines += [
        "",
        f"memory per conversation at {largest['conversations']:,}: {per_conversation:.2f} KiB, "
        f"target <= 1 KiB ({verdict})",
    ]
    traced = report.get("tracemalloc_10k")
    if traced:
        lines += [
            "",
            f"tracemalloc, 10k conversations: {traced['bytes_per_conversation'] / 1024:.2f} KiB "
            "per conversation",
            "",
            "| allocated at | code | bytes/conv | blocks/conv |",
            "| --- | --- | ---: | ---: |",
        ]
        for line in traced["top"]:
            code = line["code"][:70].replace("|", "\\|")
            lines.append(
                f"| {line['where']} | `{code}` | {line['bytes_per_conversation']:.0f} | "
                f"{line['blocks_per_conversation']:.1f} |"
            )
    return "\n".join(lines)


def _short(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 and size % 1_000_000 == 0 else f"{size // 1000}k"


if __name__ == "__main__":
    main()
