"""`gradc.random`: JAX's functional PRNG (`jax.random`) on Threefry-2x32,
so JAX code that draws random numbers ports by changing the import.

    key = gradc.random.key(0)
    key, sub = gradc.random.split(key)
    mask = gradc.random.bernoulli(sub, 0.5, (128, 512))

Keys are uint32 arrays of shape (2,) with JAX's values (`jax.random.PRNGKey`);
they pass into and out of `gradc.jit` functions and through loop carries,
and carry no derivative. The same key and shape give the same numbers in
every run, under every pipeline option, compiled or not, and JAX's for
uniform. The algorithms and the cross-check with JAX: docs/random.md.
"""

from __future__ import annotations

from gradc.frontend import random as _frontend
from gradc.frontend.random import (
    PRNGKey,
    bernoulli,
    categorical,
    fold_in,
    key,
    key_data,
    normal,
    permutation,
    randint,
    split,
    truncated_normal,
    uniform,
    wrap_key_data,
)

__all__ = list(_frontend.__all__)
