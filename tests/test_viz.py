"""cnnlab.viz: convolution geometry (numbers) and every plot function (Agg, asserting on drawn data)."""
from fractions import Fraction

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import cnnlab
from cnnlab import viz
from cnnlab.examples import AUDIO_X, AVERAGE_H, IMAGE_6X6
from cnnlab.viz import conv_geometry, fmt

SEED_X, THIRD, SEED_IMAGE = AUDIO_X, AVERAGE_H, IMAGE_6X6   # the Unit 5 notes' x, h; the CNN lecture notes' image


def ax_():
    return Figure().add_subplot()


def texts(ax):
    return [t.get_text() for t in ax.texts]


# --------------------------------------------------------------------- formatting
def test_fmt():
    assert [fmt(v) for v in (2.0, 5 / 3, -0.5, 0.123456, 1e-17, 7)] == ["2", "5/3", "−1/2", "0.123", "0", "7"]
    assert fmt(float("nan")) == "nan"


# --------------------------------------------------------------------- geometry: seed numbers
@pytest.mark.parametrize("stride, padding, expected", [
    (1, 2, ["1/3", "1", "2", "2", "2", "2", "2", "2", "2", "5/3", "1"]),   # P = 2: 11 outputs
    (1, 0, ["2"] * 7),                                                    # P = 0: 7 outputs
    (2, 1, ["1", "2", "2", "2", "5/3"]),                                  # S = 2, P = 1: 5 outputs
])
def test_seed_003_moving_average(stride, padding, expected):
    g = conv_geometry(SEED_X, THIRD, stride=stride, padding=padding)
    assert [fmt(v) for v in g.output] == expected
    assert g.matrix.shape == (len(expected), 9)


def test_seed_001_vertical_edge_homework():
    g = conv_geometry(SEED_IMAGE, cnnlab.kernels.prewitt("vertical"))
    np.testing.assert_allclose(g.output, [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]])


def test_footprint_terms_and_columns():
    g = conv_geometry(SEED_X, [1, 2, 3], stride=2, padding=1, dilation=2, operation="convolution")
    np.testing.assert_array_equal(g.applied, [3, 2, 1])
    assert g.footprint(1).ravel().tolist() == [2, 4, 6]
    assert g.terms(1) == [((2,), 2.0, 3.0), ((4,), 1.0, 2.0), ((6,), 3.0, 1.0)]
    assert g.input_columns(0) == [1, 3]            # tap 0 falls on the padding
    assert g.row((1,)) == 1
    g2 = conv_geometry(np.arange(16).reshape(4, 4), np.ones((2, 2)), stride=2)
    assert g2.unravel(3) == (1, 1) and g2.row((1, 0)) == 2
    assert g2.footprint(3).tolist() == [[2, 2], [2, 3], [3, 2], [3, 3]]
    assert g2.input_columns(3) == [10, 11, 14, 15]


# --------------------------------------------------------------------- geometry: parity with real oracles
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 20), k=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_full_convolution_equals_numpy_convolve(n, k, seed):
    rng = np.random.default_rng(seed)
    x, h = rng.standard_normal(n), rng.standard_normal(k)
    g = conv_geometry(x, h, padding=k - 1, operation="convolution")
    np.testing.assert_allclose(g.output, np.convolve(x, h, "full"), atol=1e-12)
    if n >= k:
        np.testing.assert_allclose(conv_geometry(x, h).output, np.correlate(x, h, "valid"), atol=1e-12)


@st.composite
def conv_cases(draw):
    nd = draw(st.sampled_from([1, 2]))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(nd))
    kshape = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(nd))
    op = draw(st.sampled_from(["correlation", "convolution"]))
    return nd, shape, kshape, stride, dilation, pads, op, draw(st.integers(0, 10_000))


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_geometry_matches_torch_and_its_matrix(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    nd, shape, kshape, stride, dilation, pads, op, seed = case
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape), rng.standard_normal(kshape)
    fits = all(n + a + b >= d * (k - 1) + 1 for n, k, d, (a, b) in zip(shape, kshape, dilation, pads))
    padding = pads[0] if nd == 1 else pads
    if not fits:
        with pytest.raises(ValueError, match="no output position fits"):
            conv_geometry(x, w, stride=stride, padding=padding, dilation=dilation, operation=op)
        return
    g = conv_geometry(x, w, stride=stride, padding=padding, dilation=dilation, operation=op)
    tx = F.pad(torch.as_tensor(x)[None, None], [p for pair in reversed(pads) for p in pair])
    tw = torch.as_tensor(w)[None, None]
    if op == "convolution":
        tw = torch.flip(tw, dims=list(range(2, 2 + nd)))
    ref = (F.conv1d if nd == 1 else F.conv2d)(tx, tw, stride=stride, dilation=dilation)[0, 0].numpy()
    np.testing.assert_allclose(g.output, ref, atol=1e-10)
    np.testing.assert_allclose(g.matrix @ x.ravel(), ref.ravel(), atol=1e-10)
    flat = rng.integers(g.output.size)
    fp = g.footprint(int(flat))
    manual = sum(g.x_padded[tuple(c)] * a for c, a in zip(fp, g.applied.ravel()))
    assert manual == pytest.approx(g.output.ravel()[flat], abs=1e-10)


# --------------------------------------------------------------------- geometry: errors
def test_geometry_errors():
    with pytest.raises(ValueError, match="kernel must have as many dimensions as x"):
        conv_geometry([1, 2, 3], np.ones((2, 2)))
    with pytest.raises(ValueError, match="operation must be one of 'correlation', 'convolution', got 'conv'"):
        conv_geometry([1, 2, 3], [1], operation="conv")
    with pytest.raises(ValueError, match="no output position fits"):
        conv_geometry([1, 2, 3], [1, 1], dilation=3)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        conv_geometry([1, 2, 3], [1], stride=0)
    with pytest.raises(ValueError, match="x must be 1-D or 2-D"):
        conv_geometry(np.ones((2, 2, 2)), np.ones((1, 1, 1)))
    g = conv_geometry([1, 2, 3], [1])
    with pytest.raises(ValueError, match=r"position must lie in 0..2, got 3"):
        g.footprint(3)
    with pytest.raises(ValueError, match=r"position must index an output of shape \(3,\)"):
        g.unravel((0, 0))


# --------------------------------------------------------------------- conv drawings
def test_plot_conv_tape_draws_the_seed_window():
    g = conv_geometry(SEED_X, THIRD, stride=2, padding=1)
    ax = viz.plot_conv_tape(g, 4, ax=ax_())
    t = texts(ax)
    assert "y[4] = 5/3" in t
    assert t.count("1/3") == 3                               # the three kernel taps
    red = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("#d62728")]
    assert sorted(p.get_x() + 0.5 for p in red if abs(p.get_y() - 0.6) < 1e-9) == [8, 9, 10]
    ax = viz.plot_conv_tape(g, 1, ax=ax_(), reveal="upto", kernel_symbol="h")
    assert texts(ax).count("?") == 3 and "h[0]" in texts(ax)
    with pytest.raises(TypeError, match="1-D ConvGeometry"):
        viz.plot_conv_tape(conv_geometry(np.ones((3, 3)), np.ones((2, 2))), 0)
    with pytest.raises(ValueError, match="reveal must be one of 'all', 'upto'"):
        viz.plot_conv_tape(g, 0, reveal="some")


def test_plot_conv_input_and_output_grids():
    g = conv_geometry(SEED_IMAGE, cnnlab.kernels.sobel(), padding=1, stride=2)
    ax = viz.plot_conv_input(g, (1, 2), ax=ax_())
    assert ax.images[0].get_array().shape[:2] == (8, 8)
    outlined = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert sorted((p.get_y() + 0.5, p.get_x() + 0.5) for p in outlined) == [
        (r, c) for r in (2, 3, 4) for c in (4, 5, 6)]
    assert texts(ax).count("0") >= 28                       # the 28 padding zeros are written
    ax = viz.plot_conv_output(g, 0, ax=ax_())
    assert ax.images[0].get_array().shape[:2] == g.out_shape == (3, 3)
    assert fmt(g.output[0, 0], digits=2) in texts(ax)
    with pytest.raises(TypeError, match="2-D ConvGeometry"):
        viz.plot_conv_input(conv_geometry([1, 2], [1]))


# --------------------------------------------------------------------- matrices
def test_toeplitz_labels_seed_polynomial_example():
    T = viz.toeplitz_labels("x", 3, 6)
    assert T.shape == (8, 6)
    assert T[7].tolist() == ["0", "0", "0", "0", "0", "x₂"]
    assert T[:, 0].tolist() == ["x₀", "x₁", "x₂", "0", "0", "0", "0", "0"]
    Ty = viz.toeplitz_labels("y", 6, 3)
    assert Ty.shape == (8, 3) and Ty[5].tolist() == ["y₅", "y₄", "y₃"]
    assert viz.toeplitz_labels("h", 12, 1)[11, 0] == "h₁₁"
    with pytest.raises(ValueError, match="mode must be one of"):
        viz.toeplitz_labels("x", 3, 6, mode="circular")


def test_plot_matrix_labels_and_highlights():
    M = cnnlab.conv_matrix([1, 2, 3], 6)
    ax = viz.plot_matrix(M, ax=ax_(), labels=viz.toeplitz_labels("x", 3, 6), highlight_rows=[2],
                         highlight_cols=[0, 1, 2])
    np.testing.assert_array_equal(ax.images[0].get_array(), M)
    assert texts(ax)[:3] == ["x₀", "0", "0"] and len(ax.texts) == 48
    rows = [p for p in ax.patches if not p.get_fill()]
    assert len(rows) == 1 and rows[0].get_y() == 1.5
    assert len([p for p in ax.patches if p.get_fill()]) == 3
    big = viz.plot_matrix(np.eye(30), ax=ax_(), ticks=False)
    assert len(big.texts) == 0 and list(big.get_xticks()) == []
    with pytest.raises(ValueError, match=r"labels must have the shape of M \(2, 2\)"):
        viz.plot_matrix(np.eye(2), labels=[["a"]])


# --------------------------------------------------------------------- signals
def test_plot_signal_stems_and_highlight():
    ax = viz.plot_signal([1, 2, 3], ax=ax_(), highlight=[2], label="x")
    assert ax.collections[0].get_segments()[2].tolist() == [[2.0, 0.0], [2.0, 3.0]]
    assert any(line.get_xydata().tolist() == [[2.0, 3.0]] for line in ax.lines)   # the red ring
    long = viz.plot_signal(np.arange(200.0), ax=ax_())
    assert long.lines[0].get_ydata().size == 200
    with pytest.raises(ValueError, match=r"t must have the shape of x \(3,\)"):
        viz.plot_signal([1, 2, 3], t=[0, 1])


def test_waveform_spectrum_and_response():
    rate = 8000
    x = cnnlab.audio.tone(0.1, rate, 440)
    ax = viz.plot_waveform(x, rate, ax=ax_(), start=0.01, duration=0.002)
    t, y = ax.lines[0].get_data()
    assert t[0] == pytest.approx(10.0) and y.size == 16
    ax = viz.plot_spectrum(x, rate, ax=ax_())
    f, db = ax.lines[0].get_data()
    assert abs(f[np.argmax(db)] - 440) <= rate / x.size
    ax = viz.plot_frequency_response(np.ones(8) / 8, rate, ax=ax_())
    f, db = ax.lines[0].get_data()
    assert db[0] == pytest.approx(0.0, abs=1e-9) and db[np.searchsorted(f, 1000)] < -100   # null at rate/8
    with pytest.raises(ValueError, match="holds no sample"):
        viz.plot_waveform(x, rate, start=5.0)


def test_plot_pmf_of_two_dice():
    die = cnnlab.uniform_pmf(range(1, 7))
    ax = viz.plot_pmf(cnnlab.pmf_of_sum(die, die), ax=ax_())
    heights = [Fraction(p.get_height()).limit_denominator(36) for p in ax.patches]
    assert heights == [Fraction(min(s - 1, 13 - s), 36) for s in range(2, 13)]
    assert texts(ax)[5] == "1/6"
    floats = viz.plot_pmf({0: 0.5, 1: 0.5}, ax=ax_())
    assert len(floats.texts) == 0
    with pytest.raises(TypeError, match="pmf must be a mapping"):
        viz.plot_pmf([0.5, 0.5])
    with pytest.raises(ValueError, match="pmf must not be empty"):
        viz.plot_pmf({})


# --------------------------------------------------------------------- images
def test_sample_photo_and_image_plots():
    photo = viz.sample_photo(downsample=4)
    assert photo.shape == (150, 128) and 0 <= photo.min() < photo.max() <= 1
    rgb = viz.sample_photo(downsample=8, gray=False)
    assert rgb.shape == (75, 64, 3)
    np.testing.assert_allclose(rgb @ viz.images.LUMA, viz.sample_photo(downsample=8))
    ax = viz.show_image(photo, ax=ax_(), title="Grace Hopper")
    assert ax.images[0].get_array().shape == (150, 128) and ax.get_title() == "Grace Hopper"
    ax = viz.show_feature_map([[-3.0, 1.0]], ax=ax_())
    assert ax.images[0].get_clim() == (-3.0, 3.0)
    ax = viz.show_feature_map([[-3.0, 1.0]], ax=ax_(), signed=False)
    assert ax.images[0].get_clim() == (0.0, 3.0)
    ax = viz.plot_kernel(cnnlab.kernels.scharr(), ax=ax_())
    assert texts(ax) == ["3", "0", "−3", "10", "0", "−10", "3", "0", "−3"]
    with pytest.raises(ValueError, match="downsample must be a positive int"):
        viz.sample_photo(downsample=0)
    with pytest.raises(ValueError, match=r"img must be \(H, W\), \(H, W, 3\) or \(H, W, 4\)"):
        viz.show_image(np.zeros((2, 2, 5)))


def test_ax_none_makes_a_new_figure():
    import matplotlib.pyplot as plt

    ax = viz.plot_signal([1, 2])
    try:
        assert ax.figure is not None and len(ax.collections) == 1
    finally:
        plt.close(ax.figure)
