"""The documentation: its examples run against the code, and it builds without a warning.

- Every ```python block of ``docs/**/*.md`` runs, page by page, in order, in one fresh
  namespace per page, in a temporary working directory: an example that drifts from the
  API fails here. The same for the README's python blocks.
- ``sphinx -W`` builds the site (when Sphinx and the theme are installed: the ``docs``
  extra), so a docstring that autodoc cannot read, a broken cross-reference or a page
  missing from a toctree fails here too.
- The generated parts (the help of every command, the API module list) cover what the code
  has.
- Every gallery script and every derivation has its page; the build runs them (the build
  test forces ``REPLICASOLVE_DOCS_RUN=1``), so each gallery page shows a figure and the
  check's PASS, and each derivation page its LaTeX as MathJax math.
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
    sys.modules[name] = module  # as an import would (dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


doc_blocks = _load("doc_blocks")
script_pages = _load("script_pages")

GALLERY_SCRIPTS = sorted(p.stem for p in (ROOT / "examples" / "gallery").glob("*.py")
                         if not p.name.startswith("_") and p.stem != "make_all")
DERIVATION_SCRIPTS = sorted(p.stem for p in (ROOT / "derivations").glob("*.py")
                            if not p.name.startswith("_"))


def _conf_value(name: str):
    # a value of docs/conf.py, read without Sphinx
    namespace: dict = {"__file__": str(DOCS / "conf.py")}
    exec(compile((DOCS / "conf.py").read_text(), str(DOCS / "conf.py"), "exec"), namespace)
    return namespace[name]


NOT_RUN = _conf_value("replicasolve_scripts_not_run")

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
        capture_output=True, text=True, cwd=ROOT, timeout=900,
        env={**os.environ, "MPLBACKEND": "Agg", "REPLICASOLVE_DOCS_RUN": "1"})
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    html = tmp_path / "html"
    assert (html / "index.html").exists()
    assert (html / "cli.html").exists()
    # the JSON fields are read from real runs: the main job's MSK and TAP critical points
    cli_page = (html / "cli.html").read_text()
    for field in ("msk.T_c", "tap.beta_c", "free_energy", "expressions"):
        assert field in cli_page, field
    # the gallery and derivation pages carry what their scripts printed when the site was built
    for name in GALLERY_SCRIPTS:
        text = (html / "gallery" / f"{name}.html").read_text()
        assert "<img" in text and f"_images/{name}.png" in text, name
        assert re.search(r"\bPASS\b", text) and not re.search(r"\bFAIL\b", text), name
        assert (html / "_images" / f"{name}.png").stat().st_size > 1000, name
    with_math = 0
    for name in DERIVATION_SCRIPTS:
        text = (html / "derivations" / f"{name}.html").read_text()
        if f"derivations/{name}.py" in NOT_RUN:
            assert "not run when the documentation is built" in text, name
            continue
        assert "all checks passed" in text, name
        if 'class="math notranslate nohighlight"' in text:
            with_math += 1
        else:  # a derivation that prints only its checks says so
            assert "It prints no LaTeX" in text, name
    assert with_math >= len(DERIVATION_SCRIPTS) - len(NOT_RUN) - 1
    assert "\\frac{" in (html / "derivations" / "msk_critical_temperature.html").read_text()
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


# ------------------------------------------------------- the gallery and derivation pages


@pytest.mark.parametrize(("folder", "kind", "names"), [
    ("gallery", "gallery", GALLERY_SCRIPTS), ("derivations", "derivation", DERIVATION_SCRIPTS)])
def test_every_script_has_its_page(folder: str, kind: str, names: list[str]) -> None:
    # a new gallery script or derivation needs a page (docs/<folder>/<name>.rst with its
    # title and the directive), listed in a toctree (sphinx -W checks that); no stale pages
    assert names
    pages = {p.stem for p in (DOCS / folder).glob("*.rst")}
    assert pages == set(names)
    for name in names:
        text = (DOCS / folder / f"{name}.rst").read_text()
        assert f".. replicasolve-{kind}:: {name}\n" in text, name


def test_scripts_not_run_are_measured_and_exist() -> None:
    assert set(NOT_RUN) <= {f"derivations/{n}.py" for n in DERIVATION_SCRIPTS} | {
        f"examples/gallery/{n}.py" for n in GALLERY_SCRIPTS}
    for reason in NOT_RUN.values():
        assert re.search(r"\d+ s", reason), reason  # says what was measured


def test_latex_lines_are_split_from_their_labels() -> None:
    split = script_pages.split_latex
    assert split("  [ok] q = 1 - T is a saddle") is None
    assert split("ReLU:  K = \\frac{c}{2 \\pi}") == ("ReLU:", "K = \\frac{c}{2 \\pi}")
    assert split("  Psi (k = 2) = \\frac{q_{0}}{2}") == ("Psi (k = 2) =", "\\frac{q_{0}}{2}")
    assert split("  dPhi/d\\hat{g} = 0:   \\frac{a}{2} = 0") == (
        "dPhi/d\\hat{g} = 0:", "\\frac{a}{2} = 0")
    assert split("  T_c:  \\sqrt{2}") == ("T_c:", "\\sqrt{2}")
    assert split("\\sqrt{2} \\sqrt{C}") == ("", "\\sqrt{2} \\sqrt{C}")
    rest, count = script_pages.render_output(
        "1. step\n  [ok] a check\n  T_c:  \\sqrt{C}\n  \\lambda_k:  2 \\cos{x}\n"
        "all checks passed\n")
    assert count == 2
    text = "\n".join(rest)
    assert "``T_c:``" in text and "   \\sqrt{C}" in text
    # a label written in LaTeX is typeset with its formula
    assert "   \\lambda_k: \\quad 2 \\cos{x}" in text
    assert text.count(".. math::") == 2 and text.count(".. code-block:: text") == 2


def test_a_failed_run_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Run = script_pages.Run
    ok = Run("derivations", "x", 0, "...\nall checks passed\n", "", 1.0, None)
    assert ok.problem() is None
    assert "exit status 1" in Run("derivations", "x", 1, "", "boom", 1.0, None).problem()
    assert "all checks passed" in Run("derivations", "x", 0, "1 check(s) FAILED", "", 1.0,
                                      None).problem()
    assert "time limit" in Run("derivations", "x", None, "", "", 9.0, None).problem()
    png = tmp_path / "fig.png"
    png.write_bytes(b"x")
    assert Run("gallery", "g", 0, "check: PASS", "", 1.0, tmp_path).problem() is None
    assert "FAIL" in Run("gallery", "g", 0, "check: FAIL", "", 1.0, tmp_path).problem()
    assert "no PASS" in Run("gallery", "g", 0, "check done", "", 1.0, tmp_path).problem()
    assert "no PNG" in Run("gallery", "g", 0, "PASS", "", 1.0, tmp_path / "none").problem()
    # a script past its time limit is killed and reported
    slow = tmp_path / "slow.py"
    slow.write_text("import time\nprint('started', flush=True)\ntime.sleep(30)\n")
    monkeypatch.setattr(script_pages, "script_path", lambda kind, name: slow)
    run = script_pages.run_script("derivations", "slow", tmp_path, timeout=2.0)
    assert run.returncode is None and run.seconds < 20
    assert "time limit" in run.problem()
