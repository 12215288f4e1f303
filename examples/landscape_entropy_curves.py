"""S(E) of random-MLP input landscapes (infinite width) per activation and depth, as one
figure: the Legendre transform of the Parisi free energy, both branches S(-E) = S(E).

    python examples/landscape_entropy_curves.py --out entropy.png
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.plot import entropy_curves
from replicasolve.solvers.landscape import entropy_curve, ground_state

CASES = [("tanh", 1, 1.5, 0.0), ("tanh", 3, 1.5, 0.0), ("relu", 1, 2.0, 0.0),
         ("sin", 1, 2.0, 0.0), ("erf", 2, 2.0, 0.0)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="entropy_curves.png")
    p.add_argument("--force", action="store_true")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and not args.force:
        print(f"error: {args.out} exists (use --force)", file=sys.stderr)
        return 2
    betas = np.geomspace(0.05, 8.0, 24)
    curves = {}
    for act, depth, sw2, sb2 in CASES:
        land = RandomMLPLandscape(act, depth, sw2, sb2)
        e, s = entropy_curve(land, betas)
        gs = ground_state(land).value
        curves[f"{act}, L = {depth}"] = (e, s)
        print(f"{act:5s} L = {depth}: E(beta=8) = {e[-1]:.4f}, S = {s[-1]:.4f}, "
              f"E_GS = {gs:.4f}")
    entropy_curves(curves, path=args.out)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
