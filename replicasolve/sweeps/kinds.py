"""The vocabulary of sweepable models: parameters, quantities and model kinds.

:mod:`replicasolve.sweeps.quantities` and :mod:`replicasolve.sweeps.descriptor_model`
declare their models with these three classes; :mod:`replicasolve.sweeps.spec` checks a
sweep specification against them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelKind", "Param", "Quantity"]

_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes:
        kind: ``"float"``, ``"int"``, ``"str"`` or ``"ints"`` (a fixed list of integers).
        unit: the unit written into the netCDF coordinate attributes.
        default: the value when the spec does not give one (absent: required).
        low: smallest allowed value (numbers), ``None`` for no bound.
        low_open: whether ``low`` itself is excluded.
        axis: whether the parameter may be swept (``False``: fixed only).
        choices: the allowed values of a string parameter (empty: any string).
    """

    kind: str
    unit: str
    default: Any = _REQUIRED
    low: float | None = None
    low_open: bool = False
    axis: bool = True
    choices: tuple[str, ...] = ()  # allowed strings (empty: any)

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Quantity:
    """A computable quantity: ``func(params, solver) -> {name: number, ...}``.

    ``seeded``, where given, is the warm-start form used along a sweep's warm axis:
    ``seeded(params, solver, start) -> (values, state)``, with ``start`` the ``state`` the
    previous point of the chain returned (``None`` at a chain's first point, after a failed
    point, or after a point that returned ``None``: those are computed cold). ``func`` must
    equal ``seeded(params, solver, None)[0]``; the two agree with each other to the solver
    tolerance for any start.
    """

    func: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, float]]
    unit: str
    description: str
    labels: Mapping[int, str] | None = None  # integer codes → names (phase)
    excludes: tuple[str, ...] = ()  # parameters that make no sense for it (T at the ground state)
    needs: tuple[str, ...] = ()  # optional parameters it cannot do without
    seeded: Callable[[Mapping[str, Any], Mapping[str, Any], Any],
                     tuple[dict[str, float], Any]] | None = None


@dataclass(frozen=True)
class ModelKind:
    """A model a sweep can run: its parameters, quantities and allowed ``[solver]`` keys."""

    params: Mapping[str, Param]
    quantities: Mapping[str, Quantity]
    solver_keys: tuple[str, ...] = ()
    description: str = ""
    # extra_check(fixed, axes): cross-parameter checks before any work (axes: name → values)
    extra_check: Callable[[Mapping[str, Any], Mapping[str, Any]], None] | None = field(
        default=None)
    # solver_check(solver): checks the values of the [solver] table before any work
    solver_check: Callable[[Mapping[str, Any]], Any] | None = field(default=None)
