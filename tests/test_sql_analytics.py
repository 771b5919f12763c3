"""The SQL store's contact analytics: the same figures as the memory store for the same actions; counters
that concurrent writers add to without losing an increment (the upsert is atomic, nothing is read back);
one contact per phone and email even when two writers add the same one at once; and a database made by the
previous release (revision 0001) refused with the command to run, then upgraded with its data kept."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from alembic import command

from convostate import (
    Contact,
    ContactId,
    ConversationId,
    DuplicateContact,
    Helpdesk,
    InboxId,
    MemoryStore,
    Role,
    SchemaMismatch,
    Store,
    UserId,
)
from convostate._adapters.sql import schema
from convostate._adapters.sql.tables import Tables
from convostate._core.analytics.durations import bucket_of
from convostate._core.analytics.facts import Count, Fact, Metric, Scope, observe
from convostate.ports import ChangeSet, ConversationChange
from convostate.sql import SqlStore, upgrade
from convostate.testing import ManualClock, SequentialIds
from tests import sql_workers
from tests.sql_stores import (
    POSTGRES_URL,
    TEST_PREFIX,
    drop_prefix,
    heavy,
    needs_postgres,
    postgres_engine,
    postgres_store,
)

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")
DAYS = (START.date() - timedelta(days=1), START.date() + timedelta(days=3))
DATABASES = ["sqlite", pytest.param("postgres", marks=needs_postgres)]


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[str], SqlStore]]:
    opened: list[SqlStore] = []

    def make(database: str) -> SqlStore:
        store = (
            SqlStore.open(f"sqlite:///{tmp_path / f'helpdesk-{len(opened)}.db'}")
            if database == "sqlite"
            else postgres_store()
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# ---------------------------------------------------------------- the memory store's figures


def _busy_week(store: Store) -> tuple[list[ContactId], list[InboxId], list[UserId]]:
    """Two inboxes, two agents, three contacts: messages, replies, assignments, closes and reopens over
    three days, every id and instant the same on every store."""
    clock = ManualClock(START)
    helpdesk = Helpdesk(store=store, clock=clock, ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    ben = helpdesk.add_user("Ben Okafor", "ben@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana, ben], by=admin).id
    sales = helpdesk.add_inbox("Sales", members=[ben], by=admin).id
    maria = helpdesk.add_contact(name="Maria", phone="+15555550101", email="Maria@Example.com").id
    li = helpdesk.add_contact(name="Li", email="li@example.com").id
    sam = helpdesk.add_contact(name="Sam", phone="+442079460958").id
    for day in range(3):
        for contact, inbox, agent in ((maria, support, ana), (li, support, ben), (maria, sales, ben)):
            clock.advance(minutes=7)
            conversation = helpdesk.receive(contact, inbox, "Hello").conversation.id
            clock.advance(seconds=40 + 13 * day)
            helpdesk.assign(conversation, agent, by=admin)
            helpdesk.reply(conversation, "Hi, on it", by=agent)
            clock.advance(minutes=3)
            helpdesk.receive(contact, inbox, "Thanks, and also...")
            clock.advance(hours=2)
            helpdesk.reply(conversation, "Done", by=agent)
            if day < 2:
                helpdesk.close(conversation, by=agent)
        clock.advance(hours=20)
    helpdesk.receive(sam, sales, "Anyone?")
    return [maria, li, sam, ContactId("nobody")], [support, sales], [admin, ana, ben]


def _figures(store: Store) -> dict[str, Any]:
    contacts, inboxes, users = _busy_week(store)
    figures: dict[str, Any] = {"contacts": contacts}
    for contact in contacts:
        figures[f"conversations of {contact}"] = [each.id for each in store.contact_conversations(contact)]
        figures[f"totals of {contact}"] = dict(store.contact_totals(contact))
        figures[f"durations of {contact}"] = list(store.contact_durations(contact))
    for scope, ids in (
        (Scope.INBOX, [inbox.value for inbox in inboxes]),
        (Scope.USER, [u.value for u in users]),
    ):
        for first, last in (DAYS, (START.date(), START.date()), (DAYS[0], DAYS[0])):
            totals = store.daily_totals(scope, [*ids, "unknown"], first, last)
            buckets = store.daily_buckets(scope, ids, first, last)
            figures[f"{scope} days {first}..{last}"] = sorted(totals, key=repr)
            figures[f"{scope} buckets {first}..{last}"] = sorted(buckets, key=repr)
    figures["by phone"] = store.contact_by_phone("+442079460958")
    figures["by email"] = store.contact_by_email("MARIA@example.COM")
    figures["by another email"] = store.contact_by_email("nobody@example.com")
    return figures


@pytest.mark.parametrize("database", DATABASES)
def test_the_figures_are_the_memory_stores(database: str, make_store: Callable[[str], SqlStore]) -> None:
    expected, found = _figures(MemoryStore()), _figures(make_store(database))
    assert found == expected
    maria = expected["contacts"][0]
    assert expected[f"totals of {maria}"][Count.MESSAGES_IN].count == 12
    assert len(expected[f"durations of {maria}"]) > 6
    assert len(expected[f"{Scope.USER} buckets {DAYS[0]}..{DAYS[1]}"]) > 2
    assert expected["by email"].name == "Maria"


# ---------------------------------------------------------------- concurrent writers


def _two_conversations(store: SqlStore) -> tuple[InboxId, list[ConversationId]]:
    helpdesk = Helpdesk(store=store, clock=ManualClock(START), ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    support = helpdesk.add_inbox("Support", members=[admin], by=admin).id
    conversations = []
    for name in ("First", "Second"):
        contact = helpdesk.add_contact(name=name).id
        conversations.append(helpdesk.receive(contact, support, "Hi").conversation.id)
    return support, conversations


def _facts_only(store: SqlStore, conversation: ConversationId, inbox: InboxId) -> ChangeSet:
    """A change of no event that adds a message and a reply time to the inbox's day and to one contact
    (the same for every conversation): every writer adds to the same rows."""
    state = store.conversation(conversation)
    assert state is not None
    at, day, each = START.add(hours=1), START.date(), conversation.value
    facts = (
        Fact(Scope.INBOX, inbox.value, Count.MESSAGES_IN, 1, at, day, each),
        Fact(Scope.INBOX, inbox.value, Metric.REPLY, 5_000_000, at, day, each),
        Fact(Scope.CONTACT, "shared", Count.MESSAGES_IN, 1, at, day, each),
    )
    return ChangeSet(conversations=(ConversationChange(state, (), state.version, facts=facts),))


@pytest.mark.parametrize("database", DATABASES)
def test_a_writer_waiting_on_anothers_day_counters_adds_to_them_after_it_commits(
    database: str, make_store: Callable[[str], SqlStore]
) -> None:
    store = make_store(database)
    inbox, (first, second) = _two_conversations(store)
    other = SqlStore(store.engine, account=store.account, prefix=store.tables.prefix)
    before = _day(store, inbox)
    failed: list[BaseException] = []

    def second_writer() -> None:
        try:
            other.commit(_facts_only(store, second, inbox))
        except BaseException as error:
            failed.append(error)

    waiting = threading.Thread(target=second_writer)
    with store.engine.connect() as host, host.begin():
        # The first writer's rows (PostgreSQL) or the write lock (SQLite) are held until the host commits.
        SqlStore(host, account=store.account, prefix=store.tables.prefix).commit(
            _facts_only(store, first, inbox)
        )
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive(), "the second writer did not wait for the first"
    waiting.join()
    assert failed == []
    after = _day(store, inbox)
    assert after[Count.MESSAGES_IN] == (before[Count.MESSAGES_IN][0] + 2, before[Count.MESSAGES_IN][1] + 2)
    assert after[Metric.REPLY] == (2, 10_000_000)
    buckets = store.daily_buckets(Scope.INBOX, [inbox.value], START.date(), START.date())
    assert [(b.metric, b.bucket, b.count, b.total) for b in buckets] == [
        (Metric.REPLY, bucket_of(5_000_000), 2, 10_000_000)
    ]
    assert store.contact_totals(ContactId("shared"))[Count.MESSAGES_IN].count == 2


def _day(store: SqlStore, inbox: InboxId) -> dict[Count | Metric, tuple[int, int]]:
    rows = store.daily_totals(Scope.INBOX, [inbox.value], START.date(), START.date())
    return {row.kind: (row.count, row.total) for row in rows}


@pytest.mark.parametrize("database", DATABASES)
def test_two_writers_adding_the_same_phone_at_once_make_one_contact(
    database: str, make_store: Callable[[str], SqlStore]
) -> None:
    store = make_store(database)
    other = SqlStore(store.engine, account=store.account, prefix=store.tables.prefix)
    refused: list[BaseException] = []

    def second_writer() -> None:
        try:
            other.commit(ChangeSet(contacts=(Contact(ContactId("late"), "Late", phone="+15555550199"),)))
        except BaseException as error:
            refused.append(error)

    waiting = threading.Thread(target=second_writer)
    with store.engine.connect() as host, host.begin():
        SqlStore(host, account=store.account, prefix=store.tables.prefix).commit(
            ChangeSet(contacts=(Contact(ContactId("early"), "Early", phone="+15555550199"),))
        )
        waiting.start()
        time.sleep(0.5)
    waiting.join()
    assert len(refused) == 1
    assert isinstance(refused[0], DuplicateContact)
    assert refused[0].existing == ContactId("early")
    assert store.contact(ContactId("late")) is None
    found = store.contact_by_phone("+15555550199")
    assert found is not None
    assert found.id == ContactId("early")


def _expected_days(store: SqlStore) -> dict[tuple[str, str, date, str], list[int]]:
    """What the day counters must hold: every conversation's facts, worked out again from its events."""
    sums: dict[tuple[str, str, date, str], list[int]] = {}
    for conversation, _ in sql_workers.hot_conversations(store):
        state = store.conversation(conversation)
        inbox = None if state is None else store.inbox(state.inbox_id)
        owner = None if inbox is None else inbox.owner
        for fact in observe(None, store.events(conversation), "UTC", owner=owner):
            if fact.scope is not Scope.CONTACT:
                sum_ = sums.setdefault((fact.scope.value, fact.scope_id, fact.day, fact.kind.value), [0, 0])
                sum_[0] += 1
                sum_[1] += fact.value
    return sums


def _check_days(store: SqlStore) -> None:
    expected = _expected_days(store)
    found: dict[tuple[str, str, date, str], list[int]] = {}
    for scope in (Scope.INBOX, Scope.USER):
        ids = [inbox.id.value for inbox in store.inboxes()] + [user.id.value for user in store.users()]
        for row in store.daily_totals(scope, ids, *DAYS):
            found[(scope.value, row.scope_id, row.day, row.kind.value)] = [row.count, row.total]
    assert found == expected
    assert sum(count for (_, _, _, kind), (count, _) in found.items() if kind == "messages_in") > 0


def test_threads_chatting_on_a_sqlite_file_lose_no_count(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    SqlStore.open(url).close()
    store = sql_workers.open_store(url, "default", "convostate_")
    try:
        contacts = sql_workers.set_up_chat(store, 2)
        threads = [
            threading.Thread(target=sql_workers.chat, args=(url, "default", "convostate_", contact, 15))
            for contact in contacts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _check_days(store)
    finally:
        store.close()


@heavy
@needs_postgres
def test_processes_chatting_on_postgres_lose_no_count() -> None:
    postgres_engine()
    account = f"chat-{uuid.uuid4()}"
    store = sql_workers.open_store(POSTGRES_URL, account, TEST_PREFIX)
    try:
        contacts = sql_workers.set_up_chat(store, 4)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tests.sql_workers"])
        with context.Pool(4) as pool:
            pool.starmap(sql_workers.chat, [(POSTGRES_URL, account, TEST_PREFIX, c, 40) for c in contacts])
        _check_days(store)
    finally:
        store.close()


# ---------------------------------------------------------------- the upgrade from revision 0001


def _at_0001(connection: sa.Connection, prefix: str) -> None:
    config = schema._config(prefix)
    config.attributes["connection"] = connection
    command.upgrade(config, "0001")


def _copy_at_0001(source: SqlStore, target: sa.Connection, prefix: str) -> None:
    """The source account's rows, in the columns revision 0001 has: what the previous release wrote."""
    inspector = sa.inspect(target)
    names = set(inspector.get_table_names())
    with source.engine.connect() as reading:
        for table in source.tables.metadata.sorted_tables:
            name = prefix + table.name[len(source.tables.prefix) :]
            if name not in names:
                continue
            columns = [column["name"] for column in inspector.get_columns(name)]
            rows = reading.execute(
                sa.select(*(table.c[column] for column in columns)).where(table.c.account == source.account)
            ).all()
            if rows:
                old = sa.table(name, *(sa.column(column) for column in columns))
                target.execute(old.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def _check_upgraded(store: SqlStore, conversation: ConversationId, contact: ContactId) -> None:
    assert [user.name for user in store.users()] == ["Alex Morgan", "Ana Lima"]
    assert store.events(conversation)[0].at == START
    state = store.conversation(conversation)
    assert state is not None
    assert state.contact_id == contact
    by_phone = store.contact_by_phone("+15555550101")
    assert by_phone is not None
    assert by_phone.id == contact
    assert store.contact_by_email("MARIA@example.com") == by_phone
    assert store.contact_conversations(contact) == [state]
    helpdesk = Helpdesk(store=store, clock=ManualClock(START.add(days=1)))
    with pytest.raises(DuplicateContact):
        helpdesk.add_contact(name="Maria again", email="maria@EXAMPLE.com")
    assert store.contact_totals(contact)[Count.MESSAGES_IN].count == 1  # counted from the events
    assert [sample.metric for sample in store.contact_durations(contact)] == [
        Metric.FIRST_RESPONSE,
        Metric.REPLY,
    ]
    _check_days(store)
    helpdesk.receive(contact, state.inbox_id, "Any news?")
    assert store.contact_totals(contact)[Count.MESSAGES_IN].count == 2
    _check_days(store)


def _fill_previous_release(store: SqlStore) -> tuple[ConversationId, ContactId]:
    helpdesk = Helpdesk(store=store, clock=ManualClock(START), ids=SequentialIds())
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana], by=admin).id
    contact = helpdesk.add_contact(name="Maria", phone="+15555550101", email="Maria@Example.com").id
    conversation = helpdesk.receive(contact, support, "My order is late").conversation.id
    helpdesk.reply(conversation, "On it", by=ana)
    return conversation, contact


def test_a_sqlite_file_of_revision_0001_is_refused_then_upgraded_with_its_data(tmp_path: Path) -> None:
    source = SqlStore.open(f"sqlite:///{tmp_path / 'source.db'}")
    conversation, contact = _fill_previous_release(source)
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        _at_0001(connection, "convostate_")
        _copy_at_0001(source, connection, "convostate_")
    engine.dispose()
    source.close()
    with pytest.raises(
        SchemaMismatch,
        match=r"older \(revision 0001\) than this release's \(0002\): back it up, then run: "
        r"python -m convostate.sql upgrade 'sqlite:///.*helpdesk.db'$",
    ):
        SqlStore.open(url)
    done = subprocess.run(
        [sys.executable, "-m", "convostate.sql", "upgrade", url], capture_output=True, text=True, check=True
    )
    assert "revision 0002" in done.stdout
    store = SqlStore.open(url)
    try:
        _check_upgraded(store, conversation, contact)
    finally:
        store.close()


@needs_postgres
def test_a_postgres_schema_of_revision_0001_is_refused_then_upgraded_with_its_data() -> None:
    source = postgres_store()
    conversation, contact = _fill_previous_release(source)
    prefix = f"{TEST_PREFIX}old_"
    engine = postgres_engine()
    try:
        with engine.begin() as connection:
            _at_0001(connection, prefix)
            _copy_at_0001(source, connection, prefix)
        with pytest.raises(SchemaMismatch, match=rf"older \(revision 0001\).*upgrade .* --prefix {prefix}$"):
            SqlStore(engine, account=source.account, prefix=prefix)
        upgrade(engine, prefix=prefix)
        _check_upgraded(SqlStore(engine, account=source.account, prefix=prefix), conversation, contact)
        assert set(Tables(prefix).metadata.tables) <= set(sa.inspect(engine).get_table_names())
    finally:
        drop_prefix(engine, prefix)


def test_an_older_release_that_let_two_contacts_share_a_phone_upgrades_keeping_the_first(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    engine = sa.create_engine(url)
    contacts = sa.table("convostate_contacts", sa.column("account"), sa.column("id"), sa.column("payload"))
    with engine.begin() as connection:
        _at_0001(connection, "convostate_")
        connection.execute(
            contacts.insert(),
            [
                {
                    "account": "default",
                    "id": name,
                    "payload": f'{{"type":"Contact","schema":1,"id":"{name}","name":"{name}",'
                    '"phone":"+15555550101","email":"shared@example.com","tags":[]}',
                }
                for name in ("k-1", "k-2")
            ],
        )
    engine.dispose()
    upgrade(url)
    store = SqlStore.open(url)
    try:
        first = store.contact_by_phone("+15555550101")
        assert first is not None
        assert first.id == ContactId("k-1")
        assert store.contact_by_email("shared@example.com") == first
        second = store.contact(ContactId("k-2"))
        assert second is not None
        assert (second.phone, second.email) == (None, None)  # one contact per line: moved to tags
        assert second.tags == {"legacy-phone:+15555550101", "legacy-email:shared@example.com"}
    finally:
        store.close()


def test_an_older_releases_phones_and_emails_that_are_not_lines_any_more_are_kept_as_tags(
    tmp_path: Path,
) -> None:
    """Revision 0001 took any text: a phone with separators becomes E.164, anything else moves to a tag,
    and every contact still reads back."""
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    engine = sa.create_engine(url)
    contacts = sa.table("convostate_contacts", sa.column("account"), sa.column("id"), sa.column("payload"))
    old = {"spaced": ("+1 555 555 0102", " Ana@Example.com "), "words": ("call the shop", "not an address")}
    with engine.begin() as connection:
        _at_0001(connection, "convostate_")
        connection.execute(
            contacts.insert(),
            [
                {
                    "account": "default",
                    "id": name,
                    "payload": f'{{"type":"Contact","schema":1,"id":"{name}","name":"{name}",'
                    f'"phone":"{phone}","email":"{email}","tags":["vip"]}}',
                }
                for name, (phone, email) in old.items()
            ],
        )
    engine.dispose()
    upgrade(url)
    store = SqlStore.open(url)
    try:
        spaced = store.contact_by_phone("+15555550102")
        assert spaced is not None
        assert (spaced.id, spaced.email, spaced.tags) == (
            ContactId("spaced"),
            "Ana@Example.com",
            frozenset({"vip"}),
        )
        assert store.contact_by_email("ana@example.com") == spaced
        words = store.contact(ContactId("words"))
        assert words is not None
        assert (words.phone, words.email) == (None, None)
        assert words.tags == {"vip", "legacy-phone:call the shop", "legacy-email:not an address"}
    finally:
        store.close()
