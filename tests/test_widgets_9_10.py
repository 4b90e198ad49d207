"""Lesson 09's explorers (cnnlab.widgets.inspect) and the plots they use (cnnlab.viz.explain)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")
from matplotlib.figure import Figure  # noqa: E402
from torch import nn  # noqa: E402

from cnnlab.nn.attribution import fgsm, grad_cam, saliency  # noqa: E402
from cnnlab.viz.explain import (  # noqa: E402
    image_grid, plot_accuracy_vs_epsilon, show_boxes, show_grid, show_heatmap,
)
from cnnlab.widgets.inspect import AttributionExplorer, FeatureMapExplorer, FGSMExplorer  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def setup():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 5 * 5, 10))
    x = torch.rand(6, 1, 28, 28)
    return model, x, np.arange(6)


def ax():
    return Figure().add_subplot()


# -- viz ----------------------------------------------------------------------------------
def test_image_grid_places_tiles_and_normalises():
    imgs = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    g = image_grid(imgs, ncols=2, pad=1, normalize=None)
    assert g.shape == (5, 5)
    np.testing.assert_array_equal(g[3:5, 0:2], imgs[2])
    assert np.isnan(g[2]).all() and np.isnan(g[3:, 3:]).all()
    each = image_grid(imgs, ncols=3, pad=0)
    np.testing.assert_allclose(each, np.hstack([[[0, 1 / 3], [2 / 3, 1]]] * 3))
    both = image_grid(imgs, ncols=3, pad=0, normalize="all")
    assert both.min() == 0 and both.max() == 1 and both[0, 2] == pytest.approx(4 / 11)
    signed = image_grid(-imgs[1:2], normalize="signed")
    assert signed.min() == -1 and signed.max() == pytest.approx(-4 / 7)
    assert image_grid(np.ones((1, 1, 3, 3))).shape == (3, 3)
    with pytest.raises(ValueError, match="normalize must be one of 'each', 'all', 'signed', None"):
        image_grid(imgs, normalize="max")
    with pytest.raises(ValueError, match="pass one channel"):
        image_grid(np.ones((2, 3, 4, 4)))


def test_show_grid_heatmap_curve_boxes_draw_what_they_get(setup):
    model, x, _ = setup
    a = show_grid(x[:4], ncols=2, labels=["a", "b", "c", "d"], ax=ax())
    assert a.images[0].get_array().shape == (57, 57) and len(a.texts) == 4
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        show_grid(x[:4], labels=["a"], ax=ax())
    s = saliency(model, x[:1], 3)[0, 0]
    h = show_heatmap(x[0, 0], s, ax=ax())
    np.testing.assert_allclose(h.images[1].get_array(), s.numpy())
    with pytest.raises(ValueError, match="same size as image"):
        show_heatmap(x[0, 0], s[:10], ax=ax())
    c = plot_accuracy_vs_epsilon(np.array([0, 0.1]), np.array([0.9, 0.2]), ax=ax(), chance=0.1)
    assert len(c.lines) == 2
    b = show_boxes(np.zeros((48, 48)), [[0.5, 0.5, 0.25, 0.5], [0.2, 0.2, 0.1, 0.1]], labels=["3", None],
                   colors=["g", "r"], linestyles=["--", "-"], ax=ax())
    assert len(b.patches) == 2 and b.patches[0].get_width() == 24 and b.patches[0].get_height() == 12
    assert [t.get_text() for t in b.texts] == ["3"]
    with pytest.raises(ValueError, match="colors must have one entry per box"):
        show_boxes(np.zeros((8, 8)), [[0.5, 0.5, 0.5, 0.5]], colors=["r", "g"], ax=ax())


# -- explorers ---------------------------------------------------------------------------
def test_feature_map_explorer_follows_its_controls(setup):
    model, x, labels = setup
    ex = FeatureMapExplorer(model, x, labels)
    assert ex.result.layer == "0" and ex.result.maps.shape == (4, 24, 24) and ex.updates == 1
    assert [v for _, v in ex.layer.options] == ["0", "1", "2", "3", "4", "5"]      # spatial layers only
    ex.index.value = 3
    ex.layer.value = "4"
    np.testing.assert_allclose(ex.result.maps, model[:5](x[3:4])[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert ex.result.image.shape == (28, 28)
    assert ex.result.prediction == int(model(x[3:4]).argmax())
    assert "cnnlab-featuremap-explorer" in ex.widget._dom_classes
    with pytest.raises(ValueError, match="layer must be one of"):
        FeatureMapExplorer(model, x, layer="7")


def test_feature_map_explorer_takes_uint8_digits(setup):
    model = setup[0]
    digits = (np.random.default_rng(0).random((3, 28, 28)) * 255).astype(np.uint8)
    ex = FeatureMapExplorer(model, digits)
    assert ex.x.dtype == torch.float32 and float(ex.x.max()) <= 1
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        FeatureMapExplorer(model, digits, [1])


def test_attribution_explorer_matches_the_library(setup):
    model, x, labels = setup
    ex = AttributionExplorer(model, x, labels)
    pred = int(model(x[:1]).argmax())
    assert ex.result.target == pred and ex.result.layer == "5"
    ex.index.value, ex.target.value, ex.layer.value = 2, 7, "3"
    r = ex.result
    assert (r.index, r.target, r.layer) == (2, 7, "3")
    np.testing.assert_allclose(r.saliency, saliency(model, x[2:3], 7)[0, 0].numpy())
    np.testing.assert_allclose(r.grad_cam, grad_cam(model, x[2:3], 7, "3")[0].numpy())
    np.testing.assert_allclose(r.probabilities.sum(), 1, rtol=1e-6)
    assert ex.error is None and len(ex.figure.axes) == 2      # the image mosaic and the bar chart


def test_fgsm_explorer_epsilon_zero_and_flips(setup):
    model, x, labels = setup
    ex = FGSMExplorer(model, x, labels, epsilon=0.0)
    assert np.array_equal(ex.result.adversarial, ex.result.image) and not ex.result.flipped
    ex.epsilon.value = 0.3
    ex.index.value = 1
    np.testing.assert_allclose(ex.result.adversarial, fgsm(model, x[1:2], [1], 0.3)[0, 0].numpy())
    assert "ε = 0.30" in ex.header(ex.result)
    with pytest.raises(ValueError, match="labels are required"):
        FGSMExplorer(model, x, None)


def _digits():
    """An untrained model2 and every 25th digit of the shipped subset (what bench/widgets.py times)."""
    from cnnlab.nn import load_subset, model2

    digits = load_subset()
    return model2(), digits.images[::25], digits.labels[::25]


def test_readouts_on_shipped_digits():
    import re

    for cls in (FeatureMapExplorer, AttributionExplorer, FGSMExplorer):
        ex = cls(*_digits())
        head = ex.header(ex.result)
        assert 'class="cnnlab-readouts"' in head and ex.error is None
        if cls is not FGSMExplorer:
            assert f'data-prediction="{ex.result.prediction if cls is FeatureMapExplorer else int(ex.result.probabilities.argmax())}"' in head
    ex = FGSMExplorer(*_digits())
    ex.epsilon.value = 0.0
    head = ex.header(ex.result)
    assert 'data-flipped="false"' in head and 'data-max-change="0.0000"' in head
    ex.epsilon.value = 0.2
    assert re.search(r'data-max-change="0\.(1\d*|2000)"', ex.header(ex.result))
