"""summary() reproduces the notes' Keras tables and agrees with torchinfo and a real forward pass."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import importlib  # noqa: E402

from cnnlab.nn import (  # noqa: E402
    keras_example, lenet5, lenet5_table, model1, model2, no_max_pool, residual_block, summary, vgg16, vgg19,
)

pytestmark = pytest.mark.torch
summary_module = importlib.import_module("cnnlab.nn.summary")   # the module, not the function

# seed 000, Examples 1-4: (rows as (type, output shape, params)), total
SEED000 = {
    1: ([("InputLayer", (None, 10, 10, 1), 0), ("Conv2D", (None, 8, 8, 1), 10), ("Activation", (None, 8, 8, 1), 0)],
        10),
    2: ([("InputLayer", (None, 10, 10, 1), 0), ("Conv2D", (None, 8, 8, 5), 50), ("Activation", (None, 8, 8, 5), 0),
         ("Conv2D", (None, 6, 6, 2), 92), ("Activation", (None, 6, 6, 2), 0)], 142),
    3: ([("InputLayer", (None, 100, 100, 3), 0), ("Conv2D", (None, 98, 98, 8), 224),
         ("Activation", (None, 98, 98, 8), 0), ("Conv2D", (None, 96, 96, 1), 73),
         ("Activation", (None, 96, 96, 1), 0)], 297),
    4: ([("InputLayer", (None, 100, 5), 0), ("Conv1D", (None, 98, 8), 128), ("Activation", (None, 98, 8), 0),
         ("Conv1D", (None, 96, 1), 25), ("Activation", (None, 96, 1), 0)], 153),
}

# seed 001's table of "VGG-16" feature maps (layer, output shape without the batch). It lists four
# convolutions in blocks 3-5, i.e. VGG-19's feature extractor; VGG-16 has three.
SEED001_TABLE = [
    ("block1_conv1", (224, 224, 64)), ("block1_conv2", (224, 224, 64)), ("block1_pool", (112, 112, 64)),
    ("block2_conv1", (112, 112, 128)), ("block2_conv2", (112, 112, 128)), ("block2_pool", (56, 56, 128)),
    ("block3_conv1", (56, 56, 256)), ("block3_conv2", (56, 56, 256)), ("block3_conv3", (56, 56, 256)),
    ("block3_conv4", (56, 56, 256)), ("block3_pool", (28, 28, 256)),
    ("block4_conv1", (28, 28, 512)), ("block4_conv2", (28, 28, 512)), ("block4_conv3", (28, 28, 512)),
    ("block4_conv4", (28, 28, 512)), ("block4_pool", (14, 14, 512)),
    ("block5_conv1", (14, 14, 512)), ("block5_conv2", (14, 14, 512)), ("block5_conv3", (14, 14, 512)),
    ("block5_conv4", (14, 14, 512)), ("block5_pool", (7, 7, 512)),
]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_seed000_tables(n):
    rows, total = SEED000[n]
    s = summary(keras_example(n), style="keras")
    assert [(r.type, r.output_shape, r.params) for r in s.rows] == rows
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (total, total, 0)
    text = str(s)
    assert f"Total params: {total}" in text and "Non-trainable params: 0" in text
    assert "input_layer (InputLayer)" in text and "conv" in text


def test_torch_style_model2():
    s = summary(model2())
    assert [r.output_shape for r in s.rows] == [
        (None, 8, 24, 24), (None, 8, 24, 24), (None, 8, 12, 12), (None, 16, 10, 10), (None, 16, 10, 10),
        (None, 16, 5, 5), (None, 400), (None, 10)]
    assert [r.type for r in s.rows][:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert s.params_by_layer() == {"0": 208, "3": 1_168, "7": 4_010}
    assert s.total_params == 5_386 and s.output_shape == (None, 10) and s.input_size == (1, 28, 28)
    assert summary(model1()).total_params == 178_110


def test_keras_style_names_and_hidden_activations():
    s = summary(model2(), style="keras", activations=False)
    assert [r.name for r in s.rows] == ["input_layer", "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1",
                                        "flatten", "dense"]
    assert s.rows[3].output_shape == (None, 10, 10, 16)


def test_vgg19_matches_seed001_table():
    with torch.device("meta"):
        net = vgg19()
    s = summary(net, style="keras", activations=False)
    assert [(r.name, r.output_shape[1:]) for r in s.rows[1:22]] == SEED001_TABLE
    assert s.rows[0].output_shape == (None, 224, 224, 3)


def test_vgg16_has_three_convolutions_in_blocks_3_to_5():
    with torch.device("meta"):
        net = vgg16()
    s = summary(net, style="keras", activations=False)
    names = [r.name for r in s.rows]
    expected = [name for name, _ in SEED001_TABLE if not name.endswith("conv4")]
    assert names[1:19] == expected
    assert s.rows[18].output_shape == (None, 7, 7, 512)
    assert s.total_params == 138_357_544


def test_vgg19_flattens_to_25088():
    with torch.device("meta"):
        net = vgg19()
    s = summary(net)
    flat = next(r for r in s.rows if r.type == "Flatten")
    assert flat.output_shape == (None, 25_088)
    assert len([r for r in s.rows if r.type == "Conv2d"]) == 16


def test_why_max_pool_shapes():
    s = summary(no_max_pool(dense=True), style="keras", activations=False)
    assert [r.output_shape for r in s.rows][1:4] == [(None, 26, 26, 32), (None, 24, 24, 64), (None, 22, 22, 64)]
    assert s.rows[-1].params == 30_977


def test_lenet5_table():
    rows = lenet5_table().rows
    assert [r[0] for r in rows] == ["Input", "CONV1", "POOL1", "CONV2", "POOL2", "FC3", "FC4", "Softmax"]
    assert [r[1] for r in rows] == ["(32, 32, 3)", "(28, 28, 8)", "(14, 14, 8)", "(10, 10, 16)", "(5, 5, 16)",
                                    "(120, 1)", "(84, 1)", "(10, 1)"]
    assert [r[2] for r in rows] == ["3,072", "6,272", "1,568", "1,600", "400", "120", "84", "10"]
    assert [r[3] for r in rows] == ["0", "608", "0", "3,216", "0", "48,120", "10,164", "850"]
    assert [r[4] for r in rows] == ["0", "208", "0", "416", "0", "48,001", "10,081", "841"]
    assert "notes say" in str(lenet5_table())


def test_batchnorm_statistics_are_keras_non_trainable():
    block = residual_block()
    torch_style = summary(block)
    assert torch_style.non_trainable_params == 0 and torch_style.total_params == 73_984
    keras_style = summary(block, style="keras")
    assert keras_style.non_trainable_params == 2 * 2 * 64
    assert keras_style.trainable_params == 73_984


def test_summary_leaves_the_model_alone():
    m = model2()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    summary(m)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert all(p.device.type == "cpu" for p in m.parameters())


def test_shared_layer_counted_once():
    conv = nn.Conv2d(3, 3, 3, padding=1)
    m = nn.Sequential(conv, nn.ReLU(), conv)
    s = summary(m, (3, 8, 8))
    assert [r.params for r in s.rows] == [84, 0, 0]
    assert s.total_params == 84


def test_fallback_to_a_real_pass(monkeypatch):
    monkeypatch.setattr(summary_module, "_REAL_PASS_LIMIT", 0)   # every model takes the meta path

    class NeedsValues(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x):
            if x.sum().item() > 1e9:  # .item() is impossible on the meta device
                return x
            return self.lin(x)

    s = summary(NeedsValues(), (4,))
    assert s.output_shape == (None, 2) and s.total_params == 10


@pytest.mark.parametrize("build", [model2, lenet5, residual_block, lambda: keras_example(4)])
def test_meta_and_real_passes_agree(monkeypatch, build):
    real = summary(build(), style="keras")
    monkeypatch.setattr(summary_module, "_REAL_PASS_LIMIT", 0)
    meta = summary(build(), style="keras")
    assert meta.rows == real.rows and meta.total_params == real.total_params


def test_real_pass_leaves_batchnorm_statistics_and_mode_alone():
    block = residual_block()
    block.train()
    before = block.bn1.running_mean.clone(), int(block.bn1.num_batches_tracked)
    summary(block)
    assert block.training
    assert torch.equal(block.bn1.running_mean, before[0]) and int(block.bn1.num_batches_tracked) == before[1]


def test_summary_errors():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        summary("model2", (1, 28, 28))
    with pytest.raises(ValueError, match="style must be one of 'torch', 'keras'"):
        summary(model2(), style="tf")
    with pytest.raises(ValueError, match="input_size must be a non-empty tuple of positive ints"):
        summary(model2(), (1, 0, 28))
    with pytest.raises(ValueError, match="input_size is required"):
        summary(nn.Linear(3, 2))


# ----------------------------------------------------------------------------- parity
torchinfo = pytest.importorskip("torchinfo")


@st.composite
def conv_stacks(draw):
    c = draw(st.integers(1, 3))
    size = draw(st.integers(8, 20))
    layers, side = [], size
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(1, 3))
        stride = draw(st.integers(1, 2))
        pad = draw(st.integers(0, 1))
        out = draw(st.integers(1, 4))
        if (side + 2 * pad - k) // stride + 1 < 1:
            break
        layers += [nn.Conv2d(c, out, k, stride=stride, padding=pad, bias=draw(st.booleans())), nn.ReLU()]
        side = (side + 2 * pad - k) // stride + 1
        c = out
        if draw(st.booleans()) and side >= 2:
            layers.append(nn.MaxPool2d(2))
            side //= 2
    layers += [nn.Flatten(), nn.Linear(c * side * side, draw(st.integers(1, 5)))]
    return nn.Sequential(*layers), (layers[0].in_channels, size, size)


@settings(max_examples=20, deadline=None)
@given(conv_stacks())
def test_parity_with_torchinfo_and_a_real_forward(stack):
    model, size = stack
    ours = summary(model, size)
    ref = torchinfo.summary(model, input_size=(2, *size), verbose=0, device="cpu")
    leaves = [li for li in ref.summary_list if li.is_leaf_layer]
    assert [(r.type, r.output_shape[1:], r.params) for r in ours.rows] == \
        [(li.class_name, tuple(li.output_size[1:]), li.num_params) for li in leaves]
    assert ours.total_params == ref.total_params
    # and a real forward pass of each layer
    x = torch.zeros(2, *size)
    for layer, row in zip(model, ours.rows):
        x = layer(x)
        assert row.output_shape == (None, *x.shape[1:])
