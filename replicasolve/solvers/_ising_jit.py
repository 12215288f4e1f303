"""Compiled kernels of the Ising Parisi recursion (see :mod:`replicasolve.solvers.ising`).

A Parisi function Ψ(u) is stored on the half grid u_j = j·du, j = 0..N-1, using its
symmetry Ψ(-u) = Ψ(u) (the terminal condition is even, every step preserves evenness);
beyond the grid it is continued by its exact asymptote Ψ(u) = |u| + const (slope ±1),
which holds up to Gaussian-tail corrections e^{-u²/(2ξ'(1))} that the grid width makes
negligible. Alongside Ψ the grid carries Ψ' and Ψ'' (needed for the gradient and the
replicon, and propagated exactly by the same quadrature).

One step of the recursion, with tilt γ ≥ 0 and variance σ²:

    Ψ_new(u) = (1/γ) ln E_z exp(γ Ψ(u + σ z))      (γ = 0: E_z Ψ(u + σ z))

is a weighted sum over "nodes" k: an integer offset ``base[k]`` plus a small interpolation
stencil ``coef[k, r]`` (r = 0..R-1, applied at ``base[k] + r - (R-1)//2``), with Gaussian
weight ``weight[k]``. Two node sets are used (built in Python): the trapezoid rule on the grid
itself (R = 1; spectrally accurate when σ is a few grid steps or more, since Ψ is analytic
in a strip) and Gauss–Hermite nodes with 8-point Lagrange interpolation (small σ).
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit


@njit
def _fetch(psi, d1, d2, i, du):
    n = psi.shape[0]
    if i < 0:
        if -i >= n:
            return psi[n - 1] + (-i - n + 1) * du, -1.0, 0.0
        return psi[-i], -d1[-i], d2[-i]
    if i >= n:
        return psi[n - 1] + (i - n + 1) * du, 1.0, 0.0
    return psi[i], d1[i], d2[i]


@njit
def _map_index(i, n):
    if i < 0:
        i = -i
    if i >= n:
        return n - 1
    return i


@njit
def conv_step(psi, d1, d2, du, gamma, centers, base, coef, weight,
              out_psi, out_d1, out_d2, out_a, out_b):
    """One recursion step at the grid indices ``centers``; writes Ψ_new, Ψ_new',
    Ψ_new'', A = E_w[Ψ] and B = E_w[Ψ'' + γ Ψ'²] (tilted averages) per centre."""
    nk = base.shape[0]
    nr = coef.shape[1]
    shift = (nr - 1) // 2
    v = np.empty(nk)
    g1 = np.empty(nk)
    g2 = np.empty(nk)
    a = np.empty(nk)
    for c in range(centers.shape[0]):
        j = centers[c]
        p0 = psi[j] if j < psi.shape[0] else psi[psi.shape[0] - 1] + (j - psi.shape[0] + 1) * du
        amax = -np.inf
        for k in range(nk):
            sv = 0.0
            s1 = 0.0
            s2 = 0.0
            for r in range(nr):
                x, y, z = _fetch(psi, d1, d2, j + base[k] + r - shift, du)
                cr = coef[k, r]
                sv += cr * x
                s1 += cr * y
                s2 += cr * z
            v[k] = sv
            g1[k] = s1
            g2[k] = s2
            a[k] = gamma * (sv - p0)
            if a[k] > amax:
                amax = a[k]
        if gamma == 0.0:
            m0 = 0.0
            m1 = 0.0
            m2 = 0.0
            for k in range(nk):
                m0 += weight[k] * v[k]
                m1 += weight[k] * g1[k]
                m2 += weight[k] * g2[k]
            out_psi[c] = m0
            out_d1[c] = m1
            out_d2[c] = m2
            out_a[c] = m0
            out_b[c] = m2
            continue
        # log E exp(a): the expm1 form keeps (1/γ)·lse accurate when γ·ΔΨ is tiny.
        if amax < 30.0:
            s = 0.0
            for k in range(nk):
                s += weight[k] * math.expm1(a[k])
            lse = math.log1p(s)
        else:
            s = 0.0
            for k in range(nk):
                s += weight[k] * math.exp(a[k] - amax)
            lse = amax + math.log(s)
        m1 = 0.0
        m2 = 0.0
        mv = 0.0
        mq = 0.0
        for k in range(nk):
            p = weight[k] * math.exp(a[k] - lse)
            mv += p * v[k]
            m1 += p * g1[k]
            m2 += p * g2[k]
            mq += p * g1[k] * g1[k]
        out_psi[c] = p0 + lse / gamma
        out_d1[c] = m1
        out_d2[c] = m2 + gamma * (mq - m1 * m1)
        out_a[c] = mv
        out_b[c] = m2 + gamma * mq


@njit
def conv_adjoint(psi, d1, d2, du, gamma, centers, base, coef, weight,
                 new_psi, rho_in, rho_out):
    """Transport the density ``rho_in`` (on ``centers``) one level up to ``rho_out`` (on
    the grid, accumulated) through the tilted transition of :func:`conv_step`."""
    n = psi.shape[0]
    nk = base.shape[0]
    nr = coef.shape[1]
    shift = (nr - 1) // 2
    v = np.empty(nk)
    for c in range(centers.shape[0]):
        rc = rho_in[c]
        if rc == 0.0:
            continue
        j = centers[c]
        for k in range(nk):
            sv = 0.0
            for r in range(nr):
                x, _, _ = _fetch(psi, d1, d2, j + base[k] + r - shift, du)
                sv += coef[k, r] * x
            v[k] = sv
        for k in range(nk):
            if gamma == 0.0:
                p = weight[k]
            else:
                # new_psi = p0 + lse/γ, so w·exp(γ(v - new_psi)) is the tilted weight (in
                # log form: w can underflow where the exponential would overflow)
                p = math.exp(math.log(weight[k]) + gamma * (v[k] - new_psi[c])) \
                    if weight[k] > 0.0 else 0.0
            w = rc * p
            for r in range(nr):
                rho_out[_map_index(j + base[k] + r - shift, n)] += w * coef[k, r]


@njit
def _exp_tables(psi, d1, d2, du, gamma, m):
    """Tables over grid indices i = -m..N-1+m (stored at i + m): E'_i = exp(γ(Ψ_i - u_i) - s)
    and E'·Ψ, E'·Ψ', E'·Ψ'', E'·Ψ'², with Ψ continued evenly to u < 0 and linearly beyond
    the grid; s = the largest exponent on u ≥ 0 (there Ψ - u is bounded). On u < 0 the
    exponent exceeds s by at most 2γ·m·du, which the caller keeps below overflow."""
    n = psi.shape[0]
    size = n + 2 * m
    expo = np.empty(size)
    s = -np.inf
    for t in range(size):
        x, _, _ = _fetch(psi, d1, d2, t - m, du)
        expo[t] = gamma * (x - (t - m) * du)
        if t >= m and expo[t] > s:
            s = expo[t]
    tab = np.empty((5, size))
    for t in range(size):
        x, g1, g2 = _fetch(psi, d1, d2, t - m, du)
        e = math.exp(expo[t] - s)
        tab[0, t] = e
        tab[1, t] = e * x
        tab[2, t] = e * g1
        tab[3, t] = e * g2
        tab[4, t] = e * g1 * g1
    return tab, s


@njit
def conv_stencil(psi, d1, d2, du, gamma, m, tw, tw_shift, out_psi, out_d1, out_d2, out_a, out_b):
    """All rows of :func:`conv_step` for the on-grid stencil l = -m..m and γ > 0.

    With u_{j+l} = u_j + l·du, exp(γΨ(u_{j+l})) = e^{γu_j} · e^{γ l du} · e^{γ(Ψ - u)}_{j+l},
    so the tilted sum is a plain convolution of precomputed tables with the tilted
    weights ``tw[l+m] = w_l e^{γ l du - tw_shift}``: no exponential in the inner loop."""
    n = psi.shape[0]
    tab, s = _exp_tables(psi, d1, d2, du, gamma, m)
    for j in range(n):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        for l in range(2 * m + 1):
            t = j + l  # table index of grid point j + l - m
            w = tw[l]
            s0 += w * tab[0, t]
            s1 += w * tab[1, t]
            s2 += w * tab[2, t]
            s3 += w * tab[3, t]
            s4 += w * tab[4, t]
        m1 = s2 / s0
        mq = s4 / s0
        m2 = s3 / s0
        out_psi[j] = j * du + (math.log(s0) + s + tw_shift) / gamma
        out_d1[j] = m1
        out_d2[j] = m2 + gamma * (mq - m1 * m1)
        out_a[j] = s1 / s0
        out_b[j] = m2 + gamma * mq


@njit
def conv_stencil_adjoint(psi, d1, d2, du, gamma, m, tw, tw_shift, new_psi, rho_in, rho_out):
    """Adjoint of :func:`conv_stencil`: accumulate the transported density into
    ``rho_out`` (mirrored and edge-folded as :func:`_fetch` reads)."""
    n = psi.shape[0]
    tab, _ = _exp_tables(psi, d1, d2, du, gamma, m)
    for j in range(n):
        rc = rho_in[j]
        if rc == 0.0:
            continue
        # S_j recomputed exactly as in the forward pass (each term <= S_j: no overflow)
        s0 = 0.0
        for l in range(2 * m + 1):
            s0 += tw[l] * tab[0, j + l]
        inv = rc / s0
        for l in range(2 * m + 1):
            rho_out[_map_index(j + l - m, n)] += inv * tw[l] * tab[0, j + l]


# ------------------------------------------------------------------ fused recursion

STENCIL_MIN_SIGMA = 1.5  # trapezoid on the grid: aliasing error e^{-2π²(σ/du)²} < 1e-19
TAIL = 8.5  # Gaussian weights beyond this many σ (relative e^{-36}) are dropped
LAGRANGE = 8  # points of the interpolation used with Gauss–Hermite nodes


@njit
def build_nodes(sigma, du, gamma, z, w):
    """Node set of one step: trapezoid on the grid when σ ≥ 1.5 du (the window follows the
    tilt's shift γσ²), else Gauss–Hermite nodes ``z`` (weights ``w``, summing to 1) with
    8-point Lagrange interpolation on points -3..4 around each node."""
    if sigma <= 0.0:
        return np.zeros(1, dtype=np.int64), np.ones((1, 1)), np.ones(1)
    if sigma >= STENCIL_MIN_SIGMA * du:
        m = int(math.ceil((gamma * sigma * sigma + TAIL * sigma) / du))  # noqa: RUF046 (explicit for numba typing)
        base = np.arange(-m, m + 1).astype(np.int64)
        weight = np.empty(2 * m + 1)
        tot = 0.0
        for i in range(2 * m + 1):
            x = (i - m) * du / sigma
            weight[i] = math.exp(-0.5 * x * x)
            tot += weight[i]
        for i in range(2 * m + 1):
            weight[i] /= tot
        return base, np.ones((2 * m + 1, 1)), weight
    nz = z.shape[0]
    base = np.empty(nz, dtype=np.int64)
    coef = np.ones((nz, LAGRANGE))
    half = (LAGRANGE - 1) // 2
    for k in range(nz):
        s = sigma * z[k] / du
        b = math.floor(s)
        base[k] = b
        t = s - b
        for i in range(LAGRANGE):
            pi = i - half
            c = 1.0
            for j in range(LAGRANGE):
                if j != i:
                    pj = j - half
                    c *= (t - pj) / (pi - pj)
            coef[k, i] = c
    return base, coef, w.copy()


@njit
def _tilted(base, weight, du, gamma):
    lw = np.empty(base.shape[0])
    shift = -np.inf
    for i in range(base.shape[0]):
        lw[i] = math.log(weight[i]) + gamma * base[i] * du
        if lw[i] > shift:
            shift = lw[i]
    tw = np.empty(base.shape[0])
    for i in range(base.shape[0]):
        tw[i] = math.exp(lw[i] - shift)
    return tw, shift


@njit
def _is_fast(base, coef, gamma, du):
    # the mirrored tables reach exponents 2γ·m·du above their reference: keep e^{that} finite
    return (coef.shape[1] == 1 and base.shape[0] > 1 and gamma >= 1e-3
            and 2.0 * gamma * base[-1] * du < 600.0)


@njit
def recursion_forward(psi, d1, d2, du, gam, sig, z, w, levels, avg_a, avg_b):
    """All Cole–Hopf steps top-down in one call. ``levels[0]`` must hold the top level
    (Ψ, Ψ', Ψ'' in rows 0..2); ``levels[s+1]`` receives the result of step ``s`` (tilt
    ``gam[s]``, width ``sig[s]``), ``avg_a[s]``/``avg_b[s]`` its tilted averages."""
    n = psi.shape[0]
    for s in range(gam.shape[0]):
        base, coef, weight = build_nodes(sig[s], du, gam[s], z, w)
        src = levels[s]
        dst = levels[s + 1]
        if _is_fast(base, coef, gam[s], du):
            m = base[-1]
            tw, shift = _tilted(base, weight, du, gam[s])
            conv_stencil(src[0], src[1], src[2], du, gam[s], m, tw, shift,
                         dst[0], dst[1], dst[2], avg_a[s], avg_b[s])
        else:
            conv_step(src[0], src[1], src[2], du, gam[s], np.arange(n), base, coef, weight,
                      dst[0], dst[1], dst[2], avg_a[s], avg_b[s])


@njit
def recursion_adjoint(levels, du, gam, sig, z, w, avg_a, avg_b, rho, g_s2, g_gam):
    """Walk the field density ``rho`` (on the grid of the lowest level) up through all steps
    of :func:`recursion_forward`, writing ∂Ψ_bottom/∂σ_s² to ``g_s2[s]`` and ∂/∂γ_s to
    ``g_gam[s]``; returns the density at the top level."""
    n = rho.shape[0]
    for s in range(gam.shape[0] - 1, -1, -1):
        src = levels[s]
        new_psi = levels[s + 1][0]
        acc_b = 0.0
        acc_a = 0.0
        for j in range(n):
            acc_b += rho[j] * avg_b[s][j]
            acc_a += rho[j] * (avg_a[s][j] - new_psi[j])
        g_s2[s] = 0.5 * acc_b
        g_gam[s] = acc_a / gam[s] if gam[s] > 0 else 0.0
        base, coef, weight = build_nodes(sig[s], du, gam[s], z, w)
        up = np.zeros(n)
        if _is_fast(base, coef, gam[s], du):
            m = base[-1]
            tw, shift = _tilted(base, weight, du, gam[s])
            conv_stencil_adjoint(src[0], src[1], src[2], du, gam[s], m, tw, shift, new_psi,
                                 rho, up)
        else:
            conv_adjoint(src[0], src[1], src[2], du, gam[s], np.arange(n), base, coef, weight,
                         new_psi, rho, up)
        rho = up
    return rho
