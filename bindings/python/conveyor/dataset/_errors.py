"""The exception a user sees in place of the engine's PipelineError."""

from __future__ import annotations

from conveyor import _core
from conveyor._errors import user_facing


def user_facing_error(error: _core.PipelineError) -> BaseException:
    """conveyor._errors.user_facing(error), to raise in the ``except`` block that caught
    ``error``: the traceback chains to the original exception, not to ``error``."""
    exception = user_facing(error)
    exception.__suppress_context__ = True  # the chain to the original is __cause__
    return exception
