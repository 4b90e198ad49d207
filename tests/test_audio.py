"""cnnlab.audio: synthesized clips, moving averages, WAV encoding (lesson 01)."""
import io
import wave

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import audio
from cnnlab.examples import AUDIO_X


def test_tone_by_hand():
    x = audio.tone(0.001, rate=8000, frequency=2000)  # a quarter period per sample
    np.testing.assert_allclose(x, [0, 1, 0, -1, 0, 1, 0, -1], atol=1e-12)
    assert audio.tone(1.0).shape == (8000,)           # seed 003: 8,000 samples per second


def test_seed_moving_average_three_ways():
    x = AUDIO_X                                       # the Unit 5 notes' x = [1 2 3 1 2 3 1 2 3]
    full = audio.moving_average(x, 3, mode="full")
    np.testing.assert_allclose(full, np.array([1, 3, 6, 6, 6, 6, 6, 6, 6, 5, 3]) / 3)
    np.testing.assert_allclose(audio.moving_average(x, 3, mode="valid"), [2] * 7)
    assert audio.moving_average(x, 3).shape == (9,)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), width=st.integers(1, 20), mode=st.sampled_from(["full", "same", "valid"]),
       seed=st.integers(0, 1000))
def test_moving_average_matches_numpy(n, width, mode, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    np.testing.assert_allclose(audio.moving_average(x, width, mode), np.convolve(x, np.ones(width) / width, mode),
                               atol=1e-12)


def test_noisy_tone_is_reproducible_and_smoothing_helps():
    clean, noisy = audio.noisy_tone(0.5, noise=0.4, seed=3)
    clean2, noisy2 = audio.noisy_tone(0.5, noise=0.4, seed=3)
    np.testing.assert_array_equal(noisy, noisy2)
    assert not np.array_equal(noisy, audio.noisy_tone(0.5, noise=0.4, seed=4)[1])
    before = audio.snr_db(clean, noisy)
    after = audio.snr_db(clean, audio.moving_average(noisy, 5))
    assert after > before + 4          # a 220 Hz tone survives a 5-tap average at 8 kHz; noise does not
    assert np.array_equal(*audio.noisy_tone(0.1, noise=0.0))


def test_snr_db_by_hand():
    assert audio.snr_db([1.0, -1.0], [1.1, -0.9]) == pytest.approx(20.0)
    assert audio.snr_db([1.0], [1.0]) == float("inf")
    assert audio.snr_db([0.0], [1.0]) == float("-inf")


def test_wav_round_trip():
    x = np.array([0.0, 0.25, -0.5, 1.0])
    data = audio.to_wav_bytes(x, rate=8000, normalize=False)
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 4)
        back = np.frombuffer(w.readframes(4), dtype="<i2")
    np.testing.assert_array_equal(back, np.round(x * 32767).astype(int))
    loud = audio.to_wav_bytes([0.0, 4.0, -2.0])
    assert np.frombuffer(loud[44:], dtype="<i2").tolist() == [0, 32767, -16384]  # peak scaled to full scale


def test_errors():
    with pytest.raises(ValueError, match="frequency must be below the Nyquist frequency rate/2 = 4000 Hz, got 5000"):
        audio.tone(1.0, 8000, 5000)
    with pytest.raises(ValueError, match="duration must be positive, got 0"):
        audio.tone(0)
    with pytest.raises(ValueError, match="duration \\* rate must give at least one sample"):
        audio.tone(1e-6, 8000)
    with pytest.raises(TypeError, match="rate must be an int"):
        audio.tone(1.0, 8000.5)
    with pytest.raises(ValueError, match="noise must be non-negative, got -1"):
        audio.noisy_tone(noise=-1)
    with pytest.raises(ValueError, match="width must be a positive int, got 0"):
        audio.moving_average([1, 2, 3], 0)
    with pytest.raises(ValueError, match="mode must be one of 'full', 'same', 'valid', got 'wide'"):
        audio.moving_average([1, 2, 3], 2, mode="wide")
    with pytest.raises(ValueError, match=r"signal must have the shape of clean \(2,\), got \(3,\)"):
        audio.snr_db([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match=r"x must lie in \[-1, 1\] when normalize=False, got peak 2"):
        audio.to_wav_bytes([2.0], normalize=False)
