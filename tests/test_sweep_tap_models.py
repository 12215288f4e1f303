"""Sweep models built on the TAP engine: random instances (``tap``) and training runs
(``run``), each checked against an independent route."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("xarray")

from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import msk_critical
from replicasolve.sweeps import load_spec, run_sweep


def test_tap_instances_sit_at_the_replica_value(tmp_path):
    spec = {"quantity": "beta_c",
            "model": {"kind": "tap", "n_in": 196, "n_out": 10, "variance": 2.0},
            "axes": {"width": [128, 256], "depth": [1, 3], "seed": [0, 1, 2]},
            "solver": {"rtol": 1e-9}}
    ds = run_sweep(spec, tmp_path / "tap.nc", workers=1, progress=False)
    assert ds["beta_c"].dims == ("width", "depth", "seed")
    for w in (128, 256):
        for d in (1, 3):
            theory = msk_critical([196, *[w] * d, 10], 2.0).beta_c
            got = ds["beta_c"].sel(width=w, depth=d).values
            np.testing.assert_allclose(ds["beta_ratio"].sel(width=w, depth=d).values,
                                       got / theory, rtol=1e-12)
            # finite-size spread of random instances at N ~ 330..980: the TAP issue measured
            # mean |beta_TAP/beta_MSK - 1| = 1.6e-2 at N = 291 and 6.7e-3 at N = 583
            assert np.all(np.abs(got / theory - 1) < 5e-2)


def test_run_model_equals_the_epoch_scan(tmp_path):
    pytest.importorskip("torch")
    from replicasolve.studies.scan.epochs import scan_run
    from replicasolve.studies.train.loop import train
    from replicasolve.studies.train.programs import TrainSettings

    run = tmp_path / "run"
    train(TrainSettings(hidden=(32, 16), epochs=2, n_train=300, n_val=100, seed=1), run,
          progress=False)
    ds = run_sweep({"quantity": "T_c", "model": {"kind": "run", "run": str(run)},
                    "axes": {"epoch": [0, 1, 2]}, "solver": {"rtol": 1e-10}},
                   tmp_path / "tc.nc", workers=1, progress=False)
    scan = scan_run(run, plain=False, rtol=1e-10)
    # two routes: tap_critical with epoch 0 as reference here, the scan's warm-started
    # search there; both at rtol 1e-10
    np.testing.assert_allclose(ds["T_c"].values, scan["T_c"].values, rtol=1e-8)
    with pytest.raises(InvalidInputError, match=r"epoch\(s\) \[7\]"):
        load_spec({"quantity": "T_c", "model": {"kind": "run", "run": str(run)},
                   "axes": {"epoch": [0, 7]}})
    with pytest.raises(InvalidInputError, match="no such run directory"):
        load_spec({"quantity": "T_c", "model": {"kind": "run", "run": str(tmp_path / "x")},
                   "axes": {"epoch": [0]}})


@pytest.mark.parametrize("rtol", [0, 0.5, "tight", True])
def test_bad_rtol_is_refused(rtol):
    with pytest.raises(InvalidInputError, match="rtol"):
        load_spec({"quantity": "T_c", "model": {"kind": "tap", "width": 8, "depth": 1},
                   "axes": {"seed": [0]}, "solver": {"rtol": rtol}})
