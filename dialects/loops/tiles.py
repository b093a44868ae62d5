"""`loops` ops for one register tile of a matrix product
(`loops.microkernel`) and a copy of a block into panels (`loops.pack`), both
over flat buffers, as tile-matmul emits them; and their static parameters
(MicrokernelParameters, PackParameters), which `c.microkernel` and `c.pack`
share; `vector_widths`, how a row of a tile is held in vectors.

Guarantees (the verifiers): sizes and strides are static and every access
stays inside the flat buffers it names; lanes are a power of two.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import I64, IndexType, IntegerAttr, MemRefType, UnitAttr
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    operand_def,
    opt_prop_def,
    prop_def,
    traits_def,
)
from xdsl.traits import MemoryReadEffect, MemoryWriteEffect
from xdsl.utils.exceptions import VerifyException

from gradc.dialects.deferred_format import op_definition
from gradc.dialects.loops.nests import _float_element, _i64, memref_shape


def vector_widths(n: int, lanes: int) -> list[int]:
    """How a row of n elements is held in vectors: whole vectors of `lanes`,
    then the remainder in powers of two, widest first (n=45, lanes=16:
    [16, 16, 8, 4, 1])."""
    widths = [lanes] * (n // lanes)
    rest = n % lanes
    width = lanes
    while rest:
        width //= 2
        if rest >= width:
            widths.append(width)
            rest -= width
    return widths


class _StaticParameters(IRDLOperation, abc.ABC):
    """Ops whose shape is a set of i64 properties named in PARAMETERS."""

    PARAMETERS: ClassVar[tuple[str, ...]] = ()

    def value_of(self, name: str) -> int:
        attr = getattr(self, name)
        assert isinstance(attr, IntegerAttr)
        return attr.value.data

    @property
    def parameters(self) -> dict[str, int]:
        return {name: self.value_of(name) for name in self.PARAMETERS}


class MicrokernelParameters(_StaticParameters, abc.ABC):
    """The static shape of one register tile: what `loops.microkernel` and
    `c.microkernel` share (operands a, b, c and their offsets are each
    dialect's own: buffers here, pointers in `c`)."""

    m = prop_def(IntegerAttr[I64])
    n = prop_def(IntegerAttr[I64])
    k = prop_def(IntegerAttr[I64])
    lanes = prop_def(IntegerAttr[I64])
    a_row_stride = prop_def(IntegerAttr[I64])
    a_k_stride = prop_def(IntegerAttr[I64])
    b_k_stride = prop_def(IntegerAttr[I64])
    c_row_stride = prop_def(IntegerAttr[I64])
    accumulate = opt_prop_def(UnitAttr)
    dot = opt_prop_def(UnitAttr)
    """Lanes along k (only with n = 1): each row of the tile is a dot
    product held in vectors of A's row and B's column through the k loop,
    summed across the lanes at the end. A one-column tile has no lanes along
    n to fill; its operands must then run along k (a_k_stride = b_k_stride
    = 1)."""
    assembly_format = (
        "$a `[` $a_offset `]` `,` $b `[` $b_offset `]` `,` $c `[` $c_offset `]` "
        "attr-dict `:` type($a) `,` type($b) `,` type($c)"
    )
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "m", "n", "k", "lanes", "a_row_stride", "a_k_stride", "b_k_stride", "c_row_stride",
    )

    def __init__(
        self,
        a: tuple[SSAValue | Operation, SSAValue | Operation],
        b: tuple[SSAValue | Operation, SSAValue | Operation],
        c: tuple[SSAValue | Operation, SSAValue | Operation],
        parameters: Mapping[str, int],
        accumulate: bool = False,
        dot: bool = False,
    ):
        props: dict[str, Attribute] = {name: _i64(parameters[name]) for name in self.PARAMETERS}
        if accumulate:
            props["accumulate"] = UnitAttr()
        if dot:
            props["dot"] = UnitAttr()
        super().__init__(operands=[a[0], a[1], b[0], b[1], c[0], c[1]], properties=props)

    @property
    def vectors(self) -> int:
        """Vectors per row of the tile."""
        return len(vector_widths(self.value_of("n"), self.value_of("lanes")))

    def verify_parameters(self) -> None:
        m, n, k, lanes = (self.value_of(x) for x in ("m", "n", "k", "lanes"))
        if min(m, n, k, lanes) < 1:
            raise VerifyException(
                f"{self.name}: m, n, k and lanes must be >= 1, got {m}, {n}, {k}, {lanes}"
            )
        if lanes & (lanes - 1):
            raise VerifyException(f"{self.name}: lanes must be a power of two, got {lanes}")
        ars, aks, bks, crs = (
            self.value_of(x) for x in ("a_row_stride", "a_k_stride", "b_k_stride", "c_row_stride")
        )
        if min(ars, aks, bks) < 0:
            raise VerifyException(f"{self.name}: strides must be >= 0")
        if m > 1 and crs < n:
            raise VerifyException(
                f"{self.name}: rows of the C tile overlap (c_row_stride {crs} < n {n})"
            )
        if self.dot is not None and (n != 1 or aks != 1 or bks != 1):
            raise VerifyException(
                f"{self.name}: a dot tile has n = 1 and runs along k in A and B "
                f"(n {n}, a_k_stride {aks}, b_k_stride {bks})"
            )


class PackParameters(_StaticParameters, abc.ABC):
    """The static shape of a panel copy: what `loops.pack` and `c.pack` share
    (operands src, dst and their offsets are each dialect's own)."""

    depth = prop_def(IntegerAttr[I64])
    width = prop_def(IntegerAttr[I64])
    panel = prop_def(IntegerAttr[I64])
    depth_stride = prop_def(IntegerAttr[I64])
    lane_stride = prop_def(IntegerAttr[I64])
    assembly_format = (
        "$src `[` $src_offset `]` `into` $dst `[` $dst_offset `]` "
        "attr-dict `:` type($src) `,` type($dst)"
    )
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(MemoryReadEffect(), MemoryWriteEffect())

    PARAMETERS: ClassVar[tuple[str, ...]] = ("depth", "width", "panel", "depth_stride", "lane_stride")

    def __init__(
        self,
        src: tuple[SSAValue | Operation, SSAValue | Operation],
        dst: tuple[SSAValue | Operation, SSAValue | Operation],
        parameters: Mapping[str, int],
    ):
        super().__init__(
            operands=[src[0], src[1], dst[0], dst[1]],
            properties={name: _i64(parameters[name]) for name in self.PARAMETERS},
        )

    def verify_parameters(self) -> None:
        depth, width, panel, ds, ls = (self.value_of(x) for x in self.PARAMETERS)
        if min(depth, width, panel) < 1:
            raise VerifyException(
                f"{self.name}: depth, width and panel must be >= 1, got {depth}, {width}, {panel}"
            )
        if min(ds, ls) < 0:
            raise VerifyException(f"{self.name}: strides must be >= 0")


@op_definition
class MicrokernelOp(MicrokernelParameters):
    """One register tile of a matrix product over flat (1-d) buffers, with
    explicit element strides (offsets are dynamic, sizes and strides static):

        C[c + r * c_stride + j] (+)= sum over p < k of
            A[a + r * a_row_stride + p * a_k_stride] * B[b + p * b_k_stride + j]

    for r < m, j < n. The m x n accumulators stay in registers through the k
    loop: each row of the tile is `vector_widths(n, lanes)`, n // lanes
    vectors of `lanes` elements and the rest in narrower power-of-two ones
    (n = 10, lanes = 16: 8 + 2), so every access reads or writes exactly the
    tile. Without `accumulate` the tile of C is overwritten. C must not alias
    A or B.

        loops.microkernel %ap[%i], %bp[%j], %c[%o] {m = 8 : i64, n = 32 : i64, k = 256 : i64,
            lanes = 16 : i64, a_row_stride = 1 : i64, a_k_stride = 8 : i64,
            b_k_stride = 32 : i64, c_row_stride = 512 : i64} : memref<...>, memref<...>, memref<...>
    """

    name = "loops.microkernel"
    a = operand_def(MemRefType)
    a_offset = operand_def(IndexType)
    b = operand_def(MemRefType)
    b_offset = operand_def(IndexType)
    c = operand_def(MemRefType)
    c_offset = operand_def(IndexType)

    def verify_(self) -> None:
        _float_element(self, self.a, self.b, self.c)
        sizes = _flat_sizes(self, ("a", "b", "c"))
        self.verify_parameters()
        m, n, k = (self.value_of(x) for x in ("m", "n", "k"))
        ars, aks, bks, crs = (
            self.value_of(x) for x in ("a_row_stride", "a_k_stride", "b_k_stride", "c_row_stride")
        )
        # What the tile reaches from offset 0; each buffer must be at least that long.
        _check_reach(self, sizes, {
            "a": (m - 1) * ars + (k - 1) * aks + 1,
            "b": (k - 1) * bks + n,
            "c": (m - 1) * crs + n,
        })


@op_definition
class PackOp(PackParameters):
    """Copy a strided block into panels (what tile-matmul packs A and B
    with), over flat buffers:

        dst[d + (l / panel) * depth * panel + p * panel + l % panel] =
            src[s + p * depth_stride + l * lane_stride]

    for p < depth, l < width: lane l of the block goes to panel l / panel,
    and within a panel each step of the depth is `panel` consecutive
    elements (the last panel may have fewer lanes; its unused slots are not
    written). The source may run along the depth (a transposing copy) or
    along the lanes.

        loops.pack %a[%i] into %panels[%j] {depth = 256 : i64, width = 128 : i64,
            panel = 8 : i64, depth_stride = 1 : i64, lane_stride = 1024 : i64} : memref<...>, memref<...>
    """

    name = "loops.pack"
    src = operand_def(MemRefType)
    src_offset = operand_def(IndexType)
    dst = operand_def(MemRefType)
    dst_offset = operand_def(IndexType)

    def verify_(self) -> None:
        _float_element(self, self.src, self.dst)
        sizes = _flat_sizes(self, ("src", "dst"))
        self.verify_parameters()
        depth, width, panel, ds, ls = (self.value_of(x) for x in self.PARAMETERS)
        last = width - 1
        _check_reach(self, sizes, {
            "src": (depth - 1) * ds + last * ls + 1,
            "dst": (last // panel) * depth * panel + (depth - 1) * panel + last % panel + 1,
        })


def _flat_sizes(op: Operation, names: Sequence[str]) -> dict[str, int]:
    """Lengths of the flat (1-d) memref operands `names`."""
    sizes = {}
    for name in names:
        value = getattr(op, name)
        shape = memref_shape(op, value)
        if len(shape) != 1:
            raise VerifyException(f"{op.name}: {name} must be a flat (1-d) memref, got {value.type}")
        sizes[name] = shape[0]
    return sizes


def _check_reach(op: Operation, sizes: dict[str, int], reach: dict[str, int]) -> None:
    for name, need in reach.items():
        if sizes[name] < need:
            raise VerifyException(
                f"{op.name}: {name} has {sizes[name]} elements, but the access reaches {need}"
            )
