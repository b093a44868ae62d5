"""Interpreter functions for `func`: calls and returns.

xDSL has these too, but importing `xdsl.interpreters` loads every
interpreter it ships: ~150 ms on each first compile.
"""

from __future__ import annotations

from typing import Any

from xdsl.dialects import func
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_callable,
    impl_terminator,
    register_impls,
)


@register_impls
class FuncFunctions(InterpreterFunctions):
    """`func` calls and returns. (xDSL has these too, but importing
    `xdsl.interpreters` loads every interpreter it ships: ~150 ms on each
    first compile.)"""

    @impl_callable(func.FuncOp)
    def call_func(self, interp: Interpreter, op: func.FuncOp, args: tuple[Any, ...]):
        return interp.run_ssacfg_region(op.body, args, op.sym_name.data)

    @impl(func.CallOp)
    def run_call(self, interp: Interpreter, op: func.CallOp, args: PythonValues):
        return interp.call_op(op.callee, args)

    @impl_terminator(func.ReturnOp)
    def run_return(
        self, interp: Interpreter, op: func.ReturnOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()
