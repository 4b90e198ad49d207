"""cnnlab.nn.localization: synthetic canvases, the seed's loss, boxes and IoU, the small net."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings, strategies as st  # noqa: E402

from cnnlab.nn.localization import (  # noqa: E402
    box_iou, boxes_to_corners, decode_localisation, evaluate_localisation, fit_localisation, localisation_loss,
    localisation_net, make_localisation_data,
)

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def digits():
    from cnnlab.nn.data import load_subset
    d = load_subset()
    return d.images, d.labels


# -- the loss -----------------------------------------------------------------------------
def seed_loss(y_hat, y):
    """Seed 003, written as literally as possible."""
    if y[0] == 0:
        return (y_hat[0] - y[0]) ** 2
    return sum((y_hat[i] - y[i]) ** 2 for i in range(7))


def test_loss_hand_cases():
    nothing = torch.tensor([0.0, 5, -5, 9, 9, 1, 1])          # don't-care values everywhere
    assert float(localisation_loss(torch.tensor([0.3, 0, 0, 0, 0, 0, 0]), nothing)) == pytest.approx(0.09)
    assert float(localisation_loss(torch.tensor([0.0, 1, 2, 3, 4, 5, 6]), nothing)) == 0.0
    nan_dont_care = torch.tensor([0.0, *[float("nan")] * 6])
    assert float(localisation_loss(torch.tensor([0.5, 0, 0, 0, 0, 0, 0]), nan_dont_care)) == pytest.approx(0.25)
    bird = torch.tensor([1.0, 0.4, 0.6, 0.2, 0.3, 1, 0])
    pred = torch.tensor([0.8, 0.5, 0.6, 0.1, 0.3, 0.7, 0.2])
    # 0.04 + 0.01 + 0 + 0.01 + 0 + 0.09 + 0.04
    assert float(localisation_loss(pred, bird)) == pytest.approx(0.19)
    both = localisation_loss(torch.stack([pred, pred]), torch.stack([bird, nothing]), reduction="none")
    torch.testing.assert_close(both, torch.tensor([0.19, 0.64]))
    assert float(localisation_loss(torch.stack([pred, pred]), torch.stack([bird, nothing]), reduction="sum")) == pytest.approx(0.83)
    assert float(localisation_loss(torch.stack([pred, pred]), torch.stack([bird, nothing]))) == pytest.approx(0.415)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 10**6))
def test_loss_equals_the_seed_formula(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 7))
    y[:, 0] = rng.integers(0, 2, n)
    y_hat = rng.normal(size=(n, 7))
    per = localisation_loss(torch.from_numpy(y_hat), torch.from_numpy(y), reduction="none").numpy()
    np.testing.assert_allclose(per, [seed_loss(a, b) for a, b in zip(y_hat, y)])


def test_loss_gradient_ignores_dont_care_entries():
    y_hat = torch.rand(1, 7, requires_grad=True)
    localisation_loss(y_hat, torch.tensor([[0.0, 1, 1, 1, 1, 1, 1]])).backward()
    assert y_hat.grad[0, 0] != 0 and (y_hat.grad[0, 1:] == 0).all()


def test_loss_errors():
    ok = torch.zeros(2, 7)
    with pytest.raises(ValueError, match="p_c\\) must be 0 or 1"):
        localisation_loss(ok, torch.full((2, 7), 0.5))
    with pytest.raises(ValueError, match="must have shape \\(N, 7\\)"):
        localisation_loss(torch.zeros(2, 5), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="same shape"):
        localisation_loss(torch.zeros(3, 7), ok)
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', got 'max'"):
        localisation_loss(ok, ok, reduction="max")
    with pytest.raises(TypeError, match="must be a tensor of shape"):
        localisation_loss([0] * 7, ok)


# -- boxes ----------------------------------------------------------------------------------
def test_iou_hand_cases():
    a = torch.tensor([[0.5, 0.5, 0.2, 0.2]] * 4)
    b = torch.tensor([[0.5, 0.5, 0.2, 0.2],       # same: 1
                      [0.6, 0.5, 0.2, 0.2],       # shifted by half a width: 1/3
                      [0.9, 0.9, 0.2, 0.2],       # disjoint: 0
                      [0.5, 0.5, 0.1, 0.1]])      # inside, quarter area: 1/4
    torch.testing.assert_close(box_iou(a, b), torch.tensor([1.0, 1 / 3, 0.0, 0.25]))
    assert float(box_iou(torch.zeros(1, 4), torch.zeros(1, 4))[0]) == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_iou_matches_pixel_counting(seed):
    rng = np.random.default_rng(seed)
    # boxes on a 40x40 grid with integer corners: IoU by counting covered pixels
    t, l = rng.integers(0, 30, 2)
    h, w = rng.integers(1, 11, 2)
    t2, l2 = rng.integers(0, 30, 2)
    h2, w2 = rng.integers(1, 11, 2)
    A, B = np.zeros((40, 40), bool), np.zeros((40, 40), bool)
    A[t:t + h, l:l + w] = True
    B[t2:t2 + h2, l2:l2 + w2] = True
    ref = (A & B).sum() / (A | B).sum()
    box = lambda t, l, h, w: [(l + w / 2) / 40, (t + h / 2) / 40, h / 40, w / 40]  # noqa: E731
    got = box_iou(torch.tensor([box(t, l, h, w)]), torch.tensor([box(t2, l2, h2, w2)]))
    assert float(got[0]) == pytest.approx(ref, abs=1e-5)
    assert float(box_iou(torch.tensor([box(t2, l2, h2, w2)]), torch.tensor([box(t, l, h, w)]))[0]) == pytest.approx(ref, abs=1e-5)


def test_corners_and_decode():
    assert boxes_to_corners(torch.tensor([0.5, 0.25, 0.5, 0.1]), 48).tolist() == pytest.approx([21.6, 0.0, 26.4, 24.0])
    present, boxes, cls = decode_localisation(torch.tensor([[0.4, .1, .2, .3, .4, .9, .1], [0.6, .1, .2, .3, .4, .2, .8]]))
    assert present.tolist() == [False, True] and cls.tolist() == [0, 1]
    torch.testing.assert_close(boxes[0], torch.tensor([.1, .2, .3, .4]))
    with pytest.raises(ValueError, match="boxes must have shape"):
        boxes_to_corners(torch.zeros(3))
    with pytest.raises(ValueError, match="a and b must have the same shape"):
        box_iou(torch.zeros(2, 4), torch.zeros(3, 4))


# -- the data -------------------------------------------------------------------------------
def test_dataset_targets_describe_the_canvases(digits):
    images, labels = digits
    data = make_localisation_data(images, labels, classes=(3, 7), n=300, canvas=48, p_empty=0.3, seed=1)
    x, y = data.images, data.targets
    assert x.shape == (300, 1, 48, 48) and x.dtype == torch.float32 and y.shape == (300, 7)
    empty = y[:, 0] == 0
    assert 0.2 < float(empty.float().mean()) < 0.4
    assert (x[empty] == 0).all() and (data.digits[empty.numpy()] == -1).all()
    assert (y[empty, 1:] == 0).all()
    full = ~empty
    assert set(data.digits[full.numpy()].tolist()) == {3, 7}
    torch.testing.assert_close(y[full, 5], torch.from_numpy((data.digits[full.numpy()] == 3).astype(np.float32)))
    torch.testing.assert_close(y[full, 5] + y[full, 6], torch.ones(int(full.sum())))
    # the box is the tight box of the ink: nothing bright outside, ink on all four edges
    corners = boxes_to_corners(y[:, 1:5], 48).round().long()
    for k in np.flatnonzero(full.numpy())[:60]:
        l, t, r, b = corners[k].tolist()
        inside = torch.zeros(48, 48, dtype=torch.bool)
        inside[t:b, l:r] = True
        ink = x[k, 0] > 0.2
        assert not (ink & ~inside).any()
        assert ink[t].any() and ink[b - 1].any() and ink[:, l].any() and ink[:, r - 1].any()
    heights = y[full, 3] * 48
    assert heights.min() >= 5 and heights.max() <= 40


def test_partial_digits_are_cut_by_the_edge_and_labelled_empty(digits):
    images, labels = digits
    data = make_localisation_data(images, labels, classes=(3, 7), n=400, canvas=40, size_range=(14, 30),
                                  p_empty=0.2, p_partial=0.3, seed=3)
    empty = (data.targets[:, 0] == 0).numpy()
    blank = (data.images.flatten(1).amax(1) == 0).numpy()
    partial = empty & ~blank
    assert 0.2 < blank.mean() < 0.3 and 0.25 < partial.mean() < 0.35
    assert (data.targets[partial] == 0).all() and (data.digits[partial] == -1).all()
    ink = data.images[partial, 0] > 0.2
    touches = ink[:, 0].any(1) | ink[:, -1].any(1) | ink[:, :, 0].any(1) | ink[:, :, -1].any(1)
    assert touches.all()                                                     # every one is cut by an edge
    whole = ~empty
    corners = boxes_to_corners(data.targets[whole, 1:5], 40)
    assert (corners >= -1e-4).all() and (corners <= 40 + 1e-4).all()        # real objects stay inside
    with pytest.raises(ValueError, match="p_empty \\+ p_partial must be below 1"):
        make_localisation_data(images, labels, p_empty=0.5, p_partial=0.5)


def test_dataset_is_seeded_and_validates(digits):
    images, labels = digits
    a = make_localisation_data(images[:1000], labels[:1000], classes=(0, 1), n=20, seed=5)
    b = make_localisation_data(images[:1000], labels[:1000], classes=(0, 1), n=20, seed=5)
    torch.testing.assert_close(a.images, b.images)
    noisy = make_localisation_data(images[:1000], labels[:1000], classes=(0, 1), n=20, seed=5, noise=0.1)
    assert noisy.images.min() >= 0 and noisy.images.max() <= 1 and not torch.equal(noisy.images, a.images)
    with pytest.raises(ValueError, match="classes: no image has label 9"):
        make_localisation_data(images[:1000], labels[:1000], classes=(0, 9))
    with pytest.raises(ValueError, match="classes must be two different labels"):
        make_localisation_data(images, labels, classes=(3, 3))
    with pytest.raises(ValueError, match="size_range must satisfy"):
        make_localisation_data(images, labels, canvas=32, size_range=(16, 40))
    with pytest.raises(ValueError, match="p_empty must be in \\[0, 1\\)"):
        make_localisation_data(images, labels, p_empty=1.0)
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        make_localisation_data(images, labels[:10])


# -- the network ----------------------------------------------------------------------------
def test_net_outputs_valid_predictions_and_validates():
    net = localisation_net(48)
    out = net(torch.rand(3, 1, 48, 48))
    assert out.shape == (3, 7) and (out >= 0).all() and (out <= 1).all()
    torch.testing.assert_close(out[:, 5] + out[:, 6], torch.ones(3))
    with pytest.raises(ValueError, match="canvas must be a multiple of 8"):
        localisation_net(50)


def test_fit_localisation_lowers_the_loss_and_evaluation_reads_it(digits):
    images, labels = digits
    data = make_localisation_data(images, labels, classes=(3, 7), n=128, canvas=32, size_range=(12, 28), seed=2)
    torch.manual_seed(0)
    net = localisation_net(32, width=8)
    before = evaluate_localisation(net, data.images, data.targets)
    h = fit_localisation(net, data, (data.images, data.targets), epochs=8, batch_size=32, lr=3e-3)
    assert len(h.loss) == len(h.val) == len(h.time_s) == 8 and not net.training
    assert h.val[-1].loss < 0.7 * before.loss and h.loss[-1] < h.loss[0]
    after = evaluate_localisation(net, data.images, data.targets, batch_size=100)
    assert after == h.val[-1]
    assert 0 <= after.mean_iou <= 1 and 0 <= after.iou_50 <= 1
    with pytest.raises(ValueError, match="targets must have one row per image"):
        evaluate_localisation(net, data.images[:3], data.targets)
    with pytest.raises(TypeError, match="train must be LocalisationData or an \\(images, targets\\) pair"):
        fit_localisation(net, data.images)
    with pytest.raises(ValueError, match="train: images and targets must have the same length"):
        fit_localisation(net, (data.images[:5], data.targets))


def _old_fit_localisation(model, x, y, val, *, epochs, lr, batch_size, seed):
    """The loop fit_localisation had before it called cnnlab.nn.fit (the oracle for parity)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses, scores = [], []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(x.shape[0], generator=gen)
        total = 0.0
        for s in range(0, x.shape[0], batch_size):
            idx = order[s:s + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = localisation_loss(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / x.shape[0])
        scores.append(evaluate_localisation(model, *val))
    model.eval()
    return losses, scores


@pytest.mark.parametrize("seed, batch_size", [(0, 20), (3, 32)])
def test_fit_localisation_is_fit_with_the_same_numbers_as_its_old_loop(digits, seed, batch_size):
    """One training loop: fit_localisation = fit(loss=localisation_loss, metric=...) reproduces
    the history and the weights of the loop it used to have, exactly."""
    images, labels = digits
    data = make_localisation_data(images, labels, classes=(3, 7), n=96, canvas=32, size_range=(12, 28), seed=2)
    val = make_localisation_data(images, labels, classes=(3, 7), n=40, canvas=32, size_range=(12, 28), seed=5)
    torch.manual_seed(0)
    a = localisation_net(32, width=4)
    b = localisation_net(32, width=4)
    b.load_state_dict(a.state_dict())
    h = fit_localisation(a, data, (val.images, val.targets), epochs=3, batch_size=batch_size, lr=3e-3, seed=seed)
    losses, scores = _old_fit_localisation(b, data.images, data.targets, (val.images, val.targets), epochs=3,
                                           lr=3e-3, batch_size=batch_size, seed=seed)
    assert h.loss == losses and h.val == scores
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert len(h.time_s) == 3 and h.time_s == sorted(h.time_s) and not a.training


def test_fit_localisation_without_val_and_its_errors(digits):
    images, labels = digits
    data = make_localisation_data(images, labels, classes=(3, 7), n=32, canvas=24, size_range=(10, 20), seed=1)
    net = localisation_net(24, width=4)
    h = fit_localisation(net, data, epochs=2, lr=np.float32(4e-3), batch_size=16)
    assert len(h.loss) == len(h.time_s) == 2 and h.val == []
    broken = localisation_net(24, width=4)
    with torch.no_grad():
        broken[-2].weight.fill_(float("inf"))                  # weights no longer finite: NaN losses
    with pytest.raises(ValueError, match=r"training diverged \(the loss is NaN or infinite\): lr = 0.004 is too"):
        fit_localisation(broken, data, data, epochs=3)
    for lr, exc in ((float("inf"), ValueError), (0, ValueError), (-1e-3, ValueError), (True, TypeError),
                    ("0.01", TypeError)):
        with pytest.raises(exc, match="lr must be"):
            fit_localisation(net, data, lr=lr)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit_localisation(lambda t: t, data)
