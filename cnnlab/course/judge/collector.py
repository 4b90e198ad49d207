"""The grading kernel's side: run the student's functions on the grader's inputs.

:func:`setup` runs in the kernel before the notebook (silently): it installs the library
rule (:mod:`cnnlab.course.checks._rules`), forbids starting new programs
(:mod:`.noexec`) and puts ``__cnnlab_serve__`` in the builtins. The trusted grader then
writes a request ``req-<id>.json`` into the channel directory and executes
``__cnnlab_serve__("<id>")``; the answer goes to ``res-<id>.json``.

Requests: ``{"op": "describe", "names": [...]}`` (what each name is: missing, a function,
or its value) and ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}``.
Answers are plain data (:mod:`.wire`). Nothing here is trusted by the grader: a student
who replaces or breaks this code only loses the points of what it no longer answers.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import sys
import traceback

from . import wire

__all__ = ["setup", "serve"]

_STATE: dict = {}
_MAX_PRINTED = 2000


def setup(channel: str, forbidden: dict, *, noexec: bool = True) -> None:
    from ..checks import _rules

    _STATE["channel"] = channel
    _STATE["ns"] = get_ipython().user_ns  # noqa: F821 (IPython kernel)
    _STATE["watch"] = _rules.install(forbidden) if forbidden else None
    if noexec:
        from .noexec import forbid_exec
        _STATE["noexec"] = forbid_exec()
    builtins.__cnnlab_serve__ = serve


class _Bounded(io.StringIO):
    def write(self, text):
        if self.tell() < _MAX_PRINTED:
            super().write(str(text)[: _MAX_PRINTED - self.tell()])
        return len(text)


def _student_frames(tb) -> list[str]:
    """The traceback of the student's exception, only their own cells' frames."""
    lines = []
    for frame in traceback.extract_tb(tb):
        name = frame.filename or ""
        if name.startswith(("/tmp/ipykernel_", "<ipython-input")):
            lines.append(f"  in {frame.name}, line {frame.lineno}: {(frame.line or '').strip()}"[:300])
    return lines[-8:]


def _describe(names, ns):
    out = {}
    for name in names:
        if not isinstance(name, str) or name not in ns:
            out[name] = {"kind": "missing"}
            continue
        value = ns[name]
        torch = sys.modules.get("torch")
        module = torch is not None and isinstance(value, torch.nn.Module)
        if callable(value) and not module:
            out[name] = {"kind": "function"}
        else:
            out[name] = {"kind": "value", "value": wire.encode(value)}
    return out


def _decode_arg(obj, ns):
    value = wire.decode(obj, trusted_remote=True)
    return _resolve(value, ns)


def _resolve(value, ns):
    if isinstance(value, wire.Remote):
        return eval(value.expr, dict(ns))  # the grader's own expression, in the kernel
    if isinstance(value, wire.Ref):
        return ns[value.name]
    if isinstance(value, list):
        return [_resolve(v, ns) for v in value]
    if isinstance(value, tuple):
        return tuple(_resolve(v, ns) for v in value)
    if isinstance(value, dict):
        return {k: _resolve(v, ns) for k, v in value.items()}
    return value


def _call(request, ns):
    name = request["name"]
    if name not in ns:
        return {"status": "missing"}
    fn = ns[name]
    args = [_decode_arg(a, ns) for a in request.get("args", [])]
    kwargs = {k: _decode_arg(v, ns) for k, v in request.get("kwargs", {}).items()}
    printed = _Bounded()
    watch = _STATE.get("watch") or contextlib.nullcontext()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), watch:
            result = fn(*args, **kwargs)
    except KeyboardInterrupt:
        return {"status": "interrupted", "printed": printed.getvalue()}
    except BaseException as exc:  # SystemExit too: it is the student's answer raising
        if getattr(watch, "violation", ""):
            return _not_allowed(watch.violation, printed)
        try:
            message = str(exc)
        except Exception:
            message = "<the exception's message could not be shown>"
        return {"status": "raised", "type": type(exc).__name__[:80],
                "builtin": type(exc).__module__ == "builtins", "message": message[:4000],
                "traceback": _student_frames(exc.__traceback__), "printed": printed.getvalue()}
    if getattr(watch, "violation", ""):  # a forbidden call the answer caught and hid
        return _not_allowed(watch.violation, printed)
    return {"status": "ok", "value": wire.encode(result), "printed": printed.getvalue()}


def _not_allowed(message, printed):
    return {"status": "raised", "type": "NotAllowed", "builtin": False, "message": message,
            "traceback": [], "printed": printed.getvalue()}


def serve(request_id: str) -> None:
    channel = _STATE["channel"]
    path = os.path.join(channel, f"req-{request_id}.json")
    with open(path, encoding="utf-8") as fh:
        request = json.load(fh)
    os.remove(path)
    ns = _STATE["ns"]
    try:
        if request["op"] == "describe":
            answer = {"status": "ok", "names": _describe(request["names"], ns)}
        elif request["op"] == "call":
            answer = _call(request, ns)
        else:
            answer = {"status": "error", "message": "unknown request"}
    except KeyboardInterrupt:
        answer = {"status": "interrupted"}
    except Exception as exc:  # a value that could not be encoded, a bad argument ...
        answer = {"status": "error", "message": f"{type(exc).__name__}: {exc}"[:2000]}
    tmp = os.path.join(channel, f"tmp-{request_id}.json")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(answer, fh, allow_nan=False)
    os.replace(tmp, os.path.join(channel, f"res-{request_id}.json"))
