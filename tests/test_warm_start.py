"""Warm starts: ``solve(..., start=...)``, warm sweeps along an axis, the classified diagram.

The reference everywhere is the cold solve of the same problem: a warm start may change how
the optimiser gets there, never where it ends up. Free energies are compared to 1e-9 (the
house accuracy target; both solves stop at a projected-gradient residual r <= tol = 1e-6,
which moves f by O(r²)). Order parameters are compared to the distance two such stationary
points of a locally strongly convex problem can be apart, (r_cold + r_warm) / λ_min, with
λ_min the smallest eigenvalue of the functional's Hessian in the free variables (finite
differences of the solver's own analytic gradient): a different stationary point, the
failure a bad warm start causes, is farther away than that.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.pspin import MixedPSpin
from replicasolve.solvers import RSB, FullRSB, Options, solve
from replicasolve.solvers.classify import at_field, at_temperature, classify_detail
from replicasolve.solvers.result import seed_of, warm_seeds
from replicasolve.sweeps import execute, load_spec, run_sweep
from replicasolve.sweeps.quantities import MODELS
from replicasolve.sweeps.spec import WARM_SEGMENT
from replicasolve.sweeps.store import PointStore

SK = "q**2/2"
XI_FRSB = "q**2/2 + q**4/48"  # spherical: ξ''^(-1/2) concave, full RSB at low T


def _hess_min(model, seed) -> float:
    """Smallest Hessian eigenvalue of the k-step functional (T > 0) at ``seed`` in its free
    variables (q, x), by central differences of the solver's analytic gradient."""
    k = seed.k
    v = np.concatenate([seed.q, seed.levels])
    if model.spins == "ising":
        from replicasolve.solvers.ising import _Problem

        prob = _Problem(model, k, Options(), float(model.T))
        grad = prob.jac
    else:
        from replicasolve.solvers.spherical import parisi_functional

        def grad(w):
            return parisi_functional(model, w[: k + 1], w[k + 1:])[1]
    lo = np.concatenate([np.zeros(k + 1), np.zeros(k)])
    hi = np.concatenate([np.ones(k + 1), np.ones(k)])
    free = np.nonzero((v > lo + 1e-7) & (v < hi - 1e-7))[0]
    h = 1e-6
    H = np.empty((free.size, free.size))
    for a, i in enumerate(free):
        d = np.zeros_like(v)
        d[i] = h
        H[:, a] = ((grad(v + d) - grad(v - d)) / (2 * h))[free]
    return float(np.linalg.eigvalsh(0.5 * (H + H.T))[0])


def _assert_same(cold, warm) -> None:
    assert cold.converged and warm.converged
    assert warm.free_energy == pytest.approx(cold.free_energy, abs=1e-9)
    assert warm.value == pytest.approx(cold.value, abs=1e-9)
    for a, b in zip(cold.sequence, warm.sequence, strict=True):
        assert a.k == b.k and b.free_energy == pytest.approx(a.free_energy, abs=1e-9)
    if cold.method == "FRSB" or cold.T == 0:
        return
    sc, sw = seed_of(cold), seed_of(warm)
    assert sc.k == sw.k  # the same number of genuine steps
    if sc.k == 0:
        return
    lam = _hess_min(cold.model, sc)
    # the difference quotients resolve eigenvalues down to ~1e-10 (gradient rounding
    # ~1e-16 over the step 1e-6): the cases here are chosen well above that
    assert lam > 1e-8
    bound = (cold.residual + warm.residual) / lam + 1e-12
    assert np.max(np.abs(sc.q - sw.q)) <= bound
    assert np.max(np.abs(sc.levels - sw.levels)) <= bound


def _warm(model, method, start_model, options=None):
    start = solve(start_model, method, options)
    assert start.converged
    warm = solve(model, method, options, start=start)
    return warm, start


# ----------------------------------------------------------------------------- the solvers


@pytest.mark.parametrize(("xi", "spins", "T", "h", "method"), [
    (SK, "ising", 0.5, 0.3, RSB(1)),
    (SK, "ising", 0.5, 0.3, RSB(2)),
    (SK, "ising", 0.5, 0.3, FullRSB(ks=(1, 2, 3))),
    ("q**2/4 + q**3/4", "ising", 0.4, 0.0, RSB(2)),
    ("q**3", "spherical", 0.5, 0.0, RSB(1)),
    ("q**3", "spherical", 0.5, 0.0, RSB(2)),
    ("q**3", "spherical", 0.5, 0.0, FullRSB()),
    (XI_FRSB, "spherical", 0.3, 0.0, RSB(3)),
    (XI_FRSB, "spherical", 0.3, 0.2, FullRSB()),
    (XI_FRSB, "spherical", 0.0, 0.0, FullRSB()),
])
def test_warm_equals_cold(xi, spins, T, h, method) -> None:
    model = MixedPSpin(xi, spins=spins, T=T, field=h)
    # the neighbour along T (along the field at T = 0), a typical sweep step
    near = model.at(T=T + 0.02) if T > 0 else model.at(field=h + 0.02)
    warm, _ = _warm(model, method, near)
    # the seeds were used, not silently dropped
    assert warm.settings["warm_start"].startswith("seeded k = [") and \
        not warm.settings["warm_start"].startswith("seeded k = []")
    _assert_same(solve(model, method), warm)


def test_ising_frsb_ladder_warm_is_never_worse() -> None:
    # Beyond k = 3 the Ising k-step problems of SK have several stationary points within
    # ~1e-8 of each other, and the cold ladder does not always end on the best one (the
    # extrapolation error it reports is then ~1e-8 too). f is a maximum over x, so the test
    # a warm start must pass is: no k-step value below the cold one beyond the solver's
    # accuracy, and equality where the optimum is unambiguous (k <= 3, checked to 1e-9).
    # That accuracy is the target of the default Options, ~1e-9 relative in f (its
    # tol = 1e-6 bounds the gradient, not f; ising.py's 1e-10 monotonicity slack is a
    # rounding allowance between levels, not a bound on which optimum is found). Which of
    # the nearby optima each ladder ends on follows the last bits of the BLAS kernels:
    # measured at k = 6, warm - cold was +3.4e-9 (SkylakeX and Haswell OpenBLAS kernels),
    # +9.9e-11 (Sandybridge) and -3.6e-10 on another machine
    model = MixedPSpin(SK, T=0.5, field=0.3)
    method = FullRSB(ks=(2, 3, 4, 5, 6))
    cold = solve(model, method)
    warm = solve(model, method, start=solve(model.at(T=0.52), method))
    assert warm.converged and cold.converged
    for a, b in zip(cold.sequence, warm.sequence, strict=True):
        assert b.free_energy >= a.free_energy - 1e-9 * max(1.0, abs(a.free_energy)), a.k
        if a.k <= 3:
            assert b.free_energy == pytest.approx(a.free_energy, abs=1e-9)


def test_warm_along_the_field_and_xi() -> None:
    # a neighbouring field (Ising T > 0) and a neighbouring ξ (spherical) seed as well
    sk = MixedPSpin(SK, T=0.5, field=0.3)
    warm, _ = _warm(sk, RSB(2), sk.at(field=0.25))
    _assert_same(solve(sk, RSB(2)), warm)
    mixed = MixedPSpin("q**2/2 + q**4/40", spins="spherical", T=0.3)
    start = solve(MixedPSpin(XI_FRSB, spins="spherical", T=0.3), RSB(3))
    _assert_same(solve(mixed, RSB(3)), solve(mixed, RSB(3), start=start))


def test_start_with_other_step_counts_is_adapted() -> None:
    sk = MixedPSpin(SK, T=0.5, field=0.3)
    near = sk.at(T=0.52)
    # more steps than needed (an FRSB start for 1RSB; its sequence holds k = 1), and fewer
    # (a 1RSB start for 3RSB: the ladder climbs from the seeded k = 1)
    frsb = solve(near, FullRSB(ks=(1, 2, 3)))
    _assert_same(solve(sk, RSB(1)), solve(sk, RSB(1), start=frsb))
    one = solve(near, RSB(1))
    _assert_same(solve(sk, RSB(3)), solve(sk, RSB(3), start=one))
    # a 2-step start with no 1-step result for a 1-step problem: its steps are merged
    sph = MixedPSpin(XI_FRSB, spins="spherical", T=0.3)
    two = solve(sph.at(T=0.32), RSB(2))
    warm = solve(sph, RSB(1), start=two)
    assert warm.settings["warm_start"].startswith("seeded k = [1]")
    _assert_same(solve(sph, RSB(1)), warm)


def test_collapsed_start_seeds_nothing_and_crossing_the_transition_is_safe() -> None:
    # SK at h = 0 is RS above T = 1: its 2-step solution has collapsed steps, which carry no
    # information (and sit at the RS saddle below T = 1): nothing is seeded, the solve is cold
    high = solve(MixedPSpin(SK, T=1.2), RSB(2))
    assert warm_seeds(high, 0.8) == {}
    low = MixedPSpin(SK, T=0.8)
    cold = solve(low, RSB(2))
    warm = solve(low, RSB(2), start=high)
    assert warm.free_energy == cold.free_energy and "warm_start" not in warm.settings
    # the other way: a 2-step start into the RS phase collapses onto the paramagnet
    # f = -T ln 2 - 1/(4T) (SK, h = 0, T > 1)
    para = solve(MixedPSpin(SK, T=1.05), RSB(2), start=cold)
    assert para.converged
    assert para.free_energy == pytest.approx(-1.05 * math.log(2) - 1 / 4.2, abs=1e-9)


def test_a_far_away_start_still_gives_the_cold_answer() -> None:
    # the start's order parameter is far from the target's (another temperature and field):
    # the optimiser must still find the same optimum (or fall back to the cold ladder)
    target = MixedPSpin(SK, T=0.5, field=0.3)
    far = solve(MixedPSpin(SK, T=0.2, field=0.0), RSB(2))
    _assert_same(solve(target, RSB(2)), solve(target, RSB(2), start=far))


def test_other_side_of_zero_temperature_is_not_a_seed() -> None:
    r = solve(MixedPSpin(XI_FRSB, spins="spherical", T=0.3), RSB(2))
    assert warm_seeds(r, 0.0) == {}
    seeds = warm_seeds(r, 0.31)
    assert seeds.keys() == {1, 2} and seeds[2].k == 2 and seeds[1].k == 1
    # the 1-step seed merges the two steps: the outer breakpoints stay, the level is the
    # width-weighted mean
    q, x = seeds[2].q, seeds[2].levels
    assert np.array_equal(seeds[1].q, q[[0, 2]])
    mean = ((q[1] - q[0]) * x[0] + (q[2] - q[1]) * x[1]) / (q[2] - q[0])
    assert seeds[1].levels[0] == pytest.approx(mean, rel=1e-14)


def test_unconverged_start_seeds_nothing() -> None:
    r = solve(MixedPSpin(SK, T=0.5, field=0.3), RSB(1))
    assert warm_seeds(dataclasses.replace(r, converged=False), 0.5) == {}


@pytest.mark.parametrize("bad", [1.0, {"q": [0.5]}, "rs", np.zeros(3)])
def test_bad_start_is_invalid_input(bad) -> None:
    with pytest.raises(InvalidInputError, match="start must be a ParisiResult"):
        solve(MixedPSpin(SK, T=0.5), RSB(1), start=bad)


def test_start_of_other_spins_is_invalid_input() -> None:
    sph = solve(MixedPSpin(SK, spins="spherical", T=0.5), RSB(1))
    with pytest.raises(InvalidInputError, match="spherical spins"):
        solve(MixedPSpin(SK, T=0.5), RSB(1), start=sph)
    with pytest.raises(InvalidInputError, match="Classification"):
        classify_detail(MixedPSpin(SK, T=0.5), start=sph)


# ----------------------------------------------------------------------------- classification


def test_sk_below_the_at_line_is_full_rsb() -> None:
    # independent reference: the de Almeida–Thouless line. For SK every point below it is
    # full RSB (Parisi); at T = 0.4, h_AT = 0.7945 (the RS replicon's root, checked against
    # direct quadrature in test_parisi_ising.py), so h = 0.75 is inside the FRSB phase
    model = MixedPSpin(SK, T=0.4, field=0.75)
    h_at = at_field(model)
    assert h_at == pytest.approx(0.7945, abs=1e-3) and 0.75 < h_at
    c = classify_detail(model)
    # the 2RSB gain is positive but tiny (~1e-11, below gain_tol = 1e-9): the gains alone
    # said "1RSB"; the 1RSB solution's negative replicon is what says full RSB
    assert c.gain2 > 0
    assert c.one.replicon < 0
    assert c.label == "FRSB"
    # just above the line, RS
    assert classify_detail(model.at(field=h_at + 0.02)).label == "RS"


@pytest.mark.parametrize(("h", "T", "T_at"), [
    (0.3, 0.6076923076923076, 0.6519), (0.6833333333333333, 0.40256410256410255, 0.4474)])
def test_cold_2rsb_finds_the_optimum_below_the_at_line(h, T, T_at) -> None:
    # SK below the AT line (T_AT is the RS replicon's root) is full RSB, so the 2RSB optimum
    # is a genuine two-step solution above the 1RSB one. The cold ladder's start (the 1RSB
    # jump split in two) used to end on a worse stationary point there: at h = 0.3 it
    # collapsed back onto 1RSB (gain 0), at h = 0.683 it stopped 4e-9 below the optimum.
    # The reference optimum is the one reached from a warm start at the neighbouring T
    # (both points are on the chains of benchmarks/bench_warm_start.py)
    model = MixedPSpin(SK, T=T, field=h)
    assert at_temperature(model) == pytest.approx(T_at, abs=1e-3) and T < T_at
    r1, r2 = solve(model, RSB(1)), solve(model, RSB(2))
    assert seed_of(r2).k == 2
    assert r2.free_energy - r1.free_energy > 1e-9
    warm = solve(model, RSB(2), start=solve(model.at(T=T - 0.0205), RSB(2)))
    assert warm.free_energy == pytest.approx(r2.free_energy, abs=1e-11)


def test_genuine_one_step_phases_stay_1rsb() -> None:
    # pure 3-spin spherical below T_s ≈ 0.586 and Ising ξ = q³/2 at T = 0.3 (above its
    # Gardner temperature): the 1RSB solution is stable (replicon > 0), no extra step helps
    for model in (MixedPSpin("q**3", spins="spherical", T=0.5),
                  MixedPSpin("q**3/2", spins="ising", T=0.3)):
        c = classify_detail(model)
        assert c.one.replicon > 0 and c.label == "1RSB"


def test_classification_warm_equals_cold() -> None:
    model = MixedPSpin(SK, T=0.5, field=0.3)
    start = classify_detail(model.at(T=0.52))
    warm = classify_detail(model, start=start)
    cold = classify_detail(model)
    assert warm.label == cold.label == "FRSB"
    assert warm.two.free_energy == pytest.approx(cold.two.free_energy, abs=1e-9)
    assert "warm_start" in warm.two.settings


# ----------------------------------------------------------------------------- sweeps


def _sph_spec(**solver) -> dict:
    return {"quantity": "free_energy",
            "model": {"kind": "pspin", "xi": XI_FRSB, "spins": "spherical"},
            "axes": {"field": [0.0, 0.2], "T": [0.2, 0.25, 0.3, 0.35, 0.45]},
            "solver": {"method": "3rsb", **solver}}


def _seeded_calls(monkeypatch, kind="pspin", quantity="free_energy") -> list:
    """Wrap the quantity's seeded form: records (flat T value, whether a start was given)."""
    calls: list = []
    q = MODELS[kind].quantities[quantity]

    def seeded(params, solver, start):
        calls.append((params.get("field"), params["T"], start is not None))
        return q.seeded(params, solver, start)

    monkeypatch.setitem(MODELS[kind].quantities, quantity, dataclasses.replace(q, seeded=seeded))
    return calls


def test_warm_sweep_matches_the_cold_sweep(tmp_path, monkeypatch) -> None:
    calls = _seeded_calls(monkeypatch)
    warm = run_sweep(_sph_spec(), tmp_path / "w.nc", workers=1, progress=False)
    # the default warm axis is the last one (T): each field value is one chain, cold first
    assert [c[2] for c in calls] == [False, True, True, True, True] * 2
    cold = run_sweep(_sph_spec(warm_start=False), tmp_path / "c.nc", workers=1,
                     progress=False)
    assert len(calls) == 10  # the cold sweep does not go through the seeded form
    np.testing.assert_allclose(warm.free_energy.values, cold.free_energy.values,
                               rtol=0, atol=1e-9)
    assert (warm.converged.values == 1).all()


def test_warm_sweep_along_a_named_axis_and_an_ising_model(tmp_path) -> None:
    spec = {"quantity": "free_energy", "model": {"kind": "pspin", "xi": SK},
            "axes": {"T": [0.45, 0.5], "field": [0.2, 0.3, 0.4]},
            "solver": {"method": "1rsb", "warm_axis": "field"}}
    s = load_spec(spec)
    assert s.warm_axis == "field" and s.chains(range(6)) == [[0, 1, 2], [3, 4, 5]]
    warm = run_sweep(spec, tmp_path / "w.nc", workers=1, progress=False)
    cold = run_sweep({**spec, "solver": {"method": "1rsb", "warm_start": False}},
                     tmp_path / "c.nc", workers=1, progress=False)
    np.testing.assert_allclose(warm.free_energy.values, cold.free_energy.values,
                               rtol=0, atol=1e-9)


def test_warm_sweep_is_identical_on_every_executor(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    serial = run_sweep(_sph_spec(), tmp_path / "s.nc", workers=1, progress=False)
    pool = run_sweep(_sph_spec(), tmp_path / "p.nc", workers=2, progress=False)
    xr.testing.assert_identical(serial, pool)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ds = run_sweep(_sph_spec(), tmp_path / "d.nc", executor="dask", scheduler=client,
                       progress=False)
    xr.testing.assert_identical(ds, serial)


def test_interrupted_chain_restarts_cold_from_the_first_missing_point(tmp_path,
                                                                      monkeypatch) -> None:
    whole = run_sweep(_sph_spec(), tmp_path / "whole.nc", workers=1, progress=False)
    out = tmp_path / "d.nc"
    spec = load_spec(_sph_spec())
    # a run killed in the middle of writing chain 2 (field = 0.2): chain 1 and the first
    # two points of chain 2 were stored
    records = []
    for i in range(7):
        p = spec.params_at(i)
        value = float(whole.free_energy.sel(field=p["field"], T=p["T"]))
        records.append({"i": i, "v": {"free_energy": value, "converged": 1}, "e": None})
    PointStore(out, spec).append(records)
    calls = _seeded_calls(monkeypatch)
    r = execute(_sph_spec(), out, workers=1, progress=False)
    assert r.reused == 7 and r.computed == 3
    # the missing points 7, 8, 9 (T = 0.3, 0.35, 0.45 at field 0.2): the first cold
    assert calls == [(0.2, 0.3, False), (0.2, 0.35, True), (0.2, 0.45, True)]
    np.testing.assert_allclose(r.dataset.free_energy.values, whole.free_energy.values,
                               rtol=0, atol=1e-9)


def test_chains_follow_the_warm_axis_gaps_and_segments() -> None:
    n = WARM_SEGMENT + 3
    spec = load_spec({"quantity": "free_energy", "model": {"kind": "pspin", "xi": SK},
                      "axes": {"T": [0.1 + 0.001 * i for i in range(n)], "field": [0.0, 0.1]},
                      "solver": {"warm_axis": "T"}})
    chains = spec.chains(range(spec.n_points))
    # field is the fast axis: points 0, 2, 4, ... are field = 0 along T; cut at the segment
    assert chains[0] == list(range(0, 2 * WARM_SEGMENT, 2))
    assert chains[1] == list(range(1, 2 * WARM_SEGMENT, 2))
    assert chains[2] == list(range(2 * WARM_SEGMENT, 2 * n, 2))
    # a stored point in the middle splits a chain
    some = [i for i in range(spec.n_points) if i != 10]
    assert [0, 2, 4, 6, 8] in spec.chains(some) and [12, 14] == spec.chains(some)[2][:2]
    cold = load_spec({"quantity": "T_c", "model": {"kind": "msk"}, "axes": {"depth": [1, 2]}})
    assert cold.warm_axis is None and cold.chains([0, 1]) == [[0], [1]]


@pytest.mark.parametrize(("solver", "words"), [
    ({"warm_start": 1}, "warm_start must be true or false"),
    ({"warm_axis": "h"}, "warm_axis must be one of the axes"),
    ({"warm_axis": "spins"}, "not a numeric axis"),
    ({"warm_start": False, "warm_axis": "T"}, "warm_axis needs warm_start"),
])
def test_bad_warm_settings(solver, words) -> None:
    spec = {"quantity": "free_energy", "model": {"kind": "pspin", "xi": SK},
            "axes": {"spins": ["ising", "spherical"], "T": [0.5, 0.6]}, "solver": solver}
    with pytest.raises(InvalidInputError, match=words):
        load_spec(spec)


def test_warm_start_refused_where_unsupported_and_string_axes_skipped() -> None:
    with pytest.raises(InvalidInputError, match=r"cannot be warm-started|takes no"):
        load_spec({"quantity": "T_c", "model": {"kind": "msk"}, "axes": {"depth": [1, 2]},
                   "solver": {"warm_start": True}})
    # the default warm axis is the last numeric one: never a string axis such as spins
    spec = load_spec({"quantity": "free_energy", "model": {"kind": "pspin", "xi": SK},
                      "axes": {"T": [0.5, 0.6], "spins": ["ising", "spherical"]}})
    assert spec.warm_axis == "T"


# ----------------------------------------------------------------------------- phase diagram


def test_classified_landscape_diagram_matches_cold_classification() -> None:
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers import phase
    from replicasolve.studies.landscape_diagram import landscape_phase_diagram

    temps = [0.05, 0.1, 0.15, 0.2]
    ds = landscape_phase_diagram("tanh", [2], temps, 1.5, 0.05, classify=True)
    land = RandomMLPLandscape("tanh", 2, 1.5, 0.05)
    codes = {"RS": 1, "1RSB": 2, "FRSB": 3}
    for j, T in enumerate(temps):
        if ds.phase.values[0, j] > 0:
            assert ds.phase.values[0, j] == codes[phase(land.model(T))]
    assert (ds.phase.values > 1).any()  # something was classified


@pytest.mark.parametrize("quantity", ["free_energy", "phase"])
def test_warm_landscape_sweep_matches_the_cold_sweep(tmp_path, monkeypatch, quantity) -> None:
    spec = {"quantity": quantity,
            "model": {"kind": "landscape", "activation": "tanh", "depth": 2,
                      "sigma_w2": 1.5, "sigma_b2": 0.05},
            "axes": {"T": [0.05, 0.1, 0.15, 0.2]}}
    calls = _seeded_calls(monkeypatch, "landscape", quantity)
    warm = run_sweep(spec, tmp_path / "w.nc", workers=1, progress=False)
    assert [c[2] for c in calls] == [False, True, True, True]
    cold = run_sweep({**spec, "solver": {"warm_start": False}}, tmp_path / "c.nc", workers=1,
                     progress=False)
    if quantity == "phase":
        assert (warm.phase.values == cold.phase.values).all() and (warm.phase.values > 0).any()
    else:
        np.testing.assert_allclose(warm.free_energy.values, cold.free_energy.values,
                                   rtol=0, atol=1e-9)


@pytest.mark.parametrize(("depth", "T", "T_start", "label"), [
    (2, 0.08, 0.06, "FRSB"), (4, 0.12, 0.10, "1RSB")])
def test_seeded_solution_collapsing_onto_rs_is_rejected(depth, T, T_start, label) -> None:
    # random tanh MLP landscapes (spherical): seeded from the neighbouring T, the 1RSB
    # optimiser used to slide onto the RS saddle (zero-width step, gain 0 instead of the cold
    # 1.6e-7 / 5.2e-6), which then mislabelled depth 4, T = 0.12 as FRSB. A seeded solution
    # with collapsed steps is now solved again the cold way
    from replicasolve.models.landscape import RandomMLPLandscape

    land = RandomMLPLandscape("tanh", depth, 1.5, 0.05)
    cold = classify_detail(land.model(T))
    warm = classify_detail(land.model(T), start=classify_detail(land.model(T_start)))
    assert cold.label == warm.label == label
    assert cold.gain1 > 1e-7
    assert warm.gain1 == pytest.approx(cold.gain1, abs=1e-12)
