"""Looking inside a trained CNN: activations, filters, receptive fields, patches, neighbours.

Lesson 09's forward-only tools (seed 001 §7, seed 002 "Visualizing trained CNNs").
Nearest neighbours in pixel vs feature space are in :mod:`cnnlab.nn.neighbours`, the
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
import numbers
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np
import torch
from torch import nn

from .._validate import _check_int

__all__ = [
    "record_activations", "activations", "layer_features", "conv_filters",
    "LayerReceptiveField", "layer_receptive_field", "Patches", "top_activating_patches", "match_filters",
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


def _as_images(x, name="x", model=None) -> torch.Tensor:
    """``x`` as a float (N, C, H, W) tensor on the model's device."""
    if isinstance(x, np.ndarray):
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
    return x.to(_device(model)) if model is not None else x


def _check_real(value, name, *, minimum=None, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


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
        t = torch.full((n,), int(target), dtype=torch.int64)
    else:
        try:
            t = torch.as_tensor(np.asarray(target))
        except (TypeError, ValueError, RuntimeError) as exc:
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
        chosen = [_resolve_layer(model, item) for item in items]
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


def layer_features(model, x, layer, *, batch_size=500) -> torch.Tensor:
    """One layer's output for each image, flattened: the "FC7 feature vector" of seed 001.

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

    Seed 002: first-layer filters can be looked at directly as small images — by the
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

    Used to put a number on seed 002's comparison of learned first-layer filters with
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
    f = np.asarray(filters, dtype=float)
    g = np.asarray(bank, dtype=float)
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


# -- receptive fields and maximally activating patches ------------------------------------
@dataclass(frozen=True)
class LayerReceptiveField:
    """Where the units of one layer look in the input image.

    Unit ``(i, j)`` of the layer sees input rows ``start[0] + i·jump[0]`` up to
    ``start[0] + i·jump[0] + size[0] − 1`` (columns likewise); coordinates outside the
    image are padding.
    """

    layer: str
    size: tuple
    jump: tuple
    start: tuple
    output_shape: tuple

    def box(self, i, j):
        """(top, left, bottom, right) of unit (i, j), bottom/right exclusive, unclipped."""
        top = self.start[0] + i * self.jump[0]
        left = self.start[1] + j * self.jump[1]
        return top, left, top + self.size[0], left + self.size[1]


def _geometry(module):
    """(kernel, stride, padding-before, dilation) pairs of a conv/pool layer, or None."""
    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)
    if isinstance(module, nn.Conv2d):
        k, s, d = pair(module.kernel_size), pair(module.stride), pair(module.dilation)
        if module.padding == "same":
            p = tuple((di * (ki - 1)) // 2 for ki, di in zip(k, d))
        elif module.padding == "valid":
            p = (0, 0)
        else:
            p = pair(module.padding)
        return k, s, p, d
    if isinstance(module, nn.MaxPool2d):
        k = pair(module.kernel_size)
        s = pair(module.stride if module.stride is not None else module.kernel_size)
        return k, s, pair(module.padding), pair(module.dilation)
    if isinstance(module, nn.AvgPool2d):
        k = pair(module.kernel_size)
        s = pair(module.stride if module.stride is not None else module.kernel_size)
        return k, s, pair(module.padding), (1, 1)
    return None


def layer_receptive_field(model, layer, input_shape) -> LayerReceptiveField:
    """Receptive field of a layer's units, traced through the layers that run before it.

    The model runs once on zeros of ``input_shape`` to find the order in which its leaf
    layers execute; every Conv2d / MaxPool2d / AvgPool2d on the way updates the field
    and pointwise layers (activations, batch norm, dropout) leave it alone.

    Parameters
    ----------
    model : torch.nn.Module
        A chain of layers (no branches), like every model of the course.
    layer : str or module
    input_shape : tuple of int
        ``(C, H, W)`` of one input image.

    Returns
    -------
    LayerReceptiveField
        ``size``, ``jump`` (distance in input pixels between neighbouring units) and
        ``start`` (top-left input coordinate seen by unit (0, 0)), each an (h, w) pair,
        and the layer's ``output_shape`` (C, H_out, W_out).

    Notes
    -----
    For a layer with kernel k, stride s, padding p and dilation d, given the field
    (r, j, a) of its input:  r' = r + (k − 1)·d·j,  j' = s·j,  a' = a − p·j,
    starting from (1, 1, 0) at the image. Unit i then covers input pixels
    a' + i·j' … a' + i·j' + r' − 1.

    Examples
    --------
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
    ...                     nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2))
    >>> rf = layer_receptive_field(net, "3", (1, 28, 28))
    >>> rf.size, rf.jump, rf.start, rf.output_shape
    ((10, 10), (2, 2), (0, 0), (16, 10, 10))
    >>> rf.box(1, 2)
    (2, 4, 12, 14)
    """
    _check_model(model)
    name, target = _resolve_layer(model, layer)
    if not isinstance(input_shape, (tuple, list, torch.Size)) or len(input_shape) != 3:
        raise TypeError(f"input_shape must be a (C, H, W) tuple, got {input_shape!r}")
    input_shape = tuple(_check_int(v, "input_shape", minimum=1) for v in input_shape)
    inside = {id(m) for m in target.modules()}
    order = []
    handles = [m.register_forward_hook(lambda mod, i, o, n=n: order.append((n, mod, tuple(o.shape))))
               for n, m in _leaf_layers(model)]
    try:
        with _eval_mode(model), torch.no_grad():
            param = next(model.parameters(), None)
            dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
            model(torch.zeros((1, *input_shape), device=_device(model), dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    last = max((k for k, (_, m, _) in enumerate(order) if id(m) in inside), default=None)
    if last is None:
        raise ValueError(f"layer {name!r} does not run in the model's forward pass")
    size, jump, start = [1, 1], [1, 1], [0, 0]
    for leaf, module, _ in order[:last + 1]:
        geometry = _geometry(module)
        if geometry is None:
            if isinstance(module, _POINTWISE):
                continue
            raise ValueError(
                f"cannot trace the receptive field through layer {leaf!r} ({type(module).__name__}); "
                f"{name!r} must come before any Flatten/Linear and only Conv2d, MaxPool2d, AvgPool2d "
                "and pointwise layers may precede it")
        for a, (k, s, p, d) in enumerate(zip(*geometry)):
            start[a] -= p * jump[a]
            size[a] += (k - 1) * d * jump[a]
            jump[a] *= s
    out = order[last][2]
    if len(out) != 4:
        raise ValueError(f"layer {name!r} outputs shape {out}; a receptive field needs (N, C, H, W)")
    return LayerReceptiveField(name, tuple(size), tuple(jump), tuple(start), tuple(out[1:]))


class Patches(NamedTuple):
    """Result of :func:`top_activating_patches`."""

    patches: torch.Tensor    #: (k, C, size_h, size_w) input patches, padding filled
    scores: torch.Tensor     #: (k,) the unit's activation, best first
    indices: torch.Tensor    #: (k,) which image each patch comes from
    positions: torch.Tensor  #: (k, 2) (i, j) of the maximal unit in the feature map
    boxes: torch.Tensor      #: (k, 4) (top, left, bottom, right) in the image, unclipped
    field: LayerReceptiveField


def top_activating_patches(model, x, layer, channel, *, k=9, batch_size=500, fill=None) -> Patches:
    """The image patches that excite one channel of a layer most (seed 002).

    Each image contributes its strongest position in the channel's feature map; the
    ``k`` strongest images are kept and the receptive field of the winning unit is cut
    out of each.

    Parameters
    ----------
    x : tensor (N, C, H, W)
        The images to search (e.g. a test set).
    layer : str or module
        A convolutional-stage layer (before any Flatten).
    channel : int
        Which feature map of that layer.
    k : int
        Number of patches, at most N.
    fill : float, optional
        Value for patch pixels that fall in the padding; default ``x.min()``.

    Returns
    -------
    Patches
        ``patches`` has shape ``(k, C, size_h, size_w)`` with the receptive field size
        of :func:`layer_receptive_field`.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False))
    >>> _ = net[0].weight.data.fill_(1.0)
    >>> x = torch.zeros(3, 1, 6, 6); x[1, 0, 2:5, 1:4] = 1.0
    >>> res = top_activating_patches(net, x, "0", 0, k=1)
    >>> int(res.indices[0]), res.positions[0].tolist(), float(res.scores[0])
    (1, [2, 1], 9.0)
    >>> res.patches.shape
    torch.Size([1, 1, 3, 3])
    """
    _check_model(model)
    x = _as_images(x, model=model)
    name, _ = _resolve_layer(model, layer)
    field = layer_receptive_field(model, name, tuple(x.shape[1:]))
    channel = _check_int(channel, "channel", minimum=0)
    if channel >= field.output_shape[0]:
        raise ValueError(f"channel must be below {field.output_shape[0]} (channels of layer {name!r}), got {channel}")
    k = _check_int(k, "k", minimum=1)
    if k > x.shape[0]:
        raise ValueError(f"k must be at most the number of images ({x.shape[0]}), got {k}")
    batch_size = _check_int(batch_size, "batch_size", minimum=1)
    fill = float(x.min()) if fill is None else _check_real(fill, "fill")
    best, where = [], []
    with _eval_mode(model), torch.no_grad():
        for s in range(0, x.shape[0], batch_size):
            fmap = _forward_until(model, x[s:s + batch_size], name)[:, channel].flatten(1)
            value, index = fmap.max(dim=1)
            best.append(value.cpu())
            where.append(index.cpu())
    best, where = torch.cat(best), torch.cat(where)
    scores, indices = best.topk(k)
    width = field.output_shape[2]
    positions = torch.stack([where[indices] // width, where[indices] % width], dim=1)
    boxes = torch.tensor([field.box(int(i), int(j)) for i, j in positions])
    rh, rw = field.size
    H, W = x.shape[2:]
    patches = torch.full((k, x.shape[1], rh, rw), fill, dtype=x.dtype)
    for n, (img, (t, l, b, r)) in enumerate(zip(indices.tolist(), boxes.tolist())):
        t0, l0, b0, r0 = max(t, 0), max(l, 0), min(b, H), min(r, W)
        if t0 < b0 and l0 < r0:
            patches[n, :, t0 - t:b0 - t, l0 - l:r0 - l] = x[img, :, t0:b0, l0:r0].cpu()
    return Patches(patches, scores, indices, positions, boxes, field)
