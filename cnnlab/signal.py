"""One-dimensional convolution and cross-correlation (the signal-processing vocabulary).

These follow numpy's ``np.convolve`` / ``np.correlate`` exactly (modes ``'full'``,
``'same'``, ``'valid'``), and also work on arrays of :class:`fractions.Fraction`, so the
lecture examples can be computed exactly (``5/3`` rather than ``1.6666666666666667``).

Convolution flips the kernel ("flip, shift and add"); correlation does not. Deep
learning layers (:func:`cnnlab.conv1d`, :func:`cnnlab.conv2d`) compute correlation.
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import _as_array, _check_mode

__all__ = ["convolve", "correlate", "poly_multiply"]

_MODES = ("full", "same", "valid")


def _as_signal(x, name):
    """A 1-D array; object arrays of exact numbers (Fractions) are kept exact."""
    if isinstance(x, np.ndarray) and x.dtype == object or (
        isinstance(x, (list, tuple)) and any(isinstance(v, numbers.Rational) and not isinstance(v, numbers.Integral) for v in x)
    ):
        arr = np.asarray(x, dtype=object)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got a {arr.ndim}-D array of shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
        for v in arr:
            if not isinstance(v, numbers.Number) or isinstance(v, bool):
                raise TypeError(f"{name} must contain only numbers, got {v!r}")
            if v != v or v in (float("inf"), float("-inf")):
                raise ValueError(f"{name} must contain only finite numbers, got {v!r}")
        return arr
    return _as_array(x, name, ndim=1)


def _trim(n: int, m: int, mode: str) -> tuple[int, int]:
    """(start, stop) of the ``mode`` part inside the full result of lengths ``n`` and ``m``."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    trim = min(n, m) - 1
    if mode == "same":
        start = trim // 2
        return start, full - (trim - start)
    return trim, full - trim  # valid


def convolve(x, h, mode="full"):
    r"""Discrete, linear convolution of two 1-D sequences (numpy's ``np.convolve``).

    Parameters
    ----------
    x : (N,) array_like
        First sequence (the signal). Numbers, or exact numbers such as
        :class:`fractions.Fraction` (the result is then exact, of dtype object).
    h : (M,) array_like
        Second sequence (the kernel, or impulse response).
    mode : {'full', 'same', 'valid'}, optional
        Which part of the full convolution to return:

        ========  ======================  ==========================================
        mode      length                  meaning
        ========  ======================  ==========================================
        'full'    N + M - 1               every shift with any overlap (default)
        'same'    max(N, M)               centred part, as long as the longer input
        'valid'   max(N, M) - min(N, M)   shifts with complete overlap only
                  + 1
        ========  ======================  ==========================================

    Returns
    -------
    y : ndarray
        Shape ``(N + M - 1,)``, ``(max(N, M),)`` or ``(max(N, M) - min(N, M) + 1,)``
        for the three modes.

    Raises
    ------
    ValueError
        If an input is empty, not 1-D, contains NaN/infinity, or ``mode`` is unknown.
    TypeError
        If an input is not numeric.

    See Also
    --------
    correlate : the same without flipping the kernel.
    cnnlab.conv_matrix : the Toeplitz matrix ``T`` with ``T @ x == convolve(x, h, mode)``.
    cnnlab.conv1d : the deep-learning layer (cross-correlation, stride, padding, dilation).

    Notes
    -----
    The full convolution is

    .. math:: y[t] = \sum_{\tau} x[\tau]\, h[t - \tau], \qquad t = 0, \dots, N + M - 2,

    with ``x`` and ``h`` zero outside their support: flip ``h``, shift it by ``t``,
    multiply and add. Convolution is commutative, ``convolve(x, h) == convolve(h, x)``;
    like numpy, 'same' and 'valid' are measured against the longer input, so they are
    commutative too. With zero padding ``P = M - 1`` on both sides and stride 1, the
    'full' mode is the "maximal padding" case of the Unit 5 notes.

    The implementation slides a window over the zero-padded signal
    (``sliding_window_view``) and takes one matrix-vector product: no Python loop.

    Examples
    --------
    The moving average of the Unit 5 notes: ``x = [1 2 3 1 2 3 1 2 3]``, ``h = [1 1 1]/3``.

    >>> from fractions import Fraction
    >>> x = [1, 2, 3, 1, 2, 3, 1, 2, 3]
    >>> h = [Fraction(1, 3)] * 3
    >>> [str(v) for v in convolve(x, h)]                 # P = 2: 11 outputs
    ['1/3', '1', '2', '2', '2', '2', '2', '2', '2', '5/3', '1']
    >>> [str(v) for v in convolve(x, h, mode="valid")]   # P = 0: seven 2s
    ['2', '2', '2', '2', '2', '2', '2']
    >>> convolve([1, 2, 3], [0, 1, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    """
    mode = _check_mode(mode, _MODES)
    x = _as_signal(x, "x")
    h = _as_signal(h, "h")
    n, m = len(x), len(h)
    if m > n:  # slide the shorter over the longer, as numpy does
        x, h, n, m = h, x, m, n
    dtype = object if object in (x.dtype, h.dtype) else np.result_type(x, h)
    padded = np.zeros(n + 2 * (m - 1), dtype=dtype)
    padded[m - 1:m - 1 + n] = x
    start, stop = _trim(n, m, mode)
    windows = sliding_window_view(padded, m)[start:stop]
    return windows @ h[::-1].astype(dtype, copy=False)


def correlate(x, h, mode="valid"):
    r"""Cross-correlation of two 1-D sequences (numpy's ``np.correlate``).

    Parameters
    ----------
    x : (N,) array_like
        The signal.
    h : (M,) array_like
        The template slid over ``x`` (complex values are conjugated, as numpy does).
    mode : {'valid', 'same', 'full'}, optional
        As in :func:`convolve`; the default here is 'valid', numpy's default.

    Returns
    -------
    c : ndarray
        Shape as in :func:`convolve` for the same mode.

    See Also
    --------
    convolve : flips the kernel first.

    Notes
    -----
    .. math:: c[k] = \sum_{n} x[n + k]\, \overline{h[n]}

    which is ``convolve(x, conj(h[::-1]), mode)``: correlation is convolution with the
    time-reversed kernel. Unlike convolution it is not commutative:
    ``correlate(x, h)`` is ``correlate(h, x)`` reversed (and conjugated). Deep
    learning "convolution" layers compute this operation.

    Examples
    --------
    >>> correlate([1, 2, 3], [0, 1, 0.5])
    array([3.5])
    >>> correlate([1, 2, 3], [0, 1, 0.5], mode="full")
    array([0.5, 2. , 3.5, 3. , 0. ])
    >>> correlate([0, 1, 0.5], [1, 2, 3], mode="full")   # not commutative
    array([0. , 3. , 3.5, 2. , 0.5])
    """
    mode = _check_mode(mode, _MODES)
    x = _as_signal(x, "x")
    h = _as_signal(h, "h")
    if len(h) > len(x):
        # numpy swaps the inputs and reverses the result, which keeps c[k] as above
        return np.conj(correlate(h, x, mode))[::-1]
    return convolve(x, np.conj(h[::-1]) if h.dtype.kind == "c" else h[::-1], mode)


def poly_multiply(a, b):
    r"""Multiply two polynomials given by their coefficients, lowest degree first.

    Parameters
    ----------
    a : (N,) array_like
        Coefficients ``a_0, a_1, ..., a_{N-1}`` of :math:`a(t) = \sum_i a_i t^i`.
    b : (M,) array_like
        Coefficients of the second polynomial, lowest degree first.

    Returns
    -------
    c : (N + M - 1,) ndarray
        Coefficients of :math:`a(t)\,b(t)`, lowest degree first: a polynomial of
        degree ``(N - 1) + (M - 1)``.

    See Also
    --------
    convolve : this is ``convolve(a, b, mode="full")``.
    cnnlab.conv_matrix : ``conv_matrix(a, M) @ b`` gives the same coefficients.

    Notes
    -----
    :math:`c_t = \sum_{i + j = t} a_i b_j` — exactly the full convolution. The Unit 5 notes
    multiplies a degree-2 by a degree-5 polynomial: 3 and 6 coefficients give 8.

    Examples
    --------
    :math:`(1 + 2t)(3 + t^2) = 3 + 6t + t^2 + 2t^3`:

    >>> poly_multiply([1, 2], [3, 0, 1])
    array([3, 6, 1, 2])
    >>> len(poly_multiply([1, 1, 1], [1, 2, 3, 4, 5, 6]))   # degree 2 x degree 5
    8
    """
    return convolve(_as_signal(a, "a"), _as_signal(b, "b"), mode="full")
