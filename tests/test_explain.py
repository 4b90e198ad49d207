"""cnnlab.nn.explain and cnnlab.nn.receptive: hooks, activations, filters, receptive fields, patches."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings, strategies as st  # noqa: E402
from torch import nn  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab.nn.explain import (  # noqa: E402
    activations, conv_filters, layer_features, match_filters, record_activations,
)
from cnnlab.nn.receptive import layer_receptive_field, top_activating_patches  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]

FAST = settings(max_examples=25, deadline=None)


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(6 * 5 * 5, 3),
    )


def n_hooks(model):
    return sum(len(m._forward_hooks) for m in model.modules())


# -- hooks --------------------------------------------------------------------------------
def test_record_activations_matches_manual_forward_and_removes_hooks():
    net = small_cnn()
    x = torch.rand(2, 1, 12, 12)
    with record_activations(net, ["0", "2", net[7]]) as acts:
        out = net.eval()(x)
        assert n_hooks(net) == 3
    assert n_hooks(net) == 0
    assert list(acts) == ["0", "2", "7"]
    torch.testing.assert_close(acts["0"], net[0](x))
    torch.testing.assert_close(acts["2"], net[2](net[1](net[0](x))))
    torch.testing.assert_close(acts["7"], out)
    assert not acts["0"].requires_grad


def test_hooks_removed_when_the_block_or_the_forward_raises():
    net = small_cnn()
    with pytest.raises(RuntimeError, match="boom"):
        with record_activations(net):
            net(torch.rand(1, 1, 12, 12))
            raise RuntimeError("boom")
    assert n_hooks(net) == 0
    with pytest.raises(RuntimeError):            # wrong input size: the forward itself fails
        with record_activations(net):
            net(torch.rand(1, 1, 30, 30))
    assert n_hooks(net) == 0
    with pytest.raises(ValueError, match="layer must be one of"):   # bad second layer: first hook undone
        with record_activations(net, ["0", "nope"]):
            pass
    assert n_hooks(net) == 0


def test_record_without_detach_keeps_the_graph():
    net = small_cnn()
    x = torch.rand(1, 1, 12, 12, requires_grad=True)
    with record_activations(net, "0", detach=False) as acts:
        net(x)
    (g,) = torch.autograd.grad(acts["0"].sum(), x)
    assert g.abs().sum() > 0


def test_activations_default_every_leaf_eval_mode_restored_grads_untouched():
    net = small_cnn().train()
    x = torch.rand(3, 1, 12, 12)
    a1, a2 = activations(net, x), activations(net, x)
    assert list(a1) == [str(i) for i in range(8)]
    torch.testing.assert_close(a1["5"], a2["5"])       # dropout was off
    torch.testing.assert_close(a1["5"], a1["4"])
    assert net.training and all(m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    assert n_hooks(net) == 0


def test_layer_features_batches_agree_and_flatten():
    net = small_cnn()
    x = torch.rand(7, 1, 12, 12)
    f1, f2 = layer_features(net, x, "3", batch_size=2), layer_features(net, x, "3")
    assert f1.shape == (7, 6 * 5 * 5)
    torch.testing.assert_close(f1, f2)
    torch.testing.assert_close(f2, net.eval()[:4](x).flatten(1))


def test_conv_filters_first_and_named():
    net = small_cnn()
    np.testing.assert_array_equal(conv_filters(net), net[0].weight.detach().numpy())
    assert conv_filters(net, "3").shape == (6, 4, 3, 3)
    with pytest.raises(ValueError, match="must be a Conv2d, got ReLU"):
        conv_filters(net, "1")
    with pytest.raises(ValueError, match="no Conv2d"):
        conv_filters(nn.Sequential(nn.Flatten()))


def test_match_filters_finds_scaled_sign_flipped_copies():
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(6, 5, 5))
    best, sim = match_filters(np.stack([-3 * bank[4], 0.5 * bank[1]])[:, None], bank)
    assert best.tolist() == [4, 1]
    np.testing.assert_allclose(sim, 1.0)
    _, sim = match_filters(rng.normal(size=(20, 5, 5)), bank)
    assert ((0 <= sim) & (sim < 1)).all()
    with pytest.raises(ValueError, match="must share kH, kW"):
        match_filters(np.ones((2, 3, 3)), bank)
    with pytest.raises(ValueError, match="all-zero"):
        match_filters(np.zeros((1, 5, 5)), bank)


# -- receptive fields ---------------------------------------------------------------------
def test_receptive_field_of_model2_by_hand():
    from cnnlab.nn import models
    net = models.model2()
    sizes = [layer_receptive_field(net, str(i), (1, 28, 28)).size[0] for i in range(6)]
    assert sizes == [5, 5, 6, 10, 10, 12]      # conv5, relu, pool2, conv3, relu, pool2
    last = layer_receptive_field(net, "5", (1, 28, 28))
    assert last.jump == (4, 4) and last.start == (0, 0) and last.output_shape == (16, 5, 5)
    # the numpy core agrees on size and jump
    core = cnnlab.receptive_field([(5, 1), (2, 2), (3, 1), (2, 2)])
    assert (core[-1].size, core[-1].jump) == (12, 4)
    with pytest.raises(ValueError, match="cannot trace the receptive field through layer '6'"):
        layer_receptive_field(net, "7", (1, 28, 28))


@st.composite
def conv_chains(draw):
    layers, spec, size = [], [], draw(st.integers(12, 20))
    c = 1
    for _ in range(draw(st.integers(1, 3))):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        d = draw(st.integers(1, 2))
        p = draw(st.integers(0, (k - 1) * d // 2 + 1))
        if draw(st.booleans()):
            layers.append(nn.Conv2d(c, 2, k, stride=s, padding=p, dilation=d))
            c = 2
        else:
            p = min(p, k // 2)
            layers.append(nn.AvgPool2d(k, stride=s, padding=p))
            d = 1
        spec.append((k, s, d, p))
        size = (size + 2 * p - d * (k - 1) - 1) // s + 1
        if size < 1:
            return None
    return layers, spec


@FAST
@given(conv_chains(), st.data())
def test_receptive_field_matches_gradient_support(chain, data):
    """The box of a unit contains exactly the pixels its gradient can reach."""
    if chain is None:
        return
    layers, spec = chain
    net = nn.Sequential(*layers).double()
    for m in net:
        if isinstance(m, nn.Conv2d):
            nn.init.uniform_(m.weight, 0.5, 1.0)
    H = W = 20
    rf = layer_receptive_field(net, str(len(net) - 1), (1, H, W))
    core = cnnlab.receptive_field([(k, s, d) for k, s, d, _ in spec])[-1]
    assert rf.size == (core.size, core.size) and rf.jump == (core.jump, core.jump)
    _, oh, ow = rf.output_shape
    i, j = data.draw(st.integers(0, oh - 1)), data.draw(st.integers(0, ow - 1))
    x = torch.ones(1, 1, H, W, dtype=torch.float64, requires_grad=True)
    net(x)[0, 0, i, j].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    top, left, bottom, right = rf.box(i, j)
    if rows.size == 0:                     # a unit that sees only padding (e.g. a 1x1 conv with padding 1)
        assert top < 0 or left < 0 or bottom > H or right > W
        return
    assert top <= rows.min() and rows.max() < bottom and left <= cols.min() and cols.max() < right
    if top >= 0 and left >= 0 and bottom <= H and right <= W:   # fully inside: the extremes are hit
        assert (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1) == (top, bottom, left, right)


def test_receptive_field_same_padding_and_maxpool_start():
    net = nn.Sequential(nn.Conv2d(1, 1, 5, padding="same"), nn.MaxPool2d(3, stride=2, padding=1))
    rf = layer_receptive_field(net, "1", (1, 9, 9))
    assert rf.size == (7, 7) and rf.jump == (2, 2) and rf.start == (-3, -3)
    assert rf.box(2, 1) == (1, -1, 8, 6)


def test_receptive_field_errors():
    net = small_cnn()
    with pytest.raises(TypeError, match="input_shape must be a"):
        layer_receptive_field(net, "0", (12, 12))
    with pytest.raises(ValueError, match="layer must be one of '0', '1'"):
        layer_receptive_field(net, "conv9", (1, 12, 12))
    with pytest.raises(ValueError, match="cannot trace"):
        layer_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)), "1", (1, 8, 8))


# -- maximally activating patches --------------------------------------------------------
def test_top_patches_agree_with_brute_force():
    net = small_cnn(1).eval()
    torch.manual_seed(1)
    x = torch.rand(40, 1, 12, 12)
    res = top_activating_patches(net, x, "4", 2, k=5, batch_size=7)
    with torch.no_grad():
        fmap = net[:5](x)[:, 2]
    best = fmap.flatten(1).max(1).values
    torch.testing.assert_close(res.scores, best.topk(5).values)
    assert res.indices.tolist() == best.topk(5).indices.tolist()
    assert res.patches.shape == (5, 1, 8, 8)          # 3 -> pool 4 -> conv3 jump 2: 8
    for n in range(5):
        img, (i, j) = int(res.indices[n]), res.positions[n].tolist()
        assert float(fmap[img, i, j]) == pytest.approx(float(res.scores[n]))
        t, l, b, r = res.boxes[n].tolist()
        assert (t, l) == (-2 + 2 * i, -2 + 2 * j) and (b - t, r - l) == (8, 8)
        inside = x[img, 0, max(t, 0):b, max(l, 0):r]
        torch.testing.assert_close(res.patches[n, 0, max(t, 0) - t:, max(l, 0) - l:][: inside.shape[0], : inside.shape[1]], inside)
        if t < 0:
            assert (res.patches[n, 0, :-t] == x.min()).all()   # padding shows as the fill value


def test_top_patches_errors():
    net, x = small_cnn(), torch.rand(4, 1, 12, 12)
    with pytest.raises(ValueError, match="channel must be below 4"):
        top_activating_patches(net, x, "0", 4)
    with pytest.raises(ValueError, match="k must be at most the number of images"):
        top_activating_patches(net, x, "0", 0, k=5)
    with pytest.raises(ValueError, match="cannot trace"):
        top_activating_patches(net, x, "7", 0)
    with pytest.raises(TypeError, match="must hold floats"):
        top_activating_patches(net, (x * 255).to(torch.uint8), "0", 0)
    with pytest.raises(ValueError, match="use x\\[None\\]"):
        top_activating_patches(net, x[0], "0", 0)


def test_layer_argument_errors():
    net, x = small_cnn(), torch.rand(2, 1, 12, 12)
    with pytest.raises(TypeError, match="layer must be a layer name"):
        layer_features(net, x, 2.5)
    with pytest.raises(ValueError, match="is not a module of this model"):
        layer_features(net, x, nn.ReLU())
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        activations(lambda t: t, x)
    with pytest.raises(ValueError, match="finite"):
        activations(net, x * float("nan"))
