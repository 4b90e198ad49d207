"""Every benchmark script still runs: each one, with the smallest settings, end to end.

The figures in the closing notes come from these scripts; they are not timed here (the
machines are shared and noisy), only run, so that none of them rots unnoticed.
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
ROOT = pathlib.Path(__file__).resolve().parents[1]

SMOKE = {  # script -> (smallest arguments, a line its report must contain)
    "conv.py": (["--repeat", "1"], "conv2d N=64, 1->8, 28x28, k=5"),
    "backward.py": (["--repeat", "1"], "conv2d_backward N=64, 1->8, 28x28, k=5"),
    "explain.py": (["--batch", "8", "--repeat", "1"], "captum ms"),
    "training.py": (["--repeat", "1", "--epochs", "1", "--max-epochs", "1"], "fit vs a bare loop"),
    "widgets.py": (["--repeat", "1"], "worst explorer median / goal"),
    "grading.py": (["--students", "2", "--repeats", "1", "--rounds", "1"], "speed-up"),
    "filters.py": (["--repeat", "1", "--size", "6", "--filters", "8"], "median Gabor-fit correlation"),
}


def test_every_benchmark_has_a_smoke_run():
    """Every script, that is: ``_timing.py`` and other ``_`` modules are the scripts' shared parts."""
    assert sorted(p.name for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_")) == sorted(SMOKE)


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs(script):
    args, expected = SMOKE[script]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert expected in out.stdout, out.stdout[-3000:]
