"""``replicasolve parisi``: the Parisi free energy or ground state of a mixed p-spin
model (RS, k-step RSB, full RSB)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ReplicaSolveError
from ..version import __version__
from .args import UsageError, add_quiet, check_out, emit, save_json, strict_json

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``parisi`` on the main parser's subparsers."""
    pp = sub.add_parser(
        "parisi",
        help="Parisi free energy / ground state of a mixed p-spin model (RS, kRSB, full RSB)",
        description="Solve the Parisi variational problem of the mixed p-spin model with "
        "covariance E H(s)H(s') = N xi(s.s'/N), Ising or spherical spins, temperature T and "
        "field h; print the result table (model, method, free energy or ground-state "
        "energy, order parameter, replicon, convergence). Exit status: 0 converged; "
        "2 bad input (one line on stderr); 3 the solver did not converge: the result is "
        "still printed (and saved with --out, with \"converged\": false) and a one-line "
        "warning goes to stderr.",
    )
    pp.add_argument(
        "--xi", required=True,
        help="covariance xi(q), a formula in q with non-negative power-series coefficients "
        "(parsed by a whitelist parser, never evaluated as Python), e.g. 'q**2/2' (SK), "
        "'q**3', 'q**2/2 + 0.1*q**4', 'exp(q) - 1'",
    )
    pp.add_argument("--spins", choices=["ising", "spherical"], default="ising",
                    type=str.lower, help="spin type (default ising)")
    pp.add_argument("--T", type=float, required=True,
                    help="temperature T >= 0; 0 asks for the ground-state energy")
    pp.add_argument("--field", type=float, default=0.0, help="external field h (default 0)")
    pp.add_argument(
        "--rsb", default="full",
        help="rs, 1rsb, 2rsb, ..., an integer k (steps of RSB), or full (k -> infinity "
        "extrapolation of k-step solutions; the default)",
    )
    pp.add_argument("--ks",
                    help="full RSB only: the ladder of k, comma list of at least three "
                    "increasing integers >= 1 (default 2,3,4,5,6,8,10,12)")
    pp.add_argument("--tol", type=float,
                    help="stationarity tolerance of the solver (default: Options.tol, 1e-6)")
    pp.add_argument("--maxiter", type=int,
                    help="optimiser iteration limit (default: Options.maxiter, 2000)")
    pp.add_argument("--out", metavar="PATH",
                    help="also save the result as JSON to PATH (written atomically; an "
                    "existing file is refused unless --force)")
    pp.add_argument("--force", action="store_true", help="let --out overwrite PATH")
    pp.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet(pp)
    pp.set_defaults(func=run)


def _rsb_method(text: str):
    """``--rsb``: rs, 1rsb, <k>rsb, an integer k, or full (negative k named as such)."""
    from ..solvers.methods import RSB, as_method

    t = text.strip()
    if t.startswith("-") and t[1:].isdigit():
        RSB(int(t))  # raises: "number of RSB steps k must be an integer >= 0"
    return as_method(t)


def _ks(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--ks must be a comma list of integers, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    """Solve the Parisi problem; 0 converged, 3 not (the result is still printed)."""
    from ..errors import ConvergenceError
    from ..models.pspin import MixedPSpin
    from ..progress import Reporter
    from ..solvers import Options, solve
    from ..solvers.methods import FullRSB

    if args.out is not None:
        check_out(args.out, args.force)
    elif args.force:
        raise UsageError("--force only applies together with --out")
    method = _rsb_method(args.rsb)
    if args.ks is not None:
        if not isinstance(method, FullRSB):
            raise UsageError("--ks applies only to --rsb full")
        method = FullRSB(ks=_ks(args.ks))
    if args.tol is not None and not 0 < args.tol < float("inf"):
        raise UsageError(f"--tol must be a positive number, got {args.tol:g}")
    if args.maxiter is not None and args.maxiter < 1:
        raise UsageError(f"--maxiter must be >= 1, got {args.maxiter}")
    opts = {k: v for k, v in (("tol", args.tol), ("maxiter", args.maxiter)) if v is not None}
    options = Options(**opts)
    try:
        model = MixedPSpin(args.xi, spins=args.spins, T=args.T, field=args.field)
    except ReplicaSolveError:
        raise
    except (ArithmeticError, ValueError, TypeError) as exc:  # a formula the checks missed
        raise UsageError(f"xi = {args.xi}: cannot be evaluated on [0, 1] ({exc})") from None
    try:
        with Reporter("parisi", enabled=not args.quiet) as progress:
            r = solve(model, method, options, progress=progress)
    except ConvergenceError as exc:
        print(f"replicasolve: parisi did not converge: {exc}", file=sys.stderr)
        return 3
    out = strict_json({"command": "parisi", "version": __version__, **r.to_dict()})
    if args.out is not None:
        save_json(out, args.out, args.force)
    emit(out, r.table(), args.json)
    if not r.converged:
        tol = options.tol
        said = " ".join(str(r.message).split())  # one line whatever the optimiser said
        print(
            f"replicasolve: warning: the {r.method} solution did not converge (residual "
            f"{r.residual:.1e}, tol {tol:g}, {r.iterations} iterations"
            f"{'; ' + said if said else ''}): the result is printed but not reliable "
            "(exit status 3)",
            file=sys.stderr,
        )
        return 3
    return 0
