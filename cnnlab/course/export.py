"""CSV exports of an assignment's grades, read from the gradebook.

* ``exports/<assignment>-students.csv`` — one row per student: submission time,
  seconds late, one column per question (test cell) with its score, raw score, late
  penalty, final score (raw - penalty, at least 0, as ``nbgrader export``) and max
  score. Students in the gradebook who did not submit get an empty row scoring 0.
* ``exports/<assignment>-questions.csv`` — one row per question: max points, how many
  students got full / partial / zero marks, mean score — where the class struggled.

``nbgrader export`` (nbgrader's own CSV, one row per student and assignment) also works.
"""
from __future__ import annotations

import csv
import pathlib
import statistics

__all__ = ["export_scores", "question_columns"]


def question_columns(gb, assignment: str) -> list[tuple[str, str, float]]:
    """(notebook, grade_id, max points) of every graded cell, in notebook order."""
    out = []
    for notebook in gb.find_assignment(assignment).notebooks:
        order = {cell.name: i for i, cell in enumerate(notebook.source_cells)}
        cells = sorted(notebook.grade_cells, key=lambda c: order.get(c.name, 1e9))
        out.extend((notebook.name, cell.name, float(cell.max_score)) for cell in cells)
    return out


def _fmt(x) -> str:
    if x is None:
        return ""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.3f}".rstrip("0")


def export_scores(api, layout, assignment: str) -> list[pathlib.Path]:
    from nbgrader.api import Gradebook

    layout.exports.mkdir(parents=True, exist_ok=True)
    students_csv = layout.exports / f"{assignment}-students.csv"
    questions_csv = layout.exports / f"{assignment}-questions.csv"
    with Gradebook(layout.db_url, api.coursedir.course_id) as gb:
        questions = question_columns(gb, assignment)
        multi = len({nb for nb, _, _ in questions}) > 1
        labels = [f"{nb}:{gid}" if multi else gid for nb, gid, _ in questions]
        per_question: dict[str, list[float]] = {label: [] for label in labels}
        rows = []
        submissions = {sub.student.id: sub for sub in gb.find_assignment(assignment).submissions}
        for student in sorted(gb.students, key=lambda st: st.id):
            sub = submissions.get(student.id)
            row = {
                "student_id": student.id,
                "last_name": student.last_name or "",
                "first_name": student.first_name or "",
                "email": student.email or "",
                "timestamp": sub.timestamp.isoformat() if sub is not None and sub.timestamp else "",
                "seconds_late": _fmt(sub.total_seconds_late) if sub is not None else "",
            }
            scores = {}
            if sub is not None:
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        scores[(nb.name, grade.name)] = grade.score
            for (nb, gid, _), label in zip(questions, labels):
                value = scores.get((nb, gid))
                row[label] = _fmt(value)
                if sub is not None:
                    per_question[label].append(float(value or 0))
            raw = float(sub.score) if sub is not None else 0.0
            penalty = float(sub.late_submission_penalty or 0) if sub is not None else 0.0
            row.update(raw_score=_fmt(raw), late_penalty=_fmt(penalty),
                       score=_fmt(max(0.0, raw - penalty)),
                       max_score=_fmt(gb.find_assignment(assignment).max_score))
            rows.append(row)
    head = ["student_id", "last_name", "first_name", "email", "timestamp", "seconds_late",
            *labels, "raw_score", "late_penalty", "score", "max_score"]
    with open(students_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, head)
        writer.writeheader()
        writer.writerows(rows)
    with open(questions_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["question", "max_points", "students", "full_marks", "partial", "zero",
                         "mean", "mean_percent"])
        for (nb, gid, max_points), label in zip(questions, labels):
            got = per_question[label]
            full = sum(1 for g in got if g >= max_points)
            zero = sum(1 for g in got if g == 0)
            mean = statistics.fmean(got) if got else 0.0
            writer.writerow([label, _fmt(max_points), len(got), full, len(got) - full - zero, zero,
                             f"{mean:.2f}", f"{100 * mean / max_points:.1f}" if max_points else ""])
    return [students_csv, questions_csv]
