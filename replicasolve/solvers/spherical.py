"""Spherical mixed p-spin models: the Crisanti–Sommers functional (T > 0) and its T = 0 limit.

Conventions (those of :mod:`replicasolve.models.pspin`): σ on the sphere |σ|² = N with the
uniform *probability* measure (so the entropy is 0 at T = ∞ and negative below), Gaussian H
with E H(σ)H(σ') = N ξ(R), Gibbs weight exp(-H/T), field term -h Σ σ_i. By rotation
invariance of the disorder, the field is exactly a linear term in the covariance, and every
formula below uses::

    ξ_h(q) = ξ(q) + h² q.

T > 0 (Crisanti–Sommers, Z. Phys. B 87, 341 (1992); proved by Talagrand, PTRF 134 (2006) and
Chen, EJP 18 (2013) with a field): -βf = inf_x P(x)::

    P(x) = 1/2 [ β² ∫_0^1 x(q) ξ_h'(q) dq + ∫_0^{q_M} dq / d(q) + ln(1 - q_M) ],
    d(q) = ∫_q^1 x(s) ds,

over distribution functions x with x = 1 on [q_M, 1]. P is strictly convex in x (Talagrand
2006), so a step function that no admissible perturbation improves is the global minimiser.

T = 0 (Chen–Sen, CMP 350 (2017); Jagannath–Tobasco, CMP 352 (2017)): with β x → γ and
β(1 - q_M) → L::

    E_GS = -inf_{L > 0, γ} 1/2 [ ∫_0^1 γ(q) ξ_h'(q) dq + ξ_h'(1) L + ∫_0^1 dq / D(q) ],
    D(q) = L + ∫_q^1 γ(s) ds,   γ ≥ 0 nondecreasing.

Both are minimised over k-step functions. The solver works with the functional scaled to
energy units, F = T·P at T > 0 (so f = -min F) and F = the Chen–Sen bracket at T = 0 (so
E_GS = -min F), on a box parametrisation that keeps the ordering constraints as simple bounds::

    T > 0:  ln(1 - q_i) = -(u_0 + ... + u_i),  ln m_i = -(v_i + ... + v_k),   u, v >= 0;
    T = 0:  ln(1 - q_i) = -(u_0 + ... + u_i),  ln γ_i = a + v_2 + ... + v_i,  v >= 0,
            ln L = λ.

Logarithmic coordinates matter: at low T, 1 - q_k ~ T L and m_i ~ T γ_i, and the gaps 1 - q_i
are carried as exp(-U) rather than as 1 - q so that they keep full relative precision.

Each k-step problem is solved by a trust-region Newton method with the exact (analytic)
Hessian. The problems are solved in a chain RS → 1RSB → 2RSB → ...; the (k+1)-step problem
starts from the better of two warm starts: the k-step optimum with one step inserted where
the first variation of the functional says it helps most (steepest admissible descent among
single-step insertions: this finds new jumps, and never stalls in the saddle that splitting
a step in half leaves), and the k-step optimum re-sampled on k + 1 evenly spaced step
indices (this refines a continuous part without crowding). When no insertion lowers F, the
k-step optimum satisfies the optimality conditions of the full (convex) problem and the
higher-k results repeat it with zero-width steps.

Next to a discontinuous static transition (h = 0; :mod:`replicasolve.solvers.transitions`)
the 1RSB gain over the paramagnet vanishes like (T_s - T)², below what F and the insertion
grid resolve; where it is under a band (1e-8), RS vs 1RSB is decided by T against T_s
instead: RS at T >= T_s (exact there), and below T_s the 1-step optimum started from the
m = 1 solution (q_1 = root of β² ξ'(q)(1 - q) = q near q_s, m from ∂P/∂m = 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..trust_region import trust_region_step as _tr_step
from ._ordered import project_ordered
from .extrapolate import extrapolate_k
from .methods import RSB, FullRSB, Options
from .result import ParisiResult

__all__ = [
    "ContinuousSolution",
    "continuous_solution",
    "parisi_functional",
    "solve_spherical",
    "subag_ground_state",
    "threshold_energy",
]

# Upper bound of each log-gap increment u_i and log-level increment v_i: e^-60 ~ 1e-26 is a
# zero-width step in double precision, which is how an unused step is represented.
_U_MAX = 60.0
_V_MAX = 60.0
# ln γ_1 and ln L at T = 0 are free in principle; the box only guards against overflow.
_LOG_BOX = 60.0
# An insertion is tried only if its first-order gain beats the rounding of F's terms.
_DESCENT_FLOOR = 1e-12
# Grid (points per piece) on which the first variation is integrated to place an insertion.
_PIECE_GRID = 160


# --------------------------------------------------------------------------------------
# ξ_h and the k-step functional
# --------------------------------------------------------------------------------------


class _XiH:
    """(ξ_h, ξ_h', ξ_h'') of the covariance with the field folded in (ξ_h = ξ + h² q)."""

    def __init__(self, xi: Any, h: float) -> None:
        self.xi = xi
        # the field enters as h² (ξ_h = ξ + h² q): refuse a field whose square overflows
        if not abs(float(h)) < 1e150:
            raise InvalidInputError(
                f"field h = {h:g}: the spherical solver needs |h| < 1e150 (it works with h², "
                "which overflows beyond 1.3e154)")
        self.h2 = float(h) ** 2

    def __call__(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x0, x1, x2, _ = self.xi.derivatives(q)
        return x0 + self.h2 * q, x1 + self.h2, x2

    def third(self, q: np.ndarray) -> np.ndarray:
        return self.xi.derivatives(q)[3]


@dataclass
class _Eval:
    """The k-step functional and its derivatives in natural coordinates
    n = (q_0..q_k, y_1..y_k, D_k), D_k treated as independent of q_k (the parametrisation
    ties them at T > 0)."""

    F: float
    grad: np.ndarray
    hess: np.ndarray | None
    work: float  # ∫ x ξ_h' (T > 0) or ∫ γ ξ_h' (T = 0)
    d0: float  # d(0) = ∫_0^1 x (T > 0) or D(0) = L + ∫ γ (T = 0)
    noise: float  # rounding floor of F: the size of the terms it is summed from, times eps


def _natural(xih: _XiH, T: float, q: np.ndarray, gaps: np.ndarray, y: np.ndarray,
             dtop: float, hess: bool) -> _Eval:
    """F (= T·P at T > 0, the Chen–Sen bracket at T = 0) of a k-step order parameter.

    ``q`` = q_0..q_k and ``gaps`` = 1 - q_i (given separately: they set the widths with full
    precision near q = 1; at T = 0, q_k = 1), ``y`` the levels m_i or γ_i, ``dtop`` = D_k
    (1 - q_k at T > 0, L at T = 0). With D_j = D_k + Σ_{i>j} y_i (q_i - q_{i-1}):

        F = 1/2 [ s (Σ_i y_i (ξ_h(q_i) - ξ_h(q_{i-1})) + top_A) + τ Ψ + top_L D_k ],
        Ψ = q_0/D_0 + Σ_i (1/y_i) ln(D_{i-1}/D_i) + c_top ln D_k,

    with (s, τ, c_top, top_A, top_L) = (β, T, 1, ξ_h(1) - ξ_h(q_k), 0) at T > 0 and
    (1, 1, 0, 0, ξ_h'(1)) at T = 0. Derivatives go through Ψ(D, y, q_0): with
    g_j = ∂Ψ/∂D_j = (c_{j+1} - c_j)/D_j (c_i = 1/y_i, c_{k+1} = c_top; g_0 also has
    -q_0/D_0²), S_l = g_0 + ... + g_l, and ∂D_j/∂q_l = [l>j] y_l - [l>=j] y_{l+1},
    ∂D_j/∂y_i = [i>j](q_i - q_{i-1}): ∂Ψ/∂q_l = y_l S_{l-1} - y_{l+1} S_l (+1/D_0 at l = 0),
    ∂Ψ/∂y_i = S_{i-1}(q_i - q_{i-1}) - ln(D_{i-1}/D_i)/y_i². The Hessian is
    J_Dᵀ diag(∂g/∂D) J_D + J_Dᵀ C + Cᵀ J_D + (explicit y-y) + Σ_j g_j ∇²D_j with C the
    explicit ∂g/∂(y, q_0).
    """
    k = y.size
    pos = T > 0
    s, tau, ctop = (1.0 / T, T, 1.0) if pos else (1.0, 1.0, 0.0)
    xi, d1, d2 = xih(np.append(q, 1.0))
    w = gaps[:-1] - gaps[1:]
    inc = y * w
    d = dtop + np.concatenate([np.cumsum(inc[::-1])[::-1], [0.0]])
    lg = np.log1p(inc / d[1:])
    c = np.concatenate([[0.0], 1.0 / y, [ctop]])
    g = np.empty(k + 1)
    g[0] = -q[0] / d[0] ** 2 + c[1] / d[0]
    g[1:] = (c[2:] - c[1:-1]) / d[1:]
    S = np.cumsum(g)
    s_prev = np.concatenate([[0.0], S[:-1]])
    yext = np.concatenate([[0.0], y, [0.0]])
    dxi = np.diff(xi[: k + 1])
    work = float(np.sum(y * dxi))
    psi = q[0] / d[0] + float(np.sum(lg / y))
    top_l = 0.0
    if pos:
        work += float(xi[-1] - xi[k])
        psi += math.log(dtop)
    else:
        top_l = float(d1[-1])
    F = 0.5 * (s * work + tau * psi + top_l * dtop)
    # at low T, F = O(1) is a sum of terms of size β|ξ_h|: its rounding floor is ~β eps, far
    # above eps |F|, and the line search must not mistake that noise for an increase
    noise = 8 * np.finfo(float).eps * (
        s * (float(np.sum(y * (np.abs(xi[1 : k + 1]) + np.abs(xi[:k])))) + abs(float(xi[-1])))
        + tau * (abs(psi) + q[0] / d[0]) + abs(top_l * dtop) + abs(F))

    gq = s * d1[: k + 1] * (yext[:-1] - yext[1:]) + tau * (yext[:-1] * s_prev - yext[1:] * S)
    gq[0] += tau / d[0]
    if pos:
        gq[k] -= s * d1[k]
    gy = s * dxi + tau * (s_prev[1:] * w - lg / y**2)
    gD = tau * S[-1] + top_l
    grad = 0.5 * np.concatenate([gq, gy, [gD]])
    if not hess:
        return _Eval(F, grad, None, work, float(d[0]), noise)

    n = 2 * k + 2
    iq = np.arange(k + 1)
    iy = k + 1 + np.arange(k)
    H = np.zeros((n, n))
    # s ∂²A
    # ξ'' enters only the Newton model: a kink kernel (ReLU: ξ''(1) = ∞) or a tabulated ξ
    # without a reliable ξ'' (NaN) must not poison it; the value and gradient stay exact
    d2 = np.nan_to_num(d2, nan=0.0, posinf=1e12, neginf=-1e12)
    haq = d2[: k + 1] * (yext[:-1] - yext[1:])
    if pos:
        haq[k] -= d2[k]
    H[iq, iq] += s * haq
    if k:
        H[iq[1:], iy] += s * d1[1 : k + 1]
        H[iq[:-1], iy] -= s * d1[:k]
        H[iy, iq[1:]] += s * d1[1 : k + 1]
        H[iy, iq[:-1]] -= s * d1[:k]
    # τ ∂²Ψ
    jj = np.arange(k + 1)[:, None]
    ll = np.arange(k + 1)[None, :]
    jd = np.zeros((k + 1, n))
    jd[:, iq] = (ll > jj) * yext[: k + 1][None, :] - (ll >= jj) * yext[1:][None, :]
    if k:
        ii = np.arange(1, k + 1)[None, :]
        jd[:, iy] = (ii > jj) * w[None, :]
    jd[:, -1] = 1.0
    hd = np.empty(k + 1)
    hd[0] = 2.0 * q[0] / d[0] ** 3 - c[1] / d[0] ** 2
    hd[1:] = -(c[2:] - c[1:-1]) / d[1:] ** 2
    cm = np.zeros((k + 1, n))
    if k:
        cm[np.arange(k), iy] = -1.0 / (y**2 * d[:-1])
        cm[np.arange(1, k + 1), iy] += 1.0 / (y**2 * d[1:])
    cm[0, 0] -= 1.0 / d[0] ** 2
    cross = jd.T @ cm
    hp = jd.T @ (hd[:, None] * jd) + cross + cross.T
    if k:
        hp[iy, iy] += 2.0 * lg / y**3
        hp[iy, iq[1:]] += s_prev[1:]
        hp[iq[1:], iy] += s_prev[1:]
        hp[iy, iq[:-1]] -= s_prev[1:]
        hp[iq[:-1], iy] -= s_prev[1:]
    H += tau * hp
    H *= 0.5
    return _Eval(F, grad, H, work, float(d[0]), noise)


class _Objective:
    """The k-step functional on its box parametrisation (see the module docstring).

    Every natural variable is n_a = φ_a(ℓ_a) with ℓ = B z linear and φ_a one of
    1 - e^{-ℓ}, e^{±ℓ}, so ∇_z F = Bᵀ(φ' ∘ ∇_n F) and
    ∇²_z F = Bᵀ[φ'φ'ᵀ ∘ ∇²_n F + diag(φ'' ∘ ∇_n F)] B exactly.
    """

    def __init__(self, xih: _XiH, T: float, k: int) -> None:
        self.xih, self.T, self.k = xih, T, k
        if T > 0:
            nz = 2 * k + 1
            self.lower = np.zeros(nz)
            self.upper = np.concatenate([np.full(k + 1, _U_MAX), np.full(k, _V_MAX)])
            B = np.zeros((2 * k + 2, nz))
            B[: k + 1, : k + 1] = np.tril(np.ones((k + 1, k + 1)))
            B[k + 1 : 2 * k + 1, k + 1 :] = np.triu(np.ones((k, k)))
            B[-1, : k + 1] = 1.0
            self.keep = np.arange(2 * k + 2)
        else:
            nz = 2 * k + 1
            self.lower = np.zeros(nz)
            self.upper = np.zeros(nz)
            self.upper[:k] = _U_MAX
            if k:
                self.lower[k], self.upper[k] = -_LOG_BOX, _LOG_BOX
                self.upper[k + 1 : 2 * k] = _V_MAX
            self.lower[-1], self.upper[-1] = -_LOG_BOX, _LOG_BOX
            B = np.zeros((nz, nz))
            B[:k, :k] = np.tril(np.ones((k, k)))
            if k:
                B[k : 2 * k, k] = 1.0
                B[k : 2 * k, k + 1 : 2 * k] = np.tril(np.ones((k, k - 1)), -1)
            B[-1, -1] = 1.0
            # q_k = 1 is not a variable at T = 0
            self.keep = np.concatenate([np.arange(k), np.arange(k + 1, 2 * k + 2)])
        self.B = B
        self.noise = 0.0

    def unpack(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(gaps, levels, L) of parameter vector ``z`` (L = nan at T > 0)."""
        k = self.k
        if self.T > 0:
            gaps = np.exp(-np.cumsum(z[: k + 1]))
            v = z[k + 1 :]
            return gaps, np.exp(-np.cumsum(v[::-1])[::-1]), math.nan
        gaps = np.exp(-np.cumsum(z[:k]))
        levels = (np.exp(z[k] + np.concatenate([[0.0], np.cumsum(z[k + 1 : 2 * k])]))
                  if k else np.zeros(0))
        return gaps, levels, float(math.exp(z[-1]))

    def pack(self, gaps: np.ndarray, levels: np.ndarray, L: float = math.nan) -> np.ndarray:
        with np.errstate(divide="ignore"):
            u = -np.diff(np.concatenate([[0.0], np.log(gaps)]))
        u = np.clip(np.nan_to_num(u, posinf=_U_MAX), 0.0, _U_MAX)
        ll = np.log(levels)
        if self.T > 0:
            v = np.diff(np.concatenate([ll, [0.0]]))
            return np.concatenate([u, np.clip(v, 0.0, _V_MAX)])
        if self.k == 0:
            return np.array([math.log(L)])
        v = np.clip(np.diff(ll), 0.0, _V_MAX)
        return np.concatenate([u, [ll[0]], v, [math.log(L)]])

    def natural(self, z: np.ndarray, hess: bool = False) -> tuple[_Eval, np.ndarray, np.ndarray]:
        """The natural evaluation and φ', φ'' of the kept natural variables."""
        gaps, levels, L = self.unpack(z)
        if self.T > 0:
            q = -np.expm1(-np.cumsum(z[: self.k + 1]))
            ev = _natural(self.xih, self.T, q, gaps, levels, float(gaps[-1]), hess)
            d1 = np.concatenate([gaps, -levels, [-gaps[-1]]])
            d2 = np.concatenate([-gaps, levels, [gaps[-1]]])
            return ev, d1, d2
        q = np.append(-np.expm1(-np.cumsum(z[: self.k])), 1.0)
        ev = _natural(self.xih, 0.0, q, np.append(gaps, 0.0), levels, L, hess)
        d1 = np.concatenate([gaps, levels, [L]])
        d2 = np.concatenate([-gaps, levels, [L]])
        return ev, d1, d2

    def residual(self, z: np.ndarray) -> float:
        """‖v - P(v - ∇F)‖∞ in the natural variables v = (q, m) at T > 0 and (q, γ, L) at
        T = 0, P the projection onto the ordered, boxed set (the measure of
        :class:`~replicasolve.solvers.methods.Options`' ``tol``; 0 exactly at a KKT point)."""
        ev, _, _ = self.natural(z)
        _, levels, L = self.unpack(z)
        k = self.k
        q = -np.expm1(-np.cumsum(z[: k + 1 if self.T > 0 else k]))
        gy = ev.grad[k + 1 : 2 * k + 1]
        if self.T > 0:
            gq = ev.grad[: k + 1].copy()
            gq[k] -= ev.grad[-1]  # D_k = 1 - q_k
            parts = [q - project_ordered(q - gq, 0.0, 1.0),
                     levels - project_ordered(levels - gy, 0.0, 1.0)]
        else:
            gq = ev.grad[:k]
            parts = [q - project_ordered(q - gq, 0.0, 1.0),
                     levels - project_ordered(levels - gy, 0.0, math.inf),
                     [L - max(L - ev.grad[-1], 0.0)]]
        return float(np.max(np.abs(np.concatenate(parts)), initial=0.0))

    def fg(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        ev, d1, _ = self.natural(z)
        self.noise = ev.noise
        return ev.F, self.B.T @ (d1 * ev.grad[self.keep])

    def fgh(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        ev, d1, d2 = self.natural(z, hess=True)
        self.noise = ev.noise
        gn = ev.grad[self.keep]
        hn = ev.hess[np.ix_(self.keep, self.keep)]  # type: ignore[index]
        inner = d1[:, None] * hn * d1[None, :] + np.diag(d2 * gn)
        return ev.F, self.B.T @ (d1 * gn), self.B.T @ inner @ self.B


def _projected(z: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    pg = g.copy()
    pg[(z <= lower + 1e-14) & (g > 0)] = 0.0
    pg[(z >= upper - 1e-14) & (g < 0)] = 0.0
    return pg


@dataclass
class _Opt:
    z: np.ndarray
    F: float
    residual: float
    iterations: int
    converged: bool
    message: str


def _minimise(obj: _Objective, z0: np.ndarray, tol: float, maxiter: int) -> _Opt:
    """Trust-region Newton on the box with the exact Hessian: variables at a bound with the
    gradient pushing outwards are held (projected Newton, Bertsekas, SIAM J. Control Optim.
    20 (1982)), the others take the trust-region step (Moré–Sorensen), clipped to the box,
    until the natural-variable residual (:meth:`_Objective.residual`) is <= ``tol``.
    Quasi-Newton methods stall near 1e-8 here: the Hessian's condition number grows like
    k^4 (steps that barely matter) and like β at low T; and a new step inserted by the
    k -> k+1 warm start starts near a saddle, where a trust region (not a line search on
    a modified Newton direction) is what gets out quickly.

    Past ``tol`` the iteration goes on ("polishing", towards min(1e-3 tol, 1e-10), at most
    30 more steps): near-flat directions of many-step solutions make the f error
    residual²/(small eigenvalue) rather than residual², and the quadratic regime of Newton
    starts late there. F decreases monotonically, so the last iterate whose residual is
    within ``tol`` is the best acceptable one and is what is returned.
    """
    lo, hi = obj.lower, obj.upper
    z = np.clip(np.asarray(z0, dtype=float), lo, hi)
    F, g, H = obj.fgh(z)
    target = min(1e-3 * tol, 1e-10)
    radius = 1.0
    it = 0
    stalled = False
    resid = obj.residual(z)
    rejected = 0
    best = (z, F, resid) if resid <= tol else None
    polish = 0
    while resid > target and it < maxiter and polish < 30:
        it += 1
        polish += best is not None
        noise = obj.noise
        free = ~(((z <= lo + 1e-10) & (g > 0)) | ((z >= hi - 1e-10) & (g < 0)))
        idx = np.nonzero(free)[0]
        lam, vec = np.linalg.eigh(H[np.ix_(idx, idx)])
        step = np.zeros_like(z)
        if lam.size and lam[0] > 0:
            gc = vec.T @ g[idx]
            if 0.5 * float(np.sum(gc**2 / lam)) <= 4 * noise:
                # the whole Newton gain is below the rounding floor of F (low T: F is a sum
                # of terms ~β): a trust region cannot judge steps there, the residual can.
                # The Hessian's condition number can reach 1e14 (flat directions that stay
                # curved at third order): Levenberg–Marquardt shifts zero the stiff
                # components of the gradient without a jump along the flat ones.
                moved = False
                for shift in (0.0, 1e-8, 1e-6, 1e-4):
                    step[idx] = -vec @ (gc / (lam + shift * float(lam[-1])))
                    zn = np.clip(z + step, lo, hi)
                    Fn, _ = obj.fg(zn)
                    rn = obj.residual(zn)
                    if np.isfinite(Fn) and Fn <= F + 2 * max(noise, obj.noise) and rn < resid:
                        moved = True
                        break
                if moved:
                    z = zn
                    F, g, H = obj.fgh(z)
                    resid = rn
                    if resid <= tol:
                        best = (z, F, resid)
                    continue
        step[idx] = _tr_step(lam, vec, g[idx], radius)
        zn = np.clip(z + step, lo, hi)
        dz = zn - z
        pred = -(float(g @ dz) + 0.5 * float(dz @ H @ dz))
        Fn, gn = obj.fg(zn)
        noise = max(noise, obj.noise)
        if not np.isfinite(Fn):
            ok_step, rho = False, -1.0
        elif pred > 4 * noise:
            rho = (F - Fn) / pred
            ok_step = rho > 1e-4
        else:
            # the predicted gain is below the rounding floor of F: only the gradient can
            # tell progress
            rho = 1.0
            ok_step = Fn <= F + 2 * noise and float(
                np.max(np.abs(_projected(zn, gn, lo, hi)), initial=0.0)) < float(
                np.max(np.abs(_projected(z, g, lo, hi)), initial=0.0))
        step_len = float(np.linalg.norm(dz))
        if not ok_step or rho < 0.25:
            radius = 0.25 * max(step_len, 1e-300)
        elif rho > 0.75 and step_len > 0.99 * radius:
            radius = min(2.0 * radius, 1e3)
        if not ok_step:
            rejected += 1
            if radius < 1e-14 or rejected > 30:
                stalled = True
                break
            continue
        rejected = 0
        z = zn
        F, g, H = obj.fgh(z)
        resid = obj.residual(z)
        if resid <= tol:
            best = (z, F, resid)
    if resid > tol and best is not None:
        z, F, resid = best
        stalled = False
    # a variable that ends within rounding of its lower bound is put on it (q_0 = 0 exactly,
    # a collapsed step exactly collapsed) when that costs nothing
    snap = (z > lo) & (z <= lo + 1e-12)
    if np.any(snap):
        zs = np.where(snap, lo, z)
        Fs, _ = obj.fg(zs)
        rs = obj.residual(zs)
        if Fs <= F + 2 * obj.noise and rs <= max(resid, target):
            z, F, resid = zs, Fs, rs
    ok = bool(resid <= tol and np.isfinite(F))
    msg = f"trust-region Newton: {it} iteration(s), residual {resid:.1e}"
    if not ok:
        why = ("iteration limit reached" if it >= maxiter else
               "no further progress: at the rounding floor of the functional" if stalled
               else "non-finite functional")
        msg += f" > tol {tol:.1e} ({why})"
    return _Opt(z, float(F), resid, it, ok, msg)


# --------------------------------------------------------------------------------------
# Inserting a step where the first variation says it helps (warm start k -> k+1)
# --------------------------------------------------------------------------------------


@dataclass
class _State:
    """A k-step order parameter: gaps 1 - q_i, levels (m_i or γ_i), L (T = 0)."""

    gaps: np.ndarray
    levels: np.ndarray
    L: float = math.nan


def _pieces(state: _State, T: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Knots as gaps (1 = q of 0 ... 0 = q of 1), the level on each piece, and D(1)."""
    knots = np.concatenate([[1.0], state.gaps, [0.0]])
    if T > 0:
        lev = np.concatenate([[0.0], state.levels, [1.0]])
        return knots, lev, 0.0
    return knots, np.concatenate([[0.0], state.levels]), state.L


def _from_pieces(knots: np.ndarray, lev: np.ndarray, dtop: float, T: float) -> _State:
    if T > 0:
        return _State(knots[1:-1].copy(), lev[1:-1].copy())
    return _State(knots[1:-1].copy(), lev[1:].copy(), dtop)


def _h_log(x: np.ndarray) -> np.ndarray:
    """(-x - ln(1 - x))/x² for 0 <= x < 1, by its series where the closed form cancels."""
    x = np.asarray(x, dtype=float)
    small = x < 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = (-x - np.log1p(-x)) / x**2
    series = 0.5 + x / 3 + x**2 / 4 + x**3 / 5
    return np.where(small, series, exact)


def _insertions(
    state: _State, xih: _XiH, T: float, resid: float = 0.0
) -> list[tuple[float, int, float, bool]]:
    """Single-step insertions with a negative first-order change of F, best first.

    The first variation of F (scaled as F) is φ(u) = 1/2[s ξ_h'(u) - τ ∫_0^u dq/D(q)²] with
    (s, τ) = (β, T) at T > 0 and (1, 1) at T = 0. Raising the level on [c, b) of a piece
    [a, b) changes F by δ ∫_c^b φ; lowering it on [a, c) by -δ ∫_a^c φ. Returns
    (first-order gain per unit δ, piece, gap of c, raise?) for the admissible ones.
    Gains within rounding, or within 1.5 × ``resid`` (the state's stationarity residual:
    a level whose derivative ∫_a^b φ is not quite 0 fakes a gain up to that size), are not
    counted.
    """
    knots, lev, dtop = _pieces(state, T)
    s, tau = (1.0 / T, T) if T > 0 else (1.0, 1.0)
    xi01, _, _ = xih(np.array([0.0, 1.0]))
    # a gain below the rounding of the terms of F (~ s |ξ_h|) is no gain
    floor = max(_DESCENT_FLOOR * max(1.0, s * float(np.max(np.abs(xi01)))), 1.5 * resid)
    n = lev.size
    dk = np.empty(n + 1)
    dk[-1] = dtop
    for j in range(n - 1, -1, -1):
        dk[j] = dk[j + 1] + lev[j] * (knots[j] - knots[j + 1])
    ik = np.zeros(n + 1)
    out: list[tuple[float, int, float, bool]] = []
    for j in range(n):
        ga, gb = knots[j], knots[j + 1]
        if ga - gb <= 1e-15 * max(ga, 1e-300):
            ik[j + 1] = ik[j]
            continue
        # geometric spacing resolves the approach to q = 1, where everything varies on the
        # scale of the gap (~T at low temperature); linear spacing covers the rest
        lo_gap = gb if gb > 0 else ga * 1e-7
        parts = [np.geomspace(ga, lo_gap, _PIECE_GRID), np.linspace(ga, gb, _PIECE_GRID)]
        if gb == 0 and dk[j + 1] == 0:
            parts[1] = np.linspace(ga, lo_gap, _PIECE_GRID)  # T > 0: D -> 0 at q = 1
        grid = np.unique(np.concatenate(parts))[::-1]
        dist = ga - grid  # u - a
        ik[j + 1] = ik[j] + (ga - gb) / (dk[j] * dk[j + 1]) if dk[j + 1] > 0 else math.inf
        # ∫_a^c φ in closed form (D is linear on the piece, so ∫ I is elementary): φ itself
        # is a difference of terms ~β, and a quadrature of it would invent descents at low T
        xi_c, _, _ = xih(1.0 - grid)
        x = lev[j] * dist / dk[j]
        cum = 0.5 * (s * (xi_c - xi_c[0])
                     - tau * (ik[j] * dist + (dist / dk[j]) ** 2 * _h_log(x)))
        if T > 0 and j == n - 1:
            room_up = 0.0  # x = 1 is the largest value
        elif j + 1 < n:
            room_up = lev[j + 1] - lev[j]
        else:
            room_up = math.inf  # γ is unbounded at T = 0
        room_down = lev[j] - (lev[j - 1] if j > 0 else 0.0)
        if room_up > 0 and np.isfinite(ik[j + 1]):
            gain = cum[-1] - cum
            # c = b is no change; c = a only moves the level, except for the zero piece,
            # where raising all of it is a new step from q = 0
            first = 0 if j == 0 else 1
            if gain.size > first + 1:
                i = int(np.argmin(gain[first:-1])) + first
                if gain[i] < -floor:
                    out.append((float(gain[i]), j, float(grid[i]), True))
        if room_down > 0 and cum.size > 2:
            gain = -cum  # c = a and c = b would only move a level, not insert a step
            i = int(np.argmin(gain[1:-1])) + 1
            if gain[i] < -floor:
                out.append((float(gain[i]), j, float(grid[i]), False))
    out.sort(key=lambda t: t[0])
    return out


def _insert(state: _State, T: float, piece: int, gap_c: float, up: bool, level: float) -> _State:
    knots, lev, dtop = _pieces(state, T)
    knots = np.insert(knots, piece + 1, gap_c)
    if up:
        lev = np.insert(lev, piece + 1, level)
    else:
        lev = np.insert(lev, piece, level)
    return _from_pieces(knots, lev, dtop, T)


def _pad(state: _State, T: float) -> _State:
    """The same order parameter with one more, zero-width step."""
    if T > 0:
        gaps = np.append(state.gaps, state.gaps[-1])
        return _State(gaps, np.append(state.levels, 1.0))
    if state.levels.size == 0:
        return _State(np.array([math.exp(-_U_MAX)]), np.array([1.0 / state.L]), state.L)
    return _State(np.append(state.gaps, state.gaps[-1]),
                  np.append(state.levels, state.levels[-1]), state.L)


def _trial_levels(lev: np.ndarray, j: int, up: bool, d_here: float) -> np.ndarray:
    """Candidate values of the new level, spread geometrically over the admissible range."""
    cur = lev[j]
    if up:
        top = lev[j + 1] if j + 1 < lev.size else math.inf
        if math.isinf(top):
            if cur == 0:
                return np.geomspace(1e-3, 1e3, 25) / max(d_here, 1e-300)
            return cur * np.geomspace(1.01, 1e3, 25)
        if cur == 0:
            return top * np.geomspace(1e-8, 0.99, 30)
        return cur * (top / cur) ** np.linspace(0.02, 0.98, 25)
    bottom = lev[j - 1] if j > 0 else 0.0
    if bottom == 0:
        return cur * np.geomspace(1e-8, 0.99, 30)
    return bottom * (cur / bottom) ** np.linspace(0.02, 0.98, 25)


def _resample(state: _State, T: float) -> _State | None:
    """The k-step order parameter re-sampled on k+1 steps: breakpoints and levels read as
    functions of a continuous step index and evaluated on k+1 evenly spaced indices.

    Where the solution approximates a continuous x(q) (full RSB), the optimal k-step
    breakpoints are spread over the whole continuous part, and a single inserted step
    leaves the other k - 1 in the wrong places: from k ~ 15 on, the optimiser then settles
    in a nearby local optimum with a crowded, nearly useless step. Re-sampling starts in
    the right basin instead. (Interpolation is in ln(1 - q) and ln(level): both vary on
    the scale T near the top at low temperature.)
    """
    k = state.levels.size
    if k < 2:
        return None
    gaps = state.gaps if T > 0 else np.append(state.gaps, 0.0)
    t_new = np.arange(k + 2) * k / (k + 1)
    with np.errstate(divide="ignore"):
        lg = np.log(gaps)
    if np.isfinite(lg[-1]):
        new_gaps = np.exp(np.interp(t_new, np.arange(k + 1), lg))
    else:
        # T = 0: the last breakpoint is q = 1; its segment is interpolated linearly in 1 - q
        new_gaps = np.exp(np.interp(t_new, np.arange(k), lg[:-1]))
        last = t_new > k - 1
        new_gaps[last] = gaps[-2] * (k - t_new[last])
    ll = np.log(state.levels)
    new_lev = np.exp(np.interp((np.arange(1, k + 2) - 0.5) * k / (k + 1), np.arange(k) + 0.5, ll))
    if T > 0:
        return _State(new_gaps, new_lev)
    return _State(new_gaps[:-1], new_lev, state.L)


def _next_start(state: _State, xih: _XiH, T: float, obj: _Objective,
                resid: float = 0.0) -> list[np.ndarray]:
    """Starting points for the (k+1)-step problem: the best few insertions."""
    starts: list[tuple[float, np.ndarray]] = []
    knots, lev, dtop = _pieces(state, T)
    n = lev.size
    dk = np.empty(n + 1)
    dk[-1] = dtop
    for j in range(n - 1, -1, -1):
        dk[j] = dk[j + 1] + lev[j] * (knots[j] - knots[j + 1])
    for _, j, gap_c, up in _insertions(state, xih, T, resid)[:3]:
        best: tuple[float, np.ndarray] | None = None
        for level in _trial_levels(lev, j, up, dk[j]):
            cand = _insert(state, T, j, gap_c, up, float(level))
            z = obj.pack(cand.gaps, cand.levels, cand.L)
            F = obj.fg(z)[0]
            if np.isfinite(F) and (best is None or F < best[0]):
                best = (F, z)
        if best is not None:
            starts.append(best)
    starts.sort(key=lambda t: t[0])
    return [z for _, z in starts]


# --------------------------------------------------------------------------------------
# The chain RS -> k-step
# --------------------------------------------------------------------------------------


@dataclass
class _Step:
    k: int
    state: _State
    opt: _Opt


def _rs_start(xih: _XiH, T: float) -> _State:
    if T == 0:
        return _State(np.zeros(0), np.zeros(0), 1.0 / math.sqrt(float(xih(np.array(1.0))[1])))
    # P(q) along the RS family need not be convex (pure p-spin: q = 0 and q ~ 1 branches),
    # so the start is the best point of a scan in u = -ln(1 - q).
    u = np.linspace(0.0, 40.0, 4001)
    gap = np.exp(-u)
    q = -np.expm1(-u)
    xi, _, _ = xih(np.append(q, 1.0))
    F = 0.5 * ((xi[-1] - xi[:-1]) / T + T * (q / gap - u))
    i = int(np.nanargmin(F))
    return _State(np.array([gap[i]]), np.zeros(0))


def _rs_step(xih: _XiH, T: float, opts: Options) -> _Step:
    """The RS (k = 0) problem, always from the global scan of :func:`_rs_start`."""
    obj = _Objective(xih, T, 0)
    st = _rs_start(xih, T)
    opt = _minimise(obj, obj.pack(st.gaps, st.levels, st.L), opts.tol, opts.maxiter)
    return _Step(0, _State(*obj.unpack(opt.z)), opt)


def _chain_step(xih: _XiH, T: float, prev: _Step, opts: Options) -> _Step:
    """The (k+1)-step problem from the k-step solution ``prev`` (see the module doc)."""
    k = prev.k + 1
    obj = _Objective(xih, T, k)
    padded = _pad(prev.state, T)
    z_pad = obj.pack(padded.gaps, padded.levels, padded.L)
    best: _Opt | None = None
    starts = _next_start(prev.state, xih, T, obj, prev.opt.residual)
    spread = _resample(prev.state, T)
    if spread is not None and starts:
        # both warm starts, keep the better: insertion wins where the new step is a
        # new feature (a jump), re-sampling where it refines a continuous part
        starts.insert(1, obj.pack(spread.gaps, spread.levels, spread.L))
    for n_start, z0 in enumerate(starts):
        cand = _minimise(obj, z0, opts.tol, opts.maxiter)
        if best is None or cand.F < best.F - 1e-14 * max(1.0, abs(best.F)) or (
            cand.converged and not best.converged and cand.F <= best.F + 1e-13
        ):
            best = cand
        if n_start >= (1 if spread is not None else 0) and best.converged:
            # the most promising starts have converged: the other insertions are only a
            # fallback for when they do not (a model that needs no extra step, e.g. a
            # pure p-spin, would otherwise try them all at every k)
            break
    if k == 1 and T > 0:
        # near a discontinuous static transition the 1RSB gain ~ (T_s - T)² falls below
        # what F and the insertion grid resolve: there T against T_s decides
        side = _static_side(xih, T, prev, obj, best, opts)
        if side is not None and side[1] is not None:
            return _Step(k, _State(*obj.unpack(side[1].z)), side[1])
        if side is not None:
            best = _minimise(obj, z_pad, opts.tol, opts.maxiter)
            best.message += f"; {side[0]}: the RS solution is kept, with a zero-width step"
            return _Step(k, _State(*obj.unpack(best.z)), best)
    if best is None or not best.F < prev.opt.F - 1e-14 * max(1.0, abs(prev.opt.F)):
        # no extra step helps; keep the (k-1)-step optimum, with a zero-width step. With
        # no descent direction at all it satisfies the optimality conditions of the
        # full, convex problem: it is the Parisi solution, not just a k-step optimum
        why = ("no step insertion lowers the functional to first order (optimal among "
               "all order parameters, to within the residual)" if not starts else
               "no extra step lowered the functional")
        best = _minimise(obj, z_pad, opts.tol, opts.maxiter)
        best.message += f"; {why}: the {k - 1}-step solution is kept, with a zero-width step"
    return _Step(k, _State(*obj.unpack(best.z)), best)


# A 1RSB gain over RS (energy units, relative to max(1, |f|)) below this is in the band
# where T against T_s, not the gain, decides between RS and 1RSB (models with a
# discontinuous static transition). The gain is ~0.24 (1 - T/T_s)² for ξ = q³/2, 1e-8 at
# 1 - T/T_s ~ 2e-4, and the insertion grid of _insertions misses it from ~1e-5 on.
_STATIC_BAND = 1e-8


def _genuine_1rsb(obj: _Objective, opt: _Opt | None) -> bool:
    """A converged 1-step optimum with q_1 > q_0 and m < 1 (not a collapsed RS)."""
    if opt is None or not opt.converged:
        return False
    gaps, levels, _ = obj.unpack(opt.z)
    return bool(gaps[0] - gaps[1] > 1e-9 and levels[0] < 1.0)


def _m1_start(xih: _XiH, T: float, q_s: float, obj: _Objective) -> np.ndarray | None:
    """The 1RSB start (q_0 = 0, q_1 = q*, m*) below T_s: q* the stable root above q_s of
    the m = 1 equation β² ξ'(q)(1 - q) = q, m* the root of ∂P/∂m at that q* (P of the module
    docstring, q_0 = 0, h = 0). ``None`` if either root is not bracketed."""
    from scipy import optimize  # lazily: a sweep worker solving k-step problems never needs it

    b2 = 1.0 / T**2
    x0 = float(xih.xi.derivatives(np.array(0.0))[0])

    def phi(q: float) -> float:
        return b2 * float(xih.xi.derivatives(np.array(q))[1]) * (1.0 - q) - q

    grid = 1.0 - np.geomspace(1.0 - q_s, 1e-14, 400)
    vals = [phi(float(q)) for q in grid]
    i = next((j for j, v in enumerate(vals) if v <= 0), None)
    if i is None or i == 0 or not vals[0] > 0:
        return None
    q = optimize.brentq(phi, grid[i - 1], grid[i], xtol=1e-16, rtol=4 * np.finfo(float).eps)
    w = b2 * (float(xih.xi.derivatives(np.array(q))[0]) - x0)
    r = q / (1.0 - q)

    def dm(m: float) -> float:
        # 2 ∂P/∂m = β² ξ(q) - ln(1 + m r)/m² + r/(m (1 + m r)); S(q) > 0 at m = 1
        return w - math.log1p(m * r) / m**2 + r / (m * (1.0 + m * r))

    ms = 1.0 - np.geomspace(1e-15, 0.999, 400)
    vals = [dm(float(m)) for m in ms]
    j = next((j for j, v in enumerate(vals) if v <= 0), None)
    if j is None or j == 0:
        return None
    m = optimize.brentq(dm, ms[j], ms[j - 1], xtol=1e-17, rtol=4 * np.finfo(float).eps)
    return obj.pack(np.array([1.0, 1.0 - q]), np.array([m]))


def _static_side(xih: _XiH, T: float, prev: _Step, obj: _Objective, best: _Opt | None,
                 opts: Options) -> tuple[str, _Opt | None] | None:
    """RS or 1RSB by T against the static temperature T_s, where the gain cannot tell.

    Applies to h = 0 models with a discontinuous transition
    (:func:`replicasolve.solvers.transitions.spherical_transitions`) whose RS optimum is the
    paramagnet q_0 = 0, and only when the 1RSB candidate ``best`` is not a genuine 1RSB
    with a gain above the band _STATIC_BAND. For T >= T_s the paramagnet is the Parisi
    solution (the first variation S(q) <= 0 for every q): ``(reason, None)``, keep RS. For
    T < T_s it is not, and the 1-step optimum is the solution continued from m = 1 at
    (T_s, q_s): ``(reason, opt)`` with that optimum, started at the m = 1 root q* and its
    m* (and the better of it and ``best``). ``None``: no decision, the chain's own rule.
    """
    if xih.h2 != 0 or float(prev.state.gaps[0]) != 1.0:
        return None
    band = _STATIC_BAND * max(1.0, abs(prev.opt.F))
    if _genuine_1rsb(obj, best) and prev.opt.F - best.F > band:  # type: ignore[union-attr]
        return None
    from .transitions import transitions_of_covariance

    tr = transitions_of_covariance(xih.xi)
    if tr is None:
        return None
    if T >= tr.T_s:
        return (f"T = {T:.12g} >= T_s = {tr.T_s:.12g}, and the 1RSB gain is below "
                f"{_STATIC_BAND:.0e}: the paramagnet is the Parisi solution", None)
    z0 = _m1_start(xih, T, tr.q_s, obj)
    cand = _minimise(obj, z0, opts.tol, opts.maxiter) if z0 is not None else None
    pick = [o for o in (cand, best) if _genuine_1rsb(obj, o)]
    if not pick:
        return None
    opt = min(pick, key=lambda o: o.F)
    if opt.F > prev.opt.F + 2 * obj.noise:
        return None
    opt.message += (f"; T = {T:.12g} < T_s = {tr.T_s:.12g} (1RSB gain below "
                    f"{_STATIC_BAND:.0e}): the 1RSB solution continued from m = 1 is kept")
    return ("1RSB", opt)


def _chain(xih: _XiH, T: float, kmax: int, opts: Options, progress=None) -> list[_Step]:
    """Solve the k-step problems k = 0..kmax, each warm-started from the previous one;
    ``progress(k, kmax, "k = <k>")`` after each k >= 1 (optional)."""
    steps = [_rs_step(xih, T, opts)]
    for k in range(1, kmax + 1):
        steps.append(_chain_step(xih, T, steps[-1], opts))
        if progress is not None:
            progress(k, kmax, f"k = {k}")
    return steps


def _genuine_steps(state: _State, T: float) -> int:
    """The number of steps of a k-step order parameter that neither have zero width nor
    repeat a neighbour's level (as :func:`~replicasolve.solvers.result.warm_seeds` reads a
    result)."""
    from .result import compress_steps

    knots = [0.0, *(1.0 - state.gaps).tolist(), 1.0]
    if T > 0:
        _, lev = compress_steps(knots, [0.0, *state.levels.tolist(), 1.0], fixed_top=True)
        return len(lev) - 2
    _, lev = compress_steps(knots, [0.0, *state.levels.tolist()], fixed_top=False)
    return len(lev) - 1


# A seeded k-step optimum may exceed the (k-1)-step one (F is nonincreasing in k: nested
# families) by no more than rounding; more means the seed led to a worse stationary point.
_MONOTONE_SLACK = 1e-10


def _warm_chain(xih: _XiH, T: float, ks: list[int], opts: Options, seeds: dict
                ) -> tuple[dict[int, _Step], int, list[int]]:
    """The k-step problems for the k in ``ks`` (ascending), each from its seed where there
    is one (see :func:`solve_spherical`); returns ``({k: step}, total iterations, the k
    whose seeded optimum was kept)``."""
    steps: dict[int, _Step] = {0: _rs_step(xih, T, opts)}
    total = steps[0].opt.iterations
    kept: list[int] = []

    def seeded(j: int, below: int) -> _Step | None:
        nonlocal total
        seed = seeds[j]
        obj = _Objective(xih, T, j)
        gaps = 1.0 - np.asarray(seed.q, dtype=float)
        z0 = obj.pack(gaps, np.asarray(seed.levels, dtype=float), float(seed.L))
        opt = _minimise(obj, z0, opts.tol, opts.maxiter)
        total += opt.iterations
        ref = steps[below].opt.F
        if j == 1 and below == 0 and T > 0:
            # near T_s the seeded gain is as unresolvable as the cold one: same rule
            side = _static_side(xih, T, steps[0], obj, opt, opts)
            if side is not None:
                if side[1] is None:
                    return None  # the cold chain keeps RS, with the reason
                kept.append(j)
                return _Step(j, _State(*obj.unpack(side[1].z)), side[1])
        state = _State(*obj.unpack(opt.z))
        # a seeded optimum whose steps collapsed may sit on the saddle of fewer steps (the
        # RS saddle where RS is unstable): the cold chain decides whether it is real
        if opt.converged and _genuine_steps(state, T) == j and \
                opt.F <= ref + _MONOTONE_SLACK * max(1.0, abs(ref)):
            opt.message += "; started from a neighbouring solution"
            kept.append(j)
            return _Step(j, state, opt)
        return None

    for k in ks:
        if k in steps:
            continue
        below = max(j for j in steps if j < k)
        # climb through every seeded level up to k, each checked against the level under
        # it: the k-step problem is not convex in (q, m), and a seed can fall into a worse
        # local optimum (e.g. a nearly idle step at m ~ 0) whose F is above the (k-1)-step
        # optimum; compared only with RS it would pass, compared with k - 1 it does not
        for j in sorted(j for j in seeds if below < j <= k):
            st = seeded(j, below)
            if st is None:
                break
            steps[j] = st
            below = j
        for _kk in range(below + 1, k + 1):
            st = _chain_step(xih, T, steps[_kk - 1], opts)
            total += st.opt.iterations
            steps[_kk] = st
    return steps, total, kept


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


def _result(model: Any, xih: _XiH, step: _Step, method: str, settings: dict[str, Any],
            iterations: int | None = None) -> ParisiResult:
    T, h = model.T, model.field
    st, opt = step.state, step.opt
    if T > 0:
        beta = 1.0 / T
        ev = _natural(xih, T, 1.0 - st.gaps, st.gaps, st.levels, float(st.gaps[-1]), False)
        f = -ev.F
        e = -beta * ev.work
        q = 1.0 - st.gaps
        _, _, d2 = xih(np.array([q[-1]]))
        replicon = 1.0 - beta**2 * float(d2[0]) * float(st.gaps[-1]) ** 2
        return ParisiResult(
            model=model, method=method, k=step.k, free_energy=f, energy=e,
            entropy=beta * (e - f), q=q, x=st.levels.copy(), gamma=st.levels * beta,
            L=math.nan, magnetization=beta * h * ev.d0, replicon=replicon,
            converged=opt.converged, iterations=opt.iterations if iterations is None
            else iterations, residual=opt.residual, settings=settings, message=opt.message,
        )
    ev = _natural(xih, 0.0, np.append(1.0 - st.gaps, 1.0), np.append(st.gaps, 0.0), st.levels,
                  st.L, False)
    E = -ev.F
    _, _, d2 = xih(np.array([1.0]))
    return ParisiResult(
        model=model, method=method, k=step.k, free_energy=E, energy=E, entropy=0.0,
        q=np.append(1.0 - st.gaps, 1.0), x=np.zeros_like(st.levels), gamma=st.levels.copy(),
        L=st.L, magnetization=h * ev.d0, replicon=1.0 - float(d2[0]) * st.L**2,
        converged=opt.converged, iterations=opt.iterations if iterations is None
        else iterations, residual=opt.residual, settings=settings, message=opt.message,
    )


def solve_spherical(model: Any, method: RSB | FullRSB, options: Options,
                    start: ParisiResult | None = None, progress: Any = None) -> ParisiResult:
    """Solve the spherical mixed p-spin Parisi problem at T > 0 or T = 0.

    Parameters
    ----------
    model
        A spherical :class:`~replicasolve.models.pspin.MixedPSpin` (ξ, T >= 0, field h).
    method
        :class:`RSB` (k steps, RS = k 0) or :class:`FullRSB` (k-step results for each k in
        ``ks``, extrapolated to k → ∞ with :func:`extrapolate_k`; with ``continuous=True``
        also the continuous solution of :func:`continuous_solution` where it exists).
    options
        :class:`Options`: ``tol`` bounds the residual ‖v - P(v - ∇F)‖∞ of the functional F
        (energy units) in v = (q, m) at T > 0 and (q, γ, L) at T = 0, P the projection
        onto the ordered, boxed set; ``maxiter`` bounds the trust-region Newton iterations
        of each k (the chain RS → k-step solves every intermediate k).

    Returns
    -------
    ParisiResult
        Per spin, energy units of H/N. T > 0: f = -T min P (Crisanti–Sommers, Z. Phys. B 87
        (1992)), e = -β ∫ x ξ_h' (Gaussian integration by parts, field energy included),
        s = β(e - f) <= 0, ``q`` = q_0..q_k, ``x`` = m_1..m_k, ``gamma`` = x/T, replicon
        1 - β² ξ''(q_k)(1 - q_k)², magnetization βh ∫_0^1 x. T = 0: ``free_energy`` =
        ``energy`` = E_GS (Chen–Sen, CMP 350 (2017)), entropy 0, ``q`` = q_0..q_{k-1} then 1,
        ``gamma`` = γ_1..γ_k, ``x`` zeros, ``L``, replicon 1 - ξ''(1) L², magnetization
        h (L + ∫ γ). Steps that no optimum needs appear with zero width. A result whose
        residual is above ``tol`` has ``converged=False`` and says why. ``iterations`` sums
        the chain. FullRSB: ``extrapolated`` ± ``extrapolation_error`` is the k → ∞ value,
        ``settings["continuous_value"]`` the independent continuous solution (``nan``, with
        the reason in ``settings["continuous"]``, where there is none); if the two disagree
        beyond 5 × the extrapolation error + 1e-9, ``converged`` is False.
    start
        A previous result (checked by ``solve``) whose order parameters seed the k-step
        problems (:func:`~replicasolve.solvers.result.warm_seeds`): each k needed (k of
        RSB(k), the ``ks`` of FullRSB) starts from the seed with that many genuine steps
        instead of the chain RS → 1 → … → k. Every seeded level up to k is solved in turn,
        and a seeded optimum that does not converge, whose steps collapse, or that does not
        improve on the level under it is discarded: its k, and the levels above, are then
        reached by the chain from the highest level kept. RS is always solved cold (global
        scan). With ``start=None`` the solve is the cold chain.
    progress
        Optional ``progress(k, k_max, "k = <k>")``, called after each k of the cold chain.

    Raises
    ------
    InvalidInputError
        If the model is not a spherical MixedPSpin or the method is not RSB/FullRSB.
    """
    from ..models.pspin import MixedPSpin

    if not isinstance(model, MixedPSpin) or model.spins != "spherical":
        raise InvalidInputError(f"solve_spherical needs a spherical MixedPSpin, got {model!r}")
    if not isinstance(method, (RSB, FullRSB)):
        raise InvalidInputError(f"method must be RSB(k) or FullRSB(...), got {method!r}")
    if not isinstance(options, Options):
        raise InvalidInputError(f"options must be an Options, got {type(options).__name__}")
    from ..blas import blas_threads

    xih = _XiH(model.xi, model.field)
    T = float(model.T)
    settings: dict[str, Any] = {"tol": options.tol, "maxiter": options.maxiter}
    kmax = method.k if isinstance(method, RSB) else max(method.ks)
    from .result import warm_seeds

    seeds = warm_seeds(start, T) if start is not None else {}
    # the linear algebra is on matrices of size 2k + 1: BLAS threads only contend there
    with blas_threads(1):
        if seeds:
            needed = [kmax] if isinstance(method, RSB) else list(method.ks)
            steps, total, kept = _warm_chain(xih, T, needed, options, seeds)
            settings["warm_start"] = f"seeded k = {kept} (seeds offered: {sorted(seeds)})"
        else:
            chain = _chain(xih, T, kmax, options, progress)
            steps = dict(enumerate(chain))
            total = sum(s.opt.iterations for s in chain)
    if isinstance(method, RSB):
        return _result(model, xih, steps[kmax], method.name, settings, total)

    ks = method.ks
    seq = tuple(_result(model, xih, steps[k], RSB(k).name, dict(settings)) for k in ks)
    vals = [r.free_energy for r in seq]
    ext, err, p = extrapolate_k(ks, vals)
    settings.update({"ks": tuple(ks), "fit_exponent": p})
    last = _result(model, xih, steps[max(ks)], "FRSB", settings, total)
    converged = all(r.converged for r in seq)
    msgs = [] if converged else [f"k = {r.k}: {r.message}" for r in seq if not r.converged]
    if method.continuous:
        try:
            cont = continuous_solution(model)
        except InvalidInputError as exc:
            settings["continuous"] = f"not available: {exc}"
            settings["continuous_value"] = math.nan
        else:
            settings["continuous"] = (
                f"continuous x(q) on [{cont.q_min:.6g}, {cont.q_max:.6g}]")
            settings["continuous_value"] = cont.value
            # the two are independent: if they disagree beyond the extrapolation error (and
            # the largest k's own error), one of them is wrong and the result must say so
            gap = abs(cont.value - ext)
            allowed = 5.0 * err + 1e-9 * max(1.0, abs(ext))
            if not gap <= allowed:
                converged = False
                msgs.append(f"continuous solution {cont.value:.12g} and k-extrapolation "
                            f"{ext:.12g} differ by {gap:.2e} > {allowed:.1e}")
    if not math.isfinite(ext):
        converged = False
        msgs.append("k-extrapolation failed")
    return ParisiResult(
        model=model, method="FRSB", k=last.k, free_energy=last.free_energy,
        energy=last.energy, entropy=last.entropy, q=last.q, x=last.x, gamma=last.gamma,
        L=last.L, magnetization=last.magnetization, replicon=last.replicon,
        converged=converged, iterations=last.iterations, residual=max(r.residual for r in seq),
        extrapolated=ext, extrapolation_error=err, sequence=seq, settings=settings,
        message="; ".join(msgs) if msgs else last.message,
    )


# --------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------


def parisi_functional(
    model: Any, q: Any, levels: Any, L: float | None = None
) -> tuple[float, np.ndarray]:
    """The k-step functional that :func:`solve_spherical` minimises, with its gradient.

    T > 0: F = T·P(x) (Crisanti–Sommers, energy units) for x = 0 on [0, q_0), ``levels[i-1]``
    = m_i on [q_{i-1}, q_i), 1 on [q_k, 1]; ``q`` = q_0..q_k (k+1 values), ``levels`` k values.
    T = 0: the Chen–Sen bracket for γ = 0 on [0, q_0), γ_i on [q_{i-1}, q_i) with q_k = 1;
    ``q`` = q_0..q_{k-1} (k values), ``levels`` = γ_1..γ_k, and ``L`` > 0.

    The free energy (ground-state energy) is -min F, so -F of any admissible trial is a lower
    bound on f (on E_GS). Returns (F, gradient) with the gradient with respect to
    (q, levels) at T > 0 and (q, levels, L) at T = 0, concatenated.

    Raises
    ------
    InvalidInputError
        If the trial order parameter is not admissible (q not in [0, 1) nondecreasing, levels
        not positive nondecreasing, m_k > 1, L <= 0, wrong lengths).
    """
    T = float(model.T)
    qa = np.atleast_1d(np.asarray(q, dtype=float))
    la = np.atleast_1d(np.asarray(levels, dtype=float))
    k = la.size
    if qa.size != (k + 1 if T > 0 else k):
        raise InvalidInputError(f"parisi_functional: {qa.size} breakpoints for {k} levels "
                                f"(needs {k + 1 if T > 0 else k} at T = {T:g})")
    if np.any(np.diff(qa) < 0) or np.any(qa < 0) or np.any(qa >= 1):
        raise InvalidInputError("parisi_functional: q must be nondecreasing in [0, 1)")
    if np.any(la <= 0) or np.any(np.diff(la) < 0) or (T > 0 and k and la[-1] > 1):
        raise InvalidInputError("parisi_functional: levels must be positive, nondecreasing "
                                "(and <= 1 at T > 0)")
    xih = _XiH(model.xi, model.field)
    if T > 0:
        ev = _natural(xih, T, qa, 1.0 - qa, la, 1.0 - float(qa[-1]), False)
        grad = ev.grad[:-1].copy()
        grad[k] -= ev.grad[-1]  # D_k = 1 - q_k
        return ev.F, grad
    if L is None or not L > 0:
        raise InvalidInputError(f"parisi_functional: T = 0 needs L > 0, got {L!r}")
    ev = _natural(xih, 0.0, np.append(qa, 1.0), np.append(1.0 - qa, 0.0), la, float(L), False)
    return ev.F, np.delete(ev.grad, k)


@dataclass(frozen=True)
class ContinuousSolution:
    """A continuous Parisi order parameter and its value (see :func:`continuous_solution`).

    Attributes:
        value: free energy f (T > 0) or ground-state energy (T = 0), per spin.
        q_min, q_max: the support [q_min, q_max] of the continuous part (q_max = 1 at T = 0).
        q, x: a grid on [q_min, q_max] and x(q) (T > 0) or γ(q) (T = 0) on it.
        L: β(1 - q_max) limit at T = 0 (1/sqrt(ξ''(1))), ``nan`` at T > 0.
    """

    value: float
    q_min: float
    q_max: float
    q: np.ndarray
    x: np.ndarray
    L: float = math.nan


def _sqrt_xi2(xi: Any) -> Callable[[float], float]:
    return lambda s: math.sqrt(max(float(xi.derivatives(s)[2]), 0.0))


def _check_increasing(vals: np.ndarray, what: str) -> None:
    bad = np.diff(vals) < -1e-9 * max(1.0, float(np.max(np.abs(vals))))
    if np.any(bad):
        raise InvalidInputError(f"{what} decreases somewhere: xi''^(-1/2) is not concave there, "
                                "so the order parameter has a jump (no continuous solution)")


def _lower_root(fun: Callable[[np.ndarray], np.ndarray], a: float, b: float) -> float:
    """First point of [a, b] where ``fun`` (positive before it) reaches 0 (``a`` if
    fun(a) <= 0), located on a grid and refined by Brent's method."""
    from scipy import optimize  # lazily: a sweep worker solving k-step problems never needs it
    fa = float(fun(np.array([a]))[0])
    if fa <= 0:
        return a
    grid = np.linspace(a, b, 4001)
    vals = fun(grid)
    i = int(np.argmax(vals <= 0))
    return optimize.brentq(lambda t: float(fun(np.array([t]))[0]), grid[i - 1], grid[i],
                           xtol=1e-15, rtol=1e-15)


def continuous_solution(model: Any, n: int = 401) -> ContinuousSolution:
    """The Parisi solution with a continuous part, where the stationarity equations have one.

    In an interval where x (or γ) increases strictly, stationarity of the functional gives
    d(q) = T/sqrt(ξ''(q)), i.e. x(q) = (T/2) ξ''' ξ''^{-3/2} (T > 0), and at T = 0
    D(q) = 1/sqrt(ξ''(q)), γ(q) = (1/2) ξ''' ξ''^{-3/2}, L = 1/sqrt(ξ''(1)) (Crisanti–Sommers
    1992; Chen–Sen, CMP 350 (2017), Jagannath–Tobasco, CMP 352 (2017)). The interval is
    [q_0, q_M]: q_0 solves ξ_h'(q_0) = q_0 ξ''(q_0) (q_0 = 0 without field when ξ'(0) = 0),
    q_M solves (1 - q_M) sqrt(ξ''(q_M)) = T (q_M = 1 at T = 0). The values are::

        T > 0: -βf = 1/2[β²(ξ_h(1) - ξ_h(q_M) - (1-q_M) ξ_h'(q_M))
                      + 2β(q_0 sqrt(ξ''(q_0)) + ∫_{q_0}^{q_M} sqrt(ξ'')) + ln(1 - q_M)],
        T = 0: E_GS = -(q_0 sqrt(ξ''(q_0)) + ∫_{q_0}^1 sqrt(ξ''))   (Subag's formula at h = 0).

    This is the global optimum (the functional is convex) when x is nondecreasing, i.e.
    ξ''^{-1/2} is concave on [q_0, q_M], and nothing is gained above q_M
    ((1 - u) sqrt(ξ''(u)) <= T there); both are checked on a grid of ``n`` points.

    Raises:
        InvalidInputError: If the model is not spherical or any of these conditions fails
            (the message says which): the solution then has a jump, and only the k-step
            solver applies.
    """
    from scipy import integrate  # lazily: a sweep worker solving k-step problems never needs it
    if getattr(model, "spins", None) != "spherical":
        raise InvalidInputError(f"continuous_solution needs a spherical MixedPSpin, got {model!r}")
    T = float(model.T)
    xih = _XiH(model.xi, model.field)

    def psi0(qq: np.ndarray) -> np.ndarray:
        _, d1, d2 = xih(qq)
        return d1 - qq * d2  # nonincreasing since ξ''' >= 0

    if T > 0:

        def r(qq: np.ndarray) -> np.ndarray:
            return (1.0 - qq) * np.sqrt(np.maximum(xih(qq)[2], 0.0)) - T

        if float(r(np.array([0.0]))[0]) <= 0:
            raise InvalidInputError(f"T = {T:g} >= sqrt(xi''(0)): no continuous part of x(q)")
        q_max = _lower_root(r, 0.0, 1.0)
    else:
        q_max = 1.0
    if float(psi0(np.array([q_max]))[0]) > 0:
        raise InvalidInputError("xi_h'(q) > q xi''(q) up to q_max: the field (or xi'(0)) "
                                "keeps the solution replica symmetric")
    q_min = _lower_root(psi0, 0.0, q_max)
    grid = np.linspace(q_min, q_max, n)
    _, _, d2 = xih(grid)
    if np.any(d2 <= 0):
        raise InvalidInputError("xi''(q) = 0 at the bottom of the support: "
                                "no continuous order parameter there")
    shape = 0.5 * xih.third(grid) * d2 ** -1.5
    _check_increasing(shape, "gamma(q) = xi'''/(2 xi''^(3/2))")
    root2 = _sqrt_xi2(model.xi)
    integral = integrate.quad(root2, q_min, q_max, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    base = q_min * math.sqrt(float(d2[0])) + integral
    if T == 0:
        return ContinuousSolution(value=-base, q_min=q_min, q_max=1.0, q=grid, x=shape,
                                  L=1.0 / math.sqrt(float(d2[-1])))
    x = T * shape
    if x[-1] > 1 + 1e-9:
        raise InvalidInputError("x(q_max) > 1: the continuous solution is not admissible")
    above = np.linspace(q_max, 1.0, n)
    if np.any(r(above) > 1e-12):
        raise InvalidInputError("(1 - q) sqrt(xi''(q)) > T above q_max: a step above q_max "
                                "lowers the functional")
    beta = 1.0 / T
    xs, d1s, _ = xih(np.array([q_max, 1.0]))
    P = 0.5 * (beta**2 * (xs[1] - xs[0] - (1.0 - q_max) * d1s[0]) + 2.0 * beta * base
               + math.log1p(-q_max))
    return ContinuousSolution(value=-T * P, q_min=q_min, q_max=q_max, q=grid, x=x)


def subag_ground_state(xi: Any) -> float:
    """Ground-state energy -∫_0^1 sqrt(ξ''(q)) dq of a full-RSB spherical model.

    Valid when ξ''^{-1/2} is concave on (0, 1] and ξ'(0) = 0 (no field): the T = 0 order
    parameter is then γ(q) = ξ'''/(2 ξ''^{3/2}) on all of [0, 1) (Subag, CPAM 74 (2021);
    Chen–Sen, CMP 350 (2017)). Per spin, energy units of H/N. ``xi`` is anything
    :func:`replicasolve.models.pspin.covariance` accepts.

    Raises
    ------
    InvalidInputError
        If ξ'(0) != 0, ξ''(0) = 0, or ξ''^{-1/2} is not concave on a grid of (0, 1].
    """
    from scipy import integrate  # lazily: a sweep worker solving k-step problems never needs it

    from ..models.pspin import covariance

    cov = covariance(xi)
    _, d1, d2, _ = cov.derivatives(np.array([0.0]))
    if abs(float(d1[0])) > 1e-14:
        raise InvalidInputError(f"subag_ground_state: xi'(0) = {float(d1[0]):g} != 0 "
                                "(a q^1 term is a field: the formula needs q_0 = 0)")
    if not float(d2[0]) > 0:
        raise InvalidInputError("subag_ground_state: xi''(0) = 0, so xi''^(-1/2) is not "
                                "concave near 0 (the model is not full RSB from q = 0)")
    grid = np.linspace(0.0, 1.0, 4001)
    _, _, g2, g3 = cov.derivatives(grid)
    _check_increasing(0.5 * g3 * g2 ** -1.5, "subag_ground_state: xi'''/(2 xi''^(3/2))")
    return -integrate.quad(_sqrt_xi2(cov), 0.0, 1.0, epsabs=1e-14, epsrel=1e-13, limit=200)[0]


def threshold_energy(model_or_xi: Any) -> float:
    """Threshold energy: the energy of the marginal (replicon = 0) states of the 1RSB
    complexity curve at T = 0, per spin.

    The T = 0 1RSB functional P(γ, L, q_0) = 1/2[γ(ξ_h(1) - ξ_h(q_0)) + ξ_h'(1) L + q_0/D_0
    + (1/γ) ln(D_0/L)], D_0 = L + γ(1 - q_0), is the Legendre transform of the complexity:
    at fixed γ (the T = 0 Parisi parameter) with q_0 minimising and L stationary, the states
    counted have E(γ) = -∂(γ P)/∂γ = -1/2[2γ(ξ_h(1) - ξ_h(q_0)) + ξ_h'(1) L + q_0 L/D_0²
    + (1 - q_0)/D_0]. The threshold is where these states become marginal, ξ''(1) L² = 1
    (Kurchan–Parisi–Virasoro, J. Phys. I 3 (1993); Crisanti–Sommers, J. Phys. I 5 (1995)); for
    ξ = q^p it is -2 sqrt((p-1)/p) (Auffinger–Ben Arous–Černý, CPAM 66 (2013)).

    ``model_or_xi``: a spherical MixedPSpin (its field is used) or a covariance (h = 0).
    Energy units of H/N.

    Raises
    ------
    InvalidInputError
        If ξ_h'(1) > ξ''(1): the RS ground state is then stable (replicon > 0 for every
        γ >= 0) and there is no marginal 1RSB branch; or if the marginal point has negative
        1RSB complexity γ(E + P) (the landscape is not 1RSB-like, e.g. full RSB).
    """
    from scipy import optimize  # lazily: a sweep worker solving k-step problems never needs it

    from ..models.pspin import MixedPSpin, covariance

    if isinstance(model_or_xi, MixedPSpin):
        if model_or_xi.spins != "spherical":
            raise InvalidInputError("threshold_energy is defined here for spherical spins")
        xih = _XiH(model_or_xi.xi, model_or_xi.field)
    else:
        xih = _XiH(covariance(model_or_xi), 0.0)
    xi1, d1_1, d2_1 = (float(v[0]) for v in xih(np.array([1.0])))
    if not d2_1 > 0:
        raise InvalidInputError("threshold_energy: xi''(1) = 0")
    if not math.isfinite(d2_1):  # a kink of the activation (ReLU): L = 1/sqrt(xi''(1)) = 0
        raise InvalidInputError("threshold_energy: xi''(1) is infinite, there is no "
                                "marginal 1RSB state of finite L")
    L = 1.0 / math.sqrt(d2_1)
    qgrid = np.linspace(0.0, 1.0, 2001)[:-1]
    xq, _, _ = xih(qgrid)

    def best_q0(gam: float) -> float:
        # q_0 minimises P at fixed γ, L; ∂P/∂q_0 = (γ/2)[q_0/D_0² - ξ_h'(q_0)]
        d0 = L + gam * (1.0 - qgrid)
        P = gam * (xi1 - xq) + qgrid / d0 + np.log1p(gam * (1.0 - qgrid) / L) / gam
        i = int(np.argmin(P))

        def dp(t: float) -> float:
            dd = L + gam * (1.0 - t)
            return t / dd**2 - float(xih(np.array([t]))[1][0])

        if i == 0 and dp(0.0) >= 0:
            return 0.0
        a, b = qgrid[max(i - 1, 0)], qgrid[min(i + 1, qgrid.size - 1)]
        if dp(a) * dp(b) > 0:
            return float(qgrid[i])
        return optimize.brentq(dp, a, b, xtol=1e-15, rtol=1e-15)

    def dL(gam: float) -> tuple[float, float]:
        q0 = best_q0(gam)
        d0 = L + gam * (1.0 - q0)
        return 0.5 * (d1_1 - q0 / d0**2 - (1.0 - q0) / (d0 * L)), q0

    r0 = 0.5 * (d1_1 - d2_1)
    if r0 > 1e-14 * max(1.0, d2_1):
        raise InvalidInputError(
            f"threshold_energy: xi_h'(1) = {d1_1:g} > xi''(1) = {d2_1:g}: the RS ground state "
            "is stable, there are no marginal 1RSB states")
    if r0 >= -1e-14 * max(1.0, d2_1):
        gam, q0 = 0.0, best_q0(1e-12)
    else:
        gams = np.geomspace(1e-10, 1e6, 321)
        vals = [dL(float(g))[0] for g in gams]
        i = next((j for j, v in enumerate(vals) if v > 0), None)
        if i is None or i == 0:
            raise InvalidInputError("threshold_energy: no marginal 1RSB solution found")
        gam = optimize.brentq(lambda g: dL(g)[0], gams[i - 1], gams[i], xtol=1e-15,
                              rtol=1e-15)
        r_end, q0 = dL(gam)
        if abs(r_end) > 1e-8 * max(1.0, d1_1):
            # q_0 minimising P jumped across the root: no marginal point on this branch
            raise InvalidInputError("threshold_energy: the 1RSB branch has no marginal "
                                    "point (q_0 jumps where the replicon vanishes)")
    x0 = float(xih(np.array([q0]))[0][0])
    d0 = L + gam * (1.0 - q0)
    e_th = -0.5 * (2 * gam * (xi1 - x0) + d1_1 * L + q0 * L / d0**2 + (1.0 - q0) / d0)
    if gam > 0:
        # complexity of the marginal states, Σ = γ(E + P): negative means the 1RSB curve
        # has no states there (the model is not 1RSB-like: e.g. full RSB, whose ground
        # state is itself marginal), and the number would be meaningless
        P = 0.5 * (gam * (xi1 - x0) + d1_1 * L + q0 / d0 + math.log1p(gam * (1 - q0) / L) / gam)
        sigma = gam * (e_th + P)
        if sigma < -1e-12:
            raise InvalidInputError(
                f"threshold_energy: the 1RSB complexity of the marginal states is "
                f"{sigma:.3g} < 0: this model's T = 0 landscape is not 1RSB-like "
                "(for full-RSB models the ground state itself is marginal)")
    return e_th
