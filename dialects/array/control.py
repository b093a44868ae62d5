"""`array.switch`: run one of N regions, chosen by a 0-d integer index (JAX's
`lax.switch`, and `lax.cond` as a switch on the predicate).
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import IntegerType, TensorType
from xdsl.ir import Attribute, Region, SSAValue
from xdsl.irdl import IRDLOperation, operand_def, traits_def, var_operand_def, var_region_def, var_result_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import IsolatedFromAbove, RecursiveMemoryEffect
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.array.base import _require_array_element, static_shape
from gradc.dialects.deferred_format import op_definition

INDEX_WIDTHS = (32, 64)
"""A switch's index is a 0-d tensor of i32 or i64."""


@op_definition
class SwitchOp(IRDLOperation):
    """Run region `clamp(index, 0, N-1)` of N on the operands; its results
    are what that region yields (the others do not run).

        %r = array.switch %k (%x, %y) : (tensor<i32>, tensor<3xf64>, tensor<f64>) -> (tensor<3xf64>) {
        ^bb0(%a : tensor<3xf64>, %b : tensor<f64>):
          %s = array.sin %a : tensor<3xf64>
          array.yield %s : tensor<3xf64>
        }, {
        ^bb0(%a : tensor<3xf64>, %b : tensor<f64>):
          array.yield %a : tensor<3xf64>
        }

    Each region is one block isolated from above: its arguments have the
    types of the operands after the index, and it ends in `array.yield` of
    values of the result types. The index is clamped as in JAX (below 0
    runs region 0, above N-1 region N-1)."""

    name = "array.switch"
    index = operand_def(TensorType)
    inputs = var_operand_def(TensorType)
    outputs = var_result_def(TensorType)
    branches = var_region_def("single_block")
    traits = traits_def(IsolatedFromAbove(), RecursiveMemoryEffect())

    def __init__(
        self, index: SSAValue, inputs: Sequence[SSAValue], result_types: Sequence[Attribute], branches: Sequence[Region]
    ):
        super().__init__(operands=[index, list(inputs)], result_types=[list(result_types)], regions=[list(branches)])

    def yielded(self, k: int) -> Sequence[SSAValue]:
        """The values region `k` yields."""
        return self.branches[k].block.last_op.operands  # type: ignore[union-attr]

    def verify_(self) -> None:
        from gradc.dialects.array.scan import YieldOp

        typ = self.index.type
        element = typ.get_element_type() if isinstance(typ, TensorType) else None
        if (
            not isinstance(typ, TensorType) or typ.get_shape() or not isinstance(element, IntegerType)
            or element.width.data not in INDEX_WIDTHS
        ):
            raise VerifyException(f"{self.name}: the index must be a 0-d i32 or i64 tensor, got {typ}")
        if not self.branches:
            raise VerifyException(f"{self.name}: needs at least one region")
        for v in (*self.inputs, *self.outputs):
            static_shape(self, v)
            _require_array_element(self, v.type, "every operand and result")
        want_args = list(self.inputs.types)
        for k, region in enumerate(self.branches):
            block = region.block
            got = [a.type for a in block.args]
            if got != want_args:
                raise VerifyException(
                    f"{self.name}: region {k} takes ({', '.join(map(str, got))}) but the operands "
                    f"after the index are ({', '.join(map(str, want_args))})"
                )
            last = block.last_op
            if not isinstance(last, YieldOp):
                raise VerifyException(f"{self.name}: region {k} must end in array.yield")
            yielded = [v.type for v in last.values]
            if yielded != list(self.outputs.types):
                raise VerifyException(
                    f"{self.name}: region {k} yields ({', '.join(map(str, yielded))}) but the "
                    f"results are ({', '.join(map(str, self.outputs.types))})"
                )

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.index)
        printer.print_string(" (")
        printer.print_list(self.inputs, printer.print_operand)
        printer.print_string(") : (")
        printer.print_list([self.index.type, *self.inputs.types], printer.print_attribute)
        printer.print_string(") -> (")
        printer.print_list(self.outputs.types, printer.print_attribute)
        printer.print_string(") ")
        printer.print_list(self.branches, lambda r: printer.print_region(r, print_entry_block_args=True))
        printer.print_op_attributes(self.attributes)

    @classmethod
    def parse(cls, parser: Parser) -> SwitchOp:
        index = parser.parse_unresolved_operand()
        inputs = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_unresolved_operand)
        parser.parse_punctuation(":")
        pos = parser.pos
        types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        if len(types) != 1 + len(inputs):
            parser.raise_error(
                f"array.switch: {1 + len(inputs)} operands (the index first) but {len(types)} types", pos, parser.pos
            )
        parser.parse_punctuation("->")
        result_types = parser.parse_comma_separated_list(parser.Delimiter.PAREN, parser.parse_type)
        regions = [parser.parse_region()]
        while parser.parse_optional_punctuation(",") is not None:
            regions.append(parser.parse_region())
        attrs = parser.parse_optional_attr_dict()
        resolved = [parser.resolve_operand(v, t) for v, t in zip([index, *inputs], types)]
        op = cls(resolved[0], resolved[1:], result_types, regions)
        op.attributes.update(attrs)
        return op

