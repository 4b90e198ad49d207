"""The students' checks (cnnlab.course.checks) and the ps1 tests, without a kernel.

The ps1 notebook's cells are executed in a plain namespace: the solution passes the
visible checks and the hidden tests; typical wrong answers fail them with the message
a teacher would give; an answer that hard-codes the notes' examples passes the visible
checks but not the hidden tests.
"""
from __future__ import annotations

import pathlib
from fractions import Fraction

import numpy as np
import pytest

from cnnlab.course.checks import CheckFailed, Checker, _core as C, ps1

nbformat = pytest.importorskip("nbformat")
import _nbcells  # noqa: E402
from _nbcells import run as _run  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "ps1" / "ps1.ipynb"


def _cells():
    return _nbcells.cells(SOURCE)


def _solution_namespace(replace: dict | None = None) -> dict:
    """Execute setup and answer cells (optionally with other answers) like a kernel would."""
    return _nbcells.namespace(SOURCE, replace)


@pytest.fixture(scope="module")
def solved():
    return _solution_namespace()


# -- _core ---------------------------------------------------------------------------
def test_message_names_call_result_expectation_and_hint():
    with pytest.raises(CheckFailed) as info:
        C.expect_array([1, 2], [1, 2, 3], call="f(x)", inputs={"x": np.arange(3)}, hint="one per input")
    text = str(info.value)
    for part in ("f(x) returned an array of the wrong shape: (2,) instead of (3,)", "x = [0, 1, 2]",
                 "returned: [1, 2]", "expected: [1, 2, 3]", "hint: one per input"):
        assert part in text


def test_first_difference_is_located():
    with pytest.raises(CheckFailed, match=r"first difference at index \(1, 0\): 9 instead of 3"):
        C.expect_array([[1, 2], [9, 4]], [[1, 2], [3, 4]], call="g()")


@pytest.mark.parametrize("got, match", [
    (None, "returned None"),
    ("text", "should return an array of numbers, got str"),
    ([[1, 2], [3]], "should return an array of numbers"),
])
def test_non_arrays_are_explained(got, match):
    with pytest.raises(CheckFailed, match=match):
        C.expect_array(got, [1, 2], call="h()")


def test_call_explains_not_implemented_and_exceptions():
    def todo(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="todo is not implemented yet"):
        C.call(todo, 1)
    with pytest.raises(CheckFailed, match=r"boom\(1, k=2\) raised ZeroDivisionError: division by zero"):
        C.call(lambda x, k: 1 / 0, 1, k=2, name="boom")
    with pytest.raises(CheckFailed, match="is not a function"):
        C.call(3, name="conv1d")


def test_int_expectations():
    C.expect_int(np.int64(3), 3, call="n()")
    with pytest.raises(CheckFailed, match="value is right but it is a float"):
        C.expect_int(3.0, 3, call="n()")
    with pytest.raises(CheckFailed, match="should return an int, got bool"):
        C.expect_int(True, 1, call="n()")
    with pytest.raises(CheckFailed, match="returned the wrong value"):
        C.expect_int(4, 3, call="n()")


def test_equal_does_not_confuse_bool_and_int():
    C.expect_equal(np.array([0, 1]), (0, 1), call="pads()")
    with pytest.raises(CheckFailed):
        C.expect_equal(True, 1, call="flag()")


def test_raises_expectation():
    C.expect_raises(int, "x", exception=ValueError, call="int('x')")
    with pytest.raises(CheckFailed, match="should raise ValueError, but it returned a value"):
        C.expect_raises(int, "3", exception=ValueError, call="int('3')")
    with pytest.raises(CheckFailed, match="raised TypeError"):
        C.expect_raises(int, None, exception=ValueError, call="int(None)")


def test_pmf_expectations():
    third = Fraction(1, 3)
    C.expect_pmf({0: third, 1: 2 * third, 5: 0}, {0: third, 1: 2 * third}, call="p", exact=True)
    with pytest.raises(CheckFailed, match="missing values: \\[2\\]"):
        C.expect_pmf({0: 1}, {0: Fraction(1, 2), 2: Fraction(1, 2)}, call="p")
    with pytest.raises(CheckFailed, match="not an exact Fraction"):
        C.expect_pmf({0: 0.5, 1: 0.5}, {0: Fraction(1, 2), 1: Fraction(1, 2)}, call="p", exact=True)
    with pytest.raises(CheckFailed, match="should be a dict"):
        C.expect_pmf([0.5, 0.5], {0: 0.5, 1: 0.5}, call="p")


def test_library_rule_is_enforced_at_run_time_however_the_name_is_reached():
    """The rule stubs the function itself, so aliases, eval and __import__ hit it too."""
    import numpy as np

    from cnnlab.course.checks._rules import NotAllowed

    sneaky = {
        "alias": lambda x: __import__("numpy").convolve(x, x),
        "eval": lambda x: eval("np.convolve")(x, x),
        "core": lambda x: __import__("numpy")._core.numeric.convolve(x, x),
        "scipy": lambda x: __import__("scipy.signal", fromlist=["_"]).convolve(x, x),
    }
    c = Checker("conv1d", forbid=("question 1 (conv1d)", ("numpy.convolve", "scipy.signal")))
    for name, fn in sneaky.items():
        with pytest.raises(CheckFailed, match=r"np.convolve is not allowed in question 1 \(conv1d\)"
                           r"|scipy.signal is not allowed in question 1 \(conv1d\)"):
            c.call(fn, np.arange(3.0), name=name)
    assert np.convolve([1, 2], [1]).tolist() == [1, 2]  # restored afterwards
    with pytest.raises(NotAllowed):
        from cnnlab.course.checks._rules import enforce
        with enforce({"numpy.convolve": "question 1"}):
            np.convolve([1], [1])


def test_checker_counts_and_reports(capsys):
    c = Checker("demo")
    c.int(2, 2, call="a")
    c.close(0.1 + 0.2, 0.3, call="b")
    c.done()
    assert capsys.readouterr().out.strip() == "✔ demo: all 2 checks passed"


def test_tracebacks_hide_the_checks():
    """IPython hides frames that set __tracebackhide__: the student sees their cell only."""
    for fn in (C.call, C.expect_array, C.expect_equal, C.expect_int, C.expect_raises, C.expect_pmf,
               ps1.check_conv1d, ps1.check_same_padding, Checker.array):
        assert "__tracebackhide__" in fn.__code__.co_varnames, fn


def test_fmt_is_short_and_readable():
    assert C.fmt(Fraction(1, 24)) == "1/24"
    assert C.fmt({3: Fraction(1, 8), 2: Fraction(1, 24)}) == "{2: 1/24, 3: 1/8}"
    assert "shape (2, 2)" in C.fmt(np.eye(2))
    assert len(C.fmt(list(range(10_000)))) <= 400


# -- ps1: the solution passes, wrong answers fail with a teacher's message ------------
def test_solution_passes_visible_checks(solved, capsys):
    ps1.check_conv1d(solved["conv1d"])
    ps1.check_output_size(solved["conv_output_size"])
    ps1.check_toeplitz(solved["toeplitz"])
    ps1.check_pmf_sum(solved["pmf_sum"])
    ps1.check_dice(solved["p_W"])
    ps1.check_conv2d(solved["conv2d_valid"])
    ps1.check_edges(solved["edge_map"], solved["true_convolution"])
    ps1.check_padding_numbers(solved["p_formula"], solved["pads_keep_all"])
    ps1.check_same_padding(solved["same_padding"])
    assert capsys.readouterr().out.count("✔") == 9


@pytest.mark.parametrize("grade_id", [g for g in _cells() if g.endswith("_test")])
def test_solution_passes_every_test_cell_with_hidden_tests(solved, grade_id):
    source = _cells()[grade_id].source
    assert "### BEGIN HIDDEN TESTS" in source
    _run(source, dict(solved))


def _conv1d_xcorr(x, h, padding=0, stride=1):
    x = np.concatenate([np.zeros(padding), np.asarray(x, float), np.zeros(padding)])
    h = np.asarray(h, float)
    return np.array([x[i:i + len(h)] @ h for i in range(0, len(x) - len(h) + 1, stride)])


@pytest.mark.parametrize("check, wrong, message", [
    (ps1.check_conv1d, _conv1d_xcorr, "you computed the cross-correlation"),
    (ps1.check_conv1d, lambda x, h, padding=0, stride=1: _conv1d_xcorr(x, h, padding, 1),
     r"conv1d\(x, h, padding=1, stride=2\) returned an array of the wrong shape"),
    (ps1.check_conv1d, lambda x, h, padding=0, stride=1: None, "returned None"),
    (ps1.check_output_size, lambda n, f, padding=0, stride=1: (n + 2 * padding - f) / stride + 1,
     "should return an int, got float"),
    (ps1.check_output_size, lambda n, f, padding=0, stride=1: (n + 2 * padding - f) // stride + 1,
     "should raise ValueError"),
    (ps1.check_toeplitz, lambda h, n: np.zeros((n, n)), "wrong shape: \\(6, 6\\) instead of \\(8, 6\\)"),
    (ps1.check_pmf_sum, lambda p, q: {a + b: float(p[a] * q[b]) for a in p for b in q},
     "the probability of 1 is wrong"),
    (ps1.check_conv2d, lambda image, kernel: -_solution_namespace()["conv2d_valid"](image, kernel),
     "wrong values"),
    (ps1.check_same_padding, lambda n, f, stride=1: ((f - 1) // 2, (f - 1) // 2), r"same_padding\(6, 3, stride=2\)"),
])
def test_wrong_answers_get_a_teachers_message(check, wrong, message):
    with pytest.raises(CheckFailed, match=message) as info:
        check(wrong)
    assert "hint:" in str(info.value) or "returned None" in str(info.value)


def test_dice_and_homework_values_are_checked():
    with pytest.raises(CheckFailed, match="the totals in p_W"):
        ps1.check_dice({t: Fraction(1, 8) for t in range(2, 10)})  # the six-sided die's totals
    exact = {2: Fraction(1, 16), 3: Fraction(3, 16), 4: Fraction(1, 4), 5: Fraction(1, 4),
             6: Fraction(3, 16), 7: Fraction(1, 16)}
    ps1.check_dice(exact)
    with pytest.raises(CheckFailed, match="not an exact|Fraction"):
        ps1.check_dice({t: float(v) for t, v in exact.items()})
    with pytest.raises(CheckFailed, match="symmetric about 4.5"):
        ps1.check_dice({**exact, 3: Fraction(1, 8), 4: Fraction(5, 16)})
    with pytest.raises(CheckFailed, match="one way only"):
        ps1.check_dice({t: Fraction(1, 6) for t in range(2, 8)})
    with pytest.raises(CheckFailed, match="whole number"):
        ps1.check_padding_numbers(4.2, (4, 5))
    with pytest.raises(CheckFailed, match="smallest total"):
        ps1.check_padding_numbers(4, (4, 5))
    with pytest.raises(CheckFailed, match="the extra one at the end"):
        ps1.check_padding_numbers(4.5, (5, 4))
    with pytest.raises(CheckFailed, match="must be 7"):
        ps1.check_padding_numbers(3.5, (3, 4))  # the lesson's numbers (n = 6, f = 3)
    with pytest.raises(CheckFailed, match="every output changes sign"):
        ps1.check_edges(np.full((4, 4), -5.0), np.full((4, 4), -5.0))


def test_hardcoded_answers_pass_visible_checks_but_not_hidden_tests(solved):
    """A student who returns the notes' numbers for the notes' inputs passes what they can see."""
    hard = '''
def conv_output_size(n, f, padding=0, stride=1):
    known = {(9, 3, 2, 1): 11, (9, 3, 0, 1): 7, (9, 3, 1, 2): 5, (6, 3, 0, 1): 4, (6, 3, 1, 1): 6, (6, 3, 1, 2): 3}
    if n + 2 * padding < f:
        raise ValueError("does not fit")
    return known.get((n, f, padding, stride), n)
'''
    ns = _solution_namespace({"q2_output_size": hard})
    ps1.check_output_size(ns["conv_output_size"])  # the visible check is fooled ...
    with pytest.raises(CheckFailed, match=r"conv_output_size\(\d+, \d+, padding=\d, stride=\d\) returned the wrong"):
        _run(_cells()["q2_output_size_test"].source, ns)  # ... the hidden tests are not


def test_release_fails_every_test_cell_cleanly():
    """Run the release as a student who wrote nothing: every test fails, with a
    CheckFailed ("not implemented yet") or a NameError for a value never assigned."""
    release = nbformat.read(ROOT / "assignments" / "ps1" / "ps1.ipynb", as_version=4)
    ns: dict = {}
    failures = {}
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type != "code":
            continue
        try:
            _run(cell.source, ns)
        except NotImplementedError:
            assert not gid.endswith("_test")
        except (CheckFailed, NameError) as exc:
            failures[gid] = exc
    tests = [g for g in _cells() if g.endswith("_test")]
    assert sorted(failures) == sorted(tests)
    assert "is not implemented yet" in str(failures["q1_conv1d_test"])
