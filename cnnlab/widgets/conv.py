"""The convolution explorer of lesson 03: stride, padding and dilation in 1-D and 2-D.

Every setting shows, at once: the padded input with the kernel footprint of one output
position, the output with its values, the output-size formula with the numbers put in,
the sum of products behind the selected value, the convolution matrix with that
output's row highlighted (or, in the backward view, its transpose with the column that
carries that output's gradient back to the inputs), the equivalent
``torch.nn.functional`` call, and a live check that cnnlab, the matrix product and torch
give the same numbers. A Play button steps
the kernel across the input.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from .._validate import _check_mode
from ..backward import conv2d_backward
from ..examples import AUDIO_X, IMAGE_6X6
from ..geometry import conv_geometry
from ..shapes import conv_output_size, resolve_padding as _resolve_padding
from ..viz import fmt, plot_matrix
from ._base import Explorer
from ._controls import dropdown, set_range, slider, stepper, toggles
from ._html import grid_html, tape_html
from ._torchcode import torch_check, torch_code

__all__ = ["ConvExplorer", "ConvExplorerResult", "torch_code", "torch_check"]

INPUTS = ("seed", "ramp", "edge", "random")
KERNELS = ("average", "ramp", "edge", "random")
PADDINGS = (
    ("symmetric P", "symmetric"),
    ("before / after", "asymmetric"),
    ("'valid' (none)", "valid"),
    ("'same' (torch, stride 1)", "same"),
    ("'same' (TensorFlow/Keras)", "same_tf"),
    ("'full' (span − 1 each side)", "full"),
)
MAX_SIZE = {1: 20, 2: 12}


def make_input(pattern, n, dims):
    """The explorer's input: the Unit 5 notes' signal / the CNN lecture notes' image, a ramp, an edge or random ints."""
    shape = (n,) * dims
    if pattern == "seed":
        if dims == 1:
            return np.resize(AUDIO_X, n)
        reps = -(-n // 6)
        return np.tile(IMAGE_6X6, (reps, reps))[:n, :n]
    if pattern == "ramp":
        return np.arange(1, n ** dims + 1, dtype=float).reshape(shape)
    if pattern == "edge":
        row = np.where(np.arange(n) < (n + 1) // 2, 10.0, 0.0)
        return row if dims == 1 else np.tile(row, (n, 1))
    if pattern == "random":
        return np.random.default_rng(0).integers(0, 10, shape).astype(float)
    raise ValueError(f"input pattern must be one of {INPUTS}, got {pattern!r}")


def make_kernel(pattern, k, dims):
    """The explorer's kernel: a moving average, a ramp (shows the flip), an edge detector or random ints."""
    shape = (k,) * dims
    if pattern == "average":
        return np.full(shape, 1.0 / k ** dims)
    if pattern == "ramp":
        return np.arange(1, k ** dims + 1, dtype=float).reshape(shape)
    if pattern == "edge":
        col = np.linspace(1.0, -1.0, k) if k > 1 else np.ones(1)
        return col if dims == 1 else np.tile(col, (k, 1))
    if pattern == "random":
        return np.random.default_rng(1).integers(-2, 3, shape).astype(float)
    raise ValueError(f"kernel pattern must be one of {KERNELS}, got {pattern!r}")


def resolve_padding(mode, n, k, stride, dilation, p=0, before=0, after=0):
    """(before, after) zero padding of one axis for the explorer's padding controls.

    Turns the dropdown's choice (and the P sliders) into a padding argument and lets
    :func:`cnnlab.resolve_padding` resolve it: "symmetric" is ``P``, "asymmetric" is
    ``(P_before, P_after)``, "same_tf" is TensorFlow's 'same'.
    """
    choice = _check_mode(mode, tuple(m for _, m in PADDINGS), "padding mode")
    padding = {"symmetric": p, "asymmetric": (before, after), "same_tf": "same"}.get(choice, choice)
    (pair,) = _resolve_padding(padding, n, k, stride, dilation,
                               same="tensorflow" if choice == "same_tf" else "torch")
    return pair


@dataclass(frozen=True, eq=False)
class ConvExplorerResult:
    """What the explorer shows for one setting (``explorer.result``)."""

    geometry: object
    position: tuple
    padding_mode: str
    out_shape: tuple
    formula: str
    terms: str
    torch_code: str
    matrix_error: float
    torch_error: float | None
    torch_message: str
    view: str = "forward"
    flow: np.ndarray | None = None
    transpose_error: float | None = None

    @property
    def value(self):
        """The selected output value."""
        return float(self.geometry.output[self.position])

    @property
    def agree(self):
        """True when cnnlab and the matrix product agree, and torch too where it is installed."""
        ok = self.matrix_error < 1e-9
        return ok and (self.torch_error is None or self.torch_error < 1e-9)


def size_formula(n, k, s, pads, d, dims=1):
    """The output-size formula with every number put in, as plain text."""
    (pb, pa) = pads
    out = conv_output_size(n, k, s, pads, d)
    name = "L_out" if dims == 1 else "H_out = W_out"
    general = f"{name} = ⌊(n + P_before + P_after − d·(k − 1) − 1) / S⌋ + 1"
    numbers = f"⌊({n} + {pb} + {pa} − {d}·({k} − 1) − 1) / {s}⌋ + 1"
    inner = n + pb + pa - d * (k - 1) - 1
    text = f"{general}\n     = {numbers} = ⌊{inner}/{s}⌋ + 1 = {out}"
    if pb == pa and d == 1:
        text += f"\n     (lecture form: ⌊(n + 2P − k)/S⌋ + 1 = ⌊({n} + 2·{pb} − {k})/{s}⌋ + 1 = {out})"
    return text


def sum_of_products(geom, position, *, symbol="w", max_terms=12):
    """``y[i] = x̃[..]·w[..] + ... = value`` for one output position (``x̃`` the padded input)."""
    pos = geom.unravel(position)
    terms = geom.terms(pos)
    idx = lambda t: ",".join(str(i) for i in t)  # noqa: E731
    shown = terms[:max_terms]
    symbolic = " + ".join(f"x̃[{idx(c)}]·a[{j}]" for j, (c, _, _) in enumerate(shown))
    numeric = " + ".join(f"{fmt(v)}·{fmt(w)}" for _, v, w in shown)
    more = f" + … ({len(terms) - max_terms} more)" if len(terms) > max_terms else ""
    note = ("a = the kernel" if geom.operation == "correlation"
            else "a = the kernel flipped (convolution)")
    return (f"y[{idx(pos)}] = {symbolic}{more}\n        = {numeric}{more}\n        = "
            f"{fmt(geom.output[pos])}     ({note})")


class ConvExplorer(Explorer):
    """Explore stride, padding and dilation of a 1-D or 2-D convolution.

    Parameters
    ----------
    dims : {1, 2}
        Start in 1-D (Unit 5 notes' moving average) or 2-D (CNN lecture notes' 6×6 image).
    torch : bool
        Start with the live torch comparison on (it imports torch on first use).

    Attributes
    ----------
    result : ConvExplorerResult or None
    error : str or None
        Set instead of ``result`` when the settings are impossible.

    Examples
    --------
    >>> ex = ConvExplorer(torch=False)
    >>> ex.result.out_shape                  # the Unit 5 notes: n = 9, k = 3, P = 2
    (11,)
    >>> ex.stride.value, ex.padding.value = 2, 1
    >>> [fmt(v) for v in ex.result.geometry.output]
    ['1', '2', '2', '2', '5/3']
    >>> ex.kernel_size.value, ex.dilation.value = 7, 4     # the kernel no longer fits
    >>> ex.result is None and "no output position fits" in ex.error
    True
    """

    height = "900px"
    figsize = (7.5, 3.4)
    css_class = "cnnlab-conv-explorer"

    def __init__(self, dims=1, *, torch=True):
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims!r}")
        style, width = {"description_width": "110px"}, "330px"
        narrow = dict(style=style, width=width)
        self.position, self.play = stepper("output position", **narrow)
        self._dims_seen = dims
        self._finish(dict(
            dims=toggles([("1-D", 1), ("2-D", 2)], dims, "dimensions", style=style),
            operation=toggles([("cross-correlation", "correlation"), ("convolution", "convolution")], "correlation",
                              "operation", style=style,
                              tooltips=["what torch's conv layers compute", "flip the kernel first (numpy.convolve)"]),
            size=slider(int, 9 if dims == 1 else 6, 1, MAX_SIZE[dims], "input size n", **narrow),
            kernel_size=slider(int, 3, 1, 7, "kernel size k", **narrow),
            stride=slider(int, 1, 1, 4, "stride S", **narrow),
            dilation=slider(int, 1, 1, 4, "dilation d", **narrow),
            padding_mode=dropdown(PADDINGS, "symmetric", "padding", **narrow),
            padding=slider(int, 2 if dims == 1 else 0, 0, 6, "P (each side)", **narrow),
            pad_before=slider(int, 0, 0, 6, "P before", **narrow),
            pad_after=slider(int, 0, 0, 6, "P after", **narrow),
            input_pattern=dropdown(INPUTS, "seed", "input", **narrow),
            kernel_pattern=dropdown(KERNELS, "average", "kernel", **narrow),
            position=self.position,
            use_torch=widgets.Checkbox(value=bool(torch), description="check against torch", style=style,
                                       indent=False),
            view=toggles([("forward: y = M x", "forward"), ("backward: Mᵀ", "transpose")], "forward", "matrix view",
                         style=style, tooltips=["the convolution matrix M",
                                                "its transpose: where each output's gradient flows"]),
        ), box=self._box)

    def _box(self):
        left = widgets.VBox([self.dims, self.operation, self.input_pattern, self.kernel_pattern,
                             self.size, self.kernel_size, self.stride])
        right = widgets.VBox([self.padding_mode, self.padding, self.pad_before, self.pad_after,
                              self.dilation, widgets.HBox([self.play, self.position]), self.use_torch,
                              self.view])
        return widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap"))

    # -- keep dependent controls consistent --------------------------------------------
    def _sync(self):
        dims = self.dims.value
        with self._quietly():
            if dims != self._dims_seen:  # switching dimension starts from that dimension's seed example
                self._dims_seen = dims
                self.size.max = MAX_SIZE[dims]
                self.size.value = 9 if dims == 1 else 6
                self.padding.value = 2 if dims == 1 else 0
            mode = self.padding_mode.value
            self.padding.disabled = mode != "symmetric"
            self.pad_before.disabled = self.pad_after.disabled = mode != "asymmetric"
            try:
                total = int(np.prod(self._out_shape()))
            except ValueError:
                total = 1
            set_range(self.position, self.play, total - 1)

    def _pairs(self):
        p = self.params()
        return resolve_padding(p["padding_mode"], p["size"], p["kernel_size"], p["stride"], p["dilation"],
                               p["padding"], p["pad_before"], p["pad_after"])

    def _out_shape(self):
        p = self.params()
        return (conv_output_size(p["size"], p["kernel_size"], p["stride"], self._pairs(), p["dilation"]),) * p["dims"]

    def update(self, change=None):
        if not self._held:
            self._sync()
        super().update(change)

    # -- explorer protocol ---------------------------------------------------------------
    def compute(self, *, dims, operation, size, kernel_size, stride, dilation, padding_mode, padding, pad_before,
                pad_after, input_pattern, kernel_pattern, position, use_torch, view="forward"):
        n, k = size, kernel_size                     # the CNN lecture notes' names for them
        pair = resolve_padding(padding_mode, n, k, stride, dilation, padding, pad_before, pad_after)
        x = make_input(input_pattern, n, dims)
        w = make_kernel(kernel_pattern, k, dims)
        geom = conv_geometry(x, w, stride=stride, padding=(pair,) * dims if dims == 2 else pair,
                             dilation=dilation, operation=operation)
        flat = min(int(position), geom.output.size - 1)
        pos = geom.unravel(flat)
        matrix_error = float(np.max(np.abs(geom.matrix @ geom.x.ravel() - geom.output.ravel())))
        if use_torch:
            torch_error, message = torch_check(geom, padding_mode)
        else:
            torch_error, message = None, "torch comparison switched off"
        # the backward pass: ∂L/∂x = Mᵀ ∂L/∂y; one output's gradient flows along its row of M
        flow = geom.matrix[geom.row(pos)].reshape(geom.x.shape)
        g = np.arange(1.0, geom.output.size + 1).reshape(geom.output.shape)       # a generic ∂L/∂y
        lift = (lambda a: a[None, None, None]) if dims == 1 else (lambda a: a[None, None])  # noqa: E731
        pads = ((0, 0),) + geom.padding if dims == 1 else geom.padding
        grad_x = conv2d_backward(lift(geom.x), lift(geom.applied), lift(g), padding=pads,
                                 stride=(1,) * (2 - dims) + geom.stride,
                                 dilation=(1,) * (2 - dims) + geom.dilation)[0]
        transpose_error = float(np.max(np.abs(geom.matrix.T @ g.ravel() - grad_x.ravel())))
        return ConvExplorerResult(
            geometry=geom, position=pos, padding_mode=padding_mode, out_shape=geom.output.shape,
            formula=size_formula(n, k, stride, pair, dilation, dims), terms=sum_of_products(geom, pos),
            torch_code=torch_code(geom, padding_mode), matrix_error=matrix_error, torch_error=torch_error,
            torch_message=message, view=view, flow=flow, transpose_error=transpose_error)

    def draw(self, result, figure):
        figure.set_size_inches(7.5, 3.4 if result.geometry.ndim == 1 else 3.8)
        self._ax = figure.add_axes([0.08, 0.14, 0.9, 0.74])
        self._plot(result)

    def refresh(self, result, figure):
        ax = self._ax
        for artist in [*ax.images, *ax.texts, *ax.patches]:
            artist.remove()
        figure.set_size_inches(7.5, 3.4 if result.geometry.ndim == 1 else 3.8)
        self._plot(result)
        return True

    def _plot(self, result):
        geom, pos = result.geometry, result.position
        row = geom.row(pos)
        m = geom.matrix
        if result.view == "transpose":
            plot_matrix(m.T, ax=self._ax, highlight_rows=geom.input_columns(pos), highlight_cols=[row],
                        annotate=m.shape[1] <= 14 and m.shape[0] <= 18, fontsize=9, ticks=False,
                        title=(f"transposed matrix Mᵀ ({m.shape[1]}×{m.shape[0]}), ∂L/∂x = Mᵀ @ ∂L/∂y:\n"
                               f"yellow column {row} = the selected output's gradient, red rows = where it flows"),
                        xlabel="output gradient " + ("∂L/∂y[i]" if geom.ndim == 1 else "(pixel, row-major)"),
                        ylabel="input gradient " + ("∂L/∂x[i]" if geom.ndim == 1 else "pixel"))
            return
        plot_matrix(m, ax=self._ax, highlight_rows=[row], highlight_cols=geom.input_columns(pos),
                    annotate=m.shape[0] <= 14 and m.shape[1] <= 18, fontsize=9, ticks=False,  # 9 pt fits the cells
                    title=(f"convolution matrix M ({m.shape[0]}×{m.shape[1]}), y = M @ x"
                           f"{'.ravel()' if geom.ndim == 2 else ''}: red row {row} = the selected output, "
                           "yellow = the inputs it reads"),
                    xlabel="input " + ("x[i]" if geom.ndim == 1 else "pixel (row-major)"),
                    ylabel="output " + ("y[i]" if geom.ndim == 1 else "pixel"))

    def header(self, result):
        geom, pos = result.geometry, result.position
        shape = "×".join(str(s) for s in result.out_shape)
        if result.agree:
            agree = (f'<span style="color:#1a7f37">✔ cnnlab, the matrix product M @ x'
                     f'{" and " + html.escape(result.torch_message) if result.torch_error is not None else ""}'
                     f' agree</span> (max |difference| {max(result.matrix_error, result.torch_error or 0):.1g})')
            if result.torch_error is None:
                agree += f' — <i>{html.escape(result.torch_message)}</i>'
        else:
            agree = (f'<span style="color:#a00">✘ disagreement: matrix {result.matrix_error:.3g}, '
                     f'{html.escape(result.torch_message)} {result.torch_error}</span>')
        if geom.ndim == 1:
            grids = tape_html(geom, pos)
        else:
            mask = np.ones(geom.x_padded.shape, dtype=bool)
            (pt, _), (pl, _) = geom.padding
            mask[pt:pt + geom.x.shape[0], pl:pl + geom.x.shape[1]] = False
            xp = geom.x_padded.shape
            kname = "kernel flipped (convolution)" if geom.operation == "convolution" else "kernel"
            grids = (grid_html(geom.x_padded, mask=mask, taps=geom.footprint(pos), weights=geom.applied.ravel(),
                               title=f"input {geom.x.shape[0]}×{geom.x.shape[1]} padded to {xp[0]}×{xp[1]} "
                                     "(red: the kernel's footprint)", name="x̃", kind="input")
                     + grid_html(geom.output, selected=pos, cmap="Greens", name="y", kind="output",
                                 title=f"output {shape}", max_px=300)
                     + grid_html(geom.applied, cmap="Oranges", name="a", kind="kernel", title=kname, max_px=200))
        pre = 'style="margin:2px 0;font-size:12px;line-height:1.35"'
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<div class="cnnlab-readout cnnlab-size" data-out-shape="{shape}"><b>output size {shape}</b>'
            f'<pre {pre}>{html.escape(result.formula)}</pre></div>'
            f'<div class="cnnlab-grids" style="margin:6px 0">{grids}</div>'
            f'<div class="cnnlab-readout cnnlab-sum" data-value="{result.value!r}"><pre {pre}>'
            f'{html.escape(result.terms)}</pre></div>'
            f'<div class="cnnlab-readout cnnlab-agree">{agree}</div>'
            + (self._transpose_html(result) if result.view == "transpose" else "") +
            '<details class="cnnlab-torch"><summary>equivalent torch.nn.functional call</summary>'
            f'<pre class="cnnlab-torch-code" {pre}>{html.escape(result.torch_code)}</pre></details>'
            '</div>'
        )

    def _transpose_html(self, result):
        geom, pos = result.geometry, result.position
        idx = ",".join(str(i) for i in pos)
        cols = geom.input_columns(pos)
        flows = ", ".join(f"x[{','.join(str(int(i)) for i in np.unravel_index(c, geom.x.shape))}] "
                          f"← {fmt(result.flow.ravel()[c])}·g" for c in cols)
        ok = result.transpose_error < 1e-9
        check = (f'<span style="color:{"#1a7f37" if ok else "#a00"}">{"✔" if ok else "✘"} Mᵀ @ g == '
                 f'cnnlab.conv2d_backward\'s ∂L/∂x</span> (max |difference| {result.transpose_error:.1g})')
        return ('<div class="cnnlab-readout cnnlab-transpose" style="margin:4px 0">'
                f'backward: a gradient g = ∂L/∂y[{idx}] flows back along column {geom.row(pos)} of Mᵀ, '
                f'to {html.escape(flows) or "no input (the window reads only padding)"}. {check}</div>')
