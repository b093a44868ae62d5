"""`loops.switch`: run one of N regions over buffers, chosen by an integer
scalar (what an `array.switch` lowers to).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import IntegerType
from xdsl.ir import Block, Region, SSAValue
from xdsl.irdl import IRDLOperation, lazy_traits_def, operand_def, var_region_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import SingleBlockImplicitTerminator
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition
from gradc.dialects.loops.nests import YieldOp


@op_definition
class SwitchOp(IRDLOperation):
    """`loops.switch %k : i32 { ... }, { ... }`: runs region clamp(k, 0, N-1)
    (an i32 or i64 scalar) and no other. The regions take no arguments and
    read and write the buffers around them; each ends in an empty
    `loops.yield` (printed implicitly)."""

    name = "loops.switch"
    index = operand_def(IntegerType)
    branches = var_region_def("single_block")
    traits = lazy_traits_def(lambda: (SingleBlockImplicitTerminator(YieldOp),))

    def __init__(self, index: SSAValue, count: int | None = None, branches: list[Region] | None = None):
        if branches is None:
            branches = [Region(Block()) for _ in range(count or 0)]
        super().__init__(operands=[index], regions=[branches])
        for region in branches:
            if not region.block.ops or not isinstance(region.block.last_op, YieldOp):
                region.block.add_op(YieldOp())

    def verify_(self) -> None:
        if not self.branches:
            raise VerifyException(f"{self.name}: needs at least one region")
        if self.index.type.width.data not in (32, 64):  # type: ignore[attr-defined]
            raise VerifyException(f"{self.name}: the index must be i32 or i64, got {self.index.type}")
        for k, region in enumerate(self.branches):
            if region.block.args:
                raise VerifyException(f"{self.name}: region {k} must take no arguments")

    @classmethod
    def parse(cls, parser: Parser) -> SwitchOp:
        index, regions = parse_switch(parser)
        return cls(index, branches=regions)

    def print(self, printer: Printer) -> None:
        print_switch(printer, self.index, self.branches)


def parse_switch(parser: Parser) -> tuple[SSAValue, list[Region]]:
    """`%k : i32 {...}, {...}`: the index and the regions of a switch (the
    syntax `loops.switch` and `c.switch` share)."""
    index = parser.parse_unresolved_operand()
    parser.parse_punctuation(":")
    typ = parser.parse_type()
    regions = [parser.parse_region()]
    while parser.parse_optional_punctuation(",") is not None:
        regions.append(parser.parse_region())
    return parser.resolve_operand(index, typ), regions


def print_switch(printer: Printer, index: SSAValue, branches: Sequence[Region]) -> None:
    printer.print_string(" ")
    printer.print_operand(index)
    printer.print_string(" : ")
    printer.print_attribute(index.type)
    printer.print_string(" ")
    printer.print_list(
        branches, lambda r: printer.print_region(r, print_entry_block_args=False, print_block_terminators=False)
    )
