"""Execute an nbgrader notebook's cells in a plain namespace, without a kernel.

The tests of the students' checks (tests/test_course_checks*.py) run an assignment's
setup and answer cells like a kernel would, then its test cells against them.
"""
from __future__ import annotations

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
