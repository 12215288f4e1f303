"""Declarative sweeps: spec validation, exact values, resumability, netCDF, CLI, Dask."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.cli import main
from replicasolve.errors import InvalidInputError
from replicasolve.sweeps import execute, load_spec, load_sweep, run_sweep
from replicasolve.sweeps.quantities import MODELS, PHASE_CODES
from replicasolve.sweeps.store import PointStore

xr = pytest.importorskip("xarray")

ROOT = Path(__file__).resolve().parents[1]
DEPTHS = [1, 2, 3, 5, 8]
VARIANCES = [0.5, 1.0, 2.0, 3.5]


def _msk_spec(**changes) -> dict:
    spec = {
        "name": "test",
        "quantity": "T_c",
        "model": {"kind": "msk"},
        "axes": {"depth": list(DEPTHS), "variance": list(VARIANCES)},
    }
    spec.update(changes)
    return spec


def _closed_form(depths, variances) -> np.ndarray:
    # T_c = sqrt(2 C cos(pi / (L + 2))) for L identical weight layers (arXiv 2408.06421)
    L = np.asarray(depths, dtype=float)[:, None]
    C = np.asarray(variances, dtype=float)[None, :]
    return np.sqrt(2 * C * np.cos(np.pi / (L + 2)))


def _counting(monkeypatch, kind: str = "msk", quantity: str = "T_c") -> list[int]:
    """Replace a quantity by a wrapper that counts calls (works for in-process runs)."""
    calls: list[int] = []
    q = MODELS[kind].quantities[quantity]

    def counted(params, solver):
        calls.append(1)
        return q.func(params, solver)

    monkeypatch.setitem(MODELS[kind].quantities, quantity, dataclasses.replace(q, func=counted))
    return calls


class _Stop(Exception):
    pass


def _stop_after(k: int):
    seen = []

    def hook(i: int) -> None:
        seen.append(i)
        if len(seen) >= k:
            raise _Stop
    return hook


# ----------------------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"colour": 1}, ["unknown key 'colour'", "allowed", "axes"]),
        ({"model": {"kind": "msk", "width": 3}}, ["unknown key 'width' in [model]", "variance"]),
        ({"model": {"kind": "ising"}}, ["unknown model kind 'ising'", "landscape, msk, pspin"]),
        ({"quantity": "energy"}, ["cannot compute quantity 'energy'", "T_c"]),
        ({"axes": {"T": [1.0]}}, ["axis 'T' is not a parameter", "depth"]),
        ({"axes": {"depth": []}}, ["[axes] depth", "no values"]),
        ({"axes": {}}, ["[axes] is empty"]),
        ({"axes": {"depth": [1], "sizes": [[2, 3]]}}, ["'sizes'", "only be fixed"]),
        ({"model": {"kind": "msk", "variance": 2.0}}, ["'variance' is both fixed"]),
        ({"axes": {"depth": {"start": 1, "stop": 3, "count": 3}}},
         ["unknown key 'count' in [axes] depth", "num"]),
        ({"axes": {"depth": {"start": 1, "stop": 3}}}, ["exactly one of num, step"]),
        ({"axes": {"depth": {"start": 3, "stop": 1, "step": 1}}}, ["below start"]),
        ({"axes": {"depth": [1, 2.5]}}, ["depth must be a whole number"]),
        ({"axes": {"depth": [1], "variance": [-1.0]}}, ["variance must be > 0"]),
        ({"axes": {"depth": [1, 1]}}, ["repeated values"]),
        ({"axes": {"depth": "1,2"}}, ["a list of values"]),
        ({"seed": -1}, ["seed must be an integer >= 0"]),
        ({"solver": {"method": "rs"}}, ["takes no [solver]"]),
        ({"model": {"kind": "msk", "sizes": [4, 4]}}, ["exactly one of 'depth'"]),
    ],
)
def test_spec_rejects_bad_input(change, words) -> None:
    with pytest.raises(InvalidInputError) as err:
        load_spec(_msk_spec(**change))
    msg = str(err.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"field": [0.0]}}, ["needs 'T'"]),
        ({"quantity": "ground_state", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"T": [0.5]}}, ["does not take 'T'"]),
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"T": [0.5]}, "solver": {"speed": 1}}, ["unknown key 'speed' in [solver]",
                                                          "maxiter"]),
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"T": [0.5]}, "solver": {"method": "often"}}, ["unknown method 'often'"]),
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"T": [0.5]}, "solver": {"tol": -1.0}}, ["Options.tol"]),
        ({"quantity": "phase", "model": {"kind": "landscape", "depth": 1},
          "axes": {"T": [0.5]}}, ["needs 'activation'"]),
        ({"quantity": "phase", "model": {"kind": "landscape", "depth": 1},
          "axes": {"T": [0.5], "activation": ["relu", "relux"]}},
         ["unknown activation 'relux'"]),
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2 + import"},
          "axes": {"T": [0.5]}}, ["syntax error"]),
        ({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
          "axes": {"T": [0.5], "spins": ["ising", "xy"]}}, ["ising, spherical", "'xy'"]),
        ({"quantity": "T_c", "model": {"kind": "landscape", "activation": "relu"},
          "axes": {"T": [0.5]}}, ["cannot compute quantity 'T_c'", "free_energy, phase"]),
    ],
)
def test_spec_rejects_bad_model_settings(spec, words) -> None:
    with pytest.raises(InvalidInputError) as err:
        load_spec(spec)
    for w in words:
        assert w in str(err.value), str(err.value)


def test_spec_ranges_units_and_key(tmp_path) -> None:
    s = load_spec(_msk_spec(axes={"depth": {"start": 1, "stop": 4, "step": 1},
                                  "variance": {"start": 1, "stop": 2, "num": 3}}))
    assert s.axes == (("depth", (1, 2, 3, 4)), ("variance", (1.0, 1.5, 2.0)))
    assert s.shape == (4, 3) and s.n_points == 12 and s.dims == ("depth", "variance")
    assert s.params_at(5) == {"depth": 2, "variance": 2.0}
    assert [p for _, p in s.points()][5] == s.params_at(5)
    assert s.units("variance") == "dimensionless (C)"  # C: the weight-variance factor
    assert s.units("T_c") == "energy units of J"
    # the name does not change the key, the values do
    assert load_spec(_msk_spec(name="other")).key == load_spec(_msk_spec()).key
    assert load_spec(_msk_spec(seed=1)).key != load_spec(_msk_spec()).key
    # TOML and dict give the same spec; the canonical form reads back
    toml = tmp_path / "s.toml"
    toml.write_text('name = "test"\nquantity = "T_c"\n[model]\nkind = "msk"\n[axes]\n'
                    'depth = [1, 2, 3, 5, 8]\nvariance = [0.5, 1.0, 2.0, 3.5]\n')
    assert load_spec(toml) == load_spec(_msk_spec())
    assert load_spec(json.loads(load_spec(toml).to_json())).key == load_spec(toml).key


def test_spec_file_errors(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="no such spec file"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("quantity = \n")
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        load_spec(bad)


def test_gallery_specs_are_valid() -> None:
    for path in sorted((ROOT / "examples" / "sweeps").glob("*.toml")):
        assert load_spec(path).n_points >= 1


def test_phase_codes_match_the_landscape_diagram() -> None:
    from replicasolve.studies.landscape_diagram import PHASE_LABELS

    assert {v: k for k, v in PHASE_LABELS.items()} == PHASE_CODES


# ----------------------------------------------------------------------------- running


def test_serial_and_pool_agree_with_the_closed_form(tmp_path) -> None:
    serial = run_sweep(_msk_spec(), tmp_path / "serial.nc", workers=1, progress=False)
    pool = run_sweep(_msk_spec(), tmp_path / "pool.nc", workers=2, progress=False)
    xr.testing.assert_identical(serial, pool)
    assert serial["T_c"].dims == ("depth", "variance")
    np.testing.assert_allclose(serial["T_c"].values, _closed_form(DEPTHS, VARIANCES),
                               rtol=1e-12)
    assert serial["T_c"].attrs["units"] == "energy units of J"
    assert serial["depth"].attrs["units"].startswith("count")
    assert not (tmp_path / "serial.nc.parts").exists()  # scratch removed once saved


def test_pool_parent_computes_beside_its_children(tmp_path, monkeypatch) -> None:
    # with 2 workers the parent is one of them: it computes groups itself while the one
    # spawned child (which pays the interpreter start and imports) computes the others.
    # The wrapper below exists only in the parent (children are fresh interpreters), so it
    # counts exactly the points the parent computed.
    from replicasolve.sweeps import run as run_mod

    original = run_mod.compute_point
    mine: list[dict] = []

    def counted(kind, quantity, params, solver):
        mine.append(dict(params))
        return original(kind, quantity, params, solver)

    monkeypatch.setattr(run_mod, "compute_point", counted)
    spec = _msk_spec(axes={"depth": list(range(1, 9)), "variance": [0.5, 1.0, 2.0, 3.5]})
    pool = execute(spec, tmp_path / "pool.nc", workers=2, progress=False)
    assert pool.executor == "local" and pool.workers == 2 and pool.computed == 32
    # 32 points; while no time per point is known the groups are 8 points: two go to the
    # child's queue before the parent takes the third, and the last 8 go to whichever side
    # asks first, so both sides computed some (8 to 24 for the parent), and nothing twice
    keys = {(p["depth"], p["variance"]) for p in mine}
    assert 8 <= len(mine) <= 24 and len(keys) == len(mine)
    monkeypatch.setattr(run_mod, "compute_point", original)
    serial = run_sweep(spec, tmp_path / "serial.nc", workers=1, progress=False)
    xr.testing.assert_identical(serial, pool.dataset)
    np.testing.assert_allclose(serial["T_c"].values,
                               _closed_form(range(1, 9), [0.5, 1.0, 2.0, 3.5]), rtol=1e-12)


def test_netcdf_round_trip_keeps_attrs(tmp_path) -> None:
    out = tmp_path / "d.nc"
    ds = run_sweep(_msk_spec(seed=7), out, workers=1, progress=False)
    back = load_sweep(out)
    xr.testing.assert_identical(ds, back)
    from replicasolve import __version__

    assert back.attrs["replicasolve_version"] == __version__
    assert back.attrs["seed"] == 7
    assert load_spec(json.loads(back.attrs["spec"])).key == back.attrs["spec_key"]


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_run_resumes_with_only_the_missing_points(tmp_path, monkeypatch,
                                                              workers) -> None:
    whole = run_sweep(_msk_spec(), tmp_path / "whole.nc", workers=1, progress=False)
    out = tmp_path / "d.nc"
    with pytest.raises(_Stop):
        run_sweep(_msk_spec(), out, workers=workers, progress=False, on_point=_stop_after(1))
    assert not out.exists()
    stored = len(PointStore(out, load_spec(_msk_spec())).load())
    n = len(DEPTHS) * len(VARIANCES)
    assert 1 <= stored < n
    calls = _counting(monkeypatch)
    r = execute(_msk_spec(), out, workers=1, progress=False)
    assert len(calls) == r.computed == n - stored and r.reused == stored
    xr.testing.assert_identical(r.dataset, whole)
    xr.testing.assert_identical(load_sweep(out), whole)


def test_torn_last_line_is_recomputed(tmp_path, monkeypatch) -> None:
    out = tmp_path / "d.nc"
    with pytest.raises(_Stop):
        run_sweep(_msk_spec(), out, workers=1, progress=False, on_point=_stop_after(1))
    store = PointStore(out, load_spec(_msk_spec()))
    stored = len(store.load())
    with open(store.path, "a") as handle:  # a kill in the middle of a write
        handle.write('{"i": 19, "v": {"T_c": 1.')
    assert len(store.load()) == stored
    calls = _counting(monkeypatch)
    ds = run_sweep(_msk_spec(), out, workers=1, progress=False)
    assert len(calls) == len(DEPTHS) * len(VARIANCES) - stored
    np.testing.assert_allclose(ds["T_c"].values, _closed_form(DEPTHS, VARIANCES), rtol=1e-12)


def test_changed_spec_does_not_reuse_stale_points(tmp_path, monkeypatch) -> None:
    out = tmp_path / "d.nc"
    with pytest.raises(_Stop):
        run_sweep(_msk_spec(), out, workers=1, progress=False, on_point=_stop_after(1))
    changed = _msk_spec(axes={"depth": list(DEPTHS), "variance": [0.5, 1.0, 2.0, 3.0]})
    calls = _counting(monkeypatch)
    ds = run_sweep(changed, out, workers=1, progress=False)
    assert len(calls) == len(DEPTHS) * 4  # nothing reused from the old spec
    np.testing.assert_allclose(ds["T_c"].values, _closed_form(DEPTHS, [0.5, 1.0, 2.0, 3.0]),
                               rtol=1e-12)
    # the finished file now holds another sweep: refused without force, replaced with it
    before = out.read_bytes()
    with pytest.raises(InvalidInputError, match=r"different sweep.*--force"):
        run_sweep(_msk_spec(), out, workers=1, progress=False)
    assert out.read_bytes() == before
    ds2 = run_sweep(_msk_spec(), out, workers=1, progress=False, force=True)
    assert ds2.attrs["spec_key"] == load_spec(_msk_spec()).key


def test_complete_output_is_not_recomputed(tmp_path, monkeypatch) -> None:
    out = tmp_path / "d.nc"
    run_sweep(_msk_spec(), out, workers=1, progress=False)
    before = out.read_bytes()
    calls = _counting(monkeypatch)
    r = execute(_msk_spec(), out, workers=1, progress=False)
    assert r.status == "complete" and r.computed == 0 and not calls
    assert out.read_bytes() == before


def test_failed_points_are_recorded_not_fatal(tmp_path, monkeypatch) -> None:
    q = MODELS["msk"].quantities["T_c"]

    def flaky(params, solver):
        if params["depth"] == 3:
            raise InvalidInputError("no good")
        return q.func(params, solver)

    monkeypatch.setitem(MODELS["msk"].quantities, "T_c", dataclasses.replace(q, func=flaky))
    ds = run_sweep(_msk_spec(), tmp_path / "d.nc", workers=1, progress=False)
    assert ds.attrs["failed_points"] == len(VARIANCES)
    assert np.isnan(ds["T_c"].sel(depth=3)).all() and "no good" in ds.attrs["errors"]
    assert np.isfinite(ds["T_c"].sel(depth=2)).all()


def test_pspin_rs_free_energy_matches_the_paramagnet(tmp_path) -> None:
    spec = {"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
            "axes": {"T": [1.5, 2.0]}, "solver": {"method": "rs"}}
    ds = run_sweep(spec, tmp_path / "f.nc", workers=1, progress=False)
    T = ds["T"].values
    # SK paramagnet at h = 0: f = -T ln 2 - 1/(4T)
    np.testing.assert_allclose(ds["free_energy"].values, -T * math.log(2) - 1 / (4 * T),
                               rtol=1e-8)
    assert (ds["converged"].values == 1).all()


def test_string_axis_round_trip(tmp_path) -> None:
    spec = {"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
            "axes": {"spins": ["ising", "spherical"], "T": [2.0]}, "solver": {"method": "rs"}}
    ds = run_sweep(spec, tmp_path / "s.nc", workers=1, progress=False)
    xr.testing.assert_identical(ds, load_sweep(tmp_path / "s.nc"))
    # paramagnets at T = 2: Ising -T ln 2 - 1/(4T); spherical -1/(4T)
    np.testing.assert_allclose(ds["free_energy"].sel(T=2.0).values,
                               [-2 * math.log(2) - 0.125, -0.125], rtol=1e-8)


def test_bad_executor_arguments(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="executor must be one of"):
        run_sweep(_msk_spec(), tmp_path / "d.nc", executor="mpi")
    with pytest.raises(InvalidInputError, match="workers must be an integer"):
        run_sweep(_msk_spec(), tmp_path / "d.nc", workers=0)
    with pytest.raises(InvalidInputError, match="only used with executor='dask'"):
        run_sweep(_msk_spec(), tmp_path / "d.nc", scheduler="tcp://127.0.0.1:1")
    (tmp_path / "dir.nc").mkdir()
    with pytest.raises(InvalidInputError, match="is a directory"):
        run_sweep(_msk_spec(), tmp_path / "dir.nc")


def test_import_stays_light() -> None:
    code = ("import sys, replicasolve.sweeps, replicasolve.cli.sweep; "
            "print(any(m in sys.modules for m in ('xarray', 'dask', 'distributed', "
            "'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- the CLI


def _toml(tmp_path: Path, body: str | None = None) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(body or 'quantity = "T_c"\n[model]\nkind = "msk"\n[axes]\n'
                    'depth = [1, 2, 3, 5, 8]\nvariance = [0.5, 1.0, 2.0, 3.5]\n')
    return path


def test_cli_round_trip(tmp_path, capsys) -> None:
    spec, out = _toml(tmp_path), tmp_path / "diag.nc"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "computed" and info["computed"] == info["points"] == 20
    assert info["dims"] == {"depth": 5, "variance": 4}
    ds = load_sweep(out)
    np.testing.assert_allclose(ds["T_c"].values, _closed_form(DEPTHS, VARIANCES), rtol=1e-12)
    assert main(["sweep", str(spec), "--out", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["status"] == "complete" and again["computed"] == 0
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    assert "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "extra", "words"),
    [
        ('quantity = "T_c"\n[model]\nkind = "msk"\n[axes]\nT = [1.0]\n', [],
         "axis 'T' is not a parameter"),
        ('quantity = "T_c"\n[model]\nkind = "msk"\n[axes]\ndepth = []\n', [], "no values"),
        (None, ["--dask", "local", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (None, ["--workers", "0"], "--workers must be >= 1"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, body, extra, words) -> None:
    spec = _toml(tmp_path, body)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "d.nc"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "d.nc").exists()


def test_cli_refuses_a_foreign_file(tmp_path, capsys) -> None:
    out = tmp_path / "d.nc"
    out.write_text("my thesis")
    assert main(["sweep", str(_toml(tmp_path)), "--out", str(out)]) == 2
    assert "not a sweep file" in capsys.readouterr().err
    assert out.read_text() == "my thesis"


def test_cli_unreachable_scheduler(tmp_path, capsys, monkeypatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("replicasolve.sweeps.run.DASK_CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "d.nc"
    code = main(["sweep", str(_toml(tmp_path)), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9"])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and err.count("\n") == 1
    assert not out.exists() and not Path(str(out) + ".parts").exists()


# ----------------------------------------------------------------------------- Dask


def test_dask_matches_the_local_pool(tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    local = run_sweep(_msk_spec(), tmp_path / "local.nc", workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ds = run_sweep(_msk_spec(), tmp_path / "dask.nc", executor="dask", scheduler=client,
                       progress=False)
        assert client.status == "running"  # a client we were given stays open
    xr.testing.assert_identical(ds, local)


def test_lost_dask_cluster_stops_cleanly_and_resumes(tmp_path) -> None:
    """The cluster is shut down after the first stored batch: the run stops with one
    ExecutorError (no traceback from distributed), the stored points stay in .parts, and
    the same call on the local pool computes only the rest and equals a fresh serial run."""
    distributed = pytest.importorskip("distributed")
    from replicasolve.errors import ExecutorError

    out = tmp_path / "lost.nc"
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    stored: list[int] = []

    def kill_after_first(i: int) -> None:
        stored.append(i)
        if cluster.status.name == "running":
            client.close()
            cluster.close()

    try:
        with pytest.raises(ExecutorError, match="finished points are kept"):
            run_sweep(_msk_spec(), out, executor="dask", scheduler=client, progress=False,
                      on_point=kill_after_first)
    finally:
        client.close()
        cluster.close()
    assert 0 < len(stored) < len(DEPTHS) * len(VARIANCES)
    assert not out.exists()
    resumed = execute(_msk_spec(), out, workers=1, progress=False)
    assert resumed.reused == len(stored)
    assert resumed.computed == len(DEPTHS) * len(VARIANCES) - len(stored)
    serial = run_sweep(_msk_spec(), tmp_path / "serial.nc", workers=1, progress=False)
    xr.testing.assert_identical(resumed.dataset, serial)


def test_cli_dask_local_cluster(tmp_path, capsys) -> None:
    pytest.importorskip("distributed")
    spec, out = _toml(tmp_path), tmp_path / "d.nc"
    assert main(["sweep", str(spec), "--out", str(out), "--dask", "local", "--workers", "2",
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["executor"] == "dask" and info["workers"] == 2
    serial = run_sweep(_msk_spec(), tmp_path / "serial.nc", workers=1, progress=False)
    # the spec's name differs (it is not part of the key): compare the numbers and coords
    xr.testing.assert_identical(load_sweep(out)["T_c"], serial["T_c"])


def test_sigkill_then_resume(tmp_path) -> None:
    """A real kill -9 of the command line mid-run: the re-run completes from the store."""
    import os
    import signal
    import time

    body = ('quantity = "T_c"\n[model]\nkind = "msk"\n[axes]\n'
            'depth = {start = 1, stop = 60, step = 1}\n'
            'variance = {start = 0.5, stop = 3.0, num = 80}\n')
    spec, out = _toml(tmp_path, body), tmp_path / "d.nc"
    parts = PointStore(out, load_spec(spec))
    proc = subprocess.Popen([sys.executable, "-m", "replicasolve", "sweep", str(spec), "--out",
                             str(out), "--workers", "1", "--quiet"], cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.path.exists() and len(parts.load()) >= 256:
            break
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the sweep finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = len(parts.load())
    assert not out.exists() and 256 <= stored < 4800
    r = execute(spec, out, workers=1, progress=False)
    assert r.reused == stored and r.computed == 4800 - stored
    np.testing.assert_allclose(
        r.dataset["T_c"].values,
        _closed_form(range(1, 61), np.linspace(0.5, 3.0, 80)), rtol=1e-12)


def test_a_dead_pool_child_is_a_clean_stop_and_the_rerun_resumes(tmp_path) -> None:
    # a child killed mid-run (as by the OOM killer): one ExecutorError, the points already
    # stored are kept, and the same call again computes only the missing ones
    import os
    import signal

    from replicasolve.errors import ExecutorError
    from replicasolve.sweeps import run as run_mod

    spec = _msk_spec(axes={"depth": list(range(1, 41)), "variance": [0.5, 1.0, 2.0, 3.5]})
    out = tmp_path / "d.nc"
    run_mod.shutdown_pool()
    killed: list[int] = []

    def kill_children(_i: int) -> None:
        # at the parent's first stored point its child is still starting (spawned at the
        # first submission, ~0.2 s of imports): kill it
        if not killed:
            for pid in list(run_mod._POOL["pool"]._processes):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    with pytest.raises(ExecutorError, match="worker process of the local pool died"):
        run_sweep(spec, out, workers=2, progress=False, on_point=kill_children)
    assert killed and run_mod._POOL["pool"] is None  # the broken pool was dropped
    kept = len(PointStore(out, load_spec(spec)).load())
    assert 0 < kept < 160
    again = execute(spec, out, workers=2, progress=False)
    assert again.reused == kept and again.computed == 160 - kept
    whole = run_sweep(spec, tmp_path / "whole.nc", workers=1, progress=False)
    xr.testing.assert_identical(again.dataset, whole)


def test_default_workers_on_a_one_core_machine_run_serially(tmp_path, monkeypatch) -> None:
    # workers=None means os.cpu_count(): on one core that is the in-process serial run (a
    # pool of "one worker" would be the parent plus zero children)
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    r = execute(_msk_spec(), tmp_path / "d.nc", progress=False)
    assert r.executor == "serial" and r.workers == 1
    np.testing.assert_allclose(r.dataset["T_c"].values, _closed_form(DEPTHS, VARIANCES),
                               rtol=1e-12)
