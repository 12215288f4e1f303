"""The replica derivation of a random MLP landscape (replicasolve.derivation.landscape): ξ derived
by the kernel recursion, the spherical equations against the linear network's closed forms
and against the landscape solver."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from replicasolve.derivation.derivation import UnsupportedDerivationError
from replicasolve.derivation.landscape import (
    CHECK_TOLERANCE,
    FINITE_WIDTH_TOLERANCE,
    derive_finite_width,
    derive_landscape,
    landscape_xi,
)
from replicasolve.kernels.closed_xi import closed_xi
from replicasolve.kernels.compose import xi_function
from replicasolve.models.landscape import (
    FiniteWidthLandscape,
    RandomMLPLandscape,
    linear_landscape,
)
from replicasolve.solvers.methods import RS, RSB, FullRSB
from replicasolve.symbolic import replica_action as ra

Q = sp.Symbol("q", real=True)


def test_linear_network_xi_is_affine() -> None:
    # K_1 = σ_w² q + σ_b², and φ(x) = x maps K to σ_w² K + σ_b² per layer
    xi, _ = landscape_xi(RandomMLPLandscape("x", 2, 1.5, 0.1))
    assert sp.expand(xi - (sp.Rational(27, 8) * Q + sp.Rational(19, 40))) == 0


@pytest.mark.parametrize("T", [0.3, 1.0, 2.5])
def test_linear_network_matches_its_closed_forms(T: float) -> None:
    # linear_landscape (derivations/linear_mlp_landscape.py): the RS saddle is q = ρ²,
    # ρ = (sqrt(1 + 4β²a) - 1)/(2β sqrt(a)); the derived equations there hold to rounding
    land = RandomMLPLandscape("x", 1, 1.5, 0.1, T=T)
    a = 1.5 * 1.5
    ref = linear_landscape(a, T=T)
    d = derive_landscape(land, RS())
    v = d.evaluate(beta=1 / T, h=0.0, q_0=ref["overlap"])
    assert abs(v["saddle_q_0"]) <= 1e-12
    assert -v["free_energy"] * T == pytest.approx(ref["free_energy"], abs=1e-12)
    assert v["energy"] == pytest.approx(ref["energy"], abs=1e-12)
    assert v["entropy"] == pytest.approx(ref["entropy"], abs=1e-12)
    assert v["replicon"] > 0  # ξ'' = 0: RS at every T


@pytest.mark.parametrize(("act", "depth", "T", "ansatz"), [
    ("relu", 1, 0.5, RS()),
    ("erf", 2, 0.6, RS()),
    ("sin", 1, 0.4, RS()),
    ("relu", 1, 0.2, RSB(1)),
])
def test_check_against_the_landscape_solver(act: str, depth: int, T: float, ansatz) -> None:
    # solver at tol 1e-9 with ξ from the kernel tables; derived ξ exact: residuals are
    # rounding-level (seen ≤ 1e-14), held to CHECK_TOLERANCE = 1e-7
    land = RandomMLPLandscape(act, depth, 1.5, 0.1, T=T)
    c = derive_landscape(land, ansatz).check()
    assert c.converged, c.message
    assert c.saddle_error <= CHECK_TOLERANCE
    assert c.free_energy_error <= CHECK_TOLERANCE
    assert c.energy_error <= CHECK_TOLERANCE and c.entropy_error <= CHECK_TOLERANCE
    if ansatz == RS():
        assert c.replicon_error <= CHECK_TOLERANCE


def test_check_at_another_temperature() -> None:
    d = derive_landscape(RandomMLPLandscape("relu", 1, 2.0, 0.0), RS())
    c = d.check(T=0.8)
    assert c.converged, c.message
    assert c.T == 0.8
    with pytest.raises(UnsupportedDerivationError) as err:
        d.check()  # the landscape has no T
    assert err.value.step == "check"


@pytest.mark.parametrize(("act", "depth"), [("relu", 2), ("erf", 1), ("cos", 2)])
def test_xi_is_the_closed_form_kernel(act: str, depth: int) -> None:
    xi, steps = landscape_xi(RandomMLPLandscape(act, depth, 1.3, 0.2))
    ref = closed_xi(act, depth, 1.3, 0.2)
    assert ref is not None
    qs = np.linspace(0.0, 0.99, 7)
    mine = np.array([float(xi.subs(Q, q)) for q in qs])
    np.testing.assert_allclose(mine, ref(qs), rtol=1e-13, atol=1e-14)
    # and the independent tables of xi_function
    np.testing.assert_allclose(mine, xi_function(act, depth, 1.3, 0.2)(qs), rtol=1e-9)
    assert [s.title for s in steps][:2] == ["Kernel recursion", "Dual kernel"]


def test_refusals_name_the_step() -> None:
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(RandomMLPLandscape("tanh", 1, 1.5, 0.1, T=0.5), RS())
    assert err.value.step == "covariance" and "replicasolve.solve" in str(err.value)
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(RandomMLPLandscape("relu", 1, 1.5, 0.1, T=0.5), RSB(7))
    assert err.value.step == "ansatz"
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(RandomMLPLandscape("relu", 1, 1.5, 0.1, T=0.5), "nonsense")
    assert err.value.step == "ansatz"
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(3, RS())
    assert err.value.step == "problem"
    deep = FiniteWidthLandscape("sin", 2, 1.0, 0.0, 2.0, 0.3)
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(deep, RS())
    assert err.value.step == "problem" and "replicasolve.solve" in str(err.value)
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(deep.at(depth=1, alpha=2.0), RSB(1))
    assert err.value.step == "ansatz"
    # the finite-width problem's Gaussian limit is derived
    assert derive_landscape(deep.gaussian_limit(), RS()).check().converged


# ---------------------------------------------------------------- finite width, depth 1


@pytest.mark.parametrize(("args", "nodes"), [
    (("tanh", 1, 1.2, 0.05, 2.0, 0.7), None),
    (("sin", 1, 1.0, 0.0, 4.0, 1.0), None),
    (("erf", 1, 1.5, 0.1, 3.0, 0.5), 96),
])
def test_finite_width_check_against_the_solver(args, nodes) -> None:
    # Gauss–Hermite in η, ζ, ε against the solver's rule at tol 1e-12: quadrature-limited,
    # seen ≤ 4e-7 at these points; FINITE_WIDTH_TOLERANCE = 1e-6
    d = derive_landscape(FiniteWidthLandscape(*args), RS())
    c = d.check(nodes=nodes)
    assert c.converged, c.message
    assert c.saddle_error <= FINITE_WIDTH_TOLERANCE
    assert c.free_energy_error <= FINITE_WIDTH_TOLERANCE


def test_finite_width_conjugates_and_energy_are_derived() -> None:
    # at one hidden layer the action is linear in G: ∂Φ/∂g_d = 0 gives ĝ_d = β²σ_w²/α, and
    # e = -β σ_w² (g_d - g)
    d = derive_finite_width(FiniteWidthLandscape("sin", 1, 1.0, 0.0, 4.0, 1.0))
    beta = ra.beta_symbol()
    sw2, alpha = sp.Symbol("sigma_w^2", positive=True), sp.Symbol("alpha", positive=True)
    ghat_d = sp.Symbol("ghat_d", positive=True)
    sol = sp.solve(d.expressions["saddle_g_d"], ghat_d)
    assert len(sol) == 1 and sp.simplify(sol[0] - beta**2 * sw2 / alpha) == 0
    gd, g = sp.Symbol("g_d", real=True), sp.Symbol("g", real=True)
    assert sp.simplify(d.expressions["energy"] + beta * sw2 * (gd - g)) == 0


def test_finite_width_strong_tilt_needs_more_nodes() -> None:
    # sin at α = 2, T = 0.3 (the solver's documented hard point): more Gauss–Hermite
    # nodes shrink the residual (1e-4 at 48, 4e-6 at 140)
    d = derive_landscape(FiniteWidthLandscape("sin", 1, 1.0, 0.0, 2.0, 0.3), RS())
    coarse, fine = d.check(), d.check(nodes=140)
    assert fine.saddle_error < coarse.saddle_error / 10
    assert fine.free_energy_error <= 1e-7


def test_full_rsb_is_the_formula_only() -> None:
    d = derive_landscape(RandomMLPLandscape("relu", 1, 1.5, 0.1, T=0.5), FullRSB())
    assert "parisi_functional" in d.expressions and not d.numeric
    with pytest.raises(UnsupportedDerivationError) as err:
        d.check()
    assert err.value.step == "check"


def test_rendering_and_dict() -> None:
    d = derive_landscape(RandomMLPLandscape("erf", 1, 1.5, 0.1, T=0.5), RS())
    tex = d.latex(document=True)
    assert "\\begin{document}" in tex and "Kernel recursion" in tex and "asin" in tex
    out = json.loads(json.dumps(d.to_dict()))
    assert out["kind"] == "Derivation" and "xi" in out["expressions"]
    assert math.isfinite(d.evaluate(beta=2.0, h=0.0, q_0=0.3)["free_energy"])


def test_ground_state_check_and_its_refusal_for_relu() -> None:
    # T = 0: the spherical ground-state equations (χ, x_i) at the solver's T = 0 solution,
    # CHECK_TOLERANCE as at T > 0 (seen ≤ 1e-14)
    for ansatz in (RS(), RSB(1)):
        d = derive_landscape(RandomMLPLandscape("erf", 1, 1.5, 0.1, T=0.5), ansatz)
        c = d.check(T=0.0)
        assert c.converged, c.message
        assert c.T == 0.0 and c.energy_error <= CHECK_TOLERANCE
    # ReLU: ξ''(1) is infinite, the T → 0 equations are not evaluated
    d = derive_landscape(RandomMLPLandscape("relu", 1, 1.5, 0.1, T=0.5), RS())
    with pytest.raises(UnsupportedDerivationError) as err:
        d.check(T=0.0)
    assert err.value.step == "check"
