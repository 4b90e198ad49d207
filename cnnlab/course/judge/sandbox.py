"""The operating-system sandbox around every grading kernel: Debian's ``bubblewrap``.

A grading kernel runs as ``bwrap [policy] -- python _sandbox.py [limits] -- <kernel>``:

* every namespace is new (``--unshare-all``): its own PID namespace (it cannot see or
  signal the grader, its worker or a classmate's kernel, and everything it starts dies
  with it, ``--die-with-parent``), no network (only the loopback of an empty network
  namespace; the kernel talks to the grader over Unix sockets), its own IPC and host name;
* the file system is built from scratch (its root read-only): the system (``/usr``, a few files of ``/etc``),
  the Python installation, the virtual environment and the ``cnnlab`` package are bound
  **read-only**; ``/tmp`` is a private tmpfs of at most 256 MiB; the only other writable places are the
  submission's scratch directory (mounted as ``/home/student``: it holds the notebook and
  nothing else) and the kernel's private socket directory. ``solutions/``, ``source/``,
  the gradebook, the course root, other students' files and the instructor's home do
  not exist inside;
* no capabilities, a clean environment (bwrap itself starts with none, so no variable of
  the grader is visible even in its own processes' ``/proc/*/environ``) and
  ``JPY_PARENT_PID`` unset (in its own PID namespace the kernel's parent would look dead
  to ipykernel's parent poller; ``--die-with-parent`` does that job instead).

:mod:`cnnlab.course._sandbox` then applies the resource limits inside (address space,
file size, no core dumps) and ``exec``s the kernel.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

from ..course import CourseError

__all__ = ["SandboxUnavailable", "bwrap_path", "available", "wrap", "STUDENT_HOME"]

#: where the submission's scratch directory appears inside the sandbox
STUDENT_HOME = "/home/student"
#: the private /tmp is memory: its size is capped
TMP_BYTES = 256 * 2**20

# what of /etc a Python kernel needs (dynamic linker cache, time zone, fonts); not
# passwd/shadow/ssh/ssl or anything else of the grading machine
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "mime.types")


class SandboxUnavailable(CourseError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _package_dir() -> str:
    import cnnlab
    return os.path.dirname(os.path.abspath(cnnlab.__file__))


def _python_dirs() -> list[str]:
    dirs = []
    for d in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        d = os.path.realpath(d)
        if d not in dirs and d != "/usr" and not d.startswith("/usr/"):
            dirs.append(d)
    return dirs


def wrap(cmd: list[str], *, scratch: str, private: str, env: dict | None = None) -> list[str]:
    """``cmd`` (the kernel command) wrapped in ``bwrap`` with the policy of the module doc.

    ``scratch`` becomes ``/home/student`` (read-write, the working directory);
    ``private`` (connection file and Unix sockets) is bound read-write at its own path.
    """
    exe = bwrap_path()
    if exe is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    args = [exe, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL",
            "--hostname", "grader", "--clearenv"]
    for name in ("bin", "lib", "lib64", "sbin"):
        path = "/" + name
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in _ETC:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    # the private /tmp first: a course (and its venv) may itself live under /tmp, and a
    # tmpfs mounted after their binds would hide them
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    for d in _python_dirs():
        args += ["--ro-bind", d, d]
    package = _package_dir()
    args += ["--ro-bind", package, package]
    args += ["--bind", scratch, STUDENT_HOME, "--bind", private, private,
             "--remount-ro", "/", "--chdir", STUDENT_HOME]
    base = {
        "HOME": STUDENT_HOME,
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # the grader's own cnnlab (the one bound above), ahead of anything in the scratch dir
        "PYTHONPATH": os.path.dirname(package),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter-config",
        "JUPYTER_DATA_DIR": "/tmp/jupyter-data",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    base.update(env or {})
    for key, value in base.items():
        args += ["--setenv", key, value]
    # bwrap itself starts with an empty environment: its own processes stay in the sandbox
    # (as its PID 1), and /proc/1/environ must not show the grader's variables
    return ["/usr/bin/env", "-i", *args, "--", *cmd]


@functools.lru_cache(maxsize=1)
def _probe() -> str:
    """'' when bwrap can build the sandbox here, else why not."""
    exe = bwrap_path()
    if exe is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    import tempfile
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryDirectory() as private:
        cmd = wrap([sys.executable, "-I", "-S", "-c", "print('ok')"], scratch=scratch, private=private)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap failed to start: {exc}"
    if out.returncode != 0 or out.stdout.strip() != "ok":
        return ("bubblewrap cannot create the sandbox here (unprivileged user namespaces "
                f"disabled?): {out.stderr.strip()[-400:]}")
    return ""


def available() -> bool:
    return _probe() == ""


def why_unavailable() -> str:
    return _probe()
