"""Gauss–Hermite quadrature for Gaussian averages: the one rule every floor uses.

``E f(z)`` over ``z ~ N(0, 1)`` is ``Σ_i w_i f(z_i)`` with the nodes and weights of
:func:`gauss_hermite`: exact for polynomials of degree ≤ 2n - 1 (Golub–Welsch; Abramowitz &
Stegun 25.4.46 for the physicists' form, rescaled here by z = √2 x).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .errors import InvalidInputError

__all__ = ["MAX_GAUSS_HERMITE", "gauss_hermite"]

#: numpy's Hermite weights overflow beyond about 370 nodes (and the rule is slow there)
MAX_GAUSS_HERMITE = 360


@lru_cache(maxsize=64)
def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-point Gauss–Hermite rule for the standard normal measure.

    Args:
        n: number of nodes, 1..:data:`MAX_GAUSS_HERMITE`.

    Returns:
        ``(z, w)``, each of shape ``(n,)``, read-only: nodes in increasing order and weights
        summing to 1, so that ``E f(z) ≈ w @ f(z)``.

    Raises:
        InvalidInputError: ``n`` not an integer in range.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not \
            1 <= n <= MAX_GAUSS_HERMITE:
        raise InvalidInputError(
            f"Gauss-Hermite order must be an integer in 1..{MAX_GAUSS_HERMITE}, got {n!r}")
    x, w = np.polynomial.hermite.hermgauss(int(n))
    z = x * math.sqrt(2.0)
    w = w / w.sum()  # Σ w = √π for the weight e^{-x²}
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w
