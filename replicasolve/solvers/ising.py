"""The Parisi formula for Ising mixed p-spin models: k-step RSB at T > 0 and T = 0.

Formula (Parisi 1980; Talagrand, Ann. Math. 163 (2006); Panchenko 2014), written in energy
units. For x(q) a step function and γ(q) = x(q)/T,

    f = -T ln 2 - Ψ(0, h) + (1/2) ∫_0^1 γ(q) q ξ''(q) dq,

where Ψ(q, u) solves the Parisi PDE ∂_q Ψ = -(ξ''/2)(∂_u²Ψ + γ(q)(∂_uΨ)²) backwards from
Ψ(1, u) = T ln cosh(u/T). On an interval where γ is constant the PDE is solved exactly by
the Cole–Hopf step Ψ(q_a, u) = (1/γ) ln E_z exp(γ Ψ(q_b, u + z sqrt(ξ'(q_b) - ξ'(q_a)))),
and where γ = 0 by a plain Gaussian average. The bottom interval [0, q_0) carries the
variance ξ'(q_0) - ξ'(0) and the linear part of ξ adds a Gaussian random field of variance
ξ'(0) to h, so Ψ(0, h) here is the average E_z Ψ(q_0, h + z sqrt(ξ'(q_0))): the field
variance seen below q_0 starts from 0, not from ξ'(0). The free energy is the minimum of the
right-hand side over x (f is *maximal* in x in replica language; the functional
Ψ(0, h) - penalty is strictly convex in x: Auffinger–Chen, CMP 335 (2015)).

k-step, T > 0: breakpoints 0 ≤ q_0 ≤ … ≤ q_k ≤ 1 and 0 ≤ m_1 ≤ … ≤ m_k ≤ 1; x = 0 on
[0, q_0), m_i on [q_{i-1}, q_i), 1 on [q_k, 1]. The last interval (γ = β) is done in
closed form: Ψ(q_k, u) = T ln cosh(u/T) + (ξ'(1) - ξ'(q_k))/(2T).

T = 0 (Auffinger–Chen, "The Parisi formula has a unique minimizer" and "Parisi formula
for the ground state energy in the mixed p-spin model", Ann. Probab. 45 (2017)): γ(q) is
a free non-decreasing function on [0, 1), Ψ(1, u) = |u|, E_GS = -min_γ [Ψ(0, h) -
(1/2) ∫ γ q ξ'']. k steps: q_0 ≤ … ≤ q_{k-1} < 1, γ_1 ≤ … ≤ γ_k, γ = 0 on [0, q_0), γ_i on
[q_{i-1}, q_i) with q_k = 1. The first (top) step from |u| is done in closed form
(E e^{γ|u+σz|} in Gaussian CDFs). k = 0 is the RS ground state E|h + z sqrt(ξ'(1))|.

Energy (Gaussian integration by parts): e = -β ∫_0^1 x(q) ξ'(q) dq - h m, with
m = ∂_u Ψ(0, h) the magnetization; at T = 0 the value is the ground-state energy itself.

Convexity (Auffinger–Chen): for fixed breakpoints the functional is strictly convex in the
step values x_i (γ_i), so that inner problem has one minimiser and L-BFGS-B's stationary
point is it; the breakpoints are optimised jointly (not convex), warm-started along the
k-ladder, and the ladder's values increase monotonically with k (a nested family; tested).

The gradient of the functional with respect to all (q_i, γ_i) is computed analytically:
∂/∂σ² of a step is (1/2) E_w[Ψ'' + γ Ψ'²] and ∂/∂γ is (E_w[Ψ] - Ψ_new)/γ, both averaged
over the density of the local field at that level, which is transported up the levels by
the adjoint of the recursion (no finite differences).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..blas import tap_blas
from ..errors import InvalidInputError
from ..quadrature import gauss_hermite
from ._ordered import project_ordered
from .extrapolate import extrapolate_k
from .methods import RSB, FullRSB, Options
from .result import ParisiResult

__all__ = ["IsingFunctional", "solve_ising"]

_STENCIL_MIN_SIGMA = 1.5  # must match _ising_jit.STENCIL_MIN_SIGMA


# --------------------------------------------------------------------------- nodes


def _nodes(sigma: float, du: float, gamma: float, n_gauss: int):
    """Quadrature nodes (base offsets, interpolation coefficients, weights) for one step
    (see :func:`replicasolve.solvers._ising_jit.build_nodes`)."""
    from ._ising_jit import build_nodes

    z, w = gauss_hermite(n_gauss)
    return build_nodes(float(sigma), float(du), float(gamma), z, w)


def _lagrange_row(t: float) -> np.ndarray:
    """Weights of the 8-point Lagrange interpolation at t ∈ [0, 1) from the points -3..4
    (the stencil of :func:`replicasolve.solvers._ising_jit.build_nodes`)."""
    pts = np.arange(8) - 3
    row = np.ones(8)
    for i in range(8):
        for j in range(8):
            if j != i:
                row[i] *= (t - pts[j]) / (pts[i] - pts[j])
    return row


def _shifted_nodes(h: float, sigma: float, du: float, n_gauss: int):
    """Nodes of the plain average E_z Ψ(h + σz) for a field 0 < h < du off the grid
    (centre index 0): the trapezoid rule on the points h + j·du with Gaussian weights when
    σ >= 1.5 du (as on the grid), Gauss–Hermite nodes h + σ z_k otherwise, Ψ read at each by
    the 8-point Lagrange interpolation the small-σ steps use."""
    from ._ising_jit import STENCIL_MIN_SIGMA, TAIL

    if sigma >= STENCIL_MIN_SIGMA * du:
        m = math.ceil(TAIL * sigma / du)
        j = np.arange(-m, m + 1)
        weight = np.exp(-0.5 * (j * du / sigma) ** 2)
        weight /= weight.sum()
        frac = h / du
        coef = np.tile(_lagrange_row(frac), (j.size, 1))
        return j.astype(np.int64), coef, weight
    z, w = gauss_hermite(n_gauss)
    pos = (h + sigma * z) / du
    base = np.floor(pos).astype(np.int64)
    coef = np.array([_lagrange_row(float(p - b)) for p, b in zip(pos, base, strict=True)])
    return base, coef, w.copy()


# --------------------------------------------------------------------------- top layers


def _logcosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax)) - math.log(2.0)


def _top_positive_T(u: np.ndarray, T: float, s2: float):
    """Ψ(q_k, u) = T ln cosh(u/T) + s2/(2T) and its u-derivatives."""
    t = np.tanh(u / T)
    return T * _logcosh(u / T) + s2 / (2.0 * T), t, (1.0 - t * t) / T


def _top_zero_T(u: np.ndarray, gamma: float, s2: float):
    """Ψ = (1/γ) ln E exp(γ |u + σ z|) in closed form, its u-derivatives, ∂/∂σ², ∂/∂γ."""
    from scipy.special import log_ndtr

    sigma = math.sqrt(s2)
    if sigma == 0.0:
        au = np.abs(u)
        return au, np.sign(u), np.zeros_like(u), np.full_like(u, gamma / 2), np.zeros_like(u)
    la = gamma * u + log_ndtr(u / sigma + gamma * sigma)
    lb = -gamma * u + log_ndtr(-u / sigma + gamma * sigma)
    lmax = np.maximum(la, lb)
    ls = lmax + np.log(np.exp(la - lmax) + np.exp(lb - lmax))  # ln S
    pa = np.exp(la - ls)
    pb = np.exp(lb - ls)
    # E = e^{γu} φ(a) = e^{-γu} φ(b) = φ(u/σ) e^{-γ²σ²/2}
    le = -0.5 * (u / sigma) ** 2 - 0.5 * (gamma * sigma) ** 2 - 0.5 * math.log(2 * math.pi)
    e_over_s = np.exp(le - ls)
    psi = 0.5 * gamma * s2 + ls / gamma
    d1 = pa - pb
    d2 = gamma * (1.0 - d1 * d1) + 2.0 * e_over_s / sigma
    ds2 = 0.5 * gamma + e_over_s / sigma
    dgam = 0.5 * s2 - ls / gamma**2 + (u * d1 + 2.0 * sigma * e_over_s) / gamma
    return psi, d1, d2, ds2, dgam


def _abs_gauss_mean(h: float, s2: float) -> tuple[float, float, float]:
    """E|h + σz|, its ∂/∂h and ∂/∂σ² (the RS ground state)."""
    from scipy.special import ndtr

    if s2 <= 0:
        return abs(h), math.copysign(1.0, h) if h else 0.0, 0.0
    s = math.sqrt(s2)
    phi = math.exp(-0.5 * (h / s) ** 2) / math.sqrt(2 * math.pi)
    val = s * 2 * phi + h * (1 - 2 * float(ndtr(-h / s)))
    dh = 1 - 2 * float(ndtr(-h / s))
    ds2 = phi / s
    return val, dh, ds2


# --------------------------------------------------------------------------- one step


class _ExactTopStep:
    """A step whose input is the closed-form top level, evaluated exactly at the
    Gauss–Hermite nodes u_c + σ z_k (no interpolation). ``out`` holds Ψ_new, Ψ_new',
    Ψ_new'', A, B at the centres, as :func:`conv_step` would."""

    def __init__(self, top_fn, centers_u: np.ndarray, sigma: float, gamma: float, n_gauss: int,
                 nodes: tuple[np.ndarray, np.ndarray] | None = None):
        # ``nodes``: (offsets, weights) in place of the Gauss–Hermite rule σz_k, w_k
        if nodes is None:
            z, w = gauss_hermite(n_gauss)
            offsets = sigma * z
        else:
            offsets, w = nodes
        pts = centers_u[:, None] + offsets[None, :]
        vals = top_fn(pts)
        self.vals = vals
        v, g1, g2 = vals[0], vals[1], vals[2]
        if gamma == 0.0:
            p = np.broadcast_to(w, v.shape)
            new_psi = (v * w).sum(axis=1)
        else:
            ref = top_fn(centers_u)[0]
            a = gamma * (v - ref[:, None])
            amax = a.max(axis=1)
            # expm1 form where γΔΨ is small keeps (1/γ) log E e^{γΔΨ} accurate
            small = amax < 30.0
            lse = np.empty(len(centers_u))
            with np.errstate(over="ignore"):
                lse[small] = np.log1p((w * np.expm1(a[small])).sum(axis=1))
            big = ~small
            lse[big] = amax[big] + np.log((w * np.exp(a[big] - amax[big, None])).sum(axis=1))
            p = w * np.exp(a - lse[:, None])
            new_psi = ref + lse / gamma
        self.p = p
        m1 = (p * g1).sum(axis=1)
        m2 = (p * g2).sum(axis=1)
        mq = (p * g1 * g1).sum(axis=1)
        mv = (p * v).sum(axis=1)
        self.out = [new_psi, m1, m2 + gamma * (mq - m1 * m1), mv, m2 + gamma * mq]

    def expect(self, rho: np.ndarray) -> list[float]:
        """Top-level averages under the density ``rho`` on the centres: [mass, E ψ'',
        then E ∂ψ/∂σ², E ∂ψ/∂γ (T = 0 tops) or E (ψ'')² (T > 0 tops)]."""
        weights = rho[:, None] * self.p
        out = [float(weights.sum()), float((weights * self.vals[2]).sum())]
        if len(self.vals) > 3:
            out += [float((weights * self.vals[3]).sum()), float((weights * self.vals[4]).sum())]
        else:
            out.append(float((weights * self.vals[2] ** 2).sum()))
        return out


# --------------------------------------------------------------------------- functional


@dataclass
class _Eval:
    value: float  # G = Ψ(0, h) - penalty  (f = -T ln 2 - G)
    grad_q: np.ndarray
    grad_gamma: np.ndarray
    psi0: float
    magnetization: float
    replicon: float


class IsingFunctional:
    """G(q, γ) = Ψ(0, h) - (1/2)∫γ q ξ'' for fixed k, T, field and grid; f = -T ln 2 - G.

    ``q`` has k + 1 entries at T > 0 (q_0..q_k) and k at T = 0 (q_0..q_{k-1}); ``gamma``
    has k entries (γ_i = m_i/T at T > 0). :meth:`evaluate` returns G, its gradient, the
    magnetization and the replicon of the top level.
    """

    def __init__(self, model, k: int, options: Options, scale: float):
        self.model = model
        self.k = k
        self.T = float(model.T)
        self.h = abs(float(model.field))
        self.sign_h = -1.0 if model.field < 0 else 1.0
        self.opts = options
        xi = model.xi
        _, d1_1, _, _ = xi.derivatives(np.array([1.0]))
        self.xi1_1 = float(d1_1[0])
        self.theta1 = float(xi.theta(np.array([1.0]))[0])
        spread = math.sqrt(max(self.xi1_1, 1e-300))
        du = options.grid_step * scale
        half = self.h + options.grid_width * spread
        n = math.ceil(half / du) + 1
        if n > options.max_grid:
            du = half / (options.max_grid - 1)
            n = options.max_grid
        # the field sits on a grid point where it is at least one grid step (the bottom
        # average then shares the node sets of the other steps); a smaller field stays off
        # the grid, and the bottom average reads Ψ at h + σz by interpolation
        # (:func:`_shifted_nodes`): a grid step of h itself would make the grid, and the
        # work, grow like 1/h²
        self.h_offset = 0.0
        if self.h >= du:
            du = self.h / math.ceil(self.h / du)
            n = math.ceil(half / du) + 1
        elif self.h > 0:
            self.h_offset = self.h
        self.du = du
        self.n = n
        self.u = np.arange(n) * du
        self.h_index = 0 if self.h_offset else round(self.h / du)
        self.n_evals = 0

    # ---- parameter helpers
    def sigmas(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """σ² of every interval bottom-up, ξ'' and θ at the breakpoints."""
        x, d1, d2, _ = self.model.xi.derivatives(q)
        theta = q * d1 - x
        # the bottom interval starts at variance 0, not ξ'(0): the linear part of ξ is a
        # Gaussian random field of variance ξ'(0) that adds to h in the first average
        edges = np.concatenate([[0.0], d1, [self.xi1_1]])
        s2 = np.maximum(np.diff(edges), 0.0)
        return s2, d2, theta

    def penalty(self, q: np.ndarray, gamma: np.ndarray, theta: np.ndarray) -> float:
        th = np.concatenate([theta, [self.theta1]]) if self.T == 0 else theta
        pen = 0.5 * float(np.sum(gamma * np.diff(th)))
        if self.T > 0:
            pen += 0.5 / self.T * (self.theta1 - float(theta[-1]))
        return pen

    def energy(self, q: np.ndarray, gamma: np.ndarray, magnetization: float) -> float:
        """e = -∫_0^1 γ(q) ξ'(q) dq ... = -β∫ x ξ' - h m (T > 0)."""
        xi_q = self.model.xi(q)
        xi_1 = self.model.xi.xi1
        if self.T == 0:
            raise ValueError("energy at T = 0 is the ground-state energy")
        e = -float(np.sum(gamma * np.diff(xi_q))) - (xi_1 - float(xi_q[-1])) / self.T
        return e - self.sign_h * self.h * magnetization

    # ---- the recursion
    def evaluate(self, q: np.ndarray, gamma: np.ndarray) -> _Eval:
        """G, its gradient in (q, γ), the magnetization and the top-level replicon."""
        from ._ising_jit import conv_adjoint, conv_step

        self.n_evals += 1
        q = np.asarray(q, dtype=float)
        gamma = np.asarray(gamma, dtype=float)
        k, T, du, n = self.k, self.T, self.du, self.n
        s2, xi2, theta = self.sigmas(q)
        u = self.u
        n_gauss = self.opts.n_gauss

        if T == 0 and k == 0:
            val, dh, _ = _abs_gauss_mean(self.h, float(s2.sum()))
            # q_0 = 1 by definition: no parameters
            return _Eval(val, np.zeros(0), np.zeros(0), val, dh, -math.inf)

        # the closed-form top level, and the numerical steps below it, top-down:
        # (γ, σ²) for levels k..1 (T > 0) or k-1..1 (T = 0)
        if T > 0:
            def top_fn(x, _s=float(s2[-1])):
                return _top_positive_T(x, T, _s)
            steps = [(gamma[i - 1], s2[i]) for i in range(k, 0, -1)]
        else:
            def top_fn(x, _g=float(gamma[-1]), _s=float(s2[-1])):
                return _top_zero_T(x, _g, _s)
            steps = [(gamma[i - 1], s2[i]) for i in range(k - 1, 0, -1)]
        top = top_fn(u)
        # a narrow step right below the closed-form top reads the top exactly at its
        # Gauss–Hermite nodes: interpolating the sharpest function on the grid is what
        # would limit the accuracy (the top is smooth only on the scale T, or σ_top)
        first_sigma = math.sqrt(steps[0][1]) if steps else math.sqrt(s2[0])
        exact_first = 0.0 < first_sigma < _STENCIL_MIN_SIGMA * du

        from ._ising_jit import recursion_adjoint, recursion_forward

        z, w = gauss_hermite(n_gauss)
        ns = len(steps)
        gam_s = np.array([g for g, _ in steps], dtype=float)
        sig_s = np.sqrt(np.array([v for _, v in steps], dtype=float))
        levels = np.empty((ns + 1, 3, n))
        avg_a = np.empty((max(ns, 1), n))
        avg_b = np.empty((max(ns, 1), n))
        exact = None
        if ns and exact_first:
            exact = _ExactTopStep(top_fn, u, sig_s[0], gam_s[0], n_gauss)
            levels[1, 0], levels[1, 1], levels[1, 2] = exact.out[:3]
            avg_a[0], avg_b[0] = exact.out[3], exact.out[4]
            first = 1
        else:
            levels[0, 0], levels[0, 1], levels[0, 2] = top[0], top[1], top[2]
            first = 0
        if ns > first:
            recursion_forward(levels[first, 0], levels[first, 1], levels[first, 2], du,
                              gam_s[first:], sig_s[first:], z, w, levels[first:],
                              avg_a[first:], avg_b[first:])
        # bottom: plain average over N(h, σ_0²)
        psi, d1, d2 = levels[ns]
        bc = np.array([self.h_index], dtype=np.int64)
        if not steps and (exact_first or self.h_offset):
            sig0 = math.sqrt(s2[0])
            trap = None
            if sig0 >= _STENCIL_MIN_SIGMA * du:
                # the closed-form top read exactly on the trapezoid points h + j·du (Gauss–
                # Hermite would converge slowly for σ ≫ T: ln cosh(u/T) has poles at
                # distance πT/2 from the real axis; the trapezoid rule's error is
                # ~exp(-π²T/du) = exp(-49))
                from ._ising_jit import TAIL

                mj = math.ceil(TAIL * sig0 / du)
                off = np.arange(-mj, mj + 1) * du
                wt = np.exp(-0.5 * (off / sig0) ** 2)
                trap = (off, wt / wt.sum())
            bstep = _ExactTopStep(top_fn, np.array([self.h]), sig0, 0.0, n_gauss, nodes=trap)
            bout = bstep.out
        else:
            bnodes = (_shifted_nodes(self.h_offset, math.sqrt(s2[0]), du, n_gauss)
                      if self.h_offset else _nodes(math.sqrt(s2[0]), du, 0.0, n_gauss))
            bout = [np.empty(1) for _ in range(5)]
            conv_step(psi, d1, d2, du, 0.0, bc, *bnodes, *bout)
        psi0, mag, d2_0 = float(bout[0][0]), float(bout[1][0]), float(bout[2][0])
        value = psi0 - self.penalty(q, gamma, theta)

        # density of the local field, transported up level by level (the adjoint of the
        # recursion); at the top it gives the top-level averages (gradient and replicon)
        g_s2 = np.zeros(len(s2))
        g_s2[0] = 0.5 * d2_0
        g_gam = np.zeros(k)
        gs2_steps = np.zeros(ns)
        ggam_steps = np.zeros(ns)
        top_avg = None
        if not steps and (exact_first or self.h_offset):
            top_avg = bstep.expect(np.ones(1))
        else:
            rho = np.zeros(n)
            conv_adjoint(psi, d1, d2, du, 0.0, bc, *bnodes, bout[0], np.ones(1), rho)
            if ns > first:
                rho = recursion_adjoint(levels[first:], du, gam_s[first:], sig_s[first:], z, w,
                                        avg_a[first:], avg_b[first:], rho,
                                        gs2_steps[first:], ggam_steps[first:])
            if exact is not None:
                gs2_steps[0] = 0.5 * float(np.dot(rho, avg_b[0]))
                ggam_steps[0] = float(np.dot(rho, avg_a[0] - levels[1, 0])) / gam_s[0] \
                    if gam_s[0] > 0 else 0.0
                top_avg = exact.expect(rho)
        for idx in range(ns):
            level_i = (k - idx) if T > 0 else (k - 1 - idx)  # the step's interval index
            g_s2[level_i] = gs2_steps[idx]
            g_gam[level_i - 1] = ggam_steps[idx]
        if top_avg is None:
            top_avg = [float(rho.sum())] + [float(np.dot(rho, t)) for t in top[2:]]
        # top_avg: [mass, E ψ'', then E (ψ'')² (T > 0) or E ∂ψ/∂σ², E ∂ψ/∂γ (T = 0)]
        if T > 0:
            g_s2[-1] = 0.5 / T * top_avg[0]
            sq = top_avg[-1] if len(top_avg) == 3 else float(np.dot(rho, top[2] ** 2))
            replicon = 1.0 - float(xi2[-1]) * sq
        else:
            g_s2[-1] = top_avg[2]
            g_gam[-1] = top_avg[3]
            replicon = -math.inf  # at T = 0 the top-level replicon is -∞ (β² sech⁴ → ∞)

        # chain rule: σ_i² = ξ'(q_i) - ξ'(q_{i-1});  penalty = ½Σγ_i Δθ_i (+ β/2 (θ(1)-θ(q_k)))
        grad_q = xi2 * (g_s2[:-1] - g_s2[1:])
        gam_ext = np.concatenate([[0.0], gamma, [1.0 / T]]) if T > 0 else \
            np.concatenate([[0.0], gamma])
        # ∂pen/∂q_i = ½(γ_i - γ_{i+1}) θ'(q_i), θ' = q ξ''
        dpen_q = 0.5 * (gam_ext[:-1] - gam_ext[1:])[: len(q)] * q * xi2
        th = np.concatenate([theta, [self.theta1]]) if T == 0 else theta
        dpen_g = 0.5 * np.diff(th)
        return _Eval(
            value=value,
            grad_q=grad_q - dpen_q,
            grad_gamma=g_gam - dpen_g,
            psi0=psi0,
            magnetization=mag,
            replicon=replicon,
        )


# --------------------------------------------------------------------------- solver


def _validate(model) -> None:
    if model.spins != "ising":
        raise InvalidInputError("solve_ising needs an Ising model")


def _rs_guess(model) -> float:
    """RS overlap from the fixed point q = E tanh²(β(h + sqrt(ξ'(q)) z)) (a start only)."""
    if model.T == 0:
        return 1.0
    z, w = gauss_hermite(80)
    beta = 1.0 / model.T
    q = 0.5
    for _ in range(500):
        d1 = float(model.xi.derivatives(np.array([q]))[1][0])
        qn = float(np.sum(w * np.tanh(beta * (model.field + math.sqrt(max(d1, 0)) * z)) ** 2))
        if abs(qn - q) < 1e-12:
            break
        q = 0.5 * (q + qn)
    return min(max(q, 0.0), 1.0 - 1e-9)


def _is_linear(model) -> bool:
    """Whether ξ'' vanishes on [0, 1] (ξ linear in q: a pure random-field model)."""
    grid = np.linspace(0.0, 1.0, 17)
    d2 = model.xi.derivatives(grid)[2]
    return bool(np.all(np.abs(d2) <= 1e-15 * max(1.0, abs(model.xi.xi1))))


def _padded(rs: ParisiResult, k: int) -> ParisiResult:
    """The RS result ``rs`` written as a k-step result with k zero-width steps."""
    if k == 0:
        return rs
    if rs.T > 0:
        q = np.full(k + 1, float(rs.q[0]))
    else:
        q = np.ones(k)
    return dataclasses.replace(rs, method=RSB(k).name, k=k, q=q, x=np.zeros(k),
                               gamma=np.zeros(k))


def _random_field_overlap(model) -> float:
    """E tanh²(β(h + sqrt(ξ'(0)) z)) by adaptive quadrature (relative error ~1e-13)."""
    from scipy.integrate import quad

    beta = 1.0 / model.T
    s = math.sqrt(float(model.xi.derivatives(np.array([0.0]))[1][0]))
    h = float(model.field)

    def integrand(z: float) -> float:
        return math.exp(-0.5 * z * z) * math.tanh(beta * (h + s * z)) ** 2

    val = quad(integrand, -40.0, 40.0, points=[-h / s] if s > 0 else None, limit=400,
               epsabs=1e-15, epsrel=1e-13)[0]
    return val / math.sqrt(2.0 * math.pi)


class _Problem:
    """The k-step optimisation in the variables v = (q, y), y = m = Tγ (T > 0) or γ (T = 0)."""

    def __init__(self, model, k: int, opts: Options, scale: float):
        self.f = IsingFunctional(model, k, opts, scale)
        self.k = k
        self.T = float(model.T)
        self.nq = k + 1 if self.T > 0 else k
        self.y_hi = 1.0 if self.T > 0 else 1e6
        self.cache: dict[bytes, _Eval] = {}

    def split(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = v[: self.nq]
        y = v[self.nq:]
        gamma = y / self.T if self.T > 0 else y
        return q, gamma

    def eval(self, v: np.ndarray) -> _Eval:
        key = v.tobytes()
        hit = self.cache.get(key)
        if hit is None:
            q, gamma = self.split(v)
            hit = self.f.evaluate(q, gamma)
            self.cache = {key: hit}
        return hit

    def fun(self, v: np.ndarray) -> float:
        return self.eval(v).value

    def jac(self, v: np.ndarray) -> np.ndarray:
        e = self.eval(v)
        gy = e.grad_gamma / self.T if self.T > 0 else e.grad_gamma
        return np.concatenate([e.grad_q, gy])

    def residual(self, v: np.ndarray) -> float:
        """‖v - P(v - ∇G)‖∞: zero exactly at a KKT point of the ordered, boxed problem."""
        g = self.jac(v)
        q, y = v[: self.nq], v[self.nq:]
        pq = project_ordered(q - g[: self.nq], 0.0, 1.0)
        py = project_ordered(y - g[self.nq:], 0.0, self.y_hi)
        return float(np.max(np.abs(np.concatenate([q - pq, y - py])), initial=0.0))

    # box coordinates w for L-BFGS-B: stick-breaking q_i = 1 - Π_{j≤i}(1 - t_j), and
    # m_i = Π_{j≥i} s_j (T > 0) or γ_i = Σ_{j≤i} δ_j (T = 0): ordering is automatic
    def to_box(self, v: np.ndarray) -> np.ndarray:
        q, y = v[: self.nq], v[self.nq:]
        prev = np.concatenate([[0.0], q[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(prev < 1.0, 1.0 - (1.0 - q) / (1.0 - prev), 0.0)
        if self.T > 0:
            nxt = np.concatenate([y[1:], [1.0]])
            with np.errstate(divide="ignore", invalid="ignore"):
                sy = np.where(nxt > 0, y / nxt, 0.0)
        else:
            sy = np.diff(np.concatenate([[0.0], y]))
        return np.clip(np.concatenate([t, sy]), 0.0, None)

    def from_box(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """v and the Jacobian dv/dw (dense; at most a few hundred variables)."""
        nq, k = self.nq, self.k
        t, sy = w[:nq], w[nq:]
        om = 1.0 - t
        q = 1.0 - np.cumprod(om)
        jac = np.zeros((nq + k, nq + k))
        for i in range(nq):
            for j in range(i + 1):
                jac[i, j] = np.prod(np.delete(om[: i + 1], j))
        if self.T > 0:
            y = np.cumprod(sy[::-1])[::-1]
            for i in range(k):
                for j in range(i, k):
                    jac[nq + i, nq + j] = np.prod(np.delete(sy[i:], j - i))
        else:
            y = np.cumsum(sy)
            for i in range(k):
                jac[nq + i, nq: nq + i + 1] = 1.0
        return np.concatenate([q, y]), jac, t

    def box_bounds(self):
        hi = 1.0 if self.T > 0 else None
        return [(0.0, 1.0)] * self.nq + [(0.0, hi)] * self.k

    def box_point(self, w: np.ndarray) -> np.ndarray:
        nq = self.nq
        q = 1.0 - np.cumprod(1.0 - w[:nq])
        y = np.cumprod(w[nq:][::-1])[::-1] if self.T > 0 else np.cumsum(w[nq:])
        return np.concatenate([q, y])

    def box_fun_jac(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        nq = self.nq
        om = 1.0 - w[:nq]
        sy = w[nq:]
        if np.all(om > 0) and (self.T == 0 or np.all(sy > 0)):
            # J^T g in O(n): ∂q_i/∂t_j = (1 - q_i)/(1 - t_j) for j ≤ i, ∂m_i/∂s_j = m_i/s_j
            # for j ≥ i, ∂γ_i/∂δ_j = 1 for j ≤ i
            v = self.box_point(w)
            g = self.jac(v)
            gq, gy = g[:nq], g[nq:]
            q, y = v[:nq], v[nq:]
            jt = np.cumsum((gq * (1.0 - q))[::-1])[::-1] / om
            if self.T > 0:
                jy = np.cumsum(gy * y) / sy
            else:
                jy = np.cumsum(gy[::-1])[::-1]
            return self.fun(v), np.concatenate([jt, jy])
        v, jac, _ = self.from_box(w)
        return self.fun(v), jac.T @ self.jac(v)

    def constraints(self):
        n = self.nq + self.k
        rows = []
        for i in range(self.nq - 1):
            r = np.zeros(n)
            r[i], r[i + 1] = -1.0, 1.0
            rows.append(r)
        for i in range(self.k - 1):
            r = np.zeros(n)
            r[self.nq + i], r[self.nq + i + 1] = -1.0, 1.0
            rows.append(r)
        if not rows:
            return []
        a = np.array(rows)
        return [{"type": "ineq", "fun": lambda v, a=a: a @ v, "jac": lambda v, a=a: a}]

    def bounds(self):
        return [(0.0, 1.0)] * self.nq + [(0.0, self.y_hi)] * self.k


def _initial(model, k: int) -> np.ndarray:
    if model.T > 0:
        qrs = _rs_guess(model)
        if k == 0:
            return np.array([qrs])
        hi = max(qrs, 0.05)
        q = hi * (np.arange(k + 1) + 1.0) / (k + 1)
        m = (np.arange(k) + 1.0) / (k + 1)
        return np.concatenate([q, m])
    if k == 0:
        return np.zeros(0)
    q = 0.3 + 0.6 * np.arange(k) / k
    g = 1.0 + 2.0 * np.arange(k)
    return np.concatenate([q, g])


def _refine(v: np.ndarray, model, k_old: int) -> np.ndarray:
    """A (k_old + 1)-step start from a k_old-step solution: the breakpoint where x jumps
    most is split in two, with the mean of the two x values in between."""
    T = model.T
    nq = k_old + 1 if T > 0 else k_old
    if T == 0 and k_old == 0:
        return _initial(model, 1)
    q = list(v[:nq])
    y = list(v[nq:])
    lo = [0.0, *y]
    hi = [*y, 1.0] if T > 0 else [*y, np.inf]
    jumps = [b - a for a, b in zip(lo, hi, strict=True)][: len(q)]
    if T > 0 and k_old > 0:
        # x jumps to 1 at q_max for a physical reason (the top of the Parisi measure):
        # splitting that jump only creates a degenerate pair of steps
        jumps = jumps[:-1]
    j = int(np.argmax(jumps))
    left = q[j - 1] if j > 0 else 0.0
    right = q[j + 1] if j + 1 < len(q) else 1.0
    delta = 0.25 * min(q[j] - left, right - q[j]) if min(q[j] - left, right - q[j]) > 0 else 1e-3
    xa = lo[j]
    xb = hi[j] if math.isfinite(hi[j]) else 2 * lo[j] + 1.0
    new_q = [*q[:j], q[j] - delta, q[j] + delta, *q[j + 1:]]
    new_y = [*y[:j], 0.5 * (xa + xb), *y[j:]]
    out = np.concatenate([np.clip(new_q, 0.0, 1.0), new_y])
    return out


def _scale(model, v: np.ndarray | None, k: int) -> float:
    """The smallest smoothing scale of the Parisi function on the grid: T at T > 0, the
    standard deviation of the top step at T = 0."""
    if model.T > 0:
        return float(model.T)
    if v is None or k == 0:
        return 0.2
    q_top = float(v[k - 1])
    _, d1, _, _ = model.xi.derivatives(np.array([q_top, 1.0]))
    # the top closed-form step is smooth on 1.5σ (measured: grid_step 0.3 of σ gives the
    # same 1e-14 accuracy as 0.2 of T at T > 0)
    return 1.5 * max(math.sqrt(max(d1[1] - d1[0], 0.0)), 1e-3)


@tap_blas
def _solve_k(
    model, k: int, opts: Options, start: np.ndarray | None, restarts: int = 3
) -> tuple[ParisiResult, np.ndarray]:
    from scipy.optimize import minimize

    v0 = _initial(model, k) if start is None else np.asarray(start, dtype=float)
    total_iter = 0
    message = ""
    v = v0
    # the grid is fixed during one optimisation (a smooth objective); if the solution's top
    # step ends up narrower than the grid assumed, re-solve once on the finer grid
    scale = _scale(model, v, k)
    for _attempt in range(4):
        prob = _Problem(model, k, opts, scale)
        if prob.nq + k > 0:
            res = minimize(prob.box_fun_jac, prob.to_box(v), jac=True, method="L-BFGS-B",
                           bounds=prob.box_bounds(),
                           options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": opts.maxiter,
                                    "maxcor": 30})
            v = prob.from_box(np.asarray(res.x, dtype=float))[0]
            total_iter += int(res.nit)
            message = str(res.message)
        for _restart in range(restarts if prob.nq + k > 0 and prob.residual(v) > opts.tol
                              else 0):
            res = minimize(prob.fun, v, jac=prob.jac, method="SLSQP", bounds=prob.bounds(),
                           constraints=prob.constraints(),
                           options={"ftol": 1e-16, "maxiter": opts.maxiter})
            v = np.asarray(res.x, dtype=float)
            # SLSQP may step a hair outside the box; project back (a feasibility fix at the
            # 1e-16 level, not a clip of user data)
            v[: prob.nq] = project_ordered(v[: prob.nq], 0.0, 1.0)
            v[prob.nq:] = project_ordered(v[prob.nq:], 0.0, prob.y_hi)
            total_iter += int(res.nit)
            message = str(res.message)
            if prob.residual(v) <= opts.tol:
                break
            # SLSQP's quasi-Newton model can stall near a degenerate pair of steps; a
            # fresh start from the current point usually finishes the job
        new_scale = _scale(model, v, k)
        if new_scale >= 0.9 * scale:
            break
        scale = new_scale
    e = prob.eval(v)
    residual = prob.residual(v) if prob.nq + k > 0 else 0.0
    q, gamma = prob.split(v)
    T = model.T
    f = -T * math.log(2.0) - e.value
    mag = prob.f.sign_h * e.magnetization
    if T > 0 and _is_linear(model):
        # ξ'' ≡ 0: the functional does not depend on the order parameter at all (independent
        # spins in a Gaussian random field), so the optimiser's q is arbitrary; the energy
        # formula below assumes stationarity in q, so it needs the physical overlap
        # E tanh²(β(h + sqrt(ξ'(0)) z)), with no breaking
        q = np.full_like(q, _random_field_overlap(model))
        gamma = np.zeros_like(gamma)
    if T > 0:
        energy = prob.f.energy(q, gamma, mag)
        entropy = (energy - f) / T
        x = gamma * T
    else:
        energy, entropy, x = f, 0.0, np.zeros_like(gamma)
        if k == 0:
            q = np.array([1.0])
    converged = residual <= opts.tol
    if not converged:
        message = (f"not converged: stationarity residual {residual:.2e} > tol {opts.tol:.1e} "
                   f"after {total_iter} iterations (optimiser: {message})")
    result = ParisiResult(
        model=model, method=RSB(k).name, k=k, free_energy=f, energy=energy, entropy=entropy,
        q=np.asarray(q, dtype=float), x=np.asarray(x, dtype=float),
        gamma=np.asarray(gamma, dtype=float), magnetization=mag,
        replicon=e.replicon, converged=bool(converged), iterations=total_iter,
        residual=residual,
        settings={"grid_step_du": prob.f.du, "grid_points": prob.f.n,
                  "n_gauss": opts.n_gauss, "evaluations": prob.f.n_evals, "tol": opts.tol},
        message=message,
    )
    return result, v


def _split_plateau(v: np.ndarray, model, k_old: int) -> np.ndarray | None:
    """A (k_old + 1)-step start from a k_old-step solution (k_old >= 1) that splits its
    widest step (a plateau of x) in the middle, with levels a little below and above the
    old one; ``None`` where there is no such step. Where x(q) has a continuous part (full
    RSB) the new step belongs inside a plateau, not at a jump (:func:`_refine`)."""
    T = model.T
    nq = k_old + 1 if T > 0 else k_old
    q = np.asarray(v[:nq], dtype=float)
    y = np.asarray(v[nq:], dtype=float)
    knots = np.concatenate([q, [1.0]]) if T == 0 else q  # piece i: [knots[i], knots[i+1])
    widths = np.diff(knots)
    if widths.size == 0 or float(np.max(widths)) <= 0:
        return None
    i = int(np.argmax(widths))  # the piece with level y[i] (T > 0: m_{i+1} on [q_i, q_i+1))
    lo = y[i - 1] if i > 0 else 0.0
    hi = y[i + 1] if i + 1 < y.size else (1.0 if T > 0 else math.inf)
    room = min(y[i] - lo, hi - y[i])
    eps = 0.05 * room if math.isfinite(room) and room > 0 else 0.05 * max(y[i], 1e-3)
    mid = 0.5 * (knots[i] + knots[i + 1])
    new_q = np.insert(q, i + 1, mid)
    new_y = np.concatenate([y[:i], [y[i] - eps, y[i] + eps], y[i + 1:]])
    return np.concatenate([new_q, new_y])


def _split_top(v: np.ndarray, model, k_old: int) -> np.ndarray | None:
    """A (k_old + 1)-step start (T > 0, k_old >= 1) with a new step just below the top
    breakpoint q_max, at the level halfway between the top level m_k and 1: the direction a
    negative replicon at q_max asks for (:func:`_refine` leaves the jump to 1 alone and
    :func:`_split_plateau` splits the widest step, both elsewhere). ``None`` at T = 0 or
    where the top step has no width."""
    if model.T == 0 or k_old < 1:
        return None
    nq = k_old + 1
    q = np.asarray(v[:nq], dtype=float)
    y = np.asarray(v[nq:], dtype=float)
    width = q[-1] - q[-2]
    if width <= 0:
        return None
    new_q = np.insert(q, nq - 1, q[-1] - 0.25 * width)
    new_y = np.append(y, 0.5 * (y[-1] + 1.0))
    return np.concatenate([new_q, new_y])


def _collapsed(res: ParisiResult) -> bool:
    """Whether a k-step solution has fewer genuine steps than k (zero-width steps or
    equal levels)."""
    return _seed_of_k(res) < res.k


def _seed_of_k(res: ParisiResult) -> int:
    """The number of genuine steps of a result."""
    from .result import seed_of

    return seed_of(res).k


def _climb(model, k0: int, v0: np.ndarray | None, k_max: int, options: Options,
           r0: ParisiResult | None = None):
    """(result, v) for k = k0+1..k_max, each started from the previous k's solution with
    its largest x-jump split (:func:`_refine`); ``v0`` is the k0-step solution (``None``
    at T = 0 and k0 = 0, where RS has no parameters), ``r0`` its result.

    Where the (k-1)-step solution is unstable (replicon < 0 at its top: more breaking must
    help), the plateau split (:func:`_split_plateau`) is tried as well, and the better of
    the two optima kept, at every k (the two ways to refine a solution lead to different
    local optima: SK at h = 0.683, T = 0.403, the jump split's 2RSB optimum is 4e-9 below the
    plateau split's; at h = 0.3, T = 0.608 the jump split fell back onto 1RSB, 1.6e-9 below
    the 2RSB optimum; at h = 0.3, T = 0.5 the jump-split-only ladder stalled 2.5e-9 below
    from k = 6 to 12, and its k → ∞ extrapolation understated its error 3-fold)."""
    v = v0
    prev = r0
    for k in range(k0 + 1, k_max + 1):
        v_old = v
        # above the AT line (the solution so far is RS, or collapsed onto it, with a positive
        # replicon) the new step almost always collapses too; the SLSQP restarts then only
        # polish the levels of empty steps (12 s of 13 at SK h = 1, T = 0.854), so they are
        # skipped unless the L-BFGS-B optimum is a genuine, separated step
        quick = prev is not None and prev.converged and model.T > 0 and prev.replicon > 0 \
            and _seed_of_k(prev) == 0
        start = None if v is None else _refine(v, model, k - 1)
        res, v = _solve_k(model, k, options, start, restarts=0 if quick else 3)
        if quick and not res.converged and float(np.ptp(res.q)) >= 1e-3:
            polished, v_p = _solve_k(model, k, options, v)
            res = dataclasses.replace(polished, iterations=polished.iterations + res.iterations)
            v = v_p
        if k >= 2 and v_old is not None and prev is not None and prev.replicon < -1e-9:
            # a negative replicon at the top says the breaking is missing just below q_max:
            # the top split starts a step there (0.5q² + 0.4q⁴ at T = 0.4, h = 0.1: both
            # other splits fall back onto 1RSB, the top split gains 7.6e-6 at k = 2)
            for alt_start in (_split_plateau(v_old, model, k - 1),
                              _split_top(v_old, model, k - 1)):
                if alt_start is None:
                    continue
                alt, v_alt = _solve_k(model, k, options, alt_start)
                better = alt.free_energy > res.free_energy + 1e-14 * max(1.0, abs(res.free_energy))
                if alt.converged and (better or not res.converged):
                    alt = dataclasses.replace(alt, iterations=alt.iterations + res.iterations)
                    res, v = alt, v_alt
        if not res.converged and prev is not None:
            res = _keep_fewer_steps(res, prev)
        prev = res
        yield res, v


def _keep_fewer_steps(res: ParisiResult, prev: ParisiResult) -> ParisiResult:
    """``res`` (a k-step optimum that did not converge), or, where its extra steps collapsed
    and it is no better than ``prev`` (the converged (k-1)-step solution), ``prev`` itself
    padded with zero-width steps.

    Above the AT line (SK at h = 1, T = 0.85) the k-step optimum is the RS point with its
    steps shrunk to nothing; there the levels of the empty steps do not change F, the problem
    is flat in them, and the optimiser stops with a stationarity residual of 1-3e-6 in those
    directions (measured: 11 of 160 SK 2RSB points of bench_warm_start's sweep). The
    padded (k-1)-step solution is the same function q(x), exactly stationary. T > 0 only.
    """
    if not (prev.converged and prev.T > 0):
        return res
    slack = _MONOTONE_SLACK * max(1.0, abs(prev.free_energy))
    # onto RS (prev is RS, or collapsed onto it): all breakpoints within 1e-3 of each other
    # while the RS replicon is positive (AT-stable). A step that narrow is a perturbation of
    # RS, which can only lower f when the replicon is positive; the gain the optimiser
    # reports there (3.7e-10 at h = 1, T = 0.854, a step 5e-5 wide) is the grid's error on
    # a step whose Gaussian smoothing (variance ξ'(q') - ξ'(q) ~ 1e-4) is far below the
    # grid spacing
    onto_rs = _seed_of_k(prev) == 0 and prev.replicon > 0 and float(np.ptp(res.q)) < 1e-3
    # onto fewer steps: no more genuine steps than prev (so fewer than res.k), and no gain
    collapsed = _seed_of_k(res) <= prev.k and res.free_energy <= prev.free_energy + slack
    if not (onto_rs or collapsed):
        return res
    extra = res.k - prev.k
    q = np.concatenate([prev.q, np.full(extra, prev.q[-1])])
    x_top = float(prev.x[-1]) if prev.x.size else 0.5
    x = np.concatenate([prev.x, np.full(extra, x_top)])
    return dataclasses.replace(
        prev, method=res.method, k=res.k, q=q, x=x, gamma=x / prev.T,
        iterations=prev.iterations + res.iterations,
        message=(f"the {prev.k}-step solution is kept, with {extra} zero-width step(s): the "
                 f"{res.k}-step optimum collapsed onto it, where the optimiser stalled at "
                 f"residual {res.residual:.1e} in the levels of the empty steps"),
    )


def _ladder(model, k_max: int, options: Options):
    """k-step solutions for k = 1..k_max, each warm-started from the previous one (from the
    RS solution at T > 0; T = 0 has no RS parameters to start from)."""
    rs, v = _solve_k(model, 0, options, None) if model.T > 0 else (None, None)
    for res, _v in _climb(model, 0, v, k_max, options, rs):
        yield res


# A warm-started k-step value may fall below the value of fewer steps (a nested family:
# f is nondecreasing in k) by no more than rounding; more means the start led the optimiser
# to a worse stationary point, and the k-step problem is solved again the cold way.
_MONOTONE_SLACK = 1e-10


def _warm_ladder(model, ks: list[int], options: Options, seeds: dict
                 ) -> tuple[dict, int, list[int]]:
    """k-step solutions for the k in ``ks`` (ascending), each from its seed where there is
    one (see :func:`solve_ising`); returns ``({k: (result, v)}, iterations, the k whose
    seeded solution was kept)``."""
    T = model.T
    solved: dict[int, tuple[ParisiResult, np.ndarray | None]] = {}
    kept: list[int] = []
    iterations = 0
    # the RS (k = 0) solution: a cheap anchor (one variable) for the monotonicity check and
    # the cold way up the ladder; at T = 0 it has no parameters to climb from
    rs, v_rs = _solve_k(model, 0, options, None)
    iterations += rs.iterations
    solved[0] = (rs, v_rs if T > 0 else None)

    def vector(seed) -> np.ndarray:
        return np.concatenate([seed.q, seed.levels]).astype(float)

    def acceptable(res: ParisiResult, below: int) -> bool:
        # a seeded solution whose steps collapsed may sit on the saddle of fewer steps (the
        # RS saddle of an unstable RS solution): the cold way decides whether it is real
        ref = solved[below][0].free_energy
        return res.converged and not _collapsed(res) and \
            res.free_energy >= ref - _MONOTONE_SLACK * max(1.0, abs(ref))

    for k in ks:
        if k in solved:
            continue
        below = max(j for j in solved if j < k)
        # the seed is checked against the best level solved below (often RS), not against a
        # freshly solved k - 1 as the spherical solver does: an Ising level costs PDE solves
        # (the ladder cut the warm chain's saving from 1.7x to 1.4x in evaluations), and no
        # seed has been seen to fall into a worse optimum here (bench_warm_start: warm and
        # cold agree to 8.5e-11 along the SK chain)
        if k in seeds:
            res, v = _solve_k(model, k, options, vector(seeds[k]))
            iterations += res.iterations
            if acceptable(res, below):
                solved[k] = (res, v)
                kept.append(k)
                continue
        # no usable seed at k: climb from the best solution below, after trying the largest
        # seed between it and k
        for j in sorted((j for j in seeds if below < j < k), reverse=True):
            res, v = _solve_k(model, j, options, vector(seeds[j]))
            iterations += res.iterations
            if acceptable(res, below):
                solved[j] = (res, v)
                kept.append(j)
                below = j
                break
        for res, v in _climb(model, below, solved[below][1], k, options, solved[below][0]):
            iterations += res.iterations
            solved[res.k] = (res, v)
    return solved, iterations, kept


@tap_blas  # L-BFGS-B's tiny BLAS calls crawl when two OpenBLAS pools spin against each other
def solve_ising(model, method: RSB | FullRSB, options: Options, start=None,
                progress=None) -> ParisiResult:
    """Solve an Ising mixed p-spin model (see the module docstring); used by ``solve``.

    ``start`` (a :class:`ParisiResult`, checked by ``solve``) seeds the k-step problems:
    each k solved starts from the start's solution with that many genuine steps (see
    :func:`~replicasolve.solvers.result.warm_seeds`) instead of climbing the ladder
    RS → 1 → … → k, so an FRSB solve only solves its ``ks``. A k without a seed climbs from
    the largest k solved (or seed) below it; a seeded solution that does not converge,
    whose steps collapse (it may sit on the saddle of fewer steps), or whose value falls
    below that of fewer steps, is discarded and its k solved the cold way.
    RS is always solved cold. Without ``start`` (or with one that offers no seed) the solve
    is exactly the cold ladder. ``iterations`` counts as in a cold solve (the k reported;
    summed over ``ks`` for FRSB); ``settings["solver_iterations"]`` counts every solve.
    ``progress(k, k_max, "k = <k>")`` (optional) is called after each k of the cold ladder.
    """
    from ..progress import reported

    _validate(model)
    from .result import warm_seeds

    seeds = warm_seeds(start, model.T) if start is not None else {}
    note: dict = {}
    if _is_linear(model):
        # independent spins in a random field: no order parameter enters the functional, so
        # every k-step value is the RS one (computed in closed form at T = 0, where the grid
        # quadrature of |u| would lose ~1e-8 to the kink)
        rs = _solve_k(model, 0, options, None)[0]
        if isinstance(method, RSB):
            return _padded(rs, method.k)
        seq = [_padded(rs, k) for k in method.ks]
        iterations = 0
    elif seeds:
        ks = [method.k] if isinstance(method, RSB) else list(method.ks)
        solved, total, kept = _warm_ladder(model, ks, options, seeds)
        note = {"warm_start": f"seeded k = {kept} (seeds offered: {sorted(seeds)})",
                "solver_iterations": total}
        if isinstance(method, RSB):
            r = solved[method.k][0]
            return dataclasses.replace(r, settings={**r.settings, **note})
        seq = [solved[k][0] for k in ks]
        iterations = sum(r.iterations for r in seq)
    elif isinstance(method, RSB):
        if method.k == 0:
            return _solve_k(model, 0, options, None)[0]
        return list(reported(_ladder(model, method.k, options), method.k, progress,
                             lambda r: f"k = {r.k}"))[-1]
    else:
        # full RSB: the ladder up to the largest k, keeping the requested ones
        seq = [r for r in reported(_ladder(model, max(method.ks), options), max(method.ks),
                                   progress, lambda r: f"k = {r.k}") if r.k in method.ks]
        iterations = sum(r.iterations for r in seq)
    ks = [r.k for r in seq]
    vals = [r.free_energy for r in seq]
    f_inf, err, _p = extrapolate_k(ks, vals)
    last = seq[-1]
    return ParisiResult(
        model=model, method="FRSB", k=last.k, free_energy=last.free_energy,
        energy=last.energy, entropy=last.entropy, q=last.q, x=last.x, gamma=last.gamma,
        magnetization=last.magnetization, replicon=last.replicon,
        converged=all(r.converged for r in seq), iterations=iterations,
        residual=max(r.residual for r in seq), extrapolated=f_inf, extrapolation_error=err,
        sequence=tuple(seq), settings={**last.settings, **note}, message=last.message,
    )
