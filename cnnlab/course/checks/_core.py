"""Teacher-style checks: when something is wrong, say what was called, what came back,
what was expected, and give a hint.

Every check raises :class:`CheckFailed` (an ``AssertionError``, so nbgrader counts the
test cell as failed) and hides its own frames from IPython's traceback
(``__tracebackhide__``), so a student sees their cell and the message, nothing else.

>>> import numpy as np
>>> c = Checker("double")
>>> c.array(c.call(lambda x: 2 * x, np.arange(3), name="double"), [0, 2, 4], call="double([0, 1, 2])")
>>> c.done()
✔ double: all 1 checks passed
>>> try:
...     c.equal(c.call(lambda n: n + 1, 2, name="inc"), 4, call="inc(2)", hint="add 2, not 1")
... except CheckFailed as e:
...     print(e)
inc(2) returned the wrong value.
  returned: 3
  expected: 4
  hint: add 2, not 1
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

__all__ = ["CheckFailed", "Checker", "call", "fmt", "same_values", "expect_array", "expect_equal", "expect_int",
           "expect_close", "expect_raises", "expect_pmf"]


class CheckFailed(AssertionError):
    """A check failed; the message is written for the student."""


def _message(head: str, *, inputs=None, got=None, expected=None, extra=(), hint: str = "",
             show_got=True, show_expected=True) -> str:
    """The message first, then the inputs, what came back, what was expected, the hint.
    Values that take several lines (grids) continue indented under their label."""
    lines = [head]
    for name, value in (inputs or {}).items():
        lines.append(f"  {name} = {fmt(value)}")
    if show_got:
        lines.append(f"  returned: {fmt(got)}")
    if show_expected:
        lines.append(f"  expected: {fmt(expected)}")
    lines.extend(f"  {line}" for line in extra)
    if hint:
        lines.append(f"  hint: {hint}")
    return "\n".join(line.replace("\n", "\n  ") for line in lines)


#: a 1-D array of at most this many entries is written on one line
INLINE = 16
#: longer 1-D arrays are written this many entries per row, with the index of each row's first
ROW = 10
#: at most this many rows / columns of a grid are shown (the first and last halves)
MAX_ROWS, MAX_COLS = 12, 12
#: at most this many 2-D slices of an array with more than two axes are shown
MAX_SLICES = 4


def _numeric_list(value) -> bool:
    """A (nested) list of real numbers with a rectangular shape, which reads best as an array."""
    if not isinstance(value, list) or not value:
        return False
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return False
    return arr.dtype != object and (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) \
        and not np.iscomplexobj(arr)


def _cells(arr: np.ndarray) -> np.ndarray:
    """Each entry as text: ints as ints, whole floats without a decimal point, others to 4 digits."""
    if arr.dtype == bool:
        return np.vectorize(str, otypes=[object])(arr)
    if np.issubdtype(arr.dtype, np.integer):
        return np.vectorize(lambda v: str(int(v)), otypes=[object])(arr)
    if np.issubdtype(arr.dtype, np.floating):
        finite = arr[np.isfinite(arr)]
        whole = finite.size == arr.size and bool(np.all(finite == np.round(finite))) \
            and bool(np.all(np.abs(finite) < 1e15))

        def one(v):
            if whole:
                return str(int(v))
            if v == 0:
                return "0"
            return f"{v:.4g}"
        return np.vectorize(one, otypes=[object])(arr)
    return np.vectorize(repr, otypes=[object])(arr)


def _keep(n: int, most: int) -> list:
    """Indices to show out of ``n`` (the first and last halves of ``most``; None marks the gap)."""
    if n <= most:
        return list(range(n))
    half = most // 2
    return [*range(half), None, *range(n - half, n)]


def _grid(cells: np.ndarray) -> str:
    """A 2-D grid of texts, columns right-aligned, numpy's brackets (rows and columns cut to
    MAX_ROWS / MAX_COLS, with … where entries are left out)."""
    rows, cols = _keep(cells.shape[0], MAX_ROWS), _keep(cells.shape[1], MAX_COLS)
    table = [["…" if j is None else cells[i, j] for j in cols] for i in rows if i is not None]
    width = [max(len(row[k]) for row in table) for k in range(len(cols))]
    out, t = [], 0
    for i in rows:
        if i is None:
            out.append(" ⋮")
            continue
        out.append("[" + ", ".join(text.rjust(w) for text, w in zip(table[t], width)) + "]")
        t += 1
    body = ",\n ".join(out).replace(",\n  ⋮,", ",\n  ⋮")
    return "[" + body + "]"


def _label(arr: np.ndarray, kind: str) -> str:
    if kind == "list":
        return f"list of shape {arr.shape}"
    return f"array of shape {arr.shape}, {arr.dtype}"


def _fmt_array(arr: np.ndarray, kind: str = "array") -> str:
    """Arrays (and lists of numbers) as grids, with their shape: one line for a short 1-D
    array, rows of ROW entries for a long one, a 2-D grid for a matrix, and 2-D slices
    for more axes."""
    if arr.dtype == object or arr.dtype.kind in "USV":
        text = repr(arr.tolist())
        return (text if len(text) <= 300 else text[:296] + " ...") + f"  ({_label(arr, kind)})"
    cells = _cells(arr)
    if arr.ndim == 0:
        return str(cells[()])
    if arr.ndim == 1 and arr.size <= INLINE:
        return "[" + ", ".join(cells) + f"]  ({_label(arr, kind)})"
    lines = [_label(arr, kind) + ":"]
    if arr.ndim == 1:
        starts = list(range(0, arr.size, ROW))
        width = max(len(c) for c in cells)
        tag = len(f"[{starts[-1]}]")
        n = len(starts)
        for k in (range(n) if n <= 8 else [0, 1, None, n - 2, n - 1]):
            if k is None:
                lines.append("  ⋮")
                continue
            row = cells[starts[k]:starts[k] + ROW]
            lines.append(f"[{starts[k]}]".rjust(tag) + "  " + "  ".join(c.rjust(width) for c in row))
    elif arr.ndim == 2:
        lines.extend(_grid(cells).split("\n"))
    else:
        lead = list(np.ndindex(*arr.shape[:-2]))
        for n, index in enumerate(lead[:MAX_SLICES]):
            lines.append(f"[{', '.join(map(str, index))}, :, :] =")
            lines.extend("  " + line for line in _grid(cells[index]).split("\n"))
        if len(lead) > MAX_SLICES:
            lines.append(f"… and {len(lead) - MAX_SLICES} more {arr.shape[-2]}×{arr.shape[-1]} slices")
    return "\n    ".join(lines)


def fmt(value, limit: int = 400) -> str:
    """A short, readable rendering of a value: arrays, and lists of numbers, as 2-D grids
    with their shape (see :func:`_fmt_array`); numbers to 6 digits; others by ``repr``.

    Several lines come back for a grid: the first says what it is, the rest are indented
    by 4 spaces, ready to follow a label such as ``returned:``.

    >>> print(fmt(np.arange(6).reshape(2, 3)))
    array of shape (2, 3), int64:
        [[0, 1, 2],
         [3, 4, 5]]
    >>> fmt([1.0, 2.5])
    '[1, 2.5]  (list of shape (2,))'
    """
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, np.ndarray):
        return _fmt_array(value)
    if _numeric_list(value):
        return _fmt_array(np.asarray(value), kind="list")
    if isinstance(value, Mapping):
        try:
            items = sorted(value.items())
        except TypeError:
            items = list(value.items())
        text = "{" + ", ".join(f"{fmt(k)}: {_short(v)}" for k, v in items) + "}"
    elif isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.1f}" if float(value).is_integer() and abs(value) < 1e15 else f"{float(value):.6g}"
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, numbers.Number) for v in value):
        inner = ", ".join(fmt(v) for v in value)
        text = f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _short(value, limit: int = 80) -> str:
    """One line: small arrays and lists in full, larger ones by their shape only."""
    if isinstance(value, np.ndarray) or _numeric_list(value):
        arr = np.asarray(value)
        if arr.ndim <= 1 and arr.size <= 6:
            return "[" + ", ".join(_cells(arr).reshape(-1)) + "]" if arr.ndim else str(_cells(arr)[()])
        return f"<{'list' if isinstance(value, list) else 'array'} of shape {arr.shape}>"
    return fmt(value, limit)


def same_values(got, other, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Whether ``got`` is an array of numbers equal to ``other`` (same shape, within tolerance):
    the test a check uses to recognise a typical mistake before it picks a hint.

    >>> same_values([1, 2.0000001], np.array([1.0, 2.0])), same_values("ab", [1, 2])
    (True, False)
    """
    try:
        arr = np.asarray(got, dtype=float)
        other = np.asarray(other, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.shape == other.shape and bool(np.allclose(arr, other, rtol=rtol, atol=atol))


def call(fn, *args, name: str | None = None, **kwargs):
    """Call the student's ``fn``; turn its exceptions into readable :class:`CheckFailed`."""
    __tracebackhide__ = True
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(f"{name} is not a function (it is {_short(fn)}); did you overwrite it "
                          "with a value? Re-run the cell that defines it.")
    shown = ", ".join([*(_short(a) for a in args), *(f"{k}={_short(v)}" for k, v in kwargs.items())])
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: it still raises NotImplementedError.\n"
                          f"  hint: replace the `raise NotImplementedError()` line in the cell that "
                          f"defines {name} with your code, run that cell, then run this one.") from None
    except CheckFailed:
        raise
    except Exception as exc:
        raise CheckFailed(f"{name}({shown}) raised {type(exc).__name__}: {exc}\n"
                          f"  hint: run that call yourself in a new cell to see where it fails.") from None


def _as_numbers(got, call_text, hint):
    __tracebackhide__ = True
    if got is None:
        raise CheckFailed(_message(f"{call_text} returned None.", show_got=False, show_expected=False,
                                   hint="did you forget the `return` statement?"))
    try:
        arr = np.asarray(got)
    except Exception:
        arr = None
    if arr is None or arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CheckFailed(_message(f"{call_text} should return an array of numbers, got "
                                   f"{type(got).__name__}.", got=got, show_expected=False, hint=hint))
    return arr


def expect_array(got, expected, *, call: str, inputs=None, hint: str = "",
                 rtol: float = 1e-7, atol: float = 1e-9) -> None:
    """``got`` must be an array (or list) of numbers equal to ``expected`` within tolerance."""
    __tracebackhide__ = True
    expected = np.asarray(expected, dtype=float)
    arr = _as_numbers(got, call, hint)
    if arr.shape != expected.shape:
        raise CheckFailed(_message(f"{call} returned an array of the wrong shape: {arr.shape} "
                                   f"instead of {expected.shape}.", inputs=inputs, got=arr,
                                   expected=expected, hint=hint))
    arr = arr.astype(float)
    bad = ~np.isclose(arr, expected, rtol=rtol, atol=atol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else idx
        extra = [f"first difference at index {where}: {arr[idx]:.6g} instead of {expected[idx]:.6g} "
                 f"({int(bad.sum())} of {bad.size} entries differ)"]
        if np.isnan(arr).any():
            extra.append("your result contains NaN")
        raise CheckFailed(_message(f"{call} returned the wrong values.", inputs=inputs, got=arr,
                                   expected=expected, extra=extra, hint=hint))


def expect_equal(got, expected, *, call: str, inputs=None, hint: str = "") -> None:
    """Exact equality (ints, tuples, strings, bools)."""
    __tracebackhide__ = True
    if isinstance(expected, tuple) and isinstance(got, (list, np.ndarray)) and len(got) == len(expected):
        got_cmp = tuple(got.tolist() if isinstance(got, np.ndarray) else got)
    else:
        got_cmp = got
    if isinstance(got_cmp, (bool, np.bool_)) != isinstance(expected, bool):
        same = False  # True is not 1 here
    else:
        try:
            same = bool(got_cmp == expected)
        except Exception:
            same = False
    if not same:
        raise CheckFailed(_message(f"{call} returned the wrong value.", inputs=inputs, got=got,
                                   expected=expected, hint=hint))


def expect_int(got, expected: int, *, call: str, inputs=None, hint: str = "") -> None:
    """A whole number (``int`` or numpy integer), equal to ``expected``."""
    __tracebackhide__ = True
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Integral, np.integer)):
        extra = []
        if isinstance(got, (float, np.floating)) and float(got).is_integer() and int(got) == expected:
            extra.append("the value is right but it is a float: a size is a whole number "
                         "(use // for floor division, or int(...))")
        raise CheckFailed(_message(f"{call} should return an int, got {type(got).__name__}.",
                                   inputs=inputs, got=got, expected=expected, extra=extra, hint=hint))
    if int(got) != expected:
        raise CheckFailed(_message(f"{call} returned the wrong value.", inputs=inputs, got=int(got),
                                   expected=expected, hint=hint))


def expect_close(got, expected: float, *, call: str, inputs=None, hint: str = "",
                 rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """A real number close to ``expected``."""
    __tracebackhide__ = True
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (numbers.Real, np.number)):
        raise CheckFailed(_message(f"{call} should be a number, got {type(got).__name__}.",
                                   inputs=inputs, got=got, expected=expected, hint=hint))
    if not math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol):
        raise CheckFailed(_message(f"{call} is wrong.", inputs=inputs, got=got, expected=expected, hint=hint))


def expect_raises(fn, *args, exception=ValueError, call: str, hint: str = "", **kwargs) -> None:
    """``fn(*args, **kwargs)`` must raise ``exception``."""
    __tracebackhide__ = True
    try:
        result = fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{call}: the function is not implemented yet (NotImplementedError).") from None
    except exception:
        return
    except Exception as exc:
        raise CheckFailed(_message(f"{call} raised {type(exc).__name__}: {exc}", show_got=False,
                                   show_expected=False,
                                   extra=[f"expected: raise {exception.__name__} with a message"],
                                   hint=hint)) from None
    raise CheckFailed(_message(f"{call} should raise {exception.__name__}, but it returned a value.",
                               got=result, show_expected=False, hint=hint))


def expect_pmf(got, expected: Mapping, *, call: str, inputs=None, hint: str = "",
               exact: bool = False, atol: float = 1e-12) -> None:
    """A probability mass function ``{value: probability}`` equal to ``expected``
    (zero-probability entries ignored). ``exact``: the probabilities must be Fractions."""
    __tracebackhide__ = True
    if not isinstance(got, Mapping):
        raise CheckFailed(_message(f"{call} should be a dict {{value: probability}}, got "
                                   f"{type(got).__name__}.", inputs=inputs, got=got,
                                   expected=expected, hint=hint))
    support = {k for k, v in got.items() if v != 0}
    want = {k for k, v in expected.items() if v != 0}
    if support != want:
        extra = []
        if want - support:
            extra.append(f"missing values: {sorted(want - support)}")
        if support - want:
            extra.append(f"values that cannot occur: {sorted(support - want, key=str)}")
        raise CheckFailed(_message(f"{call} has the wrong set of possible values.", inputs=inputs,
                                   got=got, expected=expected, extra=extra, hint=hint))
    for key in sorted(want):
        value = got[key]
        if exact and not isinstance(value, (Fraction, numbers.Integral)):
            raise CheckFailed(_message(f"{call}: the probability of {key} is a {type(value).__name__}, "
                                       "not an exact Fraction.", inputs=inputs, got=got,
                                       expected=expected, hint="compute with Fraction objects all "
                                       "the way (no float(...), no /, on plain floats)"))
        if not isinstance(value, numbers.Real) or not math.isclose(float(value), float(expected[key]), abs_tol=atol):
            raise CheckFailed(_message(f"{call}: the probability of {key} is wrong.", inputs=inputs,
                                       got=got, expected=expected,
                                       extra=[f"P({key}) = {fmt(value)} instead of {fmt(expected[key])}"],
                                       hint=hint))


def _correlate_valid(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """'Valid' 2-D cross-correlation of two small float arrays (the checks' own reference)."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


class Checker:
    """Counts checks and prints one line when they all pass (see the module docstring).

    ``forbid=(question, names)`` applies the library rule (:mod:`._rules`) to every
    :meth:`call`: those functions and modules raise ``NotAllowed`` while the student's
    function runs.
    """

    def __init__(self, name: str, forbid=None):
        self.name = name
        self.count = 0
        self.forbid = forbid

    def call(self, fn, *args, **kwargs):
        __tracebackhide__ = True
        if self.forbid is None or getattr(type(fn), "__cnnlab_ref__", False):
            # (the grader's stand-in for a function in a sandboxed kernel: the rule is in
            # force there for the whole run)
            return call(fn, *args, **kwargs)
        from ._rules import enforce, forbidden_in
        with enforce(forbidden_in({"": self.forbid})):
            return call(fn, *args, **kwargs)

    def _run(self, check, *args, **kwargs):
        __tracebackhide__ = True
        check(*args, **kwargs)
        self.count += 1

    def array(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_array, *args, **kwargs)

    def equal(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_equal, *args, **kwargs)

    def int(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_int, *args, **kwargs)

    def close(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_close, *args, **kwargs)

    def raises(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_raises, *args, **kwargs)

    def pmf(self, *args, **kwargs):
        __tracebackhide__ = True
        self._run(expect_pmf, *args, **kwargs)

    def unflipped(self, fn, image, kernel, *, name: str, call: str, by_hand: str) -> None:
        """``fn(image, kernel)`` must slide the kernel *without* flipping it: 'valid'
        cross-correlation, stride 1, as CNN layers compute (ps1 question 5, ps2 question 1).

        First a 3x3 hand case, compared in full; then ``image`` and ``kernel`` (the notes'
        own), of which only the shape and the first output are compared, so a table the
        students fill in elsewhere is not shown. The expected values are computed here.
        When an answer is what the flipped kernel gives (a true convolution), the hint
        says so; otherwise it works the first output out (``by_hand`` for ``image``).

        >>> c = Checker("conv")
        >>> flipped = lambda x, k: np.array([[4.0, 4.0], [4.0, 4.0]])
        >>> try:
        ...     c.unflipped(flipped, np.eye(3), np.eye(3), name="conv", call="conv(I, I)", by_hand="1 + 1 + 1 = 3")
        ... except CheckFailed as e:
        ...     print(str(e).splitlines()[-1])
          hint: you flipped the kernel (a true convolution): CNN layers slide it without flipping, so each output is the top-left of a 2x2 patch minus its bottom-right, 0 - 4 = -4
        """
        __tracebackhide__ = True
        hand_image, hand_kernel = np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]])
        got = self.call(fn, hand_image.copy(), hand_kernel.copy(), name=name)
        hint = "each output is the top-left of a 2x2 patch minus its bottom-right, 0 - 4 = -4"
        if same_values(got, _correlate_valid(hand_image, hand_kernel[::-1, ::-1])):
            hint = "you flipped the kernel (a true convolution): CNN layers slide it without flipping, so " + hint
        self.array(got, _correlate_valid(hand_image, hand_kernel), call=f"{name}(image, kernel)",
                   inputs={"image": hand_image, "kernel": hand_kernel}, hint=hint)

        image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
        expected, flipped = _correlate_valid(image, kernel), _correlate_valid(image, kernel[::-1, ::-1])
        arr = _as_numbers(self.call(fn, image.copy(), kernel.copy(), name=name), call, by_hand)
        (h, w), (kh, kw) = image.shape, kernel.shape
        self.equal(arr.shape, expected.shape, call=f"{call}.shape",
                   hint=f"a {h}x{w} image and a {kh}x{kw} filter give a ({h} - {kh} + 1) x ({w} - {kw} + 1) = "
                        f"{expected.shape[0]}x{expected.shape[1]} output")
        hint = by_hand
        if float(arr[0, 0]) == flipped[0, 0] != expected[0, 0]:
            hint = f"{flipped[0, 0]:+g} is what the flipped kernel gives; slide it unflipped: " + by_hand
        self.close(float(arr[0, 0]), float(expected[0, 0]), call=f"{call}[0, 0]", hint=hint)

    def done(self) -> None:
        print(f"✔ {self.name}: all {self.count} checks passed")
