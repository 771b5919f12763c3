"""The Alembic environment of convostate's migrations, run by ``convostate.sql.upgrade`` on a connection it
is given (``config.attributes["connection"]``), with the tables' prefix in
``config.attributes["convostate_prefix"]``. Alembic records the revision in the prefix's own version table,
so it never meets a host's ``alembic_version``."""

from __future__ import annotations

from alembic import context

from convostate._adapters.sql.tables import DEFAULT_PREFIX, Tables

tables = Tables(context.config.attributes.get("convostate_prefix", DEFAULT_PREFIX))
context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=tables.metadata,
    version_table=tables.version_table,
)
with context.begin_transaction():
    context.run_migrations()
