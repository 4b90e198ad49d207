"""How to walk each explorer in the browser, and how to check the numbers it shows.

A spec is keyed by the explorer's CSS class (``css_class`` of its ``Explorer``
subclass). ``steps`` is the walk: each names a control by its description as the page
shows it, the gesture, and what must happen (``figure``: a new figure image;
``page``: the figure or the readouts changed; ``error``: the explorer's error message
instead of a figure; ``redraw``: a redraw, possibly identical). ``check`` gets the
control values as the page shows them and what the output shows (figure src, error,
readout texts, ``data-*`` attributes) and asserts the numbers are right, computed
here independently of the widget code (the formulas of the lecture notes).

Adding an explorer: add its spec here; until then the generic walk covers it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

from . import _explorers as E

_KIND_OF_CONTROL = {
    "slider": "key", "dropdown": "pick", "select": "pick", "toggle-buttons": "toggle",
    "radio": "radio", "checkbox": "click", "text": "text", "textarea": "textarea",
    "button": "click", "play": "play",
}
_GESTURES = {
    "key": E.slider_key_gesture,
    "drag": E.slider_drag_gesture,
    "type": E.slider_type_gesture,
    "pick": E.pick_gesture,
    "toggle": E.toggle_gesture,
    "radio": E.radio_gesture,
    "text": E.text_gesture,
    "textarea": E.textarea_gesture,
    "play": E.play_gesture,
}


@dataclass(frozen=True)
class Step:
    control: str
    how: str = "default"
    arg: object = None
    expect: str = "figure"
    value: object = None  # what the control must show afterwards

    def resolve(self, control: E.Control):
        kind = _KIND_OF_CONTROL[control.kind] if self.how == "default" else self.how
        if kind == "click":
            fn = E.checkbox_gesture if control.kind == "checkbox" else E.button_gesture
        else:
            fn = _GESTURES[kind]
        kwargs = {}
        if self.arg is not None:
            kwargs = {"type": {"value": self.arg}, "text": {"value": self.arg},
                      "textarea": {"value": self.arg}, "drag": {"fraction": self.arg}}.get(
                          kind, {"option": self.arg})
        return kind, fn, kwargs


@dataclass
class ExplorerSpec:
    #: the walk, or a function of the start values (control name -> value) returning it
    steps: list[Step] | Callable[[dict], list[Step]]
    check: Callable[[dict, dict, str], None] | None = None
    #: controls the walk leaves alone on purpose
    not_operated: tuple = ()
    #: called with (explorer, change, where) after each step, for checks across the change
    on_change: Callable[[object, E.Change, str], None] | None = None


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
        Step("play"),
        Step("dimensions", arg="2-D"),
]

CONV_2D = [  # seed 001's 6×6 image: k = 3, S = 1, P = 0 -> 4×4
        Step("input size n", value=7),                            # 5×5
        Step("P (each side)", value=1),                           # 7×7
        Step("stride S", value=2),                                # 4×4
        Step("padding", arg="before / after"),                    # (0, 0): 3×3
        Step("P before", value=1, expect="page"),                 # still 3×3
        Step("P after", value=1),                                 # 4×4
        Step("padding", arg="'same' (torch, stride 1)", expect="error"),
        Step("padding", arg="'same' (TensorFlow/Keras)"),         # ceil(7/2) = 4: 4×4
        Step("dilation d", value=2),
        Step("kernel size k", "type", 4, value=4),
        Step("output position", "drag", 0.7),
        Step("kernel", arg="edge"),
        Step("operation", arg="convolution"),
        Step("input", arg="ramp", expect="page"),
        Step("check against torch", expect="page"),
        Step("play"),
        Step("dimensions", arg="1-D"),
]

CONV = ExplorerSpec(
    steps=lambda start: CONV_1D if start["dimensions"] == "1-D" else CONV_2D,
    check=check_conv,
)


# ---------------------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------------------

def _number(text):
    """A number as the explorers print it: ``5/3``, ``−1/2`` (true minus), ``0.123``."""
    t = str(text).strip().replace("−", "-")
    try:
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        return float(t)


def _same(shown: str, exact, where: str) -> None:
    """``shown`` (3 significant digits or an exact fraction) is ``exact``."""
    value = _number(shown)
    if isinstance(value, Fraction) and "." not in shown:
        assert value == Fraction(exact).limit_denominator(10**6), f"{where}: shows {shown}, expected {exact}"
    else:
        assert math.isclose(float(value), float(exact), rel_tol=2e-3, abs_tol=1e-9), (
            f"{where}: shows {shown}, expected {float(exact):.6g}")


def _numbers(text: str) -> list:
    return [_number(t) for t in re.split(r"[\s,;\[\]]+", text.strip()) if t]


def _tape_outputs(view) -> dict[int, str]:
    return {int(c["index"]): c["text"] for c in view["cells"] if "output" in c["classes"]}


# ---------------------------------------------------------------------------------------
# lesson 01: MovingAverageExplorer, FlipShiftAddExplorer
# ---------------------------------------------------------------------------------------
RATE = 8000  # seed 003's sampling rate


def check_moving_average(values, view, where):
    w = int(values["width (samples)"])
    noise, tone = float(values["noise level"]), float(values["tone (Hz)"])
    noisy, smooth = float(view["data"]["snr-noisy"]), float(view["data"]["snr-smooth"])
    window = view["readouts"]["cnnlab-window"]
    assert f"width {w} = {1000 * w / RATE:.2f} ms" in window, f"{where}: {window!r}"
    if w == 1:
        assert smooth == noisy, f"{where}: width 1 must change nothing ({noisy} -> {smooth} dB)"
    else:  # a w-sample average cancels a tone of rate/w Hz exactly (a whole period averaged)
        assert f"{RATE / w:.0f} Hz" in window, f"{where}: first null should be {RATE / w:.0f} Hz: {window!r}"
    if 3 <= w <= 15 and math.isclose(noise, 0.3) and math.isclose(tone, 220):
        assert smooth > noisy, f"{where}: smoothing with width {w} lowered the SNR ({noisy} -> {smooth} dB)"
    assert len(view["audio"]) == 2 and all(view["audio"]), f"{where}: audio players {view['audio']}"


def audio_changes(explorer, change, where):
    """The smoothed clip's player gets new audio (it is updated right after the figure)."""
    try:
        explorer.page.wait_for_function(
            "([root, old]) => { const a = root.querySelectorAll('audio'); return a.length && a[a.length - 1].src !== old; }",
            arg=[explorer.element_handle(), change.before["audio"][-1]], timeout=5_000)
    except Exception:
        raise AssertionError(f"{where}: the smoothed clip's player did not change") from None


MOVING_AVERAGE = ExplorerSpec(
    steps=[
        Step("width (samples)", value=6),
        Step("width (samples)", "type", 1, value=1),
        Step("width (samples)", "drag", 0.4),
        Step("width (samples)", "type", 9, value=9),
        Step("noise level", value=0.35),
        Step("tone (Hz)", value=225),
    ],
    check=check_moving_average,
    on_change=audio_changes,
)


def check_flip_shift_add(values, view, where):
    try:
        x, h = _numbers(values["signal x"]), _numbers(values["kernel h"])
    except ValueError:
        assert view["error"] and "is not a number" in view["error"], f"{where}: bad input, error {view['error']!r}"
        return
    p, s = int(values["padding P"]), int(values["stride S"])
    w = h[::-1] if values["operation"].startswith("convolution") else h
    xp = [0] * p + x + [0] * p
    if not x or not h or len(xp) < len(w):
        assert view["error"], f"{where}: {values} is impossible, but no error is shown"
        return
    assert not view["error"], f"{where}: unexpected error {view['error']!r}"
    y = [sum(xp[i * s + j] * w[j] for j in range(len(w))) for i in range((len(xp) - len(w)) // s + 1)]
    assert view["data"]["length"] == str(len(y)), f"{where}: length {view['data']['length']}, expected {len(y)}"
    t = min(int(values["output index t"]), len(y) - 1)
    _same(view["readouts"]["cnnlab-sum"].rsplit("=", 1)[1], y[t], f"{where}: y[{t}]")
    shown = _tape_outputs(view)
    assert sorted(shown) == list(range(len(y))), f"{where}: output tape has cells {sorted(shown)}"
    for i, text in shown.items():
        if i <= t:
            _same(text, y[i], f"{where}: output tape y[{i}]")
        else:
            assert text == "?", f"{where}: y[{i}] is revealed before t reaches it ({text!r})"


FLIP_SHIFT_ADD = ExplorerSpec(
    steps=[  # seed 003: x = 1 2 3 1 2 3 1 2 3, h = 1/3 1/3 1/3, P = 2 -> 11 outputs
        Step("output index t", value=1),
        Step("output index t", "drag", 0.95),                    # to y[9] = 5/3 and beyond
        Step("padding P", "type", 1, value=1),
        Step("stride S", value=2),                              # P = 1, S = 2 -> 5 outputs
        Step("operation", arg="correlation (no flip)", expect="redraw"),  # symmetric h: same y
        Step("kernel h", "text", "1 0 -1", expect="page"),
        Step("operation", arg="convolution (flip h)", expect="page"),
        Step("signal x", "text", "1 2 x", expect="error"),
        Step("signal x", "text", "3 1 4 1 5 9 2 6 5 3"),
        Step("play"),
    ],
    check=check_flip_shift_add,
)


# ---------------------------------------------------------------------------------------
# lesson 02: LTIExplorer, DiceExplorer
# ---------------------------------------------------------------------------------------
#: what the lecture says about the named systems
LTI_SYSTEMS = {
    "echo(delay 4, gain 0.6)": True, "low-pass (alpha 0.3)": True, "moving average (width 3)": True,
    "squarer": False, "modulator (period 8)": False, "clipper (±0.5)": False, "offset (+1)": False,
}


def check_lti(values, view, where):
    lti, equal = view["data"]["lti"] == "true", view["data"]["equal"] == "true"
    expected = LTI_SYSTEMS.get(values["system"])
    if expected is not None:
        assert lti == expected, f"{where}: {values['system']} judged {'LTI' if lti else 'not LTI'}"
    if lti:
        assert equal, f"{where}: an LTI system must equal convolution with its impulse response"


LTI = ExplorerSpec(
    steps=[
        Step("system", arg="squarer"),
        Step("input signal", arg="random"),
        Step("system", arg="echo(delay 4, gain 0.6)"),
        Step("length n", value=25),
        Step("length n", "drag", 0.7),
        Step("input signal", arg="pulse"),
        Step("system", arg="modulator (period 8)"),
        Step("system", arg="low-pass (alpha 0.3)"),
    ],
    check=check_lti,
)


def check_dice(values, view, where):
    n, faces = int(values["number of dice"]), int(values["faces per die"])
    counts = np.ones(1, dtype=object)
    for _ in range(n):
        counts = np.convolve(counts, np.ones(faces, dtype=object))
    total = faces ** n
    assert view["data"]["values"] == str(len(counts)), f"{where}: {view['data']['values']} possible sums"
    text = view["readouts"]["cnnlab-moments"]
    mean, var = Fraction(n * (faces + 1), 2), Fraction(n * (faces ** 2 - 1), 12)
    assert f"mean {mean}," in text and f"variance {var};" in text, f"{where}: {text!r}"
    mode = int(np.argmax(counts))
    assert f"most likely sum {n + mode} with probability {Fraction(counts[mode], total)}" in text, (
        f"{where}: {text!r}")
    sums = np.arange(n, n * faces + 1)
    probs = np.array([c / total for c in counts], dtype=float)
    normal = np.exp(-(sums - float(mean)) ** 2 / (2 * float(var))) / math.sqrt(2 * math.pi * float(var))
    assert abs(float(view["data"]["gap"]) - float(np.max(np.abs(probs - normal)))) < 1e-5, where
    if n == 10 and faces == 6:
        assert float(view["data"]["gap"]) < 0.005, f"{where}: 10 dice should look normal"


DICE = ExplorerSpec(
    steps=[
        Step("number of dice", value=3),
        Step("faces per die", value=7),
        Step("number of dice", "drag", 0.5),
        Step("faces per die", "type", 6, value=6),
        Step("number of dice", "type", 10, value=10),
    ],
    check=check_dice,
)


# ---------------------------------------------------------------------------------------
# lesson 04: KernelPlayground, GaborExplorer, EquivarianceExplorer
# ---------------------------------------------------------------------------------------
KNOWN_KERNELS = {  # seed 001's Sobel; the blur and the Laplacian of the lecture
    "box blur": np.full((3, 3), 1 / 9),
    "Sobel vertical": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float),
    "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
}


def _photo(downsample):
    from cnnlab.viz import sample_photo  # the explorers' default image (data, not the code under test)

    return sample_photo(downsample=downsample)


def check_playground(values, view, where):
    from scipy.signal import correlate2d

    k = np.array([[float(values[f"k[{r},{c}]"]) for c in range(3)] for r in range(3)])
    preset = values["preset"]
    if preset in KNOWN_KERNELS:
        assert np.allclose(k, KNOWN_KERNELS[preset]), f"{where}: preset {preset} but the cells show {k.tolist()}"
    assert math.isclose(float(view["data"]["sum"]), k.sum(), rel_tol=1e-5, abs_tol=1e-6), (
        f"{where}: kernel sum {view['data']['sum']}, cells add up to {k.sum()}")
    response = correlate2d(_photo(2), k, mode="same", boundary="fill")  # what a conv layer computes
    for key, value in (("min", response.min()), ("max", response.max())):
        assert math.isclose(float(view["data"][key]), value, rel_tol=1e-3, abs_tol=1e-6), (
            f"{where}: response {key} {view['data'][key]}, scipy gives {value:.4g}")


LAPLACIAN_TYPED = [("k[0,0]", 0), ("k[0,1]", 1), ("k[0,2]", 0), ("k[1,0]", 1), ("k[1,1]", -4),
                   ("k[1,2]", 1), ("k[2,0]", 0), ("k[2,1]", 1), ("k[2,2]", 0)]

PLAYGROUND = ExplorerSpec(
    steps=[
        Step("preset", arg="box blur"),
        # a student types the Laplacian in, cell by cell
        *[Step(cell, "text", value, value=value) for cell, value in LAPLACIAN_TYPED],
        Step("show", arg="magnitude |response|"),
        Step("show", arg="as an image (clipped to 0..1)"),
        Step("preset", arg="Sobel vertical"),
    ],
    check=check_playground,
)


def check_gabor(values, view, where):
    theta, omega = float(values["θ orientation"]), float(values["ω frequency"])
    assert abs(float(view["data"]["theta-deg"]) - math.degrees(theta)) < 0.1, f"{where}: θ {view['data']}"
    assert math.isclose(float(view["data"]["wavelength"]), 2 * math.pi / omega, rel_tol=5e-3), (
        f"{where}: wavelength {view['data']['wavelength']}, 2π/ω = {2 * math.pi / omega:.3f}")
    formula = view["readouts"]["cnnlab-formula"]
    for name in ("α decay along x̃", "β decay along ỹ"):
        assert f"{float(values[name]):.3f}" in formula, f"{where}: {name} missing from {formula!r}"
    assert f"sin({omega:.2f}·x̃ + {float(values['φ phase']):.2f})" in formula, f"{where}: {formula!r}"


GABOR = ExplorerSpec(
    steps=[
        Step("θ orientation"),
        Step("θ orientation", "drag", 0.2),
        Step("ω frequency"),
        Step("φ phase"),
        Step("α decay along x̃"),
        Step("β decay along ỹ"),
        Step("kernel size", value=17),
    ],
    check=check_gabor,
)


def check_equivariance(values, view, where):
    dy, dx = int(values["shift down (rows)"]), int(values["shift right (cols)"])
    assert float(view["data"]["interior"]) < 1e-9, f"{where}: filtering and shifting disagree inside"
    border = int(view["data"]["border-pixels"])
    if dy == dx == 0:
        assert border == 0, f"{where}: no shift, yet {border} pixels differ"
    else:
        assert border > 0, f"{where}: a shift of ({dy}, {dx}) must differ at the borders"


EQUIVARIANCE = ExplorerSpec(
    steps=[
        Step("shift right (cols)", value=-14),
        Step("shift down (rows)", value=11),
        Step("shift right (cols)", "type", 0, value=0),
        Step("shift down (rows)", "type", 0, value=0),
        Step("kernel", arg="Laplacian", expect="redraw"),  # no shift: nothing differs
        Step("shift right (cols)", "drag", 0.8),
    ],
    check=check_equivariance,
)


# ---------------------------------------------------------------------------------------
# lesson 05: SeparableCostExplorer
# ---------------------------------------------------------------------------------------

def check_cost(values, view, where):
    n, ci, co = int(values["input size H = W"]), int(values["input channels"]), int(values["output channels"])
    k, s = int(values["kernel size k"]), int(values["stride S"])
    bias = bool(values["bias"])
    if values["padding"] == "same":
        out = -(-n // s)  # TensorFlow/Keras 'same': ceil(n / S)
    elif n >= k:
        out = (n - k) // s + 1
    else:
        assert view["error"], f"{where}: a {k}×{k} kernel on a {n}×{n} input is impossible, no error shown"
        return
    assert not view["error"], f"{where}: unexpected error {view['error']!r}"
    d = view["data"]
    assert d["out-size"] == str(out), f"{where}: output {d['out-size']}, expected {out}"
    # standard: k²·C_in·C_out weights (+ C_out biases); separable: depthwise + pointwise
    std_params, std_macs = k * k * ci * co + (co if bias else 0), out * out * k * k * ci * co
    sep_params = k * k * ci + ci * co + ((ci + co) if bias else 0)
    sep_macs = out * out * (k * k * ci + ci * co)
    shown = {"standard": view["readouts"]["cnnlab-standard"], "separable": view["readouts"]["cnnlab-separable"]}
    for name, params, macs in (("standard", std_params, std_macs), ("separable", sep_params, sep_macs)):
        text = shown[name].replace(",", "")
        assert f"= {params} parameters" in text and f"{macs} multiply-adds" in text, (
            f"{where}: {name} should be {params} parameters and {macs} multiply-adds: {shown[name]!r}")
    assert math.isclose(float(d["ratio"]), 1 / co + 1 / k ** 2, rel_tol=1e-5), f"{where}: ratio {d['ratio']}"


COST = ExplorerSpec(
    steps=[  # seed 001: ten 3×3×3 filters on a 6×6×3 image, valid -> 280 parameters
        Step("input channels", "type", 3, value=3),
        Step("output channels", "type", 10, value=10),
        Step("input size H = W", "type", 6, value=6),
        Step("padding", arg="valid"),
        Step("kernel size k", value=4),
        Step("stride S", value=2),
        Step("bias", expect="page"),
        Step("kernel size k", "type", 7, expect="error"),
        Step("padding", arg="same"),
        Step("input size H = W", "drag", 0.5),
        Step("output channels"),
    ],
    check=check_cost,
)


# ---------------------------------------------------------------------------------------
# lesson 06: PoolingExplorer
# ---------------------------------------------------------------------------------------

def check_pooling(values, view, where):
    h, w = (int(v) for v in re.search(r"(\d+)×(\d+)", values["input"]).groups())
    k, s, p = int(values["window k"]), int(values["stride S"]), int(values["padding P"])
    if p > k // 2 or min(h, w) + 2 * p < k:
        assert view["error"], f"{where}: k={k}, S={s}, P={p} on {h}×{w} is impossible, no error shown"
        if p > k // 2:
            assert "padding" in view["error"], f"{where}: {view['error']!r}"
        return
    assert not view["error"], f"{where}: unexpected error {view['error']!r}"
    shape = f"{(h + 2 * p - k) // s + 1}×{(w + 2 * p - k) // s + 1}"  # torch: floor, no ceil_mode
    assert view["data"]["out-shape"] == shape, f"{where}: output {view['data']['out-shape']}, expected {shape}"
    shift = int(values["shift input (px)"])
    if shift > 0 and p == 0:
        for key in ("unchanged-pooled", "unchanged-pixels"):
            assert 0 <= float(view["data"][key]) <= 1, f"{where}: {key} {view['data'][key]}"
    else:
        assert "unchanged-pooled" not in view["data"], f"{where}: invariance shown without a shift"


POOLING = ExplorerSpec(
    steps=[  # seed 000's 4×4 map, 2×2 max-pool, stride 2 -> 2×2
        Step("window k", value=3),                     # 1×1
        Step("stride S", "type", 1, value=1),          # 2×2
        Step("padding P", value=1),                    # 4×4
        Step("pooling", arg="average"),
        Step("padding P", "type", 2, expect="error"),  # P > k // 2
        Step("padding P", "type", 0),
        Step("input", arg="photo (150×128)"),
        Step("shift input (px)", value=1),
        Step("window k", "drag", 0.6),
        Step("input", arg="edge feature map (148×126)"),
    ],
    check=check_pooling,
)


# ---------------------------------------------------------------------------------------
# lesson 07: ReceptiveFieldExplorer
# ---------------------------------------------------------------------------------------
_LAYER = re.compile(r"^(conv|pool)(\d+)((?:/[sd]\d+)*)$")


def check_receptive(values, view, where):
    layers = []
    for token in [t for t in re.split(r"[\s,]+", values["layers"].strip().lower()) if t]:
        m = _LAYER.match(token)
        if not m:
            assert view["error"] and f"{token!r} is not understood" in view["error"], (
                f"{where}: {token!r} accepted? error {view['error']!r}")
            return
        opts = dict(re.findall(r"/([sd])(\d+)", m.group(3)))
        k = int(m.group(2))
        layers.append((k, int(opts.get("s", k if m.group(1) == "pool" else 1)), int(opts.get("d", 1))))
    sizes = [int(values["input length"])]
    for k, s, d in layers:  # no padding: floor((n − d(k − 1) − 1) / s) + 1
        sizes.append((sizes[-1] - d * (k - 1) - 1) // s + 1 if sizes[-1] >= d * (k - 1) + 1 else 0)
    if min(sizes) < 1:
        assert view["error"] and "too short" in view["error"], f"{where}: {sizes} units, error {view['error']!r}"
        return
    assert not view["error"], f"{where}: unexpected error {view['error']!r}"
    unit = int(values["output unit"])
    assert unit < sizes[-1], f"{where}: output unit {unit} of {sizes[-1]}"
    reads, jump = {unit}, 1
    for k, s, d in reversed(layers):  # unit i reads i·s + m·d, m < k, of the layer below
        reads = {i * s + m * d for i in reads for m in range(k)}
    for _, s, _ in layers:
        jump *= s
    data = view["data"]
    span = max(reads) - min(reads) + 1
    assert (data["size"], data["jump"], data["reads"]) == (str(span), str(jump), str(len(reads))), (
        f"{where}: receptive field size/jump/reads {data['size']}/{data['jump']}/{data['reads']}, "
        f"expected {span}/{jump}/{len(reads)} for {layers}")


RECEPTIVE = ExplorerSpec(
    steps=[  # three 3×3 convolutions: 7 wide, reads 7
        Step("output unit", value=1),
        Step("preset", arg="one dilated 3×3, d=2 (holes)"),           # 5 wide, reads 3
        Step("preset", arg="dilated 1, 2, 4 (seed 000)"),            # 15
        Step("input length", "type", 16, value=16),
        Step("input length", "type", 14, expect="error"),            # 15 > 14: too short
        Step("input length", "drag", 0.9),
        Step("layers", "text", "conv3 pool2 conv3/d2 conv5/s2"),
        Step("layers", "text", "conv3 nonsense", expect="error"),
        Step("layers", "text", "conv11/s4 pool3/s2"),
        Step("output unit", "drag", 0.5),
    ],
    check=check_receptive,
)


# ---------------------------------------------------------------------------------------
# lesson 09: FeatureMapExplorer, AttributionExplorer, FGSMExplorer (model2 on MNIST)
# ---------------------------------------------------------------------------------------
#: seed 003's model2 on 28×28 digits: conv5 1->8, pool2, conv3 8->16, pool2 (with ReLUs)
MODEL2_LAYERS = {"0: Conv2d": "8×24×24", "1: ReLU": "8×24×24", "2: MaxPool2d": "8×12×12",
                 "3: Conv2d": "16×10×10", "4: ReLU": "16×10×10", "5: MaxPool2d": "16×5×5"}


def _check_prediction(view, where):
    prediction, probability = int(view["data"]["prediction"]), float(view["data"]["probability"])
    assert 0 <= prediction <= 9 and 0.1 <= probability <= 1, f"{where}: prediction {view['data']}"


def check_feature_maps(values, view, where):
    _check_prediction(view, where)
    layer = values["layer"]
    if layer in MODEL2_LAYERS:
        assert view["data"]["shape"] == MODEL2_LAYERS[layer], (
            f"{where}: layer {layer} shows maps {view['data']['shape']}, model2 has {MODEL2_LAYERS[layer]}")
    c, h, w = view["data"]["shape"].split("×")
    assert f"{c} maps of {h}×{w}" in view["readouts"]["cnnlab-maps"], f"{where}: {view['readouts']}"


FEATURE_MAPS = ExplorerSpec(
    steps=[
        Step("image #"),
        Step("layer", arg="2: MaxPool2d"),
        Step("layer", arg="5: MaxPool2d"),
        Step("image #", "drag", 0.3),
    ],
    check=check_feature_maps,
)


def check_attribution(values, view, where):
    _check_prediction(view, where)
    wanted = values["explain class"]
    target = int(view["data"]["target"])
    expected = int(view["data"]["prediction"]) if wanted == "predicted class" else int(wanted)
    assert target == expected, f"{where}: explaining class {target}, asked for {wanted}"
    row, col = (int(v) for v in view["data"]["cam-peak"].split(","))
    assert 0 <= row < 28 and 0 <= col < 28, f"{where}: Grad-CAM peak {row},{col} outside the 28×28 digit"


ATTRIBUTION = ExplorerSpec(
    steps=[
        Step("image #"),
        Step("explain class", arg="3"),
        Step("Grad-CAM layer", arg="0"),
        Step("explain class", arg="predicted class"),
        Step("image #", "drag", 0.3),
    ],
    check=check_attribution,
)


def check_fgsm(values, view, where):
    eps = float(values["epsilon ε"])
    d = view["data"]
    assert d["epsilon"] == f"{eps:.2f}", f"{where}: ε {d['epsilon']} shown, the slider says {eps}"
    change = float(d["max-change"])
    # x' = clip(x + ε·sign(∇x E), 0, 1): no pixel moves more than ε
    assert change <= eps + 1e-4, f"{where}: a pixel moved {change} > ε = {eps}"
    assert (d["flipped"] == "true") == (d["clean"] != d["adversarial"]), f"{where}: {d}"
    if eps == 0:
        assert change == 0 and d["flipped"] == "false", f"{where}: ε = 0 must change nothing: {d}"


FGSM = ExplorerSpec(
    steps=[
        Step("epsilon ε", "type", 0, value=0),
        Step("epsilon ε", value=0.01),
        Step("epsilon ε", "type", 0.3, value=0.3),
        Step("image #"),
        Step("image #", "drag", 0.6),
    ],
    check=check_fgsm,
)


SPECS: dict[str, ExplorerSpec] = {
    "cnnlab-moving-average-explorer": MOVING_AVERAGE,
    "cnnlab-flip-shift-add-explorer": FLIP_SHIFT_ADD,
    "cnnlab-lti-explorer": LTI,
    "cnnlab-dice-explorer": DICE,
    "cnnlab-conv-explorer": CONV,
    "cnnlab-kernel-playground": PLAYGROUND,
    "cnnlab-gabor-explorer": GABOR,
    "cnnlab-equivariance-explorer": EQUIVARIANCE,
    "cnnlab-cost-explorer": COST,
    "cnnlab-pooling-explorer": POOLING,
    "cnnlab-receptive-explorer": RECEPTIVE,
    "cnnlab-featuremap-explorer": FEATURE_MAPS,
    "cnnlab-attribution-explorer": ATTRIBUTION,
    "cnnlab-fgsm-explorer": FGSM,
}
