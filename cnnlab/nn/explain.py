"""Looking inside a trained CNN: activations, filters, receptive fields, patches, neighbours.

Lesson 09's forward-only tools (CNN lecture notes §7; Bishop ch. 10 slides, "Visualizing trained CNNs").
Receptive fields and maximally activating patches are in :mod:`cnnlab.nn.receptive`,
nearest neighbours in pixel vs feature space are in :mod:`cnnlab.nn.neighbours`, the
gradient-based methods — saliency, Grad-CAM, FGSM — in :mod:`cnnlab.nn.attribution`,
image synthesis (activation maximisation, DeepDream) in :mod:`cnnlab.nn.synthesis`; all
are re-exported from :mod:`cnnlab.nn`.

Layers are named as in ``model.named_modules()`` (``"0"``, ``"3"`` for a
``Sequential``; ``"features.0"`` for nested ones) or passed as the module itself.
Images enter models as float ``(N, C, H, W)`` tensors (numpy arrays are accepted and
converted); nothing here changes a model's weights, gradients or train/eval mode.
"""
from __future__ import annotations

import contextlib
import functools
import numbers
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .._validate import MAX_CHANNELS, _as_array, _check_int, _check_real

__all__ = [
    "record_activations", "activations", "layer_features", "conv_filters", "match_filters",
]

# Leaf modules that act on each position separately (or only mix channels): they leave
# receptive fields unchanged.
_POINTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus,
    nn.Softsign, nn.Tanhshrink, nn.Identity, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d,
    nn.AlphaDropout, nn.Softmax2d,
)


# -- shared argument checks (used by attribution.py and synthesis.py too) ---------------
def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _device(model):
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _dtype(model):
    """The floating dtype of the model's parameters (float32 for a model without any)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


def _as_images(x, name="x", model=None) -> torch.Tensor:
    """``x`` as a float (N, C, H, W) tensor, on the model's device and in its dtype when
    ``model`` is given (numpy's float64 default becomes the model's float32)."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a torch.Tensor or numpy array of images, got dtype {x.dtype}")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of images, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(
            f"{name} must be a 4-D (N, C, H, W) batch, got shape {tuple(x.shape)}"
            + ("; use x[None] for a single image" if x.ndim == 3 else "")
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must hold floats (images scaled to [0, 1]), got dtype {x.dtype}; "
                        "cnnlab.nn.to_tensors converts uint8 digits")
    if x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one image, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must contain only finite numbers, got NaN or infinity")
    return x.to(device=_device(model), dtype=_dtype(model)) if model is not None else x


def _as_tensor(x, name, *, last=None, finite=True) -> torch.Tensor:
    """``x`` (a tensor or array_like of numbers) as a float32 tensor; ``last`` is the size
    the last axis must have. Strings, ragged lists and NaN are TypeError/ValueError naming
    ``name``."""
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if t.dtype == torch.bool or t.is_complex():
            raise TypeError(f"{name} must hold real numbers, got dtype {t.dtype}")
        t = t.to(torch.float32)
    else:
        t = torch.from_numpy(np.ascontiguousarray(_as_array(x, name, allow_empty=True, dtype=np.float32)))
    if finite and not torch.isfinite(t).all():
        raise ValueError(f"{name} must contain only finite numbers, got NaN or infinity")
    if last is not None and (t.ndim == 0 or t.shape[-1] != last):
        raise ValueError(f"{name} must have shape (..., {last}), got {tuple(t.shape)}")
    return t


def _input_errors(name):
    """Decorator: a RuntimeError from torch while the model runs on the argument ``name``
    (a shape the layers cannot take, a size too big to allocate) becomes a ValueError
    naming that argument, as the contract of :mod:`cnnlab._validate` asks."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except RuntimeError as exc:
                raise ValueError(f"{name} does not fit the model: {exc}") from exc
        return wrapper
    return decorate


def _check_clip(clip):
    """``None`` or a (low, high) pair with low < high."""
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise TypeError(f"clip must be None or a (low, high) pair, got {clip!r}")
    lo, hi = (_check_real(v, "clip") for v in clip)
    if not lo < hi:
        raise ValueError(f"clip must be a (low, high) pair with low < high, got {clip!r}")
    return lo, hi


def _targets(target, n, name="target") -> torch.Tensor:
    """An int (same class for every image) or one int per image -> int64 tensor (n,)."""
    if isinstance(target, (numbers.Integral, np.integer)) and not isinstance(target, bool):
        t = torch.full((n,), _check_int(target, name, minimum=0, maximum=MAX_CHANNELS), dtype=torch.int64)
    else:
        try:
            t = torch.as_tensor(np.asarray(target))
        except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
            raise TypeError(f"{name} must be an int or a sequence of ints, got {target!r}") from exc
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.dtype.is_complex or t.ndim != 1:
            raise TypeError(f"{name} must be an int or a 1-D sequence of ints, got {target!r}")
        if t.numel() != n:
            raise ValueError(f"{name} must hold one class per image ({n}), got {t.numel()}")
        t = t.to(torch.int64)
    if (t < 0).any():
        raise ValueError(f"{name} must hold non-negative class indices, got {t.tolist()}")
    return t


def _check_classes(t, logits, name="target"):
    if logits.ndim != 2:
        raise ValueError(f"the model must return (N, classes) logits, got shape {tuple(logits.shape)}")
    if (t >= logits.shape[1]).any():
        raise ValueError(f"{name} must be a class index below {logits.shape[1]}, got {t.tolist()}")
    return t.to(logits.device)


@contextlib.contextmanager
def _eval_mode(model):
    """Run ``model`` in eval mode (dropout off, batch-norm statistics frozen), then restore."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def _resolve_layer(model, layer):
    """(name, module) for a layer given by name or as a module of ``model``."""
    named = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, module in named.items():
            if module is layer:
                return name, module
        raise ValueError(f"layer {type(layer).__name__} is not a module of this model")
    if isinstance(layer, str):
        if layer in named and layer != "":
            return layer, named[layer]
        choices = ", ".join(repr(n) for n in named if n)
        raise ValueError(f"layer must be one of {choices}, got {layer!r}")
    if isinstance(layer, (numbers.Integral, np.integer)) and not isinstance(layer, bool):
        return _resolve_layer(model, str(int(layer)))
    raise TypeError(f"layer must be a layer name (str) or a module of the model, got {layer!r}")


def _leaf_layers(model):
    return [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]


class _StopForward(Exception):
    pass


def _forward_until(model, x, layer):
    """Output of ``layer`` for ``x``; the forward pass stops there (later layers never run).

    So a layer's features exist for images of any size its part of the network accepts,
    even when the dense head expects 28×28 (DeepDream on a photo).
    """
    name, module = _resolve_layer(model, layer)
    box = {}

    def hook(mod, inputs, output):
        box["out"] = output
        raise _StopForward

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _StopForward:
        pass
    finally:
        handle.remove()
    if "out" not in box:
        raise ValueError(f"layer {name!r} did not run in the forward pass")
    if not isinstance(box["out"], torch.Tensor):
        raise TypeError(f"layer {name!r} returned {type(box['out']).__name__}, not a tensor")
    return box["out"]


# -- activations via forward hooks ------------------------------------------------------
@contextlib.contextmanager
def record_activations(model, layers=None, *, detach=True) -> Iterator[dict]:
    """Record the outputs of chosen layers during forward passes.

    A forward hook is registered on each layer for the duration of the ``with`` block
    and removed when it exits — also when the block raises.

    Parameters
    ----------
    model : torch.nn.Module
    layers : str, module, or list of them, optional
        Layers to record (names as in ``model.named_modules()``); default every leaf layer.
    detach : bool
        Store detached tensors (default). ``False`` keeps them in the autograd graph,
        as Grad-CAM needs.

    Yields
    ------
    dict
        Filled during each forward pass: ``{layer name: output tensor}`` in execution
        order. A layer called twice keeps its last output.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten())
    >>> with record_activations(net, ["0", "1"]) as acts:
    ...     _ = net(torch.zeros(1, 1, 5, 5))
    >>> {k: tuple(v.shape) for k, v in acts.items()}
    {'0': (1, 2, 3, 3), '1': (1, 2, 3, 3)}
    >>> [len(m._forward_hooks) for m in net]   # hooks are gone
    [0, 0, 0]
    """
    _check_model(model)
    if layers is None:
        chosen = _leaf_layers(model)
    else:
        items = layers if isinstance(layers, (list, tuple)) else [layers]
        if not items:
            raise ValueError("layers must name at least one layer, got an empty list")
        try:
            chosen = [_resolve_layer(model, item) for item in items]
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"layers: {exc}") from exc
    store: dict = {}
    handles = []

    def hook_for(name):
        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor):
                raise TypeError(f"layer {name!r} returned {type(output).__name__}, not a tensor")
            store.pop(name, None)
            store[name] = output.detach() if detach else output
        return hook

    try:
        for name, module in chosen:
            handles.append(module.register_forward_hook(hook_for(name)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


@_input_errors("x")
def activations(model, x, layers=None) -> dict:
    """Outputs of ``layers`` (default: every leaf layer) for images ``x``, in eval mode.

    Returns
    -------
    dict
        ``{layer name: tensor}`` in execution order; a conv layer's entry has shape
        ``(N, C_out, H_out, W_out)``, a linear layer's ``(N, features)``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> {k: tuple(v.shape) for k, v in activations(net, torch.zeros(2, 1, 8, 8)).items()}
    {'0': (2, 4, 6, 6), '1': (2, 4, 6, 6), '2': (2, 4, 3, 3)}
    """
    _check_model(model)
    x = _as_images(x, model=model)
    with _eval_mode(model), torch.no_grad(), record_activations(model, layers) as acts:
        model(x)
    return dict(acts)


@_input_errors("x")
def layer_features(model, x, layer, *, batch_size=500) -> torch.Tensor:
    """One layer's output for each image, flattened: the "FC7 feature vector" of the CNN lecture notes.

    Returns
    -------
    torch.Tensor
        Shape ``(N, D)`` with ``D`` the number of units in the layer (C·H·W for a
        convolutional layer).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(27, 5))
    >>> layer_features(net, torch.zeros(4, 1, 5, 5), "1").shape
    torch.Size([4, 27])
    """
    _check_model(model)
    x = _as_images(x, model=model)
    batch_size = _check_int(batch_size, "batch_size", minimum=1)
    name, _ = _resolve_layer(model, layer)
    with _eval_mode(model), torch.no_grad():
        return torch.cat([_forward_until(model, x[s:s + batch_size], name).flatten(1).cpu()
                          for s in range(0, x.shape[0], batch_size)])


def conv_filters(model, layer=None) -> np.ndarray:
    """The weights of a convolutional layer (default: the first ``Conv2d``) as an array.

    As the Bishop ch. 10 slides show, first-layer filters can be looked at directly as small images — by the
    Cauchy–Schwarz inequality a unit responds most to a patch shaped like its filter.

    Returns
    -------
    numpy.ndarray
        Shape ``(C_out, C_in, kH, kW)``, float.

    Examples
    --------
    >>> from torch import nn
    >>> conv_filters(nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU())).shape
    (8, 1, 5, 5)
    """
    _check_model(model)
    if layer is None:
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            raise ValueError("model has no Conv2d layer; pass layer= explicitly")
        module = convs[0]
    else:
        name, module = _resolve_layer(model, layer)
        if not isinstance(module, nn.Conv2d):
            raise ValueError(f"layer {name!r} must be a Conv2d, got {type(module).__name__}")
    return module.weight.detach().cpu().numpy().copy()


def match_filters(filters, bank):
    """For each filter, the bank entry it resembles most (absolute cosine similarity).

    Used to put a number on the Bishop ch. 10 slides' comparison of learned first-layer filters with
    Gabor filters: a similarity of 1 means the same pattern up to scale and sign.

    Parameters
    ----------
    filters : array_like, shape (F, kH, kW) or (F, 1, kH, kW)
    bank : array_like, shape (B, kH, kW)

    Returns
    -------
    best : numpy.ndarray of int, shape (F,)
        Index into ``bank``.
    similarity : numpy.ndarray of float, shape (F,)
        ``|<f, g>| / (‖f‖ ‖g‖)`` of the match, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> bank = np.array([[[1., 0], [0, 0]], [[0, 1.], [1, 0]]])
    >>> best, sim = match_filters(-2 * bank[[1]], bank)
    >>> int(best[0]), float(sim[0])
    (1, 1.0)
    """
    f = _as_array(filters.detach().cpu().numpy() if isinstance(filters, torch.Tensor) else filters, "filters",
                  dtype=np.float64)
    g = _as_array(bank.detach().cpu().numpy() if isinstance(bank, torch.Tensor) else bank, "bank", dtype=np.float64)
    if f.ndim == 4 and f.shape[1] == 1:
        f = f[:, 0]
    if f.ndim != 3 or g.ndim != 3 or f.shape[1:] != g.shape[1:]:
        raise ValueError(f"filters (F, kH, kW) and bank (B, kH, kW) must share kH, kW; "
                         f"got shapes {np.shape(filters)} and {np.shape(bank)}")
    f, g = f.reshape(len(f), -1), g.reshape(len(g), -1)
    nf, ng = np.linalg.norm(f, axis=1), np.linalg.norm(g, axis=1)
    if (nf == 0).any() or (ng == 0).any():
        raise ValueError("filters and bank must not contain all-zero entries")
    sim = np.abs(f @ g.T) / np.outer(nf, ng)
    best = sim.argmax(axis=1)
    return best, np.minimum(sim[np.arange(len(f)), best], 1.0)
