"""Gallery (c): RS / RSB phase diagrams (depth × T) of random-MLP input landscapes for relu,
tanh, sin and erf in the infinite-width (Gaussian) limit, as one figure with four panels.

Runs the sweeps ``activation_{relu,tanh,sin,erf}.toml`` (the ``landscape`` model) and prints
what was found against the published findings of Hanin & Winer (arXiv 2503.23982): shallow
tanh and ReLU networks replica symmetric, sin replica-symmetry broken. Those findings are
for widths proportional to N; in the Gaussian limit, which drops the finite-width terms of
the layer-overlap action (derivations/finite_width_landscape.py), they need not hold, so
they are reported (AGREES / DISAGREES, with where), not required.

Check (required): at depth 1 the Gaussian landscape of sin and of erf is the spherical mixed
p-spin model with a closed-form ξ(q) = σ_b² + σ_w² E[φ(u)φ(v)] (sin: e^{-k} sinh c; erf:
(2/π) arcsin(2c/(1+2k)), k = σ_b² + σ_w², c = σ_b² + σ_w² q). The same temperatures are run
through the ``pspin`` model (spherical spins, ξ given as that formula: a different code path,
no activation kernels), and every phase label must agree.

    python examples/gallery/activation_phases.py [--out gallery_out] [--force] [--quick]

Writes ``activation_<name>.nc`` for each activation, ``activation_crosscheck_<name>.nc``,
and ``activation_phases.png`` / ``.pdf`` into ``--out``.
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
    PHASE_NAMES,
    claim,
    entry,
    figure,
    finish,
    load_toml,
    parse_args,
    phase_cells,
    save,
    sweep,
)

NAME = "activation_phases"
ACTIVATIONS = ("relu", "tanh", "sin", "erf")
OUTPUTS = [*(f"activation_{a}.nc" for a in ACTIVATIONS),
           *(f"activation_crosscheck_{a}.nc" for a in ("sin", "erf")),
           f"{NAME}.png", f"{NAME}.pdf"]  # in --out
QUICK_AXES = {"depth": [1, 2], "T": [0.1, 1.2]}


def closed_form_xi(activation: str, sigma_w2: float, sigma_b2: float) -> str:
    """ξ(q) of a depth-1 network as a formula in q (sin, erf; replicasolve.symbolic.kernels)."""
    k = sigma_b2 + sigma_w2
    c = f"({sigma_b2!r} + {sigma_w2!r}*q)"
    if activation == "sin":
        inner = f"exp(-{k!r})*sinh({c})"
    elif activation == "erf":
        x = f"(2*{c}/(1 + 2*{k!r}))"
        inner = f"(2/pi)*atan({x}/sqrt(1 - {x}**2))"  # arcsin x (the parser has atan)
    else:
        raise ValueError(f"no closed form for {activation}")
    return f"{sigma_b2!r} + {sigma_w2!r}*{inner}"


def _describe(temps: np.ndarray, row: np.ndarray) -> str:
    return ", ".join(f"T={t:g}: {PHASE_NAMES.get(int(c), '?')}"
                     for t, c in zip(temps, row, strict=True))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the four sweeps and the cross-checks, draw the panels, print and return checks."""
    args = parse_args(__doc__, argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    names = OUTPUTS[:-2]
    paths = claim(out, OUTPUTS, args.force)
    print(f"{NAME}: random-MLP landscapes, infinite width")
    results: dict[str, Any] = {}
    specs: dict[str, dict[str, Any]] = {}
    for a, nc in zip(ACTIVATIONS, paths, strict=False):
        spec = load_toml(f"activation_{a}.toml")
        if args.quick:
            spec["axes"] = dict(QUICK_AXES)
        specs[a] = spec
        results[a] = sweep(spec, nc, args.workers)

    findings: dict[str, str] = {}
    failed = sum(int(ds.attrs.get("failed_points", 0)) for ds in results.values())
    for a in ACTIVATIONS:
        ds = results[a]
        temps = ds["T"].values
        row = ds["phase"].sel(depth=1).values
        m = specs[a]["model"]
        print(f"  {a} (sigma_w2 = {m['sigma_w2']}, sigma_b2 = {m['sigma_b2']}), depth 1: "
              + _describe(temps, row))
        low = ds["phase"].sel(T=temps.min()).values
        print(f"  {a}, lowest T = {temps.min():g}, depths {[int(d) for d in ds['depth'].values]}: "
              + ", ".join(PHASE_NAMES.get(int(c), "?") for c in low))
        if a in ("relu", "tanh"):
            rs = row == 0
            if rs.all():
                findings[a] = "AGREES: depth 1 is RS at every T"
            else:
                t_bad = float(temps[~rs].max())
                findings[a] = (f"DISAGREES below T = {t_bad:g} (RS at T > {t_bad:g}; RSB in "
                               "the Gaussian limit at low T)")
        elif a == "sin":
            low_rsb = bool(np.all(low > 0))
            findings[a] = ("AGREES: RSB at the lowest T at every depth ("
                           + ", ".join(sorted({PHASE_NAMES[int(c)] for c in low if c > 0}))
                           + "; full RSB is the published finding)") if low_rsb else \
                "DISAGREES: RS at the lowest T at some depth"
    for a, text in findings.items():
        claim_text = "replica symmetric when shallow" if a != "sin" else "RSB"
        print(f"  published ({a} {claim_text}): {text}")

    mismatches = 0
    cross: dict[str, Any] = {}
    for a, nc in zip(("sin", "erf"), paths[len(ACTIVATIONS):len(names)], strict=True):
        m = specs[a]["model"]
        temps = [float(t) for t in results[a]["T"].values]
        spec = {"name": f"{a} depth 1 as a spherical mixed p-spin model", "quantity": "phase",
                "model": {"kind": "pspin", "spins": "spherical",
                          "xi": closed_form_xi(a, float(m["sigma_w2"]), float(m["sigma_b2"]))},
                "axes": {"T": temps}}
        ref = sweep(spec, nc, args.workers)["phase"].values
        got = results[a]["phase"].sel(depth=1).values
        bad = int(np.sum(ref != got))
        mismatches += bad
        cross[a] = {"landscape": got.tolist(), "pspin": ref.tolist()}
        print(f"  cross-check {a}, depth 1, xi = {spec['model']['xi']}: landscape "
              f"{[PHASE_NAMES[int(c)] for c in got]} vs pspin "
              f"{[PHASE_NAMES.get(int(c), '?') for c in ref]}: {bad} mismatch(es)")

    fig, axes = figure(2, 2, sharex=True, sharey=True, figsize=(8.0, 6.0))
    for ax, a in zip(axes.ravel(), ACTIVATIONS, strict=True):
        ds = results[a]
        phase_cells(ax, ds["depth"].values, ds["T"].values,
                    ds["phase"].transpose("T", "depth").values)
        m = specs[a]["model"]
        ax.set_title(rf"{a}: $\sigma_w^2$ = {m['sigma_w2']}, $\sigma_b^2$ = {m['sigma_b2']}",
                     fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("hidden layers L")
    for ax in axes[:, 0]:
        ax.set_ylabel("temperature T")
    files = [*paths[: len(names)], *save(fig, out / NAME)]
    ok = mismatches == 0 and failed == 0
    print(f"  check: {mismatches} cross-check mismatch(es), {failed} failed point(s): "
          f"{'PASS' if ok else 'FAIL'}")
    checks = {"mismatches": mismatches, "failed": failed, "findings": findings,
              "crosscheck": cross}
    return finish(NAME, t0, checks, ok, files)


if __name__ == "__main__":
    raise SystemExit(entry(main))
