"""Lesson 07's ArchitectureBuilder: the stack language, summary parity with the model builders."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

from cnnlab.nn import count_parameters, lenet5, model1, model2, summary  # noqa: E402
from cnnlab.widgets.architecture import STACKS, ArchitectureBuilder, build_stack  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.mark.parametrize("stack, reference", [
    ("model2 (Unit 5 notes)", model2), ("model1 (MLP)", model1), ("LeNet-5 (CNN lecture notes, corrected)", lenet5),
])
def test_stacks_rebuild_the_course_models(stack, reference):
    text, size = STACKS[stack]
    net, _ = build_stack(text, size)
    ref = reference()
    assert count_parameters(net) == count_parameters(ref)
    assert [r.output_shape for r in summary(net, size).rows if r.params] == \
        [r.output_shape for r in summary(ref).rows if r.params]


def test_batch_norm_and_dropout_tokens():
    net, spatial = build_stack("conv8:5 bn pool2 conv16:3/p1 bn pool2 drop0.5 dense10")
    assert [type(m).__name__ for m in net] == ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d", "Conv2d", "ReLU",
                                               "BatchNorm2d", "MaxPool2d", "Dropout", "Flatten", "Linear"]
    assert net[4].padding == (1, 1) and net[8].p == 0.5 and spatial == [(5, 1), (2, 2), (3, 1), (2, 2)]
    assert net.training                                                   # left in training mode
    mlp, spatial = build_stack("dense20 bn dense10")
    assert type(mlp[3]).__name__ == "BatchNorm1d" and spatial == []


def test_builder_follows_the_controls():
    ex = ArchitectureBuilder()
    assert (ex.result.total_params, ex.result.receptive_field) == (5_386, 12)
    assert 'data-total="5386"' in ex.rendered_html and "Total params: 5,386" in ex.rendered_html
    ex.stack.value = "LeNet-5 (CNN lecture notes, corrected)"
    assert ex.input_size.value == (3, 32, 32) and ex.result.total_params == 62_958
    assert ex.updates == 2                                                # preset: one redraw
    assert [r.params for r in ex.result.rows if r.params] == [608, 3_216, 48_120, 10_164, 850]
    ex.layers.value = "conv8:5 bn pool2 conv16:3 bn pool2 dense10"
    ex.input_size.value = (1, 28, 28)
    assert (ex.result.trainable_params, ex.result.non_trainable_params) == (5_434, 48)
    assert ex.stack.value == "custom"
    assert len(ex.figure.axes[0].patches) == len(ex.result.rows)


@pytest.mark.parametrize("text, match", [
    ("conv8", "layer 'conv8' is not understood"),
    ("", "layers \\(text\\) must list at least one layer"),
    ("dense10 conv8:3", "comes after a dense layer"),
    ("conv8:5 pool2 conv16:30 dense10", r"does not fit a \(1, 28, 28\) input"),
    ("conv0:3", "filters, kernel size and stride must be positive"),
])
def test_errors_are_shown_not_raised(text, match):
    ex = ArchitectureBuilder()
    ex.layers.value = text
    assert ex.result is None and ex.error is not None
    with pytest.raises(ValueError, match=match):
        build_stack(text)


def test_argument_errors():
    with pytest.raises(TypeError, match="layers \\(text\\) must be a string"):
        build_stack(3)
    with pytest.raises(ValueError, match="input_size must be a"):
        build_stack("dense10", (28, 28))
    with pytest.raises(ValueError, match="stack must be one of"):
        ArchitectureBuilder(stack="VGG")
