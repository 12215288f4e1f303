"""Replicon of the finite-width RS saddle at depth L ≥ 2
(replicasolve.solvers.finite_width.deep).

Where the expected values come from:
- the derivation and its checks (sympy algebra of the replicon sector and of the top-down
  Schur complement, the α → ∞ chain rule, closed forms for φ = x, a finite-difference
  5×5 replicon Hessian of the full n = 4 action at depth 2, the n = 5 block, and the
  n → 0 check: the 1RSB functional's Hessian along zero-row-sum 1RSB directions at m = 0.5,
  0.75 equals ((m-1)/2m) × the replicon matrix, to 2.5e-8) are in
  derivations/finite_width_deep_replicon.py, run here (must print "all checks passed");
- L = 1: the independent depth-1 module finite_width_replicon (same Gauss–Hermite rules);
- α → ∞: the Crisanti–Sommers RS replicon 1 - β² ξ''(q)(1-q)² with ξ = K_{L+1}, from the
  independent Gaussian-limit solver solve_landscape(RandomMLPLandscape(act, L, σ_w², σ_b²), T, "rs")
  (Hanin & Winer, arXiv 2503.23982); the approach is O(1/α), so α(Λ_α - Λ_∞) must be the
  same at two α;
- φ = x: exact Λ = 1, R_CĜ = 1, R_ĜĜ = s², ĝ_d = ĝ at every depth (derivation step 4).
Nothing published is used as an expected number.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers.finite_width.deep import (
    finite_width_replicon_deep,
    replicon_boundary,
    replicon_from_blocks,
)
from replicasolve.solvers.finite_width.replicon import finite_width_replicon
from replicasolve.solvers.finite_width.rs import finite_width_rs
from replicasolve.solvers.landscape import solve_landscape

ROOT = Path(__file__).resolve().parents[1]


def test_derivation_script_passes() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "derivations" / "finite_width_deep_replicon.py")],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "all checks passed" in out.stdout


@pytest.mark.parametrize(("act", "sw2", "sb2", "alpha", "T"),
                         [("tanh", 1.5, 0.05, 2.0, 0.5), ("sin", 2.0, 0.0, 1.0, 0.5)])
def test_depth_one_is_the_depth_one_replicon(act: str, sw2: float, sb2: float, alpha: float,
                                             T: float) -> None:
    # same saddle solver and the same Gauss–Hermite rules: only rounding differs
    # (measured |diff| ≤ 1e-16)
    deep = finite_width_replicon_deep(act, sw2, sb2, alpha, T, 1, method="hermite").replicon
    ref = finite_width_replicon(act, sw2, sb2, alpha, T, method="hermite")
    assert deep == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize(("act", "sw2", "sb2", "alpha", "T"),
                         [("tanh", 1.5, 0.05, 2.0, 0.5), ("sin", 2.0, 0.0, 2.0, 0.3)])
def test_depth_one_grid_engines_agree(act: str, sw2: float, sb2: float, alpha: float,
                                      T: float) -> None:
    # default rules: this module's line grid (blocks) vs the depth-1 module's grid engine
    # (one period for sin), two separate implementations; measured |diff| 4e-12 (tanh)
    # and 2.6e-8 (sin at the strong tilt λ = 3.3)
    deep = finite_width_replicon_deep(act, sw2, sb2, alpha, T, 1)
    assert deep.settings["blocks_rule"][0] == "grid"
    assert deep.replicon == pytest.approx(finite_width_replicon(act, sw2, sb2, alpha, T),
                                          abs=1e-7)


@pytest.mark.parametrize(("act", "sw2", "sb2", "T", "depth"),
                         [("tanh", 1.5, 0.05, 0.8, 2), ("sin", 2.0, 0.0, 0.5, 3)])
def test_large_alpha_is_the_gaussian_replicon(act: str, sw2: float, sb2: float, T: float,
                                              depth: int) -> None:
    ref = solve_landscape(RandomMLPLandscape(act, depth, sw2, sb2), T, method="rs").replicon
    slopes = [a * (finite_width_replicon_deep(act, sw2, sb2, a, T, depth).replicon - ref)
              for a in (1e4, 1e5)]
    # Λ_α = Λ_∞ + c/α + O(1/α²): measured slopes 0.011604 / 0.011603 (tanh, L = 2) and
    # 1.7828 / 1.7820 (sin, L = 3). A limit off by δ would add αδ to the slope, so a 1%
    # agreement bounds |δ| below ~1e-7 (tanh) / 2e-6 (sin): the limit IS the Gaussian one.
    assert abs(slopes[1] - slopes[0]) < 1e-2 * abs(slopes[0]), slopes
    assert abs(slopes[0]) < 5.0


def test_sin_large_alpha_keeps_the_gaussian_sign() -> None:
    # the Gaussian limit of sin (σ_w² = 2, σ_b² = 0, L = 2) at T = 0.5 is RS-unstable
    # (Crisanti–Sommers replicon -0.1001); α = 1e4 gives -0.1001 too
    ref = solve_landscape(RandomMLPLandscape("sin", 2, 2.0, 0.0), 0.5, method="rs").replicon
    val = finite_width_replicon_deep("sin", 2.0, 0.0, 1e4, 0.5, 2).replicon
    assert ref < 0 and val < 0 and abs(val - ref) < 1e-3


@pytest.mark.parametrize(("depth", "alpha", "T"), [(2, 0.5, 0.5), (2, 2.0, 0.3), (3, 1.0, 1.0),
                                                   (3, [0.5, 2.0, 1.0], 0.4)])
def test_linear_activation(depth: int, alpha: float | list[float], T: float) -> None:
    r = finite_width_replicon_deep("linear", 0.7, 0.2, alpha, T, depth)
    # exact: Λ = 1 (derivation step 4); the tilted ε is Gaussian so the Gauss–Hermite rule
    # is exact up to rounding (measured |Λ - 1| = 0)
    assert r.replicon == pytest.approx(1.0, abs=1e-10)
    s = r.saddle
    np.testing.assert_allclose(s.ghat_diag, s.ghat_off, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.r_cg, 1.0, rtol=1e-10)
    # R_ĜĜ = Var^ψ(φ)² = s_l² with s_1 = σ_w²(1-q), s_l = σ_w²(g_d^{l-1} - g^{l-1})
    gaps = 0.7 * np.concatenate([[1.0 - s.q], s.g_diag[:-1] - s.g_off[:-1]])
    np.testing.assert_allclose(r.r_gg, gaps**2, rtol=1e-8)
    assert np.all(np.abs(r.r_cc) < 1e-20)


def test_hessian_schur_complement_is_the_replicon() -> None:
    r = finite_width_replicon_deep("tanh", 1.5, 0.1, [1.0, 3.0], 0.5, 2)
    h = r.hessian
    assert h.shape == (5, 5) and np.allclose(h, h.T)
    schur = h[0, 0] - h[0, 1:] @ np.linalg.solve(h[1:, 1:], h[1:, 0])
    q = r.saddle.q
    assert -(1 - q) ** 2 * schur == pytest.approx(r.replicon, abs=1e-12)
    # the per-layer alpha enters: swapping the two widths changes Λ
    r2 = finite_width_replicon_deep("tanh", 1.5, 0.1, [3.0, 1.0], 0.5, 2)
    # (measured 0.86614 vs 0.86552, quadrature indicator ~1e-8)
    assert abs(r2.replicon - r.replicon) > 1e-4


@pytest.mark.parametrize(("alpha", "stable"), [(1.0, False), (2.0, False), (8.0, False)])
def test_stability_needs_positive_pivots(alpha: float, stable: bool) -> None:
    # sin, σ_w² = 2, σ_b² = 0, L = 2, T = 0.3 (grid engine; measured): α = 1: Λ = +0.627 but
    # pivot_1 = α_1 - κ_1 R¹_ĜĜ = -0.759 (beyond the pole of Λ near α = 1.65: unstable);
    # α = 2: Λ = -1.607 with pivots (0.397, 2); α = 8: Λ < 0
    r = finite_width_replicon_deep("sin", 2.0, 0.0, alpha, 0.3, 2)
    ev = np.linalg.eigvalsh(r.real_hessian())
    assert r.stable == stable == bool(np.all(ev < 0))
    if alpha == 1.0:
        assert r.replicon > 0 and r.pivots[0] < 0 and "pivot" in r.message


def test_recursion_by_hand_depth_two() -> None:
    # κ_1 = α_2 σ⁴ R²_CC, κ_0 = α_1 σ⁴ (R¹_CC + (R¹_CĜ)² κ_1 / (α_1 - κ_1 R¹_ĜĜ))
    lam, kappa = replicon_from_blocks(0.4, [2.0, 3.0], 1.5, [0.1, 0.05], [0.3, 0.2],
                                      [0.6, 0.7])
    k1 = 3.0 * 1.5**2 * 0.05
    k0 = 2.0 * 1.5**2 * (0.1 + 0.3**2 * k1 / (2.0 - k1 * 0.6))
    assert kappa[2] == 0.0 and kappa[1] == pytest.approx(k1) and kappa[0] == pytest.approx(k0)
    assert lam == pytest.approx(1 - 0.6**2 * k0)


def test_result_fields_and_reuse_of_saddle() -> None:
    sol = finite_width_rs("tanh", 2.0, 0.1, [2.0, 2.0], 0.5)
    r = finite_width_replicon_deep("tanh", 2.0, 0.1, 2.0, 0.5, 2, saddle=sol)
    assert r.saddle is sol and r.depth == 2 and r.kappa.shape == (3,)
    assert r.r_cc.shape == r.r_cg.shape == r.r_gg.shape == (2,)
    # measured quadrature indicator ~1e-8 for tanh here
    assert 0 <= r.quadrature_error < 1e-5
    assert r.stable == (r.replicon >= 0)


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        finite_width_replicon_deep("tanh", 1.0, 0.0, 1.0, 0.5, 0)
    with pytest.raises(InvalidInputError):
        finite_width_replicon_deep("tanh", 1.0, 0.0, [1.0, 2.0], 0.5, 3)
    with pytest.raises(InvalidInputError):
        finite_width_replicon_deep("tanh", 1.0, 0.0, -1.0, 0.5, 2)
    with pytest.raises(InvalidInputError):
        finite_width_replicon_deep("tanh", 1.0, 0.0, 1.0, 0.5, 2, zeta_points=40)
    sol = finite_width_rs("tanh", 1.0, 0.0, [1.0, 1.0], 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_replicon_deep("tanh", 1.0, 0.0, 1.0, 0.7, 2, saddle=sol)
    with pytest.raises(InvalidInputError):
        replicon_boundary("tanh", 1.0, 0.0, 1.0, 2, (1.0, 0.5))
    with pytest.raises(InvalidInputError):
        replicon_boundary("tanh", 1.0, 0.0, 1.0, 2, (0.5, 1.0), points=1)


def test_boundary_not_found_message() -> None:
    # linear φ: Λ ≡ 1, no boundary anywhere
    b = replicon_boundary("linear", 1.0, 0.0, 1.0, 2, (0.5, 1.0), points=2)
    assert not b.found and b.T is None and "no RS/RSB boundary" in b.message
    assert all(v == pytest.approx(1.0) for v in b.replicon_grid)


def test_boundary_sin_depth_two() -> None:
    # sin, σ_w² = 2, σ_b² = 0, L = 2, α = 8: measured T_c = 0.50756 (scan over [0.3, 1.2]
    # with 5 points gave the same bracket); the Gaussian limit's boundary is T_G = 0.53333
    # (brentq on RandomMLPLandscape's replicon), so the finite width lowers it
    b = replicon_boundary("sin", 2.0, 0.0, 8.0, 2, (0.45, 0.6), points=2, xtol=1e-5)
    assert b.found and b.T is not None and 0.50 < b.T < 0.515, b
    # independent of the bracketing: Λ has opposite signs 0.005 either side, pivots > 0
    lo = finite_width_replicon_deep("sin", 2.0, 0.0, 8.0, b.T - 0.005, 2)
    hi = finite_width_replicon_deep("sin", 2.0, 0.0, 8.0, b.T + 0.005, 2)
    assert lo.replicon < 0 < hi.replicon and np.all(lo.pivots > 0) and hi.stable
    # the Gaussian limit is already RS-unstable at T_c (its boundary lies higher)
    assert solve_landscape(RandomMLPLandscape("sin", 2, 2.0, 0.0), b.T, method="rs").replicon < 0
