"""The SQL store keeps every promise of the Store protocol on SQLite (a file, and in memory) and on
PostgreSQL: each runs every shipped conformance suite, races included, each racing thread on a handle of
its own onto the same database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from convostate import Store
from convostate.sql import SqlStore
from convostate.testing.conformance import StoreConformance
from tests.sql_stores import heavy, needs_postgres, postgres_store, stored_text


class _Closing(StoreConformance):
    def stored_text(self, store: Store) -> str | None:
        assert isinstance(store, SqlStore)
        return stored_text(store)

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = self.make_store()
        yield store
        assert isinstance(store, SqlStore)
        store.close()


class _SqlConformance(_Closing):
    def another_handle(self, store: Store) -> Store:
        """A handle of its own on the same engine, as the threads of one app server have: each takes a
        connection of its own from the engine's pool for every call."""
        assert isinstance(store, SqlStore)
        return SqlStore(store.engine, account=store.account, prefix=store.tables.prefix)


class TestSqliteFile(_SqlConformance):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self._path = tmp_path

    def make_store(self) -> Store:
        return SqlStore.open(f"sqlite:///{self._path / 'helpdesk.db'}")


class TestSqliteMemory(_Closing):
    def make_store(self) -> Store:
        return SqlStore.open("sqlite://")


@heavy
@needs_postgres
class TestPostgres(_SqlConformance):
    def make_store(self) -> Store:
        return postgres_store()
