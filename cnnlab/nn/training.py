"""Training and evaluation: ``fit`` with a progress bar and per-epoch history.

The loop is the one you would write by hand (shuffle, forward, loss, backward, step),
with the bookkeeping a class needs: a notebook-aware ``tqdm`` bar, training and
validation loss / accuracy per epoch, seeding, and the device chosen for you (CUDA
when present). Arrays that fit in memory (MNIST does) are moved to the device once and
batched by indexing, which is what makes ``fit`` as fast as a bare loop
(``bench/training.py`` measures it).

It is the package's only training loop: ``loss`` and ``metric`` make it serve
classification (cross-entropy, accuracy = argmax == label) and, in
:func:`cnnlab.nn.fit_localisation`, the Unit 5 notes' localisation targets.
"""
from __future__ import annotations

import dataclasses
import random
import time
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .._validate import (
    _as_array, _check_alloc, _check_bool, _check_callable, _check_int, _check_mode, _check_real, _check_seed,
    _check_size, _check_trials,
)
from ._common import _check_model, _device, _dtype, _input_errors

__all__ = [
    "Evaluation",
    "History",
    "confusion_matrix",
    "default_device",
    "evaluate",
    "fit",
    "predict",
    "predict_proba",
    "set_seed",
    "to_tensors",
]


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (CPU and CUDA).

    Call it before building a model to make its initial weights reproducible.

    Examples
    --------
    >>> set_seed(0); a = torch.rand(2)
    >>> set_seed(0); bool((a == torch.rand(2)).all())
    True
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def default_device() -> torch.device:
    """``cuda`` when a CUDA GPU is available, else ``cpu``.

    Examples
    --------
    >>> default_device().type in ("cpu", "cuda")
    True
    """
    return _device("auto")


def to_tensors(images, labels=None):
    """Images (and labels) as model-ready tensors.

    Parameters
    ----------
    images : array_like or torch.Tensor, shape (N, H, W) or (N, C, H, W)
        uint8 pixels are scaled to [0, 1]; floating values are kept as they are.
    labels : array_like or torch.Tensor, shape (N,), optional

    Returns
    -------
    torch.Tensor or (torch.Tensor, torch.Tensor)
        float32 images of shape (N, C, H, W) (a channel axis of 1 is added to 3-D
        input), and int64 labels.

    Examples
    --------
    >>> x, y = to_tensors(np.full((2, 28, 28), 255, dtype=np.uint8), [3, 4])
    >>> tuple(x.shape), x.max().item(), y.dtype
    ((2, 1, 28, 28), 1.0, torch.int64)
    """
    x = images if isinstance(images, torch.Tensor) else torch.from_numpy(_as_array(images, "images"))
    if x.dtype == torch.uint8:
        x = x.to(torch.float32).div_(255.0)
    elif x.is_floating_point():
        x = x.to(torch.float32)
    else:
        raise TypeError(f"images must be uint8 (0..255) or floating point, got {x.dtype}")
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W) or (N, C, H, W), got {tuple(x.shape)}")
    if labels is None:
        return x
    y = labels if isinstance(labels, torch.Tensor) else torch.from_numpy(np.asarray(_as_array(labels, "labels")))
    if y.is_floating_point() or y.dtype == torch.bool or y.ndim != 1:
        raise TypeError(f"labels must be a 1-D array of ints, got {y.dtype} of shape {tuple(y.shape)}")
    if len(y) != len(x):
        raise ValueError(f"images and labels must have the same length, got {len(x)} and {len(y)}")
    return x, y.to(torch.int64)


def _as_targets(targets, n):
    """Targets of any shape with one row per image (a custom loss's business): integers as
    int64, floating values as float32 (NaN allowed: "don't care" entries)."""
    if isinstance(targets, torch.Tensor):
        y = targets.detach()
        if y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"targets must hold real numbers, got dtype {y.dtype}")
    else:
        y = torch.from_numpy(np.ascontiguousarray(_as_array(targets, "targets", allow_empty=True, finite=False)))
        if y.is_complex():
            raise TypeError(f"targets must hold real numbers, got dtype {y.dtype}")
    y = y.to(torch.float32) if y.is_floating_point() else y.to(torch.int64)
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"images and targets must have the same length, got {n} and "
                         f"{'a scalar' if y.ndim == 0 else len(y)}")
    return y


class _Batches:
    """Mini-batches from in-memory tensors (indexing, no DataLoader) or from a DataLoader.

    With ``labels`` (the built-in cross-entropy) a pair holds class labels (N,); without,
    the targets may have any shape with one row per image. In-memory images are cast to
    ``dtype`` (the model's floating dtype).
    """

    def __init__(self, data, batch_size, device, shuffle, generator, name, labels=True, dtype=torch.float32):
        self.loader = None
        if isinstance(data, torch.utils.data.DataLoader):
            self.loader = data
        elif isinstance(data, torch.utils.data.Dataset):
            self.loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                                                      generator=generator)
        elif isinstance(data, (tuple, list)) and len(data) == 2:
            try:
                x, y = to_tensors(*data) if labels else (to_tensors(data[0]), None)
                if y is None:
                    y = _as_targets(data[1], len(x))
            except (TypeError, ValueError) as exc:  # name the argument: train, val or data
                raise type(exc)(f"{name}: {exc}") from exc
            self.x, self.y = x.to(device=device, dtype=dtype), y.to(device)
        else:
            raise TypeError(f"{name} must be an (images, labels) pair, a torch Dataset or a DataLoader, "
                            f"got {type(data).__name__}")
        self.batch_size, self.device, self.shuffle, self.generator = batch_size, device, shuffle, generator

    def __len__(self):
        if self.loader is not None:
            return len(self.loader)
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        if self.loader is not None:
            for xb, yb in self.loader:
                yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
            return
        n = len(self.y)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                yield self.x[idx], self.y[idx]
        else:
            for start in range(0, n, self.batch_size):
                yield self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]


@dataclasses.dataclass
class History:
    """Per-epoch record of a :func:`fit` run (one entry per epoch in every list).

    Attributes
    ----------
    epoch : list of int
        1, 2, ...
    loss, accuracy : list of float
        Mean training loss and metric (accuracy unless ``fit`` was given another
        ``metric``) over the epoch's examples (as Keras reports them).
    val_loss, val_accuracy : list of float
        On the validation set after the epoch (empty without validation data).
    time_s : list of float
        Seconds since the start of training at the end of each epoch.
    params : dict
        The run's settings (epochs, lr, batch_size, optimizer, device, seed ...).
    """

    epoch: list = dataclasses.field(default_factory=list)
    loss: list = dataclasses.field(default_factory=list)
    accuracy: list = dataclasses.field(default_factory=list)
    val_loss: list = dataclasses.field(default_factory=list)
    val_accuracy: list = dataclasses.field(default_factory=list)
    time_s: list = dataclasses.field(default_factory=list)
    params: dict = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict:
        """The per-epoch lists as a dict (e.g. for ``pandas.DataFrame``)."""
        return {k: list(getattr(self, k)) for k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                                     "time_s")}

    @property
    def best_val_accuracy(self) -> float:
        """The highest validation accuracy reached (NaN without validation data)."""
        return max(self.val_accuracy) if self.val_accuracy else float("nan")


class Evaluation(NamedTuple):
    """Mean loss and accuracy (or other metric) of a model on a data set."""

    loss: float
    accuracy: float


def _choice(value, name, choices, what):
    """A callable as it is; a string from ``choices``; a TypeError for anything else."""
    if callable(value):
        return value
    if not isinstance(value, str):
        names = ", ".join(repr(c) for c in choices)
        raise TypeError(f"{name} must be one of {names} or {what}, got {value!r}")
    return _check_mode(value, choices, name)


def _loss_fn(loss):
    if callable(_choice(loss, "loss", ("cross_entropy",), "a callable (scores, targets) -> scalar tensor")):
        return loss
    return nn.CrossEntropyLoss()


def _accuracy(scores, labels):
    """The default metric: ``argmax(scores) == label`` for each example, bool (N,)."""
    if scores.ndim != 2 or labels.ndim != 1 or labels.is_floating_point():
        raise ValueError(f"metric 'accuracy' needs (N, classes) scores and one class label per example, got "
                         f"scores of shape {tuple(scores.shape)} and targets of shape {tuple(labels.shape)}; "
                         "pass metric=a callable (scores, targets) -> (N,) values")
    return scores.argmax(1) == labels


def _metric_fn(metric):
    fn = _choice(metric, "metric", ("accuracy",), "a callable (scores, targets) -> (N,) values")
    return _accuracy if isinstance(fn, str) else fn


def _metric_sum(metric_fn, scores, targets, dtype=torch.float64):
    """Sum over the batch of ``metric_fn``'s per-example values, as a 0-d tensor of ``dtype``."""
    values = metric_fn(scores, targets)
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"metric must return a tensor of per-example values, got {type(values).__name__}")
    if tuple(values.shape) != (len(targets),):
        raise ValueError(f"metric must return one value per example, shape ({len(targets)},), "
                         f"got shape {tuple(values.shape)}")
    return values.detach().sum(dtype=dtype)


def _sum_dtype(device) -> torch.dtype:
    """Sums of losses and metrics are kept in float64 (exact counts, no drift), except on
    Apple's MPS, which has no float64."""
    return torch.float32 if device.type == "mps" else torch.float64


def _optimizer(optimizer, model, lr, weight_decay):
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if callable(optimizer):
        return optimizer(model.parameters())
    kind = _choice(optimizer, "optimizer", ("adam", "sgd", "rmsprop"),
                   "a torch.optim.Optimizer or a callable params -> optimizer")
    if kind == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    return torch.optim.RMSprop(model.parameters(), lr=lr, weight_decay=weight_decay)


@_input_errors("train (or val)")
def fit(model, train, val=None, *, epochs=10, lr=0.005, batch_size=1000, optimizer="adam",
        loss="cross_entropy", metric="accuracy", weight_decay=0.0, device=None, seed=0, shuffle=True,
        progress=True, desc=None, channels_last=None, on_epoch_end=None) -> History:
    """Train ``model`` on ``train``, evaluating on ``val`` after every epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Outputs class scores (logits), shape (N, classes), for the default loss and
        metric. Moved to ``device`` and left there, in eval mode, when training ends.
    train, val : (images, targets), torch Dataset or DataLoader
        Images as accepted by :func:`to_tensors` (uint8 MNIST is scaled to [0, 1]);
        targets are class labels (N,) for the default loss, or anything with one row
        per image that ``loss`` and ``metric`` understand (float targets become
        float32). In-memory data is moved to the device once.
    epochs : int
    lr : float
        Learning rate, a finite positive number (Unit 5 notes: Adam with 0.005).
    batch_size : int
        The Unit 5 notes use 1,000.
    optimizer : {"adam", "sgd", "rmsprop"}, torch.optim.Optimizer, or callable
        A name (SGD uses momentum 0.9), a ready optimizer over ``model``'s parameters,
        or a function ``params -> optimizer``.
    loss : "cross_entropy" or callable ``(scores, targets) -> scalar tensor``
        The mean loss of a batch.
    metric : "accuracy" or callable ``(scores, targets) -> tensor (N,)``
        One value per example (a bool counts as 0 or 1); ``History.accuracy`` and
        ``val_accuracy`` hold its mean over the epoch's examples. ``"accuracy"`` is
        ``argmax(scores) == label``; :func:`cnnlab.nn.fit_localisation` passes whether
        the object / no-object call is right.
    weight_decay : float
        Non-negative.
    device : None, "auto", "cpu", "cuda", "cuda:N" or torch.device
        ``None`` and ``"auto"`` mean :func:`default_device` (CUDA when present, else
        the CPU: a GPU is never required).
    seed : int
        Seeds the shuffling order and torch's generator (dropout); build the model after
        :func:`set_seed` to make its initial weights reproducible as well.
    shuffle : bool
    progress : bool
        Show a ``tqdm.auto`` bar (a widget in Jupyter, text in a terminal) over all
        batches, with the latest metrics.
    desc : str, optional
        Label of the progress bar.
    channels_last : bool, optional
        Store convolution weights (and so activations) channels-last (NHWC) in memory.
        Same numbers up to rounding; 2-3x faster convolutions on CPU, where it is the
        default (``None``: on for CPU, off elsewhere).
    on_epoch_end : callable ``(epoch, model, history) -> None``, optional
        Called after every epoch, once validation is done and before the epoch's time is
        recorded: it may read ``history``, score the model in its own way, or raise to
        stop training.

    Returns
    -------
    History
        One entry per epoch: loss, accuracy, val_loss, val_accuracy, time_s.

    Notes
    -----
    One epoch, for batches B of the shuffled training set and N examples in all:
    loss = Σ_B |B|·loss(B) / N and accuracy = Σ_examples metric / N (sums in float64).

    Examples
    --------
    >>> from cnnlab.nn import model2
    >>> set_seed(0)
    >>> x, y = np.random.rand(64, 1, 28, 28).astype("float32"), np.arange(64) % 10
    >>> h = fit(model2(), (x, y), (x, y), epochs=3, batch_size=16, progress=False)
    >>> len(h), h.loss[-1] < h.loss[0]
    (3, True)

    Any per-example metric, here the true class among the two highest scores:

    >>> top2 = lambda scores, y: (scores.topk(2, dim=1).indices == y[:, None]).any(1)
    >>> h = fit(model2(), (x, y), epochs=1, batch_size=16, metric=top2, progress=False)
    >>> 0 <= h.accuracy[0] <= 1
    True
    """
    _check_model(model)
    epochs = _check_trials(epochs, "epochs")
    lr = _check_real(lr, "lr", positive=True)
    batch_size = _check_size(batch_size, "batch_size")
    loss_fn = _loss_fn(loss)
    metric_fn = _metric_fn(metric)
    weight_decay = _check_real(weight_decay, "weight_decay", nonnegative=True, maximum=1e30)
    dev = _device(device)
    seed = _check_seed(seed)
    shuffle = _check_bool(shuffle, "shuffle")
    progress = _check_bool(progress, "progress")
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"desc must be None or a str, got {desc!r}")
    if channels_last is not None:
        channels_last = _check_bool(channels_last, "channels_last")
    if on_epoch_end is not None:
        _check_callable(on_epoch_end, "on_epoch_end")
    labels = not callable(loss)  # the built-in cross-entropy: targets are class labels, checked
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    dtype = _dtype(model)
    train_batches = _Batches(train, batch_size, dev, shuffle, generator, "train", labels, dtype)
    val_batches = None if val is None else _Batches(val, batch_size, dev, False, None, "val", labels, dtype)
    model.to(dev)
    if channels_last is None:
        channels_last = dev.type == "cpu"
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = _optimizer(optimizer, model, lr, weight_decay)
    history = History(params=dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                                  optimizer=optimizer if isinstance(optimizer, str) else type(opt).__name__,
                                  device=str(dev), seed=seed, n_train=_count(train_batches),
                                  n_val=None if val_batches is None else _count(val_batches)))
    bar = tqdm(total=epochs * len(train_batches), desc=desc or type(model).__name__, unit="batch",
               disable=not progress, leave=True)
    acc = _sum_dtype(dev)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            total_loss = torch.zeros((), dtype=acc, device=dev)
            total_metric = torch.zeros((), dtype=acc, device=dev)
            seen = 0
            for xb, yb in train_batches:
                opt.zero_grad(set_to_none=True)
                scores = model(xb)
                if labels and epoch == 1:
                    _check_labels(scores, yb, "train")
                batch_loss = loss_fn(scores, yb)
                batch_loss.backward()
                opt.step()
                with torch.no_grad():
                    total_loss += batch_loss.detach().to(acc) * len(yb)
                    total_metric += _metric_sum(metric_fn, scores, yb, acc)
                seen += len(yb)
                bar.update(1)
            if seen == 0:
                raise ValueError("train must contain at least one example")
            history.epoch.append(epoch)
            history.loss.append(total_loss.item() / seen)
            history.accuracy.append(total_metric.item() / seen)
            postfix = {"loss": f"{history.loss[-1]:.4f}", "acc": f"{history.accuracy[-1]:.4f}"}
            if val_batches is not None:
                ev = _evaluate(model, val_batches, loss_fn, metric_fn, labels, "val")
                history.val_loss.append(ev.loss)
                history.val_accuracy.append(ev.accuracy)
                postfix.update(val_loss=f"{ev.loss:.4f}", val_acc=f"{ev.accuracy:.4f}")
            if on_epoch_end is not None:
                on_epoch_end(epoch, model, history)
            history.time_s.append(time.perf_counter() - start)
            bar.set_postfix(postfix, refresh=False)
            bar.set_description(f"{desc or type(model).__name__} epoch {epoch}/{epochs}", refresh=True)
    finally:
        bar.close()
        model.eval()
    return history


def _count(batches) -> int:
    if batches.loader is not None:
        try:
            return len(batches.loader.dataset)
        except TypeError:
            return -1
    return len(batches.y)


def _check_labels(scores, labels, name):
    """Cross-entropy needs 0 <= label < classes; say so instead of torch's IndexError."""
    if scores.ndim != 2:
        raise ValueError(f"the model must return (N, classes) scores, got shape {tuple(scores.shape)}")
    if labels.numel() and (int(labels.max()) >= scores.shape[1] or int(labels.min()) < 0):
        raise ValueError(f"{name} labels must be class indices in [0, {scores.shape[1] - 1}] (the model has "
                         f"{scores.shape[1]} outputs), got labels from {int(labels.min())} to {int(labels.max())}")


def _evaluate(model, batches, loss_fn, metric_fn=_accuracy, check_labels=False, name="data") -> Evaluation:
    was_training = model.training
    model.eval()
    total, correct, seen = 0.0, 0.0, 0
    try:
        with torch.inference_mode():
            for xb, yb in batches:
                scores = model(xb)
                if check_labels:
                    _check_labels(scores, yb, name)
                total += loss_fn(scores, yb).item() * len(yb)
                correct += _metric_sum(metric_fn, scores, yb, _sum_dtype(scores.device)).item()
                seen += len(yb)
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError(f"{name} must contain at least one example")
    return Evaluation(total / seen, correct / seen)


@_input_errors("data")
def evaluate(model, data, *, batch_size=1000, device=None, loss="cross_entropy", metric="accuracy") -> Evaluation:
    """Mean loss and accuracy (or another per-example metric) of ``model`` on ``data``
    (eval mode, no gradients).

    Parameters
    ----------
    model : torch.nn.Module
    data : (images, targets), torch Dataset or DataLoader
    batch_size : int
    device : None, "auto", "cpu", "cuda", "cuda:N" or torch.device
        ``None``: where the model's parameters are.
    loss : "cross_entropy" or callable ``(scores, targets) -> scalar tensor``
    metric : "accuracy" or callable ``(scores, targets) -> tensor (N,)``
        As for :func:`fit`.

    Returns
    -------
    Evaluation
        ``(loss, accuracy)``: the mean over all examples of the loss and of the metric,
        by default ``argmax(scores) == label`` (in [0, 1]).

    Examples
    --------
    >>> from cnnlab.nn import model2
    >>> ev = evaluate(model2(), (np.zeros((5, 28, 28), np.uint8), [0, 1, 2, 3, 4]))
    >>> 0 <= ev.accuracy <= 1, ev.loss > 0
    (True, True)
    """
    _check_model(model)
    batch_size = _check_size(batch_size, "batch_size")
    loss_fn, metric_fn = _loss_fn(loss), _metric_fn(metric)
    dev = _device(device, model=model)
    labels = not callable(loss)
    model.to(dev)
    batches = _Batches(data, batch_size, dev, False, None, "data", labels, _dtype(model))
    return _evaluate(model, batches, loss_fn, metric_fn, labels)


@_input_errors("images")
def predict_proba(model, images, *, batch_size=1000, device=None) -> np.ndarray:
    """Softmax class probabilities, shape (N, classes), as a float32 numpy array.

    Examples
    --------
    >>> from cnnlab.nn import model2
    >>> p = predict_proba(model2(), np.zeros((3, 28, 28), dtype=np.uint8))
    >>> p.shape, np.allclose(p.sum(1), 1)
    ((3, 10), True)
    """
    _check_model(model)
    batch_size = _check_size(batch_size, "batch_size")
    dev = _device(device, model=model)
    model.to(dev)
    x = to_tensors(images)
    if len(x) == 0:
        raise ValueError(f"images must hold at least one image, got shape {tuple(x.shape)}")
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(x), batch_size):
                out.append(torch.softmax(model(x[start:start + batch_size].to(dev)), dim=1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), dtype=np.float32)


def predict(model, images, *, batch_size=1000, device=None) -> np.ndarray:
    """Predicted class of each image: the argmax of the model's scores, int64 (N,).

    Examples
    --------
    >>> from cnnlab.nn import model2
    >>> predict(model2(), np.zeros((3, 28, 28), dtype=np.uint8)).shape
    (3,)
    """
    proba = predict_proba(model, images, batch_size=batch_size, device=device)
    return proba.argmax(axis=1).astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
    num_classes : int, optional
        Defaults to ``max(y_true.max(), y_pred.max()) + 1``.

    Returns
    -------
    ndarray of int64, shape (num_classes, num_classes)
        ``cm[i, j]`` = number of examples of class ``i`` predicted as ``j``; the
        diagonal holds the correct ones, ``cm.trace() / cm.sum()`` is the accuracy.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    t = _as_array(y_true, "y_true", ndim=1, allow_empty=True)
    p = _as_array(y_pred, "y_pred", ndim=1, allow_empty=True)
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.dtype.kind not in "iu" or a.min() < 0):
            raise ValueError(f"{name} must hold non-negative integer class labels, got {a.dtype} values")
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {len(t)} and {len(p)}")
    t, p = t.astype(np.int64), p.astype(np.int64)
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    k = _check_int(num_classes, "num_classes", minimum=1)
    _check_alloc(k * k, "num_classes", k)
    if t.size and max(t.max(), p.max()) >= k:
        raise ValueError(f"y_true and y_pred labels must be below num_classes = {k}, got {max(t.max(), p.max())}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)
