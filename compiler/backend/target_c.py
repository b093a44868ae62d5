"""Target `c`: print a module of `c.func` ops as a C99 source file and header.

Expects: a module of `c.func` ops only (after lower-loops-to-c); any other
op at module level, or a function named like a helper the file defines, is
an error that says what to do.

Guarantees: the source defines first the vector math helpers
(gradc.backend.vector_math) and micro-kernels (gradc.backend.microkernels)
the functions use, then the functions in module order; every value is named
after its hint (made a valid, unique C identifier) or by order (`v0`, `i0`,
`t0`); values nobody needs are not printed, so `-Wall -Wextra -Werror`
stays quiet. The header declares the non-static functions behind an
include guard.

Options (`-t c{...}`): `header` (false): print the header, not the source.

What is inlined and why, and the rest of the printer's conventions:
docs/backend.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, ClassVar

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import Float32Type, Float64Type, IntegerAttr, IntegerType, ModuleOp
from xdsl.ir import Block, Operation, SSAValue
from xdsl.utils.exceptions import DiagnosticException
from xdsl.utils.target import Target

from gradc.backend import vector_math
from gradc.backend.c_spelling import INDENT, c_declaration, c_float_literal, c_float_table, c_literal, c_type_name
from gradc.backend.linalg_kernels import linalg_call
from gradc.backend.microkernels import THREAD_NUM, helper_definitions, microkernel_name, pack_name
from gradc.dialects import c
from gradc.support.dense import dense_to_numpy

SOURCE_INCLUDES = ("math.h", "stdbool.h", "stddef.h", "stdint.h")
HEADER_INCLUDES = ("stdbool.h", "stddef.h", "stdint.h")
HEX_TABLE_ELEMENTS = 64
"""Float tables longer than this print as hexadecimal floats (exact, and
fast to write and to compile: docs/backend.md); shorter ones as the
shortest decimals, for people reading the C."""
BYTES_TABLE_ELEMENTS = 4096
"""Tables longer than this (but bool ones) print as a string of their bytes."""
BYTES_PER_LINE = 64


def _escaped_lines(raw: bytes, width: int) -> list[str]:
    """`raw` as C string literals of `width` bytes each, every byte a
    `\\xHH` escape (built with NumPy: Python loops would take seconds on a
    weight matrix)."""
    digits = np.frombuffer(raw.hex().encode("ascii"), np.uint8).reshape(-1, 2)
    escaped = np.empty((len(raw), 4), np.uint8)
    escaped[:, 0], escaped[:, 1], escaped[:, 2:] = ord("\\"), ord("x"), digits
    text = escaped.tobytes().decode("ascii")
    step = 4 * width
    return [f'"{text[i : i + step]}"' for i in range(0, len(text), step)]


# C operator precedence, higher binds tighter.
PRIMARY, UNARY, COND = 16, 15, 3
BINARY_PRECEDENCE = {
    "*": 13, "/": 13, "%": 13, "+": 12, "-": 12, "<<": 11, ">>": 11,
    "<": 10, "<=": 10, ">": 10, ">=": 10, "==": 9, "!=": 9,
    "&": 8, "^": 7, "|": 6, "&&": 5, "||": 4,
}
ARITHMETIC = frozenset("*/%+-")

INLINABLE = (c.BinaryExprOp, c.CompareOp, c.UnaryExprOp, c.SelectOp, c.CastOp, c.MathOp)
"""Pure expressions that may move to their user (calls may set errno, loads
must stay before later stores: both are always named locals)."""


def _wrap(text_prec: tuple[str, int], parens: bool) -> str:
    return f"({text_prec[0]})" if parens else text_prec[0]


def _live_ops(func: c.FuncOp) -> set[Operation]:
    """Value-producing ops that a statement (store, return) needs, transitively."""
    live: set[Operation] = set()
    work = [op for op in func.walk() if not op.results]
    while work:
        op = work.pop()
        for operand in op.operands:
            owner = operand.owner
            if isinstance(owner, Operation) and owner not in live:
                live.add(owner)
                work.append(owner)
    return live


class _FunctionPrinter:
    """Prints one `c.func`; owns the names of its values."""

    def __init__(self, func: c.FuncOp, reserved: Iterable[str]):
        self.func = func
        self.used_names = set(reserved)
        self.names: dict[SSAValue, str] = {}
        self.counters: dict[str, int] = {}
        self.taken: list[str] = []
        """Names taken, in order (a scope gives back those taken in it)."""
        self.suffixes: dict[str, int] = {}
        """Per name hint, how many of `hint`, `hint_1`, ... are known taken."""
        self.suffix_log: list[tuple[str, int | None]] = []
        self.lines: list[str] = []
        self.live = _live_ops(func)

    # -- naming ---------------------------------------------------------------
    def _fresh(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0)
        while f"{prefix}{n}" in self.used_names:
            n += 1
        self.counters[prefix] = n + 1
        return f"{prefix}{n}"

    def bind(self, value: SSAValue, prefix: str) -> str:
        """The value's name: its hint, else `hint_1`, `hint_2`, ... (the
        first free one; the search starts past those known taken), or a
        fresh `prefix` name."""
        if value.name_hint:
            base = c.c_identifier(value.name_hint)
            k = self.suffixes.get(base, 0)
            name = f"{base}_{k}" if k else base
            while name in self.used_names:
                k += 1
                name = f"{base}_{k}"
            self.suffix_log.append((base, self.suffixes.get(base)))
            self.suffixes[base] = k + 1
        else:
            name = self._fresh(prefix)
        self.take(name)
        self.names[value] = name
        return name

    def take(self, name: str) -> None:
        self.used_names.add(name)
        self.taken.append(name)

    def enter_scope(self) -> tuple[int, int, dict[str, int]]:
        """A mark for `leave_scope`: what a C scope starts from."""
        return len(self.taken), len(self.suffix_log), dict(self.counters)

    def leave_scope(self, mark: tuple[int, int, dict[str, int]]) -> None:
        """Give back the names taken since `mark` (they die with the scope),
        without copying the names of the scopes around it."""
        taken, logged, self.counters = mark
        while len(self.taken) > taken:
            self.used_names.discard(self.taken.pop())
        while len(self.suffix_log) > logged:
            base, before = self.suffix_log.pop()
            if before is None:
                del self.suffixes[base]
            else:
                self.suffixes[base] = before

    # -- expressions ------------------------------------------------------------
    def live_uses(self, value: SSAValue) -> list[Operation]:
        return [
            use.operation
            for use in value.uses
            if not use.operation.results or use.operation in self.live
        ]

    def is_inlined(self, op: Operation) -> bool:
        if isinstance(op, c.LiteralOp):
            return True
        if not isinstance(op, INLINABLE):
            return False
        users = self.live_uses(op.results[0])
        return len(users) == 1 and users[0].parent_block() is op.parent_block()

    def value(self, value: SSAValue) -> tuple[str, int]:
        """The text of a value and its precedence."""
        if value in self.names:
            return self.names[value], PRIMARY
        assert isinstance(value.owner, Operation)
        return self.expression(value.owner)

    def expression(self, op: Operation) -> tuple[str, int]:
        if isinstance(op, c.LiteralOp):
            text = c_literal(op.value)
            return text, UNARY if text.startswith("-") else PRIMARY
        if isinstance(op, c.BinaryExprOp | c.CompareOp):
            prec = BINARY_PRECEDENCE[op.OPERATOR]
            lhs, rhs = self.value(op.lhs), self.value(op.rhs)
            if op.OPERATOR in ARITHMETIC:
                left, right = _wrap(lhs, lhs[1] < prec), _wrap(rhs, rhs[1] <= prec)
            else:
                # Spell out comparisons and logic fully: clearer, and no -Wparentheses.
                left, right = _wrap(lhs, lhs[1] < PRIMARY), _wrap(rhs, rhs[1] < PRIMARY)
            return f"{left} {op.OPERATOR} {right}", prec
        if isinstance(op, c.UnaryExprOp):
            operand = self.value(op.operand)
            return f"{op.OPERATOR}{_wrap(operand, operand[1] < PRIMARY)}", UNARY
        if isinstance(op, c.CastOp):
            operand = self.value(op.value)
            cast = c_type_name(op.result.type)
            return f"({cast}){_wrap(operand, operand[1] < PRIMARY)}", UNARY
        if isinstance(op, c.SelectOp):
            cond, yes, no = self.value(op.cond), self.value(op.if_true), self.value(op.if_false)
            return (
                f"{_wrap(cond, cond[1] < UNARY)} ? {_wrap(yes, yes[1] <= COND)} : "
                f"{_wrap(no, no[1] < COND)}",
                COND,
            )
        if isinstance(op, c.CallOp):
            args = ", ".join(self.value(a)[0] for a in op.args)
            return f"{op.callee.string_value()}({args})", PRIMARY
        if isinstance(op, c.MathOp):
            callee = vector_math.c_name(op.function.data, op.result.type)
            return f"{callee}({self.value(op.x)[0]})", PRIMARY
        if isinstance(op, c.LoadOp):
            return f"{self.value(op.ptr)[0]}[{self.value(op.index)[0]}]", PRIMARY
        if isinstance(op, c.ThreadNumOp):
            return f"{THREAD_NUM}()", PRIMARY
        raise DiagnosticException(f"target c: cannot print '{op.name}' as a C expression")

    # -- statements -------------------------------------------------------------
    def emit(self, depth: int, line: str) -> None:
        self.lines.append(INDENT * depth + line)

    def signature(self) -> str:
        """`static inline float f(float a)`: binds the parameter names."""
        func = self.func
        params = ", ".join(c_declaration(a.type, self.bind(a, "p")) for a in func.args)
        result = func.result_type
        qualifiers = (("static " if func.is_static else "") + ("inline " if func.is_inline else "")
                      + ("__attribute__((noinline)) " if func.is_noinline else ""))
        result_name = "void" if result is None else c_type_name(result)
        return f"{qualifiers}{result_name} {func.sym_name.data}({params or 'void'})"

    def print_function(self) -> list[str]:
        self.lines.append(self.signature() + " {")
        for arg in self.func.args:
            if not self.live_uses(arg):
                self.emit(1, f"(void){self.names[arg]};")
        self.print_block(self.func.body.block, 1)
        self.lines.append("}")
        return self.lines

    def print_block(self, block: Block, depth: int) -> None:
        for op in block.ops:
            self.print_op(op, depth)

    def print_op(self, op: Operation, depth: int) -> None:
        if op.results and (op not in self.live or self.is_inlined(op)):
            return
        match op:
            case c.ForOp():
                # Names die with the loop's scope, so sibling loops reuse `i`, `j`.
                outer_scope = self.enter_scope()
                i = self.bind(op.induction_var, "i")
                lo, hi, step = op.lower.data, op.upper.data, op.step.data
                incr = f"++{i}" if step == 1 else f"{i} += {step}"
                self.emit(depth, f"for (int64_t {i} = {lo}; {i} < {hi}; {incr}) {{")
                self.print_block(op.body.block, depth + 1)
                self.emit(depth, "}")
                self.leave_scope(outer_scope)
            case c.SwitchOp():
                self.print_switch(op, depth)
            case c.WhileOp():
                outer_scope = self.enter_scope()
                if self.live_uses(op.count):
                    n = self.bind(op.count, "n")
                    self.emit(depth, f"for (int64_t {n} = 0;; ++{n}) {{")
                else:
                    self.emit(depth, "for (;;) {")
                self.print_block(op.body.block, depth + 1)
                self.emit(depth, "}")
                self.leave_scope(outer_scope)
            case c.BreakUnlessOp():
                self.emit(depth, f"if (!{_wrap(self.value(op.cond), self.value(op.cond)[1] < UNARY)}) break;")
            case c.FailIfOp():
                self.emit(depth, f"if ({self.value(op.cond)[0]}) return {op.status.data};")
            case c.ScheduleOp():
                self.print_schedule(op, depth)
            case c.PragmaOp():
                if op.guard is not None:
                    self.lines.append(f"#ifdef {op.guard.data}")
                self.emit(depth, f"#pragma {op.text.data}")
                if op.guard is not None:
                    self.lines.append("#endif")
            case c.StoreOp():
                ptr, index = self.value(op.ptr)[0], self.value(op.index)[0]
                self.emit(depth, f"{ptr}[{index}] = {self.value(op.value)[0]};")
            case c.ReturnOp():
                if op.value is None:
                    self.emit(depth, "return;")
                else:
                    self.emit(depth, f"return {self.value(op.value)[0]};")
            case c.ArrayOp():
                name = self.bind(op.result, "t")
                element = op.result.type.pointee
                zeros = " = {0}" if _written_by_schedule(op) else ""
                self.emit(depth, f"{c_type_name(element)} {name}[{op.size.value.data}] {LOCAL_ALIGN}{zeros};")
                if all(isinstance(use.operation, c.StoreOp) and use.index == 1 for use in op.result.uses):
                    self.emit(depth, f"(void){name};")  # only written: -Wunused-but-set-variable
            case c.StaticArrayOp():
                self.print_static_array(op, depth)
            case c.ByteOffsetOp():
                self.print_byte_offset(op, depth)
            case c.MicrokernelOp():
                args = [self.pointer(op.a, op.a_offset), self.pointer(op.b, op.b_offset),
                        self.pointer(op.c, op.c_offset)]
                self.emit(depth, f"{microkernel_name(op)}({', '.join(args)});")
            case c.LinalgOp():
                self.emit(depth, linalg_call(op, [self.value(v)[0] for v in op.buffers]))
            case c.InvokeOp():
                args = ", ".join(self.value(arg)[0] for arg in op.args)
                self.emit(depth, f"{op.callee.string_value()}({args});")
            case c.PackOp():
                args = [self.pointer(op.src, op.src_offset), self.pointer(op.dst, op.dst_offset)]
                self.emit(depth, f"{pack_name(op)}({', '.join(args)});")
            case _ if len(op.results) == 1:
                text = self.expression(op)[0]
                name = self.bind(op.results[0], "v")
                self.emit(depth, f"const {c_type_name(op.results[0].type)} {name} = {text};")
            case _:
                raise DiagnosticException(f"target c: cannot print '{op.name}' as a C statement")

    def print_switch(self, op: c.SwitchOp, depth: int) -> None:
        """Only the chosen region runs: `if (k <= 0) {...} else {...}` for
        two (clamped by the comparison), else `switch` on k clamped below
        at 0, with the last region as `default` (clamped above)."""
        k = _wrap(self.value(op.index), self.value(op.index)[1] < PRIMARY)
        regions = list(op.branches)
        if len(regions) == 1:
            self.emit(depth, f"(void){k};")
            self.emit(depth, "{")
            self.print_scoped(regions[0].block, depth + 1)
            self.emit(depth, "}")
            return
        if len(regions) == 2:
            self.emit(depth, f"if ({k} <= 0) {{")
            self.print_scoped(regions[0].block, depth + 1)
            self.emit(depth, "} else {")
            self.print_scoped(regions[1].block, depth + 1)
            self.emit(depth, "}")
            return
        self.emit(depth, f"switch ({k} < 0 ? 0 : {k}) {{")
        for n, region in enumerate(regions):
            label = "default:" if n == len(regions) - 1 else f"case {n}:"
            self.emit(depth, f"{label} {{")
            self.print_scoped(region.block, depth + 1)
            self.emit(depth + 1, "break;")
            self.emit(depth, "}")
        self.emit(depth, "}")

    def print_scoped(self, block: Block, depth: int) -> None:
        """`block` in a C scope of its own: the names it declares die with it."""
        outer_scope = self.enter_scope()
        self.print_block(block, depth)
        self.leave_scope(outer_scope)

    def print_schedule(self, op: c.ScheduleOp, depth: int) -> None:
        """The phase's actions as a `static const` table (regenerated from the
        spec: kind, first, stop, slot per row, see checkpointing.table) and a
        loop that switches on each row's kind to run its region: over steps
        first..stop-1 for advance and taped (tape slots counting up from
        `slot`), stop-1 down to first for adjoint, once for store/restore."""
        rows = op.table()
        table = self._fresh("schedule")
        self.take(table)
        flat = [str(v) for row in rows for v in row]
        self.emit(depth, f"static const int32_t {table}[{len(flat)}] = {{")
        for start in range(0, len(flat), 16):
            self.emit(depth + 1, ", ".join(flat[start : start + 16]) + ",")
        self.emit(depth, "};")
        row, first, stop, slot = (self._fresh(prefix) for prefix in ("a", "first", "stop", "slot"))
        for name in (row, first, stop, slot):
            self.take(name)
        self.emit(depth, f"for (int64_t {row} = 0; {row} < {len(rows)}; ++{row}) {{")
        self.emit(depth + 1, f"const int64_t {first} = {table}[4 * {row} + 1], {stop} = {table}[4 * {row} + 2];")
        self.emit(depth + 1, f"const int64_t {slot} = {table}[4 * {row} + 3];")
        self.emit(depth + 1, f"(void){first}; (void){stop}; (void){slot};")
        self.emit(depth + 1, f"switch ({table}[4 * {row}]) {{")
        used = {kind for kind, *_ in rows}
        for kind, region in enumerate(op.regions):
            if kind not in used:
                continue
            outer_scope = self.enter_scope()
            args = region.block.args
            self.emit(depth + 1, f"case {kind}: {{")
            body = depth + 2
            if len(args) == 2:  # taped, adjoint: over steps, tape slots following
                i, s = self.bind(args[0], "i"), self.bind(args[1], "s")
                loop = (f"for (int64_t {i} = {first}; {i} < {stop}; ++{i})" if kind == 3
                        else f"for (int64_t {i} = {stop} - 1; {i} >= {first}; --{i})")
                self.emit(body, loop + " {")
                self.emit(body + 1, f"const int64_t {s} = {slot} + ({i} - {first});")
                self.print_block(region.block, body + 1)
                self.emit(body, "}")
            elif kind == 0:  # advance: over steps
                i = self.bind(args[0], "i")
                self.emit(body, f"for (int64_t {i} = {first}; {i} < {stop}; ++{i}) {{")
                self.print_block(region.block, body + 1)
                self.emit(body, "}")
            else:  # store, restore: one snapshot slot
                k = self.bind(args[0], "k")
                self.emit(body, f"const int64_t {k} = {first};")
                self.print_block(region.block, body)
            self.emit(body, "break;")
            self.emit(depth + 1, "}")
            self.leave_scope(outer_scope)
        self.emit(depth + 1, "default:")
        self.emit(depth + 2, "break;")
        self.emit(depth + 1, "}")
        self.emit(depth, "}")

    def pointer(self, ptr: SSAValue, offset: SSAValue) -> str:
        """`p + i`: a pointer argument at an element offset."""
        base, (index, prec) = self.value(ptr)[0], self.value(offset)
        return base if index == "0" else f"{base} + {_wrap((index, prec), prec <= 12)}"

    def print_static_array(self, op: c.StaticArrayOp, depth: int) -> None:
        name = self.bind(op.result, "k")
        typ = op.value.get_element_type()
        if len(op.value) > BYTES_TABLE_ELEMENTS and not (isinstance(typ, IntegerType) and typ.width.data == 1):
            self.print_byte_table(name, op, depth)
            return
        values = op.value.get_values()
        if isinstance(typ, Float32Type | Float64Type):
            if len(values) > HEX_TABLE_ELEMENTS:
                items = c_float_table(values, typ)
            else:
                items = [c_float_literal(v, typ) for v in values]
        elif isinstance(typ, IntegerType) and typ.width.data == 1:
            items = ["true" if v else "false" for v in values]
        else:
            items = [c_literal(IntegerAttr(int(v), typ)) for v in values]
        decl = f"static const {c_type_name(typ)} {name}[{len(items)}] = {{"
        if len(items) <= 8:
            self.emit(depth, f"{decl}{', '.join(items)}}};")
            return
        self.emit(depth, decl)
        for start in range(0, len(items), 8):
            self.emit(depth + 1, ", ".join(items[start : start + 8]) + ",")
        self.emit(depth, "};")

    def print_byte_table(self, name: str, op: c.StaticArrayOp, depth: int) -> None:
        """A large table as one string literal of its little-endian bytes in
        a union with the elements (gcc reads a string ~8x faster than as
        many numbers: docs/backend.md), and `name` pointing at them."""
        data = dense_to_numpy(op.value).reshape(-1)
        raw = np.ascontiguousarray(data, data.dtype.newbyteorder("<")).tobytes()
        element = c_type_name(op.value.get_element_type())
        self.emit(0, "#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__")
        self.emit(0, '#error "gradc: this file holds constant tables as little-endian bytes"')
        self.emit(0, "#endif")
        self.emit(0, "#if defined(__GNUC__)")
        self.emit(0, "#pragma GCC diagnostic push")
        self.emit(0, '#pragma GCC diagnostic ignored "-Woverlength-strings"')
        self.emit(0, "#endif")
        self.emit(depth, f"static const union {{ unsigned char bytes[{len(raw) + 1}]; {element} values[{data.size}]; }} {name}_bytes = {{")
        for line in _escaped_lines(raw, BYTES_PER_LINE):
            self.emit(depth + 1, line)
        self.emit(depth, "};")
        self.emit(0, "#if defined(__GNUC__)")
        self.emit(0, "#pragma GCC diagnostic pop")
        self.emit(0, "#endif")
        self.emit(depth, f"const {element} *const {name} = {name}_bytes.values;")

    def print_byte_offset(self, op: c.ByteOffsetOp, depth: int) -> None:
        base = self.value(op.base)[0]
        name = self.bind(op.result, "t")
        typ = op.result.type
        assert isinstance(typ, c.PtrType)
        pointee = "void" if typ.is_void else c_type_name(typ.pointee)
        cast = f"({'const ' if typ.const else ''}{pointee} *)"
        offset = op.offset.value.data
        if offset == 0:
            address = f"{cast}{base}"
        else:
            char = "const char" if typ.const or op.base.type.const else "char"
            address = f"{cast}(({char} *){base} + {offset})"
        self.emit(depth, f"{c_declaration(typ, name)} = {address};")


def _written_by_schedule(op: c.ArrayOp) -> bool:
    """Whether a local array is written inside a `c.schedule`: its tapes,
    snapshots and recomputed states, and the per-step outputs of its steps.
    The table writes each element before anything reads it, but the C
    compiler cannot see that through the table and warns that the array
    may be used uninitialized (-Wmaybe-uninitialized, found by the program
    fuzzer); such arrays start from zeros (local arrays are small: at most
    stack-alloc's threshold each). Arrays declared inside a schedule are a
    step's own temporaries, written before they are read in the same step."""
    if _inside_schedule(op):
        return False
    return any(_inside_schedule(use.operation) for use in op.result.uses)


def _inside_schedule(op: Operation) -> bool:
    parent = op.parent_op()
    while parent is not None and not isinstance(parent, c.FuncOp):
        if isinstance(parent, c.ScheduleOp):
            return True
        parent = parent.parent_op()
    return False


def _math_definitions(funcs: list[c.FuncOp]) -> list[str]:
    """Definitions of the `c.math` functions the module calls (see gradc.backend.vector_math)."""
    used = {
        vector_math.c_name(op.function.data, op.result.type)
        for func in funcs for op in func.walk() if isinstance(op, c.MathOp)
    }
    return [line for text in vector_math.definitions(used) for line in ["", *text.splitlines()]]


def _functions(module: ModuleOp) -> list[c.FuncOp]:
    funcs: list[c.FuncOp] = []
    for op in module.ops:
        if not isinstance(op, c.FuncOp):
            raise DiagnosticException(
                f"target c: cannot print '{op.name}' at module level; "
                "run lower-loops-to-c first"
            )
        funcs.append(op)
    return funcs


LOCAL_ALIGN = "GRADC_LOCAL_ALIGN"
LOCAL_ALIGNMENT = [
    "#if defined(__GNUC__)",
    f"#define {LOCAL_ALIGN} __attribute__((aligned(64)))",
    "#else",
    f"#define {LOCAL_ALIGN}",
    "#endif",
]
"""Local arrays are declared 64-byte aligned. Besides aligned vector access,
this works around gcc 12: at -O3 -march=native with 512-bit vectors
preferred, its loop vectorizer may raise a local array's alignment after
the frame's is fixed, then store to it with aligned 256-bit moves at a
16-byte aligned address (SIGSEGV; tests/test_c_backend.py)."""


def print_c_source(module: ModuleOp) -> str:
    """The C99 translation unit for a module of `c.func` ops."""
    funcs = _functions(module)
    definitions, helper_names = helper_definitions(funcs)
    math_definitions = _math_definitions(funcs)
    written = set(re.findall(r"\bgradc_\w+", "\n".join(definitions + math_definitions)))
    for f in funcs:
        if f.sym_name.data in written:
            raise DiagnosticException(
                f"target c: c.func @{f.sym_name.data} has the name of a helper the C file "
                "defines; rename it"
            )
    reserved = {f.sym_name.data for f in funcs} | helper_names | set(vector_math.DEFINITIONS)
    includes = sorted(set(SOURCE_INCLUDES) | set(vector_math.INCLUDES if math_definitions else ()))
    lines = ["/* Generated by gradc. */"]
    lines += [f"#include <{h}>" for h in includes]
    if any(isinstance(op, c.ArrayOp) for func in funcs for op in func.walk()):
        lines += LOCAL_ALIGNMENT
    lines += math_definitions + definitions
    for func in funcs:
        lines.append("")
        lines += _FunctionPrinter(func, reserved).print_function()
    return "\n".join(lines) + "\n"


def print_c_header(module: ModuleOp) -> str:
    """Prototypes of the module's non-static functions, behind an include guard."""
    funcs = _functions(module)
    public = [f for f in funcs if f.is_static is None]
    # The name as spelled: upper-casing would give `ab` and `aB` one guard.
    guard = f"GRADC_{public[0].sym_name.data if public else 'EMPTY'}_H"
    lines = ["/* Generated by gradc. */", f"#ifndef {guard}", f"#define {guard}", ""]
    lines += [f"#include <{h}>" for h in HEADER_INCLUDES]
    lines.append("")
    reserved = {f.sym_name.data for f in funcs}
    for f in public:
        lines += _status_comment(f)
        lines.append(_FunctionPrinter(f, reserved).signature() + ";")
    lines += ["", f"#endif /* {guard} */"]
    return "\n".join(lines) + "\n"


def _status_comment(func: c.FuncOp) -> list[str]:
    """A comment naming each nonzero status `func` can return (a while_loop
    past its max_steps), so a C caller knows what they mean; none when it
    always returns 0. Messages are made safe inside a C comment (printable
    ASCII, no comment delimiters)."""
    statuses = sorted({(op.status.data, op.message.data) for op in func.walk() if isinstance(op, c.FailIfOp)})
    if not statuses:
        return []

    def safe(text: str) -> str:
        text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
        return text.replace("*/", "*?").replace("/*", "?*")

    return [f"/* Returns 0 on success, else: {status} = {safe(message)}. */" for status, message in statuses]


@dataclass(frozen=True)
class CTarget(Target):
    """`-t c` prints the source; `-t c{header=true}` prints the header."""

    name: ClassVar[str] = "c"
    header: bool = False

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        output.write(print_c_header(module) if self.header else print_c_source(module))
