"""HTML renderings of convolution geometry for the explorers.

Numbers in cells are what a student reads most, and the browser draws text far faster
and sharper than matplotlib can rasterise it (a 12×12 grid of values costs matplotlib
hundreds of milliseconds). Every cell carries a hover tooltip (``title``) that spells
out its role, and CSS classes that browser tests can select:

``cnnlab-tape`` / ``cnnlab-grid``       a 1-D tape or 2-D grid
``cnnlab-cell``                          any cell; plus ``pad``, ``tap`` (read by the
                                         selected output), ``sel`` (the selected output)
``data-index``                           the cell's index, e.g. ``"2"`` or ``"1,3"``
"""
from __future__ import annotations

import html

import matplotlib
import numpy as np

from ..viz import fmt

_BLUES = matplotlib.colormaps["Blues"]
_GREENS = matplotlib.colormaps["Greens"]
RED = "#d62728"
ORANGE = "#fdae6b"
PAD_BG = "#e0e0e0"


def _hex(cmap, values):
    """Light-to-medium background colours for ``values`` (scaled by their max |value|)."""
    values = np.asarray(values, dtype=float)
    vmax = float(np.max(np.abs(values))) if values.size else 0.0
    scaled = 0.08 + 0.42 * (np.abs(values) / (vmax or 1.0))
    rgba = cmap(scaled)
    return np.array([matplotlib.colors.to_hex(c) for c in rgba.reshape(-1, 4)]).reshape(values.shape)


def _cell_style(size, bg, *, border="#888", bw=1, extra=""):
    font = max(8, min(13, int(size * 0.42)))
    return (f"width:{size}px;height:{size}px;min-width:{size}px;box-sizing:border-box;"
            f"background:{bg};border:{bw}px solid {border};font-size:{font}px;text-align:center;"
            f"line-height:{size - 2 * bw}px;overflow:hidden;white-space:nowrap;{extra}")


def tape_html(geom, position=0, *, reveal="all", symbol="w", max_width=880):
    """A 1-D convolution as three tapes (kernel taps, padded input, output), in HTML.

    Parameters
    ----------
    geom : cnnlab.viz.ConvGeometry
        A 1-D geometry.
    position : int
        The output index explained: its window is outlined in red.
    reveal : {'all', 'upto'}
        Show every output value, or only those computed so far (step-by-step).
    symbol : str
        Kernel name used in the tooltips.
    max_width : int
        Pixels available; cells shrink (down to 18 px) to fit, then the tape scrolls.

    Returns
    -------
    str
    """
    (pos,) = geom.unravel(position)
    xp = geom.x_padded
    (pb, _), = geom.padding
    s, k = geom.stride[0], geom.kernel.size
    n_out = geom.output.size
    centre = geom.centre
    width_cells = max(xp.size, centre(n_out - 1) + 1)
    label_w = 110
    cell = int(max(18, min(36, (max_width - label_w) / width_cells)))
    gap = 10
    rows = {"kernel": 4, "input": 4 + cell + gap + 6, "output": 4 + 2 * (cell + gap) + 16}
    parts = []

    def put(left, top, text, style, cls, title, index):
        parts.append(
            f'<div class="cnnlab-cell {cls}" data-index="{index}" title="{html.escape(title)}" '
            f'style="position:absolute;left:{label_w + left:.1f}px;top:{top}px;{style}">{text}</div>')

    taps = [int(t) for t in geom.footprint(pos)[:, 0]]
    kernel_bg = _hex(matplotlib.colormaps["Oranges"], geom.applied)
    for j, (tap, w) in enumerate(zip(taps, geom.applied)):
        src = k - 1 - j if geom.operation == "convolution" else j
        put(tap * cell, rows["kernel"], html.escape(fmt(w)),
            _cell_style(cell, kernel_bg[j], border=RED, bw=2), "kernel",
            f"{symbol}[{src}] = {fmt(w)}" + (" (flipped into place)" if geom.operation == "convolution" else ""),
            j)
    tapset = set(taps)
    bg = _hex(_BLUES, xp)
    for i, v in enumerate(xp):
        is_pad = not pb <= i < pb + geom.x.size
        cls = "input" + (" pad" if is_pad else "") + (" tap" if i in tapset else "")
        title = f"x̃[{i}] = " + ("0 (padding)" if is_pad else f"x[{i - pb}] = {fmt(v)}")
        if i in tapset:
            j = taps.index(i)
            title += f"  × {fmt(geom.applied[j])}"
        put(i * cell, rows["input"], html.escape(fmt(v)),
            _cell_style(cell, PAD_BG if is_pad else bg[i], border=RED if i in tapset else "#888",
                        bw=2 if i in tapset else 1,
                        extra="color:#777;font-style:italic;" if is_pad else ""),
            cls, title, i)
    out_bg = _hex(_GREENS, geom.output)
    for o, v in enumerate(geom.output):
        shown = reveal == "all" or o <= pos
        sel = o == pos
        put(centre(o) * cell, rows["output"], html.escape(fmt(v)) if shown else "?",
            _cell_style(cell, "#2ca02c" if sel else (out_bg[o] if shown else "white"),
                        border=RED if sel else "#888", bw=2 if sel else 1,
                        extra="color:white;font-weight:bold;" if sel else ""),
            "output" + (" sel" if sel else ""),
            f"y[{o}] = {fmt(v)}  (window starts at x̃[{o * s}])" if shown else f"y[{o}] not computed yet", o)
    labels = [("kernel", f"{symbol} flipped" if geom.operation == "convolution" else symbol),
              ("input", "x̃ = padded x" if any(geom.padding[0]) else "x"), ("output", "y")]
    for key, text in labels:
        parts.append(f'<div style="position:absolute;left:0;top:{rows[key]}px;width:{label_w - 6}px;'
                     f'text-align:right;line-height:{cell}px;font-size:12px">{html.escape(text)}</div>')
    height = rows["output"] + cell + 6
    width = label_w + width_cells * cell + 4
    return (f'<div class="cnnlab-tape" style="overflow-x:auto;max-width:{max_width}px">'
            f'<div style="position:relative;height:{height}px;width:{width:.0f}px">{"".join(parts)}</div></div>')


def grid_html(values, *, title="", mask=None, taps=None, weights=None, selected=None, cmap="Blues",
              max_px=380, name="x", kind="input"):
    """A 2-D array as an HTML table with values, a padding mask and highlighted cells.

    Parameters
    ----------
    values : 2-D array
    title : str
        Caption above the table.
    mask : 2-D bool array, optional
        True marks padding cells (grey, italic).
    taps : sequence of (row, col), optional
        Cells outlined in red (the kernel footprint); ``weights`` gives their multipliers.
    selected : (row, col), optional
        The selected cell (filled, outlined).
    cmap : str
        Matplotlib colormap for the cell backgrounds.
    max_px : int
        Width available; cells shrink to fit (values hidden below 16 px, still in tooltips).
    name, kind : str
        Symbol used in tooltips and the CSS class of the table (``input``/``output``).

    Returns
    -------
    str
    """
    values = np.asarray(values, dtype=float)
    rows, cols = values.shape
    cell = int(max(8, min(30, max_px / max(cols, 1))))
    show = cell >= 16
    bg = _hex(matplotlib.colormaps[cmap], values)
    tapw = {}
    if taps is not None:
        ws = [None] * len(taps) if weights is None else list(weights)
        tapw = {(int(r), int(c)): w for (r, c), w in zip(taps, ws)}
    body = []
    for r in range(rows):
        tds = []
        for c in range(cols):
            v = values[r, c]
            is_pad = bool(mask is not None and mask[r, c])
            is_tap = (r, c) in tapw
            is_sel = selected is not None and (r, c) == tuple(selected)
            cls = "cnnlab-cell" + (" pad" if is_pad else "") + (" tap" if is_tap else "") + (" sel" if is_sel else "")
            title_txt = f"{name}[{r},{c}] = " + ("0 (padding)" if is_pad else fmt(v))
            if is_tap and tapw[(r, c)] is not None:
                title_txt += f"  × {fmt(tapw[(r, c)])}"
            back = "#2ca02c" if is_sel else PAD_BG if is_pad else bg[r, c]
            extra = ("color:white;font-weight:bold;" if is_sel else "color:#777;font-style:italic;" if is_pad else "")
            style = _cell_style(cell, back, border=RED if (is_tap or is_sel) else "#999",
                                bw=2 if (is_tap or is_sel) else 1, extra=extra + "padding:0;")
            text = html.escape(fmt(v, digits=2)) if show else ""
            tds.append(f'<td class="{cls}" data-index="{r},{c}" title="{html.escape(title_txt)}" '
                       f'style="{style}">{text}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (f'<div class="cnnlab-grid cnnlab-grid-{kind}" style="display:inline-block;vertical-align:top;'
            f'margin-right:18px"><div style="font-size:12px;margin-bottom:3px">{html.escape(title)}</div>'
            f'<table style="border-collapse:collapse;table-layout:fixed;margin:0">{"".join(body)}</table></div>')
