"""Lesson 05 explorer: what a standard and a depthwise-separable convolution cost.

A standard k×k convolution from C_in to C_out channels lets every output channel look
at every input channel through its own k×k filter. A depthwise-separable one splits that
into a depthwise k×k convolution (one filter per input channel, ``groups=C_in``) followed
by a pointwise 1×1 convolution that mixes the channels. :func:`conv_cost` counts
parameters and multiply-adds of both; :class:`SeparableCostExplorer` shows them live.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets

from .._validate import _check_bool
from ..shapes import conv_output_size, resolve_padding
from ..viz import fmt
from ._base import Explorer
from ._controls import STYLE, slider, toggles

__all__ = ["ConvCost", "SeparableCostExplorer", "conv_cost"]


@dataclass(frozen=True)
class ConvCost:
    """Parameters and multiply-adds (MACs) of one layer variant."""

    params: int
    macs: int


def conv_cost(size, c_in, c_out, kernel_size, *, stride=1, padding="same", bias=True):
    r"""Parameters and multiply-adds of a standard vs a depthwise-separable 2-D convolution.

    Parameters
    ----------
    size : int
        Height = width of the input.
    c_in, c_out : int
        Input and output channels.
    kernel_size : int
        k of the k×k filters.
    stride : int
    padding : {"same", "valid"} or int
        "same" keeps ``ceil(size / stride)`` (TensorFlow/Keras rule), "valid" pads
        nothing, an int pads that many zeros on every side.
    bias : bool
        One bias per output channel of each convolution.

    Returns
    -------
    dict
        ``{"standard", "depthwise", "pointwise", "separable"}`` -> :class:`ConvCost`, plus
        ``"out_size"`` (H_out = W_out) and ``"ratio"`` (separable / standard multiply-adds).

        With ``n = H_out·W_out`` output positions:

        * standard:  params ``k²·C_in·C_out (+ C_out)``, MACs ``n·k²·C_in·C_out``
        * depthwise: params ``k²·C_in (+ C_in)``,       MACs ``n·k²·C_in``
        * pointwise: params ``C_in·C_out (+ C_out)``,   MACs ``n·C_in·C_out``

        so the multiply-adds shrink by ``1/C_out + 1/k²``.

    Notes
    -----
    Output size per axis: ``floor((size + p_before + p_after − k) / stride) + 1``; bias
    additions are not counted as multiply-adds.

    Examples
    --------
    The CNN lecture notes' RGB layer, ten 3×3×3 filters on a 6×6×3 image:

    >>> c = conv_cost(6, 3, 10, 3, padding="valid")
    >>> c["out_size"], c["standard"].params, c["standard"].macs
    (4, 280, 4320)
    >>> c["separable"].params, round(c["ratio"], 3)   # 3·(9 + 1) + (3·10 + 10)
    (70, 0.211)
    """
    from .._validate import _check_int

    size = _check_int(size, "size", minimum=1)
    c_in = _check_int(c_in, "c_in", minimum=1)
    c_out = _check_int(c_out, "c_out", minimum=1)
    k = _check_int(kernel_size, "kernel_size", minimum=1, maximum=2**20)
    stride = _check_int(stride, "stride", minimum=1)
    bias = _check_bool(bias, "bias")
    if not isinstance(padding, str):
        _check_int(padding, "padding", minimum=0)
    (pads,) = resolve_padding(padding, size, k, stride, modes=("same", "valid"), same="tensorflow")
    out = conv_output_size(size, k, stride, pads)
    n = out * out
    b = int(bias)
    standard = ConvCost(k * k * c_in * c_out + b * c_out, n * k * k * c_in * c_out)
    depthwise = ConvCost(k * k * c_in + b * c_in, n * k * k * c_in)
    pointwise = ConvCost(c_in * c_out + b * c_out, n * c_in * c_out)
    separable = ConvCost(depthwise.params + pointwise.params, depthwise.macs + pointwise.macs)
    return {"standard": standard, "depthwise": depthwise, "pointwise": pointwise, "separable": separable,
            "out_size": out, "ratio": separable.macs / standard.macs}


def _big(n: int) -> str:
    """1234567 -> '1.23 M' (keeps small numbers exact)."""
    if n < 10_000:
        return f"{n:,}"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"


class SeparableCostExplorer(Explorer):
    """Standard vs depthwise-separable convolution: parameters and multiply-adds.

    Examples
    --------
    >>> ex = SeparableCostExplorer()
    >>> ex.result["standard"].params, ex.result["separable"].params   # 3×3, 32 -> 64 channels
    (18496, 2432)
    >>> ex.kernel.value = 5
    >>> ex.result["standard"].params
    51264
    """

    height = "400px"
    figsize = (9.0, 3.0)
    css_class = "cnnlab-cost-explorer"

    def __init__(self, *, size=56, c_in=32, c_out=64, kernel_size=3):
        super().__init__()
        self._finish(dict(size=slider(int, size, 1, 224, "input size H = W"),
                          c_in=slider(int, c_in, 1, 512, "input channels"),
                          c_out=slider(int, c_out, 1, 512, "output channels"),
                          kernel=slider(int, kernel_size, 1, 11, "kernel size k"),
                          stride=slider(int, 1, 1, 4, "stride S"),
                          padding=toggles(["same", "valid"], "same", "padding"),
                          bias=widgets.Checkbox(value=True, description="bias", style=STYLE)))

    def compute(self, *, size, c_in, c_out, kernel, stride, padding, bias):
        return conv_cost(size, c_in, c_out, kernel, stride=stride, padding=padding, bias=bias)

    _KEYS = (("params", "parameters"), ("macs", "multiply-adds"))

    def draw(self, r, figure):
        labels = ["standard", "depthwise\n+ pointwise"]
        self._panels = []
        for index, (key, title) in enumerate(self._KEYS):
            ax = figure.add_axes([0.09 + 0.5 * index, 0.16, 0.38, 0.7])
            bars = (ax.bar([0], [1], color="#1f77b4", width=0.6)[0],
                    ax.bar([1], [1], color="#ff7f0e", width=0.6, label="depthwise k×k")[0],
                    ax.bar([1], [1], color="#2ca02c", width=0.6, label="pointwise 1×1")[0])
            texts = (ax.text(0, 0, "", ha="center", va="bottom", fontsize=9),
                     ax.text(1, 0, "", ha="center", va="bottom", fontsize=9))
            ax.set_xticks([0, 1], labels)
            ax.set_title(title, fontsize=10)
            ax.set_yticks([])
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
            if index == 1:
                ax.legend(fontsize=9, loc="upper right")
            self._panels.append((key, ax, bars, texts))
        self.refresh(r, figure)

    def refresh(self, r, figure):
        """Move the bars and labels of the existing axes (much faster than a new figure)."""
        for key, ax, (std_bar, dw_bar, pw_bar), (std_text, sep_text) in self._panels:
            std = getattr(r["standard"], key)
            dw, pw = getattr(r["depthwise"], key), getattr(r["pointwise"], key)
            std_bar.set_height(std)
            dw_bar.set_height(dw)
            pw_bar.set_y(dw)
            pw_bar.set_height(pw)
            std_text.set_position((0, std))
            std_text.set_text(_big(std))
            sep_text.set_position((1, dw + pw))
            sep_text.set_text(_big(dw + pw))
            ax.set_ylim(0, std * 1.15 if std else 1)
        return True

    def header(self, r):
        p = self.params()
        k, ci, co = p["kernel"], p["c_in"], p["c_out"]
        std, sep = r["standard"], r["separable"]
        n = r["out_size"]
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px;line-height:1.5">'
            f'<div class="cnnlab-readout cnnlab-out-size" data-out-size="{n}">output {n}×{n}×{co} '
            f'({n * n:,} positions)</div>'
            f'<div class="cnnlab-readout cnnlab-standard" data-params="{std.params}" data-macs="{std.macs}">'
            f'standard: {k}·{k}·{ci}·{co}{" + " + str(co) if p["bias"] else ""} = {std.params:,} parameters, '
            f'{std.macs:,} multiply-adds</div>'
            f'<div class="cnnlab-readout cnnlab-separable" data-params="{sep.params}" data-macs="{sep.macs}">'
            f'separable: ({k}·{k}·{ci}{" + " + str(ci) if p["bias"] else ""}) + ({ci}·{co}'
            f'{" + " + str(co) if p["bias"] else ""}) = {sep.params:,} parameters, {sep.macs:,} multiply-adds</div>'
            f'<div class="cnnlab-readout cnnlab-ratio" data-ratio="{r["ratio"]:.6f}">multiply-adds ratio '
            f'{html.escape(fmt(r["ratio"], digits=3))} = 1/{co} + 1/{k}² '
            f'(≈ {1 / r["ratio"]:.1f}× cheaper)</div></div>'
        )
