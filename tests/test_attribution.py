"""cnnlab.nn.attribution: saliency, Grad-CAM and FGSM, checked against captum and by hand."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
captum_attr = pytest.importorskip("captum.attr")
captum_robust = pytest.importorskip("captum.robust")
from hypothesis import given, settings, strategies as st  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnlab.nn.attribution import fgsm, fgsm_accuracy, fgsm_min_epsilon, grad_cam, saliency  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]

FAST = settings(max_examples=15, deadline=None)


def cnn(seed, channels=1, classes=4, size=10):
    torch.manual_seed(seed)
    side = (size - 2) // 2
    return nn.Sequential(
        nn.Conv2d(channels, 5, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(5, 6, 3, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(6 * side * side, classes),
    ).double()


@pytest.fixture(scope="module")
def bars():
    """A trained model on a 2-class task (vertical vs horizontal bar) and a test batch."""
    g = torch.Generator().manual_seed(0)

    def make(n):
        y = torch.randint(0, 2, (n,), generator=g)
        x = 0.3 * torch.rand(n, 1, 10, 10, generator=g)
        pos = torch.randint(2, 8, (n,), generator=g)
        for k in range(n):
            if y[k] == 0:
                x[k, 0, :, pos[k]] += 0.6
            else:
                x[k, 0, pos[k], :] += 0.6
        return x.double().clamp(0, 1), y

    model = cnn(3, classes=2)
    xtr, ytr = make(256)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(60):
        opt.zero_grad()
        F.cross_entropy(model(xtr), ytr).backward()
        opt.step()
    model.zero_grad(set_to_none=True)
    return model.eval(), *make(200)


# -- saliency -----------------------------------------------------------------------------
@FAST
@given(st.integers(0, 10**6), st.integers(1, 3), st.integers(1, 2), st.booleans())
def test_saliency_matches_captum(seed, n, channels, absolute):
    model = cnn(seed % 100, channels)
    x = torch.rand(n, channels, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    target = [int(t) for t in np.random.default_rng(seed).integers(0, 4, n)]
    ours = saliency(model, x, target, abs=absolute)
    ref = captum_attr.Saliency(model).attribute(x, target=target, abs=absolute)
    torch.testing.assert_close(ours, ref)


def test_saliency_of_a_linear_model_is_its_weight_row():
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 3)).double()
    x = torch.rand(2, 1, 3, 3, dtype=torch.float64)
    s = saliency(model, x, [2, 0], abs=False)
    torch.testing.assert_close(s[0].flatten(), model[1].weight[2].detach())
    torch.testing.assert_close(s[1].flatten(), model[1].weight[0].detach())


# -- Grad-CAM -----------------------------------------------------------------------------
@FAST
@given(st.integers(0, 10**6), st.sampled_from(["3", "4"]), st.booleans(), st.sampled_from(["bilinear", "nearest", None]))
def test_grad_cam_matches_captum(seed, layer, relu, upsample):
    model = cnn(seed % 100)
    x = torch.rand(3, 1, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    target = seed % 4
    ours = grad_cam(model, x, target, layer, relu=relu, upsample=upsample)
    ref = captum_attr.LayerGradCam(model, model[int(layer)]).attribute(x, target=target, relu_attributions=relu)
    if upsample is not None:
        ref = captum_attr.LayerAttribution.interpolate(ref, (10, 10), interpolate_mode=upsample)
    torch.testing.assert_close(ours, ref[:, 0])


def test_grad_cam_formula_by_hand():
    """α_k = mean of ∂a^c/∂A^k over the map, L = ReLU(Σ α_k A^k), from the seed."""
    model = cnn(7)
    x = torch.rand(1, 1, 10, 10, dtype=torch.float64)
    A = model[:4](x).detach().requires_grad_(True)
    a_c = model[4:](A)[0, 2]
    (dA,) = torch.autograd.grad(a_c, A)
    alpha = dA[0].mean(dim=(1, 2))
    L = torch.relu((alpha[:, None, None] * A[0].detach()).sum(0))
    torch.testing.assert_close(grad_cam(model, x, 2, "3", upsample=None)[0], L)
    torch.testing.assert_close(grad_cam(model, x, 2, model[3], upsample=None, relu=False)[0],
                               (alpha[:, None, None] * A[0].detach()).sum(0))


def line_detector_model():
    """Class 0 = 'there is a horizontal line', class 1 = 'there is a vertical line'.

    Two fixed 3x3 line detectors, ReLU, then each logit sums its own detector's map.
    """
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    line = torch.tensor([[-1.0, -1, -1], [2, 2, 2], [-1, -1, -1]])
    head = nn.Linear(2 * 12 * 12, 2, bias=False)
    with torch.no_grad():
        conv.weight[0, 0], conv.weight[1, 0] = line, line.T
        head.weight.zero_()
        head.weight[0, : 144] = 1.0
        head.weight[1, 144:] = 1.0
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), head)


@FAST
@given(st.integers(2, 9), st.integers(2, 9), st.integers(2, 9), st.integers(2, 9))
def test_grad_cam_highlights_the_region_each_logit_depends_on(hr, hc, vr, vc):
    """A short horizontal and a short vertical line: each class's map peaks on its own line."""
    if abs(hr - vr) < 4 and abs(hc - vc) < 4:
        return                                     # the two lines would touch
    x = torch.zeros(1, 1, 12, 12)
    x[0, 0, hr, hc - 1:hc + 2] = 1.0               # horizontal segment centred at (hr, hc)
    x[0, 0, vr - 1:vr + 2, vc] = 1.0               # vertical segment centred at (vr, vc)
    model = line_detector_model()
    for cls, (r, c) in ((0, (hr, hc)), (1, (vr, vc))):
        cam = grad_cam(model, x, cls, "1")[0]
        assert cam.max() > 0
        peak_r, peak_c = divmod(int(cam.argmax()), 12)
        assert abs(peak_r - r) <= 1 and abs(peak_c - c) <= 1
        other = (vr, vc) if cls == 0 else (hr, hc)
        assert cam[other] < 0.5 * cam.max()


def test_saliency_is_zero_outside_the_region_the_logit_reads():
    torch.manual_seed(0)
    head = nn.Linear(64, 2)
    with torch.no_grad():
        head.weight.view(2, 8, 8)[1, :4, :] = 0.0      # logit 1 reads rows 4..7 only
    model = nn.Sequential(nn.Flatten(), head)
    s = saliency(model, torch.rand(3, 1, 8, 8), 1)
    assert (s[:, 0, :4] == 0).all() and (s[:, 0, 4:] > 0).all()


def test_grad_cam_errors():
    model = cnn(0)
    x = torch.rand(1, 1, 10, 10, dtype=torch.float64)
    with pytest.raises(ValueError, match="Grad-CAM needs a convolutional"):
        grad_cam(model, x, 0, "5")
    with pytest.raises(ValueError, match="upsample must be one of 'bilinear', 'nearest', None, got 'cubic'"):
        grad_cam(model, x, 0, "3", upsample="cubic")
    with pytest.raises(ValueError, match="target must be a class index below 4, got \\[4\\]"):
        grad_cam(model, x, 4, "3")
    with pytest.raises(ValueError, match="target must hold one class per image \\(1\\), got 2"):
        saliency(model, x, [0, 1])
    with pytest.raises(TypeError, match="target must be an int or a 1-D sequence of ints"):
        saliency(model, x, 0.5)


# -- FGSM ---------------------------------------------------------------------------------
@FAST
@given(st.integers(0, 10**6), st.floats(0.0, 0.3), st.booleans(), st.sampled_from([(0.0, 1.0), None]))
def test_fgsm_matches_captum(seed, eps, targeted, clip):
    model = cnn(seed % 100)
    x = torch.rand(4, 1, 10, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    labels = [int(t) for t in np.random.default_rng(seed).integers(0, 4, 4)]
    ours = fgsm(model, x, labels, eps, clip=clip, targeted=targeted)
    lo, hi = clip if clip is not None else (float("-inf"), float("inf"))
    attack = captum_robust.FGSM(model, loss_func=lambda out, t: F.cross_entropy(out, t, reduction="none"),
                                lower_bound=lo, upper_bound=hi)
    attack.zero_thresh = 0.0      # captum leaves pixels with |grad| < 1e-6 alone; the formula does not
    ref = attack.perturb(x, eps, torch.tensor(labels), targeted=targeted)
    torch.testing.assert_close(ours, ref)


def test_fgsm_epsilon_zero_changes_nothing_and_larger_epsilon_hurts(bars):
    model, x, y = bars
    torch.testing.assert_close(fgsm(model, x, y, 0.0), x, rtol=0, atol=0)
    acc = fgsm_accuracy(model, x, y, [0.0, 0.05, 0.1, 0.2], batch_size=64)
    clean = float((model(x).argmax(1) == y).double().mean())
    assert acc[0] == pytest.approx(clean) and clean > 0.9
    assert acc[-1] < acc[0] - 0.3
    assert (np.diff(acc) <= 1e-12).all()     # (not a law: at large ε accuracy can climb back)
    for eps in (0.05, 0.2):          # fgsm_accuracy agrees with fgsm itself
        assert fgsm_accuracy(model, x, y, [eps])[0] == pytest.approx(
            float((model(fgsm(model, x, y, eps)).argmax(1) == y).double().mean()))
    assert all(p.grad is None for p in model.parameters())


def test_fgsm_min_epsilon_is_the_first_flip(bars):
    model, x, y = bars
    grid = np.linspace(0, 0.5, 11)
    first = fgsm_min_epsilon(model, x, y, grid[::-1], batch_size=64)   # grid order does not matter
    wrong = np.stack([(model(fgsm(model, x, y, float(e))).argmax(1) != y).numpy() for e in grid], axis=1)
    expected = np.where(wrong.any(1), grid[wrong.argmax(1)], np.inf)
    np.testing.assert_array_equal(first, expected)
    assert np.isfinite(first).any() and np.isinf(first).any()


def test_fgsm_changes_each_pixel_by_epsilon_at_most_and_respects_clip():
    model = cnn(1)
    x = torch.rand(3, 1, 10, 10, dtype=torch.float64)
    adv = fgsm(model, x, [0, 1, 2], 0.1)
    assert (adv - x).abs().max() <= 0.1 + 1e-12
    assert adv.min() >= 0 and adv.max() <= 1
    assert fgsm(model, x, 0, 5.0, clip=None).abs().max() > 1


def test_fgsm_errors():
    model, x = cnn(0), torch.rand(1, 1, 10, 10, dtype=torch.float64)
    with pytest.raises(ValueError, match="epsilon must be >= 0.0, got -0.1"):
        fgsm(model, x, 0, -0.1)
    with pytest.raises(ValueError, match="clip must be a \\(low, high\\) pair with low < high"):
        fgsm(model, x, 0, 0.1, clip=(1, 0))
    with pytest.raises(TypeError, match="clip must be None or a \\(low, high\\) pair"):
        fgsm(model, x, 0, 0.1, clip=1.0)
    with pytest.raises(ValueError, match="labels must be a class index below 4"):
        fgsm(model, x, 9, 0.1)
    with pytest.raises(ValueError, match="epsilons must be a non-empty sequence"):
        fgsm_accuracy(model, x, [0], [])
    with pytest.raises(ValueError, match="epsilons must be a non-empty sequence"):
        fgsm_min_epsilon(model, x, [0], [0.1, -1])
    with pytest.raises(TypeError, match="loss must be callable"):
        fgsm(model, x, 0, 0.1, loss="mse")
