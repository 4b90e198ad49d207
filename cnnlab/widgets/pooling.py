"""Lesson 06 explorer: max and average pooling on the Chollet slides' 4×4 example, a photo and a feature map.

:func:`pool` wraps the core's :func:`cnnlab.max_pool2d` / :func:`cnnlab.avg_pool2d`
(torch semantics) for one 2-D image; :func:`shift_invariance` measures how much of a
pooled map survives shifting the input by a few pixels, the numerical form of
"pooling makes features a bit more robust to small translations".
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validate import _as_array, _check_int, _check_mode, _check_real
from .. import kernels
from ..examples import FEATURE_MAP_4X4
from ..geometry import translate
from ..layers import conv2d
from ..pooling import avg_pool2d, max_pool2d
from ..viz import sample_photo, show_image
from ._base import Explorer
from ._controls import dropdown, slider, toggles

__all__ = ["PoolingExplorer", "EXAMPLE_FEATURE_MAP", "edge_map", "pool", "shift", "shift_invariance"]

#: the Chollet slides' 4×4 feature map (:data:`cnnlab.examples.FEATURE_MAP_4X4`, read-only);
#: 2×2 max-pooling gives [[20, 30], [112, 37]]. Both names are kept so older notebooks keep working.
EXAMPLE_FEATURE_MAP = SEED_FEATURE_MAP = FEATURE_MAP_4X4


def pool(image, kernel_size=2, stride=None, padding=0, *, mode="max"):
    """Pool one 2-D image (max or average, torch semantics).

    Parameters
    ----------
    image : array_like, shape (H, W)
    kernel_size, stride, padding : int
        As for :func:`cnnlab.max_pool2d`; ``stride`` defaults to ``kernel_size``.
    mode : {"max", "avg"}

    Returns
    -------
    ndarray, shape (H_out, W_out)
        ``H_out = floor((H + 2p − k) / s) + 1``, likewise ``W_out``.

    Notes
    -----
    max: ``y[i, j] = max_{a, b < k} x[i·s + a − p, j·s + b − p]`` (−∞ outside);
    avg: the mean over the same window, zeros in the padding counted (torch's default).

    Examples
    --------
    >>> pool(EXAMPLE_FEATURE_MAP, 2)
    array([[ 20.,  30.],
           [112.,  37.]])
    >>> pool(EXAMPLE_FEATURE_MAP, 2, mode="avg")
    array([[13.  ,  8.  ],
           [79.  , 19.5]])
    """
    x = _as_array(image, "image", ndim=2).astype(np.float64)
    mode = _check_mode(mode, ("max", "avg"), "mode")
    fn = max_pool2d if mode == "max" else avg_pool2d
    return fn(x[None], kernel_size, stride, padding)[0]


def shift(image, pixels, *, axis=1):
    """Move an image ``pixels`` to the right (``axis=1``) or down (``axis=0``), filling with zeros.

    :func:`cnnlab.geometry.translate` along one axis, keeping the image's dtype.

    Returns
    -------
    ndarray, shape (H, W)
        ``out[i, j] = image[i, j − pixels]`` (``axis=1``) or ``image[i − pixels, j]``
        (``axis=0``) where that index exists, else 0.

    Examples
    --------
    >>> shift(np.arange(6.).reshape(2, 3), 1)
    array([[0., 0., 1.],
           [0., 3., 4.]])
    """
    x = _as_array(image, "image", ndim=2)
    pixels = _check_int(pixels, "pixels", minimum=0)
    axis = _check_mode(axis, (0, 1), "axis")
    moved = translate(x, pixels, 0) if axis == 0 else translate(x, 0, pixels)
    return moved.astype(x.dtype, copy=False)


def shift_invariance(image, pixels, kernel_size=2, stride=None, *, mode="max", atol=1e-9):
    """Fraction of values left unchanged when the input moves ``pixels`` to the right.

    Parameters
    ----------
    image : array_like, shape (H, W)
    pixels : int
        Shift to the right (zeros come in on the left).
    kernel_size, stride, mode
        The pooling compared (``kernel_size=1`` means no pooling).

    Returns
    -------
    dict
        ``"pixels"``: fraction of input pixels equal before and after the shift;
        ``"pooled"``: the same for the pooled maps (positions in the left-most
        ``ceil(pixels / stride)`` output columns, which see the incoming zeros, excluded
        from both).

    Examples
    --------
    >>> img = np.random.default_rng(0).random((16, 16))
    >>> shift_invariance(img, 1, 4)                  # no pixel keeps its value, 5 of 12 maxima do
    {'pixels': 0.0, 'pooled': 0.4166666666666667}
    >>> shift_invariance(img, 1, 4, mode="avg")["pooled"]   # averages all move a little
    0.0
    """
    atol = _check_real(atol, "atol", nonnegative=True)
    x = _as_array(image, "image", ndim=2).astype(np.float64)
    pixels = _check_int(pixels, "pixels", minimum=0)
    k = _check_int(kernel_size, "kernel_size", minimum=1)
    s = k if stride is None else _check_int(stride, "stride", minimum=1)
    moved = shift(x, pixels)
    a, b = pool(x, k, s, mode=mode), pool(moved, k, s, mode=mode)
    skip = -(-pixels // s)
    if skip >= a.shape[1]:   # also every shift of the whole width: no pixel left to compare
        raise ValueError(f"pixels = {pixels} shifts the whole pooled map out of view; use a smaller shift")
    skip_px = pixels
    same_px = np.isclose(x[:, skip_px:], moved[:, skip_px:], atol=atol, rtol=0).mean()
    same_pool = np.isclose(a[:, skip:], b[:, skip:], atol=atol, rtol=0).mean()
    return {"pixels": float(same_px), "pooled": float(same_pool)}


@functools.lru_cache(maxsize=2)
def _photo():
    img = sample_photo(downsample=4)
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=2)
def edge_map():
    """A feature map: ReLU of the photo cross-correlated with a vertical Sobel kernel ('valid', 148×126).

    Examples
    --------
    >>> f = edge_map()
    >>> f.shape, bool(f.min() >= 0)
    ((148, 126), True)
    """
    sobel = kernels.sobel("vertical").astype(float)
    fm = np.maximum(conv2d(_photo()[None, None], sobel[None, None])[0, 0], 0.0)
    fm.setflags(write=False)
    return fm


_INPUTS = {
    "4×4 example (Chollet slides)": lambda: EXAMPLE_FEATURE_MAP,
    "photo (150×128)": _photo,
    "edge feature map (148×126)": edge_map,
}


@dataclass(frozen=True, eq=False)
class PoolingResult:
    image: np.ndarray
    output: np.ndarray
    indices: np.ndarray | None
    mode: str
    kernel_size: int
    stride: int
    padding: int
    shift: int
    shifted_output: np.ndarray | None
    invariance: dict | None


class PoolingExplorer(Explorer):
    """Max / average pooling with live window size, stride and padding, and a shift test.

    Examples
    --------
    >>> ex = PoolingExplorer()
    >>> ex.result.output.tolist()
    [[20.0, 30.0], [112.0, 37.0]]
    >>> ex.mode.value = "avg"
    >>> ex.result.output.tolist()
    [[13.0, 8.0], [79.0, 19.5]]
    >>> ex.padding.value = 2                    # more than k // 2: torch refuses, so do we
    >>> "padding" in ex.error
    True
    """

    height = "470px"
    figsize = (9.5, 3.8)
    css_class = "cnnlab-pooling-explorer"
    _shift_image = staticmethod(shift)     # compute's argument ``shift`` (the control) hides the function

    def __init__(self, *, source="4×4 example (Chollet slides)"):
        super().__init__()
        _check_mode(source, tuple(_INPUTS), "source")
        self._finish(dict(source=dropdown(list(_INPUTS), source, "input"),
                          mode=toggles([("max", "max"), ("average", "avg")], "max", "pooling"),
                          kernel=slider(int, 2, 1, 8, "window k"),
                          stride=slider(int, 2, 1, 8, "stride S"),
                          padding=slider(int, 0, 0, 4, "padding P"),
                          shift=slider(int, 0, 0, 4, "shift input (px)")))

    def compute(self, *, source, mode, kernel, stride, padding, shift):
        image = _INPUTS[source]()
        fn = max_pool2d if mode == "max" else avg_pool2d
        indices = None
        if mode == "max":
            out, indices = max_pool2d(image[None], kernel, stride, padding, return_indices=True)
            out, indices = out[0], indices[0]
        else:
            out = fn(image[None], kernel, stride, padding)[0]
        shifted = invariance = None
        if shift:
            shifted = fn(self._shift_image(image, shift)[None], kernel, stride, padding)[0]
            if padding == 0:
                invariance = shift_invariance(image, shift, kernel, stride, mode=mode)
        return PoolingResult(image, out, indices, mode, kernel, stride, padding, shift, shifted, invariance)

    def _layout(self, r):
        return (r.image.shape[0] <= 8, 3 if r.shifted_output is not None else 2, id(r.image))

    def refresh(self, r, figure):
        """Big images: swap the pixels of the existing axes; small ones (annotated) redraw."""
        small, panels, _ = layout = self._layout(r)
        if small or layout != getattr(self, "_drawn_layout", None):
            return False
        vmax = float(r.image.max()) or 1.0
        name = "max" if r.mode == "max" else "average"
        axes = figure.axes
        _set_image(axes[1], r.output, f"{r.kernel_size}×{r.kernel_size} {name} pool, S={r.stride}, "
                                      f"P={r.padding} → {r.output.shape[0]}×{r.output.shape[1]}")
        if panels == 3:
            _set_image(axes[2], np.abs(r.shifted_output - r.output), f"|change| after shifting {r.shift} px")
            axes[2].images[0].set_clim(0, vmax)
        return True

    def draw(self, r, figure):
        self._drawn_layout = self._layout(r)
        small = r.image.shape[0] <= 8
        panels = 3 if r.shifted_output is not None else 2
        width = 0.95 / panels
        axes = [figure.add_axes([0.02 + i * (width + 0.01), 0.04, width - 0.02, 0.82]) for i in range(panels)]
        vmax = float(r.image.max()) or 1.0
        name = "max" if r.mode == "max" else "average"
        self._show(axes[0], r.image, vmax, small, f"input {r.image.shape[0]}×{r.image.shape[1]}")
        self._show(axes[1], r.output, vmax, small,
                   f"{r.kernel_size}×{r.kernel_size} {name} pool, S={r.stride}, P={r.padding} → "
                   f"{r.output.shape[0]}×{r.output.shape[1]}")
        if small:
            k, s, p = r.kernel_size, r.stride, r.padding
            colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
            for n, (i, j) in enumerate(np.ndindex(*r.output.shape)):
                colour = colours[n % len(colours)]
                axes[0].add_patch(_rect(j * s - p - 0.5, i * s - p - 0.5, k, colour, inset=0.06 * (n % 3)))
                axes[1].add_patch(_rect(j - 0.5, i - 0.5, 1, colour))
                if r.indices is not None:
                    a, b = divmod(int(r.indices[i, j]), r.image.shape[1])
                    axes[0].plot(b, a, "o", ms=22, mfc="none", mec=colour, mew=2)
        if r.shifted_output is not None:
            diff = np.abs(r.shifted_output - r.output)
            show_image(diff, ax=axes[2], cmap="magma", vmin=0, vmax=vmax,
                       title=f"|change| after shifting {r.shift} px")

    @staticmethod
    def _show(ax, img, vmax, small, title):
        show_image(img, ax=ax, cmap="viridis" if small else "gray", vmin=0, vmax=vmax, title=title)
        ax.title.set_fontsize(9)
        if small:
            for (i, j), v in np.ndenumerate(img):
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=11,
                        color="white" if v < 0.6 * vmax else "black")

    def header(self, r):
        h, w = r.output.shape
        parts = [f'<span class="cnnlab-readout cnnlab-out-shape" data-out-shape="{h}×{w}">output {h}×{w} = '
                 f'⌊({r.image.shape[0]} + 2·{r.padding} − {r.kernel_size}) / {r.stride}⌋ + 1 = {h}</span>']
        if r.invariance is not None:
            parts.append(
                f'<span class="cnnlab-readout cnnlab-invariance" data-unchanged-pooled="{r.invariance["pooled"]:.4f}" '
                f'data-unchanged-pixels="{r.invariance["pixels"]:.4f}">after a {r.shift}-pixel shift '
                f'{r.invariance["pooled"]:.0%} of the pooled values are unchanged '
                f'(of the pixels: {r.invariance["pixels"]:.0%})</span>')
        return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
                + " · ".join(parts) + "</div>")


def _set_image(ax, data, title):
    """Replace the pixels of the Axes' image, whatever their new shape."""
    im = ax.images[0]
    im.set_data(data)
    h, w = data.shape
    im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_title(title, fontsize=9)


def _rect(x, y, size, colour, inset=0.0):
    from matplotlib.patches import Rectangle

    return Rectangle((x + inset, y + inset), size - 2 * inset, size - 2 * inset, fill=False, edgecolor=colour,
                     linewidth=2.5)


