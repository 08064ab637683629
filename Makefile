# FinFlow: `make dev` runs the whole system on localhost; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/common/python

.PHONY: dev test test-unit test-api test-e2e install clean-local

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

dev: install
	$(PY) -m devserver

test: install
	$(PY) -m pytest -q

test-unit: install
	$(PY) -m pytest -q tests/unit

test-api: install
	$(PY) -m pytest -q tests/api

test-e2e: install
	$(PY) -m pytest -q tests/e2e

clean-local:
	rm -rf .local
