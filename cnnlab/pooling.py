"""Max and average pooling with ``torch.nn.functional`` semantics.

``max_pool1d`` / ``max_pool2d`` and ``avg_pool1d`` / ``avg_pool2d`` take channels-first
batches (N, C, L) / (N, C, H, W) (or unbatched (C, L) / (C, H, W)) and pool every channel
separately, exactly as torch does: the same output sizes (including ``ceil_mode``), the
same ``-inf`` padding for max pooling, the same flat indices for ``return_indices`` and
the same divisors for average pooling. Everything is vectorised: the k^nd elements of all
windows are combined as k^nd strided views of the whole (padded) input; there is no
Python loop over output pixels.
"""
from __future__ import annotations

import numpy as np

from ._validate import _as_array, _check_bool, _tuple
from .shapes import conv_output_size

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]

_AXES = {1: ("L",), 2: ("H", "W")}


def _pool_output_size(n, k, s, p, d, ceil_mode, fname, axis):
    """torch's ``pooling_output_shape``: floor or ceil, the last window starting inside."""
    if not ceil_mode:
        try:
            return conv_output_size(n, k, s, p, d)
        except ValueError as exc:
            raise ValueError(f"{fname}: along axis {axis}: {exc}") from exc
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1)) // s + 1
    if (out - 1) * s >= n + p:  # the last window would start in the right padding: drop it
        out -= 1
    if out < 1:
        raise ValueError(
            f"{fname}: along axis {axis} the window (kernel_size={k}, dilation={d}, so it spans "
            f"{d * (k - 1) + 1}) does not fit in the padded input of size {n} + 2*{p} = {n + 2 * p}, "
            "even with ceil_mode=True"
        )
    return out


def _setup(x, kernel_size, stride, padding, dilation, ceil_mode, nd, fname):
    """Validate the common arguments; return x (batched), sizes and per-axis parameters."""
    x = _as_array(x, "x", ndim=(nd + 1, nd + 2))
    if x.dtype.kind == "c":
        raise TypeError(f"x must be real, got dtype {x.dtype}")
    ks = _tuple(kernel_size, nd, "kernel_size")
    st = ks if stride is None else _tuple(stride, nd, "stride")
    pd = _tuple(padding, nd, "padding", minimum=0)
    dl = _tuple(dilation, nd, "dilation")
    ceil_mode = _check_bool(ceil_mode, "ceil_mode")
    if any(p > k // 2 for k, p in zip(ks, pd)):  # torch's rule (dilation does not enlarge it)
        raise ValueError(
            f"padding must be at most half of kernel_size (padding <= kernel_size // 2, as torch), "
            f"got padding={padding!r} with kernel_size={kernel_size!r}"
        )
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    out = tuple(
        _pool_output_size(n, k, s, p, d, ceil_mode, fname, ax)
        for n, k, s, p, d, ax in zip(x.shape[2:], ks, st, pd, dl, _AXES[nd])
    )
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    return x.astype(dtype, copy=False), unbatched, ks, st, pd, dl, out


def _taps(x, ks, st, pd, dl, out, fill):
    """Pad with ``fill`` (enough for ceil_mode's last window); yield one strided view per tap.

    Tap ``t`` (offsets ``np.unravel_index(t, ks)``) is the view of shape (N, C, *out) holding
    the t-th element of every window, in torch's scan order. Reducing over the k^nd taps
    (a handful of whole-array operations) is much faster than reducing the short window
    axes of a ``sliding_window_view``.
    """
    pads = ((0, 0), (0, 0)) + tuple(
        (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
        for n, k, s, p, d, o in zip(x.shape[2:], ks, st, pd, dl, out)
    )
    if any(a or b for a, b in pads):
        x = np.pad(x, pads, constant_values=fill)
    for offs in np.ndindex(*ks):
        yield x[(slice(None),) * 2 + tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                                           for j, d, s, o in zip(offs, dl, st, out))]


def _inside(n, k, s, p, d, o):
    """(o, k) booleans along one axis: does tap j of window i fall inside the input?"""
    pos = np.arange(o)[:, None] * s - p + np.arange(k)[None, :] * d
    return (pos >= 0) & (pos < n)


def _max_poolnd(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, fname):
    x, unbatched, ks, st, pd, dl, out = _setup(x, kernel_size, stride, padding, dilation, ceil_mode,
                                               nd, fname)
    return_indices = _check_bool(return_indices, "return_indices")
    # torch returns -inf and a meaningless index for a window that sees only padding (possible
    # with a large dilation); refuse instead of returning garbage.
    for n, k, s, p, d, o, ax in zip(x.shape[2:], ks, st, pd, dl, out, _AXES[nd]):
        empty = np.flatnonzero(~_inside(n, k, s, p, d, o).any(axis=1))
        if empty.size:
            raise ValueError(
                f"{fname}: along axis {ax} output window {empty[0]} covers only padding "
                f"(input size {n}, kernel_size={k}, stride={s}, padding={p}, dilation={d}); "
                "reduce the dilation or the padding"
            )
    taps = _taps(x, ks, st, pd, dl, out, -np.inf)
    y = next(taps).copy()
    if not return_indices:
        for tap in taps:
            np.maximum(y, tap, out=y)
        return y[0] if unbatched else y
    # arg = number of the winning tap; arg += better·(t − arg) is arg = where(better, t, arg)
    # in three fast passes (a masked copy is several times slower)
    arg = np.zeros(y.shape, dtype=np.uint8 if np.prod(ks) <= 256 else np.intp)
    step = np.empty_like(arg)
    better = np.empty(y.shape, dtype=bool)
    for t, tap in enumerate(taps, start=1):
        np.greater(tap, y, out=better)          # strict: the first maximum wins, as in torch
        np.maximum(y, tap, out=y)
        np.subtract(t, arg, out=step)           # t > arg: never negative
        np.multiply(step, better, out=step)
        arg += step
    # flat index into the input plane = window origin (per output pixel) + tap offset
    sizes = x.shape[2:]
    plane = [int(np.prod(sizes[axis + 1:])) for axis in range(nd)]   # row-major strides
    offset = np.array([sum(j * d * m for j, d, m in zip(offs, dl, plane)) for offs in np.ndindex(*ks)])
    origin = np.zeros((), dtype=np.int64)
    for axis, (s, p, m, o) in enumerate(zip(st, pd, plane, out)):
        shape = [1] * nd
        shape[axis] = o
        origin = origin + ((np.arange(o) * s - p) * m).reshape(shape)
    idx = offset.take(arg) + origin
    if unbatched:
        y, idx = y[0], idx[0]
    return y, idx


def _avg_poolnd(x, kernel_size, stride, padding, ceil_mode, count_include_pad, nd, fname):
    x, unbatched, ks, st, pd, dl, out = _setup(x, kernel_size, stride, padding, 1, ceil_mode, nd, fname)
    count_include_pad = _check_bool(count_include_pad, "count_include_pad")
    taps = _taps(x, ks, st, pd, dl, out, 0)
    y = next(taps).copy()
    for tap in taps:
        y += tap
    # torch's divisor: the window clipped to the padded input (count_include_pad=True) or to
    # the input itself (False); it is a product of per-axis counts.
    divisor = np.ones((), dtype=x.dtype)
    for axis, (n, k, s, p) in enumerate(zip(x.shape[2:], ks, st, pd)):
        start = np.arange(out[axis]) * s - p
        end = np.minimum(start + k, n + p)
        count = end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * nd
        shape[axis] = -1
        divisor = divisor * count.reshape(shape).astype(x.dtype)
    y /= divisor
    return y[0] if unbatched else y


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""1-D max pooling with ``torch.nn.functional.max_pool1d`` semantics.

    Parameters
    ----------
    x : array_like, shape (N, C, L) or (C, L)
        Input; each channel is pooled separately.
    kernel_size : int or 1-tuple of int
        Window length k (positive).
    stride : int or 1-tuple of int, optional
        Step between windows; defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or 1-tuple of int
        Implicit ``-inf`` added at both ends; at most ``k // 2`` (torch's rule).
    dilation : int or 1-tuple of int
        Spacing between the elements of a window (positive).
    ceil_mode : bool
        Round the output length up instead of down, adding a last, partial window, as
        long as it starts inside the input or the left padding (torch's rule).
    return_indices : bool
        Also return where each maximum came from.

    Returns
    -------
    y : ndarray, shape (N, C, L_out) (or (C, L_out))
        ``L_out = floor((L + 2p − d·(k−1) − 1) / s) + 1`` (``ceil`` with ceil_mode, minus
        one if that last window would start in the right padding). float32 for float32
        input, float64 otherwise.
    indices : ndarray of int64, same shape as y
        Only with ``return_indices=True``: the position in [0, L) of each maximum, the
        first one in the window on ties (as torch).

    Raises
    ------
    TypeError
        Non-numeric or complex input, non-integer sizes, non-bool flags.
    ValueError
        Wrong number of dimensions, empty input, NaN or infinity, non-positive
        kernel_size/stride/dilation, negative or too large padding, a window that does
        not fit, or a window that sees only padding.

    Notes
    -----
    y[n, c, i] = max_{0≤k<K} x[n, c, i·s + k·d − p], with x = −∞ outside [0, L).

    Examples
    --------
    >>> from cnnlab import max_pool1d
    >>> from cnnlab.examples import AUDIO_X                     # the Unit 5 notes' x = [1 2 3 1 2 3 1 2 3]
    >>> max_pool1d(AUDIO_X[None], 2)                           # unbatched (C=1, L=9): 4 windows
    array([[2., 3., 3., 2.]])
    >>> max_pool1d(AUDIO_X[None], 2, ceil_mode=True, return_indices=True)
    (array([[2., 3., 3., 2., 3.]]), array([[1, 2, 5, 7, 8]]))
    """
    return _max_poolnd(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1,
                       "max_pool1d")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    r"""2-D max pooling with ``torch.nn.functional.max_pool2d`` semantics.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W) or (C, H, W)
        Input; each channel is pooled separately.
    kernel_size : int or (kH, kW)
        Window size (positive).
    stride : int or (sH, sW), optional
        Step between windows; defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or (pH, pW)
        Implicit ``-inf`` on every side; at most ``k // 2`` along each axis (torch's rule).
    dilation : int or (dH, dW)
        Spacing between the elements of a window (positive).
    ceil_mode : bool
        Round the output size up instead of down, adding a last, partial window along an
        axis as long as it starts inside the input or the top/left padding (torch's rule).
    return_indices : bool
        Also return where each maximum came from.

    Returns
    -------
    y : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``H_out = floor((H + 2pH − dH·(kH−1) − 1) / sH) + 1`` (``ceil`` with ceil_mode, minus
        one if that last window would start in the bottom padding), likewise ``W_out``.
        float32 for float32 input, float64 otherwise.
    indices : ndarray of int64, same shape as y
        Only with ``return_indices=True``: the flat index ``h·W + w`` of each maximum in
        its input plane, the first one in row-major window order on ties (as torch; what
        ``torch.nn.functional.max_unpool2d`` expects).

    Raises
    ------
    TypeError
        Non-numeric or complex input, non-integer sizes, non-bool flags.
    ValueError
        Wrong number of dimensions, empty input, NaN or infinity, non-positive
        kernel_size/stride/dilation, negative or too large padding, a window that does
        not fit, or a window that sees only padding.

    Notes
    -----
    y[n, c, i, j] = max_{k, l} x[n, c, i·sH + k·dH − pH, j·sW + l·dW − pW], with x = −∞
    outside the image.

    Examples
    --------
    The 2×2 max-pool of the Chollet slides (4×4 → 2×2):

    >>> from cnnlab import max_pool2d
    >>> from cnnlab.examples import FEATURE_MAP_4X4 as fmap
    >>> max_pool2d(fmap[None], 2)[0]                        # (C=1, 4, 4) -> (1, 2, 2)
    array([[ 20.,  30.],
           [112.,  37.]])
    >>> max_pool2d(fmap[None], 2, return_indices=True)[1]   # flat indices h*4 + w
    array([[[ 1,  2],
            [12, 10]]])
    """
    return _max_poolnd(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2,
                       "max_pool2d")


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    r"""1-D average pooling with ``torch.nn.functional.avg_pool1d`` semantics.

    Parameters
    ----------
    x : array_like, shape (N, C, L) or (C, L)
        Input; each channel is pooled separately.
    kernel_size : int or 1-tuple of int
        Window length k (positive).
    stride : int or 1-tuple of int, optional
        Step between windows; defaults to ``kernel_size``.
    padding : int or 1-tuple of int
        Zeros added at both ends; at most ``k // 2`` (torch's rule).
    ceil_mode : bool
        Round the output length up, adding a last, partial window as long as it starts
        inside the input or the left padding (torch's rule).
    count_include_pad : bool
        Whether the padding zeros count in the divisor.

    Returns
    -------
    y : ndarray, shape (N, C, L_out) (or (C, L_out))
        ``L_out = floor((L + 2p − k) / s) + 1`` (``ceil`` with ceil_mode, minus one if
        that last window would start in the right padding). float32 for float32 input,
        float64 otherwise.

    Raises
    ------
    TypeError
        Non-numeric or complex input, non-integer sizes, non-bool flags.
    ValueError
        Wrong number of dimensions, empty input, NaN or infinity, non-positive
        kernel_size/stride, negative or too large padding, or a window that does not fit.

    Notes
    -----
    y[n, c, i] = (1/D_i) Σ_{0≤k<K} x[n, c, i·s + k − p], with x = 0 outside [0, L).
    The divisor D_i counts the window's positions that lie inside the padded signal
    [−p, L + p) (``count_include_pad=True``; a ceil_mode window hanging past the padding
    counts only its part inside) or inside the signal [0, L) (``False``), as torch does.

    Examples
    --------
    >>> from cnnlab import avg_pool1d
    >>> from cnnlab.examples import AUDIO_X
    >>> avg_pool1d(AUDIO_X[None], 3)                               # moving average, stride 3
    array([[2., 2., 2.]])
    >>> avg_pool1d([[1., 2., 3., 4.]], 2, stride=1, padding=1)      # pad zeros count: /2
    array([[0.5, 1.5, 2.5, 3.5, 2. ]])
    >>> avg_pool1d([[1., 2., 3., 4.]], 2, stride=1, padding=1, count_include_pad=False)
    array([[1. , 1.5, 2.5, 3.5, 4. ]])
    """
    return _avg_poolnd(x, kernel_size, stride, padding, ceil_mode, count_include_pad, 1, "avg_pool1d")


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    r"""2-D average pooling with ``torch.nn.functional.avg_pool2d`` semantics.

    Parameters
    ----------
    x : array_like, shape (N, C, H, W) or (C, H, W)
        Input; each channel is pooled separately.
    kernel_size : int or (kH, kW)
        Window size (positive).
    stride : int or (sH, sW), optional
        Step between windows; defaults to ``kernel_size``.
    padding : int or (pH, pW)
        Zeros on every side; at most half the window along each axis (torch's rule).
    ceil_mode : bool
        Round the output size up, adding a last, partial window along an axis as long as
        it starts inside the input or the top/left padding (torch's rule).
    count_include_pad : bool
        Whether the padding zeros count in the divisor.

    Returns
    -------
    y : ndarray, shape (N, C, H_out, W_out) (or (C, H_out, W_out))
        ``H_out = floor((H + 2pH − kH) / sH) + 1`` (``ceil`` with ceil_mode, minus one if
        that last window would start in the bottom padding), likewise ``W_out``.
        float32 for float32 input, float64 otherwise.

    Raises
    ------
    TypeError
        Non-numeric or complex input, non-integer sizes, non-bool flags.
    ValueError
        Wrong number of dimensions, empty input, NaN or infinity, non-positive
        kernel_size/stride, negative or too large padding, or a window that does not fit.

    Notes
    -----
    y[n, c, i, j] = (1/D_ij) Σ_{k,l} x[n, c, i·sH + k − pH, j·sW + l − pW], with x = 0
    outside the image. The divisor D_ij = D_i·D_j counts the window's positions inside
    the padded image (``count_include_pad=True``; a ceil_mode window hanging past the
    padding counts only its part inside) or inside the image (``False``), as torch does.

    Examples
    --------
    The 4×4 feature map of the Chollet slides, 2×2 average pooling:

    >>> from cnnlab import avg_pool2d
    >>> from cnnlab.examples import FEATURE_MAP_4X4 as fmap
    >>> avg_pool2d(fmap[None], 2)[0]
    array([[13. ,  8. ],
           [79. , 19.5]])
    """
    return _avg_poolnd(x, kernel_size, stride, padding, ceil_mode, count_include_pad, 2, "avg_pool2d")
