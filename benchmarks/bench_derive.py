"""Time per replica derivation of a mixed p-spin: cold (every symbolic step recomputed)
vs cached (the same derivation again in the same process).

Figure: for each (spins, ansatz), the wall time of ``derive(MixedPSpin(...), ansatz)`` with
every cache cleared (the baseline: the same derivation without the cache), then the same
call again (cached), and their ratio; then the first numerical evaluation (numba
compilation of the levels, disk-cached across processes) and ``check()`` (one solver run
plus the evaluation). Target: each cold derivation a few seconds at most.

    python benchmarks/bench_derive.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from replicasolve.derivation import derive
from replicasolve.derivation.pspin import clear_caches
from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers.methods import RSB

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_quick, print_result

CASES = [
    ("q^2/2", "ising", 0, 0.6, 0.1),
    ("q^2/2 + 0.1*q^4", "ising", 1, 0.5, 0.1),
    ("q^2/2", "ising", 2, 0.5, 0.2),
    ("q^2/2", "spherical", 0, 0.5, 0.3),
    ("q^3", "spherical", 1, 0.5, 0.0),
    ("q^3", "spherical", 2, 0.5, 0.0),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    args = ap.parse_args()
    cases = CASES[:2] + CASES[3:4] if args.quick else CASES
    worst = 0.0
    print(f"{'model':<34} {'cold s':>8} {'cached s':>10} {'ratio':>8} {'numerics s':>11} "
          f"{'check s':>8}")
    total_cold = total_cached = 0.0
    for xi, spins, k, T, h in cases:
        model = MixedPSpin(xi, spins=spins, T=T, field=h)
        clear_caches()
        t0 = time.perf_counter()
        d = derive(model, RSB(k))
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        d = derive(model, RSB(k))
        cached = time.perf_counter() - t0
        t0 = time.perf_counter()
        d.program().compile()
        numerics = time.perf_counter() - t0
        t0 = time.perf_counter()
        c = d.check()
        check = time.perf_counter() - t0
        worst = max(worst, cold)
        total_cold += cold
        total_cached += cached
        label = f"{spins} {xi} {RSB(k).name}"
        print(f"{label:<34} {cold:8.2f} {cached:10.5f} {cold / cached:8.0f} {numerics:11.2f} "
              f"{check:8.2f}   (check converged={c.converged}, saddle {c.saddle_error:.1e})")
    print(f"total: cold {total_cold:.2f} s, cached {total_cached:.4f} s, "
          f"RATIO cold/cached = {total_cold / total_cached:.0f}")
    print_result("derive", worst, "s (slowest cold derivation)", total_cold,
                 "all cold derivations, s (ratio = total cold / total cached)",
                 total_cold / total_cached, "slowest cold < 5 s", worst < 5.0)


if __name__ == "__main__":
    main()
