"""Spherical mixed p-spin solver: closed forms, literature values, limits and identities.

Conventions: E H(σ)H(σ') = N ξ(R), |σ|² = N with the uniform probability measure (entropy 0
at T = ∞), energies per spin. Tolerances are stated next to each check, with where they come
from (solver residual, finite-difference error, or a measured finite-k / finite-T law).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from replicasolve.errors import InvalidInputError
from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RS, RSB, FullRSB, Options, solve
from replicasolve.solvers.spherical import (
    _Objective,
    _XiH,
    continuous_solution,
    parisi_functional,
    solve_spherical,
    subag_ground_state,
    threshold_energy,
)

# Pure 3-spin ground state (the exact T = 0 order parameter of a pure spherical p-spin is
# 1RSB; Auffinger–Ben Arous–Černý, CPAM 66 (2013) give E_0(3) = -1.657; the 12 digits below
# are the minimum of the two-variable 1RSB closed form, see test_pure_3_spin_ground_state_1rsb
# and derivations/spherical_parisi.py, where sympy solves its stationarity equations).
E_GS_P3 = -1.656998363527
# Subag / Chen–Sen full-RSB ground states, closed forms of -∫_0^1 sqrt(ξ'') dq:
XI_FRSB = "q**2/2 + q**4/48"  # ξ'' = 1 + q²/4: ξ''^(-1/2) concave, γ(q) = (q/4)(1 + q²/4)^(-3/2)
E_GS_FRSB = -(math.sqrt(5) / 4 + math.asinh(0.5))
XI_LOG = "((1 - q/2)*log(1 - q/2) + q/2)*4"  # ξ'' = 1/(1 - q/2): E = -4 (1 - 1/sqrt 2)
E_GS_LOG = -4 * (1 - 1 / math.sqrt(2))


def sph(xi: str, T: float, h: float = 0.0) -> MixedPSpin:
    return MixedPSpin(xi, spins="spherical", T=T, field=h)


# --------------------------------------------------------------------------------------
# The functional and its derivatives
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("xi", "T", "h", "k"), [
    ("q**2/2 + q**4/48", 0.3, 0.0, 3),
    ("q**3 + 0.5*q**5", 0.0, 0.4, 3),
    ("q**3", 0.05, 0.3, 2),
    ("q**2/2", 0.0, 0.0, 0),
    ("q**3", 0.7, 0.0, 0),
])
def test_gradient_matches_finite_differences(xi: str, T: float, h: float, k: int,
                                             rng: np.random.Generator) -> None:
    model = sph(xi, T, h)
    q = np.sort(rng.uniform(0.05, 0.9, k + 1 if T > 0 else k))
    lev = np.sort(rng.uniform(0.1, 0.9, k)) * (1.0 if T > 0 else 2.0)
    L = 0.7 if T == 0 else None
    v = np.concatenate([q, lev] + ([[L]] if L is not None else []))

    def value(w: np.ndarray) -> float:
        n = q.size
        return parisi_functional(model, w[:n], w[n:n + k], w[-1] if L is not None else None)[0]

    _, grad = parisi_functional(model, q, lev, L)
    step = 1e-6
    fd = np.array([(value(v + step * e) - value(v - step * e)) / (2 * step)
                   for e in np.eye(v.size)])
    # central differences: truncation ~ step² |F'''| ~ 1e-11, rounding ~ 1e-16 / step
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("xi", "T", "h", "k"), [
    ("q**2/2 + q**4/48", 0.3, 0.1, 3), ("q**3 + 0.5*q**5", 0.0, 0.4, 3), ("q**3", 0.02, 0.0, 2),
])
def test_analytic_hessian_matches_finite_differences(xi: str, T: float, h: float, k: int,
                                                     rng: np.random.Generator) -> None:
    # the projected Newton optimiser relies on this Hessian (box coordinates)
    model = sph(xi, T, h)
    obj = _Objective(_XiH(model.xi, h), T, k)
    z = rng.uniform(0.05, 0.6, obj.lower.size)
    _, g, H = obj.fgh(z)
    step = 1e-6
    fd = np.column_stack([(obj.fg(z + step * e)[1] - obj.fg(z - step * e)[1]) / (2 * step)
                          for e in np.eye(z.size)])
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
    gfd = np.array([(obj.fg(z + step * e)[0] - obj.fg(z - step * e)[0]) / (2 * step)
                    for e in np.eye(z.size)])
    np.testing.assert_allclose(g, gfd, rtol=1e-6, atol=1e-8)


def test_rs_functional_is_crisanti_sommers_closed_form() -> None:
    # RS: T P = (T/2)[β²(ξ(1) - ξ(q)) + q/(1-q) + ln(1-q)] (Crisanti–Sommers 1992)
    model = sph("q**3 + 0.2*q**2", 0.6)
    for q in (0.0, 0.3, 0.8):
        beta = 1 / 0.6
        xi = lambda s: s**3 + 0.2 * s**2  # noqa: E731
        want = 0.6 / 2 * (beta**2 * (xi(1) - xi(q)) + q / (1 - q) + math.log1p(-q))
        assert parisi_functional(model, [q], [])[0] == pytest.approx(want, rel=1e-14)


# --------------------------------------------------------------------------------------
# Spherical SK, ξ = q²/2: replica symmetric at every T (Crisanti–Sommers 1992)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("T", [1.0001, 1.5, 2.0, 5.0])
def test_sk_paramagnet_above_tc(T: float) -> None:
    r = solve(sph("q**2/2", T), RS())
    beta = 1 / T
    assert r.converged
    assert r.q.tolist() == [0.0]
    # exact: f = -β(ξ(1) - ξ(0))/2, e = -β(ξ(1) - ξ(0)), s = -β²/4
    assert r.free_energy == pytest.approx(-beta / 4, abs=1e-12)
    assert r.energy == pytest.approx(-beta / 2, abs=1e-12)
    assert r.entropy == pytest.approx(-beta**2 / 4, abs=1e-12)


@pytest.mark.parametrize("T", [0.2, 0.5, 0.9])
def test_sk_low_temperature_closed_form(T: float) -> None:
    # saddle β² q = q/(1-q)²: q = 1 - T, and then T P = 1 - 3T/4 + (T/2) ln T, i.e.
    # f = -1 + 3T/4 - (T/2) ln T, e = -1 + T/2, s = -1/4 + (1/2) ln T, replicon 0 (marginal)
    r = solve(sph("q**2/2", T), RS())
    assert r.converged
    # the residual (<= 1e-10 after polishing) moves q by residual/curvature ~ 1e-10
    assert r.q[0] == pytest.approx(1 - T, abs=1e-9)
    assert r.free_energy == pytest.approx(-1 + 0.75 * T - 0.5 * T * math.log(T), abs=1e-10)
    assert r.energy == pytest.approx(-1 + T / 2, abs=1e-9)
    assert r.entropy == pytest.approx(-0.25 + 0.5 * math.log(T), abs=1e-8)
    assert r.replicon == pytest.approx(0.0, abs=1e-8)
    # RSB cannot lower it: 2RSB = RS
    assert solve(sph("q**2/2", T), RSB(2)).free_energy == pytest.approx(r.free_energy, abs=1e-12)


def test_sk_ground_state_is_rs_minus_one() -> None:
    # E_GS = -sqrt(ξ'(1)) = -1, L = 1/sqrt(ξ'(1)) = 1, replicon 1 - ξ''(1) L² = 0
    r = solve(sph("q**2/2", 0.0), RS())
    assert r.free_energy == -1.0 and r.energy == -1.0 and r.entropy == 0.0
    assert r.L == pytest.approx(1.0, abs=1e-14)
    assert r.replicon == pytest.approx(0.0, abs=1e-14)
    r2 = solve(sph("q**2/2", 0.0), RSB(2))
    assert r2.free_energy == pytest.approx(-1.0, abs=1e-12)
    assert r2.q[-1] == 1.0 and r2.gamma.size == 2 and np.all(r2.x == 0)


# --------------------------------------------------------------------------------------
# Pure p-spin: 1RSB ground state and threshold
# --------------------------------------------------------------------------------------


def test_pure_3_spin_ground_state_1rsb() -> None:
    r1 = solve(sph("q**3", 0.0), RSB(1))
    assert r1.converged
    # independent: q_0 = 0 and P = 1/2[γ + 3L + (1/γ) ln(1 + γ/L)], minimised directly
    res = optimize.minimize(
        lambda p: 0.5 * (math.exp(p[0]) + 3 * math.exp(p[1])
                         + math.log1p(math.exp(p[0] - p[1])) / math.exp(p[0])),
        [0.0, -1.0], method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 10000})
    assert r1.free_energy == pytest.approx(-res.fun, abs=1e-10)
    assert r1.free_energy == pytest.approx(E_GS_P3, abs=1e-12)
    assert abs(r1.free_energy - (-1.657)) < 5e-4  # Auffinger–Ben Arous–Černý, 4 digits
    assert r1.q[0] == 0.0 and r1.q[-1] == 1.0
    assert r1.gamma[0] == pytest.approx(math.exp(res.x[0]), rel=1e-6)
    assert r1.L == pytest.approx(math.exp(res.x[1]), rel=1e-6)
    assert r1.replicon > 0  # stable 1RSB
    # RS is -sqrt(ξ'(1)) = -sqrt 3 and unstable
    r0 = solve(sph("q**3", 0.0), RS())
    assert r0.free_energy == pytest.approx(-math.sqrt(3), abs=1e-14)
    assert r0.replicon < 0
    # pure spherical p-spin is exactly 1RSB at T = 0: a second step must not move E
    r2 = solve(sph("q**3", 0.0), RSB(2))
    assert r2.converged
    assert abs(r2.free_energy - r1.free_energy) < 1e-8
    # and the solver certifies it: no single-step insertion lowers the (convex) functional
    assert "optimal among all order parameters" in r2.message


@pytest.mark.parametrize("p", [3, 4])
def test_pure_p_threshold_energy(p: int) -> None:
    # -2 sqrt((p-1)/p): Auffinger–Ben Arous–Černý (2013); Crisanti–Sommers, J. Phys. I 5 (1995)
    assert threshold_energy(f"q**{p}") == pytest.approx(-2 * math.sqrt((p - 1) / p), abs=1e-10)


def test_threshold_above_ground_state() -> None:
    for xi in ("q**3", "q**3 + 0.1*q**2", "q**3 + q**4"):
        e_gs = solve(sph(xi, 0.0), RSB(2)).free_energy
        assert threshold_energy(xi) > e_gs + 1e-3
    # with a field (ξ_h = ξ + h² q)
    m = sph("q**3", 0.0, 0.3)
    assert threshold_energy(m) > solve(m, RSB(2)).free_energy + 1e-3
    # spherical SK: the ground state is itself marginal, E_th = E_GS = -1
    assert threshold_energy("q**2/2") == pytest.approx(-1.0, abs=1e-12)


def test_threshold_rejects_rs_stable_and_full_rsb() -> None:
    with pytest.raises(InvalidInputError, match="RS ground state is stable"):
        threshold_energy(sph("q**2/2", 0.0, 0.3))
    with pytest.raises(InvalidInputError, match="not 1RSB-like"):
        threshold_energy(XI_FRSB)


def test_pure_p_paramagnet_and_constant_term() -> None:
    # above the static transition RS q = 0 is exact: f = -β(ξ(1) - ξ(0))/2; the constant
    # ξ(0) is a random global shift and must not enter
    for xi in ("q**3", "0.7 + q**3"):
        r = solve(sph(xi, 2.0), RSB(2))
        assert r.free_energy == pytest.approx(-0.5 / 2, abs=1e-12)
        assert r.entropy == pytest.approx(-0.25 / 2, abs=1e-12)


# --------------------------------------------------------------------------------------
# Thermodynamic identities
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("xi", "T", "h", "k"), [
    ("q**3", 0.4, 0.0, 1),
    ("q**2/2 + q**4/48", 0.3, 0.2, 3),
    ("q**3 + 0.5*q**2", 0.5, 0.3, 2),
])
def test_energy_and_magnetization_are_derivatives(xi: str, T: float, h: float, k: int) -> None:
    r = solve(sph(xi, T, h), RSB(k))
    assert r.converged

    def beta_f(beta: float) -> float:
        return solve(sph(xi, 1 / beta, h), RSB(k)).free_energy * beta

    beta, db = 1 / T, 1e-4
    de = (beta_f(beta + db) - beta_f(beta - db)) / (2 * db)
    # e = d(βf)/dβ; central difference error ~ db² (βf)''' ~ 1e-8, solver noise 1e-13/db
    assert r.energy == pytest.approx(de, abs=1e-8)
    dh = 1e-5
    dm = -(solve(sph(xi, T, h + dh), RSB(k)).free_energy
           - solve(sph(xi, T, h - dh), RSB(k)).free_energy) / (2 * dh)
    assert r.magnetization == pytest.approx(dm, abs=1e-8)
    assert r.entropy == pytest.approx((r.energy - r.free_energy) / T, rel=1e-14)


def test_entropy_is_nonpositive_and_vanishes_at_high_t() -> None:
    for xi, T, k in [("q**3", 0.3, 1), (XI_FRSB, 0.4, 3), ("q**2/2", 0.5, 0), ("q**3", 5.0, 1)]:
        assert solve(sph(xi, T), RSB(k)).entropy < 0
    # s = -β² (ξ(1) - ξ(0))/2 in the paramagnet
    s = [solve(sph("q**3", T), RS()).entropy for T in (10.0, 100.0, 1000.0)]
    np.testing.assert_allclose(s, [-0.5e-2, -0.5e-4, -0.5e-6], rtol=1e-12)


@pytest.mark.parametrize("h", [0.0, 0.5, 1.3])
def test_rs_ground_state_in_a_field(h: float) -> None:
    # E = -sqrt(ξ'(1) + h²), m = h L = h / sqrt(ξ'(1) + h²)
    r = solve(sph("q**3 + 0.5*q**2", 0.0, h), RS())
    assert r.free_energy == pytest.approx(-math.sqrt(4 + h * h), abs=1e-14)
    assert r.magnetization == pytest.approx(h / math.sqrt(4 + h * h), abs=1e-14)


# --------------------------------------------------------------------------------------
# T -> 0 meets T = 0
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("xi", "k"), [("q**3", 1), (XI_FRSB, 3)])
def test_low_temperature_limit_meets_ground_state(xi: str, k: int) -> None:
    r0 = solve(sph(xi, 0.0), RSB(k))
    temps = (1e-2, 3e-3, 1e-3)
    rs = [solve(sph(xi, T), RSB(k)) for T in temps]
    assert all(r.converged for r in rs)
    # measured: e(T) = E_GS + T/2 + c T² with c = 0.033 (p = 3) and 0.030 (2+4): the T/2 is
    # equipartition over the N - 1 harmonic modes on the sphere; 0.05 T² bounds the rest
    for T, r in zip(temps, rs, strict=True):
        assert abs(r.energy - T / 2 - r0.energy) <= 0.05 * T**2
        # order parameters: β m_i -> γ_i and β(1 - q_k) -> L with O(T) corrections
        # (measured slopes below 0.35)
        np.testing.assert_allclose(r.gamma, r0.gamma, atol=0.5 * T)
        assert (1 - r.q[-1]) / T == pytest.approx(r0.L, abs=0.5 * T)
    # s(T) = (1/2) ln T + s_0 + O(T), so f = E_GS + T/2 - (T/2) ln T - s_0 T + O(T²)
    s0 = [r.entropy - 0.5 * math.log(T) for T, r in zip(temps, rs, strict=True)]
    assert abs(s0[0] - s0[2]) < 0.1 * (temps[0] - temps[2]) and abs(s0[1] - s0[2]) < 2e-3


# --------------------------------------------------------------------------------------
# Full RSB: k-step sequence, extrapolation, continuous solution, Subag's formula
# --------------------------------------------------------------------------------------


def test_subag_formula_closed_forms() -> None:
    assert subag_ground_state(XI_FRSB) == pytest.approx(E_GS_FRSB, abs=1e-13)
    assert subag_ground_state(XI_LOG) == pytest.approx(E_GS_LOG, abs=1e-13)
    for bad in ("q**3", "q**2/2 + q**4", "0.1*q + q**2/2"):
        with pytest.raises(InvalidInputError):
            subag_ground_state(bad)


def test_frsb_ground_state_converges_to_subag() -> None:
    r = solve(sph(XI_FRSB, 0.0), FullRSB())
    assert r.converged, r.message
    ks = [s.k for s in r.sequence]
    e = np.array([s.free_energy for s in r.sequence])
    # each k-step family contains the previous one: E_k increases to E_GS from below
    assert np.all(np.diff(e) > 0) and np.all(e < E_GS_FRSB)
    gap = E_GS_FRSB - e
    # measured: E_GS - E_k ~ k^-p with p ~ 3.8-4 (a step function misses a smooth γ by
    # O(1/k) pointwise, and the functional is quadratic, with a smoothing kernel, in that
    # error); k = 12 is within 1e-9
    p = -np.polyfit(np.log(ks[-4:]), np.log(gap[-4:]), 1)[0]
    assert 3.0 < p < 5.0
    assert gap[-1] < 2e-9
    # the extrapolation hits the exact value within its own error estimate
    assert abs(r.extrapolated - E_GS_FRSB) <= r.extrapolation_error + 1e-12
    assert r.extrapolation_error < 1e-9
    assert r.value == r.extrapolated
    # the continuous solution is an independent route to the same number
    assert r.settings["continuous_value"] == pytest.approx(E_GS_FRSB, abs=1e-12)
    c = continuous_solution(sph(XI_FRSB, 0.0))
    np.testing.assert_allclose(c.x, c.q / 4 * (1 + c.q**2 / 4) ** -1.5, rtol=1e-12)
    assert c.L == pytest.approx(1 / math.sqrt(1.25), rel=1e-14)
    # the k-step γ follows the continuous γ(q) = (q/4)(1 + q²/4)^(-3/2) to O(1/k)
    mid = 0.5 * (r.q[:-1] + r.q[1:])
    np.testing.assert_allclose(r.gamma, mid / 4 * (1 + mid**2 / 4) ** -1.5, atol=0.02)


@pytest.mark.parametrize(("xi", "T", "h"), [(XI_FRSB, 0.3, 0.0), (XI_LOG, 0.3, 0.0),
                                            (XI_LOG, 0.0, 0.0), (XI_FRSB, 0.3, 0.1)])
def test_frsb_extrapolation_meets_continuous_solution(xi: str, T: float, h: float) -> None:
    r = solve(sph(xi, T, h), FullRSB(ks=(4, 6, 8, 10, 12)))
    assert r.converged, r.message
    cont = r.settings["continuous_value"]
    assert math.isfinite(cont)
    assert abs(r.extrapolated - cont) <= r.extrapolation_error + 1e-12
    # the bar above is the code's own: cap it independently, so that the agreement is not
    # bought with a wide error (k = 12 values sit within ~1e-8 of the limit here, the fit's
    # error is below that)
    assert r.extrapolation_error < 1e-7
    # the headline is the extrapolation, with its error
    assert r.free_energy == r.extrapolated and r.free_energy_error >= r.extrapolation_error
    if T == 0 and h == 0:
        assert cont == pytest.approx(E_GS_LOG, abs=1e-12)


def test_log_example_is_one_step_not_full_rsb() -> None:
    # ξ = -(1/b²) ln(1 - bq) - q/b, b = 1/2: ξ'' = (1 - bq)^-2, so ξ''^(-1/2) = 1 - bq is
    # *linear* and γ(q) = ξ'''/(2 ξ''^(3/2)) = b is constant: the T = 0 order parameter is a
    # single step (γ = b on [0, 1), L = 1 - b), already exact at k = 1; E = ln(1 - b)/b
    xi = "-log(1 - q/2)*4 - 2*q"
    r1 = solve(sph(xi, 0.0), RSB(1))
    assert r1.free_energy == pytest.approx(math.log(0.5) / 0.5, abs=1e-12)
    assert r1.gamma[0] == pytest.approx(0.5, abs=1e-8) and r1.L == pytest.approx(0.5, abs=1e-8)
    # φ vanishes identically on the support here, so q_0 is only pinned at second order
    assert r1.q[0] == pytest.approx(0.0, abs=1e-6)
    assert subag_ground_state(xi) == pytest.approx(math.log(0.5) / 0.5, abs=1e-13)
    r = solve(sph(xi, 0.0), FullRSB(ks=(1, 2, 3)))
    assert r.converged and r.extrapolated == pytest.approx(r1.free_energy, abs=1e-12)
    # at T > 0 too: x = T b on [0, q_1), q_1 = (1 - T)/(1 - T b)
    T = 0.3
    rt = solve(sph(xi, T), RSB(1))
    assert rt.x[0] == pytest.approx(T * 0.5, abs=1e-8)
    assert rt.q[-1] == pytest.approx((1 - T) / (1 - T * 0.5), abs=1e-8)
    assert rt.free_energy == pytest.approx(continuous_solution(sph(xi, T)).value, abs=1e-12)


def test_continuous_solution_not_available_is_reported() -> None:
    with pytest.raises(InvalidInputError):
        continuous_solution(sph("q**3", 0.0))  # ξ''(0) = 0
    with pytest.raises(InvalidInputError):
        continuous_solution(sph(XI_FRSB, 1.5))  # T above sqrt(ξ''(0))
    r = solve(sph("q**3", 0.0), FullRSB(ks=(1, 2, 3)))
    assert r.converged
    assert r.settings["continuous"].startswith("not available")
    assert r.extrapolated == pytest.approx(E_GS_P3, abs=1e-10)


# --------------------------------------------------------------------------------------
# Results, failures, bad input
# --------------------------------------------------------------------------------------


def test_result_layout() -> None:
    r = solve(sph("q**3", 0.5), RSB(2))
    assert r.q.size == 3 and r.x.size == 2 and math.isnan(r.L)
    np.testing.assert_allclose(r.gamma, r.x / 0.5)
    r0 = solve(sph("q**3", 0.0), RSB(2))
    assert r0.q.size == 3 and r0.q[-1] == 1.0 and r0.gamma.size == 2
    assert np.all(r0.x == 0) and math.isfinite(r0.L)
    assert r0.x_of_q(np.array([0.5]))[0] == pytest.approx(r0.gamma[-1])
    d = r0.to_dict()
    assert d["L"] == pytest.approx(r0.L) and d["spins"] == "spherical"


def test_iteration_limit_gives_unconverged_result() -> None:
    r = solve(sph("q**3", 0.3), RSB(2), Options(maxiter=1))
    assert not r.converged
    assert "iteration limit" in r.message
    rf = solve(sph(XI_FRSB, 0.0), FullRSB(ks=(2, 3, 4)), {"maxiter": 1})
    assert not rf.converged and "iteration limit" in rf.message


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="spherical"):
        solve_spherical(MixedPSpin("q**2/2", spins="ising", T=1.0), RSB(1), Options())
    with pytest.raises(InvalidInputError):
        solve_spherical(sph("q**2/2", 1.0), "1rsb", Options())
    with pytest.raises(InvalidInputError):
        RSB(-1)
    with pytest.raises(InvalidInputError):
        sph("q**2/2", -1.0)
    with pytest.raises(InvalidInputError, match="nondecreasing"):
        parisi_functional(sph("q**3", 0.5), [0.5, 0.2], [0.3])
    with pytest.raises(InvalidInputError, match="L > 0"):
        parisi_functional(sph("q**3", 0.0), [0.5], [0.3])


def test_derivation_script_passes():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "derivations" / "spherical_parisi.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
