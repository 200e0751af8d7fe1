# civicmap: `make run` serves the platform, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements-dev.lock | sha1sum | cut -c1-12)

.PHONY: run test test-access setup test-setup system system-test venv venv-dev glyphs web \
	lint bench clean-db

run: setup
	$(VENV)/bin/civicmap run

test: test-setup lint
	bash .ci/pytest

# The generated access matrix alone; prints ACCESS-MATRIX cases=<n> foreign_2xx=<n> leaks=<n>.
test-access: test-setup
	bash .ci/pytest -q -s --no-header tests/accounts/test_access.py::test_access_matrix

# What serving needs (make run); the tests add Chromium, gdal-bin and the dev tools.
setup: system venv glyphs web

test-setup: system-test setup venv-dev

system:
	@bash .ci/setup-system

system-test:
	@bash .ci/setup-system --for-tests

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv-dev: $(DEV_STAMP)

$(DEV_STAMP): requirements-dev.lock $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@rm -f $(VENV)/.dev-*
	@touch $@

GLYPHS := var/glyphs/.built

glyphs: $(GLYPHS)

$(GLYPHS): mobile_web/package-lock.json mobile_web/scripts/build-glyphs.mjs \
		mobile_web/scripts/packed.mjs
	cd mobile_web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent glyphs
	@touch $(GLYPHS)

WEB_SOURCES := $(wildcard mobile_web/src/* mobile_web/src/views/* mobile_web/public/*) mobile_web/scripts/build.mjs \
	mobile_web/scripts/packed.mjs

web: mobile_web/dist/index.html

mobile_web/dist/index.html: mobile_web/package-lock.json $(WEB_SOURCES)
	cd mobile_web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

lint: venv venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: test-setup
	$(PY) -m bench

clean-db:
	-$(VENV)/bin/civicmap db stop
	rm -rf var/pg
