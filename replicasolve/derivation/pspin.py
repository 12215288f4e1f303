"""The replica derivation of a mixed p-spin model (Ising or spherical spins).

:func:`derive_pspin` assembles the steps of :mod:`replicasolve.symbolic.replica_action`
for a :class:`~replicasolve.models.pspin.MixedPSpin` and an ansatz into a
:class:`~replicasolve.derivation.derivation.Derivation`, substitutes the model's ξ(q) for the
numerics, and checks itself against the Parisi solvers
(:func:`replicasolve.solvers.dispatch.solve`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import sympy as sp

from ..errors import InvalidInputError
from ..models.pspin import MixedPSpin
from ..solvers.dispatch import solve
from ..solvers.methods import FullRSB, Options, as_method
from ..symbolic import replica_action as ra
from ..symbolic.parse import parse_formula
from .derivation import (
    Derivation,
    DerivationCheck,
    Step,
    UnsupportedDerivationError,
    check_verdict,
    finite_or_nan,
)

__all__ = ["CHECK_TOLERANCE", "clear_caches", "derive_pspin", "xi_expression"]

#: Default bound on every error :meth:`Derivation.check` reports: the solver runs at
#: tol = 1e-9 (projected-gradient residual of its functional; a residual r leaves the
#: derived equations at O(r) and f at O(r²)), the Gauss–Hermite sums are converged to
#: ~1e-12 at the default nodes; 1e-7 leaves two decades above what is seen (≤ 1e-9).
CHECK_TOLERANCE = 1e-7

_Q = sp.Symbol("q", real=True)
_EDGE = 1e-9
_SECTORS = ("longitudinal", "anomalous", "replicon")


def xi_expression(problem: MixedPSpin) -> sp.Expr:
    """ξ(q) of ``problem`` as a sympy expression in the real symbol ``q`` (the formula the
    user gave, through the whitelist parser, or the polynomial of its coefficients).

    Raises:
        UnsupportedDerivationError: ξ is known only numerically (step ``"covariance"``).
    """
    cov = problem.xi
    try:
        expr = parse_formula(cov.text, ("q",))
    except InvalidInputError:
        expr = None
    if expr is not None and expr.free_symbols <= {_Q}:
        return expr
    if cov.coefficients is not None:
        return sp.Add(*[sp.Float(c) * _Q**p for p, c in cov.coefficients.items()])
    raise UnsupportedDerivationError(
        "covariance", f"xi = {cov.text} has no closed form (a numerically given ξ); "
        "pass a formula or coefficients")


def _method(ansatz: Any) -> Any:
    try:
        method = as_method(ansatz)
    except InvalidInputError as exc:
        raise UnsupportedDerivationError("ansatz", str(exc)) from None
    return method


@lru_cache(maxsize=16)
def _generic(spins: str, k: int) -> tuple[tuple[Step, ...], dict[str, Any]]:
    """Steps and expressions with ξ as a function (independent of the model's ξ)."""
    beta = ra.beta_symbol()
    act = ra.action(spins, k)
    sad = ra.saddle(spins, k)
    phi = sad.functional
    energy = -sp.diff(phi, beta)
    entropy = phi - beta * sp.diff(phi, beta)
    exprs: dict[str, Any] = {"action": act.functional, "free_energy": phi,
                             "energy": energy, "entropy": entropy}
    for name, eq in sad.equations.items():
        exprs[f"saddle_{name}"] = eq
    steps = [
        Step("Disorder average",
             "The Gaussian Hamiltonian averaged over the disorder, E exp(-β Σ_a H(σ^a)) = "
             "exp(β² s²/2) with s² = N Σ_ab ξ(q_ab):",
             sp.Eq(sp.Symbol(r"\ln E e^{-\beta X}"), ra.disorder_average())),
        Step("Replicated action", f"The {k}-step ansatz with block sizes n, m_1..m_k, 1; "
             + ("Lagrange multipliers λ_i, one Hubbard–Stratonovich Gaussian z_i per level "
                "and the single-site trace 2cosh give G(n) = ln E Z^n / N:"
                if spins == "ising" else
                "a matrix of multipliers Λ and the Gaussian integral over spins "
                "(-1/2 ln det Λ) give G(n) = ln E Z^n / N:"),
             sp.Eq(sp.Symbol("G(n)"), act.replicated)),
        Step("Limit n → 0", "-βf = dG/dn at n = 0, differentiated under the integrals:",
             sp.Eq(sp.Symbol(r"-\beta f"), act.functional)),
        Step("Multipliers", "Stationarity in q_i fixes the multipliers (λ_i = -Λ_i for "
             "spherical spins):",
             [sp.Eq(k_, v) for k_, v in sad.lagrange_relations.items()]),
        Step("Free energy at the saddle", "-βf with the multipliers eliminated:",
             sp.Eq(sp.Symbol(r"-\beta f"), phi)),
        Step("Saddle-point equations", "Each expression vanishes at the saddle"
             + (" (Gaussian integration by parts applied):" if spins == "ising" else ":"),
             [sp.Eq(eq, 0) for eq in sad.equations.values()]),
        Step("Energy and entropy", "e = ∂(βf)/∂β and s = β(e - f) at fixed order "
             "parameters (stationarity makes the total derivative the partial one):",
             [sp.Eq(sp.Symbol("e"), energy), sp.Eq(sp.Symbol("s"), entropy)]),
    ]
    gs = ra.ground_state(spins, k)
    exprs["ground_state_energy"] = gs.energy
    for name, eq in gs.equations.items():
        exprs[f"ground_state_{name}"] = eq
    steps.append(Step("Ground state", "T → 0 with "
                      + ", ".join(f"{a} = {b}"
                                  for a, b in gs.substitution.items())
                      + " (χ and x_i held fixed); e_0 = lim f"
                      + (", stationary in the scaled order parameters:" if gs.variables
                         else ":"),
                      [sp.Eq(sp.Symbol("e_0"), gs.energy),
                       *[sp.Eq(eq, 0) for eq in gs.equations.values()]]))
    if k == 0:
        rep = ra.rs_replicon(spins)
        exprs["replicon"] = rep
        steps.append(Step("Replicon", "The RS Hessian in the replicon sector "
                          "(de Almeida–Thouless); > 0 is stable:",
                          sp.Eq(sp.Symbol(r"\lambda_R"), rep)))
        hess = ra.rs_hessian(spins)
        for name in ("longitudinal", "anomalous"):
            exprs[name] = hess.eigenvalues[name]
        P, Q, R = (sp.Symbol(x) for x in ("P", "Q", "R"))
        entry_text = ("the (δλ, δλ) block is the connected correlator "
                      "⟨σ_aσ_bσ_cσ_d⟩ - ⟨σ_aσ_b⟩⟨σ_cσ_d⟩ at n → 0, with P (same pair), "
                      "Q (one replica shared) and R (none shared); with the (δq, δq) "
                      "block β²ξ''(q) and (δq, δλ) block -1, each sector is a 2 × 2 form"
                      if spins == "ising" else
                      "in the Crisanti–Sommers form (Q_aa = 1 fixed, multipliers "
                      "eliminated) the curvature of -½ ln det Q is K with entries from "
                      "Q⁻¹ of the RS matrix at symbolic n; the λλ curvature is c_X = 1/K_X")
        labels = {"longitudinal": r"\lambda_L", "anomalous": r"\lambda_A",
                  "replicon": r"\lambda_R"}
        sectors = ra.pair_sector_eigenvalues(P, Q, R)
        steps.append(Step(
            "RS Hessian, all sectors",
            "A matrix on replica pairs invariant under permutations has three eigenvalues "
            "(de Almeida–Thouless): longitudinal (1 vector), anomalous (n - 1), replicon "
            "(n(n - 3)/2), checked on the explicit eigenvectors of n = 6:",
            [sp.Eq(sp.Symbol(labels[k_].replace("lambda", "mu")), v)
             for k_, v in sectors.items()]))
        steps.append(Step(
            "Sector curvatures", "Here " + entry_text + "; at n → 0:",
            [sp.Eq(sp.Symbol(f"c_{k_[0].upper()}"), v) for k_, v in hess.curvature.items()]))
        steps.append(Step(
            "Hessian eigenvalues", "λ_X = 1 - β²ξ''(q) c_X (the -det of each sector's "
            "form; > 0 is stable); longitudinal and anomalous coincide at n → 0:",
            [sp.Eq(sp.Symbol(labels[k_]), v) for k_, v in hess.eigenvalues.items()]))
    return tuple(steps), exprs


def _specialize(expr: sp.Expr, xi: sp.Expr) -> sp.Expr:
    return ra.specialize(expr, xi)


@lru_cache(maxsize=64)
def _numeric(spins: str, k: int, xi: sp.Expr) -> dict[str, sp.Expr]:
    _, exprs = _generic(spins, k)
    return {name: _specialize(e, xi) for name, e in exprs.items() if name != "action"}


def clear_caches() -> None:
    """Forget every cached symbolic step (for timing a cold derivation)."""
    _generic.cache_clear()
    _numeric.cache_clear()
    for f in (ra.disorder_average, ra.hierarchy, ra.ising_action, ra.spherical_action,
              ra.saddle, ra.rs_replicon, ra.rs_hessian, ra.ground_state, ra.parisi_formula):
        f.cache_clear()


def derive_pspin(problem: MixedPSpin, ansatz: Any) -> Derivation:
    """The replica derivation of a mixed p-spin model under ``ansatz``.

    Args:
        problem: a :class:`~replicasolve.models.pspin.MixedPSpin` (ξ given as a formula or
            coefficients; Ising or spherical spins; its T and field are the default point
            of :meth:`Derivation.check`).
        ansatz: ``RS()``, ``RSB(k)`` (derived step by step and checkable for
            k ≤ :data:`~replicasolve.symbolic.replica_action.MAX_K`; larger k: the Ising
            k-step recursion as a formula), ``FullRSB()`` (the Parisi formula, typeset only),
            or a string :func:`~replicasolve.solvers.methods.as_method` reads.

    Returns:
        A :class:`~replicasolve.derivation.derivation.Derivation`; symbolic steps are cached
        per (spins, k), the ξ substitution per (spins, k, ξ).

    Raises:
        UnsupportedDerivationError: not a MixedPSpin (step ``"problem"``), an ansatz beyond
            what is derived (``"ansatz"``: spherical k > MAX_K, unknown names), or a ξ
            without closed form (``"covariance"``).
    """
    if not isinstance(problem, MixedPSpin):
        raise UnsupportedDerivationError(
            "problem", f"{type(problem).__name__} is not derived yet (MixedPSpin is)")
    method = _method(ansatz)
    xi = xi_expression(problem)
    xi_step = Step("Model", f"{problem.spins} spins, covariance E H(σ)H(σ') = N ξ(σ·σ'/N):",
                   sp.Eq(ra.xi_function()(_Q), xi))
    if isinstance(method, FullRSB):
        formula = ra.parisi_formula(problem.spins)
        steps = (xi_step,
                 Step("Full RSB", "The k → ∞ limit of the k-step recursion, x(q) the "
                      "Parisi order parameter:", sp.Eq(sp.Symbol(r"-\beta f"),
                                                       formula.free_energy)),
                 Step("Equations", "with", list(formula.equations)))
        exprs = {"parisi_functional": formula.free_energy,
                 **{f"equation_{i}": e for i, e in enumerate(formula.equations)}}
        return Derivation(problem=problem, method=method,
                          title=f"{problem.spins} mixed p-spin, full RSB", steps=steps,
                          expressions=exprs)
    k = method.k
    if k > ra.MAX_K:
        if problem.spins != "ising":
            raise UnsupportedDerivationError(
                "ansatz", f"{method.name}: spherical derivations go up to {ra.MAX_K}RSB; "
                "use FullRSB() for the Crisanti–Sommers formula")
        rec = ra.ising_recursion()
        steps = (xi_step,
                 Step("k-step recursion", f"Beyond {ra.MAX_K}RSB the derivation is given as "
                      "the recursion of one Hubbard–Stratonovich Gaussian per level (the "
                      "formula, not evaluated), with k = " + str(k) + ", m_0 = 0, "
                      "m_{k+1} = 1:",
                      sp.Eq(sp.Symbol(r"-\beta f"), rec.free_energy)),
                 Step("Recursion", "where", list(rec.equations)))
        exprs = {"krsb_free_energy": rec.free_energy,
                 **{f"recursion_{i}": e for i, e in enumerate(rec.equations)}}
        return Derivation(problem=problem, method=method,
                          title=f"{problem.spins} mixed p-spin, {method.name} (formula)",
                          steps=steps, expressions=exprs)
    steps, exprs = _generic(problem.spins, k)
    numeric = _numeric(problem.spins, k, xi)
    hier = ra.hierarchy(k)
    params = (ra.beta_symbol(), ra.field_symbol(), *hier.q, *hier.m)
    ground: tuple[sp.Symbol, ...] = ()
    if "ground_state_energy" in exprs:
        ground = (ra.field_symbol(), *ra.ground_state(problem.spins, k).variables)
    return Derivation(problem=problem, method=method,
                      title=f"{problem.spins} mixed p-spin, {method.name}",
                      steps=(xi_step, *steps), expressions=dict(exprs), numeric=numeric,
                      parameters=params, ground_parameters=ground, checker=_check)


def _quadrature_error(program: Any) -> float | None:
    """The largest error estimate of the program's last evaluation (None: no estimate, a
    fixed Gauss–Hermite rule)."""
    errs = [e for e in program.error.values() if math.isfinite(e)]
    return max(errs) if errs else None


def _check(derivation: Derivation, *, T: float | None = None, h: float | None = None,
           options: Any = None, nodes: int | None = None,
           tolerance: float = CHECK_TOLERANCE) -> DerivationCheck:
    model = derivation.problem
    changes = {}
    if T is not None:
        changes["T"] = T
    if h is not None:
        changes["field"] = h
    model = model.at(**changes) if changes else model
    # 1e-8: tight against the 1e-7 check tolerance, and above the RS solver's residual
    # floor (~2e-9 for some mixed ξ at T = 0.6, where tol = 1e-9 stalls)
    opts = Options(tol=1e-8) if options is None else options
    k = derivation.method.k
    if not model.T > 0:
        if not derivation.ground_parameters:
            raise UnsupportedDerivationError(
                "check", f"{derivation.title}: the T → 0 limit is not derived")
        return _check_ground(derivation, model, opts, nodes, tolerance)
    result = solve(model, method=derivation.method, options=opts)
    point: dict[str, float] = {"beta": 1.0 / model.T, "h": model.field}
    for i in range(k + 1):
        point[f"q_{i}"] = float(result.q[i])
    for i in range(1, k + 1):
        point[f"m_{i}"] = float(result.x[i - 1])
    values = derivation.evaluate(nodes=nodes, **point)
    residuals = {name[len("saddle_"):]: v for name, v in values.items()
                 if name.startswith("saddle_")}
    beta = point["beta"]
    f = -values["free_energy"] / beta
    e = values["energy"]
    s = values["entropy"]
    rep = values.get("replicon", math.nan)
    rep_err = abs(rep - result.replicon) if "replicon" in values else math.nan
    # an m_i at the edge of [0, 1] is a constrained optimum: its equation need not vanish
    # and a level of zero weight (m_i = m_{i+1}) has no equation for its q_i (the derived
    # one is divided by that weight)
    ms = [0.0] + [point[f"m_{i}"] for i in range(1, k + 1)] + [1.0]
    excluded = [f"m_{i}" for i in range(1, k + 1) if not _EDGE < ms[i] < 1 - _EDGE]
    excluded += [f"q_{i}" for i in range(k + 1) if abs(ms[i] - ms[i + 1]) <= _EDGE]
    kept = [abs(v) for name, v in residuals.items() if name not in excluded]
    errs = {"saddle": max(kept) if kept else 0.0,
            "free_energy": abs(f - result.free_energy), "energy": abs(e - result.energy),
            "entropy": abs(s - result.entropy)}
    if math.isfinite(rep_err):
        errs["replicon"] = rep_err
    converged, message = check_verdict(result, errs, tolerance)
    ops = {k_: v for k_, v in point.items() if k_ not in ("beta", "h")}
    return DerivationCheck(
        model=repr(model), method=derivation.method.name, T=model.T, field=model.field,
        order_parameters=ops, residuals=residuals, saddle_error=errs["saddle"],
        free_energy=f, free_energy_solver=float(result.free_energy),
        free_energy_error=errs["free_energy"], energy=e,
        energy_solver=float(result.energy), energy_error=errs["energy"], entropy=s,
        entropy_solver=float(result.entropy), entropy_error=errs["entropy"],
        replicon=finite_or_nan(rep), replicon_error=rep_err, tolerance=tolerance,
        converged=converged,
        settings={"nodes": derivation.program(nodes=nodes).nodes, "solver_tol": opts.tol,
                  "quadrature_error": _quadrature_error(derivation.program(nodes=nodes)),
                  "excluded": excluded},
        message=message,
        hessian={name: finite_or_nan(values[name]) for name in _SECTORS if name in values})


def _check_ground(derivation: Derivation, model: MixedPSpin, opts: Options,
                  nodes: int | None, tolerance: float) -> DerivationCheck:
    result = solve(model, method=derivation.method, options=opts)
    k = derivation.method.k
    point: dict[str, float] = {"h": model.field}
    for p in derivation.ground_parameters[1:]:
        if p.name == "chi":
            point["chi"] = float(result.L)
        elif p.name.startswith("x_"):
            point[p.name] = float(result.gamma[int(p.name[2:]) - 1])
        else:
            point[p.name] = float(result.q[int(p.name[2:])])
    names = tuple(n for n in derivation.numeric if n.startswith("ground_state"))
    values = derivation.evaluate(names, nodes=nodes, **point)
    residuals = {n[len("ground_state_"):]: v for n, v in values.items()
                 if n != "ground_state_energy"}
    e = values["ground_state_energy"]
    ms = [0.0] + [point.get(f"x_{i}", 0.0) for i in range(1, k + 1)]
    excluded = [f"x_{i}" for i in range(1, k + 1) if not ms[i] > _EDGE]
    kept = [abs(v) for n, v in residuals.items() if n not in excluded]
    errs = {"saddle": max(kept) if kept else 0.0, "energy": abs(e - result.energy)}
    converged, message = check_verdict(result, errs, tolerance)
    return DerivationCheck(
        model=repr(model), method=derivation.method.name, T=0.0, field=model.field,
        order_parameters={n: v for n, v in point.items() if n != "h"}, residuals=residuals,
        saddle_error=errs["saddle"], free_energy=e,
        free_energy_solver=float(result.free_energy),
        free_energy_error=abs(e - result.free_energy), energy=e,
        energy_solver=float(result.energy), energy_error=errs["energy"], entropy=0.0,
        entropy_solver=float(result.entropy), entropy_error=abs(result.entropy),
        replicon=math.nan, replicon_error=math.nan, tolerance=tolerance,
        converged=converged,
        settings={"nodes": derivation.program(names, nodes).nodes, "solver_tol": opts.tol,
                  "excluded": excluded},
        message=message)
