"""What every command shares: one way to print results (text for people, ``--json`` for scripts) and one
error a command raises to stop with a clear line instead of a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

Command = Callable[[argparse.Namespace], int]


class CommandFailed(Exception):
    """The command could not do its job for a reason the user can fix (a missing file, a bad database URL):
    shown as one ``convostate: error:`` line, exit status ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def json_flag() -> argparse.ArgumentParser:
    """A parent parser, so ``--json`` is written after the command, where a script's author looks for it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print the result as JSON, for scripts")
    return parent


def emit(arguments: argparse.Namespace, data: Any, text: str) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text``: one result, two readers."""
    if arguments.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif text:
        print(text)


def error_line(message: object) -> str:
    """One line, whatever the message: a log scraper or a cron mail reads the first line only."""
    return "convostate: error: " + " ".join(str(message).split())


def warn(message: str) -> None:
    print(error_line(message), file=sys.stderr)
