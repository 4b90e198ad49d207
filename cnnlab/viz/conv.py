"""Drawings of where a convolution looks.

:func:`cnnlab.geometry.conv_geometry` does the arithmetic once (padded input, output,
the convolution matrix, which padded cells each output reads); :func:`plot_conv_tape`
(1-D), :func:`plot_conv_input` and :func:`plot_conv_output` (2-D) draw it. The
convolution explorer of lesson 03 and the flip-shift-add explorer of lesson 01 are built
on them. ``ConvGeometry`` and ``conv_geometry`` stay importable from here.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Polygon, Rectangle

from .._validate import _check_mode
from ..geometry import ConvGeometry, conv_geometry
from ._style import HIGHLIGHT, KERNEL, OUTPUT, PAD, checked, fmt, get_ax

__all__ = ["ConvGeometry", "conv_geometry", "plot_conv_tape", "plot_conv_input", "plot_conv_output"]

# --------------------------------------------------------------------------- drawing
def _cell(ax, x, y, text, face, *, edge="#555555", lw=0.8, color="black", size=9, alpha=1.0, z=1):
    ax.add_patch(Rectangle((x - 0.5, y - 0.4), 1, 0.8, facecolor=face, edgecolor=edge, lw=lw,
                           alpha=alpha, zorder=z))
    if text is not None:
        ax.text(x, y, text, ha="center", va="center", fontsize=size, color=color, zorder=z + 1)


@checked
def plot_conv_tape(geom, position=0, *, ax=None, reveal="all", kernel_symbol="w", title=None):
    """Draw a 1-D convolution as three tapes: kernel taps, padded input, output.

    The kernel sits over the cells that output ``position`` reads (with the holes that
    dilation makes); each output cell sits under the centre of its window.

    Parameters
    ----------
    geom : ConvGeometry
        A 1-D geometry from :func:`conv_geometry`.
    position : int
        The output index to explain.
    ax : matplotlib.axes.Axes, optional
    reveal : {'all', 'upto'}
        Show every output value, or only those up to ``position`` (step-by-step).
    kernel_symbol : str
        Name of the kernel in labels (``h`` for lesson 01's impulse response).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> g = conv_geometry([1, 2, 3, 1, 2, 3, 1, 2, 3], [1/3, 1/3, 1/3], padding=2)
    >>> ax = plot_conv_tape(g, 1, ax=Figure().add_subplot())
    >>> [t.get_text() for t in ax.texts if t.get_text().startswith("y[1]")]
    ['y[1] = 1']
    """
    if not isinstance(geom, ConvGeometry) or geom.ndim != 1:
        raise TypeError("geom must be a 1-D ConvGeometry from conv_geometry")
    reveal = _check_mode(reveal, ("all", "upto"), "reveal")
    (pos,) = geom.unravel(position)
    ax = get_ax(ax, figsize=(8, 2.6))
    xp = geom.x_padded
    (pb, _), = geom.padding
    k = geom.kernel.size
    taps = geom.footprint(pos)[:, 0]
    # kernel row
    for j, (tap, w) in enumerate(zip(taps, geom.applied)):
        _cell(ax, tap, 2.2, fmt(w), KERNEL, edge=HIGHLIGHT, lw=1.5, alpha=0.85)
        src = k - 1 - j if geom.operation == "convolution" else j
        ax.text(tap, 2.75, f"{kernel_symbol}[{src}]", ha="center", va="bottom", fontsize=9, color="#7f3f00")
        ax.text(tap, 1.6, "×", ha="center", va="center", fontsize=9, color="#555555")
    # input row
    tapset = set(int(t) for t in taps)
    for i, v in enumerate(xp):
        is_pad = not pb <= i < pb + geom.x.size
        face = PAD if is_pad else "#c6dbef"
        if i in tapset:
            _cell(ax, i, 1.0, fmt(v), face, edge=HIGHLIGHT, lw=2.0)
        else:
            _cell(ax, i, 1.0, fmt(v), face)
    # output row, each cell centred under its window
    centre = geom.centre
    for o, v in enumerate(geom.output):
        shown = reveal == "all" or o <= pos
        face = OUTPUT if o == pos else "#c7e9c0"
        _cell(ax, centre(o), -0.6, fmt(v) if shown else "?", face if shown else "white",
              edge=HIGHLIGHT if o == pos else "#555555", lw=2.0 if o == pos else 0.8,
              color="white" if o == pos else "black")
    # the window funnels into the selected output
    lo, hi = taps.min() - 0.5, taps.max() + 0.5
    c = centre(pos)
    ax.add_patch(Polygon([(lo, 0.6), (hi, 0.6), (c + 0.5, -0.2), (c - 0.5, -0.2)], closed=True,
                         facecolor=HIGHLIGHT, alpha=0.12, edgecolor="none", zorder=0))
    total = geom.output[pos]
    ax.text(c, -1.25, f"y[{pos}] = {fmt(total)}", ha="center", va="top", fontsize=10, color=HIGHLIGHT)
    left = -0.9
    label = f"{kernel_symbol} flipped" if geom.operation == "convolution" else kernel_symbol
    for y, lab in ((2.2, label), (1.0, "x padded" if pb or geom.padding[0][1] else "x"), (-0.6, "y")):
        ax.text(left - 0.2, y, lab, ha="right", va="center", fontsize=9)
    right = max(xp.size, centre(geom.output.size - 1) + 1)
    ax.set_xlim(left - 2.6, right + 0.2)
    ax.set_ylim(-1.9, 3.2)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _grid(ax, values, face, *, annotate, edge="#777777"):
    rows, cols = values.shape
    ax.imshow(face, interpolation="nearest", extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color=edge, lw=0.6)
    ax.tick_params(which="both", length=0, labelsize=9)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    if annotate:
        for (r, c), v in np.ndenumerate(values):
            ax.text(c, r, fmt(v, digits=2), ha="center", va="center", fontsize=9)


def _faces(values, cmap_name, mask=None, mask_color=PAD):
    import matplotlib

    cmap = matplotlib.colormaps[cmap_name]
    vmax = float(np.max(np.abs(values))) or 1.0
    faces = cmap(0.15 + 0.45 * (values / vmax + 1) / 2)
    if mask is not None:
        faces[mask] = matplotlib.colors.to_rgba(mask_color)
    return faces


@checked
def plot_conv_input(geom, position=None, *, ax=None, annotate=None, title=None):
    """Draw the padded 2-D input, the pad in grey, and the kernel footprint of ``position``.

    Each footprint cell is outlined in red and carries its weight (``×w``) in a corner.

    Returns
    -------
    matplotlib.axes.Axes
        Its first image holds the padded input's cell colours.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> g = conv_geometry(np.arange(16).reshape(4, 4), np.ones((3, 3)), padding=1)
    >>> ax = plot_conv_input(g, (0, 0), ax=Figure().add_subplot())
    >>> ax.images[0].get_array().shape[:2]
    (6, 6)
    """
    if not isinstance(geom, ConvGeometry) or geom.ndim != 2:
        raise TypeError("geom must be a 2-D ConvGeometry from conv_geometry")
    ax = get_ax(ax, figsize=(4, 4))
    xp = geom.x_padded
    if annotate is None:
        annotate = xp.size <= 256
    mask = np.ones(xp.shape, dtype=bool)
    (pt, _), (pl, _) = geom.padding
    mask[pt:pt + geom.x.shape[0], pl:pl + geom.x.shape[1]] = False
    _grid(ax, xp, _faces(xp, "Blues", mask), annotate=annotate)
    if position is not None:
        for (r, c), w in zip(geom.footprint(position), geom.applied.ravel()):
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2, zorder=3))
            if annotate:
                ax.text(c + 0.45, r - 0.45, f"×{fmt(w, digits=2)}", ha="right", va="top", fontsize=9,
                        color="#a63603", zorder=4)
    ax.set_title(title or f"input {geom.x.shape[0]}×{geom.x.shape[1]}, padded to {xp.shape[0]}×{xp.shape[1]}",
                 fontsize=9)
    return ax


@checked
def plot_conv_output(geom, position=None, *, ax=None, annotate=None, title=None):
    """Draw the 2-D output grid with its values and the selected ``position`` outlined.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> g = conv_geometry(np.ones((5, 5)), np.ones((3, 3)), stride=2)
    >>> ax = plot_conv_output(g, 3, ax=Figure().add_subplot())
    >>> sorted({t.get_text() for t in ax.texts})
    ['9']
    """
    if not isinstance(geom, ConvGeometry) or geom.ndim != 2:
        raise TypeError("geom must be a 2-D ConvGeometry from conv_geometry")
    ax = get_ax(ax, figsize=(3, 3))
    out = geom.output
    if annotate is None:
        annotate = out.size <= 256
    _grid(ax, out, _faces(out, "Greens"), annotate=annotate)
    if position is not None:
        r, c = geom.unravel(position)
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2.5, zorder=3))
    ax.set_title(title or f"output {out.shape[0]}×{out.shape[1]}", fontsize=9)
    return ax

