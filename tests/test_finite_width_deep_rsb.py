"""1RSB of the finite-width action at depth L ≥ 2 (replicasolve.solvers.finite_width.deep_rsb).

Where the expected values come from (nothing published is used as an expected number):
- the per-layer term T_l: the independent implementation ``t_one_rsb`` in
  derivations/finite_width_deep_replicon.py (step 6, whose Hessian at the RS point is the
  replicon matrix), on the same Gauss–Hermite rules: only rounding differs;
- q_1 = q_0: the RS saddle of ``finite_width_rs(method="hermite")`` at depth 2, same rules
  (the middle level is then one node: equal to rounding; measured ≤ 1.3e-15);
- depth 1: ``krsb_functional`` (k = 1) of finite_width_krsb, on the same Gauss–Hermite rules
  (rounding; measured 3e-16) and on its grid engine (different quadrature: measured 3e-8,
  the Gauss–Hermite error at α = 3, T = 0.6);
- the gradient: central finite differences of Φ_eff (layer saddle re-solved);
- stability verdicts: finite_width_replicon_deep (tanh σ_w² = 2, α = 2, T = 0.3: Λ = 0.62,
  pivots > 0; sin α = 2: Λ = -1.6; sin α = 1: Λ = +0.63, first pivot -0.76).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.quadrature import gauss_hermite as _gh
from replicasolve.solvers.finite_width.deep_rsb import (
    _gradient,
    _inner,
    _layer,
    _make_rules,
    _phi_value,
    _Problem,
    deep_1rsb_functional,
    finite_width_1rsb_deep,
)
from replicasolve.solvers.finite_width.krsb import krsb_functional
from replicasolve.solvers.finite_width.rs import finite_width_rs

ROOT = Path(__file__).resolve().parents[1]


def _derivation() -> object:
    sys.path.insert(0, str(ROOT / "derivations"))
    try:
        import finite_width_deep_replicon as d
    finally:
        sys.path.pop(0)
    return d


@pytest.mark.parametrize("m", [0.4, 0.8])
def test_layer_term_is_the_derivation_one(m: float) -> None:
    d = _derivation()
    r40, r8 = d._rule(40), d._rule(8)
    c = (1.0, 0.1 + 0.9 * 0.4, 0.1 + 0.9 * 0.25)
    g = (0.5, 0.3, 0.18)
    ref = d.t_one_rsb(np.sin, c, g, m, (r40, r40, r8, r8, r40))
    mine = _layer(np.sin, c, g, m, {"eta0": r40, "zeta0": r40, "mid": r8, "eps": r40}).t
    # same rules, two codes: rounding only (measured ≤ 7e-17)
    assert abs(ref.imag) < 1e-14
    assert mine == pytest.approx(ref.real, abs=1e-13)


@pytest.mark.parametrize(("q0", "q1", "m"), [(0.2, 0.5, 0.4), (0.3, 0.7, 0.8)])
def test_depth_one_is_krsb_k1(q0: float, q1: float, m: float) -> None:
    n = 40
    pb = _Problem(np.sin, 2.0, 0.1, (3.0,), 1 / 0.6,
                  {"eta0": _gh(n), "zeta0": _gh(n), "mid": _gh(n), "eps": _gh(n)})
    hats, layers, _ = _inner(pb, q0, q1, m, None)
    val = _phi_value(pb, q0, q1, m, hats, layers)
    ref = krsb_functional(np.sin, 2.0, 0.1, 3.0, 0.6, [q0, q1], [m], method="hermite",
                          order=n)
    assert val == pytest.approx(ref, abs=1e-12)  # same rules: rounding (measured 3e-16)
    grid = krsb_functional(np.sin, 2.0, 0.1, 3.0, 0.6, [q0, q1], [m], method="grid",
                           period=2 * math.pi, odd=True)
    # another quadrature (grid, spectrally accurate): the 40-node Gauss–Hermite error,
    # measured 9e-9 and 3.2e-8
    assert val == pytest.approx(grid, abs=1e-7)


@pytest.mark.parametrize(("act", "sb2", "m", "method"),
                         [("sin", 0.0, 0.5, "hermite"), ("tanh", 0.1, 0.3, "hermite"),
                          ("sin", 0.0, 0.5, "grid"), ("sin", 0.1, 0.8, "grid")])
def test_collapsed_is_the_rs_functional_depth_two(act: str, sb2: float, m: float,
                                                  method: str) -> None:
    kw = {"order": 48} if method == "hermite" else {}
    rs = finite_width_rs(act, 2.0, sb2, (2.0, 2.0), 0.3, method=method, zeta_points=6, **kw)
    val, g, ghat = deep_1rsb_functional(act, 2.0, sb2, 2.0, 0.3, rs.q, rs.q, m,
                                        method=method, zeta_points=6, **kw)
    # the middle level is one node at q1 = q0, ĝ1 = ĝ0: rounding (measured ≤ 4e-15)
    assert val == pytest.approx(-rs.free_energy / rs.T, abs=1e-10)
    assert g[:, 1] == pytest.approx(g[:, 2], abs=1e-12)
    assert g[:, 0] == pytest.approx(rs.g_diag, abs=1e-9)
    assert g[:, 2] == pytest.approx(rs.g_off, abs=1e-9)
    assert ghat[:, 0] == pytest.approx(rs.ghat_diag, abs=1e-8)
    assert ghat[:, 2] == pytest.approx(rs.ghat_off, abs=1e-8)


def test_gradient_is_the_derivative_of_phi_eff() -> None:
    pb = _Problem(np.sin, 2.0, 0.0, (2.0, 2.0), 1 / 0.3,
                  _make_rules(48, 30, 8, True, "grid", 2 * math.pi))
    y = (0.35, 0.7, 0.45)
    hats, layers, _ = _inner(pb, *y, None)
    gr = _gradient(pb, *y, hats, layers)
    fd = []
    for i in range(3):
        h = 1e-5
        vals = []
        for sgn in (1, -1):
            yy = list(y)
            yy[i] += sgn * h
            hh, ll, _ = _inner(pb, *yy, hats)
            vals.append(_phi_value(pb, *yy, hh, ll))
        fd.append((vals[0] - vals[1]) / (2 * h))
    # central differences: O(h²) ~ 1e-10 plus rounding 1e-16/h ~ 1e-11. The envelope
    # gradient uses Gaussian integration by parts, which the quadrature obeys only to its
    # accuracy: measured max |diff| 3.2e-7 with 4 ζ0 points per panel and 20 ζ1 nodes,
    # 4.2e-10 with 8 and 30 (here); Gauss–Hermite in η, ε (48 nodes) was off by 5e-4
    assert gr == pytest.approx(np.array(fd), abs=3e-9)


@pytest.mark.parametrize(("alpha", "point", "gain_min"), [
    # Λ = -1.6 (replicon unstable): optimum of finite_width_1rsb_deep (grid): gain
    # 3.558e-3, resolution 9e-8
    (2.0, (0.40488, 0.66062, 0.63407), 3e-3),
    # Λ = +0.63 but pivot_1 = -0.76 (pivot-only instability): optimum of
    # finite_width_1rsb_deep (grid): gain 1.369e-3, resolution 7e-9
    (1.0, (0.29327, 0.40530, 0.46699), 1e-3),
])
def test_unstable_sin_has_a_lower_1rsb_point(alpha: float, point: tuple[float, float, float],
                                            gain_min: float) -> None:
    """Witness: sin, σ_w² = 2, σ_b² = 0, L = 2, T = 0.3: any point with Φ_eff below Φ_RS
    proves a positive 1RSB gain. Grid quadrature (RS error indicator ≤ 1.3e-8 here)."""
    rs = finite_width_rs("sin", 2.0, 0.0, (alpha, alpha), 0.3, method="grid", zeta_points=6)
    val, _, _ = deep_1rsb_functional("sin", 2.0, 0.0, alpha, 0.3, *point, method="grid",
                                     zeta_points=6)
    assert -rs.free_energy / rs.T - val > gain_min


@pytest.mark.parametrize(("c", "order", "mid", "tol"), [
    ((2.0, 1.1, 0.8), 80, 20, 2e-9),  # η1 variance 0.3: measured 6.6e-10
    ((2.0, 1.1, 0.0), 60, 40, 1e-6),  # η1 variance 1.1: measured 4.1e-7 (2.6e-5 at 20 nodes,
    #                                   7.9e-8 at 60: the η1 Gauss–Hermite rule converges)
    ((2.0, 1.994, 1.5), 80, 20, 1e-9),  # ε variance 0.006 < (2 steps)²: the grid's
    #                                     Gauss–Hermite ε branch; measured 1.4e-10
])
def test_grid_layer_is_the_hermite_layer(c: tuple[float, float, float], order: int, mid: int,
                                         tol: float) -> None:
    """Two engines (grid: sampled kernels for ε, η1, grid weights for η0; nested
    Gauss–Hermite) on the same ζ rules; the Gauss–Hermite side is the slow one."""
    from replicasolve.solvers.finite_width.deep_rsb import _layer_grid
    from replicasolve.solvers.finite_width.numerics import symmetric_hermite_rule as _symmetric_gh
    from replicasolve.solvers.finite_width.numerics import zeta_nodes as _zeta

    gh = (0.6, 0.45, 0.3)
    rules = {"mid": _symmetric_gh(mid), "zeta0": _zeta(4, True)}
    herm = _layer(np.sin, c, gh, 0.6, {"eta0": _rule_of(order), "eps": _rule_of(order),
                                       **rules})
    grid = _layer_grid(np.sin, c, gh, 0.6, {"period": 2 * math.pi,
                                            "grid_step": 2 * math.pi / 128, **rules})
    assert grid.t == pytest.approx(herm.t, abs=tol)
    assert grid.g == pytest.approx(herm.g, abs=tol)
    assert grid.d == pytest.approx(herm.d, abs=tol)
    assert grid.tm == pytest.approx(herm.tm, abs=tol)


def _rule_of(n: int) -> tuple[np.ndarray, np.ndarray]:
    from replicasolve.quadrature import gauss_hermite as _rule

    return _rule(n)


@pytest.mark.slow
def test_stable_tanh_has_no_1rsb_gain() -> None:
    # Λ = 0.62, pivots > 0 (finite_width_replicon_deep): every start falls back onto the RS
    # point (measured gain 7.6e-14, resolution 6e-14: rounding); ~170 s (Gauss–Hermite)
    r = finite_width_1rsb_deep("tanh", 2.0, 0.0, 2.0, 0.3)
    assert r.gain < 1e-9
    assert r.q1 - r.q0 < 1e-6


@pytest.mark.slow
def test_pivot_only_case_breaks_replica_symmetry() -> None:
    # Λ = +0.63 but pivot_1 = -0.76: measured gain 1.369e-3, resolution 7e-9; ~60 s
    r = finite_width_1rsb_deep("sin", 2.0, 0.0, 1.0, 0.3)
    assert r.gain > 1e3 * r.resolution and r.gain > 1e-3
    assert r.q1 - r.q0 > 0.05


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        deep_1rsb_functional("sin", 2.0, 0.0, 2.0, 0.3, 0.5, 0.4, 0.5)  # q0 > q1
    with pytest.raises(InvalidInputError):
        deep_1rsb_functional("sin", 2.0, 0.0, 2.0, 0.3, 0.2, 0.4, 0.0)  # m = 0
    with pytest.raises(InvalidInputError):
        deep_1rsb_functional("sin", -1.0, 0.0, 2.0, 0.3, 0.2, 0.4, 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb_deep("sin", 2.0, 0.0, 2.0, 0.0)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb_deep("sin", 2.0, 0.0, [2.0, 2.0, 2.0], 0.3, depth=2)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb_deep("sin", 2.0, 0.0, 2.0, 0.3, order=8)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb_deep("x**2", 2.0, 0.0, 2.0, 0.3)


def test_energy_formula_is_minus_the_beta_derivative_of_phi() -> None:
    """The documented 1RSB energy e = -β σ_w² (g_d^L + (m-1) g_1^L - m g_0^L)
    (FiniteWidth1RSBDeep.energy, computed from the top layer's overlaps exactly as the
    optimiser's result does) against thermodynamics: e = -∂Φ_1/∂β at fixed (q_0, q_1, m)
    with the layer saddle re-solved, by a central difference in β. Point: the unstable sin
    witness above (α = 2, T = 0.3). Step 5e-4: the difference at step 1e-3 is 5.6e-9 and
    shrinks like the step squared (measured 2.9e-10 at 5e-4); the layer saddle's 1e-9
    residual enters Φ only at second order."""
    point, T, alpha, sw2 = (0.40488, 0.66062, 0.63407), 0.3, 2.0, 2.0
    beta, (_q0, _q1, m) = 1.0 / T, point
    _, g, _ = deep_1rsb_functional("sin", sw2, 0.0, alpha, T, *point, method="grid",
                                   zeta_points=6)
    e_formula = -beta * sw2 * (g[-1][0] + (m - 1) * g[-1][1] - m * g[-1][2])
    d = 5e-4
    vals = [deep_1rsb_functional("sin", sw2, 0.0, alpha, 1.0 / (beta + s * d), *point,
                                 method="grid", zeta_points=6)[0] for s in (1, -1)]
    assert e_formula == pytest.approx(-(vals[0] - vals[1]) / (2 * d), abs=2e-9)
