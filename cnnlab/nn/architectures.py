"""VGG, AlexNet, an Inception module and a ResNet block (Unit 5 notes, §5.6) as ``torch.nn`` modules.

No pretrained weights: these are for counting and shapes (build them on the meta device,
``with torch.device("meta"): net = vgg19()``) and for small experiments.
Layer names follow Keras's applications where the sources print them (``block1_conv1``).
"""
from __future__ import annotations

import torch
from torch import nn

from .._validate import MAX_CHANNELS, _check_alloc, _check_bool, _check_int, _check_mode, _check_size, _is_int
from ._common import _sequential

__all__ = ["VGG_CONFIGS", "InceptionModule", "ResidualBlock", "alexnet", "inception_module", "residual_block",
           "vgg", "vgg16", "vgg19"]


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
    ``flatten``, ``fc1``, ``fc2``, ``predictions``), as in the CNN lecture notes' table; each
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
    >>> from cnnlab.nn import count_parameters
    >>> with torch.device("meta"):
    ...     net = vgg("vgg19")
    >>> net.fc1.in_features, count_parameters(net)
    (25088, 143667240)
    """
    if isinstance(config, str):
        config = VGG_CONFIGS[_check_mode(config, tuple(VGG_CONFIGS), "config")]
    if not isinstance(config, (list, tuple)):
        raise TypeError(f"config must be a name ({', '.join(map(repr, VGG_CONFIGS))}) or a list of ints and 'M', "
                        f"got {config!r}")
    config = list(config)
    num_classes = _check_size(num_classes, "num_classes", maximum=MAX_CHANNELS)
    channels = _check_size(in_channels, "in_channels", maximum=MAX_CHANNELS)
    side = _check_size(input_size, "input_size", maximum=2**14)
    if not config or any(c != "M" and not (_is_int(c) and 0 < c <= MAX_CHANNELS) for c in config):
        raise ValueError(f"config must be a non-empty list of positive ints and 'M' (ints at most {MAX_CHANNELS}), "
                         f"got {config!r}")
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
    _check_alloc(features * 4096, "input_size", input_size, itemsize=4)
    names += ["flatten", "fc1", "fc1_relu", "fc1_dropout", "fc2", "fc2_relu", "fc2_dropout", "predictions"]
    layers += [nn.Flatten(), nn.Linear(features, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
               nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, num_classes)]
    return _sequential((in_channels, input_size, input_size), *layers, names=names)


def vgg16(num_classes: int = 1000) -> nn.Sequential:
    """VGG-16 (13 convolutions + 3 dense layers), 224x224x3 input; 138,357,544 parameters.

    Examples
    --------
    >>> from cnnlab.nn import count_parameters
    >>> with torch.device("meta"):
    ...     print(count_parameters(vgg16()))
    138357544
    """
    return vgg("vgg16", num_classes=num_classes)


def vgg19(num_classes: int = 1000) -> nn.Sequential:
    """VGG-19 (16 convolutions + 3 dense layers) as listed in the Unit 5 notes; 143,667,240 parameters.

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
    >>> from cnnlab.nn import count_parameters
    >>> with torch.device("meta"):
    ...     print(count_parameters(alexnet()), count_parameters(alexnet(groups=2)))
    62378344 60965224
    """
    num_classes = _check_size(num_classes, "num_classes", maximum=MAX_CHANNELS)
    groups = _check_size(groups, "groups", maximum=MAX_CHANNELS)
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
            _check_size(value, name, maximum=MAX_CHANNELS)
        reduce = _check_bool(reduce, "reduce")
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
    >>> from cnnlab.nn import count_parameters
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
        in_channels = _check_size(in_channels, "in_channels", maximum=MAX_CHANNELS)
        out_channels = in_channels if out_channels is None else _check_size(out_channels, "out_channels",
                                                                             maximum=MAX_CHANNELS)
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
    >>> from cnnlab.nn import count_parameters
    >>> count_parameters(residual_block())
    73984
    >>> residual_block(64, 128, stride=2)(torch.zeros(1, 64, 56, 56)).shape
    torch.Size([1, 128, 28, 28])
    """
    block = ResidualBlock(in_channels, out_channels, stride)
    block.input_size = (in_channels, _check_int(input_size, "input_size", minimum=1), input_size)
    return block
