"""The ``replicasolve`` command line.

``replicasolve`` alone runs the main job (the critical temperature of the
784-512-512-512-10 network, analytic and by TAP on one random Kaiming instance).
Every subcommand has ``--help``; those that print results take ``--json`` (one JSON
object on stdout). Bad input, and a request that would not fit in memory or on disk (the
line says how much was asked): one line on stderr, exit status 2. ``parisi`` exits with 3
when the solver did not converge (the result is still printed); 4 when the machinery that
runs the work failed (``sweep`` on a lost Dask cluster). A closed output pipe
(``replicasolve ... | head``) ends the command quietly with status 141, like a SIGPIPE.
Warnings that libraries raise during a command are folded into at most one line on stderr,
and dropped when the command fails (its error is then the only line).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from . import __version__
from .errors import ExecutorError, ReplicaSolveError

DEFAULT_SIZES = "784,512,512,512,10"
# kernel/landscape compose one layer map per hidden layer (~0.01-0.1 s each for a
# quadrature activation): the kernel API's own cap, so the CLI and the API agree
from .kernels.numeric import MAX_DEPTH  # noqa: E402


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the help already says it (or
    there is none worth saying: no value, or a flag that is off)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text
        if not (action.option_strings or action.nargs in (argparse.OPTIONAL,
                                                          argparse.ZERO_OR_MORE)):
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, not usage + message
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        # Python 3.11's argparse turns "--opt=--" into [] without calling the option's
        # type (it drops "--" as the end-of-options marker): refuse it as a missing value
        for action in self._actions:
            if action.option_strings and action.nargs is None and \
                    getattr(ns, action.dest, None) == [] and action.default != []:
                self.error(f"argument {'/'.join(action.option_strings)}: expected one "
                           "argument")
        return ns, extras


class UsageError(ReplicaSolveError):
    """A command-line usage problem."""


# ------------------------------------------------------------------ shared argument checks

_SEED_MAX = 2**63 - 1  # seeds are stored in netCDF/JSON attributes as int64
_INT_MAX = 2**63 - 1


def _short(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut in the middle when long (an error message stays one short line)."""
    r = repr(text)
    if len(r) <= limit:
        return r
    return f"{r[: limit - 14]}...{r[-8:]} ({len(text)} characters)"


def _whole_number(text: str) -> int:
    """``"12"``, ``"1e12"``, ``"2.0"``, ``"1_000"`` -> int; anything else: ValueError."""
    from decimal import Decimal, InvalidOperation

    t = text.strip()
    if len(t) > 4300:  # Python's own limit on int() of a string
        raise ValueError("too long")
    try:
        return int(t)
    except ValueError:
        pass
    try:
        d = Decimal(t.replace("_", ""))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not d.is_finite() or d.adjusted() > 4300 or d != d.to_integral_value():
        raise ValueError("not a whole number")
    return int(d)


def _int_type(minimum: int | None = None, maximum: int = _INT_MAX,
              name: str = "whole number") -> Callable[[str], int]:
    """An argparse ``type`` for whole numbers (``1e6`` accepted) within bounds; the upper
    one defaults to the int64 range (counts meet numpy and float arithmetic)."""

    def parse(text: str) -> int:
        try:
            v = _whole_number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number, got {_short(text)}") from None
        if minimum is not None and v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
        if v > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {_short(text)}")
        return v

    parse.__name__ = name
    return parse


_seed_type = _int_type(0, _SEED_MAX, "seed")


def _float_type(text: str) -> float:
    """An argparse ``type`` for a real number (its range is checked by the command)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {_short(text)}") from None


def _sizes(text: str, what: str = "--sizes") -> tuple[int, ...]:
    """A comma list of whole numbers (positivity and count are checked by the library)."""
    try:
        return tuple(_whole_number(p) for p in text.split(","))
    except ValueError:
        raise UsageError(f"{what} must be a comma list of whole numbers, got "
                         f"{_short(text)}") from None


def _require_memory(nbytes: float, what: str) -> None:
    """Refuse ``what`` up front when it needs more than this machine's memory."""
    from ._files import format_bytes, memory_limit

    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise UsageError(f"{what} needs {format_bytes(nbytes)} of memory; this machine has "
                         f"{format_bytes(limit)}")


def _require_importable(module: str, what: str, extra: str) -> None:
    """Fail before any work when ``module`` (of the extra ``extra``) cannot be imported."""
    import importlib

    try:
        importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install (OSError from a .so)
        how = "is not installed" if isinstance(exc, ImportError) else \
            f"cannot be imported ({type(exc).__name__})"
        raise UsageError(f'{what} needs {module}, which {how}: pip install '
                         f'"replicasolve[{extra}]"') from None


def _add_variance(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--variance",
        default="2",
        help="weight variance factor C (weights ~ N(0, C/N_in)): one value, or one per "
        "weight matrix as a comma list (default 2 here and in msk/tap/train: torch's "
        "kaiming_normal_ with the ReLU gain; C = 1 is unit gain. kernel and landscape "
        "call it --sigma-w2, default 1)",
    )


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true",
                   help="no progress line on stderr (it is only drawn on a terminal)")


def _c_words(variances: Sequence[float]) -> str:
    """What the factors C mean: C = 2 is torch's kaiming_normal_ with the ReLU gain."""
    c = ",".join(f"{v:g}" for v in variances)
    if all(v == 2 for v in variances):
        return f"C = {c} (torch's kaiming_normal_ with the ReLU gain)"
    return f"C = {c}"


def _emit(obj: dict, text: str, as_json: bool) -> None:
    if as_json:
        json.dump(obj, sys.stdout, indent=None, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(text)


def _fmt(values: Sequence[float], digits: int = 4) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def _float_sizes(sizes: Sequence[int]) -> None:
    """The theory is computed in floating point: sizes beyond ~1.8e308 are refused."""
    for i, v in enumerate(sizes):
        try:
            float(v)
        except OverflowError:
            raise UsageError(
                f"layer size {i} has {len(str(v))} digits: beyond floating-point range (the "
                "theory depends on the ratios N_l/N_(l-1); sizes up to about 1e308 are "
                "accepted)") from None


def _cmd_msk(args: argparse.Namespace) -> None:
    from .models.msk import msk_critical

    sizes = _sizes(args.sizes)
    _float_sizes(sizes)
    try:
        r = msk_critical(sizes, args.variance)
    except OverflowError:  # pragma: no cover - _float_sizes keeps every size in range
        raise UsageError("--sizes: beyond floating-point range") from None
    _emit({"command": "msk", "version": __version__, **r.to_dict()}, str(r), args.json)


def _tap_memory(sizes: Sequence[int]) -> int:
    """Bytes a TAP analysis of layer sizes ``sizes`` holds at its peak: the weights and a
    temporary of their size, and the Cholesky factors of A(beta)'s diagonal blocks with
    the Schur complement being factorised (float64)."""
    from itertools import pairwise

    pairs = sum(a * b for a, b in pairwise(sizes))
    squares = sum(n * n for n in sizes[1:])
    return 8 * (2 * pairs + 2 * squares)


def _tap_bonds(args: argparse.Namespace):
    from . import _validate
    from .tap.bonds import load_weights, random_layered

    if args.weights is not None:
        if args.sizes is not None or args.seed is not None:
            raise UsageError("give either a weights file or --sizes/--seed, not both")
        bonds = load_weights(args.weights)
        _require_memory(_tap_memory(bonds.sizes), f"the TAP analysis of {args.weights} (sizes "
                        f"{','.join(map(str, bonds.sizes))})")
        return bonds, f"weights from {args.weights}"
    seed = 0 if args.seed is None else args.seed
    sizes = _validate.layer_sizes(_sizes(args.sizes or DEFAULT_SIZES))
    _validate.variances(args.variance, len(sizes) - 1)  # before the memory is estimated
    _require_memory(_tap_memory(sizes), f"a random instance with --sizes "
                    f"{_short(','.join(map(str, sizes)), 60)}")
    _check_spectrum(args, sum(sizes))
    return random_layered(sizes, args.variance, seed), f"random instance, seed {seed}"


def _check_spectrum(args: argparse.Namespace, n: int) -> None:
    from .tap.matrix import DENSE_MAX_N

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


def _cmd_tap(args: argparse.Namespace) -> None:
    from .models.msk import msk_critical
    from .tap.bonds import load_weights
    from .tap.critical import tap_critical
    from .tap.spectra import bond_lambda_max, tap_level_stats

    definition, note = _tap_definition(args)
    if not 0 < args.rtol < 1e-2:
        raise UsageError(f"--rtol must be in (0, 1e-2), got {args.rtol:g}")
    bonds, origin = _tap_bonds(args)
    _check_spectrum(args, bonds.n)
    reference = load_weights(args.reference) if args.reference else None
    if reference is not None:
        _require_memory(_tap_memory(reference.sizes), f"the reference {args.reference}")
    from .progress import Reporter

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
        f"  C (empirical N_in*mean W^2) = {_fmt(r.variance_factors)}",
        f"  definition = {r.definition}"
        + (f" (reference {out['reference']})" if out["reference"] else "")
        + f"   threshold = {r.threshold:.10g}   crossed = {r.crossed}",
        f"  beta_c = {r.beta_c:.10f}   T_c = {r.T_c:.10f}   "
        f"(rtol {r.rtol:g}, {r.evaluations} evaluations, converged = {r.converged})",
        f"  min_beta lambda_min(A) = {r.lambda_at_min:.6g} at beta = {r.beta_min:.10f}",
        f"  soft mode q_l = {_fmt(r.mode)}",
        f"  MSK theory (C = {_fmt(theory.variances, 3)}): beta_c = {theory.beta_c:.10f}"
        f"   T_c = {theory.T_c:.10f}   mode q_l = {_fmt(theory.mode)}",
    ]
    if args.spectrum:
        out["level_stats"] = ls.to_dict()
        out["lambda_max_J"] = lmax
        lines.append(
            f"  A(beta_c): first spacing / median spacing = {ls.normalized_first_spacing:.4f}"
            f"   lambda_max(J) = {lmax:.6f}"
        )
    _emit(out, "\n".join(lines), args.json)
    if note:
        print(note, file=sys.stderr)


def _cmd_demo(args: argparse.Namespace) -> None:
    from .models.msk import msk_critical
    from .tap.bonds import random_layered
    from .tap.critical import tap_critical

    sizes, seed = DEFAULT_SIZES, 0
    theory = msk_critical(sizes, args.variance)
    bonds = random_layered(sizes, args.variance, seed)
    r = tap_critical(bonds)
    rel = (r.beta_c - theory.beta_c) / theory.beta_c
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
            f"{theory.beta_c:>14.8f}{theory.T_c:>14.8f}",
            f"{f'TAP, one random instance (seed {seed}, N={bonds.n})':<44}"
            f"{r.beta_c:>14.8f}{r.T_c:>14.8f}",
            f"{'relative difference':<44}{rel:>14.2e}",
            "",
            f"TAP beta_c: finite-size corrected definition (the minimum of lambda_min(A(beta)),"
            f" {r.lambda_at_min:.4g}), rtol {r.rtol:g}",
            f"unstable mode q_l, theory {_fmt(theory.mode)}",
            f"unstable mode q_l, TAP    {_fmt(r.mode)}",
        ]
    )
    _emit(out, text, args.json)


def _floats(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{what} must be a comma list of numbers, got {text!r}") from None


def _claimed(value: float, error: float) -> str:
    """``value`` with the digits its ``error`` supports (one guard digit past the error's
    leading digit; at most 12 significant digits)."""
    value, error = float(value), float(error)
    if not (math.isfinite(value) and math.isfinite(error)) or error <= 0 or value == 0:
        return f"{value:.12g}"
    lead = math.floor(math.log10(abs(value)))
    last = math.floor(math.log10(error)) - 1  # the guard digit's decade
    digits = min(max(lead - last + 1, 1), 12)
    return f"{value:.{digits}g}"


def _cmd_kernel(args: argparse.Namespace) -> None:
    import numpy as np

    from .kernels.activation import activation
    from .kernels.compose import xi_function

    act = activation(args.activation)
    q = np.asarray(_floats(args.q, "--q"))
    sw = _floats(args.sigma_w2, "--sigma-w2")
    sb = _floats(args.sigma_b2, "--sigma-b2")
    sw_arg = sw if len(sw) > 1 else sw[0]
    sb_arg = sb if len(sb) > 1 else sb[0]
    from .progress import Reporter

    with Reporter("kernel", enabled=not args.quiet) as progress:
        xf = xi_function(act, args.depth, sw_arg, sb_arg, order=args.order, progress=progress)
    values = np.asarray(xf.derivatives(q))
    # the API's error estimate (a half-resolution chain carried through every layer, meant
    # as an upper bound), never better than rounding of the value itself
    err = np.maximum(np.asarray(xf.errors(q)), 8 * np.finfo(float).eps * np.abs(values))
    keys = ("xi", "xi_prime", "xi_second", "xi_third")

    def number(v: float) -> float | str | None:  # strict JSON has no NaN or Infinity
        return None if np.isnan(v) else (str(v) if np.isinf(v) else float(v))

    def column(j: int) -> list | None:
        return None if np.all(np.isnan(values[j])) else [number(v) for v in values[j]]

    out = {
        "command": "kernel", "version": __version__, "activation": args.activation,
        "expression": str(act.expr), "depth": args.depth, "sigma_w2": sw, "sigma_b2": sb,
        "tiers": list(xf.tiers), "order": args.order, "q": q.tolist(),
    }
    for j, key in enumerate(keys):
        out[key] = column(j)
        out[f"{key}_error"] = None if out[key] is None else [number(v) for v in err[j]]
    tiers = ", ".join(sorted(set(xf.tiers))) or "none (depth 0)"
    latex = None
    if args.latex:
        from .kernels.closed_xi import closed_xi

        closed = closed_xi(act, args.depth, sw_arg, sb_arg)
        latex = None if closed is None else closed.latex
        out["latex"] = latex
    lines = [
        f"xi(q) = K_{args.depth + 1}(q) of phi(x) = {act.expr}, {args.depth} hidden layer(s), "
        f"sigma_w2 = {args.sigma_w2}, sigma_b2 = {args.sigma_b2}",
        f"layer maps: {tiers} (quadrature order {args.order}); +- is an error estimate",
        f"{'q':>8}" + "".join(f"{k:>28}" for k in keys),
    ]
    for i, qi in enumerate(q):
        cells = [
            "n/a" if np.isnan(values[j, i]) else f"{_claimed(values[j, i], err[j, i])} +- "
            f"{err[j, i]:.0e}"
            for j in range(4)
        ]
        lines.append(f"{qi:>8.4g}" + "".join(f"{c:>28}" for c in cells))
    if args.latex:
        lines.append("xi(q) = " + latex if latex else "xi(q): no closed form through depth "
                     "(some layer's kernel has none, e.g. tanh)")
    if np.isnan(values).any():
        lines.append("n/a: a kink or jump of phi makes this derivative a Dirac-delta kernel "
                     "that only the closed-form tier evaluates (or the point is singular)")
    _emit(out, "\n".join(lines), args.json)


def _rsb_method(text: str):
    """``--rsb``: rs, 1rsb, <k>rsb, an integer k, or full (negative k named as such)."""
    from .solvers.methods import RSB, as_method

    t = text.strip()
    if t.startswith("-") and t[1:].isdigit():
        RSB(int(t))  # raises: "number of RSB steps k must be an integer >= 0"
    return as_method(t)


def _ks(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--ks must be a comma list of integers, got {text!r}") from None


def _strict_json(obj):
    """The same object with NaN as null and +-inf as strings (strict JSON has neither)."""
    import math

    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: _strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict_json(v) for v in obj]
    return obj


def _check_out(path: str, force: bool, what: str = "--out") -> None:
    """Fail before any work if the output file ``path`` (option ``what``) cannot be written."""
    import os

    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a directory")
    if os.path.lexists(path) and not force:
        raise UsageError(f"{what} {path} already exists (use --force to overwrite it)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{what} {path}: no such directory {parent}")


def _save_json(obj: dict, path: str, force: bool) -> None:
    """Write ``obj`` to ``path`` atomically: a temporary file in the same directory, then a
    rename. Without ``force`` an existing file is never replaced (a hard link is the
    atomic no-clobber rename; where links are unsupported, check then replace)."""
    import os
    import tempfile

    parent = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
            tmp = None
            return
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise UsageError(
                f"--out {path} already exists (use --force to overwrite it)"
            ) from None
        except OSError:  # no hard links here (e.g. FAT, some network file systems)
            if os.path.lexists(path):
                raise UsageError(
                    f"--out {path} already exists (use --force to overwrite it)"
                ) from None
            os.replace(tmp, path)
            tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write --out {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _cmd_parisi(args: argparse.Namespace) -> int:
    from .errors import ConvergenceError
    from .models.pspin import MixedPSpin
    from .progress import Reporter
    from .solvers import Options, solve
    from .solvers.methods import FullRSB

    if args.out is not None:
        _check_out(args.out, args.force)
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
    out = _strict_json({"command": "parisi", "version": __version__, **r.to_dict()})
    if args.out is not None:
        _save_json(out, args.out, args.force)
    _emit(out, r.table(), args.json)
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


def _cmd_landscape(args: argparse.Namespace) -> int:
    from .models.landscape import RandomMLPLandscape

    land = RandomMLPLandscape(args.activation, args.depth, args.sigma_w2, args.sigma_b2)
    head = (f"random MLP landscape: {args.activation}, depth {args.depth}, sigma_w2 = "
            f"{land.sigma_w2:g}, sigma_b2 = {land.sigma_b2:g} (infinite width)")
    out: dict = {"command": "landscape", "version": __version__, "action": args.action,
                 "activation": args.activation, "depth": args.depth,
                 "sigma_w2": land.sigma_w2, "sigma_b2": land.sigma_b2}
    lines = [head]
    status = 0
    if args.alpha is not None:
        from .models.finite_width import finite_width_rs

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
            from .models.finite_width_deep import finite_width_replicon_deep

            deep = finite_width_replicon_deep(args.activation, land.sigma_w2, land.sigma_b2,
                                              args.alpha, args.T, args.depth, saddle=fw)
            verdict = "RS" if deep.stable else "RSB"
            out.update(replicon=deep.replicon, pivots=[float(v) for v in deep.pivots],
                       replicon_error=deep.quadrature_error)
            lines += [f"replicon       {deep.replicon:.6g} (quadrature error "
                      f"{deep.quadrature_error:.1e}); layer pivots "
                      + ", ".join(f"{v:.4g}" for v in deep.pivots)
                      + " (all must be > 0 with the replicon)"]
            if args.one_rsb:
                from .models.finite_width_deep_rsb import finite_width_1rsb_deep
                from .progress import Reporter

                with Reporter("landscape", enabled=not args.quiet) as progress:
                    progress.show("landscape: 1RSB search, first start (about a minute in "
                                  "all)", force=True)
                    rsb = finite_width_1rsb_deep(args.activation, land.sigma_w2,
                                                 land.sigma_b2, args.alpha, args.T,
                                                 args.depth, progress=progress)
                noise = max(10 * float(rsb.resolution), 1e-10)
                if rsb.gain > noise:
                    verdict = "RSB"
                out.update(one_rsb_gain=rsb.gain, one_rsb_q0=rsb.q0, one_rsb_q1=rsb.q1,
                           one_rsb_m=rsb.m, one_rsb_resolution=float(rsb.resolution),
                           one_rsb_converged=bool(rsb.converged), character=verdict,
                           character_criterion="replicon, layer pivots and the 1RSB optimum")
                lines += [f"1RSB gain      {rsb.gain:.3e} in -beta f (q0 = {rsb.q0:.4f}, q1 = "
                          f"{rsb.q1:.4f}, m = {rsb.m:.4f}; quadrature resolution "
                          f"{float(rsb.resolution):.1e}; a lower bound: the best of "
                          "several starts)", f"character      {verdict}"]
            else:
                # the local (replicon) test alone: a discontinuous 1RSB transition would not
                # show in it, so the RS label says "locally stable"
                out.update(character=verdict,
                           character_criterion="replicon and layer pivots (local stability; "
                           "--one-rsb adds the 1RSB optimum)")
                lines += [f"character      {verdict}"
                          f"{' (locally stable)' if deep.stable else ''}; --one-rsb also "
                          "searches the 1RSB optimum (about a minute)"]
        elif args.stability:
            from .models.finite_width_krsb import finite_width_krsb
            from .models.finite_width_replicon import finite_width_replicon

            lam = finite_width_replicon(args.activation, land.sigma_w2, land.sigma_b2,
                                        args.alpha, args.T)
            # the k-step solver at k = 1: its grid quadrature resolves the gain to ~1e-11
            # (Gauss-Hermite at order 32-64 moved the sin gain by 20%)
            rsb = finite_width_krsb(args.activation, land.sigma_w2, land.sigma_b2,
                                    args.alpha, args.T, 1)
            q0, q1 = (float(v) for v in rsb.q)
            m = float(rsb.m[0])
            noise = max(10 * float(rsb.gain_resolution[0]), 1e-10)
            out.update(replicon=lam, one_rsb_gain=rsb.gain_rs, one_rsb_q0=q0,
                       one_rsb_q1=q1, one_rsb_m=m, one_rsb_resolution=noise / 10)
            verdict = "RSB" if lam < 0 or rsb.gain_rs > noise else "RS"
            out["character"] = verdict
            lines += [f"replicon       {lam:.6g} ({'stable' if lam >= 0 else 'unstable'})",
                      f"1RSB gain      {rsb.gain_rs:.3e} in -beta f (q0 = {q0:.4f}, q1 = "
                      f"{q1:.4f}, m = {m:.4f}; quadrature resolution {noise / 10:.1e})",
                      f"character      {verdict}"]
        _emit(_strict_json(out), "\n".join(lines), args.json)
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
        from .progress import Reporter

        with Reporter("landscape", enabled=not args.quiet) as progress:
            r = land.solve(args.T, progress=progress)
        ch = land.character(args.T)
        out.update(result=r.to_dict(), character=ch.label, criterion=ch.criterion)
        lines += [f"character      {ch.label}  ({ch.criterion})", r.table()]
        status = 0 if r.converged else 3
    elif args.action == "entropy":
        if args.E is None:
            raise UsageError("landscape entropy needs --E")
        from .progress import Reporter

        with Reporter("landscape", enabled=not args.quiet) as progress:
            s_e = land.entropy(args.E, progress=progress)
        out.update(E=args.E, entropy=s_e)
        lines.append(f"S(E = {args.E:g}) = {s_e:.10f}")
    else:
        from .progress import Reporter

        with Reporter("landscape", enabled=not args.quiet) as progress:
            gs = land.ground_state(progress=progress)
        ch = land.character(0.0)
        out.update(ground_state=gs.value, character=ch.label, criterion=ch.criterion,
                   converged=bool(gs.converged))
        lines += [f"ground-state energy  {gs.value:.10f}  ({gs.method})",
                  f"character            {ch.label}  ({ch.criterion})"]
        try:
            th = land.threshold_energy()
        except ReplicaSolveError as exc:
            th = None
            lines.append(f"threshold energy     none ({exc})")
        else:
            lines.append(f"threshold energy     {th:.10f}")
        out["threshold"] = th
        status = 0 if gs.converged else 3
    _emit(_strict_json(out), "\n".join(lines), args.json)
    if status:
        print("replicasolve: warning: the solution did not converge (exit status 3)",
              file=sys.stderr)
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    p = _Parser(
        prog="replicasolve",
        description="Statistical mechanics of neural networks. Without a subcommand: "
        "the critical temperature of the 784-512-512-512-10 network (theory and TAP).",
    )
    p.add_argument("--version", action="version", version=f"replicasolve {__version__}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_variance(p)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    d = sub.add_parser("demo", help="the main job (the default when no subcommand is given)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    _add_variance(d)
    d.set_defaults(func=_cmd_demo)

    m = sub.add_parser("msk", help="multilayer SK replica theory: beta_c, T_c, unstable mode")
    m.add_argument("--sizes", default=DEFAULT_SIZES,
                   help="layer sizes N_0,...,N_L (any size up to ~1e308: the theory is exact "
                   "at N -> infinity with the ratios fixed)")
    _add_variance(m)
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=_cmd_msk)

    t = sub.add_parser(
        "tap",
        help="TAP beta_c of one instance: random (--sizes, --seed) or given weights",
        description="TAP critical point of one network instance. WEIGHTS: a .npz file "
        "(2-D arrays in layer order, shape (out, in)) or a torch .pt state dict/module.",
    )
    t.add_argument("weights", nargs="?", help="weights file (.npz or .pt)")
    t.add_argument("--sizes", help=f"layer sizes of a random instance (default {DEFAULT_SIZES})")
    t.add_argument("--seed", type=_seed_type, help="seed of the random instance (default 0)")
    _add_variance(t)
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
    t.add_argument("--threshold", type=_float_type,
                   help="explicit threshold on lambda_min(A) (instead of --definition)")
    t.add_argument("--rtol", type=_float_type, default=1e-10,
                   help="relative tolerance on beta_c, in (0, 1e-2)")
    t.add_argument("--spectrum", action="store_true", help="also level statistics, lambda_max(J)")
    t.add_argument("--json", action="store_true", help="print one JSON object")
    _add_quiet(t)
    t.set_defaults(func=_cmd_tap)

    k = sub.add_parser(
        "kernel",
        help="covariance xi(q) of a random MLP's output and its first three derivatives",
        description="xi(q) = K_{L+1}(q) for inputs on the sphere with overlap q. ACTIVATION: "
        "a name (relu, tanh, sin, erf, gelu, silu, softplus, linear, ...) or a formula in x, "
        "e.g. 'x*erf(x) + 0.1*sin(3*x)'.",
    )
    k.add_argument("activation", help="a name (relu, tanh, ...) or a formula in x")
    k.add_argument("--depth", type=_int_type(0, MAX_DEPTH), default=1,
                   help=f"number of hidden layers L (0..{MAX_DEPTH})")
    _add_quiet(k)
    k.add_argument("--sigma-w2", default="1",
                   help="weight variance sigma_w^2 (one, or one per layer; default 1 here and "
                   "in landscape, while msk/tap/train default to C = 2, the same quantity)")
    k.add_argument("--sigma-b2", default="0", help="bias variance (one, or one per layer)")
    k.add_argument(
        "--q", default="0,0.5,1",
        help="overlaps, comma list in [-1, 1] (a negative first value: --q=-0.5,0.5)",
    )
    k.add_argument("--order", type=int, default=200, help="Gauss-Hermite order per axis")
    k.add_argument("--latex", action="store_true",
                   help="also print xi(q) in closed form (LaTeX) where every layer has one")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(func=_cmd_kernel)

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
    _add_quiet(pp)
    pp.set_defaults(func=_cmd_parisi)

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
    ls.add_argument("--depth", type=_int_type(0, MAX_DEPTH), required=True,
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
    _add_quiet(ls)
    ls.set_defaults(func=_cmd_landscape)

    from .cli_descriptor import add_descriptor_command
    from .cli_sweep import add_sweep_command
    from .cli_training import add_training_commands

    add_training_commands(sub)
    add_descriptor_command(sub)
    add_sweep_command(sub)
    return p


def _one_line(w: warnings.WarningMessage) -> str:
    return f"{w.category.__name__}: {' '.join(str(w.message).split())}"


def _run(args: argparse.Namespace) -> int:
    """Run the command; library warnings become at most one line, none after an error."""
    with warnings.catch_warnings(record=True) as caught:  # the filters in force still apply
        try:
            status = args.func(args)  # None (0), or 3 when a solver did not converge
        except ExecutorError as exc:  # not bad input: the cluster went away mid-run
            print(f"replicasolve: error: {exc}", file=sys.stderr)
            return 4
        except ReplicaSolveError as exc:
            print(f"replicasolve: error: {exc}", file=sys.stderr)
            return 2
        except MemoryError as exc:  # what the estimates before the work did not foresee
            said = " ".join(str(exc).split())
            print(f"replicasolve: error: out of memory{': ' + said if said else ''}",
                  file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("replicasolve: interrupted", file=sys.stderr)
            return 130
    if caught:
        more = f" (and {len(caught) - 1} more warnings)" if len(caught) > 1 else ""
        print(f"replicasolve: warning: {_one_line(caught[0])}{more}", file=sys.stderr)
    return status or 0


def _stdout_to_devnull() -> None:
    """After a broken pipe: point stdout at /dev/null so that the flush at exit cannot fail
    again (the recipe of the Python docs on SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``replicasolve`` command; returns the exit status.

    0 done; 2 bad input or a request that cannot fit (one line on stderr); 3 a solver did
    not converge or some points failed (the result is still written); 4 the machinery
    that runs the work failed; 130 interrupted; 141 the reader of stdout went away (e.g.
    ``| head``): quietly, as a SIGPIPE would end a C program.
    """
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            args.func = _cmd_demo
        status = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        _stdout_to_devnull()
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
