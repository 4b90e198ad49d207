"""Execute an nbgrader notebook's cells in a plain namespace, without a kernel.

The tests of the students' checks (tests/test_course_checks*.py) run an assignment's
setup and answer cells like a kernel would, then its test cells against them.
"""
from __future__ import annotations

import copy
import linecache
import pathlib

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]


def source(assignment: str) -> pathlib.Path:
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def release(assignment: str) -> pathlib.Path:
    return ROOT / "assignments" / assignment / f"{assignment}.ipynb"


def cells(path) -> dict:
    """The nbgrader cells of a notebook, by grade_id, in notebook order."""
    nb = nbformat.read(path, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader")}


def run(code: str, ns: dict) -> None:
    """Execute one cell's code in ``ns``, registering the source as IPython does, so that
    ``inspect.getsource`` (the checks' own-implementation test) works on what it defines."""
    if "grader" not in ns:  # what the trusted grader gives hidden tests (a fixed seed here)
        from cnnlab.course.judge.link import GraderAPI
        ns["grader"] = GraderAPI(seed=0, local_ns=ns)
    name = f"<cell-{len(linecache.cache)}-{hash(code)}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    exec(compile(code, name, "exec"), ns)


def namespace(path, replace: dict | None = None, skip=()) -> dict:
    """Run the setup and answer cells (not the tests, not ``skip``), with answers swapped
    for ``replace[grade_id]`` where given."""
    ns: dict = {}
    for gid, cell in cells(path).items():
        if cell.cell_type != "code" or gid.endswith("_test") or gid in skip:
            continue
        run((replace or {}).get(gid, cell.source), ns)
    return ns


def check_structure(assignment: str, total_points: float) -> str:
    """Assert an assignment's nbgrader layout: its test cells carry positive points adding
    up to ``total_points``, start with a visible ``<assignment>.check_`` call, hide more
    tests, are locked and are no solution; its release has no solution and no hidden test.
    Returns the release's text, for checks of the assignment's own."""
    tests = {gid: c for gid, c in cells(source(assignment)).items() if gid.endswith("_test")}
    points = [c.metadata["nbgrader"].get("points") for c in tests.values()]
    assert sum(points) == total_points and all(p and p > 0 for p in points), points
    for gid, cell in tests.items():
        assert "### BEGIN HIDDEN TESTS" in cell.source, gid
        assert f"{assignment}.check_" in cell.source.splitlines()[0], gid
        assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["solution"], gid
    text = release(assignment).read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    return text


def cell(nb, grade_id):
    """The cell of ``nb`` with this nbgrader ``grade_id``."""
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def with_source(nb, grade_id, source):
    """A copy of ``nb`` with one cell's source replaced (a student's edit)."""
    nb = copy.deepcopy(nb)
    cell(nb, grade_id).source = source
    return nb
