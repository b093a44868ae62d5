"""The `c` dialect: just enough structure to print C99.

Statements are ops with regions or no results (`c.func`, `c.for`, `c.store`,
`c.return`, `c.pragma`); everything that computes a value is an SSA expression
(`c.add`, `c.call`, `c.load`, ...) that the printer either inlines into its
single user or binds to a `const` local. Buffers are flat pointers
(`!c.ptr<f32>`): multi-dimensional indexing is already folded into one `index`
by `lower-loops-to-c`, so the printer never needs shapes.

Scalar types are builtin: f32 (float), f64 (double), i1 (bool), index
(int64_t), i8..i64 (intN_t), plus `!c.size_t`.

Two statements are bigger than a line of C: `c.microkernel`, a register tile
of a matrix product, and `c.pack`, a copy of a block into panels; the printer
spells each as a call of a `static inline` function written with GNU C
vector extensions (one per distinct shape).
"""

from __future__ import annotations

import json
import re
from abc import ABC
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float32Type,
    Float64Type,
    FloatAttr,
    FunctionType,
    IndexType,
    IntAttr,
    IntegerAttr,
    IntegerType,
    NoneType,
    StringAttr,
    SymbolRefAttr,
    UnitAttr,
    i1,
)
from xdsl.ir import (
    Attribute,
    Block,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    AnyAttr,
    IRDLOperation,
    VarConstraint,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser, Parser, UnresolvedOperand
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    SymbolTable,
    IsolatedFromAbove,
    IsTerminator,
    MemoryReadEffect,
    MemoryWriteEffect,
    NoTerminator,
    Pure,
    SymbolOpInterface,
)
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.autodiff import ScheduleSpec, schedule_regions
from gradc.dialects.loops import MicrokernelParameters, PackParameters

# ---------------------------------------------------------------------------
# C identifiers

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern "
    "float for goto if inline int long register restrict return short signed "
    "sizeof static struct switch typedef union unsigned void volatile while "
    "_Bool _Complex _Imaginary bool true false "
    # C11's header macros, C23's new keywords, GNU C's keywords (gcc's
    # default mode): a parameter named `asm` or `typeof` does not compile.
    "alignas alignof noreturn static_assert thread_local complex imaginary "
    "constexpr nullptr typeof typeof_unqual asm".split()
)
"""C99 keywords, the stdbool.h macros, and what C11, C23 and GNU C add."""

LIBRARY_NAMES = frozenset(
    "size_t ptrdiff_t NULL offsetof int8_t int16_t int32_t int64_t uint8_t "
    "uint16_t uint32_t uint64_t intptr_t uintptr_t intmax_t uintmax_t "
    "float_t double_t INFINITY NAN HUGE_VAL HUGE_VALF HUGE_VALL errno main "
    "math_errhandling signgam "
    # Lower-case object-like macros that gcc predefines in GNU mode or that the
    # headers of a cffi build (Python.h: stdio, errno, assert, sys/stat,
    # sched) define; a value of that name would be replaced by the macro.
    "linux unix i386 stdin stdout stderr assert alloca st_atime st_mtime st_ctime "
    "sched_priority environ va_start va_arg va_end va_copy offsetof FILE".split()
)
"""Types, macros and objects of the headers generated code is compiled with."""

LIBC_FUNCTIONS = frozenset(
    # <stdlib.h>, <string.h>, <strings.h>, <stdio.h>, <ctype.h>, <time.h>,
    # <unistd.h>: declared by the headers a Python extension module includes,
    # so a kernel named like one of them would not compile next to them.
    "abort abs atexit atof atoi atol atoll bsearch calloc div exit free getenv labs "
    "ldiv llabs lldiv malloc mblen mbstowcs mbtowc qsort rand realloc srand strtod "
    "strtof strtol strtold strtoll strtoul strtoull system wcstombs wctomb random "
    "srandom drand48 erand48 lrand48 mrand48 seed48 aligned_alloc posix_memalign "
    "memchr memcmp memcpy memmove memset strcat strchr strcmp strcoll strcpy strcspn "
    "strerror strlen strncat strncmp strncpy strpbrk strrchr strspn strstr strtok "
    "strxfrm strdup strndup index rindex bcmp bcopy bzero ffs strcasecmp strncasecmp "
    "clearerr fclose feof ferror fflush fgetc fgetpos fgets fopen fprintf fputc fputs "
    "fread freopen fscanf fseek fsetpos ftell fwrite getc getchar gets perror printf "
    "putc putchar puts remove rename rewind scanf setbuf setvbuf snprintf sprintf "
    "sscanf tmpfile tmpnam ungetc vfprintf vprintf vsnprintf vsprintf fileno "
    "isalnum isalpha isblank iscntrl isdigit isgraph islower isprint ispunct isspace "
    "isupper isxdigit tolower toupper clock difftime mktime time asctime ctime gmtime "
    "localtime strftime access alarm chdir close dup dup2 execv fork getpid pipe read "
    "sleep sync unlink write select poll".split()
)

MATH_FUNCTIONS = frozenset(
    # C99 <math.h>, its classification macros, and glibc's GNU extras
    "acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2 "
    "expm1 exp10 pow10 frexp ilogb ldexp log log10 log1p log2 logb modf scalb "
    "scalbn scalbln cbrt fabs hypot pow sqrt erf erfc lgamma tgamma gamma ceil "
    "floor nearbyint rint lrint llrint round lround llround trunc fmod remainder "
    "remquo drem copysign nan nextafter nexttoward fdim fmax fmin fma sincos "
    "significand j0 j1 jn y0 y1 yn finite fpclassify isfinite isinf isnan "
    "isnormal signbit isgreater isgreaterequal isless islessequal islessgreater "
    "isunordered".split()
)
"""Also taken with an `f` or `l` suffix (`expf`, `y0l`)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

RESERVED_PATTERN = re.compile(r"[A-Z]([A-Z0-9_]|\Z)|Py|PY|gradc_|omp_|pthread_|.*_t\Z")
"""Names that belong to someone else by convention, so that no list of them
is ever complete: macro style (`EOF`, `M_PI`, `PRIdMAX`, `X`: an upper-case
letter not followed by a lower-case one), the Python C API (`Py_None` is a
macro in the cffi build), gradc's own helpers and vector types
(`gradc_tanhf`, `gradc_f32x16`), OpenMP and pthreads, and POSIX's `_t`
typedefs (`ssize_t`, `pid_t`)."""


def is_reserved(name: str) -> bool:
    """Keywords, everything the headers around generated code declare, and
    the reserved name spaces (RESERVED_PATTERN)."""
    if name in C_KEYWORDS or name in LIBRARY_NAMES or name in LIBC_FUNCTIONS or name in MATH_FUNCTIONS:
        return True
    if RESERVED_PATTERN.match(name):
        return True
    return is_math_function(name)


GRADC_PREFIX = "gradc_"


def show_symbol(name: str) -> str:
    """`@name` as MLIR spells it, quoted and escaped (`@"f\\n;"`) unless bare,
    so that a hostile name stays on one line of a diagnostic."""
    if re.fullmatch(r"[A-Za-z_][\w$.-]*", name, re.ASCII):
        return f"@{name}"
    return "@" + json.dumps(name)


def is_math_function(name: str) -> bool:
    """A <math.h> function (`exp`, `expf`, `expl`): what a `c.call` may call
    besides the module's own functions."""
    return name in MATH_FUNCTIONS or (name[-1:] in ("f", "l") and name[:-1] in MATH_FUNCTIONS)


def is_c_identifier(name: str) -> bool:
    """True for names we can print as-is: valid, not reserved, no leading `_`."""
    return (
        _IDENTIFIER.match(name) is not None
        and not name.startswith("_")
        and not is_reserved(name)
    )


def c_identifier(name: str) -> str:
    """Turn any symbol or SSA name into a valid C identifier, deterministically.

    Invalid characters become `_`; names that start with a digit or `_`, or that
    are C keywords or library names, get the prefix `g_` (`2x` -> `g_2x`,
    `int` -> `g_int`, `my-func` -> `my_func`). The result always passes
    `is_c_identifier`."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if is_c_identifier(cleaned):
        return cleaned
    prefixed = "g_" + cleaned
    # A trailing `_` ends what the prefix cannot (`size_t` -> `g_size_t_`).
    return prefixed if is_c_identifier(prefixed) else prefixed + "_"


# ---------------------------------------------------------------------------
# Types


@irdl_attr_definition
class SizeType(ParametrizedAttribute, TypeAttribute):
    """`!c.size_t`: what `NAME_work_size` returns."""

    name = "c.size_t"


@irdl_attr_definition
class PtrType(ParametrizedAttribute, TypeAttribute):
    """A flat C pointer, spelled like its C declaration:
    `!c.ptr<const f32 restrict>` is `const float *restrict`, and
    `!c.ptr<void restrict>` is `void *restrict`."""

    name = "c.ptr"
    pointee: Attribute
    is_const: IntAttr
    is_restrict: IntAttr

    def __init__(self, pointee: Attribute, const: bool = False, restrict: bool = False):
        super().__init__(pointee, IntAttr(int(const)), IntAttr(int(restrict)))

    @property
    def const(self) -> bool:
        return bool(self.is_const.data)

    @property
    def restrict(self) -> bool:
        return bool(self.is_restrict.data)

    @property
    def is_void(self) -> bool:
        return isinstance(self.pointee, NoneType)

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            if self.const:
                printer.print_string("const ")
            if self.is_void:
                printer.print_string("void")
            else:
                printer.print_attribute(self.pointee)
            if self.restrict:
                printer.print_string(" restrict")

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            const = parser.parse_optional_keyword("const") is not None
            if parser.parse_optional_keyword("void") is not None:
                pointee: Attribute = NoneType()
            else:
                pointee = parser.parse_type()
            restrict = parser.parse_optional_keyword("restrict") is not None
        return (pointee, IntAttr(int(const)), IntAttr(int(restrict)))

    def verify(self) -> None:
        if not self.is_void and not is_scalar_type(self.pointee):
            raise VerifyException(
                f"c.ptr: cannot point to {self.pointee}; expected a C scalar type or void"
            )


def is_scalar_type(typ: Attribute) -> bool:
    """The builtin types with a C spelling (see `c_type_name` in the printer)."""
    if isinstance(typ, IntegerType):
        return typ.width.data in (1, 8, 16, 32, 64)
    return isinstance(typ, Float32Type | Float64Type | IndexType | SizeType)


def _check_scalar(op: Operation, typ: Attribute) -> None:
    if not is_scalar_type(typ):
        raise VerifyException(
            f"{op.name}: expected a C scalar type (f32, f64, i1, i8..i64, index, "
            f"!c.size_t), got {typ}"
        )


# ---------------------------------------------------------------------------
# Functions and statements


@irdl_op_definition
class FuncOp(IRDLOperation):
    """A C function; entry block arguments are its parameters.

    `c.func static inline @name(%a: f32) -> f32 { ... }`. A function with a
    result must end with `c.return`; no result means `void`."""

    name = "c.func"
    sym_name = prop_def(StringAttr)
    function_type = prop_def(FunctionType)
    is_static = opt_prop_def(UnitAttr, prop_name="static")
    is_inline = opt_prop_def(UnitAttr, prop_name="inline")
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

    @classmethod
    def parse(cls, parser: Parser) -> FuncOp:
        static = parser.parse_optional_keyword("static") is not None
        inline = parser.parse_optional_keyword("inline") is not None
        name = parser.parse_symbol_name().data
        args = parser.parse_comma_separated_list(
            parser.Delimiter.PAREN, lambda: parser.parse_argument(expect_type=True)
        )
        result = parser.parse_type() if parser.parse_optional_punctuation("->") else None
        attrs = parser.parse_optional_attr_dict_with_keyword()
        body = parser.parse_region(args)
        op = cls(name, [a.type for a in args], result, body, static, inline)
        if attrs is not None:
            op.attributes.update(attrs.data)
        return op

    def print(self, printer: Printer) -> None:
        if self.is_static is not None:
            printer.print_string(" static")
        if self.is_inline is not None:
            printer.print_string(" inline")
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


@irdl_op_definition
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


@irdl_op_definition
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


PRAGMA_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9_ (),:+\-*.=]*\Z")
"""What a `c.pragma` may say (`omp parallel for num_threads(2) schedule(static)`,
`GCC ivdep`): no `/` (comments), `\\` (line continuation), quotes, `#`,
control characters or non-ASCII, so the text stays one inert line."""


@irdl_op_definition
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


@irdl_op_definition
class ThreadNumOp(IRDLOperation):
    """`%t = c.thread_num : index`: the OpenMP thread number in a parallel
    loop (`omp_get_thread_num()`, 0 when built without OpenMP)."""

    name = "c.thread_num"
    result = result_def(IndexType)
    assembly_format = "attr-dict `:` type($result)"

    def __init__(self):
        super().__init__(result_types=[IndexType()])


@irdl_op_definition
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


@irdl_op_definition
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


@irdl_op_definition
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


@irdl_op_definition
class MicrokernelOp(MicrokernelParameters):
    """A register tile of a matrix product over flat pointers, as
    `loops.microkernel` defines it (same properties):

        c.microkernel %a[%i], %b[%j], %c[%o] {m = 8 : i64, n = 32 : i64, ...}
            : !c.ptr<f32 restrict>, !c.ptr<f32 restrict>, !c.ptr<f32 restrict>

    is `gradc_microkernel_f32x16_8x32x...(a + i, b + j, c + o);`, the function
    holding the m x n accumulators in vector registers through the k loop."""

    name = "c.microkernel"
    a = operand_def(PtrType)
    a_offset = operand_def(IndexType)
    b = operand_def(PtrType)
    b_offset = operand_def(IndexType)
    c = operand_def(PtrType)
    c_offset = operand_def(IndexType)

    @property
    def element_type(self) -> Attribute:
        typ = self.c.type
        assert isinstance(typ, PtrType)
        return typ.pointee

    def verify_(self) -> None:
        _check_float_pointers(self, (self.a, self.b), self.c)
        self.verify_parameters()


@irdl_op_definition
class PackOp(PackParameters):
    """A copy of a strided block into panels over flat pointers, as
    `loops.pack` defines it (same properties): `c.pack %a[%i] into %p[%j]
    {depth = 256 : i64, ...}` is `gradc_pack_f32_...(a + i, p + j);`."""

    name = "c.pack"
    src = operand_def(PtrType)
    src_offset = operand_def(IndexType)
    dst = operand_def(PtrType)
    dst_offset = operand_def(IndexType)

    @property
    def element_type(self) -> Attribute:
        typ = self.dst.type
        assert isinstance(typ, PtrType)
        return typ.pointee

    def verify_(self) -> None:
        _check_float_pointers(self, (self.src,), self.dst)
        self.verify_parameters()


def _check_float_pointers(op: Operation, reads: Sequence[SSAValue], written: SSAValue) -> None:
    """All pointers point to one float type, and `written` is not const."""
    types = [v.type for v in (*reads, written)]
    assert all(isinstance(t, PtrType) for t in types)
    pointees = {t.pointee for t in types}  # type: ignore[union-attr]
    if len(pointees) != 1 or not isinstance(next(iter(pointees)), Float32Type | Float64Type):
        raise VerifyException(
            f"{op.name}: operands must point to one of f32, f64; got "
            f"{', '.join(str(t) for t in types)}"
        )
    if written.type.const:  # type: ignore[union-attr]
        raise VerifyException(f"{op.name}: cannot write through {written.type}")


def _check_access(op: Operation, ptr: SSAValue, index: SSAValue, value_type: Attribute) -> None:
    typ = ptr.type
    assert isinstance(typ, PtrType)
    if typ.is_void:
        raise VerifyException(f"{op.name}: cannot index a void pointer")
    if not isinstance(index.type, IndexType):
        raise VerifyException(f"{op.name}: the index must be `index`, got {index.type}")
    if value_type != typ.pointee:
        raise VerifyException(f"{op.name}: value type {value_type} does not match {typ}")


@irdl_op_definition
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


def _parse_element(parser: Parser) -> tuple[UnresolvedOperand, UnresolvedOperand, dict[str, Attribute], PtrType]:
    """`%p[%i] {attrs} : !c.ptr<...>`, the element access of c.load and c.store."""
    ptr = parser.parse_unresolved_operand()
    parser.parse_punctuation("[")
    index = parser.parse_unresolved_operand()
    parser.parse_punctuation("]")
    attrs = parser.parse_optional_attr_dict()
    parser.parse_punctuation(":")
    typ = parser.parse_type()
    if not isinstance(typ, PtrType):
        parser.raise_error(f"expected a !c.ptr type, got {typ}")
    return ptr, index, attrs, typ


def _print_element(printer: Printer, op: Operation, ptr: SSAValue, index: SSAValue) -> None:
    printer.print_string(" ")
    printer.print_operand(ptr)
    printer.print_string("[")
    printer.print_operand(index)
    printer.print_string("]")
    printer.print_op_attributes(op.attributes)
    printer.print_string(" : ")
    printer.print_attribute(ptr.type)


# ---------------------------------------------------------------------------
# Expressions


@irdl_op_definition
class LoadOp(IRDLOperation):
    """`%v = c.load %p[%i] : !c.ptr<f32>` is `p[i]`."""

    name = "c.load"
    ptr = operand_def(PtrType)
    index = operand_def(IndexType)
    result = result_def()
    traits = traits_def(MemoryReadEffect())

    def __init__(self, ptr: SSAValue | Operation, index: SSAValue | Operation):
        ptr = SSAValue.get(ptr)
        assert isinstance(ptr.type, PtrType)
        super().__init__(operands=[ptr, index], result_types=[ptr.type.pointee])

    def verify_(self) -> None:
        _check_access(self, self.ptr, self.index, self.result.type)

    @classmethod
    def parse(cls, parser: Parser) -> LoadOp:
        ptr, index, attrs, typ = _parse_element(parser)
        op = cls(parser.resolve_operand(ptr, typ), parser.resolve_operand(index, IndexType()))
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        _print_element(printer, self, self.ptr, self.index)


@irdl_op_definition
class LiteralOp(IRDLOperation):
    """A constant: `c.literal 1.500000e+00 : f32`, `c.literal 64 : index`,
    `c.literal true`."""

    name = "c.literal"
    value = prop_def(IntegerAttr | FloatAttr)
    result = result_def()
    traits = traits_def(Pure())

    def __init__(self, value: IntegerAttr | FloatAttr):
        super().__init__(properties={"value": value}, result_types=[value.type])

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)
        if self.value.type != self.result.type:
            raise VerifyException(
                f"c.literal: value type {self.value.type} does not match {self.result.type}"
            )

    @classmethod
    def parse(cls, parser: Parser) -> LiteralOp:
        value = parser.parse_attribute()
        if not isinstance(value, IntegerAttr | FloatAttr):
            parser.raise_error(f"expected an integer or float literal, got {value}")
        op = cls(value)
        op.attributes.update(parser.parse_optional_attr_dict())
        return op

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_attribute(self.value)
        printer.print_op_attributes(self.attributes)


class BinaryExprOp(IRDLOperation, ABC):
    """`lhs OP rhs` on two values of one scalar type."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(T)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        super().__init__(operands=[lhs, rhs], result_types=[SSAValue.get(lhs).type])

    def verify_(self) -> None:
        typ = self.result.type
        _check_scalar(self, typ)
        if typ == i1:
            raise VerifyException(f"{self.name}: arithmetic on i1 is not allowed; use c.and/c.or")


class LogicalOp(BinaryExprOp, ABC):
    """`lhs && rhs` / `lhs || rhs` on i1."""

    def verify_(self) -> None:
        if self.result.type != i1:
            raise VerifyException(f"{self.name}: operands must be i1, got {self.result.type}")


@irdl_op_definition
class AddOp(BinaryExprOp):
    name = "c.add"
    OPERATOR: ClassVar[str] = "+"


@irdl_op_definition
class SubOp(BinaryExprOp):
    name = "c.sub"
    OPERATOR: ClassVar[str] = "-"


@irdl_op_definition
class MulOp(BinaryExprOp):
    name = "c.mul"
    OPERATOR: ClassVar[str] = "*"


@irdl_op_definition
class DivOp(BinaryExprOp):
    name = "c.div"
    OPERATOR: ClassVar[str] = "/"


@irdl_op_definition
class AndOp(LogicalOp):
    name = "c.and"
    OPERATOR: ClassVar[str] = "&&"


@irdl_op_definition
class OrOp(LogicalOp):
    name = "c.or"
    OPERATOR: ClassVar[str] = "||"


class CompareOp(IRDLOperation, ABC):
    """`lhs OP rhs` giving a bool. C's `<`, `<=`, `>`, `>=`, `==` are false when
    an operand is NaN; `!=` is true."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    lhs = operand_def(T)
    rhs = operand_def(T)
    result = result_def(i1)
    assembly_format = "$lhs `,` $rhs attr-dict `:` type($lhs)"
    traits = traits_def(Pure())

    def __init__(self, lhs: SSAValue | Operation, rhs: SSAValue | Operation):
        super().__init__(operands=[lhs, rhs], result_types=[i1])

    def verify_(self) -> None:
        _check_scalar(self, self.lhs.type)


@irdl_op_definition
class EqOp(CompareOp):
    name = "c.eq"
    OPERATOR: ClassVar[str] = "=="


@irdl_op_definition
class NeOp(CompareOp):
    name = "c.ne"
    OPERATOR: ClassVar[str] = "!="


@irdl_op_definition
class LtOp(CompareOp):
    name = "c.lt"
    OPERATOR: ClassVar[str] = "<"


@irdl_op_definition
class LeOp(CompareOp):
    name = "c.le"
    OPERATOR: ClassVar[str] = "<="


@irdl_op_definition
class GtOp(CompareOp):
    name = "c.gt"
    OPERATOR: ClassVar[str] = ">"


@irdl_op_definition
class GeOp(CompareOp):
    name = "c.ge"
    OPERATOR: ClassVar[str] = ">="


class UnaryExprOp(IRDLOperation, ABC):
    """`OP operand`, same type in and out."""

    OPERATOR: ClassVar[str]
    T: ClassVar = VarConstraint("T", AnyAttr())
    operand = operand_def(T)
    result = result_def(T)
    assembly_format = "$operand attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, operand: SSAValue | Operation):
        super().__init__(operands=[operand], result_types=[SSAValue.get(operand).type])


@irdl_op_definition
class NegOp(UnaryExprOp):
    name = "c.neg"
    OPERATOR: ClassVar[str] = "-"

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)
        if self.result.type == i1:
            raise VerifyException("c.neg: cannot negate an i1; use c.not")


@irdl_op_definition
class NotOp(UnaryExprOp):
    name = "c.not"
    OPERATOR: ClassVar[str] = "!"

    def verify_(self) -> None:
        if self.result.type != i1:
            raise VerifyException(f"c.not: operand must be i1, got {self.result.type}")


@irdl_op_definition
class SelectOp(IRDLOperation):
    """`c.select %c, %a, %b : f32` is `c ? a : b`."""

    name = "c.select"
    T: ClassVar = VarConstraint("T", AnyAttr())
    cond = operand_def(i1)
    if_true = operand_def(T)
    if_false = operand_def(T)
    result = result_def(T)
    assembly_format = "$cond `,` $if_true `,` $if_false attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, cond: SSAValue | Operation, if_true: SSAValue | Operation, if_false: SSAValue | Operation):
        super().__init__(
            operands=[cond, if_true, if_false], result_types=[SSAValue.get(if_true).type]
        )

    def verify_(self) -> None:
        _check_scalar(self, self.result.type)


@irdl_op_definition
class CastOp(IRDLOperation):
    """`c.cast %v : f32 to f64` is `(double)v`."""

    name = "c.cast"
    value = operand_def()
    result = result_def()
    assembly_format = "$value attr-dict `:` type($value) `to` type($result)"
    traits = traits_def(Pure())

    def __init__(self, value: SSAValue | Operation, to: Attribute):
        super().__init__(operands=[value], result_types=[to])

    def verify_(self) -> None:
        _check_scalar(self, self.value.type)
        _check_scalar(self, self.result.type)


@irdl_op_definition
class CallOp(IRDLOperation):
    """A call of a C function (libm or a helper in the module):
    `%y = c.call @expf(%x) : (f32) -> f32`."""

    name = "c.call"
    callee = prop_def(SymbolRefAttr)
    args = var_operand_def()
    result = result_def()
    assembly_format = "$callee `(` $args `)` attr-dict `:` functional-type($args, $result)"
    traits = traits_def(Pure())

    def __init__(self, callee: str, args: Sequence[SSAValue | Operation], result: Attribute):
        super().__init__(
            operands=[list(args)],
            properties={"callee": SymbolRefAttr(callee)},
            result_types=[result],
        )

    def verify_(self) -> None:
        name = self.callee.string_value()
        if not is_math_function(name) and not isinstance(SymbolTable.lookup_symbol(self, name), FuncOp):
            raise VerifyException(
                f"c.call: @{name} is neither a <math.h> function nor a c.func of this module"
            )
        for arg in self.args:
            _check_scalar(self, arg.type)
        _check_scalar(self, self.result.type)


GRADC_MATH_FUNCTIONS = ("exp", "log", "tanh")
"""The functions `c.math` computes (gradc's own C, see gradc.backend.vector_math)."""


@irdl_op_definition
class MathOp(IRDLOperation):
    """`%y = c.math "tanh"(%x) : f32` calls gradc's branch-free implementation
    of a math function (`gradc_tanhf`), which the printer defines in the file;
    unlike a `c.call` of libm, a loop over it vectorizes."""

    name = "c.math"
    T: ClassVar = VarConstraint("T", AnyAttr())
    function = prop_def(StringAttr)
    x = operand_def(T)
    result = result_def(T)
    assembly_format = "$function `(` $x `)` attr-dict `:` type($result)"
    traits = traits_def(Pure())

    def __init__(self, function: str, x: SSAValue | Operation):
        super().__init__(
            operands=[x], properties={"function": StringAttr(function)},
            result_types=[SSAValue.get(x).type],
        )

    def verify_(self) -> None:
        if self.function.data not in GRADC_MATH_FUNCTIONS:
            raise VerifyException(
                f"c.math: unknown function \"{self.function.data}\"; expected one of "
                + ", ".join(GRADC_MATH_FUNCTIONS)
            )
        if not isinstance(self.result.type, Float32Type | Float64Type):
            raise VerifyException(f"c.math: expected f32 or f64, got {self.result.type}")


@irdl_op_definition
class ScheduleOp(ScheduleSpec):
    """One phase of a checkpoint schedule (what `autodiff.schedule` becomes;
    same spelling, same regions, here holding `c` statements). The printer
    writes its table of actions as a `static const` array, regenerated from
    the spec, and a loop over it with a switch on the action:

        static const int32_t s[4 * N] = {kind, first, stop, slot, ...};
        for (int64_t a = 0; a < N; ++a) switch (s[4 * a]) { case 0: ... }
    """

    name = "c.schedule"
    traits = traits_def(NoTerminator())

    def __init__(self, spec: tuple[str, str, int, int, int], regions: Sequence[Region] | None = None):
        super().__init__(properties=self.spec_properties(*spec),
                         regions=list(regions) if regions is not None else schedule_regions())

    def verify_(self) -> None:
        self.verify_spec()

    @classmethod
    def parse(cls, parser: Parser) -> ScheduleOp:
        props, attrs, regions = cls.parse_spec(parser)
        op = cls.create(properties=props, regions=regions)
        op.attributes.update(attrs)
        return op

    def print(self, printer: Printer) -> None:
        self.print_spec(printer)


C = Dialect(
    "c",
    [
        ScheduleOp,
        FuncOp,
        ReturnOp,
        ForOp,
        PragmaOp,
        ThreadNumOp,
        ArrayOp,
        StaticArrayOp,
        ByteOffsetOp,
        StoreOp,
        MicrokernelOp,
        PackOp,
        LoadOp,
        LiteralOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        AndOp,
        OrOp,
        EqOp,
        NeOp,
        LtOp,
        LeOp,
        GtOp,
        GeOp,
        NegOp,
        NotOp,
        SelectOp,
        CastOp,
        CallOp,
        MathOp,
    ],
    [PtrType, SizeType],
)
