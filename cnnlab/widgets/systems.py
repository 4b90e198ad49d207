"""Lesson 02 explorer: is this black box LTI, and is it convolution with its impulse response?"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from .. import systems
from .._validate import _check_mode, _check_seed, _check_size
from ..viz import plot_signal
from ._base import Explorer
from ._controls import dropdown, slider

__all__ = ["LTIExplorer", "input_signal"]

SIGNALS = ("pulse", "step", "ramp", "sine", "random")


def input_signal(kind, n, seed=0):
    """An input for the black boxes: a short pulse, a step, a ramp, a sine or random noise."""
    kind = _check_mode(kind, SIGNALS, "kind")
    n = _check_size(n, "n")
    seed = _check_seed(seed)
    t = np.arange(n)
    if kind == "pulse":
        return np.where((t >= 2) & (t < 5), 1.0, 0.0)
    if kind == "step":
        return np.where(t >= 3, 1.0, 0.0)
    if kind == "ramp":
        return t / max(n - 1, 1)
    if kind == "sine":
        return np.sin(2 * np.pi * t / 12)
    if kind == "random":
        return np.random.default_rng(seed).standard_normal(n)
    raise ValueError(f"signal must be one of {SIGNALS}, got {kind!r}")


def _boxes():
    named = {f"box {k}": v for k, v in systems.black_boxes().items()}
    named.update({
        "echo(delay 4, gain 0.6)": systems.echo(4, 0.6),
        "low-pass (alpha 0.3)": systems.lowpass(0.3),
        "moving average (width 3)": systems.moving_average_system(3),
        "squarer": systems.squarer(),
        "modulator (period 8)": systems.modulator(8),
        "clipper (±0.5)": systems.clipper(0.5),
        "offset (+1)": systems.offset(1.0),
    })
    return named


@dataclass(frozen=True, eq=False)
class LTIResult:
    name: str
    x: np.ndarray
    h: np.ndarray
    y: np.ndarray
    y_conv: np.ndarray
    report: object

    @property
    def convolution_error(self):
        """max |system(x) − (x ⋆ h)[:n]|: zero exactly when the system acts as a convolution on x."""
        return float(np.max(np.abs(self.y - self.y_conv)))


class LTIExplorer(Explorer):
    """Feed a black box a signal; test linearity and time invariance; compare with x ⋆ h.

    Examples
    --------
    >>> ex = LTIExplorer()
    >>> ex.system.value = "box B"
    >>> ex.result.report.is_lti, ex.result.convolution_error > 0.1
    (False, True)
    >>> ex.signal.value = "pulse"       # 0s and 1s: squaring changes nothing, one input proves little
    >>> ex.result.convolution_error
    0.0
    """

    height = "600px"
    figsize = (9.0, 3.6)
    css_class = "cnnlab-lti-explorer"

    def __init__(self):
        super().__init__()
        self._systems = _boxes()
        self._finish(dict(system=dropdown(list(self._systems), "box A", "system", width="360px"),
                          signal=dropdown(SIGNALS, "sine", "input signal", width="360px"),
                          length=slider(int, 24, 8, 64, "length n")))

    def compute(self, *, system, signal, length):
        box = self._systems[system]
        x = input_signal(signal, length)
        h = systems.impulse_response(box, length)
        return LTIResult(system, x, h, box(x), systems.respond_by_convolution(h, x),
                         systems.check_lti(box, n=length))

    def draw(self, r, figure):
        a1, a2, a3 = figure.subplots(1, 3)
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.1, top=0.9, wspace=0.22)
        plot_signal(r.x, ax=a1, color="#1f77b4", title="input x")
        plot_signal(r.h, ax=a2, color="#ff7f0e", title="impulse response h = O(δ)")
        plot_signal(r.y, ax=a3, color="#2ca02c", title="output: O(x) (stems) vs x ⋆ h (×)")
        (cross,) = a3.plot(np.arange(r.y_conv.size), r.y_conv, "x", color="#d62728", ms=6, mew=1.5)
        for ax in (a1, a2, a3):             # fewer tick labels: text is most of a redraw's cost
            ax.locator_params(nbins=5)
            ax.tick_params(labelsize=9)
        self._artists = ((a1, a2, a3), [a.containers[-1] for a in (a1, a2, a3)], cross)

    def refresh(self, r, figure):
        axes, stems, cross = self._artists
        t = np.arange(r.x.size)
        cross.set_data(t, r.y_conv)
        for ax, stem, y in zip(axes, stems, (r.x, r.h, r.y)):
            stem.markerline.set_data(t, y)
            stem.stemlines.set_segments(np.stack([np.stack([t, np.zeros_like(y)], 1), np.stack([t, y], 1)], 1))
            ax.relim()
            ax.autoscale_view()
        return True

    def header(self, r):
        def verdict(check):
            mark = "✔" if check.holds else "✘"
            colour = "#1a7f37" if check.holds else "#a00"
            return (f'<span style="color:{colour}">{mark} {check.property}</span> '
                    f'(max error {check.max_error:.2g})')

        same = r.convolution_error < 1e-9
        conv = (f'<span style="color:{"#1a7f37" if same else "#a00"}">'
                f'{"✔ O(x) = x ⋆ h" if same else "✘ O(x) ≠ x ⋆ h"}</span> '
                f'(max |difference| {r.convolution_error:.2g})')
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<div class="cnnlab-readout cnnlab-lti" data-lti="{str(r.report.is_lti).lower()}">'
            f'{verdict(r.report.linearity)} · {verdict(r.report.time_invariance)} → '
            f'<b>{"LTI" if r.report.is_lti else "not LTI"}</b></div>'
            f'<div class="cnnlab-readout cnnlab-conv" data-equal="{str(same).lower()}">{conv}</div>'
            f'<div style="color:#555">{html.escape(r.name)}</div></div>'
        )
