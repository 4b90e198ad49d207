"""Keras-style ``model.summary()`` tables for torch modules.

:func:`summary` runs one forward pass with hooks on every layer. For big models (and
models built on the meta device) every parameter, buffer and the input are replaced by
tensors on PyTorch's *meta* device (``torch.func.functional_call``): shapes propagate,
nothing is computed or allocated, the model's own weights are never touched, and a
224x224 VGG-19 is summarised in milliseconds. Small models get one real pass of a single
zero example in eval mode, which is quicker than the meta device's one-off set-up.

Why not torchinfo? torchinfo (checked, 1.8.0) computes the same numbers (the tests use it
as an oracle where it is installed) but prints a nested ``Layer (type:depth-idx)`` tree
in channels-first order, writes ``--`` for parameter-free layers, has no input row and no
channels-last notation, so it cannot reproduce the Keras tables of the lecture notes;
what we need from it is about 150 lines on top of forward hooks.
"""
from __future__ import annotations

import dataclasses
import math
import re

import torch
from torch import nn

from .._validate import _check_mode
from ._common import _check_model, _count_parameters, _dtype, _input_errors
from .models import LENET5_NOTES_PARAMS, lenet5

__all__ = ["Row", "Summary", "Table", "lenet5_table", "summary"]

_KERAS_TYPES = {
    "Conv1d": "Conv1D", "Conv2d": "Conv2D", "Conv3d": "Conv3D", "Linear": "Dense",
    "MaxPool1d": "MaxPooling1D", "MaxPool2d": "MaxPooling2D", "AvgPool1d": "AveragePooling1D",
    "AvgPool2d": "AveragePooling2D", "BatchNorm1d": "BatchNormalization", "BatchNorm2d": "BatchNormalization",
    "ReLU": "Activation", "Sigmoid": "Activation", "Tanh": "Activation", "Softmax": "Activation",
    "LeakyReLU": "LeakyReLU", "Flatten": "Flatten", "Dropout": "Dropout", "Identity": "Identity",
    "AdaptiveAvgPool2d": "GlobalAveragePooling2D", "ZeroPad2d": "ZeroPadding2D",
}
#: shape-preserving, parameter-free layers hidden by ``activations=False``
_ACTIVATIONS = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Softmax, nn.LeakyReLU, nn.GELU, nn.ELU, nn.Dropout,
                nn.Identity)


@dataclasses.dataclass(frozen=True)
class Row:
    """One layer call: ``name (type)``, output shape with ``None`` for the batch, parameters."""

    name: str
    type: str
    output_shape: tuple
    params: int
    trainable: int

    @property
    def size(self) -> int:
        """Activations per example: the product of the non-batch output dimensions."""
        dims = self.output_shape[1:] if self.output_shape and self.output_shape[0] is None else ()
        return math.prod(dims) if all(isinstance(d, int) for d in dims) else 0


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _table(headers, lines, title=None, footer=()) -> str:
    widths = [max(len(h), *(len(str(line[i])) for line in lines)) + 3 for i, h in enumerate(headers)]
    total = sum(widths) + 1
    out = [] if title is None else [title]
    out += ["_" * total, (" " + "".join(h.ljust(w) for h, w in zip(headers, widths))).rstrip(), "=" * total]
    for k, line in enumerate(lines):
        out.append(" " + "".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
        if k < len(lines) - 1:
            out.append("")
    out.append("=" * total)
    out += list(footer)
    if footer:
        out.append("_" * total)
    return "\n".join(out)


@dataclasses.dataclass
class Summary:
    """What :func:`summary` found; ``str()`` is the Keras-style table.

    Attributes
    ----------
    rows : list of Row
    total_params, trainable_params, non_trainable_params : int
    input_size : tuple
        Without the batch axis, as the model takes it (torch order).
    output_shape : tuple
        Model output with ``None`` for the batch (in the summary's style).
    style : {"torch", "keras"}
    """

    rows: list
    total_params: int
    trainable_params: int
    non_trainable_params: int
    input_size: tuple
    output_shape: tuple
    style: str
    name: str = "model"

    def __str__(self) -> str:
        lines = [(f"{r.name} ({r.type})", _fmt_shape(r.output_shape), f"{r.params:,}") for r in self.rows]
        footer = (f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}")
        return _table(("Layer (type)", "Output Shape", "Param #"), lines, f'Model: "{self.name}"', footer)

    def __repr__(self) -> str:
        return str(self)

    def params_by_layer(self) -> dict:
        """``{name: params}`` of the rows that have parameters."""
        return {r.name: r.params for r in self.rows if r.params}


def _keras_shape(shape) -> tuple:
    shape = tuple(shape)
    if len(shape) >= 3:  # (N, C, *spatial) -> (N, *spatial, C)
        shape = (shape[0], *shape[2:], shape[1])
    return (None, *shape[1:])


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


#: models with more parameters than this are summarised on the meta device (no compute, no memory);
#: smaller ones by one real forward pass of a single example in eval mode (faster than meta's set-up).
_REAL_PASS_LIMIT = 5_000_000


def _meta_pass(model, input_size, dtype):
    metas: dict[int, torch.Tensor] = {}  # one meta tensor per real one, so tied weights stay tied
    state = {k: metas.setdefault(id(v), torch.empty_like(v, device="meta"))
             for k, v in model.state_dict(keep_vars=True).items()}
    x = torch.empty((1, *input_size), dtype=dtype, device="meta")
    with torch.no_grad():
        return torch.func.functional_call(model, state, (x,), strict=False)


def _real_pass(model, input_size, dtype, device):
    was_training = model.training
    model.eval()  # batch-norm statistics stay untouched, dropout is off
    try:
        with torch.no_grad():
            return model(torch.zeros((1, *input_size), dtype=dtype, device=device))
    finally:
        model.train(was_training)


@_input_errors("input_size")
def summary(model: nn.Module, input_size=None, *, style: str = "torch", activations: bool = True,
            dtype: torch.dtype | None = None) -> Summary:
    """A Keras-style table of a model's layers, output shapes and parameter counts.

    Parameters
    ----------
    model : torch.nn.Module
    input_size : tuple of int, optional
        The input shape *without* the batch axis, in the order the model takes it
        (``(C, H, W)`` or ``(C, L)``); defaults to ``model.input_size`` (set by every
        builder in :mod:`cnnlab.nn.models`).
    style : {"torch", "keras"}
        ``"torch"``: channels-first shapes ``(None, C, H, W)`` and torch class names.
        ``"keras"``: what Keras's ``model.summary()`` prints: an ``InputLayer`` row,
        channels-last shapes ``(None, H, W, C)``, Keras layer names (``Conv2D``,
        ``Dense``, ``MaxPooling2D``, ``Activation``), and batch-norm moving statistics
        counted as non-trainable parameters.
    activations : bool
        Show parameter-free, shape-preserving layers (ReLU, sigmoid, dropout, ...).
    dtype : torch.dtype, optional
        Input dtype; defaults to the dtype of the model's first floating parameter.

    Returns
    -------
    Summary
        One :class:`Row` per layer call in execution order (leaf modules, and modules
        holding parameters of their own). ``total_params`` counts every parameter of
        the model once, shared ones included once, used or not.

    Notes
    -----
    Parameters of a convolution with kernel ``k``, ``C_in`` input and ``C_out`` output
    channels: ``(k·k·C_in + 1)·C_out`` (Bishop ch. 10 slides' ``(M²C + 1)·C_OUT``); of a dense
    layer: ``(n_in + 1)·n_out``. The forward pass runs on the meta device, so it costs
    no memory; models whose forward needs real values fall back to one real pass on zeros.
    Models of up to 5 million parameters take that real pass directly (in eval mode, so
    batch-norm statistics are not updated): it is faster than setting up the meta device.

    Examples
    --------
    >>> from cnnlab.nn.models import keras_example
    >>> print(summary(keras_example(2), style="keras"))   # the Chollet slides, Example 2
    Model: "sequential"
    ___________________________________________________________
     Layer (type)                Output Shape        Param #
    ===========================================================
     input_layer (InputLayer)    (None, 10, 10, 1)   0
    <BLANKLINE>
     conv2d (Conv2D)             (None, 8, 8, 5)     50
    <BLANKLINE>
     activation (Activation)     (None, 8, 8, 5)     0
    <BLANKLINE>
     conv2d_1 (Conv2D)           (None, 6, 6, 2)     92
    <BLANKLINE>
     activation_1 (Activation)   (None, 6, 6, 2)     0
    ===========================================================
    Total params: 142
    Trainable params: 142
    Non-trainable params: 0
    ___________________________________________________________
    """
    _check_model(model)
    style = _check_mode(style, ("torch", "keras"), "style")
    if input_size is None:
        input_size = getattr(model, "input_size", None)
        if input_size is None:
            raise ValueError("input_size is required: this model has no .input_size attribute")
    if isinstance(input_size, torch.Size):
        input_size = tuple(input_size)
    if (not isinstance(input_size, (tuple, list)) or not input_size
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_size)):
        raise ValueError(f"input_size must be a non-empty tuple of positive ints (no batch axis), got {input_size!r}")
    if dtype is None:
        dtype = _dtype(model)
    keras = style == "keras"

    calls = []
    targets = [m for m in model.modules()
               if not list(m.children()) or list(m.parameters(recurse=False))]
    handles = [m.register_forward_hook(lambda mod, args, out: calls.append((mod, out))) for m in targets]
    tensors = list(model.parameters()) + list(model.buffers())
    device = tensors[0].device if tensors else torch.device("cpu")
    big = sum(t.numel() for t in tensors) > _REAL_PASS_LIMIT
    try:
        if device.type == "meta" or big:
            try:
                output = _meta_pass(model, input_size, dtype)
            except (NotImplementedError, RuntimeError):
                if device.type == "meta":
                    raise
                calls.clear()
                output = _real_pass(model, input_size, dtype, device)
        else:
            output = _real_pass(model, input_size, dtype, device)
    finally:
        for h in handles:
            h.remove()

    names = {m: n for n, m in model.named_modules()}
    counters: dict[str, int] = {}
    seen = set()
    rows = []
    if keras:
        rows.append(Row("input_layer", "InputLayer", _keras_shape((None, *input_size)), 0, 0))

    def extra_stats(mod):
        if keras and isinstance(mod, nn.modules.batchnorm._NormBase) and mod.track_running_stats:
            return mod.running_mean.numel() + mod.running_var.numel()
        return 0

    for mod, out in calls:
        if not activations and isinstance(mod, _ACTIVATIONS):
            continue
        torch_type = type(mod).__name__
        shown_type = _KERAS_TYPES.get(torch_type, torch_type) if keras else torch_type
        qualname = names.get(mod, "") or "model"
        if keras and all(part.isdigit() for part in qualname.split(".")):
            base = _snake(shown_type)
            k = counters.get(base, 0)
            counters[base] = k + 1
            name = base if k == 0 else f"{base}_{k}"
        else:
            name = qualname
        params = trainable = 0
        if mod not in seen:
            seen.add(mod)
            own = list(mod.parameters(recurse=False))
            trainable = sum(p.numel() for p in own if p.requires_grad)
            params = sum(p.numel() for p in own) + extra_stats(mod)
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
        shape = _keras_shape(shape) if keras else (None, *shape[1:])
        rows.append(Row(name, shown_type, shape, params, trainable))

    total = _count_parameters(model)
    trainable = _count_parameters(model, trainable_only=True)
    total += sum(extra_stats(m) for m in model.modules())
    out_shape = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
    out_shape = _keras_shape(out_shape) if keras else (None, *out_shape[1:])
    name = "sequential" if isinstance(model, nn.Sequential) else _snake(type(model).__name__)
    return Summary(rows, total, trainable, total - trainable, tuple(input_size), out_shape, style, name)


@dataclasses.dataclass
class Table:
    """A small printable table: ``headers`` and ``rows`` (tuples); ``str()`` renders it."""

    headers: tuple
    rows: list
    title: str | None = None

    def __str__(self) -> str:
        return _table(self.headers, self.rows, self.title)

    def __repr__(self) -> str:
        return str(self)


def lenet5_table() -> Table:
    """The CNN lecture notes' LeNet-5 homework table, filled in from :func:`~cnnlab.nn.models.lenet5`.

    Columns: layer, activation shape (H, W, C), activation size, parameters computed
    from the model, and the count the CNN lecture notes print. Their counts use one input
    channel and one bias per layer (208 = (5·5·1 + 1)·8); with the table's own shapes
    the counts are (5·5·3 + 1)·8 = 608, (5·5·8 + 1)·16 = 3,216, 400·120 + 120 = 48,120,
    120·84 + 84 = 10,164 and 84·10 + 10 = 850.

    Returns
    -------
    Table
        ``rows``: tuples (layer, shape, size, params, notes' params).

    Examples
    --------
    >>> [row[3] for row in lenet5_table().rows]
    ['0', '608', '0', '3,216', '0', '48,120', '10,164', '850']
    """
    s = summary(lenet5(), style="keras", activations=False)
    rows = [("Input", "(32, 32, 3)", "3,072", "0", "0")]
    for r in s.rows:
        if r.name not in LENET5_NOTES_PARAMS:
            continue
        shape = r.output_shape[1:]
        if len(shape) == 1:
            shape = (shape[0], 1)
        rows.append((r.name, _fmt_shape(shape), f"{r.size:,}", f"{r.params:,}", f"{LENET5_NOTES_PARAMS[r.name]:,}"))
    return Table(("Layer", "Activation shape", "Activation size", "# parameters", "notes say"), rows,
                 "LeNet-5 (CNN lecture notes' table, corrected)")
