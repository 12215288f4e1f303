"""Parisi solvers for mixed p-spin models (Ising: Parisi PDE; spherical: Crisanti–Sommers).

    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers import solve, RSB, FullRSB

    sk = MixedPSpin("q**2/2", spins="ising", T=0.5)
    r = solve(sk, method=FullRSB())          # or "rs", "1rsb", RSB(k=4), "full"
    r.free_energy, r.q, r.x, r.converged

``solve`` dispatches on ``model.spins`` and on ``model.T == 0`` (ground state).
"""

from __future__ import annotations

from .classify import phase
from .dispatch import solve
from .methods import RS, RSB, FullRSB, Options, as_method, as_options
from .parisi import solve_parisi
from .result import ParisiResult
from .transitions import SphericalTransitions, below_static_transition, spherical_transitions

__all__ = ["RS", "RSB", "FullRSB", "Options", "ParisiResult", "SphericalTransitions",
           "as_method", "as_options", "below_static_transition", "phase", "solve",
           "solve_parisi", "spherical_transitions"]
