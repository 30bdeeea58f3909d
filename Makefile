# The two commands: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SEED ?= 1
SCALE ?= demo

.PHONY: run test install migrate seed-if-empty bench lint format load clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is needed (Python 3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) -m console migrate

seed-if-empty: migrate
	$(PY) -m seed --scale $(SCALE) --seed $(SEED) --if-empty

# Honours CONSOLE_DATABASE_URL and Streamlit's own STREAMLIT_* settings (port, address, ...).
run: seed-if-empty
	$(PY) -m streamlit run app.py

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) -m tests.bench.bench_seed
	$(PY) -m tests.bench.bench_tiers
	$(PY) -m tests.bench.bench_reception
	$(PY) -m tests.bench.bench_qa
	$(PY) -m tests.bench.bench_assignment
	$(PY) -m tests.bench.bench_imports
	$(PY) -m tests.bench.bench_customers

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
