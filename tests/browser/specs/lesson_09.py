"""Lesson 09: feature maps, attributions and FGSM of model2 on MNIST."""
from __future__ import annotations

from ._base import ExplorerSpec, Step

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
