"""The example scripts run to the end and print a verdict (slow: they solve many points)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["landscape_shallow_rs.py", "landscape_sin_frsb.py",
                                  "landscape_shaped_deep_rs.py"])
def test_landscape_example_runs(name):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "AGREES" in out.stdout or "DISAGREES" in out.stdout


@pytest.mark.slow
def test_figure_examples_write_files_and_refuse_to_overwrite(tmp_path):
    diag = ROOT / "examples" / "landscape_phase_diagrams.py"
    ent = ROOT / "examples" / "landscape_entropy_curves.py"
    out = subprocess.run([sys.executable, str(diag), "--out", str(tmp_path), "--depths", "1-2",
                          "--temps", "0.1-1:4"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "sin_phases.nc").exists() and (tmp_path / "relu_phases.png").exists()
    before = (tmp_path / "sin_phases.nc").read_bytes()
    again = subprocess.run([sys.executable, str(diag), "--out", str(tmp_path)],
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 2
    assert (tmp_path / "sin_phases.nc").read_bytes() == before
    png = tmp_path / "s.png"
    out = subprocess.run([sys.executable, str(ent), "--out", str(png)], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert png.stat().st_size > 1000


@pytest.mark.slow
def test_training_example_runs_end_to_end(tmp_path):
    pytest.importorskip("torch")
    script = ROOT / "examples" / "training_glass_to_order.py"
    out = subprocess.run([sys.executable, str(script), "--out", str(tmp_path), "--epochs", "3",
                          "--hidden", "128,128,128", "--n-train", "1000"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    for n in range(1, 6):  # every published finding gets a verdict line
        assert any(line.startswith(f"{n}.") for line in out.stdout.splitlines()), n
    assert (tmp_path / "standard_small" / "scan.nc").exists()
    assert list((tmp_path / "binarized_large" / "figures").glob("*.png"))


@pytest.mark.slow
def test_landscape_mc_rsb_check_runs():
    """The Monte Carlo check in an RSB phase prints one verdict line per claim (small run:
    the numbers themselves are tested in tests/test_landscape_mc_rsb.py)."""
    script = ROOT / "examples" / "landscape_mc_rsb_check.py"
    out = subprocess.run([sys.executable, str(script), "--sizes", "12,16", "--networks", "4",
                          "--sweeps", "300"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("agrees") + out.stdout.count("does not agree") >= 2
