"""Gallery (a): multilayer SK T_c vs depth, checked against the closed form.

Runs the sweep ``msk_tc_depth.toml`` (T_c of L identical layers, C = 1 and 2) and draws
T_c(L) with the closed form T_c = sqrt(2 C cos(π/(L+2))) and its L → ∞ limit sqrt(2C)
(Barney, Winer & Galitski, arXiv 2408.06421). Check: the largest deviation of the sweep
from the closed form, which must be below 1e-10 (the sweep takes the largest eigenvalue of a
small tridiagonal matrix with LAPACK, accurate to ~1e-15 relative; 1e-10 leaves room).

    python examples/gallery/msk_tc_depth.py [--out gallery_out] [--force] [--quick]

Writes ``msk_tc_depth.nc``, ``msk_tc_depth.png`` and ``.pdf`` into ``--out``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:  # imported, not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import claim, entry, figure, finish, load_toml, parse_args, save, sweep

NAME = "msk_tc_depth"
TOLERANCE = 1e-10
OUTPUTS = [f"{NAME}.nc", f"{NAME}.png", f"{NAME}.pdf"]  # in --out
QUICK_AXES = {"variance": [2.0], "depth": [1, 2, 5]}


def closed_form(depth: Any, variance: Any) -> np.ndarray:
    """T_c = sqrt(2 C cos(π/(L+2))) (published form, arXiv 2408.06421)."""
    L = np.asarray(depth, dtype=float)
    return np.sqrt(2 * float(variance) * np.cos(np.pi / (L + 2)))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the sweep, draw the figure, print and return the check."""
    args = parse_args(__doc__, argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    nc = claim(out, OUTPUTS, args.force)[0]
    spec = load_toml(f"{NAME}.toml")
    if args.quick:
        spec["axes"] = dict(QUICK_AXES)
    print(f"{NAME}: {spec['name']}")
    ds = sweep(spec, nc, args.workers)

    fig, axes = figure()
    ax = axes[0, 0]
    worst = 0.0
    depth = ds["depth"].values
    fine = np.linspace(depth.min(), depth.max(), 400)
    for c in ds["variance"].values:
        tc = ds["T_c"].sel(variance=c).values
        dev = float(np.max(np.abs(tc - closed_form(depth, c))))
        worst = max(worst, dev)
        print(f"  C = {c:g}: T_c(L={depth[0]}) = {tc[0]:.6f}, T_c(L={depth[-1]}) = "
              f"{tc[-1]:.6f} -> sqrt(2C) = {np.sqrt(2 * c):.6f}; max |sweep - closed form| "
              f"= {dev:.2e}")
        line, = ax.plot(depth, tc, "o", ms=3, label=f"sweep, C = {c:g}")
        ax.plot(fine, closed_form(fine, c), "-", lw=0.8, color=line.get_color())
        ax.axhline(np.sqrt(2 * c), ls=":", lw=0.8, color=line.get_color())
    ax.plot([], [], "k-", lw=0.8, label=r"$\sqrt{2C\cos(\pi/(L+2))}$")
    ax.plot([], [], "k:", lw=0.8, label=r"$L\to\infty$: $\sqrt{2C}$")
    ax.set_xlabel("weight layers L")
    ax.set_ylabel(r"$T_c$ (units of J)")
    ax.set_title("multilayer SK: critical temperature vs depth", fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    files = [nc, *save(fig, out / NAME)]
    ok = worst < TOLERANCE
    print(f"  check: max deviation from the closed form {worst:.2e} < {TOLERANCE:g}: "
          f"{'PASS' if ok else 'FAIL'}")
    return finish(NAME, t0, {"max_deviation": worst, "tolerance": TOLERANCE}, ok, files)


if __name__ == "__main__":
    raise SystemExit(entry(main))
