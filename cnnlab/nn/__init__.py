"""The PyTorch side of cnnlab: models from the notes, Keras-style summaries, MNIST, training.

torch is imported here and only here (``import cnnlab`` stays numpy-only)::

    from cnnlab.nn import load_mnist_split, model2, summary, fit
"""
from .data import (
    MNIST_FILES, MNIST_MIRRORS, Digits, MnistSplit, default_cache_dir, download_mnist, load_mnist,
    load_mnist_split, load_subset, read_idx, stratified_split, write_idx,
)
from .models import (
    LENET5_NOTES_PARAMS, VGG_CONFIGS, InceptionModule, ResidualBlock, alexnet, count_parameters,
    inception_module, keras_example, lenet5, model1, model2, no_max_pool, residual_block, vgg, vgg16, vgg19,
    with_max_pool,
)
from .summary import Row, Summary, Table, lenet5_table, summary

__all__ = [
    # data
    "MNIST_FILES", "MNIST_MIRRORS", "Digits", "MnistSplit", "default_cache_dir", "download_mnist",
    "load_mnist", "load_mnist_split", "load_subset", "read_idx", "stratified_split", "write_idx",
    # models
    "LENET5_NOTES_PARAMS", "VGG_CONFIGS", "InceptionModule", "ResidualBlock", "alexnet", "count_parameters",
    "inception_module", "keras_example", "lenet5", "model1", "model2", "no_max_pool", "residual_block",
    "vgg", "vgg16", "vgg19", "with_max_pool",
    # summary
    "Row", "Summary", "Table", "lenet5_table", "summary",
]
