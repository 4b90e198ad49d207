"""cnnlab.widgets: every explorer built headlessly, every control changed, results asserted."""
import sys

import numpy as np
import pytest

from cnnlab.viz import fmt
from cnnlab.widgets import ConvExplorer, Explorer


def classes(explorer):
    return set(explorer.widget._dom_classes)


# --------------------------------------------------------------------- base class
class Doubler(Explorer):
    def __init__(self):
        super().__init__()
        import ipywidgets as w

        self.a = w.IntSlider(value=1, description="a")
        self.b = w.IntSlider(value=2, description="b")
        self._finish([self.a, self.b])

    def params(self):
        return {"a": self.a.value, "b": self.b.value}

    def compute(self, a, b):
        if a == 0:
            raise ValueError("a must not be 0")
        return 2 * a + b

    def draw(self, result, figure):
        figure.add_subplot().plot([0, result])


def test_base_draws_once_and_holds_updates():
    ex = Doubler()
    assert ex.result == 4 and ex.updates == 1 and ex.last_update_s > 0
    with ex.hold_updates():
        ex.a.value, ex.b.value = 3, 4
        assert ex.updates == 1
    assert ex.result == 10 and ex.updates == 2
    ex.a.value = 0
    assert ex.result is None and ex.error == "a must not be 0"
    assert "cnnlab-explorer" in classes(ex)


# --------------------------------------------------------------------- convolution explorer
@pytest.fixture(scope="module")
def conv():
    return ConvExplorer(torch=False)


def test_conv_explorer_starts_on_seed_example(conv):
    r = conv.result
    assert conv.error is None and r.out_shape == (11,)
    assert [fmt(v) for v in r.geometry.output] == ["1/3", "1", "2", "2", "2", "2", "2", "2", "2", "5/3", "1"]
    assert "= 11" in r.formula and r.agree
    assert conv.position.max == conv.play.max == 10
    assert {"cnnlab-explorer", "cnnlab-conv-explorer"} <= classes(conv)
    head = conv.header(r)
    for hook in ("cnnlab-size", "cnnlab-sum", "cnnlab-agree", "cnnlab-torch-code", "cnnlab-tape"):
        assert hook in head
    assert 'data-out-shape="11"' in head


def test_conv_explorer_every_control_1d(conv):
    conv.stride.value, conv.padding.value = 2, 1          # seed case S = 2, P = 1
    assert [fmt(v) for v in conv.result.geometry.output] == ["1", "2", "2", "2", "5/3"]
    assert "⌊(9 + 1 + 1 − 1·(3 − 1) − 1) / 2⌋ + 1" in conv.result.formula
    conv.position.value = 4
    assert conv.result.position == (4,) and conv.result.value == pytest.approx(5 / 3)
    assert "y[4] = x̃[8]·a[0] + x̃[9]·a[1] + x̃[10]·a[2]" in conv.result.terms
    conv.play.value = 2                                    # the Play button drives the position
    assert conv.position.value == 2 and conv.result.position == (2,)
    conv.kernel_pattern.value = "ramp"
    corr = conv.result.geometry.output.copy()
    conv.operation.value = "convolution"
    np.testing.assert_allclose(conv.result.geometry.applied, [3, 2, 1])
    assert not np.allclose(conv.result.geometry.output, corr)
    assert "torch.flip" in conv.result.torch_code
    conv.padding_mode.value = "asymmetric"
    assert conv.padding.disabled and not conv.pad_before.disabled
    conv.pad_before.value, conv.pad_after.value = 2, 0
    assert conv.result.geometry.padding == ((2, 0),) and "F.pad(x, (2, 0))" in conv.result.torch_code
    conv.dilation.value = 2
    assert conv.result.out_shape == (4,)                  # floor((9 + 2 − 5)/2) + 1
    conv.size.value = 12
    conv.kernel_size.value = 2
    conv.input_pattern.value = "edge"
    assert conv.result.geometry.x.tolist() == [10.0] * 6 + [0.0] * 6
    conv.input_pattern.value = "random"
    conv.kernel_pattern.value = "edge"
    assert conv.result.agree and conv.result.matrix_error < 1e-12
    conv.padding_mode.value = "valid"
    assert conv.result.geometry.padding == ((0, 0),)
    conv.padding_mode.value = "full"
    assert conv.result.geometry.padding == ((2, 2),)      # dilation·(k − 1)
    conv.padding_mode.value = "same_tf"                    # stride 2: ceil(12 / 2) = 6 outputs
    assert conv.result.out_shape == (6,)
    assert conv.position.max == 5


def test_conv_explorer_impossible_settings_show_a_message(conv):
    conv.padding_mode.value = "same"                       # torch refuses 'same' with stride 2
    assert conv.result is None and "not supported for strided convolutions" in conv.error
    conv.stride.value = 1
    assert conv.error is None and conv.result.out_shape == (12,)
    assert "padding='same'" in conv.result.torch_code
    conv.padding_mode.value = "valid"
    conv.kernel_size.value, conv.dilation.value = 7, 3
    assert conv.result is None and "no output position fits" in conv.error
    conv.dilation.value = 1
    assert conv.error is None


def test_conv_explorer_2d(conv):
    conv.dims.value = 2                                    # resets to seed 001's 6×6 image
    assert conv.size.value == 6 and conv.size.max == 12
    conv.padding_mode.value, conv.kernel_size.value, conv.kernel_pattern.value = "symmetric", 3, "edge"
    conv.operation.value, conv.input_pattern.value, conv.stride.value = "correlation", "seed", 1
    conv.padding.value = 0
    np.testing.assert_allclose(conv.result.geometry.output[0], [-5, -4, 0, 8])   # homework #1
    conv.padding.value, conv.stride.value = 1, 2
    assert conv.result.out_shape == (3, 3)
    conv.position.value = 5
    assert conv.result.position == (1, 2)
    head = conv.header(conv.result)
    assert "cnnlab-grid-input" in head and "cnnlab-grid-output" in head and 'data-out-shape="3×3"' in head
    assert head.count(" tap\"") == 9
    assert conv.result.geometry.matrix.shape == (9, 36)
    conv.dims.value = 1
    assert conv.size.value == 9 and conv.result.geometry.ndim == 1


def test_conv_explorer_agrees_with_torch():
    pytest.importorskip("torch")
    ex = ConvExplorer(dims=2)
    ex.stride.value, ex.dilation.value, ex.operation.value = 2, 2, "convolution"
    ex.padding_mode.value = "asymmetric"
    ex.pad_before.value, ex.pad_after.value = 1, 3
    r = ex.result
    assert r.torch_error is not None and r.torch_error < 1e-12 and r.agree
    assert "conv2d agree" in ex.header(r)


def test_conv_explorer_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)         # import torch now raises ImportError
    monkeypatch.setitem(sys.modules, "torch.nn.functional", None)
    ex = ConvExplorer()
    assert ex.result.torch_error is None and "torch is not installed" in ex.result.torch_message
    assert ex.result.agree and "torch is not installed" in ex.header(ex.result)


def test_conv_explorer_rejects_bad_dims():
    with pytest.raises(ValueError, match="dims must be 1 or 2, got 3"):
        ConvExplorer(dims=3)


def test_widgets_import_does_not_import_torch():
    import subprocess

    code = "import sys, cnnlab.widgets; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
