"""`c` statements bigger than a line of C: `c.microkernel` (a register tile of
a matrix product), `c.pack` (a copy of a block into panels), `c.linalg` (a
factorization or solve) and `c.schedule` (one phase of a checkpoint
schedule). Each shares its
properties, spelling and checks with the `loops` or `autodiff` op it is
lowered from; the printer writes each as a call of a generated function or
a table and a loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import Float32Type, Float64Type, IndexType, IntegerAttr, StringAttr, UnitAttr, i64
from xdsl.ir import Attribute, Operation, Region, SSAValue
from xdsl.irdl import ParsePropInAttrDict, operand_def, prop_def, traits_def, var_operand_def
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import NoTerminator
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.autodiff import ScheduleSpec, schedule_regions
from gradc.dialects.c.types import PtrType
from gradc.dialects.deferred_format import op_definition
from gradc.dialects.loops.linalg import KINDS, LinalgParameters
from gradc.dialects.loops.tiles import MicrokernelParameters, PackParameters


@op_definition
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


@op_definition
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


@op_definition
class LinalgOp(LinalgParameters):
    """A `loops.linalg` over flat pointers (same kind and flags; `batch`
    matrices of size n, right-hand sides of m columns): printed as
    `gradc_<kind>..._f64_<n>(a, ..., out[, scratch], m, batch);`, a static
    function emitted once per module per kind, flags, n and element type."""

    name = "c.linalg"
    buffers = var_operand_def(PtrType)
    n = prop_def(IntegerAttr[i64])
    m = prop_def(IntegerAttr[i64])
    batch = prop_def(IntegerAttr[i64])
    assembly_format = "$kind `(` $buffers `)` attr-dict `:` type($buffers)"
    irdl_options = (ParsePropInAttrDict(),)

    def __init__(self, kind: str, buffers: Sequence[SSAValue], n: int, m: int, batch: int, **flags: bool):
        sizes = {"n": n, "m": m, "batch": batch}
        props: dict = {"kind": StringAttr(kind), **{k: IntegerAttr(v, i64) for k, v in sizes.items()}}
        props.update({name: UnitAttr() for name, on in flags.items() if on})
        super().__init__(operands=[list(buffers)], properties=props)

    def size(self, name: str) -> int:
        return getattr(self, name).value.data

    @property
    def element_type(self) -> Attribute:
        typ = self.buffers[-1].type
        assert isinstance(typ, PtrType)
        return typ.pointee

    def verify_(self) -> None:
        self.verify_kind()
        inputs, _ = KINDS[self.kind_name]
        _check_float_pointers(self, self.buffers[:inputs], self.buffers[inputs])
        for extra in self.buffers[inputs + 1 :]:
            _check_float_pointers(self, self.buffers[:inputs], extra)


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


@op_definition
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
