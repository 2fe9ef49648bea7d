# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: venv demo test bench clean

$(BIN)/fnlb: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,sim]'
	touch $@

venv: $(BIN)/fnlb

# Balancer in front of three simulated function nodes, with a scripted load.
demo: venv
	$(BIN)/fnlb demo

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	bench/proxy

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
