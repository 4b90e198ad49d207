"""cnnlab.toeplitz: the seed's Toeplitz matrices, parity with scipy/numpy/torch, errors."""
from fractions import Fraction as F

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnlab import conv2d_matrix, conv_matrix, convolve, kernels
from cnnlab.examples import IMAGE_6X6


# -- 1. hand cases -------------------------------------------------------------------------
def test_seed_003_polynomial_toeplitz_8x6_and_8x3():
    x = np.array([2, 3, 5])                 # x0, x1, x2
    y = np.array([1, -1, 4, 0, 7, 2])       # y0..y5
    Tx = conv_matrix(x, 6)
    Ty = conv_matrix(y, 3)
    assert Tx.shape == (8, 6) and Ty.shape == (8, 3)
    # first column of T(x) is x then zeros; each column shifts it down
    assert Tx[:, 0].tolist() == [2, 3, 5, 0, 0, 0, 0, 0]
    assert Tx[:, 5].tolist() == [0, 0, 0, 0, 0, 2, 3, 5]
    assert Ty[:, 0].tolist() == [1, -1, 4, 0, 7, 2, 0, 0]
    # constant diagonals
    for k in range(-5, 8):
        assert len(set(np.diagonal(Tx, -k).tolist())) <= 1
    # T(x) y == T(y) x == the product polynomial
    assert (Tx @ y).tolist() == (Ty @ x).tolist() == np.convolve(x, y).tolist()


def test_moving_average_matrix_is_exact():
    T = conv_matrix([F(1, 3)] * 3, 9, mode="valid")
    assert T.shape == (7, 9)
    assert (T @ np.array([1, 2, 3, 1, 2, 3, 1, 2, 3])).tolist() == [2] * 7


def test_conv2d_matrix_seed_002_three_by_three():
    w = np.array([[1, 2], [3, 4]])
    M = conv2d_matrix(w, (3, 3))
    assert M.shape == (4, 9)
    assert M[0].tolist() == [1, 2, 0, 3, 4, 0, 0, 0, 0]
    # doubly-block Toeplitz: 2 x 3 grid of 2x3 blocks, block (i, r) depends on r - i only
    blocks = M.reshape(2, 2, 3, 3).transpose(0, 2, 1, 3)
    np.testing.assert_array_equal(blocks[0, 0], blocks[1, 1])
    np.testing.assert_array_equal(blocks[0, 1], blocks[1, 2])
    assert not blocks[1, 0].any() and not blocks[0, 2].any()


def test_conv2d_matrix_seed_001_edge_example():
    out = (conv2d_matrix(kernels.prewitt(), (6, 6)) @ IMAGE_6X6.ravel()).reshape(4, 4)
    assert out.tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_conv2d_matrix_sparse_equals_dense():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3, 3, 2))
    kw = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2))
    dense = conv2d_matrix(w, (3, 7, 6), **kw)
    sparse = conv2d_matrix(w, (3, 7, 6), sparse=True, **kw)
    assert isinstance(sparse, scipy.sparse.csr_array)
    np.testing.assert_array_equal(sparse.toarray(), dense)


# -- 2. parity -----------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-5, 5)), st.integers(1, 10),
       st.sampled_from(["full", "same", "valid"]), st.data())
def test_conv_matrix_matches_scipy_and_convolve(h, n, mode, data):
    T = conv_matrix(h, n, mode)
    np.testing.assert_array_equal(T, scipy.linalg.convolution_matrix(h, n, mode))
    x = data.draw(hnp.arrays(np.float64, n, elements=st.floats(-5, 5)))
    np.testing.assert_allclose(T @ x, convolve(x, h, mode), atol=1e-9)


@pytest.mark.torch
@settings(max_examples=80, deadline=None)
@given(st.data())
def test_conv2d_matrix_matches_torch(data):
    torch = pytest.importorskip("torch")
    F_ = torch.nn.functional
    c_in, c_out = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    sh, sw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    dh, dw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    pads = [data.draw(st.integers(0, 2)) for _ in range(4)]          # top, bottom, left, right
    h_min = max(1, dh * (kh - 1) + 1 - pads[0] - pads[1])      # the smallest input the kernel fits
    w_min = max(1, dw * (kw - 1) + 1 - pads[2] - pads[3])
    H = data.draw(st.integers(h_min, h_min + 6))
    W = data.draw(st.integers(w_min, w_min + 6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    w = rng.normal(size=(c_out, c_in, kh, kw))
    x = rng.normal(size=(c_in, H, W))
    M = conv2d_matrix(w, (c_in, H, W), stride=(sh, sw), padding=((pads[0], pads[1]), (pads[2], pads[3])),
                      dilation=(dh, dw))
    xt = F_.pad(torch.from_numpy(x)[None], (pads[2], pads[3], pads[0], pads[1]))
    ref = F_.conv2d(xt, torch.from_numpy(w), stride=(sh, sw), dilation=(dh, dw))[0]
    np.testing.assert_allclose(M @ x.ravel(), ref.numpy().ravel(), atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("padding", ["same", "valid", 1, (2, 0)])
def test_conv2d_matrix_padding_modes_match_torch(padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, 2, 4, 3))
    x = rng.normal(size=(2, 6, 5))
    M = conv2d_matrix(w, x.shape, padding=padding, dilation=(1, 2))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), padding=padding, dilation=(1, 2))
    np.testing.assert_allclose(M @ x.ravel(), ref.numpy().ravel(), atol=1e-10)


# -- 3. errors -------------------------------------------------------------------------------
def test_conv_matrix_errors():
    with pytest.raises(ValueError, match=r"n must be a positive int, got 0"):
        conv_matrix([1, 2], 0)
    with pytest.raises(ValueError, match=r"mode must be one of 'full', 'same', 'valid', got 'wrap'"):
        conv_matrix([1, 2], 3, mode="wrap")
    with pytest.raises(ValueError, match=r"h must not be empty"):
        conv_matrix([], 3)


def test_conv2d_matrix_errors():
    with pytest.raises(ValueError, match=r"input_shape must be \(H, W\) when w is 2-D"):
        conv2d_matrix(np.ones((3, 3)), (1, 5, 5))
    with pytest.raises(ValueError, match=r"w has C_in = 2 input channels but input_shape \(3, 5, 5\) has C = 3"):
        conv2d_matrix(np.ones((1, 2, 3, 3)), (3, 5, 5))
    with pytest.raises(ValueError, match=r"w must be 2-D or 4-D, got a 3-D array"):
        conv2d_matrix(np.ones((1, 3, 3)), (5, 5))
    with pytest.raises(ValueError, match=r"padding='same' needs stride=1 \(as in torch.nn.functional.conv2d\), got stride=\(2, 2\)"):
        conv2d_matrix(np.ones((3, 3)), (5, 5), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"padding must be one of 'valid', 'same', got 'full'"):
        conv2d_matrix(np.ones((3, 3)), (5, 5), padding="full")
    with pytest.raises(ValueError, match=r"no output position fits"):
        conv2d_matrix(np.ones((3, 3)), (2, 5))
    with pytest.raises(ValueError, match=r"stride must be a positive int or a pair of them, got \(1, 0\)"):
        conv2d_matrix(np.ones((3, 3)), (5, 5), stride=(1, 0))
    with pytest.raises(TypeError, match=r"input_shape must be a tuple of ints"):
        conv2d_matrix(np.ones((3, 3)), "5x5")
    with pytest.raises(TypeError, match=r"sparse must be True or False"):
        conv2d_matrix(np.ones((3, 3)), (5, 5), sparse="yes")
    with pytest.raises(ValueError, match=r"w must contain only finite numbers"):
        conv2d_matrix(np.full((3, 3), np.nan), (5, 5))
