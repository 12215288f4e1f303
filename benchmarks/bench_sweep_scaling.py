"""A 2,000-point sweep on 1 and 2 workers, and the per-point overhead of the Dask path.

Figure: wall time of :func:`replicasolve.sweeps.run_sweep` for two cheap quantities over
2,000 points each:

- ``rs``: the RS free energy of the spherical SK model with a field (``pspin``, 40 T × 50 h;
  about 1.8 ms a point: a 1-D Newton solve), the workload the speed-up is quoted for;
- ``msk``: the multilayer-SK critical temperature (40 depths × 50 weight variances; about
  0.1 ms a point, a small eigenvalue problem), where the fixed costs (the child's start,
  the netCDF write) are most of the run, so its speed-up measures the overheads;

each with

- ``workers=1`` (serial, in-process: the baseline, measured in the same run),
- the local pool with 2 workers, cold: the parent and one spawned child, which first
  starts an interpreter and imports the solver stack (≈ 0.5 s, printed separately) while the
  parent already computes (speed-up = serial / pool; linear = 2),
- the same pool again, warm: the same sweep run a second time in this process, when the
  child is still up (pools are kept between sweeps, as in a script or notebook that runs
  several),
- Dask ``LocalCluster`` with 2 worker processes (overhead per point = (Dask − pool) / 2000).

Each of serial, cold and warm is timed ``--repeat`` times, interleaved, and the best is
printed (the machine is noisy: single runs vary by ±15 %). Every run writes its own netCDF
file in a temporary folder, and the Datasets are checked to be identical (the executors
must not change a single value). A 4-point sweep runs first, untimed, so that the parent's
one-time imports (xarray, scipy, the netCDF writer: about 1 s) are not charged to the serial
baseline.

Usage: ``python benchmarks/bench_sweep_scaling.py [--points-per-axis 40x50] [--no-dask]
[--only rs|msk] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from common import add_quick, print_result

from replicasolve.sweeps import run_sweep, shutdown_pool


def spec(kind: str, n1: int, n2: int) -> dict:
    if kind == "msk":
        return {
            "name": "bench: msk T_c",
            "quantity": "T_c",
            "model": {"kind": "msk"},
            "axes": {
                "depth": list(range(1, n1 + 1)),
                "variance": {"start": 0.5, "stop": 3.0, "num": n2},
            },
        }
    return {
        "name": "bench: spherical SK RS free energy",
        "quantity": "free_energy",
        "model": {"kind": "pspin", "xi": "q**2/2", "spins": "spherical"},
        "axes": {
            "T": {"start": 0.3, "stop": 1.5, "num": n1},
            "field": {"start": 0.0, "stop": 1.0, "num": n2},
        },
        "solver": {"method": "rs"},
    }


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def worker_start(kind: str) -> float:
    """Wall time of a fresh interpreter that imports the sweep machinery and computes one
    point: what each spawned pool worker pays before its first useful point."""
    one = spec(kind, 1, 1)
    code = ("from replicasolve.sweeps.quantities import compute_point\n"
            "from replicasolve.sweeps.spec import load_spec\n"
            f"s = load_spec({one!r})\n"
            "i, p = next(iter(s.points()))\n"
            "compute_point(s.model, s.quantity, p, dict(s.solver))\n")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t0


def cpu_ticks() -> tuple[int, int] | None:
    """(total, steal) jiffies of all CPUs from /proc/stat (Linux), else None: on a virtual
    machine "steal" is time the host gave this VM's vCPUs to someone else."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(vals[:8]), vals[7] if len(vals) > 7 else 0


def bench(kind: str, n1: int, n2: int, tmp: str, dask: bool,
          repeat: int) -> tuple[float, float]:
    s = spec(kind, n1, n2)
    n = n1 * n2
    key = "T_c" if kind == "msk" else "free_energy"
    print(f"\n[{kind}] {s['name']}: {n} points; {os.cpu_count()} CPUs")
    warm = spec(kind, 2, 2)
    run_sweep(warm, f"{tmp}/{kind}_warm.nc", workers=1, progress=False)  # imports, untimed
    # the fixed costs of a run (spec, store, assembling and writing the netCDF file),
    # estimated by the same 4-point sweep again: a part no number of workers shortens
    fixed = min(timed(lambda r=r: run_sweep(warm, f"{tmp}/{kind}_fixed{r}.nc", workers=1,
                                            progress=False))[0] for r in range(3))
    ticks0 = cpu_ticks()
    runs: dict[str, list[float]] = {"serial": [], "cold": [], "warm": []}
    for r in range(repeat):  # interleaved, so a slow phase of the machine hits all three
        t1, ds1 = timed(lambda r=r: run_sweep(s, f"{tmp}/{kind}_serial{r}.nc", workers=1,
                                              progress=False))
        shutdown_pool()  # the cold pool run starts its child from nothing
        t2, ds2 = timed(lambda r=r: run_sweep(s, f"{tmp}/{kind}_pool{r}.nc", workers=2,
                                              progress=False))
        t2w, ds2w = timed(lambda r=r: run_sweep(s, f"{tmp}/{kind}_again{r}.nc", workers=2,
                                                progress=False))
        for name, t in (("serial", t1), ("cold", t2), ("warm", t2w)):
            runs[name].append(t)
    t1, t2, t2w = (min(runs[k]) for k in ("serial", "cold", "warm"))
    ticks1 = cpu_ticks()
    if ticks0 and ticks1 and ticks1[0] > ticks0[0]:
        print(f"CPU time stolen by the host during the timed runs: "
              f"{100 * (ticks1[1] - ticks0[1]) / (ticks1[0] - ticks0[0]):.1f} % of all CPU time "
              "(on a VM: time its vCPUs were given to others)")
    print(f"best of {repeat}, each run interleaved with the others:")
    print(f"serial (1 worker):  {t1:7.2f} s   {1e3 * t1 / n:6.3f} ms/point")
    print(f"local pool, 2, cold: {t2:7.2f} s   {1e3 * t2 / n:6.3f} ms/point   "
          f"speed-up {t1 / t2:.2f}x (linear = 2; the child's start-up included)")
    print(f"local pool, 2, warm: {t2w:7.2f} s   {1e3 * t2w / n:6.3f} ms/point   "
          f"speed-up {t1 / t2w:.2f}x (linear = 2; the same sweep again in this process: "
          "the child is kept)")
    print(f"fixed costs of a run (a 4-point sweep): {fixed:.2f} s; net of them the warm "
          f"speed-up is {(t1 - fixed) / max(t2w - fixed, 1e-9):.2f}x")
    same = all(bool(np.array_equal(ds1[key].values, d[key].values, equal_nan=True))
               for d in (ds2, ds2w))
    print(f"pool == serial, bit for bit: {same}")
    start = worker_start(kind)
    print(f"worker start-up (spawn + imports + first point, fresh process): {start:.2f} s, "
          "paid once per child, while the parent computes")
    if not dask:
        return t1, t2w
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("Dask: not installed (pip install 'dask[distributed]')")
        return t1, t2w
    t3, ds3 = timed(lambda: run_sweep(s, f"{tmp}/{kind}_dask.nc", executor="dask",
                                      workers=2, progress=False))
    print(f"Dask LocalCluster, 2: {t3:5.2f} s   {1e3 * t3 / n:6.3f} ms/point   "
          f"overhead vs pool {1e3 * (t3 - t2) / n:+.3f} ms/point (includes the "
          "cluster start)")
    print(f"Dask == serial, bit for bit: "
          f"{bool(np.array_equal(ds1[key].values, ds3[key].values, equal_nan=True))}")
    return t1, t2w


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points-per-axis", default="40x50")
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--only", choices=["rs", "msk"])
    p.add_argument("--repeat", type=int, default=3, help="timed repeats (best is kept)")
    add_quick(p)
    args = p.parse_args()
    if args.quick:  # the full rs sweep (2,000 points) once, no msk, no Dask
        args.only, args.repeat, args.no_dask = "rs", 1, True
    n1, n2 = (int(v) for v in args.points_per_axis.split("x"))
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("rs", "msk"):
            if args.only in (None, kind):
                times[kind] = bench(kind, n1, n2, tmp, not args.no_dask, args.repeat)
    kind = "rs" if "rs" in times else "msk"
    t1, t2w = times[kind]
    # the speed-up of 2 warm workers over 1, on the workload it is quoted for (rs)
    print_result(f"sweep_scaling ({kind})", t2w, "s", t1,
                 f"serial sweep, {n1 * n2} points", t1 / t2w,
                 "ratio (speed-up on 2 workers) >= 1.6", bool(t1 / t2w >= 1.6))


if __name__ == "__main__":
    main()
