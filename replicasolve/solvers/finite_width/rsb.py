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
It reduces to the RS functional of :mod:`replicasolve.solvers.finite_width.rs` when m = 1 or
q_1 = q_0, and to the Crisanti–Sommers 1RSB functional with ξ = σ_b² + σ_w² E[φφ](C) as
α → ∞. As for RS, -βf = inf over (q_0 ≤ q_1 < 1, 0 < m ≤ 1); a 1RSB optimum below the RS one
means RS is not the equilibrium state.

Two routes, kept independent on purpose:

- :func:`one_rsb_functional` evaluates Φ_1 by nested Gauss–Hermite rules in ζ, η_0, η_1
  and ε (``order`` nodes each). Its resolution is ~1e-6 in Φ at moderate λ (values move by
  ~3e-6 between orders 48 and 80 for sin at α = 4, T = 0.5), and slow at strong tilt; it is
  the reference evaluation that the tests use to check the optimum.
- :func:`finite_width_1rsb` is the k = 1 case of
  :func:`replicasolve.solvers.finite_width.krsb.finite_width_krsb` (grid quadrature for
  periodic or bounded φ, resolution ~1e-11; projected trust-region Newton with exact
  complex-step gradients), returned in this module's :class:`FiniteWidth1RSB`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InvalidInputError
from ...quadrature import gauss_hermite
from ...results import Result

__all__ = ["FiniteWidth1RSB", "finite_width_1rsb", "one_rsb_functional"]


@dataclass(frozen=True)
class FiniteWidth1RSB(Result):
    """Optimum of the depth-1 finite-width 1RSB functional (the library's result contract,
    :class:`~replicasolve.results.Result`).

    Attributes:
        phi: Φ_1 = -βf at the optimum; ``free_energy`` = -T Φ_1 (per input dimension).
        q0, q1, m: the 1RSB order parameters (q0 = q1 = q_rs, m = 1 when no 1RSB point lies
            below the RS optimum).
        phi_rs, q_rs: the RS optimum of the same functional (m = 1), same quadrature.
        gain: Φ_rs - Φ_1 ≥ 0 (how much 1RSB lowers the functional, in units of -βf).
        resolution: the change of ``gain`` when both optima are re-evaluated on a finer
            rule (a gain below it is not resolved; NaN without the check). Also readable as
            ``gain_resolution`` (its former name, a read-only alias).
        T: temperature (energy units of H/N).
        converged: ``finite_width_krsb``'s verdict: the RS minimisation and the 1RSB
            projected trust-region Newton run both ended with success (projected gradient
            below ``gtol``).
        message: how the optimisation ended.
    """

    phi: float
    free_energy: float
    q0: float
    q1: float
    m: float
    phi_rs: float
    q_rs: float
    gain: float
    resolution: float
    T: float
    converged: bool
    message: str

    @property
    def gain_resolution(self) -> float:
        """Read-only alias of :attr:`resolution` (the former field name)."""
        return self.resolution


def one_rsb_functional(phi_fn: Any, sigma_w2: float, sigma_b2: float, alpha: float, T: float,
                       q0: float, q1: float, m: float, order: int = 40) -> float:
    """Φ_1(q_0, q_1, m) of the module docstring (dimensionless, = -βf at the saddle), by
    nested ``order``-point Gauss–Hermite rules in ζ, η_0, η_1 and ε.

    ``phi_fn`` is a vectorised activation (numpy in, numpy out)."""
    if not (0 <= q0 <= q1 < 1 and 0 < m <= 1):
        raise InvalidInputError("need 0 <= q0 <= q1 < 1 and 0 < m <= 1")
    z, w = gauss_hermite(order)
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
                      T: float, order: int = 40, *, method: str = "auto",
                      grid_step: float = 2 * math.pi / 128, zeta_points: int = 6,
                      start: tuple[Any, Any] | None = None, n_starts: int = 8,
                      gtol: float = 1e-10, maxiter: int = 200, fd_step: float = 1e-4,
                      check_resolution: bool = True) -> FiniteWidth1RSB:
    """Minimise Φ_1 over (q_0 ≤ q_1 < 1, 0 < m ≤ 1) and, with the same quadrature, the RS
    functional (m = 1); report both and the gain.

    A thin wrapper: :func:`replicasolve.solvers.finite_width.krsb.finite_width_krsb` at k = 1
    (RS optimum, then every 1RSB insertion probed and the best one polished by projected
    trust-region Newton).

    Args:
        activation: name, formula in x, or an Activation.
        sigma_w2: weight variance σ_w² > 0.
        sigma_b2: bias variance σ_b² ≥ 0.
        alpha: width ratio α = N_1/N > 0 (finite).
        T: temperature > 0.
        order: Gauss–Hermite nodes where the nested Gauss–Hermite rule is used (``method``
            ``"hermite"``, or ``"auto"`` for an unbounded non-periodic φ), 4..200.
        method: ``"auto"``, ``"grid"`` or ``"hermite"`` (as ``finite_width_krsb``).
        grid_step: grid spacing in the field (``"grid"``; rounded to divide the period of a
            periodic φ; finer rule: half of it). Default 2π/128.
        zeta_points: Gauss–Legendre points per ζ panel (``"grid"``, 2..24; finer rule: 4
            more).
        start: a 1-step ``(q, m)`` = ((q_0, q_1), (m,)) tried as an extra start.
        n_starts: at most this many probes of 1RSB insertions (≥ 1).
        gtol: projected-gradient tolerance of the Newton runs (increment coordinates).
        maxiter: Newton iterations per run (≥ 1).
        fd_step: finite-difference step for non-analytic φ (increment coordinates).
        check_resolution: re-evaluate both optima on the finer rule (``resolution``; NaN
            without it).

    Returns:
        :class:`FiniteWidth1RSB`.

    Raises:
        InvalidInputError: bad parameters (as ``finite_width_krsb``).
        ConvergenceError: the quadrature failed.
    """
    from .krsb import finite_width_krsb

    r = finite_width_krsb(activation, sigma_w2, sigma_b2, alpha, T, 1, method=method,
                          order=order, grid_step=grid_step, zeta_points=zeta_points,
                          start=start, n_starts=n_starts, gtol=gtol, maxiter=maxiter,
                          fd_step=fd_step, check_resolution=check_resolution)
    (q0, q1), (m,) = (float(v) for v in r.q), (float(v) for v in r.m)
    return FiniteWidth1RSB(phi=r.phi, free_energy=r.free_energy, q0=q0, q1=q1, m=m,
                           phi_rs=r.phi_rs, q_rs=float(r.levels[0][0][0]), gain=r.gain,
                           converged=r.converged, message=r.message,
                           resolution=float(r.gain_resolution[0]), T=r.T)
