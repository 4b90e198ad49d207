"""cnnlab.shapes: output sizes, 'same' padding, receptive fields."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import ReceptiveField, conv_output_size, receptive_field, same_padding


# -- 1. hand cases (seeds) ---------------------------------------------------------------
@pytest.mark.parametrize(
    "args, expected",
    [
        ((9, 3, 1, 2), 11),   # seed 003: P = 2
        ((9, 3, 1, 0), 7),    # P = 0
        ((9, 3, 2, 1), 5),    # S = 2, P = 1
        ((6, 3, 1, 0), 4),    # seed 001: 6x6 * 3x3 -> 4x4
        ((6, 3, 1, 1), 6),    # n + 2p - f + 1 = 6
        ((28, 5, 1, 0), 24),  # seed 003 model2: 28 - 5 + 1
        ((12, 3, 1, 0), 10),
        ((32, 5, 1, 0), 28),  # LeNet CONV1
        ((224, 3, 1, 1), 224),
        ((4, 2, 2, 0), 2),    # seed 000: 4x4 -> 2x2 max-pool
        ((26, 2, 2, 0), 13),
    ],
)
def test_seed_output_sizes(args, expected):
    assert conv_output_size(*args) == expected


def test_uneven_padding_replaces_2p():
    assert conv_output_size(9, 3, padding=(2, 0)) == 9
    assert conv_output_size(9, 3, padding=(0, 2)) == conv_output_size(9, 3, padding=1)


def test_dilation_spans_more():
    assert conv_output_size(7, 3, dilation=2) == 3
    assert conv_output_size(7, 3, dilation=3) == 1


def test_homework_2_same_padding_stride_2():
    # seed 001: the lecture formula gives p = 3.5 for n=6, f=3, s=2
    n, f, s = 6, 3, 2
    assert (n * s - n + f - s) / 2 == 3.5
    # frameworks keep the output at ceil(n/s) = 3 with total padding 1, extra after
    assert same_padding(n, f, s) == (0, 1)
    assert conv_output_size(n, f, s, padding=same_padding(n, f, s)) == 3


def test_same_padding_stride_1_is_half_kernel():
    assert same_padding(6, 3) == (1, 1)
    assert same_padding(10, 5) == (2, 2)
    assert same_padding(10, 4) == (1, 2)
    assert same_padding(10, 3, dilation=2) == (2, 2)


def test_receptive_field_why_max_pool():
    # seed 000: three stacked 3x3 convs see a 7x7 window
    rf = receptive_field([(3, 1)] * 3)
    assert [r.size for r in rf] == [3, 5, 7]
    assert all(r.jump == 1 for r in rf)
    assert rf[0] == ReceptiveField(1, 3, 1, 1, 3, 1)


def test_receptive_field_model2_and_dilation():
    # model2: conv5, pool2, conv3, pool2
    rf = receptive_field([(5, 1), (2, 2), (3, 1), (2, 2)])
    assert [(r.size, r.jump) for r in rf] == [(5, 1), (6, 2), (10, 2), (12, 4)]
    # dilations 1, 2, 4 grow the field exponentially without losing resolution
    assert [r.size for r in receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])] == [3, 7, 15]


# -- 2. parity: brute force count of kernel positions, and torch ------------------------------
@settings(max_examples=300, deadline=None)
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 5), st.integers(0, 4), st.integers(0, 4), st.integers(1, 4))
def test_output_size_counts_positions(n, k, s, pb, pa, d):
    span = d * (k - 1) + 1
    positions = [start for start in range(0, n + pb + pa, s) if start + span <= n + pb + pa]
    if not positions:
        with pytest.raises(ValueError, match="no output position fits"):
            conv_output_size(n, k, s, (pb, pa), d)
    else:
        assert conv_output_size(n, k, s, (pb, pa), d) == len(positions)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 60), st.integers(1, 7), st.integers(1, 5), st.integers(1, 3))
def test_same_padding_gives_ceil(n, k, s, d):
    before, after = same_padding(n, k, s, d)
    assert after - before in (0, 1)
    assert conv_output_size(n, k, s, (before, after), d) == math.ceil(n / s)
    # and it is the least padding that does so
    if before + after > 0:
        total = before + after - 1
        try:
            smaller = conv_output_size(n, k, s, (total // 2, total - total // 2), d)
        except ValueError:
            smaller = 0
        assert smaller < math.ceil(n / s)


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3))
def test_output_size_matches_torch(n, k, s, p, d):
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, 1, n)
    w = torch.zeros(1, 1, k)
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError):
            conv_output_size(n, k, s, p, d)
        return
    out = torch.nn.functional.conv1d(x, w, stride=s, padding=p, dilation=d)
    assert conv_output_size(n, k, s, p, d) == out.shape[-1]


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 6), st.integers(1, 3))
def test_same_padding_matches_torch_stride_1(n, k, d):
    torch = pytest.importorskip("torch")
    x = torch.randn(1, 1, n, dtype=torch.float64)
    w = torch.randn(1, 1, k, dtype=torch.float64)
    same = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
    before, after = same_padding(n, k, 1, d)
    padded = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (before, after)), w, dilation=d)
    assert torch.allclose(same, padded)


# -- 3. errors -----------------------------------------------------------------------------
def test_errors():
    with pytest.raises(ValueError, match=r"stride must be a positive int, got 0"):
        conv_output_size(9, 3, stride=0)
    with pytest.raises(ValueError, match=r"dilation must be a positive int, got -1"):
        conv_output_size(9, 3, dilation=-1)
    with pytest.raises(ValueError, match=r"padding must be a non-negative int or a \(before, after\) pair, got -1"):
        conv_output_size(9, 3, padding=-1)
    with pytest.raises(TypeError, match=r"padding must be .* got \(1, 2, 3\)"):
        conv_output_size(9, 3, padding=(1, 2, 3))
    with pytest.raises(TypeError, match=r"n must be an int, got 9.5 of type float"):
        conv_output_size(9.5, 3)
    with pytest.raises(TypeError, match=r"kernel_size must be an int, got True"):
        conv_output_size(9, True)
    with pytest.raises(ValueError, match=r"spans d·\(k−1\)\+1 = 5 samples, but the padded input has only n \+ padding = 3 \+ 0 = 3"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match=r"n must be a positive int, got 0"):
        same_padding(0, 3)
    with pytest.raises(ValueError, match=r"layers must contain at least one"):
        receptive_field([])
    with pytest.raises(TypeError, match=r"layers\[1\] must be a \(kernel_size, stride\)"):
        receptive_field([(3, 1), 3])
    with pytest.raises(ValueError, match=r"layers\[0\] stride must be a positive int, got 0"):
        receptive_field([(3, 0)])
    with pytest.raises(TypeError, match=r"layers must be a sequence"):
        receptive_field(3)
