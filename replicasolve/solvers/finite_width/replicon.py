"""Stability (replicon / de Almeida–Thouless eigenvalue) of the finite-width RS saddle of a
one-hidden-layer random MLP landscape (Hanin & Winer, arXiv 2503.23982; derivation and
checks in ``derivations/finite_width_replicon.py``).

At depth L = 1 the layer-overlap action (module docstring of
:mod:`replicasolve.solvers.finite_width.rs`) is linear in G, so the G integral is a delta
function that fixes Ĝ_ab = β²σ_w²/α for every a, b EXACTLY (not only at the saddle). The
replicon-sector Hessian in (δQ, δG, δĜ) is therefore [[A, 0, B], [0, 0, -α], [B, -α, D]],
whose determinant is -α² A: stability is decided by the δQ block A alone, the Hessian of

    S[Q] = ½ ln det Q + α ln E_ζ E_{z~N(0, σ_b² + σ_w² Q)} Π_a exp(λ ζ φ(z_a)),
    λ = β σ_w / sqrt(α).

Its replicon eigenvalue (M1 - 2 M2 + M3 over pairs a < b, n → 0) is

    A = -1/(1-q)² + α σ_w⁴ E_{η,ζ} χ²,
    χ = ∂_h² ln E_ε e^{λζφ(h + sqrt(s) ε)} = (⟨ε²⟩ - ⟨ε⟩² - 1)/s,  s = σ_w²(1 - q),

(½ ln det Q gives -1/(1-q)²; the layer term gives the connected four-point function of the
tilted single-site measure, whose disconnected parts cancel in M1 - 2M2 + M3). Normalised
as the Gaussian-limit replicon (multiplied by (1-q)² and sign-flipped):

    Λ = 1 - α E_{η,ζ} [ (Var_ε^ψ(ε) - 1)² ],

Var_ε^ψ the variance of ε under the tilted measure ∝ e^{λζφ(sqrt(c0) η + sqrt(s) ε)}
N(ε; 0, 1), c0 = σ_b² + σ_w² q. Λ > 0: the RS saddle is locally stable; Λ < 0: it is
unstable toward replica symmetry breaking. As α → ∞, α E χ² → β² σ_w⁶ E_η m''(h)² =
β² ξ''(q) (m = E_ε φ, Price's theorem) and Λ → 1 - β² ξ''(q)(1 - q)², the
Crisanti–Sommers RS replicon with ξ = K_2. For φ = x the tilted ε is Gaussian with unit
variance, so Λ = 1 at every α and T.

References: the replicon of a replica-symmetric Hessian (de Almeida & Thouless, J. Phys. A
11, 983 (1978)); the spherical replicon 1 - β² ξ''(q)(1-q)² (Crisanti & Sommers, Z. Phys.
B 87, 341 (1992)); Gaussian integration by parts (Stein, Ann. Stat. 9, 1135 (1981)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...errors import ConvergenceError, InvalidInputError
from .numerics import check_rule, tilted_moments
from .rs import finite_width_rs

__all__ = ["finite_width_replicon", "replicon_at"]


def replicon_at(phi: Any, sigma_w2: float, sigma_b2: float, alpha: float, T: float, q: float,
                *, order: int = 64, zeta_points: int = 6, method: str = "hermite",
                grid_step: float = 2 * math.pi / 128, period: float | None = None,
                odd: bool = False) -> float:
    """Λ = 1 - α E_{η,ζ}[(Var_ε^ψ(ε) - 1)²] at a given overlap q (one hidden layer).

    The formula of the module docstring. Var - 1 = ⟨ε² - 1⟩ - ⟨ε⟩² comes from the tilted
    single-site moments of ``replicasolve.solvers.finite_width.numerics`` (the engines of
    :func:`~replicasolve.solvers.finite_width.rs.finite_width_rs`), formed from expm1-weighted
    sums where the tilt is small, so its O(λ) size keeps full relative precision at large α.

    Args:
        phi: vectorised activation function (numpy in, numpy out).
        sigma_w2, sigma_b2: weight and bias variances.
        alpha: width ratio α = N_1/N > 0.
        T: temperature > 0.
        q: input overlap in [0, 1).
        order: Gauss–Hermite points in η and ε (``"hermite"``, 4..240).
        zeta_points: Gauss–Legendre points per ζ panel (composite rule ``zeta_rule``).
        method: ``"hermite"`` (``order``-point rules in η and ε) or ``"grid"`` (φ on a grid
            in the field, step ``grid_step``: accurate at strong tilt, where Gauss–Hermite
            converges slowly).
        grid_step: grid spacing (``"grid"``).
        period: the period of φ if periodic (``"grid"``: one period), else None (a line).
        odd: φ is odd (``"grid"``: the ζ integrand is even; half the ζ nodes).

    Returns:
        The normalised replicon Λ (> 0 stable).

    Raises:
        InvalidInputError: q outside [0, 1), α or T not > 0, a bad rule.
        ConvergenceError: the tilted single-site integral is not finite.
    """
    if not (0.0 <= q < 1.0) or not alpha > 0 or not T > 0:
        raise InvalidInputError(f"need 0 <= q < 1, alpha > 0, T > 0; got {q!r}, {alpha!r}, {T!r}")
    rule = check_rule({"method": method, "order": order, "grid_step": grid_step,
                        "zeta_points": zeta_points, "period": period, "odd": odd},
                       max_order=240)
    rule["zeta_points"] = int(zeta_points)
    lam = math.sqrt(sigma_w2 / alpha) / T
    c1 = sigma_b2 + sigma_w2
    c0 = sigma_b2 + sigma_w2 * q
    from ...blas import blas_threads

    with blas_threads():
        mo = tilted_moments(phi, c1, c0, 0.0, lam, rule)
    chi = mo.eps2_m1 - mo.eps**2  # Var_ε^ψ(ε) - 1 = s ∂_h² ln E_ε e^ψ
    if not np.all(np.isfinite(chi)):
        raise ConvergenceError("the tilted single-site integral is not finite at this (α, T)")
    return 1.0 - alpha * mo.mean(chi * chi)


def finite_width_replicon(activation: Any, sigma_w2: float, sigma_b2: float, alpha: float,
                          T: float, *, method: str = "auto", order: int = 64,
                          zeta_points: int | None = None, return_solution: bool = False
                          ) -> Any:
    """The replicon eigenvalue of the finite-width RS saddle, one hidden layer.

    Solves :func:`replicasolve.solvers.finite_width.rs.finite_width_rs` and evaluates
    Λ = 1 - α E_{η,ζ}[(Var_ε^ψ(ε) - 1)²] at its overlap q (module docstring; derived and
    checked in ``derivations/finite_width_replicon.py``), with the same quadrature rule as
    the RS solve (the grid for periodic or bounded φ). Normalisation: Λ → 1 -
    β² ξ''(q)(1 - q)² as α → ∞, the Gaussian-limit replicon of
    :class:`~replicasolve.models.landscape.RandomMLPLandscape`; Λ < 0 means the RS
    saddle is unstable (replica symmetry breaks).

    Args:
        activation: name, formula or Activation, as for ``finite_width_rs``.
        sigma_w2: weight variance σ_w² > 0.
        sigma_b2: bias variance σ_b² ≥ 0.
        alpha: width ratio α = N_1/N, finite and > 0 (a scalar: depth 1; deeper networks:
            :func:`~replicasolve.solvers.finite_width.deep.finite_width_replicon_deep`).
        T: temperature > 0.
        method: ``"auto"``, ``"grid"`` or ``"hermite"``, as ``finite_width_rs``.
        order: Gauss–Hermite points in η and ε (16..240; ``"hermite"``).
        zeta_points: Gauss–Legendre points per ζ panel (4..16; default as
            ``finite_width_rs``: 10 on the grid, 6 with Gauss–Hermite).
        return_solution: also return the RS solution, as (Λ, FiniteWidthResult).

    Returns:
        Λ as a float, or (Λ, FiniteWidthResult) with ``return_solution``.

    Raises:
        InvalidInputError: bad parameters (as ``finite_width_rs``), or more than one width ratio.
        ConvergenceError: the RS solve or the single-site integral fails.
    """
    if np.ndim(alpha) != 0:
        vals = list(alpha)  # type: ignore[call-overload]
        if len(vals) != 1:
            raise InvalidInputError(
                "finite_width_replicon is the one-hidden-layer case: give one width ratio "
                f"alpha, got {len(vals)}; for depth >= 2 use "
                "replicasolve.solvers.finite_width.deep.finite_width_replicon_deep")
        alpha = vals[0]
    sol = finite_width_rs(activation, sigma_w2, sigma_b2, alpha, T, method=method,
                          order=order, zeta_points=zeta_points)
    if not sol.converged:
        raise ConvergenceError(f"the RS saddle did not converge: {sol.message}")
    from ...kernels.activation import Activation
    from ...kernels.activation import activation as make_activation

    act = activation if isinstance(activation, Activation) else make_activation(activation)
    st = sol.settings
    rule: dict[str, Any] = {"method": st["method"], "zeta_points": st["zeta_points"]}
    if st["method"] == "grid":
        rule.update(grid_step=st["grid_step"], period=st["period"], odd=st["odd"])
    else:
        rule.update(order=st["order"])
    lam = replicon_at(act.phi, sol.sigma_w2, sol.sigma_b2, sol.alpha[0], sol.T, sol.q, **rule)
    return (lam, sol) if return_solution else lam
