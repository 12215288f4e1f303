"""``replicasolve landscape``: a random MLP as a Hamiltonian over its input, in the
infinite-width limit or (``--alpha``) at finite width."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ReplicaSolveError
from ..kernels.numeric import MAX_DEPTH
from ..version import __version__
from .args import UsageError, add_quiet, emit, int_type, strict_json

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register ``landscape`` on the main parser's subparsers."""
    ls = sub.add_parser(
        "landscape",
        help="a random MLP as a Hamiltonian over its input (infinite-width limit)",
        description="The input landscape H(x) = sqrt(N) f(x) of a random MLP on the sphere "
        "|x|^2 = N, in the infinite-width (Gaussian) limit where it is the spherical mixed "
        "p-spin model with xi = K_{L+1} (Hanin & Winer, arXiv 2503.23982). Actions: "
        "'solve' (default: free energy, energy, entropy, overlap q(x) at --T, and the "
        "RS/1RSB/FRSB character with the criterion that decided it), 'entropy' (S(E) at "
        "--E by Legendre transform), 'ground-state' (ground-state and threshold energies). "
        "Energies per input dimension; entropy relative to the uniform measure (S <= 0).",
    )
    ls.add_argument("action", nargs="?", default="solve",
                    choices=["solve", "entropy", "ground-state"], help="what to compute")
    ls.add_argument("--activation", required=True,
                    help="activation name (relu, tanh, sin, erf, ...) or a formula in x")
    ls.add_argument("--depth", type=int_type(0, MAX_DEPTH), required=True,
                    help=f"hidden layers L (0..{MAX_DEPTH})")
    ls.add_argument("--sigma-w2", type=float, default=1.0,
                    help="weight variance sigma_w^2 (default 1 here and in kernel, while "
                    "msk/tap/train default to C = 2, the same quantity)")
    ls.add_argument("--sigma-b2", type=float, default=0.0, help="bias variance (default 0)")
    ls.add_argument("--T", type=float, help="temperature T > 0 (action solve)")
    ls.add_argument("--E", type=float, help="energy per input dimension (action entropy)")
    ls.add_argument("--alpha", type=float,
                    help="finite width ratio N_1/N (action solve, depth 1..: the RS saddle of "
                    "the layer-overlap action; default: the infinite-width limit)")
    ls.add_argument("--stability", action="store_true",
                    help="with --alpha: also the replicon of the RS solution (any depth) "
                    "and, at depth 1, the 1RSB optimum (its gain over RS)")
    ls.add_argument("--one-rsb", action="store_true",
                    help="with --alpha --stability at depth >= 2: also the 1RSB optimum "
                    "of the layer-overlap action (its gain over RS; about a minute)")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    add_quiet(ls)
    ls.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the landscape action; 0 converged, 3 not (the result is still printed)."""
    from ..models.landscape import RandomMLPLandscape

    land = RandomMLPLandscape(args.activation, args.depth, args.sigma_w2, args.sigma_b2)
    head = (f"random MLP landscape: {args.activation}, depth {args.depth}, sigma_w2 = "
            f"{land.sigma_w2:g}, sigma_b2 = {land.sigma_b2:g} (infinite width)")
    out: dict = {"command": "landscape", "version": __version__, "action": args.action,
                 "activation": args.activation, "depth": args.depth,
                 "sigma_w2": land.sigma_w2, "sigma_b2": land.sigma_b2}
    lines = [head]
    status = 0
    if args.alpha is not None:
        from ..solvers.finite_width.rs import finite_width_rs
        from ..solvers.landscape_verdict import rs_or_rsb

        if args.action != "solve" or args.T is None:
            raise UsageError("--alpha applies to the solve action, with --T")
        if not args.T > 0:
            raise UsageError(f"--T must be > 0, got {args.T:g}")
        if args.depth < 1:
            raise UsageError("--alpha needs --depth >= 1 (one width ratio per hidden layer)")
        if args.one_rsb and not args.stability:
            raise UsageError("--one-rsb needs --stability (at depth 1, --stability "
                             "always includes the 1RSB optimum)")
        fw = finite_width_rs(args.activation, land.sigma_w2, land.sigma_b2,
                             [args.alpha] * args.depth, args.T)
        out.update(alpha=args.alpha, T=args.T, free_energy=fw.free_energy, energy=fw.energy,
                   entropy=fw.entropy, q=fw.q, converged=bool(fw.converged),
                   residual=fw.residual, quadrature_error=fw.quadrature_error,
                   method="RS (finite width)")
        lines[0] = head.replace("(infinite width)", f"(width ratio alpha = {args.alpha:g})")
        lines += [f"method         RS saddle of the layer-overlap action, T = {args.T:g}",
                  f"free energy f  {fw.free_energy:.12f}", f"energy e       {fw.energy:.12f}",
                  f"entropy s      {fw.entropy:.12f}", f"overlap q      {fw.q:.10f}",
                  f"converged      {fw.converged} (residual {fw.residual:.1e}, quadrature "
                  f"error {fw.quadrature_error:.1e})"]
        if args.stability and args.depth >= 2:
            from ..solvers.finite_width.deep import finite_width_replicon_deep

            deep = finite_width_replicon_deep(args.activation, land.sigma_w2, land.sigma_b2,
                                              args.alpha, args.T, args.depth, saddle=fw)
            out.update(replicon=deep.replicon, pivots=[float(v) for v in deep.pivots],
                       replicon_error=deep.quadrature_error)
            lines += [f"replicon       {deep.replicon:.6g} (quadrature error "
                      f"{deep.quadrature_error:.1e}); layer pivots "
                      + ", ".join(f"{v:.4g}" for v in deep.pivots)
                      + " (all must be > 0 with the replicon)"]
            if args.one_rsb:
                from ..progress import Reporter
                from ..solvers.finite_width.deep_rsb import finite_width_1rsb_deep

                with Reporter("landscape", enabled=not args.quiet) as progress:
                    progress.show("landscape: 1RSB search, first start (about a minute in "
                                  "all)", force=True)
                    rsb = finite_width_1rsb_deep(args.activation, land.sigma_w2,
                                                 land.sigma_b2, args.alpha, args.T,
                                                 args.depth, progress=progress)
                v = rs_or_rsb(deep.stable, rsb.gain, rsb.resolution)
                out.update(one_rsb_gain=rsb.gain, one_rsb_q0=rsb.q0, one_rsb_q1=rsb.q1,
                           one_rsb_m=rsb.m, one_rsb_resolution=float(rsb.resolution),
                           one_rsb_converged=bool(rsb.converged), character=v.character,
                           character_criterion=v.criterion)
                lines += [f"1RSB gain      {rsb.gain:.3e} in -beta f (q0 = {rsb.q0:.4f}, q1 = "
                          f"{rsb.q1:.4f}, m = {rsb.m:.4f}; quadrature resolution "
                          f"{float(rsb.resolution):.1e}; a lower bound: the best of "
                          "several starts)", f"character      {v.character}"]
            else:
                # the local tests alone: an RS verdict then only means locally stable
                v = rs_or_rsb(deep.stable)
                out.update(character=v.character, character_criterion=v.criterion.replace(
                    "(local stability)", "(local stability; --one-rsb adds the 1RSB optimum)"))
                lines += [f"character      {v.character}"
                          f"{' (locally stable)' if v.locally_stable else ''}; --one-rsb also "
                          "searches the 1RSB optimum (about a minute)"]
        elif args.stability:
            from ..solvers.finite_width.krsb import finite_width_krsb
            from ..solvers.finite_width.replicon import finite_width_replicon

            lam = finite_width_replicon(args.activation, land.sigma_w2, land.sigma_b2,
                                        args.alpha, args.T)
            # the k-step solver at k = 1: its grid quadrature resolves the gain to ~1e-11
            # (Gauss-Hermite at order 32-64 moved the sin gain by 20%)
            rsb = finite_width_krsb(args.activation, land.sigma_w2, land.sigma_b2,
                                    args.alpha, args.T, 1)
            q0, q1 = (float(v) for v in rsb.q)
            m = float(rsb.m[0])
            v = rs_or_rsb(not lam < 0, rsb.gain_rs, rsb.gain_resolution[0],
                          local_tests=("replicon",))
            out.update(replicon=lam, one_rsb_gain=rsb.gain_rs, one_rsb_q0=q0,
                       one_rsb_q1=q1, one_rsb_m=m, one_rsb_resolution=v.resolution)
            out["character"] = v.character
            lines += [f"replicon       {lam:.6g} ({'stable' if lam >= 0 else 'unstable'})",
                      f"1RSB gain      {rsb.gain_rs:.3e} in -beta f (q0 = {q0:.4f}, q1 = "
                      f"{q1:.4f}, m = {m:.4f}; quadrature resolution {v.resolution:.1e})",
                      f"character      {v.character}"]
        emit(strict_json(out), "\n".join(lines), args.json)
        if not fw.converged:
            print("replicasolve: warning: the solution did not converge (exit status 3)",
                  file=sys.stderr)
            return 3
        return 0
    if args.stability:
        raise UsageError("--stability needs --alpha (finite width)")
    if args.one_rsb:
        raise UsageError("--one-rsb needs --alpha and --stability")
    if args.action == "solve":
        if args.T is None:
            raise UsageError("landscape solve needs --T")
        if not args.T > 0:
            raise UsageError(f"--T must be > 0 (use the ground-state action for T = 0), "
                             f"got {args.T:g}")
        from ..progress import Reporter
        from ..solvers.landscape import character, solve_landscape

        with Reporter("landscape", enabled=not args.quiet) as progress:
            r = solve_landscape(land, args.T, progress=progress)
        ch = character(land, args.T)
        out.update(result=r.to_dict(), character=ch.label, criterion=ch.criterion)
        lines += [f"character      {ch.label}  ({ch.criterion})", r.table()]
        status = 0 if r.converged else 3
    elif args.action == "entropy":
        if args.E is None:
            raise UsageError("landscape entropy needs --E")
        from ..progress import Reporter
        from ..solvers.landscape import entropy

        with Reporter("landscape", enabled=not args.quiet) as progress:
            s_e = entropy(land, args.E, progress=progress)
        out.update(E=args.E, entropy=s_e)
        lines.append(f"S(E = {args.E:g}) = {s_e:.10f}")
    else:
        from ..progress import Reporter
        from ..solvers.landscape import character, ground_state, threshold_energy

        with Reporter("landscape", enabled=not args.quiet) as progress:
            gs = ground_state(land, progress=progress)
        ch = character(land, 0.0)
        out.update(ground_state=gs.value, character=ch.label, criterion=ch.criterion,
                   converged=bool(gs.converged))
        lines += [f"ground-state energy  {gs.value:.10f}  ({gs.method})",
                  f"character            {ch.label}  ({ch.criterion})"]
        try:
            th = threshold_energy(land)
        except ReplicaSolveError as exc:
            th = None
            lines.append(f"threshold energy     none ({exc})")
        else:
            lines.append(f"threshold energy     {th:.10f}")
        out["threshold"] = th
        status = 0 if gs.converged else 3
    emit(strict_json(out), "\n".join(lines), args.json)
    if status:
        print("replicasolve: warning: the solution did not converge (exit status 3)",
              file=sys.stderr)
    return status
