"""k-step RSB of the depth-1 finite-width landscape: the functional, derived and checked.

Action (derivations/finite_width_landscape.py, step 2 at L = 1, Ĝ = β²σ_w²/α exactly):
    n Φ_n(Q) = ½ ln det Q + α ln E_ζ E_{z ~ N(0, C(Q))} Π_a exp(λ ζ φ(z_a)),
    C = σ_b² + σ_w² Q,  λ = β σ_w / sqrt(α).
Parisi matrix: Q_aa = 1, q_j between replicas in the same p_j-block but different
p_{j+1}-blocks, n = p_0 > p_1 > … > p_k > p_{k+1} = 1; n → 0 turns p_j into m_j with
0 < m_1 ≤ … ≤ m_k ≤ 1.

Steps (each checked below, symbolically or numerically):
 1. Q = (1 - q_k) I + Σ_{j=0}^k (q_j - q_{j-1}) B_{p_j} (B_p: block-diagonal all-ones blocks of
    size p, q_{-1} = 0); eigenvalues D_k = 1 - q_k, D_{j-1} = D_j + p_j (q_j - q_{j-1})
    (multiplicity n/p_j - n/p_{j-1}, p_0 = n) and D_0 + n q_0 once, so
        (1/n) ln det Q = (1/n) ln(1 + n q_0/D_0) + (1/p_1) ln D_0
                         + Σ_{j=1}^k (1/p_{j+1} - 1/p_j) ln D_j  →  Ψ  (n → 0),
        Ψ = q_0/D_0 + Σ_j (1/m_j) ln(D_{j-1}/D_j) + ln D_k   (Crisanti–Sommers).
 2. z_a = √c_0 η_0 + Σ_j √(c_j - c_{j-1}) η_j^{(block of a at level j)} + √(c_d - c_k) ε_a
    has covariance C(Q) (c_j = σ_b² + σ_w² q_j, c_d = σ_b² + σ_w²).
 3. By independence, from the inside out: Z_k = E_ε e^{λζφ}, Z_{j-1} = (E_{η_j} Z_j^{p_j})^{1/p_j}
    (a p_j-block holds p_j/p_{j+1} blocks of size p_{j+1}), and E_z Π_a e^{λζφ(z_a)} =
    E_{η_0} Z_0^n; then ln E_ζ E_{η_0} Z_0^n = n E ln Z_0 + O(n²).
 4. Φ_k = ½Ψ + α E_{ζ,η_0} ln Z_0. k = 1 is the 1RSB module's functional; q_j = q_{j+1},
    m_j = m_{j+1} and m_k = 1 reduce k by one (Gaussian semigroup: two levels with one m are
    one level with the summed variance); all m = 1 is RS at q_0.
 5. φ linear: (1/m) ln E e^{m(a + bη)} = a + m b²/2 level by level gives
    Φ_k = ½Ψ + β²σ_w⁴/2 [(1 - q_k) + Σ_j m_j (q_j - q_{j-1})] at every α: the Crisanti–Sommers
    k-step functional with ξ(q) = σ_b² + σ_w⁴ q (no α dependence, as at RS).
 6. α → ∞: λ → 0 and the cumulant expansion of each level gives the Crisanti–Sommers k-step
    functional with ξ = σ_b² + σ_w² E[φφ]; the correction is O(1/α) at fixed (q, m).

Run:  python derivations/finite_width_krsb.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from replicasolve.symbolic.checks import Checks

_CHECKS = Checks()
check = _CHECKS.check


def parisi_matrix(q: list, sizes: list[int]) -> sp.Matrix:
    """Q_ab by its definition: q_j if a, b share their p_j-block but not their p_{j+1}-block
    (``sizes`` = p_0 = n, p_1, …, p_k), 1 on the diagonal."""
    n = sizes[0]
    ext = [*sizes, 1]

    def entry(a: int, b: int) -> sp.Expr:
        if a == b:
            return sp.Integer(1)
        j = max(i for i in range(len(sizes)) if a // ext[i] == b // ext[i])
        return q[j]

    return sp.Matrix(n, n, entry)


def step1_determinant() -> None:
    print("\n== 1. Parisi matrix: decomposition, eigenvalues, n -> 0 ==")
    for sizes in ([4, 2], [8, 4, 2], [12, 6, 3]):
        k = len(sizes) - 1
        q = list(sp.symbols(f"q_0:{k + 1}"))
        Q = parisi_matrix(q, sizes)
        n = sizes[0]

        def blocks(p: int, n: int = n) -> sp.Matrix:
            return sp.Matrix(n, n, lambda a, b: 1 if a // p == b // p else 0)

        decomp = (1 - q[k]) * sp.eye(n) + sum(
            ((q[j] - (q[j - 1] if j else 0)) * blocks(sizes[j]) for j in range(k + 1)),
            sp.zeros(n, n))
        check(f"Q = (1-q_k) I + sum_j (q_j - q_(j-1)) B_(p_j), sizes {sizes}",
              sp.simplify(Q - decomp) == sp.zeros(n, n))
        # numeric determinant against the eigenvalue formula at random ordered q
        rng = np.random.default_rng(k)
        qv = np.sort(rng.uniform(0, 0.9, k + 1))
        Qn = np.array(Q.subs(dict(zip(q, qv, strict=True))), dtype=float)
        ext = [*sizes, 1]
        D = [0.0] * (k + 1)
        D[k] = 1 - qv[k]
        for j in range(k, 0, -1):
            D[j - 1] = D[j] + sizes[j] * (qv[j] - qv[j - 1])
        logdet = math.log(D[0] + n * qv[0]) + sum(
            (n / ext[j + 1] - n / ext[j]) * math.log(D[j]) for j in range(k + 1))
        sign, direct = np.linalg.slogdet(Qn)
        check(f"ln det Q from the eigenvalues D_j, sizes {sizes}",
              sign > 0 and abs(direct - logdet) < 1e-10, f"({direct:.12f} vs {logdet:.12f})")
    # n -> 0 of the finite-n formula, k = 2, symbolically
    n, q0, q1, q2, m1, m2 = sp.symbols("n q_0 q_1 q_2 m_1 m_2", positive=True)
    D2 = 1 - q2
    D1 = D2 + m2 * (q2 - q1)
    D0 = D1 + m1 * (q1 - q0)
    finite = (sp.log(1 + n * q0 / D0) / n + sp.log(D0) / m1 + (1 / m2 - 1 / m1) * sp.log(D1)
              + (1 - 1 / m2) * sp.log(D2))
    psi = q0 / D0 + sp.log(D0 / D1) / m1 + sp.log(D1 / D2) / m2 + sp.log(D2)
    lim = sp.limit(finite, n, 0)
    print("  Psi (k = 2) =", sp.latex(psi))
    check("(1/n) ln det Q -> Psi (k = 2)", sp.simplify(sp.expand_log(lim - psi, force=True)) == 0)


def entropy_psi(q: list, m: list) -> sp.Expr:
    k = len(m)
    D = [None] * (k + 1)
    D[k] = 1 - q[k]
    for j in range(k, 0, -1):
        D[j - 1] = D[j] + m[j - 1] * (q[j] - q[j - 1])
    return q[0] / D[0] + sum(sp.log(D[j - 1] / D[j]) / m[j - 1] for j in range(1, k + 1)) \
        + sp.log(D[k])


def step1_reductions() -> None:
    print("\n== 1b. reductions of the entropic term ==")
    q = list(sp.symbols("q_0:3", positive=True))
    m = list(sp.symbols("m_1:3", positive=True))
    psi2 = entropy_psi(q, m)
    q0, q1, m_ = sp.symbols("q_0 q_1 m", positive=True)
    one = (sp.log(1 - q1) + sp.log((1 - q1 + m_ * (q1 - q0)) / (1 - q1)) / m_
           + q0 / (1 - q1 + m_ * (q1 - q0)))
    check("k = 1 is the 1RSB module's entropic term",
          sp.simplify(entropy_psi([q0, q1], [m_]) - one) == 0)
    cases = {
        "q_1 = q_2": (psi2.subs(q[2], q[1]), entropy_psi(q[:2], m[:1])),
        "q_0 = q_1": (psi2.subs(q[1], q[0]), entropy_psi([q[0], q[2]], [m[1]])),
        "m_1 = m_2": (psi2.subs(m[1], m[0]), entropy_psi([q[0], q[2]], [m[0]])),
        "m_2 = 1": (psi2.subs(m[1], 1), entropy_psi(q[:2], m[:1])),
        "m = 1 everywhere (RS at q_0)": (psi2.subs({m[0]: 1, m[1]: 1}),
                                         entropy_psi(q[:1], [])),
    }
    for name, (a, b) in cases.items():
        check(f"Psi_2 at {name} = Psi_1", sp.simplify(sp.expand_log(a - b, force=True)) == 0)


def step2_covariance() -> None:
    print("\n== 2. the hierarchical field has covariance C(Q) ==")
    sizes = [8, 4, 2]
    n, k = sizes[0], 2
    sb2, sw2 = sp.symbols("sigma_b^2 sigma_w^2", positive=True)
    q = list(sp.symbols("q_0:3", positive=True))
    c = [sb2 + sw2 * qq for qq in q]
    cd = sb2 + sw2
    # z_a = Σ_v coef_a(v) v over independent N(0,1) variables v
    coef: list[dict[tuple, sp.Expr]] = []
    for a in range(n):
        row = {("eta", 0, 0): sp.sqrt(c[0])}
        for j in range(1, k + 1):
            row[("eta", j, a // sizes[j])] = sp.sqrt(c[j] - c[j - 1])
        row[("eps", a)] = sp.sqrt(cd - c[k])
        coef.append(row)
    Q = parisi_matrix(q, sizes)
    ok = True
    for a, b in itertools.product(range(n), repeat=2):
        cov = sum(coef[a][v] * coef[b][v] for v in coef[a] if v in coef[b])
        ok &= sp.simplify(cov - (sb2 + sw2 * Q[a, b])) == 0
    check("Cov(z_a, z_b) = sigma_b^2 + sigma_w^2 Q_ab (n = 8, blocks 4, 2)", ok)


def step3_replica_product() -> None:
    print("\n== 3. replica product at integer n, and n -> 0 ==")
    # n = 4, p_1 = 2 (k = 1), tanh, fixed zeta: a direct 4-dimensional Gauss–Hermite integral
    # against the nested formula E_eta0 (E_eta1 Z1^p)^(n/p). The direct rule (nodes rotated
    # by the Cholesky factor) converges slowly: measured 1e-7 off at 40 points, 3e-9 at 72.
    sb2, sw2, lamz = 0.1, 1.2, 0.7
    q = [0.3, 0.6]
    C = sb2 + sw2 * np.array(parisi_matrix(q, [4, 2]).tolist(), dtype=float)
    Lc = np.linalg.cholesky(C)
    x, w = np.polynomial.hermite_e.hermegauss(72)
    w = w / w.sum()
    g3 = np.stack([g.ravel() for g in np.meshgrid(*([x] * 3), indexing="ij")])
    w3 = np.prod(np.meshgrid(*([w] * 3), indexing="ij"), axis=0).ravel()
    direct = 0.0
    for x0, w0 in zip(x, w, strict=True):  # one node of the first variable at a time
        u = np.vstack([np.full(g3.shape[1], x0), g3])
        direct += w0 * float(w3 @ np.exp(lamz * np.tanh(Lc @ u)).prod(axis=0))
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    c0, c1, cd = sb2 + sw2 * q[0], sb2 + sw2 * q[1], sb2 + sw2
    z = (math.sqrt(c0) * x[:, None, None] + math.sqrt(c1 - c0) * x[None, :, None]
         + math.sqrt(cd - c1) * x[None, None, :])
    Z1 = np.exp(lamz * np.tanh(z)) @ w  # (eta0, eta1)
    nested = float(w @ ((Z1**2 @ w) ** 2))  # p = 2, n/p = 2
    flat = float(w @ ((Z1 @ w) ** 4))  # a wrong nesting (p = 1, i.e. RS at q_0)
    check("E_z prod_a e^(lambda zeta phi(z_a)) = E_eta0 (E_eta1 Z_1^p)^(n/p), n=4, p=2",
          abs(direct - nested) < 1e-8 * direct and abs(flat - nested) > 1e-4,
          f"(direct {direct:.12f}, nested {nested:.12f}; RS nesting {flat:.6f})")
    nn, m1, m2 = sp.symbols("n m_1 m_2")
    ser = sp.series(sp.log(1 + nn * m1 + nn**2 * m2 / 2), nn, 0, 2).removeO()
    check("ln E Z_0^n = n E ln Z_0 + O(n^2)", sp.expand(ser - nn * m1) == 0)


def step5_linear() -> None:
    print("\n== 5. linear activation: closed form at every alpha ==")
    a, b, m_, eta = sp.symbols("a b m eta", real=True)
    lhs = sp.log(sp.integrate(sp.exp(m_ * (a + b * eta) - eta**2 / 2), (eta, -sp.oo, sp.oo))
                 / sp.sqrt(2 * sp.pi)) / m_
    check("(1/m) ln E e^(m(a + b eta)) = a + m b^2/2",
          sp.simplify(sp.expand_log(lhs, force=True) - (a + m_ * b**2 / 2)) == 0)
    from replicasolve.solvers.finite_width.krsb import krsb_functional, parisi_entropy

    sw2, sb2, T = 0.8, 0.3, 0.6
    beta = 1 / T
    for alpha in (1.0, 3.0):
        for q, m in (([0.2, 0.5, 0.7], [0.3, 0.8]), ([0.0, 0.4], [0.5])):
            got = krsb_functional(lambda t: t, sw2, sb2, alpha, T, q, m, order=32)
            x_int = (1 - q[-1]) + sum(mj * (q[j + 1] - q[j]) for j, mj in enumerate(m))
            closed = parisi_entropy(q, m) + 0.5 * beta**2 * sw2**2 * x_int
            check(f"alpha={alpha}, k={len(m)}: Phi_k = Psi/2 + beta^2 sw^4/2 int x dq",
                  abs(got - closed) < 1e-12, f"({got:.14f} vs {closed:.14f})")


def step4_numeric_reductions() -> None:
    print("\n== 4. reductions of the full functional (grid quadrature, sin) ==")
    from replicasolve.solvers.finite_width.krsb import krsb_functional

    args = (np.sin, 2.0, 0.0, 4.0, 0.5)
    kw = {"method": "grid", "period": 2 * math.pi, "odd": True}
    pairs = {
        "m_1 = m_2": (([0.2, 0.4, 0.6], [0.3, 0.3]), ([0.2, 0.6], [0.3])),
        "m_2 = 1": (([0.2, 0.4, 0.6], [0.3, 1.0]), ([0.2, 0.4], [0.3])),
        "q_1 = q_2": (([0.2, 0.4, 0.4], [0.3, 0.7]), ([0.2, 0.4], [0.3])),
        "all m = 1 (RS at q_0)": (([0.1, 0.3, 0.5], [1.0, 1.0]), ([0.1], [])),
    }
    for name, (big, small) in pairs.items():
        a = krsb_functional(*args, *big, **kw)
        b = krsb_functional(*args, *small, **kw)
        # exact up to the Gaussian semigroup of the sampled kernels (~1e-15) and rounding
        check(f"Phi_2 at {name} = Phi_1", abs(a - b) < 1e-13, f"(difference {a - b:.1e})")
    from replicasolve.solvers.finite_width.rsb import one_rsb_functional

    a = krsb_functional(*args, [0.2, 0.6], [0.4], order=32)
    b = one_rsb_functional(*args, 0.2, 0.6, 0.4, order=32)
    check("k = 1 (nested Gauss–Hermite) = one_rsb_functional", abs(a - b) < 1e-13,
          f"({a:.15f} vs {b:.15f})")


def step6_large_alpha() -> None:
    print("\n== 6. alpha -> infinity: the Crisanti–Sommers k-step functional ==")
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.finite_width.krsb import krsb_functional
    from replicasolve.solvers.spherical import parisi_functional

    T = 0.5
    model = RandomMLPLandscape("sin", 1, 2.0, 0.0).model(T)
    q, m = [0.2, 0.45, 0.6], [0.4, 0.7]
    F, _ = parisi_functional(model, q, m)
    gaps = [krsb_functional(np.sin, 2.0, 0.0, a, T, q, m, method="grid", period=2 * math.pi,
                            odd=True) - F / T for a in (1e4, 2e4)]
    check("Phi_2(alpha) - F_CS/T = O(1/alpha): halves when alpha doubles",
          abs(gaps[1] / gaps[0] - 0.5) < 0.01 and abs(gaps[0]) < 1e-3,
          f"(gaps {gaps[0]:.3e}, {gaps[1]:.3e})")


def main() -> None:
    step1_determinant()
    step1_reductions()
    step2_covariance()
    step3_replica_product()
    step4_numeric_reductions()
    step5_linear()
    step6_large_alpha()
    _CHECKS.finish()


if __name__ == "__main__":
    main()
