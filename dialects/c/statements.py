"""`c` statements: functions (`c.func`, `c.return`), loops (`c.for`,
`c.pragma`, `c.thread_num`; `c.while` with `c.break_unless` and
`c.fail_if`), branches (`c.switch`), local and static arrays, workspace slices
(`c.byte_offset`) and `c.store`.

Guarantees (the verifiers): function names are printable C identifiers (or
gradc's own `static gradc_*` helpers); a `c.pragma` is one inert line and
precedes a `c.for`; nothing is stored through a const pointer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    FunctionType,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
    i32,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_region_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    MemoryWriteEffect,
    NoTerminator,
    Pure,
    SymbolOpInterface,
    SymbolTable,
)
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition
from gradc.dialects.loops.branches import parse_switch, print_switch
from gradc.dialects.c.identifiers import _IDENTIFIER, GRADC_PREFIX, c_identifier, is_c_identifier, show_symbol
from gradc.dialects.c.types import PtrType, _check_access, _parse_element, _print_element, is_scalar_type


@op_definition
class FuncOp(IRDLOperation):
    """A C function; entry block arguments are its parameters.

    `c.func static inline @name(%a: f32) -> f32 { ... }`. A function with a
    result must end with `c.return`; no result means `void`."""

    name = "c.func"
    sym_name = prop_def(StringAttr)
    function_type = prop_def(FunctionType)
    is_static = opt_prop_def(UnitAttr, prop_name="static")
    is_inline = opt_prop_def(UnitAttr, prop_name="inline")
    is_noinline = opt_prop_def(UnitAttr, prop_name="noinline")
    body = region_def("single_block")
    traits = traits_def(SymbolOpInterface(), IsolatedFromAbove(), NoTerminator())

    def __init__(
        self,
        name: str,
        inputs: Sequence[Attribute],
        result: Attribute | None,
        body: Region | None = None,
        static: bool = False,
        inline: bool = False,
        noinline: bool = False,
    ):
        if body is None:
            body = Region(Block(arg_types=inputs))
        props: dict[str, Attribute] = {
            "sym_name": StringAttr(name),
            "function_type": FunctionType.from_lists(
                inputs, [] if result is None else [result]
            ),
        }
        if static:
            props["static"] = UnitAttr()
        if inline:
            props["inline"] = UnitAttr()
        if noinline:
            props["noinline"] = UnitAttr()
        super().__init__(properties=props, regions=[body])

    @property
    def result_type(self) -> Attribute | None:
        outputs = self.function_type.outputs.data
        return outputs[0] if outputs else None

    @property
    def args(self) -> tuple[SSAValue, ...]:
        return tuple(self.body.block.args)

    @property
    def is_gradc_helper(self) -> bool:
        """A `static` function in gradc's own name space (`gradc_maximum_f32`,
        made by lower-loops-to-c); the printer checks it against the helpers
        it writes itself."""
        name = self.sym_name.data
        return (self.is_static is not None and name.startswith(GRADC_PREFIX)
                and is_c_identifier(name[len(GRADC_PREFIX):]))

    def verify_(self) -> None:
        name = self.sym_name.data
        if not (is_c_identifier(name) or self.is_gradc_helper):
            raise VerifyException(
                f"c.func {show_symbol(name)}: not a valid C identifier, or a reserved one "
                f"(try '{c_identifier(name)}')"
            )
        inputs = self.function_type.inputs.data
        outputs = self.function_type.outputs.data
        if len(outputs) > 1:
            raise VerifyException(f"c.func @{name}: at most one result, got {len(outputs)}")
        for out in outputs:
            if not is_scalar_type(out):
                raise VerifyException(f"c.func @{name}: result must be a C scalar, got {out}")
        block = self.body.block
        if tuple(a.type for a in block.args) != tuple(inputs):
            raise VerifyException(
                f"c.func @{name}: block arguments do not match the signature {self.function_type}"
            )
        for t in inputs:
            if not (isinstance(t, PtrType) or is_scalar_type(t)):
                raise VerifyException(
                    f"c.func @{name}: parameter type {t} is not a C scalar or !c.ptr"
                )
        if outputs and not isinstance(block.last_op, ReturnOp):
            raise VerifyException(f"c.func @{name}: a function with a result must end with c.return")
        if self.is_inline is not None and self.is_noinline is not None:
            raise VerifyException(f"c.func @{name}: cannot be both inline and noinline")

    @classmethod
    def parse(cls, parser: Parser) -> FuncOp:
        static = parser.parse_optional_keyword("static") is not None
        inline = parser.parse_optional_keyword("inline") is not None
        noinline = parser.parse_optional_keyword("noinline") is not None
        name = parser.parse_symbol_name().data
        args = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=True)
        )
        result = parser.parse_type() if parser.parse_optional_punctuation("->") else None
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region(args)
        op = cls(name, [a.type for a in args], result, body, static, inline, noinline)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        if self.is_static is not None:
            printer.print_string(" static")
        if self.is_inline is not None:
            printer.print_string(" inline")
        if self.is_noinline is not None:
            printer.print_string(" noinline")
        printer.print_string(" ")
        printer.print_symbol_name(self.sym_name.data)
        printer.print_string("(")
        printer.print_list(self.body.block.args, printer.print_block_argument)
        printer.print_string(")")
        if self.result_type is not None:
            printer.print_string(" -> ")
            printer.print_attribute(self.result_type)
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_empty_block=False)


@op_definition
class ReturnOp(IRDLOperation):
    """`c.return %v : i32` (or bare `c.return` in a void function)."""

    name = "c.return"
    value = opt_operand_def()
    assembly_format = "($value^ `:` type($value))? attr-dict"
    traits = traits_def(IsTerminator(), HasParent(FuncOp))

    def __init__(self, value: SSAValue | Operation | None = None):
        super().__init__(operands=[[] if value is None else [value]])

    def verify_(self) -> None:
        func = self.parent_op()
        assert isinstance(func, FuncOp)
        expected = func.result_type
        got = None if self.value is None else self.value.type
        if expected != got:
            raise VerifyException(
                f"c.return: @{func.sym_name.data} returns "
                f"{'void' if expected is None else expected}, got "
                f"{'nothing' if got is None else got}"
            )


@op_definition
class InvokeOp(IRDLOperation):
    """A call of a void `c.func` of the module as a statement:
    `c.invoke @gradc_nest0(%a, %b) : !c.ptr<f64>, !c.ptr<f64>` is
    `gradc_nest0(a, b);`. The callee may write through pointer arguments."""

    name = "c.invoke"
    callee = prop_def(SymbolRefAttr)
    args = var_operand_def()
    assembly_format = "$callee `(` $args `)` attr-dict (`:` type($args)^)?"
    traits = traits_def(MemoryWriteEffect())

    def __init__(self, callee: str, args: Sequence[SSAValue | Operation]):
        super().__init__(operands=[list(args)], properties={"callee": SymbolRefAttr(callee)})

    def verify_(self) -> None:
        name = self.callee.string_value()
        callee = SymbolTable.lookup_symbol(self, name)
        if not isinstance(callee, FuncOp):
            raise VerifyException(f"c.invoke: @{name} is not a c.func of this module")
        if callee.result_type is not None:
            raise VerifyException(f"c.invoke: @{name} returns a value; c.invoke calls void functions")
        expected = tuple(callee.function_type.inputs.data)
        got = tuple(a.type for a in self.args)
        if expected != got:
            raise VerifyException(f"c.invoke: arguments {got} do not match @{name}'s parameters {expected}")


@op_definition
class ForOp(IRDLOperation):
    """`c.for %i = 0 to 64 step 1 { ... }`: `for (int64_t i = 0; i < 64; i++)`."""

    name = "c.for"
    lower = prop_def(IntAttr)
    upper = prop_def(IntAttr)
    step = prop_def(IntAttr)
    body = region_def("single_block")
    traits = traits_def(NoTerminator())

    def __init__(self, lower: int, upper: int, step: int = 1, body: Region | None = None):
        if body is None:
            body = Region(Block(arg_types=[IndexType()]))
        super().__init__(
            properties={"lower": IntAttr(lower), "upper": IntAttr(upper), "step": IntAttr(step)},
            regions=[body],
        )

    @property
    def induction_var(self) -> SSAValue:
        return self.body.block.args[0]

    def verify_(self) -> None:
        if self.step.data < 1:
            raise VerifyException(f"c.for: step must be >= 1, got {self.step.data}")
        args = self.body.block.args
        if len(args) != 1 or not isinstance(args[0].type, IndexType):
            raise VerifyException("c.for: the body must have exactly one `index` argument")

    @classmethod
    def parse(cls, parser: Parser) -> ForOp:
        arg = parser.parse_argument(expect_type=False)
        parser.parse_punctuation("=")
        lower = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("to")
        upper = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("step")
        step = parser.parse_integer(allow_boolean=False)
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region((arg.resolve(IndexType()),))
        op = cls(lower, upper, step, body)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.induction_var)
        printer.print_string(f" = {self.lower.data} to {self.upper.data} step {self.step.data}")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_empty_block=False)


@op_definition
class SwitchOp(IRDLOperation):
    """`c.switch %k { ... }, { ... }`: runs region clamp(k, 0, N-1) of N (an
    integer scalar): `if (k <= 0) {...} else {...}` for two regions, else a
    C `switch` with region N-1 as the default."""

    name = "c.switch"
    index = operand_def()
    branches = var_region_def("single_block")
    traits = traits_def(NoTerminator())

    def __init__(self, index: SSAValue, count: int):
        super().__init__(operands=[index], regions=[[Region(Block()) for _ in range(count)]])

    def verify_(self) -> None:
        if not self.branches:
            raise VerifyException(f"{self.name}: needs at least one region")
        if not isinstance(self.index.type, IntegerType) or self.index.type.width.data not in (32, 64):
            raise VerifyException(f"{self.name}: the index must be i32 or i64, got {self.index.type}")
        if any(region.block.args for region in self.branches):
            raise VerifyException(f"{self.name}: its regions take no arguments")

    @classmethod
    def parse(cls, parser: Parser) -> SwitchOp:
        index, regions = parse_switch(parser)
        return cls.create(operands=[index], regions=regions)

    def print(self, printer: Printer) -> None:
        print_switch(printer, self.index, self.branches)


@op_definition
class WhileOp(IRDLOperation):
    """`c.while (%n) { ... }`: `for (int64_t n = 0;; ++n) { ... }` (`for (;;)`
    when nothing reads the iteration count `n`), left by a `c.break_unless`
    in its body."""

    name = "c.while"
    body = region_def("single_block")
    traits = traits_def(NoTerminator())

    def __init__(self, body: Region | None = None):
        super().__init__(regions=[body if body is not None else Region(Block(arg_types=[IndexType()]))])

    @property
    def count(self) -> SSAValue:
        return self.body.block.args[0]

    def verify_(self) -> None:
        args = self.body.block.args
        if len(args) != 1 or not isinstance(args[0].type, IndexType):
            raise VerifyException("c.while: the body must have exactly one `index` argument")

    @classmethod
    def parse(cls, parser: Parser) -> WhileOp:
        parser.parse_punctuation("(")
        arg = parser.parse_argument(expect_type=False)
        parser.parse_punctuation(")")
        attrs = parser.parse_optional_attr_dict_with_keyword()
        op = cls(parser.parse_region((arg.resolve(IndexType()),)))
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" (")
        printer.print_operand(self.count)
        printer.print_string(")")
        printer.print_op_attributes(self.attributes, print_keyword=True)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_empty_block=False)


@op_definition
class BreakUnlessOp(IRDLOperation):
    """`c.break_unless %c`: `if (!c) break;`, directly in a `c.while` body."""

    name = "c.break_unless"
    cond = operand_def()
    assembly_format = "$cond `:` type($cond) attr-dict"
    traits = traits_def(HasParent(WhileOp))

    def __init__(self, cond: SSAValue | Operation):
        super().__init__(operands=[SSAValue.get(cond)])


@op_definition
class FailIfOp(IRDLOperation):
    """`c.fail_if %c status 1 "message"`: `if (c) return 1;` in a function
    returning int; `message` says what went wrong (the runtime raises it
    for that status)."""

    name = "c.fail_if"
    cond = operand_def()
    status = prop_def(IntAttr)
    message = prop_def(StringAttr)
    assembly_format = "$cond `:` type($cond) `status` $status $message attr-dict"

    def __init__(self, cond: SSAValue | Operation, status: int, message: str):
        super().__init__(
            operands=[SSAValue.get(cond)], properties={"status": IntAttr(status), "message": StringAttr(message)}
        )

    def verify_(self) -> None:
        if self.status.data == 0:
            raise VerifyException("c.fail_if: status 0 means success")
        op = self.parent_op()
        while op is not None and not isinstance(op, FuncOp):
            op = op.parent_op()
        if op is None or op.result_type != i32:
            raise VerifyException("c.fail_if: must be inside a c.func returning i32")


PRAGMA_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9_ (),:+\-*.=]*\Z")
"""What a `c.pragma` may say (`omp parallel for num_threads(2) schedule(static)`,
`GCC ivdep`): no `/` (comments), `\\` (line continuation), quotes, `#`,
control characters or non-ASCII, so the text stays one inert line."""


@op_definition
class PragmaOp(IRDLOperation):
    """`c.pragma "GCC ivdep"`: `#pragma GCC ivdep` before the `c.for` that
    follows. With a guard, `c.pragma "omp parallel for" if "_OPENMP"`, it
    is printed inside `#ifdef _OPENMP ... #endif`."""

    name = "c.pragma"
    text = prop_def(StringAttr)
    guard = opt_prop_def(StringAttr)
    assembly_format = "$text (`if` $guard^)? attr-dict"

    def __init__(self, text: str, guard: str | None = None):
        properties = {"text": StringAttr(text)}
        if guard is not None:
            properties["guard"] = StringAttr(guard)
        super().__init__(properties=properties)

    def verify_(self) -> None:
        text = self.text.data
        if PRAGMA_TEXT.match(text) is None:
            raise VerifyException(
                f"c.pragma: {text!r} is not a pragma gradc prints; expected a word, then "
                "ASCII letters, digits, spaces and _ ( ) , : + - * . = only (no quotes, "
                "backslashes, comment markers or line breaks)"
            )
        if not isinstance(self.next_op, ForOp):
            raise VerifyException(f"c.pragma \"{text}\": must be followed by a c.for")
        if self.guard is not None and _IDENTIFIER.match(self.guard.data) is None:
            raise VerifyException(f"c.pragma: guard must be a macro name, got {self.guard.data!r}")


@op_definition
class ThreadNumOp(IRDLOperation):
    """`%t = c.thread_num : index`: the OpenMP thread number in a parallel
    loop (`omp_get_thread_num()`, 0 when built without OpenMP)."""

    name = "c.thread_num"
    result = result_def(IndexType)
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self):
        super().__init__(result_types=[IndexType()])


@op_definition
class ArrayOp(IRDLOperation):
    """A local (stack) array: `%t = c.array 64 : !c.ptr<f32>` is `float t[64];`."""

    name = "c.array"
    size = prop_def(IntegerAttr[I64])
    result = result_def(PtrType)
    assembly_format = "$size attr-dict `:` type($result)"

    def __init__(self, size: int, element: Attribute):
        super().__init__(
            properties={"size": IntegerAttr(size, 64)}, result_types=[PtrType(element)]
        )

    def verify_(self) -> None:
        typ = self.result.type
        assert isinstance(typ, PtrType)
        if self.size.value.data < 1:
            raise VerifyException(f"c.array: size must be >= 1, got {self.size.value.data}")
        if typ.is_void or typ.const:
            raise VerifyException(f"c.array: element type must be a non-const scalar, got {typ}")


@op_definition
class StaticArrayOp(IRDLOperation):
    """Read-only data: `%k = c.static_array dense<[1.0, 2.0]> : tensor<2xf32> ->
    !c.ptr<const f32>` is `static const float k[2] = {1.0f, 2.0f};`."""

    name = "c.static_array"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(PtrType)
    assembly_format = "$value attr-dict `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, value: DenseIntOrFPElementsAttr):
        super().__init__(
            properties={"value": value},
            result_types=[PtrType(value.get_element_type(), const=True)],
        )

    def verify_(self) -> None:
        typ = self.result.type
        assert isinstance(typ, PtrType)
        if not typ.const or typ.pointee != self.value.get_element_type():
            raise VerifyException(
                f"c.static_array: result must be !c.ptr<const "
                f"{self.value.get_element_type()}>, got {typ}"
            )


@op_definition
class ByteOffsetOp(IRDLOperation):
    """A typed pointer at a byte offset into another buffer (a workspace slice):
    `%t = c.byte_offset %work + 128 : !c.ptr<void restrict> -> !c.ptr<f32 restrict>`
    is `float *restrict t = (float *)((char *)work + 128);`."""

    name = "c.byte_offset"
    base = operand_def(PtrType)
    offset = prop_def(IntegerAttr[I64])
    result = result_def(PtrType)
    assembly_format = "$base `+` $offset attr-dict `:` type($base) `->` type($result)"
    traits = traits_def(Pure())

    def __init__(self, base: SSAValue | Operation, offset: int, result: PtrType):
        super().__init__(
            operands=[base], properties={"offset": IntegerAttr(offset, 64)}, result_types=[result]
        )

    def verify_(self) -> None:
        if self.offset.value.data < 0:
            raise VerifyException(f"c.byte_offset: offset must be >= 0, got {self.offset.value.data}")
        base, res = self.base.type, self.result.type
        assert isinstance(base, PtrType) and isinstance(res, PtrType)
        if base.const and not res.const:
            raise VerifyException(f"c.byte_offset: cannot drop const from {base} to {res}")


@op_definition
class StoreOp(IRDLOperation):
    """`c.store %v, %p[%i] : !c.ptr<f32>` is `p[i] = v;`."""

    name = "c.store"
    value = operand_def()
    ptr = operand_def(PtrType)
    index = operand_def(IndexType)
    traits = traits_def(MemoryWriteEffect())

    def __init__(self, value: SSAValue | Operation, ptr: SSAValue | Operation, index: SSAValue | Operation):
        super().__init__(operands=[value, ptr, index])

    def verify_(self) -> None:
        _check_access(self, self.ptr, self.index, self.value.type)
        typ = self.ptr.type
        assert isinstance(typ, PtrType)
        if typ.const:
            raise VerifyException(f"c.store: cannot store through {typ}")

    @classmethod
    def parse(cls, parser: Parser) -> StoreOp:
        value = parser.parse_unresolved_operand()
        parser.parse_punctuation(",")
        ptr, index, attrs, typ = _parse_element(parser)
        op = cls(
            parser.resolve_operand(value, typ.pointee),
            parser.resolve_operand(ptr, typ),
            parser.resolve_operand(index, IndexType()),
        )
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_operand(self.value)
        printer.print_string(",")
        _print_element(printer, self, self.ptr, self.index)
