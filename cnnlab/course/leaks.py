"""Find solutions and hidden tests where students could see them.

The *protected lines* of a source notebook are the lines between ``### BEGIN SOLUTION``
and ``### END SOLUTION`` and between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` — minus lines that also occur outside those regions (an
``import numpy as np`` the release legitimately shows) and lines too short to be
telling (``return y``, ``else:``). A release, a feedback file or a student bundle
leaks when it contains a protected line or any of the four delimiters.
"""
from __future__ import annotations

import dataclasses
import html
import re

import nbformat

__all__ = ["Leak", "protected_lines", "scan_notebook", "scan_text", "scan_html", "DELIMITERS"]

DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
_MIN_CHARS = 12  # shorter lines are too generic to identify a solution
_IMPORT = re.compile(r"^(import \w|from [\w.]+ import )")  # an import is never a secret


@dataclasses.dataclass(frozen=True)
class Leak:
    where: str
    kind: str  # "solution", "hidden test", "delimiter"
    line: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.line!r}"


def _norm(line: str) -> str:
    return " ".join(line.split())


def protected_lines(nb) -> dict[str, str]:
    """{normalised line: "solution" | "hidden test"} for a source notebook."""
    inside: dict[str, str] = {}
    outside: set[str] = set()
    for cell in nb.cells:
        region = None
        for raw in cell.source.splitlines():
            line = _norm(raw)
            if "BEGIN SOLUTION" in line:
                region = "solution"
                continue
            if "BEGIN HIDDEN TESTS" in line:
                region = "hidden test"
                continue
            if "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                region = None
                continue
            if region:
                inside.setdefault(line, region)
            else:
                outside.add(line)
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution") and "BEGIN SOLUTION" not in cell.source:
            for raw in cell.source.splitlines():  # a markdown answer cell is replaced whole
                inside.setdefault(_norm(raw), "solution")
    return {line: kind for line, kind in inside.items()
            if line not in outside and len(line) >= _MIN_CHARS and re.search(r"\w", line)
            and not _IMPORT.match(line)}


def _scan_lines(lines, protected, where) -> list[Leak]:
    leaks = []
    for raw in lines:
        line = _norm(raw)
        if not line:
            continue
        for delimiter in DELIMITERS:
            if re.search(rf"(^|#)\s*{delimiter}\b", line):
                leaks.append(Leak(where, "delimiter", line))
        kind = protected.get(line)
        if kind:
            leaks.append(Leak(where, kind, line))
    return leaks


def scan_blocks(text: str, protected: dict[str, str], where: str, *, kind: str = "hidden test",
                run: int = 2) -> list[Leak]:
    """Leaks of whole blocks: ``run`` or more consecutive protected lines of ``kind``.

    For course material written independently of the assignments (lecture notebooks,
    the library): a lesson may well contain a line of a hidden test (``rng = ...``) or
    teach the same loop a student is asked to write, but a pasted hidden test shows up
    as consecutive lines.
    """
    leaks, streak = [], []
    lines = [_norm(raw) for raw in text.splitlines()] + [""]
    for line in lines:
        if not line:
            continue_streak = False
        else:
            continue_streak = protected.get(line) == kind
        if continue_streak:
            streak.append(line)
            continue
        if len(streak) >= run:
            leaks.append(Leak(where, kind, " / ".join(streak[:3]) + (" ..." if len(streak) > 3 else "")))
        streak = []
    return leaks


def scan_notebook(nb, protected: dict[str, str], where: str) -> list[Leak]:
    """Leaks in a notebook's sources and text outputs."""
    leaks = []
    for index, cell in enumerate(nb.cells):
        leaks += _scan_lines(cell.source.splitlines(), protected, f"{where} cell {index}")
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")] + [v for v in output.get("data", {}).values() if isinstance(v, str)]
            texts += output.get("traceback", []) or []
            for text in texts:
                leaks += _scan_lines(str(text).splitlines(), protected, f"{where} cell {index} output")
    return leaks


def scan_text(text: str, protected: dict[str, str], where: str, *, code: bool = False) -> list[Leak]:
    """Leaks in a text file. For Python code only a delimiter standing as a comment
    counts (the course's own tools mention them in strings)."""
    if code:
        return [Leak(f"{where} line {i}", "delimiter", _norm(line))
                for i, line in enumerate(text.splitlines(), 1)
                if re.match(r"\s*#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b", line)]
    if text.lstrip().startswith("{") and '"cells"' in text[:2000]:
        try:
            return scan_notebook(nbformat.reads(text, as_version=4), protected, where)
        except Exception:
            pass
    return _scan_lines(text.splitlines(), protected, where)


def scan_html(text: str, protected: dict[str, str], where: str) -> list[Leak]:
    """Leaks in an HTML export (feedback): tags removed, entities decoded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return _scan_lines(text.splitlines(), protected, where)
