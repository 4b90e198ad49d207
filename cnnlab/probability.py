"""Probability mass functions of sums of independent random variables, as convolutions."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from ._validate import MAX_ELEMENTS, _check_alloc, _check_int
from .signal import convolve

__all__ = ["pmf_of_sum", "pmf_of_sum_n", "uniform_pmf"]


def _check_pmf(p, name):
    """Validate a pmf ``{int value: probability}``; return (values, probabilities, exact)."""
    if not isinstance(p, Mapping):
        raise TypeError(f"{name} must be a mapping {{value: probability}}, got {type(p).__name__}")
    if not p:
        raise ValueError(f"{name} must have at least one value, got an empty mapping")
    exact = True
    for value, prob in p.items():
        if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} values must be ints (the support of a discrete variable), got {value!r}")
        if isinstance(prob, bool) or not isinstance(prob, numbers.Real):
            raise TypeError(f"{name}[{value}] must be a real probability, got {prob!r}")
        if not math.isfinite(prob) or prob < 0 or prob > 1:
            raise ValueError(f"{name}[{value}] must be a probability in [0, 1], got {prob!r}")
        exact = exact and isinstance(prob, numbers.Rational)
    total = sum(p.values())
    if exact and total != 1 or not exact and not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"{name} probabilities must sum to 1, got {total}")
    return exact


#: the most multiply-adds of Python objects one call may take (exact Fractions are slow)
_MAX_WORK = 2 * 10**7


def _span(pmf) -> int:
    return int(max(pmf)) - int(min(pmf)) + 1


def _check_work(span_p, span_q, exact, name="p and q"):
    """The dense arrays (spans of the supports) must fit; exact sums must finish."""
    _check_alloc(span_p + span_q, f"the supports of {name} (spans {span_p} and {span_q})")
    if exact and span_p * span_q > _MAX_WORK:
        raise ValueError(f"{name} span {span_p} and {span_q} values: an exact (Fraction) sum would take "
                         f"{span_p * span_q:.3g} operations (limit {_MAX_WORK}); use float probabilities")


def pmf_of_sum(p, q):
    r"""Distribution of :math:`Z = X + Y` for independent integer-valued :math:`X`, :math:`Y`.

    Parameters
    ----------
    p, q : mapping of int to probability
        The pmfs of ``X`` and ``Y`` as ``{value: probability}``. Probabilities may be
        :class:`fractions.Fraction` (or ints) for an exact result, or floats.
        Each pmf must sum to 1.

    Returns
    -------
    dict
        ``{t: P(Z = t)}`` sorted by ``t``, for every ``t`` with non-zero probability,
        exact (``Fraction``) when both inputs are exact, floats otherwise. The support
        has at most ``(max X − min X) + (max Y − min Y) + 1`` values.

    Raises
    ------
    TypeError
        If an input is not a mapping, a value is not an int or a probability is not real.
    ValueError
        If a mapping is empty, a probability is outside [0, 1] or they do not sum to 1.

    Notes
    -----
    .. math:: p_Z(t) = \sum_\tau p_Y(\tau)\, p_X(t - \tau) = (p_X \star p_Y)(t)

    computed by :func:`cnnlab.convolve` on the pmfs written as dense arrays over their
    integer supports; the smallest value of ``Z`` is ``min X + min Y``.

    Examples
    --------
    The Unit 5 notes: ``X`` pays 1, 2, 3 with probabilities 1/4, 1/2, 1/4 and ``Y`` is a fair die.

    >>> from fractions import Fraction as F
    >>> X = {1: F(1, 4), 2: F(1, 2), 3: F(1, 4)}
    >>> Y = uniform_pmf(range(1, 7))
    >>> Z = pmf_of_sum(X, Y)
    >>> {t: str(pr) for t, pr in Z.items()}
    {2: '1/24', 3: '1/8', 4: '1/6', 5: '1/6', 6: '1/6', 7: '1/6', 8: '1/8', 9: '1/24'}
    """
    exact = _check_pmf(p, "p") & _check_pmf(q, "q")
    _check_work(_span(p), _span(q), exact)

    def dense(pmf):
        lo, hi = min(pmf), max(pmf)
        arr = np.zeros(hi - lo + 1, dtype=object if exact else float)
        if exact:
            arr[:] = Fraction(0)
        for value, prob in pmf.items():
            arr[value - lo] = Fraction(prob) if exact else float(prob)
        return int(lo), arr

    lo_p, dp = dense(p)
    lo_q, dq = dense(q)
    z = convolve(dp, dq, mode="full")
    return {lo_p + lo_q + i: prob for i, prob in enumerate(z) if prob != 0}


def pmf_of_sum_n(p, n):
    r"""Distribution of the sum of ``n`` independent copies of a variable with pmf ``p``.

    Parameters
    ----------
    p : mapping of int to probability
        The pmf of one variable, as for :func:`pmf_of_sum`.
    n : int
        Number of independent copies (>= 1).

    Returns
    -------
    dict
        ``{t: P(X_1 + … + X_n = t)}``: the ``n``-fold convolution of ``p`` with itself.

    Notes
    -----
    By the central limit theorem the result approaches a normal curve with mean
    :math:`n\mu` and variance :math:`n\sigma^2` — the many-dice bell curve.

    Examples
    --------
    >>> die = uniform_pmf(range(1, 7))
    >>> two = pmf_of_sum_n(die, 2)
    >>> str(two[7]), len(two)
    ('1/6', 11)
    >>> len(pmf_of_sum_n(die, 10))
    51
    """
    n = _check_int(n, "n", minimum=1)
    exact = _check_pmf(p, "p")
    span = _span(p)
    # the k-th step convolves a support of about k·span values with p: about n²·span²/2 in all
    work = n * n * span * (span if exact else 1) // 2
    if n * span > MAX_ELEMENTS or work > _MAX_WORK * (1 if exact else 50):
        raise ValueError(f"n = {n} copies of a pmf spanning {span} values is too big a sum to compute "
                         f"(about {work:.3g} operations)")
    total = dict(p)
    for _ in range(n - 1):
        total = pmf_of_sum(total, p)
    return dict(sorted(total.items()))


def uniform_pmf(values):
    """Uniform pmf over distinct integer ``values``, exact: ``{v: Fraction(1, len(values))}``.

    Parameters
    ----------
    values : iterable of int
        The support (e.g. ``range(1, 7)`` for a fair die).

    Returns
    -------
    dict

    Examples
    --------
    >>> {v: str(pr) for v, pr in uniform_pmf(range(1, 4)).items()}
    {1: '1/3', 2: '1/3', 3: '1/3'}
    """
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"values must be an iterable of ints, got {values!r}") from None
    if not values:
        raise ValueError("values must contain at least one value, got none")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"values must be ints, got {v!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"values must be distinct, got {values!r}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"values must be ints, got {v!r}")
    return {int(v): Fraction(1, len(values)) for v in sorted(values)}
