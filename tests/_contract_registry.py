"""The registry of cnnlab's public callables, each with one small valid call.

Used by ``tests/test_contract.py`` (hypothesis corrupts one argument at a time) and by
``tests/fuzz_contract.py`` (counts the outcomes of every corruption). The contract itself
is written at the top of ``cnnlab/_validate.py``.

Adding an entry (when a new public function or class appears)
--------------------------------------------------------------
In :func:`build`, add ONE line with a small, fast, valid call::

    add(cnnlab.conv_transpose2d, X4, W4, stride=2)

Arguments given there are the ones the fuzzers corrupt; parameters left at their
defaults are corrupted too (keyword-only ones by name). List callbacks and arguments that
are not data in ``fixed=`` (``fixed=("progress",)``); pass ``fresh=lambda: (args...)`` when
the call changes its arguments (training a model) so that every call starts afresh. Result
records (dataclasses and NamedTuples, with no validation of their own) need no entry: :func:`public_callables` skips them.
``test_every_public_callable_is_registered`` fails, naming the missing key, until the
entry exists.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field

import numpy as np

#: packages whose public callables keep the contract (course/ has its own tests)
PACKAGES = ("cnnlab", "cnnlab.viz", "cnnlab.widgets", "cnnlab.nn")
#: not fuzzed: the abstract explorer base, and use_course_style, which takes no argument
#: (nothing to corrupt) and sets matplotlib's global rcParams (its doctest checks it)
SKIP = {"cnnlab.widgets._base.Explorer", "cnnlab.viz._style.use_course_style"}


@dataclass
class Case:
    """One valid call: ``fn(*args, **kwargs)``; ``fixed`` names arguments not to corrupt."""

    fn: object
    args: tuple
    kwargs: dict
    fixed: tuple = ()
    slow: bool = False
    fresh: object = None   # () -> args: rebuilt for every call (a model that training changes)
    key: str = field(init=False)

    def __post_init__(self):
        self.key = key(self.fn)

    def signature(self):
        return inspect.signature(self.fn)

    def bound(self):
        """name -> value for every parameter (defaults included), except *args/**kwargs."""
        sig = self.signature()
        b = sig.bind(*self.args, **self.kwargs)
        b.apply_defaults()
        out = {}
        for name, p in sig.parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in self.fixed:
                continue
            out[name] = b.arguments[name]
        return out

    def call_with(self, name, value):
        """Call with parameter ``name`` replaced by ``value`` (by keyword when possible)."""
        sig = self.signature()
        b = sig.bind(*self._args(), **_fresh(self.kwargs))
        b.arguments[name] = value
        return self.fn(*b.args, **b.kwargs)

    def call(self):
        return self.fn(*self._args(), **_fresh(self.kwargs))

    def _args(self):
        return self.args if self.fresh is None else self.fresh()


def _fresh(kwargs):
    """A new Axes for every call, so one plot cannot disturb the next."""
    if "ax" in kwargs and kwargs["ax"] is not None:
        from matplotlib.figure import Figure
        kwargs = dict(kwargs, ax=Figure().subplots())
    return kwargs


def key(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _modules():
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        yield mod
        if hasattr(mod, "__path__"):
            for info in pkgutil.iter_modules(mod.__path__):
                if info.name.startswith("_") or info.ispkg:
                    continue
                yield importlib.import_module(f"{pkg}.{info.name}")


def public_callables() -> dict:
    """key -> object for every callable named in a module's ``__all__`` (or, for a package
    without ``__all__``, its public non-module names), dataclass records excluded."""
    found = {}
    for mod in _modules():
        names = getattr(mod, "__all__", None)
        if names is None:
            names = [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name, None)
            if obj is None or inspect.ismodule(obj) or not callable(obj):
                continue
            if not (getattr(obj, "__module__", "") or "").startswith("cnnlab"):
                continue
            if inspect.isclass(obj) and (dataclasses.is_dataclass(obj) or hasattr(obj, "_fields")):
                continue  # a result record (dataclass or NamedTuple)
            k = key(obj)
            if k.startswith("cnnlab.course") or k in SKIP:
                continue
            found[k] = obj
    return found


_CACHE = {}


def build() -> dict:
    """key -> Case for every registered callable (built once, torch included)."""
    if _CACHE:
        return _CACHE
    import os
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch
    from matplotlib.figure import Figure

    import cnnlab
    from cnnlab import audio, geometry, kernels, systems, viz, widgets, nn as _unused  # noqa: F401
    from cnnlab import nn as cnn
    from cnnlab.nn import architectures, data as nndata, models
    from cnnlab.widgets import conv as wconv, cost as wcost, images as wimg, pooling as wpool
    from cnnlab.widgets import receptive as wrec, signals as wsig, systems as wsys, _torchcode as wtc

    reg = {}

    def add(fn, *args, fixed=(), slow=False, fresh=None, **kwargs):
        c = Case(fn, args, kwargs, fixed=fixed, slow=slow, fresh=fresh)
        reg[c.key] = c

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x1 = np.arange(1.0, 8.0)
    X3 = rng.normal(size=(1, 2, 8))
    W3 = rng.normal(size=(3, 2, 3))
    X4 = rng.normal(size=(1, 2, 6, 6))
    W4 = rng.normal(size=(3, 2, 3, 3))
    img = rng.random((8, 8))
    ax = Figure().subplots()

    # ---------------------------------------------------------------- numeric core
    add(cnnlab.convolve, x1, [1.0, 2.0], mode="full")
    add(cnnlab.correlate, x1, [1.0, 2.0], mode="valid")
    add(cnnlab.poly_multiply, [1, 2], [1, 3])
    add(cnnlab.conv_matrix, [1.0, 2.0, 3.0], 5, mode="full")
    add(cnnlab.conv2d_matrix, np.ones((1, 1, 2, 2)), (1, 4, 4), stride=1, padding=0, dilation=1)
    add(cnnlab.conv1d, X3, W3, np.zeros(3), stride=1, padding=1, dilation=1, groups=1)
    add(cnnlab.conv2d, X4, W4, np.zeros(3), stride=1, padding=1, dilation=1, groups=1)
    add(cnnlab.max_pool1d, X3, 2, stride=2, padding=1, dilation=1)
    add(cnnlab.max_pool2d, X4, 2, stride=2, padding=1, dilation=1)
    add(cnnlab.avg_pool1d, X3, 2, stride=2, padding=1)
    add(cnnlab.avg_pool2d, X4, 2, stride=2, padding=1)
    add(cnnlab.conv_output_size, 32, 3, 1, 1, 1)
    add(cnnlab.same_padding, 32, 3, 1, 1)
    add(cnnlab.resolve_padding, "same", (6, 6), 3, 1, 1, modes=("valid", "same", "full"), same="torch")
    add(cnnlab.receptive_field, [(3, 1), (2, 2)])
    add(cnnlab.pmf_of_sum, {1: 0.5, 2: 0.5}, {1: 0.5, 2: 0.5})
    add(cnnlab.pmf_of_sum_n, {1: 0.5, 2: 0.5}, 3)
    add(cnnlab.uniform_pmf, [1, 2, 3])
    for edge in (kernels.prewitt, kernels.sobel, kernels.scharr):
        add(edge, "vertical")
    add(kernels.gabor, 5, 0.0, 1.0, 0.0, 0.1, 0.1, 1.0)
    add(kernels.box, 3, 2)
    add(kernels.gaussian, 5, 1.0, 2)
    add(audio.tone, 0.01, 8000, 440.0, amplitude=1.0, phase=0.0)
    add(audio.noisy_tone, 0.01, 8000, 220.0, noise=0.5, amplitude=0.5, seed=0)
    add(audio.moving_average, rng.normal(size=50), 3, "same")
    add(audio.spectrum_db, np.sin(np.arange(256.0)), 8000, 64)
    add(audio.frequency_response_db, [1 / 3] * 3, 8000, 64)
    add(audio.snr_db, np.sin(np.arange(50.0)), np.sin(np.arange(50.0)) + 0.1)
    add(audio.to_wav_bytes, np.sin(np.arange(50.0)), 8000, normalize=True)
    add(systems.System, lambda x: 2 * np.asarray(x), "double", "doubles", fixed=("func",))
    add(systems.echo, 4, 0.6)
    add(systems.lowpass, 0.3)
    add(systems.moving_average_system, 3)
    add(systems.squarer)
    add(systems.modulator, 8)
    add(systems.clipper, 1.0)
    add(systems.offset, 1.0)
    add(systems.black_boxes)
    add(systems.unit_impulse, 5, 1)
    add(systems.delay, x1, 2)
    add(systems.impulse_response, systems.echo(), 8)
    add(systems.respond_by_convolution, [1.0, 0.5], x1)
    add(systems.check_linearity, systems.echo(), 16, trials=2, seed=0, tol=1e-9)
    add(systems.check_time_invariance, systems.echo(), 16, shifts=(1, 3), trials=2, seed=0, tol=1e-9)
    add(systems.check_lti, systems.echo(), 16, trials=2, seed=0, tol=1e-9)
    add(geometry.translate, img, 1, -1)
    add(systems.equivariance_error, lambda a: a * 2, img, 1, 1, border=1, fixed=("op",))

    # ---------------------------------------------------------------- viz
    geom = viz.conv_geometry(x1, [1.0, 0.0, -1.0], stride=1, padding=1, dilation=1)
    geom2 = viz.conv_geometry(img[:5, :5], np.ones((2, 2)), stride=1, padding=1)
    hist = cnn.History(epoch=[1, 2], loss=[1.0, 0.5], accuracy=[0.5, 0.7], val_loss=[1.1, 0.6],
                       val_accuracy=[0.4, 0.6], time_s=[0.1, 0.1])
    add(geometry.conv_geometry, x1, [1.0, 0.0, -1.0], stride=1, padding=1, dilation=1, operation="correlation")
    add(viz.plot_conv_tape, geom, 0, ax=ax, reveal="all", kernel_symbol="w", title="t")
    add(viz.plot_conv_input, geom2, 0, ax=ax, annotate=True, title="t")
    add(viz.plot_conv_output, geom2, 0, ax=ax, annotate=True, title="t")
    add(viz.sample_photo, downsample=8, gray=True)
    add(viz.show_image, img, ax=ax, title="t", cmap="gray", vmin=0.0, vmax=1.0)
    add(viz.show_feature_map, img - 0.5, ax=ax, title="t", signed=True, percentile=99.0)
    add(viz.plot_kernel, kernels.sobel(), ax=ax, title="t", annotate=True, fontsize=8)
    add(viz.plot_matrix, np.eye(3), ax=ax, highlight_rows=(0,), highlight_cols=(1,), cmap="RdBu_r", title="t")
    add(viz.toeplitz_labels, "x", 3, 5, "full")
    add(viz.plot_signal, x1, ax=ax, label="x", title="t", highlight=[1], stem=True)
    add(viz.plot_waveform, np.sin(np.arange(80.0)), 8000, ax=ax, start=0.0, duration=0.005)
    add(viz.plot_spectrum, np.sin(np.arange(256.0)), 8000, ax=ax, nperseg=64)
    add(viz.plot_frequency_response, [1 / 3] * 3, 8000, ax=ax, n_fft=64, offset_db=0.0)
    add(viz.plot_pmf, {1: 0.5, 2: 0.5}, ax=ax, title="t", width=0.8, alpha=0.85)
    add(viz.image_grid, rng.random((4, 5, 5)), 2, pad=1, normalize="each")
    add(viz.show_grid, rng.random((4, 5, 5)), ncols=2, labels=list("abcd"), normalize="each", cmap="gray",
        pad=1, ax=ax, title="t", fontsize=7)
    add(viz.show_heatmap, img, img, ax=ax, alpha=0.5, cmap="jet", title="t")
    add(viz.blend_heatmap, img, img, alpha=0.5, cmap="jet")
    add(viz.plot_accuracy_vs_epsilon, [0.0, 0.1], [0.9, 0.5], ax=ax, label="a", chance=0.1)
    add(viz.show_boxes, img, [[1.0, 1.0, 4.0, 4.0]], labels=["a"], ax=ax, title="t")
    add(viz.fmt, 0.5, max_denominator=12, digits=3)
    add(viz.plot_history, hist, "val_accuracy", ax=ax, title="t", target=0.5)
    add(viz.plot_confusion_matrix, np.eye(3, dtype=int), ax=ax, normalize=False, class_names=list("abc"))
    add(viz.plot_misclassified, rng.random((4, 28, 28)), [0, 1, 2, 3], [1, 1, 0, 3], n=4, ncols=2, ax=ax)

    # ---------------------------------------------------------------- nn
    net = cnn.model2()
    xs = torch.rand(2, 1, 28, 28)
    ys = torch.tensor([3, 7])
    loc_x = torch.rand(4, 1, 32, 32)
    loc_y = torch.tensor([[1, .5, .5, .4, .4, 1, 0], [0, 0, 0, 0, 0, 0, 0],
                          [1, .4, .6, .3, .5, 0, 1], [1, .5, .5, .5, .5, 1, 0]], dtype=torch.float32)
    digits = np.zeros((4, 28, 28), np.uint8)
    digits[:, 8:20, 10:18] = 255
    lnet = cnn.localisation_net(32, width=4)
    add(cnn.default_cache_dir)
    add(cnn.load_subset)
    add(cnn.load_mnist, "test", source="subset")
    add(cnn.load_mnist_split, 50, 20, source="subset", seed=0, slow=True)
    add(cnn.read_idx, os.path.join(os.path.dirname(cnn.__file__), "mnist5k-labels-idx1-ubyte.gz"))
    add(cnn.write_idx, os.devnull, np.arange(3, dtype=np.uint8), fixed=("path",))  # hostile paths would write files
    import hashlib
    import tempfile
    cache = tempfile.mkdtemp(prefix="cnnlab-contract-")
    sums = {}
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        with open(os.path.join(cache, name), "wb") as f:
            f.write(name.encode())
        sums[name] = hashlib.sha256(name.encode()).hexdigest()
    add(cnn.download_mnist, cache, splits=("train",), mirrors=("file:///nonexistent/",), checksums=sums,
        timeout=1.0, fixed=("cache_dir", "mirrors", "checksums"))
    add(cnn.stratified_split, np.arange(40) % 4, train_size=8, val_size=4, seed=0)
    add(architectures.InceptionModule, 8, 2, 2, 2, 2, 2, 2, reduce=True)
    add(architectures.ResidualBlock, 4, 8, 2)
    add(cnn.alexnet, 10, groups=1, slow=True)
    add(cnn.count_parameters, net, False)
    add(cnn.inception_module, 8, 2, 2, 2, 2, 2, 2, reduce=True, input_size=8)
    add(cnn.keras_example, 1)
    add(cnn.lenet5, 1, 2, 4, 10)
    add(cnn.model1)
    add(cnn.model2)
    add(cnn.no_max_pool, False)
    add(cnn.with_max_pool, False)
    add(cnn.residual_block, 4, 8, 2, input_size=8)
    add(cnn.vgg, [4, "M"], num_classes=10, in_channels=1, input_size=8)
    add(cnn.vgg16, 10, slow=True)
    add(cnn.vgg19, 10, slow=True)
    add(cnn.lenet5_table)
    add(cnn.summary, net, (1, 28, 28), style="torch", activations=True)
    add(cnn.confusion_matrix, [0, 1, 2], [0, 2, 2], 3)
    add(cnn.default_device)
    add(cnn.evaluate, net, (xs, ys), batch_size=2, device="cpu", loss="cross_entropy")
    add(cnn.fit, cnn.model2(), (xs, ys), (xs, ys), fresh=lambda: (cnn.model2(), (xs, ys), (xs, ys)),
        epochs=1, lr=0.005, batch_size=2, optimizer="adam", loss="cross_entropy", weight_decay=0.0, device="cpu",
        seed=0, shuffle=True, progress=False, fixed=("desc", "channels_last"))
    add(cnn.predict, net, xs, batch_size=2, device="cpu")
    add(cnn.predict_proba, net, xs, batch_size=2, device="cpu")
    add(cnn.set_seed, 0)
    add(cnn.to_tensors, np.zeros((2, 28, 28), np.uint8), [3, 4])
    add(cnn.activations, net, xs, ["0", "3"])
    add(cnn.conv_filters, net, "0")
    add(cnn.layer_features, net, xs, "3", batch_size=2)
    add(cnn.layer_receptive_field, net, "3", (1, 28, 28))
    add(cnn.match_filters, rng.normal(size=(2, 1, 5, 5)), rng.normal(size=(4, 5, 5)))
    add(cnn.record_activations, net, ["0"], detach=True)
    add(cnn.top_activating_patches, net, xs, "3", 0, k=2, batch_size=2)
    feats = rng.normal(size=(12, 4))
    labs = np.arange(12) % 3
    add(cnn.nearest_neighbours, feats[:3], feats, 2, exclude_self=False, chunk=4)
    add(cnn.neighbour_label_agreement, feats, labs, 2)
    add(cnn.one_shot_accuracy, feats, labs, None, episodes=5, queries=1, seed=0)
    add(cnn.saliency, net, xs, 3, abs=True)
    add(cnn.grad_cam, net, xs, 3, "3", relu=True, upsample="bilinear")
    add(cnn.fgsm, net, xs, ys, 0.1, clip=(0.0, 1.0), targeted=False, fixed=("loss",))
    add(cnn.fgsm_accuracy, net, xs, ys, [0.0, 0.1], clip=(0.0, 1.0), batch_size=2)
    add(cnn.fgsm_min_epsilon, net, xs, ys, [0.0, 0.1], clip=(0.0, 1.0), batch_size=2)
    add(cnn.deepdream, net, xs[:1], "3", steps=2, step_size=0.02, channel=0, jitter=1, seed=0)
    add(cnn.gaussian_blur, xs, 1.0)
    add(cnn.maximise_activation, net, 3, shape=(1, 28, 28), steps=2, lr=0.05, l2=0.03, jitter=1, blur_every=1,
        blur_sigma=1.0, seed=0)
    add(cnn.LocalisationHead)
    add(cnn.box_iou, loc_y[:2, 1:5], loc_y[2:, 1:5])
    add(cnn.boxes_to_corners, loc_y[:, 1:5], 32.0)
    add(cnn.decode_localisation, loc_y, threshold=0.5)
    add(cnn.evaluate_localisation, lnet, loc_x, loc_y, threshold=0.5, batch_size=2)
    add(cnn.localisation_loss, loc_y, loc_y, reduction="mean")
    add(cnn.localisation_net, 32, width=4)
    add(cnn.make_localisation_data, digits, [3, 7, 3, 7], (3, 7), 4, canvas=32, size_range=(16, 28),
        p_empty=0.25, seed=0)
    add(cnn.fit_localisation, cnn.localisation_net(32, width=4), (loc_x, loc_y), (loc_x, loc_y),
        fresh=lambda: (cnn.localisation_net(32, width=4), (loc_x, loc_y), (loc_x, loc_y)),
        epochs=1, lr=0.004, batch_size=2, seed=0)
    scene_net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.Flatten(), torch.nn.LazyLinear(7),
                                    cnn.LocalisationHead())
    scene_net(torch.rand(1, 1, 8, 8))
    add(cnn.non_max_suppression, loc_y[:, 1:5], torch.tensor([.9, .8, .7, .6]), 0.5)
    add(cnn.sliding_window_detect, scene_net, torch.rand(1, 16, 16), window=8, stride=4, threshold=0.5,
        iou_threshold=0.3)
    add(cnn.tile_canvases, cnn.LocalisationData(loc_x, loc_y, None, (3, 7)), [0, 1], 2)
    add(cnn.match_detections, loc_y[:2, 1:5], loc_y[:2, 1:5], 0.5)

    # ---------------------------------------------------------------- widgets
    add(wconv.ConvExplorer, 1, torch=False)
    add(wtc.torch_code, geom, "symmetric")
    add(wtc.torch_check, geom, "symmetric")
    add(widgets.FlipShiftAddExplorer, "1 2 3", "1/3 1/3 1/3")
    add(widgets.MovingAverageExplorer, 0.1, seed=0)
    add(wsig.parse_numbers, "1/3, 2 -0.5", "x")
    add(widgets.LTIExplorer)
    add(wsys.input_signal, "pulse", 16, 0)
    add(widgets.DiceExplorer)
    add(widgets.KernelPlayground, img, preset="Sobel vertical")
    add(widgets.GaborExplorer, img)
    add(widgets.EquivarianceExplorer, img)
    add(wimg.filter_image, img, kernels.sobel())
    add(widgets.Quiz, "2 + 2?", 4, hint="h", explanation="e", tol=1e-6)
    add(widgets.try_function, np.flip, np.flip, [(np.arange(3),)], name="flip", rtol=1e-7, atol=1e-9)
    add(wcost.SeparableCostExplorer, size=8, c_in=2, c_out=4, kernel_size=3)
    add(wcost.conv_cost, 8, 2, 4, 3, stride=1, padding="same", bias=True)
    add(widgets.PoolingExplorer, source="4×4 example (Chollet slides)")
    add(wpool.edge_map)
    add(wpool.pool, img, 2, None, 0, mode="max")
    add(wpool.shift, img, 1, axis=1)
    add(wpool.shift_invariance, img, 1, 2, None, mode="max", atol=1e-9)
    add(widgets.ReceptiveFieldExplorer, input_size=16)
    add(wrec.parse_layers, "conv3 pool2 conv3/d2")
    add(wrec.dependency_cone, wrec.parse_layers("conv3 conv3"), 0)
    add(widgets.FeatureMapExplorer, net, xs, ys, layer="0", index=0)
    add(widgets.AttributionExplorer, net, xs, ys, layer="3", index=0, target=None)
    add(widgets.FGSMExplorer, net, xs, ys, index=0, epsilon=0.1)

    # ---------------------------------------------------------------- how a CNN learns
    from cnnlab import gabor_fit, natural, normalization
    from cnnlab import backward as cbackward
    from cnnlab.viz import filters as vfilters
    from cnnlab.widgets import architecture as warch, localisation as wloc, training as wtrain

    add(cbackward.conv2d_backward, X4, W4, rng.normal(size=(1, 3, 6, 6)), stride=1, padding=1, dilation=1,
        groups=1)
    add(cbackward.conv_transpose2d, rng.normal(size=(1, 3, 4, 4)), rng.normal(size=(3, 2, 3, 3)), np.zeros(2),
        stride=2, padding=1, output_padding=1, dilation=1, groups=1)
    add(normalization.batch_norm, rng.normal(size=(4, 3, 5, 5)), np.zeros(3), np.ones(3), np.ones(3),
        np.zeros(3), training=True, momentum=0.1, eps=1e-5,
        fresh=lambda: (rng.normal(size=(4, 3, 5, 5)), np.zeros(3), np.ones(3), np.ones(3), np.zeros(3)))
    add(normalization.dropout, rng.normal(size=(4, 6)), 0.5, training=True, rng=0)
    photos = natural.load_photos(["camera"])
    add(natural.load_photos, ["camera"])
    add(natural.sample_patches, photos, 6, 50, rng=0)
    add(natural.learn_filters, photos, size=6, n_filters=4, method="ica", n_patches=400, max_iter=20,
        tol=1e-3, rng=0, slow=True)
    filt = kernels.gabor(7, 0.3, 1.2, 0.0, 0.1, 0.1)
    add(gabor_fit.fit_gabor, filt, slow=True)
    add(gabor_fit.fit_gabors, filt[None], slow=True)
    add(gabor_fit.median_gabor_correlation, filt[None], slow=True)
    add(vfilters.plot_filter_bank, rng.normal(size=(4, 5, 5)), ncols=2, ax=ax, title="t")
    add(warch.build_stack, "conv8:5 pool2 dense10", (1, 28, 28))
    add(warch.ArchitectureBuilder, stack="model2 (Unit 5 notes)", slow=True)
    add(wloc.box_terms, np.array([1.0, 0.5, 0.5, 0.3, 0.3, 1.0, 0.0]),
        np.array([1.0, 0.4, 0.5, 0.3, 0.2, 1.0, 0.0]))
    add(wloc.default_canvases, 4, canvas=40, seed=3, slow=True)
    add(wloc.LocalisationExplorer, slow=True)
    canvases = wloc.default_canvases(4, canvas=40, seed=3)
    add(wloc.DetectionExplorer, cnn.localisation_net(40, width=4).eval(), np.tile(canvases.images[0], (1, 2)),
        window=40, stride=8, slow=True)
    small = cnn.load_mnist_split(100, 50, source="subset", seed=0)
    add(wtrain.train_setting, wtrain.Setting(), small.train, small.val, epochs=1, seed=0, slow=True)
    add(wtrain.TrainingExplorer, small, epochs=1, slow=True)

    # classes with a constructor and no dataclass: the torch modules re-exported above
    _ = models
    _CACHE.update(reg)
    return _CACHE


# ---------------------------------------------------------------- hostile values
class _Opaque:
    def __repr__(self):
        return "<opaque>"


NAN, INF = float("nan"), float("inf")


def hostile(valid):
    """Values to put in place of ``valid``: wrong types, non-finite, out-of-range sizes,
    bool for int, unknown strings, wrong shapes."""
    out = [None, "bogus", _Opaque(), [[1, 2], [3]]]
    try:
        import torch
        is_tensor = isinstance(valid, torch.Tensor)
    except ImportError:  # pragma: no cover
        is_tensor = False
    if isinstance(valid, (bool, np.bool_)):
        out += ["False", "True", 2, 0.5]
    elif isinstance(valid, (int, np.integer)):
        out += [True, -1, 0, 10**12, 2**70, -(2**70), 2.5, NAN, INF, "3", [valid, valid]]
    elif isinstance(valid, (float, np.floating)):
        out += [NAN, INF, -INF, 1e308, -1e308, 1e-320, 2**70, True, "1.0", -1.0, 0.0, np.float32(NAN)]
    elif isinstance(valid, str):
        out += ["", "conv3/s99999999999999999999", "1e999", 5, b"x"]
    elif is_tensor:
        t = valid
        out += [t.double().numpy() if t.is_floating_point() else t.numpy(),
                t.float() * NAN if t.is_floating_point() else t[:0],
                t[..., :1] if t.ndim else t.reshape(1), t.reshape(-1), t[None], t[:0]]
    elif isinstance(valid, np.ndarray):
        a = valid
        out += [a.astype(float) * NAN, np.full(a.shape, INF), a.reshape(-1), a[None], a[:0], 5, a.astype(str)]
        if a.size > 1:
            out.append(a.reshape(-1)[:1])
    elif isinstance(valid, (tuple, list)):
        out += [(), (10**12,) * max(1, len(valid)), (-1,) * max(1, len(valid)), ("a",) * max(1, len(valid)),
                [NAN] * max(1, len(valid)), 5, list(valid) + list(valid)[:1]]
    elif isinstance(valid, dict):
        out += [{}, {0: NAN}, {0: 0.5, 10**12: 0.5}, {"a": 1.0}, [1, 2]]
    elif callable(valid):
        out += [5, (lambda *a, **k: None), (lambda *a, **k: "abc")]
    elif valid is None:
        out += [5, -1, 2.5, NAN, 1e308, np.eye(2), ["a"], (1, 2)]
    if isinstance(valid, np.ndarray) and valid.size:
        out += [valid.astype(complex), valid.astype(bool), np.zeros(valid.shape + (1, 1))]
    if valid is not None and not isinstance(valid, (str, bool)):
        out.append(True)
    return out


# ---------------------------------------------------------------- explorer sessions
HOSTILE_TEXT = ["", "   ", "abc", "1e999", "-1e999", "1e308", "nan", "inf", "1/0", "0/0", "1," * 3,
                "99999999999999999999", "conv3/s99999999999999999999", "conv99999999999", "pool0",
                "1 2 3 " * 400, "[1, 2]", "(1, 2, 3)", "1e-320", "-5", "0", "é∑", "1/3 1/3 1/3x"]
EXTREME_NUMBERS = [0, -1, 1, 10**9, -(10**9), 1e308, -1e308, 1e-320, float("inf"), float("nan")]


def is_explorer(fn) -> bool:
    from cnnlab.widgets import Explorer, Quiz

    return isinstance(fn, type) and (issubclass(fn, Explorer) or issubclass(fn, Quiz))


def controls(ex):
    """Every value-carrying control of an explorer (or a Quiz), boxes unpacked."""
    import ipywidgets as w

    roots = list(getattr(ex, "controls", []))
    if not roots:  # a Quiz
        roots = [c for c in vars(ex).values() if isinstance(c, w.Widget)]
    if getattr(ex, "widget", None) is not None:
        roots.append(ex.widget)
    seen, out = set(), []
    while roots:
        node = roots.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, w.Box):
            roots.extend(node.children)
        elif isinstance(node, (w.ValueWidget, w.Button)) and not isinstance(node, (w.HTML, w.Label, w.Output,
                                                                                      w.Audio, w.Image)):
            out.append(node)
    return out


#: the hostile texts the (quick) contract test types; the fuzz script types them all
QUICK_TEXT = ["", "abc", "1e999", "1e308", "1/0", "99999999999999999999", "conv3/s99999999999999999999", "-5"]


def moves(control, quick=False):
    """Hostile but type-correct values a student can give ``control`` (typing, dragging)."""
    import ipywidgets as w

    c = control
    if isinstance(c, (w.Text, w.Textarea)):
        return QUICK_TEXT if quick else HOSTILE_TEXT
    if isinstance(c, (w.Dropdown, w.RadioButtons, w.ToggleButtons, w.Select, w.SelectionSlider)):
        values = [opt[1] if isinstance(opt, tuple) else opt for opt in c.options]
        return [values[-1], values[0]] if quick else values + values[:1]
    if isinstance(c, (w.Checkbox, w.ToggleButton)):
        return [True, False, True]
    if isinstance(c, (w.IntSlider, w.BoundedIntText, w.Play, w.FloatSlider, w.FloatLogSlider, w.BoundedFloatText)):
        return [c.max, c.min] if quick else [c.min, c.max, c.min, c.max]
    if isinstance(c, w.IntRangeSlider):
        return [(c.min, c.max), (c.min, c.min)]
    if isinstance(c, w.IntText):
        return [0, -1, 10**9, -(10**9), 1]
    if isinstance(c, w.FloatText):
        return [1e308, float("inf"), float("nan"), 0] if quick else EXTREME_NUMBERS
    if isinstance(c, w.Button):
        return [None]
    return []


def move(control, value):
    """Set ``control`` to ``value`` as the front end would (a Button is clicked)."""
    import ipywidgets as w

    if isinstance(control, w.Button):
        control.click()
    else:
        control.value = value
