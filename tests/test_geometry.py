"""cnnlab.geometry (and the padding resolver and spectra it relies on): what the pictures
show, computed. Hand cases from the sources, parity with torch / scipy / the TensorFlow
formula, and error cases.

(``conv_geometry``'s output and matrix are also checked against torch in
``tests/test_viz.py``, where they were first tested.)
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
from cnnlab import audio, geometry
from cnnlab.geometry import ConvGeometry, conv_geometry, resolve_padding, translate

SIGNAL = [1, 2, 3, 1, 2, 3, 1, 2, 3]   # the Unit 5 notes' x (moving average of width 3)


# ======================================================================= 1. hand cases
@pytest.mark.parametrize("padding, size, k, kwargs, expected", [
    (2, 9, 3, {}, ((2, 2),)),                                   # Unit 5 notes: P = 2 -> 11 outputs
    ((2, 0), 9, 3, {}, ((2, 0),)),                              # uneven P_start, P_end
    ((1, 2), (6, 6), 3, {}, ((1, 1), (2, 2))),                  # one int per axis
    (((0, 1), (2, 3)), (6, 6), 3, {}, ((0, 1), (2, 3))),         # explicit before/after per axis
    (1, (6, 6), 3, {}, ((1, 1), (1, 1))),
    ("valid", (6, 6), 3, {}, ((0, 0), (0, 0))),
    ("same", (6, 6), 3, {}, ((1, 1), (1, 1))),                  # CNN notes homework #1: (f - 1)/2
    ("same", 5, 4, {}, ((1, 2),)),                              # even kernel: the odd zero after
    ("same", 10, 3, dict(dilation=2), ((2, 2),)),               # d·(k − 1) = 4 in all
    ("same", 6, 3, dict(stride=2, same="tensorflow"), ((0, 1),)),   # homework #2: not 3.5, (0, 1)
    ("same", (7, 6), (3, 4), dict(stride=(2, 3), same="tensorflow"), ((1, 1), (0, 1))),
    ("full", 9, 3, {}, ((2, 2),)),                              # np.convolve's 'full'
    ("full", (4, 5), (2, 3), dict(dilation=(1, 2)), ((1, 1), (4, 4))),
])
def test_resolve_padding_hand_cases(padding, size, k, kwargs, expected):
    assert resolve_padding(padding, size, k, **kwargs) == expected


def test_resolve_padding_is_one_function_for_every_caller():
    # the same object under every name, and the layers/matrices/sizes agree with it
    assert geometry.resolve_padding is cnnlab.resolve_padding is cnnlab.shapes.resolve_padding
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    w = np.ones((1, 1, 3, 4))
    assert cnnlab.conv2d(x, w, padding="same").shape == (1, 1, 6, 6)
    assert cnnlab.conv2d_matrix(w, (1, 6, 6), padding="same").shape == (36, 36)
    assert cnnlab.conv_output_size(9, 3, padding="full") == 11
    assert cnnlab.conv_output_size(9, 3, padding="valid") == 7
    from cnnlab.widgets.conv import resolve_padding as explorer_padding
    from cnnlab.widgets.cost import conv_cost
    assert explorer_padding("same_tf", 6, 3, 2, 1) == (0, 1)
    assert explorer_padding("asymmetric", 6, 3, 1, 1, before=2, after=0) == (2, 0)
    assert explorer_padding("full", 6, 3, 1, 2) == (4, 4)
    assert conv_cost(6, 1, 1, 3, stride=2, padding="same")["out_size"] == 3   # TensorFlow's 'same'


def test_conv_geometry_hand_case_unit5_moving_average():
    # Unit 5 notes: x = [1 2 3 1 2 3 1 2 3], h = [1/3 1/3 1/3], S = 2, P = 1: 5 outputs
    g = conv_geometry(SIGNAL, [1 / 3] * 3, stride=2, padding=1)
    assert isinstance(g, ConvGeometry) and g.out_shape == (5,)
    np.testing.assert_allclose(3 * g.output, [3, 6, 6, 6, 5])
    assert g.footprint(0).ravel().tolist() == [0, 1, 2]
    assert g.footprint(4).ravel().tolist() == [8, 9, 10]
    assert [(c, v) for c, v, _ in g.terms(4)] == [((8,), 2.0), ((9,), 3.0), ((10,), 0.0)]
    assert g.input_columns(4) == [7, 8]                      # x̃[10] is padding
    assert g.row(4) == 4 and g.row((4,)) == 4
    # each output cell sits under the middle of its window: o·s + d·(k − 1)/2
    assert [g.centre(o) for o in range(5)] == [1.0, 3.0, 5.0, 7.0, 9.0]
    np.testing.assert_array_equal(g.centre(np.arange(5)), [1, 3, 5, 7, 9])


def test_conv_geometry_accepts_padding_modes():
    x = np.arange(1.0, 7.0)
    full = conv_geometry(x, [1.0, 2.0, 3.0], padding="full", operation="convolution")
    np.testing.assert_allclose(full.output, np.convolve(x, [1, 2, 3], "full"))
    same = conv_geometry(np.ones((6, 6)), np.ones((3, 4)), padding="same")
    assert same.padding == ((1, 1), (1, 2)) and same.out_shape == (6, 6)
    assert conv_geometry(x, [1.0, 1.0], padding="valid").out_shape == (5,)


def test_conv_geometry_2d_rows_and_centres():
    g = conv_geometry(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), stride=2)
    assert g.out_shape == (2, 2)
    assert g.unravel(3) == (1, 1) and g.row((1, 0)) == 2
    assert g.input_columns((1, 1)) == [10, 11, 14, 15]
    assert g.footprint((0, 1)).tolist() == [[0, 2], [0, 3], [1, 2], [1, 3]]
    assert (g.centre(1, axis=0), g.centre(1, axis=1)) == (2.5, 2.5)
    # the matrix row of an output reads exactly its input columns
    for flat in range(g.output.size):
        assert np.flatnonzero(g.matrix[flat]).tolist() == g.input_columns(flat)


def test_translate_hand_cases():
    img = np.arange(1, 10).reshape(3, 3)
    np.testing.assert_array_equal(translate(img, 1, -1), [[0, 0, 0], [2, 3, 0], [5, 6, 0]])
    np.testing.assert_array_equal(translate(img, 0, 0), img)
    assert not translate(img, 3, 0).any() and not translate(img, 0, -5).any()
    assert translate(img, 1, 1).dtype == np.float64
    # the public names kept working
    assert cnnlab.systems.translate is translate
    from cnnlab.widgets.pooling import shift
    np.testing.assert_array_equal(shift(img, 1), translate(img, 0, 1))
    np.testing.assert_array_equal(shift(img, 2, axis=0), translate(img, 2, 0))
    assert shift(img, 1).dtype == img.dtype                 # shift keeps the dtype, as before


def test_spectrum_hand_cases():
    rate = 8000
    tone = np.sin(2 * np.pi * 1000 * np.arange(800) / rate)
    f, db = audio.spectrum_db(tone, rate)
    assert f.shape == db.shape == (401,) and f[-1] == rate / 2
    assert f[np.argmax(db)] == 1000.0
    f, db = audio.spectrum_db(tone, rate, nperseg=64)
    assert f.shape == (33,)
    # a moving average of width 4: 0 dB at DC, nulls at rate/4 and rate/2
    f, db = audio.frequency_response_db(np.ones(4) / 4, rate, 16)
    assert f.shape == (9,) and db[0] == pytest.approx(0.0, abs=1e-9)
    assert db[4] < -200 and db[8] < -200
    # still importable from the drawing layer, which only draws them
    from cnnlab.viz import signals as vsig
    assert vsig.spectrum_db is audio.spectrum_db and vsig.frequency_response_db is audio.frequency_response_db


# ======================================================================= 2. parity with oracles
def _tf_same(n, k, s, d):
    """TensorFlow's documented 'same' rule (tf.nn.convolution), written its own way."""
    k_eff = d * (k - 1) + 1
    total = max(k_eff - s, 0) if n % s == 0 else max(k_eff - n % s, 0)
    return total // 2, total - total // 2


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60), st.integers(1, 7), st.integers(1, 5), st.integers(1, 3))
def test_tensorflow_same_matches_tensorflows_formula(n, k, s, d):
    ((before, after),) = resolve_padding("same", n, k, s, d, same="tensorflow")
    assert (before, after) == _tf_same(n, k, s, d)
    assert cnnlab.conv_output_size(n, k, s, (before, after), d) == math.ceil(n / s)


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_torch_same_matches_torch_conv2d(h, w, kh, kw, dh, dw, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    x = torch.as_tensor(rng.standard_normal((1, 1, h, w)))
    k = torch.as_tensor(rng.standard_normal((1, 1, kh, kw)))
    pads = resolve_padding("same", (h, w), (kh, kw), 1, (dh, dw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns that an even kernel pads unevenly
        ref = F.conv2d(x, k, padding="same", dilation=(dh, dw))
    flat = [p for pair in reversed(pads) for p in pair]       # F.pad lists the last axis first
    ours = F.conv2d(F.pad(x, flat), k, dilation=(dh, dw))
    assert ours.shape == ref.shape == (1, 1, h, w)
    assert torch.allclose(ours, ref)


padding_forms = st.one_of(
    st.integers(0, 3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3))),
    st.sampled_from(["valid", "full"]),
)


@pytest.mark.torch
@settings(max_examples=80, deadline=None)
@given(st.integers(1, 10), st.integers(1, 10), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 2), padding_forms)
def test_output_sizes_match_torch_pad_and_conv2d(h, w, kh, kw, s, d, padding):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    pads = resolve_padding(padding, (h, w), (kh, kw), s, d)
    assert len(pads) == 2 and all(len(p) == 2 for p in pads)
    x = F.pad(torch.zeros(1, 1, h, w), [p for pair in reversed(pads) for p in pair])
    assert tuple(x.shape[2:]) == (h + sum(pads[0]), w + sum(pads[1]))
    fits = all(n + sum(p) >= d * (k - 1) + 1 for n, k, p in zip((h, w), (kh, kw), pads))
    if not fits:
        with pytest.raises(ValueError, match="no output position fits"):
            cnnlab.conv_output_size(h, kh, s, pads[0], d) and cnnlab.conv_output_size(w, kw, s, pads[1], d)
        return
    ref = F.conv2d(x, torch.zeros(1, 1, kh, kw), stride=s, dilation=d)
    assert tuple(ref.shape[2:]) == tuple(cnnlab.conv_output_size(n, k, s, p, d)
                                         for n, k, p in zip((h, w), (kh, kw), pads))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 3), st.integers(0, 3),
       st.sampled_from(["full", "same", "valid"]), st.integers(0, 2**31 - 1))
def test_conv_geometry_modes_match_scipy(h, w, kh2, kw2, mode, seed):
    signal = pytest.importorskip("scipy.signal")
    kh, kw = 2 * kh2 + 1, 2 * kw2 + 1            # odd kernels: scipy's 'same' centres like torch's
    rng = np.random.default_rng(seed)
    x, k = rng.standard_normal((h, w)), rng.standard_normal((kh, kw))
    if mode == "valid" and (kh > h or kw > w):
        with pytest.raises(ValueError, match="no output position fits"):
            conv_geometry(x, k, padding=mode)
        return
    g = conv_geometry(x, k, padding=mode, operation="convolution")
    np.testing.assert_allclose(g.output, signal.convolve2d(x, k, mode=mode), atol=1e-10)
    g = conv_geometry(x, k, padding=mode)
    np.testing.assert_allclose(g.output, signal.correlate2d(x, k, mode=mode), atol=1e-10)
    np.testing.assert_allclose(g.matrix @ x.ravel(), g.output.ravel(), atol=1e-10)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(-10, 10), st.integers(-10, 10), st.integers(0, 2**31 - 1))
def test_translate_matches_scipy_ndimage_shift(h, w, dy, dx, seed):
    ndimage = pytest.importorskip("scipy.ndimage")
    img = np.random.default_rng(seed).standard_normal((h, w))
    ref = ndimage.shift(img, (dy, dx), order=0, mode="constant", cval=0.0)
    np.testing.assert_array_equal(translate(img, dy, dx), ref)


@settings(max_examples=40, deadline=None)
@given(st.integers(8, 300), st.sampled_from([None, 8, 16, 64]), st.integers(0, 2**31 - 1))
def test_spectrum_matches_scipy(n, nperseg, seed):
    signal = pytest.importorskip("scipy.signal")
    if nperseg is not None and nperseg > n:
        return
    rate = 8000
    x = np.random.default_rng(seed).standard_normal(n)
    f, db = audio.spectrum_db(x, rate, nperseg)
    m = n if nperseg is None else nperseg
    w = np.hanning(m)
    if nperseg is None:
        f_ref, p_ref = signal.periodogram(x, rate, window=w, detrend=False, scaling="spectrum")
    else:
        f_ref, p_ref = signal.welch(x, rate, window=w, nperseg=m, noverlap=m - m // 2, detrend=False,
                                    scaling="spectrum", average="mean")
    np.testing.assert_allclose(f, f_ref)
    # scipy scales by 1/Σw² and doubles the one-sided bins; spectrum_db divides |X| by m
    inner = np.ones(f.size, bool)
    inner[0] = False
    if m % 2 == 0:
        inner[-1] = False
    power = p_ref * np.sum(w) ** 2 / np.where(inner, 2.0, 1.0)
    expected = 20 * np.log10(np.sqrt(power) / m + 1e-12)
    np.testing.assert_allclose(db, expected, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=9), st.sampled_from([16, 64, 256]))
def test_frequency_response_matches_scipy_freqz(h, n_fft):
    signal = pytest.importorskip("scipy.signal")
    rate = 8000
    f, db = audio.frequency_response_db(h, rate, n_fft)
    _, H = signal.freqz(h, worN=f, fs=rate)
    np.testing.assert_allclose(10 ** (db / 20) - 1e-12, np.abs(H), atol=1e-9)   # gains, not dB near nulls


# ======================================================================= 3. errors
@pytest.mark.parametrize("call, exc, match", [
    (lambda: resolve_padding(-1, 9, 3), ValueError,
     r"padding must be a non-negative int or a \(before, after\) pair, got -1"),
    (lambda: resolve_padding((1, 2, 3), (6, 6), 3), TypeError,
     r"padding must be a non-negative int, 2 of them, or 2 \(before, after\) pairs, got \(1, 2, 3\)"),
    (lambda: resolve_padding(1.5, 9, 3), TypeError, r"padding must be .* got 1.5"),
    (lambda: resolve_padding("wrap", 9, 3), ValueError, r"padding must be one of 'valid', 'same', 'full', got 'wrap'"),
    (lambda: resolve_padding("full", 9, 3, modes=("valid", "same")), ValueError,
     r"padding must be one of 'valid', 'same', got 'full'"),
    (lambda: resolve_padding("same", (6, 6), 3, stride=2), ValueError,
     r"padding='same' needs stride=1 \(as in torch.nn.functional.conv2d\), got stride=\(2, 2\): .*"
     r"TensorFlow's 'same' keeps ceil\(n/s\).*cnnlab.same_padding\(6, 3, 2\) = \(0, 1\)"),
    (lambda: resolve_padding("same", 9, 3, same="keras"), ValueError,
     r"same must be one of 'torch', 'tensorflow', got 'keras'"),
    (lambda: resolve_padding(0, 0, 3), ValueError, r"size must be a positive int, got 0"),
    (lambda: resolve_padding(0, (6, 6), (3, 0)), ValueError,
     r"kernel_size must be a positive int or a pair of them, got \(3, 0\)"),
    (lambda: resolve_padding(0, 6, 3, stride=0), ValueError, r"stride must be a positive int, got 0"),
    (lambda: resolve_padding(0, 6, 3, dilation=True), TypeError, r"dilation must be a positive int, got True"),
    (lambda: resolve_padding(0, "6", 3), TypeError, r"size must be an int, got '6'"),
    (lambda: resolve_padding("same", 6, 3, modes=()), ValueError, r"padding must be .* \(modes=\(\)\), got 'same'"),
    (lambda: resolve_padding(0, 6, 3, modes="same"), TypeError, r"modes must be a tuple of padding modes"),
    (lambda: resolve_padding(0, 6, 3, modes=("same", "reflect")), ValueError,
     r"modes must be a tuple of padding modes, some of \('valid', 'same', 'full'\), got \('same', 'reflect'\)"),
    (lambda: conv_geometry([1, 2, 3], [1, 1], padding="same", stride=2), ValueError, r"padding='same' needs stride=1"),
    (lambda: conv_geometry([1, 2, 3], [1, 1], padding="reflect"), ValueError, r"padding must be one of"),
    (lambda: conv_geometry([1, 2, 3], [1, 1, 1, 1]), ValueError, r"no output position fits"),
    (lambda: conv_geometry([1, 2, 3], [1], operation="conv"), ValueError, r"operation must be one of"),
    (lambda: conv_geometry([1, 2, 3], [1]).centre(0, axis=1), ValueError, r"axis must be one of 0, got 1"),
    (lambda: conv_geometry([1, 2, 3], [1]).row(3), ValueError, r"position must lie in 0..2, got 3"),
    (lambda: translate(np.ones(3), 1, 1), ValueError, r"image must be 2-D, got a 1-D array"),
    (lambda: translate(np.ones((3, 3)), 1.0, 1), TypeError, r"dy must be an int, got 1.0"),
    (lambda: audio.spectrum_db(np.ones(8), 8000, 16), ValueError, r"nperseg must be at most len\(x\) = 8, got 16"),
    (lambda: audio.spectrum_db(np.ones(8), 0), ValueError, r"rate must be a positive int, got 0"),
    (lambda: audio.frequency_response_db(np.ones(8), 8000, 4), ValueError, r"n_fft must be an int >= 8, got 4"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
