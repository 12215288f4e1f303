"""The replica derivation of the multilayer SK model (replicasolve.derivation.msk): the derived
T_c against the published closed forms and against the solver's eigenvalue."""

from __future__ import annotations

import json
import math

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicasolve.derivation.derivation import Derivation, UnsupportedDerivationError
from replicasolve.derivation.msk import CHECK_TOLERANCE, derive_msk, derive_msk_symbolic
from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import MSK
from replicasolve.solvers.dispatch import solve
from replicasolve.solvers.methods import RS, RSB, FullRSB
from replicasolve.symbolic import msk as sm


def _tc(d: Derivation) -> float:
    return float(d.expressions["T_c_network"].evalf(30))


@pytest.mark.parametrize("L", [1, 2, 3, 5])
@pytest.mark.parametrize("C", [0.5, 1.0, 2.0])
def test_identical_layers_give_the_path_graph_value(L: int, C: float) -> None:
    # Barney, Winer & Galitski, arXiv 2408.06421: K = C × path-graph adjacency on L + 1
    # nodes, eigenvalues 2C cos(πk/(L+2)), T_c = sqrt(2C cos(π/(L+2))); derived here as the
    # largest root of det(λ - K) at 30 digits, so agreement to 1e-14 relative is rounding.
    d = derive_msk(MSK([7] * (L + 1), C), RS())
    expected = math.sqrt(2 * C * math.cos(math.pi / (L + 2)))
    assert _tc(d) == pytest.approx(expected, rel=1e-14)
    assert float(d.expressions["T_c_identical"].subs(
        {sp.Symbol("L", integer=True, positive=True): L,
         sp.Symbol("C", positive=True): C})) == pytest.approx(expected, rel=1e-14)


def test_two_layers_give_sqrt_C_with_any_sizes_ratio_entering() -> None:
    # bipartite SK: T_c⁴ = C² N_1/N_0 (K_10² = C² α_1/α_0); equal sizes give sqrt(C)
    assert _tc(derive_msk(MSK([5, 5], 3.0))) == pytest.approx(math.sqrt(3.0), rel=1e-14)
    assert _tc(derive_msk(MSK([4, 9], 2.0))) == pytest.approx((4.0 * 9 / 4) ** 0.25,
                                                              rel=1e-14)


def test_symbolic_two_and_three_layers() -> None:
    s2 = sm.layer_symbols(2)
    d2 = derive_msk_symbolic(2)
    assert sp.simplify(d2.expressions["T_c"] ** 4 - s2.C[0] ** 2 * s2.alpha[1] / s2.alpha[0]) == 0
    s3 = sm.layer_symbols(3)
    d3 = derive_msk_symbolic(3)
    # λ_max² = K_10² + K_21² for three layers
    target = s3.C[0] ** 2 * s3.alpha[1] / s3.alpha[0] + s3.C[1] ** 2 * s3.alpha[2] / s3.alpha[1]
    assert sp.simplify(d3.expressions["T_c"] ** 4 - target) == 0
    # equal fractions and variances: sqrt(2C cos(π/4)) = 2^(1/4) sqrt(C)
    C, a = sp.symbols("C a", positive=True)
    same = {**dict.fromkeys(s3.alpha, a), **dict.fromkeys(s3.C, C)}
    assert sp.simplify(d3.expressions["T_c"].subs(same) - sp.root(2, 4) * sp.sqrt(C)) == 0


def test_symbolic_expressions_are_the_stepwise_derivation() -> None:
    d = derive_msk_symbolic(4)
    s = sm.layer_symbols(4)
    assert d.expressions["hessian"] == sm.rs_hessian(4)
    assert d.expressions["critical_matrix"] == sm.critical_condition_matrix(4)
    # the RS action: -1/2 Σ α_l q_l² + β² Σ C_l α_l q_l q_{l-1}
    expected = (-sum(a * q**2 for a, q in zip(s.alpha, s.q, strict=True)) / 2
                + s.beta**2 * sum(s.C[l - 1] * s.alpha[l] * s.q[l] * s.q[l - 1]
                                  for l in range(1, 4)))
    assert sp.expand(d.expressions["action"] - expected) == 0
    # det(-H) = 0 exactly where β² is a root of det(1 - β² K): det(-H) = Π α_l det(I - β²K)
    lam = sp.Symbol("lambda", real=True)
    poly = d.expressions["critical_polynomial"]
    det = d.expressions["critical_determinant"]
    rel = sp.simplify(det - sp.prod(s.alpha) * s.beta ** 8 * poly.subs(lam, 1 / s.beta**2))
    assert rel == 0
    # paramagnet: -βf = ln 2 Σ α + β²/2 Σ C_l α_l; e = -β Σ C_l α_l
    assert sp.simplify(d.expressions["energy"]
                       + s.beta * sum(s.C[l - 1] * s.alpha[l] for l in range(1, 4))) == 0
    with pytest.raises(UnsupportedDerivationError) as err:
        d.check()
    assert err.value.step == "check"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 2000), min_size=2, max_size=7),
       data=st.data())
def test_derived_T_c_matches_the_solver(sizes: list[int], data: st.DataObject) -> None:
    # the solver: LAPACK bisection on K (a few ε relative); derived: exact root at 30 digits
    variances = data.draw(st.lists(st.floats(0.05, 20.0), min_size=len(sizes) - 1,
                                   max_size=len(sizes) - 1))
    problem = MSK(sizes, variances)
    check = derive_msk(problem).check()
    assert check.converged, check.message
    assert abs(check.residuals["T_c"]) <= CHECK_TOLERANCE
    assert check.T == pytest.approx(solve(problem).T_c, rel=CHECK_TOLERANCE)


def test_check_at_extreme_variances_and_the_mode() -> None:
    for problem in (MSK([3, 5], 1e300), MSK([3, 5, 1000], [1e-300, 2.0]),
                    MSK([784, 512, 512, 512, 10], 2.0)):
        c = derive_msk(problem).check()
        assert c.converged, c.message
        assert abs(c.residuals["mode"]) <= 1e-12
        assert abs(c.replicon) <= 1e-12  # smallest eigenvalue of I - β²K at the solver's β_c


def test_paramagnet_numerics_and_stability_sign() -> None:
    d = derive_msk(MSK([10, 10, 10], 2.0))
    t_c = _tc(d)
    above = d.evaluate(beta=0.5 / t_c)
    below = d.evaluate(beta=2.0 / t_c)
    assert above["stability"] > 0 > below["stability"]
    # α_l = 1/3 each, Σ C_l α_l = 4/3: e = -β 4/3, s = ln 2 - β² 2/3
    assert above["energy"] == pytest.approx(-0.5 / t_c * 4 / 3, rel=1e-14)
    assert above["entropy"] == pytest.approx(math.log(2) - (0.5 / t_c) ** 2 * 2 / 3, rel=1e-14)


def test_deep_network_uses_numbers_only() -> None:
    d = derive_msk(MSK([4] * 12, 1.0))
    assert "critical_polynomial" not in d.expressions  # symbolic form skipped beyond 8 layers
    assert _tc(d) == pytest.approx(math.sqrt(2 * math.cos(math.pi / 13)), rel=1e-14)
    assert d.check().converged


def test_refusals_name_the_step() -> None:
    for ansatz in (RSB(1), FullRSB(), "full"):
        with pytest.raises(UnsupportedDerivationError) as err:
            derive_msk(MSK([3, 4], 1.0), ansatz)
        assert err.value.step == "ansatz"
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_msk(MSK([3, 4], 1.0), "nonsense")
    assert err.value.step == "ansatz"
    with pytest.raises(UnsupportedDerivationError) as err:
        derive_msk("784,10", RS())  # type: ignore[arg-type]
    assert err.value.step == "problem"
    with pytest.raises(InvalidInputError):
        derive_msk(MSK([3, 4], 1.0)).check(T=0.5)
    with pytest.raises(InvalidInputError):
        derive_msk_symbolic(1)


def test_rendering_and_dict() -> None:
    d = derive_msk(MSK([784, 512, 10], 2.0))
    tex = d.latex(document=True)
    assert "\\begin{document}" in tex and "Critical matrix" in tex
    assert "Identical layers" in d.markdown()
    out = json.loads(json.dumps(d.to_dict()))
    assert out["kind"] == "Derivation" and "critical_matrix" in out["expressions"]


def test_hessian_spectrum_is_the_path_graph_one() -> None:
    # identical layers: eigenvalues of the scaled Hessian 1 - β² 2C cos(πk/(L+2)), k = 1..L+1
    # (Barney, Winer & Galitski, arXiv 2408.06421), ascending at β > 0
    L, C = 3, 1.5
    d = derive_msk(MSK([6] * (L + 1), C))
    beta = sm.layer_symbols(L + 1).beta
    got = [float(e.subs(beta, 0.7).evalf(30)) for e in d.expressions["stability_eigenvalues"]]
    expected = [1 - 0.49 * 2 * C * math.cos(math.pi * k / (L + 2)) for k in range(1, L + 2)]
    assert got == pytest.approx(expected, abs=1e-14)
