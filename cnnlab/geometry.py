"""What the pictures show, computed: the geometry of a convolution, padding, translation.

numpy only (the plotting layer :mod:`cnnlab.viz` and the explorers in
:mod:`cnnlab.widgets` draw what is computed here; neither computes it again):

* :func:`resolve_padding` -- every padding form as ``(before, after)`` pairs. It is
  defined in :mod:`cnnlab.shapes`, beside the two size formulas it uses, and re-exported
  here: the layers and matrices that :func:`conv_geometry` runs call it too, and a
  definition here would make an import circle (shapes ← layers, toeplitz ← geometry);
* :func:`conv_geometry` / :class:`ConvGeometry` -- one strided, padded, dilated 1-D or
  2-D convolution with everything a picture of it needs: the padded input, the output,
  the convolution matrix, which padded cells (``footprint``) and which matrix columns
  each output reads, the sum of products behind it (``terms``), where its cell sits
  (``centre``);
* :func:`translate` -- shift an image with zeros coming in (translation equivariance,
  the pooling shift test).

The spectra that lesson 01 plots (:func:`cnnlab.audio.spectrum_db`,
:func:`cnnlab.audio.frequency_response_db`) live with the sound they measure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import _as_array, _check_alloc, _check_int, _check_mode, _tuple
from .layers import conv1d, conv2d
from .shapes import conv_output_size, resolve_padding
from .toeplitz import conv2d_matrix

__all__ = ["resolve_padding", "ConvGeometry", "conv_geometry", "translate"]

#: what :func:`conv_geometry` computes: torch's cross-correlation, or numpy's convolution (kernel flipped)
OPERATIONS = ("correlation", "convolution")


@dataclass(frozen=True, eq=False)
class ConvGeometry:
    """Everything needed to draw and explain one strided, padded, dilated convolution.

    Made by :func:`conv_geometry`; :mod:`cnnlab.viz` draws it (``plot_conv_tape``,
    ``plot_conv_input``, ``plot_conv_output``) and the explorers of lessons 01 and 03
    show it. The methods answer, for one output position: which padded cells it reads
    (:meth:`footprint`), which matrix row it is (:meth:`row`) and which columns that row
    reads (:meth:`input_columns`), the sum of products behind it (:meth:`terms`) and
    where a picture puts its cell (:meth:`centre`).

    Attributes
    ----------
    x, kernel : numpy.ndarray
        The input and the kernel as given (both 1-D or both 2-D).
    applied : numpy.ndarray
        The weights that multiply each window: ``kernel`` for cross-correlation, the
        kernel flipped along every axis for convolution.
    operation : {'correlation', 'convolution'}
    stride, dilation : tuple of int
    padding : tuple of (before, after)
    x_padded : numpy.ndarray
        ``x`` with the zero padding.
    output : numpy.ndarray
        Computed with :func:`cnnlab.conv1d` / :func:`cnnlab.conv2d`.
    matrix : numpy.ndarray
        Shape ``(output.size, x.size)``: ``matrix @ x.ravel() == output.ravel()``.
    """

    x: np.ndarray
    kernel: np.ndarray
    applied: np.ndarray
    operation: str
    stride: tuple
    padding: tuple
    dilation: tuple
    x_padded: np.ndarray
    output: np.ndarray
    matrix: np.ndarray

    @property
    def ndim(self):
        return self.x.ndim

    @property
    def out_shape(self):
        return self.output.shape

    def unravel(self, position):
        """Turn a flat output index (a matrix row) or an index tuple into an index tuple."""
        if isinstance(position, (tuple, list)):
            pos = tuple(_check_int(p, "position") for p in position)
            if len(pos) != self.ndim or any(not 0 <= p < n for p, n in zip(pos, self.out_shape)):
                raise ValueError(f"position must index an output of shape {self.out_shape}, got {position!r}")
            return pos
        flat = _check_int(position, "position")
        if not 0 <= flat < self.output.size:
            raise ValueError(f"position must lie in 0..{self.output.size - 1}, got {position!r}")
        return tuple(int(i) for i in np.unravel_index(flat, self.out_shape))

    def row(self, position):
        """The matrix row (flat output index) of ``position``."""
        return int(np.ravel_multi_index(self.unravel(position), self.out_shape))

    def centre(self, index, axis=0):
        """Where output ``index`` sits along ``axis``: the centre of its window, in padded-input
        coordinates, ``index·s + d·(k − 1)/2`` (float; an array of indices gives an array).

        The tape pictures put each output cell under this point.
        """
        axis = _check_mode(axis, tuple(range(self.ndim)), "axis")
        s, d, k = self.stride[axis], self.dilation[axis], self.kernel.shape[axis]
        return index * s + d * (k - 1) / 2

    def footprint(self, position):
        """Padded-input coordinates read by output ``position``, one row per kernel tap.

        Returns
        -------
        numpy.ndarray
            Shape ``(kernel.size, ndim)``; tap ``k`` (in ``applied`` order, row-major) reads
            ``x_padded[o·s + k·d]`` along each axis.
        """
        pos = self.unravel(position)
        axes = [np.arange(k) * d + o * s
                for k, d, o, s in zip(self.kernel.shape, self.dilation, pos, self.stride)]
        grid = np.meshgrid(*axes, indexing="ij")
        return np.stack([g.ravel() for g in grid], axis=1)

    def input_columns(self, position):
        """Columns of :attr:`matrix` (flat indices into ``x``) read by ``position``; pad taps left out."""
        cols = []
        for coord in self.footprint(position):
            orig = [c - p[0] for c, p in zip(coord, self.padding)]
            if all(0 <= o < n for o, n in zip(orig, self.x.shape)):
                cols.append(int(np.ravel_multi_index(orig, self.x.shape)))
        return cols

    def terms(self, position):
        """``[(padded_index, input_value, weight)]`` for the sum that makes output ``position``."""
        fp = self.footprint(position)
        weights = self.applied.ravel()
        return [(tuple(int(c) for c in coord), float(self.x_padded[tuple(coord)]), float(w))
                for coord, w in zip(fp, weights)]


def conv_geometry(x, kernel, *, stride=1, padding=0, dilation=1, operation="correlation"):
    """Compute a 1-D or 2-D convolution together with its geometry.

    Parameters
    ----------
    x : array_like, 1-D or 2-D
        The input signal or image.
    kernel : array_like
        Same number of dimensions as ``x``.
    stride, dilation : int or tuple of int
        One per axis (an int is used for every axis).
    padding : int, (before, after) pair, one pair per axis, or {'valid', 'same', 'full'}
        Zero padding, any form :func:`resolve_padding` takes (a 1-D input also accepts a
        single (before, after) pair; 'same' is torch's, stride 1 only).
    operation : {'correlation', 'convolution'}
        'correlation' is what ``torch.nn.functional.conv1d/conv2d`` compute;
        'convolution' flips the kernel first (``numpy.convolve``'s definition).

    Returns
    -------
    ConvGeometry
        Its output has, along each axis, size
        ``floor((n + p_before + p_after − d·(k − 1) − 1) / s) + 1``.

    Raises
    ------
    ValueError
        When the settings are impossible (e.g. the dilated kernel does not fit in the
        padded input); the message says why.

    Notes
    -----
    Per axis, ``y[i] = Σ_k a[k] · x_padded[i·s + k·d]`` with ``a = kernel`` for
    correlation and ``a = kernel[::-1]`` for convolution.

    Examples
    --------
    The Unit 5 notes' moving average with stride 2 and padding 1:

    >>> from cnnlab.examples import AUDIO_X, AVERAGE_H     # x = [1 2 3 1 2 3 1 2 3], h = ⅓[1 1 1]
    >>> g = conv_geometry(AUDIO_X, AVERAGE_H, stride=2, padding=1)
    >>> (3 * g.output).round(12).tolist()
    [3.0, 6.0, 6.0, 6.0, 5.0]
    >>> g.footprint(4).ravel().tolist()
    [8, 9, 10]
    >>> g.terms(0)                     # (padded index, x̃ value, weight): x̃[0] is padding
    [((0,), 0.0, 0.3333333333333333), ((1,), 1.0, 0.3333333333333333), ((2,), 2.0, 0.3333333333333333)]
    >>> g.row(4), g.input_columns(4), g.centre(4)   # matrix row 4 reads x[7], x[8]
    (4, [7, 8], 9.0)
    >>> bool(np.allclose(g.matrix @ g.x, g.output))
    True
    """
    x = _as_array(x, "x", ndim=(1, 2)).astype(np.float64)
    kernel = _as_array(kernel, "kernel", ndim=(1, 2)).astype(np.float64)
    if kernel.ndim != x.ndim:
        raise ValueError(f"kernel must have as many dimensions as x ({x.ndim}-D), got a {kernel.ndim}-D kernel")
    operation = _check_mode(operation, OPERATIONS, "operation")
    nd = x.ndim
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    padding = resolve_padding(padding, x.shape, kernel.shape, stride, dilation)
    out_shape = tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(x.shape, kernel.shape, stride, padding, dilation)
    )
    padded = math.prod(n + p[0] + p[1] for n, p in zip(x.shape, padding))
    _check_alloc(padded * max(1, math.prod(out_shape)), "padding", padding)   # the matrix view
    applied = kernel[(slice(None, None, -1),) * nd] if operation == "convolution" else kernel
    applied = np.ascontiguousarray(applied)
    x_padded = np.pad(x, padding)
    if nd == 1:
        output = conv1d(x_padded[None, None], applied[None, None], stride=stride, dilation=dilation)[0, 0]
        matrix = conv2d_matrix(applied[None, :], (1, x.size), stride=(1, stride[0]),
                               padding=((0, 0), padding[0]), dilation=(1, dilation[0]))
    else:
        output = conv2d(x_padded[None, None], applied[None, None], stride=stride, dilation=dilation)[0, 0]
        matrix = conv2d_matrix(applied, x.shape, stride=stride, padding=padding, dilation=dilation)
    if output.shape != out_shape:  # the core and the formula disagree: a bug, say so loudly
        raise RuntimeError(f"output shape {output.shape} differs from the formula's {out_shape}")
    return ConvGeometry(x, kernel, applied, operation, stride, padding, dilation, x_padded, output, matrix)


def translate(image, dy, dx):
    """Shift an image ``dy`` rows down and ``dx`` columns right, filling with zeros (no wrap-around).

    The 2-D analogue of :func:`cnnlab.systems.delay`. Lesson 04 measures translation
    equivariance with it (:func:`cnnlab.systems.equivariance_error`), lesson 06 how much
    of a pooled map survives a shift (:func:`cnnlab.widgets.pooling.shift`).

    Parameters
    ----------
    image : array_like, shape (H, W)
    dy, dx : int
        Rows down and columns right; negative shifts move up / left. A shift of the
        whole height or width (or more) leaves only zeros.

    Returns
    -------
    numpy.ndarray, shape (H, W), float64
        ``out[i, j] = image[i − dy, j − dx]`` where ``0 <= i − dy < H`` and
        ``0 <= j − dx < W``, else 0.

    Examples
    --------
    >>> translate(np.arange(1, 10).reshape(3, 3), 1, -1)
    array([[0., 0., 0.],
           [2., 3., 0.],
           [5., 6., 0.]])
    """
    image = _as_array(image, "image", ndim=2).astype(np.float64)
    dy = _check_int(dy, "dy")
    dx = _check_int(dx, "dx")
    out = np.zeros_like(image)
    h, w = image.shape
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src = image[max(0, -dy): h - max(0, dy), max(0, -dx): w - max(0, dx)]
    out[max(0, dy): max(0, dy) + src.shape[0], max(0, dx): max(0, dx) + src.shape[1]] = src
    return out
