"""Plots for training runs: learning curves, confusion matrices, misclassified digits.

matplotlib and numpy only: a history is anything with per-epoch lists as attributes
(``cnnlab.nn.History``) or a dict of such lists, so this module never imports torch.
"""
from __future__ import annotations

import numpy as np

from .._validate import _as_array, _check_int, _check_mode
from ._style import checked, get_ax, text_color
from .explain import show_grid

__all__ = ["plot_confusion_matrix", "plot_history", "plot_misclassified"]

_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def _series(history, metric):
    values = history.get(metric) if isinstance(history, dict) else getattr(history, metric, None)
    if values is None:
        raise TypeError(f"history must be a cnnlab.nn.History or a dict of per-epoch lists, "
                        f"got {type(history).__name__} without {metric!r}")
    values = [float(v) for v in values]
    epochs = history.get("epoch") if isinstance(history, dict) else getattr(history, "epoch", None)
    epochs = list(epochs) if epochs else list(range(1, len(values) + 1))
    return epochs[:len(values)], values


@checked
def plot_history(history, metric="val_accuracy", *, ax=None, title=None, target=None):
    """Learning curves: one metric per epoch for one run or several runs side by side.

    Parameters
    ----------
    history : History, dict of lists, or dict ``{label: History}``
        A run (``.epoch``, ``.loss``, ``.accuracy``, ``.val_loss``, ``.val_accuracy``), or
        several runs by name (e.g. ``{"model1": h1, "model2": h2}``).
    metric : {"val_accuracy", "accuracy", "val_loss", "loss"} or a tuple of them
        Several metrics draw several lines per run (training solid, validation dashed).
    target : float, optional
        Draw a horizontal reference line (e.g. 0.95 accuracy).

    Returns
    -------
    matplotlib.axes.Axes
        One line per (run, metric), labelled ``"<run> <metric>"``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> runs = {"model1": {"val_accuracy": [0.7, 0.8]}, "model2": {"val_accuracy": [0.6, 0.9]}}
    >>> ax = plot_history(runs, ax=Figure().add_subplot())
    >>> [line.get_label() for line in ax.lines], ax.lines[1].get_ydata().tolist()
    (['model1 val_accuracy', 'model2 val_accuracy'], [0.6, 0.9])
    """
    if not isinstance(metric, (str, tuple, list)):
        raise TypeError(f"metric must be one of {', '.join(map(repr, _METRICS))} or a tuple of them, got {metric!r}")
    metrics = (metric,) if isinstance(metric, str) else tuple(metric)
    if not metrics:
        raise ValueError("metric must name at least one of " + ", ".join(map(repr, _METRICS)))
    for m in metrics:
        _check_mode(m, _METRICS, "metric")
    is_run = hasattr(history, "epoch") or (isinstance(history, dict) and any(k in history for k in _METRICS))
    runs = {"": history} if is_run else dict(history) if isinstance(history, dict) else None
    if not runs:
        raise TypeError(f"history must be a History, a dict of per-epoch lists or a dict of runs, "
                        f"got {type(history).__name__}")
    ax = get_ax(ax, figsize=(6, 3.5))
    for k, (label, run) in enumerate(runs.items()):
        colour = f"C{k}"
        for m in metrics:
            epochs, values = _series(run, m)
            name = f"{label} {m}".strip()
            ax.plot(epochs, values, color=colour, linestyle="--" if m.startswith("val_") and len(metrics) > 1
                    else "-", marker="o", markersize=3, label=name)
    if target is not None:
        ax.axhline(float(target), color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel(" / ".join(metrics))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title)
    return ax


@checked
def plot_confusion_matrix(cm, *, ax=None, normalize=False, class_names=None, title=None, annotate=True):
    """A confusion matrix as a heat map: rows are true classes, columns predictions.

    Parameters
    ----------
    cm : array_like of int, shape (K, K)
        ``cm[i, j]`` = examples of class ``i`` predicted as ``j`` (as from
        ``cnnlab.nn.confusion_matrix``).
    normalize : bool
        Divide each row by its total (the diagonal then holds per-class recall).
    class_names : sequence of str, optional
        Tick labels; default 0..K−1.
    annotate : bool
        Write the count (or fraction) in every non-zero cell.

    Returns
    -------
    matplotlib.axes.Axes
        Its first image holds the (normalised) matrix.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_confusion_matrix([[5, 1], [0, 4]], ax=Figure().add_subplot())
    >>> ax.images[0].get_array().tolist(), [t.get_text() for t in ax.texts]
    ([[5.0, 1.0], [0.0, 4.0]], ['5', '1', '4'])
    """
    m = _as_array(cm, "cm", ndim=2).astype(np.float64)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be square, got shape {m.shape}")
    if np.any(m < 0):
        raise ValueError("cm must hold non-negative counts")
    k = m.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(k)]
    class_names = [str(c) for c in class_names]
    if len(class_names) != k:
        raise ValueError(f"class_names must have {k} entries, got {len(class_names)}")
    if normalize:
        totals = m.sum(axis=1, keepdims=True)
        m = m / np.where(totals > 0, totals, 1.0)
    ax = get_ax(ax, figsize=(5, 4.5))
    image = ax.imshow(m, cmap="Blues", vmin=0, vmax=m.max() if m.max() > 0 else 1)
    if annotate:
        cmap, norm = image.get_cmap(), image.norm
        for i in range(k):
            for j in range(k):
                if m[i, j]:
                    text = f"{m[i, j]:.2f}" if normalize else f"{int(round(m[i, j]))}"
                    ax.text(j, i, text, ha="center", va="center", fontsize=9 if k > 6 else 9,
                            color=text_color(cmap(norm(m[i, j]))))
    ax.set_xticks(range(k), class_names)
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    total = np.asarray(_as_array(cm, "cm", ndim=2), dtype=np.float64)
    accuracy = np.trace(total) / total.sum() if total.sum() else float("nan")
    ax.set_title(title if title is not None else f"accuracy {accuracy:.1%}")
    return ax


@checked
def plot_misclassified(images, y_true, y_pred, *, n=16, ncols=8, ax=None, proba=None, title=None):
    """The first ``n`` images whose prediction is wrong, captioned ``true→predicted``.

    Parameters
    ----------
    images : array (N, 28, 28) or (N, 1, 28, 28)
    y_true, y_pred : array_like of int, shape (N,)
    n : int
        At most this many tiles.
    proba : array (N, K), optional
        Class probabilities; the caption then adds the confidence of the wrong guess.

    Returns
    -------
    matplotlib.axes.Axes
        Captions in ``ax.texts``; ``ax.misclassified`` holds the indices shown.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> imgs = np.zeros((4, 28, 28)); imgs[:, 10:18, 10:18] = 1
    >>> ax = plot_misclassified(imgs, [1, 2, 3, 4], [1, 7, 3, 9], ax=Figure().add_subplot())
    >>> [t.get_text() for t in ax.texts], ax.misclassified.tolist()
    (['2→7', '4→9'], [1, 3])
    """
    imgs = _as_array(images, "images", ndim=(3, 4))
    t = _as_array(y_true, "y_true", ndim=1)
    p = _as_array(y_pred, "y_pred", ndim=1)
    if not (len(imgs) == len(t) == len(p)):
        raise ValueError(f"images, y_true and y_pred must have the same length, got {len(imgs)}, {len(t)}, {len(p)}")
    n = _check_int(n, "n", minimum=1)
    wrong = np.flatnonzero(t != p)[:n]
    ax = get_ax(ax, figsize=(8, 2.5))
    if wrong.size == 0:
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.misclassified = wrong
        return ax
    labels = [f"{t[i]}→{p[i]}" for i in wrong]
    if proba is not None:
        pr = _as_array(proba, "proba", ndim=2)
        if pr.shape[0] != len(t) or pr.shape[1] <= int(p.max()):
            raise ValueError(f"proba must have shape (N, classes) = ({len(t)}, > {int(p.max())}), got {pr.shape}")
        labels = [f"{lab} {pr[i, p[i]]:.0%}" for lab, i in zip(labels, wrong)]
    show_grid(imgs[wrong], ncols=min(_check_int(ncols, "ncols", minimum=1), len(wrong)), labels=labels,
              normalize="all", ax=ax, title=title or f"{int((t != p).sum())} misclassified of {len(t)}",
              fontsize=9)
    ax.misclassified = wrong
    return ax
