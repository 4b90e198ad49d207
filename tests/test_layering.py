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


def test_core_names_are_public():
    import cnnlab

    for name in (
        "convolve", "correlate", "conv_matrix", "poly_multiply", "conv_output_size",
        "same_padding", "conv1d", "conv2d", "conv2d_matrix", "max_pool1d", "max_pool2d",
        "avg_pool1d", "avg_pool2d", "receptive_field", "pmf_of_sum", "kernels",
    ):
        assert hasattr(cnnlab, name), name
