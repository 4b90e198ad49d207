"""Fixtures for the browser suite: one JupyterLab server and one Chromium for all of it.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it), driven through
Python ``playwright`` with ``executable_path`` -- never ``playwright install``.
Without Chromium the suite is skipped with the reason, except where
``CNNLAB_REQUIRE_BROWSER=1`` (CI), where that is a failure.

The server serves a temporary copy of ``notebooks/`` and ``assignments/`` so nothing
a test does in the browser (running, editing, saving, validating) touches the repo.
Its Jupyter, IPython and matplotlib state lives in the session's temporary directory
set up by the root ``conftest.py``; the server inherits it.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import statistics

import pytest

from ._labdriver import ARTIFACTS, CHROMIUM_ARGS, REPO, Lab, LabServer, chromium_path

REQUIRE = os.environ.get("CNNLAB_REQUIRE_BROWSER", "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    here = pathlib.Path(__file__).parent
    for item in items:
        if here in pathlib.Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            # under pytest-xdist --dist loadgroup: one worker, so one server and one browser
            item.add_marker(pytest.mark.xdist_group("browser"))


def _unavailable(reason: str):
    if REQUIRE:
        pytest.fail(f"CNNLAB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium():
    path = chromium_path()
    if path is None:
        _unavailable(
            f"Chromium not found at {os.environ.get('CNNLAB_CHROMIUM') or '/usr/bin/chromium'} "
            "(install the Debian package 'chromium', as .ci/run does, or set CNNLAB_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("Python playwright is not installed (pip install -e '.[dev]')")
    return path


@pytest.fixture(scope="package")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def course_root(tmp_path_factory):
    """A throw-away copy of the course directory: notebooks, assignments and their sources."""
    root = tmp_path_factory.mktemp("lab-root")
    for name in ("notebooks", "assignments", "solutions"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            (root / name).mkdir()
    if (REPO / "nbgrader_config.py").exists():
        shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


@pytest.fixture(scope="package")
def lab_server(chromium, course_root, artifacts):
    server = LabServer(course_root, artifacts / "jupyter-lab.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()
    finally:
        manager.stop()


@pytest.fixture(scope="package")
def lab(browser, lab_server):
    """The one JupyterLab tab the suite works in."""
    context = browser.new_context(viewport={"width": 1400, "height": 1700})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield Lab(page, lab_server).load()
    finally:
        context.close()


@pytest.fixture(scope="package")
def laptop_lab(browser, lab_server):
    """A JupyterLab tab in a 1366×768 window at 100 % zoom, in JupyterLab's default layout
    (its own workspace: nothing another test opened or closed)."""
    from ._layout import LAPTOP

    context = browser.new_context(viewport=LAPTOP, device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield Lab(page, lab_server).load("lab/workspaces/laptop")
    finally:
        context.close()


@pytest.fixture(scope="package")
def layout(artifacts):
    """Per-explorer and per-figure layout measurements of this run; written to layout.json."""
    collected: dict[str, dict] = {}
    yield collected
    if collected:
        (artifacts / "layout.json").write_text(json.dumps(collected, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def clean_lab(lab):
    """``lab`` with no dialogs left over, and all kernels shut down afterwards."""
    lab.close_dialogs()
    yield lab
    lab.close_dialogs()
    lab.shutdown_all_kernels()


#: per-explorer latency summaries of this run, for timings.json and the terminal summary
_TIMINGS: dict[str, dict] = {}
#: goal for the median time from a control change to the redrawn figure
LATENCY_GOAL_MS = 300


@pytest.fixture(scope="package")
def timings(artifacts):
    """Per-explorer latencies (ms) collected by the explorer tests; written at the end."""
    collected: dict[str, dict] = {}
    yield collected
    if not collected:
        return
    for name, record in sorted(collected.items()):
        samples = record["samples_ms"]
        _TIMINGS[name] = {
            **record,
            "n": len(samples),
            "median_ms": round(statistics.median(samples), 1),
            "max_ms": round(max(samples), 1),
        }
    (artifacts / "timings.json").write_text(json.dumps(_TIMINGS, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter):
    if not _TIMINGS:
        return
    tr = terminalreporter
    tr.section("explorer latency in the browser (control change -> new figure decoded)")
    width = max(len(name) for name in _TIMINGS)
    for name, rec in _TIMINGS.items():
        flag = "" if rec["median_ms"] <= LATENCY_GOAL_MS else f"  (over the {LATENCY_GOAL_MS} ms goal)"
        if not rec["spec"]:
            flag += "  [no spec: generic walk, readouts unchecked]"
        tr.write_line(f"{name:<{width}}  median {rec['median_ms']:6.0f} ms  max {rec['max_ms']:6.0f} ms"
                      f"  n={rec['n']}{flag}")
    tr.write_line(f"written to {ARTIFACTS / 'timings.json'}")
