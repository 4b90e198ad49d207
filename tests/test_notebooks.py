"""Every lecture notebook runs top to bottom headless, offline, and is committed clean."""
from __future__ import annotations

import json
import pathlib
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
COMMITTED = sorted(
    [*NOTEBOOKS, *(ROOT / "solutions").rglob("*.ipynb"), *(ROOT / "assignments").rglob("*.ipynb")]
)
COMMITTED = [p for p in COMMITTED if ".ipynb_checkpoints" not in p.parts]

#: seconds a whole notebook may take on CI's two cores before the test fails
NOTEBOOK_BUDGET_S = 120


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", COMMITTED, ids=_ids(COMMITTED))
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}: cell {index} has outputs committed"
        assert cell.get("execution_count") is None, f"{path.name}: cell {index} has an execution count"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=NOTEBOOK_BUDGET_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [
        out for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "error"
    ]
    assert not errors, errors
    assert elapsed < NOTEBOOK_BUDGET_S, f"{path.name} took {elapsed:.1f}s"
    print(f"{path.name}: {elapsed:.1f}s", file=sys.stderr)
