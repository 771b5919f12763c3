"""convostate on Django's database: inside the request's transaction, or on an engine of its own.

:func:`helpdesk` lends the calling thread's Django connection to SQLAlchemy and opens a ``SqlStore`` on it,
so convostate reads and writes in Django's transaction: each of its commits is a savepoint, and Django's
commit saves it with the host's models, Django's rollback undoes both. The lent connection is wrapped so
that SQLAlchemy never commits, rolls back or closes it, nor sets it up: that is all Django's to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import sqlalchemy as sa
from django.conf import settings
from django.db import connections
from django.db.transaction import TransactionManagementError
from sqlalchemy.pool import NullPool

from convostate import Clock, Helpdesk, Mailer, SmtpMailer
from convostate.sql import SqlStore


class Lent:
    """Django's DBAPI connection as SQLAlchemy sees it: the transaction and the connection stay Django's."""

    def __init__(self, dbapi_connection: Any) -> None:
        self._dbapi_connection = dbapi_connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dbapi_connection, name)

    def commit(self) -> None:
        """Django commits (at the end of its atomic block)."""

    def rollback(self) -> None:
        """Django rolls back; SQLAlchemy's own rollbacks of convostate's savepoints are SQL, not this."""

    def close(self) -> None:
        """Django closes its connections."""

    def create_function(self, *_: object, **__: object) -> None:
        """SQLite: SQLAlchemy's REGEXP would replace Django's; convostate needs neither."""

    def add_notice_handler(self, *_: object) -> None:
        """PostgreSQL: one handler per checkout would pile up on a persistent Django connection."""


def sqlalchemy_url(using: str) -> sa.URL:
    """The URL of a Django database, for SQLAlchemy: the test database's too, once the tests made it."""
    db = connections[using].settings_dict
    if connections[using].vendor == "sqlite":
        return sa.URL.create("sqlite", database=str(db["NAME"]))
    port = int(db["PORT"]) if db["PORT"] else None
    return sa.URL.create(
        "postgresql+psycopg", db["USER"], db["PASSWORD"] or None, db["HOST"] or None, port, db["NAME"]
    )


@cache
def lending_engine(using: str) -> sa.Engine:
    """An engine whose every connection is the calling thread's Django connection to ``using``."""

    def lend() -> Lent:
        connections[using].ensure_connection()
        return Lent(connections[using].connection)

    url = sqlalchemy_url(using)
    # psycopg: SQLAlchemy would look up hstore with the lent connection, which is not a psycopg.Connection.
    options = {"use_native_hstore": False} if url.get_backend_name() == "postgresql" else {}
    return sa.create_engine(url, creator=lend, poolclass=NullPool, pool_reset_on_return=None, **options)


def mailer() -> Mailer | None:
    smtp = settings.CONVOSTATE_SMTP_URL
    return SmtpMailer.from_url(smtp) if smtp else None


@contextmanager
def helpdesk(clock: Clock | None = None) -> Iterator[Helpdesk]:
    """A helpdesk in the current transaction of ``CONVOSTATE_DATABASE`` (a view's, with ATOMIC_REQUESTS)."""
    using = settings.CONVOSTATE_DATABASE
    if not connections[using].in_atomic_block:
        raise TransactionManagementError("convostate joins a transaction: call it inside atomic()")
    with lending_engine(using).connect() as connection:
        store = SqlStore(connection, account=settings.CONVOSTATE_ACCOUNT)
        yield Helpdesk(store=store, clock=clock, mailer=mailer())


def scheduler_helpdesk(clock: Clock | None = None) -> Helpdesk:
    """A helpdesk on an engine of its own, committing each action: for the scheduler, which must not hold
    one transaction over a whole sweep, nor over sending emails."""
    store = SqlStore.open(
        sqlalchemy_url(settings.CONVOSTATE_DATABASE), account=settings.CONVOSTATE_ACCOUNT, create=False
    )
    return Helpdesk(store=store, clock=clock, mailer=mailer())


class OneDatabase:
    """A database router: every model in ``CONVOSTATE_DATABASE``, beside convostate's tables."""

    def db_for_read(self, model: type, **hints: object) -> str:
        return str(settings.CONVOSTATE_DATABASE)

    def db_for_write(self, model: type, **hints: object) -> str:
        return str(settings.CONVOSTATE_DATABASE)
