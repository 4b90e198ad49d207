"""No graded answer is handed out in a lesson.

Every ``### BEGIN SOLUTION … ### END SOLUTION`` region of the nbgrader source notebooks
(``solutions/*/*.ipynb``, read generically, so new or rewritten problem sets are covered)
is compared with every code cell of the lecture notebooks (``notebooks/*.ipynb``):

1. verbatim: the region, whitespace normalised, must not occur in a lesson cell;
2. nearly verbatim: for a region of at least three lines, the fraction of its Python
   tokens that a lesson cell reproduces in order (runs of three tokens or more, found
   with :class:`difflib.SequenceMatcher`) must stay at or below ``THRESHOLD``. Renaming a
   variable or re-indenting does not hide an answer from this measure; a different
   formulation (vectorised instead of a loop, a library call) does.
"""
from __future__ import annotations

import difflib
import io
import json
import pathlib
import re
import tokenize

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

#: the largest share of a solution region's tokens a lesson cell may reproduce in order
THRESHOLD = 0.8
#: matching runs shorter than this many tokens are coincidence ("(", ")", "," …)
MIN_RUN = 3
#: regions shorter than this many non-blank lines are only checked verbatim
MIN_LINES = 3
#: shorter normalised regions (``relies_on = "marker"``) are too generic to check at all
MIN_CHARS = 30

REGION = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION", re.S | re.M)
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENDMARKER, tokenize.ENCODING}


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            yield index, "".join(cell["source"])


def solution_regions():
    """``(label, code)`` for every solution region of every source notebook."""
    regions = []
    for path in SOLUTIONS:
        for index, source in _code_cells(path):
            for number, match in enumerate(REGION.finditer(source)):
                label = f"{path.relative_to(ROOT)} cell {index} region {number}"
                regions.append((label, match.group(1)))
    return regions


def normalise(code):
    """Comments dropped, whitespace collapsed: what is left is what the code says."""
    lines = [re.sub(r"#.*", "", line).strip() for line in code.splitlines()]
    return " ".join(" ".join(line.split()) for line in lines if line)


def tokens(code):
    """The Python tokens of ``code`` (no comments, layout or indentation); [] if it does not tokenize."""
    import textwrap

    try:
        toks = tokenize.generate_tokens(io.StringIO(textwrap.dedent(code)).readline)
        return [t.string for t in toks if t.type not in SKIP]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def reproduced(region, cell):
    """The share of ``region``'s tokens that ``cell`` contains in the same order, in runs of MIN_RUN+."""
    if not region or not cell:
        return 0.0
    matcher = difflib.SequenceMatcher(None, region, cell, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks() if block.size >= MIN_RUN)
    return same / len(region)


REGIONS = solution_regions()
CELLS = [(f"{path.relative_to(ROOT)} cell {index}", source)
         for path in LESSONS for index, source in _code_cells(path)]


def test_there_is_something_to_compare():
    assert LESSONS and CELLS, "no lecture notebooks found"
    if SOLUTIONS:
        assert REGIONS, "solutions/ has notebooks but no ### BEGIN SOLUTION regions"


def test_the_measure_catches_a_copied_answer_and_spares_another_formulation():
    loop = ("total = {}\nfor a, pa in p.items():\n    for b, qb in q.items():\n"
            "        total[a + b] = total.get(a + b, 0) + pa * qb\nreturn total\n")
    renamed = loop.replace("total", "out").replace("pa", "p_a")
    lesson = "p_X = {1: 0.25}\n" + renamed + "print(out)\n"
    assert reproduced(tokens(loop), tokens(lesson)) > THRESHOLD
    other = "p_Z = np.convolve(p_X, p_Y)\nvalues = np.arange(len(p_Z)) + 2\n"
    assert reproduced(tokens(loop), tokens(other)) < 0.3


@pytest.mark.parametrize("label, region", REGIONS, ids=[label for label, _ in REGIONS])
def test_no_lesson_cell_contains_a_solution(label, region):
    text = normalise(region)
    if len(text) < MIN_CHARS:
        pytest.skip("region too short to be an answer worth hiding")
    region_tokens = tokens(region)
    long_enough = len([line for line in region.splitlines() if line.strip()]) >= MIN_LINES
    found = []
    for where, cell in CELLS:
        if text in normalise(cell):
            found.append(f"{where}: contains it verbatim")
        elif long_enough:
            share = reproduced(region_tokens, tokens(cell))
            if share > THRESHOLD:
                found.append(f"{where}: reproduces {share:.0%} of its tokens")
    assert not found, f"the graded answer {label} is handed out in a lesson:\n" + "\n".join(found)
