"""Issue 12 "Layout", kernel side: every explorer's figure as a student sees it.

The browser suite (``tests/browser/_layout.py``, during the explorer walk) measures the
explorers in a 1366×768 JupyterLab window: their height, the blank band under them, and how much
the page scales their figure. These tests check what can be checked without a browser,
for every ``Explorer`` subclass of ``cnnlab.widgets`` (built as ``bench/widgets.py``
builds it) and the variants the lessons show:

* the smallest text the figure really draws is at least 9 pt on screen at 100 % zoom,
  given the figure's ``dpi`` and the width of a notebook's output area in that window
  (``OUTPUT_WIDTH_PX``, measured by the browser suite; a wider figure is scaled down);
* no two upright texts of a figure overlap;
* the output area is as tall as the figure and no taller (no blank band), and its
  ``height`` (the most it grows to) leaves the whole figure in view;
* lesson 10's detection figure: box labels overlap neither each other nor the title,
  and stay inside the image.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

import _figtext as F  # noqa: E402

#: width of a notebook's output area (CSS px) in a 1366 px wide JupyterLab window with the
#: file browser open, as the browser suite measures it (room_width_px in layout.json: 1036
#: for the notebook, 934 for an explorer's output area)
OUTPUT_WIDTH_PX = 934

CLASSES = F.explorer_classes()
TORCH = {"cnnlab-attribution-explorer", "cnnlab-featuremap-explorer", "cnnlab-fgsm-explorer",
         "cnnlab-training-explorer", "cnnlab-localisation-explorer", "cnnlab-detection-explorer",
         "cnnlab-architecture-builder"}


def _variants():
    """``(id, factory)`` for every explorer, plus the other looks the lessons give them."""
    out = []
    for key, cls in CLASSES.items():
        out.append(pytest.param(cls, key, id=key, marks=[pytest.mark.torch] if key in TORCH else []))
    from cnnlab.widgets import ConvExplorer, ReceptiveFieldExplorer

    def conv2d_transpose():
        ex = ConvExplorer(dims=2, torch=False)
        ex.view.value = "transpose"
        return ex

    def conv1d_big():
        ex = ConvExplorer(torch=False)
        ex.size.value = ex.size.max
        return ex

    out += [pytest.param(lambda: ConvExplorer(dims=2, torch=False), "conv 2-D", id="conv-2d"),
            pytest.param(conv2d_transpose, "conv 2-D, Mᵀ", id="conv-2d-transpose"),
            pytest.param(conv1d_big, "conv 1-D, largest input", id="conv-1d-largest"),
            pytest.param(lambda: ReceptiveFieldExplorer(preset="model2 (Unit 5 notes)", input_size=28),
                         "receptive, lesson 07", id="receptive-lesson-07")]
    return out


_BUILT: dict = {}


def _build(factory):
    """One instance per variant for all the tests (building the torch ones takes seconds)."""
    if factory not in _BUILT:
        _BUILT[factory] = _make(factory)
    return _BUILT[factory]


def _make(factory):
    if isinstance(factory, type):
        if factory.css_class in TORCH:
            pytest.importorskip("torch")
        return F.build(factory)
    return factory()


@pytest.mark.parametrize("factory, name", _variants())
def test_figure_text_is_at_least_9pt_on_screen(factory, name):
    ex = _build(factory)
    assert ex.error is None, f"{name}: {ex.error}"
    width = ex.figure.get_figwidth() * ex.dpi
    scale = min(1.0, OUTPUT_WIDTH_PX / width)
    found = F.texts(ex.figure)
    assert found, f"{name}: the figure draws no text"
    small = [(t.get_text(), size) for t, size, _ in found if F.css_pt(size, ex.dpi, scale) < F.MIN_CSS_PT - 1e-9]
    assert not small, (f"{name}: at dpi {ex.dpi}, shown at {scale:.2f}x, these texts are under "
                       f"{F.MIN_CSS_PT:g} pt on screen: {small[:5]}")
    assert width <= OUTPUT_WIDTH_PX, f"{name}: the figure is {width:.0f} px wide, the output area {OUTPUT_WIDTH_PX}"


@pytest.mark.parametrize("factory, name", _variants())
def test_figure_texts_do_not_overlap(factory, name):
    ex = _build(factory)
    pairs = F.text_overlaps(F.texts(ex.figure))
    assert not pairs, f"{name}: overlapping texts {pairs[:5]}"


@pytest.mark.parametrize("factory, name", _variants())
def test_output_area_is_as_tall_as_the_figure(factory, name):
    ex = _build(factory)
    figure_px = round(ex.figure.get_figheight() * ex.dpi)
    layout = ex.out.layout
    # at least the figure (no jump while a new one decodes), and that is all it reserves
    assert layout.min_height == f"{round(ex.figsize[1] * ex.dpi)}px", f"{name}: min_height {layout.min_height}"
    assert int(layout.min_height[:-2]) <= figure_px, f"{name}: reserves more than its figure"
    assert int(str(layout.max_height)[:-2]) >= figure_px, (
        f"{name}: height {layout.max_height} is less than its {figure_px} px figure: the figure scrolls")


# -- lesson 10: the detection figure's labels --------------------------------------------------
def _label_boxes(ax):
    from matplotlib.transforms import Bbox

    renderer = ax.figure.canvas.get_renderer()
    return [Bbox.union([t.get_window_extent(renderer), t.get_bbox_patch().get_window_extent(renderer)])
            for t in ax.texts]


def _detection_figure(boxes, labels, *, size=80, dpi=100):
    from matplotlib.figure import Figure

    from cnnlab.viz import show_boxes

    fig = Figure(figsize=(4.5, 4.5), dpi=dpi)          # lesson 10's figure
    ax = show_boxes(np.zeros((size, size)), boxes, labels=labels, ax=fig.add_subplot(),
                    title="sliding windows + non-max suppression")
    F.texts(fig)                                        # draw: the extents are final
    return fig, ax


def _check_labels(fig, ax, where):
    labels = _label_boxes(ax)
    pairs = F.overlaps(labels)
    assert not pairs, f"{where}: labels {[(ax.texts[i].get_text(), ax.texts[j].get_text()) for i, j in pairs]} overlap"
    renderer = fig.canvas.get_renderer()
    title = ax.title.get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    for t, box in zip(ax.texts, labels):
        assert not F.overlaps([box, title]), f"{where}: label {t.get_text()!r} overlaps the title"
        assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1
                and box.y1 <= frame.y1 + 1), f"{where}: label {t.get_text()!r} leaves the image"


def test_lesson_10_detection_labels_do_not_overlap():
    # what lesson 10 shows: 4 true boxes (unlabelled) and 7 detections after NMS, crowded
    # around the same digits of an 80×80 scene of four 40×40 canvases
    true = [[0.31, 0.15, 0.2, 0.15], [0.72, 0.32, 0.3, 0.2], [0.35, 0.7, 0.2, 0.2], [0.75, 0.7, 0.35, 0.28]]
    det = [[0.72, 0.7, 0.35, 0.26], [0.72, 0.32, 0.25, 0.2], [0.35, 0.68, 0.18, 0.15], [0.3, 0.15, 0.17, 0.15],
           [0.35, 0.78, 0.1, 0.1], [0.8, 0.27, 0.08, 0.07], [0.52, 0.7, 0.2, 0.2]]
    labels = [None] * 4 + ["7 1.00", "3 1.00", "3 1.00", "7 1.00", "3 0.98", "3 0.96", "3 0.95"]
    fig, ax = _detection_figure(np.array(true + det), labels)
    _check_labels(fig, ax, "lesson 10's scene")


@pytest.mark.parametrize("seed", range(25))
def test_crowded_detection_labels_do_not_overlap(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 10))
    centres = (rng.integers(2, 9, size=(n, 2)) * 8 + 4) / 80           # windows on a stride-8 grid
    sizes = rng.uniform(0.15, 0.5, size=(n, 2))
    labels = [f"{rng.choice([3, 7])} {rng.uniform(0.9, 1):.2f}" for _ in range(n)]
    fig, ax = _detection_figure(np.c_[centres, sizes], labels)
    _check_labels(fig, ax, f"seed {seed}")
