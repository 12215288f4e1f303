"""The Gaussian-limit random-MLP landscape answered: its Parisi solution, its RS / 1RSB /
FRSB character, its ground state, threshold energy and entropy S(E).

:class:`~replicasolve.models.landscape.RandomMLPLandscape` says what is asked (an
activation, a depth, the variances, a temperature); this module answers it with the
spherical Parisi solver, since at infinite width the landscape is the spherical mixed
p-spin model with ξ = K_{L+1} (Hanin & Winer, arXiv 2503.23982). Energies are per input
dimension (H/N); entropies are relative to the uniform probability measure on the sphere
(S ≤ 0, S = 0 at E = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..models.landscape import RandomMLPLandscape
from ..models.pspin import MixedPSpin, frsb_concavity
from ..results import Result
from .classify import classify_detail
from .parisi import solve_parisi
from .spherical import threshold_energy as spherical_threshold_energy

__all__ = ["LandscapeCharacter", "character", "entropy", "entropy_curve", "ground_state",
           "solve_landscape", "threshold_energy"]


@dataclass(frozen=True)
class LandscapeCharacter(Result):
    """RS / 1RSB / FRSB at one temperature, and the criterion that decided it.

    On the library's result contract: ``converged`` when every solve behind the verdict
    converged — the RS solve whose replicon is ``value`` (T > 0) and the RS, 1RSB and 2RSB
    solves of the classification (:func:`~replicasolve.solvers.classify.classify_detail`)
    that chose ``label``. At T = 0 on the RS side (ξ'(1) ≥ ξ''(1)) the verdict is a closed
    form of ξ with no solve behind it, and ``converged`` is True. The default (True) is for
    verdicts built by hand from such closed forms.

    Attributes:
        label: ``"RS"``, ``"1RSB"`` or ``"FRSB"``.
        criterion: the local test in words, with its value.
        value: the test's number (replicon at T > 0, ξ'(1) − ξ''(1) at T = 0).
        converged: the solves' verdict (above); message: what failed, if any.
    """

    label: str
    criterion: str
    value: float
    converged: bool = True
    message: str = ""


def _temperature(problem: RandomMLPLandscape | MixedPSpin, T: float | None) -> float:
    """``T``, or the problem's own temperature when it is None, checked: finite, >= 0."""
    if T is None:
        if problem.T is None:
            raise InvalidInputError(
                "no temperature: give T here or construct the landscape with T=...")
        T = problem.T
    if isinstance(T, bool) or not isinstance(T, (int, float, np.integer, np.floating)) \
            or T < 0 or not math.isfinite(T):
        raise InvalidInputError(f"temperature T must be finite and >= 0, got {T!r}")
    return float(T)


def _rs_ground_state(xi: Any) -> bool:
    # at T = 0 the RS ground state is stable while ξ''(1) ≤ ξ'(1) (Crisanti–Sommers; the
    # replicon of the RS ground state is ξ'(1) − ξ''(1) up to a positive factor)
    _, d1, d2, _ = xi.derivatives(np.array([1.0]))
    return bool(np.isfinite(d2[0]) and d2[0] <= d1[0])


def solve_landscape(landscape: RandomMLPLandscape, T: float | None = None,
                    method: Any = "auto", options: Any = None, progress: Any = None) -> Any:
    """The Parisi solution of the landscape at temperature T, a ``ParisiResult``.

    Args:
        landscape: the problem.
        T: temperature (energy units of H/N, ``>= 0``; 0 is the ground state); default the
            landscape's own ``T``.
        method: ``"auto"`` (default) uses the RS solution where it is locally stable
            (replicon ≥ 0 at T > 0, ξ''(1) ≤ ξ'(1) at T = 0) and full RSB otherwise; a
            discontinuous 1RSB transition with a locally stable RS solution is what
            :func:`character` catches, not this. Any method of
            :func:`replicasolve.solvers.parisi.solve_parisi` is passed through.
        options: solver options (``Options``).
        progress: a callback handed to the Parisi solver (once per k).

    Raises:
        InvalidInputError: no temperature, or a negative or non-finite one.
    """
    T = _temperature(landscape, T)
    model = landscape.model(T)
    if method != "auto":
        return solve_parisi(model, method, options, progress=progress)
    rs = solve_parisi(model, "rs", options)
    if T > 0 and rs.replicon >= 0:
        return rs
    if T == 0 and _rs_ground_state(landscape.xi):
        return rs
    return solve_parisi(model, "full", options, progress=progress)


def character(problem: RandomMLPLandscape | MixedPSpin, T: float | None = None,
              rs: Any = None) -> LandscapeCharacter:
    """RS, 1RSB or FRSB of a spherical problem at temperature T, with the criterion.

    The label is the classification of :func:`~replicasolve.solvers.classify.classify_detail`
    (RS vs 1RSB vs 2RSB optima of the Crisanti–Sommers functional, which also catches
    discontinuous transitions). The criterion reports the local test: at T > 0 the replicon
    1 − β² ξ''(q)(1 − q)² of the RS solution; at T = 0 ξ''(1) ≤ ξ'(1) (RS ground state);
    plus whether ξ''^{-1/2} is concave on (0, 1], the condition for full RSB at T = 0
    (Subag 2017; Chen & Sen 2017).

    Args:
        problem: a :class:`RandomMLPLandscape` or a spherical :class:`MixedPSpin` (its
            field must be 0).
        T: temperature ``>= 0``; default the problem's own ``T``.
        rs: the RS ``ParisiResult`` at T if already solved (saves one solve).

    Raises:
        InvalidInputError: an Ising model (use :func:`replicasolve.solvers.classify.phase`),
            a field, or a bad temperature.
    """
    if isinstance(problem, MixedPSpin):
        if problem.spins != "spherical" or problem.field != 0:
            raise InvalidInputError(
                "character() is for spherical models in zero field; for an Ising model "
                "use replicasolve.phase(model)")
        xi, model_at = problem.xi, (lambda t: problem.at(T=t))
    elif isinstance(problem, RandomMLPLandscape):
        xi, model_at = problem.xi, problem.model
    else:
        raise InvalidInputError(
            f"character() takes a RandomMLPLandscape or a spherical MixedPSpin, not a "
            f"{type(problem).__name__}")
    T = _temperature(problem, T)

    def classified(t: float) -> tuple[str, list[str]]:
        det = classify_detail(model_at(t))
        failed = [f"{name} solve: {getattr(r, 'message', '')}".rstrip(": ")
                  for name, r in (("RS", det.rs), ("1RSB", det.one), ("2RSB", det.two))
                  if r is not None and not r.converged]
        return det.label, failed

    _, d1, d2, _ = xi.derivatives(np.array([1.0]))
    concave = frsb_concavity(xi)
    tail = f"; xi''^(-1/2) {'is' if concave else 'is not'} concave on (0, 1]"
    if T == 0:
        margin = float(d1[0] - d2[0]) if np.isfinite(d2[0]) else -math.inf
        crit = f"xi'(1) - xi''(1) = {margin:.6g} at T = 0" + tail
        if margin >= 0:
            return LandscapeCharacter("RS", crit, margin)
        label, failed = classified(0.0)
        return LandscapeCharacter(label, crit, margin, not failed, "; ".join(failed))
    r = rs if rs is not None else solve_parisi(model_at(T), "rs")
    value = float(r.replicon)
    crit = f"RS replicon 1 - beta^2 xi''(q)(1-q)^2 = {value:.6g}" + tail
    label, failed = classified(T)
    if not r.converged:
        failed.insert(0, f"RS solve behind the replicon: {getattr(r, 'message', '')}")
    return LandscapeCharacter(label, crit, value, not failed, "; ".join(failed))


def ground_state(landscape: RandomMLPLandscape, options: Any = None,
                 progress: Any = None) -> Any:
    """The ground state: the ``ParisiResult`` at T = 0 (``.value`` is the energy per input
    dimension)."""
    return solve_landscape(landscape, 0.0, options=options, progress=progress)


def threshold_energy(landscape: RandomMLPLandscape) -> float:
    """Energy of the marginal states (replicon zero on the 1RSB complexity curve), per
    input dimension.

    Raises:
        InvalidInputError: where the notion does not apply: an RS ground state
            (ξ'(1) ≥ ξ''(1)), or a landscape that is not 1RSB-like (negative complexity of
            the marginal states, e.g. full RSB, where the ground state itself is marginal).
    """
    return spherical_threshold_energy(landscape.model(0.0))


def entropy_curve(landscape: RandomMLPLandscape, betas: Any,
                  options: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The curve (E(β), S(β)) for β in ``betas`` (1-D, finite, > 0), each of shape
    ``betas.shape``: S = Φ(β) + βE with E = e(β), the parametric form of S(E) on its lower
    branch (E ≤ 0); the upper branch is its mirror image S(−E) = S(E). One Parisi solution
    per β (RS where stable, else full RSB)."""
    b = np.asarray(betas, dtype=float)
    if b.ndim != 1 or np.any(~np.isfinite(b)) or np.any(b <= 0):
        raise InvalidInputError("betas must be a 1-D array of finite values > 0")
    energies = np.empty(b.size)
    entropies = np.empty(b.size)
    for i, beta in enumerate(b):
        r = solve_landscape(landscape, 1.0 / beta, options=options)
        energies[i] = r.energy
        entropies[i] = r.entropy
    return energies, entropies


def entropy(landscape: RandomMLPLandscape, E: float, options: Any = None,
            beta_max: float = 200.0, progress: Any = None) -> float:
    """S(E) = inf_β [Φ(β) + βE] with Φ(β) = −βf(β), the Legendre transform of the Parisi
    free energy, at energy E per input dimension.

    Both branches: Φ is even in β because −H has the law of H, so S(−E) = S(E).

    Raises:
        InvalidInputError: |E| outside the support (beyond the ground state), or an E that
            needs β > ``beta_max``.
    """
    from scipy.optimize import brentq

    e = float(E)
    if not math.isfinite(e):
        raise InvalidInputError(f"energy must be finite, got {E!r}")
    if e == 0:
        return 0.0
    target = -abs(e)
    e_gs = ground_state(landscape, options, progress=progress).value
    if target <= e_gs:
        raise InvalidInputError(
            f"energy {E:g} is outside the support of S(E): |E| must be < {-e_gs:.6g}")

    def energy_at(beta: float) -> float:
        return solve_landscape(landscape, 1.0 / beta, options=options).energy - target

    lo, hi = 1e-6, 1.0
    while energy_at(hi) > 0:
        lo, hi = hi, 2 * hi
        if hi > beta_max:
            raise InvalidInputError(
                f"energy {E:g} needs β > {beta_max:g}: too close to the ground state "
                f"{e_gs:.6g} for the positive-temperature solver")
    beta = brentq(energy_at, lo, hi, xtol=1e-12, rtol=1e-12)
    r = solve_landscape(landscape, 1.0 / beta, options=options)
    return float(-beta * r.free_energy + beta * target)
