# The two Quickstart commands: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= demo.db

$(BIN)/storylines: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

demo: $(BIN)/storylines
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(BIN)/storylines ingest --db $(DB) samples/
	$(BIN)/storylines stories --db $(DB)

test: $(BIN)/storylines
	$(BIN)/pip install -q -e '.[test]'
	bash scripts/install_browser.sh
	$(BIN)/ruff check storylines tests scripts benchmarks
	$(BIN)/pytest

.PHONY: demo test
