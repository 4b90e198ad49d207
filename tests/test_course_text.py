"""What students read: sources cited by name, formulas in LaTeX, a Sources section.

Covers the lecture notebooks, README.md and the library's docstrings, labels and quiz
bank (cnnlab/, except cnnlab/course/, whose checks are tested with the assignments).
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LIBRARY = sorted(p for p in (ROOT / "cnnlab").rglob("*") if p.suffix in (".py", ".json", ".md")
                 and "course" not in p.relative_to(ROOT / "cnnlab").parts[:1])
STUDENT_TEXT = [*LESSONS, ROOT / "README.md", *LIBRARY]

#: the four documents, by the short names and full references students see
SOURCES = {
    "Chollet slides": "F. Chollet, *Deep Learning with Python*, ch. 5",
    "CNN lecture notes": "A. Ng's deeplearning.ai course",
    "Bishop ch. 10 slides": ("C. M. Bishop & H. Bishop, *Deep Learning: Foundations and Concepts* "
                             "(2024), ch. 10"),
    "Unit 5 notes": "*5 Convolutional Neural Networks* — course unit notes",
}

#: ways of citing a document the student does not have, or without saying which one
VAGUE = re.compile(r"\bseeds? ?0\d\d|\bseeds? \d{3}|\bthe seed\b|\bseed's|\bseed notes|\bunit 4\b|"
                   r"flux listing|rawat|\bthe notes\b", re.IGNORECASE)

#: math written in Unicode instead of LaTeX (outside $…$ and `code`)
UNICODE_MATH = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻₀₁₂₃₄ᵢⱼₖₓᵧ∂Σ∑√≤≥≠∈′ᵀ∅ε∇αβθφωδλμσ⋆]|\b\w\^\w|\b\w_\w")


def _text(path):
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return "\n".join("".join(cell["source"]) for cell in nb["cells"])
    return path.read_text(encoding="utf-8")


def _markdown_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


def _outside_math_and_code(md):
    md = re.sub(r"```.*?```", " ", md, flags=re.S)
    md = re.sub(r"\$\$.*?\$\$", " ", md, flags=re.S)
    md = re.sub(r"\$[^$]*\$", " ", md)
    return re.sub(r"`[^`]*`", " ", md)


@pytest.mark.parametrize("path", STUDENT_TEXT, ids=[str(p.relative_to(ROOT)) for p in STUDENT_TEXT])
def test_sources_are_cited_by_name(path):
    lines = [f"{n}: {line.strip()[:120]}" for n, line in enumerate(_text(path).splitlines(), 1)
             if VAGUE.search(line)]
    assert not lines, (f"{path.relative_to(ROOT)} cites a source the student cannot identify; use "
                       f"one of {sorted(SOURCES)}:\n" + "\n".join(lines))


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_formulas_in_markdown_are_latex(path):
    found = [f"cell {i}: {line.strip()[:120]}" for i, md in _markdown_cells(path)
             for line in _outside_math_and_code(md).splitlines() if UNICODE_MATH.search(line)]
    assert not found, f"{path.name}: write these formulas in LaTeX ($…$):\n" + "\n".join(found)


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "notebooks" / "01_sound_and_moving_averages.ipynb"],
                         ids=["README.md", "lesson 01"])
def test_a_sources_section_gives_the_full_references(path):
    text = _text(path)
    assert re.search(r"^#+ Sources\s*$", text, re.MULTILINE), f"{path.name} has no Sources section"
    for short, reference in SOURCES.items():
        assert short in text and reference in text, f"{path.name}: {short!r} ({reference}) missing"


def test_lesson_01_has_a_notation_table():
    text = _text(ROOT / "notebooks" / "01_sound_and_moving_averages.ipynb")
    assert re.search(r"^#+ Notation\s*$", text, re.MULTILINE)
    for symbol in (r"$x * h$", r"$x \star h$", "$n_x$", "$R_l$, $J_l$", "$y^c$"):
        assert symbol in text, f"the notation table does not define {symbol}"
