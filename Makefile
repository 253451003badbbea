# The two quick-start commands live here: `make demo` and `make test`.
# Two hash-checked locks, resolved together by `make lock`: requirements-lock.txt (what Oneday needs to run: the
# image, `make demo`) and requirements-dev-lock.txt (that plus the test and lint tools, at the same versions:
# `make test`). `make test` also installs PostgreSQL's binaries via apt-get when they are missing.
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements-lock.txt
DEV_LOCK := requirements-dev-lock.txt
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp
# pip-tools, pinned, in a venv of its own: only `make lock` needs it.
PIP_TOOLS := pip-tools==7.7.0
TOOLS := .venv-lock
COMPILE := --quiet --all-build-deps --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast test-a-year-ahead lint typecheck bench lock clean

# What running needs, nothing more.
$(RUNTIME_STAMP): $(LOCK) pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r $(LOCK)
	$(PIP) --no-deps --no-build-isolation -e .
	touch $(RUNTIME_STAMP)

# Running plus the test tools (the dev lock holds the runtime lock's pins too, so this alone is complete).
$(STAMP): $(DEV_LOCK) $(LOCK) pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) --require-hashes --no-deps -r $(DEV_LOCK)
	$(PIP) --no-deps --no-build-isolation -e .
	touch $(RUNTIME_STAMP) $(STAMP)

demo: $(RUNTIME_STAMP)
	$(VENV)/bin/oneday demo

# The whole suite: lint, types, every test (PostgreSQL ones on a throwaway server), then the suite again
# with the clock of the whole process more than a year ahead (tests/a_year_ahead.sh).
test: $(STAMP)
	bash .ci/ensure-postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q
	bash tests/a_year_ahead.sh $(VENV)

# Only the tests, today's date (for a quick loop while working).
test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not postgres"

test-a-year-ahead: $(STAMP)
	bash tests/a_year_ahead.sh $(VENV)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m benchmarks

# Refresh both locks from pyproject.toml's ranges (needs the package index; review the diff, then commit them).
# The dev lock is resolved first; the runtime lock starts from it and drops what running does not need, so the
# two never pin a package at different versions.
lock:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check '$(PIP_TOOLS)'
	$(TOOLS)/bin/pip-compile $(COMPILE) --upgrade --extra dev -o $(DEV_LOCK) pyproject.toml
	cp $(DEV_LOCK) $(LOCK)
	$(TOOLS)/bin/pip-compile $(COMPILE) -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache oneday.db
