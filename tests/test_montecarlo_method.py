"""Monte Carlo as a method object: ``rs.solve(instance, MonteCarlo(...))``.

Checks: the method gives bitwise the engine's own result for the same settings (the
dispatch adds nothing), its energy agrees with an exact Boltzmann sum over all 2^N states
(an independent route; tolerance 5 standard errors from the scatter of independent seeds,
as in ``test_mc_ising.py``), a ladder gives parallel tempering, and every bad setting is
refused when the method is built, before any work.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import replicasolve as rs
from replicasolve.engines.ising import IsingSystem, parallel_tempering, run_replicas
from replicasolve.errors import InvalidInputError
from replicasolve.tap.bonds import DenseBonds, random_layered


def _exact_energy(J: np.ndarray, T: float) -> float:
    """⟨H⟩/N with H = -½ sᵀJs, by summing over all 2^N states."""
    n = J.shape[0]
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states)
    w = np.exp(-(e - e.min()) / T)
    return float(w @ e / w.sum()) / n


def test_same_result_as_the_engine() -> None:
    bonds = random_layered([5, 4, 3], 2.0, seed=2)
    mc = rs.MonteCarlo(T=1.2, replicas=4, sweeps=300, burn_in=50, seed=9)
    via_method = rs.solve(bonds, mc)
    direct = run_replicas(IsingSystem.layered(bonds), 1.2, replicas=4, sweeps=300,
                          burn_in=50, seed=9)
    assert np.array_equal(via_method.energies, direct.energies)
    assert np.array_equal(via_method.overlaps, direct.overlaps)
    assert via_method.T == 1.2
    d = via_method.to_dict()
    assert d["kind"] == "MCResult" and set(via_method.errors) >= {"energy_error"}


def test_energy_matches_exact_sum() -> None:
    J = DenseBonds.sk(10, seed=4).J
    T = 0.9
    exact = _exact_energy(J, T)
    values = [rs.solve(DenseBonds(J), rs.MonteCarlo(T=T, replicas=8, sweeps=2000,
                                                    burn_in=200, seed=s)).energy.value
              for s in range(6)]
    se = np.std(values, ddof=1) / math.sqrt(len(values))
    assert se > 0
    assert abs(np.mean(values) - exact) < 5 * se, (np.mean(values), exact, se)


def test_a_ladder_is_parallel_tempering() -> None:
    system = IsingSystem.dense(DenseBonds.sk(12, seed=1).J)
    ladder = [0.6, 0.9, 1.4]
    r = rs.solve(system, rs.MonteCarlo(T=ladder, replicas=3, sweeps=200, burn_in=20, seed=5))
    direct = parallel_tempering(system, ladder, replicas_per_T=3, sweeps=200, burn_in=20, seed=5)
    assert type(r).__name__ == "PTResult"
    assert np.array_equal(r.T, np.array(ladder))
    for a, b in zip(r.results, direct.results, strict=True):
        assert np.array_equal(a.energies, b.energies)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"T": 0.0}, "temperature"),
    ({"T": float("nan")}, "temperature"),
    ({"T": [1.0, 0.5]}, "increasing"),
    ({"T": [1.0]}, "ladder"),
    ({"T": 1.0, "replicas": 1}, "replicas must be >= 2"),
    ({"T": 1.0, "replicas": 2.5}, "whole number"),
    ({"T": 1.0, "sweeps": 0}, "sweeps"),
    ({"T": 1.0, "burn_in": -1}, "burn_in"),
    ({"T": 1.0, "sweeps": 10, "measure_every": 11}, "measure_every"),
    ({"T": 1.0, "update": "wolff"}, "method must be one of"),
    ({"T": 1.0, "dtype": "float16"}, "dtype"),
    ({"T": 1.0, "start": "warm"}, "start"),
    ({"T": 1.0, "seed": -3}, "seed"),
    ({"T": 1.0, "threads": 0}, "threads"),
    ({"T": 1.0, "overlaps": "yes"}, "overlaps"),
])
def test_bad_settings_refused_on_construction(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        rs.MonteCarlo(**kwargs)


def test_wrong_problem_or_options_refused() -> None:
    mc = rs.MonteCarlo(T=1.0, replicas=2, sweeps=10, burn_in=0)
    with pytest.raises(InvalidInputError, match="samples an IsingSystem"):
        rs.solve(rs.MixedPSpin("q**2/2"), mc)
    with pytest.raises(InvalidInputError, match="takes no options"):
        rs.solve(random_layered([3, 3], 1.0, seed=0), mc, options={"sweeps": 5})
    with pytest.raises(InvalidInputError, match="MonteCarlo"):
        rs.solve(IsingSystem.dense(DenseBonds.sk(4, seed=0).J))
