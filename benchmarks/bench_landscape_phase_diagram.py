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

import time

import numpy as np

from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers import solve
from replicasolve.studies.landscape_diagram import landscape_phase_diagram

ACT, SW, SB = "tanh", 1.5, 0.05
DEPTHS = range(1, 41)
TEMPS = np.linspace(0.05, 2.0, 40)


def main() -> None:
    t0 = time.perf_counter()
    for d in DEPTHS:
        _ = RandomMLPLandscape(ACT, d, SW, SB).xi
    t_tables = time.perf_counter() - t0

    t0 = time.perf_counter()
    ds = landscape_phase_diagram(ACT, DEPTHS, TEMPS, SW, SB)
    t_engine = time.perf_counter() - t0

    sub = (1, 10, 40)
    t0 = time.perf_counter()
    worst = 0.0
    for d in sub:
        land = RandomMLPLandscape(ACT, d, SW, SB)
        for j, T in enumerate(TEMPS):
            r = solve(land.model(float(T)), "rs")
            worst = max(worst, abs(r.free_energy - float(ds.f_rs.sel(depth=d)[j])))
    t_base = (time.perf_counter() - t0) * (len(DEPTHS) * TEMPS.size) / (len(sub) * TEMPS.size)

    t0 = time.perf_counter()
    dsc = landscape_phase_diagram(ACT, DEPTHS, TEMPS, SW, SB, classify=True)
    t_class = time.perf_counter() - t0
    counts = {lab: int((dsc.phase == code).sum()) for code, lab in
              ((0, "RS"), (2, "1RSB"), (3, "FRSB"))}

    n_rsb = int((ds.phase > 0).sum())
    print(f"{ACT}, sigma_w2 = {SW}, sigma_b2 = {SB}: {len(DEPTHS)} depths x {TEMPS.size} T")
    print(f"xi tables (one-off per network): {t_tables:.2f} s")
    print(f"engine   : {t_engine:.3f} s for {len(DEPTHS) * TEMPS.size} points "
          f"({n_rsb} RSB by the replicon; target < 120 s)")
    print(f"baseline : {t_base:.1f} s (general solver per point, scaled from "
          f"{len(sub) * TEMPS.size} points; max |delta f| = {worst:.1e})")
    print(f"classified (RSB points split into 1RSB/FRSB by RS/1RSB/2RSB optima): "
          f"{t_class:.2f} s, {counts}")
    print(f"speed-up ratio = {t_base / t_engine:.0f}x")


if __name__ == "__main__":
    main()
