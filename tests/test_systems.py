"""cnnlab.systems: black-box systems, LTI checks, impulse responses (seed 003 §5.1.1)."""
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import systems as S


# --------------------------------------------------------------------- hand cases
def test_impulse_responses_by_hand():
    np.testing.assert_allclose(S.impulse_response(S.echo(2, 0.5), 5), [1, 0, 0.5, 0, 0])
    np.testing.assert_allclose(S.impulse_response(S.lowpass(0.5), 4), [0.5, 0.25, 0.125, 0.0625])
    np.testing.assert_allclose(S.impulse_response(S.moving_average_system(3), 5), [1 / 3] * 3 + [0, 0])


def test_delay_and_unit_impulse():
    np.testing.assert_array_equal(S.delay([1, 2, 3, 4], 2), [0, 0, 1, 2])
    np.testing.assert_array_equal(S.delay([1, 2, 3], 5), [0, 0, 0])
    np.testing.assert_array_equal(S.delay([1, 2, 3], 0), [1, 2, 3])
    np.testing.assert_array_equal(S.unit_impulse(3), [1, 0, 0])
    np.testing.assert_array_equal(S.unit_impulse(3, at=2), [0, 0, 1])


@pytest.mark.parametrize("system, linear, invariant", [
    (S.echo(), True, True),
    (S.lowpass(), True, True),
    (S.moving_average_system(4), True, True),
    (S.squarer(), False, True),
    (S.clipper(0.5), False, True),
    (S.offset(1.0), False, True),
    (S.modulator(8), True, False),
])
def test_checks_classify_every_system(system, linear, invariant):
    report = S.check_lti(system)
    assert report.linearity.holds is linear
    assert report.time_invariance.holds is invariant
    assert bool(report) is (linear and invariant)
    if not linear:
        assert report.linearity.counterexample is not None and report.linearity.max_error > 1e-3
    if linear:
        assert report.linearity.max_error < 1e-9
    assert ("LTI" in str(report))


def test_black_boxes_two_lti_two_not():
    boxes = S.black_boxes()
    verdict = {name: bool(S.check_lti(box)) for name, box in boxes.items()}
    assert verdict == {"A": True, "B": False, "C": True, "D": False}


def test_check_outcome_reads_well():
    check = S.check_linearity(S.squarer(), trials=3)
    text = str(check)
    assert "linearity of squarer: FAILS" in text and "a1=" in text
    assert not check and check.trials == 3


def test_plain_function_is_accepted_as_a_system():
    check = S.check_time_invariance(lambda x: 3 * x)
    assert check.holds and check.system == "<lambda>"


# --------------------------------------------------------------------- parity with real oracles
@settings(max_examples=30, deadline=None)
@given(alpha=st.floats(0.05, 1.0), n=st.integers(2, 60), seed=st.integers(0, 10_000))
def test_lowpass_matches_scipy_lfilter(alpha, n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    expected = scipy.signal.lfilter([alpha], [1, -(1 - alpha)], x)
    np.testing.assert_allclose(S.lowpass(alpha)(x), expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(delay=st.integers(1, 10), gain=st.floats(-2, 2), n=st.integers(2, 60), seed=st.integers(0, 10_000))
def test_echo_matches_scipy_lfilter(delay, gain, n, seed):
    x = np.random.default_rng(seed).standard_normal(n)
    b = np.zeros(delay + 1)
    b[0], b[-1] = 1.0, gain
    np.testing.assert_allclose(S.echo(delay, gain)(x), scipy.signal.lfilter(b, [1.0], x), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["echo", "lowpass", "average"]), p=st.integers(1, 6),
       n=st.integers(2, 50), seed=st.integers(0, 10_000))
def test_any_lti_system_is_convolution_with_its_impulse_response(kind, p, n, seed):
    system = {"echo": S.echo(p, 0.7), "lowpass": S.lowpass(1 / (p + 1)),
              "average": S.moving_average_system(p)}[kind]
    x = np.random.default_rng(seed).standard_normal(n)
    h = S.impulse_response(system, n)
    np.testing.assert_allclose(S.respond_by_convolution(h, x), system(x), atol=1e-12)
    np.testing.assert_allclose(S.respond_by_convolution(h, x), np.convolve(x, h)[:n], atol=1e-12)


def test_non_lti_system_is_not_its_impulse_response():
    x = np.array([1.0, -2.0, 0.5, 3.0])
    s = S.squarer()
    assert not np.allclose(S.respond_by_convolution(S.impulse_response(s, 4), x), s(x))


# --------------------------------------------------------------------- errors
def test_errors_name_the_parameter():
    with pytest.raises(ValueError, match="delay must be a positive int, got 0"):
        S.echo(0)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\], got 2"):
        S.lowpass(2)
    with pytest.raises(ValueError, match="alpha must be positive"):
        S.lowpass(0)
    with pytest.raises(TypeError, match="gain must be a finite real number"):
        S.echo(2, "loud")
    with pytest.raises(ValueError, match="at must be smaller than n = 3, got 3"):
        S.unit_impulse(3, at=3)
    with pytest.raises(ValueError, match="shift must be an int >= 0, got -1"):
        S.delay([1, 2], -1)
    with pytest.raises(TypeError, match="system must be callable"):
        S.impulse_response("echo", 4)
    with pytest.raises(TypeError, match="func must be callable"):
        S.System(3, "x")
    with pytest.raises(ValueError, match=r"shifts must be a non-empty sequence of ints in 1..31"):
        S.check_time_invariance(S.echo(), shifts=(40,))
    with pytest.raises(TypeError, match="shifts must be a sequence of positive ints"):
        S.check_time_invariance(S.echo(), shifts="ab")
    with pytest.raises(ValueError, match="n must be an int >= 2, got 1"):
        S.check_linearity(S.echo(), n=1)
    with pytest.raises(ValueError, match="x must be 1-D"):
        S.echo()(np.ones((2, 2)))


def test_broken_system_is_reported():
    bad = S.System(lambda x: x[:-1], "shrinker")
    with pytest.raises(ValueError, match="system 'shrinker' returned shape"):
        bad([1.0, 2.0, 3.0])
