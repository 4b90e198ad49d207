"""Filters learned from natural photographs: where Gabor filters come from.

The Bishop ch. 10 slides show that the first-layer filters of a CNN trained on natural
images (AlexNet) look like Gabor filters, and say these filters are *a general property
of the statistics of natural images*. This module tests that claim without a CNN and
without torch: cut many small patches out of a few photographs, and ask for the linear
filters whose outputs are as statistically independent as possible (independent
component analysis, ICA). Nothing here was told about edges, orientations or Gabor
filters; :mod:`cnnlab.gabor_fit` measures how Gabor-like the result is.

The photographs ship with cnnlab (``cnnlab/data/photos.npz``, 0.2 MB; see
``cnnlab/data/PHOTOS.md`` for the provenance and licences: all CC0 or public domain,
from scikit-image's sample data). Nothing is downloaded.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ._validate import _as_rng, _as_array, _check_int, _check_mode, _check_real

__all__ = ["PHOTOS", "load_photos", "sample_patches", "learn_filters"]

#: The shipped photographs, in file order: name -> (height, width), grey levels.
PHOTOS = {
    "camera": (256, 256),
    "astronaut": (256, 256),
    "coffee": (200, 300),
    "chelsea": (150, 225),
    "rocket": (213, 320),
}

_METHODS = ("ica", "pca")


def load_photos(names=None):
    """The shipped natural photographs as grey levels in [0, 1].

    Parameters
    ----------
    names : sequence of str, optional
        Which of :data:`PHOTOS` to load (default: all five, in that order).

    Returns
    -------
    dict of str -> numpy.ndarray
        Name -> float64 array of shape ``PHOTOS[name]``. Each is the scikit-image
        sample photograph converted to grey (BT.601 weights), averaged over 2×2 blocks
        and rounded to 8 bits.

    Examples
    --------
    >>> photos = load_photos(["camera", "chelsea"])
    >>> {name: img.shape for name, img in photos.items()}
    {'camera': (256, 256), 'chelsea': (150, 225)}
    >>> bool(all(0 <= img.min() and img.max() <= 1 for img in photos.values()))
    True
    """
    if names is None:
        names = tuple(PHOTOS)
    elif (isinstance(names, str) or not isinstance(names, (list, tuple))
          or not all(isinstance(n, str) for n in names)):
        raise TypeError(f"names must be a sequence of photo names, got {names!r}")
    for name in names:
        _check_mode(name, tuple(PHOTOS), "names entry")
    with resources.files("cnnlab.data").joinpath("photos.npz").open("rb") as f:
        with np.load(f) as data:
            return {name: data[name].astype(np.float64) / 255.0 for name in names}


def _as_images(images):
    """A list of 2-D float arrays from one image, an (N, H, W) stack or a sequence."""
    if isinstance(images, dict):
        images = list(images.values())
    if isinstance(images, np.ndarray) and images.ndim in (2, 3):
        images = [images] if images.ndim == 2 else list(images)
    elif not isinstance(images, (list, tuple)) or len(images) == 0:
        raise TypeError("images must be a 2-D array, an (N, H, W) array, or a non-empty "
                        f"sequence or dict of 2-D arrays, got {type(images).__name__}")
    return [_as_array(img, "images", ndim=2, dtype=np.float64) for img in images]


def sample_patches(images, size, n, *, rng=None):
    """Cut ``n`` square patches at random positions out of ``images``.

    Parameters
    ----------
    images : array (H, W) or (N, H, W), or a sequence / dict of 2-D arrays
        The images; they may differ in size.
    size : int
        Side of a patch (>= 2, at most the smallest image side).
    n : int
        Number of patches (>= 1). The images contribute in turn, as equally as
        ``n`` allows.
    rng : numpy.random.Generator or int, optional
        Random positions (an int seeds ``numpy.random.default_rng``).

    Returns
    -------
    numpy.ndarray, shape (n, size, size), float64

    Examples
    --------
    >>> img = np.arange(16.0).reshape(4, 4)
    >>> p = sample_patches(img, 2, 3, rng=0)
    >>> p.shape
    (3, 2, 2)
    >>> r, c = divmod(int(p[0, 0, 0]), 4)         # where the first patch was cut
    >>> bool(np.array_equal(p[0], img[r:r + 2, c:c + 2]))
    True
    """
    images = _as_images(images)
    size = _check_int(size, "size", minimum=2)
    n = _check_int(n, "n", minimum=1)
    smallest = min(min(img.shape) for img in images)
    if size > smallest:
        raise ValueError(f"size must be at most the smallest image side ({smallest}), got {size}")
    rng = _as_rng(rng)
    counts = np.full(len(images), n // len(images))
    counts[: n % len(images)] += 1
    offsets = np.arange(size)
    out = []
    for img, count in zip(images, counts):
        i = rng.integers(0, img.shape[0] - size + 1, count)
        j = rng.integers(0, img.shape[1] - size + 1, count)
        out.append(img[i[:, None, None] + offsets[None, :, None], j[:, None, None] + offsets[None, None, :]])
    return np.concatenate(out)


def _blocked(a, b):
    """``a @ b`` for a tall ``a`` (n, k), in row blocks of at most 2**17 multiply-adds.

    numpy's OpenBLAS spreads one large product over every core it sees, and its threads
    then spin while numpy evaluates ``tanh`` between products. On a shared two-core
    machine one FastICA step (20,000 patches, 32 filters) took 736 ms with plain
    products and 29 ms in blocks (22 ms on one thread), measured: OpenBLAS runs products
    this small on one thread. ``bench/filters.py`` measures the whole of ``learn_filters``.
    """
    rows = max(8, 2**17 // max(a.shape[1] * b.shape[1], 1))
    n = len(a)
    if n <= rows:
        return a @ b
    full = n // rows * rows
    head = (a[:full].reshape(-1, rows, a.shape[1]) @ b).reshape(full, b.shape[1])
    return np.concatenate([head, a[full:] @ b]) if full < n else head


def _blocked_gram(a, b):
    """``a.T @ b`` for tall ``a`` (n, p) and ``b`` (n, q), in small blocks (see :func:`_blocked`)."""
    n, p = a.shape
    rows = max(8, 2**17 // max(p * b.shape[1], 1))
    full = n // rows * rows
    out = np.zeros((p, b.shape[1]))
    if full:
        out += (a[:full].reshape(-1, rows, p).transpose(0, 2, 1) @ b[:full].reshape(-1, rows, b.shape[1])).sum(0)
    if full < n:
        out += a[full:].T @ b[full:]
    return out


def _sym_orth(w):
    """The orthogonal matrix nearest to ``w``: ``(w wᵀ)^(-1/2) w``."""
    u, _, vt = np.linalg.svd(w)
    return u @ vt


def learn_filters(images, size=8, n_filters=32, *, method="ica", n_patches=20000, max_iter=200, tol=1e-4,
                  rng=None):
    r"""Learn ``n_filters`` first-layer filters from patches of ``images``.

    Parameters
    ----------
    images : array (H, W) or (N, H, W), or a sequence / dict of 2-D arrays
        E.g. ``load_photos()``, or MNIST digits.
    size : int
        Filters are ``size × size`` (>= 2).
    n_filters : int
        How many (1 <= n_filters < size**2: one dimension, the patch mean, is removed).
    method : {'ica', 'pca'}
        ``'ica'``: independent component analysis (FastICA, symmetric, with the
        log cosh contrast). ``'pca'``: the leading principal components, the
        contrast case (global, not localised).
    n_patches : int
        Number of random patches to learn from (>= 2 · n_filters).
    max_iter : int
        Maximum number of FastICA steps.
    tol : float
        FastICA stops when no filter direction moved by more than this.
    rng : numpy.random.Generator or int, optional
        Patch positions and the starting point of ICA.

    Returns
    -------
    numpy.ndarray, shape (n_filters, size, size), float64
        The filters, each of unit norm and signed so that its largest-magnitude weight
        is positive. A filter is applied as a CNN applies its kernels: the response to a
        patch is ``(filter * patch).sum()`` (cross-correlation).

    Notes
    -----
    Each patch :math:`x \in \mathbb R^{d}` (:math:`d` = size²) loses its mean grey level.
    PCA keeps the ``n_filters`` leading directions and whitens them,
    :math:`z = V x` with :math:`\operatorname{cov}(z) = I`. FastICA then finds an
    orthogonal :math:`W` that makes the components of :math:`s = W z` as non-Gaussian
    (sparse) as possible, iterating

    .. math::
        W \leftarrow \operatorname{orth}\bigl(\mathbb E[g(Wz) z^\top] -
        \operatorname{diag}\mathbb E[g'(Wz)]\, W\bigr), \qquad g = \tanh,

    where orth is :math:`(W W^\top)^{-1/2} W`. The filters are the rows of :math:`W V`,
    reshaped to ``size × size``. With ``'pca'`` they are the rows of :math:`V`.

    Examples
    --------
    >>> f = learn_filters(load_photos(), size=8, n_filters=16, rng=0)
    >>> f.shape, bool(np.allclose((f ** 2).sum(axis=(1, 2)), 1))
    ((16, 8, 8), True)
    """
    images = _as_images(images)
    size = _check_int(size, "size", minimum=2)
    n_filters = _check_int(n_filters, "n_filters", minimum=1)
    if n_filters >= size * size:
        raise ValueError(f"n_filters must be less than size**2 = {size * size} (the patch mean is removed), "
                         f"got {n_filters}")
    method = _check_mode(method, _METHODS, "method")
    n_patches = _check_int(n_patches, "n_patches", minimum=1)
    if n_patches < 2 * n_filters:
        raise ValueError(f"n_patches must be at least 2 * n_filters = {2 * n_filters}, got {n_patches}")
    max_iter = _check_int(max_iter, "max_iter", minimum=1)
    tol = _check_real(tol, "tol", positive=True)
    rng = _as_rng(rng)

    x = sample_patches(images, size, n_patches, rng=rng).reshape(n_patches, -1)
    x -= x.mean(axis=1, keepdims=True)
    cov = _blocked_gram(x, x) / n_patches
    eigval, eigvec = np.linalg.eigh(cov)
    eigval, eigvec = eigval[::-1][:n_filters], eigvec[:, ::-1][:, :n_filters]
    if eigval[-1] <= 1e-12 * max(eigval[0], 1e-300):
        raise ValueError(f"the patches span fewer than n_filters = {n_filters} directions; "
                         "use fewer filters or more varied images")
    if method == "pca":
        filters = eigvec.T
    else:
        v = (eigvec / np.sqrt(eigval)).T                      # whitening, (k, d)
        z = _blocked(x, v.T)                       # (n, k), cov(z) = I
        w = _sym_orth(rng.normal(size=(n_filters, n_filters)))
        for _ in range(max_iter):
            g = np.tanh(_blocked(z, w.T))
            w_new = _sym_orth(_blocked_gram(g, z) / n_patches - (1 - g**2).mean(axis=0)[:, None] * w)
            moved = np.max(np.abs(np.abs(np.sum(w_new * w, axis=1)) - 1))
            w = w_new
            if moved < tol:
                break
        filters = w @ v
    filters = filters / np.linalg.norm(filters, axis=1, keepdims=True)
    peak = filters[np.arange(n_filters), np.abs(filters).argmax(axis=1)]
    filters *= np.sign(peak)[:, None]
    return filters.reshape(n_filters, size, size)
