"""``replicasolve kernel``: the covariance xi(q) of a random MLP's output and its first
three derivatives, with error estimates."""

from __future__ import annotations

import argparse
from typing import Any

from ..kernels.numeric import MAX_DEPTH
from ..version import __version__
from .args import add_quiet, emit, floats, int_type

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``kernel`` on the main parser's subparsers."""
    k = sub.add_parser(
        "kernel",
        help="covariance xi(q) of a random MLP's output and its first three derivatives",
        description="xi(q) = K_{L+1}(q) for inputs on the sphere with overlap q. ACTIVATION: "
        "a name (relu, tanh, sin, erf, gelu, silu, softplus, linear, ...) or a formula in x, "
        "e.g. 'x*erf(x) + 0.1*sin(3*x)'.",
    )
    k.add_argument("activation", help="a name (relu, tanh, ...) or a formula in x")
    k.add_argument(
        "--depth",
        type=int_type(0, MAX_DEPTH),
        default=1,
        help=f"number of hidden layers L (0..{MAX_DEPTH})",
    )
    add_quiet(k)
    k.add_argument(
        "--sigma-w2",
        default="1",
        help="weight variance sigma_w^2 (one, or one per layer; default 1 here and "
        "in landscape, while msk/tap/train default to C = 2, the same quantity)",
    )
    k.add_argument("--sigma-b2", default="0", help="bias variance (one, or one per layer)")
    k.add_argument(
        "--q",
        default="0,0.5,1",
        help="overlaps, comma list in [-1, 1] (a negative first value: --q=-0.5,0.5)",
    )
    k.add_argument("--order", type=int, default=200, help="Gauss-Hermite order per axis")
    k.add_argument(
        "--latex",
        action="store_true",
        help="also print xi(q) in closed form (LaTeX) where every layer has one",
    )
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    """Compose the layer maps of ``--activation`` and print xi and its derivatives."""
    import numpy as np

    from ..kernels.compose import xi_function
    from ..reported import claimed, error_floor
    from ..results import jsonable

    q = np.asarray(floats(args.q, "--q"))
    sw = floats(args.sigma_w2, "--sigma-w2")
    sb = floats(args.sigma_b2, "--sigma-b2")
    sw_arg = sw if len(sw) > 1 else sw[0]
    sb_arg = sb if len(sb) > 1 else sb[0]
    from ..progress import Reporter

    with Reporter("kernel", enabled=not args.quiet) as progress:
        # the text, not a parsed Activation: the cache is keyed by it, so a network built
        # before is read back without sympy (parsing the activation costs ~1.5 s)
        xf = xi_function(
            args.activation, args.depth, sw_arg, sb_arg, order=args.order, progress=progress
        )
    act = None
    if not xf.expression or args.latex:  # tables cached before the expression was kept
        from ..kernels.activation import activation

        act = activation(args.activation)
    expression = xf.expression or str(act.expr)
    values = np.asarray(xf.derivatives(q))
    err = error_floor(values, xf.errors_at(q))
    keys = ("xi", "xi_prime", "xi_second", "xi_third")

    def column(j: int) -> list | None:
        return None if np.all(np.isnan(values[j])) else jsonable(values[j])

    out = {
        "command": "kernel",
        "version": __version__,
        "activation": args.activation,
        "expression": expression,
        "depth": args.depth,
        "sigma_w2": sw,
        "sigma_b2": sb,
        "tiers": list(xf.tiers),
        "order": args.order,
        "q": q.tolist(),
    }
    for j, key in enumerate(keys):
        out[key] = column(j)
        out[f"{key}_error"] = None if out[key] is None else jsonable(err[j])
    tiers = ", ".join(sorted(set(xf.tiers))) or "none (depth 0)"
    latex = None
    if args.latex:
        from ..kernels.closed_xi import closed_xi

        closed = closed_xi(act, args.depth, sw_arg, sb_arg)
        latex = None if closed is None else closed.latex
        out["latex"] = latex
    lines = [
        f"xi(q) = K_{args.depth + 1}(q) of phi(x) = {expression}, {args.depth} hidden layer(s), "
        f"sigma_w2 = {args.sigma_w2}, sigma_b2 = {args.sigma_b2}",
        f"layer maps: {tiers} (quadrature order {args.order}); +- is an error estimate",
        f"{'q':>8}" + "".join(f"{k:>28}" for k in keys),
    ]
    for i, qi in enumerate(q):
        cells = [
            "n/a"
            if np.isnan(values[j, i])
            else f"{claimed(values[j, i], err[j, i])} +- {err[j, i]:.0e}"
            for j in range(4)
        ]
        lines.append(f"{qi:>8.4g}" + "".join(f"{c:>28}" for c in cells))
    if args.latex:
        lines.append(
            "xi(q) = " + latex
            if latex
            else "xi(q): no closed form through depth (some layer's kernel has none, e.g. tanh)"
        )
    if np.isnan(values).any():
        lines.append(
            "n/a: a kink or jump of phi makes this derivative a Dirac-delta kernel "
            "that only the closed-form tier evaluates (or the point is singular)"
        )
    emit(out, "\n".join(lines), args.json)
