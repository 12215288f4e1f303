"""40 × 40 (depth × T) RS/RSB phase diagram of a random-MLP landscape (Gaussian limit).

Figure: wall time of :func:`replicasolve.studies.landscape_diagram.landscape_phase_diagram`
for tanh (σ_w² = 1.5, σ_b² = 0.05), depths 1..40, T in [0.05, 2] (40 values): every depth's
RS saddle solved for all 40 temperatures at once (one shared root scan, vectorised Newton
inside the brackets), replicon per point. The ξ tables of the 40 networks are built (or
loaded from the disk cache) in a warm-up call first: that build is a one-off per network.

Baseline (same run): each point solved from scratch by the general Crisanti–Sommers solver,
``solve(model, "rs")``, timed on 3 depths × 40 temperatures and scaled to 1600 points. The
two agree point by point (q, f, replicon) to ~1e-11 (tests/test_landscape_diagram.py).

Also timed: the same diagram with ``classify=True`` (RSB points split into 1RSB / FRSB).

Target: under 2 minutes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import add_quick, print_result

from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers import solve
from replicasolve.studies.landscape_diagram import landscape_phase_diagram

ACT, SW, SB = "tanh", 1.5, 0.05
DEPTHS = range(1, 41)
TEMPS = np.linspace(0.05, 2.0, 40)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    args = ap.parse_args()
    # --quick: depths 1..10 x 20 T (the figure is then not comparable with the 2-minute target)
    depths = range(1, 11) if args.quick else DEPTHS
    temps = TEMPS[::2] if args.quick else TEMPS
    t0 = time.perf_counter()
    for d in depths:
        _ = RandomMLPLandscape(ACT, d, SW, SB).xi
    t_tables = time.perf_counter() - t0

    t0 = time.perf_counter()
    ds = landscape_phase_diagram(ACT, depths, temps, SW, SB)
    t_engine = time.perf_counter() - t0

    sub = (1, 5, 10) if args.quick else (1, 10, 40)
    t0 = time.perf_counter()
    worst = 0.0
    for d in sub:
        land = RandomMLPLandscape(ACT, d, SW, SB)
        for j, T in enumerate(temps):
            r = solve(land.model(float(T)), "rs")
            worst = max(worst, abs(r.free_energy - float(ds.f_rs.sel(depth=d)[j])))
    t_base = (time.perf_counter() - t0) * (len(depths) * temps.size) / (len(sub) * temps.size)

    t0 = time.perf_counter()
    dsc = landscape_phase_diagram(ACT, depths, temps, SW, SB, classify=True)
    t_class = time.perf_counter() - t0
    counts = {lab: int((dsc.phase == code).sum()) for code, lab in
              ((0, "RS"), (2, "1RSB"), (3, "FRSB"))}

    n_rsb = int((ds.phase > 0).sum())
    print(f"{ACT}, sigma_w2 = {SW}, sigma_b2 = {SB}: {len(depths)} depths x {temps.size} T")
    print(f"xi tables (one-off per network): {t_tables:.2f} s")
    print(f"engine   : {t_engine:.3f} s for {len(depths) * temps.size} points "
          f"({n_rsb} RSB by the replicon; target < 120 s)")
    print(f"baseline : {t_base:.1f} s (general solver per point, scaled from "
          f"{len(sub) * temps.size} points; max |delta f| = {worst:.1e})")
    print(f"classified (RSB points split into 1RSB/FRSB by RS/1RSB/2RSB optima): "
          f"{t_class:.2f} s, {counts}")
    print(f"speed-up ratio = {t_base / t_engine:.0f}x")
    print_result("landscape_phase_diagram", t_engine, "s", t_base,
                 f"general RS solver per point, scaled from {len(sub) * temps.size} points",
                 t_base / t_engine, "< 120 s (full 40 x 40)",
                 None if args.quick else bool(t_engine < 120))


if __name__ == "__main__":
    main()
