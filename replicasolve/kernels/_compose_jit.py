"""numba kernels of the tabulated depth composition (see :mod:`replicasolve.kernels.compose`).

A real module file, so numba's on-disk cache works (``cache=True`` in the one wrapper).

Every overlap ``q[p]`` is an independent chain through the layers, but within one chain
each layer waits for the previous one (two divisions, a table look-up and a cubic: a long
latency). The loops therefore run layer-outer, overlap-inner over blocks of
:data:`BLOCK` overlaps: the chains of a block are independent instructions the CPU
overlaps, and the block's working values (ξ and its derivatives so far) live in the output
itself, in L1 cache. :func:`compose_parallel` spreads the blocks over numba's threads.
Each overlap's arithmetic is the same operations in the same order whatever the block or
the thread, so the results do not depend on the thread count or on the block size.
"""

from __future__ import annotations

import numba
import numpy as np

from ..jit import njit

__all__ = ["BLOCK", "compose", "compose_blocks", "compose_parallel"]

#: overlaps per block: 4 × 512 doubles of working values (16 kB) stay in L1 cache
BLOCK = 512


@njit
def _hermite_cubic(tab, j, i, t, h, h00, h10, h01, h11):  # pragma: no cover - compiled
    # cubic Hermite on [ρ_i, ρ_{i+1}] from the values of f^(j) and of its slope f^(j+1);
    # h00..h11 are the four basis polynomials at t (the same for every j)
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
    return h00 * y0 + h10 * m0 + h01 * y1 + h11 * m1


@njit
def compose_blocks(q, w2, b2, var, tables, out, start, stop, nout):  # pragma: no cover
    """ξ and its first ``nout - 1`` derivatives at ``q[start:stop]`` into ``out[:nout]``.

    Returns how many of those q are not finite or have |q| > 1 (their outputs are
    meaningless; the caller refuses the input).
    """
    depth = var.shape[0]
    m = tables.shape[2]
    h = 2.0 / (m - 1)
    # x / h is x · (m - 1)/2 exactly when m - 1 is a power of two (the tables' sizes): a
    # multiplication instead of a division, the same bits
    exact = (m - 1) & (m - 2) == 0
    inv_h = (m - 1) / 2.0
    bad = 0
    for p in range(start, stop):
        if not abs(q[p]) <= 1.0:  # also NaN
            bad += 1
        out[0, p] = b2[0] + w2[0] * q[p]
        if nout > 1:
            out[1, p] = w2[0]
        if nout > 2:
            out[2, p] = 0.0
        if nout > 3:
            out[3, p] = 0.0
    for layer in range(depth):
        v = var[layer]
        w = w2[layer + 1]
        b = b2[layer + 1]
        tab = tables[layer]
        for p in range(start, stop):
            rho = out[0, p] / v
            # |ρ| ≤ 1 holds exactly; only the rounding of the previous layer can exceed it
            if rho > 1.0:
                rho = 1.0
            elif rho < -1.0:
                rho = -1.0
            x = (rho + 1.0) * inv_h if exact else (rho + 1.0) / h
            i = int(x)
            if i >= m - 1:
                i = m - 2
            t = x - i
            t2 = t * t
            t3 = t2 * t
            h00 = 2 * t3 - 3 * t2 + 1
            h10 = t3 - 2 * t2 + t
            h01 = -2 * t3 + 3 * t2
            h11 = t3 - t2
            f0 = _hermite_cubic(tab, 0, i, t, h, h00, h10, h01, h11)
            out[0, p] = b + w * f0
            if nout > 1:
                f1 = _hermite_cubic(tab, 1, i, t, h, h00, h10, h01, h11)
                a1 = out[1, p] / v
                if nout > 2:
                    f2 = _hermite_cubic(tab, 2, i, t, h, h00, h10, h01, h11)
                    a2 = out[2, p] / v
                    if nout > 3:
                        f3 = _hermite_cubic(tab, 3, i, t, h, h00, h10, h01, h11)
                        a3 = out[3, p] / v
                        # Faà di Bruno for K_{l+1}(q) = b + w f(K_l(q) / v)
                        out[3, p] = w * (f3 * a1 * a1 * a1 + 3.0 * f2 * a1 * a2 + f1 * a3)
                    out[2, p] = w * (f2 * a1 * a1 + f1 * a2)
                out[1, p] = w * f1 * a1
    return bad


@njit
def compose_serial(q, w2, b2, var, tables, out, nout):  # pragma: no cover - compiled
    """:func:`compose_blocks` over all of ``q`` on the calling thread."""
    n = q.shape[0]
    bad = 0
    for blk in range((n + BLOCK - 1) // BLOCK):
        bad += compose_blocks(
            q, w2, b2, var, tables, out, blk * BLOCK, min(n, (blk + 1) * BLOCK), nout
        )
    return bad


@njit(parallel=True)
def compose_parallel(q, w2, b2, var, tables, out, nout):  # pragma: no cover - compiled
    """:func:`compose_blocks` over all of ``q``, the blocks spread over numba's threads."""
    n = q.shape[0]
    bad = 0
    for blk in numba.prange((n + BLOCK - 1) // BLOCK):
        bad += compose_blocks(
            q, w2, b2, var, tables, out, blk * BLOCK, min(n, (blk + 1) * BLOCK), nout
        )
    return bad


def compose(q, w2, b2, var, tables, out):  # pragma: no cover - thin wrapper
    """ξ, ξ', ξ'', ξ''' at every q (out has shape (4, len(q))), on the calling thread."""
    compose_serial(q, w2, b2, var, tables, out, 4)
