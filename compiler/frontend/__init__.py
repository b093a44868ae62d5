"""From Python to IR: tracing functions over `gradc.numpy` into `func.func`
and `array` ops, pytrees of arguments and results. The tracing rules:
docs/frontend.md."""

# TracedArray's operators call the op families, which build on TracedArray:
# array_methods installs them, and importing it here, before any module of
# the package runs, means no traced array is ever without them.
from gradc.frontend import array_methods  # noqa: F401
