"""Shared helpers of the plotting layer: number formatting, axes creation, colours."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

#: colours used across the course's figures (colour-blind safe, from matplotlib's tab10)
INPUT = "#1f77b4"
KERNEL = "#ff7f0e"
OUTPUT = "#2ca02c"
HIGHLIGHT = "#d62728"
PAD = "#d9d9d9"


def fmt(value, *, max_denominator=12, digits=3) -> str:
    """Format a number for a figure: integers plainly, simple fractions as ``p/q``, else ``digits`` significant.

    >>> fmt(2.0), fmt(5 / 3), fmt(-0.5), fmt(0.123456)
    ('2', '5/3', '−1/2', '0.123')
    """
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if abs(v - round(v)) < 1e-9:
        text = str(int(round(v)))
    else:
        frac = Fraction(v).limit_denominator(max_denominator)
        if abs(float(frac) - v) < 1e-9:
            text = f"{frac.numerator}/{frac.denominator}"
        else:
            text = f"{v:.{digits}g}"
    return text.replace("-", "−") if text != "0" else "0"


def check_ax(ax):
    """``ax`` if it is None or a matplotlib Axes; a TypeError naming ``ax`` otherwise."""
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {ax!r}")
    return ax


def get_ax(ax, figsize=(6, 3)):
    """Return ``ax``, or a new Axes on a new pyplot figure when ``ax`` is None (a TypeError
    when ``ax`` is neither)."""
    if check_ax(ax) is not None:
        return ax
    import matplotlib.pyplot as plt  # only when the caller did not give an Axes

    _, ax = plt.subplots(figsize=figsize)
    return ax


def text_color(rgba) -> str:
    """Black or white, whichever reads better on the background colour ``rgba``."""
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
