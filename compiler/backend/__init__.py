"""From the `c` dialect to a Python callable: the C printer and its vector
math, the C compiler and build cache, the cffi runtime, stack usage and
sanitizer tooling."""
