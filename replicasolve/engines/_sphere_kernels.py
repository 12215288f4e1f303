"""Compiled kernels of the pair-rotation sampler of :mod:`replicasolve.engines.sphere`
(:func:`~replicasolve.engines.sphere.pt_sphere`): a one-hidden-layer network's energy from
its preactivations, the resynchronisation of the incremental preactivations, and the
parallel-tempering sweeps. Private to :mod:`replicasolve.engines.sphere`, which compiles them
on first use."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..jit import njit

__all__ = ["fast_sin", "layer", "resync", "run_pt"]

# activation codes (see replicasolve.engines.sphere.kernel_activation_code): 0 linear,
# 1 sin, 2 tanh, 3 relu, 4 erf


@njit(inline="always")
def fast_sin(t: float) -> float:
    """sin t for the kernel (see the comment)."""
    # sin by Cody–Waite reduction to r = t - kπ ∈ [-π/2, π/2] and the Taylor polynomial
    # of degree 21 (remainder (π/2)^23/23! < 2e-18); measured |error| < 4e-15 for
    # |t| ≤ 40 against numpy. Branch-free, so the loop vectorises (~5× math.sin).
    k = math.floor(t * 0.3183098861837907 + 0.5)
    r = (t - k * 3.141592653589793) - k * 1.2246467991473532e-16
    r2 = r * r
    p = 1.9572941063391263e-20
    p = p * r2 - 8.22063524662433e-18
    p = p * r2 + 2.8114572543455206e-15
    p = p * r2 - 7.647163731819816e-13
    p = p * r2 + 1.6059043836821613e-10
    p = p * r2 - 2.505210838544172e-08
    p = p * r2 + 2.7557319223985893e-06
    p = p * r2 - 0.0001984126984126984
    p = p * r2 + 0.008333333333333333
    p = p * r2 - 0.16666666666666666
    p = p * r2 + 1.0
    half = 0.5 * k
    return r * p * (1.0 - 4.0 * (half - math.floor(half)))


@njit
def layer(code: int, hrow: Any, v: Any, buf: Any) -> float:
    """Σ_u v_u φ(h_u) (φ evaluated into ``buf``, then a 4-way summed dot product)."""
    n1 = hrow.shape[0]
    if code == 1:
        for u in range(n1):
            buf[u] = fast_sin(hrow[u])
    elif code == 2:
        for u in range(n1):
            buf[u] = math.tanh(hrow[u])
    elif code == 3:
        for u in range(n1):
            buf[u] = hrow[u] if hrow[u] > 0.0 else 0.0
    elif code == 4:
        for u in range(n1):
            buf[u] = math.erf(hrow[u])
    else:
        for u in range(n1):
            buf[u] = hrow[u]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    top = n1 - n1 % 4
    for u in range(0, top, 4):
        a0 += v[u] * buf[u]
        a1 += v[u + 1] * buf[u + 1]
        a2 += v[u + 2] * buf[u + 2]
        a3 += v[u + 3] * buf[u + 3]
    for u in range(top, n1):
        a0 += v[u] * buf[u]
    return (a0 + a1) + (a2 + a3)


@njit
def resync(x: Any, h: Any, e: Any, wt: Any, b1: Any, v: Any, b_out: float,
            code: int) -> None:
    """Project every configuration back onto |x|² = N and recompute h and H from x (the
    incremental updates drift by rounding)."""
    n_slots, n = x.shape
    n1 = h.shape[1]
    sqrt_n = math.sqrt(n)
    buf = np.empty(n1)
    for c in range(n_slots):
        s = 0.0
        for i in range(n):
            s += x[c, i] * x[c, i]
        scale = sqrt_n / math.sqrt(s)
        for i in range(n):
            x[c, i] *= scale
        for u in range(n1):
            h[c, u] = b1[u]
        for i in range(n):
            xi = x[c, i]
            for u in range(n1):
                h[c, u] += wt[i, u] * xi
        e[c] = sqrt_n * (layer(code, h[c], v, buf) + b_out)


@njit
def run_pt(x: Any, h: Any, e: Any, wt: Any, b1: Any, v: Any, b_out: float, code: int,
           betas: Any, delta: Any, perm: Any, direction: Any, n_sweeps: int, burn_in: int,
           every: int, swap_every: int, resync_every: int, target: float, seed: int,
           out_e: Any, out_q: Any, acc: Any, swap_acc: Any, swap_try: Any,
           trips: Any) -> None:
    """``burn_in + n_sweeps`` PT sweeps in place (see
    :func:`replicasolve.engines.sphere.pt_sphere`)."""
    # numba's own per-thread generator (the legacy API is the one numba compiles),
    # seeded here from the caller's numpy Generator: runs are reproducible
    np.random.seed(seed)  # noqa: NPY002
    n = x.shape[1]
    n1 = h.shape[1]
    kk, rr = perm.shape
    sqrt_n = math.sqrt(n)
    moves = max(1, n // 2)
    hp = np.empty(n1)
    buf = np.empty(n1)
    window = np.zeros(kk)
    t_out = 0
    for sweep in range(burn_in + n_sweeps):
        production = sweep >= burn_in
        for k in range(kk):
            beta = betas[k]
            d = delta[k]
            for r in range(rr):
                c = perm[k, r]
                nacc = 0
                for _ in range(moves):
                    i = np.random.randint(n)  # noqa: NPY002
                    j = np.random.randint(n - 1)  # noqa: NPY002
                    if j >= i:
                        j += 1
                    th = d * (2.0 * np.random.random() - 1.0)  # noqa: NPY002
                    cs = math.cos(th)
                    sn = math.sin(th)
                    xi = x[c, i]
                    xj = x[c, j]
                    dxi = cs * xi - sn * xj - xi
                    dxj = sn * xi + cs * xj - xj
                    for u in range(n1):
                        hp[u] = h[c, u] + wt[i, u] * dxi + wt[j, u] * dxj
                    enew = sqrt_n * (layer(code, hp, v, buf) + b_out)
                    de = enew - e[c]
                    if de <= 0.0 or np.random.random() < math.exp(-beta * de):  # noqa: NPY002
                        x[c, i] = xi + dxi
                        x[c, j] = xj + dxj
                        for u in range(n1):
                            h[c, u] = hp[u]
                        e[c] = enew
                        nacc += 1
                if production:
                    acc[k] += nacc / moves
                else:
                    window[k] += nacc / moves
        if not production and (sweep + 1) % 20 == 0:
            for k in range(kk):
                rate = window[k] / (20 * rr)
                delta[k] = min(math.pi, max(1e-4, delta[k] * math.exp(rate - target)))
                window[k] = 0.0
        if (sweep + 1) % resync_every == 0:
            resync(x, h, e, wt, b1, v, b_out, code)
        if (sweep + 1) % swap_every == 0:
            for r in range(rr):
                for k in range(kk - 1):
                    c0 = perm[k, r]
                    c1 = perm[k + 1, r]
                    lg = (betas[k + 1] - betas[k]) * (e[c1] - e[c0])
                    ok = lg >= 0.0 or np.random.random() < math.exp(lg)  # noqa: NPY002
                    if ok:
                        perm[k, r] = c1
                        perm[k + 1, r] = c0
                    if production:
                        swap_try[k] += 1
                        if ok:
                            swap_acc[k] += 1
                hot = perm[0, r]
                if direction[hot] == -1 and production:
                    trips[r] += 1
                direction[hot] = 1
                direction[perm[kk - 1, r]] = -1
        if production and (sweep - burn_in + 1) % every == 0:
            for k in range(kk):
                p = 0
                for r in range(rr):
                    out_e[t_out, k, r] = e[perm[k, r]] / n
                    for s in range(r + 1, rr):
                        a = perm[k, r]
                        b = perm[k, s]
                        dot = 0.0
                        for i in range(n):
                            dot += x[a, i] * x[b, i]
                        out_q[t_out, k, p] = dot / n
                        p += 1
            t_out += 1
