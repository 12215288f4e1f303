"""The studies' results on the library's result contract (replicasolve.results.Result).

Each result is built from the cheapest real run (small N, few sweeps): ``converged`` takes
the expected verdict (both ways where a cheap failing case exists), ``to_dict()`` is JSON
and compact, ``table()`` a str, and ``to_xarray()`` has its named coordinates.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from replicasolve.results import Result
from replicasolve.solvers.landscape import character
from replicasolve.studies.theory_check import (
    BinderCrossing,
    BinderCurve,
    Crossing,
    EnergyFit,
    EnergyTrend,
    PTDiagnostics,
    binder_crossing,
    binder_curve,
    fit_energy_trend,
    sk_energy_trend,
)

# a short grid well above SK's T_c = sqrt(2) (C = 2): fast decorrelation, 400 sweeps are
# hundreds of autocorrelation times
_HOT = np.array([1.6, 2.0, 2.5, 3.2])


def _contract(r: Result, *, max_chars: int = 20000) -> dict:
    assert isinstance(r, Result)
    assert isinstance(r.converged, bool)
    d = r.to_dict()
    text = json.dumps(d)
    assert len(text) < max_chars  # a summary, not the raw series
    assert d["converged"] is r.converged
    assert isinstance(r.table(), str) and "converged" in r.table()
    assert isinstance(r.errors, dict)
    return d


def test_binder_curve_converged_on_a_long_hot_run_and_its_contract():
    cur = binder_curve(8, _HOT, samples=3, sweeps=400, tap=False)
    assert isinstance(cur, BinderCurve) and isinstance(cur.diagnostics, PTDiagnostics)
    assert cur.diagnostics.runs == 3 and cur.diagnostics.runs_converged == 3
    assert cur.converged and cur.diagnostics.converged and cur.message == ""
    d = _contract(cur)
    assert "sample_q2" not in d and len(d["binder"]) == _HOT.size
    _contract(cur.diagnostics)
    ds = cur.to_xarray()
    assert set(ds.coords) == {"T", "sample"}
    np.testing.assert_allclose(ds["T"].values, _HOT)
    assert ds["binder"].dims == ("T",) and ds["sample_q2"].dims == ("sample", "T")
    np.testing.assert_allclose(ds["binder"].values, cur.binder)


def test_binder_curve_not_converged_on_a_too_short_run():
    cur = binder_curve(8, _HOT, samples=2, sweeps=8, tap=False)
    assert not cur.converged
    assert cur.diagnostics.runs_converged < cur.diagnostics.runs
    assert "PT runs not converged" in cur.message
    d = _contract(cur)
    assert d["message"] == cur.message


def test_diagnostics_without_run_verdicts_are_not_converged():
    z = np.zeros(3)
    diag = PTDiagnostics(0.5, 3.0, z, z)
    assert diag.passed and not diag.converged and "no run verdicts" in diag.message
    ok = PTDiagnostics(0.5, 3.0, z, z, runs=2, runs_converged=2)
    assert ok.converged
    _contract(diag)


def test_binder_crossing_converged_and_not():
    temps = np.geomspace(0.5, 2.0, 8)
    good = binder_crossing([8, 16], temps, variance=1.0, samples=[8, 8], sweeps=600,
                           tap=False, n_boot=50, seed=1)
    assert isinstance(good, BinderCrossing) and isinstance(good.crossings[0], Crossing)
    assert good.converged and good.crossings[0].converged and good.message == ""
    d = _contract(good)
    assert d["curves"][0]["kind"] == "BinderCurve"
    _contract(good.crossings[0])
    ds = good.to_xarray()
    assert set(ds.coords) == {"N", "T"}
    assert list(ds["N"].values) == [8, 16] and ds["binder"].dims == ("N", "T")
    np.testing.assert_allclose(ds["T"].values, temps)
    # same runs, another seed: the curves never cross on the grid
    bad = binder_crossing([8, 16], temps, variance=1.0, samples=[8, 8], sweeps=600,
                          tap=False, n_boot=50, seed=0)
    assert not bad.crossings[0].converged and not bad.converged
    assert "no crossing" in bad.message
    _contract(bad)


def test_energy_fit_contract():
    n = np.array([16.0, 32.0, 64.0, 128.0])
    e = -0.76 + 0.3 * n ** (-2 / 3)
    fit = fit_energy_trend(n, e, np.full(4, 1e-3))
    assert isinstance(fit, EnergyFit) and fit.converged
    assert set(fit.errors) == {"e_inf_err", "amplitude_err"}
    _contract(fit)
    nan_fit = EnergyFit(float("nan"), float("nan"), 0.0, 0.0, 2 / 3, float("nan"), 0.0, 0,
                        False)
    assert not nan_fit.converged


def test_energy_trend_converged_and_not():
    good = sk_energy_trend([8, 12, 16], 0.8, samples=6, sweeps=500, theory=False, seed=1)
    assert isinstance(good, EnergyTrend)
    assert list(good.runs_converged) == [6, 6, 6]
    assert good.converged and good.message == ""
    d = _contract(good)
    assert d["fit"]["kind"] == "EnergyFit" and "sample_energy" not in d
    ds = good.to_xarray()
    assert set(ds.coords) == {"N"} and list(ds["N"].values) == [8, 12, 16]
    bad = sk_energy_trend([8, 12], 0.8, samples=2, sweeps=4, theory=False, seed=1)
    assert not bad.converged and "PT runs not converged" in bad.message
    _contract(bad)


def test_overlap_theory_converged_from_its_solves():
    from replicasolve.studies.landscape_check import OverlapTheory, RSBLevel, overlap_theory

    th = overlap_theory("sin", 2.0, 0.0, 1.0, 0.5, kmax=1)
    assert isinstance(th, OverlapTheory) and th.converged and th.message == ""
    assert all(isinstance(lv, RSBLevel) and lv.converged for lv in th.levels)
    d = _contract(th)
    assert [lv["k"] for lv in d["levels"]] == [0, 1]
    _contract(th.levels[1])
    assert "energy_error" in th.levels[0].errors
    # built by hand, nothing says the solves converged
    lv = RSBLevel(0, np.array([0.4]), np.zeros(0), np.array([1.0]), 1.0, -0.8, 1e-7, 0.4,
                  0.0, 0.0)
    assert not lv.converged


def test_landscape_character_converged_from_its_solves():
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.landscape import LandscapeCharacter

    land = RandomMLPLandscape("x", 2, 1.3, 0.1)
    ch = character(land, 0.5)
    assert isinstance(ch, LandscapeCharacter) and ch.label == "RS"
    assert ch.converged and ch.message == ""
    _contract(ch)


def test_spin_model_construction_is_a_settings_record():
    from replicasolve.studies.descriptor import SpinModelConstruction, network_spin_model

    rng = np.random.default_rng(0)
    s = network_spin_model([rng.normal(size=(4, 3)), rng.normal(size=(2, 4))])
    c = s.construction
    assert isinstance(c, SpinModelConstruction) and not isinstance(c, Result)
    json.dumps(c.to_dict())


@pytest.mark.parametrize("cls", [PTDiagnostics, BinderCurve, Crossing, BinderCrossing,
                                 EnergyFit, EnergyTrend])
def test_every_study_result_derives_from_result(cls):
    assert issubclass(cls, Result)
