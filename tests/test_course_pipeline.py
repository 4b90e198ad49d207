"""Pieces of the course pipeline that need no kernel: metadata lint, leak scanner,
submission intake, sizes, authoring helper, root discovery and the CLI's errors."""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from cnnlab.course import leaks  # noqa: E402
from cnnlab.course.authoring import SourceNotebook  # noqa: E402
from cnnlab.course.build import lint_notebook, solved_release  # noqa: E402
from cnnlab.course.course import CourseError, find_root  # noqa: E402
from cnnlab.course.intake import NOTE_MARKER, prepare_submission  # noqa: E402
from cnnlab.course.kernel import GradingKernelManager, parse_size  # noqa: E402

pytestmark = pytest.mark.course
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _source():
    nb = SourceNotebook()
    nb.markdown("intro", "# Demo")
    nb.code("setup", "import numpy as np")
    nb.solution("q1_double", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    nb.test("q1_double_test", "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n"
                              "### END HIDDEN TESTS", points=2)
    return nb.nb


def _release():
    nb = _source()
    nb.cells[2].source = "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    nb.cells[3].source = "assert double(2) == 4"
    return nb


# -- lint -------------------------------------------------------------------------
def test_lint_accepts_the_conventions():
    assert lint_notebook(_source(), "demo") == []


@pytest.mark.parametrize("mutate, problem", [
    (lambda nb: nb.cells[3].metadata.nbgrader.update(points=0), "needs positive points"),
    (lambda nb: setattr(nb.cells[3], "source", "assert double(2) == 4"), "no ### BEGIN/END HIDDEN TESTS"),
    (lambda nb: setattr(nb.cells[3], "source", "### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS"),
     "no visible check"),
    (lambda nb: nb.cells[2].metadata.nbgrader.update(grade=True, points=1), "manually graded"),
    (lambda nb: nb.cells[2].metadata.nbgrader.update(grade_id="Q1 double"), "grade_id must match"),
    (lambda nb: setattr(nb.cells[2], "source", "import ipywidgets\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
     "no widgets in graded cells"),
    (lambda nb: nb.cells.insert(3, nb.cells[0].copy()), "must follow its answer cell"),
    (lambda nb: nb.cells[1].update(outputs=[{"output_type": "stream", "name": "stdout", "text": "x"}]),
     "outputs cleared"),
])
def test_lint_explains_each_violation(mutate, problem):
    nb = _source()
    mutate(nb)
    assert any(problem in p for p in lint_notebook(nb, "demo")), lint_notebook(nb, "demo")


def test_authoring_refuses_bad_cells():
    nb = SourceNotebook()
    with pytest.raises(ValueError, match="grade_id must match"):
        nb.code("Setup!", "x = 1")
    with pytest.raises(ValueError, match="points must be a positive int"):
        nb.test("t_test", "assert True", points=0)
    with pytest.raises(ValueError, match="needs ### BEGIN SOLUTION"):
        nb.solution("q1", "x = 1")
    nb.code("setup", "x = 1")
    with pytest.raises(ValueError, match="used twice"):
        nb.code("setup", "y = 2")


def test_solved_release_fills_answers_only():
    solved = solved_release(_source(), _release())
    assert "return 2 * x" in solved.cells[2].source
    assert solved.cells[3].source == "assert double(2) == 4"


# -- leaks ------------------------------------------------------------------------
def test_protected_lines_and_scans():
    protected = leaks.protected_lines(_source())
    assert protected == {"return 2 * x": "solution", "assert double(-3) == -6": "hidden test"}
    assert leaks.scan_notebook(_release(), protected, "rel") == []
    leaked = _source()
    found = leaks.scan_notebook(leaked, protected, "src")
    assert {f.kind for f in found} == {"delimiter", "hidden test", "solution"}
    html = "<div><span>assert</span> <span>double</span>(-3) <span>==</span> -6</div>"
    assert [f.kind for f in leaks.scan_html(html, protected, "fb")] == ["hidden test"]
    # lessons may share a line with a hidden test; a pasted block of one is a leak
    block = {"assert double(-3) == -6": "hidden test", "assert double(0) == 0 and True": "hidden test"}
    assert leaks.scan_blocks("x = 1\nassert double(-3) == -6\ny = 2", block, "nb") == []
    assert len(leaks.scan_blocks("assert double(-3) == -6\n  assert double(0) == 0 and True\n", block, "nb")) == 1
    assert leaks.protected_lines(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "### BEGIN HIDDEN TESTS\nimport cnnlab.course.checks\n### END HIDDEN TESTS")])) == {}
    # Python files: only delimiters written as comments count
    assert leaks.scan_text('X = "### BEGIN SOLUTION"\n', protected, "a.py", code=True) == []
    assert leaks.scan_text("    ### BEGIN SOLUTION\n", protected, "a.py", code=True)


# -- intake -----------------------------------------------------------------------
@pytest.fixture
def folders(tmp_path):
    release = tmp_path / "release"
    release.mkdir()
    nbformat.write(_release(), str(release / "demo.ipynb"))
    sub = tmp_path / "sub"
    sub.mkdir()
    return release, sub


def _notes(sub):
    nb = nbformat.read(sub / "demo.ipynb", as_version=4)
    return nb, nb.cells[0].source if nb.cells[0].source.startswith(NOTE_MARKER) else ""


def test_intake_leaves_a_good_submission_alone(folders):
    release, sub = folders
    nbformat.write(_release(), str(sub / "demo.ipynb"))
    before = (sub / "demo.ipynb").read_bytes()
    assert prepare_submission(sub, release, ["demo"]) == []
    assert (sub / "demo.ipynb").read_bytes() == before


def test_intake_replaces_invalid_json(folders):
    release, sub = folders
    (sub / "demo.ipynb").write_text('{"cells": [', encoding="utf-8")
    notes = prepare_submission(sub, release, ["demo"])
    assert "not valid JSON" in notes[0]
    nb, note = _notes(sub)
    assert "0 points" in note and "raise NotImplementedError()" in nb.cells[3].source


def test_intake_grades_a_renamed_notebook(folders):
    release, sub = folders
    nbformat.write(solved_release(_source(), _release()), str(sub / "demo (1).ipynb"))
    notes = prepare_submission(sub, release, ["demo"])
    assert "`demo (1).ipynb` contains its graded cells" in notes[0]
    nb, _ = _notes(sub)
    assert "return 2 * x" in nb.cells[3].source


def test_intake_reports_a_missing_notebook(folders):
    release, sub = folders
    (sub / "other.ipynb").write_text(json.dumps({"not": "a notebook"}))
    notes = prepare_submission(sub, release, ["demo"])
    assert "was not in your submission" in notes[0] and "`other.ipynb`" in notes[0]


def test_intake_restores_deleted_and_flags_edited_cells(folders):
    release, sub = folders
    nb = solved_release(_source(), _release())
    del nb.cells[3]  # the test cell
    nb.cells[1].source = "import numpy as np\nprint('changed')"  # the read-only setup
    nbformat.write(nb, str(sub / "demo.ipynb"))
    notes = " ".join(prepare_submission(sub, release, ["demo"]))
    assert "`setup`" in notes and "discarded" in notes and "`q1_double_test`" in notes
    out, _ = _notes(sub)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in out.cells]
    assert ids == [None, "intro", "setup", "q1_double", "q1_double_test"]


def test_intake_deduplicates_pasted_cells(folders):
    release, sub = folders
    nb = json.loads(nbformat.writes(solved_release(_source(), _release())))
    nb["cells"].append(nb["cells"][3])
    (sub / "demo.ipynb").write_text(json.dumps(nb))
    notes = prepare_submission(sub, release, ["demo"])
    assert any("cell id(s) appeared more than once" in n for n in notes)
    assert any("`q1_double_test`" in n for n in notes)
    out, _ = _notes(sub)
    graded = [c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q1_double_test"]
    assert len(graded) == 1 and len({c.id for c in out.cells}) == len(out.cells)


# -- sizes, kernels, root, CLI ---------------------------------------------------
def test_parse_size():
    assert parse_size("4G") == 4 * 2**30 and parse_size("1.5GiB") == 3 * 2**29
    assert parse_size(1024) == 1024 and parse_size("off") == 0
    with pytest.raises(ValueError, match="size must look like"):
        parse_size("lots")
    with pytest.raises(ValueError, match=">= 0"):
        parse_size(-1)
    with pytest.raises(TypeError, match="size must be"):
        parse_size(True)


def test_grading_kernel_command_is_sandboxed():
    km = GradingKernelManager(kernel_name="python3", memory_limit=2**30, file_size_limit=2**20)
    km.connection_file = "/tmp/kernel-test.json"
    cmd = km.format_kernel_cmd()
    assert cmd[:2] == [sys.executable, "-I"] and cmd[3].endswith("_sandbox.py")
    assert cmd[4:9] == ["--memory", str(2**30), "--fsize", str(2**20), "--"]
    assert "ipykernel_launcher" in " ".join(cmd[9:])


def test_grading_kernel_runs_in_bubblewrap(tmp_path):
    from cnnlab.course.judge import sandbox

    km = GradingKernelManager(kernel_name="python3", memory_limit=2**30)
    km.scratch, km.private = str(tmp_path / "s"), str(tmp_path / "k")
    km.connection_file = str(tmp_path / "k" / "kernel.json")
    cmd = km.format_kernel_cmd()
    if sandbox.bwrap_path() is None:
        pytest.skip("no bwrap")
    assert cmd[:3] == ["/usr/bin/env", "-i", sandbox.bwrap_path()]  # bwrap gets no environment
    for flag in ("--unshare-all", "--die-with-parent", "--clearenv"):
        assert flag in cmd
    assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
    i = cmd.index("--bind")
    assert cmd[i:i + 3] == ["--bind", km.scratch, "/home/student"]
    assert ["--bind", km.private, km.private] == cmd[i + 3:i + 6]
    assert "--ro-bind" in cmd and "--bind" not in cmd[:i]        # all else read-only
    inner = cmd[cmd.index("--") + 1:]
    assert inner[3].endswith("_sandbox.py") and "--quiet" in inner
    assert "-P" in inner  # the scratch directory is not on the kernel's sys.path
    assert cmd[cmd.index("--remount-ro") + 1] == "/" and "--size" in cmd
    import cnnlab
    assert str(ROOT) not in [cmd[j + 1] for j, a in enumerate(cmd) if a == "--ro-bind"]  # not the course
    assert os.path.dirname(cnnlab.__file__) in cmd


def test_sandbox_applies_limits():
    from cnnlab.course.kernel import SANDBOX

    out = subprocess.run([sys.executable, "-I", "-S", SANDBOX, "--memory", str(2**31), "--", sys.executable, "-c",
                          "import resource, os; print(resource.getrlimit(resource.RLIMIT_AS)[0], "
                          "resource.getrlimit(resource.RLIMIT_CORE)[1], os.environ['OPENBLAS_NUM_THREADS'])"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(2**31), "0", "1"]


def test_find_root(tmp_path):
    assert find_root(ROOT / "cnnlab" / "course") == ROOT
    with pytest.raises(CourseError, match="no course found"):
        find_root(tmp_path)


@pytest.mark.parametrize("args, message", [
    (["grade", "ps99"], "no assignment 'ps99'"),
    (["grade", "--workers", "0"], "--workers must be a positive int, got 0"),
    (["grade", "--memory", "lots"], "--memory: size must look like"),
    (["build", "nope"], "no such assignment"),
])
def test_cli_usage_errors(args, message):
    out = subprocess.run([sys.executable, "-m", "cnnlab.course", *args], cwd=ROOT / "solutions",
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_cli_outside_a_course(tmp_path):
    out = subprocess.run([sys.executable, "-m", "cnnlab.course", "bundle"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "no course found" in out.stderr


@pytest.mark.parametrize("assignment", ["ps1", None])
def test_grade_with_no_submissions_says_so(tmp_path, assignment):
    """Before anyone has submitted, ``grade`` explains there is nothing to grade (it used
    to crash exporting scores of an assignment the gradebook did not know yet)."""
    from cnnlab.course.grading import grade

    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / "ps1", tmp_path / "solutions" / "ps1")
    (tmp_path / "submitted" / "alice" / "ps2").mkdir(parents=True)  # another assignment's
    said = []
    run = grade(tmp_path, assignment, progress=False, log=said.append)
    assert run.results == [] and run.exports == []
    assert len(said) == 1 and "nothing to grade" in said[0] and "submitted" in said[0], said
