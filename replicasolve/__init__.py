"""replicasolve: the statistical mechanics of neural networks, derived and checked.

A theory script needs one import::

    import replicasolve as rs

    sk = rs.MixedPSpin("q**2/2", spins="ising", T=0.5)
    r = rs.solve(sk, method=rs.FullRSB())
    r.free_energy, r.free_energy_error, r.converged

    rs.solve(rs.MSK("784,512,512,512,10", variance=2.0)).T_c
    rs.solve(rs.RandomMLPLandscape("tanh", depth=2, T=0.1))
    rs.solve(rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, alpha=4.0, T=1.0), rs.RSB(1))
    rs.derive(sk, rs.RS()).check(T=0.6, h=0.1)   # the replica theory by sympy, checked

Every problem is a frozen object that says what is asked (the temperature included), every
method an object validated on construction, and every result derives from
:class:`replicasolve.results.Result` (``converged``, ``errors``, ``to_dict()``,
``table()``). The names below are loaded on first use, so ``import replicasolve`` stays
fast (numpy only); sympy, numba, scipy, torch, xarray and matplotlib are imported by the
modules that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

# public name -> module that defines it (relative to this package)
_EXPORTS: dict[str, str] = {
    # the one entry point, methods and options
    "solve": "solvers.dispatch",
    "derive": "derivation",
    "RS": "solvers.methods",
    "RSB": "solvers.methods",
    "FullRSB": "solvers.methods",
    "TAP": "solvers.methods",
    "MonteCarlo": "engines.montecarlo",
    "Options": "solvers.methods",
    # problems
    "MixedPSpin": "models.pspin",
    "MSK": "models.msk",
    "Kernel": "models.kernel",
    "RandomMLPLandscape": "models.landscape",
    "FiniteWidthLandscape": "models.landscape",
    "LayeredBonds": "tap.bonds",
    "DenseBonds": "tap.bonds",
    "IsingSystem": "engines.ising",
    # results and errors
    "Result": "results",
    "ParisiResult": "solvers.result",
    "ReplicaSolveError": "errors",
    "InvalidInputError": "errors",
    "ConvergenceError": "errors",
    # what a theory script reaches for next
    "phase": "solvers.classify",
    "character": "solvers.landscape",
    "spherical_transitions": "solvers.transitions",
    "activation": "kernels.activation",
    "xi_function": "kernels.compose",
    "msk_critical": "models.msk",
    "tap_critical": "tap.critical",
    "random_layered": "tap.bonds",
    "load_weights": "tap.bonds",
    "landscape_phase_diagram": "studies.landscape_diagram",
    "run_replicas": "engines.ising",
    "sample": "engines.montecarlo",
    "parallel_tempering": "engines.ising",
    "run_sweep": "sweeps.run",
    "load_sweep": "sweeps.store",
    "network_spin_model": "studies.descriptor",
    "descriptor_curve": "studies.descriptor",
}

__all__ = [
    "MSK",
    "RS",
    "RSB",
    "TAP",
    "ConvergenceError",
    "DenseBonds",
    "FiniteWidthLandscape",
    "FullRSB",
    "InvalidInputError",
    "IsingSystem",
    "Kernel",
    "LayeredBonds",
    "MixedPSpin",
    "MonteCarlo",
    "Options",
    "ParisiResult",
    "RandomMLPLandscape",
    "ReplicaSolveError",
    "Result",
    "__version__",
    "activation",
    "character",
    "derive",
    "descriptor_curve",
    "landscape_phase_diagram",
    "load_sweep",
    "load_weights",
    "msk_critical",
    "network_spin_model",
    "parallel_tempering",
    "phase",
    "random_layered",
    "run_replicas",
    "run_sweep",
    "sample",
    "solve",
    "spherical_transitions",
    "tap_critical",
    "xi_function",
]


def __getattr__(name: str) -> Any:
    """Load a facade name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'replicasolve' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .derivation import derive
    from .engines.ising import IsingSystem, parallel_tempering, run_replicas
    from .engines.montecarlo import MonteCarlo, sample
    from .errors import ConvergenceError, InvalidInputError, ReplicaSolveError
    from .kernels.activation import activation
    from .kernels.compose import xi_function
    from .models.kernel import Kernel
    from .models.landscape import FiniteWidthLandscape, RandomMLPLandscape
    from .models.msk import MSK, msk_critical
    from .models.pspin import MixedPSpin
    from .results import Result
    from .solvers.classify import phase
    from .solvers.dispatch import solve
    from .solvers.landscape import character
    from .solvers.methods import RS, RSB, TAP, FullRSB, Options
    from .solvers.result import ParisiResult
    from .solvers.transitions import spherical_transitions
    from .studies.descriptor import descriptor_curve, network_spin_model
    from .studies.landscape_diagram import landscape_phase_diagram
    from .sweeps.run import run_sweep
    from .sweeps.store import load_sweep
    from .tap.bonds import DenseBonds, LayeredBonds, load_weights, random_layered
    from .tap.critical import tap_critical
