"""`gradc.stack_usage.measure`: the stack a generated function needs, as gcc
reports it; implemented in `gradc.backend.stack_usage`."""

from gradc.backend.stack_usage import *  # noqa: F403
from gradc.backend.stack_usage import __all__  # noqa: F401
