"""The SQL store's speed: ``python benchmarks/sql.py [--postgres URL]`` (``pip install -e '.[postgres]'``).

1. Durable commands/s through the facade (each action one committed transaction): SQLite file in WAL with
   ``synchronous=NORMAL`` and ``FULL``, PostgreSQL with 1 and 4 processes; each against a raw-SQL floor on
   the same database in the same run: one transaction doing only the conditional ``UPDATE`` of a
   conversation's row (a state of the same size) and the ``INSERT`` of one event, through the bare driver.
2. A tab page (the first, and one deep behind a cursor) and the badges at 10k, 100k (and ``--max 1000000``)
   conversations in one inbox, loaded in bulk with the rows the store's own commit writes.
3. ``due(now)`` and a claimed sweep (``claim_due``) of 1,000 due timers among the same conversations.
4. The query plan of each view query (``EXPLAIN QUERY PLAN`` / ``EXPLAIN``), to show the indexes used.

It prints Markdown and writes ``benchmarks/results/sql-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pendulum
import sqlalchemy as sa

from convostate import Helpdesk, InboxId, Role, Tab, UserId
from convostate._adapters.sql.commit import tab_row
from convostate._adapters.sql.values import encode, micros
from convostate.core import tab_changes
from convostate.ports import Position
from convostate.sql import SqlStore, upgrade
from convostate.testing import ManualClock

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
RESULTS = Path(__file__).parent / "results"


# ---------------------------------------------------------------- 1. durable commands/s


def _desk(store: SqlStore, conversations: int, tag: str) -> tuple[Helpdesk, list[Any], UserId]:
    helpdesk = Helpdesk(store=store, clock=ManualClock(START))
    admin = helpdesk.add_user("Alex Morgan", f"alex-{tag}@example.com", role=Role.ADMIN).id
    support = helpdesk.add_inbox("Support", members=[admin], by=admin).id
    hot = []
    for n in range(conversations):
        contact = helpdesk.add_contact(name=f"Contact {n}").id
        hot.append((helpdesk.receive(contact, support, "Hi").conversation.id, contact, support))
    return helpdesk, hot, admin


def _commands(helpdesk: Helpdesk, hot: list[Any], admin: UserId, count: int) -> None:
    """A helpdesk's everyday mix, round-robin over the conversations: message, read, reply, star, unstar."""
    clock = helpdesk.clock
    assert isinstance(clock, ManualClock)
    for n in range(count):
        conversation, contact, inbox = hot[n % len(hot)]
        kind = (n // len(hot)) % 5
        clock.advance(seconds=1)
        if kind == 0:
            helpdesk.receive(contact, inbox, "Any news?")
        elif kind == 1:
            helpdesk.mark_read(conversation, by=admin)
        elif kind == 2:
            helpdesk.reply(conversation, "On it", by=admin)
        elif kind == 3:
            helpdesk.star(conversation, by=admin)
        else:
            helpdesk.unstar(conversation, by=admin)


def facade_worker(url: str, account: str, synchronous: str, commands: int, start_at: float) -> float:
    """In a process of its own: set up an account, wait for ``start_at``, run the commands; the seconds."""
    store = SqlStore.open(url, account=account, synchronous=synchronous, create=False)
    helpdesk, hot, admin = _desk(store, 50, account)
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    _commands(helpdesk, hot, admin, commands)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def floor_worker(url: str, account: str, synchronous: str, commands: int, start_at: float) -> float:
    """The floor: per command one transaction with the conditional UPDATE and one event INSERT, through the
    bare driver, on the same tables, rows of the same size."""
    store = SqlStore.open(url, account=account, synchronous=synchronous, create=False)
    _, hot, _ = _desk(store, 50, account)
    state = store.conversation(hot[0][0])
    assert state is not None
    payload, event = encode(state), encode(store.events(hot[0][0])[-1])
    conversations, events = store.tables.conversations.name, store.tables.events.name
    versions = {conversation.value: 2 for conversation, _, _ in hot}
    sqlite = url.startswith("sqlite")
    mark = "?" if sqlite else "%s"
    update = (
        f"UPDATE {conversations} SET version = {mark}, payload = {mark} "
        f"WHERE account = {mark} AND id = {mark} AND version = {mark}"
    )
    columns = "(account, conversation_id, version, payload)"
    insert = f"INSERT INTO {events} {columns} VALUES ({mark}, {mark}, {mark}, {mark})"
    raw: Any = store.engine.raw_connection()
    driver = raw.driver_connection
    if sqlite:
        driver.isolation_level = None
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    cursor = driver.cursor()
    for n in range(commands):
        conversation = hot[n % len(hot)][0].value
        version = versions[conversation]
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(update, (version + 1, payload, account, conversation, version))
        assert cursor.rowcount == 1
        cursor.execute(insert, (account, conversation, version + 1, event))
        driver.commit() if not sqlite else cursor.execute("COMMIT")
        versions[conversation] = version + 1
    elapsed = time.perf_counter() - started
    raw.close()
    store.close()
    return elapsed


def throughput(
    worker: Callable[..., float], url: str, synchronous: str, processes: int, commands: int, tag: str
) -> float:
    """Commands per second over ``processes`` processes, each on an account of its own, started at once."""
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0 + processes
    with context.Pool(processes) as pool:
        jobs = [
            (url, f"bench-{tag}-{os.getpid()}-{time.time_ns()}-{n}", synchronous, commands, start_at)
            for n in range(processes)
        ]
        elapsed = pool.starmap(worker, jobs)
    return processes * commands / max(elapsed)


# ---------------------------------------------------------------- 2. and 3. views and timers at scale


def bulk_load(store: SqlStore, size: int, due_now: int) -> tuple[UserId, InboxId, pendulum.DateTime]:
    """``size`` conversations in one inbox, written as the store's commit writes them (state, tab rows,
    counters, one timer each), ``due_now`` of the timers due at ``now``; in batches, by executemany."""
    helpdesk = Helpdesk(store=store, clock=ManualClock(START))
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    support = helpdesk.add_inbox("Support", members=[admin], by=admin)
    contact = helpdesk.add_contact(name="Template").id
    template = helpdesk.receive(contact, support.id, "Hi").conversation
    helpdesk.assign(template.id, admin, by=admin)
    template = helpdesk.conversation(template.id)
    t, account = store.tables, store.account
    now = START.add(days=30)
    counters: dict[tuple[str, str, str], list[int]] = {}
    batch = 20_000
    with store.engine.begin() as connection:
        k = t.tab_counters.c
        for row in connection.execute(sa.select(t.tab_counters).where(k.account == account)):
            counters[(row.inbox_id, row.tab, row.owner)] = [row.total, row.unread]
        connection.execute(sa.delete(t.tab_counters).where(k.account == account))
        for first in range(0, size, batch):
            states, rows, timers = [], [], []
            for n in range(first, min(size, first + batch)):
                conversation = attrs.evolve(
                    template,
                    id=type(template.id)(f"c{n:08d}"),
                    contact_id=type(contact)(f"k{n:08d}"),
                    last_activity_at=START.add(seconds=n % 86_400 * 7, microseconds=n),
                )
                states.append(
                    {
                        "account": account,
                        "id": conversation.id.value,
                        "version": 3,
                        "payload": encode(conversation),
                    }
                )
                changes = tab_changes(None, conversation, support)
                for key, place in changes.added:
                    rows.append(tab_row(account, key, place))
                    counters.setdefault(key, [0, 0])[0] += 1
                for key, count in changes.unread:
                    counters.setdefault(key, [0, 0])[1] += count
                due = now if n % max(1, size // due_now) == 0 else now.add(days=1 + n % 30)
                timers.append(
                    {
                        "account": account,
                        "conversation_id": conversation.id.value,
                        "rule_id": "remind",
                        "due_at": micros(due),
                        "claimed_until": None,
                    }
                )
            connection.execute(t.conversations.insert(), states)
            connection.execute(t.tab_rows.insert(), rows)
            connection.execute(t.timers.insert(), timers)
        connection.execute(
            t.tab_counters.insert(),
            [
                {
                    "account": account,
                    "inbox_id": k[0],
                    "tab": k[1],
                    "owner": k[2],
                    "total": v[0],
                    "unread": v[1],
                }
                for k, v in counters.items()
            ],
        )
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as connection:
            for table in t.metadata.sorted_tables:
                connection.exec_driver_sql(f"ANALYZE {table.name}")
    return admin, support.id, now


def timed(action: Callable[[], object], repeat: int = 50) -> float:
    """The median milliseconds of ``action``, after one warm-up call."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def views_at(store: SqlStore, size: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    admin, inbox, now = bulk_load(store, size, 1000)
    deep = store.tab_page(Tab.ALL_OPEN, admin, [inbox], after=None, limit=size // 2 + 1)[-1]
    cursor = Position.of(deep)
    figures = {
        "tab page (first 25)": timed(
            lambda: store.tab_page(Tab.ALL_OPEN, admin, [inbox], after=None, limit=25)
        ),
        "tab page (25, half-way down)": timed(
            lambda: store.tab_page(Tab.ALL_OPEN, admin, [inbox], after=cursor, limit=25)
        ),
        "badges (tab_counts)": timed(lambda: store.tab_counts(admin, [inbox])),
        "due(now), 1,000 due": timed(lambda: store.due(now, limit=1000), repeat=10),
    }
    started = time.perf_counter()
    claimed = store.claim_due(now, limit=1000, until=now.add(minutes=5))
    figures["claim_due sweep of 1,000 due"] = (time.perf_counter() - started) * 1000
    assert len(claimed) == 1000, len(claimed)
    return figures, plans(store, admin, inbox, now)


# ---------------------------------------------------------------- 4. query plans


def plans(store: SqlStore, admin: UserId, inbox: InboxId, now: pendulum.DateTime) -> dict[str, list[str]]:
    """The plan of each statement a view call sends, caught as it goes to the driver, so the plans are
    those of exactly what the store runs, with its parameters."""
    deep = store.tab_page(Tab.ALL_OPEN, admin, [inbox], after=None, limit=100)[-1]
    calls: dict[str, Callable[[], object]] = {
        "tab page (first)": lambda: store.tab_page(Tab.ALL_OPEN, admin, [inbox], after=None, limit=25),
        "tab page (after a cursor)": lambda: store.tab_page(
            Tab.ALL_OPEN, admin, [inbox], after=Position.of(deep), limit=25
        ),
        "badges": lambda: store.tab_counts(admin, [inbox]),
        "due(now)": lambda: store.due(now, limit=1000),
        "claim_due": lambda: store.claim_due(now, limit=10, until=now.add(minutes=5)),
    }
    explain = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
    found = {}
    for name, call in calls.items():
        sent: list[tuple[str, Any]] = []

        def catch(*args: Any, sent: list[tuple[str, Any]] = sent) -> None:
            statement, parameters = args[2], args[3]
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
                sent.append((statement, parameters))

        sa.event.listen(store.engine, "before_cursor_execute", catch)
        try:
            call()
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", catch)
        with store.engine.connect() as connection:
            found[name] = [
                str(row[-1])
                for statement, parameters in sent
                for row in connection.exec_driver_sql(explain + statement, parameters)
            ]
    return found


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", default=os.environ.get("CONVOSTATE_POSTGRES_URL", ""))
    parser.add_argument("--commands", type=int, default=3000, help="commands per process")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "sql-latest.json")
    arguments = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
        f"{platform.python_version()}, SQLAlchemy {sa.__version__}, load {os.getloadavg()}",
    }
    work = Path(tempfile.mkdtemp(prefix="convostate-bench-"))
    targets: list[tuple[str, str, str, int]] = []
    for synchronous in ("NORMAL", "FULL"):
        path = work / f"throughput-{synchronous}.db"
        SqlStore.open(f"sqlite:///{path}").close()
        targets.append((f"SQLite file, WAL, synchronous={synchronous}", f"sqlite:///{path}", synchronous, 1))
    if arguments.postgres:
        prefix_engine = sa.create_engine(arguments.postgres)
        upgrade(prefix_engine)
        prefix_engine.dispose()
        targets += [("PostgreSQL, 1 process", arguments.postgres, "NORMAL", 1)]
        targets += [("PostgreSQL, 4 processes", arguments.postgres, "NORMAL", 4)]
    if not arguments.skip_throughput:
        results["throughput"] = {}
        print("| database | convostate commands/s | raw-SQL floor commands/s | share of the floor |")
        print("|---|---:|---:|---:|")
        for name, url, synchronous, processes in targets:
            ours = throughput(facade_worker, url, synchronous, processes, arguments.commands, "facade")
            floor = throughput(floor_worker, url, synchronous, processes, arguments.commands * 2, "floor")
            results["throughput"][name] = {"convostate": ours, "floor": floor}
            print(f"| {name} | {ours:,.0f} | {floor:,.0f} | {ours / floor:.0%} |", flush=True)
    results["views"] = {}
    sizes = [int(size) for size in arguments.sizes.split(",")]
    databases = [("SQLite", lambda size: SqlStore.open(f"sqlite:///{work / f'views-{size}.db'}"))]
    if arguments.postgres:

        def postgres(size: int) -> SqlStore:
            return SqlStore.open(arguments.postgres, account=f"views-{size}-{time.time_ns()}")

        databases.append(("PostgreSQL", postgres))
    for database, opened in databases:
        for size in sizes:
            store = opened(size)
            started = time.perf_counter()
            figures, found = views_at(store, size)
            figures["(bulk load, s)"] = time.perf_counter() - started
            results["views"][f"{database} {size:,}"] = figures
            print(
                f"{database} {size:,}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()), flush=True
            )
            if size == sizes[-1]:
                results.setdefault("plans", {})[database] = found
            store.close()
    for database, found in results.get("plans", {}).items():
        print(f"\n### {database} plans")
        for name, lines in found.items():
            print(f"- {name}:")
            for line in lines:
                print(f"    {line}")
    arguments.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
