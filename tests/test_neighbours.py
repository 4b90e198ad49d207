"""cnnlab.nn.neighbours: nearest neighbours, label agreement, one-shot accuracy."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings, strategies as st  # noqa: E402

from cnnlab.nn.neighbours import nearest_neighbours, neighbour_label_agreement, one_shot_accuracy  # noqa: E402

pytestmark = pytest.mark.torch
FAST = settings(max_examples=25, deadline=None)


@FAST
@given(st.integers(1, 8), st.integers(2, 30), st.integers(1, 6), st.integers(0, 10**6))
def test_nearest_neighbours_match_numpy(q, m, d, seed):
    rng = np.random.default_rng(seed)
    queries, bank = rng.normal(size=(q, d)), rng.normal(size=(m, d))
    k = min(3, m)
    idx, dist = nearest_neighbours(queries, bank, k, chunk=3)
    ref = np.linalg.norm(queries[:, None] - bank[None], axis=2)
    np.testing.assert_array_equal(idx, np.argsort(ref, axis=1, kind="stable")[:, :k])
    np.testing.assert_allclose(dist, np.sort(ref, axis=1)[:, :k], atol=1e-9)
    idx, _ = nearest_neighbours(bank, bank, min(2, m - 1), exclude_self=True)
    assert not (idx == np.arange(m)[:, None]).any()


def test_label_agreement_pixel_vs_feature_space_by_construction():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 50)
    features = labels[:, None] * 4.0 + rng.normal(size=(100, 3))      # separates the labels
    pixels = rng.normal(size=(100, 3))                                    # ignores them
    assert neighbour_label_agreement(features, labels, k=5) > 0.95
    assert 0.3 < neighbour_label_agreement(pixels, labels, k=5) < 0.7
    q = np.array([[0.0, 0, 0], [4.0, 4, 4]])
    assert neighbour_label_agreement(features, labels, 3, queries=q, query_labels=[0, 1]) == 1.0


def test_neighbour_errors():
    a = np.zeros((4, 2))
    with pytest.raises(ValueError, match="same dimension"):
        nearest_neighbours(a, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="k must be at most 3"):
        nearest_neighbours(a, a, 4, exclude_self=True)
    with pytest.raises(ValueError, match="non-empty 2-D"):
        nearest_neighbours(np.zeros(3), a)
    with pytest.raises(TypeError, match="must be a 2-D tensor or array"):
        nearest_neighbours([[0, 0]], a)
    with pytest.raises(ValueError, match="labels must have one entry per feature row"):
        neighbour_label_agreement(a, [0, 1])
    with pytest.raises(ValueError, match="queries given without query_labels"):
        neighbour_label_agreement(a, [0, 1, 0, 1], 1, queries=a)


def test_one_shot_accuracy_by_construction_and_by_brute_force():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 30)
    separated = labels[:, None] * 10.0 + rng.normal(size=(90, 4))
    assert one_shot_accuracy(separated, labels, episodes=30) == 1.0
    noise = rng.normal(size=(90, 4))
    assert 0.2 < one_shot_accuracy(noise, labels, episodes=200) < 0.45          # chance = 1/3
    # one episode, recomputed by hand with the same random draws
    acc = one_shot_accuracy(noise, labels, [2, 0], episodes=1, queries=3, seed=7)
    draw = np.random.default_rng(7)
    picks = [draw.choice(np.flatnonzero(labels == c), 4, replace=False) for c in (2, 0)]
    refs = noise[[p[0] for p in picks]]
    right = sum(int(np.argmin(np.linalg.norm(refs - noise[q], axis=1)) == k) for k, p in enumerate(picks) for q in p[1:])
    assert acc == right / 6


def test_one_shot_errors():
    f, y = np.zeros((6, 2)), [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="at least two different labels"):
        one_shot_accuracy(f, y, [1, 1])
    with pytest.raises(ValueError, match="class 0 has 3 examples; one-shot with queries=5 needs 6"):
        one_shot_accuracy(f, y)
    with pytest.raises(ValueError, match="labels must have one entry per feature row"):
        one_shot_accuracy(f, y[:4])
    with pytest.raises(ValueError, match="episodes must be a positive int"):
        one_shot_accuracy(f, y, queries=1, episodes=0)
