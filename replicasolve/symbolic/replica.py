"""Replica-index helpers shared by the derivations: pair lists and a replicon direction.

The replicon sector of a symmetric replica matrix δX_ab (a < b) is the set of directions
whose every row sums to zero (de Almeida & Thouless, J. Phys. A 11, 983 (1978)); at n ≥ 4
the direction below lies in it and in no other sector, so a quadratic form evaluated on it
gives the replicon eigenvalue.
"""

from __future__ import annotations

__all__ = ["pairs", "replicon_vector"]


def pairs(n: int) -> list[tuple[int, int]]:
    """The replica pairs (a, b), a < b, of n replicas, in row order."""
    return [(a, b) for a in range(n) for b in range(a + 1, n)]


def replicon_vector(n: int) -> list[int]:
    """δX_12 = δX_34 = 1, δX_13 = δX_24 = -1, other pairs 0 (n ≥ 4): every row sums to
    zero. Components in the order of :func:`pairs`."""
    if n < 4:
        raise ValueError(f"a replicon direction needs n >= 4 replicas, got {n}")
    v = {(0, 1): 1, (2, 3): 1, (0, 2): -1, (1, 3): -1}
    return [v.get(p, 0) for p in pairs(n)]
