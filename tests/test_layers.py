"""The layers import downward only (docs/architecture.md): the core imports no port, adapter or service;
the ports import only the core; the services import no adapter, so the composition root
(``convostate._helpdesk``) is the one place that knows the default adapters; and the pipeline, which
decides, imports nothing that does I/O. Checked on the import statements of the source, so a new module
is covered as soon as it exists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import convostate

PACKAGE = Path(convostate.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules_in(layer: str) -> list[Path]:
    where = PACKAGE / layer
    return sorted(where.rglob("*.py")) if where.is_dir() else [where.with_suffix(".py")]


def convostate_imports(path: Path) -> set[str]:
    return {name for name in imports_of(path) if name.startswith("convostate.")}


# Which private layers each layer may import (besides itself and the standard library and dependencies).
ALLOWED = {
    "_core": ("convostate._core",),
    "_ports": ("convostate._core", "convostate._ports"),
    # The SQL store keeps states and events in the codec's JSON, the wire format a host's API shows too.
    "_adapters": ("convostate._core", "convostate._ports", "convostate._adapters", "convostate._codec"),
    "_service": ("convostate._core", "convostate._ports", "convostate._service"),
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules_in(layer)
        for name in convostate_imports(path)
        if not name.startswith(ALLOWED[layer])
    }
    assert sorted(wrong) == []


def test_the_pipeline_calls_no_port_and_does_no_io() -> None:
    """The pipeline gets what it needs loaded; it imports no port protocol, no adapter, no I/O module."""
    imported = imports_of(PACKAGE / "_service" / "pipeline.py")
    assert "convostate._ports.roles" not in imported
    assert not {
        name for name in imported if name.split(".")[0] in {"socket", "sqlite3", "smtplib", "threading"}
    }


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from convostate._adapters.memory_store import MemoryStore\nimport os\n")
    assert convostate_imports(sample) == {"convostate._adapters.memory_store"}
