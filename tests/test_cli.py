"""Command line: JSON output, file inputs, one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from replicasolve.cli import main
from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import random_layered


def _run_json(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object on one line
    return json.loads(out)


def test_msk_json(capsys) -> None:
    out = _run_json(capsys, ["msk", "--sizes", "784,512,512,512,10", "--variance", "2", "--json"])
    ref = msk_critical([784, 512, 512, 512, 10], 2.0)
    assert out["beta_c"] == ref.beta_c and out["T_c"] == ref.T_c
    assert out["variances"] == [2.0] * 4
    assert len(out["mode"]) == 5


def test_msk_text_shows_c(capsys) -> None:
    assert main(["msk", "--sizes", "100,100", "--variance", "1"]) == 0
    text = capsys.readouterr().out
    assert "C=1" in text and "T_c" in text


def test_tap_random_json(capsys) -> None:
    out = _run_json(
        capsys, ["tap", "--sizes", "120,80,40", "--variance", "2", "--seed", "3", "--json",
                 "--spectrum"]
    )
    assert out["crossed"] and out["converged"]
    assert out["sizes"] == [120, 80, 40]
    assert abs(out["beta_c"] / out["msk_beta_c"] - 1) < 0.05  # N = 240: finite-size scale
    assert out["level_stats"]["normalized_first_spacing"] > 0


def test_tap_npz_and_pt(tmp_path, capsys) -> None:
    b = random_layered([50, 30, 20], 2.0, 9)
    npz = tmp_path / "w.npz"
    b.save_npz(npz)
    a = _run_json(capsys, ["tap", str(npz), "--json"])
    torch = pytest.importorskip("torch")
    state = {f"l{k}.weight": torch.tensor(w) for k, w in enumerate(b.weights)}
    pt = tmp_path / "w.pt"
    torch.save(state, pt)
    c = _run_json(capsys, ["tap", str(pt), "--json"])
    assert a["beta_c"] == c["beta_c"]
    assert np.allclose(a["variance_factors"], b.variance_factors())
    ref = _run_json(capsys, ["tap", str(npz), "--reference", str(npz), "--json"])
    assert ref["beta_c"] == pytest.approx(a["beta_c"], rel=1e-12)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["msk", "--sizes", "10,-1"], "positive"),
        (["msk", "--sizes", "10"], "at least two"),
        (["msk", "--variance", "0"], "positive"),
        (["msk", "--variance", "1,2"], "2 variances for 4"),
        (["tap", "/nonexistent/w.npz"], "no such file"),
        (["tap", "--sizes", "10,x"], "comma list"),
        (["tap", "--rtol", "5"], "rtol"),
        (["nosuch"], "invalid choice"),
    ],
)
def test_bad_input_one_line(argv: list[str], needle: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "replicasolve.cli", *argv], capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_nan_weights_file(tmp_path) -> None:
    path = tmp_path / "nan.npz"
    np.savez(path, W1=np.array([[1.0, np.nan], [0.0, 1.0]]))
    proc = subprocess.run(
        [sys.executable, "-m", "replicasolve.cli", "tap", str(path)], capture_output=True,
        text=True, timeout=120,
    )
    assert proc.returncode == 2 and "NaN" in proc.stderr
    assert path.exists()  # nothing a user had is touched


@pytest.mark.parametrize("sub", [[], ["demo"], ["msk"], ["tap"], ["kernel"]])
def test_help(sub: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "replicasolve.cli", *sub, "--help"], capture_output=True,
        text=True, timeout=120,
    )
    assert proc.returncode == 0 and "usage" in proc.stdout


def test_demo_json(capsys) -> None:
    out = _run_json(capsys, ["--json"])
    assert out["command"] == "demo"
    assert out["msk"]["beta_c"] == pytest.approx(0.5689849034, rel=1e-9)  # = test_msk values
    # the 784-512-512-512-10 instance (N = 2330) sits within the finite-size trend
    assert abs(out["relative_difference_beta_c"]) < 0.01
    assert out["tap"]["crossed"] and out["variances"] == [2.0] * 4


def test_import_is_light() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import replicasolve; "
        "dt = time.perf_counter() - t; "
        "bad = [m for m in ('torch', 'sympy', 'matplotlib', 'dask', 'numba') if m in sys.modules];"
        "print(dt, bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    dt, bad = proc.stdout.split(" ", 1)
    assert bad.strip() == "[]"
    assert float(dt) < 1.0
