"""``cnnlab-course build``: generate every assignment from ``solutions/`` and prove it.

For each assignment: check the source notebooks against the course conventions
(COURSE.md), generate the release into ``assignments/`` with nbgrader, and then, in a
throw-away copy of the course, grade two submissions through the real grading pipeline:
the solution notebooks (must score full marks with no error in any cell) and the fresh
release (must score 0 and grade without crashing). The release and the feedback of both
are scanned for solution lines and hidden tests.
"""
from __future__ import annotations

import copy
import dataclasses
import pathlib
import shutil
import tempfile
import time

import nbformat

from . import leaks as _leaks
from .authoring import GRADE_ID
from .course import CONFIG_NAME, CourseError, Layout, assignments_in, make_api, notebooks_of

__all__ = ["build", "lint_notebook", "BuildReport", "release_leaks", "solved_release"]

_WIDGET = ("ipywidgets", "interact(", "interactive(", "widgets.", "Explorer(")


@dataclasses.dataclass
class BuildReport:
    assignment: str
    notebooks: int = 0
    questions: int = 0
    points: float = 0.0
    problems: list[str] = dataclasses.field(default_factory=list)
    leaks: list[str] = dataclasses.field(default_factory=list)
    solution_score: float | None = None
    release_score: float | None = None
    proved: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        proof = (not self.proved) or (self.solution_score == self.points and self.release_score == 0)
        return not self.problems and not self.leaks and proof


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def lint_notebook(nb, name: str) -> list[str]:
    """Problems with a source notebook's cells (empty when it follows COURSE.md)."""
    problems = []
    previous = None  # the previous cell nbgrader knows about
    for index, cell in enumerate(nb.cells):
        where = f"{name} cell {index}"
        meta = _meta(cell)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            problems.append(f"{where}: commit notebooks with outputs cleared")
        if not meta:
            continue
        gid = meta.get("grade_id", "")
        where = f"{name} cell {index} ({gid})"
        if not GRADE_ID.match(gid):
            problems.append(f"{where}: grade_id must match {GRADE_ID.pattern}")
        grade, solution, locked = meta.get("grade"), meta.get("solution"), meta.get("locked")
        if meta.get("task"):
            problems.append(f"{where}: task cells are graded by hand; cnnlab assignments are fully autograded")
        if grade and (solution or cell.cell_type != "code"):
            problems.append(f"{where}: manually graded cells are not supported; "
                            "make the answer a solution cell and test it in a locked test cell")
        if grade and not solution:
            points = meta.get("points")
            if not (isinstance(points, (int, float)) and points > 0):
                problems.append(f"{where}: a test cell needs positive points, got {points!r}")
            if not locked:
                problems.append(f"{where}: a test cell must be locked")
            src = cell.source
            if "BEGIN HIDDEN TESTS" not in src or "END HIDDEN TESTS" not in src:
                problems.append(f"{where}: no ### BEGIN/END HIDDEN TESTS block")
            visible = src.split("### BEGIN HIDDEN TESTS")[0]
            if not any(line.strip() and not line.strip().startswith("#") for line in visible.splitlines()):
                problems.append(f"{where}: no visible check before the hidden tests")
            if previous is not None and not (_meta(previous).get("solution") or _meta(previous).get("grade")):
                problems.append(f"{where}: a test cell must follow its answer cell (or another test cell)")
        if solution and cell.cell_type == "code":
            if "BEGIN SOLUTION" not in cell.source or "END SOLUTION" not in cell.source:
                problems.append(f"{where}: a solution cell needs ### BEGIN/END SOLUTION")
        if (grade or solution) and any(w in cell.source for w in _WIDGET):
            problems.append(f"{where}: no widgets in graded cells (answer or test cells)")
        previous = cell
    return problems


def solved_release(source_nb, release_nb):
    """The release with every answer cell filled in from the source notebook: what a
    student who got everything right submits (read-only cells as released)."""
    answers = {_meta(c)["grade_id"]: c.source for c in source_nb.cells if _meta(c).get("solution")}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id")
        if _meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def release_leaks(source_dir: pathlib.Path, release_dir: pathlib.Path) -> list[str]:
    found = []
    for name in notebooks_of(source_dir):
        protected = _leaks.protected_lines(nbformat.read(source_dir / f"{name}.ipynb", as_version=4))
        path = release_dir / f"{name}.ipynb"
        if not path.exists():
            found.append(f"{path}: missing from the release")
            continue
        found += [str(leak) for leak in _leaks.scan_notebook(
            nbformat.read(path, as_version=4), protected, str(path.relative_to(release_dir.parent.parent)))]
    return found


def _count(source_dir: pathlib.Path, report: BuildReport) -> None:
    for name in notebooks_of(source_dir):
        nb = nbformat.read(source_dir / f"{name}.ipynb", as_version=4)
        report.notebooks += 1
        report.problems += lint_notebook(nb, f"{source_dir.name}/{name}.ipynb")
        for cell in nb.cells:
            meta = _meta(cell)
            if meta.get("grade") and not meta.get("solution"):
                report.questions += 1
                report.points += float(meta.get("points") or 0)


def build(root: pathlib.Path, assignments=None, *, prove: bool = True, workers=None,
          timeout: int | None = None, log=print) -> list[BuildReport]:
    """Generate (and prove) the given assignments, or every one under solutions/."""
    api = make_api(root)
    layout = Layout.from_api(api)
    known = assignments_in(layout.source)
    names = list(assignments or known)
    unknown = [a for a in names if a not in known]
    if unknown:
        raise CourseError(f"no such assignment in {layout.source}: {', '.join(unknown)} "
                          f"(found: {', '.join(known) or 'none'})")
    reports = []
    for name in names:
        start = time.perf_counter()
        report = BuildReport(name)
        _count(layout.source / name, report)
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            report.problems.append("nbgrader generate_assignment failed:\n"
                                   + (result.get("log", "") + result.get("error", ""))[-3000:])
        else:
            report.leaks += release_leaks(layout.source / name, layout.release / name)
            if prove and not report.problems:
                _prove(layout, name, report, workers=workers, timeout=timeout)
        report.seconds = time.perf_counter() - start
        reports.append(report)
        log(f"{name}: {'ok' if report.ok else 'FAILED'} ({report.seconds:.1f} s)")
    return reports


def _prove(layout: Layout, name: str, report: BuildReport, *, workers=None, timeout=None) -> None:
    from .grading import grade

    with tempfile.TemporaryDirectory(prefix="cnnlab-proof-") as tmp:
        tmp = pathlib.Path(tmp)
        shutil.copy(layout.root / CONFIG_NAME, tmp / CONFIG_NAME)
        shutil.copytree(layout.source / name, tmp / layout.source.name / name)
        for student in ("solution", "release"):
            dest = tmp / "submitted" / student / name
            dest.mkdir(parents=True)
            for nb_name in notebooks_of(layout.source / name):
                nb = nbformat.read(layout.release / name / f"{nb_name}.ipynb", as_version=4)
                if student == "solution":
                    source = nbformat.read(layout.source / name / f"{nb_name}.ipynb", as_version=4)
                    nb = solved_release(source, nb)
                nbformat.write(nb, str(dest / f"{nb_name}.ipynb"))
        run = grade(tmp, name, workers=workers, timeout=timeout, export=False, progress=False,
                    log=lambda *a: None)
        report.proved = True
        results = run.by_student(name)
        for student in ("solution", "release"):
            r = results.get(student)
            if r is None or r.status != "graded":
                report.problems.append(f"{student} version did not grade: {r.error if r else 'missing'}")
        if "solution" in results:
            report.solution_score = results["solution"].score
            report.problems += _errors_in(tmp / "autograded" / "solution" / name, "solution version")
        if "release" in results:
            report.release_score = results["release"].score
            report.problems += _crashes_in(tmp / "autograded" / "release" / name)
        if report.solution_score is not None and report.solution_score != report.points:
            report.problems.append(f"the solution scores {report.solution_score:g}/{report.points:g}")
        if report.release_score not in (None, 0):
            report.problems.append(f"the unmodified release scores {report.release_score:g}, not 0")
        for nb_name in notebooks_of(layout.source / name):
            protected = _leaks.protected_lines(nbformat.read(layout.source / name / f"{nb_name}.ipynb", as_version=4))
            for student in ("solution", "release"):
                html = tmp / "feedback" / student / name / f"{nb_name}.html"
                if not html.exists():
                    report.problems.append(f"no feedback generated for the {student} version")
                    continue
                # a student's own answers are theirs to see: feedback must not show hidden tests
                found = _leaks.scan_html(html.read_text(encoding="utf-8"), protected,
                                         f"feedback/{student}/{name}/{nb_name}.html")
                report.leaks += [str(leak) for leak in found
                                 if leak.kind == "hidden test" or "HIDDEN" in leak.line]


def _outputs(directory: pathlib.Path):
    for path in sorted(directory.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    yield path.name, index, cell, output


def _errors_in(directory, label) -> list[str]:
    return [f"{label}: {nb} cell {i} ({_meta(c).get('grade_id', 'no grade_id')}) raised "
            f"{o['ename']}: {o['evalue'][:300]}" for nb, i, c, o in _outputs(directory)]


def _crashes_in(directory) -> list[str]:
    bad = {"KernelDied", "CellTimeoutError", "NotRun", "DeadKernelError"}
    return [f"release: {nb} cell {i} {o['ename']}: {o['evalue'][:200]}"
            for nb, i, c, o in _outputs(directory) if o["ename"] in bad]


def format_table(reports: list[BuildReport]) -> str:
    def score(value, total):
        return "-" if value is None else f"{value:g}/{total:g}"

    rows = [("assignment", "notebooks", "questions", "points", "solution", "release",
             "leaks", "problems", "time", "result")]
    for r in reports:
        rows.append((r.assignment, str(r.notebooks), str(r.questions), f"{r.points:g}",
                     score(r.solution_score, r.points) if r.proved else "not run",
                     score(r.release_score, r.points) if r.proved else "not run",
                     str(len(r.leaks)), str(len(r.problems)), f"{r.seconds:.1f} s",
                     "ok" if r.ok else "FAILED"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in reports:
        for item in r.problems:
            lines.append(f"{r.assignment}: problem: {item}")
        for item in r.leaks:
            lines.append(f"{r.assignment}: LEAK: {item}")
    return "\n".join(lines)
