"""ps4's visible checks and hidden tests, run without a kernel on the solution notebook's cells.

The solution passes every visible check and every hidden test; typical wrong answers fail
with a teacher's message; hard-coding the visible examples does not get past the hidden tests.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nbformat = pytest.importorskip("nbformat")
import _nbcells  # noqa: E402
from _nbcells import run as _run  # noqa: E402

from cnnlab.course.checks import CheckFailed, ps4  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "ps4" / "ps4.ipynb"
RELEASE = ROOT / "assignments" / "ps4" / "ps4.ipynb"
SHOW = ("q1_show", "q2_show")          # plotting cells: not needed here


def _cells(path=SOURCE):
    return _nbcells.cells(path)


def _namespace(replace: dict | None = None, path=SOURCE) -> dict:
    return _nbcells.namespace(path, replace, skip=SHOW)


@pytest.fixture(scope="module")
def solved():
    return _namespace()


def test_points_and_structure():
    _nbcells.check_structure("ps4", 13)
    assert 'relies_on = "marker"' not in _cells(RELEASE)["q4_relies"].source      # the answer is not shipped


def test_solution_passes_visible_checks(solved, capsys):
    s = solved
    ps4.check_saliency(s["saliency"])
    ps4.check_fgsm(s["fgsm"])
    ps4.check_accuracy_under_attack(s["accuracy_under_attack"], s["fgsm"], s["model"], s["X_test"], s["y_test"])
    ps4.check_localisation_loss(s["localisation_loss"])
    ps4.check_localisation_dont_care(s["localisation_loss"])
    ps4.check_cam_peak(s["cam_peak"])
    ps4.check_sevens_recognised(s["sevens_recognised"])
    ps4.check_relies_on(s["relies_on"])
    assert capsys.readouterr().out.count("✔") == 8


@pytest.mark.parametrize("grade_id", [g for g in _cells() if g.endswith("_test")])
def test_solution_passes_every_test_cell_with_hidden_tests(solved, grade_id):
    _run(_cells()[grade_id].source, dict(solved))


def test_the_shortcut_network_really_took_the_shortcut(solved):
    s = solved
    with torch.no_grad():
        assert (s["shortcut"](s["X_marked"]).argmax(1) == s["y_marked"]).float().mean() == 1.0
        assert int(s["shortcut"](s["three"]).argmax()) == 7
    assert s["sevens_recognised"] < 0.2
    assert s["cam_peak"][0] < 8 and s["cam_peak"][1] < 8          # the marker's corner


def _no_abs(ns):
    def saliency(model, x, target):
        x = x.detach().clone().requires_grad_(True)
        score = model(x).gather(1, torch.as_tensor(target).reshape(-1, 1)).sum()
        return torch.autograd.grad(score, x)[0]
    return saliency


def _softmax(ns):
    def saliency(model, x, target):
        x = x.detach().clone().requires_grad_(True)
        p = torch.softmax(model(x), 1).gather(1, torch.as_tensor(target).reshape(-1, 1)).sum()
        return torch.autograd.grad(p, x)[0].abs()
    return saliency


def _first_target(ns):
    return lambda model, x, target: ns["saliency"](model, x, [list(target)[0]] * len(x))


def _no_clip(ns):
    def fgsm(model, x, labels, epsilon):
        x = x.detach().clone().requires_grad_(True)
        g = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), torch.as_tensor(labels)), x)[0]
        return (x + epsilon * g.sign()).detach()
    return fgsm


def _wrong_sign(ns):
    return lambda model, x, labels, epsilon: ns["fgsm"](model, x, labels, -epsilon).clamp(0, 1)


def _percent(ns):
    return lambda model, X, y, eps: [100 * a for a in ns["accuracy_under_attack"](model, X, y, eps)]


def _times_pc(ns):
    def loss(y_hat, y):
        y_hat, y = np.asarray(y_hat, float), np.asarray(y, float)
        return float(np.mean((y_hat[:, 0] - y[:, 0]) ** 2 + y[:, 0] * ((y_hat[:, 1:] - y[:, 1:]) ** 2).sum(1)))
    return loss


def _always_all(ns):
    return lambda y_hat, y: float(np.mean(((np.asarray(y_hat) - np.asarray(y)) ** 2).sum(1)))


def _sum(ns):
    return lambda y_hat, y: ns["localisation_loss"](y_hat, y) * len(y)


@pytest.mark.parametrize("check, wrong, message", [
    ("check_saliency", _no_abs, "that is ∂a\\^0/∂x itself: the saliency map is its absolute value"),
    ("check_saliency", _softmax, "you differentiated a softmax"),
    ("check_saliency", _first_target, "every image got the same target's map"),
    ("check_fgsm", _no_clip, "valid range"),
    ("check_fgsm", _wrong_sign, "you stepped against the gradient"),
    ("check_localisation_loss", _always_all, "you added all seven squared differences"),
    ("check_localisation_loss", _sum, "you added the rows' losses"),
    ("check_localisation_dont_care", _times_pc, "your loss is NaN: 0 · NaN is NaN"),
])
def test_wrong_answers_get_a_teachers_message(solved, check, wrong, message):
    with pytest.raises(CheckFailed, match=message) as info:
        getattr(ps4, check)(wrong(solved))
    assert "hint:" in str(info.value)


def test_wrong_accuracy_scale_is_caught(solved):
    s = solved
    with pytest.raises(CheckFailed, match="fraction that is still right"):
        ps4.check_accuracy_under_attack(_percent(s), s["fgsm"], s["model"], s["X_test"], s["y_test"])


def test_fgsm_inside_no_grad_gets_a_readable_message(solved):
    s = solved

    def accuracy_under_attack(model, X, y, epsilons):
        with torch.no_grad():
            return [(model(s["fgsm"](model, X, y, e)).argmax(1) == y).float().mean().item() for e in epsilons]

    with pytest.raises(CheckFailed, match="raised RuntimeError"):
        ps4.check_accuracy_under_attack(accuracy_under_attack, s["fgsm"], s["model"], s["X_test"], s["y_test"])


def test_library_shortcuts_are_refused():
    lazy = '''
def saliency(model, x, target):
    import cnnlab.nn
    return cnnlab.nn.saliency(model, x, target)
'''
    with pytest.raises(CheckFailed, match=r"cnnlab.nn.saliency is not allowed in question 1 \(saliency\)"):
        ps4.check_saliency(_namespace({"q1_saliency": lazy, "q4_setup": "", "q4_peak": "", "q4_sevens": "",
                                       "q4_relies": ""})["saliency"])


def test_fill_in_answers_are_only_sanity_checked_visibly(solved):
    ps4.check_relies_on("strokes")
    with pytest.raises(CheckFailed, match="relies_on"):
        _run(_cells()["q4_relies_test"].source, dict(solved, relies_on="strokes"))
    with pytest.raises(CheckFailed, match="one of 'strokes', 'marker', 'background'"):
        ps4.check_relies_on("the corner")
    ps4.check_cam_peak((20, 20))
    with pytest.raises(CheckFailed, match="cam_peak"):
        _run(_cells()["q4_peak_test"].source, dict(solved, cam_peak=(20, 20)))
    with pytest.raises(CheckFailed, match="a pair of ints"):
        ps4.check_cam_peak((1.5, 2))
    ps4.check_sevens_recognised(0.9)
    with pytest.raises(CheckFailed, match="sevens_recognised"):
        _run(_cells()["q4_sevens_test"].source, dict(solved, sevens_recognised=0.9))
    with pytest.raises(CheckFailed, match="a float between 0 and 1"):
        ps4.check_sevens_recognised(3)


def test_hardcoded_loss_passes_visible_but_not_hidden(solved):
    real = solved["localisation_loss"]
    known = {0.19, 0.64, 0.415, 0.01}

    def cheat(y_hat, y):
        value = real(y_hat, y)
        return value if any(abs(value - k) < 1e-9 for k in known) else 0.0

    ps4.check_localisation_loss(cheat)
    ps4.check_localisation_dont_care(cheat)
    with pytest.raises(CheckFailed, match="random"):
        _run(_cells()["q3_loss_test"].source, dict(solved, localisation_loss=cheat))


def test_release_fails_every_test_cell_cleanly():
    """A student who wrote nothing: every test cell fails with a readable error, none crashes oddly."""
    ns: dict = {}
    for gid, cell in _cells(RELEASE).items():
        if cell.cell_type != "code" or gid in SHOW:
            continue
        try:
            _run(cell.source, ns)
        except (CheckFailed, NameError, NotImplementedError) as exc:
            if gid.endswith("_test"):
                assert "not implemented" in str(exc) or isinstance(exc, NameError) or "NotImplementedError" in str(exc)
            continue
        assert not gid.endswith("_test"), f"{gid} passed on an empty release"


def test_helpers():
    x = torch.zeros(2, 1, 28, 28)
    marked = ps4.add_marker(x)
    assert float(marked.sum()) == 2 * 16 and float(x.sum()) == 0
    X_train, y_train, X_test, y_test = ps4.load_digits(100, 50)
    assert X_train.shape == (100, 1, 28, 28) and X_test.shape == (50, 1, 28, 28)
    assert np.bincount(y_train.numpy(), minlength=10).tolist() == [10] * 10
