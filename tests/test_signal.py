"""cnnlab.signal: hand cases from the seeds, parity with numpy, error cases."""
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnlab import convolve, correlate, poly_multiply

X = [1, 2, 3, 1, 2, 3, 1, 2, 3]          # seed 003 §5.3.1
H = [F(1, 3)] * 3


# -- 1. hand cases ---------------------------------------------------------------------
def test_moving_average_full_is_maximal_padding():
    y = convolve(X, H)
    assert list(y) == [F(1, 3), 1, 2, 2, 2, 2, 2, 2, 2, F(5, 3), 1]
    assert all(isinstance(v, F) for v in y)


def test_moving_average_valid_is_seven_twos():
    assert list(convolve(X, H, mode="valid")) == [2] * 7


def test_moving_average_same_keeps_length():
    assert list(convolve(X, H, mode="same")) == [1, 2, 2, 2, 2, 2, 2, 2, F(5, 3)]


def test_flip_shift_add_by_hand():
    # y[t] = sum x[tau] h[t - tau]: the kernel is flipped
    assert convolve([1, 2, 3], [1, 10]).tolist() == [1, 12, 23, 30]
    assert correlate([1, 2, 3], [1, 10], mode="full").tolist() == [10, 21, 32, 3]


def test_convolution_commutes_correlation_does_not():
    x, h = [1, 2, 3, 4], [1, -1, 2]
    assert convolve(x, h).tolist() == convolve(h, x).tolist()
    assert correlate(x, h, "full").tolist() != correlate(h, x, "full").tolist()
    assert correlate(x, h, "full").tolist() == correlate(h, x, "full")[::-1].tolist()


def test_poly_multiply_seed_degrees():
    # x(t) = x0 + x1 t + x2 t^2, y(t) degree 5: z has 8 coefficients z0..z7
    x = [1, 2, 3]
    y = [1, 0, 0, 0, 0, 2]
    z = poly_multiply(x, y)
    assert len(z) == 8
    assert z.tolist() == [1, 2, 3, 0, 0, 2, 4, 6]
    assert z[0] == x[0] * y[0] and z[7] == x[2] * y[5]


# -- 2. parity with numpy --------------------------------------------------------------
signals = hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(-10, 10))
modes = st.sampled_from(["full", "same", "valid"])


@settings(max_examples=150, deadline=None)
@given(signals, signals, modes)
def test_convolve_matches_numpy(x, h, mode):
    np.testing.assert_allclose(convolve(x, h, mode), np.convolve(x, h, mode), atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(signals, signals, modes)
def test_correlate_matches_numpy(x, h, mode):
    np.testing.assert_allclose(correlate(x, h, mode), np.correlate(x, h, mode), atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(signals, signals, modes)
def test_complex_correlate_conjugates_like_numpy(x, h, mode):
    xc, hc = x + 1j * x[::-1], h - 2j * h
    np.testing.assert_allclose(correlate(xc, hc, mode), np.correlate(xc, hc, mode), atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=8), st.lists(st.integers(-5, 5), min_size=1, max_size=8))
def test_integer_and_exact_inputs_stay_exact(a, b):
    assert convolve(a, b).tolist() == np.convolve(a, b).tolist()
    exact = convolve([F(v, 7) for v in a], b)
    assert [v * 7 for v in exact] == np.convolve(a, b).tolist()


# -- 3. errors -------------------------------------------------------------------------
@pytest.mark.parametrize("func", [convolve, correlate])
def test_errors(func):
    with pytest.raises(ValueError, match=r"mode must be one of 'full', 'same', 'valid', got 'circular'"):
        func([1, 2], [1], mode="circular")
    with pytest.raises(ValueError, match=r"x must not be empty"):
        func([], [1])
    with pytest.raises(ValueError, match=r"h must be 1-D, got a 2-D array of shape \(1, 2\)"):
        func([1, 2], [[1, 2]])
    with pytest.raises(ValueError, match=r"x must contain only finite numbers"):
        func([1, np.nan], [1])
    with pytest.raises(TypeError, match=r"h must be an array of numbers, got str"):
        func([1, 2], "ab")
    with pytest.raises(TypeError, match=r"x must be a rectangular array"):
        func([[1, 2], [3]], [1])


def test_poly_multiply_errors():
    with pytest.raises(ValueError, match=r"b must not be empty|x must not be empty|h must not be empty"):
        poly_multiply([1], [])
