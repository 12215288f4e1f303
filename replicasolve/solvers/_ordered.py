"""Projection onto ordered, boxed vectors (the feasible set of Parisi order parameters)."""

from __future__ import annotations

import numpy as np

__all__ = ["project_ordered"]


def project_ordered(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Euclidean projection onto {lo ≤ v_0 ≤ v_1 ≤ … ≤ hi}: pool-adjacent-violators
    (isotonic regression), then clipping (clipping commutes with isotonic regression)."""
    vals: list[float] = []
    counts: list[int] = []
    for x in np.asarray(v, dtype=float):
        vals.append(float(x))
        counts.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            c = counts[-2] + counts[-1]
            vals[-2] = (vals[-2] * counts[-2] + vals[-1] * counts[-1]) / c
            counts[-2] = c
            vals.pop()
            counts.pop()
    return np.clip(np.repeat(vals, counts), lo, hi)
