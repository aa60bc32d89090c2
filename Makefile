# Two commands from a fresh clone: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes for the unit and page tests (pytest-xdist; one per core). The browser and
# real-worker tests run afterwards in one process: they share the Celery broker folder.
PYTEST_WORKERS ?= auto

.PHONY: setup run serve test test-fast lint format bench browser-deps clean migrate seed check-deploy messages

# Python packages (pinned) in a virtualenv, front-end assets from npm; both
# are reinstalled only when their lists change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

migrate: setup
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_activity

# Web server, Celery worker and beat on the embedded defaults (SQLite, the
# filesystem broker, files under var/), with the demo mine loaded. Debug is off so
# that users see the Chinese error pages; static files come from the source folders.
run: seed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} WHITENOISE_USE_FINDERS=$${WHITENOISE_USE_FINDERS:-true} \
	HOST=$(HOST) PORT=$(PORT) bin/serve

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests." >&2; exit 1; fi; \
	fi
	@chromium --version 2>/dev/null || true
	@if ! command -v ffmpeg >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; \
	  else echo "Install Debian's ffmpeg (sudo apt-get install ffmpeg) for study videos and their tests." >&2; exit 1; fi; \
	fi
	@ffmpeg -version 2>/dev/null | head -1 || true

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup browser-deps lint
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not browser and not worker" --durations=15 $(PYTEST_ARGS)
	$(VENV)/bin/pytest -m "browser or worker" --durations=15 $(PYTEST_ARGS)

# Without the browser and real-worker tests: the quick loop while developing.
test-fast: setup
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not browser and not worker" --durations=15 $(PYTEST_ARGS)

check-deploy: setup
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(openssl rand -hex 32)} DJANGO_SECURE_COOKIES=true \
	DJANGO_SECURE_SSL_REDIRECT=true DJANGO_HSTS_SECONDS=31536000 DJANGO_HSTS_PRELOAD=true DJANGO_ALLOWED_HOSTS=sanhui.example \
	$(PY) manage.py check --deploy --fail-level WARNING

# The project's own Chinese catalogue (locale/); django.mo is committed, so only editors of the .po need gettext.
messages:
	msgfmt --check-format -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po
	msgfmt --check-format -o locale/zh_Hans/LC_MESSAGES/djangojs.mo locale/zh_Hans/LC_MESSAGES/djangojs.po

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf var staticfiles
