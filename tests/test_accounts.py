"""Many accounts in one store: every store runs the Accounts conformance suite (the boundary from both
sides, fair sweeps across accounts, each timer and email to one worker), and opening an account's store
on a shared SQL store costs no schema check and, once the process knows the account, no statement."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

from convostate import Helpdesk, MemoryStore, Store
from convostate.sql import SqlStore, upgrade
from convostate.testing.accounts import AccountsConformance
from tests.sql_stores import drop_prefix, needs_postgres, postgres_engine


class TestMemoryStore(AccountsConformance):
    def make_store(self) -> Store:
        return MemoryStore()


class _Sql(AccountsConformance):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = self.make_store()
        yield store
        assert isinstance(store, SqlStore)
        store.close()

    def another_handle(self, store: Store) -> Store:
        assert isinstance(store, SqlStore)
        return SqlStore(store.engine, account=store.account, prefix=store.tables.prefix)


class TestSqliteFile(_Sql):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self._path = tmp_path

    def make_store(self) -> Store:
        return SqlStore.open(f"sqlite:///{self._path / 'helpdesk.db'}")


@needs_postgres
class TestPostgres(_Sql):
    """A schema of its own for each test: the sweeps across accounts see every account of the database,
    so the other tests' accounts, in the run's shared schema, must not be there."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        prefix = f"cstest_{uuid.uuid4().hex[:8]}_"
        engine = postgres_engine()
        with engine.begin() as connection:
            upgrade(connection, prefix=prefix)
        self._prefix = prefix
        try:
            yield self.make_store()
        finally:
            drop_prefix(engine, prefix)

    def make_store(self) -> Store:
        return SqlStore(postgres_engine(), prefix=self._prefix)


def _statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    return seen


def test_opening_a_known_account_runs_no_statement(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    try:
        seen = _statements(store.engine)
        store.for_account("acme")
        assert any("INSERT INTO convostate_accounts" in statement for statement in seen)  # the first time
        seen.clear()
        for _ in range(100):
            store.for_account("acme")
            store.for_account("acme").for_account("default")
        assert seen == []
        Helpdesk(store=store).for_account("acme")
        assert seen == []
    finally:
        store.close()


def test_a_store_for_an_account_does_not_close_the_shared_engine(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    try:
        acme = store.for_account("acme")
        acme.close()
        assert store.settings() is not None  # the engine still serves the first store
    finally:
        store.close()


def test_memory_accounts_share_one_database() -> None:
    store = MemoryStore()
    acme = store.for_account("acme")
    assert acme.for_account("default") is store
    assert store.for_account("acme") is acme
    assert acme.accounts_due(pendulum.datetime(2026, 1, 1, tz="UTC"), limit=5) == []
