"""cnnlab.probability: seed 003's payoff + die, parity with brute-force enumeration, errors."""
import itertools
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import pmf_of_sum, pmf_of_sum_n, uniform_pmf
from cnnlab.examples import DIE_PMF, PAYOFF_PMF

X, DIE = PAYOFF_PMF, DIE_PMF                    # the Unit 5 notes' payoff and fair die


def test_seed_values():
    Z = pmf_of_sum(X, DIE)
    assert Z[2] == F(1, 24) and Z[4] == F(1, 6) and Z[9] == F(1, 24)


def test_seed_whole_distribution():
    Z = pmf_of_sum(X, DIE)
    assert Z == {2: F(1, 24), 3: F(1, 8), 4: F(1, 6), 5: F(1, 6), 6: F(1, 6), 7: F(1, 6), 8: F(1, 8), 9: F(1, 24)}
    assert sum(Z.values()) == 1
    assert list(Z) == sorted(Z)
    assert pmf_of_sum(DIE, X) == Z          # convolution commutes


def test_two_dice_and_bell_curve():
    two = pmf_of_sum(DIE, DIE)
    assert two[7] == F(1, 6) and two[2] == F(1, 36) and two[12] == F(1, 36)
    ten = pmf_of_sum_n(DIE, 10)
    assert min(ten) == 10 and max(ten) == 60 and ten[35] == max(ten.values())
    assert sum(ten.values()) == 1


def test_zero_gaps_are_dropped_and_floats_work():
    Z = pmf_of_sum({0: 0.5, 2: 0.5}, {0: 0.5, 2: 0.5})
    assert Z == pytest.approx({0: 0.25, 2: 0.5, 4: 0.25})


pmfs = st.lists(st.integers(1, 5), min_size=1, max_size=5).flatmap(
    lambda weights: st.tuples(st.just(weights), st.integers(-3, 3))
).map(lambda wl: {wl[1] + i: F(w, sum(wl[0])) for i, w in enumerate(wl[0])})


@settings(max_examples=100, deadline=None)
@given(pmfs, pmfs)
def test_matches_enumeration(p, q):
    expected = {}
    for (a, pa), (b, pb) in itertools.product(p.items(), q.items()):
        expected[a + b] = expected.get(a + b, 0) + pa * pb
    assert pmf_of_sum(p, q) == {k: v for k, v in sorted(expected.items()) if v}


def test_errors():
    with pytest.raises(TypeError, match=r"p must be a mapping \{value: probability\}, got list"):
        pmf_of_sum([0.5, 0.5], DIE)
    with pytest.raises(ValueError, match=r"q must have at least one value"):
        pmf_of_sum(DIE, {})
    with pytest.raises(ValueError, match=r"p probabilities must sum to 1, got 3/4"):
        pmf_of_sum({1: F(1, 4), 2: F(1, 2)}, DIE)
    with pytest.raises(ValueError, match=r"p\[1\] must be a probability in \[0, 1\], got -0.5"):
        pmf_of_sum({1: -0.5, 2: 1.5}, DIE)
    with pytest.raises(TypeError, match=r"p values must be ints .* got 1.5"):
        pmf_of_sum({1.5: 1.0}, DIE)
    with pytest.raises(ValueError, match=r"n must be a positive int, got 0"):
        pmf_of_sum_n(DIE, 0)
    with pytest.raises(ValueError, match=r"values must be distinct"):
        uniform_pmf([1, 1, 2])
    with pytest.raises(ValueError, match=r"values must contain at least one value"):
        uniform_pmf([])
