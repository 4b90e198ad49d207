"""The nbgrader extension in JupyterLab: menu, Create Assignment panel, Validate button.

The server serves a copy of the course directory (``solutions/``, ``assignments/``,
``nbgrader_config.py``), so the instructor's view reads the course's own metadata and
a student's validation runs against the released notebook exactly as shipped.
"""
from __future__ import annotations

import json
import re

import pytest

from ._labdriver import REPO

MENU_ITEMS = ["Assignment List", "Course List", "Formgrader", "Create assignment"]
#: the Create Assignment panel's cell type for nbgrader metadata (its <select> values)
_PANEL_TYPE = {
    (True, True): "manual", (False, True): "solution", (True, False): "tests",
}


def _assignments():
    found = []
    for release in sorted((REPO / "assignments").glob("*/*.ipynb")):
        source = REPO / "solutions" / release.parent.name / release.name
        if source.exists():
            found.append((release, source))
    return found


ASSIGNMENTS = _assignments()


def _panel_type(meta: dict, cell_type: str) -> str:
    if not meta:
        return ""
    if meta.get("task"):
        return "task"
    kind = _PANEL_TYPE.get((bool(meta.get("grade")), bool(meta.get("solution"))))
    if kind == "tests" and cell_type != "code":
        kind = "manual"
    if kind is None:
        kind = "readonly" if meta.get("locked") else ""
    return kind


def answer_of(source_cell: dict) -> str:
    """What a student who solved the question has in the cell: the solution, no markers."""
    lines = "".join(source_cell["source"]).splitlines()
    keep = [ln for ln in lines if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(keep)


def _menu_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#jp-mainmenu-nbgrader .lm-Menu-itemLabel").all_inner_texts()]


@pytest.fixture
def first_assignment():
    assert ASSIGNMENTS, "no released assignment with its source under assignments/ and solutions/"
    return ASSIGNMENTS[0]


def test_nbgrader_menu_and_create_assignment_panel(clean_lab, first_assignment, artifacts):
    lab = clean_lab
    page = lab.page
    _, source = first_assignment
    rel = source.relative_to(REPO).as_posix()
    lab.open_notebook(rel)
    try:
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
        menu = page.locator("#jp-mainmenu-nbgrader")
        menu.wait_for()
        labels = _menu_labels(page)
        for item in MENU_ITEMS:
            assert item in labels, f"Nbgrader menu lacks {item!r}: {labels}"
        menu.locator(".lm-Menu-item", has_text="Create assignment").click()
        panel = page.locator(".nbgrader-NotebookWidget")
        panel.wait_for(state="visible")
        tab = page.locator(".lm-TabBar-tab[title='Nbgrader Create Assignment']")
        assert tab.count() == 1
        # the panel reads the course's cell metadata: one type per cell, and the total
        nb = json.loads(source.read_text(encoding="utf-8"))
        expected = [_panel_type(c["metadata"].get("nbgrader", {}), c["cell_type"]) for c in nb["cells"]]
        selects = panel.locator(".nbgrader-CellType select")
        page.wait_for_function(
            "(n) => document.querySelectorAll('.nbgrader-NotebookWidget .nbgrader-CellType select').length === n",
            arg=len(expected))
        shown = [selects.nth(i).input_value() for i in range(selects.count())]
        assert shown == expected
        total = sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in nb["cells"])
        assert float(page.locator("#nbgrader-create_assignemnt .nbgrader-TotalPointsInput").input_value()) == total
        ids = panel.locator(".nbgrader-CellId input")
        grade_ids = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if c["metadata"].get("nbgrader")]
        assert [ids.nth(i).input_value() for i in range(ids.count())] == grade_ids
        page.screenshot(path=str(artifacts / "nbgrader-create-assignment.png"))
    finally:
        lab.close_notebook(rel)
        tab = page.locator(".lm-TabBar-tab[title='Nbgrader Create Assignment'].lm-mod-current")
        if tab.count():
            tab.click()  # fold the right sidebar again


def _validate(lab, rel):
    """Press the notebook's Validate button; return the dialog nbgrader shows."""
    page = lab.page
    lab.panel(rel).locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = page.locator(".nbgrader-ErrorDialog, .nbgrader-SuccessDialog")
    dialog.wait_for(timeout=120_000)
    return dialog


def _close(dialog):
    dialog.locator("button.jp-Dialog-button").click()
    dialog.wait_for(state="detached")


def test_validate_a_released_assignment_from_the_ui(clean_lab, first_assignment, artifacts):
    lab = clean_lab
    page = lab.page
    release, source = first_assignment
    rel = release.relative_to(REPO).as_posix()
    released = json.loads(release.read_text(encoding="utf-8"))
    tests = [c for c in released["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
             and c["cell_type"] == "code"]
    assert tests
    lab.open_notebook(rel)
    try:
        # as released: every autograded test fails, and the dialog lists each of them
        dialog = _validate(lab, rel)
        assert "nbgrader-ErrorDialog" in (dialog.get_attribute("class") or "")
        body = dialog.locator("#validation-message")
        assert "validation-failed" in (body.get_attribute("class") or "")
        failed = body.locator("p", has_text="The following cell failed").count()
        assert failed == len(tests), body.inner_text()
        assert "NotImplementedError" in body.inner_text() or "not implemented" in body.inner_text()
        dialog.screenshot(path=str(artifacts / "nbgrader-validate-failed.png"))
        _close(dialog)

        # a student types each answer into its cell, then validates again
        answers = {c["metadata"]["nbgrader"]["grade_id"]: answer_of(c)
                   for c in json.loads(source.read_text(encoding="utf-8"))["cells"]
                   if c["metadata"].get("nbgrader", {}).get("solution")}
        cells = lab.panel(rel).locator(".jp-Notebook .jp-Cell")
        for index, cell in enumerate(released["cells"]):
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id not in answers:
                continue
            editor = cells.nth(index).locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.insert_text(answers[grade_id])
            typed = page.evaluate(
                "([p, i]) => window.__cnnlab.find(p).content.widgets[i].model.sharedModel.getSource()",
                [rel, index])
            assert typed == answers[grade_id], f"cell {grade_id}: the editor holds {typed!r}"
        page.keyboard.press("Escape")
        dialog = _validate(lab, rel)
        body = dialog.locator("#validation-message")
        assert "nbgrader-SuccessDialog" in (dialog.get_attribute("class") or ""), body.inner_text()
        assert "validation-success" in (body.get_attribute("class") or "")
        assert "Success! Your notebook passes all the tests." in body.inner_text()
        dialog.screenshot(path=str(artifacts / "nbgrader-validate-passed.png"))
        _close(dialog)
    finally:
        lab.close_notebook(rel)
