"""Numbers derived from results for reporting them: what the command line (and anyone
comparing or tabulating results) prints beside the results themselves.

Kept apart from the solvers so that the command line does no arithmetic of its own: every
number it prints comes from the library.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["claimed", "decimal", "error_floor", "relative_difference"]


def decimal(value: float, places: int) -> str:
    """``value`` with ``places`` decimals where that reads well (1e-4 ≤ |value| < 1e8, or
    0), else in scientific notation with ``places`` digits after the point: a critical
    temperature of 1e77 (couplings of variance 1e154) prints as ``1.04861699e+77``, not as
    78 digits."""
    v = float(value)
    if v == 0 or (1e-4 <= abs(v) < 1e8):
        return f"{v:.{places}f}"
    return f"{v:.{places}e}"


def claimed(value: float, error: float) -> str:
    """``value`` with the digits its ``error`` supports: one guard digit past the decade of
    the error's leading digit, at most 12 significant digits (``12g`` where the error is
    not a finite positive number or the value is 0)."""
    value, error = float(value), float(error)
    if not (math.isfinite(value) and math.isfinite(error)) or error <= 0 or value == 0:
        return f"{value:.12g}"
    lead = math.floor(math.log10(abs(value)))
    last = math.floor(math.log10(error)) - 1  # the guard digit's decade
    digits = min(max(lead - last + 1, 1), 12)
    return f"{value:.{digits}g}"


def relative_difference(value: float, reference: float) -> float:
    """``(value - reference) / reference``, e.g. a TAP beta_c against the replica theory's.

    Signed: positive when ``value`` is above ``reference``.
    """
    return (value - reference) / reference


def error_floor(values: Any, errors: Any) -> Any:
    """Error estimates that are never below rounding of the values themselves.

    ``errors`` (an array, e.g. :meth:`XiFunction.errors_at`, a half-resolution chain meant as
    an upper bound) is raised to ``8 eps |values|`` elementwise: a value known "exactly"
    still carries the rounding of its last bits. Returns a float numpy array of the
    broadcast shape.
    """
    import numpy as np

    values = np.asarray(values)
    return np.maximum(np.asarray(errors), 8 * np.finfo(float).eps * np.abs(values))
