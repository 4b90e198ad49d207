"""Benchmark: in-kernel time from a control change to a finished redraw, per explorer.

Run:  .venv/bin/python bench/widgets.py [--repeat R] [--only NAME ...]

Every ``Explorer`` subclass in the modules of ``cnnlab.widgets`` is found automatically
(adding a module with an explorer is enough). Each explorer is built by its entry in
``INSTANCES`` below (those that need a model or data) or as ``cls()``; then every one of
its controls is moved back and forth between two valid values ``R`` times.
Setting ``control.value`` runs the whole update synchronously (compute, matplotlib draw,
PNG encoding, HTML readouts), so the wall time of the assignment is the in-kernel
latency a student waits for before the browser can show the new figure.

Printed per explorer: the median over all changes, the slowest control's median, and the
ratio of the median to the 100 ms goal (issue 4). On a shared machine the absolute
figures move with the load, so a reference is timed in the same run: rendering a
one-line matplotlib figure of the same size to PNG (the least any redraw costs); the
last column is each explorer's median in units of that reference.

The training explorer (lesson 08) trains when it meets a setting for the first time, so it
is timed on its own, in the same columns: the first run of a new setting (goal 5 s) and
going back to a setting seen before, redrawn from the in-memory cache (goal 100 ms).
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import statistics
import sys
import time
import warnings

GOAL_S = 0.100
FIRST_RUN_GOAL_S = 5.0      # TrainingExplorer: a setting never seen before trains


def _digits():
    """An (untrained) model2 and every 25th of the shipped MNIST digits (200)."""
    from cnnlab.nn import load_subset, model2

    digits = load_subset()
    return model2(), digits.images[::25], digits.labels[::25]


def _detection(cls):
    """An untrained localisation net over an 80×80 scene of four canvases."""
    import torch

    from cnnlab.nn import localisation_net, tile_canvases
    from cnnlab.widgets.localisation import default_canvases

    torch.manual_seed(0)
    scene, boxes, _ = tile_canvases(default_canvases(8), [0, 1, 2, 3], 2)
    return cls(localisation_net(40, width=4), scene, window=40, stride=8, true_boxes=boxes, threshold=0.3)


#: how to build the explorers that cannot be built as ``cls()``: class name -> factory(cls)
INSTANCES = {
    "FeatureMapExplorer": lambda cls: cls(*_digits()),
    "AttributionExplorer": lambda cls: cls(*_digits()),
    "FGSMExplorer": lambda cls: cls(*_digits()),
    "DetectionExplorer": _detection,
}


def build(cls):
    """The instance of ``cls`` this benchmark times."""
    return INSTANCES.get(cls.__name__, lambda c: c())(cls)


def _parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="changes per control and direction (default 5)")
    parser.add_argument("--only", nargs="*", default=None, help="explorer class names to run")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be positive")
    return args


def discover():
    """Import every module of cnnlab.widgets and return the Explorer subclasses, by name."""
    import cnnlab.widgets as pkg
    from cnnlab.widgets import Explorer

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    found, todo = {}, list(Explorer.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("cnnlab.widgets"):
            found[cls.__name__] = cls
    return dict(sorted(found.items()))


def other_value(control):
    """A valid value different from the current one, or None when the control cannot be moved."""
    import ipywidgets as w

    v = control.value
    if isinstance(control, (w.IntSlider, w.FloatSlider, w.BoundedIntText, w.BoundedFloatText)):
        step = control.step or 1
        up = v + step
        return up if up <= control.max else (v - step if v - step >= control.min else None)
    if isinstance(control, (w.Dropdown, w.ToggleButtons, w.RadioButtons, w.Select)):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        others = [o for o in values if o != v]
        return others[0] if others else None
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return not v
    if isinstance(control, (w.FloatText, w.IntText)):
        return v + 1
    return None  # free text: leave it alone


def bench_explorer(cls, repeat):
    """Per-control lists of update times (s) for one explorer."""
    ex = build(cls)
    times = {}
    for control in ex.controls:
        label = getattr(control, "description", "") or type(control).__name__
        samples = []
        for _ in range(repeat):
            for _direction in range(2):
                new = other_value(control)
                if new is None:
                    break
                start = time.perf_counter()
                control.value = new
                samples.append(time.perf_counter() - start)
        if samples:
            times[label] = samples
    return times


def bench_training(cls, repeat):
    """TrainingExplorer: times of ``repeat`` first runs (new settings) and ``2·repeat`` cached redraws."""
    ex = build(cls)               # the default explorer: a control change may train (goal 5 s)
    moves = [(ex.batch_norm, True), (ex.dropout, 0.5), (ex.dropout_where, "conv"), (ex.batch_norm, False),
             (ex.batch_size, 100), (ex.model, "model1"), (ex.dropout_where, "dense"), (ex.optimizer, "sgd")]
    first, cached = [], []
    for control, value in moves[:repeat]:
        before = control.value
        start = time.perf_counter()
        control.value = value
        first.append(time.perf_counter() - start)
        assert ex.error is None and not ex.result.cached, (control.description, ex.error)
        for v in (before, value):
            start = time.perf_counter()
            control.value = v
            cached.append(time.perf_counter() - start)
            assert ex.result.cached
    return first, cached


#: explorers timed on their own, not control by control: class name -> timing function
SEPARATELY = {"TrainingExplorer": bench_training}


def reference_s(repeat=15):
    """Median time to render a minimal 9 x 4 inch figure (one axes, one line) to PNG, at the
    explorers' dpi."""
    import io

    from matplotlib.figure import Figure

    from cnnlab.widgets import Explorer

    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fig = Figure(figsize=(9, 4), dpi=Explorer.dpi)
        fig.add_subplot().plot([0, 1, 2], [0, 1, 0])
        fig.savefig(io.BytesIO(), format="png")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.filterwarnings("ignore")
    args = _parse()
    classes = discover()
    if args.only:
        missing = set(args.only) - set(classes)
        if missing:
            sys.exit(f"unknown explorer(s): {', '.join(sorted(missing))}; known: {', '.join(classes)}")
        classes = {k: v for k, v in classes.items() if k in args.only}
    ref = reference_s()
    print(f"control change -> redraw, in-kernel (median of {2 * args.repeat} changes per control); "
          f"goal {GOAL_S * 1000:.0f} ms; reference (minimal figure to PNG) {ref * 1000:.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'explorer':32s} {'median ms':>9s} {'slowest control (median ms)':>40s} {'ratio to goal':>13s} "
          f"{'x reference':>11s}")
    worst = 0.0
    for name, cls in classes.items():
        if name in SEPARATELY:
            continue
        try:
            times = bench_explorer(cls, args.repeat)
        except Exception as exc:  # report and go on: one broken explorer must not hide the rest
            print(f"{name:32s} FAILED: {type(exc).__name__}: {exc}")
            continue
        if not times:
            print(f"{name:32s} no movable controls")
            continue
        flat = [t for ts in times.values() for t in ts]
        med = statistics.median(flat)
        slow_label, slow = max(((k, statistics.median(v)) for k, v in times.items()), key=lambda kv: kv[1])
        worst = max(worst, med)
        print(f"{name:32s} {med * 1000:9.1f} {slow_label[:28]:>30s} ({slow * 1000:6.1f}) {med / GOAL_S:13.2f} "
              f"{med / ref:11.1f}")
    for name, cls in classes.items():
        if name not in SEPARATELY:
            continue
        first, cached = SEPARATELY[name](cls, args.repeat)
        for label, times, goal in ((f"{name} (first run)", first, FIRST_RUN_GOAL_S),
                                   (f"{name} (cached)", cached, GOAL_S)):
            med = statistics.median(times)
            print(f"{label:32s} {med * 1000:9.1f} {'max':>30s} ({max(times) * 1000:6.1f}) {med / goal:13.2f} "
                  f"{med / ref:11.1f}")
            if goal == GOAL_S:
                worst = max(worst, med)
    print(f"worst explorer median / goal: {worst / GOAL_S:.2f}")


if __name__ == "__main__":
    main()
