"""Plotting layer of cnnlab (matplotlib only; never imported by ``import cnnlab``).

Every ``plot_*``/``show_*`` function takes ``ax=None`` (a new figure is made then) and
returns the Axes it drew on, so figures compose and tests can inspect what was drawn.
Helpers add their module here with ONE import line each.
"""
from .conv import ConvGeometry, conv_geometry, plot_conv_input, plot_conv_output, plot_conv_tape
from .images import plot_kernel, sample_photo, show_feature_map, show_image
from .matrices import plot_matrix, toeplitz_labels
from .signals import plot_frequency_response, plot_pmf, plot_signal, plot_spectrum, plot_waveform
from .explain import blend_heatmap, image_grid, plot_accuracy_vs_epsilon, show_boxes, show_grid, show_heatmap
from ._style import fmt, use_course_style
from .training import plot_confusion_matrix, plot_history, plot_misclassified
from .filters import plot_filter_bank
