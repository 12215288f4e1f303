"""A linear MLP as a Hamiltonian over its input: the exact solution, derived with sympy.

With φ(x) = x every layer map is affine, K_{l+1} = σ_b² + σ_w² K_l, so ξ(q) = c + a q with
a = σ_w^{2(L+1)} and c = σ_b² Σ_{l=0}^{L} σ_w^{2l}. H(x) is then a random linear function of
x on the sphere: a field of strength sqrt(a) (plus a constant of variance c N that does not
enter the quenched free energy).

Derivation (Crisanti–Sommers functional at replica symmetry, normalised sphere measure):
    Φ(β) = -βf = inf_q ½[β² (ξ(1) - ξ(q)) + q/(1-q) + ln(1-q)],
saddle β² a = q/(1-q)²; with q = ρ² this is β sqrt(a) = ρ/(1-ρ²). Then
    e = -β ∫ x ξ' = -β a (1 - q) = -sqrt(a) ρ,   S = Φ + β e = ½ ln(1 - ρ²) = ½ ln(1 - E²/a),
and E_GS = -sqrt(a). The replicon 1 - β² ξ''(q)(1-q)² = 1 > 0: replica symmetric at every T.
The script derives each step, prints it in LaTeX and checks it numerically against the
direct maximisation of βhρ + ½ ln(1 - ρ²) (a field h on the sphere) and against the library's
closed forms (:func:`replicasolve.models.landscape.linear_landscape`).
"""

from __future__ import annotations

import math

import sympy as sp

from replicasolve.symbolic.checks import Checks


def main() -> None:
    a, beta, q, rho, E, L = sp.symbols("a beta q rho E L", positive=True)
    sw2, sb2 = sp.symbols("sigma_w2 sigma_b2", positive=True)
    checks = Checks()
    check = checks.check

    # 1. ξ of a linear network: the affine recursion, closed form by sympy's rsolve
    k = sp.Function("K")
    n = sp.symbols("n", integer=True, nonnegative=True)
    q0 = sp.symbols("q0", nonnegative=True)
    sol = sp.rsolve(k(n + 1) - sw2 * k(n) - sb2, k(n), {k(0): q0})
    xi_closed = sp.simplify(sol.subs(n, L + 1))
    print("xi(q) = K_{L+1}(q) =", sp.latex(sp.collect(sp.expand(xi_closed), q0)))
    slope = sp.simplify(sp.diff(xi_closed, q0))
    check("xi is affine in q with slope sigma_w^{2(L+1)}",
          sp.simplify(slope - sw2 ** (L + 1)) == 0, f"(slope = {sp.latex(slope)})")

    # 2. RS saddle of the Crisanti–Sommers functional with ξ = c + a q
    P = sp.Rational(1, 2) * (beta**2 * a * (1 - q) + q / (1 - q) + sp.log(1 - q))
    saddle = sp.simplify(sp.diff(P, q))
    print("dP/dq =", sp.latex(saddle))
    sub = {q: rho**2}
    sad_rho = sp.simplify(saddle.subs(sub) * 2 * (1 - rho**2) ** 2)
    rho_sol = [s for s in sp.solve(sp.Eq(beta * sp.sqrt(a), rho / (1 - rho**2)), rho)
               if s.is_positive is not False]
    print("rho =", sp.latex(rho_sol))
    check("saddle is beta sqrt(a) = rho/(1-rho^2)",
          sp.simplify(sad_rho - (rho**2 - beta**2 * a * (1 - rho**2) ** 2)) == 0
          or sp.simplify(sad_rho + (beta**2 * a * (1 - rho**2) ** 2 - rho**2)) == 0)
    rho_star = (sp.sqrt(1 + 4 * beta**2 * a) - 1) / (2 * beta * sp.sqrt(a))
    check("closed-form rho solves it",
          sp.simplify(beta * sp.sqrt(a) * (1 - rho_star**2) - rho_star) == 0)

    # 3. Φ, e, S at the saddle, in closed form
    phi = sp.simplify(P.subs(q, rho_star**2))
    energy = -beta * a * (1 - rho_star**2)  # e = -β ∫ x ξ' dq, x = 0 on [0, q), 1 above
    entropy = sp.simplify(phi + beta * energy)
    print("Phi(beta) =", sp.latex(phi))
    print("e(beta) =", sp.latex(sp.simplify(energy)))
    print("S(e) =", sp.latex(entropy))
    check("e = -sqrt(a) rho", sp.simplify(energy + sp.sqrt(a) * rho_star) == 0)
    check("S = 1/2 ln(1 - E^2/a) at E = e(beta)",
          sp.simplify(sp.exp(2 * entropy) - (1 - (sp.sqrt(a) * rho_star) ** 2 / a)) == 0)
    dphi = sp.simplify(sp.diff(phi, beta))
    check("e = -dPhi/dbeta (thermodynamic consistency)", sp.simplify(dphi + energy) == 0)
    S_E = sp.Rational(1, 2) * sp.log(1 - E**2 / a)
    print("S(E) =", sp.latex(S_E), "  E_GS = -sqrt(a)")

    # 4. numbers: direct maximisation of βhρ + ½ln(1-ρ²), and the library's closed forms
    from scipy.optimize import minimize_scalar

    from replicasolve.models.landscape import linear_landscape

    for av, bv in [(0.7, 0.5), (2.0, 3.0), (1.3, 10.0)]:
        direct = minimize_scalar(lambda r, av=av, bv=bv: -(bv * math.sqrt(av) * r
                                                           + 0.5 * math.log1p(-r * r)),
                                 bounds=(0, 1 - 1e-15), method="bounded",
                                 options={"xatol": 1e-14})
        ref = float(phi.subs({a: av, beta: bv}))
        lib = linear_landscape(av, T=1 / bv)
        check(f"Phi at a={av}, beta={bv}", abs(-direct.fun - ref) < 1e-10
              and abs(-bv * lib["free_energy"] - ref) < 1e-12,
              f"(direct {-direct.fun:.12f}, closed {ref:.12f})")
        e_num = float(energy.subs({a: av, beta: bv}))
        check(f"S(E) at a={av}, beta={bv}",
              abs(float(S_E.subs({a: av, E: e_num})) - lib["entropy"]) < 1e-12)
    checks.finish()


if __name__ == "__main__":
    main()
