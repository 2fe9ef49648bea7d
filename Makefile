# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: venv demo test test-fast lint bench clean

$(BIN)/fnlb: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,sim]'
	touch $@

venv: $(BIN)/fnlb

# Balancer in front of three simulated function nodes, with a scripted load.
demo: venv
	$(BIN)/fnlb demo

# Lint (ruff) and the pure core's types (mypy, the files in pyproject.toml), then every test.
lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The tests that start no process (pure objects, in-process servers): seconds, not minutes.
test-fast: lint
	$(BIN)/python -m pytest -m "not process" $(PYTEST_ARGS)

bench: venv
	bench/proxy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
