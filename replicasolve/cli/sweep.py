"""The ``sweep`` subcommand: run a declarative sweep (TOML) into a netCDF file.

    replicasolve sweep sweep.toml --out diag.nc [--workers N]
                       [--dask local | --scheduler tcp://host:port] [--force] [--json]

Running the same command again after an interruption computes only the missing points.
If ``--out`` already holds this very sweep, nothing is done (status ``complete``); any other
existing file is refused unless ``--force``. The spec is checked before any work.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .args import int_type, jsonable, require_importable

__all__ = ["add_parser", "run"]


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the sweep; 0 done, 3 some points failed."""
    from ..sweeps.run import execute
    from ..sweeps.spec import load_spec

    spec = load_spec(args.spec)  # a bad spec is one line before anything else happens
    if args.dask is not None and args.scheduler is not None:
        raise InvalidInputError("give --dask local or --scheduler ADDRESS, not both")
    if args.workers is not None and args.workers < 1:
        raise InvalidInputError(f"--workers must be >= 1, got {args.workers}")
    if args.dask or args.scheduler:
        require_importable("distributed", "sweep --dask/--scheduler", "dask")
    out = Path(args.out) if args.out else Path(args.spec).with_suffix(".nc")
    executor = "dask" if (args.dask or args.scheduler) else "local"
    r = execute(spec, out, executor=executor, workers=args.workers, scheduler=args.scheduler,
                progress=not (args.quiet or args.json), force=args.force,
                max_hours=None if args.max_hours == 0 else args.max_hours)
    info = {
        "command": "sweep",
        "out": str(r.path),
        "status": r.status,
        "spec_key": spec.key,
        "model": spec.model,
        "quantity": spec.quantity,
        "dims": {n: len(v) for n, v in spec.axes},
        "points": spec.n_points,
        "computed": r.computed,
        "reused": r.reused,
        "failed": r.failed,
        "executor": r.executor,
        "workers": r.workers,
    }
    if r.status == "complete":
        text = f"{r.path} already holds this sweep ({spec.n_points} points): nothing to do"
    else:
        dims = " x ".join(f"{n} {len(v)}" for n, v in spec.axes)
        text = (f"{spec.model} {spec.quantity} over {dims}: {spec.n_points} points "
                f"({r.computed} computed, {r.reused} resumed, {r.failed} failed; "
                f"{r.executor}, {r.workers} worker(s))\nsaved {r.path}")
    if args.json:
        json.dump(info, sys.stdout, default=jsonable)
        sys.stdout.write("\n")
    else:
        print(text)
    if r.failed:
        first = str(r.dataset.attrs.get("errors", "")).splitlines()[:1]
        print(f"replicasolve: warning: {r.failed} point(s) failed (NaN in the file)"
              + (f"; first: {first[0]}" if first else ""), file=sys.stderr)
        return 3
    return 0


def _max_hours(text: str) -> float:
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return v


def add_parser(sub: Any) -> None:
    """Register ``sweep`` on the main parser's subparsers."""
    sw = sub.add_parser(
        "sweep",
        help="run a declarative parameter sweep (TOML) into a netCDF file, resumably",
        description="Compute one quantity over a grid of model parameters described in a "
        "TOML spec ([model] kind and fixed parameters, [axes], quantity, [solver], seed; "
        "see examples/sweeps/) on a local process pool or a Dask cluster. Finished points "
        "are stored as they complete (in OUT.parts/), so running the same command again "
        "after an interruption computes only the missing points. The result is an xarray "
        "Dataset in netCDF with the spec, package version and seed as attributes. If OUT "
        "already holds this very sweep nothing is done; another existing file is refused "
        "unless --force. Exit status: 0 done; 2 bad input (one line on stderr); 3 some "
        "points failed (NaN in the file, a warning on stderr); 4 the Dask scheduler or its "
        "workers were lost mid-run (the finished points are kept: the same command "
        "resumes). Pool workers exit when this process dies.",
    )
    sw.add_argument("spec", help="the sweep spec (TOML file)")
    sw.add_argument("--out", help="netCDF file (default: the spec's name with .nc)")
    sw.add_argument("--workers", type=int_type(),
                    help="processes (default: all cores; 1 runs serially in this process); "
                    "with --dask local, the number of Dask workers")
    sw.add_argument("--dask", choices=["local"],
                    help="run on a Dask LocalCluster started for this run")
    sw.add_argument("--scheduler", metavar="ADDRESS",
                    help="run on an existing Dask cluster, e.g. tcp://host:8786")
    sw.add_argument("--force", action="store_true", help="let --out overwrite an existing file")
    sw.add_argument("--max-hours", type=_max_hours, default=24.0,
                    help="refuse up front a sweep whose timed sample says it would take "
                    "longer than this many hours (0: no limit; default %(default)s)")
    sw.add_argument("--quiet", action="store_true", help="no progress line")
    sw.add_argument("--json", action="store_true", help="print one JSON object")
    sw.set_defaults(func=run)
