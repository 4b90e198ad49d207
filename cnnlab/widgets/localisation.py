"""Lesson 10's explorers: a predicted box against the true one, and non-max suppression.

:class:`LocalisationExplorer` lets you move and resize a predicted box on a canvas and
reads out the intersection over union and the Unit 5 notes' localisation loss term by
term (computed by :func:`cnnlab.nn.box_iou` and :func:`cnnlab.nn.localisation_loss`).
:class:`DetectionExplorer` runs a localisation network over sliding windows of a scene
once, then applies the presence threshold and greedy non-max suppression
(:func:`cnnlab.nn.non_max_suppression`) live, so you watch duplicate boxes merge.

torch enters only when an explorer is built (through :mod:`cnnlab.nn`), so
``import cnnlab.widgets`` stays torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import Explorer
from ._controls import slider

__all__ = ["LocalisationExplorer", "LocalisationResult", "DetectionExplorer", "DetectionResult",
           "box_terms", "default_canvases"]

TRUE, PRED, KEPT, DROPPED = "#2ca02c", "#d62728", "#d62728", "#9e9e9e"
TERMS = ("p_c", "x", "y", "h", "w", "p_1", "p_2")


def default_canvases(n=48, *, canvas=40, seed=3):
    """Localisation canvases from the shipped MNIST subset (3s and 7s, as in lesson 10).

    Returns
    -------
    cnnlab.nn.LocalisationData
        ``n`` canvases of ``canvas × canvas`` pixels; a fifth are empty.

    Examples
    --------
    >>> data = default_canvases(4)
    >>> tuple(data.images.shape), tuple(data.targets.shape)
    ((4, 1, 40, 40), (4, 7))
    """
    from ..nn import load_subset, make_localisation_data

    digits = load_subset()
    return make_localisation_data(digits.images, digits.labels, (3, 7), n=n, canvas=canvas,
                                  size_range=(13, 32), p_empty=0.2, seed=seed)


def box_terms(y_hat, y):
    """The seven squared errors of the Unit 5 notes' localisation loss, the loss itself, and the IoU of the two boxes.

    Parameters
    ----------
    y_hat, y : array_like, shape (7,)
        Prediction and target [p_c, x, y, h, w, p_1, p_2]; ``y[0]`` is 0 or 1.

    Returns
    -------
    dict
        ``"terms"``: (7,) squared errors (ignored ones are 0 when y[0] = 0), ``"used"``:
        (7,) bool, ``"loss"``: their sum (:func:`cnnlab.nn.localisation_loss`), ``"iou"``:
        :func:`cnnlab.nn.box_iou` of the (x, y, h, w) parts, ``"intersection"`` and
        ``"union"``: the two areas (fractions of the canvas area).

    Notes
    -----
    L(ŷ, y) = (ŷ_1 − y_1)² if p_c = 0, Σ_{i=1}^{7} (ŷ_i − y_i)² if p_c = 1;
    IoU = |A ∩ B| / |A ∪ B|.

    Examples
    --------
    >>> r = box_terms([0.9, 0.5, 0.4, 0.2, 0.1, 0.8, 0.1], [1, 0.5, 0.5, 0.2, 0.1, 1, 0])
    >>> round(r["loss"], 6), round(r["iou"], 4)          # .01 + .01 + .04 + .01
    (0.07, 0.3333)
    >>> box_terms([0.2, 0, 0, 0, 0, 0, 0], [0, 9, 9, 9, 9, 9, 9])["loss"]   # only p_c counts
    0.04000000000000001
    """
    import torch

    from ..nn import box_iou, localisation_loss

    a = torch.as_tensor(np.asarray(y_hat, dtype=np.float64)).reshape(1, -1)
    b = torch.as_tensor(np.asarray(y, dtype=np.float64)).reshape(1, -1)
    loss = float(localisation_loss(a, b))            # checks the shapes and p_c
    used = np.ones(7, bool) if float(b[0, 0]) == 1 else np.eye(7, dtype=bool)[0]
    terms = np.where(used, ((a - b) ** 2)[0].numpy(), 0.0)
    iou = float(box_iou(a[:, 1:5].float(), b[:, 1:5].float())[0])
    (x1, y1, h1, w1), (x2, y2, h2, w2) = a[0, 1:5].tolist(), b[0, 1:5].tolist()

    def overlap(c1, s1, c2, s2):                     # length of the overlap of two centred intervals
        return max(0.0, min(c1 + s1 / 2, c2 + s2 / 2) - max(c1 - s1 / 2, c2 - s2 / 2))

    inter = overlap(x1, w1, x2, w2) * overlap(y1, h1, y2, h2)
    union = max(h1, 0) * max(w1, 0) + max(h2, 0) * max(w2, 0) - inter
    return {"terms": terms, "used": used, "loss": loss, "iou": iou, "intersection": inter, "union": union}


@dataclass(frozen=True, eq=False)
class LocalisationResult:
    """What :class:`LocalisationExplorer` shows (``explorer.result``)."""

    index: int
    image: np.ndarray      #: (S, S) the canvas
    target: np.ndarray     #: (7,) y = [p_c, x, y, h, w, p_1, p_2]
    prediction: np.ndarray  #: (7,) ŷ from the controls
    terms: np.ndarray      #: (7,) squared errors that the loss counts
    used: np.ndarray       #: (7,) which terms count (all when p_c = 1, only p_c when 0)
    loss: float
    iou: float
    intersection: float
    union: float


class LocalisationExplorer(Explorer):
    """Move and resize a predicted box against the true one; IoU and the Unit 5 notes' localisation loss live.

    Parameters
    ----------
    data : cnnlab.nn.LocalisationData, optional
        Canvases and targets (default: :func:`default_canvases`, 48 canvases of 3s and 7s
        made from the shipped MNIST subset).
    index : int, optional
        The canvas shown first (default: the first one with a digit).

    Examples
    --------
    >>> ex = LocalisationExplorer(default_canvases(4))       # canvas #1: the first with a digit
    >>> ex.result.index, ex.result.target.round(3).tolist()
    (1, [1.0, 0.325, 0.525, 0.55, 0.5, 1.0, 0.0])
    >>> ex.set_box(0.325, 0.525, 0.55, 0.5); ex.result.iou    # the box sits on the digit
    1.0
    >>> ex.w.value = 0.25; round(ex.result.iou, 3)            # half as wide: half the area
    0.5
    >>> ex.index.value = 0; float(ex.result.target[0]), round(ex.result.loss, 4)   # empty: only (p̂_c − 0)²
    (0.0, 0.81)
    """

    height = "430px"
    figsize = (9.0, 3.4)
    css_class = "cnnlab-localisation-explorer"

    def __init__(self, data=None, *, index=None):
        super().__init__()
        from ..nn import LocalisationData

        data = default_canvases() if data is None else data
        if not isinstance(data, LocalisationData):
            raise TypeError(f"data must be cnnlab.nn.LocalisationData (make_localisation_data), "
                            f"got {type(data).__name__}")
        self.images = data.images[:, 0].numpy()
        self.targets = data.targets.numpy().astype(np.float64)
        self.classes = data.classes
        n = len(self.images)
        if index is None:
            index = int(np.argmax(self.targets[:, 0] == 1))
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or not 0 <= index < n:
            raise ValueError(f"index must be an int in [0, {n - 1}], got {index!r}")
        self.index = slider(int, int(index), 0, n - 1, "canvas #")
        self.index.observe(self._new_canvas, names="value")   # observed before the redraw: the box moves first
        fraction = dict(step=0.01, continuous=True)
        self.x = slider(float, 0.5, 0.0, 1.0, "x̂ (centre col)", **fraction)
        self.y = slider(float, 0.5, 0.0, 1.0, "ŷ (centre row)", **fraction)
        self.h = slider(float, 0.4, 0.0, 1.0, "ĥ (height)", **fraction)
        self.w = slider(float, 0.3, 0.0, 1.0, "ŵ (width)", **fraction)
        self._start_near(int(index))
        self._finish(dict(index=self.index, x=self.x, y=self.y, h=self.h, w=self.w,
                          pc=slider(float, 0.9, 0.0, 1.0, "p̂_c (object?)", **fraction),
                          p1=slider(float, 0.8, 0.0, 1.0, f"p̂_1 (a {self.classes[0]})", **fraction)))

    def _start_near(self, index):
        """Put the predicted box near the true one (shifted by 10 % of the canvas)."""
        t = self.targets[index]
        with self._quietly():
            if t[0] == 1:
                self.x.value, self.y.value = round(min(t[1] + 0.1, 1.0), 2), round(min(t[2] + 0.05, 1.0), 2)
                self.h.value, self.w.value = round(t[3], 2), round(t[4], 2)

    def set_box(self, x, y, h, w):
        """Move the predicted box (fractions of the canvas) and redraw once."""
        with self.hold_updates():
            self.x.value, self.y.value, self.h.value, self.w.value = x, y, h, w

    def _new_canvas(self, change):
        self._start_near(int(change["new"]))

    def compute(self, *, index, x, y, h, w, pc, p1):
        pred = np.array([pc, x, y, h, w, p1, 1.0 - p1])
        target = self.targets[index]
        r = box_terms(pred, target)
        return LocalisationResult(index, self.images[index], target, pred, r["terms"], r["used"], r["loss"],
                                  r["iou"], r["intersection"], r["union"])

    def draw(self, r, figure):
        from matplotlib.patches import Rectangle

        ax = figure.add_axes((0.01, 0.03, 0.36, 0.86))
        S = r.image.shape[0]
        ax.imshow(r.image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        self._boxes = []
        for colour, style in ((TRUE, "--"), (PRED, "-")):
            patch = Rectangle((0, 0), 0, 0, fill=False, edgecolor=colour, linewidth=2, linestyle=style)
            ax.add_patch(patch)
            self._boxes.append(patch)
        self._overlap = ax.add_patch(Rectangle((0, 0), 0, 0, facecolor="#ffdd57", alpha=0.45, edgecolor="none"))
        ax.set_xlim(-0.5, S - 0.5)
        ax.set_ylim(S - 0.5, -0.5)
        self._title = ax.set_title("", fontsize=9)
        bars = figure.add_axes((0.46, 0.17, 0.52, 0.7))
        self._bars = bars.bar(range(7), r.terms, color=[PRED] * 7)
        bars.set_xticks(range(7), [f"({t}̂ − {t})²" if len(t) == 1 else f"Δ{t}²" for t in TERMS], fontsize=9)
        bars.tick_params(labelsize=9)
        bars.grid(axis="y", alpha=0.3)
        self._bar_title = bars.set_title("", fontsize=9)
        self._bar_ax = bars
        self.refresh(r, figure)

    def refresh(self, r, figure):
        S = r.image.shape[0]
        figure.axes[0].images[0].set_data(r.image)
        for patch, box, show in ((self._boxes[0], r.target[1:5], r.target[0] == 1),
                                 (self._boxes[1], r.prediction[1:5], True)):
            x, y, h, w = box * S
            patch.set_bounds(x - w / 2 - 0.5, y - h / 2 - 0.5, w, h)
            patch.set_visible(bool(show))
        (x1, y1, h1, w1), (x2, y2, h2, w2) = r.target[1:5] * S, r.prediction[1:5] * S
        left, top = max(x1 - w1 / 2, x2 - w2 / 2), max(y1 - h1 / 2, y2 - h2 / 2)
        right, bottom = min(x1 + w1 / 2, x2 + w2 / 2), min(y1 + h1 / 2, y2 + h2 / 2)
        self._overlap.set_bounds(left - 0.5, top - 0.5, max(right - left, 0), max(bottom - top, 0))
        self._overlap.set_visible(bool(r.target[0] == 1))
        what = (f"true: a {self.classes[int(r.target[5:7].argmax())]} (dashed)" if r.target[0] == 1
                else "true: no object")
        self._title.set_text(f"canvas #{r.index} · {what}")
        for bar, value, used in zip(self._bars, r.terms, r.used):
            bar.set_height(value)
            bar.set_color(PRED if used else DROPPED)
        self._bar_ax.set_ylim(0, max(0.05, 1.1 * float(r.terms.max())))
        self._bar_title.set_text(f"loss terms: L = {r.loss:.4f}" + ("" if r.target[0] == 1
                                                                   else " (no object: only p_c counts)"))
        return True

    def header(self, r):
        iou = (f'IoU = {r.intersection:.3f} / {r.union:.3f} = {r.iou:.3f}' if r.target[0] == 1
               else "IoU: no true box")
        verdict = "" if r.target[0] != 1 else (" ≥ 0.5: counts as correct" if r.iou >= 0.5 else " < 0.5: a miss")
        return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
                f'<span class="cnnlab-readout cnnlab-iou" data-iou="{r.iou:.4f}">{iou}{verdict}</span> · '
                f'<span class="cnnlab-readout cnnlab-loss" data-loss="{r.loss:.6f}">loss L(ŷ, y) = '
                f'{" + ".join(f"{t:.3f}" for t, u in zip(r.terms, r.used) if u)} = {r.loss:.4f}</span></div>')


@dataclass(frozen=True, eq=False)
class DetectionResult:
    """What :class:`DetectionExplorer` shows (``explorer.result``)."""

    threshold: float
    iou_threshold: float
    candidates: np.ndarray  #: (M, 4) boxes of the windows with p̂_c above the threshold
    scores: np.ndarray      #: (M,) their p̂_c, best first
    kept: np.ndarray        #: indices into ``candidates`` that survive non-max suppression
    windows: int
    hits: int | None        #: with true boxes: matched boxes (IoU ≥ 0.5), else None
    false_alarms: int | None
    misses: int | None


class DetectionExplorer(Explorer):
    """Sliding-window detection with a live presence threshold and non-max suppression.

    The network runs once, at construction, on every window; moving the sliders only
    filters and merges the boxes, so each change is fast.

    Parameters
    ----------
    model : torch.nn.Module
        A localisation network for ``window × window`` canvases (outputs (N, 7)).
    scene : tensor (1, H, W) or (1, 1, H, W)
    window, stride : int
        As for :func:`cnnlab.nn.sliding_window_detect`.
    true_boxes : tensor (K, 4), optional
        The objects' boxes (fractions of the scene): hits, false alarms and misses are
        counted (:func:`cnnlab.nn.match_detections`).
    threshold, iou_threshold : float
        Initial presence threshold (keep windows with p̂_c above it) and NMS threshold (drop a
        box whose IoU with a kept one is above it).

    Examples
    --------
    >>> import torch
    >>> class Whole(torch.nn.Module):      # "an object fills every window"
    ...     def forward(self, x):
    ...         return torch.tensor([[0.95, .5, .5, 1, 1, 1, 0]]).repeat(x.shape[0], 1)
    >>> ex = DetectionExplorer(Whole(), torch.zeros(1, 8, 8), window=4, stride=2)
    >>> ex.result.windows, len(ex.result.candidates), ex.result.kept.tolist()   # neighbours: IoU 1/3
    (9, 9, [0, 2, 4, 6, 8])
    >>> ex.iou_threshold.value = 0.5; len(ex.result.kept)     # nothing overlaps that much
    9
    >>> ex.iou_threshold.value = 0.0; len(ex.result.kept)     # no overlap allowed: the 4 corners
    4
    """

    height = "470px"
    figsize = (6.4, 3.9)
    css_class = "cnnlab-detection-explorer"

    def __init__(self, model, scene, *, window, stride, true_boxes=None, threshold=0.9, iou_threshold=0.2):
        super().__init__()
        import torch

        from ..nn import sliding_window_detect

        # every window, none suppressed: IoU never exceeds 1, and p̂_c > 0 after a sigmoid
        raw = sliding_window_detect(model, scene, window=window, stride=stride, threshold=-1.0, iou_threshold=1.0)
        x = torch.as_tensor(scene)
        self.scene = (x[0] if x.ndim == 4 else x)[0].detach().cpu().numpy()
        self.boxes, self.scores, self.windows = raw.boxes.numpy(), raw.scores.numpy(), raw.windows
        try:
            self.true_boxes = (None if true_boxes is None
                               else np.asarray(true_boxes, dtype=np.float64).reshape(-1, 4))
        except (TypeError, ValueError) as exc:
            raise (TypeError if isinstance(exc, TypeError) else ValueError)(
                f"true_boxes must be boxes (x, y, h, w) as a (K, 4) array, got {true_boxes!r}: {exc}") from None
        for name, v in (("threshold", threshold), ("iou_threshold", iou_threshold)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        self._finish(dict(threshold=slider(float, float(threshold), 0.0, 0.99, "p̂_c threshold", step=0.01),
                          iou_threshold=slider(float, float(iou_threshold), 0.0, 1.0, "NMS IoU threshold",
                                               step=0.05)))

    def compute(self, *, threshold, iou_threshold):
        import torch

        from ..nn import match_detections, non_max_suppression

        above = self.scores > threshold
        cand, scores = self.boxes[above], self.scores[above]
        kept = (non_max_suppression(torch.from_numpy(cand), torch.from_numpy(scores), iou_threshold).numpy()
                if len(cand) else np.zeros(0, np.int64))
        hits = false_alarms = misses = None
        if self.true_boxes is not None:
            hits, false_alarms, misses = match_detections(cand[kept], self.true_boxes, 0.5)
        return DetectionResult(float(threshold), float(iou_threshold), cand, scores, kept, self.windows, hits,
                               false_alarms, misses)

    def draw(self, r, figure):
        ax = figure.add_axes((0.01, 0.02, 0.98, 0.88))
        ax.imshow(self.scene, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_axis_off()
        H, W = self.scene.shape
        ax.set_xlim(-0.5, W - 0.5)
        ax.set_ylim(H - 0.5, -0.5)
        self._draw_boxes(ax, r)

    def refresh(self, r, figure):
        ax = figure.axes[0]
        for p in list(ax.patches):
            p.remove()
        self._draw_boxes(ax, r)
        return True

    def _draw_boxes(self, ax, r):
        from matplotlib.patches import Rectangle

        H, W = self.scene.shape
        kept = set(r.kept.tolist())
        rect = lambda b, **kw: Rectangle(((b[0] - b[3] / 2) * W - 0.5, (b[1] - b[2] / 2) * H - 0.5),  # noqa: E731
                                         b[3] * W, b[2] * H, fill=False, **kw)
        for i, b in enumerate(r.candidates):
            if i not in kept:
                ax.add_patch(rect(b, edgecolor=DROPPED, linewidth=0.8, alpha=0.7))
        if self.true_boxes is not None:
            for b in self.true_boxes:
                ax.add_patch(rect(b, edgecolor=TRUE, linewidth=2, linestyle="--"))
        for i in r.kept.tolist():
            ax.add_patch(rect(r.candidates[i], edgecolor=KEPT, linewidth=2))
        ax.set_title(f"{len(r.candidates)} windows with p̂_c > {r.threshold:.2f} (grey) → {len(r.kept)} after NMS "
                     f"(red); true boxes dashed", fontsize=9)

    def header(self, r):
        parts = [f'<span class="cnnlab-readout cnnlab-detections" data-candidates="{len(r.candidates)}" '
                 f'data-kept="{len(r.kept)}">{r.windows} windows · {len(r.candidates)} above p̂_c > '
                 f'{r.threshold:.2f} · {len(r.kept)} left after suppressing IoU > {r.iou_threshold:.2f}</span>']
        if r.hits is not None:
            parts.append(f'<span class="cnnlab-readout cnnlab-matches" data-hits="{r.hits}" '
                         f'data-false-alarms="{r.false_alarms}" data-misses="{r.misses}">hits {r.hits}, '
                         f'false alarms {r.false_alarms}, misses {r.misses}</span>')
        return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
                + " · ".join(parts) + "</div>")
