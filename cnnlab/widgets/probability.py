"""Lesson 02 explorer: the sum of n dice, an n-fold convolution, tends to a bell curve."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..probability import pmf_of_sum_n, uniform_pmf
from ..viz import plot_pmf
from ._base import Explorer
from ._controls import slider

__all__ = ["DiceExplorer"]


@dataclass(frozen=True, eq=False)
class DiceResult:
    n: int
    sides: int
    pmf: dict

    @property
    def mean(self):
        return Fraction(self.n * (self.sides + 1), 2)

    @property
    def variance(self):
        return Fraction(self.n * (self.sides ** 2 - 1), 12)

    def normal(self, t):
        """The normal density with the same mean and variance, at ``t``."""
        var = float(self.variance)
        if var == 0:
            return np.where(np.asarray(t) == float(self.mean), 1.0, 0.0)
        return np.exp(-(np.asarray(t, dtype=float) - float(self.mean)) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)

    @property
    def normal_gap(self):
        """max over t of |P(S = t) − normal density(t)|: how far from the bell curve."""
        values = np.array(list(self.pmf), dtype=float)
        probs = np.array([float(p) for p in self.pmf.values()])
        return float(np.max(np.abs(probs - self.normal(values))))


class DiceExplorer(Explorer):
    """Exact distribution of the sum of ``n`` fair dice (convolution n − 1 times), against the normal curve.

    Examples
    --------
    >>> ex = DiceExplorer()
    >>> str(ex.result.pmf[7])                      # two dice
    '1/6'
    >>> ex.dice.value = 10
    >>> ex.result.normal_gap < 0.005
    True
    """

    height = "470px"
    figsize = (8.5, 3.8)
    css_class = "cnnlab-dice-explorer"

    def __init__(self):
        super().__init__()
        self._finish(dict(dice=slider(int, 2, 1, 15, "number of dice"),
                          sides=slider(int, 6, 2, 12, "faces per die")))

    def compute(self, *, dice, sides):
        return DiceResult(dice, sides, pmf_of_sum_n(uniform_pmf(range(1, sides + 1)), dice))

    def draw(self, r, figure):
        ax = figure.add_axes([0.08, 0.13, 0.9, 0.78])
        ax.plot([], [], color="#d62728", lw=1.5)
        ax.set_xlabel("sum")
        ax.locator_params(nbins=6)          # fewer tick labels: text is most of a redraw's cost
        ax.tick_params(labelsize=9)
        self._ax = ax
        self._fill(r)

    def _fill(self, r):
        ax = self._ax
        plot_pmf(r.pmf, ax=ax, title=f"sum of {r.n} dice with {r.sides} faces: exact pmf (bars) and normal curve")
        lo, hi = min(r.pmf), max(r.pmf)
        t = np.linspace(lo - 0.5, hi + 0.5, 300)
        ax.lines[0].set_data(t, r.normal(t))
        ax.relim()
        ax.autoscale_view()

    def refresh(self, r, figure):
        for artist in [*self._ax.containers, *self._ax.texts]:
            artist.remove()
        self._fill(r)
        return True

    def header(self, r):
        mode = max(r.pmf, key=r.pmf.get)
        return (
            '<div class="cnnlab-readouts" style="font-family:monospace;font-size:12px">'
            f'<span class="cnnlab-readout cnnlab-moments" data-values="{len(r.pmf)}">'
            f'{len(r.pmf)} possible sums ({min(r.pmf)}..{max(r.pmf)}); mean {r.mean}, variance {r.variance}; '
            f'most likely sum {mode} with probability {r.pmf[mode]}</span> · '
            f'<span class="cnnlab-readout cnnlab-gap" data-gap="{r.normal_gap:.5f}">'
            f'largest gap to the normal curve {r.normal_gap:.4f}</span></div>'
        )
