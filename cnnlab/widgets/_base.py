"""The pattern every explorer follows (after ipywidgets' own ``interactive``).

A pure function computes, a ``cnnlab.viz`` function draws onto a persistent
matplotlib ``Figure``, and a small class owns the controls and one ``Output``.
Every control change calls :meth:`Explorer.update`, which recomputes, redraws and
keeps the outcome on ``self.result`` (or the message on ``self.error``) so tests and
benchmarks can read it without a browser.

Figures are rendered to PNG (JPEG for photographs) by the explorer itself, so the output
does not depend on which matplotlib backend the kernel happens to use, and pyplot is never
involved. The output area's content is replaced in ONE widget-state update
(``out.outputs = (...)``) rather than by capturing displays with ``with out:``: no flicker,
nothing printed when there is no kernel, and no message capture for front ends (or
nbclient's output-widget emulation) to get wrong.
"""
from __future__ import annotations

import base64
import contextlib
import html
import inspect
import io
import time
from collections.abc import Mapping

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

from ..viz._style import DPI
from ._controls import column, hook


def _message(exc, change=None, controls=()) -> str:
    """The text shown for an error: the exception's message, prefixed by the name of the
    control that was moved unless the message already names it; errors that are not a
    ValueError/TypeError (a bug or an overflow deep inside) also say their type."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, (ValueError, TypeError)):
        text = f"{type(exc).__name__}: {text}"
    owner = change.get("owner") if isinstance(change, dict) else getattr(change, "owner", None)
    name = str(getattr(owner, "description", "") or "").strip()
    named = [str(getattr(c, "description", "") or "").strip().lower() for c in controls]
    if name and not any(n and n in text.lower() for n in [name.lower(), *named]):
        text = f"{name}: {text}"
    return text


class Explorer:
    """Base class: subclass, build controls in ``__init__``, implement ``compute`` and ``draw``.

    Subclasses call ``self._finish({name: control, ...})`` at the end of ``__init__``: each
    control is declared once, under the name of the :meth:`compute` argument it feeds (as
    ipywidgets' ``interactive`` derives controls from a signature); it becomes the attribute
    ``self.<name>``, :meth:`params` reads it, and ``_finish`` lays the controls out above
    the output, observes their ``value`` and draws once, so an explorer shows a correct
    figure even when nobody moves a control.

    Attributes
    ----------
    result : object
        What ``compute`` returned for the current control values (``None`` after an error).
    error : str or None
        The message shown above the last good figure when the settings are impossible or
        anything else went wrong; it names the control that was moved.
    out : ipywidgets.Output
        The one output area: at least as tall as the figure (so the page does not jump),
        at most ``height`` (then it scrolls).
    figure : matplotlib.figure.Figure
        The persistent figure ``draw`` paints on.
    last_update_s : float
        Seconds the last :meth:`update` took (compute + draw + PNG encoding).
    rendered_html, rendered_image : str or None, bytes or None
        What the output area shows now: the readouts (or the error message) and the figure
        (PNG, or JPEG when ``image_format == "jpeg"``).
    """

    #: the most the output area grows to before it scrolls (CSS); subclasses override. The
    #: area is as tall as what it shows — at least the figure's height, so a redraw or an
    #: error message never makes the page jump, and never a blank band under the figure.
    height = "480px"
    #: CSS class added to ``widget`` (with ``cnnlab-explorer``) so browser tests can find it.
    css_class = None
    #: figure size in inches and dpi of the PNG shown: the course's style
    #: (:func:`cnnlab.viz.use_course_style`: 96 dpi, so a 9 pt text is 9 pt on screen,
    #: and at most ``MAX_WIDTH_IN`` = 9.5 in wide, so the page never shrinks it)
    figsize = (9.0, 4.5)
    dpi = DPI
    #: "png" (line art, text) or "jpeg" (photographs: about 5x smaller to send on every change)
    image_format = "png"
    #: matplotlib layout engine: ``None`` (the explorers place their axes themselves) renders
    #: about twice as fast as ``"constrained"``.
    layout = None

    def __init__(self):
        figure_px = f"{round(self.figsize[1] * self.dpi)}px"
        self.out = widgets.Output(layout=widgets.Layout(min_height=figure_px, max_height=self.height,
                                                        overflow="auto"))
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi, layout=self.layout)
        self.result = None
        self.error = None
        self.last_update_s = None
        self.updates = 0
        self.controls: list[widgets.Widget] = []
        self._names: list[str] | None = None     # the controls' names, when _finish got them by name
        self.widget: widgets.Widget | None = None
        self._held = 0
        self._pending = False
        self._drawn = False
        self.rendered_html: str | None = None
        self.rendered_image: bytes | None = None

    # -- to implement -----------------------------------------------------------------
    def params(self) -> dict:
        """Current control values as keyword arguments for :meth:`compute`: ``{name: value}``
        of the controls given to ``_finish`` by name. Override it only to translate values
        (or when the controls were given as a plain list)."""
        if self._names is None:
            raise NotImplementedError("give _finish the controls by name ({name: control}) or override params()")
        return {name: control.value for name, control in zip(self._names, self.controls)}

    def compute(self, **params):
        """Pure computation; raise ``ValueError`` for impossible settings (any exception is
        caught by :meth:`update` and shown, but a ValueError says it best)."""
        raise NotImplementedError

    def draw(self, result, figure: Figure) -> None:
        """Draw ``result`` on ``figure`` (already cleared)."""
        raise NotImplementedError

    def refresh(self, result, figure: Figure) -> bool:
        """Optionally update the artists of the previous :meth:`draw` in place and return True.

        Re-using the axes skips re-creating ticks and labels, which is most of matplotlib's
        cost for small figures (2-3x faster). Return False (the default) to redraw from
        scratch; the base class does so whenever the previous update drew nothing.
        """
        return False

    def encode(self) -> bytes:
        """The figure as the bytes the output area shows (``image_format``, at ``dpi``).

        The default renders the whole figure. An explorer whose frame (axes, ticks,
        titles) stays put between updates may override it to paint only what changed
        onto a saved background (blitting, as matplotlib's animations do).
        """
        buf = io.BytesIO()
        if self.image_format == "jpeg":
            self.figure.savefig(buf, format="jpeg", dpi=self.dpi, pil_kwargs={"quality": 88})
        else:
            self.figure.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()

    def header(self, result):
        """Optional HTML shown above the figure (readouts, formulas); ``None`` for none."""
        return None

    # -- machinery --------------------------------------------------------------------
    def _finish(self, controls, *, extra=None, box=None):
        """Attach the controls, lay them out, observe their ``value`` and draw once.

        Parameters
        ----------
        controls : dict of {str: ipywidgets.ValueWidget}, or a sequence of them
            By name (the usual form): each control becomes the attribute ``self.<name>`` and
            the argument ``<name>`` of :meth:`compute` (checked here: a name that is not one
            of compute's parameters, or a parameter without a control, is a TypeError). A
            plain sequence leaves the naming to a :meth:`params` override.
        extra : ipywidgets.Widget, optional
            Shown between the controls and the output.
        box : ipywidgets.Widget or callable, optional
            The controls' layout (default: one column of them). A callable is called without
            arguments once the controls are attributes, so it can arrange ``self.<name>``.
        """
        if isinstance(controls, Mapping):
            self._names = list(controls)
            for name, control in controls.items():
                taken = getattr(self, name, None)
                if taken is not None and taken is not control:
                    raise TypeError(f"control name {name!r} is already taken by {type(self).__name__}.{name}; "
                                    "name the control (and compute's parameter) otherwise")
                setattr(self, name, control)
            if type(self).params is Explorer.params:
                self._check_compute(self._names)
            controls = controls.values()
        self.controls = list(controls)
        for control in self.controls:
            control.observe(self._on_change, names="value")
            hook(control)  # a stable CSS class per control for browser tests
        if callable(box):
            box = box()
        if box is None:
            box = column(*self.controls)
        children = [box, self.out] if extra is None else [box, extra, self.out]
        self.widget = widgets.VBox(children)
        self.widget.add_class("cnnlab-explorer")
        if self.css_class:
            self.widget.add_class(self.css_class)
        self._on_change()

    def _check_compute(self, names):
        """The controls' names must be :meth:`compute`'s parameters (a developer's mistake otherwise)."""
        signature = inspect.signature(self.compute)
        taken = signature.parameters.values()
        named = {p.name for p in taken if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        problems = []
        if not any(p.kind is p.VAR_KEYWORD for p in taken):
            unknown = [n for n in names if n not in named]
            if unknown:
                problems.append(f"no parameter for the control(s) {unknown}")
        missing = [p.name for p in taken if p.name in named and p.default is p.empty and p.name not in names]
        if missing:
            problems.append(f"no control for the parameter(s) {missing}")
        if problems:
            raise TypeError(f"{type(self).__name__}: the controls {list(names)} must match the parameters of "
                            f"compute{signature}: {'; '.join(problems)}")

    @contextlib.contextmanager
    def hold_updates(self):
        """Change several controls at once and redraw once at the end (e.g. a preset)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self._on_change()

    @contextlib.contextmanager
    def _quietly(self):
        """Change controls without any redraw (the caller redraws right after)."""
        pending = self._pending
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            self._pending = pending

    def update(self, change=None):
        """Recompute and redraw for the current control values.

        Never raises: any error from reading the controls, computing or drawing is shown
        as a message above the last good picture (the message names the control that was
        moved), and kept on ``self.error``.
        """
        if self._held:
            self._pending = True
            return
        start = time.perf_counter()
        self.updates += 1
        png = None
        try:
            self.result = self.compute(**self.params())
            self.error = None
            if not (self._drawn and self.refresh(self.result, self.figure)):
                self.figure.clear()
                self.draw(self.result, self.figure)
            self._drawn = True
            png = self.encode()
            head = self.header(self.result)
        except Exception as exc:  # noqa: BLE001 - an explorer never raises into the notebook
            self.result = None
            self.error = _message(exc, change, self.controls)
            self._drawn = False  # the figure may be half drawn: redraw from scratch next time
        self._render(png, head=None if self.error is not None else head)
        self.last_update_s = time.perf_counter() - start

    def _render(self, png, head=None):
        """Show ``self.error`` (over the last good picture) or ``head`` and ``png``."""
        if self.error is not None:
            self.rendered_html = ('<div class="cnnlab-error" style="color:#a00;font-weight:bold;padding:1em">'
                                  f"⚠ {html.escape(self.error)}</div>")
            png = self.rendered_image  # keep the last good picture
        else:
            self.rendered_html = head
        self.rendered_image = png
        # Replace the Output's content in one state update: no flicker, no capture of the
        # kernel's display messages (the `with out:` route), works the same headless.
        outputs = []
        if self.rendered_html:
            outputs.append({"output_type": "display_data", "metadata": {},
                            "data": {"text/html": self.rendered_html, "text/plain": "readouts"}})
        if png is not None:
            outputs.append({"output_type": "display_data", "metadata": {},
                            "data": {f"image/{self.image_format}": base64.b64encode(png).decode("ascii"),
                                     "text/plain": "<figure>"}})
        self.out.outputs = tuple(outputs)

    def _on_change(self, change=None):
        """What the controls call: :meth:`update`, with anything a subclass's own
        ``update`` raises before reaching the base class shown instead of raised."""
        try:
            self.update(change)
        except Exception as exc:  # noqa: BLE001 - an explorer never raises into the notebook
            self.result = None
            self.error = _message(exc, change, self.controls)
            self._drawn = False
            self._render(None)

    def _ipython_display_(self):
        display(self.widget)
