"""Every assignment under solutions/: the committed release cannot drift from it, it
follows the conventions, nothing leaks, it proves out (solution full marks, release 0;
the round trip with partial credit is in test_course_grading.py), and the student
bundle is clean."""
from __future__ import annotations

import difflib
import pathlib
import shutil
import zipfile

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from cnnlab.course.build import build, lint_notebook, release_leaks  # noqa: E402
from cnnlab.course.bundle import PREFIX, bundle, verify_bundle  # noqa: E402
from cnnlab.course.course import Layout, assignments_in, generate_into, make_api  # noqa: E402

pytestmark = pytest.mark.course
ROOT = pathlib.Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments_in(ROOT / "solutions")
REGENERATE = "run `.venv/bin/cnnlab-course build {0}` (or `nbgrader generate_assignment {0} --force`) and commit assignments/{0}"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """Every assignment generated afresh, into a temp folder with a temp gradebook."""
    out = tmp_path_factory.mktemp("release")
    api = make_api(ROOT)
    for name in ASSIGNMENTS:
        generate_into(api, name, out, db_url=f"sqlite:///{out}/gradebook.db")
    return out


def test_there_are_assignments():
    assert "ps1" in ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_matches_solutions(regenerated, name):
    fresh, committed = regenerated / name, ROOT / "assignments" / name
    assert committed.is_dir(), f"assignments/{name} is missing: " + REGENERATE.format(name)
    files = lambda d: sorted(p.relative_to(d) for p in d.rglob("*") if p.is_file())  # noqa: E731
    assert files(committed) == files(fresh), REGENERATE.format(name)
    for rel in files(fresh):
        a, b = (committed / rel).read_text(encoding="utf-8"), (fresh / rel).read_text(encoding="utf-8")
        if a != b:
            diff = "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                                     f"committed/{rel}", f"generated/{rel}"))[:40])
            pytest.fail(f"assignments/{name}/{rel} differs from what solutions/{name} generates; "
                        + REGENERATE.format(name) + "\n" + diff)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_sources_follow_the_conventions(name):
    for path in sorted((ROOT / "solutions" / name).glob("*.ipynb")):
        assert lint_notebook(nbformat.read(path, as_version=4), f"{name}/{path.name}") == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solution_or_hidden_test(name):
    assert release_leaks(ROOT / "solutions" / name, ROOT / "assignments" / name) == []


@pytest.mark.slow
def test_build_proves_every_assignment(tmp_path):
    """`cnnlab-course build` in a copy of the course: each solution scores full marks,
    each fresh release scores 0 without crashing, nothing leaks into release or feedback.
    (ps1 gets the same proof, and more, from the class graded in test_course_grading.py.)"""
    from cnnlab.course.build import format_table

    names = [a for a in ASSIGNMENTS if a != "ps1"]
    assert names, "only ps1 under solutions/: its proof is in test_course_grading.py"
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    reports = build(tmp_path, names, prove=True, workers=2, log=lambda *a: None)
    assert [r.assignment for r in reports] == names
    assert all(r.ok and r.proved for r in reports), format_table(reports)
    assert all(r.solution_score == r.points > 0 and r.release_score == 0 for r in reports)


@pytest.fixture(scope="module")
def student_zip(tmp_path_factory):
    return bundle(ROOT, tmp_path_factory.mktemp("dist") / "student.zip")


@pytest.mark.slow
def test_bundle_is_clean_and_complete(student_zip):
    assert student_zip.ok, student_zip.problems
    with zipfile.ZipFile(student_zip.path) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()}
    assert {"cnnlab/__init__.py", "cnnlab/course/checks/ps1.py", "assignments/ps1/ps1.ipynb",
            "pyproject.toml"} <= names
    assert not any(n.startswith(("solutions/", "tests/", "bench/")) or n.endswith(".db")
                   or "__pycache__" in n or n == "nbgrader_config.py" for n in names)


@pytest.mark.slow
def test_tampered_bundle_is_caught(student_zip, tmp_path):
    bad = tmp_path / "bad.zip"
    source = (ROOT / "solutions/ps1/ps1.ipynb").read_text(encoding="utf-8")
    with zipfile.ZipFile(student_zip.path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.endswith("assignments/ps1/ps1.ipynb"):
                data = source.encode()  # the solutions, under the release's name
            zout.writestr(item, data)
        zout.writestr(f"{PREFIX}/solutions/ps1/ps1.ipynb", source)
        zout.writestr(f"{PREFIX}/gradebook.db", b"SQLite format 3\0")
    problems = "\n".join(verify_bundle(bad, Layout.from_api(make_api(ROOT))))
    for needle in ("solutions/ps1/ps1.ipynb: must not be given to students", "gradebook.db",
                   "LEAK", "hidden test", "delimiter", "differs from what solutions/ps1 generates"):
        assert needle in problems
