"""A random MLP's input landscape at finite width ratio α = N_l/N: the replica-symmetric
saddle point of the layer-overlap action (Hanin & Winer, arXiv 2503.23982; derivation and
checks in ``derivations/finite_width_landscape.py``).

The network: input x with |x|² = N, hidden widths N_l = α_l N (l = 1..L), weights
W ~ N(0, σ_w²/fan-in), biases ~ N(0, σ_b²), a scalar linear read-out of the same law, and
H(x) = sqrt(N) f(x). Given the layer below, the preactivations of layer l are iid over its
N_l units, Gaussian with replica covariance C^l = σ_b² + σ_w² G^{l-1} (G^0 = Q, the input
overlaps), and the read-out integrates to exp(N β²/2 Σ_ab C^{L+1}_ab). Fixing
G^l_ab = (1/N_l) Σ_i φ(h^l_ia) φ(h^l_ib) by delta functions with conjugates Ĝ^l gives::

    E Z^n = ∫ exp N{ ½ ln det Q + β²/2 Σ_ab C^{L+1}_ab
                     - Σ_l α_l [ ½ Σ_ab Ĝ^l_ab G^l_ab
                                 - ln E_{z~N(0,C^l)} e^{½ Σ_ab Ĝ^l_ab φ(z_a)φ(z_b)} ] }.

Replica symmetry (Q_ab = q, G^l: diagonal g_d, off-diagonal g; Ĝ^l: ĝ_d, ĝ), a
Hubbard–Stratonovich variable ζ for the off-diagonal ĝ and z_a = sqrt(c0) η + sqrt(c1 - c0) ε_a
(η shared, ε_a per replica), then n → 0, give Φ(β) = lim E ln Z / N (Z over the uniform
probability measure on the sphere)::

    Φ = ½[ln(1-q) + q/(1-q)] + β²σ_w²/2 (g_d^L - g^L)
        - Σ_l α_l [ ½(ĝ_d^l g_d^l - ĝ^l g^l) - T_l ],
    T_l = E_{η,ζ} ln E_ε exp(ψ_l(z)),   ψ_l = ½(ĝ_d^l - ĝ^l) φ(z)² + sqrt(ĝ^l) ζ φ(z),

with (c1, c0) = (σ_b² + σ_w², σ_b² + σ_w² q) at layer 1 and (σ_b² + σ_w² g_d^{l-1},
σ_b² + σ_w² g^{l-1}) above. ⟨·⟩_l is the ε-average tilted by e^{ψ_l}, s_l = c1 - c0, and
the stationarity equations are (Gaussian integration by parts turns derivatives of T_l in
c1, c0 into ε-moments: ∂T/∂c1 = E(⟨ε²⟩ - 1)/(2s), ∂T/∂c0 = -E⟨ε⟩²/(2s))::

    forward:   g_d^l = E⟨φ²⟩_l,   g^l = E⟨φ⟩_l²,
    backward:  ĝ_d^L = ĝ^L = β² σ_w² / α_L,
               ĝ^l   = (α_{l+1}/α_l) E⟨ε⟩²_{l+1} / (g_d^l - g^l),
               ĝ_d^l = (α_{l+1}/α_l) E(⟨ε²⟩ - 1)_{l+1} / (g_d^l - g^l),
    input:     q/(1-q) = α_1 E⟨ε⟩²_1,
    energy:    e = -∂Φ/∂β = -β σ_w² (g_d^L - g^L).

At one hidden layer Ĝ is exactly constant (ĝ_d = ĝ = β²σ_w²/α: the action is linear in G),
and Φ = ½[ln(1-q) + q/(1-q)] + α E_{η,ζ} ln E_ε exp(βσ_w ζ φ(z)/sqrt(α)). As α → ∞ this
is the Crisanti–Sommers RS functional with ξ = K_{L+1} (the Gaussian limit,
:class:`~replicasolve.models.landscape.RandomMLPLandscape`), with a correction
β⁴σ_w⁴/(8α) E_η κ₄ (κ₄ the fourth cumulant of φ(z) over ε) at one hidden layer. A linear
activation has no correction at any α (the field W_1ᵀw_2 has a norm that concentrates).

The action needs |φ(x)| = o(x²): for φ = x² (or faster) E_ε exp(sqrt(ĝ) ζ φ) diverges at
large ζ (ζ is the normalised read-out weight of a hidden unit), so such activations are
refused. Only the RS saddle point is solved here; its stability (the replicon) is
:func:`replicasolve.solvers.finite_width.replicon.finite_width_replicon` at depth 1 and
:func:`replicasolve.solvers.finite_width.deep.finite_width_replicon_deep` at any depth, and RSB
at depth 1 is :mod:`replicasolve.solvers.finite_width.krsb` (whose k = 0 functional is Φ
above).

Quadrature: the single-site integrals T_l and their moments are sums on a grid in the field
z for periodic or bounded φ (spectrally accurate at any tilt; ~1e-14 at α = 2, T = 0.3 for
sin, where the Gauss–Hermite rule in η and ε reported 1.6e-3), Gauss–Hermite otherwise;
both live in ``replicasolve.solvers.finite_width.numerics``.

References for the formulas: the action and its RS form are derived (and every step checked
numerically) in ``derivations/finite_width_landscape.py``; ½ ln det Q is the entropy of
replicas on the sphere at fixed overlaps and the α → ∞ limit the RS Crisanti–Sommers
functional (Crisanti & Sommers, Z. Phys. B 87, 341 (1992)); the derivative identities are
Gaussian integration by parts (Stein, Ann. Stat. 9, 1135 (1981)); the fourth-cumulant
correction is the cumulant expansion of ln E_ε e^{λζφ} in λ (derivation step 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import ConvergenceError, InvalidInputError
from ...results import Result
from .numerics import (
    SiteMoments,
    auto_rule,
    check_alphas,
    check_growth,
    check_number,
    finer_rule,
    site_moments,
)

__all__ = ["FiniteWidthResult", "finite_width_rs"]


@dataclass(frozen=True, eq=False)
class FiniteWidthResult(Result):
    """The RS saddle point of the finite-width landscape at one temperature.

    Conventions as :class:`~replicasolve.solvers.result.ParisiResult`: per input dimension,
    energy units of H/N, Gibbs weight exp(-H/T); entropy relative to the uniform probability
    measure on the sphere. The library's result contract (:class:`~replicasolve.results.Result`:
    ``converged``, ``errors`` = {"resolution": ...}, ``to_dict()``, ``table()``).

    Attributes:
        activation: the activation as given.
        sigma_w2, sigma_b2: weight and bias variances (all layers).
        alpha: width ratios α_l = N_l/N, one per hidden layer (length L).
        T: temperature.
        free_energy: f = -T Φ.
        energy: e = E⟨H⟩/N.
        entropy: s = (e - f)/T.
        q: input overlap x_a·x_b/N.
        g_diag, g_off: shape (L,): post-activation overlaps (1/N_l) Σ_i φ(h_ia)φ(h_ib),
            a = b and a ≠ b.
        ghat_diag, ghat_off: shape (L,): their conjugates ĝ_d, ĝ (O(1/α)).
        converged: the fixed-point residual (after the damped iteration and the Newton
            polish) is below ``tol``; False means the saddle was not found to ``tol``.
        iterations: fixed-point iterations (plus Newton polish function calls).
        residual: max |F(u) - u| of the fixed-point map, with ĝ^l measured as α_l ĝ^l.
        resolution: max change of f, e and of the fixed-point map F(u) when the
            solution is re-evaluated on finer rules (an indicator of the quadrature error;
            large for kinked φ such as ReLU, and at strong tilt: low T, small α). Also
            readable as ``quadrature_error`` (its former name, a read-only alias).
        settings: quadrature rules, tolerance, damping.
        message: how the solve ended.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    alpha: tuple[float, ...]
    T: float
    free_energy: float
    energy: float
    entropy: float
    q: float
    g_diag: np.ndarray
    g_off: np.ndarray
    ghat_diag: np.ndarray
    ghat_off: np.ndarray
    converged: bool
    iterations: int
    residual: float
    resolution: float
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def quadrature_error(self) -> float:
        """Read-only alias of :attr:`resolution` (the former field name)."""
        return self.resolution

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.alpha)


def finite_width_rs(activation: Any, sigma_w2: float, sigma_b2: float,
                    alpha: float | Sequence[float], T: float, *, method: str = "auto",
                    order: int = 64, grid_step: float | None = None,
                    zeta_points: int | None = None,
                    tol: float = 1e-12, max_iter: int = 2000,
                    damping: float = 0.5) -> FiniteWidthResult:
    """Solve the RS saddle point of a random MLP's input landscape at finite width.

    The equations are those of the module docstring (derived and checked in
    ``derivations/finite_width_landscape.py``). The unknowns
    u = (q, ĝ_d^l, ĝ^l for l < L) are iterated through one forward pass (layer overlaps
    g_d^l, g^l from the tilted single-site measures) and one backward pass (conjugates from
    the layer above), damped, and polished by Powell's hybrid method once the damped
    iteration is close (or if it stalls). The quadrature error is estimated a posteriori by
    re-evaluating f, e and the fixed-point map at the solution on a finer rule.

    Each layer's single-site integrals E_{η,ζ} ln E_ε e^ψ and their moments use one of two
    rules (``replicasolve.solvers.finite_width.numerics``):

    - ``"grid"`` (the default for periodic or bounded φ): φ sampled on a uniform grid in
      the field z (one period for periodic φ), the ε average a sum with the sampled Gaussian
      kernel, the η average with Gaussian weights on the grid, spectrally accurate however
      peaked e^ψ is (low T, small α); ζ by the composite Gauss–Legendre rule
      (:func:`~replicasolve.solvers.finite_width.numerics.zeta_rule`). At depth 1 this is
      the k = 0 case of the grid engine of
      :func:`replicasolve.solvers.finite_width.krsb.krsb_functional`.
    - ``"hermite"`` (the default for unbounded φ such as ReLU): ``order``-point
      Gauss–Hermite rules in η and ε and the same ζ rule; slow to converge at strong tilt
      (1.6e-3 error indicator for sin at α = 2, T = 0.3, where the grid gives ~1e-12).

    Args:
        activation: name or formula in x (:func:`replicasolve.kernels.activation.activation`),
            or an :class:`~replicasolve.kernels.activation.Activation`.
        sigma_w2: weight variance σ_w² > 0 (W ~ N(0, σ_w²/fan-in)), every layer.
        sigma_b2: bias variance σ_b² ≥ 0, every layer.
        alpha: width ratio α = N_1/N (one hidden layer) or a sequence α_l, one per hidden
            layer.
        T: temperature > 0, energy units of H/N.
        method: ``"auto"``, ``"grid"`` or ``"hermite"`` (see above).
        order: Gauss–Hermite points for η and ε (16..240; ``"hermite"`` only).
        grid_step: grid spacing in the field (``"grid"``; rounded to divide the period of a
            periodic φ). Default: 2π/128 on a period (sin needs it at strong tilt: the
            Fourier modes of e^{λζ sin} reach high order), 2π/64 on a line (tanh was at
            rounding with 0.15 at α = 2, T = 0.3).
        zeta_points: Gauss–Legendre points per ζ panel (4..16; 34 panels). Default 10 for
            ``"grid"`` (6 left 9e-10 in E⟨φ⟩² for sin at α = 2, T = 0.3, where the grid
            itself is at rounding; 10 and 20 agree to 1e-16), 6 for ``"hermite"`` (whose
            η, ε error dominates).
        tol: convergence threshold on the fixed-point residual.
        max_iter: iterations (damped, plus the polish's evaluations) before the final
            Newton polish.
        damping: weight of the new iterate, in (0, 1].

    Returns:
        :class:`FiniteWidthResult` (free energy, energy, entropy per input dimension; q;
        layer overlaps and conjugates, arrays of shape (L,); convergence data).

    Raises:
        InvalidInputError: α ≤ 0 or not finite, T ≤ 0, σ_w² ≤ 0, σ_b² < 0, a bad activation
            (including one growing like x² or faster, where the action diverges) or bad
            solver settings.
        ConvergenceError: a single-site integral overflows (tilt too strong for φ), or the
            iteration produces a non-finite value.
    """
    from ...kernels.activation import Activation
    from ...kernels.activation import activation as make_activation

    act = activation if isinstance(activation, Activation) else make_activation(activation)
    check_growth(act)
    sw2 = check_number(sigma_w2, "sigma_w2")
    sb2 = check_number(sigma_b2, "sigma_b2")
    if sw2 <= 0:
        raise InvalidInputError(f"sigma_w2 must be > 0, got {sigma_w2!r}")
    if sb2 < 0:
        raise InvalidInputError(f"sigma_b2 must be >= 0, got {sigma_b2!r}")
    alphas = check_alphas(alpha)
    temp = check_number(T, "temperature T")
    if temp <= 0:
        raise InvalidInputError(f"temperature T must be > 0, got {T!r}")
    zp = _ZETA_POINTS["hermite"] if zeta_points is None else zeta_points  # grid: set below
    for name, v, lo, hi in (("order", order, 16, 240), ("zeta_points", zp, 4, 16)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise InvalidInputError(f"{name} must be a whole number in [{lo}, {hi}], got {v!r}")
    if not 0 < damping <= 1:
        raise InvalidInputError(f"damping must be in (0, 1], got {damping!r}")
    if not tol > 0 or isinstance(max_iter, bool) or int(max_iter) != max_iter or max_iter < 1:
        raise InvalidInputError("need tol > 0 and a whole max_iter >= 1")
    rule = auto_rule(act, method, int(order), grid_step, int(zp))
    if zeta_points is None and rule["method"] == "grid":
        rule["zeta_points"] = _ZETA_POINTS["grid"]
    fine = finer_rule(rule)
    from ...blas import blas_threads

    with blas_threads():  # many small products: one BLAS thread (see replicasolve.blas)
        return _solve(act, activation, sw2, sb2, alphas, temp, rule, fine, tol,
                      int(max_iter), float(damping))


# default ζ points per panel by method (see finite_width_rs)
_ZETA_POINTS = {"grid": 10, "hermite": 6}

# the damped iteration hands over to Powell's hybrid method below this residual: the map
# contracts slowly (30-60 damped steps to 1e-12), hybr needs a handful of evaluations
_POLISH_AT = 1e-5


def _solve(act: Any, activation: Any, sw2: float, sb2: float, alphas: tuple[float, ...],
           temp: float, rule: dict[str, Any], fine: dict[str, Any], tol: float,
           max_iter: int, damping: float) -> FiniteWidthResult:
    beta = 1.0 / temp
    depth = len(alphas)
    ghat_top = beta * beta * sw2 / alphas[-1]

    def sweep(u: np.ndarray, r: dict[str, Any] = rule) -> tuple[np.ndarray, list[SiteMoments]]:
        """One forward pass at u; returns F(u) (the new unknowns) and the layer moments."""
        q = float(np.clip(u[0], 0.0, 1.0 - 1e-15))
        c1, c0 = sb2 + sw2, sb2 + sw2 * q
        sites = []
        for l in range(depth):
            gd_hat, g_hat = (u[1 + 2 * l], u[2 + 2 * l]) if l < depth - 1 \
                else (ghat_top, ghat_top)
            st = site_moments(act.phi, c1, c0, 0.5 * (gd_hat - g_hat),
                              math.sqrt(max(g_hat, 0.0)), r)
            sites.append(st)
            c1, c0 = sb2 + sw2 * st.g_diag, sb2 + sw2 * st.g_off
        new = np.empty_like(u)
        ratio0 = alphas[0] * sites[0].eps_mean2
        new[0] = ratio0 / (1.0 + ratio0)
        for l in range(depth - 1):
            ratio = alphas[l + 1] / alphas[l]
            gap = sites[l].g_diag - sites[l].g_off
            new[2 + 2 * l] = ratio * sites[l + 1].eps_mean2 / gap
            new[1 + 2 * l] = ratio * sites[l + 1].eps2_m1 / gap
        return new, sites

    def thermo(u: np.ndarray, sites: list[SiteMoments]) -> tuple[float, float]:
        """(Φ, e) at u with the g's of its forward pass (Φ is stationary in them)."""
        q = float(u[0])
        hd = [u[1 + 2 * l] for l in range(depth - 1)] + [ghat_top]
        h = [u[2 + 2 * l] for l in range(depth - 1)] + [ghat_top]
        top = sites[-1].g_diag - sites[-1].g_off
        phi_val = (0.5 * (math.log1p(-q) + q / (1.0 - q)) + 0.5 * beta * beta * sw2 * top
                   - sum(a * (0.5 * (hd_ * st.g_diag - h_ * st.g_off) - st.t)
                         for a, hd_, h_, st in zip(alphas, hd, h, sites, strict=True)))
        return phi_val, -beta * sw2 * top

    # residual in O(1) units: α_l ĝ^l is O(1) at every width
    scale = np.ones(1 + 2 * (depth - 1))
    for l in range(depth - 1):
        scale[1 + 2 * l: 3 + 2 * l] = alphas[l]

    def polish(u: np.ndarray, res: float) -> tuple[np.ndarray, float, int, str]:
        from scipy.optimize import root

        sol = root(lambda v: (sweep(v)[0] - v) * scale, u, method="hybr",
                   options={"xtol": 1e-14})
        if np.all(np.isfinite(sol.x)) and 0.0 <= sol.x[0] < 1.0:
            trial = float(np.max(np.abs(sweep(sol.x)[0] - sol.x) * scale))
            if trial < res:
                return sol.x, trial, int(sol.nfev) + 1, str(sol.message)
        return u, res, int(sol.nfev) + 1, str(sol.message)

    u = np.zeros(1 + 2 * (depth - 1))
    u[0] = 0.5
    d = damping
    it = 0
    res = math.inf
    message = ""
    polished = False
    while it < max_iter:
        new, _ = sweep(u)
        it += 1
        if not np.all(np.isfinite(new)):
            raise ConvergenceError("the RS fixed-point iteration produced a non-finite value")
        step = float(np.max(np.abs(new - u) * scale))
        if step > res:  # growing steps: the damped map is not contracting, damp harder
            d = max(0.5 * d, 1e-3)
        res = step
        if res < tol:
            message = f"damped iteration converged (final damping {d:g})"
            break
        if res < _POLISH_AT and not polished:
            polished = True
            u2, res2, nfev, msg = polish(u, res)
            it += nfev
            if res2 < tol:
                u, res = u2, res2
                message = f"damped iteration to {_POLISH_AT:g}, then Newton polish: {msg}"
                break
            if res2 < res:  # not there yet: go on damping from the better point
                u, res = u2, res2
                continue
        u = u + d * (new - u)
    if res >= tol:
        u, res, nfev, msg = polish(u, res)
        it += nfev
        message = f"damped iteration stalled; Newton polish: {msg}"
    _, sites = sweep(u)
    phi_val, energy = thermo(u, sites)
    free = -temp * phi_val
    # a posteriori quadrature check: the same u on the finer rule
    new_fine, sites_fine = sweep(u, fine)
    phi_fine, e_fine = thermo(u, sites_fine)
    # the fine-rule residual measures how far the quadrature moves the saddle itself
    qerr = max(abs(temp * (phi_fine - phi_val)), abs(e_fine - energy),
               float(np.max(np.abs(new_fine - u) * scale)))
    settings: dict[str, Any] = {"method": rule["method"], "zeta_points": rule["zeta_points"],
                                "tol": tol, "damping": damping, "final_damping": d,
                                "max_iter": max_iter}
    if rule["method"] == "grid":
        settings.update(grid_step=rule["grid_step"], period=rule["period"], odd=rule["odd"],
                        check_rule={"grid_step": fine["grid_step"],
                                    "zeta_points": fine["zeta_points"]})
    else:
        settings.update(order=rule["order"], check_rules=(fine["order"], fine["zeta_points"]))
    return FiniteWidthResult(
        activation=str(getattr(act, "name", activation)), sigma_w2=sw2, sigma_b2=sb2,
        alpha=alphas, T=temp, free_energy=free, energy=energy, entropy=(energy - free) / temp,
        q=float(u[0]), g_diag=np.array([st.g_diag for st in sites]),
        g_off=np.array([st.g_off for st in sites]),
        ghat_diag=np.array([u[1 + 2 * l] for l in range(depth - 1)] + [ghat_top]),
        ghat_off=np.array([u[2 + 2 * l] for l in range(depth - 1)] + [ghat_top]),
        converged=bool(res < tol), iterations=it, residual=res, resolution=qerr,
        settings=settings,
        message=message or f"stopped after {it} iterations (residual {res:.3g})")
