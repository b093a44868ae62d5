"""From the `c` dialect to a Python callable: the C printer (target_c, with
c_spelling, microkernels and vector_math), the C compiler and build cache
(build), the cffi runtime (runtime), stack usage and sanitizer tooling.

Conventions, ABI details, the cache and the call path: docs/backend.md.
"""
