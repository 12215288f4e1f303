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
:func:`replicasolve.derive.pspin.derive_pspin` (ξ kept as a function) and substitutes this
ξ; :meth:`Derivation.check` solves the landscape with
:func:`replicasolve.solvers.dispatch.solve` (ξ from the kernel tables of
:func:`replicasolve.kernels.compose.xi_function`, an independent numerical route) and
evaluates the derived equations at its solution. Energies are per input dimension (H/N),
entropies relative to the uniform measure on the sphere (units of k_B).
"""

from __future__ import annotations

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
from ..solvers.methods import FullRSB, Options, as_method
from ..symbolic import replica_action as ra
from ..symbolic.kernels import dual_kernel
from .derivation import (
    Derivation,
    DerivationCheck,
    Step,
    UnsupportedDerivationError,
    finite_or_nan,
)
from .pspin import derive_pspin

__all__ = ["CHECK_TOLERANCE", "derive_landscape", "landscape_xi"]

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


def derive_landscape(problem: Any, ansatz: Any = None) -> Derivation:
    """The replica derivation of a random MLP's input landscape (Gaussian limit).

    Args:
        problem: a :class:`~replicasolve.models.landscape.RandomMLPLandscape` whose kernel
            has a closed form at every layer (ReLU, erf, sin, cos, linear ``"x"``, ...); its
            ``T`` is the default point of :meth:`Derivation.check`.
        ansatz: ``RS()`` (default), ``RSB(k)`` with k ≤ 3, ``FullRSB()`` (the Parisi
            formula, typeset only), or a string :func:`~replicasolve.solvers.methods.as_method`
            reads.

    Returns:
        A :class:`~replicasolve.derive.derivation.Derivation`: the steps deriving ξ
        (:func:`landscape_xi`) followed by the spherical mixed p-spin derivation of
        :func:`replicasolve.derive.pspin.derive_pspin` (ξ as a function); ``numeric`` has
        this ξ substituted; parameters (β, h, q_0.., m_1..) with h = 0 for a landscape;
        ``expressions["xi"]`` is ξ(q). :meth:`Derivation.check` (``T``, ``options``,
        ``nodes``, ``tolerance``) compares with ``solve(problem.at(T=T), ansatz)``.

    Raises:
        UnsupportedDerivationError: a :class:`FiniteWidthLandscape` or another problem
            (step ``"problem"``), an ansatz beyond what is derived (``"ansatz"``), or a
            kernel without closed form (``"covariance"``).

    References:
        Hanin & Winer, arXiv 2503.23982; Crisanti & Sommers, Z. Phys. B 87, 341 (1992);
        Cho & Saul (2009), Williams (1997) for the dual kernels.
    """
    if isinstance(problem, FiniteWidthLandscape):
        raise UnsupportedDerivationError(
            "problem", "FiniteWidthLandscape is not derived here (the layer-overlap action "
            "at finite width α is derived in derivations/finite_width_landscape.py); solve "
            "it by the numerical route, replicasolve.solve(FiniteWidthLandscape(...), RS()), "
            "or derive its Gaussian limit, derive_landscape(problem.gaussian_limit())")
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
    if template.numeric:
        names = tuple(template.numeric)
        numeric = _specialized(template.method.name, names,
                               tuple(template.expressions[n] for n in names), xi)
    act = problem.activation if isinstance(problem.activation, str) else \
        getattr(problem.activation, "name", str(problem.activation))
    title = (f"random MLP landscape ({act}, depth {problem.depth}), spherical, "
             f"{template.method.name}")
    return Derivation(problem=problem, method=template.method, title=title,
                      steps=(*xi_steps, *steps), expressions=exprs, numeric=dict(numeric),
                      parameters=template.parameters if numeric else (),
                      checker=_check if numeric and not isinstance(method, FullRSB) else None)


def _check(derivation: Derivation, *, T: float | None = None, options: Any = None,
           nodes: int | None = None, tolerance: float = CHECK_TOLERANCE) -> DerivationCheck:
    land: RandomMLPLandscape = derivation.problem
    if T is not None:
        land = land.at(T=T)
    if land.T is None or not land.T > 0:
        raise UnsupportedDerivationError("check", "the check needs a temperature T > 0 "
                                                  "(pass T=... or build the landscape with T)")
    opts = Options(tol=1e-9) if options is None else options
    result = solve(land, derivation.method, opts)
    k = derivation.method.k
    point: dict[str, float] = {"beta": 1.0 / land.T, "h": 0.0}
    for i in range(k + 1):
        point[f"q_{i}"] = float(result.q[i])
    for i in range(1, k + 1):
        point[f"m_{i}"] = float(result.x[i - 1])
    values = derivation.evaluate(nodes=nodes, **point)
    residuals = {name[len("saddle_"):]: v for name, v in values.items()
                 if name.startswith("saddle_")}
    beta = point["beta"]
    f = -values["free_energy"] / beta
    e, s = values["energy"], values["entropy"]
    rep = values.get("replicon", math.nan)
    rep_err = abs(rep - result.replicon) if "replicon" in values else math.nan
    errs = {"saddle": max(abs(v) for v in residuals.values()),
            "free_energy": abs(f - result.free_energy), "energy": abs(e - result.energy),
            "entropy": abs(s - result.entropy)}
    if math.isfinite(rep_err):
        errs["replicon"] = rep_err
    bad = [name for name, v in errs.items() if not (v <= tolerance)]
    message = ""
    if not result.converged:
        message = f"solver did not converge: {result.message}"
    elif bad:
        message = "beyond tolerance: " + ", ".join(f"{b} {errs[b]:.2e}" for b in bad)
    ops = {k_: v for k_, v in point.items() if k_ not in ("beta", "h")}
    return DerivationCheck(
        model=repr(land), method=derivation.method.name, T=land.T, field=0.0,
        order_parameters=ops, residuals=residuals, saddle_error=errs["saddle"],
        free_energy=f, free_energy_solver=float(result.free_energy),
        free_energy_error=errs["free_energy"], energy=e,
        energy_solver=float(result.energy), energy_error=errs["energy"], entropy=s,
        entropy_solver=float(result.entropy), entropy_error=errs["entropy"],
        replicon=finite_or_nan(rep), replicon_error=rep_err, tolerance=tolerance,
        converged=bool(result.converged) and not bad,
        settings={"nodes": derivation.program(nodes=nodes).nodes, "solver_tol": opts.tol},
        message=message)
