"""Monte Carlo check of the replica theory: T_c from Binder crossings, SK energy.

1. T_c from the crossings of the overlap Binder cumulant g = (3 - [<q^4>]/[<q^2>]^2)/2 over
   sizes (parallel tempering, disorder average over random instances), for SK (C = 1,
   T_c = 1 exactly) and for a family of random layered networks (weights N(0, C/N_in),
   equal layers: 2 layers T_c = sqrt(C), 3 layers T_c = sqrt(2C cos(pi/4))); compared with
   the replica (multilayer SK) T_c and with the TAP T_c = 1/beta_c of the same instances.
2. The SK energy per spin at T = 0.5 against N, extrapolated as e_N = e_inf + a N^(-2/3), and
   compared with the Parisi (full RSB) energy and the replica-symmetric one.

Default settings take about 6 minutes on two shared cores (`--quick`: seconds, a smoke test
too small to conclude anything; `--layers 3` for the three-layer family).

    python examples/mc_check_theory.py [--quick] [--layers 2|3] [--variance 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from replicasolve.studies.theory_check import BinderCrossing, binder_crossing, sk_energy_trend


def _verdict_tc(name: str, r: BinderCrossing) -> None:
    print(f"\n== {name}: T_c from Monte Carlo vs replica theory vs TAP (C = {r.variance:g}) ==")
    print(r.table())
    tc = r.T_c_theory
    mc = r.T_c_mc
    tap = r.T_c_tap
    print(f"\n  T_c replica theory ({r.theory}): {tc:.4f}")
    print(f"  T_c TAP, mean over the largest size's instances: {tap.value:.4f} ± {tap.error:.4f}"
          f"  ({(tap.value - tc) / tc:+.2%} from theory)")
    for c in r.crossings:
        z = (c.T - tc) / c.error if c.error > 0 else math.nan
        print(f"  crossing N = {c.n_spins[0]:>3} x {c.n_spins[1]:<3}: {c.T:.4f} ± {c.error:.4f}"
              f"  ({z:+.1f} sigma from theory)")
    if not math.isfinite(mc.value) or not math.isfinite(mc.error):
        print("  UNRESOLVED: the two largest sizes do not cross on the grid; more instances or "
              "larger sizes are needed")
        return
    z = (mc.value - tc) / mc.error
    if not r.equilibrated:
        print("  CAUTION: some size failed its equilibration diagnostics (see above)")
    if r.crossings[-1].bootstrap_found < 0.7:
        print(f"  CAUTION: only {r.crossings[-1].bootstrap_found:.0%} of the bootstrap replicates "
              "find this crossing: the curves are too close for the disorder noise")
    word = "AGREES" if abs(z) < 2 else ("MARGINAL" if abs(z) < 3 else "DISAGREES")
    print(f"  {word}: the crossing of the two largest sizes, {mc.value:.4f} ± {mc.error:.4f}, "
          f"is {abs(z):.1f} sigma from the replica T_c {tc:.4f}; the TAP T_c of the same "
          f"instances is within {abs(tap.value - tc) / tc:.1%} of it.")
    first = r.crossings[0]
    if math.isfinite(first.T) and first.T < mc.value:
        print("  The crossings move up with N towards T_c: the small-size crossings lie below "
              "T_c, as corrections to finite-size scaling (expected to decay like N^(-1/3) in "
              "mean-field glasses) shrink; the largest pair is the estimate and may still be "
              "biased low.")
    print("  The error bars are dominated by disorder (sample-to-sample) fluctuations of "
          "<q^2>, <q^4>; equilibration is checked per size (PT exchange rates, log-binning, "
          "and for SK the identity [<H>]/N = -(beta C/2)(1 - [<q^2>])).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    ap.add_argument("--layers", type=int, default=2, choices=(2, 3),
                    help="spin layers of the layered family")
    ap.add_argument("--variance", type=float, default=2.0,
                    help="C of the layered family (Kaiming normal: 2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()

    def progress(cur):
        print(f"  done {cur.label():>22}: {cur.samples} instances, {cur.wall_time:6.1f} s",
              flush=True)

    # ------------------------------------------------------------------ (1) SK, T_c = 1
    if args.quick:
        sk_sizes, sk_samples, sk_sweeps = [16, 64], [24, 16], [500, 500]
    else:
        sk_sizes, sk_samples, sk_sweeps = [16, 64, 256], [64, 48, 32], [1000, 1000, 2000]
    print("(1a) SK (J_ij ~ N(0, 1/N), C = 1): Binder crossings over N =", sk_sizes)
    sk = binder_crossing(sk_sizes, np.geomspace(0.75, 1.5, 12), variance=1.0, samples=sk_samples,
                         sweeps=sk_sweeps, seed=args.seed, progress=progress)
    _verdict_tc("SK", sk)

    # ------------------------------------------------------------------ (1b) layered
    c = args.variance
    per_layer = [16, 64] if args.quick else [16, 64, 256 if args.layers == 2 else 160]
    fam = [(n,) * args.layers for n in per_layer]
    if args.quick:
        lay_samples, lay_sweeps = [24, 16], [500, 500]
    else:
        lay_samples, lay_sweeps = [64, 48, 32], [1000, 1000, 2000]
    tc_guess = math.sqrt(c) if args.layers == 2 else math.sqrt(2 * c * math.cos(math.pi / 4))
    print(f"\n(1b) random layered networks, {args.layers} equal layers, W ~ N(0, C/N_in), "
          f"C = {c:g}: sizes {fam}")
    lay = binder_crossing(fam, tc_guess * np.geomspace(0.75, 1.5, 12), variance=c,
                          samples=lay_samples, sweeps=lay_sweeps, seed=args.seed,
                          progress=progress)
    _verdict_tc(f"{args.layers}-layer network", lay)

    # ------------------------------------------------------------------ (2) SK energy
    if args.quick:
        e_sizes, e_samples, e_sweeps = [16, 32, 64], [32, 24, 16], [500, 500, 500]
    else:
        # instances double those of (1): the RS-FRSB gap at T = 0.5 is only 0.007
        e_sizes, e_samples, e_sweeps = [32, 64, 128, 256], [256, 192, 128, 96], [1000, 1000,
                                                                                 1500, 2000]
    print(f"\n(2) SK energy per spin at T = 0.5 over N = {e_sizes} (parallel tempering "
          "from T = 0.5 to 1.6)")
    en = sk_energy_trend(e_sizes, 0.5, samples=e_samples, sweeps=e_sweeps, seed=args.seed,
                         progress=lambda n, e, s: print(f"  done N = {n}: E/N = {e:.5f} ± "
                                                        f"{s:.5f}", flush=True))
    print()
    print(en.table())
    zp, zr = en.z_parisi, en.z_rs
    f = en.fit
    print(f"\n  e_inf (omega = 2/3) = {f.e_inf:.5f} ± {f.e_inf_err:.5f};  Parisi "
          f"{en.parisi_energy:.5f} ({zp:+.1f} sigma),  RS {en.rs_energy:.5f} ({zr:+.1f} sigma)")
    if not en.equilibrated:
        print("  CAUTION: some size failed its equilibration diagnostics (identity / log-binning)")
    if abs(zp) < 2:
        print("  AGREES: the extrapolated Monte Carlo energy matches the full-RSB (Parisi) "
              "energy within its error.")
    else:
        print(f"  DISAGREES at {abs(zp):.1f} sigma with the Parisi energy: the sizes are small "
              "and the N^(-2/3) form is an assumption at T > 0 (see the free-exponent fit).")
    gap = en.parisi_energy - en.rs_energy
    resolution = abs(gap) / f.e_inf_err
    if abs(zr) >= 3 and abs(zp) < 2:
        print(f"  The MC distinguishes the two: RS is off by {abs(zr):.1f} sigma (the RS-FRSB "
              f"gap, {gap:+.4f}, is {resolution:.1f} times the error of e_inf), given the "
              "fixed exponent 2/3.")
    elif resolution < 3:
        print(f"  The MC does NOT resolve RS from full RSB here: the gap {gap:+.4f} is only "
              f"{resolution:.1f} times the error of e_inf; more instances or larger N are "
              "needed.")
    else:
        print(f"  RS is {abs(zr):.1f} sigma and full RSB {abs(zp):.1f} sigma away: the data "
              "favour " + ("full RSB" if abs(zp) < abs(zr) else "RS") + " but not decisively.")
    print("  Limits: e_inf rests on N <= "
          f"{max(e_sizes)} and on the assumed exponent; the free-exponent fit (if shown) is "
          "far less precise, and the 1/N term that every finite-N energy carries is absorbed "
          "into the fit.")
    print(f"\ntotal time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
