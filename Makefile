# sipas-survey: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
export FLASK_APP := wsgi

.PHONY: run test test-quick install install-test system-deps lint translations clean lock image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Dependencies come from the hashed lock files (`make lock`), so every machine,
# CI and the image install the same releases; the package itself goes on top.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-test.lock
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# The resolver behind `make lock`: a pinned uv, kept in the virtualenv only.
UV_VERSION ?= 0.13.9
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--annotation-style line --quiet $(if $(UPGRADE),--upgrade)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'

## Re-resolve requirements.lock and requirements-test.lock from pyproject.toml for
## Linux x86_64 / Python 3.11, keeping current pins (`make lock UPGRADE=1`: newest).
## UV_SYSTEM_CERTS: trust the machine's CA store, as pip does.
lock: $(BIN)/uv
	UV_SYSTEM_CERTS=1 $(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	UV_SYSTEM_CERTS=1 $(BIN)/uv pip compile pyproject.toml --extra test -c requirements.lock \
	  $(LOCK_FLAGS) -o requirements-test.lock

## Build the base image from Debian's packages (once), then the image sipas-survey.
image:
	bash docker/build-image.sh sipas-survey

## Start the service on SQLite with demo data.
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask survey demo-data
	@echo
	@echo "  sipas-survey is starting on http://$(HOST):$(PORT)"
	@echo "  Citizen form (desk LC-01, Thị trấn Lai Cách): http://$(HOST):$(PORT)/s/LC-01"
	@echo "  Its QR code:  http://$(HOST):$(PORT)/s/LC-01/qr.png  (and .svg)"
	@echo "  In English:   http://$(HOST):$(PORT)/s/LC-01?lang=en"
	@echo "  Health check: http://$(HOST):$(PORT)/healthz"
	@echo "  Officers:     http://$(HOST):$(PORT)/login"
	@echo "      commune officer  laicach  / demo-laicach   (Thị trấn Lai Cách)"
	@echo "      district officer camgiang / demo-camgiang  (Huyện Cẩm Giàng)"
	@echo "  All desks:    $(BIN)/flask survey list-desks"
	@echo
	@echo "  Alerts worker: started beside it (flask survey worker; README, Alerts)"
	export SURVEY_PUBLIC_BASE_URL=$${SURVEY_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}; \
	  $(BIN)/flask survey worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	  $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - wsgi:app

## Install what the tests need (system packages too, when run as root) and run them all,
## two at a time (PYTEST_WORKERS=1 for one at a time).
PYTEST_WORKERS ?= 2
test: install-test system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS)

## The quick loop while developing: no servers, no browser, SQLite only.
test-quick: install-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow and not postgres and not browser"

system-deps:
	@bash scripts/system-deps.sh

## Style, formatting and the architecture's import rules (docs/ARCHITECTURE.md).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## Re-extract interface strings, merge them into the Vietnamese catalogue, compile it.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o /tmp/sipas-messages.pot .
	$(BIN)/pybabel update -i /tmp/sipas-messages.pot -d survey/translations -w 100
	$(BIN)/pybabel compile -d survey/translations

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
