# `make run` and `make test` set everything up on first use (idempotent, quick when
# nothing changed): .venv (Python 3.11), .venv-rasa (Rasa 3.6.21 on Python 3.10),
# the knowledge base in the database, and the NLU model (trained when missing or stale).

SHELL := /bin/bash
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
PIP_FLAGS := --disable-pip-version-check --quiet
TRAINING_EXAMPLES := build/training_examples.json
export PYTHONPATH := $(CURDIR)
PACKAGES := bot nlu knowledge storage records broadcasts answering texts markup support stats curation learning coordination

.PHONY: setup knowledge model run test test-fast lint bench evaluate clean

setup: model

$(VENV)/.installed: requirements.txt scripts/find-python.sh
	@py=$$(scripts/find-python.sh 3.11) || exit 1; \
	  [ -x $(PY) ] || { echo "creating $(VENV) with $$py"; $$py -m venv $(VENV); }
	$(PY) -m pip install $(PIP_FLAGS) -r requirements.txt
	@touch $@

$(RASA_VENV)/.installed: nlu/requirements.txt scripts/find-python.sh
	@py=$$(scripts/find-python.sh 3.10) || exit 1; \
	  [ -x $(RASA_VENV)/bin/python ] || { echo "creating $(RASA_VENV) with $$py"; $$py -m venv $(RASA_VENV); }
	$(RASA_VENV)/bin/python -m pip install $(PIP_FLAGS) -r nlu/requirements.txt
	@touch $@

knowledge: $(VENV)/.installed
	@$(PY) -m knowledge import
	@$(PY) -m knowledge training-data $(TRAINING_EXAMPLES)

model: knowledge $(RASA_VENV)/.installed
	@$(PY) -m nlu train

run: setup
	$(PY) -m bot run

# The tests also run the database code on a real PostgreSQL: a throwaway server (installed from
# Debian's packages when missing) on a free port under build/pg/, stopped afterwards whatever
# pytest's result, which stays make's result. No PostgreSQL: make test fails, it does not skip.
test: setup
	@port=$$($(PY) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	  dir=build/pg/$$port; \
	  trap 'scripts/pg-test-server.sh stop $$dir $$port; rm -rf $$dir' EXIT; \
	  scripts/pg-test-server.sh start $$dir $$port || { \
	    echo "error: make test needs a PostgreSQL server for the database tests and could not start one (see above)" >&2; \
	    exit 1; }; \
	  export TEST_DATABASE_URL_PG=$$(scripts/pg-test-server.sh url $$dir $$port); \
	  echo "TEST_DATABASE_URL_PG=$$TEST_DATABASE_URL_PG $(PY) -m pytest"; \
	  $(PY) -m pytest

# The fast tier: unit tests with no Rasa, no servers and fake clocks (seconds). `make test` runs them too.
test-fast: $(VENV)/.installed
	$(PY) -m pytest tests/unit -q

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy $(PACKAGES)

evaluate: setup
	$(PY) -m nlu evaluate ../shared/spec/dev-questions.yaml

bench: setup
	$(PY) bench/nlu_latency.py

clean:
	rm -rf $(VENV) $(RASA_VENV) build data nlu/models nlu/rasa_project/data
