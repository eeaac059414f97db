"""Turns the engine's PipelineError back into the exception the user's code raised."""

from __future__ import annotations

from conveyor._core import PipelineError


def user_facing(error: PipelineError) -> BaseException:
    """The exception to raise for ``error``: the original Python exception's type with the
    engine's message (which names the stage and the sample), chained to the original; or the
    PipelineError itself when the failure did not come from Python code."""
    original = getattr(error, "original", None)
    if original is None:
        return error
    message = str(error)
    for make in (lambda: type(original)(message), lambda: _subclass(type(original))(message)):
        try:
            exception = make()
            str(exception)  # a type's own __str__ may fail on a message (it formats what __init__ took)
        except Exception:  # the type's constructor or __str__ wants other arguments
            continue
        exception.stage = error.stage
        exception.sample = error.sample
        exception.batch = error.batch
        exception.__cause__ = original
        return exception
    error.__cause__ = original
    return error


def _subclass(base: type) -> type:
    # An exception of the user's type (isinstance holds) that takes a message and shows it.
    return type(base.__name__, (PipelineError, base), {"__module__": base.__module__, "__str__": BaseException.__str__})
