"""Sphinx directives that generate parts of the replicasolve docs from the code itself,
so that the pages cannot drift from it.

``.. replicasolve-cli::``
    the ``--help`` of the main parser and of every subcommand (nested ones included), as
    built by :func:`replicasolve.cli.parser.build_parser` at build time, one section each.
``.. replicasolve-facade::``
    an autodoc entry for every name of ``replicasolve._EXPORTS`` (the facade
    ``import replicasolve as rs``), in the order of that table.
``.. replicasolve-scripts:: examples``
    the docstring of every script in that folder of the repository (shown as written, not
    run) and the command that runs it, one section each: the examples. (The gallery and the
    derivations have pages with their output: ``script_pages.py``.)
``.. replicasolve-json-fields::``
    the fields of the ``--json`` output of every command that runs without input files,
    read from a small run of each at build time (a subprocess with a time limit; a failure
    is a build warning), with the command that produced them.
``.. replicasolve-modules:: replicasolve.solvers``
    an ``automodule`` (with members) for that package and every public module below it
    (modules whose name starts with ``_`` are skipped: they are not API).

The directives produce reStructuredText and parse it in place, so they are used from
``.rst`` pages (a MyST page would parse the generated text as Markdown).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys

from docstring_prose import scrub_references
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

HELP_WIDTH = "96"  # argparse wraps to $COLUMNS: fix it so the pages do not depend on a tty


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:  # argparse has no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias of a command already listed
                    continue
                seen.add(id(sub))
                out.append((name, sub))
    return out


def _walk(prefix: str, parser: argparse.ArgumentParser, out: list) -> None:
    out.append((prefix, parser))
    for name, sub in _subparsers(parser):
        _walk(f"{prefix} {name}", sub, out)


def cli_commands() -> list[tuple[str, str]]:
    """(command line, its --help text) for the main parser and every subcommand."""
    from replicasolve.cli.parser import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        found: list[tuple[str, argparse.ArgumentParser]] = []
        _walk("replicasolve", build_parser(), found)
        return [(name, p.format_help()) for name, p in found]
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _literal(text: str) -> list[str]:
    return ["::", ""] + ["   " + line if line.strip() else "" for line in text.splitlines()] + [""]


class _Generated(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        text = StringList()
        source = f"<{self.name} directive>"
        for i, line in enumerate(self.lines()):
            text.append(line, source, i)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, text, node)
        return node.children


class CliDirective(_Generated):
    """The help of every command, generated from the argparse parser."""

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, help_text in cli_commands():
            title = f"``{name}``"
            out += [title, "-" * len(title), ""]
            out += _literal(help_text)
        return out


class FacadeDirective(_Generated):
    """An autodoc entry for every name of the facade, in ``_EXPORTS`` order."""

    def lines(self) -> list[str]:
        import replicasolve

        out: list[str] = []
        for name, module in replicasolve._EXPORTS.items():
            obj = getattr(replicasolve, name)
            kind = "autoclass" if inspect.isclass(obj) else "autofunction"
            out += [f".. {kind}:: replicasolve.{name}", "   :no-index:", "",
                    f"   Defined in :mod:`replicasolve.{module}`.", ""]
        return out


class ModulesDirective(_Generated):
    """``automodule`` for a package and each public module below it."""

    required_arguments = 1

    def lines(self) -> list[str]:
        root = self.arguments[0]
        package = importlib.import_module(root)
        names = [root]
        if hasattr(package, "__path__"):
            names += sorted(m.name for m in pkgutil.walk_packages(package.__path__, root + ".")
                            if not any(part.startswith("_") for part in m.name.split(".")))
        out: list[str] = []
        for name in names:
            title = f"``{name}``"
            out += [title, "~" * len(title), "", f".. automodule:: {name}",
                    "   :members:", "   :show-inheritance:", ""]
        return out


class ScriptsDirective(_Generated):
    """The docstring of every ``*.py`` script in a folder of the repository."""

    required_arguments = 1

    def lines(self) -> list[str]:
        import ast
        from pathlib import Path

        root = Path(self.env.srcdir).parent
        folder = root / self.arguments[0]
        out: list[str] = []
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            self.env.note_dependency(str(path))
            doc = ast.get_docstring(ast.parse(path.read_text())) or "(no docstring)"
            doc = scrub_references(doc)
            rel = path.relative_to(root).as_posix()
            title = f"``{rel}``"
            out += [title, "-" * len(title), ""]
            out += _literal(doc)
            out += [f"Run (from the repository root): ``python {rel}``", ""]
        return out


#: one small run per command whose JSON fields the CLI page lists (commands that need input
#: files, train/scan/plot/descriptor/sweep, are described by their --help instead)
JSON_RUNS = {
    "replicasolve (demo)": ["--json"],
    "msk": ["msk", "--sizes", "20,10,5", "--json"],
    "tap": ["tap", "--sizes", "20,10", "--json"],
    "kernel": ["kernel", "relu", "--depth", "1", "--json"],
    "parisi": ["parisi", "--xi", "q**2/2", "--T", "1", "--rsb", "rs", "--json"],
    "landscape": ["landscape", "--activation", "relu", "--depth", "1", "--T", "1", "--json"],
    "derive": ["derive", "--xi", "q**2/2", "--check", "T=1", "--json"],
}
JSON_SECONDS = 300


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def json_fields(argv: list[str]) -> list[tuple[str, str]]:
    """(field, JSON type) of the output of ``replicasolve *argv``, nested objects one level
    deep as ``outer.inner``. Raises RuntimeError when the command fails."""
    run = subprocess.run([sys.executable, "-m", "replicasolve", *argv], capture_output=True,
                         text=True, timeout=JSON_SECONDS)
    if run.returncode != 0:
        raise RuntimeError(f"replicasolve {' '.join(argv)} exited with {run.returncode}: "
                           f"{run.stderr.strip()[-300:]}")
    data = json.loads(run.stdout)
    out = []
    for key, value in data.items():
        out.append((key, _kind(value)))
        if isinstance(value, dict):
            out += [(f"{key}.{k}", _kind(v)) for k, v in value.items()]
    return out


class JsonFieldsDirective(_Generated):
    """The ``--json`` fields of every command that runs without input files."""

    def lines(self) -> list[str]:
        from sphinx.util import logging

        out: list[str] = []
        for name, argv in JSON_RUNS.items():
            title = f"``{name}``"
            out += [title, "-" * len(title), "",
                    f"From ``replicasolve {' '.join(argv)}``:", ""]
            try:
                fields = json_fields(argv)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
                logging.getLogger(__name__).warning(f"JSON fields of {name}: {exc}")
                continue
            out += [f"- ``{field}`` ({kind})" for field, kind in fields] + [""]
        return out


def setup(app):
    app.add_directive("replicasolve-json-fields", JsonFieldsDirective)
    app.add_directive("replicasolve-cli", CliDirective)
    app.add_directive("replicasolve-facade", FacadeDirective)
    app.add_directive("replicasolve-modules", ModulesDirective)
    app.add_directive("replicasolve-scripts", ScriptsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
