# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, prepare the database and serve the API on http://127.0.0.1:8000 (SQLite in ./var/)
run: $(STAMP)
	$(BIN)/shipflow db upgrade
	$(BIN)/shipflow keys dev
	$(BIN)/shipflow serve

## Install and run the whole suite (PostgreSQL tests run when a server is reachable;
## with CI=true an unreachable PostgreSQL fails the run)
test: $(STAMP)
	$(BIN)/ruff check src tests alembic benchmarks
	$(BIN)/mypy src
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests alembic benchmarks
	$(BIN)/mypy src

## Print benchmark figures (see docs/performance.md)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.commands
	$(BIN)/python -m benchmarks.contention
	$(BIN)/python -m benchmarks.views
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.dcsa_out
	$(BIN)/python -m benchmarks.webhooks
	$(BIN)/python -m benchmarks.accounts
	$(BIN)/python -m benchmarks.audit

demo: $(STAMP)
	$(BIN)/shipflow db upgrade
	$(BIN)/shipflow demo

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
