"""Finite-width 1RSB at depth 1 (replicasolve.models.finite_width_rsb)."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.finite_width import finite_width_rs
from replicasolve.models.finite_width_replicon import finite_width_replicon
from replicasolve.models.finite_width_rsb import finite_width_1rsb, one_rsb_functional
from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers.spherical import parisi_functional


def test_large_alpha_is_the_crisanti_sommers_1rsb_functional():
    # at fixed (q0, q1, m) the α → ∞ limit is the Gaussian (Crisanti–Sommers) 1RSB functional
    # with ξ = σ_b² + σ_w² E[φφ]: the gap must be O(1/α) (halves when α doubles; measured
    # 8.2e-7 at α = 1e6), which also rules out any α-independent mistake
    land = RandomMLPLandscape("sin", 1, 2.0, 0.0)
    F, _ = parisi_functional(land.model(0.5), [0.2, 0.6], [0.4])
    gaps = [one_rsb_functional(np.sin, 2.0, 0.0, a, 0.5, 0.2, 0.6, 0.4) - F / 0.5
            for a in (1e6, 2e6)]
    assert abs(gaps[0]) < 5e-6
    assert gaps[1] / gaps[0] == pytest.approx(0.5, abs=0.02)


def test_reduces_to_rs_and_matches_the_rs_solver():
    # q0 = q1: m drops out exactly; and Φ(q*, q*, 1) equals -βf of the independent RS solver
    # (composite ζ rule there, Gauss–Hermite here: they differ by the quadrature, measured
    # ≤ 3e-6 across orders 48–80 at α = 4)
    r = finite_width_rs("sin", 2.0, 0.0, 4.0, 0.5)
    a = one_rsb_functional(np.sin, 2.0, 0.0, 4.0, 0.5, r.q, r.q, 1.0, order=48)
    b = one_rsb_functional(np.sin, 2.0, 0.0, 4.0, 0.5, r.q, r.q, 0.3, order=48)
    assert a == pytest.approx(b, abs=1e-13)
    assert a == pytest.approx(-r.free_energy / 0.5, abs=5e-6)


def test_one_step_rsb_where_the_replicon_is_negative():
    # sin, σ_w² = 2, α = 4, T = 0.5: the RS replicon is negative (finite_width_replicon), and
    # the 1RSB optimum lies below the RS one by far more than the quadrature spread (3e-6),
    # with a non-trivial (q0 < q1, 0 < m < 1): two independent signs of RSB that must agree
    assert finite_width_replicon("sin", 2.0, 0.0, 4.0, 0.5) < 0
    r = finite_width_1rsb("sin", 2.0, 0.0, 4.0, 0.5, order=32)
    assert r.gain > 5e-5
    assert r.q1 - r.q0 > 0.02 and 0.05 < r.m < 0.95


@pytest.mark.slow
@pytest.mark.parametrize("act,sw2,T", [("sin", 2.0, 1.0), ("tanh", 1.5, 0.5)])
def test_no_gain_where_the_replicon_is_positive(act, sw2, T):
    # "no gain" means below the quadrature resolution of the functional: its value moves by
    # ~3e-6 between Gauss–Hermite orders 48–80, and at order 32 the optimiser can find a
    # spurious 5e-8 "gain" from that noise; the RSB signal above is 1.6e-4
    assert finite_width_replicon(act, sw2, 0.0, 4.0, T) > 0
    r = finite_width_1rsb(act, sw2, 0.0, 4.0, T, order=32)
    assert r.gain < 1e-6


def test_bad_input():
    with pytest.raises(InvalidInputError):
        one_rsb_functional(np.sin, 2.0, 0.0, 4.0, 0.5, 0.6, 0.2, 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb("sin", 2.0, 0.0, -1.0, 0.5)
