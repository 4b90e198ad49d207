"""ps3's visible checks and hidden tests, run without a kernel on the solution notebook's cells.

The solution passes every visible check and hidden test; typical wrong answers fail with a
teacher's message; hard-coding what the visible checks show does not pass the hidden tests.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from cnnlab.course.checks import CheckFailed, ps3

torch = pytest.importorskip("torch")
nbformat = pytest.importorskip("nbformat")
import _nbcells  # noqa: E402
from _nbcells import run as _run  # noqa: E402
pytestmark = [pytest.mark.torch, pytest.mark.course, pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "ps3" / "ps3.ipynb"


def _cells(path=SOURCE):
    return _nbcells.cells(path)


@pytest.fixture(scope="module")
def solved(one_thread):
    return _nbcells.namespace(SOURCE)


def test_structure_and_release():
    release = _nbcells.check_structure("ps3", 13)
    assert "3_097_801" not in release and '{"b", "c", "d"}' not in release


def test_solution_passes_visible_and_hidden_tests(solved):
    for gid, cell in _cells().items():
        if gid.endswith("_test"):
            _run(cell.source, solved)       # raises on any failure


# ----------------------------------------------------------------------------- wrong answers
def test_counting_without_bias_or_channels_fails():
    with pytest.raises(CheckFailed, match=r"conv_params\(3, 3, 10\).*\n.*returned: 270"):
        ps3.check_counting(lambda k, c_in, c_out, bias=True: k * k * c_in * c_out, lambda n, m, bias=True: n * m)
    with pytest.raises(CheckFailed, match="280"):
        ps3.check_counting(lambda k, c_in, c_out, bias=True: (k * k + 1) * c_out, lambda n, m, bias=True: (n + 1) * m)


def test_notes_lenet_numbers_are_rejected(solved):
    params = dict(solved["lenet_params"], CONV1=208, FC3=48_001)
    with pytest.raises(CheckFailed, match="notes' numbers for CONV1, FC3"):
        ps3.check_lenet_table(solved["lenet_shapes"], params)
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ps3.check_lenet_table({"CONV1": (28, 28, 6)}, solved["lenet_params"])
    with pytest.raises(CheckFailed, match="nothing to learn"):
        ps3.check_lenet_table(solved["lenet_shapes"], dict(solved["lenet_params"], POOL1=5))


def test_dense_head_and_receptive_field_sanity():
    with pytest.raises(CheckFailed, match="first layer alone"):
        ps3.check_dense_head(30_976 * 100 + 100)
    with pytest.raises(CheckFailed, match="not more than"):
        ps3.check_dense_head(30_977)
    with pytest.raises(CheckFailed, match="should be an int"):
        ps3.check_dense_head(3.1e6)
    with pytest.raises(CheckFailed, match="already see 9"):
        ps3.check_receptive_field(5)
    with pytest.raises(CheckFailed, match="the jump"):
        ps3.check_receptive_field(11)    # k - 1 added for every layer, no jump
    with pytest.raises(CheckFailed, match="too large"):
        ps3.check_receptive_field(64)
    ps3.check_dense_head(3_097_801)
    ps3.check_receptive_field(16)


def test_hidden_tests_catch_plausible_wrong_fill_ins(solved):
    cells = _cells()
    ns = dict(solved, dense_head_params=3_097_803)     # passes the sanity checks, wrong value
    ps3.check_dense_head(ns["dense_head_params"])
    with pytest.raises(AssertionError):
        _run(cells["q1_dense_test"].source, ns)
    for wrong in (12, 19, 14):     # model2's answer; J_l instead of J_(l-1); no pools
        ns = dict(solved, vgg_rf=wrong)
        ps3.check_receptive_field(wrong)
        with pytest.raises(AssertionError):
            _run(cells["q1_rf_test"].source, ns)
    # the lesson's (corrected, colour, 8 filters) LeNet-5 table passes the format checks but not the hidden tests
    lesson_shapes = {"CONV1": (28, 28, 8), "POOL1": (14, 14, 8), "CONV2": (10, 10, 16), "POOL2": (5, 5, 16),
                     "FC3": (120, 1), "FC4": (84, 1), "Softmax": (10, 1)}
    lesson_params = {"CONV1": 608, "POOL1": 0, "CONV2": 3216, "POOL2": 0, "FC3": 48120, "FC4": 10164,
                     "Softmax": 850}
    with pytest.raises(CheckFailed, match=r"lenet_shapes\['CONV1'\]"):
        ps3.check_lenet_table(lesson_shapes, lesson_params)
    with pytest.raises(CheckFailed, match="notes' numbers for CONV2"):   # 16 * (25 + 1): one input channel
        ps3.check_lenet_table(solved["lenet_shapes"], dict(solved["lenet_params"], CONV2=416))
    ns = dict(solved, lenet_params=dict(solved["lenet_params"], CONV2=16 * 25 * 6))   # no biases
    with pytest.raises(CheckFailed, match="CONV2"):
        _run(cells["q1_lenet_test"].source, ns)


def test_model_checks():
    def no_pool():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3),
                                   torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16 * 22 * 22, 10))

    with pytest.raises(CheckFailed, match="a 2x2 max-pool after each convolution"):
        ps3.check_model2(no_pool)

    def with_softmax():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                   torch.nn.Conv2d(8, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                   torch.nn.Flatten(), torch.nn.Linear(400, 10), torch.nn.Softmax(dim=1))

    with pytest.raises(CheckFailed, match="outputs logits"):
        ps3.check_model2(with_softmax)

    def bad_flatten():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5), torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3),
                                   torch.nn.MaxPool2d(2), torch.nn.Linear(400, 10))

    with pytest.raises(CheckFailed, match="ReLU after each convolution"):
        ps3.check_model2(bad_flatten)


def test_hidden_model_test_catches_missing_relu(solved):
    def no_relu():
        return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 5), torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3),
                                   torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(400, 10))

    with pytest.raises(CheckFailed, match="ReLU after each convolution"):
        ps3.check_model2(no_relu)
    with pytest.raises(AssertionError):
        _run(_cells()["q2_model2_test"].source, dict(solved, build_model2=no_relu))


def test_accuracy_and_training_checks(solved):
    with pytest.raises(CheckFailed, match="argmax"):
        ps3.check_accuracy(lambda model, images, labels: 1.0)

    def unscaled(model, images, labels):  # forgets the /255
        x = torch.as_tensor(np.asarray(images), dtype=torch.float32).unsqueeze(1)
        with torch.no_grad():
            return float((model(x).argmax(1).numpy() == np.asarray(labels)).mean())

    with pytest.raises(CheckFailed, match="divide the uint8 images by 255"):
        ps3.check_accuracy(unscaled)
    untrained = solved["build_model2"]()
    with pytest.raises(CheckFailed, match="below 90%"):
        ps3.check_trained(untrained, solved["data"].val)
    with pytest.raises(CheckFailed, match="parameters of the trained model"):
        ps3.check_trained(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10)), solved["data"].val)


def test_explanation_checks():
    with pytest.raises(CheckFailed, match="statement a is false"):
        ps3.check_explanation({"a", "b"}, 33)
    with pytest.raises(CheckFailed, match="non-empty set"):
        ps3.check_explanation(["b"], 33)
    with pytest.raises(CheckFailed, match="178,110 / 5,386"):
        ps3.check_explanation({"b"}, 32)
    ps3.check_explanation({"b"}, 33)                    # visible check passes an incomplete answer ...
    with pytest.raises(AssertionError):                 # ... the hidden test does not
        _run(_cells()["q4_answer_test"].source, {"ps3": ps3, "reasons": {"b"}, "ratio": 33})
