"""Monte Carlo on finite random sin networks in an RS and an RSB phase against the
finite-width replica theory (Hanin & Winer, arXiv 2503.23982).

Model: one hidden layer, sin, σ_w² = 2, σ_b² = 0, width N_1 = αN, H(x) = sqrt(N) f(x) on
|x|² = N (replicasolve.studies.landscape_check). Two points:

- RS control, α = 1, T = 0.5: the RS saddle is stable (replicon Λ = +0.30) and no k-RSB
  point lies below it; P(q) = δ(q - q_RS), q_RS = 0.3700, e = -0.82077.
- RSB, α = 4, T = 0.3: Λ = -1.48 (RS unstable); the 1RSB optimum gains 1.8e-2 in Φ (2RSB adds 4e-6):
  q = (0.5221, 0.8053), m = 0.3333, so P(q) = 0.333 δ(q - 0.522) + 0.667 δ(q - 0.805), mean
  0.7109, variance ("breadth") 0.01782 (2RSB: 0.01782, indistinguishable), within one
  network E_J[⟨q²⟩-⟨q⟩²] = 0.01188 (1RSB); e_RSB = -1.16979 against e_RS = -1.19312
  (q_RS = 0.7210). Energies by -dΦ/dβ (Richardson differences, error < 1e-6).

Measured: parallel tempering (T to T_max = 1, ~sqrt(N) temperatures, 8 replicas per
network, 4000 production sweeps after 2000 of burn-in); disorder averages over networks
(standard errors over networks; jackknife for variances). The claims and what decides them
(|z| ≤ 2 counts as agreement; z = (measured - predicted)/error):

(a) RS control: the breadth Var q shrinks toward 0 (fit a + b/N: a consistent with 0; power
    law exponent near -1) and ⟨q⟩ → q_RS.
(b) RSB: the breadth does not shrink like 1/N; its N → ∞ extrapolation is compared with the
    1RSB/2RSB breadth; ⟨q⟩ with the RSB mean; the energy with e_RSB and e_RS, both as e(T)
    and as e(T) - e(T_max) (network by network: the network-to-network spread, mostly the
    read-out scale |v|², cancels; T_max = 1 is RS at α = 4, Λ = +0.70, no 1RSB gain).

Results of the long runs (2026-11-23; 4000 production + 2000 burn-in sweeps; RS control
N = 16, 32, 64, 128 with 40 networks each; RSB N = 16, 32, 64, 96 with 96, 80, 60, 40
networks, one process per N and seed, pooled with ``--from-files``; ~45 min on 2 shared
cores). z = (MC - theory)/error.

RS control (α = 1, T = 0.5): ⟨q⟩ → 0.368 ± 0.009 (q_RS 0.3700, z = -0.2); e → -0.8211 ±
0.0122 (z = -0.03); e(T) - e(T_max) → -0.1914 ± 0.0021 (RS -0.1923, z = +0.4; N^-2/3 and
N^-1/2 laws: z = -1.0, -1.9). Var q = 0.0631, 0.0415, 0.0249, 0.0149: it shrinks, but the
local exponents are -0.60, -0.74, -0.74 (± 0.12), N Var q = 1.01, 1.33, 1.59, 1.91 still
grows at N = 128, and a + b/N gives a = 0.0083 ± 0.0010 (chi2 6.0/2): at this replicon
(+0.30) the 1/N regime is not reached by N = 128. The better-converged RS control is the
hot end of the RSB runs (α = 4, T = 1, replicon +0.70, same networks): Var q = 0.0639,
0.0362, 0.0186, 0.0129 (N = 16..96), local exponents -0.82, -0.97, -0.90 (± 0.04..0.09),
N Var q = 1.02, 1.16, 1.19, 1.24 (saturating), a + b/N gives a = 0.0028 ± 0.0004: the
size of the bias of this extrapolation in an RS phase.

RSB (α = 4, T = 0.3): Var q = 0.0658, 0.0552, 0.0312, 0.0239 (± 0.0034..0.0056), local
exponents -0.25 ± 0.19, -0.82 ± 0.21, -0.65 ± 0.44, N Var q = 1.05, 1.77, 2.00, 2.30 (the
control: 1.02 .. 1.24); a + b/N: a = 0.0179 ± 0.0033 (chi2 5.4/2) against the 1RSB (and
2RSB) breadth 0.0178 (z = 0.0) and 0 (z = +5.4); N ≤ 64 only: 0.0218 ± 0.0047 (z = +0.8,
+4.6). Within one network: a = 0.0145 ± 0.0027 vs (2m/3)(1-m)(q1-q0)² = 0.0119 (z = +1.0).
Energy: e(T) - e(T_max) = -0.3707, -0.3896, -0.4011, -0.4047 (± 0.003); a + b/N: -0.4113 ±
0.0026 (RSB -0.4215: z = +4.0; RS -0.4448: z = +13); a + b N^-2/3 (the RSB finite-size
law of the SK free energy): -0.4199 ± 0.0036 (RSB z = +0.4, RS z = +7.0); a + b N^-1/2:
-0.4287 ± 0.0047 (RSB z = -1.5, RS z = +3.4). RS is excluded by every law tried, RSB is
not excluded by the slower ones. e(T) alone → -1.1729 ± 0.0088 (RSB z = -0.4, RS z =
+2.3). Not in agreement: ⟨q⟩ → 0.738 ± 0.011 (RSB mean 0.711: z = +2.5; q_RS 0.721: z =
+1.6) and the weight of pairs above q_s = (q0+q1)/2, 0.704, 0.708, 0.743, 0.781 (± 0.03),
growing with N instead of settling at 1 - m = 0.667; the measured P(q) has its main peak at
q ≈ 0.8-0.9 and a broad tail down to q ≈ 0.2, not a resolved second peak at q0 = 0.52.
Equilibration: swap rates ≥ 0.27, no half-run drift beyond 2.1 SE, every chain crossed the
ladder ≥ 14 times for N ≤ 64, only ≥ 4 times at N = 96 (treat N = 96 with care; the script
repeats the analysis without it).

Run:  python examples/landscape_mc_rsb_check.py                 (~2 min on 2 cores)
      python examples/landscape_mc_rsb_check.py --sizes 16,32,64 --networks 40,40,24
      python examples/landscape_mc_rsb_check.py --from-files 'runs/rs_*.nc' 'runs/rsb_*.nc'
"""

from __future__ import annotations

import argparse
import glob
import itertools
import math
import time
from typing import Any

import numpy as np
import xarray as xr

from replicasolve.studies.landscape_check import (
    finite_size_fit,
    merge_checks,
    overlap_check,
    overlap_theory,
)

RS_POINT = {"alpha": 1.0, "T": 0.5}
RSB_POINT = {"alpha": 4.0, "T": 0.3}
MODEL = {"activation": "sin", "sigma_w2": 2.0, "sigma_b2": 0.0}
T_MAX = 1.0
Z_AGREE = 2.0
# equilibration criterion for the second analysis: fewest cold-to-hot ladder traversals
MIN_TRIPS = 10


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()]


def verdict(name: str, measured: float, err: float, predicted: float,
            pred_err: float = 0.0) -> bool:
    """Print one verdict line; agreement is |z| ≤ Z_AGREE with the errors combined."""
    sigma = math.hypot(err, pred_err)
    z = (measured - predicted) / sigma if sigma > 0 else math.inf
    ok = abs(z) <= Z_AGREE
    print(f"  {name}: measured {measured:.5f} ± {err:.5f}, predicted {predicted:.5f}"
          f"{f' ± {pred_err:.5f}' if pred_err else ''}: z = {z:+.2f} -> "
          f"{'agrees' if ok else 'does not agree'}")
    return ok


def table(ds: Any) -> None:
    """One line per N: energies, overlaps, breadth, equilibration."""
    print("     N  nets  e(T)               e(T)-e(Tmax)       <q>               "
          "Var q              Var_within q       drift e (SE)  drift Var (SE)  swap  trips")
    for n in ds.N.values:
        d = ds.sel(N=n)
        print(f"  {int(n):4d}  {int(d.n_networks):4d}"
              f"  {float(d.energy):+.4f}±{float(d.energy_err):.4f}"
              f"  {float(d.energy_diff):+.4f}±{float(d.energy_diff_err):.4f}"
              f"  {float(d.q_mean):.4f}±{float(d.q_mean_err):.4f}"
              f"  {float(d.q_var):.5f}±{float(d.q_var_err):.5f}"
              f"  {float(d.q_var_within):.5f}±{float(d.q_var_within_err):.5f}"
              f"  {float(d.energy_drift / d.energy_drift_err):+6.2f}"
              f"        {float(d.q_var_drift / d.q_var_drift_err):+6.2f}"
              f"       {float(d.swap_rate_min):.2f}  {int(d.round_trips_min)}")


def histogram_lines(ds: Any) -> None:
    """The disorder-averaged P(q), coarse-grained to bins of width 0.1 on [-0.2, 1]."""
    q = ds.q_bin.values
    dq = q[1] - q[0]
    edges = np.round(np.arange(-0.2, 1.0001, 0.1), 6)
    print("  P(q) (mass per 0.1 bin from q = " + " ".join(f"{e:+.1f}" for e in edges[:-1])
          + ")")
    for n in ds.N.values:
        pq = ds.pq.sel(N=n).values * dq
        mass = [pq[(q >= lo) & (q < hi)].sum() for lo, hi in itertools.pairwise(edges)]
        print(f"  N = {int(n):4d}: " + " ".join(f"{m:4.2f}" for m in mass))


def local_slopes(ds: Any, var: str = "q_var") -> None:
    """Local exponents p of Var q ∝ N^p between consecutive sizes (RS: -> -1; RSB: -> 0)."""
    n = ds.N.values.astype(float)
    v = ds[var].values
    s = ds[f"{var}_err"].values
    parts = []
    for i in range(n.size - 1):
        lg = math.log(n[i + 1] / n[i])
        p = math.log(v[i + 1] / v[i]) / lg
        err = math.hypot(s[i] / v[i], s[i + 1] / v[i + 1]) / lg
        parts.append(f"{int(n[i])}->{int(n[i + 1])}: {p:+.2f} ± {err:.2f}")
    print("  local exponent of Var q ~ N^p: " + ", ".join(parts) + "; N Var q = "
          + ", ".join(f"{x:.2f}" for x in n * v))


def theory_lines(ds: Any) -> None:
    print(f"  theory: RS q = {ds.attrs['rs_q']:.4f}, e_RS = {ds.attrs['rs_energy']:.5f}, "
          f"replicon {ds.attrs['replicon']:+.3f}; e(Tmax) = {ds.attrs['theory_energy_hot']:.5f}"
          f" (k = {ds.attrs['theory_hot_k']}, replicon {ds.attrs['replicon_hot']:+.3f})")
    for k in ds.k.values:
        q = ds.theory_q.sel(k=k).values
        w = ds.theory_weight.sel(k=k).values
        keep = np.isfinite(q)
        print(f"  k = {int(k)}: q = {np.round(q[keep], 4).tolist()}, weights "
              f"{np.round(w[keep], 4).tolist()}, <q> = {float(ds.theory_q_mean.sel(k=k)):.4f},"
              f" Var q = {float(ds.theory_q_var.sel(k=k)):.5f}, e = "
              f"{float(ds.theory_energy.sel(k=k)):.5f}")


def fits(ds: Any, var: str) -> tuple[dict[str, float], dict[str, float] | None]:
    n = ds.N.values.astype(float)
    y = ds[var].values
    s = ds[f"{var}_err"].values
    lin = finite_size_fit(n, y, s) if n.size >= 2 else None
    power = finite_size_fit(n, y, s, model="power") if n.size >= 2 and np.all(y > 0) else None
    return lin, power


def analyse_rs(ds: Any) -> None:
    print("\n=== RS control: sin, sigma_w2 = 2, alpha = 1, T = 0.5 ===")
    theory_lines(ds)
    table(ds)
    histogram_lines(ds)
    if ds.sizes["N"] < 2:
        print("  (one size: no finite-size fit)")
        return
    local_slopes(ds)
    lin, power = fits(ds, "q_var")
    print(f"  Var q = a + b/N: a = {lin['a']:.5f} ± {lin['a_err']:.5f}, b = {lin['b']:.3f} ± "
          f"{lin['b_err']:.3f}, chi2/dof = {lin['chi2']:.2f}/{lin['dof']:.0f}")
    if power is not None:
        print(f"  Var q = c N^p: p = {power['p']:.3f} ± {power['p_err']:.3f} "
              f"(chi2/dof = {power['chi2']:.2f}/{power['dof']:.0f})")
        verdict("(a) Var q exponent p vs -1 (RS: 1/N)", power["p"], power["p_err"], -1.0)
    verdict("(a) Var q extrapolated (N -> inf) vs RS 0", lin["a"], lin["a_err"], 0.0)
    ql, _ = fits(ds, "q_mean")
    verdict("(a) <q> extrapolated vs q_RS", ql["a"], ql["a_err"], ds.attrs["rs_q"])
    el, _ = fits(ds, "energy")
    verdict("(a) e extrapolated vs e_RS", el["a"], el["a_err"], ds.attrs["rs_energy"])
    dl, _ = fits(ds, "energy_diff")
    verdict("(a) e(T)-e(Tmax) extrapolated vs RS (validates the difference method)", dl["a"],
            dl["a_err"], ds.attrs["rs_energy"] - ds.attrs["theory_energy_hot"])
    for omega in (2 / 3, 1 / 2):
        fo = finite_size_fit(ds.N.values, ds.energy_diff.values, ds.energy_diff_err.values,
                             exponent=omega)
        verdict(f"(a) e(T)-e(Tmax) as a + b N^-{omega:.2f} vs RS", fo["a"], fo["a_err"],
                ds.attrs["rs_energy"] - ds.attrs["theory_energy_hot"])


def analyse_rsb(ds: Any) -> None:
    print("\n=== RSB: sin, sigma_w2 = 2, alpha = 4, T = 0.3 ===")
    theory_lines(ds)
    table(ds)
    v1 = float(ds.theory_q_var.sel(k=1))
    v2 = float(ds.theory_q_var.sel(k=ds.k.values[-1]))
    w1 = float(ds.theory_q_var_within.sel(k=1))
    e_rs, e_1 = float(ds.theory_energy.sel(k=0)), float(ds.theory_energy.sel(k=1))
    e_hot = ds.attrs["theory_energy_hot"]
    histogram_lines(ds)
    if ds.sizes["N"] < 2:
        print("  (one size: no finite-size fit)")
        return
    local_slopes(ds)
    lin, power = fits(ds, "q_var")
    print(f"  Var q = a + b/N: a = {lin['a']:.5f} ± {lin['a_err']:.5f}, b = {lin['b']:.3f} ± "
          f"{lin['b_err']:.3f}, chi2/dof = {lin['chi2']:.2f}/{lin['dof']:.0f}")
    if power is not None:
        print(f"  Var q = c N^p: p = {power['p']:.3f} ± {power['p_err']:.3f} "
              f"(chi2/dof = {power['chi2']:.2f}/{power['dof']:.0f}); RS would give p = -1")
        verdict("(b) Var q exponent p vs -1 (a 1/N shrinkage)", power["p"], power["p_err"],
                -1.0)
    verdict("(b) Var q extrapolated vs RS 0", lin["a"], lin["a_err"], 0.0)
    verdict(f"(b) Var q extrapolated vs 1RSB {v1:.5f} (2RSB {v2:.5f})", lin["a"],
            lin["a_err"], v1)
    wl, _ = fits(ds, "q_var_within")
    verdict("(b) within-network Var q extrapolated vs 1RSB (2m/3)(1-m)(q1-q0)^2", wl["a"],
            wl["a_err"], w1)
    if "q_var_hot" in ds:
        ok = np.isfinite(ds.q_var_hot.values)
        hot = ds.isel(N=np.flatnonzero(ok))
        print(f"  RS control on the same networks, T_max = {ds.attrs['T_max']:g} (RS, replicon "
              f"{ds.attrs['replicon_hot']:+.2f}): Var q = "
              + ", ".join(f"N = {int(n)}: {float(hot.q_var_hot.sel(N=n)):.5f} ± "
                          f"{float(hot.q_var_hot_err.sel(N=n)):.5f}" for n in hot.N.values))
        if hot.sizes["N"] >= 2:
            local_slopes(hot, "q_var_hot")
            hl, _ = fits(hot, "q_var_hot")
            verdict("(a') Var q at T_max extrapolated vs RS 0", hl["a"], hl["a_err"], 0.0)
    split = ds.attrs["q_split"]
    hf = ds.theory_q_high_frac
    print(f"  fraction of pairs with q > q_s = (q0 + q1)/2 = {split:.4f}: "
          + ", ".join(f"N = {int(n)}: {float(ds.q_high_frac.sel(N=n)):.3f} ± "
                      f"{float(ds.q_high_frac_err.sel(N=n)):.3f}" for n in ds.N.values)
          + f"; theory 1RSB {float(hf.sel(k=1)):.3f}, 2RSB {float(hf.sel(k=ds.k.values[-1])):.3f},"
          f" RS {float(hf.sel(k=0)):.3f}")
    fl, _ = fits(ds, "q_high_frac")
    verdict("(b) fraction above q_s extrapolated vs 1RSB (1 - m)", fl["a"], fl["a_err"],
            float(hf.sel(k=1)))
    print("  (no verdict against RS for this fraction: at finite N the RS peak at q_RS, only "
          f"{ds.attrs['rs_q'] - split:.3f} above q_s, is wider than that, and its tail below "
          "q_s vanishes faster than any power of 1/N, so a + b/N does not extrapolate it)")
    ql, _ = fits(ds, "q_mean")
    verdict("(b) <q> extrapolated vs RSB mean", ql["a"], ql["a_err"],
            float(ds.theory_q_mean.sel(k=1)))
    verdict("(b) <q> extrapolated vs q_RS", ql["a"], ql["a_err"], ds.attrs["rs_q"])
    el, _ = fits(ds, "energy")
    dl, _ = fits(ds, "energy_diff")
    verdict("(b) e extrapolated vs e_RSB", el["a"], el["a_err"], e_1)
    verdict("(b) e extrapolated vs e_RS", el["a"], el["a_err"], e_rs)
    verdict("(b) e(T)-e(Tmax) extrapolated vs RSB", dl["a"], dl["a_err"], e_1 - e_hot)
    verdict("(b) e(T)-e(Tmax) extrapolated vs RS", dl["a"], dl["a_err"], e_rs - e_hot)
    for omega in (2 / 3, 1 / 2):  # slower finite-size laws (RSB phases: N^(-2/3) in SK)
        fo = finite_size_fit(ds.N.values, ds.energy_diff.values, ds.energy_diff_err.values,
                             exponent=omega)
        verdict(f"(b) e(T)-e(Tmax) as a + b N^-{omega:.2f} (chi2 {fo['chi2']:.2f}/"
                f"{fo['dof']:.0f}) vs RSB", fo["a"], fo["a_err"], e_1 - e_hot)
        verdict(f"(b) e(T)-e(Tmax) as a + b N^-{omega:.2f} vs RS", fo["a"], fo["a_err"],
                e_rs - e_hot)
    big = ds.N.values.max()
    d = ds.sel(N=big)
    verdict(f"(b) e(T)-e(Tmax) at the largest N = {int(big)} vs RSB", float(d.energy_diff),
            float(d.energy_diff_err), e_1 - e_hot)
    verdict(f"(b) e(T)-e(Tmax) at the largest N = {int(big)} vs RS", float(d.energy_diff),
            float(d.energy_diff_err), e_rs - e_hot)


def run_point(point: dict[str, float], sizes: list[int], networks: list[int], sweeps: int,
              seed: int) -> Any:
    t0 = time.time()
    th = overlap_theory(MODEL["activation"], MODEL["sigma_w2"], MODEL["sigma_b2"],
                        point["alpha"], point["T"], 2)
    hot = overlap_theory(MODEL["activation"], MODEL["sigma_w2"], MODEL["sigma_b2"],
                         point["alpha"], T_MAX, 1)
    print(f"  theory at alpha = {point['alpha']:g}: {time.time() - t0:.0f} s")
    return overlap_check(MODEL["activation"], MODEL["sigma_w2"], MODEL["sigma_b2"],
                         point["alpha"], point["T"], sizes, networks, T_max=T_MAX,
                         n_sweeps=sweeps, burn_in=sweeps // 2, theory=th, theory_hot=hot,
                         seed=seed, progress=lambda s: print("   ", s, flush=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=_ints, default=[16, 32])
    ap.add_argument("--networks", type=_ints, default=[16])
    ap.add_argument("--sweeps", type=int, default=2000, help="production sweeps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default=None, help="prefix for the two netCDF files")
    ap.add_argument("--from-files", nargs=2, metavar=("RS_GLOB", "RSB_GLOB"), default=None,
                    help="analyse saved overlap_check runs instead of sampling")
    args = ap.parse_args()
    if args.from_files:
        rs, rsb = (merge_checks([xr.open_dataset(f).load() for f in sorted(glob.glob(g))])
                   for g in args.from_files)
    else:
        nets = args.networks * len(args.sizes) if len(args.networks) == 1 else args.networks
        print("sampling (parallel tempering on the sphere) ...")
        rs = run_point(RS_POINT, args.sizes, nets, args.sweeps, args.seed)
        rsb = run_point(RSB_POINT, args.sizes, nets, args.sweeps, args.seed + 1)
        if args.save:
            rs.to_netcdf(f"{args.save}_rs.nc")
            rsb.to_netcdf(f"{args.save}_rsb.nc")
    print("\nerrors: standard errors over networks (jackknife for Var q); drift = second half "
          "minus first half of the run in its SE; trips = fewest cold-to-hot ladder "
          "traversals of any chain")
    analyse_rs(rs)
    analyse_rsb(rsb)
    for name, ds in (("RS control", rs), ("RSB", rsb)):
        ok = ds.round_trips_min.values >= MIN_TRIPS
        if not ok.all() and ok.sum() >= 2:
            print(f"\n--- {name} again, only the sizes whose every chain crossed the ladder >= "
                  f"{MIN_TRIPS} times (dropped N = {ds.N.values[~ok].tolist()}) ---")
            sub = ds.isel(N=np.flatnonzero(ok))
            (analyse_rs if name == "RS control" else analyse_rsb)(sub)


if __name__ == "__main__":
    main()
