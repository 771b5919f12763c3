"""``convostate``: the parser, and the one place that turns a failure into an exit status.

Exit statuses: 0 done, 1 a convostate error or a failed check, 2 a usage error (argparse's), 130
interrupted. A convostate error is the user's to fix, so it is shown as one line, never a traceback; any
other exception is a bug in convostate and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from convostate import ConvostateError, __version__
from convostate._cli import database, demo, rules, simulate
from convostate._cli.output import CommandFailed, error_line, json_flag


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="convostate",
        description="Run, inspect and maintain convostate helpdesks from the shell.",
        epilog="Add --json after a command for output a script can read.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = json_flag()
    demo.register(commands, parent)
    rules.register(commands, parent)
    database.register(commands, parent)
    simulate.register(commands, parent)
    return top


def _sqlalchemy_argument_error(error: Exception) -> bool:
    """SQLAlchemy's own "this is not a URL" error, told apart without importing SQLAlchemy (an extra)."""
    return any(
        cls.__module__.startswith("sqlalchemy") and cls.__name__ == "ArgumentError"
        for cls in type(error).__mro__
    )


def _missing(error: ImportError) -> str:
    """What to install: the SQL store and the database drivers are extras, imported only when used."""
    if "sql extra" in str(error) or error.name in ("sqlalchemy", "alembic"):
        return "this command needs the sql extra: pip install 'convostate[sql]'"
    if error.name is not None and error.name.split(".")[0] in ("psycopg", "psycopg2", "asyncpg", "pg8000"):
        return f"the database driver {error.name} is not installed (pip install 'convostate[postgres]')"
    return f"a module this command needs is not installed: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (the console script exits with it)."""
    try:
        arguments = parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors: argparse has printed them
        return stop.code if isinstance(stop.code, int) else 2
    try:
        status: int = arguments.run(arguments)
    except CommandFailed as failure:
        print(error_line(failure), file=sys.stderr)
        return failure.code
    except ConvostateError as error:
        print(error_line(error), file=sys.stderr)
        return 1
    except ImportError as missing:
        print(error_line(_missing(missing)), file=sys.stderr)
        return 1
    except Exception as error:
        if not _sqlalchemy_argument_error(error):
            raise
        print(error_line(f"not a database URL a SQL store can open ({error})"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(error_line("interrupted"), file=sys.stderr)
        return 130
    return status
