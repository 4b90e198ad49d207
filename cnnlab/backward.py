r"""How a convolution layer learns: the backward pass of ``conv2d`` and the transposed convolution.

A convolution layer is linear in its input: for one sample, ``y = M x + b`` with ``M``
the doubly-block Toeplitz matrix of :func:`cnnlab.conv2d_matrix`. The chain rule then
gives the three gradients a training step needs from the gradient ``∂L/∂y`` that the
next layer hands back:

* ``∂L/∂x = Mᵀ ∂L/∂y``: the *transposed convolution* (:func:`conv_transpose2d`);
* ``∂L/∂w``: a correlation of the input with ``∂L/∂y``;
* ``∂L/∂b``: the sum of ``∂L/∂y`` over the batch and the output pixels.

Both functions follow ``torch.nn.functional`` (``conv2d``'s autograd and
``conv_transpose2d``). They work on blocks of samples of a few MiB each: the
windows are copied into an im2col matrix, one BLAS product per group gives the weight
gradient and another the gradient of every window, which a loop over the kH·kW kernel
taps adds back onto the input pixels (col2im). No Python loop runs over pixels or
channels.
"""
from __future__ import annotations

import numpy as np

from ._validate import _check_int, _padding_pairs, _tuple
from .layers import _as_real, _conv_args, _result_dtype

__all__ = ["conv2d_backward", "conv_transpose2d"]


def _tap(k, d, s, n):
    """The slice of the padded input that kernel tap ``k`` meets at the ``n`` output positions."""
    return slice(k * d, k * d + s * (n - 1) + 1, s)


# im2col block size. Larger than cnnlab.layers' 1 MiB on purpose: every block costs two BLAS
# calls, and a multithreaded BLAS pays a thread hand-off per call. Measured with bench/backward.py
# on a loaded 2-core runner (N=32, 3->16, 64x64, k=3): 1 MiB blocks ran 5.5x torch's time on 2
# threads, 8 MiB blocks 1.4x, one block 1.0x; on 1 thread all three were within 10% (1.3-1.4x).
# 8 MiB keeps that gain while bounding the extra memory.
_CHUNK_BYTES = 1 << 23


def _backward(gy, w, padded, stride, dilation, groups, dtype, xp=None):
    """The backward pass of a conv2d on the *padded* input, by im2col blocks of samples.

    ``gy`` (N, C_out, oH, oW) is ∂L/∂y and ``w`` the conv2d weights. Returns
    ``(gxp, grad_w)``: ``gxp = Mᵀ gy`` of shape (N, C_in, *padded) and, when the padded
    input ``xp`` is given, ``grad_w`` of shape (G, C_out/G, C_in/G · kH · kW).

    For a block of samples the input windows are copied into an im2col matrix ``cols``
    (C_in · kH · kW rows, one column per output pixel of the block), and then

    * ``grad_w += gy @ colsᵀ``: one BLAS product per group;
    * ``dcols = wᵀ @ gy``, the gradient of every window, is added back tap by tap onto the
      input pixels the tap reached in the forward pass (col2im).
    """
    n, c_out, o_h, o_w = gy.shape
    _, c_group, k_h, k_w = w.shape
    c_in, cog, kdim, npix = groups * c_group, c_out // groups, c_group * k_h * k_w, o_h * o_w
    wt = np.ascontiguousarray(w.astype(dtype, copy=False).reshape(groups, cog, kdim).transpose(0, 2, 1))
    gxp = np.zeros((n, c_in) + tuple(padded), dtype)
    grad_w = None if xp is None else np.zeros((groups, cog, kdim), dtype)
    per_sample = (c_in * k_h * k_w + c_out) * npix * dtype.itemsize
    step = max(1, min(n, _CHUNK_BYTES // per_sample))
    buf = np.empty(c_in * k_h * k_w * step * npix, dtype)
    gbuf = np.empty(c_out * step * npix, dtype)
    (s_h, s_w), (d_h, d_w) = stride, dilation
    taps = [(k, l, _tap(k, d_h, s_h, o_h), _tap(l, d_w, s_w, o_w)) for k in range(k_h) for l in range(k_w)]
    for a in range(0, n, step):
        m = min(n, a + step) - a
        gyc = gbuf[:c_out * m * npix].reshape(c_out, m, o_h, o_w)
        gyc[...] = gy[a:a + m].transpose(1, 0, 2, 3)                # channel-major block
        gyc = gyc.reshape(groups, cog, m * npix)
        cols = buf[:c_in * k_h * k_w * m * npix].reshape(c_in, k_h, k_w, m, o_h, o_w)
        if xp is not None:
            xb = xp[a:a + m].transpose(1, 0, 2, 3)                  # (C_in, m, Hp, Wp) view
            for k, l, rows, cs in taps:
                cols[:, k, l] = xb[:, :, rows, cs]
            grad_w += np.matmul(gyc, cols.reshape(groups, kdim, m * npix).transpose(0, 2, 1))
        np.matmul(wt, gyc, out=cols.reshape(groups, kdim, m * npix))
        gb = gxp[a:a + m].transpose(1, 0, 2, 3)                     # (C_in, m, Hp, Wp) view
        for k, l, rows, cs in taps:
            gb[:, :, rows, cs] += cols[:, k, l]
    return gxp, grad_w


def conv2d_backward(x, w, grad_y, *, stride=1, padding=0, dilation=1, groups=1):
    r"""Gradients of :func:`cnnlab.conv2d` with respect to its input, weights and bias.

    Given the gradient ``grad_y = ∂L/∂y`` of a loss L with respect to the output of
    ``y = conv2d(x, w, b, stride=…, padding=…, dilation=…, groups=…)``, return what
    torch's autograd returns for ``x.grad``, ``w.grad`` and ``b.grad``.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W) or (C_in, H, W)
        The layer's input in the forward pass.
    w : array_like, shape (C_out, C_in/groups, kH, kW)
        The layer's filters.
    grad_y : array_like, shape (N, C_out, H_out, W_out) (or (C_out, H_out, W_out))
        ``∂L/∂y``, the shape of the forward output.
    stride, padding, dilation, groups
        As for :func:`cnnlab.conv2d` (every padding form it accepts, ``'same'`` included).

    Returns
    -------
    grad_x : ndarray, the shape of x
        ``∂L/∂x``: the transposed convolution of ``grad_y`` with ``w``, cropped to the
        unpadded input.
    grad_w : ndarray, shape (C_out, C_in/groups, kH, kW)
        ``∂L/∂w``: a correlation of the padded input with ``grad_y``.
    grad_b : ndarray, shape (C_out,)
        ``∂L/∂b``: ``grad_y`` summed over the batch and the output pixels.

    All three are float32 when the floating-point inputs are all float32, float64
    otherwise.

    Raises
    ------
    TypeError, ValueError
        What :func:`cnnlab.conv2d` raises for the same arguments; a ValueError when
        ``grad_y`` does not have the shape of the forward output.

    See Also
    --------
    cnnlab.conv2d : the forward pass.
    conv_transpose2d : ``∂L/∂x`` as a layer of its own.
    cnnlab.conv2d_matrix : the matrix ``M`` of ``y = M x``; ``grad_x = Mᵀ grad_y``.

    Notes
    -----
    With ``y[n, o, i, j] = b[o] + Σ_{c,k,l} w[o, c, k, l] x_p[n, g·C_g + c, i·s_H + k·d_H,
    j·s_W + l·d_W]`` on the zero-padded input ``x_p`` (``C_g = C_in/groups``, g the group
    of output channel o), the chain rule gives

    .. math::

        \frac{\partial L}{\partial b[o]} &= \sum_{n,i,j} \frac{\partial L}{\partial y[n,o,i,j]} \\
        \frac{\partial L}{\partial w[o,c,k,l]} &= \sum_{n,i,j}
            \frac{\partial L}{\partial y[n,o,i,j]}\, x_p[n, g C_g + c, i s_H + k d_H, j s_W + l d_W] \\
        \frac{\partial L}{\partial x_p[n,g C_g + c,r,q]} &= \sum_{o \in g} \sum_{\substack{i,k:\\ i s_H + k d_H = r}}
            \sum_{\substack{j,l:\\ j s_W + l d_W = q}} w[o,c,k,l]\, \frac{\partial L}{\partial y[n,o,i,j]}

    and ``grad_x`` is ``∂L/∂x_p`` without the padding. For one sample and one group,
    ``grad_x.ravel() == conv2d_matrix(w, x.shape, …).T @ grad_y.ravel()``: every output
    gradient flows back, weighted by the filter, to the input pixels its window covered.
    The weight gradient is the correlation of ``x_p`` with ``grad_y`` used as a kernel
    dilated by the stride; with stride 1 and dilation 1 it is ``conv2d`` of the input
    (channels as the batch) with ``grad_y`` as the filters.

    Examples
    --------
    A 3×3 image, a 2×2 filter and L = Σ y, so that ``∂L/∂y`` is all ones:

    >>> import numpy as np
    >>> from cnnlab import conv2d_backward, conv2d_matrix
    >>> x = np.arange(9.0).reshape(1, 3, 3)
    >>> w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> gx, gw, gb = conv2d_backward(x, w, np.ones((1, 2, 2)))
    >>> gx[0]                               # how many windows weigh each pixel, and by what
    array([[ 1.,  3.,  2.],
           [ 4., 10.,  6.],
           [ 3.,  7.,  4.]])
    >>> gw[0, 0]                            # each tap sums the pixels it met
    array([[ 8., 12.],
           [20., 24.]])
    >>> gb
    array([4.])
    >>> (conv2d_matrix(w[0, 0], (3, 3)).T @ np.ones(4)).reshape(3, 3)   # the same as Mᵀ·1
    array([[ 1.,  3.,  2.],
           [ 4., 10.,  6.],
           [ 3.,  7.,  4.]])
    """
    x, w, _, unbatched, groups, stride, dilation, pads, out = _conv_args(
        x, w, None, stride, padding, dilation, groups, 2, "conv2d_backward")
    gy = _as_real(grad_y, "grad_y", (3, 4))
    n, c_in, h, wd = x.shape
    c_out, c_group, k_h, k_w = w.shape
    want = (c_out, *out) if unbatched else (n, c_out, *out)
    if gy.shape != want:
        form = "(C_out, H_out, W_out)" if unbatched else "(N, C_out, H_out, W_out)"
        raise ValueError(f"grad_y must have the shape of the forward output {form} = {want}, got {gy.shape}")
    if unbatched:
        gy = gy[None]
    dtype = _result_dtype(x, w, gy)
    (pt, pb), (pl, pr) = pads
    xp = x.astype(dtype, copy=False)
    if pt or pb or pl or pr:
        xp = np.pad(xp, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    gy = gy.astype(dtype, copy=False)
    grad_b = gy.sum(axis=(0, 2, 3))
    gxp, grad_w = _backward(gy, w, xp.shape[2:], stride, dilation, groups, dtype, xp)
    grad_w = grad_w.reshape(c_out, c_group, k_h, k_w)
    grad_x = gxp[:, :, pt:pt + h, pl:pl + wd]
    if pt or pb or pl or pr:
        grad_x = np.ascontiguousarray(grad_x)
    if unbatched:
        grad_x = grad_x[0]
    return grad_x, grad_w, grad_b


def conv_transpose2d(x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    r"""2-D transposed convolution with ``torch.nn.functional.conv_transpose2d`` semantics.

    The transposed convolution is the gradient of :func:`cnnlab.conv2d` with respect to
    its input, used as a layer: where ``conv2d`` maps a window of pixels to one output
    value, ``conv_transpose2d`` spreads each input value, weighted by the filter, over a
    window of the output. With a stride it enlarges the image, which makes it the
    *learnable upsampling* of decoders and GANs.

    Parameters
    ----------
    x : array_like, shape (N, C_in, H, W) or (C_in, H, W)
        Input batch; an unbatched input gives an unbatched output, as in torch.
    w : array_like, shape (C_in, C_out/groups, kH, kW)
        Filters, laid out as the weights of the ``conv2d`` this layer transposes
        (input channels first, as torch).
    b : array_like, shape (C_out,), optional
        One bias per output channel.
    stride : int or (sH, sW)
        Spacing of the input values on the output grid (positive).
    padding : int, (pH, pW) or ((top, bottom), (left, right))
        Rows and columns removed from each border of the full result: the padding of the
        ``conv2d`` this layer transposes. (before, after) pairs go beyond torch.
    output_padding : int or (opH, opW)
        Extra rows/columns added at the bottom/right, to pick one of the input sizes that
        a strided ``conv2d`` maps to the same output size. Each must be smaller than the
        stride or the dilation of its axis, as torch requires.
    dilation : int or (dH, dW)
        Spacing between kernel taps (positive).
    groups : int
        Split the channels into ``groups`` independent groups.

    Returns
    -------
    y : ndarray, shape (N, C_out, H_out, W_out) (or (C_out, H_out, W_out) unbatched)
        ``H_out = (H − 1)·sH − p_top − p_bottom + dH·(kH − 1) + opH + 1``, likewise
        ``W_out``; ``C_out = groups · w.shape[1]``. float32 when the floating-point
        inputs are all float32, float64 otherwise.

    Raises
    ------
    TypeError
        Non-numeric or complex arrays, non-integer parameters, a string padding (torch
        has no 'same' or 'valid' here either).
    ValueError
        Wrong number of dimensions, empty arrays, NaN or infinity, non-positive
        stride/dilation/groups, negative padding or output_padding, an output_padding
        not smaller than both the stride and the dilation, channels that do not match
        ``w`` or ``groups``, a bias of the wrong shape, or an output size below 1.

    See Also
    --------
    cnnlab.conv2d_backward : ``grad_x`` is ``conv_transpose2d(grad_y, w, …)``.
    cnnlab.conv2d_matrix : ``conv_transpose2d`` is multiplication by ``Mᵀ``.

    Notes
    -----
    With ``C_g = C_out/groups`` and g the group of input channel c, on the full output
    ``y_f`` before the padding is cropped,

    .. math:: y_f[n, g C_g + o, i s_H + k d_H, j s_W + l d_W] \mathrel{+}= w[c, o, k, l]\, x[n, c, i, j]

    summed over c in g, i, j, k, l; then ``y = y_f[..., p_top : p_top + H_out,
    p_left : p_left + W_out] + b``. For one channel and one sample,
    ``y.ravel() = M.T @ x.ravel()`` with ``M = conv2d_matrix(w, (H_out, W_out), …)``.
    At stride s with a kernel size that s does not divide, output pixels receive
    different numbers of contributions: the checkerboard artefact of learned upsampling.

    Examples
    --------
    Stride 2 doubles a 2×2 input with a 2×2 kernel of ones: each value fills a 2×2 block.

    >>> import numpy as np
    >>> from cnnlab import conv_transpose2d
    >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> conv_transpose2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]])

    A 3×3 kernel at stride 2 overlaps: the middle row and column receive two or four
    contributions (the checkerboard); (2 − 1)·2 + 3 = 5, and padding=1 with
    output_padding=1 gives (2 − 1)·2 − 2 + 3 + 1 = 4 = 2·2:

    >>> conv_transpose2d(np.ones((1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2)[0]
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    >>> conv_transpose2d(x, np.ones((1, 1, 3, 3)), stride=2, padding=1, output_padding=1).shape
    (1, 1, 4, 4)
    """
    x = _as_real(x, "x", (3, 4))
    w = _as_real(w, "w", 4)
    if b is not None:
        b = _as_real(b, "b", 1)
    groups = _check_int(groups, "groups", minimum=1)
    stride = _tuple(stride, 2, "stride")
    dilation = _tuple(dilation, 2, "dilation")
    output_padding = _tuple(output_padding, 2, "output_padding", minimum=0)
    pads = _padding_pairs(padding, 2)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    n, c_in, h, wd = x.shape
    c_w, c_group, k_h, k_w = w.shape
    if c_in % groups:
        raise ValueError(f"the number of input channels (x has {c_in}) must be divisible by groups={groups}")
    if c_w != c_in:
        raise ValueError(
            f"x has {c_in} channels but w of shape {w.shape} expects w.shape[0] = {c_w}; weights must be "
            "(C_in, C_out/groups, kH, kW)"
        )
    c_out = groups * c_group
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"b must have shape (C_out,) = (groups * w.shape[1],) = ({c_out},), got {b.shape}")
    for ax, op, s, d in zip("HW", output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(
                f"output_padding must be smaller than the stride or the dilation (as torch requires), "
                f"got output_padding={op} with stride={s} and dilation={d} along axis {ax}"
            )
    full, out = [], []
    for ax, size, k, s, (p0, p1), d, op in zip("HW", (h, wd), (k_h, k_w), stride, pads, dilation, output_padding):
        f = (size - 1) * s + d * (k - 1) + 1 + op
        if f - p0 - p1 < 1:
            raise ValueError(
                f"conv_transpose2d: along axis {ax} the output size (input size {size} − 1)·{s} + {d}·({k} − 1) "
                f"+ {op} + 1 − padding {p0} − {p1} = {f - p0 - p1} is less than 1"
            )
        full.append(f)
        out.append(f - p0 - p1)
    dtype = _result_dtype(x, w, b)
    # conv_transpose2d(x, w) is Mᵀ x for the conv2d with weights w that maps the full output
    # back to the input: the grad_x computation of conv2d_backward with grad_y = x.
    # torch lays w out as (C_in, C_out/groups, kH, kW): the weights of that conv2d as they are.
    yf, _ = _backward(x.astype(dtype, copy=False), w, full, stride, dilation, groups, dtype)
    (pt, pb), (pl, pr) = pads
    y = yf[:, :, pt:pt + out[0], pl:pl + out[1]]
    if pt or pb or pl or pr:
        y = np.ascontiguousarray(y)
    if b is not None:
        y += b.astype(dtype, copy=False)[:, None, None]
    return y[0] if unbatched else y
