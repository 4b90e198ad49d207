"""What the trusted grading process keeps to itself: the secret, the set-up namespace,
the library rule of each problem set, and a channel to the kernel that cannot be turned
against the grader's own files."""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import secrets
import stat

__all__ = ["load_secret", "forbidden_for", "trusted_namespace", "write_request", "read_answer",
           "MAX_ANSWER_BYTES"]

MAX_ANSWER_BYTES = 32 * 2**20
#: JSON objects and arrays in one answer (each costs the grader ~100 bytes once parsed;
#: arrays of numbers travel as .npy strings, so a real answer needs few)
MAX_CONTAINERS = 100_000
_NAMESPACES: dict = {}


def load_secret(path: str) -> bytes:
    """The course's grading secret (32 random bytes), created on first use (mode 600).

    It seeds the hidden tests' random inputs, so they are stable across re-grading but
    cannot be known in advance by anyone without the instructors' course directory.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if len(data) >= 16:
            return data
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


def forbidden_for(assignment: str) -> dict[str, str]:
    """``{dotted name: "question N (...)"}`` of the assignment's library rule, from the
    ``RULES`` of its checks module (``cnnlab.course.checks.<assignment>``)."""
    from ..checks._rules import forbidden_in

    try:
        module = importlib.import_module(f"cnnlab.course.checks.{assignment}")
    except ImportError:
        return {}
    return forbidden_in(getattr(module, "RULES", {}))


def trusted_namespace(source_nb) -> dict:
    """The names the source notebook's set-up cells define, computed in this process.

    Cached per process by the cells' code (ps4's set-up trains a network once per worker);
    each caller gets its own copy of the dictionary.
    """
    from .link import setup_cells

    cells = setup_cells(source_nb)
    key = "\n# --\n".join(cells)
    if key not in _NAMESPACES:
        import matplotlib
        matplotlib.use("Agg", force=True)
        ns: dict = {"__name__": "__cnnlab_trusted__"}
        with contextlib.redirect_stdout(io.StringIO()):
            for code in cells:
                exec(compile(code, "<set-up>", "exec"), ns)  # noqa: S102 (instructors' code)
        import matplotlib.pyplot as plt
        plt.close("all")
        ns.pop("__builtins__", None)
        _NAMESPACES[key] = ns
    return dict(_NAMESPACES[key])


def write_request(dir_fd: int, rid: str, payload: dict) -> None:
    """Create ``req-<rid>.json`` in the channel (never following a link the kernel planted)."""
    data = json.dumps(payload, allow_nan=False).encode()
    tmp = f"put-{rid}.json"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.rename(tmp, f"req-{rid}.json", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def read_answer(dir_fd: int, rid: str) -> dict | None:
    """The kernel's ``res-<rid>.json``, or None: a regular file only, bounded in size,
    parsed as JSON (the caller decodes values with :mod:`.wire`)."""
    name = f"res-{rid}.json"
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ANSWER_BYTES:
            return {"status": "error", "message": "the answer was not a file of allowed size"}
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(info.st_size)
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
    if raw.count(b"{") + raw.count(b"[") > MAX_CONTAINERS:
        return {"status": "error", "message": "the answer had too many nested values"}
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        return {"status": "error", "message": "the answer was not valid JSON"}
    if not isinstance(answer, dict):
        return {"status": "error", "message": "the answer was not a JSON object"}
    return answer
