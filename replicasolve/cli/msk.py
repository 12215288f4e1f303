"""``replicasolve msk``: the multilayer SK replica theory of a layered network (beta_c,
T_c and the unstable mode)."""

from __future__ import annotations

import argparse
from typing import Any

from ..version import __version__
from .args import DEFAULT_SIZES, UsageError, add_variance, emit, float_sizes, sizes

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``msk`` on the main parser's subparsers."""
    m = sub.add_parser("msk", help="multilayer SK replica theory: beta_c, T_c, unstable mode")
    m.add_argument("--sizes", default=DEFAULT_SIZES,
                   help="layer sizes N_0,...,N_L (any size up to ~1e308: the theory is exact "
                   "at N -> infinity with the ratios fixed)")
    add_variance(m)
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Solve the replica theory for ``--sizes``/``--variance`` and print it."""
    from ..models.msk import msk_critical

    layer_sizes = sizes(args.sizes)
    float_sizes(layer_sizes)
    try:
        r = msk_critical(layer_sizes, args.variance)
    except OverflowError:  # pragma: no cover - float_sizes keeps every size in range
        raise UsageError("--sizes: beyond floating-point range") from None
    emit({"command": "msk", "version": __version__, **r.to_dict()}, str(r), args.json)
