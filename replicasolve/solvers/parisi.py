"""The Parisi variational problem of a mixed p-spin model, Ising or spherical spins.

:func:`solve_parisi` dispatches on ``model.spins`` and on ``model.T == 0`` (ground state)
to :mod:`replicasolve.solvers.ising` or :mod:`replicasolve.solvers.spherical`, and passes
every result through the thermodynamic self-check of :mod:`replicasolve.solvers.selfcheck`.
Most scripts call it through :func:`replicasolve.solve`.
"""

from __future__ import annotations

from typing import Any

from .methods import as_method, as_options
from .result import ParisiResult

__all__ = ["solve_parisi"]


def solve_parisi(model: Any, method: Any = "full", options: Any = None,
          start: ParisiResult | None = None, *, progress: Any = None) -> ParisiResult:
    """Solve the Parisi variational problem of ``model`` with ``method``.

    Parameters
    ----------
    model
        A :class:`replicasolve.models.pspin.MixedPSpin` (ξ, spins, T, field).
    method
        :class:`RSB` (k steps; ``RS()`` is k = 0), :class:`FullRSB`, or a string/int
        accepted by :func:`~replicasolve.solvers.methods.as_method` (``"rs"``, ``"1rsb"``,
        ``"full"``, 3).
    options
        :class:`Options` or a dict of its fields.
    start
        A warm start: a previous :class:`ParisiResult` of a model with the same spins (a
        neighbouring T, field or ξ), whose order parameter (breakpoints q, x or γ values)
        seeds the optimiser. A start with a different number of steps than a k-step problem
        needs is adapted: steps that collapsed (zero width, equal levels) are removed first;
        an FRSB start offers each k of its ``sequence``; fewer steps than it offers are made
        by merging its closest steps; a k with more steps than any seed climbs from the
        largest seed or solution below it by step splitting/insertion, as the cold ladder
        does. A seeded solution that does not converge, whose steps collapse (it may sit on
        the saddle of fewer steps), or whose value is worse than that with fewer steps, is
        discarded and that k is solved cold. RS is always solved cold, and a start on the
        other side of T = 0, or an unconverged one, seeds nothing. The result agrees with
        the cold solve to within the solver tolerance (``options.tol``);
        ``settings["warm_start"]`` records which k were seeded.
    progress
        Optional callback ``progress(done, total, label)`` (:mod:`replicasolve.progress`),
        called once after each k of the cold ladder RS → 1 → … → k_max with ``done`` = k,
        ``total`` = k_max and ``label`` = ``"k = <k>"``. Not called for RS or a warm start.

    Returns
    -------
    ParisiResult
        Never a bare number: check ``converged``. Every result has passed the
        thermodynamic self-check of :mod:`replicasolve.solvers.selfcheck` (e = ∂(βf)/∂β,
        entropy and order-parameter bounds; ``result.checks``); one that fails it is not
        converged. For :class:`FullRSB` the headline ``free_energy`` and ``energy`` are the
        k → ∞ extrapolations with ``free_energy_error`` / ``energy_error``; the per-k values
        are in ``sequence``.

    Raises
    ------
    InvalidInputError
        A model that is not a MixedPSpin, a bad method or option, or a ``start`` that is not
        a :class:`ParisiResult` or belongs to a model with other spins.

    References: Parisi (1980); Talagrand, Ann. Math. 163 (2006) and Panchenko (2014) for the
    Ising formula; Auffinger–Chen, CMP 335 (2015) and Adv. Math. 2017 for its convexity and
    the T = 0 formula; Crisanti–Sommers, Z. Phys. B 87 (1992) and Chen–Sen, CMP 2017 for
    spherical spins.
    """
    from ..errors import InvalidInputError
    from ..models.pspin import MixedPSpin

    if not isinstance(model, MixedPSpin):
        raise InvalidInputError(f"model must be a MixedPSpin, got {type(model).__name__}")
    m = as_method(method)
    opts = as_options(options)
    if start is not None:
        if not isinstance(start, ParisiResult):
            raise InvalidInputError(
                f"start must be a ParisiResult (a previous solve), got {type(start).__name__}")
        spins = getattr(start.model, "spins", None)
        if spins != model.spins:
            raise InvalidInputError(
                f"start is a solution for {spins} spins, the model has {model.spins} spins")
    from .selfcheck import apply_self_check

    if model.spins == "ising":
        from . import ising

        return apply_self_check(ising.solve_ising(model, m, opts, start=start,
                                                  progress=progress), opts)
    from . import spherical

    return apply_self_check(spherical.solve_spherical(model, m, opts, start=start,
                                                      progress=progress), opts)
