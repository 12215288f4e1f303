"""The settings of a Monte Carlo run, checked: one set of rules for the engines and for the
:class:`~replicasolve.engines.montecarlo.MonteCarlo` method object, which checks them when
it is built (so a bad setting is refused before any work, with the engine's own message)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["DTYPES", "UPDATES", "dtype_of", "ladder", "seed_sequence", "temperature",
           "thread_count", "update_rule", "whole_number"]

#: the single-spin update rules: Metropolis (accept with min(1, e^{-ΔE/T})) and heat bath
UPDATES = ("metropolis", "heatbath")
#: the floating types the fields may be kept in
DTYPES = {"float32": np.float32, "float64": np.float64}


def whole_number(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def temperature(value: Any) -> float:
    """A temperature: a finite number > 0 (energy units of the couplings)."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"temperature must be a number, got {value!r}") from None
    if not math.isfinite(t) or t <= 0:
        raise InvalidInputError(f"temperature must be positive and finite, got {value!r}")
    return t


def ladder(temperatures: Any) -> np.ndarray:
    """A parallel-tempering ladder: >= 2 finite temperatures > 0, strictly increasing,
    as a float64 array of shape ``(K,)``."""
    try:
        t = np.asarray(temperatures, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("temperatures must be a list of numbers") from None
    if t.ndim != 1 or t.size < 2:
        raise InvalidInputError(f"need a ladder of >= 2 temperatures, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise InvalidInputError(f"temperatures must be positive and finite, got {t.tolist()}")
    if np.any(np.diff(t) <= 0):
        raise InvalidInputError(f"temperatures must be strictly increasing, got {t.tolist()}")
    return t


def update_rule(method: Any) -> bool:
    """Check a single-spin update rule (:data:`UPDATES`); True for heat bath."""
    if method not in UPDATES:
        raise InvalidInputError(f"method must be one of {UPDATES}, got {method!r}")
    return method == "heatbath"


def dtype_of(dtype: Any) -> tuple[str, type]:
    """The name and numpy type of a field dtype (:data:`DTYPES`)."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise InvalidInputError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name, DTYPES[name]


def thread_count(threads: Any) -> int:
    """Threads for a run: an int >= 1, or ``None`` for numba's current thread count."""
    if threads is None:
        import numba

        return int(numba.get_num_threads())
    return whole_number(threads, "threads", 1)


def seed_sequence(seed: Any) -> np.random.SeedSequence:
    """A ``SeedSequence`` from an int >= 0, a ``SeedSequence``, or None (fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))
