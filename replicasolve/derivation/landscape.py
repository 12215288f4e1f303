"""The replica derivation of a random MLP's input landscape in the Gaussian limit.

At infinite width a random MLP f(x) with inputs on the sphere |x|² = N is a Gaussian process
and H(x) = sqrt(N) f(x) has E H(x)H(x') = N ξ(x·x'/N) with ξ = K_{L+1}, the kernel
recursion

    K_1(q) = σ_w² q + σ_b²,    K_{l+1}(q) = σ_w² E[φ(u)φ(v)] + σ_b²,
    (u, v) ~ N(0, [[K_l(1), K_l(q)], [K_l(q), K_l(1)]])

(Neal 1996; Cho & Saul 2009; Hanin & Winer, arXiv 2503.23982): a spherical mixed p-spin
model. :func:`derive_landscape` derives ξ layer by layer in closed form
(:func:`replicasolve.symbolic.kernels.dual_kernel`, the recursion of
:func:`replicasolve.kernels.closed_xi.closed_xi`), takes the spherical replica derivation of
:func:`replicasolve.derivation.pspin.derive_pspin` (ξ kept as a function) and substitutes this
ξ; :meth:`Derivation.check` solves the landscape with
:func:`replicasolve.solvers.dispatch.solve` (ξ from the kernel tables of
:func:`replicasolve.kernels.compose.xi_function`, an independent numerical route) and
evaluates the derived equations at its solution. Energies are per input dimension (H/N),
entropies relative to the uniform measure on the sphere (units of k_B).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from functools import lru_cache
from typing import Any

import sympy as sp

from ..errors import InvalidInputError
from ..kernels.activation import activation
from ..kernels.numeric import per_layer
from ..models.landscape import FiniteWidthLandscape, RandomMLPLandscape
from ..models.pspin import MixedPSpin
from ..solvers.dispatch import solve
from ..solvers.methods import FullRSB, as_method
from ..symbolic import replica_action as ra
from ..symbolic.kernels import dual_kernel
from .derivation import (
    Derivation,
    DerivationCheck,
    Step,
    UnsupportedDerivationError,
    check_verdict,
)
from .pspin import derive_pspin

__all__ = [
    "CHECK_TOLERANCE",
    "FINITE_WIDTH_TOLERANCE",
    "derive_finite_width",
    "derive_landscape",
    "landscape_xi",
]

#: Default bound on every error of :meth:`Derivation.check`: the solver runs at tol = 1e-9
#: (a residual r leaves the derived equations at O(r) and f at O(r²)); its ξ comes from the
#: kernel tables of ``xi_function`` (Chebyshev interpolation of the closed-form layer maps,
#: errors ~1e-12 and below), the derived one from the exact closed form; 1e-7 leaves two
#: decades above what is seen.
CHECK_TOLERANCE = 1e-7

_Q = sp.Symbol("q", real=True)
_X = sp.Symbol("x", real=True)


def _unsupported_covariance(problem: RandomMLPLandscape, layer: int) -> UnsupportedDerivationError:
    return UnsupportedDerivationError(
        "covariance", f"the kernel of {problem.activation!r} has no closed form (layer "
        f"{layer} of the recursion K_(l+1) = σ_w² E[φ(u)φ(v)] + σ_b²): ξ is known only "
        "numerically; solve it by the numerical route, replicasolve.solve(landscape) "
        "(kernel quadrature tables and the spherical Parisi solver)")


@lru_cache(maxsize=64)
def _xi(act_spec: Any, depth: int, w2: tuple[float, ...], b2: tuple[float, ...]
        ) -> tuple[tuple[Step, ...], sp.Expr | None, int]:
    a = act_spec if hasattr(act_spec, "expr") else activation(act_spec)
    w = [sp.nsimplify(v) for v in w2]
    b = [sp.nsimplify(v) for v in b2]
    sw2, sb2 = sp.symbols("sigma_w^2 sigma_b^2", positive=True)
    k_fn = sp.Function("K")
    k11, k22, c = sp.symbols("K_11 K_22 K_12", positive=True)
    phi = sp.Function("phi")
    general = [sp.Eq(k_fn(1, _Q), sw2 * _Q + sb2),
               sp.Eq(k_fn(sp.Symbol("l") + 1, _Q),
                     sw2 * sp.Symbol(r"\mathbb{E}[\phi(u)\phi(v)]") + sb2)]
    steps = [Step("Kernel recursion", "At infinite width the pre-activations of layer l are "
                  "a Gaussian process with covariance K_l(x·x'/N); each layer maps it by the "
                  "dual kernel of φ, (u, v) ~ N(0, [[K_l(1), K_l(q)], [K_l(q), K_l(1)]]):",
                  general)]
    if depth >= 1:
        dual = dual_kernel(a.expr, _X, k11, k22, c)
        if dual is None:
            return tuple(steps), None, 1
        steps.append(Step("Dual kernel", f"E[φ(u)φ(v)] for φ(x) = {a.expr}, derived by sympy "
                          "((u, v) with variances K_11, K_22 and covariance K_12):",
                          [sp.Eq(phi(_X), a.expr), sp.Eq(sp.Symbol(r"\mathbb{E}[\phi(u)"
                                                                    r"\phi(v)]"), dual)]))
    k_q, k_1 = b[0] + w[0] * _Q, b[0] + w[0]
    layers = [sp.Eq(k_fn(1, _Q), k_q)]
    for layer in range(1, depth + 1):
        cov = dual_kernel(a.expr, _X, k_1, k_1, k_q)
        var = dual_kernel(a.expr, _X, k_1, k_1, k_1)
        if cov is None or var is None:
            return tuple(steps), None, layer
        k_q = b[layer] + w[layer] * cov
        k_1 = sp.simplify(b[layer] + w[layer] * var)
        layers.append(sp.Eq(k_fn(layer + 1, _Q), k_q))
    steps.append(Step("Layers", f"The recursion at σ_w² = {list(w2)}, σ_b² = {list(b2)} "
                      "(per layer, readout last), K_l(1) simplified at each layer:", layers))
    xi = k_q
    steps.append(Step("Covariance", "H(x) = sqrt(N) f(x) is Gaussian with E H(x)H(x') = "
                      "N ξ(x·x'/N), ξ = K_{L+1}: a spherical mixed p-spin model:",
                      sp.Eq(ra.xi_function()(_Q), xi)))
    return tuple(steps), xi, -1


def landscape_xi(problem: RandomMLPLandscape) -> tuple[sp.Expr, tuple[Step, ...]]:
    """ξ(q) = K_{L+1}(q) of a random MLP landscape in closed form, with the steps that
    derive it.

    Args:
        problem: a :class:`~replicasolve.models.landscape.RandomMLPLandscape`.

    Returns:
        (ξ as a sympy expression in the real symbol ``q``, the steps: the recursion, the
        dual kernel of φ, each layer, the covariance). Variances are made exact by
        ``sympy.nsimplify`` as :func:`replicasolve.kernels.closed_xi.closed_xi` does.

    Raises:
        UnsupportedDerivationError: a layer has no closed-form kernel (tanh, sigmoid, ...;
            step ``"covariance"``); the numerical route is ``replicasolve.solve(problem)``.
    """
    act = problem.activation
    w2 = per_layer(problem.sigma_w2, problem.depth, "sigma_w2", allow_zero=False)
    b2 = per_layer(problem.sigma_b2, problem.depth, "sigma_b2", allow_zero=True)
    try:
        steps, xi, failed = _xi(act, int(problem.depth), tuple(w2), tuple(b2))
    except TypeError:  # an unhashable activation object: not cached
        steps, xi, failed = _xi.__wrapped__(act, int(problem.depth), tuple(w2), tuple(b2))
    if xi is None:
        raise _unsupported_covariance(problem, failed)
    return xi, steps


def _method(ansatz: Any) -> Any:
    if ansatz is None:
        return as_method("rs")
    try:
        return as_method(ansatz)
    except InvalidInputError as exc:
        raise UnsupportedDerivationError("ansatz", str(exc)) from None


@lru_cache(maxsize=64)
def _specialized(method_name: str, names: tuple[str, ...], exprs: tuple[sp.Expr, ...],
                 xi: sp.Expr) -> dict[str, sp.Expr]:
    return {n: ra.specialize(e, xi) for n, e in zip(names, exprs, strict=True)}


def _not_finite(expr: sp.Expr) -> bool:
    return bool(expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo))


def derive_landscape(problem: Any, ansatz: Any = None) -> Derivation:
    """The replica derivation of a random MLP's input landscape (Gaussian limit).

    Args:
        problem: a :class:`~replicasolve.models.landscape.RandomMLPLandscape` whose kernel
            has a closed form at every layer (ReLU, erf, sin, cos, linear ``"x"``, ...); its
            ``T`` is the default point of :meth:`Derivation.check`. A
            :class:`~replicasolve.models.landscape.FiniteWidthLandscape` goes to
            :func:`derive_finite_width` (depth 1, RS).
        ansatz: ``RS()`` (default), ``RSB(k)`` with k up to
            :data:`replicasolve.symbolic.replica_action.MAX_K`, ``FullRSB()`` (the Parisi
            formula, typeset only), or a string :func:`~replicasolve.solvers.methods.as_method`
            reads.

    Returns:
        A :class:`~replicasolve.derivation.derivation.Derivation`: the steps deriving ξ
        (:func:`landscape_xi`) followed by the spherical mixed p-spin derivation of
        :func:`replicasolve.derivation.pspin.derive_pspin` (ξ as a function); ``numeric`` has
        this ξ substituted; parameters (β, h, q_0.., m_1..) with h = 0 for a landscape;
        ``expressions["xi"]`` is ξ(q); the ``ground_state_*`` expressions (T → 0) where
        the p-spin derivation has them. :meth:`Derivation.check` (``T``, ``options``,
        ``nodes``, ``tolerance``) compares with ``solve(problem.at(T=T), ansatz)`` (the
        spherical Parisi solver on ``problem.model(T)``; at T = 0 the ground state).

    Raises:
        UnsupportedDerivationError: another problem, or a finite-width one deeper than 1
            (step ``"problem"``), an ansatz beyond what is derived (``"ansatz"``), or a
            kernel without closed form (``"covariance"``).

    References:
        Hanin & Winer, arXiv 2503.23982; Crisanti & Sommers, Z. Phys. B 87, 341 (1992);
        Cho & Saul (2009), Williams (1997) for the dual kernels.
    """
    if isinstance(problem, FiniteWidthLandscape):
        return derive_finite_width(problem, ansatz)
    if not isinstance(problem, RandomMLPLandscape):
        raise UnsupportedDerivationError(
            "problem", f"derive_landscape takes a RandomMLPLandscape, got "
            f"{type(problem).__name__}")
    method = _method(ansatz)
    xi, xi_steps = landscape_xi(problem)
    # the spherical derivation with ξ kept as a function: a template model (its ξ is not
    # used; the generic steps and expressions do not depend on it)
    template = derive_pspin(MixedPSpin("q**2/2", spins="spherical",
                                       T=1.0 if problem.T is None else problem.T), method)
    steps = tuple(s for s in template.steps if s.title != "Model")
    exprs = dict(template.expressions)
    exprs["xi"] = xi
    numeric: dict[str, sp.Expr] = {}
    ground = template.ground_parameters
    if template.numeric:
        names = tuple(template.numeric)
        numeric = dict(_specialized(template.method.name, names,
                                    tuple(template.expressions[n] for n in names), xi))
        # T → 0 needs ξ and its derivatives at q = 1, where a kinked φ (ReLU) makes ξ''
        # infinite: then the ground-state equations are not evaluated (T > 0 only)
        if any(_not_finite(e) for n, e in numeric.items() if n.startswith("ground_state")):
            numeric = {n: e for n, e in numeric.items() if not n.startswith("ground_state")}
            ground = ()
    act = problem.activation if isinstance(problem.activation, str) else \
        getattr(problem.activation, "name", str(problem.activation))
    title = (f"random MLP landscape ({act}, depth {problem.depth}), spherical, "
             f"{template.method.name}")
    checker = None
    if numeric and template.checker is not None:
        checker = functools.partial(_check, pspin_checker=template.checker)
    return Derivation(problem=problem, method=template.method, title=title,
                      steps=(*xi_steps, *steps), expressions=exprs, numeric=dict(numeric),
                      parameters=template.parameters if numeric else (),
                      ground_parameters=ground if numeric else (),
                      checker=checker)


def _check(derivation: Derivation, *, pspin_checker: Any, T: float | None = None,
           options: Any = None, nodes: int | None = None,
           tolerance: float = CHECK_TOLERANCE) -> DerivationCheck:
    # solve(landscape, method) is the Parisi solver on landscape.model(T), the spherical
    # MixedPSpin with ξ from the kernel tables: the p-spin check of that model (the same
    # solve, the same order parameters; T = 0 checks the ground-state equations) applied
    # to this derivation's equations
    land: RandomMLPLandscape = derivation.problem
    if T is not None:
        land = land.at(T=T)
    if land.T is None:
        raise UnsupportedDerivationError("check", "the check needs a temperature (pass T=... "
                                                  "or build the landscape with T)")
    if land.T == 0 and not derivation.ground_parameters:
        raise UnsupportedDerivationError(
            "check", f"{derivation.title}: the T → 0 equations are not evaluated for this ξ "
            "(ξ'' is not finite at q = 1, or the ansatz has no ground-state limit); check at "
            "T > 0")
    proxy = dataclasses.replace(derivation, problem=land.model(land.T), checker=pspin_checker)
    out = pspin_checker(proxy, options=options, nodes=nodes, tolerance=tolerance)
    return dataclasses.replace(out, model=repr(land))


# ------------------------------------------------------------------ finite width, depth 1

#: Default bound on the errors of a finite-width :meth:`Derivation.check`. The derived
#: equations are averaged by Gauss–Hermite in η, ζ, ε (``nodes`` per level, 48 by default),
#: the solver uses its own rule at tol 1e-12, so the check is quadrature-limited: seen
#: 1e-10 (tanh, α = 2, T = 0.7), 4e-7 (erf, α = 3, T = 0.5; 3e-11 at 96 nodes); at strong
#: tilt β σ_w / sqrt(α) (sin, α = 2, T = 0.3) 1e-4 at 48 nodes and 4e-6 at 140; a kinked φ
#: (ReLU) converges slowly (1e-3 at 48 nodes). Pass more ``nodes`` or a looser
#: ``tolerance`` there.
FINITE_WIDTH_TOLERANCE = 1e-6

_FW = {name: sp.Symbol(name, real=True) for name in ("q", "g_d", "g")}
_FW.update({name: sp.Symbol(name, positive=True) for name in ("ghat_d", "ghat")})
_ETA, _ZETA, _EPS = (sp.Symbol(n, real=True) for n in ("eta", "zeta", "epsilon"))
_SW2, _SB2, _ALPHA = (sp.Symbol(n, positive=True) for n in ("sigma_w^2", "sigma_b^2",
                                                           "alpha"))
_N = sp.Symbol("n")
_PHI = sp.Function("phi")


@lru_cache(maxsize=1)
def _finite_width_generic() -> tuple[tuple[Step, ...], dict[str, Any]]:
    beta = ra.beta_symbol()
    q, gd, g, hd, h = (_FW[k] for k in ("q", "g_d", "g", "ghat_d", "ghat"))
    n = _N
    # RS traces at integer n (the form is the same for every n ≥ 2; checked at n = 2..5)
    def rs_matrix(diag: sp.Expr, off: sp.Expr, k: int) -> sp.Matrix:
        return sp.Matrix(k, k, lambda i, j: diag if i == j else off)

    for k in (2, 3, 4, 5):
        Q = rs_matrix(1, q, k)
        if sp.simplify(Q.det() - (1 - q) ** (k - 1) * (1 + (k - 1) * q)) != 0:
            raise ra.DerivationCheckError(f"det Q_RS at n = {k}")
    logdet = (n - 1) * sp.log(1 - q) + sp.log(1 + (n - 1) * q)
    c_sum = n * (_SB2 + _SW2 * gd) + n * (n - 1) * (_SB2 + _SW2 * g)  # Σ_ab C^2_ab
    gg_sum = n * hd * gd + n * (n - 1) * h * g  # Σ_ab Ĝ_ab G_ab

    def per_replica(expr: sp.Expr) -> sp.Expr:  # lim_{n→0} expr / n = d expr/dn at 0
        return sp.simplify(sp.diff(expr, n).subs(n, 0))

    sphere = per_replica(logdet / 2)
    readout = sp.expand(per_replica(beta**2 / 2 * c_sum))
    conj = sp.expand(per_replica(gg_sum / 2))
    c1, c0 = _SB2 + _SW2, _SB2 + _SW2 * q
    z = sp.sqrt(c0) * _ETA + sp.sqrt(c1 - c0) * _EPS
    psi = (hd - h) / 2 * _PHI(z) ** 2 + sp.sqrt(h) * _ZETA * _PHI(z)
    site = ra.gaussian_average(ra.gaussian_average(
        sp.log(ra.gaussian_average(sp.exp(psi), _EPS)), _ZETA), _ETA)
    phi_action = sphere + readout - _ALPHA * (conj - site)
    energy = sp.expand(-sp.diff(phi_action, beta))
    entropy = phi_action + beta * energy
    exprs: dict[str, Any] = {"free_energy": phi_action, "energy": energy, "entropy": entropy}
    for name in ("q", "g_d", "g", "ghat_d", "ghat"):
        exprs[f"saddle_{name}"] = sp.diff(phi_action, _FW[name])
    steps = (
        Step("Model", "Input x on |x|² = N, one hidden layer of N_1 = αN units, h = Wx + b, "
             "W_ij ~ N(0, σ_w²/N), b_i ~ N(0, σ_b²), read-out of the same law, H = sqrt(N) f "
             "(Hanin & Winer, arXiv 2503.23982); the layer-overlap action (derived and "
             "checked in derivations/finite_width_landscape.py) with G_ab = (1/N_1) "
             "Σ_i φ(h_ia)φ(h_ib), conjugate Ĝ, C^1 = σ_b² + σ_w² Q, C^2 = σ_b² + σ_w² G.",
             None),
        Step("Replica symmetry", "Q: 1 on the diagonal, q off it; G: g_d, g; Ĝ: ĝ_d, ĝ. "
             "The traces at n replicas (det Q_RS checked at n = 2..5):",
             [sp.Eq(sp.Symbol(r"\ln\det Q"), logdet), sp.Eq(sp.Symbol(r"\sum C^{2}"), c_sum),
              sp.Eq(sp.Symbol(r"\sum \hat{G} G"), gg_sum)]),
        Step("Single site", "½ Σ Ĝ φφ = ½(ĝ_d - ĝ) Σ φ_a² + ½ ĝ (Σ φ_a)², a "
             "Hubbard–Stratonovich ζ for the second term and z_a = sqrt(c_0) η + "
             "sqrt(c_1 - c_0) ε_a (covariance C^1) give E I(η, ζ)^n, I = E_ε e^ψ, and "
             "ln E I^n = n E ln I + O(n²):",
             [sp.Eq(sp.Symbol("psi"), psi), sp.Eq(sp.Symbol("T"), site)]),
        Step("Limit n → 0", "-βf = lim (1/n) ln E Z^n / N, each trace differentiated in n "
             "at n = 0:", sp.Eq(sp.Symbol("Phi"), phi_action)),
        Step("Saddle-point equations", "∂Φ/∂v = 0 for v = q, g_d, g, ĝ_d, ĝ "
             "(differentiated under the averages):",
             [sp.Eq(e, 0) for k, e in exprs.items() if k.startswith("saddle_")]),
        Step("Energy and entropy", "e = -∂Φ/∂β, s = Φ + βe at fixed order parameters:",
             [sp.Eq(sp.Symbol("e"), energy), sp.Eq(sp.Symbol("s"), entropy)]),
    )
    return steps, exprs


@lru_cache(maxsize=32)
def _finite_width_numeric(phi_expr: sp.Expr, sw2: float, sb2: float, alpha: float
                          ) -> dict[str, sp.Expr]:
    _, exprs = _finite_width_generic()
    x = sp.Symbol("x", real=True)
    values = {_SW2: sp.Float(sw2, 17), _SB2: sp.Float(sb2, 17), _ALPHA: sp.Float(alpha, 17)}
    lam = sp.Lambda(x, phi_expr)
    out = {}
    for name, e in exprs.items():
        e2 = e.replace(_PHI, lam).xreplace(values)
        out[name] = e2.replace(lambda a: isinstance(a, (sp.Derivative, sp.Subs)),
                               lambda a: a.doit())
    return out


def derive_finite_width(problem: FiniteWidthLandscape, ansatz: Any = None) -> Derivation:
    """The RS replica derivation of a random MLP landscape at finite width, one hidden layer.

    Args:
        problem: a :class:`~replicasolve.models.landscape.FiniteWidthLandscape` with
            ``depth == 1`` (width ratio α = N_1/N, variances σ_w², σ_b², temperature T);
            φ must be a formula sympy can differentiate (ReLU works but its Gauss–Hermite
            averages converge slowly).
        ansatz: ``RS()`` (default).

    Returns:
        A :class:`~replicasolve.derivation.derivation.Derivation` of Φ = -βf per input
        dimension (entropy relative to the uniform measure on the sphere) as a function of
        the order parameters q, g_d, g, ĝ_d, ĝ, its five saddle-point equations ∂Φ/∂v,
        e = -∂Φ/∂β and s = Φ + βe; ``parameters`` (β, q, g_d, g, ghat_d, ghat); the
        η, ζ, ε averages by Gauss–Hermite. :meth:`Derivation.check` (``T``, ``nodes``,
        ``tolerance``) evaluates them at ``solve(problem, RS())``.

    Raises:
        UnsupportedDerivationError: depth > 1 (step ``"problem"``: the numerical route is
            ``replicasolve.solve(problem, RS())``) or an ansatz other than RS
            (``"ansatz"``).

    References:
        Hanin & Winer, arXiv 2503.23982; ``derivations/finite_width_landscape.py``.
    """
    if not isinstance(problem, FiniteWidthLandscape):
        raise UnsupportedDerivationError(
            "problem", f"derive_finite_width takes a FiniteWidthLandscape, got "
            f"{type(problem).__name__}")
    if problem.depth != 1:
        raise UnsupportedDerivationError(
            "problem", f"FiniteWidthLandscape at depth {problem.depth}: only depth 1 is "
            "derived (deeper networks: derivations/finite_width_landscape.py); solve it by "
            "the numerical route, replicasolve.solve(problem, RS())")
    method = _method(ansatz)
    if isinstance(method, FullRSB) or method.k != 0:
        raise UnsupportedDerivationError(
            "ansatz", f"{method.name}: the finite-width derivation is RS only; k-step RSB at "
                      "depth 1 is solved numerically by replicasolve.solve(problem, RSB(k))")
    act = problem.activation if hasattr(problem.activation, "expr") else \
        activation(problem.activation)
    steps, exprs = _finite_width_generic()
    numeric = _finite_width_numeric(act.expr, problem.sigma_w2, problem.sigma_b2,
                                    problem.alpha[0])
    x = sp.Symbol("x", real=True)
    model = Step("This network", f"φ, σ_w² = {problem.sigma_w2}, σ_b² = {problem.sigma_b2}, "
                 f"α = {problem.alpha[0]}:", sp.Eq(_PHI(x), act.expr))
    params = (ra.beta_symbol(), *(_FW[k] for k in ("q", "g_d", "g", "ghat_d", "ghat")))
    return Derivation(problem=problem, method=method,
                      title=f"finite-width MLP landscape ({act.name}, depth 1), RS",
                      steps=(*steps, model), expressions=dict(exprs), numeric=dict(numeric),
                      parameters=params, checker=_check_finite_width)


def _check_finite_width(derivation: Derivation, *, T: float | None = None,
                        nodes: int | None = None, options: Any = None,
                        tolerance: float = FINITE_WIDTH_TOLERANCE) -> DerivationCheck:
    land: FiniteWidthLandscape = derivation.problem
    if T is not None:
        land = land.at(T=T)
    result = solve(land, as_method("rs"), options)
    point = {"beta": 1.0 / land.T, "q": float(result.q), "g_d": float(result.g_diag[0]),
             "g": float(result.g_off[0]), "ghat_d": float(result.ghat_diag[0]),
             "ghat": float(result.ghat_off[0])}
    values = derivation.evaluate(nodes=nodes, **point)
    residuals = {name[len("saddle_"):]: v for name, v in values.items()
                 if name.startswith("saddle_")}
    beta = point["beta"]
    f = -values["free_energy"] / beta
    e, s = values["energy"], values["entropy"]
    errs = {"saddle": max(abs(v) for v in residuals.values()),
            "free_energy": abs(f - result.free_energy), "energy": abs(e - result.energy),
            "entropy": abs(s - result.entropy)}
    converged, message = check_verdict(result, errs, tolerance)
    return DerivationCheck(
        model=repr(land), method="RS", T=land.T, field=0.0,
        order_parameters={k: v for k, v in point.items() if k != "beta"},
        residuals=residuals, saddle_error=errs["saddle"], free_energy=f,
        free_energy_solver=float(result.free_energy), free_energy_error=errs["free_energy"],
        energy=e, energy_solver=float(result.energy), energy_error=errs["energy"],
        entropy=s, entropy_solver=float(result.entropy), entropy_error=errs["entropy"],
        replicon=math.nan, replicon_error=math.nan, tolerance=tolerance,
        converged=converged,
        settings={"nodes": derivation.program(nodes=nodes).nodes,
                  "solver_resolution": float(result.resolution)},
        message=message)
