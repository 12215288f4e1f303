"""``replicasolve`` alone (or ``replicasolve demo``): the main job, the critical
temperature of the 784-512-512-512-10 network by the replica theory and by TAP on one
random Kaiming instance."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ..version import __version__
from .args import DEFAULT_SIZES, add_variance, emit, fmt

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``demo`` on the main parser's subparsers."""
    d = sub.add_parser("demo", help="the main job (the default when no subcommand is given)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    add_variance(d)
    d.set_defaults(func=run)


def _c_words(variances: Sequence[float]) -> str:
    """What the factors C mean: C = 2 is torch's kaiming_normal_ with the ReLU gain."""
    c = ",".join(f"{v:g}" for v in variances)
    if all(v == 2 for v in variances):
        return f"C = {c} (torch's kaiming_normal_ with the ReLU gain)"
    return f"C = {c}"


def run(args: argparse.Namespace) -> None:
    """Run the main job and print its table (or JSON)."""
    from ..models.msk import msk_critical
    from ..reported import decimal, relative_difference
    from ..tap.bonds import random_layered
    from ..tap.critical import tap_critical

    sizes, seed = DEFAULT_SIZES, 0
    theory = msk_critical(sizes, args.variance)
    bonds = random_layered(sizes, args.variance, seed)
    r = tap_critical(bonds)
    rel = relative_difference(r.beta_c, theory.beta_c)
    out = {
        "command": "demo",
        "version": __version__,
        "sizes": list(theory.sizes),
        "variances": list(theory.variances),
        "msk": theory.to_dict(),
        "tap": r.to_dict(),
        "seed": seed,
        "relative_difference_beta_c": rel,
    }
    text = "\n".join(
        [
            f"replicasolve {__version__}: critical temperature of the {sizes.replace(',', '-')}"
            f" network",
            f"weights ~ N(0, C/N_in) with {_c_words(theory.variances)}",
            "",
            f"{'method':<44}{'beta_c':>14}{'T_c':>14}",
            f"{'MSK replica theory (N -> infinity)':<44}"
            f" {decimal(theory.beta_c, 8):>13} {decimal(theory.T_c, 8):>13}",
            f"{f'TAP, one random instance (seed {seed}, N={bonds.n})':<44}"
            f" {decimal(r.beta_c, 8):>13} {decimal(r.T_c, 8):>13}",
            f"{'relative difference':<44}{rel:>14.2e}",
            "",
            f"TAP beta_c: finite-size corrected definition (the minimum of lambda_min(A(beta)),"
            f" {r.lambda_at_min:.4g}), rtol {r.rtol:g}",
            f"unstable mode q_l, theory {fmt(theory.mode)}",
            f"unstable mode q_l, TAP    {fmt(r.mode)}",
        ]
    )
    emit(out, text, args.json)
