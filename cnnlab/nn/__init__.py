"""The PyTorch side of cnnlab: models from the course's source documents, Keras-style summaries, MNIST, training.

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
from .training import (
    Evaluation, History, confusion_matrix, default_device, evaluate, fit, predict, predict_proba, set_seed,
    to_tensors,
)

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
    # training
    "Evaluation", "History", "confusion_matrix", "default_device", "evaluate", "fit", "predict",
    "predict_proba", "set_seed", "to_tensors",
]

# lessons 09-10 (inside a trained CNN, localisation)
from .explain import activations, conv_filters, layer_features, match_filters, record_activations
from .receptive import LayerReceptiveField, Patches, layer_receptive_field, top_activating_patches
from .neighbours import nearest_neighbours, neighbour_label_agreement, one_shot_accuracy
from .attribution import fgsm, fgsm_accuracy, fgsm_min_epsilon, grad_cam, saliency
from .synthesis import Synthesis, deepdream, gaussian_blur, maximise_activation
from .localization import (
    LocalisationData, LocalisationHead, LocalisationScores, box_iou, boxes_to_corners, decode_localisation,
    LocalisationHistory, evaluate_localisation, fit_localisation, localisation_loss, localisation_net,
    make_localisation_data,
)
from .detection import Detections, match_detections, non_max_suppression, sliding_window_detect, tile_canvases

__all__ += [
    "LayerReceptiveField", "Patches", "activations", "conv_filters", "layer_features", "layer_receptive_field",
    "match_filters", "nearest_neighbours", "neighbour_label_agreement", "one_shot_accuracy", "record_activations",
    "top_activating_patches", "fgsm", "fgsm_accuracy", "fgsm_min_epsilon", "grad_cam", "saliency",
    "Synthesis", "deepdream", "gaussian_blur", "maximise_activation", "LocalisationData", "LocalisationHead",
    "LocalisationScores", "box_iou", "boxes_to_corners", "decode_localisation", "evaluate_localisation",
    "localisation_loss", "localisation_net", "make_localisation_data", "LocalisationHistory", "fit_localisation",
    "Detections", "match_detections", "non_max_suppression", "sliding_window_detect", "tile_canvases",
]
