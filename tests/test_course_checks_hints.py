"""Feedback a student can read: arrays as grids with their shape, and a hint that names the
mistake the check recognised (or stays neutral when it recognised none)."""
import re

import numpy as np
import pytest
import torch

from cnnlab.course.checks import CheckFailed, ps1, ps2, ps3
from cnnlab.course.checks import _core as C


def _failure(check, *args) -> str:
    with pytest.raises(CheckFailed) as info:
        check(*args)
    return str(info.value)


def _hint(text: str) -> str:
    found = re.findall(r"^\s*hint: (.*)$", text, flags=re.M)
    assert found, text
    return found[-1]


# -- fmt: grids with shapes ----------------------------------------------------------------
def test_fmt_matrix_is_a_grid_with_its_shape():
    text = C.fmt(np.arange(48.0).reshape(6, 8))
    lines = text.split("\n")
    assert lines[0] == "array of shape (6, 8), float64:"
    assert len(lines) == 7                                   # header + one line per row
    assert lines[1].strip() == "[[ 0,  1,  2,  3,  4,  5,  6,  7],"
    assert lines[-1].strip() == "[40, 41, 42, 43, 44, 45, 46, 47]]"
    assert all(line.startswith("    ") for line in lines[1:])
    # the columns line up: every row has the same length
    assert len({len(line.rstrip(",]")) for line in lines[2:]}) == 1


def test_fmt_long_vector_is_not_one_flat_line():
    text = C.fmt(np.arange(48) / 3)
    lines = text.split("\n")
    assert lines[0] == "array of shape (48,), float64:"
    assert len(lines) == 1 + 5                               # rows of 10, each with its first index
    assert lines[1].split()[0] == "[0]" and lines[5].split()[0] == "[40]"
    assert "0.3333" in lines[1] and max(len(line) for line in lines) < 100


def test_fmt_nested_lists_of_numbers_read_like_arrays():
    text = C.fmt([[1, 2, 3], [4, 5, 6]])
    assert text.split("\n")[0] == "list of shape (2, 3):"
    assert "[[1, 2, 3]," in text and "[4, 5, 6]]" in text
    assert C.fmt([1, 2.5]) == "[1, 2.5]  (list of shape (2,))"
    assert C.fmt((28, 28, 8)) == "(28, 28, 8)"               # a shape stays a tuple
    assert C.fmt([[1, 2], [3]]) == "[[1, 2], [3]]"          # ragged: not an array


def test_fmt_more_axes_as_2d_slices_and_big_grids_cut():
    text = C.fmt(np.zeros((2, 3, 4, 5)))
    assert "[0, 0, :, :] =" in text and "[1, 0, :, :] =" in text and "… and 2 more 4×5 slices" in text
    big = C.fmt(np.arange(400.0).reshape(20, 20))
    assert "⋮" in big and "…" in big and big.count("\n") < 16


def test_failure_message_comes_first_and_grids_indent_under_their_label():
    with pytest.raises(CheckFailed) as info:
        C.expect_array(np.zeros((4, 4)), np.eye(4), call="f(x)", inputs={"x": np.ones((3, 3))}, hint="h")
    lines = str(info.value).split("\n")
    assert lines[0] == "f(x) returned the wrong values."
    assert lines[1] == "  x = array of shape (3, 3), float64:"
    assert lines[2] == "      [[1, 1, 1],"
    assert "  returned: array of shape (4, 4), float64:" in lines
    assert lines[-1] == "  hint: h"


def test_call_shows_large_arguments_by_shape():
    text = _failure(C.call, lambda a: 1 / 0, np.zeros((6, 6)))
    assert "<array of shape (6, 6)>" in text and "ZeroDivisionError" in text


# -- ps3 question 1b: names, types, channels-first ------------------------------------------
GOOD_SHAPES = {"CONV1": (28, 28, 6), "POOL1": (14, 14, 6), "CONV2": (10, 10, 16), "POOL2": (5, 5, 16),
               "FC3": (120, 1), "FC4": (84, 1), "Softmax": (10, 1)}
GOOD_PARAMS = {"CONV1": 156, "POOL1": 0, "CONV2": 2416, "POOL2": 0, "FC3": 48120, "FC4": 10164, "Softmax": 850}


def test_lenet_solution_passes(capsys):
    ps3.check_lenet_table(GOOD_SHAPES, GOOD_PARAMS)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("layer, shape", [("CONV1", (6, 28, 28)), ("CONV2", (16, 10, 10)), ("POOL2", (16, 5, 5))])
def test_lenet_channels_first_is_named(layer, shape):
    text = _failure(ps3.check_lenet_table, dict(GOOD_SHAPES, **{layer: shape}), GOOD_PARAMS)
    assert "channels first (C, H, W)" in text
    assert f"{(shape[1], shape[2], shape[0])}" in _hint(text)
    assert "square" not in text


def test_lenet_unequal_sides_get_the_square_hint():
    text = _failure(ps3.check_lenet_table, dict(GOOD_SHAPES, POOL1=(14, 13, 6)), GOOD_PARAMS)
    assert "height 14 and width 13 differ" in text and "channels" not in text


@pytest.mark.parametrize("shapes, params, needle", [
    ([("CONV1", (28, 28, 6))], GOOD_PARAMS, "lenet_shapes should be a dict[str, tuple[int, ...]]"),
    (GOOD_SHAPES, 608, "lenet_params should be a dict[str, int]"),
    ({k: v for k, v in GOOD_SHAPES.items() if k != "FC4"}, GOOD_PARAMS, "missing: 'FC4'"),
    (dict(GOOD_SHAPES, conv1=(28, 28, 6)), GOOD_PARAMS, "not a layer of the table: 'conv1'"),
    (GOOD_SHAPES, dict(GOOD_PARAMS, FC3=48120.0), "lenet_params['FC3'] should be an int"),
    (dict(GOOD_SHAPES, CONV1=[28, 28, 6]), GOOD_PARAMS, "write it as a tuple, (28, 28, 6)"),
    (dict(GOOD_SHAPES, FC3=(120,)), GOOD_PARAMS, "(units, 1), e.g. (120, 1)"),
])
def test_lenet_names_the_variables_and_their_types(shapes, params, needle):
    assert needle in _failure(ps3.check_lenet_table, shapes, params)


def test_lenet_question_names_the_variables_in_the_notebook():
    import json
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for folder in ("solutions", "assignments"):
        nb = json.loads((root / folder / "ps3" / "ps3.ipynb").read_text())
        text = "".join("".join(c["source"]) for c in nb["cells"]
                       if c["metadata"].get("nbgrader", {}).get("grade_id") in ("q1_lenet_explain", "q1_lenet"))
        for needle in ("`lenet_shapes`", "`lenet_params`", "dict[str, tuple[int, ...]]", "dict[str, int]"):
            assert needle in text, (folder, needle)


# -- other hints: the recognised mistake, or a neutral hint ----------------------------------
def _toeplitz(h, n):
    h = np.asarray(h, float)
    T = np.zeros((n + len(h) - 1, n))
    for j in range(n):
        T[j:j + len(h), j] = h
    return T


def _conv2d_valid(image, kernel):
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


@pytest.mark.parametrize("wrong, needle", [
    (lambda h, n: _toeplitz(h, n).T, "rows and columns are swapped"),
    (lambda h, n: _toeplitz(h[::-1], n), "the kernel runs the wrong way"),
    (lambda h, n: np.ones((n + len(h) - 1, n)), "column j holds x0, x1, x2"),        # neutral
])
def test_toeplitz_hints(wrong, needle):
    assert needle in _hint(_failure(ps1.check_toeplitz, wrong))


def test_flipped_kernel_is_named_and_other_mistakes_are_not():
    flipped = lambda image, kernel: _conv2d_valid(image, np.asarray(kernel)[::-1, ::-1])  # noqa: E731
    assert "you flipped the kernel" in _hint(_failure(ps1.check_conv2d, flipped))
    doubled = lambda image, kernel: 2 * _conv2d_valid(image, kernel)  # noqa: E731
    assert "flipped" not in _hint(_failure(ps1.check_conv2d, doubled))
    # homework #1: +5 in the first cell is the flipped kernel
    edge = _conv2d_valid(ps1.IMAGE, ps1.PREWITT_VERTICAL)
    assert "+5 is what the flipped kernel gives" in _failure(ps1.check_edges, -edge, -edge)
    assert "flipped" not in _failure(ps1.check_edges, edge + 1, -edge)


def test_ps2_flipped_kernel_on_the_image_only():
    def conv2d(image, kernel, stride=1, padding=0, dilation=1):
        kernel = np.asarray(kernel, float)
        if kernel.shape == (3, 3):
            kernel = kernel[::-1, ::-1]
        return _conv2d_valid(np.pad(np.asarray(image, float), padding), kernel)
    assert "+5 is what the flipped kernel gives" in _hint(_failure(ps2.check_conv2d_basic, conv2d))


def test_same_padding_reversed_split():
    def same_padding(n, f, stride=1):
        out = -(-n // stride)
        total = max((out - 1) * stride + f - n, 0)
        return (total - total // 2, total // 2)
    assert "the odd zero goes at the end" in _hint(_failure(ps1.check_same_padding, same_padding))


@pytest.mark.parametrize("value, needle", [
    (30_976 * 100 + 100, "is the first layer alone"),
    (30_976 * 100, "the first layer's weights only"),
    (30_000, "not more than the 30,977"),
])
def test_dense_head_hints(value, needle):
    assert needle in _failure(ps3.check_dense_head, value)


def test_dense_head_unrecognised_value_passes_the_sanity_checks():
    ps3.check_dense_head(4_000_000)          # wrong, but no mistake recognised: the hidden test judges


@pytest.mark.parametrize("layers, needle", [
    (lambda nn: [nn.Conv2d(1, 8, 5), nn.ReLU(), nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                 nn.Flatten(), nn.Linear(400, 10)], "a 2x2 max-pool after each"),
    (lambda nn: [nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                 nn.MaxPool2d(2), nn.Linear(400, 10)], "torch.nn.Flatten()"),
    (lambda nn: [nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                 nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10), nn.Softmax(1)], "remove the Softmax"),
])
def test_model2_layer_hints(layers, needle):
    text = _failure(ps3.check_model2, lambda: torch.nn.Sequential(*layers(torch.nn)))
    assert needle in _hint(text)
