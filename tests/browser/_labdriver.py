"""Start JupyterLab from the project's environment and drive it in headless Chromium.

Everything a browser test needs and nothing else: a :class:`LabServer` (one
``jupyter lab`` process on 127.0.0.1, a free port, a token, stopped by its own
process id together with every process it started) and a :class:`Lab` page object
(open a notebook, run all cells, read the outputs, close it and shut its kernel down).
The explorer-specific gestures live in ``_explorers.py``.
"""
from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil

REPO = pathlib.Path(__file__).resolve().parents[2]
#: the course's Jupyter configuration (news and update checks off, no extension manager
#: network calls); `make lab` puts it on JUPYTER_CONFIG_PATH the same way
JUPYTER_CONFIG = REPO / "jupyter"
ARTIFACTS = REPO / "artifacts" / "browser"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]


def chromium_path() -> str | None:
    """The Chromium binary to drive: ``$CNNLAB_CHROMIUM`` if set, else Debian's ``chromium``."""
    candidate = os.environ.get("CNNLAB_CHROMIUM")
    if candidate is None:
        candidate = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
    if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jupyter_env(**extra: str) -> dict[str, str]:
    """The test session's environment (temp HOME/JUPYTER_* dirs) plus the course config."""
    env = dict(os.environ)
    path = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = str(JUPYTER_CONFIG) + (os.pathsep + path if path else "")
    env["BROWSER"] = "true"  # never let a server try to open a desktop browser
    # kernels draw figures inline, as a student's do (the test session itself uses Agg)
    env.pop("MPLBACKEND", None)
    env.update(extra)
    return env


def stop_process_tree(proc: subprocess.Popen, *, grace: float = 15.0) -> None:
    """Stop ``proc`` (started with ``start_new_session=True``) and everything it started.

    Descendants are collected first: kernels run in sessions of their own, so the
    process group alone does not reach them. Each is terminated by its own pid, and
    killed if it is still there after ``grace`` seconds.
    """
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    _, alive = psutil.wait_procs(descendants, timeout=grace)
    for child in alive:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(alive, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


class ServerError(RuntimeError):
    pass


class LabServer:
    """One ``jupyter lab`` process serving ``root_dir``; use as a context manager."""

    def __init__(self, root_dir: pathlib.Path, log_path: pathlib.Path, *, extra_args=()):
        self.root_dir = pathlib.Path(root_dir)
        self.log_path = pathlib.Path(log_path)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--IdentityProvider.token={self.token}",
            # lets tests reach JupyterLab's command registry (window.jupyterapp)
            "--LabApp.expose_app_in_browser=True",
            *self.extra_args,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def start(self, timeout: float = 90.0) -> "LabServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.command, cwd=self.root_dir, env=jupyter_env(),
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_serving(self.base, self.token, timeout=timeout, proc=self.proc,
                               log_path=self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_tree(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET", body=None):
        return api_request(self.base, self.token, path, method, body)

    def log_tail(self, n: int = 4000) -> str:
        return log_tail(self.log_path, n)


def log_tail(path: pathlib.Path, n: int = 4000) -> str:
    try:
        return pathlib.Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def api_request(base: str, token: str, path: str, method: str = "GET", body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base}/{path.lstrip('/')}", data=data, method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def wait_until_serving(base, token, *, timeout, proc=None, log_path=None):
    """Poll ``/api/status`` until the server answers; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerError(
                f"jupyter exited with code {proc.returncode} before serving:\n"
                + (log_tail(log_path) if log_path else "")
            )
        try:
            return api_request(base, token, "api/status", timeout=5)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = exc
        time.sleep(0.25)
    raise ServerError(
        f"no answer from {base} within {timeout:.0f}s ({last}):\n"
        + (log_tail(log_path) if log_path else "")
    )


# ---------------------------------------------------------------------------------------
# JupyterLab page object
# ---------------------------------------------------------------------------------------

_JS_HELPERS = r"""
() => {
  if (window.__cnnlab) return;
  const app = window.jupyterapp;
  const find = (path) => {
    for (const w of app.shell.widgets('main')) {
      if (w.context && w.context.path === path) return w;
    }
    throw new Error('no open document ' + path);
  };
  window.__cnnlab = {
    find,
    state(path) {
      const panel = find(path);
      let pending = 0, code = 0;
      const errors = [];
      for (const cell of panel.content.widgets) {
        const model = cell.model;
        if (model.type !== 'code') continue;
        code += 1;
        for (const out of model.outputs.toJSON()) {
          if (out.output_type === 'error') {
            errors.push({cell: code, ename: out.ename, evalue: out.evalue,
                         traceback: (out.traceback || []).join('\n')});
          }
        }
        const empty = !model.sharedModel.getSource().trim();
        if (!empty && (model.executionCount === null || model.executionState === 'running')) pending += 1;
      }
      const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
      return {pending, code, errors, kernel: kernel ? kernel.status : 'none'};
    },
  };
}
"""


class NotebookError(AssertionError):
    pass


class Lab:
    """The JupyterLab page of one browser tab."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server

    def load(self, path: str = "lab", timeout: float = 60_000) -> "Lab":
        self.page.goto(self.server.url(path), wait_until="domcontentloaded", timeout=timeout)
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=timeout)
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")
        self.page.evaluate(_JS_HELPERS)
        return self

    def command(self, name: str, args: dict | None = None):
        return self.page.evaluate(
            "async ([name, args]) => { await window.jupyterapp.commands.execute(name, args); }",
            [name, args or {}],
        )

    # -- notebooks -----------------------------------------------------------------
    def open_notebook(self, path: str, timeout: float = 60_000):
        self.page.evaluate(
            """async (path) => {
                const w = await window.jupyterapp.commands.execute(
                    'docmanager:open', {path, factory: 'Notebook'});
                await w.context.ready;
                await w.sessionContext.ready;
                window.jupyterapp.shell.activateById(w.id);
            }""",
            path,
        )
        panel = self.panel(path)
        panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout)
        return panel

    def panel(self, path: str):
        """Locator of the notebook panel showing ``path``."""
        panel_id = self.page.evaluate("(p) => window.__cnnlab.find(p).id", path)
        return self.page.locator(f"[id='{panel_id}']")

    def notebook_state(self, path: str) -> dict:
        return self.page.evaluate("(p) => window.__cnnlab.state(p)", path)

    def run_all(self, path: str, timeout: float = 120.0) -> float:
        """Run all cells as the Run menu does; wait until done; raise on an error output."""
        start = time.perf_counter()
        self.page.evaluate(
            """async (path) => {
                const w = window.__cnnlab.find(path);
                window.jupyterapp.shell.activateById(w.id);
                await w.sessionContext.ready;
                await window.jupyterapp.commands.execute('notebook:run-all-cells');
            }""",
            path,
        )
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.notebook_state(path)
            if state["errors"]:
                first = state["errors"][0]
                raise NotebookError(
                    f"{path}: code cell {first['cell']} raised {first['ename']}: "
                    f"{first['evalue']}\n{_strip_ansi(first['traceback'])}"
                )
            if state["pending"] == 0 and state["kernel"] == "idle":
                # every cell's reply is in (shell channel), but its outputs come on the iopub
                # channel and may still be on their way: an empty request's idle status comes
                # after all of them
                self.page.evaluate(
                    """async (path) => {
                        const kernel = window.__cnnlab.find(path).sessionContext.session.kernel;
                        await kernel.requestExecute({code: '', silent: true, store_history: false}).done;
                    }""",
                    path,
                )
                state = self.notebook_state(path)
                if state["errors"]:
                    continue
                return time.perf_counter() - start
            time.sleep(0.2)
        raise NotebookError(f"{path}: not finished after {timeout:.0f}s: {state}")

    def wait_widgets_rendered(self, path: str, timeout: float = 30_000) -> int:
        """Wait until every widget output of the notebook shows its view; return how many."""
        return self.page.wait_for_function(
            """(path) => {
                const w = window.__cnnlab.find(path);
                const outs = w.node.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]');
                for (const o of outs) if (!o.querySelector('.jupyter-widgets')) return false;
                return outs.length || -1;
            }""",
            arg=path, timeout=timeout, polling=100,
        ).json_value()

    def close_notebook(self, path: str) -> None:
        """Shut the notebook's kernel down and close its tab without saving."""
        self.page.evaluate(
            """async (path) => {
                let w;
                try { w = window.__cnnlab.find(path); } catch (e) { return; }
                try { await w.sessionContext.shutdown(); } catch (e) {}
                w.context.model.dirty = false;
                w.dispose();
            }""",
            path,
        )

    def shutdown_all_kernels(self) -> None:
        for session in self.server.api("api/sessions") or []:
            self.server.api(f"api/sessions/{session['id']}", method="DELETE")
        for kernel in self.server.api("api/kernels") or []:
            self.server.api(f"api/kernels/{kernel['id']}", method="DELETE")

    def close_dialogs(self) -> None:
        dialogs = self.page.locator(".jp-Dialog")
        for _ in range(5):
            if dialogs.count() == 0:
                return
            self.page.keyboard.press("Escape")
            self.page.wait_for_timeout(100)


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
