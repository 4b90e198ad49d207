"""Visible checks of problem set 1 (convolution by hand).

The examples are the sources' own: the moving average of x = [1 2 3 1 2 3 1 2 3] with
h = 1/3 [1 1 1] and its output lengths 11, 7 and 5 (Unit 5 notes, §5.3.1), the 8 × 6
Toeplitz matrix T(x) of a product of polynomials (Unit 5 notes, §5.1.3), and homework #1
(the 6 × 6 image, first cell -5) of the CNN lecture notes. They show only numbers the
sources already give; the fill-in answers whose values the lessons work out (the notes'
payoff plus a die, homework #2 with n = 6, f = 3, s = 2) are asked here with other numbers
and only checked for sanity. The hidden tests (in the instructors' solutions/ only) check
every value and try many random cases.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ... import kernels
from ...examples import AUDIO_X, AVERAGE_H, DIE_PMF, IMAGE_6X6
from ._core import Checker, CheckFailed, fmt, same_values

#: the C routines under np.convolve / np.correlate (reachable without the Python names)
_C_CORRELATE = ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2")
#: the library rule of each question (see ``_rules``): these do the work the question asks for
RULES = {
    "q1_conv1d_test": ("question 1 (conv1d)", (
        "numpy.convolve", "numpy.correlate", *_C_CORRELATE, "numpy.lib.stride_tricks.sliding_window_view",
        "scipy.signal", "scipy.ndimage", "torch", "cnnlab.convolve", "cnnlab.correlate",
        "cnnlab.conv1d", "cnnlab.conv_matrix")),
    "q2_output_size_test": ("question 2 (conv_output_size)", ("cnnlab.conv_output_size",)),
    "q3_toeplitz_test": ("question 3 (toeplitz)", (
        "scipy.linalg", "cnnlab.conv_matrix", "cnnlab.conv2d_matrix", "numpy.convolve", *_C_CORRELATE)),
    "q4_pmf_sum_test": ("question 4 (pmf_sum)", ("cnnlab.pmf_of_sum", "numpy.convolve", *_C_CORRELATE)),
    "q4_dice_test": ("question 4 (pmf_sum)", ("cnnlab.pmf_of_sum", "numpy.convolve", *_C_CORRELATE)),
    "q5_conv2d_test": ("question 5 (conv2d_valid)", (
        "scipy.signal", "scipy.ndimage", "torch", "cnnlab.conv2d", "cnnlab.conv2d_matrix")),
    "q5_edges_test": ("question 5 (conv2d_valid)", (
        "scipy.signal", "scipy.ndimage", "torch", "cnnlab.conv2d", "cnnlab.conv2d_matrix")),
    "q6_same_test": ("question 6 (same_padding)", ("cnnlab.same_padding",)),
}

__all__ = ["check_conv1d", "check_output_size", "check_toeplitz", "check_pmf_sum", "check_dice",
           "check_conv2d", "check_edges", "check_padding_numbers", "check_same_padding",
           "AUDIO_X", "AVERAGE_H", "IMAGE", "PREWITT_VERTICAL"]

#: the 6x6 image of the CNN lecture notes (homework #1, read-only) and their vertical edge (Prewitt) filter;
#: AUDIO_X and AVERAGE_H (imported above) are the Unit 5 notes' signal and moving average, §5.3.1
IMAGE = IMAGE_6X6
PREWITT_VERTICAL = kernels.prewitt("vertical")


def _reference_conv1d(x, h, padding, stride):
    return np.convolve(np.pad(np.asarray(x, float), padding), np.asarray(h, float), "valid")[::stride]


def check_conv1d(conv1d) -> None:
    """``conv1d(x, h, padding=0, stride=1)``: true convolution (flipped kernel) of the
    zero-padded signal, keeping every ``stride``-th output."""
    __tracebackhide__ = True
    c = Checker("conv1d", forbid=RULES["q1_conv1d_test"])
    cases = [
        (2, 1, [1 / 3, 1, 2, 2, 2, 2, 2, 2, 2, 5 / 3, 1],
         "P = 2 (the maximal padding, f - 1) and S = 1 give all n + f - 1 = 11 values: "
         "y(1) = 1/3, y(2) = 1, y(3) = 2, ..., y(10) = 5/3, y(11) = 1"),
        (0, 1, [2] * 7, "without padding only the n - f + 1 = 7 positions where the kernel fits "
                        "completely remain, and each averages one 1, one 2 and one 3"),
        (1, 2, [1, 2, 2, 2, 5 / 3], "pad one zero on each side (length 11), then move the kernel two "
                                    "steps at a time: positions 0, 2, 4, 6, 8 of the padded signal"),
    ]
    for padding, stride, expected, hint in cases:
        got = c.call(conv1d, AUDIO_X.copy(), AVERAGE_H.copy(), padding=padding, stride=stride, name="conv1d")
        c.array(got, expected, call=f"conv1d(x, h, padding={padding}, stride={stride})",
                inputs={"x": AUDIO_X, "h": AVERAGE_H}, hint=hint)
    # a kernel that is not symmetric tells convolution from cross-correlation
    x, h = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0])
    got = c.call(conv1d, x.copy(), h.copy(), padding=1, stride=1, name="conv1d")
    expected = _reference_conv1d(x, h, 1, 1)
    hint = ("convolution flips the kernel: y(t) = sum_tau x(tau) h(t - tau). With h = [1, -1] each "
            "output is x(t) - x(t - 1), the first difference.")
    try:
        arr = np.asarray(got, dtype=float)
        if arr.shape == expected.shape and np.allclose(arr, -expected):
            hint = ("you computed the cross-correlation (kernel not flipped): "
                    "reverse h first (h[::-1]), then slide it")
    except (TypeError, ValueError):
        pass
    c.array(got, expected, call="conv1d(x, h, padding=1, stride=1)", inputs={"x": x, "h": h}, hint=hint)
    c.done()


def check_output_size(conv_output_size) -> None:
    """``conv_output_size(n, f, padding=0, stride=1)`` = floor((n + 2p - f) / s) + 1."""
    __tracebackhide__ = True
    c = Checker("conv_output_size", forbid=RULES["q2_output_size_test"])
    cases = [((9, 3), dict(padding=2, stride=1), 11, "the Unit 5 notes' moving average (§5.3.1): (9 + 2*2 - 3)/1 + 1 = 11"),
             ((9, 3), dict(padding=0, stride=1), 7, "the Unit 5 notes' moving average (§5.3.1): (9 + 0 - 3)/1 + 1 = 7"),
             ((9, 3), dict(padding=1, stride=2), 5, "the Unit 5 notes' moving average (§5.3.1): (9 + 2*1 - 3)/2 + 1 = 5"),
             ((6, 3), dict(padding=0, stride=1), 4, "CNN lecture notes, §9: a 6x6 image and a 3x3 filter give 4x4"),
             ((6, 3), dict(padding=1, stride=1), 6, "CNN lecture notes, §9: n + 2p - f + 1 = 6 + 2 - 3 + 1 = 6"),
             ((6, 3), dict(padding=1, stride=2), 3,
              "(6 + 2 - 3)/2 + 1 = 3.5: when the division is not whole, take the floor "
              "(the last partial step does not fit)")]
    for args, kwargs, expected, hint in cases:
        shown = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        c.int(c.call(conv_output_size, *args, name="conv_output_size", **kwargs), expected,
              call=f"conv_output_size({shown})", hint=hint)
    c.raises(conv_output_size, 2, 3, padding=0, stride=1, exception=ValueError,
             call="conv_output_size(2, 3, padding=0, stride=1)",
             hint="a kernel of length 3 does not fit in a signal of length 2 even once: "
                  "raise ValueError with a message saying so instead of returning a size")
    c.done()


def check_toeplitz(toeplitz) -> None:
    """``toeplitz(h, n)``: the (n + len(h) - 1) x n matrix T with T @ x == np.convolve(h, x)."""
    __tracebackhide__ = True
    c = Checker("toeplitz", forbid=RULES["q3_toeplitz_test"])
    x = np.array([1.0, 2.0, 3.0])  # x0, x1, x2 of the Unit 5 notes, §5.1.3
    got = c.call(toeplitz, x.copy(), 6, name="toeplitz")
    expected = np.zeros((8, 6))
    for j in range(6):
        expected[j:j + 3, j] = x
    hint = ("T(x) is 8 x 6 (Unit 5 notes, §5.1.3): column j holds x0, x1, x2 starting at row j "
            "(x0 on the diagonal, x1 just below it, x2 below that)")
    if same_values(got, expected.T):
        hint = ("rows and columns are swapped: T has one row per output coefficient (8) and one column "
                "per input sample (6); x0, x1, x2 run down each column")
    elif same_values(got, expected[::-1, ::-1]) or same_values(got, np.flipud(expected)):
        hint = "the kernel runs the wrong way: x0 sits on the diagonal, x1 just below it, x2 below that"
    c.array(got, expected, call="toeplitz([1, 2, 3], 6)", hint=hint)
    y = np.arange(1.0, 7.0)
    c.array(np.asarray(got, float) @ y, np.convolve(x, y), call="toeplitz([1, 2, 3], 6) @ [1, 2, 3, 4, 5, 6]",
            hint="z = T(x) y must give the coefficients of the product polynomial x(t) y(t)")
    got = c.call(toeplitz, y.copy(), 3, name="toeplitz")
    c.array(np.asarray(got, float) @ x, np.convolve(x, y), call="toeplitz([1, ..., 6], 3) @ [1, 2, 3]",
            hint="convolution is commutative, so T(y) x (an 8 x 3 matrix) gives the same z")
    c.done()


def check_pmf_sum(pmf_sum) -> None:
    """``pmf_sum(p, q)``: the pmf of X + Y for independent X ~ p, Y ~ q (dicts)."""
    __tracebackhide__ = True
    c = Checker("pmf_sum", forbid=RULES["q4_pmf_sum_test"])
    half = Fraction(1, 2)
    coin = {0: half, 1: half}
    c.pmf(c.call(pmf_sum, dict(coin), dict(coin), name="pmf_sum"),
          {0: Fraction(1, 4), 1: half, 2: Fraction(1, 4)},
          call="pmf_sum({0: 1/2, 1: 1/2}, {0: 1/2, 1: 1/2})",
          hint="two fair coins: 1 head happens two ways (HT, TH), so P(1) = 2 * 1/4")
    two_dice = {t: Fraction(6 - abs(t - 7), 36) for t in range(2, 13)}
    c.pmf(c.call(pmf_sum, dict(DIE_PMF), dict(DIE_PMF), name="pmf_sum"), two_dice,
          call="pmf_sum(die, die) with die = {1: 1/6, ..., 6: 1/6}",
          hint="P(X + Y = t) = sum over tau of P(Y = tau) P(X = t - tau); "
               "the total 7 can be made 6 ways, so P(7) = 6/36")
    shifted = {10: Fraction(1, 3), 20: Fraction(2, 3)}
    c.pmf(c.call(pmf_sum, dict(shifted), {0: Fraction(1)}, name="pmf_sum"), shifted,
          call="pmf_sum({10: 1/3, 20: 2/3}, {0: 1})",
          hint="adding a variable that is always 0 changes nothing; the values need not start at 1")
    c.done()


def check_dice(p_W) -> None:
    """``p_W``: the distribution of W = X + V, the payoff X of the Unit 5 notes, §5.1.2
    (1, 2, 3 with probabilities 1/4, 1/2, 1/4) plus a fair four-sided die V (1..4).
    Visible part: sanity only (a distribution on 2..7, exact, symmetric about 4.5, and
    p_W(2) = 1/16, the one way to make 2); the hidden tests check every value."""
    __tracebackhide__ = True
    c = Checker("p_W")
    if not isinstance(p_W, dict):
        raise CheckFailed(f"p_W should be a dict {{total: probability}}, got {type(p_W).__name__}: {fmt(p_W)}")
    c.equal(sorted(k for k, v in p_W.items() if v != 0), list(range(2, 8)), call="the totals in p_W",
            hint="X is 1..3 and the four-sided die V is 1..4, so W = X + V is 2..7")
    c.close(float(sum(p_W.values())), 1.0, call="sum(p_W.values())", hint="probabilities must add up to 1")
    c.equal(all(isinstance(v, Fraction) for v in p_W.values()), True,
            call="all(isinstance(v, Fraction) for v in p_W.values())",
            hint="keep the probabilities exact: p_X and p_V are Fractions, so pmf_sum should give Fractions")
    c.close(float(p_W.get(2, 0)), 1 / 16, call="p_W[2]",
            hint="2 is made one way only, X = 1 and V = 1: p_X(1) p_V(1) = 1/4 * 1/4")
    c.equal(all(p_W.get(t, 0) == p_W.get(9 - t, 0) for t in range(2, 8)), True,
            call="p_W[t] == p_W[9 - t] for every t",
            hint="both distributions are symmetric (X about 2, V about 2.5), so W is symmetric about 4.5: "
                 "p_W(2) = p_W(7), p_W(3) = p_W(6), p_W(4) = p_W(5)")
    c.done()


def check_conv2d(conv2d_valid) -> None:
    """``conv2d_valid(image, kernel)``: 'valid' 2-D cross-correlation, the CNN convention."""
    __tracebackhide__ = True
    c = Checker("conv2d_valid", forbid=RULES["q5_conv2d_test"])
    c.unflipped(conv2d_valid, IMAGE, PREWITT_VERTICAL, name="conv2d_valid",
                call="conv2d_valid(IMAGE, PREWITT_VERTICAL)",
                by_hand="the first cell of homework #1: 3*1 + 1*1 + 2*1 + 0*0 + 5*0 + 7*0 + 1*(-1) + 8*(-1) "
                        "+ 2*(-1) = -5")
    c.done()


def check_edges(edge_map, true_convolution) -> None:
    """Homework #1: ``edge_map`` fills the 4x4 table; ``true_convolution`` is what a
    convolution in the signal-processing sense (flipped kernel) gives."""
    __tracebackhide__ = True
    c = Checker("homework #1")
    for name, value in (("edge_map", edge_map), ("true_convolution", true_convolution)):
        arr = np.asarray(value, dtype=float) if value is not None else None
        if arr is None or arr.shape != (4, 4):
            raise CheckFailed(f"{name} should be a 4x4 array, got {fmt(value)}")
    first = float(np.asarray(edge_map, float)[0, 0])
    hint = "the first cell is 3*1 + 1*1 + 2*1 - (1*1 + 8*1 + 2*1) = -5"
    if first == 5.0:
        hint = ("+5 is what the flipped kernel gives (that is true_convolution): the table lays the filter "
                "on the image unflipped, 3*1 + 1*1 + 2*1 - (1*1 + 8*1 + 2*1) = -5")
    c.close(first, -5.0, call="edge_map[0, 0]", hint=hint)
    c.close(float(np.asarray(true_convolution, float)[0, 0]), 5.0, call="true_convolution[0, 0]",
            hint="flipping the Prewitt kernel left-right turns [1, 0, -1] into [-1, 0, 1]: every "
                 "output changes sign")
    c.done()


def check_padding_numbers(p_formula, pads_keep_all) -> None:
    """Homework #2 with other numbers: the CNN lecture notes' p = (ns - n + f - s)/2 for
    n = 7, f = 4, s = 2, and the uneven padding that really keeps all 7 outputs at stride 2.
    Visible part: the rules the answer must obey; the hidden tests check the values."""
    __tracebackhide__ = True
    c = Checker("homework #2, part 1")
    try:
        value = float(p_formula)
    except (TypeError, ValueError):
        raise CheckFailed(f"p_formula should be a number, got {fmt(p_formula)}") from None
    c.equal(value * 2 == int(value * 2), True, call="2 * p_formula is a whole number",
            hint="(n*s - n + f - s) / 2 with whole n, f, s: twice it is a whole number of zeros")
    if not (isinstance(pads_keep_all, (tuple, list)) and len(pads_keep_all) == 2):
        raise CheckFailed(f"pads_keep_all should be a pair (before, after), got {fmt(pads_keep_all)}")
    before, after = pads_keep_all
    shown = fmt(tuple(pads_keep_all))
    c.equal((7 + before + after - 4) // 2 + 1, 7, call=f"the output length with padding {shown}",
            hint="floor((n + p_before + p_after - f) / s) + 1 must be 7 with n = 7, f = 4, s = 2")
    c.equal(before + after, int(round(2 * value)), call=f"the total padding of {shown} vs 2 * p_formula",
            hint="use the smallest total that works; it is 2p zeros in all, with p from the formula")
    c.equal(after - before, 1, call=f"after - before for {shown}",
            hint="an odd total cannot be split evenly; as the frameworks do, put the extra one at the end")
    c.done()


def check_same_padding(same_padding) -> None:
    """``same_padding(n, f, stride=1)`` -> (before, after), the TensorFlow/Keras 'same' rule."""
    __tracebackhide__ = True
    c = Checker("same_padding", forbid=RULES["q6_same_test"])
    for n, f, s, expected, hint in (
        (6, 3, 1, (1, 1), "stride 1: total f - 1 = 2, split evenly (p = (f - 1)/2 = 1 on each side)"),
        (6, 3, 2, (0, 1), "stride 2: the output is ceil(6/2) = 3; it needs (3 - 1)*2 + 3 = 7 inputs, "
                          "one more than 6: total padding 1, the odd one at the end"),
        (7, 4, 1, (1, 2), "an even kernel: total 3 does not split evenly; the extra row goes after"),
    ):
        got = c.call(same_padding, n, f, stride=s, name="same_padding")
        if expected[0] != expected[1] and same_values(got, expected[::-1]):
            hint = (f"the right total, {sum(expected)}, split the wrong way round: the odd zero goes at the "
                    "end (after), as TensorFlow/Keras put it")
        c.equal(got, expected, call=f"same_padding({n}, {f}, stride={s})", hint=hint)
    c.done()
