"""The ``descriptor`` sweep model (replicasolve.sweeps.descriptor_model): q̄(T) of a network.

Registered in :data:`replicasolve.sweeps.quantities.MODELS` as ``"descriptor"``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.studies.descriptor import descriptor_curve, network_spin_model, paramagnet_q_bar
from replicasolve.studies.train.snapshots import write_snapshot
from replicasolve.sweeps import load_spec, quantities, run_sweep
from replicasolve.sweeps.descriptor_model import DESCRIPTOR, SOLVER_DEFAULTS, check_solver
from replicasolve.tap.bonds import random_layered

xr = pytest.importorskip("xarray")

ROOT = Path(__file__).resolve().parents[1]
SIZES = [12, 8, 8, 4]
FAST = {"replicas": 4, "sweeps": 60, "burn_in": 20, "seed": 11, "equilibration": "none"}
TEMPS = [0.4, 1.0, 2.5]


def test_registered() -> None:
    assert quantities.MODELS["descriptor"] is DESCRIPTOR


def _spec(model: dict | None = None, axes: dict | None = None, solver: dict | None = None,
          quantity: str = "qbar") -> dict:
    return {"name": "test", "quantity": quantity,
            "model": {"kind": "descriptor",
                      **({"sizes": SIZES} if model is None else model)},
            "axes": {"T": list(TEMPS)} if axes is None else axes,
            "solver": dict(FAST) if solver is None else solver}


def _curve(system, temps, **kw):
    settings = {**FAST, **kw}
    return descriptor_curve(system, temps, replicas=settings["replicas"],
                            sweeps=settings["sweeps"], burn_in=settings["burn_in"],
                            seed=settings["seed"], equilibration=settings["equilibration"])


def _run_folder(tmp_path: Path, epochs: int = 2) -> Path:
    """A run folder with snapshots 0..epochs of a 10-6-6-3 network (weights drift by epoch)."""
    run = tmp_path / "run"
    base = random_layered([10, 6, 6, 3], 2.0, seed=5).weights
    rng = np.random.default_rng(9)
    for e in range(epochs + 1):
        ws = [w * (1 + 0.5 * e) for w in base]
        bs = [0.1 * e * rng.standard_normal(w.shape[0]) for w in base]
        write_snapshot(run, e, ws, bs)
    return run


# ----------------------------------------------------------------------------- values


def test_sweep_over_T_reproduces_descriptor_curve_bit_for_bit(tmp_path) -> None:
    ds = run_sweep(_spec(), tmp_path / "d.nc", workers=1, progress=False)
    system = network_spin_model(random_layered(SIZES, 2.0, 0))
    for T in TEMPS:  # each point is descriptor_curve at that one temperature, same seed
        ref = _curve(system, [T])
        for name, var in (("qbar", "q_bar"), ("qbar_err", "q_bar_err"), ("energy", "energy"),
                          ("chi_sg", "chi_sg"), ("binder", "binder")):
            assert float(ds[name].sel(T=T)) == float(ref[var].values[0]), (name, T)
    # a ladder gives temperature k the k-th stream: its first temperature is the same run
    ladder = _curve(system, TEMPS)
    assert float(ds["qbar"].sel(T=TEMPS[0])) == float(ladder["q_bar"].values[0])
    assert int(ds["n_spins"].values[0]) == sum(SIZES)
    assert float(ds["qbar_paramagnet"].values[0]) == paramagnet_q_bar(sum(SIZES))
    assert ds["qbar"].attrs["units"] == "1"
    # and a different seed gives different numbers (the seed is really used)
    other = run_sweep(_spec(solver={**FAST, "seed": 12}), tmp_path / "e.nc", workers=1,
                      progress=False)
    assert not np.array_equal(other["qbar"].values, ds["qbar"].values)


def test_every_quantity_is_the_same_run(tmp_path) -> None:
    q = run_sweep(_spec(axes={"T": [1.0]}), tmp_path / "q.nc", workers=1, progress=False)
    for name in ("energy", "chi_sg", "binder"):
        d = run_sweep(_spec(axes={"T": [1.0]}, quantity=name), tmp_path / f"{name}.nc",
                      workers=1, progress=False)
        assert d.attrs["quantity"] == name
        assert float(d[name].values[0]) == float(q[name].values[0])
        assert float(d["qbar"].values[0]) == float(q["qbar"].values[0])


def test_run_folder_with_an_epoch_axis(tmp_path) -> None:
    run = _run_folder(tmp_path)
    spec = _spec(model={"network": str(run), "spin_layers": "hidden"},
                 axes={"epoch": [0, 2], "T": [0.8, 3.0]})
    ds = run_sweep(spec, tmp_path / "r.nc", workers=1, progress=False)
    assert ds["qbar"].dims == ("epoch", "T")
    for e in (0, 2):
        system = network_spin_model(run, epoch=e, include_input=False, include_output=False)
        assert system.n == 12  # the two hidden layers of 10-6-6-3
        for T in (0.8, 3.0):
            ref = _curve(system, [T])
            assert float(ds["qbar"].sel(epoch=e, T=T)) == float(ref["q_bar"].values[0])


def test_uncoupled_spins_give_the_exact_paramagnet_value(tmp_path) -> None:
    """Zero couplings and no fields: replicas are independent uniform spin configurations at
    every T, so q̄ = E|Q_ab| exactly (paramagnet_q_bar, a closed form) up to MC noise.
    Tolerance: 4 standard errors (the engine's U-statistic error of this one run)."""
    path = tmp_path / "zero.npz"
    np.savez(path, w1=np.zeros((10, 16)), w2=np.zeros((6, 10)))
    spec = _spec(model={"network": str(path)}, axes={"T": [0.5, 2.0]},
                 solver={"replicas": 8, "sweeps": 400, "burn_in": 10, "seed": 3,
                         "equilibration": "none"})
    ds = run_sweep(spec, tmp_path / "z.nc", workers=1, progress=False)
    exact = paramagnet_q_bar(32)
    q, err = ds["qbar"].values, ds["qbar_err"].values
    assert np.all(err > 0)
    assert np.all(np.abs(q - exact) <= 4 * err), (q, err, exact)
    # a coupled network at low T is far from that value (the check can fail)
    coupled = run_sweep(_spec(axes={"T": [0.2]}), tmp_path / "c.nc", workers=1,
                        progress=False)
    assert float(coupled["qbar"].values[0]) > 2 * paramagnet_q_bar(sum(SIZES))


def test_points_are_deterministic_across_processes(tmp_path) -> None:
    """What makes pool and Dask runs equal to a serial one: a point depends only on its
    parameters and the [solver] settings. A fresh interpreter gives the same repr."""
    params = {"sizes": SIZES, "T": 0.7, "couplings": "layered", "fields": "biases",
              "spin_layers": "all", "scale": 1.0}
    here = quantities.compute_point("descriptor", "qbar", params, FAST)
    code = (
        "import json, sys\n"
        "from replicasolve.sweeps import quantities\n"
        f"out = quantities.compute_point('descriptor', 'qbar', {params!r}, {FAST!r})\n"
        "print(json.dumps({k: repr(v) for k, v in out.items()}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {k: repr(v) for k, v in here.items()}


@pytest.mark.slow  # spawned workers compile the Monte Carlo kernels afresh (~30 s)
def test_pool_matches_serial(tmp_path) -> None:
    spec = _spec(axes={"T": [0.5, 1.0, 2.0, 4.0]})
    serial = run_sweep(spec, tmp_path / "s.nc", workers=1, progress=False)
    pool = run_sweep(spec, tmp_path / "p.nc", workers=2, progress=False)
    xr.testing.assert_identical(serial, pool)


def test_solver_defaults_are_descriptor_curves() -> None:
    sig = inspect.signature(descriptor_curve).parameters
    names = {"update": "method"}
    for key, value in SOLVER_DEFAULTS.items():
        assert sig[names.get(key, key)].default == value, key
    assert check_solver({}) == SOLVER_DEFAULTS


# ----------------------------------------------------------------------------- bad input


def _never_called(monkeypatch) -> None:
    q = DESCRIPTOR.quantities["qbar"]

    def boom(params, solver):
        raise AssertionError("a point was computed")

    monkeypatch.setitem(DESCRIPTOR.quantities, "qbar", dataclasses.replace(q, func=boom))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (_spec(model={"sizes": SIZES, "colour": 1}), ["unknown key 'colour' in [model]"]),
        (_spec(solver={"sweeps": 10, "temperature": 1}), ["unknown key 'temperature'",
                                                           "[solver]"]),
        (_spec(model={"network": "/no/such/run"}), ["/no/such/run", "no such"]),
        (_spec(model={}), ["exactly one of 'network'", "'sizes'"]),
        (_spec(model={"sizes": SIZES, "network": "x.npz"}), ["exactly one of"]),
        (_spec(axes={"T": [1.0], "epoch": [0]}), ["'epoch' needs 'network'"]),
        (_spec(axes={"T": [0.0, 1.0]}), ["T must be > 0"]),
        (_spec(model={"sizes": SIZES, "couplings": "dense"}), ["couplings must be one of"]),
        (_spec(model={"sizes": SIZES, "spin_layers": "input"}), ["spin_layers must be one of"]),
        (_spec(model={"sizes": [5]}), ["sizes must be a list of at least two"]),
        (_spec(axes={"net_seed": [0, 1]}), ["model 'descriptor' needs 'T'"]),
    ],
)
def test_bad_specs_fail_before_any_work(monkeypatch, tmp_path, spec, words) -> None:
    _never_called(monkeypatch)
    with pytest.raises(InvalidInputError) as err:
        load_spec(spec)
    for w in words:
        assert w in str(err.value), (w, str(err.value))
    assert list(tmp_path.iterdir()) == []


def test_bad_run_folder_specs(monkeypatch, tmp_path) -> None:
    _never_called(monkeypatch)
    run = _run_folder(tmp_path, epochs=1)
    with pytest.raises(InvalidInputError, match=r"no snapshot for epoch\(s\) \[5\]"):
        load_spec(_spec(model={"network": str(run)}, axes={"epoch": [0, 5], "T": [1.0]}))
    with pytest.raises(InvalidInputError, match="'variance' is for random networks"):
        load_spec(_spec(model={"network": str(run), "variance": 1.0}))
    snap = run / "epoch_0001.npz"
    with pytest.raises(InvalidInputError, match="needs a training run folder"):
        load_spec(_spec(model={"network": str(snap)}, axes={"epoch": [0], "T": [1.0]}))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(InvalidInputError, match="corrupt"):
        load_spec(_spec(model={"network": str(broken)}))


@pytest.mark.parametrize(
    ("solver", "words"),
    [
        ({"replicas": 1}, "replicas must be a whole number >= 2"),
        ({"sweeps": 2.5}, "sweeps must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        ({"update": "glauber"}, "update must be one of"),
        ({"equilibration": "long"}, "equilibration must be one of"),
        ({"sweeps": 10, "measure_every": 20}, "measure_every (20) exceeds sweeps (10)"),
        ({"rtol": 1e-8}, "unknown key 'rtol'"),
    ],
)
def test_check_solver_rejects_bad_settings(solver, words) -> None:
    with pytest.raises(InvalidInputError) as err:
        check_solver(solver)
    assert words in str(err.value)


def test_a_bad_solver_value_fails_before_any_work(monkeypatch, tmp_path) -> None:
    """[solver] values go through the model's solver_check in load_spec: a bad one is an
    InvalidInputError naming it, before any point runs (the quantity would raise)."""
    _never_called(monkeypatch)
    for solver, words in [({"replicas": 1}, "replicas must be a whole number >= 2"),
                          ({"update": "glauber"}, "update must be one of"),
                          ({"sweeps": 10, "measure_every": 20}, "exceeds")]:
        with pytest.raises(InvalidInputError) as err:
            run_sweep(_spec(solver=solver, axes={"T": [1.0]}), tmp_path / "b.nc", workers=1,
                      progress=False)
        assert words in str(err.value)
        assert not (tmp_path / "b.nc").exists()
