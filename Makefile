# The two commands a newcomer needs: `make run` (portal with demo data) and `make test` (whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run reset test install lint lock bench clean

# Installs the exact versions of the lock files, checked against their hashes (reproducible installs).
$(VENV)/.installed: requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

run: install
	PYTHON=$(PY) bash scripts/run.sh

# Start the demo again from scratch: stop `make run` first (Ctrl-C). The next `make run` seeds new demo data.
reset:
	rm -rf "$${PORTAL_VAR_DIR:-var}"

test: install
	PORTAL_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

# Compile the lock files from requirements*.txt (pip-tools). Existing pins are kept unless PIP_COMPILE_ARGS=--upgrade.
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(PIP_COMPILE_ARGS)
lock: install
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) var staticfiles
