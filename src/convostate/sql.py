"""The SQL store: durable storage on SQLite (the embedded default) or PostgreSQL, through SQLAlchemy Core.

Needs the ``sql`` extra (``pip install 'convostate[sql]'``; ``convostate[postgres]`` adds psycopg 3).
See docs/storage.md. From the command line, bring a database up to this release's schema with::

    python -m convostate.sql upgrade 'postgresql+psycopg://user@host/dbname' [--prefix convostate_]
"""

from __future__ import annotations

from convostate._adapters.sql.schema import upgrade_database as upgrade
from convostate._adapters.sql.store import SqlStore as SqlStore
from convostate._adapters.sql.tables import DEFAULT_PREFIX as DEFAULT_PREFIX
from convostate._ports.roles import DEFAULT_ACCOUNT as DEFAULT_ACCOUNT

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_PREFIX", "SqlStore", "upgrade"]

if __name__ == "__main__":
    import sys

    from convostate._adapters.sql.cli import main

    sys.exit(main())
