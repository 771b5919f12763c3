"""Importing history into a SQL store: one action at a time, in batches, and the raw-SQL floor.

``python benchmarks/bulk.py [--events N] [--conversations N] [--postgres URL]``

The stream of ``run.py`` is imported into a fresh database three ways, each timed by the wall clock (the
database does part of the work in its own process on PostgreSQL):

- ``facade``: ``Helpdesk`` on ``SqlStore``, one transaction per action, as a web request makes it;
- ``batch``: ``Helpdesk.batch()`` with a commit every ``--every`` actions: one transaction each, every
  conversation's rows written once per batch, reads answered from the batch after the first;
- ``raw-SQL floor``: the least any importer could do for the same result: with the batch's final
  conversation rows and events already encoded (untimed), ``executemany`` inserts into the same two tables
  (conversations, events), one transaction per ``--every`` rows, and nothing else (no tabs, timers,
  analytics, checks).

Reported: events/s of each, the batch's ratio to the facade and to the floor, and the statements each
issued per event.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from engines import BatchEngine, FacadeEngine
from stream import build, describe

from convostate.sql import SqlStore

HERE = Path(__file__).resolve().parent


def counting(store: SqlStore) -> list[int]:
    """A counter of the statements ``store`` sends, from now on."""
    count = [0]

    def before(*_: Any) -> None:
        count[0] += 1

    sa.event.listen(store.engine, "before_cursor_execute", before)
    return count


def timed_import(engine: FacadeEngine, stores: list[SqlStore]) -> tuple[float, int]:
    engine.reset()
    count = counting(stores[-1])
    started = time.perf_counter()
    engine.run(engine.steps)
    return time.perf_counter() - started, count[0]


def floor(url: str, engine: FacadeEngine, every: int) -> tuple[float, int]:
    """executemany of the final conversation rows, then of every event, ``every`` rows per transaction."""
    source = engine.helpdesk.store
    assert isinstance(source, SqlStore)
    mine = {"account": source.account}
    with source.engine.connect() as connection:
        conversations, events = (
            [
                dict(row._mapping)
                for row in connection.execute(
                    sa.text(f"SELECT * FROM {table} WHERE account = :account"), mine
                )
            ]
            for table in ("convostate_conversations", "convostate_events")
        )
    account = f"floor-{time.time_ns()}"
    target = SqlStore.open(url, account=account)
    count = counting(target)
    for row in conversations:
        row["account"] = account
    for row in events:
        row["account"] = account
    conversations_table = sa.table(
        "convostate_conversations", *(sa.column(name) for name in conversations[0])
    )
    events_table = sa.table("convostate_events", *(sa.column(name) for name in events[0]))
    started = time.perf_counter()
    with target.engine.connect() as connection:
        for table, rows in ((conversations_table, conversations), (events_table, events)):
            for start in range(0, len(rows), every):
                with connection.begin():
                    connection.execute(table.insert(), rows[start : start + every])
    seconds = time.perf_counter() - started
    target.close()
    return seconds, count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--every", type=int, default=5_000, help="actions per batch commit")
    parser.add_argument("--postgres", help="also import into this PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    the_stream = build(events=args.events, conversations=args.conversations)
    print(describe(the_stream))
    targets = []
    with tempfile.TemporaryDirectory() as folder:
        targets.append(("SQLite file", lambda n: f"sqlite:///{folder}/import-{n}.db"))
        if args.postgres:
            targets.append(("PostgreSQL", lambda n: args.postgres))
        results = []
        for name, url_of in targets:
            stores: list[SqlStore] = []
            made = iter(range(1_000_000))

            def new_store(
                url_of: Any = url_of, stores: list[SqlStore] = stores, made: Any = made
            ) -> SqlStore:
                store = SqlStore.open(url_of(next(made)), account=f"import-{time.time_ns()}")
                stores.append(store)
                return store

            facade = FacadeEngine(the_stream, store=new_store)
            batch = BatchEngine(the_stream, store=new_store)
            batch.COMMIT_EVERY = args.every
            facade_s, facade_statements = timed_import(facade, stores)
            batch_s, batch_statements = timed_import(batch, stores)
            floor_s, floor_statements = floor(url_of(next(made)), batch, args.every)
            for store in stores:
                store.close()
            events = len(the_stream.steps)
            row = {
                "database": name,
                "events": events,
                "facade_events_per_s": events / facade_s,
                "batch_events_per_s": events / batch_s,
                "floor_events_per_s": events / floor_s,
                "statements_per_event": {
                    "facade": facade_statements / events,
                    "batch": batch_statements / events,
                    "floor": floor_statements / events,
                },
            }
            results.append(row)
            print(
                f"{name}: facade {row['facade_events_per_s']:,.0f}/s, "
                f"batch {row['batch_events_per_s']:,.0f}/s "
                f"({facade_s / batch_s:.1f}x the facade), raw-SQL floor {row['floor_events_per_s']:,.0f}/s "
                f"(the batch is {batch_s / floor_s:.1f}x slower than the floor); statements per event: "
                f"facade {facade_statements / events:.1f}, batch {batch_statements / events:.2f}, "
                f"floor {floor_statements / events:.3f}"
            )
    output = HERE / "results" / "bulk-latest.json"
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
