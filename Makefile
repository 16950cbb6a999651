# Vigie: `make demo` to see it run, `make test` for what CI runs, `make lint`, `make bench`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Stamps inside the venv: reinstall only when pyproject.toml is newer than the last install.
BASE   := $(VENV)/.installed-base
DEV    := $(VENV)/.installed-dev

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint bench system-packages

demo: $(BASE)
	$(BIN)/vigie demo

# The suite runs real influxd, mosquitto and PostgreSQL: their packages first (installed when
# root, else one line saying what to install). One pytest worker per core (at most 4): the
# tests mostly wait on their services, and each worker starts its own influxd; every test's
# broker, database and files are its own, so they run side by side.
test: system-packages lint
	$(BIN)/pytest -n auto --maxprocesses 4

system-packages:
	@bash .ci/system-packages

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(DEV)
	@test -n "$(wildcard bench/*.py)" || { echo "no benchmark in bench/"; exit 1; }
	@for script in $(wildcard bench/*.py); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BASE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	$(KEEP_URLLIB3)
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	$(KEEP_URLLIB3)
	touch $@ $(BASE)

# grafana-client needs niquests, whose urllib3-future copies itself over urllib3 at every start
# of the interpreter (a .pth hook): requests, which schemathesis uses, then fails. niquests works
# beside the real urllib3 (it falls back to the urllib3_future package): drop the hook and put
# urllib3 back.
define KEEP_URLLIB3
	rm -f $(VENV)/lib/python*/site-packages/urllib3_future.pth
	rm -rf $(VENV)/lib/python*/site-packages/urllib3
	$(BIN)/pip install -q --force-reinstall --no-deps \
		"urllib3==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("urllib3"))')"
endef
