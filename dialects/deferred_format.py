"""`op_definition`: xDSL's `irdl_op_definition` for gradc's ops, with the
declarative `assembly_format` compiled when the op is first parsed or
printed instead of when its class is defined.

Expects: an `IRDLOperation` subclass, as `irdl_op_definition` does; an op
with an `assembly_format` must not define `parse` or `print` itself.

Guarantees: the op parses, prints and verifies exactly as under
`irdl_op_definition`; `format_program(op)` compiles its format (once) and
raises xDSL's `PyRDLOpDefinitionError` if the format is malformed
(tests/test_imports.py compiles every op's, so a bad format still fails the
tests). Why: compiling the formats was most of what defining gradc's ops
cost at import, and a program that only traces and builds C never parses or
prints IR (docs/architecture.md, "Import time").
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, TypeVar

from xdsl.ir import Operation
from xdsl.irdl import IRDLOperation, irdl_op_definition
from xdsl.utils.exceptions import ParseError, PyRDLOpDefinitionError

if TYPE_CHECKING:
    from xdsl.irdl.declarative_assembly_format import FormatProgram
    from xdsl.parser import Parser
    from xdsl.printer import Printer

OpT = TypeVar("OpT", bound=IRDLOperation)

_FORMAT = "_gradc_assembly_format"
"""The class attribute that keeps an op's own format text while xDSL sees none."""


def op_definition(cls: type[OpT]) -> type[OpT]:
    """`irdl_op_definition(cls)`, its assembly format compiled on first use."""
    text = cls.assembly_format
    if text is None:
        return irdl_op_definition(cls)
    if cls.print not in (Operation.print, _print_with_format) or cls.parse.__func__ not in (
        Operation.parse.__func__,
        _parse_with_format.__func__,
    ):
        raise PyRDLOpDefinitionError(
            f"{cls.__name__}: cannot define both an assembly format and the print and parse methods"
        )
    own = "assembly_format" in cls.__dict__
    cls.assembly_format = None
    irdl_op_definition(cls)
    if own:
        cls.assembly_format = text
    else:
        del cls.assembly_format
    cls.get_irdl_definition().assembly_format = text
    setattr(cls, _FORMAT, text)
    cls.parse = _parse_with_format
    cls.print = _print_with_format
    return cls


@functools.cache
def format_program(cls: type[IRDLOperation]) -> FormatProgram:
    """The compiled assembly format of an op defined with `op_definition`
    (a PyRDLOpDefinitionError for one defined with `irdl_op_definition`)."""
    if not hasattr(cls, _FORMAT):
        raise PyRDLOpDefinitionError(f"{cls.__name__}: not defined with gradc.dialects.deferred_format.op_definition")
    from xdsl.irdl.declarative_assembly_format import FormatProgram  # ~25 ms of imports, paid on first use

    try:
        return FormatProgram.from_str(getattr(cls, _FORMAT), cls.get_irdl_definition())
    except ParseError as err:
        raise PyRDLOpDefinitionError(f"{cls.__name__}: error in its assembly format: {err}") from err


@classmethod  # type: ignore[misc]
def _parse_with_format(cls: type[OpT], parser: Parser) -> OpT:
    return format_program(cls).parse(parser, cls)


def _print_with_format(self: IRDLOperation, printer: Printer) -> None:
    format_program(type(self)).print(printer, self)
