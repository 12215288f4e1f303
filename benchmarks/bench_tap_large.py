"""β_c of a 10-hidden-layer network of width 4096 (N = 41,754): time and memory.

Figure: wall time and peak resident memory of ``tap_critical`` (finite-size corrected β_c,
relative tolerance 1e-8) on a random Kaiming-normal 784-4096×10-10 network (C = 2, seed 0).

Baseline (same run): dense exact diagonalisation. Its memory for the single matrix A(β)
is 8·N² bytes (computed: 13.9 GB, more than half of this machine); its time per β is
measured by ``numpy.linalg.eigvalsh`` at N = 3000 and scaled by (N/3000)³, times the
6 β values a derivative-free minimisation would need at the least (a grid needs ~1000).

Targets: under 60 s and under 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import random_layered
from replicasolve.tap.critical import tap_critical
from replicasolve.tap.matrix import tap_matrix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--depth", type=int, default=10, help="hidden layers")
    ap.add_argument("--rtol", type=float, default=1e-8)
    args = ap.parse_args()
    sizes = [784] + [args.width] * args.depth + [10]

    t0 = time.perf_counter()
    bonds = random_layered(sizes, 2.0, seed=0)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = tap_critical(bonds, rtol=args.rtol)
    t_tap = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # KiB on Linux
    weights_gb = sum(w.nbytes for w in bonds.weights) / 1e9

    n_small = 3000
    small = random_layered([n_small // 3] * 3, 2.0, seed=1)
    t0 = time.perf_counter()
    np.linalg.eigvalsh(tap_matrix(small, 0.6))
    t_small = time.perf_counter() - t0
    t_dense = 6 * t_small * (bonds.n / small.n) ** 3
    mem_dense = 8 * bonds.n**2 / 1e9

    theory = msk_critical(sizes, 2.0)
    print(f"network 784-{args.width}x{args.depth}-10, N = {bonds.n}, C = 2, seed 0")
    print(f"weights generated in {t_gen:.1f} s ({weights_gb:.2f} GB float64)")
    print(f"engine   beta_c = {res.beta_c:.10f}  (rtol {args.rtol:g}, {res.evaluations} "
          f"lambda_min evaluations, converged {res.converged})")
    print(f"engine   time {t_tap:.1f} s (target < 60), peak memory {peak_gb:.2f} GB "
          f"(target < 4, weights included)")
    print(f"theory   beta_c = {theory.beta_c:.10f} (MSK); relative difference "
          f"{res.beta_c / theory.beta_c - 1:.2e}")
    print(f"baseline dense eigvalsh: {t_small:.2f} s at N = {small.n} -> "
          f"{t_dense / 60:.0f} min for 6 beta values at N = {bonds.n}; "
          f"A alone needs {mem_dense:.1f} GB")
    print(f"RATIO time dense / engine = {t_dense / t_tap:.0f}; "
          f"memory dense-A / engine peak = {mem_dense / peak_gb:.1f}")


if __name__ == "__main__":
    main()
