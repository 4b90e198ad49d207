"""Grading kernels that a hostile notebook can neither escape, fool nor take down.

nbgrader executes each submission with :class:`GradingExecute` (configured in the
repository's ``nbgrader_config.py``), a drop-in replacement for nbgrader's ``Execute``:

* every kernel runs in the bubblewrap sandbox of :mod:`cnnlab.course.judge.sandbox`
  (its own namespaces, a read-only system, a scratch directory holding a copy of the
  notebook and nothing else); grading refuses to start without it unless ``sandbox`` is
  False (``cnnlab-course grade --no-sandbox``);
* graded test cells are not executed in the kernel: :class:`cnnlab.course.judge.link.Judge`
  runs the source notebook's test cell in this (trusted) process, fetching the student's
  values and calling the student's functions in the kernel as plain data; the verdict
  becomes the cell's output (a stream on success, an error on failure), which is what
  nbgrader's ``SaveAutoGrades`` scores. What the student's code prints while it is
  checked is not part of the verdict;
* before the notebook, the kernel gets the assignment's library rule and a seccomp filter
  that refuses ``execve`` (:mod:`cnnlab.course.judge.collector`);
* every kernel starts under :mod:`cnnlab.course._sandbox`, which caps its address space
  (``memory_limit``) and the size of files it writes (``file_size_limit``) and pins the
  math libraries to one thread, so a memory bomb raises ``MemoryError`` in that cell;
* a cell that kills its kernel (``os._exit``, a segfault, a crash under the memory cap)
  or hangs even after the interrupt gets an error output saying so; the kernel is
  restarted, the cells before it are replayed silently, and grading goes on, so only the
  questions that depend on that cell lose points;
* a cell's output is capped at ``max_output_chars`` while it arrives, so a print loop
  cannot balloon the grader's memory or the feedback.
* a kernel is killed with its process group as soon as its notebook has run
  (``shutdown_kernel = "immediate"``): it has nothing to save, and waiting for a
  graceful exit cost every submission 0.2-0.3 s.

The per-cell timeout is nbgrader's ``Execute.timeout`` (set explicitly in
``nbgrader_config.py``); on timeout the kernel is interrupted and the cell fails.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import sys
import tempfile
import time
import uuid

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Bool, Enum, Integer, Unicode, default

__all__ = ["GradingExecute", "GradingKernelManager", "parse_size"]

SANDBOX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandbox.py")

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(value) -> int:
    """Bytes from ``"4G"``, ``"512M"``, ``"1.5GiB"``, ``4294967296``; 0 means no limit.

    >>> parse_size("4G"), parse_size("512M"), parse_size(0), parse_size("none")
    (4294967296, 536870912, 0, 0)
    """
    if isinstance(value, bool):
        raise TypeError(f"size must be a number of bytes or a string like '4G', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"size must be >= 0 bytes, got {value}")
        return value
    if not isinstance(value, str):
        raise TypeError(f"size must be a number of bytes or a string like '4G', got {value!r}")
    text = value.strip().upper()
    if text in ("", "0", "NONE", "OFF", "UNLIMITED"):
        return 0
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?", text)
    if not match:
        raise ValueError(f"size must look like '4G', '512M' or a number of bytes, got {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start under :mod:`cnnlab.course._sandbox`, inside
    the bubblewrap sandbox of :mod:`cnnlab.course.judge.sandbox` when ``scratch`` is set."""

    memory_limit = Integer(0, help="Address-space cap of the kernel in bytes (0: none).").tag(config=True)
    file_size_limit = Integer(0, help="Largest file the kernel may write, bytes (0: none).").tag(config=True)
    #: the submission's scratch directory (the kernel's only writable place besides
    #: ``private``); None: no bubblewrap (a kernel under resource limits only)
    scratch = None
    #: the kernel's private directory: connection file, Unix sockets, the request channel
    private = None

    @default("transport")
    def _default_transport(self):
        # local ipc sockets: no TCP ports to race for when many kernels start at once
        # (their paths must stay under the ~100-character limit of a socket path)
        return "ipc" if len(jupyter_runtime_dir()) <= 48 else "tcp"

    def _ip_default(self):
        if self.private:
            return os.path.join(self.private, "ipc")
        if self.transport == "ipc":  # an absolute path: the kernel runs in another cwd
            runtime = jupyter_runtime_dir()
            os.makedirs(runtime, exist_ok=True)
            return os.path.join(runtime, f"grading-{uuid.uuid4().hex[:12]}-ipc")
        return super()._ip_default()

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.private and sys.version_info >= (3, 11) and cmd[1:2] == ["-m"]:
            # -P: the working directory (the scratch directory, writable by the student)
            # is not on sys.path, so no module written there can replace one the kernel
            # imports when it starts again after a crash
            cmd = [cmd[0], "-P", *cmd[1:]]
        prefix = [sys.executable, "-I", "-S", SANDBOX]
        if self.memory_limit:
            prefix += ["--memory", str(self.memory_limit)]
        if self.file_size_limit:
            prefix += ["--fsize", str(self.file_size_limit)]
        if self.private:
            prefix.append("--quiet")
        cmd = [*prefix, "--", *cmd]
        if self.scratch is not None:
            from .judge import sandbox
            cmd = sandbox.wrap(cmd, scratch=self.scratch, private=self.private)
        return cmd

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.scratch is not None:
            # interrupt over the control channel: a SIGINT to the process group would also
            # reach bubblewrap's own processes, which die of it (and the kernel with them)
            spec.interrupt_mode = "message"
        return spec

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client checks every 100 ms whether a stopped kernel has exited; a killed
        # kernel is gone within milliseconds, and those 100 ms came with every notebook
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))


#: run silently in every grading kernel before the notebook: ``exit()``/``quit()`` would
#: end the kernel after the cell (failing whatever comes next), so they raise instead
PREAMBLE = """\
def __cnnlab_no_exit(*args, **kwargs):
    raise SystemExit("exit()/quit() would end the kernel; while grading it is an error")
get_ipython().ask_exit = __cnnlab_no_exit
del __cnnlab_no_exit
"""


def _make_dirs(nb, name: str) -> dict:
    """The submission's scratch directory (a copy of the notebook, nothing else) and the
    kernel's private directory (connection file, sockets, request channel). Short paths
    under /tmp: a Unix socket path has ~100 characters."""
    import nbformat

    scratch = tempfile.mkdtemp(prefix="cnnlab-s-", dir="/tmp" if os.path.isdir("/tmp") else None)
    private = tempfile.mkdtemp(prefix="cnnlab-k-", dir="/tmp" if os.path.isdir("/tmp") else None)
    channel = os.path.join(private, "chan")
    os.mkdir(channel)
    notebook_name = f"{os.path.basename(name) or 'submission'}.ipynb"
    text = nbformat.writes(nb)
    dirs = {"scratch": scratch, "private": private, "channel": channel,
            "notebook_name": notebook_name, "notebook_text": text}
    _reset_scratch(dirs)
    dirs["channel_fd"] = os.open(channel, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    return dirs


def _reset_scratch(dirs: dict) -> None:
    shutil.rmtree(dirs["scratch"], ignore_errors=True)
    os.mkdir(dirs["scratch"], 0o700)
    with open(os.path.join(dirs["scratch"], dirs["notebook_name"]), "w", encoding="utf-8") as fh:
        fh.write(dirs["notebook_text"])


def _error_output(ename: str, message: str):
    return new_output(
        "error", ename=ename, evalue=message,
        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {message}"],
    )


class GradingExecute(Execute):
    """nbgrader's ``Execute`` with sandboxed, capped, restartable kernels and trusted
    verdicts (see the module docstring)."""

    sandbox = Bool(
        True, help="Run every kernel inside bubblewrap (cnnlab.course.judge.sandbox). "
                   "False only with an explicit instruction (cnnlab-course grade --no-sandbox)."
    ).tag(config=True)
    secret_file = Unicode(
        "", help="The course's grading secret (random inputs of the hidden tests); "
                 "default: <course root>/.cnnlab/grading-secret, created when missing."
    ).tag(config=True)

    memory_limit = Unicode(
        "4G", help="Address-space cap per kernel, e.g. '4G' or '512M'; '0' for none."
    ).tag(config=True)
    file_size_limit = Unicode(
        "1G", help="Largest file a kernel may write, e.g. '1G'; '0' for none."
    ).tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of output kept per cell; the rest is dropped with a note."
    ).tag(config=True)
    max_kernel_restarts = Integer(
        3, help="Kernel restarts per notebook before the remaining cells are marked not run."
    ).tag(config=True)
    shutdown_kernel = Enum(
        ["graceful", "immediate"], default_value="immediate",
        help="How a kernel is stopped once its notebook has run. 'immediate' (here the "
             "default) kills its process group: a grading kernel has nothing to save, and a "
             "graceful exit took 0.2-0.3 s of every submission.",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        super().__init__(*args, **kwargs)

    # -- kernels -------------------------------------------------------------------
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if isinstance(km, GradingKernelManager):
            km.memory_limit = parse_size(self.memory_limit)
            km.file_size_limit = parse_size(self.file_size_limit)
            if self._dirs is not None:
                km.scratch = self._dirs["scratch"] if self.sandbox else None
                km.private = self._dirs["private"]
                km.transport = "ipc"
                km.ip = os.path.join(self._dirs["private"], "ipc")
                km.connection_file = os.path.join(self._dirs["private"], f"kernel-{uuid.uuid4().hex[:8]}.json")
        return km

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        preamble = PREAMBLE
        if self._judge is not None:
            preamble += (
                "from cnnlab.course.judge import collector as __cnnlab_collector\n"
                f"__cnnlab_collector.setup({self._dirs['channel']!r}, {self._forbidden!r}, "
                f"noexec={bool(self.sandbox)!r})\n"
                "del __cnnlab_collector\n")
        msg_id = await ensure_async(kc.execute(preamble, silent=True, store_history=False))
        reply = await self.async_wait_for_reply(msg_id)
        if reply is not None and reply["content"].get("status") != "ok":
            content = reply["content"]
            raise RuntimeError(f"the grading kernel could not be prepared: {content.get('ename')}: "
                               f"{content.get('evalue')}")
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def preprocess(self, nb, resources=None, km=None):
        self._restarts = 0
        self._gave_up = None
        self._replayable: list[int] = []
        self._out_chars: dict[int, int] = {}
        message = (f"this cell ran longer than the grader's limit of {self.timeout} s per cell "
                   "and was interrupted (an endless loop? a very slow computation?)")
        self.error_on_timeout = {"ename": "CellTimeoutError", "evalue": message,
                                 "traceback": [f"\x1b[0;31mCellTimeoutError\x1b[0m: {message}"]}
        self._judge, self._forbidden, self._dirs = None, {}, None
        if self.sandbox:
            from .judge import sandbox
            if not sandbox.available():
                raise sandbox.SandboxUnavailable(
                    "no sandbox for the grading kernels: " + sandbox.why_unavailable()
                    + ". Install bubblewrap, or grade with --no-sandbox (see README).")
        self._dirs = _make_dirs(nb, (resources or {}).get("nbgrader", {}).get("notebook", "submission"))
        try:
            self._judge, self._forbidden = self._load_judge(resources)
            return super().preprocess(nb, resources, km=km)
        finally:
            dirs, self._dirs = self._dirs, None
            os.close(dirs["channel_fd"])
            for d in (dirs["private"], dirs["scratch"]):
                shutil.rmtree(d, ignore_errors=True)

    # -- the trusted judge -----------------------------------------------------------
    def _load_judge(self, resources):
        """The source notebook's tests and set-up, the secret and the library rule."""
        from nbgrader.coursedir import CourseDirectory

        from .judge.link import Judge
        from .judge.trusted import forbidden_for, load_secret, trusted_namespace

        info = (resources or {}).get("nbgrader", {})
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if not assignment or not notebook:
            return None, {}
        coursedir = CourseDirectory(config=self.config)
        source = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment),
                              f"{notebook}.ipynb")
        if not os.path.exists(source):
            return None, {}
        import nbformat
        source_nb = nbformat.read(source, as_version=4)
        secret = load_secret(self.secret_file or os.path.join(coursedir.root, ".cnnlab", "grading-secret"))
        judge = Judge(source_nb, secret=secret, label=f"{assignment}/{notebook}",
                      trusted_ns=trusted_namespace(source_nb))
        return judge, forbidden_for(assignment)

    def _judge_cell(self, cell, index):
        from .judge.link import JudgeTimeout, KernelGone

        gid = cell.metadata["nbgrader"]["grade_id"]
        deadline = time.monotonic() + self.timeout
        cell.outputs = []
        cell.execution_count = None
        try:
            verdict = self._judge.run(gid, lambda payload: self._rpc(payload, deadline))
        except JudgeTimeout:
            cell.outputs.append(_error_output("CellTimeoutError", (
                f"your code ran longer than the grader's limit of {self.timeout} s for these "
                "checks and was interrupted (an endless loop? a very slow computation?)")))
            return
        except KernelGone as exc:
            if str(exc) == "timeout":
                cell.outputs.append(_error_output("CellTimeoutError", (
                    f"your code ran past the grader's limit of {self.timeout} s for these checks "
                    "and did not stop when interrupted, so its kernel was killed")))
            else:
                cell.outputs.append(_error_output("KernelDied", (
                    "the kernel died while the grader ran your code for these checks (it crashed, "
                    "ran out of memory, or the code ended the process, e.g. with os._exit)"
                    + (f"; {exc}" if str(exc) else "") + ".")))
            self._recover(index, cell)
            return
        if verdict.passed:
            cell.outputs.append(new_output("stream", name="stdout", text=verdict.text or "✔ passed\n"))
        else:
            cell.outputs.append(_error_output(verdict.ename or "CheckFailed", verdict.text))

    def _rpc(self, payload: dict, deadline: float) -> dict:
        from .judge.link import JudgeTimeout, KernelGone
        from .judge.trusted import read_answer, write_request

        rid = uuid.uuid4().hex
        try:
            write_request(self._dirs["channel_fd"], rid, payload)
        except OSError as exc:
            raise KernelGone(f"the grader could not reach the kernel ({exc.strerror})") from None
        msg_id = self.kc.execute(f"__cnnlab_serve__({rid!r})", silent=True, store_history=False,
                                 allow_stdin=False)
        reply = run_sync(self._async_await_reply)(msg_id, deadline)
        if reply is None:  # past the deadline: interrupt, and kill if that does not help
            try:
                run_sync(self.km.interrupt_kernel)()
            except Exception:
                pass
            reply = run_sync(self._async_await_reply)(msg_id, time.monotonic() + 5)
            if reply is None:
                raise KernelGone("timeout")
            raise JudgeTimeout()
        answer = read_answer(self._dirs["channel_fd"], rid)
        if answer is None:
            content = reply.get("content", {})
            if content.get("ename") == "KeyboardInterrupt":
                raise JudgeTimeout()
            return {"status": "error", "message": (
                "your notebook broke the grader's connection to your code "
                f"({str(content.get('ename', ''))[:80]}: {str(content.get('evalue', ''))[:200]})")}
        return answer

    async def _async_await_reply(self, msg_id, deadline):
        import queue

        from .judge.link import KernelGone

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(remaining, 0.5)))
            except queue.Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise KernelGone("") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._gave_up:
            cell.outputs = [_error_output("NotRun", self._gave_up)]
            return cell, resources
        meta = cell.metadata.get("nbgrader", {})
        if (self._judge is not None and meta.get("grade") and not meta.get("solution")
                and meta.get("grade_id") in self._judge.tests):
            self._judge_cell(cell, index)
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            if isinstance(exc, DeadKernelError):
                ename, what = "KernelDied", (
                    "the kernel died while running this cell (it crashed, ran out of memory "
                    "or the code ended the process, e.g. with os._exit)")
            else:
                ename, what = "CellTimeoutError", (
                    f"this cell ran past the {self.timeout} s limit and did not stop when "
                    "interrupted, so its kernel was killed")
            cell.setdefault("outputs", []).append(_error_output(ename, what + "."))
            self._recover(index, cell)
            return cell, self.resources
        if not any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._replayable.append(index)
        return cell, resources

    def _recover(self, index, cell):
        if self._restarts >= self.max_kernel_restarts:
            self._gave_up = (f"not run: the kernel died {self._restarts + 1} times in this "
                             "notebook, so the grader stopped executing it")
            return
        self._restarts += 1
        try:
            run_sync(self._async_restart_and_replay)()
        except Exception as exc:  # the replay itself killed the kernel again
            self._gave_up = f"not run: the kernel could not be restored after cell {index} ({exc})"
            return
        note = ("The grader restarted the kernel and re-ran the cells before this one; "
                "the rest of the notebook was graded normally.")
        cell.outputs.append(new_output("stream", name="stderr", text=note + "\n"))

    async def _async_restart_and_replay(self):
        old_km, old_kc = self.km, self.kc
        if old_kc is not None:
            try:
                old_kc.stop_channels()
            except Exception:
                pass
        try:
            await ensure_async(old_km.shutdown_kernel(now=True))
        except Exception:
            pass
        self.kc = None
        if self._dirs is not None:  # a fresh scratch directory: nothing the last kernel left
            _reset_scratch(self._dirs)
        self.km = self.create_kernel_manager()
        await self.async_start_new_kernel()
        await self.async_start_new_kernel_client()
        for i in self._replayable:
            source = self.nb.cells[i].source
            msg_id = await ensure_async(self.kc.execute(source, store_history=False, allow_stdin=False))
            reply = await self.async_wait_for_reply(msg_id, self.nb.cells[i])
            if reply is None:
                raise RuntimeError(f"cell {i} timed out while it was replayed")

    # -- outputs -------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        limit = self.max_output_chars
        if limit <= 0 or msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        used = self._out_chars.get(cell_index, 0)
        content = msg.get("content", {})
        if msg["msg_type"] == "stream":
            size = len(content.get("text", ""))
        else:
            size = sum(len(str(v)) for v in content.get("data", {}).values())
        if used >= limit:
            return None
        if used + size > limit:
            self._out_chars[cell_index] = limit
            note = (f"\n... output truncated by the grader: this cell printed more than "
                    f"{limit:,} characters ...\n")
            if msg["msg_type"] == "stream":
                msg = copy.deepcopy(msg)
                msg["content"]["text"] = content["text"][: max(limit - used, 0)] + note
                return super().output(outs, msg, display_id, cell_index)
            outs.append(new_output("stream", name="stderr", text=note))
            return None
        self._out_chars[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)
