"""Every public callable keeps the contract of ``cnnlab/_validate.py``; no explorer raises.

* the registry (``tests/_contract_registry.py``) lists every public callable of core,
  viz, widgets and nn with one small valid call; a test fails when one is missing;
* hypothesis replaces ONE argument at a time by a hostile value (wrong type, NaN/inf,
  huge/negative/zero sizes, bool for int, unknown strings, wrong shapes): the call must
  return, or raise ValueError/TypeError whose message names the argument or shows the
  value; a finite input never gives NaN;
* every explorer's controls get hostile text and extreme values: nothing escapes;
* one reproducer per root cause of issue 15 (A-H, W, flags).

``tests/fuzz_contract.py`` runs the same corruptions exhaustively and counts outcomes.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import _contract_registry as R  # noqa: E402

CASES = R.build()
SLOW_KEYS = {k for k, c in CASES.items() if c.slow or R.is_explorer(c.fn) or "fit" in k or "maximise" in k
             or "deepdream" in k or "check_" in k or "load_mnist" in k}
pytestmark = pytest.mark.usefixtures("one_thread")


def _param(key):
    return pytest.param(key, marks=pytest.mark.slow) if key in SLOW_KEYS else key


def names_it(msg, name, value):
    if name in msg:
        return True
    try:
        shown = [repr(value), str(value)]
    except Exception:  # noqa: BLE001
        return False
    return any(s and len(s) < 200 and s in msg for s in shown)


def finite(res):
    if isinstance(res, torch.Tensor):
        return not res.is_floating_point() or bool(torch.isfinite(res).all())
    if isinstance(res, np.ndarray) and res.dtype.kind in "fc":
        return bool(np.all(np.isfinite(res)))
    if isinstance(res, float):
        return math.isfinite(res)
    if isinstance(res, tuple):
        return all(finite(r) for r in res)
    return True


def finite_value(v):
    try:
        return bool(np.all(np.isfinite(np.asarray(v, dtype=float))))
    except Exception:  # noqa: BLE001 - not numeric
        return True


def check_one(case, name, value, base_finite=True):
    """The contract for one corrupted call."""
    try:
        res = case.call_with(name, value)
    except (ValueError, TypeError) as exc:
        assert names_it(str(exc), name, value), \
            f"{case.key}({name}={value!r:.60}) raised {type(exc).__name__} naming neither: {exc}"
        return
    except OSError:
        assert name == "path", f"{case.key}({name}={value!r:.60}) raised an OSError"
        return
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"{case.key}({name}={value!r:.60}) raised {type(exc).__name__}: {exc}")
    if base_finite and finite_value(value):
        assert finite(res), f"{case.key}({name}={value!r:.60}) returned NaN or infinity"


# ----------------------------------------------------------------------------- registry
def test_every_public_callable_is_registered():
    missing = sorted(set(R.public_callables()) - set(CASES))
    assert not missing, ("public callables without an entry in tests/_contract_registry.py (add one line "
                         f"`add(fn, <small valid call>)` in build()): {missing}")


@pytest.mark.parametrize("key", [_param(k) for k in sorted(CASES)])
def test_valid_call(key):
    CASES[key].call()


# ----------------------------------------------------------------------------- corruption
@pytest.mark.parametrize("key", [_param(k) for k in sorted(CASES)])
def test_one_corrupted_argument_keeps_the_contract(key):
    case = CASES[key]
    params = list(case.bound().items())
    if not params:
        return
    base_finite = finite(case.call())

    @settings(max_examples=8, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        name, valid = data.draw(st.sampled_from(params), label="argument")
        value = data.draw(st.sampled_from(R.hostile(valid)), label="value")
        check_one(case, name, value, base_finite)

    run()


# ----------------------------------------------------------------------------- explorers
@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(k for k, c in CASES.items() if R.is_explorer(c.fn)))
def test_explorer_controls_never_raise(key):
    ex = CASES[key].call()
    for control in R.controls(ex):
        for value in R.moves(control, quick=True):
            R.move(control, value)     # must not raise
            error = getattr(ex, "error", None)
            if error is None and hasattr(ex, "result"):
                assert finite(getattr(ex.result, "response", None))
            elif error is not None:
                assert isinstance(error, str) and error
                assert ex.rendered_html and "cnnlab-error" in ex.rendered_html


# ----------------------------------------------------------------------------- reproducers
def _model_and_x():
    from cnnlab.nn import model2
    return model2(), np.random.default_rng(0).random((2, 1, 28, 28))


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_A_ax_is_validated_everywhere():
    from cnnlab import viz
    for fn, args in [(viz.show_image, (np.eye(3),)), (viz.plot_signal, ([1, 2, 3],)),
                     (viz.plot_matrix, (np.eye(2),)), (viz.plot_kernel, (np.eye(3),))]:
        _raises(TypeError, "ax must be a matplotlib Axes or None, got 5", lambda: fn(*args, ax=5))


def test_B_sizes_have_a_bound():
    import cnnlab
    from cnnlab import audio, systems
    from cnnlab.nn import confusion_matrix
    _raises(ValueError, r"padding must be at most 134217728", lambda: cnnlab.conv2d(
        np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), padding=10**12))
    _raises(ValueError, r"padding = 100000 would need 4e\+10 elements \(3.2e\+11 bytes\)", lambda: cnnlab.conv2d(
        np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), padding=10**5))
    _raises(ValueError, r"the supports of p and q .* would need", lambda: cnnlab.pmf_of_sum(
        {0: .5, 10**12: .5}, {0: .5, 1: .5}))
    _raises(ValueError, r"num_classes = 1000000 would need", lambda: confusion_matrix([0], [1], num_classes=10**6))
    _raises(ValueError, "width must be at most", lambda: audio.moving_average(np.ones(5), 10**12))
    _raises(ValueError, "trials must be at most", lambda: systems.check_lti(systems.echo(), trials=10**12))


def test_C_numpy_float64_goes_to_the_model_dtype():
    from cnnlab import nn as cnn
    from cnnlab.widgets import FeatureMapExplorer
    model, x = _model_and_x()
    assert cnn.saliency(model, x, 3).shape == (2, 1, 28, 28)
    assert cnn.grad_cam(model, x, 3, "3").shape[0] == 2
    assert cnn.fgsm(model, x, [3, 4], 0.1).dtype == torch.float32
    assert FeatureMapExplorer(model, x, [3, 4]).error is None


def test_C_fit_with_a_label_past_the_classes():
    from cnnlab.nn import evaluate, fit, model2
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    _raises(ValueError, r"train labels must be class indices in \[0, 9\]", lambda: fit(
        model2(), (x, [0, 1, 2, 10]), epochs=1, progress=False))
    _raises(ValueError, r"data labels must be class indices", lambda: evaluate(model2(), (x, [0, 1, 2, 10])))


def test_D_huge_ints_and_infinities():
    from cnnlab import kernels, systems
    from cnnlab.nn import set_seed
    assert systems.echo(gain=2**70)([1.0, 0, 0, 0, 0])[0] == 1.0
    g = kernels.gaussian(26, 7e299)
    assert np.allclose(g, 1 / 26**2)
    _raises(ValueError, r"seed must be an int in \[0, 2\*\*64 - 1\]", lambda: set_seed(2**64))
    _raises(ValueError, "gain must be a finite real number", lambda: systems.echo(gain=10**400))
    _raises(ValueError, "gain must be a finite real number, got nan", lambda: systems.echo(gain=float("nan")))


def test_E_messages_name_the_right_parameter():
    import cnnlab
    from cnnlab.widgets.images import filter_image
    _raises(TypeError, "^a must", lambda: cnnlab.poly_multiply("abc", [1]))
    _raises(ValueError, "^kernel must", lambda: filter_image(np.eye(4), []))


def test_F_unvalidated_arguments(capsys):
    from cnnlab import kernels, viz
    from cnnlab.widgets import try_function
    _raises(TypeError, "highlight_rows must be a sequence of int indices, got 5",
            lambda: viz.plot_matrix(np.eye(2), highlight_rows=5))
    _raises(TypeError, "ndim must be 1 or 2, got 1.0", lambda: kernels.box(3, ndim=1.0))
    assert try_function(lambda x: "abc", np.flip, [(np.arange(3),)]) is False
    assert "not an array of numbers" in capsys.readouterr().out


def test_G_other_exception_types_are_gone():
    from cnnlab import audio, viz
    from cnnlab.widgets import AttributionExplorer
    _raises(ValueError, "highlight must hold indices below len", lambda: viz.plot_signal([1, 2, 3], highlight=[5]))
    _raises(ValueError, "cmap must be a matplotlib colormap name", lambda: viz.show_grid(np.ones((2, 3, 3)),
                                                                                       cmap="bogus"))
    _raises(ValueError, "rate must be an int <= 2147483647", lambda: audio.to_wav_bytes([.5], rate=2**31))
    model, x = _model_and_x()
    _raises(ValueError, r"target must be None or a class in \[0, 9\], got 10",
            lambda: AttributionExplorer(model, x, target=10))


def test_H_no_silent_nan_or_wrong_shape():
    from cnnlab import kernels, systems
    from cnnlab.nn import gaussian_blur
    assert kernels.gaussian(5, 1e-200)[2, 2] == 1.0 and np.isfinite(kernels.gaussian(4, 1e-200)).all()
    assert torch.equal(gaussian_blur(torch.ones(1, 1, 5, 5), 1e-50), torch.ones(1, 1, 5, 5))
    assert np.isfinite(systems.modulator(1e-320)([1, 1, 1])).all()
    _raises(ValueError, "omega and phi must keep omega", lambda: kernels.gabor(5, 0, 1e308, 0, .1, .1))
    _raises(ValueError, r"system must return an array of the input's shape \(5,\)",
            lambda: systems.impulse_response(lambda x: None, 5))


def test_W_explorers_show_errors_and_keep_the_last_picture():
    from cnnlab.widgets import FlipShiftAddExplorer, KernelPlayground, Quiz, ReceptiveFieldExplorer
    ex = FlipShiftAddExplorer()
    good = ex.rendered_image
    ex.x_text.value = "1e999"
    assert ex.error.startswith("signal x:") and ex.rendered_image == good
    ex.x_text.value = "1 2 3"
    ex.h_text.value = "1e308"
    assert "kernel h" in ex.error
    rf = ReceptiveFieldExplorer()
    rf.layers.value = "conv3/s99999999999999999999"
    assert rf.error and "at most 1000" in rf.error
    kp = KernelPlayground(np.random.default_rng(0).random((8, 8)))
    kp.cells[0][0].value = 1e308
    assert kp.error and "k[0,0]" in kp.error
    q = Quiz("2 + 2?", 4)
    assert q.check("1e999") is False and q.check("4") is True


def test_W_a_drawing_error_is_shown_not_raised():
    from cnnlab.widgets import Explorer
    import ipywidgets as widgets

    class Broken(Explorer):
        def __init__(self):
            super().__init__()
            self.a = widgets.IntSlider(value=1, min=0, max=3, description="a")
            self._finish([self.a])

        def params(self):
            return {"a": self.a.value}

        def compute(self, a):
            return a

        def draw(self, result, figure):
            if result == 2:
                raise OverflowError("boom")
            figure.add_subplot().plot([0, result])

    ex = Broken()
    good = ex.rendered_image
    ex.a.value = 2
    assert ex.error == "a: OverflowError: boom" and ex.rendered_image == good
    ex.a.value = 3
    assert ex.error is None and ex.rendered_image != good


def test_flags_reject_truthy_strings():
    from cnnlab import audio
    from cnnlab.nn import nearest_neighbours
    f = np.eye(3)
    _raises(TypeError, "exclude_self must be True or False, got 'False'",
            lambda: nearest_neighbours(f, f, 1, exclude_self="False"))
    _raises(TypeError, "normalize must be True or False, got 'False'",
            lambda: audio.to_wav_bytes([.5], normalize="False"))
    assert len(audio.to_wav_bytes([.5], normalize=np.bool_(False))) == 46


def test_validate_vocabulary():
    from cnnlab import _validate as V
    assert V._check_real(np.float32(0.5), "p") == 0.5
    assert V._check_real(2**70, "g") == 2.0**70
    _raises(ValueError, "finite", lambda: V._check_real(float("inf"), "g"))
    _raises(TypeError, "finite real number", lambda: V._check_real("1", "g"))
    _raises(TypeError, "True or False", lambda: V._check_bool("False", "flag"))
    assert V._check_bool(np.True_, "flag") is True
    _raises(TypeError, "must be an int", lambda: V._check_int(True, "n"))
    _raises(ValueError, "at most", lambda: V._check_size(V.MAX_ELEMENTS + 1, "n"))
    for name in ("_check_real", "_check_bool", "_check_int", "_check_size", "_check_alloc", "_check_seed"):
        assert name in V.__all__
