"""Where a unit looks, and what excites it most: receptive fields and top-activating patches.

The Bishop ch. 10 slides: *present a large number of image patches to the network and see which produce
the highest activation value in any particular hidden unit.* A patch is the unit's
receptive field, traced here through the layers the model actually runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from .._validate import _check_int, _check_real
from ._common import (
    _as_images, _check_model, _device, _dtype, _eval_mode, _forward_until, _input_errors, _leaf_layers,
    _resolve_layer,
)

__all__ = ["LayerReceptiveField", "layer_receptive_field", "Patches", "top_activating_patches"]

# Leaf modules that act on each position separately (or only mix channels): they leave
# receptive fields unchanged.
_POINTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus,
    nn.Softsign, nn.Tanhshrink, nn.Identity, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d,
    nn.AlphaDropout, nn.Softmax2d,
)


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


@_input_errors("input_shape")
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
            model(torch.zeros((1, *input_shape), device=_device(model=model), dtype=_dtype(model)))
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


@_input_errors("x")
def top_activating_patches(model, x, layer, channel, *, k=9, batch_size=500, fill=None) -> Patches:
    """The image patches that excite one channel of a layer most (Bishop ch. 10 slides).

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
    fill = float(x.min()) if fill is None else _check_real(fill, "fill", minimum=-1e30, maximum=1e30)
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
