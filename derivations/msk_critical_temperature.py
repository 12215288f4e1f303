"""Critical temperature of the multilayer SK (MSK) model, derived with sympy and checked.

Model (Barney, Winer & Galitski, arXiv 2408.06421): Ising spins in layers l = 0..L,
H = -Σ_l Σ_{i∈l, j∈l-1} W^l_ij s^l_i s^{l-1}_j with W^l_ij ~ N(0, C_l / N_{l-1}).

The derivation itself lives in :mod:`replicasolve.symbolic.msk`; this script runs it,
prints every result in LaTeX, and checks it against numbers computed independently:

  (a) the sympy T_c against a hand-typed sqrt(2 C cos(π/(L+2))), L = 1..30, several C;
  (b) against numpy ``eigvalsh`` of K = C × (path adjacency) built directly in numpy;
  (c) for unequal layer sizes and variances, the largest eigenvalue of the symbolic K
      (its characteristic polynomial solved at 30 digits) against scipy's generalized
      eigenproblem M v = μ diag(α) v built directly from the model;
  (d) the entropy series -q²/2 - q⁴/12 against the exact entropy of a fixed overlap and
      against a numerical Legendre transform (scipy minimisation), at small q;
  (e) the Gaussian average exp(β² σ² x² / 2) against Gauss–Hermite quadrature;
  (f) det(Hessian) = 0 solved exactly for L = 1..8 against the closed form.

Run:  python derivations/msk_critical_temperature.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import sympy as sp
from scipy import linalg, optimize

from replicasolve.symbolic.checks import Checks

C_VALUES = (0.5, 1.0, 2.0, 3.0)
MAX_L = 30
EXPLICIT_L = range(1, 9)


def _import_msk() -> ModuleType:
    try:
        from replicasolve.symbolic import msk
    except ModuleNotFoundError:
        # Lets the script run from a plain checkout (no `pip install -e .`): the package
        # sits one folder up from this file.
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from replicasolve.symbolic import msk
    return msk


def show(label: str, expr: sp.Basic) -> None:
    print(f"  {label}:  {sp.latex(expr)}")


def path_adjacency(n: int) -> np.ndarray:
    return np.eye(n, k=1) + np.eye(n, k=-1)


def section_disorder(msk: ModuleType, checks: Checks) -> None:
    print("1. Disorder average over one weight, and the coupling per replica pair")
    da = msk.disorder_average_exponent()
    show(r"\mathbb{E}_w e^{\beta w x}", da.average)
    show("coupling per pair a<b, per spin", da.pair_coefficient)
    show("annealed term per replica, per spin", da.annealed_per_replica)

    # (e) Gauss–Hermite with 80 nodes integrates e^{βσ x z} to ~1e-15 relative for |βσx| <= 3.
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / math.sqrt(2 * math.pi)
    f = sp.lambdify((da.beta, da.sigma, da.x), da.average, "math")
    worst = 0.0
    for beta, sigma, x in [(0.5, 1.0, 1.0), (1.3, 0.7, -2.0), (2.0, 0.5, 3.0), (1.0, 1.5, 2.0)]:
        quad = float(np.sum(weights * np.exp(beta * sigma * nodes * x)))
        worst = max(worst, abs(quad / f(beta, sigma, x) - 1))
    checks.check("(e) Gaussian average vs Gauss–Hermite", worst < 1e-12, f"max rel err {worst:.1e}")


def section_entropy(msk: ModuleType, checks: Checks) -> None:
    print("2. Entropy of a fixed overlap between two Ising replicas")
    ent = msk.ising_overlap_entropy(order=4)
    show(r"\varphi(\lambda)", ent.cumulant)
    show(r"\lambda(q)", ent.conjugate)
    show("s(q)", ent.exact)
    show("s(q) series", ent.series)

    def exact_by_hand(q: float) -> float:
        return -((1 + q) / 2 * math.log1p(q) + (1 - q) / 2 * math.log1p(-q))

    def legendre_numeric(q: float) -> float:
        # inf over λ of ln(4 cosh λ) - λ q - ln 4, computed without the closed form.
        res = optimize.minimize_scalar(
            lambda lam: math.log(math.cosh(lam)) - lam * q, bracket=(-1, 0, 1), tol=1e-12
        )
        return float(res.fun)

    exact_sympy = sp.lambdify(ent.q, ent.exact, "math")
    series = sp.lambdify(ent.q, ent.series, "math")

    q = 1e-2
    diff = exact_by_hand(q) - (-(q**2) / 2)
    # The next term is -q⁴/12 ≈ -8.3e-10; what is left after it is O(q⁶) ≈ 1e-12.
    checks.check(
        "(d) exact - (-q²/2) at q=1e-2 is -q⁴/12 + O(q⁶)",
        abs(diff + q**4 / 12) < q**6,
        f"difference {diff:.6e}, -q⁴/12 = {-(q**4) / 12:.6e}",
    )
    worst_exact = max(abs(exact_sympy(x) - exact_by_hand(x)) for x in (-0.9, -0.3, 0.01, 0.5, 0.99))
    checks.check(
        "(d) sympy exact s(q) vs hand-typed form", worst_exact < 1e-14, f"{worst_exact:.1e}"
    )
    ok = True
    for x in (1e-2, 3e-2, 1e-1):
        legendre = legendre_numeric(x)
        # Series to q⁴ misses -q⁶/30 - ...; the minimiser's value is accurate to ~1e-16.
        ok &= abs(series(x) - legendre) < x**6 / 10 and abs(exact_by_hand(x) - legendre) < 1e-14
    checks.check("(d) series and exact vs numerical Legendre transform", ok)


def section_action(msk: ModuleType) -> None:
    print("3. Replica-symmetric action to second order (three spin layers shown)")
    action = msk.rs_quadratic_action(3)
    show("S(q)", action.expr)
    show("Hessian", msk.rs_hessian(3))
    show("K", msk.critical_condition_matrix(3))


def section_identical(msk: ModuleType, checks: Checks) -> None:
    print("4. Identical layers, symbolic depth")
    spec = msk.identical_layer_spectrum()
    tc = msk.critical_temperature_identical()
    show(r"\lambda_k(K)", spec.eigenvalue)
    show("v_l", spec.eigenvector)
    show("T_c", tc.T_c)
    show(r"T_c\ (L=1)", tc.two_layers)
    limit = msk.deep_limit()
    show(r"\lim_{L\to\infty} T_c", limit)
    checks.check("deep limit is sqrt(2C)", sp.simplify(limit - sp.sqrt(2 * tc.C)) == 0)
    checks.check("two layers give sqrt(C)", sp.simplify(tc.two_layers - sp.sqrt(tc.C)) == 0)

    tc_num = sp.lambdify((tc.L, tc.C), tc.T_c, "math")
    # Both sides evaluate the same function in double precision along different routes,
    # so a few ulps apart: 1e-13 relative.
    worst_a = max(
        abs(tc_num(L, c) / math.sqrt(2 * c * math.cos(math.pi / (L + 2))) - 1)
        for L in range(1, MAX_L + 1)
        for c in C_VALUES
    )
    checks.check(
        f"(a) sympy T_c vs hand-typed sqrt(2C cos(π/(L+2))), L=1..{MAX_L}",
        worst_a < 1e-13,
        f"max rel err {worst_a:.1e}",
    )
    # eigvalsh is backward stable: eigenvalue error <~ n ε ‖K‖ <~ 31 · 2.2e-16 · 2C.
    worst_b = max(
        abs(math.sqrt(np.linalg.eigvalsh(c * path_adjacency(L + 1))[-1]) - tc_num(L, c))
        for L in range(1, MAX_L + 1)
        for c in C_VALUES
    )
    checks.check(
        f"(b) T_c vs sqrt(λ_max) of numpy K, L=1..{MAX_L}", worst_b < 1e-12, f"{worst_b:.1e}"
    )
    sym_matches = True
    for n in range(2, 9):
        sym = msk.layer_symbols(n)
        identical = {**dict.fromkeys(sym.alpha, 1), **dict.fromkeys(sym.C, 2)}
        K = np.array(msk.critical_condition_matrix(n).subs(identical).tolist(), dtype=float)
        sym_matches &= bool(np.array_equal(K, 2 * path_adjacency(n)))
    checks.check("(b) symbolic K with identical layers is C × path adjacency", sym_matches)


def section_unequal(msk: ModuleType, checks: Checks) -> None:
    print("5. Unequal layer sizes and variances")
    rng = np.random.default_rng(20240812)
    lam = sp.Symbol("lambda")
    worst = 0.0
    for n in range(2, 7):
        for _ in range(3):
            # Rational inputs keep the symbolic side exact until the final root finding.
            alpha = [sp.Rational(int(rng.integers(1, 40)), 10) for _ in range(n)]
            C = [sp.Rational(int(rng.integers(5, 40)), 10) for _ in range(n - 1)]
            sym = msk.layer_symbols(n)
            K = msk.critical_condition_matrix(n).subs(
                {**dict(zip(sym.alpha, alpha, strict=True)), **dict(zip(sym.C, C, strict=True))}
            )
            charpoly = sp.Poly(sp.expand(K.charpoly(lam).as_expr()), lam)
            lam_max = max(sp.re(r) for r in charpoly.nroots(n=30))
            # Independent construction: det(diag(α) - β² M) = 0 ⟺ M v = β^{-2} diag(α) v.
            a = np.array(alpha, dtype=float)
            off = np.array([float(C[l - 1] * alpha[l]) for l in range(1, n)])
            M = np.diag(off, 1) + np.diag(off, -1)
            mu = linalg.eigh(M, np.diag(a), eigvals_only=True)[-1]
            worst = max(worst, abs(float(lam_max) / mu - 1))
    checks.check("(c) λ_max of symbolic K vs scipy generalized eigh", worst < 1e-12, f"{worst:.1e}")

    K2 = msk.critical_condition_matrix(2)
    sym = msk.layer_symbols(2)
    top = max(K2.eigenvals(), key=lambda e: e.subs({sym.alpha[0]: 1, sym.alpha[1]: 1, sym.C[0]: 1}))
    show(r"\lambda_{\max}(K),\ \text{two layers}", top)
    expected = sym.C[0] * sp.sqrt(sym.alpha[1] / sym.alpha[0])
    checks.check("(c) bipartite λ_max = C sqrt(α1/α0)", sp.simplify(top - expected) == 0)


def section_explicit(msk: ModuleType, checks: Checks) -> None:
    print("6. Explicit depths: det(Hessian) = 0 solved exactly")
    for L in EXPLICIT_L:
        try:
            result = msk.critical_temperature_explicit(L)
        except msk.DerivationCheckError as err:
            checks.check(f"(f) L={L}", False, str(err))
            continue
        show(f"T_c (L={L})", result.T_c)
        checks.check(
            f"(f) L={L} exact root = closed form",
            result.max_abs_error < 1e-40,
            f"max |ΔT_c| {result.max_abs_error:.1e} at C={list(map(str, result.checked_C))}",
        )


def main() -> None:
    """Run the derivation, print it in LaTeX, check it; raise SystemExit(1) on failure."""
    start = time.perf_counter()
    msk = _import_msk()
    checks = Checks()
    print("MSK critical temperature (Barney, Winer & Galitski, arXiv 2408.06421)")
    print(f"C in force for the numeric checks: {', '.join(map(str, C_VALUES))}")
    try:
        section_disorder(msk, checks)
        section_entropy(msk, checks)
        section_action(msk)
        section_identical(msk, checks)
        section_unequal(msk, checks)
        section_explicit(msk, checks)
    except msk.DerivationCheckError as err:
        checks.check("symbolic derivation", False, str(err))
    print(f"({time.perf_counter() - start:.1f} s)")
    checks.finish()


if __name__ == "__main__":
    main()
