"""Ising models whose ξ has a linear term (a Gaussian random field of variance ξ'(0)), and the
thermodynamic self-check every solve passes.

The references here are independent of the solver's code: the RS formula and the 1RSB
functional are written out below from the Parisi formula for i.i.d. random fields
(Talagrand, Ann. Math. 163 (2006); Panchenko 2014): with field h + z sqrt(ξ'(0)),

    RS:   -βf = ln 2 + β²/2 (ξ(1) - ξ(q) - (1 - q) ξ'(q)) + E ln cosh(β(h + z sqrt(ξ'(q)))),
          q = E tanh²(β(h + z sqrt(ξ'(q)))),
    1RSB: -βf = ln 2 + (1/m) E_{z0} ln E_{z1} cosh^m(β(h + z0 σ0 + z1 σ1))
                + β²/2 [ξ'(1) - ξ'(q1) - m (θ(q1) - θ(q0)) - (θ(1) - θ(q1))],
          σ0² = ξ'(q0), σ1² = ξ'(q1) - ξ'(q0), θ(q) = q ξ'(q) - ξ(q),

and evaluated by the trapezoid rule on a fine grid (spectrally accurate: the integrands are
analytic in a strip of half-width ~ πT/(2σ)) or by adaptive quadrature.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import brentq, minimize

from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RSB, solve


def _poly(coeffs: dict[int, float]):
    def xi(q: float) -> float:
        return sum(c * q**p for p, c in coeffs.items())

    def dxi(q: float) -> float:
        return sum(p * c * q ** (p - 1) for p, c in coeffs.items())

    return xi, dxi


def _text(coeffs: dict[int, float]) -> str:
    return " + ".join(f"{c!r}*q**{p}" for p, c in sorted(coeffs.items()))


def _gauss(g) -> float:
    return quad(lambda z: math.exp(-0.5 * z * z) * g(z), -40, 40, limit=400, epsabs=1e-15,
                epsrel=1e-13)[0] / math.sqrt(2 * math.pi)


def _lncosh(x: float) -> float:
    ax = abs(x)
    return ax + math.log1p(math.exp(-2 * ax)) - math.log(2.0)


def rs_reference(coeffs: dict[int, float], T: float, h: float) -> tuple[float, float]:
    """(f, q) of the RS formula above, at its unique fixed point (asserted unique on a grid)."""
    xi, dxi = _poly(coeffs)
    b = 1.0 / T

    def gap(q: float) -> float:
        return _gauss(lambda z: math.tanh(b * (h + z * math.sqrt(dxi(q)))) ** 2) - q

    grid = np.linspace(1e-9, 1 - 1e-9, 41)
    vals = [gap(q) for q in grid]
    roots = [i for i in range(40) if vals[i] * vals[i + 1] <= 0]
    assert len(roots) == 1, "the test cases are chosen with a unique RS fixed point"
    q = brentq(gap, grid[roots[0]], grid[roots[0] + 1], xtol=1e-15, rtol=1e-15)
    mbf = (math.log(2) + 0.5 * b * b * (xi(1) - xi(q) - (1 - q) * dxi(q))
           + _gauss(lambda z: _lncosh(b * (h + z * math.sqrt(dxi(q))))))
    return -T * mbf, q


_Z = np.linspace(-12.0, 12.0, 1201)
_W = np.exp(-0.5 * _Z**2)
_W /= _W.sum()


def one_rsb_reference(coeffs: dict[int, float], T: float, h: float,
                      q0: float, q1: float, m: float) -> float:
    """f of the 1RSB functional above at (q0, q1, m), by the trapezoid rule (dz = 0.02)."""
    xi, dxi = _poly(coeffs)
    b = 1.0 / T
    s0 = math.sqrt(dxi(q0))
    s1 = math.sqrt(max(dxi(q1) - dxi(q0), 0.0))
    u = h + _Z[:, None] * s0 + _Z[None, :] * s1
    a = m * (np.abs(b * u) + np.log1p(np.exp(-2 * np.abs(b * u))) - math.log(2))
    amax = a.max(axis=1, keepdims=True)
    inner = amax[:, 0] + np.log((_W[None, :] * np.exp(a - amax)).sum(axis=1))
    outer = float((_W * inner).sum()) / m

    def theta(q: float) -> float:
        return q * dxi(q) - xi(q)

    pen = dxi(1) - dxi(q1) - m * (theta(q1) - theta(q0)) - (theta(1) - theta(q1))
    return -T * (math.log(2) + outer + 0.5 * b * b * pen)


# (coefficients, T, h): random-field models with their linear term; SK-like with a unique RS
# fixed point at these temperatures and fields
RS_CASES = [
    ({1: 1.0}, 0.5, 0.0),          # pure random field: independent spins, f = -T E ln 2cosh(βz)
    ({1: 1.0}, 0.3, 0.4),
    ({1: 1.0, 2: 0.5}, 0.5, 0.0),
    ({1: 0.2, 2: 0.5}, 1.2, 0.3),
    ({1: 0.1, 2: 0.3, 3: 0.2}, 0.8, 0.0),
    ({1: 0.5, 4: 0.4}, 0.6, 0.1),
    # fields below one grid step (0.2 T): the field stays off the grid
    ({2: 0.5}, 0.3, 1e-3),
    ({1: 0.2, 2: 0.5}, 0.8, 0.03),
    ({2: 0.5}, 1.5, 1e-4),
]


@pytest.mark.parametrize(("coeffs", "T", "h"), RS_CASES)
def test_rs_random_field_against_quadrature(coeffs, T, h):
    f_ref, q_ref = rs_reference(coeffs, T, h)
    r = solve(MixedPSpin(_text(coeffs), spins="ising", T=T, field=h), RSB(0))
    assert r.converged, r.message
    # the solver's grid quadrature is accurate to ~1e-13 (module doc of solvers.ising); f is
    # stationary in q, so a stationarity residual <= 1e-6 moves f by O(1e-12)
    assert r.free_energy == pytest.approx(f_ref, abs=1e-10)
    # q itself is only as good as the stationarity residual (1e-6) over the curvature
    assert float(r.q[0]) == pytest.approx(q_ref, abs=1e-6)
    # e = ∂(βf)/∂β of the reference, by a central difference of the reference itself
    d = 1e-4
    bf = [rs_reference(coeffs, 1 / (1 / T + s * d), h)[0] * (1 / T + s * d) for s in (-1, 1)]
    assert r.energy == pytest.approx((bf[1] - bf[0]) / (2 * d), abs=1e-6)


def test_pure_random_field_exact():
    """ξ = q at h = 0: N independent spins in N(0, 1) fields, f = -T E ln(2 cosh(z/T))
    (a one-dimensional integral, independent of any replica machinery)."""
    T = 0.5
    exact = -T * (math.log(2) + _gauss(lambda z: _lncosh(z / T)))
    exact_e = -_gauss(lambda z: z * math.tanh(z / T))
    for method in (RSB(0), RSB(2)):
        r = solve(MixedPSpin("q", spins="ising", T=T), method)
        assert r.converged
        assert r.free_energy == pytest.approx(exact, abs=1e-10)  # -0.8749033734
        assert r.energy == pytest.approx(exact_e, abs=1e-8)
        assert 0 < r.entropy < math.log(2)


def test_one_rsb_random_field_below_at_line():
    """ξ = 0.3 q + q²/2 at T = 0.3: RS is AT-unstable; the solver's 1RSB optimum agrees with
    the independent 1RSB functional, no nearby point does better, and more steps help."""
    coeffs = {1: 0.3, 2: 0.5}
    model = MixedPSpin(_text(coeffs), spins="ising", T=0.3)
    rs = solve(model, RSB(0))
    assert rs.replicon < 0  # below the AT line
    r1 = solve(model, RSB(1))
    assert r1.converged, r1.message
    q0, q1 = (float(v) for v in r1.q)
    m = float(r1.x[0])
    assert 0 < q0 < q1 < 1 and 0 < m < 1
    # the independent functional at the solver's point: the trapezoid rule at dz = 0.02 is
    # exact to ~1e-13 here (strip half-width πT/(2σ) ≈ 0.5), the solver to ~1e-12
    assert one_rsb_reference(coeffs, 0.3, 0.0, q0, q1, m) == pytest.approx(r1.free_energy,
                                                                             abs=1e-9)

    # f is maximal over the order parameter: a local search of the independent functional
    # from the solver's point finds nothing higher (beyond its own accuracy)
    def neg(v):
        a, b, c = v
        if not (0 <= a <= b < 1 and 0 < c <= 1):
            return 1e3
        return -one_rsb_reference(coeffs, 0.3, 0.0, a, b, c)

    best = minimize(neg, [q0, q1, m], method="Nelder-Mead",
                    options={"xatol": 1e-7, "fatol": 1e-13, "initial_simplex": np.array(
                        [[q0, q1, m], [q0 + 0.02, q1, m], [q0, q1 + 0.01, m],
                         [q0, q1, m - 0.03]])})
    assert -best.fun <= r1.free_energy + 1e-9
    # nested families: f(RS) < f(1RSB) <= f(2RSB), with a genuine gain below the AT line
    r2 = solve(model, RSB(2))
    assert r2.converged
    assert r1.free_energy - rs.free_energy > 1e-5
    assert r2.free_energy >= r1.free_energy - 1e-11


def test_tiny_random_field_recovers_sk_paramagnet():
    """ξ = 1e-12 q + q²/2 at T = 1.5: the random field shifts f by ~ξ'(0)/(2T) ≈ 3e-13, so f
    is SK's exact paramagnetic value -T ln 2 - 1/(4T) (T >= 1)."""
    T = 1.5
    r = solve(MixedPSpin("1e-12*q + q**2/2", spins="ising", T=T), RSB(0))
    assert r.free_energy == pytest.approx(-T * math.log(2) - 1 / (4 * T), abs=1e-10)


def test_high_temperature_entropy_limit():
    """s → ln 2 as T → ∞, with the exact leading term ln 2 - s = (E_0 H²/N)/(2T²) + O(T⁻⁴),
    E_0 H²/N = ξ(1) - ξ(0) + h² the energy variance under the uniform measure (the entropy
    deficit is ∫_0^β b Var_b(H)/N db)."""
    T = 100.0
    for xi, h in (("q + q**2/2", 0.0), ("q**2/2 + q**3", 0.5), ("0.5*q", 1.0)):
        m = MixedPSpin(xi, spins="ising", T=T, field=h)
        r = solve(m, RSB(0))
        assert r.converged
        var0 = m.xi.xi1 - m.xi.xi0 + h * h
        # the O(T⁻⁴) term is bounded by (var0 + 1)² / T⁴ for these small models (generous:
        # the next cumulant of a sum of bounded terms)
        assert math.log(2) - r.entropy == pytest.approx(var0 / (2 * T * T),
                                                        abs=(var0 + 1) ** 2 / T**4)
    # spherical spins, no field: the paramagnet f = -β Δξ/2 is exact at high T, so
    # s = -Δξ/(2T²) (entropy relative to the uniform measure on the sphere)
    for xi in ("q**2/2", "q**3 + 0.5*q**4"):
        m = MixedPSpin(xi, spins="spherical", T=T)
        r = solve(m, RSB(0))
        assert r.converged
        assert r.entropy == pytest.approx(-(m.xi.xi1 - m.xi.xi0) / (2 * T * T), abs=1e-14)


# ------------------------------------------------------------------ property-based self-check

@st.composite
def mixed_models(draw):
    powers = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3, unique=True))
    coeffs = {p: draw(st.floats(0.05, 1.0)) for p in powers}
    T = draw(st.floats(0.2, 2.0))
    h = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    return coeffs, T, h


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mixed_models(), st.sampled_from([0, 1]))
def test_self_check_property(case, k):
    """Every converged solution of a random mixed Ising model (powers 1..6, non-negative
    coefficients, fields, temperatures) satisfies its thermodynamic identities, and the
    solver converges on all of them."""
    coeffs, T, h = case
    r = solve(MixedPSpin(_text(coeffs), spins="ising", T=T, field=h), RSB(k))
    assert r.converged, r.message
    assert r.checks["passed"], r.checks
    assert r.entropy <= math.log(2) + 1e-9
    q = np.asarray(r.q)
    assert np.all(np.diff(q) >= -1e-12) and 0 <= q[0] and q[-1] <= 1
    if k == 0:
        # the RS functional at the solver's q, written independently above (equal at any q,
        # whatever the stationarity residual: ~1e-13 quadrature on both sides)
        xi, dxi = _poly(coeffs)
        b = 1 / T
        qq = float(q[0])
        mbf = (math.log(2) + 0.5 * b * b * (xi(1) - xi(qq) - (1 - qq) * dxi(qq))
               + _gauss(lambda z: _lncosh(b * (h + z * math.sqrt(dxi(qq))))))
        assert r.free_energy == pytest.approx(-T * mbf, abs=1e-10)


# ------------------------------------------------------------------ the AT line, default call

@pytest.mark.parametrize("h", [0.1, 0.5, 1.0, 2.0])
def test_at_temperature_default_call(h):
    """A default call succeeds wherever the line exists, and is the inverse of at_field (an
    independent root search in the other variable)."""
    from replicasolve.solvers.classify import at_field, at_temperature

    m = MixedPSpin("q**2/2", spins="ising", T=0.5, field=h)
    T_at = at_temperature(m)
    assert 0 < T_at < 1  # SK's AT line lies below T_c = 1 for h > 0
    # the replicon is accurate to ~1e-9 away from h = 0 (solver tolerance), and the line's
    # slope dh/dT is O(1) there, so the round trip closes to ~1e-8
    assert at_field(m.at(T=T_at)) == pytest.approx(h, abs=1e-7)


def test_at_temperature_refuses_without_line():
    """Spherical SK in a field is RS at every T (replicon 1 - β²(1 - q)² > 0): no AT line."""
    from replicasolve.errors import InvalidInputError
    from replicasolve.solvers.classify import at_temperature

    with pytest.raises(InvalidInputError, match="no AT crossing"):
        at_temperature(MixedPSpin("q**2/2", spins="spherical", T=0.5, field=0.3))


@pytest.mark.parametrize("method", [RSB(0), RSB(2), "full"])
def test_pure_random_field_ground_state(method):
    """ξ = q, h = 0.3 at T = 0: E_GS = -E|h + z| = -(2φ(h) + h(1 - 2Φ(-h))) exactly, for every
    ansatz (no order parameter enters)."""
    from scipy.special import ndtr

    h = 0.3
    exact = -(2 * math.exp(-h * h / 2) / math.sqrt(2 * math.pi) + h * (1 - 2 * ndtr(-h)))
    r = solve(MixedPSpin("q", spins="ising", T=0.0, field=h), method)
    assert r.converged
    assert r.free_energy == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("h", [1e-6, 0.01, 0.061])
def test_one_rsb_small_field_off_grid(h):
    """Fields below and just above the grid step (0.06 at T = 0.3): the 1RSB optimum agrees
    with the independent 1RSB functional at the solver's point (trapezoid, ~1e-13)."""
    coeffs = {1: 0.3, 2: 0.5}
    r1 = solve(MixedPSpin(_text(coeffs), spins="ising", T=0.3, field=h), RSB(1))
    assert r1.converged
    q0, q1 = (float(v) for v in r1.q)
    assert one_rsb_reference(coeffs, 0.3, h, q0, q1, float(r1.x[0])) == pytest.approx(
        r1.free_energy, abs=1e-11)


_Z3 = np.linspace(-11.0, 11.0, 221)  # dz = 0.1: strip half-width πT/(2σ) >= 0.6 here
_W3 = np.exp(-0.5 * _Z3**2)
_W3 /= _W3.sum()


def two_rsb_reference(coeffs: dict[int, float], T: float, h: float, q: np.ndarray,
                      m: np.ndarray) -> float:
    """f of the 2RSB Parisi functional (three nested Gaussian averages, written out with
    φ = βΨ: φ2(u) = ln cosh βu + β²(ξ'(1) - ξ'(q2))/2, φ_{i-1}(u) = (1/m_i) ln E e^{m_i
    φ_i(u + z σ_i)}), by the trapezoid rule (error ~exp(-2π·0.6/0.1))."""
    xi, dxi = _poly(coeffs)
    b = 1.0 / T
    q0, q1, q2 = (float(v) for v in q)
    m1, m2 = (float(v) for v in m)
    s0 = math.sqrt(dxi(q0))
    s1 = math.sqrt(max(dxi(q1) - dxi(q0), 0.0))
    s2 = math.sqrt(max(dxi(q2) - dxi(q1), 0.0))
    u = h + _Z3[:, None, None] * s0 + _Z3[None, :, None] * s1 + _Z3[None, None, :] * s2
    bu = np.abs(b * u)
    phi2 = bu + np.log1p(np.exp(-2 * bu)) - math.log(2) + 0.5 * b * b * (dxi(1) - dxi(q2))
    a = m2 * phi2
    amax = a.max(axis=2, keepdims=True)
    phi1 = (amax[..., 0] + np.log((_W3 * np.exp(a - amax)).sum(axis=2))) / m2
    a = m1 * phi1
    amax = a.max(axis=1, keepdims=True)
    phi0 = (amax[:, 0] + np.log((_W3 * np.exp(a - amax)).sum(axis=1))) / m1
    bottom = float((_W3 * phi0).sum())

    def theta(x: float) -> float:
        return x * dxi(x) - xi(x)

    pen = m1 * (theta(q1) - theta(q0)) + m2 * (theta(q2) - theta(q1)) + theta(1) - theta(q2)
    return -T * (math.log(2) + bottom - 0.5 * b * b * pen)


def test_unstable_one_rsb_top_is_broken_further():
    """0.5q² + 0.4q⁴ at T = 0.4, h = 0.1: the 1RSB solution's replicon at q_max is -0.117, so
    a 2RSB solution must do better. The better one has its new step just below q_max (the
    splits of the plateau or of the lower jump fall back onto 1RSB: an earlier ladder
    returned the 1RSB value for every k, 7.6e-6 too low, as 'converged'). Its value is
    checked with the independent 2RSB functional above."""
    coeffs = {2: 0.5, 4: 0.4}
    model = MixedPSpin(_text(coeffs), spins="ising", T=0.4, field=0.1)
    r1 = solve(model, RSB(1))
    r2 = solve(model, RSB(2))
    assert r1.replicon < -0.1 and r2.converged
    assert r2.free_energy - r1.free_energy > 5e-6
    assert two_rsb_reference(coeffs, 0.4, 0.1, r2.q, r2.x) == pytest.approx(r2.free_energy,
                                                                            abs=1e-9)
    # the 1RSB value itself, by the same route (its top step set to zero width)
    q1 = np.array([r1.q[0], r1.q[1], r1.q[1]])
    assert two_rsb_reference(coeffs, 0.4, 0.1, q1, np.array([r1.x[0], 0.5])) == \
        pytest.approx(r1.free_energy, abs=1e-9)
