"""The lessons' quizzes come from cnnlab/widgets/quizzes.json, so no cell shows an answer."""
from __future__ import annotations

import ast
import json
import pathlib

import pytest

pytest.importorskip("ipywidgets")

from cnnlab.widgets.quiz import Quiz, load_bank  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def quiz_calls(path):
    """``(cell index, call node)`` of every ``Quiz(...)`` / ``Quiz.load(...)`` in a notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if (isinstance(f, ast.Name) and f.id == "Quiz") or (
                        isinstance(f, ast.Attribute) and f.attr == "load"
                        and isinstance(f.value, ast.Name) and f.value.id == "Quiz"):
                    yield index, node


def _typed(answer):
    return answer[0] if isinstance(answer, list) else answer


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_quizzes_come_from_the_bank(path):
    bank = load_bank()
    for index, node in quiz_calls(path):
        where = f"{path.name} cell {index}"
        assert isinstance(node.func, ast.Attribute), f"{where}: Quiz(...) shows its answer; use Quiz.load(key)"
        assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), f"{where}: Quiz.load takes one key"
        assert node.args[0].value in bank, f"{where}: no quiz {node.args[0].value!r} in quizzes.json"


@pytest.mark.parametrize("key", sorted(load_bank()))
def test_every_bank_quiz_accepts_its_answer_and_rejects_another(key):
    entry = load_bank()[key]
    quiz = Quiz.load(key)
    assert quiz.check(str(_typed(entry["answer"])))
    wrong = next((c for c in entry.get("choices", []) if c != entry["answer"]), "definitely not this")
    assert not quiz.check(wrong)
    assert entry["question"] in quiz.widget.children[0].value


def test_an_unknown_key_is_a_clear_error():
    with pytest.raises(ValueError, match="key must be one of the quiz bank's keys"):
        Quiz.load("99-nope")
