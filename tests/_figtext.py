"""What a student sees of an explorer's figure: every text's size on screen, and overlaps.

Shared by ``tests/test_widgets_layout.py`` (kernel side, no browser) and the browser
suite's layout test, which measures how much the page scales the figure image.

Units. matplotlib sizes text in points (1/72 inch) and renders the PNG at the
explorer's ``dpi``, so a ``s``-point text is ``s·dpi/72`` image pixels tall. The page
shows the image at ``scale = clientWidth / naturalWidth`` CSS pixels per image pixel, and
at 100 % zoom a CSS pixel is 1/96 inch, so the text is ``s·dpi/72·scale·72/96`` CSS
points. Issue 12 asks for at least 9 pt, i.e. 12 CSS px: ``s·dpi/72·scale >= 12``.
"""
from __future__ import annotations

import functools

#: the smallest figure text allowed, in CSS points at 100 % zoom (12 CSS px)
MIN_CSS_PT = 9.0
CSS_PX_PER_PT = 96 / 72


@functools.lru_cache(maxsize=1)
def _bench():
    """``bench/widgets.py`` loaded once: how the benchmark finds and builds explorers."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "bench" / "widgets.py"
    spec = importlib.util.spec_from_file_location("_bench_widgets", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def explorer_classes() -> dict[str, type]:
    """Every Explorer subclass of cnnlab.widgets, by CSS class (its browser key)."""
    found = {cls.css_class: cls for cls in _bench().discover().values() if cls.css_class}
    return dict(sorted(found.items()))


def build(cls):
    """An instance as ``bench/widgets.py`` builds it (its ``INSTANCES`` table, else ``cls()``)."""
    return _bench().build(cls)


def texts(figure, *, inside=True):
    """``[(artist, size_pt, bbox_px)]`` of the non-empty texts that drawing ``figure`` really
    paints, inside the figure (``inside=False``: also those outside it, which a figure saved
    with ``bbox_inches="tight"``, as a notebook shows it, grows to include).

    The renderer is watched while the figure draws, so only what reaches the PNG counts:
    not the labels of ticks outside the axes' limits, nor hidden artists, nor a text
    clipped out of the figure; a legend's texts and titles do count.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    drawn = {}

    def spy(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and str(s).strip():
            drawn.setdefault(id(mtext), (mtext, float(prop.get_size_in_points())))
        return type(renderer).draw_text(renderer, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = spy
    try:
        figure.draw(renderer)
    finally:
        del renderer.draw_text
    W, H = canvas.get_width_height()
    found = []
    for t, size in drawn.values():
        box = t.get_window_extent(renderer)
        if box.width == 0:
            continue
        if inside and (box.x1 <= 0 or box.y1 <= 0 or box.x0 >= W or box.y0 >= H):
            continue
        found.append((t, size, box))
    return found


def smallest_text(explorer):
    """``(size_pt, text)`` of the smallest visible text of the explorer's current figure."""
    return smallest_text_of(explorer.figure)


def smallest_text_of(figure, *, inside=True):
    """``(size_pt, text)`` of the smallest visible text of ``figure`` (see :func:`texts`)."""
    found = texts(figure, inside=inside)
    if not found:
        return None, None
    t, size, _ = min(found, key=lambda f: f[1])
    return size, t.get_text()


def css_pt(size_pt, dpi, scale=1.0):
    """A ``size_pt`` text rendered at ``dpi`` and shown at ``scale``, in CSS points."""
    return size_pt * dpi / 72 * scale / CSS_PX_PER_PT


def small_text(record, scale=1.0):
    """What is wrong with a measured figure's smallest text (``record``: ``min_pt``, ``dpi``,
    ``min_text``) shown at ``scale``: ``[]`` when it is at least :data:`MIN_CSS_PT` on screen."""
    if record["min_pt"] is None:
        return []
    shown = css_pt(record["min_pt"], record["dpi"], scale)
    if shown >= MIN_CSS_PT - 1e-6:
        return []
    return [f"its smallest figure text {record['min_text']!r} is {record['min_pt']:g} pt at {record['dpi']:g} dpi, "
            f"shown at {scale:.2f}×: {shown:.1f} pt on screen (at least {MIN_CSS_PT:g})"]


def text_overlaps(found, *, tolerance=1.0):
    """Pairs of texts (from :func:`texts`) that overlap on the figure. Texts at an angle
    other than 0/90° are left out: their axis-aligned boxes overlap when the glyphs do not."""
    upright = [f for f in found if f[0].get_rotation() % 90 == 0]
    return [(upright[i][0].get_text(), upright[j][0].get_text())
            for i, j in overlaps([f[2] for f in upright], tolerance=tolerance)]


def overlaps(boxes, *, tolerance=0.5):
    """Pairs ``(i, j)`` of boxes (matplotlib Bboxes, pixels) whose areas intersect by more than
    ``tolerance`` px in both directions."""
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > tolerance and h > tolerance:
                pairs.append((i, j))
    return pairs


#: run in a lesson's kernel before its first cell (``FIGTEXT_SOURCE`` replaced by this
#: file's text): from then on, every figure IPython shows in the notebook (a cell's
#: figures at its end, or ``plt.show()``) is measured as it is sent, and recorded in
#: ``__cnnlab_figures`` by the tail of its base64 PNG (how the page's ``<img src>`` ends):
#: its width in image px, dpi, and smallest text in points.
WATCH_FIGURES = r"""
def __cnnlab_watch_figures(source):
    import base64, io, sys
    import matplotlib.backend_bases as backend_bases
    ns = {"__name__": "_figtext"}
    exec(compile(source, "_figtext.py", "exec"), ns)
    records = {}
    original = backend_bases.FigureCanvasBase.print_figure

    def print_figure(self, filename, *args, **kwargs):
        result = original(self, filename, *args, **kwargs)
        shown = sys._getframe(1).f_globals.get("__name__") == "IPython.core.pylabtools"
        if shown and isinstance(filename, io.BytesIO) and kwargs.get("format") == "png":
            png = filename.getvalue()
            size, text = ns["smallest_text_of"](self.figure, inside=False)
            records[base64.b64encode(png).decode("ascii")[-96:]] = {
                "width_px": int.from_bytes(png[16:20], "big"), "dpi": float(kwargs.get("dpi") or self.figure.dpi),
                "min_pt": size, "min_text": text, "figsize": [float(v) for v in self.figure.get_size_inches()]}
        return result

    backend_bases.FigureCanvasBase.print_figure = print_figure
    return records


__cnnlab_figures = __cnnlab_watch_figures(FIGTEXT_SOURCE)
del __cnnlab_watch_figures
"""
#: run after the lesson: prints the records of :data:`WATCH_FIGURES` as one JSON line
REPORT_FIGURES = 'import json as __j; print("__CNNLAB_FIGURES__" + __j.dumps(__cnnlab_figures)); del __j'


def kernel_code(template: str = WATCH_FIGURES) -> str:
    """Code to run in a kernel: ``template`` with ``FIGTEXT_SOURCE`` replaced by this file's text."""
    import pathlib

    return template.replace("FIGTEXT_SOURCE", repr(pathlib.Path(__file__).read_text()))


def parse_report(text: str) -> dict:
    """The records printed by :data:`REPORT_FIGURES`."""
    import json

    return json.loads(text.split("__CNNLAB_FIGURES__", 1)[1].splitlines()[0])
