"""Every tier of the dual kernel against the next one down, for every named activation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.activation import activation
from replicasolve.kernels.dual import dual_kernel

NAMED = [
    "linear", "relu", "leaky_relu(0.1)", "abs", "step", "sign", "erf(2)", "tanh", "sin",
    "cos", "gelu", "silu", "softplus", "exp", "gaussian", "x^3", "x^2 - 1", "hermite(3, x)",
]
K1, K2, C = 1.3, 0.8, 0.45
SAMPLES = 200_000


@pytest.mark.parametrize("name", NAMED)
def test_quadrature_vs_monte_carlo(name: str) -> None:
    quad = dual_kernel(name, K1, K2, C, tier="quadrature")
    mc = dual_kernel(name, K1, K2, C, tier="monte-carlo", samples=SAMPLES, seed=1)
    # both errors are upper bounds (Monte Carlo: 4 standard errors; quadrature: twice the
    # order/half-order difference, ~1e-3 at order 200 for kinks and jumps, ~1e-12 smooth)
    assert abs(float(quad.value) - float(mc.value)) <= float(mc.error) + float(quad.error) + 1e-12
    # and neither estimate is vacuous: independent caps. Kinks and jumps converge like
    # 1/order (error ~0.13·K/order, K < 1 here: ~1e-3 at order 200; observed estimates up
    # to 7e-3 for sign); Monte Carlo is 4 sd/sqrt(SAMPLES) with sd of φ(u)φ(v) below 40 for
    # these φ at these variances (x^3: E[u^6 v^6]^(1/2) ≈ 35)
    assert float(quad.error) <= 1e-2
    assert float(mc.error) <= 4 * 40 / np.sqrt(SAMPLES)


@pytest.mark.parametrize("name", NAMED)
def test_closed_form_vs_quadrature(name: str) -> None:
    try:
        closed = dual_kernel(name, K1, K2, C, tier="closed")
    except InvalidInputError:
        assert name in ("tanh", "gelu", "silu", "softplus")  # known to have none
        return
    quad = dual_kernel(name, K1, K2, C, tier="quadrature")
    # the quadrature's 2|N - N/2| estimate is an upper bound for kinks (1/N convergence,
    # so the half-order error is twice the full-order one) and ~rounding for smooth φ
    assert abs(float(closed.value) - float(quad.value)) <= float(quad.error) + 1e-11
    assert float(quad.error) <= 1e-2  # independent cap: ~0.13·K/order for kinks, K < 1 here


@pytest.mark.parametrize("name", ["sin", "erf(2)", "cos", "x^3", "gaussian", "hermite(3, x)"])
def test_hermite_vs_closed_form(name: str) -> None:
    herm = dual_kernel(name, 1.1, 1.1, 0.6, tier="hermite")
    closed = dual_kernel(name, 1.1, 1.1, 0.6, tier="closed")
    # Parseval tail bound of the truncated Mehler series (plus rounding)
    assert abs(float(herm.value) - float(closed.value)) <= float(herm.error) + 1e-12


@pytest.mark.parametrize("name", NAMED)
def test_diagonal_and_cauchy_schwarz(name: str) -> None:
    a = activation(name)
    # K(k, k, k) = E φ(u)², checked against 1-D adaptive quadrature (independent of 2-D GH)
    for k in (K1, K2):
        ref = integrate.quad(lambda z, k=k: a.phi(np.sqrt(k) * z) ** 2
                             * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12, 12,
                             points=[0.0], limit=200)[0]
        diag = dual_kernel(a, k, k, k)
        assert float(diag.value) == pytest.approx(ref, rel=2e-3, abs=1e-10)
    off = abs(float(dual_kernel(a, K1, K2, C).value))
    d1 = float(dual_kernel(a, K1, K1, K1).value)
    d2 = float(dual_kernel(a, K2, K2, K2).value)
    assert off <= np.sqrt(d1 * d2) * (1 + 1e-9) + 1e-12


def test_price_theorem_between_tiers() -> None:
    # ∂K/∂c (central difference of the closed form) = E[φ'φ'] by quadrature, for erf
    h = 1e-5
    fd = (float(dual_kernel("erf(2)", K1, K2, C + h).value)
          - float(dual_kernel("erf(2)", K1, K2, C - h).value)) / (2 * h)
    quad = dual_kernel("erf(2)", K1, K2, C, derivative=1, tier="quadrature")
    assert fd == pytest.approx(float(quad.value), abs=1e-8)




@st.composite
def formulas(draw: st.DrawFn) -> str:
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        coef = draw(st.sampled_from(["0.5", "1", "-0.7", "2"]))
        scale = draw(st.sampled_from(["0.5", "1", "1.5"]))
        f = draw(st.sampled_from(["sin", "cos", "tanh", "erf", "poly", "bump"]))
        arg = f"{scale}*x"
        body = {"poly": f"({arg})^2", "bump": f"exp(-({arg})^2/2)"}.get(f, f"{f}({arg})")
        terms.append(f"{coef}*{body}")
    return " + ".join(terms)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(formula=formulas(), c=st.floats(-0.9, 0.9))
def test_random_formulas_tiers_agree(formula: str, c: float) -> None:
    from replicasolve.kernels.activation import activation

    k1, k2 = 1.2, 0.7
    cov = c * np.sqrt(k1 * k2)
    quad = dual_kernel(formula, k1, k2, cov, tier="quadrature")
    n = 100_000
    mc = dual_kernel(formula, k1, k2, cov, tier="monte-carlo", samples=n, seed=3)
    assert abs(float(quad.value) - float(mc.value)) <= float(mc.error) + 1e-9
    # mc.error is 4 standard errors; cap it independently: the standard error of the mean
    # of φ(u)φ(v) is at most sqrt(E φ(u)²φ(v)² / n) <= (E φ(u)⁴ E φ(v)⁴)^{1/4} / sqrt(n)
    # (Cauchy–Schwarz), the fourth moments by 1-D Gauss–Hermite (200 nodes: exact for
    # these smooth φ to far below the factor 1.5 that covers the sampled sd's own scatter)
    phi = activation(formula).phi
    z, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / w.sum()
    m4 = [float(np.sum(w * phi(np.sqrt(k) * z) ** 4)) for k in (k1, k2)]
    assert float(mc.error) <= 1.5 * 4 * (m4[0] * m4[1]) ** 0.25 / np.sqrt(n)
    auto = dual_kernel(formula, k1, k2, cov)
    if auto.tier == "closed":
        assert float(auto.value) == pytest.approx(float(quad.value), abs=1e-9)


def test_bad_tier_input() -> None:
    with pytest.raises(InvalidInputError, match="tier"):
        dual_kernel("tanh", 1, 1, 0.5, tier="magic")
    with pytest.raises(InvalidInputError, match="no closed-form"):
        dual_kernel("tanh", 1, 1, 0.5, tier="closed")
    with pytest.raises(InvalidInputError, match="Dirac"):
        dual_kernel("relu", 1, 1, 0.5, derivative=2, tier="quadrature")
    with pytest.raises(InvalidInputError, match="k1 == k2"):
        dual_kernel("sin", 1, 2, 0.5, tier="hermite")
    with pytest.raises(InvalidInputError):
        dual_kernel("sin", 1, 1, 1.5)
    with pytest.raises(InvalidInputError):
        dual_kernel("sin", -1, 1, 0.0)
