"""convostate's tables, beside the host's: ``manage.py migrate`` runs convostate's own migrations (its Alembic
revisions, with their own version table) in this migration's transaction; migrating back drops them."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from django.db import migrations

from convostate.sql import DEFAULT_PREFIX, upgrade

from ..desk import lending_engine


def create_convostate_tables(apps: Any, schema_editor: Any) -> None:
    with lending_engine(schema_editor.connection.alias).connect() as connection:
        upgrade(connection)


def drop_convostate_tables(apps: Any, schema_editor: Any) -> None:
    with lending_engine(schema_editor.connection.alias).connect() as connection:
        tables = sa.MetaData()
        tables.reflect(connection, only=lambda name, _: name.startswith(DEFAULT_PREFIX))
        tables.drop_all(connection)


class Migration(migrations.Migration):
    dependencies: ClassVar[list[tuple[str, str]]] = [("inbox", "0001_initial")]
    operations: ClassVar[list[migrations.operations.base.Operation]] = [
        migrations.RunPython(create_convostate_tables, drop_convostate_tables)
    ]
