"""CI runs the example notebook: every cell of ``notebook.ipynb`` executes, in a kernel of this very
interpreter, with matplotlib drawing off screen (``MPLBACKEND=Agg``); any error in a cell fails the test.

Run it with ``pytest examples`` (tox: ``tox -e examples``); the main test runs (``testpaths = ["tests"]``)
do not collect it. It needs ``nbclient``, ``nbformat``, ``ipykernel`` and ``matplotlib``, and is skipped,
saying which is missing, without them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (pip install nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs nbclient (pip install nbclient)")
pytest.importorskip("ipykernel", reason="the notebook test needs a kernel: pip install ipykernel")
pytest.importorskip("matplotlib", reason="the notebook plots with matplotlib: pip install matplotlib")

NOTEBOOK = Path(__file__).resolve().parent / "notebook.ipynb"
KERNEL = "convostate-examples"
"""A kernel spec written for the test, so the kernel is this interpreter (a ``python3`` spec found on the
machine could be another Python, without convostate)."""
BUDGET_SECONDS = 30


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    spec = tmp_path / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (convostate)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own paths: no deprecation warning
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


def test_the_notebook_is_stored_without_outputs() -> None:
    """So that a diff shows what changed in the code and the prose, not in the pictures."""
    notebook: Any = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert [cell for cell in code if cell.outputs or cell.execution_count is not None] == []


def test_every_cell_of_the_notebook_runs(kernel: str) -> None:
    notebook: Any = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )

    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    took = time.perf_counter() - started

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    html = [output.data["text/html"] for output in outputs if "text/html" in output.get("data", {})]
    assert any("convostate-badges" in shown for shown in html)
    assert any("convostate-history" in shown for shown in html)
    assert any("convostate-contact-info" in shown for shown in html)
    assert took < BUDGET_SECONDS * 3, f"the notebook took {took:.1f} s; keep it near {BUDGET_SECONDS} s"
