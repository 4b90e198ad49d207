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

#: the course's figure resolution. A CSS inch is 96 px, so at 96 dpi a matplotlib point is
#: a point on screen at 100 % zoom while the browser shows the PNG pixel for pixel.
DPI = 96
#: the widest figure, in inches, that JupyterLab shows pixel for pixel on a 1366 px laptop
#: screen with the file browser open (its output area is about 930 px wide; 9.5 in = 912 px).
#: A wider figure is shrunk to fit, and its text with it.
MAX_WIDTH_IN = 9.5
#: the smallest text size of the course's figures, in points
MIN_TEXT_PT = 9
#: the matplotlib settings of :func:`use_course_style`
COURSE_RC = {
    "figure.dpi": DPI, "savefig.dpi": "figure",
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "figure.titlesize": 11,
    "xtick.labelsize": MIN_TEXT_PT, "ytick.labelsize": MIN_TEXT_PT,
    "legend.fontsize": MIN_TEXT_PT, "legend.title_fontsize": MIN_TEXT_PT,
}


def use_course_style() -> None:
    """Draw the figures made from now on in the course's style: 96 dpi and no text under 9 pt.

    Every lesson calls it once, first. At the default 100 dpi a figure is drawn 4 % larger
    than its size in inches says, and one wider than the output area (about 9.7 in) is
    shrunk to fit, so its 9 pt text shows smaller than 9 pt. Figures are made at most
    :data:`MAX_WIDTH_IN` inches wide so that they are shown pixel for pixel.

    >>> import matplotlib
    >>> with matplotlib.rc_context():   # here only: a lesson keeps the style
    ...     use_course_style()
    ...     matplotlib.rcParams["figure.dpi"], matplotlib.rcParams["xtick.labelsize"]
    (96.0, 9.0)
    """
    import matplotlib

    matplotlib.rcParams.update(COURSE_RC)


def fmt(value, *, max_denominator=12, digits=3) -> str:
    """Format a number for a figure: integers plainly, simple fractions as ``p/q``, else ``digits`` significant.

    >>> fmt(2.0), fmt(5 / 3), fmt(-0.5), fmt(0.123456)
    ('2', '5/3', '−1/2', '0.123')
    """
    from .._validate import _check_int

    max_denominator = _check_int(max_denominator, "max_denominator", minimum=1)
    digits = _check_int(digits, "digits", minimum=1, maximum=17)
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"value must be a real number, got {value!r:.80}") from exc
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


# -- the contract for the arguments every plotting function shares ------------------------
_FONT_SIZES = ("xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "larger", "smaller")
_TEXT = ("title", "label", "xlabel", "ylabel", "kernel_symbol")
_FLAGS = ("colorbar", "signed", "ticks", "gray")
_OPTIONAL_FLAGS = ("annotate", "stem", "exact")
_LINESTYLES = ("-", "--", "-.", ":", "solid", "dashed", "dashdot", "dotted", "None", "none", " ", "")
_REALS = ("vmin", "vmax", "target", "chance", "start", "duration", "offset_db")


def _real(value, name, *, optional=True, lo=None, hi=None, positive=False):
    from .._validate import _check_real

    if value is None and optional:
        return
    v = _check_real(value, name)
    if positive and v <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if lo is not None and v < lo or hi is not None and v > hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


def check_style(**kwargs):
    """Check the arguments the plotting functions share, by name (``ax``, ``cmap``,
    ``color``, ``fontsize``, ``alpha``, ``lw``, titles and labels, flags, limits) with the
    contract of :mod:`cnnlab._validate`; unknown names are ignored."""
    import matplotlib
    from matplotlib.colors import Colormap, is_color_like

    from .._validate import _check_bool, _check_int

    for name, value in kwargs.items():
        if name == "ax":
            check_ax(value)
        elif name == "cmap":
            if value is None or isinstance(value, Colormap):
                continue
            if not isinstance(value, str):
                raise TypeError(f"cmap must be a colormap name or None, got {value!r}")
            if value not in matplotlib.colormaps:
                raise ValueError(f"cmap must be a matplotlib colormap name such as 'gray' or 'RdBu_r', got {value!r}")
        elif name == "color":
            if value is not None and not (isinstance(value, (str, tuple)) and is_color_like(value)):
                raise (ValueError if isinstance(value, str) else TypeError)(
                    f"color must be a matplotlib colour such as 'red' or '#1f77b4', got {value!r}")
        elif name == "fontsize":
            if value is None or isinstance(value, str) and value in _FONT_SIZES:
                continue
            if isinstance(value, str):
                raise ValueError(f"fontsize must be a positive number or one of {', '.join(_FONT_SIZES)}, "
                                 f"got {value!r}")
            _real(value, "fontsize", positive=True, hi=1000)
        elif name == "alpha":
            _real(value, "alpha", lo=0, hi=1)
        elif name in ("lw", "width"):
            _real(value, name, optional=False, positive=True, hi=1e6)
        elif name in _TEXT:
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a str or None, got {value!r}")
        elif name in _FLAGS:
            _check_bool(value, name)
        elif name in _OPTIONAL_FLAGS:
            if value is not None:
                _check_bool(value, name)
        elif name in _REALS:
            _real(value, name)
        elif name in ("highlight_rows", "highlight_cols", "highlight"):
            if value is None:
                continue
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, range, np.ndarray)):
                raise TypeError(f"{name} must be a sequence of int indices, got {value!r}")
            for v in value:
                _check_int(v, name, minimum=0)
        elif name in ("labels", "class_names", "colors", "linestyles"):
            if value is not None and (isinstance(value, (str, bytes)) or
                                      not isinstance(value, (list, tuple, np.ndarray))):
                raise TypeError(f"{name} must be a list or None, got {value!r}")
            if name == "colors" and value is not None:
                for c in value:
                    if c is not None and not is_color_like(c):
                        raise ValueError(f"colors must hold matplotlib colours such as 'red', got {c!r}")
            if name == "linestyles" and value is not None:
                for ls in value:
                    if not (ls is None or isinstance(ls, tuple) or isinstance(ls, str) and ls in _LINESTYLES):
                        raise ValueError(f"linestyles must hold matplotlib line styles such as '--', got {ls!r}")


def checked(fn):
    """Decorator for a public plotting function: :func:`check_style` on its arguments first."""
    import functools
    import inspect

    sig = inspect.signature(fn)
    names = [n for n in sig.parameters if n == "ax" or n in ("cmap", "color", "fontsize", "alpha", "lw", "width")
             or n in _TEXT or n in _FLAGS or n in _OPTIONAL_FLAGS or n in _REALS
             or n in ("highlight_rows", "highlight_cols", "highlight", "labels", "class_names", "colors",
                      "linestyles")]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)  # let Python say what is missing
        check_style(**{n: bound.arguments[n] for n in names if n in bound.arguments})
        return fn(*args, **kwargs)

    return wrapper
