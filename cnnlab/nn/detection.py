"""From localisation to detection: several objects, sliding windows, non-max suppression.

The Unit 5 notes (§5.8) list object detection ("finding several objects and their type") after
localisation ("one object"). The oldest route from one to the other: run the
localisation network on windows slid over a larger scene, keep the windows that say
"object", and merge the duplicates with non-max suppression. YOLO turns the same idea
into one convolutional pass over a grid of cells.

Boxes are (x, y, h, w): centre column, centre row, height, width, as fractions of the
image they refer to (the convention of :mod:`cnnlab.nn.localization`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .._validate import _as_array, _check_alloc, _check_int, _check_real
from ._common import _as_images, _as_tensor, _check_model, _eval_mode, _input_errors
from .localization import LocalisationData, box_iou, decode_localisation

__all__ = ["non_max_suppression", "Detections", "sliding_window_detect", "tile_canvases", "match_detections"]


def non_max_suppression(boxes, scores, iou_threshold=0.5) -> torch.Tensor:
    """Greedy non-max suppression: keep the best box, drop those overlapping it, repeat.

    Parameters
    ----------
    boxes : (N, 4) tensor, (x, y, h, w) centre form
    scores : (N,) tensor
    iou_threshold : float in [0, 1]
        A box is dropped when its IoU with an already kept box is above this.

    Returns
    -------
    torch.Tensor of int64
        Indices of the kept boxes, best score first.

    Examples
    --------
    >>> import torch
    >>> b = torch.tensor([[.5, .5, .2, .2], [.52, .5, .2, .2], [.1, .1, .1, .1]])
    >>> non_max_suppression(b, torch.tensor([.9, .8, .7])).tolist()
    [0, 2]
    """
    b = _as_tensor(boxes, "boxes")
    s = _as_tensor(scores, "scores")
    if b.ndim != 2 or b.shape[1] != 4 or s.shape != (b.shape[0],):
        raise ValueError(f"boxes must be (N, 4) and scores (N,), got {tuple(b.shape)} and {tuple(s.shape)}")
    iou_threshold = _check_real(iou_threshold, "iou_threshold", minimum=0.0)
    if iou_threshold > 1:
        raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
    order = torch.argsort(s, descending=True, stable=True)
    keep = []
    while order.numel():
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        if rest.numel() == 0:
            break
        iou = box_iou(b[best].expand(rest.numel(), 4), b[rest])
        order = rest[iou <= iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)


class Detections(NamedTuple):
    """Result of :func:`sliding_window_detect`."""

    boxes: torch.Tensor    #: (M, 4) boxes as fractions of the scene
    scores: torch.Tensor   #: (M,) p̂_c of the window that found each box
    classes: torch.Tensor  #: (M,) 0 → class 1, 1 → class 2
    windows: int           #: how many windows were looked at


@_input_errors("scene")
def sliding_window_detect(model, scene, *, window, stride, threshold=0.5, iou_threshold=0.3) -> Detections:
    """Detect objects in a scene by running a localisation model on sliding windows.

    Parameters
    ----------
    model : torch.nn.Module
        A localisation model for ``window × window`` canvases (outputs (N, 7)).
    scene : tensor (1, H, W) or (1, 1, H, W)
    window, stride : int
        Window side and step in pixels (windows cover the scene from the top-left; the
        last row/column of windows is aligned with the bottom/right edge).
    threshold : float
        Keep windows whose p̂_c is above it.
    iou_threshold : float
        Non-max suppression of the kept boxes.

    Returns
    -------
    Detections

    Examples
    --------
    >>> import torch
    >>> class Centre(torch.nn.Module):      # "an object fills the middle of every window"
    ...     def forward(self, x):
    ...         return torch.tensor([[1., .5, .5, .5, .5, 1, 0]]).repeat(x.shape[0], 1)
    >>> det = sliding_window_detect(Centre(), torch.zeros(1, 8, 8), window=4, stride=4)
    >>> det.windows, len(det.boxes), det.boxes[0].tolist()
    (4, 4, [0.25, 0.25, 0.25, 0.25])
    """
    _check_model(model)
    x = scene if isinstance(scene, torch.Tensor) else _as_tensor(scene, "scene")
    x = _as_images(x[None] if x.ndim == 3 else x, "scene", model=model)
    if x.shape[0] != 1:
        raise ValueError(f"scene must be one image, got a batch of {x.shape[0]}")
    H, W = x.shape[-2:]
    window = _check_int(window, "window", minimum=1)
    stride = _check_int(stride, "stride", minimum=1)
    if window > min(H, W):
        raise ValueError(f"window must fit in the scene ({H}×{W}), got {window}")
    threshold = _check_real(threshold, "threshold")

    def starts(n):
        s = list(range(0, n - window + 1, stride))
        return s if s[-1] == n - window else s + [n - window]

    origins = [(r, c) for r in starts(H) for c in starts(W)]
    crops = torch.cat([x[..., r:r + window, c:c + window] for r, c in origins])
    with _eval_mode(model), torch.no_grad():
        y_hat = model(crops).cpu()
    present, local, cls = decode_localisation(y_hat, threshold=threshold)
    o = torch.tensor(origins, dtype=torch.float32)
    boxes = torch.stack([(o[:, 1] + local[:, 0] * window) / W, (o[:, 0] + local[:, 1] * window) / H,
                         local[:, 2] * window / H, local[:, 3] * window / W], dim=1)[present]
    scores, cls = y_hat[present, 0], cls[present]
    keep = non_max_suppression(boxes, scores, iou_threshold) if len(boxes) else torch.zeros(0, dtype=torch.int64)
    return Detections(boxes[keep], scores[keep], cls[keep], len(origins))


def tile_canvases(data, indices, ncols):
    """Put localisation canvases side by side into one scene with several objects.

    Returns
    -------
    scene : torch.Tensor, shape (1, rows·S, ncols·S)
    boxes : torch.Tensor, shape (M, 4)
        The objects' boxes as fractions of the scene (empty canvases contribute none).
    classes : torch.Tensor of int64, shape (M,)
        0 → class 1, 1 → class 2.

    Examples
    --------
    >>> import torch
    >>> from cnnlab.nn.localization import LocalisationData
    >>> y = torch.tensor([[1., .5, .5, .5, .5, 0, 1], [0, 0, 0, 0, 0, 0, 0]])
    >>> scene, boxes, cls = tile_canvases(LocalisationData(torch.zeros(2, 1, 8, 8), y, None, (3, 7)), [0, 1], 2)
    >>> scene.shape, boxes.tolist(), cls.tolist()
    (torch.Size([1, 8, 16]), [[0.25, 0.5, 0.5, 0.25]], [1])
    """
    if not isinstance(data, LocalisationData):
        raise TypeError(f"data must be LocalisationData, got {type(data).__name__}")
    if isinstance(indices, (bool, np.bool_)) or getattr(indices, "dtype", None) == bool:
        raise TypeError(f"indices must be canvas numbers (ints), got {indices!r}")
    idx = _as_array(indices, "indices", ndim=(0, 1), allow_empty=True).reshape(-1)
    if idx.size == 0:
        raise ValueError("indices must name at least one canvas")
    if idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= len(data.images):
        raise ValueError(f"indices must be canvas numbers in [0, {len(data.images) - 1}], got {indices!r}")
    ncols = _check_int(ncols, "ncols", minimum=1)
    rows = -(-idx.size // ncols)
    S = data.images.shape[-1]
    _check_alloc(rows * S * ncols * S, "ncols", ncols, itemsize=4)
    scene = torch.zeros(1, rows * S, ncols * S)
    boxes, classes = [], []
    for k, i in enumerate(idx.tolist()):
        r, c = divmod(k, ncols)
        scene[0, r * S:(r + 1) * S, c * S:(c + 1) * S] = data.images[i, 0]
        t = data.targets[i]
        if t[0] == 1:
            boxes.append([(c + float(t[1])) / ncols, (r + float(t[2])) / rows, float(t[3]) / rows, float(t[4]) / ncols])
            classes.append(int(t[5:7].argmax()))
    return scene, torch.tensor(boxes).reshape(-1, 4), torch.tensor(classes, dtype=torch.int64)


def match_detections(predicted, true, iou_threshold=0.5):
    """Count hits, false alarms and misses: each true box may be claimed by one predicted box.

    Predicted boxes are taken in the given order (best first, as
    :func:`sliding_window_detect` returns them); each claims the unclaimed true box it
    overlaps most, if that IoU reaches ``iou_threshold``.

    Returns
    -------
    (hits, false_alarms, misses) : tuple of int
        precision = hits / (hits + false_alarms), recall = hits / (hits + misses).

    Examples
    --------
    >>> import torch
    >>> true = torch.tensor([[.25, .25, .2, .2], [.75, .75, .2, .2]])
    >>> pred = torch.tensor([[.26, .25, .2, .2], [.25, .26, .2, .2], [.5, .5, .1, .1]])
    >>> match_detections(pred, true)      # a hit, a duplicate, a box on nothing; one digit missed
    (1, 2, 1)
    """
    p = _as_tensor(predicted, "predicted")
    t = _as_tensor(true, "true")
    for name, a in (("predicted", p), ("true", t)):
        if a.numel() % 4:
            raise ValueError(f"{name} must be (N, 4) boxes, got shape {tuple(a.shape)}")
    p, t = p.reshape(-1, 4), t.reshape(-1, 4)
    iou_threshold = _check_real(iou_threshold, "iou_threshold", minimum=0.0)
    free = torch.ones(len(t), dtype=torch.bool)
    hits = 0
    for box in p:
        if not free.any():
            break
        iou = torch.where(free, box_iou(box.expand(len(t), 4), t), torch.full((len(t),), -1.0))
        best = int(iou.argmax())
        if iou[best] >= iou_threshold:
            free[best] = False
            hits += 1
    return hits, len(p) - hits, len(t) - hits
