"""β_c of a 10-hidden-layer network of width 4096 (N = 41,754): time and memory.

Figure: wall time and peak resident memory of ``tap_critical`` (finite-size corrected β_c,
relative tolerance 1e-8) on a random Kaiming-normal 784-4096×10-10 network (C = 2, seed 0);
``--quick``: 784-1024×4-10 (N = 4,890).

Baseline (same run, same BLAS thread limits as the engine): what a user writes when the
dense A(β) does not fit (8·N² bytes: 13.9 GB at full size), bounded Brent minimisation
(``scipy.optimize.minimize_scalar(method="bounded")`` over [0.5, 1.5]·β_MSK, xatol =
rtol·β_MSK) of λ_min(A(β)) from ``scipy.sparse.linalg.eigsh(which="SA")`` on a
LinearOperator that applies A(β) through the layer weights (``peers.tap_operator``), each
Lanczos run started from the previous eigenvector. It runs to convergence or a time cap
(``--baseline-cap``, default 60 s quick / 900 s full); if capped, its time is a lower
bound and so is the ratio (the label says so). A converged baseline must agree with the
engine's β_c to 1e-7 (relative). Extra line: the dense ``eigvalsh`` estimate (N = 3000
timed, scaled by N³, 6 β values) and the memory of the dense A.

Targets (full size): under 60 s and under 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from common import add_quick, print_result, same_blas_as_engine
from peers import beta_c_brent, tap_operator

from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import random_layered
from replicasolve.tap.critical import tap_critical
from replicasolve.tap.matrix import tap_matrix

# Brent stops within ~2·(sqrt(eps)|β| + xatol/3) of its minimiser (scipy's criterion) and
# the engine within rtol = 1e-8: 1e-7 relative leaves room for both, and nothing more
AGREE = 1e-7


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    ap.add_argument("--width", type=int, default=None, help="default 4096 (1024 quick)")
    ap.add_argument("--depth", type=int, default=None, help="hidden layers, 10 (4 quick)")
    ap.add_argument("--rtol", type=float, default=1e-8)
    ap.add_argument(
        "--baseline-cap",
        type=float,
        default=None,
        help="seconds for the Brent baseline (default 60 quick, 900 full)",
    )
    args = ap.parse_args()
    width = args.width or (1024 if args.quick else 4096)
    depth = args.depth or (4 if args.quick else 10)
    cap = args.baseline_cap or (60.0 if args.quick else 900.0)
    sizes = [784] + [width] * depth + [10]

    t0 = time.perf_counter()
    bonds = random_layered(sizes, 2.0, seed=0)
    t_gen = time.perf_counter() - t0
    tap_critical(random_layered([60, 40, 20], 2.0, 1))  # warm-up: imports, LAPACK init
    t0 = time.perf_counter()
    res = tap_critical(bonds, rtol=args.rtol)
    t_tap = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # KiB on Linux
    weights_gb = sum(w.nbytes for w in bonds.weights) / 1e9
    beta_msk = msk_critical(sizes, 2.0).beta_c

    weights = list(bonds.weights)
    with same_blas_as_engine():
        t0 = time.perf_counter()
        brent = beta_c_brent(
            lambda b: tap_operator(weights, b),
            (0.5 * beta_msk, 1.5 * beta_msk),
            args.rtol * beta_msk,
            "eigsh",
            deadline=t0 + cap,
        )
        t_base = time.perf_counter() - t0

        n_small = 3000
        small = random_layered([n_small // 3] * 3, 2.0, seed=1)
        t0 = time.perf_counter()
        np.linalg.eigvalsh(tap_matrix(small, 0.6))
        t_small = time.perf_counter() - t0
    t_dense = 6 * t_small * (bonds.n / small.n) ** 3
    mem_dense = 8 * bonds.n**2 / 1e9
    ratio = t_base / t_tap

    print(f"network 784-{width}x{depth}-10, N = {bonds.n}, C = 2, seed 0")
    print(f"weights generated in {t_gen:.1f} s ({weights_gb:.2f} GB float64)")
    print(
        f"engine   beta_c = {res.beta_c:.10f}  (rtol {args.rtol:g}, {res.evaluations} "
        f"lambda_min evaluations, converged {res.converged})"
    )
    print(
        f"engine   time {t_tap:.1f} s (target < 60), peak memory {peak_gb:.2f} GB "
        f"(target < 4, weights included)"
    )
    print(
        f"theory   beta_c = {beta_msk:.10f} (MSK); relative difference "
        f"{res.beta_c / beta_msk - 1:.2e}"
    )
    rel = abs(brent.beta_c - res.beta_c) / res.beta_c
    if brent.converged:
        label = "scipy bounded Brent + eigsh(SA) on a LinearOperator, same BLAS threads"
        print(
            f"baseline beta_c = {brent.beta_c:.10f}  (Brent + eigsh on the operator, "
            f"{brent.evaluations} evaluations) time {t_base:.1f} s; |diff| / beta_c = "
            f"{rel:.1e} (must be <= {AGREE:g})"
        )
    else:
        label = (
            f"scipy bounded Brent + eigsh(SA) LinearOperator, stopped at {cap:.0f} s cap "
            f"after {brent.evaluations} evaluations: lower bound"
        )
        print(
            f"baseline stopped at the {cap:.0f} s cap after {brent.evaluations} evaluations "
            f"(best beta so far {brent.beta_c:.8f}); {t_base:.1f} s is a lower bound"
        )
    print(
        f"extra (not the baseline): dense eigvalsh {t_small:.2f} s at N = {small.n} -> "
        f"{t_dense / 60:.0f} min for 6 beta values at N = {bonds.n}; "
        f"A alone needs {mem_dense:.1f} GB"
    )
    print(
        f"RATIO Brent baseline / engine = {ratio:.1f}"
        f"{'' if brent.converged else ' (lower bound)'}; memory dense-A / engine peak = "
        f"{mem_dense / peak_gb:.1f}"
    )
    if brent.converged and rel > AGREE:
        raise SystemExit(f"engine and Brent baseline disagree: {rel:.1e} > {AGREE:g}")
    met = None if args.quick else bool(t_tap < 60 and peak_gb < 4)
    print_result(
        "tap_large", t_tap, "s", t_base, label, ratio, "< 60 s and < 4 GB peak (full size)", met
    )


if __name__ == "__main__":
    main()
