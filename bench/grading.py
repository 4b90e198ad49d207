"""Grading speed: nbgrader's overhead per submission, and class throughput in parallel.

    .venv/bin/python bench/grading.py [--students 20] [--repeats 5] [--workers 2]

1. Per submission, in a warm process (imports done), median of ``--repeats`` runs:
   * raw: ``nbclient`` executes the notebook that autograding executes (the solved
     release with the hidden tests back in), plain ``python3`` kernel;
   * nbgrader: ``NbGraderAPI.autograde`` of one submission (sanitize, execute in the
     capped grading kernel, save grades) — goal: at most 1.5x raw;
   * cnnlab: what one ``cnnlab-course grade`` worker does per submission (copy, intake,
     nbgrader autograde in its private course) plus the parent recording the grades.
2. A class of ``--students`` submissions graded with ``cnnlab-course grade --force``
   (autograde, feedback, CSV export: wall clock of the whole command) with 1 worker and
   with ``--workers`` — goal: at least 1.8x faster on 2 cores.

Timings depend on the machine's load; compare the ratios within one run.
"""
from __future__ import annotations

import argparse
import logging
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _course(base: pathlib.Path, students: int):
    import nbformat

    from cnnlab.course.build import solved_release
    from cnnlab.course.course import make_api

    shutil.copy(ROOT / "nbgrader_config.py", base / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / "ps1", base / "solutions" / "ps1")
    api = make_api(base, log_level=logging.ERROR)
    assert api.generate_assignment("ps1")["success"]
    release = nbformat.read(base / "assignments/ps1/ps1.ipynb", as_version=4)
    solved = solved_release(nbformat.read(base / "solutions/ps1/ps1.ipynb", as_version=4), release)
    for i in range(students):
        folder = base / "submitted" / f"student{i:03d}" / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(solved if i % 4 else release, str(folder / "ps1.ipynb"))
    # what autograde executes: the submission with the test cells as in the source
    source = nbformat.read(base / "solutions/ps1/ps1.ipynb", as_version=4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader")}
    executed = solved
    for cell in executed.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in tests and cell.metadata["nbgrader"].get("locked"):
            cell.source = tests[gid]
    return api, executed


def per_submission(base: pathlib.Path, repeats: int) -> None:
    import copy

    import nbclient

    from cnnlab.course import grading

    api, executed = _course(base, students=1)
    student = "student000"

    def raw():
        nb = copy.deepcopy(executed)
        nbclient.NotebookClient(nb, timeout=30, kernel_name="python3",
                                resources={"metadata": {"path": str(base)}}).execute()

    def nbgrader_autograde():
        assert api.autograde("ps1", student, force=True)["success"]

    private = base / "private"
    private.mkdir()
    shutil.copy(base / "gradebook.db", private / "snapshot.db")
    grading._worker_init(str(private), str(base), str(private / "snapshot.db"), {})
    layout = grading.Layout.from_api(api)
    release = base / "assignments" / "ps1"

    def cnnlab_worker_and_record():
        r = grading._autograde_one(str(layout.submitted / student / "ps1"), student, "ps1", str(release), ["ps1"])
        assert r["success"], r["error"]
        grading._record(api, layout, student, "ps1", pathlib.Path(r["autograded"]))

    raw()  # warm the disk cache and the imports of every path once
    nbgrader_autograde()
    cnnlab_worker_and_record()
    times = {raw: [], nbgrader_autograde: [], cnnlab_worker_and_record: []}
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits all three
        for fn, samples in times.items():
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    t_raw, t_nbg, t_ours = (statistics.median(v) for v in times.values())
    m_raw, m_nbg, m_ours = (min(v) for v in times.values())  # least disturbed by other load
    print(f"per submission (ps1, median of {repeats}; min in brackets):")
    print(f"  raw nbclient execution        {t_raw:6.2f} s               [{m_raw:5.2f} s]")
    print(f"  nbgrader autograde (API)      {t_nbg:6.2f} s   {t_nbg / t_raw:4.2f}x raw   "
          f"[{m_nbg:5.2f} s  {m_nbg / m_raw:4.2f}x]   (goal <= 1.5x)")
    print(f"  cnnlab worker + record        {t_ours:6.2f} s   {t_ours / t_raw:4.2f}x raw   "
          f"[{m_ours:5.2f} s  {m_ours / m_raw:4.2f}x]")


def throughput(base: pathlib.Path, students: int, workers: int) -> None:
    from cnnlab.course.grading import grade

    _course(base, students)
    results = {}
    for n in (1, workers):
        start = time.perf_counter()
        run = grade(base, "ps1", force=True, workers=n, progress=False, log=lambda *a: None)
        results[n] = time.perf_counter() - start
        assert all(r.status == "graded" for r in run.results) and len(run.results) == students
    speedup = results[1] / results[workers]
    print(f"class of {students} submissions (autograde + feedback + CSV, whole command):")
    print(f"  1 worker                      {results[1]:6.1f} s   {students / results[1]:5.2f} submissions/s")
    print(f"  {workers} workers                     {results[workers]:6.1f} s   "
          f"{students / results[workers]:5.2f} submissions/s   speed-up {speedup:4.2f}x   (goal >= 1.8x)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as tmp:
        (pathlib.Path(tmp) / "a").mkdir()
        (pathlib.Path(tmp) / "b").mkdir()
        per_submission(pathlib.Path(tmp) / "a", args.repeats)
        throughput(pathlib.Path(tmp) / "b", args.students, args.workers)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
