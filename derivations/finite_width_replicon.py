"""The replicon (de Almeida–Thouless) eigenvalue of the finite-width RS saddle of a random
MLP landscape, one hidden layer: derived with sympy and checked numerically.

Action (derivations/finite_width_landscape.py step 2), L = 1, per N:
    S = ½ ln det Q + β²/2 Σ_ab (σ_b² + σ_w² G_ab)
        - α[½ Σ_ab Ĝ_ab G_ab - ln E_{z~N(0,C)} e^{½ Σ_ab Ĝ_ab φ(z_a)φ(z_b)}],  C = σ_b² + σ_w² Q.

Steps (each checked below):
 1. S is linear in G: the G integral is δ(Ĝ - β²σ_w²/α) EXACTLY, so δĜ = 0 and δG drops.
    In Hessian terms, the replicon-sector Hessian in (δQ, δG, δĜ) per pair a < b is
    [[A, 0, B], [0, 0, -α], [B, -α, D]] with determinant -α² A: A alone decides.
    With Ĝ fixed, ½ Σ Ĝ φφ = λ²/2 (Σ_a φ_a)², and Hubbard–Stratonovich gives
        S[Q] = ½ ln det Q + α W(C),  W(C) = ln E_ζ E_{z~N(0,C)} Π_a e^{λζφ(z_a)},
    λ = βσ_w/sqrt(α) (plus a Q-independent constant).
 2. ½ ln det Q at Q_RS = (1-q) I + q J: replicon eigenvalue -1/(1-q)² (pairs a < b as
    variables; sympy at n = 4, 5).
 3. W: ∂W/∂C_ab = ⟨∂_a ∂_b⟩ (a ≠ b, Gaussian integration by parts), so
        ∂²W/∂C_ab ∂C_cd = ⟨∂_a∂_b∂_c∂_d Π e^ψ⟩/⟨Π e^ψ⟩ - ⟨ψ'_aψ'_b⟩⟨ψ'_cψ'_d⟩.
    At the RS point z_a = sqrt(c0) η + sqrt(s) ε_a the replicated average is E_n over (η, ζ)
    with weight I^n (I = E_ε e^ψ) of products of single-replica tilted averages ⟨·⟩, so with
    X = ⟨ψ'' + ψ'²⟩, Y = ⟨ψ'⟩²:  M1 = E_n X² - m², M2 = E_n XY - m², M3 = E_n Y² - m²
    (m = E_n Y) and the replicon is  M1 - 2M2 + M3 = E_n (X - Y)² = E_n χ²,
    χ = ∂_h² ln I(h) = (⟨ε²⟩ - ⟨ε⟩² - 1)/s   (Stein: ∂_h I = E ε e^ψ/sqrt(s), ∂_h² I =
    E (ε² - 1) e^ψ / s), h = sqrt(c0) η, s = c1 - c0 = σ_w² (1 - q).
 4. Chain rule C = σ_b² + σ_w² Q: the Q-replicon of S is A = -1/(1-q)² + α σ_w⁴ E_0 χ²
    (n → 0: E_0 is the plain E over η, ζ). Normalised like the Gaussian limit,
        Λ = -(1 - q)² A = 1 - α E_{η,ζ} (Var_ε^ψ ε - 1)²,
    since σ_w⁴ (1-q)² = s². Stable iff Λ ≥ 0.
 5. α → ∞: ln I = Σ_k (λζ)^k κ_k(h)/k! (cumulants of φ over ε), so
    α s² E χ² = α s² λ² E_η κ_1''² + O(1/α) = β² σ_w⁶ (1-q)² E_η m''² = β² ξ''(q)(1-q)²
    (m = κ_1 = E_ε φ; ξ'' = σ_w⁶ E φ''(u)φ''(v) by Price's theorem): Λ → 1 - β²ξ''(q)(1-q)².
 6. φ = x: ψ is linear in ε, the tilted ε is N(λζ sqrt(s), 1), Var = 1 exactly: Λ = 1.
 7. Numeric: at integer n = 4 the second derivative of the layer term α W(C(Q_RS + tΔ))
    along a replicon direction Δ (zero row sums), by finite differences of a direct
    4-dimensional quadrature of the action's layer term, equals 4 α σ_w⁴ E_4 χ² (the n = 4
    version of steps 3-4; φ = sin). The ½ ln det Q part is step 2 (exact, sympy).

Run:  python derivations/finite_width_replicon.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from replicasolve.symbolic.checks import Checks
from replicasolve.symbolic.replica import pairs, replicon_vector

_CHECKS = Checks()
check = _CHECKS.check


# ----------------------------------------------------------------------------- symbolic

def step1_delta_function() -> None:
    print("\n== 1. G enters linearly: the 3x3 replicon block reduces to the Q block ==")
    A, B, D, alpha = sp.symbols("A B D alpha")
    H = sp.Matrix([[A, 0, B], [0, 0, -alpha], [B, -alpha, D]])
    check("det [[A,0,B],[0,0,-alpha],[B,-alpha,D]] = -alpha^2 A",
          sp.expand(H.det() + alpha**2 * A) == 0)
    # the action's G dependence: beta^2 sw2/2 G - alpha/2 Ghat G per ordered pair -> d^2/dG^2 = 0
    G, Gh, beta, sw2 = sp.symbols("G Ghat beta sigma_w2", positive=True)
    lin = beta**2 * sw2 / 2 * G - alpha / 2 * Gh * G
    check("S is linear in G (no GG block); dS/dG = 0 gives Ghat = beta^2 sw2/alpha",
          sp.diff(lin, G, 2) == 0 and sp.solve(sp.diff(lin, G), Gh)[0] == beta**2 * sw2 / alpha)


def step2_logdet() -> None:
    print("\n== 2. replicon of 1/2 ln det Q at Q_RS ==")
    q = sp.Symbol("q")
    for n in (4, 5):
        xs = {p: sp.Symbol(f"x_{p[0]}{p[1]}") for p in pairs(n)}
        Q = sp.Matrix([[1 if i == j else xs[(min(i, j), max(i, j))] for j in range(n)]
                       for i in range(n)])
        # Hessian of 1/2 ln det Q in the pair variables: d(ln det)/dx_ab = 2 (Q^-1)_ab
        at = {x: q for x in xs.values()}
        Qi = Q.subs(at).inv()
        P = pairs(n)
        Hm = sp.Matrix([[-(Qi[a, c] * Qi[b, d] + Qi[a, d] * Qi[b, c]) for (c, d) in P]
                        for (a, b) in P])
        # cross-check one element against a direct second derivative of 1/2 ln det Q
        d2 = sp.diff(sp.log(Q.det()) / 2, xs[P[0]], xs[P[1]]).subs(at)
        ok_el = sp.simplify(d2 - Hm[0, 1]) == 0
        v = sp.Matrix(replicon_vector(n))
        ok = sp.simplify(Hm * v + v / (1 - q) ** 2) == sp.zeros(len(P), 1)
        check(f"n={n}: H v = -1/(1-q)^2 v on a zero-row-sum v (element check {ok_el})",
              ok and ok_el)


def step3_connected() -> None:
    print("\n== 3. M1 - 2 M2 + M3 of the layer term ==")
    EX2, EXY, EY2, m = sp.symbols("E_X2 E_XY E_Y2 m")
    M1, M2, M3 = EX2 - m**2, EXY - m**2, EY2 - m**2
    check("M1 - 2 M2 + M3 = E(X - Y)^2 (disconnected parts cancel)",
          sp.expand(M1 - 2 * M2 + M3 - (EX2 - 2 * EXY + EY2)) == 0)
    # replicon eigenvalue of a pair-pair matrix with entries M1, M2, M3 (n = 5, numbers)
    n = 5
    P = pairs(n)
    vals = (sp.Rational(7, 3), sp.Rational(1, 5), sp.Rational(-2, 7))

    def entry(p: tuple[int, int], r: tuple[int, int]) -> sp.Rational:
        shared = len(set(p) & set(r))
        return vals[0] if shared == 2 else vals[1] if shared == 1 else vals[2]

    Hm = sp.Matrix(len(P), len(P), lambda i, j: entry(P[i], P[j]))
    v = sp.Matrix(replicon_vector(n))
    lam = vals[0] - 2 * vals[1] + vals[2]
    check("pair-pair matrix (M1, M2, M3): zero-row-sum v has eigenvalue M1 - 2M2 + M3",
          Hm * v == lam * v)


def step5_large_alpha() -> None:
    print("\n== 5. alpha -> infinity ==")
    lam, zeta = sp.symbols("lambda zeta")
    k1, k2, k3 = sp.symbols("kappa_1'' kappa_2'' kappa_3''")  # ∂_h² of the cumulants
    chi = lam * zeta * k1 + (lam * zeta) ** 2 / 2 * k2 + (lam * zeta) ** 3 / 6 * k3
    poly = sp.Poly(sp.expand(chi**2), zeta)
    Ez = sum(c * (0 if mon[0] % 2 else sp.factorial2(mon[0] - 1)) for mon, c in poly.terms())
    Ez = sp.expand(Ez)
    check("E_zeta chi^2 = lambda^2 k1''^2 + lambda^4 (3/4 k2''^2 + k1'' k3'') + O(lambda^6)",
          sp.expand(Ez - lam**2 * k1**2 - lam**4 * (sp.Rational(3, 4) * k2**2 + k1 * k3))
          .coeff(lam, 2) == 0
          and sp.expand(Ez - lam**4 * (sp.Rational(3, 4) * k2**2 + k1 * k3)).coeff(lam, 4) == 0)
    beta, sw2, alpha, q = sp.symbols("beta sigma_w2 alpha q", positive=True)
    s = sw2 * (1 - q)
    lead = sp.simplify(alpha * s**2 * (beta**2 * sw2 / alpha) * k1**2)
    check("alpha s^2 lambda^2 k1''^2 = beta^2 sw2^3 (1-q)^2 E m''^2 = beta^2 xi''(q) (1-q)^2",
          sp.simplify(lead - beta**2 * sw2**3 * (1 - q) ** 2 * k1**2) == 0)


# ----------------------------------------------------------------------------- numeric

def _rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(order)
    return x, w / w.sum()


def check_price_limit() -> None:
    """Step 5 numerically: E_η m''(h)² = E φ''(u)φ''(v) = ξ''/σ_w⁶ (tanh)."""
    print("\n== 5'. E_eta m''^2 = E phi''(u) phi''(v) (tanh) ==")
    from replicasolve.kernels.numeric import gauss_hermite_kernel

    sw2, sb2, q = 1.3, 0.2, 0.45
    c1, c0 = sb2 + sw2, sb2 + sw2 * q
    x, w = _rule(120)

    def d2tanh(z: np.ndarray) -> np.ndarray:
        t = np.tanh(z)
        return -2 * t * (1 - t * t)

    m2 = d2tanh(math.sqrt(c0) * x[:, None] + math.sqrt(c1 - c0) * x[None, :]) @ w
    lhs = float(w @ m2**2)
    rhs = float(gauss_hermite_kernel(d2tanh, c1, c1, c0, order=120))
    # two different 120-node rules (product in η, ε vs the kernel's own): agree to 5e-10
    check("E_eta m''^2 = E phi''(u)phi''(v)", abs(lhs - rhs) < 1e-8, f"({lhs:.14f}, {rhs:.14f})")


def replicon_n(phi, sw2: float, sb2: float, alpha: float, beta: float, q: float, n: int,
               order: int = 80) -> float:
    """-1/(1-q)² + α σ_w⁴ E_n χ² (steps 3-4 at integer n; weight I^n over η, ζ)."""
    x, w = _rule(order)
    lam = beta * math.sqrt(sw2 / alpha)
    c0, s = sb2 + sw2 * q, sw2 * (1 - q)
    p = phi(math.sqrt(c0) * x[:, None] + math.sqrt(s) * x[None, :])  # (η, ε)
    e = np.exp(lam * x[None, :, None] * p[:, None, :]) * w  # (η, ζ, ε)
    I = e.sum(2)
    me, me2 = (e @ x) / I, (e @ (x * x)) / I
    chi = (me2 - me**2 - 1) / s
    W = w[:, None] * w[None, :] * I**n
    return -1 / (1 - q) ** 2 + alpha * sw2**2 * float((W * chi**2).sum() / W.sum())


def action_n4(phi, sw2: float, sb2: float, alpha: float, beta: float, Q: np.ndarray,
              order: int) -> float:
    """S_4(Q) = ½ ln det Q + α ln E_{z~N(0, σ_b² + σ_w² Q)} e^{λ²/2 (Σ_a φ(z_a))²}, by a
    direct 4-dimensional Gauss–Hermite product rule on Cholesky-rotated nodes."""
    lam2 = beta**2 * sw2 / alpha
    C = sb2 + sw2 * Q
    L = np.linalg.cholesky(C)
    x, w = _rule(order)
    g = np.meshgrid(x, x, x, x, indexing="ij")
    u = np.stack([a.ravel() for a in g])
    wt = np.einsum("i,j,k,l->ijkl", w, w, w, w).ravel()
    tot = phi(L @ u).sum(0)
    return 0.5 * float(np.linalg.slogdet(Q)[1]) + alpha * math.log(
        float(wt @ np.exp(0.5 * lam2 * tot * tot)))


def check_finite_difference() -> None:
    """Step 7: the replicon of the action itself at n = 4 (finite differences)."""
    print("\n== 7. n = 4: d^2 (alpha W) / dt^2 along a replicon direction vs the formula ==")
    # φ = sin (entire: the 4-D Gauss–Hermite rule converges fast; tanh's poles at ±iπ/2
    # left a 1e-5 quadrature error at 48 nodes) and a mild tilt λ² = 0.4
    sw2, sb2, alpha, beta, q = 0.8, 0.1, 2.0, 1.0, 0.3
    n = 4
    Q0 = np.full((n, n), q) + (1 - q) * np.eye(n)
    D = np.zeros((n, n))
    for (a, b), v in zip(pairs(n), replicon_vector(n), strict=True):
        D[a, b] = D[b, a] = v
    assert np.allclose(D.sum(1), 0)
    h = 0.01
    vals = {}
    for order in (32, 40):
        # the layer term W alone (½ ln det Q is subtracted exactly; its replicon -1/(1-q)²
        # is step 2): a finite difference of ½ ln det at h = 0.01 has a 2e-6 truncation error
        f = [action_n4(np.sin, sw2, sb2, alpha, beta, Q0 + k * h * D, order)
             - 0.5 * float(np.linalg.slogdet(Q0 + k * h * D)[1]) for k in (-2, -1, 0, 1, 2)]
        # 5-point stencil, truncation O(h^4)
        d2 = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)
        vals[order] = d2 / 4.0  # v·H v = Λ_A |v|², |v|² = 4
    formula = replicon_n(np.sin, sw2, sb2, alpha, beta, q, n) + 1 / (1 - q) ** 2
    formula0 = replicon_n(np.sin, sw2, sb2, alpha, beta, q, 0) + 1 / (1 - q) ** 2
    # measured: 32 -> 40 nodes moves the value by 8e-8, h = 0.02 -> 0.01 by 3e-7
    check("n=4: (1/4) d^2 (alpha W)/dt^2 = alpha sw^4 E_4 chi^2",
          abs(vals[40] - formula) < 1e-6 and abs(vals[32] - vals[40]) < 1e-6,
          f"(finite difference {vals[32]:.9f} / {vals[40]:.9f} at 32 / 40 nodes, formula "
          f"{formula:.9f}; the n -> 0 value is {formula0:.9f})")
    # and the n-dependence is real: the n = 4 and n = 0 values differ
    check("n=4 and n=0 replicons differ (the I^n weight matters)", abs(formula - formula0) > 1e-3)


def check_library() -> None:
    """The library function against steps 4-6."""
    print("\n== library: finite_width_replicon ==")
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.finite_width.replicon import finite_width_replicon, replicon_at
    from replicasolve.solvers.landscape import solve_landscape

    sw2, sb2, T = 1.5, 0.05, 0.8
    ref = solve_landscape(RandomMLPLandscape("tanh", 1, sw2, sb2), T, method="rs").replicon
    l3, l6 = (finite_width_replicon("tanh", sw2, sb2, a, T) for a in (1e3, 1e6))
    check("alpha=1e6 replicon = Gaussian-limit 1 - beta^2 xi''(q)(1-q)^2 (1e-7)",
          abs(l6 - ref) < 1e-7, f"({l6:.10f} vs {ref:.10f}; alpha 1e3 {l3:.10f})")
    # the n = 0 formula of this script and the library agree at a common q
    a, q = 2.0, 0.4
    mine = -(1 - q) ** 2 * replicon_n(np.tanh, 1.2, 0.1, a, 1.0, q, 0, order=80)
    lib = replicon_at(np.tanh, 1.2, 0.1, a, 1.0, q)
    check("library replicon_at = -(1-q)^2 x (step-4 Hessian, plain exp)", abs(mine - lib) < 1e-10,
          f"({lib:.14f} vs {mine:.14f})")
    # exact value 1; at α = 0.3, T = 0.3 the tilt λ = 5.1 leaves a 2e-9 quadrature error
    lin = [finite_width_replicon("linear", 0.7, 0.2, a, 0.3) for a in (0.3, 3.0)]
    check("linear phi: replicon = 1 at alpha 0.3, 3 (step 6)",
          all(abs(v - 1) < 1e-8 for v in lin), f"({lin})")


def main() -> None:
    step1_delta_function()
    step2_logdet()
    step3_connected()
    step5_large_alpha()
    check_price_limit()
    check_finite_difference()
    check_library()
    _CHECKS.finish()


if __name__ == "__main__":
    main()
