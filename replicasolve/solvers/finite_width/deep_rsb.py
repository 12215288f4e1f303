"""One-step RSB of the finite-width layer-overlap action at any depth L ≥ 1.

Action: module docstring of :mod:`replicasolve.solvers.finite_width.rs` (derived in
``derivations/finite_width_landscape.py``). With
1RSB structure (diagonal, same-block, other-block entries) in Q = (1, q_1, q_0), in every
hidden layer's G^l = (g_d, g_1, g_0) and Ĝ^l = (ĝ_d, ĝ_1, ĝ_0), blocks of size m, the
n → 0 limit of S/n is::

    Φ_1 = ½ Ψ(q_0, q_1, m) + Σ_{l<L} -α_l ½ (ĝ_d g_d + (m-1) ĝ_1 g_1 - m ĝ_0 g_0)
          + Σ_l α_l T_l,
    T_l = E_{η0,ζ0} (1/m) ln E_{η1,ζ1} [E_ε e^{ψ}]^m,
    ψ = ½(ĝ_d - ĝ_1) φ(z)² + (√ĝ_0 ζ0 + √(ĝ_1 - ĝ_0) ζ1) φ(z),
    z = √c_0 η0 + √(c_1 - c_0) η1 + √(c_d - c_1) ε,

c = σ_b² + σ_w² G^{l-1} (G^0 = Q, diagonal 1), ½Ψ the 1RSB entropy
(:func:`~replicasolve.solvers.finite_width.krsb.parisi_entropy`), the traces from
(1/n) Σ_ab X_ab Y_ab → x_d y_d + (m-1) x_1 y_1 - m x_0 y_0 (the action's per-layer term and
the 1RSB functional of ``derivations/finite_width_deep_replicon.py``, step 6). At the top
layer Ĝ^L = β²σ_w²/α_L in every entry (the action is linear in G^L), which cancels
β²/2 Σ C^{L+1} against -α_L ½ Σ Ĝ^L G^L: T_L has ψ = λ ζ φ, λ = βσ_w/√α_L.

Stationarity in G^l, Ĝ^l (Gaussian integration by parts, as in the RS module; w the
normalised weight Z^m / E_{η1,ζ1} Z^m of the middle level, ⟨·⟩ the ε-average tilted by
e^ψ, s = c_d - c_1, E over η0, ζ0)::

    forward:  g_d = E Σ w ⟨φ²⟩,  g_1 = E Σ w ⟨φ⟩²,  g_0 = E (Σ w ⟨φ⟩)²,
    backward: (ĝ_d, ĝ_1, ĝ_0)^l = (α_{l+1}/α_l) σ_w² (D, d_1, d_0)^{l+1},
              D = E Σ w (⟨ε²⟩ - 1)/s,  d_1 = E Σ w ⟨ε⟩²/s,  d_0 = E (Σ w ⟨ε⟩)²/s,

(d_1, d_0: the same- and other-block values of ⟨∂_a ∂_b⟩; at q_1 = q_0 they reduce to the RS
equations of :mod:`~replicasolve.solvers.finite_width.rs`). They are solved, at fixed
(q_0, q_1, m), by the RS solver's scheme (forward pass for G, backward pass for Ĝ,
damped, then Powell's hybrid method), which defines Φ_eff(q_0, q_1, m). As at depth 1 the
1RSB extremum is a minimum of Φ_eff over (q_0 ≤ q_1, m) (the replicon Hessian of Φ_1 at
the RS point is ((m-1)/(2m)) × the replicon matrix of ``finite_width_deep``), and the
gain is Φ_RS - Φ_1 (as ``finite_width_krsb``). Its gradient is the explicit one (envelope):
∂Φ/∂q_1 = ½∂Ψ/∂q_1 + ½ α_1 σ_w² (m-1) d_1^1, ∂Φ/∂q_0 = ½∂Ψ/∂q_0 - ½ α_1 σ_w² m d_0^1,
∂Φ/∂m = ½∂Ψ/∂m - Σ_{l<L} ½ α_l (ĝ_1 g_1 - ĝ_0 g_0) + Σ_l α_l E(Σ w ln Z - ln Y/m)/m.
Energy: e = -∂Φ/∂β = -β σ_w² (g_d^L + (m-1) g_1^L - m g_0^L).

Quadrature, two engines: ``"hermite"``: nested Gauss–Hermite in η0, ε (``order`` nodes),
η1, ζ1 (``inner`` nodes, exactly symmetric rules) and the composite ζ rule of the RS solver
in ζ0 (its positive half for odd φ); ``"grid"`` (periodic φ, the default there): the field on
a periodic grid (step 2π/128), the ε and η1 levels products with the sampled periodised
Gaussian kernels of the RS grid engine (same cut), η0 by Gaussian weights on the grid, ζ1
by ``inner``-node symmetric Gauss–Hermite, ζ0 by the composite rule; spectrally accurate at
any tilt (Gauss–Hermite in η1 with 20 nodes was 2.5e-5 off in d_1 at c_1 - c_0 = 1.1, where
the grid agreed with itself at half the step to 1e-12). At q_1 = q_0, ĝ_1 = ĝ_0 the middle
level is one node, and Φ_1 is the RS Φ of ``finite_width_rs`` with the same method and
rules, to rounding. ``resolution`` reports the change of the gain on a finer rule.

Measured (L = 2, σ_w² = 2, σ_b² = 0, grid for sin, Gauss–Hermite for tanh): tanh α = 2,
T = 0.3 (replicon Λ = 0.62, pivots > 0): no 1RSB point below RS (gain 8e-14 = rounding);
sin α = 2, T = 0.3 (Λ = -1.6): gain 3.56e-3 (q_0, q_1, m) = (0.405, 0.661, 0.634); sin
α = 1, T = 0.3 (Λ = +0.63 but first pivot -0.76): gain 1.37e-3 at (0.293, 0.405, 0.467),
resolution 7e-9, which confirms the pivot condition of ``finite_width_deep``; sin α = 4:
q_1 - q_0 = 0.095, 0.028, 0 at T = 0.44, 0.46, 0.48 (replicon boundary T_b ≈ 0.4664), gain
~3 (T_b - T)³: a continuous bifurcation.

References: Parisi, J. Phys. A 13, L115 (1980) (the 1RSB recursion); Crisanti & Sommers,
Z. Phys. B 87, 341 (1992) (entropy term); Stein, Ann. Stat. 9, 1135 (1981).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...blas import tap_blas
from ...errors import ConvergenceError, InvalidInputError
from ...quadrature import gauss_hermite
from ...results import Result
from .numerics import (
    KERNEL_CUT,
    activation_shape,
    check_growth,
    check_positive,
    depth_alphas,
    entropy_term,
    inner_kernels,
    is_wide,
    kernel_matrix,
    make_grid,
    narrow_rule,
    outer_nodes,
    shift_operator,
    symmetric_hermite_rule,
    zeta_nodes,
)

__all__ = ["FiniteWidth1RSBDeep", "deep_1rsb_functional", "finite_width_1rsb_deep"]


@dataclass(frozen=True)
class _Layer:
    t: float  # T_l
    g: np.ndarray  # (g_d, g_1, g_0)
    d: np.ndarray  # (D, d_1, d_0)
    tm: float  # explicit ∂T/∂m


def _layer(phi: Any, c: tuple[float, float, float], gh: tuple[float, float, float],
           m: float, rules: dict[str, Any]) -> _Layer:
    """T_l and its moments (module docstring) by nested quadrature."""
    cd, c1, c0 = c
    gd, g1, g0 = gh
    s = cd - c1
    if not s > 0:
        raise ConvergenceError(f"degenerate layer: c_d - c_1 = {s:.3g} <= 0")
    delta = max(c1 - c0, 0.0)
    a = 0.5 * (gd - g1)
    b0 = math.sqrt(max(g0, 0.0))
    b1 = math.sqrt(max(g1 - g0, 0.0))
    x0, w0 = rules["eta0"]
    xz, wz = rules["zeta0"]
    xe, we = rules["eps"]
    x1, w1 = rules["mid"] if delta > 0 else (np.zeros(1), np.ones(1))
    y1, v1 = rules["mid"] if b1 > 0 else (np.zeros(1), np.ones(1))
    B = b0 * xz[:, None] + b1 * y1[None, :]  # (ζ0, ζ1)
    W = (v1[:, None] * w1[None, :])[None]  # (1, ζ1, η1)
    acc = np.zeros(7)
    tms = 0.0
    for i in range(x0.size):
        p = np.asarray(phi(math.sqrt(max(c0, 0.0)) * x0[i] + math.sqrt(delta) * x1[:, None]
                           + math.sqrt(s) * xe[None, :]), dtype=float)  # (η1, ε)
        psi = a * (p * p)[None, None] + B[:, :, None, None] * p[None, None]
        mx = psi.max(axis=-1, keepdims=True)
        e = np.exp(psi - mx)
        z = e @ we
        lnz = mx[..., 0] + np.log(z)  # (ζ0, ζ1, η1)
        mphi = (e * p) @ we / z
        mphi2 = (e * (p * p)) @ we / z
        meps = e @ (we * xe) / z
        meps2 = e @ (we * (xe * xe - 1.0)) / z
        y = m * lnz
        ymax = y.max(axis=(1, 2), keepdims=True)
        ey = np.exp(y - ymax) * W
        sy = ey.sum(axis=(1, 2), keepdims=True)
        lny = ymax[:, 0, 0] + np.log(sy[:, 0, 0])  # ln Y, (ζ0,)
        wt = ey / sy
        sphi = (wt * mphi).sum(axis=(1, 2))
        seps = (wt * meps).sum(axis=(1, 2))
        rows = np.stack([lny / m, (wt * mphi2).sum(axis=(1, 2)), (wt * mphi**2).sum(axis=(1, 2)),
                         sphi**2, (wt * meps2).sum(axis=(1, 2)), (wt * meps**2).sum(axis=(1, 2)),
                         seps**2])
        tm = ((wt * lnz).sum(axis=(1, 2)) - lny / m) / m
        acc += w0[i] * (rows @ wz)
        tms += w0[i] * float(tm @ wz)
    if not np.all(np.isfinite(acc)):
        raise ConvergenceError("the 1RSB single-site integral is not finite at this (α, T)")
    return _Layer(float(acc[0]), acc[1:4].copy(), acc[4:7] / s, float(tms))



def _layer_grid(phi: Any, c: tuple[float, float, float], gh: tuple[float, float, float],
                m: float, rules: dict[str, Any]) -> _Layer:
    """:func:`_layer` on a periodic grid in the field (periodic φ only): the ε and η1
    averages are products with the sampled, periodised Gaussian kernels of
    ``finite_width_numerics`` (spectrally accurate however peaked e^ψ is), η0 the Gaussian
    weights on the grid, ζ0 the composite rule, ζ1 symmetric Gauss–Hermite."""
    cd, c1, c0 = c
    gd, g1, g0 = gh
    s = cd - c1
    delta = max(c1 - c0, 0.0)
    g = make_grid(rules["period"], rules["grid_step"], 0.0)
    if not s > 0:
        raise ConvergenceError(f"degenerate layer: c_d - c_1 = {s:.3g} <= 0")
    a = 0.5 * (gd - g1)
    b0 = math.sqrt(max(g0, 0.0))
    b1 = math.sqrt(max(g1 - g0, 0.0))
    xz, wz = rules["zeta0"]
    y1, v1 = rules["mid"] if b1 > 0 else (np.zeros(1), np.ones(1))
    B = b0 * xz[:, None] + b1 * y1[None, :]  # (ζ0, ζ1)
    if is_wide(g, s):
        p = np.asarray(phi(g.h), dtype=float)
        psi = a * (p * p) + B[:, :, None] * p  # (ζ0, ζ1, G)
        mx = psi.max(axis=-1, keepdims=True)
        span = float(np.max(mx[..., 0] - psi.min(axis=-1)))
        # the RS grid engine's cut: a node where e^ψ is e^span larger keeps < e^-60.5 beyond
        k0, k1, k2 = inner_kernels(g, g.h, s, np.arange(g.size),
                                   math.sqrt(KERNEL_CUT**2 + 2 * span))
        e = np.exp(psi - mx)
        z = e @ k0.T
        lnz = mx + np.log(z)  # (ζ0, ζ1, G): the shift is per row
        mphi = (e * p) @ k0.T / z
        mphi2 = (e * (p * p)) @ k0.T / z
        meps = e @ k1.T / z
        meps2 = e @ k2.T / z
    else:  # a narrow ε level (as the RS grid engine): Gauss–Hermite offsets, φ exact
        xe, we = symmetric_hermite_rule(40)
        p = np.asarray(phi(g.h[:, None] + math.sqrt(s) * xe[None, :]), dtype=float)
        psi = a * (p * p) + B[:, :, None, None] * p  # (ζ0, ζ1, G, ε)
        mx = psi.max(axis=-1, keepdims=True)
        e = np.exp(psi - mx)
        z = e @ we
        lnz = mx[..., 0] + np.log(z)
        mphi = (e * p) @ we / z
        mphi2 = (e * (p * p)) @ we / z
        meps = e @ (we * xe) / z
        meps2 = e @ (we * (xe * xe - 1.0)) / z
    y = m * lnz
    top = y.max(axis=(1, 2), keepdims=True)
    ey = np.exp(y - top)
    wide = delta > 0 and is_wide(g, delta)
    K = kernel_matrix(g, delta) if wide else None
    S, wo = None, None
    if delta > 0 and not wide:  # narrow η1 level: Gauss–Hermite offsets, 9-point Lagrange
        offs, wo = narrow_rule(delta)
        S = shift_operator(g, offs)

    def mid(f: np.ndarray) -> np.ndarray:  # Σ_j v_j E_{η1}[e^{m lnZ} f] at every node
        u = np.einsum("j,rjg->rjg", v1, ey * f)
        if K is not None:
            u = u @ K
        elif S is not None:
            r, j, n = u.shape
            sh = (S @ u.reshape(r * j, n).T).reshape(wo.size, n, r * j)
            u = np.einsum("o,ogk->kg", wo, sh).reshape(r, j, n)
        return u.sum(axis=1)

    Y = mid(np.ones_like(ey))
    lny = top[:, 0, :] + np.log(Y)
    sphi = mid(mphi) / Y
    seps = mid(meps) / Y
    rows = np.stack([lny / m, mid(mphi2) / Y, mid(mphi**2) / Y, sphi**2, mid(meps2) / Y,
                     mid(meps**2) / Y, seps**2, (mid(lnz) / Y - lny / m) / m])  # (8, ζ0, G)
    hs, wh, idx = outer_nodes(g, c0)
    if idx is not None:
        acc = np.einsum("r,krg,g->k", wz, rows[:, :, idx], wh)
    else:  # narrow η0 level: interpolate at the Gauss–Hermite offsets around h = 0
        S0 = shift_operator(g, hs, rows=np.array([g.zero]))
        acc = np.array([wz @ (S0 @ rows[k].T).T @ wh for k in range(rows.shape[0])])
    if not np.all(np.isfinite(acc)):
        raise ConvergenceError("the 1RSB single-site integral is not finite at this (α, T)")
    return _Layer(float(acc[0]), acc[1:4].copy(), acc[4:7] / s, float(acc[7]))

# --------------------------------------------------------------------------------------
# the functional at fixed (q_0, q_1, m): layer saddle by forward/backward passes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    phi: Any
    sw2: float
    sb2: float
    alphas: tuple[float, ...]
    beta: float
    rules: dict[str, Any]

    @property
    def depth(self) -> int:
        return len(self.alphas)

    @property
    def top(self) -> float:
        return self.beta**2 * self.sw2 / self.alphas[-1]


def _make_rules(order: int, inner: int, zeta_points: int, odd: bool,
                method: str = "hermite", period: float | None = None,
                grid_step: float = 2 * math.pi / 128) -> dict[str, Any]:
    if method == "grid":
        return {"method": "grid", "period": period, "grid_step": grid_step,
                "mid": symmetric_hermite_rule(inner), "zeta0": zeta_nodes(zeta_points, odd)}
    return {"method": "hermite", "eta0": gauss_hermite(order), "eps": gauss_hermite(order),
            "mid": symmetric_hermite_rule(inner), "zeta0": zeta_nodes(zeta_points, odd)}


def _sweep(pb: _Problem, q0: float, q1: float, m: float, hats: np.ndarray
           ) -> tuple[np.ndarray, list[_Layer]]:
    """One forward pass at layer conjugates ``hats`` (shape (L-1, 3)); returns the new
    conjugates of the backward pass and the layers."""
    c = (pb.sb2 + pb.sw2, pb.sb2 + pb.sw2 * q1, pb.sb2 + pb.sw2 * q0)
    layers = []
    for l in range(pb.depth):
        gh = tuple(hats[l]) if l < pb.depth - 1 else (pb.top,) * 3
        lay = (_layer_grid if pb.rules.get("method") == "grid" else _layer)(
            pb.phi, c, gh, m, pb.rules)
        layers.append(lay)
        c = tuple(pb.sb2 + pb.sw2 * lay.g)
    new = np.array([pb.alphas[l + 1] / pb.alphas[l] * pb.sw2 * layers[l + 1].d
                    for l in range(pb.depth - 1)]).reshape(-1, 3)
    return new, layers


def _phi_value(pb: _Problem, q0: float, q1: float, m: float, hats: np.ndarray,
               layers: list[_Layer]) -> float:
    val = float(entropy_term(np.array([q0, q1]), np.array([m])))
    for l, lay in enumerate(layers):
        val += pb.alphas[l] * lay.t
        if l < pb.depth - 1:
            hd, h1, h0 = hats[l]
            gd, g1, g0 = lay.g
            val -= 0.5 * pb.alphas[l] * (hd * gd + (m - 1) * h1 * g1 - m * h0 * g0)
    return val


def _gradient(pb: _Problem, q0: float, q1: float, m: float, hats: np.ndarray,
              layers: list[_Layer]) -> np.ndarray:
    """(∂Φ/∂q_0, ∂Φ/∂q_1, ∂Φ/∂m) at the layer saddle (envelope; module docstring)."""
    h = 1e-20
    ent = [float(np.imag(entropy_term(np.array([q0 + 1j * h * (i == 0), q1 + 1j * h * (i == 1)]),
                                      np.array([m + 1j * h * (i == 2)])))) / h for i in range(3)]
    a1 = pb.alphas[0] * pb.sw2
    d = layers[0].d
    gm = ent[2] + sum(pb.alphas[l] * lay.tm for l, lay in enumerate(layers))
    for l in range(pb.depth - 1):
        gm -= 0.5 * pb.alphas[l] * (hats[l][1] * layers[l].g[1] - hats[l][2] * layers[l].g[2])
    return np.array([ent[0] - 0.5 * a1 * m * d[2], ent[1] + 0.5 * a1 * (m - 1) * d[1], gm])


def _inner(pb: _Problem, q0: float, q1: float, m: float, hats0: np.ndarray | None,
           tol: float = 1e-12, max_iter: int = 400
           ) -> tuple[np.ndarray, list[_Layer], float]:
    """The layer saddle at fixed (q_0, q_1, m): damped forward/backward iteration, then
    Powell's hybrid method. Returns (conjugates, layers, residual in α_l ĝ units)."""
    L = pb.depth
    if L == 1:
        return np.zeros((0, 3)), _sweep(pb, q0, q1, m, np.zeros((0, 3)))[1], 0.0
    scale = np.repeat(np.array(pb.alphas[:-1]), 3)
    hats = (np.full((L - 1, 3), pb.top) if hats0 is None else np.array(hats0, dtype=float))

    def fmap(v: np.ndarray) -> np.ndarray:
        new, _ = _sweep(pb, q0, q1, m, v.reshape(L - 1, 3))
        return new.ravel()

    u = hats.ravel()
    res = math.inf
    for _ in range(0 if hats0 is not None else max_iter):  # warm start: straight to hybr
        new = fmap(u)
        if not np.all(np.isfinite(new)):
            raise ConvergenceError("the 1RSB layer iteration produced a non-finite value")
        res = float(np.max(np.abs(new - u) * scale))
        if res < 1e-4:
            break
        u = u + 0.5 * (new - u)
    if res > tol:
        from scipy.optimize import root

        sol = root(lambda v: (fmap(v) - v) * scale, u, method="hybr",
                   options={"xtol": 1e-14})
        if np.all(np.isfinite(sol.x)):
            r2 = float(np.max(np.abs(fmap(sol.x) - sol.x) * scale))
            if r2 < res:
                u, res = sol.x, r2
    hats = u.reshape(L - 1, 3)
    _, layers = _sweep(pb, q0, q1, m, hats)
    return hats, layers, res


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FiniteWidth1RSBDeep(Result):
    """The 1RSB optimum of the finite-width action at depth L (module docstring).

    Attributes:
        phi: Φ_1 = -βf at the 1RSB optimum (dimensionless, per input dimension).
        phi_rs: Φ at the RS saddle, same functional and quadrature (q_1 = q_0).
        gain: Φ_RS - Φ_1 ≥ 0 (the sign convention of ``finite_width_krsb``'s gains).
        resolution: |change of the gain| when Φ_1 and Φ_RS are re-evaluated (layer saddles
            re-solved) on the finer rule at the same (q_0, q_1, m): a gain below it is not
            resolved.
        q0, q1, m: the 1RSB input overlaps and block size (q_1 = q_0 when no 1RSB point
            below the RS one was found).
        q_rs: the RS input overlap.
        g: shape (L, 3): (g_d, g_1, g_0) of each hidden layer at the optimum.
        ghat: shape (L, 3): (ĝ_d, ĝ_1, ĝ_0) (the top row is β²σ_w²/α_L).
        energy: e = -β σ_w² (g_d^L + (m-1) g_1^L - m g_0^L).
        free_energy: f = -T Φ_1.
        entropy: s = (e - f)/T (relative to the uniform measure on the sphere).
        T: temperature (energy units of H/N).
        converged: the L-BFGS-B run that produced the reported optimum ended with success
            (True when no run improved on the RS point) and the layer-saddle residuals at
            the optimum and at the RS point are below 1e-9.
        residual: the layer-saddle residual (α_l ĝ units) at the optimum.
        evaluations: evaluations of Φ_eff.
        settings: quadrature and optimiser settings.
        message: how the search ended.
    """

    phi: float
    phi_rs: float
    gain: float
    resolution: float
    q0: float
    q1: float
    m: float
    q_rs: float
    g: np.ndarray
    ghat: np.ndarray
    energy: float
    free_energy: float
    entropy: float
    T: float
    converged: bool
    residual: float
    evaluations: int
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""


def _setup(activation: Any, sigma_w2: float, sigma_b2: float, alpha: Any, T: float,
           depth: int, order: int, inner: int, zeta_points: int, method: str = "auto",
           grid_step: float = 2 * math.pi / 128) -> tuple[Any, _Problem, dict[str, Any]]:
    from ...kernels.activation import Activation
    from ...kernels.activation import activation as make_activation

    act = activation if isinstance(activation, Activation) else make_activation(activation)
    check_growth(act)
    sw2 = check_positive(sigma_w2, "sigma_w2")
    sb2 = check_positive(sigma_b2, "sigma_b2", allow_zero=True)
    temp = check_positive(T, "temperature T")
    alphas = depth_alphas(alpha, depth)
    for name, v, lo, hi in (("order", order, 16, 160), ("inner", inner, 4, 40),
                            ("zeta_points", zeta_points, 4, 16)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise InvalidInputError(f"{name} must be a whole number in [{lo}, {hi}], got {v!r}")
    period, odd, _ = activation_shape(act)  # odd φ: ψ is even under (ζ, η, ε) -> -(ζ, η, ε)
    if method not in ("auto", "grid", "hermite"):
        raise InvalidInputError(f"method must be 'auto', 'grid' or 'hermite', got {method!r}")
    if method == "auto":
        method = "grid" if period is not None else "hermite"
    if method == "grid" and period is None:
        raise InvalidInputError("method='grid' needs a periodic activation here")
    step = check_positive(grid_step, "grid_step")
    spec = {"method": method, "order": int(order), "inner": int(inner),
            "zeta_points": int(zeta_points), "odd": bool(odd), "period": period,
            "grid_step": step}

    def phi(x: np.ndarray) -> np.ndarray:
        return np.asarray(act.phi(x), dtype=float)

    pb = _Problem(phi, sw2, sb2, alphas, 1.0 / temp, _rules_of(spec))
    return act, pb, spec


def _rules_of(spec: dict[str, Any]) -> dict[str, Any]:
    return _make_rules(spec["order"], spec["inner"], spec["zeta_points"], spec["odd"],
                       spec["method"], spec["period"], spec["grid_step"])


def _finer_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {**spec, "order": min(160, spec["order"] + spec["order"] // 2),
            "inner": min(40, spec["inner"] + 4), "zeta_points": min(16, spec["zeta_points"] + 2),
            "grid_step": 0.5 * spec["grid_step"]}


def _rs(act: Any, pb: _Problem, T: float, spec: dict[str, Any]) -> Any:
    from .rs import finite_width_rs

    if spec["method"] == "grid":
        return finite_width_rs(act, pb.sw2, pb.sb2, pb.alphas, T, method="grid",
                               grid_step=spec["grid_step"], zeta_points=spec["zeta_points"])
    return finite_width_rs(act, pb.sw2, pb.sb2, pb.alphas, T, method="hermite",
                           order=spec["order"], zeta_points=spec["zeta_points"])


def _check_qqm(q0: Any, q1: Any, m: Any) -> tuple[float, float, float]:
    try:
        a, b, c = float(q0), float(q1), float(m)
    except (TypeError, ValueError):
        raise InvalidInputError("q0, q1, m must be numbers") from None
    if not all(math.isfinite(v) for v in (a, b, c)):
        raise InvalidInputError("q0, q1, m must be finite")
    if not 0.0 <= a <= b < 1.0:
        raise InvalidInputError(f"need 0 <= q0 <= q1 < 1, got q0={q0!r}, q1={q1!r}")
    if not 0.0 < c <= 1.0:
        raise InvalidInputError(f"need 0 < m <= 1, got {m!r}")
    return a, b, c


@tap_blas
def deep_1rsb_functional(activation: Any, sigma_w2: float, sigma_b2: float,
                         alpha: float | Sequence[float], T: float, q0: float, q1: float,
                         m: float, *, depth: int = 2, method: str = "auto", order: int = 48,
                         inner: int = 20, zeta_points: int = 6,
                         grid_step: float = 2 * math.pi / 128
                         ) -> tuple[float, np.ndarray, np.ndarray]:
    """Φ_eff(q_0, q_1, m): the 1RSB functional Φ_1 (module docstring) at its layer saddle.

    Args:
        activation: name, formula or Activation (as ``finite_width_rs``).
        sigma_w2, sigma_b2: weight (> 0) and bias (≥ 0) variances, every layer.
        alpha: one width ratio (all layers) or one per hidden layer.
        T: temperature > 0.
        q0, q1, m: 0 ≤ q_0 ≤ q_1 < 1, 0 < m ≤ 1.
        depth: hidden layers L ≥ 1.
        method: ``"grid"`` (periodic φ: the field on a periodic grid, Gaussian levels as
            products with sampled kernels, spectrally accurate at strong tilt), ``"hermite"``
            (nested Gauss–Hermite, any φ) or ``"auto"`` (grid for periodic φ).
        order: Gauss–Hermite nodes in η0 and ε (16..160; ``"hermite"``).
        inner: symmetric Gauss–Hermite nodes in ζ1 (and η1 for ``"hermite"``) (4..40).
        zeta_points: Gauss–Legendre points per panel of the composite ζ0 rule (4..16).
        grid_step: grid spacing in the field (``"grid"``; rounded to divide the period).

    Returns:
        (Φ_1, g, ĝ): the value and the layer overlaps (g_d, g_1, g_0) and conjugates
        (ĝ_d, ĝ_1, ĝ_0) of each layer, arrays of shape (L, 3).

    Raises:
        InvalidInputError: bad parameters or an unordered (q_0, q_1, m).
        ConvergenceError: the layer saddle was not found to 1e-9, or a tilted integral
            overflows.
    """
    _, pb, _ = _setup(activation, sigma_w2, sigma_b2, alpha, T, depth, order, inner,
                      zeta_points, method, grid_step)
    a, b, c = _check_qqm(q0, q1, m)
    hats, layers, res = _inner(pb, a, b, c, None)
    if res > 1e-9:
        raise ConvergenceError(f"the layer saddle did not converge (residual {res:.2e})")
    return (_phi_value(pb, a, b, c, hats, layers), np.array([lay.g for lay in layers]),
            np.vstack([hats, np.full((1, 3), pb.top)]))


_Q_HI = 1.0 - 1e-6
_M_LO = 1e-3


@tap_blas
def finite_width_1rsb_deep(activation: Any, sigma_w2: float, sigma_b2: float,
                           alpha: float | Sequence[float], T: float, depth: int = 2, *,
                           method: str = "auto", order: int = 32, inner: int = 20,
                           zeta_points: int = 4, grid_step: float = 2 * math.pi / 128,
                           starts: Sequence[tuple[float, float, float]] | None = None,
                           maxiter: int = 60, check_resolution: bool = True,
                           progress: Any = None) -> FiniteWidth1RSBDeep:
    """Minimise Φ_eff(q_0, q_1, m) (the 1RSB functional at its layer saddle; module
    docstring) at depth L, and compare with the RS saddle of the same quadrature.

    The RS saddle is :func:`~replicasolve.solvers.finite_width.rs.finite_width_rs` with the
    same method and rules (its Φ is Φ_eff at q_1 = q_0 to rounding). From each start
    (default: three spread around the RS overlap, in the coordinates (q_0, q_1 - q_0, m))
    L-BFGS-B runs with the explicit (envelope) gradient;
    the layer saddle of every evaluation is warm-started from the previous one. The lowest
    point wins; if none is below Φ_RS the RS point is reported (gain 0). A reported gain is a
    lower bound (a better 1RSB point missed by every start cannot be excluded), and, as the
    gradient is that of the continuum functional, at strong tilt (where Gauss–Hermite is
    poor) the optimum is located only to the quadrature's accuracy: ``resolution`` says how
    much the gain moves on the finer rule (1.5× ``order``, half the grid step, 4 more
    ``inner`` nodes, 2 more ζ points per panel).

    Args:
        activation: name, formula or Activation.
        sigma_w2, sigma_b2: weight (> 0) and bias (≥ 0) variances.
        alpha: one width ratio (all layers) or one per hidden layer.
        T: temperature > 0.
        depth: hidden layers L ≥ 1.
        method, order, inner, zeta_points, grid_step: quadrature (see
            :func:`deep_1rsb_functional`); the RS saddle uses the same rule.
        starts: (q_0, q_1, m) starting points (each checked as ordered).
        progress: optional ``progress(done, total, label)`` (:mod:`replicasolve.progress`),
            called after each start and after the resolution check.
        maxiter: L-BFGS-B iterations per start.
        check_resolution: re-evaluate Φ_1 and Φ_RS on the finer rule.

    Returns:
        :class:`FiniteWidth1RSBDeep`.

    Raises:
        InvalidInputError: bad parameters or starts.
        ConvergenceError: the RS saddle or a layer saddle fails.
    """
    from scipy.optimize import minimize

    act, pb, spec = _setup(activation, sigma_w2, sigma_b2, alpha, T, depth, order, inner,
                           zeta_points, method, grid_step)
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise InvalidInputError(f"maxiter must be a whole number >= 1, got {maxiter!r}")
    rs = _rs(act, pb, float(T), spec)
    if not rs.converged:
        raise ConvergenceError(f"the RS saddle did not converge: {rs.message}")
    qr = float(rs.q)
    hats_rs = np.array([[rs.ghat_diag[l], rs.ghat_off[l], rs.ghat_off[l]]
                        for l in range(pb.depth - 1)]).reshape(-1, 3)
    h_rs, lay_rs, res_rs = _inner(pb, qr, qr, 0.5, hats_rs)
    phi_rs = _phi_value(pb, qr, qr, 0.5, h_rs, lay_rs)
    if starts is None:
        starts = [(0.7 * qr, qr + 0.5 * (1 - qr), 0.5), (0.3 * qr, qr + 0.7 * (1 - qr), 0.3),
                  (0.9 * qr, qr + 0.25 * (1 - qr), 0.8)]
    starts = [_check_qqm(*s_) for s_ in starts]
    state = {"hats": h_rs, "evals": 0}

    def evaluate(y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, list[_Layer], float]:
        q0 = float(np.clip(y[0], 0.0, _Q_HI))
        q1 = float(np.clip(q0 + max(y[1], 0.0), q0, _Q_HI))
        m = float(np.clip(y[2], _M_LO, 1.0))
        state["evals"] += 1
        hats, layers, res = _inner(pb, q0, q1, m, state["hats"])
        if res > 1e-9:  # warm start failed: cold start
            hats, layers, res = _inner(pb, q0, q1, m, None)
        if res <= 1e-9:
            state["hats"] = hats
        val = _phi_value(pb, q0, q1, m, hats, layers)
        gr = _gradient(pb, q0, q1, m, hats, layers)
        # (q0, dq, m) coordinates: ∂/∂q0|dq = ∂_q0 + ∂_q1
        return val, np.array([gr[0] + gr[1], gr[1], gr[2]]), hats, layers, res

    def fun(y: np.ndarray) -> tuple[float, np.ndarray]:
        val, gr, *_ = evaluate(y)
        return val, gr

    best = (phi_rs, np.array([qr, 0.0, 1.0]))
    message, ok = "no 1RSB point below the RS one", True
    bounds = [(0.0, _Q_HI), (0.0, _Q_HI), (_M_LO, 1.0)]
    stages = len(starts) + int(bool(check_resolution))
    for i, (q0s, q1s, ms) in enumerate(starts, 1):
        state["hats"] = h_rs
        sol = minimize(fun, np.array([q0s, q1s - q0s, ms]), jac=True, method="L-BFGS-B",
                       bounds=bounds, options={"maxiter": int(maxiter), "ftol": 1e-13,
                                               "gtol": 1e-8})
        if float(sol.fun) < best[0]:
            best = (float(sol.fun), np.array(sol.x))
            message, ok = f"L-BFGS-B: {sol.message}", bool(sol.success)
        if progress is not None:
            progress(i, stages, f"1RSB start {i} of {len(starts)}")
    y = best[1]
    state["hats"] = h_rs
    val, _, hats, layers, res = evaluate(y)
    q0 = float(np.clip(y[0], 0.0, _Q_HI))
    q1 = float(np.clip(q0 + max(y[1], 0.0), q0, _Q_HI))
    m = float(np.clip(y[2], _M_LO, 1.0))
    gain = phi_rs - val
    resolution = math.nan
    if check_resolution:
        pbf = _Problem(pb.phi, pb.sw2, pb.sb2, pb.alphas, pb.beta,
                       _rules_of(_finer_spec(spec)))
        hf, lf, _ = _inner(pbf, q0, q1, m, hats)
        hr, lr, _ = _inner(pbf, qr, qr, 0.5, h_rs)
        resolution = abs((_phi_value(pbf, qr, qr, 0.5, hr, lr)
                          - _phi_value(pbf, q0, q1, m, hf, lf)) - gain)
        if progress is not None:
            progress(stages, stages, "quadrature resolution check")
    top = layers[-1].g
    energy = -pb.beta * pb.sw2 * (top[0] + (m - 1) * top[1] - m * top[2])
    return FiniteWidth1RSBDeep(
        phi=val, phi_rs=phi_rs, gain=gain, resolution=float(resolution), q0=q0, q1=q1, m=m,
        q_rs=qr, g=np.array([lay.g for lay in layers]),
        ghat=np.vstack([hats, np.full((1, 3), pb.top)]), energy=float(energy),
        free_energy=-float(T) * val, entropy=float(energy) / float(T) + float(val),
        T=float(T), converged=bool(ok and res <= 1e-9 and res_rs <= 1e-9),
        residual=float(res), evaluations=int(state["evals"]),
        settings={**spec, "activation": act.name, "sigma_w2": pb.sw2, "sigma_b2": pb.sb2,
                  "alpha": pb.alphas, "T": float(T), "maxiter": int(maxiter),
                  "starts": [tuple(s_) for s_ in starts]},
        message=message)
