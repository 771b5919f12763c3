"""The SQL store at its boundary: a helpdesk reopened finds everything where it was; a host's transaction is
shared and never ended by convostate; the schema is checked on opening; and whatever the database refuses
is a clear convostate error, with nothing half-written (every table read before and after)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from convostate import (
    ContactId,
    ConversationId,
    Helpdesk,
    InvalidInput,
    Role,
    SchemaMismatch,
    StorageBusy,
    StorageError,
    Tab,
)
from convostate._adapters.sql.tables import Tables
from convostate.ports import ChangeSet, DirectoryChange
from convostate.sql import SqlStore, upgrade
from convostate.testing import ManualClock, SequentialIds
from convostate.testing.conformance import REFUSALS, refused_change_set
from tests.sql_stores import dump, needs_postgres, postgres_engine, postgres_store

START = pendulum.datetime(2026, 3, 2, 9, 0, tz="UTC")


def _fill(helpdesk: Helpdesk) -> tuple[ConversationId, ContactId]:
    admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN).id
    ana = helpdesk.add_user("Ana Lima", "ana@example.com", by=admin).id
    support = helpdesk.add_inbox("Support", members=[ana], by=admin).id
    contact = helpdesk.add_contact(name="Maria").id
    conversation = helpdesk.receive(contact, support, "My order is late").conversation.id
    helpdesk.assign(conversation, ana, by=admin)
    helpdesk.reply(conversation, "On it", by=ana)
    return conversation, contact


def _what_ana_sees(helpdesk: Helpdesk) -> tuple[Any, ...]:
    ana = next(user for user in helpdesk.store.users() if user.name == "Ana Lima").id
    page = helpdesk.tab(ana, Tab.ASSIGNED_TO_YOU)
    conversation = page.conversations[0]
    return (
        page.conversations,
        helpdesk.badges(ana),
        helpdesk.history(conversation.id),
        helpdesk.store.events(conversation.id),
    )


def test_a_helpdesk_reopened_on_a_sqlite_file_finds_everything_where_it_was(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    clock = ManualClock(START)
    with Helpdesk.open(url, clock=clock, ids=SequentialIds()) as helpdesk:
        _fill(helpdesk)
        before = _what_ana_sees(helpdesk)
    with Helpdesk.open(url, clock=clock) as reopened:
        assert _what_ana_sees(reopened) == before
        assert len(reopened.store.users()) == 2


@needs_postgres
def test_a_store_reopened_on_postgres_on_a_new_engine_finds_everything_where_it_was() -> None:
    store = postgres_store()
    helpdesk = Helpdesk(store=store, clock=ManualClock(START), ids=SequentialIds())
    _fill(helpdesk)
    before = _what_ana_sees(helpdesk)
    engine = sa.create_engine(store.engine.url)
    try:
        again = SqlStore(engine, account=store.account, prefix=store.tables.prefix)
        assert _what_ana_sees(Helpdesk(store=again, clock=ManualClock(START))) == before
    finally:
        engine.dispose()


def test_in_a_host_transaction_convostate_writes_but_never_commits_or_rolls_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    SqlStore.open(url).close()  # the schema
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        connection.commit()
        with connection.begin() as host:
            connection.exec_driver_sql("INSERT INTO orders VALUES (1)")
            helpdesk = Helpdesk(store=SqlStore(connection), clock=ManualClock(START), ids=SequentialIds())
            _fill(helpdesk)
            with pytest.raises(InvalidInput):  # refused in its savepoint; the host's work stays
                helpdesk.store.commit(
                    ChangeSet(directory=DirectoryChange(users=tuple(helpdesk.store.users()[:1])))
                )
            assert connection.in_transaction()
            assert connection.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 1
            host.rollback()  # the host changes its mind: convostate's rows go with its own
        store = SqlStore(connection)
        assert store.users() == []
        assert connection.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 0
    engine.dispose()


@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refused_change_set_leaves_every_table_unchanged(kind: str, tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    change_set, error = refused_change_set(store, kind)
    before = dump(store)
    with pytest.raises(error):
        store.commit(change_set)
    assert dump(store) == before
    store.close()


@needs_postgres
@pytest.mark.parametrize("kind", REFUSALS)
def test_a_refused_change_set_leaves_every_table_unchanged_on_postgres(kind: str) -> None:
    store = postgres_store()
    change_set, error = refused_change_set(store, kind)
    before = dump(store)
    with pytest.raises(error):
        store.commit(change_set)
    assert dump(store) == before


@needs_postgres
def test_an_id_postgres_cannot_store_is_refused_as_invalid_input_and_nothing_is_written() -> None:
    store = postgres_store()
    helpdesk = Helpdesk(store=store, clock=ManualClock(START), ids=SequentialIds())
    _fill(helpdesk)
    before = dump(store)
    helpdesk.ids = _NulIds()
    helpdesk.rules = helpdesk.rules  # rewires the services with the new ids
    with pytest.raises(InvalidInput, match="cannot store"):
        helpdesk.add_contact(name="Nul")
    assert dump(store) == before


class _NulIds:
    """Ids with a NUL in them: valid text in Python, which PostgreSQL cannot store."""

    def new_id(self, kind: str) -> str:
        return f"{kind}\x00nul"


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(StorageError, match="not a SQLite database"):
        SqlStore.open(f"sqlite:///{path}")
    assert path.read_bytes() == b"these are my notes, not a database\n" * 100


def test_another_applications_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with contextlib.closing(sqlite3.connect(path)) as other, other:
        other.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    with pytest.raises(
        SchemaMismatch, match=r"another application's database.*python -m convostate.sql upgrade"
    ):
        SqlStore.open(f"sqlite:///{path}")
    with contextlib.closing(sqlite3.connect(path)) as other, other:
        assert [name for (name,) in other.execute("SELECT name FROM sqlite_master")] == ["orders"]


def test_the_upgrade_command_adds_the_schema_beside_another_applications_tables(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with contextlib.closing(sqlite3.connect(path)) as other, other:
        other.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    done = subprocess.run(
        [sys.executable, "-m", "convostate.sql", "upgrade", f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "revision 0002" in done.stdout
    SqlStore.open(f"sqlite:///{path}").close()


def test_a_newer_schema_is_refused_saying_to_upgrade_convostate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    SqlStore.open(url).close()
    with contextlib.closing(sqlite3.connect(tmp_path / "helpdesk.db")) as database, database:
        database.execute("UPDATE convostate_alembic_version SET version_num = '0099'")
    with pytest.raises(SchemaMismatch, match=r"newer than this release's \(0002\).*pip install -U"):
        SqlStore.open(url)


def test_convostate_tables_without_a_revision_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.db"
    SqlStore.open(f"sqlite:///{path}").close()
    with contextlib.closing(sqlite3.connect(path)) as database, database:
        database.execute("DROP TABLE convostate_alembic_version")
    with pytest.raises(SchemaMismatch, match="not made by convostate's migrations"):
        SqlStore.open(f"sqlite:///{path}")


def test_a_prefix_keeps_two_schemas_apart_in_one_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    SqlStore.open(url).close()
    with pytest.raises(SchemaMismatch, match="--prefix desk_"):
        SqlStore.open(url, prefix="desk_")
    upgrade(url, prefix="desk_")
    first, second = SqlStore.open(url), SqlStore.open(url, prefix="desk_")
    Helpdesk(store=first).add_user("Alex Morgan", "alex@example.com", role=Role.ADMIN)
    assert len(first.users()) == 1
    assert second.users() == []
    first.close()
    second.close()


def test_a_read_only_database_is_a_storage_error_and_reads_still_work(tmp_path: Path) -> None:
    path = tmp_path / "helpdesk.db"
    with Helpdesk.open(f"sqlite:///{path}", ids=SequentialIds()) as helpdesk:
        _fill(helpdesk)
    read_only = SqlStore.open(f"sqlite:///file:{path}?mode=ro&uri=true", create=False)
    assert len(read_only.users()) == 2
    with pytest.raises(StorageError, match="read-only"):
        Helpdesk(store=read_only).add_contact(name="Nobody")
    assert len(read_only.users()) == 2
    read_only.close()


def test_a_database_locked_past_the_busy_timeout_is_storage_busy_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "helpdesk.db"
    store = SqlStore.open(f"sqlite:///{path}", busy_timeout=0.2)
    helpdesk = Helpdesk(store=store, ids=SequentialIds())
    _fill(helpdesk)
    before = dump(store)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageBusy, match="busy timeout"):
            helpdesk.add_contact(name="Late")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert dump(store) == before
    store.close()


def test_the_migrations_make_exactly_the_tables_the_store_uses(tmp_path: Path) -> None:
    store = SqlStore.open(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), store.tables.metadata)
    assert [change for change in differences if not _not_the_stores(change, "convostate_")] == []
    store.close()


@needs_postgres
def test_the_migrations_make_exactly_the_tables_the_store_uses_on_postgres() -> None:
    store = postgres_store()
    with postgres_engine().connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), store.tables.metadata)
    assert [change for change in differences if not _not_the_stores(change, store.tables.prefix)] == []


def _not_the_stores(change: Any, prefix: str) -> bool:
    """compare_metadata also lists the database's other tables (Alembic's version table, another prefix's,
    a host's) as tables to remove."""
    if not change[0].startswith("remove_"):
        return False
    removed = change[1]
    table = removed if change[0] == "remove_table" else getattr(removed, "table", None)
    return table is not None and table.name not in Tables(prefix).metadata.tables


def test_import_convostate_and_the_memory_store_work_without_sqlalchemy() -> None:
    script = textwrap.dedent(
        """
        import sys

        class NoSqlAlchemy:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("sqlalchemy", "alembic"):
                    raise ImportError(f"{name} is blocked")
                return None

        sys.meta_path.insert(0, NoSqlAlchemy())
        import convostate
        helpdesk = convostate.Helpdesk()
        admin = helpdesk.add_user("Alex Morgan", "alex@example.com", role=convostate.Role.ADMIN)
        assert helpdesk.store.users() == [admin]
        assert "sqlalchemy" not in sys.modules
        try:
            convostate.Helpdesk.open("sqlite://")
        except ImportError as error:
            print("refused:", error, error.__cause__)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "refused: Helpdesk.open needs the sql extra: pip install 'convostate[sql]'" in done.stdout
    assert "sqlalchemy is blocked" in done.stdout
