"""Independent baselines: what a user would write with numpy/scipy, without replicasolve.

Nothing here imports replicasolve: these are the codes the engine is compared with, and
their answers check the engine's (and the tests check them against the literature).

- :func:`sk_t0_parisi` / :func:`sk_t0_ladder`: the k-step Parisi functional of the SK model
  at zero temperature (Auffinger–Chen form) and its minimisation for k = 1, 2, ...
- :func:`xi_gauss_hermite`: ξ, ξ', ξ'' of a deep network by a fixed 2-D Gauss–Hermite
  tensor grid, vectorised over q.
- :func:`beta_c_brent`: β_c = argmin_β λ_min(A(β)) by bounded Brent minimisation with a
  smallest-eigenvalue LAPACK solver.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------
# SK at T = 0: k-step Parisi functional
# --------------------------------------------------------------------------------------


def _top_level(x: np.ndarray, s: float, m: float) -> np.ndarray:
    """(1/m) log E exp(m |x + s z|), z ~ N(0, 1), in closed form:
    E exp(m|x+sz|) = e^{m²s²/2} [e^{mx} Φ(x/s + ms) + e^{-mx} Φ(-x/s + ms)]."""
    from scipy.special import log_ndtr

    if s == 0.0:
        return np.abs(x)
    a = m * x + log_ndtr(x / s + m * s)
    b = -m * x + log_ndtr(-x / s + m * s)
    return np.logaddexp(a, b) / m + m * s * s / 2


def sk_t0_parisi(
    q: np.ndarray,
    m: np.ndarray,
    *,
    grid_step: float = 0.02,
    x_max: float = 12.0,
    nodes: int = 96,
) -> float:
    """The zero-temperature k-step Parisi functional of the SK model, ξ(q) = q²/2.

    Auffinger & Chen, "Parisi formula for the ground state energy in the mixed p-spin
    model", Ann. Probab. 45, 4617 (2017): the ground-state
    energy per spin is e_0 = -inf_γ P(γ) with
    P(γ) = Ψ_γ(0, 0) - ½ ∫_0^1 ξ''(t) γ(t) t dt, ∂_tΨ = -ξ''/2 (∂_xxΨ + γ (∂_xΨ)²),
    Ψ(1, x) = |x|. Here γ = 0 on [0, q_1) and γ = m_j on [q_j, q_{j+1}) (q_{k+1} = 1), so
    that Ψ is a chain of Gaussian log-moment steps
    Ψ(q_j, x) = (1/m_j) log E exp(m_j Ψ(q_{j+1}, x + sqrt(q_{j+1} - q_j) z)).
    The top step is closed form; the lower ones use ``nodes``-point Gauss–Hermite
    quadrature and a cubic spline of Ψ on a uniform x grid (step ``grid_step``, |x| ≤
    ``x_max``, continued by |x| + const beyond, as Ψ is for large |x|).

    Args:
        q: breakpoints 0 ≤ q_1 < ... < q_k < 1, shape (k,).
        m: γ values 0 < m_1 < ... < m_k, shape (k,).
    Returns:
        P (dimensionless); -P is the k-step estimate of e_0 (a lower bound on it: P is an
        upper bound on the maximum of H/N for every γ). The
        defaults are good to ~1e-9 for k ≤ 3 (checked against nested adaptive quadrature);
        48 nodes were off by 1e-7 (exp(m Ψ) grows like exp(m|x|), a shifted Gaussian).
    """
    from scipy.interpolate import CubicSpline
    from scipy.special import logsumexp

    q = np.asarray(q, dtype=float)
    m = np.asarray(m, dtype=float)
    k = q.size
    if k < 1 or m.shape != q.shape:
        raise ValueError("q and m must be 1-D of the same length >= 1")
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    logw = np.log(w / w.sum())
    qq = np.append(q, 1.0)
    xs = np.arange(-x_max, x_max + grid_step / 2, grid_step)

    def top(x: np.ndarray) -> np.ndarray:
        return _top_level(x, math.sqrt(1.0 - q[-1]), m[-1])

    psi: Callable[[np.ndarray], np.ndarray] = top
    for j in range(k - 2, -1, -1):
        s = math.sqrt(max(qq[j + 1] - qq[j], 0.0))
        vals = logsumexp(m[j] * psi(xs[:, None] + s * z[None, :]) + logw, axis=1) / m[j]
        spline = CubicSpline(xs, vals)
        lo, hi = vals[0], vals[-1]

        def psi(x: np.ndarray, spline=spline, lo=lo, hi=hi) -> np.ndarray:
            inside = np.clip(x, -x_max, x_max)
            out = spline(inside)
            out = np.where(x > x_max, hi + (x - x_max), out)
            return np.where(x < -x_max, lo - (x + x_max), out)

    value = float(np.exp(logw) @ psi(math.sqrt(q[0]) * z))
    penalty = 0.25 * float(np.sum(m * (qq[1:] ** 2 - qq[:-1] ** 2)))
    return value - penalty


def _unpack(theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Unconstrained parameters -> (q increasing in (0, 1), m increasing > 0)."""
    a = theta[: k + 1]
    e = np.exp(a - a.max())
    q = np.cumsum(e / e.sum())[:k]
    m = np.cumsum(np.exp(np.clip(theta[k + 1 :], -30, 30)))
    return q, m


def _pack(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    gaps = np.diff(np.concatenate([[0.0], q, [1.0]]))
    a = np.log(np.maximum(gaps, 1e-12))
    b = np.log(np.maximum(np.diff(np.concatenate([[0.0], m])), 1e-12))
    return np.concatenate([a, b])


@dataclass(frozen=True)
class KStep:
    """One rung of :func:`sk_t0_ladder`: k, the energy e_k = -min P, q, m, seconds so far,
    functional evaluations, and whether the minimisation finished (False: stopped at the
    time cap, ``energy`` is the best value seen)."""

    k: int
    energy: float
    q: np.ndarray
    m: np.ndarray
    elapsed: float
    evaluations: int
    finished: bool = True


class _OutOfTime(Exception):
    pass


def sk_t0_step(
    k: int,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    deadline: float = math.inf,
    **kw: float,
) -> KStep:
    """Minimise :func:`sk_t0_parisi` over (q, m) for one k by L-BFGS-B with finite-
    difference gradients (scipy's default), from ``start`` or a spread-out guess; stops
    with the best point seen when ``time.perf_counter()`` passes ``deadline``."""
    from scipy.optimize import minimize

    if start is None:
        q0 = np.linspace(0.0, 1.0, k + 2)[1:-1] * 0.9
        m0 = np.linspace(1.0, 3.0, k)
    else:
        q0, m0 = start
    best = [math.inf, _pack(q0, m0)]
    n_eval = [0]

    def f(theta: np.ndarray) -> float:
        if time.perf_counter() > deadline:
            raise _OutOfTime
        n_eval[0] += 1
        q, m = _unpack(theta, k)
        val = sk_t0_parisi(q, m, **kw)
        if val < best[0]:
            best[0], best[1] = val, theta.copy()
        return val

    t0 = time.perf_counter()
    finished = True
    try:
        minimize(
            f, best[1], method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 2000}
        )
    except _OutOfTime:
        finished = False
    q, m = _unpack(best[1], k)
    return KStep(k, -float(best[0]), q, m, time.perf_counter() - t0, n_eval[0], finished)


def sk_t0_ladder(
    target: float,
    reference: float,
    time_cap: float,
    k_max: int = 40,
    report: Callable[[KStep], None] | None = None,
) -> list[KStep]:
    """Climb k = 1, 2, ... (each k warm-started from k - 1 by splitting its top step, as a
    user would) until |e_k - reference| ≤ target, k_max, or ``time_cap`` seconds are
    spent (the rung running then stops with its best point). Returns the rungs with
    cumulative ``elapsed`` seconds."""
    rungs: list[KStep] = []
    start = None
    t0 = time.perf_counter()
    for k in range(1, k_max + 1):
        r = sk_t0_step(k, start, deadline=t0 + time_cap)
        r = KStep(r.k, r.energy, r.q, r.m, time.perf_counter() - t0, r.evaluations, r.finished)
        if math.isfinite(r.energy):
            rungs.append(r)
            if report is not None:
                report(r)
        if abs(r.energy - reference) <= target or not r.finished or r.elapsed >= time_cap:
            break
        start = (np.append(r.q, 0.5 * (r.q[-1] + 1.0)), np.append(r.m, 2.0 * r.m[-1]))
    return rungs


# --------------------------------------------------------------------------------------
# β_c of a TAP matrix by bounded Brent minimisation of its smallest eigenvalue
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrentBetaC:
    """Result of :func:`beta_c_brent`: the minimiser, λ_min there, evaluations, solver."""

    beta_c: float
    lambda_min: float
    evaluations: int
    solver: str
    converged: bool


def smallest_eigenvalue(
    a: Any, solver: str, v0: np.ndarray | None = None
) -> tuple[float, np.ndarray | None]:
    """λ_min of a dense symmetric matrix and (for ``"eigsh"``) its eigenvector.

    ``"eigh"``: LAPACK ``syevr`` for the lowest eigenvalue only
    (``scipy.linalg.eigh(subset_by_index=[0, 0])``); ``"eigsh"``: ARPACK Lanczos
    (``scipy.sparse.linalg.eigsh(which="SA")``, to machine precision, started from ``v0``;
    ``a`` may also be a LinearOperator).
    """
    if solver == "eigh":
        from scipy.linalg import eigh

        return float(eigh(a, subset_by_index=[0, 0], eigvals_only=True)[0]), None
    if solver == "eigsh":
        from scipy.sparse.linalg import eigsh

        val, vec = eigsh(a, k=1, which="SA", tol=0, v0=v0)
        return float(val[0]), vec[:, 0]
    raise ValueError(f"unknown solver {solver!r}: use 'eigh' or 'eigsh'")


def beta_c_brent(
    matrix: Callable[[float], Any],
    bracket: tuple[float, float],
    xatol: float,
    solver: str = "eigsh",
    deadline: float = math.inf,
) -> BrentBetaC:
    """β_c = argmin_β λ_min(A(β)) over ``bracket`` by ``scipy.optimize.minimize_scalar
    (method="bounded")`` (Brent's method with golden-section safeguards; Brent, Algorithms
    for Minimization without Derivatives, 1973, ch. 5), absolute tolerance ``xatol`` on β.

    ``matrix(β)`` returns A(β): a dense array, or for ``"eigsh"`` also a LinearOperator.
    For ``"eigsh"`` each Lanczos run starts from the previous eigenvector (what a careful
    user would do). When ``time.perf_counter()`` passes ``deadline`` it stops with the best
    β seen so far and ``converged=False``.
    """
    from scipy.optimize import minimize_scalar

    last: list[np.ndarray | None] = [None]
    n = [0]
    best = [math.nan, math.inf]

    def f(beta: float) -> float:
        if time.perf_counter() > deadline:
            raise _OutOfTime
        n[0] += 1
        val, vec = smallest_eigenvalue(matrix(beta), solver, last[0])
        last[0] = vec
        if val < best[1]:
            best[0], best[1] = beta, val
        return val

    try:
        res = minimize_scalar(
            f, bounds=bracket, method="bounded", options={"xatol": xatol, "maxiter": 500}
        )
    except _OutOfTime:
        return BrentBetaC(float(best[0]), float(best[1]), n[0], solver, False)
    return BrentBetaC(float(res.x), float(res.fun), n[0], solver, bool(res.success))


# --------------------------------------------------------------------------------------
# ξ of a deep network by a fixed 2-D Gauss–Hermite tensor grid
# --------------------------------------------------------------------------------------


def xi_gauss_hermite(
    phi: Callable[[np.ndarray], np.ndarray],
    dphi: Callable[[np.ndarray], np.ndarray],
    d2phi: Callable[[np.ndarray], np.ndarray],
    depth: int,
    sigma_w2: float,
    sigma_b2: float,
    q: np.ndarray,
    order: int,
    chunk: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ξ, ξ', ξ'') of a depth-``depth`` network at overlaps ``q`` (shape (n,)), by the
    layer recursion of Poole et al., "Exponential expressivity in deep neural networks
    through transient chaos" (NeurIPS 2016), with Price's theorem for the derivatives:

        K_1 = σ_b² + σ_w² q,  K_{l+1} = σ_b² + σ_w² E[φ(u)φ(v)],
        K'_{l+1} = σ_w² E[φ'φ'] K'_l,  K''_{l+1} = σ_w² (E[φ''φ''] K'_l² + E[φ'φ'] K''_l),

    (u, v) ~ N(0, [[V, K_l], [K_l, V]]), V = K_l(1). Every expectation is an ``order`` ×
    ``order`` tensor grid of probabilists' Gauss–Hermite nodes, u = sqrt(V) z1,
    v = sqrt(V)(ρ z1 + sqrt(1-ρ²) z2), vectorised over q in chunks of ``chunk`` values
    (memory chunk·order² floats; default: about 2^21 floats, 16 MB, which keeps the
    temporaries in cache-friendly sizes).
    """
    if chunk is None:
        chunk = max(1, 2**21 // (order * order))
    z, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / w.sum()
    ww = np.outer(w, w)
    q = np.asarray(q, dtype=float)
    out = [np.empty_like(q) for _ in range(3)]
    for lo in range(0, q.size, chunk):
        qc = q[lo : lo + chunk]
        var = sigma_b2 + sigma_w2 * 1.0
        k = sigma_b2 + sigma_w2 * qc
        k1 = np.full_like(qc, sigma_w2)
        k2 = np.zeros_like(qc)
        for _ in range(depth):
            s = math.sqrt(var)
            rho = np.clip(k / var, -1.0, 1.0)
            u = s * z  # (order,)
            v = s * (
                rho[:, None, None] * z[None, :, None]
                + np.sqrt(1 - rho * rho)[:, None, None] * z[None, None, :]
            )
            e = [np.einsum("ij,qij->q", ww * f(u)[:, None], f(v)) for f in (phi, dphi, d2phi)]
            var_next = sigma_b2 + sigma_w2 * float(w @ phi(u) ** 2)
            k, k1, k2 = (
                sigma_b2 + sigma_w2 * e[0],
                sigma_w2 * e[1] * k1,
                sigma_w2 * (e[2] * k1 * k1 + e[1] * k2),
            )
            var = var_next
        for o, val in zip(out, (k, k1, k2), strict=True):
            o[lo : lo + chunk] = val
    return out[0], out[1], out[2]


def tap_operator(weights: list[np.ndarray], beta: float):
    """A(β) = diag(1/β + β d) - J of a layered network as a ``scipy.sparse.linalg.
    LinearOperator`` (what a user writes when the dense N × N matrix does not fit).

    J couples consecutive layers through ``weights[l]`` (shape (N_{l+1}, N_l)); the Onsager
    term is d_i = Σ_j J_ij² (Thouless, Anderson & Palmer, Phil. Mag. 35, 593 (1977); the
    layered form as in Barney, Winer & Galitski, arXiv 2408.06421). A matvec costs
    2 Σ_l N_l N_{l+1} multiply-adds.
    """
    from scipy.sparse.linalg import LinearOperator

    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    off = np.concatenate([[0], np.cumsum(sizes)])
    n = int(off[-1])
    d = np.zeros(n)
    for layer, w in enumerate(weights):
        w2 = w * w
        d[off[layer + 1] : off[layer + 2]] += w2.sum(axis=1)
        d[off[layer] : off[layer + 1]] += w2.sum(axis=0)
    diag = 1.0 / beta + beta * d

    def matvec(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float).reshape(-1)
        y = diag * x
        for layer, w in enumerate(weights):
            lo, mid, hi = off[layer], off[layer + 1], off[layer + 2]
            y[mid:hi] -= w @ x[lo:mid]
            y[lo:mid] -= w.T @ x[mid:hi]
        return y

    return LinearOperator((n, n), matvec=matvec, dtype=float)
