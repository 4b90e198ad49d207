"""Lesson 07's architecture builder: type a stack of layers, read its summary live.

A stack is text, one token per layer, e.g. ``conv8:5 pool2 conv16:3 pool2 dense10``
(lesson 08's ``model2``). :func:`build_stack` turns it into a ``torch.nn.Sequential``;
the explorer prints :func:`cnnlab.nn.summary` of it (output shapes, parameters, Keras's
trainable / non-trainable split) and the receptive field of the last spatial layer
(:func:`cnnlab.receptive_field`), and draws parameters and activations per layer.

torch enters only when a stack is built, so ``import cnnlab.widgets`` stays torch-free.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from ..shapes import receptive_field
from ._base import Explorer
from ._controls import column, dropdown, hook, text

__all__ = ["ArchitectureBuilder", "ArchitectureResult", "STACKS", "build_stack"]

#: Stacks from the lessons: name -> (layers, input size (C, H, W)).
STACKS = {
    "model2 (Unit 5 notes)": ("conv8:5 pool2 conv16:3 pool2 dense10", (1, 28, 28)),
    "model2 + batch norm + dropout": ("conv8:5 bn pool2 conv16:3 bn pool2 drop0.5 dense10", (1, 28, 28)),
    "model1 (MLP)": ("dense200 dense100 dense10", (1, 28, 28)),
    "LeNet-5 (CNN lecture notes, corrected)": ("conv8:5 pool2 conv16:5 pool2 dense120 dense84 dense10", (3, 32, 32)),
    "three 3×3 convs, no pooling (Chollet slides)": ("conv32:3 conv64:3 conv64:3 dense1", (1, 28, 28)),
    "with max-pooling (Chollet slides)": ("conv32:3 pool2 conv64:3 pool2 conv64:3 dense1", (1, 28, 28)),
}

_HELP = ("write conv<filters>:<k>[/s<stride>][/p<padding>], pool<k>, bn, drop<p>, dense<units>, "
         "e.g. conv8:5 pool2 conv16:3/p1 bn drop0.5 dense10")
_PATTERNS = {
    "conv": re.compile(r"^conv(\d+):(\d+)((?:/[sp]\d+)*)$"),
    "pool": re.compile(r"^pool(\d+)$"),
    "bn": re.compile(r"^bn$"),
    "drop": re.compile(r"^drop(0?\.\d+|0)$"),
    "dense": re.compile(r"^dense(\d+)$"),
}


def _parse(text):
    if not isinstance(text, str):
        raise TypeError(f"layers (text) must be a string like 'conv8:5 pool2 dense10', got {type(text).__name__}")
    tokens = [t for t in re.split(r"[\s,]+", text.strip().lower()) if t]
    if not tokens:
        raise ValueError(f"layers (text) must list at least one layer; {_HELP}")
    parsed = []
    for token in tokens:
        for kind, pattern in _PATTERNS.items():
            m = pattern.match(token)
            if m:
                parsed.append((kind, token, m))
                break
        else:
            raise ValueError(f"layer {token!r} is not understood; {_HELP}")
    return parsed


def build_stack(text, input_size=(1, 28, 28)):
    """Build a ``torch.nn.Sequential`` from a layer string.

    Parameters
    ----------
    text : str
        Tokens separated by spaces or commas: ``conv<C>:<k>`` (C filters of k×k, then
        ReLU; ``/s<stride>`` and ``/p<padding>`` optional), ``pool<k>`` (k×k max-pooling,
        stride k), ``bn`` (batch normalisation of the previous layer's output, after its ReLU),
        ``drop<p>`` (dropout), ``dense<units>`` (a ``Flatten`` is inserted before the first;
        ReLU follows every dense layer but the last).
    input_size : tuple of int
        (C, H, W) of one input, without the batch axis.

    Returns
    -------
    (torch.nn.Sequential, list of (kernel, stride))
        The model (with ``model.input_size``) and its convolutions and poolings in order,
        for :func:`cnnlab.receptive_field`.

    Examples
    --------
    >>> from cnnlab.nn import count_parameters
    >>> net, spatial = build_stack("conv8:5 pool2 conv16:3 pool2 dense10")     # model2
    >>> count_parameters(net), spatial
    (5386, [(5, 1), (2, 2), (3, 1), (2, 2)])
    """
    from torch import nn

    parsed = _parse(text)
    if (not isinstance(input_size, tuple) or len(input_size) != 3
            or not all(isinstance(v, int) and v > 0 for v in input_size)):
        raise ValueError(f"input_size must be a (C, H, W) tuple of positive ints, got {input_size!r}")
    if input_size[0] > 4096 or input_size[1] * input_size[2] > 4096 * 4096:
        raise ValueError(f"input_size must be at most 4096 channels of 4096×4096 pixels, got {input_size!r}")
    channels, flat = input_size[0], False
    layers, spatial = [], []
    last_dense = max((i for i, (kind, _, _) in enumerate(parsed) if kind == "dense"), default=-1)
    for i, (kind, token, m) in enumerate(parsed):
        if kind == "conv":
            if flat:
                raise ValueError(f"layer {token!r} comes after a dense layer; convolutions need a (C, H, W) input")
            out, k = int(m.group(1)), int(m.group(2))
            opts = dict(re.findall(r"/([sp])(\d+)", m.group(3)))
            s, p = int(opts.get("s", 1)), int(opts.get("p", 0))
            if out < 1 or k < 1 or s < 1:
                raise ValueError(f"layer {token!r}: filters, kernel size and stride must be positive")
            layers += [nn.Conv2d(channels, out, k, stride=s, padding=p), nn.ReLU()]
            spatial.append((k, s))
            channels = out
        elif kind == "pool":
            if flat:
                raise ValueError(f"layer {token!r} comes after a dense layer; pooling needs a (C, H, W) input")
            k = int(m.group(1))
            if k < 1:
                raise ValueError(f"layer {token!r}: the pooling window must be positive")
            layers.append(nn.MaxPool2d(k))
            spatial.append((k, k))
        elif kind == "bn":
            layers.append(nn.BatchNorm1d(channels) if flat else nn.BatchNorm2d(channels))
        elif kind == "drop":
            layers.append(nn.Dropout(float(m.group(1))))
        else:
            units = int(m.group(1))
            if units < 1:
                raise ValueError(f"layer {token!r}: a dense layer needs at least one unit")
            if not flat:
                layers.append(nn.Flatten())
                flat = True
                channels = _run(nn.Sequential(*layers), input_size).shape[1]
            layers.append(nn.Linear(channels, units))
            channels = units
            if i != last_dense:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.input_size = tuple(input_size)
    _run(model, input_size)                   # checks every shape
    model.train()
    return model, spatial


def _run(model, input_size):
    """One forward pass on zeros in eval mode; a shape error becomes a ValueError naming the input."""
    import torch

    model.eval()
    try:
        with torch.no_grad():
            return model(torch.zeros(1, *input_size))
    except RuntimeError as exc:
        raise ValueError(f"the stack does not fit a {input_size} input: {str(exc).splitlines()[0]}") from None


@dataclass(frozen=True, eq=False)
class ArchitectureResult:
    """What :class:`ArchitectureBuilder` shows (``explorer.result``)."""

    summary: object            #: cnnlab.nn.Summary (Keras style)
    rows: list                 #: the summary's rows without the input row
    total_params: int
    trainable_params: int
    non_trainable_params: int
    receptive_field: int | None  #: of one unit of the last convolution or pooling (None without them)


class ArchitectureBuilder(Explorer):
    """Stack layers and see the summary, shapes, parameters and receptive field live.

    Examples
    --------
    >>> ex = ArchitectureBuilder()
    >>> ex.result.total_params, ex.result.receptive_field          # model2: 5,386; each unit sees 12×12
    (5386, 12)
    >>> ex.layers.value = "conv8:5 bn pool2 conv16:3 bn pool2 dense10"
    >>> ex.result.trainable_params, ex.result.non_trainable_params   # + 2 + 2 per channel
    (5434, 48)
    >>> ex.layers.value = "conv8:5 pool2 conv16:30 dense10"
    >>> "does not fit" in ex.error
    True
    """

    height = "560px"
    figsize = (9.0, 2.3)
    css_class = "cnnlab-architecture-builder"

    def __init__(self, *, stack="model2 (Unit 5 notes)"):
        super().__init__()
        if not isinstance(stack, str):
            raise TypeError(f"stack must be the name of a stack, one of {list(STACKS)}, got {stack!r}")
        if stack not in STACKS:
            raise ValueError(f"stack must be one of {list(STACKS)}, got {stack!r}")
        layers, size = STACKS[stack]
        self.stack = hook(dropdown(list(STACKS) + ["custom"], stack, "stack", width="460px"))
        self.stack.observe(self._apply_stack, names="value")
        inputs = [("28×28×1 (MNIST)", (1, 28, 28)), ("32×32×3 (LeNet-5)", (3, 32, 32))]
        self._finish(dict(layers=text(layers, "layers", width="640px"),
                          input_size=dropdown(inputs, size, "input")),
                     box=lambda: column(self.stack, self.layers, self.input_size))
        self.layers.observe(self._to_custom, names="value")

    def _apply_stack(self, change):
        """A named stack sets the layers and the input, and redraws once."""
        if change["new"] == "custom":
            return
        text, size = STACKS[change["new"]]
        with self.hold_updates():
            self.layers.value, self.input_size.value = text, size

    def _to_custom(self, change):
        """Typing a stack of your own switches the menu to "custom"."""
        name = self.stack.value
        if name != "custom" and change["new"] != STACKS[name][0]:
            self.stack.unobserve(self._apply_stack, names="value")
            try:
                self.stack.value = "custom"
            finally:
                self.stack.observe(self._apply_stack, names="value")

    def compute(self, *, layers, input_size):
        from ..nn.summary import summary
        from .inspect import _OneThread

        with _OneThread():                    # a few tiny forward passes: threads cost more than they save
            model, spatial = build_stack(layers, input_size)
            s = summary(model, input_size, style="keras", activations=False)
        rf = receptive_field(spatial)[-1].size if spatial else None
        return ArchitectureResult(s, [r for r in s.rows if r.type != "InputLayer"], s.total_params,
                                  s.trainable_params, s.non_trainable_params, rf)

    def draw(self, r, figure):
        names = [f"{row.name}" for row in r.rows]
        x = np.arange(len(names))
        ax = figure.add_axes((0.08, 0.36, 0.4, 0.52))
        ax.bar(x, [row.params for row in r.rows], color="#ff7f0e")
        ax.set_title("parameters per layer", fontsize=9)
        ax2 = figure.add_axes((0.58, 0.36, 0.4, 0.52))
        ax2.bar(x, [row.size for row in r.rows], color="#1f77b4")
        ax2.set_title("activations per example (output size)", fontsize=9)
        for a in (ax, ax2):
            a.set_xticks(x, names, rotation=30, ha="right", fontsize=9)
            a.tick_params(axis="y", labelsize=9)
            a.grid(axis="y", alpha=0.3)

    def refresh(self, r, figure):
        """Same layers (e.g. another input size): new bar heights on the same axes."""
        names = [t.get_text() for t in figure.axes[0].get_xticklabels()]
        if names != [row.name for row in r.rows]:
            return False
        for ax, values in zip(figure.axes, ([row.params for row in r.rows], [row.size for row in r.rows])):
            for bar, v in zip(ax.patches, values):
                bar.set_height(v)
            ax.set_ylim(0, 1.05 * max(max(values), 1))
        return True

    def header(self, r):
        rf = ("" if r.receptive_field is None else
              f' · <span class="cnnlab-readout cnnlab-rf" data-rf="{r.receptive_field}">one unit of the last '
              f'convolution or pooling sees {r.receptive_field}×{r.receptive_field} input pixels</span>')
        return ('<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
                f'<span class="cnnlab-readout cnnlab-params" data-total="{r.total_params}" '
                f'data-trainable="{r.trainable_params}">{r.total_params:,} parameters '
                f'({r.trainable_params:,} trainable, {r.non_trainable_params:,} non-trainable)</span>{rf}'
                f'<pre style="font-size:11px;line-height:1.15">{html.escape(str(r.summary))}</pre></div>')
