"""One-step RSB of a random MLP's input landscape at finite width, one hidden layer.

At depth 1 the conjugate of the layer overlap is fixed exactly, Ĝ_ab = β²σ_w²/α for all
a, b (derivations/finite_width_landscape.py), and a Hubbard–Stratonovich variable ζ (the
normalised read-out weight of a hidden unit, shared by the replicas) linearises the rest:

    n Φ_n(Q) = ½ ln det Q + α ln E_ζ E_{z ~ N(0, C(Q))} Π_a exp(λ ζ φ(z_a)),
    C = σ_b² + σ_w² Q,   λ = β σ_w / sqrt(α).

With the 1RSB matrix (q_0 between blocks, q_1 inside, block size m) the replica-specific
field splits as z_a = √c_0 η_0 + √(c_1 - c_0) η_1 + √(c_d - c_1) ε_a (c_j = σ_b² + σ_w² q_j,
c_d = σ_b² + σ_w²), and n → 0 gives

    Φ_1(q_0, q_1, m) = ½[ln(1 - q_1) + (1/m) ln(D_0/(1 - q_1)) + q_0/D_0]
                       + α E_{ζ, η_0} (1/m) ln E_{η_1} (E_ε e^{λ ζ φ(z)})^m,

D_0 = 1 - q_1 + m (q_1 - q_0) (the spherical entropy of the 1RSB matrix, Crisanti–Sommers).
It reduces to the RS functional of :mod:`replicasolve.models.finite_width` when m = 1 or
q_1 = q_0, and to the Crisanti–Sommers 1RSB functional with ξ = σ_b² + σ_w² E[φφ](C) as
α → ∞. As for RS, -βf = inf over (q_0 ≤ q_1 < 1, 0 < m ≤ 1); a 1RSB optimum below the RS one
means RS is not the equilibrium state.

Quadrature: Gauss–Hermite in ζ, η_0, η_1 and ε (``order`` nodes each), vectorised. Its
resolution is ~1e-6 in Φ at moderate λ (values move by ~3e-6 between orders 48 and 80 for sin
at α = 4, T = 0.5): a 1RSB ``gain`` below that is noise, not symmetry breaking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["FiniteWidth1RSB", "finite_width_1rsb", "one_rsb_functional"]


@dataclass(frozen=True)
class FiniteWidth1RSB:
    """Optimum of the depth-1 finite-width 1RSB functional.

    Attributes:
        phi: Φ_1 = -βf at the optimum; ``free_energy`` = -T Φ_1 (per input dimension).
        q0, q1, m: the 1RSB order parameters.
        phi_rs, q_rs: the RS optimum of the same functional (m = 1), same quadrature.
        gain: Φ_rs - Φ_1 ≥ 0 (how much 1RSB lowers the functional, in units of -βf).
        converged: optimiser success.
    """

    phi: float
    free_energy: float
    q0: float
    q1: float
    m: float
    phi_rs: float
    q_rs: float
    gain: float
    converged: bool
    message: str


def _gh(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite.hermgauss(n)
    return x * math.sqrt(2.0), w / w.sum()


def one_rsb_functional(phi_fn: Any, sigma_w2: float, sigma_b2: float, alpha: float, T: float,
                       q0: float, q1: float, m: float, order: int = 40) -> float:
    """Φ_1(q_0, q_1, m) of the module docstring (dimensionless, = -βf at the saddle).

    ``phi_fn`` is a vectorised activation (numpy in, numpy out)."""
    if not (0 <= q0 <= q1 < 1 and 0 < m <= 1):
        raise InvalidInputError("need 0 <= q0 <= q1 < 1 and 0 < m <= 1")
    z, w = _gh(order)
    lam = math.sqrt(sigma_w2) / (T * math.sqrt(alpha))
    c0 = sigma_b2 + sigma_w2 * q0
    c1 = sigma_b2 + sigma_w2 * q1
    cd = sigma_b2 + sigma_w2
    # axes: ζ, η0, η1, ε
    zz = z[:, None, None, None]
    field = (math.sqrt(c0) * z[None, :, None, None] + math.sqrt(c1 - c0) * z[None, None, :, None]
             + math.sqrt(cd - c1) * z[None, None, None, :])
    a = lam * zz * phi_fn(field)
    amax = a.max(axis=3, keepdims=True)
    inner = amax[..., 0] + np.log(np.tensordot(np.exp(a - amax), w, axes=([3], [0])))  # ln E_ε
    b = m * inner
    bmax = b.max(axis=2, keepdims=True)
    mid = (bmax[..., 0] + np.log(np.tensordot(np.exp(b - bmax), w, axes=([2], [0])))) / m
    layer = float(w @ (mid @ w))
    d0 = 1 - q1 + m * (q1 - q0)
    entropic = 0.5 * (math.log1p(-q1) + math.log(d0 / (1 - q1)) / m + q0 / d0)
    return entropic + alpha * layer


def finite_width_1rsb(activation: Any, sigma_w2: float, sigma_b2: float, alpha: float,
                      T: float, order: int = 40) -> FiniteWidth1RSB:
    """Minimise Φ_1 over (q_0 ≤ q_1 < 1, 0 < m ≤ 1) and, with the same quadrature, the RS
    functional (m = 1); report both and the gain. Nelder–Mead in box coordinates
    (q_1 = t_1, q_0 = t_0 t_1, m = s) from several starts (the 1RSB landscape is not
    convex in (q_0, q_1, m))."""
    from scipy.optimize import minimize, minimize_scalar

    from ..kernels.activation import activation as make_activation

    for name, v in (("sigma_w2", sigma_w2), ("alpha", alpha), ("T", T)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InvalidInputError(f"{name} must be finite and > 0, got {v!r}")
    if not (math.isfinite(sigma_b2) and sigma_b2 >= 0):
        raise InvalidInputError(f"sigma_b2 must be finite and >= 0, got {sigma_b2!r}")
    phi = make_activation(activation).phi

    def f1(p: np.ndarray) -> float:
        t0, t1, s = np.clip(p, [0.0, 0.0, 1e-3], [1.0, 0.999, 1.0])
        return one_rsb_functional(phi, sigma_w2, sigma_b2, alpha, T, t0 * t1, t1, s, order)

    rs = minimize_scalar(lambda q: one_rsb_functional(phi, sigma_w2, sigma_b2, alpha, T, q, q,
                                                      1.0, order),
                         bounds=(0.0, 0.999), method="bounded", options={"xatol": 1e-9})
    best = None
    for start in ([0.3, rs.x + 0.1, 0.5], [0.1, min(0.99, rs.x + 0.3), 0.3],
                  [0.8, rs.x, 0.8]):
        start = np.clip(start, [0.0, 0.0, 1e-3], [1.0, 0.99, 1.0])
        r = minimize(f1, start, method="Nelder-Mead",
                     options={"xatol": 1e-7, "fatol": 1e-11, "maxiter": 4000})
        if best is None or r.fun < best.fun:
            best = r
    t0, t1, s = np.clip(best.x, [0.0, 0.0, 1e-3], [1.0, 0.999, 1.0])
    phi1 = min(float(best.fun), float(rs.fun))
    return FiniteWidth1RSB(phi=phi1, free_energy=-T * phi1, q0=float(t0 * t1), q1=float(t1),
                           m=float(s), phi_rs=float(rs.fun), q_rs=float(rs.x),
                           gain=float(rs.fun) - phi1, converged=bool(best.success),
                           message=str(best.message))
