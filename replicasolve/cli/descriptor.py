"""The ``descriptor`` subcommand: the spin-glass descriptor q̄(T) of one network
(Jun Li, arXiv 2508.07397), built on :mod:`replicasolve.studies.descriptor`.

numba, torch, xarray and matplotlib are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
from typing import Any

from ..errors import InvalidInputError
from .args import check_out, float_type, int_type, require_memory, seed_type

__all__ = ["add_parser", "equilibration_advice", "parse_input_shape", "parse_temperatures",
           "run"]

_MAX_TEMPERATURES = 10_000
# A run that asks for more single-spin updates than this cannot finish: at ~1e7 updates/s
# (a 2330-spin network, 32 replicas, 6.7 ms per sweep) it would take about four months.
_MAX_SPIN_UPDATES = 1e14
_UPDATES_PER_SECOND = 1e7
_T_FORMAT = "--T is TMIN:TMAX:COUNT or a comma list, got {text!r}"


def parse_temperatures(text: str) -> list[float]:
    """``--T``: ``A:B:N`` (N equally spaced temperatures from A to B) or a comma list.

    Raises:
        InvalidInputError: not numbers, N < 1, a T ≤ 0 or not finite, or a ladder that is
            not strictly increasing.
    """
    import numpy as np

    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        try:
            if len(parts) != 3:
                raise ValueError
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise InvalidInputError(_T_FORMAT.format(text=text)) from None
        if not (1 <= n <= _MAX_TEMPERATURES):
            raise InvalidInputError(f"--T needs 1..{_MAX_TEMPERATURES} temperatures, got {n}")
        if n == 1 and a != b:
            raise InvalidInputError(f"--T {text}: one temperature needs TMIN = TMAX")
        temps = [float(v) for v in np.linspace(a, b, n)]
    else:
        try:
            temps = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise InvalidInputError(_T_FORMAT.format(text=text)) from None
        if not temps:
            raise InvalidInputError("--T is empty")
    if not all(math.isfinite(t) and t > 0 for t in temps):
        raise InvalidInputError(f"--T: temperatures must be positive and finite, got {text!r}")
    if any(b <= a for a, b in itertools.pairwise(temps)):
        raise InvalidInputError(f"--T: temperatures must be strictly increasing, got {text!r}")
    return temps


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``--input-shape``: ``C,H,W`` (or ``N``), whole numbers >= 1, no batch dimension.

    Raises:
        InvalidInputError: not one or three whole numbers >= 1.
    """
    try:
        vals = tuple(int(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) not in (1, 3) or not all(v >= 1 for v in vals):
        raise InvalidInputError(f"--input-shape is C,H,W (or N) of whole numbers >= 1, got "
                                f"{text!r}")
    return vals


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidInputError(f"{what} must be a comma list of numbers, got {text!r}") from None
    if not values:
        raise InvalidInputError(f"{what} is empty")
    return values


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _table(ds: Any) -> str:
    c = ds.attrs.get("construction") or {}
    block = ds.attrs.get("engine") == "block"
    engine = f" (block engine, {ds.attrs.get('backend')} on {ds.attrs.get('device')})" \
        if block else ""
    lines = [
        f"spin-glass descriptor q_bar(T) (arXiv 2508.07397) of {c.get('source', '?')}"
        + (f", epoch {c['epoch']}" if c.get("epoch") is not None else ""),
        f"  network {'-'.join(map(str, c.get('network_sizes', [])))}; "
        f"{c.get('couplings')} couplings, fields: {c.get('fields')}; spin layers "
        f"{c.get('spin_layers')} (N = {ds.attrs['n_spins']}), scale {c.get('scale', 1):g}",
        *([f"  subsample: a fraction {c['subsample_fraction']:g} of every spin layer "
           f"(seed {c.get('subsample_seed')}), couplings renormalised"]
          if c.get("subsample_fraction") is not None else []),
        f"  {ds.attrs['replicas']} replicas, {ds.attrs['method']}"
        f"{engine}"
        f"{' + parallel tempering' if ds.attrs['parallel_tempering'] else ''}, "
        f"{ds.attrs['sweeps']} sweeps after {ds.attrs['burn_in']}, seed entropy "
        f"{ds.attrs['seed_entropy']}; T in units of the couplings",
        f"  paramagnet (T = inf): q_bar = {ds.attrs['q_bar_paramagnet']:.6f}",
        f"{'T':>9} {'q_bar':>18} {'E/N':>20} {'chi_SG':>18} {'Binder':>16} {'acc':>6} "
        f"{'tau_|q|':>8}  equilibrated",
    ]
    flags = {1: "yes", 0: "NO", -1: "-"}
    for k, t in enumerate(ds["T"].values):
        def pm(name: str, spec: str, k: int = k) -> str:
            return (f"{format(float(ds[name].values[k]), spec)} +- "
                    f"{float(ds[name + '_err'].values[k]):.1g}")

        lines.append(
            f"{t:>9.4g} {pm('q_bar', '.4f'):>18} {pm('energy', '.5f'):>20} "
            f"{pm('chi_sg', '.4g'):>18} {pm('binder', '.3f'):>16} "
            f"{float(ds['acceptance'].values[k]):>6.3f} {float(ds['tau_abs_q'].values[k]):>8.3g}"
            f"  {flags[int(ds['equilibrated'].values[k])]}"
        )
    if "pq" in ds.variables:
        lines.append(f"  P(q) stored at T = {[round(float(v), 6) for v in ds['T_pq'].values]}")
    return "\n".join(lines)


def _json(ds: Any, out: str | None, plot: str | None) -> dict:
    rows = []
    for k, t in enumerate(ds["T"].values):
        row = {"T": float(t)}
        for name in ("q_bar", "energy", "q2", "chi_sg", "binder", "abs_magnetization"):
            row[name] = _num(ds[name].values[k])
            row[name + "_err"] = _num(ds[name + "_err"].values[k])
        for name in ("acceptance", "tau_energy", "tau_abs_q", "z_energy", "z_q2"):
            row[name] = _num(ds[name].values[k])
        flag = int(ds["equilibrated"].values[k])
        row["equilibrated"] = None if flag < 0 else bool(flag)
        rows.append(row)
    info = {
        "command": "descriptor",
        "version": ds.attrs["version"],
        "construction": ds.attrs.get("construction"),
        "n_spins": int(ds.attrs["n_spins"]),
        "q_bar_paramagnet": ds.attrs["q_bar_paramagnet"],
        "settings": {k: ds.attrs.get(k) for k in ("replicas", "sweeps", "burn_in", "method",
                                                  "engine", "backend", "device",
                                                  "parallel_tempering", "equilibration",
                                                  "seed_entropy")},
        "rows": rows,
        "out": out,
        "plot": plot,
    }
    if "pq" in ds.variables:
        info["pq"] = {"T": [float(v) for v in ds["T_pq"].values],
                      "q": [float(v) for v in ds["q_bin"].values],
                      "density": [[float(v) for v in row] for row in ds["pq"].values]}
    return info


def run(args: argparse.Namespace) -> int:
    """Measure q_bar(T) of the network; save, draw and print it."""
    # every argument and both output paths are checked before the (long) simulation
    temps = parse_temperatures(args.T)
    if args.pt is True and len(temps) < 2:
        raise InvalidInputError("--pt needs at least 2 temperatures")
    # Default: parallel tempering whenever there is a ladder. Below T_c independent runs can
    # be stuck alike in hot and cold starts and agree on a q_bar far too small (see
    # descriptor_curve); the exchange costs nothing extra per sweep.
    use_pt = len(temps) >= 2 if args.pt is None else args.pt
    pq_at = _floats(args.pq_at, "--pq-at") if args.pq_at else None
    if pq_at is not None and not all(math.isfinite(v) and v > 0 for v in pq_at):
        raise InvalidInputError(f"--pq-at: temperatures must be positive, got {args.pq_at!r}")
    for name in ("replicas", "sweeps", "burn_in"):
        v = getattr(args, name)
        low = {"replicas": 2, "sweeps": 1, "burn_in": 0}[name]
        if v < low:
            raise InvalidInputError(f"--{name.replace('_', '-')} must be >= {low}, got {v}")
    if args.out is not None:
        check_out(args.out, args.force, "--out")
    if args.plot is not None:
        check_out(args.plot, args.force, "--plot")
        if os.path.splitext(args.plot)[1].lower() not in (".png", ".pdf", ".svg"):
            raise InvalidInputError(f"--plot {args.plot}: suffix must be .png, .pdf or .svg")
    if args.out is None and args.plot is None and args.force:
        raise InvalidInputError("--force only applies together with --out or --plot")
    if args.engine == "single" and args.device != "cpu":
        raise InvalidInputError(f"--device {args.device} needs --engine block")
    if args.device != "cpu":
        from ..engines.block import check_backend

        check_backend("torch", args.device)
    input_shape = None if args.input_shape is None else parse_input_shape(args.input_shape)
    if input_shape is not None and not str(args.model).lower().endswith(".json"):
        raise InvalidInputError("--input-shape applies to a .json network description "
                                f"(a convolutional network), not to {args.model}")

    if args.subsample is None and args.subsample_seed is not None:
        raise InvalidInputError("--subsample-seed only applies together with --subsample")

    from ..studies.descriptor import descriptor_curve, network_spin_model, save_descriptor

    system = network_spin_model(
        args.model, couplings=args.couplings, biases=not args.no_biases,
        include_input=not args.no_input, include_output=not args.no_output, scale=args.scale,
        epoch=args.epoch, input_shape=input_shape,
    )
    if args.subsample is not None:
        from ..studies.subsample import subsample_spin_model

        seed = 0 if args.subsample_seed is None else args.subsample_seed
        system = subsample_spin_model(system, args.subsample, seed=seed).system
    from ..progress import Reporter

    _check_cost(args, system.construction.n_spins, len(temps))
    with Reporter("descriptor", enabled=not (args.quiet or args.json)) as progress:
        ds = descriptor_curve(
            system, temps, replicas=args.replicas, sweeps=args.sweeps, burn_in=args.burn_in,
            seed=args.seed, method=args.method, parallel_tempering=use_pt, pq_at=pq_at,
            equilibration=args.equilibration, progress=progress, engine=args.engine,
            backend="numpy" if args.device == "cpu" else "torch", device=args.device,
        )
    if args.out is not None:
        save_descriptor(ds, args.out, force=args.force)
    if args.plot is not None:
        from ..plot.descriptor import plot_descriptor

        plot_descriptor(ds, args.plot, force=args.force)
    if args.json:
        json.dump(_json(ds, args.out, args.plot), sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        text = _table(ds)
        if args.out is not None:
            text += f"\nsaved {args.out}"
        if args.plot is not None:
            text += f"\nfigure {args.plot}"
        print(text)
    bad = [float(t) for t, f in zip(ds["T"].values, ds["equilibrated"].values, strict=True)
           if int(f) == 0]
    if bad:
        advice = equilibration_advice(use_pt, len(temps))
        print(f"replicasolve: warning: not equilibrated at T = {[round(t, 6) for t in bad]} "
              f"(hot and cold starts disagree, or the run is shorter than "
              f"{ds.attrs['tau_factor']:g} autocorrelation times): {advice}", file=sys.stderr)
    return 0


def equilibration_advice(parallel_tempering: bool, n_temperatures: int) -> str:
    """What to try when some temperature is not equilibrated, given what was on."""
    if parallel_tempering:
        return ("more --burn-in / --sweeps, or more temperatures in the ladder (--T; "
                "parallel tempering is already on)")
    if n_temperatures >= 2:
        return "more --burn-in / --sweeps, or parallel tempering (--pt)"
    return ("more --burn-in / --sweeps, or parallel tempering over a ladder of temperatures "
            "(--T TMIN:TMAX:COUNT)")


def _check_cost(args: argparse.Namespace, n_spins: int, n_temps: int) -> None:
    """Refuse, before the simulation, a run that cannot finish or whose measurements
    would not fit in memory (the line says how much was asked)."""
    runs = 2 if args.equilibration == "hotcold" else 1
    sweeps = args.sweeps + args.burn_in
    updates = float(n_spins) * args.replicas * n_temps * sweeps * runs
    if updates > _MAX_SPIN_UPDATES:
        days = updates / _UPDATES_PER_SECOND / 86400
        raise InvalidInputError(
            f"the run asks for {updates:.3g} single-spin updates (N = {n_spins} spins x "
            f"{args.replicas} replicas x {n_temps} temperatures x {sweeps:.6g} sweeps"
            f"{' x 2 for the hot/cold check' if runs == 2 else ''}): about {days:.3g} days "
            f"at {_UPDATES_PER_SECOND:.0e} updates/s; the limit is {_MAX_SPIN_UPDATES:.0e}")
    r = args.replicas
    # per measurement (every sweep) and temperature: energies and magnetizations of the R
    # replicas and the R(R-1)/2 overlaps, float64; the hot run is kept while the cold runs
    per_sweep = 8 * n_temps * (2 * r + r * (r - 1) // 2) * runs
    require_memory(float(per_sweep) * args.sweeps + 16.0 * n_spins * r * n_temps,
                    f"storing the measurements of {args.sweeps} sweeps x {r} replicas x {n_temps} "
                    "temperatures")


def add_parser(sub: Any) -> None:
    """Register ``descriptor`` on the main parser's subparsers."""
    d = sub.add_parser(
        "descriptor",
        help="spin-glass descriptor q_bar(T) of one network (replica Monte Carlo)",
        description="Turn a trained or random network into an Ising model (neurons -> spins; "
        "default: adjacent-layer couplings W, biases as fields) and measure the mean absolute "
        "replica overlap q_bar(T) = mean_{a!=b} |Q_ab| (Jun Li, arXiv 2508.07397) with error "
        "bars, E/N, chi_SG, Binder cumulant and a hot/cold equilibration check at each "
        "temperature. MODEL: a .pt state dict or checkpoint, an .npz (training snapshot or "
        "plain weights), a training run directory (with --epoch; default the last), or a "
        "convolutional network as a .json description (format replicasolve-cnn/1: input "
        "shape, layers conv2d / flatten / linear / activations, and the name of a state dict "
        "read with torch.load(weights_only=True) or an .npz; write one with "
        "replicasolve.tap.conv.save_conv_spec). Files are never unpickled: a .pt holding a "
        "whole pickled module is refused. "
        "Temperatures are in the units of the weights. Bad input: one line on stderr, "
        "exit status 2.",
    )
    d.add_argument("model", metavar="MODEL", help="weights file, training run directory, or "
                   ".json description of a convolutional network")
    d.add_argument("--input-shape", metavar="C,H,W",
                   help="the shape of one input of a .json convolutional network (only needed "
                   "when the description has none; must agree with it otherwise)")
    d.add_argument("--epoch", type=int_type(0), help="epoch of a training run directory")
    d.add_argument("--T", default="0.2:3:30", metavar="TMIN:TMAX:COUNT",
                   help="temperatures: COUNT values from TMIN to TMAX, or a comma list "
                   "(strictly increasing, > 0; default 0.2:3:30)")
    d.add_argument("--replicas", type=int_type(), default=16,
                   help="replicas per temperature (>= 2)")
    d.add_argument("--sweeps", type=int_type(), default=2000,
                   help="production sweeps (1e4 is read as 10000)")
    d.add_argument("--burn-in", type=int_type(), default=1000, help="sweeps discarded first")
    d.add_argument("--couplings", choices=["layered", "hebbian"], default="layered",
                   help="layered: J between adjacent layers = W (default); hebbian: W^T W "
                   "within each layer (zero diagonal)")
    d.add_argument("--no-biases", action="store_true", help="no fields (ignore the biases)")
    d.add_argument("--no-input", action="store_true",
                   help="remove the input layer (its spins and couplings)")
    d.add_argument("--no-output", action="store_true",
                   help="remove the output layer (its spins and couplings)")
    d.add_argument("--subsample", type=float_type, metavar="FRACTION",
                   help="simulate a random FRACTION in (0, 1] of every spin layer's neurons, "
                   "kept couplings times 1/sqrt(fraction of the layer below) so that each "
                   "kept neuron's field keeps its variance (layered couplings only)")
    d.add_argument("--subsample-seed", type=int_type(0), metavar="N",
                   help="seed of the --subsample draw (default 0)")
    d.add_argument("--scale", type=float_type, default=1.0,
                   help="multiply couplings and fields (> 0)")
    d.add_argument("--method", choices=["metropolis", "heatbath"], default="metropolis",
                   help="single-spin update rule (--engine single; the block engine is heat "
                   "bath)")
    d.add_argument("--engine", choices=["single", "block"], default="single",
                   help="single: single-spin flips (any couplings); block: every spin of a "
                   "layer resampled at once by heat bath from one matrix product (layered "
                   "couplings only; several times faster on a network)")
    d.add_argument("--device", default="cpu",
                   help="--engine block: cpu (numpy/BLAS), or cuda / cuda:N (torch on a GPU)")
    pt = d.add_mutually_exclusive_group()
    pt.add_argument("--pt", dest="pt", action="store_true", default=None,
                    help="parallel tempering over the ladder (the default for >= 2 "
                    "temperatures)")
    pt.add_argument("--no-pt", dest="pt", action="store_false",
                    help="independent runs per temperature (no replica exchange)")
    d.add_argument("--equilibration", choices=["hotcold", "none"], default="hotcold",
                   help="hotcold: a second run from a cold start checks equilibration "
                   "(default; doubles the cost); none: skip it")
    d.add_argument("--pq-at", metavar="T1,T2", help="store P(q) at the ladder temperatures "
                   "nearest to these")
    d.add_argument("--seed", type=seed_type, default=0,
                   help="seed of the Monte Carlo (default 0)")
    d.add_argument("--out", metavar="FILE.nc", help="save the curve as netCDF (atomically; an "
                   "existing file is refused unless --force)")
    d.add_argument("--plot", metavar="FIG.png", help="draw q_bar(T) and P(q) (png, pdf, svg)")
    d.add_argument("--force", action="store_true", help="let --out / --plot overwrite")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.add_argument("--quiet", action="store_true",
                   help="no progress line (it is only drawn when stderr is a terminal)")
    d.set_defaults(func=run)
