"""β_c of a random 784-512-512-512-10 network: engine vs bounded Brent on λ_min(A(β)).

Figure: wall time of ``tap_critical`` (finite-size corrected β_c = argmin_β λ_min(A(β)),
relative tolerance 1e-10) on one Kaiming-normal instance (C = 2, seed 0); best of
``--repeat`` runs.

Baseline (same run, same BLAS thread limits as the engine: numpy's OpenBLAS at one thread,
scipy's at ``REPLICASOLVE_BLAS_THREADS``): what a user would write with scipy,
``scipy.optimize.minimize_scalar(method="bounded")`` (Brent) over [0.5, 1.5]·β_MSK with
``xatol = 1e-10·β_MSK`` (the engine's relative tolerance), of λ_min(A(β)) from the faster of
two smallest-eigenvalue solvers, chosen by timing both once at β_MSK:
``scipy.linalg.eigh(subset_by_index=[0, 0])`` (LAPACK syevr) and
``scipy.sparse.linalg.eigsh(which="SA")`` (Lanczos, warm-started from the previous
eigenvector). Its β_c must agree with the engine's to 1e-8 (relative); the difference is
printed and checked. ``--full`` also prints the old dense ``eigvalsh`` grid (1001 points,
per-point cost measured on 21) as an extra line; it is not the baseline.

Target: ratio ≥ 100.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import add_quick, print_result, same_blas_as_engine
from peers import beta_c_brent, smallest_eigenvalue

from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import random_layered
from replicasolve.tap.critical import tap_critical
from replicasolve.tap.matrix import tap_matrix

SIZES = [784, 512, 512, 512, 10]
AGREE = 1e-8  # relative: Brent on a function minimum locates β to ~sqrt(eps) at best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    ap.add_argument("--full", action="store_true", help="also the dense eigvalsh grid line")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats of each method")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat

    bonds = random_layered(SIZES, 2.0, seed=0)
    beta_msk = msk_critical(SIZES, 2.0).beta_c
    tap_critical(random_layered([60, 40, 20], 2.0, 1))  # warm-up: imports, LAPACK init

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = tap_critical(bonds, rtol=1e-10)
        times.append(time.perf_counter() - t0)
    fast = min(times)

    def matrix(beta: float) -> np.ndarray:
        return tap_matrix(bonds, beta)

    with same_blas_as_engine():
        cost = {}
        for solver in ("eigh", "eigsh"):
            a = matrix(beta_msk)
            t0 = time.perf_counter()
            smallest_eigenvalue(a, solver)
            cost[solver] = time.perf_counter() - t0
        solver = min(cost, key=cost.get)
        base_times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            brent = beta_c_brent(matrix, (0.5 * beta_msk, 1.5 * beta_msk), 1e-10 * beta_msk, solver)
            base_times.append(time.perf_counter() - t0)
    baseline = min(base_times)
    rel = abs(brent.beta_c - res.beta_c) / res.beta_c
    ratio = baseline / fast

    print(f"network {'-'.join(map(str, SIZES))}, N = {bonds.n}, C = 2, seed 0")
    print(
        f"engine   beta_c = {res.beta_c:.12f}  (rtol 1e-10, {res.evaluations} lambda_min "
        f"evaluations)  time {fast:.3f} s (best of {repeat})"
    )
    print(
        f"smallest-eigenvalue solvers at beta_MSK: eigh(subset [0,0]) {cost['eigh']:.3f} s, "
        f"eigsh(SA) {cost['eigsh']:.3f} s -> baseline uses {solver}"
    )
    print(
        f"baseline beta_c = {brent.beta_c:.12f}  (bounded Brent, xatol 1e-10 beta_MSK, "
        f"{brent.evaluations} evaluations)  time {baseline:.3f} s (best of {repeat})"
    )
    print(f"|baseline - engine| / beta_c = {rel:.2e}  (must be <= {AGREE:g})")
    if args.full:
        step = 1e-3 * beta_msk
        grid = beta_msk * 0.5 + step * np.arange(1001)
        i0 = int(np.argmin(np.abs(grid - res.beta_c)))
        window = np.arange(max(i0 - 10, 0), min(i0 + 11, 1001))
        with same_blas_as_engine():
            t0 = time.perf_counter()
            for i in window:
                np.linalg.eigvalsh(matrix(grid[i]))
            per_point = (time.perf_counter() - t0) / len(window)
        print(
            f"extra (not the baseline): dense eigvalsh grid, step {step:.1e}: "
            f"{per_point:.3f} s per point x 1001 = {per_point * 1001:.0f} s, "
            f"ratio {per_point * 1001 / fast:.0f}"
        )
    met = ratio >= 100
    print(f"RATIO baseline / engine = {ratio:.1f}  (target >= 100: {'met' if met else 'NOT met'})")
    if rel > AGREE:
        raise SystemExit(f"engine and Brent baseline disagree: {rel:.2e} > {AGREE:g}")
    print_result(
        "tap_beta_c",
        fast,
        "s",
        baseline,
        f"scipy bounded Brent + {solver}, same BLAS threads",
        ratio,
        "ratio >= 100",
        met,
    )


if __name__ == "__main__":
    main()
