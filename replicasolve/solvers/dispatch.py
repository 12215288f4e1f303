"""One entry point for every theory: ``solve(problem, method, options)``.

The problem says what is asked, the method how to solve it, the options how finely:

================================  ==================================  ============================
problem                           methods (default first)             result
================================  ==================================  ============================
``MixedPSpin``                    ``FullRSB()``, ``RSB(k)``, RS       ``ParisiResult``
``RandomMLPLandscape``            ``"auto"`` (RS where stable, else   ``ParisiResult``
                                  full RSB), as ``MixedPSpin``
``FiniteWidthLandscape``          ``RS()``; ``RSB(k)`` at depth 1;    ``FiniteWidthResult``,
                                  ``RSB(1)`` at any depth             ``FiniteWidthKRSB``,
                                                                      ``FiniteWidth1RSBDeep``
``MSK``                           exact (no method)                   ``MSKCritical``
``Kernel``                        ``"auto"``, ``"closed"``,           a ξ object (``XiResult``)
                                  ``"quadrature"``, ``"ode"``
``LayeredBonds``, ``DenseBonds``  ``TAP(...)``;                       ``TapCritical``;
                                  ``MonteCarlo(T=...)``               ``MCResult`` (one T) or
                                                                      ``PTResult`` (a ladder)
``IsingSystem``                   ``MonteCarlo(T=...)``               ``MCResult`` (one T) or
                                                                      ``PTResult`` (a ladder)
================================  ==================================  ============================

Methods of a higher floor of the pipeline (the Monte Carlo engines) are not imported here:
their module registers its method class with :func:`register_method` when it is imported,
which it is whenever a user holds one of its method objects.

Every result derives from :class:`replicasolve.results.Result`: ``converged``, ``errors``,
``to_dict()``, ``table()``. For the Parisi problems ``options`` is an
:class:`~replicasolve.solvers.methods.Options` (or a dict of its fields); for the others
it is a dict of the keyword arguments of the underlying solver (e.g. ``{"order": 48}`` for
the finite-width quadrature), checked against that solver's signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidInputError
from .methods import RSB, TAP, FullRSB, as_method

__all__ = ["register_method", "solve"]

#: method class -> handler(problem, method, options, progress) for methods that live on a
#: higher floor than this module (filled by :func:`register_method`)
_HANDLERS: dict[type, Callable[..., Any]] = {}


def register_method(method_type: type, handler: Callable[..., Any]) -> None:
    """Make :func:`solve` hand problems with a ``method_type`` method to ``handler``.

    For method classes defined above the solvers floor (so that this module need not import
    them): ``handler(problem, method, options, progress)`` returns the result or raises
    :class:`~replicasolve.errors.InvalidInputError` for a problem it cannot take.
    Registering the same class again replaces its handler.
    """
    if not isinstance(method_type, type) or not callable(handler):
        raise InvalidInputError("register_method needs a class and a callable")
    _HANDLERS[method_type] = handler


def solve(problem: Any, method: Any = None, options: Any = None, start: Any = None, *,
          progress: Any = None) -> Any:
    """Solve ``problem`` with ``method`` (the table in this module's docstring).

    Args:
        problem: a problem object: ``MixedPSpin``, ``RandomMLPLandscape`` (with ``T``),
            ``FiniteWidthLandscape``, ``MSK``, or a ``LayeredBonds``/``DenseBonds``
            instance (an ``IsingSystem`` too, with ``MonteCarlo``).
        method: a method object (``RS()``, ``RSB(k)``, ``FullRSB()``, ``TAP(...)``,
            ``MonteCarlo(...)``), one of
            the strings :func:`~replicasolve.solvers.methods.as_method` reads (``"rs"``,
            ``"1rsb"``, ``"full"``), or ``None`` for the problem's default.
        options: numerical options (see the module docstring).
        start: a warm start, for ``MixedPSpin`` only (a previous ``ParisiResult``;
            :func:`~replicasolve.solvers.parisi.solve_parisi`).
        progress: an optional callback ``progress(done, total, label)``
            (:mod:`replicasolve.progress`) where the solver reports progress.

    Returns:
        The problem's result (a :class:`~replicasolve.results.Result`): check
        ``converged``.

    Raises:
        InvalidInputError: an unknown problem, a method the problem has no solver for,
            unknown options, or ``start`` for a problem without warm starts.
    """
    from ..models.kernel import Kernel
    from ..models.landscape import FiniteWidthLandscape, RandomMLPLandscape
    from ..models.msk import MSK
    from ..models.pspin import MixedPSpin
    from ..tap.bonds import DenseBonds, LayeredBonds

    handler = _HANDLERS.get(type(method))
    if handler is not None:
        if start is not None:
            raise InvalidInputError(
                f"warm starts are for MixedPSpin problems only, not {type(method).__name__}")
        return handler(problem, method, options, progress)
    if isinstance(method, TAP) and not isinstance(problem, (LayeredBonds, DenseBonds)):
        raise InvalidInputError(
            f"TAP(...) solves one network instance (LayeredBonds, DenseBonds), not a "
            f"{type(problem).__name__}")
    if start is not None and not isinstance(problem, MixedPSpin):
        raise InvalidInputError(
            f"warm starts are for MixedPSpin problems only, not {type(problem).__name__}")
    if isinstance(problem, MixedPSpin):
        from .parisi import solve_parisi

        return solve_parisi(problem, "full" if method is None else method, options, start,
                            progress=progress)
    if isinstance(problem, RandomMLPLandscape):
        if problem.T is None:
            raise InvalidInputError(
                "RandomMLPLandscape has no temperature: construct it with T=... or use "
                ".at(T=...)")
        from .landscape import solve_landscape

        return solve_landscape(problem, None, "auto" if method is None else method, options,
                               progress=progress)
    if isinstance(problem, FiniteWidthLandscape):
        return _solve_finite_width(problem, method, options, progress)
    if isinstance(problem, Kernel):
        from ..kernels.compose import xi_function

        if method is not None and not isinstance(method, str):
            raise InvalidInputError(
                f"a Kernel is solved by a route: 'auto', 'closed', 'quadrature' or 'ode', "
                f"got {method!r}")
        kw = _keywords(xi_function, options, {"act", "depth", "sigma_w2", "sigma_b2", "tier",
                                              "shape", "progress"})
        return xi_function(problem.activation, problem.depth, problem.sigma_w2,
                           problem.sigma_b2, tier="auto" if method is None else method,
                           shape=problem.shape, progress=progress, **kw)
    if isinstance(problem, MSK):
        if method not in (None, "exact"):
            raise InvalidInputError(
                f"an MSK problem is solved exactly (its T_c is an eigenvalue): no method, "
                f"got {method!r}")
        _no_options(options, "MSK")
        return problem.critical()
    if isinstance(problem, (LayeredBonds, DenseBonds)):
        m = TAP() if method is None else method
        if not isinstance(m, TAP):
            raise InvalidInputError(
                f"a network instance is solved with TAP(...) or MonteCarlo(...), got "
                f"{method!r}")
        _no_options(options, "TAP (its settings are fields of TAP(...))")
        from ..tap.critical import tap_critical

        return tap_critical(problem, definition=m.definition,  # type: ignore[arg-type]
                            threshold=m.threshold, reference=m.reference, rtol=m.rtol,
                            method=m.eigensolver)  # type: ignore[arg-type]
    raise InvalidInputError(
        f"no solver for a {type(problem).__name__} with method {method!r}: give a "
        "MixedPSpin, RandomMLPLandscape, FiniteWidthLandscape, MSK, Kernel, LayeredBonds "
        "or DenseBonds; an IsingSystem is sampled with MonteCarlo(T=...)")


def _no_options(options: Any, what: str) -> None:
    if options is not None and options != {}:
        raise InvalidInputError(f"{what} takes no options, got {options!r}")


def _keywords(func: Callable[..., Any], options: Any, fixed: set[str]) -> dict[str, Any]:
    """``options`` (a mapping) as keyword arguments of ``func``, refusing names it does not
    take and the names the problem itself sets (``fixed``)."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            f"options for this problem are a dict of keyword arguments, got "
            f"{type(options).__name__}")
    params = inspect.signature(func).parameters
    allowed = {n for n, p in params.items()
               if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - fixed
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise InvalidInputError(
            f"{func.__name__} takes no option {', '.join(map(repr, unknown))}; its options "
            f"are {', '.join(sorted(allowed))}")
    return dict(options)


def _solve_finite_width(problem: Any, method: Any, options: Any, progress: Any) -> Any:
    m = RSB(0) if method is None else as_method(method)
    base = (problem.activation, problem.sigma_w2, problem.sigma_b2)
    fixed = {"activation", "sigma_w2", "sigma_b2", "alpha", "T", "k", "depth", "progress"}
    if isinstance(m, FullRSB):
        raise InvalidInputError(
            "full RSB of the finite-width action is not built: use RSB(k) (depth 1) and "
            "watch the gains of the chain RS -> 1 -> ... -> k")
    if m.k == 0:
        from .finite_width.rs import finite_width_rs

        kw = _keywords(finite_width_rs, options, fixed)
        return finite_width_rs(*base, problem.alpha, problem.T, **kw)
    if problem.depth == 1:
        from .finite_width.krsb import finite_width_krsb

        kw = _keywords(finite_width_krsb, options, fixed)
        return finite_width_krsb(*base, problem.alpha[0], problem.T, m.k, **kw)
    if m.k == 1:
        from .finite_width.deep_rsb import finite_width_1rsb_deep

        kw = _keywords(finite_width_1rsb_deep, options, fixed)
        return finite_width_1rsb_deep(*base, problem.alpha, problem.T, depth=problem.depth,
                                      progress=progress, **kw)
    raise InvalidInputError(
        f"{m.k}-step RSB of the finite-width action is built at depth 1 only (depth "
        f"{problem.depth} has RS and 1RSB)")
