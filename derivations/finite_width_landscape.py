"""A random MLP's input landscape at finite width ratio α = N_1/N: the replica action with
layer overlaps, its replica-symmetric n → 0 limit, derived with sympy and checked.

Network (Hanin & Winer, arXiv 2503.23982): x on |x|² = N, h_i = W_i·x + b_i (i = 1..N_1 = αN),
W_ij ~ N(0, σ_w²/N), b_i ~ N(0, σ_b²); f = Σ_i w_i φ(h_i) + b with w_i ~ N(0, σ_w²/N_1),
b ~ N(0, σ_b²); H = sqrt(N) f; Z = ∫ dμ(x) e^{-βH}, μ the uniform probability on the sphere.

Derivation, depth L = 1 (each step is a sympy or numeric check below):
 1. Read-out average (exact): given the hidden layer, Σ_a H(x_a) is Gaussian with variance
    N Σ_ab [σ_b² + σ_w² G_ab], G_ab = (1/N_1) Σ_i φ(h_ia) φ(h_ib): E_{w,b} e^{-β Σ_a H_a} =
    exp(N β²/2 Σ_ab C^2_ab), C^2 = σ_b² + σ_w² G. This is the β²/2 C^{L+1} term, O(N).
 2. Given the inputs, the rows (h_i1..h_in) are iid over i, Gaussian with covariance
    C^1_ab = σ_b² + σ_w² Q_ab (Q_ab = x_a·x_b/N). A delta function fixing N_1 G with
    conjugate Ĝ (imaginary contour; the saddle is real) gives
    exp N α [ -½ Σ_ab Ĝ_ab G_ab + ln E_{z~N(0,C^1)} exp(½ Σ_ab Ĝ_ab φ(z_a)φ(z_b)) ].
    The sphere gives exp(N/2 ln det Q). Hence the layer-overlap action (the form of Hanin &
    Winer, arXiv 2503.23982), with C^1 = σ_b² + σ_w² Q and the same signs. At L = 1 it is
    linear in G: Ĝ_ab = β²σ_w²/α for EVERY a, b (diagonal included), and G drops out exactly.
 3. RS: Q = (1-q) I + q J, G: g_d, g; Ĝ: ĝ_d, ĝ. Then ½ Σ Ĝ φφ = ½(ĝ_d - ĝ) Σ φ_a² +
    ½ ĝ (Σ φ_a)²; Hubbard–Stratonovich e^{ĝ X²/2} = E_ζ e^{sqrt(ĝ) ζ X}; z_a =
    sqrt(c0) η + sqrt(c1 - c0) ε_a has covariance C^1 (c1 = σ_b² + σ_w², c0 = σ_b² + σ_w² q).
    So E_z exp(...) = E_{η,ζ} I(η,ζ)^n, I = E_ε exp(ψ), ψ = ½(ĝ_d-ĝ)φ(z)² + sqrt(ĝ) ζ φ(z),
    and ln E I^n = n E ln I + O(n²). With (1/n) ln det Q → ln(1-q) + q/(1-q),
    (1/n) Σ_ab C_ab → c1 - c0 and (1/n) Σ Ĝ G → ĝ_d g_d - ĝ g:
        Φ = ½[ln(1-q) + q/(1-q)] + β²σ_w²/2 (g_d - g) - α[½(ĝ_d g_d - ĝ g) - T],
        T = E_{η,ζ} ln E_ε e^ψ.
 4. Saddle: ĝ_d = ĝ = β²σ_w²/α; g_d = E⟨φ²⟩, g = E⟨φ⟩²; q/(1-q) = α E⟨ε⟩² (equivalently
    q/(1-q)² = α σ_w² E⟨ψ'⟩²); e = -β σ_w² (g_d - g). At the saddle
        Φ = ½[ln(1-q) + q/(1-q)] + α E_{η,ζ} ln E_ε exp(λ ζ φ(z)),  λ = β σ_w / sqrt(α):
    ζ is the (normalised) read-out weight of a hidden unit.
 5. Large α (cumulants of φ over ε at fixed η): α T = β²σ_w²/2 E_η κ₂ + β⁴σ_w⁴/(8α) E_η κ₄
    + O(α⁻²), and E_η κ₂ = E φ(u)² - E φ(u)φ(v) (law of total variance), so Φ → the
    Crisanti–Sommers RS functional with ξ = σ_b² + σ_w² E φφ (C^1(q)); the correction to Φ
    at the saddle is β⁴σ_w⁴/(8α) E_η κ₄ (the shift of q only enters at O(α⁻²)).
 6. Linear φ: κ₄ = 0 and T is exactly α-independent at n → 0, matching the direct argument
    (H = sqrt(N) v·x + const, v = W_1ᵀw concentrates at |v| = σ_w²). At integer n the α
    dependence is real: the action gives S_n = sup_q[½ ln det Q - α/2 ln(1 - β²σ_w⁴ Σ Q/α)]
    (σ_b = 0), checked against the large deviations of |v|² = σ_w⁴ (χ²_N/N)(χ²_{N_1}/N_1).
General depth (derived for L = 2 below): the same steps per layer with C^{l+1} = σ_b² +
σ_w² G^l; the conjugates follow from the layer above (backward pass), using Gaussian
integration by parts: ∂T/∂c1 = E⟨ε²-1⟩/(2s) = ½E⟨ψ''+ψ'²⟩, ∂T/∂c0 = -E⟨ε⟩²/(2s) = -½E⟨ψ'⟩²,
∂T/∂ĝ_d = ½E⟨φ²⟩, ∂T/∂ĝ = -½E⟨φ⟩² (s = c1 - c0).

Run:  python derivations/finite_width_landscape.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from replicasolve.symbolic.checks import Checks

_CHECKS = Checks()
check = _CHECKS.check


# ----------------------------------------------------------------------------- symbolic


def rs_algebra() -> None:
    """Step 3: the RS traces and the n → 0 limits."""
    print("\n== RS algebra and n -> 0 ==")
    n, q, gd, g, hd, h, c1, c0 = sp.symbols("n q g_d g \\hat{g}_d \\hat{g} c_1 c_0")
    for k in (2, 3, 4, 5):
        Q = sp.Matrix(k, k, lambda i, j: 1 if i == j else q)
        ok = sp.simplify(Q.det() - (1 - q) ** (k - 1) * (1 + (k - 1) * q)) == 0
        check(f"det Q_RS = (1-q)^(n-1) (1+(n-1)q) at n={k}", ok)
        G = sp.Matrix(k, k, lambda i, j: gd if i == j else g)
        Gh = sp.Matrix(k, k, lambda i, j: hd if i == j else h)
        tr = sp.expand(sum(Gh[i, j] * G[i, j] for i in range(k) for j in range(k)))
        check(f"sum_ab Ghat G = n ghat_d g_d + n(n-1) ghat g at n={k}",
              sp.expand(tr - (k * hd * gd + k * (k - 1) * h * g)) == 0)
        ph = sp.symbols(f"phi_1:{k + 1}")
        quad = sum(Gh[i, j] * ph[i] * ph[j] for i in range(k) for j in range(k)) / 2
        split = (hd - h) / 2 * sum(p**2 for p in ph) + h / 2 * sum(ph) ** 2
        check(f"1/2 sum Ghat phi phi = (ghat_d-ghat)/2 sum phi^2 + ghat/2 (sum phi)^2 at n={k}",
              sp.expand(quad - split) == 0)
    logdet = ((n - 1) * sp.log(1 - q) + sp.log(1 + (n - 1) * q)) / n
    lim = sp.limit(logdet, n, 0)
    print("  lim (1/n) ln det Q =", sp.latex(sp.simplify(lim)))
    check("(1/n) ln det Q -> ln(1-q) + q/(1-q)",
          sp.simplify(lim - (sp.log(1 - q) + q / (1 - q))) == 0)
    check("(1/n) sum_ab C_ab -> c1 - c0",
          sp.limit((n * c1 + n * (n - 1) * c0) / n, n, 0) == c1 - c0)
    # E I^n = E e^{n ln I} = 1 + n m1 + n² m2/2 + ...: ln E I^n = n E ln I + O(n²)
    m1, m2, m3 = sp.symbols("m_1 m_2 m_3")
    ser = sp.series(sp.log(1 + n * m1 + n**2 * m2 / 2 + n**3 * m3 / 6), n, 0, 2).removeO()
    check("ln E I^n = n E ln I + O(n^2)", sp.expand(ser - n * m1) == 0)
    # Hubbard–Stratonovich and the shared/replica split of z
    zeta, X, eta, e1, e2 = sp.symbols("zeta X eta epsilon_1 epsilon_2", real=True)
    hp = sp.Symbol("ghat", positive=True)
    hs = sp.integrate(sp.exp(sp.sqrt(hp) * zeta * X - zeta**2 / 2), (zeta, -sp.oo, sp.oo))
    check("E_zeta exp(sqrt(ghat) zeta X) = exp(ghat X^2/2)",
          sp.simplify(hs / sp.sqrt(2 * sp.pi) - sp.exp(hp * X**2 / 2)) == 0)
    a1, a0 = sp.symbols("c_1 c_0", positive=True)
    za = sp.sqrt(a0) * eta + sp.sqrt(a1 - a0) * e1
    zb = sp.sqrt(a0) * eta + sp.sqrt(a1 - a0) * e2

    def gauss_mean(expr: sp.Expr) -> sp.Expr:
        # moments of iid N(0,1): E v = 0, E v² = 1 (polynomial of degree 2 here)
        p = sp.Poly(sp.expand(expr), eta, e1, e2)
        tot = 0
        for mon, coef in p.terms():
            tot += coef * sp.prod([0 if k % 2 else sp.factorial2(k - 1) for k in mon])
        return sp.simplify(tot)

    check("z_a = sqrt(c0) eta + sqrt(c1-c0) eps_a has Var c1, Cov c0",
          gauss_mean(za * za) == a1 and gauss_mean(za * zb) == a0)


def rs_functional() -> dict[str, sp.Expr]:
    """Steps 3–4 (L = 1) and the L = 2 backward equations: Φ_RS and its saddle."""
    print("\n== RS functional, depth 1 ==")
    q, gd, g, hd, h = sp.symbols("q g_d g \\hat{g}_d \\hat{g}")
    beta, sw2, sb2, alpha = sp.symbols("beta sigma_w^2 sigma_b^2 alpha", positive=True)
    T = sp.Function("T")
    c1, c0 = sb2 + sw2, sb2 + sw2 * q
    Phi = (sp.Rational(1, 2) * (sp.log(1 - q) + q / (1 - q)) + beta**2 * sw2 / 2 * (gd - g)
           - alpha * (sp.Rational(1, 2) * (hd * gd - h * g) - T(c1, c0, hd, h)))
    print("  Phi_RS =", sp.latex(Phi))
    eqs = {v: sp.diff(Phi, v) for v in (gd, g, hd, h, q)}
    for v, e in eqs.items():
        print(f"  dPhi/d{v} = 0:  ", sp.latex(sp.simplify(e)), "= 0")
    sol = sp.solve([eqs[gd], eqs[g]], [hd, h], dict=True)[0]
    check("ghat_d = ghat = beta^2 sigma_w^2/alpha",
          sp.simplify(sol[hd] - beta**2 * sw2 / alpha) == 0
          and sp.simplify(sol[h] - beta**2 * sw2 / alpha) == 0)
    red = sp.simplify(Phi.subs(sol))
    print("  Phi at the G saddle =", sp.latex(red))
    gh = beta**2 * sw2 / alpha
    check("G drops out: Phi = 1/2[ln(1-q)+q/(1-q)] + alpha T(c1, c0, ghat, ghat)",
          sp.simplify(red - (sp.Rational(1, 2) * (sp.log(1 - q) + q / (1 - q))
                             + alpha * T(c1, c0, gh, gh))) == 0)
    energy = -sp.diff(Phi, beta)
    check("e = -dPhi/dbeta (explicit) = -beta sigma_w^2 (g_d - g)",
          sp.simplify(energy + beta * sw2 * (gd - g)) == 0)

    print("\n== RS functional, depth 2 (backward pass) ==")
    gd1, g1, hd1, h1, gd2, g2, hd2, h2, a1, a2 = sp.symbols(
        "g_d^1 g^1 \\hat{g}_d^1 \\hat{g}^1 g_d^2 g^2 \\hat{g}_d^2 \\hat{g}^2 alpha_1 alpha_2")
    T1, T2 = sp.Function("T_1"), sp.Function("T_2")
    Phi2 = (sp.Rational(1, 2) * (sp.log(1 - q) + q / (1 - q)) + beta**2 * sw2 / 2 * (gd2 - g2)
            - a1 * (sp.Rational(1, 2) * (hd1 * gd1 - h1 * g1) - T1(c1, c0, hd1, h1))
            - a2 * (sp.Rational(1, 2) * (hd2 * gd2 - h2 * g2)
                    - T2(sb2 + sw2 * gd1, sb2 + sw2 * g1, hd2, h2)))
    print("  Phi_RS(L=2) =", sp.latex(Phi2))
    for v in (gd1, g1):
        print(f"  dPhi/d{v} = 0:  ", sp.latex(sp.diff(Phi2, v)), "= 0")
    # a polynomial stand-in for T_2(u, v, ., .) shows the structure of the backward pass:
    # ghat_d^1 = 2 (α_2/α_1) σ_w² ∂T_2/∂c_1,  ghat^1 = -2 (α_2/α_1) σ_w² ∂T_2/∂c_0
    u, v, A, B, D, E = sp.symbols("u v A B D E")
    stand = A * u + B * v + D * u * v + E * u**2
    Phi2s = Phi2.replace(T2, sp.Lambda((u, v, sp.Symbol("s1"), sp.Symbol("s2")), stand))
    at = {u: sb2 + sw2 * gd1, v: sb2 + sw2 * g1}
    hd1_sol = sp.solve(sp.diff(Phi2s, gd1), hd1)[0]
    h1_sol = sp.solve(sp.diff(Phi2s, g1), h1)[0]
    print("  => ghat_d^1 =", sp.latex(hd1_sol), ",  ghat^1 =", sp.latex(h1_sol))
    check("depth 2: ghat_d^1 = 2 (alpha_2/alpha_1) sigma_w^2 dT_2/dc_1 (backward pass)",
          sp.simplify(hd1_sol - 2 * a2 / a1 * sw2 * sp.diff(stand, u).subs(at)) == 0)
    check("depth 2: ghat^1 = -2 (alpha_2/alpha_1) sigma_w^2 dT_2/dc_0 (backward pass)",
          sp.simplify(h1_sol + 2 * a2 / a1 * sw2 * sp.diff(stand, v).subs(at)) == 0)
    ok_top = (sp.simplify(sp.solve(sp.diff(Phi2, gd2), hd2)[0] - beta**2 * sw2 / a2) == 0
              and sp.simplify(sp.solve(sp.diff(Phi2, g2), h2)[0] - beta**2 * sw2 / a2) == 0)
    check("depth 2: top-layer conjugates beta^2 sigma_w^2/alpha_2", ok_top)
    return {"Phi": Phi}


def large_alpha() -> None:
    """Step 5: the cumulant expansion in λ = βσ_w/sqrt(α)."""
    print("\n== large alpha ==")
    lam, zeta, t = sp.symbols("lambda zeta t")
    beta, sw, alpha = sp.symbols("beta sigma_w alpha", positive=True)
    kap = sp.symbols("kappa_1:7")
    K = sum(kap[k - 1] * t**k / sp.factorial(k) for k in range(1, 7))
    poly = sp.Poly(sp.expand(K.subs(t, lam * zeta)), zeta)
    EK = sum(c * (0 if m[0] % 2 else sp.factorial2(m[0] - 1)) for m, c in poly.terms())
    aT = sp.expand(alpha * EK.subs(lam, beta * sw / sp.sqrt(alpha)))
    print("  alpha E_zeta ln E_eps e^{lambda zeta phi} =", sp.latex(aT))
    check("alpha T = beta^2 sw^2 kappa_2/2 + beta^4 sw^4 kappa_4/(8 alpha) + O(1/alpha^2)",
          sp.expand(aT - beta**2 * sw**2 * kap[1] / 2 - beta**4 * sw**4 * kap[3] / (8 * alpha)
                    - beta**6 * sw**6 * kap[5] / (48 * alpha**2)) == 0)


# ----------------------------------------------------------------------------- numeric

def _rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(order)
    return x, w / w.sum()


def site_plain(phi, c1: float, c0: float, hd: float, h: float, order: int = 60) -> dict:
    """T and its moments, plain exp (independent of the library's expm1 implementation)."""
    x, w = _rule(order)
    z = math.sqrt(c0) * x[:, None, None] + math.sqrt(c1 - c0) * x[None, None, :]
    p = phi(z)
    psi = 0.5 * (hd - h) * p**2 + math.sqrt(h) * x[None, :, None] * p
    ew = np.exp(psi) * w[None, None, :]
    s0 = ew.sum(2)
    W = w[:, None] * w[None, :]

    def avg(f: np.ndarray) -> np.ndarray:
        return (ew * f).sum(2) / s0

    eps = np.broadcast_to(x[None, None, :], psi.shape)
    return {"T": float((W * np.log(s0)).sum()), "phi2": float((W * avg(p**2)).sum()),
            "phim2": float((W * avg(p) ** 2).sum()), "eps2m1": float((W * avg(eps**2 - 1)).sum()),
            "epsm2": float((W * avg(eps) ** 2).sum()), "z": z, "ew": ew, "s0": s0, "W": W}


def check_identities() -> None:
    """Gaussian integration by parts for the derivatives of T (finite differences)."""
    print("\n== derivatives of the layer term T (tanh, ghat_d != ghat) ==")
    c1, c0, hd, h = 1.1, 0.4, 0.7, 0.3
    base = site_plain(np.tanh, c1, c0, hd, h)
    s = c1 - c0
    d = 1e-5

    def T(**kw: float) -> float:
        args = {"c1": c1, "c0": c0, "hd": hd, "h": h, **kw}
        return site_plain(np.tanh, args["c1"], args["c0"], args["hd"], args["h"])["T"]

    fd = {"c1": (T(c1=c1 + d) - T(c1=c1 - d)) / (2 * d),
          "c0": (T(c0=c0 + d) - T(c0=c0 - d)) / (2 * d),
          "hd": (T(hd=hd + d) - T(hd=hd - d)) / (2 * d),
          "h": (T(h=h + d) - T(h=h - d)) / (2 * d)}
    # derivative forms with ψ' and ψ'' (tanh' = 1 - tanh², tanh'' = -2 tanh (1 - tanh²))
    z, ew, s0, W = base["z"], base["ew"], base["s0"], base["W"]
    x, _ = _rule(60)
    p = np.tanh(z)
    p1 = 1 - p**2
    p2 = -2 * p * p1
    zeta = x[None, :, None]
    dpsi = (hd - h) * p * p1 + math.sqrt(h) * zeta * p1
    d2psi = (hd - h) * (p1**2 + p * p2) + math.sqrt(h) * zeta * p2

    def avg(f: np.ndarray) -> np.ndarray:
        return (ew * f).sum(2) / s0

    dc1_deriv = 0.5 * float((W * avg(d2psi + dpsi**2)).sum())
    dc0_deriv = -0.5 * float((W * avg(dpsi) ** 2).sum())
    rows = [("dT/dc1 = E<eps^2-1>/(2s)", fd["c1"], base["eps2m1"] / (2 * s)),
            ("dT/dc1 = 1/2 E<psi''+psi'^2>", fd["c1"], dc1_deriv),
            ("dT/dc0 = -E<eps>^2/(2s)", fd["c0"], -base["epsm2"] / (2 * s)),
            ("dT/dc0 = -1/2 E<psi'>^2", fd["c0"], dc0_deriv),
            ("dT/dghat_d = 1/2 E<phi^2>", fd["hd"], 0.5 * base["phi2"]),
            ("dT/dghat = -1/2 E<phi>^2", fd["h"], -0.5 * base["phim2"])]
    for name, a, b in rows:
        check(name, abs(a - b) < 1e-8, f"(finite difference {a:.10f}, formula {b:.10f})")


def check_replica_split() -> None:
    """E_{z~N(0,C)} exp(½ Σ Ĝ φφ) = E_{η,ζ} I^n at integer n (direct n-dim quadrature)."""
    print("\n== Hubbard–Stratonovich + shared/replica split at integer n ==")
    c1, c0, hd, h = 1.1, 0.4, 0.5, 0.3
    # the direct n-dim rule converges slowly (tanh of rotated nodes): 120 and 72 points
    for n, order in ((2, 120), (3, 72)):
        x, w = _rule(order)
        C = np.full((n, n), c0) + (c1 - c0) * np.eye(n)
        Gh = np.full((n, n), h) + (hd - h) * np.eye(n)
        Lc = np.linalg.cholesky(C)
        grids = np.meshgrid(*([x] * n), indexing="ij")
        u = np.stack([gr.ravel() for gr in grids])
        wt = np.prod(np.meshgrid(*([w] * n), indexing="ij"), axis=0).ravel()
        ph = np.tanh(Lc @ u)
        direct = float(wt @ np.exp(0.5 * np.einsum("ai,ab,bi->i", ph, Gh, ph)))
        xs, ws = _rule(60)
        z = math.sqrt(c0) * xs[:, None, None] + math.sqrt(c1 - c0) * xs[None, None, :]
        p = np.tanh(z)
        inner = (np.exp(0.5 * (hd - h) * p**2 + math.sqrt(h) * xs[None, :, None] * p)
                 * ws).sum(2)
        split = float((ws[:, None] * ws[None, :] * inner**n).sum())
        check(f"n={n}", abs(direct - split) < 2e-9 * direct,
              f"(direct {direct:.12f}, E_(eta,zeta) I^n {split:.12f})")


def check_gaussian_limit() -> None:
    """(i) α → ∞: the RS saddle → Crisanti–Sommers RS with ξ = K_2, and the 1/α term."""
    print("\n== (i) alpha -> infinity (tanh) ==")
    from replicasolve.kernels.numeric import gauss_hermite_kernel
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.finite_width.rs import finite_width_rs
    from replicasolve.solvers.landscape import solve_landscape

    sw2, sb2 = 1.0, 0.1
    for T in (1.0, 0.5):
        beta = 1 / T
        ref = solve_landscape(RandomMLPLandscape("tanh", 1, sw2, sb2), T, method="rs")
        q_ref = float(np.atleast_1d(ref.q)[-1])
        big = finite_width_rs("tanh", sw2, sb2, 1e6, T)
        check(f"T={T}: q, f, e at alpha=1e6 match the Gaussian-limit RS (1e-7)",
              abs(big.q - q_ref) < 1e-7 and abs(big.free_energy - ref.free_energy) < 1e-7
              and abs(big.energy - ref.energy) < 1e-7,
              f"(q {big.q:.9f}/{q_ref:.9f}, f {big.free_energy:.10f}/{ref.free_energy:.10f}, "
              f"e {big.energy:.10f}/{ref.energy:.10f})")
        c1, c0 = sb2 + sw2, sb2 + sw2 * big.q
        dual = float(gauss_hermite_kernel(np.tanh, c1, c1, c0, order=120))
        var = float(gauss_hermite_kernel(np.tanh, c1, c1, c1, order=120))
        check(f"T={T}: g -> E tanh(u)tanh(v), g_d -> E tanh^2, alpha ghat -> beta^2 sigma_w^2",
              abs(big.g_off[0] - dual) < 1e-6 and abs(big.g_diag[0] - var) < 1e-6
              and abs(1e6 * big.ghat_off[0] - beta**2 * sw2) < 1e-9,
              f"(g {big.g_off[0]:.9f}/{dual:.9f}, g_d {big.g_diag[0]:.9f}/{var:.9f})")
        # 1/α: α(Φ_α - Φ_∞) → β⁴σ_w⁴/8 E_η κ₄, κ₄ of tanh(sqrt(c0)η + sqrt(c1-c0)ε) over ε
        x, w = _rule(120)
        p = np.tanh(math.sqrt(c0) * x[:, None] + math.sqrt(c1 - c0) * x[None, :])
        mu = p @ w
        dev = p - mu[:, None]
        k4 = (dev**4 @ w) - 3 * (dev**2 @ w) ** 2
        pred = beta**4 * sw2**2 / 8 * float(w @ k4)
        slopes = []
        for a in (1e3, 2e3):
            r = finite_width_rs("tanh", sw2, sb2, a, T)
            slopes.append(a * (-beta * r.free_energy + beta * ref.free_energy))
        check(f"T={T}: alpha (Phi_alpha - Phi_inf) at alpha=1e3, 2e3 -> beta^4 sw^4 E k4/8",
              abs(slopes[0] - pred) < 2e-3 * abs(pred) and abs(slopes[1] - pred) < 1e-3 * abs(pred),
              f"({slopes[0]:.7f}, {slopes[1]:.7f}; cumulant formula {pred:.7f})")

    print("\n== alpha -> infinity at depth 2 (general-L equations) ==")
    T = 0.7
    ref2 = solve_landscape(RandomMLPLandscape("tanh", 2, sw2, sb2), T, method="rs")
    r2 = finite_width_rs("tanh", sw2, sb2, [1e6, 1e6], T)
    check("depth 2: f, e, q at alpha=1e6 match the Gaussian-limit RS (1e-7)",
          abs(r2.free_energy - ref2.free_energy) < 1e-7 and abs(r2.energy - ref2.energy) < 1e-7
          and abs(r2.q - float(np.atleast_1d(ref2.q)[-1])) < 1e-7,
          f"(f {r2.free_energy:.10f}/{ref2.free_energy:.10f})")


def check_linear() -> None:
    """(ii) φ = x: n → 0 is α-independent; integer n against large deviations of |v|."""
    print("\n== (ii) linear activation ==")
    from scipy.optimize import minimize, minimize_scalar

    from replicasolve.models.landscape import linear_landscape
    from replicasolve.solvers.finite_width.rs import finite_width_rs

    sw2, sb2, T = 0.8, 0.3, 0.6
    lin = linear_landscape(sw2**2, T=T)
    for a in (0.5, 2.0):
        r = finite_width_rs("linear", sw2, sb2, a, T)
        check(f"n->0, alpha={a}: f, e, q = the closed form with a = sigma_w^4",
              abs(r.free_energy - lin["free_energy"]) < 1e-10
              and abs(r.energy - lin["energy"]) < 1e-10 and abs(r.q - lin["overlap"]) < 1e-9,
              f"(f {r.free_energy:.12f} vs {lin['free_energy']:.12f})")

    # integer n, σ_b = 0: the replica action vs the law of v = W_1ᵀ w directly
    sw2, alpha, beta = 1.0, 2.0, 0.4

    def psi(h: float) -> float:  # lim (1/N) ln ∫dμ e^{N h t}, t = x·v̂/sqrt(N)
        t = (math.sqrt(1 + 4 * h * h) - 1) / (2 * h)
        return h * t + 0.5 * math.log1p(-t * t)

    for n in (1, 2, 3):
        def neg_direct(v: np.ndarray, n: int = n) -> float:
            a, b = math.exp(v[0]), math.exp(v[1])
            return -(n * psi(beta * sw2 * math.sqrt(a * b)) - 0.5 * (a - 1 - math.log(a))
                     - 0.5 * alpha * (b - 1 - math.log(b)))

        direct = -minimize(neg_direct, np.array([0.1, 0.1]), method="Nelder-Mead",
                           options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000}).fun

        def neg_replica(q: float, n: int = n) -> float:
            logdet = (n - 1) * math.log1p(-q) + math.log1p((n - 1) * q)
            return -(0.5 * logdet - 0.5 * alpha * math.log1p(
                -beta**2 * sw2**2 * (n + n * (n - 1) * q) / alpha))

        if n == 1:
            replica = -neg_replica(0.0)
        else:
            replica = -minimize_scalar(neg_replica, bounds=(-1 / (n - 1) + 1e-12, 1 - 1e-12),
                                       method="bounded", options={"xatol": 1e-13}).fun
        # the same action at α = ∞ (Gaussian H): α-dependence is real at integer n
        gauss = max(0.5 * ((n - 1) * math.log1p(-qq) + math.log1p((n - 1) * qq))
                    + 0.5 * beta**2 * sw2**2 * (n + n * (n - 1) * qq)
                    for qq in np.linspace(-1 / max(n - 1, 1) + 1e-9, 1 - 1e-9, 20001)) \
            if n > 1 else 0.5 * beta**2 * sw2**2
        check(f"integer n={n}: replica action = large deviations of |v|",
              abs(direct - replica) < 1e-9,
              f"(direct {direct:.12f}, replica {replica:.12f}; alpha=inf would give "
              f"{gauss:.6f})")


def main() -> None:
    rs_algebra()
    rs_functional()
    large_alpha()
    check_identities()
    check_replica_split()
    check_gaussian_limit()
    check_linear()
    _CHECKS.finish()


if __name__ == "__main__":
    main()
