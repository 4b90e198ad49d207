"""Matrices as annotated heat maps: Toeplitz matrices, convolution matrices, kernels."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from .._validate import _as_array, _check_alloc, _check_int, _check_mode
from ..toeplitz import conv_matrix
from ._style import HIGHLIGHT, MIN_TEXT_PT, checked, fmt, get_ax, text_color

__all__ = ["plot_matrix", "toeplitz_labels"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def toeplitz_labels(symbol, m, n, mode="full"):
    """Symbolic entries of the Toeplitz matrix T(symbol) of a length-``m`` kernel on length-``n`` inputs.

    Parameters
    ----------
    symbol : str
        Name of the kernel's coefficients, e.g. ``'x'`` gives ``x₀, x₁, ...``.
    m, n : int
        Kernel length and input length.
    mode : {'full', 'same', 'valid'}
        As in :func:`cnnlab.conv_matrix`.

    Returns
    -------
    numpy.ndarray of str
        Same shape as ``conv_matrix(h, n, mode)``; ``'0'`` where the matrix is zero.

    Examples
    --------
    The Unit 5 notes' T(x) for x of length 3 and y of length 6 (an 8 × 6 matrix):

    >>> T = toeplitz_labels("x", 3, 6)
    >>> T.shape
    (8, 6)
    >>> T[:3].tolist()
    [['x₀', '0', '0', '0', '0', '0'], ['x₁', 'x₀', '0', '0', '0', '0'], ['x₂', 'x₁', 'x₀', '0', '0', '0']]
    """
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str, got {symbol!r}")
    m = _check_int(m, "m", minimum=1)
    n = _check_int(n, "n", minimum=1)
    _check_alloc(m * (m + n), "m and n", f"{m}, {n}")
    mode = _check_mode(mode, ("full", "same", "valid"))
    index = np.rint(conv_matrix(np.arange(1, m + 1), n, mode)).astype(int) - 1
    labels = np.full(index.shape, "0", dtype=object)
    for pos, i in np.ndenumerate(index):
        if i >= 0:
            labels[pos] = f"{symbol}{str(i).translate(_SUB)}"
    return labels.astype(str)


@checked
def plot_matrix(M, *, ax=None, labels=None, annotate=None, highlight_rows=(), highlight_cols=(),
                cmap="RdBu_r", title=None, xlabel=None, ylabel=None, fontsize=None, colorbar=False,
                ticks=True):
    """Draw a matrix as a heat map centred at zero, optionally annotated and highlighted.

    Parameters
    ----------
    M : array_like, 2-D
    ax : matplotlib.axes.Axes, optional
    labels : array_like of str, optional
        Text for each cell (e.g. from :func:`toeplitz_labels`); defaults to the values.
    annotate : bool, optional
        Write the labels/values in the cells, at ``fontsize`` (default 9 pt). The default
        writes them when the cells are big enough for it: at most 14 rows and 18 columns.
        Zero cells stay blank unless ``labels`` says otherwise.
    highlight_rows, highlight_cols : sequence of int
        Rows outlined in red; columns shaded (e.g. one output's row and the inputs it reads).
    cmap : str
        A diverging colormap; the colour scale is symmetric around 0.
    colorbar : bool
        Add a colour bar.
    ticks : bool
        Index ticks on both axes (``False`` draws faster, for live explorers).

    Returns
    -------
    matplotlib.axes.Axes
        Its first image holds ``M``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_matrix([[1, 0], [2, 1]], ax=Figure().add_subplot(), highlight_rows=[1])
    >>> ax.images[0].get_array().tolist()
    [[1.0, 0.0], [2.0, 1.0]]
    >>> [t.get_text() for t in ax.texts]
    ['1', '2', '1']
    """
    M = _as_array(M, "M", ndim=2).astype(np.float64)
    ax = get_ax(ax, figsize=(5, 4))
    if labels is not None:
        labels = np.asarray(labels, dtype=object)
        if labels.shape != M.shape:
            raise ValueError(f"labels must have the shape of M {M.shape}, got {labels.shape}")
    if annotate is None:
        annotate = M.shape[0] <= 14 and M.shape[1] <= 18
    vmax = float(np.max(np.abs(M))) or 1.0
    im = ax.imshow(M, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest", aspect="auto")
    rows, cols = M.shape
    if annotate:
        if fontsize is None:
            fontsize = MIN_TEXT_PT
        cm = im.cmap
        for (r, c), v in np.ndenumerate(M):
            text = str(labels[r, c]) if labels is not None else (fmt(v, digits=2) if v != 0 else "")
            if text in ("", "0") and labels is None:
                continue
            colour = text_color(cm((v + vmax) / (2 * vmax)))
            ax.text(c, r, text, ha="center", va="center", fontsize=fontsize, color=colour)
    for c in highlight_cols:
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, rows, facecolor="#ffd92f", alpha=0.3, edgecolor="none",
                               zorder=2))
    for r in highlight_rows:
        ax.add_patch(Rectangle((-0.5, r - 0.5), cols, 1, fill=False, edgecolor=HIGHLIGHT, lw=2, zorder=3))
    from matplotlib.ticker import MaxNLocator

    for axis, size in ((ax.xaxis, cols), (ax.yaxis, rows)):
        if not ticks:
            axis.set_ticks([])
        elif size <= 12:
            axis.set_ticks(range(size))
        else:
            axis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.tick_params(labelsize=9, length=0)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9)
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax
