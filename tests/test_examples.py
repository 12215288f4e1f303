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
