"""The ``descriptor`` sweep model: the spin-glass descriptor q̄(T) of one network.

q̄(T) = mean over replica pairs a ≠ b of |Q_ab| (Jun Li, arXiv 2508.07397),
measured by Monte Carlo on the Ising model of a network built by
:func:`replicasolve.studies.descriptor.network_spin_model`. A spec::

    quantity = "qbar"                  # or energy, chi_sg, binder

    [model]
    kind = "descriptor"
    network = "runs/std"               # a .pt / .npz / snapshot file or a training run folder
    # sizes = [64, 32, 32, 10]         # ... or a seeded random Kaiming network instead
    # variance = 2.0                   #     W ~ N(0, C / N_in) (random networks only)
    # net_seed = 0                     #     the network's seed (random networks; an axis too)
    couplings = "layered"              # layered | hebbian
    fields = "biases"                  # biases | none
    spin_layers = "all"                # all | no_input | no_output | hidden
    scale = 1.0

    [axes]
    T = {start = 0.2, stop = 3.0, num = 15}
    epoch = [0, 1, 2]                  # run folders only (default: the last snapshot)

    [solver]                           # Monte Carlo settings (defaults: descriptor_curve's)
    replicas = 16
    sweeps = 2000
    burn_in = 1000
    seed = 0
    update = "metropolis"              # metropolis | heatbath
    equilibration = "hotcold"          # hotcold | none
    measure_every = 1

Each point is one call ``descriptor_curve(system, [T], seed=seed, ...)``: a point depends on
its own parameters and the ``[solver]`` settings only, never on the executor or on the other
points, so serial, pool and Dask runs give the same numbers bit for bit. Every temperature
uses the same random stream (the ``seed``'s first child; common random numbers across T).
Note that ``descriptor_curve`` over a ladder of several temperatures gives temperature k the
k-th child stream, so only the lowest temperature of such a ladder coincides bit for bit
with the sweep; the others agree within their error bars.

Besides the quantity, every point stores ``qbar_err``, ``energy``, ``energy_err``,
``chi_sg``, ``chi_sg_err``, ``binder``, ``abs_magnetization``, ``equilibrated`` (1 yes, 0 no,
-1 not checked), ``n_spins`` and ``qbar_paramagnet`` (the exact T = ∞ value E|Q_ab|).

The ``[solver]`` values are checked by :func:`check_solver`, which each point calls first
(the sweep spec does not pass ``[solver]`` to a model's cross-checks; call
:func:`check_solver` before a long run to fail before any work). The model kind is
:data:`DESCRIPTOR`; registered with ``MODELS["descriptor"] = DESCRIPTOR``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .kinds import ModelKind, Param, Quantity

__all__ = [
    "DESCRIPTOR",
    "SOLVER_DEFAULTS",
    "check_solver",
    "descriptor_binder",
    "descriptor_chi_sg",
    "descriptor_energy",
    "descriptor_qbar",
    "descriptor_system",
]

# the defaults of replicasolve.studies.descriptor.descriptor_curve (kept equal by a test)
SOLVER_DEFAULTS: dict[str, Any] = {
    "replicas": 16,
    "sweeps": 2000,
    "burn_in": 1000,
    "seed": 0,
    "update": "metropolis",
    "equilibration": "hotcold",
    "measure_every": 1,
}
_UPDATES = ("metropolis", "heatbath")
_EQUILIBRATION = ("hotcold", "none")
_SPIN_LAYERS = {"all": (True, True), "no_input": (False, True),
                "no_output": (True, False), "hidden": (False, False)}
_MINIMUM = {"replicas": 2, "sweeps": 1, "burn_in": 0, "seed": 0, "measure_every": 1}


def check_solver(solver: Mapping[str, Any]) -> dict[str, Any]:
    """The Monte Carlo settings of a ``[solver]`` table, checked, with defaults filled in.

    Raises:
        InvalidInputError: an unknown key, a count that is not a whole number or too small,
            an unknown ``update`` or ``equilibration``, or ``measure_every > sweeps``.
    """
    if not isinstance(solver, Mapping):
        raise InvalidInputError("[solver] must be a table")
    bad = [k for k in solver if k not in SOLVER_DEFAULTS]
    if bad:
        raise InvalidInputError(f"unknown key {bad[0]!r} in [solver] of model 'descriptor' "
                                f"(allowed: {', '.join(sorted(SOLVER_DEFAULTS))})")
    out = {**SOLVER_DEFAULTS, **solver}
    for key, low in _MINIMUM.items():
        v = out[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise InvalidInputError(f"[solver] {key} must be a whole number >= {low}, got {v!r}")
    if out["update"] not in _UPDATES:
        raise InvalidInputError(f"[solver] update must be one of {', '.join(_UPDATES)}, "
                                f"got {out['update']!r}")
    if out["equilibration"] not in _EQUILIBRATION:
        raise InvalidInputError(f"[solver] equilibration must be one of "
                                f"{', '.join(_EQUILIBRATION)}, got {out['equilibration']!r}")
    if out["measure_every"] > out["sweeps"]:
        raise InvalidInputError(f"[solver] measure_every ({out['measure_every']}) exceeds "
                                f"sweeps ({out['sweeps']})")
    return out


@functools.lru_cache(maxsize=8)
def _system(network: str | None, stamp: int, sizes: tuple[int, ...] | None, variance: float,
            net_seed: int, epoch: int | None, couplings: str, fields: str, spin_layers: str,
            scale: float) -> Any:
    # stamp: the file's modification time, so a rewritten file is read again
    from ..studies.descriptor import network_spin_model
    from ..tap.bonds import random_layered

    source: Any = network if network is not None else random_layered(list(sizes or ()),
                                                                      variance, net_seed)
    inc_in, inc_out = _SPIN_LAYERS[spin_layers]
    return network_spin_model(source, couplings=couplings, biases=fields == "biases",
                              include_input=inc_in, include_output=inc_out, scale=scale,
                              epoch=epoch)


def descriptor_system(params: Mapping[str, Any]) -> Any:
    """The :class:`~replicasolve.studies.descriptor.NetworkSystem` of one sweep point.

    ``params`` holds ``network`` (a path) or ``sizes`` (with ``variance`` and ``net_seed``),
    and the construction options (``couplings``, ``fields``, ``spin_layers``, ``scale``,
    ``epoch``). The system is cached per process (the same network at every temperature).
    """
    network = params.get("network")
    sizes = params.get("sizes")
    epoch = params.get("epoch")
    stamp = 0
    if network is not None:
        try:
            stamp = os.stat(str(network)).st_mtime_ns
        except OSError:
            stamp = -1  # network_spin_model names the missing file
    return _system(
        None if network is None else str(network), stamp,
        None if sizes is None else tuple(int(s) for s in sizes),
        float(params.get("variance", 2.0)), int(params.get("net_seed", 0)),
        None if epoch is None else int(epoch),
        str(params.get("couplings", "layered")), str(params.get("fields", "biases")),
        str(params.get("spin_layers", "all")), float(params.get("scale", 1.0)))


def _point(params: Mapping[str, Any], solver: Mapping[str, Any], first: str
           ) -> dict[str, float]:
    from ..blas import blas_threads
    from ..studies.descriptor import descriptor_curve

    mc = check_solver(solver)
    system = descriptor_system(params)
    with blas_threads(1):
        ds = descriptor_curve(system, [float(params["T"])], replicas=mc["replicas"],
                              sweeps=mc["sweeps"], burn_in=mc["burn_in"], seed=mc["seed"],
                              method=mc["update"], equilibration=mc["equilibration"],
                              measure_every=mc["measure_every"])
    out: dict[str, float] = {
        "qbar": float(ds["q_bar"].values[0]),
        "qbar_err": float(ds["q_bar_err"].values[0]),
        "energy": float(ds["energy"].values[0]),
        "energy_err": float(ds["energy_err"].values[0]),
        "chi_sg": float(ds["chi_sg"].values[0]),
        "chi_sg_err": float(ds["chi_sg_err"].values[0]),
        "binder": float(ds["binder"].values[0]),
        "abs_magnetization": float(ds["abs_magnetization"].values[0]),
        "equilibrated": int(ds["equilibrated"].values[0]),
        "n_spins": int(system.n),
        "qbar_paramagnet": float(ds.attrs["q_bar_paramagnet"]),
    }
    return {first: out.pop(first), **out}


def descriptor_qbar(params: Mapping[str, Any], solver: Mapping[str, Any]) -> dict[str, float]:
    """The descriptor q̄(T) = mean |Q_ab| over replica pairs a ≠ b (arXiv 2508.07397), with
    its standard error and the other observables of the same run as extra variables."""
    return _point(params, solver, "qbar")


def descriptor_energy(params: Mapping[str, Any], solver: Mapping[str, Any]
                      ) -> dict[str, float]:
    """Energy per spin ⟨H⟩/N of the network's spin model at T (units of the couplings)."""
    return _point(params, solver, "energy")


def descriptor_chi_sg(params: Mapping[str, Any], solver: Mapping[str, Any]
                      ) -> dict[str, float]:
    """Spin-glass susceptibility N⟨Q_ab²⟩ of the network's spin model at T."""
    return _point(params, solver, "chi_sg")


def descriptor_binder(params: Mapping[str, Any], solver: Mapping[str, Any]
                      ) -> dict[str, float]:
    """Binder cumulant (3 − ⟨q⁴⟩/⟨q²⟩²)/2 of the overlap at T."""
    return _point(params, solver, "binder")


def _descriptor_check(fixed: Mapping[str, Any], axes: Mapping[str, Any]) -> None:
    """Before any work: exactly one network source, its file or run folder readable (the
    network is built once here), every requested epoch present, random-network options only
    with ``sizes``."""
    from ..studies.train.snapshots import list_snapshots

    has_path = fixed.get("network") is not None
    has_sizes = fixed.get("sizes") is not None
    if has_path == has_sizes:
        raise InvalidInputError("model 'descriptor' needs exactly one of 'network' (a weights "
                                "file or training run folder) and 'sizes' (a random network)")
    epochs = list(axes.get("epoch", [])) or (
        [fixed["epoch"]] if fixed.get("epoch") is not None else [])
    if has_sizes:
        if epochs:
            raise InvalidInputError("'epoch' needs 'network' to be a training run folder, "
                                    "not a random network ('sizes')")
        params = dict(fixed)
        for name, values in axes.items():
            params[name] = values[0]
        descriptor_system({k: v for k, v in params.items() if v is not None})
        return
    for name in ("variance", "net_seed"):
        if name in axes or fixed.get(name) is not None:
            raise InvalidInputError(f"{name!r} is for random networks ('sizes'); the network "
                                    f"{fixed['network']!r} is read from a file")
    path = Path(str(fixed["network"]))
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or run folder")
    if epochs:
        if not path.is_dir():
            raise InvalidInputError(f"'epoch' needs a training run folder; {path} is a file")
        have = {e for e, _ in list_snapshots(path)}
        missing = sorted(int(e) for e in epochs if int(e) not in have)
        if missing:
            raise InvalidInputError(f"{path}: no snapshot for epoch(s) {missing}")
    params = dict(fixed)
    for name, values in axes.items():
        params[name] = values[0]
    descriptor_system({k: v for k, v in params.items() if v is not None})  # reads the file


_Q_UNIT = "1"
_E_UNIT = "energy per spin (units of the couplings J)"
_T_UNIT = "energy (units of the couplings J, after scale); beta = 1/T"

DESCRIPTOR = ModelKind(
    description="spin-glass descriptor q_bar(T) of one network by Monte Carlo "
    "(replicasolve.studies.descriptor; Jun Li, arXiv 2508.07397)",
    params={
        "network": Param("str", "", default=None, axis=False),
        "sizes": Param("ints", "count (neurons per layer, input first)", default=None,
                       axis=False),
        "variance": Param("float", "dimensionless (C)", default=None, low=0, low_open=True),
        "net_seed": Param("int", "", default=None, low=0),
        "epoch": Param("int", "epochs", default=None, low=0),
        "couplings": Param("str", "", default="layered", choices=("layered", "hebbian")),
        "fields": Param("str", "", default="biases", choices=("biases", "none")),
        "spin_layers": Param("str", "", default="all", choices=tuple(_SPIN_LAYERS)),
        "scale": Param("float", "dimensionless", default=1.0, low=0, low_open=True),
        "T": Param("float", _T_UNIT, low=0, low_open=True),
    },
    quantities={
        "qbar": Quantity(descriptor_qbar, _Q_UNIT,
                         "descriptor q_bar: mean |Q_ab| over replica pairs a != b"),
        "energy": Quantity(descriptor_energy, _E_UNIT, "energy per spin <H>/N"),
        "chi_sg": Quantity(descriptor_chi_sg, _Q_UNIT, "spin-glass susceptibility N <Q_ab^2>"),
        "binder": Quantity(descriptor_binder, _Q_UNIT,
                           "Binder cumulant (3 - <q^4>/<q^2>^2)/2"),
    },
    solver_keys=tuple(SOLVER_DEFAULTS),
    extra_check=_descriptor_check,
    solver_check=check_solver,
)
"""The ``descriptor`` model kind (register with ``MODELS["descriptor"] = DESCRIPTOR``)."""
