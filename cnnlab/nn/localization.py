"""Beyond classification: object localisation on synthetic MNIST canvases (Unit 5 notes §5.8).

A network that says *what* and *where*: for each canvas it predicts the Unit 5 notes' target

    y = [p_c, x, y, h, w, p_1, p_2]

p_c — is there an object (0 or 1); (x, y) — the box centre (column, row); h, w — its
height and width, all four as fractions of the canvas side; p_1, p_2 — which of the two
classes it is. For an empty canvas only p_c = 0 matters: the other six entries are
"don't care", and the loss ignores them.

The Unit 5 notes place (x, y) at "the top right corner pixel"; any fixed reference point
works if data and decoding agree. cnnlab uses the box centre (as YOLO and Ng's course
do): it is symmetric, so errors in x and y do not depend on the box size.
"""
from __future__ import annotations

from typing import NamedTuple

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import (
    MAX_CHANNELS, _as_array, _check_alloc, _check_int, _check_mode, _check_real, _check_seed, _check_size,
)
from ._common import _as_images, _as_tensor, _check_model, _device, _eval_mode, _input_errors
from .training import fit

__all__ = [
    "LocalisationData", "make_localisation_data", "localisation_loss", "LocalisationHead",
    "localisation_net", "decode_localisation", "box_iou", "LocalisationScores",
    "evaluate_localisation", "boxes_to_corners", "LocalisationHistory", "fit_localisation",
]


class LocalisationData(NamedTuple):
    """Canvases and targets made by :func:`make_localisation_data`."""

    images: torch.Tensor   #: float32 (N, 1, S, S) in [0, 1]
    targets: torch.Tensor  #: float32 (N, 7): [p_c, x, y, h, w, p_1, p_2]
    digits: np.ndarray     #: int64 (N,): the MNIST label on each canvas, -1 if empty
    classes: tuple         #: the two MNIST classes (class 1, class 2)


def _ink_box(patch, threshold):
    rows = np.flatnonzero((patch > threshold).any(axis=1))
    cols = np.flatnonzero((patch > threshold).any(axis=0))
    if rows.size == 0:
        return 0, 0, patch.shape[0], patch.shape[1]
    return rows[0], cols[0], rows[-1] + 1, cols[-1] + 1


def _paste(canvas, src, r, c):
    """Max-blend ``src`` into ``canvas`` with its top-left corner at (r, c), clipped to the canvas."""
    S = canvas.shape[0]
    r0, c0 = max(r, 0), max(c, 0)
    r1, c1 = min(r + src.shape[0], S), min(c + src.shape[1], S)
    if r0 < r1 and c0 < c1:
        canvas[r0:r1, c0:c1] = np.maximum(canvas[r0:r1, c0:c1], src[r0 - r:r1 - r, c0 - c:c1 - c])


def make_localisation_data(images, labels, classes=(3, 7), n=2000, *, canvas=48,
                           size_range=(16, 40), p_empty=0.25, p_partial=0.0, noise=0.0, seed=0,
                           threshold=0.2) -> LocalisationData:
    """Synthetic localisation data: digits of two classes at random places and scales.

    Each canvas is empty with probability ``p_empty``; otherwise one digit of
    ``classes`` (drawn from ``images``) is resized to a random side in ``size_range``
    and pasted at a random position. The box is the tight box around the digit's ink
    (pixels above ``threshold``), not the 28×28 frame with its blank margin.

    Parameters
    ----------
    images : array (M, 28, 28) uint8 or float in [0, 1]
        Source digits, e.g. ``load_mnist().images``.
    labels : array (M,)
    classes : pair of int
        The MNIST classes that become class 1 and class 2 (p_1, p_2).
    n : int
        Number of canvases.
    canvas : int
        Side S of the square canvas.
    size_range : (int, int)
        Inclusive range of the digit's side after resizing; at most ``canvas``.
    p_empty : float in [0, 1)
        Fraction of canvases with no object.
    p_partial : float in [0, 1 − p_empty)
        Fraction of canvases with a digit cut by the canvas edge (30–70 % of its ink box
        outside), labelled "no object": an object counts only when it is entirely in view.
        These hard negatives teach a localiser to ignore half-seen digits, which matters
        when it is slid over a larger scene (:func:`cnnlab.nn.sliding_window_detect`).
    noise : float
        Standard deviation of Gaussian pixel noise added everywhere (then clipped).
    seed : int

    Returns
    -------
    LocalisationData
        ``images`` (n, 1, S, S) float32, ``targets`` (n, 7) float32 with (x, y, h, w)
        as fractions of S, ``digits`` (n,), ``classes``.

    Examples
    --------
    >>> import numpy as np
    >>> digits = np.zeros((2, 28, 28), np.uint8); digits[:, 10:20, 12:16] = 255
    >>> data = make_localisation_data(digits, [3, 7], n=4, canvas=28, size_range=(28, 28), p_empty=0)
    >>> data.images.shape, data.targets.shape
    (torch.Size([4, 1, 28, 28]), torch.Size([4, 7]))
    >>> [round(v, 4) for v in data.targets[0, :5].tolist()]   # centre (14, 15) of a 10 x 4 box
    [1.0, 0.5, 0.5357, 0.3571, 0.1429]
    """
    imgs = _as_array(images, "images", ndim=3)
    if imgs.dtype.kind in "iu":
        imgs = imgs.astype(np.float32) / 255.0
    imgs = imgs.astype(np.float32)
    labs = _as_array(labels, "labels", ndim=1)
    if labs.shape[0] != imgs.shape[0]:
        raise ValueError(f"labels must have one entry per image ({imgs.shape[0]}), got {labs.shape[0]}")
    if not isinstance(classes, (tuple, list)) or len(classes) != 2:
        raise TypeError(f"classes must be a pair of labels, got {classes!r}")
    classes = tuple(_check_int(c, "classes", minimum=0) for c in classes)
    if classes[0] == classes[1]:
        raise ValueError(f"classes must be two different labels, got {classes!r}")
    pools = [np.flatnonzero(labs == c) for c in classes]
    for c, pool in zip(classes, pools):
        if pool.size == 0:
            raise ValueError(f"classes: no image has label {c} (labels hold {np.unique(labs)[:10].tolist()})")
    n = _check_int(n, "n", minimum=1)
    canvas = _check_size(canvas, "canvas", minimum=8, maximum=2**14)
    _check_alloc(n * canvas * canvas, "n", n, itemsize=4)
    if not isinstance(size_range, (tuple, list)) or len(size_range) != 2:
        raise TypeError(f"size_range must be a (min, max) pair, got {size_range!r}")
    lo, hi = (_check_int(v, "size_range", minimum=4) for v in size_range)
    if lo > hi or hi > canvas:
        raise ValueError(f"size_range must satisfy 4 <= min <= max <= canvas ({canvas}), got {size_range!r}")
    p_empty = _check_real(p_empty, "p_empty", minimum=0.0)
    if p_empty >= 1:
        raise ValueError(f"p_empty must be in [0, 1), got {p_empty}")
    p_partial = _check_real(p_partial, "p_partial", minimum=0.0)
    if p_empty + p_partial >= 1:
        raise ValueError(f"p_empty + p_partial must be below 1, got {p_empty} + {p_partial}")
    noise = _check_real(noise, "noise", minimum=0.0)
    seed = _check_seed(seed)
    threshold = _check_real(threshold, "threshold", minimum=0.0, maximum=1e30)

    rng = np.random.default_rng(seed)
    out = np.zeros((n, 1, canvas, canvas), np.float32)
    targets = np.zeros((n, 7), np.float32)
    digits = np.full(n, -1, np.int64)
    for k in range(n):
        u = rng.random()
        if u < p_empty:
            continue
        which = int(rng.integers(2))
        src = imgs[rng.choice(pools[which])]
        side = int(rng.integers(lo, hi + 1))
        if side != src.shape[0]:
            src = F.interpolate(torch.from_numpy(src)[None, None], size=(side, side), mode="bilinear",
                                align_corners=False, antialias=side < src.shape[0])[0, 0].numpy()
        t, l, b, rr = _ink_box(src, threshold)
        h, w = b - t, rr - l
        if u < p_empty + p_partial:          # a hard negative: the digit's ink box crosses an edge
            r, c = int(rng.integers(-t, canvas - b + 1)), int(rng.integers(-l, canvas - rr + 1))
            edge, outside = int(rng.integers(4)), rng.uniform(0.3, 0.7)
            if edge == 0:
                r = -t - int(round(outside * h))
            elif edge == 1:
                r = canvas - b + int(round(outside * h))
            elif edge == 2:
                c = -l - int(round(outside * w))
            else:
                c = canvas - rr + int(round(outside * w))
            _paste(out[k, 0], src, r, c)
            continue
        r, c = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
        _paste(out[k, 0], src, r, c)
        targets[k] = (1.0, (c + l + w / 2) / canvas, (r + t + h / 2) / canvas, h / canvas, w / canvas,
                      float(which == 0), float(which == 1))
        digits[k] = classes[which]
    if noise:
        out = np.clip(out + rng.normal(0, noise, out.shape).astype(np.float32), 0, 1)
    return LocalisationData(torch.from_numpy(out), torch.from_numpy(targets), digits, classes)


def _as_targets(y, name):
    if isinstance(y, np.ndarray):
        y = _as_tensor(y, name, finite=False)  # "don't care" entries may be NaN
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of shape (N, 7), got {type(y).__name__}")
    if y.ndim == 1:
        y = y[None]
    if y.ndim != 2 or y.shape[1] != 7:
        raise ValueError(f"{name} must have shape (N, 7) = [p_c, x, y, h, w, p_1, p_2] per row, got {tuple(y.shape)}")
    return y


def localisation_loss(y_hat, y, *, reduction="mean") -> torch.Tensor:
    """The Unit 5 notes' localisation loss: squared error, only on p_c when there is no object.

    Parameters
    ----------
    y_hat : tensor (N, 7)
        Predictions [p̂_c, x̂, ŷ, ĥ, ŵ, p̂_1, p̂_2].
    y : tensor (N, 7)
        Targets; y[:, 0] = p_c must be 0 or 1 (entries 2–7 are ignored when it is 0).
    reduction : {'mean', 'sum', 'none'}
        Average over the N canvases, sum, or return the (N,) per-canvas losses.

    Returns
    -------
    torch.Tensor
        A scalar, or shape ``(N,)`` with ``reduction='none'``.

    Notes
    -----
    L(ŷ, y) = (ŷ_1 − y_1)²              if p_c = 0,
    L(ŷ, y) = Σ_{i=1}^{7} (ŷ_i − y_i)²   if p_c = 1.

    Examples
    --------
    >>> import torch
    >>> empty = torch.tensor([0., 9, 9, 9, 9, 9, 9])          # don't-care entries
    >>> round(float(localisation_loss(torch.tensor([0.2, 0, 0, 0, 0, 0, 0]), empty)), 6)
    0.04
    >>> obj = torch.tensor([1., .5, .5, .2, .1, 1, 0])
    >>> round(float(localisation_loss(torch.tensor([.9, .5, .4, .2, .1, .8, .1]), obj)), 6)  # .01+.01+.04+.01
    0.07
    """
    y_hat, y = _as_targets(y_hat, "y_hat"), _as_targets(y, "y")
    if y_hat.shape != y.shape:
        raise ValueError(f"y_hat and y must have the same shape, got {tuple(y_hat.shape)} and {tuple(y.shape)}")
    reduction = _check_mode(reduction, ("mean", "sum", "none"), "reduction")
    pc = y[:, 0]
    if not torch.all((pc == 0) | (pc == 1)):
        raise ValueError(f"y[:, 0] (p_c) must be 0 or 1, got {pc.tolist()}")
    y = y.to(y_hat.dtype)
    sq = (y_hat - y) ** 2
    # torch.where, not multiplication by p_c: don't-care entries may be NaN or inf
    rest = torch.where(pc[:, None].bool(), sq[:, 1:], torch.zeros_like(sq[:, 1:])).sum(1)
    per = sq[:, 0] + rest
    return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per


class LocalisationHead(nn.Module):
    """Maps 7 raw outputs to valid predictions: sigmoid for p_c and the box, softmax for p_1, p_2.

    Examples
    --------
    >>> import torch
    >>> LocalisationHead()(torch.zeros(1, 7)).tolist()
    [[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]
    """

    def forward(self, z):
        return torch.cat([torch.sigmoid(z[:, :5]), torch.softmax(z[:, 5:7], dim=1)], dim=1)


def localisation_net(canvas=48, *, width=16) -> nn.Sequential:
    """A small CNN for the localisation target: three conv–ReLU–maxpool stages, two dense layers.

    Parameters
    ----------
    canvas : int
        Input side S, a multiple of 8.
    width : int
        Channels of the first stage (doubled in the second and third).

    Returns
    -------
    torch.nn.Sequential
        Input (N, 1, S, S), output (N, 7) = [p_c, x, y, h, w, p_1, p_2] in [0, 1].

    Examples
    --------
    >>> import torch
    >>> net = localisation_net(48)
    >>> net(torch.zeros(2, 1, 48, 48)).shape
    torch.Size([2, 7])
    """
    canvas = _check_size(canvas, "canvas", minimum=8, maximum=2**14)
    if canvas % 8:
        raise ValueError(f"canvas must be a multiple of 8 (three 2x2 poolings), got {canvas}")
    width = _check_size(width, "width", maximum=MAX_CHANNELS)
    c1, c2 = width, 2 * width
    side = canvas // 8
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c2, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * side * side, 64), nn.ReLU(), nn.Linear(64, 7),
        LocalisationHead(),
    )


def boxes_to_corners(boxes, size=1.0) -> torch.Tensor:
    """(x, y, h, w) centre boxes -> (left, top, right, bottom), scaled by ``size``.

    Returns
    -------
    torch.Tensor
        Shape ``(..., 4)``.

    Examples
    --------
    >>> import torch
    >>> boxes_to_corners(torch.tensor([0.5, 0.5, 0.2, 0.4]), 10).tolist()
    [3.0, 4.0, 7.0, 6.0]
    """
    b = _as_tensor(boxes, "boxes")
    if b.ndim == 0 or b.shape[-1] != 4:
        raise ValueError(f"boxes must have shape (..., 4) = (x, y, h, w), got {tuple(b.shape)}")
    size = _check_real(size, "size", positive=True, maximum=1e30)
    x, y, h, w = b.unbind(-1)
    return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=-1) * size


def _corners(boxes, name):
    try:
        return boxes_to_corners(boxes)
    except (TypeError, ValueError) as exc:
        raise type(exc)(str(exc).replace("boxes", name, 1)) from exc


def box_iou(a, b) -> torch.Tensor:
    """Intersection over union of matching boxes in (x, y, h, w) centre form.

    Returns
    -------
    torch.Tensor
        Shape ``(N,)`` for ``a`` and ``b`` of shape (N, 4); IoU = |A ∩ B| / |A ∪ B| in [0, 1],
        0 when both boxes are empty.

    Examples
    --------
    >>> import torch
    >>> box_iou(torch.tensor([[0.5, 0.5, 0.2, 0.2]]), torch.tensor([[0.6, 0.5, 0.2, 0.2]]))
    tensor([0.3333])
    """
    A, B = _corners(a, "a"), _corners(b, "b")
    if A.shape != B.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(A.shape)} and {tuple(B.shape)}")
    lt = torch.maximum(A[..., :2], B[..., :2])
    rb = torch.minimum(A[..., 2:], B[..., 2:])
    inter = (rb - lt).clamp_min(0).prod(-1)
    area = lambda c: (c[..., 2:] - c[..., :2]).clamp_min(0).prod(-1)  # noqa: E731
    union = area(A) + area(B) - inter
    return torch.where(union > 0, inter / union.clamp_min(1e-12), torch.zeros_like(union))


def decode_localisation(y_hat, *, threshold=0.5):
    """Read predictions: is there an object, its box, its class (0 → class 1, 1 → class 2).

    Returns
    -------
    present : torch.Tensor of bool, shape (N,)
        p̂_c > threshold.
    boxes : torch.Tensor, shape (N, 4)
        (x, y, h, w) as fractions of the canvas.
    classes : torch.Tensor of int64, shape (N,)
        argmax of (p̂_1, p̂_2).

    Examples
    --------
    >>> import torch
    >>> present, boxes, cls = decode_localisation(torch.tensor([[0.9, .5, .5, .2, .2, .3, .7]]))
    >>> present.tolist(), cls.tolist()
    ([True], [1])
    """
    y_hat = _as_targets(y_hat, "y_hat")
    threshold = _check_real(threshold, "threshold")
    return y_hat[:, 0] > threshold, y_hat[:, 1:5], y_hat[:, 5:7].argmax(1)


class LocalisationScores(NamedTuple):
    """What :func:`evaluate_localisation` measures."""

    presence_accuracy: float  #: object / no object right, over all canvases
    class_accuracy: float     #: class right, over canvases that hold an object
    mean_iou: float           #: mean IoU of predicted and true box, over canvases with an object
    iou_50: float             #: fraction of those with IoU ≥ 0.5
    loss: float               #: mean :func:`localisation_loss`


@_input_errors("images")
def evaluate_localisation(model, images, targets, *, threshold=0.5, batch_size=500) -> LocalisationScores:
    """Score a localisation model on canvases with known targets (eval mode, no gradients).

    Examples
    --------
    >>> import torch
    >>> class Oracle(torch.nn.Module):
    ...     def __init__(self, y): super().__init__(); self.y = y
    ...     def forward(self, x): return self.y[: x.shape[0]]
    >>> y = torch.tensor([[1., .5, .5, .2, .2, 1, 0], [0, 0, 0, 0, 0, 0, 0]])
    >>> evaluate_localisation(Oracle(y), torch.zeros(2, 1, 8, 8), y)
    LocalisationScores(presence_accuracy=1.0, class_accuracy=1.0, mean_iou=1.0, iou_50=1.0, loss=0.0)
    """
    _check_model(model)
    x = _as_images(images, "images", model=model)
    y = _as_targets(targets, "targets")
    if not ((y[:, 0] == 0) | (y[:, 0] == 1)).all():
        raise ValueError(f"targets[:, 0] (p_c) must be 0 or 1, got {y[:, 0].tolist()[:8]}")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"targets must have one row per image ({x.shape[0]}), got {y.shape[0]}")
    batch_size = _check_int(batch_size, "batch_size", minimum=1)
    with _eval_mode(model), torch.no_grad():
        y_hat = torch.cat([model(x[s:s + batch_size]).cpu() for s in range(0, x.shape[0], batch_size)])
    y = y.to(y_hat.dtype).cpu()
    present, boxes, cls = decode_localisation(y_hat, threshold=threshold)
    has = y[:, 0] == 1
    presence = float((present == has).float().mean())
    if has.any():
        class_acc = float((cls[has] == y[has, 5:7].argmax(1)).float().mean())
        iou = box_iou(boxes[has], y[has, 1:5])
        mean_iou, iou50 = float(iou.mean()), float((iou >= 0.5).float().mean())
    else:
        class_acc = mean_iou = iou50 = float("nan")
    return LocalisationScores(presence, class_acc, mean_iou, iou50, float(localisation_loss(y_hat, y)))


class LocalisationHistory(NamedTuple):
    """Per-epoch record of :func:`fit_localisation`."""

    loss: list       #: mean training loss of each epoch
    val: list        #: LocalisationScores after each epoch (empty without validation data)
    time_s: list     #: seconds since the start, at the end of each epoch


def _pair(data, name, model=None):
    if isinstance(data, LocalisationData):
        return data.images, data.targets
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = _as_images(data[0], f"{name} images", model=model), _as_targets(data[1], f"{name} targets")
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"{name}: images and targets must have the same length, got {x.shape[0]} and {y.shape[0]}")
        return x, y
    raise TypeError(f"{name} must be LocalisationData or an (images, targets) pair, got {type(data).__name__}")


def _presence_correct(y_hat, y):
    """Per canvas: is the object / no-object call right (p̂_c > 0.5 exactly when p_c = 1)?"""
    return (y_hat[:, 0] > 0.5) == (y[:, 0] == 1)


@_input_errors("train (or val)")
def fit_localisation(model, train, val=None, *, epochs=6, lr=4e-3, batch_size=64, seed=0) -> LocalisationHistory:
    """Train a localisation model with Adam on :func:`localisation_loss`.

    This is :func:`cnnlab.nn.fit` with the localisation loss, a per-canvas metric (is the
    object / no-object call right) in place of class accuracy, and
    :func:`evaluate_localisation` on ``val`` after every epoch: shuffled mini-batches,
    one Adam step per batch, eval mode at the end. The model stays on its device.

    Parameters
    ----------
    model : torch.nn.Module
        Outputs (N, 7), e.g. :func:`localisation_net`.
    train, val : LocalisationData or (images, targets)
    epochs, lr, batch_size, seed : training settings (``seed`` fixes the batch order and,
        as in :func:`cnnlab.nn.fit`, seeds torch's generator).

    Returns
    -------
    LocalisationHistory

    Raises
    ------
    ValueError
        When training diverges (a NaN or infinite epoch loss): ``lr`` is too large.

    Examples
    --------
    >>> import numpy as np, torch
    >>> digits = np.zeros((2, 28, 28), np.uint8); digits[:, 8:20, 10:18] = 255
    >>> data = make_localisation_data(digits, [3, 7], n=64, canvas=24, size_range=(10, 20))
    >>> _ = torch.manual_seed(0)
    >>> h = fit_localisation(localisation_net(24, width=4), data, data, epochs=3)
    >>> len(h.loss), h.loss[-1] < h.loss[0]
    (3, True)
    """
    _check_model(model)
    x, y = _pair(train, "train", model)
    val = None if val is None else _pair(val, "val", model)
    history = LocalisationHistory([], [], [])

    def after_epoch(epoch, model, h):
        if not math.isfinite(h.loss[-1]):
            raise ValueError(f"training diverged (the loss is NaN or infinite): lr = {h.params['lr']} is too "
                             "large, or the model's weights are no longer finite")
        history.loss.append(h.loss[-1])
        if val is not None:
            history.val.append(evaluate_localisation(model, *val))

    # channels_last=False: the same numbers as the loop this function had before it used fit
    h = fit(model, (x, y), epochs=epochs, lr=lr, batch_size=batch_size, optimizer="adam",
            loss=localisation_loss, metric=_presence_correct, device=_device(model=model), seed=seed,
            shuffle=True, progress=False, channels_last=False, on_epoch_end=after_epoch)
    history.time_s.extend(h.time_s)
    return history
