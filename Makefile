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

# One test process per core (pytest-xdist; an idle one takes tests queued for a busy one), each
# with its own databases; the slowest tests listed at the end, so that CI's output shows where
# the time goes.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=25

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
