"""Limiting spectrum of the random layered bond matrix J, derived with sympy and checked.

Model (Barney, Winer & Galitski, arXiv 2408.06421): J is symmetric block tridiagonal with
zero diagonal blocks, block (l, l-1) = W^l with iid entries of variance C_l / N_{l-1}.

For a Wigner-type matrix with variance profile s_ij the diagonal resolvent entries obey,
as N → ∞, G_ii = -1 / (z + Σ_j s_ij G_jj) (Girko; Ajanki–Erdős–Krüger, "Quadratic vector
equations"). Averaging over a layer, g_l = (1/N_l) Σ_{i∈l} G_ii, and using
Σ_{j∈l-1} s_ij = N_{l-1} · C_l / N_{l-1} = C_l,  Σ_{j∈l+1} s_ij = N_{l+1} C_{l+1} / N_l:

    -1/g_l = z + C_l g_{l-1} + C_{l+1} (N_{l+1}/N_l) g_{l+1},   m = Σ_l (N_l/N) g_l.

This script checks, symbolically unless said otherwise:

  (a) two layers: g_0(z) = z m_MP(z²), m_MP the Stieltjes transform of the
      Marchenko–Pastur law of WᵀW (ratio N_0/N_1, scale C N_1/N_0): the Dyson quadratic
      and the MP quadratic are the same polynomial;
  (b) two equal layers: the semicircle of variance C (edge 2√C);
  (c) a long chain of equal layers, bulk: the semicircle of variance 2C (edge 2√(2C));
  (d) the moments from the large-z expansion, four layers with symbolic sizes and
      variances: ∫x²ρ = (2/N) Σ_l N_l C_l and ∫x⁴ρ = 2 Σ_l n_l r_l² (r_l the row sums),
      the counts of non-crossing pairings of (1/N) E Tr J² and (1/N) E Tr J⁴;
      numerically, m4 against Tr J⁴ of a sampled network;
  (e) the two-layer edge from the discriminant: √C (1 + √(N_1/N_0));
  (f) the package's numerical solver (replicasolve.tap.bond_density) against (a), (b), (e).

Run:  python derivations/layered_bond_density.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp

try:
    from replicasolve.symbolic.checks import Checks
except ModuleNotFoundError:
    # Lets the script run from a plain checkout (no `pip install -e .`).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from replicasolve.symbolic.checks import Checks

z, w = sp.symbols("z w")
C = sp.Symbol("C", positive=True)
N0, N1 = sp.symbols("N_0 N_1", positive=True)


def show(label: str, expr: sp.Basic) -> None:
    print(f"  {label}:  {sp.latex(expr)}")


def dyson_system(sizes: list[sp.Expr], cs: list[sp.Expr], g: list[sp.Symbol]) -> list[sp.Expr]:
    """Polynomial form g_l (z + Σ_k T_lk g_k) + 1 = 0 of the vector Dyson equation."""
    n = len(sizes)
    eqs = []
    for l in range(n):
        s = z
        if l > 0:
            s += cs[l - 1] * g[l - 1]
        if l < n - 1:
            s += cs[l] * sizes[l + 1] / sizes[l] * g[l + 1]
        eqs.append(sp.expand(g[l] * s + 1))
    return eqs


def section_two_layers(checks: Checks) -> dict:
    print("(a) two layers against Marchenko–Pastur")
    g0, g1, m = sp.symbols("g_0 g_1 m")
    e0, e1 = dyson_system([N0, N1], [C], [g0, g1])
    show("Dyson, layer 0", sp.Eq(e0, 0))
    show("Dyson, layer 1", sp.Eq(e1, 0))
    # eliminate g_1 (layer 1's equation is linear in it)
    g1_sol = sp.solve(e1, g1)[0]
    quad0 = sp.factor(sp.numer(sp.together(e0.subs(g1, g1_sol))))
    show("quadratic for g_0", sp.Eq(quad0, 0))
    lam = N0 / N1
    sigma2 = C * N1 / N0
    mp = lam * sigma2 * w * m**2 + (w - sigma2 * (1 - lam)) * m + 1  # Marchenko–Pastur 1967
    show("MP quadratic (WᵀW)", sp.Eq(mp, 0))
    mp_in_g0 = sp.numer(sp.together(mp.subs({w: z**2, m: g0 / z})))
    ratio = sp.cancel(mp_in_g0 / quad0)
    show("MP(m = g_0/z, w = z²) / Dyson quadratic", ratio)
    checks.check("(a) g_0(z) = z m_MP(z²): same quadratic", ratio.free_symbols <= {C, N0, N1, z}
                 and sp.Poly(ratio, g0).degree() == 0)
    return {"quad0": quad0, "g0": g0, "g1_sol": g1_sol}


def section_semicircle(checks: Checks) -> None:
    print("(b) two equal layers, (c) long chain of equal layers")
    g = sp.Symbol("g")
    e0, _ = dyson_system([N0, N0], [C], [g, g])
    show("equal layers, g_0 = g_1 = g", sp.Eq(e0, 0))
    x = sp.Symbol("x", real=True)
    # density = Im g(x + i0)/π on the root with Im g > 0 inside (-2√C, 2√C)
    dens = sp.sqrt(4 * C - x**2) / (2 * sp.pi * C)
    branch = (-x + sp.I * sp.sqrt(4 * C - x**2)) / (2 * C)
    ok = sp.simplify(sp.expand(e0.subs({g: branch, z: x}))) == 0
    ok &= sp.simplify(sp.im(branch).subs(x, sp.sqrt(C)) / sp.pi
                      - dens.subs(x, sp.sqrt(C))) == 0
    checks.check("(b) two equal layers: Im g/π is the semicircle of variance C", ok)
    show("density", dens)
    th = sp.Symbol("theta", real=True)
    # x = 2√C sin θ: the square root becomes 2√C cos θ (cos θ ≥ 0 on [-π/2, π/2])
    on_circle = (x**2 / (2 * sp.pi * C)).subs(x, 2 * sp.sqrt(C) * sp.sin(th))
    jac = (2 * sp.sqrt(C) * sp.cos(th)) ** 2
    var = sp.integrate(sp.expand(on_circle * jac), (th, -sp.pi / 2, sp.pi / 2))
    checks.check("(b) its variance is C", sp.simplify(var - C) == 0, str(sp.simplify(var)))
    # interior of a long chain: g_{l-1} = g_l = g_{l+1}
    bulk = sp.expand(g * (z + 2 * C * g) + 1)
    show("chain bulk", sp.Eq(bulk, 0))
    disc = sp.discriminant(bulk, g)
    edges = sp.solve(disc, z)
    checks.check("(c) chain bulk: semicircle of variance 2C, edges ±2√(2C)",
                 {sp.simplify(e) for e in edges} == {2 * sp.sqrt(2 * C), -2 * sp.sqrt(2 * C)},
                 str(edges))


def section_moments(checks: Checks) -> dict:
    print("(d) moments from the large-z expansion, four layers, symbolic")
    n = 4
    ns = list(sp.symbols("N_0:4", positive=True))
    cs = list(sp.symbols("C_1:4", positive=True))
    tot = sum(ns)
    # g = -w / (1 + w T g) with w = 1/z, iterated: each pass fixes two more orders
    g = [sp.Integer(0)] * n
    for _ in range(4):
        new = []
        for l in range(n):
            s = 0
            if l > 0:
                s += cs[l - 1] * g[l - 1]
            if l < n - 1:
                s += cs[l] * ns[l + 1] / ns[l] * g[l + 1]
            new.append(sp.series(-w / (1 + w * s), w, 0, 7).removeO())
        g = new
    m = sp.expand(sum(ns[l] / tot * g[l] for l in range(n)))
    # m(z) = -Σ_k m_k / z^{k+1}
    mom = {k: sp.simplify(-m.coeff(w, k + 1)) for k in range(6)}
    show("m_2", mom[2])
    rows = [
        (cs[l - 1] if l > 0 else 0) + (cs[l] * ns[l + 1] / ns[l] if l < n - 1 else 0)
        for l in range(n)
    ]
    m2 = 2 * sum(ns[l] * cs[l - 1] for l in range(1, n)) / tot
    m4 = 2 * sum(ns[l] / tot * rows[l] ** 2 for l in range(n))
    checks.check("(d) odd moments vanish", all(mom[k] == 0 for k in (1, 3, 5)))
    checks.check("(d) m_0 = 1", sp.simplify(mom[0] - 1) == 0)
    checks.check("(d) m_2 = (2/N) Σ_l N_l C_l", sp.simplify(mom[2] - m2) == 0)
    checks.check("(d) m_4 = 2 Σ_l n_l r_l²", sp.simplify(mom[4] - m4) == 0)
    return {"ns": ns, "cs": cs, "m4": m4, "m2": m2}


def section_moments_numeric(checks: Checks, sym: dict) -> None:
    from replicasolve.tap.bonds import random_layered

    sizes = (600, 300, 500, 400)
    var = (2.0, 1.0, 1.5)
    subs = {**dict(zip(sym["ns"], sizes, strict=True)), **dict(zip(sym["cs"], var, strict=True))}
    m4 = float(sym["m4"].subs(subs))
    vals = []
    for seed in range(3):
        j = random_layered(sizes, var, seed=seed).dense()
        j2 = j @ j
        vals.append(float(np.sum(j2 * j2)) / j.shape[0])
    mean = float(np.mean(vals))
    # finite-N: (1/N) E Tr J⁴ = m4 + O(1/N) (crossing pairings, fourth cumulant of the
    # Gaussian is zero); N = 1800 → a few 1e-3 relative
    checks.check("(d) numeric: m_4 vs (1/N) Tr J⁴ of sampled J (N = 1800, 3 seeds)",
                 abs(mean / m4 - 1) < 0.01, f"{mean:.5f} vs {m4:.5f}")


def section_edge(checks: Checks, two: dict) -> sp.Expr:
    print("(e) two-layer edge")
    disc = sp.discriminant(two["quad0"], two["g0"])
    show("discriminant in z", sp.factor(disc))
    expected = sp.sqrt(C) * (1 + sp.sqrt(N1 / N0))
    # the largest root of the discriminant (a quadratic in z²) is the right edge
    at_edge = sp.simplify(sp.expand(disc.subs(z, expected)))
    other = sp.solve(sp.expand(disc.subs(z, sp.sqrt(w))), w)
    largest = max(other, key=lambda r: float(r.subs({C: 1, N0: 2, N1: 3})))
    checks.check("(e) edge √C (1 + √(N_1/N_0)) is the largest branch point",
                 at_edge == 0 and sp.simplify(sp.expand(largest - expected**2)) == 0,
                 f"disc(edge) = {at_edge}")
    show("edge", expected)
    return expected


def section_numeric(checks: Checks, edge_expr: sp.Expr) -> None:
    print("(f) the numerical solver against the closed forms")
    from replicasolve.tap.bond_density import bond_density, bond_support_edge

    worst = 0.0
    for n0, n1, c in [(300, 100, 2.0), (100, 300, 1.0), (250, 250, 2.0), (70, 30, 0.5)]:
        lam, s2 = n0 / n1, c * n1 / n0
        a, b = s2 * (1 - np.sqrt(lam)) ** 2, s2 * (1 + np.sqrt(lam)) ** 2
        x = np.linspace(-1.1 * np.sqrt(b), 1.1 * np.sqrt(b), 800)  # x = 0 left out: a = 0 for
        # equal layers makes the closed form 0·∞ there
        t = x * x
        inside = (t > a) & (t < b)
        mp = np.zeros_like(x)
        mp[inside] = np.sqrt((b - t[inside]) * (t[inside] - a)) / (2 * np.pi * s2 * lam * t[inside])
        ref = n0 / (n0 + n1) * 2 * np.abs(x) * mp
        worst = max(worst, float(np.max(np.abs(bond_density((n0, n1), c, x) - ref))))
        e = bond_support_edge((n0, n1), c)
        e_sym = float(edge_expr.subs({C: c, N0: n0, N1: n1}))
        checks.check(f"(f) edge, sizes ({n0}, {n1}), C = {c}", abs(e - e_sym) < 1e-10,
                     f"{e:.12f} vs {e_sym:.12f}")
    checks.check("(f) two-layer density vs Marchenko–Pastur", worst < 1e-8, f"max |Δρ| {worst:.1e}")


def main() -> None:
    """Run the derivation, print it in LaTeX, check it; raise SystemExit(1) on failure."""
    start = time.perf_counter()
    checks = Checks()
    print("Spectrum of the random layered bond matrix (vector Dyson equation)")
    two = section_two_layers(checks)
    section_semicircle(checks)
    sym = section_moments(checks)
    section_moments_numeric(checks, sym)
    edge = section_edge(checks, two)
    section_numeric(checks, edge)
    print(f"({time.perf_counter() - start:.1f} s)")
    checks.finish()


if __name__ == "__main__":
    main()
