# Tarjuma: `make run` serves the API with the essay and its translations loaded;
# `make test` runs the whole test suite. Both set up their own virtual environment.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
export FLASK_APP := wsgi


EDGE_PORT ?= 5080
.PHONY: cluster edge run worker test test-postgres lint format venv extract update compile db seed clean serve-prod bench bench-search bench-search-scale bench-notify

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# The API's own messages: extract -> update -> (translate) -> compile.
BABEL_KEYWORDS := -k _l -k lazy_gettext
MESSAGE_LOCALES := ar fa fr id ms tr ur

extract: venv
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
		--project Tarjuma --copyright-holder "Tarjuma contributors" \
		--msgid-bugs-address "translators@tarjuma.invalid" -o translations/messages.pot .

update: extract
	for locale in $(MESSAGE_LOCALES); do \
		if [ -f translations/$$locale/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages \
				-l $$locale --ignore-obsolete --no-fuzzy-matching; \
		else \
			$(BIN)/pybabel init -i translations/messages.pot -d translations -D messages -l $$locale; \
		fi; \
	done

compile: venv
	$(BIN)/pybabel compile -d translations -D messages --statistics

# The key `make run` and `make edge` (and their steps db, seed, worker) sign sessions and
# seal webhook secrets with: random, made once, readable by its owner only, and kept, so
# sessions and webhook secrets survive a restart. SECRET_KEY, when set, takes precedence;
# `make serve-prod` and every other process need it.
DEV_SECRET_KEY ?= instance/secret_key
DEV_TARGETS := run edge cluster worker db seed
$(DEV_TARGETS): export SECRET_KEY_FILE = $(abspath $(DEV_SECRET_KEY))

$(DEV_SECRET_KEY): | venv
	$(BIN)/python -c 'import sys; from api.config import new_key_file; new_key_file(sys.argv[1])' $@

db: venv $(DEV_SECRET_KEY)
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed

# The app and its worker (webhooks, retried purges, scheduled releases); Ctrl-C stops both.
run: compile seed
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# The app (gunicorn, on PORT) with its edge in front (Varnish, on EDGE_PORT) and the worker;
# Ctrl-C stops them all. Needs Debian's varnish and varnish-modules (see the README).
edge: compile seed
	$(BIN)/flask edge run --host $(HOST) --port $(PORT) --edge-port $(EDGE_PORT)

# Several app nodes (gunicorn, on consecutive ports from PORT), workers, and edges
# (Varnish, from EDGE_PORT) on one machine, against PostgreSQL (DATABASE_URL) and Redis
# (REDIS_URL: the limits every node shares); every edge spreads its misses over every node
# and is purged by every node. Ctrl-C stops them all.
NODES ?= 2
WORKERS ?= 2
EDGES ?= 2
cluster: compile $(DEV_SECRET_KEY)
	@test -n "$$DATABASE_URL" || { echo "make cluster needs DATABASE_URL (PostgreSQL)" >&2; exit 2; }
	@test -n "$$REDIS_URL" || { echo "make cluster needs REDIS_URL (redis://HOST:PORT/DB)" >&2; exit 2; }
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	RATELIMIT_STORAGE_URI="$$REDIS_URL" $(BIN)/flask edge run --host $(HOST) --port $(PORT) \
		--edge-port $(EDGE_PORT) --nodes $(NODES) --workers $(WORKERS) --edges $(EDGES)

# The worker alone (production runs `flask --app wsgi worker`, as many as wanted).
worker: compile db $(DEV_SECRET_KEY)
	$(BIN)/flask worker

test: compile
	$(BIN)/pytest $(PYTEST_ARGS)

# The database-backed tests again, every one of them on PostgreSQL.
test-postgres: compile
	TARJUMA_TEST_DB=postgres $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache

# Production: migrations applied, then gunicorn with gunicorn.conf.py (workers, threads,
# HOST/PORT from the environment) against DATABASE_URL; logs in JSON unless LOG_FORMAT says.
serve-prod: compile
	$(BIN)/flask db upgrade
	HOST=$(HOST) PORT=$(PORT) LOG_FORMAT=$${LOG_FORMAT:-json} \
		$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Throughput and latency against a minimal Flask baseline, with wrk, on the local
# PostgreSQL server (not part of `make test`). SCALE=1 measures the scaled data set too.
bench: compile
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	$(BIN)/python scripts/bench.py $(if $(filter 1 yes true,$(SCALE)),--scaled,) $(BENCH_ARGS)

# Search relevance per language (recall@5, MRR) on the query sets in tests/search_queries/,
# on SQLite and on a scratch database of the PostgreSQL server (TEST_POSTGRES_URL).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench-search: compile
	$(BIN)/python -m tests.search_relevance $(TEST_POSTGRES_URL)

# Search at scale (not part of `make test`): 1,000 essays in the 8 shipped locales, on SQLite
# and on a scratch database of the local PostgreSQL server; a search's p50/p95/p99 against
# the public essay's from the same server, and what keeping the index adds to an approval.
bench-search-scale: compile
	$(BIN)/python scripts/bench_search.py $(BENCH_ARGS)

# Notifications: an approval's, a submission's and a source edit's time with 1 and 200
# people told, and the messages per second one worker sends to a local SMTP server, on a
# scratch database of the local PostgreSQL server.
bench-notify: compile
	$(BIN)/python scripts/bench_notify.py $(BENCH_ARGS)
