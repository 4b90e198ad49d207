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
``model1()``        178,110      seed 003: MLP 784-200-100-10
``model2()``        5,386        seed 003: 208 + 1,168 + 4,010
``keras_example``   10, 142,     seed 000 Examples 1-4
                    297, 153
``no_max_pool``     55,744       seed 000: + 30,977 with ``dense=True``
``lenet5()``        62,958       seed 001's table, corrected (see below)
``vgg16()``         138,357,544  25,088 features before the classifier
``vgg19()``         143,667,240  idem
``alexnet()``       62,378,344   one tower; 60,965,224 with ``groups=2``
==================  ===========  =======================================
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._validate import _check_int, _check_mode

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


def _sequential(input_size, *layers, names=None) -> nn.Sequential:
    if names is None:
        model = nn.Sequential(*layers)
    else:
        model = nn.Sequential(OrderedDict(zip(names, layers)))
    model.input_size = tuple(input_size)
    return model


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
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


# ----------------------------------------------------------------------------- seed 003
def model1() -> nn.Sequential:
    """Seed 003's fully connected network for 28x28 digits: 784-200-100-10.

    ``Flatten``, ``Linear(784, 200)`` + ReLU, ``Linear(200, 100)`` + tanh,
    ``Linear(100, 10)`` (logits; the Flux listing's softmax is in the loss).

    Returns
    -------
    torch.nn.Sequential
        Input ``(N, 1, 28, 28)``, output ``(N, 10)``; 178,110 parameters:
        (784·200 + 200) + (200·100 + 100) + (100·10 + 10).

    Examples
    --------
    >>> count_parameters(model1())
    178110
    """
    return _sequential(
        (1, 28, 28),
        nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 100), nn.Tanh(), nn.Linear(100, 10),
    )


def model2() -> nn.Sequential:
    """Seed 003's convolutional network for 28x28 digits.

    ``Conv2d(1, 8, 5)`` + ReLU + 2x2 max-pool (24x24x8 -> 12x12x8),
    ``Conv2d(8, 16, 3)`` + ReLU + 2x2 max-pool (10x10x16 -> 5x5x16),
    ``Flatten`` (400), ``Linear(400, 10)``. (The notes' Flux listing lost its two
    ``Conv`` lines in extraction; the text describes them.)

    Returns
    -------
    torch.nn.Sequential
        Input ``(N, 1, 28, 28)``, output ``(N, 10)``; 5,386 parameters:
        8·(5·5·1 + 1) + 16·(3·3·8 + 1) + (400·10 + 10) = 208 + 1,168 + 4,010.

    Examples
    --------
    >>> count_parameters(model2())
    5386
    >>> model2()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """
    return _sequential(
        (1, 28, 28),
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 10),
    )


# ----------------------------------------------------------------------------- seed 000
_KERAS_EXAMPLES = {
    # n: (input size in torch order, conv class, [(in, out), ...])
    1: ((1, 10, 10), nn.Conv2d, [(1, 1)]),
    2: ((1, 10, 10), nn.Conv2d, [(1, 5), (5, 2)]),
    3: ((3, 100, 100), nn.Conv2d, [(3, 8), (8, 1)]),
    4: ((5, 100), nn.Conv1d, [(5, 8), (8, 1)]),
}


def keras_example(n: int) -> nn.Sequential:
    """Seed 000's ``model.summary()`` Examples 1-4 (3-wide kernels, sigmoid activations).

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
        raise ValueError(f"n must be 1, 2, 3 or 4 (seed 000's Examples), got {n}")
    size, conv, channels = _KERAS_EXAMPLES[n]
    layers = []
    for c_in, c_out in channels:
        layers += [conv(c_in, c_out, 3), nn.Sigmoid()]
    return _sequential(size, *layers)


def no_max_pool(dense: bool = False) -> nn.Sequential:
    """Seed 000's "why max-pool?" network: three 3x3 convolutions on 28x28x1, no pooling.

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
    if dense:
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
    if dense:
        layers += [nn.Flatten(), nn.Linear(3 * 3 * 64, 1), nn.Sigmoid()]
    return _sequential((1, 28, 28), *layers)


# ----------------------------------------------------------------------------- seed 001
#: The parameter counts printed in seed 001's LeNet-5 homework table. They use one input
#: channel and one bias per layer; with the table's own shapes the counts are those of
#: ``lenet5()``: 608, 3,216, 48,120, 10,164, 850.
LENET5_NOTES_PARAMS = OrderedDict(
    [("CONV1", 208), ("POOL1", 0), ("CONV2", 416), ("POOL2", 0), ("FC3", 48_001), ("FC4", 10_081),
     ("Softmax", 841)]
)


def lenet5(in_channels: int = 3, conv1: int = 8, conv2: int = 16, num_classes: int = 10) -> nn.Sequential:
    """LeNet-5 as in seed 001's homework table (32x32x3 input, 5x5 convolutions, 2x2 pooling).

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
        The notes print 208, 416, 48,001, 10,081, 841 (:data:`LENET5_NOTES_PARAMS`).

    Examples
    --------
    >>> [count_parameters(m) for m in lenet5().children() if count_parameters(m)]
    [608, 3216, 48120, 10164, 850]
    """
    in_channels = _check_int(in_channels, "in_channels", minimum=1)
    conv1 = _check_int(conv1, "conv1", minimum=1)
    conv2 = _check_int(conv2, "conv2", minimum=1)
    num_classes = _check_int(num_classes, "num_classes", minimum=1)
    names = ["CONV1", "relu1", "POOL1", "CONV2", "relu2", "POOL2", "flatten", "FC3", "relu3", "FC4", "relu4",
             "Softmax"]
    layers = [
        nn.Conv2d(in_channels, conv1, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(conv1, conv2, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(5 * 5 * conv2, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    ]
    return _sequential((in_channels, 32, 32), *layers, names=names)


# ----------------------------------------------------------------------------- VGG
#: Filters per 3x3 convolution, "M" for a 2x2 max-pool (Simonyan & Zisserman 2014, D and E).
VGG_CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


def vgg(config, *, num_classes: int = 1000, in_channels: int = 3, input_size: int = 224) -> nn.Sequential:
    """A VGG network from a configuration list (no pretrained weights).

    Layer names follow Keras's ``VGG16``/``VGG19`` (``block1_conv1`` ... ``block5_pool``,
    ``flatten``, ``fc1``, ``fc2``, ``predictions``), as in seed 001's table; each
    convolution is 3x3 with padding 1 and is followed by a ReLU (``block1_relu1`` ...).

    Parameters
    ----------
    config : {"vgg16", "vgg19"} or list of int and "M"
    num_classes : int
    in_channels : int
    input_size : int
        Square input side; must be divisible by 2 per pooling layer. The classifier
        takes ``C · (input_size / 2**pools)**2`` features: 512·7·7 = 25,088 at 224.

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> with torch.device("meta"):
    ...     net = vgg("vgg19")
    >>> net.fc1.in_features, count_parameters(net)
    (25088, 143667240)
    """
    if isinstance(config, str):
        config = VGG_CONFIGS[_check_mode(config, tuple(VGG_CONFIGS), "config")]
    config = list(config)
    num_classes = _check_int(num_classes, "num_classes", minimum=1)
    channels = _check_int(in_channels, "in_channels", minimum=1)
    side = _check_int(input_size, "input_size", minimum=1)
    if not config or any(c != "M" and not (isinstance(c, int) and c > 0) for c in config):
        raise ValueError(f"config must be a non-empty list of positive ints and 'M', got {config!r}")
    names, layers = [], []
    block, conv = 1, 1
    for item in config:
        if item == "M":
            if side % 2:
                raise ValueError(f"input_size must halve evenly at every pooling layer, got {input_size}")
            names.append(f"block{block}_pool")
            layers.append(nn.MaxPool2d(2))
            side //= 2
            block, conv = block + 1, 1
        else:
            names += [f"block{block}_conv{conv}", f"block{block}_relu{conv}"]
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            channels, conv = item, conv + 1
    features = channels * side * side
    names += ["flatten", "fc1", "fc1_relu", "fc1_dropout", "fc2", "fc2_relu", "fc2_dropout", "predictions"]
    layers += [nn.Flatten(), nn.Linear(features, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
               nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes)]
    return _sequential((in_channels, input_size, input_size), *layers, names=names)


def vgg16(num_classes: int = 1000) -> nn.Sequential:
    """VGG-16 (13 convolutions + 3 dense layers), 224x224x3 input; 138,357,544 parameters.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     print(count_parameters(vgg16()))
    138357544
    """
    return vgg("vgg16", num_classes=num_classes)


def vgg19(num_classes: int = 1000) -> nn.Sequential:
    """VGG-19 (16 convolutions + 3 dense layers) as listed in seed 003; 143,667,240 parameters.

    The first dense layer takes the 7x7x512 = 25,088 features left by five 2x2
    poolings of a 224x224 image.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     print(vgg19().fc1)
    Linear(in_features=25088, out_features=4096, bias=True)
    """
    return vgg("vgg19", num_classes=num_classes)


# ----------------------------------------------------------------------------- AlexNet
def alexnet(num_classes: int = 1000, *, groups: int = 1) -> nn.Sequential:
    """AlexNet (Krizhevsky et al. 2012): five convolutions, three dense layers, 227x227x3 input.

    conv1 96 filters 11x11 stride 4 (55x55), 3x3/2 max-pool (27), conv2 256 5x5 pad 2,
    pool (13), conv3 384, conv4 384, conv5 256 (3x3 pad 1), pool (6x6x256 = 9,216),
    fc6 4,096, fc7 4,096, fc8 ``num_classes``. Local response normalisation is left out
    (it has no parameters).

    Parameters
    ----------
    num_classes : int
    groups : {1, 2}
        2 reproduces the paper's split over two GPUs: conv2, conv4 and conv5 only see
        the half of the channels on their own GPU.

    Returns
    -------
    torch.nn.Sequential
        62,378,344 parameters as one tower, 60,965,224 with ``groups=2``.

    Examples
    --------
    >>> with torch.device("meta"):
    ...     print(count_parameters(alexnet()), count_parameters(alexnet(groups=2)))
    62378344 60965224
    """
    num_classes = _check_int(num_classes, "num_classes", minimum=1)
    groups = _check_int(groups, "groups", minimum=1)
    if groups not in (1, 2):
        raise ValueError(f"groups must be 1 (one tower) or 2 (the paper's two GPUs), got {groups}")
    names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "conv4", "relu4",
             "conv5", "relu5", "pool5", "flatten", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8"]
    layers = [
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=groups), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=groups), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes),
    ]
    return _sequential((3, 227, 227), *layers, names=names)


# ----------------------------------------------------------------------------- Inception, ResNet
class InceptionModule(nn.Module):
    """GoogLeNet's inception module: four branches concatenated along the channels.

    1x1 conv; 1x1 reduce -> 3x3 conv; 1x1 reduce -> 5x5 conv; 3x3 max-pool (stride 1)
    -> 1x1 projection. Each conv is followed by a ReLU; spatial size is kept.
    With ``reduce=False`` the 3x3 and 5x5 convolutions see all input channels
    (the "naive" module), which shows what the 1x1 reductions save.
    """

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, *, reduce=True):
        super().__init__()
        for name, value in [("in_channels", in_channels), ("c1", c1), ("c3_reduce", c3_reduce), ("c3", c3),
                            ("c5_reduce", c5_reduce), ("c5", c5), ("pool_proj", pool_proj)]:
            _check_int(value, name, minimum=1)
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self.branch1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1), relu())
        if reduce:
            self.branch3 = nn.Sequential(nn.Conv2d(in_channels, c3_reduce, 1), relu(),
                                         nn.Conv2d(c3_reduce, c3, 3, padding=1), relu())
            self.branch5 = nn.Sequential(nn.Conv2d(in_channels, c5_reduce, 1), relu(),
                                         nn.Conv2d(c5_reduce, c5, 5, padding=2), relu())
            self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(in_channels, pool_proj, 1),
                                             relu())
            self.out_channels = c1 + c3 + c5 + pool_proj
        else:
            self.branch3 = nn.Sequential(nn.Conv2d(in_channels, c3, 3, padding=1), relu())
            self.branch5 = nn.Sequential(nn.Conv2d(in_channels, c5, 5, padding=2), relu())
            self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, padding=1))
            self.out_channels = c1 + c3 + c5 + in_channels

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


def inception_module(in_channels=192, c1=64, c3_reduce=96, c3=128, c5_reduce=16, c5=32, pool_proj=32, *,
                     reduce=True, input_size=28) -> InceptionModule:
    """An inception module; the defaults are GoogLeNet's "3a" (28x28x192 -> 28x28x256).

    Returns
    -------
    InceptionModule
        Output ``(N, c1 + c3 + c5 + pool_proj, H, W)``; 163,696 parameters for 3a
        (12,352 + 18,528 + 110,720 + 3,088 + 12,832 + 6,176); 387,296 for the naive
        module with the same output widths (``reduce=False``).

    Examples
    --------
    >>> m = inception_module()
    >>> count_parameters(m), m(torch.zeros(1, 192, 28, 28)).shape[1]
    (163696, 256)
    """
    module = InceptionModule(in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, reduce=reduce)
    module.input_size = (in_channels, _check_int(input_size, "input_size", minimum=1), input_size)
    return module


class ResidualBlock(nn.Module):
    """ResNet's basic block: y = ReLU(F(x) + shortcut(x)), F = conv3x3-BN-ReLU-conv3x3-BN.

    The shortcut is the identity when shapes agree, else a 1x1 convolution with the
    block's stride followed by batch normalisation (He et al. 2016, option B).
    """

    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        in_channels = _check_int(in_channels, "in_channels", minimum=1)
        out_channels = in_channels if out_channels is None else _check_int(out_channels, "out_channels", minimum=1)
        stride = _check_int(stride, "stride", minimum=1)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()
        self.relu2 = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(out + self.shortcut(x))


def residual_block(in_channels=64, out_channels=None, stride=1, *, input_size=56) -> ResidualBlock:
    """A ResNet basic block; the defaults are ResNet-18/34's first stage (56x56x64).

    Returns
    -------
    ResidualBlock
        Output ``(N, out_channels, ceil(H / stride), ceil(W / stride))``. Parameters:
        2·(3·3·C·C) weights + 2·2·C batch-norm scales and shifts = 73,984 for C = 64.

    Examples
    --------
    >>> count_parameters(residual_block())
    73984
    >>> residual_block(64, 128, stride=2)(torch.zeros(1, 64, 56, 56)).shape
    torch.Size([1, 128, 28, 28])
    """
    block = ResidualBlock(in_channels, out_channels, stride)
    block.input_size = (in_channels, _check_int(input_size, "input_size", minimum=1), input_size)
    return block
