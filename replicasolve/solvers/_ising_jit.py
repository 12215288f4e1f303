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

from .._numba import njit


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
    """E'_i = exp(γ(Ψ_i - u_i) - s) for i = 0..N-1+M (Ψ continued linearly on the right),
    and E'·Ψ, E'·Ψ', E'·Ψ'', E'·Ψ'²; s = the max exponent (Ψ - u is bounded for u ≥ 0)."""
    n = psi.shape[0]
    size = n + m
    expo = np.empty(size)
    s = -np.inf
    for i in range(size):
        if i < n:
            expo[i] = gamma * (psi[i] - i * du)
        else:
            expo[i] = gamma * (psi[n - 1] - (n - 1) * du)
        if expo[i] > s:
            s = expo[i]
    tab = np.empty((5, size))
    for i in range(size):
        e = math.exp(expo[i] - s)
        if i < n:
            p, g1, g2 = psi[i], d1[i], d2[i]
        else:
            p, g1, g2 = psi[n - 1] + (i - n + 1) * du, 1.0, 0.0
        tab[0, i] = e
        tab[1, i] = e * p
        tab[2, i] = e * g1
        tab[3, i] = e * g2
        tab[4, i] = e * g1 * g1
    return tab, s


@njit
def conv_stencil(psi, d1, d2, du, gamma, m, tw, tw_shift, out_psi, out_d1, out_d2, out_a, out_b):
    """Rows j = m..N-1 of :func:`conv_step` for the on-grid stencil l = -m..m and γ > 0.

    With u_{j+l} = u_j + l·du, exp(γΨ(u_{j+l})) = e^{γu_j} · e^{γ l du} · e^{γ(Ψ - u)}_{j+l},
    so the tilted sum is a plain convolution of precomputed tables with the tilted
    weights ``tw[l+m] = w_l e^{γ l du - tw_shift}``: no exponential in the inner loop."""
    n = psi.shape[0]
    tab, s = _exp_tables(psi, d1, d2, du, gamma, m)
    for j in range(m, n):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        for l in range(2 * m + 1):
            i = j - m + l
            w = tw[l]
            s0 += w * tab[0, i]
            s1 += w * tab[1, i]
            s2 += w * tab[2, i]
            s3 += w * tab[3, i]
            s4 += w * tab[4, i]
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
    """Adjoint of :func:`conv_stencil` (rows m..N-1): accumulate into ``rho_out``."""
    n = psi.shape[0]
    tab, _ = _exp_tables(psi, d1, d2, du, gamma, m)
    for j in range(m, n):
        rc = rho_in[j]
        if rc == 0.0:
            continue
        # S_j recomputed exactly as in the forward pass (each term <= S_j: no overflow)
        s0 = 0.0
        for l in range(2 * m + 1):
            s0 += tw[l] * tab[0, j - m + l]
        inv = rc / s0
        for l in range(2 * m + 1):
            i = j - m + l
            if i < n:
                rho_out[i] += inv * tw[l] * tab[0, i]
            else:
                rho_out[n - 1] += inv * tw[l] * tab[0, i]
