"""Ising Parisi solver: golden values, independent quadrature, gradients, thermodynamics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

from replicasolve.errors import InvalidInputError
from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RSB, FullRSB, Options, solve
from replicasolve.solvers.classify import at_field, rs_replicon
from replicasolve.solvers.ising import IsingFunctional

SK = "q**2/2"


def _gauss(fun, lim=12.0):
    """E_z fun(z), z ~ N(0, 1), by adaptive quadrature (independent of the solver's grid)."""
    val, _ = integrate.quad(lambda z: fun(z) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi),
                            -lim, lim, epsabs=1e-14, epsrel=1e-13, limit=400)
    return val


# ---------------------------------------------------------------- golden values


@pytest.mark.parametrize("T", [1.0, 1.5, 3.0])
def test_sk_high_temperature_exact(T):
    # SK above T_c = 1: q = 0 and f = -T ln 2 - 1/(4T) exactly (Sherrington–Kirkpatrick 1975)
    r = solve(MixedPSpin(SK, T=T), "rs")
    assert r.converged
    assert r.free_energy == pytest.approx(-T * math.log(2) - 1 / (4 * T), abs=1e-12)
    # e = -β/2 and s = ln 2 - β²/4 (derivatives of the same closed form)
    assert r.energy == pytest.approx(-1 / (2 * T), abs=1e-9)
    assert r.entropy == pytest.approx(math.log(2) - 1 / (4 * T * T), abs=1e-9)


def test_sk_high_temperature_full_rsb_collapses_to_rs():
    # above T_c every k-step solution is the RS one, q = 0: same exact value. The optimiser
    # stops at residual ≤ tol = 1e-7 in 7 variables whose directions are flat when the
    # steps collapse, so q ends at ~1e-5 and f within ~1e-10 (second order in q).
    T = 1.5
    r = solve(MixedPSpin(SK, T=T), RSB(3))
    assert r.converged
    assert r.free_energy == pytest.approx(-T * math.log(2) - 1 / (4 * T), abs=1e-10)
    assert np.all(r.q < 1e-3)


def test_sk_rs_ground_state():
    # RS ground state of SK: -E|z| = -sqrt(2/π) (closed form)
    r = solve(MixedPSpin(SK, T=0), "rs")
    assert r.free_energy == pytest.approx(-math.sqrt(2 / math.pi), abs=1e-14)


def test_sk_full_rsb_ground_state():
    # Parisi's FRSB ground state -0.763166… (Crisanti–Rizzo 2002; Schmidt–Oppermann with up to
    # 200 steps). Our k ≤ 8 values, extrapolated in k, must land within 1e-6 of it, with an
    # error estimate that says so, and the finite-k error must decay like k^{-3..-4}.
    r = solve(MixedPSpin(SK, T=0), FullRSB(ks=(2, 3, 4, 5, 6, 7, 8)))
    assert r.converged
    assert -0.763167 <= r.extrapolated <= -0.763166 + 1e-7
    assert r.extrapolation_error < 1e-6
    e = np.array([s.free_energy for s in r.sequence])
    assert np.all(np.diff(e) > 0)  # E_k increases to E_∞ (nested variational families)
    ks = np.array([s.k for s in r.sequence], dtype=float)
    slope = np.polyfit(np.log(ks[-4:]), np.log(r.extrapolated - e[-4:]), 1)[0]
    assert -4.2 < slope < -2.8


def test_sk_one_step_ground_state_against_quadrature():
    # 1RSB at T = 0 independently: Ψ(q_0, u) in closed form (E e^{γ|u+σz|} by Gaussian CDFs),
    # the bottom Gaussian average by adaptive quadrature, optimised by Nelder–Mead.
    def g_of(p):
        q0, gam = p
        if not (0 <= q0 < 1 and gam > 0):
            return 10.0
        s = math.sqrt(1 - q0)

        def top(u):
            la = gam * u + special.log_ndtr(u / s + gam * s)
            lb = -gam * u + special.log_ndtr(-u / s + gam * s)
            return 0.5 * gam * s * s + np.logaddexp(la, lb) / gam

        psi0 = _gauss(lambda z: top(math.sqrt(q0) * z))
        return psi0 - 0.5 * gam * 0.5 * (1 - q0 * q0)  # penalty ½γ(θ(1) - θ(q0)), θ = q²/2

    ref = optimize.minimize(g_of, [0.45, 1.3], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 4000})
    r = solve(MixedPSpin(SK, T=0), "1rsb")
    assert r.free_energy == pytest.approx(-ref.fun, abs=1e-10)
    assert r.q[0] == pytest.approx(ref.x[0], abs=1e-5)
    assert r.gamma[0] == pytest.approx(ref.x[1], abs=1e-5)
    # Parisi's 1RSB ground state of SK, -0.7652… (literature value to four digits)
    assert -0.76530 < r.free_energy < -0.76520


def test_one_step_positive_temperature_against_nested_quadrature():
    # the recursion's value at the solver's optimum, recomputed by nested adaptive quadrature
    T, h = 0.6, 0.3
    model = MixedPSpin("q**2/2 + q**3/3", T=T, field=h)
    r = solve(model, "1rsb")
    q0, q1 = r.q
    m = r.x[0]
    beta = 1 / T
    xi1 = lambda q: q + q * q  # noqa: E731  ξ'
    theta = lambda q: q * xi1(q) - (q * q / 2 + q**3 / 3)  # noqa: E731
    s_top = xi1(1) - xi1(q1)
    s1 = math.sqrt(xi1(q1) - xi1(q0))
    s0 = math.sqrt(xi1(q0))

    def top(u):
        # T ln cosh(u/T) + σ_top²/(2T): the last interval (x = 1) in closed form
        return T * (abs(u / T) + math.log1p(math.exp(-2 * abs(u / T))) - math.log(2)) \
            + s_top / (2 * T)

    def mid(u):
        return T / m * math.log(_gauss(lambda z: math.exp(m * beta * (top(u + s1 * z) - top(u)))))\
            + top(u)

    psi0 = _gauss(lambda z: mid(h + s0 * z), lim=10.0)
    pen = 0.5 * (m * beta * (theta(q1) - theta(q0)) + beta * (theta(1) - theta(q1)))
    f_ref = -T * math.log(2) - psi0 + pen
    assert r.free_energy == pytest.approx(f_ref, abs=1e-9)


# ---------------------------------------------------------------- gradient, thermodynamics


@pytest.mark.parametrize("T,h", [(0.5, 0.0), (0.4, 0.3), (0.0, 0.0), (0.0, 0.4)])
def test_gradient_matches_finite_differences(T, h):
    model = MixedPSpin("q**2/2 + 0.3*q**4", T=T, field=h)
    if T > 0:
        q = np.array([0.1, 0.3, 0.55, 0.7])
        g = np.array([0.5, 1.1, 1.6])
    else:
        q = np.array([0.25, 0.6, 0.9])
        g = np.array([0.7, 1.5, 4.0])
    f = IsingFunctional(model, 3, Options(), 0.5 if T > 0 else 0.4)
    e = f.evaluate(q, g)
    eps = 1e-6
    # central differences have error ~ eps² f''' ≈ 1e-12; the analytic gradient is exact up
    # to the quadrature's spectral error: 1e-8 leaves a wide margin for both
    for i in range(q.size):
        d = np.zeros_like(q)
        d[i] = eps
        fd = (f.evaluate(q + d, g).value - f.evaluate(q - d, g).value) / (2 * eps)
        assert e.grad_q[i] == pytest.approx(fd, abs=1e-8)
    for i in range(g.size):
        d = np.zeros_like(g)
        d[i] = eps
        fd = (f.evaluate(q, g + d).value - f.evaluate(q, g - d).value) / (2 * eps)
        assert e.grad_gamma[i] == pytest.approx(fd, abs=1e-8)


def test_grid_refinement_does_not_move_the_value():
    # the default grid is converged: halving the spacing changes G by < 1e-12
    model = MixedPSpin(SK, T=0.5)
    q = np.array([0.1, 0.3, 0.6])
    g = np.array([0.6, 1.4])
    a = IsingFunctional(model, 2, Options(), 0.5).evaluate(q, g).value
    b = IsingFunctional(model, 2, Options(grid_step=0.1), 0.5).evaluate(q, g).value
    assert a == pytest.approx(b, abs=1e-12)


def test_energy_is_derivative_of_beta_f():
    # e = ∂(βf)/∂β, checked by central differences of the optimised βf (envelope theorem:
    # the order parameter's shift does not enter at first order)
    model = MixedPSpin(SK, T=0.5, field=0.2)
    r = solve(model, RSB(3))
    dT = 1e-4
    bf = []
    for T in (0.5 - dT, 0.5 + dT):
        rr = solve(model.at(T=T), RSB(3))
        bf.append(rr.free_energy / T)
    dbeta = 1 / (0.5 + dT) - 1 / (0.5 - dT)
    assert r.energy == pytest.approx((bf[1] - bf[0]) / dbeta, abs=1e-6)


def test_entropy_positive_in_frsb_and_rs_entropy_negative_at_low_T():
    # Ising entropy counts configurations: the (correct) RSB entropy is >= 0; the RS solution
    # famously violates it, s_RS(T → 0) = -1/(2π) (Sherrington–Kirkpatrick 1975)
    model = MixedPSpin(SK, T=0.2)
    assert solve(model, RSB(4)).entropy > 0
    s = [solve(model.at(T=T), "rs").entropy for T in (0.04, 0.02, 0.01)]
    # quadratic extrapolation to T = 0 from T = 0.04, 0.02, 0.01 (error O(T³) ≈ 1e-5)
    s0 = np.polyval(np.polyfit([0.04, 0.02, 0.01], s, 2), 0.0)
    assert s0 == pytest.approx(-1 / (2 * math.pi), abs=2e-4)


def test_zero_temperature_limit_meets_ground_state_solver():
    # the 2-step family at T > 0 tends to the 2-step family at T = 0 (x/T → γ, q_max → 1).
    # Measured: e(T) - E_0 ≈ 5.7e-4, 9.2e-5, 1.7e-5 at T = 0.1, 0.05, 0.025 (∝ T^2.4);
    # f(T) - E_0 is O(T) because a finite-k solution keeps a small negative entropy at T = 0.
    model = MixedPSpin(SK, T=0)
    e0 = solve(model, RSB(2)).free_energy
    r1, r2 = (solve(model.at(T=T), RSB(2)) for T in (0.1, 0.05))
    assert r1.converged and r2.converged
    d1, d2 = r1.energy - e0, r2.energy - e0
    assert 0 < d2 < d1 / 4  # at least quadratic convergence of the energy
    assert d2 < 2e-4
    assert abs(r2.free_energy - e0) < 0.05 * abs(r2.entropy) + 1e-4


# ---------------------------------------------------------------- AT line, replicon


def test_at_line_against_direct_quadrature():
    model = MixedPSpin(SK, T=0.5)
    h = at_field(model)
    beta = 2.0
    # RS fixed point and the AT condition by adaptive quadrature, independently
    q = 0.9
    for _ in range(200):
        q = _gauss(lambda z, q=q: math.tanh(beta * (h + math.sqrt(q) * z)) ** 2)
    lam = 1 - beta**2 * _gauss(lambda z: math.cosh(beta * (h + math.sqrt(q) * z)) ** -4)
    assert abs(lam) < 1e-8


def test_replicon_above_tc():
    # h = 0, T > 1: q = 0 and the replicon is 1 - β² ξ''(0) = 1 - 1/T²
    assert rs_replicon(MixedPSpin(SK, T=1.25)) == pytest.approx(1 - 1 / 1.25**2, abs=1e-8)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("xi", ["q**2 - q**3", "q*x", "-q**2", "3", "sin(q)"])
def test_invalid_covariance_rejected(xi):
    with pytest.raises(InvalidInputError):
        MixedPSpin(xi)


def test_negative_temperature_and_k_rejected():
    with pytest.raises(InvalidInputError):
        MixedPSpin(SK, T=-0.1)
    with pytest.raises(InvalidInputError):
        RSB(-1)
    with pytest.raises(InvalidInputError):
        solve(MixedPSpin(SK, T=0.5), "banana")


def test_not_converged_is_flagged():
    r = solve(MixedPSpin(SK, T=0.5), RSB(4), Options(maxiter=1))
    assert not r.converged
    assert r.residual > Options().tol


def test_network_covariance_two_ways():
    # ξ of a one-hidden-layer erf network (σ_w² = 1.5, σ_b² = 0.1), once as the closed-form
    # sympy expression (compiled from the formula) and once as the tabulated xi_function:
    # the same Ising Parisi problem must give the same 1RSB free energy (tables are exact to
    # ~1e-13 in ξ, closed_xi agrees with them to 1e-13: test_closed_xi)
    from replicasolve.kernels.closed_xi import closed_xi
    from replicasolve.kernels.compose import xi_function

    expr = closed_xi("erf", 1, 1.5, 0.1).expr
    a = MixedPSpin(expr, T=0.3)
    b = MixedPSpin(xi_function("erf", 1, 1.5, 0.1), T=0.3)
    assert a.xi.coefficients is None
    ra, rb = solve(a, "1rsb"), solve(b, "1rsb")
    assert ra.converged and rb.converged
    assert ra.free_energy == pytest.approx(rb.free_energy, abs=1e-10)


def test_phase_classification_of_sk():
    # SK: RS above T_c = 1, FRSB below it at h = 0, RS again above the AT line in a field
    # (h_AT(T = 0.5) = 0.5699, test_at_line_against_direct_quadrature)
    from replicasolve.solvers import phase

    assert phase(MixedPSpin(SK, T=1.2)) == "RS"
    assert phase(MixedPSpin(SK, T=0.5)) == "FRSB"
    assert phase(MixedPSpin(SK, T=0.5, field=0.8)) == "RS"
    assert phase(MixedPSpin(SK, T=0.5, field=0.4)) != "RS"


def test_collapsed_steps_above_the_at_line_return_the_rs_solution() -> None:
    # SK at h = 1, T = 0.854: above the AT line (RS replicon > 0), so the 2-step optimum is
    # the RS point with empty steps; the optimiser used to stall there (residual 3.4e-6 in
    # the levels of the empty steps, on which F does not depend, after 3,098 iterations)
    # and report "not converged". The RS order parameter is checked against the fixed point
    # q = E tanh²(β(√q z + h)) by Gauss–Hermite quadrature (independent of the solver).
    T, h = 0.8538461538461539, 1.0  # a point of bench_warm_start's grid
    model = MixedPSpin("q**2/2", T=T, field=h)
    rs = solve(model, RSB(0))
    assert rs.replicon > 0
    for k in (1, 2):
        rk = solve(model, RSB(k))
        assert rk.converged and rk.k == k, rk.message
        assert rk.free_energy == pytest.approx(rs.free_energy, abs=1e-10)
        np.testing.assert_allclose(rk.q, rs.q[0], atol=1e-9)  # all steps empty
    z, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    q = 0.5
    for _ in range(200):
        q = float(np.sum(w * np.tanh((np.sqrt(q) * z + h) / T) ** 2))
    # the solver's convolution grid is accurate to ~1e-9 in q here (its tolerance is on
    # the stationarity residual, 1e-6, of a smooth function with curvature O(1))
    np.testing.assert_allclose(rs.q, q, atol=1e-6)
