"""What every command of the ``replicasolve`` command line shares: the usage error, the
argparse ``type`` functions, the checks made before any work (memory, optional
dependencies, output paths) and the output helpers (one JSON object or text).

Every command module imports this one and the library, never :mod:`replicasolve.cli`
itself (the package imports the commands, so the reverse would be a cycle). It imports
nothing heavy: ``replicasolve --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ReplicaSolveError
from ..results import jsonable

__all__ = [
    "DEFAULT_SIZES", "INT_MAX", "SEED_MAX", "UsageError", "add_quiet", "add_variance",
    "check_out", "emit", "float_sizes", "float_type", "floats", "fmt", "int_type",
    "jsonable", "require_importable", "require_memory", "save_json", "seed_type", "short",
    "sizes", "strict_json", "whole_number",
]

#: the network of the main job (``replicasolve`` alone, and the default of msk/tap)
DEFAULT_SIZES = "784,512,512,512,10"
#: seeds are stored in netCDF/JSON attributes as int64
SEED_MAX = 2**63 - 1
#: counts meet numpy and float arithmetic: the int64 range
INT_MAX = 2**63 - 1


class UsageError(ReplicaSolveError):
    """A command-line usage problem (one line on stderr, exit status 2)."""


# ------------------------------------------------------------------ argument types


def short(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut in the middle when long (an error message stays one short line)."""
    r = repr(text)
    if len(r) <= limit:
        return r
    return f"{r[: limit - 14]}...{r[-8:]} ({len(text)} characters)"


def whole_number(text: str) -> int:
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


def int_type(minimum: int | None = None, maximum: int = INT_MAX,
             name: str = "whole number") -> Callable[[str], int]:
    """An argparse ``type`` for whole numbers (``1e6`` accepted) within bounds; the upper
    one defaults to the int64 range (counts meet numpy and float arithmetic)."""

    def parse(text: str) -> int:
        try:
            v = whole_number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number, got {short(text)}") from None
        if minimum is not None and v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
        if v > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {short(text)}")
        return v

    parse.__name__ = name
    return parse


#: an argparse ``type`` for a seed: a whole number in [0, 2**63 - 1]
seed_type = int_type(0, SEED_MAX, "seed")


def float_type(text: str) -> float:
    """An argparse ``type`` for a real number (its range is checked by the command)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {short(text)}") from None


def sizes(text: str, what: str = "--sizes") -> tuple[int, ...]:
    """A comma list of whole numbers (positivity and count are checked by the library)."""
    try:
        return tuple(whole_number(p) for p in text.split(","))
    except ValueError:
        raise UsageError(f"{what} must be a comma list of whole numbers, got "
                         f"{short(text)}") from None


def float_sizes(layer_sizes: Sequence[int]) -> None:
    """The theory is computed in floating point: sizes beyond ~1.8e308 are refused."""
    for i, v in enumerate(layer_sizes):
        try:
            float(v)
        except OverflowError:
            raise UsageError(
                f"layer size {i} has {len(str(v))} digits: beyond floating-point range (the "
                "theory depends on the ratios N_l/N_(l-1); sizes up to about 1e308 are "
                "accepted)") from None


def floats(text: str, what: str) -> list[float]:
    """A comma list of numbers (option ``what``); anything else is a UsageError."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{what} must be a comma list of numbers, got {text!r}") from None


def add_variance(p: argparse.ArgumentParser) -> None:
    """Add ``--variance`` (the weight variance factor C, default 2) to ``p``."""
    p.add_argument(
        "--variance",
        default="2",
        help="weight variance factor C (weights ~ N(0, C/N_in)): one value, or one per "
        "weight matrix as a comma list (default 2 here and in msk/tap/train: torch's "
        "kaiming_normal_ with the ReLU gain; C = 1 is unit gain. kernel and landscape "
        "call it --sigma-w2, default 1)",
    )


def add_quiet(p: argparse.ArgumentParser) -> None:
    """Add ``--quiet`` (no progress line) to ``p``."""
    p.add_argument("--quiet", action="store_true",
                   help="no progress line on stderr (it is only drawn on a terminal)")


# ------------------------------------------------------------------ checks before any work


def require_memory(nbytes: float, what: str) -> None:
    """Refuse ``what`` up front when it needs more than this machine's memory."""
    from ..files import format_bytes, memory_limit

    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise UsageError(f"{what} needs {format_bytes(nbytes)} of memory; this machine has "
                         f"{format_bytes(limit)}")


def require_importable(module: str, what: str, extra: str) -> None:
    """Fail before any work when ``module`` (of the extra ``extra``) cannot be imported."""
    import importlib

    try:
        importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install (OSError from a .so)
        how = "is not installed" if isinstance(exc, ImportError) else \
            f"cannot be imported ({type(exc).__name__})"
        raise UsageError(f'{what} needs {module}, which {how}: pip install '
                         f'"replicasolve[{extra}]"') from None


def check_out(path: str, force: bool, what: str = "--out") -> None:
    """Fail before any work if the output file ``path`` (option ``what``) cannot be written."""
    import os

    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a directory")
    if os.path.lexists(path) and not force:
        raise UsageError(f"{what} {path} already exists (use --force to overwrite it)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{what} {path}: no such directory {parent}")


# ------------------------------------------------------------------ output


def fmt(values: Sequence[float], digits: int = 4) -> str:
    """``[v1, v2, ...]`` with ``digits`` decimals (scientific notation far from order 1)."""
    from ..reported import decimal

    return "[" + ", ".join(decimal(v, digits) for v in values) + "]"


def strict_json(obj: Any) -> Any:
    """The same object as strict JSON data (NaN as null, ±inf as strings, numpy as plain
    numbers): :func:`replicasolve.results.jsonable`, the one converter of the package."""
    return jsonable(obj)


def emit(obj: dict, text: str, as_json: bool, strict: bool = False) -> None:
    """Print ``obj`` as one JSON line (``as_json``) or ``text``. ``strict``: refuse NaN and
    infinities, and write what json cannot (numpy scalars, paths) through :func:`jsonable`."""
    if as_json:
        if strict:
            json.dump(obj, sys.stdout, allow_nan=False, default=jsonable)
        else:
            json.dump(obj, sys.stdout, indent=None, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(text)


def save_json(obj: dict, path: str, force: bool) -> None:
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
