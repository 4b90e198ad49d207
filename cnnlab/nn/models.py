"""The networks of the lecture notes as ``torch.nn`` modules.

Every builder returns a fresh, randomly initialised module (no pretrained weights) that
outputs raw scores (logits): a final softmax belongs in the loss
(``torch.nn.CrossEntropyLoss``), not in the model. Each module carries the input shape
its notes use (without the batch axis, torch order) as ``model.input_size``, so
``cnnlab.nn.summary(model)`` needs no further argument.

Big networks cost nothing to inspect on PyTorch's meta device::

    with torch.device("meta"):
        net = vgg19()          # 143,667,240 parameters, no memory allocated

Parameter counts (weights + biases), asserted by the tests:

==================  ===========  =======================================
builder             parameters   notes
==================  ===========  =======================================
``model1()``        178,110      Unit 5 notes: MLP 784-200-100-10
``model2()``        5,386        Unit 5 notes: 208 + 1,168 + 4,010
``keras_example``   10, 142,     Chollet slides, Examples 1-4
                    297, 153
``no_max_pool``     55,744       Chollet slides: + 30,977 with ``dense=True``
``lenet5()``        62,958       CNN lecture notes' table, corrected (see below)
``vgg16()``         138,357,544  25,088 features before the classifier
``vgg19()``         143,667,240  idem
``alexnet()``       62,378,344   one tower; 60,965,224 with ``groups=2``
==================  ===========  =======================================
"""
from __future__ import annotations

from collections import OrderedDict

import torch  # noqa: F401  (the doctests use it)
from torch import nn

from .._validate import MAX_CHANNELS, _check_bool, _check_int, _check_mode, _check_real, _check_size
from ._common import _check_model, _count_parameters, _sequential
# the big architectures of the Unit 5 notes §5.6 live in .architectures (re-exported here)
from .architectures import (
    VGG_CONFIGS, InceptionModule, ResidualBlock, alexnet, inception_module, residual_block, vgg, vgg16, vgg19,
)

__all__ = [
    "LENET5_NOTES_PARAMS",
    "VGG_CONFIGS",
    "InceptionModule",
    "ResidualBlock",
    "alexnet",
    "count_parameters",
    "inception_module",
    "keras_example",
    "lenet5",
    "model1",
    "model2",
    "no_max_pool",
    "residual_block",
    "vgg",
    "vgg16",
    "vgg19",
    "with_max_pool",
]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (each shared tensor counted once).

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool
        Count only parameters with ``requires_grad``.

    Returns
    -------
    int

    Examples
    --------
    >>> count_parameters(model2())
    5386
    """
    _check_model(model)
    return _count_parameters(model, _check_bool(trainable_only, "trainable_only"))


# ----------------------------------------------------------------------------- the Unit 5 notes
def _check_dropout(dropout):
    """A dropout probability in [0, 1): a non-number is a TypeError, 1 or more a ValueError."""
    p = _check_real(dropout, "dropout", nonnegative=True)
    if p >= 1:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    return p


def model1(*, batch_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """The Unit 5 notes' fully connected network for 28x28 digits: 784-200-100-10.

    ``Flatten``, ``Linear(784, 200)`` + ReLU, ``Linear(200, 100)`` + tanh,
    ``Linear(100, 10)`` (logits; the Unit 5 notes' Flux.jl code applies the softmax, here it is in the loss).

    Parameters
    ----------
    batch_norm : bool
        Put ``BatchNorm1d`` between each hidden ``Linear`` and its activation
        (2 trainable and 2 running values per unit: 600 + 600 more numbers).
    dropout : float in [0, 1)
        Put ``Dropout(dropout)`` after each hidden activation (0: none, the Unit 5 notes' model).

    Returns
    -------
    torch.nn.Sequential
        Input ``(N, 1, 28, 28)``, output ``(N, 10)``; 178,110 parameters:
        (784·200 + 200) + (200·100 + 100) + (100·10 + 10); 178,710 with ``batch_norm``.

    Examples
    --------
    >>> count_parameters(model1())
    178110
    >>> count_parameters(model1(batch_norm=True)) - 178110      # γ and β for 200 + 100 units
    600
    """
    batch_norm = _check_bool(batch_norm, "batch_norm")
    dropout = _check_dropout(dropout)

    def hidden(n_in, n_out, act):
        layers = [nn.Linear(n_in, n_out)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(act)
        if dropout:
            layers.append(nn.Dropout(dropout))
        return layers

    return _sequential(
        (1, 28, 28),
        nn.Flatten(), *hidden(784, 200, nn.ReLU()), *hidden(200, 100, nn.Tanh()), nn.Linear(100, 10),
    )


def model2(*, batch_norm: bool = False, dropout: float = 0.0, dropout_where: str = "dense") -> nn.Sequential:
    """The Unit 5 notes' convolutional network for 28x28 digits.

    ``Conv2d(1, 8, 5)`` + ReLU + 2x2 max-pool (24x24x8 -> 12x12x8),
    ``Conv2d(8, 16, 3)`` + ReLU + 2x2 max-pool (10x10x16 -> 5x5x16),
    ``Flatten`` (400), ``Linear(400, 10)``. (The Flux.jl code listing of the Unit 5 notes lost its two
    ``Conv`` lines in extraction; the text describes them.)

    Parameters
    ----------
    batch_norm : bool
        Put ``BatchNorm2d`` between each convolution and its ReLU: per channel a
        trainable scale γ and shift β, and a running mean and variance (Keras's
        "non-trainable" parameters): 2·8 + 2·16 = 48 more parameters, 48 running values.
    dropout : float in [0, 1)
        Dropout probability (0: none, the Unit 5 notes' model).
    dropout_where : {"dense", "conv"}
        ``"dense"``: one ``Dropout`` on the 400 features before the dense layer;
        ``"conv"``: a ``Dropout`` after each convolution block (after its pooling).

    Returns
    -------
    torch.nn.Sequential
        Input ``(N, 1, 28, 28)``, output ``(N, 10)``; 5,386 parameters:
        8·(5·5·1 + 1) + 16·(3·3·8 + 1) + (400·10 + 10) = 208 + 1,168 + 4,010;
        5,434 with ``batch_norm``. With the defaults the layers (and their indices) are
        exactly the Unit 5 notes' model.

    Examples
    --------
    >>> count_parameters(model2())
    5386
    >>> model2()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> count_parameters(model2(batch_norm=True))
    5434
    >>> [type(m).__name__ for m in model2(dropout=0.5, dropout_where="conv")][:5]
    ['Conv2d', 'ReLU', 'MaxPool2d', 'Dropout', 'Conv2d']
    """
    batch_norm = _check_bool(batch_norm, "batch_norm")
    dropout = _check_dropout(dropout)
    where = _check_mode(dropout_where, ("dense", "conv"), "dropout_where")

    def block(c_in, c_out, k):
        layers = [nn.Conv2d(c_in, c_out, k)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        if dropout and where == "conv":
            layers.append(nn.Dropout(dropout))
        return layers

    head = [nn.Flatten()]
    if dropout and where == "dense":
        head.append(nn.Dropout(dropout))
    return _sequential((1, 28, 28), *block(1, 8, 5), *block(8, 16, 3), *head, nn.Linear(400, 10))


# ----------------------------------------------------------------------------- the Chollet slides
_KERAS_EXAMPLES = {
    # n: (input size in torch order, conv class, [(in, out), ...])
    1: ((1, 10, 10), nn.Conv2d, [(1, 1)]),
    2: ((1, 10, 10), nn.Conv2d, [(1, 5), (5, 2)]),
    3: ((3, 100, 100), nn.Conv2d, [(3, 8), (8, 1)]),
    4: ((5, 100), nn.Conv1d, [(5, 8), (8, 1)]),
}


def keras_example(n: int) -> nn.Sequential:
    """The Chollet slides' ``model.summary()`` Examples 1-4 (3-wide kernels, sigmoid activations).

    Parameters
    ----------
    n : {1, 2, 3, 4}
        1: 10x10x1 -> Conv2D(1, 3): 10 parameters.
        2: 10x10x1 -> Conv2D(5, 3) -> Conv2D(2, 3): 50 + 92 = 142.
        3: 100x100x3 -> Conv2D(8, 3) -> Conv2D(1, 3): 224 + 73 = 297.
        4: 100 steps x 5 channels -> Conv1D(8, 3) -> Conv1D(1, 3): 128 + 25 = 153.

    Returns
    -------
    torch.nn.Sequential
        Torch layout: ``model.input_size`` is (C, H, W) or (C, L), e.g. (3, 100, 100)
        for Keras's ``Input(shape=(100, 100, 3))``.

    Examples
    --------
    >>> [count_parameters(keras_example(n)) for n in (1, 2, 3, 4)]
    [10, 142, 297, 153]
    """
    n = _check_int(n, "n", minimum=1)
    if n not in _KERAS_EXAMPLES:
        raise ValueError(f"n must be 1, 2, 3 or 4 (Chollet slides' Examples), got {n}")
    size, conv, channels = _KERAS_EXAMPLES[n]
    layers = []
    for c_in, c_out in channels:
        layers += [conv(c_in, c_out, 3), nn.Sigmoid()]
    return _sequential(size, *layers)


def no_max_pool(dense: bool = False) -> nn.Sequential:
    """The Chollet slides' "why max-pool?" network: three 3x3 convolutions on 28x28x1, no pooling.

    Conv(32) 26x26, Conv(64) 24x24, Conv(64) 22x22: each output of the third layer sees
    only a 7x7 window of the input.

    Parameters
    ----------
    dense : bool
        Append ``Flatten`` + ``Linear(22·22·64, 1)`` + sigmoid: 64·(22·22) + 1 = 30,977
        more parameters for a single output neuron.

    Returns
    -------
    torch.nn.Sequential
        55,744 parameters (320 + 18,496 + 36,928), 86,721 with ``dense=True``.

    Examples
    --------
    >>> count_parameters(no_max_pool(dense=True)) - count_parameters(no_max_pool())
    30977
    """
    layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU()]
    if _check_bool(dense, "dense"):
        layers += [nn.Flatten(), nn.Linear(22 * 22 * 64, 1), nn.Sigmoid()]
    return _sequential((1, 28, 28), *layers)


def with_max_pool(dense: bool = False) -> nn.Sequential:
    """The same three convolutions with 2x2 max-pooling after the first two (26 -> 13, 11 -> 5).

    The third layer's output is 3x3x64 and each of its units sees a 18x18 window of the
    input; a single dense output neuron then costs 3·3·64 + 1 = 577 parameters instead
    of 30,977.

    Returns
    -------
    torch.nn.Sequential
        55,744 parameters, 56,321 with ``dense=True``.

    Examples
    --------
    >>> count_parameters(with_max_pool(dense=True)) - count_parameters(with_max_pool())
    577
    """
    layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
              nn.Conv2d(64, 64, 3), nn.ReLU()]
    if _check_bool(dense, "dense"):
        layers += [nn.Flatten(), nn.Linear(3 * 3 * 64, 1), nn.Sigmoid()]
    return _sequential((1, 28, 28), *layers)


# ----------------------------------------------------------------------------- the CNN lecture notes
#: The parameter counts printed in the CNN lecture notes' LeNet-5 homework table. They use one input
#: channel and one bias per layer; with the table's own shapes the counts are those of
#: ``lenet5()``: 608, 3,216, 48,120, 10,164, 850.
LENET5_NOTES_PARAMS = OrderedDict(
    [("CONV1", 208), ("POOL1", 0), ("CONV2", 416), ("POOL2", 0), ("FC3", 48_001), ("FC4", 10_081),
     ("Softmax", 841)]
)


def lenet5(in_channels: int = 3, conv1: int = 8, conv2: int = 16, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 as in the CNN lecture notes' homework table (32x32x3 input, 5x5 convolutions, 2x2 pooling).

    Layers are named as in the table: CONV1 (28x28x8), POOL1 (14x14x8), CONV2
    (10x10x16), POOL2 (5x5x16), FC3 (120), FC4 (84), Softmax (10 logits; the softmax
    itself is left to the loss). ReLU follows CONV1, CONV2, FC3 and FC4.

    Parameters
    ----------
    in_channels, conv1, conv2 : int
        Input channels and the filters of the two convolutions; ``conv1=6`` gives the
        notes' other example, (5·5·3 + 1)·6 = 456.
    num_classes : int

    Returns
    -------
    torch.nn.Sequential
        Parameters per layer (defaults): (5·5·3+1)·8 = 608, (5·5·8+1)·16 = 3,216,
        400·120+120 = 48,120, 120·84+84 = 10,164, 84·10+10 = 850; 62,958 in all.
        The CNN lecture notes print 208, 416, 48,001, 10,081, 841 (:data:`LENET5_NOTES_PARAMS`).

    Examples
    --------
    >>> [count_parameters(m) for m in lenet5().children() if count_parameters(m)]
    [608, 3216, 48120, 10164, 850]
    """
    in_channels = _check_size(in_channels, "in_channels", maximum=MAX_CHANNELS)
    conv1 = _check_size(conv1, "conv1", maximum=MAX_CHANNELS)
    conv2 = _check_size(conv2, "conv2", maximum=MAX_CHANNELS)
    num_classes = _check_size(num_classes, "num_classes", maximum=MAX_CHANNELS)
    names = ["CONV1", "relu1", "POOL1", "CONV2", "relu2", "POOL2", "flatten", "FC3", "relu3", "FC4", "relu4",
             "Softmax"]
    layers = [
        nn.Conv2d(in_channels, conv1, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(conv1, conv2, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(5 * 5 * conv2, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    ]
    return _sequential((in_channels, 32, 32), *layers, names=names)

