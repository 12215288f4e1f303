"""The replica derivation of the multilayer SK model: the paramagnet's stability and T_c.

:func:`derive_msk` assembles the stepwise sympy derivation of
:mod:`replicasolve.symbolic.msk` (disorder average, two-replica Ising entropy, the RS action
to second order in the layer overlaps, its Hessian, the critical-condition matrix K, the
identical-layer spectrum) into a :class:`~replicasolve.derivation.derivation.Derivation` for an
:class:`~replicasolve.models.msk.MSK` problem with numbers, and :func:`derive_msk_symbolic`
does the same with the layer fractions α_l and variances C_l kept as symbols.

Model (Barney, Winer & Galitski, arXiv 2408.06421): Ising spins in layers l = 0..L of sizes
N_l = α_l N, H = -Σ_l Σ_{i∈l, j∈l-1} W^l_ij s^l_i s^{l-1}_j, W^l_ij ~ N(0, C_l / N_{l-1}).
For a problem with numbers the reference size is the total N = Σ_l N_l (so Σ_l α_l = 1 and
energies and entropies are per spin of the whole network, in units of the couplings and of
k_B); only ratios of the α_l enter T_c.

Results: the paramagnet q_l = 0 is stable while -Hessian = diag(α) - β² M is positive
definite; scaled by diag(α)^{-1/2} it is I - β² K, K_{l,l-1} = C_l sqrt(α_l / α_{l-1}), so
β_c^{-2} = λ_max(K), the largest root of the characteristic polynomial det(λ - K) (exact
rational coefficients for a problem with numbers, since only K_{l,l-1}² enters). Identical
layers: λ_k = 2C cos(πk/(L+2)), T_c = sqrt(2C cos(π/(L+2))); two layers: sqrt(C).
:meth:`Derivation.check` compares the derived T_c with
:func:`replicasolve.solvers.dispatch.solve` (LAPACK bisection on K).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import sympy as sp

from ..errors import InvalidInputError
from ..models.msk import MSK
from ..solvers.dispatch import solve
from ..solvers.methods import FullRSB, as_method
from ..symbolic import msk as sm
from .derivation import (
    Derivation,
    DerivationCheck,
    Step,
    UnsupportedDerivationError,
    finite_or_nan,
)

__all__ = [
    "CHECK_TOLERANCE",
    "EXACT_ROOT_LAYERS",
    "SYMBOLIC_POLY_LAYERS",
    "derive_msk",
    "derive_msk_symbolic",
]

#: Default bound (relative) on |T_c derived - T_c solver| / T_c in :meth:`Derivation.check`.
#: The derived T_c is the largest root of an exact rational polynomial evaluated at 30
#: digits; the solver's λ_max(K) is LAPACK bisection on the tridiagonal K, accurate to a few
#: ε·‖K‖ = a few ε·λ_max (K is non-negative, so ‖K‖₂ = λ_max), i.e. ~1e-15 relative on T_c.
#: 1e-12 leaves three decades for the rescaling by max C_l and the square root. The unstable
#: mode is held to ``tolerance · λ_max / gap`` (eigenvector perturbation bound).
CHECK_TOLERANCE = 1e-12

#: Up to this many spin layers det(-H) and det(λ - K) are written out in the symbols α_l,
#: C_l (their number of terms grows like the Fibonacci numbers); beyond, with numbers only.
SYMBOLIC_POLY_LAYERS = 8

#: Up to this many spin layers λ_max(K) is isolated exactly (``Poly.real_roots``) and then
#: evaluated; deeper networks use a 30-digit symmetric eigen-solver (mpmath) on the exact K.
EXACT_ROOT_LAYERS = 16

_DIGITS = 30
_LAM = sp.Symbol("lambda", real=True)
_T_C = sp.Symbol("T_c", positive=True)


def _method(ansatz: Any) -> Any:
    if ansatz is None:
        return as_method("rs")
    try:
        method = as_method(ansatz)
    except InvalidInputError as exc:
        raise UnsupportedDerivationError("ansatz", str(exc)) from None
    if isinstance(method, FullRSB) or method.k != 0:
        raise UnsupportedDerivationError(
            "ansatz", f"{method.name}: the MSK derivation is the RS paramagnet and its "
            "stability (the transition T_c); use RS()")
    return method


def _char_poly(K: sp.Matrix) -> sp.Expr:
    """det(λ I - K) of a symmetric tridiagonal K with zero diagonal, by the three-term
    recurrence P_l = λ P_{l-1} - K_{l,l-1}² P_{l-2} (exact, linear in the depth)."""
    prev, cur = sp.Integer(1), _LAM
    for l in range(1, K.rows):
        prev, cur = cur, sp.expand(_LAM * cur - K[l, l - 1] ** 2 * prev)
    return cur


def _require_root(poly: sp.Expr, var: sp.Symbol, root: sp.Expr) -> None:
    if sp.simplify(poly.subs(var, root)) != 0:
        raise sm.DerivationCheckError(f"{root} is not a root of {poly}")


def _det_recurrence(M: sp.Matrix) -> sp.Expr:
    """det of a symmetric tridiagonal matrix by the continuant recurrence."""
    prev, cur = sp.Integer(1), M[0, 0]
    for l in range(1, M.rows):
        prev, cur = cur, sp.expand(M[l, l] * cur - M[l, l - 1] ** 2 * prev)
    return cur


@lru_cache(maxsize=64)
def _generic(n: int) -> tuple[tuple[Step, ...], dict[str, Any]]:
    """Steps and expressions in the symbols α_l, C_l, β of :func:`symbolic.msk.layer_symbols`."""
    sym = sm.layer_symbols(n)
    beta = sym.beta
    dis = sm.disorder_average_exponent()
    ent = sm.ising_overlap_entropy(order=4)
    action = sm.rs_quadratic_action(n)
    hessian = sm.rs_hessian(n)
    K = sm.critical_condition_matrix(n)
    stability = sp.ImmutableMatrix(-hessian)
    # in symbols both have as many terms as the path graph has matchings (Fibonacci in
    # n): written out up to SYMBOLIC_POLY_LAYERS, beyond that only with numbers
    symbolic_poly = n <= SYMBOLIC_POLY_LAYERS
    det = _det_recurrence(stability) if symbolic_poly else None
    poly = _char_poly(K) if symbolic_poly else None
    # the paramagnet's free energy per N: ln 2 per spin (the trace Σ_{s=±1} 1) and the
    # annealed term β² C_l α_l / 2 of each weight layer (diagonal a = b of step 1)
    s_var = sp.Symbol("s", integer=True)
    trace = sp.log(sp.summation(sp.Integer(1), (s_var, 1, 2)))
    phi = sp.expand(
        sum((a * trace for a in sym.alpha), sp.Integer(0))
        + sum((dis.annealed_per_replica.subs({dis.C: sym.C[l - 1], dis.alpha: sym.alpha[l]})
               for l in range(1, n)), sp.Integer(0)))
    energy = sp.expand(-sp.diff(phi, beta))
    entropy = sp.expand(phi - beta * sp.diff(phi, beta))
    exprs: dict[str, Any] = {k: v for k, v in (("critical_determinant", det),
                                               ("critical_polynomial", poly)) if v is not None}
    exprs.update({
        "disorder_average": dis.average,
        "pair_coefficient": dis.pair_coefficient,
        "overlap_entropy": ent.series,
        "action": action.expr,
        "hessian": hessian,
        "stability_matrix": stability,
        "critical_matrix": K,
        "free_energy": phi,
        "energy": energy,
        "entropy": entropy,
    })
    steps = [
        Step("Disorder average", "One Gaussian weight W ~ N(0, σ²) averaged against "
             "exp(βWx), x = Σ_a s^{l,a}_i s^{l-1,a}_j (sympy integral); summed over i ∈ l, "
             "j ∈ l-1 with σ² = C_l/N_{l-1} it couples each replica pair a < b by "
             "β² C_l α_l q^l_ab q^{l-1}_ab per spin:",
             [sp.Eq(sp.Symbol(r"\mathbb{E}_w e^{\beta w x}"), dis.average),
              sp.Eq(sp.Symbol(r"\text{pair coefficient}"), dis.pair_coefficient)]),
        Step("Overlap entropy", "Entropy of fixing the overlap q of two Ising replicas, "
             "the Legendre transform of ln(4 cosh λ), expanded in q:",
             sp.Eq(sp.Function("s")(ent.q), ent.series)),
        Step("RS action", "Replica symmetry q^l_ab = q_l, per replica pair and per spin, to "
             "second order in the layer overlaps (α_l = N_l/N):",
             sp.Eq(sp.Function("S")(*sym.q), action.expr)),
        Step("Paramagnet", "At q = 0 the n → 0 limit leaves ln 2 per spin and the annealed "
             "term of each weight layer; e = -∂(-βf)/∂β, s = -βf + βe:",
             [sp.Eq(sp.Symbol(r"-\beta f"), phi), sp.Eq(sp.Symbol("e"), energy),
              sp.Eq(sp.Symbol("s"), entropy)]),
        Step("Hessian", "Second derivatives of the RS action in the layer overlaps at the "
             "paramagnet q = 0 (the longitudinal = replicon sector at q = 0: one matrix):",
             sp.Eq(sp.MatrixSymbol("H", n, n), sp.ImmutableMatrix(hessian), evaluate=False)),
        Step("Stability", "The paramagnet is stable while -H = diag(α) - β² M is positive "
             "definite; it is lost where its smallest eigenvalue reaches 0, det(-H) = 0 "
             "(tridiagonal: the continuant D_l = (-H)_{ll} D_{l-1} - (-H)_{l,l-1}² D_{l-2}):",
             sp.Eq(det, 0) if symbolic_poly else None),
        Step("Critical matrix", "The congruence diag(α)^{-1/2} (-H) diag(α)^{-1/2} = "
             "I - β² K keeps definiteness; the eigenvalues of the scaled Hessian are "
             "1 - β² λ_k(K), so β_c^{-2} = λ_max(K):",
             sp.Eq(sp.MatrixSymbol("K", n, n), sp.ImmutableMatrix(K), evaluate=False)),
        Step("Critical polynomial", f"λ_max(K) is the largest root of det(λ - K) (degree "
             f"{n}; only K_{{l,l-1}}² = C_l² α_l/α_{{l-1}} enters), and T_c² = λ_max:",
             sp.Eq(poly.subs(_LAM, _T_C**2), 0) if symbolic_poly else None),
    ]
    if n <= 5:
        # det(λ - K) = λ^r Q(λ²) with deg Q ≤ 2: T_c in radicals
        mu = sp.Symbol("mu", positive=True)
        q_mu = sp.expand(sp.cancel(poly / _LAM ** (n % 2)).subs(_LAM, sp.sqrt(mu)))
        coeffs = sp.Poly(q_mu, mu).all_coeffs()
        if len(coeffs) == 2:
            top = -coeffs[1] / coeffs[0]
        else:
            # the larger root of a quadratic with real roots: + sign of the radical
            a2, a1, a0 = coeffs
            top = (-a1 + sp.sqrt(a1**2 - 4 * a2 * a0)) / (2 * a2)
        _require_root(q_mu, mu, top)
        top = sp.factor(top)
        T_c = sp.root(top, 4)
        exprs["T_c"] = T_c
        steps.append(Step("Critical temperature", "det(λ - K) = λ^r Q(λ²) with Q of degree "
                          "≤ 2; its largest root gives T_c in closed form:",
                          sp.Eq(_T_C, T_c)))
    ident = sm.critical_temperature_identical()
    spec = sm.identical_layer_spectrum()
    steps.append(Step("Identical layers", "For C_l = C and equal α_l, K = C × (path-graph "
                      "adjacency) with eigenvalues 2C cos(πk/(L+2)), k = 1..L+1 (checked for "
                      "symbolic L); the top one gives T_c, two layers sqrt(C), L → ∞ "
                      "sqrt(2C):",
                      [sp.Eq(sp.Symbol("lambda_k"), spec.eigenvalue),
                       sp.Eq(_T_C, ident.T_c), sp.Eq(sp.Symbol("T_c(L=1)"), ident.two_layers),
                       sp.Eq(sp.Symbol("T_c(L->oo)"), sm.deep_limit())]))
    exprs["T_c_identical"] = ident.T_c
    return tuple(steps), exprs


def _rational(value: float) -> sp.Rational:
    # the shortest decimal that reads back as the float: exact, and readable in LaTeX
    return sp.Rational(repr(float(value)))


def _top_eigen(K: sp.Matrix, poly: sp.Expr) -> tuple[sp.Expr, sp.Float, sp.Float, list[float]]:
    """(λ_max exactly or at 30 digits, λ_max at 30 digits, the gap to the next eigenvalue,
    the unit top eigenvector of K at 30 digits)."""
    import mpmath

    n = K.rows
    with mpmath.workdps(_DIGITS):
        Kf = mpmath.matrix([[mpmath.mpf(str(K[i, j].evalf(_DIGITS))) for j in range(n)]
                            for i in range(n)])
        evals, evecs = mpmath.eigsy(Kf)
        order = sorted(range(n), key=lambda i: evals[i])
        top_i = order[-1]
        vec = [float(evecs[i, top_i]) for i in range(n)]
        gap = evals[top_i] - evals[order[-2]]
    sign = 1.0 if max(vec, key=abs) > 0 else -1.0
    vec = [sign * v for v in vec]
    if n <= EXACT_ROOT_LAYERS:
        roots = sp.Poly(poly, _LAM).real_roots()
        lam = max(roots, key=lambda r: r.evalf(_DIGITS))
        lam_f = sp.Float(lam.evalf(_DIGITS), _DIGITS)
    else:
        lam = sp.Float(str(evals[top_i]), _DIGITS)
        lam_f = lam
    return lam, lam_f, sp.Float(str(gap), _DIGITS), vec


@lru_cache(maxsize=64)
def _numeric(sizes: tuple[int, ...], variances: tuple[float, ...]) -> dict[str, Any]:
    n = len(sizes)
    sym = sm.layer_symbols(n)
    _, exprs = _generic(n)
    total = sum(sizes)
    subs = {**{a: sp.Rational(s, total) for a, s in zip(sym.alpha, sizes, strict=True)},
            **{c: _rational(v) for c, v in zip(sym.C, variances, strict=True)}}
    out = {}
    for name in ("action", "hessian", "stability_matrix", "critical_matrix", "free_energy",
                 "energy", "entropy"):
        e = exprs[name]
        out[name] = (sp.ImmutableMatrix(e.xreplace(subs))
                     if isinstance(e, sp.MatrixBase) else sp.expand(e.xreplace(subs)))
    K = out["critical_matrix"]
    out["critical_determinant"] = _det_recurrence(out["stability_matrix"])
    poly = out["critical_polynomial"] = _char_poly(K)
    lam, lam_f, gap, vec = _top_eigen(K, poly)
    out["lambda_max"] = lam
    out["T_c"] = sp.sqrt(lam)
    out["T_c_value"] = sp.sqrt(lam_f)
    out["gap"] = gap
    out["mode_K"] = vec
    # the smallest eigenvalue of the scaled Hessian I - β² K, as a function of β
    out["stability"] = 1 - sym.beta**2 * lam_f
    if n <= EXACT_ROOT_LAYERS:
        # every eigenvalue of the scaled Hessian I - β² K, exact (K's spectrum is the roots
        # of its characteristic polynomial, all real: K is symmetric)
        spectrum = sorted(sp.Poly(poly, _LAM).real_roots(), key=lambda r: -r.evalf(_DIGITS))
        out["stability_eigenvalues"] = tuple(1 - sym.beta**2 * r for r in spectrum)
    identical = len(set(sizes)) == 1 and len(set(variances)) == 1
    if identical:
        ident = sm.critical_temperature_identical()
        out["T_c_identical"] = ident.T_c.subs({ident.L: n - 1, ident.C: _rational(variances[0])})
    return out


def derive_msk(problem: MSK, ansatz: Any = None) -> Derivation:
    """The replica derivation of the multilayer SK model's paramagnet and its T_c.

    Args:
        problem: an :class:`~replicasolve.models.msk.MSK` (layer sizes N_0..N_L and
            variances C_1..C_L, numbers); α_l = N_l / Σ N_l.
        ansatz: ``RS()`` (or ``"rs"``, or ``None``): the paramagnet and the stability of its
            RS Hessian.

    Returns:
        A :class:`~replicasolve.derivation.derivation.Derivation`. ``expressions`` (in the
        symbols α_l, C_l, β, q_l of :func:`replicasolve.symbolic.msk.layer_symbols`):
        ``"action"`` (RS action to O(q²)), ``"hessian"`` ((L+1)×(L+1)), ``"stability_matrix"``
        (-H), ``"critical_matrix"`` (K), ``"critical_determinant"`` (det(-H), zero at T_c),
        ``"critical_polynomial"`` (det(λ - K)), ``"free_energy"``, ``"energy"``,
        ``"entropy"`` (paramagnet: -βf, e, s per N), ``"T_c"`` in radicals for ≤ 5 layers,
        ``"T_c_identical"`` (sqrt(2C cos(π/(L+2)))); ``numeric`` the same with this problem's
        α_l, C_l substituted (exact rationals) plus ``"lambda_max"`` (exact root),
        ``"T_c"`` (= sqrt(λ_max)), ``"stability"`` (smallest eigenvalue of I - β² K as a
        function of β), and ``"T_c_identical"`` when every layer is identical;
        ``expressions["T_c_network"]`` is this network's exact T_c and
        ``expressions["stability_eigenvalues"]`` (up to :data:`EXACT_ROOT_LAYERS` layers)
        the L + 1 eigenvalues 1 - β² λ_k(K) of the scaled Hessian, ascending at β > 0
        (λ_k descending);
        ``parameters`` = (β,). :meth:`Derivation.check` compares T_c and the unstable mode
        with the solver (:data:`CHECK_TOLERANCE`).

    Raises:
        UnsupportedDerivationError: not an MSK (step ``"problem"``), or an ansatz other
            than RS (``"ansatz"``).

    References:
        Barney, Winer & Galitski, arXiv 2408.06421; Sherrington & Kirkpatrick, PRL 35,
        1792 (1975).
    """
    if not isinstance(problem, MSK):
        raise UnsupportedDerivationError(
            "problem", f"derive_msk takes an MSK, got {type(problem).__name__}")
    method = _method(ansatz)
    n = len(problem.sizes)
    steps, exprs = _generic(n)
    num = _numeric(tuple(problem.sizes), tuple(problem.variance))
    beta = sm.layer_symbols(n).beta
    # floats for the code generator (exact rationals of extreme variances overflow its ints)
    numeric = {name: sp.N(num[name], 17)
               for name in ("free_energy", "energy", "entropy", "stability")}
    numeric["T_c"] = num["T_c_value"]
    model = Step("Model", f"{n} spin layers, sizes {list(problem.sizes)}, variances "
                 f"{list(problem.variance)}; α_l = N_l/{sum(problem.sizes)}:",
                 [sp.Eq(s, v) for s, v in zip(sm.layer_symbols(n).alpha,
                                              (sp.Rational(x, sum(problem.sizes))
                                               for x in problem.sizes), strict=True)])
    result = []
    if "stability_eigenvalues" in num:
        result.append(Step("Hessian spectrum of this network", "The eigenvalues of the "
                           "scaled Hessian I - β² K (the smallest is lost first):",
                           list(num["stability_eigenvalues"])))
    result += [Step("Critical temperature of this network", "λ_max(K) with these α_l, C_l "
                   "(the largest root of the rational polynomial det(λ - K)):",
                   # a matrix symbol, unevaluated: Eq(Symbol, Matrix) evaluates to False
                   [sp.Eq(sp.MatrixSymbol("K", n, n), sp.ImmutableMatrix(num["critical_matrix"]),
                          evaluate=False),
                    sp.Eq(num["critical_polynomial"], 0),
                    sp.Eq(_T_C, num["T_c"])])]
    if "T_c_identical" in num:
        result.append(Step("Identical layers", "Every layer alike: the closed form at this "
                           "L and C:", sp.Eq(_T_C, num["T_c_identical"])))
    expressions = dict(exprs)
    expressions["T_c_network"] = num["T_c"]
    if "stability_eigenvalues" in num:
        expressions["stability_eigenvalues"] = num["stability_eigenvalues"]
    return Derivation(problem=problem, method=method,
                      title=f"multilayer SK ({n} spin layers), RS paramagnet",
                      steps=(model, *steps, *result), expressions=expressions,
                      numeric=numeric, parameters=(beta,), checker=_check)


@lru_cache(maxsize=32)
def derive_msk_symbolic(n_spin_layers: int) -> Derivation:
    """The MSK derivation with the layer fractions α_l and variances C_l as symbols.

    Args:
        n_spin_layers: L + 1, the number of spin layers (≥ 2).

    Returns:
        A :class:`~replicasolve.derivation.derivation.Derivation` with the expressions of
        :func:`derive_msk` in the symbols of :func:`replicasolve.symbolic.msk.layer_symbols`
        (``"T_c"`` in radicals up to 5 spin layers, else the critical polynomial only);
        ``numeric`` holds the paramagnet's -βf, e, s with ``parameters`` (β, α_0..α_L,
        C_1..C_L). It has no :meth:`~Derivation.check` (no numbers to solve): substitute
        numbers into ``expressions`` or use :func:`derive_msk`.

    Raises:
        InvalidInputError: ``n_spin_layers`` is not an integer ≥ 2.

    References:
        Barney, Winer & Galitski, arXiv 2408.06421.
    """
    sym = sm.layer_symbols(n_spin_layers)
    steps, exprs = _generic(sym.n_spin_layers)
    numeric = {name: exprs[name] for name in ("free_energy", "energy", "entropy")}
    return Derivation(problem=f"MSK with {sym.n_spin_layers} spin layers (symbolic α_l, C_l)",
                      method=as_method("rs"),
                      title=f"multilayer SK ({sym.n_spin_layers} spin layers, symbolic), "
                            "RS paramagnet",
                      steps=tuple(steps), expressions=dict(exprs), numeric=numeric,
                      parameters=(sym.beta, *sym.alpha, *sym.C))


def _check(derivation: Derivation, *, tolerance: float = CHECK_TOLERANCE,
           **unused: Any) -> DerivationCheck:
    if unused:
        raise InvalidInputError(f"MSK check takes only tolerance=..., got {sorted(unused)} "
                                "(T_c does not depend on a state point)")
    problem: MSK = derivation.problem
    result = solve(problem)
    num = _numeric(tuple(problem.sizes), tuple(problem.variance))
    t_c = float(num["T_c_value"])
    values = derivation.evaluate(beta=result.beta_c)
    # the derived unstable mode in q-space: u_l / sqrt(N_l), unit norm
    q = [u / math.sqrt(s) for u, s in zip(num["mode_K"], problem.sizes, strict=True)]
    norm = math.sqrt(sum(v * v for v in q))
    mode = [v / norm for v in q]
    residuals = {
        "T_c": (t_c - result.T_c) / t_c,
        "lambda_max": (float(num["lambda_max"].evalf(_DIGITS)) - result.lambda_max)
        / result.lambda_max,
        "stability_at_solver_T_c": values["stability"],
        "mode": max(abs(a - b) for a, b in zip(mode, result.mode, strict=True)),
    }
    mode_tol = tolerance * float(num["lambda_max"].evalf(_DIGITS)) / max(float(num["gap"]),
                                                                         1e-300)
    errs = {k: abs(v) for k, v in residuals.items()}
    bounds = {"T_c": tolerance, "lambda_max": 2 * tolerance,
              "stability_at_solver_T_c": 4 * tolerance, "mode": mode_tol}
    if "T_c_identical" in num:
        closed = float(num["T_c_identical"].evalf(_DIGITS))
        residuals["T_c_identical"] = (closed - t_c) / t_c
        errs["T_c_identical"] = abs(residuals["T_c_identical"])
        bounds["T_c_identical"] = tolerance
    bad = [k for k, v in errs.items() if not v <= bounds[k]]
    message = "beyond tolerance: " + ", ".join(f"{b} {errs[b]:.2e}" for b in bad) if bad else ""
    beta_c = 1.0 / t_c
    at = derivation.evaluate(beta=beta_c)
    f = -at["free_energy"] / beta_c
    return DerivationCheck(
        model=repr(problem), method=derivation.method.name, T=t_c, field=0.0,
        order_parameters={f"mode_{l}": v for l, v in enumerate(mode)},
        residuals=residuals, saddle_error=max(errs.values()),
        free_energy=f, free_energy_solver=math.nan, free_energy_error=math.nan,
        energy=at["energy"], energy_solver=math.nan, energy_error=math.nan,
        entropy=at["entropy"], entropy_solver=math.nan, entropy_error=math.nan,
        replicon=finite_or_nan(values["stability"]),
        replicon_error=abs(values["stability"]), tolerance=tolerance,
        converged=bool(result.converged) and not bad,
        settings={"digits": _DIGITS, "solver": "msk_critical (LAPACK stebz on K)",
                  "bounds": bounds},
        message=message)

