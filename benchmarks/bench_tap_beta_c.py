"""β_c of a random 784-512-512-512-10 network: engine vs a dense eigvalsh β grid.

Figure: wall time of ``tap_critical`` (finite-size corrected β_c = argmin_β λ_min(A(β)),
relative tolerance 1e-10) on one Kaiming-normal instance (C = 2, seed 0).

Baseline (same run): the straightforward approach, ``numpy.linalg.eigvalsh`` of the dense
A(β) on a β grid over [0.5, 1.5]·β_MSK with step 1e-3·β_MSK (1001 points, enough for 1e-3
precision). Its cost per point is measured on the 21 grid points around the answer and
multiplied by the grid size (``--full`` times all 1001 points instead: ~10 minutes). The
21 measured points also give the grid's own answer, which must be the grid point nearest
to the engine's β_c (the "same answer" check).

Target: ratio ≥ 100.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import random_layered
from replicasolve.tap.critical import tap_critical
from replicasolve.tap.matrix import tap_matrix

SIZES = [784, 512, 512, 512, 10]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="time the whole baseline grid")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats of the engine")
    args = ap.parse_args()

    bonds = random_layered(SIZES, 2.0, seed=0)
    theory = msk_critical(SIZES, 2.0)
    tap_critical(random_layered([60, 40, 20], 2.0, 1))  # warm-up: imports, LAPACK init

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = tap_critical(bonds, rtol=1e-10)
        times.append(time.perf_counter() - t0)
    fast = min(times)
    loose = tap_critical(bonds, rtol=1e-6)

    step = 1e-3 * theory.beta_c
    grid = theory.beta_c * 0.5 + step * np.arange(1001)
    i0 = int(np.argmin(np.abs(grid - res.beta_c)))
    window = np.arange(1001) if args.full else np.arange(max(i0 - 10, 0), min(i0 + 11, 1001))
    lmins = []
    t0 = time.perf_counter()
    for i in window:
        lmins.append(np.linalg.eigvalsh(tap_matrix(bonds, grid[i]))[0])
    measured = time.perf_counter() - t0
    per_point = measured / len(window)
    baseline = per_point * len(grid)
    grid_beta = grid[window[int(np.argmin(lmins))]]

    print(f"network {'-'.join(map(str, SIZES))}, N = {bonds.n}, C = 2, seed 0")
    print(f"engine   beta_c = {res.beta_c:.12f}  (rtol 1e-10, {res.evaluations} lambda_min "
          f"evaluations)  time {fast:.3f} s (best of {args.repeat})")
    print(f"engine   beta_c = {loose.beta_c:.12f}  at rtol 1e-6: "
          f"|diff| / beta_c = {abs(loose.beta_c - res.beta_c) / res.beta_c:.1e}")
    print(f"baseline beta_c = {grid_beta:.6f}  (dense eigvalsh grid, step {step:.2e}); "
          f"{per_point:.3f} s per point x {len(grid)} points = {baseline:.1f} s"
          f"{' (measured)' if args.full else ' (per-point cost measured on 21 points)'}")
    same = abs(grid_beta - res.beta_c) <= step
    print(f"same answer within the grid step: {same}")
    print(f"theory   beta_c = {theory.beta_c:.12f} (MSK, N -> infinity)")
    print(f"RATIO baseline / engine = {baseline / fast:.0f}  (target >= 100)")
    if not same:
        raise SystemExit("engine and grid disagree")


if __name__ == "__main__":
    main()
