"""Every explorer in every lecture notebook, operated in JupyterLab as a student would.

Data-driven: the notebooks that use widgets are found by reading them, the explorers
by their ``cnnlab-explorer`` CSS class after "Run All". Each lesson is run in a 1366×768
laptop window, where every explorer and figure is measured first (``_layout.py``: controls
and main figure visible together, no blank band, text of at least 9 pt at 100 % zoom);
the window is then made tall for the walk. Each explorer is exercised by
its spec in ``explorer_specs.py`` (a scripted walk through its controls and an
independent check of the numbers it shows), or, for an explorer without a spec, by a
generic walk that operates every control once. Either way every control must be
operated, every gesture must redraw the explorer, the figure must change, and the
time from the input event to the decoded new figure is recorded per explorer
(``artifacts/browser/timings.json``; goal: median <= 300 ms).
"""
from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import traceback
from fractions import Fraction

import numpy as np
import pytest

from . import _explorers as E
from ._labdriver import REPO
from ._layout import BLANK_BAND_PX, LAPTOP, MEASURE, blank_band, explorer_key, measure_lesson, watch_figures
from .specs import SPECS, Step

NOTEBOOK_DIR = REPO / "notebooks"
_USES_WIDGETS = re.compile(r"cnnlab\.widgets|from cnnlab import [^\n]*\bwidgets\b|ipywidgets")
#: CNNLAB_BROWSER_SHOTS=each: a screenshot after every gesture (default: each explorer
#: before and after its walk, and every error message it shows)
SHOTS = os.environ.get("CNNLAB_BROWSER_SHOTS", "ends")
#: the window of the walk: tall, so an explorer and its figure are on screen at once
WALK = {"width": 1400, "height": 1700}
#: gestures whose clock starts at one input event (Play waits for its timer; a drag may
#: redraw on the way)
_TIMED = {"key", "type", "pick", "toggle", "click", "text", "textarea", "radio"}


def widget_notebooks() -> list[pathlib.Path]:
    found = []
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        if _USES_WIDGETS.search(source):
            found.append(path)
    return found


NOTEBOOKS = widget_notebooks()


def _same_value(shown, expected) -> bool:
    try:
        return float(shown) == float(expected)
    except (TypeError, ValueError):
        return str(shown) == str(expected)


class Walk:
    """Runs the steps on one explorer, checks each change, keeps latencies and screenshots."""

    def __init__(self, explorer, name, spec, shots: pathlib.Path):
        self.explorer = explorer
        self.name = name
        self.spec = spec
        self.shots = shots
        self.samples: list[float] = []
        self.operated: set[str] = set()
        self.seen: set[str] = set()
        self.figure_changes = 0
        self.count = 0
        self.root = explorer.element_handle()
        self.state = None

    def refresh(self) -> E.State:
        self.state = E.state_of(self.explorer)
        self.seen.update(c.name for c in self.state.controls)
        return self.state

    def controls(self) -> dict[str, E.Control]:
        return {c.name: c for c in self.state.controls}

    def screenshot(self, label: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
        self.explorer.screenshot(path=str(self.shots / f"{self.count:02d}-{safe}.png"),
                                 animations="disabled")

    def check(self, change=None) -> None:
        if self.spec is None or self.spec.check is None:
            return
        if change is None:
            values, view = self.state.values, self.state.view
            where = self.name
        else:
            values, view = change.values_after, change.after
            where = f"{self.name} after {change.control}: {change.gesture}"
        self.spec.check(values, view, where)

    def step(self, step: Step) -> E.Change:
        controls = self.controls()
        assert step.control in controls, (
            f"{self.name}: no control {step.control!r}; the page shows {sorted(controls)}")
        control = controls[step.control]
        assert not control.disabled, f"{self.name}: {step.control!r} is disabled at this point"
        kind, gesture, kwargs = step.resolve(control)
        change = E.operate(self.explorer, control, gesture, settle=kind == "drag",
                           before=self.state, root=self.root, **kwargs)
        self.state = change.state
        self.seen.update(c.name for c in self.state.controls)
        self.count += 1
        self.operated.add(step.control)
        if kind in _TIMED and change.latency_ms is not None:
            self.samples.append(change.latency_ms)
        if change.figure_changed:
            self.figure_changes += 1
        where = f"{self.name}: {step.control} ({change.gesture})"
        if step.expect == "figure":
            assert change.after["error"] is None, f"{where} showed an error: {change.after['error']}"
            assert change.figure_changed, f"{where} redrew the same figure"
        elif step.expect == "page":
            assert change.page_changed, f"{where} changed nothing on the page"
        elif step.expect == "error":
            assert change.after["error"], f"{where} should show an error message, got a figure"
        if step.value is not None:
            shown = change.values_after[step.control]
            assert _same_value(shown, step.value), f"{where}: the control shows {shown!r}, expected {step.value!r}"
        self.check(change)
        if self.spec is not None and self.spec.on_change is not None:
            self.spec.on_change(self.explorer, change, where)
        if kind == "play":
            self._stop_play(control)
        if SHOTS == "each" or step.expect == "error":
            self.screenshot(f"{step.control}-{change.gesture}")
        return change

    def _stop_play(self, control) -> None:
        buttons = E.control_locator(self.explorer, control).locator("button")
        buttons.nth(1).click()  # stop: back to the first position
        E.wait_settled(self.explorer)
        self.refresh()
        self.check()

    def generic_steps(self) -> list[Step]:
        """Every enabled control once (text fields last: a typo may leave an error
        showing), and again for those enabled by the changes."""
        steps = []
        for _ in range(3):
            progress = False
            names = sorted(self.controls(), key=lambda n: self.controls()[n].kind in ("text", "textarea"))
            for name in names:
                control = self.controls().get(name)
                if control is None or name in self.operated or control.disabled:
                    continue
                if self.spec is not None and name in self.spec.not_operated:
                    continue
                if control.kind == "slider" and control.min == control.max:
                    continue
                self.step(Step(name, expect="page"))
                steps.append(name)
                progress = True
            if not progress:
                break
        return steps


#: scripted walks already done in this session: a later explorer with the same walk
#: (the same explorer class again, in another lesson) gets the coverage walk instead
_WALKED: set[int] = set()


def exercise(explorer, name, spec, shots) -> Walk:
    walk = Walk(explorer, name, spec, shots)
    explorer.scroll_into_view_if_needed()
    # the first drawing arrives with the Output widget's state, possibly after the view
    explorer.page.wait_for_function(
        "(root) => !!root.querySelector(':scope > .widget-output img, :scope > .widget-output .cnnlab-error')",
        arg=walk.root, timeout=30_000)
    walk.refresh()
    walk.check()
    walk.screenshot("before")
    steps = None if spec is None else spec.steps
    if callable(steps):
        steps = steps(walk.state.values)
    if steps is None or id(steps) in _WALKED:
        walk.generic_steps()  # every control once, still checked by the spec
    else:
        _WALKED.add(id(steps))
        for step in steps:
            walk.step(step)
    walk.screenshot("after")
    band = blank_band(explorer.evaluate(MEASURE, None))   # issue 12: no blank band, whatever the walk left
    assert band < BLANK_BAND_PX, f"{name}: {band:.0f} px blank band under the explorer after its walk"
    ignored = set() if spec is None else set(spec.not_operated)
    disabled = {n for n, c in walk.controls().items() if c.disabled}  # never operable at the end
    missed = sorted(walk.seen - walk.operated - ignored - disabled)
    assert not missed, f"{name}: controls never operated: {missed}"
    assert walk.figure_changes, f"{name}: the figure never changed"
    return walk


# ---------------------------------------------------------------------------------------
# "Try it" quizzes (cnnlab.widgets.Quiz): a wrong answer, then the right one
# ---------------------------------------------------------------------------------------

def quizzes_in(path: pathlib.Path) -> list[dict]:
    """The Quiz(...) and Quiz.load(key) calls of a notebook, in order, with their answer."""
    found = []
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            func = node.func if isinstance(node, ast.Call) else None
            if (isinstance(func, ast.Attribute) and func.attr == "load"
                    and isinstance(func.value, ast.Name) and func.value.id == "Quiz"):
                from cnnlab.widgets.quiz import load_bank          # Quiz.load(key): the answer is in the bank
                entry = load_bank()[node.args[0].value]
                answer = entry["answer"]
                found.append({"answer": answer[0] if isinstance(answer, list) else answer,
                              "choices": entry.get("choices"), "line": node.lineno})
            elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Quiz":
                env = {"Fraction": Fraction, "np": np}
                answer = eval(compile(ast.Expression(node.args[1]), str(path), "eval"), env)
                choices = next((eval(compile(ast.Expression(k.value), str(path), "eval"), env)
                                for k in node.keywords if k.arg == "choices"), None)
                found.append({"answer": answer[0] if isinstance(answer, list) else answer,
                              "choices": choices, "line": node.lineno})
    return found


def _typed(answer) -> str:
    if isinstance(answer, Fraction):
        return f"{answer.numerator}/{answer.denominator}"
    if isinstance(answer, tuple):
        return ", ".join(_typed(a) for a in answer)
    return str(answer)


def _wrong(answer) -> str:
    if isinstance(answer, tuple):
        return _typed((answer[0] + 1, *answer[1:]))
    if isinstance(answer, (int, float, Fraction)):
        return _typed(answer + 1)
    return "definitely not this"


def _feedback(quiz, mark: str) -> str:
    feedback = quiz.locator(".cnnlab-quiz-feedback")
    quiz.page.wait_for_function("([el, mark]) => el.textContent.includes(mark)",
                                arg=[feedback.element_handle(), mark], timeout=10_000)
    return feedback.inner_text()


def exercise_quizzes(panel, path: pathlib.Path) -> int:
    expected = quizzes_in(path)
    quizzes = panel.locator(".cnnlab-quiz")
    assert quizzes.count() == len(expected), (
        f"{path.name}: {quizzes.count()} quizzes on the page, {len(expected)} Quiz(...) calls in the notebook")
    for i, spec in enumerate(expected):
        quiz = quizzes.nth(i)
        quiz.scroll_into_view_if_needed()
        where = f"{path.name}: quiz {i + 1} (line {spec['line']} of its cell)"
        if spec["choices"] is not None:
            buttons = quiz.locator("button")
            wrong = next(c for c in spec["choices"] if c != spec["answer"])
            buttons.nth(spec["choices"].index(wrong)).click()
            assert "not quite" in _feedback(quiz, "✘"), where
            buttons.nth(spec["choices"].index(spec["answer"])).click()
            assert "right" in _feedback(quiz, "✔"), where
        else:
            box = quiz.locator("input")
            box.fill(_wrong(spec["answer"]))
            box.press("Enter")
            assert "not quite" in _feedback(quiz, "✘"), f"{where}: {_wrong(spec['answer'])!r} accepted"
            box.fill(_typed(spec["answer"]))
            quiz.locator("button", has_text="check").click()
            assert "right" in _feedback(quiz, "✔"), f"{where}: {_typed(spec['answer'])!r} rejected"
    return len(expected)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_explorers_respond_in_the_browser(path, laptop_lab, artifacts, timings, layout):
    lab = laptop_lab
    rel = f"notebooks/{path.name}"
    lab.close_dialogs()
    lab.open_notebook(rel)
    try:
        watch_figures(lab, rel)
        seconds = lab.run_all(rel)
        lab.wait_widgets_rendered(rel)
        explorers = lab.panel(rel).locator(".cnnlab-explorer")
        count = explorers.count()
        assert count or quizzes_in(path), f"{path.name} uses widgets, but none rendered"
        records, failures = measure_lesson(lab, rel, path.stem, artifacts / "layout" / path.stem)
        layout.update(records)
        lab.page.set_viewport_size(WALK)
        for i in range(count):
            explorer = explorers.nth(i)
            key = explorer_key(explorer.evaluate("el => [...el.classList]"))
            name = f"{path.stem}/{key}" + (f"#{i}" if count > 1 else "")
            spec = SPECS.get(key)
            try:
                walk = exercise(explorer, name, spec, artifacts / path.stem / f"{i}-{key}")
            except (AssertionError, LookupError, ValueError, TypeError) as exc:
                (artifacts / path.stem).mkdir(parents=True, exist_ok=True)
                explorer.screenshot(path=str(artifacts / path.stem / f"{i}-{key}-FAILED.png"))
                where = traceback.extract_tb(exc.__traceback__)[-1]
                failures.append(f"{name}: {type(exc).__name__}: {exc}\n  at {where.filename}:{where.lineno}: {where.line}")
                continue
            if walk.samples:
                timings[name] = {"notebook": path.name, "explorer": key, "spec": spec is not None,
                                 "samples_ms": [round(s, 1) for s in walk.samples],
                                 "run_all_s": round(seconds, 1)}
        try:
            exercise_quizzes(lab.panel(rel), path)
        except AssertionError as exc:
            failures.append(str(exc))
        assert not failures, "\n\n".join(failures)
    finally:
        lab.close_notebook(rel)
        lab.page.set_viewport_size(LAPTOP)
        lab.close_dialogs()
