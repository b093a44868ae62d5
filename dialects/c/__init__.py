"""The `c` dialect: just enough structure to print C99.

What lower-loops-to-c produces and the C printer (gradc.backend.target_c)
prints. Statements are ops with regions or no results (`c.func`, `c.for`,
`c.store`, `c.return`, `c.pragma`, `c.switch`: statements.py); everything that computes
a value is an SSA expression (`c.add`, `c.call`, `c.load`, ...:
expressions.py) that the printer either inlines into its single user or
binds to a `const` local. Four statements are bigger than a line of C
(kernels.py): `c.microkernel`, a register tile of a matrix product, and
`c.pack`, a copy of a block into panels, each printed as a call of a
`static inline` function written with GNU C vector extensions (one per
distinct shape); `c.linalg`, a factorization or solve, printed as a call
of a static helper (one per kind, flags, size and element type); and
`c.schedule`, a table of checkpoint actions and a loop over it.

Expects: buffers are flat pointers (`!c.ptr<f32>`, types.py):
multi-dimensional indexing is already folded into one `index` by
lower-loops-to-c, so the printer never needs shapes. Scalar types are
builtin: f32 (float), f64 (double), i1 (bool), index (int64_t), i8..i64
(intN_t), plus `!c.size_t`.

Guarantees (the verifiers): every value is a C scalar or pointer; every
function name is a valid C identifier that nothing around generated code
reserves (identifiers.py), or one of gradc's own `static gradc_*` helpers;
pragma text stays one inert line; nothing is written through a const
pointer.

Why the name lists and the verifier policy are what they are:
docs/dialects.md.
"""

from __future__ import annotations

from xdsl.ir import Dialect

from gradc.dialects.c.expressions import (
    GRADC_MATH_FUNCTIONS,
    AddOp,
    AndOp,
    BinaryExprOp,
    CallOp,
    CastOp,
    CompareOp,
    DivOp,
    RemOp,
    BitAndOp,
    BitOrOp,
    BitXorOp,
    ShlOp,
    ShrOp,
    BitNotOp,
    BitwiseOp,
    EqOp,
    GeOp,
    GtOp,
    LeOp,
    LiteralOp,
    LoadOp,
    LogicalOp,
    LtOp,
    MathOp,
    MulOp,
    NegOp,
    NeOp,
    NotOp,
    OrOp,
    SelectOp,
    SubOp,
    UnaryExprOp,
)
from gradc.dialects.c.identifiers import (
    C_KEYWORDS,
    GRADC_PREFIX,
    LIBC_FUNCTIONS,
    LIBRARY_NAMES,
    MATH_FUNCTIONS,
    RESERVED_PATTERN,
    c_identifier,
    is_c_identifier,
    is_math_function,
    is_reserved,
    show_symbol,
)
from gradc.dialects.c.kernels import LinalgOp, MicrokernelOp, PackOp, ScheduleOp
from gradc.dialects.c.statements import (
    PRAGMA_TEXT,
    ArrayOp,
    BreakUnlessOp,
    ByteOffsetOp,
    FailIfOp,
    ForOp,
    FuncOp,
    InvokeOp,
    PragmaOp,
    ReturnOp,
    StaticArrayOp,
    StoreOp,
    SwitchOp,
    ThreadNumOp,
    WhileOp,
)
from gradc.dialects.c.types import PtrType, SizeType, is_scalar_type

C = Dialect(
    "c",
    [
        ScheduleOp,
        FuncOp,
        ReturnOp,
        InvokeOp,
        ForOp,
        SwitchOp,
        WhileOp,
        BreakUnlessOp,
        FailIfOp,
        PragmaOp,
        ThreadNumOp,
        ArrayOp,
        StaticArrayOp,
        ByteOffsetOp,
        StoreOp,
        MicrokernelOp,
        LinalgOp,
        PackOp,
        LoadOp,
        LiteralOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        RemOp,
        BitAndOp,
        BitOrOp,
        BitXorOp,
        ShlOp,
        ShrOp,
        BitNotOp,
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

__all__ = [
    "C",
    "C_KEYWORDS",
    "GRADC_MATH_FUNCTIONS",
    "GRADC_PREFIX",
    "LIBC_FUNCTIONS",
    "LIBRARY_NAMES",
    "MATH_FUNCTIONS",
    "PRAGMA_TEXT",
    "RESERVED_PATTERN",
    "AddOp",
    "AndOp",
    "ArrayOp",
    "BinaryExprOp",
    "ByteOffsetOp",
    "CallOp",
    "CastOp",
    "CompareOp",
    "DivOp",
    "RemOp",
    "BitAndOp",
    "BitOrOp",
    "BitXorOp",
    "ShlOp",
    "ShrOp",
    "BitNotOp",
    "BitwiseOp",
    "EqOp",
    "ForOp",
    "InvokeOp",
    "WhileOp",
    "BreakUnlessOp",
    "FailIfOp",
    "FuncOp",
    "GeOp",
    "GtOp",
    "LeOp",
    "LiteralOp",
    "LoadOp",
    "LogicalOp",
    "LtOp",
    "MathOp",
    "LinalgOp",
    "MicrokernelOp",
    "MulOp",
    "NeOp",
    "NegOp",
    "NotOp",
    "OrOp",
    "PackOp",
    "PragmaOp",
    "PtrType",
    "ReturnOp",
    "ScheduleOp",
    "SelectOp",
    "SizeType",
    "StaticArrayOp",
    "StoreOp",
    "SwitchOp",
    "SubOp",
    "ThreadNumOp",
    "UnaryExprOp",
    "c_identifier",
    "is_c_identifier",
    "is_math_function",
    "is_reserved",
    "is_scalar_type",
    "show_symbol",
]
