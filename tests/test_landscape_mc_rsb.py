"""Monte Carlo check of the finite-width replica theory in RS and RSB phases (Hanin & Winer,
arXiv 2503.23982): replicasolve.studies.landscape_check.

Fast tests: the sampler against exact quadrature on S² (N = 3), the network conventions
against the kernel the theory uses, the P(q) weight convention, the energy formula against
the RS solver's own, the finite-size fit, merging, and bad input. The slow test is a reduced
version of the breadth claim of examples/landscape_mc_rsb_check.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from replicasolve.engines.sphere import SphereMLP
from replicasolve.errors import InvalidInputError
from replicasolve.studies.landscape_check import (
    finite_size_fit,
    functional_energy,
    merge_checks,
    overlap_check,
    parisi_weights,
    pt_sphere,
)


def _sphere_quadrature(n_theta: int = 160, n_phi: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights of the uniform probability measure on |x|² = 3: Gauss–Legendre
    in cos θ (exact for polynomials of degree 2·160 - 1) times the periodic trapezoid in φ."""
    ct, wt = np.polynomial.legendre.leggauss(n_theta)
    ph = np.arange(n_phi) * 2 * np.pi / n_phi
    c, p = np.meshgrid(ct, ph, indexing="ij")
    s = np.sqrt(1 - c**2)
    x = math.sqrt(3) * np.stack([s * np.cos(p), s * np.sin(p), c], -1).reshape(-1, 3)
    return x, np.repeat(wt, n_phi) / (2 * n_phi)


def test_sampler_matches_exact_gibbs_average_on_the_two_sphere() -> None:
    # N = 3: ⟨H⟩/N and q = |⟨x⟩|²/N under e^{-βH} by quadrature on S² (converged: halving
    # the rule changes them by < 1e-10), against PT with pair-rotation moves. Allowed:
    # 4 standard errors over independent chains (replicas; for q, over 4 disjoint groups of
    # 4 replicas, each giving an unbiased pair estimate). Measured: e off by 0.1-0.7 SE.
    net = SphereMLP.random(3, [12], "sin", 2.0, 0.0, seed=5)
    x, w = _sphere_quadrature()
    h = net.energy(x)
    beta = 1.0
    p = np.exp(-beta * (h - h.min())) * w
    p /= p.sum()
    e_exact = float(p @ h) / 3
    mean_x = p @ x
    q_exact = float(mean_x @ mean_x) / 3
    r = pt_sphere(net, [0.5, beta], n_replicas=16, n_sweeps=8000, burn_in=2000, every=5,
                  seed=1)
    e_rep = r.energies[:, -1, :].mean(axis=0)
    assert abs(e_rep.mean() - e_exact) < 4 * e_rep.std(ddof=1) / 4
    # pairs within groups of 4 replicas: row-major pair index of (a, b), a < b < 16
    idx = {pair: k for k, pair in enumerate((a, b) for a in range(16) for b in range(a + 1, 16))}
    groups = [[idx[(a, b)] for a in range(g, g + 4) for b in range(a + 1, g + 4)]
              for g in range(0, 16, 4)]
    q_groups = np.array([r.overlaps[:, -1, g].mean() for g in groups])
    assert abs(q_groups.mean() - q_exact) < 4 * q_groups.std(ddof=1) / 2
    # the configurations stay on the sphere and the kernel's energies are the network's
    assert np.allclose(np.sum(r.final_x**2, axis=2), 3.0, atol=1e-12)
    assert np.allclose(net.energy(r.final_x.reshape(-1, 3)).reshape(2, 16) / 3,
                       r.energies[-1], atol=1e-12)
    assert 0.2 < r.acceptance.min() and r.swap_rate[0] > 0.3


def test_network_covariance_is_the_theory_kernel() -> None:
    # the conventions the comparison rests on (module docstring): at depth 1, for ANY width,
    # E_θ H(x)H(x')/N = σ_b² + σ_w² E[φ(z)φ(z')], (z, z') ~ N(0, σ_w² [[1, q], [q, 1]]) for
    # σ_b² = 0, which for sin is σ_w² e^{-σ_w²} sinh(σ_w² q) (closed form of E[sin u sin v]).
    # Averaged over 400 draws of SphereMLP, each at 64 random pairs (x, x') with x·x'/N = q
    # (same expectation by rotation invariance of the weight law); allowed 4 standard errors
    # of the network average.
    n, sw2, q = 8, 2.0, 0.6
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, n))
    a *= (math.sqrt(n) / np.linalg.norm(a, axis=1))[:, None]
    g = rng.standard_normal((64, n))
    g -= (np.sum(g * a, axis=1) / n)[:, None] * a
    g *= (math.sqrt(n) / np.linalg.norm(g, axis=1))[:, None]
    b = q * a + math.sqrt(1 - q * q) * g
    assert np.allclose(np.sum(a * b, axis=1) / n, q) and np.allclose(np.sum(b * b, 1), n)
    prods = []
    for s in range(400):
        net = SphereMLP.random(n, [6], "sin", sw2, 0.0, seed=s)
        ha, hb = net.energy(a), net.energy(b)
        prods.append([np.mean(ha * hb) / n, np.mean(ha * ha) / n])
    prods = np.array(prods)
    expect = [sw2 * math.exp(-sw2) * math.sinh(sw2 * q), sw2 * math.exp(-sw2) * math.sinh(sw2)]
    se = prods.std(axis=0, ddof=1) / math.sqrt(len(prods))
    assert np.all(np.abs(prods.mean(axis=0) - expect) < 4 * se), (prods.mean(0), expect, se)
    # and the test can fail: the Gaussian-limit kernel at another σ_w² is excluded
    wrong = 1.5 * math.exp(-1.5) * math.sinh(1.5 * q)
    assert abs(prods[:, 0].mean() - wrong) > 4 * se[0]


def test_parisi_weights_follow_the_krsb_convention() -> None:
    # x(q) = 0 on [0, q0), m_j on [q_{j-1}, q_j), 1 on [q_k, 1] (finite_width_krsb): the
    # weights are the jumps of x at q_0, ..., q_k, built here from a step function
    q = np.array([0.2, 0.5, 0.7])
    m = np.array([0.3, 0.6])
    grid = np.linspace(0, 1, 100001)
    x = np.where(grid < q[0], 0.0, np.where(grid < q[1], m[0],
                                             np.where(grid < q[2], m[1], 1.0)))
    jumps = np.diff(x)
    at = np.flatnonzero(jumps)
    assert np.allclose(grid[at + 1], q, atol=2e-5)
    assert np.allclose(parisi_weights(q, m), jumps[at])
    assert np.allclose(parisi_weights([0.4], []), [1.0])
    assert np.allclose(parisi_weights([0.1, 0.8], [0.25]), [0.25, 0.75])


def test_functional_energy_matches_the_rs_solver_formula() -> None:
    # two ways to the RS energy at sin, σ_w² = 2, α = 1, T = 0.5: the RS solver's closed
    # formula e = -βσ_w²(g_d - g) and -∂Φ/∂β of the k-RSB functional at k = 0 by
    # differences in β. Measured: they agree to 6e-7; allowed 1e-5 (the solver's stated
    # quadrature error plus the difference estimate are both below 1e-6 here).
    from replicasolve.solvers.finite_width.rs import finite_width_rs

    rs = finite_width_rs("sin", 2.0, 0.0, 1.0, 0.5)
    e, err = functional_energy("sin", 2.0, 0.0, 1.0, 0.5, [rs.q], [])
    assert err < 1e-6
    assert abs(e - rs.energy) < 1e-5, (e, rs.energy)
    # a collapsed 1RSB level (m = 1) is the RS point: the same energy
    e1, _ = functional_energy("sin", 2.0, 0.0, 1.0, 0.5, [rs.q, rs.q], [1.0])
    assert e1 == pytest.approx(e, abs=1e-9)


def test_high_temperature_energy_matches_finite_width_theory() -> None:
    # at T = 2 (RS, fast mixing) 24 networks with N = 16, α = 2: mean e vs finite_width_rs.
    # The first order in β is exact at every N (E_θ E_x H²/N = ξ(1)); allowed 4 standard
    # errors over networks (~0.006), which also bounds the O(β²) finite-N correction.
    from replicasolve.solvers.finite_width.rs import finite_width_rs

    theory = finite_width_rs("sin", 2.0, 0.0, 2.0, 2.0).energy
    es = []
    for s in range(24):
        net = SphereMLP.random(16, [32], "sin", 2.0, 0.0, seed=300 + s)
        r = pt_sphere(net, [0.5], n_replicas=4, n_sweeps=600, burn_in=200, seed=s)
        es.append(r.energies.mean())
    se = np.std(es, ddof=1) / math.sqrt(len(es))
    assert abs(np.mean(es) - theory) < 4 * se, (np.mean(es), se, theory)


def test_finite_size_fit_recovers_exact_lines() -> None:
    n = np.array([16.0, 32.0, 64.0])
    fit = finite_size_fit(n, 0.02 + 0.5 / n, [1e-3] * 3)
    assert fit["a"] == pytest.approx(0.02, abs=1e-12)
    assert fit["b"] == pytest.approx(0.5, abs=1e-10)
    assert fit["chi2"] == pytest.approx(0.0, abs=1e-12)
    # a-error of a two-parameter fit with equal errors σ: σ sqrt(Σx²/(nΣx² - (Σx)²)), x=1/N
    xs = 1 / n
    expect = 1e-3 * math.sqrt(np.sum(xs**2) / (3 * np.sum(xs**2) - np.sum(xs) ** 2))
    assert fit["a_err"] == pytest.approx(expect, rel=1e-10)
    slow = finite_size_fit(n, -0.4 + 0.3 * n ** (-2 / 3), [1e-3] * 3, exponent=2 / 3)
    assert slow["a"] == pytest.approx(-0.4, abs=1e-12)
    wrong = finite_size_fit(n, -0.4 + 0.3 * n ** (-2 / 3), [1e-3] * 3)
    assert wrong["chi2"] > 1.0
    # a misfit inflates the errors by the Birge ratio sqrt(chi2/dof) (dof = 1 here)
    plain = finite_size_fit(n, -0.4 + 0.3 * n ** (-2 / 3), [1e-3] * 3, birge=False)
    assert wrong["scale"] == pytest.approx(math.sqrt(wrong["chi2"]), rel=1e-12)
    assert wrong["a_err"] == pytest.approx(plain["a_err"] * wrong["scale"], rel=1e-12)
    assert fit["scale"] == 1.0  # a perfect fit is not scaled down
    power = finite_size_fit(n, 3.0 / n, [1e-3, 1e-3, 1e-3], model="power")
    assert power["p"] == pytest.approx(-1.0, abs=1e-10)
    assert power["c"] == pytest.approx(3.0, rel=1e-10)


def _tiny_theory(T: float = 0.5) -> object:
    """A stand-in theory (RS point) so overlap_check tests do not run the k-RSB optimiser."""
    from replicasolve.studies.landscape_check import OverlapTheory, RSBLevel

    lv = RSBLevel(0, np.array([0.4]), np.zeros(0), np.array([1.0]), 1.0, -0.8, 1e-7, 0.4, 0.0,
                  0.0)
    return OverlapTheory("sin", 2.0, 0.0, 1.0, T, 0.4, -0.8, 0.3, (lv,), np.zeros(0),
                         np.zeros(0))


def test_overlap_check_summaries_and_merge() -> None:
    th = _tiny_theory()
    kw = {"n_replicas": 4, "n_sweeps": 200, "burn_in": 100, "theory": th,
          "theory_hot": _tiny_theory(1.0)}
    d1 = overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [8], 3, seed=1, **kw)
    d2 = overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [8, 12], 4, seed=2, **kw)
    both = merge_checks([d1, d2])
    assert both.n_networks.sel(N=8) == 7 and both.n_networks.sel(N=12) == 4
    e8 = np.concatenate([d1.energy_net.sel(N=8).values, d2.energy_net.sel(N=8).values])
    assert both.energy.sel(N=8) == pytest.approx(np.nanmean(e8), rel=1e-12)
    q = np.concatenate([d1.q_net.sel(N=8).values, d2.q_net.sel(N=8).values])
    q2 = np.concatenate([d1.q2_net.sel(N=8).values, d2.q2_net.sel(N=8).values])
    # the jackknife of a mean minus a squared mean removes the O(1/n) bias exactly:
    # it equals mean(q²) - mean(q)² + var(q)/n (sample variance)
    unbiased = q2.mean() - q.mean() ** 2 + q.var(ddof=1) / q.size
    assert both.q_var.sel(N=8) == pytest.approx(unbiased, rel=1e-9)
    dq = both.q_bin.values[1] - both.q_bin.values[0]
    assert float(both.pq.sel(N=8).sum()) * dq == pytest.approx(1.0)


@pytest.mark.parametrize("call, fragment", [
    (lambda: pt_sphere(SphereMLP.random(4, [4, 4], "sin", seed=0), [1.0]), "one hidden"),
    (lambda: pt_sphere(SphereMLP.random(4, [4], "gelu", seed=0), [1.0]), "natively"),
    (lambda: pt_sphere(SphereMLP.random(4, [4], "sin", seed=0), [2.0, 1.0]), "increasing"),
    (lambda: pt_sphere(SphereMLP.random(4, [4], "sin", seed=0), [1.0], n_replicas=1),
     "n_replicas"),
    (lambda: pt_sphere(SphereMLP.random(4, [4], "sin", seed=0), [1.0], n_sweeps=5, every=10),
     "n_sweeps"),
    (lambda: overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [2], 3, theory=_tiny_theory(),
                           theory_hot=_tiny_theory(1.0)), "N must"),
    (lambda: overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [8], 2, theory=_tiny_theory(),
                           theory_hot=_tiny_theory(1.0)), "n_networks"),
    (lambda: overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [8], 3, T_max=0.4,
                           theory=_tiny_theory(), theory_hot=_tiny_theory()), "T_max"),
    (lambda: overlap_check("sin", 2.0, 0.0, 1.0, 0.5, [8], 3, theory=_tiny_theory(),
                           theory_hot=_tiny_theory(0.5)), "another model"),
    (lambda: finite_size_fit([16], [0.1], [0.01]), "2 sizes"),
    (lambda: finite_size_fit([16, 32], [0.1, -0.1], [0.01, 0.01], model="power"), "positive"),
    (lambda: parisi_weights([0.5, 0.2], [0.5]), "ordered"),
    (lambda: parisi_weights([0.2, 0.5], []), r"k \+ 1"),
    (lambda: merge_checks([]), "at least one"),
])
def test_bad_input_raises_invalid_input(call: object, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        call()  # type: ignore[operator]


def test_overlap_theory_at_the_rs_stable_point_is_a_delta() -> None:
    # sin, σ_w² = 2, α = 1, T = 0.5: replicon > 0 and the k-RSB chain collapses onto RS
    # (examples/landscape_finite_width_sin_krsb.py: gains 0), so P(q) = δ(q - q_RS): the
    # breadth is 0 at every level and every level has the RS energy of the RS solver
    # (two formulas: -∂Φ/∂β by differences vs -βσ_w²(g_d - g); agree to < 1e-5 as above)
    from replicasolve.studies.landscape_check import overlap_theory

    th = overlap_theory("sin", 2.0, 0.0, 1.0, 0.5, kmax=1)
    assert th.replicon > 0.1
    assert np.all(th.gains < 1e-10)
    for lv in th.levels:
        assert lv.var_q < 1e-10
        assert lv.mean_q == pytest.approx(th.rs_q, abs=1e-5)
        assert lv.energy == pytest.approx(th.rs_energy, abs=1e-5)


def _slope(ds: object, var: str) -> tuple[float, float]:
    """Local exponent p of Var q ∝ N^p between the two sizes of ds, with its error (the
    jackknife errors of the two variances propagated; the sizes are independent runs)."""
    v = ds[var].values  # type: ignore[index]
    s = ds[f"{var}_err"].values  # type: ignore[index]
    n = ds.N.values  # type: ignore[attr-defined]
    lg = math.log(n[1] / n[0])
    return math.log(v[1] / v[0]) / lg, math.hypot(s[0] / v[0], s[1] / v[1]) / lg


@pytest.mark.slow
def test_rsb_phase_breadth_and_energy_against_rs_control_on_the_same_networks() -> None:
    # A reduced version of examples/landscape_mc_rsb_check.py at sin, σ_w² = 2, α = 4,
    # N = 16 and 32, 48 networks each, with the RS control on the SAME networks: the hot end
    # of each PT ladder, T_max = 1 (RS: replicon +0.70, no 1RSB gain), against the target
    # T = 0.3 (RSB: 1RSB gain 1.8e-2, breadth Var q = 0.0178, e_RSB = -1.1698 vs
    # e_RS = -1.1931). Asserted:
    # - equilibration: no drift between the halves of the run beyond 3 standard errors,
    #   every chain crosses the ladder at least 5 times;
    # - RS control: the local exponent p of Var q ∝ N^p at T_max is below -1/2 by 2
    #   standard errors (RS: p -> -1; measured -0.89 ± 0.05 with this seed);
    # - RSB breadth: Var q at N = 32, T = 0.3 is at least the 1RSB breadth (one-sided, 3
    #   standard errors: the finite-N breadth also holds an O(1/N) thermal part), and its
    #   exponent p is above the RS control's (measured -0.37 ± 0.30 here; the non-self-
    #   averaging P(q) makes it noisy, so only the sign is asserted, at 1 standard error);
    # - energy: e(T) - e(T_max), network by network, extrapolated as a + b/N, is within
    #   3 standard errors of the RSB difference and above the RS one by more than 2 (long
    #   runs of the example, N = 16 and 32 only: -0.4085 ± 0.0075, z = +1.7 vs RSB, +4.8 vs
    #   RS; N = 16..96: -0.4113 ± 0.0026 with a + b/N, -0.4199 ± 0.0036 with a + b N^-2/3;
    #   at the RS control α = 1 the same extrapolation agrees with RS theory, z = +0.4).
    from replicasolve.studies.landscape_check import overlap_theory

    th = overlap_theory("sin", 2.0, 0.0, 4.0, 0.3, kmax=1)
    hot = overlap_theory("sin", 2.0, 0.0, 4.0, 1.0, kmax=1)
    assert th.gains[0] > 1e-3 and th.replicon < 0
    assert hot.replicon > 0.5 and hot.gains[0] < 1e-10
    ds = overlap_check("sin", 2.0, 0.0, 4.0, 0.3, [16, 32], 48, theory=th, theory_hot=hot,
                       n_replicas=8, n_sweeps=2000, burn_in=1000, seed=22)
    assert np.all(np.abs(ds.energy_drift) < 3 * ds.energy_drift_err)
    assert np.all(np.abs(ds.q_var_drift) < 3 * ds.q_var_drift_err)
    assert np.all(ds.round_trips_min >= 5)
    p_hot, e_hot = _slope(ds, "q_var_hot")
    p_cold, e_cold = _slope(ds, "q_var")
    assert p_hot < -0.5 - 2 * e_hot, (p_hot, e_hot)
    assert p_cold - p_hot > math.hypot(e_hot, e_cold), (p_hot, e_hot, p_cold, e_cold)
    v1 = th.levels[1].var_q
    assert float(ds.q_var.sel(N=32)) > v1 - 3 * float(ds.q_var_err.sel(N=32))
    fit = finite_size_fit(ds.N.values, ds.energy_diff.values, ds.energy_diff_err.values)
    e_hot_theory = hot.levels[0].energy
    d_rsb = th.levels[1].energy - e_hot_theory
    d_rs = th.levels[0].energy - e_hot_theory
    assert abs(fit["a"] - d_rsb) < 3 * fit["a_err"], (fit, d_rsb)
    assert fit["a"] - d_rs > 2 * fit["a_err"], (fit, d_rs)
