"""The trusted-grading machinery piece by piece, without nbgrader: the wire format
(hostile data), the bubblewrap policy (attacked from inside), the no-exec filter, and
the judge's verdicts against a kernel simulated in-process (no forged verdicts)."""
from __future__ import annotations

import base64
import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest

from cnnlab.course.judge import collector, sandbox, wire
from cnnlab.course.judge.link import Judge, Verdict

ROOT = pathlib.Path(__file__).resolve().parents[1]


# -- wire ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 2.5, float("nan"), float("inf"), "text", Fraction(3, 8),
    np.float32(1.5), np.int64(7), np.bool_(True), np.arange(6.0).reshape(2, 3), np.zeros((0, 3), np.int8),
    [1, (2, 3), {4}], {1: Fraction(1, 6), "a": [2.5]},
])
def test_wire_round_trip(value):
    back = wire.decode(json.loads(json.dumps(wire.encode(value), allow_nan=False)))
    if isinstance(value, float) and value != value:
        assert back != back
    elif isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray) and back.dtype == value.dtype and np.array_equal(back, value)
    else:
        assert back == value and type(back) is type(value)


def test_wire_round_trip_nested_arrays():
    back = wire.decode(wire.encode({"a": [np.arange(2)], (1, 2): np.eye(2, dtype=bool)}))
    assert back["a"][0].tolist() == [0, 1] and back[(1, 2)].dtype == bool


def test_wire_keeps_numpy_scalar_types_apart():
    assert isinstance(wire.decode(wire.encode(np.int32(3))), np.integer)
    assert isinstance(wire.decode(wire.encode(np.float64(3))), np.floating)


def _npy(arr, **kw) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("obj, match", [
    ({"$": "nd", "npy": _npy(np.array([object()], dtype=object), allow_pickle=True)}, "could not be read|numbers"),
    ({"$": "nd", "npy": _npy(np.array(["a"]))}, "numbers or booleans"),
    ({"$": "nd", "npy": "!!!"}, "could not be read"),
    ({"$": "eval", "v": "__import__('os')"}, "unknown tag"),
    ({"$": "remote", "expr": "1"}, "unknown tag"),          # only the kernel accepts these
    ({"no": "tag"}, "unexpected"),
    ({"$": "frac", "v": [1, 0]}, "bad fraction"),
    ({"$": "np", "dtype": "O", "v": 1}, "numpy scalar"),
    (10**500, "too large"),
    ({"$": "module", "type": "X", "spec": {"type": "Exec", "args": {}}, "state": []}, "unknown layer"),
])
def test_wire_refuses_hostile_data(obj, match):
    with pytest.raises(wire.WireError, match=match):
        wire.decode(obj)


def test_wire_bounds_depth_and_size(monkeypatch):
    deep = 1
    for _ in range(60):
        deep = {"$": "list", "v": [deep]}
    with pytest.raises(wire.WireError, match="deeply"):
        wire.decode(deep)
    monkeypatch.setattr(wire, "MAX_ELEMENTS", 10)
    with pytest.raises(wire.WireError, match="array"):
        wire.decode(wire.encode([np.zeros(6), np.zeros(6)]))


def test_a_lying_object_crosses_as_an_opaque_value():
    class Liar:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    class Sub(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(other), bool)

    back = wire.decode(wire.encode(Liar()))
    assert isinstance(back, wire.Opaque) and back != 3
    sub = np.zeros(3).view(Sub)
    assert type(wire.decode(wire.encode(sub))) is wire.Opaque  # no subclass crosses, lying or not


def test_wire_rebuilds_standard_torch_layers_only():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(8, 3)).eval()
    back = wire.decode(json.loads(json.dumps(wire.encode(net))))
    x = torch.rand(2, 1, 4, 4)
    assert type(back) is torch.nn.Sequential and not back.training
    assert torch.equal(back(x), net(x))

    class Custom(torch.nn.Module):
        def forward(self, x):
            return x

    opaque = wire.decode(wire.encode(Custom()))
    assert isinstance(opaque, wire.OpaqueModule)
    with pytest.raises(TypeError, match="Sequential of standard"):
        opaque(x)


# -- the judge against an in-process stand-in for the kernel ------------------------------
def _fake_kernel(ns: dict, tmp_path):
    """An rpc to the collector code running in this process on ``ns`` (JSON both ways)."""
    channel = tmp_path / "chan"
    channel.mkdir(exist_ok=True)
    collector._STATE.update(channel=str(channel), ns=ns)

    def rpc(payload):
        rid = os.urandom(4).hex()
        (channel / f"req-{rid}.json").write_text(json.dumps(payload))
        collector.serve(rid)
        return json.loads((channel / f"res-{rid}.json").read_text())

    return rpc


def _judge(test_code: str, trusted=None) -> Judge:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(test_code)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t", "points": 1, "locked": True}
    nb.cells = [cell]
    ns = {"np": np, "C": __import__("cnnlab.course.checks._core", fromlist=["_"])}
    ns.update(trusted or {})
    return Judge(nb, secret=b"k" * 32, label="ps0/ps0", trusted_ns=ns)


TEST = """
c = C.Checker("double")
for x in (np.arange(3.0), grader.rng().normal(size=5)):
    c.array(c.call(double, x.copy(), name="double"), 2 * x, call="double(x)")
c.done()
"""


def _student(code: str) -> dict:
    ns: dict = {"np": np}
    exec(textwrap.dedent(code), ns)
    return ns


@pytest.mark.filterwarnings("ignore:a warning:UserWarning")
def test_a_correct_answer_passes_and_its_noise_costs_nothing(tmp_path):
    ns = _student("""
        import sys, warnings
        def double(x):
            print("debug", x)
            print("progress", file=sys.stderr)
            warnings.warn("a warning")
            return 2 * np.asarray(x)
    """)
    verdict = _judge(TEST).run("t", _fake_kernel(ns, tmp_path))
    assert verdict == Verdict(True, "✔ double: all 2 checks passed\n")


@pytest.mark.parametrize("code, message", [
    ("def double(x):\n    return x", "returned the wrong values"),
    ("def double(x):\n    raise NotImplementedError()", "not implemented yet"),
    ("def double(x):\n    return [1, 2]", "wrong shape"),
    ("class Liar:\n    def __eq__(self, o): return True\n"
     "def double(x):\n    return Liar()", "should return an array of numbers"),
    ("def double(x):\n    return 1 / 0", "raised ZeroDivisionError: division by zero"),
    ("double = 5", "is not a function"),
    ("", "double is not defined in your notebook"),
])
def test_wrong_answers_get_a_readable_failure(tmp_path, code, message):
    verdict = _judge(TEST).run("t", _fake_kernel(_student(code), tmp_path))
    assert not verdict.passed and message in verdict.text


def test_nothing_in_the_kernel_reaches_the_expected_values(tmp_path):
    """The student's namespace is all the kernel has: the expected values are computed by
    the trusted test code, which the kernel never sees."""
    ns = _student("""
        import sys
        def double(x):
            f = sys._getframe(1)
            while f is not None:                      # look for the checker's expected values
                for v in f.f_locals.values():
                    if isinstance(v, np.ndarray) and v.shape == np.shape(x) and not (v == x).all():
                        return v
                f = f.f_back
            return x
    """)
    verdict = _judge(TEST).run("t", _fake_kernel(ns, tmp_path))
    assert not verdict.passed


def test_hidden_inputs_come_from_the_secret(tmp_path):
    seen = []
    ns = _student("def double(x):\n    return 2 * x")
    ns["double"] = lambda x, _seen=seen: (_seen.append(np.asarray(x).copy()), 2 * np.asarray(x))[1]
    judge = _judge(TEST)
    judge.run("t", _fake_kernel(ns, tmp_path))
    judge.run("t", _fake_kernel(ns, tmp_path))
    assert np.array_equal(seen[1], seen[3])           # stable across re-grading
    other = _judge(TEST)
    other.secret = b"z" * 32
    other.run("t", _fake_kernel(ns, tmp_path))
    assert not np.array_equal(seen[1], seen[5])       # another course secret, other inputs


# -- the sandbox, attacked from inside -----------------------------------------------
needs_bwrap = pytest.mark.skipif(not sandbox.available() and not os.environ.get("CNNLAB_REQUIRE_SANDBOX"),
                                 reason=sandbox.why_unavailable() or "no bwrap")


def _inside(tmp_path, code: str) -> subprocess.CompletedProcess:
    scratch, private = tmp_path / "scratch", tmp_path / "private"
    scratch.mkdir(exist_ok=True)
    private.mkdir(exist_ok=True)
    cmd = sandbox.wrap([sys.executable, "-c", textwrap.dedent(code)], scratch=str(scratch), private=str(private))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@needs_bwrap
def test_the_sandbox_hides_the_course_and_the_machine(tmp_path):
    (tmp_path / "secret.txt").write_text("instructor only")
    out = _inside(tmp_path, f"""
        import os
        for p in [{str(ROOT / 'solutions')!r}, {str(ROOT / 'nbgrader_config.py')!r},
                  {str(tmp_path / 'secret.txt')!r}, '/root', '/etc/shadow', '/etc/passwd', '/home']:
            print(p, os.path.exists(p) and (os.listdir(p) if os.path.isdir(p) else 'FILE'))
        print('cwd', os.getcwd(), sorted(os.listdir('.')))
        print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
        print('env', sorted(os.environ))
    """)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines[str(ROOT / "solutions")] == "False"
    assert lines[str(ROOT / "nbgrader_config.py")] == "False"
    assert lines[str(tmp_path / "secret.txt")] == "False"
    assert lines["/etc/shadow"] == "False" and lines["/etc/passwd"] == "False"
    assert lines["/home"] in ("['student']", "False")
    assert lines["cwd"] == "/home/student []"
    assert max(eval(lines["pids"])) < 10             # its own PID namespace
    assert "JPY_PARENT_PID" not in lines["env"] and "HOME" in lines["env"]


@needs_bwrap
def test_the_sandbox_is_read_only_but_for_its_scratch_dir(tmp_path):
    import cnnlab

    targets = [os.path.dirname(cnnlab.__file__) + "/planted.py", sys.prefix + "/planted.pth",
               "/usr/planted", str(tmp_path / "planted")]
    out = _inside(tmp_path, f"""
        for p in {targets!r} + ['/home/student/mine.txt', '/tmp/mine.txt']:
            try:
                open(p, 'w').write('x')
                print('WROTE', p)
            except OSError as exc:
                print('refused', p, exc.errno)
    """)
    assert out.returncode == 0, out.stderr
    for t in targets:
        assert not os.path.exists(t)  # (a path under a bound folder may exist in the tmpfs inside)
    for t in targets[:3]:
        assert f"WROTE {t}" not in out.stdout
    assert "WROTE /home/student/mine.txt" in out.stdout and (tmp_path / "scratch" / "mine.txt").exists()
    assert "WROTE /tmp/mine.txt" in out.stdout   # a private tmpfs ...
    assert not os.path.exists("/tmp/mine.txt")   # ... that is not the machine's /tmp


@needs_bwrap
def test_the_sandbox_has_no_network_and_cannot_signal_the_grader(tmp_path):
    out = _inside(tmp_path, f"""
        import os, signal, socket
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=2)
            print('connected')
        except OSError as exc:
            print('no network', exc.errno)
        for target in ({os.getpid()}, os.getppid(), -1):
            try:
                os.kill(target, 0)
                print('can signal', target)
            except OSError as exc:
                print('cannot signal', target, exc.errno)
    """)
    assert out.returncode == 0, out.stderr
    assert "no network" in out.stdout and "connected" not in out.stdout
    assert f"can signal {os.getpid()}" not in out.stdout


@needs_bwrap
def test_nothing_started_in_the_sandbox_outlives_it(tmp_path):
    marker = tmp_path / "scratch" / "alive"
    out = _inside(tmp_path, """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(3)
                open('/home/student/alive', 'w').write('daemon survived')
                os._exit(0)
            os._exit(0)
        print('parent exits')
    """)
    assert out.returncode == 0, out.stderr
    import time
    time.sleep(4)
    assert not marker.exists()


def test_no_exec_blocks_new_programs_in_a_child():
    code = ("from cnnlab.course.judge.noexec import forbid_exec\n"
            "import subprocess, sys\nok = forbid_exec()\n"
            "try:\n    subprocess.run([sys.executable, '-c', 'print(1)'])\n    print('ran')\n"
            "except PermissionError:\n    print('blocked', ok)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "blocked True", out.stderr


WATCH_SCRIPT = r"""
import gc, importlib, sys, time
import numpy as np
from cnnlab.course.checks import ps1, _rules
watch = _rules.install(_rules.forbidden_in(ps1.RULES))
x, h = np.arange(5.0), np.array([1.0, 2.0])
attacks = {
    "alias": lambda: __import__("numpy").convolve(x, h),
    "eval": lambda: eval("np.convolve")(x, h),
    "registry": lambda: next(f for f in np._core.overrides.ARRAY_FUNCTIONS
                             if getattr(f, "__name__", "") == "convolve")(x, h),
    "c_routine": lambda: np._core.multiarray.correlate2(x, h[::-1], 0),
    "gc": lambda: next(o for o in gc.get_objects() if getattr(o, "__name__", "") == "convolve"
                       and not getattr(o, "__cnnlab_not_allowed__", False))(x, h),
    "reload": lambda: importlib.reload(importlib.import_module("numpy._core.numeric")).convolve(x, h),
    "polymul": lambda: np.polymul(x, h),
    "caught": lambda: _swallow(),
    "unhooked": lambda: (sys.setprofile(None), x.sum())[1],
}
def _swallow():  # a forbidden call whose refusal the answer hides
    try:
        importlib.reload(importlib.import_module("numpy._core.numeric")).convolve(x, h)
    except Exception:
        pass
    return 0
for name, fn in attacks.items():
    try:
        with watch:
            fn()
        print(name, "VIOLATION" if watch.violation else "ESCAPED")
    except StopIteration:
        print(name, "UNREACHABLE")
    except _rules.NotAllowed:
        print(name, "REFUSED")
import tqdm, warnings
def honest(x, h):
    for _ in tqdm.tqdm(range(3), file=sys.stderr):
        warnings.warn("noise")
    return np.array([sum(x[i:i + 2] * h[::-1]) for i in range(4)])
with watch:
    honest(x, h)
print("honest", repr(watch.violation))
"""


def test_the_library_rule_holds_however_the_function_is_reached():
    """The grading kernel's rule (stubs + the profile watch), in a throw-away process."""
    out = subprocess.run([sys.executable, "-c", WATCH_SCRIPT], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    results = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert results.pop("honest") == "''", out.stdout + out.stderr
    for name, verdict in results.items():
        assert verdict in ("REFUSED", "VIOLATION", "UNREACHABLE"), (name, verdict, out.stderr[-2000:])
    assert results["unhooked"] == "VIOLATION" and results["caught"] == "VIOLATION"
