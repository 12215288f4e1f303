"""Error bars of the k → ∞ extrapolation bound the true error on hard cases.

The reference is the same model solved to many more steps (k up to 14), extrapolated: a
much higher-order estimate whose own error is far smaller than the bar under test. Each
test asserts |estimate − reference| <= bar + reference bar, and that the bar is not vacuous
(at most 100 × the true error + the reference's bar, so a huge bar cannot pass).
"""

from __future__ import annotations

import pytest

from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import FullRSB, solve

CASES = [
    # SK just inside the AT line (h_AT(0.5) = 0.57): many nearly degenerate steps
    ("q**2/2", 0.5, 0.3),
    # SK deep in the spin-glass phase
    ("q**2/2", 0.3, 0.0),
    # a mixed model with a growing ξ
    ("0.5*q**2 + 0.4*q**4", 0.4, 0.1),
]


@pytest.mark.parametrize(("xi", "T", "h"), CASES)
@pytest.mark.parametrize("ks", [(2, 3, 4), (2, 3, 4, 5, 6)])
def test_frsb_error_bar_bounds_true_error(xi, T, h, ks):
    model = MixedPSpin(xi, spins="ising", T=T, field=h)
    ref = solve(model, FullRSB(ks=tuple(range(2, 15))))
    low = solve(model, FullRSB(ks=ks))
    assert ref.converged and low.converged
    for name in ("free_energy", "energy"):
        est, bar = getattr(low, name), getattr(low, f"{name}_error")
        truth, tbar = getattr(ref, name), getattr(ref, f"{name}_error")
        gap = abs(est - truth)
        assert gap <= bar + tbar, (name, est, bar, truth, tbar)
        # neither bar is vacuous: the reference is good to 1e-5, and the estimate's bar is
        # at most 100 × the true error, or 1e-6 for f and 1e-5 for e (energies are not
        # variational: they carry ~r/T from the stationarity residual r, whatever k)
        assert tbar < 1e-5
        assert bar <= max(100 * gap, 1e-6 if name == "free_energy" else 1e-5), (name, bar, gap)
    # the headline free energy is at least every k-step value (each a lower bound on f)
    assert low.free_energy >= max(r.free_energy for r in low.sequence)


@pytest.mark.slow
def test_sk_ground_state_error_bar():
    """SK at T = 0: the k <= 6 extrapolation against the k <= 14 one (both from the
    Auffinger–Chen T = 0 functional); the reference agrees with the published full-RSB value
    -0.76316672(7) (Crisanti–Rizzo, Phys. Rev. E 65 (2002); Oppermann–Schmidt–Sherrington,
    PRL 98 (2007)) within its own bar."""
    model = MixedPSpin("q**2/2", spins="ising", T=0.0)
    ref = solve(model, FullRSB(ks=(2, 3, 4, 5, 6, 8, 10, 12, 14)))
    low = solve(model, FullRSB(ks=(2, 3, 4, 5, 6)))
    assert abs(ref.free_energy - (-0.76316672)) <= ref.free_energy_error + 1e-8
    assert abs(low.free_energy - ref.free_energy) <= low.free_energy_error + \
        ref.free_energy_error
    assert low.free_energy_error < 1e-5
