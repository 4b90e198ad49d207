"""``cnnlab-course bundle``: the student distribution, and the proof that it is clean.

The zip holds what a student needs to run the course on a laptop without nbgrader:
``cnnlab/`` (the library, with the visible checks), ``notebooks/``, ``assignments/``,
the README and the environment files. It never holds ``solutions/``, hidden tests, the
gradebook or any grading work, and :func:`verify_bundle` proves it after writing it:
forbidden paths, required files, delimiters anywhere, no line of a solution or hidden
test in the released assignments, no block of a hidden test anywhere else (a lesson may
teach the loop an assignment asks for), and a committed release that matches
``solutions/``.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import os
import pathlib
import tempfile
import zipfile

import nbformat

from . import leaks as _leaks
from .course import Layout, assignments_in, generate_into, make_api, notebooks_of

__all__ = ["bundle", "verify_bundle", "BundleReport"]

INCLUDE_DIRS = ("cnnlab", "notebooks", "assignments")
INCLUDE_FILES = ("README.md", "LICENSE", "LICENSE.txt", "pyproject.toml", "constraints.txt",
                 "Makefile", "environment.yml", "requirements.txt")
EXCLUDE = ("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info", ".DS_Store", "*.db",
           "*.sqlite", ".git*", "*.orig", "*.rej", "*~")
#: top-level names that must never reach students
FORBIDDEN_TOP = ("solutions", "source", "release", "submitted", "autograded", "feedback",
                 "exports", "tests", "bench", "nbgrader_config.py", "gradebook.db", ".ci",
                 ".cnnlab")  # .cnnlab/grading-secret seeds the hidden tests' inputs
PREFIX = "cnnlab-student"


@dataclasses.dataclass
class BundleReport:
    path: pathlib.Path
    files: int
    size: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _excluded(rel: pathlib.PurePath) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in EXCLUDE)


def _members(root: pathlib.Path):
    for name in INCLUDE_FILES:
        if (root / name).is_file():
            yield root / name, pathlib.PurePosixPath(name)
    for top in INCLUDE_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not _excluded(pathlib.PurePath(d)))
            for filename in sorted(filenames):
                path = pathlib.Path(dirpath) / filename
                rel = pathlib.PurePosixPath(path.relative_to(root).as_posix())
                if not _excluded(rel) and path.is_file() and not path.is_symlink():
                    yield path, rel


def bundle(root: pathlib.Path, output: pathlib.Path | None = None) -> BundleReport:
    api = make_api(root)
    layout = Layout.from_api(api)
    if output is None:
        output = root / "dist" / f"{PREFIX}.zip"
    output = pathlib.Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".zip.tmp")
    count = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, rel in _members(root):
            if path.resolve() in (output, tmp):
                continue
            zf.write(path, f"{PREFIX}/{rel}")
            count += 1
    os.replace(tmp, output)
    problems = verify_bundle(output, layout, api)
    return BundleReport(output, count, output.stat().st_size, problems)


def verify_bundle(path: pathlib.Path, layout: Layout, api=None) -> list[str]:
    """Everything wrong with a student bundle (empty when it is clean)."""
    problems = []
    protected: dict[str, str] = {}  # every assignment's, for material outside assignments/
    own: dict[str, dict[str, str]] = {}  # each assignment's own, for its release
    for name in assignments_in(layout.source):
        own[name] = {}
        for nb_name in notebooks_of(layout.source / name):
            own[name].update(_leaks.protected_lines(
                nbformat.read(layout.source / name / f"{nb_name}.ipynb", as_version=4)))
        protected.update(own[name])
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        rels = []
        for member in names:
            parts = pathlib.PurePosixPath(member).parts
            if not parts or parts[0] != PREFIX or ".." in parts:
                problems.append(f"{member}: outside the {PREFIX}/ folder")
                continue
            rel = pathlib.PurePosixPath(*parts[1:])
            rels.append(rel)
            if rel.parts and rel.parts[0] in FORBIDDEN_TOP:
                problems.append(f"{member}: must not be given to students")
            if _excluded(rel) or rel.suffix in (".db", ".sqlite"):
                problems.append(f"{member}: build artefact or database")
            if rel.suffix in (".ipynb", ".py", ".md", ".txt", ".toml", ".cfg", ".json", ".yml", ".yaml", ""):
                try:
                    text = zf.read(member).decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if rel.parts[0] == "assignments":  # releases: no line of their solution or hidden test
                    name = rel.parts[1] if len(rel.parts) > 2 else ""
                    found = _leaks.scan_text(text, own.get(name, protected), member)
                else:  # lessons and library: no delimiter, no pasted hidden-test block
                    found = _leaks.scan_text(text, {}, member, code=rel.suffix == ".py")
                    found += _leaks.scan_blocks(_plain(text), protected, member)
                problems += [f"LEAK {leak}" for leak in found]
        present = set(rels)
        required = [pathlib.PurePosixPath("cnnlab/__init__.py"),
                    pathlib.PurePosixPath("cnnlab/course/checks/__init__.py")]
        for name in assignments_in(layout.source):
            required += [pathlib.PurePosixPath("assignments", name, f"{nb}.ipynb")
                         for nb in notebooks_of(layout.source / name)]
        if (layout.root / "README.md").exists():
            required.append(pathlib.PurePosixPath("README.md"))
        for item in required:
            if item not in present:
                problems.append(f"{PREFIX}/{item}: missing from the bundle")
        problems += _stale_releases(zf, layout, api)
    return problems


def _plain(text: str) -> str:
    """A notebook's cell sources (one after the other) or the text itself."""
    if text.lstrip().startswith("{") and '"cells"' in text[:2000]:
        try:
            nb = nbformat.reads(text, as_version=4)
            return "\n\n".join(cell.source for cell in nb.cells)
        except Exception:
            pass
    return text


def _stale_releases(zf, layout: Layout, api) -> list[str]:
    """The bundled assignments must be exactly what nbgrader generates from solutions/."""
    if api is None:
        api = make_api(layout.root)
    problems = []
    with tempfile.TemporaryDirectory(prefix="cnnlab-bundle-") as tmp:
        db_url = f"sqlite:///{tmp}/gradebook.db"  # leave the course's gradebook alone
        for name in assignments_in(layout.source):
            generate_into(api, name, tmp, db_url=db_url)
            for nb in notebooks_of(layout.source / name):
                member = f"{PREFIX}/assignments/{name}/{nb}.ipynb"
                fresh = (pathlib.Path(tmp) / name / f"{nb}.ipynb").read_bytes()
                try:
                    bundled = zf.read(member)
                except KeyError:
                    continue  # reported as missing
                if bundled != fresh:
                    problems.append(f"{member}: differs from what solutions/{name} generates; "
                                    f"run `cnnlab-course build {name}` and commit assignments/")
    return problems
