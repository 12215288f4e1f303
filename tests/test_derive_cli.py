"""``replicasolve derive``: the command prints what the library derives, writes a LaTeX
document, runs the numerical check, and refuses bad input in one line with exit 2.

The derivation itself is tested in ``test_derive_*.py``; here the independent reference of
the check is the SK replica-symmetric free energy computed in the test from its textbook
form (Sherrington & Kirkpatrick, PRL 35, 1792 (1975)):
-βf = β²/4 (1 - q)² + E_z ln 2cosh(β(√q z + h)), q = E_z tanh²(β(√q z + h)).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from replicasolve.cli import main


def _sk_rs(T: float, h: float) -> float:
    """f of the SK RS solution, by fixed-point iteration and 200-node Gauss–Hermite."""
    z, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / w.sum()
    beta, q = 1 / T, 0.5
    for _ in range(2000):
        q = float(w @ np.tanh(beta * (math.sqrt(q) * z + h)) ** 2)
    a = beta * (math.sqrt(q) * z + h)
    ln_2cosh = np.abs(a) + np.log1p(np.exp(-2 * np.abs(a)))
    minus_beta_f = beta**2 / 4 * (1 - q) ** 2 + float(w @ ln_2cosh)
    return -minus_beta_f / beta


def test_json_and_check_against_the_textbook_sk(capsys) -> None:
    T, h = 0.6, 0.1
    rc = main(["derive", "--xi", "q**2/2", "--spins", "ising", "--ansatz", "rs",
               "--check", f"T={T},h={h}", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["command"] == "derive" and out["kind"] == "Derivation"
    assert out["check"]["converged"] is True
    # the derived f at the solver's saddle vs the textbook formula solved here: both are
    # converged to ~1e-10 (solver tolerance and 200-node quadrature), 1e-8 leaves room
    assert out["check"]["free_energy"] == pytest.approx(_sk_rs(T, h), abs=1e-8)
    # every expression travels as LaTeX and as a sympy srepr string
    assert all(set(v) == {"latex", "srepr"} for v in out["expressions"].values())


def test_latex_markdown_and_out(tmp_path, capsys) -> None:
    assert main(["derive", "--xi", "q**3/2", "--spins", "spherical", "--ansatz", "1rsb"]) == 0
    latex = capsys.readouterr().out
    assert "\\begin{equation*}" in latex and "\\documentclass" not in latex
    assert main(["derive", "--xi", "q**3/2", "--spins", "spherical", "--markdown"]) == 0
    assert "$$" in capsys.readouterr().out
    target = tmp_path / "derivation.tex"
    assert main(["derive", "--xi", "q**2/2", "--out", str(target)]) == 0
    doc = target.read_text()
    assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
    capsys.readouterr()
    # an existing file is never replaced without --force
    target.write_text("mine")
    assert main(["derive", "--xi", "q**2/2", "--out", str(target)]) == 2
    assert target.read_text() == "mine"
    assert main(["derive", "--xi", "q**2/2", "--out", str(target), "--force"]) == 0
    assert target.read_text().startswith("\\documentclass")


@pytest.mark.parametrize(("argv", "words"), [
    (["--xi", "q**2/2", "--check", "T=0.6,x=1"], "--check"),
    (["--xi", "q**2/2", "--check", "T=0.6,T=0.7"], "given twice"),
    (["--xi", "q**2/2", "--check", "T=inf"], "finite"),
    (["--xi", "q**2/2", "--check", "T=abc"], "must be a number"),
    (["--xi", "q**2/2", "--ansatz", "7"], "--ansatz"),
    (["--xi", "__import__('os')"], "not allowed"),
    (["--xi", "q**2/2", "--activation", "erf", "--depth", "1"], "exactly one"),
    (["--activation", "erf"], "--depth"),
    (["--xi", "q**2/2", "--landscape"], "--activation"),
    (["--activation", "erf", "--depth", "1", "--alpha", "2"], "--landscape"),
    (["--xi", "q**2/2", "--force"], "--out"),
    (["--xi", "q**2/2", "--sizes", "3,3"], "msk"),
    (["msk", "--xi", "q**2/2"], "msk"),
    (["msk", "--symbolic"], "--layers"),
    (["msk", "--layers", "2"], "--symbolic"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys) -> None:
    assert main(["derive", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


@pytest.mark.parametrize("argv", [
    ["msk", "--sizes", "20,10,5"],
    ["msk", "--symbolic", "--layers", "3"],
    ["--xi", "q**2/2", "--ansatz", "1rsb"],
    ["--xi", "q**3/2 + q**4/4", "--spins", "spherical", "--ansatz", "1rsb"],
    ["--activation", "relu", "--depth", "1", "--landscape"],
    ["--activation", "erf", "--depth", "1", "--landscape", "--alpha", "2"],
])
def test_no_step_renders_a_truth_value(argv, capsys) -> None:
    # an Eq between a symbol and a matrix (or two equal things) evaluates to a bool, and
    # a step then shows \text{False} instead of its equation
    assert main(["derive", *argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["steps"]
    for step in out["steps"]:
        assert "\\text{False}" not in (step["latex"] or ""), step["title"]
        assert "\\text{True}" not in (step["latex"] or ""), step["title"]


def test_msk_check_and_symbolic(capsys) -> None:
    # the check of an MSK derivation has no state point: --check alone
    assert main(["derive", "msk", "--sizes", "20,10,5", "--check", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # identical variances C = 2 on sizes 20-10-5 (α = 4/7, 2/7, 1/7): K has
    # K_10 = 2 sqrt(1/2), K_21 = 2 sqrt(1/2), so λ_max² = 2 + 2 and T_c = sqrt(2)
    # (the path-graph form with these ratios, computed by hand)
    assert out["check"]["converged"] is True
    assert main(["derive", "msk", "--sizes", "20,10,5", "--check", "T=1"]) == 2
    assert "state point" in capsys.readouterr().err


def test_the_readme_example_checks_out(capsys) -> None:
    # the README's command: the RS solver's residual floor for this ξ (~2e-9) sits above a
    # solver tolerance of 1e-9; the check must still pass at its 1e-7 tolerance
    argv = ["derive", "--xi", "q**2/2 + 0.1*q**4", "--spins", "ising", "--ansatz", "rs",
            "--check", "T=0.6,h=0.1", "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["check"]["converged"] is True


DOCUMENT_CASES = [
    ["--xi", "q**2/2+0.1*q**4", "--ansatz", "1rsb"],
    ["--xi", "q**3/2", "--spins", "spherical", "--ansatz", "full"],
    ["msk", "--sizes", "20,10,5"],
    ["--activation", "erf", "--depth", "1", "--landscape", "--alpha", "2"],
]


@pytest.mark.parametrize("argv", DOCUMENT_CASES)
def test_the_document_is_plain_tex(argv, tmp_path) -> None:
    # the prose is escaped and its Unicode spelled in TeX, so pdflatex needs no Unicode
    # engine: the document is ASCII, and outside math no bare _ ^ & % # is left
    import re

    target = tmp_path / "d.tex"
    assert main(["derive", *argv, "--out", str(target)]) == 0
    doc = target.read_text(encoding="utf-8")
    assert doc.isascii()
    for line in doc.splitlines():
        if line.startswith("\\paragraph") or line.startswith("\\section"):
            prose = re.sub(r"\$[^$]*\$", "", line)  # drop the inline math
            assert not re.search(r"(?<!\\)[_^&%#]", prose), line


@pytest.mark.parametrize("argv", DOCUMENT_CASES)
def test_the_document_compiles(argv, tmp_path) -> None:
    # where a TeX installation is present (not required by the package or CI)
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("no pdflatex on this machine")
    target = tmp_path / "d.tex"
    assert main(["derive", *argv, "--out", str(target)]) == 0
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "d.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "d.pdf").stat().st_size > 1000


@pytest.mark.parametrize("argv", [
    ["derive", "--xi", "q**2/2", "--spins", "spherical", "--check", "h=1e300"],
    ["parisi", "--xi", "q**2/2", "--spins", "spherical", "--T", "0.5", "--field=-1e200"],
])
def test_a_field_whose_square_overflows_is_refused(argv, capsys) -> None:
    # found as a new user: the spherical solver works with h², which overflowed (traceback)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "|h| < 1e150" in err[0], err
