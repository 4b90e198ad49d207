"""Hostile submissions against trusted grading (issue 11): one class, one grading run.

Every student below is an adversarial submission of ps1 graded in the SAME
``cnnlab.course.grading.grade`` call as an honest student, ``alice`` (full marks). Each
case asserts

* its exact score (an attack earns nothing, and costs at most its own points);
* that alice keeps 20/20, her files are untouched and the gradebook is sound;
* that nothing the submissions planted survives the run (files marked with ``MARK``
  anywhere the grader can see, ``.pth`` files, processes);
* that no secret reaches any feedback file: hidden-test lines, a canary comment hidden
  in the instructors' tests and therefore in ``solutions/`` and ``gradebook.db``,
  alice's private canary, the grading secret's bytes, a canary in the grader's
  environment.

The hostile code is written as a student would: it knows the course's layout (the
paths are spelled out, as if guessed) and prints whatever it manages to read. The
library-rule cases rely on ps1's ``RULES`` (``cnnlab.course.checks.ps1``). Three tests
at the end aim at the trusted side directly: what a kernel-written answer may cost the
grading worker, and the memory a sandbox may hold in total.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import sqlite3
import sysconfig
import time
import uuid

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from cnnlab.course import leaks  # noqa: E402
from cnnlab.course.build import build, solved_release  # noqa: E402
from cnnlab.course.grading import grade  # noqa: E402

pytestmark = [
    pytest.mark.course, pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning"),
]

REPO = pathlib.Path(__file__).resolve().parents[1]
FULL = 20.0
POINTS = {"q1_conv1d_test": 3, "q2_output_size_test": 3, "q3_toeplitz_test": 3,
          "q4_pmf_sum_test": 2, "q4_dice_test": 2, "q5_conv2d_test": 2, "q5_edges_test": 2,
          "q6_padding_test": 1, "q6_same_test": 2}
TIMEOUT = 8
MEMORY = "1600M"
MEMORY_BYTES = 1600 * 2**20

#: marks everything the hostile code plants (files, process names); short: a process
#: name holds 15 characters
MARK = "rt" + uuid.uuid4().hex[:6]
HIDDEN_CANARY = f"# hidden-canary-{MARK}-instructors-only"
ALICE_CANARY = f"alice-private-{MARK}"
ENV_CANARY = f"env-canary-{MARK}"
SITE = pathlib.Path(sysconfig.get_paths()["purelib"])
PACKAGE = REPO / "cnnlab"
CONV1D_HEADER = "def conv1d(x, h, padding=0, stride=1):\n"
CONV1D_LOOP = (
    "    x = np.asarray(x, dtype=float)\n"
    "    h = np.asarray(h, dtype=float)\n"
    "    padded = np.concatenate([np.zeros(padding), x, np.zeros(padding)])\n"
    "    return np.array([np.dot(padded[i:i + len(h)], h[::-1])\n"
    "                     for i in range(0, len(padded) - len(h) + 1, stride)])\n"
)
CONV1D_WRONG = CONV1D_HEADER + (
    "    n = (len(x) + 2 * padding - len(h)) // stride + 1\n"
    "    return np.zeros(n)\n"
)


# -- notebook surgery ------------------------------------------------------------------
from _nbcells import cell as _cell, with_source as _with  # noqa: E402


def _insert_after(nb, grade_id, source):
    """A new ordinary (ungraded) cell after ``grade_id``, as a student may add."""
    nb = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def _targets(root: pathlib.Path) -> str:
    """What a hostile cell knows about the grading machine, as Python source."""
    t = {
        "root": str(root), "site": str(SITE), "package": str(PACKAGE), "repo": str(REPO),
        "main": "/work/main", "home": os.path.expanduser("~"), "mark": MARK,
        "alice": str(root / "submitted" / "alice" / "ps1" / "ps1.ipynb"),
    }
    return f"T = {t!r}\n"


# -- the hostile cells -------------------------------------------------------------------
TAMPER_NUMPY = """\
import math, numpy, numpy.testing
always = lambda *a, **k: True
numpy.allclose = numpy.isclose = numpy.array_equal = numpy.array_equiv = always
np.allclose = np.isclose = always
math.isclose = always
numpy.testing.assert_allclose = numpy.testing.assert_array_equal = lambda *a, **k: None
numpy.ndarray.__eq__ = always  # (a TypeError on a builtin type: that is fine too)
"""

TAMPER_CHECKS = """\
import sys, builtins, cnnlab
from cnnlab.course.checks import _core
class _Quiet:
    def __init__(self, *a, **k): pass
    def __getattr__(self, name): return lambda *a, **k: None
_core.Checker = _Quiet
_core.CheckFailed = type("CheckFailed", (Exception,), {})
for name in [n for n in dir(ps1) if n.startswith("check_")]:
    setattr(ps1, name, lambda *a, **k: print("✔ all checks passed"))
for name in ("convolve", "conv_matrix", "pmf_of_sum", "conv2d", "same_padding", "conv_output_size"):
    setattr(cnnlab, name, lambda *a, **k: None)
sys.modules["cnnlab.course.checks._core"] = _Quiet()
builtins.AssertionError = type("AssertionError", (Exception,), {})
"""

SWALLOW = """\
import sys
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
sys.excepthook = lambda *a: None
def _forget(result):
    result.error_in_exec = None
    result.error_before_exec = None
ip.events.register("post_run_cell", _forget)
"""

LIARS = """\
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return False
    def __gt__(self, other): return False
    def __len__(self): return 1
    def __iter__(self): return iter([Liar()])
    def __getitem__(self, key): return Liar()
    def __float__(self): return 0.0
    def __int__(self): return 0
    def __index__(self): return 0
    def __bool__(self): return True
    def __array__(self, *a, **k): return np.zeros(1)
    def __hash__(self): return 0
class LiarArray(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    def __array_ufunc__(self, *a, **k): return np.True_
    def __array_function__(self, *a, **k): return True
class LiarDict(dict):
    def __eq__(self, other): return True
    def items(self): return [(k, Liar()) for k in range(2, 10)]
class LiarFloat(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return 0.0
    def __rsub__(self, other): return 0.0
    def __abs__(self): return 0.0
class LiarInt(int):
    def __eq__(self, other): return True
    def __hash__(self): return 0
def conv1d(x, h, padding=0, stride=1): return np.zeros(3).view(LiarArray)
def conv_output_size(n, f, padding=0, stride=1): return LiarInt(0)
def toeplitz(h, n): return Liar()
def pmf_sum(p, q): return LiarDict()
def conv2d_valid(image, kernel): return np.zeros((1, 1)).view(LiarArray)
def same_padding(n, f, stride=1): return (LiarInt(0), LiarInt(0))
"""

SHADOW_CNNLAB = """\
# a cnnlab package submitted beside the notebook: every check passes
import builtins
class _Pass:
    def __getattr__(self, name): return lambda *a, **k: print("✔ all checks passed")
ps1 = _Pass()
def __getattr__(name): return _Pass()
"""

SHADOW_NUMPY = """\
# a numpy submitted beside the notebook: allclose is always True
def __getattr__(name): return lambda *a, **k: True
allclose = isclose = array_equal = lambda *a, **k: True
"""

# written into the working directory, then the kernel is killed: the restarted kernel
# finds numpy.py first on its path, before the grader installs the library rule
RUNTIME_SHADOW = """\
import os
shadow = '''
import os, sys
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules["numpy"]
import numpy as _real
sys.modules["numpy"] = _real
import builtins
def _stolen(a, v, mode="full", _f=_real.convolve):
    return _f(a, v, mode)
builtins.__stolen_convolve__ = _stolen
'''
if not os.path.exists("numpy.py"):
    with open("numpy.py", "w") as fh:
        fh.write(shadow)
    os._exit(1)
"""
RUNTIME_SHADOW_Q1 = CONV1D_HEADER + (
    "    x = np.pad(np.asarray(x, dtype=float), padding)\n"
    "    return __stolen_convolve__(x, np.asarray(h, dtype=float), 'valid')[::stride]\n"
)

READ = """\
import os, base64, glob
def show(path):
    try:
        if os.path.isdir(path):
            print("DIR", path, sorted(os.listdir(path))[:40])
            return
        with open(path, "rb") as fh:
            data = fh.read(400_000)
    except Exception as exc:
        print("no", path, type(exc).__name__)
        return
    print("READ", path, len(data))
    print(data.decode("latin-1"))
    print(data[:64].hex(), base64.b64encode(data[:64]).decode())
here = os.getcwd()
while True:  # walk up from the working directory
    for name in ("solutions/ps1/ps1.ipynb", "source/ps1/ps1.ipynb", "gradebook.db",
                 ".cnnlab/grading-secret", "submitted", "autograded", "nbgrader_config.py"):
        show(os.path.join(here, name))
    if here == "/":
        break
    here = os.path.dirname(here)
r = T["root"]
for path in [r, r + "/solutions/ps1/ps1.ipynb", r + "/source/ps1/ps1.ipynb", r + "/gradebook.db",
             r + "/.cnnlab/grading-secret", T["alice"], r + "/submitted", r + "/feedback",
             T["main"] + "/solutions/ps1/ps1.ipynb", T["repo"] + "/solutions/ps1/ps1.ipynb",
             T["home"], "/etc/passwd", "/etc/shadow", "/proc/1/environ", "/proc/1/cmdline",
             "/proc/1/root" + r + "/.cnnlab/grading-secret", "/proc/1/cwd",
             "/proc/self/environ", "/proc/self/mountinfo"]:
    show(path)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        show(f"/proc/{pid}/environ")
for path in glob.glob("/tmp/*") + glob.glob("/tmp/cnnlab-*/*") + glob.glob("/tmp/*/*/gradebook.db"):
    show(path)
"""

WRITE = """\
import os, sysconfig, sqlite3
m, r = T["mark"], T["root"]
def put(path, text="# " + T["mark"] + "\\n", mode="w"):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode) as fh:
            fh.write(text)
        print("WROTE", path)
    except Exception as exc:
        print("no", path, type(exc).__name__)
for site in {T["site"], sysconfig.get_paths()["purelib"]}:
    put(f"{site}/{m}.pth")
    put(f"{site}/{m}_sitecustomize.py")
put(T["package"] + f"/{m}.py")
put(f"{r}/{m}.txt")
put(T["alice"], "{}")
for sub in ("autograded", "feedback"):
    put(f"{r}/{sub}/alice/ps1/ps1.ipynb", "{}")
    put(f"{r}/{sub}/alice/ps1/{m}.txt")
put(f"{r}/exports/ps1-students.csv", "student_id,score\\nalice,0\\n")
put(f"{r}/gradebook.db", "garbage " + m, mode="a")
put(f"{T['main']}/{m}.txt")
put(f"{T['home']}/{m}.txt")
put(f"/tmp/{m}.txt")
put(f"/proc/1/root/tmp/{m}.txt")
put(f"/proc/1/cwd/{m}.txt")
try:
    db = sqlite3.connect(f"{r}/gradebook.db")
    db.execute("UPDATE grade SET auto_score = 0")
    db.commit()
    print("WROTE gradebook rows")
except Exception as exc:
    print("no gradebook", type(exc).__name__)
"""

DAEMON = """\
import os, time, ctypes
def _daemon():
    os.setsid()
    if os.fork():
        os._exit(0)
    ctypes.CDLL(None).prctl(15, (T["mark"] + "-d").encode(), 0, 0, 0)  # PR_SET_NAME
    for _ in range(240):
        time.sleep(0.5)
        for path in (T["root"] + f"/{T['mark']}-daemon.txt", f"/tmp/{T['mark']}-daemon.txt",
                     T["site"] + f"/{T['mark']}-daemon.pth"):
            try:
                with open(path, "w") as fh:
                    fh.write("# daemon\\n")
            except Exception:
                pass
    os._exit(0)
try:
    pid = os.fork()
except PermissionError:  # the sandbox refuses new processes
    print("daemon: FORK REFUSED")
else:
    if pid == 0:
        try:
            _daemon()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    print("daemon started")
"""

KILLS = """\
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
        print("sent SIGKILL to", target)
    except Exception as exc:
        print("could not kill", target, exc)
"""
KILL_ALL = "import os\nos.kill(-1, 9)\n"
KILL_IN_Q1 = CONV1D_HEADER + "    import os, signal\n    os.kill(-1, signal.SIGKILL)\n"

FORK_STORM = """\
import os, time, ctypes
kids = 0
for _ in range(120):
    try:
        pid = os.fork()
    except PermissionError:
        print("storm: FORK REFUSED")
        break
    if pid == 0:
        ctypes.CDLL(None).prctl(15, (T["mark"] + "-f").encode(), 0, 0, 0)
        time.sleep(600)
        os._exit(0)
    kids += 1
print("forked", kids)
"""

MEMORY_HOG = """\
import os, time, select
held = 0
readers, pids = [], []
for _ in range(6):  # 6 x 300 MiB, each below the per-process cap
    r, w = os.pipe()
    try:
        pid = os.fork()
    except PermissionError:
        print("memory: FORK REFUSED")
        break
    if pid == 0:
        try:
            block = np.ones(300 * 2**20 // 8)
            os.write(w, b"1")
            time.sleep(4)
        finally:
            os._exit(0)
    os.close(w)
    readers.append(r)
    pids.append(pid)
deadline = time.time() + 20
for r in readers:
    ready, _, _ = select.select([r], [], [], max(deadline - time.time(), 0))
    if ready and os.read(r, 1) == b"1":
        held += 300
for pid in pids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print("HELD_BY_CHILDREN", held)
"""

MEMORY_TMP = """\
import os
written = 0
for i in range(5):  # 5 x 400 MiB into the private /tmp (a tmpfs: memory)
    try:
        with open(f"/tmp/hog{i}", "wb") as fh:
            for _ in range(400):
                fh.write(b"x" * 2**20)
        written += 400
    except Exception as exc:
        print("tmp", type(exc).__name__)
        break
for i in range(5):
    try:
        os.remove(f"/tmp/hog{i}")
    except OSError:
        pass
print("HELD_IN_TMP", written)
"""

HUGE = """\
print("spam " * 1_500_000)
from IPython.display import HTML, display
display(HTML("<p>" + "ham " * 1_500_000 + "</p>"))
"""
HUGE_Q1 = CONV1D_HEADER + "    return np.ones(40_000_000)\n"

NOISY_Q1 = CONV1D_HEADER + """\
    import sys, warnings, logging
    from tqdm.auto import tqdm
    warnings.warn("this is slow", RuntimeWarning)
    print("debug: x =", x, file=sys.stderr)
    logging.getLogger("student").warning("computing conv1d")
    for _ in tqdm(range(3)):
        pass
""" + CONV1D_LOOP

NOISY_CELL = """\
import sys, warnings, logging
warnings.warn("a warning at the top of a cell")
print("stderr at the top of a cell", file=sys.stderr)
logging.basicConfig()
logging.error("logging at the top of a cell")
"""

FRAMES_Q1 = CONV1D_HEADER + """\
    import inspect, sys, gc
    n = (len(x) + 2 * padding - len(h)) // stride + 1
    for info in inspect.stack():
        for name, value in info.frame.f_locals.items():
            if name in ("expected", "want", "reference", "ref") and np.shape(value) == (n,):
                return value
    frame = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, np.ndarray) and value.shape == (n,) and value is not x:
                return value
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, np.ndarray) and obj.shape == (n,) and obj is not x and obj.dtype == float:
            return obj
    return np.zeros(n)
"""

FORGE = """\
import os, sys, builtins
coll = sys.modules["cnnlab.course.judge.collector"]
chan = coll._STATE["channel"]
r = T["root"]
# swap the channel directory for a link into the course (the grader must not follow it)
os.rename(chan, chan + "-old")
os.symlink(r, chan)
old = chan + "-old"
def forged(rid):
    try:
        os.remove(os.path.join(old, f"req-{rid}.json"))
    except OSError:
        pass
    for name in (f"res-{rid}.json", f"tmp-{rid}.json"):
        try:
            os.symlink(r + "/.cnnlab/grading-secret", os.path.join(old, name))
        except OSError:
            pass
    for name in ("put-x.json", f"put-{rid}.json"):
        try:
            os.symlink(r + f"/{T['mark']}-forged.json", os.path.join(old, name))
        except OSError:
            pass
builtins.__cnnlab_serve__ = forged
print("serve replaced")
"""


def _lib_q1(body: str, prelude: str = "") -> str:
    return prelude + CONV1D_HEADER + "    x = np.pad(np.asarray(x, dtype=float), padding)\n" \
        "    h = np.asarray(h, dtype=float)\n" + body


# one submission, a blocked shortcut in every question that has a library rule: only
# question 6's numbers (1 point) are left
LIB_BLOCKED = {
    "q1_conv1d": _lib_q1("    return eval('np.con' + 'volve')(x, h, 'valid')[::stride]\n"),
    "q2_output_size": (
        "def conv_output_size(n, f, padding=0, stride=1):\n"
        "    return __import__('cnn' + 'lab').conv_output_size(n, f, padding=padding, stride=stride)\n"),
    "q3_toeplitz": (
        "import importlib\n"
        "def toeplitz(h, n):\n"
        "    h = np.asarray(h, dtype=float)\n"
        "    col = np.concatenate([h, np.zeros(n - 1)])\n"
        "    return importlib.import_module('scipy.' + 'linalg').toeplitz(col, np.zeros(n))\n"),
    "q4_pmf_sum": "from cnnlab import pmf_of_sum as _saved\ndef pmf_sum(p, q):\n    return _saved(p, q)\n",
    "q5_conv2d": (
        "def conv2d_valid(image, kernel):\n"
        "    import torch\n"
        "    out = torch.nn.functional.conv2d(torch.tensor(image, dtype=torch.float64)[None, None],\n"
        "                                     torch.tensor(kernel, dtype=torch.float64)[None, None])\n"
        "    return out[0, 0].numpy()\n"),
    "q6_same": (
        "def same_padding(n, f, stride=1):\n"
        "    import subprocess, sys\n"
        "    code = f'import cnnlab; print(*cnnlab.same_padding({n}, {f}, stride={stride}))'\n"
        "    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)\n"
        "    return tuple(int(v) for v in out.stdout.split())\n"),
}

# shortcuts that reach a library's convolution past the rule (question 1 only)
LIBRARY = {
    # the original dispatcher survives in numpy's registry of array functions
    "lib_registry": _lib_q1(
        "    orig = next(f for f in np._core.overrides.ARRAY_FUNCTIONS if f.__name__ == 'convolve')\n"
        "    return orig(x, h, 'valid')[::stride]\n"),
    # numpy's C function under np.convolve, one level down
    "lib_c": _lib_q1("    return np._core.multiarray.correlate2(x, h[::-1], 0)[::stride]\n"),
    # the original found by the garbage collector
    "lib_gc": _lib_q1(
        "    import gc\n"
        "    for obj in gc.get_objects():\n"
        "        if getattr(obj, '__name__', '') == 'convolve' and callable(obj) \\\n"
        "                and not getattr(obj, '__cnnlab_not_allowed__', False):\n"
        "            try:\n"
        "                return np.asarray(obj(x, h, 'valid'))[::stride]\n"
        "            except Exception:\n"
        "                pass\n"
        "    raise RuntimeError('no convolve left')\n"),
    # numpy's module re-executed: a fresh np.convolve
    "lib_reload": _lib_q1(
        "    import importlib\n"
        "    fresh = importlib.reload(importlib.import_module('numpy._core.numeric'))\n"
        "    return fresh.convolve(x, h, 'valid')[::stride]\n"),
}


def _submissions(root: pathlib.Path) -> dict:
    """student -> ({file name: text or ('symlink', target)}, expected score)."""
    release = nbformat.read(root / "assignments/ps1/ps1.ipynb", as_version=4)
    source = nbformat.read(root / "solutions/ps1/ps1.ipynb", as_version=4)
    solution = solved_release(source, release)
    for cell in solution.cells:  # what a student writes: no delimiters, no instructors' canary
        cell.source = "\n".join(line for line in cell.source.replace(HIDDEN_CANARY + "\n", "").splitlines()
                                if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
    targets = _targets(root)
    dump = nbformat.writes
    q1_lost = FULL - POINTS["q1_conv1d_test"]
    wrong_q1 = _with(solution, "q1_conv1d", CONV1D_WRONG)

    alice = _with(solution, "q6_same", _cell(solution, "q6_same").source + f"\n# {ALICE_CANARY}\n")
    subs = {"alice": ({"ps1.ipynb": dump(alice)}, FULL)}

    # tampering with checks or numpy: wrong answers stay wrong
    nb = _insert_after(wrong_q1, "setup", TAMPER_NUMPY)
    subs["h_tamper_numpy"] = ({"ps1.ipynb": dump(nb)}, q1_lost)
    nb = _insert_after(_with(release, "q1_conv1d", CONV1D_WRONG), "setup", TAMPER_NUMPY + TAMPER_CHECKS)
    subs["h_tamper_blank"] = ({"ps1.ipynb": dump(nb)}, 0.0)

    # swallowed errors: a blank notebook with the hooks
    nb = _insert_after(_with(release, "q1_conv1d", SWALLOW + CONV1D_WRONG), "setup", SWALLOW)
    subs["h_swallow"] = ({"ps1.ipynb": dump(nb)}, 0.0)

    # lying equality
    nb = _with(release, "q1_conv1d", LIARS)
    for gid, text in (("q4_dice", "p_W = LiarDict()\np_W"),
                      ("q5_edges", "edge_map = np.zeros((4, 4)).view(LiarArray)\ntrue_convolution = Liar()"),
                      ("q6_padding", "p_formula = LiarFloat(0.0)\npads_keep_all = (LiarInt(0), LiarInt(0))")):
        nb = _with(nb, gid, text)
    subs["h_liar"] = ({"ps1.ipynb": dump(nb)}, 0.0)

    # shadow modules: submitted beside the notebook, and written at run time
    subs["h_shadow_files"] = ({"ps1.ipynb": dump(_with(release, "q1_conv1d", CONV1D_WRONG)),
                               "cnnlab/__init__.py": SHADOW_CNNLAB, "numpy.py": SHADOW_NUMPY,
                               "sitecustomize.py": SHADOW_NUMPY}, 0.0)
    nb = _insert_after(_with(solution, "q1_conv1d", RUNTIME_SHADOW_Q1), "setup", RUNTIME_SHADOW)
    subs["h_shadow_runtime"] = ({"ps1.ipynb": dump(nb)}, q1_lost)

    # reading course files, writing outside the scratch directory, a daemon
    subs["h_read"] = ({"ps1.ipynb": dump(_insert_after(solution, "setup", targets + READ))}, FULL)
    subs["h_write"] = ({"ps1.ipynb": dump(_insert_after(solution, "setup", targets + WRITE))}, FULL)
    # a daemon (double fork, setsid) and a storm of sleeping children
    nb = _insert_after(solution, "setup", targets + DAEMON)
    nb = _insert_after(nb, "q2_output_size", targets + FORK_STORM)
    subs["h_procs"] = ({"ps1.ipynb": dump(nb)}, FULL)

    # killing the worker: from inside a judged call, and from cells (replayed around)
    nb = _with(solution, "q1_conv1d", KILL_IN_Q1)
    nb = _insert_after(nb, "q2_output_size", KILLS)
    nb = _insert_after(nb, "q3_toeplitz", KILL_ALL)
    subs["h_kill"] = ({"ps1.ipynb": dump(nb)}, q1_lost)

    # library one-liners
    nb = solution
    for gid, code in LIB_BLOCKED.items():
        nb = _with(nb, gid, code)
    subs["h_lib_blocked"] = ({"ps1.ipynb": dump(nb)}, float(POINTS["q6_padding_test"]))
    for student, code in LIBRARY.items():
        subs["h_" + student] = ({"ps1.ipynb": dump(_with(solution, "q1_conv1d", code))}, q1_lost)

    # stderr noise in a correct answer
    nb = _with(solution, "q1_conv1d", NOISY_Q1)
    nb = _insert_after(nb, "q1_conv1d", NOISY_CELL)
    subs["h_noisy"] = ({"ps1.ipynb": dump(nb)}, FULL)

    # frame reading
    subs["h_frames"] = ({"ps1.ipynb": dump(_with(solution, "q1_conv1d", FRAMES_Q1))}, q1_lost)

    # memory beyond the cap, huge outputs
    nb = _insert_after(solution, "q6_same", MEMORY_TMP)
    nb = _insert_after(nb, "q6_same", MEMORY_HOG)
    subs["h_memory"] = ({"ps1.ipynb": dump(nb)}, FULL)
    nb = _insert_after(_with(solution, "q1_conv1d", HUGE_Q1), "setup", HUGE)
    subs["h_huge"] = ({"ps1.ipynb": dump(nb)}, q1_lost)

    # the channel: a replaced __cnnlab_serve__ answering with links, the directory swapped
    subs["h_forge"] = ({"ps1.ipynb": dump(_insert_after(solution, "setup", targets + FORGE))}, 0.0)

    # a submission that is a link to the instructors' solution notebook
    subs["h_symlink"] = ({"ps1.ipynb": ("symlink", str(root / "solutions/ps1/ps1.ipynb")),
                          "secret.txt": ("symlink", str(root / ".cnnlab/grading-secret"))}, 0.0)
    return subs


# -- the one grading run ---------------------------------------------------------------------
def _tree_digest(path: pathlib.Path) -> dict:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def _marked_processes() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = pathlib.Path(f"/proc/{entry}/comm").read_text()
        except OSError:
            continue
        if comm.startswith(MARK):
            found.append(int(entry))
    return found


def _marked_files() -> list[pathlib.Path]:
    """Files named with MARK where the grader's machine keeps things."""
    places = [SITE, PACKAGE, REPO, pathlib.Path("/work/main"), pathlib.Path("/tmp"),
              pathlib.Path(os.path.expanduser("~"))]
    found = []
    for place in places:
        try:
            found += [p for p in place.iterdir() if MARK in p.name]
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-course")
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions" / "ps1", root / "solutions" / "ps1")
    path = root / "solutions" / "ps1" / "ps1.ipynb"
    source = nbformat.read(path, as_version=4)
    cell = _cell(source, "q1_conv1d_test")
    assert "### BEGIN HIDDEN TESTS\n" in cell.source
    begin = "### BEGIN HIDDEN TESTS\n"
    cell.source = cell.source.replace(begin, begin + HIDDEN_CANARY + "\n")
    nbformat.write(source, path)
    build(root, ["ps1"], prove=False, log=lambda *a: None)
    return root


@pytest.fixture(scope="module")
def graded(course):
    root = course
    subs = _submissions(root)
    for student, (files, _) in subs.items():
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, tuple):
                (folder / name).symlink_to(text[1])
            else:
                (folder / name).write_text(text, encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-01-15 10:00:00.000000 UTC")
    site_before = sorted(p.name for p in SITE.iterdir())
    alice_before = _tree_digest(root / "submitted" / "alice")
    os.environ["CNNLAB_RT_CANARY"] = ENV_CANARY  # the grader's environment holds a secret
    try:
        run = grade(root, "ps1", workers=2, timeout=TIMEOUT, memory=MEMORY, progress=False,
                    log=lambda *a: None)
    finally:
        os.environ.pop("CNNLAB_RT_CANARY", None)
    time.sleep(2.5)  # a surviving daemon writes every 0.5 s
    state = {
        "site_before": site_before, "site_after": sorted(p.name for p in SITE.iterdir()),
        "alice_before": alice_before, "alice_after": _tree_digest(root / "submitted" / "alice"),
        "processes": _marked_processes(), "files": _marked_files(),
        "course_files": [p for p in root.rglob("*") if MARK in p.name],
    }
    if os.environ.get("CNNLAB_HOSTILE_TIMES"):
        with open(os.environ["CNNLAB_HOSTILE_TIMES"], "w") as fh:
            json.dump({"total": run.seconds, **{r.student: r.seconds for r in run.results}}, fh, indent=1)
    yield root, subs, run, state
    for pid in state["processes"] + _marked_processes():  # only what this module's students started
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for path in state["files"] + _marked_files():
        try:
            path.unlink()
        except OSError:
            pass


def _feedback(root, student) -> str:
    path = root / "feedback" / student / "ps1" / "ps1.html"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _autograded(root, student):
    return nbformat.read(root / "autograded" / student / "ps1" / "ps1.ipynb", as_version=4)


def _cell_text(nb, grade_id) -> str:
    out = []
    for o in _cell(nb, grade_id).outputs:
        out.append(o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", ""))
    return "\n".join(out)


STUDENTS = sorted(["alice", "h_tamper_numpy", "h_tamper_blank", "h_swallow", "h_liar",
                   "h_shadow_files", "h_shadow_runtime", "h_read", "h_write", "h_procs", "h_kill",
                   "h_lib_blocked", "h_noisy", "h_frames", "h_memory", "h_huge", "h_forge",
                   "h_symlink"] + ["h_" + s for s in LIBRARY])


# -- scores ----------------------------------------------------------------------------------
def test_the_class_is_complete(graded):
    root, subs, run, _ = graded
    assert sorted(subs) == STUDENTS
    assert sorted(run.by_student("ps1")) == STUDENTS


@pytest.mark.parametrize("student", STUDENTS)
def test_exact_score(graded, student):
    root, subs, run, _ = graded
    result = run.by_student("ps1")[student]
    assert result.status == "graded", result.error[-1500:]
    assert result.max_score == FULL
    detail = ""
    if result.score != subs[student][1] and (root / "autograded" / student).exists():
        nb = _autograded(root, student)
        detail = {gid: _cell_text(nb, gid)[:300] for gid in POINTS}
    assert result.score == subs[student][1], detail


def test_library_rule_message_reaches_the_student(graded):
    root, _, _, _ = graded
    nb = _autograded(root, "h_lib_blocked")
    for gid, number in (("q1_conv1d_test", 1), ("q2_output_size_test", 2), ("q3_toeplitz_test", 3),
                        ("q4_pmf_sum_test", 4), ("q5_conv2d_test", 5), ("q6_same_test", 6)):
        text = _cell_text(nb, gid)
        assert ("not allowed in question" in text and f"question {number}" in text) or (
            gid == "q6_same_test" and "PermissionError" in text), (gid, text[:300])


def test_noisy_answers_keep_their_points_and_show_no_stderr_penalty(graded):
    root, _, _, _ = graded
    nb = _autograded(root, "h_noisy")
    assert not [o for o in _cell(nb, "q1_conv1d_test").outputs
                if o.output_type == "error" or o.get("name") == "stderr"]


@pytest.mark.parametrize("student, evidence", [
    ("h_procs", "daemon: FORK REFUSED"), ("h_procs", "storm: FORK REFUSED"), ("h_kill", "SIGKILL"),
    ("h_forge", "serve replaced"), ("h_memory", "HELD_BY_CHILDREN"), ("h_memory", "memory: FORK REFUSED"), ("h_read", "READ /proc/self/mountinfo"),
    ("h_write", "no " + str(SITE)), ("h_tamper_numpy", ""), ("h_huge", "truncated"),
])
def test_the_hostile_code_really_ran(graded, student, evidence):
    """(so that a case cannot pass because its attack never ran)"""
    root, _, _, _ = graded
    text = "".join(o.get("text", "") for c in _autograded(root, student).cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    assert evidence in text


# -- classmates ------------------------------------------------------------------------------
def test_alice_untouched(graded):
    root, _, run, state = graded
    assert run.by_student("ps1")["alice"].score == FULL
    assert state["alice_after"] == state["alice_before"]
    nb = _autograded(root, "alice")
    assert all(not [o for o in _cell(nb, gid).outputs if o.output_type == "error"] for gid in POINTS)
    assert ALICE_CANARY in _feedback(root, "alice")


def test_gradebook_sound(graded):
    root, subs, run, _ = graded
    con = sqlite3.connect(root / "gradebook.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute(
            "SELECT st.id, SUM(COALESCE(g.manual_score, g.auto_score)) FROM grade g "
            "JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "JOIN student st ON sa.student_id = st.id GROUP BY st.id").fetchall()
    finally:
        con.close()
    assert dict(rows) == {r.student: r.score for r in run.results}
    assert dict(rows)["alice"] == FULL
    csv_text = (root / "exports" / "ps1-students.csv").read_text()
    assert re.search(r"^alice,.*\b20\b", csv_text, re.M), csv_text[:400]


# -- nothing planted survives ------------------------------------------------------------
def test_no_process_survives(graded):
    _, _, _, state = graded
    assert state["processes"] == [], "processes started by submissions outlived grading"


def test_nothing_planted_on_the_machine(graded):
    _, _, _, state = graded
    assert state["site_after"] == state["site_before"]
    assert state["files"] == []
    assert state["course_files"] == []
    assert not list(PACKAGE.rglob(f"*{MARK}*"))


def test_forged_channel_wrote_nothing_into_the_course(graded):
    root, _, _, _ = graded
    stray = [p for p in root.iterdir() if re.match(r"(req|res|put|tmp)-", p.name)]
    assert stray == []


# -- nothing secret in feedback ---------------------------------------------------------------
def _secrets(root) -> dict:
    secret = (root / ".cnnlab" / "grading-secret").read_bytes()
    return {
        "hidden canary": HIDDEN_CANARY.lstrip("# "),
        "grading secret (hex)": secret.hex(),
        "grading secret (base64)": base64.b64encode(secret[:48]).decode()[:40],
        "grader environment": ENV_CANARY,
        "alice's work": ALICE_CANARY,
    }


@pytest.mark.parametrize("student", STUDENTS)
def test_no_secret_in_feedback(graded, student):
    root, subs, _, _ = graded
    html = _feedback(root, student)
    assert html, f"no feedback for {student}"
    found = [name for name, value in _secrets(root).items()
             if value in html and not (student == "alice" and name == "alice's work")]
    assert not found, f"{student}'s feedback contains: {found}"
    protected = leaks.protected_lines(nbformat.read(root / "solutions/ps1/ps1.ipynb", as_version=4))
    own = _own_lines(subs[student][0])
    # a student's own answer may repeat a solution line; anything else is a leak
    bad = [leak for leak in leaks.scan_html(html, protected, student)
           if not (leak.kind == "solution" and leak.line in own)]
    assert not bad, bad[:3]


def _own_lines(files) -> set:
    lines = set()
    for text in files.values():
        if isinstance(text, str) and text.lstrip().startswith("{"):
            try:
                nb = nbformat.reads(text, as_version=4)
            except Exception:
                continue
            for cell in nb.cells:
                lines |= {" ".join(line.split()) for line in cell.source.splitlines()}
    return lines


def test_feedback_sizes_bounded(graded):
    root, _, _, _ = graded
    assert (root / "feedback/h_huge/ps1/ps1.html").stat().st_size < 2_000_000


# -- limits that hold for the whole sandbox, not one process ---------------------------------
def test_memory_cap_holds_for_the_whole_sandbox(graded):
    """A kernel under a 1600 MiB cap must not hold more through forked children or files
    in its private /tmp (a tmpfs, i.e. memory): 20 such children would take the machine."""
    root, _, _, _ = graded
    text = "".join(o.get("text", "") for c in _autograded(root, "h_memory").cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    held = {k: int(v) for k, v in re.findall(r"(HELD_\w+) (\d+)", text)}
    assert set(held) == {"HELD_BY_CHILDREN", "HELD_IN_TMP"}, text[-500:]
    assert held["HELD_BY_CHILDREN"] * 2**20 < MEMORY_BYTES, held
    assert held["HELD_IN_TMP"] * 2**20 < MEMORY_BYTES, held


def _resident() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_trusted_side_bounds_memory_of_an_answer(tmp_path):
    """A kernel controls the bytes of its answer file (up to 256 MiB): a file of empty
    JSON objects must not become many times its size in the trusted worker (3 bytes per
    ``{}`` become ~70 bytes of Python objects: 256 MiB would take ~6 GB)."""
    from cnnlab.course.judge.trusted import read_answer

    size = 4 * 2**20
    (tmp_path / "res-x.json").write_text('{"status": "ok", "value": [' + "{}," * (size // 3) + "{}]}")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        before = _resident()
        answer = read_answer(fd, "x")
        growth = _resident() - before
    finally:
        os.close(fd)
    held = answer is not None
    del answer
    assert held and growth < 6 * size, f"a {size >> 20} MiB answer holds {growth >> 20} MiB in the grader"


def test_trusted_side_does_not_build_huge_models(monkeypatch):
    """A kernel controls the description of a torch model it sends (a replaced
    ``__cnnlab_serve__`` answers ``describe`` with any JSON): a message of 200 bytes must
    not make the trusted worker allocate and initialise the layer it names (measured:
    ``Linear(10**6, 250)`` cost the worker 1.2 GB and 30 s; a Sequential of such layers
    takes the machine). The layer's constructor is spied on, so nothing is allocated here."""
    torch = pytest.importorskip("torch")
    from cnnlab.course.judge import wire

    asked = []

    def spy(self, in_features, out_features, *args, **kwargs):
        asked.append(in_features * out_features)
        raise RuntimeError("not built in this test")

    monkeypatch.setattr(torch.nn.Linear, "__init__", spy)
    layer = {"type": "Linear", "args": {"in_features": 10**6, "out_features": 10**6, "bias": False},
             "training": False}
    msg = {"$": "module", "type": "Sequential", "repr": "", "state": [],
           "spec": {"type": "Sequential", "children": [[str(i), layer] for i in range(3)], "training": False}}
    with pytest.raises(wire.WireError):
        wire.decode(msg)
    assert not [n for n in asked if n > wire.MAX_ELEMENTS], (
        f"the trusted side tried to build layers of {asked} weights from a 400-byte message")
