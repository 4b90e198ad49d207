"""How to walk each explorer in the browser, and how to check the numbers it shows.

A spec is keyed by the explorer's CSS class (``css_class`` of its ``Explorer``
subclass). ``steps`` is the walk: each names a control by its description as the page
shows it, the gesture, and what must happen (``figure``: a new figure image;
``page``: the figure or the readouts changed; ``error``: the explorer's error message
instead of a figure; ``redraw``: a redraw, possibly identical). ``check`` gets the
control values as the page shows them and what the output shows (figure src, error,
readout texts, ``data-*`` attributes) and asserts the numbers are right, computed
here independently of the widget code (the formulas of the lecture notes).

Adding an explorer: write its spec in the lesson's module and register it in ``SPECS``;
until then the generic walk covers it (every control once, no readout checks).
"""
from __future__ import annotations

from ._base import ExplorerSpec, Step
from .lesson_03 import CONV
from .lesson_04 import EQUIVARIANCE, GABOR, PLAYGROUND
from .lesson_09 import ATTRIBUTION, FEATURE_MAPS, FGSM
from .lessons_01_02 import DICE, FLIP_SHIFT_ADD, LTI, MOVING_AVERAGE
from .lessons_05_07 import COST, POOLING, RECEPTIVE

__all__ = ["SPECS", "ExplorerSpec", "Step"]

#: lesson 08: every setting trains a network (seconds each); one change, from the default
TRAINING = ExplorerSpec(
    steps=[Step("optimiser", arg="SGD (momentum 0.9)")],
    not_operated=("model", "batch norm", "dropout", "dropout in", "learning rate", "batch size"))
#: lesson 10: the generic walk, but the class-probability slider only moves a readout term
#: by less than its shown precision
LOCALISATION = ExplorerSpec(steps=None, not_operated=("p̂_1 (a 3)",))

SPECS: dict[str, ExplorerSpec] = {
    "cnnlab-moving-average-explorer": MOVING_AVERAGE,
    "cnnlab-flip-shift-add-explorer": FLIP_SHIFT_ADD,
    "cnnlab-lti-explorer": LTI,
    "cnnlab-dice-explorer": DICE,
    "cnnlab-conv-explorer": CONV,
    "cnnlab-kernel-playground": PLAYGROUND,
    "cnnlab-gabor-explorer": GABOR,
    "cnnlab-equivariance-explorer": EQUIVARIANCE,
    "cnnlab-cost-explorer": COST,
    "cnnlab-pooling-explorer": POOLING,
    "cnnlab-receptive-explorer": RECEPTIVE,
    "cnnlab-featuremap-explorer": FEATURE_MAPS,
    "cnnlab-attribution-explorer": ATTRIBUTION,
    "cnnlab-fgsm-explorer": FGSM,
    "cnnlab-training-explorer": TRAINING,
    "cnnlab-localisation-explorer": LOCALISATION,
}
