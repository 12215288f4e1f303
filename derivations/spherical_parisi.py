"""Spherical mixed p-spin Parisi formulas, derived with sympy and checked against the solver.

What :mod:`replicasolve.solvers.spherical` uses, re-derived here from the functionals:

  (a) k-step Crisanti–Sommers functional (T > 0) and its T = 0 (Chen–Sen) limit: sympy's
      derivatives of the closed form against the hand-derived gradient that the solver
      implements (``parisi_functional``), at random points, k = 0..3;
  (b) spherical SK (ξ = q²/2): the RS saddle q = 1 - T and the closed forms
      f = -1 + 3T/4 - (T/2) ln T, e = -1 + T/2, s = -1/4 + (1/2) ln T (T < 1), f = -β/4 (T > 1);
  (c) pure p-spin at T = 0: the 1RSB threshold (replicon ξ''(1) L² = 1, L stationary, q_0 = 0)
      E_th = -2 sqrt((p-1)/p) for symbolic p, and the 1RSB ground state of p = 3 (-1.656998);
  (d) the continuous (full-RSB) solution: stationarity ξ_h'(u) = ∫_0^u dq/D² gives
      D = ξ''^(-1/2), γ = ξ'''/(2 ξ''^(3/2)), and E_GS = -∫_0^1 sqrt(ξ'') (Subag) by
      integration by parts; closed forms for ξ'' = 1 + q²/4 and ξ'' = (1 - q/2)^-1;
  (e) the example ξ'' = (1 - b q)^-2 has constant γ = b: it is one step, not full RSB.

Run:  python derivations/spherical_parisi.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import sympy as sp

from replicasolve.symbolic.checks import Checks


def _import_solver() -> tuple[ModuleType, type]:
    try:
        from replicasolve.models.pspin import MixedPSpin
        from replicasolve.solvers import spherical
    except ModuleNotFoundError:
        # lets the script run from a plain checkout: the package sits one folder up
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from replicasolve.models.pspin import MixedPSpin
        from replicasolve.solvers import spherical
    return spherical, MixedPSpin


q = sp.Symbol("q", real=True)


def step_functional(k: int, xi: sp.Expr, T: float | None):
    """Symbolic k-step functional F (= T·P at T > 0, the Chen–Sen bracket at T = 0)."""
    if T is not None:
        qs = sp.symbols(f"q0:{k + 1}", positive=True)
        ys = sp.symbols(f"m1:{k + 1}", positive=True)
        D = [None] * (k + 1)
        D[k] = 1 - qs[k]
        for i in range(k, 0, -1):
            D[i - 1] = D[i] + ys[i - 1] * (qs[i] - qs[i - 1])
        work = sum(ys[i - 1] * (xi.subs(q, qs[i]) - xi.subs(q, qs[i - 1]))
                   for i in range(1, k + 1)) + xi.subs(q, 1) - xi.subs(q, qs[k])
        psi = qs[0] / D[0] + sum(sp.log(D[i - 1] / D[i]) / ys[i - 1] for i in range(1, k + 1))
        psi += sp.log(1 - qs[k])
        beta = 1 / sp.Float(T)
        return sp.Rational(1, 2) * (beta * work + sp.Float(T) * psi), list(qs) + list(ys)
    qs = sp.symbols(f"q0:{k}", positive=True)
    ys = sp.symbols(f"g1:{k + 1}", positive=True)
    L = sp.Symbol("L", positive=True)
    qq = [*qs, sp.Integer(1)]
    D = [None] * (k + 1)
    D[k] = L
    for i in range(k, 0, -1):
        D[i - 1] = D[i] + ys[i - 1] * (qq[i] - qq[i - 1])
    work = sum(ys[i - 1] * (xi.subs(q, qq[i]) - xi.subs(q, qq[i - 1])) for i in range(1, k + 1))
    psi = qq[0] / D[0] + sum(sp.log(D[i - 1] / D[i]) / ys[i - 1] for i in range(1, k + 1))
    return (sp.Rational(1, 2) * (work + sp.diff(xi, q).subs(q, 1) * L + psi),
            list(qs) + list(ys) + [L])


def section_gradient(spherical: ModuleType, MixedPSpin: type, checks: Checks) -> None:
    print("(a) k-step functional: sympy derivatives vs the solver's gradient")
    rng = np.random.default_rng(7)
    xi_text, h = "q**3 + q**2/4", 0.3
    xi = q**3 + q**2 / 4 + sp.Float(h) ** 2 * q
    for T in (0.4, None):
        for k in range(4):
            F, vars_ = step_functional(k, xi, T)
            n_q = k + 1 if T is not None else k
            qv = np.sort(rng.uniform(0.05, 0.9, n_q))
            yv = np.sort(rng.uniform(0.1, 0.9, k))
            point = list(qv) + list(yv) + ([0.6] if T is None else [])
            subs = dict(zip(vars_, point, strict=True))
            want_f = float(F.subs(subs))
            want_g = np.array([float(sp.diff(F, v).subs(subs)) for v in vars_])
            model = MixedPSpin(xi_text, spins="spherical", T=T or 0.0, field=h)
            got_f, got_g = spherical.parisi_functional(
                model, qv, yv, 0.6 if T is None else None)
            err = max(abs(got_f - want_f), float(np.max(np.abs(got_g - want_g))))
            checks.check(f"T = {T if T is not None else 0}, k = {k}", err < 1e-11,
                         f"max deviation {err:.1e}")


def section_sk(checks: Checks) -> None:
    print("(b) spherical SK, RS")
    T = sp.Symbol("T", positive=True)
    qq = sp.Symbol("q", positive=True)
    beta = 1 / T
    P = sp.Rational(1, 2) * (beta**2 * (sp.Rational(1, 2) - qq**2 / 2) + qq / (1 - qq)
                             + sp.log(1 - qq))
    saddle = sp.solve(sp.Eq(sp.diff(P, qq), 0), qq)
    print(f"  saddle points: {saddle}")
    checks.check("q = 1 - T is a saddle", sp.simplify(sp.diff(P, qq).subs(qq, 1 - T)) == 0)
    f = sp.simplify(-T * P.subs(qq, 1 - T))
    want = -1 + sp.Rational(3, 4) * T - T / 2 * sp.log(T)
    checks.check("f = -1 + 3T/4 - (T/2) ln T", sp.simplify(f - want) == 0, f"{sp.latex(f)}")
    e = sp.simplify(-T**2 * sp.diff(f / T, T))  # e = d(βf)/dβ, d/dβ = -T² d/dT
    checks.check("e = -1 + T/2", sp.simplify(e - (-1 + T / 2)) == 0, f"{sp.latex(e)}")
    s = sp.simplify((e - f) / T)
    checks.check("s = -1/4 + ln(T)/2", sp.simplify(s - (-sp.Rational(1, 4) + sp.log(T) / 2)) == 0)
    checks.check("f continuous at T = 1 with -β/4", sp.simplify(f.subs(T, 1) + sp.Rational(1, 4))
                 == 0)


def section_threshold(spherical: ModuleType, MixedPSpin: type, checks: Checks) -> None:
    print("(c) pure p-spin at T = 0: 1RSB threshold and ground state")
    p, g, L = sp.symbols("p gamma L", positive=True)
    P = sp.Rational(1, 2) * (g + p * L + sp.log((L + g) / L) / g)  # q_0 = 0, ξ(1) = 1
    L_th = 1 / sp.sqrt(p * (p - 1))  # replicon ξ''(1) L² = 1
    g_th = sp.solve(sp.Eq(sp.diff(P, L).subs(L, L_th), 0), g)
    g_th = [s for s in g_th if sp.simplify(s - (p - 2) / sp.sqrt(p * (p - 1))) == 0]
    checks.check("γ_th = (p-2)/sqrt(p(p-1))", len(g_th) == 1)
    E = -sp.diff(g * P, g)
    E_th = sp.simplify(E.subs(L, L_th).subs(g, (p - 2) / sp.sqrt(p * (p - 1))))
    ok = all(abs(float(E_th.subs(p, pv)) + 2 * math.sqrt((pv - 1) / pv)) < 1e-14
             for pv in (3, 4, 5, 7.5))
    checks.check("E_th = -2 sqrt((p-1)/p)", ok, sp.latex(sp.simplify(E_th)))
    for pv in (3, 4):
        got = spherical.threshold_energy(f"q**{pv}")
        checks.check(f"threshold_energy(q^{pv})", abs(got + 2 * math.sqrt((pv - 1) / pv)) < 1e-12,
                     f"{got:.15f}")
    # 1RSB ground state of p = 3 from the two stationarity equations
    P3 = P.subs(p, 3)
    sol = sp.nsolve([sp.diff(P3, g), sp.diff(P3, L)], [g, L], [0.6, 0.35], prec=30)
    e_gs = -P3.subs({g: sol[0], L: sol[1]})
    solver = spherical.solve_spherical(
        MixedPSpin("q**3", spins="spherical", T=0.0), spherical.RSB(1), spherical.Options())
    checks.check("p = 3 1RSB ground state", abs(float(e_gs) - solver.free_energy) < 1e-11,
                 f"sympy {float(e_gs):.13f}, solver {solver.free_energy:.13f}")


def section_continuous(spherical: ModuleType, checks: Checks) -> None:
    print("(d) continuous solution and Subag's formula")
    u = sp.Symbol("u", positive=True)
    xi2 = sp.Function("xi2")
    # d/du of the stationarity condition xi_h'(u) = int_0^u dq/D(q)^2 is xi''(u) = 1/D(u)^2,
    # and gamma = -D' follows; check that D = xi''^(-1/2) solves it
    d_sol = xi2(u) ** sp.Rational(-1, 2)
    checks.check("D = xi''^(-1/2) solves xi'' = 1/D^2", sp.simplify(xi2(u) - 1 / d_sol**2) == 0)
    want_gamma = sp.diff(xi2(u), u) / (2 * xi2(u) ** sp.Rational(3, 2))
    checks.check("gamma = -D' = xi'''/(2 xi''^(3/2))",
                 sp.simplify(-sp.diff(d_sol, u) - want_gamma) == 0)
    t = sp.Symbol("t", positive=True)
    for label, x2, closed in [
        ("xi'' = 1 + q^2/4", 1 + t**2 / 4, -(sp.sqrt(5) / 4 + sp.asinh(sp.Rational(1, 2)))),
        ("xi'' = 1/(1 - q/2)", 1 / (1 - t / 2), -4 * (1 - 1 / sp.sqrt(2))),
    ]:
        d_t = x2 ** sp.Rational(-1, 2)
        gam = sp.simplify(-sp.diff(d_t, t))
        s_ = sp.Symbol("s", positive=True)
        x1 = sp.integrate(x2.subs(t, s_), (s_, 0, t))  # xi'(t) with xi'(0) = 0
        # the Chen-Sen bracket at the continuous solution (L = D(1)), to 30 digits
        Q = sp.Rational(1, 2) * (sp.Integral(gam * x1, (t, 0, 1)).evalf(30)
                                 + (x1.subs(t, 1) * d_t.subs(t, 1)).evalf(30)
                                 + sp.Integral(1 / d_t, (t, 0, 1)).evalf(30))
        e = float(sp.re(-Q))
        checks.check(f"{label}: -Q = -int sqrt(xi'')", abs(e - float(closed)) < 1e-13,
                     f"{e:.15f} vs {float(closed):.15f}")
        mono = sp.diff(gam, t)
        ok = all(float(mono.subs(t, v)) >= 0 for v in np.linspace(0, 1, 101))
        checks.check(f"{label}: gamma nondecreasing", ok, f"gamma = {sp.latex(gam)}")
    got = spherical.subag_ground_state("q**2/2 + q**4/48")
    want = -(math.sqrt(5) / 4 + math.asinh(0.5))
    checks.check("subag_ground_state(q^2/2 + q^4/48)", abs(got - want) < 1e-13, f"{got:.15f}")


def section_one_step_example(checks: Checks) -> None:
    print("(e) xi'' = (1 - b q)^-2 is one step, not full RSB")
    b = sp.Symbol("b", positive=True)
    xi = -sp.log(1 - b * q) / b**2 - q / b
    x2 = sp.simplify(sp.diff(xi, q, 2))
    checks.check("xi'' = (1 - bq)^-2", sp.simplify(x2 - (1 - b * q) ** -2) == 0)
    gam = sp.diff(xi, q, 3) / (2 * x2 ** sp.Rational(3, 2))
    w = sp.Symbol("w", positive=True)  # w = 1 - b q > 0 on [0, 1] for b < 1
    gam = sp.simplify(gam.subs(q, (1 - w) / b))
    checks.check("gamma(q) = b (constant)", sp.simplify(gam - b) == 0, sp.latex(gam))
    e = sp.simplify(-sp.integrate(sp.sqrt(x2), (q, 0, 1)).subs(b, sp.Rational(1, 2)))
    checks.check("E_GS = ln(1 - b)/b at b = 1/2", sp.simplify(e - 2 * sp.log(sp.Rational(1, 2)))
                 == 0, sp.latex(e))


def main() -> int:
    spherical, MixedPSpin = _import_solver()
    checks = Checks()
    section_gradient(spherical, MixedPSpin, checks)
    section_sk(checks)
    section_threshold(spherical, MixedPSpin, checks)
    section_continuous(spherical, checks)
    section_one_step_example(checks)
    checks.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
