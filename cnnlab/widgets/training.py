"""Lesson 08's explorer: choose a model and the training settings, watch the validation curve.

:func:`train_setting` trains one setting with :func:`cnnlab.nn.fit` on the shipped
MNIST subset (seeded: the same setting always gives the same curve) and
:class:`TrainingExplorer` keeps every run in an in-memory cache, so going back to a
setting seen before only redraws. Every curve already computed stays on the plot,
which turns the explorer into a comparison of the settings tried so far.

torch enters only when an explorer is built (through :mod:`cnnlab.nn`), so
``import cnnlab.widgets`` stays torch-free.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import ipywidgets as widgets

from ._base import Explorer
from .inspect import _OneThread
from ._controls import STYLE, dropdown, toggles

__all__ = ["TrainingExplorer", "TrainingResult", "Setting", "train_setting", "LEARNING_RATES", "BATCH_SIZES"]

LEARNING_RATES = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
BATCH_SIZES = (50, 100, 250, 500, 1000)
DROPOUTS = (0.0, 0.1, 0.25, 0.5)
OPTIMIZERS = ("adam", "sgd", "rmsprop")
_OPT_NAMES = {"adam": "Adam", "sgd": "SGD (momentum 0.9)", "rmsprop": "RMSprop"}


def _options(values, value, fmt):
    """Dropdown options: the usual ``values`` plus ``value`` if it is not among them, sorted."""
    return [(fmt(v), v) for v in sorted(set(values) | {value})]


@dataclass(frozen=True)
class Setting:
    """One point of the explorer's settings space (hashable: the cache key).

    ``dropout_where`` is normalised to ``"dense"`` when ``dropout`` is 0 (it changes
    nothing then), so both spellings hit the same cache entry.
    """

    model: str = "model2"
    batch_norm: bool = False
    dropout: float = 0.0
    dropout_where: str = "dense"
    optimizer: str = "adam"
    lr: float = 0.005
    batch_size: int = 1000

    def __post_init__(self):
        from .._validate import _check_mode

        _check_mode(self.model, ("model1", "model2"), "model")
        _check_mode(self.optimizer, OPTIMIZERS, "optimizer")
        _check_mode(self.dropout_where, ("dense", "conv"), "dropout_where")
        if self.model == "model1" and self.dropout and self.dropout_where == "conv":
            raise ValueError("dropout_where='conv' needs convolutional layers: model1 has only dense ones; "
                             "choose model2 or dropout in the dense layers")
        if not self.dropout:
            object.__setattr__(self, "dropout_where", "dense")

    @property
    def label(self) -> str:
        """A short name for the legend, e.g. ``'model2 +BN drop 0.5 (conv) · adam 0.005 · b1000'``."""
        parts = [self.model]
        if self.batch_norm:
            parts.append("+BN")
        if self.dropout:
            parts.append(f"drop {self.dropout:g} ({self.dropout_where})")
        return f"{' '.join(parts)} · {self.optimizer} {self.lr:g} · b{self.batch_size}"

    def build(self):
        """A fresh model for this setting (call :func:`cnnlab.nn.set_seed` first)."""
        from ..nn import model1, model2

        if self.model == "model1":
            return model1(batch_norm=self.batch_norm, dropout=self.dropout)
        return model2(batch_norm=self.batch_norm, dropout=self.dropout, dropout_where=self.dropout_where)


def train_setting(setting, train, val, *, epochs=10, seed=0):
    """Train one :class:`Setting` from seeded initial weights; return its per-epoch history.

    Parameters
    ----------
    setting : Setting
    train, val : (images, labels)
        As for :func:`cnnlab.nn.fit` (uint8 MNIST digits are scaled to [0, 1]).
    epochs, seed : int
        ``seed`` fixes the initial weights, the batch order and the dropout masks: the same
        arguments give the same curve.

    Returns
    -------
    dict
        ``"epoch"``, ``"loss"``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"``,
        ``"time_s"`` (lists of length ``epochs``) and ``"params"`` (trainable parameters).

    Examples
    --------
    >>> import numpy as np
    >>> x, y = np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10
    >>> h = train_setting(Setting(batch_size=10), (x, y), (x, y), epochs=2)
    >>> len(h["val_accuracy"]), h["params"]
    (2, 5386)
    """
    from ..nn import count_parameters, fit, set_seed

    if not isinstance(setting, Setting):
        raise TypeError(f"setting must be a cnnlab.widgets.training.Setting, got {type(setting).__name__}")
    set_seed(seed)
    model = setting.build()
    h = fit(model, train, val, epochs=epochs, lr=setting.lr, batch_size=setting.batch_size,
            optimizer=setting.optimizer, seed=seed, progress=False, device="cpu")
    out = h.as_dict()
    out["params"] = count_parameters(model, trainable_only=True)
    return out


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """What :class:`TrainingExplorer` shows (``explorer.result``)."""

    setting: Setting
    history: dict          #: per-epoch lists (see :func:`train_setting`)
    cached: bool           #: True when the curve came from the cache
    train_s: float         #: seconds the training took (0 when cached)
    others: dict           #: up to ``keep`` earlier settings: {label: history}

    @property
    def final_val_accuracy(self) -> float:
        return self.history["val_accuracy"][-1]

    @property
    def best_val_accuracy(self) -> float:
        return max(self.history["val_accuracy"])


class TrainingExplorer(Explorer):
    """Train model1 / model2 variants on the shipped MNIST subset and compare validation curves.

    Parameters
    ----------
    data : cnnlab.nn.MnistSplit, optional
        Defaults to ``cnnlab.nn.load_mnist_split(seed=0)`` (4,000 training and 1,000
        validation digits, shipped with cnnlab: no download).
    epochs : int
        Epochs per run (6: a few seconds for model2 on one CPU core; bench/widgets.py measures it).
    seed : int
        Initial weights, batch order and dropout masks of every run.
    keep : int
        How many earlier settings stay on the plot.
    cache : dict, optional
        ``{(Setting, epochs, seed): history}`` to share between explorers (a new dict by default).
    **setting
        The initial :class:`Setting` (``model``, ``batch_norm``, ``dropout``,
        ``dropout_where``, ``optimizer``, ``lr``, ``batch_size``), trained at construction.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnlab.nn import MnistSplit
    >>> x, y = np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10
    >>> ex = TrainingExplorer(MnistSplit((x, y), (x, y), "subset", 0), epochs=2, batch_size=10)
    >>> ex.result.setting.model, len(ex.result.history["val_accuracy"]), ex.result.cached
    ('model2', 2, False)
    >>> ex.batch_norm.value = True
    >>> ex.result.history["params"], list(ex.result.others)
    (5434, ['model2 · adam 0.005 · b10'])
    >>> ex.batch_norm.value = False; ex.result.cached
    True
    """

    height = "470px"
    figsize = (9.5, 3.2)
    css_class = "cnnlab-training-explorer"

    def __init__(self, data=None, *, epochs=6, seed=0, keep=5, cache=None, **setting):
        super().__init__()
        from .._validate import _check_bool, _check_int, _check_real

        if data is None:
            from ..nn import load_mnist_split

            data = load_mnist_split(seed=0)
        if not (hasattr(data, "train") and hasattr(data, "val")):
            raise TypeError(f"data must have .train and .val (images, labels) pairs, e.g. "
                            f"cnnlab.nn.load_mnist_split(), got {type(data).__name__}")
        self.data = data
        self.epochs = _check_int(epochs, "epochs", minimum=1)
        self.seed = _check_int(seed, "seed", minimum=0)
        self.keep = _check_int(keep, "keep", minimum=0)
        if cache is not None and not isinstance(cache, dict):
            raise TypeError(f"cache must be a dict or None, got {type(cache).__name__}")
        self.cache = {} if cache is None else cache
        self.seen: list[Setting] = []          # settings in the order they were shown
        s = Setting(**setting)
        _check_real(s.lr, "lr", positive=True)
        _check_int(s.batch_size, "batch_size", minimum=1)
        from ..nn.models import _check_dropout

        _check_bool(s.batch_norm, "batch_norm")
        _check_dropout(s.dropout)
        self._finish(dict(
            model=toggles([("model1 (MLP)", "model1"), ("model2 (CNN)", "model2")], s.model, "model"),
            batch_norm=widgets.Checkbox(value=s.batch_norm, description="batch norm", style=STYLE, indent=False),
            dropout=dropdown(_options(DROPOUTS, s.dropout, lambda p: f"p = {p:g}" if p else "none"), s.dropout,
                             "dropout"),
            dropout_where=toggles([("dense layers", "dense"), ("conv layers", "conv")], s.dropout_where,
                                  "dropout in"),
            optimizer=dropdown([(_OPT_NAMES[o], o) for o in OPTIMIZERS], s.optimizer, "optimiser"),
            lr=dropdown(_options(LEARNING_RATES, s.lr, "{:g}".format), s.lr, "learning rate"),
            batch_size=dropdown(_options(BATCH_SIZES, s.batch_size, "{:,}".format), s.batch_size, "batch size")))

    def compute(self, **params):
        setting = Setting(**params)
        key = self._key(setting)
        cached = key in self.cache
        start = time.perf_counter()
        if not cached:
            with _OneThread():       # small batches of small models: one thread beats several on a busy machine
                self.cache[key] = train_setting(setting, self.data.train, self.data.val, epochs=self.epochs,
                                                seed=self.seed)
        train_s = 0.0 if cached else time.perf_counter() - start
        if setting in self.seen:
            self.seen.remove(setting)
        self.seen.append(setting)
        earlier = [s for s in self.seen[:-1] if self._key(s) in self.cache][-self.keep:] if self.keep else []
        others = {s.label: self.cache[self._key(s)] for s in earlier}
        return TrainingResult(setting, self.cache[key], cached, train_s, others)

    def _key(self, setting):
        return setting, self.epochs, self.seed

    def draw(self, r, figure):
        """The frame (axes, ticks, titles); the curves are painted by :meth:`encode`."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        if not isinstance(figure.canvas, FigureCanvasAgg):
            FigureCanvasAgg(figure)           # a canvas that keeps its pixels: the frame is blitted
        self._frames = {}
        acc = figure.add_axes((0.07, 0.14, 0.5, 0.72))
        loss = figure.add_axes((0.66, 0.14, 0.32, 0.72))
        for ax in (acc, loss):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=9)
            ax.set_xlabel("epoch", fontsize=9)
        acc.set_title("validation accuracy (bold: this setting)", fontsize=9)
        loss.set_title("loss (cross-entropy)", fontsize=9)
        # the loss panel always shows this setting's two curves: its legend belongs to the frame
        loss.legend(handles=[Line2D([], [], color="C0", label="training"),
                             Line2D([], [], color="C0", ls="--", label="validation")],
                    fontsize=9, loc="upper right")
        self._curves(r, acc, loss)

    def refresh(self, r, figure):
        """Same axes, new curves: the frame is not redrawn at all (see :meth:`encode`)."""
        acc, loss = figure.axes
        for artist in [*acc.lines, *loss.lines, acc.get_legend()]:
            artist.remove()
        self._curves(r, acc, loss)
        return True

    @staticmethod
    def _limits(r):
        """Axis limits rounded to steps (0.1 in accuracy, 0.25 in loss): settings with similar
        curves share one frame, and the axes do not twitch from one setting to the next."""
        import math

        h = r.history
        low = min(min(o["val_accuracy"]) for o in [h, *r.others.values()])
        acc_low = min(0.5, math.floor((low - 0.02) * 10) / 10)
        loss_high = math.ceil(1.05 * max(max(h["loss"]), max(h["val_loss"])) * 4) / 4
        return len(h["epoch"]), max(acc_low, 0.0), max(loss_high, 0.25)

    def _curves(self, r, acc, loss):
        epochs, acc_low, loss_high = self._limits(r)
        for ax, (low, high) in ((acc, (acc_low, 1.0)), (loss, (0.0, loss_high))):
            ax.set_xlim(0.5, epochs + 0.5)
            ax.set_ylim(low, high)
        for k, (label, h) in enumerate(r.others.items()):
            acc.plot(h["epoch"], h["val_accuracy"], color=f"C{k + 1}", lw=1, alpha=0.7, label=label, animated=True)
        h = r.history
        acc.plot(h["epoch"], h["val_accuracy"], color="C0", lw=2.5, marker="o", ms=3, label=r.setting.label,
                 animated=True)
        acc.legend(fontsize=9, loc="lower right").set_animated(True)
        loss.plot(h["epoch"], h["loss"], color="C0", label="training", animated=True)
        loss.plot(h["epoch"], h["val_loss"], color="C0", ls="--", label="validation", animated=True)

    def encode(self):
        """Blit: the frame for these axis limits is rendered once and kept (a few, by limits);
        an update paints only the curves and legends onto it, then encodes the pixels."""
        import io

        from PIL import Image

        canvas = self.figure.canvas
        key = tuple(ax.get_ylim() + ax.get_xlim() for ax in self.figure.axes)
        frame = self._frames.get(key)
        if frame is None:
            canvas.draw()                      # everything but the animated artists
            frame = self._frames[key] = canvas.copy_from_bbox(self.figure.bbox)
            if len(self._frames) > 16:
                self._frames.pop(next(iter(self._frames)))
        else:
            canvas.restore_region(frame)
        for ax in self.figure.axes:
            for artist in [*ax.lines, ax.get_legend()]:
                if artist.get_animated():
                    ax.draw_artist(artist)
        buf = io.BytesIO()
        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buf, format="png", compress_level=1)
        return buf.getvalue()

    def header(self, r):
        h = r.history
        how = "from the cache" if r.cached else f"trained in {r.train_s:.1f} s"
        return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
                f'<span class="cnnlab-readout cnnlab-val-accuracy" data-final="{r.final_val_accuracy:.4f}" '
                f'data-best="{r.best_val_accuracy:.4f}" data-cached="{str(r.cached).lower()}">'
                f'{r.setting.label}: validation accuracy {r.final_val_accuracy:.1%} after {len(h["epoch"])} '
                f'epochs (best {r.best_val_accuracy:.1%}) · {h["params"]:,} trainable parameters · {how}'
                '</span></div>')
