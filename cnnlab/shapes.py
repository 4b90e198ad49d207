"""Output sizes, 'same' padding and receptive fields of convolution layers."""
from __future__ import annotations

from typing import NamedTuple

from ._validate import _check_int, _padding_pairs

__all__ = ["conv_output_size", "same_padding", "receptive_field", "ReceptiveField"]


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
    padding : int or (int, int), optional
        Zeros added on each side, or ``(before, after)`` for uneven padding (>= 0).
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
    """
    n = _check_int(n, "n", minimum=1)
    k = _check_int(kernel_size, "kernel_size", minimum=1)
    s = _check_int(stride, "stride", minimum=1)
    d = _check_int(dilation, "dilation", minimum=1)
    ((before, after),) = _padding_pairs(padding, 1)
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
