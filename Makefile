# Sinergi: the two commands a newcomer needs are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite lint format catalog catalog-check schema bench browsers clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## the virtual environment and Sinergi in it (.venv/bin/sinergi)

demo: install  ## migrate, seed the demo region, serve on http://127.0.0.1:8000
	$(BIN)/sinergi migrate
	$(BIN)/sinergi regions load
	$(BIN)/sinergi demo
	$(BIN)/sinergi serve --host 127.0.0.1 --port 8000

test: install browsers  ## the whole suite: SQLite always, PostgreSQL when SINERGI_TEST_POSTGRES_URL is set
	$(BIN)/python -m locales.catalog check
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install  ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

catalog: install  ## extract new strings into locales/ (then translate them: see README)
	$(BIN)/python -m locales.catalog update

catalog-check: install
	$(BIN)/python -m locales.catalog check

schema: install  ## regenerate the initial migration from the models (before the first release only)
	d=$$(mktemp -d) && flock storage/migrations/versions sh -c \
	  "rm -f storage/migrations/versions/0001_initial_schema.py && \
	   SINERGI_MIGRATION_URL=sqlite+aiosqlite:///$$d/m.db $(BIN)/alembic revision --autogenerate -m 'initial schema' --rev-id 0001 >/dev/null" ; \
	  rm -rf "$$d"

bench: install  ## benchmarks under bench/, reported as ratios to a baseline of the same run
	$(BIN)/python -m bench

browsers:  ## Debian's Chromium for the browser tests (apt, only as root and only when missing)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "Chromium missing: the browser tests will be skipped (apt-get install chromium)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
