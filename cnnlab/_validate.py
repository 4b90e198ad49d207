"""Argument checks shared by the whole package: the contract every public function keeps.

The contract
------------
Every public callable of ``cnnlab`` (core, ``viz``, ``widgets``, ``nn``) answers a bad
argument with one of two exceptions, whose message names the parameter, shows the value
received and says what is accepted, e.g. ``stride must be a positive int or a pair of
them, got 0``:

* **TypeError** — the argument has the wrong *type*: a string where a number is
  expected, a float or a bool where an int is expected (``True`` is not a size), a
  string such as ``'False'`` where a flag is expected, a non-callable where a function
  is expected, something that is not a matplotlib ``Axes`` for ``ax``, a ragged list or
  an object array where an array of numbers is expected.
* **ValueError** — the type is right but the *value* is not: NaN or infinity, a number
  out of range (negative sizes, zero strides, probabilities above 1), an unknown mode
  string, an array of the wrong shape or an empty one, a label past the number of
  classes, and anything too big (below).

How big is too big: no call may allocate more than :data:`MAX_ELEMENTS` array elements
(2**27, 1 GiB of float64) or loop more than :data:`MAX_TRIALS` times because of one
argument. Past that, a ValueError names the parameter and the memory it would need
(``padding = 100000 would need 4e+10 elements (3.2e+11 bytes); the limit is 134217728
elements``). Finite input never gives NaN or infinity silently, and
no other exception type (IndexError, KeyError, OverflowError, AttributeError …) reaches
the caller. Explorers (``cnnlab.widgets``) never raise at all: they show the message,
naming the control, and keep the last good picture.

The helpers below are the only place these rules are written (the plotting layer adds
``cnnlab.viz._style.check_style`` for ``ax``, colours, colormaps and font sizes, and
``cnnlab.widgets._base.Explorer.update`` turns any error into the explorer's message):

====================  ==========================================================
``_check_int``        an int (numpy ints too, never bool), optionally in a range
``_check_size``       a positive int no larger than :data:`MAX_ELEMENTS` (or
                      ``maximum``; layer widths use :data:`MAX_CHANNELS`)
``_check_real``       a finite real number (Python big ints, numpy scalars), in a range
``_check_bool``       ``True``/``False`` or a numpy bool; ``'False'`` is a TypeError
``_check_mode``       one of a list of choices (scipy's ``_valfrommode``)
``_check_trials``     a count of repetitions no larger than :data:`MAX_TRIALS`
``_check_seed``       a seed in [0, 2**64 - 1]
``_check_callable``   a function
``_check_alloc``      an allocation of so many elements is within :data:`MAX_ELEMENTS`
``_tuple``            an int or an n-tuple of ints (torch's ``_pair``), at most
                      :data:`MAX_ELEMENTS` each
``_padding_pairs``    numeric padding as (before, after) pairs, at most
                      :data:`MAX_ELEMENTS` each
``_as_array``         an array of numbers with the right dimensions, finite
====================  ==========================================================

``tests/test_contract.py`` checks all of this for every public callable, and
``tests/fuzz_contract.py`` counts how each one answers hostile arguments.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

__all__ = [
    "MAX_CHANNELS",
    "MAX_ELEMENTS",
    "MAX_SEED",
    "MAX_TRIALS",
    "_as_array",
    "_check_alloc",
    "_check_bool",
    "_check_callable",
    "_check_int",
    "_check_mode",
    "_as_rng",
    "_check_real",
    "_check_seed",
    "_check_size",
    "_check_trials",
    "_is_int",
    "_padding_pairs",
    "_tuple",
]

#: the most array elements one call may allocate because of its arguments (1 GiB of float64)
MAX_ELEMENTS = 2**27
#: the most repetitions (trials, epochs, steps, episodes) one argument may ask for
MAX_TRIALS = 10**4
#: the most channels, units or classes one layer may have (a wider layer would not fit)
MAX_CHANNELS = 2**16
#: the largest seed every generator accepts (torch's ``manual_seed`` takes 64 bits)
MAX_SEED = 2**64 - 1


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None,
               what: str | None = None) -> int:
    """Return ``value`` as a Python int; ``TypeError``/``ValueError`` naming ``name`` otherwise.

    >>> _check_int(3, "n", minimum=1)
    3
    """
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        kind = what or ("a positive int" if minimum == 1 else f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value}")
    if maximum is not None and value > maximum:
        kind = what or f"an int <= {maximum}"
        raise ValueError(f"{name} must be {kind}, got {value}")
    return value


def _check_size(value, name: str, *, minimum: int = 1, maximum: int = MAX_ELEMENTS) -> int:
    """An int used as a size or a count: at least ``minimum``, at most ``maximum``
    (:data:`MAX_ELEMENTS` by default: a larger one would not fit in memory anyway).

    >>> _check_size(5, "n")
    5
    """
    value = _check_int(value, name, minimum=minimum)
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum} (a size this program can hold), got {value}")
    return value


def _check_trials(value, name: str, *, minimum: int = 1) -> int:
    """A count of repetitions (trials, epochs, steps): an int in [minimum, MAX_TRIALS]."""
    value = _check_int(value, name, minimum=minimum)
    if value > MAX_TRIALS:
        raise ValueError(f"{name} must be at most {MAX_TRIALS} (a count that finishes in reasonable time), "
                         f"got {value}")
    return value


def _check_seed(value, name: str = "seed") -> int:
    """A seed: an int in [0, MAX_SEED] (what numpy, random and torch all accept)."""
    value = _check_int(value, name, minimum=0)
    if value > MAX_SEED:
        raise ValueError(f"{name} must be an int in [0, 2**64 - 1], got {value}")
    return value


def _as_rng(rng, name: str = "rng"):
    """A numpy Generator from ``None``, a Generator or a seed (:func:`_check_seed`)."""
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise TypeError(f"{name} must be a numpy.random.Generator, an int seed or None, got {rng!r}")
    return np.random.default_rng(_check_seed(rng, name))


def _check_alloc(count, name: str, value=None, *, itemsize: int = 8) -> None:
    """Refuse an allocation of ``count`` elements past :data:`MAX_ELEMENTS`.

    ``name`` (and ``value``, shown when given) is the argument that asked for it.

    >>> _check_alloc(10, "n")
    >>> _check_alloc(10**12, "n", 10**12)
    Traceback (most recent call last):
    ...
    ValueError: n = 1000000000000 would need 1e+12 elements (8e+12 bytes); the limit is 134217728 elements
    """
    if not count <= MAX_ELEMENTS:  # also catches inf and NaN
        shown = name if value is None else f"{name} = {value}" if isinstance(value, str) else f"{name} = {value!r}"
        raise ValueError(f"{shown} would need {float(count):.3g} elements ({float(count) * itemsize:.3g} bytes); "
                         f"the limit is {MAX_ELEMENTS} elements")


def _check_bool(value, name: str) -> bool:
    """``True``/``False`` (or a numpy bool) as a Python bool; anything else, the string
    ``'False'`` included, is a TypeError.

    >>> _check_bool(np.True_, "flag")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _check_callable(value, name: str):
    """A function (anything callable), or a TypeError naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {value!r}")
    return value


def _check_real(value, name: str, *, positive: bool = False, nonnegative: bool = False,
                minimum: float | None = None, maximum: float | None = None) -> float:
    """Return ``value`` as a Python float: a finite real number (not a bool), positive,
    non-negative, at least ``minimum`` or at most ``maximum`` when asked.

    A non-number (a string, a bool, None) is a TypeError; NaN, infinity and an int too
    big for a float (``10**400``) are ValueErrors, as is a value out of range.

    >>> _check_real(np.float32(0.5), "p")
    0.5
    >>> _check_real(2**70, "gain") == 2.0**70
    True
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    try:
        as_float = float(value)
    except OverflowError:  # a Python int past 1.8e308
        as_float = math.inf
    if not math.isfinite(as_float):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = as_float
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
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
    if any(v > MAX_ELEMENTS for v in items):
        raise ValueError(f"{name} must be at most {MAX_ELEMENTS} (a size this program can hold), got {value!r}")
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
    if any(p > MAX_ELEMENTS for pair in pairs for p in pair):
        raise ValueError(f"{name} must be at most {MAX_ELEMENTS} (a size this program can hold), got {padding!r}")
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
