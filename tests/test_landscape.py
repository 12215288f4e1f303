"""Random-MLP input landscapes in the Gaussian (infinite-width) limit."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape, linear_landscape
from replicasolve.solvers.landscape import (
    character,
    entropy,
    entropy_curve,
    ground_state,
    solve_landscape,
)

ROOT = Path(__file__).resolve().parents[1]


def test_linear_derivation_script_passes():
    out = subprocess.run([sys.executable, str(ROOT / "derivations" / "linear_mlp_landscape.py")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout


@pytest.mark.parametrize("T", [2.0, 0.5, 0.1])
def test_linear_network_solver_matches_closed_form(T):
    # φ(x) = x, depth 2: ξ = c + a q with a = σ_w^{2·3}; closed forms from the sympy
    # derivation; the numerical Crisanti–Sommers solver must agree to solver precision
    land = RandomMLPLandscape("x", 2, 1.3, 0.1)
    a = 1.3**3
    ref = linear_landscape(a, T=T)
    r = solve_landscape(land, T)
    assert r.converged
    assert r.free_energy == pytest.approx(ref["free_energy"], abs=1e-10)
    assert r.energy == pytest.approx(ref["energy"], abs=1e-8)
    assert r.entropy == pytest.approx(ref["entropy"], abs=1e-8)
    assert character(land, T).label == "RS"


def test_linear_ground_state_and_entropy():
    land = RandomMLPLandscape("x", 1, 0.8, 0.3)
    a = 0.8**2
    assert ground_state(land).value == pytest.approx(-math.sqrt(a), abs=1e-12)
    for E in (-0.6, -0.3, 0.3):
        # the Legendre transform of the solver's free energy vs ½ ln(1 - E²/a)
        assert entropy(land, E) == pytest.approx(linear_landscape(a, E=E)["entropy_at_E"],
                                                abs=1e-8)


def test_entropy_outside_support_rejected():
    land = RandomMLPLandscape("x", 1, 0.8, 0.0)
    with pytest.raises(InvalidInputError):
        entropy(land, -0.81)
    with pytest.raises(InvalidInputError):
        linear_landscape(0.64, E=0.9)


def test_entropy_is_concave_and_even_for_tanh():
    land = RandomMLPLandscape("tanh", 1, 1.5, 0.0)
    es = np.array([-0.9, -0.6, -0.3])
    s = np.array([entropy(land, e) for e in es])
    assert np.all(s < 0)
    assert s[0] < s[1] < s[2]
    assert s[1] >= 0.5 * (s[0] + s[2]) - 1e-10  # concave
    assert entropy(land, 0.6) == pytest.approx(s[1], abs=1e-12)


@pytest.mark.parametrize("bad", [
    dict(activation="tanh", depth=-1), dict(activation="tanh", depth=1, sigma_w2=-1.0),
    dict(activation="tanh", depth=1, sigma_w2=0.0), dict(activation="tanh", depth=1,
                                                          sigma_b2=-0.1),
    dict(activation="tanh", depth=1, widths_ratio=0.0),
    dict(activation="tanh", depth=1, widths_ratio=4.0),
])
def test_bad_landscape_input(bad):
    with pytest.raises(InvalidInputError):
        RandomMLPLandscape(**bad)


def test_unknown_activation():
    with pytest.raises(InvalidInputError):
        _ = RandomMLPLandscape("banana", 1).xi


def test_negative_temperature():
    with pytest.raises(InvalidInputError):
        solve_landscape(RandomMLPLandscape("tanh", 1), -1.0)


@pytest.mark.parametrize("T", [1.0, 0.5])
def test_monte_carlo_on_finite_networks_matches_gaussian_limit(T):
    # the ground truth: Metropolis replicas on actual random tanh networks (N = 64 inputs,
    # width 8N, σ_w² = 1.5), 5 network draws × 16 replicas, vs the replica prediction for
    # E(β) and the RS overlap q. Allowed: 4 standard errors of the network-to-network mean
    # plus 1/N for the finite-N, finite-width corrections (measured at N = 32 and 64: the
    # deviations are 0.04 and 0.016 at T = 1, i.e. shrinking like ~1/N).
    from replicasolve.engines.sphere import SphereMLP, sample_sphere

    land = RandomMLPLandscape("tanh", 1, 1.5, 0.0)
    theory = solve_landscape(land, T)
    assert theory.method == "RS"
    n = 64
    es, qs = [], []
    for s in range(5):
        net = SphereMLP.random(n, [8 * n], "tanh", 1.5, 0.0, seed=s)
        m = sample_sphere(net, 1 / T, n_replicas=16, n_steps=3000, burn_in=1500, seed=100 + s)
        assert 0.3 < m.acceptance < 0.7
        es.append(m.mean_energy)
        qs.append(m.mean_overlap)
    se_e = np.std(es, ddof=1) / math.sqrt(len(es))
    se_q = np.std(qs, ddof=1) / math.sqrt(len(qs))
    assert abs(np.mean(es) - theory.energy) < 4 * se_e + 1 / n
    assert abs(np.mean(qs) - theory.q[0]) < 4 * se_q + 1 / n


def test_entropy_curve_matches_pointwise_legendre_and_closed_form():
    # parametric (E(β), S(β)) vs the closed form ½ ln(1 - E²/a) of a linear network, and vs
    # the pointwise Legendre transform entropy(E) of a tanh network
    lin = RandomMLPLandscape("x", 1, 0.9, 0.0)
    e, s = entropy_curve(lin, [0.5, 1.0, 3.0])
    assert np.allclose(s, 0.5 * np.log1p(-e**2 / 0.81), atol=1e-9)
    land = RandomMLPLandscape("tanh", 1, 1.5, 0.0)
    e, s = entropy_curve(land, [1.0, 2.0])
    for ei, si in zip(e, s, strict=True):
        assert entropy(land, ei) == pytest.approx(si, abs=1e-8)


def test_entropy_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from replicasolve.plot import entropy_curves

    land = RandomMLPLandscape("x", 1, 0.9, 0.0)
    path = tmp_path / "s.png"
    entropy_curves({"linear": entropy_curve(land, [0.5, 1.0, 2.0])}, path=str(path))
    assert path.stat().st_size > 1000


def test_parallel_tempering_matches_theory_in_rs_phase():
    # PT chains over β = 0.5..2 on 4 random tanh networks (N = 64, width 8N): the energy at
    # each β vs the replica prediction (RS at all these T), allowed 4 network-to-network
    # standard errors + 1/N (as the plain Metropolis test above); swaps must happen, and
    # P(q) is a normalised density
    from replicasolve.engines.sphere import SphereMLP, parallel_tempering

    land = RandomMLPLandscape("tanh", 1, 1.5, 0.0)
    betas = np.array([0.5, 1.0, 1.5, 2.0])
    n = 64
    per_net = []
    for s in range(4):
        net = SphereMLP.random(n, [8 * n], "tanh", 1.5, 0.0, seed=s)
        r = parallel_tempering(net, betas, n_replicas=8, n_sweeps=2000, burn_in=1000,
                               seed=10 + s)
        assert np.all(r.swap_rate > 0.02)
        per_net.append(r.energies.mean(axis=(0, 2)))
    per_net = np.array(per_net)
    mean = per_net.mean(axis=0)
    se = per_net.std(axis=0, ddof=1) / math.sqrt(per_net.shape[0])
    theory = np.array([solve_landscape(land, 1 / b).energy for b in betas])
    assert np.all(np.abs(mean - theory) < 4 * se + 1 / n)
    centres, dens = r.overlap_histogram(3)
    assert np.sum(dens) * (centres[1] - centres[0]) == pytest.approx(1.0)
