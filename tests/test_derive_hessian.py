"""The RS Hessian of the derived replica action in all three sectors (longitudinal,
anomalous, replicon): against the de Almeida–Thouless formulas, against explicit replica
matrices, and numerically against the slope of the RS fixed-point map at the solver's
solution (an independent route: λ_L = 1 - F'(q))."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, optimize

import replicasolve as rs
from replicasolve.symbolic import replica_action as ra

BETA, H = ra.beta_symbol(), ra.field_symbol()
Q0 = sp.Symbol("q_0", real=True)
Z0 = sp.Symbol("z_0", real=True)
XI = ra.xi_function()


def _pairs(n: int) -> list[tuple[int, int]]:
    return [(a, b) for a in range(n) for b in range(a + 1, n)]


def test_pair_sector_eigenvalues_match_an_explicit_matrix() -> None:
    # an independent numerical diagonalisation of the permutation-invariant pair matrix at
    # n = 7 (not the n = 6 of the derivation's own check): the three derived values with
    # multiplicities 1, n - 1 and n(n - 3)/2 are the whole spectrum (to rounding, 1e-12)
    rng = np.random.default_rng(3)
    n = 7
    P, Q, R = rng.normal(size=3)
    pr = _pairs(n)
    m = np.array([[P if p == p2 else Q if set(p) & set(p2) else R for p2 in pr] for p in pr])
    got = np.sort(np.linalg.eigvalsh(m))
    vals = ra.pair_sector_eigenvalues(*sp.symbols("P Q R"), n=sp.Integer(n))
    sub = dict(zip(sp.symbols("P Q R"), (P, Q, R), strict=True))
    num = {k: float(v.subs(sub)) for k, v in vals.items()}
    want = np.sort([num["longitudinal"]] + [num["anomalous"]] * (n - 1)
                   + [num["replicon"]] * (n * (n - 3) // 2))
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) < 1e-12


def test_sk_longitudinal_is_de_almeida_thouless() -> None:
    # de Almeida & Thouless, J. Phys. A 11, 983 (1978), SK (ξ = q²/2) at n → 0:
    # λ_L = λ_A = 1 - β²(1 - 4q + 3r), q = E tanh², r = E tanh⁴
    hess = ra.rs_hessian("ising")
    t = sp.tanh(BETA * H + BETA * sp.sqrt(Q0) * Z0)
    q = ra.gaussian_average(t**2, Z0)
    r = ra.gaussian_average(t**4, Z0)
    textbook = 1 - BETA**2 * (1 - 4 * q + 3 * r)
    for name in ("longitudinal", "anomalous"):
        got = ra.specialize(hess.eigenvalues[name], sp.Symbol("q", real=True) ** 2 / 2)
        d = sp.expand(ra.expectation_integrands(sp.expand(ra.linear_averages(got - textbook))))
        assert sp.simplify(d) == 0


def test_spherical_longitudinal_is_the_slope_of_the_rs_equation() -> None:
    # Crisanti–Sommers RS: q/(1-q)² = β²(ξ'(q) + h²) =: λ; the λλ curvature of the
    # longitudinal sector is dq/dλ = 1/(d/dq q/(1-q)²), so λ_L = 1 - β²ξ''(q) dq/dλ
    hess = ra.rs_hessian("spherical")
    dq_dlam = 1 / sp.diff(Q0 / (1 - Q0) ** 2, Q0)
    xi2 = sp.Subs(sp.Derivative(XI(sp.Symbol("q", real=True)), sp.Symbol("q", real=True), 2),
                  sp.Symbol("q", real=True), Q0).doit()
    assert sp.simplify(hess.eigenvalues["longitudinal"] - (1 - BETA**2 * xi2 * dq_dlam)) == 0
    assert sp.simplify(hess.eigenvalues["anomalous"] - hess.eigenvalues["longitudinal"]) == 0


def test_spherical_block_sectors_at_finite_n_match_explicit_inverse() -> None:
    # K_(ab),(cd) = G_ac G_bd + G_ad G_bc with G = Q⁻¹ of the explicit n × n RS matrix
    # (numpy inverse), diagonalised; against the derived n-dependent sector values
    hess = ra.rs_hessian("spherical")
    n_sym = sp.Symbol("n")
    for n, q in ((5, 0.3), (6, 0.55)):
        g = np.linalg.inv((1 - q) * np.eye(n) + q * np.ones((n, n)))
        pr = _pairs(n)
        k = np.array([[g[a, c] * g[b, d] + g[a, d] * g[b, c] for c, d in pr] for a, b in pr])
        got = np.sort(np.linalg.eigvalsh(k))
        num = {s: float(v.subs({n_sym: n, Q0: q})) for s, v in hess.block_sectors.items()}
        want = np.sort([num["longitudinal"]] + [num["anomalous"]] * (n - 1)
                       + [num["replicon"]] * (n * (n - 3) // 2))
        # rounding of a 15×15 symmetric eigenproblem with entries O(10): 1e-11
        assert np.max(np.abs(got - want)) < 1e-11


def _ising_map(xi1, beta: float, h: float):
    def f(q: float) -> float:
        s = math.sqrt(xi1(q))
        g = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * math.tanh(  # noqa: E731
            beta * (h + s * z)) ** 2
        return integrate.quad(g, -12, 12, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    return f


def _spherical_map(xi1, beta: float, h: float):
    def f(q: float) -> float:
        lam = beta**2 * (xi1(q) + h * h)
        return optimize.brentq(lambda x: x / (1 - x) ** 2 - lam, 0.0, 1 - 1e-15, xtol=1e-15,
                               rtol=1e-15)
    return f


CASES = [
    # (ξ coefficients, spins, T, h): paramagnet with field, low-T RS with a strong field
    ({2: 0.5}, "ising", 1.4, 0.3),
    ({2: 0.5, 4: 0.1}, "ising", 0.9, 0.6),
    ({2: 0.5, 3: 0.25}, "ising", 0.5, 1.0),
    ({2: 0.5}, "spherical", 0.8, 0.4),
    ({2: 0.3, 3: 0.4}, "spherical", 0.6, 0.5),
]


@pytest.mark.parametrize(("coef", "spins", "T", "h"), CASES)
def test_longitudinal_is_one_minus_the_slope_of_the_rs_map(coef, spins, T, h) -> None:
    # independent numerics: F(q) the RS fixed-point map by adaptive quadrature (Ising) or
    # root finding (spherical); λ_L = 1 - F'(q*) by a central difference with step 1e-4
    # (truncation ~ F''' 1e-8/6, quadrature 1e-13/1e-4 = 1e-9): tolerance 1e-6
    model = rs.MixedPSpin(coef, spins=spins, T=T, field=h)
    check = rs.derive(model, rs.RS()).check()
    assert check.converged, check.message
    q = check.order_parameters["q_0"]

    def xi1(x: float) -> float:
        return sum(p * c * x ** (p - 1) for p, c in coef.items())

    beta = 1 / T
    f = (_ising_map if spins == "ising" else _spherical_map)(xi1, beta, h)
    assert abs(f(q) - q) < 1e-8  # the solver's q is the map's fixed point
    step = 1e-4
    slope = (f(q + step) - f(q - step)) / (2 * step)
    assert abs(check.hessian["longitudinal"] - (1 - slope)) < 1e-6
    assert check.hessian["anomalous"] == check.hessian["longitudinal"]
    assert check.hessian["replicon"] == check.replicon


def test_longitudinal_sector_is_positive_where_rs_is_the_stable_branch() -> None:
    # SK without field above T_c = 1: q = 0 and λ_L = λ_R = 1 - β² (AT 1978), > 0
    for T in (1.25, 2.0):
        c = rs.derive(rs.MixedPSpin({2: 0.5}, spins="ising", T=T, field=0.0), rs.RS()).check()
        assert c.converged
        for name in ("longitudinal", "anomalous", "replicon"):
            assert abs(c.hessian[name] - (1 - 1 / T**2)) < 1e-9


def test_hessian_steps_render() -> None:
    d = rs.derive(rs.MixedPSpin({2: 0.5}, spins="spherical", T=0.5), rs.RS())
    titles = [s.title for s in d.steps]
    assert "RS Hessian, all sectors" in titles and "Hessian eigenvalues" in titles
    assert {"longitudinal", "anomalous", "replicon"} <= set(d.expressions)
    tex = d.latex()
    assert r"\lambda_{L}" in tex and r"\lambda_{A}" in tex
    # RSB ansätze derive no RS Hessian sectors
    d1 = rs.derive(rs.MixedPSpin({2: 0.5}, spins="spherical", T=0.5), rs.RSB(1))
    assert "longitudinal" not in d1.expressions
    assert d1.check().hessian == {}


