"""Thermodynamic self-checks of a Parisi solution, and its best-estimate headline.

Every result that :func:`replicasolve.solvers.solve` returns has passed through
:func:`apply_self_check`: a result that fails one of the identities below is not
``converged`` (the message says which identity failed and by how much).

Identities (per spin, energy units):

- order: 0 ≤ q_0 ≤ … ≤ q_k ≤ 1; at T > 0, 0 ≤ m_1 ≤ … ≤ m_k ≤ 1; at T = 0, 0 ≤ γ_1 ≤ … ≤ γ_k.
- thermodynamics: e = ∂(βf)/∂β. By the envelope theorem the derivative may be taken at
  fixed order parameters (the Parisi functional is stationary in them, and its constraint
  set does not depend on β), so it is computed here by a Richardson-extrapolated central
  difference of the solver's own functional at β(1 ± ε), β(1 ± 2ε), independently of the
  closed-form energy formula the solver reports (Gaussian integration by parts).
  f = e − T s holds by the definition s = (e − f)/T and is checked for rounding only.
- entropy bounds: Ising spins count configurations, so 0 ≤ s ≤ ln 2 for the true
  (Parisi) measure; spherical entropy is minus a relative entropy, s ≤ 0. The upper bounds
  hold for every solution of every ansatz and are enforced. The lower bound s ≥ 0 is
  enforced for full-RSB results only: an RS or k-step solution with s < 0 (RS SK at low T;
  the paramagnet of a p-spin model below its entropy crisis, where the replicon is still
  positive) is a correct answer to the ansatz asked for, not the Gibbs measure; it is
  reported in ``checks["notes"]`` and in the message.
- annealed bound (full RSB only): the true f is at least the annealed -T ln E Z / N
  (Jensen); at T = 0 the Ising E_GS is at least the union bound -sqrt(2 ln 2 Δξ) - |h|.

Best estimate: a full-RSB result's headline ``free_energy`` (and ``energy``) is the k → ∞
extrapolation of its k-step values, with ``free_energy_error`` (``energy_error``) the
extrapolation's error; the per-k values stay in ``sequence`` (:func:`best_estimate`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .extrapolate import extrapolate_k
from .methods import Options
from .result import ParisiResult

__all__ = ["SelfCheck", "apply_self_check", "best_estimate", "check_result"]

# relative step of the finite difference in β: the Richardson error is ~ε⁴ f⁽⁵⁾ (1e-12 for
# ε = 1e-3) and the rounding error of the functional (~1e-15 relative) is amplified by
# 1/ε (1e-12): both far below the energy tolerance
_EPS = 1e-3
# ordering and box constraints hold to rounding (the optimisers project onto them)
_ORDER_TOL = 1e-12
# entropy bounds: s = β(e - f) loses |e|/T·1e-16 to cancellation; 1e-9 is far above that
# and far below any violation that signals a wrong functional (the dropped random field of
# an earlier version gave s = -0.77 with a stable replicon)
_ENTROPY_TOL = 1e-9


@dataclass(frozen=True)
class SelfCheck:
    """The outcome of :func:`check_result`.

    Attributes:
        passed: every enforced identity holds within its tolerance.
        failures: one line per failed identity (empty when ``passed``).
        notes: identities that do not hold but are not enforced (see the module doc).
        energy_fd: ∂(βf)/∂β at fixed order parameters (``nan`` at T = 0).
        energy_gap: |energy − energy_fd| (``nan`` at T = 0).
        energy_tol: the tolerance ``energy_gap`` is held to.
    """

    passed: bool
    failures: tuple[str, ...]
    notes: tuple[str, ...]
    energy_fd: float
    energy_gap: float
    energy_tol: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {"passed": self.passed, "failures": list(self.failures),
                "notes": list(self.notes), "energy_fd": num(self.energy_fd),
                "energy_gap": num(self.energy_gap), "energy_tol": num(self.energy_tol)}


def _annealed_bound(result: ParisiResult) -> float:
    """A lower bound on the true f (E_GS at T = 0) by Jensen, -T E ln Z <= -T ln E Z:
    Ising f >= -T ln 2 - β Δξ/2 - T ln cosh(βh), E_GS >= -sqrt(2 ln 2 Δξ) - |h| (union
    bound), spherical without a field f >= -β Δξ/2; Δξ = ξ(1) - ξ(0) (the variance of H/N at
    one configuration, random field included). ``nan`` where no bound is implemented."""
    m = result.model
    dxi = float(m.xi.xi1 - m.xi.xi0)
    h = abs(float(m.field))
    T = result.T
    if m.spins == "ising":
        if T == 0:
            return -math.sqrt(2.0 * math.log(2.0) * dxi) - h
        bh = h / T
        lncosh = bh + math.log1p(math.exp(-2.0 * bh)) - math.log(2.0)
        return -T * math.log(2.0) - dxi / (2.0 * T) - T * lncosh
    if h == 0 and T > 0:
        return -dxi / (2.0 * T)
    return math.nan


def _beta_f_fixed(result: ParisiResult, T: float, options: Options) -> float:
    """βf of the model at temperature ``T`` for the result's order parameters (q, m) held
    fixed, from the solver's own functional."""
    model = result.model.at(T=T)
    q = np.asarray(result.q, dtype=float)
    m = np.asarray(result.x, dtype=float)
    if model.spins == "ising":
        from .ising import IsingFunctional

        du = float(result.settings.get("grid_step_du", options.grid_step * result.T))
        # the same grid as the solve (scale = du / grid_step reproduces its spacing)
        fun = IsingFunctional(model, result.k, options, du / options.grid_step)
        g = fun.evaluate(q, m / T).value
        return (-T * math.log(2.0) - g) / T
    from .spherical import parisi_functional

    # zero-width steps and empty levels are admissible for the functional only when the
    # levels are positive: drop the empty (m = 0) steps, which carry no weight
    keep = m > 0
    if not np.all(keep):
        first = int(np.argmax(keep)) if np.any(keep) else m.size
        q = q[first:]
        m = m[first:]
    F, _ = parisi_functional(model, q, m)
    return -F / T


def _energy_fd(result: ParisiResult, options: Options) -> float:
    beta = 1.0 / result.T

    def g(b: float) -> float:
        return _beta_f_fixed(result, 1.0 / b, options)

    h = _EPS * beta
    d1 = (g(beta + h) - g(beta - h)) / (2 * h)
    d2 = (g(beta + 2 * h) - g(beta - 2 * h)) / (4 * h)
    return (4 * d1 - d2) / 3


def check_result(result: ParisiResult, options: Options | None = None) -> SelfCheck:
    """Check a k-step (or RS) Parisi solution against the identities of the module doc.

    For a full-RSB result the largest-k solution (the last of ``sequence``) is checked for
    e = ∂(βf)/∂β, and the headline values for the bounds.
    """
    opts = options if options is not None else Options()
    failures: list[str] = []
    notes: list[str] = []
    T = result.T
    ising = result.model.spins == "ising"
    top = result.sequence[-1] if result.sequence else result

    q = np.asarray(top.q, dtype=float)
    if q.size and (np.any(q < -_ORDER_TOL) or np.any(q > 1 + _ORDER_TOL)
                   or np.any(np.diff(q) < -_ORDER_TOL)):
        failures.append(f"q = {np.array2string(q, precision=6)} is not nondecreasing in [0, 1]")
    levels = np.asarray(top.x if T > 0 else top.gamma, dtype=float)
    hi = 1.0 if T > 0 else math.inf
    if levels.size and (np.any(levels < -_ORDER_TOL) or np.any(levels > hi + _ORDER_TOL)
                        or np.any(np.diff(levels) < -_ORDER_TOL)):
        name = "x" if T > 0 else "gamma"
        failures.append(f"{name} = {np.array2string(levels, precision=6)} is not "
                        f"nondecreasing{' in [0, 1]' if T > 0 else ' and >= 0'}")
    values = (result.free_energy, result.energy, result.entropy)
    if not all(math.isfinite(v) for v in values):
        failures.append(f"non-finite value (f, e, s) = {values}")

    if result.method == "FRSB" and not failures:
        bound = _annealed_bound(result)
        slack = 1e-9 + (abs(result.free_energy_error)
                        if math.isfinite(result.free_energy_error) else 0.0)
        if math.isfinite(bound) and result.free_energy < bound - slack:
            failures.append(f"{'f' if T > 0 else 'E_GS'} = {result.free_energy:.10g} is below "
                            f"the annealed (first-moment) bound {bound:.10g}")

    e_fd = gap = tol = math.nan
    if T > 0 and not failures:
        s = result.entropy
        stable = not (math.isfinite(result.replicon) and result.replicon < 0)
        ident = abs(result.free_energy - (result.energy - T * s))
        if ident > 1e-12 * max(1.0, abs(result.energy), abs(T * s)):
            failures.append(f"f != e - T s by {ident:.2e}")
        upper = math.log(2.0) if ising else 0.0
        if s > upper + _ENTROPY_TOL:
            failures.append(f"entropy {s:.10g} > {'ln 2' if ising else '0'}")
        if ising and s < -_ENTROPY_TOL:
            line = f"entropy {s:.6g} < 0"
            if result.method == "FRSB":
                # the Parisi measure is a Gibbs measure: its entropy is >= 0, up to the
                # extrapolation errors of f and e
                slack = _ENTROPY_TOL + (abs(result.free_energy_error)
                                        + abs(result.energy_error)) / T
                if s < -slack:
                    failures.append(line + " for the full-RSB solution")
            elif stable:
                notes.append(line + ": this ansatz is not the Gibbs measure here although "
                             "its replicon is >= 0 (a discontinuous transition lies above "
                             "this T: try more RSB steps)")
            else:
                notes.append(line + " (the ansatz is unstable: replicon < 0)")
        try:
            e_fd = _energy_fd(top, opts)
        except (ValueError, ArithmeticError) as exc:  # an inadmissible point is a failure too
            failures.append(f"energy check could not be evaluated: {exc}")
        else:
            gap = abs(top.energy - e_fd)
            # the reported energy uses stationarity in the order parameters; a residual r
            # of the projected gradient moves it by O(r · |∂²F/∂v∂β| · T) (measured: SK,
            # p-spin, random-field models all agree to < 1e-9 at r ~ 1e-9), so the
            # tolerance grows with the residual the solver accepted
            tol = 1e-7 * max(1.0, abs(top.energy)) + 100.0 * top.residual * max(1.0, 1.0 / T)
            if not gap <= tol:
                failures.append(f"energy {top.energy:.10g} != d(beta f)/d beta = {e_fd:.10g} "
                                f"(gap {gap:.2e} > {tol:.1e})")
    return SelfCheck(not failures, tuple(failures), tuple(notes), e_fd, gap, tol)


def best_estimate(result: ParisiResult) -> ParisiResult:
    """A full-RSB result with its headline values made the best estimates: ``free_energy``
    and ``energy`` the k → ∞ extrapolations of the k-step values (:func:`extrapolate_k`),
    ``entropy`` = (e − f)/T, with ``free_energy_error`` and ``energy_error``; q(x), the
    replicon and the magnetization stay those of the largest k. Other results unchanged."""
    if result.method != "FRSB" or not result.sequence or result.settings.get("headline"):
        return result
    seq = result.sequence
    ks = [r.k for r in seq]
    f_inf, f_err = result.extrapolated, result.extrapolation_error
    if len(seq) >= 3:
        e_inf, e_err, _ = extrapolate_k(ks, [r.energy for r in seq])
    else:
        e_inf, e_err = seq[-1].energy, math.nan
    T = result.T
    # every k-step value is the functional at an admissible order parameter, hence a lower
    # bound on f (f is the maximum over x; E_GS at T = 0 likewise): an extrapolation below
    # the best of them is wrong by at least the difference, and that value is the better
    # estimate (seen: SK at h = 0.3, T = 0.5, k = 14 lies 2.4e-9 above the extrapolation
    # of k = 2..12, whose own error estimate was 1.1e-9)
    best_k = max(r.free_energy for r in seq)
    if math.isfinite(f_inf) and best_k > f_inf:
        f_err = max(f_err, best_k - f_inf) if math.isfinite(f_err) else best_k - f_inf
        f_inf = best_k
    # an error bar of exactly 0 (all k-step values equal: the steps collapsed) would claim
    # more than the k-step values carry: each is exact only to its quadrature (~1e-13 Ising
    # grid, ~1e-15 spherical) plus the square of its stationarity residual
    floor = 1e-12 * max(1.0, abs(f_inf)) + max(r.residual for r in seq) ** 2
    if result.model.spins == "ising":
        # beyond k = 3 the Ising k-step problems have several stationary points within a few
        # 1e-9 of each other, and which one an optimiser ends on follows the last bits of
        # the BLAS kernels (measured at k = 6: 3.4e-9 between two ladders; an extrapolation
        # of k = 2..6 moved by 4.3e-10 between OpenBLAS kernels while claiming 1.8e-11)
        floor = max(floor, 5e-9 * max(1.0, abs(f_inf)))
    f_err = max(f_err, floor) if math.isfinite(f_err) else f_err
    # the energy is not variational: an order parameter off its optimum by δv (stationarity
    # residual r over a curvature of order T) moves e to first order, so each k-step energy
    # is uncertain by ~r/T (measured: k-step energies scatter about their trend by 1.5 r/T
    # for SK at h = 0.3, T = 0.5 and by 0.25 r/T for 0.5q² + 0.4q⁴ at T = 0.4, h = 0.1;
    # twice the larger is the floor)
    e_floor = floor + (3.0 * max(r.residual for r in seq) / T if T > 0 else 0.0)
    if T > 0 and len(seq) >= 3:
        # nearly degenerate optima that differ by ~1e-9 in f can differ by far more in e
        # (flat directions of the functional): the scatter of the last three k-step
        # energies is a floor (measured: a mixed model's energies moved by 1e-5 between
        # OpenBLAS kernels while the extrapolation claimed 7e-7)
        last = [r.energy for r in seq[-3:]]
        e_floor = max(e_floor, 0.5 * (max(last) - min(last)))
    e_err = max(e_err, e_floor) if math.isfinite(e_err) else e_err
    if not (math.isfinite(f_inf) and math.isfinite(e_inf)):
        return dataclasses.replace(
            result, settings={**result.settings, "headline": f"k = {seq[-1].k}"})
    if T > 0:
        s = (e_inf - f_inf) / T
    else:
        # the energy at T = 0 is the ground-state energy itself
        e_inf, e_err, s = f_inf, f_err, 0.0
    return dataclasses.replace(
        result, free_energy=f_inf, energy=e_inf, entropy=s, free_energy_error=f_err,
        energy_error=e_err,
        settings={**result.settings, "headline": "k -> inf extrapolation"})


def apply_self_check(result: ParisiResult, options: Options | None = None) -> ParisiResult:
    """``result`` with :func:`best_estimate` applied, its :class:`SelfCheck` in ``checks``,
    and ``converged=False`` (with the failures in ``message``) where the check fails."""
    result = best_estimate(result)
    chk = check_result(result, options)
    if chk.passed:
        message = result.message
        if chk.notes:
            note = "note: " + "; ".join(chk.notes)
            message = f"{note}; {message}" if message else note
        return dataclasses.replace(result, checks=chk.to_dict(), message=message)
    msg = "thermodynamic self-check failed: " + "; ".join(chk.failures)
    return dataclasses.replace(
        result, converged=False, checks=chk.to_dict(),
        message=f"{msg}; {result.message}" if result.message else msg)
