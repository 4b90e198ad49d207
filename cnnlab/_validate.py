"""Argument checks shared by the numeric core.

Every public function validates its arguments with these helpers, so the messages
read the same everywhere: they name the parameter, show the value received and say
what is accepted, e.g. ``stride must be a positive int or a pair of them, got 0``.
"""
from __future__ import annotations

import numbers
import operator

import numpy as np

__all__ = [
    "_as_array",
    "_check_int",
    "_check_mode",
    "_tuple",
    "_padding_pairs",
]


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(value, name: str, *, minimum: int | None = None, what: str | None = None) -> int:
    """Return ``value`` as a Python int; ``TypeError``/``ValueError`` naming ``name`` otherwise."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        kind = what or ("a positive int" if minimum == 1 else f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value}")
    return value


def _check_real(value, name: str, *, positive: bool = False, nonnegative: bool = False,
                minimum: float | None = None) -> float:
    """Return ``value`` as a Python float: a finite real number (not a bool), positive,
    non-negative or at least ``minimum`` when asked; ``TypeError``/``ValueError`` naming
    ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _tuple(value, n: int, name: str, *, minimum: int = 1) -> tuple[int, ...]:
    """Expand an int or a length-``n`` sequence of ints to an ``n``-tuple (torch's ``_pair``).

    >>> _tuple(2, 2, "stride")
    (2, 2)
    >>> _tuple((1, 3), 2, "dilation")
    (1, 3)
    """
    kind = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    plural = {1: "", 2: " or a pair of them", 3: " or a triple of them"}.get(n, f" or {n} of them")
    if _is_int(value):
        items = (operator.index(value),) * n
    elif isinstance(value, (tuple, list, np.ndarray)) and len(value) == n and all(_is_int(v) for v in value):
        items = tuple(operator.index(v) for v in value)
    else:
        raise TypeError(f"{name} must be {kind}{plural}, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{name} must be {kind}{plural}, got {value!r}")
    return items


def _padding_pairs(padding, n: int, name: str = "padding") -> tuple[tuple[int, int], ...]:
    """Normalise numeric padding to ``n`` (before, after) pairs.

    Accepts an int (same on every side), a length-``n`` sequence of ints (symmetric per
    dimension), or a length-``n`` sequence of (before, after) pairs. For ``n == 1`` a
    single (before, after) pair is also accepted.

    >>> _padding_pairs(1, 2)
    ((1, 1), (1, 1))
    >>> _padding_pairs((2, 0), 1)
    ((2, 0),)
    >>> _padding_pairs(((0, 1), (2, 3)), 2)
    ((0, 1), (2, 3))
    """
    msg = (
        f"{name} must be a non-negative int, {n} of them, or {n} (before, after) pairs"
        if n > 1 else f"{name} must be a non-negative int or a (before, after) pair"
    )
    if _is_int(padding):
        p = operator.index(padding)
        pairs = ((p, p),) * n
    elif isinstance(padding, (tuple, list)):
        if n == 1 and len(padding) == 2 and all(_is_int(v) for v in padding):
            pairs = ((operator.index(padding[0]), operator.index(padding[1])),)
        elif len(padding) == n and all(_is_int(v) for v in padding):
            pairs = tuple((operator.index(v), operator.index(v)) for v in padding)
        elif len(padding) == n and all(
            isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(u) for u in v) for v in padding
        ):
            pairs = tuple((operator.index(v[0]), operator.index(v[1])) for v in padding)
        else:
            raise TypeError(f"{msg}, got {padding!r}")
    else:
        raise TypeError(f"{msg}, got {padding!r}")
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"{msg}, got {padding!r}")
    return pairs


def _check_mode(mode, allowed, name: str = "mode"):
    """Return ``mode`` if it is one of ``allowed``; a ``ValueError`` listing them otherwise.

    Like scipy's ``_valfrommode``, the lookup failure becomes a ValueError that says
    what was received and what is accepted.

    >>> _check_mode("same", ("full", "same", "valid"))
    'same'
    """
    try:
        if mode in allowed:
            return mode
    except TypeError:  # unhashable or uncomparable
        pass
    choices = ", ".join(repr(m) for m in allowed)
    raise ValueError(f"{name} must be one of {choices}, got {mode!r}")


def _as_array(x, name: str, *, ndim=None, allow_empty: bool = False, finite: bool = True,
              dtype=None) -> np.ndarray:
    """Convert ``x`` to a numeric ndarray and check it.

    Parameters
    ----------
    x : array_like
    name : str
        Parameter name used in messages.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    allow_empty : bool
        Whether a size-0 array is acceptable.
    finite : bool
        Reject NaN and infinity.
    dtype : numpy dtype, optional
        Cast to this dtype; by default ints and bools stay exact and everything else
        becomes float64 (complex stays complex).

    >>> _as_array([1, 2, 3], "x").dtype.kind
    'i'
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a rectangular array of numbers, got {x!r}") from exc
    if arr.dtype.kind == "O" and arr.size:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of numbers, got dtype object") from exc
    if arr.dtype.kind not in "biufc" and not (arr.dtype.kind == "O" and arr.size == 0):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "O" or arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers, got NaN or infinity")
    return arr
