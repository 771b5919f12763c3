"""The SQL store: every storage role on SQLite or PostgreSQL, through SQLAlchemy Core.

A host opens it in one of three ways: on a URL (the store makes and owns the engine, and makes the schema
in an empty database), on the host's ``Engine`` (the schema must be there), or on a ``Connection`` inside
the host's transaction: then every read and commit runs in that transaction, each commit in a savepoint
of its own (so a refused change set leaves the host's transaction as it was), and convostate never commits
or rolls back the host's transaction.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Final, TypeVar, cast

import pendulum
import sqlalchemy as sa
from sqlalchemy import exc

from convostate._adapters.sql import analytics, dialects, schema
from convostate._adapters.sql.commit import Commit
from convostate._adapters.sql.queries import Queries
from convostate._adapters.sql.tables import DEFAULT_PREFIX, Tables
from convostate._adapters.sql.values import decode, decode_event, instant, micros, optional_instant
from convostate._core.analytics.facts import Count, Metric, Scope
from convostate._core.errors import ConvostateError, InvalidInput, StorageError
from convostate._core.events import Event
from convostate._core.ids import ContactId, ConversationId, InboxId, RuleId, UserId
from convostate._core.model import AccountSettings, Contact, Conversation, Inbox, User
from convostate._core.tab_changes import NO_TAB_CHANGES
from convostate._core.tabs import Tab
from convostate._core.validate import non_empty_text
from convostate._ports import arguments as check
from convostate._ports.changes import ChangeSet
from convostate._ports.records import (
    ContactTotal,
    DailyBucket,
    DailyTotal,
    DueTimer,
    DurationSample,
    EmailStatus,
    OutgoingEmail,
    Position,
    TabCount,
)
from convostate._ports.roles import DEFAULT_ACCOUNT

_TABS = tuple(Tab)
T = TypeVar("T")
_DECODE_CACHE_LIMIT: Final = 10_000
"""Directory records kept decoded (a few megabytes); past it the cache starts again."""


class SqlStore:
    """Every storage role in a SQL database, for one account; safe to share between threads, and between
    processes on the same database.

    Open it with :meth:`open` (a URL) or construct it on your ``Engine`` or ``Connection``.
    """

    def __init__(
        self,
        bind: sa.Engine | sa.Connection,
        *,
        account: str = DEFAULT_ACCOUNT,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if not isinstance(bind, (sa.Engine, sa.Connection)):
            raise InvalidInput(
                f"SqlStore takes a SQLAlchemy Engine or Connection, got {type(bind).__name__}; "
                "to open a URL, use SqlStore.open(url)"
            )
        self.account = non_empty_text("account", account)
        self.tables = Tables(non_empty_text("prefix", prefix))
        self._bind = bind
        engine = bind if isinstance(bind, sa.Engine) else bind.engine
        self.engine = engine
        self._owns_engine = False
        """The engine the store reaches its database through (the host's ``Connection``'s, if given one)."""
        self.url = engine.url.render_as_string(hide_password=True)
        # One in-memory SQLite connection serves every thread, one call at a time.
        self._turns = threading.RLock() if dialects.is_memory_sqlite(engine.url) else None
        self._reading_options = dialects.reading_options(engine.dialect)
        self._q = Queries(self.tables)
        self._decode_cache: dict[tuple[type[Any], str], Any] = {}
        self._commit = Commit(self.tables, self._q, self.account)
        self._known_accounts: set[str] = set()
        """The accounts this store and its siblings know are in the database (shared by them)."""
        with self._reading() as connection:
            schema.check(connection, self.tables, self.url)
        self._ensure_account()

    def _ensure_account(self) -> None:
        if self.account in self._known_accounts:
            return
        if (
            self._value(self._q.account_known) is None
        ):  # (a read-only database can be read when the account is in it already)
            with self._writing() as connection:
                connection.execute(
                    dialects.insert(connection.dialect, self.tables.accounts)
                    .values(account=self.account, directory_version=0, settings=None, next_email=0)
                    .on_conflict_do_nothing()
                )
        self._known_accounts.add(self.account)

    @classmethod
    def open(
        cls,
        url: str | sa.URL,
        *,
        account: str = DEFAULT_ACCOUNT,
        prefix: str = DEFAULT_PREFIX,
        create: bool = True,
        busy_timeout: float = dialects.DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
    ) -> SqlStore:
        """A store on the database at ``url`` (``sqlite:///helpdesk.db``, ``postgresql+psycopg://...``), on
        an engine of its own; :meth:`close` disposes of it.

        Args:
            create: make the schema if the database is empty (a new SQLite file); a database that holds
                other tables is never changed (run ``python -m convostate.sql upgrade URL`` for that).
            busy_timeout: SQLite: seconds a writer waits for another's write lock.
            synchronous: SQLite: ``NORMAL`` (survives the application crashing) or ``FULL`` (survives
                the machine losing power too, slower).

        Raises:
            SchemaMismatch: the database holds another schema, or an older or newer one.
            StorageError: the database cannot be read or written.
        """
        engine = dialects.create_engine(url, busy_timeout=busy_timeout, synchronous=synchronous)
        return cls._on_own_engine(engine, account=account, prefix=prefix, create=create)

    @classmethod
    def _on_own_engine(
        cls, engine: sa.Engine, *, account: str = DEFAULT_ACCOUNT, prefix: str = DEFAULT_PREFIX, create: bool
    ) -> SqlStore:
        """A store that owns ``engine`` (made by :mod:`.dialects`): the schema made in an empty database if
        ``create``, and the engine disposed of on a failure here or by :meth:`close`. (The asyncio facade
        calls this with an asyncio engine's ``sync_engine``, inside a greenlet.)"""
        try:
            if create:
                with _translated("opening the database"), engine.begin() as connection:
                    if schema.is_empty(connection):
                        schema.upgrade(connection, prefix)
            store = cls(engine, account=account, prefix=prefix)
        except BaseException:
            engine.dispose()
            raise
        store._owns_engine = True
        return store

    def close(self) -> None:
        """Close the connections of the engine :meth:`open` made. A host's ``Engine`` or ``Connection`` is
        the host's to close: then this does nothing."""
        if self._owns_engine:
            self.engine.dispose()

    # ------------------------------------------------------------------ accounts

    def for_account(self, account: str) -> SqlStore:
        """The store of ``account`` on this store's engine or connection: its tables, statements and
        decoded directory records are shared, and the schema is not checked again, so opening one costs
        a lookup of the account the first time this process sees it, and nothing after that."""
        name = non_empty_text("account", account)
        if name == self.account:
            return self
        sibling = copy.copy(self)
        sibling.account = name
        sibling._commit = Commit(self.tables, self._q, name)
        sibling._owns_engine = False  # the engine is the first store's to dispose of
        sibling._ensure_account()
        return sibling

    def accounts_due(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        at = micros(check.an_instant("now", now))
        rows = self._rows(self._q.accounts_due, now=at, limit=check.a_limit(limit))
        return [row.account for row in rows]

    def accounts_with_mail(self, now: pendulum.DateTime, *, limit: int) -> Sequence[str]:
        at = micros(check.an_instant("now", now))
        rows = self._rows(self._q.accounts_with_mail, now=at, limit=check.a_limit(limit))
        return [row.account for row in rows]

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        if self._turns is None:
            yield
        else:
            with self._turns:
                yield

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self._turn(), _translated("reading the database"):
            if isinstance(self._bind, sa.Connection):
                yield self._bind
            else:
                with self._bind.connect() as connection:
                    connection.execution_options(**self._reading_options)
                    yield connection

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        with self._turn(), _translated("writing to the database"):
            if isinstance(self._bind, sa.Connection):
                with self._bind.begin_nested():
                    yield self._bind
            else:
                with self._bind.begin() as connection:
                    yield connection

    def _rows(self, statement: sa.Executable, **values: Any) -> Sequence[sa.Row[Any]]:
        with self._reading() as connection:
            return connection.execute(statement, {"account": self.account, **values}).all()

    def _value(self, statement: sa.Executable, **values: Any) -> Any:
        with self._reading() as connection:
            return connection.execute(statement, {"account": self.account, **values}).scalar()

    # ------------------------------------------------------------------ directory

    def _decoded(self, payload: str, type_: type[T]) -> T:
        """A directory record decoded once per stored text: every action reads its user, inbox, settings
        and contact, which change seldom, and the codec costs more than the query. The records are frozen,
        so one decoded value is shared; a changed record is new text, so it is never stale."""
        key = (type_, payload)
        found = self._decode_cache.get(key)
        if found is None:
            found = decode(payload, type_)
            if len(self._decode_cache) >= _DECODE_CACHE_LIMIT:
                self._decode_cache.clear()
            self._decode_cache[key] = found
        return cast(T, found)

    def directory_version(self) -> int:
        return int(self._value(self._q.directory_version))

    def user(self, user_id: UserId) -> User | None:
        payload = self._value(self._q.user, id=check.an_id("user_id", user_id, UserId).value)
        return None if payload is None else self._decoded(payload, User)

    def user_by_email(self, email: str) -> User | None:
        payload = self._value(self._q.user_by_email, email=check.text("email", email).casefold())
        return None if payload is None else self._decoded(payload, User)

    def users(self) -> Sequence[User]:
        return [self._decoded(row.payload, User) for row in self._rows(self._q.users)]

    def inbox(self, inbox_id: InboxId) -> Inbox | None:
        payload = self._value(self._q.inbox, id=check.an_id("inbox_id", inbox_id, InboxId).value)
        return None if payload is None else self._decoded(payload, Inbox)

    def inboxes(self) -> Sequence[Inbox]:
        return [self._decoded(row.payload, Inbox) for row in self._rows(self._q.inboxes)]

    def contact(self, contact_id: ContactId) -> Contact | None:
        payload = self._value(self._q.contact, id=check.an_id("contact_id", contact_id, ContactId).value)
        return None if payload is None else self._decoded(payload, Contact)

    def contact_by_phone(self, phone: str) -> Contact | None:
        payload = self._value(self._q.contact_by_phone, phone=check.text("phone", phone))
        return None if payload is None else self._decoded(payload, Contact)

    def contact_by_email(self, email: str) -> Contact | None:
        payload = self._value(self._q.contact_by_email, email=check.text("email", email).casefold())
        return None if payload is None else self._decoded(payload, Contact)

    def settings(self) -> AccountSettings:
        payload = self._value(self._q.settings)
        return AccountSettings() if payload is None else self._decoded(payload, AccountSettings)

    # ------------------------------------------------------------------ conversation log

    def conversation(self, conversation_id: ConversationId) -> Conversation | None:
        cid = check.an_id("conversation_id", conversation_id, ConversationId)
        payload = self._value(self._q.conversation, id=cid.value)
        return None if payload is None else decode(payload, Conversation)

    def conversation_between(self, contact_id: ContactId, inbox_id: InboxId) -> ConversationId | None:
        contact = check.an_id("contact_id", contact_id, ContactId)
        inbox = check.an_id("inbox_id", inbox_id, InboxId)
        found = self._value(self._q.between, contact=contact.value, inbox=inbox.value)
        return None if found is None else ConversationId(found)

    def delivered_to(self, inbox_id: InboxId, external_id: str) -> ConversationId | None:
        inbox = check.an_id("inbox_id", inbox_id, InboxId)
        text = non_empty_text("external_id", external_id)
        found = self._value(self._q.delivered_to, inbox=inbox.value, external_id=text)
        return None if found is None else ConversationId(found)

    def events(self, conversation_id: ConversationId) -> Sequence[Event]:
        check.an_id("conversation_id", conversation_id, ConversationId)
        return tuple(
            decode_event(row.payload) for row in self._rows(self._q.events, id=conversation_id.value)
        )

    def conversations_assigned_to(self, user_id: UserId, inbox_id: InboxId) -> Sequence[ConversationId]:
        user = check.an_id("user_id", user_id, UserId)
        inbox = check.an_id("inbox_id", inbox_id, InboxId)
        rows = self._rows(self._q.assigned, user=user.value, inbox=inbox.value)
        return [ConversationId(row.conversation_id) for row in rows]

    def conversations_after(self, after: ConversationId | None, *, limit: int) -> Sequence[Conversation]:
        check.a_limit(limit)
        if after is None:
            rows = self._rows(self._q.conversations_first, limit=limit)
        else:
            start = check.an_id("after", after, ConversationId)
            rows = self._rows(self._q.conversations_after, after=start.value, limit=limit)
        return [decode(row.payload, Conversation) for row in rows]

    def rotations(self, rule_ids: Iterable[RuleId]) -> Mapping[RuleId, int]:
        wanted = check.ids("rule_ids", rule_ids, RuleId)
        rows = self._rows(self._q.rotations, rules=[rule.value for rule in wanted])
        turns = {row.rule_id: int(row.turns) for row in rows}
        return {rule: turns.get(rule.value, 0) for rule in wanted}

    # ------------------------------------------------------------------ views

    def tab_page(
        self,
        tab: Tab,
        user_id: UserId,
        inbox_ids: Collection[InboxId],
        *,
        after: Position | None,
        limit: int,
    ) -> Sequence[Conversation]:
        """One keyset read per inbox (each an index range scan of its list), merged newest first."""
        inbox_ids = check.a_tab_page(tab, user_id, inbox_ids, after, limit)
        if not inbox_ids:
            return []
        values: dict[str, Any] = {f"inbox_{n}": inbox.value for n, inbox in enumerate(inbox_ids)}
        if after is not None:
            values.update(after_newest=after.newest_first, after_id=after.conversation_id)
        page = self._q.tab_page(len(inbox_ids), after is not None)
        owner = user_id.value if tab.is_personal else ""
        rows = self._rows(page, tab=tab.value, owner=owner, limit=limit, **values)
        return [decode(row.payload, Conversation) for row in rows]

    def tab_counts(self, user_id: UserId, inbox_ids: Collection[InboxId]) -> dict[Tab, TabCount]:
        """The badge counters kept by every commit: one indexed read, never a count of the tabs' rows."""
        user = check.an_id("user_id", user_id, UserId).value
        inbox_ids = check.inbox_ids(inbox_ids, InboxId)
        totals = dict.fromkeys(_TABS, 0)
        unread = dict.fromkeys(_TABS, 0)
        if inbox_ids:
            rows = self._rows(
                self._q.counters, inboxes=[inbox.value for inbox in inbox_ids], owners=["", user]
            )
            for row in rows:
                tab = Tab(row.tab)
                if tab.is_personal and row.owner != user:
                    continue
                if row.owner == "" or tab.is_personal:
                    totals[tab] += int(row.total)
                unread[tab] += int(row.unread)
        return {tab: TabCount(totals[tab], unread[tab]) for tab in _TABS}

    # ------------------------------------------------------------------ timers

    def due(self, now: pendulum.DateTime, *, limit: int, after: DueTimer | None = None) -> Sequence[DueTimer]:
        now = check.an_instant("now", now)
        check.a_limit(limit)
        check.a_due_timer(after)
        if after is None:
            rows = self._rows(self._q.due, now=micros(now), limit=limit)
        else:
            rows = self._rows(
                self._q.due_after,
                now=micros(now),
                limit=limit,
                after_due=micros(after.due_at),
                after_conversation=after.conversation_id.value,
                after_rule=after.rule_id.value,
            )
        return [_due_timer(row) for row in rows]

    def claim_due(
        self, now: pendulum.DateTime, *, limit: int, until: pendulum.DateTime
    ) -> Sequence[DueTimer]:
        """``UPDATE ... WHERE key IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``: on
        PostgreSQL, workers sweeping at once each claim other timers; SQLite's writer holds the lock."""
        check.a_limit(limit)
        now = check.an_instant("now", now)
        until = check.an_instant("until", until)
        timers = self.tables.timers
        t = timers.c
        at = micros(now)
        free = (
            sa.select(t.conversation_id, t.rule_id)
            .where(
                t.account == self.account,
                t.due_at <= at,
                sa.or_(t.claimed_until.is_(None), t.claimed_until <= at),
            )
            .order_by(t.due_at, t.conversation_id, t.rule_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            sa.update(timers)
            .where(t.account == self.account, sa.tuple_(t.conversation_id, t.rule_id).in_(free))
            .values(claimed_until=micros(until))
            .returning(t.due_at, t.conversation_id, t.rule_id)
        )
        with self._writing() as connection:
            claimed = [_due_timer(row) for row in connection.execute(claim)]
        return sorted(claimed)

    def release(self, timers: Sequence[DueTimer]) -> None:
        timers = check.due_timers(timers)
        if not timers:
            return
        t = self.tables.timers.c
        with self._writing() as connection:
            connection.execute(
                sa.update(self.tables.timers)
                .where(
                    t.account == self.account,
                    t.conversation_id == sa.bindparam("b_conversation"),
                    t.rule_id == sa.bindparam("b_rule"),
                )
                .values(claimed_until=None),
                [
                    {"b_conversation": timer.conversation_id.value, "b_rule": timer.rule_id.value}
                    for timer in timers
                ],
            )

    # ------------------------------------------------------------------ outbox

    def outgoing_email(self, email_id: str) -> OutgoingEmail | None:
        rows = self._rows(self._q.email, id=check.text("email_id", email_id))
        return _outgoing(rows[0]) if rows else None

    def pending_emails(
        self, limit: int, *, due_at: pendulum.DateTime | None = None
    ) -> Sequence[OutgoingEmail]:
        check.a_limit(limit)
        due = check.an_optional_instant("due_at", due_at)
        if due is None:
            return [_outgoing(row) for row in self._rows(self._q.pending, limit=limit)]
        return [_outgoing(row) for row in self._rows(self._q.pending_due, limit=limit, due_at=micros(due))]

    def emails(self, status: EmailStatus, *, limit: int, after: str | None = None) -> Sequence[OutgoingEmail]:
        wanted = check.an_email_status(status)
        check.a_limit(limit)
        after_id = check.an_optional_text("after", after)
        if after_id is None:
            return [_outgoing(row) for row in self._rows(self._q.emails[wanted, False], limit=limit)]
        start = self.outgoing_email(after_id)
        if start is None:
            raise InvalidInput(f"no email {after_id} in the outbox")
        rows = self._rows(
            self._q.emails[wanted, True],
            limit=limit,
            after_created=micros(start.created_at),
            after_enqueued=self._value(self._q.enqueued, id=after_id),
        )
        return [_outgoing(row) for row in rows]

    def conversation_emails(self, conversation_ids: Collection[ConversationId]) -> Sequence[OutgoingEmail]:
        """One read of the outbox (an erasure's, seldom: the outbox has no index on the conversation)."""
        wanted = check.ids("conversation_ids", conversation_ids, ConversationId)
        if not wanted:
            return []
        rows = self._rows(self._q.conversation_emails, conversations=[each.value for each in wanted])
        return [_outgoing(row) for row in rows]

    def claim_email(
        self, email_id: str, at: pendulum.DateTime, until: pendulum.DateTime
    ) -> OutgoingEmail | None:
        check.text("email_id", email_id)
        now = micros(check.an_instant("at", at))
        claimed_until = micros(check.an_instant("until", until))
        outbox = self.tables.outbox
        o = outbox.c
        claim = (
            sa.update(outbox)
            .where(
                o.account == self.account,
                o.id == email_id,
                o.sent_at.is_(None),
                o.failed_at.is_(None),
                sa.or_(o.next_attempt_at.is_(None), o.next_attempt_at <= now),
                sa.or_(o.claimed_until.is_(None), o.claimed_until <= now),
            )
            .values(claimed_until=claimed_until)
            .returning(*outbox.c)
        )
        with self._writing() as connection:
            row = connection.execute(claim).first()
        return None if row is None else _outgoing(row)

    def email_sent(self, email_id: str, at: pendulum.DateTime) -> None:
        check.text("email_id", email_id)
        sent = micros(check.an_instant("at", at))
        self._attempted(email_id, sent_at=sent, last_attempt_at=sent)

    def email_failed(
        self, email_id: str, at: pendulum.DateTime, error: str, *, retry_at: pendulum.DateTime | None
    ) -> None:
        check.text("email_id", email_id)
        failed = micros(check.an_instant("at", at))
        check.text("error", error)
        retry = check.an_optional_instant("retry_at", retry_at)
        self._attempted(
            email_id,
            last_error=error,
            last_attempt_at=failed,
            next_attempt_at=None if retry is None else micros(retry),
            failed_at=failed if retry is None else None,
        )

    def _attempted(self, email_id: str, **values: Any) -> None:
        """One more attempt counted on a pending email, its claim released; a sent or failed one stays as
        it is."""
        outbox = self.tables.outbox
        o = outbox.c
        where = (o.account == self.account, o.id == email_id)
        with self._writing() as connection:
            moved = connection.execute(
                sa.update(outbox)
                .where(*where, o.sent_at.is_(None), o.failed_at.is_(None))
                .values(attempts=o.attempts + 1, claimed_until=None, **values)
            ).rowcount
            if not moved and connection.execute(sa.select(o.id).where(*where)).first() is None:
                raise InvalidInput(f"no email {email_id} in the outbox")

    # ------------------------------------------------------------------ analytics

    def contact_conversations(self, contact_id: ContactId) -> Sequence[Conversation]:
        contact = check.an_id("contact_id", contact_id, ContactId)
        rows = self._rows(self._q.contact_conversations, contact=contact.value)
        return [decode(row.payload, Conversation) for row in rows]

    def contact_totals(self, contact_id: ContactId) -> Mapping[Count | Metric, ContactTotal]:
        contact = check.an_id("contact_id", contact_id, ContactId)
        return analytics.contact_totals(self._rows(self._q.contact_totals, contact=contact.value))

    def contact_durations(self, contact_id: ContactId) -> Sequence[DurationSample]:
        contact = check.an_id("contact_id", contact_id, ContactId)
        return analytics.duration_samples(self._rows(self._q.contact_durations, contact=contact.value))

    def daily_totals(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyTotal]:
        """One range of the key per inbox or user: (scope, id, days)."""
        ids = check.report_scope(scope, scope_ids, first_day, last_day)
        if not ids:
            return []
        rows = self._rows(self._q.daily_totals, **_report(scope, ids, first_day, last_day))
        return analytics.daily_totals(rows)

    def daily_buckets(
        self, scope: Scope, scope_ids: Collection[str], first_day: date, last_day: date
    ) -> Sequence[DailyBucket]:
        ids = check.report_scope(scope, scope_ids, first_day, last_day)
        if not ids:
            return []
        rows = self._rows(self._q.daily_buckets, **_report(scope, ids, first_day, last_day))
        return analytics.daily_buckets(rows)

    # ------------------------------------------------------------------ the one write

    def commit(self, changes: ChangeSet) -> None:
        check.a_change_set(changes)
        for change in changes.conversations:
            if change.tabs is not NO_TAB_CHANGES:
                check.storable_tab_changes(change.tabs)
            if change.facts:
                check.storable_facts(change.facts)
        with self._writing() as connection:
            self._commit.apply(connection, changes)
        if changes.erasure is not None:
            # The decoded records of the erased contact must not outlive the erasure in this process.
            self._decode_cache.clear()


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """The database's errors as convostate's, at the storage boundary."""
    try:
        yield
    except ConvostateError:
        raise
    except (exc.SQLAlchemyError, UnicodeEncodeError) as error:
        translated = dialects.translate(error, where)
        if translated is None:
            raise StorageError(f"{where} failed: {error}") from error
        raise translated from error


def _report(scope: Scope, ids: list[str], first_day: date, last_day: date) -> dict[str, Any]:
    return {
        "scope": scope.value,
        "scope_ids": ids,
        "first_day": analytics.stored_day(first_day),
        "last_day": analytics.stored_day(last_day),
    }


def _due_timer(row: Any) -> DueTimer:
    return DueTimer(instant(row.due_at), ConversationId(row.conversation_id), RuleId(row.rule_id))


def _outgoing(row: Any) -> OutgoingEmail:
    return OutgoingEmail(
        id=row.id,
        conversation_id=ConversationId(row.conversation_id),
        requested_by=UserId(row.requested_by),
        message=bytes(row.message),
        created_at=instant(row.created_at),
        attempts=int(row.attempts),
        last_error=row.last_error,
        last_attempt_at=optional_instant(row.last_attempt_at),
        sent_at=optional_instant(row.sent_at),
        claimed_until=optional_instant(row.claimed_until),
        next_attempt_at=optional_instant(row.next_attempt_at),
        failed_at=optional_instant(row.failed_at),
    )
