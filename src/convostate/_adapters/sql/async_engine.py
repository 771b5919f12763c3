"""The SQL store on SQLAlchemy's asyncio extension: the same ``SqlStore``, over an ``AsyncEngine``'s
``sync_engine``, called inside a greenlet.

SQLAlchemy's asyncio extension is a sync core whose driver calls await through a greenlet: code that runs
inside ``greenlet_spawn`` (what ``AsyncConnection.run_sync`` does) uses the ordinary ``Engine`` and
``Connection`` API, and each time the driver waits for the database the greenlet hands control back to the
event loop. So the store, its schema check, its migrations and its pragmas run unchanged; only the engine
is made differently, and every call to the store must happen inside :func:`on_the_loop`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.util import await_only, greenlet_spawn

from convostate._adapters.sql import dialects
from convostate._adapters.sql.store import SqlStore
from convostate._adapters.sql.tables import DEFAULT_PREFIX
from convostate._core.errors import InvalidInput
from convostate._core.validate import non_empty_text
from convostate._ports.roles import DEFAULT_ACCOUNT, Mailer

T = TypeVar("T")

ASYNC_URLS = "sqlite+aiosqlite:///helpdesk.db or postgresql+psycopg://user@host/dbname"


def create_async_engine(url: str | sa.URL, *, busy_timeout: float, synchronous: str) -> AsyncEngine:
    """An asyncio engine set up as :func:`.dialects.create_engine` sets up a sync one (the same pragmas and
    ``BEGIN IMMEDIATE`` on SQLite, through the same listeners on its ``sync_engine``).

    An in-memory SQLite database is refused: the sync store makes it one connection that threads take turns
    on, with a lock that coroutines on one thread cannot take turns on. The memory store is the in-memory
    helpdesk for asyncio.
    """
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as error:
        raise InvalidInput(f"not a database URL: {url!r} (for example {ASYNC_URLS})") from error
    if dialects.is_memory_sqlite(parsed):
        raise InvalidInput(
            "an in-memory SQLite database cannot serve asyncio callers: use AsyncHelpdesk() (the memory "
            "store) for a helpdesk in memory, or a file: sqlite+aiosqlite:///helpdesk.db"
        )
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        dialects.check_synchronous(synchronous)
        options["connect_args"] = {"timeout": busy_timeout}
    try:
        engine = _create_async_engine(parsed, **options)
    except exc.InvalidRequestError as error:  # the driver is not an asyncio one (pysqlite, psycopg2)
        raise InvalidInput(
            f"{parsed.render_as_string(hide_password=True)} names a driver that is not for asyncio "
            f"({error}); use {ASYNC_URLS}"
        ) from error
    if parsed.get_backend_name() == "sqlite":
        dialects.prepare_sqlite(
            engine.sync_engine, memory=False, busy_timeout=busy_timeout, synchronous=synchronous
        )
    return engine


async def open_store(
    bind: str | sa.URL | AsyncEngine,
    *,
    account: str = DEFAULT_ACCOUNT,
    prefix: str = DEFAULT_PREFIX,
    create: bool = True,
    busy_timeout: float = dialects.DEFAULT_BUSY_TIMEOUT,
    synchronous: str = "NORMAL",
) -> SqlStore:
    """A ``SqlStore`` over an asyncio engine: one of its own on a URL (the schema made in an empty
    database if ``create``; closed by ``store.close()`` inside :func:`on_the_loop`), or the host's
    ``AsyncEngine`` (whose schema must be there; the host disposes of it)."""
    non_empty_text("account", account)
    non_empty_text("prefix", prefix)
    if isinstance(bind, AsyncEngine):
        if not bind.dialect.is_async:  # pragma: no cover (an AsyncEngine always has an async dialect)
            raise InvalidInput(f"{bind.url} is not on an asyncio driver; use {ASYNC_URLS}")
        if dialects.is_memory_sqlite(bind.url):
            raise InvalidInput("an in-memory SQLite database cannot serve asyncio callers: use a file")
        return await greenlet_spawn(SqlStore, bind.sync_engine, account=account, prefix=prefix)
    if not isinstance(bind, (str, sa.URL)):
        raise InvalidInput(
            f"a store opens on a database URL or an AsyncEngine, not {type(bind).__name__} "
            f"(for example {ASYNC_URLS})"
        )
    engine = create_async_engine(bind, busy_timeout=busy_timeout, synchronous=synchronous)
    try:
        return await greenlet_spawn(
            SqlStore._on_own_engine, engine.sync_engine, account=account, prefix=prefix, create=create
        )
    except BaseException:
        await engine.dispose()
        raise


def runs_on_the_loop(store: object) -> bool:
    """Whether ``store`` is a SQL store over an asyncio engine: then each call must run in a greenlet."""
    return isinstance(store, SqlStore) and bool(store.engine.dialect.is_async)


async def on_the_loop(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run sync ``function`` in a greenlet on this event loop: each time the driver waits for the database,
    the loop runs other coroutines."""
    return await greenlet_spawn(function, *args, **kwargs)


class MailerOffTheLoop:
    """A mailer whose ``send`` runs the host's (blocking) mailer in a worker thread while the greenlet it is
    called from awaits it: SMTP never blocks the event loop, and the pipeline calls ``send`` as it always
    does."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def send(self, message: EmailMessage) -> None:
        await_only(asyncio.to_thread(self.mailer.send, message))
