"""A 2,000-point sweep on 1 and 2 workers, and the per-point overhead of the Dask path.

Figure: wall time of :func:`replicasolve.sweeps.run_sweep` for the multilayer-SK critical
temperature (``msk_critical`` of 40 depths × 50 weight variances = 2,000 points; each point
is a tridiagonal eigenvalue problem plus, to make the quantity cheap but not trivial, a
layer-size vector of length depth + 1) with

- ``workers=1`` (serial, in-process: the baseline, measured in the same run),
- the local process pool with 2 workers (speed-up = serial / pool; near 2 is linear),
- Dask ``LocalCluster`` with 2 worker processes (overhead per point = (Dask − pool) / 2000).

Every run writes its own netCDF file in a temporary folder, and the three Datasets are
checked to be identical (the executors must not change a single value).

Usage: ``python benchmarks/bench_sweep_scaling.py [--points-per-axis 40x50] [--no-dask]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from replicasolve.sweeps import run_sweep


def spec(depths: int, variances: int) -> dict:
    return {
        "name": "bench: msk T_c",
        "quantity": "T_c",
        "model": {"kind": "msk"},
        "axes": {
            "depth": list(range(1, depths + 1)),
            "variance": {"start": 0.5, "stop": 3.0, "num": variances},
        },
    }


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points-per-axis", default="40x50")
    p.add_argument("--no-dask", action="store_true")
    args = p.parse_args()
    nd, nv = (int(v) for v in args.points_per_axis.split("x"))
    s = spec(nd, nv)
    n = nd * nv
    print(f"sweep: msk T_c over {nd} depths x {nv} variances = {n} points; "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        t1, ds1 = timed(lambda: run_sweep(s, f"{tmp}/serial.nc", workers=1, progress=False))
        print(f"serial (1 worker):  {t1:7.2f} s   {1e3 * t1 / n:6.3f} ms/point")
        t2, ds2 = timed(lambda: run_sweep(s, f"{tmp}/pool.nc", workers=2, progress=False))
        print(f"local pool, 2:      {t2:7.2f} s   {1e3 * t2 / n:6.3f} ms/point   "
              f"speed-up {t1 / t2:.2f}x (linear = 2)")
        same = bool(np.array_equal(ds1["T_c"].values, ds2["T_c"].values))
        print(f"pool == serial, bit for bit: {same}")
        if not args.no_dask:
            try:
                import distributed  # noqa: F401
            except ImportError:
                print("Dask: not installed (pip install 'dask[distributed]')")
                return
            t3, ds3 = timed(lambda: run_sweep(s, f"{tmp}/dask.nc", executor="dask",
                                              workers=2, progress=False))
            print(f"Dask LocalCluster, 2: {t3:5.2f} s   {1e3 * t3 / n:6.3f} ms/point   "
                  f"overhead vs pool {1e3 * (t3 - t2) / n:+.3f} ms/point (includes the "
                  "cluster start)")
            print(f"Dask == serial, bit for bit: "
                  f"{bool(np.array_equal(ds1['T_c'].values, ds3['T_c'].values))}")


if __name__ == "__main__":
    main()
