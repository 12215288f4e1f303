"""`replicasolve parisi`: exact RS values, JSON output, --out safety, one-line errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

import replicasolve
from replicasolve.cli import main

SK = ["parisi", "--xi", "q**2/2"]


def _status(argv: list[str]) -> int:
    """main()'s exit status, argparse's own errors (SystemExit) included."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _json(capsys, argv: list[str]) -> dict:
    assert main([*argv, "--json"]) == 0
    cap = capsys.readouterr()
    assert cap.out.count("\n") == 1 and cap.err == ""  # exactly one JSON object
    return json.loads(cap.out)


def test_sk_high_temperature_exact(capsys) -> None:
    # SK above T_c = 1: q = 0 and f = -T ln 2 - 1/(4T) exactly (SK 1975, annealed = quenched)
    T = 1.5
    out = _json(capsys, [*SK, "--spins", "ising", "--T", str(T), "--rsb", "rs"])
    assert abs(out["free_energy"] - (-T * math.log(2) - 1 / (4 * T))) < 1e-10
    assert out["version"] == replicasolve.__version__
    assert out["method"] == "RS" and out["spins"] == "ising" and out["converged"] is True


def test_sk_rs_ground_state_exact(capsys) -> None:
    # RS at T = 0: q = 1 and e = -sqrt(xi'(1)) E|z| = -sqrt(2/pi)
    out = _json(capsys, [*SK, "--T", "0", "--rsb", "rs"])
    assert abs(out["free_energy"] - (-math.sqrt(2 / math.pi))) < 1e-10
    assert out["T"] == 0.0


def test_spherical_sk_ground_state(capsys) -> None:
    # Crisanti-Sommers at T = 0, RS (exact for p = 2): e = -min_L (xi'(1) L + 1/L)/2
    # = -sqrt(xi'(1)) = -1, i.e. -(1/2) lambda_max of a GOE matrix with edge 2
    out = _json(capsys, [*SK, "--spins", "spherical", "--T", "0", "--rsb", "rs"])
    assert abs(out["free_energy"] - (-1.0)) < 1e-10
    assert out["spins"] == "spherical"


def test_table_names_model_and_method(capsys) -> None:
    assert main([*SK, "--T", "1.5", "--rsb", "rs", "--field", "0.2"]) == 0
    text = capsys.readouterr().out
    assert "ising spins, xi(q) = q**2/2, T = 1.5, h = 0.2" in text
    assert "RS (k = 0)" in text and "magnetization" in text


def test_out_round_trip_and_no_clobber(tmp_path, capsys) -> None:
    path = tmp_path / "sk.json"
    argv = [*SK, "--T", "0", "--rsb", "rs", "--out", str(path)]
    printed = _json(capsys, argv)
    saved = json.loads(path.read_text())
    assert saved == printed
    first = path.read_bytes()
    # a second run without --force refuses (one line, exit 2) and leaves the file as it was
    assert _status([*SK, "--T", "1.5", "--rsb", "rs", "--out", str(path)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and len(cap.err.strip().splitlines()) == 1
    assert "--force" in cap.err
    assert path.read_bytes() == first
    # --force replaces it, atomically: no temporary file is left beside it
    assert main([*SK, "--T", "1.5", "--rsb", "rs", "--out", str(path), "--force"]) == 0
    capsys.readouterr()
    assert json.loads(path.read_text())["T"] == 1.5
    assert os.listdir(tmp_path) == ["sk.json"]


def test_not_converged_prints_and_exits_3(tmp_path, capsys) -> None:
    path = tmp_path / "r.json"
    argv = [*SK, "--T", "0.5", "--rsb", "2", "--maxiter", "1", "--out", str(path)]
    assert main(argv) == 3
    cap = capsys.readouterr()
    assert "2RSB (k = 2)" in cap.out and "converged" in cap.out
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and "did not converge" in err[0]
    assert json.loads(path.read_text())["converged"] is False  # saved all the same
    assert main([*SK, "--T", "0.5", "--rsb", "2", "--maxiter", "1", "--json"]) == 3
    cap = capsys.readouterr()
    assert cap.out.count("\n") == 1 and json.loads(cap.out)["converged"] is False


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--xi", "q**2 - q**3", "--T", "1"], "coefficient of q^3"),
        (["--xi", "q*x", "--T", "1"], "unknown name 'x'"),
        (["--xi", "__import__('os')", "--T", "1"], "not allowed"),
        (["--xi", "q**2/2", "--T", "-1"], "T must be >= 0"),
        (["--xi", "q**2/2", "--T", "1", "--rsb", "-1"], "k must be an integer >= 0"),
        (["--xi", "q**2/2", "--T", "1", "--rsb", "9q"], "unknown method"),
        (["--xi", "q**2/2", "--T", "1", "--spins", "potts"], "invalid choice"),
        (["--xi", "q**2/2", "--T", "1", "--ks", "2,x"], "comma list of integers"),
        (["--xi", "q**2/2", "--T", "1", "--ks", "2,3"], "at least three"),
        (["--xi", "q**2/2", "--T", "1", "--ks", "3,2,4"], "increasing"),
        (["--xi", "q**2/2", "--T", "1", "--rsb", "rs", "--ks", "2,3,4"], "only to --rsb full"),
        (["--xi", "q**2/2", "--T", "1", "--tol", "0"], "--tol"),
        (["--xi", "q**2/2", "--T", "1", "--out", "/nonexistent/dir/r.json"], "no such"),
        (["--xi", "q**2/2"], "required"),
    ],
)
def test_bad_input_one_line(argv: list[str], needle: str, capsys) -> None:
    assert _status(["parisi", *argv]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], cap.err


def test_help_documents_exit_status(capsys) -> None:
    assert _status(["parisi", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--xi" in text and "--rsb" in text and "3 the solver did not converge" in text


def test_subprocess_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "replicasolve.cli", *SK, "--T", "0", "--rsb", "rs", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.count("\n") == 1
    assert json.loads(proc.stdout)["free_energy"] == pytest.approx(-math.sqrt(2 / math.pi),
                                                                    abs=1e-10)


@pytest.mark.parametrize("links", [True, False])
def test_save_never_clobbers(tmp_path, monkeypatch, links: bool) -> None:
    # the write itself refuses an existing file (a file that appeared after the early check),
    # with hard links (atomic no-clobber) and on file systems without them
    from replicasolve.cli.args import UsageError, save_json

    if not links:
        def no_link(src, dst):
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_link)
    path = tmp_path / "r.json"
    save_json({"a": 1}, str(path), force=False)
    assert json.loads(path.read_text()) == {"a": 1}
    before = path.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        save_json({"a": 2}, str(path), force=False)
    assert path.read_bytes() == before
    save_json({"a": 3}, str(path), force=True)
    assert json.loads(path.read_text()) == {"a": 3}
    assert os.listdir(tmp_path) == ["r.json"]
