"""Phase diagrams (depth × T) of random-MLP input landscapes in the infinite-width limit,
for relu, tanh, sin and erf: RS where the RS replicon is non-negative, RSB points split into
1RSB / FRSB by the RS/1RSB/2RSB optima. Writes one netCDF file and one PNG per activation
into ``--out`` (default ``landscape_diagrams/``; existing files are not overwritten unless
``--force``).

    python examples/landscape_phase_diagrams.py --out figs --depths 1-12 --temps 0.05-1.5:30
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from replicasolve.plot import phase_diagram
from replicasolve.studies.landscape_diagram import landscape_phase_diagram

SETTINGS = {"relu": (2.0, 0.0), "tanh": (1.5, 0.05), "sin": (2.0, 0.0), "erf": (2.0, 0.05)}


def _range(text: str) -> list[int]:
    a, b = text.split("-")
    return list(range(int(a), int(b) + 1))


def _temps(text: str) -> np.ndarray:
    span, n = text.split(":")
    a, b = span.split("-")
    return np.linspace(float(a), float(b), int(n))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="landscape_diagrams")
    p.add_argument("--depths", default="1-8", help="e.g. 1-12")
    p.add_argument("--temps", default="0.05-1.5:20", help="lo-hi:count, e.g. 0.05-1.5:30")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    depths, temps = _range(args.depths), _temps(args.temps)
    for act, (sw2, sb2) in SETTINGS.items():
        nc = os.path.join(args.out, f"{act}_phases.nc")
        png = os.path.join(args.out, f"{act}_phases.png")
        if not args.force and (os.path.exists(nc) or os.path.exists(png)):
            print(f"error: {nc} or {png} exists (use --force)", file=sys.stderr)
            return 2
        ds = landscape_phase_diagram(act, depths, temps, sw2, sb2, classify=True)
        tmp = nc + ".tmp"
        ds.to_netcdf(tmp, engine="scipy")
        os.replace(tmp, nc)
        phase_diagram(ds, path=png)
        counts = {lab: int((ds.phase == code).sum()) for code, lab in
                  ((0, "RS"), (2, "1RSB"), (3, "FRSB"))}
        print(f"{act:5s} sigma_w2 = {sw2}, sigma_b2 = {sb2}: {counts} -> {nc}, {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
