"""Stability (replicon / de Almeida–Thouless eigenvalue) of the finite-width RS saddle of a
one-hidden-layer random MLP landscape (SCIENCE.md §B; derivation and checks in
``derivations/finite_width_replicon.py``).

At depth L = 1 the layer-overlap action (module docstring of
:mod:`replicasolve.models.finite_width`) is linear in G, so the G integral is a delta
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

from ..errors import ConvergenceError, InvalidInputError
from .finite_width import _rule, _zeta_rule, finite_width_rs

__all__ = ["finite_width_replicon", "replicon_at"]


def replicon_at(phi: Any, sigma_w2: float, sigma_b2: float, alpha: float, T: float, q: float,
                *, order: int = 64, zeta_points: int = 6) -> float:
    """Λ = 1 - α E_{η,ζ}[(Var_ε^ψ(ε) - 1)²] at a given overlap q (one hidden layer).

    The formula of the module docstring, evaluated by ``order``-point Gauss–Hermite rules
    in η and ε and the composite Gauss–Legendre ζ rule of
    :func:`replicasolve.models.finite_width._zeta_rule`. Var - 1 is formed from
    expm1-weighted sums where the tilt is small (E_ε(ε² - 1) = 0 exactly on the symmetric
    rule), so its O(λ) size keeps full relative precision at large α.

    Args:
        phi: vectorised activation function (numpy in, numpy out).
        sigma_w2, sigma_b2: weight and bias variances.
        alpha: width ratio α = N_1/N > 0.
        T: temperature > 0.
        q: input overlap in [0, 1).
        order: Gauss–Hermite points in η and ε.
        zeta_points: Gauss–Legendre points per ζ panel.

    Returns:
        The normalised replicon Λ (> 0 stable).

    Raises:
        InvalidInputError: q outside [0, 1), α or T not > 0.
        ConvergenceError: the tilted single-site integral is not finite.
    """
    if not (0.0 <= q < 1.0) or not alpha > 0 or not T > 0:
        raise InvalidInputError(f"need 0 <= q < 1, alpha > 0, T > 0; got {q!r}, {alpha!r}, {T!r}")
    lam = math.sqrt(sigma_w2 / alpha) / T
    x, w = _rule(order)
    xz, wz = _zeta_rule(zeta_points)
    c0 = sigma_b2 + sigma_w2 * q
    s = sigma_w2 * (1.0 - q)
    z = math.sqrt(c0) * x[:, None] + math.sqrt(s) * x[None, :]
    p = np.asarray(phi(z), dtype=float)  # (η, ε)
    psi = lam * xz[None, :, None] * p[:, None, :]  # (η, ζ, ε)
    small = np.abs(psi).max(axis=2, keepdims=True) <= 1.0
    m = np.where(small, 0.0, psi.max(axis=2, keepdims=True))
    ew = np.where(small, np.expm1(np.where(small, psi, 0.0)), np.exp(psi - m)) * w
    base = np.where(small[..., 0], 1.0, 0.0)
    s0 = base + ew.sum(axis=2)
    mean_eps = (ew @ x) / s0  # E_ε ε = 0 on the symmetric rule: the base term drops
    mean_eps2_m1 = (ew @ (x * x - 1.0)) / s0  # likewise E_ε(ε² - 1) = 0
    chi = mean_eps2_m1 - mean_eps**2  # Var_ε^ψ(ε) - 1 = s ∂_h² ln E_ε e^ψ
    if not (np.all(np.isfinite(chi)) and np.all(s0 > 0)):
        raise ConvergenceError("the tilted single-site integral is not finite at this (α, T)")
    w2 = w[:, None] * wz[None, :]
    return float(1.0 - alpha * (w2 * chi * chi).sum())


def finite_width_replicon(activation: Any, sigma_w2: float, sigma_b2: float, alpha: float,
                          T: float, *, order: int = 64, zeta_points: int = 6,
                          return_solution: bool = False) -> Any:
    """The replicon eigenvalue of the finite-width RS saddle, one hidden layer.

    Solves :func:`replicasolve.models.finite_width.finite_width_rs` and evaluates
    Λ = 1 - α E_{η,ζ}[(Var_ε^ψ(ε) - 1)²] at its overlap q (module docstring; derived and
    checked in ``derivations/finite_width_replicon.py``). Normalisation: Λ → 1 -
    β² ξ''(q)(1 - q)² as α → ∞, the Gaussian-limit replicon of
    :class:`~replicasolve.models.landscape.RandomMLPLandscape`; Λ < 0 means the RS
    saddle is unstable (replica symmetry breaks).

    Args:
        activation: name, formula or Activation, as for ``finite_width_rs``.
        sigma_w2: weight variance σ_w² > 0.
        sigma_b2: bias variance σ_b² ≥ 0.
        alpha: width ratio α = N_1/N, finite and > 0 (a scalar: depth 1 only).
        T: temperature > 0.
        order: Gauss–Hermite points in η and ε (16..240).
        zeta_points: Gauss–Legendre points per ζ panel (4..16).
        return_solution: also return the RS solution, as (Λ, FiniteWidthResult).

    Returns:
        Λ as a float, or (Λ, FiniteWidthResult) with ``return_solution``.

    Raises:
        InvalidInputError: bad parameters (as ``finite_width_rs``), or a depth other than 1.
        ConvergenceError: the RS solve or the single-site integral fails.
    """
    if np.ndim(alpha) != 0:
        vals = list(alpha)
        if len(vals) != 1:
            raise InvalidInputError(
                "the finite-width replicon is derived for one hidden layer only: give one "
                f"width ratio alpha, got {len(vals)}")
        alpha = vals[0]
    sol = finite_width_rs(activation, sigma_w2, sigma_b2, alpha, T, order=order,
                          zeta_points=zeta_points)
    if not sol.converged:
        raise ConvergenceError(f"the RS saddle did not converge: {sol.message}")
    from ..kernels.activation import Activation
    from ..kernels.activation import activation as make_activation

    act = activation if isinstance(activation, Activation) else make_activation(activation)
    lam = replicon_at(act.phi, sol.sigma_w2, sol.sigma_b2, sol.alpha[0], sol.T, sol.q,
                      order=order, zeta_points=zeta_points)
    return (lam, sol) if return_solution else lam
