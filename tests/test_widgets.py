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


class Named(Explorer):
    """The usual form: each control declared once, by the name of compute's argument."""

    def __init__(self, **extra):
        super().__init__()
        import ipywidgets as w

        self._finish(dict(a=w.IntSlider(value=1, description="a"), b=w.IntSlider(value=2, description="b (each)"),
                          **extra), box=lambda: w.HBox([self.b, self.a]))

    def compute(self, *, a, b, c=0):
        return 2 * a + b + c

    def draw(self, result, figure):
        figure.add_subplot().plot([0, result])


def test_controls_by_name_become_attributes_and_arguments():
    import ipywidgets as w

    ex = Named()
    assert ex.controls == [ex.a, ex.b] and ex.params() == {"a": 1, "b": 2} and ex.result == 4
    ex.b.value = 5
    assert ex.result == 7
    assert ex.widget.children[0].children == (ex.b, ex.a)               # the box= callable lays them out
    assert "cnnlab-ctl-b-each" in ex.b._dom_classes                     # the browser tests' hook
    assert Named(c=w.IntSlider(value=10, description="c")).result == 14  # an optional argument, given
    assert Explorer.layout is None and ex.figure.get_layout_engine() is None


def test_controls_that_do_not_match_compute_are_a_developer_error():
    import ipywidgets as w

    with pytest.raises(TypeError, match=r"no parameter for the control\(s\) \['d'\]"):
        Named(d=w.IntSlider())

    class Missing(Named):
        def compute(self, *, a, b, d):
            return a

    with pytest.raises(TypeError, match=r"Missing: the controls \['a', 'b'\] must match the parameters of "
                                        r"compute\(\*, a, b, d\): no control for the parameter\(s\) \['d'\]"):
        Missing()

    class Clash(Named):
        def compute(self, *, a, b, draw):
            return a

    with pytest.raises(TypeError, match="control name 'draw' is already taken by Clash.draw"):
        Clash(draw=w.IntSlider())


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
    assert conv.result is None and "needs stride=1" in conv.error
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


# --------------------------------------------------------------------- lesson 01
def test_moving_average_explorer_every_control():
    from cnnlab.widgets import MovingAverageExplorer

    ex = MovingAverageExplorer(duration=0.25)
    assert {"cnnlab-moving-average-explorer"} <= classes(ex)
    assert ex.player_smooth.value[:4] == b"RIFF" and len(ex.player_smooth.value) == 44 + 2 * 2000
    first = ex.player_smooth.value
    ex.width.value = 9
    assert ex.result.snr_smooth > ex.result.snr_noisy + 3 and ex.player_smooth.value != first
    assert ex.result.first_null_hz == pytest.approx(8000 / 9)
    ex.width.value = 1
    np.testing.assert_allclose(ex.result.smooth, ex.result.noisy)
    assert "width 1 changes nothing" in ex.rendered_html
    ex.noise.value = 0.0
    assert ex.result.snr_noisy == float("inf")
    ex.frequency.value = 1000.0
    ex.width.value = 8                        # rate / width = 1000 Hz: the tone itself is removed
    assert np.max(np.abs(ex.result.smooth[8:-8])) < 1e-9 and abs(ex.result.snr_smooth) < 0.1
    assert 'data-snr-smooth=' in ex.rendered_html and ex.rendered_image[:4] == b"\x89PNG"


def test_flip_shift_add_explorer_every_control():
    from cnnlab.widgets import FlipShiftAddExplorer

    ex = FlipShiftAddExplorer()
    assert ex.result.geometry.output.size == 11 and ex.t.max == 10
    ex.t.value = 9
    assert ex.result.terms.endswith("= 5/3") and ex.result.revealed.size == 10
    ex.stride.value, ex.padding.value = 2, 1                # seed case S = 2, P = 1
    assert ex.t.max == 4 and ex.t.value == 4
    assert [fmt(v) for v in ex.result.geometry.output] == ["1", "2", "2", "2", "5/3"]
    assert 'data-length="5"' in ex.rendered_html
    ex.h_text.value = "1, 2, 3"
    ex.operation.value = "correlation"
    np.testing.assert_array_equal(ex.result.geometry.applied, [1, 2, 3])
    ex.operation.value = "convolution"
    np.testing.assert_array_equal(ex.result.geometry.applied, [3, 2, 1])
    ex.play.value = 1
    assert ex.result.t == 1 and ex.result.terms.startswith("y[1] = ")
    ex.x_text.value = "1 2 x"
    assert ex.result is None and "'x' is not a number" in ex.error
    assert "cnnlab-error" in ex.rendered_html and ex.rendered_image[:4] == b"\x89PNG"   # the last good picture
    assert len(ex.out.outputs) == 2 and "cnnlab-error" in ex.out.outputs[0]["data"]["text/html"]
    ex.x_text.value = "1 2"
    ex.padding.value = 0
    assert "no output position fits" in ex.error
    ex.x_text.value = "1/0"
    assert "'1/0' is not a number" in ex.error
    ex.x_text.value = ""
    assert "type some numbers" in ex.error
    ex.x_text.value = "4 5 6 7"
    assert ex.error is None and ex.result.geometry.output.tolist() == [28.0]


# --------------------------------------------------------------------- lesson 02
def test_lti_explorer_every_control():
    from cnnlab.widgets import LTIExplorer

    ex = LTIExplorer()
    ex.length.value = 16
    verdicts = {}
    for name in ("box A", "box B", "box C", "box D", "moving average (width 3)", "offset (+1)"):
        ex.system.value = name
        verdicts[name] = ex.result.report.is_lti
        if ex.result.report.is_lti:
            assert ex.result.convolution_error < 1e-12   # proof by code: LTI => convolution
        else:
            assert ex.result.convolution_error > 1e-3    # (with the default sine input)
    assert verdicts == {"box A": True, "box B": False, "box C": True, "box D": False,
                        "moving average (width 3)": True, "offset (+1)": False}
    assert len(ex.system.options) == 11
    ex.system.value = "box D"
    for signal in ex.signal.options:
        ex.signal.value = signal
        assert ex.result.x.size == ex.length.value
    ex.length.value = 40
    assert ex.result.h.size == 40 and 'data-lti="false"' in ex.rendered_html
    assert "cnnlab-lti-explorer" in classes(ex)


def test_dice_explorer_every_control():
    from fractions import Fraction

    from cnnlab.widgets import DiceExplorer

    ex = DiceExplorer()
    pmf = ex.result.pmf
    assert [pmf[t] for t in range(2, 13)] == [Fraction(min(t - 1, 13 - t), 36) for t in range(2, 13)]
    gap2 = ex.result.normal_gap
    ex.dice.value = 12
    assert ex.result.normal_gap < gap2 / 4 and sum(ex.result.pmf.values()) == 1
    assert ex.result.mean == 42 and ex.result.variance == Fraction(12 * 35, 12)
    ex.sides.value = 2
    ex.dice.value = 1
    assert ex.result.pmf == {1: Fraction(1, 2), 2: Fraction(1, 2)}
    assert 'data-values="2"' in ex.rendered_html


# --------------------------------------------------------------------- lesson 04
def test_kernel_playground_presets_cells_and_display():
    import cnnlab
    from cnnlab.widgets import KernelPlayground
    from cnnlab.widgets.images import PRESETS

    img = np.random.default_rng(0).random((20, 24))
    ex = KernelPlayground(image=img)
    n0 = ex.updates
    for name in list(PRESETS)[::-1]:
        ex.preset.value = name
        np.testing.assert_array_equal(ex.result.kernel, PRESETS[name])
        ref = cnnlab.conv2d(img[None, None], PRESETS[name][None, None], padding=1)[0, 0]
        np.testing.assert_allclose(ex.result.response, ref)
    assert ex.updates - n0 == len(PRESETS)            # one redraw per preset, not nine
    ex.preset.value = "identity"
    np.testing.assert_allclose(ex.result.response, img)
    assert "sums to 1" in ex.rendered_html
    for r in range(3):
        for c in range(3):
            ex.cells[r][c].value = float(3 * r + c)
            assert ex.result.kernel[r, c] == 3 * r + c
    assert ex.preset.value == "custom"
    for show in ("magnitude", "image", "signed"):
        ex.show.value = show
        assert ex.result.show == show and ex.rendered_image[:2] == b"\xff\xd8"     # JPEG for photos
        assert ex.out.outputs[-1]["data"]["image/jpeg"]
    ex.preset.value = "custom"                          # choosing 'custom' keeps the kernel
    assert ex.result.kernel[2, 2] == 8
    with pytest.raises(ValueError, match="preset must be one of"):
        KernelPlayground(image=img, preset="blur")
    with pytest.raises(ValueError, match="image must be a 2-D grey image"):
        KernelPlayground(image=np.zeros((2, 2, 3)))


def test_gabor_explorer_every_control():
    import cnnlab
    from cnnlab.widgets import GaborExplorer

    img = np.random.default_rng(1).random((30, 28))
    ex = GaborExplorer(image=img)
    for name, value in (("theta", 0.0), ("omega", 1.2), ("phi", np.pi / 2), ("alpha", 0.1), ("beta", 0.02),
                        ("size", 9)):
        getattr(ex, name).value = value
    p = ex.result.params
    expected = cnnlab.kernels.gabor(9, 0.0, 1.2, p["phi"], 0.1, 0.02)
    np.testing.assert_allclose(ex.result.kernel, expected)
    ref = cnnlab.conv2d(img[None, None], expected[None, None], padding="same")[0, 0]
    np.testing.assert_allclose(ex.result.response, ref, rtol=1e-4, atol=1e-4)    # float32 inside
    assert np.allclose(ex.result.kernel, ex.result.kernel[:, ::-1])              # φ = π/2: even
    assert 'data-theta-deg="0.0"' in ex.rendered_html and "wavelength 2π/ω = 5.24" in ex.rendered_html


def test_equivariance_explorer_every_control():
    from cnnlab.widgets import EquivarianceExplorer

    img = np.random.default_rng(2).random((40, 36))
    ex = EquivarianceExplorer(image=img)
    def check():
        r = ex.result
        assert r.interior_error < 1e-12 and np.abs(r.difference).max() > 0
        np.testing.assert_allclose(r.conv_of_shifted - r.shifted_conv, r.difference)

    for kernel in ex.kernel.options:
        ex.kernel.value = kernel
        check()
    for dy, dx in ((3, -5), (-7, 0), (0, 9)):
        with ex.hold_updates():
            ex.dy.value, ex.dx.value = dy, dx
        check()
    ex.dy.value, ex.dx.value = 0, 0
    assert np.abs(ex.result.difference).max() == 0
    assert 'data-border-pixels="0"' in ex.rendered_html


# --------------------------------------------------------------------- try-it exercises
def test_quiz_checks_numbers_fractions_tuples_words_and_choices():
    from fractions import Fraction

    from cnnlab.widgets import Quiz

    q = Quiz("length?", 5, hint="use the formula", explanation="(9 + 2 − 3)/2 + 1")
    assert q.check("") is False and q.correct is None and "not answered" in q.feedback.value
    assert q.check("4") is False and "use the formula" in q.feedback.value
    q.input.value = "10/2"                                   # typing + Enter checks too
    assert q.correct is True and "✔" in q.feedback.value
    assert Quiz("p?", Fraction(1, 8)).check("1/8") and Quiz("p?", Fraction(1, 8)).check("0.125")
    pair = Quiz("pads?", (1, 1))
    assert pair.check("(1, 1)") and pair.check("1 1") and not pair.check("(0, 2)") and not pair.check("1")
    word = Quiz("which?", ["a c", "c a"])
    assert word.check("A C") and word.check("c a") and not word.check("a")
    choice = Quiz("commutative?", "no", choices=["yes", "no"])
    choice.input.value = "yes"
    assert choice.correct is False
    choice.input.value = "no"
    assert choice.correct is True
    assert "cnnlab-quiz" in choice.widget._dom_classes
    with pytest.raises(ValueError, match="answer must be one of the choices"):
        Quiz("?", "maybe", choices=["yes", "no"])


def test_try_function_reports_without_raising(capsys):
    from cnnlab.widgets import try_function

    assert try_function(lambda a: a * 2, lambda a: a + a, [(np.arange(3),), (np.ones(2),)], name="double")
    assert capsys.readouterr().out.count("✔ double(") == 2

    def todo(a):
        raise NotImplementedError

    assert not try_function(todo, np.flip, [(np.arange(3),)])
    assert "not written yet" in capsys.readouterr().out
    assert not try_function(lambda a: a[:-1], np.flip, [(np.arange(3),)], name="short")
    assert "expected [2, 1, 0]" in capsys.readouterr().out
    assert not try_function(lambda a: 1 / 0, np.flip, [(np.arange(3),)], name="boom")
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    assert not try_function(lambda a: None, np.flip, [(np.arange(3),)], name="none")
    assert "returned None" in capsys.readouterr().out


@pytest.mark.parametrize("factory, control, value", [
    ("LTIExplorer", "system", "box D"), ("LTIExplorer", "length", 40),
    ("MovingAverageExplorer", "width", 17), ("DiceExplorer", "dice", 5),
    ("KernelPlayground", "preset", "Laplacian"), ("KernelPlayground", "show", "magnitude"),
    ("EquivarianceExplorer", "dx", 3), ("ConvExplorer", "stride", 2), ("ConvExplorer", "dims", 2),
    ("ConvExplorer", "position", 4),
])
def test_refresh_in_place_draws_what_a_full_redraw_draws(factory, control, value):
    """The fast path (update the previous artists) must give the same picture as drawing anew."""
    import io

    import cnnlab.widgets as W
    from matplotlib.image import imread

    kwargs = {"image": np.random.default_rng(3).random((24, 20))} if factory in (
        "KernelPlayground", "EquivarianceExplorer") else {}
    if factory == "ConvExplorer":
        kwargs = {"torch": False}
    ex = getattr(W, factory)(**kwargs)
    getattr(ex, control).value = value
    fast = ex.rendered_image
    ex._drawn = False                      # force the slow path for the same settings
    ex.update()
    slow = ex.rendered_image
    decode = lambda data: imread(io.BytesIO(data), format="jpeg" if data[:2] == b"\xff\xd8" else "png")  # noqa: E731
    a, b = decode(fast).astype(float), decode(slow).astype(float)
    assert a.shape == b.shape
    assert np.abs(a - b).mean() < (2.0 if fast[:2] == b"\xff\xd8" else 1e-6)
