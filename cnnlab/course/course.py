"""Where the course lives, its nbgrader configuration, and the nbgrader API on top of it."""
from __future__ import annotations

import logging
import os
import pathlib
import shutil
import stat
import sys
from dataclasses import dataclass

CONFIG_NAME = "nbgrader_config.py"


class CourseError(RuntimeError):
    """A problem an instructor has to fix (reported without a traceback by the CLI)."""


def find_root(start: os.PathLike | str | None = None) -> pathlib.Path:
    """The course root: the nearest directory at or above ``start`` holding
    ``nbgrader_config.py`` and ``solutions/``."""
    here = pathlib.Path(start or os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file() and (candidate / "solutions").is_dir():
            return candidate
    raise CourseError(
        f"no course found at or above {here}: run this inside the cnnlab repository "
        f"(the directory holding {CONFIG_NAME} and solutions/), or pass --root"
    )


def load_config(root: pathlib.Path, **overrides):
    """The traitlets Config nbgrader would use from ``root``: the user's Jupyter config
    directories first, then the course's ``nbgrader_config.py``, then ``overrides``
    (``{"Section.trait": value}``)."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config.loader import Config, PyFileConfigLoader, ConfigFileNotFound

    cfg = Config()
    for directory in reversed(jupyter_config_path()):
        if directory and os.path.abspath(directory) != str(root):
            try:
                cfg.merge(PyFileConfigLoader(CONFIG_NAME, path=directory).load_config())
            except ConfigFileNotFound:
                pass
    cfg.merge(PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config())
    for key, value in overrides.items():
        section, trait = key.split(".")
        cfg[section][trait] = value
    return cfg


def ensure_tools_on_path() -> None:
    """nbgrader shells out to ``alembic`` when it creates a gradebook; make the tools
    installed next to this interpreter (the venv's bin/) findable even when the venv is
    not activated (``.venv/bin/cnnlab-course ...``)."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")


def make_api(root: pathlib.Path, config=None, *, log_level=logging.WARNING):
    """An :class:`nbgrader.apps.NbGraderAPI` for the course at ``root``."""
    from nbgrader.apps import NbGraderAPI

    ensure_tools_on_path()
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root) if config is None else config
    config.CourseDirectory.root = str(root)
    coursedir = CourseDirectory(config=config)
    # the API probes the exchange at start-up and logs CRITICAL when there is none
    # (no JupyterHub exchange on an instructor's laptop): nothing to report here
    quiet = logging.getLogger("traitlets")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)
    try:
        api = NbGraderAPI(coursedir=coursedir, config=config)
    finally:
        quiet.setLevel(level)
    api.log_level = log_level
    return api


@dataclass(frozen=True)
class Layout:
    """Absolute paths of the course directories (from the nbgrader config)."""

    root: pathlib.Path
    source: pathlib.Path
    release: pathlib.Path
    submitted: pathlib.Path
    autograded: pathlib.Path
    feedback: pathlib.Path
    db_url: str

    @classmethod
    def from_api(cls, api) -> "Layout":
        cd = api.coursedir
        root = pathlib.Path(cd.root)
        return cls(
            root=root,
            source=root / cd.source_directory,
            release=root / cd.release_directory,
            submitted=root / cd.submitted_directory,
            autograded=root / cd.autograded_directory,
            feedback=root / cd.feedback_directory,
            db_url=cd.db_url,
        )

    @property
    def exports(self) -> pathlib.Path:
        return self.root / "exports"


def assignments_in(source: pathlib.Path) -> list[str]:
    """Every assignment under the source directory (a folder holding a notebook)."""
    if not source.is_dir():
        return []
    return sorted(
        p.name for p in source.iterdir()
        if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb"))
    )


def notebooks_of(directory: pathlib.Path) -> list[str]:
    """Notebook names (without .ipynb) in an assignment directory."""
    return sorted(p.stem for p in directory.glob("*.ipynb"))


def rmtree(path: os.PathLike | str) -> None:
    """Remove a tree even when nbgrader made its files read-only."""
    def _onerror(func, target, _exc):
        os.chmod(target, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
        parent = os.path.dirname(target)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR)
        func(target)

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=_onerror)


def copytree(src, dst) -> None:
    """Copy a tree, replacing ``dst``; copies are writable by the owner."""
    rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copy)
    for dirpath, _, files in os.walk(dst):
        for name in files:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)


def generate_into(api, assignment: str, release_dir, *, db_url: str | None = None) -> pathlib.Path:
    """Run nbgrader's generate_assignment with the release written to ``release_dir``
    (and, with ``db_url``, a different gradebook): the committed assignments/ and,
    if asked, the course's gradebook stay untouched. Returns the assignment's folder."""
    from nbgrader.utils import temp_attrs

    changes = {"release_directory": str(release_dir)}
    if db_url:
        changes["db_url"] = db_url
    with temp_attrs(api.coursedir, **changes):
        result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise CourseError(f"nbgrader could not generate {assignment}:\n"
                          + (result.get("log", "") + result.get("error", ""))[-3000:])
    return pathlib.Path(release_dir) / assignment
