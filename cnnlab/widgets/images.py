"""Lesson 04 explorers: a 3×3 kernel playground, Gabor filters, and translation equivariance."""
from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from .. import kernels
from .._validate import _as_array, _check_mode
from ..layers import conv2d
from ..systems import equivariance_error, translate
from ..viz import fmt, plot_kernel, sample_photo, show_feature_map, show_image
from ..viz._style import text_color
from ._base import Explorer
from ._controls import dropdown, hook, slider

__all__ = ["KernelPlayground", "GaborExplorer", "EquivarianceExplorer", "PRESETS", "filter_image"]


def _presets():
    p = {
        "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
        "box blur": np.full((3, 3), 1 / 9),
        "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], float) / 16,
        "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
        "Laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float),
        "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], float),
    }
    for name, fn in (("Prewitt", kernels.prewitt), ("Sobel", kernels.sobel), ("Scharr", kernels.scharr)):
        for direction in ("vertical", "horizontal"):
            p[f"{name} {direction}"] = fn(direction).astype(float)
    return p


#: the kernel playground's presets (3×3 each)
PRESETS = _presets()


@functools.lru_cache(maxsize=4)
def _photo(downsample):
    img = sample_photo(downsample=downsample)
    img.setflags(write=False)
    return img


def filter_image(image, kernel, *, dtype=np.float64):
    """Cross-correlate a grey image with a kernel, 'same' size (what a CNN layer does).

    Returns
    -------
    numpy.ndarray
        Same shape as ``image``: ``cnnlab.conv2d(image[None, None], kernel[None, None], padding='same')[0, 0]``.

    Examples
    --------
    >>> filter_image(np.ones((4, 4)), PRESETS["Sobel vertical"])[1:3, 1:3]
    array([[0., 0.],
           [0., 0.]])
    """
    if dtype not in (np.float32, np.float64, "float32", "float64"):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    image = _as_array(image, "image", ndim=2, dtype=dtype)
    kernel = _as_array(kernel, "kernel", ndim=2, dtype=dtype)
    return conv2d(image[None, None], kernel[None, None], padding="same")[0, 0]


def _describe_sum(k):
    s = float(np.sum(k))
    if abs(s) < 1e-9:
        return "sums to 0: flat regions give 0, only changes (edges, detail) respond"
    if abs(s - 1) < 1e-9:
        return "sums to 1: flat regions keep their brightness"
    return f"sums to {fmt(s)}: flat regions are scaled by {fmt(s)}"


# --------------------------------------------------------------------------- kernel playground
@dataclass(frozen=True, eq=False)
class PlaygroundResult:
    kernel: np.ndarray
    preset: str
    show: str
    response: np.ndarray


class KernelPlayground(Explorer):
    """Edit a 3×3 kernel (or pick a preset) and see what it does to a photograph.

    Examples
    --------
    >>> ex = KernelPlayground()
    >>> ex.preset.value = "Sobel vertical"
    >>> ex.result.kernel.tolist()[1]
    [2.0, 0.0, -2.0]
    >>> ex.cells[1][1].value = 1.0                 # editing a cell makes the kernel 'custom'
    >>> ex.preset.value, float(ex.result.kernel[1, 1])
    ('custom', 1.0)
    """

    height = "470px"
    figsize = (9.5, 3.9)
    image_format = "jpeg"
    css_class = "cnnlab-kernel-playground"

    def __init__(self, image=None, *, preset="Sobel vertical"):
        super().__init__()
        self.image = _photo(2) if image is None else _as_array(image, "image", dtype=np.float64)
        if self.image.ndim != 2:
            raise ValueError(f"image must be a 2-D grey image, got shape {self.image.shape}")
        _check_mode(preset, tuple(PRESETS), "preset")
        self.cells = [[widgets.FloatText(value=float(PRESETS[preset][r, c]), description=f"k[{r},{c}]",
                                         step=0.5, style={"description_width": "46px"},
                                         layout=widgets.Layout(width="128px"))
                       for c in range(3)] for r in range(3)]
        self.preset = hook(dropdown(list(PRESETS) + ["custom"], preset, "preset", width="330px"))
        self.preset.observe(self._apply_preset, names="value")
        self.show = dropdown([("signed response (red +, blue −)", "signed"), ("magnitude |response|", "magnitude"),
                              ("as an image (clipped to 0..1)", "image")], "signed", "show", width="400px")
        flat = [c for row in self.cells for c in row]      # nine cells -> one kernel: params() translates
        grid = widgets.GridBox(flat, layout=widgets.Layout(grid_template_columns="repeat(3, 132px)"))
        self._finish([*flat, self.show], box=widgets.HBox([grid, widgets.VBox([self.preset, self.show])]))

    def _apply_preset(self, change):
        name = change["new"]
        if self._held:
            return
        if name == "custom":
            self.update()
            return
        with self.hold_updates():
            for (r, c), v in np.ndenumerate(PRESETS[name]):
                self.cells[r][c].value = float(v)
            self._pending = True   # redraw once even if the values did not change

    def update(self, change=None):
        if change is not None and not self._held and self.preset.value != "custom":
            owner = change.get("owner") if isinstance(change, dict) else getattr(change, "owner", None)
            if owner is not None and any(owner is c for row in self.cells for c in row):
                if not np.array_equal(self._kernel(), PRESETS[self.preset.value]):
                    with self._quietly():
                        self.preset.value = "custom"
        super().update(change)

    def _kernel(self):
        return np.array([[c.value for c in row] for row in self.cells], dtype=float)

    def params(self):
        return dict(kernel=self._kernel(), preset=self.preset.value, show=self.show.value)

    def compute(self, *, kernel, preset, show):
        if not np.all(np.isfinite(kernel)):
            raise ValueError("every kernel entry must be a finite number")
        if np.max(np.abs(kernel)) > 1e6:
            raise ValueError(f"every kernel entry must lie within ±1e6 (so the response stays drawable), "
                             f"got {np.max(np.abs(kernel)):g}")
        return PlaygroundResult(kernel, preset, show, filter_image(self.image, kernel))

    def draw(self, r, figure):
        a1 = figure.add_axes([0.01, 0.03, 0.31, 0.86])
        a2 = figure.add_axes([0.355, 0.25, 0.24, 0.5])
        a3 = figure.add_axes([0.64, 0.03, 0.35, 0.86])
        show_image(self.image, ax=a1, title="input (grey levels 0..1)")
        plot_kernel(r.kernel, ax=a2, title=f"kernel: {r.preset}")
        data, cmap, clim, title = self._shown(r)
        show_image(data, ax=a3, cmap=cmap, vmin=clim[0], vmax=clim[1], title=title)
        self._axes = (a2, a3)

    @staticmethod
    def _shown(r):
        """(image, colormap, colour limits, title) of the response panel for the 'show' mode."""
        if r.show == "signed":
            vmax = float(np.percentile(np.abs(r.response), 99.5)) or float(np.abs(r.response).max()) or 1.0
            return r.response, "RdBu_r", (-vmax, vmax), "response (cross-correlation, 'same' padding)"
        if r.show == "magnitude":
            mag = np.abs(r.response)
            return mag, "gray", (0.0, float(np.percentile(mag, 99.5)) or float(mag.max()) or 1.0), "|response|"
        return np.clip(r.response, 0, 1), "gray", (0.0, 1.0), "response as an image"

    def refresh(self, r, figure):
        a2, a3 = self._axes
        vmax = float(np.max(np.abs(r.kernel))) or 1.0
        im = a2.images[0]
        im.set_data(r.kernel)
        im.set_clim(-vmax, vmax)
        for text, v in zip(a2.texts, r.kernel.ravel()):
            text.set_text(fmt(v, digits=2))
            text.set_color(text_color(im.cmap((v + vmax) / (2 * vmax))))
        a2.set_title(f"kernel: {r.preset}", fontsize=9)
        data, cmap, clim, title = self._shown(r)
        out = a3.images[0]
        out.set_data(data)
        out.set_cmap(cmap)
        out.set_clim(*clim)
        a3.set_title(title, fontsize=9)
        return True

    def header(self, r):
        lo, hi = float(r.response.min()), float(r.response.max())
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<span class="cnnlab-readout cnnlab-kernel-sum" data-sum="{float(r.kernel.sum()):.6g}">'
            f'kernel {html.escape(_describe_sum(r.kernel))}</span> · '
            f'<span class="cnnlab-readout cnnlab-range" data-min="{lo:.4g}" data-max="{hi:.4g}">'
            f'response range [{lo:.3g}, {hi:.3g}]</span></div>'
        )


# --------------------------------------------------------------------------- Gabor
@dataclass(frozen=True, eq=False)
class GaborResult:
    params: dict
    kernel: np.ndarray
    response: np.ndarray


class GaborExplorer(Explorer):
    """The Bishop ch. 10 slides' Gabor filter G(x, y) = A exp(−α x̃² − β ỹ²) sin(ω x̃ + φ), live on a photograph.

    Examples
    --------
    >>> ex = GaborExplorer()
    >>> ex.theta.value = 0.0
    >>> ex.result.kernel.shape
    (15, 15)
    >>> bool(np.allclose(ex.result.kernel, -ex.result.kernel[:, ::-1]))   # φ = 0: odd in x
    True
    """

    height = "470px"
    figsize = (9.5, 3.9)
    image_format = "jpeg"
    css_class = "cnnlab-gabor-explorer"

    def __init__(self, image=None):
        super().__init__()
        self.image = (_photo(3) if image is None else _as_array(image, "image", ndim=2)).astype(np.float32)
        self._finish(dict(
            theta=slider(float, round(math.pi / 4, 4), 0.0, round(math.pi, 4), "θ orientation",
                         step=round(math.pi / 16, 4), readout_format=".3f"),
            omega=slider(float, 0.8, 0.1, 2.5, "ω frequency", step=0.05),
            phi=slider(float, 0.0, 0.0, round(math.pi, 4), "φ phase", step=round(math.pi / 8, 4),
                       readout_format=".3f"),
            alpha=slider(float, 0.05, 0.005, 0.4, "α decay along x̃", step=0.005, readout_format=".3f"),
            beta=slider(float, 0.05, 0.005, 0.4, "β decay along ỹ", step=0.005, readout_format=".3f"),
            size=slider(int, 15, 3, 21, "kernel size", step=2)))

    def compute(self, **p):
        g = kernels.gabor(p["size"], p["theta"], p["omega"], p["phi"], p["alpha"], p["beta"])
        return GaborResult(p, g, filter_image(self.image, g, dtype=np.float32))

    def draw(self, r, figure):
        a1 = figure.add_axes([0.01, 0.2, 0.22, 0.62])
        a2 = figure.add_axes([0.26, 0.03, 0.35, 0.86])
        a3 = figure.add_axes([0.64, 0.03, 0.35, 0.86])
        plot_kernel(r.kernel, ax=a1, annotate=False, title=f"Gabor kernel {r.kernel.shape[0]}×{r.kernel.shape[1]}")
        show_image(self.image, ax=a2, title="input")
        show_feature_map(r.response, ax=a3, percentile=99.5, title="response (red +, blue −)")

    def header(self, r):
        p = r.params
        wavelength = 2 * math.pi / p["omega"]
        formula = (f"G(x, y) = exp(−{p['alpha']:.3f}·x̃² − {p['beta']:.3f}·ỹ²) · sin({p['omega']:.2f}·x̃ + "
                   f"{p['phi']:.2f}),  x̃ = x cos θ + y sin θ,  ỹ = −x sin θ + y cos θ")
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<div class="cnnlab-readout cnnlab-formula">{html.escape(formula)}</div>'
            f'<div class="cnnlab-readout cnnlab-gabor" data-theta-deg="{math.degrees(p["theta"]):.1f}" '
            f'data-wavelength="{wavelength:.3f}">θ = {math.degrees(p["theta"]):.1f}° (stripes run at '
            f'{(math.degrees(p["theta"]) + 90) % 180:.1f}°), wavelength 2π/ω = {wavelength:.2f} px</div></div>'
        )


# --------------------------------------------------------------------------- equivariance
EQUIVARIANCE_KERNELS = ("Sobel vertical", "Prewitt horizontal", "Laplacian", "box blur", "emboss")


@dataclass(frozen=True, eq=False)
class EquivarianceResult:
    dy: int
    dx: int
    kernel_name: str
    conv_of_shifted: np.ndarray
    shifted_conv: np.ndarray
    difference: np.ndarray
    interior_error: float


class EquivarianceExplorer(Explorer):
    """Shift the photo, then filter — or filter, then shift: the same map, except at the borders.

    Examples
    --------
    >>> ex = EquivarianceExplorer()
    >>> ex.dx.value = 7
    >>> ex.result.interior_error < 1e-9 and bool(np.abs(ex.result.difference).max() > 0)
    True
    """

    height = "430px"
    figsize = (9.5, 3.5)
    image_format = "jpeg"
    css_class = "cnnlab-equivariance-explorer"

    def __init__(self, image=None):
        super().__init__()
        self.image = _photo(4) if image is None else _as_array(image, "image", ndim=2, dtype=np.float64)
        self._finish(dict(dy=slider(int, 10, -40, 40, "shift down (rows)"),
                          dx=slider(int, -15, -40, 40, "shift right (cols)"),
                          kernel=dropdown(EQUIVARIANCE_KERNELS, "Sobel vertical", "kernel", width="330px")))

    def compute(self, *, dy, dx, kernel):
        k = PRESETS[kernel]
        op = functools.partial(filter_image, kernel=k)
        diff, interior = equivariance_error(op, self.image, dy, dx, border=k.shape[0] // 2)
        shifted_conv = translate(op(self.image), dy, dx)
        return EquivarianceResult(dy, dx, kernel, shifted_conv + diff, shifted_conv, diff, interior)

    def draw(self, r, figure):
        axes = [figure.add_axes([0.01 + 0.33 * i, 0.03, 0.31, 0.84]) for i in range(3)]
        vmax = float(np.percentile(np.abs(r.shifted_conv), 99.5)) or 1.0
        show_image(r.conv_of_shifted, ax=axes[0], cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                   title="filter(shift(image))")
        show_image(r.shifted_conv, ax=axes[1], cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                   title="shift(filter(image))")
        show_image(r.difference, ax=axes[2], cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                   title="difference (only at the borders)")
        self._axes = axes

    def refresh(self, r, figure):
        vmax = float(np.percentile(np.abs(r.shifted_conv), 99.5)) or 1.0
        for ax, data in zip(self._axes, (r.conv_of_shifted, r.shifted_conv, r.difference)):
            ax.images[0].set_data(data)
            ax.images[0].set_clim(-vmax, vmax)
        return True

    def header(self, r):
        ok = r.interior_error < 1e-9
        n_diff = int(np.count_nonzero(np.abs(r.difference) > 1e-9))
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<span class="cnnlab-readout cnnlab-equivariance" data-interior="{r.interior_error:.3g}" '
            f'data-border-pixels="{n_diff}" style="color:{"#1a7f37" if ok else "#a00"}">'
            f'{"✔" if ok else "✘"} away from the borders the two maps agree (max |difference| '
            f'{r.interior_error:.2g}); {n_diff} border pixels differ</span></div>'
        )
