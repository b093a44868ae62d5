"""lower-loops-to-c: loop nests over memref buffers become `c` functions.

Expects: every module-level `func.func` is loops-level: static `memref`
arguments (inputs, then outputs; `loops.num_inputs` says where inputs end),
no results, and a body of `loops`, `arith` and `math` ops (and `autodiff`
push, pop and schedule) on C scalar types.

Guarantees: each function NAME (sanitized to a C identifier) becomes
  c.func @NAME(const T *restrict in0, ..., T *restrict out0, ..., void *restrict work) -> i32
  c.func @NAME_work_size() -> !c.size_t
preceded in the module by the `static inline` helpers the bodies call. Every
memref is a flat row-major pointer (`%b[%i, %j]` on memref<MxN> is
`b[i * N + j]`, constant index math folded); workspace buffers sit at their
planned offsets in `work` (unplanned: one after the other, 64-byte aligned).
Afterwards no `loops`, `arith`, `math` or `func` op and no memref type is
left; anything that cannot be lowered fails the pass, naming the op.

Options: `math` ("gradc"): `math.exp`, `math.log` and `math.tanh` become
`c.math`, gradc's branch-free C (gradc.backend.vector_math) that loops
vectorize over; "libm" makes them libm calls like the other `math` ops.

The ABI, buffers and `restrict`, NaN rules, OpenMP pragmas, untiled
matmuls, tapes and schedules: docs/lowering.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from math import isqrt, prod
from typing import Any, NoReturn

from xdsl.context import Context
from xdsl.dialects import arith, func, math
from xdsl.dialects.builtin import (
    Float32Type,
    Float64Type,
    FloatAttr,
    IndexType,
    IntegerAttr,
    IntegerType,
    MemRefType,
    ModuleOp,
    NoneType,
    Signedness,
    i1,
    i32,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import PassFailedException

from gradc.dialects import autodiff, c, loops
from gradc.passes import MATH_CHOICES

WORKSPACE_ALIGN = loops.WORKSPACE_ALIGN
OPENMP_MACRO = "_OPENMP"
"""Parallel loops' pragmas are behind `#ifdef _OPENMP`: without -fopenmp the
same source compiles to the serial loop, without unknown-pragma warnings."""
WORK_SIZE_SUFFIX = "_work_size"

FLOAT_BINARY: dict[type[Operation], type[c.BinaryExprOp]] = {
    arith.AddfOp: c.AddOp,
    arith.SubfOp: c.SubOp,
    arith.MulfOp: c.MulOp,
    arith.DivfOp: c.DivOp,
}
BOOL_BINARY: dict[type[Operation], type[c.BinaryExprOp | c.CompareOp]] = {
    arith.AndIOp: c.AndOp,
    arith.OrIOp: c.OrOp,
    arith.XOrIOp: c.NeOp,
}
INT_BITWISE: dict[type[Operation], type[c.BitwiseOp]] = {
    arith.AndIOp: c.BitAndOp,
    arith.OrIOp: c.BitOrOp,
    arith.XOrIOp: c.BitXorOp,
}
LIBM: dict[type[Operation], str] = {
    math.ExpOp: "exp", math.Exp2Op: "exp2", math.ExpM1Op: "expm1",
    math.LogOp: "log", math.Log2Op: "log2", math.Log10Op: "log10", math.Log1pOp: "log1p",
    math.SinOp: "sin", math.CosOp: "cos", math.TanOp: "tan",
    math.AsinOp: "asin", math.AcosOp: "acos", math.AtanOp: "atan", math.Atan2Op: "atan2",
    math.SinhOp: "sinh", math.CoshOp: "cosh", math.TanhOp: "tanh",
    math.AsinhOp: "asinh", math.AcoshOp: "acosh", math.AtanhOp: "atanh",
    math.SqrtOp: "sqrt", math.CbrtOp: "cbrt", math.ErfOp: "erf", math.AbsFOp: "fabs",
    math.PowFOp: "pow", math.FloorOp: "floor", math.CeilOp: "ceil", math.TruncOp: "trunc",
    math.RoundOp: "round", math.RoundEvenOp: "rint", math.CopySignOp: "copysign", math.FmaOp: "fma",
    arith.MaxnumfOp: "fmax", arith.MinnumfOp: "fmin", loops.FmodOp: "fmod",
}
"""Ops that are one C99 libm call (`expf` for f32, `exp` for f64)."""

GRADC_MATH: dict[type[Operation], str] = {math.ExpOp: "exp", math.LogOp: "log", math.TanhOp: "tanh"}
"""Ops that become a `c.math` (gradc's vectorizable C) unless `math=libm`."""

NAN_PROPAGATING: dict[type[Operation], tuple[str, type[c.CompareOp]]] = {
    arith.MaximumfOp: ("maximum", c.GtOp),
    arith.MinimumfOp: ("minimum", c.LtOp),
}
"""libm's fmax/fmin drop NaNs; arith.maximumf/minimumf (like numpy) keep them,
and where the operands compare equal they give the second, as numpy does
(maximum(-0.0, 0.0) is 0.0, so relu(-0.0) is +0.0)."""

CASTS = (arith.ExtFOp, arith.TruncFOp, arith.SIToFPOp, arith.IndexCastOp,
         arith.ExtSIOp, arith.ExtUIOp, arith.TruncIOp)

WRAPPING: dict[type[Operation], type[c.BinaryExprOp]] = {
    arith.AddiOp: c.AddOp, arith.SubiOp: c.SubOp, arith.MuliOp: c.MulOp,
}
"""Integer (i32, i64) arithmetic, done in the unsigned type of the same
width and converted back: it wraps, as NumPy's does, where signed overflow
in C is undefined."""

INT_EXTREMUM: dict[type[Operation], type[c.CompareOp]] = {arith.MaxSIOp: c.GtOp, arith.MinSIOp: c.LtOp}

CMPI = {"eq": c.EqOp, "ne": c.NeOp, "slt": c.LtOp, "sle": c.LeOp, "sgt": c.GtOp, "sge": c.GeOp}

# cmpf predicates. C's <, <=, >, >=, == are ordered (false on NaN), != is
# unordered; the rest are built from those.
ORDERED = {"oeq": c.EqOp, "ogt": c.GtOp, "oge": c.GeOp, "olt": c.LtOp, "ole": c.LeOp, "une": c.NeOp}
UNORDERED_AS_NOT = {"ugt": c.LeOp, "uge": c.LtOp, "ult": c.GeOp, "ule": c.GtOp}

NUMPY_DTYPES = {"f32": "float32", "f64": "float64", "i1": "bool", "index": "int64",
                "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64"}


def _small_exponent(value: SSAValue) -> int | None:
    """2, 3 or 4 when `value` is that float constant, else None."""
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, FloatAttr):
        k = owner.value.value.data
        if k in (2.0, 3.0, 4.0):
            return int(k)
    return None


def element_bytes(typ: Attribute) -> int:
    if isinstance(typ, IndexType):
        return 8
    if isinstance(typ, IntegerType):
        return max(1, typ.width.data // 8)
    if isinstance(typ, Float32Type):
        return 4
    if isinstance(typ, Float64Type):
        return 8
    raise ValueError(f"no C element type for {typ}")


def numpy_dtype(typ: Attribute) -> str:
    """The NumPy dtype name whose storage matches the C element type."""
    name = str(typ)
    if name not in NUMPY_DTYPES:
        raise ValueError(f"no NumPy dtype for {typ}")
    return NUMPY_DTYPES[name]


def _align(n: int) -> int:
    return (n + WORKSPACE_ALIGN - 1) // WORKSPACE_ALIGN * WORKSPACE_ALIGN


def num_inputs(f: func.FuncOp) -> int:
    attr = f.attributes.get(loops.NUM_INPUTS_ATTR)
    if not isinstance(attr, IntegerAttr):
        raise PassFailedException(
            f"lower-loops-to-c: func.func @{f.sym_name.data} has no "
            f"'{loops.NUM_INPUTS_ATTR}' attribute; run lower-array-to-loops first"
        )
    n = attr.value.data
    if not 0 <= n <= len(f.args):
        raise PassFailedException(
            f"lower-loops-to-c: @{f.sym_name.data}: {loops.NUM_INPUTS_ATTR} = {n} "
            f"but the function has {len(f.args)} arguments"
        )
    return n


def abi_signature(
    f: func.FuncOp,
) -> tuple[list[tuple[tuple[int, ...], str]], list[tuple[tuple[int, ...], str]]]:
    """(inputs, outputs) of a loops-level function as (shape, numpy dtype) pairs:
    what `gradc.backend.runtime.CompiledFunction` needs to call the C function."""
    n = num_inputs(f)
    specs = []
    for arg in f.args:
        typ = arg.type
        if not isinstance(typ, MemRefType):
            raise PassFailedException(
                f"lower-loops-to-c: @{f.sym_name.data}: argument type {typ} is not a memref"
            )
        specs.append((tuple(typ.get_shape()), numpy_dtype(typ.get_element_type())))
    return specs[:n], specs[n:]


class _Helpers:
    """The `static inline` functions the lowered bodies call, made once each."""

    def __init__(self) -> None:
        self.funcs: dict[str, c.FuncOp] = {}

    def nan_propagating(self, kind: str, compare: type[c.CompareOp], typ: Attribute) -> str:
        """`(a > b || a != a) ? a : b`: numpy.maximum's rule (a NaN wins,
        equal operands give b)."""
        name = f"gradc_{kind}_{typ}"
        if name not in self.funcs:
            helper = c.FuncOp(name, [typ, typ], typ, static=True, inline=True)
            a, b = helper.args
            a.name_hint, b.name_hint = "a", "b"
            ordered = compare(a, b)
            a_is_nan = c.NeOp(a, a)
            keep_a = c.OrOp(ordered, a_is_nan)
            pick = c.SelectOp(keep_a, a, b)
            helper.body.block.add_ops([ordered, a_is_nan, keep_a, pick, c.ReturnOp(pick)])
            self.funcs[name] = helper
        return name


NAIVE_STRIP = 64
"""Columns of C a naive matmul sums together in a local array (at most 512
bytes; made after stack-alloc, so not in `loops.stack_bytes`: it is part of
stack-alloc's RESERVE)."""
NAIVE_DEPTH = 256
"""Products a naive matmul sums per element before adding them to C: this
many, or sqrt(k) when more (which balances the two runs of additions)."""


def naive_matmul(op: loops.MatmulOp) -> Block:
    """The reference loop nest of a `loops.matmul`, at the loops level: per
    row i of each batch, zero the row of C (unless accumulating); then, per
    strip of NAIVE_STRIP columns, per depth block of NAIVE_DEPTH, sum
    op(A)[i, k] * op(B)[k, strip] over the block into a local array (the
    inner loop walks it, and B unless it is transposed, along rows) and add
    that to C's strip, so each element of C takes one addition per depth
    block (its error grows like depth + k / depth, as in a blocked BLAS);
    then the epilogue, if any, over the finished row."""
    batch, m, n, k = op.dims
    element = op.out.type.get_element_type()
    zero = arith.ConstantOp(FloatAttr(0.0, element), element)
    nest = Block([zero])

    def emit(new: Operation, at: InsertPoint) -> SSAValue | None:
        Rewriter.insert_op(new, at)
        return new.results[0] if new.results else None

    def loop(upper: int, at: InsertPoint) -> tuple[SSAValue, InsertPoint]:
        new = loops.ForOp(0, upper)
        Rewriter.insert_op(new, at)
        return new.induction_var, InsertPoint.before(new.body.block.last_op)

    def blocks(total: int, size: int, at: InsertPoint,
               body: Callable[[SSAValue | None, int, InsertPoint], None]) -> None:
        """`body(start, width, at)` for blocks of `size` covering `total`
        (start None: 0), the full ones in one loop."""
        full, rest = divmod(total, size)
        if full == 1:
            body(None, size, at)
        elif full > 1:
            block, inner = loop(full, at)
            step = emit(arith.ConstantOp(IntegerAttr(size, IndexType()), IndexType()), inner)
            body(emit(arith.MuliOp(block, step), inner), size, inner)
        if rest:
            start = emit(arith.ConstantOp(IntegerAttr(full * size, IndexType()), IndexType()), at)
            body(start, rest, at)

    def offset(start: SSAValue | None, iv: SSAValue, at: InsertPoint) -> SSAValue:
        return iv if start is None else emit(arith.AddiOp(start, iv), at)

    at = InsertPoint.at_end(nest)
    outer = []
    for size in (*batch, m):
        iv, at = loop(size, at)
        outer.append(iv)
    *b, i = outer
    row = at
    if op.accumulate is None:
        j, inner = loop(n, at)
        emit(loops.StoreOp(zero.result, op.out, [*b, i, j]), inner)
    depth = max(NAIVE_DEPTH, isqrt(max(k - 1, 0)) + 1)
    one_block = k <= depth  # no local sums needed: C takes at most `depth` additions
    sums = loops.AllocOp(MemRefType(element, [min(n, NAIVE_STRIP)]), "stack")

    def strip(j0: SSAValue | None, width: int, at: InsertPoint) -> None:
        def depth_block(p0: SSAValue | None, depth: int, at: InsertPoint) -> None:
            if not one_block:
                j, inner = loop(width, at)
                emit(loops.StoreOp(zero.result, sums.result, [j]), inner)
            pp, at_p = loop(depth, at)
            p = offset(p0, pp, at_p)
            a = emit(loops.LoadOp(op.lhs, [*b, p, i] if op.transpose_a is not None else [*b, i, p]), at_p)
            j, inner = loop(width, at_p)
            col = offset(j0, j, inner)
            b_value = emit(loops.LoadOp(op.rhs, [*b, col, p] if op.transpose_b is not None else [*b, p, col]), inner)
            target, at_j = (op.out, [*b, i, col]) if one_block else (sums.result, [j])
            partial = emit(arith.AddfOp(emit(loops.LoadOp(target, at_j), inner),
                                        emit(arith.MulfOp(a, b_value), inner)), inner)
            emit(loops.StoreOp(partial, target, at_j), inner)
            if one_block:
                return
            j, inner = loop(width, at)
            col = offset(j0, j, inner)
            total = emit(arith.AddfOp(emit(loops.LoadOp(op.out, [*b, i, col]), inner),
                                      emit(loops.LoadOp(sums.result, [j]), inner)), inner)
            emit(loops.StoreOp(total, op.out, [*b, i, col]), inner)

        blocks(k, depth, at, depth_block)

    if one_block:
        strip(None, n, at)
    else:
        emit(sums, at)
        blocks(n, NAIVE_STRIP, at, strip)
    if op.epilogue_block is not None:
        j, inner = loop(n, row)
        value = emit(loops.LoadOp(op.out, [*b, i, j]), inner)
        emit(loops.StoreOp(op.apply_epilogue(value, [*b, i, j], inner), op.out, [*b, i, j]), inner)
    return nest


def tape_copy(op: autodiff.TapeCopyOp) -> Block:
    """The loops-level copy of one tape entry: entry[idx] to tape[slot, idx]
    (push) or back (pop)."""
    typ = op.entry.type
    assert isinstance(typ, MemRefType)
    nest = Block()
    at = InsertPoint.at_end(nest)
    indices: list[SSAValue] = []
    for size in typ.get_shape():
        loop = loops.ForOp(0, size)
        Rewriter.insert_op(loop, at)
        indices.append(loop.induction_var)
        at = InsertPoint.before(loop.body.block.last_op)
    entry, slot = (op.entry, indices), (op.tape, [op.slot, *indices])
    (src, src_idx), (dst, dst_idx) = (entry, slot) if isinstance(op, autodiff.PushOp) else (slot, entry)
    value = loops.LoadOp(src, src_idx)
    Rewriter.insert_op(value, at)
    Rewriter.insert_op(loops.StoreOp(value, dst, dst_idx), at)
    return nest


def shared_storage(f: func.FuncOp) -> set[loops.AllocOp] | None:
    """The planned workspace buffers whose bytes overlap another's (None when
    `f` is unplanned). Their pointers are not `restrict`: C promises nothing
    about two restrict pointers to one object in one function, even when
    their accesses never overlap in time, and an in-place loop reads and
    writes the same element through two of them."""
    allocs = [a for a in f.walk() if isinstance(a, loops.AllocOp) and a.byte_offset is not None]
    if not allocs:
        return None
    ranges = []
    for a in allocs:
        typ = a.result.type
        assert isinstance(typ, MemRefType)
        ranges.append((a.byte_offset, a.byte_offset + prod(typ.get_shape()) * element_bytes(typ.get_element_type()), a))
    ranges.sort(key=lambda r: r[0])
    shared: set[loops.AllocOp] = set()
    reach, reacher = -1, None
    for lo, hi, a in ranges:
        if lo < reach and hi > lo:
            shared.update((a, reacher))
        if hi > reach:
            reach, reacher = hi, a
    return shared


@cache
def index_attr(value: int) -> IntegerAttr:
    """An index attribute; immutable, so one per value (index literals are
    most of what the lowering creates)."""
    return IntegerAttr(value, IndexType())


IndexValue = int | SSAValue
"""An index during lowering: a Python int while it is constant, so index math folds."""


class _FunctionLowering:
    """Translates one loops-level `func.func` into its `c.func` pair."""

    def __init__(self, f: func.FuncOp, c_name: str, helpers: _Helpers, libm_only: bool):
        self.func = f
        self.libm_only = libm_only
        self.c_name = c_name
        self.helpers = helpers
        self.values: dict[SSAValue, IndexValue] = {}
        self.buffers: dict[SSAValue, tuple[SSAValue, tuple[int, ...]]] = {}
        self.block = Block()
        self.work: SSAValue | None = None
        self.shared = shared_storage(f)
        self.work_end = 0
        self.temp_count = 0
        self.statuses = 0
        """c.fail_if statuses handed out so far (one per bounded while loop)."""

    def fail(self, message: str, at: Operation | None = None) -> NoReturn:
        """Fail the pass; with `at`, the error is located at that op."""
        error = PassFailedException(f"lower-loops-to-c: {c.show_symbol(self.func.sym_name.data)}: {message}")
        if at is not None:
            at.emit_error(str(error), error)
        raise error

    # -- entry ----------------------------------------------------------------
    def lower(self) -> list[c.FuncOp]:
        n_in = num_inputs(self.func)
        params: list[Attribute] = []
        shapes: list[tuple[int, ...]] = []
        for k, arg in enumerate(self.func.args):
            typ = self.memref_type(arg)
            shapes.append(tuple(typ.get_shape()))
            params.append(c.PtrType(typ.get_element_type(), const=k < n_in, restrict=True))
        params.append(c.PtrType(NoneType(), restrict=True))
        cfunc = c.FuncOp(self.c_name, params, i32)
        *buffers, self.work = cfunc.args
        self.work.name_hint = "work"
        for k, (old, new, shape) in enumerate(zip(self.func.args, buffers, shapes)):
            default = f"in{k}" if k < n_in else f"out{k - n_in}"
            new.name_hint = old.name_hint or default
            self.buffers[old] = (new, shape)
        self.block = cfunc.body.block
        self.lower_block(self.func.body.block)
        self.block.add_ops([zero := c.LiteralOp(IntegerAttr(0, i32)), c.ReturnOp(zero)])
        return [cfunc, self.work_size_func()]

    def work_size_func(self) -> c.FuncOp:
        size = c.FuncOp(self.c_name + WORK_SIZE_SUFFIX, [], c.SizeType())
        total = c.LiteralOp(IntegerAttr(_align(self.work_end), IndexType()))
        as_size = c.CastOp(total, c.SizeType())
        size.body.block.add_ops([total, as_size, c.ReturnOp(as_size)])
        return size

    def memref_type(self, value: SSAValue) -> MemRefType:
        typ = value.type
        if not isinstance(typ, MemRefType) or any(d < 0 for d in typ.get_shape()):
            self.fail(f"expected a static memref, got {typ}")
        if not c.is_scalar_type(typ.get_element_type()):
            self.fail(f"memref element type {typ.get_element_type()} has no C type")
        return typ

    # -- values -----------------------------------------------------------------
    def add(self, op: Operation) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def operand(self, old: SSAValue) -> SSAValue:
        """The lowered value, materializing a folded index constant as a literal."""
        return self.materialize(self.values[old])

    def bind(self, old: SSAValue, new: IndexValue) -> None:
        if isinstance(new, SSAValue) and old.name_hint and not new.name_hint:
            new.name_hint = old.name_hint
        self.values[old] = new

    def index_add(self, a: IndexValue, b: IndexValue) -> IndexValue:
        if isinstance(a, int) and isinstance(b, int):
            return a + b
        if isinstance(b, int) and b == 0:
            return a
        if isinstance(a, int) and a == 0:
            return b
        return self.add(c.AddOp(self.materialize(a), self.materialize(b)))

    def index_sub(self, a: IndexValue, b: IndexValue) -> IndexValue:
        if isinstance(a, int) and isinstance(b, int):
            return a - b
        if isinstance(b, int) and b == 0:
            return a
        return self.add(c.SubOp(self.materialize(a), self.materialize(b)))

    def index_mul(self, a: IndexValue, b: IndexValue) -> IndexValue:
        if isinstance(a, int) and isinstance(b, int):
            return a * b
        if isinstance(b, int) and b in (0, 1):
            return a if b == 1 else 0
        if isinstance(a, int) and a in (0, 1):
            return b if a == 1 else 0
        return self.add(c.MulOp(self.materialize(a), self.materialize(b)))

    def materialize(self, v: IndexValue) -> SSAValue:
        if isinstance(v, int):
            return self.add(c.LiteralOp(index_attr(v)))
        return v

    def flat_index(self, memref: SSAValue, indices: Sequence[SSAValue]) -> tuple[SSAValue, SSAValue]:
        """The pointer and row-major flat index of `memref[indices]`, variable
        terms first and one folded constant last: `i * 784 + j + 3`."""
        ptr, shape = self.buffers[memref]
        strides = [prod(shape[k + 1 :]) for k in range(len(shape))]
        constant, flat = 0, 0
        for old, stride in zip(indices, strides):
            term = self.index_mul(self.values[old], stride)
            if isinstance(term, int):
                constant += term
            else:
                flat = self.index_add(flat, term)
        return ptr, self.materialize(self.index_add(flat, constant))

    # -- ops ------------------------------------------------------------------------
    def lower_block(self, block: Block) -> None:
        for op in block.ops:
            if isinstance(op, loops.YieldOp):
                continue
            if isinstance(op, func.ReturnOp):
                if op.operands:
                    self.fail("func.return must not return values at loops level", at=op)
                continue
            for result in op.results:
                if not isinstance(result.type, MemRefType) and not c.is_scalar_type(result.type):
                    self.fail(f"'{op.name}' produces {result.type}, which has no C type", at=op)
            rule = self.rule_for(op)
            if rule is None:
                self.fail(f"cannot lower '{op.name}' to C", at=op)
            rule(op)

    def rule_for(self, op: Operation) -> Callable[[Operation], None] | None:
        kind = type(op)
        if kind in FLOAT_BINARY:
            return lambda o: self.simple(o, FLOAT_BINARY[kind])
        if kind in BOOL_BINARY:
            return self.lower_bool_binary
        if kind in GRADC_MATH and not self.libm_only:
            return self.lower_gradc_math
        if kind in LIBM:
            return self.lower_libm
        if kind in NAN_PROPAGATING:
            return self.lower_nan_propagating
        if kind in CASTS:
            return self.lower_cast
        if kind in WRAPPING and not isinstance(op.results[0].type, IndexType):
            return self.lower_wrapping
        if kind in INT_EXTREMUM:
            return self.lower_int_extremum
        return self.rules.get(kind)

    @cached_property
    def rules(self) -> dict[type[Operation], Callable[[Any], None]]:
        """The lowering of each op kind that has one regardless of its types
        (built once per function, not per op)."""
        return {
            arith.ConstantOp: self.lower_constant,
            arith.AddiOp: self.lower_index_math,
            arith.SubiOp: self.lower_index_math,
            arith.MuliOp: self.lower_index_math,
            arith.NegfOp: lambda o: self.simple(o, c.NegOp),
            arith.SelectOp: lambda o: self.simple(o, c.SelectOp),
            arith.CmpfOp: self.lower_cmpf,
            arith.CmpiOp: self.lower_cmpi,
            arith.FPToSIOp: self.lower_fptosi,
            arith.DivSIOp: self.lower_int_division,
            arith.ShLIOp: self.lower_shift,
            arith.ShRSIOp: self.lower_shift,
            arith.ShRUIOp: self.lower_shift,
            arith.RemSIOp: self.lower_int_division,
            arith.UIToFPOp: self.lower_uitofp,
            loops.ForOp: self.lower_for,
            loops.SwitchOp: self.lower_switch,
            loops.WhileOp: self.lower_while,
            loops.ConditionOp: lambda o: self.block.add_op(c.BreakUnlessOp(self.operand(o.value))),
            loops.ThreadIdOp: lambda o: self.bind(o.result, self.add(c.ThreadNumOp())),
            loops.SpecialOp: self.lower_special,
            loops.AllocOp: self.lower_alloc,
            loops.ConstantOp: self.lower_constant_buffer,
            loops.ReshapeOp: self.lower_reshape,
            loops.LoadOp: self.lower_load,
            loops.StoreOp: self.lower_store,
            loops.MatmulOp: self.lower_matmul,
            loops.MicrokernelOp: self.lower_microkernel,
            loops.PackOp: self.lower_pack,
            loops.LinalgOp: self.lower_linalg,
            autodiff.PushOp: self.lower_tape_copy,
            autodiff.PopOp: self.lower_tape_copy,
            autodiff.ScheduleOp: self.lower_schedule,
            autodiff.ScheduleYieldOp: lambda o: None,
        }

    def simple(self, op: Operation, new: Callable[..., Operation]) -> None:
        """One op in, one `c` op out, operands in the same order."""
        self.bind(op.results[0], self.add(new(*[self.operand(v) for v in op.operands])))

    def lower_constant(self, op: arith.ConstantOp) -> None:
        value = op.value
        if isinstance(value, IntegerAttr) and isinstance(value.type, IndexType):
            self.values[op.result] = value.value.data
        elif isinstance(value, IntegerAttr | FloatAttr):
            self.bind(op.result, self.add(c.LiteralOp(value)))
        else:
            self.fail(f"arith.constant {value} is not a scalar", at=op)

    def lower_index_math(self, op: Operation) -> None:
        if not isinstance(op.results[0].type, IndexType):
            self.fail(f"'{op.name}' is only supported on index, got {op.results[0].type}", at=op)
        a, b = (self.values[v] for v in op.operands)
        combine = {arith.AddiOp: self.index_add, arith.SubiOp: self.index_sub,
                   arith.MuliOp: self.index_mul}[type(op)]
        self.bind(op.results[0], combine(a, b))

    def lower_bool_binary(self, op: Operation) -> None:
        """Logical on i1, bitwise on i32/i64."""
        if op.results[0].type != i1:
            self.int_type(op, op.results[0].type)
            self.simple(op, INT_BITWISE[type(op)])
            return
        self.simple(op, BOOL_BINARY[type(op)])

    def lower_shift(self, op: Operation) -> None:
        """`(int)((uint32_t)a << b)` (a negative a would be undefined), and
        the sign-filling `a < 0 ? ~(~a >> b) : a >> b` (C defines `>>` only
        for non-negative values); the logical `(int)((uint32_t)a >> b)`; the
        count is in range (array.ShiftOp, array.threefry2x32's rotations)."""
        typ = self.int_type(op, op.results[0].type)
        a, b = (self.operand(v) for v in op.operands)
        if isinstance(op, arith.ShLIOp | arith.ShRUIOp):
            unsigned = IntegerType(typ.width.data, Signedness.UNSIGNED)
            shift = c.ShlOp if isinstance(op, arith.ShLIOp) else c.ShrOp
            shifted = self.add(shift(self.add(c.CastOp(a, unsigned)), self.add(c.CastOp(b, unsigned))))
            self.bind(op.results[0], self.add(c.CastOp(shifted, typ)))
            return
        negative = self.add(c.LtOp(a, self.add(c.LiteralOp(IntegerAttr(0, typ)))))
        filled = self.add(c.BitNotOp(self.add(c.ShrOp(self.add(c.BitNotOp(a)), b))))
        self.bind(op.results[0], self.add(c.SelectOp(negative, filled, self.add(c.ShrOp(a, b)))))

    def libm_name(self, base: str, typ: Attribute) -> str:
        if isinstance(typ, Float32Type):
            return base + "f"
        if isinstance(typ, Float64Type):
            return base
        self.fail(f"{base} needs f32 or f64, got {typ}")

    def lower_libm(self, op: Operation) -> None:
        typ = op.results[0].type
        callee = self.libm_name(LIBM[type(op)], typ)
        if isinstance(op, math.PowFOp) and (k := _small_exponent(op.rhs)) is not None:
            # x**3 as JAX's integer_pow does it: products, not a libm call
            # 20 times slower (within an ulp of pow's; -0.0, infinities and
            # NaN come out as pow's).
            x = self.operand(op.lhs)
            square = self.add(c.MulOp(x, x))
            power = {2: square, 3: self.add(c.MulOp(square, x)), 4: self.add(c.MulOp(square, square))}[k]
            self.bind(op.results[0], power)
            return
        args = [self.operand(v) for v in op.operands]
        self.bind(op.results[0], self.add(c.CallOp(callee, args, typ)))

    def lower_special(self, op: loops.SpecialOp) -> None:
        typ = op.result.type
        callee = self.libm_name(op.function.data, typ)
        self.bind(op.result, self.add(c.CallOp(callee, [self.operand(op.x)], typ)))

    def lower_gradc_math(self, op: Operation) -> None:
        self.libm_name("", op.results[0].type)  # checks the type
        self.bind(op.results[0], self.add(c.MathOp(GRADC_MATH[type(op)], self.operand(op.operands[0]))))

    def lower_nan_propagating(self, op: Operation) -> None:
        typ = op.results[0].type
        self.libm_name("", typ)  # checks the type
        kind, compare = NAN_PROPAGATING[type(op)]
        callee = self.helpers.nan_propagating(kind, compare, typ)
        args = [self.operand(v) for v in op.operands]
        self.bind(op.results[0], self.add(c.CallOp(callee, args, typ)))

    def lower_cast(self, op: Operation) -> None:
        typ = op.results[0].type
        self.bind(op.results[0], self.add(c.CastOp(self.operand(op.operands[0]), typ)))

    def int_type(self, op: Operation, typ: Attribute) -> IntegerType:
        if not isinstance(typ, IntegerType) or typ.width.data not in (32, 64):
            self.fail(f"'{op.name}' is only supported on i32 and i64 (and index), got {typ}", at=op)
        return typ

    def lower_wrapping(self, op: Operation) -> None:
        """`(int)((uint32_t)a + (uint32_t)b)`: wraps (see WRAPPING)."""
        typ = self.int_type(op, op.results[0].type)
        unsigned = IntegerType(typ.width.data, Signedness.UNSIGNED)
        a, b = (self.add(c.CastOp(self.operand(v), unsigned)) for v in op.operands)
        result = self.add(WRAPPING[type(op)](a, b))
        self.bind(op.results[0], self.add(c.CastOp(result, typ)))

    def lower_int_extremum(self, op: Operation) -> None:
        self.int_type(op, op.results[0].type)
        a, b = (self.operand(v) for v in op.operands)
        wins = self.add(INT_EXTREMUM[type(op)](a, b))
        self.bind(op.results[0], self.add(c.SelectOp(wins, a, b)))

    def lower_int_division(self, op: Operation) -> None:
        """Truncated `a / b` or `a % b` with the divisor replaced by 1 where
        C would trap (b == 0, and b == -1, where MIN / -1 overflows): then
        the quotient is 0 for b == 0 and -a (wrapping) for b == -1, the
        remainder a % 1 = 0 (NumPy's values)."""
        typ = self.int_type(op, op.results[0].type)
        a, b = (self.operand(v) for v in op.operands)
        zero, one = (self.add(c.LiteralOp(IntegerAttr(k, typ))) for k in (0, 1))
        is_zero = self.add(c.EqOp(b, zero))
        is_minus_one = self.add(c.EqOp(b, self.add(c.LiteralOp(IntegerAttr(-1, typ)))))
        safe = self.add(c.SelectOp(self.add(c.OrOp(is_zero, is_minus_one)), one, b))
        if isinstance(op, arith.RemSIOp):
            self.bind(op.results[0], self.add(c.RemOp(a, safe)))
            return
        unsigned = IntegerType(typ.width.data, Signedness.UNSIGNED)
        negated = self.add(c.CastOp(self.add(c.SubOp(
            self.add(c.CastOp(zero, unsigned)), self.add(c.CastOp(a, unsigned)))), typ))
        quotient = self.add(c.DivOp(a, safe))
        result = self.add(c.SelectOp(is_zero, zero, self.add(c.SelectOp(is_minus_one, negated, quotient))))
        self.bind(op.results[0], result)

    def lower_cmpi(self, op: arith.CmpiOp) -> None:
        predicate = arith.CMPI_COMPARISON_OPERATIONS[op.predicate.value.data]
        if predicate not in CMPI:
            self.fail(f"arith.cmpi {predicate} is not supported (signed predicates only)", at=op)
        self.bind(op.result, self.add(CMPI[predicate](self.operand(op.lhs), self.operand(op.rhs))))

    def lower_fptosi(self, op: arith.FPToSIOp) -> None:
        """Truncated toward zero; NaN or out of range gives the minimum
        integer (see array.ConvertOp). The cast only ever sees an in-range
        value (C leaves the others undefined)."""
        typ = self.int_type(op, op.result.type)
        source = op.input.type
        self.libm_name("", source)  # checks the type
        bound = 2.0 ** (typ.width.data - 1)
        x = self.operand(op.input)
        if _clamped_inside(op.input, -bound, bound):
            self.bind(op.result, self.add(c.CastOp(x, typ)))
            return
        above = self.add(c.GeOp(x, self.add(c.LiteralOp(FloatAttr(-bound, source)))))
        below = self.add(c.LtOp(x, self.add(c.LiteralOp(FloatAttr(bound, source)))))
        inside = self.add(c.AndOp(above, below))
        safe = self.add(c.SelectOp(inside, x, self.add(c.LiteralOp(FloatAttr(0.0, source)))))
        smallest = self.add(c.LiteralOp(IntegerAttr(-(2 ** (typ.width.data - 1)), typ)))
        self.bind(op.result, self.add(c.SelectOp(inside, self.add(c.CastOp(safe, typ)), smallest)))

    def lower_uitofp(self, op: arith.UIToFPOp) -> None:
        if op.input.type != i1:
            self.fail(f"arith.uitofp is only supported from i1, got {op.input.type}", at=op)
        self.lower_cast(op)

    def lower_cmpf(self, op: arith.CmpfOp) -> None:
        predicate = arith.CMPF_COMPARISON_OPERATIONS[op.predicate.value.data]
        a, b = self.operand(op.lhs), self.operand(op.rhs)
        if predicate in ORDERED:
            result = self.add(ORDERED[predicate](a, b))
        elif predicate in UNORDERED_AS_NOT:
            result = self.add(c.NotOp(self.add(UNORDERED_AS_NOT[predicate](a, b))))
        elif predicate in ("one", "ueq"):
            lt_or_gt = self.add(c.OrOp(self.add(c.LtOp(a, b)), self.add(c.GtOp(a, b))))
            result = lt_or_gt if predicate == "one" else self.add(c.NotOp(lt_or_gt))
        elif predicate == "ord":
            result = self.add(c.AndOp(self.add(c.EqOp(a, a)), self.add(c.EqOp(b, b))))
        elif predicate == "uno":
            result = self.add(c.OrOp(self.add(c.NeOp(a, a)), self.add(c.NeOp(b, b))))
        else:
            result = self.add(c.LiteralOp(IntegerAttr(int(predicate == "true"), i1)))
        self.bind(op.result, result)

    def lower_for(self, op: loops.ForOp) -> None:
        new = c.ForOp(op.lower.data, op.upper.data, op.step.data)
        if op.threads is not None:
            pragma = f"omp parallel for num_threads({op.threads.data}) schedule(static)"
            self.block.add_op(c.PragmaOp(pragma, guard=OPENMP_MACRO))
        self.block.add_op(new)
        self.bind(op.induction_var, new.induction_var)
        outer, self.block = self.block, new.body.block
        self.lower_block(op.body.block)
        self.block = outer

    def lower_switch(self, op: loops.SwitchOp) -> None:
        """The same switch in `c`, each region's body lowered into its own."""
        new = c.SwitchOp(self.operand(op.index), len(op.branches))
        self.block.add_op(new)
        outer = self.block
        for old, region in zip(op.branches, new.branches, strict=True):
            self.block = region.block
            self.lower_block(old.block)
        self.block = outer

    def lower_while(self, op: loops.WhileOp) -> None:
        """`for (;;) { cond...; if (!c) break; body... }`; with max_steps N,
        `if (n >= N) return S;` after the break: the loop would start
        iteration N + 1, so the function stops with status S, numbered per
        function from 1, whose message names the loop and N."""
        new = c.WhileOp()
        new.count.name_hint = "n"
        self.block.add_op(new)
        outer, self.block = self.block, new.body.block
        self.lower_block(op.cond.block)
        if op.bound is not None:
            self.statuses += 1
            label = op.label.data if op.label is not None else "while_loop"
            limit = self.add(c.LiteralOp(IntegerAttr(op.bound, IndexType())))
            message = f"{label} did not stop within max_steps={op.bound} iterations"
            self.block.add_op(c.FailIfOp(self.add(c.GeOp(new.count, limit)), self.statuses, message))
        self.lower_block(op.body.block)
        self.block = outer

    def name_buffer(self, old: SSAValue, new: SSAValue, prefix: str) -> None:
        new.name_hint = old.name_hint or f"{prefix}{self.temp_count}"
        self.temp_count += 1

    def lower_alloc(self, op: loops.AllocOp) -> None:
        typ = self.memref_type(op.result)
        shape, element = tuple(typ.get_shape()), typ.get_element_type()
        if op.placement.data == "stack":
            new = self.add(c.ArrayOp(max(1, prod(shape)), element))
        else:
            assert self.work is not None
            size = prod(shape) * element_bytes(element)
            planned = op.byte_offset
            if (planned is None) != (self.shared is None):
                self.fail("either every workspace buffer has a planned offset or none has", at=op)
            offset = _align(self.work_end) if planned is None else planned
            self.work_end = max(self.work_end, offset + size)
            ptr = c.PtrType(element, restrict=self.shared is None or op not in self.shared)
            new = self.add(c.ByteOffsetOp(self.work, offset, ptr))
        self.name_buffer(op.result, new, "t")
        self.buffers[op.result] = (new, shape)

    def lower_constant_buffer(self, op: loops.ConstantOp) -> None:
        typ = self.memref_type(op.result)
        shape = tuple(typ.get_shape())
        if prod(shape) == 0:
            new = self.add(c.ArrayOp(1, typ.get_element_type()))
        else:
            new = self.add(c.StaticArrayOp(op.value))
        self.name_buffer(op.result, new, "k")
        self.buffers[op.result] = (new, shape)

    def lower_reshape(self, op: loops.ReshapeOp) -> None:
        ptr, _ = self.buffers[op.source]
        self.buffers[op.result] = (ptr, tuple(self.memref_type(op.result).get_shape()))

    def lower_load(self, op: loops.LoadOp) -> None:
        ptr, index = self.flat_index(op.memref, op.indices)
        self.bind(op.result, self.add(c.LoadOp(ptr, index)))

    def lower_store(self, op: loops.StoreOp) -> None:
        ptr, index = self.flat_index(op.memref, op.indices)
        if isinstance(ptr.type, c.PtrType) and ptr.type.const:
            self.fail(f"loops.store writes to read-only buffer %{ptr.name_hint}", at=op)
        self.block.add_op(c.StoreOp(self.operand(op.value), ptr, index))


    def lower_tape_copy(self, op: autodiff.TapeCopyOp) -> None:
        """A push or pop: its copy loop nest, lowered like any other."""
        nest = tape_copy(op)
        self.lower_block(nest)
        nest.erase(safe_erase=False)

    def lower_schedule(self, op: autodiff.ScheduleOp) -> None:
        """The same schedule in `c`, each region's body lowered into its own."""
        new = c.ScheduleOp(op.spec)
        self.block.add_op(new)
        outer = self.block
        for old, region in zip(op.regions, new.regions, strict=True):
            for a, b in zip(old.block.args, region.block.args, strict=True):
                self.bind(a, b)
            self.block = region.block
            self.lower_block(old.block)
        self.block = outer

    def lower_matmul(self, op: loops.MatmulOp) -> None:
        """An untiled matmul: its reference loop nest, lowered like any other."""
        nest = naive_matmul(op)
        self.lower_block(nest)
        nest.erase(safe_erase=False)

    def lower_microkernel(self, op: loops.MicrokernelOp) -> None:
        operands = []
        for buffer, offset in ((op.a, op.a_offset), (op.b, op.b_offset), (op.c, op.c_offset)):
            ptr, _ = self.buffers[buffer]
            operands.append((ptr, self.operand(offset)))
        c_ptr = operands[2][0]
        if isinstance(c_ptr.type, c.PtrType) and c_ptr.type.const:
            self.fail(f"loops.microkernel writes to read-only buffer %{c_ptr.name_hint}", at=op)
        self.block.add_op(c.MicrokernelOp(
            *operands, op.parameters, op.accumulate is not None, op.dot is not None))

    def lower_pack(self, op: loops.PackOp) -> None:
        (src, _), (dst, _) = self.buffers[op.src], self.buffers[op.dst]
        if isinstance(dst.type, c.PtrType) and dst.type.const:
            self.fail(f"loops.pack writes to read-only buffer %{dst.name_hint}", at=op)
        self.block.add_op(c.PackOp((src, self.operand(op.src_offset)),
                                   (dst, self.operand(op.dst_offset)), op.parameters))

    def lower_linalg(self, op: loops.LinalgOp) -> None:
        """A call of the kind's C helper (gradc.backend.linalg_kernels)."""
        ptrs = [self.buffers[b][0] for b in op.buffers]
        for written in ptrs[len(op.inputs) :]:
            if isinstance(written.type, c.PtrType) and written.type.const:
                self.fail(f"loops.linalg writes to read-only buffer %{written.name_hint}", at=op)
        batch, n, m = op.dims()
        flags = {k: v for k, v in op.flags().items() if v}
        self.block.add_op(c.LinalgOp(op.kind_name, ptrs, n, m, batch, **flags))


def _c_names(funcs: Sequence[func.FuncOp]) -> dict[func.FuncOp, str]:
    """C names for the functions; two symbols that would print alike are an error."""
    names = {f: c.c_identifier(f.sym_name.data) for f in funcs}
    taken: dict[str, str] = {}
    for f, name in names.items():
        for symbol in (name, name + WORK_SIZE_SUFFIX):
            if symbol in taken or symbol.startswith("gradc_"):
                other = taken.get(symbol, "a gradc helper")
                raise PassFailedException(
                    f"lower-loops-to-c: {c.show_symbol(f.sym_name.data)} and {other} both become "
                    f"the C function '{symbol}'; rename one"
                )
            taken[symbol] = c.show_symbol(f.sym_name.data)
    return names


def check_legal(module: ModuleOp) -> None:
    """Fail if anything that C cannot print survived the lowering."""
    for op in module.walk():
        if op.dialect_name() in ("loops", "arith", "math", "func"):
            raise PassFailedException(f"lower-loops-to-c: '{op.name}' is left after lowering")
        values = list(op.results) + [a for r in op.regions for b in r.blocks for a in b.args]
        for value in values:
            if isinstance(value.type, MemRefType):
                raise PassFailedException(
                    f"lower-loops-to-c: '{op.name}' still uses memref type {value.type}"
                )


@dataclass(frozen=True)
class LowerLoopsToC(ModulePass):
    """Converts loops-level functions to `c` functions with the gradc C ABI."""

    name = "lower-loops-to-c"

    math: str = "gradc"
    """How `math.exp`, `math.log` and `math.tanh` are computed: "gradc" (the
    default) by `c.math`, gradc's branch-free C in the generated file, which
    gcc vectorizes (within 3 ulp, see gradc.backend.vector_math); "libm" by libm's
    `expf`/`exp`..., correctly rounded or nearly, one call per element."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.math not in MATH_CHOICES:
            raise PassFailedException(
                f"lower-loops-to-c: math must be one of {', '.join(MATH_CHOICES)}, got '{self.math}'"
            )
        funcs = [f for f in op.ops if isinstance(f, func.FuncOp)]
        names = _c_names(funcs)
        helpers = _Helpers()
        for f in funcs:
            lowering = _FunctionLowering(f, names[f], helpers, libm_only=self.math == "libm")
            Rewriter.replace_op(f, lowering.lower())
        if helpers.funcs:
            first = op.body.block.first_op
            helper_ops = list(helpers.funcs.values())
            if first is None:
                op.body.block.add_ops(helper_ops)
            else:
                op.body.block.insert_ops_before(helper_ops, first)
        check_legal(op)


def _constant_float(value: SSAValue) -> float | None:
    owner = value.owner
    if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, FloatAttr):
        return owner.value.value.data
    return None


def _clamped_inside(value: SSAValue, low: float, high: float) -> bool:
    """`value` is minnumf(maxnumf(x, a), b) (in either nesting) with constants
    low <= a <= b < high: never NaN (the constant wins over a NaN) and inside
    [low, high), so a float-to-int cast of it needs no guard."""
    bounds: dict[type, float] = {}
    for _ in range(2):
        owner = value.owner
        if not isinstance(owner, arith.MinnumfOp | arith.MaxnumfOp) or type(owner) in bounds:
            return False
        for mine, other in ((owner.lhs, owner.rhs), (owner.rhs, owner.lhs)):
            constant = _constant_float(mine)
            if constant is not None and constant == constant:
                bounds[type(owner)] = constant
                value = other
                break
        else:
            return False
    a, b = bounds[arith.MaxnumfOp], bounds[arith.MinnumfOp]
    return low <= a <= b < high
