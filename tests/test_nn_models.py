"""Every network of the notes has the parameter count and the shapes the notes give."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from cnnlab.nn import (  # noqa: E402
    LENET5_NOTES_PARAMS, alexnet, count_parameters, inception_module, keras_example, lenet5, model1, model2,
    no_max_pool, residual_block, vgg, vgg16, vgg19, with_max_pool,
)

pytestmark = pytest.mark.torch


def _layer_params(model):
    return [count_parameters(m) for m in model.modules() if not list(m.children()) and count_parameters(m)]


def test_model1_seed003():
    m = model1()
    assert count_parameters(m) == (784 * 200 + 200) + (200 * 100 + 100) + (100 * 10 + 10) == 178_110
    assert _layer_params(m) == [157_000, 20_100, 1_010]
    assert m(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_model2_seed003():
    m = model2()
    assert _layer_params(m) == [208, 1_168, 4_010]
    assert count_parameters(m) == 5_386
    # the notes' questions: 28-5+1 = 24 -> 12 after pooling; 12-3+1 = 10 -> 5; 5*5*16 = 400
    x = torch.zeros(2, 1, 28, 28)
    shapes = []
    for layer in m:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(8, 24, 24), (8, 24, 24), (8, 12, 12), (16, 10, 10), (16, 10, 10), (16, 5, 5), (400,), (10,)]
    assert round(count_parameters(model1()) / count_parameters(m)) == 33  # "33x fewer parameters"


@pytest.mark.parametrize("n, per_layer, out_shape", [
    (1, [10], (1, 8, 8)),
    (2, [50, 92], (2, 6, 6)),
    (3, [224, 73], (1, 96, 96)),
    (4, [128, 25], (1, 96)),
])
def test_keras_examples_seed000(n, per_layer, out_shape):
    m = keras_example(n)
    assert _layer_params(m) == per_layer
    assert count_parameters(m) == [10, 142, 297, 153][n - 1]
    assert m(torch.zeros(2, *m.input_size)).shape[1:] == out_shape


def test_keras_example_errors():
    with pytest.raises(ValueError, match="n must be 1, 2, 3 or 4"):
        keras_example(5)
    with pytest.raises(TypeError, match="n must be an int"):
        keras_example("1")


def test_why_max_pool_seed000():
    plain = no_max_pool()
    assert plain(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 22, 22)
    assert count_parameters(no_max_pool(dense=True)) - count_parameters(plain) == 64 * 22 * 22 + 1 == 30_977
    pooled = with_max_pool()
    assert pooled(torch.zeros(1, 1, 28, 28)).shape == (1, 64, 3, 3)
    assert count_parameters(with_max_pool(dense=True)) - count_parameters(pooled) == 577
    assert no_max_pool(dense=True)(torch.zeros(2, 1, 28, 28)).shape == (2, 1)


def test_lenet5_seed001_corrected():
    m = lenet5()
    assert _layer_params(m) == [608, 3_216, 48_120, 10_164, 850]
    assert [(5 * 5 * 3 + 1) * 8, (5 * 5 * 8 + 1) * 16, 400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10] == \
        _layer_params(m)
    assert m(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    # the notes' numbers: one input channel and one bias per layer
    assert list(LENET5_NOTES_PARAMS.values()) == [208, 0, 416, 0, 48_001, 10_081, 841]
    assert LENET5_NOTES_PARAMS["CONV1"] == (5 * 5 * 1 + 1) * 8
    assert LENET5_NOTES_PARAMS["FC3"] == 400 * 120 + 1
    # "(5x5x3 + 1) * 6 = 456" with six filters
    assert count_parameters(lenet5(conv1=6).CONV1) == 456


def test_why_convolutions_seed001():
    with torch.device("meta"):
        dense = nn.Linear(32 * 32 * 3, 28 * 28 * 6)
    assert 32 * 32 * 3 == 3_072  # the notes print 3037
    assert dense.weight.numel() == 14_450_688  # "14 million"
    assert count_parameters(nn.Conv2d(3, 6, 5)) == 456


def test_vgg_seed001_and_seed003():
    with torch.device("meta"):
        v16, v19 = vgg16(), vgg19()
        assert count_parameters(v16) == 138_357_544
        assert count_parameters(v19) == 143_667_240
        assert v19.fc1.in_features == 25_088 == 7 * 7 * 512
        out = v19[:-8](torch.empty(1, 3, 224, 224))  # up to block5_pool
        assert out.shape == (1, 512, 7, 7)
        assert v16(torch.empty(2, 3, 224, 224)).shape == (2, 1000)
    convs = [m for m in v19.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 16 and len([m for m in v19.modules() if isinstance(m, nn.Linear)]) == 3
    assert [c.out_channels for c in convs] == [64] * 2 + [128] * 2 + [256] * 4 + [512] * 8


def test_vgg_configurations_and_errors():
    with torch.device("meta"):
        small = vgg([8, "M", 16, "M"], num_classes=10, in_channels=1, input_size=28)
    assert small.fc1.in_features == 16 * 7 * 7
    with pytest.raises(ValueError, match="config must be one of"):
        vgg("vgg11")
    with pytest.raises(ValueError, match="halve evenly"):
        vgg([8, "M", "M", "M"], input_size=12)
    with pytest.raises(ValueError, match="positive ints and 'M'"):
        vgg([8, "pool"])


def test_alexnet():
    with torch.device("meta"):
        a1, a2 = alexnet(), alexnet(groups=2)
        assert a1[:13](torch.empty(1, 3, 227, 227)).shape == (1, 256, 6, 6)
    assert count_parameters(a1) == 62_378_344
    assert count_parameters(a2) == 60_965_224
    assert a1.conv1.kernel_size == (11, 11) and a1.conv1.stride == (4, 4)
    with pytest.raises(ValueError, match="groups must be 1"):
        alexnet(groups=3)


def test_inception_module():
    m = inception_module()
    assert count_parameters(m) == 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176 == 163_696
    assert m(torch.zeros(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    naive = inception_module(reduce=False)
    assert count_parameters(naive) == 387_296
    assert naive(torch.zeros(1, 192, 28, 28)).shape == (1, 64 + 128 + 32 + 192, 28, 28)
    with pytest.raises(ValueError, match="c1 must be a positive int"):
        inception_module(c1=0)


def test_residual_block():
    b = residual_block()
    assert count_parameters(b) == 2 * 9 * 64 * 64 + 2 * 2 * 64 == 73_984
    assert isinstance(b.shortcut, nn.Identity)
    x = torch.randn(2, 64, 8, 8)
    b.eval()
    assert b(x).shape == x.shape and (b(x) >= 0).all()
    down = residual_block(64, 128, stride=2)
    assert down(torch.zeros(1, 64, 56, 56)).shape == (1, 128, 28, 28)
    assert count_parameters(down.shortcut) == 64 * 128 + 2 * 128
    with pytest.raises(ValueError, match="stride must be a positive int"):
        residual_block(stride=0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 7), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_conv_parameter_formula(k, c_in, c_out, bias):
    """(M²C + 1)·C_out (seed 002), or M²C·C_out without bias."""
    conv = nn.Conv2d(c_in, c_out, k, bias=bias)
    assert count_parameters(conv) == (k * k * c_in + int(bias)) * c_out


def test_count_parameters_trainable_and_errors():
    m = model2()
    m[0].weight.requires_grad_(False)
    assert count_parameters(m, trainable_only=True) == 5_386 - 200
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        count_parameters([1, 2])
