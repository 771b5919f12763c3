"""The asyncio facade, ``convostate.aio.AsyncHelpdesk``: the sync facade's methods, awaited, on the memory
store (worker threads), on SQLite through aiosqlite and on PostgreSQL through psycopg's async driver (a
greenlet on the loop); the loop keeps running while a call waits; racing coroutines lose no update; bad
input raises what the sync facade raises and changes nothing.

Each test runs its own event loop (``asyncio.run``): no pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pendulum
import pytest

pytest.importorskip("aiosqlite", reason="the asyncio SQL store needs the [async] extra")

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import greenlet_spawn

from convostate import (
    Batch,
    ContactId,
    ConvostateError,
    DuplicateContact,
    Helpdesk,
    InboxId,
    InvalidInput,
    MemoryStore,
    NotAMember,
    PermissionDenied,
    Role,
    SchemaMismatch,
    Tab,
    UnknownInbox,
    UserId,
)
from convostate.aio import AsyncBatch, AsyncHelpdesk, open_sql_store
from convostate.sql import DEFAULT_PREFIX, SqlStore, upgrade
from convostate.testing import CollectingMailer, ManualClock, SequentialIds
from tests.sql_stores import POSTGRES_URL, TEST_PREFIX, dump, needs_postgres, postgres_engine

T = TypeVar("T")
START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
KINDS = ["memory", "aiosqlite", pytest.param("postgres", marks=needs_postgres)]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@asynccontextmanager
async def opened(kind: str, tmp_path: Path, **options: Any) -> AsyncIterator[AsyncHelpdesk]:
    """An empty helpdesk of ``kind``, disconnected on leaving."""
    options.setdefault("clock", ManualClock(START))
    options.setdefault("ids", SequentialIds())
    if kind == "memory":
        desk = AsyncHelpdesk(**options)
    elif kind == "aiosqlite":
        store = await open_sql_store(f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}")
        desk = AsyncHelpdesk(store=store, **options)
    else:
        postgres_engine()  # the run's schema, made once under TEST_PREFIX
        store = await open_sql_store(
            POSTGRES_URL, account=f"test-{uuid.uuid4()}", prefix=TEST_PREFIX, create=False
        )
        desk = AsyncHelpdesk(store=store, **options)
    async with desk:
        yield desk


async def snapshot(desk: AsyncHelpdesk) -> object:
    """Everything the store holds, comparable with ``==``."""
    store = desk.store
    if isinstance(store, MemoryStore):
        return store.dump()
    assert isinstance(store, SqlStore)
    return await greenlet_spawn(dump, store)


async def account(desk: AsyncHelpdesk) -> tuple[UserId, UserId, UserId, InboxId, ContactId]:
    """An admin, ana and ben in Support, and a contact, Maria."""
    admin = (await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)).id
    ana = (await desk.add_user("Ana", "ana@example.com", by=admin)).id
    ben = (await desk.add_user("Ben", "ben@example.com", by=admin)).id
    support = (await desk.add_inbox("Support", members=[ana, ben], by=admin)).id
    maria = (await desk.add_contact(name="Maria", phone="+15555550100")).id
    return admin, ana, ben, support, maria


async def while_ticking(call: Awaitable[T], *, at_least: int) -> tuple[T, int]:
    """Await ``call`` while a heartbeat task ticks every 10 ms; the ticks counted while it ran."""
    ticks = 0
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not stop.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    try:
        result = await call
    finally:
        stop.set()
        await beating
    assert ticks >= at_least, f"the loop ticked {ticks} times while the call waited: it was blocked"
    return result, ticks


# ---------------------------------------------------------------- the same interface as Helpdesk


def _public(cls: type) -> dict[str, Any]:
    return {name: value for name, value in vars(cls).items() if not name.startswith("_")}


def test_every_public_method_and_property_of_helpdesk_is_on_async_helpdesk_with_its_signature() -> None:
    sync, async_ = _public(Helpdesk), _public(AsyncHelpdesk)
    attributes = {"store", "clock", "mailer", "ids", "sender"}  # instance attributes of Helpdesk
    assert set(async_) == set(sync) | attributes | {"open"}
    for name, member in sync.items():
        mine = async_[name]
        if isinstance(member, property):
            assert isinstance(mine, property), name
            assert (mine.fset is None) == (member.fset is None), name
            continue
        if name == "open":
            continue  # below: it also takes the host's AsyncEngine
        if name == "batch":  # reads nothing: a plain call giving the awaitable batch
            assert inspect.signature(mine).return_annotation == "AsyncBatch"
            assert _public(AsyncBatch).keys() == _public(Batch).keys()
            continue
        assert inspect.iscoroutinefunction(mine), f"{name} is not async"
        theirs = inspect.signature(member)
        if theirs.return_annotation == "Helpdesk":  # for_account: the async helpdesk of the account
            theirs = theirs.replace(return_annotation="AsyncHelpdesk")
        assert inspect.signature(mine) == theirs, name
    ours, theirs = inspect.signature(AsyncHelpdesk.open), inspect.signature(Helpdesk.open)
    assert list(ours.parameters) == list(theirs.parameters)
    assert ours.parameters["url"].annotation == "str | AsyncEngine"
    assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]
    assert inspect.signature(AsyncHelpdesk.__init__) == inspect.signature(Helpdesk.__init__)
    assert inspect.iscoroutinefunction(AsyncHelpdesk.open.__func__)  # type: ignore[attr-defined]


def test_open_sql_store_takes_the_sync_stores_defaults() -> None:
    defaults = {
        name: p.default for name, p in inspect.signature(open_sql_store).parameters.items() if name != "bind"
    }
    sync = {
        name: p.default for name, p in inspect.signature(SqlStore.open).parameters.items() if name != "url"
    }
    assert defaults == sync
    assert defaults["prefix"] == DEFAULT_PREFIX


# ---------------------------------------------------------------- the facade's examples, on every store


@pytest.mark.parametrize("kind", KINDS)
def test_a_conversation_is_received_assigned_closed_listed_and_counted(kind: str, tmp_path: Path) -> None:
    async def story() -> None:
        async with opened(kind, tmp_path) as desk:
            admin, ana, _ben, support, maria = await account(desk)
            first = await desk.receive(maria, support, "My order is late", external_id="SM1")
            again = await desk.receive(maria, support, "My order is late", external_id="SM1")
            assert again.conversation == first.conversation
            assert not again.changed
            cid = first.conversation.id
            assert [c.id for c in (await desk.tab(ana, Tab.UNASSIGNED)).conversations] == [cid]
            assert (await desk.badges(ana))[Tab.UNASSIGNED].unread == 1
            await desk.assign(cid, ana, by=admin)
            assert [u.id for u in await desk.participants(cid)] == [ana]
            assert (await desk.badges(ana))[Tab.ASSIGNED_TO_YOU].unread == 1
            await desk.mark_read(cid, by=ana)
            await desk.star(cid, by=ana)
            await desk.reply(cid, "On its way", by=ana)
            closed = await desk.close(cid, by=ana)
            assert not closed.conversation.is_open
            assert [c.id for c in (await desk.tab(ana, Tab.CLOSED)).conversations] == [cid]
            assert [c.id for c in (await desk.tab(ana, Tab.STARRED)).conversations] == [cid]
            assert len(await desk.history(cid)) == (await desk.conversation(cid)).version
            info = await desk.contact_info(maria, by=admin)
            assert (info.figures.messages_in, info.figures.messages_out, info.closed) == (1, 1, 1)
            assert await desk.find_contact(phone="+1 555 555 0100") == await desk.contact(maria)
            assert [u.id for u in await desk.search_users("an", inbox_id=support)] == [ana]

    run(story())


@pytest.mark.parametrize("kind", KINDS)
def test_timers_run_when_due_and_exports_are_mailed(kind: str, tmp_path: Path) -> None:
    async def story() -> None:
        mailer, clock = CollectingMailer(), ManualClock(START)
        async with opened(kind, tmp_path, mailer=mailer, clock=clock) as desk:
            admin, ana, _ben, support, maria = await account(desk)
            cid = (await desk.receive(maria, support, "Hello")).conversation.id
            await desk.snooze(cid, START.add(hours=2), by=ana)
            assert await desk.due() == []
            clock.advance(hours=3)
            assert [timer.conversation_id for timer in await desk.due()] == [cid]
            sweep = await desk.run_due()
            assert [outcome.conversation.id for outcome in sweep.acted] == [cid]
            assert (await desk.conversation(cid)).snoozed_until is None
            assert (await desk.run_due()).acted == ()

            exported = await desk.export(cid, by=ana)
            assert exported.delivered
            assert len(mailer.sent) == 1
            assert mailer.sent[0]["To"] == "Ana <ana@example.com>"
            mailer.fail_next()
            assert not (await desk.export(cid, by=admin)).delivered
            pending = await desk.emails()
            assert len(pending) == 1
            clock.advance(hours=1)
            delivery = await desk.deliver_pending()
            assert [email.id for email in delivery.sent] == [pending[0].id]
            assert len(mailer.sent) == 2

    run(story())


@pytest.mark.parametrize("kind", KINDS)
def test_settings_reports_availability_and_membership(kind: str, tmp_path: Path) -> None:
    async def story() -> None:
        async with opened(kind, tmp_path) as desk:
            admin, ana, ben, support, maria = await account(desk)
            settings = await desk.update_settings(by=admin, timezone="Europe/Paris")
            assert (await desk.settings()) == settings
            await desk.receive(maria, support, "Hello")
            report = await desk.report(
                by=admin, inbox_id=support, first_day=START.date(), last_day=START.date()
            )
            assert report.total.messages_in == 1
            solo = await desk.add_single_user_inbox("Ana's line", owner=ana, by=admin)
            assert (await desk.inbox(solo.id)).owner == ana
            await desk.remove_member(support, ben, by=admin)
            assert ben not in (await desk.inbox(support)).members
            await desk.add_member(support, ben, by=admin)
            assert (await desk.user(ben)).name == "Ben"

    run(story())


# ---------------------------------------------------------------- the loop is never blocked


def test_a_call_waiting_for_the_memory_stores_lock_leaves_the_loop_running() -> None:
    async def story() -> None:
        store = MemoryStore()
        desk = AsyncHelpdesk(store=store)
        held, release = threading.Event(), threading.Event()

        def hold_the_lock() -> None:
            with store._lock:
                held.set()
                release.wait(5)

        holder = threading.Thread(target=hold_the_lock)
        holder.start()
        held.wait(5)
        asyncio.get_running_loop().call_later(0.3, release.set)
        user, _ticks = await while_ticking(
            desk.add_user("Ana", "ana@example.com", role=Role.ADMIN), at_least=10
        )
        holder.join()
        assert await desk.user(user.id) == user

    run(story())


def test_a_call_waiting_for_sqlites_write_lock_leaves_the_loop_running(tmp_path: Path) -> None:
    async def story() -> None:
        async with opened("aiosqlite", tmp_path) as desk:
            admin, _ana, _ben, support, maria = await account(desk)
            other = sqlite3.connect(tmp_path / "helpdesk.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            asyncio.get_running_loop().call_later(0.5, other.execute, "ROLLBACK")
            started = time.monotonic()
            outcome, _ = await while_ticking(desk.receive(maria, support, "Hello"), at_least=20)
            assert time.monotonic() - started >= 0.45  # it did wait for the lock
            assert outcome.changed
            other.close()
            assert (await desk.badges(admin))[Tab.UNASSIGNED].total == 1

    run(story())


class SlowMailer:
    """A mailer whose send blocks its thread (an SMTP server slow to answer)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: list[EmailMessage] = []
        self.threads: set[str] = set()

    def send(self, message: EmailMessage) -> None:
        time.sleep(self.seconds)
        self.threads.add(threading.current_thread().name)
        self.sent.append(message)


@pytest.mark.parametrize("kind", ["memory", "aiosqlite"])
def test_a_slow_mailer_sends_in_a_worker_thread(kind: str, tmp_path: Path) -> None:
    async def story() -> None:
        mailer = SlowMailer(0.3)
        async with opened(kind, tmp_path, mailer=mailer) as desk:
            _admin, ana, _ben, support, maria = await account(desk)
            assert desk.mailer is mailer
            cid = (await desk.receive(maria, support, "Hello")).conversation.id
            exported, _ = await while_ticking(desk.export(cid, by=ana), at_least=10)
            assert exported.delivered
            assert len(mailer.sent) == 1
            assert threading.main_thread().name not in mailer.threads

    run(story())


# ---------------------------------------------------------------- racing coroutines


@pytest.mark.parametrize("kind", ["aiosqlite", pytest.param("postgres", marks=needs_postgres)])
def test_coroutines_racing_on_one_conversation_lose_no_message(kind: str, tmp_path: Path) -> None:
    racers = 20

    async def story() -> None:
        async with opened(kind, tmp_path, attempts=3 * racers) as desk:
            admin, _ana, _ben, support, maria = await account(desk)
            outcomes = await asyncio.gather(
                *(
                    desk.receive(maria, support, f"message {n}", external_id=f"SM{n % 10}")
                    for n in range(racers)
                )
            )
            conversations = {outcome.conversation.id for outcome in outcomes}
            assert len(conversations) == 1
            cid = conversations.pop()
            assert sum(outcome.changed for outcome in outcomes) == 10  # each message id delivered once
            assert (await desk.conversation(cid)).version == 1 + 10  # started, and ten messages
            assert (await desk.contact_info(maria, by=admin)).figures.messages_in == 10
            assert (await desk.badges(admin))[Tab.UNASSIGNED].total == 1

    run(story())


@pytest.mark.parametrize("kind", ["aiosqlite", pytest.param("postgres", marks=needs_postgres)])
def test_coroutines_adding_the_same_new_phone_make_one_contact(kind: str, tmp_path: Path) -> None:
    async def story() -> None:
        async with opened(kind, tmp_path) as desk:
            added = await asyncio.gather(
                *(desk.add_contact(name=f"Maria {n}", phone="+15555550199") for n in range(12)),
                return_exceptions=True,
            )
            made = [contact for contact in added if not isinstance(contact, BaseException)]
            refused = [error for error in added if isinstance(error, BaseException)]
            assert len(made) == 1
            assert all(isinstance(error, DuplicateContact) for error in refused)
            assert {error.existing for error in refused if isinstance(error, DuplicateContact)} == {
                made[0].id
            }
            assert await desk.find_contact(phone="+15555550199") == made[0]

    run(story())


# ---------------------------------------------------------------- bad input


def _bad_calls(
    admin: UserId, ana: UserId, support: InboxId, maria: ContactId, outsider: UserId
) -> list[tuple[str, Callable[[Any], Awaitable[object] | object]]]:
    return [
        ("empty name", lambda d: d.add_user("", "x@example.com", by=admin)),
        ("not an email", lambda d: d.add_user("X", "not an email", by=admin)),
        ("an agent adds a user", lambda d: d.add_user("X", "x@example.com", by=ana)),
        ("unknown inbox", lambda d: d.receive(maria, InboxId("nope"), "Hello")),
        ("not a phone", lambda d: d.add_contact(phone="call me")),
        ("a duplicate phone", lambda d: d.add_contact(phone="+15555550100")),
        ("empty body", lambda d: d.receive(maria, support, "")),
        ("a naive sent_at", lambda d: d.receive(maria, support, "Hi", sent_at=START.naive())),
        ("an empty user id", lambda d: d.add_member(support, UserId(""), by=admin)),
        ("an outsider reads a contact", lambda d: d.contact_info(maria, by=outsider)),
        ("a zero limit", lambda d: d.tab(ana, Tab.UNASSIGNED, limit=0)),
        ("a bad cursor", lambda d: d.tab(ana, Tab.UNASSIGNED, cursor="!!")),
        ("settings by an agent", lambda d: d.update_settings(by=ana, exports_enabled=False)),
        ("an unknown setting", lambda d: d.update_settings(by=admin, colour="red")),
    ]


async def _setup(desk: Any) -> tuple[UserId, UserId, InboxId, ContactId, UserId]:
    async def call(value: Any) -> Any:
        return await value if inspect.isawaitable(value) else value

    admin = (await call(desk.add_user("Alex", "alex@example.com", role=Role.ADMIN))).id
    ana = (await call(desk.add_user("Ana", "ana@example.com", by=admin))).id
    outsider = (await call(desk.add_user("Olga", "olga@example.com", by=admin))).id
    support = (await call(desk.add_inbox("Support", members=[ana], by=admin))).id
    maria = (await call(desk.add_contact(name="Maria", phone="+15555550100"))).id
    await call(desk.receive(maria, support, "Hello"))
    return admin, ana, support, maria, outsider


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_raises_what_the_sync_facade_raises_and_changes_nothing(kind: str, tmp_path: Path) -> None:
    sync = Helpdesk(clock=ManualClock(START), ids=SequentialIds())

    async def sync_setup() -> tuple[UserId, UserId, InboxId, ContactId, UserId]:
        return await _setup(sync)

    sync_ids = run(sync_setup())
    expected: dict[str, str] = {}
    for what, call in _bad_calls(*sync_ids):
        with pytest.raises(ConvostateError) as raised:
            call(sync)
        expected[what] = type(raised.value).__name__

    async def story() -> None:
        async with opened(kind, tmp_path) as desk:
            ids = await _setup(desk)
            assert ids == sync_ids  # the same sequential ids: the same calls
            before = await snapshot(desk)
            for what, call in _bad_calls(*ids):
                with pytest.raises(ConvostateError) as raised:
                    await call(desk)  # type: ignore[misc]
                assert type(raised.value).__name__ == expected[what], what
            assert await snapshot(desk) == before

    run(story())


def test_the_errors_are_the_sync_facades_classes() -> None:
    async def story() -> None:
        desk = AsyncHelpdesk()
        admin = (await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)).id
        with pytest.raises(UnknownInbox):
            await desk.inbox(InboxId("nope"))
        with pytest.raises(InvalidInput):
            await desk.add_inbox("", by=admin)
        agent = (await desk.add_user("Ana", "ana@example.com", by=admin)).id
        with pytest.raises(PermissionDenied):
            await desk.add_inbox("Sales", by=agent)
        support = (await desk.add_inbox("Support", by=admin)).id
        maria = (await desk.add_contact(name="Maria")).id
        cid = (await desk.receive(maria, support, "Hi")).conversation.id
        with pytest.raises(NotAMember):
            await desk.assign(cid, agent, by=admin)
        with pytest.raises(InvalidInput):
            desk.attempts = 0
        assert desk.attempts == 5

    run(story())


# ---------------------------------------------------------------- opening a database


def test_a_sync_driver_or_an_in_memory_database_is_refused(tmp_path: Path) -> None:
    async def story() -> None:
        for url in (
            f"sqlite:///{tmp_path / 'sync.db'}",
            "sqlite+aiosqlite://",
            "sqlite+aiosqlite:///:memory:",
        ):
            with pytest.raises(InvalidInput, match="sqlite\\+aiosqlite:///"):
                await AsyncHelpdesk.open(url)
        with pytest.raises(InvalidInput, match="synchronous"):
            await open_sql_store(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", synchronous="SOMETIMES")
        with pytest.raises(InvalidInput):
            await open_sql_store(42)  # type: ignore[arg-type]
        assert not (tmp_path / "sync.db").exists()
        assert not (tmp_path / "x.db").exists()

    run(story())


def test_a_database_survives_a_restart_and_the_host_can_bring_its_own_engine(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}"

    async def story() -> None:
        async with await AsyncHelpdesk.open(url) as desk:
            admin = await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)
        engine = create_async_engine(url)
        try:
            async with await AsyncHelpdesk.open(engine) as desk:
                assert await desk.user(admin.id) == admin
            async with engine.connect() as connection:  # the host's engine is still open
                assert (await connection.exec_driver_sql("SELECT 1")).scalar() == 1
        finally:
            await engine.dispose()

        other = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
        try:
            async with other.begin() as connection:
                await connection.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
            with pytest.raises(SchemaMismatch, match=r"python -m convostate\.sql upgrade"):
                await AsyncHelpdesk.open(other)
            async with other.begin() as connection:
                await connection.run_sync(upgrade)  # the host runs convostate's migrations
            async with await AsyncHelpdesk.open(other) as desk:
                assert (await desk.add_user("Ana", "ana@example.com", role=Role.ADMIN)).name == "Ana"
        finally:
            await other.dispose()

    run(story())


def test_a_store_opened_with_its_own_options_uses_them(tmp_path: Path) -> None:
    async def story() -> None:
        store = await open_sql_store(
            f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}", prefix="desk_", busy_timeout=7.5
        )
        async with AsyncHelpdesk(store=store) as desk:
            await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)

            def pragmas() -> tuple[Any, ...]:
                with store.engine.connect() as connection:
                    return (
                        connection.exec_driver_sql("PRAGMA busy_timeout").scalar(),
                        connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                        connection.exec_driver_sql("PRAGMA foreign_keys").scalar(),
                        sorted(sa.inspect(connection).get_table_names())[0],
                    )

            assert await greenlet_spawn(pragmas) == (7500, "wal", 1, "desk_accounts")

    run(story())


# ---------------------------------------------------------------- many accounts


def test_accounts_on_one_async_store_keep_apart_and_are_swept_fairly(tmp_path: Path) -> None:
    asyncio.run(_accounts(f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"))


async def _accounts(url: str) -> None:
    clock = ManualClock(START)
    async with await AsyncHelpdesk.open(url, clock=clock) as service:
        for name in ("acme", "globex"):
            desk = await service.for_account(name)
            assert desk.account == name
            admin = (await desk.add_user("Alex", "alex@example.com", role=Role.ADMIN)).id
            inbox = (await desk.add_inbox("Support", members=[admin], by=admin)).id
            maria = await desk.contact_for(phone="+15555550100")
            assert await desk.contact_for(phone="+1 555 555 0100") == maria
            opened = (await desk.receive(maria.id, inbox, "Hello")).conversation.id
            await desk.snooze(opened, clock.now().add(minutes=5), by=admin)
        clock.advance(minutes=10)
        swept = await service.run_due_everywhere()
        assert {name: len(sweep.acted) for name, sweep in swept.items()} == {"acme": 1, "globex": 1}
        assert await service.run_due_everywhere() == {}
