# gradc: `make test` and `make demo` set everything up on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2
export GRADC_CACHE_DIR ?= $(CURDIR)/.cache/gradc

.PHONY: all venv test fuzz demo bench clean

all: test

$(STAMP): pyproject.toml examples/gradc-plugin-example/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q -e examples/gradc-plugin-example
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/lit -sv lit examples/gradc-plugin-example/lit
	$(PY) -m pytest -q -n $(JOBS) tests

# The long fuzzing campaign of gradc-opt (see docs/reliability.md):
# FUZZ_COUNT inputs, or FUZZ_SECONDS if set; failing inputs are saved under
# tests/fuzz/regressions/.
FUZZ_COUNT ?= 100000
FUZZ_SEED ?= 0
fuzz: $(STAMP)
	$(PY) -m gradc.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED) $(if $(FUZZ_SECONDS),--seconds $(FUZZ_SECONDS))

DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench

$(DEMO_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[demo]'
	touch $(DEMO_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	touch $(BENCH_STAMP)

demo: $(DEMO_STAMP)
	$(PY) examples/train_mlp.py

bench: $(BENCH_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .cache build *.egg-info
