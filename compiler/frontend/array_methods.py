"""TracedArray's operators and `numpy.ndarray` methods, and NumPy's
dispatch protocols: `np.exp(x)`, `np_array + x`, `np.sum(x)` on a traced
array call the gnp function.

Expects: the op families are importable; `gradc.frontend` imports this
module first, so every TracedArray has these methods.

Guarantees: operators compute what NumPy's do (Python operators keep two
weakly typed operands weak, gnp functions do not); a NumPy ufunc or
function gnp has no counterpart for, ufunc methods (`np.add.reduce`) and
keyword arguments (`out=`, `where=`, `dtype=`) are a `TraceTypeError`
saying what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gradc.dialects import array
from gradc.errors import TraceTypeError
from gradc.frontend import (
    creation,
    elementwise,
    factorizations,
    indexing,
    linalg,
    operands,
    reductions,
    shapes,
    tracer,
    updates,
)
from gradc.frontend.compositions import missing_message
from gradc.frontend.elementwise import _binary, _bits, _compare, _modulo, _power, _unary
from gradc.frontend.indexing import _getitem
from gradc.frontend.linalg import _matmul
from gradc.frontend.tracer import UINT32, TracedArray


class _ArrayMethods:
    """What `_install` puts on TracedArray: defined here, where the op
    families they call are importable."""

    @property
    def T(self) -> TracedArray:
        return shapes.transpose(self)

    @property
    def at(self) -> updates.IndexUpdateHelper:
        """JAX's functional updates: x.at[key].set(v), .add, .multiply, .min, .max, .get."""
        return updates.IndexUpdateHelper(self)

    @property
    def real(self) -> TracedArray:
        return elementwise.real(self)

    @property
    def imag(self) -> Any:
        return elementwise.imag(self)

    def conj(self) -> TracedArray:
        return elementwise.conj(self)

    conjugate = conj

    # -- methods as on numpy.ndarray -----------------------------------------

    def reshape(self, *shape: Any, order: str = "C") -> TracedArray:
        if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
            shape = shape[0]
        return shapes.reshape(self, shape, order=order)

    def transpose(self, *axes: Any) -> TracedArray:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], Sequence)):
            axes = axes[0]
        return shapes.transpose(self, axes or None)

    def astype(self, dtype: Any) -> TracedArray:
        return elementwise.astype(self, dtype)

    def ravel(self) -> TracedArray:
        return shapes.ravel(self)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> TracedArray:
        return shapes.squeeze(self, axis)

    def sum(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.min(self, axis=axis, keepdims=keepdims)

    def take(self, indices: Any, axis: Any = None, mode: Any = None) -> TracedArray:
        return indexing.take(self, indices, axis=axis, mode=mode)

    def clip(self, min: Any = None, max: Any = None) -> TracedArray:  # noqa: A002 - NumPy's names
        return elementwise.clip(self, min, max)

    def round(self, decimals: int = 0) -> TracedArray:
        return elementwise.round(self, decimals)

    def dot(self, other: Any) -> TracedArray:
        return linalg.dot(self, other)

    def var(self, axis: Any = None, dtype: Any = None, ddof: Any = 0, keepdims: bool = False) -> TracedArray:
        return reductions.var(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, dtype: Any = None, ddof: Any = 0, keepdims: bool = False) -> TracedArray:
        return reductions.std(self, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)

    def prod(self, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.any(self, axis=axis, keepdims=keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> TracedArray:
        return reductions.all(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> TracedArray:
        return reductions.argmax(self, axis, out, keepdims=keepdims)

    def argmin(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> TracedArray:
        return reductions.argmin(self, axis, out, keepdims=keepdims)

    def cumsum(self, axis: Any = None, dtype: Any = None) -> TracedArray:
        return reductions.cumsum(self, axis=axis, dtype=dtype)

    def cumprod(self, axis: Any = None, dtype: Any = None) -> TracedArray:
        return reductions.cumprod(self, axis=axis, dtype=dtype)

    def repeat(self, repeats: Any, axis: Any = None) -> TracedArray:
        return shapes.repeat(self, repeats, axis=axis)

    def swapaxes(self, axis1: Any, axis2: Any) -> TracedArray:
        return shapes.swapaxes(self, axis1, axis2)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> TracedArray:
        return shapes.diagonal(self, offset, axis1, axis2)

    # -- operators ------------------------------------------------------------

    def __add__(self, other: Any) -> TracedArray:
        return _binary("operator +", np.add, array.AddOp, self, other, True)

    def __radd__(self, other: Any) -> TracedArray:
        return _binary("operator +", np.add, array.AddOp, other, self, True)

    def __sub__(self, other: Any) -> TracedArray:
        return _binary("operator -", np.subtract, array.SubOp, self, other, True)

    def __rsub__(self, other: Any) -> TracedArray:
        return _binary("operator -", np.subtract, array.SubOp, other, self, True)

    def __mul__(self, other: Any) -> TracedArray:
        return _binary("operator *", np.multiply, array.MulOp, self, other, True)

    def __rmul__(self, other: Any) -> TracedArray:
        return _binary("operator *", np.multiply, array.MulOp, other, self, True)

    def __truediv__(self, other: Any) -> TracedArray:
        return _binary("operator /", np.true_divide, array.DivOp, self, other, True)

    def __rtruediv__(self, other: Any) -> TracedArray:
        return _binary("operator /", np.true_divide, array.DivOp, other, self, True)

    def __pow__(self, other: Any) -> TracedArray:
        return _power("operator **", self, other, True)

    def __rpow__(self, other: Any) -> TracedArray:
        return _power("operator **", other, self, True)

    def __matmul__(self, other: Any) -> TracedArray:
        return _matmul("operator @", self, other)

    def __rmatmul__(self, other: Any) -> TracedArray:
        return _matmul("operator @", other, self)

    def __neg__(self) -> TracedArray:
        return _unary("operator -", np.negative, array.NegOp, self, True)

    def __pos__(self) -> TracedArray:
        return self

    def __abs__(self) -> TracedArray:
        return _unary("abs", np.absolute, array.AbsOp, self, True)

    def __lt__(self, other: Any) -> TracedArray:
        return _compare("operator <", np.less, "lt", self, other)

    def __le__(self, other: Any) -> TracedArray:
        return _compare("operator <=", np.less_equal, "le", self, other)

    def __gt__(self, other: Any) -> TracedArray:
        return _compare("operator >", np.greater, "gt", self, other)

    def __ge__(self, other: Any) -> TracedArray:
        return _compare("operator >=", np.greater_equal, "ge", self, other)

    def __eq__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return _compare("operator ==", np.equal, "eq", self, other)

    def __ne__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return _compare("operator !=", np.not_equal, "ne", self, other)

    def __and__(self, other: Any) -> TracedArray:
        return _bits("operator &", np.bitwise_and, array.AndOp, self, other, True)

    def __rand__(self, other: Any) -> TracedArray:
        return _bits("operator &", np.bitwise_and, array.AndOp, other, self, True)

    def __or__(self, other: Any) -> TracedArray:
        return _bits("operator |", np.bitwise_or, array.OrOp, self, other, True)

    def __ror__(self, other: Any) -> TracedArray:
        return _bits("operator |", np.bitwise_or, array.OrOp, other, self, True)

    def __xor__(self, other: Any) -> TracedArray:
        return _bits("operator ^", np.bitwise_xor, array.XorOp, self, other, True)

    def __rxor__(self, other: Any) -> TracedArray:
        return _bits("operator ^", np.bitwise_xor, array.XorOp, other, self, True)

    def __lshift__(self, other: Any) -> TracedArray:
        return _bits("operator <<", np.left_shift, array.ShiftLeftOp, self, other, True)

    def __rlshift__(self, other: Any) -> TracedArray:
        return _bits("operator <<", np.left_shift, array.ShiftLeftOp, other, self, True)

    def __rshift__(self, other: Any) -> TracedArray:
        return _bits("operator >>", np.right_shift, array.ShiftRightOp, self, other, True)

    def __rrshift__(self, other: Any) -> TracedArray:
        return _bits("operator >>", np.right_shift, array.ShiftRightOp, other, self, True)

    def __invert__(self) -> TracedArray:
        return elementwise.invert(self)

    def __floordiv__(self, other: Any) -> TracedArray:
        return _modulo("operator //", self, other, True)[0]

    def __rfloordiv__(self, other: Any) -> TracedArray:
        return _modulo("operator //", other, self, True)[0]

    def __mod__(self, other: Any) -> TracedArray:
        return _modulo("operator %", self, other, True)[1]

    def __rmod__(self, other: Any) -> TracedArray:
        return _modulo("operator %", other, self, True)[1]

    def __divmod__(self, other: Any) -> tuple[TracedArray, TracedArray]:
        return _modulo("divmod", self, other, True)

    def __rdivmod__(self, other: Any) -> tuple[TracedArray, TracedArray]:
        return _modulo("divmod", other, self, True)

    def __getitem__(self, key: Any) -> TracedArray:
        if self.dtype == UINT32:  # keys (gradc.random): index their i32 bits, stay uint32
            bits = _getitem(TracedArray(self.value, self.trace, self.weak), key)
            return TracedArray(bits.value, bits.trace, bits.weak, UINT32)
        return _getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TraceTypeError(
            "traced arrays are immutable: instead of x[i] = v, write "
            "x = x.at[i].set(v) (or .add, .multiply, .min, .max), as in JAX"
        )

    # -- NumPy functions called on traced arrays dispatch to gnp ---------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = _NUMPY_UFUNCS.get(ufunc)
        name = f"numpy.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc else ufunc.__name__
        if method != "__call__":
            composite = _UFUNC_METHODS.get((ufunc, method))
            instead = (
                f"call gnp.{composite}(x, axis=0)" if composite in _GNP_NAMES
                else missing_message(composite) if composite is not None
                else "gradc.numpy has no ufunc methods"
            )
            raise TraceTypeError(f"{name}.{method} is not supported on traced arrays; {instead}")
        if fn is not None and kwargs:
            raise TraceTypeError(
                f"{name} with {', '.join(kwargs)}= is not supported on traced arrays: call it without "
                "(gnp functions take no out=, where= or dtype=; traced arrays are values, never "
                "written in place, and .astype converts)"
            )
        if fn is None:
            raise TraceTypeError(f"{name} is not supported on traced arrays: {missing_message(ufunc.__name__)}")
        return fn(*inputs)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any) -> Any:
        fn = _NUMPY_FUNCTIONS.get(func)
        if fn is None:
            name = func.__name__
            instead = f"call gnp.{name}" if name in _GNP_NAMES else missing_message(name)
            raise TraceTypeError(f"{func.__module__}.{name} is not supported on traced arrays: {instead}")
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------
# NumPy's own functions on traced arrays (np.exp(x), np_array + x, np.sum(x))
# ---------------------------------------------------------------------------

_NUMPY_UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: elementwise.add,
    np.subtract: elementwise.subtract,
    np.multiply: elementwise.multiply,
    np.true_divide: elementwise.divide,
    np.fmod: elementwise.fmod,
    np.remainder: elementwise.remainder,
    np.floor_divide: elementwise.floor_divide,
    np.divmod: elementwise.divmod,
    np.power: elementwise.power,
    np.negative: elementwise.negative,
    np.positive: lambda x: x,
    np.exp: elementwise.exp,
    np.log: elementwise.log,
    np.tanh: elementwise.tanh,
    np.sinh: elementwise.sinh,
    np.cosh: elementwise.cosh,
    np.tan: elementwise.tan,
    np.arcsin: elementwise.arcsin,
    np.arccos: elementwise.arccos,
    np.arctan: elementwise.arctan,
    np.arcsinh: elementwise.arcsinh,
    np.arccosh: elementwise.arccosh,
    np.arctanh: elementwise.arctanh,
    np.log1p: elementwise.log1p,
    np.expm1: elementwise.expm1,
    np.log2: elementwise.log2,
    np.log10: elementwise.log10,
    np.exp2: elementwise.exp2,
    np.floor: elementwise.floor,
    np.ceil: elementwise.ceil,
    np.trunc: elementwise.trunc,
    np.rint: elementwise.rint,
    np.sign: elementwise.sign,
    np.sin: elementwise.sin,
    np.cos: elementwise.cos,
    np.sqrt: elementwise.sqrt,
    np.absolute: elementwise.abs,
    np.square: elementwise.square,
    np.maximum: elementwise.maximum,
    np.minimum: elementwise.minimum,
    np.less: elementwise.less,
    np.less_equal: elementwise.less_equal,
    np.greater: elementwise.greater,
    np.greater_equal: elementwise.greater_equal,
    np.equal: elementwise.equal,
    np.not_equal: elementwise.not_equal,
    np.logical_and: elementwise.logical_and,
    np.logical_or: elementwise.logical_or,
    np.logical_not: elementwise.logical_not,
    np.bitwise_and: elementwise.bitwise_and,
    np.bitwise_or: elementwise.bitwise_or,
    np.bitwise_xor: elementwise.bitwise_xor,
    np.invert: elementwise.invert,
    np.left_shift: elementwise.left_shift,
    np.right_shift: elementwise.right_shift,
    np.matmul: linalg.matmul,
    np.reciprocal: elementwise.reciprocal,
    np.logaddexp: elementwise.logaddexp,
    np.logaddexp2: elementwise.logaddexp2,
    np.hypot: elementwise.hypot,
    np.isnan: elementwise.isnan,
    np.isinf: elementwise.isinf,
    np.isfinite: elementwise.isfinite,
    np.heaviside: elementwise.heaviside,
    np.arctan2: elementwise.arctan2,
    np.copysign: elementwise.copysign,
    np.signbit: elementwise.signbit,
    np.conjugate: elementwise.conj,
}

_UFUNC_METHODS: dict[tuple[np.ufunc, str], str] = {
    (np.add, "reduce"): "sum",
    (np.maximum, "reduce"): "max",
    (np.minimum, "reduce"): "min",
    (np.multiply, "reduce"): "prod",
    (np.add, "accumulate"): "cumsum",
    (np.multiply, "accumulate"): "cumprod",
}
"""The gnp function (or missing NumPy function) a ufunc method computes."""

_NUMPY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: reductions.sum,
    np.mean: reductions.mean,
    np.max: reductions.max,
    np.amax: reductions.max,
    np.min: reductions.min,
    np.amin: reductions.min,
    np.where: elementwise.where,
    np.dot: linalg.dot,
    np.transpose: shapes.transpose,
    np.reshape: shapes.reshape,
    np.ravel: shapes.ravel,
    np.squeeze: shapes.squeeze,
    np.expand_dims: shapes.expand_dims,
    np.broadcast_to: shapes.broadcast_to,
    np.concatenate: shapes.concatenate,
    np.stack: shapes.stack,
    np.zeros_like: creation.zeros_like,
    np.empty_like: creation.empty_like,
    np.ones_like: creation.ones_like,
    np.full_like: creation.full_like,
    np.shape: shapes.shape,
    np.ndim: shapes.ndim,
    np.astype: elementwise.astype,
    np.var: reductions.var,
    np.std: reductions.std,
    np.average: reductions.average,
    np.prod: reductions.prod,
    np.any: reductions.any,
    np.all: reductions.all,
    np.cumsum: reductions.cumsum,
    np.cumprod: reductions.cumprod,
    np.argmax: reductions.argmax,
    np.argmin: reductions.argmin,
    np.moveaxis: shapes.moveaxis,
    np.swapaxes: shapes.swapaxes,
    np.atleast_1d: shapes.atleast_1d,
    np.atleast_2d: shapes.atleast_2d,
    np.atleast_3d: shapes.atleast_3d,
    np.hstack: shapes.hstack,
    np.vstack: shapes.vstack,
    np.dstack: shapes.dstack,
    np.column_stack: shapes.column_stack,
    np.append: shapes.append,
    np.split: shapes.split,
    np.array_split: shapes.array_split,
    np.flip: shapes.flip,
    np.take: indexing.take,
    np.take_along_axis: indexing.take_along_axis,
    np.fliplr: shapes.fliplr,
    np.flipud: shapes.flipud,
    np.rot90: shapes.rot90,
    np.roll: shapes.roll,
    np.repeat: shapes.repeat,
    np.tile: shapes.tile,
    np.pad: shapes.pad,
    np.diff: shapes.diff,
    np.diagonal: shapes.diagonal,
    np.diag: shapes.diag,
    np.tril: shapes.tril,
    np.triu: shapes.triu,
    np.outer: linalg.outer,
    np.inner: linalg.inner,
    np.vdot: linalg.vdot,
    np.kron: linalg.kron,
    np.trace: linalg.trace,
    np.einsum: linalg.einsum,
    np.tensordot: linalg.tensordot,
    np.linalg.norm: linalg.norm,
    np.linalg.multi_dot: linalg.multi_dot,
    np.linalg.cholesky: factorizations.cholesky,
    np.linalg.solve: factorizations.solve,
    np.linalg.inv: factorizations.inv,
    np.linalg.det: factorizations.det,
    np.linalg.slogdet: factorizations.slogdet,
    np.linalg.eigh: factorizations.eigh,
    np.linalg.eigvalsh: factorizations.eigvalsh,
    np.round: elementwise.round,
    np.around: elementwise.around,
    np.fix: elementwise.fix,
    np.clip: elementwise.clip,
    np.sinc: elementwise.sinc,
    np.real: elementwise.real,
    np.imag: elementwise.imag,
    np.angle: elementwise.angle,
    np.iscomplexobj: elementwise.iscomplexobj,
    np.isrealobj: elementwise.isrealobj,
    np.iscomplex: elementwise.iscomplex,
    np.isreal: elementwise.isreal,
}

_GNP_NAMES = frozenset(
    name
    for module in (tracer, operands, elementwise, reductions, shapes, linalg, creation, indexing)
    for name in module.__all__
) | {"linalg"}
"""What `gradc.numpy` has (its `__all__` lists the same names; `linalg` is
its namespace for numpy.linalg's norm and multi_dot)."""


def _install() -> None:
    for name, value in vars(_ArrayMethods).items():
        if callable(value) or isinstance(value, property):
            setattr(TracedArray, name, value)


_install()
