"""The replica derivation of a random MLP landscape (replicasolve.derive.landscape): ξ derived
by the kernel recursion, the spherical equations against the linear network's closed forms
and against the landscape solver."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from replicasolve.derive.derivation import UnsupportedDerivationError
from replicasolve.derive.landscape import CHECK_TOLERANCE, derive_landscape, landscape_xi
from replicasolve.kernels.closed_xi import closed_xi
from replicasolve.kernels.compose import xi_function
from replicasolve.models.landscape import (
    FiniteWidthLandscape,
    RandomMLPLandscape,
    linear_landscape,
)
from replicasolve.solvers.methods import RS, RSB, FullRSB

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
    fw = FiniteWidthLandscape("sin", 1, 1.0, 0.0, 2.0, 0.3)
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(fw, RS())
    assert err.value.step == "problem" and "solve" in str(err.value)
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_landscape(3, RS())
    assert err.value.step == "problem"
    # the finite-width problem's Gaussian limit is derived
    assert derive_landscape(fw.gaussian_limit(), RS()).check().converged


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
