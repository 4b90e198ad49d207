"""Lessons 05-07: cost of separable convolutions, pooling, receptive fields."""
from __future__ import annotations

import math
import re


from ._base import ExplorerSpec, Step, same

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
        Step("preset", arg="dilated 1, 2, 4 (Chollet slides)"),            # 15
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
