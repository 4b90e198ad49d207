"""ps2's visible checks and hidden tests, run without a kernel on the solution notebook's cells.

The solution passes every visible check and every hidden test; typical wrong answers fail
with a teacher's message; hard-coding the visible examples does not get past the hidden tests.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from cnnlab.course.checks import CheckFailed, ps2

nbformat = pytest.importorskip("nbformat")
import _nbcells  # noqa: E402
from _nbcells import run as _run  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "ps2" / "ps2.ipynb"
RELEASE = ROOT / "assignments" / "ps2" / "ps2.ipynb"


def _cells(path=SOURCE):
    return _nbcells.cells(path)


def _namespace(replace: dict | None = None, path=SOURCE) -> dict:
    """Execute the setup and answer cells (not the tests, not the photo) like a kernel would."""
    return _nbcells.namespace(path, replace, skip=("q3_photo_show",))


@pytest.fixture(scope="module")
def solved():
    return _namespace()


def test_points_and_structure():
    _nbcells.check_structure("ps2", 19)


def test_solution_passes_visible_checks(solved, capsys):
    s = solved
    ps2.check_output_shape(s["output_shape"])
    ps2.check_conv2d_basic(s["conv2d"])
    ps2.check_conv2d_strided(s["conv2d"])
    ps2.check_conv2d_matrix(s["conv2d_matrix"])
    ps2.check_matrix_counts(s["entries"], s["nonzeros"], s["distinct"])
    ps2.check_edge_maps(s["edge_maps"])
    ps2.check_direction_spread(s["direction_spread"])
    ps2.check_most_isotropic(s["most_isotropic"])
    ps2.check_is_linear(s["is_linear"])
    ps2.check_is_time_invariant(s["is_time_invariant"])
    ps2.check_predict(s["predict"])
    ps2.check_lti_boxes(s["lti_boxes"])
    ps2.check_conv2d_backward(s["conv2d_backward"])
    ps2.check_conv2d_backward_strided(s["conv2d_backward"])
    assert capsys.readouterr().out.count("✔") == 14


@pytest.mark.parametrize("grade_id", [g for g in _cells() if g.endswith("_test")])
def test_solution_passes_every_test_cell_with_hidden_tests(solved, grade_id):
    _run(_cells()[grade_id].source, dict(solved))


def _flipped(conv2d):
    return lambda image, kernel, **kw: conv2d(image, np.asarray(kernel, float)[::-1, ::-1], **kw)


def _ignores(conv2d, name):
    return lambda image, kernel, **kw: conv2d(image, kernel, **{k: v for k, v in kw.items() if k != name})


@pytest.mark.parametrize("check, wrong, message", [
    ("check_output_shape", lambda ns: lambda i, k, stride=1, padding=0, dilation=1: (i[0] - k[0] + 1, i[1] - k[1] + 1),
     r"output_shape\(\(6, 6\), \(3, 3\), padding=1\) returned the wrong value"),
    ("check_output_shape",
     lambda ns: lambda i, k, stride=1, padding=0, dilation=1: tuple((n + 2 * padding - kk) // stride + 1 for n, kk in zip(i, k)),
     r"dilation=2\) returned the wrong value"),
    ("check_conv2d_basic", lambda ns: _flipped(ns["conv2d"]), "you flipped the kernel \\(a true convolution\\)"),
    ("check_conv2d_basic", lambda ns: _ignores(ns["conv2d"], "padding"), r"padding=1\) returned an array of the wrong shape"),
    ("check_conv2d_strided", lambda ns: _ignores(ns["conv2d"], "dilation"), r"dilation=2\) returned"),
    ("check_conv2d_strided", lambda ns: _ignores(ns["conv2d"], "stride"), r"stride=2\) returned an array of the wrong shape"),
    ("check_conv2d_matrix", lambda ns: lambda w, shape: ns["conv2d_matrix"](w, shape).T, "wrong shape|\\(4, 9\\)"),
    ("check_edge_maps", lambda ns: lambda img, v: ns["edge_maps"](img, v)[:2], "three arrays"),
    ("check_edge_maps", lambda ns: lambda img, v: (ns["conv2d"](img, v), ns["conv2d"](img, v.T),
                                                   ns["conv2d"](img, v)), r"shape for a 6x6 image"),
    ("check_direction_spread", lambda ns: lambda v: 0.5, "direction_spread\\(PREWITT_VERTICAL\\) is wrong"),
    ("check_is_linear", lambda ns: lambda system, n=32, trials=20, seed=0: True, r"is_linear\(squarer\)"),
    ("check_is_linear", lambda ns: lambda system, n=32, trials=20, seed=0: 1, "should return True or False"),
    ("check_is_time_invariant", lambda ns: lambda system, n=32, shifts=(1, 2, 5), trials=5, seed=0: True,
     r"is_time_invariant\(modulator"),
    ("check_predict", lambda ns: lambda system, x: system(x)[::-1], r"predict\(echo"),
])
def test_wrong_answers_get_a_teachers_message(solved, check, wrong, message):
    with pytest.raises(CheckFailed, match=message) as info:
        getattr(ps2, check)(wrong(solved))
    assert "hint:" in str(info.value) or "should return" in str(info.value)


def test_library_shortcuts_are_refused(solved):
    shortcut = '''
def conv2d(image, kernel, stride=1, padding=0, dilation=1):
    import cnnlab
    return cnnlab.conv2d(np.asarray(image, float)[None, None], np.asarray(kernel, float)[None, None],
                         stride=stride, padding=padding, dilation=dilation)[0, 0]
'''
    ns = _namespace({"q1_conv2d": shortcut})
    with pytest.raises(CheckFailed, match=r"cnnlab.conv2d is not allowed in question 1 \(conv2d\)"):
        ps2.check_conv2d_basic(ns["conv2d"])
    lazy = '''
def is_linear(system, n=32, trials=20, seed=0):
    return systems.check_linearity(system).holds
'''
    with pytest.raises(CheckFailed, match=r"cnnlab.systems.check_linearity is not allowed in question 4"):
        ps2.check_is_linear(_namespace({"q4_linear": lazy})["is_linear"])


def test_fill_in_answers_are_only_sanity_checked_visibly(solved):
    ps2.check_matrix_counts(1000, 100, 25)             # wrong numbers, but sane: only hidden tests catch them
    with pytest.raises(CheckFailed):
        _run(_cells()["q2_counts_test"].source, dict(solved, entries=1000, nonzeros=100, distinct=25))
    with pytest.raises(CheckFailed, match="distinct <= nonzeros"):
        ps2.check_matrix_counts(10, 100, 25)
    with pytest.raises(CheckFailed, match="should be an int"):
        ps2.check_matrix_counts(1.0, 1, 1)
    ps2.check_most_isotropic("sobel")
    with pytest.raises(CheckFailed, match="most_isotropic"):
        _run(_cells()["q3_compare_test"].source, dict(solved, most_isotropic="sobel"))
    with pytest.raises(CheckFailed, match="one of 'prewitt'"):
        ps2.check_most_isotropic("canny")
    ps2.check_lti_boxes(["B"])
    with pytest.raises(CheckFailed, match="lti_boxes"):
        _run(_cells()["q4_boxes_test"].source, dict(solved, lti_boxes=["B"]))
    with pytest.raises(CheckFailed, match="a list of letters"):
        ps2.check_lti_boxes("AC")


def test_hardcoded_conv2d_passes_visible_but_not_hidden(solved):
    """Returning the visible examples' numbers fools the visible check, not the hidden tests."""
    real = solved["conv2d"]
    known = {}
    for args in ((np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]]), {}),
                 (ps2.IMAGE, ps2.PREWITT_VERTICAL, {}), (np.ones((3, 3)), np.ones((3, 3)), {"padding": 1})):
        known[(args[0].tobytes(), args[1].tobytes(), tuple(sorted(args[2].items())))] = real(*args[:2], **args[2])

    def cheat(image, kernel, stride=1, padding=0, dilation=1):
        key = (np.asarray(image, float).tobytes(), np.asarray(kernel, float).tobytes(),
               tuple(sorted({"padding": padding}.items())) if padding else ())
        return known.get(key, np.zeros((1, 1)))

    ps2.check_conv2d_basic(cheat)
    with pytest.raises(CheckFailed, match="returned an array of the wrong shape|returned the wrong values"):
        _run(_cells()["q1_conv2d_test"].source, dict(solved, conv2d=cheat))


def test_release_fails_every_test_cell_cleanly():
    """A student who wrote nothing: every test cell fails with a readable error, none crashes oddly."""
    ns: dict = {}
    cells = _cells(RELEASE)
    for gid, cell in cells.items():
        if cell.cell_type != "code" or gid == "q3_photo_show":
            continue
        try:
            _run(cell.source, ns)
        except (CheckFailed, NameError, NotImplementedError) as exc:
            if gid.endswith("_test"):
                assert "not implemented" in str(exc) or isinstance(exc, NameError) or "NotImplementedError" in str(exc)
            continue
        assert not gid.endswith("_test"), f"{gid} passed on an empty release"


def test_soft_edge_and_constants():
    img = ps2.soft_edge(np.pi / 2)
    assert img.shape == (31, 31) and img[0, 15] < 0.01 and img[30, 15] > 0.99   # an edge across the rows
    assert ps2.ANGLES == (0, 15, 30, 45, 60, 75, 90)
    np.testing.assert_array_equal(ps2.SCHARR_VERTICAL[:, 0], [3, 10, 3])


# ----------------------------------------------------------------------------- question 5
def _wrong_backward(solved, **flags):
    """The solution with one typical mistake (see ps2._backward), or the solution's grad_b replaced."""
    grad_b = flags.pop("grad_b", None)
    check_shape = flags.pop("check_shape", True)

    def wrong(x, w, grad_y, stride=1, padding=0):
        if check_shape:
            solved["conv2d_backward"](x, w, grad_y, stride=stride, padding=padding)   # raises on a bad shape
        gx, gw, gb = ps2._backward(x, w, grad_y, stride, padding, **flags)
        return gx, gw, (gb if grad_b is None else grad_b(np.asarray(grad_y, float)))
    return wrong


@pytest.mark.parametrize("check, mistake, hint", [
    # convolution of the padded grad_y with the filter not rotated = scatter with the rotated filter
    ("check_conv2d_backward", dict(rotate=True), "you rotated the filter by 180°"),
    ("check_conv2d_backward", dict(grad_b=lambda g: g), "grad_b is one number"),
    ("check_conv2d_backward", dict(grad_b=lambda g: float(g.mean())), "sum, not average"),
    ("check_conv2d_backward", dict(grad_b=lambda g: 0.0), "dL/db = 1 + 2 + 0 - 1 = 2"),
    ("check_conv2d_backward", dict(check_shape=False), "raise ValueError"),
    ("check_conv2d_backward_strided", dict(stride_ignored=True), "output (i, j) read the window starting at row i·2"),
    ("check_conv2d_backward_strided", dict(crop=False), "grad_x must have the shape of x, (1, 3, 3)"),
])
def test_backward_mistakes_get_their_hint(solved, check, mistake, hint):
    wrong = _wrong_backward(solved, **mistake)
    if mistake == {"check_shape": False}:
        wrong = lambda x, w, grad_y, stride=1, padding=0: ps2._backward(x, w, grad_y, stride, padding)  # noqa: E731
    with pytest.raises(CheckFailed) as info:
        getattr(ps2, check)(wrong)
    assert hint in str(info.value)
    assert "hint:" in str(info.value) or "should raise" in str(info.value)


def test_backward_channel_mistakes_get_their_hint(solved):
    def summed_w(x, w, grad_y, stride=1, padding=0):
        gx, gw, gb = solved["conv2d_backward"](x, w, grad_y, stride=stride, padding=padding)
        return gx, gw.sum(axis=0), gb
    with pytest.raises(CheckFailed, match=r"grad_w has the shape of w, \(1, 2, 2\)"):
        ps2.check_conv2d_backward(summed_w)

    def one_channel(x, w, grad_y, stride=1, padding=0):     # every channel gets the first filter channel
        gx, gw, gb = solved["conv2d_backward"](x, np.repeat(np.asarray(w)[:1], len(w), axis=0), grad_y,
                                                stride=stride, padding=padding)
        return gx, solved["conv2d_backward"](x, w, grad_y, stride=stride, padding=padding)[1], gb
    with pytest.raises(CheckFailed, match="the filter's channel c"):
        ps2.check_conv2d_backward(one_channel)

    def unsplit_tuple(x, w, grad_y, stride=1, padding=0):
        return np.zeros_like(np.asarray(x, float))
    with pytest.raises(CheckFailed, match=r"should return three things \(grad_x, grad_w, grad_b\)"):
        ps2.check_conv2d_backward(unsplit_tuple)


def test_backward_library_shortcut_is_refused():
    shortcut = '''
def conv2d_backward(x, w, grad_y, stride=1, padding=0):
    import cnnlab
    gx, gw, gb = cnnlab.conv2d_backward(np.asarray(x, float)[None], np.asarray(w, float)[None],
                                        np.asarray(grad_y, float)[None, None], stride=stride, padding=padding)
    return gx[0], gw[0], float(gb[0])
'''
    ns = _namespace({"q5_backward": shortcut})
    with pytest.raises(CheckFailed, match=r"cnnlab.conv2d_backward is not allowed in question 5 \(conv2d_backward\)"):
        ps2.check_conv2d_backward(ns["conv2d_backward"])


def test_backward_stride_one_only_fails_the_hidden_strided_tests(solved):
    """An answer that only handles the lesson's case (stride 1, no padding) loses part b."""
    def basic_only(x, w, grad_y, stride=1, padding=0):
        return solved["conv2d_backward"](x, w, grad_y)
    _run(_cells()["q5_backward_test"].source, dict(solved, conv2d_backward=basic_only))
    with pytest.raises(CheckFailed):
        _run(_cells()["q5_backward_strided_test"].source, dict(solved, conv2d_backward=basic_only))
