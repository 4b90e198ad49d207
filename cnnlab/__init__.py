"""cnnlab: the numeric core of a course on convolutional neural networks.

Importing ``cnnlab`` loads numpy only. Plotting lives in :mod:`cnnlab.viz`
(matplotlib), explorers in :mod:`cnnlab.widgets` (ipywidgets), and the PyTorch parts
in :mod:`cnnlab.nn`; import those explicitly.

Two vocabularies, on purpose:

* signal level (numpy/scipy): :func:`convolve` is true convolution (flipped kernel),
  :func:`correlate` is cross-correlation, :func:`conv_matrix` is the Toeplitz matrix;
* layer level (``torch.nn.functional``): :func:`conv1d` and :func:`conv2d` compute
  cross-correlation on ``(N, C, L)`` / ``(N, C, H, W)`` arrays, as deep-learning
  frameworks do.
"""
from . import kernels
from . import audio, systems  # lessons 01-02: synthesized sound, LTI systems (numpy only)
from . import geometry  # what the pictures show, computed: padding, conv geometry, shifts
from .backward import conv2d_backward, conv_transpose2d
from .layers import conv1d, conv2d
from .normalization import batch_norm, dropout
from .pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .probability import pmf_of_sum, pmf_of_sum_n, uniform_pmf
from .shapes import ReceptiveField, conv_output_size, receptive_field, resolve_padding, same_padding
from .signal import convolve, correlate, poly_multiply
from .toeplitz import conv2d_matrix, conv_matrix

__version__ = "0.1.0"

__all__ = [
    "kernels", "audio", "systems", "geometry",
    "convolve", "correlate", "poly_multiply",
    "conv_matrix", "conv2d_matrix",
    "conv1d", "conv2d",
    "conv2d_backward", "conv_transpose2d", "batch_norm", "dropout",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "conv_output_size", "same_padding", "resolve_padding", "receptive_field", "ReceptiveField",
    "pmf_of_sum", "pmf_of_sum_n", "uniform_pmf",
]
