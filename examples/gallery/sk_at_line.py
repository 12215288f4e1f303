"""Gallery (b): the SK model's RS / RSB phase over (h, T) with the de Almeida–Thouless line.

Runs the sweep ``sk_at_line.toml`` (phase of the Ising mixed p-spin model with ξ = q²/2, i.e.
SK with J = 1, over the field h and T) and overlays the AT line T_AT(h) solved here,
independently of the package: the RS overlap from q = E_z tanh²(β(√q z + h)) and the AT
condition β² E_z sech⁴(β(√q z + h)) = 1 (de Almeida & Thouless 1978), with the trapezoid rule
on a fine grid and Brent's method. RS is stable above the line.

Check: every cell's label (RS vs any RSB) must agree with its side of the line; cells the
line passes through (T_AT over the cell's h-range overlaps the cell's T-range) are excluded.
The line is also compared with ``replicasolve.solvers.classify.at_temperature`` at three
fields (one with ``--quick``); they must agree to 1e-6 (both are root finds to ~1e-10 on
smooth functions).

    python examples/gallery/sk_at_line.py [--out gallery_out] [--force] [--quick]

Writes ``sk_at_line.nc``, ``sk_at_line.png`` and ``.pdf`` into ``--out``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import brentq

if str(Path(__file__).resolve().parent) not in sys.path:  # imported, not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    claim,
    edges,
    entry,
    figure,
    finish,
    load_toml,
    parse_args,
    phase_cells,
    save,
    sweep,
)

NAME = "sk_at_line"
OUTPUTS = [f"{NAME}.nc", f"{NAME}.png", f"{NAME}.pdf"]  # in --out
QUICK_AXES = {"T": [0.3, 0.8, 1.3], "field": [0.0, 0.8]}
PACKAGE_TOLERANCE = 1e-6
# E_z f(z), z ~ N(0, 1), by the trapezoid rule on [-9, 9] with spacing 0.0023: at T >= 0.05
# the sech^4 peak is >= 0.05 wide in z, so it is resolved (Gauss-Hermite nodes are not dense
# enough there); the tails beyond |z| = 9 weigh < 1e-18
_Z = np.linspace(-9.0, 9.0, 8001)
_W = np.exp(-0.5 * _Z**2)
_W[[0, -1]] *= 0.5
_W /= _W.sum()


def rs_overlap(beta: float, h: float) -> float:
    """The RS overlap q of SK at (β, h): the largest root of q = E tanh²(β(√q z + h))."""
    def g(q: float) -> float:
        return float(_W @ np.tanh(beta * (np.sqrt(q) * _Z + h)) ** 2) - q

    if h == 0.0 and beta <= 1.0:
        return 0.0
    lo = 1e-12 if h == 0.0 else 0.0  # h = 0, β > 1: q = 0 is a root too; take the other
    if h == 0.0 and g(lo) <= 0:
        return 0.0
    return float(brentq(g, lo, 1.0, xtol=1e-14))


def replicon(T: float, h: float) -> float:
    """1 − β² E sech⁴(β(√q z + h)) at the RS saddle: > 0 where RS is stable."""
    beta = 1.0 / T
    q = rs_overlap(beta, h)
    return 1.0 - beta**2 * float(_W @ (1.0 / np.cosh(beta * (np.sqrt(q) * _Z + h))) ** 4)


def t_at(h: float) -> float:
    """The AT temperature T_AT(h): RS stable for T > T_AT (T_AT(0) = 1)."""
    if h == 0.0:
        return 1.0
    return float(brentq(lambda T: replicon(T, h), 0.05, 1.0, xtol=1e-12))


def compare_cells(codes: np.ndarray, h: np.ndarray, T: np.ndarray,
                  line: Callable[[float], float]) -> tuple[int, int, int, int, list[str]]:
    """Compare phase codes (rows over T, columns over h >= 0) with the side of the AT line.

    A cell is RS-labelled (code 0) or not; the line says RS iff T > line(h). Cells the line
    passes through (line(h) over the cell's h-range, monotone in h so taken at the edges,
    overlaps the cell's T-range) are not compared; failed points (code < 0) are counted.

    Returns:
        ``(agree, disagree, straddle, failed, the disagreeing cells as text)``.
    """
    he, te = edges(h), edges(T)
    he[0] = max(he[0], 0.0)  # T_AT is even in h; the line is solved for h >= 0
    at_edges = np.array([line(abs(x)) for x in he])
    agree = disagree = straddle = failed = 0
    bad: list[str] = []
    for i in range(T.size):
        for j in range(h.size):
            lo, hi = sorted((at_edges[j], at_edges[j + 1]))
            if codes[i, j] < 0:
                failed += 1
            elif te[i] < hi and te[i + 1] > lo:
                straddle += 1
            elif (codes[i, j] == 0) == (T[i] > line(abs(h[j]))):
                agree += 1
            else:
                disagree += 1
                bad.append(f"(h={h[j]:g}, T={T[i]:g})")
    return agree, disagree, straddle, failed, bad


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the sweep, overlay the AT line, print and return the checks."""
    args = parse_args(__doc__, argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    nc = claim(out, OUTPUTS, args.force)[0]
    spec = load_toml(f"{NAME}.toml")
    if args.quick:
        spec["axes"] = dict(QUICK_AXES)
    print(f"{NAME}: {spec['name']}")
    ds = sweep(spec, nc, args.workers)
    codes = ds["phase"].transpose("T", "field").values
    h, T = ds["field"].values.astype(float), ds["T"].values.astype(float)
    agree, disagree, straddle, failed, bad = compare_cells(codes, h, T, t_at)

    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers.classify import at_temperature

    probe = [0.3] if args.quick else [0.1, 0.3, 0.6]  # the package's root find: ~1 s each
    pkg = [at_temperature(MixedPSpin("q**2/2", spins="ising", T=1.0, field=x)) for x in probe]
    mine = [t_at(x) for x in probe]
    pkg_dev = float(np.max(np.abs(np.subtract(pkg, mine))))
    print("  AT line (this script): "
          + ", ".join(f"T_AT({x:g}) = {t:.6f}" for x, t in zip(probe, mine, strict=True)))
    print(f"  classify.at_temperature differs by at most {pkg_dev:.2e} "
          f"(tolerance {PACKAGE_TOLERANCE:g})")
    print(f"  cells: {agree} agree with the AT line, {disagree} disagree, {straddle} straddle "
          f"the line (excluded), {failed} failed" + (f"; disagreeing: {', '.join(bad)}"
                                                     if bad else ""))

    fig, axes = figure()
    ax = axes[0, 0]
    phase_cells(ax, h, T, codes)
    hf = np.linspace(0.0, h.max(), 15 if args.quick else 60)
    ax.plot(hf, [t_at(x) for x in hf], "k-", lw=1.5, label="AT line")
    ax.set_xlabel("field h (units of J)")
    ax.set_ylabel("temperature T (units of J)")
    ax.set_title(r"SK ($\xi = q^2/2$): phase and the AT line $T_{AT}(h)$", fontsize="small")
    files = [nc, *save(fig, out / NAME)]
    ok = disagree == 0 and failed == 0 and agree > 0 and pkg_dev < PACKAGE_TOLERANCE
    print(f"  check: {disagree} disagreeing cell(s), {failed} failed, package AT line within "
          f"{PACKAGE_TOLERANCE:g}: {'PASS' if ok else 'FAIL'}")
    checks = {"agree": agree, "disagree": disagree, "straddle": straddle, "failed": failed,
              "package_deviation": pkg_dev, "t_at": dict(zip(probe, mine, strict=True))}
    return finish(NAME, t0, checks, ok, files)


if __name__ == "__main__":
    raise SystemExit(entry(main))
