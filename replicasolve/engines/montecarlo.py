"""Monte Carlo as a method object: ``solve(instance, MonteCarlo(T=...))``.

:class:`MonteCarlo` holds the settings of a single-spin-flip run of the Ising engine
(:mod:`replicasolve.engines.ising`) and checks them when it is built. One temperature runs R
independent replicas (:func:`~replicasolve.engines.ising.run_replicas`, an ``MCResult``); a
ladder of temperatures runs parallel tempering
(:func:`~replicasolve.engines.ising.parallel_tempering`, a ``PTResult``). Both results are on
the library's result contract, with the engines' one ``converged`` verdict
(:mod:`replicasolve.engines.convergence`). ``engine="block"`` runs the layer-parallel
heat-bath engine of :mod:`replicasolve.engines.block` instead (layered couplings only; numpy
or torch, CPU or CUDA), with the same result classes.

Importing this module registers the method with :func:`replicasolve.solvers.dispatch.solve`,
so ``replicasolve.solve(problem, MonteCarlo(...))`` works for an ``IsingSystem``, a
``LayeredBonds`` (a network's layered couplings) or a ``DenseBonds`` instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..solvers.dispatch import register_method
from ..tap.bonds import DenseBonds, LayeredBonds
from .block import check_backend, parallel_tempering_block, run_replicas_block
from .ising import IsingSystem, parallel_tempering, run_replicas
from .settings import (
    dtype_of,
    ladder,
    seed_sequence,
    temperature,
    thread_count,
    update_rule,
    whole_number,
)

__all__ = ["MonteCarlo", "sample"]


@dataclass(frozen=True)
class MonteCarlo:
    """Single-spin-flip Monte Carlo of an Ising instance, at one temperature or on a
    parallel-tempering ladder. Every setting is checked here, with the engine's rules.

    Attributes:
        T: a temperature > 0 (energy units of the couplings), or a strictly increasing
            sequence of >= 2 temperatures for parallel tempering (stored as a float or a
            tuple of floats).
        replicas: independent copies per temperature (>= 2 when overlaps are measured).
        sweeps: production sweeps (one flip attempt per spin each).
        burn_in: sweeps discarded first.
        update: ``"metropolis"`` or ``"heatbath"``.
        seed: an int >= 0, or None for fresh entropy (recorded in the result's settings).
        measure_every: sweeps between measurements (<= ``sweeps``).
        swap_every: sweeps between exchange attempts (parallel tempering only).
        start: ``"hot"``, ``"cold"`` or ``"aligned"``.
        dtype: ``"float64"`` or ``"float32"``, the precision of the local fields.
        overlaps: measure the replica overlaps Q_ab.
        threads: threads for dense couplings (>= 1; None: numba's current count); with
            ``engine="block"``, BLAS (numpy) or torch threads.
        engine: ``"single"`` (single-spin flips, :mod:`~replicasolve.engines.ising`) or
            ``"block"`` (layer-parallel heat bath, :mod:`~replicasolve.engines.block`: layered
            couplings only, checked when sampling; it is always heat bath, ``update`` is
            not used).
        backend: ``"numpy"`` or ``"torch"`` (``engine="block"`` only).
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (``engine="block"`` with torch only).
    """

    T: float | Sequence[float]
    replicas: int = 32
    sweeps: int = 2000
    burn_in: int = 1000
    update: str = "metropolis"
    seed: int | None = 0
    measure_every: int = 1
    swap_every: int = 1
    start: str = "hot"
    dtype: str = "float64"
    overlaps: bool = True
    threads: int | None = 1
    engine: str = "single"
    backend: str = "numpy"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if np.ndim(self.T) == 0:
            object.__setattr__(self, "T", temperature(self.T))
        else:
            object.__setattr__(self, "T", tuple(float(t) for t in ladder(self.T)))
        replicas = whole_number(self.replicas, "replicas", 1)
        if not isinstance(self.overlaps, bool):
            raise InvalidInputError(f"overlaps must be True or False, got {self.overlaps!r}")
        if self.overlaps and replicas < 2:
            raise InvalidInputError(
                f"replicas must be >= 2 to measure overlaps, got {replicas}; pass "
                "overlaps=False")
        sweeps = whole_number(self.sweeps, "sweeps", 1)
        whole_number(self.burn_in, "burn_in", 0)
        every = whole_number(self.measure_every, "measure_every", 1)
        if every > sweeps:
            raise InvalidInputError(
                f"measure_every ({every}) exceeds sweeps ({sweeps}): nothing would be measured")
        whole_number(self.swap_every, "swap_every", 1)
        update_rule(self.update)
        dtype_of(self.dtype)
        if self.start not in ("hot", "cold", "aligned"):
            raise InvalidInputError(
                f"start must be 'hot', 'cold' or 'aligned', got {self.start!r}")
        if self.seed is not None:
            seed_sequence(self.seed)
        if self.threads is not None:
            thread_count(self.threads)
        if self.engine not in ("single", "block"):
            raise InvalidInputError(f"engine must be 'single' or 'block', got {self.engine!r}")
        check_backend(self.backend, self.device)
        if self.engine == "single" and (self.backend, self.device) != ("numpy", "cpu"):
            raise InvalidInputError(
                "backend and device choose where the block engine runs; the single-flip "
                "engine runs on numba (CPU): pass engine='block'")

    @property
    def tempering(self) -> bool:
        """Whether this is a parallel-tempering run (a ladder of temperatures)."""
        return isinstance(self.T, tuple)


def _system(problem: Any) -> IsingSystem:
    if isinstance(problem, IsingSystem):
        return problem
    if isinstance(problem, LayeredBonds):
        return IsingSystem.layered(problem)
    if isinstance(problem, DenseBonds):
        return IsingSystem.dense(problem)
    raise InvalidInputError(
        f"MonteCarlo(...) samples an IsingSystem, LayeredBonds or DenseBonds instance, not a "
        f"{type(problem).__name__}")


def sample(problem: IsingSystem | LayeredBonds | DenseBonds, method: MonteCarlo,
           options: Any = None, progress: Any = None) -> Any:
    """Run ``method`` on ``problem``: an ``MCResult`` for one temperature, a ``PTResult``
    for a ladder (both with ``converged``, ``errors``, ``to_dict()``, ``table()``).

    Args:
        problem: the instance: an :class:`~replicasolve.engines.ising.IsingSystem`, or the
            couplings of a network (``LayeredBonds``, zero fields) or of a dense system
            (``DenseBonds``).
        method: the :class:`MonteCarlo` settings.
        options: must be None (every setting is a field of ``MonteCarlo``).
        progress: not reported by the engine; accepted for the common signature.

    Raises:
        InvalidInputError: another kind of problem or method, or options.
    """
    if not isinstance(method, MonteCarlo):
        raise InvalidInputError(f"sample() needs a MonteCarlo(...) method, got {method!r}")
    if options is not None:
        raise InvalidInputError(
            "MonteCarlo takes no options: its settings are fields of MonteCarlo(...)")
    system = _system(problem)
    if method.engine == "block":
        block = dict(sweeps=method.sweeps, burn_in=method.burn_in, seed=method.seed,
                     measure_every=method.measure_every, start=method.start,
                     dtype=method.dtype, overlaps=method.overlaps, threads=method.threads,
                     backend=method.backend, device=method.device)
        if method.tempering:
            return parallel_tempering_block(system, method.T, replicas_per_T=method.replicas,
                                            swap_every=method.swap_every, **block)
        return run_replicas_block(system, method.T, replicas=method.replicas, **block)
    common = dict(sweeps=method.sweeps, burn_in=method.burn_in, method=method.update,
                  seed=method.seed, measure_every=method.measure_every, start=method.start,
                  dtype=method.dtype, overlaps=method.overlaps, threads=method.threads)
    if method.tempering:
        return parallel_tempering(system, method.T, replicas_per_T=method.replicas,
                                  swap_every=method.swap_every, **common)
    return run_replicas(system, method.T, replicas=method.replicas, **common)


register_method(MonteCarlo, sample)
