# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: venv core demo test test-pure test-fast lint bench clean

$(BIN)/fnlb: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,sim]'
	touch $@

venv: $(BIN)/fnlb

# The compiled core (setup.py): rebuilt in place whenever one of its sources changed
# (`pip install -e` built it once; Cython and setuptools are in the test extras).
CORE := $(shell sed -n 's|^ *"\(fnlb/[a-z_/]*\.py\)",$$|src/\1|p' setup.py)
.build-stamp: $(BIN)/fnlb setup.py $(CORE) $(wildcard $(CORE:.py=.pxd))
	$(BIN)/python setup.py -q build_ext --inplace
	touch $@

core: .build-stamp

# Balancer in front of three simulated function nodes, with a scripted load.
demo: core
	$(BIN)/fnlb demo

# Lint (ruff) and the pure core's types (mypy, the files in pyproject.toml), then every test.
lint: core
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The proxy and routing tests once more on the same sources uncompiled (FNLB_PURE=1: what
# runs where no compiler was at hand); CI runs it after `make test`.
test-pure: core
	FNLB_PURE=1 $(BIN)/python -m pytest tests/proxy tests/routing $(PYTEST_ARGS)

# The tests that start no process (pure objects, in-process servers): seconds, not minutes.
test-fast: lint
	$(BIN)/python -m pytest -m "not process" $(PYTEST_ARGS)

bench: venv
	bench/proxy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .build-stamp
	find src -name '*.so' -delete -o -name '*.c' -path 'src/fnlb/*' -delete
