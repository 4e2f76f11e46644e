# The README's two commands: `make run` and `make test`. CI runs `make test` (see .ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

VERCEL_CLI := tools/vercel-cli/node_modules/.bin/vercel
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-dev vercel-cli browser lint typecheck lock bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Lectern needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml requirements/run.lock
	$(BIN)/pip install --quiet -c requirements/run.lock -e '.[embedded]'
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml requirements/dev.lock
	$(BIN)/pip install --quiet -c requirements/dev.lock -e '.[dev]'
	@touch $@

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

# The real Vercel CLI (pinned in tools/vercel-cli), for the emulator's conformance tests.
$(VERCEL_CLI): tools/vercel-cli/package.json tools/vercel-cli/package-lock.json
	npm ci --prefix tools/vercel-cli --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@
vercel-cli: $(VERCEL_CLI)

# Debian's chromium, driven by Playwright in the widget's browser tests (Playwright's own browser
# download is not used). Installs with apt-get when missing (CI runs as root).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install chromium, or set CHROMIUM=/path/to/chromium"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
browser: $(CHROMIUM)

## Install, ingest the demo book (docs/), then serve the API on the embedded PostgreSQL at http://127.0.0.1:$(PORT)
run: install
	$(BIN)/lectern ingest docs --base-url http://127.0.0.1:$(PORT) --route-base /book
	LECTERN_DEMO=1 $(BIN)/lectern serve --port $(PORT)

## Install everything, then run the whole test suite
test: install-dev vercel-cli browser
	LECTERN_CHROMIUM=$(CHROMIUM) $(BIN)/pytest --basetemp=.pytest-tmp

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## Refresh the lock files after changing dependencies in pyproject.toml
lock: install-dev
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -q -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml --extra embedded --python-version 3.11 --no-header -q -o requirements/run.lock

bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
