# gradc: `make test` and `make demo` set everything up on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2
export GRADC_CACHE_DIR ?= $(CURDIR)/.cache/gradc

.PHONY: all venv test test-sanitize sanitize-all fuzz fuzz-cli fuzz-programs fuzz-sanitize demo bench clean

all: test

$(STAMP): pyproject.toml examples/gradc-plugin-example/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,mpi]'
	$(PY) -m pip install -q -e examples/gradc-plugin-example
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/lit -sv lit examples/gradc-plugin-example/lit
	$(PY) -m pytest -q -n $(JOBS) tests
	$(MAKE) --no-print-directory test-sanitize

# The numeric end-to-end tests again, with every function gradc builds
# compiled under AddressSanitizer and UBSan (-O1, no fast-math; any finding
# aborts the run): see `python -m gradc.sanitize --help`, docs/reliability.md.
# make test must stay under 20 minutes, so it sanitizes the files that reach
# the most distinct generated code per second (one of the four
# random-program shards, every op, loops, tiles, the regressions);
# `make sanitize-all` (part of `make fuzz`) adds the files that mostly
# re-run the same kernels at larger sizes or under other options: under the
# sanitizers, on a loaded 2-core machine, test_parallelize took 314 s,
# test_plan_memory 266 s, test_scan_reverse 254 s, test_fusion 161 s.
# From test_out, the calls with out= that reach the C entry's checks of
# out (nesting, overlap, threads): ~4 s warm, ~12 s on a cold cache.
SANITIZE_OUT := test_nested_results_are_written_into_a_tree_of_the_same_structure \
	test_twenty_double_buffered_sgd_steps_equal_numpy test_an_out_overlapping_an_argument_is_refused \
	test_out_leaves_overlapping_each_other_are_refused test_threads_write_their_own_outputs \
	test_a_scalar_signature_writes_its_results_into_zero_d_arrays
SANITIZE_TESTS := tests/test_ops.py tests/test_integers.py tests/test_numeric_edges.py \
	tests/test_random_programs.py::test_random_programs_shard_0 \
	tests/test_checkpoint_lowering.py tests/test_scan.py \
	tests/test_tile_matmul.py tests/test_vector_math.py tests/regressions \
	"tests/test_reduction_accuracy.py::test_small_shapes_every_structure[float64]" \
	tests/test_edge_pushing.py::test_compiled_to_c \
	$(addprefix tests/test_out.py::,$(SANITIZE_OUT))
SANITIZE_MORE := tests/test_scan_reverse.py tests/test_plan_memory.py tests/test_parallelize.py \
	tests/test_fusion.py tests/test_transforms.py
test-sanitize: $(STAMP)
	$(PY) -m gradc.sanitize $(PY) -m pytest -q -n $(JOBS) -p no:cacheprovider $(SANITIZE_TESTS)
	$(PY) -m gradc.sanitize $(VENV)/bin/lit -s lit/regressions

sanitize-all: test-sanitize
	$(PY) -m gradc.sanitize $(PY) -m pytest -q -n $(JOBS) -p no:cacheprovider $(SANITIZE_MORE)

# The long fuzzing campaigns (docs/reliability.md): `fuzz` runs all three,
# then sanitize-all.
# fuzz-cli mutates the lit inputs and feeds them to gradc-opt: FUZZ_COUNT
# inputs, or FUZZ_SECONDS if set; failing inputs land in tests/fuzz/regressions/.
# fuzz-programs checks random programs under every pipeline option against
# the interpreter: GRADC_FUZZ_SECONDS (default 600 here) or
# GRADC_FUZZ_EXAMPLES; failing programs land in lit/regressions/.
# fuzz-sanitize is fuzz-programs with the generated code under ASan + UBSan.
FUZZ_COUNT ?= 100000
FUZZ_SEED ?= 0
fuzz: fuzz-cli fuzz-programs fuzz-sanitize sanitize-all

fuzz-cli: $(STAMP)
	$(PY) -m gradc.tools.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED) $(if $(FUZZ_SECONDS),--seconds $(FUZZ_SECONDS))

fuzz-programs: $(STAMP)
	GRADC_FUZZ_SECONDS=$${GRADC_FUZZ_SECONDS:-600} $(PY) tests/fuzz/programs.py

fuzz-sanitize: $(STAMP)
	GRADC_FUZZ_SECONDS=$${GRADC_FUZZ_SECONDS:-600} GRADC_FUZZ_SEED=$${GRADC_FUZZ_SEED:-500000} \
		$(PY) -m gradc.sanitize $(PY) tests/fuzz/programs.py

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
