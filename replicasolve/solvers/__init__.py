"""Parisi solvers for mixed p-spin models (Ising: Parisi PDE; spherical: Crisanti–Sommers).

    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers import solve, RSB, FullRSB

    sk = MixedPSpin("q**2/2", spins="ising", T=0.5)
    r = solve(sk, method=FullRSB())          # or "rs", "1rsb", RSB(k=4), "full"
    r.free_energy, r.q, r.x, r.converged

``solve`` dispatches on ``model.spins`` and on ``model.T == 0`` (ground state).
"""

from __future__ import annotations

from typing import Any

from .methods import RS, RSB, FullRSB, Options, as_method, as_options
from .result import ParisiResult

__all__ = ["RS", "RSB", "FullRSB", "Options", "ParisiResult", "phase", "solve"]


def solve(model: Any, method: Any = "full", options: Any = None) -> ParisiResult:
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

    Returns
    -------
    ParisiResult
        Never a bare number: check ``converged``.

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
    if model.spins == "ising":
        from . import ising

        return ising.solve_ising(model, m, opts)
    from . import spherical

    return spherical.solve_spherical(model, m, opts)


def phase(model: Any, options: Any = None) -> str:
    """Classify the model's state point as ``"RS"``, ``"1RSB"`` or ``"FRSB"``.

    RS if the replica-symmetric solution is stable (replicon >= 0) and no 1RSB solution
    has a higher free energy; else 1RSB if the 2RSB solution does not improve on the 1RSB
    one beyond the solver tolerance (its extra step collapses), else FRSB.
    """
    from .classify import classify

    return classify(model, as_options(options))
