"""Finite-width RS landscape of a one-hidden-layer random MLP (solvers.finite_width.rs).

Where the expected values come from:
- the RS functional, its saddle equations, the α → ∞ limit and the linear case are derived
  in derivations/finite_width_landscape.py (run here, must print "all checks passed");
- the Gaussian limit α → ∞ is the Crisanti–Sommers RS solution of
  RandomMLPLandscape(activation, 1, σ_w², σ_b²) (the Gaussian limit, Hanin & Winer,
  arXiv 2503.23982), an independent solver;
- the 1/α correction of Φ = -βf is β⁴σ_w⁴/(8α) E_η κ₄ (derivation step 5), κ₄ the fourth
  cumulant of tanh(sqrt(c0) η + sqrt(c1 - c0) ε) over ε, computed here by plain quadrature;
  the energy's is -d/dβ of it (e = -dΦ/dβ), taken here by finite differences in β;
- linear φ: H = sqrt(N) v·x + const with |v| → σ_w² for every α, so f is the closed form of
  replicasolve.models.landscape.linear_landscape(a = σ_w⁴) at any α (derivation step 6);
- Monte Carlo: replicasolve.engines.sphere on actual finite networks;
- low temperature (strong tilt): the grid rule against itself refined, against the
  Gauss–Hermite rule (an independent quadrature that converges to it), and, at depth 1,
  against the k = 0 functional of finite_width_krsb (in tests/test_finite_width_krsb.py).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape, linear_landscape
from replicasolve.solvers.finite_width.numerics import site_moments_hermite as _site
from replicasolve.solvers.finite_width.rs import finite_width_rs
from replicasolve.solvers.landscape import solve_landscape

ROOT = Path(__file__).resolve().parents[1]

# parameters not used by the derivation script, so the two checks do not share a number
SW2, SB2, T = 1.5, 0.05, 0.8


def test_derivation_script_passes() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "derivations" / "finite_width_landscape.py")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "all checks passed" in out.stdout


def _kappa4(q: float, beta: float) -> float:
    """β⁴σ_w⁴/8 E_η κ₄: the predicted lim α(Φ_α - Φ_∞) (derivation step 5)."""
    x, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    c1, c0 = SB2 + SW2, SB2 + SW2 * q
    p = np.tanh(math.sqrt(c0) * x[:, None] + math.sqrt(c1 - c0) * x[None, :])
    dev = p - (p @ w)[:, None]
    k4 = (dev**4 @ w) - 3 * (dev**2 @ w) ** 2
    return beta**4 * SW2**2 / 8 * float(w @ k4)


@pytest.fixture(scope="module")
def solutions() -> dict:
    ref = solve_landscape(RandomMLPLandscape("tanh", 1, SW2, SB2), T, method="rs")
    runs = {a: finite_width_rs("tanh", SW2, SB2, a, T) for a in (1e6, 1e3, 2e3, 1.0)}
    return {"ref": ref, "q_ref": float(np.atleast_1d(ref.q)[-1]), **runs}


def test_solution_is_converged(solutions: dict) -> None:
    for a in (1e6, 1e3, 2e3, 1.0):
        r = solutions[a]
        assert r.converged and r.residual < 1e-12, (a, r.message)
        assert r.quadrature_error < 1e-9  # smooth tanh at unit variance: spectral accuracy
        assert r.g_diag.shape == r.g_off.shape == r.ghat_diag.shape == (1,)
        # one hidden layer: Ĝ is exactly constant, ĝ_d = ĝ = β²σ_w²/α (derivation step 2)
        assert r.ghat_diag[0] == r.ghat_off[0] == pytest.approx(SW2 / T**2 / a, rel=1e-14)
        # the energy two ways: -β σ_w² (g_d - g) (returned) and e = f + T s
        assert r.energy == pytest.approx(r.free_energy + T * r.entropy, abs=1e-14)


def test_large_alpha_recovers_gaussian_limit(solutions: dict) -> None:
    ref, q_ref, big, a3 = solutions["ref"], solutions["q_ref"], solutions[1e6], solutions[1e3]
    for name, x_ref in (("free_energy", ref.free_energy), ("energy", ref.energy),
                        ("q", q_ref)):
        d6, d3 = getattr(big, name) - x_ref, getattr(a3, name) - x_ref
        # way 1: at α = 1e6 the O(1/α) shift is ~1e-7 (|α(x_α - x_∞)| < 0.1 below), so
        # 1e-6 leaves room only for that shift, not for a wrong limit
        assert abs(d6) < 1e-6, name
        # way 2: the whole remaining difference is the 1/α term seen at α = 1e3; the
        # O(1/α²) rest is ~1e-12 here, so 1e-9 bounds the solver and reference errors too
        assert abs(d6 - 1e-3 * d3) < 1e-9, (name, d6, d3)
    # the layer overlaps tend to the dual kernel, the conjugates vanish like 1/α
    from replicasolve.kernels.numeric import gauss_hermite_kernel

    c1, c0 = SB2 + SW2, SB2 + SW2 * q_ref
    dual = float(gauss_hermite_kernel(np.tanh, c1, c1, c0, order=160))
    var = float(gauss_hermite_kernel(np.tanh, c1, c1, c1, order=160))
    assert big.g_off[0] == pytest.approx(dual, abs=1e-6)
    assert big.g_diag[0] == pytest.approx(var, abs=1e-6)


def test_finite_alpha_correction_has_the_derived_scale_and_sign(solutions: dict) -> None:
    ref, q_ref = solutions["ref"], solutions["q_ref"]
    beta = 1 / T
    phi_inf = -beta * ref.free_energy
    s3 = 1e3 * (-beta * solutions[1e3].free_energy - phi_inf)
    s2 = 2e3 * (-beta * solutions[2e3].free_energy - phi_inf)
    pred = _kappa4(q_ref, beta)
    # way 1: α(Φ_α - Φ_∞) is constant to O(1/α) (it moves by 4e-6 from 1e3 to 2e3);
    # way 2: its Richardson limit 2 s(2e3) - s(1e3) equals the cumulant formula
    assert abs(s2 - s3) < 1e-4 * abs(pred)
    assert 2 * s2 - s3 == pytest.approx(pred, rel=1e-5)
    # energy: α(e_α - e_∞) against -d/dβ of the free-energy correction (q_∞(β) from the
    # Gaussian-limit solver at β ± h: the q shift is second order in Φ but not in e)
    h = 1e-3

    def corr(b: float) -> float:
        r = solve_landscape(RandomMLPLandscape("tanh", 1, SW2, SB2), 1 / b, method="rs")
        return _kappa4(float(np.atleast_1d(r.q)[-1]), b)

    de_pred = -(corr(beta + h) - corr(beta - h)) / (2 * h)
    e3 = 1e3 * (solutions[1e3].energy - ref.energy)
    e2 = 2e3 * (solutions[2e3].energy - ref.energy)
    assert 2 * e2 - e3 == pytest.approx(de_pred, rel=1e-5)
    # sign: tanh(z) is platykurtic (κ₄ < 0), so finite width raises f and e and lowers q
    # (lighter tails than Gaussian: the landscape is shallower); it persists at α = 1
    assert pred < 0 and de_pred > 0
    one = solutions[1.0]
    assert one.free_energy - ref.free_energy > 0.03  # measured +0.0340
    assert one.energy - ref.energy > 0.07  # measured +0.0803
    assert q_ref - one.q > 0.06  # measured 0.0681


def test_linear_network_has_no_finite_width_correction() -> None:
    sw2, sb2, temp = 0.7, 0.2, 0.4
    lin = linear_landscape(sw2**2, T=temp)
    small, large = (finite_width_rs("linear", sw2, sb2, a, temp) for a in (0.3, 3.0))
    for r in (small, large):
        # tolerances: the quadrature error indicator is 7e-11 at α = 0.3 (the strong tilt
        # e^{λζz} with λ = β σ_w / sqrt(α) ≈ 3.8 on Gauss–Hermite nodes), 1e-12 at α = 3
        assert r.converged and r.quadrature_error < 1e-10
        # way 1: the closed form of a random field of strength σ_w² on the sphere
        assert r.free_energy == pytest.approx(lin["free_energy"], abs=2e-10)
        assert r.energy == pytest.approx(lin["energy"], abs=2e-10)
        assert r.q == pytest.approx(lin["overlap"], abs=1e-9)
    # way 2: α-independence, α = 0.3 against α = 3
    assert small.free_energy == pytest.approx(large.free_energy, abs=2e-10)
    assert small.energy == pytest.approx(large.energy, abs=2e-10)


def test_monte_carlo_on_finite_networks_prefers_finite_width() -> None:
    """tanh, σ_w² = 1, σ_b² = 0, α = 1, T = 0.5, N = N_1 = 64; 40 networks x 8 replicas.

    Predictions: finite-α RS e = -0.3882, q = 0.3806; Gaussian limit e = -0.4509,
    q = 0.4543. Measured when writing this (longer runs, same protocol): e = -0.3868(55)
    at N = 32 (200 networks), -0.3782(58) at N = 64 (100), -0.3924(44) at N = 128 (100);
    q = 0.3837(35), 0.3737(39), 0.3844(25). No resolved finite-N drift, all within 2σ
    of the finite-α prediction, and > 10σ from the Gaussian limit."""
    from replicasolve.engines.sphere import SphereMLP, sample_sphere

    n, alpha, temp = 64, 1.0, 0.5
    fw = finite_width_rs("tanh", 1.0, 0.0, alpha, temp)
    gl = solve_landscape(RandomMLPLandscape("tanh", 1, 1.0, 0.0), temp, method="rs")
    gl_q = float(np.atleast_1d(gl.q)[-1])
    es, qs = [], []
    for s in range(40):
        net = SphereMLP.random(n, [int(alpha * n)], "tanh", 1.0, 0.0, seed=20_000 + s)
        mc = sample_sphere(net, 1 / temp, n_replicas=8, n_steps=4000, burn_in=2000, every=20,
                           seed=s)
        es.append(mc.mean_energy)
        qs.append(mc.mean_overlap)
    for values, theory, gauss in ((es, fw.energy, gl.energy), (qs, fw.q, gl_q)):
        mean = float(np.mean(values))
        se = float(np.std(values, ddof=1) / math.sqrt(len(values)))
        # resolved: the predictions differ by more than 6 standard errors of the MC mean
        assert abs(theory - gauss) > 6 * se, (theory, gauss, se)
        # the MC mean is consistent with finite α and excludes the Gaussian limit
        assert abs(mean - theory) < 3 * se, (mean, se, theory)
        assert abs(mean - gauss) > 4 * se, (mean, se, gauss)


@pytest.mark.parametrize(("act", "depth"), [
    ("sin", 1), ("tanh", 1), ("sin", 2),
    pytest.param("tanh", 2, marks=pytest.mark.slow),  # ~10 s: two depth-2 line-grid solves
])
def test_low_temperature_is_resolved(act: str, depth: int) -> None:
    # σ_w² = 2, σ_b² = 0, α = 2, T = 0.3: the tilt e^{λζφ} is sharply peaked, and the old
    # Gauss–Hermite rule reported errors of 1.6e-3 (sin, depth 1) and 7e-3 (sin, depth 2).
    # On the grid the error indicator is ≤ 6.4e-14 here, and a solve on a grid with half
    # the step and 14 ζ points per panel moves f, e, q by ≤ 4.2e-14 (measured): 1e-12 keeps
    # a margin over that and is 1e9 times below the old error
    r = finite_width_rs(act, 2.0, 0.0, [2.0] * depth, 0.3)
    assert r.settings["method"] == "grid" and r.converged
    assert r.quadrature_error < 1e-12
    fine = finite_width_rs(act, 2.0, 0.0, [2.0] * depth, 0.3,
                           grid_step=0.5 * r.settings["grid_step"], zeta_points=14)
    for name in ("free_energy", "energy", "q"):
        assert getattr(fine, name) == pytest.approx(getattr(r, name), abs=1e-12), name


def test_low_temperature_gauss_hermite_converges_to_the_grid() -> None:
    # sin, α = 2, T = 0.3, depth 1: the fixed-point map q ← r/(1 + r), r = α E⟨ε⟩², by the
    # independent Gauss–Hermite rule at the grid solution q*: measured F(q*) - q* =
    # -1.5e-3, 1.2e-4, 1.5e-5, -1.6e-6 at 64, 128, 200, 240 nodes. A grid solution off by δ
    # would leave F(q*) - q* → (1 - F'(q*)) δ ≠ 0 as the nodes grow, so the shrinking
    # sequence (≤ 5e-6 at 240 nodes, ten times less than at 128) places q* within ~1e-5 by
    # a route that shares no quadrature with it
    r = finite_width_rs("sin", 2.0, 0.0, 2.0, 0.3)
    lam = 2.0 / 0.3**2 / 2.0  # ĝ = β²σ_w²/α at depth 1

    def gap(order: int) -> float:
        st = _site(np.sin, 2.0, 2.0 * r.q, 0.0, math.sqrt(lam), order, 10)
        ratio = 2.0 * st.eps_mean2
        return ratio / (1.0 + ratio) - r.q

    g128, g240 = gap(128), gap(240)
    assert abs(g240) < 5e-6 and abs(g240) < 0.1 * abs(g128)


def test_low_temperature_large_alpha_correction_sin() -> None:
    # sin, σ_w² = 2, σ_b² = 0, T = 0.3 (strong coupling β = 3.3): α(Φ_α - Φ_∞) tends to the
    # fourth-cumulant formula β⁴σ_w⁴/8 E_η κ₄ (derivation step 5; κ₄ of sin over ε by plain
    # 120-node quadrature, Φ_∞ from the Crisanti–Sommers RS solver). Measured: Richardson
    # limit of α = 1e4, 2e4 within 1.6e-8 (relative) of the formula; the O(1/α²) rest after
    # Richardson is ~(1e-4)² relative, so 1e-6 still rejects any wrong 1/α coefficient
    temp, beta = 0.3, 1 / 0.3
    ref = solve_landscape(RandomMLPLandscape("sin", 1, 2.0, 0.0), temp, method="rs")
    q = float(np.atleast_1d(ref.q)[-1])
    x, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    p = np.sin(math.sqrt(2.0 * q) * x[:, None] + math.sqrt(2.0 * (1 - q)) * x[None, :])
    dev = p - (p @ w)[:, None]
    pred = beta**4 * 2.0**2 / 8 * float(w @ ((dev**4 @ w) - 3 * (dev**2 @ w) ** 2))
    s = {a: a * beta * (ref.free_energy - finite_width_rs("sin", 2.0, 0.0, a, temp).free_energy)
         for a in (1e4, 2e4)}
    assert 2 * s[2e4] - s[1e4] == pytest.approx(pred, rel=1e-6)


def test_depth_two_low_temperature_gaussian_limit() -> None:
    # sin, depth 2, T = 0.3: α(x_α - x_∞) for x = f, e, q is the same at α = 1e4 and 2e4
    # (measured 0.53345 / 0.53344, 0.58999 / 0.58995, -0.40965 / -0.40960): the finite-width
    # solution approaches the Crisanti–Sommers RS solution with ξ = K_3 like 1/α. A limit off
    # by δ would add αδ to these slopes, so their 2e-4 relative agreement bounds |δ| by ~1e-8
    ref = solve_landscape(RandomMLPLandscape("sin", 2, 2.0, 0.0), 0.3, method="rs")
    q_ref = float(np.atleast_1d(ref.q)[-1])
    runs = {a: finite_width_rs("sin", 2.0, 0.0, [a, a], 0.3) for a in (1e4, 2e4)}
    for name, x_ref in (("free_energy", ref.free_energy), ("energy", ref.energy),
                        ("q", q_ref)):
        s1, s2 = (a * (getattr(r, name) - x_ref) for a, r in runs.items())
        assert s2 == pytest.approx(s1, rel=2e-4), name
        assert 0.1 < abs(s1) < 1.0, name  # a visible O(1/α) correction, as measured


@pytest.mark.parametrize("kwargs, fragment", [
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": -1.0}, "alpha"),
    ({"alpha": math.nan}, "alpha"),
    ({"alpha": math.inf}, "Gaussian limit"),
    ({"alpha": []}, "alpha"),
    ({"alpha": [1.0, 0.0]}, "alpha"),
    ({"T": 0.0}, "temperature"),
    ({"T": -0.5}, "temperature"),
    ({"T": math.inf}, "temperature"),
    ({"sigma_w2": 0.0}, "sigma_w2"),
    ({"sigma_w2": -1.0}, "sigma_w2"),
    ({"sigma_b2": -0.1}, "sigma_b2"),
    ({"sigma_b2": "much"}, "sigma_b2"),
    ({"activation": "x^2"}, "x^2"),
    ({"activation": "exp(x)"}, "o(x^2)"),
    ({"activation": "no_such_function"}, "activation"),
    ({"order": 8}, "order"),
    ({"zeta_points": 2}, "zeta_points"),
    ({"damping": 0.0}, "damping"),
    ({"method": "simpson"}, "method"),
    ({"grid_step": -0.1}, "grid_step"),
    ({"grid_step": math.nan}, "grid_step"),
])
def test_bad_input_raises_one_clear_line(kwargs: dict, fragment: str) -> None:
    args = {"activation": "tanh", "sigma_w2": 1.0, "sigma_b2": 0.0, "alpha": 1.0, "T": 0.5}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as err:
        finite_width_rs(args.pop("activation"), args.pop("sigma_w2"), args.pop("sigma_b2"),
                        args.pop("alpha"), args.pop("T"), **args)
    msg = str(err.value)
    assert fragment in msg and "\n" not in msg
