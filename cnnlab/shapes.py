"""Output sizes, padding and receptive fields of convolution layers.

:func:`resolve_padding` is the one place where a padding argument (a number, pairs, or a
mode such as ``'same'``) becomes ``(before, after)`` pairs; the layers, the convolution
matrices, the output-size formula, the geometry the pictures draw (:mod:`cnnlab.geometry`)
and the explorers all call it. It lives here, beside the two formulas it uses, so that
:mod:`cnnlab.layers` and :mod:`cnnlab.toeplitz` can call it without an import circle
(:mod:`cnnlab.geometry` runs those layers, and re-exports it).
"""
from __future__ import annotations

from typing import NamedTuple

from ._validate import _check_int, _check_mode, _padding_pairs, _tuple

__all__ = ["conv_output_size", "same_padding", "resolve_padding", "receptive_field", "ReceptiveField"]

#: every padding mode :func:`resolve_padding` knows
PADDING_MODES = ("valid", "same", "full")
#: the modes of ``torch.nn.functional.conv1d/conv2d`` (what the layers accept)
TORCH_MODES = ("valid", "same")


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    r"""Length of a convolution's (or pooling's) output along one dimension.

    Parameters
    ----------
    n : int
        Input length (>= 1).
    kernel_size : int
        Kernel length ``k`` (>= 1).
    stride : int, optional
        Step ``s`` between successive kernel positions (>= 1).
    padding : int, (int, int) or {'valid', 'same', 'full'}, optional
        Zeros added on each side, ``(before, after)`` for uneven padding (>= 0), or a
        mode, resolved by :func:`resolve_padding` (``'same'`` as torch: stride 1 only).
    dilation : int, optional
        Spacing ``d`` between kernel taps (>= 1); the kernel spans ``d·(k − 1) + 1``.

    Returns
    -------
    int
        .. math:: \left\lfloor \frac{n + p_\text{before} + p_\text{after} - d(k-1) - 1}{s} \right\rfloor + 1

        With symmetric padding ``p`` and ``d = 1`` this is the lecture formula
        :math:`\lfloor (n + 2p - k)/s \rfloor + 1`.

    Raises
    ------
    ValueError
        If the (dilated) kernel is longer than the padded input, so that not a single
        output position exists; or if an argument is out of range.
    TypeError
        If an argument is not an int (or a pair of ints for ``padding``).

    See Also
    --------
    same_padding : the padding that keeps the output at ``ceil(n / stride)``.
    resolve_padding : every padding form as ``(before, after)`` pairs.

    Notes
    -----
    Output position ``i`` (0-based) reads the padded input at
    ``i·s, i·s + d, …, i·s + d·(k − 1)``; the last position must still fit inside the
    padded length, hence the floor. This is the size rule of
    ``torch.nn.Conv1d/Conv2d`` and, with ``padding=0``, of pooling without ceil mode.

    Examples
    --------
    The Unit 5 notes' moving average (n = 9, k = 3):

    >>> conv_output_size(9, 3, padding=2)             # P = 2
    11
    >>> conv_output_size(9, 3)                        # P = 0
    7
    >>> conv_output_size(9, 3, stride=2, padding=1)   # S = 2, P = 1
    5
    >>> conv_output_size(9, 3, padding=(2, 0))        # uneven: P_start + P_end
    9
    >>> conv_output_size(6, 3, dilation=2)            # the kernel spans 5 samples
    2
    >>> conv_output_size(9, 3, padding="full")        # P = d·(k − 1) = 2 on each side
    11
    """
    n = _check_int(n, "n", minimum=1)
    k = _check_int(kernel_size, "kernel_size", minimum=1)
    s = _check_int(stride, "stride", minimum=1)
    d = _check_int(dilation, "dilation", minimum=1)
    ((before, after),) = resolve_padding(padding, n, k, s, d)
    span = d * (k - 1) + 1
    padded = n + before + after
    if span > padded:
        raise ValueError(
            f"kernel_size {k} with dilation {d} spans d·(k−1)+1 = {span} samples, but the padded "
            f"input has only n + padding = {n} + {before + after} = {padded}: no output position fits "
            f"(the formula gives floor(({padded} − {span})/{s}) + 1 = {(padded - span) // s + 1}); "
            "use a smaller kernel or dilation, or more padding"
        )
    return (padded - span) // s + 1


def same_padding(n, kernel_size, stride=1, dilation=1):
    r"""(before, after) padding of TensorFlow/Keras ``padding='same'``.

    Parameters
    ----------
    n : int
        Input length (>= 1).
    kernel_size : int
        Kernel length ``k`` (>= 1).
    stride : int, optional
        Stride ``s`` (>= 1).
    dilation : int, optional
        Dilation ``d`` (>= 1).

    Returns
    -------
    (int, int)
        ``(before, after)`` with ``before = total // 2`` and the extra one after, where

        .. math:: \text{total} = \max\big((\lceil n/s \rceil - 1)\,s + d(k-1) + 1 - n,\ 0\big)

        so that :func:`conv_output_size` gives exactly :math:`\lceil n/s \rceil`.

    See Also
    --------
    conv_output_size

    Notes
    -----
    The lecture formula :math:`p = (ns - n + f - s)/2` asks the output to have length
    ``n`` for any stride, which is impossible for ``s > 1``: for ``n = 6``, ``f = 3``,
    ``s = 2`` it gives ``p = 3.5`` (CNN lecture notes, homework #2), and no symmetric integer
    padding can produce 6 outputs with stride 2. Frameworks define 'same' as "output
    ``ceil(n/s)``" instead: here 3 outputs from a total padding of 1, split (0, 1).
    With ``s = 1`` and odd ``k`` the padding is symmetric, ``(k − 1)/2`` per side.
    PyTorch's ``padding='same'`` (stride 1 only) also puts the odd extra zero after.

    Examples
    --------
    >>> same_padding(6, 3)              # s = 1: (f - 1)/2 = 1 on each side
    (1, 1)
    >>> same_padding(6, 3, stride=2)    # homework #2: total 1, not 2 x 3.5
    (0, 1)
    >>> conv_output_size(6, 3, stride=2, padding=same_padding(6, 3, stride=2))
    3
    >>> same_padding(5, 4)              # even kernel: the extra zero goes after
    (1, 2)
    """
    n = _check_int(n, "n", minimum=1)
    k = _check_int(kernel_size, "kernel_size", minimum=1)
    s = _check_int(stride, "stride", minimum=1)
    d = _check_int(dilation, "dilation", minimum=1)
    out = -(-n // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, size, kernel_size, stride=1, dilation=1, *, modes=PADDING_MODES, same="torch"):
    r"""Turn any padding argument into one ``(before, after)`` pair of zeros per spatial axis.

    Every padding form the course uses goes through here: the layers
    (:func:`cnnlab.conv1d`, :func:`cnnlab.conv2d`), the convolution matrices
    (:func:`cnnlab.conv2d_matrix`), :func:`conv_output_size`, the geometry the pictures
    draw (:func:`cnnlab.geometry.conv_geometry`) and the explorers.

    Parameters
    ----------
    padding : int, sequence, or str
        ============================  ==============================================
        form                          (before, after) per axis
        ============================  ==============================================
        ``p``                         ``(p, p)`` on every axis
        ``(p_H, p_W)``                ``(p_H, p_H)``, ``(p_W, p_W)`` (one per axis)
        ``(before, after)``           as given (one spatial axis only)
        ``((t, b), (l, r))``          as given, one pair per axis
        ``'valid'``                   ``(0, 0)``
        ``'same'``, ``same='torch'``  total ``d·(k − 1)``, the odd zero after;
                                      stride 1 only (as torch)
        ``'same'``,                   total so that the output is ``ceil(n / s)``,
        ``same='tensorflow'``         the odd zero after (:func:`same_padding`)
        ``'full'``                    ``(d·(k − 1), d·(k − 1))``: every position where
                                      the kernel overlaps the input at least once
        ============================  ==============================================
    size : int or sequence of int
        Input size ``n`` per spatial axis (>= 1); its length is the number of axes.
    kernel_size, stride, dilation : int or sequence of int, optional
        Kernel size ``k`` (>= 1), stride ``s`` (>= 1) and dilation ``d`` (>= 1): one int
        for every axis, or one per axis.
    modes : sequence of str, optional
        The padding modes the caller accepts; the layers pass ``('valid', 'same')``,
        torch's modes.
    same : {'torch', 'tensorflow'}, optional
        Whose ``'same'``: torch's (stride 1 only) or TensorFlow/Keras's (any stride).

    Returns
    -------
    tuple of (int, int)
        One ``(before, after)`` pair per spatial axis (``len(size)`` pairs, or one for an
        int ``size``). Along each axis the output then has
        :math:`\lfloor (n + p_\text{before} + p_\text{after} - d(k-1) - 1)/s \rfloor + 1`
        positions (:func:`conv_output_size`).

    Raises
    ------
    ValueError
        Negative padding, a mode not in ``modes``, torch's ``'same'`` with a stride
        above 1, or a size, kernel size, stride or dilation below 1.
    TypeError
        Padding that is neither an int, pairs of ints nor a string; non-int sizes.

    See Also
    --------
    same_padding : TensorFlow's 'same' for one axis.
    conv_output_size : the output size that results.

    Notes
    -----
    torch's ``'same'`` and TensorFlow's agree for stride 1: both pad ``d·(k − 1)`` in
    all, ``⌊d·(k − 1)/2⌋`` before. For stride ``s > 1`` no padding keeps ``n`` outputs
    (the lecture formula :math:`p = (ns - n + f - s)/2` gives 3.5 for ``n = 6``,
    ``f = 3``, ``s = 2``); TensorFlow keeps :math:`\lceil n/s \rceil` instead and torch
    refuses.

    Examples
    --------
    >>> resolve_padding(2, 9, 3)                       # the Unit 5 notes: P = 2
    ((2, 2),)
    >>> resolve_padding((2, 0), 9, 3)                  # uneven, one axis
    ((2, 0),)
    >>> resolve_padding((1, 0), (6, 6), 3)             # one int per axis
    ((1, 1), (0, 0))
    >>> resolve_padding("same", (6, 6), (3, 4))        # an even kernel: the odd zero after
    ((1, 1), (1, 2))
    >>> resolve_padding("same", 6, 3, stride=2, same="tensorflow")   # homework #2: ceil(6/2) = 3 outputs
    ((0, 1),)
    >>> resolve_padding("full", 9, 3, dilation=2)
    ((4, 4),)
    >>> resolve_padding("same", 6, 3, stride=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: padding='same' needs stride=1 (as in torch.nn.functional.conv1d), got stride=2: ... = (0, 1)
    """
    if isinstance(size, (tuple, list)):
        sizes = _tuple(size, len(size), "size") if size else _tuple(size, 1, "size")
    else:
        sizes = (_check_int(size, "size", minimum=1),)
    nd = len(sizes)
    ks = _tuple(kernel_size, nd, "kernel_size")
    ss = _tuple(stride, nd, "stride")
    ds = _tuple(dilation, nd, "dilation")
    same = _check_mode(same, ("torch", "tensorflow"), "same")
    if isinstance(modes, str) or not isinstance(modes, (tuple, list)) \
            or not all(isinstance(m, str) for m in modes):
        raise TypeError(f"modes must be a tuple of padding modes, some of {PADDING_MODES}, got {modes!r}")
    if any(m not in PADDING_MODES for m in modes):
        raise ValueError(f"modes must be a tuple of padding modes, some of {PADDING_MODES}, got {modes!r}")
    if not isinstance(padding, str):
        return _padding_pairs(padding, nd)
    if not modes:
        raise ValueError(f"padding must be a non-negative int or (before, after) pairs here (modes=()), "
                         f"got {padding!r}")
    mode = _check_mode(padding, tuple(modes), "padding")
    if mode == "valid":
        return ((0, 0),) * nd
    if mode == "full":
        return tuple((d * (k - 1), d * (k - 1)) for k, d in zip(ks, ds))
    if same == "torch" and any(s != 1 for s in ss):
        shown = ss if nd > 1 else ss[0]
        example = ", ".join(f"cnnlab.same_padding({n}, {k}, {s}{'' if d == 1 else f', {d}'}) = "
                            f"{same_padding(n, k, s, d)}" for n, k, s, d in zip(sizes, ks, ss, ds))
        raise ValueError(
            f"padding='same' needs stride=1 (as in torch.nn.functional.conv{nd}d), got stride={shown}: "
            "no padding keeps the size when the kernel jumps. TensorFlow's 'same' keeps ceil(n/s) outputs "
            f"instead: pass explicit padding, e.g. {example}"
        )
    return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(sizes, ks, ss, ds))


class ReceptiveField(NamedTuple):
    """Receptive field after one layer of a stack (sizes in input samples/pixels)."""

    layer: int
    kernel_size: int
    stride: int
    dilation: int
    size: int
    """How many input samples one output unit of this layer sees."""
    jump: int
    """Distance in the input between neighbouring output units of this layer."""


def receptive_field(layers):
    r"""Receptive-field size and jump after each layer of a stack of convolutions/poolings.

    Parameters
    ----------
    layers : sequence of tuple
        One ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` tuple per
        layer, input side first. Pooling layers count like convolutions.

    Returns
    -------
    list of ReceptiveField
        One record per layer (same length as ``layers``), with fields ``layer``
        (1-based), ``kernel_size``, ``stride``, ``dilation``, ``size`` and ``jump``.

    Raises
    ------
    ValueError
        If ``layers`` is empty or a value is out of range.
    TypeError
        If a layer is not a tuple of 2 or 3 ints.

    Notes
    -----
    With ``r_0 = 1`` and ``j_0 = 1`` (one input pixel), layer ``l`` gives

    .. math:: r_l = r_{l-1} + d_l (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .

    Padding shifts where a field lies, not its size.

    Examples
    --------
    The Chollet slides, "why max-pool": three 3×3 convolutions see a 7×7 window of the input.

    >>> [rf.size for rf in receptive_field([(3, 1), (3, 1), (3, 1)])]
    [3, 5, 7]
    >>> rf = receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)])   # conv, pool, conv, pool
    >>> rf[-1].size, rf[-1].jump
    (10, 4)
    >>> receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])[-1].size   # dilations 1, 2, 4
    15
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of (kernel_size, stride[, dilation]) tuples, got {layers!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("layers must contain at least one (kernel_size, stride[, dilation]) tuple, got []")
    size, jump, records = 1, 1, []
    for index, layer in enumerate(layers, start=1):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise TypeError(
                f"layers[{index - 1}] must be a (kernel_size, stride) or (kernel_size, stride, dilation) "
                f"tuple, got {layer!r}"
            )
        k = _check_int(layer[0], f"layers[{index - 1}] kernel_size", minimum=1)
        s = _check_int(layer[1], f"layers[{index - 1}] stride", minimum=1)
        d = _check_int(layer[2], f"layers[{index - 1}] dilation", minimum=1) if len(layer) == 3 else 1
        size += d * (k - 1) * jump
        jump *= s
        records.append(ReceptiveField(index, k, s, d, size, jump))
    return records
