# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/tierline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/tierline

# mypy names a module by its folder; it reads tierline.* through these links, made outside
# git (build/ is ignored). The package itself installs through pyproject's package-dir.
MYPY_LINKS := build/mypy/tierline
$(MYPY_LINKS): pyproject.toml
	rm -rf $(MYPY_LINKS) && mkdir -p $(MYPY_LINKS)
	for p in jobs config persistence reports prompts routing providers validation tasks \
		workers migrations cli simulator; do ln -s ../../../$$p $(MYPY_LINKS)/$$p; done

.PHONY: install demo test lint bench
install: $(BIN)/tierline $(MYPY_LINKS)

# The demo runs the simulator in-process: its server is the `sim` extra (dev includes it).
demo: install
	$(BIN)/pip install --quiet -e '.[sim]'
	$(BIN)/tierline demo

test: install
	$(BIN)/python -m pytest

lint: install
	rm -rf $(MYPY_LINKS) && $(MAKE) $(MYPY_LINKS)
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
	$(BIN)/python bench/cli_startup.py
