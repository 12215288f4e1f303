"""The ``replicasolve`` command line.

``replicasolve`` alone runs the main job (the critical temperature of the
784-512-512-512-10 network, analytic and by TAP on one random Kaiming instance).
Every subcommand has ``--help``; those that print results take ``--json`` (one JSON
object on stdout). Bad input, and a request that would not fit in memory or on disk (the
line says how much was asked): one line on stderr, exit status 2. ``parisi`` exits with 3
when the solver did not converge (the result is still printed), ``derive --check`` when
the check failed; 4 when the machinery that
runs the work failed (``sweep`` on a lost Dask cluster). A closed output pipe
(``replicasolve ... | head``) ends the command quietly with status 141, like a SIGPIPE.
Warnings that libraries raise during a command are folded into at most one line on stderr,
and dropped when the command fails (its error is then the only line).

Layout: :mod:`replicasolve.cli.args` holds what the commands share (argument types,
checks, output helpers); :mod:`replicasolve.cli.parser` builds the argparse tree; each
command lives in its own module (``demo``, ``msk``, ``tap``, ``kernel``, ``parisi``,
``landscape``, ``derive``, ``training`` for train/scan/plot, ``descriptor``, ``sweep``) with
``add_parser(sub)`` and ``run(args)``. The commands import only ``args`` and the library,
and the library does every computation: this package parses, checks and prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from ..errors import ExecutorError, ReplicaSolveError
from . import demo
from .args import UsageError
from .parser import build_parser

__all__ = ["UsageError", "build_parser", "main"]


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
            args.func = demo.run
        status = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        _stdout_to_devnull()
        return 141
