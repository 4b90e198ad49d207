"""Lesson 07 explorer: how far into the input one unit of a deep layer can see.

A stack is written as text, one token per layer: ``conv3`` (3-wide kernel, stride 1),
``conv5/s2`` (stride 2), ``conv3/d2`` (dilation 2), ``pool2`` (2-wide pooling, stride 2
by default, as in every framework), ``pool3/s2``. Sizes come from the core's
:func:`cnnlab.receptive_field`; :func:`dependency_cone` follows one output unit back to
the exact input positions it reads (with dilation, the span can have holes).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from .._validate import _check_int, _check_mode, _is_int
from ..shapes import conv_output_size, receptive_field
from ._base import Explorer
from ._controls import column, dropdown, hook, slider, text

__all__ = ["PRESETS", "ReceptiveFieldExplorer", "dependency_cone", "parse_layers"]

#: Stacks from the lecture notes: name -> layer text.
PRESETS = {
    "three 3×3 convs (Chollet slides: 7×7)": "conv3 conv3 conv3",
    "3 convs with 2×2 max-pools (Chollet slides)": "conv3 pool2 conv3 pool2 conv3",
    "model2 (Unit 5 notes)": "conv5 pool2 conv3 pool2",
    "two 3×3 = one 5×5 (VGG)": "conv3 conv3",
    "one 5×5": "conv5",
    "AlexNet conv1 + pool (11/4, 3/2)": "conv11/s4 pool3/s2",
    "dilated 1, 2, 4 (Chollet slides)": "conv3/d1 conv3/d2 conv3/d4",
    "one dilated 3×3, d=2 (holes)": "conv3/d2",
}

_TOKEN = re.compile(r"^(conv|pool)(\d+)((?:/[sd]\d+)*)$")


#: bounds that keep every explorer picture computable (and drawable) in a moment
_MAX_PART, _MAX_LAYERS = 1000, 64


def parse_layers(text):
    """Parse ``"conv3 pool2 conv3/d2"`` into ``[(kind, kernel, stride, dilation), ...]``.

    Parameters
    ----------
    text : str
        Tokens separated by spaces or commas: ``conv<k>`` or ``pool<k>``, optionally
        followed by ``/s<stride>`` and ``/d<dilation>``. Convolutions default to stride 1,
        poolings to stride k; both to dilation 1.

    Returns
    -------
    list of tuple

    Raises
    ------
    ValueError
        An unknown token, naming it and the accepted forms.

    Examples
    --------
    >>> parse_layers("conv3, pool2 conv3/d2 conv5/s2")
    [('conv', 3, 1, 1), ('pool', 2, 2, 1), ('conv', 3, 1, 2), ('conv', 5, 2, 1)]
    """
    if not isinstance(text, str):
        raise TypeError(f"text (the layers) must be a string like 'conv3 pool2', got {type(text).__name__}")
    tokens = [t for t in re.split(r"[\s,]+", text.strip().lower()) if t]
    if not tokens:
        raise ValueError("layers must list at least one layer, e.g. 'conv3 conv3 pool2' (the text is empty)")
    layers = []
    for token in tokens:
        m = _TOKEN.match(token)
        if not m or int(m.group(2)) < 1:
            raise ValueError(f"layer {token!r} is not understood; write conv<k> or pool<k>, optionally with "
                             "/s<stride> and /d<dilation>, e.g. conv3, pool2, conv5/s2, conv3/d2")
        kind, k = m.group(1), int(m.group(2))
        options = dict(re.findall(r"/([sd])(\d+)", m.group(3)))
        stride = int(options.get("s", k if kind == "pool" else 1))
        dilation = int(options.get("d", 1))
        if stride < 1 or dilation < 1:
            raise ValueError(f"layer {token!r}: stride and dilation must be positive")
        if max(k, stride, dilation) > _MAX_PART:
            raise ValueError(f"layer {token!r}: kernel, stride and dilation must be at most {_MAX_PART}")
        layers.append((kind, k, stride, dilation))
    if len(layers) > _MAX_LAYERS:
        raise ValueError(f"layers must list at most {_MAX_LAYERS} layers, got {len(layers)}")
    return layers


def dependency_cone(layers, unit):
    """The units of every layer that one output unit depends on (no padding).

    Parameters
    ----------
    layers : list of (kind, kernel, stride, dilation)
        As from :func:`parse_layers`.
    unit : int
        Index of the unit in the last layer.

    Returns
    -------
    list of ndarray
        ``cone[l]`` = sorted indices of the units of layer ``l`` (0 = the input) that
        ``unit`` reads, directly or through the layers in between; ``cone[-1] == [unit]``.

    Notes
    -----
    Unit ``i`` of a layer with kernel ``k``, stride ``s`` and dilation ``d`` reads units
    ``i·s + m·d`` (``m = 0 … k−1``) of the layer below. Its input span is
    ``[i·J, i·J + R − 1]`` with ``R`` and ``J`` from :func:`cnnlab.receptive_field`.

    Examples
    --------
    >>> cone = dependency_cone(parse_layers("conv3/d2"), 0)
    >>> cone[0].tolist()        # spans 5 inputs, reads 3 of them
    [0, 2, 4]
    >>> len(dependency_cone(parse_layers("conv3 conv3 conv3"), 0)[0])
    7
    """
    unit = _check_int(unit, "unit", minimum=0, maximum=10**6)
    if not isinstance(layers, (list, tuple)) or len(layers) > _MAX_LAYERS or not all(
            isinstance(t, tuple) and len(t) == 4 and all(_is_int(v) and 1 <= v <= _MAX_PART for v in t[1:])
            for t in layers):
        raise TypeError(f"layers must be a list of (kind, kernel, stride, dilation) tuples as parse_layers "
                        f"returns, got {layers!r:.120}")
    cone = [np.array([unit])]
    for _, k, s, d in reversed(layers):
        below = (cone[0][:, None] * s + np.arange(k)[None, :] * d).ravel()
        cone.insert(0, np.unique(below))
    return cone


@dataclass(frozen=True, eq=False)
class ReceptiveResult:
    layers: list
    records: list
    sizes: list          # units per layer, input first
    unit: int
    cone: list
    input_size: int


class ReceptiveFieldExplorer(Explorer):
    """Pick a stack of convolutions and poolings; see which inputs one deep unit reads.

    Examples
    --------
    >>> ex = ReceptiveFieldExplorer()
    >>> ex.result.records[-1].size        # three 3×3 convolutions: a 7×7 window
    7
    >>> ex.preset.value = "dilated 1, 2, 4 (Chollet slides)"
    >>> ex.result.records[-1].size
    15
    >>> ex.layers.value = "conv3 pool2 banana"
    >>> "banana" in ex.error
    True
    """

    height = "520px"
    figsize = (9.5, 3.5)
    css_class = "cnnlab-receptive-explorer"

    def __init__(self, *, preset="three 3×3 convs (Chollet slides: 7×7)", input_size=32):
        super().__init__()
        _check_mode(preset, tuple(PRESETS), "preset")
        self.preset = hook(dropdown(list(PRESETS) + ["custom"], preset, "preset", width="420px"))
        self.preset.observe(self._apply_preset, names="value")
        self._finish(dict(layers=text(PRESETS[preset], "layers"),
                          input_size=slider(int, input_size, 4, 64, "input length"),
                          unit=slider(int, 0, 0, 63, "output unit")),
                     box=lambda: column(self.preset, self.layers, self.input_size, self.unit))

    def _apply_preset(self, change):
        if change["new"] != "custom" and self.layers.value != PRESETS[change["new"]]:
            self.layers.value = PRESETS[change["new"]]   # triggers the redraw

    def update(self, change=None):
        owner = getattr(change, "owner", None) if not isinstance(change, dict) else change.get("owner")
        if owner is self.layers and self.preset.value != "custom" and self.layers.value != PRESETS[self.preset.value]:
            with self._quietly():
                self.preset.value = "custom"
        super().update(change)

    def compute(self, *, layers, input_size, unit):
        layers = parse_layers(layers)
        records = receptive_field([(k, s, d) for _, k, s, d in layers])
        sizes = [input_size]
        for (kind, k, s, d), rec in zip(layers, records):
            try:
                sizes.append(conv_output_size(sizes[-1], k, s, 0, d))
            except ValueError:
                raise ValueError(f"input length {input_size} is too short: layer {rec.layer} ({kind}{k}) "
                                 f"needs {d * (k - 1) + 1} inputs but gets {sizes[-1]}; "
                                 f"make the input at least {rec.size} long") from None
        last = sizes[-1]
        if self.unit.max != last - 1:
            with self._quietly():
                self.unit.max = last - 1
        unit = min(unit, last - 1)
        cone = dependency_cone(layers, unit)
        return ReceptiveResult(layers, records, sizes, unit, cone, input_size)

    @staticmethod
    def _centre(r, level, index):
        jump = 1 if level == 0 else r.records[level - 1].jump
        span = 1 if level == 0 else r.records[level - 1].size
        return index * jump + (span - 1) / 2

    def _cone_artists(self, r):
        """Segments, picked-unit positions per level and the input span for the selected unit."""
        segments = []
        for level in range(1, len(r.layers) + 1):  # each picked unit to the units it reads
            _, k, s, d = r.layers[level - 1]
            for i in r.cone[level]:
                for m in range(k):
                    segments.append([(self._centre(r, level, i), level),
                                     (self._centre(r, level - 1, i * s + m * d), level - 1)])
        picked = [self._centre(r, level, r.cone[level]) for level in range(len(r.layers) + 1)]
        lo = r.unit * r.records[-1].jump
        return segments, picked, (lo - 0.5, lo + r.records[-1].size - 0.5)

    def draw(self, r, figure):
        from matplotlib.collections import LineCollection

        ax = figure.add_axes([0.1, 0.13, 0.88, 0.83])
        depth = len(r.layers)
        segments, picked, (lo, hi) = self._cone_artists(r)
        self._lines = ax.add_collection(LineCollection(segments, colors="#1f77b4", linewidths=0.6, alpha=0.35,
                                                       zorder=0))
        self._picked = []
        for level in range(depth + 1):
            centres = self._centre(r, level, np.arange(r.sizes[level]))
            ax.plot(centres, np.full(len(centres), level), "o", ms=4, color="#c7c7c7", zorder=1)
            self._picked.append(ax.plot(picked[level], np.full(len(picked[level]), level), "o", ms=6,
                                        color="#d62728" if level == depth else "#1f77b4", zorder=2)[0])
        self._span = ax.axvspan(lo, hi, ymin=0, ymax=0.06, color="#ff7f0e", alpha=0.5)
        names = ["input"] + [f"{kind}{k}" + (f"/s{s}" if s != (k if kind == "pool" else 1) else "")
                             + (f"/d{d}" if d != 1 else "") for kind, k, s, d in r.layers]
        ax.set_yticks(range(depth + 1), names)
        ax.set_xlim(-1, r.input_size)
        ax.set_ylim(-0.6, depth + 0.5)
        ax.set_xlabel("position in the input (unit centres)")
        ax.grid(axis="x", alpha=0.2)
        self._drawn_stack = (r.layers, r.input_size)

    def refresh(self, r, figure):
        """Only the selected unit changed: move the cone, keep the axes."""
        if (r.layers, r.input_size) != getattr(self, "_drawn_stack", None):
            return False
        segments, picked, (lo, hi) = self._cone_artists(r)
        self._lines.set_segments(segments)
        for level, line in enumerate(self._picked):
            line.set_data(picked[level], np.full(len(picked[level]), level))
        self._span.set_x(lo)
        self._span.set_width(hi - lo)
        return True

    def header(self, r):
        last = r.records[-1]
        reads = len(r.cone[0])
        rows = "".join(
            f"<tr><td>{rec.layer}</td><td>{kind}</td><td>{k}</td><td>{s}</td><td>{d}</td>"
            f"<td>{n}</td><td><b>{rec.size}</b></td><td>{rec.jump}</td></tr>"
            for rec, (kind, k, s, d), n in zip(r.records, r.layers, r.sizes[1:]))
        table = ('<table class="cnnlab-rf-table" style="font-size:12px;border-collapse:collapse" border="1" '
                 'cellpadding="2"><tr><th>layer</th><th>kind</th><th>k</th><th>s</th><th>d</th><th>units</th>'
                 f'<th>field R</th><th>jump J</th></tr>{rows}</table>')
        gap = "" if reads == last.size else f" (it reads only {reads} of them: dilation leaves holes)"
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<div class="cnnlab-readout cnnlab-rf" data-size="{last.size}" data-jump="{last.jump}" '
            f'data-reads="{reads}">unit {r.unit} of the last layer sees inputs {r.unit * last.jump}…'
            f'{r.unit * last.jump + last.size - 1}: a field of {last.size}{html.escape(gap)}; in 2-D, '
            f'{last.size}×{last.size}. R_l = R_(l−1) + d·(k−1)·J_(l−1), J_l = J_(l−1)·s</div>'
            f"{table}</div>"
        )
