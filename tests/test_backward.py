"""cnnlab.backward: conv2d_backward and conv_transpose2d -- hand cases, Mᵀ, torch autograd, errors."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cnnlab.backward
from cnnlab import conv2d, conv2d_backward, conv2d_matrix, conv_transpose2d, kernels
from cnnlab.examples import IMAGE_6X6

try:
    import torch
    F = torch.nn.functional
except ImportError:  # the numpy-only tests still run
    torch = F = None

IMAGE_001 = IMAGE_6X6                                     # the CNN lecture notes, homework #1
VERTICAL = kernels.prewitt("vertical").astype(float)


def _naive_backward(x, w, gy, s=1, p=0, d=1):
    """Loops over every term of y[n, o, i, j] = Σ w[o, c, k, l] x_p[n, c, i·s + k·d, j·s + l·d]."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    gxp, gw = np.zeros_like(xp), np.zeros_like(w)
    n_, c_out, o_h, o_w = gy.shape
    for n in range(n_):
        for o in range(c_out):
            for c in range(w.shape[1]):
                for i in range(o_h):
                    for j in range(o_w):
                        for k in range(w.shape[2]):
                            for l in range(w.shape[3]):
                                r, q = i * s + k * d, j * s + l * d
                                gw[o, c, k, l] += gy[n, o, i, j] * xp[n, c, r, q]
                                gxp[n, c, r, q] += w[o, c, k, l] * gy[n, o, i, j]
    return gxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], gw, gy.sum(axis=(0, 2, 3))


# -- 1. hand cases ---------------------------------------------------------------------------
def test_sum_of_outputs_on_a_3x3_image_and_a_2x2_filter():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    gx, gw, gb = conv2d_backward(x, w, np.ones((1, 1, 2, 2)))
    # every pixel receives the weights of the windows that covered it
    assert gx[0, 0].tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    # every tap sums the pixels it met: x[0:2, 0:2], x[0:2, 1:3], ...
    assert gw[0, 0].tolist() == [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5], [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]]
    assert gb.tolist() == [4.0]


def test_six_by_six_image_with_the_vertical_edge_filter():
    # L = Σ y: ∂L/∂w[k, l] is the sum of the 4×4 block of the image that tap (k, l) sees
    gx, gw, gb = conv2d_backward(IMAGE_001[None, None], VERTICAL[None, None], np.ones((1, 1, 4, 4)))
    blocks = [[IMAGE_001[k:k + 4, l:l + 4].sum() for l in range(3)] for k in range(3)]
    assert gw[0, 0].tolist() == blocks
    assert gw[0, 0, 0, 0] == 3 + 0 + 1 + 2 + 1 + 5 + 8 + 9 + 2 + 7 + 2 + 5 + 0 + 1 + 3 + 1 == 50
    assert gb.tolist() == [16.0]                                     # 4·4 outputs
    # the left column is covered only by the filter's +1 column, the right only by its −1
    assert gx[0, 0, :, 0].tolist() == [1, 2, 3, 3, 2, 1]
    assert gx[0, 0, :, 5].tolist() == [-1, -2, -3, -3, -2, -1]
    assert not gx[0, 0, :, 2:4].any()                                # +1 and −1 cancel


def test_matches_the_naive_loop_with_stride_padding_and_dilation():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 2, 3))
    for s, p, d in [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2)]:
        gy = rng.standard_normal(conv2d(x, w, stride=s, padding=p, dilation=d).shape)
        got = conv2d_backward(x, w, gy, stride=s, padding=p, dilation=d)
        for a, b in zip(got, _naive_backward(x, w, gy, s, p, d)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_weight_gradient_is_a_correlation_of_the_input_with_grad_y():
    # stride s: correlate with grad_y dilated by s; channels of x play the batch
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 2, 9, 8)), rng.standard_normal((5, 2, 3, 3))
    for s, d in [(1, 1), (2, 1), (1, 2)]:
        gy = rng.standard_normal(conv2d(x, w, stride=s, dilation=d).shape)
        _, gw, _ = conv2d_backward(x, w, gy, stride=s, dilation=d)
        corr = conv2d(x.transpose(1, 0, 2, 3), gy.transpose(1, 0, 2, 3), stride=d, dilation=s)
        np.testing.assert_allclose(gw, corr.transpose(1, 0, 2, 3)[:, :, :3, :3], rtol=1e-12, atol=1e-12)


def test_input_gradient_is_conv_transpose_of_grad_y():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 4, 8, 8)), rng.standard_normal((6, 2, 3, 3))
    gy = rng.standard_normal(conv2d(x, w, stride=2, padding=1, groups=2).shape)   # 4×4
    gx, _, _ = conv2d_backward(x, w, gy, stride=2, padding=1, groups=2)
    # (4 − 1)·2 − 2 + 3 = 7: output_padding=1 recovers the 8×8 input
    np.testing.assert_allclose(conv_transpose2d(gy, w, stride=2, padding=1, output_padding=1, groups=2),
                               gx, rtol=1e-12, atol=1e-12)


def test_unbatched_float32_and_same_padding():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    gy = np.ones((3, 5, 5), np.float32)
    gx, gw, gb = conv2d_backward(x, w, gy, padding="same")
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (3,)
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    ref = conv2d_backward(x[None].astype(float), w.astype(float), gy[None].astype(float), padding=((0, 1), (0, 1)))
    np.testing.assert_allclose(gx, ref[0][0], rtol=1e-5)
    np.testing.assert_allclose(gw, ref[1], rtol=1e-5)
    ints = conv2d_backward(np.ones((1, 4, 4), int), np.ones((1, 1, 2, 2), int), np.ones((1, 3, 3), int))
    assert [a.dtype for a in ints] == [np.float64] * 3 and ints[0].tolist() == [[[1, 2, 2, 1], [2, 4, 4, 2],
                                                                               [2, 4, 4, 2], [1, 2, 2, 1]]]


def test_conv_transpose2d_upsamples_and_shows_the_checkerboard():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert conv_transpose2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0].tolist() == [
        [1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    # k = 3 at s = 2: rows and columns hit by 1 or 2 windows -> 1, 2, 4 contributions
    counts = conv_transpose2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2)[0, 0]
    assert counts.shape == (9, 9) and set(np.unique(counts)) == {1.0, 2.0, 4.0}
    assert counts[1:-1, 1:-1][::2, ::2].tolist() == [[1] * 4] * 4 and counts[2, 2] == 4
    # k = 4 at s = 2 (the kernel divides by the stride): even coverage inside the borders
    even = conv_transpose2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 4, 4)), stride=2, padding=1)[0, 0]
    assert even.shape == (8, 8) and np.all(even[1:-1, 1:-1] == 4)


def test_conv_transpose2d_bias_groups_and_uneven_padding():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((4, 3, 3)), rng.standard_normal((4, 2, 2, 2)), rng.standard_normal(4)
    y = conv_transpose2d(x, w, b, groups=2)                            # unbatched, C_out = 2·2
    assert y.shape == (4, 4, 4)
    # group 0 (input channels 0, 1) feeds output channels 0, 1 only
    y0 = conv_transpose2d(x[:2], w[:2], b[:2])
    np.testing.assert_allclose(y[:2], y0, rtol=1e-12)
    full = conv_transpose2d(x, w, groups=2, stride=2)                  # 6×6
    np.testing.assert_allclose(conv_transpose2d(x, w, groups=2, stride=2, padding=((1, 0), (0, 2))),
                               full[:, 1:, :4], rtol=1e-12)


def test_cache_blocking_gives_the_same_result(monkeypatch):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((5, 4, 9, 9)), rng.standard_normal((6, 2, 3, 3))
    gy = rng.standard_normal(conv2d(x, w, stride=2, padding=1, groups=2).shape)
    ref = conv2d_backward(x, w, gy, stride=2, padding=1, groups=2)
    for chunk in [1, 20000, 30000]:            # 1, 2 or 3 samples of 8,400 bytes per block
        monkeypatch.setattr(cnnlab.backward, "_CHUNK_BYTES", chunk)
        for a, b in zip(conv2d_backward(x, w, gy, stride=2, padding=1, groups=2), ref):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# -- 2. y = M x: the backward pass is Mᵀ; finite differences; torch autograd -----------------
@settings(max_examples=60, deadline=None)
@given(c_in=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(3, 8), wd=st.integers(3, 8),
       k=st.integers(1, 3), s=st.integers(1, 3), d=st.integers(1, 2),
       pads=st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.tuples(st.integers(0, 2), st.integers(0, 2))),
       seed=st.integers(0, 2**32 - 1))
def test_transposed_conv2d_matrix_is_conv_transpose2d_and_grad_x(c_in, c_out, h, wd, k, s, d, pads, seed):
    assume(d * (k - 1) + 1 <= min(h + sum(pads[0]), wd + sum(pads[1])))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((c_out, c_in, k, k))
    M = conv2d_matrix(w, (c_in, h, wd), stride=s, padding=pads, dilation=d)
    o_h, o_w = (conv2d(np.zeros((c_in, h, wd)), w, stride=s, padding=pads, dilation=d)).shape[1:]
    gy = rng.standard_normal((c_out, o_h, o_w))
    # the output_padding that brings Mᵀ's image back to h × wd
    op = tuple(n + a + b - ((o - 1) * s + d * (k - 1) + 1) for n, o, (a, b) in zip((h, wd), (o_h, o_w), pads))
    assert all(0 <= v < s for v in op)                     # always allowed: smaller than the stride
    yt = conv_transpose2d(gy, w, stride=s, padding=pads, output_padding=op, dilation=d)
    gx = conv2d_backward(rng.standard_normal((c_in, h, wd)), w, gy, stride=s, padding=pads, dilation=d)[0]
    np.testing.assert_allclose(M.T @ gy.ravel(), gx.ravel(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(M.T @ gy.ravel(), yt.ravel(), rtol=1e-10, atol=1e-10)


def test_finite_differences():
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((4, 1, 3, 2)), rng.standard_normal(4)
    kw = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    gy = rng.standard_normal(conv2d(x, w, b, **kw).shape)

    def loss(x, w, b):                                                  # L = Σ gy · y
        return float(np.sum(gy * conv2d(x, w, b, **kw)))

    grads = conv2d_backward(x, w, gy, **kw)
    eps = 1e-6
    for which, arr in enumerate((x, w, b)):
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = [a.copy() for a in (x, w, b)], [a.copy() for a in (x, w, b)]
            plus[which][idx] += eps
            minus[which][idx] -= eps
            numeric[idx] = (loss(*plus) - loss(*minus)) / (2 * eps)
        np.testing.assert_allclose(grads[which], numeric, rtol=1e-6, atol=1e-7)


@st.composite
def backward_cases(draw):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3))
    ksize = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    dilation = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    kind = draw(st.sampled_from(["int", "tuple", "pairs", "same"]))
    stride = (1, 1) if kind == "same" else draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    if kind == "int":
        padding = draw(st.integers(0, 3))
        pads = ((padding, padding),) * 2
    elif kind == "tuple":
        padding = draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
        pads = tuple((p, p) for p in padding)
    elif kind == "pairs":
        padding = pads = draw(st.tuples(*[st.tuples(st.integers(0, 3), st.integers(0, 3))] * 2))
    else:
        padding, pads = "same", ((0, 0), (0, 0))
    sizes = [draw(st.integers(max(1, d * (k - 1) + 1 - a - b), d * (k - 1) + 7))
             for k, d, (a, b) in zip(ksize, dilation, pads)]
    n = draw(st.sampled_from([None, 1, 2, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(((n,) if n else ()) + (c_in, *sizes))
    w = rng.standard_normal((c_out, c_in // groups, *ksize))
    return x, w, dict(stride=stride, padding=padding, dilation=dilation, groups=groups), pads, kind, rng


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.usefixtures("one_thread")
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@settings(max_examples=150, deadline=None)
@given(case=backward_cases())
def test_conv2d_backward_matches_torch_autograd(case):
    x, w, kw, pads, kind, rng = case
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    tkw = dict(kw)
    inp = tx
    if kind == "pairs":                                     # torch pads symmetrically only
        inp = F.pad(tx, [p for pair in reversed(pads) for p in pair])
        tkw["padding"] = 0
    y = F.conv2d(inp, tw, tb, **tkw)
    gy = rng.standard_normal(tuple(y.shape))
    y.backward(torch.from_numpy(gy))
    got = conv2d_backward(x, w, gy, **kw)
    for a, ref in zip(got, (tx.grad, tw.grad, tb.grad)):
        assert a.shape == tuple(ref.shape) and a.dtype == np.float64
        np.testing.assert_allclose(a, ref.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.torch
@pytest.mark.skipif(torch is None, reason="needs torch")
@pytest.mark.usefixtures("one_thread")
@settings(max_examples=150, deadline=None)
@given(groups=st.integers(1, 3), ci=st.integers(1, 2), co=st.integers(1, 3), n=st.sampled_from([None, 1, 3]),
       size=st.tuples(st.integers(1, 6), st.integers(1, 6)), k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)), d=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       p=st.tuples(st.integers(0, 3), st.integers(0, 3)), op=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       bias=st.booleans(), f32=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_conv_transpose2d_matches_torch(groups, ci, co, n, size, k, s, d, p, op, bias, f32, seed):
    rng = np.random.default_rng(seed)
    dtype = np.float32 if f32 else np.float64
    x = rng.standard_normal(((n,) if n else ()) + (groups * ci, *size)).astype(dtype)
    w = rng.standard_normal((groups * ci, co, *k)).astype(dtype)
    b = rng.standard_normal(groups * co).astype(dtype) if bias else None
    kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=groups)
    try:
        ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                 None if b is None else torch.from_numpy(b), **kw).numpy()
    except RuntimeError:                                     # torch refuses: so must cnnlab
        ref = None
    if ref is None or ref.size == 0:    # torch's grouped path returns an empty output instead of refusing
        with pytest.raises(ValueError, match=r"output_padding must be smaller|is less than 1"):
            conv_transpose2d(x, w, b, **kw)
        return
    y = conv_transpose2d(x, w, b, **kw)
    assert y.shape == ref.shape and y.dtype == dtype
    tol = 1e-4 if f32 else 1e-10
    np.testing.assert_allclose(y, ref, rtol=tol, atol=tol)


# -- 3. errors -------------------------------------------------------------------------------
X2, W2 = np.ones((1, 2, 5, 5)), np.ones((4, 2, 3, 3))


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((X2, W2, np.ones((1, 4, 4, 4))), {}, ValueError,
     r"grad_y must have the shape of the forward output \(N, C_out, H_out, W_out\) = \(1, 4, 3, 3\), got \(1, 4, 4, 4\)"),
    ((X2[0], W2, np.ones((1, 4, 3, 3))), {}, ValueError,
     r"grad_y must have the shape of the forward output \(C_out, H_out, W_out\) = \(4, 3, 3\)"),
    ((X2, W2, np.ones((4, 3))), {}, ValueError, r"grad_y must be 3-D or 4-D, got a 2-D array"),
    ((X2, W2, np.full((1, 4, 3, 3), np.nan)), {}, ValueError, r"grad_y must contain only finite numbers"),
    ((X2, W2, "dy"), {}, TypeError, r"grad_y must be an array of numbers, got str"),
    ((X2, W2, np.ones((1, 4, 3, 3))), dict(stride=0), ValueError, r"stride must be a positive int or a pair of them, got 0"),
    ((X2, W2, np.ones((1, 4, 3, 3))), dict(padding="full"), ValueError, r"padding must be one of 'valid', 'same', got 'full'"),
    ((X2, W2, np.ones((1, 4, 3, 3))), dict(padding="same", stride=2), ValueError,
     r"padding='same' needs stride=1 \(as in torch.nn.functional.conv2d\), got stride=\(2, 2\)"),
    ((X2, W2, np.ones((1, 4, 3, 3))), dict(groups=2), ValueError, r"x has 2 channels but w .*expects groups"),
    ((X2, W2, np.ones((1, 4, 3, 3))), dict(dilation=3), ValueError, r"conv2d_backward: along axis H"),
])
def test_conv2d_backward_rejects_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        conv2d_backward(*args, **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(output_padding=1), ValueError,
     r"output_padding must be smaller than the stride or the dilation \(as torch requires\), "
     r"got output_padding=1 with stride=1 and dilation=1 along axis H"),
    (dict(output_padding=(0, 2), stride=2), ValueError, r"got output_padding=2 with stride=2 and dilation=1 along axis W"),
    (dict(output_padding=-1), ValueError, r"output_padding must be an int >= 0 or a pair of them, got -1"),
    (dict(padding="same"), TypeError, r"padding must be a non-negative int, 2 of them, or 2 \(before, after\) pairs, got 'same'"),
    (dict(padding=3), ValueError, r"along axis H the output size .* = -2 is less than 1"),
    (dict(stride=(1, 0)), ValueError, r"stride must be a positive int or a pair of them, got \(1, 0\)"),
    (dict(groups=3), ValueError, r"input channels \(x has 2\) must be divisible by groups=3"),
    (dict(b=np.ones(2)), ValueError, r"b must have shape \(C_out,\) = \(groups \* w.shape\[1\],\) = \(3,\), got \(2,\)"),
])
def test_conv_transpose2d_rejects_what_torch_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        conv_transpose2d(np.ones((1, 2, 2, 2)), np.ones((2, 3, 3, 3)), **kwargs)


def test_conv_transpose2d_rejects_bad_arrays():
    with pytest.raises(ValueError, match=r"x has 2 channels but w of shape \(3, 1, 2, 2\) expects w.shape\[0\] = 3"):
        conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((3, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"w must be 4-D, got a 2-D array"):
        conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"x must be 3-D or 4-D"):
        conv_transpose2d(np.ones((3, 3)), np.ones((1, 1, 2, 2)))
    with pytest.raises(TypeError, match=r"x must be real, got dtype complex128"):
        conv_transpose2d(np.ones((1, 3, 3), complex), np.ones((1, 1, 2, 2)))
    with pytest.raises(TypeError, match=r"output_padding must be an int >= 0 or a pair of them, got 0\.5"):
        conv_transpose2d(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), output_padding=0.5)
