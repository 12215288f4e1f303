"""Exceptions raised by replicasolve.

Every user-facing failure is one of these, so scripts can catch them precisely and the
command line can turn them into one clear line on stderr.
"""

from __future__ import annotations

__all__ = ["ConvergenceError", "InvalidInputError", "ReplicaSolveError"]


class ReplicaSolveError(Exception):
    """Base class of all errors raised on purpose by replicasolve."""


class InvalidInputError(ReplicaSolveError, ValueError):
    """An argument, a file or a formula is not acceptable (the message says which and why)."""


class ConvergenceError(ReplicaSolveError, RuntimeError):
    """A numerical method did not reach the asked precision."""
