"""The core is pure: it does no I/O and never reads the clock.

DESIGN.md, "Architecture": "pure functions `decide(state, command, context) -> events` and
`evolve(state, event) -> state` [...] No I/O, no clock reads inside: time comes in through the
command's context." and "Pure core in, I/O out".

Two proofs: (1) importing every module of ``convostate._core``, its subpackages included (the rules
engine, ``convostate._core.rules``, is part of the core), in a fresh interpreter loads no networking,
database, mail, process or event-loop module; (2) a scan of the core's source finds no call that reads the
clock, draws randomness, opens a file or reads or writes one through a parser. The scanner is tested on
small samples too, so it can fail.

Parsing is not I/O: the rules are read from JSON and TOML *strings* (``json.loads``, ``tomllib.loads``;
``tomli`` on Python 3.10), so ``json`` and ``tomllib``/``tomli`` may be imported, but their file functions
(``json.load``, ``json.dump``, ``tomllib.load``) may not be used.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import convostate

SRC = Path(convostate.__file__).parents[1]
CORE = SRC / "convostate" / "_core"
RULES = CORE / "rules"

ALLOWED_THIRD_PARTY = frozenset({"tomli"})
"""Beyond attrs and pendulum: the TOML parser the rules use on Python 3.10 (3.11+ has ``tomllib``)."""

FORBIDDEN_MODULES = frozenset(
    {
        "sqlite3",
        "smtplib",
        "socket",
        "ssl",
        "http.client",
        "urllib.request",
        "asyncio",
        "subprocess",
        "selectors",
        "multiprocessing",
        "concurrent.futures",
        "ftplib",
        "imaplib",
        "poplib",
        "socketserver",
    }
)
"""Modules that mean I/O: the core must not be what loads any of them."""

NEVER_LOADED = frozenset({"sqlite3", "smtplib", "socket"})
"""Modules that must not be loaded at all after importing the core. The others above can be loaded
by the dependencies on some Python versions (attrs imports ``platform``, hence ``subprocess`` and
``selectors``, on 3.10), so for those the check is that importing the core adds none of them."""

_IMPORT_CORE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys, types

    at_start = set(sys.modules)
    # Import the core alone: a stand-in package keeps convostate/__init__.py (which may one day
    # re-export adapters) out of it, so only what the core itself imports is loaded.
    package = types.ModuleType("convostate")
    package.__path__ = [sys.argv[1]]
    sys.modules["convostate"] = package

    import attrs, pendulum
    dependencies = set(sys.modules)
    import convostate._core as core
    names = [core.__name__]
    for info in pkgutil.walk_packages(core.__path__, core.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
    print(json.dumps({
        "core": names,
        "at_start": sorted(at_start),
        "dependencies": sorted(dependencies),
        "loaded": sorted(sys.modules),
        "package": sorted(vars(sys.modules["convostate"])),
    }))
    """
)


def import_the_core_in_a_fresh_interpreter() -> dict[str, list[str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CORE, str(SRC / "convostate")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, list[str]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def imported() -> dict[str, list[str]]:
    return import_the_core_in_a_fresh_interpreter()


def module_name(path: Path) -> str:
    """``.../convostate/_core/rules/engine.py`` -> ``convostate._core.rules.engine``."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_of_the_core_was_imported(imported: dict[str, list[str]]) -> None:
    on_disk = {module_name(path) for path in CORE.rglob("*.py")}

    assert on_disk <= set(imported["core"])
    assert "convostate._core.decider" in imported["core"]
    assert {
        "convostate._core.rules",
        "convostate._core.rules.data",
        "convostate._core.rules.defaults",
        "convostate._core.rules.engine",
        "convostate._core.rules.model",
        "convostate._core.rules.vocabulary",
    } <= set(imported["core"])
    assert "convostate" not in imported["at_start"]
    assert "decide" not in imported["package"], "convostate/__init__.py ran: not the core alone"


def test_attrs_and_pendulum_load_none_of_the_modules_that_must_never_be_loaded(
    imported: dict[str, list[str]],
) -> None:
    """Otherwise the check below could not tell the core's imports from its dependencies'."""
    assert NEVER_LOADED.isdisjoint(imported["dependencies"])


def test_importing_the_core_loads_no_module_that_does_io(imported: dict[str, list[str]]) -> None:
    loaded = set(imported["loaded"])
    added_by_the_core = loaded - set(imported["dependencies"])

    assert sorted(NEVER_LOADED & loaded) == []
    assert sorted(FORBIDDEN_MODULES & added_by_the_core) == []


def test_the_core_imports_only_itself_beyond_attrs_pendulum_and_the_standard_library(
    imported: dict[str, list[str]],
) -> None:
    new = set(imported["loaded"]) - set(imported["dependencies"])
    ours_or_stdlib = {"convostate", *sys.stdlib_module_names}
    third_party = {name.partition(".")[0] for name in new if name.partition(".")[0] not in ours_or_stdlib}

    assert third_party <= ALLOWED_THIRD_PARTY


# ---------------------------------------------------------------- the source scan

CLOCK_AND_IO = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.localtime",
        "pendulum.now",
        "pendulum.today",
        "pendulum.tomorrow",
        "pendulum.yesterday",
        "pendulum.local_timezone",
        "uuid.uuid1",
        "uuid.uuid4",
        "open",
        "print",
        "input",
        "json.load",
        "json.dump",
        "tomllib.load",
        "tomli.load",
    }
)
"""Fully qualified names of functions that read the clock, draw randomness or do I/O. They are
flagged whenever used, called or not (``attrs.field(factory=pendulum.now)`` reads the clock)."""

FORBIDDEN_PREFIXES = ("random.", "secrets.", "os.", "io.", "pathlib.", "shutil.", "socket.")
"""Whole modules the core has no business using."""

CLOCK_METHODS = frozenset({"now", "utcnow", "today"})
"""``x.now()`` called on anything, and ``pendulum.X.now`` or ``datetime.X.now`` used at all: the
core takes its time from the decision context (``context.now`` is an attribute, not a call)."""

FORBIDDEN_IMPORTS = frozenset(
    {
        "time",
        "random",
        "secrets",
        "uuid",
        "os",
        "io",
        "pathlib",
        "shutil",
        "socket",
        "sqlite3",
        "smtplib",
        "subprocess",
        "threading",
        "asyncio",
        "urllib",
        "http",
    }
)


def _imported_names(tree: ast.AST) -> dict[str, str]:
    """What each name bound by an import refers to, e.g. ``{"now": "pendulum.now"}``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _resolve(node: ast.expr, imported: dict[str, str]) -> str | None:
    """What ``node`` names through the imports (``dt.now``: ``datetime.datetime.now``)."""
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, dot, rest = dotted.partition(".")
    return imported.get(head, head) + dot + rest


def _is_clock_or_io(resolved: str) -> bool:
    module, _, function = resolved.rpartition(".")
    return (
        resolved in CLOCK_AND_IO
        or resolved.startswith(FORBIDDEN_PREFIXES)
        or (function in CLOCK_METHODS and module.startswith(("pendulum.", "datetime.")))
    )


def clock_and_io_uses(source: str, filename: str = "<sample>") -> list[str]:
    """Every use in ``source`` of something that reads the clock, draws randomness or does I/O, as
    ``file:line: name``, with imports and aliases resolved."""
    tree = ast.parse(source, filename)
    imported = _imported_names(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            resolved = _resolve(node, imported)
            if resolved is not None and _is_clock_or_io(resolved):
                found.append(f"{filename}:{node.lineno}: {resolved}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_METHODS
            and not _is_clock_or_io(_resolve(node.func, imported) or "")
        ):
            found.append(f"{filename}:{node.lineno}: {_dotted(node.func) or node.func.attr}()")
    return found


def forbidden_imports(source: str, filename: str = "<sample>") -> list[str]:
    """Every import of a module the core must not use, as ``file:line: import name``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [
            f"{filename}:{node.lineno}: import {module}"
            for module in modules
            if module.partition(".")[0] in FORBIDDEN_IMPORTS
        ]
    return found


def core_sources() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_scan_covers_every_module_of_the_core_and_its_rules() -> None:
    scanned = {path.relative_to(CORE).as_posix() for path in core_sources()}

    assert {"decider.py", "model.py", "timing.py", "validate.py"} <= scanned
    assert {
        "rules/__init__.py",
        "rules/data.py",
        "rules/defaults.py",
        "rules/engine.py",
        "rules/model.py",
        "rules/vocabulary.py",
    } <= scanned


def test_the_rules_parse_strings_and_open_no_file() -> None:
    """``data.py`` imports ``json`` and ``tomllib`` (``tomli`` on 3.10) to read rules from strings: allowed,
    and the scan above refuses their file functions; these are the functions it does use."""
    data = (RULES / "data.py").read_text(encoding="utf-8")
    tree = ast.parse(data)
    used = {
        resolved
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (resolved := _resolve(node, _imported_names(tree))) is not None
        and resolved.startswith(("json.", "tomllib.", "tomli."))
    }

    assert {"json.loads", "json.dumps"} <= used
    assert used & {"tomllib.loads", "tomli.loads"}
    assert {name for name in used if not name.endswith(("JSONDecodeError", "TOMLDecodeError"))} <= {
        "json.loads",
        "json.dumps",
        "tomllib.loads",
        "tomli.loads",
    }


@pytest.mark.parametrize("path", core_sources(), ids=lambda path: path.relative_to(CORE).as_posix())
def test_the_core_calls_nothing_that_reads_the_clock_or_does_io(path: Path) -> None:
    assert clock_and_io_uses(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize("path", core_sources(), ids=lambda path: path.relative_to(CORE).as_posix())
def test_the_core_imports_no_clock_randomness_or_io_module(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize(
    "source",
    [
        "import pendulum\nwhen = pendulum.now()",
        "import pendulum\nwhen = pendulum.now('UTC')",
        "import pendulum as p\nwhen = p.today()",
        "from pendulum import now\nwhen = now()",
        "from pendulum import DateTime\nwhen = DateTime.now()",
        "from datetime import datetime\nwhen = datetime.now()",
        "from datetime import datetime as dt\nwhen = dt.utcnow()",
        "import datetime\nwhen = datetime.datetime.now(datetime.timezone.utc)",
        "from datetime import date\nday = date.today()",
        "import time\nstamp = time.time()",
        "from time import monotonic\nstamp = monotonic()",
        "import uuid\nkey = uuid.uuid4()",
        "import random\npick = random.choice([1, 2])",
        "from random import choice\npick = choice([1, 2])",
        "with open('state.json') as f:\n    pass",
        "def f(clock):\n    return clock.now()",
        "import attrs, pendulum\nwhen = attrs.field(factory=pendulum.now)",
        "import pendulum\nwhen = pendulum.DateTime.utcnow",
        "import json\nrules = json.load(stream)",
        "import json\njson.dump(rules, stream)",
        "import tomllib\nrules = tomllib.load(stream)",
        "import tomli as tomllib\nrules = tomllib.load(stream)",
    ],
)
def test_the_scanner_flags_a_clock_read_or_io_call(source: str) -> None:
    assert len(clock_and_io_uses(source)) == 1


def test_the_scanner_says_where_and_what() -> None:
    source = "import pendulum\n\n\ndef f():\n    return pendulum.now()\n"

    assert clock_and_io_uses(source, "sample.py") == ["sample.py:5: pendulum.now"]


def test_the_scanner_lets_pure_time_arithmetic_through() -> None:
    source = textwrap.dedent(
        """
        import pendulum
        from datetime import datetime, timedelta

        def window_end(context, closed_at, timezone):
            start = pendulum.datetime(2026, 3, 5, 12, tz="UTC")
            instant = pendulum.instance(datetime(2026, 1, 1, tzinfo=None))
            later = closed_at.in_timezone(timezone).add(weeks=1) + timedelta(hours=1)
            return max(context.now, later, start, instant)
        """
    )

    assert clock_and_io_uses(source) == []


def test_the_import_check_flags_a_clock_module() -> None:
    assert forbidden_imports("import time\nfrom random import choice\nimport re") == [
        "<sample>:1: import time",
        "<sample>:2: import random",
    ]
