"""Warm starts along T: a sweep of SK in a field, cold vs warm, in the same run.

Figure 1 (one chain, in this process): SK (ξ = q²/2, Ising) at field h, the k-step solves
along T (``--temps`` values in [T_lo, T_hi], low T first), each point cold
(``solve(model, method)``) and warm (``solve(model, method, start=previous)``): wall time,
the number of evaluations of the Parisi functional (one PDE solve each: the unit of work;
counted by wrapping ``IsingFunctional.evaluate``) and max |Δf| between the two.

Figure 2 (the sweep engine): ``run_sweep`` over h (``--fields`` values) × T (``--temps``)
with ``[solver] warm_start = false`` (baseline) and ``true`` (chains along T, one task per
h), same executor and workers: wall time of each, the ratio, and max |Δf| over the grid.

Figure 3 (``--landscape``): the classified phase diagram of a random tanh MLP landscape
(depths 2, 4, 8 × 20 T), whose 1RSB/2RSB solves run warm along T, against ``phase()`` on
each classified point cold; wall time, ratio, and whether the labels agree.

    python benchmarks/bench_warm_start.py                       # 4 h x 40 T, 2RSB
    python benchmarks/bench_warm_start.py --fields 20 --temps 40 --workers 16
    python benchmarks/bench_warm_start.py --ks 2,3,4,5,6 --temps 8 --T-range 0.4 0.54 --skip-sweep

The default size fits a shared 2-core machine (a few minutes); the full 20 × 40 grid is
the second line (minutes on 16 cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
from common import add_quick, print_result

from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import FullRSB, as_method, solve
from replicasolve.solvers.ising import IsingFunctional
from replicasolve.sweeps import run_sweep


def _method(name: str, ks: str | None):
    if ks:
        return FullRSB(ks=tuple(int(k) for k in ks.split(",")))
    return as_method(name)


def _count_evaluations():
    """Wrap IsingFunctional.evaluate with a counter; returns the counter (a list)."""
    count = [0]
    original = IsingFunctional.evaluate

    def counted(self, q, gamma):
        count[0] += 1
        return original(self, q, gamma)

    IsingFunctional.evaluate = counted  # type: ignore[method-assign]
    return count


def one_chain(h: float, temps: np.ndarray, method) -> tuple[float, float]:
    count = _count_evaluations()
    models = [MixedPSpin("q**2/2", spins="ising", T=float(T), field=h) for T in temps]
    solve(models[0], method)  # compile the kernels outside the timing

    count[0] = 0
    t0 = time.perf_counter()
    cold = [solve(m, method) for m in models]
    t_cold = time.perf_counter() - t0
    n_cold = count[0]

    count[0] = 0
    t0 = time.perf_counter()
    warm, prev = [], None
    for m in models:
        r = solve(m, method, start=prev)
        warm.append(r)
        prev = r if r.converged else None
    t_warm = time.perf_counter() - t0
    n_warm = count[0]

    df = max(abs(a.value - b.value) for a, b in zip(cold, warm, strict=True))
    ok = sum(r.converged for r in warm), sum(r.converged for r in cold)
    print(f"one chain: SK h = {h:g}, {temps.size} T in [{temps[0]:g}, {temps[-1]:g}], "
          f"{method}")
    print(f"  cold: {t_cold:7.2f} s, {n_cold:6d} functional evaluations")
    print(f"  warm: {t_warm:7.2f} s, {n_warm:6d} functional evaluations")
    print(f"  ratio cold/warm: time {t_cold / t_warm:.2f}x, evaluations "
          f"{n_cold / max(n_warm, 1):.2f}x; max |delta f| = {df:.1e}; "
          f"converged warm {ok[0]}/{temps.size}, cold {ok[1]}/{temps.size}")
    return t_cold, t_warm


def sweep(fields: np.ndarray, temps: np.ndarray, method_name: str, ks: str | None,
          workers: int) -> None:
    solver: dict = {"method": method_name}
    if ks:
        solver = {"ks": [int(k) for k in ks.split(",")]}
    spec = {"quantity": "free_energy", "model": {"kind": "pspin", "xi": "q**2/2"},
            "axes": {"field": [float(h) for h in fields], "T": [float(t) for t in temps]},
            "solver": solver}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        cold = run_sweep({**spec, "solver": {**solver, "warm_start": False}},
                         os.path.join(tmp, "cold.nc"), workers=workers, progress=False)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = run_sweep({**spec, "solver": {**solver, "warm_start": True}},
                         os.path.join(tmp, "warm.nc"), workers=workers, progress=False)
        t_warm = time.perf_counter() - t0
    df = float(np.nanmax(np.abs(cold.free_energy.values - warm.free_energy.values)))
    n = fields.size * temps.size
    print(f"sweep: SK, {fields.size} h in [{fields[0]:g}, {fields[-1]:g}] x {temps.size} T "
          f"in [{temps[0]:g}, {temps[-1]:g}] = {n} points, {solver}, workers = {workers}")
    print(f"  cold (warm_start = false): {t_cold:7.2f} s")
    print(f"  warm (chains along T)    : {t_warm:7.2f} s")
    print(f"  ratio cold/warm = {t_cold / t_warm:.2f}x; max |delta f| = {df:.1e}; "
          f"converged warm {int(warm.converged.sum())}/{n}, "
          f"cold {int(cold.converged.sum())}/{n}")


def landscape(depths: list[int], temps: np.ndarray) -> None:
    """The classified landscape phase diagram (its 1RSB/2RSB solves warm along T) against
    classifying the same points one by one, cold."""
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers import phase
    from replicasolve.studies.landscape_diagram import landscape_phase_diagram

    act, sw, sb = "tanh", 1.5, 0.05
    for d in depths:  # build (or load) the kernel tables outside the timing
        _ = RandomMLPLandscape(act, d, sw, sb).xi
    t0 = time.perf_counter()
    ds = landscape_phase_diagram(act, depths, temps, sw, sb, classify=True)
    t_warm = time.perf_counter() - t0
    codes = {"RS": 1, "1RSB": 2, "FRSB": 3}
    t0 = time.perf_counter()
    same = n = 0
    for i, d in enumerate(depths):
        land = RandomMLPLandscape(act, d, sw, sb)
        for j, T in enumerate(temps):
            if ds.phase.values[i, j] > 0:
                n += 1
                same += codes[phase(land.model(float(T)))] == ds.phase.values[i, j]
    t_cold = time.perf_counter() - t0
    print(f"landscape diagram: {act}, depths {depths} x {temps.size} T in "
          f"[{temps[0]:g}, {temps[-1]:g}], {n} points classified")
    print(f"  cold (phase() per point)       : {t_cold:7.2f} s")
    print(f"  warm (landscape_phase_diagram) : {t_warm:7.2f} s (includes the RS pass)")
    print(f"  ratio cold/warm = {t_cold / t_warm:.2f}x; labels equal at {same}/{n} points")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    ap.add_argument("--fields", type=int, default=4)
    ap.add_argument("--temps", type=int, default=40)
    ap.add_argument("--h-range", type=float, nargs=2, default=(0.05, 1.0))
    ap.add_argument("--T-range", type=float, nargs=2, default=(0.3, 1.1))
    ap.add_argument("--method", default="2rsb")
    ap.add_argument("--ks", default=None, help="FullRSB ks, e.g. 2,3,4,5,6")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chain-field", type=float, default=0.3)
    ap.add_argument("--skip-chain", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--landscape", action="store_true",
                    help="also time the classified landscape phase diagram (depths 2, 4, 8)")
    args = ap.parse_args()
    if args.quick:  # one chain of 12 T, no sweep, no landscape
        args.temps, args.skip_sweep, args.landscape = 12, True, False
    temps = np.linspace(*args.T_range, args.temps)
    fields = np.linspace(*args.h_range, args.fields)
    method = _method(args.method, args.ks)
    chain = None
    if not args.skip_chain:
        chain = one_chain(args.chain_field, temps, method)
    if not args.skip_sweep:
        sweep(fields, temps, args.method, args.ks, args.workers)
    if args.landscape:
        landscape([2, 4, 8], np.linspace(0.02, 0.4, 20))
    if chain is not None:
        t_cold, t_warm = chain
        print_result("warm_start", t_warm, "s", t_cold,
                     f"the same chain of {temps.size} T solved cold", t_cold / t_warm,
                     "ratio > 1 (warm faster than cold)", bool(t_cold > t_warm))
    else:
        print("(no BENCH-RESULT: --skip-chain given)")


if __name__ == "__main__":
    main()
