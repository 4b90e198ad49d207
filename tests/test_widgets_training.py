"""Lesson 08's TrainingExplorer: seeded runs, the in-memory cache, errors shown not raised."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("ipywidgets")

from cnnlab.nn import MnistSplit, fit, load_subset, model2, set_seed  # noqa: E402
from cnnlab.widgets.training import Setting, TrainingExplorer, train_setting  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_thread")]


@pytest.fixture(scope="module")
def small():
    """300 training and 100 validation digits of the shipped subset (a few seconds per test at most)."""
    d = load_subset()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(d.labels))
    tr, va = idx[:300], idx[300:400]
    return MnistSplit((d.images[tr], d.labels[tr]), (d.images[va], d.labels[va]), "subset", 0)


def test_train_setting_is_fit_from_seeded_weights(small):
    h = train_setting(Setting(batch_size=100), small.train, small.val, epochs=2)
    set_seed(0)
    ref = fit(model2(), small.train, small.val, epochs=2, batch_size=100, lr=0.005, progress=False, device="cpu",
              seed=0)
    assert h["val_accuracy"] == ref.val_accuracy and h["loss"] == ref.loss
    assert h["params"] == 5_386 and h["epoch"] == [1, 2]
    again = train_setting(Setting(batch_size=100), small.train, small.val, epochs=2)
    assert again["val_accuracy"] == h["val_accuracy"]


def test_explorer_trains_once_then_redraws_from_the_cache(small):
    ex = TrainingExplorer(small, epochs=2, batch_size=100)
    first = ex.result
    assert not first.cached and first.train_s > 0 and len(first.history["val_accuracy"]) == 2
    assert ex.rendered_image and 'data-cached="false"' in ex.rendered_html
    ex.batch_norm.value = True
    assert not ex.result.cached and ex.result.history["params"] == 5_434
    assert list(ex.result.others) == [first.setting.label]            # the earlier curve stays on the plot
    ex.batch_norm.value = False
    assert ex.result.cached and ex.result.train_s == 0
    assert ex.result.history is first.history
    assert 'data-cached="true"' in ex.rendered_html
    assert len(ex.cache) == 2
    axes = ex.figure.axes
    assert len(axes) == 2 and len(axes[0].lines) == 2                 # this setting + the batch-norm one
    np.testing.assert_allclose(axes[0].lines[-1].get_ydata(), first.history["val_accuracy"])


def _pixels(png):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


def test_cached_redraw_blits_the_same_picture_a_full_render_gives(small):
    """The fast path paints the curves onto a kept frame; the picture must be the one a full
    render of the same figure gives (up to the few pixels where a curve crosses a spine)."""
    import io

    ex = TrainingExplorer(small, epochs=2, batch_size=100)
    ex.batch_norm.value = True
    ex.model.value = "model1"
    ex.batch_norm.value = False          # model1 without batch norm: a third setting
    ex.model.value = "model2"            # the first setting again, from the cache, with the other curves
    assert ex.result.cached and len(ex.result.others) == 3
    frames = len(ex._frames)
    ex.model.value = "model1"
    ex.model.value = "model2"            # the same view again: its frame is reused, not re-rendered
    assert len(ex._frames) == frames
    blit = _pixels(ex.rendered_image)
    for ax in ex.figure.axes:
        for artist in [*ax.lines, ax.get_legend()]:
            artist.set_animated(False)
    buf = io.BytesIO()
    ex.figure.savefig(buf, format="png", dpi=ex.dpi)
    full = _pixels(buf.getvalue())
    assert blit.shape == full.shape
    assert (np.abs(blit - full).max(axis=-1) > 0).mean() < 1e-3
    # the curves are not part of the frame: another setting gives another picture
    before = ex.rendered_image
    ex.model.value = "model1"
    assert ex.result.cached and ex.rendered_image != before


def test_explorer_settings_reach_the_model_and_the_optimiser(small):
    ex = TrainingExplorer(small, epochs=1, batch_size=250, keep=1)
    with ex.hold_updates():
        ex.model.value = "model1"
        ex.dropout.value = 0.5
        ex.optimizer.value = "sgd"
        ex.lr.value = 0.01
    s = ex.result.setting
    assert (s.model, s.dropout, s.dropout_where, s.optimizer, s.lr, s.batch_size) == \
        ("model1", 0.5, "dense", "sgd", 0.01, 250)
    assert ex.result.history["params"] == 178_110
    assert ex.updates == 2                                            # construction + one held update
    assert len(ex.result.others) == 1


def test_conv_dropout_on_model1_is_an_error_message_not_an_exception(small):
    ex = TrainingExplorer(small, epochs=1, batch_size=250, model="model1", dropout=0.25)
    ex.dropout_where.value = "conv"
    assert ex.result is None and "model1 has only dense" in ex.error
    assert "cnnlab-error" in ex.rendered_html
    ex.model.value = "model2"
    assert ex.error is None and ex.result.setting.dropout_where == "conv"


def test_setting_normalises_and_checks():
    assert Setting(dropout=0.0, dropout_where="conv") == Setting()
    assert hash(Setting(dropout=0.0, dropout_where="conv")) == hash(Setting())
    assert Setting(batch_norm=True, dropout=0.5, dropout_where="conv").label == \
        "model2 +BN drop 0.5 (conv) · adam 0.005 · b1000"
    with pytest.raises(ValueError, match="model must be one of 'model1', 'model2', got 'model3'"):
        Setting(model="model3")
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'sgd', 'rmsprop', got 'lbfgs'"):
        Setting(optimizer="lbfgs")
    with pytest.raises(TypeError, match="setting must be a cnnlab.widgets.training.Setting"):
        train_setting({"model": "model2"}, None, None)


def test_explorer_errors(small):
    with pytest.raises(TypeError, match="data must have .train and .val"):
        TrainingExplorer((1, 2))
    with pytest.raises(ValueError, match="lr must be positive, got -1"):
        TrainingExplorer(small, lr=-1)
    with pytest.raises(ValueError, match="epochs must be"):
        TrainingExplorer(small, epochs=0)
    with pytest.raises(ValueError, match="dropout must be a probability"):
        TrainingExplorer(small, dropout=1.5)
    with pytest.raises(TypeError, match="cache must be a dict or None"):
        TrainingExplorer(small, cache=[])


def test_explorers_can_share_a_cache(small):
    cache = {}
    TrainingExplorer(small, epochs=1, batch_size=250, cache=cache)
    ex = TrainingExplorer(small, epochs=1, batch_size=250, cache=cache)
    assert ex.result.cached and len(cache) == 1
    other = TrainingExplorer(small, epochs=2, batch_size=250, cache=cache)       # another run length: trains
    assert not other.result.cached and len(cache) == 2
