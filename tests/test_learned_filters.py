"""Filters learned from natural photographs (cnnlab.natural), the Gabor fit that measures
them (cnnlab.gabor_fit), kernels.gabor against scikit-image, and viz.plot_filter_bank."""
from __future__ import annotations

import hashlib
import math
import pathlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import kernels
from cnnlab.gabor_fit import GaborFit, fit_gabor, fit_gabors, median_gabor_correlation
from cnnlab.natural import PHOTOS, learn_filters, load_photos, sample_patches

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "cnnlab" / "data"


@pytest.fixture(scope="module")
def photos():
    return load_photos()


@pytest.fixture(scope="module")
def ica_filters(photos):
    return learn_filters(photos, size=8, n_filters=32, rng=0)


# --------------------------------------------------------------------------- the photographs

def test_photos_shapes_and_range(photos):
    assert list(photos) == list(PHOTOS)
    for name, img in photos.items():
        assert img.shape == PHOTOS[name] and img.dtype == np.float64
        assert 0 <= img.min() < 0.25 and 0.75 < img.max() <= 1    # real photographs use the range
        assert np.allclose(img * 255, np.round(img * 255))          # 8-bit grey levels


def test_photos_file_matches_its_provenance_note():
    blob = (DATA / "photos.npz").read_bytes()
    note = (DATA / "PHOTOS.md").read_text(encoding="utf-8")
    assert hashlib.sha256(blob).hexdigest() in note
    assert f"{len(blob):,}" in note
    for name in PHOTOS:
        assert f"`{name}`" in note
    assert "CC0" in note and "public domain" in note


def test_photos_are_skimage_sample_images_as_documented():
    """The conversion in PHOTOS.md, rerun on scikit-image's own images, gives the shipped arrays."""
    data = pytest.importorskip("skimage.data")
    luma = np.array([0.299, 0.587, 0.114])
    shipped = np.load(DATA / "photos.npz")
    for name in PHOTOS:
        img = getattr(data, name)().astype(np.float64)
        if img.ndim == 3:
            img = img[..., :3] @ luma
        h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
        img = img[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        np.testing.assert_array_equal(np.clip(np.rint(img), 0, 255).astype(np.uint8), shipped[name])


def test_load_some_photos():
    assert list(load_photos(["rocket", "camera"])) == ["rocket", "camera"]


# --------------------------------------------------------------------------- patches

def test_sample_patches_are_slices_of_the_images():
    a = np.arange(30.0).reshape(5, 6)
    b = 100 + np.arange(49.0).reshape(7, 7)
    p = sample_patches([a, b], 3, 7, rng=1)
    assert p.shape == (7, 3, 3)
    for q, img, width in zip(p, [a] * 4 + [b] * 3, [6] * 4 + [7] * 3):   # 7 = 4 + 3, in turn
        r, c = divmod(int(q[0, 0]) - (100 if img is b else 0), width)
        np.testing.assert_array_equal(q, img[r:r + 3, c:c + 3])


def test_sample_patches_accepts_a_stack_and_a_dict():
    stack = np.zeros((4, 10, 10))
    assert sample_patches(stack, 5, 6, rng=0).shape == (6, 5, 5)
    assert sample_patches({"x": stack[0]}, 10, 2, rng=0).shape == (2, 10, 10)   # patch = whole image


# --------------------------------------------------------------------------- learning

def test_learned_filters_are_unit_zero_mean_and_signed(ica_filters):
    f = ica_filters
    assert f.shape == (32, 8, 8)
    np.testing.assert_allclose((f**2).sum(axis=(1, 2)), 1)
    np.testing.assert_allclose(f.sum(axis=(1, 2)), 0, atol=1e-10)     # the patch mean is removed
    flat = f.reshape(32, -1)
    assert (flat[np.arange(32), np.abs(flat).argmax(1)] > 0).all()


def test_ica_responses_are_uncorrelated(photos, ica_filters):
    """FastICA keeps W orthogonal on whitened data: the filters' outputs are uncorrelated."""
    x = sample_patches(photos, 8, 20000, rng=0).reshape(20000, -1)   # the patches it learned from
    x -= x.mean(axis=1, keepdims=True)
    s = x @ ica_filters.reshape(32, -1).T
    m = s.T @ s / len(s)                                   # second moments, as the whitening used
    assert np.abs(m / np.sqrt(np.outer(np.diag(m), np.diag(m))) - np.eye(32)).max() < 1e-8


def test_ica_responses_are_sparse(photos, ica_filters):
    """ICA looks for non-Gaussian, sparse outputs: their kurtosis is far above a Gaussian's 3,
    and above that of the principal components learned from the same patches."""
    x = sample_patches(photos, 8, 20000, rng=5).reshape(20000, -1)
    x -= x.mean(axis=1, keepdims=True)

    def kurtosis(filters):
        s = x @ filters.reshape(len(filters), -1).T
        s = (s - s.mean(0)) / s.std(0)
        return np.median((s**4).mean(0))

    pca = learn_filters(photos, size=8, n_filters=32, method="pca", rng=0)
    assert kurtosis(ica_filters) > 8 > 3
    assert kurtosis(ica_filters) > kurtosis(pca)


def test_pca_filters_are_the_leading_eigenvectors(photos):
    f = learn_filters(photos, size=6, n_filters=5, method="pca", n_patches=5000, rng=3).reshape(5, -1)
    np.testing.assert_allclose(f @ f.T, np.eye(5), atol=1e-10)
    x = sample_patches(photos, 6, 5000, rng=np.random.default_rng(3)).reshape(5000, -1)
    x -= x.mean(axis=1, keepdims=True)
    w, v = np.linalg.eigh(x.T @ x / len(x))
    top = v[:, ::-1][:, :5].T
    np.testing.assert_allclose(np.abs((f * top).sum(1)), 1, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3000), p=st.integers(1, 70), q=st.integers(1, 70))
def test_blocked_products_are_the_plain_products(n, p, q):
    """learn_filters multiplies in small row blocks (one BLAS thread); the result is a @ b."""
    from cnnlab import natural

    rng = np.random.default_rng(n * 10_000 + p * 100 + q)
    a, b, c = rng.normal(size=(n, p)), rng.normal(size=(p, q)), rng.normal(size=(n, q))
    np.testing.assert_allclose(natural._blocked(a, b), a @ b, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(natural._blocked_gram(a, c), a.T @ c, rtol=1e-10, atol=1e-9)


def test_learning_is_reproducible(photos):
    a = learn_filters(photos, size=6, n_filters=8, n_patches=3000, rng=7)
    b = learn_filters(photos, size=6, n_filters=8, n_patches=3000, rng=np.random.default_rng(7))
    c = learn_filters(photos, size=6, n_filters=8, n_patches=3000, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# --------------------------------------------------------------------------- Gabor filters emerge

def test_learned_filters_are_gabor_filters(ica_filters):
    """The claim of the Bishop ch. 10 slides, measured: the median correlation of a filter
    learned from natural photographs with its best Gabor fit is high (0.92 measured)."""
    assert median_gabor_correlation(ica_filters) >= 0.85


def test_random_filters_are_not_gabor_filters():
    """Negative control: random 8×8 filters fit poorly (0.50 measured), so a high score means something."""
    rng = np.random.default_rng(0)
    assert median_gabor_correlation(rng.normal(size=(16, 8, 8))) < 0.6
    assert median_gabor_correlation(rng.uniform(-1, 1, size=(16, 8, 8))) < 0.6


def test_filters_learned_from_photos_are_localised_unlike_pca(photos, ica_filters):
    """ICA filters are more compact than principal components, which spread over the whole
    patch (pixels holding 90% of the energy: 23 vs 33.5 of 64, measured)."""
    pca = learn_filters(photos, size=8, n_filters=32, method="pca", rng=0)

    def spread(f):           # pixels holding 90% of the energy, median over filters
        e = np.sort((f**2).reshape(len(f), -1), axis=1)[:, ::-1].cumsum(1)
        return np.median((e < 0.9).sum(1) + 1)

    assert spread(ica_filters) < 0.8 * spread(pca)


# --------------------------------------------------------------------------- the Gabor fit

def _canonical(fit):
    """The fit's parameters with θ just below π read as θ − π (the same filter, phase π − φ)."""
    p = fit.params()
    if p["theta"] > math.pi - 1e-2:
        p["theta"], p["phi"] = p["theta"] - math.pi, (math.pi - p["phi"] + math.pi) % (2 * math.pi) - math.pi
    return p


@pytest.mark.parametrize("params", [
    dict(theta=0.0, omega=1.0, phi=0.0, alpha=0.1, beta=0.1),
    dict(theta=0.6, omega=1.2, phi=0.4, alpha=0.08, beta=0.05, x0=1.0, y0=-0.5),
    dict(theta=2.5, omega=2.2, phi=-2.0, alpha=0.2, beta=0.03, x0=-1.5, y0=1.0),
    dict(theta=1.2, omega=0.7, phi=1.5707963, alpha=0.04, beta=0.15),
])
def test_fit_recovers_a_gabor(params):
    g = kernels.gabor(11, amplitude=2.5, **params)
    fit = fit_gabor(g)
    assert fit.correlation > 0.99999
    expected = {"x0": 0.0, "y0": 0.0, **params, "amplitude": 2.5}
    for key, value in _canonical(fit).items():
        assert value == pytest.approx(expected[key], abs=2e-3), key
    np.testing.assert_allclose(fit.kernel(11), g, atol=1e-4)


def test_fit_of_the_negative_is_the_same_gabor_half_a_period_on():
    g = kernels.gabor(9, theta=0.3, omega=1.4, phi=0.5, alpha=0.1, beta=0.1)
    a, b = fit_gabor(g), fit_gabor(-g)
    assert b.correlation == pytest.approx(a.correlation)
    assert b.theta == pytest.approx(a.theta, abs=1e-4)
    assert (b.phi - a.phi) % (2 * math.pi) == pytest.approx(math.pi, abs=1e-3)


def test_fit_normalises_theta_and_phi():
    g = kernels.gabor(9, theta=0.4 + math.pi, omega=1.1, phi=0.3, alpha=0.1, beta=0.1)   # θ + π …
    fit = fit_gabor(g)
    assert 0 <= fit.theta < math.pi and -math.pi < fit.phi <= math.pi
    assert fit.theta == pytest.approx(0.4, abs=1e-3)
    assert fit.phi == pytest.approx(math.pi - 0.3, abs=1e-3)                            # … is θ, π − φ
    np.testing.assert_allclose(fit.kernel(9), g, atol=1e-4)


def test_fit_correlation_is_the_cosine_with_the_fitted_kernel(ica_filters):
    for f in ica_filters[:4]:
        fit = fit_gabor(f)
        g = fit.kernel(8)
        assert fit.correlation == pytest.approx((f * g).sum() / np.linalg.norm(f) / np.linalg.norm(g))
        assert isinstance(fit, GaborFit) and set(fit.params()) == {
            "theta", "omega", "phi", "alpha", "beta", "amplitude", "x0", "y0"}


@settings(max_examples=20, deadline=None)
@given(theta=st.floats(0, 2 * math.pi), omega=st.floats(0.5, 2.5), phi=st.floats(-math.pi, math.pi),
       sx=st.floats(1.2, 3.0), sy=st.floats(1.2, 3.0), x0=st.floats(-1.5, 1.5), y0=st.floats(-1.5, 1.5))
def test_fit_finds_any_reasonable_gabor(theta, omega, phi, sx, sy, x0, y0):
    g = kernels.gabor(9, theta, omega, phi, 1 / (2 * sx**2), 1 / (2 * sy**2), x0=x0, y0=y0)
    assert fit_gabor(g).correlation > 0.995


def test_fit_gabors_accepts_conv_weights():
    bank = np.array([kernels.gabor(7, t, 1.0, 0.0, 0.1, 0.1) for t in (0.0, 1.0, 2.0)])
    fits = fit_gabors(bank[:, None])
    assert [round(_canonical(f)["theta"], 3) for f in fits] == [0.0, 1.0, 2.0]


# --------------------------------------------------------------------------- kernels.gabor

def test_gabor_centre_shift_by_hand():
    g = kernels.gabor(7, theta=0.0, omega=1.0, phi=0.0, alpha=0.1, beta=0.2, x0=2.0, y0=-1.0)
    # the centre moves to row 3 − 1 = 2, column 3 + 2 = 5: there x̃ = 0, so sin(0) = 0
    assert g[2, 5] == 0
    # one pixel right of it: x̃ = 1, ỹ = 0: exp(−0.1)·sin(1)
    assert g[2, 6] == pytest.approx(math.exp(-0.1) * math.sin(1.0))
    centred = kernels.gabor(11, theta=0.0, omega=1.0, phi=0.0, alpha=0.1, beta=0.2)
    np.testing.assert_allclose(g, centred[3:10, 0:7])   # g[i, j] = centred[i − y0 + 2, j − x0 + 2]


def _skimage_as_cnnlab(frequency, theta, sigma_x, sigma_y, offset):
    """kernels.gabor's parameters for skimage's gabor_kernel (its imaginary part)."""
    return dict(theta=theta, omega=2 * math.pi * frequency, phi=offset, alpha=1 / (2 * sigma_x**2),
                beta=1 / (2 * sigma_y**2), amplitude=1 / (2 * math.pi * sigma_x * sigma_y))


@settings(max_examples=60, deadline=None)
@given(frequency=st.floats(0.02, 0.45), theta=st.floats(-2 * math.pi, 2 * math.pi),
       sigma_x=st.floats(0.6, 5.0), sigma_y=st.floats(0.6, 5.0), offset=st.floats(-math.pi, math.pi),
       n_stds=st.sampled_from([1, 2, 3]))
def test_gabor_matches_skimage(frequency, theta, sigma_x, sigma_y, offset, n_stds):
    """Oracle: skimage.filters.gabor_kernel. Same coordinates and rotation; its imaginary part
    is kernels.gabor with ω = 2πf, α = 1/(2σx²), β = 1/(2σy²), φ = offset, A = 1/(2πσxσy),
    and its real part the same with φ + π/2. Compared on the largest centred square."""
    filters = pytest.importorskip("skimage.filters")
    sk = filters.gabor_kernel(frequency, theta=theta, sigma_x=sigma_x, sigma_y=sigma_y, offset=offset,
                              n_stds=n_stds)
    size = min(sk.shape)
    r0, c0 = (sk.shape[0] - size) // 2, (sk.shape[1] - size) // 2
    crop = sk[r0:r0 + size, c0:c0 + size]
    p = _skimage_as_cnnlab(frequency, theta, sigma_x, sigma_y, offset)
    np.testing.assert_allclose(kernels.gabor(size, **p), crop.imag, atol=1e-12)
    p["phi"] = offset + math.pi / 2
    np.testing.assert_allclose(kernels.gabor(size, **p), crop.real, atol=1e-12)


def test_fit_recovers_skimage_parameters():
    """scikit-image builds the Gabor, cnnlab fits it and reports skimage's own parameters."""
    filters = pytest.importorskip("skimage.filters")
    sk = filters.gabor_kernel(0.2, theta=0.7, sigma_x=2.0, sigma_y=3.0, offset=0.3, n_stds=2).imag
    size = min(sk.shape)
    r0, c0 = (sk.shape[0] - size) // 2, (sk.shape[1] - size) // 2
    fit = fit_gabor(sk[r0:r0 + size, c0:c0 + size])
    assert fit.correlation > 0.99999
    assert fit.omega / (2 * math.pi) == pytest.approx(0.2, abs=1e-4)
    assert 1 / math.sqrt(2 * fit.alpha) == pytest.approx(2.0, abs=1e-2)
    assert 1 / math.sqrt(2 * fit.beta) == pytest.approx(3.0, abs=1e-2)
    assert (fit.theta, fit.phi) == (pytest.approx(0.7, abs=1e-3), pytest.approx(0.3, abs=1e-3))


# --------------------------------------------------------------------------- the plot

def test_plot_filter_bank(ica_filters):
    from matplotlib.figure import Figure

    from cnnlab.viz import plot_filter_bank

    fits = fit_gabors(ica_filters[:10])
    ax = plot_filter_bank(ica_filters[:10], fits=fits, ncols=5, ax=Figure().add_subplot(), title="t")
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (4 * 9 - 1, 5 * 9 - 1)                  # 2 rows of filters, 2 of fits
    np.testing.assert_allclose(mosaic[:8, :8], ica_filters[0] / np.abs(ica_filters[0]).max())
    np.testing.assert_allclose(mosaic[9:17, :8], fits[0].kernel(8) / np.abs(fits[0].kernel(8)).max(), atol=1e-12)
    assert [t.get_text() for t in ax.texts] == [f"{f.correlation:.2f}" for f in fits]
    assert ax.get_title() == "t"
    plain = plot_filter_bank(ica_filters[:3], ncols=2, labels="abc", ax=Figure().add_subplot())
    assert plain.images[0].get_array().shape == (17, 17) and len(plain.texts) == 3
    assert plain.images[0].get_array().mask[9:, 9:].all()          # the missing 4th tile is blank


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(size=1), ValueError, "size must be an int >= 2, got 1"),
    (dict(size=2.5), TypeError, "size must be an int"),
    (dict(size=8, n_filters=64), ValueError, r"n_filters must be less than size\*\*2 = 64"),
    (dict(n_filters=0), ValueError, "n_filters must be a positive int, got 0"),
    (dict(method="sparse"), ValueError, "method must be one of 'ica', 'pca', got 'sparse'"),
    (dict(n_patches=10), ValueError, r"n_patches must be at least 2 \* n_filters = 64, got 10"),
    (dict(tol=0.0), ValueError, "tol must be positive"),
    (dict(max_iter=0), ValueError, "max_iter must be a positive int"),
    (dict(size=300), ValueError, r"size must be at most the smallest image side \(150\), got 300"),
])
def test_learn_filters_errors(photos, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        learn_filters(photos, **kwargs)


def test_learn_filters_rejects_flat_images_and_bad_containers():
    with pytest.raises(ValueError, match="span fewer than n_filters"):
        learn_filters(np.ones((20, 20)), size=4, n_filters=3, n_patches=100)
    with pytest.raises(TypeError, match="images must be a 2-D array"):
        learn_filters("camera")
    with pytest.raises(TypeError, match="images must be"):
        learn_filters([])
    with pytest.raises(ValueError, match="images"):
        learn_filters([np.ones((2, 3, 4))])
    with pytest.raises(ValueError, match="n must be a positive int, got 0"):
        sample_patches(np.ones((4, 4)), 2, 0)


def test_load_photos_errors():
    with pytest.raises(ValueError, match=re.escape("names entry must be one of 'camera', 'astronaut'")):
        load_photos(["lena"])
    with pytest.raises(TypeError, match="names must be a sequence of photo names"):
        load_photos("camera")


def test_fit_errors():
    with pytest.raises(ValueError, match=r"filt must be a square filter of side >= 3, got shape \(3, 4\)"):
        fit_gabor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        fit_gabor(np.ones((2, 2)))
    with pytest.raises(ValueError, match="filt must not be all zero"):
        fit_gabor(np.zeros((5, 5)))
    with pytest.raises(ValueError, match="filt"):
        fit_gabor(np.ones(5))
    with pytest.raises(ValueError, match=r"filters must be \(F, k, k\) or \(F, 1, k, k\), got shape \(2, 3, 5, 5\)"):
        fit_gabors(np.ones((2, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"filters must not be empty, got shape \(0, 5, 5\)"):
        fit_gabors(np.ones((0, 5, 5)))


def test_gabor_centre_errors():
    with pytest.raises(TypeError, match="x0 must be a finite real number"):
        kernels.gabor(5, 0, 1, 0, 0.1, 0.1, x0="1")
    with pytest.raises(ValueError, match="y0 must be a finite real number, got nan"):
        kernels.gabor(5, 0, 1, 0, 0.1, 0.1, y0=float("nan"))


def test_plot_filter_bank_errors(ica_filters):
    from matplotlib.figure import Figure

    from cnnlab.viz import plot_filter_bank

    with pytest.raises(ValueError, match=r"fits must give one 8×8 filter per filter \(4\)"):
        plot_filter_bank(ica_filters[:4], fits=ica_filters[:3], ax=Figure().add_subplot())
    with pytest.raises(ValueError, match=r"labels must have one entry per filter \(4\), got 2"):
        plot_filter_bank(ica_filters[:4], labels=["a", "b"], ax=Figure().add_subplot())
    with pytest.raises(ValueError, match="ncols must be a positive int, got 0"):
        plot_filter_bank(ica_filters[:4], ncols=0, ax=Figure().add_subplot())
