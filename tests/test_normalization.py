"""cnnlab.normalization: batch_norm and dropout -- hand cases, parity with torch, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import batch_norm, dropout

try:
    import torch
    F = torch.nn.functional
except ImportError:  # the numpy-only tests still run
    torch = F = None


# -- 1. hand cases ---------------------------------------------------------------------------
def test_training_normalises_each_channel_and_updates_the_running_statistics():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    mean, var = np.zeros(2), np.ones(2)
    y = batch_norm(x, mean, var, training=True, eps=0.0)
    assert y.tolist() == [[-1, -1], [1, 1]]
    # 0.9·old + 0.1·batch; the variance unbiased: ((1 − 2)² + (3 − 2)²)/(2 − 1) = 2, 200
    np.testing.assert_allclose(mean, [0.2, 2.0])
    np.testing.assert_allclose(var, [0.9 + 0.2, 0.9 + 20.0])


def test_evaluation_uses_the_running_statistics_and_gamma_beta():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    mean, var = np.array([1.0, 2.0, 3.0]), np.array([4.0, 9.0, 16.0])
    gamma, beta = np.array([2.0, 1.0, 0.5]), np.array([0.0, -1.0, 1.0])
    before = mean.copy(), var.copy()
    y = batch_norm(x, mean, var, gamma, beta, eps=0.0)
    expected = (x - mean[:, None, None]) / np.sqrt(var)[:, None, None] * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    assert np.array_equal(mean, before[0]) and np.array_equal(var, before[1])   # untouched in eval


def test_per_channel_statistics_of_a_feature_map_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4, 5, 5)) * np.array([1, 2, 3, 4])[:, None, None] + np.arange(4)[:, None, None]
    y = batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)     # eps = 1e-5 shrinks it a little


def test_momentum_zero_and_one_and_float32():
    x = np.array([[1.0], [2.0], [6.0]], np.float32)
    mean, var = np.array([5.0], np.float32), np.array([5.0], np.float32)
    batch_norm(x, mean, var, training=True, momentum=0.0)
    assert mean.tolist() == [5.0] and var.tolist() == [5.0]
    y = batch_norm(x, mean, var, training=True, momentum=1.0)
    assert mean.tolist() == [3.0] and var.tolist() == [7.0]              # unbiased: (4 + 1 + 9)/2
    assert y.dtype == np.float32 and mean.dtype == np.float32


def test_dropout_keeps_scales_and_is_the_identity_in_eval():
    x = np.arange(1.0, 10001.0)
    y = dropout(x, p=0.3, rng=np.random.default_rng(1))
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-12)
    assert abs(kept.mean() - 0.7) < 4 * np.sqrt(0.7 * 0.3 / x.size)     # within 4 standard errors
    assert dropout(x, p=0.3, training=False) is not x
    assert np.array_equal(dropout(x, p=0.3, training=False), x)
    assert np.array_equal(dropout(x, p=0.0), x)
    assert not dropout(x, p=1.0).any()


def test_dropout_is_unbiased_and_reproducible():
    x = np.full((200, 200), 3.0, np.float32)
    y = dropout(x, p=0.5, rng=7)
    assert y.dtype == np.float32 and set(np.unique(y)) == {0.0, 6.0}
    assert abs(y.mean() - 3.0) < 4 * 3.0 / np.sqrt(x.size)
    assert np.array_equal(y, dropout(x, p=0.5, rng=7))
    assert not np.array_equal(y, dropout(x, p=0.5, rng=8))
    gen = np.random.default_rng(3)
    first, second = dropout(x, rng=gen), dropout(x, rng=gen)             # a Generator advances
    assert not np.array_equal(first, second)
    assert dropout(np.ones((2, 0)), p=0.5).shape == (2, 0)


# -- 2. parity with torch.nn.functional ------------------------------------------------------
@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.usefixtures("one_thread")
@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 5), c=st.integers(1, 4), spatial=st.sampled_from([(), (5,), (3, 4), (2, 2, 2)]),
       training=st.booleans(), affine=st.booleans(), stats=st.booleans(),
       momentum=st.floats(0, 1), eps=st.sampled_from([1e-5, 1e-3, 0.1]), f32=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batch_norm_matches_torch(n, c, spatial, training, affine, stats, momentum, eps, f32, seed):
    if training and n * int(np.prod(spatial)) < 2:
        n = 2
    if not training:
        stats = True
    dtype = np.float32 if f32 else np.float64
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, *spatial)) * 3 + 1).astype(dtype)
    rm = rng.standard_normal(c).astype(dtype) if stats else None
    rv = rng.uniform(0.5, 2, c).astype(dtype) if stats else None
    gamma = rng.standard_normal(c).astype(dtype) if affine else None
    beta = rng.standard_normal(c).astype(dtype) if affine else None
    t = [None if a is None else torch.from_numpy(a.copy()) for a in (x, rm, rv, gamma, beta)]
    ref = F.batch_norm(t[0], t[1], t[2], t[3], t[4], training=training, momentum=momentum, eps=eps).numpy()
    y = batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    tol = 1e-4 if f32 else 1e-10
    assert y.shape == ref.shape and y.dtype == dtype
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)
    if stats:                                                        # the in-place update agrees
        np.testing.assert_allclose(rm, t[1].numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(rv, t[2].numpy(), rtol=tol, atol=tol)


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_dropout_has_torchs_scaling_and_keep_rate(p):
    x = np.linspace(-2, 2, 40000).reshape(200, 200)
    torch.manual_seed(0)
    ref = F.dropout(torch.from_numpy(x), p=p, training=True).numpy()
    y = dropout(x, p=p, rng=0)
    for out in (ref, y):
        kept = out != 0
        if p < 1:
            np.testing.assert_allclose(out[kept], x[kept] / (1 - p), rtol=1e-12)
        assert abs(kept.mean() - (1 - p)) <= 4 * np.sqrt(p * (1 - p) / x.size) + 1e-3
    np.testing.assert_array_equal(F.dropout(torch.from_numpy(x), p=p, training=False).numpy(),
                                  dropout(x, p=p, training=False))


# -- 3. errors -------------------------------------------------------------------------------
X = np.ones((4, 3, 2))


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((np.ones(3), None, None), dict(training=True), ValueError,
     r"input must have at least 2 dimensions \(N, C, ...\), got shape \(3,\)"),
    ((np.ones((1, 3)), None, None), dict(training=True), ValueError,
     r"batch_norm needs more than 1 value per channel when training, got input of shape \(1, 3\)"),
    ((X, None, None), {}, ValueError, r"running_mean and running_var are required when training=False"),
    ((X, np.zeros(3), None), {}, ValueError, r"running_mean and running_var must both be given or both be None"),
    ((X, np.zeros(2), np.ones(3)), {}, ValueError, r"running_mean must have shape \(C,\) = \(3,\), one value per channel, got \(2,\)"),
    ((X, [0.0, 0.0, 0.0], np.ones(3)), dict(training=True), TypeError,
     r"running_mean must be a writeable float ndarray when training=True \(it is updated in place\), got list"),
    ((X, np.zeros(3, int), np.ones(3)), dict(training=True), TypeError, r"running_mean must be .* got ndarray of dtype int64"),
    ((X, np.zeros(3), np.ones(3)), dict(weight=np.ones(2)), ValueError, r"weight must have shape \(C,\) = \(3,\)"),
    ((X, np.zeros(3), np.ones(3)), dict(bias=np.ones((3, 1))), ValueError, r"bias must be 1-D, got a 2-D array"),
    ((X, np.zeros(3), np.ones(3)), dict(momentum=1.5), ValueError, r"momentum must be in \[0, 1\], got 1.5"),
    ((X, np.zeros(3), np.ones(3)), dict(momentum=None), TypeError, r"momentum must be a finite real number, got None"),
    ((X, np.zeros(3), np.ones(3)), dict(eps=-1.0), ValueError, r"eps must be non-negative, got -1.0"),
    ((X, np.zeros(3), np.zeros(3)), dict(eps=0.0), ValueError, r"eps must be positive when a channel has zero variance"),
    ((X, np.zeros(3), np.ones(3)), dict(training="yes"), TypeError, r"training must be True or False, got 'yes'"),
    (("x", np.zeros(3), np.ones(3)), {}, TypeError, r"input must be an array of numbers, got str"),
    ((np.full((4, 3), np.nan), np.zeros(3), np.ones(3)), {}, ValueError, r"input must contain only finite numbers"),
])
def test_batch_norm_rejects_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        batch_norm(*args, **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(p=1.5), ValueError, r"p must be a probability in \[0, 1\], got 1.5"),
    (dict(p=-0.1), ValueError, r"p must be a probability in \[0, 1\], got -0.1"),
    (dict(p="half"), TypeError, r"p must be a finite real number, got 'half'"),
    (dict(training=1), TypeError, r"training must be True or False, got 1"),
    (dict(rng=0.5), TypeError, r"rng must be a numpy.random.Generator, an int seed or None, got 0.5"),
    (dict(rng=True), TypeError, r"rng must be .* got True"),
])
def test_dropout_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dropout(np.ones(4), **kwargs)
    with pytest.raises(TypeError, match=r"x must be real, got dtype complex128"):
        dropout(np.ones(4, complex))
