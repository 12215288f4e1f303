"""The example scripts run to the end and print a verdict (slow: they solve many points)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# The verdict each script reaches on the published finding, per case in print order (all
# in the Gaussian, infinite-width limit, deterministic: no sampling). Shallow: tanh depth 1
# is RS at every T > 0; tanh depth 2 and relu depth 1 lose RS at T = 0.05, relu depth 2 at
# T <= 0.2. sin: RS or 1RSB, never full RSB. Shaped ReLU with (c+ - c-)^2 = 9 loses RS at
# T <= 0.2.
VERDICTS = {"landscape_shallow_rs.py": ["AGREES", "DISAGREES", "DISAGREES", "DISAGREES"],
            "landscape_sin_frsb.py": ["DISAGREES"],
            "landscape_shaped_deep_rs.py": ["DISAGREES"]}
VERDICT_LINE = re.compile(r"^\s*(AGREES|DISAGREES)\b", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VERDICTS))
def test_landscape_example_runs(name):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert VERDICT_LINE.findall(out.stdout) == VERDICTS[name], out.stdout


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
    # every claim gets its verdict line: the RS control has at least 6 (Var q, <q>, e and
    # e(T)-e(Tmax) extrapolated, the latter also as a + b N^-2/3 and N^-1/2), the RSB point
    # at least 16 (one more each where a power-law fit or the hot control applies). Which
    # way they go at N = 12, 16 is not resolved by a run this small (not asserted here)
    rs, sep, rsb = out.stdout.partition("=== RSB:")
    assert sep, out.stdout
    line = re.compile(r"^  \(.+: z = \S+ -> (agrees|does not agree)$", re.MULTILINE)
    assert len(line.findall(rs)) >= 6 and len(line.findall(rsb)) >= 16, out.stdout
