# Two commands on a fresh machine with Python 3.11+, pip and make:
#   make demo   - install into .venv and play the scripted demo on the simulated Telegram
#   make test   - install into .venv and run the whole test suite
#   make lint   - ruff (lint and format check) and mypy, as configured in pyproject.toml
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.relais-installed

.PHONY: demo test lint format run install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/relais demo

# Test processes (pytest-xdist), each with its own databases: one per core and one more, since a
# few end-to-end tests run in real time (flood control, 20 messages a minute) and mostly wait; an
# idle process takes tests queued for a busy one. The slowest tests are listed at the end, so that
# CI's output shows where the time goes.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=25

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

run: $(STAMP)
	$(BIN)/relais run

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
