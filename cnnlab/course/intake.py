"""Make a (copy of a) submission gradable before nbgrader sees it, and say what was done.

nbgrader gives up on a notebook that is not valid JSON and silently scores a missing
notebook 0. Here every expected notebook ends up present and readable, and anything the
grader had to do is explained to the student in a note at the top of the notebook
(which the feedback shows):

* not valid JSON / not a notebook -> the unmodified assignment is graded (0 points),
  with the parse error in the note;
* missing, but another notebook in the submission carries this notebook's graded
  cells (it was renamed or duplicated, e.g. ``ps1-Copy1.ipynb``) -> that one is graded;
* missing altogether -> the unmodified assignment is graded (0 points);
* duplicated cell ids / graded cells pasted twice -> noted (nbformat renumbers the ids,
  nbgrader keeps one copy of each graded cell);
* a deleted read-only cell (a test, the setup, instructions) -> put back from the release
  after the cell that precedes it there (nbgrader then restores the hidden tests);
* an edited read-only cell -> noted (nbgrader runs the cell as released).

Only the worker's private copy is changed; ``submitted/`` is never touched.
"""
from __future__ import annotations

import collections
import copy
import pathlib
import warnings

import nbformat
from nbformat.v4 import new_markdown_cell

__all__ = ["prepare_submission", "NOTE_MARKER"]

NOTE_MARKER = "**Note from the grader**"


def _grade_ids(nb) -> list[str]:
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")]


def _read(path: pathlib.Path):
    """(notebook, problem) — notebook is None when it cannot be used."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"it could not be opened ({exc.strerror or exc})"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "it is not a text file (not UTF-8), so it is not a notebook"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
        except nbformat.reader.NotJSONError as exc:
            detail = str(exc.__cause__ or exc).splitlines()[0][:200]
            return None, f"it is not valid JSON ({detail}), perhaps edited in a text editor or cut short"
        except Exception as exc:  # ValidationError, missing keys, wrong nbformat ...
            detail = str(exc).splitlines()[0][:200]
            return None, f"it is not a valid Jupyter notebook ({detail})"
    notes = []
    dup_ids = [str(w.message) for w in caught if "cell id" in str(w.message).lower()]
    if dup_ids:
        notes.append(f"{len(dup_ids)} cell id(s) appeared more than once (copied cells); "
                     "they were renumbered.")
    counts = collections.Counter(_grade_ids(nb))
    twice = sorted(g for g, n in counts.items() if n > 1)
    seen = set()
    for cell in nb.cells:  # keep the first copy; later copies become ordinary cells
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in twice:
            if gid in seen:
                del cell.metadata["nbgrader"]
            seen.add(gid)
    if twice:
        notes.append("these graded cells appear more than once (copied and pasted?): "
                     + ", ".join(f"`{g}`" for g in twice)
                     + ". Only one copy of each is graded; the test cells are always run "
                     "exactly as released.")
    return nb, notes


def _locked_cells(nb) -> dict:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("locked") and c.metadata["nbgrader"].get("grade_id")}


def _visible(source: str) -> list[str]:
    """A cell's lines without any hidden-test region (the release never has one)."""
    out, hidden = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden and line.strip():
            out.append(line.rstrip())
    return out


def _restore_locked(nb, released) -> list[str]:
    """Put back deleted read-only cells; report edited ones."""
    notes = []
    present = _locked_cells(nb)
    edited = [gid for gid, cell in _locked_cells(released).items()
              if gid in present and _visible(present[gid].source) != _visible(cell.source)]
    if edited:
        notes.append("you changed read-only cells: " + ", ".join(f"`{g}`" for g in edited)
                     + ". Your changes were discarded and the cells were run as released.")
    ids = lambda n: [c.metadata.get("nbgrader", {}).get("grade_id") for c in n.cells]  # noqa: E731
    restored = []
    for index, cell in enumerate(released.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not gid or not cell.metadata["nbgrader"].get("locked") or gid in ids(nb):
            continue
        # after the nearest cell before it (in the release) that the submission still has
        position = 0
        current = ids(nb)
        for previous in reversed(released.cells[:index]):
            pid = previous.metadata.get("nbgrader", {}).get("grade_id")
            if pid and pid in current:
                position = current.index(pid) + 1
                break
        restored_cell = copy.deepcopy(cell)
        restored_cell.id = f"{cell.get('id', 'cell')}-restored"[:64]
        nb.cells.insert(position, restored_cell)
        restored.append(gid)
    if restored:
        notes.append("these read-only cells were missing from your submission and were put back "
                     "from the assignment: " + ", ".join(f"`{g}`" for g in restored)
                     + " (test cells were run against your code as usual).")
    return notes


def _add_note(nb, lines: list[str]) -> None:
    text = NOTE_MARKER + "\n\n" + "\n".join(f"- {line}" for line in lines)
    cell = new_markdown_cell(text)
    cell.id = "cnnlab-grader-note"
    nb.cells.insert(0, cell)


def prepare_submission(directory: pathlib.Path, release: pathlib.Path,
                       expected: list[str]) -> list[str]:
    """Fix up the notebooks in ``directory`` (a private copy of one student's
    submission) so nbgrader can grade every notebook in ``expected``; returns the remarks
    added (empty when the submission was fine). ``release`` holds the released
    notebooks, graded in place of an unusable or missing one."""
    all_notes: list[str] = []
    present = {p.stem: p for p in sorted(directory.glob("*.ipynb"))}
    extras = {name: p for name, p in present.items() if name not in expected}
    for name in expected:
        path = directory / f"{name}.ipynb"
        notes: list[str] = []
        nb = None
        if name in present:
            nb, problem = _read(path)
            if nb is None:
                notes.append(f"`{name}.ipynb` could not be graded: {problem}. "
                             "The unmodified assignment was graded instead (0 points).")
            else:
                notes.extend(problem)
        else:
            released = nbformat.read(release / f"{name}.ipynb", as_version=4)
            wanted = set(_grade_ids(released))
            best, best_overlap = None, 0
            for other, other_path in extras.items():
                candidate, _ = _read(other_path)
                if candidate is None:
                    continue
                overlap = len(wanted & set(_grade_ids(candidate)))
                if overlap > best_overlap:
                    best, best_overlap = (other, candidate), overlap
            if best is not None:
                other, nb = best
                notes.append(f"`{name}.ipynb` was missing; `{other}.ipynb` contains its graded "
                             f"cells, so it was graded as `{name}.ipynb`. Keep the file name "
                             "when you submit.")
                extras.pop(other)
            else:
                found = ", ".join(f"`{p.name}`" for p in sorted(directory.glob('*.ipynb'))) or "none"
                notes.append(f"`{name}.ipynb` was not in your submission (notebooks found: "
                             f"{found}). The unmodified assignment was graded instead (0 points).")
        if nb is None:
            nb = nbformat.read(release / f"{name}.ipynb", as_version=4)
        else:
            notes.extend(_restore_locked(nb, nbformat.read(release / f"{name}.ipynb", as_version=4)))
        if notes:
            _add_note(nb, notes)
            if path.exists():
                path.chmod(0o644)
            nbformat.write(nb, str(path))
            all_notes.extend(notes)
    return all_notes
