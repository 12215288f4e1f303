"""Sweeps of many points: memory independent of the number of points, refusal up front of a
sweep that cannot finish or fit, progress lines off a terminal."""

from __future__ import annotations

import dataclasses
import re
import time
import tracemalloc

import numpy as np
import pytest

from replicasolve.cli import main
from replicasolve.errors import InvalidInputError
from replicasolve.sweeps import execute, load_spec
from replicasolve.sweeps import run as run_mod
from replicasolve.sweeps.quantities import MODELS
from replicasolve.sweeps.spec import WARM_SEGMENT
from replicasolve.sweeps.store import PointStore, ResultArrays

BIG_TOML = """name = "big"
quantity = "T_c"
seed = 0
[model]
kind = "msk"
[axes]
variance = {start = 0.5, stop = 3.0, num = 3000}
depth = {start = 1, stop = 3000, step = 1}
"""


def _cheap(monkeypatch, seconds: float = 0.0) -> None:
    """msk T_c replaced by a closed expression of the point (optionally taking
    ``seconds``): the sweep machinery's own cost is what is measured."""
    q = MODELS["msk"].quantities["T_c"]

    def func(params, solver):
        if seconds:
            time.sleep(seconds)
        return {"T_c": 0.5 * params["variance"] + params["depth"]}

    monkeypatch.setitem(MODELS["msk"].quantities, "T_c", dataclasses.replace(q, func=func))


def _grid(n_variance: int, n_depth: int) -> dict:
    return {"name": "scale", "quantity": "T_c", "model": {"kind": "msk"},
            "axes": {"variance": {"start": 0.5, "stop": 3.0, "num": n_variance},
                     "depth": {"start": 1, "stop": n_depth, "step": 1}}}


def test_memory_of_a_large_sweep_is_its_output_arrays(tmp_path, monkeypatch) -> None:
    # 100,000 points (500 x 200: short axes, so the spec itself is small). The earlier
    # run kept a params dict, a chain list and a result record per point (about 1 kB a
    # point: 100 MB here, 9 GB for 9 million points); now the peak is the flat arrays (done
    # and failed masks, the to-do mask, the float64 output and its netCDF copy: ~27 bytes a
    # point) plus a fixed amount
    _cheap(monkeypatch)
    execute(_grid(2, 2), tmp_path / "warm.nc", workers=1, progress=False)  # imports
    n = 500 * 200
    tracemalloc.start()
    try:
        r = execute(_grid(500, 200), tmp_path / "d.nc", workers=1, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.computed == n and r.executor == "serial" and r.failed == 0
    bound = 4_000_000 + 40 * n  # 8 MB
    assert peak < bound, f"peak traced memory {peak / 1e6:.1f} MB > {bound / 1e6:.0f} MB"
    ds = r.dataset
    np.testing.assert_array_equal(ds["T_c"].values, 0.5 * ds.variance.values[:, None]
                                  + ds.depth.values[None, :])
    assert not (tmp_path / "d.nc.parts").exists()


def test_resume_of_a_large_sweep_reads_the_parts_file_into_arrays(tmp_path, monkeypatch):
    _cheap(monkeypatch)
    spec, out = load_spec(_grid(300, 100)), tmp_path / "d.nc"
    seen: list[int] = []

    class Stop(Exception):
        pass

    def stop_late(i: int) -> None:
        seen.append(i)
        if len(seen) >= 12_000:
            raise Stop

    with pytest.raises(Stop):
        execute(spec, out, workers=1, progress=False, on_point=stop_late)
    stored = PointStore(out, spec)
    table = ResultArrays(spec)
    kept = table.add(stored.records())
    assert kept == table.n_done >= 12_000
    # the sampled chains (spread over the grid) came first, then the rest in order
    assert table.done[np.array(seen)].all()
    r = execute(spec, out, workers=1, progress=False)
    assert r.reused == kept and r.computed == spec.n_points - kept
    whole = execute(spec, tmp_path / "whole.nc", workers=1, progress=False)
    np.testing.assert_array_equal(r.dataset["T_c"].values, whole.dataset["T_c"].values)


def test_the_big_sweep_is_refused_up_front_with_its_estimate(tmp_path, monkeypatch,
                                                            capsys) -> None:
    # the 9-million-point msk sweep at (here) 50 ms a point: 2.6 days on 2 workers, so
    # refused once a sample of its points is timed, with one line saying what was asked;
    # nothing is left behind
    _cheap(monkeypatch, seconds=0.05)
    spec, out = tmp_path / "big.toml", tmp_path / "big.nc"
    spec.write_text(BIG_TOML)
    t0 = time.monotonic()
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "2"]) == 2
    assert time.monotonic() - t0 < 20
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(r"replicasolve: error: sweep 'big' refused: 9,000,000 points at about "
                        r"5\d\.?\d* ms a point \(timed on \d+ sampled points\) would take about "
                        r"6\d\.\d h on 2 worker\(s\), more than the limit of 24 h: make the "
                        r"axes coarser or split the sweep", last), last
    assert not out.exists() and not (tmp_path / "big.nc.parts").exists()


def test_a_time_limit_refuses_a_fresh_sweep_without_a_trace(tmp_path, monkeypatch) -> None:
    _cheap(monkeypatch, seconds=0.001)
    spec, out = load_spec(_grid(60, 50)), tmp_path / "d.nc"
    with pytest.raises(InvalidInputError, match=r"3,000 points at about .* more than the "
                                                r"limit of 0\.0001 h"):
        execute(spec, out, workers=1, progress=False, max_hours=1e-4)
    assert not (tmp_path / "d.nc.parts").exists()
    with pytest.raises(InvalidInputError, match="max_hours must be a number > 0"):
        execute(spec, out, workers=1, progress=False, max_hours=0)
    # a resumed sweep that is refused keeps what it had (and the sample it timed)
    PointStore(out, spec).append([{"i": 0, "v": {"T_c": 1.5}, "e": None}])
    with pytest.raises(InvalidInputError, match="refused"):
        execute(spec, out, workers=1, progress=False, max_hours=1e-4)
    table = ResultArrays(spec)
    assert table.add(PointStore(out, spec).records()) > 1 and table.done[0]


def test_arrays_that_do_not_fit_are_refused_with_the_size(tmp_path) -> None:
    spec = load_spec(_grid(3000, 3000))
    with pytest.raises(InvalidInputError, match=r"9,000,000 points × 1 variable\(s\) needs "
                                                r"about 162 MB of memory, and 100 MB"):
        run_mod.check_resources(spec, tmp_path / "d.nc", memory=100_000_000)
    with pytest.raises(InvalidInputError, match=r"needs about 702 MB on disk .* 1 MB is free"):
        run_mod.check_resources(spec, tmp_path / "d.nc", memory=10**12, disk=10**6)
    run_mod.check_resources(spec, tmp_path / "d.nc", memory=10**12, disk=10**12)


def test_progress_lines_on_a_non_terminal(tmp_path, monkeypatch, capsys) -> None:
    # stderr captured by pytest is not a terminal: no status line (no carriage returns),
    # whole lines from the start, one per tenth of the points, and the last at 100 %
    _cheap(monkeypatch)
    r = execute(_grid(50, 100), tmp_path / "d.nc", workers=1)
    assert r.computed == 5000
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert lines[0] == ("sweep: msk T_c over variance 50 x depth 100: 5,000 points, "
                        "0 stored, 5,000 to do")
    assert lines[1] == "sweep: timing a sample of the 5,000 points to do"
    counts = [int(m.group(1).replace(",", "")) for m in
              (re.match(r"sweep: ([\d,]+)/5,000 points \(", line) for line in lines) if m]
    assert counts == sorted(counts) and counts[-1] == 5000
    assert 10 <= len(counts) <= 12  # each tenth once (and the sampled chains' progress)
    assert lines[-1] == f"sweep: all 5,000 points done; writing {tmp_path / 'd.nc'}"
    # a quick small sweep leaves stderr to its result; --quiet (progress=False) to nothing
    execute(_grid(5, 4), tmp_path / "small.nc", workers=1)
    execute(_grid(50, 100), tmp_path / "quiet.nc", workers=1, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_lines_keep_coming_in_a_slow_sweep(tmp_path, monkeypatch, capsys) -> None:
    # between tenths, a line at least every LOG_MIN_S seconds (shortened here): with
    # batches of 256 points (~5 %) taking longer than that, a line after each batch
    _cheap(monkeypatch, seconds=0.0002)
    monkeypatch.setattr(run_mod, "LOG_MIN_S", 0.02)
    monkeypatch.setattr(run_mod, "LOG_MAX_S", 0.02)
    execute(_grid(50, 100), tmp_path / "d.nc", workers=1)
    lines = [x for x in capsys.readouterr().err.splitlines() if "/5,000 points" in x]
    assert len(lines) >= 15 and lines[-1].startswith("sweep: 5,000/5,000 points (100.0%")


def test_lazy_chains_equal_the_grouped_chains_on_a_large_warm_grid() -> None:
    spec = load_spec({"quantity": "free_energy", "model": {"kind": "pspin", "xi": "0.5*q**2"},
                      "axes": {"T": [0.1 + 0.001 * i for i in range(150)],
                               "field": [0.01 * i for i in range(40)]},
                      "solver": {"warm_axis": "T"}})
    rng = np.random.default_rng(3)
    todo = rng.random(spec.n_points) < 0.9
    todo[:WARM_SEGMENT * 40] = True  # the first segment of T at every field: whole chains
    chains = list(spec.iter_chains(todo))
    assert chains == spec.chains(np.flatnonzero(todo).tolist())
    assert sorted(i for c in chains for i in c) == np.flatnonzero(todo).tolist()
    assert max(len(c) for c in chains) == WARM_SEGMENT
    for c in chains[::50]:
        assert spec.chain_at(c[-1], todo) == c
