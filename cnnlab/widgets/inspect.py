"""Lesson 09's explorers: a trained CNN's feature maps, its explanations, and FGSM.

torch enters only when an explorer is built (through :mod:`cnnlab.nn`), so
``import cnnlab.widgets`` stays torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import _as_array, _check_int, _check_real
from ..viz.explain import blend_heatmap, show_grid
from ._base import Explorer
from ._controls import dropdown, slider

__all__ = ["FeatureMapExplorer", "AttributionExplorer", "FGSMExplorer",
           "FeatureMapResult", "AttributionResult", "FGSMResult"]


def _prepare(model, images, labels):
    """(model, float images (N, C, H, W), labels array or None, number of classes)."""
    import torch

    from ..nn._common import _as_images, _check_model, _dtype
    from ..nn.training import to_tensors

    _check_model(model)
    if not isinstance(images, torch.Tensor) or images.dtype == torch.uint8 or images.ndim == 3:
        images = to_tensors(images)
    x = _as_images(images, "images").detach().cpu().to(_dtype(model))   # float64 numpy -> the model's float32
    if labels is not None:
        labels = _as_array(labels.cpu().numpy() if hasattr(labels, "cpu") else labels, "labels", ndim=1)
        if labels.shape[0] != x.shape[0]:
            raise ValueError(f"labels must have one entry per image ({x.shape[0]}), got {labels.shape[0]}")
    with torch.no_grad():
        from ..nn._common import _eval_mode
        with _eval_mode(model):
            try:
                out = model(x[:1])
            except RuntimeError as exc:  # a shape the layers cannot take
                raise ValueError(f"images of shape {tuple(x.shape)} do not fit the model: {exc}") from exc
    if out.ndim != 2:
        raise ValueError(f"model must return (N, classes) scores, got shape {tuple(out.shape)}")
    return x, labels, int(out.shape[1])


def _spatial_layers(model, x):
    """Names of the leaf layers whose output is a (N, C, H, W) map, in execution order."""
    from ..nn.explain import activations

    return [name for name, a in activations(model, x[:1]).items() if a.ndim == 4]


class _OneThread:
    """Run torch on one thread: for one small image, thread start-up costs more than the work
    (10-100× slower on a busy 2-core machine). The previous setting is restored."""

    def __enter__(self):
        import torch

        self.n = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.n)


def _probabilities(model, x):
    import torch

    from ..nn._common import _eval_mode

    with torch.no_grad(), _eval_mode(model):
        return torch.softmax(model(x), dim=1)[0].cpu().numpy()


def _title(index, labels, probs):
    true = f" (label {labels[index]})" if labels is not None else ""
    return f"#{index}{true}: predicted {int(probs.argmax())} ({probs.max():.0%})"


def _readouts(*parts):
    return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            + " · ".join(parts) + "</div>")


def _prediction_readout(probs):
    p = int(probs.argmax())
    return (f'<span class="cnnlab-readout cnnlab-prediction" data-prediction="{p}" '
            f'data-probability="{probs[p]:.4f}">predicted {p} ({probs[p]:.0%})</span>')


def _unit(img):
    span = img.max() - img.min()
    return (img - img.min()) / (span if span > 0 else 1.0)


def _draw_panels(figure, panels, titles, probs, bars, colors, *, highlight=None, labels=None):
    """Image panels as ONE RGB mosaic (one Axes is far cheaper to draw than three) + a bar chart."""
    h, w, _ = panels[0].shape
    gap = np.ones((h, max(1, w // 10), 3))
    mosaic = np.concatenate([part for p in panels for part in (p, gap)][:-1], axis=1)
    ax = figure.add_axes((0.01, 0.04, 0.64, 0.82))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_axis_off()
    step = w + gap.shape[1]
    for k, title in enumerate(titles):
        ax.text(k * step + w / 2, -1.5, title, ha="center", va="bottom", fontsize=9)
    bar_ax = figure.add_axes((0.7, 0.14, 0.28, 0.72))
    n, width = len(probs), 0.8 / len(bars)
    k = np.arange(n)
    for j, (values, colour) in enumerate(zip(bars, colors)):
        c = colour if highlight is None else ["#d62728" if i == highlight else "#9e9e9e" for i in k]
        bar_ax.bar(k + (j - (len(bars) - 1) / 2) * width, values, width, color=c,
                   label=None if labels is None else labels[j])
    bar_ax.set_xticks(k)
    bar_ax.set_ylim(0, 1)
    bar_ax.tick_params(labelsize=9)
    bar_ax.set_title("class probabilities", fontsize=9)
    if labels is not None:
        bar_ax.legend(fontsize=9)


def _index_slider(n, value):
    value = _check_int(value, "index", minimum=0, maximum=n - 1, what=f"an int in [0, {n - 1}] (an image number)")
    return slider(int, value, 0, n - 1, "image #")


@dataclass
class FeatureMapResult:
    """What :class:`FeatureMapExplorer` shows (``explorer.result``)."""

    index: int
    layer: str
    image: np.ndarray          #: (H, W) the input (first channel)
    maps: np.ndarray           #: (C, h, w) the layer's feature maps for that image
    probabilities: np.ndarray  #: (classes,) softmax of the model's scores

    @property
    def prediction(self) -> int:
        return int(self.probabilities.argmax())


class FeatureMapExplorer(Explorer):
    """Every feature map of a chosen layer for a chosen image (CNN lecture notes §7).

    Parameters
    ----------
    model : torch.nn.Module
        A trained classifier (e.g. ``model2`` after ``fit``).
    images : tensor (N, 1, H, W) or uint8 array (N, H, W)
    labels : array (N,), optional
    layer : str, optional
        Initial layer (default the first convolution).

    Examples
    --------
    >>> import torch
    >>> from cnnlab.nn import model2
    >>> ex = FeatureMapExplorer(model2(), torch.rand(5, 1, 28, 28))
    >>> ex.result.layer, ex.result.maps.shape
    ('0', (8, 24, 24))
    >>> ex.layer.value = "5"; ex.result.maps.shape
    (16, 5, 5)
    """

    height = "500px"
    figsize = (9.0, 4.2)
    css_class = "cnnlab-featuremap-explorer"

    def __init__(self, model, images, labels=None, *, layer=None, index=0):
        super().__init__()
        self.model = model
        self.x, self.labels, self.n_classes = _prepare(model, images, labels)
        names = _spatial_layers(model, self.x)
        if not names:
            raise ValueError("model has no layer with (N, C, H, W) feature maps")
        if layer is not None and str(layer) not in names:
            raise ValueError(f"layer must be one of {', '.join(map(repr, names))}, got {layer!r}")
        named = dict(model.named_modules())
        self._finish(dict(index=_index_slider(len(self.x), index),
                          layer=dropdown([(f"{n}: {type(named[n]).__name__}", n) for n in names],
                                         str(layer) if layer is not None else names[0], "layer")))

    def header(self, result):
        c, h, w = result.maps.shape
        return _readouts(_prediction_readout(result.probabilities),
                         f'<span class="cnnlab-readout cnnlab-maps" data-shape="{c}×{h}×{w}">layer {result.layer}: '
                         f'{c} maps of {h}×{w}</span>')

    def compute(self, index, layer):
        from ..nn.explain import activations

        x = self.x[index:index + 1]
        with _OneThread():
            maps = activations(self.model, x, [layer])[layer][0].cpu().numpy()
            return FeatureMapResult(index, layer, x[0, 0].numpy(), maps, _probabilities(self.model, x))

    def draw(self, result, figure):
        grid = figure.add_gridspec(1, 2, width_ratios=[1, 3], left=0.02, right=0.98, top=0.9, bottom=0.03,
                                   wspace=0.08)
        ax = figure.add_subplot(grid[0])
        ax.imshow(result.image, cmap="gray")
        ax.set_title(_title(result.index, self.labels, result.probabilities), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        c, h, w = result.maps.shape
        show_grid(result.maps, ncols=int(np.ceil(np.sqrt(c * 1.6))), labels=[str(k) for k in range(c)],
                  ax=figure.add_subplot(grid[1]),
                  title=f"layer {result.layer}: {c} feature maps of {h}×{w} (each scaled to its own range)")


@dataclass
class AttributionResult:
    """What :class:`AttributionExplorer` shows."""

    index: int
    target: int                 #: the class explained
    layer: str                  #: Grad-CAM's layer
    image: np.ndarray           #: (H, W)
    saliency: np.ndarray        #: (H, W) |∂y^c/∂x|, max over channels
    grad_cam: np.ndarray        #: (H, W) upsampled Grad-CAM map
    probabilities: np.ndarray   #: (classes,)
    saliency_scale: float = 0.0  #: top of the saliency colour scale: its max over all classes
    grad_cam_scale: float = 0.0  #: top of the Grad-CAM colour scale: its max over all classes


class AttributionExplorer(Explorer):
    """Saliency and Grad-CAM for a chosen image and class (CNN lecture notes §8, Bishop ch. 10 slides).

    Parameters
    ----------
    model, images, labels : as :class:`FeatureMapExplorer`
    layer : str, optional
        Grad-CAM's layer; default the last layer with spatial feature maps (the Bishop ch. 10 slides'
        "final convolutional layer").

    Examples
    --------
    >>> import torch
    >>> from cnnlab.nn import model2
    >>> ex = AttributionExplorer(model2(), torch.rand(3, 1, 28, 28))
    >>> ex.result.saliency.shape, ex.result.grad_cam.shape, ex.result.layer
    ((28, 28), (28, 28), '5')
    >>> ex.target.value = 7; ex.result.target
    7
    """

    height = "360px"
    figsize = (9.5, 2.9)
    css_class = "cnnlab-attribution-explorer"

    def __init__(self, model, images, labels=None, *, layer=None, index=0, target=None):
        super().__init__()
        self.model = model
        self.x, self.labels, self.n_classes = _prepare(model, images, labels)
        names = _spatial_layers(model, self.x)
        if not names:
            raise ValueError("model has no layer with (N, C, H, W) feature maps for Grad-CAM")
        if layer is not None and str(layer) not in names:
            raise ValueError(f"layer must be one of {', '.join(map(repr, names))}, got {layer!r}")
        index_control = _index_slider(len(self.x), index)
        if target is not None:
            target = _check_int(target, "target", minimum=0, maximum=self.n_classes - 1,
                                what=f"None or a class in [0, {self.n_classes - 1}]")
        classes = [("predicted class", -1)] + [(str(c), c) for c in range(self.n_classes)]
        self._finish(dict(index=index_control,
                          target=dropdown(classes, -1 if target is None else target, "explain class"),
                          layer=dropdown(names, str(layer) if layer is not None else names[-1], "Grad-CAM layer")))

    def header(self, result):
        peak = np.unravel_index(int(result.grad_cam.argmax()), result.grad_cam.shape)
        return _readouts(_prediction_readout(result.probabilities),
                         f'<span class="cnnlab-readout cnnlab-target" data-target="{result.target}" '
                         f'data-cam-peak="{peak[0]},{peak[1]}">explaining class {result.target}; '
                         f'Grad-CAM peaks at row {peak[0]}, column {peak[1]}</span>')

    def compute(self, index, target, layer):
        from ..nn.attribution import grad_cam, saliency

        x = self.x[index:index + 1]
        with _OneThread():
            probs = _probabilities(self.model, x)
            c = int(probs.argmax()) if target == -1 else int(target)
            sal = saliency(self.model, x, c)[0].amax(0).cpu().numpy()
            cam = grad_cam(self.model, x, c, layer)[0].cpu().numpy()
            every = x.expand(self.n_classes, *x.shape[1:])          # every class at once: one shared scale
            classes = list(range(self.n_classes))
            sal_top = max(float(saliency(self.model, every, classes).max()), float(sal.max()))
            cam_top = max(float(grad_cam(self.model, every, classes, layer).max()), float(cam.max()))
        return AttributionResult(index, c, layer, x[0, 0].numpy(), sal, cam, probs, sal_top or 1.0, cam_top or 1.0)

    def draw(self, result, figure):
        grey = np.repeat(_unit(result.image)[..., None], 3, axis=2)
        panels = [grey, blend_heatmap(result.image, result.saliency, vmax=result.saliency_scale),
                  blend_heatmap(result.image, result.grad_cam, vmax=result.grad_cam_scale)]
        titles = [_title(result.index, self.labels, result.probabilities),
                  f"saliency $|\\partial y^{{{result.target}}}/\\partial x|$\n"
                  f"scale 0–{result.saliency_scale:.3g} (all classes)",
                  f"Grad-CAM, class {result.target}, layer {result.layer}\n"
                  f"scale 0–{result.grad_cam_scale:.3g} (all classes)"]
        _draw_panels(figure, panels, titles, result.probabilities, [result.probabilities], ["#d62728"],
                     highlight=result.target)


@dataclass
class FGSMResult:
    """What :class:`FGSMExplorer` shows."""

    index: int
    epsilon: float
    image: np.ndarray           #: (H, W) clean
    adversarial: np.ndarray     #: (H, W) x' = clip(x + ε·sign(∇ₓE))
    clean_probabilities: np.ndarray
    adversarial_probabilities: np.ndarray

    @property
    def flipped(self) -> bool:
        return int(self.clean_probabilities.argmax()) != int(self.adversarial_probabilities.argmax())


class FGSMExplorer(Explorer):
    """Move ε and watch the fast gradient sign method change the prediction (Bishop ch. 10 slides).

    Parameters
    ----------
    model, images : as :class:`FeatureMapExplorer`
    labels : array (N,)
        True labels t of E(x, t) (required: FGSM climbs the error of the true class).

    Examples
    --------
    >>> import torch
    >>> from cnnlab.nn import model2
    >>> ex = FGSMExplorer(model2(), torch.rand(3, 1, 28, 28), [0, 1, 2])
    >>> ex.epsilon.value = 0.0; bool(abs(ex.result.adversarial - ex.result.image).max() == 0)
    True
    """

    height = "360px"
    figsize = (9.5, 2.9)
    css_class = "cnnlab-fgsm-explorer"

    def __init__(self, model, images, labels, *, index=0, epsilon=0.1):
        super().__init__()
        if labels is None:
            raise ValueError("labels are required: FGSM increases the error of the true label")
        self.model = model
        self.x, self.labels, self.n_classes = _prepare(model, images, labels)
        index_control = _index_slider(len(self.x), index)
        epsilon = _check_real(epsilon, "epsilon", minimum=0.0, maximum=0.5)
        self._finish(dict(index=index_control,
                          epsilon=slider(float, epsilon, 0.0, 0.5, "epsilon ε", step=0.01, readout_format=".2f")))

    def compute(self, index, epsilon):
        from ..nn.attribution import fgsm

        x = self.x[index:index + 1]
        with _OneThread():
            adv = fgsm(self.model, x, [int(self.labels[index])], epsilon)
            return FGSMResult(index, float(epsilon), x[0, 0].numpy(), adv[0, 0].cpu().numpy(),
                              _probabilities(self.model, x), _probabilities(self.model, adv))

    def header(self, result):
        a, b = result.clean_probabilities, result.adversarial_probabilities
        verdict = "fooled" if result.flipped else "not fooled"
        return _readouts(
            f'<span class="cnnlab-readout cnnlab-fgsm" data-epsilon="{result.epsilon:.2f}" '
            f'data-clean="{int(a.argmax())}" data-adversarial="{int(b.argmax())}" '
            f'data-flipped="{str(result.flipped).lower()}" data-max-change="{np.abs(result.adversarial - result.image).max():.4f}">'
            f'ε = {result.epsilon:.2f}: predicted {int(a.argmax())} ({a.max():.0%}) → {int(b.argmax())} '
            f'({b.max():.0%}) — <b>{verdict}</b></span>')

    def draw(self, result, figure):
        import matplotlib

        delta = result.adversarial - result.image
        m = max(float(np.abs(delta).max()), 1e-12)
        panels = [np.repeat(np.clip(result.image, 0, 1)[..., None], 3, axis=2),
                  matplotlib.colormaps["RdBu_r"]((delta / m + 1) / 2)[..., :3],
                  np.repeat(np.clip(result.adversarial, 0, 1)[..., None], 3, axis=2)]
        titles = [f"clean (label {self.labels[result.index]})", "x' − x (red +, blue −)",
                  f"adversarial, ε = {result.epsilon:.2f}"]
        _draw_panels(figure, panels, titles, result.clean_probabilities,
                     [result.clean_probabilities, result.adversarial_probabilities], ["#1f77b4", "#d62728"],
                     labels=["clean", "adversarial"])
