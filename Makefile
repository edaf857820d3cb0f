# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/tierline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/tierline

.PHONY: install demo test lint bench
install: $(BIN)/tierline

demo: install
	$(BIN)/tierline demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: install
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/validation.py
	$(BIN)/python bench/validation.py --cases data/cases/kleister.jsonl
	$(BIN)/python bench/validation.py --cases data/cases/documents.jsonl
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/transport.py
	$(BIN)/python bench/ledger_learning.py
