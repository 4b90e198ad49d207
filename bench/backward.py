"""Benchmark: cnnlab.conv2d_backward and conv_transpose2d against torch's autograd and F.conv_transpose2d.

Run:  .venv/bin/python bench/backward.py [--threads T] [--repeat R]

The cases are bench/conv.py's forward cases. The torch side of the backward rows is
``torch.autograd.grad(y, (x, w, b), grad_y, retain_graph=True)`` on a graph built once:
exactly the backward pass of ``F.conv2d`` (all three gradients), without the forward.
Threads and timing as in bench/conv.py (float32, both sides on T threads, each figure
the median over R turns of 5 timed runs, the two sides of a ratio taking turns); on a
shared machine compare the ratios, not the absolute times.

Targets (issue 13): conv2d_backward within 3x of torch's backward. The transposed
convolution rows are for information (no target is set).
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
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(tx, tw, tb)
        grad_y = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        tg = torch.from_numpy(grad_y)
        ours = cnnlab.conv2d_backward(x, w, grad_y)
        ref = torch.autograd.grad(y, (tx, tw, tb), tg, retain_graph=True)
        for name, a, r in zip(("grad_x", "grad_w", "grad_b"), ours, ref):
            r = r.numpy()
            if a.dtype != np.float32 or not np.allclose(a, r, rtol=1e-3, atol=1e-3 * np.abs(r).max()):
                raise SystemExit(f"conv2d_backward's {name} disagrees with torch for {x.shape} * {w.shape}")
        t_ours, t_ref = median_times(
            [lambda: cnnlab.conv2d_backward(x, w, grad_y),
             lambda: torch.autograd.grad(y, (tx, tw, tb), tg, retain_graph=True)], args.repeat)
        rows.append(ratio_row(f"conv2d_backward {case}", t_ours, t_ref, 3))

    # learnable upsampling: the decoder step 8 -> 4 channels, 14x14 -> 28x28 (k=4, s=2, p=1)
    x = rng.standard_normal((64, 8, 14, 14)).astype(np.float32)
    w = rng.standard_normal((8, 4, 4, 4)).astype(np.float32)
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    kw = dict(stride=2, padding=1)
    with torch.no_grad():
        ref = F.conv_transpose2d(tx, tw, **kw).numpy()
        ours = cnnlab.conv_transpose2d(x, w, **kw)
        if ours.shape != ref.shape or not np.allclose(ours, ref, rtol=1e-4, atol=1e-3):
            raise SystemExit("conv_transpose2d disagrees with torch")
        t_ours, t_ref = median_times([lambda: cnnlab.conv_transpose2d(x, w, **kw),
                                      lambda: F.conv_transpose2d(tx, tw, **kw)], args.repeat)
    rows.append(ratio_row("conv_transpose2d N=64, 8->4, 14x14 -> 28x28, k=4, s=2", t_ours, t_ref))

    print_report(rows, args.repeat)

if __name__ == "__main__":
    main()
