"""``python -m convostate.sql upgrade URL``: the command a SchemaMismatch tells a host to run."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from convostate._adapters.sql import schema
from convostate._adapters.sql.tables import DEFAULT_PREFIX


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convostate.sql", description="convostate's SQL schema")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("upgrade", help="bring the database up to this release's schema")
    run.add_argument("url", help="a SQLAlchemy database URL, e.g. sqlite:///helpdesk.db")
    run.add_argument("--prefix", default=DEFAULT_PREFIX, help="the tables' prefix (default: %(default)s)")
    arguments = parser.parse_args(argv)
    schema.upgrade_database(arguments.url, prefix=arguments.prefix)
    print(f"the convostate schema is at revision {schema.revisions()[0]}")
    return 0
