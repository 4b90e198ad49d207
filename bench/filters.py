"""Benchmark: learning first-layer filters from the shipped photographs, and fitting Gabors to them.

Run:  .venv/bin/python bench/filters.py [--repeat R] [--size K] [--filters F]

1. ``cnnlab.natural.learn_filters(load_photos(), size=K, n_filters=F, rng=seed)`` (ICA on
   20,000 patches), timed R times with different seeds: goal <= 30 s on 2 CPU cores.
   The same with numpy's plain products instead of cnnlab's small blocks, to show what
   the blocking buys on a shared machine (OpenBLAS threads spinning between products).
2. ``cnnlab.gabor_fit.fit_gabors`` on the learned filters, timed; the median correlation
   of the fits, next to that of 16 random filters (the negative control, as lesson 04).
3. The three together (learn, fit, random control), as lesson 04 runs them.

Medians are printed; the machine's load average too, since on a shared machine the
absolute times move with the load (the ratios much less).
"""
from __future__ import annotations

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import parse_args, timed, use_checkout  # noqa: E402

use_checkout()


def main():
    args = parse_args(__doc__, {
        "--repeat": (5, 1, "timed runs per variant (default 5)"),
        "--size": (8, 2, "filter side (default 8, as lesson 04)"),
        "--filters": (32, 1, "number of filters (default 32, as lesson 04)"),
    })
    import numpy as np

    from cnnlab import natural
    from cnnlab.gabor_fit import fit_gabors

    photos = natural.load_photos()
    k, n = args.size, args.filters
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {args.repeat} runs each")

    learn, plain, fit, rand = [], [], [], []
    scores, random_scores = [], []
    blocked, gram = natural._blocked, natural._blocked_gram
    for seed in range(args.repeat):
        t, filters = timed(lambda: natural.learn_filters(photos, size=k, n_filters=n, rng=seed))
        learn.append(t)
        natural._blocked, natural._blocked_gram = (lambda a, b: a @ b), (lambda a, b: a.T @ b)
        try:
            plain.append(timed(lambda: natural.learn_filters(photos, size=k, n_filters=n, rng=seed))[0])
        finally:
            natural._blocked, natural._blocked_gram = blocked, gram
        t, fits = timed(lambda: fit_gabors(filters))
        fit.append(t)
        scores.append(float(np.median([f.correlation for f in fits])))
        noise = np.random.default_rng(seed).normal(size=(16, k, k))
        t, fits = timed(lambda: fit_gabors(noise))
        rand.append(t)
        random_scores.append(float(np.median([f.correlation for f in fits])))

    med = statistics.median
    print(f"learn_filters ICA {k}x{k}, {n} filters, 20,000 patches: median {med(learn):.2f} s "
          f"(min {min(learn):.2f}, max {max(learn):.2f}); goal <= 30 s")
    print(f"  with numpy's plain products instead:       median {med(plain):.2f} s; "
          f"plain / blocked = {med(plain) / med(learn):.1f}x")
    print(f"fit_gabors on the {n} learned filters:        median {med(fit):.2f} s "
          f"({1000 * med(fit) / n:.0f} ms a filter)")
    print(f"fit_gabors on 16 random filters:             median {med(rand):.2f} s")
    print(f"median Gabor-fit correlation: learned {med(scores):.3f} (per seed: "
          f"{', '.join(f'{s:.3f}' for s in scores)}), random {med(random_scores):.3f}")
    total = [a + b + c for a, b, c in zip(learn, fit, rand)]
    print(f"learn + fit + random control (as lesson 04): median {med(total):.2f} s")


if __name__ == "__main__":
    main()
