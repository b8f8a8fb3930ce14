# The two commands of the quickstart: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: serve test test-fast test-virtuoso build clean chromium virtuoso screenshots audit

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is needed")'
	$(PYTHON) -m venv $(VENV)

# Installs pinned by constraints.txt; a stamp per extra so `make test` only adds what tests need.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/ptcekb serve

build: $(VENV)/.installed
	$(BIN)/ptcekb build

# Debian's Chromium for tests/test_browser.py (Playwright drives it; Playwright's own browser downloads are
# never used). Installed with apt as root, or with sudo; when that cannot be done, say so and go on: the
# browser test then fails in CI (CI is set) and is skipped elsewhere, with the reason.
CHROMIUM := /usr/bin/chromium

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else sudo=none; fi; \
	  if [ "$$sudo" = none ] || ! command -v apt-get >/dev/null; then \
	    echo "make: $(CHROMIUM) is missing and cannot be installed here (needs apt-get as root or sudo):" \
	         "install Debian's chromium for the browser tests" >&2; \
	  else \
	    echo "make: installing Debian's chromium for the browser tests"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	      || echo "make: apt-get could not install chromium; the browser tests cannot run" >&2; \
	  fi; \
	fi

# Debian's Virtuoso Open Source (virtuoso-t, isql-vt) for the Virtuoso run of the remote-store tests
# (PTCEKB_TEST_STORE=virtuoso; tests/conftest.py starts it in a temporary directory, as the user running the
# tests). Installed as Chromium is; without it that run fails, with the reason.
VIRTUOSO := /usr/bin/virtuoso-t

virtuoso:
	@if [ ! -x $(VIRTUOSO) ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else sudo=none; fi; \
	  if [ "$$sudo" = none ] || ! command -v apt-get >/dev/null; then \
	    echo "make: $(VIRTUOSO) is missing and cannot be installed here (needs apt-get as root or sudo):" \
	         "install Debian's virtuoso-opensource for the Virtuoso tests" >&2; \
	  else \
	    echo "make: installing Debian's virtuoso-opensource for the Virtuoso tests"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends virtuoso-opensource >/dev/null \
	      || echo "make: apt-get could not install virtuoso-opensource; the Virtuoso tests cannot run" >&2; \
	  fi; \
	fi

# The whole suite (its 25 slowest tests listed), then the service tests again with a real `oxigraph serve`
# as the remote store (--store http://...; tests/conftest.py, docs/deployment.md). Every process of the
# run carries PTCEKB_TEST_RUN: tests/leftovers.py then fails if one of them outlived the run.
REMOTE_TESTS := tests/test_service.py tests/test_resources.py tests/test_validation.py tests/test_sparql_protocol.py tests/test_browser.py
TEST_RUN := PTCEKB_TEST_RUN=$(shell date +%s%N)

# Then a subset again with Virtuoso as the remote store (PTCEKB_TEST_STORE=virtuoso): service, pages, validation
# and Virtuoso's own checks (system graphs, SIRENE ingestion); the SPARQL protocol's conformance tests run
# on local stores whatever the store, and the browser test adds nothing engine-specific (docs/deployment.md).
VIRTUOSO_TESTS := tests/test_service.py tests/test_resources.py tests/test_validation.py tests/test_virtuoso.py

test: $(VENV)/.installed-test chromium
	$(TEST_RUN) $(BIN)/python -m pytest --durations=25 $(PYTEST_ARGS)
	$(TEST_RUN) PTCEKB_TEST_STORE=remote $(BIN)/python -m pytest --durations=10 $(PYTEST_ARGS) $(REMOTE_TESTS)
	$(TEST_RUN) $(BIN)/python tests/leftovers.py

# The Virtuoso run (about 22 minutes on 2 cores), not yet part of `make test` and CI: run it before a
# change to the remote store (ptcekb/remote.py) or to page and validation queries lands.
test-virtuoso: $(VENV)/.installed-test virtuoso
	$(TEST_RUN) PTCEKB_TEST_STORE=virtuoso $(BIN)/python -m pytest --durations=10 $(PYTEST_ARGS) $(VIRTUOSO_TESTS)
	$(TEST_RUN) $(BIN)/python tests/leftovers.py

# Unit tests only (negotiation, SPARQL text analysis, result serializers, template rows, identifiers,
# packaging): no store, no server, a few seconds.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/unit -q $(PYTEST_ARGS)

# Full-page screenshots of the main pages into docs/screenshots/ (shown in the README), taken by the browser test.
screenshots: $(VENV)/.installed-test chromium
	PTCEKB_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/test_browser.py -q -p no:cacheprovider $(PYTEST_ARGS)

# Known vulnerabilities of the installed dependencies (pip-audit + PyPI's advisory data; see .ci/audit.py and
# docs/operations.md): fails on any known vulnerability.
audit: $(VENV)/.installed-test
	$(BIN)/python .ci/audit.py

clean:
	rm -rf $(VENV) var
