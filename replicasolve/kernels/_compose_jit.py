"""numba kernel of the tabulated depth composition (see :mod:`replicasolve.kernels.compose`).

A real module file, so numba's on-disk cache works (``cache=True`` in the one wrapper).
"""

from __future__ import annotations

import numpy as np

from ..jit import njit


@njit
def _hermite_cubic(tab: np.ndarray, j: int, i: int, t: float, h: float) -> float:
    # cubic Hermite on [ρ_i, ρ_{i+1}] from the values of f^(j) and of its slope f^(j+1)
    y0, y1 = tab[j, i], tab[j, i + 1]
    if t == 0.0:
        return y0
    if t == 1.0:
        return y1
    m0, m1 = tab[j + 1, i] * h, tab[j + 1, i + 1] * h
    if not (np.isfinite(m0) and np.isfinite(m1)):
        # an integrable endpoint singularity of the next derivative (ReLU at ρ = ±1):
        # linear interpolation in the last cell rather than inf·0
        return y0 + t * (y1 - y0)
    t2 = t * t
    t3 = t2 * t
    return ((2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + t) * m0
            + (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * m1)


@njit
def compose(q, w2, b2, var, tables, out):  # pragma: no cover - compiled
    """ξ, ξ', ξ'', ξ''' at every q (out has shape (4, len(q)))."""
    depth = var.shape[0]
    m = tables.shape[2]
    h = 2.0 / (m - 1)
    for p in range(q.shape[0]):
        k = b2[0] + w2[0] * q[p]
        d1 = w2[0]
        d2 = 0.0
        d3 = 0.0
        for layer in range(depth):
            v = var[layer]
            rho = k / v
            # |ρ| ≤ 1 holds exactly; only the rounding of the previous layer can exceed it
            if rho > 1.0:
                rho = 1.0
            elif rho < -1.0:
                rho = -1.0
            x = (rho + 1.0) / h
            i = int(x)
            if i >= m - 1:
                i = m - 2
            t = x - i
            tab = tables[layer]
            f0 = _hermite_cubic(tab, 0, i, t, h)
            f1 = _hermite_cubic(tab, 1, i, t, h)
            f2 = _hermite_cubic(tab, 2, i, t, h)
            f3 = _hermite_cubic(tab, 3, i, t, h)
            a1 = d1 / v
            a2 = d2 / v
            a3 = d3 / v
            w = w2[layer + 1]
            k = b2[layer + 1] + w * f0
            # Faà di Bruno for K_{l+1}(q) = b + w f(K_l(q) / v)
            d3 = w * (f3 * a1 * a1 * a1 + 3.0 * f2 * a1 * a2 + f1 * a3)
            d2 = w * (f2 * a1 * a1 + f1 * a2)
            d1 = w * f1 * a1
        out[0, p] = k
        out[1, p] = d1
        out[2, p] = d2
        out[3, p] = d3
