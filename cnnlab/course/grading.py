"""``cnnlab-course grade``: autograde a class in parallel without sharing a gradebook.

sqlite allows one writer at a time, and nbgrader's autograde writes to the gradebook
all along. So each worker process grades in a private course directory of its own
(a snapshot of the gradebook, the source files, a copy of one submission at a time)
with nbgrader's real ``Autograde``. The parent process alone writes to the course's
gradebook: as each submission finishes it copies the autograded notebooks into
``autograded/`` and records the scores by running nbgrader's own ``SaveAutoGrades`` and
``AssignLatePenalties`` on them, so the result is what ``nbgrader autograde`` would have
stored. Feedback is then generated in parallel (it only reads the gradebook), with
hidden tests stripped, and the scores are exported to CSV.

A submission is graded again only when its files or the assignment's source changed
(or with ``force``): fingerprints live in ``autograded/.cnnlab/<assignment>.json``.
"""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import pathlib
import shutil
import stat
import tempfile
import time
import warnings

from .course import CourseError, Layout, assignments_in, copytree, generate_into, make_api, notebooks_of, rmtree

__all__ = ["grade", "default_workers", "GradeResult", "GradeRun"]


@dataclasses.dataclass
class GradeResult:
    student: str
    assignment: str
    status: str  # "graded", "skipped", "error"
    score: float | None = None
    max_score: float | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


@dataclasses.dataclass
class GradeRun:
    results: list[GradeResult]
    exports: list[pathlib.Path]
    seconds: float

    def by_student(self, assignment: str | None = None) -> dict[str, GradeResult]:
        return {r.student: r for r in self.results if assignment in (None, r.assignment)}


# -- fingerprints -----------------------------------------------------------------
def _tree_hash(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink() and ".ipynb_checkpoints" not in p.parts:
            digest.update(str(p.relative_to(path)).encode() + b"\0")
            digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()


def _state_file(layout: Layout, assignment: str) -> pathlib.Path:
    return layout.autograded / ".cnnlab" / f"{assignment}.json"


def _load_state(layout, assignment) -> dict:
    path = _state_file(layout, assignment)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _save_state(layout, assignment, state) -> None:
    path = _state_file(layout, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


#: what ``--no-sandbox`` gives up (printed at the start of such a run)
UNPROTECTED = """\
WARNING: grading WITHOUT the sandbox (--no-sandbox). Student code runs as you, so it can:
  - read everything you can: solutions/, the gradebook, the grading secret, other students' work;
  - write everything you can: the gradebook, other students' files, your Python environment;
  - start programs and leave processes running after grading; use the network.
Verdicts are still computed outside the student's kernel (no forged scores through the
checks), memory/time/output limits still apply. Grade in a container or VM, or as an
unprivileged user, when bubblewrap is not available."""


def secret_path(root: pathlib.Path) -> pathlib.Path:
    """The course's grading secret: in the instructors' course directory, never released."""
    return root / ".cnnlab" / "grading-secret"


# -- worker side ------------------------------------------------------------------
_WORKER: dict = {}


def _quiet():
    warnings.filterwarnings("ignore")
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def _worker_init(base: str, root: str, snapshot: str, overrides: dict) -> None:
    _quiet()
    from .course import load_config

    private = pathlib.Path(tempfile.mkdtemp(prefix="worker-", dir=base))
    shutil.copy(snapshot, private / "gradebook.db")
    config = load_config(pathlib.Path(root), **overrides)
    source_name = config.CourseDirectory.source_directory
    (private / source_name).symlink_to(pathlib.Path(root) / source_name)
    config.CourseDirectory.root = str(private)
    config.CourseDirectory.db_url = f"sqlite:///{private / 'gradebook.db'}"
    config.GradingExecute.secret_file = str(secret_path(pathlib.Path(root)))
    _WORKER.update(root=pathlib.Path(root), private=private, overrides=overrides,
                   api=make_api(private, config))


def _autograde_one(submitted: str, student: str, assignment: str, release_dir: str,
                   expected: list[str]) -> dict:
    from .intake import prepare_submission

    api = _WORKER["api"]
    layout = Layout.from_api(api)
    start = time.perf_counter()
    dest = layout.submitted / student / assignment
    skipped = _copy_regular_files(pathlib.Path(submitted), dest)
    notes = prepare_submission(dest, pathlib.Path(release_dir), expected)
    if skipped:
        notes.insert(0, "these were links or special files, not files, and were not graded: "
                     + ", ".join(f"`{name}`" for name in skipped[:10]) + ".")
    result = api.autograde(assignment, student, force=True, create=True)
    out = layout.autograded / student / assignment
    return {
        "student": student, "assignment": assignment, "success": bool(result.get("success")),
        "error": "" if result.get("success") else (result.get("log", "") + result.get("error", ""))[-4000:],
        "autograded": str(out), "notes": notes, "seconds": time.perf_counter() - start,
    }


def _copy_regular_files(src: pathlib.Path, dst: pathlib.Path) -> list[str]:
    """Copy a submission: regular files and folders only, never through a link (a link to
    solutions/ or to the grading secret must not be graded or shown). Returns what was left."""
    rmtree(dst)
    skipped = []
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel = pathlib.Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                dirnames.remove(name)
                skipped.append(str(rel / name))
        for name in filenames:
            path = pathlib.Path(dirpath) / name
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                skipped.append(str(rel / name))
                continue
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                    skipped.append(str(rel / name))
                    continue
                (dst / rel / name).write_bytes(fh.read())
    return sorted(skipped)


def _feedback_chunk(root: str, overrides: dict, assignment: str, students: list[str], base: str) -> dict:
    """Feedback for several students in ONE nbgrader run (the HTML templates are compiled
    once per run, half the cost of one student's feedback): nbgrader is pointed at a
    folder holding links to just these students' autograded submissions. It only reads
    the gradebook, so workers can do this side by side.

    nbgrader writes into a private folder; each file is scanned (:func:`scan_feedback`)
    before it is moved into ``feedback/``. A file that fails the scan is not written."""
    import re

    from .course import load_config

    _quiet()
    view = pathlib.Path(tempfile.mkdtemp(prefix="feedback-", dir=base))
    for student in students:
        (view / "in" / student).mkdir(parents=True)
        (view / "in" / student / assignment).symlink_to(pathlib.Path(root) / "autograded" / student / assignment)
    config = load_config(pathlib.Path(root), **overrides)
    config.CourseDirectory.autograded_directory = str(view / "in")
    config.CourseDirectory.feedback_directory = str(view / "out")
    result = make_api(pathlib.Path(root), config).generate_feedback(assignment, force=True)
    log = result.get("log", "") + result.get("error", "")
    failed = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'", log))
    if not result.get("success") and not failed:
        failed = set(students)
    leaked: dict[str, list[str]] = {}
    protected = _protected(pathlib.Path(root), config, assignment)
    secret = secret_path(pathlib.Path(root))
    for student in students:
        if student in failed:
            continue
        made = view / "out" / student / assignment
        found = []
        for path in sorted(made.rglob("*")) if made.is_dir() else []:
            if path.is_file():
                found += scan_feedback(path.read_bytes(), protected, secret, f"{student}/{path.name}")
        if found:
            leaked[student] = found
            continue
        dest = pathlib.Path(root) / "feedback" / student / assignment
        if dest.exists():
            rmtree(dest)
        if made.is_dir():
            copytree(made, dest)
    return {"students": students, "failed": sorted(failed), "error": log[-2000:] if failed else "",
            "leaked": leaked}


def _protected(root: pathlib.Path, config, assignment: str) -> dict[str, str]:
    """Hidden-test lines of the assignment's source notebooks (for the feedback scan)."""
    import nbformat

    from . import leaks

    source = root / config.CourseDirectory.source_directory / assignment
    protected: dict[str, str] = {}
    for nb_path in sorted(source.glob("*.ipynb")):
        for line, kind in leaks.protected_lines(nbformat.read(nb_path, as_version=4)).items():
            if kind == "hidden test":
                protected[line] = kind
    return protected


def scan_feedback(data: bytes, protected: dict[str, str], secret: pathlib.Path, where: str) -> list[str]:
    """What a feedback file must not contain: hidden-test lines, the solution/hidden-test
    delimiters, the course's grading secret. Returns the findings (empty: clean)."""
    from . import leaks

    text = data.decode("utf-8", errors="replace")
    # (a student's own notebook may show "### BEGIN SOLUTION": that is no secret)
    found = [str(leak) for leak in leaks.scan_html(text, protected, where)
             if leak.kind == "hidden test" or "HIDDEN" in leak.line]
    try:
        key = secret.read_bytes()
    except OSError:
        key = b""
    if key and (key in data or key.hex() in text or key.hex().upper() in text):
        found.append(f"{where}: the grading secret")
    return found


# -- parent side ------------------------------------------------------------------
def _record(api, layout: Layout, student: str, assignment: str, autograded: pathlib.Path) -> None:
    """Copy a worker's autograded notebooks in and store their grades, as nbgrader would."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    dest = layout.autograded / student / assignment
    copytree(autograded, dest)
    submitted = layout.submitted / student / assignment
    with Gradebook(layout.db_url, api.coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        timestamp = api.coursedir.get_existing_timestamp(str(submitted))
        if timestamp:
            gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gb.update_or_create_submission(assignment, student)
        notebook_names = [nb.name for nb in gb.find_assignment(assignment).notebooks]
    for name in notebook_names:
        path = dest / f"{name}.ipynb"
        if not path.exists():  # nbgrader's rule for a notebook that never got graded
            with Gradebook(layout.db_url, api.coursedir.course_id) as gb:
                for grade in gb.find_submission_notebook(name, assignment, student).grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
                gb.db.commit()
            continue
        nb = nbformat.read(path, as_version=4)
        resources = {"nbgrader": {"notebook": name, "assignment": assignment,
                                  "student": student, "db_url": layout.db_url}}
        for pp in (SaveAutoGrades, AssignLatePenalties):
            nb, resources = pp(config=api.config).preprocess(nb, resources)
    for dirpath, _, files in os.walk(dest):
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o444)


def _score(api, assignment, student):
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        sub = gb.find_submission(assignment, student)
        return float(sub.score), float(sub.max_score)


def default_workers() -> int:
    """Grading processes used unless told otherwise: one more than the usable CPUs.

    A worker spends about a fifth of each submission waiting for its kernel (start-up,
    messages, exit) rather than computing; the extra process fills those gaps. ps1, 20
    submissions on 2 cores: 2 workers grade 1.84x as fast as 1, 3 workers 2.27x
    (``bench/grading.py``, median of 3 rounds).
    """
    try:
        cpus = len(os.sched_getaffinity(0))  # what this process may use, not the host's count
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return cpus + 1


def submitted_students(layout: Layout, assignment: str) -> list[str]:
    if not layout.submitted.is_dir():
        return []
    return sorted(p.name for p in layout.submitted.iterdir()
                  if (p / assignment).is_dir() and not p.name.startswith("."))


def grade(root: pathlib.Path, assignment: str | None = None, *, students=None, force: bool = False,
          workers: int | None = None, timeout: int | None = None, memory: str | None = None,
          feedback: bool = True, export: bool = True, progress: bool = True,
          sandbox: bool = True, log=print) -> GradeRun:
    """Autograde new or changed submissions under ``submitted/`` (see the module doc).

    Every kernel runs in the bubblewrap sandbox; without it (``sandbox=False``, the CLI's
    ``--no-sandbox``) grading runs only when asked explicitly, and says what is then
    unprotected. Raises :class:`~cnnlab.course.judge.sandbox.SandboxUnavailable` when the
    sandbox is required but cannot be built here.
    """
    from .export import export_scores

    start = time.perf_counter()
    _quiet()
    overrides = {}
    if timeout is not None:
        overrides["Execute.timeout"] = int(timeout)
    if memory is not None:
        overrides["GradingExecute.memory_limit"] = str(memory)
    from .judge import sandbox as _sandbox
    if sandbox:
        if not _sandbox.available():
            raise _sandbox.SandboxUnavailable(
                "cannot grade safely: " + _sandbox.why_unavailable() + ". Install bubblewrap "
                "(Debian/Ubuntu: apt-get install bubblewrap), or run with --no-sandbox to grade "
                "without it at your own risk.")
    else:
        overrides["GradingExecute.sandbox"] = False
        log(UNPROTECTED)
    from .course import load_config
    api = make_api(root, load_config(root, **overrides))
    layout = Layout.from_api(api)
    known = assignments_in(layout.source)
    if assignment is not None and assignment not in known:
        raise CourseError(f"no assignment {assignment!r} in {layout.source} (found: {', '.join(known) or 'none'})")
    targets = [assignment] if assignment else [a for a in known if submitted_students(layout, a)]
    if not targets:
        log(f"nothing to grade: no submissions under {layout.submitted}")
        return GradeRun([], [], time.perf_counter() - start)
    workers = max(1, workers or default_workers())
    from .judge.trusted import load_secret
    load_secret(str(secret_path(layout.root)))  # created once here, before the workers fork

    results: list[GradeResult] = []
    exports: list[pathlib.Path] = []
    ctx = _worker_context()
    for name in targets:
        everyone = submitted_students(layout, name)
        chosen = [s for s in everyone if students is None or s in students]
        if students is not None and assignment is not None:
            missing = sorted(set(students) - set(everyone))
            if missing:
                raise CourseError(f"no submission of {name} from: {', '.join(missing)}")
        if not chosen:
            log(f"{name}: nothing to grade, no submissions under {layout.submitted}")
            continue
        source_hash = _tree_hash(layout.source / name)
        state = _load_state(layout, name)
        fingerprints = {s: source_hash + ":" + _tree_hash(layout.submitted / s / name) for s in chosen}
        todo = [s for s in chosen if force or state.get(s) != fingerprints[s]
                or not (layout.autograded / s / name).is_dir()]
        for s in sorted(set(chosen) - set(todo)):
            results.append(GradeResult(s, name, "skipped", *_score_or_none(api, name, s)))
        if not todo:
            log(f"{name}: all {len(chosen)} submission(s) already graded (use --force to redo)")
        else:
            def remember(r, name=name, state=state, fingerprints=fingerprints):
                # saved as each submission is recorded: an interrupted run loses nothing
                if r.status == "graded":
                    state[r.student] = fingerprints[r.student]
                else:
                    state.pop(r.student, None)
                _save_state(layout, name, state)

            graded = _grade_batch(api, layout, name, todo, workers, overrides, ctx, progress,
                                  feedback, remember)
            results.extend(graded)
        if export:
            exports.extend(export_scores(api, layout, name))
    results.sort(key=lambda r: (r.assignment, r.student))
    return GradeRun(results, exports, time.perf_counter() - start)


def _worker_context():
    """Workers come from a fork server started clean, with nbgrader and the grader preloaded
    (fast to fork, like plain fork), but never from this process: the trusted side of
    ps3/ps4 runs torch in the workers, and a process forked from a parent whose torch (or
    OpenMP) thread pool already ran can hang in it. Spawn where there is no fork server."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cnnlab.course.grading", "cnnlab.course.kernel",
                                    "cnnlab.course.judge.link", "nbgrader.apps.api"])
        return ctx
    return multiprocessing.get_context("spawn")


def _score_or_none(api, assignment, student):
    try:
        return _score(api, assignment, student)
    except Exception:
        return None, None


def _bar(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="sub", leave=True)


def _progress(iterable, total, desc, enabled):
    bar = _bar(total, desc, enabled)
    if bar is None:
        yield from iterable
        return
    with bar:
        for item in iterable:
            yield item
            bar.update(1)


def _grade_batch(api, layout, name, todo, workers, overrides, ctx, progress,
                 feedback, remember) -> list[GradeResult]:
    expected = notebooks_of(layout.source / name)
    out: list[GradeResult] = []
    with tempfile.TemporaryDirectory(prefix="cnnlab-grade-") as base:
        # the current source goes into the gradebook; its release is what the intake
        # grades in place of a missing or unreadable notebook
        release_dir = generate_into(api, name, pathlib.Path(base) / "release")
        snapshot = pathlib.Path(base) / "gradebook-snapshot.db"
        _sqlite_snapshot(layout.db_url, snapshot)
        n = min(workers, len(todo))
        initargs = (base, str(layout.root), str(snapshot), overrides)

        def job(student):
            return (_autograde_one, str(layout.submitted / student / name), student, name,
                    str(release_dir), expected)

        bar = _bar(len(todo), f"autograde {name}", progress)
        for student, outcome in _run_all(todo, job, n, ctx, initargs):
            if isinstance(outcome, BrokenProcessPool):
                out.append(GradeResult(student, name, "error", error=(
                    "this submission stopped its grading worker (the worker process died while "
                    "grading it, twice); the worker was replaced and the rest of the class was "
                    "graded")))
            else:
                out.append(_collect(api, layout, name, student, outcome))
            remember(out[-1])
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        ok = [r.student for r in out if r.status == "graded"]
        if feedback and ok:
            by_student = {r.student: r for r in out}
            chunks = _feedback_chunks(ok, n)
            bar = _bar(len(ok), f"feedback  {name}", progress)
            with cf.ProcessPoolExecutor(n, mp_context=ctx, initializer=_quiet) as pool:
                futures = [pool.submit(_feedback_chunk, str(layout.root), overrides, name, chunk, base)
                           for chunk in chunks]
                for fut in cf.as_completed(futures):
                    r = fut.result()
                    for student in r["failed"]:
                        res = by_student[student]
                        res.status, res.error = "error", "feedback failed: " + r["error"]
                        remember(res)  # so the next run tries again
                    for student, found in r["leaked"].items():
                        res = by_student[student]
                        res.status = "error"
                        res.error = ("FEEDBACK WITHHELD: it would have shown what students must not "
                                     "see: " + "; ".join(found[:5]))
                        remember(res)
                    if bar is not None:
                        bar.update(len(r["students"]))
            if bar is not None:
                bar.close()
    return out


def _run_all(students, job, n, ctx, initargs):
    """Yield ``(student, result or exception)`` for every student, whatever a submission
    does to its worker process.

    All run in one pool of ``n`` workers. If a worker dies, the pool breaks and every
    unfinished submission's future fails with it, without saying which one did it; those
    are then graded again one per fresh single-worker pool (``n`` at a time), so the one
    that kills its worker again is named, and every other one is graded.
    """
    unfinished = []
    with cf.ProcessPoolExecutor(n, mp_context=ctx, initializer=_worker_init, initargs=initargs) as pool:
        futures = {pool.submit(*job(s)): s for s in students}
        for fut in cf.as_completed(futures):
            try:
                result = fut.result()
            except BrokenProcessPool:
                unfinished.append(futures[fut])
                continue
            except Exception as exc:
                yield futures[fut], exc
                continue
            yield futures[fut], result
    if not unfinished:
        return

    def alone(student):
        try:
            with cf.ProcessPoolExecutor(1, mp_context=ctx, initializer=_worker_init,
                                        initargs=initargs) as solo:
                return student, solo.submit(*job(student)).result()
        except BaseException as exc:  # noqa: BLE001 - reported as this submission's error
            return student, exc

    with cf.ThreadPoolExecutor(n) as threads:
        for item in threads.map(alone, sorted(unfinished)):
            yield item


def _feedback_chunks(students: list[str], workers: int, most: int = 8) -> list[list[str]]:
    """Split ``students`` into chunks of at most ``most`` for ``workers`` processes.

    A feedback run pays for compiling its HTML templates once, so chunks are as large as
    allowed; their number is a multiple of ``workers`` and their sizes differ by at most
    one, so every worker gets the same work (20 students on 2 workers: 5+5+5+5, not the
    8+8+4 that leaves one worker doing 12).
    """
    if not students:
        return []
    count = workers * -(-len(students) // (workers * most))
    count = min(count, len(students))
    size, extra = divmod(len(students), count)
    chunks, start = [], 0
    for i in range(count):
        stop = start + size + (i < extra)
        chunks.append(students[start:stop])
        start = stop
    return chunks


def _collect(api, layout, name, student, r: dict) -> GradeResult:
    if isinstance(r, BaseException):  # the grading itself raised
        return GradeResult(student, name, "error", error=f"grader worker failed: {r!r}")
    if not r["success"]:
        return GradeResult(student, name, "error", notes=r["notes"], error=r["error"], seconds=r["seconds"])
    try:
        _record(api, layout, student, name, pathlib.Path(r["autograded"]))
        score, max_score = _score(api, name, student)
    except Exception as exc:
        return GradeResult(student, name, "error", error=f"recording the grades failed: {exc!r}")
    return GradeResult(student, name, "graded", score, max_score, notes=r["notes"], seconds=r["seconds"])


def _sqlite_snapshot(db_url: str, dest: pathlib.Path) -> None:
    """A consistent copy of the gradebook (sqlite's online backup)."""
    import sqlite3

    if not db_url.startswith("sqlite:///"):
        raise CourseError(f"parallel grading needs an sqlite gradebook, got {db_url}")
    src = sqlite3.connect(db_url[len("sqlite:///"):])
    dst = sqlite3.connect(str(dest))
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
