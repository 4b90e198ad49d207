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


def texts(figure):
    """``[(artist, size_pt, bbox_px)]`` of the non-empty texts that drawing ``figure`` really
    paints, inside the figure.

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
        if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= W or box.y0 >= H or box.width == 0:
            continue
        found.append((t, size, box))
    return found


def smallest_text(explorer):
    """``(size_pt, text)`` of the smallest visible text of the explorer's current figure."""
    found = texts(explorer.figure)
    if not found:
        return None, None
    t, size, _ = min(found, key=lambda f: f[1])
    return size, t.get_text()


def css_pt(size_pt, dpi, scale=1.0):
    """A ``size_pt`` text rendered at ``dpi`` and shown at ``scale``, in CSS points."""
    return size_pt * dpi / 72 * scale / CSS_PX_PER_PT


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
