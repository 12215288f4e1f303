"""Solvers: ``solve(problem, method, options)`` for every theory of the library.

    import replicasolve as rs                   # or: from replicasolve.solvers import solve

    sk = rs.MixedPSpin("q**2/2", spins="ising", T=0.5)
    r = rs.solve(sk, method=rs.FullRSB())       # or "rs", "1rsb", RSB(k=4), "full"
    r.free_energy, r.free_energy_error, r.q, r.x, r.converged

:func:`solve` (:mod:`.dispatch`) dispatches on the problem: the Parisi variational problem
of a mixed p-spin model (:mod:`.parisi`: Ising spins by the Parisi PDE in :mod:`.ising`,
spherical spins by Crisanti–Sommers in :mod:`.spherical`), the Gaussian-limit and
finite-width landscapes (:mod:`.finite_width`), the multilayer SK transition and TAP
instances. :mod:`.classify` labels a state point RS / 1RSB / FRSB, :mod:`.transitions`
finds the static and dynamical temperatures of spherical models, :mod:`.selfcheck` holds
every Parisi result to its thermodynamic identities.
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
