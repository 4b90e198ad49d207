"""Visible checks of problem set 2 (2-D convolution, its matrix, edges, LTI systems).

The examples are small enough to verify by hand or are the sources' own: the 6×6 image of
the CNN lecture notes (homework #1, whose Prewitt map starts with -5), the Toeplitz matrix of
the Unit 5 notes (§5.1.3: z = T(x) y), and their definitions of linearity and time invariance
(§5.1.1). Question 5's backward pass is checked on small hand cases (worked out in its
hints) and against ``cnnlab.conv2d_backward``. Fill-in answers are only checked for sanity here; the hidden tests (in
the instructors' ``solutions/`` only) check them fully and try many random cases.
"""
from __future__ import annotations

import numpy as np

from ... import kernels
from ...examples import IMAGE_6X6, STEP_IMAGE
from ._core import Checker, CheckFailed, fmt, same_values

#: the C routines under np.convolve / np.correlate (reachable without the Python names)
_C_CORRELATE = ("numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2")
_CONV2D = ("numpy.convolve", "numpy.correlate", *_C_CORRELATE, "scipy.signal", "scipy.ndimage", "torch",
           "cnnlab.conv2d", "cnnlab.conv2d_matrix", "cnnlab.conv_output_size")
_BACKWARD = ("cnnlab.conv2d_backward", "cnnlab.conv_transpose2d", "cnnlab.conv2d", "cnnlab.conv2d_matrix",
             "torch", "scipy.signal", "scipy.ndimage", "numpy.convolve", "numpy.correlate", *_C_CORRELATE)
#: the library rule of each question (see ``_rules``): these do the work the question asks for
RULES = {
    "q1_output_shape_test": ("question 1 (conv2d)", _CONV2D),
    "q1_conv2d_test": ("question 1 (conv2d)", _CONV2D),
    "q1_conv2d_strided_test": ("question 1 (conv2d)", _CONV2D),
    "q2_matrix_test": ("question 2 (conv2d_matrix)", (
        "scipy.linalg", "scipy.sparse", "cnnlab.conv2d_matrix", "cnnlab.conv_matrix")),
    "q3_edges_test": ("question 3 (edge_maps)", _CONV2D),
    "q3_compare_test": ("question 3 (edge_maps)", _CONV2D),
    "q4_linear_test": ("question 4 (LTI)", (
        "cnnlab.systems.check_linearity", "cnnlab.systems.check_time_invariance",
        "cnnlab.systems.check_lti", "cnnlab.systems.respond_by_convolution",
        "cnnlab.systems.impulse_response")),
    "q4_invariant_test": ("question 4 (LTI)", (
        "cnnlab.systems.check_linearity", "cnnlab.systems.check_time_invariance",
        "cnnlab.systems.check_lti")),
    "q4_predict_test": ("question 4 (LTI)", (
        "numpy.convolve", *_C_CORRELATE, "scipy.signal", "torch", "cnnlab.convolve",
        "cnnlab.systems.respond_by_convolution", "cnnlab.systems.impulse_response")),
    "q5_backward_test": ("question 5 (conv2d_backward)", _BACKWARD),
    "q5_backward_strided_test": ("question 5 (conv2d_backward)", _BACKWARD),
}

__all__ = ["check_output_shape", "check_conv2d_basic", "check_conv2d_strided", "check_conv2d_matrix",
           "check_matrix_counts", "check_edge_maps", "check_direction_spread", "check_most_isotropic",
           "check_is_linear", "check_is_time_invariant", "check_predict", "check_lti_boxes",
           "check_conv2d_backward", "check_conv2d_backward_strided",
           "soft_edge", "IMAGE", "PREWITT_VERTICAL", "SOBEL_VERTICAL", "SCHARR_VERTICAL", "ANGLES"]

#: the CNN lecture notes' 6×6 image and their three vertical edge detectors, as float arrays of
#: the notebook's own (the set-up cell imports them; a student's code may write to them)
IMAGE = IMAGE_6X6.copy()
PREWITT_VERTICAL, SOBEL_VERTICAL, SCHARR_VERTICAL = (
    kernels.EDGE_DETECTORS[name]("vertical").astype(float) for name in ("prewitt", "sobel", "scharr"))
#: the edge directions (degrees) of question 3b
ANGLES = tuple(range(0, 91, 15))



def soft_edge(theta, size=31, width=0.7):
    """A ``size × size`` image of a straight, slightly soft step edge through the centre.

    The intensity rises from 0 to 1 across the line at angle ``theta`` (radians) from the
    vertical: ``1 / (1 + exp(-(x cos θ + y sin θ) / width))`` with x to the right and y down.

    >>> img = soft_edge(0.0)
    >>> img.shape, bool(img[15, 0] < 0.01 < 0.99 < img[15, 30])
    ((31, 31), True)
    """
    yy, xx = np.mgrid[0:size, 0:size] - (size - 1) / 2
    return 1 / (1 + np.exp(-(xx * np.cos(theta) + yy * np.sin(theta)) / width))


def _ref_conv2d(image, kernel, stride=1, padding=0, dilation=1):
    from cnnlab import conv2d

    return conv2d(np.asarray(image, float)[None, None], np.asarray(kernel, float)[None, None],
                  stride=stride, padding=padding, dilation=dilation)[0, 0]


def check_output_shape(output_shape) -> None:
    """``output_shape(input_shape, kernel_shape, stride=1, padding=0, dilation=1)`` -> (rows, cols)."""
    __tracebackhide__ = True
    c = Checker("output_shape", forbid=RULES["q1_output_shape_test"])
    cases = [
        (((6, 6), (3, 3)), {}, (4, 4), "CNN lecture notes, §9: a 6x6 image and a 3x3 filter give (6 - 3 + 1) x (6 - 3 + 1) = 4x4"),
        (((6, 6), (3, 3)), dict(padding=1), (6, 6), "CNN lecture notes, §9: with p = 1, n + 2p - f + 1 = 6 + 2 - 3 + 1 = 6 ('same')"),
        (((6, 6), (3, 3)), dict(padding=1, stride=2), (3, 3),
         "floor((6 + 2 - 3) / 2) + 1 = floor(2.5) + 1 = 3"),
        (((9, 9), (3, 3)), dict(dilation=2), (5, 5),
         "dilation 2 spreads the 3 taps over d(k - 1) + 1 = 5 pixels: 9 - 5 + 1 = 5"),
        (((28, 20), (5, 3)), dict(stride=(1, 2), padding=(0, 1)), (24, 10),
         "a pair gives (rows, columns): rows (28 - 5)/1 + 1 = 24, columns floor((20 + 2 - 3)/2) + 1 = 10"),
    ]
    for args, kwargs, expected, hint in cases:
        shown = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        got = c.call(output_shape, *args, name="output_shape", **kwargs)
        try:
            got = tuple(int(v) for v in got)
        except (TypeError, ValueError):
            raise CheckFailed(f"output_shape({shown}) should return a pair of ints (rows, cols), got {fmt(got)}") from None
        c.equal(got, expected, call=f"output_shape({shown})", hint=hint)
    c.raises(output_shape, (2, 2), (3, 3), exception=ValueError, call="output_shape((2, 2), (3, 3))",
             hint="a 3x3 kernel does not fit in a 2x2 image: raise ValueError saying so")
    c.done()


def check_conv2d_basic(conv2d) -> None:
    """``conv2d(image, kernel, stride=1, padding=0, dilation=1)``: no stride or dilation yet."""
    __tracebackhide__ = True
    c = Checker("conv2d (valid and padded)", forbid=RULES["q1_conv2d_test"])
    c.unflipped(conv2d, IMAGE_6X6, PREWITT_VERTICAL, name="conv2d", call="conv2d(IMAGE, PREWITT_VERTICAL)",
                by_hand="the first cell of the 6x6 example: 3 + 1 + 2 - (1 + 8 + 2) = -5")
    ones = np.ones((3, 3))
    c.array(c.call(conv2d, ones.copy(), ones.copy(), padding=1, name="conv2d"),
            [[4, 6, 4], [6, 9, 6], [4, 6, 4]], call="conv2d(ones((3, 3)), ones((3, 3)), padding=1)",
            hint="one ring of zeros around the image: a corner window covers 4 ones, an edge window 6, "
                 "the centre 9")
    c.done()


def check_conv2d_strided(conv2d) -> None:
    """``conv2d`` with stride, dilation and (rows, cols) pairs."""
    __tracebackhide__ = True
    c = Checker("conv2d (stride, dilation, pairs)", forbid=RULES["q1_conv2d_strided_test"])
    image = np.arange(25.0).reshape(5, 5)
    c.array(c.call(conv2d, image.copy(), np.ones((3, 3)), stride=2, name="conv2d"), [[54, 72], [144, 162]],
            call="conv2d(arange(25).reshape(5, 5), ones((3, 3)), stride=2)",
            hint="windows start at rows 0, 2 and columns 0, 2: the top-left one sums 0+1+2+5+6+7+10+11+12 = 54")
    c.array(c.call(conv2d, image.copy(), np.ones((2, 2)), dilation=2, name="conv2d"),
            [[24, 28, 32], [44, 48, 52], [64, 68, 72]],
            call="conv2d(arange(25).reshape(5, 5), ones((2, 2)), dilation=2)",
            hint="dilation 2 reads x[i, j], x[i, j+2], x[i+2, j], x[i+2, j+2]: 0 + 2 + 10 + 12 = 24 first")
    rng = np.random.default_rng(12)
    x, w = rng.integers(-3, 4, size=(6, 7)).astype(float), rng.integers(-2, 3, size=(2, 3)).astype(float)
    kwargs = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    c.array(c.call(conv2d, x.copy(), w.copy(), name="conv2d", **kwargs), _ref_conv2d(x, w, **kwargs),
            call="conv2d(x, w, stride=(2, 1), padding=(1, 0), dilation=(1, 2))", inputs={"x": x, "w": w},
            hint="pairs are (rows, columns): stride 2 and padding 1 along the rows, dilation 2 along the columns")
    c.done()


def check_conv2d_matrix(conv2d_matrix) -> None:
    """``conv2d_matrix(kernel, input_shape)``: M with M @ x.ravel() == conv2d(x, kernel).ravel()."""
    __tracebackhide__ = True
    c = Checker("conv2d_matrix", forbid=RULES["q2_matrix_test"])
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    M = np.asarray(c.call(conv2d_matrix, w.copy(), (3, 3), name="conv2d_matrix"), dtype=float)
    c.equal(M.shape, (4, 9), call="conv2d_matrix([[1, 2], [3, 4]], (3, 3)).shape",
            hint="one row per output pixel (2 x 2 = 4), one column per input pixel (3 x 3 = 9)")
    x = np.arange(9.0).reshape(3, 3)
    c.array(M @ x.ravel(), _ref_conv2d(x, w).ravel(), call="conv2d_matrix(w, (3, 3)) @ x.ravel()",
            inputs={"x": x}, hint="row r of M holds the kernel at the positions output r reads, in x.ravel() order")
    c.equal([int(v) for v in np.count_nonzero(M, axis=1)], [4, 4, 4, 4], call="non-zeros per row of M",
            hint="each output reads exactly kh * kw = 4 inputs")
    w2 = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    x2 = np.random.default_rng(7).normal(size=(4, 5))
    M2 = np.asarray(c.call(conv2d_matrix, w2.copy(), (4, 5), name="conv2d_matrix"), dtype=float)
    c.array(M2 @ x2.ravel(), _ref_conv2d(x2, w2).ravel(), call="conv2d_matrix(w2, (4, 5)) @ x2.ravel()",
            inputs={"w2": w2}, hint="a 4x5 image and a 2x3 kernel: M is (3 * 3) x (4 * 5)")
    c.done()


def check_matrix_counts(entries, nonzeros, distinct) -> None:
    """Sanity of the three counts of question 2b (the values are checked by hidden tests)."""
    __tracebackhide__ = True
    c = Checker("the counts")
    for name, value in (("entries", entries), ("nonzeros", nonzeros), ("distinct", distinct)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise CheckFailed(f"{name} should be an int, got {fmt(value)}")
    c.equal(0 < distinct <= nonzeros <= entries, True, call="0 < distinct <= nonzeros <= entries",
            hint="every distinct non-zero value appears at least once, and non-zeros are some of the entries")
    c.equal(distinct <= 25, True, call="distinct <= 25",
            hint="all non-zero entries of M are weights of the one 5x5 kernel")
    c.done()


def check_edge_maps(edge_maps) -> None:
    """``edge_maps(image, vertical)`` -> (gx, gy, magnitude), 'same' size (padding 1)."""
    __tracebackhide__ = True
    c = Checker("edge_maps", forbid=RULES["q3_edges_test"])
    got = c.call(edge_maps, STEP_IMAGE.copy(), PREWITT_VERTICAL.copy(), name="edge_maps")
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        raise CheckFailed(f"edge_maps should return three arrays (gx, gy, magnitude), got {fmt(got)}")
    gx, gy, mag = (np.asarray(a, dtype=float) for a in got)
    for name, arr in (("gx", gx), ("gy", gy), ("magnitude", mag)):
        c.equal(arr.shape, (6, 6), call=f"{name}.shape for a 6x6 image",
                hint="use padding 1 so the maps keep the image's size")
    c.array(gx[2], [-30, 0, 30, 30, 0, 0], call="gx[2] (a middle row) of a 10 | 0 step image",
            hint="the vertical detector: left column minus right column; at the image's left border the "
                 "padding zeros make a (negative) edge too")
    c.array(gy[2], [0, 0, 0, 0, 0, 0], call="gy[2] of the step image",
            hint="the horizontal detector is the vertical one transposed (vertical.T): no top-bottom change "
                 "in the middle rows")
    c.array(mag, np.hypot(gx, gy), call="magnitude", hint="sqrt(gx**2 + gy**2), element by element")
    c.done()


def check_direction_spread(direction_spread) -> None:
    """``direction_spread(vertical)``: std / mean of the peak gradient magnitude over ANGLES."""
    __tracebackhide__ = True
    c = Checker("direction_spread", forbid=RULES["q3_compare_test"])
    got = c.call(direction_spread, PREWITT_VERTICAL.copy(), name="direction_spread")
    if isinstance(got, bool) or not isinstance(got, (float, np.floating, int, np.integer)):
        raise CheckFailed(f"direction_spread should return a number, got {fmt(got)}")
    c.close(float(got), 0.02009, call="direction_spread(PREWITT_VERTICAL)", rtol=2e-3,
            hint="for each angle in ANGLES: img = soft_edge(radians(angle)); take the max of the magnitude "
                 "over img[5:-5, 5:-5] (away from the padded border); then np.std(peaks) / np.mean(peaks)")
    c.close(float(c.call(direction_spread, 2 * PREWITT_VERTICAL, name="direction_spread")), float(got),
            call="direction_spread(2 * PREWITT_VERTICAL)", rtol=1e-6,
            hint="scaling a kernel scales every peak: the spread (a ratio) must not change")
    c.done()


def check_most_isotropic(most_isotropic) -> None:
    """Sanity of question 3b's answer (its value is checked by the hidden tests)."""
    __tracebackhide__ = True
    c = Checker("most_isotropic")
    c.equal(isinstance(most_isotropic, str) and most_isotropic.lower() in ("prewitt", "sobel", "scharr"),
            True, call=f"most_isotropic = {most_isotropic!r}", hint="one of 'prewitt', 'sobel', 'scharr'")
    c.done()


def _boxes():
    from cnnlab import systems

    return systems


def check_is_linear(is_linear) -> None:
    """``is_linear(system, n=32, trials=20, seed=0)`` -> bool."""
    __tracebackhide__ = True
    s = _boxes()
    c = Checker("is_linear", forbid=RULES["q4_linear_test"])
    for system, expected, hint in (
        (s.echo(3, 0.5), True, "an echo y(t) = x(t) + 0.5 x(t - 3) is linear"),
        (s.squarer(), False, "(a x)^2 is not a x^2: squaring is not linear"),
        (s.offset(1.0), False, "adding a constant breaks linearity: O(0) must be 0 for a linear system"),
    ):
        _verdict(c, is_linear, "is_linear", system, expected, hint)
    c.done()


def _verdict(c, fn, name, system, expected, hint) -> None:
    """One True/False verdict of a student's system test on a named black box."""
    __tracebackhide__ = True
    got = c.call(fn, system, name=name)
    if not isinstance(got, (bool, np.bool_)):
        raise CheckFailed(f"{name}({system.name}) should return True or False, got {fmt(got)}")
    c.equal(bool(got), expected, call=f"{name}({system.name})", hint=hint)


def check_is_time_invariant(is_time_invariant) -> None:
    """``is_time_invariant(system, n=32, shifts=(1, 2, 5), trials=5, seed=0)`` -> bool."""
    __tracebackhide__ = True
    s = _boxes()
    c = Checker("is_time_invariant", forbid=RULES["q4_invariant_test"])
    for system, expected, hint in (
        (s.echo(3, 0.5), True, "the echo does the same thing at every time"),
        (s.squarer(), True, "squaring each sample does not depend on t: time invariant (but not linear)"),
        (s.modulator(8), False, "multiplying by cos(2 pi t / 8) depends on t: a delayed input meets a "
                                "different gain"),
    ):
        _verdict(c, is_time_invariant, "is_time_invariant", system, expected, hint)
    c.done()


def check_predict(predict) -> None:
    """``predict(system, x)``: the output of an LTI system from its impulse response alone."""
    __tracebackhide__ = True
    s = _boxes()
    c = Checker("predict", forbid=RULES["q4_predict_test"])
    x = np.array([1.0, -2.0, 0.5, 3.0, 0.0, -1.0, 2.0, 1.0])
    for system in (s.echo(2, 0.5), s.lowpass(0.4)):
        c.array(c.call(predict, system, x.copy(), name="predict"), system(x), call=f"predict({system.name}, x)",
                inputs={"x": x}, hint="an LTI system is convolution with its impulse response; keep the first "
                                      "len(x) values")
    c.done()


def check_lti_boxes(lti_boxes) -> None:
    """Sanity of question 4d's answer (its value is checked by the hidden tests)."""
    __tracebackhide__ = True
    c = Checker("lti_boxes")
    ok = isinstance(lti_boxes, (list, tuple)) and all(isinstance(v, str) and v in "ABCD" and len(v) == 1
                                                      for v in lti_boxes)
    c.equal(ok, True, call=f"lti_boxes = {fmt(lti_boxes)}", hint="a list of letters, e.g. ['B', 'D']")
    c.done()


# ----------------------------------------------------------------------------- question 5
def _backward(x, w, g, stride=1, padding=0, *, rotate=False, stride_ignored=False, crop=True):
    """Question 5's answer (one image of C channels, one filter), with the typical mistakes
    switchable: ``rotate`` uses the filter rotated by 180°, ``stride_ignored`` places output
    (i, j)'s window at (i, j), ``crop=False`` keeps the padding in grad_x."""
    x, w, g = (np.asarray(a, dtype=float) for a in (x, w, g))
    w_used = w[:, ::-1, ::-1] if rotate else w
    _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    step = 1 if stride_ignored else stride
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            r, q = i * step, j * step
            if r + kh > xp.shape[1] or q + kw > xp.shape[2]:
                continue
            gxp[:, r:r + kh, q:q + kw] += g[i, j] * w_used
            gw += g[i, j] * xp[:, r:r + kh, q:q + kw]
    if rotate:
        gw = gw[:, ::-1, ::-1]
    gx = gxp[:, padding:padding + x.shape[1], padding:padding + x.shape[2]] if crop else gxp
    return gx, gw, float(g.sum())


def _reference_backward(x, w, g, stride=1, padding=0):
    from cnnlab import conv2d_backward

    gx, gw, gb = conv2d_backward(np.asarray(x, float)[None], np.asarray(w, float)[None],
                                 np.asarray(g, float)[None, None], stride=stride, padding=padding)
    return gx[0], gw[0], float(gb[0])


def _three(got, call):
    if not (isinstance(got, (tuple, list)) and len(got) == 3):
        raise CheckFailed(f"{call} should return three things (grad_x, grad_w, grad_b), got {fmt(got)}")
    return got


def _backward_case(c, fn, x, w, g, stride, padding, call, hints=None):
    """Compare fn's three gradients with the reference; name the mistake when one is recognised."""
    __tracebackhide__ = True
    kwargs = {} if (stride, padding) == (1, 0) else dict(stride=stride, padding=padding)
    got = _three(c.call(fn, x.copy(), w.copy(), g.copy(), name="conv2d_backward", **kwargs), call)
    gx, gw, gb = _reference_backward(x, w, g, stride, padding)
    hints = dict(hints or {})
    mistakes = [
        (dict(rotate=True), "you rotated the filter by 180°: output (i, j) was w · (its window), so its gradient "
                            "goes back as grad_y[i, j] · w onto that same window, w as it is. The rotation "
                            "appears only if you write grad_x as a correlation of the zero-padded grad_y"),
        (dict(stride_ignored=True), f"with stride {stride}, output (i, j) read the window starting at row "
                                    f"i·{stride}, column j·{stride}: its gradient goes back there"),
        (dict(crop=False), f"grad_x must have the shape of x, {x.shape}: drop the {padding} row(s)/column(s) of "
                           "padding zeros on each side (they are not inputs, nothing learns from them)"),
    ]
    recognised = {}
    for flags, hint in mistakes:
        if (stride == 1 and "stride_ignored" in flags) or (padding == 0 and "crop" in flags):
            continue
        wx, ww, _ = _backward(x, w, g, stride, padding, **flags)
        if same_values(got[0], wx) and not same_values(wx, gx):
            recognised.setdefault("grad_x", hint)
        if same_values(got[1], ww) and not same_values(ww, gw):
            recognised.setdefault("grad_w", hint)
    inputs = {"x": x, "w": w, "grad_y": g}
    c.array(got[0], gx, call=f"grad_x of {call}", inputs=inputs,
            hint=recognised.get("grad_x", hints.get("grad_x", "grad_x[:, r, c] sums grad_y[i, j] · w over every "
                                "window (i, j) that covered pixel (r, c), with the weight that met it")))
    w_hint = recognised.get("grad_w", hints.get("grad_w", "grad_w[:, a, b] sums grad_y[i, j] times the (padded) "
                                                          "input pixel that weight (a, b) met in window (i, j)"))
    try:
        if np.asarray(got[1], float).shape == w.shape[1:]:
            w_hint = (f"grad_w has the shape of w, {w.shape}: one kh x kw slice per input channel, each "
                      "built from that channel's pixels")
    except (TypeError, ValueError):
        pass
    c.array(got[1], gw, call=f"grad_w of {call}", inputs=inputs, hint=w_hint)
    b = got[2]
    try:
        arr = np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        arr = None
    b_hint = hints.get("grad_b", "b is added to every output pixel, so dL/db = the sum of grad_y over all of them")
    if arr is not None and arr.shape == g.shape:
        b_hint = ("grad_b is one number: b is added to every output pixel, so the gradients of all of them add "
                  "up, dL/db = grad_y.sum()")
        arr = None
    elif arr is not None and arr.size == 1 and np.isclose(float(arr), float(np.mean(g))) and not np.isclose(
            float(np.mean(g)), gb):
        b_hint = "sum, not average: each output pixel adds its own grad_y[i, j] to dL/db, grad_y.sum()"
    if arr is None or arr.size != 1:
        raise CheckFailed(f"grad_b of {call} should be one number (a float), got {fmt(b)}\n  hint: {b_hint}")
    c.close(float(arr.reshape(())), gb, call=f"grad_b of {call}", hint=b_hint)


def check_conv2d_backward(conv2d_backward) -> None:
    """``conv2d_backward(x, w, grad_y, stride=1, padding=0)`` -> (grad_x, grad_w, grad_b) for one
    image ``x`` (C, H, W) and one filter ``w`` (C, kh, kw); here stride 1 and no padding."""
    __tracebackhide__ = True
    c = Checker("conv2d_backward (stride 1, channels)", forbid=RULES["q5_backward_test"])
    x = np.arange(9.0).reshape(1, 3, 3)
    w = np.array([[[1.0, 0.0], [0.0, -1.0]]])
    g = np.array([[1.0, 2.0], [0.0, -1.0]])
    _backward_case(c, conv2d_backward, x, w, g, 1, 0, "the hand case", hints={
        "grad_x": "scatter: add 1·w onto the window at (0, 0), 2·w at (0, 1), 0·w at (1, 0) and -1·w at (1, 1); "
                  "grad_x[0] = [[1, 2, 0], [0, -2, -2], [0, 0, 1]]",
        "grad_w": "grad_w[0, a, b] = sum over (i, j) of grad_y[i, j] · x[0, i + a, j + b]; "
                  "grad_w[0, 0, 0] = 1·0 + 2·1 + 0·3 - 1·4 = -2",
        "grad_b": "b is added to all 4 outputs: dL/db = 1 + 2 + 0 - 1 = 2"})
    rng = np.random.default_rng(5)
    x, w = rng.integers(-3, 4, size=(3, 5, 6)).astype(float), rng.integers(-2, 3, size=(3, 2, 3)).astype(float)
    g = rng.integers(-2, 3, size=(4, 4)).astype(float)
    _backward_case(c, conv2d_backward, x, w, g, 1, 0, "conv2d_backward(x, w, grad_y) with 3 channels", hints={
        "grad_x": "channel c of grad_x gets grad_y[i, j] · w[c] on each window: the filter's channel c, not a sum "
                  "over channels"})
    c.raises(conv2d_backward, x.copy(), w.copy(), np.ones((3, 3)), exception=ValueError,
             call="conv2d_backward(x, w, ones((3, 3))) with a 5x6 image and a 2x3 filter",
             hint="grad_y must have the forward output's shape, here (5 - 2 + 1) x (6 - 3 + 1) = 4x4: "
                  "raise ValueError saying so")
    c.done()


def check_conv2d_backward_strided(conv2d_backward) -> None:
    """``conv2d_backward`` with ``stride`` and ``padding``."""
    __tracebackhide__ = True
    c = Checker("conv2d_backward (stride, padding)", forbid=RULES["q5_backward_strided_test"])
    x = np.arange(25.0).reshape(1, 5, 5)
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    _backward_case(c, conv2d_backward, x, np.ones((1, 3, 3)), g, 2, 0,
                   "conv2d_backward(arange(25).reshape(1, 5, 5), ones((1, 3, 3)), [[1, 2], [3, 4]], stride=2)",
                   hints={"grad_x": "the four 3x3 windows start at (0, 0), (0, 2), (2, 0), (2, 2) and overlap in "
                                    "row 2 and column 2: grad_x[0, 2, 2] = 1 + 2 + 3 + 4 = 10"})
    x = np.ones((1, 3, 3))
    g = np.ones((3, 3))
    _backward_case(c, conv2d_backward, x, np.ones((1, 3, 3)), g, 1, 1,
                   "conv2d_backward(ones((1, 3, 3)), ones((1, 3, 3)), ones((3, 3)), padding=1)",
                   hints={"grad_x": "pad x, work on the padded image, then crop: a corner pixel is covered by 4 of "
                                    "the 9 windows, an edge pixel by 6, the centre by all 9",
                          "grad_w": "weight (a, b) meets the padded input's ones only where its window is inside "
                                    "the image: grad_w[0] = [[4, 6, 4], [6, 9, 6], [4, 6, 4]]"})
    rng = np.random.default_rng(9)
    x, w = rng.integers(-3, 4, size=(2, 7, 6)).astype(float), rng.integers(-2, 3, size=(2, 3, 3)).astype(float)
    g = rng.integers(-2, 3, size=(4, 3)).astype(float)
    _backward_case(c, conv2d_backward, x, w, g, 2, 1,
                   "conv2d_backward(x, w, grad_y, stride=2, padding=1) with 2 channels, a 7x6 image")
    c.done()
