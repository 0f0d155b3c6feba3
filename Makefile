# Two commands on a fresh clone:
#   make serve   set everything up, then preview the site on http://127.0.0.1:8000/
#   make test    set everything up, then run ruff, mypy, pytest and a strict build
# Set-up is incremental: each step reruns only when its lock or project file changes.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-m "not browser"'.
PYTEST_ARGS ?=

# MkDocs 1.6 prints a notice about MkDocs 2 on every run unless this is set.
export NO_MKDOCS_2_WARNING := 1
# MkDocs writes this date into sitemap.xml(.gz). Taking it from the last commit keeps two
# builds of one commit byte-identical; outside a git checkout it is 2025-01-01 00:00 UTC.
ifndef SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 1735689600)
endif
export SOURCE_DATE_EPOCH

SETUP_STAMPS := $(VENV)/.requirements-installed $(VENV)/.project-installed \
	node_modules/.package-lock.json

.PHONY: help setup serve build test test-fast clean

help:
	@echo "make serve      set up, then serve the site on http://$(HOST):$(PORT)/ with live reload"
	@echo "make build      set up, then build the site into site/ (strict)"
	@echo "make test       set up, then run ruff, mypy, pytest and mkdocs build --strict"
	@echo "make test-fast  set up, then run pytest without the slow and browser tests"
	@echo "make setup      create .venv and node_modules/ from the lock files"
	@echo "make clean      remove site/ and the caches (keeps .venv and node_modules/)"

setup: $(SETUP_STAMPS)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "error: $(PYTHON) is older than Python 3.11; run make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --require-hashes -r requirements.txt
	touch $@

# actlib and noteexec, installed editable so that edits need no reinstall.
$(VENV)/.project-installed: pyproject.toml $(VENV)/.requirements-installed
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $@

# MathJax and the Noto Sans SC font, exactly as package-lock.json pins them.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	touch $@

serve: setup
	$(BIN)/mkdocs serve --dev-addr $(HOST):$(PORT)

build: setup
	$(BIN)/mkdocs build --strict

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/mkdocs build --strict

test-fast: setup
	$(BIN)/pytest -m "not slow and not browser" $(PYTEST_ARGS)

clean:
	rm -rf site .cache .pytest_cache .mypy_cache .ruff_cache
