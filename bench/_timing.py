"""What the benchmark scripts share: their options, thread limits, timing loops and report table.

bench/ is not a package: a script imports this module after putting its own folder on
``sys.path`` (``sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

#: the variables that size the thread pools of numpy's BLAS (OpenBLAS in the wheels) and OpenMP
ENV_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: the repository root: the scripts time this checkout's cnnlab
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


def use_checkout() -> None:
    """Import this checkout's cnnlab, even when the installed copy is elsewhere or stale."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def parse_args(doc: str, options: dict) -> argparse.Namespace:
    """The command line of a benchmark: integer options, each with a lower bound.

    ``options`` maps a flag to ``(default, minimum, help)``; the description is the first
    line of the script's docstring. A value below its minimum stops the script with
    argparse's usage message.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for flag, (default, _, text) in options.items():
        parser.add_argument(flag, type=int, default=default, help=text)
    args = parser.parse_args()
    for flag, (_, minimum, _) in options.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value < minimum:
            parser.error(f"{flag} must be >= {minimum}, got {value}")
    return args


def start_with_threads(doc: str) -> argparse.Namespace:
    """``--threads T --repeat R`` (conv.py, backward.py): numpy's BLAS limited to T threads
    *before* numpy is imported, torch to T threads, and this checkout's cnnlab on the path."""
    args = parse_args(doc, {
        "--threads": (len(os.sched_getaffinity(0)), 1,
                      "threads for numpy's BLAS and for torch (default: all usable CPUs)"),
        "--repeat": (21, 1, "timed runs per figure (default 21)"),
    })
    for var in ENV_THREADS:  # must happen before numpy (and its BLAS) is loaded
        os.environ[var] = str(args.threads)
    use_checkout()
    import torch

    torch.set_num_threads(args.threads)
    return args


def median_times(fns, repeat, inner=20, settle=0.2):
    """Median wall time of one call of each function, in seconds.

    The functions take turns, ``repeat`` rounds of them (after a warm-up), so a burst of
    load from other processes hits both sides of a ratio alike. A turn starts with a
    pause of ``settle`` seconds and one untimed call, then times ``inner`` calls in a
    row, as a user calls one library: the other library's idle threads busy-wait for a
    while after it worked (OpenBLAS's and OpenMP's pools both spin) and would take a core
    away from the call being timed. Timing right after the switch measured that, not the
    library: on 2 cores it made cnnlab's small conv2d 3-4x and torch's large one 2x slower.
    """
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, bucket in zip(fns, times):
            time.sleep(settle)  # the other side's thread pool goes to sleep
            fn()
            for _ in range(inner):
                start = time.perf_counter()
                fn()
                bucket.append(time.perf_counter() - start)
    return [sorted(bucket)[len(bucket) // 2] for bucket in times]


def timed(fn):
    """``(seconds, result)`` of one call of ``fn``."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


#: the forward cases of conv.py, reused by backward.py: (N, C_in, C_out, size, k)
CONV_CASES = ((64, 1, 8, 28, 5), (32, 3, 16, 64, 3))


def conv_cases(rng):
    """For each of :data:`CONV_CASES`: its label and float32 ``x (N, C_in, size, size)``,
    ``w (C_out, C_in, k, k)`` and ``b (C_out,)`` drawn from ``rng``."""
    import numpy as np

    for n, c_in, c_out, size, k in CONV_CASES:
        x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
        w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        yield f"N={n}, {c_in}->{c_out}, {size}x{size}, k={k}", (x, w, b)


def ratio_row(label, t_ours, t_ref, limit=None):
    """One row of the report: cnnlab's time, torch's, the ratio and the target (``limit`` × torch)."""
    ratio = t_ours / t_ref
    target, verdict = ("(none set)", "") if limit is None else \
        (f"<= {limit:g}x torch", "ok" if ratio <= limit else "MISSED")
    return label, f"{t_ours * 1e3:9.2f} ms", f"torch {t_ref * 1e3:7.2f} ms", f"{ratio:5.2f}x", target, verdict


def print_report(rows, repeat) -> None:
    """The versions and thread settings, then the rows as a table (conv.py, backward.py)."""
    import numpy as np
    import torch

    import cnnlab

    print(f"cnnlab {cnnlab.__version__}, numpy {np.__version__}, torch {torch.__version__}; float32; "
          f"threads: numpy BLAS {os.environ['OPENBLAS_NUM_THREADS']} (OPENBLAS_NUM_THREADS), "
          f"torch {torch.get_num_threads()} (set_num_threads); median of {repeat} runs")
    header = ("case", "cnnlab", "peer", "ratio", "target", "")
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
