"""Batch norm and dropout: the model options, the per-channel statistics, what summary counts."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnnlab.nn import count_parameters, model1, model2, summary  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


def _types(model):
    return [type(m).__name__ for m in model]


def test_defaults_are_the_notes_models():
    assert _types(model2()) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert _types(model1()) == ["Flatten", "Linear", "ReLU", "Linear", "Tanh", "Linear"]
    assert count_parameters(model2(dropout=0.0, dropout_where="conv")) == 5_386


def test_model2_batch_norm_between_conv_and_relu():
    m = model2(batch_norm=True)
    assert _types(m) == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d",
                         "Flatten", "Linear"]
    assert count_parameters(m) == 5_386 + 2 * 8 + 2 * 16 == 5_434
    assert m(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_summary_counts_two_trainable_and_two_running_values_per_channel():
    m = model2(batch_norm=True)
    keras = summary(m, style="keras")
    assert (keras.trainable_params, keras.non_trainable_params) == (5_434, 48)      # Keras: 48 "non-trainable"
    assert [r.params for r in keras.rows if r.type == "BatchNormalization"] == [4 * 8, 4 * 16]
    torch_style = summary(m)
    assert (torch_style.total_params, torch_style.non_trainable_params) == (5_434, 0)  # torch: buffers, not params
    bn = m[1]
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]


def test_dropout_placement():
    assert _types(model2(dropout=0.5)) == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
                                           "Dropout", "Linear"]
    assert _types(model2(dropout=0.25, dropout_where="conv")) == [
        "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Conv2d", "ReLU", "MaxPool2d", "Dropout", "Flatten", "Linear"]
    assert _types(model1(batch_norm=True, dropout=0.5)) == [
        "Flatten", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    assert count_parameters(model1(batch_norm=True)) == 178_110 + 2 * (200 + 100)
    assert all(m.p == 0.25 for m in model2(dropout=0.25, dropout_where="conv") if isinstance(m, nn.Dropout))


def test_dropout_is_identity_in_eval_mode_and_inverted_in_train_mode():
    torch.manual_seed(0)
    m = model2(dropout=0.5)
    x = torch.rand(4, 1, 28, 28)
    m.eval()
    a, b = m(x), m(x)
    assert torch.equal(a, b)
    drop = m[7]
    drop.train()
    z = torch.ones(10_000)
    out = drop(z)
    assert set(out.unique().tolist()) == {0.0, 2.0}                  # kept values scaled by 1 / (1 - p)
    assert abs(float((out == 0).float().mean()) - 0.5) < 0.03


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(dropout=1.0), ValueError, r"dropout must be a probability in \[0, 1\), got 1.0"),
    (dict(dropout=-0.1), ValueError, "dropout must be non-negative"),
    (dict(dropout="0.5"), TypeError, "dropout must be a"),
    (dict(dropout=True), TypeError, "dropout must be a"),
    (dict(dropout_where="pool"), ValueError, "dropout_where must be one of 'dense', 'conv', got 'pool'"),
    (dict(batch_norm="yes"), TypeError, "batch_norm must be True or False, got 'yes'"),
])
def test_model2_option_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        model2(**kwargs)


def test_model1_option_errors():
    with pytest.raises(ValueError, match="dropout must be a probability"):
        model1(dropout=2)
    with pytest.raises(TypeError, match="batch_norm must be True or False"):
        model1(batch_norm=1)
    with pytest.raises(TypeError):
        model1(dropout_where="conv")        # model1 has no convolutions


def _batch_norm_by_hand(x, mean, var, gamma, beta, eps):
    return gamma[None, :, None, None] * (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps) \
        + beta[None, :, None, None]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 4), h=st.integers(1, 5), w=st.integers(1, 5),
       momentum=st.sampled_from([0.1, 0.5, 1.0]), seed=st.integers(0, 10_000))
def test_batch_norm_per_channel_statistics_match_torch(n, c, h, w, momentum, seed):
    """Train mode: each channel normalised by its mean and biased variance over (N, H, W); the
    running statistics move by ``momentum`` towards the batch mean and the *unbiased* variance.
    Eval mode: the running statistics replace the batch's."""
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, (n, c, h, w))
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    bn = nn.BatchNorm2d(c, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    bn.train()
    y = bn(torch.from_numpy(x)).detach().numpy()
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y, _batch_norm_by_hand(x, mean, var, gamma, beta, bn.eps), rtol=1e-7, atol=1e-9)
    m = n * h * w
    np.testing.assert_allclose(bn.running_mean.numpy(), (1 - momentum) * 0 + momentum * mean, rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), (1 - momentum) * 1 + momentum * var * m / max(m - 1, 1),
                               rtol=1e-10)
    bn.eval()
    x2 = rng.normal(size=(n, c, h, w))
    y2 = bn(torch.from_numpy(x2)).detach().numpy()
    expected = _batch_norm_by_hand(x2, bn.running_mean.numpy(), bn.running_var.numpy(), gamma, beta, bn.eps)
    np.testing.assert_allclose(y2, expected, rtol=1e-7, atol=1e-9)


def test_batch_norm_output_has_zero_mean_unit_variance_per_channel():
    torch.manual_seed(0)
    m = model2(batch_norm=True)
    m.train()
    x = torch.rand(16, 1, 28, 28)
    z = m[1](m[0](x)).detach()                           # conv -> batch norm (γ = 1, β = 0 at the start)
    np.testing.assert_allclose(z.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(z.var(dim=(0, 2, 3), unbiased=False).numpy(), 1, atol=1e-3)
