"""Plots of 1-D signals: samples, waveforms, spectra, frequency responses and pmfs.

The spectra are computed by :func:`cnnlab.audio.spectrum_db` and
:func:`cnnlab.audio.frequency_response_db` (still importable from here); this module
only draws them.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .._validate import _as_array, _check_int
from ..audio import frequency_response_db, spectrum_db
from ._style import INPUT, OUTPUT, checked, fmt, get_ax

__all__ = ["plot_signal", "plot_waveform", "plot_spectrum", "plot_frequency_response", "plot_pmf"]


@checked
def plot_signal(x, *, t=None, ax=None, label=None, color=INPUT, title=None, highlight=None,
                stem=None):
    """Plot a discrete-time signal as a stem plot (a line when it is long).

    Parameters
    ----------
    x : array_like, 1-D
    t : array_like, optional
        Sample times; ``arange(len(x))`` by default.
    ax : matplotlib.axes.Axes, optional
    label, color, title : optional
    highlight : sequence of int, optional
        Indices drawn as large red markers (e.g. the samples a kernel covers).
    stem : bool, optional
        Force a stem plot (default: only when ``len(x) <= 80``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_signal([1, 2, 3], ax=Figure().add_subplot(), label="x")
    >>> ax.collections[0].get_segments()[1].tolist()   # the stem of x[1]
    [[1.0, 0.0], [1.0, 2.0]]
    """
    x = _as_array(x, "x", ndim=1).astype(np.float64)
    t = np.arange(x.size) if t is None else _as_array(t, "t", ndim=1).astype(np.float64)
    if t.shape != x.shape:
        raise ValueError(f"t must have the shape of x {x.shape}, got {t.shape}")
    ax = get_ax(ax)
    if stem is None:
        stem = x.size <= 80
    if stem:
        container = ax.stem(t, x, linefmt="-", markerfmt="o", basefmt=" ", label=label)
        container.stemlines.set_color(color)
        container.markerline.set_color(color)
    else:
        ax.plot(t, x, color=color, label=label, lw=1)
    if highlight is not None:
        idx = np.asarray(list(highlight), dtype=int)
        if idx.size and idx.max() >= x.size:
            raise ValueError(f"highlight must hold indices below len(x) = {x.size}, got {list(highlight)!r}")
        if idx.size:
            ax.plot(t[idx], x[idx], "o", ms=9, mfc="none", mec="#d62728", mew=2)
    ax.axhline(0, color="#999999", lw=0.6)
    if title:
        ax.set_title(title, fontsize=10)
    if label:
        ax.legend(fontsize=9, loc="best")
    return ax


@checked
def plot_waveform(x, rate, *, ax=None, start=0.0, duration=None, label=None, color=None, alpha=1.0,
                  lw=1.0, title=None):
    """Plot an audio signal against time in milliseconds, optionally a window of it.

    Parameters
    ----------
    x : array_like, 1-D
    rate : int
        Samples per second.
    start, duration : float
        Window to show, in seconds (``duration=None`` shows to the end).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_waveform(np.arange(100.0), 1000, start=0.01, duration=0.005, ax=Figure().add_subplot())
    >>> ax.lines[0].get_ydata().tolist()
    [10.0, 11.0, 12.0, 13.0, 14.0]
    """
    x = _as_array(x, "x", ndim=1).astype(np.float64)
    rate = _check_int(rate, "rate", minimum=1)
    i0 = max(0, int(round(max(0.0, min(start * rate, x.size)))))   # min: a huge start is past the end, not an overflow
    i1 = x.size if duration is None else min(x.size, i0 + int(round(max(-1.0, min(duration * rate, x.size)))))
    if i0 >= i1:
        raise ValueError(f"the window start={start} s, duration={duration} s holds no sample of a "
                         f"{x.size / rate:g} s signal")
    ax = get_ax(ax)
    t_ms = np.arange(i0, i1) / rate * 1000
    ax.plot(t_ms, x[i0:i1], color=color, alpha=alpha, lw=lw, label=label)
    ax.set_xlabel("time (ms)")
    if title:
        ax.set_title(title, fontsize=10)
    if label:
        ax.legend(fontsize=9, loc="upper right")
    return ax


@checked
def plot_spectrum(x, rate, *, ax=None, label=None, color=None, alpha=1.0, title=None, nperseg=None):
    """Plot the magnitude spectrum of ``x`` in decibels (Hann window).

    Parameters
    ----------
    x : array_like, 1-D
    rate : int
        Samples per second.
    nperseg : int, optional
        Average the power of half-overlapping segments of this length (Welch's method):
        a smoother curve with ``nperseg // 2 + 1`` points. Default: one periodogram of
        the whole signal.

    Returns
    -------
    matplotlib.axes.Axes
        The line's x-data are frequencies in Hz from 0 to ``rate / 2``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(800) / 8000)
    >>> ax = plot_spectrum(tone, 8000, ax=Figure().add_subplot())
    >>> f, db = ax.lines[0].get_data()
    >>> float(f[np.argmax(db)])
    1000.0
    >>> ax = plot_spectrum(tone, 8000, ax=Figure().add_subplot(), nperseg=64)
    >>> ax.lines[0].get_xdata().size
    33
    """
    freqs, db = spectrum_db(x, rate, nperseg)   # cnnlab.audio computes, this draws
    ax = get_ax(ax)
    ax.plot(freqs, db, color=color, alpha=alpha, lw=0.8, label=label)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("magnitude (dB)")
    if title:
        ax.set_title(title, fontsize=10)
    if label:
        ax.legend(fontsize=9, loc="upper right")
    return ax


@checked
def plot_frequency_response(h, rate, *, ax=None, label=None, color="black", n_fft=4096, title=None,
                            offset_db=0.0):
    """Plot the gain ``|H(f)|`` of an FIR filter ``h`` in decibels.

    Parameters
    ----------
    h : array_like, 1-D
        Impulse response (e.g. ``ones(w)/w`` for a moving average).
    rate : int
    n_fft : int
        FFT length (frequency resolution ``rate / n_fft``).
    offset_db : float
        Added to the curve so it can sit on top of a spectrum.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_frequency_response(np.ones(4) / 4, 8000, ax=Figure().add_subplot())
    >>> f, db = ax.lines[0].get_data()
    >>> round(float(db[0]), 6), float(f[np.argmin(db)])   # 0 dB at DC, a null at rate/4
    (0.0, 2000.0)
    """
    freqs, db = frequency_response_db(h, rate, n_fft)
    ax = get_ax(ax)
    ax.plot(freqs, db + offset_db, color=color, lw=1.2, ls="--", label=label)
    ax.set_xlabel("frequency (Hz)")
    if title:
        ax.set_title(title, fontsize=10)
    if label:
        ax.legend(fontsize=9, loc="upper right")
    return ax


@checked
def plot_pmf(pmf, *, ax=None, label=None, color=OUTPUT, exact=None, title=None, width=0.8, alpha=0.85):
    """Bar plot of a probability mass function given as ``{value: probability}``.

    Parameters
    ----------
    pmf : mapping
        Values to probabilities (``fractions.Fraction`` or floats), e.g. from
        :func:`cnnlab.pmf_of_sum`.
    exact : bool, optional
        Write each probability above its bar as a fraction (default: when the pmf holds
        Fractions and has at most 16 values).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> from matplotlib.figure import Figure
    >>> ax = plot_pmf({1: F(1, 4), 2: F(1, 2), 3: F(1, 4)}, ax=Figure().add_subplot())
    >>> [round(float(p.get_height()), 2) for p in ax.patches]
    [0.25, 0.5, 0.25]
    >>> [t.get_text() for t in ax.texts]
    ['1/4', '1/2', '1/4']
    """
    if not hasattr(pmf, "items"):
        raise TypeError(f"pmf must be a mapping {{value: probability}}, got {type(pmf).__name__}")
    if not pmf:
        raise ValueError("pmf must not be empty")
    for v, pr in pmf.items():
        for what, num in (("values", v), ("probabilities", pr)):
            if isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, float, np.integer, np.floating)) \
                    and not hasattr(num, "denominator"):
                raise TypeError(f"pmf {what} must be numbers, got {num!r}")
    items = sorted(pmf.items())
    values = np.array([float(v) for v, _ in items])
    probs = [p for _, p in items]
    if any(float(p) < 0 for p in probs):
        raise ValueError("pmf probabilities must be non-negative")
    if exact is None:
        exact = all(isinstance(p, (Fraction, int)) for p in probs) and len(probs) <= 16
    ax = get_ax(ax)
    bars = ax.bar(values, [float(p) for p in probs], width=width, color=color, alpha=alpha, label=label)
    if exact:
        for bar, p in zip(bars, probs):
            text = str(Fraction(p)) if isinstance(p, (Fraction, int)) else fmt(p, max_denominator=1000)
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center", va="bottom",
                    fontsize=9)
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title, fontsize=10)
    if label:
        ax.legend(fontsize=9)
    return ax
