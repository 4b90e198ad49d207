# Two commands do all the set-up on a fresh machine:
#   make lab    create .venv, install the pinned course stack and cnnlab (editable), open JupyterLab
#   make test   the same plus the dev tools, then the whole test suite
# Every pip call goes through constraints.txt so torch stays the CPU build.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --disable-pip-version-check -c constraints.txt
PORT   ?= 8888
PYTEST_ARGS ?=
# test processes (pytest-xdist). The browser suite stays on one of them (its xdist_group)
# with one JupyterLab and one Chromium; the other tests share the rest. 2 fits CI's 2 cores.
TEST_WORKERS ?= 2
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.PHONY: lab test install install-dev bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.course-installed: $(PY) pyproject.toml constraints.txt
	$(PIP) -e '.[course]'
	touch $@

$(VENV)/.dev-installed: $(VENV)/.course-installed
	$(PIP) -e '.[course,dev]'
	touch $@

install: $(VENV)/.course-installed
install-dev: $(VENV)/.dev-installed

# jupyter/ holds the course's Jupyter configuration (no news pop-up, no update checks,
# no network calls from the extension manager); it goes first on JUPYTER_CONFIG_PATH.
# The whole course directory is served (notebooks/, assignments/, nbgrader_config.py);
# the browser opens on notebooks/. (A directory given as an argument would become the
# root instead, hiding assignments/ and the nbgrader configuration.)
lab: install
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	    $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/notebooks --port=$(PORT) $(ROOT_FLAG)

test: install-dev
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install-dev
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
