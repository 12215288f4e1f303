"""The descriptor q̄(T) of neuron subsamples against the whole network's.

For networks too big for their whole spin model, Jun Li (arXiv 2508.07397) proposes to
measure the descriptor on a subsample of the neurons. This script does it on a network
whose whole model is still cheap, so that the subsample can be compared with the truth:
a random Kaiming-normal 784-128-128-10 network (weights N(0, 2/N_in), no biases; every
layer a spin layer, layered couplings). For each fraction f (default 0.1, 0.25, 0.5) and
``--seeds`` subsample draws, a random fraction f of every layer's neurons is kept and the
kept couplings are scaled by 1/sqrt(f) (:mod:`replicasolve.studies.subsample`: each kept
neuron's local-field variance is then that of the whole model, in expectation), and q̄(T)
is measured with parallel tempering (block heat-bath engine, hot/cold equilibration check).

Reported, per fraction: N' (spins kept), Δq̄(T) = mean over draws of q̄_sub(T) − q̄_whole(T)
with its error (spread over the draws / sqrt(draws), combined with the whole curve's
thermal error), and max over T of |Δq̄| with the error at that T (the maximum of noisy
values is biased up by about one error).

Checks (PASS/FAIL lines):

1. f = 1 returns the whole model bit for bit (couplings and fields).
2. For i.i.d. weights a subsample *is* a random network of the subsample's sizes with the
   same variance C (so the same multilayer-SK T_c): its mean q̄(T) agrees with the mean over
   as many fresh random networks of those sizes within 4 combined errors at every T.
   So Δq̄ is the finite size of the subsample, nothing else.
3. Convergence: max|Δq̄| at the largest fraction is below that at the smallest by more than
   3 combined errors.
4. Without the 1/sqrt(f) factor (raw kept weights, f = the smallest fraction ≥ 0.25) the
   curve is further from the whole one than the renormalised subsample (the temperature
   scale is off by sqrt(f)).

Measured with the defaults (2026-12-08; 928 s on 2 busy cores; all 12 temperatures
0.9..4 equilibrated in every run; T_c = 1.4896; max over T of |Δq̄| ± its error):

- f = 0.1 (N' = 105): 0.066 ± 0.002 at T = 1.55; f = 0.25 (N' = 263): 0.043 ± 0.013 at
  T = 1.35; f = 0.5 (N' = 525): 0.026 ± 0.006 at T = 1.35. The largest difference sits
  just above T_c and falls roughly as 1/sqrt(N') (0.66 to 0.70 / sqrt(N') at f ≤ 0.25,
  0.60 at 0.5); far above T_c it is the T = ∞ shift of E|Q_ab| (0.053, 0.025, 0.010);
  below T_c (T = 0.9) the subsamples agree with the whole network within their draw-to-draw
  errors (0.223 ± 0.019, 0.260 ± 0.025, 0.229 ± 0.034 against 0.225 ± 0.002).
- Subsamples against fresh networks of their sizes: max z 2.9, 1.4, 2.1 over 12
  temperatures (PASS); without the 1/sqrt(f) factor: max z = 73 (the control fails, as it
  should). So for random networks the subsample is exactly a smaller random network: its
  q̄ is the descriptor of a network of N' spins, and comparisons are meaningful between
  networks subsampled alike (same f), not between a subsample and a whole network.

What this does not test: trained networks. Their weights carry low-rank structure whose
coherent field shrinks by sqrt(f) under the renormalisation (see the module docstring),
so there Δq̄ also contains a bias, which this random-network study cannot see.

    python examples/descriptor_subsample.py --out runs/subsample          # ~15 min, 2 cores
    python examples/descriptor_subsample.py --quick --out runs/subsample  # ~40 s

Writes ``subsample_curves.nc`` (every curve), ``subsample_table.csv`` (one line per
fraction) and ``subsample.png`` into ``--out`` (refused if they exist, unless ``--force``).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

from replicasolve.errors import InvalidInputError, ReplicaSolveError

SIZES = (784, 128, 128, 10)
VARIANCE = 2.0  # Kaiming normal (ReLU gain): W ~ N(0, 2 / N_in)
Z_AGREE = 4.0  # check 2: subsample vs fresh networks, combined standard errors
Z_CONVERGE = 3.0  # check 3
FILES = ("subsample_curves.nc", "subsample_table.csv", "subsample.png")


def random_network(sizes: tuple[int, ...], seed: int) -> dict:
    """Kaiming-normal weights, no biases."""
    rng = np.random.default_rng(seed)
    return {
        "weights": [
            rng.normal(0.0, math.sqrt(VARIANCE / sizes[k]), (sizes[k + 1], sizes[k]))
            for k in range(len(sizes) - 1)
        ]
    }


def curve(system, temps: np.ndarray, seed: int, args: argparse.Namespace):
    """q̄(T) of one spin model (parallel tempering, hot/cold check)."""
    from replicasolve.studies.descriptor import descriptor_curve

    return descriptor_curve(
        system,
        temps,
        replicas=args.replicas,
        sweeps=args.sweeps,
        burn_in=args.burn_in,
        seed=seed,
        parallel_tempering=True,
        engine=args.engine,
        method="heatbath",
        threads=1,
    )


def mean_curve(curves: list) -> tuple[np.ndarray, np.ndarray]:
    """Mean q̄(T) over curves and its error.

    The error is the spread over the curves / sqrt(count) (it contains both the
    draw-to-draw and the thermal scatter), but never less than the thermal errors alone
    (their root mean square / sqrt(count)): with a handful of draws the spread can come out
    near zero by chance, and a z-score against it would mean nothing.
    """
    q = np.array([c["q_bar"].values for c in curves])
    e = np.array([c["q_bar_err"].values for c in curves])
    n = len(curves)
    spread = q.std(axis=0, ddof=1) / math.sqrt(n)
    thermal = np.sqrt((e**2).mean(axis=0) / n)
    return q.mean(axis=0), np.maximum(spread, thermal)


def verdict(ok: bool, text: str) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}: {text}")
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="runs/subsample", help="folder for the files")
    p.add_argument("--force", action="store_true", help="overwrite the files in --out")
    p.add_argument(
        "--quick",
        action="store_true",
        help="small run (< 60 s): 8 temperatures from T = 1, 8 replicas, 3 draws, 600 sweeps",
    )
    p.add_argument("--fractions", default="0.1,0.25,0.5", help="comma list in (0, 1)")
    p.add_argument("--seeds", type=int, default=4, help="subsample draws per fraction")
    p.add_argument("--network-seed", type=int, default=0)
    p.add_argument("--tmin", type=float, default=0.9)
    p.add_argument("--tmax", type=float, default=4.0)
    p.add_argument("--nT", type=int, default=12, help="temperatures (geometric ladder)")
    p.add_argument("--replicas", type=int, default=16)
    p.add_argument("--sweeps", type=int, default=3000)
    p.add_argument("--burn-in", type=int, default=1500)
    p.add_argument("--engine", choices=["block", "single"], default="block")
    args = p.parse_args(argv)
    if args.quick:
        args.nT, args.replicas, args.seeds, args.sweeps, args.burn_in = 8, 8, 3, 600, 300
        args.tmin = max(args.tmin, 1.0)
    try:
        fractions = sorted(float(v) for v in args.fractions.split(","))
    except ValueError:
        p.error("--fractions must be a comma list of numbers")
    if not fractions or not all(0 < f < 1 for f in fractions):
        p.error("--fractions must lie in (0, 1) (f = 1 is the whole network)")
    if args.seeds < 2:
        p.error("--seeds must be >= 2 (the error of a mean needs two draws)")
    out = Path(args.out)
    try:
        return run(args, fractions, out)
    except ReplicaSolveError as exc:
        print(f"descriptor_subsample: error: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, fractions: list[float], out: Path) -> int:
    import xarray as xr

    from replicasolve.models.msk import msk_critical
    from replicasolve.netcdf import write_netcdf
    from replicasolve.studies.descriptor import (
        NetworkSystem,
        network_spin_model,
        paramagnet_q_bar,
    )
    from replicasolve.studies.subsample import subsample_spin_model
    from replicasolve.tap.bonds import LayeredBonds

    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out}: not a folder")
    there = [f for f in FILES if (out / f).exists()]
    if there and not args.force:
        raise InvalidInputError(f"{out / there[0]} exists (pass --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    temps = np.geomspace(args.tmin, args.tmax, args.nT)
    net = random_network(SIZES, args.network_seed)
    whole = network_spin_model(net)
    t_c = msk_critical(SIZES, VARIANCE).T_c
    print(
        f"network {'-'.join(map(str, SIZES))}, Kaiming normal (C = {VARIANCE:g}), no "
        f"biases: N = {whole.n} spins, multilayer-SK T_c = {t_c:.4f}"
    )
    print(
        f"{args.nT} temperatures {args.tmin:g}..{args.tmax:g} (geometric), parallel "
        f"tempering, {args.replicas} replicas, {args.sweeps} sweeps after {args.burn_in}, "
        f"{args.engine} heat-bath engine; {args.seeds} draws per fraction\n"
    )
    ok = []

    print("1. f = 1 is the whole model")
    same = subsample_spin_model(whole, 1.0, seed=0).system
    bitwise = same.h.tobytes() == whole.h.tobytes() and all(
        a.tobytes() == b.tobytes()
        for a, b in zip(same.bonds.weights, whole.bonds.weights, strict=True)
    )
    ok.append(verdict(bitwise, "couplings and fields identical bit for bit"))

    mc_seed = iter(range(10_000, 20_000))
    t0 = time.perf_counter()
    full = curve(whole, temps, next(mc_seed), args)
    q_full, e_full = full["q_bar"].values, full["q_bar_err"].values
    print(
        f"\nwhole network: {time.perf_counter() - t0:.1f} s; equilibrated at "
        f"{int((full['equilibrated'].values == 1).sum())}/{args.nT} temperatures"
    )
    subs: dict[float, list] = {}
    fresh: dict[float, list] = {}
    sizes_of: dict[float, tuple[int, ...]] = {}
    for f in fractions:
        t0 = time.perf_counter()
        subs[f], fresh[f] = [], []
        for s in range(args.seeds):
            sub = subsample_spin_model(whole, f, seed=s)
            sizes_of[f] = sub.construction.spin_sizes
            subs[f].append(curve(sub.system, temps, next(mc_seed), args))
            other = network_spin_model(random_network(sizes_of[f], 1000 + s))
            fresh[f].append(curve(other, temps, next(mc_seed), args))
        n_eq = sum(int((c["equilibrated"].values == 1).sum()) for c in subs[f] + fresh[f])
        print(
            f"f = {f:g}: sizes {'-'.join(map(str, sizes_of[f]))} (N' = {sum(sizes_of[f])},"
            f" MSK T_c = {msk_critical(sizes_of[f], VARIANCE).T_c:.4f}); "
            f"{2 * args.seeds} curves in {time.perf_counter() - t0:.1f} s, equilibrated "
            f"{n_eq}/{2 * args.seeds * args.nT}"
        )
    f_raw = min([f for f in fractions if f >= 0.25] or [max(fractions)])
    raw_curves = []
    for s in range(args.seeds):
        sub = subsample_spin_model(whole, f_raw, seed=s)
        raw = LayeredBonds(tuple(w * math.sqrt(f_raw) for w in sub.system.bonds.weights))
        raw_curves.append(
            curve(NetworkSystem.layered(raw, sub.system.h), temps, next(mc_seed), args)
        )
    everything = [full, *raw_curves] + [c for f in fractions for c in subs[f] + fresh[f]]
    keep = np.all([c["equilibrated"].values == 1 for c in everything], axis=0)

    # ------------------------------------------------------------------ the table
    print(
        f"\nq_bar(T) (mean over {args.seeds} draws +- error) and the whole network's; "
        "'eq' marks the temperatures equilibrated in every run (the only ones compared)"
    )
    head = f"{'T':>7} {'eq':>3} {'whole':>16}" + "".join(
        f" {'f = ' + format(f, 'g'):>16}" for f in fractions
    )
    print(head)
    means = {f: mean_curve(subs[f]) for f in fractions}
    for k, t in enumerate(temps):
        row = f"{t:>7.3f} {'yes' if keep[k] else 'no':>3} {q_full[k]:>8.4f} +- {e_full[k]:.4f}"
        row += "".join(f" {means[f][0][k]:>8.4f} +- {means[f][1][k]:.4f}" for f in fractions)
        print(row)
    if not keep.any():
        print("no temperature equilibrated in every run: nothing compared (more --sweeps)")
        return 1

    print("\nDelta q_bar = mean subsample - whole, over the equilibrated temperatures")
    print(
        f"{'f':>6} {'N_prime':>8} {'max|dq|':>9} {'error':>7} {'at T':>7} "
        f"{'T=inf shift':>12} {'max z fresh':>12} {'max z no-factor':>16}"
    )
    m_raw, e_raw = mean_curve(raw_curves)
    rows = []
    for f in fractions:
        m, e = means[f]
        d = np.where(keep, m - q_full, 0.0)
        de = np.hypot(e, e_full)
        k = int(np.argmax(np.abs(d)))
        mf, ef = mean_curve(fresh[f])
        z_fresh = (np.abs(m - mf) / np.hypot(e, ef))[keep]
        z_raw = (np.abs(m_raw - mf) / np.hypot(e_raw, ef))[keep] if f == f_raw else None
        n_sub = sum(sizes_of[f])
        shift = paramagnet_q_bar(n_sub) - paramagnet_q_bar(whole.n)
        rows.append(
            {
                "fraction": f,
                "n_spins": n_sub,
                "sizes": "-".join(map(str, sizes_of[f])),
                "max_abs_dq": float(abs(d[k])),
                "max_abs_dq_err": float(de[k]),
                "T_at_max": float(temps[k]),
                "mean_dq": float(d[keep].mean()),
                "paramagnet_shift": shift,
                "max_z_vs_fresh": float(z_fresh.max()),
                "max_z_unrenormalised_vs_fresh": (
                    math.nan if z_raw is None else float(z_raw.max())
                ),
            }
        )
        print(
            f"{f:>6g} {n_sub:>8d} {abs(d[k]):>9.4f} {de[k]:>7.4f} {temps[k]:>7.3f} "
            f"{shift:>12.4f} {z_fresh.max():>12.2f} "
            f"{'' if z_raw is None else format(z_raw.max(), '.2f'):>16}"
        )
    with open(out / "subsample_table.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    # ------------------------------------------------------------------ checks
    print(
        f"\n2. subsample = fresh random network of the same sizes (i.i.d. weights): "
        f"within {Z_AGREE:g} combined errors at every equilibrated T"
    )
    for r in rows:
        ok.append(
            verdict(
                r["max_z_vs_fresh"] < Z_AGREE,
                f"f = {r['fraction']:g}: max z = {r['max_z_vs_fresh']:.2f}",
            )
        )
    print(
        f"\n3. convergence: max|Delta q_bar| falls from f = {fractions[0]:g} to "
        f"f = {fractions[-1]:g} by more than {Z_CONVERGE:g} combined errors"
    )
    lo, hi = rows[0], rows[-1]
    gap = lo["max_abs_dq"] - hi["max_abs_dq"]
    gap_err = math.hypot(lo["max_abs_dq_err"], hi["max_abs_dq_err"])
    ok.append(
        verdict(
            gap > Z_CONVERGE * gap_err,
            f"{lo['max_abs_dq']:.4f} -> {hi['max_abs_dq']:.4f} (difference "
            f"{gap:.4f} +- {gap_err:.4f})",
        )
    )
    z_raw_max = next(r for r in rows if r["fraction"] == f_raw)["max_z_unrenormalised_vs_fresh"]
    print(
        f"\n4. control: without the 1/sqrt(f) factor (f = {f_raw:g}) the subsample is not "
        f"a network of its size with the same C (more than {Z_AGREE:g} errors from the "
        "fresh ones)"
    )
    ok.append(verdict(z_raw_max > Z_AGREE, f"max z = {z_raw_max:.2f}"))

    # ------------------------------------------------------------------ files
    def stack(curves: list) -> np.ndarray:
        return np.array([c["q_bar"].values for c in curves])

    ds = xr.Dataset(
        {
            "q_bar_whole": ("T", q_full),
            "q_bar_whole_err": ("T", e_full),
            "q_bar_sub": (("fraction", "draw", "T"), np.stack([stack(subs[f]) for f in fractions])),
            "q_bar_sub_err": (
                ("fraction", "draw", "T"),
                np.stack([[c["q_bar_err"].values for c in subs[f]] for f in fractions]),
            ),
            "q_bar_fresh": (
                ("fraction", "draw", "T"),
                np.stack([stack(fresh[f]) for f in fractions]),
            ),
            "q_bar_unrenormalised": (("draw", "T"), stack(raw_curves)),
            "n_spins": ("fraction", [sum(sizes_of[f]) for f in fractions]),
        },
        coords={"T": temps, "fraction": fractions, "draw": np.arange(args.seeds)},
        attrs={
            "network": "-".join(map(str, SIZES)) + f" Kaiming normal C={VARIANCE:g}, "
            f"seed {args.network_seed}, no biases",
            "replicas": args.replicas,
            "sweeps": args.sweeps,
            "burn_in": args.burn_in,
            "engine": args.engine,
            "unrenormalised_fraction": f_raw,
            "reference": "Jun Li, arXiv 2508.07397 (descriptor, subsampling proposed)",
        },
    )
    write_netcdf(ds, out / "subsample_curves.nc", force=args.force)
    figure(temps, q_full, e_full, means, rows, (f_raw, m_raw, e_raw), out / "subsample.png")
    print(f"\nfiles: {', '.join(str(out / f) for f in FILES)}")
    n_ok = sum(ok)
    print(f"{n_ok}/{len(ok)} checks passed; total {time.perf_counter() - t_start:.0f} s")
    return 0 if all(ok) else 1


def figure(temps, q_full, e_full, means, rows, raw, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from replicasolve.plot import save_figure, style

    style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.errorbar(temps, q_full, e_full, color="k", marker="o", ms=3, label="whole network")
    for f, (m, e) in means.items():
        a.errorbar(temps, m, e, marker=".", capsize=2, label=f"f = {f:g}")
    f_raw, m_raw, e_raw = raw
    a.errorbar(temps, m_raw, e_raw, ls=":", color="grey", label=f"f = {f_raw:g}, no 1/sqrt(f)")
    a.set(xscale="log", xlabel="T", ylabel="q̄(T)", title="descriptor of subsamples")
    a.legend(fontsize=8)
    fr = [r["fraction"] for r in rows] + [1.0]
    dq = [r["max_abs_dq"] for r in rows] + [0.0]
    de = [r["max_abs_dq_err"] for r in rows] + [0.0]
    b.errorbar(fr, dq, de, marker="o", capsize=3, label="max over T of |Δq̄|")
    b.plot(
        fr,
        [r["paramagnet_shift"] for r in rows] + [0.0],
        "k:",
        label="T = ∞ shift E|Q| (N') − E|Q| (N)",
    )
    b.set(xlabel="fraction f", ylabel="|Δq̄|", title="convergence to the whole network")
    b.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, str(path))
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
