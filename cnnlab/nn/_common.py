"""The private toolbox of :mod:`cnnlab.nn`: argument checks and small helpers every module shares.

Nothing here is public. Each helper is written once and imported by the modules that
need it (``training``, ``explain``, ``receptive``, ``attribution``, ``synthesis``,
``localization``, ``detection``, ``summary``, ``models``, ``architectures``) and by
``cnnlab.widgets.inspect``; this module imports only torch, numpy and
:mod:`cnnlab._validate`, so it can sit below all of them without an import circle.

==========================  ==========================================================
``_check_model``            a ``torch.nn.Module`` (TypeError otherwise)
``_device``                 THE device resolver: ``None``/``'auto'``/``'cpu'``/
                            ``'cuda[:N]'``/``torch.device`` → ``torch.device``, or a
                            model's own device
``_dtype``                  the floating dtype of a model's parameters
``_as_images``              float ``(N, C, H, W)`` images, on a model's device and dtype
``_as_tensor``              a float32 tensor of numbers, optionally ``(..., last)``
``_input_errors``           decorator: torch's RuntimeError on an input → ValueError
``_eval_mode``              context manager: eval mode inside, the modes restored after
``_resolve_layer``          a layer given by name or as a module → ``(name, module)``
``_leaf_layers``            the modules without children, with their names
``_forward_until``          the output of one layer (the forward pass stops there)
``_targets``                class targets: an int or one int per image → int64 ``(N,)``
``_check_classes``          targets below the number of classes of some logits
``_check_clip``             ``None`` or a ``(low, high)`` pair
``_sequential``             ``nn.Sequential`` that carries its ``input_size``
``_count_parameters``       the number of parameters (shared tensors once)
==========================  ==========================================================

Errors follow the contract written at the top of :mod:`cnnlab._validate`: a wrong type
is a TypeError, a wrong value a ValueError, and the message names the parameter, the
value received and what is accepted.
"""
from __future__ import annotations

import contextlib
import functools
import numbers
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .._validate import MAX_CHANNELS, _as_array, _check_int, _check_real


# -- models and devices ---------------------------------------------------------------------
def _check_model(model):
    """``model`` itself when it is a ``torch.nn.Module``; a TypeError otherwise.

    >>> _check_model(nn.ReLU())
    ReLU()
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


#: device types a user may ask for by name; anything else torch parses (``'meta'``, ``'xla'``)
#: is refused with a ValueError, instead of failing later inside ``model.to``
_DEVICE_TYPES = ("cpu", "cuda", "mps")
_DEVICE_HELP = "None, 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device"


def _available(kind: str) -> bool:
    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _device(device=None, *, model=None, name: str = "device") -> torch.device:
    """The one device resolver of :mod:`cnnlab.nn`.

    Parameters
    ----------
    device : None, str or torch.device
        ``None`` means "no choice made": the device of ``model``'s parameters when a
        model is given (CPU for a model without any), otherwise the best available one
        (CUDA when present, else CPU). ``'auto'`` is always the best available one.
        Anything else must name a device that exists here: ``'cpu'``; ``'cuda'`` or
        ``'cuda:N'`` only with a CUDA GPU (and N below the number of GPUs).
    model : torch.nn.Module, optional
        Whose device ``None`` stands for.
    name : str
        The parameter named in messages.

    Returns
    -------
    torch.device

    Notes
    -----
    A GPU is never required: ``None`` and ``'auto'`` fall back to the CPU, and only an
    explicit ``'cuda'`` on a machine without one is an error (a ValueError that says so).
    A wrong type (a number, a list) is a TypeError; a string torch cannot parse, the
    ``meta`` device (it holds no values) and an absent device are ValueErrors.

    Examples
    --------
    >>> _device("cpu"), _device(torch.device("cpu"))
    (device(type='cpu'), device(type='cpu'))
    >>> _device(model=nn.Linear(2, 1))             # None: where the model's parameters are
    device(type='cpu')
    >>> _device("auto").type in ("cpu", "cuda")
    True
    >>> _device(3.5)
    Traceback (most recent call last):
    ...
    TypeError: device must be None, 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got 3.5
    """
    if device is None:
        if model is not None:
            return next((p.device for p in model.parameters()), torch.device("cpu"))
        device = "auto"
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be {_DEVICE_HELP}, got {device!r}")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {_DEVICE_HELP}, got {device!r}") from exc
    if dev.type == "meta":
        raise ValueError(f"{name} 'meta' holds no values; use 'cpu' or 'cuda'")
    if dev.type not in _DEVICE_TYPES:
        raise ValueError(f"{name} must be {_DEVICE_HELP}, got {device!r}")
    if not _available(dev.type):
        raise ValueError(f"{name} {device!r} requested but {dev.type.upper()} is not available here; "
                         "use 'cpu' or None")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"{name} {device!r} requested but this machine has {torch.cuda.device_count()} "
                         "CUDA device(s)")
    return dev


def _dtype(model):
    """The floating dtype of the model's parameters (float32 for a model without any).

    >>> _dtype(nn.Linear(2, 1).double())
    torch.float64
    """
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32


@contextlib.contextmanager
def _eval_mode(model):
    """Run ``model`` in eval mode (dropout off, batch-norm statistics frozen), then restore
    every submodule's own mode.

    >>> net = nn.Sequential(nn.Dropout(0.5)).train()
    >>> with _eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


def _sequential(input_size, *layers, names=None) -> nn.Sequential:
    """``nn.Sequential(*layers)`` (named when ``names`` is given) with ``model.input_size``.

    >>> _sequential((1, 4, 4), nn.Flatten(), nn.Linear(16, 2), names=["flat", "fc"]).input_size
    (1, 4, 4)
    """
    if names is None:
        model = nn.Sequential(*layers)
    else:
        model = nn.Sequential(OrderedDict(zip(names, layers)))
    model.input_size = tuple(input_size)
    return model


def _count_parameters(model, trainable_only: bool = False) -> int:
    """Number of parameters (each shared tensor counted once); no argument checks.

    >>> _count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# -- inputs ---------------------------------------------------------------------------------
def _as_images(x, name="x", model=None) -> torch.Tensor:
    """``x`` as a float (N, C, H, W) tensor, on the model's device and in its dtype when
    ``model`` is given (numpy's float64 default becomes the model's float32).

    >>> _as_images(np.zeros((2, 1, 3, 3)), model=nn.Conv2d(1, 1, 1)).dtype
    torch.float32
    """
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
    return x.to(device=_device(model=model), dtype=_dtype(model)) if model is not None else x


def _as_tensor(x, name, *, last=None, finite=True) -> torch.Tensor:
    """``x`` (a tensor or array_like of numbers) as a float32 tensor; ``last`` is the size
    the last axis must have. Strings, ragged lists and NaN are TypeError/ValueError naming
    ``name``.

    >>> _as_tensor([[1, 2, 3, 4]], "boxes", last=4)
    tensor([[1., 2., 3., 4.]])
    """
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
    """``None`` or a (low, high) pair with low < high.

    >>> _check_clip((0, 1))
    (0.0, 1.0)
    """
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise TypeError(f"clip must be None or a (low, high) pair, got {clip!r}")
    lo, hi = (_check_real(v, "clip") for v in clip)
    if not lo < hi:
        raise ValueError(f"clip must be a (low, high) pair with low < high, got {clip!r}")
    return lo, hi


def _targets(target, n, name="target") -> torch.Tensor:
    """An int (same class for every image) or one int per image -> int64 tensor (n,).

    >>> _targets(3, 2), _targets([1, 0], 2)
    (tensor([3, 3]), tensor([1, 0]))
    """
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
    """Class targets ``t`` checked against ``(N, classes)`` logits, on the logits' device."""
    if logits.ndim != 2:
        raise ValueError(f"the model must return (N, classes) logits, got shape {tuple(logits.shape)}")
    if (t >= logits.shape[1]).any():
        raise ValueError(f"{name} must be a class index below {logits.shape[1]}, got {t.tolist()}")
    return t.to(logits.device)


# -- layers ---------------------------------------------------------------------------------
def _resolve_layer(model, layer):
    """(name, module) for a layer given by name or as a module of ``model``.

    >>> _resolve_layer(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), 1)
    ('1', ReLU())
    """
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
    """``[(name, module)]`` of the modules without children, in registration order."""
    return [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]


class _StopForward(Exception):
    pass


def _forward_until(model, x, layer):
    """Output of ``layer`` for ``x``; the forward pass stops there (later layers never run).

    So a layer's features exist for images of any size its part of the network accepts,
    even when the dense head expects 28×28 (DeepDream on a photo).

    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(18, 1))
    >>> tuple(_forward_until(net, torch.zeros(1, 1, 9, 9), "0").shape)   # the head needs 5×5
    (1, 2, 7, 7)
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
