"""Convolutions as matrices: the 1-D Toeplitz matrix and the 2-D doubly-block Toeplitz matrix.

A convolution is linear, so it is a matrix product. These matrices are for seeing and
reasoning (Unit 5 notes: "the use of Toeplitz matrices is for mathematical purposes and
not implementation purposes"); the layers compute the same numbers without them.
"""
from __future__ import annotations

import numpy as np

from ._validate import _as_array, _check_alloc, _check_bool, _check_int, _check_mode, _tuple
from .shapes import TORCH_MODES, conv_output_size, resolve_padding
from .signal import _as_signal, _trim

__all__ = ["conv_matrix", "conv2d_matrix"]


def conv_matrix(h, n, mode="full"):
    r"""Toeplitz matrix ``T(h)`` of 1-D convolution with ``h`` for inputs of length ``n``.

    The contract of :func:`scipy.linalg.convolution_matrix`:
    ``conv_matrix(h, n, mode) @ x == convolve(x, h, mode)`` for every ``x`` of length ``n``.

    Parameters
    ----------
    h : (m,) array_like
        The kernel (exact numbers such as ``Fraction`` are kept exact).
    n : int
        Length of the inputs the matrix will multiply (>= 1).
    mode : {'full', 'same', 'valid'}, optional
        Which part of the convolution the rows produce, as in :func:`cnnlab.convolve`.

    Returns
    -------
    T : ndarray
        ========  =============================================
        mode      shape
        ========  =============================================
        'full'    ``(m + n - 1, n)``
        'same'    ``(max(m, n), n)``
        'valid'   ``(max(m, n) - min(m, n) + 1, n)``
        ========  =============================================

    Raises
    ------
    ValueError
        If ``h`` is empty or not 1-D, ``n < 1``, or ``mode`` is unknown.

    See Also
    --------
    cnnlab.convolve
    conv2d_matrix : the 2-D (doubly-block Toeplitz) version.

    Notes
    -----
    Entry ``T[i, j] = h[i - j]`` (zero outside ``0 <= i - j < m``) for 'full': every
    column is ``h`` shifted down by one more place, so every diagonal is constant::

        m = 3, n = 4, 'full'     rows of 'same' (n = 4): 1..4, of 'valid': 2..3

            [ h0   0   0   0 ]
            [ h1  h0   0   0 ]
            [ h2  h1  h0   0 ]
            [  0  h2  h1  h0 ]
            [  0   0  h2  h1 ]
            [  0   0   0  h2 ]

    'same' and 'valid' keep the middle rows, exactly as ``np.convolve`` does.
    Because convolution is commutative, ``conv_matrix(x, len(y)) @ y`` equals
    ``conv_matrix(y, len(x)) @ x`` — the Unit 5 notes' ``T(x) y = T(y) x``.

    Examples
    --------
    >>> conv_matrix([1, 2, 3], 4)
    array([[1, 0, 0, 0],
           [2, 1, 0, 0],
           [3, 2, 1, 0],
           [0, 3, 2, 1],
           [0, 0, 3, 2],
           [0, 0, 0, 3]])
    >>> x = np.array([1.0, 2.0, 0.5, -1.0])
    >>> A = conv_matrix([-1, 4, -2], 4, mode="same")
    >>> A @ x
    array([ 2. ,  5.5, -1. , -5. ])
    >>> np.convolve(x, [-1, 4, -2], mode="same")
    array([ 2. ,  5.5, -1. , -5. ])
    """
    h = _as_signal(h, "h")
    n = _check_int(n, "n", minimum=1)
    mode = _check_mode(mode, ("full", "same", "valid"))
    m = len(h)
    _check_alloc((m + n - 1) * n, "n", n)
    i = np.arange(m + n - 1)[:, None]
    j = np.arange(n)[None, :]
    k = i - j
    inside = (k >= 0) & (k < m)
    T = np.zeros((m + n - 1, n), dtype=h.dtype)
    T[inside] = h[k[inside]]
    start, stop = _trim(n, m, mode)
    return T[start:stop]


def _conv2d_geometry(w, input_shape, stride, padding, dilation):
    """Validate arguments; return (w4, (C, H, W), (sH, sW), ((pt, pb), (pl, pr)), (dH, dW), (oH, oW))."""
    w = _as_array(w, "w", ndim=(2, 4))
    if not isinstance(input_shape, (tuple, list)) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in input_shape
    ):
        raise TypeError(f"input_shape must be a tuple of ints, (C, H, W) or (H, W), got {input_shape!r}")
    want = 2 if w.ndim == 2 else 3
    if len(input_shape) != want:
        raise ValueError(
            f"input_shape must be {'(H, W) when w is 2-D (kH, kW)' if want == 2 else '(C, H, W) when w is 4-D (C_out, C_in, kH, kW)'}, "
            f"got {tuple(input_shape)!r} with w of shape {w.shape}"
        )
    shape = (1, *input_shape) if want == 2 else tuple(input_shape)
    C, H, W = (_check_int(v, f"input_shape[{i}]", minimum=1) for i, v in enumerate(shape))
    w4 = w[None, None] if w.ndim == 2 else w
    if w4.shape[1] != C:
        raise ValueError(
            f"w has C_in = {w4.shape[1]} input channels but input_shape {tuple(input_shape)!r} has C = {C}"
        )
    sH, sW = _tuple(stride, 2, "stride")
    dH, dW = _tuple(dilation, 2, "dilation")
    kH, kW = w4.shape[2:]
    pads = resolve_padding(padding, (H, W), (kH, kW), (sH, sW), (dH, dW), modes=TORCH_MODES)
    oH = conv_output_size(H, kH, sH, pads[0], dH)
    oW = conv_output_size(W, kW, sW, pads[1], dW)
    return w4, (C, H, W), (sH, sW), pads, (dH, dW), (oH, oW)


def conv2d_matrix(w, input_shape, *, stride=1, padding=0, dilation=1, sparse=False):
    r"""The matrix ``M`` of a 2-D convolution layer: ``M @ x.ravel() == conv2d(x[None], w)[0].ravel()``.

    Parameters
    ----------
    w : (C_out, C_in, kH, kW) or (kH, kW) array_like
        Layer weights, as for :func:`cnnlab.conv2d` (cross-correlation, like
        ``torch.nn.functional.conv2d``). A 2-D kernel goes with a 2-D ``input_shape``.
    input_shape : (C, H, W) or (H, W) tuple of int
        Shape of one input image, with ``C == C_in``.
    stride, dilation : int or (int, int), optional
        As in :func:`cnnlab.conv2d` (>= 1).
    padding : int, (int, int), ((int, int), (int, int)), 'valid' or 'same', optional
        Zero padding: the same on all sides, per dimension ``(pH, pW)``, per side
        ``((top, bottom), (left, right))``, or a mode ('same' with stride 1 only; the
        odd extra zero goes after, as in torch).
    sparse : bool, optional
        Return a ``scipy.sparse.csr_array`` (scipy is imported only then). Use it for
        larger inputs: a 64×64 input with a 5×5 kernel gives a dense 3,600 × 4,096
        matrix with only 2.2 % of its entries non-zero.

    Returns
    -------
    M : ndarray or scipy.sparse.csr_array
        Shape ``(C_out · oH · oW, C · H · W)`` with
        ``oH = floor((H + p_top + p_bottom − dH·(kH − 1) − 1) / sH) + 1`` and ``oW``
        likewise; dtype of ``w``. Rows follow ``conv2d(...)[0].ravel()`` (channel,
        row, column) and columns ``x.ravel()``.

    Raises
    ------
    ValueError
        If shapes or channels do not match, a parameter is out of range, or the kernel
        does not fit the padded input.
    TypeError
        If an argument has the wrong type.

    See Also
    --------
    conv_matrix : the 1-D Toeplitz matrix.
    cnnlab.conv2d : computes the same product without forming ``M``.

    Notes
    -----
    Row ``(o, i, j)`` holds the weights that produce output pixel ``(i, j)`` of channel
    ``o``; entry at column ``(c, r, q)`` is ``w[o, c, kᵢ, kⱼ]`` where
    ``r = i·sH + kᵢ·dH − p_top`` and ``q = j·sW + kⱼ·dW − p_left`` (zero when the tap
    falls on padding). For one channel and stride 1 the matrix is *doubly-block
    Toeplitz*: an ``oH × H`` grid of ``oW × W`` blocks, where block ``(i, r)`` is the
    1-D Toeplitz matrix ``T_{r − i}`` of kernel row ``r − i`` — Toeplitz blocks,
    themselves arranged as a Toeplitz matrix::

        3×3 input, 2×2 kernel [[a, b], [c, d]]  ->  4 × 9 matrix

              x00 x01 x02 | x10 x11 x12 | x20 x21 x22
        y00 [  a   b   0  |  c   d   0  |  0   0   0  ]
        y01 [  0   a   b  |  0   c   d  |  0   0   0  ]
        y10 [  0   0   0  |  a   b   0  |  c   d   0  ]
        y11 [  0   0   0  |  0   a   b  |  0   c   d  ]
                 T_0           T_1           0
                  0            T_0          T_1

    Stride keeps every ``s``-th row of each block and every ``s``-th block row;
    dilation spreads the non-zero band; channels stack such matrices side by side and
    output channels stack them on top of each other.

    Examples
    --------
    The Bishop ch. 10 slides' figure: a 3×3 image and a 2×2 filter.

    >>> w = np.array([[1, 2], [3, 4]])
    >>> M = conv2d_matrix(w, (3, 3))
    >>> M
    array([[1, 2, 0, 3, 4, 0, 0, 0, 0],
           [0, 1, 2, 0, 3, 4, 0, 0, 0],
           [0, 0, 0, 1, 2, 0, 3, 4, 0],
           [0, 0, 0, 0, 1, 2, 0, 3, 4]])
    >>> x = np.arange(9).reshape(3, 3)
    >>> (M @ x.ravel()).reshape(2, 2)
    array([[27, 37],
           [57, 67]])
    >>> conv2d_matrix(np.ones((1, 1, 5, 5)), (1, 64, 64), sparse=True).shape
    (3600, 4096)
    """
    sparse = _check_bool(sparse, "sparse")
    w4, (C, H, W), (sH, sW), ((pt, _), (pl, _)), (dH, dW), (oH, oW) = _conv2d_geometry(
        w, input_shape, stride, padding, dilation
    )
    C_out, C_in, kH, kW = w4.shape
    _check_alloc(C_out * C_in * oH * oW * kH * kW * 4, "padding", padding)   # the taps, as indices
    if not sparse:
        _check_alloc(C_out * oH * oW * C * H * W, "input_shape and padding", f"{input_shape}, {padding!r}")
    # Geometry of one (output channel, input channel) block: (oH, oW, kH, kW) taps.
    i = np.arange(oH)[:, None, None, None]
    j = np.arange(oW)[None, :, None, None]
    ki = np.arange(kH)[None, None, :, None]
    kj = np.arange(kW)[None, None, None, :]
    r = i * sH + ki * dH - pt
    q = j * sW + kj * dW - pl
    inside = (r >= 0) & (r < H) & (q >= 0) & (q < W)
    row = np.broadcast_to(i * oW + j, inside.shape)[inside]
    col = (r * W + q)[inside]
    tap = np.broadcast_to(ki * kW + kj, inside.shape)[inside]
    # Replicate over output channels o and input channels c.
    o = np.arange(C_out)[:, None, None]
    c = np.arange(C_in)[None, :, None]
    rows = (o * (oH * oW) + row[None, None, :]).repeat(C_in, axis=1)
    cols = (c * (H * W) + col[None, None, :]).repeat(C_out, axis=0)
    vals = w4.reshape(C_out, C_in, kH * kW)[:, :, tap]
    shape = (C_out * oH * oW, C * H * W)
    if sparse:
        import scipy.sparse

        return scipy.sparse.csr_array((vals.ravel(), (rows.ravel(), cols.ravel())), shape=shape)
    M = np.zeros(shape, dtype=w4.dtype)
    # one flat scatter is cheaper than 2-D fancy indexing; (row, col) pairs are unique
    M.ravel()[(rows * shape[1] + cols).ravel()] = vals.ravel()
    return M
