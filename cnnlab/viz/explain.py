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
              title=None, fontsize=9):
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


def _heat_limits(hm, signed, vmax):
    """(low, high) of a heat map's colour scale: 0 (or −m) … m, m = vmax or max |heat|."""
    if vmax is None:
        m = float(np.max(np.abs(hm))) or 1.0
    else:
        m = float(vmax)
        if not np.isfinite(m) or m <= 0:
            raise ValueError(f"vmax must be a positive finite number, got {vmax!r}")
    return (-m, m) if signed else (min(0.0, float(hm.min())) if vmax is None else 0.0, m)


@checked
def show_heatmap(image, heat, *, ax=None, alpha=0.5, cmap="jet", title=None, signed=False, colorbar=True,
                 vmax=None):
    """A grey-level image with a saliency or Grad-CAM map laid over it.

    Parameters
    ----------
    image : array (H, W) (or (1, H, W))
    heat : array (H, W), same size (upsample Grad-CAM first)
    alpha : float
        Opacity of the heat map.
    signed : bool
        Centre the colour scale at 0 ('RdBu_r') instead of 0 … max.
    colorbar : bool
        Draw a colour bar beside the map, so its numbers can be read (default).
    vmax : float, optional
        Top of the colour scale (bottom: 0, or −vmax with ``signed``). Pass the same
        value to every map of a figure to put them on **one shared scale**; by default
        each map is scaled to its own max |heat|, which makes a weak map look as hot as
        a strong one.

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
    >>> show_heatmap(np.zeros((4, 4)), np.eye(4) / 4, ax=Figure().add_subplot(), vmax=2.0).images[1].get_clim()
    (0.0, 2.0)
    """
    img, hm = _image_and_heat(image, heat, alpha)
    ax = get_ax(ax, figsize=(3, 3))
    ax.imshow(img, cmap="gray", interpolation="nearest")
    lim = _heat_limits(hm, signed, vmax)
    im = ax.imshow(hm, cmap="RdBu_r" if signed else cmap, alpha=alpha, vmin=lim[0], vmax=lim[1],
                   interpolation="bilinear")
    if colorbar:
        bar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
        bar.ax.tick_params(labelsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


@checked
def blend_heatmap(image, heat, *, alpha=0.5, cmap="jet", signed=False, vmax=None):
    """The picture :func:`show_heatmap` draws, as one RGB array (for fast mosaics).

    The image is scaled to [0, 1] by its min and max and shown in grey; the heat map is
    coloured with ``cmap`` on [min(0, heat.min()), max|heat|] (or [−m, m] with
    ``signed``, on 'RdBu_r') and laid over it with opacity ``alpha``. ``vmax`` fixes the top
    of the scale (see :func:`show_heatmap`), so several maps can share one scale.

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
    lo, hi = _heat_limits(hm, signed, vmax)
    colour = matplotlib.colormaps["RdBu_r" if signed else cmap](np.clip((hm - lo) / (hi - lo), 0, 1))[..., :3]
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
        ax.legend(fontsize=9)
    return ax


#: font size of box labels, in points (at least 9 pt, readable at 100 % zoom)
LABEL_FONTSIZE = 9


def _place_box_labels(ax, boxes, labels, colors, H, W):
    """Write each box's label next to it where it overlaps no label placed before.

    Candidates, in order: above the box's top-left corner, just inside it, below the box,
    then further up or down in steps of one line. The label's size is estimated from
    the font size and the axes' size in pixels (good enough to keep labels apart).
    """
    fig = ax.figure
    width_px, height_px = (ax.get_position().width * fig.get_figwidth() * fig.dpi,
                           ax.get_position().height * fig.get_figheight() * fig.dpi)
    per_pt = fig.dpi / 72.0
    line = LABEL_FONTSIZE * 1.25 * per_pt * H / max(height_px, 1.0)      # one line, in data units
    char = LABEL_FONTSIZE * 0.6 * per_pt * W / max(width_px, 1.0)        # one character, in data units
    placed = []

    def free(x0, y0, x1, y1):
        return all(x1 <= a0 or x0 >= a1 or y1 <= b0 or y0 >= b1 for a0, b0, a1, b1 in placed)

    for k, (x, y, h, w) in enumerate(boxes):
        if labels[k] is None:
            continue
        text = str(labels[k])
        left, top, bottom = (x - w / 2) * W - 0.5, (y - h / 2) * H - 0.5, (y + h / 2) * H - 0.5
        width = char * len(text)
        left = min(max(left, -0.5), W - 0.5 - width)
        tops = [top - line, top, bottom]                           # top edge of the label
        tops += [top - line * (j + 2) for j in range(4)] + [bottom + line * (j + 1) for j in range(4)]
        tops = [t for t in tops if -0.5 <= t <= H - 0.5 - line] or [top - line]
        t = next((t for t in tops if free(left, t, left + width, t + line)), tops[0])
        placed.append((left, t, left + width, t + line))
        color = colors[k] if colors is not None else OUTPUT
        ax.text(left, t, text, color=color, fontsize=LABEL_FONTSIZE, va="top", ha="left",
                bbox=dict(facecolor="black", alpha=0.8, edgecolor="none", pad=0.5))  # box edges behind stay faint


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
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    if labels is not None:
        _place_box_labels(ax, b, labels, colors, H, W)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
