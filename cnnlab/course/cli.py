"""``cnnlab-course``: the instructors' commands (build, grade, bundle).

Run from anywhere inside the course repository (or pass ``--root``)::

    cnnlab-course build [ASSIGNMENT ...] [--no-proof]
    cnnlab-course grade [ASSIGNMENT] [--force] [--student ID ...] [--workers N]
                        [--timeout S] [--memory 4G] [--no-feedback]
    cnnlab-course bundle [--output dist/cnnlab-student.zip]

Exit status: 0 success, 1 something failed (the table says what), 2 usage errors.
"""
from __future__ import annotations

import argparse
import pathlib
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnlab-course", description="Build, grade and bundle the cnnlab assignments (nbgrader).")
    parser.add_argument("--root", type=pathlib.Path, default=None,
                        help="course repository (default: found from the current directory)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="generate assignments/ from solutions/ and prove each assignment")
    b.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment")
    b.add_argument("--no-proof", action="store_true", help="only generate (skip grading the solution and release)")
    b.add_argument("--workers", type=int, default=None, help="grading processes (default: CPUs + 1)")
    b.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds for the proof")

    g = sub.add_parser("grade", help="autograde submitted/ in parallel, write feedback and CSV exports")
    g.add_argument("assignment", nargs="?", default=None, help="default: every assignment with submissions")
    g.add_argument("--force", action="store_true", help="grade again even unchanged submissions")
    g.add_argument("--student", action="append", default=None, metavar="ID", help="only this student (repeatable)")
    g.add_argument("--workers", type=int, default=None, help="grading processes (default: CPUs + 1)")
    g.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds (config: 30)")
    g.add_argument("--memory", default=None, help="memory cap per kernel, e.g. 4G or 1500M (config: 4G)")
    g.add_argument("--no-feedback", action="store_true", help="skip generating feedback")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.add_argument("--no-sandbox", action="store_true",
                   help="grade WITHOUT the bubblewrap sandbox (a machine without it, e.g. macOS): "
                        "student code can then read and write whatever you can")

    z = sub.add_parser("bundle", help="zip the student distribution and prove it holds no solutions")
    z.add_argument("--output", type=pathlib.Path, default=None, help="default: dist/cnnlab-student.zip")
    return parser


def _root(args) -> pathlib.Path:
    from .course import find_root
    return find_root(args.root)


def _cmd_build(args) -> int:
    from .build import build, format_table

    reports = build(_root(args), args.assignments or None, prove=not args.no_proof,
                    workers=args.workers, timeout=args.timeout, log=lambda msg: print(msg, flush=True))
    print()
    print(format_table(reports))
    return 0 if all(r.ok for r in reports) else 1


def _cmd_grade(args) -> int:
    from .grading import grade

    if args.workers is not None and args.workers < 1:
        raise SystemExit2(f"--workers must be a positive int, got {args.workers}")
    if args.timeout is not None and args.timeout < 1:
        raise SystemExit2(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.memory is not None:
        from .kernel import parse_size
        try:
            parse_size(args.memory)
        except (TypeError, ValueError) as exc:
            raise SystemExit2(f"--memory: {exc}") from None
    run = grade(_root(args), args.assignment, students=args.student, force=args.force,
                workers=args.workers, timeout=args.timeout, memory=args.memory,
                feedback=not args.no_feedback, progress=not args.no_progress,
                sandbox=not args.no_sandbox, log=lambda msg: print(msg, flush=True))
    print(format_run(run))
    return 0 if all(r.status != "error" for r in run.results) else 1


def format_run(run) -> str:
    def score(r):
        return "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"

    rows = [("assignment", "student", "score", "status", "time")]
    rows += [(r.assignment, r.student, score(r), r.status, f"{r.seconds:.1f} s" if r.seconds else "")
             for r in run.results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in run.results:
        for note in r.notes:
            lines.append(f"{r.assignment}/{r.student}: note: {note}")
        if r.error:
            lines.append(f"{r.assignment}/{r.student}: ERROR: {r.error.strip()[-1500:]}")
    counts = {s: sum(r.status == s for r in run.results) for s in ("graded", "skipped", "error")}
    lines.append(f"{counts['graded']} graded, {counts['skipped']} unchanged, {counts['error']} failed "
                 f"in {run.seconds:.1f} s")
    for path in run.exports:
        lines.append(f"wrote {path}")
    return "\n".join(lines)


def _cmd_bundle(args) -> int:
    from .bundle import bundle

    report = bundle(_root(args), args.output)
    print(f"wrote {report.path} ({report.files} files, {report.size / 1e6:.1f} MB)")
    if report.ok:
        print("checked: no solutions/, hidden tests, gradebook or grading files; "
              "assignments/ matches solutions/")
        return 0
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    return 1


class SystemExit2(Exception):
    """A usage error (exit status 2)."""


def main(argv=None) -> int:
    from .course import CourseError

    args = _parser().parse_args(argv)
    handler = {"build": _cmd_build, "grade": _cmd_grade, "bundle": _cmd_bundle}[args.command]
    try:
        return handler(args)
    except SystemExit2 as exc:
        print(f"cnnlab-course {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except CourseError as exc:
        print(f"cnnlab-course {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
