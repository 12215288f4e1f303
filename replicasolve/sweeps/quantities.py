"""What a sweep can compute: one pure function per (model kind, quantity).

Each model kind declares its parameters (type, unit, default, whether it may be an axis)
and its quantities. A quantity function takes the full parameter dict of one point (fixed
parameters and axis values merged, defaults filled in) plus the ``[solver]`` settings and
returns a dict of plain numbers: the quantity under its own name, and optionally extra
variables (e.g. ``converged``). Functions live at module level so that worker processes and
Dask workers can import them by name. Adding a model means adding one :class:`ModelKind`
to :data:`MODELS`.

Heavy imports (solvers, kernels) happen inside the functions, in the worker.

Warm starts (``[solver] warm_start``, :mod:`replicasolve.sweeps.spec`): a quantity with a
``seeded`` form is computed along the sweep's warm axis as a chain, each point started from
the solution of the point before it. Per model kind:

- ``pspin``: ``free_energy``, ``energy``, ``ground_state`` seed the Parisi solve with the
  previous point's :class:`~replicasolve.solvers.result.ParisiResult` (RS itself is always
  solved cold); ``phase`` seeds the 1RSB and 2RSB solves of the classification.
- ``landscape``: ``phase`` as for pspin at T > 0 (T = 0 is classified cold);
  ``free_energy`` / ``energy`` seed an explicit method, or the full-RSB solve of
  ``method = "auto"`` (RS points are solved cold).
- ``msk``, ``tap``, ``run``: closed forms and independent random instances: nothing to
  seed, no ``seeded`` form (a spec asking for ``warm_start = true`` there is refused).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .descriptor_model import DESCRIPTOR
from .kinds import ModelKind, Param, Quantity

__all__ = ["MODELS", "PHASE_CODES", "WARM_KEYS", "ModelKind", "Param", "Quantity",
           "compute_point", "compute_seeded"]

# the codes of replicasolve.studies.landscape_diagram.PHASE_LABELS (kept equal by a test)
PHASE_CODES = {"RS": 0, "RSB": 1, "1RSB": 2, "FRSB": 3}

# ----------------------------------------------------------------------------- msk


def _msk(params: Mapping[str, Any]) -> Any:
    from ..models.msk import msk_critical

    sizes = params.get("sizes")
    if sizes is None:
        sizes = [1] * (int(params["depth"]) + 1)  # identical layers: only ratios matter
    return msk_critical(sizes, float(params["variance"]))


def msk_T_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Critical temperature of the multilayer SK model (units of J)."""
    return {"T_c": _msk(params).T_c}


def msk_beta_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Critical inverse temperature of the multilayer SK model (units of 1/J)."""
    return {"beta_c": _msk(params).beta_c}


def msk_lambda_max(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Largest eigenvalue of the critical matrix K (= T_c², units of J²)."""
    return {"lambda_max": _msk(params).lambda_max}


def _msk_check(fixed: Mapping[str, Any], axes: Mapping[str, Any]) -> None:
    from ..errors import InvalidInputError

    if ("sizes" in fixed) == ("depth" in fixed or "depth" in axes):
        raise InvalidInputError("model msk needs exactly one of 'depth' (identical layers) "
                                "and 'sizes' (fixed layer sizes)")


# ----------------------------------------------------------------------------- TAP instances


def _tap_sizes(params: Mapping[str, Any]) -> list[int]:
    hidden = [int(params["width"])] * int(params["depth"])
    return [int(params["n_in"]), *hidden, int(params["n_out"])]


def _tap_point(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    from ..models.msk import msk_critical
    from ..tap.bonds import random_layered
    from ..tap.critical import tap_critical

    sizes = _tap_sizes(params)
    variance = float(params["variance"])
    bonds = random_layered(sizes, variance, seed=int(params["seed"]))
    crit = tap_critical(bonds, rtol=float(solver.get("rtol", 1e-8)))
    theory = msk_critical(sizes, variance).beta_c
    return {"beta_c": crit.beta_c, "T_c": crit.T_c, "beta_ratio": crit.beta_c / theory}


def tap_beta_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """TAP β_c of one random Kaiming instance (finite-size corrected definition), with
    ``beta_ratio`` = β_c / β_MSK of the same sizes as an extra variable (units of 1/J)."""
    return _tap_point(params, solver)


def tap_T_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """TAP T_c = 1/β_c of one random instance (energy units of J), with ``beta_ratio``."""
    out = _tap_point(params, solver)
    return {"T_c": out["T_c"], "beta_ratio": out["beta_ratio"]}


# ----------------------------------------------------------------------------- training runs


def _run_point(params: Mapping[str, Any], solver: Mapping[str, Any]) -> Any:
    from pathlib import Path

    from ..studies.train.snapshots import read_snapshot, snapshot_path
    from ..tap.bonds import LayeredBonds
    from ..tap.critical import tap_critical

    run = Path(str(params["run"]))
    first = read_snapshot(snapshot_path(run, 0))
    snap = read_snapshot(snapshot_path(run, int(params["epoch"])),
                         layer_sizes=first.layer_sizes)
    return tap_critical(LayeredBonds(snap.weights), reference=LayeredBonds(first.weights),
                        rtol=float(solver.get("rtol", 1e-8)))


def run_T_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """TAP T_c of a training snapshot, finite-size corrected with epoch 0 as the reference
    (arXiv 2408.06421, section 3; the same definition as ``replicasolve scan``)."""
    crit = _run_point(params, solver)
    return {"T_c": crit.T_c, "crossed": int(crit.crossed)}


def run_beta_c(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """TAP β_c of a training snapshot (corrected definition, epoch 0 as reference)."""
    crit = _run_point(params, solver)
    return {"beta_c": crit.beta_c, "crossed": int(crit.crossed)}


def _run_check(fixed: Mapping[str, Any], axes: Mapping[str, Any]) -> None:
    from ..errors import InvalidInputError
    from ..studies.train.snapshots import list_snapshots

    epochs = {e for e, _ in list_snapshots(str(fixed["run"]))}  # errors name the folder
    if 0 not in epochs:
        raise InvalidInputError(f"{fixed['run']}: no epoch-0 snapshot (the reference)")
    wanted = list(axes.get("epoch", [])) or ([fixed["epoch"]] if "epoch" in fixed else [])
    missing = sorted(int(e) for e in wanted if int(e) not in epochs)
    if missing:
        raise InvalidInputError(f"{fixed['run']}: no snapshot for epoch(s) {missing}")


# ----------------------------------------------------------------------------- mixed p-spin

SOLVER_OPTIONS = ("tol", "maxiter", "grid_step", "grid_width", "n_gauss", "max_grid")
# [solver] keys of warm starts along an axis (see replicasolve.sweeps.spec); a model kind
# whose quantities have a ``seeded`` form lists them in its solver_keys
WARM_KEYS = ("warm_start", "warm_axis")


def _method(solver: Mapping[str, Any]) -> Any:
    from ..solvers import FullRSB, as_method

    method = solver.get("method", "full")
    if "ks" in solver:
        return FullRSB(ks=tuple(int(k) for k in solver["ks"]))
    return as_method(method)


def _options(solver: Mapping[str, Any]) -> dict[str, Any]:
    return {k: solver[k] for k in SOLVER_OPTIONS if k in solver}


def _pspin_model(params: Mapping[str, Any], T: float) -> Any:
    from ..models.pspin import MixedPSpin

    return MixedPSpin(params["xi"], spins=params["spins"], T=T, field=float(params["field"]))


def _solved(params: Mapping[str, Any], solver: Mapping[str, Any], T: float,
            start: Any = None) -> Any:
    from ..solvers import solve

    return solve(_pspin_model(params, T), method=_method(solver), options=_options(solver),
                 start=start)


def _keep(r: Any) -> Any:
    """The state a warm chain carries on: a converged result, else nothing (cold next)."""
    return r if r.converged else None


def pspin_free_energy_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                             start: Any) -> tuple[dict[str, float], Any]:
    """:func:`pspin_free_energy` warm-started from ``start`` (a ParisiResult or None)."""
    r = _solved(params, solver, float(params["T"]), start)
    return {"free_energy": float(r.value), "converged": int(bool(r.converged))}, _keep(r)


def pspin_free_energy(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Parisi free energy per spin f = -T E ln Z / N (extrapolated for full RSB)."""
    return pspin_free_energy_seeded(params, solver, None)[0]


def pspin_energy_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                        start: Any) -> tuple[dict[str, float], Any]:
    """:func:`pspin_energy` warm-started from ``start`` (a ParisiResult or None)."""
    r = _solved(params, solver, float(params["T"]), start)
    return {"energy": float(r.energy), "converged": int(bool(r.converged))}, _keep(r)


def pspin_energy(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Energy per spin e = E⟨H⟩ / N."""
    return pspin_energy_seeded(params, solver, None)[0]


def pspin_ground_state_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                              start: Any) -> tuple[dict[str, float], Any]:
    """:func:`pspin_ground_state` warm-started from ``start`` (a ParisiResult or None)."""
    r = _solved(params, solver, 0.0, start)
    return {"ground_state": float(r.value), "converged": int(bool(r.converged))}, _keep(r)


def pspin_ground_state(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Ground-state energy per spin (the T = 0 Parisi formula)."""
    return pspin_ground_state_seeded(params, solver, None)[0]


def pspin_phase_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                       start: Any) -> tuple[dict[str, float], Any]:
    """:func:`pspin_phase` with its 1RSB and 2RSB solves warm-started from ``start`` (the
    :class:`~replicasolve.solvers.classify.Classification` of the previous point)."""
    from ..solvers import as_options
    from ..solvers.classify import classify_detail

    c = classify_detail(_pspin_model(params, float(params["T"])),
                        as_options(_options(solver)), start=start)
    return {"phase": PHASE_CODES[c.label]}, c


def pspin_phase(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """RS / 1RSB / FRSB as an integer code (:data:`PHASE_CODES`)."""
    from ..solvers import phase

    label = phase(_pspin_model(params, float(params["T"])), options=_options(solver))
    return {"phase": PHASE_CODES[label]}


def _pspin_check(fixed: Mapping[str, Any], axes: Mapping[str, Any]) -> None:
    from ..models.pspin import covariance

    covariance(fixed["xi"])  # a bad formula fails here, before any work


# ----------------------------------------------------------------------------- landscape


def _landscape_check(fixed: Mapping[str, Any], axes: Mapping[str, Any]) -> None:
    from ..kernels.activation import activation

    for name in axes.get("activation", [fixed.get("activation")]):
        activation(str(name))


def _landscape(params: Mapping[str, Any]) -> Any:
    from ..models.landscape import RandomMLPLandscape

    return RandomMLPLandscape(str(params["activation"]), int(params["depth"]),
                              float(params["sigma_w2"]), float(params["sigma_b2"]))


def landscape_phase(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """RS / 1RSB / FRSB of the random-MLP input landscape at T (integer code)."""
    from ..solvers.landscape import character

    return {"phase": PHASE_CODES[character(_landscape(params), float(params["T"])).label]}


def landscape_phase_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                           start: Any) -> tuple[dict[str, float], Any]:
    """:func:`landscape_phase` with the 1RSB/2RSB solves warm-started from ``start`` (the
    previous point's Classification) at T > 0; T = 0 is classified cold (its label also
    looks at ξ'(1) - ξ''(1), :func:`replicasolve.solvers.landscape.character`)."""
    from ..solvers.classify import classify_detail

    T = float(params["T"])
    land = _landscape(params)
    if T == 0:
        return landscape_phase(params, solver), None
    # character(T).label is phase(model(T)) at T > 0: the same classification, seeded
    c = classify_detail(land.model(T), start=start)
    return {"phase": PHASE_CODES[c.label]}, c


def _landscape_solved(params: Mapping[str, Any], solver: Mapping[str, Any], start: Any) -> Any:
    """solve_landscape(land, T, method, options), the Parisi solve seeded by ``start``.

    Seeding applies to an explicit method and, with ``method = "auto"``, to the full-RSB
    solve at T > 0 (RS is solved cold; T = 0 and the RS-stable points go through
    :func:`replicasolve.solvers.landscape.solve_landscape` unchanged)."""
    from ..solvers import solve
    from ..solvers.landscape import solve_landscape

    land = _landscape(params)
    T = float(params["T"])
    method = solver.get("method", "auto")
    opts = _options(solver) or None
    if start is None or T == 0:
        return solve_landscape(land, T, method, opts)
    model = land.model(T)
    if method != "auto":
        return solve(model, method, opts, start=start)
    rs = solve(model, "rs", opts)
    if rs.replicon >= 0:
        return rs
    return solve(model, "full", opts, start=start)


def landscape_free_energy_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                                 start: Any) -> tuple[dict[str, float], Any]:
    """:func:`landscape_free_energy` warm-started from ``start`` (a ParisiResult or None)."""
    r = _landscape_solved(params, solver, start)
    return {"free_energy": float(r.value), "converged": int(bool(r.converged))}, _keep(r)


def landscape_free_energy(params: Mapping[str, Any], solver: Mapping[str, Any]
                          ) -> dict[str, float]:
    """Free energy per input dimension (RS where stable, else full RSB)."""
    return landscape_free_energy_seeded(params, solver, None)[0]


def landscape_energy_seeded(params: Mapping[str, Any], solver: Mapping[str, Any],
                            start: Any) -> tuple[dict[str, float], Any]:
    """:func:`landscape_energy` warm-started from ``start`` (a ParisiResult or None)."""
    r = _landscape_solved(params, solver, start)
    return {"energy": float(r.energy), "converged": int(bool(r.converged))}, _keep(r)


def landscape_energy(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """Energy per input dimension (RS where stable, else full RSB)."""
    return landscape_energy_seeded(params, solver, None)[0]


_T_UNIT = "energy units of xi (per spin)"
_LABELS = {v: k for k, v in PHASE_CODES.items()}

MODELS: dict[str, ModelKind] = {
    "msk": ModelKind(
        description="multilayer SK model of a layered network (replicasolve.models.msk)",
        params={
            "depth": Param("int", "count (weight layers L)", default=None, low=1),
            "variance": Param("float", "dimensionless (C)", default=2.0, low=0, low_open=True),
            "sizes": Param("ints", "count", default=None, axis=False),
        },
        quantities={
            "T_c": Quantity(msk_T_c, "energy units of J", "critical temperature"),
            "beta_c": Quantity(msk_beta_c, "1/J", "critical inverse temperature"),
            "lambda_max": Quantity(msk_lambda_max, "J^2", "largest eigenvalue of K"),
        },
        extra_check=_msk_check,
    ),
    "pspin": ModelKind(
        description="mixed p-spin model (replicasolve.models.pspin.MixedPSpin)",
        params={
            "xi": Param("str", "formula in q", axis=False),
            "spins": Param("str", "", default="ising", choices=("ising", "spherical")),
            "T": Param("float", _T_UNIT, default=None, low=0),
            "field": Param("float", _T_UNIT, default=0.0),
        },
        quantities={
            "free_energy": Quantity(pspin_free_energy, _T_UNIT, "Parisi free energy per spin",
                                    needs=("T",), seeded=pspin_free_energy_seeded),
            "energy": Quantity(pspin_energy, _T_UNIT, "energy per spin", needs=("T",),
                               seeded=pspin_energy_seeded),
            "ground_state": Quantity(pspin_ground_state, _T_UNIT, "ground-state energy per spin",
                                     excludes=("T",), seeded=pspin_ground_state_seeded),
            "phase": Quantity(pspin_phase, "", "replica-symmetry-breaking phase", _LABELS,
                              needs=("T",), seeded=pspin_phase_seeded),
        },
        solver_keys=("method", "ks", *SOLVER_OPTIONS, *WARM_KEYS),
        extra_check=_pspin_check,
    ),
    "landscape": ModelKind(
        description="random-MLP input landscape (replicasolve.models.landscape)",
        params={
            "activation": Param("str", ""),
            "depth": Param("int", "count (hidden layers L)", low=0),
            "sigma_w2": Param("float", "dimensionless", default=1.0, low=0, low_open=True),
            "sigma_b2": Param("float", "dimensionless", default=0.0, low=0),
            "T": Param("float", _T_UNIT, low=0),
        },
        quantities={
            "phase": Quantity(landscape_phase, "", "replica-symmetry-breaking phase", _LABELS,
                              seeded=landscape_phase_seeded),
            "free_energy": Quantity(landscape_free_energy, _T_UNIT,
                                    "free energy per input dimension",
                                    seeded=landscape_free_energy_seeded),
            "energy": Quantity(landscape_energy, _T_UNIT, "energy per input dimension",
                               seeded=landscape_energy_seeded),
        },
        solver_keys=("method", *SOLVER_OPTIONS, *WARM_KEYS),
        extra_check=_landscape_check,
    ),
    "tap": ModelKind(
        description="TAP critical point of one random Kaiming layered network "
        "(replicasolve.tap.critical; compare beta_ratio with 1)",
        params={
            "n_in": Param("int", "count (input spins)", default=784, low=1),
            "width": Param("int", "count (spins per hidden layer)", low=1),
            "depth": Param("int", "count (hidden layers)", low=1),
            "n_out": Param("int", "count (output spins)", default=10, low=1),
            "variance": Param("float", "dimensionless (C)", default=2.0, low=0, low_open=True),
            "seed": Param("int", "", default=0, low=0),
        },
        quantities={
            "beta_c": Quantity(tap_beta_c, "1/J", "TAP critical inverse temperature"),
            "T_c": Quantity(tap_T_c, "energy units of J", "TAP critical temperature"),
        },
        solver_keys=("rtol",),
    ),
    "run": ModelKind(
        description="TAP critical point of the snapshots of a training run "
        "(replicasolve train), epoch 0 as the finite-size reference",
        params={
            "run": Param("str", "", axis=False),
            "epoch": Param("int", "epochs", low=0),
        },
        quantities={
            "T_c": Quantity(run_T_c, "energy units of J", "TAP critical temperature"),
            "beta_c": Quantity(run_beta_c, "1/J", "TAP critical inverse temperature"),
        },
        solver_keys=("rtol",),
        extra_check=_run_check,
    ),
}


def compute_point(kind: str, quantity: str, params: Mapping[str, Any],
                  solver: Mapping[str, Any]) -> dict[str, float]:
    """Compute one point: ``MODELS[kind].quantities[quantity].func(params, solver)``.

    Parameters that are ``None`` (optional and not given) are left out of ``params``.
    Returns the function's dict with every value a Python float or int (NaN allowed).
    """
    func = MODELS[kind].quantities[quantity].func
    clean = {k: v for k, v in params.items() if v is not None}
    return _plain(func(clean, solver))


def _plain(out: Mapping[str, Any]) -> dict[str, float]:
    return {k: (int(v) if isinstance(v, (bool, int)) else float(v)) for k, v in out.items()}


def compute_seeded(kind: str, quantity: str, params: Mapping[str, Any],
                   solver: Mapping[str, Any], start: Any) -> tuple[dict[str, float], Any]:
    """Compute one point of a warm chain: ``(values, state)`` from the quantity's ``seeded``
    form with ``start`` the previous point's state (:func:`compute_point` and ``None`` for a
    quantity without one)."""
    q = MODELS[kind].quantities[quantity]
    clean = {k: v for k, v in params.items() if v is not None}
    if q.seeded is None:
        return _plain(q.func(clean, solver)), None
    out, state = q.seeded(clean, solver, start)
    return _plain(out), state


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a real, finite number (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


MODELS["descriptor"] = DESCRIPTOR
