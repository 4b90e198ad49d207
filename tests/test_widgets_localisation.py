"""Lesson 10's LocalisationExplorer (IoU and the notes' loss) and DetectionExplorer (NMS)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

import cnnlab.nn as cnn  # noqa: E402
from cnnlab.widgets.localisation import (  # noqa: E402
    DetectionExplorer, LocalisationExplorer, box_terms, default_canvases,
)

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def canvases():
    return default_canvases(12)


# -- box_terms: the notes' hand cases, parity with cnnlab.nn, pixel counting ---------------
def test_box_terms_hand_cases():
    r = box_terms([0.9, 0.5, 0.4, 0.2, 0.1, 0.8, 0.1], [1, 0.5, 0.5, 0.2, 0.1, 1, 0])
    np.testing.assert_allclose(r["terms"], [0.01, 0, 0.01, 0, 0, 0.04, 0.01], atol=1e-12)
    assert r["loss"] == pytest.approx(0.07) and r["used"].all()
    empty = box_terms([0.8, 0.5, 0.6, 0.1, 0.3, 0.7, 0.2], [0, 9, 9, 9, 9, 9, 9])     # don't-care entries
    assert empty["loss"] == pytest.approx(0.64) and empty["used"].tolist() == [True] + [False] * 6
    np.testing.assert_array_equal(empty["terms"][1:], 0)
    # lesson 10's pixel-counting case: a 20×12 box and the same box moved 5 rows and 4 columns
    box = lambda top, left, h, w: [(left + w / 2) / 40, (top + h / 2) / 40, h / 40, w / 40]  # noqa: E731
    r = box_terms([1, *box(10, 12, 20, 12), 1, 0], [1, *box(15, 16, 20, 12), 1, 0])
    assert r["iou"] == pytest.approx(120 / 360, abs=1e-6)
    assert (r["intersection"] * 1600, r["union"] * 1600) == (pytest.approx(120), pytest.approx(360))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.05, 0.95), min_size=4, max_size=4), st.lists(st.floats(0.05, 0.95), min_size=4, max_size=4),
       st.booleans())
def test_box_terms_match_cnnlab_nn(pred, true, present):
    y_hat = [0.7, *pred, 0.6, 0.4]
    y = [float(present), *true, 1.0, 0.0]
    r = box_terms(y_hat, y)
    assert r["loss"] == pytest.approx(float(cnn.localisation_loss(torch.tensor(y_hat), torch.tensor(y))), rel=1e-6)
    assert r["loss"] == pytest.approx(r["terms"].sum())
    iou = float(cnn.box_iou(torch.tensor([pred]), torch.tensor([true]))[0])
    assert r["iou"] == pytest.approx(iou, abs=1e-6)
    assert r["intersection"] / r["union"] == pytest.approx(iou, abs=1e-5)


def test_box_terms_errors():
    with pytest.raises(ValueError, match=r"p_c\) must be 0 or 1"):
        box_terms([0.5] * 7, [0.5] * 7)
    with pytest.raises(ValueError, match=r"must have shape \(N, 7\)"):
        box_terms([0.5] * 6, [1] * 6)


# -- LocalisationExplorer ---------------------------------------------------------------
def test_localisation_explorer_iou_and_loss_follow_the_box(canvases):
    ex = LocalisationExplorer(canvases)
    k = ex.result.index
    t = canvases.targets[k].numpy().astype(float)
    assert t[0] == 1 and (canvases.targets[:k, 0] == 0).all()          # the first canvas with a digit
    assert 0 < ex.result.iou < 1                                          # starts near, not on, the digit
    ex.set_box(*t[1:5])
    assert ex.result.iou == pytest.approx(1.0) and ex.result.terms[1:5] == pytest.approx(0)
    ex.x.value = min(t[1] + t[4], 1.0)                                    # slide right by a box width
    assert ex.result.iou == pytest.approx(0.0, abs=1e-6) and ex.result.terms[1] > 0
    with ex.hold_updates():
        ex.pc.value, ex.p1.value = 1.0, float(t[5])
    np.testing.assert_allclose(ex.result.terms[[0, 5, 6]], 0, atol=1e-12)
    assert ex.result.loss == pytest.approx(ex.result.terms.sum())
    assert f'data-loss="{ex.result.loss:.6f}"' in ex.rendered_html and "cnnlab-iou" in ex.rendered_html
    patches = ex.figure.axes[0].patches
    assert patches[1].get_width() == pytest.approx(ex.w.value * 40)     # the red box is the controls' box


def test_localisation_explorer_empty_canvas_counts_only_p_c(canvases):
    empty = int(np.flatnonzero(canvases.targets[:, 0] == 0)[0])
    ex = LocalisationExplorer(canvases, index=empty)
    ex.pc.value = 0.3
    assert ex.result.used.tolist() == [True] + [False] * 6
    assert ex.result.loss == pytest.approx(0.09)
    assert not ex.figure.axes[0].patches[0].get_visible()                 # no true box to draw
    assert "only p_c counts" in ex.figure.axes[1].get_title()


def test_localisation_explorer_new_canvas_moves_the_box_near_its_digit(canvases):
    ex = LocalisationExplorer(canvases)
    has = np.flatnonzero(canvases.targets[:, 0] == 1)
    ex.index.value = int(has[1])
    t = canvases.targets[int(has[1])].numpy()
    assert ex.x.value == pytest.approx(min(t[1] + 0.1, 1), abs=0.006) and ex.h.value == pytest.approx(t[3], abs=0.006)
    assert ex.updates == 2                                                # one redraw for the canvas change


def test_localisation_explorer_errors(canvases):
    with pytest.raises(TypeError, match="data must be cnnlab.nn.LocalisationData"):
        LocalisationExplorer((canvases.images, canvases.targets))
    with pytest.raises(ValueError, match=r"index must be an int in \[0, 11\], got 12"):
        LocalisationExplorer(canvases, index=12)


# -- DetectionExplorer ------------------------------------------------------------------
class Whole(torch.nn.Module):
    """An object fills every window; p̂_c grows to the right so the scores differ."""

    def forward(self, x):
        n = x.shape[0]
        pc = 0.5 + 0.4 * torch.arange(n, dtype=torch.float32) / max(n - 1, 1)
        return torch.cat([pc[:, None], torch.tensor([[.5, .5, 1, 1, 1, 0]]).repeat(n, 1)], dim=1)


def test_detection_explorer_matches_sliding_window_detect():
    scene = torch.zeros(1, 12, 12)
    ex = DetectionExplorer(Whole(), scene, window=4, stride=2, threshold=0.6, iou_threshold=0.2)
    for t, u in [(0.6, 0.2), (0.0, 0.5), (0.8, 0.0), (0.6, 1.0)]:
        with ex.hold_updates():
            ex.threshold.value, ex.iou_threshold.value = t, u
        ref = cnn.sliding_window_detect(Whole(), scene, window=4, stride=2, threshold=t, iou_threshold=u)
        kept = ex.result.candidates[ex.result.kept]
        np.testing.assert_allclose(kept, ref.boxes.numpy(), atol=1e-6)
        assert ex.result.windows == ref.windows == 25
    assert f'data-kept="{len(ex.result.kept)}"' in ex.rendered_html
    ex.threshold.value = 0.95
    assert len(ex.result.candidates) == 0 and len(ex.result.kept) == 0 and ex.error is None


def test_detection_explorer_counts_hits_with_true_boxes():
    class Centre(torch.nn.Module):
        def forward(self, x):
            return torch.tensor([[0.95, .5, .5, .5, .5, 1, 0]]).repeat(x.shape[0], 1)

    true = torch.tensor([[0.25, 0.25, 0.25, 0.25], [0.9, 0.9, 0.1, 0.1]])
    ex = DetectionExplorer(Centre(), torch.zeros(1, 8, 8), window=4, stride=4, true_boxes=true)
    assert (ex.result.hits, ex.result.false_alarms, ex.result.misses) == (1, 3, 1)
    assert 'data-hits="1"' in ex.rendered_html
    from matplotlib.colors import to_hex

    colours = [to_hex(p.get_edgecolor()) for p in ex.figure.axes[0].patches]
    assert colours.count("#d62728") == 4 and colours.count("#2ca02c") == 2      # kept boxes red, true green


def test_detection_explorer_on_a_tiled_scene_and_errors():
    torch.manual_seed(0)                 # an untrained net on four canvases (what bench/widgets.py times)
    scene, boxes, _ = cnn.tile_canvases(default_canvases(8), [0, 1, 2, 3], 2)
    ex = DetectionExplorer(cnn.localisation_net(40, width=4), scene, window=40, stride=8, true_boxes=boxes,
                           threshold=0.3)
    assert ex.result.windows == 36 and ex.result.hits is not None
    with pytest.raises(ValueError, match=r"threshold must be a number in \[0, 1\], got 2"):
        DetectionExplorer(Whole(), torch.zeros(1, 8, 8), window=4, stride=2, threshold=2)
    with pytest.raises(ValueError, match="window must fit in the scene"):
        DetectionExplorer(Whole(), torch.zeros(1, 8, 8), window=10, stride=2)
