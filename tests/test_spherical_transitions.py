"""Static (T_s) and dynamical (T_d) transitions of spherical p-spin models, and the RS/1RSB
choice of the solver next to T_s.

Every number is obtained two ways: the sup formulas of
:mod:`replicasolve.solvers.transitions` against closed forms (pure p-spin), against the two
Crisanti–Sommers equations at m = 1 solved by a 2-d root finder written out here, against the
solver's own 1RSB - RS free-energy gains far from T_s (extrapolated to zero), and, for T_d,
against the solver's 1RSB functional gradient near m = 1 (marginality of the m = 1 state).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import optimize

from replicasolve.errors import InvalidInputError
from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RSB, solve
from replicasolve.solvers.spherical import parisi_functional
from replicasolve.solvers.transitions import (
    SphericalTransitions,
    below_static_transition,
    spherical_transitions,
)

# ξ = q³/2 (pure, Crisanti–Sommers normalisation), a mixed model with no q² term, and one with
# a q² term whose transition is still discontinuous (T_s > T_c = sqrt(0.1)).
MODELS = ["q**3/2", "q**3/2 + 0.1*q**4", "0.05*q**2 + q**4/2"]
# (ξ(q), ξ'(q), ξ''(q)) of MODELS written out by hand (independent of the package's parser)
HAND = {
    "q**3/2": (lambda q: q**3 / 2, lambda q: 1.5 * q**2, lambda q: 3 * q),
    "q**3/2 + 0.1*q**4": (lambda q: q**3 / 2 + 0.1 * q**4, lambda q: 1.5 * q**2 + 0.4 * q**3,
                          lambda q: 3 * q + 1.2 * q**2),
    "0.05*q**2 + q**4/2": (lambda q: 0.05 * q**2 + q**4 / 2, lambda q: 0.1 * q + 2 * q**3,
                           lambda q: 0.1 + 6 * q**2),
}


def sph(xi: str, T: float) -> MixedPSpin:
    return MixedPSpin(xi, spins="spherical", T=T)


@pytest.mark.parametrize("p", [3, 4, 5, 8])
def test_pure_pspin_closed_forms(p: int) -> None:
    tr = spherical_transitions(f"q**{p}/2")
    # T_d² = p (p-2)^(p-2) / (2 (p-1)^(p-1)), q_d = (p-2)/(p-1): Crisanti–Sommers, Z. Phys. B
    # 87 (1992), ξ = q^p/2. Both sides are double-precision evaluations of smooth closed
    # forms, T_d at a maximum (flat: q_d errors enter squared), hence 1e-13
    assert tr.T_d == pytest.approx(math.sqrt(p * (p - 2) ** (p - 2) / (2 * (p - 1) ** (p - 1))),
                                   rel=1e-13)
    # q_d is Brent's root of the slope q(1-q)ξ'' - ξ' (simple root): 1e-12
    assert tr.q_d == pytest.approx((p - 2) / (p - 1), abs=1e-12)
    # T_s: for ξ = q^p/2 the two m = 1 equations reduce to q²/(p(1-q)) + q + ln(1-q) = 0
    # (eliminate β² = 2q^(2-p)/(p(1-q)) from β²ξ'(1-q) = q), solved here by Brent's method
    q_s = optimize.brentq(lambda q: q * q / (p * (1 - q)) + q + math.log1p(-q), 0.3, 0.999,
                          xtol=1e-15, rtol=1e-15)
    Ts = math.sqrt((1 - q_s) * p * q_s ** (p - 2) / 2)
    assert tr.q_s == pytest.approx(q_s, abs=1e-11)  # two simple-root Brent solves: 1e-11
    assert tr.T_s == pytest.approx(Ts, rel=1e-13)  # maximum of a flat ratio: as T_d
    assert tr.converged and tr.T_c == 0.0
    if p == 3:
        # literature: T_s = 0.586, T_d = sqrt(3/8) = 0.612 (Crisanti–Sommers 1992, 3 digits)
        assert tr.T_s == pytest.approx(0.586, abs=5e-4)
        assert tr.T_d == pytest.approx(math.sqrt(3 / 8), rel=1e-13)


# rough (2-digit) starts (β², q) of the 2-d root finder: the equations have a second, unstable
# root branch at small q, which a start far from (β_s², q_s) can reach
ROUGH_STARTS = {
    "q**3/2": ([2.9, 0.65], [2.7, 0.5]),
    "q**3/2 + 0.1*q**4": ([2.6, 0.67], [2.3, 0.53]),
    "0.05*q**2 + q**4/2": ([3.4, 0.77], [3.0, 0.64]),
}


@pytest.mark.parametrize("xi", MODELS)
def test_two_equation_solution(xi: str) -> None:
    """The two Crisanti–Sommers equations at m = 1, solved as a 2-d system by hybrid Powell
    from a rough start, give the same T_s and T_d."""
    x, d1, d2 = HAND[xi]
    tr = spherical_transitions(xi)

    def static(v: np.ndarray) -> list[float]:
        b2, q = v
        return [b2 * d1(q) * (1 - q) - q, b2 * x(q) + q + math.log1p(-q)]

    def dynamic(v: np.ndarray) -> list[float]:
        b2, q = v
        return [b2 * d1(q) * (1 - q) - q, b2 * d2(q) * (1 - q) ** 2 - 1]

    start_s, start_d = ROUGH_STARTS[xi]
    s = optimize.root(static, start_s, method="hybr", options={"xtol": 1e-14})
    d = optimize.root(dynamic, start_d, method="hybr", options={"xtol": 1e-14})
    assert max(map(abs, static(s.x))) < 1e-13 and max(map(abs, dynamic(d.x))) < 1e-13
    # the root is a regular zero of an O(1) system in double precision: 1e-10 in T and q
    assert tr.T_s == pytest.approx(1 / math.sqrt(s.x[0]), abs=1e-10)
    assert tr.q_s == pytest.approx(s.x[1], abs=1e-10)
    assert tr.T_d == pytest.approx(1 / math.sqrt(d.x[0]), abs=1e-10)
    assert tr.q_d == pytest.approx(d.x[1], abs=1e-10)
    assert tr.T_d > tr.T_s > tr.T_c
    assert tr.residual_s < 1e-12 and tr.residual_d < 1e-12


# Rough (3-4 digit) static temperatures: only to place the temperatures of the extrapolation
# test below T_s, at 1 - T/T_s ~ 2e-3 ... 8e-3 (gains 1e-6 ... 1.6e-5, far above the band in
# which the solver defers to T_s).
ROUGH_TS = {"q**3/2": 0.586, "q**3/2 + 0.1*q**4": 0.6235}


@pytest.mark.parametrize("xi", list(ROUGH_TS))
def test_solver_gain_extrapolates_to_ts(xi: str) -> None:
    """Near T_s the 1RSB - RS gain is ~ c (T_s - T)²: sqrt(gain) from 4 solver runs, fitted by
    a cubic in T and extrapolated to its zero, is T_s (independently of the sup formula: the
    solver decides by the gain at these temperatures, as the message shows)."""
    Ts = spherical_transitions(xi).T_s
    Tg = ROUGH_TS[xi] * (1 - np.array([2e-3, 4e-3, 6e-3, 8e-3]))
    gains = []
    for T in Tg:
        r0 = solve(sph(xi, T), RSB(0), options={"tol": 1e-12})
        r1 = solve(sph(xi, T), RSB(1), options={"tol": 1e-12})
        assert r1.converged and "T_s" not in r1.message
        gains.append(r1.free_energy - r0.free_energy)
    y = np.sqrt(np.array(gains))
    roots = np.roots(np.polyfit(Tg, y, 3))
    est = float(roots[np.argmin(np.abs(roots - ROUGH_TS[xi]))].real)
    # truncation of the cubic fit at distance ~8e-3 T_s: measured 1.3e-10 (p = 3) and
    # 5e-11 (mixed); the gains are exact to ~1e-15, i.e. sqrt(gain) to ~1e-12 relative
    assert est == pytest.approx(Ts, abs=1e-8)


@pytest.mark.parametrize("xi", MODELS)
@pytest.mark.parametrize("eps", [1e-4, 1e-7])
def test_solver_follows_ts(xi: str, eps: float) -> None:
    """Just below T_s, RSB(1) is a genuine 1RSB (q_1 > q_0 = 0, m < 1 close to 1) however
    small its gain (at eps = 1e-7 it is ~2e-15, at the rounding of f); just above, RS."""
    tr = spherical_transitions(xi)
    m_below = sph(xi, tr.T_s * (1 - eps))
    r0 = solve(m_below, RSB(0))
    r1 = solve(m_below, RSB(1))
    assert r1.converged
    assert r1.q[0] == 0.0 and r1.q[1] - r1.q[0] > 0.5
    # 1 - m ~ 2 eps (1 - m vanishes linearly at T_s: 2.1 eps for p = 3)
    assert 0 < 1 - r1.x[0] < 10 * eps
    # the m = 1 end of the 1RSB solution is (q_s, T_s): q_1 - q_s = O(eps)
    assert r1.q[1] == pytest.approx(tr.q_s, abs=10 * eps)
    # the package minimises F = T P over x and f = -min F: f is *maximised*, so the 1RSB f
    # is above the RS one (by 0.24 eps² for p = 3), up to rounding of f (1e-15)
    assert r1.free_energy >= r0.free_energy - 1e-15
    assert r1.replicon > 0  # the static state is stable: T_s < T_d
    r_above = solve(sph(xi, tr.T_s * (1 + eps)), RSB(1))
    assert r_above.converged
    assert np.all(r_above.q == 0.0) and np.all(r_above.x == 1.0)


def test_warm_start_follows_ts() -> None:
    """A start from a 1RSB solution further below T_s does not change the decision."""
    tr = spherical_transitions("q**3/2")
    seed = solve(sph("q**3/2", tr.T_s * 0.999), RSB(1))
    below = solve(sph("q**3/2", tr.T_s * (1 - 1e-6)), RSB(1), start=seed)
    above = solve(sph("q**3/2", tr.T_s * (1 + 1e-6)), RSB(1), start=seed)
    assert below.q[1] > 0.5 and 0 < 1 - below.x[0] < 1e-5
    assert np.all(above.q == 0.0)


@pytest.mark.parametrize("xi", MODELS)
def test_td_is_where_m1_state_turns_marginal(xi: str) -> None:
    """T_d from the solver's functional: at m = 1 - δ the q_1-gradient of the 1RSB functional
    (q_0 = 0; :func:`parisi_functional`, T P units) is (T/2)(1 - m)[q/((1-q)(1-q+mq)) - β²ξ'],
    so max_q of -grad/(T δ) is > 0 exactly while the 1RSB q-equation at m has a root q > 0.
    Its zero T_d(δ) is smooth in δ; the limit δ → 0 (quadratic through δ = 5e-4, 1e-3,
    1.5e-3) is the m = 1 state turning marginal: T_d, q_d, replicon 1 - β²ξ''(q)(1-q)² = 0."""
    tr = spherical_transitions(xi)

    def at(delta: float) -> tuple[float, float]:
        m = 1 - delta

        def minus_phi(T: float, q: float) -> float:
            _, g = parisi_functional(sph(xi, T), [0.0, q], [m])
            return float(g[1]) / (T * delta)

        def top(T: float) -> tuple[float, float]:
            res = optimize.minimize_scalar(lambda q: minus_phi(T, q), bounds=(0.2, 0.95),
                                           method="bounded", options={"xatol": 1e-12})
            return float(-res.fun), float(res.x)

        Td = optimize.brentq(lambda T: top(T)[0], 0.9 * tr.T_d, 1.1 * tr.T_d, xtol=1e-15)
        return Td, top(Td)[1]

    deltas = np.array([5e-4, 1e-3, 1.5e-3])
    vals = np.array([at(float(d)) for d in deltas])
    Td = float(np.polyfit(deltas, vals[:, 0], 2)[-1])
    q = float(np.polyfit(deltas, vals[:, 1], 2)[-1])
    # gradient rounding ~1e-16/δ and the O(δ³) truncation of the quadratic: measured 1e-11
    assert Td == pytest.approx(tr.T_d, abs=1e-9)
    # the arg max of a flat top is located to ~sqrt(value precision): measured 2e-7
    assert q == pytest.approx(tr.q_d, abs=1e-6)
    _, _, d2 = HAND[xi]
    replicon = 1 - d2(q) * (1 - q) ** 2 / Td**2
    assert replicon == pytest.approx(0.0, abs=1e-5)  # slope d(replicon)/dq = O(1)-O(10)


def test_to_dict_is_plain() -> None:
    tr = spherical_transitions(sph("q**3/2", 0.5))
    d = tr.to_dict()
    assert isinstance(tr, SphericalTransitions)
    assert set(d) == {"T_s", "T_d", "q_s", "q_d", "T_c", "residual_s", "residual_d",
                      "converged", "message"}
    assert json.loads(json.dumps(d))["T_s"] == tr.T_s


@pytest.mark.parametrize(("model", "match"), [
    (MixedPSpin("q**3/2", spins="ising", T=0.5), "spherical"),
    (MixedPSpin("q**3/2", spins="spherical", T=0.5, field=0.1), "field"),
    ("q**2/2", "continuous"),
    ("q**2/2 + q**4/48", "continuous"),  # full RSB below T_c = 1: ξ''^(-1/2) concave
    ("q**2/2 + 0.1*q**3", "continuous"),
    ("0.3*q + q**3", "q\\^1 term"),
])
def test_rejects_models_without_a_discontinuous_transition(model: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        spherical_transitions(model)


def test_continuous_models_solve_unchanged() -> None:
    """The T_s rule applies only to discontinuous transitions: a full-RSB model just below
    T_c = 1 keeps its small-gain 1RSB from the chain."""
    r = solve(sph("q**2/2 + q**4/48", 0.99), RSB(1))
    assert "T_s" not in r.message
    assert r.q[1] > 0 and r.x[0] < 1


def test_below_static_transition() -> None:
    Ts = spherical_transitions("q**3/2").T_s
    assert below_static_transition(sph("q**3/2", Ts * (1 - 1e-12))) is True
    assert below_static_transition(sph("q**3/2", Ts)) is False
    assert below_static_transition(sph("q**2/2", 0.5)) is None  # continuous
    assert below_static_transition(sph("q**3/2", 0.0)) is None
    assert below_static_transition(MixedPSpin("q**3/2", spins="ising", T=0.5)) is None
    assert below_static_transition(MixedPSpin("q**3/2", spins="spherical", T=0.5,
                                              field=0.1)) is None
