"""Lessons 01-02: moving average, flip-shift-add, LTI black boxes, dice."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._base import ExplorerSpec, Step, number, numbers, same, tape_outputs

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
        x, h = numbers(values["signal x"]), numbers(values["kernel h"])
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
    same(view["readouts"]["cnnlab-sum"].rsplit("=", 1)[1], y[t], f"{where}: y[{t}]")
    shown = tape_outputs(view)
    assert sorted(shown) == list(range(len(y))), f"{where}: output tape has cells {sorted(shown)}"
    for i, text in shown.items():
        if i <= t:
            same(text, y[i], f"{where}: output tape y[{i}]")
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
    "box A": True, "box B": False, "box C": True, "box D": False,
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
    if values["system"] == "box B" and values["input signal"] == "pulse":
        assert equal, f"{where}: box B squares; a 0/1 pulse squares to itself, so O(x) = x ⋆ h here"


LTI = ExplorerSpec(
    steps=[
        Step("system", arg="squarer"),
        Step("input signal", arg="random"),
        Step("system", arg="echo(delay 4, gain 0.6)"),
        Step("length n", value=25),
        Step("length n", "drag", 0.7),
        Step("input signal", arg="pulse"),
        Step("system", arg="box B"),          # not LTI, yet a 0/1 pulse passes as a convolution
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
