"""Images, kernels and feature maps; the sample photograph every lesson uses."""
from __future__ import annotations

import numpy as np

from .._validate import _as_array, _check_int
from ._style import MIN_TEXT_PT, checked, fmt, get_ax, text_color

__all__ = ["sample_photo", "show_image", "show_feature_map", "plot_kernel"]

#: ITU-R BT.601 luma weights (what PIL's ``convert('L')`` uses)
LUMA = np.array([0.299, 0.587, 0.114])


@checked
def sample_photo(*, downsample=2, gray=True):
    """Grace Hopper's portrait, which ships with matplotlib (no download), as floats in [0, 1].

    Parameters
    ----------
    downsample : int
        Average non-overlapping ``downsample × downsample`` blocks (1 keeps the full
        600 × 512 photo; 2 gives 300 × 256, quick enough for live explorers).
    gray : bool
        Convert to grey levels with the BT.601 weights; otherwise keep RGB in the last axis.

    Returns
    -------
    numpy.ndarray
        Shape ``(600 // downsample, 512 // downsample)`` (``+ (3,)`` in colour), float64.

    Examples
    --------
    >>> img = sample_photo(downsample=4)
    >>> img.shape, bool(0 <= img.min() and img.max() <= 1)
    ((150, 128), True)
    """
    import matplotlib.cbook as cbook
    import matplotlib.image as mimage

    downsample = _check_int(downsample, "downsample", minimum=1)
    _check_int(downsample, "downsample", maximum=512, what="at most 512 (the photo is 512 pixels wide)")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        img = mimage.imread(f, format="jpg").astype(np.float64) / 255.0
    if gray:
        img = img @ LUMA
    h, w = (img.shape[0] // downsample) * downsample, (img.shape[1] // downsample) * downsample
    img = img[:h, :w]
    shape = (h // downsample, downsample, w // downsample, downsample) + img.shape[2:]
    return img.reshape(shape).mean(axis=(1, 3))


@checked
def show_image(img, *, ax=None, title=None, cmap="gray", vmin=None, vmax=None, colorbar=False):
    """Show a grey-level (2-D) or RGB (H, W, 3) image without axes ticks.

    Returns
    -------
    matplotlib.axes.Axes
        Its first image holds ``img``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = show_image(np.eye(3), ax=Figure().add_subplot(), title="eye")
    >>> ax.images[0].get_array().shape, ax.get_title()
    ((3, 3), 'eye')
    """
    img = _as_array(img, "img", ndim=(2, 3))
    if img.dtype.kind == "c":
        raise TypeError(f"img must be real, got dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] not in (3, 4):
        raise ValueError(f"img must be (H, W), (H, W, 3) or (H, W, 4), got shape {img.shape}")
    ax = get_ax(ax, figsize=(4, 4))
    im = ax.imshow(img, cmap=cmap if img.ndim == 2 else None, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax


@checked
def show_feature_map(fm, *, ax=None, title=None, signed=True, colorbar=False, cmap=None, percentile=100.0):
    """Show a filter response: signed maps on a diverging scale centred at 0 (red +, blue −).

    Parameters
    ----------
    fm : array_like, 2-D
    signed : bool
        Diverging colours symmetric around 0 (default); ``False`` shows magnitudes in grey
        levels from 0 to the maximum.
    percentile : float
        Scale colours to this percentile of ``|fm|`` instead of its maximum (e.g. 99.5, so
        a few strong pixels do not wash out the rest); values beyond it saturate.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = show_feature_map([[-2.0, 1.0]], ax=Figure().add_subplot())
    >>> ax.images[0].get_clim()
    (-2.0, 2.0)
    >>> show_feature_map([[-2.0, 1.0]], ax=Figure().add_subplot(), percentile=50).images[0].get_clim()
    (-1.5, 1.5)
    """
    fm = _as_array(fm, "fm", ndim=2).astype(np.float64)
    if not (isinstance(percentile, (int, float)) and 0 < percentile <= 100):
        raise ValueError(f"percentile must be a number in (0, 100], got {percentile!r}")
    vmax = float(np.percentile(np.abs(fm), percentile)) or float(np.max(np.abs(fm))) or 1.0
    if signed:
        return show_image(fm, ax=ax, title=title, cmap=cmap or "RdBu_r", vmin=-vmax, vmax=vmax,
                          colorbar=colorbar)
    return show_image(fm, ax=ax, title=title, cmap=cmap or "gray", vmin=0, vmax=vmax, colorbar=colorbar)


@checked
def plot_kernel(k, *, ax=None, title=None, annotate=None, fontsize=None):
    """Show a small 2-D kernel with its weights written in the cells (diverging colours).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_kernel([[1, 0, -1]] * 3, ax=Figure().add_subplot())
    >>> [t.get_text() for t in ax.texts[:3]]
    ['1', '0', '−1']
    """
    k = _as_array(k, "k", ndim=2).astype(np.float64)
    ax = get_ax(ax, figsize=(2.5, 2.5))
    vmax = float(np.max(np.abs(k))) or 1.0
    im = ax.imshow(k, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    if annotate is None:
        annotate = k.size <= 49
    if annotate:
        size = fontsize or (10 if max(k.shape) <= 3 else MIN_TEXT_PT)
        for (r, c), v in np.ndenumerate(k):
            ax.text(c, r, fmt(v, digits=2), ha="center", va="center", fontsize=size,
                    color=text_color(im.cmap((v + vmax) / (2 * vmax))))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
