# kinto_client developer commands. Each target sets up what it needs (.venv).
PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SERVER := $(PY) tests/kinto_server.py

.PHONY: help install tests lint format demo runkinto clean

help:
	@echo "make demo      start a local Kinto server and run docs/examples/quickstart.py"
	@echo "make tests     lint, then the whole suite (unit + functional, real Kinto server)"
	@echo "make runkinto  serve the test Kinto on http://127.0.0.1:8888/v1 (foreground)"
	@echo "make lint      ruff check and format check"

$(STAMP): setup.py pyproject.toml requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e . -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check kinto_client tests docs/examples setup.py
	$(VENV)/bin/ruff format --check kinto_client tests docs/examples setup.py

format: install
	$(VENV)/bin/ruff check --fix kinto_client tests docs/examples setup.py
	$(VENV)/bin/ruff format kinto_client tests docs/examples setup.py

tests: lint
	$(VENV)/bin/pytest tests

demo: install
	$(SERVER) -- $(PY) docs/examples/quickstart.py

runkinto: install
	$(SERVER) --port 8888

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
