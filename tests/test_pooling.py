"""cnnlab.pooling: max / avg pooling -- the seeds' numbers, parity with torch, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from cnnlab.examples import AUDIO_X

torch = pytest.importorskip("torch")
F = torch.nn.functional

FMAP_000 = np.array([[12, 20, 30, 0],                      # seed 000, 2x2 max-pool example
                     [8, 12, 2, 0],
                     [34, 70, 37, 4],
                     [112, 100, 25, 12]])


# -- 1. hand cases ---------------------------------------------------------------------------
def test_seed_000_two_by_two_max_pool():
    y, idx = max_pool2d(FMAP_000[None, None], 2, return_indices=True)
    assert y[0, 0].tolist() == [[20, 30], [112, 37]]
    assert idx[0, 0].tolist() == [[1, 2], [12, 10]]        # flat h*4 + w of 20, 30, 112, 37
    assert FMAP_000.ravel()[idx[0, 0]].tolist() == [[20, 30], [112, 37]]
    assert max_pool2d(FMAP_000[None], 2)[0].tolist() == [[20, 30], [112, 37]]   # unbatched


def test_seed_000_average_pool_of_the_same_map():
    assert avg_pool2d(FMAP_000[None], 2)[0].tolist() == [[13, 8], [79, 19.5]]


def test_seed_sizes_halve():
    # seed 000: 26x26 -> 13x13; seed 003: 32x32x10 -> 16x16x10 (the notes say 15 by mistake);
    # seed 003 model2: 24x24x8 -> 12x12x8
    assert max_pool2d(np.zeros((1, 26, 26)), 2).shape == (1, 13, 13)
    assert max_pool2d(np.zeros((10, 32, 32)), 2).shape == (10, 16, 16)
    assert max_pool2d(np.zeros((5, 8, 24, 24)), (2, 2)).shape == (5, 8, 12, 12)


def test_pooling_is_per_channel():
    x = np.stack([FMAP_000, -FMAP_000, 10 * FMAP_000])
    y = max_pool2d(x, 2)
    assert y[0].tolist() == [[20, 30], [112, 37]]
    assert y[1].tolist() == [[-8, 0], [-34, -4]]
    assert y[2].tolist() == [[200, 300], [1120, 370]]


def test_max_pool1d_seed_003_signal_floor_and_ceil():
    x = AUDIO_X[None]                                  # the Unit 5 notes' x, one channel
    assert max_pool1d(x, 2).tolist() == [[2, 3, 3, 2]]     # floor((9 - 2)/2) + 1 = 4
    y, idx = max_pool1d(x, 2, ceil_mode=True, return_indices=True)
    assert y.tolist() == [[2, 3, 3, 2, 3]] and idx.tolist() == [[1, 2, 5, 7, 8]]
    assert max_pool1d(x, 3).tolist() == [[3, 3, 3]]


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    x = np.arange(1.0, 6.0)[None]                          # L = 5
    # ceil((5 + 2 - 2)/2) + 1 = 4 windows, but the 4th starts at 6 - 1 = 5 = L: dropped
    assert max_pool1d(x, 2, stride=2, padding=1, ceil_mode=True).tolist() == [[1, 3, 5]]
    assert avg_pool1d(x, 2, stride=2, padding=1, ceil_mode=True).tolist() == [[0.5, 2.5, 4.5]]
    # the window may hang past the input when it starts inside
    assert max_pool1d(x, 2, ceil_mode=True).tolist() == [[2, 4, 5]]
    # ...and ceil mode admits an input shorter than the window
    assert max_pool1d([[7.0]], 2, ceil_mode=True).tolist() == [[7]]


def test_avg_pool_divisors():
    x = np.array([[1.0, 2, 3, 4, 5]])
    # ceil_mode window [4, 6) hangs past the input: divided by the 1 element inside, either way
    assert avg_pool1d(x, 2, ceil_mode=True).tolist() == [[1.5, 3.5, 5]]
    assert avg_pool1d(x, 2, ceil_mode=True, count_include_pad=False).tolist() == [[1.5, 3.5, 5]]
    # padding zeros count (default) or not
    assert avg_pool1d(x, 3, stride=2, padding=1).tolist() == [[1, 3, 3]]      # (0+1+2)/3, 9/3, (4+5+0)/3
    assert avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False).tolist() == [[1.5, 3, 4.5]]
    y = avg_pool2d(np.ones((1, 2, 2)), 2, stride=1, padding=1)
    assert y[0].tolist() == [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]]
    assert avg_pool2d(np.ones((1, 2, 2)), 2, stride=1, padding=1, count_include_pad=False)[0].tolist() == [[1] * 3] * 3


def test_max_pool_padding_is_minus_infinity_and_dilation_skips():
    x = -np.arange(1.0, 5.0)[None]                         # all negative: zero padding would win
    assert max_pool1d(x, 2, padding=1).tolist() == [[-1, -2, -4]]
    y, idx = max_pool1d([[5.0, 0, 1, 0, 9, 0]], 2, stride=1, dilation=4, return_indices=True)
    assert y.tolist() == [[9, 0]] and idx.tolist() == [[4, 1]]          # taps (0, 4) and (1, 5)


def test_ties_take_the_first_maximum_in_scan_order():
    y, idx = max_pool2d(np.ones((1, 1, 4, 4)), 2, return_indices=True)
    assert idx[0, 0].tolist() == [[0, 2], [8, 10]]


def test_dtypes():
    assert max_pool2d(np.ones((1, 4, 4), np.float32), 2).dtype == np.float32
    assert avg_pool2d(np.ones((1, 4, 4), np.float32), 2).dtype == np.float32
    assert max_pool2d(np.ones((1, 4, 4), int), 2).dtype == np.float64
    assert max_pool1d(np.ones((1, 4), bool), 2).tolist() == [[1, 1]]
    assert max_pool2d(np.ones((1, 4, 4)), 2, return_indices=True)[1].dtype == np.int64


# -- 2. parity with torch.nn.functional ------------------------------------------------------
@st.composite
def pool_cases(draw, nd, avg):
    ks = draw(st.tuples(*[st.integers(1, 4)] * nd))
    dl = (1,) * nd if avg else draw(st.tuples(*[st.integers(1, 3)] * nd))
    pd = tuple(draw(st.integers(0, k // 2 + 1)) for k in ks)   # k // 2 + 1 is refused, by both
    stride = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 4)] * nd)))
    ceil_mode = draw(st.booleans())
    sizes = tuple(draw(st.integers(1, 11)) for _ in range(nd))
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    c = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):                                # small integers: lots of ties
        x = rng.integers(-3, 4, size=batch + (c,) + sizes).astype(np.float64)
    else:
        x = rng.standard_normal(batch + (c,) + sizes)
    def maybe_int(t):  # torch takes an int for equal sizes
        return t[0] if t is not None and len(set(t)) == 1 and draw(st.booleans()) else t
    kw = dict(kernel_size=maybe_int(ks), stride=maybe_int(stride), padding=maybe_int(pd), ceil_mode=ceil_mode)
    if avg:
        kw["count_include_pad"] = draw(st.booleans())
    else:
        kw["dilation"] = maybe_int(dl)
    return x, kw


def _torch_or_none(fn, x, kw):
    """torch's result, or None when torch refuses the arguments."""
    try:
        return fn(torch.from_numpy(x), **kw)
    except RuntimeError:
        return None


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_max_pool_matches_torch(nd, data):
    x, kw = data.draw(pool_cases(nd, avg=False))
    ours_fn, torch_fn = (max_pool1d, F.max_pool1d) if nd == 1 else (max_pool2d, F.max_pool2d)
    ref = _torch_or_none(torch_fn, x, dict(kw, return_indices=True))
    if ref is None or np.isneginf(ref[0].numpy()).any():
        # torch refuses, or returns -inf (and a meaningless index) for a window that sees
        # only padding; cnnlab refuses both with a ValueError
        with pytest.raises(ValueError):
            ours_fn(x, **kw)
        return
    y_ref, i_ref = (t.numpy() for t in ref)
    y, idx = ours_fn(x, **kw, return_indices=True)
    assert y.shape == y_ref.shape and idx.dtype == np.int64
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, i_ref)
    np.testing.assert_array_equal(ours_fn(x, **kw), y_ref)


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_avg_pool_matches_torch(nd, data):
    x, kw = data.draw(pool_cases(nd, avg=True))
    ours_fn, torch_fn = (avg_pool1d, F.avg_pool1d) if nd == 1 else (avg_pool2d, F.avg_pool2d)
    ref = _torch_or_none(torch_fn, x, kw)
    if ref is None:
        with pytest.raises(ValueError):
            ours_fn(x, **kw)
        return
    y = ours_fn(x, **kw)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 4), s=st.integers(1, 3), size=st.integers(4, 12), seed=st.integers(0, 2**32 - 1))
def test_float32_pooling_matches_torch(k, s, size, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, size, size)).astype(np.float32)
    tx = torch.from_numpy(x)
    y, idx = max_pool2d(x, k, s, k // 2, return_indices=True)
    y_ref, i_ref = F.max_pool2d(tx, k, s, k // 2, return_indices=True)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, y_ref.numpy())
    np.testing.assert_array_equal(idx, i_ref.numpy())
    a = avg_pool2d(x, k, s, k // 2, ceil_mode=True)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a, F.avg_pool2d(tx, k, s, k // 2, ceil_mode=True).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_indices_unpool_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 8))
    y, idx = max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(torch.from_numpy(y), torch.from_numpy(idx), 2, output_size=(6, 8)).numpy()
    flat = np.zeros((2, 3, 48))
    np.put_along_axis(flat, idx.reshape(2, 3, -1), y.reshape(2, 3, -1), axis=-1)
    np.testing.assert_array_equal(back, flat.reshape(2, 3, 6, 8))


# -- 3. errors -------------------------------------------------------------------------------
@pytest.mark.torch
def test_window_of_only_padding_is_refused():
    x = np.arange(1.0, 4.0)[None, None]                    # L = 3; window taps at -1 and 3
    ref = F.max_pool1d(torch.from_numpy(x), 2, stride=1, padding=1, dilation=4)
    assert np.isneginf(ref.numpy()).all()                  # torch: -inf, index out of range
    with pytest.raises(ValueError, match=r"max_pool1d: along axis L output window 0 covers only padding"):
        max_pool1d(x, 2, stride=1, padding=1, dilation=4)


X4 = np.ones((1, 2, 6, 6))


@pytest.mark.parametrize("fn", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(kernel_size=0), ValueError, r"kernel_size must be a positive int or a pair of them, got 0"),
    (dict(kernel_size=2.0), TypeError, r"kernel_size must be a positive int or a pair of them, got 2\.0"),
    (dict(kernel_size=(2, 2, 2)), TypeError, r"kernel_size must be .*pair.*got \(2, 2, 2\)"),
    (dict(kernel_size=2, stride=0), ValueError, r"stride must be a positive int or a pair of them, got 0"),
    (dict(kernel_size=2, stride="2"), TypeError, r"stride must be .*got '2'"),
    (dict(kernel_size=2, padding=-1), ValueError, r"padding must be an int >= 0 or a pair of them, got -1"),
    (dict(kernel_size=3, padding=2), ValueError,
     r"padding must be at most half of kernel_size \(padding <= kernel_size // 2, as torch\), got padding=2 "
     r"with kernel_size=3"),
    (dict(kernel_size=(2, 4), padding=(1, 3)), ValueError, r"padding must be at most half .*got padding=\(1, 3\)"),
    (dict(kernel_size=7), ValueError, r"along axis H: kernel_size 7 .*spans .*7 samples, but the padded input has only"),
    (dict(kernel_size=2, ceil_mode=1), TypeError, r"ceil_mode must be True or False, got 1"),
])
def test_pool2d_rejects_bad_parameters(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(X4, **kwargs)


def test_pool_rejects_bad_flags_and_arrays():
    with pytest.raises(TypeError, match=r"return_indices must be True or False, got 'yes'"):
        max_pool2d(X4, 2, return_indices="yes")
    with pytest.raises(TypeError, match=r"count_include_pad must be True or False, got None"):
        avg_pool2d(X4, 2, count_include_pad=None)
    with pytest.raises(ValueError, match=r"dilation must be a positive int or a pair of them, got 0"):
        max_pool2d(X4, 2, dilation=0)
    with pytest.raises(ValueError, match=r"x must be 3-D or 4-D, got a 2-D array of shape \(6, 6\)"):
        max_pool2d(np.ones((6, 6)), 2)
    with pytest.raises(ValueError, match=r"x must be 2-D or 3-D, got a 1-D array"):
        avg_pool1d(np.ones(6), 2)
    with pytest.raises(ValueError, match=r"x must not be empty, got shape \(1, 0, 6\)"):
        max_pool1d(np.ones((1, 0, 6)), 2)
    with pytest.raises(ValueError, match=r"x must contain only finite numbers, got NaN"):
        max_pool1d([[1.0, np.nan, 2.0]], 2)
    with pytest.raises(TypeError, match=r"x must be real, got dtype complex128"):
        avg_pool1d(np.ones((1, 4), complex), 2)
    with pytest.raises(TypeError, match=r"x must be an array of numbers, got str"):
        max_pool1d("abc", 2)
    with pytest.raises(ValueError, match=r"max_pool1d: along axis L: kernel_size 4 with dilation 2 spans"):
        max_pool1d(np.ones((1, 5)), 4, dilation=2)
    with pytest.raises(ValueError, match=r"avg_pool1d: along axis L: kernel_size 3 .*only n \+ padding = 2"):
        avg_pool1d(np.ones((1, 2)), 3)
    with pytest.raises(ValueError, match=r"max_pool1d: along axis L the window \(kernel_size=3, dilation=1, so it "
                                         r"spans 3\) does not fit in the padded input of size 1 \+ 2\*0 = 1, "
                                         r"even with ceil_mode=True"):
        max_pool1d(np.ones((1, 1)), 3, stride=1, ceil_mode=True)
