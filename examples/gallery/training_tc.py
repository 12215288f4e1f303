"""Gallery (d): the TAP critical temperature T_c over training (arXiv 2408.06421, section 3).

Trains a small MLP (784-64-64-10, the standard program: ReLU, multi-class hinge loss, SGD
with momentum, on the embedded MNIST subset) for the epochs of ``training_tc.toml``, then runs
that sweep (the ``run`` model: TAP T_c of each epoch's snapshot, finite-size corrected with
epoch 0 as the reference) and ``training_tc_random.toml`` (the ``tap`` model: T_c of random
Kaiming networks of the same sizes over seeds, the finite-size spread).

Check: the epoch-0 network is a random Kaiming instance (C = 2), so its T_c must lie in the
spread of random instances around the replica value of the multilayer SK model for the same
layer sizes and C (``msk_critical``; Barney, Winer & Galitski, arXiv 2408.06421):
|T_c(0) − mean| ≤ 4 standard deviations of the random instances (a Gaussian 4σ band; the
spread is the finite-size effect of N ≈ 900 spins). The deviation from the MSK value itself
is printed.

    python examples/gallery/training_tc.py [--out gallery_out] [--force] [--quick]

Writes the run folder ``training_tc_run/``, ``training_tc.nc``, ``training_tc_random.nc``
and ``training_tc.png`` / ``.pdf`` into ``--out``.
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

NAME = "training_tc"
VARIANCE = 2.0  # C of the initialisation (TrainSettings.init_gain2 default; Kaiming)
FULL = {"hidden": (64, 64), "n_train": 2000, "n_val": 500}
QUICK = {"hidden": (32, 32), "n_train": 256, "n_val": 128, "epochs": [0, 1],
         "seeds": [0, 1, 2, 3]}
Z_MAX = 4.0
# in --out: files, then the training run folder
OUTPUTS = [f"{NAME}.nc", f"{NAME}_random.nc", f"{NAME}.png", f"{NAME}.pdf", f"{NAME}_run"]


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, run both sweeps, draw T_c(epoch), print and return the check."""
    from replicasolve.models.msk import msk_critical

    args = parse_args(__doc__, argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    nc, nc_rand = claim(out, OUTPUTS[:-1], args.force)[:2]
    folder = claim_run(out, OUTPUTS[-1], args.force)
    spec = load_toml(f"{NAME}.toml")
    rand = load_toml(f"{NAME}_random.toml")
    settings = dict(FULL)
    if args.quick:
        settings.update({k: QUICK[k] for k in FULL})
        spec["axes"] = {"epoch": QUICK["epochs"]}
        rand["axes"] = {"seed": QUICK["seeds"]}
    hidden = tuple(settings["hidden"])
    epochs = int(max(spec["axes"]["epoch"]))
    print(f"{NAME}: {spec['name']}; C = {VARIANCE:g}")
    train_small(folder, hidden, epochs, settings["n_train"], settings["n_val"])

    spec["model"]["run"] = str(folder)
    rand["model"].update({"width": hidden[0], "depth": len(hidden), "variance": VARIANCE})
    ds = sweep(spec, nc, args.workers)
    ref = sweep(rand, nc_rand, args.workers)
    sizes = [int(rand["model"]["n_in"]), *hidden, int(rand["model"]["n_out"])]
    t_msk = msk_critical(sizes, VARIANCE).T_c
    t_rand = ref["T_c"].values
    mean, sd = float(np.mean(t_rand)), float(np.std(t_rand, ddof=1))
    tc = ds["T_c"].values
    z = abs(tc[0] - mean) / sd
    print(f"  MSK T_c for sizes {sizes}, C = {VARIANCE:g}: {t_msk:.5f}")
    print(f"  random instances ({t_rand.size} seeds): T_c = {mean:.5f} +- {sd:.5f} "
          f"(mean/MSK = {mean / t_msk:.4f})")
    print(f"  epoch 0: T_c = {tc[0]:.5f} (/MSK = {tc[0] / t_msk:.4f}; z = {z:.2f} against the "
          f"random instances)")
    print("  T_c over training: " + ", ".join(
        f"epoch {int(e)}: {t:.4g}" for e, t in zip(ds["epoch"].values, tc, strict=True)))

    fig, axes = figure()
    ax = axes[0, 0]
    ax.plot(ds["epoch"].values, tc, "o-", ms=4, label="TAP $T_c$ of the snapshot")
    ax.axhline(t_msk, color="k", lw=0.8, ls="--", label=f"MSK $T_c$ = {t_msk:.3f}")
    ax.axhspan(mean - 2 * sd, mean + 2 * sd, color="0.85",
               label=r"random instances, mean $\pm$ 2 sd")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"$T_c$ (units of the weights)")
    ax.set_title(f"784-{'-'.join(map(str, hidden))}-10, standard program, C = {VARIANCE:g}",
                 fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    files = [folder, nc, nc_rand, *save(fig, out / NAME)]
    ok = bool(z <= Z_MAX and int(ds.attrs.get("failed_points", 0)) == 0)
    print(f"  check: epoch-0 T_c within {Z_MAX:g} sd of random instances (z = {z:.2f}): "
          f"{'PASS' if ok else 'FAIL'}")
    checks = {"T_c": tc.tolist(), "T_c_msk": t_msk, "random_mean": mean, "random_sd": sd,
              "z_epoch0": float(z), "ratio_epoch0_msk": float(tc[0] / t_msk)}
    return finish(NAME, t0, checks, ok, files)


if __name__ == "__main__":
    raise SystemExit(entry(main))
