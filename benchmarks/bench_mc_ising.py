"""Ising replica Monte Carlo, dense couplings: 32 replicas swept together vs one at a time.

Figure: spin-flip attempts per second of ``run_replicas`` (Metropolis, sequential sweeps,
overlaps measured at the end of the timed run) on an SK-like instance, J_ij ~ N(0, 1/N),
with N = 2330 spins (the size of the 784-512-512-512-10 MNIST network), 32 replicas, at
T = 1 = T_c of SK (Metropolis acceptance ≈ 0.32: the realistic regime near T_c), for J and
the local fields in float32 and in float64. The timed runs start from an equilibrated state
and include everything the engine does (uniforms drawn by numpy, field resyncs, the initial
field computation).

Bandwidth. "J traffic" counts one read of row i of J per spin update for all replicas
(N² · itemsize bytes per sweep), what the replica batching is about. "Field traffic" counts
the read + write of N local fields per accepted flip; those fields (R · N · itemsize, ~0.3 MB
in float32) live in the L2 cache, not in main memory. Both are printed as fractions of the
machine's streaming bandwidth, measured in the same run as the bytes read + written per
second by a numpy copy of a 1 GiB array (best of 3). Note that at N = 2330 a float32 J
(21.7 MB) fits in a 32 MB L3 cache; ``--n 8000`` gives a J that does not.

Baseline (same run): the same engine with one replica (R = 1): each replica then brings
row i of J in for itself, once per accepted flip. Ratio = flips/s(R = 32) / flips/s(R = 1).

Target (issue #7): J traffic at ≥ 1/2 of the streaming bandwidth at acceptance rates near
T_c.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from replicasolve.mc.ising import IsingSystem, run_replicas


def streaming_bandwidth(gib: float = 1.0, repeat: int = 3) -> float:
    """Bytes read + written per second by ``np.copyto`` of a ``gib`` GiB float64 array."""
    a = np.ones(int(gib * 2**30) // 8)
    b = np.empty_like(a)
    np.copyto(b, a)  # touch every page first
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best


def sk_like(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = np.triu(rng.standard_normal((n, n)) / np.sqrt(n), 1)
    return g + g.T


def timed(system: IsingSystem, T: float, replicas: int, sweeps: int, dtype: str,
          start: np.ndarray, repeat: int) -> tuple[float, float]:
    """Best wall time of ``repeat`` runs of ``sweeps`` sweeps, and the acceptance."""
    best, acc = np.inf, 0.0
    for k in range(repeat):
        res = run_replicas(system, T, replicas=replicas, sweeps=sweeps, burn_in=0,
                           measure_every=sweeps, dtype=dtype, start=start, seed=k,
                           overlaps=replicas > 1)
        best = min(best, res.wall_time)
        acc = res.acceptance
    return best, acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sweeps (a smoke run)")
    ap.add_argument("--n", type=int, default=2330, help="number of spins")
    ap.add_argument("--replicas", type=int, default=32)
    ap.add_argument("--T", type=float, default=1.0, help="temperature (T_c of SK is 1)")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats (best is kept)")
    ap.add_argument("--dtypes", default="float32,float64")
    args = ap.parse_args()
    sweeps = 10 if args.quick else 60
    warm = 20 if args.quick else 100
    repeat = 1 if args.quick else args.repeat
    n, r = args.n, args.replicas

    stream = streaming_bandwidth(0.25 if args.quick else 1.0)
    print(f"streaming bandwidth (numpy copy, read + write): {stream / 1e9:.1f} GB/s")
    system = IsingSystem.dense(sk_like(n))
    print(f"SK-like J_ij ~ N(0, 1/N), N = {n}, T = {args.T}, Metropolis, {r} replicas, "
          f"{sweeps} timed sweeps (best of {repeat}); baseline R = 1, {sweeps * 8} sweeps")
    for dtype in args.dtypes.split(","):
        item = np.dtype(dtype).itemsize
        eq = run_replicas(system, args.T, replicas=r, sweeps=warm, burn_in=0,
                          measure_every=warm, dtype=dtype, overlaps=False, seed=99)
        t_many, acc = timed(system, args.T, r, sweeps, dtype, eq.spins, repeat)
        t_one, acc1 = timed(system, args.T, 1, sweeps * 8, dtype, eq.spins[:, :1], repeat)
        flips_many = n * r * sweeps / t_many
        flips_one = n * 1 * sweeps * 8 / t_one
        j_bw = sweeps * n * n * item / t_many
        f_bw = acc * n * r * sweeps * n * item * 2 / t_many
        print(f"\n[{dtype}] J = {n * n * item / 1e6:.1f} MB, acceptance {acc:.3f}")
        print(f"  R = {r:2d}: {flips_many / 1e6:7.2f} M flip attempts/s "
              f"({t_many:.3f} s for {sweeps} sweeps)")
        print(f"  R =  1: {flips_one / 1e6:7.2f} M flip attempts/s "
              f"({t_one:.3f} s for {sweeps * 8} sweeps, acceptance {acc1:.3f})")
        print(f"  J traffic     {j_bw / 1e9:6.2f} GB/s = {j_bw / stream:.2f} of streaming")
        print(f"  field traffic {f_bw / 1e9:6.2f} GB/s = {f_bw / stream:.2f} of streaming "
              "(cache resident)")
        print(f"  J + fields    {(j_bw + f_bw) / 1e9:6.2f} GB/s = "
              f"{(j_bw + f_bw) / stream:.2f} of streaming")
        met = j_bw >= 0.5 * stream
        print(f"  RATIO R={r} / R=1 = {flips_many / flips_one:.2f}   target J traffic >= 0.5 "
              f"of streaming: {'met' if met else 'NOT met'} ({j_bw / stream:.2f})")


if __name__ == "__main__":
    main()
