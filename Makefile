# The two set-up commands: `make run` (embedded defaults) and `make test` (real services).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8006
export PORT

.PHONY: run test bench lint services clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when a requirements file changed.
$(VENV)/.installed-base: requirements/base.txt | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.installed-dev: requirements/base.txt requirements/dev.txt | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@ $(VENV)/.installed-base

run: $(VENV)/.installed-base
	DJANGO_SETTINGS_MODULE=autogpt_platform.settings.dev $(PY) manage.py run_platform

services:
	bash scripts/ensure_services.sh

test: lint services
	DJANGO_SETTINGS_MODULE=autogpt_platform.settings.test $(PY) -m pytest

bench: $(VENV)/.installed-dev services
	DJANGO_SETTINGS_MODULE=autogpt_platform.settings.test $(PY) -m bench

# ruff (with complexity and no-lazy-import rules, see ruff.toml) and mypy over the apps (mypy.ini).
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
