"""The nbgrader pipeline end to end on ps1, in a throw-away copy of the course.

The round trip: build, then ONE parallel grading run over a class that mixes a student
with everything right (full marks), the unmodified release (0), a partially correct
submission (partial credit) and every hostile submission of the issue; then re-runs
(unchanged: nothing regraded; --force: identical gradebook) and a comparison with plain
serial ``nbgrader autograde``.
"""
from __future__ import annotations

import copy
import csv
import json
import pathlib
import shutil
import sqlite3
import subprocess
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from cnnlab.course import leaks  # noqa: E402
from cnnlab.course.build import build, solved_release  # noqa: E402
from cnnlab.course.grading import grade  # noqa: E402
from cnnlab.course.intake import NOTE_MARKER  # noqa: E402

pytestmark = [
    pytest.mark.course, pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId"),  # h_duplicate_ids
    pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning"),  # nbgrader's own
]

ROOT = pathlib.Path(__file__).resolve().parents[1]
FULL = 20.0
TIMEOUT = 6  # per-cell seconds in these tests (the config's 30 s would only slow the loop case)
MEMORY = "1600M"  # a numpy kernel needs ~0.8 GB of address space; the bomb wants 6 GiB


from _nbcells import cell as _cell, with_source as _with  # noqa: E402


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with ps1 generated in it (test_course_assignments proves it)."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / "ps1", root / "solutions" / "ps1")
    reports = build(root, ["ps1"], prove=False, log=lambda *a: None)
    return root, reports[0]


def _submissions(root: pathlib.Path) -> dict:
    """student -> (files to write, expected score). Every hostile student breaks (at
    most) question 1, worth 3 points, unless the whole notebook is unusable."""
    release = nbformat.read(root / "assignments/ps1/ps1.ipynb", as_version=4)
    # what a student who answered everything correctly submits
    solution = solved_release(nbformat.read(root / "solutions/ps1/ps1.ipynb", as_version=4), release)
    header = 'def conv1d(x, h, padding=0, stride=1):\n'
    dump = nbformat.writes
    subs = {
        "alice": ({"ps1.ipynb": dump(solution)}, FULL),
        "bob": ({"ps1.ipynb": dump(release)}, 0.0),
    }
    partial = copy.deepcopy(solution)
    for gid in ("q1_conv1d", "q3_toeplitz"):
        _cell(partial, gid).source = _cell(release, gid).source
    subs["carol"] = ({"ps1.ipynb": dump(partial)}, FULL - 3 - 3)
    hostile_q1 = {
        "h_loop": header + "    while True:\n        pass\n",
        "h_exception": header + "    return 1 / 0\n",
        "h_sysexit": "import sys\nsys.exit(1)\n" + header + "    return x\n",
        "h_input": "name = input('your name? ')\n" + header + "    return x\n",
        # 6 GiB, written to (not just reserved): without the cap it would really take it
        "h_membomb": header + "    hog = np.ones((3, 2**28))\n    return hog\n",
        "h_oskill": "import os\nos._exit(3)\n",
    }
    for student, source in hostile_q1.items():
        subs[student] = ({"ps1.ipynb": dump(_with(solution, "q1_conv1d", source))}, FULL - 3)
    big = _with(solution, "q2_output_size", _cell(solution, "q2_output_size").source
                + "\nprint('spam ' * 4_000_000)\n")
    subs["h_huge_output"] = ({"ps1.ipynb": dump(big)}, FULL)
    deleted = copy.deepcopy(solution)
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != "q2_output_size_test"]
    subs["h_deleted_test"] = ({"ps1.ipynb": dump(deleted)}, FULL)
    edited = _with(solution, "q3_toeplitz_test", "print('all tests pass, promise')")
    edited = _with(edited, "q1_conv1d", header + "    return [0]\n")  # and wrong, so the test matters
    subs["h_edited_test"] = ({"ps1.ipynb": dump(edited)}, FULL - 3)
    subs["h_invalid_json"] = ({"ps1.ipynb": dump(solution)[:500]}, 0.0)
    subs["h_missing"] = ({"notes.txt": "I forgot the notebook"}, 0.0)
    subs["h_renamed"] = ({"ps1-Copy1.ipynb": dump(solution)}, FULL)
    dup = copy.deepcopy(solution)
    dup.cells.append(copy.deepcopy(_cell(dup, "q1_conv1d_test")))
    dup_json = json.loads(dump(dup))  # keep the duplicated cell id (nbformat would renumber it)
    subs["h_duplicate_ids"] = ({"ps1.ipynb": json.dumps(dup_json)}, FULL)
    # leaves a process behind (a new program cannot even start: execve is refused), and
    # code that must not reach the grader's IPython history
    spawn = ('import os, time  # cnnlab-history-marker\n'
             'try:\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(600)\n        os._exit(0)\n'
             'except PermissionError as exc:\n    print("no new processes:", exc)\n'
             'try:\n    import subprocess\n    subprocess.Popen(["sleep", "600"])\n'
             'except PermissionError as exc:\n    print("no new programs:", exc)\n')
    subs["h_spawn"] = ({"ps1.ipynb": dump(_with(solution, "q1_conv1d", spawn + _cell(solution, "q1_conv1d").source))},
                       FULL)
    widget = copy.deepcopy(solution)
    widget.cells.insert(2, nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(value=3)"))
    subs["h_widget"] = ({"ps1.ipynb": dump(widget)}, FULL)
    return subs


@pytest.fixture(scope="module")
def graded(course):
    root, _ = course
    subs = _submissions(root)
    for student, (files, _) in subs.items():
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-01-15 10:00:00.000000 UTC")
    run = grade(root, "ps1", workers=2, timeout=TIMEOUT, memory=MEMORY, progress=False,
                log=lambda *a: None)
    return root, subs, run


def _feedback(root, student) -> str:
    return (root / "feedback" / student / "ps1" / "ps1.html").read_text(encoding="utf-8")


def _autograded(root, student):
    return nbformat.read(root / "autograded" / student / "ps1" / "ps1.ipynb", as_version=4)


def _errors(nb, grade_id):
    return [o for o in _cell(nb, grade_id).outputs if o.output_type == "error"]


# -- the round trip ----------------------------------------------------------------
def test_build_generates_ps1(course):
    root, report = course
    assert report.ok and not report.proved, (report.problems, report.leaks)
    assert (report.points, report.questions, report.notebooks) == (FULL, 9, 1)
    release = nbformat.read(root / "assignments/ps1/ps1.ipynb", as_version=4)
    text = nbformat.writes(release)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in _cell(release, "q1_conv1d").source


def test_every_submission_graded_as_expected(graded):
    root, subs, run = graded
    results = run.by_student("ps1")
    assert sorted(results) == sorted(subs)
    wrong = {s: (r.status, r.score, subs[s][1], r.error[-300:]) for s, r in results.items()
             if r.status != "graded" or r.score != subs[s][1]}
    assert not wrong
    assert all(r.max_score == FULL for r in results.values())


def test_partial_credit_per_question(graded):
    root, _, _ = graded
    rows = {r["student_id"]: r for r in csv.DictReader(open(root / "exports/ps1-students.csv"))}
    carol = rows["carol"]
    assert carol["q1_conv1d_test"] == "0" and carol["q3_toeplitz_test"] == "0"
    assert carol["q2_output_size_test"] == "3" and carol["score"] == "14" and carol["max_score"] == "20"
    assert rows["alice"]["score"] == "20" and rows["bob"]["score"] == "0"
    questions = {r["question"]: r for r in csv.DictReader(open(root / "exports/ps1-questions.csv"))}
    assert len(questions) == 9 and questions["q1_conv1d_test"]["max_points"] == "3"
    assert int(questions["q4_dice_test"]["students"]) == len(rows)


@pytest.mark.parametrize("student, grade_id, needle", [
    ("h_loop", "q1_conv1d_test", "CellTimeoutError"),
    ("h_exception", "q1_conv1d_test", "raised ZeroDivisionError"),
    ("h_sysexit", "q1_conv1d", "SystemExit"),
    ("h_input", "q1_conv1d", "StdinNotImplementedError"),
    ("h_membomb", "q1_conv1d_test", "MemoryError"),
    ("h_oskill", "q1_conv1d", "KernelDied"),
])
def test_hostile_code_fails_only_its_question(graded, student, grade_id, needle):
    root, _, _ = graded
    nb = _autograded(root, student)
    errors = _errors(nb, grade_id)
    assert any(needle in e.ename + ": " + e.evalue for e in errors), errors
    assert needle in _feedback(root, student)
    # the questions after it were graded normally
    assert not _errors(nb, "q6_same_test") and not _errors(nb, "q2_output_size_test")


def test_kernel_death_restarts_and_replays(graded):
    root, _, _ = graded
    nb = _autograded(root, "h_oskill")
    texts = [o.get("text", "") for o in _cell(nb, "q1_conv1d").outputs]
    assert any("restarted the kernel" in t for t in texts)


def test_grading_kernels_leave_nothing_behind(graded):
    """A kernel is killed with its process group once its notebook has run, and keeps its
    IPython history in memory (nbgrader's setting): the student's code is in neither the
    process table nor the grader's history file."""
    import os

    root, _, _ = graded
    out = "".join(o.get("text", "") for o in _cell(_autograded(root, "h_spawn"), "q1_conv1d").outputs)
    assert "no new programs: [Errno 1] Operation not permitted" in out
    assert "no new processes: [Errno 1] Operation not permitted" in out
    import re

    survivors = []
    for proc in pathlib.Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        # a grading kernel's files; the grader removes them once the kernel is gone, so a
        # kernel whose directories still exist belongs to a grading still running (another
        # test, under pytest-xdist)
        dirs = set(re.findall(rb"/tmp/cnnlab-[ks]-\w+", cmdline))
        if dirs and not all(pathlib.Path(d.decode()).exists() for d in dirs):
            survivors.append(cmdline)
    assert not survivors, f"grading kernels (or their children) outlived grading: {survivors[:3]}"
    history = pathlib.Path(os.environ["IPYTHONDIR"]) / "profile_default" / "history.sqlite"
    assert not history.exists() or b"cnnlab-history-marker" not in history.read_bytes()


def test_huge_output_is_truncated(graded):
    root, _, _ = graded
    out = "".join(o.get("text", "") for o in _cell(_autograded(root, "h_huge_output"), "q2_output_size").outputs)
    assert len(out) < 200_000 and "truncated" in out
    assert (root / "feedback/h_huge_output/ps1/ps1.html").stat().st_size < 2_000_000


@pytest.mark.parametrize("student, needle", [
    ("h_invalid_json", "not valid JSON"),
    ("h_missing", "was not in your submission"),
    ("h_renamed", "ps1-Copy1.ipynb"),
    ("h_deleted_test", "q2_output_size_test"),
    ("h_edited_test", "q3_toeplitz_test"),
    ("h_duplicate_ids", "more than once"),
])
def test_grader_notes_reach_the_feedback(graded, student, needle):
    root, _, run = graded
    html = _feedback(root, student)
    assert "Note from the grader" in html and needle in html
    assert any(needle in note for note in run.by_student()[student].notes)


def test_edited_test_cell_runs_as_released(graded):
    root, _, _ = graded
    nb = _autograded(root, "h_edited_test")
    assert "promise" not in _cell(nb, "q3_toeplitz_test").source
    assert "BEGIN HIDDEN TESTS" in _cell(nb, "q3_toeplitz_test").source  # hidden tests ran too
    assert _errors(nb, "q1_conv1d_test")


def test_feedback_never_shows_hidden_tests(graded):
    root, subs, _ = graded
    protected = leaks.protected_lines(nbformat.read(root / "solutions/ps1/ps1.ipynb", as_version=4))
    hidden = {line: kind for line, kind in protected.items() if kind == "hidden test"}
    assert len(hidden) > 30
    for student in subs:
        html = _feedback(root, student)
        found = [leak for leak in leaks.scan_html(html, hidden, student)
                 if leak.kind == "hidden test" or "HIDDEN" in leak.line]  # own answers are fine
        assert not found, found[:3]
        assert "BEGIN HIDDEN" not in html and "END HIDDEN" not in html


def _gradebook_rows(root):
    con = sqlite3.connect(root / "gradebook.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return sorted(con.execute(
            "SELECT st.id, c.name, g.auto_score, g.manual_score, g.needs_manual_grade "
            "FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id "
            "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
            "JOIN student st ON sa.student_id = st.id JOIN base_cell c ON g.cell_id = c.id").fetchall())
    finally:
        con.close()


def test_rerun_is_idempotent(graded):
    root, subs, _ = graded
    before = _gradebook_rows(root)
    assert len(before) == len(subs) * 9
    # unchanged submissions are not graded again (CLI, run from a subdirectory)
    cli = subprocess.run([sys.executable, "-m", "cnnlab.course", "grade", "ps1", "--no-progress"],
                         cwd=root / "submitted", capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert f"0 graded, {len(subs)} unchanged, 0 failed" in cli.stdout
    # forced regrading of a few (normal, hostile, unusable) gives the same gradebook
    again = grade(root, "ps1", students=["alice", "carol", "h_membomb", "h_invalid_json"], force=True,
                  workers=2, timeout=TIMEOUT, memory=MEMORY, progress=False, log=lambda *a: None)
    assert [r.status for r in again.results] == ["graded"] * 4
    assert _gradebook_rows(root) == before


def test_same_grades_as_plain_nbgrader(graded, tmp_path):
    """Parallel grading with private gradebooks stores what serial nbgrader stores."""
    from cnnlab.course.course import make_api

    root, _, _ = graded
    shutil.copy(root / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(root / "solutions", tmp_path / "solutions")
    students = ["alice", "carol", "h_exception"]
    for s in students:
        shutil.copytree(root / "submitted" / s, tmp_path / "submitted" / s)
    api = make_api(tmp_path)
    assert api.generate_assignment("ps1")["success"]
    for s in students:
        assert api.autograde("ps1", s)["success"]
    ours = [row for row in _gradebook_rows(root) if row[0] in students]
    assert _gradebook_rows(tmp_path) == ours


@pytest.mark.parametrize("count, workers, sizes", [
    (20, 2, [5, 5, 5, 5]),       # not 8+8+4: both workers get ten students
    (20, 1, [7, 7, 6]),
    (3, 2, [2, 1]),
    (1, 2, [1]),
    (200, 2, [8] * 18 + [7] * 8),  # 26 chunks, 13 per worker
    (17, 3, [6, 6, 5]),
])
def test_feedback_chunks_share_the_work_evenly(count, workers, sizes):
    from cnnlab.course.grading import _feedback_chunks

    students = [f"s{i:03d}" for i in range(count)]
    chunks = _feedback_chunks(students, workers)
    assert [len(c) for c in chunks] == sizes
    assert [s for c in chunks for s in c] == students
    assert _feedback_chunks([], 2) == []


def test_a_worker_killed_by_a_submission_is_replaced_and_named(tmp_path):
    """Without the sandbox (--no-sandbox) a kernel can kill the worker process that grades
    it: the pool breaks for everyone in flight. The run goes on: the others are graded
    again one by one, the killer is named, and feedback and CSVs are still written."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / "ps1", root / "solutions" / "ps1")
    build(root, ["ps1"], prove=False, log=lambda *a: None)
    release = nbformat.read(root / "assignments/ps1/ps1.ipynb", as_version=4)
    solution = solved_release(nbformat.read(root / "solutions/ps1/ps1.ipynb", as_version=4), release)
    killer = _with(solution, "q1_conv1d", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    for student, nb in (("alice", solution), ("killer", killer), ("zoe", solution)):
        folder = root / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "ps1.ipynb")
    logged = []
    run = grade(root, "ps1", workers=2, timeout=TIMEOUT, memory=MEMORY, progress=False,
                sandbox=False, log=logged.append)
    assert any("WITHOUT the sandbox" in line for line in logged)
    results = run.by_student()
    assert results["alice"].score == FULL and results["zoe"].score == FULL
    assert results["killer"].status == "error" and "stopped its grading worker" in results["killer"].error
    assert (root / "feedback" / "alice" / "ps1" / "ps1.html").exists()
    assert (root / "exports" / "ps1-students.csv").exists()
