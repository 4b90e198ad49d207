"""Synthesized sound for lesson 01: a tone, noise, moving averages, spectra and WAV bytes.

Everything is generated from a seed, so the course never downloads a recording, and
every function is numpy-only (plus the standard library's :mod:`wave` for
:func:`to_wav_bytes`). Play a clip in a notebook with
``IPython.display.Audio(x, rate=rate)`` or ``ipywidgets.Audio(value=to_wav_bytes(x, rate))``.
"""
from __future__ import annotations

import io
import wave

import numpy as np

from ._validate import (
    _as_array, _check_alloc, _check_bool, _check_int, _check_mode, _check_real, _check_seed, _check_size,
)
from .signal import convolve

__all__ = ["tone", "noisy_tone", "moving_average", "snr_db", "spectrum_db", "frequency_response_db", "to_wav_bytes"]

#: the sample rate of the Unit 5 notes' audio example (8,000 samples per second)
DEFAULT_RATE = 8000


def _n_samples(duration, rate):
    rate = _check_int(rate, "rate", minimum=1)
    duration = _check_real(duration, "duration", positive=True)
    n = duration * rate
    _check_alloc(n, "duration * rate", f"{duration} s * {rate} Hz")
    n = int(round(n))
    if n < 1:
        raise ValueError(f"duration * rate must give at least one sample, got {duration} s at {rate} Hz")
    return n, rate


def tone(duration=1.0, rate=DEFAULT_RATE, frequency=440.0, *, amplitude=1.0, phase=0.0):
    """A pure sine tone.

    Parameters
    ----------
    duration : float
        Length in seconds.
    rate : int
        Samples per second.
    frequency : float
        Frequency in Hz; must lie below the Nyquist frequency ``rate / 2``.
    amplitude, phase : float
        Peak value and phase (radians).

    Returns
    -------
    numpy.ndarray
        Shape ``(round(duration * rate),)``, float64.

    Notes
    -----
    ``x[t] = amplitude * sin(2π · frequency · t / rate + phase)`` for ``t = 0, 1, ...``.

    Examples
    --------
    >>> x = tone(0.001, rate=8000, frequency=1000)
    >>> x.shape
    (8,)
    >>> np.round(x[:3], 3)
    array([0.   , 0.707, 1.   ])
    """
    n, rate = _n_samples(duration, rate)
    frequency = _check_real(frequency, "frequency", positive=True)
    if frequency >= rate / 2:
        raise ValueError(
            f"frequency must be below the Nyquist frequency rate/2 = {rate / 2:g} Hz, got {frequency:g}"
        )
    amplitude = _check_real(amplitude, "amplitude")
    phase = _check_real(phase, "phase")
    t = np.arange(n) / rate
    return amplitude * np.sin(2 * np.pi * frequency * t + phase)


def noisy_tone(duration=1.0, rate=DEFAULT_RATE, frequency=220.0, *, noise=0.5, amplitude=0.5,
               seed=0):
    """A tone buried in white Gaussian noise: the clip lesson 01 smooths.

    Parameters
    ----------
    duration, rate, frequency, amplitude
        As in :func:`tone`.
    noise : float
        Standard deviation of the added noise (0 for a clean tone).
    seed : int
        Seed of the noise generator; the same seed gives the same clip.

    Returns
    -------
    clean, noisy : numpy.ndarray
        Both of shape ``(round(duration * rate),)``; ``noisy = clean + noise``.

    Examples
    --------
    >>> clean, noisy = noisy_tone(0.5, noise=0.3, seed=1)
    >>> clean.shape == noisy.shape == (4000,)
    True
    >>> bool(np.std(noisy - clean) > 0.25)
    True
    """
    clean = tone(duration, rate, frequency, amplitude=amplitude)
    noise = _check_real(noise, "noise", nonnegative=True, maximum=1e150)
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    return clean, clean + noise * rng.standard_normal(clean.shape)


def moving_average(x, width, mode="same"):
    """Smooth ``x`` with a moving average of ``width`` samples: convolution with ``ones(width)/width``.

    Parameters
    ----------
    x : array_like, 1-D
    width : int
        Number of samples averaged (the kernel length), at least 1.
    mode : {'same', 'full', 'valid'}
        As in :func:`cnnlab.convolve` (numpy's modes).

    Returns
    -------
    numpy.ndarray
        Length ``n + width - 1`` ('full'), ``max(n, width)`` ('same') or
        ``max(n, width) - min(n, width) + 1`` ('valid').

    Notes
    -----
    ``y[t] = (1/width) Σ_{k=0}^{width-1} x[t - k]`` (in 'full' indexing). The box kernel is
    symmetric, so convolution and cross-correlation give the same result here.

    Examples
    --------
    The Unit 5 notes' moving average, h = ⅓[1 1 1], with full padding (P = 2):

    >>> from cnnlab.examples import AUDIO_X               # x = [1 2 3 1 2 3 1 2 3]
    >>> y = moving_average(AUDIO_X, 3, mode="full")
    >>> np.round(3 * y).astype(int)
    array([1, 3, 6, 6, 6, 6, 6, 6, 6, 5, 3])
    """
    x = _as_array(x, "x", ndim=1)
    width = _check_size(width, "width")
    mode = _check_mode(mode, ("full", "same", "valid"))
    return convolve(x, np.full(width, 1.0 / width), mode=mode)


def snr_db(clean, signal):
    """Signal-to-noise ratio of ``signal`` against the ``clean`` reference, in decibels.

    Returns
    -------
    float
        ``10 log10(Σ clean² / Σ (signal - clean)²)``; ``inf`` when they are equal.

    Examples
    --------
    >>> round(snr_db([1.0, -1.0], [1.1, -0.9]), 1)
    20.0
    """
    clean = _as_array(clean, "clean", ndim=1).astype(np.float64)
    signal = _as_array(signal, "signal", ndim=1).astype(np.float64)
    if clean.shape != signal.shape:
        raise ValueError(f"signal must have the shape of clean {clean.shape}, got {signal.shape}")
    err = float(np.sum((signal - clean) ** 2))
    power = float(np.sum(clean ** 2))
    if err == 0:
        return float("inf")
    if power == 0:
        return float("-inf")
    return float(10 * np.log10(power / err))


def spectrum_db(x, rate, nperseg=None):
    r"""Magnitude spectrum of ``x`` in decibels: Hann window, Welch averaging with ``nperseg``.

    What :func:`cnnlab.viz.plot_spectrum` draws: lesson 01 sees the noise a moving
    average removes.

    Parameters
    ----------
    x : array_like, shape (n,)
        The signal.
    rate : int
        Samples per second (>= 1).
    nperseg : int, optional
        Segment length ``m`` (2 <= m <= n): average the power of half-overlapping
        segments (Welch's method), a smoother curve. Default: one periodogram of the
        whole signal (``m = n``).

    Returns
    -------
    freqs : ndarray, shape (m // 2 + 1,)
        ``0, rate/m, 2·rate/m, …, rate/2`` (Hz).
    db : ndarray, shape (m // 2 + 1,)
        :math:`20 \log_{10}(\sqrt{P_k}/m + 10^{-12})`, with :math:`P_k` the mean over
        segments of :math:`|\mathrm{rfft}(w \cdot x_\text{seg})_k|^2` and :math:`w` the Hann
        window; a full-scale sine comes out near −6 dB.

    Raises
    ------
    ValueError
        If ``x`` is empty or not 1-D, ``rate < 1`` or ``nperseg`` is out of range.

    See Also
    --------
    frequency_response_db : the gain of a filter, to compare with.

    Examples
    --------
    >>> f, db = spectrum_db(np.sin(2 * np.pi * 1000 * np.arange(800) / 8000), 8000)
    >>> f.shape, float(f[np.argmax(db)])
    ((401,), 1000.0)
    >>> spectrum_db(np.ones(256), 8000, nperseg=64)[0].size    # 64 // 2 + 1
    33
    """
    x = _as_array(x, "x", ndim=1).astype(np.float64)
    rate = _check_int(rate, "rate", minimum=1)
    seg = x.size if nperseg is None else _check_size(nperseg, "nperseg", minimum=2)
    if seg > x.size:
        raise ValueError(f"nperseg must be at most len(x) = {x.size}, got {seg}")
    window = np.hanning(seg)
    starts = range(0, x.size - seg + 1, max(seg // 2, 1))
    power = np.mean([np.abs(np.fft.rfft(x[i:i + seg] * window)) ** 2 for i in starts], axis=0)
    return np.fft.rfftfreq(seg, 1 / rate), 20 * np.log10(np.sqrt(power) / seg + 1e-12)


def frequency_response_db(h, rate, n_fft=4096):
    r"""Gain :math:`|H(f)|` of the FIR filter ``h`` in decibels.

    What :func:`cnnlab.viz.plot_frequency_response` draws: a moving average of width
    ``w`` passes low frequencies and has nulls at multiples of ``rate / w``.

    Parameters
    ----------
    h : array_like, shape (m,)
        Impulse response, e.g. ``ones(w) / w``.
    rate : int
        Samples per second (>= 1).
    n_fft : int, optional
        FFT length (>= m): frequency resolution ``rate / n_fft``.

    Returns
    -------
    freqs : ndarray, shape (n_fft // 2 + 1,)
        ``0 … rate/2`` (Hz).
    db : ndarray, shape (n_fft // 2 + 1,)
        :math:`20 \log_{10}(|\sum_k h[k] e^{-2\pi i f k/\text{rate}}| + 10^{-12})`.

    Raises
    ------
    ValueError
        If ``h`` is empty or not 1-D, ``rate < 1`` or ``n_fft < len(h)``.

    Examples
    --------
    >>> f, db = frequency_response_db(np.ones(4) / 4, 8000, 16)
    >>> f.shape, round(float(db[0]), 6), float(f[np.argmin(db)])   # 0 dB at DC, a null at rate/4
    ((9,), 0.0, 2000.0)
    """
    h = _as_array(h, "h", ndim=1).astype(np.float64)
    rate = _check_int(rate, "rate", minimum=1)
    n_fft = _check_size(n_fft, "n_fft", minimum=h.size)
    return np.fft.rfftfreq(n_fft, 1 / rate), 20 * np.log10(np.abs(np.fft.rfft(h, n_fft)) + 1e-12)


def to_wav_bytes(x, rate=DEFAULT_RATE, *, normalize=True):
    """Encode a mono signal as 16-bit PCM WAV bytes (for ``ipywidgets.Audio``).

    Parameters
    ----------
    x : array_like, 1-D
        Samples; with ``normalize`` the peak is scaled to full scale, otherwise values
        must lie in [-1, 1].
    rate : int
        Samples per second.

    Returns
    -------
    bytes
        A complete WAV file: 44-byte header + ``2 * len(x)`` bytes of samples.

    Examples
    --------
    >>> data = to_wav_bytes([0.0, 0.5, -1.0], rate=8000)
    >>> data[:4], data[8:12], len(data)
    (b'RIFF', b'WAVE', 50)
    """
    x = _as_array(x, "x", ndim=1).astype(np.float64)
    rate = _check_int(rate, "rate", minimum=1, maximum=2**31 - 1)  # a WAV header holds 4 bytes of byte rate
    normalize = _check_bool(normalize, "normalize")
    if normalize:
        peak = np.max(np.abs(x))
        if peak > 0:
            x = x / peak
    elif np.max(np.abs(x)) > 1:
        raise ValueError(f"x must lie in [-1, 1] when normalize=False, got peak {np.max(np.abs(x)):g}")
    pcm = np.round(x * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
