"""The argparse tree of the ``replicasolve`` command line: the main parser (its own
``--json``/``--variance`` run the main job) and one subparser per command, registered by
the command's module (``add_parser``)."""

from __future__ import annotations

import argparse

from ..version import __version__
from . import demo, derive, descriptor, kernel, landscape, msk, parisi, sweep, tap, training
from .args import add_variance

__all__ = ["build_parser"]


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    p = _Parser(
        prog="replicasolve",
        description="Statistical mechanics of neural networks. Without a subcommand: "
        "the critical temperature of the 784-512-512-512-10 network (theory and TAP).",
    )
    p.add_argument("--version", action="version", version=f"replicasolve {__version__}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_variance(p)
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    # the order of --help's command list
    for command in (demo, msk, tap, kernel, parisi, landscape, derive, training, descriptor,
                    sweep):
        command.add_parser(sub)
    return p
