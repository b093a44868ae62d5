"""Developer tools: the `gradc-opt` CLI and its xDSL universe, the
fuzzers and the matmul tuner."""
