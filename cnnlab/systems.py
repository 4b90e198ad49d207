"""Discrete-time systems for lesson 02: black boxes, LTI checks and the impulse response.

A *system* maps an input sequence to an output sequence (Unit 5 notes, §5.1.1). Here the
signals are finite arrays ``x[0], ..., x[n-1]``, zero before ``t = 0``; the systems are
causal, start at rest and return an output of the same length. Within that window an
LTI system is exactly convolution with its impulse response,

    y[t] = Σ_τ x[τ] h[t − τ]   for t = 0, ..., n − 1,

and :func:`check_linearity`, :func:`check_time_invariance` and :func:`impulse_response`
let a student test that claim numerically on black boxes whose insides they do not see.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import _as_array, _check_int, _check_real, _check_seed, _check_size, _check_trials
from .geometry import translate
from .signal import convolve

__all__ = [
    "System", "PropertyCheck", "LTIReport",
    "echo", "lowpass", "moving_average_system", "squarer", "modulator", "clipper", "offset",
    "black_boxes", "unit_impulse", "delay", "impulse_response", "respond_by_convolution",
    "check_linearity", "check_time_invariance", "check_lti", "translate", "equivariance_error",
]


class System:
    """A black box: call it on a 1-D signal, get a 1-D signal of the same length back.

    Parameters
    ----------
    func : callable
        Maps a float64 1-D array to an array of the same shape.
    name : str
        Short name shown in plots and tables.
    description : str
        What it does (shown by ``repr`` only when asked: ``system.description``).

    Examples
    --------
    >>> s = System(lambda x: 2 * x, "double")
    >>> s([1, 2, 3])
    array([2., 4., 6.])
    """

    def __init__(self, func, name, description=""):
        if not callable(func):
            raise TypeError(f"func must be callable, got {func!r}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        self._func = func
        self.name = name
        self.description = description

    def __call__(self, x):
        x = _as_array(x, "x", ndim=1).astype(np.float64)
        y = np.asarray(self._func(x), dtype=np.float64)
        if y.shape != x.shape:  # a broken user-supplied func
            raise ValueError(f"system {self.name!r} returned shape {y.shape} for an input of shape {x.shape}")
        return y

    def __repr__(self):
        return f"System({self.name!r})"


def _factory(fn):
    """Mark a factory's systems with the expression that rebuilds them
    (``__cnnlab_remote__``): the grader sends a system to a sandboxed kernel as that
    expression, never as an object."""
    import functools

    @functools.wraps(fn)
    def build(*args, **kwargs):
        system = fn(*args, **kwargs)
        call = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        system.__cnnlab_remote__ = f"__import__('cnnlab.systems', fromlist=['_']).{fn.__name__}({call})"
        return system

    return build


@_factory
def echo(delay=4, gain=0.6):
    """An echo: ``y[t] = x[t] + gain · x[t − delay]`` (LTI).

    Examples
    --------
    >>> echo(2, 0.5)([1, 0, 0, 0, 0])
    array([1. , 0. , 0.5, 0. , 0. ])
    """
    d = _check_int(delay, "delay", minimum=1)
    g = _check_real(gain, "gain")

    def f(x):
        y = x.copy()
        y[d:] += g * x[:-d] if d < len(x) else 0.0
        return y

    return System(f, f"echo(delay={d}, gain={g:g})", "the input plus a delayed, scaled copy")


@_factory
def lowpass(alpha=0.3):
    """A first-order low-pass (exponential smoothing) filter, ``y[t] = (1 − α) y[t − 1] + α x[t]`` (LTI).

    Its impulse response ``h[t] = α (1 − α)^t`` never ends (an IIR filter); within a
    window of n samples it is the first n of those values.

    Examples
    --------
    >>> lowpass(0.5)([1, 0, 0, 0])
    array([0.5   , 0.25  , 0.125 , 0.0625])
    """
    a = _check_real(alpha, "alpha", positive=True)
    if a > 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")

    def f(x):
        y = np.empty_like(x)
        state = 0.0
        for t, value in enumerate(x.tolist()):  # the recursion itself: no convolution inside
            state = (1 - a) * state + a * value
            y[t] = state
        return y

    return System(f, f"lowpass(alpha={a:g})", "exponential smoothing: each output leans on the previous one")


@_factory
def moving_average_system(width=3):
    """A causal moving average over the last ``width`` samples (LTI).

    Examples
    --------
    >>> moving_average_system(2)([2, 4, 6])
    array([1., 3., 5.])
    """
    w = _check_int(width, "width", minimum=1)

    def f(x):
        c = np.concatenate([[0.0], np.cumsum(x)])
        t = np.arange(len(x))
        return (c[t + 1] - c[np.maximum(t + 1 - w, 0)]) / w

    return System(f, f"moving_average(width={w})", "the mean of the last few samples")


@_factory
def squarer():
    """``y[t] = x[t]²``: time-invariant but NOT linear.

    Examples
    --------
    >>> squarer()([1, -2, 3])
    array([1., 4., 9.])
    """
    return System(np.square, "squarer", "squares every sample")


@_factory
def modulator(period=8):
    """``y[t] = x[t] · cos(2πt / period)``: linear but NOT time-invariant (the gain depends on t).

    Examples
    --------
    >>> modulator(2)([1, 1, 1, 1])
    array([ 1., -1.,  1., -1.])
    """
    p = _check_real(period, "period", positive=True)

    def f(x):
        # t / p, not 2π / p first: a tiny period must not overflow to inf (cos(inf) is NaN)
        with np.errstate(over="ignore", invalid="ignore"):
            phase = np.arange(len(x)) / p
            phase = np.where(np.isfinite(phase), np.mod(phase, 1.0), 0.0)  # t / p past 1e308: whole turns
        return x * np.cos(2 * np.pi * phase)

    return System(f, f"modulator(period={p:g})", "multiplies by a cosine that depends on time")


@_factory
def clipper(limit=1.0):
    """``y[t] = clip(x[t], −limit, limit)``: time-invariant, NOT linear (a saturating amplifier).

    Examples
    --------
    >>> clipper(1)([0.5, 2, -3])
    array([ 0.5,  1. , -1. ])
    """
    c = _check_real(limit, "limit", positive=True)
    return System(lambda x: np.clip(x, -c, c), f"clipper(limit={c:g})", "saturates at ±limit")


@_factory
def offset(value=1.0):
    """``y[t] = x[t] + value``: time-invariant, NOT linear (it is affine: the zero input gives a non-zero output).

    Examples
    --------
    >>> offset(1)([0, 1])
    array([1., 2.])
    """
    c = _check_real(value, "value")
    return System(lambda x: x + c, f"offset({c:g})", "adds a constant")


def black_boxes():
    """The four boxes of lesson 02, keyed 'A' to 'D': two LTI, two not (find out which).

    Examples
    --------
    >>> sorted(black_boxes())
    ['A', 'B', 'C', 'D']
    """
    return {"A": echo(4, 0.6), "B": squarer(), "C": lowpass(0.3), "D": modulator(8)}


def unit_impulse(n, at=0):
    """δ(t − at) on a window of ``n`` samples.

    Examples
    --------
    >>> unit_impulse(4, at=1)
    array([0., 1., 0., 0.])
    """
    n = _check_size(n, "n")
    at = _check_int(at, "at", minimum=0)
    if at >= n:
        raise ValueError(f"at must be smaller than n = {n}, got {at}")
    d = np.zeros(n)
    d[at] = 1.0
    return d


def delay(x, shift):
    """``x̃[t] = x[t − shift]`` on the same window: ``shift`` zeros in front, the tail dropped.

    Examples
    --------
    >>> delay([1, 2, 3, 4], 1)
    array([0., 1., 2., 3.])
    """
    x = _as_array(x, "x", ndim=1).astype(np.float64)
    shift = _check_int(shift, "shift", minimum=0)
    out = np.zeros_like(x)
    if shift < len(x):
        out[shift:] = x[: len(x) - shift]
    return out


def impulse_response(system, n):
    """The first ``n`` samples of the system's response to δ(t): ``h = system(unit_impulse(n))``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``.

    Examples
    --------
    >>> impulse_response(echo(2, 0.5), 5)
    array([1. , 0. , 0.5, 0. , 0. ])
    """
    _check_system(system)
    return _respond(system, unit_impulse(n))


def respond_by_convolution(h, x):
    """What an LTI system with impulse response ``h`` does to ``x``: ``convolve(x, h)[:len(x)]``.

    Parameters
    ----------
    h : array_like, 1-D
        Impulse response (at least ``len(x)`` samples of it for an exact answer).
    x : array_like, 1-D

    Returns
    -------
    numpy.ndarray
        Shape ``(len(x),)``.

    Notes
    -----
    ``y[t] = Σ_{τ=0}^{t} x[τ] h[t − τ]`` — the Unit 5 notes' sum, restricted to the window.

    Examples
    --------
    >>> s = lowpass(0.5)
    >>> x = [1.0, 2.0, -1.0, 0.0, 3.0]
    >>> bool(np.allclose(respond_by_convolution(impulse_response(s, 5), x), s(x)))
    True
    """
    h = _as_array(h, "h", ndim=1)
    x = _as_array(x, "x", ndim=1)
    return convolve(x, h, mode="full")[: len(x)].astype(np.float64)


def _check_system(system):
    if not callable(system):
        raise TypeError(f"system must be callable (a System or a function of one array), got {system!r}")


def _respond(f, x, name="system"):
    """``f(x)`` as a float64 array of the shape of ``x``: a function that returns None, text
    or another shape is a ValueError naming ``name`` (it is the function that is wrong)."""
    try:
        y = np.asarray(f(x), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must return an array of numbers, got an error: {exc}") from exc
    if y.shape != np.shape(x):
        raise ValueError(f"{name} must return an array of the input's shape {np.shape(x)}, got shape {y.shape}")
    return y


def _name(system):
    return getattr(system, "name", getattr(system, "__name__", repr(system)))


def _close(a, b, tol):
    scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    err = float(np.max(np.abs(a - b), initial=0.0))
    return err <= tol * scale, err


@dataclass(frozen=True)
class PropertyCheck:
    """The outcome of one numerical test of a system property.

    ``bool(check)`` is ``holds``. ``max_error`` is the largest difference seen between
    the two sides of the defining equation; ``counterexample`` describes the first
    failing trial (``None`` when every trial passed).
    """

    system: str
    property: str
    holds: bool
    max_error: float
    trials: int
    counterexample: dict | None = field(default=None)

    def __bool__(self):
        return self.holds

    def __str__(self):
        verdict = "holds" if self.holds else "FAILS"
        text = f"{self.property} of {self.system}: {verdict} (max error {self.max_error:.3g} over {self.trials} trials)"
        if self.counterexample:
            text += "; e.g. " + ", ".join(f"{k}={v}" for k, v in self.counterexample.items())
        return text


@dataclass(frozen=True)
class LTIReport:
    """Both checks together; ``is_lti`` only when both hold."""

    linearity: PropertyCheck
    time_invariance: PropertyCheck

    @property
    def is_lti(self):
        return self.linearity.holds and self.time_invariance.holds

    def __bool__(self):
        return self.is_lti

    def __str__(self):
        return f"{self.linearity}\n{self.time_invariance}\n=> {'LTI' if self.is_lti else 'not LTI'}"


def _common(system, n, trials, seed, tol):
    _check_system(system)
    n = _check_size(n, "n", minimum=2)
    trials = _check_trials(trials, "trials")
    seed = _check_seed(seed)
    tol = _check_real(tol, "tol", positive=True)
    return n, trials, np.random.default_rng(seed), tol


def check_linearity(system, n=32, *, trials=10, seed=0, tol=1e-9):
    """Test ``O(a1·x1 + a2·x2) == a1·O(x1) + a2·O(x2)`` on random signals and scalars.

    Parameters
    ----------
    system : callable
        A :class:`System` or any function of one 1-D array.
    n : int
        Length of the random test signals.
    trials : int
        Number of random (x1, x2, a1, a2) draws.
    seed : int
        Seed of the random draws (the check is reproducible).
    tol : float
        Relative tolerance for floating-point round-off.

    Returns
    -------
    PropertyCheck

    Examples
    --------
    >>> bool(check_linearity(echo()))
    True
    >>> print(check_linearity(squarer(), trials=1).holds)
    False
    """
    n, trials, rng, tol = _common(system, n, trials, seed, tol)
    worst, example = 0.0, None
    for _ in range(trials):
        x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
        a1, a2 = (float(v) for v in np.round(rng.uniform(-3, 3, 2), 2))
        lhs = _respond(system, a1 * x1 + a2 * x2)
        rhs = a1 * _respond(system, x1) + a2 * _respond(system, x2)
        ok, err = _close(lhs, rhs, tol)
        worst = max(worst, err)
        if not ok and example is None:
            example = {"a1": a1, "a2": a2, "error": round(err, 6)}
    return PropertyCheck(_name(system), "linearity", example is None, worst, trials, example)


def check_time_invariance(system, n=32, *, shifts=(1, 3, 7), trials=5, seed=0, tol=1e-9):
    """Test that delaying the input by τ delays the output by τ: ``O(x(· − τ))(t) == y(t − τ)``.

    Compared on ``t >= τ`` (before that the delayed signal is outside the window).

    Parameters
    ----------
    system : callable
    n : int
        Length of the random test signals.
    shifts : sequence of int
        Delays τ to try, each in ``1 .. n-1``.
    trials, seed, tol
        As in :func:`check_linearity`.

    Returns
    -------
    PropertyCheck

    Examples
    --------
    >>> bool(check_time_invariance(lowpass()))
    True
    >>> bool(check_time_invariance(modulator()))
    False
    """
    n, trials, rng, tol = _common(system, n, trials, seed, tol)
    if isinstance(shifts, (int, np.integer)) and not isinstance(shifts, bool):
        shifts = (shifts,)
    try:
        shifts = tuple(_check_int(s, "shifts", minimum=1) for s in shifts)
    except TypeError:
        raise TypeError(f"shifts must be a sequence of positive ints, got {shifts!r}") from None
    if not shifts or max(shifts) >= n:
        raise ValueError(f"shifts must be a non-empty sequence of ints in 1..{n - 1}, got {shifts!r}")
    worst, example = 0.0, None
    for _ in range(trials):
        x = rng.standard_normal(n)
        y = _respond(system, x)
        for tau in shifts:
            y_shifted_input = _respond(system, delay(x, tau))
            ok, err = _close(y_shifted_input[tau:], y[: n - tau], tol)
            worst = max(worst, err)
            if not ok and example is None:
                example = {"shift": tau, "error": round(err, 6)}
    return PropertyCheck(_name(system), "time invariance", example is None, worst, trials * len(shifts), example)


def check_lti(system, n=32, *, trials=10, seed=0, tol=1e-9):
    """Run both checks; the result is truthy only for an LTI system.

    Examples
    --------
    >>> [name for name, box in black_boxes().items() if check_lti(box)]
    ['A', 'C']
    """
    return LTIReport(
        check_linearity(system, n, trials=trials, seed=seed, tol=tol),
        check_time_invariance(system, n, trials=max(1, trials // 2), seed=seed, tol=tol),
    )


# --------------------------------------------------------------------------- 2-D: translation
def equivariance_error(op, image, dy, dx, *, border=0):
    """Translation equivariance, measured: ``op(translate(image)) − translate(op(image))``.

    Parameters
    ----------
    op : callable
        Maps a 2-D image to a 2-D feature map of the same shape (e.g. a 'same'-padded
        convolution).
    image : array_like, 2-D
    dy, dx : int
        The shift.
    border : int
        Width of the frame ignored around the shifted region: the pixels whose window
        reached past the image edge (``k // 2`` for a k×k 'same' convolution).

    Returns
    -------
    (difference, interior_max) : (numpy.ndarray, float)
        The full difference map, and its largest magnitude away from the borders, where
        the two sides must agree (0 up to round-off for a convolution).

    Examples
    --------
    >>> from cnnlab import conv2d, kernels
    >>> img = np.random.default_rng(0).random((12, 12))
    >>> op = lambda im: conv2d(im[None, None], kernels.sobel()[None, None], padding=1)[0, 0]
    >>> diff, interior = equivariance_error(op, img, 2, -3, border=1)
    >>> bool(interior < 1e-12), bool(np.abs(diff).max() > 0.1)   # only the borders differ
    (True, True)
    """
    if not callable(op):
        raise TypeError(f"op must be callable, got {op!r}")
    image = _as_array(image, "image", ndim=2).astype(np.float64)
    border = _check_int(border, "border", minimum=0)
    a = _respond(op, translate(image, dy, dx), "op")
    b = translate(_respond(op, image, "op"), dy, dx)
    diff = a - b
    h, w = image.shape
    top, bottom = max(0, dy) + border, h - max(0, -dy) - border
    left, right = max(0, dx) + border, w - max(0, -dx) - border
    interior = diff[max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    return diff, float(np.max(np.abs(interior), initial=0.0))
