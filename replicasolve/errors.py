"""Exceptions raised by replicasolve.

Every user-facing failure is one of these, so scripts can catch them precisely and the
command line can turn them into one clear line on stderr.
"""

from __future__ import annotations

__all__ = ["ConvergenceError", "ExecutorError", "InvalidInputError", "ReplicaSolveError"]


class ReplicaSolveError(Exception):
    """Base class of all errors raised on purpose by replicasolve."""


class InvalidInputError(ReplicaSolveError, ValueError):
    """An argument, a file or a formula is not acceptable (the message says which and why)."""


class ConvergenceError(ReplicaSolveError, RuntimeError):
    """A numerical method did not reach the asked precision."""


class ExecutorError(ReplicaSolveError, RuntimeError):
    """The machinery that runs the work failed (e.g. a Dask scheduler or its workers were lost
    mid-run); work finished before the failure is kept (the message says where)."""
