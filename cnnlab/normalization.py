r"""Layers that behave differently in training and evaluation: ``batch_norm`` and ``dropout``.

Both follow ``torch.nn.functional``: :func:`batch_norm` normalises each channel with the
batch's statistics while training (and updates the running statistics in place) and
with the running statistics in evaluation; :func:`dropout` zeroes values at random
while training and scales the survivors by 1/(1 − p) ("inverted dropout"), so that
evaluation is the identity.
"""
from __future__ import annotations

import numpy as np

from ._validate import _as_array, _as_rng, _check_bool, _check_real

__all__ = ["batch_norm", "dropout"]


def _real_array(a, name, **kw):
    arr = _as_array(a, name, **kw)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    return arr


def _running(stat, name, c, training):
    """Check a running statistic: (C,) floats, an ndarray that can be updated in place when training."""
    if stat is None:
        return None
    if training and not (isinstance(stat, np.ndarray) and stat.dtype.kind == "f" and stat.flags.writeable):
        raise TypeError(
            f"{name} must be a writeable float ndarray when training=True (it is updated in place), "
            f"got {type(stat).__name__}" + (f" of dtype {stat.dtype}" if isinstance(stat, np.ndarray) else "")
        )
    arr = _real_array(stat, name, ndim=1)
    if arr.shape != (c,):
        raise ValueError(f"{name} must have shape (C,) = ({c},), one value per channel, got {arr.shape}")
    return arr


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    r"""Batch normalisation with ``torch.nn.functional.batch_norm`` semantics.

    Each channel c is normalised over the batch and the spatial positions, then scaled
    and shifted by the learned ``weight`` γ and ``bias`` β.

    Parameters
    ----------
    input : array_like, shape (N, C) or (N, C, *spatial)
        A batch of feature vectors or feature maps, channels on axis 1.
    running_mean, running_var : ndarray, shape (C,), or None
        The running statistics. Used to normalise when ``training`` is False (then both
        are required). When ``training`` is True and they are given, they are **updated
        in place** (so they must be writeable float ndarrays), as torch does.
    weight, bias : array_like, shape (C,), optional
        γ and β, per channel (by default 1 and 0).
    training : bool
        Normalise with the batch's statistics (True) or the running ones (False).
    momentum : float in [0, 1]
        Weight of the new batch in the running statistics.
    eps : float > 0
        Added to the variance before the square root.

    Returns
    -------
    y : ndarray, the shape of input
        float32 when the floating-point inputs are all float32, float64 otherwise.

    Raises
    ------
    TypeError
        Non-numeric or complex arrays, running statistics that cannot be updated in
        place while training, a non-bool ``training``, non-real momentum or eps.
    ValueError
        Fewer than 2 dimensions, statistics or γ, β not of shape (C,), missing running
        statistics in evaluation mode, a single value per channel while training (as
        torch), momentum outside [0, 1], eps not positive.

    Notes
    -----
    With the mean and the *biased* variance over the m = N·Π(spatial) values of each
    channel,

    .. math::

        \mu_c = \frac{1}{m}\sum_{n,h,w} x_{nchw}, \qquad
        \sigma^2_c = \frac{1}{m}\sum_{n,h,w} (x_{nchw} - \mu_c)^2, \qquad
        y_{nchw} = \gamma_c\,\frac{x_{nchw} - \mu_c}{\sqrt{\sigma^2_c + \varepsilon}} + \beta_c .

    In training mode the running statistics move towards the batch's, the variance
    taken *unbiased* (divided by m − 1), as torch does:

    .. math::

        \hat\mu_c \leftarrow (1 - \text{momentum})\,\hat\mu_c + \text{momentum}\,\mu_c, \qquad
        \hat\sigma^2_c \leftarrow (1 - \text{momentum})\,\hat\sigma^2_c
            + \text{momentum}\,\frac{m}{m - 1}\sigma^2_c ;

    in evaluation mode μ and σ² are replaced by the running values, so the layer is a
    fixed per-channel affine map. Per channel there are 2 trainable values (γ, β) and 2
    running ones (what Keras calls non-trainable).

    Examples
    --------
    Two samples of two channels; training normalises each channel to mean 0, variance 1:

    >>> import numpy as np
    >>> from cnnlab import batch_norm
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> mean, var = np.zeros(2), np.ones(2)
    >>> batch_norm(x, mean, var, training=True, eps=0.0)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> mean, var                       # 0.9·0 + 0.1·batch mean, 0.9·1 + 0.1·unbiased var
    (array([0.2, 2. ]), array([ 1.1, 20.9]))
    >>> batch_norm(x, mean, var).round(3)    # evaluation: the running statistics
    array([[0.763, 1.75 ],
           [2.67 , 6.125]])
    """
    x = _real_array(input, "input")
    if x.ndim < 2:
        raise ValueError(f"input must have at least 2 dimensions (N, C, ...), got shape {x.shape}")
    training = _check_bool(training, "training")
    momentum = _check_real(momentum, "momentum", nonnegative=True)
    if momentum > 1:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    eps = _check_real(eps, "eps", nonnegative=True)
    c = x.shape[1]
    rm = _running(running_mean, "running_mean", c, training)
    rv = _running(running_var, "running_var", c, training)
    if (rm is None) != (rv is None):
        raise ValueError("running_mean and running_var must both be given or both be None")
    gamma = None if weight is None else _real_array(weight, "weight", ndim=1)
    beta = None if bias is None else _real_array(bias, "bias", ndim=1)
    for name, arr in (("weight", gamma), ("bias", beta)):
        if arr is not None and arr.shape != (c,):
            raise ValueError(f"{name} must have shape (C,) = ({c},), one value per channel, got {arr.shape}")
    floats = [a.dtype for a in (x, gamma, beta) if a is not None and a.dtype.kind == "f"]
    dtype = np.dtype(np.float32) if floats and all(d == np.float32 for d in floats) else np.dtype(np.float64)
    x = x.astype(dtype, copy=False)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training:
        m = x.size // c
        if m < 2:
            raise ValueError(
                f"batch_norm needs more than 1 value per channel when training, got input of shape {x.shape}"
            )
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        if rm is not None:
            rm *= 1 - momentum
            rm += momentum * mean
            rv *= 1 - momentum
            rv += momentum * var * (m / (m - 1))
    elif rm is None:
        raise ValueError("running_mean and running_var are required when training=False")
    else:
        mean, var = rm, rv
    if eps == 0 and np.any(np.asarray(var) == 0):
        raise ValueError("eps must be positive when a channel has zero variance, got eps=0")
    scale = 1 / np.sqrt(np.asarray(var, dtype) + dtype.type(eps))
    shift = -np.asarray(mean, dtype) * scale
    if gamma is not None:
        scale, shift = scale * gamma, shift * gamma
    if beta is not None:
        shift = shift + beta
    return x * scale.astype(dtype, copy=False).reshape(shape) + shift.astype(dtype, copy=False).reshape(shape)


def dropout(x, p=0.5, *, training=True, rng=None):
    r"""Inverted dropout with ``torch.nn.functional.dropout`` semantics.

    While training, every value is zeroed independently with probability ``p`` and the
    survivors are multiplied by 1/(1 − p), so that the expected output equals the
    input; in evaluation mode the layer is the identity.

    Parameters
    ----------
    x : array_like
        Any shape.
    p : float in [0, 1]
        Probability of dropping a value. ``p = 1`` drops everything (the output is 0).
    training : bool
        Drop (True) or pass ``x`` through unchanged (False).
    rng : numpy.random.Generator or int, optional
        Source of the random mask, or a seed for one (``numpy.random.default_rng``).

    Returns
    -------
    y : ndarray, the shape of x
        float32 for float32 input, float64 otherwise. A new array (a copy of x in
        evaluation mode).

    Raises
    ------
    TypeError
        Non-numeric or complex x, a non-real p, a non-bool training, an rng that is
        neither a Generator nor an int.
    ValueError
        p outside [0, 1].

    Notes
    -----
    With independent masks m ~ Bernoulli(1 − p),

    .. math:: y = \frac{m \odot x}{1 - p}, \qquad \mathbb{E}[y] = x .

    Scaling while training, not at test time, is what makes evaluation the identity.
    The Unit 5 notes advise batch normalisation in convolutional layers and dropout
    only in the dense layers.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnlab import dropout
    >>> y = dropout(np.ones(8), p=0.5, rng=0)
    >>> sorted(set(y.tolist()))              # dropped, or kept and doubled
    [0.0, 2.0]
    >>> dropout(np.ones(3), p=0.5, training=False)
    array([1., 1., 1.])
    """
    arr = _real_array(x, "x", allow_empty=True)
    p = _check_real(p, "p")
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    training = _check_bool(training, "training")
    gen = _as_rng(rng)
    dtype = np.dtype(np.float32) if arr.dtype == np.float32 else np.dtype(np.float64)
    arr = arr.astype(dtype)                      # always a new array
    if not training or p == 0:
        return arr
    if p == 1:
        return np.zeros_like(arr)
    keep = gen.random(arr.shape) >= p
    return np.where(keep, arr * dtype.type(1 / (1 - p)), dtype.type(0))
