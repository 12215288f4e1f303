"""Pages that show what the repository's scripts print: run when the docs are built.

``.. replicasolve-gallery:: msk_tc_depth``
    a gallery page for ``examples/gallery/msk_tc_depth.py``: its docstring, the sweep
    spec(s) it runs, the command that makes the full-size figure, and the script run in a
    subprocess at build time with ``--quick --out <folder>``: its printed output (a literal
    block, ending in the check's ``PASS``) and the PNG figure(s) it wrote (copied into the
    site's ``_images`` by Sphinx).
``.. replicasolve-derivation:: activation_kernels``
    a derivation page for ``derivations/activation_kernels.py``: its docstring and what the
    script prints when run at build time, LaTeX lines typeset as math (MathJax), the rest as
    text (:func:`render_output`).

The page's title is written in the page's own file (``docs/gallery/<name>.rst``,
``docs/derivations/<name>.rst``); the directive fills in the rest.

Running: the scripts of the pages Sphinx is about to read are run before the read, in
parallel (``replicasolve_run_jobs`` subprocesses at a time), each with a time limit
(``replicasolve_gallery_timeout`` / ``replicasolve_derivation_timeout`` seconds). A script
that fails, exceeds its limit, or does not print its verdict (``PASS`` without ``FAIL`` for
the gallery; ``all checks passed`` for a derivation) is a build warning, i.e. an error
under ``-W``. A script named in ``replicasolve_scripts_not_run`` (too slow for a docs
build) is not run: its page shows the docstring and the command and says why. With
``replicasolve_run_scripts = False`` (``conf.py`` reads ``REPLICASOLVE_DOCS_RUN=0``) nothing
is run and every page says so. An incremental build re-runs only the scripts whose pages
it re-reads (a page depends on its script; ``-E`` re-reads all).

The gallery outputs go to ``<doctreedir>/script-runs/<name>/`` (replaced on every run).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from docstring_prose import prose_to_rest, scrub_references
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"gallery": "examples/gallery", "derivations": "derivations"}  # doc folder: scripts
SHOWN_OUT = "gallery_out"  # the --out folder as the page shows it (the scripts' default)
ENV_SWITCH = "REPLICASOLVE_DOCS_RUN"


@dataclass
class Run:
    """One build-time run of a script."""

    kind: str  # "gallery" or "derivations"
    name: str
    returncode: int | None  # None: killed at the time limit
    output: str  # stdout, the output folder shown as SHOWN_OUT
    stderr: str
    seconds: float
    outdir: Path | None  # where a gallery script wrote its files

    def problem(self) -> str | None:
        """Why the run counts as failed, or None."""
        if self.returncode is None:
            return f"killed after {self.seconds:.0f} s (the time limit)"
        if self.returncode != 0:
            return f"exit status {self.returncode}"
        if self.kind == "gallery":
            if re.search(r"\bFAIL\b", self.output):
                return "its check printed FAIL"
            if not re.search(r"\bPASS\b", self.output):
                return "it printed no PASS"
            if not self.figures():
                return "it wrote no PNG figure"
        elif not self.output.rstrip().endswith("all checks passed"):
            return "it did not print 'all checks passed'"
        return None

    def figures(self) -> list[Path]:
        if self.outdir is None or not self.outdir.is_dir():
            return []
        return sorted(self.outdir.glob("*.png"))


_RUNS: dict[tuple[str, str], Run] = {}


def script_path(kind: str, name: str) -> Path:
    return ROOT / FOLDERS[kind] / f"{name}.py"


def command(kind: str, name: str, quick: bool = True) -> list[str]:
    """The command line as the page shows it (run from the repository root)."""
    cmd = ["python", f"{FOLDERS[kind]}/{name}.py"]
    if kind == "gallery":
        cmd += (["--quick"] if quick else []) + ["--out", SHOWN_OUT]
    return cmd


def run_script(kind: str, name: str, runs_dir: Path, timeout: float) -> Run:
    """Run one script in a subprocess from the repository root, with a time limit."""
    cmd = [sys.executable, str(script_path(kind, name))]
    outdir = None
    if kind == "gallery":
        outdir = runs_dir / name
        if outdir.exists():
            shutil.rmtree(outdir)
        outdir.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["--quick", "--out", str(outdir)]
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # several scripts run side by side
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = None
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    seconds = time.perf_counter() - t0
    if outdir is not None:
        out = out.replace(str(outdir), SHOWN_OUT)
    return Run(kind, name, code, out, err, seconds, outdir)


def _wanted(app, docnames) -> list[tuple[str, str]]:
    out = []
    for doc in docnames:
        kind, _, name = doc.partition("/")
        if kind in FOLDERS and "/" not in name and name != "index" and \
                script_path(kind, name).is_file() and \
                f"{FOLDERS[kind]}/{name}.py" not in app.config.replicasolve_scripts_not_run:
            out.append((kind, name))
    return sorted(out)


def _timeout(config, kind: str) -> float:
    return float(config.replicasolve_gallery_timeout if kind == "gallery"
                 else config.replicasolve_derivation_timeout)


def _runs_dir(app) -> Path:
    return Path(app.doctreedir) / "script-runs"


def run_before_read(app, env, docnames) -> None:
    """Run the scripts of the pages about to be read, several at a time."""
    if not app.config.replicasolve_run_scripts:
        return
    wanted = _wanted(app, docnames)
    if not wanted:
        return
    jobs = max(1, int(app.config.replicasolve_run_jobs))
    logger.info(f"running {len(wanted)} script(s) for the gallery and derivation pages, "
                f"{jobs} at a time")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {key: pool.submit(run_script, *key, _runs_dir(app), _timeout(app.config, key[0]))
                   for key in wanted}
        for key, future in futures.items():
            _RUNS[key] = future.result()
            logger.info(f"  {FOLDERS[key[0]]}/{key[1]}.py: {_RUNS[key].seconds:.1f} s")
    logger.info(f"scripts run in {time.perf_counter() - t0:.1f} s")


# --------------------------------------------------------------------- derivation output

_TEX = re.compile(r"\\[A-Za-z]{2,}|[_^]\{")  # a LaTeX command, or a braced sub/superscript
_COMMAND = re.compile(r"\\[A-Za-z]{2,}")
_COLON = re.compile(r":\s+")
_LABEL_TEX = re.compile(r"\\(?:[A-Za-z]{2,}|[ ,;!])")  # a command or a TeX space


def split_latex(line: str) -> tuple[str, str] | None:
    """A printed line that holds LaTeX as (label, latex); None for a line of plain text.

    The LaTeX is what follows the last ``": "`` whose remainder holds LaTeX, else what
    follows the last ``" = "`` before the first LaTeX command, else the whole line.
    """
    if not _TEX.search(line):
        return None
    for m in reversed(list(_COLON.finditer(line))):
        rest = line[m.end():].strip()
        if _TEX.search(rest):
            return line[:m.end()].strip(), rest
    first = _COMMAND.search(line) or _TEX.search(line)
    assert first is not None
    cut = line.rfind(" = ", 0, first.start())
    if cut < 0:
        return "", line.strip()
    return line[:cut + 3].strip(), line[cut + 3:].strip()


def _literal(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return []
    return [".. code-block:: text", ""] + ["   " + x.rstrip() if x.strip() else ""
                                          for x in lines] + [""]


def render_output(text: str) -> tuple[list[str], int]:
    """reST for a derivation's printed output, and how many LaTeX lines it holds: runs of
    plain lines as literal blocks, each LaTeX line as a display-math block after its label
    (as printed, in a literal; a label written in LaTeX is typeset with the formula)."""
    out: list[str] = []
    plain: list[str] = []
    count = 0
    for line in text.splitlines():
        found = split_latex(line)
        if found is None:
            plain.append(line)
            continue
        count += 1
        out += _literal(plain)
        plain = []
        label, tex = found
        if label and _LABEL_TEX.search(label):  # in LaTeX: "\lambda_k(K):", "T_c\ (L=1):"
            tex = f"{label} \\quad {tex}"
        elif label and "`" not in label:
            out += [f"``{label}``", ""]
        elif label:
            out += _literal([label])
        out += [".. math::", "", "   " + tex, ""]
    out += _literal(plain)
    return out, count


# ------------------------------------------------------------------------------ directives

def _docstring(path: Path) -> str:
    return scrub_references(ast.get_docstring(ast.parse(path.read_text())) or "(no docstring)")


def _tomls(doc: str, folder: Path) -> list[Path]:
    """The sweep files a gallery docstring names (``a_{x,y}.toml`` expanded)."""
    found: list[Path] = []
    for m in re.finditer(r"``([\w{},]+\.toml)``", doc):
        text = m.group(1)
        brace = re.search(r"\{([\w,]+)\}", text)
        names = ([text[:brace.start()] + alt + text[brace.end():]
                  for alt in brace.group(1).split(",")] if brace else [text])
        for n in names:
            if (folder / n).is_file() and folder / n not in found:
                found.append(folder / n)
    return found


class _ScriptPage(SphinxDirective):
    required_arguments = 1
    has_content = False
    kind = ""

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        path = script_path(self.kind, name)
        if not path.is_file():
            raise self.error(f"no script {path.relative_to(ROOT)}")
        self.env.note_dependency(str(path))
        run, why_not = self._run(name)
        if run is not None and (problem := run.problem()):
            tail = (run.stderr.strip().splitlines() or [""])[-5:]
            logger.warning(f"{FOLDERS[self.kind]}/{name}.py failed at build time: {problem}"
                           + ("; stderr: " + " | ".join(tail) if tail[0] else ""),
                           location=self.get_location())
        lines = self.lines(name, path, run, why_not)
        text = StringList()
        for i, line in enumerate(lines):
            text.append(line, f"<{self.name} {name}>", i)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, text, node)
        return node.children

    def _run(self, name: str) -> tuple[Run | None, str]:
        config = self.config
        rel = f"{FOLDERS[self.kind]}/{name}.py"
        if rel in config.replicasolve_scripts_not_run:
            return None, (f"This script is not run when the documentation is built: "
                          f"{config.replicasolve_scripts_not_run[rel]}. Run the command above "
                          "to see its output.")
        if not config.replicasolve_run_scripts:
            return None, (f"This build did not run the script ({ENV_SWITCH}=0); the "
                          "published documentation is built with it on.")
        key = (self.kind, name)
        if key not in _RUNS:  # not run before the read (a page under another name)
            _RUNS[key] = run_script(self.kind, name, Path(self.env.doctreedir) / "script-runs",
                                    _timeout(config, self.kind))
        return _RUNS[key], ""

    def lines(self, name: str, path: Path, run: Run | None, why_not: str) -> list[str]:
        raise NotImplementedError  # pragma: no cover

    def _relpath(self, target: Path) -> str:
        here = Path(self.env.doc2path(self.env.docname)).parent
        return Path(os.path.relpath(target, here)).as_posix()


def _shell(cmd: list[str]) -> list[str]:
    return [".. code-block:: bash", "", "   " + " ".join(cmd), ""]


class GalleryDirective(_ScriptPage):
    """A gallery page: docstring, sweep files, commands, the quick run's output and figure."""

    kind = "gallery"

    def lines(self, name: str, path: Path, run: Run | None, why_not: str) -> list[str]:
        doc = _docstring(path)
        out = [f"Script: ``{FOLDERS[self.kind]}/{name}.py``", ""]
        out += [*prose_to_rest(doc.split("\n")), ""]
        out += ["The figure", "----------", "",
                "The full-size figure (the axes of the sweep file(s) below) is made, from the "
                "repository root, by", ""]
        out += _shell(command(self.kind, name, quick=False))
        out += ["It writes the netCDF file(s) of its sweep(s) and the figure as PNG and PDF "
                f"into ``{SHOWN_OUT}/`` and prints the check (measured wall times: "
                ":doc:`index`).", ""]
        if run is None:
            out += ["This build's run", "----------------", "", why_not, ""]
        else:
            out += ["This build's run", "----------------", "",
                    "When this documentation was built the script ran with tiny axes "
                    f"(``--quick``, a smoke test, not the full figure) in {run.seconds:.0f} s:",
                    ""]
            out += _shell(command(self.kind, name, quick=True))
            for png in run.figures():
                out += [f".. figure:: {self._relpath(png)}",
                        f"   :alt: {png.name}, from the --quick run", "",
                        f"   ``{png.name}`` from the ``--quick`` run of this build (tiny axes); "
                        "the full-size figure comes from the first command above.", ""]
            out += ["What it printed:", "", *_literal(run.output.splitlines())]
        tomls = _tomls(doc, path.parent)
        if tomls:
            out += ["Sweep file(s)", "-------------", ""]
            for toml in tomls:
                self.env.note_dependency(str(toml))
                out += [f"``{toml.relative_to(ROOT).as_posix()}``:", "",
                        f".. literalinclude:: {self._relpath(toml)}", "   :language: toml", ""]
        return out


class DerivationDirective(_ScriptPage):
    """A derivation page: docstring, command, and the printed derivation with its math."""

    kind = "derivations"

    def lines(self, name: str, path: Path, run: Run | None, why_not: str) -> list[str]:
        out = [f"Script: ``{FOLDERS[self.kind]}/{name}.py``. What it derives and how it "
               "checks it (its docstring):", ""]
        out += _literal(_docstring(path).splitlines())
        out += ["Run it from the repository root with", ""]
        out += _shell(command(self.kind, name))
        out += ["Output", "------", ""]
        if run is None:
            out += [why_not, ""]
        else:
            rendered, count = render_output(run.output)
            if count:
                out += ["What the script printed when this documentation was built "
                        f"({run.seconds:.0f} s); the LaTeX it prints is typeset as math, "
                        "the other lines are shown as printed:", ""]
            else:
                out += ["What the script printed when this documentation was built "
                        f"({run.seconds:.0f} s). It prints no LaTeX: the derivation is "
                        "shown as its checks, as printed.", ""]
            out += rendered
        return out


def setup(app):
    app.add_config_value("replicasolve_run_scripts", True, "env")
    app.add_config_value("replicasolve_run_jobs", 2, "")
    app.add_config_value("replicasolve_gallery_timeout", 300, "")
    app.add_config_value("replicasolve_derivation_timeout", 120, "")
    app.add_config_value("replicasolve_scripts_not_run", {}, "env")
    app.add_directive("replicasolve-gallery", GalleryDirective)
    app.add_directive("replicasolve-derivation", DerivationDirective)
    app.connect("env-before-read-docs", run_before_read)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
