"""Replicon of the finite-width RS saddle, one hidden layer
(replicasolve.solvers.finite_width.replicon).

Where the expected values come from:
- the formula Λ = 1 - α E_{η,ζ}[(Var_ε^ψ ε - 1)²] and its checks (sympy algebra of the
  replicon sector, a finite-difference Hessian of the action at n = 4) are in
  derivations/finite_width_replicon.py (run here, must print "all checks passed");
- α → ∞: the Crisanti–Sommers RS replicon 1 - β² ξ''(q)(1 - q)² with ξ = K_2, from the
  independent Gaussian-limit solver solve_landscape(RandomMLPLandscape(act, 1, σ_w², σ_b²), T, "rs")
  (Hanin & Winer, arXiv 2503.23982); the difference is O(1/α) (derivation step 5), seen
  here at two α;
- φ = x: the tilted ε is Gaussian with unit variance, Λ = 1 exactly (derivation step 6);
- sin / tanh signs: measured values of this module, with the rule-refinement spread quoted
  next to each (nothing published is used as an expected number).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers.finite_width.replicon import finite_width_replicon, replicon_at
from replicasolve.solvers.landscape import solve_landscape

ROOT = Path(__file__).resolve().parents[1]


def test_derivation_script_passes() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "derivations" / "finite_width_replicon.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "all checks passed" in out.stdout


@pytest.mark.parametrize(("act", "sw2", "sb2", "T"),
                         [("tanh", 1.5, 0.05, 0.8), ("sin", 2.0, 0.0, 0.5)])
def test_large_alpha_is_the_gaussian_replicon(act: str, sw2: float, sb2: float,
                                              T: float) -> None:
    ref = solve_landscape(RandomMLPLandscape(act, 1, sw2, sb2), T, method="rs").replicon
    alphas = (1e3, 2e3, 1e5)
    slopes = [a * (finite_width_replicon(act, sw2, sb2, a, T) - ref) for a in alphas]
    # Λ_α = Λ_∞ + c/α + O(1/α²): α(Λ_α - Λ_∞) is the same at all three α (measured
    # 0.014576 / 0.014578 / 0.014581 for tanh, -1.8782 / -1.8794 / -1.8805 for sin; the
    # spread is the O(1/α²) term). A limit off by δ would add αδ to the slope, so the 0.2%
    # agreement out to α = 1e5 bounds |δ| below 4e-8: the limit IS the Gaussian replicon.
    for s in slopes[1:]:
        assert abs(s - slopes[0]) < 2e-3 * abs(slopes[0]) + 1e-5, slopes
    assert abs(slopes[0]) < 2.0


def test_large_alpha_sin_keeps_the_gaussian_sign() -> None:
    # the Gaussian limit of sin (σ_w² = 2, σ_b² = 0) at T = 0.5 is RS-unstable
    # (replicon -0.02159 from the Crisanti–Sommers solver); α = 1e3 agrees in sign
    ref = solve_landscape(RandomMLPLandscape("sin", 1, 2.0, 0.0), 0.5, method="rs").replicon
    assert ref < 0 and finite_width_replicon("sin", 2.0, 0.0, 1e3, 0.5) < 0


@pytest.mark.parametrize(("alpha", "T"), [(0.5, 0.5), (1.0, 0.2), (4.0, 1.0), (2.0, 0.3)])
def test_linear_activation_replicon_is_one(alpha: float, T: float) -> None:
    # exact: Var_ε^ψ(ε) = 1 for ψ linear in ε (derivation step 6); the tolerance is the
    # Gauss–Hermite error of the strongly tilted e^{λζ sqrt(s) ε} (measured ≤ 2e-9)
    assert finite_width_replicon("linear", 0.7, 0.2, alpha, T) == pytest.approx(1.0, abs=1e-8)


def test_replicon_at_reduces_to_gaussian_formula_at_small_tilt() -> None:
    # at fixed q, α E χ² → β² σ_w⁶ E_η m''² = β² ξ''(q) (derivation step 5): compare with
    # the Gaussian-limit replicon at the Gaussian-limit q, tolerance O(1/α) = 1e-4 at 1e5
    ref = solve_landscape(RandomMLPLandscape("tanh", 1, 1.0, 0.1), 0.7, method="rs")
    q = float(np.atleast_1d(ref.q)[-1])
    val = replicon_at(np.tanh, 1.0, 0.1, 1e5, 0.7, q)
    assert val == pytest.approx(ref.replicon, abs=1e-4)


def test_tanh_is_replica_symmetric_at_the_tested_points() -> None:
    # tanh, σ_w² = 1.5, σ_b² = 0, T = 0.2 (the lowest T tested): measured Λ = 0.848 / 0.765
    # / 0.611 at α = 0.5 / 1 / 4 (64 -> 96 η, ε nodes moves them by ≤ 1e-4)
    vals = [finite_width_replicon("tanh", 1.5, 0.0, a, 0.2) for a in (0.5, 1.0, 4.0)]
    assert all(v > 0.5 for v in vals), vals


def test_sin_replicon_signs() -> None:
    # sin, σ_w² = 2, σ_b² = 0. T = 1: stable (measured 0.875 / 0.804 / 0.698 at α = 0.5 /
    # 1 / 4). T = 0.5, α = 4: unstable (-0.20829). T = 0.2, α = 1: unstable (-1.39295 on the
    # grid; the old 64-node Gauss–Hermite rule gave -1.73 there, its magnitude unconverged).
    assert finite_width_replicon("sin", 2.0, 0.0, 4.0, 1.0) > 0.5
    assert finite_width_replicon("sin", 2.0, 0.0, 4.0, 0.5) < -0.1
    assert finite_width_replicon("sin", 2.0, 0.0, 1.0, 0.2) < -0.5


@pytest.mark.parametrize(("alpha", "T"), [(1.0, 0.3), (2.0, 0.3)])
def test_low_temperature_replicon_by_two_quadratures(alpha: float, T: float) -> None:
    # sin, σ_w² = 2, σ_b² = 0 at strong tilt. At the RS solver's q, the grid value (default
    # rule) is checked three ways: (1) a halved step with 14 ζ points per panel moves it by
    # ≤ 1.2e-13; (2) a line grid that ignores the periodicity (another grid geometry) agrees
    # to 1e-15; (3) the Gauss–Hermite rule, an independent quadrature, converges to it:
    # measured differences 3.4e-2, -2.5e-3, 4.2e-5 (α = 1) and -0.37, 5.6e-2, -6.8e-4
    # (α = 2) at 64, 128, 240 nodes, so at 240 nodes it must sit within 1e-3 and closer than
    # at 128 nodes
    lam, sol = finite_width_replicon("sin", 2.0, 0.0, alpha, T, return_solution=True)
    assert sol.settings["method"] == "grid" and sol.quadrature_error < 1e-12
    args = (np.sin, 2.0, 0.0, alpha, T, sol.q)
    fine = replicon_at(*args, method="grid", grid_step=np.pi / 128, zeta_points=14,
                       period=2 * np.pi, odd=True)
    assert fine == pytest.approx(lam, abs=1e-12)
    line = replicon_at(*args, method="grid", zeta_points=10)
    assert line == pytest.approx(lam, abs=1e-12)
    h128, h240 = (replicon_at(*args, order=o, zeta_points=10) for o in (128, 240))
    assert abs(h240 - lam) < 1e-3 and abs(h240 - lam) < 0.5 * abs(h128 - lam)
    assert lam < -0.4  # unstable: RS breaks (measured -0.4452 at α = 1, -1.3377 at α = 2)


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        finite_width_replicon("tanh", 1.0, 0.0, [1.0, 2.0], 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_replicon("tanh", 1.0, 0.0, -1.0, 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_replicon("tanh", 1.0, 0.0, 1.0, 0.0)
    with pytest.raises(InvalidInputError):
        replicon_at(np.tanh, 1.0, 0.0, 1.0, 0.5, 1.0)
