"""cnnlab.nn.detection: non-max suppression, sliding windows, tiled scenes."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings, strategies as st  # noqa: E402

from cnnlab.nn.detection import match_detections, non_max_suppression, sliding_window_detect, tile_canvases  # noqa: E402
from cnnlab.nn.localization import LocalisationData, box_iou  # noqa: E402

pytestmark = pytest.mark.torch


def nms_reference(boxes, scores, thr):
    """The textbook loop, on plain lists."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    for i in order:
        if all(box_iou(boxes[i:i + 1], boxes[j:j + 1])[0] <= thr for j in keep):
            keep.append(i)
    return keep


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 15), st.floats(0.0, 1.0), st.integers(0, 10**6))
def test_nms_matches_the_textbook_loop(n, thr, seed):
    rng = np.random.default_rng(seed)
    boxes = torch.tensor(np.c_[rng.uniform(0.2, 0.8, (n, 2)), rng.uniform(0.05, 0.4, (n, 2))], dtype=torch.float32)
    scores = torch.tensor(rng.permutation(n) / n, dtype=torch.float32)       # distinct scores
    assert non_max_suppression(boxes, scores, thr).tolist() == nms_reference(boxes, scores.tolist(), thr)


def test_nms_hand_cases_and_errors():
    b = torch.tensor([[.5, .5, .2, .2], [.5, .5, .2, .2], [.6, .5, .2, .2]])
    assert non_max_suppression(b, torch.tensor([.1, .9, .5]), 0.5).tolist() == [1, 2]     # IoU 1/3 survives 0.5
    assert non_max_suppression(b, torch.tensor([.1, .9, .5]), 0.3).tolist() == [1]
    assert non_max_suppression(b, torch.tensor([.1, .9, .5]), 1.0).tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="boxes must be \\(N, 4\\) and scores \\(N,\\)"):
        non_max_suppression(b, torch.ones(2))
    with pytest.raises(ValueError, match="iou_threshold must be in \\[0, 1\\]"):
        non_max_suppression(b, torch.ones(3), 1.5)


class BrightestBlob(torch.nn.Module):
    """A perfect 'localiser' for one 4x4 bright square per window (for testing the plumbing)."""

    def forward(self, x):
        out = []
        for img in x[:, 0]:
            on = img > 0.5
            if on.sum() < 16:
                out.append([0.0] * 7)
                continue
            rows, cols = on.any(1).nonzero().flatten(), on.any(0).nonzero().flatten()
            S = img.shape[0]
            h, w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
            out.append([1.0, float(cols[0] + w / 2) / S, float(rows[0] + h / 2) / S, float(h) / S, float(w) / S, 1, 0])
        return torch.tensor(out)


def test_sliding_windows_find_every_square_once():
    scene = torch.zeros(1, 32, 32)
    squares = [(2, 3), (20, 22), (5, 24)]                       # top-left corners of 4x4 squares
    for r, c in squares:
        scene[0, r:r + 4, c:c + 4] = 1.0
    det = sliding_window_detect(BrightestBlob(), scene, window=12, stride=4, iou_threshold=0.3)
    assert det.windows == 36
    found = sorted((round(float(b[1]) * 32 - 2), round(float(b[0]) * 32 - 2)) for b in det.boxes)
    assert found == sorted(squares)
    assert torch.allclose(det.boxes[:, 2:], torch.full((3, 2), 4 / 32))
    with pytest.raises(ValueError, match="window must fit in the scene"):
        sliding_window_detect(BrightestBlob(), scene, window=40, stride=4)


def test_tile_canvases_boxes_follow_the_tiles():
    y = torch.tensor([[1., .25, .5, .5, .25, 1, 0], [0] * 7, [1., .5, .5, .2, .2, 0, 1]])
    data = LocalisationData(torch.rand(3, 1, 10, 10), y, np.array([3, -1, 7]), (3, 7))
    scene, boxes, cls = tile_canvases(data, [0, 1, 2], 2)
    assert scene.shape == (1, 20, 20)
    torch.testing.assert_close(scene[0, 10:, :10], data.images[2, 0])
    torch.testing.assert_close(boxes, torch.tensor([[.125, .25, .25, .125], [.25, .75, .1, .1]]))
    assert cls.tolist() == [0, 1]
    with pytest.raises(TypeError, match="data must be LocalisationData"):
        tile_canvases((data.images, data.targets), [0], 1)


def test_match_detections_counts():
    true = torch.tensor([[.2, .2, .2, .2], [.7, .7, .2, .2], [.5, .2, .1, .1]])
    assert match_detections(true, true) == (3, 0, 0)
    assert match_detections(torch.zeros(0, 4), true) == (0, 0, 3)
    assert match_detections(true, torch.zeros(0, 4)) == (0, 3, 0)
    shifted = true + torch.tensor([0.1, 0, 0, 0])          # IoU 1/3 for the 0.2 boxes, 0 for the 0.1 box
    assert match_detections(shifted, true, 0.3) == (2, 1, 1)
    assert match_detections(shifted, true, 0.5) == (0, 3, 3)
