# Two commands on a fresh machine with Python 3.11+, pip and make:
#   make demo   - install into .venv and play the scripted demo on the simulated Telegram
#   make test   - install into .venv and run the whole test suite
#   make lint   - ruff (lint and format check) and mypy, as configured in pyproject.toml
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# What Relais needs to run (make demo, make run: no test or lint tools, about 300 MB), then the
# tools to test and lint it (make test, make lint).
APP    := $(VENV)/.relais-app
STAMP  := $(VENV)/.relais-installed

.PHONY: demo test lint format run install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	@# pip builds Relais in an isolated environment: the venv's own setuptools is never used.
	$(BIN)/pip uninstall --quiet --yes setuptools

$(APP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -e .
	touch $(APP)

$(STAMP): pyproject.toml $(APP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(APP)
	$(BIN)/relais demo

# Test processes (pytest-xdist), each with its own databases: one per core and two more, since a
# few end-to-end tests run in real time (flood control, 20 messages a minute) and mostly wait; an
# idle process takes tests queued for a busy one (on 2 cores: 4 processes, 5 min 55 s against
# 6 min 32 s with 3). The slowest tests are listed at the end, so that CI's output shows where the
# time goes.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 2 )))
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

run: $(APP)
	$(BIN)/relais run

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
