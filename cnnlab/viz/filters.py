"""A bank of filters drawn as small tiles, optionally each above its best Gabor fit."""
from __future__ import annotations

import numpy as np

from .._validate import _check_int
from ._style import MAX_WIDTH_IN, MIN_TEXT_PT, get_ax
from .explain import _tiles, image_grid

__all__ = ["plot_filter_bank"]


def plot_filter_bank(filters, *, fits=None, ncols=8, labels=None, ax=None, title=None, fontsize=MIN_TEXT_PT):
    """Draw a bank of small filters (red +, blue −), each scaled to its own largest |weight|.

    Parameters
    ----------
    filters : array (F, k, k) or (F, 1, k, k)
        E.g. :func:`cnnlab.natural.learn_filters` or a CNN's first-layer weights.
    fits : sequence of GaborFit or array (F, k, k), optional
        A second filter per tile (e.g. :func:`cnnlab.gabor_fit.fit_gabors`): each row of
        filters is then followed by the row of their fits, and, unless ``labels`` is
        given, each filter is labelled with the correlation of its fit.
    ncols : int
        Filters per row.
    labels : sequence of str, optional
        One caption per filter, in its top-left corner.

    Returns
    -------
    matplotlib.axes.Axes
        Its first image is the mosaic: ``R·(k + 1) − 1`` by ``ncols·(k + 1) − 1`` pixels
        with R = ceil(F / ncols) rows of filters (twice as many with ``fits``), NaN
        between tiles.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> bank = np.random.default_rng(0).normal(size=(10, 5, 5))
    >>> ax = plot_filter_bank(bank, fits=-bank, ncols=4, ax=Figure().add_subplot())
    >>> ax.images[0].get_array().shape        # 3 rows of filters + 3 rows of fits, 6×6 pitch
    (35, 23)
    >>> ax.texts[0].get_text()                # the correlation of filter 0 with its fit
    '-1.00'
    """
    try:
        f = _tiles(filters)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"filters: {exc}") from None
    n, h, w = f.shape
    ncols = min(_check_int(ncols, "ncols", minimum=1), n)
    if fits is not None:
        try:
            g = fits if isinstance(fits, np.ndarray) else [fit.kernel(h) if hasattr(fit, "kernel") else fit
                                                           for fit in fits]
            g = _tiles(np.asarray(g, dtype=float) if not isinstance(g, np.ndarray) else g)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"fits must be the fits (GaborFit) or filters of the same shape: {exc}") from None
        if g.shape != f.shape:
            raise ValueError(f"fits must give one {h}×{w} filter per filter ({n}), got shape {g.shape}")
        if labels is None:
            ff, gg = f.reshape(n, -1), g.reshape(n, -1)
            corr = (ff * gg).sum(1) / np.maximum(np.linalg.norm(ff, axis=1) * np.linalg.norm(gg, axis=1), 1e-300)
            labels = [f"{c:.2f}" for c in corr]
    if labels is not None:
        labels = [str(t) for t in labels]
        if len(labels) != n:
            raise ValueError(f"labels must have one entry per filter ({n}), got {len(labels)}")

    def signed(a):
        m = np.abs(a).max(axis=(1, 2), keepdims=True)
        return a / np.where(m > 0, m, 1.0)

    rows = -(-n // ncols)
    blank = np.full((h, w), np.nan)
    tiles, where = [], []                   # where: (tile row, column) of filter k
    for r in range(rows):
        chunk = list(range(r * ncols, min((r + 1) * ncols, n)))
        for source in ([f] if fits is None else [f, g]):
            if source is f:
                where += [(len(tiles) // ncols, c) for c in range(len(chunk))]
            tiles += [signed(source[k:k + 1])[0] for k in chunk] + [blank] * (ncols - len(chunk))
    grid = image_grid(np.array(tiles), ncols, normalize=None)

    import matplotlib

    ax = get_ax(ax, figsize=(min(1.1 * ncols, MAX_WIDTH_IN), 1.1 * len(tiles) // ncols + 0.4))
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    for text, (r, c) in zip(labels or [], where):
        ax.text(c * (w + 1) - 0.5, r * (h + 1) - 0.5, text, fontsize=fontsize, va="top", ha="left",
                bbox=dict(facecolor="white", alpha=0.7, pad=0.5, linewidth=0))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
