"""The replicon eigenvalue of the finite-width RS saddle of a random MLP landscape at depth
L ≥ 1 (replicasolve.solvers.finite_width.deep): derived with sympy and checked numerically.

Action (derivations/finite_width_landscape.py), per N, pair variables a < b:
    S = ½ ln det Q + β²/2 Σ_ab C^{L+1}_ab - Σ_l α_l [½ Σ_ab Ĝ^l_ab G^l_ab - W_l(C^l, Ĝ^l)],
    W(C, Ĝ) = ln E_{z~N(0,C)} F,  F = exp(½ Σ_ab Ĝ_ab φ_a φ_b),  C^{l+1} = σ_b² + σ_w² G^l,
C^1 = σ_b² + σ_w² Q. Q is the only thermal order parameter (the hidden fields are Gaussian
given x: disorder); G^l, Ĝ^l are large-deviation variables of the disorder, so the
stability of the RS saddle is the replicon of S_eff[Q] = extr_{G,Ĝ} S, i.e. of the Schur
complement of the replicon-sector Hessian onto δQ (as at depth 1 and in the Gaussian limit).

Steps (each checked below):
 1. Per layer, ∂W/∂Ĝ_ab = ⟨φ_aφ_b⟩ and ∂W/∂C_ab = ⟨∂_a∂_b⟩ (a ≠ b: heat equation of the
    Gaussian density), so every pair observable is o_a o_b, one single-replica operator per
    replica (o = φ or o = ∂). At the RS point the replicated average factorises over
    replicas given (η, ζ) with weight I^n; the pair-pair second derivative (pairs sharing 2,
    1, 0 replicas: M1, M2, M3) of observables o⊗o and o'⊗o' has replicon eigenvalue
        M1 - 2M2 + M3 = E_n (⟨oo'⟩ - ⟨o⟩⟨o'⟩)²   (disconnected parts cancel),
    checked on a zero-row-sum vector at n = 5 with symbolic single-replica averages. Hence
        R_CC = E χ², χ = ⟨∂∂⟩ - ⟨∂⟩² = ∂_h² ln I = (Var^ψ ε - 1)/s,
        R_CĜ = E (⟨∂φ⟩ - ⟨∂⟩⟨φ⟩)² = E (∂_h⟨φ⟩)²,  ∂_h⟨φ⟩ = Cov^ψ(ε, φ)/sqrt(s),
        R_ĜĜ = E Var^ψ(φ)²    (Stein: ∂_h E_ε f e^ψ = E_ε ε f e^ψ / sqrt(s)).
 2. Assembly: ½ ln det Q gives -1/(1-q)² (depth-1 derivation, step 2); -α_l Σ_{a<b} Ĝ G gives
    -α_l in (δG^l, δĜ^l); the chain rule δC^l = σ_w² δG^{l-1}; β²/2 Σ C^{L+1} is linear. The
    Schur complement of the (2L+1)-square matrix onto δQ equals -1/(1-q)² + κ_0 with the
    top-down recursion κ_L = 0, κ_{l-1} = α_l σ_w⁴[R_CC + R_CĜ² κ_l/(α_l - κ_l R_ĜĜ)]
    (sympy, L = 1, 2, 3). Normalised: Λ = -(1-q)² (Schur) = 1 - (1-q)² κ_0.
 2'. Stability is more than Λ > 0: integrating the imaginary Ĝ^l first (x-Gaussian needs
    α_l R_ĜĜ > 0, true) leaves a real form M in (δQ, δG¹..δG^{L-1}) whose δG^l pivot is
    -(α_l - κ_l R^l_ĜĜ)/R^l_ĜĜ; det M = pivot × (δQ Schur complement) (sympy, L = 2), so
    M's eigenvalues cross zero only at Λ = 0, and a pivot through zero is a pole of Λ.
    Stable ⇔ M negative definite (as δQ, and as at α → ∞ where pivots → α_l) ⇔ Λ > 0 and
    all α_l - κ_l R^l_ĜĜ > 0 (checked against M's eigenvalues for sin, L = 2, T = 0.3,
    where α = 1 lies beyond the pole: Λ = +0.63 but pivot_1 = -0.76, unstable).
 3. α → ∞: with R_CĜ → k'(c0) = E m'², α R_CC → (α ĝ) k''(c0), α_l ĝ^l = β² σ_w² ∂ξ/∂c^{l+1}
    (backward pass), the recursion is the chain rule: κ_0 → β² ξ''(q) with ξ = K_{L+1}, so
    Λ → 1 - β² ξ''(q)(1-q)² (sympy for L = 2, 3; numerics: the blocks' small-tilt limits,
    and the library's O(1/α) approach to the Gaussian-limit solver at L = 2).
 4. φ = x: the tilted z is Gaussian (variance s/(1-2as), a = (ĝ_d-ĝ)/2): χ = 2a/(1-2as),
    ∂_h⟨φ⟩ = 1/(1-2as), Var φ = s/(1-2as), all (η, ζ)-independent (sympy). At the saddle the
    top layer has a = 0 and a = 0 propagates down (Var^ψ ε = 1 ⇒ ĝ_d = ĝ below), so χ ≡ 0,
    κ ≡ 0 and Λ = 1 at every depth (library check at L = 2, 3).
 6. The n → 0 check, independent of the integer-n ones: the 1RSB functional (per-layer term
    E_{η0,ζ0} (1/m) ln E_{η1,ζ1}[E_ε e^ψ]^m, 1RSB ln det Q and traces) evaluated along
    zero-row-sum 1RSB directions (x_1 = x + d, x_0 = x - d(1-m)/m for Q, G¹, Ĝ¹, G², Ĝ²)
    has, at d = 0, the Hessian ((m-1)/(2m)) × (the n → 0 replicon matrix of step 2 with the
    E_{η,ζ} blocks of step 1), for m = 0.5 and 0.75 (central differences through d = 0 by
    complex arithmetic: the nested sums are even in sqrt(q1 - q0)).
 5. Finite-n check of the whole replicon sector (independent of steps 1-2): at n = 4,
    depth 2, φ = sin, an RS point with ĝ_d ≠ ĝ, the 5×5 Hessian of the full action S_4 along
    a common replicon direction in (Q, G¹, Ĝ¹, G², Ĝ²), by finite differences of a direct
    4-dimensional quadrature, equals 4 × the matrix of step 2 with the blocks of step 1 at
    n = 4 (weight I⁴); and the Schur-complement Λ of both agree. The same for one layer's
    2×2 block at n = 5 (5-D rule): the formula's n-dependence is right at two integers, and
    n → 0 is its analytic continuation (E_n → plain E over η, ζ).

Run:  python derivations/finite_width_deep_replicon.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math
import time

import numpy as np
import sympy as sp

from replicasolve.symbolic.checks import Checks
from replicasolve.symbolic.replica import pairs, replicon_vector

_CHECKS = Checks()
check = _CHECKS.check


# ----------------------------------------------------------------------------- symbolic

def step1_pair_projection() -> None:
    print("\n== 1. replicon projection of a connected pair-pair correlation ==")
    n = 5
    P = pairs(n)
    X, u, v = sp.symbols("X u v")  # ⟨o o'⟩, ⟨o⟩, ⟨o'⟩ of one replica (one (eta, zeta) point)

    def entry(p: tuple[int, int], r: tuple[int, int]) -> sp.Expr:
        # product over replicas: both ops -> X, only o -> u, only o' -> v; minus ⟨O⟩⟨O'⟩
        val = sp.Integer(1)
        for a in set(p) | set(r):
            val *= X if (a in p and a in r) else (u if a in p else v)
        return val - u**2 * v**2

    Hm = sp.Matrix(len(P), len(P), lambda i, j: entry(P[i], P[j]))
    vec = sp.Matrix(replicon_vector(n))
    lam = (X - u * v) ** 2
    check("n=5: (pair, pair) correlation of o(x)o and o'(x)o' has replicon eigenvalue "
          "(<oo'> - <o><o'>)^2", sp.expand(Hm * vec - lam * vec) == sp.zeros(len(P), 1))
    # single-site identities behind the blocks (Stein on z = h + sqrt(s) eps)
    h, e = sp.symbols("h epsilon", real=True)
    s = sp.Symbol("s", positive=True)
    dens = sp.exp(-e**2 / 2) / sp.sqrt(2 * sp.pi)
    g = sp.exp(-(h + sp.sqrt(s) * e - 1) ** 2)  # a test function of z = h + sqrt(s) eps
    lhs = sp.integrate(sp.diff(g, h) * dens, (e, -sp.oo, sp.oo))
    rhs = sp.integrate(e * g * dens, (e, -sp.oo, sp.oo)) / sp.sqrt(s)
    check("Stein: d/dh E g(h + sqrt(s) eps) = E[eps g]/sqrt(s) (test g)",
          sp.simplify(lhs - rhs) == 0)
    # chi = <∂∂> - <∂>^2 = (ln I)'' and Cov(∂, φ) = <∂φ> - <∂><φ> = (J/I)', J = E φ e^ψ
    Ih, Jh = sp.Function("I")(h), sp.Function("J")(h)
    check("<∂∂> - <∂>^2 = (ln I)''  and  <∂φ> - <∂><φ> = (J/I)'",
          sp.simplify(sp.diff(sp.log(Ih), h, 2) - (Ih.diff(h, 2) / Ih - (Ih.diff(h) / Ih) ** 2))
          == 0 and sp.simplify(sp.diff(Jh / Ih, h) - (Jh.diff(h) / Ih
                                                      - Ih.diff(h) * Jh / Ih**2)) == 0)


def step2_assembly() -> None:
    print("\n== 2. (2L+1)-square replicon Hessian -> Schur complement = recursion ==")
    from replicasolve.solvers.finite_width.deep import replicon_from_blocks, replicon_hessian

    q, sw2 = sp.symbols("q sigma_w2", positive=True)
    for L in (1, 2, 3):
        al = sp.symbols(f"alpha_1:{L + 1}", positive=True)
        rc = sp.symbols(f"Rcc_1:{L + 1}")
        rx = sp.symbols(f"Rcg_1:{L + 1}")
        rg = sp.symbols(f"Rgg_1:{L + 1}")
        dQ = sp.Symbol("dQ")
        dG = sp.symbols(f"dG_1:{L + 1}")
        dH = sp.symbols(f"dGh_1:{L + 1}")
        # second-order action in the replicon sector, written term by term from the action
        S2 = -dQ**2 / (1 - q) ** 2 / 2  # ½ ln det Q
        below = [dQ, *dG[:-1]]
        for l in range(L):
            dC = sw2 * below[l]  # C^l = sigma_b^2 + sigma_w^2 G^{l-1}
            S2 += al[l] * (rc[l] * dC**2 + 2 * rx[l] * dC * dH[l] + rg[l] * dH[l] ** 2) / 2
            S2 += -al[l] * dH[l] * dG[l]  # -alpha_l sum_{a<b} Ghat G
        var = [dQ] + [v for pair in zip(dG, dH, strict=True) for v in pair]
        H = sp.hessian(S2, var)
        lib = sp.Matrix(replicon_hessian(q, al, sw2, rc, rx, rg))
        check(f"L={L}: Hessian of the second-order action = library replicon_hessian",
              sp.simplify(H - lib) == sp.zeros(2 * L + 1, 2 * L + 1))
        Hyy = H[1:, 1:]
        schur = H[0, 0] - (H[0, 1:] * Hyy.inv() * H[1:, 0])[0, 0]
        kappa = sp.Integer(0)
        for l in range(L - 1, -1, -1):
            kappa = al[l] * sw2**2 * (rc[l] + rx[l] ** 2 * kappa / (al[l] - kappa * rg[l]))
        check(f"L={L}: Schur complement onto dQ = -1/(1-q)^2 + kappa_0 (top-down recursion)",
              sp.simplify(schur - (-1 / (1 - q) ** 2 + kappa)) == 0)
        lam_lib, _ = replicon_from_blocks(q, al, sw2, rc, rx, rg)
        check(f"L={L}: library replicon_from_blocks = -(1-q)^2 (Schur complement)",
              sp.simplify(lam_lib + (1 - q) ** 2 * schur) == 0)
        if L == 1:
            check("L=1: det H = -alpha^2 (Schur): the depth-1 structure",
                  sp.simplify(H.det() + al[0] ** 2 * schur) == 0)
        if L == 2:
            # integrate the imaginary Ĝ^1 (Ĝ = i x: the x-Gaussian needs alpha_1 R_GG > 0)
            # and eliminate (δG², δĜ²) (δĜ² = 0): a real form M in (δQ, δG¹)
            x = sp.Symbol("x")
            k1 = al[1] * sw2**2 * rc[1]
            # δG² integrated: δĜ² = 0; the layer-2 C-block already gives k1 δG¹²/2 in S2
            form = S2.subs({dG[1]: 0, dH[1]: 0})
            form = form.subs(dH[0], sp.I * x)
            xs = sp.solve(sp.diff(form, x), x)[0]  # Gaussian integral = value at stationarity
            M = sp.hessian(sp.expand(form.subs(x, xs)), [dQ, dG[0]])
            piv = al[0] - k1 * rg[0]
            check("L=2: after the Ĝ¹ integral the δG¹ pivot is -(alpha_1 - kappa_1 R_GG)/R_GG",
                  sp.simplify(M[1, 1] + piv / rg[0]) == 0)
            check("L=2: det M = (δG¹ pivot) x (δQ Schur complement): eigenvalues of M cross 0 "
                  "only at Lambda = 0 (a pivot through 0 is a pole of Lambda)",
                  sp.simplify(M.det() - M[1, 1] * schur) == 0)


def step3_large_alpha() -> None:
    print("\n== 3. alpha -> infinity: the recursion is the chain rule for xi''(q) ==")
    q, sw2, sb2, beta = sp.symbols("q sigma_w2 sigma_b2 beta", positive=True)
    for L in (2, 3):
        ks = [sp.Function(f"k_{l + 1}") for l in range(L)]  # k_l(c0) = E phi(u) phi(v)
        c = [sb2 + sw2 * q]  # c0 of layer l (layer 1: sigma_b^2 + sigma_w^2 q)
        for l in range(L):
            c.append(sb2 + sw2 * ks[l](c[l]))
        xi = c[L]  # K_{L+1}(q)
        # backward pass at leading order: alpha_L ghat^L = beta^2 sw2,
        # alpha_l ghat^l = alpha_{l+1} ghat^{l+1} sw2 k'_{l+1}(c^{l+1})
        ag = [sp.Integer(0)] * L
        ag[L - 1] = beta**2 * sw2
        for l in range(L - 2, -1, -1):
            ag[l] = ag[l + 1] * sw2 * sp.diff(ks[l + 1](sp.Symbol("x")), "x").subs("x", c[l + 1])
        kappa = sp.Integer(0)
        for l in range(L - 1, -1, -1):
            k1 = sp.diff(ks[l](sp.Symbol("x")), "x").subs("x", c[l])
            k2 = sp.diff(ks[l](sp.Symbol("x")), "x", 2).subs("x", c[l])
            # alpha R_CC -> (alpha ghat) k'', R_CG -> k', and kappa R_GG / alpha -> 0
            kappa = sw2**2 * (ag[l] * k2 + k1**2 * kappa)
        check(f"L={L}: kappa_0 -> beta^2 xi''(q), xi = K_(L+1)",
              sp.simplify(sp.expand(kappa - beta**2 * sp.diff(xi, q, 2))) == 0)


def step4_linear() -> None:
    print("\n== 4. phi = x: closed-form blocks ==")
    a, b, zeta, h = sp.symbols("a b zeta h", real=True)
    s = sp.Symbol("s", positive=True)
    z = sp.Symbol("z", real=True)
    a_val = {a: sp.Rational(1, 7), s: sp.Rational(3, 2), b: sp.Rational(2, 3),
             zeta: sp.Rational(-1, 2), h: sp.Rational(1, 5)}
    # tilted density of z: N(z; h, s) e^{a z^2 + b zeta z}
    w = sp.exp(-(z - h) ** 2 / (2 * s) + a * z**2 + b * zeta * z)

    def mom(k: int) -> sp.Expr:
        return sp.integrate((z**k * w).subs(a_val), (z, -sp.oo, sp.oo))

    m0, m1, m2 = mom(0), mom(1), mom(2)
    var = sp.simplify(m2 / m0 - (m1 / m0) ** 2)
    mean = sp.simplify(m1 / m0)
    sv, av = a_val[s], a_val[a]
    check("Var^psi(z) = s/(1-2as) (so chi = (Var eps - 1)/s = 2a/(1-2as))",
          sp.simplify(var - sv / (1 - 2 * av * sv)) == 0)
    mean_sym = (h + b * zeta * s) / (1 - 2 * a * s)
    check("<z> = (h + b zeta s)/(1-2as): d<phi>/dh = 1/(1-2as), zeta-independent",
          sp.simplify(mean - mean_sym.subs(a_val)) == 0)


# ----------------------------------------------------------------------------- numeric

def _rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(order)
    return x, w / w.sum()


def check_linear_blocks() -> None:
    print("\n== 4'. phi = x: library blocks = closed forms (a != 0, off-saddle) ==")
    from replicasolve.solvers.finite_width.deep import _site_blocks

    c1, c0, a, b = 1.3, 0.4, 0.05, 0.7
    s = c1 - c0
    r = _site_blocks(lambda t: t, c1, c0, a, b, 64, 6)
    want = ((2 * a / (1 - 2 * a * s)) ** 2, 1 / (1 - 2 * a * s) ** 2, (s / (1 - 2 * a * s)) ** 2)
    # 64-node Gauss–Hermite on e^{a z^2} with a s = 0.045: error measured < 1e-12
    check("(R_CC, R_CG, R_GG) = ((2a/(1-2as))^2, 1/(1-2as)^2, (s/(1-2as))^2)",
          all(abs(x - y) < 1e-10 * max(1.0, abs(y)) for x, y in zip(r, want, strict=True)),
          f"({r} vs {want})")


def check_grid_engine() -> None:
    print("\n== blocks: grid engine = Gauss-Hermite engine (mild tilt), and at n = 4 ==")
    from replicasolve.solvers.finite_width.deep import _site_blocks, _site_blocks_grid

    step = 2 * math.pi / 128
    for name, phi, a, b in (("tanh", np.tanh, 0.05, 0.4), ("sin", np.sin, 0.1, 0.7)):
        for n in (0, 4):
            gh = _site_blocks(phi, 1.3, 0.5, a, b, 160, 12, n=n)
            gr = _site_blocks_grid(phi, 1.3, 0.5, a, b, step, 12, n=n)
            # two unrelated rules (160-node Gauss–Hermite in η, ε; grid + sampled kernel)
            err = max(abs(x - y) for x, y in zip(gh, gr, strict=True))
            check(f"{name}, n={n}: grid and Gauss-Hermite blocks agree (1e-10)", err < 1e-10,
                  f"(max diff {err:.1e})")


def check_small_tilt_blocks() -> None:
    print("\n== 3'. small tilt: R_CG -> E phi'(u)phi'(v), R_CC/ghat -> E phi''(u)phi''(v) ==")
    from replicasolve.kernels.numeric import gauss_hermite_kernel
    from replicasolve.solvers.finite_width.deep import _site_blocks

    c1, c0 = 1.4, 0.5
    gh = 1e-6

    def d1(z: np.ndarray) -> np.ndarray:
        return 1 - np.tanh(z) ** 2

    def d2(z: np.ndarray) -> np.ndarray:
        t = np.tanh(z)
        return -2 * t * (1 - t * t)

    r = _site_blocks(np.tanh, c1, c0, 0.0, math.sqrt(gh), 96, 6)
    k1 = float(gauss_hermite_kernel(d1, c1, c1, c0, order=120))
    k2 = float(gauss_hermite_kernel(d2, c1, c1, c0, order=120))
    # corrections are O(ghat) = 1e-6 relative
    check("R_CG = k'(c0) + O(ghat)", abs(r[1] - k1) < 1e-5 * k1, f"({r[1]:.10f} vs {k1:.10f})")
    check("R_CC/ghat = k''(c0) + O(ghat)", abs(r[0] / gh - k2) < 1e-5 * k2,
          f"({r[0] / gh:.10f} vs {k2:.10f})")


def w_direct(phi, C: np.ndarray, Gh: np.ndarray, x: np.ndarray, wt: np.ndarray) -> float:
    """W(C, Ĝ) = ln E_{z~N(0,C)} exp(½ Σ_ab Ĝ_ab φ(z_a)φ(z_b)), 4-D product rule on
    Cholesky-rotated nodes x (shape (4, M))."""
    p = phi(np.linalg.cholesky(C) @ x)
    quad = np.einsum("am,ab,bm->m", p, Gh, p)
    return math.log(float(wt @ np.exp(0.5 * quad)))


def check_finite_n() -> None:
    """Step 5: the whole replicon sector at n = 4, depth 2, by finite differences."""
    print("\n== 5. n = 4, L = 2: finite-difference replicon Hessian of the full action ==")
    from replicasolve.solvers.finite_width.deep import _site_blocks, replicon_hessian

    phi = np.sin
    n = 4
    sw2, sb2, beta = 0.9, 0.1, 1.0
    al = (1.5, 2.0)
    q = 0.3
    gd1, g1 = 0.42, 0.15  # the G^1 point (not a saddle: the Hessian exists everywhere)
    hat = ((0.5, 0.3), (0.4, 0.25))  # (ghat_d, ghat) of layers 1, 2: both with a != 0
    D = np.zeros((n, n))
    for (a, b), v in zip(pairs(n), replicon_vector(n), strict=True):
        D[a, b] = D[b, a] = v
    E = np.eye(n)
    J = np.ones((n, n))

    def rs(diag: float, off: float) -> np.ndarray:
        return off * J + (diag - off) * E

    Q0, G10, G20 = rs(1.0, q), rs(gd1, g1), rs(0.3, 0.1)
    H10, H20 = rs(*hat[0]), rs(*hat[1])

    def make_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
        x, w = _rule(order)
        g = np.meshgrid(x, x, x, x, indexing="ij")
        u = np.stack([a.ravel() for a in g])
        wt = np.einsum("i,j,k,l->ijkl", w, w, w, w).ravel()
        return u, wt

    wcache: dict[tuple, float] = {}

    def w_layer(layer: int, tc: float, th: float, order: int) -> float:
        """α_l W_l at C-direction step tc and Ĝ-direction step th (memoised: the stencil
        revisits each layer's (tc, th) many times)."""
        key = (layer, round(tc, 12), round(th, 12), order)
        if key not in wcache:
            rule = rules[order]
            if layer == 0:
                C, Hh = sb2 + sw2 * (Q0 + tc * D), H10 + th * D
            else:
                C, Hh = sb2 + sw2 * (G10 + tc * D), H20 + th * D
            wcache[key] = al[layer] * w_direct(phi, C, Hh, *rule)
        return wcache[key]

    def action(t: np.ndarray, order: int) -> float:
        """S_4 at Q = Q0 + t0 D, G¹ = G¹0 + t1 D, Ĝ¹ = ... + t2 D, G² (t3), Ĝ² (t4)."""
        G1, H1, G2, H2 = G10 + t[1] * D, H10 + t[2] * D, G20 + t[3] * D, H20 + t[4] * D
        C3 = sb2 + sw2 * G2
        # ½ ln det Q is differentiated separately (logdet_fd): its sixth derivative along D
        # is ~1e5 (eigenvalues 1-q ± 2t), too large for the O(h⁴) stencil at h = 0.01
        val = 0.5 * beta**2 * float(C3.sum())
        val -= 0.5 * al[0] * float((H1 * G1).sum()) + 0.5 * al[1] * float((H2 * G2).sum())
        return val + w_layer(0, t[0], t[2], order) + w_layer(1, t[1], t[4], order)

    def fd_hessian(h: float, order: int) -> np.ndarray:
        k = 5
        f0 = action(np.zeros(k), order)
        cache: dict[tuple[int, ...], float] = {}

        def f(steps: tuple[int, ...]) -> float:
            if steps not in cache:
                cache[steps] = action(h * np.array(steps, dtype=float), order)
            return cache[steps]

        H = np.zeros((k, k))
        for i in range(k):
            ei = tuple(1 if j == i else 0 for j in range(k))
            mi = tuple(-1 if j == i else 0 for j in range(k))
            H[i, i] = (f(ei) - 2 * f0 + f(mi)) / h**2
            for j in range(i + 1, k):
                pp = tuple((j2 == i) + (j2 == j) for j2 in range(k))
                pm = tuple((j2 == i) - (j2 == j) for j2 in range(k))
                mp = tuple(-(j2 == i) + (j2 == j) for j2 in range(k))
                mm = tuple(-(j2 == i) - (j2 == j) for j2 in range(k))
                H[i, j] = H[j, i] = (f(pp) - f(pm) - f(mp) + f(mm)) / (4 * h * h)
        return H

    t0 = time.time()
    rules = {o: make_rule(o) for o in (28, 32)}
    h = 0.02
    # Richardson: the central stencils have O(h²) truncation; (4 H(h/2) - H(h))/3 is O(h⁴)
    # (measured on the δQ δQ entry: 3-point h = 0.01 is off by 1.4e-5, Richardson by 2e-7)
    hfd = {o: (4 * fd_hessian(h / 2, o) - fd_hessian(h, o)) / 3 / 4.0 for o in rules}

    def logdet_fd(hh: float) -> float:
        f = [0.5 * float(np.linalg.slogdet(Q0 + k * hh * D)[1]) for k in (-1, 0, 1)]
        return (f[0] - 2 * f[1] + f[2]) / hh**2

    ld = (4 * logdet_fd(5e-4) - logdet_fd(1e-3)) / 3 / 4.0  # truncation ~1e-11, rounding ~1e-9
    for o in rules:
        hfd[o][0, 0] += ld
    Hfd = hfd[32]  # / 4 above: v·H v = eigenvalue |v|², |v|² = 4
    # formula: blocks at n = 4 (weight I^4), layer inputs from the point above
    blocks = []
    for (hd_, h_), (c1, c0) in zip(hat, ((sb2 + sw2, sb2 + sw2 * q),
                                         (sb2 + sw2 * gd1, sb2 + sw2 * g1)), strict=True):
        blocks.append(_site_blocks(phi, c1, c0, 0.5 * (hd_ - h_), math.sqrt(h_), 96, 12, n=n))
    rcc, rcg, rgg = (np.array([b_[i] for b_ in blocks]) for i in range(3))
    Hf = replicon_hessian(q, al, sw2, rcc, rcg, rgg)
    err = float(np.max(np.abs(Hfd - Hf)))
    spread = float(np.max(np.abs(hfd[32] - hfd[28])))
    print("  finite differences (n=4):\n", np.array2string(Hfd, precision=7))
    print("  formula (n=4 blocks):\n", np.array2string(Hf, precision=7))
    print("  difference:\n", np.array2string(Hfd - Hf, precision=2))
    # tolerance: the 4-D product rule converges slowly under the e^{½ Ĝ φφ} tilt (24 -> 28
    # nodes moved the FD matrix by 2.3e-6, 28 -> 32 by the printed spread, 3e-7); Richardson
    # leaves O(h⁴) ~1e-8 on the W terms. Measured max |diff| 2.2e-7 (the δQ δQ entry)
    check("5x5 replicon Hessian: finite differences of S_4 = formula with n=4 blocks (1e-6)",
          err < 1e-6, f"(max |diff| {err:.2e}; 28->32-node spread {spread:.2e}; "
          f"{time.time() - t0:.0f} s)")

    def schur(M: np.ndarray) -> float:
        return float(M[0, 0] - M[0, 1:] @ np.linalg.solve(M[1:, 1:], M[1:, 0]))

    lam_fd, lam_f = -(1 - q) ** 2 * schur(Hfd), -(1 - q) ** 2 * schur(Hf)
    check("n=4 Schur-complement replicon: finite differences = formula (1e-6)",
          abs(lam_fd - lam_f) < 1e-6, f"({lam_fd:.9f} vs {lam_f:.9f})")
    # the blocks really depend on n (the I^n weight), so n = 4 is a non-trivial test of it
    b0 = _site_blocks(phi, sb2 + sw2, sb2 + sw2 * q, 0.2, math.sqrt(0.5), 96, 12, n=0)
    check("n=4 and n=0 blocks differ (the I^n weight matters)",
          max(abs(x - y) for x, y in zip(blocks[0], b0, strict=True)) > 1e-3,
          f"(n=4 {blocks[0]}, n=0 {b0})")


def check_n5_block() -> None:
    """Step 5 again at n = 5 (one layer's 2x2 block, 5-D product rule): the I^n weight is
    right at two integer n, not only at n = 4."""
    print("\n== 5b. n = 5: finite-difference 2x2 block of W vs the n = 5 formula ==")
    from replicasolve.solvers.finite_width.deep import _site_blocks_grid

    n = 5
    sw2, sb2, q, hat = 0.9, 0.1, 0.3, (0.35, 0.2)
    D = np.zeros((n, n))
    for (a, b), v in zip(pairs(n), replicon_vector(n), strict=True):
        D[a, b] = D[b, a] = v
    Q0 = q * np.ones((n, n)) + (1 - q) * np.eye(n)
    H0 = hat[1] * np.ones((n, n)) + (hat[0] - hat[1]) * np.eye(n)
    x, w = _rule(18)
    u = np.stack([g.ravel() for g in np.meshgrid(*([x] * n), indexing="ij")])
    wt = w
    for _ in range(n - 1):
        wt = np.multiply.outer(wt, w)
    wt = wt.ravel()

    def f(tc: float, th: float) -> float:
        p = np.sin(np.linalg.cholesky(sb2 + sw2 * (Q0 + tc * D)) @ u)
        quad = np.einsum("am,ab,bm->m", p, H0 + th * D, p)
        return math.log(float(wt @ np.exp(0.5 * quad)))

    res = []
    f0 = f(0.0, 0.0)
    for h in (0.02, 0.01):
        cc = (f(h, 0) - 2 * f0 + f(-h, 0)) / h**2
        gg = (f(0, h) - 2 * f0 + f(0, -h)) / h**2
        cg = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)
        res.append(np.array([cc / sw2**2, cg / sw2, gg]))
    fd = (4 * res[1] - res[0]) / 3 / 4.0  # Richardson; |v|² = 4
    args = (np.sin, sb2 + sw2, sb2 + sw2 * q, 0.5 * (hat[0] - hat[1]), math.sqrt(hat[1]),
            2 * math.pi / 128, 12)
    f5 = np.array(_site_blocks_grid(*args, n=5))
    f4 = np.array(_site_blocks_grid(*args, n=4))
    err = float(np.max(np.abs(fd - f5)))
    # the 5-D 18-node rule converges slowly (R_CC at 14/16/18 nodes: 0.11155, 0.11131,
    # 0.11121 -> formula 0.111192): tolerance 1e-4, against an n = 4 -> 5 change of 0.036
    check("n=5: (R_CC, R_CG, R_GG) by finite differences = n=5 formula (1e-4)", err < 1e-4,
          f"(FD {fd}, formula {f5}; n=4 formula {f4})")
    check("n=5 and n=4 blocks differ by far more than the tolerance",
          float(np.max(np.abs(f5 - f4))) > 1e-2)


def t_one_rsb(phi, c: tuple, g: tuple, m: float, rules: tuple) -> complex:
    """lim (1/n) ln E_{z~N(0,C)} exp(½ Σ Ĝ φφ) on 1RSB matrices C = (c_d, c_1, c_0),
    Ĝ = (ĝ_d, ĝ_1, ĝ_0), blocks of m (the action's per-layer term):
        E_{η0,ζ0} (1/m) ln E_{η1,ζ1} [E_ε e^ψ]^m,
        z = sqrt(c0) η0 + sqrt(c1 - c0) η1 + sqrt(cd - c1) ε,
        ψ = ½(ĝ_d - ĝ_1) φ² + (sqrt(ĝ_0) ζ0 + sqrt(ĝ_1 - ĝ_0) ζ1) φ,
    by Gauss–Hermite in all five. Complex arithmetic: on symmetric η1, ζ1 rules the sum is
    even in sqrt(c1 - c0) and sqrt(ĝ_1 - ĝ_0), hence analytic (and real) through 0, which
    the central differences at the RS point (q1 = q0) need."""
    (x0, w0), (y0, v0), (x1, w1), (y1, v1), (xe, we) = rules
    cd, c1, c0 = c
    gd, g1, g0 = g
    s1, se = np.sqrt(complex(c1 - c0)), math.sqrt(cd - c1)
    b0, b1, a = math.sqrt(g0), np.sqrt(complex(g1 - g0)), 0.5 * (gd - g1)
    tot = 0.0
    for i0 in range(len(x0)):
        p = phi(math.sqrt(c0) * x0[i0] + s1 * x1[:, None] + se * xe[None, :])  # (η1, ε)
        psi = (a * p * p)[None, None] + (b0 * y0[:, None, None, None]
                                         + b1 * y1[None, :, None, None]) * p[None, None]
        inner = np.einsum("abc,b,c->a", np.exp(m * np.log(np.exp(psi) @ we)), v1, w1)
        tot += w0[i0] * (v0 @ (np.log(inner) / m))
    return tot


def check_one_rsb_functional() -> None:
    """Step 6: the n -> 0 replicon sector from the 1RSB functional (independent of the
    E_{η,ζ} block formulas and of the integer-n checks)."""
    print("\n== 6. n -> 0: 1RSB functional along zero-row-sum 1RSB directions, L = 2 ==")
    from replicasolve.solvers.finite_width.deep import _site_blocks, replicon_hessian

    phi = np.sin
    sw2, sb2 = 0.9, 0.1
    al = (1.5, 2.0)
    q, (gd1, g1), (gd2, g2) = 0.3, (0.42, 0.15), (0.3, 0.1)
    hat = ((0.5, 0.3), (0.4, 0.25))
    rules = (_rule(40), _rule(40), _rule(8), _rule(8), _rule(40))
    blocks = [_site_blocks(phi, c1, c0, 0.5 * (hd - hh), math.sqrt(hh), 96, 12)
              for (hd, hh), (c1, c0) in zip(hat, ((sb2 + sw2, sb2 + sw2 * q),
                                                  (sb2 + sw2 * gd1, sb2 + sw2 * g1)),
                                            strict=True)]
    hf = replicon_hessian(q, al, sw2, *[np.array([b[i] for b in blocks]) for i in range(3)])

    def schur(M: np.ndarray) -> float:
        return float(M[0, 0] - M[0, 1:] @ np.linalg.solve(M[1:, 1:], M[1:, 0]))

    for m in (0.5, 0.75):
        def amp(base: float, d: float, m: float = m) -> tuple[float, float]:
            """(x_1, x_0) = (x + d, x - d(1-m)/m): zero row sums at n -> 0."""
            return base + d, base - d * (1 - m) / m

        cache: dict[tuple, complex] = {}

        def t_layer(layer: int, tc: float, th: float, m: float = m,
                    cache: dict = cache, amp=amp) -> complex:
            key = (layer, tc, th)
            if key not in cache:
                if layer == 0:
                    x1_, x0_ = amp(q, tc)
                    c = (sb2 + sw2, sb2 + sw2 * x1_, sb2 + sw2 * x0_)
                else:
                    x1_, x0_ = amp(g1, tc)
                    c = (sb2 + sw2 * gd1, sb2 + sw2 * x1_, sb2 + sw2 * x0_)
                h1_, h0_ = amp(hat[layer][1], th)
                cache[key] = t_one_rsb(phi, c, (hat[layer][0], h1_, h0_), m, rules)
            return cache[key]

        def phi_1rsb(t: np.ndarray, m: float = m, amp=amp, t_layer=t_layer) -> complex:
            """Φ = lim S/n on 1RSB matrices with amplitudes t (Q, G¹, Ĝ¹, G², Ĝ²); the
            ½ ln det Q part is differentiated separately below. The top term β²/2 Σ C³
            is linear with coefficient g_d - (1-m) g_1 - m g_0: zero along t[3]."""
            val = 0.0
            for l, (gd_, g_, tg, th) in enumerate(((gd1, g1, t[1], t[2]),
                                                   (gd2, g2, t[3], t[4]))):
                x1_, x0_ = amp(g_, tg)
                h1_, h0_ = amp(hat[l][1], th)
                # (1/n) Σ_ab Ĝ G -> ĝ_d g_d + (m-1) ĝ_1 g_1 - m ĝ_0 g_0
                val -= 0.5 * al[l] * (hat[l][0] * gd_ + (m - 1) * h1_ * x1_ - m * h0_ * x0_)
            return val + al[0] * t_layer(0, t[0], t[2]) + al[1] * t_layer(1, t[1], t[4])

        def fd(h: float, f=phi_1rsb) -> np.ndarray:
            k = 5
            E = np.eye(k)
            f0 = f(np.zeros(k))
            H = np.zeros((k, k), dtype=complex)
            for i in range(k):
                H[i, i] = (f(h * E[i]) - 2 * f0 + f(-h * E[i])) / h**2
                for j in range(i + 1, k):
                    H[i, j] = H[j, i] = (f(h * (E[i] + E[j])) - f(h * (E[i] - E[j]))
                                         - f(h * (E[j] - E[i])) + f(-h * (E[i] + E[j]))) / (
                                             4 * h * h)
            return H

        def logdet(d: float, m: float = m, amp=amp) -> float:
            q1_, q0_ = amp(q, d)
            lam_ = 1 - q1_ + m * (q1_ - q0_)
            return 0.5 * ((m - 1) / m * math.log(1 - q1_) + math.log(lam_) / m + q0_ / lam_)

        t0 = time.time()
        H = (4 * fd(1e-3) - fd(2e-3)) / 3
        imag = float(np.max(np.abs(H.imag)))
        ld = [(logdet(hh) - 2 * logdet(0.0) + logdet(-hh)) / hh**2 for hh in (1e-3, 5e-4)]
        H = H.real
        H[0, 0] += (4 * ld[1] - ld[0]) / 3
        H /= (m - 1) / (2 * m)  # (1/n) Σ_{a<b} D_ab² = (m-1)/(2m) per unit amplitude²
        err = float(np.max(np.abs(H - hf)))
        # measured max |diff| 2.3e-7 / 2.3e-8 with 32 / 40 nodes in η0, ζ0, ε (m = 0.5):
        # the 5-D rule's error; rounding in the FD ~1e-10
        check(f"m={m}: 1RSB-functional Hessian / ((m-1)/2m) = n->0 formula (2e-7)",
              err < 2e-7 and imag < 1e-10,
              f"(max |diff| {err:.1e}; imaginary part {imag:.0e}; {time.time() - t0:.0f} s)")
        lam_fd, lam_f = -(1 - q) ** 2 * schur(H), -(1 - q) ** 2 * schur(hf)
        check(f"m={m}: Schur-complement Lambda from the 1RSB functional = formula (1e-7)",
              abs(lam_fd - lam_f) < 1e-7, f"({lam_fd:.10f} vs {lam_f:.10f})")


def check_library() -> None:
    print("\n== library: finite_width_replicon_deep ==")
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.finite_width.deep import finite_width_replicon_deep
    from replicasolve.solvers.finite_width.replicon import finite_width_replicon
    from replicasolve.solvers.landscape import solve_landscape

    # stability = negative-definite real form (pivots > 0 and Lambda > 0); sin, L = 2,
    # T = 0.3: alpha = 1 sits beyond the pole (Lambda > 0 but pivot_1 < 0), alpha = 2 has
    # Lambda < 0 with positive pivots
    for a in (1.0, 2.0, 8.0):
        r = finite_width_replicon_deep("sin", 2.0, 0.0, a, 0.3, 2)
        ev = np.linalg.eigvalsh(r.real_hessian())
        check(f"sin L=2 T=0.3 alpha={a}: stable <=> real form negative definite",
              r.stable == bool(np.all(ev < 0)),
              f"(Lambda {r.replicon:.6f}, pivots {r.pivots}, eigenvalues {ev})")
    d1 = finite_width_replicon_deep("tanh", 1.5, 0.05, 2.0, 0.5, 1, method="hermite").replicon
    ref = finite_width_replicon("tanh", 1.5, 0.05, 2.0, 0.5, method="hermite")
    check("L=1: = finite_width_replicon (1e-10)", abs(d1 - ref) < 1e-10, f"({d1!r}, {ref!r})")
    g = solve_landscape(RandomMLPLandscape("tanh", 2, 1.5, 0.05), 0.8, method="rs").replicon
    sl = [a * (finite_width_replicon_deep("tanh", 1.5, 0.05, a, 0.8, 2).replicon - g)
          for a in (1e4, 1e5)]
    # Λ_α = Λ_∞ + c/α + O(1/α²): the same slope at both α (measured 0.011604 / 0.011603)
    check("L=2: alpha (Lambda_alpha - Lambda_Gauss) is the same at alpha = 1e4, 1e5",
          abs(sl[0] - sl[1]) < 1e-2 * abs(sl[0]), f"(slopes {sl}, Gaussian Λ {g:.10f})")
    lin = [finite_width_replicon_deep("linear", 0.7, 0.2, 1.0, 0.4, L).replicon for L in (2, 3)]
    check("phi = x: Lambda = 1 at L = 2, 3 (step 4)", all(abs(v - 1) < 1e-10 for v in lin),
          f"({lin})")


def main() -> None:
    step1_pair_projection()
    step2_assembly()
    step3_large_alpha()
    step4_linear()
    check_linear_blocks()
    check_small_tilt_blocks()
    check_grid_engine()
    check_finite_n()
    check_n5_block()
    check_one_rsb_functional()
    check_library()
    _CHECKS.finish()


if __name__ == "__main__":
    main()
