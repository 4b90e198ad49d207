"""cnnlab.examples: the sources' numbers, read-only, and typed nowhere else in cnnlab/ or the lessons.

The numbers below are copied from the four documents once more, on purpose: this is the
check that the one copy everything else uses says what the documents say.
"""
from __future__ import annotations

import ast
import pathlib
import re
from fractions import Fraction as F

import numpy as np
import pytest

import cnnlab
from cnnlab import examples as E
from cnnlab import kernels

ROOT = pathlib.Path(__file__).resolve().parents[1]
ARRAYS = {name: getattr(E, name) for name in E.__all__ if isinstance(getattr(E, name), np.ndarray)}
PMFS = {name: getattr(E, name) for name in E.__all__ if name.endswith("_PMF")}
SHORT_NAMES = ("Chollet slides", "CNN lecture notes", "Bishop ch. 10 slides", "Unit 5 notes")


# -- the documents' numbers -------------------------------------------------------------
def test_image_is_homework_1_of_the_cnn_lecture_notes():
    assert E.IMAGE_6X6.tolist() == [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                                    [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
    edges = cnnlab.conv2d(E.IMAGE_6X6[None, None], kernels.prewitt()[None, None])[0, 0]
    assert edges.shape == (4, 4) and edges[0, 0] == 3 + 1 + 2 - (1 + 8 + 2) == -5


def test_step_image_gives_the_thick_vertical_edge():
    assert E.STEP_IMAGE.tolist() == [[10, 10, 10, 0, 0, 0]] * 6
    edges = cnnlab.conv2d(E.STEP_IMAGE[None, None], kernels.prewitt()[None, None])[0, 0]
    assert edges.tolist() == [[0, 30, 30, 0]] * 4


def test_moving_average_of_the_unit_5_notes():
    assert E.AUDIO_X.tolist() == [1, 2, 3, 1, 2, 3, 1, 2, 3]
    np.testing.assert_allclose(E.AVERAGE_H * 3, [1, 1, 1])
    full = cnnlab.convolve(E.AUDIO_X, E.AVERAGE_H, mode="full")       # P = 2, S = 1: 9 + 3 − 1
    np.testing.assert_allclose(full, [1 / 3, 1, 2, 2, 2, 2, 2, 2, 2, 5 / 3, 1])
    sizes = [cnnlab.conv_output_size(9, 3, stride=s, padding=p) for p, s in [(2, 1), (0, 1), (1, 2)]]
    assert sizes == [11, 7, 5]


def test_payoff_plus_die_of_the_unit_5_notes():
    assert dict(E.PAYOFF_PMF) == {1: F(1, 4), 2: F(1, 2), 3: F(1, 4)}
    assert dict(E.DIE_PMF) == {k: F(1, 6) for k in range(1, 7)}
    z = cnnlab.pmf_of_sum(E.PAYOFF_PMF, E.DIE_PMF)
    assert (z[2], z[4], z[9]) == (F(1, 24), F(1, 6), F(1, 24)) and sorted(z) == list(range(2, 10))


def test_feature_map_of_the_chollet_slides():
    assert E.FEATURE_MAP_4X4.tolist() == [[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]]
    assert cnnlab.max_pool2d(E.FEATURE_MAP_4X4[None], 2)[0].tolist() == [[20, 30], [112, 37]]


# -- read-only ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_arrays_are_read_only_floats(name):
    arr = ARRAYS[name]
    assert arr.dtype == np.float64 and not arr.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        arr[(0,) * arr.ndim] = 99.0
    mine = arr.copy()
    mine[(0,) * arr.ndim] = 99.0                        # a copy is the caller's to change
    assert arr[(0,) * arr.ndim] != 99.0


@pytest.mark.parametrize("name", sorted(PMFS))
def test_pmfs_are_read_only_mappings(name):
    pmf = PMFS[name]
    with pytest.raises(TypeError):
        pmf[1] = F(1)
    assert sum(pmf.values()) == 1 and all(isinstance(p, F) for p in pmf.values())
    mine = dict(pmf)
    mine[1] = F(0)
    assert pmf[1] != 0


def test_every_constant_names_its_source():
    """Each public constant has a ``#:`` comment naming one of the four documents by its short name."""
    source = (ROOT / "cnnlab" / "examples.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    documented = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            above, i = [], node.lineno - 2
            while i >= 0 and lines[i].startswith("#:"):
                above.insert(0, lines[i][2:].strip())
                i -= 1
            documented[node.targets[0].id] = " ".join(above)
    for name in E.__all__:
        assert any(s in documented.get(name, "") for s in SHORT_NAMES), f"{name}: no source named in its #: comment"


# -- typed once -----------------------------------------------------------------------------
#: one row of each multi-row constant, as it would be typed (whitespace ignored)
ROWS = {"IMAGE_6X6": "3,0,1,2,7,4", "STEP_IMAGE": "10,10,10,0,0,0", "FEATURE_MAP_4X4": "112,100,25,12"}


def _typed_rows(text):
    squeezed = re.sub(r"\s+|\\n|\"", "", text)           # notebooks: JSON strings, one line each
    squeezed = re.sub(r"\.0?(?=[,\]])", "", squeezed)      # 3.0, / 3., -> 3,
    return {name for name, row in ROWS.items() if f"[{row}]" in squeezed}


def test_the_reference_arrays_are_typed_only_in_examples():
    """No other file of the library or of the lessons types the 6×6 image, the step image or
    the 4×4 feature map again (tests and the graded problem sets may: they check them or
    show them to students)."""
    files = [p for p in (ROOT / "cnnlab").rglob("*") if p.suffix in (".py", ".json")]
    files += sorted((ROOT / "notebooks").glob("*.ipynb"))
    retyped = {}
    for path in files:
        if path == ROOT / "cnnlab" / "examples.py":
            continue
        found = _typed_rows(path.read_text(encoding="utf-8"))
        if found:
            retyped[str(path.relative_to(ROOT))] = sorted(found)
    assert retyped == {}, f"use cnnlab.examples instead of typing these again: {retyped}"


def test_the_typed_once_check_finds_a_copy():
    assert _typed_rows("image = np.array([[3, 0, 1, 2, 7, 4],\n  [1, 5") == {"IMAGE_6X6"}
    assert _typed_rows('"step = np.array([[10., 10., 10., 0., 0., 0.]] * 6)\\n"') == {"STEP_IMAGE"}
    assert _typed_rows("np.tile([10, 10, 10, 0, 0, 0], (6, 1))") == {"STEP_IMAGE"}
    assert _typed_rows("x = [3, 0, 1, 2, 7, 4, 5]") == set()


def test_widgets_and_checks_use_the_one_copy():
    pytest.importorskip("ipywidgets")
    from cnnlab.course.checks import ps1, ps2
    from cnnlab.widgets.conv import make_input
    from cnnlab.widgets.pooling import EXAMPLE_FEATURE_MAP

    assert EXAMPLE_FEATURE_MAP is E.FEATURE_MAP_4X4
    assert ps1.IMAGE is E.IMAGE_6X6 and ps1.AUDIO_X is E.AUDIO_X and ps1.AVERAGE_H is E.AVERAGE_H
    np.testing.assert_array_equal(make_input("seed", 6, 2), E.IMAGE_6X6)
    np.testing.assert_array_equal(make_input("seed", 9, 1), E.AUDIO_X)
    # ps2's set-up cell imports IMAGE and the filters into the student's notebook: copies of their own
    np.testing.assert_array_equal(ps2.IMAGE, E.IMAGE_6X6)
    assert ps2.IMAGE.flags.writeable and ps2.PREWITT_VERTICAL.flags.writeable
    for name in ("prewitt", "sobel", "scharr"):
        np.testing.assert_array_equal(getattr(ps2, f"{name.upper()}_VERTICAL"), getattr(kernels, name)())
