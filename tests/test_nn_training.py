"""fit / evaluate / predict / confusion_matrix."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnnlab.nn import (  # noqa: E402
    History, confusion_matrix, default_device, evaluate, fit, load_mnist_split, model2, predict, predict_proba,
    set_seed, to_tensors,
)

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def digits():
    s = load_mnist_split(1000, 300, source="subset", seed=3)
    return s.train, s.val


def _tiny(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    x = rng.random((n, 1, 28, 28), dtype=np.float32) * 0.1
    x[np.arange(n), 0, 2 * y + 4, 4:24] = 1.0  # a bar whose row encodes the class
    return x, y


def test_fit_lowers_the_loss_on_a_tiny_run():
    set_seed(0)
    x, y = _tiny()
    h = fit(model2(), (x, y), (x, y), epochs=8, batch_size=10, lr=0.005, progress=False)
    assert isinstance(h, History) and len(h) == 8 and h.epoch == list(range(1, 9))
    assert h.loss[-1] < 0.5 * h.loss[0]
    assert h.val_loss[-1] < h.val_loss[0]
    assert all(0 <= a <= 1 for a in h.accuracy + h.val_accuracy)
    assert h.time_s == sorted(h.time_s)
    assert h.params["batch_size"] == 10 and h.params["n_train"] == 40 and h.params["device"] == "cpu"
    assert set(h.as_dict()) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time_s"}


def test_fit_learns_real_digits(digits):
    train, val = digits
    set_seed(0)
    m = model2()
    h = fit(m, train, val, epochs=3, batch_size=100, lr=0.005, progress=False)
    assert h.val_accuracy[-1] > 0.8 and h.val_accuracy[-1] > h.val_accuracy[0]   # 0.84 for this seed
    ev = evaluate(m, val)
    assert ev.accuracy == pytest.approx(h.val_accuracy[-1])
    assert ev.loss == pytest.approx(h.val_loss[-1], rel=1e-5)
    assert not m.training


def test_fit_is_reproducible():
    x, y = _tiny()
    runs = []
    for _ in range(2):
        set_seed(5)
        runs.append(fit(model2(), (x, y), epochs=3, batch_size=8, progress=False, seed=5).loss)
    assert runs[0] == runs[1]
    set_seed(5)
    other = fit(model2(), (x, y), epochs=3, batch_size=8, progress=False, seed=6).loss
    assert other != runs[0]


def test_fit_matches_a_hand_written_loop():
    """Same seed, same batches, same optimiser: identical weights afterwards."""
    x, y = _tiny(30)
    set_seed(1)
    a = model2()
    b = model2()
    b.load_state_dict(a.state_dict())
    c = model2()
    c.load_state_dict(a.state_dict())
    h = fit(a, (x, y), epochs=2, batch_size=7, lr=0.01, progress=False, seed=11, channels_last=False)
    fit(c, (x, y), epochs=2, batch_size=7, lr=0.01, progress=False, seed=11, channels_last=True)
    opt = torch.optim.Adam(b.parameters(), lr=0.01)
    xt, yt = to_tensors(x, y)
    torch.manual_seed(11)
    gen = torch.Generator().manual_seed(11)
    losses, accuracies = [], []
    for _ in range(2):
        order = torch.randperm(30, generator=gen)
        total, correct = 0.0, 0
        for start in range(0, 30, 7):
            idx = order[start:start + 7]
            opt.zero_grad()
            scores = b(xt[idx])
            loss = nn.functional.cross_entropy(scores, yt[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((scores.argmax(1) == yt[idx]).sum())
        losses.append(total / 30)
        accuracies.append(correct / 30)
    assert h.loss == losses and h.accuracy == accuracies     # the epoch means, summed in float64
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb)
        torch.testing.assert_close(pc, pb, rtol=1e-4, atol=1e-4)   # channels-last: same maths, other rounding


def test_fit_accepts_datasets_loaders_and_optimisers():
    x, y = _tiny()
    xt, yt = to_tensors(x, y)
    ds = torch.utils.data.TensorDataset(xt, yt)
    loader = torch.utils.data.DataLoader(ds, batch_size=16)
    m = model2()
    assert len(fit(m, ds, loader, epochs=1, batch_size=16, progress=False)) == 1
    assert len(fit(m, (x, y), optimizer="sgd", lr=0.01, epochs=1, progress=False)) == 1
    assert len(fit(m, (x, y), optimizer="rmsprop", lr=0.001, epochs=1, progress=False)) == 1
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    h = fit(m, (x, y), optimizer=opt, epochs=1, progress=False)
    assert h.params["optimizer"] == "SGD"
    h = fit(m, (x, y), optimizer=lambda p: torch.optim.Adam(p, lr=1e-3), epochs=1, progress=False,
            loss=nn.CrossEntropyLoss(label_smoothing=0.1))
    assert np.isnan(h.best_val_accuracy) and h.val_loss == []


def test_fit_shows_a_progress_bar(capsys):
    x, y = _tiny(20)
    fit(model2(), (x, y), (x, y), epochs=2, batch_size=10, progress=True, desc="model2")
    err = capsys.readouterr().err
    assert "model2 epoch 2/2" in err and "4/4" in err and "val_acc" in err


def test_uint8_images_are_scaled():
    x = np.full((3, 28, 28), 255, np.uint8)
    t = to_tensors(x)
    assert t.shape == (3, 1, 28, 28) and t.dtype == torch.float32 and float(t.max()) == 1.0
    t2, labels = to_tensors(torch.zeros(2, 1, 5, 5, dtype=torch.float64), np.array([1, 2], np.uint8))
    assert t2.dtype == torch.float32 and labels.dtype == torch.int64


def test_to_tensors_errors():
    with pytest.raises(ValueError, match=r"shape \(N, H, W\) or \(N, C, H, W\)"):
        to_tensors(np.zeros((28, 28), np.uint8))
    with pytest.raises(TypeError, match="uint8 .* or floating point"):
        to_tensors(np.zeros((2, 28, 28), np.int32))
    with pytest.raises(ValueError, match="same length"):
        to_tensors(np.zeros((2, 28, 28), np.uint8), [1, 2, 3])
    with pytest.raises(TypeError, match="labels must be a 1-D array of ints"):
        to_tensors(np.zeros((2, 28, 28), np.uint8), [0.5, 1.0])


def test_fit_errors():
    x, y = _tiny(10)
    m = model2()
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        fit(m, (x, y), epochs=0)
    with pytest.raises(ValueError, match="lr must be positive, got -1"):
        fit(m, (x, y), lr=-1)
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'sgd', 'rmsprop', got 'adagrad'"):
        fit(m, (x, y), optimizer="adagrad", progress=False)
    with pytest.raises(TypeError, match="train must be an \\(images, labels\\) pair"):
        fit(m, x)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit(lambda t: t, (x, y))
    with pytest.raises(ValueError, match="loss must be one of 'cross_entropy'"):
        fit(m, (x, y), loss="mse")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            fit(m, (x, y), device="cuda")
    with pytest.raises(ValueError, match="device must be"):
        fit(m, (x, y), device="gpu0")


def test_default_device():
    assert default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_fit_lr_follows_the_validate_vocabulary():
    """A numpy float is a number; inf, NaN, 0 and negatives are bad values (ValueError naming lr
    and the value); a bool, a string or None is the wrong type (TypeError)."""
    x, y = _tiny(10)
    for lr in (np.float32(0.01), np.float64(0.01), 1, np.int64(1)):
        h = fit(model2(), (x, y), epochs=1, batch_size=10, lr=lr, progress=False)
        assert type(h.params["lr"]) is float and h.params["lr"] == float(lr)
    for lr, shown in ((float("inf"), "inf"), (float("nan"), "nan"), (-float("inf"), "-inf"), (0, "0"),
                      (-1, "-1"), (np.float32(-0.5), "-0.5"), (10**400, "1000")):
        with pytest.raises(ValueError, match=f"^lr must be .*, got {shown}"):
            fit(model2(), (x, y), lr=lr, progress=False)
    for lr in (True, np.True_, "0.01", None, [0.01], 1j):
        with pytest.raises(TypeError, match="^lr must be a finite real number, got "):
            fit(model2(), (x, y), lr=lr, progress=False)


@pytest.mark.parametrize("name, value, exc, message", [
    ("epochs", 2.0, TypeError, "epochs must be an int, got 2.0"),
    ("epochs", 10**5, ValueError, "epochs must be at most 10000"),
    ("batch_size", 0, ValueError, "batch_size must be a positive int, got 0"),
    ("batch_size", True, TypeError, "batch_size must be an int, got True"),
    ("weight_decay", -1e-3, ValueError, "weight_decay must be non-negative, got -0.001"),
    ("weight_decay", float("nan"), ValueError, "weight_decay must be a finite real number, got nan"),
    ("weight_decay", "0", TypeError, "weight_decay must be a finite real number, got '0'"),
    ("seed", -1, ValueError, "seed must be an int >= 0, got -1"),
    ("seed", 1.5, TypeError, "seed must be an int, got 1.5"),
    ("shuffle", "False", TypeError, "shuffle must be True or False, got 'False'"),
    ("progress", 1, TypeError, "progress must be True or False, got 1"),
    ("channels_last", "yes", TypeError, "channels_last must be True or False, got 'yes'"),
    ("desc", 3, TypeError, "desc must be None or a str, got 3"),
    ("optimizer", "adagrad", ValueError, "optimizer must be one of 'adam', 'sgd', 'rmsprop', got 'adagrad'"),
    ("optimizer", None, TypeError, "optimizer must be one of 'adam', 'sgd', 'rmsprop' or a torch.optim.Optimizer"),
    ("loss", "mse", ValueError, "loss must be one of 'cross_entropy', got 'mse'"),
    ("loss", 3, TypeError, "loss must be one of 'cross_entropy' or a callable"),
    ("metric", "top5", ValueError, "metric must be one of 'accuracy', got 'top5'"),
    ("metric", None, TypeError, "metric must be one of 'accuracy' or a callable"),
    ("on_epoch_end", "print", TypeError, "on_epoch_end must be callable, got 'print'"),
    ("device", 3.5, TypeError, "device must be None, 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got 3.5"),
    ("device", "gpu0", ValueError, "device must be None, 'auto', .* got 'gpu0'"),
    ("device", "meta", ValueError, "device 'meta' holds no values"),
])
def test_fit_argument_errors(name, value, exc, message):
    x, y = _tiny(10)
    m = model2()
    before = [p.detach().clone() for p in m.parameters()]
    with pytest.raises(exc, match=message):
        fit(m, (x, y), **{**dict(epochs=1, batch_size=10, progress=False), name: value})
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))   # checked before any step


def test_fit_device_auto_is_the_default_device():
    x, y = _tiny(10)
    for device in (None, "auto", "cpu", torch.device("cpu")):
        h = fit(model2(), (x, y), epochs=1, batch_size=10, progress=False, device=device)
        assert h.params["device"] == (str(default_device()) if device in (None, "auto") else "cpu")


# -- metric and on_epoch_end ----------------------------------------------------------------
def test_fit_metric_is_any_per_example_function():
    x, y = _tiny(30)
    top2 = lambda scores, labels: (scores.topk(2, dim=1).indices == labels[:, None]).any(1)  # noqa: E731
    set_seed(0)
    a = model2()
    b = model2()
    b.load_state_dict(a.state_dict())
    h1 = fit(a, (x, y), (x, y), epochs=2, batch_size=7, progress=False, channels_last=False)
    h2 = fit(b, (x, y), (x, y), epochs=2, batch_size=7, progress=False, channels_last=False, metric=top2)
    assert h1.loss == h2.loss and h1.val_loss == h2.val_loss             # the metric changes no step
    assert all(t >= a for t, a in zip(h2.accuracy + h2.val_accuracy, h1.accuracy + h1.val_accuracy))
    with torch.no_grad():
        scores = b.eval()(torch.from_numpy(x))
    assert h2.val_accuracy[-1] == top2(scores, torch.from_numpy(y)).double().mean().item()
    assert evaluate(b, (x, y), metric=top2).accuracy == h2.val_accuracy[-1]
    ones = fit(model2(), (x, y), (x, y), epochs=1, batch_size=7, progress=False,
               metric=lambda s, t: torch.ones(len(t)))
    assert ones.accuracy == ones.val_accuracy == [1.0]


def test_fit_with_a_regression_loss_and_float_targets():
    """Targets need not be class labels when loss and metric are given (as localisation does)."""
    rng = np.random.default_rng(0)
    x = rng.random((24, 1, 4, 4)).astype(np.float32)
    t = x.reshape(24, -1).mean(1, keepdims=True) * np.array([[1.0, -1.0]])       # (24, 2) float64
    set_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    mse = nn.MSELoss()
    close = lambda s, target: ((s - target).abs() < 0.05).all(1)              # noqa: E731
    h = fit(net, (x, t), (x, t), epochs=30, batch_size=8, lr=0.05, loss=mse, metric=close, progress=False)
    assert h.loss[-1] < 0.1 * h.loss[0] and h.val_accuracy[-1] > h.val_accuracy[0]
    with pytest.raises(ValueError, match=r"metric .accuracy. needs \(N, classes\) scores and one class label"):
        fit(net, (x, t), epochs=1, loss=mse, progress=False)
    with pytest.raises(ValueError, match=r"metric must return one value per example, shape \(8,\)"):
        fit(net, (x, t), epochs=1, batch_size=8, loss=mse, metric=lambda s, target: s, progress=False)
    with pytest.raises(TypeError, match="metric must return a tensor"):
        fit(net, (x, t), epochs=1, loss=mse, metric=lambda s, target: 1.0, progress=False)
    with pytest.raises(ValueError, match="train: images and targets must have the same length, got 24 and 3"):
        fit(net, (x, t[:3]), epochs=1, loss=mse, metric=close, progress=False)


def test_on_epoch_end_runs_after_validation_and_may_stop_training():
    x, y = _tiny(20)
    seen = []

    def record(epoch, model, history):
        seen.append((epoch, len(history.loss), len(history.val_loss), len(history.time_s), model.training))
        if epoch == 2:
            raise KeyboardInterrupt("enough")

    m = model2()
    with pytest.raises(KeyboardInterrupt):
        fit(m, (x, y), (x, y), epochs=5, batch_size=10, progress=False, on_epoch_end=record)
    assert seen == [(1, 1, 1, 0, True), (2, 2, 2, 1, True)] and not m.training


def test_predict_and_proba_agree_with_the_model():
    set_seed(2)
    m = model2().eval()
    x, _ = _tiny(25)
    with torch.no_grad():
        scores = m(torch.from_numpy(x))
    p = predict_proba(m, x, batch_size=7)
    np.testing.assert_allclose(p, torch.softmax(scores, 1).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predict(m, x, batch_size=7), scores.argmax(1).numpy())
    assert predict(m, x).dtype == np.int64


def test_evaluate_matches_a_manual_computation():
    set_seed(3)
    m = model2()
    x, y = _tiny(33)
    ev = evaluate(m, (x, y), batch_size=10)
    with torch.no_grad():
        scores = m(torch.from_numpy(x))
    assert ev.accuracy == pytest.approx(float((scores.argmax(1).numpy() == y).mean()))
    assert ev.loss == pytest.approx(float(nn.functional.cross_entropy(scores, torch.from_numpy(y))), rel=1e-5)
    assert m.training  # evaluate restores the mode


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), max_size=60))))
def test_confusion_matrix_against_counting(case):
    k, pairs = case
    t = np.array([a for a, _ in pairs], dtype=int)
    p = np.array([b for _, b in pairs], dtype=int)
    cm = confusion_matrix(t, p, num_classes=k)
    ref = np.zeros((k, k), dtype=np.int64)
    for a, b in pairs:
        ref[a, b] += 1
    np.testing.assert_array_equal(cm, ref)
    assert cm.sum() == len(pairs)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="below num_classes = 2, got 2"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="non-negative integer class labels"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="non-negative integer class labels"):
        confusion_matrix([0.5], [0])
