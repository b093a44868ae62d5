"""The `array` dialect: value-semantics array math on builtin tensors.

What the frontend traces and the autodiff passes differentiate;
lower-array-to-loops turns it into `loops`. Ops by family: constants and
elementwise math (elementwise.py), shape ops (shape.py), matmul and
reductions (contractions.py), `array.scan` (scan.py); the type checks they
share are in base.py.

Expects: every value a statically shaped `tensor<...>` of f32, f64, i32 or
i64 (signed, wrapping as NumPy's), or of i1 (comparison results, bool
arguments, and a scan's bool carries, slices and per-step outputs).

Guarantees (the verifiers): the operands of an elementwise op have identical
types, NumPy broadcasting being spelled out with `array.broadcast`; math and
matmul take floats only, add/sub/mul/neg/abs/max/min, comparisons and
reductions floats or integers; each result type is the one the operands
and properties give. Only floats are differentiated.

Why the primitive set is small, which dtypes it computes in (a scan's index
is an f64), and the verifier policy: docs/dialects.md.
"""

from __future__ import annotations

from xdsl.ir import Dialect

from gradc.dialects.array.base import (
    COMPARE_PREDICATES,
    FLOAT_TYPES,
    INT_WIDTHS,
    is_bool,
    is_float,
    is_int,
    is_numeric,
    static_shape,
    tensor_of,
)
from gradc.dialects.array.contractions import REDUCE_OPS, ArgMaxOp, MatmulOp, ReduceMaxOp, ReduceOp, ReduceSumOp
from gradc.dialects.array.elementwise import (
    BINARY_OPS,
    UNARY_OPS,
    AbsOp,
    AcosOp,
    AcoshOp,
    AddOp,
    AsinOp,
    AsinhOp,
    AtanOp,
    AtanhOp,
    BinaryOp,
    CeilOp,
    CompareOp,
    ConstantOp,
    ConvertOp,
    CosOp,
    CoshOp,
    DivOp,
    ErfOp,
    Exp2Op,
    ExpOp,
    Expm1Op,
    FloorOp,
    FmodOp,
    Log10Op,
    Log1pOp,
    Log2Op,
    LogOp,
    MaxOp,
    MinOp,
    MulOp,
    NegOp,
    PowOp,
    RoundEvenOp,
    RoundingOp,
    SameTypeOp,
    SelectOp,
    SinOp,
    SinhOp,
    SqrtOp,
    StopGradientOp,
    SubOp,
    TanOp,
    TanhOp,
    TruncOp,
    UnaryOp,
)
from gradc.dialects.array.scan import INDEX_TYPE, ScanOp, YieldOp
from gradc.dialects.array.shape import (
    BroadcastOp,
    ConcatenateOp,
    ReshapeOp,
    SliceOp,
    TransposeOp,
    slice_length,
)

Array = Dialect(
    "array",
    [
        ConstantOp,
        *UNARY_OPS,
        *BINARY_OPS,
        CompareOp,
        SelectOp,
        ConvertOp,
        StopGradientOp,
        BroadcastOp,
        ReshapeOp,
        TransposeOp,
        SliceOp,
        ConcatenateOp,
        MatmulOp,
        *REDUCE_OPS,
        ArgMaxOp,
        ScanOp,
        YieldOp,
    ],
)

__all__ = [
    "Array",
    "AbsOp",
    "AcosOp",
    "AcoshOp",
    "AddOp",
    "ArgMaxOp",
    "AsinOp",
    "AsinhOp",
    "AtanOp",
    "AtanhOp",
    "BINARY_OPS",
    "BinaryOp",
    "BroadcastOp",
    "COMPARE_PREDICATES",
    "CeilOp",
    "CompareOp",
    "ConcatenateOp",
    "ConstantOp",
    "ConvertOp",
    "CosOp",
    "CoshOp",
    "DivOp",
    "ErfOp",
    "Exp2Op",
    "ExpOp",
    "Expm1Op",
    "FLOAT_TYPES",
    "FloorOp",
    "FmodOp",
    "INDEX_TYPE",
    "INT_WIDTHS",
    "Log10Op",
    "Log1pOp",
    "Log2Op",
    "LogOp",
    "MatmulOp",
    "MaxOp",
    "MinOp",
    "MulOp",
    "NegOp",
    "PowOp",
    "REDUCE_OPS",
    "ReduceMaxOp",
    "ReduceOp",
    "ReduceSumOp",
    "ReshapeOp",
    "RoundEvenOp",
    "RoundingOp",
    "SameTypeOp",
    "ScanOp",
    "SelectOp",
    "SinOp",
    "SinhOp",
    "SliceOp",
    "SqrtOp",
    "StopGradientOp",
    "SubOp",
    "TanOp",
    "TanhOp",
    "TransposeOp",
    "TruncOp",
    "UNARY_OPS",
    "UnaryOp",
    "YieldOp",
    "is_bool",
    "is_float",
    "is_int",
    "is_numeric",
    "slice_length",
    "static_shape",
    "tensor_of",
]
