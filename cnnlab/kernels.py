"""Classic hand-made filters: edge detectors, Gabor, box and Gaussian kernels.

The edge detectors are exactly the matrices of the CNN lecture notes. They are
meant to be used the way CNN layers and the CNN lecture notes use them, as *cross-correlation*
kernels (:func:`cnnlab.conv2d`): with a true convolution the sign of the response flips.
"""
from __future__ import annotations

import math

import numpy as np

from ._validate import _check_int, _check_mode, _check_real, _check_size

__all__ = ["prewitt", "sobel", "scharr", "gabor", "box", "gaussian", "EDGE_DETECTORS"]

_DIRECTIONS = ("vertical", "horizontal")


def _edge(column, direction):
    direction = _check_mode(direction, _DIRECTIONS, "direction")
    vertical = np.outer(np.asarray(column), np.array([1, 0, -1]))
    return vertical if direction == "vertical" else vertical.T.copy()


def prewitt(direction="vertical"):
    """Prewitt edge detector (3×3, int).

    Parameters
    ----------
    direction : {'vertical', 'horizontal'}
        'vertical' responds to vertical edges (left-right changes in intensity);
        'horizontal' is its transpose.

    Returns
    -------
    (3, 3) ndarray of int

    Examples
    --------
    >>> prewitt()
    array([[ 1,  0, -1],
           [ 1,  0, -1],
           [ 1,  0, -1]])
    >>> prewitt("horizontal")
    array([[ 1,  1,  1],
           [ 0,  0,  0],
           [-1, -1, -1]])
    """
    return _edge([1, 1, 1], direction)


def sobel(direction="vertical"):
    """Sobel edge detector (3×3, int): Prewitt with the centre row weighted 2.

    Parameters
    ----------
    direction : {'vertical', 'horizontal'}

    Returns
    -------
    (3, 3) ndarray of int

    Examples
    --------
    >>> sobel()
    array([[ 1,  0, -1],
           [ 2,  0, -2],
           [ 1,  0, -1]])
    """
    return _edge([1, 2, 1], direction)


def scharr(direction="vertical"):
    """Scharr edge detector (3×3, int): weights 3, 10, 3.

    Parameters
    ----------
    direction : {'vertical', 'horizontal'}

    Returns
    -------
    (3, 3) ndarray of int

    Examples
    --------
    >>> scharr()
    array([[  3,   0,  -3],
           [ 10,   0, -10],
           [  3,   0,  -3]])
    """
    return _edge([3, 10, 3], direction)


#: name -> function, for menus and loops over the three detectors
EDGE_DETECTORS = {"prewitt": prewitt, "sobel": sobel, "scharr": scharr}


def gabor(size, theta, omega, phi, alpha, beta, amplitude=1.0, *, x0=0.0, y0=0.0):
    r"""Gabor filter of the Bishop ch. 10 slides on a ``size × size`` grid centred on the middle pixel.

    Parameters
    ----------
    size : int
        Side of the square grid (>= 1).
    theta : float
        Orientation :math:`\theta` (radians) of the oscillation.
    omega : float
        Spatial angular frequency :math:`\omega` (radians per pixel).
    phi : float
        Phase :math:`\phi` (radians); 0 gives an odd (edge-like) filter, π/2 an even one.
    alpha, beta : float
        Decay rates (>= 0) of the envelope along :math:`\tilde x` and :math:`\tilde y`.
    amplitude : float, optional
        :math:`A`.
    x0, y0 : float, optional
        Centre :math:`(x_0, y_0)` of the filter in pixels, measured from the middle of the
        grid (x to the right, y downwards); 0, 0 centres it. Fitting a Gabor to a learned
        filter (:func:`cnnlab.gabor_fit.fit_gabor`) needs them: learned filters sit
        anywhere in their patch.

    Returns
    -------
    (size, size) ndarray of float
        ``G[i, j]`` at ``x = j − (size − 1)/2`` (columns, to the right) and
        ``y = i − (size − 1)/2`` (rows, downwards, as image rows).

    Notes
    -----
    .. math::
        G(x, y) = A \exp(-\alpha \tilde x^2 - \beta \tilde y^2)\, \sin(\omega \tilde x + \phi)

        \tilde x = (x - x_0)\cos\theta + (y - y_0)\sin\theta, \qquad
        \tilde y = -(x - x_0)\sin\theta + (y - y_0)\cos\theta

    with :math:`(x_0, y_0)` the filter's centre (the middle of the grid by default). The
    sine oscillates along the direction :math:`\theta`; the Gaussian envelope localises
    it. These model the simple cells of the visual cortex and resemble the first-layer
    filters CNNs learn.

    scikit-image's ``skimage.filters.gabor_kernel(frequency, theta, sigma_x=σx,
    sigma_y=σy, offset=ψ)`` uses the same coordinates and rotation. Its imaginary part
    is this filter with :math:`\omega = 2\pi f`, :math:`\alpha = 1/(2\sigma_x^2)`,
    :math:`\beta = 1/(2\sigma_y^2)`, :math:`\phi = \psi` and
    :math:`A = 1/(2\pi\sigma_x\sigma_y)`; its real part is the same with
    :math:`\phi = \psi + \pi/2`. Its grid is ``(2·y_max + 1) × (2·x_max + 1)``, centred
    on 0, so it matches ``gabor`` on any centred odd square crop.

    Examples
    --------
    >>> g = gabor(5, theta=0, omega=1.0, phi=0.0, alpha=0.1, beta=0.1)
    >>> g.shape
    (5, 5)
    >>> bool(np.allclose(g[:, 2], 0))    # sin(0) on the centre column
    True
    >>> bool(np.allclose(g, -g[:, ::-1]))   # phi = 0: odd in x
    True
    >>> shifted = gabor(5, theta=0, omega=1.0, phi=0.0, alpha=0.1, beta=0.1, x0=1.0)
    >>> bool(np.allclose(shifted[:, 3], 0))   # the zero crossing moved one column right
    True
    """
    size = _check_int(size, "size", minimum=1)
    theta = _check_real(theta, "theta")
    omega = _check_real(omega, "omega")
    phi = _check_real(phi, "phi")
    alpha = _check_real(alpha, "alpha", minimum=0.0)
    beta = _check_real(beta, "beta", minimum=0.0)
    amplitude = _check_real(amplitude, "amplitude")
    x0 = _check_real(x0, "x0")
    y0 = _check_real(y0, "y0")
    size = _check_size(size, "size", maximum=math.isqrt(2**27))
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size].astype(float) - c
    x, y = x - x0, y - y0
    xt = x * math.cos(theta) + y * math.sin(theta)
    yt = -x * math.sin(theta) + y * math.cos(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        phase = omega * xt + phi
        if not np.all(np.isfinite(phase)):
            raise ValueError(f"omega and phi must keep omega * x + phi finite on a {size}x{size} grid, "
                             f"got omega={omega}, phi={phi}")
        envelope = np.exp(-(alpha * xt**2 + beta * yt**2))
        g = amplitude * envelope * np.sin(phase)
    return g


def box(size, ndim=2):
    """Box (moving-average) kernel: every weight ``1 / size**ndim``.

    Parameters
    ----------
    size : int
        Side length (>= 1).
    ndim : {1, 2}
        1 for a moving average of a signal, 2 for an image blur.

    Returns
    -------
    ndarray of float, shape ``(size,)`` or ``(size, size)``, summing to 1

    Examples
    --------
    >>> box(3, ndim=1)
    array([0.33333333, 0.33333333, 0.33333333])
    >>> box(2)
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    size = _check_int(size, "size", minimum=1)
    ndim = _check_ndim(ndim)
    _check_size(size**ndim, "size" if ndim == 1 else "size**2")
    return np.full((size,) * ndim, 1.0 / size**ndim)


def gaussian(size, sigma, ndim=2):
    r"""Sampled Gaussian kernel, normalised to sum 1.

    Parameters
    ----------
    size : int
        Side length (>= 1), centred on ``(size − 1)/2``.
    sigma : float
        Standard deviation in samples (> 0).
    ndim : {1, 2}

    Returns
    -------
    ndarray of float, shape ``(size,)`` or ``(size, size)``

    Notes
    -----
    :math:`g(x) \propto \exp(-x^2 / 2\sigma^2)`; the 2-D kernel is the outer product
    of two 1-D kernels (it is separable).

    Examples
    --------
    >>> g = gaussian(5, 1.0)
    >>> g.shape, bool(np.isclose(g.sum(), 1.0)), bool(g[2, 2] == g.max())
    ((5, 5), True, True)
    """
    size = _check_int(size, "size", minimum=1)
    sigma = _check_real(sigma, "sigma", positive=True)
    ndim = _check_ndim(ndim)
    _check_size(size**ndim, "size" if ndim == 1 else "size**2")
    x = np.arange(size) - (size - 1) / 2
    # exp(-(x² - x_min²) / 2σ²): the centre sample(s) get weight 1 before normalising, so a
    # tiny sigma gives the limit (all weight on the centre) and a huge one a flat kernel,
    # never 0/0 (dividing by sigma twice keeps sigma² from underflowing to 0)
    d2 = x**2 - np.min(x**2)
    with np.errstate(over="ignore", under="ignore"):
        g = np.exp(-0.5 * ((d2 / sigma) / sigma))
    g /= g.sum()
    return g if ndim == 1 else np.outer(g, g)


def _check_ndim(ndim):
    """1 or 2 (ints only: ``1.0`` is a TypeError, as for every size)."""
    if not isinstance(ndim, (int, np.integer)) or isinstance(ndim, (bool, np.bool_)):
        raise TypeError(f"ndim must be 1 or 2, got {ndim!r}")
    return _check_mode(int(ndim), (1, 2), "ndim")
