"""What differs between SQLite and PostgreSQL, in one place: how an engine is made, the upsert, and what a
database's errors mean for convostate.

Everything else is the same SQLAlchemy Core on both. (``FOR UPDATE SKIP LOCKED`` and ``FOR SHARE`` are
written once in the store: SQLAlchemy renders them on PostgreSQL and leaves them out on SQLite, whose writers
take the database's write lock at ``BEGIN IMMEDIATE`` instead, so no row lock is needed there.)
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool

from convostate._core.errors import (
    ConcurrencyConflict,
    ConvostateError,
    InvalidInput,
    StorageBusy,
    StorageError,
)

READING: Final = "convostate_reading"
"""An execution option: this connection runs one read statement, so SQLite needs no transaction for it."""

DEFAULT_BUSY_TIMEOUT: Final = 5.0
"""Seconds a SQLite writer waits for another's write lock before :class:`~convostate.StorageBusy`."""

_RETRY_STATES: Final = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock: another writer won; the action is decided again."""


def is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str | sa.URL, *, busy_timeout: float, synchronous: str) -> sa.Engine:
    """An engine set up as the store needs it.

    SQLite: WAL (readers never wait for the writer), a busy timeout, foreign keys, ``synchronous`` as given
    (``NORMAL`` survives an application crash; ``FULL`` a power loss too), and writers that take the write
    lock when they begin, through SQLAlchemy's documented recipe for the pysqlite driver: the driver's own
    transaction handling is turned off and the ``begin`` event says ``BEGIN IMMEDIATE``. A connection that
    only reads (the ``READING`` option) runs each of its single statements in autocommit. An in-memory
    database is one connection that every thread shares (the store takes turns on it).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed)
    check_synchronous(synchronous)
    options: dict[str, Any] = {"connect_args": {"timeout": busy_timeout, "check_same_thread": False}}
    memory = is_memory_sqlite(parsed)
    if memory:
        options["poolclass"] = StaticPool
    engine = sa.create_engine(parsed, **options)
    prepare_sqlite(engine, memory=memory, busy_timeout=busy_timeout, synchronous=synchronous)
    return engine


def check_synchronous(synchronous: str) -> None:
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise InvalidInput(f"synchronous must be NORMAL, FULL, EXTRA or OFF, not {synchronous!r}")


def prepare_sqlite(engine: sa.Engine, *, memory: bool, busy_timeout: float, synchronous: str) -> None:
    """The pragmas of every new connection and ``BEGIN IMMEDIATE`` for writers (see ``create_engine``).

    The same listeners serve the ``sync_engine`` of an asyncio engine on aiosqlite (SQLAlchemy's recipe for
    that driver is the same): its connections run them inside the greenlet that awaits the driver.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the recipe: SQLAlchemy's begin event says BEGIN
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Freed pages are zeroed, so an erased contact's text does not linger in the file's free list.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # A read is one statement, atomic on its own in SQLite's autocommit mode: it needs no BEGIN.
        if not connection.get_execution_options().get(READING, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def reading_options(dialect: sa.Dialect) -> dict[str, object]:
    """The execution options of a connection that runs one read statement: no transaction around it
    (PostgreSQL in autocommit saves the round trip of the ROLLBACK when the connection goes back to the
    pool; SQLite skips its BEGIN, see ``create_engine``)."""
    if dialect.name == "postgresql":
        return {READING: True, "isolation_level": "AUTOCOMMIT"}
    return {READING: True}


def insert(dialect: sa.Dialect, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An ``INSERT`` that can say ``ON CONFLICT`` (the two dialects spell it the same in SQLAlchemy)."""
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def translate(error: BaseException, where: str) -> ConvostateError | None:
    """The convostate error a database error means, or None if it is not one of the database's own."""
    if isinstance(error, UnicodeEncodeError):
        return InvalidInput(f"text with a lone surrogate cannot be stored in {where}: {error}")
    if not isinstance(error, exc.DBAPIError):
        return None
    original: BaseException | None = error.orig
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state in _RETRY_STATES:
        return ConcurrencyConflict(f"another writer changed the same rows at once ({text}): retry")
    if isinstance(error, exc.IntegrityError):
        return ConcurrencyConflict(f"someone else saved the same row first ({text}): load again and retry")
    if isinstance(error, exc.DataError) or "NUL" in text:
        return InvalidInput(f"{where} cannot store this value: {text}")
    lowered = text.lower()
    if "database is locked" in lowered or "database is busy" in lowered:
        return StorageBusy(
            f"{where} stayed locked by another writer past the busy timeout: nothing was written; "
            "try again, or open the store with a longer busy_timeout"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return StorageError(
            f"{where} is read-only ({text}): nothing was written; give the process write access to the "
            "database file and its directory (SQLite writes a -wal and a -shm file beside it)"
        )
    if "file is not a database" in lowered or "malformed" in lowered:
        return StorageError(f"{where} is not a SQLite database ({text}): check the path in the URL")
    return StorageError(f"{where} failed: {text}")
