"""Plots of training runs: assert on what was drawn."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlab.viz import plot_confusion_matrix, plot_history, plot_misclassified


def _ax():
    return Figure().add_subplot()


class FakeHistory:  # the attributes cnnlab.nn.History has, without importing torch
    epoch = [1, 2, 3]
    loss = [1.0, 0.5, 0.3]
    accuracy = [0.5, 0.8, 0.9]
    val_loss = [1.1, 0.6, 0.4]
    val_accuracy = [0.4, 0.7, 0.85]


def test_plot_history_one_run_several_metrics():
    ax = plot_history(FakeHistory(), ("accuracy", "val_accuracy"), ax=_ax(), target=0.95)
    assert [line.get_label() for line in ax.lines[:2]] == ["accuracy", "val_accuracy"]
    assert ax.lines[1].get_xdata().tolist() == [1, 2, 3]
    assert ax.lines[1].get_ydata().tolist() == [0.4, 0.7, 0.85]
    assert ax.lines[1].get_linestyle() == "--"
    assert list(ax.lines[2].get_ydata()) == [0.95, 0.95]  # the target line
    assert ax.get_xlabel() == "epoch"


def test_plot_history_compares_runs():
    ax = plot_history({"model1": FakeHistory(), "model2": {"val_accuracy": [0.9, 0.95]}}, ax=_ax())
    assert [line.get_label() for line in ax.lines] == ["model1 val_accuracy", "model2 val_accuracy"]
    assert ax.lines[1].get_xdata().tolist() == [1, 2]


def test_plot_history_errors():
    with pytest.raises(ValueError, match="metric must be one of"):
        plot_history(FakeHistory(), "acc", ax=_ax())
    with pytest.raises(TypeError, match="history must be"):
        plot_history([0.1, 0.2], ax=_ax())
    with pytest.raises(TypeError, match="without 'val_loss'"):
        plot_history({"a": {"val_accuracy": [1.0]}}, "val_loss", ax=_ax())


def test_plot_confusion_matrix():
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 10]])
    ax = plot_confusion_matrix(cm, ax=_ax(), class_names=["a", "b", "c"])
    assert ax.images[0].get_array().tolist() == cm.tolist()
    assert [t.get_text() for t in ax.texts] == ["8", "2", "1", "9", "10"]
    assert ax.get_title() == "accuracy 90.0%"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    norm = plot_confusion_matrix(cm, ax=_ax(), normalize=True)
    np.testing.assert_allclose(norm.images[0].get_array().sum(axis=1), 1.0)
    assert norm.texts[0].get_text() == "0.80"


def test_plot_confusion_matrix_errors():
    with pytest.raises(ValueError, match="cm must be square"):
        plot_confusion_matrix(np.zeros((2, 3)), ax=_ax())
    with pytest.raises(ValueError, match="class_names must have 2 entries"):
        plot_confusion_matrix(np.eye(2), class_names=["x"], ax=_ax())
    with pytest.raises(ValueError, match="non-negative"):
        plot_confusion_matrix(-np.eye(2), ax=_ax())


def test_plot_misclassified():
    imgs = np.random.default_rng(0).integers(0, 255, (6, 28, 28)).astype(np.uint8)
    proba = np.full((6, 10), 0.05)
    proba[np.arange(6), [0, 9, 2, 8, 4, 5]] = 0.55
    ax = plot_misclassified(imgs, [0, 1, 2, 3, 4, 5], [0, 9, 2, 8, 4, 5], proba=proba, ax=_ax())
    assert [t.get_text() for t in ax.texts] == ["1→9 55%", "3→8 55%"]
    assert ax.misclassified.tolist() == [1, 3]
    assert ax.get_title() == "2 misclassified of 6"
    limited = plot_misclassified(imgs, np.zeros(6, int), np.ones(6, int), n=4, ax=_ax())
    assert limited.misclassified.tolist() == [0, 1, 2, 3]
    none = plot_misclassified(imgs, np.zeros(6, int), np.zeros(6, int), ax=_ax())
    assert none.texts[0].get_text() == "no misclassified images"
    with pytest.raises(ValueError, match="same length"):
        plot_misclassified(imgs, [0, 1], [0, 1], ax=_ax())
