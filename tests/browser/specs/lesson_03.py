"""Lesson 03: the convolution explorer (stride, padding, dilation in 1-D and 2-D)."""
from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from ._base import ExplorerSpec, Step, numbers, same

# ---------------------------------------------------------------------------------------
# lesson 03: ConvExplorer (stride, padding, dilation)
# ---------------------------------------------------------------------------------------

def _conv_padding(mode, n, k, s, d, P, before, after):
    """(before, after) padding of one axis, or None where the setting is impossible."""
    span = d * (k - 1)
    if mode.startswith("symmetric"):
        return P, P
    if mode.startswith("before"):
        return before, after
    if mode.startswith("'valid'"):
        return 0, 0
    if mode.startswith("'same' (torch"):
        if s != 1:
            return None  # torch refuses padding='same' with a stride
        return span // 2, span - span // 2
    if mode.startswith("'same' (TensorFlow"):
        total = max((math.ceil(n / s) - 1) * s + span + 1 - n, 0)
        return total // 2, total - total // 2
    if mode.startswith("'full'"):
        return span, span
    raise AssertionError(f"unknown padding mode on the page: {mode!r}")


def _conv_value(values, pads, index):
    """The output value at ``index``, computed with numpy from the explorer's inputs."""
    from cnnlab.widgets.conv import make_input, make_kernel  # the inputs' definitions only

    dims = 2 if values["dimensions"] == "2-D" else 1
    n, k = int(values["input size n"]), int(values["kernel size k"])
    s, d = int(values["stride S"]), int(values["dilation d"])
    x = np.pad(make_input(values["input"], n, dims), [pads] * dims)
    w = make_kernel(values["kernel"], k, dims)
    if values["operation"] == "convolution":
        w = w[::-1] if dims == 1 else w[::-1, ::-1]
    taps = np.arange(k) * d
    if dims == 1:
        (i,) = index
        return float(np.dot(x[i * s + taps], w))
    i, j = index
    return float(np.sum(x[np.ix_(i * s + taps, j * s + taps)] * w))


def check_conv(values, view, where):
    dims = 2 if values["dimensions"] == "2-D" else 1
    n, k = int(values["input size n"]), int(values["kernel size k"])
    s, d = int(values["stride S"]), int(values["dilation d"])
    pads = _conv_padding(values["padding"], n, k, s, d, int(values["P (each side)"]),
                         int(values["P before"]), int(values["P after"]))
    inner = None if pads is None else n + sum(pads) - d * (k - 1) - 1
    if pads is None or inner < 0:
        assert view["error"], f"{where}: {values} is impossible, but the explorer shows no error"
        return
    assert not view["error"], f"{where}: unexpected error {view['error']!r} for {values}"
    out = inner // s + 1
    shape = "×".join([str(out)] * dims)
    assert view["data"].get("out-shape") == shape, (
        f"{where}: output shape {view['data'].get('out-shape')!r} shown, formula gives {shape} "
        f"(n={n}, k={k}, S={s}, d={d}, padding={pads})")
    size_text = view["readouts"].get("cnnlab-size", "")
    lines = [line.strip() for line in size_text.splitlines()]
    assert re.search(rf"output\D*{shape}(?![\d×])", size_text), f"{where}: size readout {size_text!r}"
    filled = f"({n} + {pads[0]} + {pads[1]} − {d}·({k} − 1) − 1) / {s}"
    assert any(filled in line and line.endswith(f"= {out}") for line in lines), (
        f"{where}: the formula with the numbers put in ({filled} ... = {out}) is not in {size_text!r}")
    # the selected output value and its position
    position = min(int(values["output position"]), out ** dims - 1)
    index = tuple(int(i) for i in np.unravel_index(position, (out,) * dims))
    selected = {tuple(int(i) for i in sel.split(",")) for sel in view["selected"]}
    assert selected == {index}, f"{where}: highlighted output {selected}, the slider says {index}"
    expected = _conv_value(values, pads, index)
    shown = float(view["data"]["value"])
    assert math.isclose(shown, expected, rel_tol=1e-9, abs_tol=1e-9), (
        f"{where}: y{list(index)} shown as {shown}, numpy gives {expected}")
    agree = view["readouts"].get("cnnlab-agree", "")
    assert "✔" in agree, f"{where}: implementations disagree: {agree!r}"


CONV_1D = [  # seed 003's example first: 1-D, n = 9, k = 3, S = 1, P = 2 -> 11 outputs
        Step("input size n", value=10),                           # 12 outputs
        Step("kernel size k", value=4),                           # 11
        Step("stride S", value=2),                                # 6
        Step("dilation d", "type", 2, value=2),                   # 4
        Step("P (each side)", value=3),                           # 5
        Step("output position", "drag", 0.9),
        Step("padding", arg="before / after"),                    # P = (0, 0): 2
        Step("P before", value=1),                                # 3
        Step("P after", value=1, expect="page"),                  # 3, one more pad cell
        Step("padding", arg="'same' (torch, stride 1)", expect="error"),  # torch refuses S = 2
        Step("padding", arg="'same' (TensorFlow/Keras)"),         # ceil(10/2) = 5
        Step("padding", arg="'full' (span − 1 each side)"),       # P = 6 each side: 8
        Step("dilation d", "type", 4, value=4),                   # 'full' fits anything, ...
        Step("padding", arg="'valid' (none)", expect="error"),    # ... 'valid' does not: 13 > 10
        Step("dilation d", "type", 1, value=1),
        Step("kernel", arg="ramp"),
        Step("operation", arg="convolution"),                     # the matrix flips
        Step("input", arg="random", expect="page"),               # the tapes, not the matrix
        Step("check against torch", expect="page"),
        Step("matrix view", arg="backward: Mᵀ"),                 # the transpose: gradients
        Step("play"),
        Step("dimensions", arg="2-D"),
]

CONV_2D = [  # seed 001's 6×6 image: k = 3, S = 1, P = 0 -> 4×4
        Step("input size n", value=7),                            # 5×5
        Step("P (each side)", value=1),                           # 7×7
        Step("stride S", value=2),                                # 4×4
        Step("padding", arg="before / after"),                    # (0, 0): 3×3
        Step("P before", value=1, expect="page"),                 # still 3×3
        Step("P after", "type", 2, value=2),                      # 4×4, one more pad row
        Step("padding", arg="'same' (torch, stride 1)", expect="error"),  # the last picture stays
        Step("padding", arg="'same' (TensorFlow/Keras)", expect="page"),  # ceil(7/2) = 4: 4×4, (1, 1)
        Step("dilation d", value=2),
        Step("kernel size k", "type", 4, value=4),
        Step("output position", "drag", 0.7),
        Step("kernel", arg="edge"),
        Step("operation", arg="convolution"),
        Step("input", arg="ramp", expect="page"),
        Step("check against torch", expect="page"),
        Step("matrix view", arg="backward: Mᵀ"),
        Step("play"),
        Step("dimensions", arg="1-D"),
]

def _other_view(steps):
    """``steps`` for an explorer that starts in the backward view (lesson 05b's): the step
    that switches the matrix view goes to the forward view instead, so it changes the figure."""
    return [dataclasses.replace(s, arg="forward: y = M x") if s.control == "matrix view" else s for s in steps]


#: the walks, made once: a later explorer with the same walk gets the coverage walk instead
_WALKS = {("1-D", False): CONV_1D, ("2-D", False): CONV_2D,
          ("1-D", True): _other_view(CONV_1D), ("2-D", True): _other_view(CONV_2D)}

CONV = ExplorerSpec(
    steps=lambda start: _WALKS[start["dimensions"], start["matrix view"] == "backward: Mᵀ"],
    check=check_conv,
)
