"""Many accounts in one store: ``python benchmarks/accounts.py [--postgres URL] [--accounts 1000]``.

1. The cost of a command when the store holds one account, and when it holds ``--accounts`` accounts, with
   the same conversations in all (two per account, or all of them in the one account): the same everyday
   mix (message, read, reply, star, unstar) round-robin over them, each command through
   ``Helpdesk.for_account`` as a web request of a SaaS host would open its customer's helpdesk; on the
   memory store, a SQLite file (WAL, ``synchronous=NORMAL``) and PostgreSQL when given a URL.
2. A sweep across accounts: ``accounts_due`` with one due timer in each account, and
   ``run_due_everywhere`` over them.

It prints Markdown and writes ``benchmarks/results/accounts-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa

from convostate import Helpdesk, MemoryStore, Role, Store
from convostate.sql import SqlStore, upgrade
from convostate.testing import ManualClock

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
RESULTS = Path(__file__).parent / "results"
CONVERSATIONS_PER_ACCOUNT = 2


def _fill(root: Helpdesk, accounts: int, per_account: int) -> list[tuple[str, Any, Any, Any, Any]]:
    """Each account's admin, inbox and conversations: (account, admin, conversation, contact, inbox)."""
    hot = []
    for n in range(accounts):
        desk = root.for_account(f"account-{n}")
        admin = desk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
        inbox = desk.add_inbox("Support", members=[admin], by=admin).id
        for c in range(per_account):
            contact = desk.add_contact(phone=f"+1555{c:07d}").id
            conversation = desk.receive(contact, inbox, "Hi").conversation.id
            hot.append((f"account-{n}", admin, conversation, contact, inbox))
    return hot


def _commands(root: Helpdesk, hot: list[tuple[str, Any, Any, Any, Any]], count: int) -> float:
    """``count`` commands round-robin over every account's conversations; the seconds they took."""
    clock = root.clock
    assert isinstance(clock, ManualClock)
    started = time.perf_counter()
    for n in range(count):
        account, admin, conversation, contact, inbox = hot[n % len(hot)]
        desk = root.for_account(account)
        kind = (n // len(hot)) % 5
        clock.advance(seconds=1)
        if kind == 0:
            desk.receive(contact, inbox, "Any news?")
        elif kind == 1:
            desk.mark_read(conversation, by=admin)
        elif kind == 2:
            desk.reply(conversation, "On it", by=admin)
        elif kind == 3:
            desk.star(conversation, by=admin)
        else:
            desk.unstar(conversation, by=admin)
    return time.perf_counter() - started


def measure(make: Callable[[], Store], accounts: int, conversations: int, commands: int) -> dict[str, float]:
    store = make()
    try:
        root = Helpdesk(store=store, clock=ManualClock(START))
        hot = _fill(root, accounts, conversations // accounts)
        _commands(root, hot, min(commands, 500))  # warm up: statement caches, decoded records
        runs = [_commands(root, hot, commands) for _ in range(3)]
        per_command = statistics.median(runs) / commands
        clock = root.clock
        assert isinstance(clock, ManualClock)
        wake_at = clock.now().add(minutes=1)
        for account, admin, conversation, _, _ in hot[:: conversations // accounts]:
            root.for_account(account).snooze(conversation, wake_at, by=admin)  # one timer an account
        now = clock.advance(minutes=2)
        listed = _timed(lambda: store.accounts_due(now, limit=accounts), 20)  # type: ignore[attr-defined]
        sweep_started = time.perf_counter()
        swept = root.run_due_everywhere(now, accounts=accounts)
        sweep = time.perf_counter() - sweep_started
        fired = sum(len(each.acted) for each in swept.values())
        return {
            "accounts": accounts,
            "conversations": conversations,
            "commands_per_second": round(1 / per_command),
            "us_per_command": round(per_command * 1e6, 1),
            "accounts_due_ms": round(listed * 1e3, 3),
            "run_due_everywhere_ms": round(sweep * 1e3, 1),
            "timers_fired": fired,
        }
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def _timed(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (postgresql+psycopg://...)")
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="convostate-accounts-"))
    counter = iter(range(1_000_000))

    def sqlite() -> Store:
        return SqlStore.open(f"sqlite:///{directory / f'accounts-{next(counter)}.db'}")

    stores: dict[str, Callable[[], Store]] = {"memory": MemoryStore, "sqlite": sqlite}
    prefixes: list[str] = []
    engine = sa.create_engine(options.postgres) if options.postgres else None
    if engine is not None:

        def postgres() -> Store:
            prefix = f"csbench_{uuid.uuid4().hex[:8]}_"
            prefixes.append(prefix)
            with engine.begin() as connection:
                upgrade(connection, prefix=prefix)
            return SqlStore(engine, prefix=prefix)

        stores["postgres"] = postgres
    results: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    print("| store | accounts | commands/s | µs/command | accounts_due | run_due_everywhere |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    try:
        for name, make in stores.items():
            for accounts in (1, options.accounts):
                row = measure(make, accounts, CONVERSATIONS_PER_ACCOUNT * options.accounts, options.commands)
                results[f"{name}-{accounts}"] = row
                print(
                    f"| {name} | {accounts:,} | {row['commands_per_second']:,} | {row['us_per_command']} | "
                    f"{row['accounts_due_ms']} ms | {row['run_due_everywhere_ms']} ms "
                    f"({row['timers_fired']} timers) |"
                )
    finally:
        if engine is not None:
            with engine.begin() as connection:
                for table in sa.inspect(connection).get_table_names():
                    if any(table.startswith(prefix) for prefix in prefixes):
                        connection.exec_driver_sql(f'DROP TABLE "{table}" CASCADE')
            engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "accounts-latest.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
