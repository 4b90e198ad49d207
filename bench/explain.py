"""Benchmark: cnnlab.nn's saliency, Grad-CAM and FGSM against captum's, on seed 003's model2.

Run:  .venv/bin/python bench/explain.py [--batch N] [--repeat R] [--threads T]

Both sides compute the same numbers (tests/test_attribution.py checks the parity); this
prints the median wall time of each over R runs and the ratio cnnlab / captum (below 1:
cnnlab is faster). Also the lesson-09 searches that have no captum counterpart
(top-activating patches over 1,000 digits, nearest neighbours of 1,000 queries among
4,000) as absolute medians. The model is untrained: the cost does not depend on weights.
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

warnings.filterwarnings("ignore")


def median_s(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    import cnnlab.nn as cnn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = cnn.model2().eval()
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))
    print(f"model2, batch {args.batch}, {args.threads} torch thread(s), median of {args.repeat}")
    print(f"{'method':28s} {'cnnlab ms':>10s} {'captum ms':>10s} {'ratio':>7s}")
    try:
        from captum.attr import LayerAttribution, LayerGradCam, Saliency
        from captum.robust import FGSM
    except ImportError:
        Saliency = None
        print("(captum not installed: cnnlab times only)")

    rows = [("saliency", lambda: cnn.saliency(model, x, y),
             Saliency and (lambda: Saliency(model).attribute(x, target=y))),
            ("Grad-CAM (layer 3, bilinear)", lambda: cnn.grad_cam(model, x, y, "3"),
             Saliency and (lambda: LayerAttribution.interpolate(
                 LayerGradCam(model, model[3]).attribute(x, target=y, relu_attributions=True), (28, 28), "bilinear"))),
            ("FGSM (eps 0.1)", lambda: cnn.fgsm(model, x, y, 0.1),
             Saliency and (lambda: FGSM(model, lambda out, t: F.cross_entropy(out, t, reduction="none"),
                                        lower_bound=0.0, upper_bound=1.0).perturb(x, 0.1, y)))]
    for name, ours, theirs in rows:
        a = median_s(ours, args.repeat)
        if theirs:
            b = median_s(theirs, args.repeat)
            print(f"{name:28s} {a * 1e3:10.2f} {b * 1e3:10.2f} {a / b:7.2f}")
        else:
            print(f"{name:28s} {a * 1e3:10.2f}")

    digits = cnn.load_subset()
    bank = torch.from_numpy(digits.images[:4000]).float().div(255).reshape(4000, 1, 28, 28)
    queries = torch.from_numpy(digits.images[4000:]).float().div(255).reshape(1000, 1, 28, 28)
    t = median_s(lambda: cnn.top_activating_patches(model, queries, "4", 3, k=9), args.repeat)
    print(f"{'top_activating_patches 1k':28s} {t * 1e3:10.2f}")
    t = median_s(lambda: cnn.nearest_neighbours(queries.flatten(1), bank.flatten(1), 5), args.repeat)
    print(f"{'nearest_neighbours 1k x 4k':28s} {t * 1e3:10.2f}")


if __name__ == "__main__":
    main()
