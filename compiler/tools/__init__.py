"""Developer tools: the `gradc-opt` CLI and its xDSL universe, the
fuzzer of gradc-opt and the matmul tuner (docs/tools.md).
"""
