"""Nearest neighbours in pixel space and in a network's feature space (CNN lecture notes §6, Unit 5 notes §5.8).

The CNN lecture notes run AlexNet on many images, keeps the 4096-dimensional FC7 vector of each and
compares a test image's nearest neighbours in pixel space with those in feature space;
the Unit 5 notes' one-shot learning uses the same idea as a *similarity function*: two images
are alike when their feature vectors are close. Distances are Euclidean, computed in
float64; features come from :func:`cnnlab.nn.layer_features`.
"""
from __future__ import annotations

import numpy as np
import torch

from .._validate import _as_array, _check_bool, _check_int, _check_seed, _check_trials

__all__ = ["nearest_neighbours", "neighbour_label_agreement", "one_shot_accuracy"]


def _labels(a, name):
    """A 1-D array of (int or any hashable numeric) labels, or a TypeError naming ``name``."""
    return _as_array(a, name, ndim=1, allow_empty=True)


def _as_matrix(a, name):
    if isinstance(a, np.ndarray):
        a = torch.from_numpy(np.ascontiguousarray(_as_array(a, name, allow_empty=True)))
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{name} must be a 2-D tensor or array of feature vectors, got {type(a).__name__}")
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (N, D) array, got shape {tuple(a.shape)}")
    if a.dtype == torch.bool or a.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    a = a.detach().to("cpu", torch.float64)
    if not torch.isfinite(a).all():
        raise ValueError(f"{name} must contain only finite numbers, got NaN or infinity")
    return a


def nearest_neighbours(queries, bank, k=5, *, exclude_self=False, chunk=1024):
    """The ``k`` nearest bank vectors (Euclidean distance) of every query vector.

    The CNN lecture notes §6: neighbours of a test image among training images, in pixel space
    (flattened pixels) or in a layer's feature space (:func:`layer_features`).

    Parameters
    ----------
    queries : (Q, D) tensor or array
    bank : (M, D) tensor or array
    k : int
        Neighbours per query; at most M (M − 1 with ``exclude_self``).
    exclude_self : bool
        ``queries`` *is* ``bank`` (Q = M): never return a query as its own neighbour.

    Returns
    -------
    indices : numpy.ndarray of int64, shape (Q, k)
        Bank rows, nearest first.
    distances : numpy.ndarray of float64, shape (Q, k)

    Notes
    -----
    ‖q − b‖² = ‖q‖² + ‖b‖² − 2 q·b, computed in float64 in chunks of ``chunk`` queries.

    Examples
    --------
    >>> import numpy as np
    >>> idx, dist = nearest_neighbours(np.array([[0., 0.]]), np.array([[3., 4.], [1., 0.], [0., 2.]]), k=2)
    >>> idx.tolist(), dist.tolist()
    ([[1, 2]], [[1.0, 2.0]])
    """
    q, b = _as_matrix(queries, "queries"), _as_matrix(bank, "bank")
    if q.shape[1] != b.shape[1]:
        raise ValueError(f"queries and bank must have the same dimension, got {q.shape[1]} and {b.shape[1]}")
    exclude_self = _check_bool(exclude_self, "exclude_self")
    if exclude_self and q.shape[0] != b.shape[0]:
        raise ValueError(f"exclude_self needs queries to be the bank, got {q.shape[0]} and {b.shape[0]} rows")
    k = _check_int(k, "k", minimum=1)
    limit = b.shape[0] - (1 if exclude_self else 0)
    if k > limit:
        raise ValueError(f"k must be at most {limit} (bank size{' - 1' if exclude_self else ''}), got {k}")
    chunk = _check_int(chunk, "chunk", minimum=1)
    bb = (b * b).sum(1)
    out_i, out_d = [], []
    for s in range(0, q.shape[0], chunk):
        qc = q[s:s + chunk]
        d2 = ((qc * qc).sum(1)[:, None] + bb[None, :] - 2 * qc @ b.T).clamp_min_(0)
        if exclude_self:
            rows = torch.arange(qc.shape[0])
            d2[rows, rows + s] = float("inf")
        d, i = d2.topk(k, dim=1, largest=False)
        out_i.append(i)
        out_d.append(d.sqrt())
    return torch.cat(out_i).numpy(), torch.cat(out_d).numpy()


def neighbour_label_agreement(features, labels, k=5, *, queries=None, query_labels=None) -> float:
    """Fraction of nearest neighbours that share the query's label.

    With only ``features`` and ``labels``, every item queries all the others
    (leave-one-out); with ``queries``/``query_labels``, those query the ``features``
    bank. This is the CNN lecture notes' pixel-space vs feature-space claim, measured: run it once
    on flattened pixels and once on a layer's features.

    Returns
    -------
    float
        Mean over queries of (neighbours with the same label) / k, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[0.], [0.1], [5.], [5.1]])
    >>> neighbour_label_agreement(f, [0, 0, 1, 1], k=1)
    1.0
    >>> neighbour_label_agreement(f, [0, 1, 0, 1], k=1)
    0.0
    """
    bank_labels = _labels(labels, "labels")
    n = _as_matrix(features, "features").shape[0]
    if bank_labels.shape[0] != n:
        raise ValueError(f"labels must have one entry per feature row ({n}), got {bank_labels.shape[0]}")
    if queries is None:
        if query_labels is not None:
            raise ValueError("query_labels given without queries")
        idx, _ = nearest_neighbours(features, features, k, exclude_self=True)
        q_labels = bank_labels
    else:
        if query_labels is None:
            raise ValueError("queries given without query_labels")
        q_labels = _labels(query_labels, "query_labels")
        idx, _ = nearest_neighbours(queries, features, k)
        if q_labels.shape[0] != idx.shape[0]:
            raise ValueError(f"query_labels must have one entry per query ({idx.shape[0]}), got {q_labels.shape[0]}")
    return float((bank_labels[idx] == q_labels[:, None]).mean())


def one_shot_accuracy(features, labels, classes=None, *, episodes=200, queries=5, seed=0) -> float:
    """Accuracy of one-shot classification: one reference example per class, nearest wins.

    One-shot learning (Unit 5 notes, §5.8): instead of a classifier trained on many examples of
    every class, a similarity function d(image₁, image₂) compares a new image with a
    single stored example of each class. Here d is the Euclidean distance between feature
    vectors (pixels, or a layer's features). Each episode draws, for every class, one
    reference and ``queries`` other examples at random; each query is given the class
    of its nearest reference.

    Parameters
    ----------
    features : (N, D) tensor or array
    labels : (N,) array of int
    classes : sequence of int, optional
        The classes of the task (default: every label present); each needs at least
        ``queries + 1`` examples.
    episodes, queries : int
    seed : int

    Returns
    -------
    float
        Fraction of the episodes × classes × queries answers that are right; chance is
        1 / len(classes).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.concatenate([np.zeros((10, 2)), np.full((10, 2), 5.0)]) + np.random.default_rng(0).normal(0, .1, (20, 2))
    >>> one_shot_accuracy(f, [0] * 10 + [1] * 10, episodes=20)
    1.0
    """
    f = _as_matrix(features, "features")
    y = _labels(labels, "labels")
    if y.shape[0] != f.shape[0]:
        raise ValueError(f"labels must have one entry per feature row ({f.shape[0]}), got {y.shape[0]}")
    classes = np.unique(y) if classes is None else _labels(classes, "classes")
    if len(classes) < 2 or len(set(classes.tolist())) != len(classes):
        raise ValueError(f"classes must hold at least two different labels, got {classes.tolist()}")
    episodes = _check_trials(episodes, "episodes")
    queries = _check_int(queries, "queries", minimum=1)
    seed = _check_seed(seed)
    pools = [np.flatnonzero(y == c) for c in classes]
    for c, pool in zip(classes, pools):
        if pool.size < queries + 1:
            raise ValueError(f"class {c} has {pool.size} examples; one-shot with queries={queries} needs {queries + 1}")
    rng = np.random.default_rng(seed)
    right = 0
    for _ in range(episodes):
        picks = [rng.choice(pool, queries + 1, replace=False) for pool in pools]
        refs = f[[p[0] for p in picks]]                                   # (K, D)
        qs = f[np.concatenate([p[1:] for p in picks])]                    # (K·queries, D)
        truth = np.repeat(np.arange(len(classes)), queries)
        nearest = torch.cdist(qs, refs).argmin(1).numpy()
        right += int((nearest == truth).sum())
    return right / (episodes * len(classes) * queries)
