"""``export-rules``, ``check-rules`` and ``diagram``: the rules and the status machine as data, so a host
can start its own rules file from the defaults and check it in CI before it reaches a settings page."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from convostate._cli.output import CommandFailed, emit
from convostate.core import status_machine
from convostate.rules import DEFAULT_RULES, InvalidRules, rules_from_json, rules_from_toml, rules_to_data

FORMATS = ("json", "toml")


def register(commands: Any, parent: argparse.ArgumentParser) -> None:
    export = commands.add_parser(
        "export-rules", parents=[parent], help="print the default rules as data, to start a rules file from"
    )
    export.add_argument("--format", choices=FORMATS, help="default: json (--json is --format json)")
    export.set_defaults(run=export_rules)
    check = commands.add_parser("check-rules", parents=[parent], help="check a JSON or TOML rules file")
    check.add_argument("file", type=Path, help="a rules file (.json or .toml)")
    check.add_argument(
        "--format", choices=FORMATS, help="how to read FILE (default: from its extension, else JSON)"
    )
    check.set_defaults(run=check_rules)
    diagram = commands.add_parser(
        "diagram", parents=[parent], help="print the status machine as a Mermaid state diagram"
    )
    diagram.set_defaults(run=show_diagram)


def export_rules(arguments: argparse.Namespace) -> int:
    if arguments.json and arguments.format == "toml":
        raise CommandFailed("--json and --format toml ask for two formats: give one", code=2)
    data = rules_to_data(DEFAULT_RULES)
    if arguments.format == "toml":
        print(to_toml(data), end="")
    else:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def check_rules(arguments: argparse.Namespace) -> int:
    path: Path = arguments.file
    kind = arguments.format or ("toml" if path.suffix.lower() == ".toml" else "json")
    try:
        text = path.read_bytes()
    except OSError as error:
        raise CommandFailed(f"cannot read the rules file {path}: {error.strerror or error}") from error
    try:
        loaded = rules_from_toml(text) if kind == "toml" else rules_from_json(text)
    except InvalidRules as error:
        if arguments.json:
            where = {"path": error.path, "rule": error.rule, "problem": error.problem}
            emit(arguments, {"ok": False, "file": str(path), **where}, "")
        raise CommandFailed(f"{path}: {error}") from error
    ids = [rule.id.value for rule in loaded]
    emit(
        arguments,
        {"ok": True, "file": str(path), "rules": ids},
        f"OK: {path} holds {len(ids)} rule{'s' * (len(ids) != 1)}" + (f" ({', '.join(ids)})" if ids else ""),
    )
    return 0


def show_diagram(arguments: argparse.Namespace) -> int:
    machine = status_machine()
    data = {
        "states": [state.value for state in machine.states],
        "initial": machine.initial.value,
        "transitions": [
            {
                "from": transition.source.value,
                "to": transition.target.value,
                "command": transition.trigger.__name__,
                "description": transition.description,
            }
            for transition in machine.transitions
        ],
        "mermaid": machine.to_mermaid(),
    }
    emit(arguments, data, machine.to_mermaid())
    return 0


# ---------------------------------------------------------------- a TOML writer for rules data


def to_toml(document: dict[str, Any]) -> str:
    """``{"rules": [...]}`` as TOML, one ``[[rules]]`` table per rule, what ``rules_from_toml`` reads.

    The standard library reads TOML but cannot write it; rules data is small (strings, integers, booleans,
    lists and tables, never a null), so inline tables cover it without a dependency."""
    chunks = []
    for rule in document["rules"]:
        lines = ["[[rules]]"] + [f"{_key(key)} = {_value(value)}" for key, value in rule.items()]
        chunks.append("\n".join(lines) + "\n")
    return "\n".join(chunks)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else _string(key)


def _string(text: str) -> str:
    # JSON's escapes are TOML's too; TOML also refuses a raw DEL in a basic string.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"rules data holds no {type(value).__name__}: {value!r}")
