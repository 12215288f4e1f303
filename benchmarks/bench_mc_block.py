"""Ising parallel tempering on a layered network: layer-parallel heat bath vs single flips.

Figure: spin updates per second of ``parallel_tempering_block`` (every spin of a layer, for
all replicas and temperatures at once, from one GEMM per neighbouring layer; see
:mod:`replicasolve.engines.block`) on the couplings of the 784-512-512-512-10 network
(``random_layered``, W^l_ij ~ N(0, 2/N_{l-1}), N = 2330 spins, zero fields), with
R = 32 replicas at each of K = 24 temperatures spread evenly over [0.8, 1.2] T_c, T_c the
exact critical temperature of the multilayer SK model for these sizes
(:func:`~replicasolve.models.msk.msk_critical`, 1.7575). One sweep updates each of the
N · K · R = 1.79 M spins once. Timed runs include everything the engine does (uniforms,
exchanges every sweep, a measurement of E, m and all Q_ab every sweep, the final fields);
each is preceded by an untimed warm-up run of one sweep.

Block settings: numpy (OpenBLAS) and torch (CPU), float32 and float64, 1 and 2 BLAS / torch
threads; the best is the figure.

Baseline (same run): the single-spin-flip engine, ``parallel_tempering`` of
:mod:`replicasolve.engines.ising` (numba, sequential sweeps, the layered row-segment
kernel), in float32 and float64, Metropolis and heat bath. Its layered kernel runs on one
thread, so "both cores" means two processes at once, each with half the replicas (16 per
temperature), and the rate is all their updates over the longer wall time; the one-process
rate is printed too. The best single-flip setting is the baseline, and the ratio is
best block / best single flip (spin updates per second).

GEMM fraction. A block sweep multiplies each W^l (and its transpose) by K·R = 768 columns:
2 · 2 · Σ_l N_l N_{l-1} · 768 = 2.86 GFLOP per sweep. In the same run the benchmark times
(i) the sweep's products alone (the same shapes, dtype and threads, back to back) and
(ii) one large product (2048 × 2048 by 2048 × 768) for the machine's GEMM rate; the engine's
useful FLOP rate is printed as a fraction of both. The rest of a sweep (tanh of βU, the
uniforms, the comparisons and the change counts: O(N · K · R) per sweep) is the difference.

The machine is shared: the load average is printed before and after, and "cpu/wall" says
how many cores a run actually got (a 2-thread run with cpu/wall near 1 measured one core).
"M upd/cpu-s" divides the updates by the CPU time instead: for the one-thread settings it is
what one core does whatever share of it the run got, and the last ratio compares those.

Usage: ``python benchmarks/bench_mc_block.py`` (short: 5 timed block sweeps, 2 single-flip
sweeps, best of 2) or ``--long`` (50 and 10 sweeps, best of 3).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_quick, print_result

SIZES = [784, 512, 512, 512, 10]


def load() -> str:
    """The load averages of the machine (1, 5, 15 min)."""
    a = os.getloadavg()
    return f"load average {a[0]:.2f} {a[1]:.2f} {a[2]:.2f} on {os.cpu_count()} cores"


def system_and_ladder(k: int) -> tuple[Any, np.ndarray, float]:
    from replicasolve.engines.ising import IsingSystem
    from replicasolve.models.msk import msk_critical
    from replicasolve.tap.bonds import random_layered

    tc = msk_critical(SIZES, 2.0).T_c
    system = IsingSystem.layered(random_layered(SIZES, 2.0, seed=0))
    return system, np.linspace(0.8 * tc, 1.2 * tc, k), tc


def timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """Best wall time, its cpu/wall, and the last result of ``repeat`` calls of fn()."""
    best, ratio, out = np.inf, 0.0, None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        w = time.perf_counter() - t0
        if w < best:
            best, ratio = w, (time.process_time() - c0) / w
    return best, ratio, out


def block_run(backend: str, dtype: str, threads: int, k: int, r: int, sweeps: int,
              repeat: int) -> tuple[float, float, Any]:
    from replicasolve.engines.block import parallel_tempering_block

    system, temps, _ = system_and_ladder(k)
    kw = dict(replicas_per_T=r, burn_in=0, backend=backend, dtype=dtype, threads=threads,
              seed=0)
    parallel_tempering_block(system, temps, sweeps=1, **kw)  # warm-up (torch, BLAS)
    return timed(lambda: parallel_tempering_block(system, temps, sweeps=sweeps, **kw), repeat)


def single_run(args: tuple[str, str, int, int, int, int, int]) -> tuple[float, float, float]:
    """One single-flip PT run (a worker process may run it): (wall, cpu/wall, acceptance)."""
    method, dtype, k, r, sweeps, repeat, seed = args
    from replicasolve.engines.ising import parallel_tempering

    system, temps, _ = system_and_ladder(k)
    kw = dict(replicas_per_T=r, burn_in=0, method=method, dtype=dtype, seed=seed)
    parallel_tempering(system, temps, sweeps=1, **kw)  # compile and warm up
    w, ratio, pt = timed(lambda: parallel_tempering(system, temps, sweeps=sweeps, **kw),
                         repeat)
    return w, ratio, float(np.mean([x.acceptance for x in pt.results]))


def sweep_gemms(dtype: str, threads: int, cols: int, repeat: int = 5) -> tuple[float, float]:
    """(seconds, FLOP) of the products of one block sweep alone, and the large-GEMM rate."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((SIZES[i + 1], SIZES[i])).astype(dtype)
          for i in range(len(SIZES) - 1)]
    xs = [np.sign(rng.standard_normal((n, cols))).astype(dtype) for n in SIZES]
    outs = [np.empty((n, cols), dtype) for n in SIZES]
    flop = sum(4.0 * w.size * cols for w in ws)
    with threadpool_limits(limits=threads, user_api="blas"):
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            for i, w in enumerate(ws):
                np.matmul(w, xs[i], out=outs[i + 1])
                np.matmul(w.T, xs[i + 1], out=outs[i])
            best = min(best, time.perf_counter() - t0)
    return best, flop


def big_gemm_rate(dtype: str, threads: int, cols: int, repeat: int = 5) -> float:
    """FLOP/s of a 2048 × 2048 by 2048 × ``cols`` product (best of ``repeat``)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(1)
    a = rng.standard_normal((2048, 2048)).astype(dtype)
    b = rng.standard_normal((2048, cols)).astype(dtype)
    out = np.empty((2048, cols), dtype)
    with threadpool_limits(limits=threads, user_api="blas"):
        np.matmul(a, b, out=out)
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - t0)
    return 2.0 * a.shape[0] * a.shape[1] * cols / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long", action="store_true", help="50 / 10 timed sweeps, best of 3")
    ap.add_argument("--temperatures", type=int, default=24, help="K")
    ap.add_argument("--replicas", type=int, default=32, help="R per temperature")
    ap.add_argument("--no-torch", action="store_true", help="skip the torch backend")
    add_quick(ap)
    args = ap.parse_args()
    if args.quick:  # a smoke run: fewer columns, no torch
        args.temperatures, args.replicas, args.no_torch = 4, 8, True
    k, r = args.temperatures, args.replicas
    b_sweeps, s_sweeps, repeat = (50, 10, 3) if args.long else (5, 2, 2)
    system, temps, tc = system_and_ladder(k)
    n, cols = system.n, k * r
    upd = n * cols  # spin updates per sweep
    print(load())
    print(f"784-512-512-512-10, W ~ N(0, 2/N_in), N = {n}; K = {k} temperatures in "
          f"[{temps[0]:.4f}, {temps[-1]:.4f}] (T_c = {tc:.4f}), R = {r}; "
          f"{upd / 1e6:.2f} M spin updates per sweep")

    rows = []
    backends = ["numpy"] + ([] if args.no_torch else ["torch"])
    for backend in backends:
        for dtype in ("float32", "float64"):
            for threads in (1, 2):
                w, ratio, pt = block_run(backend, dtype, threads, k, r, b_sweeps, repeat)
                acc = float(np.mean([x.acceptance for x in pt.results]))
                rate = upd * b_sweeps / w
                rows.append(("block", f"{backend} {dtype} {threads}T", rate, ratio, acc,
                             w / b_sweeps, backend, dtype, threads))
    singles = []
    for method in ("metropolis", "heatbath"):
        for dtype in ("float32", "float64"):
            w, ratio, acc = single_run((method, dtype, k, r, s_sweeps, repeat, 0))
            rows.append(("single", f"{method} {dtype} 1 proc", upd * s_sweeps / w, ratio,
                         acc, w / s_sweeps, "", dtype, 1))
            singles.append((method, dtype))
    # both cores: two processes at once, each with half the replicas
    ctx = mp.get_context("spawn")
    for method, dtype in singles:
        half = r // 2
        with ctx.Pool(2) as pool:
            res = pool.map(single_run, [(method, dtype, k, half, s_sweeps, repeat, s)
                                        for s in (1, 2)])
        w = max(x[0] for x in res)
        rows.append(("single", f"{method} {dtype} 2 procs", 2 * n * k * half * s_sweeps / w,
                     sum(x[1] for x in res), float(np.mean([x[2] for x in res])),
                     w / s_sweeps, "", dtype, 2))
    print(load())

    print(f"\n{'engine':7s} {'setting':28s} {'M upd/s':>9s} {'ms/sweep':>9s} "
          f"{'cpu/wall':>8s} {'M upd/cpu-s':>11s} {'accept':>7s}")
    for eng, name, rate, ratio, acc, per, *_ in rows:
        print(f"{eng:7s} {name:28s} {rate / 1e6:9.2f} {per * 1e3:9.1f} {ratio:8.2f} "
              f"{rate / ratio / 1e6:11.2f} {acc:7.3f}")
    best_b = max((x for x in rows if x[0] == "block"), key=lambda x: x[2])
    best_s = max((x for x in rows if x[0] == "single"), key=lambda x: x[2])
    print(f"\nbest block:  {best_b[1]}: {best_b[2] / 1e6:.2f} M spin updates/s")
    print(f"best single: {best_s[1]}: {best_s[2] / 1e6:.2f} M spin updates/s")
    print(f"ratio block / single-flip (best vs best): {best_b[2] / best_s[2]:.2f}")
    speedup = best_b[2] / best_s[2]
    # per CPU-second of the one-thread, one-process settings: what one core does, whatever
    # share of it the run got on a shared machine (threads that spin inflate the CPU time
    # of the others, so they are left out here)
    one_b = max(x[2] / x[3] for x in rows if x[0] == "block" and x[8] == 1)
    one_s = max(x[2] / x[3] for x in rows if x[0] == "single" and x[8] == 1)
    print(f"per CPU-second on one core: block {one_b / 1e6:.2f}, single flip "
          f"{one_s / 1e6:.2f} M spin updates; ratio {one_b / one_s:.2f}")

    print("\nGEMM fraction (numpy rows; FLOP = 4 Σ N_l N_(l-1) per column per sweep)")
    for eng, name, _, ratio, _, per, backend, dtype, threads in rows:
        if eng != "block" or backend != "numpy":
            continue
        t_g, flop = sweep_gemms(dtype, threads, cols)
        peak = big_gemm_rate(dtype, threads, cols)
        useful = flop / per
        print(f"  {name:22s} engine {useful / 1e9:6.1f} GFLOP/s; sweep GEMMs alone "
              f"{flop / t_g / 1e9:6.1f} GFLOP/s ({t_g * 1e3:.1f} ms) -> {useful * t_g / flop:.2f}"
              f"; large GEMM {peak / 1e9:6.1f} GFLOP/s -> {useful / peak:.2f}")
        if threads == 1:  # per CPU-second (the run may have had part of a core)
            print(f"  {'':22s} per CPU-second: engine {useful / ratio / 1e9:6.1f} GFLOP/s -> "
                  f"{useful / ratio / peak:.2f} of the large GEMM")
    print(load())
    print_result("mc_block", best_b[2] / 1e6, "M spin updates/s", best_s[2] / 1e6,
                 "best single-spin-flip setting, M spin updates/s (ratio = block/single)",
                 speedup, "ratio >= 3", speedup >= 3)


if __name__ == "__main__":
    main()
