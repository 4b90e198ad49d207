"""Every lecture notebook runs top to bottom headless, offline, and is committed clean.

"Clean" also means what a student sees after running it: no error, nothing on stderr, and
no warning text anywhere in the outputs (a warning is fixed where it arises, not hidden).
"""
from __future__ import annotations

import json
import pathlib
import re
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
#: lessons that train several networks on the real digits get more: lesson 08 trains
#: model1, model2 and three regularised model2s for 20 epochs each, then the explorer
BUDGET_S = {"08_training_mnist.ipynb": 240}

#: what a warning looks like when Python prints it ("UserWarning: …", "FutureWarning: …")
WARNING_TEXT = re.compile(r"\b[A-Z]\w*Warning\b:|^Warning:|\bwarnings\.warn\(", re.MULTILINE)


def _output_text(out):
    """All the text of one output: a stream, an error, or a display's text/* and html parts."""
    if out.get("output_type") == "stream":
        return out.get("text", "")
    if out.get("output_type") == "error":
        return "\n".join([out.get("ename", ""), out.get("evalue", ""), *out.get("traceback", [])])
    data = out.get("data", {})
    return "\n".join(v if isinstance(v, str) else "".join(v)
                     for k, v in data.items() if k.startswith("text/"))


def unclean_outputs(nb):
    """``(cell index, why, excerpt)`` for every error, stderr stream or warning text in ``nb``."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            text = _output_text(out)
            if out.get("output_type") == "error":
                found.append((index, "error", text[:300]))
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append((index, "stderr", text[:300]))
            elif WARNING_TEXT.search(text):
                found.append((index, "warning text", text[:300]))
    return found


def test_unclean_outputs_are_found():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="progress 10%"),
        nbformat.v4.new_output("stream", name="stdout", text="a.py:3: UserWarning: careful\n  warn()"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[]),
        nbformat.v4.new_output("stream", name="stdout", text="no warnings here, 3 UserWarnings fixed"),
    ])])
    assert [why for _, why, _ in unclean_outputs(nb)] == ["stderr", "warning text", "error"]


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
        timeout=BUDGET_S.get(path.name, NOTEBOOK_BUDGET_S),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    unclean = unclean_outputs(nb)
    assert not unclean, f"{path.name} shows errors, stderr or warnings:\n" + "\n".join(
        f"  cell {index} ({why}): {excerpt!r}" for index, why, excerpt in unclean)
    budget = BUDGET_S.get(path.name, NOTEBOOK_BUDGET_S)
    assert elapsed < budget, f"{path.name} took {elapsed:.1f}s (budget {budget} s)"
    print(f"{path.name}: {elapsed:.1f}s", file=sys.stderr)
