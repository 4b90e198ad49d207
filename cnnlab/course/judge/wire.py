"""Plain data between the trusted grader and a grading kernel: JSON, arrays as ``.npy``.

Both sides use :func:`encode`; the trusted side reads what a kernel sends with
:func:`decode`, which trusts nothing: it accepts only the tags below, loads arrays with
``allow_pickle=False`` and only numeric or boolean dtypes, and bounds depth, lengths and
the total number of array elements. Never pickle, never ``eval``.

==========================  ====================================================
value                       encoded as
==========================  ====================================================
None, bool, int, str        themselves (ints and strings bounded in size)
float                       itself; NaN and infinities as ``{"$": "float"}``
numpy scalar                ``{"$": "np", "dtype": ..., "v": ...}``
``numpy.ndarray``           ``{"$": "nd", "npy": base64 of np.save bytes}``
``torch.Tensor``            ``{"$": "tensor", "npy": ...}`` (decoded as a tensor)
Fraction                    ``{"$": "frac", "v": [numerator, denominator]}``
list / tuple / set / dict   ``{"$": "list" | "tuple" | "set" | "dict", "v": ...}``
``torch.nn`` layers         ``{"$": "module", ...}``: standard layers and their weights
anything else               ``{"$": "opaque", "type": ..., "repr": ...}``
==========================  ====================================================

Only the trusted side sends ``{"$": "remote", "expr": ...}`` (an expression the kernel
evaluates, e.g. a system to test) and ``{"$": "ref", "name": ...}`` (a function of the
student's passed to another one).
"""
from __future__ import annotations

import base64
import io
import math
import numbers
import re
from fractions import Fraction

import numpy as np

__all__ = ["encode", "decode", "WireError", "Opaque", "Remote", "Ref", "OpaqueModule",
           "MAX_ELEMENTS"]

MAX_DEPTH = 24
MAX_LEN = 200_000          # items of one list / dict
MAX_STR = 200_000          # characters of one string
MAX_INT_DIGITS = 400
MAX_ELEMENTS = 60_000_000  # array elements in one message


class WireError(ValueError):
    """The data from a kernel is not something the protocol allows."""


class Opaque:
    """A value of a type that cannot cross the boundary (shown by type and repr)."""

    type_name = "object"

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text or f"<{self.type_name} object>"


class OpaqueModule(Opaque):
    """A torch module that is not a stack of standard layers."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"the model is a {self.type_name} that the grader cannot rebuild: "
                        "build it as torch.nn.Sequential of standard torch.nn layers")


class Remote:
    """An expression evaluated in the grading kernel (trusted side -> kernel only)."""

    def __init__(self, expr: str):
        self.expr = expr

    def __repr__(self):
        return self.expr


class Ref:
    """A name in the kernel's namespace (e.g. the student's ``fgsm`` passed on)."""

    def __init__(self, name: str):
        self.name = name


def _safe_type_name(value) -> str:
    name = type(value).__name__
    return re.sub(r"[^A-Za-z0-9_.]", "", str(name))[:60] or "object"


def _npy(array) -> str:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _torch():
    import sys
    return sys.modules.get("torch")


# -- torch layers -------------------------------------------------------------------
# constructor arguments of the layers that may cross, read back from their attributes
_LAYERS = {
    "Conv1d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
               "groups", "padding_mode"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
               "groups", "padding_mode"),
    "Linear": ("in_features", "out_features"),
    "ReLU": (), "Tanh": (), "Sigmoid": (), "Identity": (), "GELU": (), "SiLU": (),
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",),
    "Flatten": ("start_dim", "end_dim"),
    "MaxPool1d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool1d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AdaptiveAvgPool2d": ("output_size",), "AdaptiveMaxPool2d": ("output_size",),
    "Dropout": ("p",), "Dropout2d": ("p",),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "Softmax": ("dim",), "LogSoftmax": ("dim",),
}
_HAS_BIAS = ("Conv1d", "Conv2d", "Linear")


def _plain_attr(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
        return [v for v in value]
    raise TypeError(type(value).__name__)


def _layer_spec(module):
    torch = _torch()
    kind = type(module).__name__
    if isinstance(module, torch.nn.Sequential) and type(module) is torch.nn.Sequential:
        return {"type": "Sequential", "children": [[name, _layer_spec(child)] for name, child
                                                  in module.named_children()],
                "training": bool(module.training)}
    if kind not in _LAYERS or type(module).__module__.split(".")[0] != "torch":
        return None
    args = {name: _plain_attr(getattr(module, name)) for name in _LAYERS[kind]}
    if kind in _HAS_BIAS:
        args["bias"] = module.bias is not None
    return {"type": kind, "args": args, "training": bool(module.training)}


def _encode_module(module, depth):
    try:
        spec = _layer_spec(module)
        if spec is not None and not _complete(spec):
            spec = None
    except Exception:
        spec = None
    try:
        n_params = int(sum(p.numel() for p in module.parameters()))
    except Exception:
        n_params = None
    out = {"$": "module", "type": _safe_type_name(module), "spec": spec, "n_params": n_params,
           "repr": _short_repr(module, 4000)}
    if spec is not None:
        out["state"] = [[k, _npy(v.detach().cpu().numpy())] for k, v in module.state_dict().items()]
    return out


def _complete(spec):
    if spec is None:
        return False
    return all(_complete(child) for _, child in spec.get("children", []))


def _short_repr(value, limit=400) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{_safe_type_name(value)} object>"
    if not isinstance(text, str):
        text = f"<{_safe_type_name(value)} object>"
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def encode(value, _depth: int = 0):
    """``value`` as JSON-able plain data (see the module docstring)."""
    if _depth > MAX_DEPTH:
        return {"$": "opaque", "type": "nested too deeply", "repr": ""}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Remote):
        return {"$": "remote", "expr": value.expr}
    if isinstance(value, Ref):
        return {"$": "ref", "name": value.name}
    recipe = getattr(value, "__cnnlab_remote__", None)
    if isinstance(recipe, str):
        return {"$": "remote", "expr": recipe}
    ref = getattr(type(value), "__cnnlab_ref__", None)
    if ref is not None and isinstance(getattr(value, "name", None), str):
        return {"$": "ref", "name": value.name}
    if isinstance(value, int) and type(value) is int:
        return value
    if isinstance(value, float) and type(value) is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, np.generic) and isinstance(value, (np.number, np.bool_)):
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            item = repr(item)
        if isinstance(item, complex):
            return {"$": "opaque", "type": _safe_type_name(value), "repr": _short_repr(value)}
        return {"$": "np", "dtype": value.dtype.str, "v": item}
    if isinstance(value, Fraction) and type(value) is Fraction:
        return {"$": "frac", "v": [value.numerator, value.denominator]}
    if isinstance(value, np.ndarray) and type(value) is np.ndarray:
        if value.dtype.kind in "biuf":
            return {"$": "nd", "npy": _npy(value)}
        return {"$": "opaque", "type": f"ndarray of {value.dtype}", "repr": _short_repr(value)}
    torch = _torch()
    if torch is not None:
        if isinstance(value, torch.Tensor):
            try:
                arr = value.detach().cpu().numpy()
            except Exception:
                return {"$": "opaque", "type": "Tensor", "repr": _short_repr(value)}
            if arr.dtype.kind in "biuf":
                return {"$": "tensor", "npy": _npy(arr)}
            return {"$": "opaque", "type": f"Tensor of {value.dtype}", "repr": _short_repr(value)}
        if isinstance(value, torch.nn.Module):
            return _encode_module(value, _depth)
    if type(value) in (list, tuple, set, frozenset):
        items = list(value)
        if type(value) in (set, frozenset):
            try:
                items = sorted(items)
            except TypeError:
                pass
        tag = {list: "list", tuple: "tuple", set: "set", frozenset: "set"}[type(value)]
        return {"$": tag, "v": [encode(v, _depth + 1) for v in items[:MAX_LEN]]}
    if type(value) is dict:
        return {"$": "dict", "v": [[encode(k, _depth + 1), encode(v, _depth + 1)]
                                   for k, v in list(value.items())[:MAX_LEN]]}
    if callable(value):
        return {"$": "opaque", "type": "function", "repr": _short_repr(value)}
    return {"$": "opaque", "type": _safe_type_name(value), "repr": _short_repr(value)}


# -- decoding (the trusted side: the data may be hostile) -----------------------------
class _Budget:
    def __init__(self):
        self.elements = 0


def _load_npy(text, budget):
    if not isinstance(text, str) or len(text) > 4 * MAX_ELEMENTS:
        raise WireError("array data is not a string of allowed size")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:
        raise WireError(f"array data could not be read: {type(exc).__name__}") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf" or arr.dtype.hasobject:
        raise WireError("arrays must hold numbers or booleans")
    budget.elements += arr.size
    if budget.elements > MAX_ELEMENTS:
        raise WireError(f"more than {MAX_ELEMENTS:,} array elements")
    return arr


def _check_int(v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise WireError("expected an integer")
    if abs(v) >= 10 ** MAX_INT_DIGITS:
        raise WireError("integer too large")
    return v


def _dec(obj, depth, budget, *, trusted_remote):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return _check_int(obj)
    if isinstance(obj, float):
        return obj
    if isinstance(obj, str):
        if len(obj) > MAX_STR:
            raise WireError("string too long")
        return obj
    if not isinstance(obj, dict) or not isinstance(obj.get("$"), str):
        raise WireError(f"unexpected {type(obj).__name__} in the data")
    tag = obj["$"]
    if tag == "float":
        v = obj.get("v")
        if v not in ("nan", "inf", "-inf"):
            raise WireError("bad special float")
        return float(v)
    if tag == "np":
        dtype, v = obj.get("dtype"), obj.get("v")
        try:
            dt = np.dtype(dtype) if isinstance(dtype, str) and len(dtype) < 8 else None
        except TypeError:
            dt = None
        if dt is None or dt.kind not in "biuf":
            raise WireError("bad numpy scalar type")
        if isinstance(v, str) and v in ("nan", "inf", "-inf"):
            v = float(v)
        if isinstance(v, bool) and dt.kind != "b":
            raise WireError("bad numpy scalar")
        if not isinstance(v, (int, float, bool)):
            raise WireError("bad numpy scalar")
        if isinstance(v, int) and not isinstance(v, bool):
            _check_int(v)
        try:
            return dt.type(v)
        except (OverflowError, ValueError):
            raise WireError("numpy scalar out of range") from None
    if tag == "frac":
        v = obj.get("v")
        if not (isinstance(v, list) and len(v) == 2):
            raise WireError("bad fraction")
        n, d = _check_int(v[0]), _check_int(v[1])
        if d <= 0:
            raise WireError("bad fraction")
        return Fraction(n, d)
    if tag == "nd":
        return _load_npy(obj.get("npy"), budget)
    if tag == "tensor":
        arr = _load_npy(obj.get("npy"), budget)
        import torch
        return torch.from_numpy(np.array(arr))
    if tag in ("list", "tuple", "set"):
        v = obj.get("v")
        if not isinstance(v, list) or len(v) > MAX_LEN:
            raise WireError(f"bad {tag}")
        items = [_dec(x, depth + 1, budget, trusted_remote=trusted_remote) for x in v]
        if tag == "list":
            return items
        if tag == "tuple":
            return tuple(items)
        try:
            return set(items)
        except TypeError:
            raise WireError("unhashable set item") from None
    if tag == "dict":
        v = obj.get("v")
        if not isinstance(v, list) or len(v) > MAX_LEN:
            raise WireError("bad dict")
        out = {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise WireError("bad dict item")
            key = _dec(pair[0], depth + 1, budget, trusted_remote=trusted_remote)
            try:
                hash(key)
            except TypeError:
                raise WireError("unhashable dict key") from None
            out[key] = _dec(pair[1], depth + 1, budget, trusted_remote=trusted_remote)
        return out
    if tag == "module":
        return _decode_module(obj, budget)
    if tag == "opaque":
        name = obj.get("type")
        text = obj.get("repr", "")
        if not isinstance(name, str) or not isinstance(text, str):
            raise WireError("bad opaque value")
        return Opaque(re.sub(r"[^A-Za-z0-9_. ]", "", name)[:60] or "object", text[:4000])
    if trusted_remote and tag == "remote" and isinstance(obj.get("expr"), str):
        return Remote(obj["expr"])
    if trusted_remote and tag == "ref" and isinstance(obj.get("name"), str):
        return Ref(obj["name"])
    raise WireError(f"unknown tag {tag[:20]!r}")


def _build_layer(spec, torch):
    if not isinstance(spec, dict) or spec.get("type") not in (*_LAYERS, "Sequential"):
        raise WireError("unknown layer")
    kind = spec["type"]
    if kind == "Sequential":
        children = spec.get("children")
        if not isinstance(children, list) or len(children) > 1000:
            raise WireError("bad Sequential")
        seq = torch.nn.Sequential()
        for pair in children:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                    and re.fullmatch(r"[A-Za-z0-9_]{1,60}", pair[0])):
                raise WireError("bad layer name")
            seq.add_module(pair[0], _build_layer(pair[1], torch))
        layer = seq
    else:
        args = spec.get("args")
        if not isinstance(args, dict) or set(args) - {*_LAYERS[kind], "bias"}:
            raise WireError("bad layer arguments")
        clean = {}
        for key, value in args.items():
            if isinstance(value, list):
                if len(value) > 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                    raise WireError("bad layer argument")
                value = tuple(value)
            elif not (value is None or isinstance(value, (bool, int, float, str))):
                raise WireError("bad layer argument")
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**6:
                raise WireError("layer argument too large")
            clean[key] = value
        try:
            layer = getattr(torch.nn, kind)(**clean)
        except Exception as exc:
            raise WireError(f"could not rebuild {kind}: {exc}") from None
    layer.train(bool(spec.get("training", False)))
    return layer


def _spec_size(spec, depth=0) -> int:
    """Numbers a layer description would hold, from its arguments alone (WireError if odd)."""
    if depth > MAX_DEPTH or not isinstance(spec, dict):
        raise WireError("bad layer description")
    if spec.get("type") == "Sequential":
        children = spec.get("children")
        if not isinstance(children, list) or len(children) > 1000:
            raise WireError("bad Sequential")
        return sum(_spec_size(c[1], depth + 1) for c in children if isinstance(c, list) and len(c) == 2)
    args = spec.get("args") if isinstance(spec.get("args"), dict) else {}

    def num(key, default=1):
        value = args.get(key, default)
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 10**7 for v in values):
            raise WireError(f"bad layer argument {key}")
        out = 1
        for v in values:
            out *= v
        return out

    kind = spec.get("type")
    if kind in ("Conv1d", "Conv2d"):
        groups = num("groups")
        return num("out_channels") * (num("in_channels") // groups) * num("kernel_size") + num("out_channels")
    if kind == "Linear":
        return num("in_features") * num("out_features") + num("out_features")
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return 4 * num("num_features") + 1
    return 0


def _decode_module(obj, budget):
    name = obj.get("type") if isinstance(obj.get("type"), str) else "Module"
    text = obj.get("repr") if isinstance(obj.get("repr"), str) else ""
    spec = obj.get("spec")
    if spec is None:
        return OpaqueModule(re.sub(r"[^A-Za-z0-9_.]", "", name)[:60] or "Module", text[:4000])
    if budget.elements + _spec_size(spec) > MAX_ELEMENTS:  # arithmetic first: nothing built
        raise WireError(f"a model of more than {MAX_ELEMENTS:,} numbers")
    import torch
    with torch.device("meta"):  # then on no memory at all, for the weights' shapes
        shapes = {k: tuple(v.shape) for k, v in _build_layer(spec, torch).state_dict().items()}
    size = sum(int(np.prod(shape)) for shape in shapes.values())
    if budget.elements + size > MAX_ELEMENTS:
        raise WireError(f"a model of more than {MAX_ELEMENTS:,} numbers")
    state = obj.get("state")
    if not isinstance(state, list) or len(state) != len(shapes):
        raise WireError("bad module state")
    model = _build_layer(spec, torch)
    tensors = {}
    for pair in state:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise WireError("bad module state")
        if pair[0] not in shapes:
            raise WireError("the model's weights do not fit its layers")
        arr = _load_npy(pair[1], budget)
        if tuple(arr.shape) != shapes[pair[0]]:
            raise WireError(f"the model's weight {pair[0][:40]} has the wrong shape")
        tensors[pair[0]] = torch.from_numpy(np.array(arr))
    try:
        model.load_state_dict(tensors, strict=True)
    except Exception as exc:
        raise WireError(f"the model's weights do not fit its layers: {str(exc)[:300]}") from None
    return model


def decode(obj, *, trusted_remote: bool = False):
    """The value encoded in ``obj`` (parsed JSON), validated (see the module docstring).

    ``trusted_remote`` (the kernel's side only) also accepts ``remote`` and ``ref``.
    """
    return _dec(obj, 0, _Budget(), trusted_remote=trusted_remote)
