"""Loop nests for tile-matmul, with index arithmetic folded at compile time.

Expects: nothing of the IR; an `Emitter` builds ops into a detached block,
which its user moves into place (tile-matmul: before the matmul it replaces).

Guarantees: every index is a `Lin` (constant + sum of coefficient * value)
folded before anything is emitted, and emitted once per block; constants
are emitted once, at the top of the block; a loop of one trip is no loop,
just its body; runs of equal-sized blocks become one `loops.for`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith
from xdsl.dialects.builtin import FloatAttr, IndexType, IntegerAttr
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter

from gradc.dialects import loops


@dataclass(frozen=True)
class Lin:
    """An index `const + sum(coeff * value)`, folded before anything is emitted."""

    const: int = 0
    terms: tuple[tuple[SSAValue, int], ...] = ()

    def __add__(self, other: Lin | int) -> Lin:
        if isinstance(other, int):
            return Lin(self.const + other, self.terms)
        coeffs = dict(self.terms)
        for value, coeff in other.terms:
            coeffs[value] = coeffs.get(value, 0) + coeff
        return Lin(self.const + other.const, tuple((v, c) for v, c in coeffs.items() if c))

    def __mul__(self, k: int) -> Lin:
        if k == 0:
            return Lin()
        return Lin(self.const * k, tuple((v, c * k) for v, c in self.terms))


class Emitter:
    """Builds the replacement of one loops.matmul in a detached block."""

    def __init__(self) -> None:
        self.block = Block()
        self.at = InsertPoint.at_end(self.block)
        self._constants: dict[tuple[int, str], SSAValue] = {}
        self._constant_ops: list[Operation] = []
        self._indices: dict[tuple[Block | None, Lin], SSAValue] = {}

    def emit(self, op: Operation) -> SSAValue | None:
        Rewriter.insert_op(op, self.at)
        return op.results[0] if op.results else None

    def constant(self, value: int | float, typ: Attribute) -> SSAValue:
        key = (value, str(typ))
        if key not in self._constants:
            attr = FloatAttr(value, typ) if not isinstance(typ, IndexType) else IntegerAttr(value, typ)
            op = arith.ConstantOp(attr, typ)
            self._constant_ops.append(op)
            self._constants[key] = op.result
        return self._constants[key]

    def index(self, lin: Lin) -> SSAValue:
        """`lin` as an `index` value (computed once per block)."""
        key = (self.at.block, lin)
        if key not in self._indices:
            self._indices[key] = self._emit_index(lin)
        return self._indices[key]

    def _emit_index(self, lin: Lin) -> SSAValue:
        parts = []
        for value, coeff in lin.terms:
            if coeff == 1:
                parts.append(value)
            else:
                parts.append(self.emit(arith.MuliOp(value, self.constant(coeff, IndexType()))))
        if lin.const or not parts:
            parts.append(self.constant(lin.const, IndexType()))
        total = parts[0]
        for part in parts[1:]:
            total = self.emit(arith.AddiOp(total, part))
        return total

    def loop(self, lower: int, upper: int, step: int, name: str, body: Callable[[Lin], None]) -> None:
        """`loops.for` over [lower, upper) by `step`; `body` gets the induction
        variable. A single trip is no loop, just the body at `lower`."""
        if upper - lower <= step:
            if upper > lower:
                body(Lin(lower))
            return
        loop = loops.ForOp(lower, upper, step)
        loop.induction_var.name_hint = name
        self.emit(loop)
        saved, self.at = self.at, InsertPoint.before(loop.body.block.last_op)
        body(Lin(0, ((loop.induction_var, 1),)))
        self.at = saved

    def blocks(self, blocks: Sequence[tuple[int, int]], name: str,
               body: Callable[[Lin, int], None]) -> None:
        """`body(offset, size)` for each block; runs of equal sizes become one loop."""
        k = 0
        while k < len(blocks):
            start, size = blocks[k]
            end = k
            while end + 1 < len(blocks) and blocks[end + 1][1] == size:
                end += 1
            self.loop(start, blocks[end][0] + size, size, name, lambda iv, size=size: body(iv, size))
            k = end + 1

    def load(self, buffer: SSAValue, at: Lin) -> SSAValue:
        return self.emit(loops.LoadOp(buffer, [self.index(at)]))

    def store(self, value: SSAValue, buffer: SSAValue, at: Lin) -> None:
        self.emit(loops.StoreOp(value, buffer, [self.index(at)]))

    def finish(self) -> Block:
        first = self.block.first_op
        for op in self._constant_ops:
            if first is None:
                self.block.add_op(op)
            else:
                self.block.insert_op_before(op, first)
        return self.block
