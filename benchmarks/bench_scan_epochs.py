"""TAP scan of a 61-snapshot training run of 784-512-512-512-10: scan_run vs scipy Brent.

Figure: wall time of ``scan_run`` on a synthetic run (epochs 0..60) of the MNIST network of
Barney, Winer & Galitski (arXiv 2408.06421): per epoch the finite-size corrected β_c
(threshold θ = min_β λ_min(A(β)) of epoch 0, relative tolerance 1e-8), the level statistics
of A(β_c) (one dense eigvalsh) and λ_max(J) (Lanczos). Target: under 60 s on this 2-core
machine (BLAS at one thread by default; ``--threads 2`` is faster on an idle machine and
much slower when another process holds a core).

The run is synthetic, written to a temporary directory: Kaiming-normal weights (C = 2,
seed 0) plus a "learned" part that grows with the epoch, a rank-10 term of strength
2 (t/60)^0.6 in every layer plus a small random walk of the weights. It mimics what
training does to the couplings (a few outliers of J split off, T_c rises); the benchmark
times the scan, not training.

Baseline (same run, same BLAS threads as the scan): what a user writes with scipy, per
epoch: β* = argmin λ_min(A(β)) by bounded Brent (``minimize_scalar(method="bounded")`` over
[0.5, 1.5]·β_MSK, xatol 1e-8·β_MSK) with λ_min from ``eigsh(which="SA")`` warm-started
from the previous eigenvector; where λ_min reaches θ, the crossing by ``brentq`` on
λ_min(β) - θ over [0.5·β_MSK, β*]; then the same level statistics (one dense ``eigvalsh`` of
A(β_c)) and λ_max(J) by ``eigsh(which="LA")``. It is timed on 3 epochs (first, middle,
last) and scaled to all epochs; its β_c must agree with the scan's to 1e-7 (relative; Brent
stops within ~sqrt(eps) of a minimum). ``--grid`` also prints the old dense ``eigvalsh``
β grid estimate (1001 points per epoch) as an extra line.

``--quick``: 392-256-256-256-10, 21 epochs (the < 60 s target is for the full run).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from common import add_quick, print_result, same_blas_as_engine
from peers import beta_c_brent, smallest_eigenvalue
from scipy.optimize import brentq

from replicasolve.blas import blas_threads
from replicasolve.models.msk import msk_critical
from replicasolve.studies.scan.epochs import scan_run
from replicasolve.studies.train.snapshots import list_snapshots, read_snapshot, write_snapshot
from replicasolve.tap.bonds import LayeredBonds
from replicasolve.tap.matrix import tap_matrix

SIZES = [784, 512, 512, 512, 10]


def make_run(run_dir: str, sizes: list[int], n_epochs: int, seed: int = 0) -> None:
    """Kaiming weights + an epoch-growing rank-10 part + a small random walk, per epoch."""
    rng = np.random.default_rng(seed)
    w0 = [
        rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2.0 / sizes[k])
        for k in range(len(sizes) - 1)
    ]
    spikes = []
    for w in w0:
        rank = min(10, *w.shape)
        u, _ = np.linalg.qr(rng.standard_normal((w.shape[0], rank)))
        v, _ = np.linalg.qr(rng.standard_normal((w.shape[1], rank)))
        # a narrow layer gets a proportionally weaker part: its few spins would otherwise
        # see their d_i = Σ_j J_ij² grow by far more than training does (~1%)
        spikes.append(u @ v.T * (min(w.shape) / max(w.shape)))
    walk = [np.zeros_like(w) for w in w0]
    last = max(n_epochs - 1, 1)
    for t in range(n_epochs):
        g = 2.0 * (t / last) ** 0.6
        ws = [w + g * s + dw for w, s, dw in zip(w0, spikes, walk, strict=True)]
        meta = {
            "train_error": 0.1 * np.exp(-t / 10),
            "val_error": 0.12 * np.exp(-t / 12),
            "train_loss": 1.0 / (1 + t),
            "program": "synthetic benchmark run",
        }
        write_snapshot(run_dir, t, ws, [np.zeros(w.shape[0]) for w in ws], meta)
        for k, w in enumerate(w0):
            walk[k] += 0.005 * rng.standard_normal(w.shape) * np.sqrt(2.0 / w.shape[1])


def grid_check(
    run_dir: str, epoch: int, beta_c: float, theta: float, grid: np.ndarray, minimum: bool
) -> tuple[float, int, bool]:
    """Time the dense baseline on the grid points around ``beta_c`` of one epoch.

    Returns (seconds per grid point, points measured, whether the grid agrees).
    """
    bonds = LayeredBonds(read_snapshot(list_snapshots(run_dir)[epoch][1]).weights)
    i0 = int(np.searchsorted(grid, beta_c))  # grid[i0 - 1] < beta_c <= grid[i0]
    idx = list(range(max(i0 - 2, 0), min(i0 + 2, len(grid))))
    lmins = []
    t0 = time.perf_counter()
    for i in idx:
        lmins.append(np.linalg.eigvalsh(tap_matrix(bonds, grid[i]))[0])
    np.linalg.eigvalsh(bonds.dense())  # λ_max(J) of the baseline: once per epoch
    per_point = (time.perf_counter() - t0) / (len(idx) + 1)
    lm = dict(zip(idx, lmins, strict=True))
    if minimum:  # epoch 0, or λ_min never reaches θ: β_c is the argmin of λ_min
        best = min(lm, key=lm.get)
        same = abs(grid[best] - beta_c) <= grid[1] - grid[0]
    else:  # grid β_c: first grid point with λ_min <= θ; it must be the one just above
        below = [i for i in idx if lm[i] <= theta]
        same = bool(below) and min(below) == i0 and lm.get(i0 - 1, np.inf) > theta
    return per_point, len(idx) + 1, same


# Brent/brentq on eigsh values stop within ~sqrt(eps)·β of a minimum; the scan's rtol is 1e-8
AGREE = 1e-7


def brent_epoch(
    run_dir: str, epoch: int, theta: float, beta_msk: float, argmin: bool
) -> tuple[float, float]:
    """The scipy baseline for one epoch: (β_c, seconds), level statistics and λ_max(J)
    included (see the module docstring)."""
    from scipy.sparse.linalg import eigsh

    bonds = LayeredBonds(read_snapshot(list_snapshots(run_dir)[epoch][1]).weights)
    t0 = time.perf_counter()
    mini = beta_c_brent(
        lambda b: tap_matrix(bonds, b), (0.5 * beta_msk, 1.5 * beta_msk), 1e-8 * beta_msk, "eigsh"
    )
    beta_c = mini.beta_c
    if not argmin:
        last: list = [None]

        def gap(beta: float) -> float:
            val, last[0] = smallest_eigenvalue(tap_matrix(bonds, beta), "eigsh", last[0])
            return val - theta

        beta_c = brentq(gap, 0.5 * beta_msk, mini.beta_c, xtol=1e-10 * beta_msk)
    np.linalg.eigvalsh(tap_matrix(bonds, beta_c))  # the level statistics of A(β_c)
    eigsh(bonds.dense(), k=1, which="LA", return_eigenvectors=False)  # λ_max(J)
    return beta_c, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    ap.add_argument(
        "--grid", action="store_true", help="also the old dense eigvalsh grid estimate (extra line)"
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads of the dense eigen-solves (default 1: two OpenBLAS threads "
        "stall badly when another process holds a core)",
    )
    ap.add_argument("--plain", action="store_true", help="also the plain beta_c per epoch")
    args = ap.parse_args()
    sizes = [392, 256, 256, 256, 10] if args.quick else SIZES
    n_epochs = 21 if args.quick else 61

    with tempfile.TemporaryDirectory(prefix="bench-scan-") as run_dir:
        t0 = time.perf_counter()
        make_run(run_dir, sizes, n_epochs)
        made = time.perf_counter() - t0
        scan_run(run_dir, epochs=[0], plain=False)  # warm-up: imports, LAPACK init
        t0 = time.perf_counter()
        ds = scan_run(run_dir, plain=args.plain, threads=args.threads)
        fast = time.perf_counter() - t0
        n = int(sum(sizes))
        print(
            f"network {'-'.join(map(str, sizes))}, N = {n}, epochs 0..{n_epochs - 1} "
            f"(synthetic run written in {made:.1f} s: Kaiming C=2 + growing rank-10 "
            "'learned' part; times the scan, not training)"
        )
        print(
            f"scan_run: beta_c (corrected, rtol 1e-8), level spacing of A(beta_c), "
            f"lambda_max(J){', plain beta_c' if args.plain else ''} for every epoch, "
            f"BLAS threads {args.threads}"
        )
        ok = int(np.sum(ds["status"].values == "ok"))
        crossed = int(np.sum(ds["crossed"].values))
        print(
            f"  {ok}/{n_epochs} epochs ok; lambda_min reaches theta in {crossed} of them "
            "(elsewhere beta_c is the point of closest approach, as tap_critical reports "
            f"it); engine fallbacks {ds.attrs['engine_calls']}"
        )
        bc = ds["beta_c"].values
        print(
            f"  beta_c: epoch 0 {bc[0]:.6f} -> epoch {n_epochs - 1} {bc[-1]:.6f}; "
            f"T_c {1 / bc[0]:.4f} -> {1 / bc[-1]:.4f}; lambda_max(J) "
            f"{ds['lambda_max_J'].values[0]:.3f} -> {ds['lambda_max_J'].values[-1]:.3f}; "
            f"max d change {np.nanmax(ds['d_change_max'].values):.2%}"
        )
        print(
            f"  normalized first spacing: epoch 0 "
            f"{ds['normalized_first_spacing'].values[0]:.2f} -> epoch {n_epochs - 1} "
            f"{ds['normalized_first_spacing'].values[-1]:.2f}"
        )
        verdict = (
            "(the < 60 s target is for the full run)"
            if args.quick
            else f"target < 60 s: {'yes' if fast < 60 else 'NO'}"
        )
        print(f"SCAN TIME {fast:.1f} s  ({fast / n_epochs:.2f} s per epoch)  {verdict}")

        beta_msk = msk_critical(sizes, 2.0).beta_c
        theta = float(ds["threshold"])
        epochs = (0, n_epochs // 2, n_epochs - 1)
        secs, worst = [], 0.0
        with blas_threads(args.threads), same_blas_as_engine():
            for e in epochs:
                argmin = e == 0 or not ds["crossed"].values[e]
                beta, sec = brent_epoch(run_dir, e, theta, beta_msk, argmin)
                secs.append(sec)
                rel = abs(beta - bc[e]) / bc[e]
                worst = max(worst, rel)
                kind = "argmin of lambda_min" if argmin else "first crossing of theta"
                print(
                    f"  epoch {e}: scan beta_c {bc[e]:.10f} ({kind}); scipy baseline "
                    f"{beta:.10f}, |diff| / beta_c = {rel:.1e}, {sec:.2f} s"
                )
        baseline = float(np.mean(secs)) * n_epochs
        ratio = baseline / fast
        print(
            f"BASELINE scipy Brent/brentq + eigsh per epoch: {np.mean(secs):.2f} s per "
            f"epoch (mean of {len(epochs)} timed) x {n_epochs} epochs = {baseline:.0f} s"
        )
        if args.grid:
            step = 1e-3 * beta_msk
            grid = 0.5 * beta_msk + step * np.arange(1001)
            with blas_threads(args.threads):
                pp, _cnt, same = grid_check(run_dir, 0, float(bc[0]), theta, grid, True)
            print(
                f"extra (not the baseline): dense eigvalsh grid {pp:.3f} s per point x "
                f"1002 x {n_epochs} epochs = {pp * 1002 * n_epochs:.0f} s (agrees within "
                f"its step: {same})"
            )
        print(f"RATIO baseline / scan = {ratio:.1f}")
        if worst > AGREE:
            raise SystemExit(f"scan and scipy baseline disagree: {worst:.1e} > {AGREE:g}")
        print_result(
            "scan_epochs",
            fast,
            "s",
            baseline,
            f"scipy Brent/brentq + eigsh per epoch, {len(epochs)} of {n_epochs} "
            "epochs timed and scaled",
            ratio,
            "< 60 s (full run)",
            None if args.quick else bool(fast < 60),
        )


if __name__ == "__main__":
    main()
