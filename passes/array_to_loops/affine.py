"""Index expressions of lower-array-to-loops, kept symbolic.

An index is a tuple of `Affine` forms over the loop numbers of the function
being built (FunctionLowering.ivs), so that remaps (slices, transposes,
broadcasts, a scan's step) compose and fold before any `arith` op is
emitted; FunctionLowering.index emits one, memoized per block.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Affine:
    """`const + sum(coeff * iv)`; `terms` holds (loop number, coeff), sorted."""

    const: int = 0
    terms: tuple[tuple[int, int], ...] = ()

    def scaled(self, k: int) -> Affine:
        if k == 0:
            return Affine()
        return Affine(self.const * k, tuple((n, c * k) for n, c in self.terms))

    def shifted(self, k: int) -> Affine:
        return Affine(self.const + k, self.terms)

    def __add__(self, other: Affine) -> Affine:
        coeffs = dict(self.terms)
        for n, c in other.terms:
            coeffs[n] = coeffs.get(n, 0) + c
        return Affine(self.const + other.const, tuple(sorted((n, c) for n, c in coeffs.items() if c)))


Index = tuple[Affine, ...]
ZERO = Affine()
