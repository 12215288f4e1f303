"""ξ(q) of real finite-width torch MLPs vs the kernel composition (quadrature tier)."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.kernels.activation import activation
from replicasolve.kernels.numeric import compose_depth

pytest.importorskip("torch")
from replicasolve.nets.random_mlp import empirical_xi

Q = [-0.6, 0.0, 0.5, 0.9]


def _check(name: str, depth: int, sw: float, sb: float, draws: int) -> None:
    act = activation(name)
    mean, se = empirical_xi(act.phi, depth, sw, sb, Q, width=4096, draws=draws, seed=depth)
    theory = compose_depth(act.phi, depth, sw, sb, np.array(Q), order=200)
    # 5 standard errors across independent draws, plus the O(1/width) finite-width bias and
    # the quadrature error of a kinked φ (≤ 3e-3 for relu at order 200): both << the MC error
    assert np.all(np.abs(mean - theory) <= 5 * se + 3e-3), (name, depth, mean, theory, se)
    assert np.all(se < 0.05 * np.abs(theory).max())  # the check has teeth


@pytest.mark.parametrize("name", ["relu", "tanh", "sin", "erf"])
def test_depth_two_matches_kernel(name: str) -> None:
    _check(name, 2, 2.0 if name == "relu" else 1.5, 0.1, draws=6)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["relu", "tanh", "sin", "erf"])
def test_depths_one_to_four(name: str, depth: int) -> None:
    _check(name, depth, 2.0 if name == "relu" else 1.5, 0.1, draws=12)


def test_depth_zero_exact() -> None:
    mean, _ = empirical_xi(np.tanh, 0, 1.3, 0.2, Q, draws=3)
    np.testing.assert_allclose(mean, 0.2 + 1.3 * np.array(Q), atol=1e-12)
