"""The `array` dialect: value-semantics array math on builtin tensors.

What the frontend traces and the autodiff passes differentiate;
lower-array-to-loops turns it into `loops`. Ops by family: constants and
elementwise math (elementwise.py), shape ops (shape.py), matmul and
reductions (contractions.py), factorizations and solves (linalg.py),
`array.gather` (gather.py), `array.dynamic_slice` and
`array.dynamic_update_slice` (dynamic.py), `array.scan` (scan.py); the type checks they
share are in base.py.

Expects: every value a statically shaped `tensor<...>` of f32 or f64, or of
i1 (comparison results, bool arguments, and a scan's bool carries, slices
and per-step outputs).

Guarantees (the verifiers): the operands of an elementwise op have identical
types, NumPy broadcasting being spelled out with `array.broadcast`; math,
matmul and reductions take floats only; each result type is the one the
operands and properties give.

Why the primitive set is small, why the dialect computes in floats (a scan's
index is an f64), and the verifier policy: docs/dialects.md.
"""

from __future__ import annotations

from xdsl.ir import Dialect

from gradc.dialects.array.base import (
    COMPARE_PREDICATES,
    FLOAT_TYPES,
    is_bool,
    is_float,
    static_shape,
    tensor_of,
)
from gradc.dialects.array.contractions import REDUCE_OPS, MatmulOp, ReduceMaxOp, ReduceOp, ReduceSumOp
from gradc.dialects.array.elementwise import (
    BINARY_OPS,
    UNARY_OPS,
    AbsOp,
    AcosOp,
    AcoshOp,
    AddOp,
    AsinOp,
    AsinhOp,
    Atan2Op,
    AtanOp,
    AtanhOp,
    BinaryOp,
    CeilOp,
    CompareOp,
    ConstantOp,
    ConvertOp,
    CopySignOp,
    CosOp,
    CoshOp,
    DivOp,
    ErfcOp,
    ErfOp,
    Exp2Op,
    ExpOp,
    Expm1Op,
    FloorOp,
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
from gradc.dialects.array.dynamic import DynamicSliceOp, DynamicUpdateSliceOp, clamped_start
from gradc.dialects.array.gather import GatherOp, index_table, inverse_rows, table_values
from gradc.dialects.array.linalg import (
    LINALG_OPS,
    CholeskyOp,
    EighOp,
    SlogdetOp,
    SolveOp,
    TriangularSolveOp,
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
        GatherOp,
        DynamicSliceOp,
        DynamicUpdateSliceOp,
        MatmulOp,
        *REDUCE_OPS,
        *LINALG_OPS,
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
    "AsinOp",
    "AsinhOp",
    "AtanOp",
    "AtanhOp",
    "BINARY_OPS",
    "BinaryOp",
    "BroadcastOp",
    "COMPARE_PREDICATES",
    "CeilOp",
    "CholeskyOp",
    "CompareOp",
    "ConcatenateOp",
    "ConstantOp",
    "ConvertOp",
    "CosOp",
    "CoshOp",
    "DivOp",
    "DynamicSliceOp",
    "DynamicUpdateSliceOp",
    "EighOp",
    "ErfOp",
    "ErfcOp",
    "Atan2Op",
    "CopySignOp",
    "Exp2Op",
    "ExpOp",
    "Expm1Op",
    "FLOAT_TYPES",
    "FloorOp",
    "GatherOp",
    "INDEX_TYPE",
    "LINALG_OPS",
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
    "SlogdetOp",
    "SolveOp",
    "SqrtOp",
    "StopGradientOp",
    "SubOp",
    "TanOp",
    "TanhOp",
    "TransposeOp",
    "TriangularSolveOp",
    "TruncOp",
    "UNARY_OPS",
    "UnaryOp",
    "YieldOp",
    "clamped_start",
    "index_table",
    "inverse_rows",
    "is_bool",
    "is_float",
    "slice_length",
    "static_shape",
    "table_values",
    "tensor_of",
]
