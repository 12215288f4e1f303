"""Gallery (e): the spin-glass descriptor q̄(T) of a small MLP, random (epoch 0) vs trained.

Trains a 784-64-64-10 MLP (standard program, embedded MNIST) for the last epoch of
``descriptor_random_vs_trained.toml`` and runs that sweep (the ``descriptor`` model, see
:mod:`replicasolve.sweeps.descriptor_model`): q̄(T) = mean |Q_ab| over replica pairs
(Jun Li, arXiv 2508.07397) of the Ising model of the two hidden layers (layered couplings
W², biases as fields) at epoch 0 (random Kaiming weights, zero biases) and after training.

Independent references (the multilayer SK model of Barney, Winer & Galitski, arXiv 2408.06421):

- The random network's hidden layers are a bipartite SK model with C = 2 (two layers of 64
  spins), T_c = sqrt(C) from ``msk_critical``. Above T_c the replica theory's Gaussian
  overlap fluctuations give the spin-glass susceptibility χ_SG = N⟨Q²⟩ = 1/(1 − (T_c/T)²)
  (the inverse of the paramagnet's Hessian, derivations/msk_critical_temperature.py, along the
  total-overlap mode; exact to leading order in 1/N). Check: for every T ≥ 2 T_c the measured
  χ_SG of epoch 0 agrees with it within 4 standard errors plus 10 % (the 10 % covers the
  O(1/N) and instance-to-instance corrections at N = 128).
- At T → ∞ q̄ tends to the exact E|Q_ab| of independent random spins (``paramagnet_q_bar``).
  Check: at the highest T (20, (T_c/T)² = 0.5 %) q̄ of both networks is within 4 standard
  errors plus 5 % of it.

The trained network's q̄ rises at a higher temperature (training moves T_c up; gallery d).

    python examples/gallery/descriptor_random_vs_trained.py [--out gallery_out] [--force]

Writes the run folder ``descriptor_run/``, ``descriptor_random_vs_trained.nc`` and ``.png`` /
``.pdf`` into ``--out``.
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
from _common import (
    claim,
    claim_run,
    entry,
    figure,
    finish,
    load_toml,
    parse_args,
    save,
    sweep,
    train_small,
)

NAME = "descriptor_random_vs_trained"
VARIANCE = 2.0  # C of the initialisation (Kaiming, TrainSettings.init_gain2 default)
FULL = {"hidden": (64, 64), "n_train": 2000, "n_val": 500}
QUICK = {"hidden": (32, 32), "n_train": 256, "n_val": 128, "epoch": [0, 1],
         "T": [0.5, 3.0, 20.0], "solver": {"replicas": 4, "sweeps": 300, "burn_in": 100}}
# in --out: files, then the training run folder
OUTPUTS = [f"{NAME}.nc", f"{NAME}.png", f"{NAME}.pdf", "descriptor_run"]
HIGH_T_FACTOR = 2.0  # chi_SG checked for T >= 2 T_c
CHI_REL, QBAR_REL, N_SIGMA = 0.10, 0.05, 4.0


def chi_paramagnet(T: Any, t_c: float) -> np.ndarray:
    """χ_SG = N⟨Q²⟩ = 1/(1 − (T_c/T)²) of a bipartite SK model of equal layers above T_c."""
    return 1.0 / (1.0 - (t_c / np.asarray(T, dtype=float)) ** 2)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, run the sweep, draw q̄(T) for both networks, print and return the checks."""
    from replicasolve.models.msk import msk_critical
    from replicasolve.studies.descriptor import paramagnet_q_bar

    args = parse_args(__doc__, argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    nc = claim(out, OUTPUTS[:-1], args.force)[0]
    folder = claim_run(out, OUTPUTS[-1], args.force)
    workers = args.workers
    spec = load_toml(f"{NAME}.toml")
    settings = dict(FULL)
    if args.quick:
        settings.update({k: QUICK[k] for k in FULL})
        spec["axes"] = {"epoch": QUICK["epoch"], "T": QUICK["T"]}
        spec["solver"].update(QUICK["solver"])
    hidden = tuple(settings["hidden"])
    epochs = [int(e) for e in spec["axes"]["epoch"]]
    print(f"{NAME}: {spec['name']}; C = {VARIANCE:g}")
    train_small(folder, hidden, max(epochs), settings["n_train"], settings["n_val"])
    spec["model"]["network"] = str(folder)
    ds = sweep(spec, nc, workers)

    t_c = msk_critical(list(hidden), VARIANCE).T_c  # the spin layers: the hidden ones
    n = int(ds["n_spins"].values.flat[0])
    q_inf = paramagnet_q_bar(n)
    T = ds["T"].values.astype(float)
    first, last = epochs[0], epochs[-1]
    print(f"  spins: hidden layers {hidden} (N = {n}); MSK T_c = sqrt(C) = {t_c:.4f}; "
          f"q_bar(T = inf) = {q_inf:.4f}")
    for e in (first, last):
        q = ds["qbar"].sel(epoch=e).values
        print(f"  epoch {e}: q_bar = " + ", ".join(
            f"{t:g}: {v:.3f}" for t, v in zip(T, q, strict=True)))

    hot = T >= HIGH_T_FACTOR * t_c
    chi = ds["chi_sg"].sel(epoch=first).values[hot]
    chi_err = ds["chi_sg_err"].sel(epoch=first).values[hot]
    chi_th = chi_paramagnet(T[hot], t_c)
    chi_ok = bool(np.all(np.abs(chi - chi_th) <= N_SIGMA * chi_err + CHI_REL * chi_th))
    for t, c, ce, th in zip(T[hot], chi, chi_err, chi_th, strict=True):
        print(f"  epoch {first}, T = {t:g}: chi_SG = {c:.3f} +- {ce:.3f}, paramagnet theory "
              f"1/(1 - (T_c/T)^2) = {th:.3f}")
    top = int(np.argmax(T))
    q_top = ds["qbar"].isel(T=top).values
    q_top_err = ds["qbar_err"].isel(T=top).values
    inf_ok = bool(np.all(np.abs(q_top - q_inf) <= N_SIGMA * q_top_err + QBAR_REL * q_inf))
    print(f"  T = {T[top]:g}: q_bar = " + ", ".join(
        f"{v:.4f} +- {s:.4f} (epoch {e})" for v, s, e in zip(q_top, q_top_err, epochs,
                                                            strict=True))
          + f" vs T = inf value {q_inf:.4f}")
    above = {}
    for e in (first, last):
        q = ds["qbar"].sel(epoch=e).values
        rising = T[q > 2 * q_inf]
        above[e] = float(rising.max()) if rising.size else float("nan")
        print(f"  epoch {e}: q_bar > 2 q_bar(inf) up to T = {above[e]:g}")

    fig, axes = figure()
    ax = axes[0, 0]
    for e, label in ((first, f"epoch {first} (random)"), (last, f"epoch {last} (trained)")):
        q = ds["qbar"].sel(epoch=e).values
        line = ax.errorbar(T, q, yerr=ds["qbar_err"].sel(epoch=e).values, marker="o", ms=3,
                           capsize=2, label=label)
        bad = ds["equilibrated"].sel(epoch=e).values == 0  # hot/cold or tau check failed
        ax.plot(T[bad], q[bad], "x", ms=8, color=line[0].get_color())
    tf = np.geomspace(1.15 * t_c, T.max(), 100)
    ax.plot(tf, q_inf * np.sqrt(chi_paramagnet(tf, t_c)), "k-", lw=0.8,
            label=r"paramagnet: $\bar q_\infty\,(1-(T_c/T)^2)^{-1/2}$")
    ax.axhline(q_inf, color="k", ls=":", lw=0.8)
    ax.axvline(t_c, color="0.5", ls="--", lw=0.8, label=f"MSK $T_c$ = {t_c:.3f}")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("temperature T (units of the weights)")
    ax.set_ylabel(r"$\bar q(T)$ = mean $|Q_{ab}|$")
    ax.set_title(f"hidden layers of 784-{'-'.join(map(str, hidden))}-10 (N = {n}); "
                 "x: not equilibrated",
                 fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    files = [folder, nc, *save(fig, out / NAME)]
    failed = int(ds.attrs.get("failed_points", 0))
    ok = chi_ok and inf_ok and failed == 0 and bool(hot.any())
    print(f"  check: chi_SG above 2 T_c matches the paramagnet theory: {chi_ok}; q_bar at "
          f"T = {T[top]:g} matches the T = inf value: {inf_ok}; {failed} failed: "
          f"{'PASS' if ok else 'FAIL'}")
    checks = {"chi_ok": chi_ok, "inf_ok": inf_ok, "failed": failed, "T_c": t_c,
              "q_inf": q_inf, "onset": above, "chi": chi.tolist(), "chi_theory": chi_th.tolist()}
    return finish(NAME, t0, checks, ok, files)


if __name__ == "__main__":
    raise SystemExit(entry(main))
