"""``replicasolve tap``: the TAP critical point of one network instance, random or
given by its weights, beside the replica theory's."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..version import __version__
from .args import (
    DEFAULT_SIZES,
    UsageError,
    add_quiet,
    add_variance,
    emit,
    float_type,
    fmt,
    require_memory,
    seed_type,
    short,
    sizes,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``tap`` on the main parser's subparsers."""
    t = sub.add_parser(
        "tap",
        help="TAP beta_c of one instance: random (--sizes, --seed) or given weights",
        description="TAP critical point of one network instance. WEIGHTS: a .npz file "
        "(2-D arrays in layer order, shape (out, in)) or a torch .pt state dict/module.",
    )
    t.add_argument("weights", nargs="?", help="weights file (.npz or .pt)")
    t.add_argument("--sizes", help=f"layer sizes of a random instance (default {DEFAULT_SIZES})")
    t.add_argument("--seed", type=seed_type, help="seed of the random instance (default 0)")
    add_variance(t)
    t.add_argument(
        "--definition", choices=["corrected", "plain"],
        help="corrected: first beta where lambda_min(A) reaches the minimum of the "
        "reference's (the paper's finite-size correction; needs --reference with a weights "
        "file, a random instance is its own reference); plain: first beta where A stops "
        "being positive definite. Default: corrected for a random instance or with "
        "--reference, plain for a weights file without one (said on stderr)",
    )
    t.add_argument("--reference", help="weights file of the reference (untrained) instance, "
                   "e.g. the epoch-0 snapshot of a training run")
    t.add_argument("--threshold", type=float_type,
                   help="explicit threshold on lambda_min(A) (instead of --definition)")
    t.add_argument("--rtol", type=float_type, default=1e-10,
                   help="relative tolerance on beta_c, in (0, 1e-2)")
    t.add_argument("--spectrum", action="store_true", help="also level statistics, lambda_max(J)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet(t)
    t.set_defaults(func=run)


def _tap_memory(sizes: Sequence[int]) -> int:
    """Bytes a TAP analysis of layer sizes ``sizes`` holds at its peak: the weights and a
    temporary of their size, and the Cholesky factors of A(beta)'s diagonal blocks with
    the Schur complement being factorised (float64)."""
    from itertools import pairwise

    pairs = sum(a * b for a, b in pairwise(sizes))
    squares = sum(n * n for n in sizes[1:])
    return 8 * (2 * pairs + 2 * squares)


def _tap_bonds(args: argparse.Namespace):
    from .. import validation
    from ..tap.bonds import load_weights, random_layered

    if args.weights is not None:
        if args.sizes is not None or args.seed is not None:
            raise UsageError("give either a weights file or --sizes/--seed, not both")
        bonds = load_weights(args.weights)
        require_memory(_tap_memory(bonds.sizes), f"the TAP analysis of {args.weights} (sizes "
                       f"{','.join(map(str, bonds.sizes))})")
        return bonds, f"weights from {args.weights}"
    seed = 0 if args.seed is None else args.seed
    layer_sizes = validation.layer_sizes(sizes(args.sizes or DEFAULT_SIZES))
    validation.variances(args.variance, len(layer_sizes) - 1)  # before the memory estimate
    require_memory(_tap_memory(layer_sizes), f"a random instance with --sizes "
                   f"{short(','.join(map(str, layer_sizes)), 60)}")
    _check_spectrum(args, sum(layer_sizes))
    return random_layered(layer_sizes, args.variance, seed), f"random instance, seed {seed}"


def _check_spectrum(args: argparse.Namespace, n: int) -> None:
    from ..tap.matrix import DENSE_MAX_N

    if args.spectrum and n > DENSE_MAX_N:
        raise UsageError(f"--spectrum diagonalises the dense {n}x{n} matrix A(beta_c); "
                         f"that is limited to N <= {DENSE_MAX_N} spins")


def _tap_definition(args: argparse.Namespace) -> tuple[str, str | None]:
    """(definition, note for stderr or None) from --definition, --threshold, --reference.

    The corrected beta_c compares lambda_min(A) with that of an untrained reference. A
    random instance is its own reference; a weights file (often a trained network) is not,
    so without --reference its default is the plain definition, said on stderr."""
    if args.threshold is not None:
        import math

        if args.definition is not None:
            raise UsageError("--threshold sets its own definition: give --threshold or "
                             "--definition, not both")
        if not math.isfinite(args.threshold):
            raise UsageError(f"--threshold must be finite, got {args.threshold:g}")
        return "threshold", None
    if args.weights is None or args.reference is not None:
        if args.definition == "plain" and args.reference is not None:
            raise UsageError("--reference only goes with the corrected definition")
        return args.definition or "corrected", None
    if args.definition == "corrected":
        raise UsageError(
            "--definition corrected needs --reference (the untrained network's weights "
            "file; to use this network as its own reference, give its file again)")
    if args.definition == "plain":
        return "plain", None
    return "plain", ("replicasolve: note: plain beta_c (first beta where A stops being "
                     "positive definite); the finite-size corrected one needs --reference "
                     "(the untrained network's weights)")


def run(args: argparse.Namespace) -> None:
    """Find the TAP beta_c of the instance, compare it with the theory and print both."""
    from ..models.msk import msk_critical
    from ..reported import decimal
    from ..tap.bonds import load_weights
    from ..tap.critical import tap_critical
    from ..tap.spectra import bond_lambda_max, tap_level_stats

    definition, note = _tap_definition(args)
    if not 0 < args.rtol < 1e-2:
        raise UsageError(f"--rtol must be in (0, 1e-2), got {args.rtol:g}")
    bonds, origin = _tap_bonds(args)
    _check_spectrum(args, bonds.n)
    reference = load_weights(args.reference) if args.reference else None
    if reference is not None:
        require_memory(_tap_memory(reference.sizes), f"the reference {args.reference}")
    from ..progress import Reporter

    stages = 3 if args.spectrum else 1
    rep = Reporter("tap", enabled=not args.quiet)
    rep.show(f"tap: beta_c of N = {bonds.n} spins (1/{stages})", force=True)
    try:
        r = tap_critical(
            bonds, definition=definition, threshold=args.threshold, reference=reference,
            rtol=args.rtol,
        )
        if args.spectrum:
            rep.show(f"tap: level statistics of A(beta_c), dense {bonds.n}x{bonds.n} "
                     f"(2/{stages})", force=True)
            ls = tap_level_stats(bonds, r.beta_c)
            rep.show(f"tap: lambda_max(J) (3/{stages})", force=True)
            lmax = bond_lambda_max(bonds)
    finally:
        rep.clear()
    c_used = r.variance_factors if args.weights is not None else args.variance
    theory = msk_critical(bonds.sizes, c_used)
    out = {"command": "tap", "version": __version__, "origin": origin, **r.to_dict()}
    out["reference"] = (args.reference if reference is not None else
                        "self (random instance)" if r.definition == "corrected" else None)
    out["msk_beta_c"] = theory.beta_c
    out["msk_T_c"] = theory.T_c
    out["msk_variances"] = list(theory.variances)
    out["msk_mode"] = list(theory.mode)
    lines = [
        f"TAP critical point, {origin}",
        f"  sizes = {','.join(map(str, bonds.sizes))}   N = {bonds.n}",
        f"  C (empirical N_in*mean W^2) = {fmt(r.variance_factors)}",
        f"  definition = {r.definition}"
        + (f" (reference {out['reference']})" if out["reference"] else "")
        + f"   threshold = {r.threshold:.10g}   crossed = {r.crossed}",
        f"  beta_c = {decimal(r.beta_c, 10)}   T_c = {decimal(r.T_c, 10)}   "
        f"(rtol {r.rtol:g}, {r.evaluations} evaluations, converged = {r.converged})",
        f"  min_beta lambda_min(A) = {r.lambda_at_min:.6g} at beta = {decimal(r.beta_min, 10)}",
        f"  soft mode q_l = {fmt(r.mode)}",
        f"  MSK theory (C = {fmt(theory.variances, 3)}): beta_c = {decimal(theory.beta_c, 10)}"
        f"   T_c = {decimal(theory.T_c, 10)}   mode q_l = {fmt(theory.mode)}",
    ]
    if args.spectrum:
        out["level_stats"] = ls.to_dict()
        out["lambda_max_J"] = lmax
        lines.append(
            f"  A(beta_c): first spacing / median spacing = {ls.normalized_first_spacing:.4f}"
            f"   lambda_max(J) = {lmax:.6f}"
        )
    emit(out, "\n".join(lines), args.json)
    if note:
        print(note, file=sys.stderr)
