"""Limits on the sizes gradc compiles, checked before any pass uses them.

Expects: a module whose types may be anything the parser accepts.

Guarantees: `check_sizes` raises SizeLimitError, naming the operation (and
so, from the CLI, its file:line:col), at the first shaped type of more than
MAX_RANK dimensions or MAX_ELEMENTS elements; `type_problem` says why a
type is too large (MAX_CONSTANT_ELEMENTS for dense constants). It runs
before the first pass and after each one (`gradc.pipeline.run_pipeline`,
the CLI's between-passes hook), since derivatives (a Jacobian is m x n)
and lowering create new types.

Why limits at all, and the values: docs/reliability.md (Size limits).
"""

from __future__ import annotations

from math import prod

from xdsl.dialects.builtin import ModuleOp, ShapedType
from xdsl.ir import Attribute, Operation

MAX_RANK = 32
"""NumPy 1.x's limit on the number of dimensions (constant folding and the
interpreter run on NumPy; above it array-simplify crashed, found by
gradc.tools.fuzz)."""

MAX_ELEMENTS = 2**32
"""Elements of one array: 16 GiB of float32, 32 GiB of float64. Far above
what a stack or workspace of one compiled function holds in practice, and far
below where an element offset (an int64 in the C) or a byte size overflows."""


MAX_CONSTANT_ELEMENTS = 2**24
"""Elements of one dense constant in IR text. xDSL's parser expands a splat
`dense<2.0> : tensor<1000000x512xf32>` into one Python float per element
before packing it (4 GB for that one, found by gradc.tools.fuzz), and a constant
is data the compiler carries around; 16M elements is 64 MB of float32."""


class SizeLimitError(Exception):
    """A type exceeds MAX_RANK or MAX_ELEMENTS; `op` is where it appears."""

    def __init__(self, message: str, op: Operation):
        super().__init__(message)
        self.op = op


def type_problem(typ: Attribute, max_elements: int = MAX_ELEMENTS) -> str | None:
    """Why `typ` is too large to compile (with at most `max_elements`
    elements), or None."""
    if not isinstance(typ, ShapedType):
        return None
    shape = typ.get_shape()
    if len(shape) > MAX_RANK:
        return f"rank {len(shape)} exceeds gradc's limit of {MAX_RANK} dimensions"
    if any(d < 0 for d in shape):
        return None  # dynamic sizes are the verifiers' and lowerings' to reject
    count = prod(shape)
    if count > max_elements:
        dims = "x".join(str(d) for d in shape)
        what = "array" if max_elements == MAX_ELEMENTS else "constant"
        return (f"{'an' if what == 'array' else 'a'} {what} of shape {dims} has {count} elements, over gradc's limit of "
                f"{max_elements} (2^{max_elements.bit_length() - 1}) per {what}")
    return None


def check_sizes(module: ModuleOp) -> None:
    """Raise SizeLimitError at the first op with an operand, result or block
    argument type that is too large. Each distinct type is judged once (a
    module repeats a few types many times)."""
    fine: set[Attribute] = set()
    for op in module.walk():
        types = [r.type for r in op.results]
        types += [a.type for region in op.regions for block in region.blocks for a in block.args]
        types += list(_function_types(op))
        for typ in types:
            if typ in fine:
                continue
            if problem := type_problem(typ):
                raise SizeLimitError(f"{op.name}: {problem}", op)
            fine.add(typ)


def _function_types(op: Operation) -> list[Attribute]:
    """The argument and result types of a function declaration (no block)."""
    function_type = op.properties.get("function_type")
    if function_type is None:
        return []
    return [*_data(function_type, "inputs"), *_data(function_type, "outputs")]


def _data(attr: Attribute, name: str) -> tuple[Attribute, ...]:
    return tuple(getattr(getattr(attr, name, None), "data", ()))

