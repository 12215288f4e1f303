"""The facade: ``import replicasolve as rs`` and one ``rs.solve`` for every theory.

Each problem kind is solved with one call and checked against an independent value (a
closed form, or a different solver), and every result keeps the one contract: a bool
``converged``, ``errors``, a JSON-serialisable ``to_dict()`` and a ``table()``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import replicasolve as rs


def _contract(result: object) -> dict:
    assert isinstance(result, rs.Result)
    assert isinstance(result.converged, bool)
    assert isinstance(result.errors, dict)
    d = json.loads(json.dumps(result.to_dict()))
    assert d["converged"] is result.converged
    assert isinstance(result.table(), str) and result.table()
    return d


def test_import_is_light_and_every_name_resolves() -> None:
    code = ("import sys, replicasolve as rs\n"
            "heavy = [m for m in ('scipy', 'sympy', 'numba', 'torch', 'xarray', 'matplotlib',"
            " 'dask') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
    for name in rs.__all__:
        assert getattr(rs, name) is not None, name
    with pytest.raises(AttributeError):
        rs.no_such_name  # noqa: B018


def test_ising_paramagnet() -> None:
    # above T = 1 the SK model (xi = q^2/2, h = 0) is paramagnetic:
    # f = -T ln 2 - xi(1)/(2T), exact (the annealed free energy)
    r = rs.solve(rs.MixedPSpin("q**2/2", spins="ising", T=1.5), rs.RS())
    assert r.converged
    assert r.free_energy == pytest.approx(-1.5 * math.log(2) - 0.5 / 3.0, abs=1e-10)
    d = _contract(r)
    assert d["free_energy"] == pytest.approx(r.free_energy, rel=1e-15)


def test_spherical_paramagnet() -> None:
    # the spherical 3-spin model xi = q^3/2 is paramagnetic above T_d ~ 0.61:
    # f = -xi(1)/(2T) (entropy relative to the uniform measure is 0 there)
    r = rs.solve(rs.MixedPSpin("q**3/2", spins="spherical", T=1.0))
    assert r.converged
    assert r.free_energy == pytest.approx(-0.25, abs=1e-9)
    _contract(r)


def test_msk_closed_form() -> None:
    # identical layers: T_c = sqrt(2 C cos(pi/(L+2))) (Barney-Winer-Galitski)
    r = rs.solve(rs.MSK([100] * 4, variance=2.0))
    assert r.converged
    assert r.T_c == pytest.approx(math.sqrt(4.0 * math.cos(math.pi / 5)), rel=1e-12)
    d = _contract(r)
    assert d["beta_c"] == pytest.approx(1 / r.T_c, rel=1e-12)


def test_finite_width_approaches_gaussian_limit() -> None:
    # two independent solvers: the finite-width RS saddle of the layer-overlap action and the
    # Crisanti-Sommers solution of its alpha -> infinity limit; the difference is O(1/alpha)
    # (measured: 1.2e-4 at alpha = 100, 1.2e-5 at 1000), so 0.05/alpha bounds it with room
    gauss = rs.solve(rs.RandomMLPLandscape("tanh", depth=1, T=1.0))
    assert gauss.converged
    _contract(gauss)
    gaps = []
    for alpha in (100.0, 1000.0):
        fw = rs.solve(rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, alpha=alpha, T=1.0))
        assert fw.converged
        _contract(fw)
        gap = abs(fw.free_energy - gauss.free_energy)
        assert gap < 0.05 / alpha
        gaps.append(gap)
    # and it shrinks like 1/alpha: a factor 10 in alpha gives 10 +- 30 % in the gap
    assert 7 < gaps[0] / gaps[1] < 13
    lim = rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, alpha=4.0, T=1.0).gaussian_limit()
    assert lim.T == 1.0 and lim.depth == 1


def test_tap_on_an_instance() -> None:
    # lambda_min(A(beta)) at the solver's minimiser, against a dense eigendecomposition of
    # A there (an independent method: the solver uses shift-invert Lanczos), and the
    # minimiser against a dense scan of neighbouring betas
    from replicasolve.tap.matrix import tap_matrix

    bonds = rs.random_layered([30, 30], seed=1)
    r = rs.solve(bonds, rs.TAP(definition="plain"))
    assert r.converged
    _contract(r)

    def lam(beta: float) -> float:
        return float(np.linalg.eigvalsh(tap_matrix(bonds, beta))[0])

    assert r.lambda_at_min == pytest.approx(lam(r.beta_min), abs=1e-10)
    for step in (0.98, 1.02):
        assert lam(r.beta_min * step) > r.lambda_at_min


def test_problems_carry_their_temperature() -> None:
    m = rs.MixedPSpin("q**2/2", T=0.5)
    assert m.at(T=0.7).T == 0.7
    land = rs.RandomMLPLandscape("tanh", 1)
    with pytest.raises(rs.InvalidInputError, match="no temperature"):
        rs.solve(land)
    assert land.at(T=0.3).T == 0.3
    fw = rs.FiniteWidthLandscape("sin", 2, 1.0, 0.1, alpha=(2.0, 3.0), T=0.5)
    assert fw.alpha == (2.0, 3.0) and fw.at(T=1.0).T == 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: rs.solve(object()), "no solver for a object"),
    (lambda: rs.solve(rs.MSK([5, 5]), rs.RS()), "solved exactly"),
    (lambda: rs.solve(rs.MSK([5, 5]), options={"tol": 1e-3}), "takes no options"),
    (lambda: rs.solve(rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, 2.0, 1.0), rs.FullRSB()),
     "full RSB of the finite-width action"),
    (lambda: rs.solve(rs.FiniteWidthLandscape("tanh", 2, 1.0, 0.0, 2.0, 1.0), rs.RSB(2)),
     "depth 1 only"),
    (lambda: rs.solve(rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, 2.0, 1.0),
                      options={"tolerance": 1e-3}), "no option 'tolerance'"),
    (lambda: rs.solve(rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, 2.0, 1.0),
                      options={"T": 2.0}), "no option 'T'"),
    (lambda: rs.solve(rs.MSK([5, 5]), start=object()), "warm starts"),
    (lambda: rs.solve(rs.random_layered([5, 5], seed=0), rs.RS()), "TAP"),
    (lambda: rs.FiniteWidthLandscape("tanh", 0, 1.0, 0.0, 2.0, 1.0), "depth"),
    (lambda: rs.FiniteWidthLandscape("tanh", 2, 1.0, 0.0, (1.0, 2.0, 3.0), 1.0), "alpha"),
    (lambda: rs.FiniteWidthLandscape("tanh", 1, 1.0, 0.0, 2.0, 0.0), "T"),
    (lambda: rs.TAP(definition="odd"), "definition"),
    (lambda: rs.TAP(definition="threshold"), "threshold"),
    (lambda: rs.TAP(rtol=0.5), "rtol"),
    (lambda: rs.TAP(definition="threshold", threshold=float("nan")), "finite"),
    (lambda: rs.solve(rs.MixedPSpin("q**2/2"), rs.TAP()), "one network instance"),
    (lambda: rs.MSK([5, 5], variance=1e-320), "smallest normal float"),
])
def test_refusals(call, match: str) -> None:
    with pytest.raises(rs.InvalidInputError, match=match):
        call()


def test_gaussian_limit_keeps_an_activation_object() -> None:
    # an Activation object (not only its name) passes through to the infinite-width problem;
    # the reference is the same network built from the name (same kernel route)
    fw = rs.FiniteWidthLandscape(rs.activation("tanh"), 1, 1.0, 0.0, alpha=4.0, T=1.0)
    limit = fw.gaussian_limit()
    ref = rs.RandomMLPLandscape("tanh", 1, 1.0, 0.0, T=1.0)
    q = np.linspace(-1.0, 1.0, 7)
    np.testing.assert_allclose(limit.xi.derivatives(q)[0], ref.xi.derivatives(q)[0],
                               rtol=1e-14, atol=1e-15)
    assert limit.T == 1.0


def test_kernel_problem_against_the_arcsine_formula() -> None:
    # depth 1, erf: K_1(q) = σ_w² q + σ_b², ξ = σ_w² E[erf(u) erf(v)] + σ_b² with
    # E[erf(u) erf(v)] = (2/π) arcsin(2 K_12 / sqrt((1 + 2 K_11)(1 + 2 K_22)))
    # (Williams, "Computing with infinite networks", NIPS 1996): an independent closed form
    sw2, sb2 = 1.5, 0.1
    q = np.linspace(-1.0, 1.0, 9)
    k12, k11 = sw2 * q + sb2, sw2 + sb2
    expected = sw2 * (2 / np.pi) * np.arcsin(2 * k12 / (1 + 2 * k11)) + sb2
    kernel = rs.Kernel("erf", 1, sw2, sb2)
    for route in ("closed", "quadrature", None):
        xi = rs.solve(kernel, route)
        assert xi.converged and set(xi.errors) == {"xi_error"}
        # closed: rounding (1e-14); tables: the XI_RTOL contract (1e-5 of max(1, |ξ|))
        tol = 1e-13 if route == "closed" else 1e-5
        np.testing.assert_allclose(xi(q), expected, rtol=0, atol=tol)
        json.dumps(xi.to_dict())
    assert rs.solve(kernel.at(depth=0), "closed")(0.5) == pytest.approx(sw2 * 0.5 + sb2,
                                                                       abs=1e-15)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: rs.Kernel("tanh", -1), "depth"),
    (lambda: rs.Kernel("tanh", 2.5), "depth"),
    (lambda: rs.Kernel("tanh", 1, sigma_w2=0.0), "sigma_w2"),
    (lambda: rs.Kernel("tanh", 1, sigma_b2=-1.0), "sigma_b2"),
    (lambda: rs.solve(rs.Kernel("tanh", 1), "exact"), "tier"),
    (lambda: rs.solve(rs.Kernel("tanh", 1), rs.RS()), "route"),
    (lambda: rs.solve(rs.Kernel("tanh", 1), None, {"tier": "closed"}), "no option"),
])
def test_kernel_problem_refusals(make, match: str) -> None:
    with pytest.raises(rs.InvalidInputError, match=match):
        make()


def test_claimed_digits_follow_the_error() -> None:
    # one guard digit past the error's leading decade: an error of 1.2e-3 supports
    # 1.2346 (digits to 1e-4), an error of 3e-9 on 1e5 supports 1e5 to 1e-10, capped at 12
    from replicasolve.reported import claimed

    assert claimed(1.23456789, 0.0012) == "1.2346"
    assert claimed(-0.0123456, 2e-6) == "-0.0123456"   # digits to 1e-7
    assert claimed(123456.789012345, 3e-9) == "123456.789012"   # capped at 12 digits
    assert claimed(2.5, 0.0) == "2.5" and claimed(0.0, 1e-3) == "0"


def test_character_refuses_a_bad_temperature() -> None:
    land = rs.RandomMLPLandscape("x", 1)
    for bad in (-1.0, math.nan, math.inf, True):
        with pytest.raises(rs.InvalidInputError, match="temperature"):
            rs.character(land, bad)
    with pytest.raises(rs.InvalidInputError, match="no temperature"):
        rs.character(land)
    with pytest.raises(rs.InvalidInputError, match="Ising"):
        rs.character(rs.MixedPSpin("q**2/2", spins="ising"))
