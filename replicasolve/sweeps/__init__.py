"""Declarative parameter sweeps → ``xarray.Dataset`` (netCDF), resumable, local or on Dask.

    from replicasolve.sweeps import run_sweep
    ds = run_sweep("examples/sweeps/msk_tc_vs_depth.toml", "msk_tc.nc", workers=4)

The spec format is described in :mod:`replicasolve.sweeps.spec`, the models and quantities
in :mod:`replicasolve.sweeps.quantities`, the on-disk record of finished points in
:mod:`replicasolve.sweeps.store`. Imports here are light; xarray and dask load when used.
"""

from __future__ import annotations

from .run import SweepOutcome, execute, run_sweep, shutdown_pool
from .spec import SweepSpec, load_spec, spec_from_toml
from .store import load_sweep

__all__ = ["SweepOutcome", "SweepSpec", "execute", "load_spec", "load_sweep", "run_sweep",
           "shutdown_pool", "spec_from_toml"]
