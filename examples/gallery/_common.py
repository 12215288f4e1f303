"""Shared plumbing of the gallery scripts: arguments, output files, sweeps, figures, verdicts.

Not a public API: each gallery script imports it from its own folder.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from replicasolve.errors import InvalidInputError

HERE = Path(__file__).resolve().parent
PHASE_COLOURS = {0: "#4c72b0", 1: "#dd8452", 2: "#c44e52", 3: "#8172b3"}  # as plot.sweep
PHASE_NAMES = {0: "RS", 1: "RSB", 2: "1RSB", 3: "FRSB"}


def parse_args(doc: str, argv: Sequence[str] | None) -> argparse.Namespace:
    """``--out`` (default ./gallery_out), ``--force``, ``--quick``, ``--workers``."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--out", default="gallery_out", help="output folder (default ./gallery_out)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument("--quick", action="store_true",
                   help="tiny axes (a smoke test in seconds, not the figure)")
    p.add_argument("--workers", type=int, default=1,
                   help="sweep processes (default 1: serial, in this process)")
    args = p.parse_args(list(argv) if argv is not None else None)
    if args.workers < 1:
        raise InvalidInputError(f"--workers must be >= 1, got {args.workers}")
    return args


def load_toml(name: str) -> dict[str, Any]:
    """The sweep spec ``name`` of this folder as a dict (to adjust before running)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    with open(HERE / name, "rb") as handle:
        return tomllib.load(handle)


def claim(out: Path, names: Sequence[str], force: bool) -> list[Path]:
    """The output paths ``out/name``; refused (before any work) if any exists, unless
    ``force``."""
    paths = [out / n for n in names]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise InvalidInputError(f"{', '.join(existing)} already exist(s) (use --force)")
    out.mkdir(parents=True, exist_ok=True)
    return paths


def sweep(spec: Mapping[str, Any], nc: Path, workers: int) -> Any:
    """Run a sweep spec (dict) through :func:`replicasolve.sweeps.run_sweep` into ``nc``."""
    from replicasolve.sweeps import run_sweep

    t0 = time.perf_counter()
    ds = run_sweep(dict(spec), nc, workers=workers, progress=False, force=True)
    n = int(np.prod([ds.sizes[d] for d in ds[ds.attrs["quantity"]].dims]))
    print(f"  sweep {nc.name}: {n} points in {time.perf_counter() - t0:.1f} s "
          f"({int(ds.attrs.get('failed_points', 0))} failed)", flush=True)
    return ds


def figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Any, Any]:
    """A matplotlib Figure (Agg canvas, house style) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from replicasolve.plot import style

    style()
    w, h = 5.0, 3.6
    fig = Figure(figsize=kw.pop("figsize", (w * ncols, h * nrows)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def save(fig: Any, stem: Path) -> list[Path]:
    """Save ``stem.png`` and ``stem.pdf`` atomically (temporary name, then rename)."""
    paths = []
    fig.tight_layout()
    for fmt in ("png", "pdf"):
        path = stem.with_name(f"{stem.name}.{fmt}")
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format=fmt)
        os.replace(tmp, path)
        paths.append(path)
    return paths


def edges(values: Any) -> np.ndarray:
    """Cell edges around grid values (midpoints; the ends mirrored)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def phase_cells(ax: Any, x: Any, y: Any, codes: np.ndarray) -> None:
    """Phase codes (rows over ``y``, columns over ``x``) as coloured cells with a legend."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    keys = sorted(PHASE_COLOURS)
    cmap = ListedColormap([PHASE_COLOURS[k] for k in keys])
    norm = BoundaryNorm([k - 0.5 for k in keys] + [keys[-1] + 0.5], cmap.N)
    vals = np.asarray(codes, dtype=float)
    vals[vals < 0] = np.nan  # failed points stay blank
    ax.pcolormesh(edges(x), edges(y), np.ma.masked_invalid(vals), cmap=cmap, norm=norm,
                  shading="flat")
    present = [k for k in keys if np.any(vals == k)]
    ax.legend(handles=[Patch(color=PHASE_COLOURS[k], label=PHASE_NAMES[k]) for k in present],
              fontsize="small", loc="upper right", framealpha=0.9)


def verdict(ok: bool) -> str:
    """``PASS`` or ``FAIL``."""
    return "PASS" if ok else "FAIL"


def finish(name: str, t0: float, checks: dict[str, Any], passed: bool,
           files: Sequence[Path]) -> dict[str, Any]:
    """Print the summary line and return the result dict of a gallery script."""
    seconds = time.perf_counter() - t0
    print(f"{name}: {verdict(passed)} in {seconds:.1f} s; wrote "
          + ", ".join(str(p) for p in files), flush=True)
    return {"name": name, "passed": bool(passed), "checks": checks,
            "files": [Path(p) for p in files], "seconds": seconds}


def entry(main: Callable[[Sequence[str] | None], dict[str, Any]]) -> int:
    """Command-line wrapper: exit 0 passed, 1 a check failed, 2 bad input / refused."""
    try:
        result = main(None)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if result["passed"] else 1


def train_small(folder: Path, hidden: tuple[int, ...], epochs: int, n_train: int, n_val: int,
                seed: int = 0) -> Any:
    """Train the standard program (ReLU, hinge loss, SGD; arXiv 2408.06421 Table 1, lr preset
    "large") on the embedded MNIST subset into ``folder`` (one snapshot per epoch).

    An existing run with the same settings is reused (train() resumes; nothing to do when it
    is complete); torch runs on one thread (the machine is shared).
    """
    import torch

    from replicasolve.studies.train.loop import train
    from replicasolve.studies.train.programs import TrainSettings

    torch.set_num_threads(1)
    settings = TrainSettings(program="standard", hidden=hidden, epochs=epochs,
                             n_train=n_train, n_val=n_val, seed=seed)
    t0 = time.perf_counter()
    run = train(settings, folder, progress=False, data=_mnist())
    last = run.history[-1] if run.history else {}
    print(f"  trained {folder.name}: 784-{'-'.join(map(str, hidden))}-10, {epochs} epoch(s) on "
          f"{n_train} images in {time.perf_counter() - t0:.1f} s; last epoch: "
          + ", ".join(f"{k} {v:.3g}" for k, v in last.items()
                      if isinstance(v, float) and k != "epoch"), flush=True)
    return run


@functools.lru_cache(maxsize=1)
def _mnist() -> Any:
    """The embedded MNIST subset, read once per process (several scripts train)."""
    from replicasolve.data import load_mnist

    return load_mnist("embedded")


def claim_run(out: Path, name: str, force: bool) -> Path:
    """A training-run folder ``out/name``: refused if it exists, unless ``force`` (then a
    run left there by this script is removed first, so the settings always match)."""
    import shutil

    folder = out / name
    if folder.exists():
        if not force:
            raise InvalidInputError(f"{folder} already exists (use --force)")
        if not (folder / "run.json").is_file():
            raise InvalidInputError(f"{folder} exists and is not a training run; not removed")
        shutil.rmtree(folder)
    return folder
