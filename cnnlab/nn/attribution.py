"""Why did the network decide that? Saliency, Grad-CAM, and fooling it with FGSM.

The CNN lecture notes §8 and the Bishop ch. 10 slides ("Saliency maps", "Adversarial attacks"). Every function
runs the model in eval mode, differentiates with :func:`torch.autograd.grad` with
respect to the input or a layer only — the model's parameters and their ``.grad``
are never touched — and leaves the model's mode as it found it.

captum implements the same three methods (``Saliency``, ``LayerGradCam`` +
``LayerAttribution.interpolate``, ``FGSM``); ``tests/test_explain.py`` checks that
these functions agree with it. They are written out here because the course teaches
the formulas, and so that the library needs no captum at run time.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import _as_array, _check_int, _check_mode, _check_real
from ._common import (
    _as_images, _check_classes, _check_clip, _check_model, _eval_mode, _input_errors, _resolve_layer, _targets,
)
from .explain import record_activations

__all__ = ["saliency", "grad_cam", "fgsm", "fgsm_accuracy", "fgsm_min_epsilon"]


@_input_errors("x")
def saliency(model, x, target, *, abs=True) -> torch.Tensor:
    """Saliency map: the gradient of the class score with respect to the input pixels.

    Parameters
    ----------
    model : torch.nn.Module
        Returns (N, classes) logits.
    x : tensor (N, C, H, W)
    target : int or sequence of int
        Class c whose score y^c (logit, before softmax; a^c in the Bishop ch. 10 slides) is explained, one per image or
        the same for all.
    abs : bool
        Return |∂y^c/∂x| (the usual picture, and captum's default) or the signed gradient.

    Returns
    -------
    torch.Tensor
        Shape ``(N, C, H, W)``, same as ``x``: s[n, ch, i, j] = ∂y^{c_n}(x_n)/∂x[n, ch, i, j].

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    >>> net[1].weight.data = torch.tensor([[1., -2, 0, 3], [0, 0, 1, 0]])
    >>> saliency(net, torch.zeros(1, 1, 2, 2), 0).flatten().tolist()
    [1.0, 2.0, 0.0, 3.0]
    >>> saliency(net, torch.zeros(1, 1, 2, 2), 0, abs=False).flatten().tolist()
    [1.0, -2.0, 0.0, 3.0]
    """
    _check_model(model)
    x = _as_images(x, model=model).detach().requires_grad_(True)
    t = _targets(target, x.shape[0])
    with _eval_mode(model), torch.enable_grad():
        logits = model(x)
        t = _check_classes(t, logits)
        score = logits.gather(1, t[:, None]).sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad.abs() if abs else grad


@_input_errors("x")
def grad_cam(model, x, target, layer, *, relu=True, upsample="bilinear") -> torch.Tensor:
    """Grad-CAM class activation map at a convolutional layer (Bishop ch. 10 slides).

    Parameters
    ----------
    model : torch.nn.Module
    x : tensor (N, C, H, W)
    target : int or sequence of int
        Class c; y^c is its logit.
    layer : str or module
        The layer whose output A (N, K, h, w) is weighted — the Bishop ch. 10 slides take the final
        convolutional layer (pre-activations: the Conv2d itself; pass its ReLU for
        the post-activation maps of Selvaraju et al.).
    relu : bool
        Keep only positive evidence, L = ReLU(Σ_k α_k A^(k)) (captum's
        ``relu_attributions=True``). ``False`` gives the Bishop ch. 10 slides' plain sum.
    upsample : {'bilinear', 'nearest', None}
        Resize the map to the input's H×W (``F.interpolate``, ``align_corners=False``)
        or return it at the layer's resolution.

    Returns
    -------
    torch.Tensor
        Shape ``(N, H, W)`` when upsampled, else ``(N, h, w)``.

    Notes
    -----
    α_k = (1/M_k) Σ_i Σ_j ∂y^c/∂A^k_ij  with M_k = h·w units in channel k,
    L_ij = Σ_k α_k A^k_ij  (the Bishop ch. 10 slides write a^c and a_ij^(k)).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False), nn.Flatten(), nn.Linear(4, 1, bias=False))
    >>> _ = net[0].weight.data.fill_(1.0); net[2].weight.data = torch.tensor([[4., 0, 0, 0]])
    >>> x = torch.tensor([[[[1., 2], [3, 4]]]])
    >>> grad_cam(net, x, 0, "0", upsample=None)   # alpha = mean(4, 0, 0, 0) = 1
    tensor([[[1., 2.],
             [3., 4.]]])
    """
    _check_model(model)
    x = _as_images(x, model=model)
    name, _ = _resolve_layer(model, layer)
    upsample = _check_mode(upsample, ("bilinear", "nearest", None), "upsample")
    t = _targets(target, x.shape[0])
    with _eval_mode(model), torch.enable_grad(), record_activations(model, name, detach=False) as acts:
        logits = model(x)
        t = _check_classes(t, logits)
        if name not in acts:
            raise ValueError(f"layer {name!r} did not run in the forward pass")
        A = acts[name]
        if A.ndim != 4:
            raise ValueError(f"layer {name!r} outputs shape {tuple(A.shape)}; Grad-CAM needs a "
                             "convolutional (N, K, h, w) layer")
        if not A.requires_grad:
            raise ValueError(f"the class score does not depend on layer {name!r}")
        (dA,) = torch.autograd.grad(logits.gather(1, t[:, None]).sum(), A, allow_unused=True)
    if dA is None:
        dA = torch.zeros_like(A)
    alpha = dA.mean(dim=(2, 3), keepdim=True)          # (N, K, 1, 1)
    cam = (alpha * A.detach()).sum(dim=1, keepdim=True)  # (N, 1, h, w)
    if relu:
        cam = F.relu(cam)
    if upsample is not None:
        cam = F.interpolate(cam, size=tuple(x.shape[-2:]), mode=upsample,
                            align_corners=False if upsample == "bilinear" else None)
    return cam[:, 0]


def _loss_gradient_sign(model, x, t, loss):
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        t = _check_classes(t, logits, "labels")
        E = F.cross_entropy(logits, t, reduction="sum") if loss is None else loss(logits, t)
        if not isinstance(E, torch.Tensor):
            raise TypeError(f"loss must return a tensor, got {type(E).__name__}")
        (grad,) = torch.autograd.grad(E.sum(), x)  # per-image losses: the sum's gradient
    return grad.sign()


def _perturb(x, sign, epsilon, clip):
    out = x + epsilon * sign
    return out.clamp(*clip) if clip is not None else out


@_input_errors("x")
def fgsm(model, x, labels, epsilon, *, clip=(0.0, 1.0), targeted=False, loss=None) -> torch.Tensor:
    """Fast gradient sign method: x' = x + ε·sign(∇ₓE(x, t)), clipped to the pixel range.

    Parameters
    ----------
    model : torch.nn.Module
    x : tensor (N, C, H, W)
    labels : int or sequence of int
        The true labels t (or, with ``targeted=True``, the class to push towards).
    epsilon : float
        Step per pixel, ε ≥ 0.
    clip : (low, high) or None
        Valid pixel range; cnnlab's images live in [0, 1].
    targeted : bool
        Step *down* the error of the target class instead: x' = x − ε·sign(∇ₓE(x, t)).
    loss : callable, optional
        ``loss(logits, labels) -> tensor``; default the summed cross-entropy E.

    Returns
    -------
    torch.Tensor
        The adversarial images, shape ``(N, C, H, W)``, detached.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    >>> net[1].weight.data = torch.tensor([[1., -1.], [-1., 1.]])
    >>> x = torch.tensor([[[[0.5, 0.5]]]])
    >>> fgsm(net, x, 0, 0.1)        # lowers pixel 0, raises pixel 1: towards class 1
    tensor([[[[0.4000, 0.6000]]]])
    >>> fgsm(net, x, 0, 0.9)        # clipped to [0, 1]
    tensor([[[[0., 1.]]]])
    """
    _check_model(model)
    x = _as_images(x, model=model)
    epsilon = _check_real(epsilon, "epsilon", minimum=0.0, maximum=1e30)  # float32 holds it, 0·ε stays 0
    clip = _check_clip(clip)
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be callable or None, got {loss!r}")
    t = _targets(labels, x.shape[0], "labels")
    with _eval_mode(model):
        sign = _loss_gradient_sign(model, x, t, loss)
    return _perturb(x.detach(), -sign if targeted else sign, epsilon, clip)


def _check_epsilons(epsilons):
    eps = _as_array(epsilons, "epsilons", ndim=(0, 1), finite=False, allow_empty=True).astype(float).reshape(-1)
    if eps.size == 0 or not np.all(np.isfinite(eps)) or (eps < 0).any() or (eps > 1e30).any():
        raise ValueError(f"epsilons must be a non-empty sequence of finite values in [0, 1e30], got {epsilons!r}")
    return eps


def _sweep(model, x, labels, eps, clip, batch_size):
    """(N, E) bool: is image n still classified correctly at eps[e]?"""
    model_x = _as_images(x, model=model)
    t = _targets(labels, model_x.shape[0], "labels")
    batch_size = _check_int(batch_size, "batch_size", minimum=1)
    rows = []
    with _eval_mode(model):
        for s in range(0, model_x.shape[0], batch_size):
            xb, tb = model_x[s:s + batch_size], t[s:s + batch_size]
            sign = _loss_gradient_sign(model, xb, tb, None)
            tb = tb.to(xb.device)
            with torch.no_grad():
                rows.append(torch.stack(
                    [model(_perturb(xb, sign, e, clip)).argmax(1) == tb for e in eps], dim=1).cpu())
    return torch.cat(rows).numpy()


@_input_errors("x")
def fgsm_accuracy(model, x, labels, epsilons, *, clip=(0.0, 1.0), batch_size=500) -> np.ndarray:
    """Accuracy on FGSM-perturbed copies of ``x``, one value per ε.

    The gradient sign is computed once per image; each ε then costs one forward pass.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(epsilons),)``, fractions in [0, 1]; ε = 0 gives the clean accuracy.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    >>> net[1].weight.data = torch.tensor([[1., -1.], [-1., 1.]])
    >>> fgsm_accuracy(net, torch.tensor([[[[0.6, 0.4]]]]), [0], [0.0, 0.05, 0.2]).tolist()
    [1.0, 1.0, 0.0]
    """
    _check_model(model)
    eps = _check_epsilons(epsilons)
    return _sweep(model, x, labels, eps, _check_clip(clip), batch_size).mean(axis=0)


@_input_errors("x")
def fgsm_min_epsilon(model, x, labels, epsilons, *, clip=(0.0, 1.0), batch_size=500) -> np.ndarray:
    """For each image, the smallest ε of the grid whose FGSM image is misclassified.

    FGSM moves every image along a fixed direction sign(∇ₓE); this scans that ray at
    the given ε values (sorted here). Misclassification need not be monotone in ε, so
    this is the first flip on the grid, not a bound.

    Returns
    -------
    numpy.ndarray of float
        Shape ``(N,)``; ``inf`` where no ε of the grid flips the prediction (0 where
        the clean image is already wrong and 0 is in the grid).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    >>> net[1].weight.data = torch.tensor([[1., -1.], [-1., 1.]])
    >>> x = torch.tensor([[[[0.6, 0.4]]], [[[0.9, 0.1]]]])
    >>> fgsm_min_epsilon(net, x, [0, 0], [0.0, 0.1, 0.2, 0.3]).tolist()
    [0.2, inf]
    """
    _check_model(model)
    eps = np.sort(_check_epsilons(epsilons))
    correct = _sweep(model, x, labels, eps, _check_clip(clip), batch_size)
    flipped = ~correct
    return np.where(flipped.any(axis=1), eps[flipped.argmax(axis=1)], np.inf)
