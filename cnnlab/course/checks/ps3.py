"""Visible checks of problem set 3 (counting, building and training the Unit 5 notes' model2).

Counting drills are checked visibly with the sources' own numbers (280 and 456 of the CNN
lecture notes, 10 and 142 of the Chollet slides' Examples 1 and 2, model1's 178,110 and
model2's 5,386 of the Unit 5 notes, §5.4.3) and for sanity; the fill-in answers (the
classic LeNet-5 table, the dense head the Chollet slides leave open after 30,977, the
receptive field of a VGG-style stack, the explanation) are checked fully only by the
hidden tests in ``solutions/``. torch is
imported inside the checks that need it, so importing this module stays light.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._core import Checker, CheckFailed, fmt

#: the library rule of each question (see ``_rules``): model2 is what question 2 asks you to build
RULES = {
    "q2_model2_test": ("question 2 (build_model2)", ("cnnlab.nn.model2", "cnnlab.nn.models.model2")),
}

__all__ = ["TARGET_ACCURACY", "STATEMENTS", "LENET_LAYERS", "check_counting", "check_lenet_table",
           "check_dense_head", "check_receptive_field", "check_model2", "check_accuracy", "check_trained",
           "check_explanation"]

#: validation accuracy question 3 asks for (on the 1,000 validation digits of the setup cell)
TARGET_ACCURACY = 0.90

#: the layers of the LeNet-5 table (the CNN lecture notes' names), in order
LENET_LAYERS = ("CONV1", "POOL1", "CONV2", "POOL2", "FC3", "FC4", "Softmax")
_NOTES_LENET = {"CONV1": 208, "CONV2": 416, "FC3": 48_001, "FC4": 10_081, "Softmax": 841}

#: question 4's statements; the answer is the set of letters that explain model2's win
STATEMENTS = {
    "a": "model2 has more parameters than model1, so it can fit the data better",
    "b": "a convolution uses the same small filter at every position (parameter sharing)",
    "c": "each unit of a convolutional layer only looks at a small neighbourhood (locality)",
    "d": "max pooling makes the features tolerant to small shifts of the digit",
    "e": "a fully connected network cannot represent a digit classifier at all",
    "f": "model2 was trained with a larger learning rate than model1",
}


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _sanity(checker: Checker, ok: bool, message: str) -> None:
    """One sanity check: CheckFailed with ``message`` unless ``ok``; counted like the others."""
    __tracebackhide__ = True
    if not ok:
        raise CheckFailed(message)
    checker.count += 1


# ----------------------------------------------------------------------------- question 1
def check_counting(conv_params, dense_params) -> None:
    """``conv_params(k, c_in, c_out, bias=True)`` and ``dense_params(n_in, n_out, bias=True)``."""
    __tracebackhide__ = True
    c = Checker("conv_params / dense_params")
    cases = [
        ((3, 3, 10), {}, 280, "CNN lecture notes: ten 3x3x3 filters, each with one bias: (3*3*3 + 1) * 10 = 280"),
        ((5, 3, 6), {}, 456, "CNN lecture notes: six 5x5x3 filters: (5*5*3 + 1) * 6 = 456"),
        ((3, 1, 1), {}, 10, "Chollet slides, Example 1: one 3x3 filter on one channel plus a bias, 9 + 1 = 10"),
        ((3, 1, 5), {}, 50, "Chollet slides, Example 2's first layer: five 3x3 filters on one channel, (9 + 1) * 5"),
        ((3, 5, 2), {}, 92, "Chollet slides, Example 2's second layer: each filter spans all 5 input channels, (3*3*5 + 1) * 2"),
        ((3, 3, 10), {"bias": False}, 270, "without biases only the weights remain: 3*3*3*10"),
    ]
    for args, kwargs, expected, hint in cases:
        shown = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        c.int(c.call(conv_params, *args, name="conv_params", **kwargs), expected, call=f"conv_params({shown})",
              hint=hint)
    for args, kwargs, expected, hint in [
        ((784, 200), {}, 157_000, "model1 of the Unit 5 notes (§5.4.3), first layer: 784*200 weights + 200 biases"),
        ((400, 10), {}, 4_010, "model2 of the Unit 5 notes (§5.4.3), dense layer: 400*10 + 10"),
        ((100, 10), {"bias": False}, 1_000, "no biases: 100*10"),
    ]:
        shown = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
        c.int(c.call(dense_params, *args, name="dense_params", **kwargs), expected,
              call=f"dense_params({shown})", hint=hint)
    total = sum(c.call(dense_params, *a, name="dense_params") for a in ((784, 200), (200, 100), (100, 10)))
    c.int(total, 178_110, call="model1's three dense layers", hint="784*200 + 200 + 200*100 + 100 + 100*10 + 10 = 178,110 (Unit 5 notes, §5.4.3)")
    c.done()


_MAPS = ("CONV1", "POOL1", "CONV2", "POOL2")
_TYPES = {"lenet_shapes": ("dict[str, tuple[int, ...]]", "{'CONV1': (28, 28, 6), 'POOL1': (...), ...}",
                           "a tuple of positive ints, (H, W, C) for a map or (units, 1) for a dense layer"),
          "lenet_params": ("dict[str, int]", "{'CONV1': ..., 'POOL1': 0, ...}",
                           "an int, the number of learnable parameters (0 or more)")}


def _table_types(lenet_shapes, lenet_params) -> None:
    """Both answers are dicts with exactly the seven layer names as keys, and values of the right type."""
    __tracebackhide__ = True
    for name, table in (("lenet_shapes", lenet_shapes), ("lenet_params", lenet_params)):
        kind, example, _ = _TYPES[name]
        if not isinstance(table, dict):
            raise CheckFailed(f"{name} should be a {kind}, e.g. {name} = {example}, got a "
                              f"{type(table).__name__}: {fmt(table)}\n"
                              f"  hint: its keys are the layer names {list(LENET_LAYERS)}")
        missing = [k for k in LENET_LAYERS if k not in table]
        extra = [k for k in table if k not in LENET_LAYERS]
        if missing or extra:
            lines = [f"{name} should have exactly the keys {list(LENET_LAYERS)}."]
            if missing:
                lines.append(f"  missing: {', '.join(map(repr, missing))}")
            if extra:
                lines.append(f"  not a layer of the table: {', '.join(map(repr, extra))}")
            lines.append("  hint: spell the layer names as the table does, e.g. 'CONV1', 'FC3', 'Softmax'")
            raise CheckFailed("\n".join(lines))
    for layer in LENET_LAYERS:
        value = lenet_params[layer]
        if not _is_int(value) or value < 0:
            extra = (" (a count of parameters is a whole number: use // or int(...))"
                     if isinstance(value, float) else "")
            raise CheckFailed(f"lenet_params[{layer!r}] should be {_TYPES['lenet_params'][2]}, got "
                              f"{type(value).__name__} {fmt(value)}{extra}")
        shape = lenet_shapes[layer]
        if isinstance(shape, list) and all(_is_int(v) for v in shape):
            raise CheckFailed(f"lenet_shapes[{layer!r}] is the list {fmt(shape)}: write it as a tuple, "
                              f"{tuple(shape)}")
        if not (isinstance(shape, tuple) and shape and all(_is_int(v) and v > 0 for v in shape)):
            raise CheckFailed(f"lenet_shapes[{layer!r}] should be {_TYPES['lenet_shapes'][2]}, got "
                              f"{type(shape).__name__} {fmt(shape)}")


def _channels_first(shape) -> bool:
    """(C, H, W) with a square map, e.g. (8, 28, 28): the PyTorch order instead of the table's."""
    return len(shape) == 3 and shape[1] == shape[2] and shape[0] != shape[1]


def check_lenet_table(lenet_shapes, lenet_params) -> None:
    """The classic LeNet-5 table (32×32×1 input, 6 then 16 filters): ``lenet_shapes``, a
    ``dict[str, tuple[int, ...]]`` of activation shapes ((H, W, C) for maps, (units, 1) for
    dense layers), and ``lenet_params``, a ``dict[str, int]`` of parameter counts, both
    keyed by LENET_LAYERS."""
    __tracebackhide__ = True
    c = Checker("LeNet-5 table")
    _table_types(lenet_shapes, lenet_params)
    for layer in _MAPS:
        shape = lenet_shapes[layer]
        if _channels_first(shape):
            raise CheckFailed(
                f"lenet_shapes[{layer!r}] = {shape} puts the channels first (C, H, W), as PyTorch does.\n"
                f"  hint: the table writes maps channels last, (H, W, C): {(shape[1], shape[2], shape[0])}")
        if len(shape) != 3:
            raise CheckFailed(f"lenet_shapes[{layer!r}] = {shape} should have three numbers (H, W, C): "
                              "height, width and channels of the feature map")
    for layer in ("FC3", "FC4", "Softmax"):
        shape = lenet_shapes[layer]
        if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1 and shape[1] != 1):
            raise CheckFailed(f"lenet_shapes[{layer!r}] = {shape}: the table writes a dense layer as a "
                              f"column, (units, 1), e.g. {(max(shape), 1)}")
    c.equal(lenet_shapes["CONV1"], (28, 28, 6), call="lenet_shapes['CONV1']",
            hint="the question gives it: 32 - 5 + 1 = 28, and 6 filters")
    c.equal(lenet_shapes["Softmax"], (10, 1), call="lenet_shapes['Softmax']", hint="ten classes, written (10, 1)")
    for layer in ("POOL1", "POOL2"):
        c.int(lenet_params[layer], 0, call=f"lenet_params[{layer!r}]",
              hint="pooling has hyper-parameters (f, s) but nothing to learn")
    copied = [layer for layer, wrong in _NOTES_LENET.items() if lenet_params[layer] == wrong]
    if copied:
        raise CheckFailed(
            f"lenet_params has the CNN lecture notes' numbers for {', '.join(copied)} "
            f"({', '.join(str(_NOTES_LENET[x]) for x in copied)}).\n"
            "  Those belong to another network (8 filters on a colour image) and are wrong even there: they use "
            "one input channel and one bias per layer. Count this network's layers from its shapes:\n"
            "  a conv filter spans every input channel and each filter has a bias; a dense layer has one bias "
            "per unit.")
    for layer in ("POOL1", "CONV2", "POOL2"):
        h, w = lenet_shapes[layer][:2]
        if h != w:
            raise CheckFailed(f"lenet_shapes[{layer!r}] = {lenet_shapes[layer]}: height {h} and width {w} "
                              "differ, but the input is square (32×32) and every filter and pooling window "
                              "is square, so every map stays square")
    c.done()


def check_dense_head(n_params) -> None:
    """The Chollet slides' open question ('why max-pool?'): Dense(100) then Dense(1) on the 22x22x64 output."""
    __tracebackhide__ = True
    c = Checker("dense head")
    _sanity(c, _is_int(n_params), f"dense_head_params should be an int, got {fmt(n_params)}")
    _sanity(c, n_params > 30_977,
            f"dense_head_params = {n_params:,} is not more than the 30,977 of a single output neuron; 100 neurons "
            "each need a weight for every one of the 22*22*64 inputs")
    inputs = 22 * 22 * 64
    if n_params == inputs * 100 + 100:
        raise CheckFailed(f"dense_head_params = {n_params:,} is the first layer alone (or both layers "
                          "without their biases): count the second layer, Dense(1) on the 100 outputs, and "
                          "one bias per neuron in both")
    if n_params == inputs * 100:
        raise CheckFailed(f"dense_head_params = {n_params:,} is the first layer's weights only: add its 100 "
                          "biases, and the second layer")
    c.count += 1
    c.done()


def check_receptive_field(rf) -> None:
    """Receptive field (one side, in pixels) of one unit after the VGG-style stack conv3,
    conv3, pool2, conv3, conv3, pool2 (convolutions stride 1, pools stride 2)."""
    __tracebackhide__ = True
    c = Checker("receptive field")
    _sanity(c, _is_int(rf), f"vgg_rf should be an int (pixels along one side), got {fmt(rf)}")
    _sanity(c, rf >= 9, f"vgg_rf = {rf}: four 3x3 convolutions alone already see 9 pixels; the "
                        "pooling layers widen the field further (R_l = R_(l-1) + (k - 1) J_(l-1))")
    _sanity(c, rf != 11, "vgg_rf = 11 adds k - 1 for every layer as if each moved one pixel at a time. "
                         "After a stride-2 pool one step of the next layer moves 2 input pixels (the jump "
                         "J doubles): R_l = R_(l-1) + (k_l - 1) J_(l-1), J_l = J_(l-1) s_l")
    _sanity(c, rf <= 32, f"vgg_rf = {rf}: too large; the field grows by (k - 1) times the jump of the layer "
                         "below at each layer, and the jump only reaches 4 at the very end")
    c.done()


# ----------------------------------------------------------------------------- question 2
def _torch():
    import torch

    return torch


def check_model2(build_model2) -> None:
    """``build_model2()`` -> a torch module matching model2 of the Unit 5 notes (§5.4.3)."""
    __tracebackhide__ = True
    torch = _torch()
    c = Checker("build_model2", forbid=RULES["q2_model2_test"])
    model = c.call(build_model2, name="build_model2")
    if not isinstance(model, torch.nn.Module):
        kind = getattr(model, "type_name", type(model).__name__)
        raise CheckFailed(f"build_model2() should return a torch.nn.Sequential of standard torch.nn "
                          f"layers, got {kind}")
    layers = [type(m).__name__ for m in model.modules() if not list(m.children())]
    expected = ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    if layers != expected:
        if "Softmax" in layers or "LogSoftmax" in layers:
            hint = ("model2 ends with the Linear layer: it outputs logits, and the loss "
                    "(cross-entropy) applies the softmax itself; remove the Softmax")
        elif layers.count("ReLU") < 2:
            hint = "model2 has a ReLU after each convolution (before its max-pool)"
        elif layers.count("MaxPool2d") < 2:
            hint = "model2 has a 2x2 max-pool after each convolution's ReLU"
        elif "Flatten" not in layers:
            hint = "flatten the 16 maps of 5x5 into 400 numbers (torch.nn.Flatten()) before the Linear layer"
        else:
            hint = "Conv2d, ReLU, MaxPool2d twice, then Flatten and one Linear layer"
        raise CheckFailed(f"build_model2() has the layers {layers}\n  expected: {expected}\n  hint: {hint}")
    x = torch.zeros(3, 1, 28, 28)
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:  # noqa: BLE001 - shown to the student
        raise CheckFailed(f"model(torch.zeros(3, 1, 28, 28)) raised {type(exc).__name__}: {exc}\n"
                          "  hint: the dense layer takes 5*5*16 = 400 inputs; flatten before it") from None
    c.equal(tuple(out.shape), (3, 10), call="model(zeros(3, 1, 28, 28)).shape",
            hint="one row of 10 class scores per image")
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    dense = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    c.equal([(m.in_channels, m.out_channels, m.kernel_size) for m in convs], [(1, 8, (5, 5)), (8, 16, (3, 3))],
            call="the Conv2d layers (in, out, kernel)", hint="5x5 convolution 1 -> 8, then 3x3 convolution 8 -> 16")
    c.equal([(m.in_features, m.out_features) for m in dense], [(400, 10)], call="the Linear layers",
            hint="one dense layer, 400 -> 10")
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    c.equal(len(pools), 2, call="number of MaxPool2d layers", hint="a 2x2 max-pool after each convolution")
    n = sum(p.numel() for p in model.parameters())
    c.int(n, 5_386, call="parameters of build_model2()", hint="(5*5*1 + 1)*8 + (3*3*8 + 1)*16 + 400*10 + 10 = 208 + 1,168 + 4,010 = 5,386")
    c.done()


# ----------------------------------------------------------------------------- question 3
def check_accuracy(accuracy) -> None:
    """``accuracy(model, images, labels)`` -> fraction of correctly classified images."""
    __tracebackhide__ = True
    torch = _torch()
    c = Checker("accuracy")

    def pixel_reader(bias7=0.0):
        # class j scores the pixel (0, j) of the image; class 7 also gets a fixed bias
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
        with torch.no_grad():
            model[1].weight.zero_()
            model[1].weight[torch.arange(10), torch.arange(10)] = 1.0
            model[1].bias.zero_()
            model[1].bias[7] = bias7
        return model.eval()

    images = np.zeros((4, 28, 28), dtype=np.uint8)
    images[np.arange(4), 0, [3, 1, 4, 1]] = 255
    labels = np.array([3, 1, 4, 7])
    got = c.call(accuracy, pixel_reader(), images, labels, name="accuracy")
    c.close(float(got), 0.75, call="accuracy(model, images, labels) with 3 of 4 right",
            hint="the predicted class is the argmax of the model's 10 scores; compare with the labels and "
                 "average")
    got = c.call(accuracy, pixel_reader(bias7=2.0), images, labels, name="accuracy")
    hint = "the predicted class is the argmax of the scores for the pixels scaled to [0, 1]"
    if isinstance(got, (float, int, np.floating)) and abs(float(got) - 0.75) < 1e-9:
        hint = ("the model was trained on pixels scaled to [0, 1]: divide the uint8 images by 255 "
                "before calling it (here a bias of 2 on class 7 beats a pixel of 1, not one of 255)")
    c.close(float(got), 0.25, call="accuracy(model with a bias of 2 on class 7, images, labels)", hint=hint)
    c.done()


def check_trained(model, val, *, target: float = TARGET_ACCURACY) -> None:
    """The trained model reaches ``target`` accuracy on ``val`` = (images, labels)."""
    __tracebackhide__ = True
    torch = _torch()
    from cnnlab.nn import evaluate

    c = Checker("trained model2")
    if not isinstance(model, torch.nn.Module):
        raise CheckFailed(f"model should be your trained torch module, got {type(model).__name__}")
    n = sum(p.numel() for p in model.parameters())
    c.int(n, 5_386, call="parameters of the trained model", hint="train the model2 of question 2")
    acc = evaluate(model, val).accuracy
    if acc < target:
        raise CheckFailed(f"validation accuracy {acc:.1%} is below {target:.0%}.\n"
                          "  hint: Adam with lr 0.005, batches of 100, 3-4 epochs over the training digits; "
                          "scale the pixels to [0, 1]")
    print(f"  validation accuracy {acc:.1%}")
    c.done()


# ----------------------------------------------------------------------------- question 4
def check_explanation(letters, ratio) -> None:
    """``letters``: a set of STATEMENTS keys; ``ratio``: model1's / model2's parameters, rounded."""
    __tracebackhide__ = True
    c = Checker("explanation")
    _sanity(c, isinstance(letters, (set, frozenset)) and bool(letters) and letters <= set(STATEMENTS),
            f"reasons should be a non-empty set of letters from {sorted(STATEMENTS)}, got {fmt(letters)}")
    _sanity(c, "a" not in letters, "statement a is false: count the parameters again (question 1)")
    _sanity(c, _is_int(ratio), f"ratio should be an int (rounded), got {fmt(ratio)}")
    c.int(ratio, 33, call="round(model1 parameters / model2 parameters)", hint="178,110 / 5,386")
    c.done()
