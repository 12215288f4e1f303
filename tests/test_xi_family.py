"""Every route to ξ(q) through the one entry point returns the one family (XiResult), with
the same interface, accepted by MixedPSpin; routes that both apply agree."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.closed_xi import ClosedXi
from replicasolve.kernels.compose import XI_TIERS, XiFunction, xi_function
from replicasolve.kernels.dual import TIERS
from replicasolve.kernels.shaped import ShapedReLUXi, SmoothShapedXi
from replicasolve.kernels.xi import XiResult
from replicasolve.models.pspin import MixedPSpin
from replicasolve.results import Result

# (arguments, keywords, expected class, expected tier) for every route of xi_function
ROUTES = [
    (("erf", 2, 1.5, 0.1), {}, XiFunction, "closed"),
    (("erf", 2, 1.5, 0.1), {"tier": "closed"}, ClosedXi, "closed"),
    (("erf", 2, 1.5, 0.1), {"tier": "quadrature"}, XiFunction, "quadrature"),
    (("tanh", 2, 1.5, 0.0), {}, XiFunction, "quadrature"),
    (("relu", math.inf), {"shape": (0.3, -0.8)}, ShapedReLUXi, "ode"),
    (("tanh", math.inf), {"shape": 1.0, "tier": "ode"}, SmoothShapedXi, "ode"),
]
IDS = ["auto", "closed", "quadrature", "auto-no-closed-form", "shaped-relu", "shaped-smooth"]
SUMMARY_KEYS = {"kind", "activation", "depth", "tier", "q", "xi", "xi_error", "converged",
                "message"}


@pytest.mark.parametrize(("args", "kwargs", "cls", "tier"), ROUTES, ids=IDS)
def test_every_route_is_one_family(args, kwargs, cls, tier) -> None:
    xi = xi_function(*args, **kwargs)
    assert isinstance(xi, cls) and isinstance(xi, XiResult) and isinstance(xi, Result)
    assert xi.tier == tier
    # every reported tier word comes from the one vocabulary
    assert xi.tier in XI_TIERS and (tier == "ode" or tier in TIERS)
    q = np.array([[-0.5, 0.0], [0.5, 0.9]])
    values = xi.derivatives(q)
    errors = xi.errors_at(q)
    assert len(values) == 4 and len(errors) == 4
    for v, e in zip(values, errors, strict=True):
        assert np.shape(v) == q.shape and np.shape(e) == q.shape
        ok = np.isfinite(v)
        assert np.all(e[ok] >= 0) and np.all(np.isnan(e[~ok]))
    np.testing.assert_array_equal(xi(q), values[0])
    np.testing.assert_array_equal(xi.error(q), errors[0])
    assert np.all(np.isfinite(values[0])) and np.all(np.isfinite(values[1]))
    assert np.ndim(xi(0.3)) == 0
    with pytest.raises(InvalidInputError, match="q"):
        xi(1.5)
    assert xi.converged is True and xi.message == ""
    d = xi.to_dict()
    assert SUMMARY_KEYS <= set(d) and d["kind"] == cls.__name__ and d["tier"] == tier
    json.dumps(d, allow_nan=False)  # strict JSON
    text = xi.table()
    assert text.splitlines()[0] == cls.__name__ and text.splitlines()[-1].endswith("True")
    # any member is a covariance for the p-spin models
    model = MixedPSpin(xi, spins="spherical")
    np.testing.assert_allclose(model.xi.derivatives(np.array([0.5]))[0], xi(np.array([0.5])))


def test_converged_is_honest_for_a_kink_by_quadrature() -> None:
    # ReLU by quadrature converges like 1/order: ~3e-3 off at order 200, and says so
    xi = xi_function("relu", 2, 2.0, 0.0, tier="quadrature")
    assert xi.converged is False and "exceeds" in xi.message
    assert xi.to_dict()["converged"] is False
    assert xi_function("relu", 2, 2.0, 0.0).converged is True  # the closed-form maps


@pytest.mark.parametrize(("name", "sw", "sb", "order"), [("relu", 2.0, 0.0, 200),
                                                         ("erf", 1.5, 0.1, 100)])
def test_closed_and_quadrature_agree(name: str, sw: float, sb: float, order: int) -> None:
    """The symbolic closed form vs the tables built by quadrature alone, at depth 2.

    The tolerance is the quadrature's own convergence, measured here: with the maximal
    differences d1 = |ξ_{n/4} - ξ_{n/2}| and d2 = |ξ_{n/2} - ξ_n| and the observed rate
    r = d1/d2 (error ∝ n^{-p}, r = 2^p: ~2 for the kink of ReLU, ~10³ for erf, spectral),
    the error of ξ_n is d2/(r - 1) by the geometric series; a factor 2 covers its
    pointwise wobble (ReLU: 1.33 observed)."""
    q = np.linspace(-1.0, 1.0, 21)
    closed = xi_function(name, 2, sw, sb, tier="closed")
    quad = [xi_function(name, 2, sw, sb, tier="quadrature", order=n)(q)
            for n in (order // 4, order // 2, order)]
    d1 = float(np.max(np.abs(quad[0] - quad[1])))
    d2 = float(np.max(np.abs(quad[1] - quad[2])))
    rate = d1 / d2
    assert rate > 1.5, (d1, d2)  # the quadrature converges at the orders used
    tol = 2 * d2 / (rate - 1)
    true = np.abs(closed(q) - quad[2])
    assert np.all(true <= tol), (true.max(), tol)
    # not vacuous: the tolerance tells the orders apart (the coarsest misses it), and is
    # below 1% of ξ (ReLU at order 200: ~3e-3 of ξ(1) = 2; erf: ~4e-11)
    assert np.max(np.abs(closed(q) - quad[0])) > tol
    assert tol < 1e-2 * np.max(np.abs(closed(q)))


def test_shaped_route_is_the_building_block() -> None:
    q = np.array([0.0, 0.4, 0.97])
    got = xi_function("relu", math.inf, shape=(0.3, -0.8))
    np.testing.assert_array_equal(got.derivatives(q), ShapedReLUXi(0.3, -0.8).derivatives(q))
    got = xi_function("tanh", math.inf, shape=0.7)
    np.testing.assert_array_equal(got.derivatives(q),
                                  SmoothShapedXi("tanh", 0.7).derivatives(q))
    # the limit's own error (ODE tolerance) is tiny; ξ''(-1) of shaped ReLU is not provided
    x = ShapedReLUXi(0.3, -0.8)
    assert np.all(x.error(q) < 1e-10)
    assert np.isnan(x.derivatives(np.array([-1.0]))[2][0])


def test_tier_spellings_and_bad_requests() -> None:
    assert isinstance(xi_function("erf", 1, 1.5, 0.1, tier="closed form"), ClosedXi)
    assert isinstance(xi_function("tanh", math.inf, shape=1.0, tier="shaped"), SmoothShapedXi)
    with pytest.raises(InvalidInputError, match="tier"):
        xi_function("erf", 1, tier="hermite")
    with pytest.raises(InvalidInputError, match="closed-form"):
        xi_function("tanh", 1, tier="closed")
    with pytest.raises(InvalidInputError, match="shape"):
        xi_function("tanh", math.inf)
    with pytest.raises(InvalidInputError, match=r"math\.inf"):
        xi_function("tanh", 5, shape=1.0)
    with pytest.raises(InvalidInputError, match="shapes relu"):
        xi_function("tanh", math.inf, shape=(0.3, -0.8))
    with pytest.raises(InvalidInputError, match="defaults"):
        xi_function("tanh", math.inf, 2.0, shape=1.0)
    with pytest.raises(InvalidInputError, match="phi'\\(0\\) = 1"):
        xi_function("sin(2*x)", math.inf, shape=1.0)
    with pytest.raises(InvalidInputError, match="'ode'"):
        xi_function("tanh", math.inf, shape=1.0, tier="quadrature")


@pytest.mark.parametrize(("args", "kwargs", "cls", "tier"), ROUTES, ids=IDS)
def test_errors_is_the_contracts_dict(args, kwargs, cls, tier) -> None:
    # the scalar summary of the per-q estimates: their maximum of xi's error on [-1, 1]
    xi = xi_function(*args, **kwargs)
    grid = np.linspace(-1.0, 1.0, 65)
    assert set(xi.errors) == {"xi_error"}
    assert xi.errors["xi_error"] == pytest.approx(float(np.max(xi.error(grid))), rel=0, abs=0)
