"""The numeric core is numpy-only: importing cnnlab must not pull in the heavy layers."""
import subprocess
import sys

HEAVY = ("matplotlib", "ipywidgets", "torch", "scipy", "IPython", "nbgrader")


def test_import_cnnlab_is_numpy_only():
    code = (
        "import sys, cnnlab\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import cnnlab imported: {out.stdout.strip()}"


def test_geometry_is_numpy_only():
    """The computation the pictures show loads no drawing, widget or torch layer."""
    code = (
        "import sys, cnnlab.geometry, cnnlab.shapes, cnnlab.audio\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import cnnlab.geometry imported: {out.stdout.strip()}"


def test_views_import_their_computation_from_the_core():
    """viz and widgets draw what the core computes; the old names keep working."""
    import cnnlab
    from cnnlab import audio, geometry, systems, viz
    from cnnlab.viz import conv as vconv, signals as vsig
    from cnnlab.widgets import pooling

    assert viz.ConvGeometry is vconv.ConvGeometry is geometry.ConvGeometry
    assert viz.conv_geometry is geometry.conv_geometry
    assert systems.translate is geometry.translate
    assert vsig.spectrum_db is audio.spectrum_db and vsig.frequency_response_db is audio.frequency_response_db
    assert geometry.resolve_padding is cnnlab.resolve_padding is cnnlab.shapes.resolve_padding
    assert pooling.translate is geometry.translate


def test_core_names_are_public():
    import cnnlab

    for name in (
        "convolve", "correlate", "conv_matrix", "poly_multiply", "conv_output_size",
        "same_padding", "resolve_padding", "conv1d", "conv2d", "conv2d_matrix", "max_pool1d", "max_pool2d",
        "avg_pool1d", "avg_pool2d", "receptive_field", "pmf_of_sum", "kernels",
    ):
        assert hasattr(cnnlab, name), name
