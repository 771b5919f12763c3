"""How the SQL tests reach their databases: a SQLite file in a temporary directory, SQLite in memory, and
the PostgreSQL server named by ``CONVOSTATE_POSTGRES_URL`` (the tests that need it skip when it is unset).

On PostgreSQL every test gets an account of its own in one schema made once per run, under a prefix of the
run's own (``cstest_`` and a random tag) dropped when the run ends: a new account is an empty store, so the
tests need no database of their own, and runs of other branches on the same database, at another schema
revision, never drop or change this run's tables.
"""

from __future__ import annotations

import atexit
import os
import sys
import uuid
from typing import Any, Final

import pytest

pytest.importorskip("sqlalchemy", reason="the SQL store needs the [sql] extra (SQLAlchemy, Alembic)")

import sqlalchemy as sa

from convostate.sql import SqlStore, upgrade

POSTGRES_URL: Final = os.environ.get("CONVOSTATE_POSTGRES_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="set CONVOSTATE_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run "
    "the PostgreSQL tests; .ci/run sets it",
)
TEST_PREFIX: Final = f"cstest_{uuid.uuid4().hex[:8]}_"
"""This run's tables (the worker processes are given it, never make their own)."""

LIGHT: Final = bool(os.environ.get("CONVOSTATE_SQL_LIGHT"))
heavy = pytest.mark.skipif(
    LIGHT,
    reason="CONVOSTATE_SQL_LIGHT is set: CI runs the PostgreSQL suites and the process tests in one tox env",
)
"""The costliest SQL tests: CI runs them in one tox env only (tox.ini); a local run runs them all."""

_engines: dict[str, sa.Engine] = {}


def postgres_engine() -> sa.Engine:
    """One engine per test run, on a schema under ``TEST_PREFIX`` made afresh at its first use."""
    engine = _engines.get("postgres")
    if engine is None:
        engine = sa.create_engine(POSTGRES_URL, pool_size=20, max_overflow=20)
        drop_prefix(engine, TEST_PREFIX)
        with engine.begin() as connection:
            upgrade(connection, prefix=TEST_PREFIX)
        _engines["postgres"] = engine
        atexit.register(_drop_and_dispose, engine, os.getpid())
    return engine


def drop_prefix(engine: sa.Engine, prefix: str) -> None:
    """Drop every table under ``prefix`` (this run's, never another run's); a connection still open in a
    transaction on them makes it give up after a few seconds rather than wait for ever."""
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        for name in sa.inspect(connection).get_table_names():
            if name.startswith(prefix):
                connection.exec_driver_sql(f'DROP TABLE "{name}" CASCADE')


def _drop_and_dispose(engine: sa.Engine, pid: int) -> None:
    if os.getpid() == pid:  # not in a forked worker
        try:
            drop_prefix(engine, TEST_PREFIX)
        except sa.exc.DBAPIError as error:
            print(f"the test tables under {TEST_PREFIX} were left in the database: {error}", file=sys.stderr)
        engine.dispose()


def postgres_store() -> SqlStore:
    """An empty store: a new account in the shared test schema."""
    return SqlStore(postgres_engine(), account=f"test-{uuid.uuid4()}", prefix=TEST_PREFIX)


def dump(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store's account, in key order: what "nothing changed" compares."""
    with store.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    sa.select(table).where(table.c.account == store.account).order_by(*table.primary_key)
                )
            ]
            for table in store.tables.metadata.sorted_tables
        }


def stored_text(store: SqlStore) -> str:
    """Every row of every table of the store's prefix (found by inspecting the database, not from the
    store's own list), of the store's account where the table has an account column, as text: what the
    erasure tests search for erased values."""
    found: list[str] = []
    with store.engine.connect() as connection:
        names = [
            name for name in sa.inspect(connection).get_table_names() if name.startswith(store.tables.prefix)
        ]
        assert len(names) >= 15, names  # the scan reaches the schema's tables
        metadata = sa.MetaData()
        for name in names:
            table = sa.Table(name, metadata, autoload_with=connection)
            query = sa.select(table)
            if "account" in table.c:
                query = query.where(table.c.account == store.account)
            for row in connection.execute(query):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        found.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        found.append(str(value))
    return "\n".join(found)
