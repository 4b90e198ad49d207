"""Pictures for lessons 09–10: image grids, heat-map overlays, FGSM curves, boxes.

Duck-typed: torch tensors are accepted (anything with ``.detach()``/``.numpy()`` or
``__array__``) but torch is never imported here.
"""
from __future__ import annotations

import numpy as np

from .._validate import _as_array, _check_alloc, _check_int, _check_mode
from ._style import HIGHLIGHT, OUTPUT, checked, get_ax

__all__ = ["image_grid", "show_grid", "show_heatmap", "blend_heatmap", "plot_accuracy_vs_epsilon", "show_boxes"]

NORMALIZE = ("each", "all", "signed", None)


def _np(a, name, **kw):
    if hasattr(a, "detach"):          # a torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    return _as_array(a, name, **kw).astype(np.float64)


def _tiles(images):
    arr = _np(images, "images", ndim=(2, 3, 4), finite=False)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 4:
        if arr.shape[1] != 1:
            raise ValueError(f"images must be (N, H, W) or (N, 1, H, W); got shape {arr.shape} "
                             "(pass one channel, e.g. w[:, 0], or reshape to (N*C, H, W))")
        arr = arr[:, 0]
    return arr


def _ncols(n, ncols):
    ncols = int(np.ceil(np.sqrt(n))) if ncols is None else _check_int(ncols, "ncols", minimum=1)
    return min(ncols, n)


@checked
def image_grid(images, ncols=None, *, pad=1, normalize="each"):
    """Tile N small images into one mosaic, separated by ``pad`` NaN pixels.

    Parameters
    ----------
    images : array (N, H, W) or (N, 1, H, W)
    ncols : int, optional
        Tiles per row; default ceil(√N).
    pad : int
        Separator width in pixels (NaN, drawn as background).
    normalize : {'each', 'all', 'signed', None}
        'each' scales every tile to [0, 1] by its own min and max (filters, feature maps);
        'all' uses one min and max for all tiles (images on a common scale);
        'signed' divides each tile by its largest |value| (to [−1, 1], for weights on a
        diverging colour map); None keeps the values.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows·(H + pad) − pad, ncols·(W + pad) − pad)`` with rows = ceil(N / ncols).

    Notes
    -----
    Tile n sits at row n // ncols, column n % ncols; its top-left pixel is
    ((n // ncols)·(H + pad), (n % ncols)·(W + pad)).

    Examples
    --------
    >>> g = image_grid(np.arange(8.).reshape(2, 2, 2), ncols=2, normalize=None)
    >>> g.shape
    (2, 5)
    >>> g[0].tolist()
    [0.0, 1.0, nan, 4.0, 5.0]
    """
    arr = _tiles(images)
    normalize = _check_mode(normalize, NORMALIZE, "normalize")
    n, h, w = arr.shape
    ncols = _ncols(n, ncols)
    pad = _check_int(pad, "pad", minimum=0)
    rows = -(-n // ncols)
    _check_alloc((rows * (h + pad)) * (ncols * (w + pad)), "pad", pad)
    if normalize == "each":
        lo = np.nanmin(arr, axis=(1, 2), keepdims=True)
        span = np.nanmax(arr, axis=(1, 2), keepdims=True) - lo
        arr = (arr - lo) / np.where(span > 0, span, 1.0)
    elif normalize == "all":
        lo, span = np.nanmin(arr), np.nanmax(arr) - np.nanmin(arr)
        arr = (arr - lo) / (span if span > 0 else 1.0)
    elif normalize == "signed":
        m = np.nanmax(np.abs(arr), axis=(1, 2), keepdims=True)
        arr = arr / np.where(m > 0, m, 1.0)
    rows = -(-n // ncols)
    grid = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for k in range(n):
        r, c = divmod(k, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = arr[k]
    return grid


@checked
def show_grid(images, *, ncols=None, labels=None, normalize="each", cmap=None, pad=1, ax=None,
              title=None, fontsize=7):
    """Show many small images (filters, feature maps, patches, neighbours) in one Axes.

    Parameters
    ----------
    images : array (N, H, W) or (N, 1, H, W)
    labels : sequence of str, optional
        One caption per tile, written in its top-left corner.
    normalize : see :func:`image_grid`
    cmap : str, optional
        Default 'RdBu_r' for ``normalize='signed'`` (red +, blue −), else 'gray'.

    Returns
    -------
    matplotlib.axes.Axes
        Its first image holds the mosaic of :func:`image_grid`.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = show_grid(np.random.rand(6, 5, 5), ncols=3, labels=list("abcdef"), ax=Figure().add_subplot())
    >>> ax.images[0].get_array().shape, [t.get_text() for t in ax.texts][:2]
    ((11, 17), ['a', 'b'])
    """
    grid = image_grid(images, ncols, pad=pad, normalize=normalize)
    n, h, w = _tiles(images).shape
    ncols = _ncols(n, ncols)
    if labels is not None:
        labels = list(labels)
        if len(labels) != n:
            raise ValueError(f"labels must have one entry per image ({n}), got {len(labels)}")
    ax = get_ax(ax, figsize=(6, 6 * grid.shape[0] / grid.shape[1]))
    signed = normalize == "signed"
    cmap = cmap or ("RdBu_r" if signed else "gray")
    import matplotlib

    cm = matplotlib.colormaps[cmap].with_extremes(bad="white")
    kw = dict(vmin=-1, vmax=1) if signed else dict(vmin=0, vmax=1) if normalize in ("each", "all") else {}
    ax.imshow(np.ma.masked_invalid(grid), cmap=cm, interpolation="nearest", **kw)
    for k, text in enumerate(labels or []):
        r, c = divmod(k, ncols)
        ax.text(c * (w + pad), r * (h + pad), str(text), fontsize=fontsize, va="top", ha="left",
                color="black", bbox=dict(facecolor="white", alpha=0.7, pad=0.5, linewidth=0))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _image_and_heat(image, heat, alpha):
    """A grey image and its heat map as 2-D arrays of one size (a leading channel of 1
    dropped), with ``alpha`` checked."""
    img = _np(image, "image", ndim=(2, 3))
    img = img[0] if img.ndim == 3 and img.shape[0] == 1 else img
    hm = _np(heat, "heat", ndim=(2, 3))
    hm = hm[0] if hm.ndim == 3 and hm.shape[0] == 1 else hm
    if img.ndim != 2 or hm.shape != img.shape:
        raise ValueError(f"heat must be 2-D and the same size as image, got {hm.shape} and {img.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return img, hm


@checked
def show_heatmap(image, heat, *, ax=None, alpha=0.5, cmap="jet", title=None, signed=False, colorbar=False):
    """A grey-level image with a saliency or Grad-CAM map laid over it.

    Parameters
    ----------
    image : array (H, W) (or (1, H, W))
    heat : array (H, W), same size (upsample Grad-CAM first)
    alpha : float
        Opacity of the heat map.
    signed : bool
        Centre the colour scale at 0 ('RdBu_r') instead of 0 … max.

    Returns
    -------
    matplotlib.axes.Axes
        ``images[0]`` is the picture, ``images[1]`` the heat map.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = show_heatmap(np.zeros((4, 4)), np.eye(4), ax=Figure().add_subplot())
    >>> len(ax.images), ax.images[1].get_clim()
    (2, (0.0, 1.0))
    """
    img, hm = _image_and_heat(image, heat, alpha)
    ax = get_ax(ax, figsize=(3, 3))
    ax.imshow(img, cmap="gray", interpolation="nearest")
    m = float(np.max(np.abs(hm))) or 1.0
    lim = (-m, m) if signed else (min(0.0, float(hm.min())), m)
    im = ax.imshow(hm, cmap="RdBu_r" if signed else cmap, alpha=alpha, vmin=lim[0], vmax=lim[1],
                   interpolation="bilinear")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


@checked
def blend_heatmap(image, heat, *, alpha=0.5, cmap="jet", signed=False):
    """The picture :func:`show_heatmap` draws, as one RGB array (for fast mosaics).

    The image is scaled to [0, 1] by its min and max and shown in grey; the heat map is
    coloured with ``cmap`` on [min(0, heat.min()), max|heat|] (or [−m, m] with
    ``signed``, on 'RdBu_r') and laid over it with opacity ``alpha``.

    Returns
    -------
    numpy.ndarray
        Shape ``(H, W, 3)``, floats in [0, 1]: (1 − α)·grey + α·colour(heat).

    Examples
    --------
    >>> rgb = blend_heatmap(np.zeros((2, 2)), np.array([[0., 1], [0, 0]]), alpha=1.0, cmap="gray")
    >>> rgb[:, :, 0].tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    import matplotlib

    if cmap is None:
        raise TypeError("cmap must be a colormap name such as 'jet', got None")
    img, hm = _image_and_heat(image, heat, alpha)
    span = img.max() - img.min()
    grey = (img - img.min()) / (span if span > 0 else 1.0)
    m = float(np.max(np.abs(hm))) or 1.0
    lo, hi = (-m, m) if signed else (min(0.0, float(hm.min())), m)
    colour = matplotlib.colormaps["RdBu_r" if signed else cmap]((hm - lo) / (hi - lo))[..., :3]
    return (1 - alpha) * grey[..., None] + alpha * colour


@checked
def plot_accuracy_vs_epsilon(epsilons, accuracies, *, ax=None, label=None, chance=None):
    """FGSM: test accuracy against the attack size ε.

    Returns
    -------
    matplotlib.axes.Axes
        ``lines[0]`` holds (ε, accuracy).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_accuracy_vs_epsilon([0, .1, .2], [.98, .6, .1], ax=Figure().add_subplot(), chance=0.1)
    >>> ax.lines[0].get_ydata().tolist(), ax.get_xlabel()
    ([0.98, 0.6, 0.1], 'ε (change per pixel)')
    """
    eps = _np(epsilons, "epsilons", ndim=1)
    acc = _np(accuracies, "accuracies", ndim=1)
    if eps.shape != acc.shape:
        raise ValueError(f"epsilons and accuracies must have the same length, got {eps.size} and {acc.size}")
    ax = get_ax(ax, figsize=(5, 3))
    ax.plot(eps, acc, "o-", color=HIGHLIGHT, label=label)
    if chance is not None:
        ax.axhline(chance, color="gray", linestyle=":", label="chance")
    ax.set_xlabel("ε (change per pixel)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if label or chance is not None:
        ax.legend(fontsize=8)
    return ax


@checked
def show_boxes(image, boxes, *, labels=None, colors=None, linestyles=None, ax=None, title=None):
    """An image with bounding boxes (x, y, h, w): centre column, centre row, height, width,
    all as fractions of the image size (cnnlab.nn.localization's convention).

    Returns
    -------
    matplotlib.axes.Axes
        One ``Rectangle`` patch per box in ``ax.patches``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = show_boxes(np.zeros((40, 40)), [[0.5, 0.5, 0.5, 0.25]], labels=["3"], ax=Figure().add_subplot())
    >>> p = ax.patches[0]; p.get_xy(), p.get_width(), p.get_height()
    ((14.5, 9.5), 10.0, 20.0)
    """
    from matplotlib.patches import Rectangle

    img = _np(image, "image", ndim=(2, 3))
    img = img[0] if img.ndim == 3 and img.shape[0] == 1 else img
    if img.ndim != 2:
        raise ValueError(f"image must be (H, W) or (1, H, W), got shape {img.shape}")
    b = _np(boxes, "boxes", ndim=(1, 2), allow_empty=True)
    if b.size % 4 or b.ndim == 2 and b.size and b.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4) rows of (x, y, h, w), got shape {b.shape}")
    b = b.reshape(-1, 4)
    n = len(b)
    for name, seq in (("labels", labels), ("colors", colors), ("linestyles", linestyles)):
        if seq is not None and len(seq) != n:
            raise ValueError(f"{name} must have one entry per box (boxes has {n}), got {len(seq)}")
    H, W = img.shape
    ax = get_ax(ax, figsize=(3, 3))
    ax.imshow(img, cmap="gray", interpolation="nearest", vmin=0, vmax=max(1.0, float(img.max())))
    for k, (x, y, h, w) in enumerate(b):
        color = colors[k] if colors is not None else OUTPUT
        # pixel centres sit at integer coordinates in imshow: edge of pixel 0 is −0.5
        ax.add_patch(Rectangle((float((x - w / 2) * W - 0.5), float((y - h / 2) * H - 0.5)),
                               float(w * W), float(h * H), fill=False,
                               edgecolor=color, linewidth=1.5,
                               linestyle=linestyles[k] if linestyles is not None else "-"))
        if labels is not None and labels[k] is not None:
            ax.text((x - w / 2) * W - 0.5, (y - h / 2) * H - 1, str(labels[k]), color=color, fontsize=8,
                    va="bottom", ha="left")
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
