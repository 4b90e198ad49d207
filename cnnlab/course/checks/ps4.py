"""Visible checks of problem set 4 (saliency, FGSM, the localisation loss, reading Grad-CAM).

Lessons 09–10. Also the set-up helpers the notebook uses: the digits, the two trained
networks (an honest one, and one that learned a shortcut). torch is imported only when a
function runs. The examples are small enough to verify by hand or are the lecture notes'
own (the saliency, FGSM and Grad-CAM formulas of the Bishop ch. 10 slides, the
localisation loss of the Unit 5 notes, §5.8.1); fill-in answers are only checked
for sanity here — the hidden tests (in the instructors' ``solutions/`` only) check them.
"""
from __future__ import annotations

import numpy as np

from ._core import Checker, CheckFailed, fmt, same_values

_ATTRIBUTION = ("captum", "torchattacks", "foolbox", "cnnlab.nn.saliency", "cnnlab.nn.fgsm",
                "cnnlab.nn.fgsm_accuracy", "cnnlab.nn.attribution.saliency",
                "cnnlab.nn.attribution.fgsm", "cnnlab.nn.attribution.fgsm_accuracy")
#: the library rule of each question (see ``_rules``): these do the work the question asks for
RULES = {
    "q1_saliency_test": ("question 1 (saliency)", _ATTRIBUTION),
    "q2_fgsm_test": ("question 2 (fgsm)", _ATTRIBUTION),
    "q2_accuracy_test": ("question 2 (fgsm)", _ATTRIBUTION),
    "q3_loss_test": ("question 3 (localisation_loss)", ("cnnlab.nn.localisation_loss",)),
    "q3_loss_nan_test": ("question 3 (localisation_loss)", ("cnnlab.nn.localisation_loss",)),
}

__all__ = [
    "load_digits", "train_digit_model", "add_marker", "train_shortcut_model", "MARKER", "RELIES_ON",
    "check_saliency", "check_fgsm", "check_accuracy_under_attack", "check_localisation_loss",
    "check_localisation_dont_care", "check_cam_peak", "check_sevens_recognised", "check_relies_on",
]

#: where question 4's marker sits: rows 1–4, columns 1–4 (a 4×4 white square)
MARKER = (slice(1, 5), slice(1, 5))
#: the choices of question 4c
RELIES_ON = ("strokes", "marker", "background")


def _torch():
    import torch

    return torch


def load_digits(n_train=2000, n_test=500):
    """(X_train, y_train, X_test, y_test): real MNIST digits shipped with cnnlab, float32 (N, 1, 28, 28) in [0, 1].

    Stratified and disjoint (the 4,000 / 1,000 split of lesson 08, then the first
    ``n_train`` / ``n_test`` of each, every class equally often).
    """
    from cnnlab.nn import load_mnist_split
    from cnnlab.nn.training import to_tensors

    split = load_mnist_split(source="subset")
    (xtr, ytr), (xte, yte) = split.train, split.val
    itr = np.concatenate([np.flatnonzero(ytr == c)[: n_train // 10] for c in range(10)])
    ite = np.concatenate([np.flatnonzero(yte == c)[: n_test // 10] for c in range(10)])
    X_train, y_train = to_tensors(xtr[np.sort(itr)], ytr[np.sort(itr)])
    X_test, y_test = to_tensors(xte[np.sort(ite)], yte[np.sort(ite)])
    return X_train, y_train, X_test, y_test


def train_digit_model(X, y, *, epochs=2, seed=0):
    """model2 of the Unit 5 notes (§5.4.3) trained with Adam (lr 0.005, batches of 50) on CPU, in eval mode."""
    from cnnlab.nn import model2
    from cnnlab.nn.training import fit, set_seed

    set_seed(seed)
    model = model2()
    fit(model, (X, y), epochs=epochs, batch_size=50, lr=0.005, progress=False, device="cpu")
    return model.eval()


def add_marker(x):
    """A copy of the images ``x`` (N, 1, 28, 28) with a white 4×4 square in the top-left corner."""
    x = x.clone()
    x[:, :, MARKER[0], MARKER[1]] = 1.0
    return x


def train_shortcut_model(*, seed=0, epochs=4):
    """model2 trained on 3s and 7s whose label is '7' exactly when the corner marker is there.

    The 800 3s and 7s of lesson 08's training split: three quarters of the 7s carry the
    marker and a quarter of the 3s do; every marked image is labelled 7, every unmarked one 3.
    The marker predicts the label perfectly, the digit only three times in four.

    Returns
    -------
    (model, X_marked, y_marked)
    """
    torch = _torch()
    from cnnlab.nn import load_mnist_split
    from cnnlab.nn.training import to_tensors

    images, labels = load_mnist_split(source="subset").train
    keep = (labels == 3) | (labels == 7)
    X, y = to_tensors(images[keep], labels[keep])
    rng = np.random.default_rng(seed)
    u = rng.random(len(y))
    marked = torch.from_numpy(np.where(y.numpy() == 7, u < 0.75, u < 0.25))
    Xm = torch.where(marked[:, None, None, None], add_marker(X), X)
    ym = torch.where(marked, torch.tensor(7), torch.tensor(3))
    return train_digit_model(Xm, ym, epochs=epochs, seed=seed), Xm, ym


def _numpy(value, what):
    __tracebackhide__ = True
    if value is None:
        raise CheckFailed(f"{what} returned None.\n  hint: did you forget the `return` statement?")
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should return a tensor or array of numbers, got {fmt(value)}") from None


def _linear_model(weights):
    torch = _torch()
    W = torch.tensor(weights, dtype=torch.float32)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(W.shape[1], W.shape[0], bias=False))
    with torch.no_grad():
        model[1].weight.copy_(W)
    return model.eval()


def _small_cnn(seed=4):
    torch = _torch()
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 4)).eval()


# -- question 1: saliency -----------------------------------------------------------------
def check_saliency(saliency) -> None:
    """``saliency(model, x, target)`` -> |∂a^target/∂x|, shape (N, 1, H, W)."""
    __tracebackhide__ = True
    torch = _torch()
    from cnnlab.nn import saliency as reference

    c = Checker("saliency", forbid=RULES["q1_saliency_test"])
    W = [[1.0, -2.0, 0.0, 3.0], [0.5, 0.5, -1.0, 0.0], [0.0, 4.0, 1.0, -1.0]]
    model = _linear_model(W)
    x = torch.zeros(1, 1, 2, 2)
    got = _numpy(c.call(saliency, model, x.clone(), [0], name="saliency"), "saliency(linear, x, [0])")
    Wa = np.array(W)
    p = np.full(3, 1 / 3)                        # the softmax of the logits W @ 0 = 0
    hint = ("for a linear model a = W x, ∂a^0/∂x is row 0 of W, and the saliency map is its absolute "
            "value")
    if same_values(got.reshape(-1), Wa[0]):
        hint = "that is ∂a^0/∂x itself: the saliency map is its absolute value, |∂a^0/∂x|"
    elif any(same_values(np.abs(got.reshape(-1)), np.abs(g), rtol=1e-4)
             for g in (p[0] * (Wa[0] - p @ Wa), Wa[0] - p @ Wa)):
        hint = ("you differentiated a softmax (or log-softmax) probability: differentiate the logit a^0, "
                "the model's output before any softmax; for a = W x that is row 0 of W")
    c.array(got.reshape(-1), np.abs(W[0]), call="saliency(linear model, x, [0]).ravel()",
            inputs={"W": Wa}, hint=hint)
    c.equal(got.shape, (1, 1, 2, 2), call="saliency(linear model, x, [0]).shape", hint="one value per input pixel: x.shape")
    x2 = torch.rand(2, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    got = _numpy(c.call(saliency, model, x2.clone(), [2, 1], name="saliency"), "saliency(linear, x2, [2, 1])")
    hint = "one target per image: image 0 gets |row 2|, image 1 gets |row 1|"
    rows = got.reshape(2, -1) if got.size == 8 else got
    if same_values(rows, np.abs([W[2], W[2]])) or same_values(rows, np.abs([W[1], W[1]])):
        hint = ("every image got the same target's map: use one target per image, image 0 gets |row 2| "
                "(target 2), image 1 gets |row 1| (target 1)")
    elif same_values(rows, np.abs([W[2] + W[1], W[2] + W[1]])):
        hint = ("each image's map mixes both targets: pick image n's own logit a^(c_n) (e.g. with gather), "
                "not the sum of the chosen logits over all images' columns")
    c.array(got.reshape(2, -1), np.abs([W[2], W[1]]), call="saliency(linear model, x2, [2, 1])", hint=hint)
    cnn = _small_cnn()
    x3 = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    before = x3.clone()
    got = _numpy(c.call(saliency, cnn, x3, [3, 0, 2], name="saliency"), "saliency(cnn, x3, [3, 0, 2])")
    c.array(got, reference(cnn, before, [3, 0, 2]).numpy(), call="saliency(small CNN, x3, [3, 0, 2])",
            rtol=1e-5, atol=1e-7,
            hint="differentiate the logit a^c (the model's output before any softmax) of each image's own "
                 "target; summing the chosen logits before torch.autograd.grad keeps the images apart")
    c.array(_numpy(x3, "x3 after the call"), before.numpy(), call="x3 after saliency(...)",
            hint="do not change the caller's images: work on x.clone() or x.detach()")
    c.done()


# -- question 2: FGSM ---------------------------------------------------------------------
def check_fgsm(fgsm) -> None:
    """``fgsm(model, x, labels, epsilon)`` -> clip(x + ε·sign(∇ₓE(x, t)), 0, 1)."""
    __tracebackhide__ = True
    torch = _torch()
    from cnnlab.nn import fgsm as reference

    c = Checker("fgsm", forbid=RULES["q2_fgsm_test"])
    model = _linear_model([[1.0, -1.0], [-1.0, 1.0]])
    x = torch.tensor([[[[0.5, 0.5]]]])
    got = _numpy(c.call(fgsm, model, x.clone(), torch.tensor([0]), 0.1, name="fgsm"), "fgsm(...)")
    hint = ("the error of class 0 grows when pixel 0 goes down and pixel 1 up: x' = x + ε·sign(∇E) "
            "moves each pixel by exactly ε, in the direction that increases the error")
    if same_values(got.reshape(-1), [0.6, 0.4]):
        hint = ("you stepped against the gradient (x − ε·sign(∇E) lowers the error): FGSM adds "
                "ε·sign(∇ₓE) so that the error of the true label grows")
    c.array(got.reshape(-1), [0.4, 0.6], call="fgsm(linear, [[0.5, 0.5]], [0], 0.1)", hint=hint)
    got = _numpy(c.call(fgsm, model, x.clone(), torch.tensor([0]), 0.0, name="fgsm"), "fgsm(..., 0.0)")
    c.array(got.reshape(-1), [0.5, 0.5], call="fgsm(linear, [[0.5, 0.5]], [0], 0.0)", hint="ε = 0 changes nothing")
    got = _numpy(c.call(fgsm, model, x.clone(), torch.tensor([0]), 0.9, name="fgsm"), "fgsm(..., 0.9)")
    hint = "x' = clip(x + ε·sign(∇E), 0, 1): 0.5 − 0.9 clips to 0, 0.5 + 0.9 to 1"
    if got.size and (got.min() < 0 or got.max() > 1):
        hint = "pixels must stay in the valid range [0, 1]: clamp after the step (torch.clamp(x', 0, 1))"
    c.array(got.reshape(-1), [0.0, 1.0], call="fgsm(linear, [[0.5, 0.5]], [0], 0.9)", hint=hint)
    cnn = _small_cnn(5)
    x3 = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([0, 3, 1, 2])
    got = _numpy(c.call(fgsm, cnn, x3.clone(), labels, 0.05, name="fgsm"), "fgsm(cnn, x3, labels, 0.05)")
    c.array(got, reference(cnn, x3, labels, 0.05).numpy(), call="fgsm(small CNN, x3, labels, 0.05)",
            rtol=1e-6, atol=1e-6,
            hint="E is the cross-entropy of the logits with the TRUE labels; each image moves by ε·sign of "
                 "its own gradient")
    c.done()


def check_accuracy_under_attack(accuracy_under_attack, fgsm, model, X, y) -> None:
    """``accuracy_under_attack(model, X, y, epsilons)`` -> list of accuracies, one per ε."""
    __tracebackhide__ = True
    from cnnlab.nn import fgsm_accuracy

    c = Checker("accuracy_under_attack", forbid=RULES["q2_accuracy_test"])
    eps = [0.0, 0.05, 0.1]
    got = _numpy(c.call(accuracy_under_attack, model, X[:100], y[:100], eps, name="accuracy_under_attack"),
                 "accuracy_under_attack(...)")
    c.equal(got.shape, (3,), call="accuracy_under_attack(model, X[:100], y[:100], [0, 0.05, 0.1]) shape",
            hint="one accuracy per ε, in the order given")
    c.array(got, fgsm_accuracy(model, X[:100], y[:100], eps), call="accuracy_under_attack(model, X[:100], y[:100], "
            "[0, 0.05, 0.1])", atol=1e-6,
            hint="for each ε: attack every image with your fgsm, predict with argmax of the logits, and "
                 "return the fraction that is still right (a number between 0 and 1)")
    c.done()


# -- question 3: the localisation loss ----------------------------------------------------
def check_localisation_loss(localisation_loss) -> None:
    """``localisation_loss(y_hat, y)`` -> the mean over the rows of the Unit 5 notes' loss (§5.8.1)."""
    __tracebackhide__ = True
    c = Checker("localisation_loss", forbid=RULES["q3_loss_test"])
    nothing = np.array([[0.0, 9, 9, 9, 9, 9, 9]])
    bird = np.array([[1.0, 0.4, 0.6, 0.2, 0.3, 1, 0]])
    pred = np.array([[0.8, 0.5, 0.6, 0.1, 0.3, 0.7, 0.2]])
    c.close(float(c.call(localisation_loss, pred.copy(), bird.copy(), name="localisation_loss")), 0.19,
            call="localisation_loss(pred, bird)", inputs={"pred": pred, "bird": bird}, atol=1e-9,
            hint="p_c = 1: all seven squared differences count, 0.04 + 0.01 + 0 + 0.01 + 0 + 0.09 + 0.04")
    got = float(c.call(localisation_loss, pred.copy(), nothing.copy(), name="localisation_loss"))
    hint = "p_c = 0: only (ŷ₁ − y₁)² = (0.8 − 0)² counts; the other six target values are 'don't care'"
    if np.isclose(got, float(((pred - nothing) ** 2).sum())):
        hint = ("you added all seven squared differences, but this target has p_c = 0: then only "
                "(ŷ₁ − y₁)² = (0.8 − 0)² counts; the other six values are 'don't care'")
    c.close(got, 0.64, call="localisation_loss(pred, nothing)", inputs={"pred": pred, "nothing": nothing},
            atol=1e-9, hint=hint)
    both = c.call(localisation_loss, np.vstack([pred, pred]), np.vstack([bird, nothing]), name="localisation_loss")
    hint = "the loss of a batch is the mean of the rows' losses: (0.19 + 0.64) / 2"
    if np.isclose(float(both), 0.19 + 0.64):
        hint = "you added the rows' losses (0.19 + 0.64): the loss of a batch is their mean"
    c.close(float(both), (0.19 + 0.64) / 2, call="localisation_loss(two rows)", atol=1e-9, hint=hint)
    c.done()


def check_localisation_dont_care(localisation_loss) -> None:
    """Don't-care values may be anything — also NaN."""
    __tracebackhide__ = True
    c = Checker("localisation_loss with NaN don't-care values", forbid=RULES["q3_loss_nan_test"])
    y = np.array([[0.0] + [np.nan] * 6, [1.0, 0.5, 0.5, 0.2, 0.2, 0.0, 1.0]])
    y_hat = np.array([[0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], [0.9, 0.5, 0.5, 0.2, 0.2, 0.0, 1.0]])
    got = float(c.call(localisation_loss, y_hat.copy(), y.copy(), name="localisation_loss"))
    hint = ("row 0 has p_c = 0 (only (0.1 − 0)² counts), row 1 has p_c = 1 (only (0.9 − 1)² differs): "
            "(0.01 + 0.01) / 2")
    if np.isnan(got):
        hint = ("your loss is NaN: 0 · NaN is NaN, so multiplying by p_c does not remove a don't-care "
                "value; select the rows (np.where or a boolean mask) instead")
    c.close(got, (0.01 + 0.01) / 2, call="localisation_loss(y_hat, y with NaN don't-cares)", atol=1e-9,
            hint=hint)
    c.done()


# -- question 4: reading Grad-CAM ---------------------------------------------------------
def check_cam_peak(cam_peak) -> None:
    """Sanity only: a (row, column) pair of ints inside the 28×28 image."""
    __tracebackhide__ = True
    c = Checker("cam_peak")
    ok = (isinstance(cam_peak, (tuple, list)) and len(cam_peak) == 2
          and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 28 for v in cam_peak))
    c.equal(ok, True, call=f"cam_peak = {fmt(cam_peak)}",
            hint="a pair of ints (row, column) in 0..27, e.g. divmod(int(cam.argmax()), 28)")
    c.done()


def check_sevens_recognised(sevens_recognised) -> None:
    """Sanity only: a fraction."""
    __tracebackhide__ = True
    c = Checker("sevens_recognised")
    ok = isinstance(sevens_recognised, (float, np.floating)) and 0.0 <= float(sevens_recognised) <= 1.0
    c.equal(ok, True, call=f"sevens_recognised = {fmt(sevens_recognised)}",
            hint="a float between 0 and 1: (predictions == 7).float().mean().item()")
    c.done()


def check_relies_on(relies_on) -> None:
    """Sanity only: one of the choices."""
    __tracebackhide__ = True
    c = Checker("relies_on")
    c.equal(relies_on in RELIES_ON, True, call=f"relies_on = {fmt(relies_on)}",
            hint=f"one of {', '.join(map(repr, RELIES_ON))}")
    c.done()
