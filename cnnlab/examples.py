"""The sources' reference data, defined once.

The four documents the course is built from work their examples on a few small arrays
and distributions. Lessons, explorers, the problem sets' checks and the tests all take
them from here, so each number is typed once (and ``tests/test_examples.py`` compares
them with the documents):

=====================  ========================  ==========================================
name                   source                    what the course computes from it
=====================  ========================  ==========================================
``IMAGE_6X6``          CNN lecture notes, hw #1  its 4×4 vertical-edge map (first entry −5)
``STEP_IMAGE``         CNN lecture notes         a two-column-thick vertical edge of 30s
``AUDIO_X``            Unit 5 notes, §5.3.1      moving averages of 11, 7 and 5 values
``AVERAGE_H``          Unit 5 notes, §5.3.1      the moving-average kernel ⅓[1 1 1]
``PAYOFF_PMF``         Unit 5 notes, §5.1.2      payoff + die: p_Z(2) = 1/24, p_Z(4) = 1/6
``DIE_PMF``            Unit 5 notes, §5.1.2      (the fair die of the same example)
``FEATURE_MAP_4X4``    Chollet slides            2×2 max-pooling → [[20, 30], [112, 37]]
=====================  ========================  ==========================================

The edge detectors of the CNN lecture notes (Prewitt, Sobel, Scharr) are functions of
:mod:`cnnlab.kernels`, which return them exactly as the CNN lecture notes print them.

**Read-only, on purpose.** The data are constants, not functions returning copies:
they print as they are, read like the documents (``IMAGE_6X6[0, 0]``) and cost nothing
to use. So that no cell, explorer or check can change what the next one reads, every
array has ``writeable=False`` (numpy raises ``ValueError: assignment destination is
read-only`` on a write) and every pmf is a read-only mapping (``types.MappingProxyType``;
writing raises ``TypeError``). To change one, take your own copy: ``IMAGE_6X6.copy()``,
``IMAGE_6X6.astype(np.float32)``, ``dict(DIE_PMF)``. ``torch.tensor(IMAGE_6X6)`` copies
too; ``torch.from_numpy`` and ``torch.as_tensor`` would share the read-only memory and
warn, so copy first.

>>> from cnnlab.examples import IMAGE_6X6, DIE_PMF
>>> IMAGE_6X6.shape, IMAGE_6X6[0, 0], IMAGE_6X6.flags.writeable
((6, 6), np.float64(3.0), False)
>>> mine = IMAGE_6X6.copy()
>>> mine[0, 0] = 0.0          # a copy is yours to change
>>> str(DIE_PMF[6]), len(DIE_PMF)
('1/6', 6)
"""
from __future__ import annotations

from fractions import Fraction
from types import MappingProxyType

import numpy as np

__all__ = ["IMAGE_6X6", "STEP_IMAGE", "AUDIO_X", "AVERAGE_H", "PAYOFF_PMF", "DIE_PMF", "FEATURE_MAP_4X4"]


def _frozen(values) -> np.ndarray:
    """A float array of ``values`` that cannot be written to."""
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


#: The CNN lecture notes' 6×6 grey image (homework #1: "fill the empty cells"). The
#: course slides their vertical edge detector (Prewitt) over it without flipping, as CNN
#: layers do: a (6 − 3 + 1)² = 4×4 map whose first entry is
#: 3 + 1 + 2 − (1 + 8 + 2) = −5 (lessons 04, 05 and 05b, problem sets 1 and 2, the
#: convolution explorer's 2-D input).
IMAGE_6X6 = _frozen([[3, 0, 1, 2, 7, 4],
                     [1, 5, 8, 9, 3, 1],
                     [2, 7, 2, 5, 1, 3],
                     [0, 1, 3, 1, 7, 8],
                     [4, 2, 1, 6, 2, 8],
                     [2, 4, 5, 2, 3, 9]])

#: The 6×6 image of the CNN lecture notes' 'Vertical edge detection', bright on the left
#: (10) and dark on the right (0). The vertical detector answers 30 where the intensity
#: changes and 0 on the flat parts: in a 4×4 output the edge looks two columns thick, as
#: the CNN lecture notes observe (lesson 04, the green channel of lesson 05, problem set 2's
#: edge maps).
STEP_IMAGE = _frozen([[10, 10, 10, 0, 0, 0]] * 6)

#: The Unit 5 notes' "very short audio signal" of length 9 (§5.3.1),
#: x = [1 2 3 1 2 3 1 2 3]. Averaged by :data:`AVERAGE_H` it gives 11 values with padding
#: P = 2 and stride S = 1, 7 with P = 0 and 5 with P = 1, S = 2 (lessons 01 and 03,
#: problem set 1, the convolution explorer's 1-D input).
AUDIO_X = _frozen([1, 2, 3, 1, 2, 3, 1, 2, 3])

#: The Unit 5 notes' moving-average kernel h = ⅓[1 1 1] (§5.3.1), applied to :data:`AUDIO_X`.
AVERAGE_H = _frozen([1 / 3, 1 / 3, 1 / 3])

#: The Unit 5 notes' payoff X (§5.1.2): 1, 2 or 3 with probabilities 1/4, 1/2, 1/4. Added
#: to a fair die (:data:`DIE_PMF`), Z = X + Y has the pmf p_X ⋆ p_Y on 2..9, with the
#: notes' p_Z(2) = 1/24, p_Z(4) = 1/6 and p_Z(9) = 1/24 (lesson 02, problem set 1).
PAYOFF_PMF = MappingProxyType({1: Fraction(1, 4), 2: Fraction(1, 2), 3: Fraction(1, 4)})

#: The fair die of the same example (Unit 5 notes, §5.1.2): 1..6, each with probability 1/6.
DIE_PMF = MappingProxyType({face: Fraction(1, 6) for face in range(1, 7)})

#: The Chollet slides' 4×4 feature map of their max-pooling example; 2×2 max-pooling with
#: stride 2 gives [[20, 30], [112, 37]] (lesson 06, the pooling explorer).
FEATURE_MAP_4X4 = _frozen([[12, 20, 30, 0],
                           [8, 12, 2, 0],
                           [34, 70, 37, 4],
                           [112, 100, 25, 12]])
