"""Ising replica Monte Carlo, dense couplings: blocked (delayed) field updates vs per flip.

Figure: spin-flip attempts per second of ``run_replicas`` (Metropolis, sequential sweeps)
on an SK-like instance, J_ij ~ N(0, 1/N), with N = 2330 spins (the size of the
784-512-512-512-10 MNIST network), R = 8, 32 and 64 replicas, at T = 1 = T_c of SK
(Metropolis acceptance ≈ 0.32: the realistic regime near T_c), for J and the local fields
in float64 (the default) and float32. The timed runs start from an equilibrated state and
include everything the engine does (uniforms drawn by numpy, field resyncs, the initial
field computation, the final overlaps).

Baseline (same run, interleaved with the timed runs): the same engine with the unblocked
per-flip kernel (``ising._DENSE_BLOCK = 0``: after each spin, every replica that flipped
adds row i of J to its N fields), which is what the engine did before the blocked kernel.
Both runs use the same seed and start, and the benchmark checks that they end in
bitwise-identical states (the blocked kernel changes the speed, not the trajectory).
Ratio = flips/s(blocked) / flips/s(per flip), from the best of ``--repeat`` runs each.

Bandwidth accounting. "J traffic" is N² · itemsize bytes per sweep: every row of J is
read from memory once per sweep for all R replicas (the blocked kernel reads each block of
B rows once and serves all replicas from cache; the per-flip kernel reads row i once per
spin while R ≥ 8 replicas practically always flip some of it). Fields (R · N · itemsize,
0.6 MB at R = 32 in float64), the B × B sub-block of J read while deciding and the uniforms
are not counted. It is printed as a fraction of the machine's streaming bandwidth, measured
in the same run as the bytes read + written per second by a numpy copy of a 1 GiB array
(best of 3 copies, before and after the timed runs; the larger is used). Caveat: a float32
J at N = 2330 (21.7 MB) fits in a 32 MB L3 cache, so its "traffic" may be served by the
L3; ``--n 8000`` gives a J that does not fit in either precision.

The arithmetic floor: whatever the scheme, each accepted flip must change N fields, so a
sweep costs acceptance · R · N² field additions; at R = 32 in float64 that is 0.32 · 32 =
10 additions per 8-byte J element streamed, which bounds the J traffic by the core's
addition rate rather than by memory. Target (issue #7): J traffic ≥ 1/2 of streaming at
acceptance rates near T_c.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from replicasolve.mc import ising
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


def one_run(system: IsingSystem, T: float, replicas: int, sweeps: int, dtype: str,
            start: np.ndarray, block: int) -> tuple[float, float, ising.MCResult]:
    """Wall time and process CPU time of one run with dense block size ``block``."""
    saved = ising._DENSE_BLOCK
    ising._DENSE_BLOCK = block
    try:
        c0 = time.process_time()
        res = run_replicas(system, T, replicas=replicas, sweeps=sweeps, burn_in=0,
                           measure_every=sweeps, dtype=dtype, start=start, seed=1)
        cpu = time.process_time() - c0
    finally:
        ising._DENSE_BLOCK = saved
    return res.wall_time, cpu, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sweeps (a smoke run)")
    ap.add_argument("--n", type=int, default=2330, help="number of spins")
    ap.add_argument("--replicas", default="8,32,64", help="comma-separated R values")
    ap.add_argument("--T", type=float, default=1.0, help="temperature (T_c of SK is 1)")
    ap.add_argument("--repeat", type=int, default=3, help="timed repeats (best is kept)")
    ap.add_argument("--dtypes", default="float64,float32")
    args = ap.parse_args()
    sweeps = 8 if args.quick else 40
    warm = 20 if args.quick else 100
    repeat = 1 if args.quick else args.repeat
    n = args.n
    block = ising._DENSE_BLOCK

    stream0 = streaming_bandwidth(0.25 if args.quick else 1.0)
    print(f"streaming bandwidth (numpy copy, read + write): {stream0 / 1e9:.1f} GB/s")
    system = IsingSystem.dense(sk_like(n))
    print(f"SK-like J_ij ~ N(0, 1/N), N = {n}, T = {args.T}, Metropolis, {sweeps} timed "
          f"sweeps, best (median) of {repeat}; blocked B = {block} vs per-flip baseline")
    rows = []
    for dtype in args.dtypes.split(","):
        item = np.dtype(dtype).itemsize
        for r in (int(x) for x in args.replicas.split(",")):
            eq = run_replicas(system, args.T, replicas=r, sweeps=warm, burn_in=0,
                              measure_every=warm, dtype=dtype, overlaps=False, seed=99)
            times: dict[int, list[tuple[float, float]]] = {0: [], block: []}
            final = {}
            for _ in range(repeat):  # interleaved, so slow phases of the machine hit both
                for b in (0, block):
                    wall, cpu, res = one_run(system, args.T, r, sweeps, dtype, eq.spins, b)
                    times[b].append((wall, cpu))
                    final[b] = res
            same = all(getattr(final[0], k).tobytes() == getattr(final[block], k).tobytes()
                       for k in ("spins", "fields", "energies", "overlaps"))
            rows.append((dtype, item, r, times, final[block].acceptance, same))
    stream1 = streaming_bandwidth(0.25 if args.quick else 1.0)
    stream = max(stream0, stream1)
    print(f"streaming bandwidth again after the runs: {stream1 / 1e9:.1f} GB/s; "
          f"using {stream / 1e9:.1f} GB/s")
    print(f"\n{'dtype':8s} {'R':>3s} {'accept':>6s} | {'per-flip M flips/s':>19s} "
          f"{'J/stream':>8s} | {'blocked M flips/s':>18s} {'J/stream':>8s} | "
          f"{'ratio':>5s} {'cpu ratio':>9s} identical")
    for dtype, item, r, times, acc, same in rows:
        work = n * r * sweeps
        jbytes = sweeps * n * n * item

        def stats(b: int, k: int, times=times) -> tuple[float, float]:
            ts = [x[k] for x in times[b]]
            return min(ts), float(np.median(ts))

        (w0, w0m), (w1, w1m) = stats(0, 0), stats(block, 0)
        c0, c1 = stats(0, 1)[0], stats(block, 1)[0]
        print(f"{dtype:8s} {r:3d} {acc:6.3f} | {work / w0 / 1e6:7.2f} ({work / w0m / 1e6:6.2f})"
              f"     {jbytes / w0 / stream:8.2f} | {work / w1 / 1e6:7.2f} "
              f"({work / w1m / 1e6:6.2f})    {jbytes / w1 / stream:8.2f} | "
              f"{w0 / w1:5.2f} {c0 / c1:9.2f} {'yes' if same else 'NO'}")
    print("\n(flips/s: best (median) wall time; J/stream: J traffic of the best run as a "
          "fraction of streaming; cpu ratio: the same ratio from process CPU time)")
    best = max(n * n * item * sweeps / min(x[0] for x in times[block]) / stream
               for dtype, item, r, times, acc, same in rows if r >= 32)
    print(f"target J traffic >= 0.5 of streaming at R >= 32: "
          f"{'met' if best >= 0.5 else 'NOT met'} (best {best:.2f})")
    if not all(same for *_, same in rows):
        raise SystemExit("blocked and per-flip runs differ: the blocked kernel is wrong")


if __name__ == "__main__":
    main()
