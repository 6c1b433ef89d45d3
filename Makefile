# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test lint format clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed $@

## Install, prepare the SQLite database, create the demo workspace and serve on :8000.
run: $(VENV)/.installed
	$(BIN)/pivotal db upgrade
	$(BIN)/pivotal quickstart
	$(BIN)/pivotal serve --host $(HOST) --port $(PORT)

## Install the dev tools and run the whole suite (PostgreSQL too when
## PIVOTAL_TEST_POSTGRES_URL is set).
test: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: $(VENV)/.dev-installed
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

## Seed SQLite (and PostgreSQL when PIVOTAL_BENCH_POSTGRES_URL is set: that database is
## wiped), serve under granian, load with wrk, write bench/RESULTS.md. Options go in
## BENCH_ARGS, e.g. make bench BENCH_ARGS="--sizes 10k --duration 5".
BENCH_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: $(VENV)/.bench-installed
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
