"""The library rule: a question that asks you to write something yourself is not
answered by calling the library function that already does it.

Each problem set lists, per question, the functions and modules its answers may not use
(``RULES`` in its checks module, e.g. ``numpy.convolve`` for question 1 of ps1). The
visible checks run your functions with those names replaced by a stub that raises
:class:`NotAllowed` with a message naming the question, so you learn it while working.
The grader does the same for the whole grading run, before any of your code runs, so
the names are gone however they are reached (an alias, ``eval``, ``__import__``, a
reference saved earlier): the same message, and the question's points are lost.

>>> import numpy as np
>>> with enforce({"numpy.convolve": "question 1 (conv1d)"}):
...     try:
...         np.convolve([1, 2], [1])
...     except NotAllowed as exc:
...         print(exc)
np.convolve is not allowed in question 1 (conv1d): the exercise is to write it yourself (it is what your result is compared with).
>>> np.convolve([1, 2], [1]).tolist()
[1, 2]
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import types

__all__ = ["NotAllowed", "enforce", "install", "display_name", "forbidden_in", "Watch"]


class NotAllowed(Exception):
    """A function that the question asks you to write yourself was called."""


def display_name(name: str) -> str:
    """``numpy.convolve`` -> ``np.convolve`` (how students write it)."""
    return "np." + name[len("numpy."):] if name.startswith("numpy.") else name


def _message(name: str, where: str) -> str:
    return (f"{display_name(name)} is not allowed in {where}: the exercise is to write it "
            "yourself (it is what your result is compared with).")


def forbidden_in(rules: dict) -> dict[str, str]:
    """``{grade_id: (question, names)}`` -> ``{name: "question 1 (conv1d)[, ...]"}``."""
    where: dict[str, list[str]] = {}
    for question, names in rules.values():
        for name in names:
            where.setdefault(name, [])
            if question not in where[name]:
                where[name].append(question)
    return {name: " and ".join(qs) for name, qs in where.items()}


def _is_module(name: str) -> bool:
    if name in sys.modules:
        return isinstance(sys.modules[name], types.ModuleType)
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _stub(name: str, where: str):
    message = _message(name, where)

    def not_allowed(*args, **kwargs):
        raise NotAllowed(message)

    not_allowed.__name__ = name.rsplit(".", 1)[-1]
    not_allowed.__qualname__ = not_allowed.__name__
    not_allowed.__doc__ = message
    not_allowed.__cnnlab_not_allowed__ = True
    return not_allowed


class _BlockedModule(types.ModuleType):
    def __init__(self, name, message):
        super().__init__(name)
        self.__dict__["_message"] = message

    def __getattr__(self, attr):
        raise NotAllowed(self.__dict__["_message"])


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, blocked: dict[str, str]):
        self.blocked = blocked

    def find_spec(self, fullname, path=None, target=None):
        for name, message in self.blocked.items():
            if fullname == name or fullname.startswith(name + "."):
                raise NotAllowed(message)
        return None


def _locations(obj):
    """Every (namespace, attribute) in the loaded modules that holds ``obj``."""
    found = []
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if value is obj:
                found.append((namespace, key))
    return found


def _resolve(name: str):
    parent, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(parent)
    except Exception:
        return None
    return getattr(module, attr, None)


def _apply(where: dict[str, str]):
    """Replace every listed name; return the undo list and the import blocker."""
    undo = []
    blocked = {}
    for name, question in where.items():
        message = _message(name, question)
        if _is_module(name):
            blocked[name] = message
            for loaded in [m for m in list(sys.modules) if m == name or m.startswith(name + ".")]:
                undo.append((sys.modules, loaded, sys.modules[loaded]))
                del sys.modules[loaded]
            parent, _, attr = name.rpartition(".")
            holder = sys.modules.get(parent)
            if holder is not None and attr in holder.__dict__:
                undo.append((holder.__dict__, attr, holder.__dict__[attr]))
                holder.__dict__[attr] = _BlockedModule(name, message)
            continue
        obj = _resolve(name)
        if obj is None or getattr(obj, "__cnnlab_not_allowed__", False):
            continue
        stub = _stub(name, question)
        for namespace, key in _locations(obj):
            undo.append((namespace, key, obj))
            namespace[key] = stub
    blocker = None
    if blocked:
        blocker = _Blocker(blocked)
        sys.meta_path.insert(0, blocker)
    return undo, blocker


def _registry_cleanup(stubbed: set) -> None:
    """numpy keeps every array-function in a registry: drop the replaced ones from it, so
    no original stays reachable (through the registry or ``gc``)."""
    overrides = sys.modules.get("numpy._core.overrides") or sys.modules.get("numpy.core.overrides")
    registry = getattr(overrides, "ARRAY_FUNCTIONS", None)
    if isinstance(registry, set):
        for fn in [f for f in registry if id(f) in stubbed]:
            registry.discard(fn)


def install(where: dict[str, str]) -> "Watch":
    """Replace the names for good (the grading kernel, before any student code) and return
    the :class:`Watch` that catches the same functions however they are reached."""
    watch = Watch(where)
    undo, _ = _apply(where)
    _registry_cleanup({id(value) for _, _, value in undo})
    del undo
    import gc
    gc.collect()
    return watch


class Watch:
    """Catch a call of a forbidden function while a student's answer runs, however it was
    reached (a reloaded module, a registry, ``gc``): a profile hook matches Python
    functions by their code's file and name, C functions by module and name, and whole
    forbidden packages by their folder. ``with watch:`` around the call; a forbidden call
    raises :class:`NotAllowed` where it happens, and :attr:`violation` keeps the message
    even if the answer catches it. Switching the hook off counts as a violation too;
    threads started through ``threading`` get the hook as well.
    """

    def __init__(self, where: dict[str, str]):
        import os

        self.code: dict = {}
        self.c_functions: dict = {}
        self.folders: dict = {}
        self.prefixes: dict = {}
        self.files_only: dict = {}   # a forbidden module that is a single file
        self.violation = ""
        for name, question in where.items():
            message = _message(name, question)
            if _is_module(name):
                self.prefixes[name] = message
                try:
                    spec = importlib.util.find_spec(name)
                except (ImportError, ValueError, AttributeError):
                    spec = None
                for folder in (spec.submodule_search_locations or []) if spec else []:
                    self.folders[os.path.join(folder, "")] = message
                if spec and spec.origin and not spec.submodule_search_locations:
                    self.files_only[spec.origin] = message
                continue
            obj = _resolve(name)
            for candidate in (obj, getattr(obj, "_implementation", None), getattr(obj, "__wrapped__", None)):
                code = getattr(candidate, "__code__", None)
                if code is not None:
                    self.code[(code.co_filename, code.co_name)] = message
                elif candidate is not None and type(candidate).__name__ == "builtin_function_or_method":
                    owner = getattr(getattr(candidate, "__self__", None), "__name__", None)
                    self.c_functions[(owner, candidate.__name__)] = message
        self.folder_tuple = tuple(self.folders)
        self._bound = self._hook  # one bound method: sys.getprofile() is compared with it

    def _hook(self, frame, event, arg):
        message = None
        if event == "call":
            code = frame.f_code
            message = self.code.get((code.co_filename, code.co_name))
            if message is None and self.folder_tuple and code.co_filename.startswith(self.folder_tuple):
                message = next(m for f, m in self.folders.items() if code.co_filename.startswith(f))
            if message is None and self.files_only:
                message = self.files_only.get(code.co_filename)
        elif event == "c_call":
            owner = getattr(getattr(arg, "__self__", None), "__name__", None)
            message = self.c_functions.get((owner, getattr(arg, "__name__", None)))
            if message is None and self.prefixes:
                module = getattr(arg, "__module__", None) or owner or ""
                if isinstance(module, str):
                    for prefix, m in self.prefixes.items():
                        if module == prefix or module.startswith(prefix + "."):
                            message = m
                            break
        if message is not None:
            self.violation = self.violation or message
            raise NotAllowed(message)

    def __enter__(self):
        import threading

        self.violation = ""
        self._old = sys.getprofile()
        threading.setprofile(self._bound)
        sys.setprofile(self._bound)
        return self

    def __exit__(self, *exc):
        import threading

        switched_off = sys.getprofile() is not self._bound
        sys.setprofile(self._old)
        threading.setprofile(None)
        if switched_off and not self.violation:
            self.violation = ("the grader's watch over the library rule was switched off "
                              "(sys.setprofile) while your answer ran")
        return False


@contextlib.contextmanager
def enforce(where: dict[str, str]):
    """Replace the names ``{dotted name: "question N (...)"}`` while the block runs."""
    undo, blocker = _apply(where)
    try:
        yield
    finally:
        if blocker is not None and blocker in sys.meta_path:
            sys.meta_path.remove(blocker)
        for namespace, key, value in reversed(undo):
            namespace[key] = value
