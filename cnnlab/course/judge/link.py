"""The trusted side of a test cell: run the instructors' test code in the grader's own
process, with every student name replaced by plain data fetched from the kernel.

For each graded test cell, :class:`Judge` takes the cell's code from the *source*
notebook (visible checks and hidden tests alike), finds the names it uses that neither
the trusted set-up cells nor the cell itself define (``conv1d``, ``p_Z``, ``model``),
and asks the kernel what they are. A function becomes a :class:`Proxy`: calling it sends
the arguments to the kernel as data, runs the student's function there, and returns its
result decoded by :mod:`.wire` (or raises what it raised). A value (an array, a dict, a
``torch.nn.Sequential``) is decoded once. Expected values, comparisons and verdicts
never leave this process, and nothing in it comes from the kernel but decoded data.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import hashlib
import hmac
import io
import re

import numpy as np

from . import wire

__all__ = ["Judge", "Verdict", "Proxy", "StudentError", "KernelGone", "JudgeTimeout",
           "GraderAPI", "setup_cells", "test_code"]


class KernelGone(BaseException):
    """The kernel died (or had to be killed) while it ran the student's code."""


class JudgeTimeout(BaseException):
    """The student's code ran past the time allowed for this test cell."""


class StudentError(Exception):
    """The student's function raised an exception that is not one of Python's own."""


@dataclasses.dataclass
class Verdict:
    passed: bool
    text: str            # printed lines (pass) or the failure message (fail)
    ename: str = ""


_SETUP_RE = re.compile(r"(^setup$|_setup$)")


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def setup_cells(nb) -> list[str]:
    """The code of the trusted set-up cells: read-only cells named ``setup``/``*_setup``."""
    return [cell.source for cell in nb.cells
            if cell.cell_type == "code" and _SETUP_RE.search(_meta(cell).get("grade_id", "") or "")
            and not _meta(cell).get("solution") and not _meta(cell).get("grade")]


def test_code(nb) -> dict[str, str]:
    """``{grade_id: code}`` of every graded test cell of a source notebook."""
    return {_meta(cell)["grade_id"]: cell.source for cell in nb.cells
            if cell.cell_type == "code" and _meta(cell).get("grade") and not _meta(cell).get("solution")
            and _meta(cell).get("grade_id")}


def _names(code: str) -> tuple[set, set]:
    """(names read, names bound) anywhere in ``code``."""
    tree = ast.parse(code)
    loads, stores = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stores.add(node.name)
            args = node.args if not isinstance(node, ast.ClassDef) else None
            if args is not None:
                for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                    if a is not None:
                        stores.add(a.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                stores.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stores.add(node.name)
        elif isinstance(node, ast.Lambda):
            for a in node.args.args:
                stores.add(a.arg)
    return loads, stores


_BUILTIN_EXCEPTIONS = {name: obj for name, obj in vars(builtins).items()
                       if isinstance(obj, type) and issubclass(obj, Exception)}


def student_exception(answer: dict) -> Exception:
    """What the student's function raised, rebuilt as a plain exception (never their type)."""
    name = answer.get("type") if isinstance(answer.get("type"), str) else "Exception"
    message = answer.get("message") if isinstance(answer.get("message"), str) else ""
    frames = answer.get("traceback")
    if isinstance(frames, list) and all(isinstance(f, str) for f in frames) and frames:
        message = message + "\n  where it was raised (your code):\n" + "\n".join(f[:300] for f in frames[-8:])
    cls = _BUILTIN_EXCEPTIONS.get(name) if answer.get("builtin") is True else None
    if name == "NotAllowed":
        from ..checks._rules import NotAllowed
        return NotAllowed(message)
    if cls is not None:
        try:
            return cls(message)
        except Exception:
            pass
    safe = re.sub(r"\W", "", name)[:60]
    if not safe.isidentifier():
        safe = "StudentError"
    return type(safe, (StudentError,), {})(message)


class Proxy:
    """Stands for a student's function: a call runs it in the kernel on plain data."""

    __cnnlab_ref__ = True

    def __init__(self, link, name: str):
        self.link, self.name = link, name
        self.__name__ = name

    def __repr__(self):
        return f"<your function {self.name}>"

    def __call__(self, *args, **kwargs):
        return self.link.call(self.name, args, kwargs)


class Link:
    """Requests to one kernel for one test cell (``rpc`` sends a request, returns the answer)."""

    def __init__(self, rpc):
        self.rpc = rpc

    def describe(self, names) -> dict:
        answer = self.rpc({"op": "describe", "names": sorted(names)})
        if answer.get("status") != "ok" or not isinstance(answer.get("names"), dict):
            raise StudentError("the grader could not read your notebook's variables "
                               f"({str(answer.get('message', ''))[:300]})")
        return answer["names"]

    def call(self, name, args, kwargs):
        payload = {"op": "call", "name": name, "args": [wire.encode(a) for a in args],
                   "kwargs": {k: wire.encode(v) for k, v in kwargs.items()}}
        answer = self.rpc(payload)
        status = answer.get("status")
        if status == "ok":
            try:
                return wire.decode(answer.get("value"))
            except wire.WireError as exc:
                raise StudentError(f"{name} returned something the grader cannot read ({exc})") from None
        if status == "raised":
            raise student_exception(answer)
        if status == "missing":
            raise NameError(f"name '{name}' is not defined")
        if status == "interrupted":
            raise JudgeTimeout(name)
        raise StudentError(f"the grader could not run {name} ({str(answer.get('message', ''))[:300]})")


class GraderAPI:
    """``grader`` in the hidden tests: secret-seeded random inputs, kernel-side objects."""

    def __init__(self, seed: int, local_ns: dict | None = None):
        self.seed = seed
        self.local_ns = local_ns  # tests without a kernel: build "remote" objects here

    def rng(self, stream: int = 0) -> np.random.Generator:
        """Random numbers from the course's grading secret (stable across re-runs)."""
        return np.random.default_rng([self.seed, stream])

    def remote(self, expr: str):
        """An object built in the kernel by ``expr`` (e.g. ``"systems.lowpass(0.3)"``)."""
        if self.local_ns is not None:
            return eval(expr, self.local_ns)  # noqa: S307 (the instructors' expression)
        return wire.Remote(expr)


def question_seed(secret: bytes, *parts: str) -> int:
    digest = hmac.new(secret, "/".join(parts).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "little")


def _describe_failure(exc: BaseException) -> tuple[str, str]:
    from ..checks._core import CheckFailed

    if isinstance(exc, CheckFailed):
        return "CheckFailed", str(exc)
    if isinstance(exc, AssertionError):
        return "AssertionError", str(exc) or "a hidden test failed"
    if isinstance(exc, NameError):
        name = re.search(r"'([^']+)'", str(exc))
        name = name.group(1) if name else "a name"
        return "NameError", (f"{name} is not defined in your notebook: did you run (and not "
                             f"rename) the cell that defines {name}?")
    if isinstance(exc, StudentError):
        return "Error", str(exc)
    return type(exc).__name__, f"{type(exc).__name__}: {exc}"


class Judge:
    """Verdicts for the test cells of one notebook (see the module docstring)."""

    def __init__(self, source_nb, *, secret: bytes, label: str, trusted_ns: dict):
        self.tests = test_code(source_nb)
        self.secret, self.label, self.ns = secret, label, trusted_ns

    def run(self, grade_id: str, rpc) -> Verdict:
        """Run the test cell ``grade_id``; ``KernelGone`` and ``JudgeTimeout`` propagate
        after being turned into the verdict's text by the caller."""
        code = self.tests[grade_id]
        link = Link(rpc)
        printed = io.StringIO()
        try:
            loads, stores = _names(code)
            wanted = loads - stores - set(self.ns) - set(vars(builtins)) - {"grader"}
            g = dict(self.ns)
            g["__builtins__"] = builtins
            g["grader"] = GraderAPI(question_seed(self.secret, self.label, grade_id))
            if wanted:
                for name, info in link.describe(wanted).items():
                    if name not in wanted or not isinstance(info, dict):
                        continue
                    if info.get("kind") == "function":
                        g[name] = Proxy(link, name)
                    elif info.get("kind") == "value":
                        try:
                            g[name] = wire.decode(info.get("value"))
                        except wire.WireError as exc:
                            g[name] = wire.Opaque("unreadable value", f"<{exc}>")
            with contextlib.redirect_stdout(printed):
                exec(compile(code, f"<test {grade_id}>", "exec"), g)  # noqa: S102 (instructors' code)
        except (KernelGone, JudgeTimeout):
            raise
        except Exception as exc:
            ename, message = _describe_failure(exc)
            return Verdict(False, message, ename)
        return Verdict(True, printed.getvalue())
