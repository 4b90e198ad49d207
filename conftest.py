"""Test-session set-up shared by tests/ and the doctests in cnnlab/.

All Jupyter, IPython and matplotlib state lives in a temporary directory for the
whole session, so the suite never reads or writes the user's configuration, and
kernels started by the tests (nbclient, nbgrader, jupyter lab) inherit it.
"""
import os
import shutil
import tempfile

_STATE_DIR = None


def pytest_configure(config):
    global _STATE_DIR
    if os.environ.get("CNNLAB_TEST_STATE"):  # an xdist worker: reuse the controller's
        return
    _STATE_DIR = tempfile.mkdtemp(prefix="cnnlab-test-")
    home = os.path.join(_STATE_DIR, "home")
    os.makedirs(home)
    env = {
        "CNNLAB_TEST_STATE": _STATE_DIR,
        "HOME": home,
        "JUPYTER_CONFIG_DIR": os.path.join(_STATE_DIR, "jupyter-config"),
        "JUPYTER_DATA_DIR": os.path.join(_STATE_DIR, "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": os.path.join(_STATE_DIR, "jupyter-runtime"),
        "IPYTHONDIR": os.path.join(_STATE_DIR, "ipython"),
        "MPLCONFIGDIR": os.path.join(_STATE_DIR, "matplotlib"),
        "MPLBACKEND": "Agg",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    for key, value in env.items():
        os.environ[key] = value
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        os.makedirs(env[key], exist_ok=True)


def pytest_unconfigure(config):
    if _STATE_DIR:
        shutil.rmtree(_STATE_DIR, ignore_errors=True)
