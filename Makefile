# Two commands on a fresh machine with Python 3.11 and pip:
#   make demo   compile the kernels (once, with a progress line per group), then
#               train on bundled data and compare with scikit-learn
#   make test   run the test suite
# Each creates .venv and installs fastmlp into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo warmup test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,plot]"
	touch $@

# Compiles every kernel into Numba's on-disk cache in parallel workers, printing
# a line per group; a few seconds when the cache is already warm.
warmup: $(BIN)/.installed
	$(BIN)/python -m fastmlp warmup

demo: warmup
	$(BIN)/python -m fastmlp

test: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/gemm_gflops.py

clean:
	rm -rf $(VENV) build *.egg-info
	find . -name '__pycache__' -prune -exec rm -rf {} +
