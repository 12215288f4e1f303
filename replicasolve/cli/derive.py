"""``replicasolve derive``: the replica theory of a stated model derived by sympy (action,
saddle point, energy, entropy, Hessian), as LaTeX, Markdown or JSON, with an optional
numerical check against the solvers."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ..errors import ReplicaSolveError
from ..kernels.numeric import MAX_DEPTH
from .args import UsageError, check_out, emit, int_type, sizes

__all__ = ["add_parser", "parse_point", "run"]

#: the state-point names ``--check`` takes: temperature and field
POINT_NAMES = ("T", "h")
_ANSATZ_WORDS = {"rs": 0, "1rsb": 1, "full": None, "frsb": None}


def add_parser(sub: Any) -> None:
    """Register ``derive`` on the main parser's subparsers."""
    d = sub.add_parser(
        "derive",
        help="derive a model's replica action, saddle point and Hessian (LaTeX)",
        description="Derive, with sympy, the replica theory of a model: the free-energy "
        "functional in the n -> 0 limit from the replicated partition function, the "
        "saddle-point equations, energy and entropy, and the RS Hessian's three "
        "eigenvalues. Models: a mixed p-spin (--xi, or --activation/--depth for "
        "xi = K_{L+1}; --spins), a random-MLP input landscape (--activation --depth "
        "--landscape), or 'msk' (the "
        "multilayer SK model: --sizes/--variance, or --layers with --symbolic). Output: "
        "LaTeX (default), --markdown or --json; --out writes a compilable LaTeX document; "
        "--check T=...,h=... solves the same model numerically and prints the residual of "
        "every derived equation at the solver's solution.",
    )
    d.add_argument("model", nargs="?", default="pspin", choices=["pspin", "msk"],
                   help="which model: a mixed p-spin or landscape (default), or msk")
    d.add_argument("--xi", help="covariance xi(q) as a formula in q, e.g. 'q**2/2 + 0.1*q**4'")
    d.add_argument("--spins", default="ising", choices=["ising", "spherical"],
                   help="spin space of the mixed p-spin model")
    d.add_argument("--activation",
                   help="activation name (relu, erf, sin, ...) or a formula in x: xi is "
                   "the kernel K_{L+1} at --depth")
    d.add_argument("--depth", type=int_type(0, MAX_DEPTH), help="hidden layers L")
    d.add_argument("--sigma-w2", type=float, default=1.0, help="weight variance sigma_w^2")
    d.add_argument("--sigma-b2", type=float, default=0.0, help="bias variance sigma_b^2")
    d.add_argument("--landscape", action="store_true",
                   help="the random MLP's input landscape (spherical, Gaussian limit)")
    d.add_argument("--alpha", type=float,
                   help="with --landscape: finite width ratio N_1/N (depth >= 1)")
    d.add_argument("--sizes", help="msk: layer sizes N_0,...,N_L")
    d.add_argument("--variance", type=float, default=2.0,
                   help="msk: weight-variance factor C (W ~ N(0, C/fan_in))")
    d.add_argument("--layers", type=int_type(2, 40),
                   help="msk --symbolic: number of layers of spins (L + 1, as many as "
                   "--sizes would list)")
    d.add_argument("--symbolic", action="store_true",
                   help="msk: sizes and variances as symbols alpha_l, C_l")
    d.add_argument("--ansatz", default="rs",
                   help="rs, 1rsb, krsb (e.g. 2rsb) or full (the Parisi functional)")
    d.add_argument("--check", metavar="T=...,h=...", nargs="?", const="",
                   help="solve numerically at this state point and print the residuals "
                   "(msk: --check alone, T_c has no state point; alone for a p-spin: "
                   "T = 1, h = 0)")
    form = d.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="Markdown instead of LaTeX")
    form.add_argument("--json", action="store_true",
                      help="one JSON object (expressions as LaTeX and as sympy srepr)")
    d.add_argument("--out", help="write a compilable LaTeX document to this file")
    d.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    d.set_defaults(func=run)


def parse_point(text: str) -> dict[str, float]:
    """``"T=0.6,h=0.1"`` as ``{"T": 0.6, "h": 0.1}``: names from :data:`POINT_NAMES`, each
    once, values finite numbers."""
    point: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in POINT_NAMES:
            raise UsageError(f"--check: expected T=...,h=... (names {', '.join(POINT_NAMES)}), "
                             f"got {item.strip()!r}")
        if name in point:
            raise UsageError(f"--check: {name} given twice")
        try:
            v = float(value)
        except ValueError:
            raise UsageError(f"--check: {name} must be a number, got {value.strip()!r}") from None
        if not math.isfinite(v):
            raise UsageError(f"--check: {name} must be finite, got {value.strip()!r}")
        point[name] = v
    return point


def _ansatz(text: str) -> Any:
    from ..solvers.methods import RS, RSB, FullRSB

    word = text.strip().lower()
    if word in _ANSATZ_WORDS:
        k = _ANSATZ_WORDS[word]
        return FullRSB() if k is None else (RS() if k == 0 else RSB(k))
    if word.endswith("rsb") and word[:-3].isdigit():
        return RSB(int(word[:-3]))
    raise UsageError(f"--ansatz must be rs, 1rsb, 2rsb, ... or full, got {text!r}")


def _problem(args: argparse.Namespace, T: float, h: float) -> Any:
    """The problem object the flags describe (the library validates its values)."""
    if args.model == "msk":
        for flag, given in (("--xi", args.xi), ("--activation", args.activation),
                            ("--landscape", args.landscape)):
            if given:
                raise UsageError(f"{flag} does not apply to msk")
        if args.symbolic:
            if args.sizes is not None:
                raise UsageError("--symbolic takes --layers, not --sizes")
            if args.layers is None:
                raise UsageError("msk --symbolic needs --layers")
            return None
        if args.layers is not None:
            raise UsageError("--layers applies to msk --symbolic; give --sizes")
        from ..models.msk import MSK

        return MSK(sizes(args.sizes) if args.sizes else (784, 512, 512, 512, 10),
                   args.variance)
    if args.symbolic or args.layers is not None or args.sizes is not None:
        raise UsageError("--symbolic, --layers and --sizes apply to msk")
    if (args.xi is None) == (args.activation is None):
        raise UsageError("give exactly one of --xi and --activation (with --depth)")
    if args.activation is not None and args.depth is None:
        raise UsageError("--activation needs --depth")
    if args.xi is not None and (args.depth is not None or args.landscape):
        raise UsageError("--depth and --landscape go with --activation, not --xi")
    if args.alpha is not None and not args.landscape:
        raise UsageError("--alpha needs --landscape")
    if args.landscape:
        from ..models.landscape import FiniteWidthLandscape, RandomMLPLandscape

        if h != 0:
            raise UsageError("a landscape has no field: --check takes T only")
        if args.alpha is not None:
            return FiniteWidthLandscape(args.activation, args.depth, args.sigma_w2,
                                        args.sigma_b2, args.alpha, T)
        return RandomMLPLandscape(args.activation, args.depth, args.sigma_w2, args.sigma_b2,
                                  T=T)
    from ..models.pspin import MixedPSpin

    if args.xi is not None:
        return MixedPSpin(args.xi, spins=args.spins, T=T, field=h)
    from ..kernels.compose import xi_function

    xi = xi_function(args.activation, args.depth, args.sigma_w2, args.sigma_b2, tier="closed")
    return MixedPSpin(xi, spins=args.spins, T=T, field=h)


def run(args: argparse.Namespace) -> int:
    """Derive, print (or write), and check; 0 when the check (if any) passed, 3 when not."""
    from ..derivation import derive

    if args.force and args.out is None:
        raise UsageError("--force only applies together with --out")
    if args.out is not None:
        check_out(args.out, args.force)
    point = parse_point(args.check) if args.check else {}
    if args.model == "msk":
        if args.check is not None and args.symbolic:
            raise UsageError("--check needs numbers: give --sizes, not --symbolic")
        if point:
            raise UsageError("msk --check takes no state point (T_c does not depend on one): "
                             "give --check alone")
    ansatz = _ansatz(args.ansatz)
    problem = _problem(args, point.get("T", 1.0), point.get("h", 0.0))
    try:
        if problem is None:
            from ..derivation import derive_msk_symbolic

            derivation = derive_msk_symbolic(args.layers, ansatz)
        else:
            derivation = derive(problem, ansatz)
    except (ArithmeticError, ValueError, TypeError) as exc:  # not ours: say it in one line
        if isinstance(exc, ReplicaSolveError):
            raise
        raise UsageError(f"derive: {' '.join(str(exc).split())}") from None
    status = 0
    check = None
    if args.check is not None:
        if args.model != "msk":
            point = {"T": point.get("T", 1.0), "h": point.get("h", 0.0)}
            if args.landscape:
                point.pop("h")
        check = derivation.check(**point)
        status = 0 if check.converged else 3
    if args.out is not None:
        from ..files import atomic_write

        text = derivation.latex(document=True)
        atomic_write(args.out, lambda fh: fh.write(text.encode("utf-8")))
    if args.json:
        out = {"command": "derive", **derivation.to_dict()}
        if check is not None:
            out["check"] = check.to_dict()
        if args.out is not None:
            out["written"] = args.out
        emit(out, "", True, strict=True)
        return status
    text = derivation.markdown() if args.markdown else derivation.latex()
    if check is not None:
        text += "\n\n" + check.table()
    if args.out is not None:
        text += f"\n\nwrote {args.out}"
    emit({}, text, False)
    return status
