"""Convolution layers on batches of signals and images: ``conv1d`` and ``conv2d``.

These follow ``torch.nn.functional.conv1d`` / ``conv2d``: channels-first inputs
(N, C, L) or (N, C, H, W), weights (C_out, C_in/groups, k...), ``stride``, ``padding``,
``dilation`` and ``groups``. Like every deep-learning "convolution" they compute a
**cross-correlation**: the kernel is *not* flipped. (``cnnlab.convolve`` is the true,
flipped convolution of signal processing.)

The computation is vectorised: the padded input is viewed as sliding windows
(:func:`numpy.lib.stride_tricks.sliding_window_view`), the windows are copied into an
im2col matrix, and a batched BLAS matrix product does all output pixels of all groups at
once. The only Python loop is over cache-sized blocks (several samples, or several
output rows of a large sample); none runs over output pixels, channels or groups.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import _as_array, _check_alloc, _check_int, _tuple
from .shapes import TORCH_MODES, conv_output_size, resolve_padding

__all__ = ["conv1d", "conv2d"]

_AXES = {1: ("L",), 2: ("H", "W")}
_CHUNK_BYTES = 1 << 20  # im2col block: about one L2 cache


def _as_real(a, name, ndim):
    arr = _as_array(a, name, ndim=ndim)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


def _result_dtype(*arrays):
    """float32 when every floating operand is float32, float64 otherwise (ints included)."""
    floats = [a.dtype for a in arrays if a is not None and a.dtype.kind == "f"]
    if floats and all(d == np.float32 for d in floats):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _conv_args(x, w, b, stride, padding, dilation, groups, nd, fname):
    """Check a convolution's arguments as ``torch.nn.functional.conv{nd}d`` would.

    Returns ``(x, w, b, unbatched, groups, stride, dilation, pads, out)``: ``x`` with a
    batch axis, the normalised parameters, the (before, after) padding per axis and the
    output size per axis. Shared by :func:`conv1d`, :func:`conv2d` and
    :func:`cnnlab.conv2d_backward`.
    """
    x = _as_real(x, "x", (nd + 1, nd + 2))
    w = _as_real(w, "w", nd + 2)
    if b is not None:
        b = _as_real(b, "b", 1)
    groups = _check_int(groups, "groups", minimum=1)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")

    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
    n, c_in = x.shape[:2]
    c_out, c_group = w.shape[:2]
    ksize = w.shape[2:]
    if c_out % groups:
        raise ValueError(
            f"the number of output channels (w.shape[0] = {c_out}) must be divisible by groups={groups}"
        )
    if c_in % groups:
        raise ValueError(f"the number of input channels (x has {c_in}) must be divisible by groups={groups}")
    if c_group * groups != c_in:
        raise ValueError(
            f"x has {c_in} channels but w of shape {w.shape} expects groups * w.shape[1] = "
            f"{groups} * {c_group} = {groups * c_group}; weights must be (C_out, C_in/groups, "
            + ", ".join(f"k{a}" for a in _AXES[nd]) + ")"
        )
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"b must have shape (C_out,) = ({c_out},), got {b.shape}")

    spatial = x.shape[2:]
    pads = resolve_padding(padding, spatial, ksize, stride, dilation, modes=TORCH_MODES)
    out = []
    for ax, size, k, s, p, d in zip(_AXES[nd], spatial, ksize, stride, pads, dilation):
        try:
            out.append(conv_output_size(size, k, s, p, d))
        except ValueError as exc:
            raise ValueError(f"{fname}: along axis {ax} (input size {size}, kernel size {k}): {exc}") from exc

    padded = [size + p[0] + p[1] for size, p in zip(spatial, pads)]
    _check_alloc(n * c_in * math.prod(padded), "padding", padding)
    _check_alloc(n * c_out * math.prod(out), "padding", padding)
    return x, w, b, unbatched, groups, stride, dilation, pads, out


def _convnd(x, w, b, stride, padding, dilation, groups, nd, fname):
    x, w, b, unbatched, groups, stride, dilation, pads, out = _conv_args(
        x, w, b, stride, padding, dilation, groups, nd, fname)
    n, c_in = x.shape[:2]
    c_out, c_group = w.shape[:2]
    ksize = w.shape[2:]
    dtype = _result_dtype(x, w, b)
    x = x.astype(dtype, copy=False)
    if any(p for pair in pads for p in pair):
        x = np.pad(x, ((0, 0), (0, 0)) + pads)
    extent = [d * (k - 1) + 1 for k, d in zip(ksize, dilation)]
    win = sliding_window_view(x, extent, axis=tuple(range(2, 2 + nd)))  # (N, C, *L', *extent)
    win = win[(slice(None),) * 2 + tuple(slice(None, None, s) for s in stride)
              + tuple(slice(None, None, d) for d in dilation)]      # (N, C, *out, *k)
    # im2col: the windows as (C, *k, *out) per sample, i.e. (G, C_in/G · Πk, Πout): rows of
    # contiguous output pixels; then a (batched) BLAS product with the (G, C_out/G, C_in/G · Πk)
    # weights. Cache blocking: the copy and the product run on blocks of about _CHUNK_BYTES
    # (several whole samples, or several output rows of one large sample) so the copied
    # windows are still in cache when the product reads them.
    order = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    win = win.transpose(order)                                      # (N, C, *k, *out)
    kprod, cog = int(np.prod(ksize)), c_out // groups
    kdim = c_group * kprod
    wg = w.astype(dtype, copy=False).reshape(groups, cog, kdim)
    y = np.empty((n, groups, cog) + tuple(out), dtype)
    row = c_in * kprod * int(np.prod(out[1:]))                      # elements per output row
    rows = max(1, _CHUNK_BYTES // (row * dtype.itemsize))
    buf = np.empty(min(rows, out[0] * n) * row, dtype)
    if rows >= out[0]:                                              # blocks of whole samples
        step = rows // out[0]
        for start in range(0, n, step):
            stop = min(n, start + step)
            cols = buf[:(stop - start) * out[0] * row].reshape(win[start:stop].shape)
            cols[...] = win[start:stop]
            np.matmul(wg, cols.reshape(stop - start, groups, kdim, -1),
                      out=y[start:stop].reshape(stop - start, groups, cog, -1))
    else:                                                           # blocks of output rows
        for i in range(n):
            for r0 in range(0, out[0], rows):
                part = win[(i, Ellipsis, slice(r0, r0 + rows)) + (slice(None),) * (nd - 1)]
                cols = buf[:part.size].reshape(part.shape)
                cols[...] = part
                y[i, :, :, r0:r0 + rows] = np.matmul(wg, cols.reshape(groups, kdim, -1)).reshape(
                    (groups, cog) + part.shape[1 + nd:])
    y = y.reshape((n, c_out) + tuple(out))
    if b is not None:
        y += b.astype(dtype, copy=False).reshape((c_out,) + (1,) * nd)
    return y[0] if unbatched else y


def conv1d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    r"""1-D cross-correlation layer with ``torch.nn.functional.conv1d`` semantics.

    As in every deep-learning library this is a **cross-correlation**: the kernel slides
    over the input without being flipped. (:func:`cnnlab.convolve` flips it.)

    Parameters
    ----------
    x : array_like, shape (N, C_in, L) or (C_in, L)
        Input batch; an unbatched (C_in, L) input gives an unbatched output, as in torch.
    w : array_like, shape (C_out, C_in/groups, k)
        Filters.
    b : array_like, shape (C_out,), optional
        One bias per output channel.
    stride : int or 1-tuple of int
        Step between successive windows (positive).
    padding : int, (before, after), or {'valid', 'same'}
        Zeros added to the signal. An int or a 1-tuple pads both ends equally (torch); a
        (before, after) pair pads unevenly (an extension beyond torch). ``'valid'`` means
        no padding; ``'same'`` keeps the length (stride 1 only, as torch) with total
        padding d·(k−1), the odd extra zero going *after*, as torch and TensorFlow do.
    dilation : int or 1-tuple of int
        Spacing between kernel taps (positive).
    groups : int
        Split the channels into ``groups`` independent groups; ``groups == C_in`` with
        ``C_out == C_in`` is a depthwise convolution.

    Returns
    -------
    y : ndarray, shape (N, C_out, L_out) (or (C_out, L_out) for unbatched input)
        ``L_out = floor((L + p_before + p_after − d·(k−1) − 1) / s) + 1``.
        float32 when the floating-point inputs are all float32, float64 otherwise
        (integer inputs included).

    Raises
    ------
    TypeError
        Non-numeric or complex arrays, non-integer stride/padding/dilation/groups.
    ValueError
        Wrong number of dimensions, empty arrays, NaN or infinity, non-positive
        stride/dilation/groups, negative padding, ``'same'`` with a stride, channels that
        do not match ``w`` or are not divisible by ``groups``, a bias of the wrong shape,
        or a (dilated) kernel longer than the padded input.

    See Also
    --------
    conv2d : the image version.
    cnnlab.conv_output_size : the output-length formula, with an explanation when it fails.
    cnnlab.correlate, cnnlab.convolve : the single-channel signal-processing versions.

    Notes
    -----
    With ``C_g = C_in/groups`` and ``g = o // (C_out/groups)`` the group of output channel o,

    .. math:: y[n, o, i] = b[o] + \sum_{c=0}^{C_g-1} \sum_{k} w[o, c, k]\,
              x[n, g·C_g + c, i·s + k·d − p_{before}]

    where x is zero outside 0 ≤ index < L. This is the formula behind the Unit 5 notes'
    moving-average example (y(t) slides h over the zero-padded x).

    Examples
    --------
    The moving average of the Unit 5 notes, x = [1 2 3 1 2 3 1 2 3], h = ⅓[1 1 1]:

    >>> from cnnlab import conv1d
    >>> from cnnlab.examples import AUDIO_X, AVERAGE_H
    >>> x = AUDIO_X[None, None]                           # N=1, C=1, L=9
    >>> h = AVERAGE_H[None, None]                         # C_out=1, C_in=1, k=3
    >>> conv1d(x, h, padding=2).round(3)                  # P=2: 9 + 4 − 3 + 1 = 11 outputs
    array([[[0.333, 1.   , 2.   , 2.   , 2.   , 2.   , 2.   , 2.   , 2.   , 1.667, 1.   ]]])
    >>> conv1d(x, h).round(3)                             # P=0: 7 outputs
    array([[[2., 2., 2., 2., 2., 2., 2.]]])
    >>> conv1d(x, h, padding=1, stride=2).round(3)        # P=1, S=2: 5 outputs
    array([[[1.   , 2.   , 2.   , 2.   , 1.667]]])

    Uneven padding (before, after), and torch's 'same' with an even kernel:

    >>> conv1d(x, h, padding=(2, 0)).shape
    (1, 1, 9)
    >>> conv1d([[1., 2., 3., 4.]], [[[1., 1.]]], padding="same")   # unbatched; extra zero after
    array([[3., 5., 7., 4.]])
    """
    return _convnd(x, w, b, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D cross-correlation layer with ``torch.nn.functional.conv2d`` semantics.

    As in every deep-learning library this is a **cross-correlation**: the kernel slides
    over the image without being flipped (a true 2-D convolution would rotate it by 180°).

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W) or (C_in, H, W)
        Input batch; an unbatched (C_in, H, W) input gives an unbatched output, as in torch.
    w : array_like, shape (C_out, C_in/groups, kH, kW)
        Filters.
    b : array_like, shape (C_out,), optional
        One bias per output channel.
    stride : int or (sH, sW)
        Step between successive windows (positive).
    padding : int, (pH, pW), ((top, bottom), (left, right)), or {'valid', 'same'}
        Zeros added around the image. An int or a (pH, pW) pair pads each side of an axis
        equally (torch); per-axis (before, after) pairs pad unevenly (an extension beyond
        torch). ``'valid'`` means no padding; ``'same'`` keeps H and W (stride 1 only, as
        torch) with total padding d·(k−1) per axis, the odd extra row/column going
        *after* (bottom/right), as torch and TensorFlow do.
    dilation : int or (dH, dW)
        Spacing between kernel taps (positive).
    groups : int
        Split the channels into ``groups`` independent groups; ``groups == C_in`` is a
        depthwise convolution (one filter, or a few, per input channel).

    Returns
    -------
    y : ndarray, shape (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) unbatched)
        ``H_out = floor((H + p_top + p_bottom − dH·(kH−1) − 1) / sH) + 1`` and likewise
        ``W_out``. float32 when the floating-point inputs are all float32, float64
        otherwise (integer inputs included).

    Raises
    ------
    TypeError
        Non-numeric or complex arrays, non-integer stride/padding/dilation/groups.
    ValueError
        Wrong number of dimensions, empty arrays, NaN or infinity, non-positive
        stride/dilation/groups, negative padding, ``'same'`` with a stride, channels that
        do not match ``w`` or are not divisible by ``groups``, a bias of the wrong shape,
        or a (dilated) kernel larger than the padded image.

    See Also
    --------
    conv1d : the signal version.
    cnnlab.conv2d_matrix : the same map written as a doubly-block Toeplitz matrix.
    cnnlab.conv_output_size : the output-size formula, with an explanation when it fails.

    Notes
    -----
    With ``C_g = C_in/groups`` and ``g = o // (C_out/groups)`` the group of output channel o,

    .. math:: y[n, o, i, j] = b[o] + \sum_{c=0}^{C_g-1} \sum_{k, l} w[o, c, k, l]\,
              x[n, g·C_g + c, i·s_H + k·d_H − p_{top}, j·s_W + l·d_W − p_{left}]

    where x is zero outside the image. For one channel and no stride, padding or
    dilation this is C(j, k) = Σ_l Σ_m I(j + l, k + m) K(l, m) of the lecture notes.

    Examples
    --------
    The 6×6 image of the lecture notes (homework #1) with the vertical edge detector:

    >>> import numpy as np
    >>> from cnnlab import conv2d, kernels
    >>> from cnnlab.examples import IMAGE_6X6 as image
    >>> vertical = kernels.prewitt("vertical")       # [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
    >>> conv2d(image[None, None], vertical[None, None])[0, 0]    # 6 − 3 + 1 = 4
    array([[ -5.,  -4.,   0.,   8.],
           [-10.,  -2.,   2.,   3.],
           [  0.,  -2.,  -4.,  -7.],
           [ -3.,  -2.,  -3., -16.]])

    'same' padding keeps 6×6; a stride of 2 with padding 1 gives floor((6 + 2 − 3)/2) + 1 = 3:

    >>> conv2d(image[None], vertical[None, None], padding="same").shape   # unbatched
    (1, 6, 6)
    >>> conv2d(image[None, None], vertical[None, None], stride=2, padding=1).shape
    (1, 1, 3, 3)

    A depthwise layer on an RGB image: one 3×3 filter per channel, ``groups=3``:

    >>> rgb = np.ones((1, 3, 5, 5))
    >>> conv2d(rgb, np.ones((3, 1, 3, 3)), groups=3)[0, :, 0, 0]
    array([9., 9., 9.])
    """
    return _convnd(x, w, b, stride, padding, dilation, groups, 2, "conv2d")
