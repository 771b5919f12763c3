"""The SQL store over SQLAlchemy's asyncio extension keeps every promise of the Store protocol: the shipped
conformance suites, races included, on SQLite through aiosqlite and on PostgreSQL through psycopg's async
driver. Every call runs in a greenlet on one event loop (tests/async_runner.py), as ``AsyncHelpdesk`` runs
it; the racing threads' calls interleave there as coroutines do, each on a handle of its own (a store on the
same asyncio engine, so a connection of its own from the pool for every call).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("aiosqlite", reason="the asyncio SQL store needs the [async] extra")

from convostate import Store
from convostate.aio import open_sql_store
from convostate.sql import SqlStore
from convostate.testing.conformance import ConcurrencyConformance, StoreConformance
from tests.async_runner import LoopThread, SyncStore
from tests.sql_stores import POSTGRES_URL, TEST_PREFIX, heavy, needs_postgres, postgres_engine

soak = pytest.mark.skipif(
    not os.environ.get("CONVOSTATE_ASYNC_CONFORMANCE"),
    reason="set CONVOSTATE_ASYNC_CONFORMANCE=1 to run every conformance suite through asyncio on PostgreSQL "
    "too (some minutes); CI runs them all on aiosqlite and the races on PostgreSQL",
)


@pytest.fixture(scope="module")
def runner() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.stop()


@pytest.fixture(scope="module")
def sqlite_database(runner: LoopThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """One SQLite file for the module, its schema made once: each test is a new account in it (a new
    account is an empty store), so a test costs no migration."""
    path = tmp_path_factory.mktemp("aiosqlite") / "helpdesk.db"
    store = runner.run(open_sql_store(f"sqlite+aiosqlite:///{path}"))
    yield store
    runner.in_greenlet(store.close)


class _AsyncStores:
    @pytest.fixture(autouse=True)
    def _runner(self, runner: LoopThread) -> None:
        self._loop = runner

    def another_handle(self, store: Store) -> Store:
        assert isinstance(store, SyncStore)
        inner: SqlStore = store.inner
        return SyncStore(
            self._loop.in_greenlet(SqlStore, inner.engine, account=inner.account, prefix=inner.tables.prefix),
            self._loop,
        )


@heavy
class TestAiosqliteFile(_AsyncStores, StoreConformance):
    """Every conformance suite through asyncio on aiosqlite, races included: in CI's py313 env."""

    @pytest.fixture(autouse=True)
    def _use_database(self, sqlite_database: SqlStore) -> None:
        self._shared = sqlite_database

    def make_store(self) -> Store:
        engine = self._shared.engine
        return SyncStore(self._loop.in_greenlet(SqlStore, engine, account=f"test-{uuid.uuid4()}"), self._loop)


class _AsyncPostgres(_AsyncStores):
    """Stores on one asyncio engine for the class (each test a new account under the run's prefix)."""

    @pytest.fixture(autouse=True)
    def _use_database(self, runner: LoopThread) -> Iterator[None]:
        postgres_engine()  # the run's schema, made once under TEST_PREFIX
        self._shared = runner.run(
            open_sql_store(POSTGRES_URL, account=f"test-{uuid.uuid4()}", prefix=TEST_PREFIX, create=False)
        )
        yield
        runner.in_greenlet(self._shared.close)

    def make_store(self) -> Store:
        inner = self._loop.in_greenlet(
            SqlStore, self._shared.engine, account=f"test-{uuid.uuid4()}", prefix=TEST_PREFIX
        )
        return SyncStore(inner, self._loop)


@soak
@needs_postgres
class TestAsyncPostgres(_AsyncPostgres, StoreConformance):
    pass


@heavy
@needs_postgres
class TestAsyncPostgresRaces(_AsyncPostgres, ConcurrencyConformance):
    """What CI runs of the suites through asyncio: the races on PostgreSQL (coroutines interleaving on one
    loop, each with a connection of its own from the asyncio pool; ``SKIP LOCKED`` claims through psycopg's
    async driver). The rest is the sync store's code on the same statements, which the sync suites hold.
    The two delivery races (30 s of the 85) are left to the soak: a send is the mailer's, in the racing
    thread, whatever the facade."""

    @soak
    def test_racing_deliveries_send_each_email_once(self, store: Store) -> None:
        super().test_racing_deliveries_send_each_email_once(store)

    @soak
    def test_racing_deliveries_that_fail_now_and_then_send_each_email_once(self, store: Store) -> None:
        super().test_racing_deliveries_that_fail_now_and_then_send_each_email_once(store)
