"""The finite-width result classes on the library's one result contract
(:class:`replicasolve.results.Result`): ``converged``, ``errors``, a JSON-ready ``to_dict()``
and ``table()``, each built from the cheapest real solve (tanh at α = 4, T = 1, where the RS
saddle is stable; sin at α = 8 for a replicon boundary)."""

from __future__ import annotations

import json
import math

import pytest

from replicasolve.results import Result
from replicasolve.solvers.finite_width.deep import (
    DeepRepliconResult,
    RepliconBoundary,
    finite_width_replicon_deep,
    replicon_boundary,
)
from replicasolve.solvers.finite_width.deep_rsb import FiniteWidth1RSBDeep, finite_width_1rsb_deep
from replicasolve.solvers.finite_width.krsb import FiniteWidthKRSB, finite_width_krsb
from replicasolve.solvers.finite_width.rs import FiniteWidthResult, finite_width_rs
from replicasolve.solvers.finite_width.rsb import FiniteWidth1RSB, finite_width_1rsb

ARGS = ("tanh", 1.0, 0.0, 4.0, 1.0)  # activation, σ_w², σ_b², α, T


def _round_trip(r: Result) -> dict:
    """``to_dict`` through JSON text and back (strict: no NaN/inf tokens)."""
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["kind"] == type(r).__name__
    assert d["converged"] is bool(r.converged)
    assert isinstance(r.table(), str) and "converged" in r.table()
    return d


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and b is None)


def test_rs_result_contract() -> None:
    r = finite_width_rs(*ARGS)
    assert isinstance(r, (FiniteWidthResult, Result))
    assert r.converged is True
    d = _round_trip(r)
    assert d["free_energy"] == r.free_energy and d["T"] == r.T == 1.0
    assert set(r.errors) == {"resolution"}
    assert r.quadrature_error == r.resolution  # the former name, read-only
    with pytest.raises(AttributeError):
        r.quadrature_error = 0.0  # type: ignore[misc]
    # honest: one iteration with an unreachable tolerance is reported as not converged
    bad = finite_width_rs(*ARGS, tol=1e-300, max_iter=1)
    assert bad.converged is False
    assert _round_trip(bad)["converged"] is False


def test_deep_replicon_result_contract() -> None:
    r = finite_width_replicon_deep(*ARGS, 1)
    assert isinstance(r, (DeepRepliconResult, Result))
    assert r.converged is True and r.stable
    d = _round_trip(r)
    assert d["replicon"] == r.replicon
    assert d["saddle"]["free_energy"] == r.saddle.free_energy  # the saddle, nested
    assert set(r.errors) == {"resolution"} and r.quadrature_error == r.resolution
    assert r.T == 1.0 and r.q == r.saddle.q


def test_replicon_boundary_contract() -> None:
    none = replicon_boundary("tanh", 1.0, 0.0, 4.0, 1, (0.5, 1.0), points=2)
    assert isinstance(none, (RepliconBoundary, Result))
    assert none.converged is True and not none.found and none.T is None
    d = _round_trip(none)
    assert d["T"] is None and none.errors == {}
    found = replicon_boundary("sin", 2.0, 0.0, 8.0, 1, (0.4, 0.7), points=2, xtol=1e-3)
    assert found.converged is True and found.found and found.T is not None
    assert _round_trip(found)["T"] == found.T
    assert set(found.errors) == {"T_error"} and found.errors["T_error"] >= 1e-3


def test_krsb_result_contract() -> None:
    r = finite_width_krsb(*ARGS, 1)
    assert isinstance(r, (FiniteWidthKRSB, Result))
    assert r.converged is True
    d = _round_trip(r)
    assert d["free_energy"] == r.free_energy and d["T"] == r.T == 1.0
    assert d["gain"] == r.gain and r.gain_rs == r.gain  # the former name, read-only
    assert set(r.errors) == {"resolution"}  # gain_resolution is an array (one per step)
    assert len(d["gain_resolution"]) == 1


def test_one_rsb_result_contract() -> None:
    r = finite_width_1rsb(*ARGS)
    assert isinstance(r, (FiniteWidth1RSB, Result))
    assert r.converged is True
    d = _round_trip(r)
    assert d["free_energy"] == r.free_energy and d["T"] == r.T == 1.0
    assert set(r.errors) == {"resolution"} and r.gain_resolution == r.resolution
    # the keywords it forwards to finite_width_krsb are explicit now
    with pytest.raises(TypeError):
        finite_width_1rsb(*ARGS, no_such_option=1)  # type: ignore[call-arg]
    unchecked = finite_width_1rsb(*ARGS, check_resolution=False)
    assert unchecked.errors == {} and _same(unchecked.resolution,
                                            _round_trip(unchecked)["resolution"])


def test_deep_one_rsb_result_contract() -> None:
    r = finite_width_1rsb_deep(*ARGS, depth=1, order=16, inner=4, zeta_points=4, maxiter=5)
    assert isinstance(r, (FiniteWidth1RSBDeep, Result))
    assert r.converged is True
    d = _round_trip(r)
    assert d["free_energy"] == r.free_energy and d["T"] == r.T == 1.0
    assert d["entropy"] == pytest.approx((r.energy - r.free_energy) / r.T, abs=1e-14)
    assert set(r.errors) == {"resolution"}
