"""Fit the best Gabor filter to a small filter, and say how good the fit is.

A learned filter "looks like a Gabor filter" is a claim that can be measured: find the
Gabor filter :func:`cnnlab.kernels.gabor` (orientation, frequency, phase, envelope,
amplitude and centre) closest to it, and report their correlation. numpy only: a grid
search over orientation, frequency and envelope width, refined by Nelder–Mead.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import kernels
from ._validate import _as_array

__all__ = ["GaborFit", "fit_gabor", "fit_gabors", "median_gabor_correlation"]

# The grid of the first search: 16 orientations, 10 frequencies up to the Nyquist limit
# (π radians per pixel), 4 envelope widths (standard deviations in pixels).
_THETAS = np.arange(16) * math.pi / 16
_OMEGAS = np.geomspace(0.3, math.pi, 10)
_SIGMAS = np.array([0.8, 1.3, 2.0, 3.2])


class GaborFit(NamedTuple):
    """The best Gabor filter found for one filter: the parameters of
    :func:`cnnlab.kernels.gabor` and the correlation of the fit with the filter."""

    theta: float
    omega: float
    phi: float
    alpha: float
    beta: float
    amplitude: float
    x0: float
    y0: float
    correlation: float

    def params(self):
        """The keyword arguments of :func:`cnnlab.kernels.gabor` (all but ``size``)."""
        return {k: getattr(self, k) for k in ("theta", "omega", "phi", "alpha", "beta", "amplitude", "x0", "y0")}

    def kernel(self, size):
        """The fitted Gabor filter on a ``size × size`` grid."""
        return kernels.gabor(size, **self.params())


def _coordinates(size):
    """y (rows, down) and x (columns, right) of every pixel, from the middle: two (size**2,) arrays."""
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size].reshape(2, -1) - c
    return y, x


def _pair(size, theta, omega, alpha, beta, x0, y0):
    """The envelope times sin and times cos of ω x̃, for parameter arrays of one shape P:
    two arrays of shape P + (size**2,)."""
    y, x = _coordinates(size)
    theta, omega, alpha, beta, x0, y0 = (np.asarray(v, dtype=float)[..., None]
                                         for v in (theta, omega, alpha, beta, x0, y0))
    dx, dy = x - x0, y - y0
    xt = dx * np.cos(theta) + dy * np.sin(theta)
    yt = -dx * np.sin(theta) + dy * np.cos(theta)
    env = np.exp(-alpha * xt**2 - beta * yt**2)
    return env * np.sin(omega * xt), env * np.cos(omega * xt)


def _project(f, s, c):
    """Least squares ``f ≈ a·s + b·c`` for every row pair: (r², a, b), r² the fraction of
    ``‖f‖²`` explained (the squared correlation of the fit with ``f``)."""
    ss, cc, sc = (s * s).sum(-1), (c * c).sum(-1), (s * c).sum(-1)
    fs, fc = s @ f, c @ f
    det = ss * cc - sc**2
    ok = det > 1e-12 * np.maximum(ss * cc, 1e-300)
    det = np.where(ok, det, 1.0)
    a = np.where(ok, (cc * fs - sc * fc) / det, 0.0)
    b = np.where(ok, (ss * fc - sc * fs) / det, np.where(cc > 0, fc / np.where(cc > 0, cc, 1.0), 0.0))
    return (a * fs + b * fc) / (f @ f), a, b


def _nelder_mead(fun, x0, step, *, max_eval=600, xtol=1e-4, ftol=1e-9):
    """Minimise ``fun`` from ``x0`` (the standard Nelder–Mead simplex method)."""
    n = len(x0)
    simplex = np.vstack([x0, x0 + np.diag(step)])
    values = np.array([fun(p) for p in simplex])
    evals = n + 1
    while evals < max_eval:
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if np.abs(values[1:] - values[0]).max() <= ftol and np.abs(simplex[1:] - simplex[0]).max() <= xtol:
            break
        centroid = simplex[:-1].mean(axis=0)
        worst = simplex[-1]
        xr = centroid + (centroid - worst)
        fr = fun(xr)
        evals += 1
        if fr < values[0]:
            xe = centroid + 2 * (centroid - worst)
            fe = fun(xe)
            evals += 1
            simplex[-1], values[-1] = (xe, fe) if fe < fr else (xr, fr)
            continue
        if fr < values[-2]:
            simplex[-1], values[-1] = xr, fr
            continue
        xc = centroid + 0.5 * ((xr if fr < values[-1] else worst) - centroid)
        fc = fun(xc)
        evals += 1
        if fc < min(fr, values[-1]):
            simplex[-1], values[-1] = xc, fc
            continue
        simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
        values[1:] = [fun(p) for p in simplex[1:]]
        evals += n
    best = np.argmin(values)
    return simplex[best]


def fit_gabor(filt):
    r"""The Gabor filter :func:`cnnlab.kernels.gabor` closest to a square filter.

    Parameters
    ----------
    filt : array_like, shape (k, k)
        A filter, e.g. a first-layer kernel of a CNN or one of
        :func:`cnnlab.natural.learn_filters`; ``k >= 3``; not all zero.

    Returns
    -------
    GaborFit
        ``theta`` in [0, π), ``omega`` > 0, ``phi`` in (−π, π], ``alpha, beta`` > 0,
        ``amplitude`` > 0, the centre ``x0, y0`` (pixels from the middle), and
        ``correlation`` in [0, 1]; ``fit.kernel(k)`` is the fitted filter. (θ and θ + π
        with phase π − φ are the same filter, so a filter with θ = 0 may come back with
        θ just below π.)

    Notes
    -----
    The correlation is :math:`\langle f, g\rangle / (\lVert f\rVert\,\lVert g\rVert)`
    between the filter :math:`f` and the fitted Gabor :math:`g` (1: the same pattern up
    to scale). The amplitude and the phase enter linearly,
    :math:`A \sin(\omega\tilde x + \phi) = a \sin\omega\tilde x + b \cos\omega\tilde x`, so
    for each orientation, frequency, envelope and centre the best :math:`a, b` come from
    a 2×2 least-squares problem. A grid over :math:`\theta` (16 values), :math:`\omega`
    (10, up to π) and round envelopes (4 widths), centred on the filter's centre of
    energy :math:`\sum f^2 \cdot (x, y) / \sum f^2` or on the middle, picks a start;
    Nelder–Mead then refines all six non-linear parameters (with :math:`\alpha \ne \beta`).

    Examples
    --------
    >>> g = kernels.gabor(9, theta=0.6, omega=1.2, phi=0.4, alpha=0.08, beta=0.05, x0=1.0, y0=-0.5)
    >>> fit = fit_gabor(3 * g)
    >>> round(fit.correlation, 4), round(fit.theta, 2), round(fit.omega, 2), round(fit.amplitude, 2)
    (1.0, 0.6, 1.2, 3.0)
    """
    f = _as_array(filt, "filt", ndim=2, dtype=np.float64)
    size = f.shape[0]
    if f.shape[1] != size or size < 3:
        raise ValueError(f"filt must be a square filter of side >= 3, got shape {f.shape}")
    norm = np.linalg.norm(f)
    if norm == 0:
        raise ValueError("filt must not be all zero")
    f = (f / norm).ravel()

    y, x = _coordinates(size)
    energy = f**2
    centres = np.array([[energy @ x, energy @ y], [0.0, 0.0]])
    th, om, sg, ci = np.meshgrid(_THETAS, _OMEGAS, _SIGMAS, np.arange(len(centres)), indexing="ij")
    th, om, sg, ci = th.ravel(), om.ravel(), sg.ravel(), ci.ravel()
    a = 1 / (2 * sg**2)
    s, co = _pair(size, th, om, a, a, centres[ci, 0], centres[ci, 1])
    r2, _, _ = _project(f, s, co)
    k = int(np.argmax(r2))
    start = np.array([th[k], math.log(om[k]), math.log(a[k]), math.log(a[k]), *centres[ci[k]]])

    def unpack(u):
        return u[0], math.exp(u[1]), math.exp(u[2]), math.exp(u[3]), u[4], u[5]

    def loss(u):                            # −r², with scalar arithmetic (this runs ~10³ times)
        if abs(u[4]) > size or abs(u[5]) > size or max(abs(u[1]), abs(u[2]), abs(u[3])) > 30:
            return 1.0                      # centre far outside the grid, or exp overflow
        theta, omega, alpha, beta, x0, y0 = unpack(u)
        ct, st = math.cos(theta), math.sin(theta)
        dx, dy = x - x0, y - y0
        xt, yt = dx * ct + dy * st, dy * ct - dx * st
        env = np.exp(-alpha * xt * xt - beta * yt * yt)
        s, co = env * np.sin(omega * xt), env * np.cos(omega * xt)
        ss, cc, sc, fs, fc = s @ s, co @ co, s @ co, s @ f, co @ f
        det = ss * cc - sc * sc
        if not det > 1e-12 * ss * cc:
            return -fc * fc / cc if cc > 0 else 0.0
        return -(cc * fs * fs - 2 * sc * fs * fc + ss * fc * fc) / det

    u = _nelder_mead(loss, start, np.array([0.15, 0.15, 0.4, 0.4, 0.5, 0.5]))
    u = _nelder_mead(loss, u, np.array([0.05, 0.05, 0.2, 0.2, 0.2, 0.2]))   # restart: avoids a stalled simplex
    theta, omega, alpha, beta, x0, y0 = unpack(u)
    s, co = _pair(size, theta, omega, alpha, beta, x0, y0)
    _, a_, b_ = _project(f, s, co)
    amplitude = float(math.hypot(a_, b_) * norm)
    phi = math.atan2(float(b_), float(a_))
    turns, theta = divmod(theta, math.pi)   # θ + π with phase π − φ is the same filter
    if int(turns) % 2:
        phi = math.pi - phi
    phi = math.pi - (math.pi - phi) % (2 * math.pi)          # into (−π, π]
    g = kernels.gabor(size, theta, omega, phi, alpha, beta, amplitude, x0=x0, y0=y0).ravel()
    gnorm = np.linalg.norm(g)
    correlation = float(np.clip(f @ g / gnorm, 0.0, 1.0)) if gnorm > 0 else 0.0
    return GaborFit(float(theta), float(omega), float(phi), float(alpha), float(beta), amplitude,
                    float(x0), float(y0), correlation)


def fit_gabors(filters):
    """:func:`fit_gabor` for each filter of a bank.

    Parameters
    ----------
    filters : array_like, shape (F, k, k) or (F, 1, k, k)

    Returns
    -------
    list of GaborFit, length F

    Examples
    --------
    >>> bank = np.array([kernels.gabor(7, t, 1.0, 0.0, 0.1, 0.1) for t in (0.5, 1.0)])
    >>> [round(fit.theta, 3) for fit in fit_gabors(bank)]
    [0.5, 1.0]
    """
    f = _as_array(filters, "filters", ndim=(3, 4), dtype=np.float64)
    if f.ndim == 4:
        if f.shape[1] != 1:
            raise ValueError(f"filters must be (F, k, k) or (F, 1, k, k), got shape {f.shape}")
        f = f[:, 0]
    if len(f) == 0:
        raise ValueError("filters must contain at least one filter, got shape (0, ...)")
    return [fit_gabor(one) for one in f]


def median_gabor_correlation(filters):
    """The median, over a bank of filters, of the correlation of each with its best Gabor fit.

    Near 1: the filters are Gabor filters. Random filters of the same size score far
    lower (about 0.5 for 8×8, 0.7 for 5×5), which is the baseline to compare with.

    Parameters
    ----------
    filters : array_like, shape (F, k, k) or (F, 1, k, k)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> bank = np.array([kernels.gabor(7, t, 1.0, 0.5, 0.1, 0.2) for t in (0.0, 0.7, 2.0)])
    >>> round(median_gabor_correlation(bank), 4)
    1.0
    """
    return float(np.median([fit.correlation for fit in fit_gabors(filters)]))
