"""ConvExplorer's backward view: Mᵀ and where each output's gradient flows (lesson 05b)."""
import io

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from cnnlab import conv2d_backward  # noqa: E402
from cnnlab.widgets import ConvExplorer  # noqa: E402


def test_forward_is_the_default_and_transpose_shows_the_transposed_matrix():
    ex = ConvExplorer(dims=2, torch=False)
    assert ex.result.view == "forward" and "cnnlab-transpose" not in ex.header(ex.result)
    assert ex._ax.images[0].get_array().shape == ex.result.geometry.matrix.shape    # M: 16 × 36
    ex.view.value = "transpose"
    r = ex.result
    assert ex.error is None and r.view == "transpose"
    assert ex._ax.images[0].get_array().shape == r.geometry.matrix.T.shape            # Mᵀ: 36 × 16
    assert "transposed matrix Mᵀ (36×16)" in ex._ax.get_title()
    assert r.transpose_error < 1e-12
    head = ex.header(r)
    assert "cnnlab-transpose" in head and "Mᵀ @ g == cnnlab.conv2d_backward" in head


def test_the_selected_output_gradient_flows_to_its_window_with_the_kernel_weights():
    ex = ConvExplorer(dims=2, torch=False)
    ex.view.value, ex.kernel_pattern.value, ex.stride.value = "transpose", "ramp", 2
    ex.position.value = 3                                   # output (1, 1) of a 2×2 output
    r = ex.result
    assert r.position == (1, 1)
    one = np.zeros(r.geometry.out_shape)
    one[r.position] = 1.0
    expected = conv2d_backward(r.geometry.x[None, None], r.geometry.applied[None, None], one[None, None],
                               stride=2)[0][0, 0]
    np.testing.assert_allclose(r.flow, expected, rtol=1e-12)
    assert r.flow[2:5, 2:5].tolist() == r.geometry.kernel.tolist()                   # rows/cols 2·1 + 0..2
    assert np.count_nonzero(r.flow) == 9
    assert "x[2,2] ← 1·g" in ex.header(r) and "x[4,4] ← 9·g" in ex.header(r)


@pytest.mark.parametrize("dims, settings", [
    (1, dict(stride=2, dilation=2, padding=3)),
    (1, dict(operation="convolution", kernel_pattern="ramp")),
    (2, dict(padding_mode="asymmetric", pad_before=1, pad_after=2, dilation=2)),
])
def test_transpose_matches_conv2d_backward_in_1d_and_2d(dims, settings):
    ex = ConvExplorer(dims=dims, torch=False)
    with ex.hold_updates():
        ex.view.value = "transpose"
        for name, value in settings.items():
            getattr(ex, name).value = value
    r = ex.result
    assert ex.error is None and r.transpose_error < 1e-12
    np.testing.assert_allclose(r.flow.ravel(), r.geometry.matrix[r.geometry.row(r.position)])


def test_a_window_of_padding_only_says_so():
    ex = ConvExplorer(torch=False)                          # 1-D, n = 9, k = 3, P = 2
    with ex.hold_updates():
        ex.view.value, ex.padding.value = "transpose", 4
    ex.position.value = 0                                   # reads x̃[0..2]: all padding
    assert not ex.result.flow.any()
    assert "no input (the window reads only padding)" in ex.header(ex.result)


def test_refresh_in_place_draws_what_a_full_redraw_draws():
    from matplotlib.image import imread

    ex = ConvExplorer(dims=2, torch=False)
    ex.view.value = "transpose"
    fast = ex.rendered_image
    ex._drawn = False                                       # force the slow path for the same settings
    ex.update()
    a, b = (imread(io.BytesIO(data), format="png").astype(float) for data in (fast, ex.rendered_image))
    assert a.shape == b.shape and np.abs(a - b).mean() < 1e-6
