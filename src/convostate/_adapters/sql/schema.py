"""The schema's revision: Alembic brings a database up to this release's, and opening a store checks that the
database is at it, so a store never reads or writes tables it does not understand.

Alembic records the revision in a version table of the prefix's own (``convostate_alembic_version``), so a
host's own migrations and convostate's never share one.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from convostate._adapters.sql.tables import DEFAULT_PREFIX, Tables
from convostate._core.errors import SchemaMismatch


def upgrade_command(url: str, prefix: str) -> str:
    """What a host runs to bring a database up to this release's schema."""
    shown = sa.make_url(url).render_as_string(hide_password=True) if url else "<database url>"
    option = "" if prefix == DEFAULT_PREFIX else f" --prefix {prefix}"
    return f"python -m convostate.sql upgrade '{shown}'{option}"


def _config(prefix: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("convostate._adapters.sql") / "migrations"))
    config.attributes["convostate_prefix"] = prefix
    return config


@cache
def revisions() -> tuple[str, tuple[str, ...]]:
    """This release's head revision, and every revision it knows (newest first)."""
    script = ScriptDirectory.from_config(_config(DEFAULT_PREFIX))
    known = tuple(revision.revision for revision in script.walk_revisions())
    head = script.get_current_head()
    assert head is not None
    return head, known


def upgrade(connection: sa.Connection, prefix: str) -> None:
    """Run every migration the database has not had yet, in ``connection``'s transaction."""
    config = _config(prefix)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def upgrade_database(bind: str | sa.Engine | sa.Connection, *, prefix: str = DEFAULT_PREFIX) -> None:
    """Bring the database up to this release's schema (Alembic's ``upgrade head`` on convostate's own
    migrations and version table). On a ``Connection`` it runs in that connection's transaction, which the
    caller commits: a host's own Alembic migration can call it with ``op.get_bind()``."""
    if isinstance(bind, sa.Connection):
        upgrade(bind, prefix)
        return
    engine = sa.create_engine(bind) if isinstance(bind, str) else bind
    try:
        with engine.begin() as connection:
            upgrade(connection, prefix)
    finally:
        if isinstance(bind, str):
            engine.dispose()


def is_empty(connection: sa.Connection) -> bool:
    """Whether the database holds no table at all (a new SQLite file, a fresh schema)."""
    return not sa.inspect(connection).get_table_names()


def check(connection: sa.Connection, tables: Tables, url: str) -> None:
    """Raise :class:`~convostate.SchemaMismatch` unless the database holds this release's schema."""
    head, known = revisions()
    inspector = sa.inspect(connection)
    names = set(inspector.get_table_names())
    if tables.version_table not in names:
        ours = sorted(name for name in names if name in tables.metadata.tables)
        if ours:
            raise SchemaMismatch(
                f"the database has convostate tables ({', '.join(ours)}) but no {tables.version_table} "
                "table saying which schema they follow: it was not made by convostate's migrations"
            )
        what = "holds no convostate tables" if not names else "is another application's database"
        raise SchemaMismatch(
            f"the database {what} (no {tables.version_table} table); to add convostate's tables to it, "
            f"run: {upgrade_command(url, tables.prefix)}"
        )
    stored = connection.execute(sa.text(f'SELECT version_num FROM "{tables.version_table}"')).scalars().all()
    if stored == [head]:
        return
    if len(stored) == 1 and stored[0] in known:
        raise SchemaMismatch(
            f"the database's convostate schema is older (revision {stored[0]}) than this release's "
            f"({head}): back it up, then run: {upgrade_command(url, tables.prefix)}"
        )
    raise SchemaMismatch(
        f"the database's convostate schema (revision {', '.join(stored) or 'none'}) is newer than this "
        f"release's ({head}) or not convostate's: upgrade convostate (pip install -U 'convostate[sql]')"
    )
