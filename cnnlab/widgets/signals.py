"""Lesson 01 explorers: smoothing a noisy tone, and convolution's flip, shift and add."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from fractions import Fraction

import ipywidgets as widgets
import numpy as np

from .. import audio
from ..audio import frequency_response_db, spectrum_db
from ..geometry import conv_geometry
from ..viz import fmt, plot_frequency_response, plot_signal, plot_spectrum, plot_waveform
from ._base import Explorer
from ._controls import set_range, slider, stepper, text, toggles
from ._html import tape_html

__all__ = ["MovingAverageExplorer", "FlipShiftAddExplorer", "parse_numbers"]

RATE = audio.DEFAULT_RATE


# --------------------------------------------------------------------------- moving average
@dataclass(frozen=True, eq=False)
class MovingAverageResult:
    width: int
    frequency: float
    noise: float
    clean: np.ndarray
    noisy: np.ndarray
    smooth: np.ndarray
    snr_noisy: float
    snr_smooth: float

    @property
    def first_null_hz(self):
        """The lowest frequency the moving average removes completely: rate / width."""
        return RATE / self.width if self.width > 1 else float("inf")


class MovingAverageExplorer(Explorer):
    """Smooth a synthesized noisy tone with a moving average of adjustable width, and listen.

    Parameters
    ----------
    duration : float
        Clip length in seconds (8,000 samples per second, as in the Unit 5 notes).
    seed : int
        Seed of the noise.

    Attributes
    ----------
    player_noisy, player_smooth : ipywidgets.Audio
        Play buttons for the noisy and the smoothed clip (updated on every change).

    Examples
    --------
    >>> ex = MovingAverageExplorer()
    >>> ex.width.value = 9
    >>> ex.result.snr_smooth > ex.result.snr_noisy
    True
    """

    height = "560px"
    figsize = (9.0, 4.4)
    css_class = "cnnlab-moving-average-explorer"

    def __init__(self, duration=1.0, *, seed=0):
        super().__init__()
        self.duration, self.seed = duration, seed
        self.player_noisy = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.player_smooth = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.player_noisy.add_class("cnnlab-audio-noisy")
        self.player_smooth.add_class("cnnlab-audio-smooth")
        players = widgets.HBox([widgets.Label("noisy"), self.player_noisy,
                                widgets.Label("smoothed"), self.player_smooth])
        self._finish(dict(width=slider(int, 5, 1, 61, "width (samples)"),
                          noise=slider(float, 0.3, 0.0, 1.0, "noise level", step=0.05),
                          frequency=slider(float, 220.0, 55.0, 1760.0, "tone (Hz)", step=5.0)), extra=players)

    def compute(self, *, width, noise, frequency):
        clean, noisy = audio.noisy_tone(self.duration, RATE, frequency, noise=noise, seed=self.seed)
        smooth = audio.moving_average(noisy, width, mode="same")
        return MovingAverageResult(width, frequency, noise, clean, noisy, smooth,
                                   audio.snr_db(clean, noisy), audio.snr_db(clean, smooth))

    def update(self, change=None):
        super().update(change)
        if self.result is not None and not self._held:
            self.player_noisy.value = audio.to_wav_bytes(self.result.noisy, RATE)
            self.player_smooth.value = audio.to_wav_bytes(self.result.smooth, RATE)

    def draw(self, r, figure):
        ax1, ax2 = figure.subplots(2, 1)
        figure.subplots_adjust(left=0.08, right=0.92, top=0.94, bottom=0.1, hspace=0.45)
        window = dict(start=0.0, duration=0.025)
        plot_waveform(r.noisy, RATE, ax=ax1, color="#999999", lw=0.8, **window)
        plot_waveform(r.smooth, RATE, ax=ax1, color="#2ca02c", lw=1.6, **window)
        plot_waveform(r.clean, RATE, ax=ax1, color="black", lw=0.8, alpha=0.6, **window)
        ax1.lines[-1].set_linestyle("--")
        ax1.set_title(self._title(r), fontsize=9)
        plot_spectrum(r.noisy, RATE, ax=ax2, color="#999999", alpha=0.8, nperseg=512)
        plot_spectrum(r.smooth, RATE, ax=ax2, color="#2ca02c", alpha=0.9, nperseg=512)
        ax2.set_ylim(-90, 0)
        ax3 = ax2.twinx()
        plot_frequency_response(np.full(r.width, 1 / r.width), RATE, ax=ax3, color="#d62728",
                                label="gain of the moving average", n_fft=512)
        ax3.set_ylim(-60, 3)
        ax3.set_ylabel("moving-average gain (dB)", fontsize=9, color="#d62728")
        ax3.get_legend().remove()
        ax2.set_title("spectrum of the noisy (grey) and smoothed (green) clip; dashed red: the average's gain",
                      fontsize=9)
        for ax in (ax1, ax2, ax3):          # fewer tick labels: text is most of a redraw's cost
            ax.locator_params(nbins=5)
            ax.tick_params(labelsize=9)
        self._axes = (ax1, ax2, ax3)

    @staticmethod
    def _title(r):
        return f"first 25 ms: noisy (grey), moving average of width {r.width} (green), clean tone (dashed)"

    def refresh(self, r, figure):
        ax1, ax2, ax3 = self._axes
        n = ax1.lines[0].get_xdata().size                      # the same 25 ms window
        for line, y in zip(ax1.lines, (r.noisy, r.smooth, r.clean)):
            line.set_ydata(y[:n])
        ax1.relim()
        ax1.autoscale_view()
        ax1.set_title(self._title(r), fontsize=9)
        for line, y in zip(ax2.lines, (r.noisy, r.smooth)):
            line.set_ydata(spectrum_db(y, RATE, 512)[1])
        ax3.lines[0].set_ydata(frequency_response_db(np.full(r.width, 1 / r.width), RATE, 512)[1])
        return True

    def header(self, r):
        null = "none (width 1 changes nothing)" if r.width == 1 else f"{r.first_null_hz:.0f} Hz"
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<span class="cnnlab-readout cnnlab-snr" data-snr-noisy="{r.snr_noisy:.2f}" '
            f'data-snr-smooth="{r.snr_smooth:.2f}">SNR {r.snr_noisy:.1f} dB (noisy) → '
            f'<b>{r.snr_smooth:.1f} dB</b> (smoothed)</span> · '
            f'<span class="cnnlab-readout cnnlab-window">width {r.width} = {1000 * r.width / RATE:.2f} ms; '
            f'h = (1/{r.width})·[1 … 1]; first frequency removed: {null}</span></div>'
        )


# --------------------------------------------------------------------------- flip, shift and add
_TOKEN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?$|^[+-]?\d+(\.\d*)?[eE][+-]?\d+$")


#: the largest magnitude typed on the tape (so that sums of products stay finite)
_MAX_ABS = 1e100


def parse_numbers(text, name="x"):
    """Parse ``'1 2 3'``, ``'1, 2, 3'`` or ``'1/3 1/3 1/3'`` into a float array.

    Raises
    ------
    ValueError
        Naming the offending token, e.g. ``h: '1/0' is not a number``.

    Examples
    --------
    >>> parse_numbers("1/3, 2 -0.5")
    array([ 0.33333333,  2.        , -0.5       ])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r}")
    if not isinstance(text, str):
        raise TypeError(f"text ({name}) must be a str of numbers such as '1 2 3', got {text!r}")
    tokens = [t for t in re.split(r"[\s,;\[\]]+", text.strip()) if t]
    if not tokens:
        raise ValueError(f"{name}: type some numbers, e.g. 1 2 3 (got nothing: the text is empty)")
    values = []
    for tok in tokens:
        try:
            if not _TOKEN.match(tok):
                raise ValueError
            value = float(Fraction(tok))
        except (ValueError, ZeroDivisionError, OverflowError):
            raise ValueError(f"{name}: {tok!r} is not a number (write numbers like 2, -0.5 or 1/3)") from None
        if abs(value) > _MAX_ABS:
            raise ValueError(f"{name}: {tok!r} is too large; numbers on the tape must lie within ±{_MAX_ABS:g}")
        values.append(value)
    if len(values) > 40:
        raise ValueError(f"{name}: at most 40 numbers fit on the tape, got {len(values)}")
    return np.array(values)


@dataclass(frozen=True, eq=False)
class FlipShiftAddResult:
    geometry: object
    t: int
    terms: str

    @property
    def revealed(self):
        """The output values computed so far: y[0..t]."""
        return self.geometry.output[: self.t + 1]


class FlipShiftAddExplorer(Explorer):
    """Step through ``y = x ⋆ h`` one output at a time: flip h, shift it to t, multiply and add.

    Parameters
    ----------
    x, h : str
        Initial signal and kernel as text (Unit 5 notes' moving-average example by default).

    Examples
    --------
    >>> ex = FlipShiftAddExplorer()
    >>> ex.t.value = 9
    >>> fmt(ex.result.revealed[-1])                       # y(10) of the Unit 5 notes (1-based)
    '5/3'
    """

    height = "560px"
    figsize = (9.0, 2.2)
    css_class = "cnnlab-flip-shift-add-explorer"

    def __init__(self, x="1 2 3 1 2 3 1 2 3", h="1/3 1/3 1/3"):
        super().__init__()
        for name, value in (("x", x), ("h", h)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str of numbers such as '1 2 3', got {value!r}")
        self.t, self.play = stepper("output index t", interval=1000)
        self._finish(dict(x_text=text(x, "signal x"), h_text=text(h, "kernel h"),
                          operation=toggles([("convolution (flip h)", "convolution"),
                                             ("correlation (no flip)", "correlation")], "convolution", "operation"),
                          padding=slider(int, 2, 0, 6, "padding P"), stride=slider(int, 1, 1, 3, "stride S"),
                          t=self.t),
                     box=lambda: widgets.VBox([self.x_text, self.h_text, self.operation,
                                               widgets.HBox([self.padding, self.stride]),
                                               widgets.HBox([self.play, self.t])]))

    def update(self, change=None):
        if not self._held:
            with self._quietly():
                try:
                    settings = self.params()
                    del settings["t"]
                    set_range(self.t, self.play, self._geometry(**settings).output.size - 1)
                except ValueError:
                    pass
        super().update(change)

    @staticmethod
    def _geometry(*, x_text, h_text, operation, padding, stride):
        return conv_geometry(parse_numbers(x_text, "signal x"), parse_numbers(h_text, "kernel h"), stride=stride,
                             padding=padding, operation=operation)

    def compute(self, *, x_text, h_text, operation, padding, stride, t):
        geom = self._geometry(x_text=x_text, h_text=h_text, operation=operation, padding=padding, stride=stride)
        t = min(int(t), geom.output.size - 1)
        terms = geom.terms(t)
        products = " + ".join(f"{fmt(v)}·{fmt(w)}" for _, v, w in terms)
        text = f"y[{t}] = {products} = {fmt(geom.output[t])}"
        return FlipShiftAddResult(geom, t, text)

    def draw(self, r, figure):
        ax = figure.add_axes([0.07, 0.2, 0.9, 0.68])
        y = r.geometry.output
        plot_signal(y[: r.t + 1], ax=ax, color="#2ca02c", highlight=[r.t])
        ax.set_xlim(-0.7, y.size - 0.3)
        lo, hi = min(0.0, float(np.min(y))), max(0.0, float(np.max(y)))
        ax.set_ylim(lo - 0.1 * (hi - lo + 1e-9), hi + 0.15 * (hi - lo + 1e-9))
        ax.set_xlabel("t")
        ax.set_title(f"output so far: y[0..{r.t}] of {y.size}", fontsize=9)

    def header(self, r):
        g = r.geometry
        n, k = g.x.size, g.kernel.size
        (p, _), = g.padding
        s = g.stride[0]
        formula = f"length = ⌊(n + 2P − k)/S⌋ + 1 = ⌊({n} + 2·{p} − {k})/{s}⌋ + 1 = {g.output.size}"
        flip = ("h is flipped: the tape shows h[k−1] … h[0] from left to right"
                if g.operation == "convolution" else "no flip: correlation slides h as it is")
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'{tape_html(g, r.t, reveal="upto", symbol="h")}'
            f'<div class="cnnlab-readout cnnlab-sum" style="margin-top:4px">{html.escape(r.terms)}</div>'
            f'<div class="cnnlab-readout cnnlab-size" data-length="{g.output.size}">{html.escape(formula)}</div>'
            f'<div style="color:#555">{html.escape(flip)}</div></div>'
        )
