"""Write nbgrader source notebooks with correct metadata and stable cell ids.

>>> nb = SourceNotebook()
>>> nb.markdown("intro", "# Problem set")
>>> nb.solution("q1_double", "def double(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION")
>>> nb.test("q1_double_test", "assert double(2) == 4", points=1)
>>> [c.metadata.nbgrader["grade_id"] for c in nb.nb.cells]
['intro', 'q1_double', 'q1_double_test']
>>> nb.nb.cells[2].metadata.nbgrader["points"], nb.nb.cells[2].id
(1, 'q1-double-test')
"""
from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["SourceNotebook", "GRADE_ID"]

#: what a grade_id may look like in cnnlab assignments
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    if not GRADE_ID.match(grade_id):
        raise ValueError(f"grade_id must match {GRADE_ID.pattern}, got {grade_id!r}")
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
            raise ValueError(f"points must be a positive int for a test cell, got {points!r}")
        meta["points"] = points
    return {"nbgrader": meta}


class SourceNotebook:
    """An nbgrader source notebook under construction (see COURSE.md for the conventions)."""

    def __init__(self):
        self.nb = new_notebook(metadata={
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        })
        self._ids: set[str] = set()

    def _add(self, cell, grade_id):
        if grade_id in self._ids:
            raise ValueError(f"grade_id {grade_id!r} is used twice")
        self._ids.add(grade_id)
        cell.id = grade_id.replace("_", "-")
        self.nb.cells.append(cell)

    def markdown(self, grade_id: str, source: str) -> None:
        """Read-only instructions or explanation."""
        self._add(new_markdown_cell(source.strip(), metadata=_meta(grade_id, locked=True)), grade_id)

    def code(self, grade_id: str, source: str) -> None:
        """Read-only code (imports, data, demonstrations; never graded)."""
        self._add(new_code_cell(source.strip(), metadata=_meta(grade_id, locked=True)), grade_id)

    def solution(self, grade_id: str, source: str) -> None:
        """The student's answer cell: the answer between ### BEGIN/END SOLUTION."""
        if "### BEGIN SOLUTION" not in source or "### END SOLUTION" not in source:
            raise ValueError(f"solution cell {grade_id!r} needs ### BEGIN SOLUTION / ### END SOLUTION")
        self._add(new_code_cell(source.strip(), metadata=_meta(grade_id, solution=True)), grade_id)

    def test(self, grade_id: str, source: str, *, points: int) -> None:
        """An autograded test cell: visible checks, then ### BEGIN/END HIDDEN TESTS."""
        self._add(new_code_cell(source.strip(), metadata=_meta(
            grade_id, grade=True, locked=True, points=points)), grade_id)

    def write(self, path) -> None:
        nbformat.validate(self.nb)
        nbformat.write(self.nb, str(path))
