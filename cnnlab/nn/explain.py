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
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .._validate import _as_array, _check_int
from ._common import _as_images, _check_model, _eval_mode, _forward_until, _input_errors, _leaf_layers, _resolve_layer

__all__ = [
    "record_activations", "activations", "layer_features", "conv_filters", "match_filters",
]


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
