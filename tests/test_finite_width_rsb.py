"""Finite-width 1RSB at depth 1 (replicasolve.solvers.finite_width.rsb).

Where the expected values come from: the α → ∞ limit is the Crisanti–Sommers 1RSB
functional (replicasolve.solvers.spherical, an independent solver); the RS reduction is the
RS solver (finite_width_rs, grid quadrature); the optimum found by finite_width_1rsb (the
k = 1 case of finite_width_krsb, grid quadrature) is re-evaluated by the nested
Gauss–Hermite one_rsb_functional (a separate quadrature and code path); the sign of the gain
is cross-checked by the RS replicon (finite_width_replicon).
"""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers.finite_width.replicon import finite_width_replicon
from replicasolve.solvers.finite_width.rs import finite_width_rs
from replicasolve.solvers.finite_width.rsb import finite_width_1rsb, one_rsb_functional
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
    # the 1RSB optimum lies below the RS one, with a non-trivial (q0 < q1, 0 < m < 1): two
    # independent signs of RSB that must agree
    assert finite_width_replicon("sin", 2.0, 0.0, 4.0, 0.5) < 0
    r = finite_width_1rsb("sin", 2.0, 0.0, 4.0, 0.5)
    assert r.converged
    assert r.q1 - r.q0 > 0.05 and 0.3 < r.m < 0.9
    assert r.free_energy == pytest.approx(-0.5 * r.phi, abs=1e-15)
    # the gain from independent routes: Φ_RS from the RS solver (error indicator ~1e-16)
    # minus the nested Gauss–Hermite functional at the reported optimum. 96 nodes: it moves
    # by 8e-10 from 64 and by 5.5e-10 to 128 nodes here, so 3e-9 bounds its rule error; an
    # optimiser stopped short would show as a larger Φ_1 (smaller gain) in both routes
    rs = finite_width_rs("sin", 2.0, 0.0, 4.0, 0.5)
    h = one_rsb_functional(np.sin, 2.0, 0.0, 4.0, 0.5, r.q0, r.q1, r.m, order=96)
    assert h == pytest.approx(r.phi, abs=3e-9)
    assert -rs.free_energy / 0.5 - h == pytest.approx(r.gain, abs=3e-9)
    # RS part: the same optimum as the RS solver (the k-RSB grid at 6 ζ points per panel
    # differs from the RS solver's converged rule by 1.2e-11)
    assert r.phi_rs == pytest.approx(-rs.free_energy / 0.5, abs=1e-10)
    assert r.q_rs == pytest.approx(rs.q, abs=1e-6)  # a flat minimum: Φ'' δq²/2 < 1e-12
    # 1.4839e-4 measured by the grid optimiser; the old Nelder–Mead on Gauss–Hermite rules
    # gave 1.17e-4 / 1.51e-4 / 1.480e-4 at 32 / 48 / 64 nodes, converging to it
    assert r.gain == pytest.approx(1.4839e-4, rel=1e-3)
    assert r.gain_resolution < 1e-11


@pytest.mark.slow
@pytest.mark.parametrize("act,sw2,T", [("sin", 2.0, 1.0), ("tanh", 1.5, 0.5)])
def test_no_gain_where_the_replicon_is_positive(act, sw2, T):
    # no 1RSB point below the RS optimum beyond the rounding of Φ (measured gains 1e-16 and
    # 3e-16; grid resolution of the gain ~2e-16): 1e-12 would still catch a gain 1e8 times
    # smaller than the 1.5e-4 of the unstable case above
    assert finite_width_replicon(act, sw2, 0.0, 4.0, T) > 0
    r = finite_width_1rsb(act, sw2, 0.0, 4.0, T)
    assert r.gain < 1e-12
    assert r.phi_rs == pytest.approx(
        -finite_width_rs(act, sw2, 0.0, 4.0, T).free_energy / T, abs=1e-10)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        one_rsb_functional(np.sin, 2.0, 0.0, 4.0, 0.5, 0.6, 0.2, 0.5)
    with pytest.raises(InvalidInputError):
        finite_width_1rsb("sin", 2.0, 0.0, -1.0, 0.5)
