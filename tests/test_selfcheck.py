"""The thermodynamic self-check rejects results that break their identities (each test
asserts the verdict on a result broken in one known way, and the verdict on the intact one)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RSB, solve
from replicasolve.solvers.selfcheck import apply_self_check, check_result


@pytest.fixture(scope="module")
def sk_1rsb():
    r = solve(MixedPSpin("q**2/2", spins="ising", T=0.5, field=0.2), RSB(1))
    assert r.converged and r.checks["passed"]
    return r


@pytest.fixture(scope="module")
def p3_1rsb():
    r = solve(MixedPSpin("q**3", spins="spherical", T=0.5), RSB(1))
    assert r.converged and r.checks["passed"]
    return r


@pytest.mark.parametrize("which", ["sk_1rsb", "p3_1rsb"])
def test_wrong_energy_is_not_converged(which, request):
    r = request.getfixturevalue(which)
    # an energy off by 1e-4 (entropy kept consistent, so only e = ∂(βf)/∂β can catch it);
    # the check's tolerance here is ~1e-7 (module doc of selfcheck)
    bad = dataclasses.replace(r, energy=r.energy + 1e-4, entropy=r.entropy + 1e-4 / r.T)
    chk = check_result(bad)
    assert not chk.passed and any("d(beta f)/d beta" in f for f in chk.failures)
    out = apply_self_check(bad)
    assert out.converged is False and "self-check failed" in out.message
    assert check_result(r).passed


def test_order_and_entropy_bounds(sk_1rsb):
    r = sk_1rsb
    swapped = dataclasses.replace(r, q=np.asarray(r.q)[::-1].copy())
    assert not check_result(swapped).passed
    big_x = dataclasses.replace(r, x=np.asarray(r.x) + 2.0)
    assert not check_result(big_x).passed
    # an Ising entropy above ln 2 cannot be
    s_hi = math.log(2) + 1e-6
    hot = dataclasses.replace(r, entropy=s_hi, free_energy=r.energy - r.T * s_hi)
    assert any("ln 2" in f for f in check_result(hot).failures)
    # f = e - T s broken
    broken = dataclasses.replace(r, free_energy=r.free_energy + 1e-6)
    assert any("f != e - T s" in f for f in check_result(broken).failures)


def test_rs_entropy_crisis_is_a_note_not_a_failure():
    """The paramagnet of the pure p = 5 Ising model at T = 0.5 has s = ln 2 - 1/(2T²) < 0 with
    replicon 1: the correct RS answer, not the Gibbs measure; reported, not rejected."""
    r = solve(MixedPSpin("q**5", spins="ising", T=0.5), RSB(0))
    assert r.converged and r.checks["passed"]
    assert r.entropy == pytest.approx(math.log(2) - 2.0, abs=1e-9)
    assert any("entropy" in n for n in r.checks["notes"]) and "note:" in r.message
