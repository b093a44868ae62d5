"""`import gradc.numpy as gnp`: NumPy's functions, traced into the `array`
dialect. The public namespace; the functions are defined in
`gradc.frontend.numpy` (see its docstring for the dtype, broadcasting and
error rules)."""

from gradc.frontend.numpy import *  # noqa: F403
from gradc.frontend.numpy import __all__, __getattr__  # noqa: F401
