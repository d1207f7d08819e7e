# Tarjuma: `make run` serves the API with the essay and its translations loaded;
# `make test` runs the whole test suite. Both set up their own virtual environment.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
export FLASK_APP := wsgi

.PHONY: run test test-postgres lint format venv compile db seed clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

compile: venv
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile --use-fuzzy=false -d translations -D messages --statistics 2>&1 | tail -n 1 || exit 1; \
	fi

db: venv
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed

run: compile seed
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: compile
	$(BIN)/pytest $(PYTEST_ARGS)

# The database-backed tests again, every one of them on PostgreSQL.
test-postgres: compile
	TARJUMA_TEST_DB=postgres $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
