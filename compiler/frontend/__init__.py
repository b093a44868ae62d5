"""From Python to IR: tracing functions over `gradc.numpy` into `func.func`
and `array` ops, pytrees of arguments and results."""
