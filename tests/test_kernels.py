"""cnnlab.kernels: the seeds' matrices, the Gabor formula, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import kernels
from cnnlab.examples import STEP_IMAGE


def test_edge_detectors_are_the_seed_matrices():
    assert kernels.prewitt().tolist() == [[1, 0, -1]] * 3
    assert kernels.prewitt("horizontal").tolist() == [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
    assert kernels.sobel().tolist() == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    assert kernels.scharr().tolist() == [[3, 0, -3], [10, 0, -10], [3, 0, -3]]
    for name, f in kernels.EDGE_DETECTORS.items():
        np.testing.assert_array_equal(f("horizontal"), f("vertical").T, err_msg=name)
        assert f().sum() == 0


def test_vertical_edge_on_seed_example():
    # seed 001: a bright left half and a dark right half -> a thick vertical edge
    img = STEP_IMAGE
    k = kernels.prewitt()
    out = np.array([[np.sum(img[i:i + 3, j:j + 3] * k) for j in range(4)] for i in range(4)])
    assert out.tolist() == [[0, 30, 30, 0]] * 4


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 9), st.floats(-4, 4), st.floats(0, 3), st.floats(-4, 4), st.floats(0, 1), st.floats(0, 1),
       st.floats(-2, 2))
def test_gabor_matches_formula_pointwise(size, theta, omega, phi, alpha, beta, amp):
    g = kernels.gabor(size, theta, omega, phi, alpha, beta, amp)
    c = (size - 1) / 2
    for i in range(size):
        for j in range(size):
            x, y = j - c, i - c
            xt = x * math.cos(theta) + y * math.sin(theta)
            yt = -x * math.sin(theta) + y * math.cos(theta)
            ref = amp * math.exp(-alpha * xt**2 - beta * yt**2) * math.sin(omega * xt + phi)
            assert g[i, j] == pytest.approx(ref, abs=1e-12)


def test_gabor_rotation_by_quarter_turn_transposes():
    g0 = kernels.gabor(7, 0.0, 1.2, 0.3, 0.05, 0.2)
    g90 = kernels.gabor(7, math.pi / 2, 1.2, 0.3, 0.05, 0.2)
    np.testing.assert_allclose(g90, g0.T, atol=1e-12)


def test_box_and_gaussian():
    assert kernels.box(3, ndim=1).sum() == pytest.approx(1)
    assert kernels.box(4).shape == (4, 4)
    g = kernels.gaussian(7, 1.5)
    assert g.sum() == pytest.approx(1)
    np.testing.assert_allclose(g, g.T)
    np.testing.assert_allclose(g, np.outer(g.sum(1), g.sum(0)))
    g1 = kernels.gaussian(5, 1.0, ndim=1)
    np.testing.assert_allclose(g1, np.exp(-np.arange(-2, 3) ** 2 / 2) / np.exp(-np.arange(-2, 3) ** 2 / 2).sum())


def test_errors():
    with pytest.raises(ValueError, match=r"direction must be one of 'vertical', 'horizontal', got 'diagonal'"):
        kernels.sobel("diagonal")
    with pytest.raises(ValueError, match=r"size must be a positive int, got 0"):
        kernels.gabor(0, 0, 1, 0, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"alpha must be >= 0.0, got -1.0"):
        kernels.gabor(5, 0, 1, 0, -1, 0.1)
    with pytest.raises(TypeError, match=r"theta must be a finite real number, got 'up'"):
        kernels.gabor(5, "up", 1, 0, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"omega must be a finite real number, got nan"):
        kernels.gabor(5, 0, float("nan"), 0, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"sigma must be positive, got 0.0"):
        kernels.gaussian(5, 0)
    with pytest.raises(ValueError, match=r"ndim must be one of 1, 2, got 3"):
        kernels.box(3, ndim=3)
