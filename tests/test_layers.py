"""cnnlab.layers: conv1d / conv2d -- the seeds' numbers, parity with torch, errors."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnlab import conv1d, conv2d, conv_output_size, correlate, kernels
from cnnlab.examples import AUDIO_X, AVERAGE_H, IMAGE_6X6, STEP_IMAGE

torch = pytest.importorskip("torch")
F = torch.nn.functional

X_SEED, H_SEED = AUDIO_X, AVERAGE_H                       # the Unit 5 notes' x and h = 1/3 [1 1 1]
IMAGE_001 = IMAGE_6X6                                     # the CNN lecture notes, homework #1
VERTICAL = kernels.prewitt("vertical")                    # [[1, 0, -1]] * 3 (tests/test_kernels.py)


def _ma(**kw):
    return conv1d(X_SEED[None, None], H_SEED[None, None], **kw)[0, 0]


# -- 1. hand cases ---------------------------------------------------------------------------
def test_seed_003_moving_average_full_padding_gives_11_outputs():
    y = _ma(padding=2)
    expected = [Fraction(1, 3), 1, 2, 2, 2, 2, 2, 2, 2, Fraction(5, 3), 1]
    assert y.shape == (11,) == (conv_output_size(9, 3, padding=2),)
    np.testing.assert_allclose(y, [float(v) for v in expected], rtol=1e-12)


def test_seed_003_moving_average_no_padding_gives_seven_2s():
    np.testing.assert_allclose(_ma(), [2] * 7, rtol=1e-12)
    np.testing.assert_allclose(_ma(padding="valid"), [2] * 7, rtol=1e-12)


def test_seed_003_moving_average_stride_2_padding_1():
    np.testing.assert_allclose(_ma(stride=2, padding=1), [1, 2, 2, 2, 5 / 3], rtol=1e-12)


def test_seed_003_uneven_padding_p_start_p_end():
    # "2P is replaced by P_start + P_end": (2, 0) keeps the first 9 of the 11 outputs
    np.testing.assert_allclose(_ma(padding=(2, 0)), _ma(padding=2)[:9], rtol=1e-12)
    np.testing.assert_allclose(_ma(padding=(0, 2)), _ma(padding=2)[2:], rtol=1e-12)


def test_seed_001_six_by_six_image_with_vertical_edge_filter():
    out = conv2d(IMAGE_001[None, None], VERTICAL[None, None])
    assert out.shape == (1, 1, 4, 4)                       # 6 - 3 + 1 = 4
    assert out[0, 0].tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


def test_seed_001_step_edge_is_detected_as_a_thick_bright_band():
    assert conv2d(STEP_IMAGE[None], VERTICAL[None, None])[0].tolist() == [[0, 30, 30, 0]] * 4
    assert not conv2d(np.full((1, 6, 6), 7.0), VERTICAL[None, None]).any()   # flat image: no edge


def test_seed_001_same_padding_keeps_six_by_six_and_stride_2():
    assert conv2d(IMAGE_001[None], VERTICAL[None, None], padding=1).shape == (1, 6, 6)
    same = conv2d(IMAGE_001[None], VERTICAL[None, None], padding="same")
    np.testing.assert_array_equal(same, conv2d(IMAGE_001[None], VERTICAL[None, None], padding=1))
    # homework #2 flavour: n=6, f=3, s=2, p=1 -> floor(5/2) + 1 = 3
    assert conv2d(IMAGE_001[None], VERTICAL[None, None], stride=2, padding=1).shape == (1, 3, 3)
    # TF 'same' for s=2 is (0, 1): ceil(6/2) = 3 outputs
    assert conv2d(IMAGE_001[None], VERTICAL[None, None], stride=2, padding=((0, 1), (0, 1))).shape == (1, 3, 3)


def test_seed_001_rgb_volume_and_ten_filters():
    rgb = np.random.default_rng(1).standard_normal((6, 6, 3)).transpose(2, 0, 1)   # 6x6x3 -> CHW
    assert conv2d(rgb, np.ones((1, 3, 3, 3))).shape == (1, 4, 4)        # 3x3x3 filter -> 4x4x1
    assert conv2d(rgb, np.ones((10, 3, 3, 3))).shape == (10, 4, 4)      # 10 filters -> 4x4x10
    # one 3x3x3 filter sums its 27 products over the three channels
    w = np.random.default_rng(2).standard_normal((1, 3, 3, 3))
    assert conv2d(rgb, w)[0, 1, 2] == pytest.approx(np.sum(w[0] * rgb[:, 1:4, 2:5]))


def test_it_is_cross_correlation_not_convolution():
    x, w = np.array([0.0, 1, 0, 0, 0]), np.array([1.0, 2, 3])
    y = conv1d(x[None, None], w[None, None])[0, 0]
    assert y.tolist() == [2, 1, 0]                         # the kernel is not flipped
    np.testing.assert_array_equal(y, np.correlate(x, w, "valid"))
    np.testing.assert_array_equal(y, correlate(x, w, "valid"))
    assert y.tolist() != np.convolve(x, w, "valid").tolist()


def test_one_by_one_convolution_mixes_channels():
    rgb = np.random.default_rng(3).standard_normal((3, 4, 5))
    gray = conv2d(rgb, np.array([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1))
    np.testing.assert_allclose(gray[0], 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def test_bias_dilation_and_groups_by_hand():
    x = np.arange(8.0).reshape(1, 2, 4)                    # channels [0 1 2 3], [4 5 6 7]
    w = np.array([[[1.0, 1.0]], [[1.0, -1.0]]])            # one filter per channel (depthwise)
    y = conv1d(x, w, b=[10.0, 100.0], groups=2, dilation=2)
    assert y.tolist() == [[[12, 14], [98, 98]]]            # x0+x2+10, x1+x3+10; x4-x6+100, ...


def test_even_kernel_same_padding_puts_the_extra_zero_after():
    y = conv1d([[1.0, 2, 3, 4]], [[[1.0, 1.0]]], padding="same")
    assert y.tolist() == [[3, 5, 7, 4]]                    # padded [1 2 3 4 0]
    y2 = conv2d(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), padding="same")
    assert y2[0].tolist() == [[4, 4, 2], [4, 4, 2], [2, 2, 1]]


def test_unbatched_input_and_dtypes():
    x32 = np.ones((2, 5, 5), np.float32)
    w32 = np.ones((3, 2, 3, 3), np.float32)
    y = conv2d(x32, w32)
    assert y.shape == (3, 3, 3) and y.dtype == np.float32
    assert conv2d(x32, w32.astype(np.float64)).dtype == np.float64
    assert conv2d(x32.astype(int), w32.astype(int)).dtype == np.float64
    assert conv2d(x32, w32.astype(int), b=np.zeros(3, np.float32)).dtype == np.float32
    assert conv1d(np.ones((2, 5)), np.ones((1, 2, 3))).shape == (1, 3)
    y = conv2d([[[1, 2], [3, 4]]], [[[[1, 1], [1, 1]]]])  # nested lists work too
    assert y.tolist() == [[[10.0]]]


# -- 2. parity with torch.nn.functional ------------------------------------------------------
@st.composite
def conv_cases(draw, nd):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    ksize = draw(st.tuples(*[st.integers(1, 4)] * nd))
    dilation = draw(st.tuples(*[st.integers(1, 3)] * nd))
    kind = draw(st.sampled_from(["int", "tuple", "pairs", "valid", "same"]))
    stride = (1,) * nd if kind == "same" else draw(st.tuples(*[st.integers(1, 3)] * nd))
    if kind == "int":
        p = draw(st.integers(0, 3))
        pads = ((p, p),) * nd
        padding = p
    elif kind == "tuple":
        ps = draw(st.tuples(*[st.integers(0, 3)] * nd))
        pads, padding = tuple((p, p) for p in ps), ps
    elif kind == "pairs":
        pads = draw(st.tuples(*[st.tuples(st.integers(0, 3), st.integers(0, 3))] * nd))
        padding = pads[0] if nd == 1 else pads
    else:
        pads, padding = ((0, 0),) * nd, kind
    sizes = []
    for k, d, (a, b) in zip(ksize, dilation, pads):
        need = max(1, d * (k - 1) + 1 - (0 if kind == "same" else a + b))
        sizes.append(draw(st.integers(need, need + 6)))
    n = draw(st.sampled_from([None, 1, 2, 3]))              # None: unbatched input
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(((n,) if n else ()) + (c_in, *sizes))
    w = rng.standard_normal((c_out, c_in // groups, *ksize))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups), pads, kind


def _torch_conv(nd, x, w, b, kw, pads, kind):
    fn = F.conv1d if nd == 1 else F.conv2d
    tx = torch.from_numpy(x)
    kw = dict(kw)
    if kind == "pairs":                                     # torch pads symmetrically only
        flat = [p for pair in reversed(pads) for p in pair]  # F.pad: last axis first
        tx = F.pad(tx, flat)
        kw["padding"] = 0
    return fn(tx, torch.from_numpy(w), None if b is None else torch.from_numpy(b), **kw).numpy()


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=120, deadline=None)
@given(case=conv_cases(1))
def test_conv1d_matches_torch(case):
    x, w, b, kw, pads, kind = case
    y = conv1d(x, w, b, **kw)
    ref = _torch_conv(1, x, w, b, kw, pads, kind)
    assert y.shape == ref.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=150, deadline=None)
@given(case=conv_cases(2))
def test_conv2d_matches_torch(case):
    x, w, b, kw, pads, kind = case
    y = conv2d(x, w, b, **kw)
    ref = _torch_conv(2, x, w, b, kw, pads, kind)
    assert y.shape == ref.shape and y.dtype == np.float64
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(c=st.integers(1, 6), mult=st.integers(1, 3), k=st.integers(1, 5), n=st.integers(1, 3),
       size=st.integers(5, 12), stride=st.integers(1, 2), seed=st.integers(0, 2**32 - 1))
def test_depthwise_conv2d_float32_matches_torch(c, mult, k, n, size, stride, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = rng.standard_normal((c * mult, 1, k, k)).astype(np.float32)
    b = rng.standard_normal(c * mult).astype(np.float32)
    y = conv2d(x, w, b, stride=stride, padding=k // 2, groups=c)
    ref = F.conv2d(*map(torch.from_numpy, (x, w, b)), stride=stride, padding=k // 2, groups=c).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=30, deadline=None)
@given(size=st.integers(1, 10), k=st.integers(1, 4), d=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_same_padding_matches_torch_for_every_kernel_parity(size, k, d, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((1, 2, size, size + 1)), rng.standard_normal((3, 2, k, k + 1))
    y = conv2d(x, w, padding="same", dilation=d)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same", dilation=d).numpy()
    assert y.shape == x.shape[:1] + (3,) + x.shape[2:]
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("chunk_bytes", [1, 200, 3000, 1 << 20])
@pytest.mark.parametrize("nd", [1, 2])
def test_cache_blocking_gives_the_same_result(monkeypatch, chunk_bytes, nd):
    # tiny block budgets force the "several output rows of one sample" path (one row per
    # block at 1 byte), larger ones the "several whole samples" path
    import cnnlab.layers

    monkeypatch.setattr(cnnlab.layers, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(chunk_bytes)
    x = rng.standard_normal((3, 4) + (13,) * nd)
    w = rng.standard_normal((6, 2) + (3,) * nd)
    kw = dict(stride=(2,) + (1,) * (nd - 1), padding=1, dilation=(1,) + (2,) * (nd - 1), groups=2)
    fn, ref_fn = (conv1d, F.conv1d) if nd == 1 else (conv2d, F.conv2d)
    ref = ref_fn(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()
    np.testing.assert_allclose(fn(x, w, **kw), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fn(x[0], w, **kw), ref[0], rtol=1e-10, atol=1e-10)


# -- 3. errors -------------------------------------------------------------------------------
X2 = np.ones((1, 2, 5, 5))
W2 = np.ones((4, 2, 3, 3))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(stride=0), ValueError, r"stride must be a positive int or a pair of them, got 0"),
    (dict(stride=(1, -2)), ValueError, r"stride must be a positive int .*got \(1, -2\)"),
    (dict(stride=1.5), TypeError, r"stride must be .*got 1\.5"),
    (dict(stride=(1, 2, 3)), TypeError, r"stride must be .*pair"),
    (dict(dilation=0), ValueError, r"dilation must be a positive int.*got 0"),
    (dict(padding=-1), ValueError, r"padding must be a non-negative int.*got -1"),
    (dict(padding=((0, -1), (0, 0))), ValueError, r"padding must be .*got \(\(0, -1\), \(0, 0\)\)"),
    (dict(padding=1.0), TypeError, r"padding must be .*got 1\.0"),
    (dict(padding="full"), ValueError, r"padding must be one of 'valid', 'same', got 'full'"),
    (dict(padding="same", stride=2), ValueError, r"padding='same' needs stride=1 .*got stride=\(2, 2\).*same_padding"),
    (dict(groups=0), ValueError, r"groups must be a positive int, got 0"),
    (dict(groups=2.0), TypeError, r"groups must be an int, got 2\.0"),
    (dict(groups=3), ValueError, r"output channels \(w.shape\[0\] = 4\) must be divisible by groups=3"),
    (dict(dilation=3), ValueError, r"conv2d: along axis H .*kernel_size 3 with dilation 3 spans .* 7 samples.*only .* 5"),
])
def test_conv2d_rejects_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        conv2d(X2, W2, **kwargs)


def test_conv_rejects_bad_arrays():
    with pytest.raises(ValueError, match=r"x must be 3-D or 4-D, got a 2-D array of shape \(5, 5\)"):
        conv2d(np.ones((5, 5)), W2)
    with pytest.raises(ValueError, match=r"x must be 2-D or 3-D, got a 4-D array"):
        conv1d(np.ones((1, 1, 1, 5)), np.ones((1, 1, 3)))
    with pytest.raises(ValueError, match=r"w must be 4-D, got a 3-D array"):
        conv2d(X2, np.ones((4, 2, 3)))
    with pytest.raises(ValueError, match=r"x must not be empty, got shape \(0, 2, 5, 5\)"):
        conv2d(np.ones((0, 2, 5, 5)), W2)
    with pytest.raises(ValueError, match=r"w must not be empty"):
        conv2d(X2, np.ones((4, 2, 0, 3)))
    with pytest.raises(ValueError, match=r"x must contain only finite numbers, got NaN"):
        conv2d(np.full((1, 2, 5, 5), np.nan), W2)
    with pytest.raises(ValueError, match=r"w must contain only finite numbers"):
        conv2d(X2, np.full((4, 2, 3, 3), np.inf))
    with pytest.raises(TypeError, match=r"x must be an array of numbers, got str"):
        conv1d("signal", np.ones((1, 1, 3)))
    with pytest.raises(TypeError, match=r"x must be a rectangular array of numbers"):
        conv1d([[1, 2], [3]], np.ones((1, 1, 1)))
    with pytest.raises(TypeError, match=r"x must be real, got dtype complex128"):
        conv1d(np.ones((1, 1, 4), complex), np.ones((1, 1, 3)))
    with pytest.raises(TypeError, match=r"w must be an array of numbers, got NoneType"):
        conv1d(np.ones((1, 1, 4)), None)


def test_conv_rejects_mismatched_channels_groups_and_bias():
    with pytest.raises(ValueError, match=r"x has 2 channels but w of shape \(4, 3, 3, 3\) expects "
                                         r"groups \* w.shape\[1\] = 1 \* 3 = 3"):
        conv2d(X2, np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"input channels \(x has 3\) must be divisible by groups=2"):
        conv2d(np.ones((1, 3, 5, 5)), np.ones((4, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"x has 2 channels but w .*expects groups \* w.shape\[1\] = 2 \* 2 = 4"):
        conv2d(X2, W2, groups=2)
    with pytest.raises(ValueError, match=r"b must have shape \(C_out,\) = \(4,\), got \(3,\)"):
        conv2d(X2, W2, b=np.ones(3))
    with pytest.raises(ValueError, match=r"b must be 1-D, got a 2-D array"):
        conv2d(X2, W2, b=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"b must contain only finite numbers"):
        conv2d(X2, W2, b=[1, 2, np.nan, 4])


def test_kernel_larger_than_padded_input_is_explained():
    with pytest.raises(ValueError, match=r"conv1d: along axis L \(input size 2, kernel size 3\): "
                                         r"kernel_size 3 with dilation 1 spans .*3 samples, but the padded input "
                                         r"has only .*2"):
        conv1d(np.ones((1, 1, 2)), np.ones((1, 1, 3)))
    assert conv1d(np.ones((1, 1, 2)), np.ones((1, 1, 3)), padding=(1, 0)).shape == (1, 1, 1)
    with pytest.raises(ValueError, match=r"conv2d: along axis W \(input size 4, kernel size 5\)"):
        conv2d(np.ones((1, 1, 9, 4)), np.ones((1, 1, 5, 5)))


def test_stride_and_padding_are_keyword_only():
    with pytest.raises(TypeError):
        conv1d(np.ones((1, 1, 4)), np.ones((1, 1, 3)), None, 2)  # noqa: the 4th positional is refused
