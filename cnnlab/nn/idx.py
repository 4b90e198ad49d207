"""The IDX file format of the MNIST distribution: read (raw, gzip or xz) and write.

A damaged file is a ``ValueError`` naming the file and what is wrong with it (wrong magic
number, truncated header or data, trailing bytes, corrupt compressed stream), never
silent garbage. numpy only.
"""
from __future__ import annotations

import gzip
import lzma
import os
import pathlib
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx"]

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in _IDX_DTYPES.items()}



def _decompress(raw: bytes, path) -> bytes:
    """Undo gzip or xz compression, detected from the content, not the file name."""
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(raw)
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise ValueError(f"{path}: corrupt or truncated compressed data ({exc})") from exc
    return raw


def _parse_idx(data: bytes, path) -> np.ndarray:
    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file ({len(data)} bytes, no complete magic number)")
    zero, code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path}: not an IDX file (magic number 0x{data[:4].hex()}; expected 0x0000TTDD with "
            f"type code TT in {{08, 09, 0b, 0c, 0d, 0e}} and DD >= 1 dimensions, e.g. 0x00000803 "
            f"for MNIST images and 0x00000801 for labels)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, need {header} for {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"{path}: truncated IDX data: shape {shape} needs {expected} bytes, found {found}")
    if found > expected:
        raise ValueError(f"{path}: corrupt IDX file: {found - expected} bytes after the {expected} the header announces")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _check_path(path) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {path!r}")
    return pathlib.Path(os.fspath(path))


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the format of the MNIST distribution), raw, gzip- or xz-compressed.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Compression is recognised from the content, so a ``.gz`` that was
        already unpacked (or the other way round) still reads correctly.

    Returns
    -------
    ndarray
        Shape ``(d_1, ..., d_n)`` as stored in the header, native byte order; dtype from the
        type code (``0x08`` uint8, ``0x09`` int8, ``0x0b`` int16, ``0x0c`` int32,
        ``0x0d`` float32, ``0x0e`` float64).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Wrong magic number, truncated header or data, trailing bytes, or a corrupt
        compressed stream; the message names the file and the problem.

    Notes
    -----
    Layout (big-endian): two zero bytes, a type byte, a byte with the number of
    dimensions ``n``, ``n`` 32-bit sizes, then the data in C order, so element
    ``[i_1, ..., i_n]`` sits at byte ``4 + 4n + itemsize * (i_1 d_2...d_n + ... + i_n)``.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> write_idx(os.path.join(d, "x-idx2-ubyte.gz"), np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(os.path.join(d, "x-idx2-ubyte.gz"))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = _check_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    return _parse_idx(_decompress(path.read_bytes(), path), path)


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when the name ends in ``.gz``.

    Parameters
    ----------
    path : str or os.PathLike
    array : array_like
        uint8, int8, int16, int32, float32 or float64, at least 1-D.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> write_idx(p, np.array([7, 2, 1], dtype=np.uint8))
    >>> open(p, "rb").read()[:4].hex(), read_idx(p).tolist()
    ('00000801', [7, 2, 1])
    """
    arr = np.asarray(array)
    if arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got {arr.ndim}")
    native = arr.dtype.newbyteorder("=") if arr.dtype.itemsize > 1 else arr.dtype
    if native not in _IDX_CODES:
        allowed = "uint8, int8, int16, int32, float32, float64"
        raise TypeError(f"array dtype must be one of {allowed}, got {arr.dtype}")
    code = _IDX_CODES[native]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    data = header + np.ascontiguousarray(arr, dtype=_IDX_DTYPES[code]).tobytes()
    path = _check_path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)
