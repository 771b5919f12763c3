"""The SQL store under many writers: threads on a SQLite file, processes on PostgreSQL and on SQLite, and a
writer process killed with SIGKILL in the middle of its transactions. After each: no update lost (every
message a worker added is in a history), replay == state for every conversation, every badge equals what
its tab lists, and the SQLite file passes its integrity check.

The process tests and the PostgreSQL ones cost the most; CI runs them in one tox env only
(``CONVOSTATE_SQL_LIGHT=1`` in the others skips them, see tox.ini) and every local run runs them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from convostate import Helpdesk, MessageReceived
from convostate.sql import DEFAULT_PREFIX, SqlStore
from tests import sql_workers
from tests.sql_stores import POSTGRES_URL, TEST_PREFIX, heavy, needs_postgres, postgres_engine

COMMANDS: Final = int(os.environ.get("CONVOSTATE_SQL_COMMANDS", "2000"))
"""Commands per test, shared among its workers (the issue's 10k: CONVOSTATE_SQL_COMMANDS=10000)."""
KILLS: Final = int(os.environ.get("CONVOSTATE_SQL_KILLS", "100"))


@pytest.fixture(scope="module")
def processes() -> Any:
    """Worker processes forked from a server that imported convostate and SQLAlchemy once: cheap to start,
    and forked from a process with no threads."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.sql_workers"])
    return context


def _sqlite(tmp_path: Path) -> tuple[str, str, str]:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    SqlStore.open(url).close()
    return url, "default", DEFAULT_PREFIX


def _postgres() -> tuple[str, str, str]:
    postgres_engine()
    return POSTGRES_URL, f"heavy-{uuid.uuid4()}", TEST_PREFIX


@pytest.fixture
def opened() -> Iterator[list[SqlStore]]:
    """The stores a test opens, closed after it."""
    stores: list[SqlStore] = []
    yield stores
    for store in stores:
        store.close()


def _set_up(opened: list[SqlStore], url: str, account: str, prefix: str) -> SqlStore:
    store = sql_workers.open_store(url, account, prefix)
    opened.append(store)
    sql_workers.set_up(store)
    return store


def _check(store: SqlStore, added: int) -> None:
    assert sql_workers.messages(store) == sql_workers.HOT + added, "an update was lost"
    sql_workers.assert_invariants(store)


def test_eight_threads_on_a_sqlite_file_lose_no_update(opened: list[SqlStore], tmp_path: Path) -> None:
    url, account, prefix = _sqlite(tmp_path)
    store = _set_up(opened, url, account, prefix)
    threads, added = 8, [0] * 8
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            added[n] = sql_workers.hammer(url, account, prefix, n, COMMANDS // threads)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    _check(store, sum(added))


@heavy
@needs_postgres
def test_four_processes_on_postgres_lose_no_update(processes: Any, opened: list[SqlStore]) -> None:
    url, account, prefix = _postgres()
    store = _set_up(opened, url, account, prefix)
    with processes.Pool(4) as pool:
        added = pool.starmap(sql_workers.hammer, [(url, account, prefix, n, COMMANDS // 4) for n in range(4)])
    _check(store, sum(added))


@heavy
@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=needs_postgres)])
def test_a_burst_of_first_messages_from_one_contact_from_several_processes_makes_one_conversation(
    database: str, processes: Any, opened: list[SqlStore], tmp_path: Path
) -> None:
    url, account, prefix = _sqlite(tmp_path) if database == "sqlite" else _postgres()
    store = _set_up(opened, url, account, prefix)
    contact = Helpdesk(store=store).add_contact(name="In a hurry").id
    inbox = store.inboxes()[0].id
    with processes.Pool(4) as pool:
        went_to = pool.starmap(sql_workers.first_messages, [(url, account, prefix, contact.value, 25)] * 4)
    held = store.conversation_between(contact, inbox)
    assert held is not None
    assert {conversation for each in went_to for conversation in each} == {held.value}
    received = [event for event in store.events(held) if isinstance(event, MessageReceived)]
    assert len(received) == 100


@heavy
def test_a_writer_killed_mid_transaction_leaves_a_database_that_opens_with_every_invariant(
    processes: Any, opened: list[SqlStore], tmp_path: Path
) -> None:
    url, account, prefix = _sqlite(tmp_path)
    _set_up(opened, url, account, prefix)
    chance = random.Random(11)
    for kill in range(KILLS):
        writer = processes.Process(target=sql_workers.hammer, args=(url, account, prefix, kill, 10**9))
        writer.start()
        time.sleep(chance.uniform(0.05, 0.3))
        assert writer.pid is not None
        assert writer.is_alive(), "the writer stopped before it was killed"
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        assert writer.exitcode == -signal.SIGKILL
        with contextlib.closing(sqlite3.connect(tmp_path / "helpdesk.db")) as database, database:
            assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        store = sql_workers.open_store(url, account, prefix)
        try:
            sql_workers.assert_invariants(store)
        finally:
            store.close()
