# kinto_client developer commands. Each target sets up what it needs (.venv).
# `make help` lists every target: the text after `## ` on a target's line.
PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SERVER := $(PY) tests/kinto_server.py
# The port of `make runkinto` (make runkinto PORT=9999).
PORT ?= 8888

.PHONY: help install tests lint format demo runkinto clean

help: ## list these targets
	@echo "kinto_client developer commands (each sets up .venv on first use):"
	@awk 'BEGIN { FS = ":[^#]*## " } /^[a-zA-Z][a-zA-Z_-]*:[^=].*## / { printf "  make %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(STAMP): setup.py pyproject.toml requirements-dev.txt
	$(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# A .venv made before the rename may hold the old distribution name, which
	@# would also claim the kinto_client package (see README, "Install").
	$(PY) -m pip uninstall --quiet --yes kinto-client 2>/dev/null || true
	$(PY) -m pip install --quiet -e . -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## create .venv: the package (editable) and the development tools

lint: install ## ruff check, ruff format --check, mypy --strict, and the typed-usage checks
	$(VENV)/bin/ruff check kinto_client tests docs/examples setup.py
	$(VENV)/bin/ruff format --check kinto_client tests docs/examples setup.py
	$(VENV)/bin/mypy --strict kinto_client
	@# tests/typing/: typed usage that mypy --strict must accept, and misuses it must reject.
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/test_typing.py

format: install ## fix the formatting (ruff check --fix, ruff format)
	$(VENV)/bin/ruff check --fix kinto_client tests docs/examples setup.py
	$(VENV)/bin/ruff format kinto_client tests docs/examples setup.py

tests: lint ## lint, then the whole suite on its own Kinto (KINTO_SERVER_URL=URL: on that one, which it EMPTIES)
	@if [ -n "$$KINTO_SERVER_URL" ]; then \
	  echo "KINTO_SERVER_URL is set: the suite runs on $$KINTO_SERVER_URL and EMPTIES it (POST /__flush__) before each test."; \
	fi
	$(VENV)/bin/pytest tests

# The same suite on Kinto with PostgreSQL backends (tests/pg_server.py starts a
# throw-away cluster on 127.0.0.1; Debian's postgresql is apt-installed if missing).
.PHONY: tests-postgresql
PG_STAMP := $(VENV)/.postgresql-stamp
$(PG_STAMP): $(STAMP) requirements-postgresql.txt
	$(PY) -m pip install --quiet -r requirements-postgresql.txt
	touch $(PG_STAMP)

tests-postgresql: $(PG_STAMP) ## the whole suite on Kinto with PostgreSQL backends (own throw-away cluster)
	$(PY) tests/pg_server.py install
	KINTO_SERVER_URL= KINTO_TEST_BACKEND=postgresql $(VENV)/bin/pytest tests

# The documentation site; every warning (docstrings included) is an error.
.PHONY: docs
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP) requirements-docs.txt
	$(PY) -m pip install --quiet -r requirements-docs.txt
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP) ## build the documentation site in docs/_build/html (warnings are errors)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "Documentation built: docs/_build/html/index.html"

# A wheel and an sdist in dist/, checked by twine, then the wheel installed in a
# fresh virtualenv outside the tree and imported (tests/check_dist.py).
.PHONY: dist
dist: install ## build wheel + sdist in dist/, twine check, install the wheel in a fresh venv
	rm -rf dist build
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*
	$(PY) tests/check_dist.py dist

# The benchmark (tests/bench/, never collected by pytest): kinto_client against
# raw requests, in fresh subprocesses against its own Kinto servers. PEER=1 also
# runs kinto-http.py from PyPI, installed in its own virtualenv (.venv-peer).
.PHONY: bench bench-quick
BENCH_STAMP := $(VENV)/.bench-stamp
PEER_VENV := .venv-peer
PEER_STAMP := $(PEER_VENV)/.installed-stamp
BENCH_DEPS := $(BENCH_STAMP) $(if $(PEER),$(PEER_STAMP))
BENCH_ARGS := $(if $(PEER),--peer $(PEER_VENV)/bin/python) $(if $(REPS),--reps $(REPS))
$(BENCH_STAMP): $(STAMP) tests/bench/requirements.txt
	$(PY) -m pip install --quiet -r tests/bench/requirements.txt
	touch $(BENCH_STAMP)

$(PEER_STAMP):
	$(PYTHON3) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet "kinto-http>=11,<12"
	touch $(PEER_STAMP)

bench: $(BENCH_DEPS) ## benchmark against raw requests, into docs/performance.rst (PEER=1: + kinto-http.py)
	$(PY) tests/bench/run.py --write-docs $(BENCH_ARGS)

bench-quick: $(BENCH_DEPS) ## the benchmark at 1/10 of the sizes (about a minute), docs untouched
	$(PY) tests/bench/run.py --quick $(BENCH_ARGS)

demo: install ## start a local Kinto, run docs/examples/quickstart.py, stop the server
	$(SERVER) -- $(PY) docs/examples/quickstart.py

runkinto: install ## serve the test Kinto on http://127.0.0.1:8888/v1 until Ctrl-C (other port: PORT=9999)
	$(SERVER) --port $(PORT)

clean: ## remove .venv, .venv-peer, build outputs and caches
	rm -rf $(VENV) .venv-peer build dist *.egg-info .pytest_cache .ruff_cache
