"""Images made by gradient ascent: activation maximisation and DeepDream (Bishop ch. 10 slides).

Both optimise the *input* of a fixed network: the model's weights, their gradients and
its train/eval mode are left untouched.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .._validate import MAX_CHANNELS, _check_alloc, _check_int, _check_real, _check_seed, _check_trials
from ._common import (
    _as_images, _check_classes, _check_clip, _check_model, _device, _eval_mode, _forward_until, _input_errors,
    _resolve_layer, _targets,
)

__all__ = ["Synthesis", "gaussian_blur", "maximise_activation", "deepdream"]


class Synthesis(NamedTuple):
    """Result of :func:`maximise_activation` and :func:`deepdream`."""

    images: torch.Tensor   #: (N, C, H, W) the optimised images, detached
    objective: list        #: objective per step (mean over the batch)


def gaussian_blur(x, sigma) -> torch.Tensor:
    """Blur every channel of ``x`` (N, C, H, W) with a Gaussian of std ``sigma`` pixels.

    A separable kernel of radius ceil(3σ), reflect padding; σ = 0 returns ``x``.

    Returns
    -------
    torch.Tensor
        Shape ``(N, C, H, W)``, same as ``x``.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(1, 1, 9, 9); x[0, 0, 4, 4] = 1.0
    >>> y = gaussian_blur(x, 1.0)
    >>> round(float(y.sum()), 4), round(float(y[0, 0, 4, 4]), 4)   # centre ≈ 1 / (2π σ²)
    (1.0, 0.1592)
    """
    x = _as_images(x)
    sigma = _check_real(sigma, "sigma", minimum=0.0)
    if sigma == 0:
        return x
    radius = max(1, math.ceil(3 * sigma)) if 3 * sigma < min(x.shape[-2:]) else min(x.shape[-2:])
    if radius >= min(x.shape[-2:]):
        raise ValueError(f"sigma={sigma} needs images larger than {radius} pixels, got {tuple(x.shape[-2:])}")
    # in float64: a tiny sigma must not become 0 in float32 (0/0); the centre weight is 1
    t = torch.arange(-radius, radius + 1, dtype=torch.float64, device=x.device)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    g = (g / g.sum()).to(x.dtype)
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, g.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(y, g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _count(value, name):
    """How many images a scalar-or-sequence argument asks for."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return 1
    try:
        return len(value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}") from None


def _jitter(x, jitter, gen):
    if jitter == 0:
        return x
    dy, dx = (int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=gen))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


@_input_errors("shape (or init)")
def maximise_activation(model, target=None, *, layer=None, channel=None, shape=(1, 28, 28),
                        steps=200, lr=0.05, l2=0.03, jitter=2, blur_every=4, blur_sigma=1.0,
                        clip=(0.0, 1.0), init=None, seed=0) -> Synthesis:
    """Synthesise inputs that excite a class score or a feature map (Bishop ch. 10 slides).

    Gradient ascent (Adam) on the input of the objective
    ``a(x) − l2·‖x‖²`` where ``a`` is the logit of class ``target`` (before softmax,
    as the Bishop ch. 10 slides' a^c) or the mean of feature map ``channel`` at ``layer``. Three
    simple regularisers keep the image natural-looking: the L2 penalty, a random
    ``jitter`` shift before every step, and a Gaussian blur every ``blur_every`` steps.

    Parameters
    ----------
    target : int or sequence of int, optional
        Class(es) to maximise; one image per class. Exclusive with ``layer``.
    layer, channel : optional
        Maximise the mean activation of ``channel`` in ``layer`` instead; ``channel``
        may be an int or a sequence (one image each).
    shape : (C, H, W)
        Image shape when ``init`` is not given.
    steps, lr : int, float
        Number of Adam steps and its learning rate.
    l2, jitter, blur_every, blur_sigma : regularisers (0 switches each off).
        The defaults give recognisable digits for a 28×28 MNIST network.
    clip : (low, high) or None
        Keep pixels in the valid range after every step.
    init : tensor (N, C, H, W), optional
        Starting images; default a faint random image (seeded).

    Returns
    -------
    Synthesis
        ``images`` with shape ``(N, C, H, W)``, N = number of targets/channels, and the
        objective per step.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    >>> net[1].weight.data = torch.tensor([[1., 0, 0, -1], [0, 1, 1, 0]])
    >>> res = maximise_activation(net, 0, shape=(1, 2, 2), steps=50, lr=0.1, jitter=0, blur_every=0)
    >>> res.images.round().flatten().tolist()      # pixel 0 bright, pixel 3 dark
    [1.0, 0.0, 0.0, 0.0]
    """
    _check_model(model)
    if (target is None) == (layer is None):
        raise ValueError("give either target (a class) or layer and channel, not both or neither")
    steps = _check_trials(steps, "steps")
    lr = _check_real(lr, "lr", positive=True)
    l2 = _check_real(l2, "l2", minimum=0.0)
    jitter = _check_int(jitter, "jitter", minimum=0, maximum=2**31 - 1)
    blur_every = _check_int(blur_every, "blur_every", minimum=0)
    blur_sigma = _check_real(blur_sigma, "blur_sigma", minimum=0.0)
    clip = _check_clip(clip)
    gen = torch.Generator().manual_seed(_check_seed(seed))
    if layer is not None:
        name, _ = _resolve_layer(model, layer)
        if channel is None:
            raise ValueError("channel is required with layer")
        chans = _targets(channel, _count(channel, "channel"), "channel")
        n = chans.numel()
    else:
        if channel is not None:
            raise ValueError("channel only goes with layer")
        n = _count(target, "target")
        classes = _targets(target, n)
    if init is None:
        if not isinstance(shape, (tuple, list)) or len(shape) != 3:
            raise TypeError(f"shape must be a (C, H, W) tuple, got {shape!r}")
        shape = tuple(_check_int(v, "shape", minimum=1) for v in shape)
        _check_alloc(n * math.prod(shape), "shape", shape, itemsize=4)
        lo, hi = clip if clip is not None else (0.0, 1.0)
        x = lo + (hi - lo) * (0.5 + 0.01 * torch.randn((n, *shape), generator=gen))
    else:
        x = _as_images(init, "init", model=model).detach().clone()
        if x.shape[0] != n:
            raise ValueError(f"init must hold one image per target ({n}), got {x.shape[0]}")
    x = x.to(_device(model=model)).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    history = []
    with _eval_mode(model), torch.enable_grad():
        for step in range(steps):
            xj = _jitter(x, jitter, gen)
            if layer is None:
                logits = model(xj)
                if step == 0:
                    classes = _check_classes(classes, logits)
                score = logits.gather(1, classes[:, None])[:, 0]
            else:
                A = _forward_until(model, xj, name)
                if step == 0 and (A.ndim != 4 or (chans >= A.shape[1]).any()):
                    raise ValueError(f"channel must index the feature maps of layer {name!r} "
                                     f"(shape {tuple(A.shape)}), got {chans.tolist()}")
                score = A[torch.arange(n), chans.to(A.device)].flatten(1).mean(1)
            objective = score - l2 * (x * x).flatten(1).sum(1)
            (g,) = torch.autograd.grad(-objective.sum(), x)   # the weights' .grad stay untouched
            x.grad = g
            opt.step()
            with torch.no_grad():
                if not torch.isfinite(x).all():
                    raise ValueError(f"the image overflowed to NaN or infinity at step {step + 1}: lr = {lr}, "
                                     f"l2 = {l2} are too large for this model")
                if blur_every and blur_sigma and (step + 1) % blur_every == 0:
                    try:
                        x.copy_(gaussian_blur(x, blur_sigma))
                    except ValueError as exc:
                        raise ValueError(f"blur_sigma: {exc}") from exc
                if clip is not None:
                    x.clamp_(*clip)
                if not torch.isfinite(x).all():
                    raise ValueError(f"the image overflowed to NaN or infinity at step {step + 1}: lr = {lr}, "
                                     f"l2 = {l2} are too large for this model")
            history.append(float(objective.detach().mean()))
    return Synthesis(x.detach(), history)


@_input_errors("x")
def deepdream(model, x, layer, *, steps=20, step_size=0.02, channel=None, jitter=0,
              clip=(0.0, 1.0), seed=0) -> Synthesis:
    """DeepDream (Bishop ch. 10 slides): amplify whatever a layer already sees in an image.

    Each step forward-propagates to ``layer``, sets the back-propagated δ at that layer
    to its own activations — the gradient of E = ½ Σ a² — back-propagates to the
    pixels, and takes a small step up that gradient, normalised by its mean magnitude
    so ``step_size`` is roughly the change per pixel.

    Parameters
    ----------
    x : tensor (N, C, H, W)
        Starting images; any size the layer accepts (a digit, or a photo).
    layer : str or module
    steps : int
    step_size : float
        x ← x + step_size · g / mean|g|.
    channel : int, optional
        Amplify one feature map only (E = ½ Σ a_k²).
    jitter : int
        Random shift (pixels) before each step.
    clip : (low, high) or None

    Returns
    -------
    Synthesis
        ``images`` with the shape of ``x`` and E (mean over the batch) before each step.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> torch.manual_seed(0) and None
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    >>> res = deepdream(net, torch.rand(1, 1, 12, 12), "1", steps=5)
    >>> res.images.shape, res.objective[-1] > res.objective[0]
    (torch.Size([1, 1, 12, 12]), True)
    """
    _check_model(model)
    x = _as_images(x, model=model).detach().clone()
    name, _ = _resolve_layer(model, layer)
    steps = _check_trials(steps, "steps")
    step_size = _check_real(step_size, "step_size", positive=True)
    jitter = _check_int(jitter, "jitter", minimum=0, maximum=2**31 - 1)
    clip = _check_clip(clip)
    if channel is not None:
        channel = _check_int(channel, "channel", minimum=0, maximum=MAX_CHANNELS)
    gen = torch.Generator().manual_seed(_check_seed(seed))
    history = []
    with _eval_mode(model), torch.enable_grad():
        for _ in range(steps):
            x.requires_grad_(True)
            A = _forward_until(model, _jitter(x, jitter, gen), name)
            if channel is not None:
                if A.ndim < 2 or channel >= A.shape[1]:
                    raise ValueError(f"channel must be below {A.shape[1] if A.ndim > 1 else 1} "
                                     f"(channels of layer {name!r}), got {channel}")
                A = A[:, channel]
            energy = 0.5 * (A * A).flatten(1).sum(1)
            (g,) = torch.autograd.grad(energy.sum(), x)
            with torch.no_grad():
                scale = g.abs().flatten(1).mean(1).clamp_min(1e-12).view(-1, 1, 1, 1)
                x = x + step_size * g / scale
                if clip is not None:
                    x = x.clamp(*clip)
                if not torch.isfinite(x).all():
                    raise ValueError(f"the image overflowed to NaN or infinity: step_size = {step_size} is too large")
            history.append(float(energy.detach().mean()))
    return Synthesis(x.detach(), history)
