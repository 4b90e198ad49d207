"""Benchmark: cnnlab.conv2d against torch.nn.functional.conv2d, and conv2d_matrix build times.

Run:  .venv/bin/python bench/conv.py [--threads T] [--repeat R]

Both sides compute in float32 with the same number of threads: the BLAS numpy uses
(OpenBLAS in the numpy wheels) is limited through OPENBLAS_NUM_THREADS & co. *before*
numpy is imported, and torch gets ``torch.set_num_threads(T)``. T defaults to the CPUs
this process may run on. Each figure is the median over R turns of 5 timed runs (after a warm-up),
the two sides of a ratio taking turns (see ``_timing.median_times``); on a shared machine
compare the ratios, not the absolute times.

Pooling rows are for information (no target is set).
Targets (issue 2): conv2d within 2x of torch; conv2d_matrix build <= 50 ms dense
(64x64 input, 5x5 kernel) and <= 1 s sparse (256x256 input, 5x5 kernel).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import conv_cases, median_times, print_report, ratio_row, start_with_threads  # noqa: E402


def main():
    args = start_with_threads(__doc__)

    import numpy as np
    import torch
    import torch.nn.functional as F

    import cnnlab

    rng = np.random.default_rng(0)
    rows = []

    for case, (x, w, b) in conv_cases(rng):
        tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
        ours = cnnlab.conv2d(x, w, b)
        with torch.no_grad():
            ref = F.conv2d(tx, tw, tb).numpy()
        if ours.dtype != np.float32 or not np.allclose(ours, ref, rtol=1e-4, atol=1e-3):
            raise SystemExit(f"conv2d disagrees with torch for {x.shape} * {w.shape}")
        with torch.no_grad():
            t_ours, t_ref = median_times([lambda: cnnlab.conv2d(x, w, b), lambda: F.conv2d(tx, tw, tb)],
                                         args.repeat)
        rows.append(ratio_row(f"conv2d {case}", t_ours, t_ref, 2))

    # pooling after seed 003's model2 conv layer: (N, 8, 24, 24) -> (N, 8, 12, 12)
    x = rng.standard_normal((64, 8, 24, 24)).astype(np.float32)
    tx = torch.from_numpy(x)
    for label, ours_fn, ref_fn in [
        ("max_pool2d 2x2", lambda: cnnlab.max_pool2d(x, 2), lambda: F.max_pool2d(tx, 2)),
        ("max_pool2d 2x2, indices", lambda: cnnlab.max_pool2d(x, 2, return_indices=True),
         lambda: F.max_pool2d(tx, 2, return_indices=True)),
        ("avg_pool2d 3x3, s=2, p=1", lambda: cnnlab.avg_pool2d(x, 3, 2, 1), lambda: F.avg_pool2d(tx, 3, 2, 1)),
    ]:
        t_ours, t_ref = median_times([ours_fn, ref_fn], args.repeat)
        rows.append(ratio_row(f"{label} on 64x8x24x24", t_ours, t_ref))

    for label, shape, sparse, target in [("dense", (64, 64), False, 0.050),
                                         ("sparse", (256, 256), True, 1.0)]:
        w = rng.standard_normal((5, 5))
        build = getattr(cnnlab, "conv2d_matrix", None)
        if build is None:
            rows.append((f"conv2d_matrix {label} {shape[0]}x{shape[1]}, 5x5", "not available", "", "",
                         f"<= {target * 1e3:g} ms", "MISSING"))
            continue
        (t,) = median_times([lambda: build(w, shape, sparse=sparse)], max(3, args.repeat // 3))
        rows.append((f"conv2d_matrix {label} {shape[0]}x{shape[1]}, 5x5", f"{t * 1e3:9.2f} ms", "", "",
                     f"<= {target * 1e3:g} ms", "ok" if t <= target else "MISSED"))

    print_report(rows, args.repeat)

if __name__ == "__main__":
    main()
