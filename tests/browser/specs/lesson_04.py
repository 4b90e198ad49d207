"""Lesson 04: kernel playground, Gabor filters, translation equivariance."""
from __future__ import annotations

import math

import numpy as np

from ._base import ExplorerSpec, Step, same

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
