"""The Monte Carlo engines' results on the library's one result contract
(:class:`replicasolve.results.Result`): an honest ``converged`` verdict (the rules of
:mod:`replicasolve.engines.convergence`), a JSON-ready summary ``to_dict()`` (no raw
series), ``table()`` as text, and the old names as aliases.

The verdicts are checked both ways with deterministic seeds and wide margins against the
threshold τ/span ≤ 1/50 = 0.02 (measured values in the comments). A run far too short reads
τ/span ≈ 0.06-0.1, not ≈ 1: Sokal's window closes at W ≥ 5τ, so the estimate saturates near
span/10; the threshold sits well below that."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replicasolve.engines import convergence
from replicasolve.engines.ising import (
    EquilibrationCheck,
    IsingSystem,
    MCResult,
    PTResult,
    check_equilibration,
    parallel_tempering,
    run_replicas,
)
from replicasolve.engines.sphere import (
    SphereMCResult,
    SphereMLP,
    SpherePT,
    SpherePTResult,
    pt_sphere,
    sample_sphere,
)
from replicasolve.engines.sphere import parallel_tempering as sphere_pt
from replicasolve.results import Result


def _sk(n: int, seed: int) -> IsingSystem:
    rng = np.random.default_rng(seed)
    j = np.triu(rng.standard_normal((n, n)) / np.sqrt(n), 1)
    return IsingSystem.dense(j + j.T)


def _contract(r: Result, *, max_chars: int = 20_000) -> dict:
    """JSON through text and back (strict), a text table, a short summary."""
    assert isinstance(r, Result)
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert len(text) < max_chars  # summarised, not the raw series
    d = json.loads(text)
    assert d["kind"] == type(r).__name__
    assert d["converged"] is bool(r.converged)
    assert isinstance(r.converged, bool)
    table = r.table()
    assert isinstance(table, str) and "converged" in table
    assert all(isinstance(v, float) for v in r.errors.values())
    return d


def _ratio(taus: dict[str, float], span: float) -> float:
    return max(taus.values()) / span


# ------------------------------------------------------------------ Ising, one temperature


def test_ising_well_run_is_converged() -> None:
    # SK N = 16 at T = 2 (paramagnet), 2000 sweeps: measured τ_E = 0.64, τ_|q| = 0.57 sweeps,
    # τ/span = 3e-4 over seeds 0-2 and instances 0-2: 60 times below 1/50
    r = run_replicas(_sk(16, 1), 2.0, replicas=8, sweeps=2000, burn_in=200, seed=3)
    assert isinstance(r, MCResult)
    assert _ratio(r.autocorrelation_times, r.span) < convergence.TAU_FRACTION / 10
    assert r.converged and r.message == ""
    d = _contract(r)
    assert d["T"] == 2.0 and d["energy"]["error"] > 0 and "energies" in d["shapes"]
    assert set(r.errors) >= {"energy_error", "q2_error", "binder_error"}
    # the agreed name and the old one
    assert r.T == r.temperature == 2.0


def test_ising_too_short_low_temperature_run_is_not_converged() -> None:
    # SK N = 128 at T = 0.3 from random spins, no burn-in, 20 sweeps: the energy still
    # relaxes through the whole run. Measured τ/span = 0.06-0.10 (energy and |q|, 4
    # instances x 3 seeds): at least 3 times above 1/50
    r = run_replicas(_sk(128, 2), 0.3, replicas=8, sweeps=20, burn_in=0, seed=0)
    assert _ratio(r.autocorrelation_times, r.span) > 2.5 * convergence.TAU_FRACTION
    assert not r.converged and "tau_energy" in r.message
    d = _contract(r)
    assert d["message"] == r.message


def test_constant_series_is_not_a_pass() -> None:
    ok, why = convergence.autocorrelation_verdict({"energy": float("nan")}, 1000.0)
    assert not ok and "not finite" in why
    ok, why = convergence.ladder_verdict([0.3, 0.01], [2, 3])
    assert not ok and "floor" in why
    ok, why = convergence.ladder_verdict([0.3, 0.3], [2, 0])
    assert not ok and "traversals" in why
    assert convergence.ladder_verdict([], []) == (True, "")


# ------------------------------------------------------------------ Ising, PT


def test_ising_pt_verdicts_and_observables() -> None:
    # SK N = 16, 5 temperatures 0.5-2, 4000 sweeps: measured min swap acceptance 0.57,
    # fewest round trips per walker 172, largest τ/span 2e-4
    system = _sk(16, 1)
    ladder = [0.5, 0.7, 1.0, 1.4, 2.0]
    pt = parallel_tempering(system, ladder, replicas_per_T=4, sweeps=4000, burn_in=500, seed=3)
    assert isinstance(pt, PTResult)
    assert pt.converged, pt.message
    assert pt.swap_acceptance.min() > 10 * convergence.SWAP_FLOOR
    assert pt.round_trips_per_walker.min() > 50
    d = _contract(pt, max_chars=100_000)
    assert len(d["per_T"]) == 5 and d["per_T"][0]["kind"] == "MCResult"
    obs = pt.observables()  # the per-temperature arrays (what table() returned before)
    np.testing.assert_array_equal(obs["T"], ladder)
    assert obs["energy"][2] == pt[2].energy.value
    np.testing.assert_array_equal(pt.T, pt.temperatures)
    # too short at low T: 60 sweeps of N = 128 at T = 0.3-0.4 (measured τ/span ≥ 0.04)
    bad = parallel_tempering(_sk(128, 2), [0.3, 0.35, 0.4], replicas_per_T=4, sweeps=60,
                             burn_in=0, seed=3)
    assert not bad.converged and "T index 0" in bad.message
    _contract(bad, max_chars=100_000)


def test_equilibration_check_is_a_result() -> None:
    c = check_equilibration(_sk(16, 1), 2.0, replicas=8, sweeps=2000, burn_in=200, seed=0)
    assert isinstance(c, EquilibrationCheck)
    assert c.converged == (c.agrees and c.hot.converged and c.cold.converged)
    assert c.converged, c.message
    _contract(c, max_chars=100_000)


# ------------------------------------------------------------------ the sphere engine


def test_sphere_single_temperature_verdicts() -> None:
    net = SphereMLP.random(8, [16], "sin", 2.0, 0.0, seed=0)
    # β = 0.5, 4000 steps: measured τ/span ≤ 0.002 (seeds 0-2)
    good = sample_sphere(net, 0.5, n_replicas=8, n_steps=4000, burn_in=500, every=1, seed=0)
    assert isinstance(good, SphereMCResult)
    assert _ratio(good.autocorrelation_times, good.span) < convergence.TAU_FRACTION / 5
    assert good.converged
    d = _contract(good)
    assert d["T"] == 2.0 and "q" in d and good.mean_energy == pytest.approx(d["energy"]["value"])
    # β = 5, 40 steps from a random start: measured τ/span = 0.075-0.10 (seeds 0-2)
    bad = sample_sphere(net, 5.0, n_replicas=8, n_steps=40, burn_in=0, every=1, seed=0)
    assert _ratio(bad.autocorrelation_times, bad.span) > 2.5 * convergence.TAU_FRACTION
    assert not bad.converged
    _contract(bad)


@pytest.mark.parametrize("moves", ["pair", "great_circle"])
def test_sphere_pt_verdicts(moves: str) -> None:
    net = SphereMLP.random(8, [16], "sin", 2.0, 0.0, seed=0)
    # β = 0.25, 0.5, 1: measured swap rates ≥ 0.42, ≥ 550 traversals per chain, largest
    # τ/span ≤ 0.003 (seeds 0-2, both move sets)
    good = sphere_pt(net, [0.25, 0.5, 1.0], n_replicas=4, n_sweeps=2000, burn_in=500, every=1,
                     swap_every=1, seed=1, moves=moves)
    assert isinstance(good, SpherePTResult) and good.settings["moves"] == moves
    assert good.converged, good.message
    assert good.swap_rate.min() > 10 * convergence.SWAP_FLOOR
    assert good.round_trips.min() > 50
    d = _contract(good)
    assert d["betas"] == [0.25, 0.5, 1.0] and d["T"] == [4.0, 2.0, 1.0]
    # 30 sweeps at β = 0.5, 5: τ/span ≥ 0.04 and chains without a traversal
    bad = sphere_pt(net, [0.5, 5.0], n_replicas=4, n_sweeps=30, burn_in=0, every=1,
                    swap_every=1, seed=0, moves=moves)
    assert not bad.converged
    _contract(bad)


def test_sphere_names_are_one_family() -> None:
    from replicasolve.engines import sphere
    from replicasolve.studies import landscape_check

    assert sphere.MCResult is SphereMCResult and sphere.PTResult is SpherePTResult
    assert SpherePT is SpherePTResult and landscape_check.SpherePT is SpherePTResult
    assert landscape_check.pt_sphere is pt_sphere
    net = SphereMLP.random(6, [8], "tanh", 1.0, 0.0, seed=0)
    r = pt_sphere(net, [1.0], n_replicas=3, n_sweeps=200, burn_in=50, seed=0)
    assert r.settings["moves"] == "pair" and r.swap_rate.size == 0
    _contract(r)
