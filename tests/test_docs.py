"""The documentation: its examples run against the code, and it builds without a warning.

- Every ```python block of ``docs/**/*.md`` runs, page by page, in order, in one fresh
  namespace per page, in a temporary working directory: an example that drifts from the
  API fails here. The same for the README's python blocks.
- ``sphinx -W`` builds the site (when Sphinx and the theme are installed: the ``docs``
  extra), so a docstring that autodoc cannot read, a broken cross-reference or a page
  missing from a toctree fails here too.
- The generated parts (the help of every command, the API module list) cover what the code
  has.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


sys.path.insert(0, str(DOCS / "_ext"))  # the extensions import each other, as under Sphinx


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


doc_blocks = _load("doc_blocks")

PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
PAGES_WITH_CODE = [p for p in PAGES if doc_blocks.python_blocks(p.read_text())]


def test_there_are_pages_with_code() -> None:
    assert DOCS / "getting-started.md" in PAGES_WITH_CODE


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the examples write files (a training run, a sweep)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    doc_blocks.run_page(page.read_text(), str(page.relative_to(ROOT)))


@pytest.mark.slow
def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text()
    if not doc_blocks.python_blocks(text):
        pytest.skip("the README has no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    doc_blocks.run_page(text, "README.md")


def test_every_output_block_follows_code() -> None:
    # a ```text block right after a ```python block shows that block's output; the tour
    # must not show an empty one (run docs/_ext/doc_blocks.py to refresh them)
    for page in PAGES_WITH_CODE:
        found = doc_blocks.blocks(page.read_text())
        for prev, cur in itertools.pairwise(found):
            if prev[0] == "python" and cur[0] == "text":
                assert cur[1].strip(), f"{page.name}: empty output block after {prev[1]!r}"


def test_cli_page_covers_every_command() -> None:
    from replicasolve.cli.parser import build_parser

    ext = _load("replicasolve_docs")
    documented = {name for name, _ in ext.cli_commands()}
    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert subs
    for command in subs[0].choices:
        assert f"replicasolve {command}" in documented
    helps = dict(ext.cli_commands())
    assert "--variance" in helps["replicasolve msk"]


def test_docstring_prose_is_read_as_written() -> None:
    prose = _load("docstring_prose")
    out = prose.prose_to_rest([
        "Overlap |Q_ab| and c_ and ``keep|this_``.",
        "",
        "    f = -T ln 2 - |h|",
        "",
        "Args:",
        "    x: the value |x|.",
    ])
    assert out[0] == r"Overlap \|Q_ab\| and c\_ and ``keep|this_``."
    assert "::" in [line.strip() for line in out]  # the formula became a literal block
    assert "    f = -T ln 2 - |h|" in out  # and is shown as written
    assert r"    x: the value \|x\|." in out


def test_references_to_internal_notes_are_dropped() -> None:
    prose = _load("docstring_prose")
    scrub = prose.scrub_references
    assert scrub("saddle (SCIENCE.md §B; derivation in x)") == "saddle (derivation in x)"
    assert scrub("the experiments of issue #7.") == "the experiments."
    assert scrub("theory (issue #5; SCIENCE.md §B).") == "theory."
    assert scrub("W as in SCIENCE.md A, the default") == (
        "W as in the layered-network model, the default")
    assert scrub("(Jun Li, arXiv 2508.07397; SCIENCE.md C),") == "(Jun Li, arXiv 2508.07397),"


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("pydata_sphinx_theme")
    pytest.importorskip("sphinx_copybutton")
    out = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert (tmp_path / "html" / "index.html").exists()
    assert (tmp_path / "html" / "cli.html").exists()
    # the pages never cite the project's internal notes or its tracker
    for page in (tmp_path / "html").rglob("*.html"):
        text = page.read_text()
        assert "SCIENCE.md" not in text and "issue #" not in text, page


def test_validation_page_names_existing_tests() -> None:
    # every `test_file.py::test_name` (or `::test_name` after one on the same line) that
    # the validation page cites is a test function of that file
    cited = 0
    for line in (DOCS / "validation.md").read_text().splitlines():
        current = None
        for m in re.finditer(r"`(?:tests/)?(test_\w+\.py)?::(\w+)`", line):
            current = m.group(1) or current
            assert current is not None, f"no file for ::{m.group(2)} in {line!r}"
            source = (ROOT / "tests" / current).read_text()
            assert re.search(rf"^def {m.group(2)}\(", source, re.M), (current, m.group(2))
            cited += 1
    assert cited >= 20


def test_api_pages_cover_every_package() -> None:
    # a new top-level module or package of replicasolve must get a place on an API page
    import pkgutil

    import replicasolve

    listed = set()
    for page in (DOCS / "api").glob("*.rst"):
        listed |= set(re.findall(r"^\.\. replicasolve-modules:: (\S+)", page.read_text(), re.M))
    for info in pkgutil.iter_modules(replicasolve.__path__):
        if info.name.startswith("_"):
            continue
        assert f"replicasolve.{info.name}" in listed, f"replicasolve.{info.name} has no API page"
