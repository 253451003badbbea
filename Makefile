# The two quick-start commands live here: `make demo` and `make test`.
# Each installs exactly what requirements-lock.txt pins (hash-checked) into .venv; `make test` also
# installs PostgreSQL's binaries via apt-get when they are missing.
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements-lock.txt
STAMP := $(VENV)/.installed-stamp
# pip-tools, pinned, in a venv of its own: only `make lock` needs it.
PIP_TOOLS := pip-tools==7.7.0
TOOLS := .venv-lock

.PHONY: demo test test-fast test-a-year-ahead lint typecheck bench lock clean

$(STAMP): $(LOCK) pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
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

# Refresh the lock from pyproject.toml's ranges (needs the package index; review the diff, then commit it).
lock:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check '$(PIP_TOOLS)'
	$(TOOLS)/bin/pip-compile --quiet --upgrade --extra dev --all-build-deps --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links -o $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache oneday.db
