"""Benchmark: ``cnnlab.nn.fit`` against a bare hand-written PyTorch loop, and seed 003's experiment.

Run:  .venv/bin/python bench/training.py [--repeat R] [--epochs E] [--threads T]

1. Overhead of ``fit``: the same model (model2), data (the shipped subset's 4,000
   training digits), batches, optimiser (Adam 0.005, batch 1,000) and epochs, trained
   by a bare loop and by ``fit`` (no validation, no progress bar; then with the
   progress bar; then with fit's default channels-last memory format on CPU). The
   runs alternate and the medians are compared: goal fit / bare <= 1.10.
2. Seed 003's experiment on the shipped subset (4,000 train / 1,000 validation,
   stratified, seed 0): model2 with Adam lr 0.005 and batch 1,000 (the seed's recipe),
   trained until it first reaches 95 % validation accuracy; the wall time to that
   epoch is the figure (goal: within 30 s on 2 CPU cores). The same for batch 100.

The machine's load average is printed: on a shared machine the absolute times move with
the load, the ratios much less.
"""
from __future__ import annotations

import io
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import parse_args, use_checkout  # noqa: E402

use_checkout()


def bare_loop(model, x, y, *, epochs, lr, batch_size, seed):
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=gen)
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return model


def main():
    args = parse_args(__doc__, {
        "--repeat": (5, 1, "timed runs per variant (default 5)"),
        "--epochs": (3, 1, "epochs per overhead run (default 3)"),
        "--threads": (2, 1, "torch CPU threads (default 2)"),
        "--max-epochs": (40, 1, "cap for the seed experiment (default 40)"),
    })
    import torch

    from cnnlab.nn import fit, load_mnist_split, model2, set_seed, to_tensors

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    split = load_mnist_split(source="subset", seed=0)
    print(split.describe())
    x, y = to_tensors(*split.train)
    common = dict(epochs=args.epochs, lr=0.005, batch_size=1000, seed=0)

    def run_bare():
        set_seed(0)
        bare_loop(model2(), x, y, **common)

    def run_fit(progress=False, channels_last=False):
        set_seed(0)
        stderr = sys.stderr
        sys.stderr = io.StringIO()          # the bar is drawn, into a buffer
        try:
            fit(model2(), (x, y), progress=progress, channels_last=channels_last, **common)
        finally:
            sys.stderr = stderr

    variants = {
        "bare loop": run_bare,
        "fit": run_fit,
        "fit + progress bar": lambda: run_fit(progress=True),
        "fit, channels-last (CPU default)": lambda: run_fit(progress=True, channels_last=True),
    }
    for fn in variants.values():      # warm-up
        fn()
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    names = list(variants)
    for rep in range(args.repeat):
        for name in (names if rep % 2 == 0 else names[::-1]):   # alternate the order
            start, start_cpu = time.perf_counter(), time.process_time()
            variants[name]()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    base, base_cpu = statistics.median(wall["bare loop"]), statistics.median(cpu["bare loop"])
    print(f"\n1. fit vs a bare loop: model2, {len(y):,} images, {args.epochs} epochs, batch 1,000 "
          f"(median of {args.repeat}; CPU = this process's CPU time, the steadier figure on a shared machine)")
    print(f"{'variant':36s} {'wall s':>8s} {'ratio':>6s} {'CPU s':>8s} {'ratio':>6s}")
    for name in variants:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"{name:36s} {w:8.3f} {w / base:6.3f} {c:8.3f} {c / base_cpu:6.3f}")
    print("goal: fit / bare <= 1.10")

    print(f"\n2. seed 003's experiment: model2 on the subset split, Adam lr 0.005, up to {args.max_epochs} epochs")
    print(f"{'recipe':28s} {'first >= 95%':>13s} {'time to 95%':>12s} {'best acc':>9s} {'total s':>8s}")
    for batch_size in (1000, 100):
        set_seed(0)
        model = model2()
        h = fit(model, split.train, split.val, epochs=args.max_epochs if batch_size == 1000 else 10, lr=0.005,
                batch_size=batch_size, seed=0, progress=False)
        first = next((i for i, a in enumerate(h.val_accuracy) if a >= 0.95), None)
        label = f"Adam 0.005, batch {batch_size:,}" + (" (seed)" if batch_size == 1000 else "")
        hit = f"epoch {first + 1}" if first is not None else "never"
        t95 = f"{h.time_s[first]:.1f} s" if first is not None else "-"
        print(f"{label:28s} {hit:>13s} {t95:>12s} {h.best_val_accuracy:9.3f} {h.time_s[-1]:8.1f}")
    print("goal: >= 95% within 30 s on 2 CPU cores")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
