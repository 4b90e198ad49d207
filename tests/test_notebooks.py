"""Every lecture notebook runs top to bottom headless, offline, and is committed clean.

"Clean" also means what a student sees after running it: no error, nothing on stderr, and
no warning text anywhere in the outputs (a warning is fixed where it arises, not hidden).
And every figure it shows is legible at 100 % zoom (issue 12): at most 9.5 in (912 px)
wide, so that JupyterLab on a 1366 px laptop screen shows it pixel for pixel, and with no
text under 9 pt there (measured in the kernel as the figure is sent; the browser suite
measures the scale the page really shows it at).
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import sys
import time

import pytest

import _figtext  # tests/_figtext.py

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


def illegible_figures(nb, report) -> list[str]:
    """What is wrong with each figure ``nb`` shows, from the kernel's measurements
    (``report``: :data:`_figtext.WATCH_FIGURES`): wider than the page shows unscaled, or
    with text under 9 pt; and a figure that was shown but not measured."""
    from cnnlab.viz._style import DPI, MAX_WIDTH_IN

    found = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            png = out.get("data", {}).get("image/png")
            if png is None:
                continue
            r = report.get(png.replace("\n", "")[-96:])
            if r is None:
                found.append(f"  cell {index}: a figure the kernel did not see sent")
                continue
            if r["width_px"] > MAX_WIDTH_IN * DPI:
                found.append(f"  cell {index}: {r['width_px']} px wide (figsize {r['figsize']} at {r['dpi']:g} dpi); "
                             f"the page shrinks figures wider than {MAX_WIDTH_IN * DPI:g} px")
            found += [f"  cell {index}: {problem}" for problem in _figtext.small_text(r)]
    return found


def test_illegible_figures_are_found():
    nbformat = pytest.importorskip("nbformat")
    png = "iVBORw0KGgo" + "A" * 120
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png + "1"}),
        nbformat.v4.new_output("display_data", data={"image/png": png + "2"}),
        nbformat.v4.new_output("display_data", data={"image/png": png + "3"}),
        nbformat.v4.new_output("display_data", data={"image/png": png + "4"}),
    ])])
    fine = {"width_px": 912, "dpi": 96.0, "min_pt": 9.0, "min_text": "ok", "figsize": [9.5, 3]}
    report = {(png + "1")[-96:]: fine,
              (png + "2")[-96:]: {**fine, "width_px": 1152, "figsize": [12, 3]},
              (png + "3")[-96:]: {**fine, "dpi": 72.0}}
    found = illegible_figures(nb, report)
    assert len(found) == 3 and "1152 px wide" in found[0] and "6.8 pt on screen" in found[1], found
    assert "did not see" in found[2]


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
    nb.cells.insert(0, nbformat.v4.new_code_cell(_figtext.kernel_code()))
    nb.cells.append(nbformat.v4.new_code_cell(_figtext.REPORT_FIGURES))
    client = nbclient.NotebookClient(
        nb,
        timeout=BUDGET_S.get(path.name, NOTEBOOK_BUDGET_S),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    # the kernel draws figures inline, as a student's does (the test session itself uses Agg)
    client.execute(env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"})
    elapsed = time.perf_counter() - start
    nb.cells.pop(0)
    report = _figtext.parse_report("".join(o.get("text", "") for o in nb.cells.pop().outputs))
    unclean = unclean_outputs(nb)
    assert not unclean, f"{path.name} shows errors, stderr or warnings:\n" + "\n".join(
        f"  cell {index} ({why}): {excerpt!r}" for index, why, excerpt in unclean)
    illegible = illegible_figures(nb, report)
    assert not illegible, f"{path.name} shows figures a student cannot read at 100 % zoom:\n" + "\n".join(illegible)
    budget = BUDGET_S.get(path.name, NOTEBOOK_BUDGET_S)
    assert elapsed < budget, f"{path.name} took {elapsed:.1f}s (budget {budget} s)"
    print(f"{path.name}: {elapsed:.1f}s", file=sys.stderr)
