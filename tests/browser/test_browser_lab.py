"""JupyterLab as students get it: the server, its configuration, the landing page, `make lab`."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

from ._labdriver import (
    REPO,
    ServerError,
    api_request,
    free_port,
    log_tail,
    stop_process_tree,
    wait_until_serving,
)

def course_notebooks() -> list[str]:
    return sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def listed_notebooks(page) -> list[str]:
    """The notebook names the file browser shows, once it has shown something."""
    items = page.locator("#filebrowser .jp-DirListing-content .jp-DirListing-itemText")
    items.first.wait_for(timeout=30_000)
    return sorted(name for name in items.all_inner_texts() if name.endswith(".ipynb"))


def assert_no_news_prompt(page):
    # without the course config, "Would you like to get notified about official Jupyter
    # news?" pops up as a toast within about a second of the file listing
    page.wait_for_timeout(2000)
    texts = page.locator(".Toastify__toast").all_inner_texts()
    assert not [t for t in texts if "news" in t.lower() or "update" in t.lower()], texts


def test_server_runs_in_the_session_state(lab_server):
    state = pathlib.Path(os.environ["CNNLAB_TEST_STATE"])
    runtime = pathlib.Path(os.environ["JUPYTER_RUNTIME_DIR"])
    assert state in runtime.parents
    infos = [json.loads(p.read_text()) for p in runtime.glob("jpserver-*.json")]
    ours = [i for i in infos if i["port"] == lab_server.port]
    assert ours, f"no server file for port {lab_server.port} in {runtime}"
    assert ours[0]["pid"] == lab_server.proc.pid
    assert pathlib.Path(ours[0]["root_dir"]) == lab_server.root_dir
    assert lab_server.api("api/status")["kernels"] == 0


def test_course_config_turns_off_news_and_update_checks(lab_server):
    settings = lab_server.api(f"lab/api/settings/{NOTIFICATION}")
    props = settings["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false"
    assert props["checkForUpdates"]["default"] is False
    # and the server itself neither fetches news nor checks for updates
    assert lab_server.api("lab/api/news") == {"news": []}
    assert lab_server.api("lab/api/update") == {"notification": None}


def test_landing_page_lists_the_course_notebooks(browser, lab_server):
    expected = sorted(p.name for p in (lab_server.root_dir / "notebooks").glob("*.ipynb"))
    assert expected, "notebooks/ has no notebooks"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(lab_server.url("lab/tree/notebooks?reset"))  # a first visit: empty workspace
        assert listed_notebooks(page) == expected
        assert_no_news_prompt(page)
        page.screenshot(path=str(REPO / "artifacts" / "browser" / "landing.png"))
    finally:
        context.close()


def test_make_lab_serves_the_course(browser, tmp_path, artifacts):
    """`make lab` end to end: it starts a server that answers and lists the notebooks."""
    assert course_notebooks(), "notebooks/ has no notebooks"
    port, token = free_port(), os.urandom(16).hex()
    runtime = tmp_path / "runtime"
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_RUNTIME_DIR=str(runtime), BROWSER="true")
    env.pop("JUPYTER_CONFIG_PATH", None)  # the Makefile must supply the course config itself
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # when `make test` runs this suite
        env.pop(key, None)
    log_path = artifacts / "make-lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            # -o: `make test` has just brought the install up to date; re-running pip
            # from inside a test would race everything else using the venv
            ["make", "--no-print-directory", "-o", ".venv/.course-installed", "lab", f"PORT={port}"],
            cwd=REPO, env=env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_serving(base, token, timeout=90, proc=proc, log_path=log_path)
            except ServerError as exc:
                pytest.fail(str(exc), pytrace=False)
            contents = api_request(base, token, "api/contents/notebooks")
            served = sorted(i["name"] for i in contents["content"] if i["name"].endswith(".ipynb"))
            assert served == course_notebooks()
            settings = api_request(base, token, f"lab/api/settings/{NOTIFICATION}")
            assert settings["schema"]["properties"]["fetchNews"]["default"] == "false"
            # open what the server hands the browser (its -open.html redirect page)
            opened = sorted(runtime.glob("jpserver-*-open.html"))
            assert opened, f"no jpserver-*-open.html in {runtime}"
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            try:
                page = context.new_page()
                page.goto(opened[0].as_uri())
                page.wait_for_url(f"**/lab/tree/notebooks**", timeout=30_000)
                assert listed_notebooks(page) == course_notebooks()
                assert_no_news_prompt(page)
                page.screenshot(path=str(artifacts / "make-lab.png"))
            finally:
                context.close()
        finally:
            stop_process_tree(proc)
    assert proc.returncode is not None
    assert "Traceback" not in log_tail(log_path, 100_000)
