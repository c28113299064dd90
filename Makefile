# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# honcho gives each process of the Procfile its own PORT (web $PORT, worker +100, beat
# +200); links in the worker's emails must name the port web serves on.
SITE_URL ?= http://127.0.0.1:$(PORT)
export SITE_URL

.PHONY: run dev test install lint format migrate seed check clean bench

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## Serve on http://127.0.0.1:$(PORT) with gunicorn (deploy/gunicorn.conf.py, as in
## production), a Celery worker and beat (Procfile).
run: seed
	$(BIN)/honcho start -f Procfile

## The same processes, with Django's runserver reloading on each code change as the web.
dev: seed
	WEB_SERVER='$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)' $(BIN)/honcho start -f Procfile

## The whole suite; uses DATABASE_URL and REDIS_URL when set.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## National-scale measurements against PostgreSQL (see README, Benchmarks); writes var/bench/.
bench: install
	$(BIN)/python tests/bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
