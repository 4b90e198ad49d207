"""Lessons 05-08 explorers (cost calculator, pooling, receptive field) and their pure functions."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import max_pool2d, receptive_field
from cnnlab.widgets import PoolingExplorer, ReceptiveFieldExplorer, SeparableCostExplorer
from cnnlab.widgets.cost import conv_cost
from cnnlab.widgets.pooling import EXAMPLE_FEATURE_MAP, edge_map, pool, shift, shift_invariance
from cnnlab.widgets.receptive import PRESETS, dependency_cone, parse_layers


# ----------------------------------------------------------------------------- cost
def test_conv_cost_seed001_rgb_layer():
    c = conv_cost(6, 3, 10, 3, padding="valid")
    assert c["out_size"] == 4
    assert c["standard"].params == (3 * 3 * 3 + 1) * 10 == 280
    assert c["standard"].macs == 4 * 4 * 27 * 10
    assert c["depthwise"].params == 3 * 9 + 3 and c["pointwise"].params == 3 * 10 + 10
    assert c["ratio"] == pytest.approx(1 / 10 + 1 / 9)


def test_conv_cost_same_padding_and_stride():
    assert conv_cost(6, 3, 8, 3, stride=2)["out_size"] == 3          # ceil(6 / 2), homework #2
    assert conv_cost(7, 1, 1, 3, padding=1, stride=2)["out_size"] == 4
    assert conv_cost(5, 2, 4, 3, bias=False)["standard"].params == 72


torch = pytest.importorskip("torch")


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(st.integers(3, 20), st.integers(1, 6), st.integers(1, 6), st.integers(1, 4), st.integers(1, 3),
       st.sampled_from(["same", "valid", 0, 1]), st.booleans())
def test_conv_cost_parity_with_torch_layers(size, c_in, c_out, k, stride, padding, bias):
    """Parameters from real torch layers; multiply-adds from their output shapes."""
    from torch import nn

    if k > size:
        return
    c = conv_cost(size, c_in, c_out, k, stride=stride, padding=padding, bias=bias)
    if padding == "same":
        total = max((-(-size // stride) - 1) * stride + k - size, 0)
        pad = nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2))
        p = 0
    else:
        pad, p = nn.Identity(), (0 if padding == "valid" else padding)
    standard = nn.Conv2d(c_in, c_out, k, stride=stride, padding=p, bias=bias)
    depthwise = nn.Conv2d(c_in, c_in, k, stride=stride, padding=p, groups=c_in, bias=bias)
    pointwise = nn.Conv2d(c_in, c_out, 1, bias=bias)
    x = pad(torch.zeros(1, c_in, size, size))
    y = standard(x)
    assert y.shape[-1] == y.shape[-2] == c["out_size"]
    for layer, key in ((standard, "standard"), (depthwise, "depthwise"), (pointwise, "pointwise")):
        assert sum(q.numel() for q in layer.parameters()) == c[key].params
        # multiply-adds = output elements x weights per output element
        out = layer(x if layer is not pointwise else depthwise(x))
        assert out.numel() * layer.weight[0].numel() == c[key].macs


def test_conv_cost_errors():
    with pytest.raises(ValueError, match="padding must be one of 'same', 'valid', got 'full'"):
        conv_cost(8, 1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="c_in must be a positive int, got 0"):
        conv_cost(8, 0, 1, 3)
    with pytest.raises(TypeError, match="bias must be True or False"):
        conv_cost(8, 1, 1, 3, bias=1)
    with pytest.raises(ValueError, match="larger than|longer than|fits|no output"):
        conv_cost(2, 1, 1, 5, padding="valid")


def test_cost_explorer():
    ex = SeparableCostExplorer()
    assert "cnnlab-cost-explorer" in ex.widget._dom_classes
    assert ex.result["standard"].params == 3 * 3 * 32 * 64 + 64
    assert 'data-params="18496"' in ex.rendered_html and ex.rendered_image.startswith(b"\x89PNG")
    ex.c_out.value = 10
    ex.c_in.value = 3
    ex.size.value = 6
    ex.padding.value = "valid"
    assert ex.result["standard"].params == 280 and ex.result["out_size"] == 4
    ex.bias.value = False
    assert ex.result["standard"].params == 270
    ex.kernel.value = 7
    assert ex.result is None and "kernel" in ex.error.lower()
    classes = {c for control in ex.controls for c in control._dom_classes}
    assert {"cnnlab-ctl-output-channels", "cnnlab-ctl-kernel-size-k", "cnnlab-ctl-padding"} <= classes


# ----------------------------------------------------------------------------- pooling
def test_pool_seed000_example():
    np.testing.assert_array_equal(pool(EXAMPLE_FEATURE_MAP, 2), [[20, 30], [112, 37]])
    np.testing.assert_array_equal(pool(EXAMPLE_FEATURE_MAP, 2, mode="avg"), [[13, 8], [79, 19.5]])
    assert pool(np.ones((26, 26)), 2).shape == (13, 13)          # "26×26 halves to 13×13"
    assert pool(np.ones((32, 32)), 2).shape == (16, 16)          # seed 003 erratum: 16, not 15


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2),
       st.sampled_from(["max", "avg"]), st.integers(0, 2**31 - 1))
def test_pool_parity_with_torch(h, w, k, s, p, mode, seed):
    if k > min(h, w) + 2 * p or p > k // 2:
        return
    x = np.random.default_rng(seed).normal(size=(h, w))
    fn = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    ref = fn(torch.from_numpy(x)[None, None], k, s, p)[0, 0].numpy()
    np.testing.assert_allclose(pool(x, k, s, p, mode=mode), ref, rtol=1e-12, atol=1e-12)


def test_shift_and_invariance():
    np.testing.assert_array_equal(shift(np.eye(3), 1), [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(shift(np.eye(3), 1, axis=0), [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert not shift(np.ones((2, 2)), 5).any()
    img = np.random.default_rng(1).random((32, 32))
    r = shift_invariance(img, 1, 2)
    assert r["pixels"] == 0.0 and 0.2 < r["pooled"] < 0.8
    # a bigger window keeps more maxima through a 1-pixel shift
    assert shift_invariance(img, 1, 4)["pooled"] > shift_invariance(img, 1, 2)["pooled"] - 0.1
    assert shift_invariance(img, 0, 2) == {"pixels": 1.0, "pooled": 1.0}
    with pytest.raises(ValueError, match="shifts the whole pooled map out of view"):
        shift_invariance(np.ones((4, 4)), 3, 2)
    with pytest.raises(ValueError, match="mode must be one of 'max', 'avg'"):
        pool(img, 2, mode="median")


def test_pooling_explorer():
    ex = PoolingExplorer()
    assert "cnnlab-pooling-explorer" in ex.widget._dom_classes
    assert ex.result.output.tolist() == [[20, 30], [112, 37]]
    assert 'data-out-shape="2×2"' in ex.rendered_html
    np.testing.assert_array_equal(ex.result.indices, max_pool2d(EXAMPLE_FEATURE_MAP[None], 2,
                                                                return_indices=True)[1][0])
    ex.stride.value = 1
    assert ex.result.output.shape == (3, 3)
    ex.kernel.value = 3
    ex.padding.value = 1
    assert ex.result.output.shape == (4, 4) and ex.error is None
    ex.padding.value = 2
    assert ex.result is None and "padding" in ex.error
    ex.padding.value = 0
    ex.source.value = "edge feature map (148×126)"
    ex.kernel.value, ex.stride.value = 2, 2
    ex.shift.value = 1
    assert ex.result.output.shape == (74, 63)
    assert 0 < ex.result.invariance["pooled"] <= 1 and "cnnlab-invariance" in ex.rendered_html
    assert edge_map().min() >= 0


# ----------------------------------------------------------------------------- receptive field
def test_parse_layers():
    assert parse_layers("conv11/s4 pool3/s2") == [("conv", 11, 4, 1), ("pool", 3, 2, 1)]
    assert parse_layers("pool2/d2") == [("pool", 2, 2, 2)]
    with pytest.raises(ValueError, match="'conv0' is not understood"):
        parse_layers("conv0")
    with pytest.raises(ValueError, match="at least one layer"):
        parse_layers("  ")
    with pytest.raises(TypeError, match="must be a string"):
        parse_layers(["conv3"])


@pytest.mark.parametrize("name, size, jump", [
    ("three 3×3 convs (Chollet slides: 7×7)", 7, 1),
    ("3 convs with 2×2 max-pools (Chollet slides)", 18, 4),
    ("model2 (Unit 5 notes)", 12, 4),
    ("two 3×3 = one 5×5 (VGG)", 5, 1),
    ("one 5×5", 5, 1),
    ("AlexNet conv1 + pool (11/4, 3/2)", 19, 8),
    ("dilated 1, 2, 4 (Chollet slides)", 15, 1),
    ("one dilated 3×3, d=2 (holes)", 5, 1),
])
def test_presets(name, size, jump):
    layers = parse_layers(PRESETS[name])
    rec = receptive_field([(k, s, d) for _, k, s, d in layers])[-1]
    assert (rec.size, rec.jump) == (size, jump)


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4),
       st.integers(0, 5))
def test_dependency_cone_against_a_brute_force_backward_pass(stack, unit):
    """Gradient of one output unit of a torch stack of all-ones kernels is non-zero exactly on the cone."""
    layers = [("conv", k, s, d) for k, s, d in stack]
    rec = receptive_field(stack)[-1]
    n = (unit + 1) * rec.jump + rec.size + 3
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in stack:
        y = torch.nn.functional.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    if y.shape[-1] <= unit:
        return
    y[0, 0, unit].backward()
    touched = np.flatnonzero(x.grad[0, 0].numpy())
    cone = dependency_cone(layers, unit)[0]
    np.testing.assert_array_equal(cone, touched)
    assert cone.min() == unit * rec.jump and cone.max() == unit * rec.jump + rec.size - 1


def test_receptive_explorer():
    ex = ReceptiveFieldExplorer()
    assert "cnnlab-receptive-explorer" in ex.widget._dom_classes
    assert 'data-size="7"' in ex.rendered_html
    ex.preset.value = "one dilated 3×3, d=2 (holes)"
    assert ex.layers.value == "conv3/d2" and 'data-reads="3"' in ex.rendered_html
    ex.layers.value = "conv3 conv3"
    assert ex.preset.value == "custom" and ex.result.records[-1].size == 5
    ex.input_size.value = 8
    assert ex.unit.max == 3
    ex.unit.value = 3
    assert ex.result.cone[0].tolist() == [3, 4, 5, 6, 7]
    ex.input_size.value = 4
    assert ex.error is not None and "too short" in ex.error
    ex.layers.value = "conv3 nonsense"
    assert "'nonsense' is not understood" in ex.error


def _full_redraw(ex):
    ex._drawn = False          # the base class then clears the figure and calls draw()
    ex.update()
    return ex.rendered_image


def test_fast_refresh_draws_what_a_full_redraw_draws():
    cost = SeparableCostExplorer()
    cost.kernel.value = 5
    cost.c_out.value = 128
    fast = cost.rendered_image
    assert _full_redraw(cost) == fast
    pooling = PoolingExplorer(source="edge feature map (148×126)")
    pooling.shift.value = 1
    pooling.kernel.value = 3
    pooling.stride.value = 3
    fast = pooling.rendered_image
    assert pooling.result.output.shape == (49, 42)
    assert _full_redraw(pooling) == fast
    receptive = ReceptiveFieldExplorer(preset="model2 (Unit 5 notes)", input_size=28)
    receptive.unit.value = 2
    fast = receptive.rendered_image
    assert _full_redraw(receptive) == fast
