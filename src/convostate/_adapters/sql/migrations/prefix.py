"""The tables' prefix inside a migration: the one ``convostate.sql.upgrade`` was given, or the default in a
host's own Alembic environment (which can set ``config.attributes["convostate_prefix"]``)."""

from __future__ import annotations

from alembic import context

from convostate._adapters.sql.tables import DEFAULT_PREFIX


def prefix() -> str:
    config = context.config
    return str(config.attributes.get("convostate_prefix", DEFAULT_PREFIX)) if config else DEFAULT_PREFIX
