"""Numeric tiers of the Gaussian dual kernel (replicasolve.kernels.numeric).

Golden values are closed forms written out here, independent of the code under test:
- ReLU: Cho & Saul 2009 arc-cosine kernel of degree 1,
  sqrt(k1 k2)/(2π) (sin θ + (π - θ) cos θ), θ = arccos(c / sqrt(k1 k2));
- erf(a x): Williams 1998, (2/π) arcsin(2a²c / sqrt((1 + 2a²k1)(1 + 2a²k2)));
- sin, cos: from E[exp(i(s u + t v))], e^{-(k1+k2)/2} sinh c and e^{-(k1+k2)/2} cosh c;
- x and x²: Isserlis, c and k1 k2 + 2c².
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.numeric import (
    compose_depth,
    compose_depth_derivatives,
    derivative_kernel,
    gauss_hermite_kernel,
    monte_carlo_kernel,
    price_check,
)


def relu(x):
    return np.maximum(x, 0.0)


def relu_closed(k1, k2, c):
    s = np.sqrt(k1 * k2)
    theta = np.arccos(np.clip(c / s, -1.0, 1.0))
    return s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))


def erf_closed(a, k1, k2, c):
    a2 = 2 * a * a
    return 2 / np.pi * np.arcsin(a2 * c / np.sqrt((1 + a2 * k1) * (1 + a2 * k2)))


def tanh_p(x):
    return 1.0 / np.cosh(x) ** 2


def tanh_pp(x):
    return -2.0 * np.tanh(x) / np.cosh(x) ** 2


# a grid of admissible (k1, k2, c), including |ρ| = 1 exactly and a near-degenerate ρ
K1 = np.array([1.0, 0.3, 2.5, 1.7, 0.8, 1.2, 1.2])
K2 = np.array([1.0, 1.9, 0.6, 1.7, 0.8, 0.4, 0.4])
RHO = np.array([0.0, 0.5, -0.7, 1.0, -1.0, 0.999, -0.2])
C = RHO * np.sqrt(K1 * K2)


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("a", [0.5, 1.0, 2.0])
def test_erf_matches_williams_closed_form(a):
    """Spectral but scale-dependent convergence: with a·sqrt(k) up to 3.2 the error observed is
    7e-4 at order 64, 1e-8 at 200, 7e-12 at 300 (a = 0.5: 1e-16 already at 64)."""
    got = gauss_hermite_kernel(lambda x: special.erf(a * x), K1, K2, C, order=300)
    want = erf_closed(a, K1, K2, C)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_sin_and_cos_closed_forms():
    pref = np.exp(-(K1 + K2) / 2)
    got_sin = gauss_hermite_kernel(np.sin, K1, K2, C)
    got_cos = gauss_hermite_kernel(np.cos, K1, K2, C)
    np.testing.assert_allclose(got_sin, pref * np.sinh(C), rtol=0, atol=1e-10)
    np.testing.assert_allclose(got_cos, pref * np.cosh(C), rtol=0, atol=1e-10)


def test_polynomials_are_exact():
    np.testing.assert_allclose(gauss_hermite_kernel(lambda x: x, K1, K2, C), C, atol=1e-13)
    np.testing.assert_allclose(
        gauss_hermite_kernel(np.square, K1, K2, C, order=8), K1 * K2 + 2 * C**2, rtol=1e-12
    )


def test_broadcast_shape():
    out = gauss_hermite_kernel(np.tanh, 1.0, np.ones((3, 1)), np.zeros((1, 4)))
    assert out.shape == (3, 4)


def test_relu_converges_algebraically_to_arc_cosine():
    """ReLU's kink makes Gauss–Hermite converge like 1/order (observed: error·order ≈ 0.126
    at ρ = 0, k1 = 1.3, k2 = 0.7), not spectrally; check both the rate and the level."""
    k1, k2 = 1.3, 0.7
    c = np.array([-0.5, 0.0, 0.3]) * np.sqrt(k1 * k2)
    want = relu_closed(k1, k2, c)
    orders = np.array([32, 64, 128, 256])
    errs = np.array([np.abs(gauss_hermite_kernel(relu, k1, k2, c, order=o) - want) for o in orders])
    slopes = np.polyfit(np.log(orders), np.log(errs), 1)[0]
    assert np.all((slopes > -1.15) & (slopes < -0.85)), slopes
    # absolute error at order 256 observed ≤ 4.9e-4 (K ≈ 0.15 here)
    assert np.all(errs[-1] < 6e-4)
    # at |ρ| = 1 the kink lines coincide and the rule is much more accurate
    kk = gauss_hermite_kernel(relu, 1.3, 1.3, 1.3, order=64)
    assert abs(kk - 1.3 / 2) < 1e-12  # E relu(u)² = k/2 (1-D rule, kink at a node-free point)


# ----------------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize(
    ("phi", "order"), [(np.tanh, 64), (relu, 300), (np.sin, 64)], ids=["tanh", "relu", "sin"]
)
@pytest.mark.parametrize(("k1", "k2", "rho"), [(1.0, 1.0, 0.3), (0.5, 2.0, -0.8), (1.5, 0.7, 0.95)])
def test_monte_carlo_agrees_with_quadrature(phi, order, k1, k2, rho):
    c = rho * math.sqrt(k1 * k2)
    mean, se = monte_carlo_kernel(phi, k1, k2, c, samples=10**6, seed=1)
    quad = float(gauss_hermite_kernel(phi, k1, k2, c, order=order))
    assert se > 0
    # relu at order 300: quadrature error ≲ 4e-4, well under 5 se ≈ 2.5e-3
    assert abs(mean - quad) < 5 * se, (mean, quad, se)


# ----------------------------------------------------------------------------- properties

kvar = st.floats(0.05, 5.0)
corr = st.floats(-1.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(k=st.floats(0.05, 2.0))
def test_diagonal_is_second_moment(k):
    """tanh(sqrt(k) z) has poles at z = iπ/(2 sqrt(k)), so the rule needs more nodes as k grows:
    observed error at k = 3 is 2e-5 (order 64), 5e-10 (200), 2e-12 (300); at k = 2, order 300
    it is below 1e-12. The reference is adaptive quadrature of the even integrand on [0, 12]."""
    want = (
        2
        * integrate.quad(
            lambda z: (
                np.tanh(math.sqrt(k) * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
            ),
            0.0,
            12.0,
            epsabs=1e-15,
            epsrel=1e-13,
            limit=200,
        )[0]
    )
    got = float(gauss_hermite_kernel(np.tanh, k, k, k, order=300))
    assert abs(got - want) < 1e-10


@settings(max_examples=60, deadline=None)
@given(k1=kvar, k2=kvar, rho=corr, which=st.sampled_from(["tanh", "relu", "sin"]))
def test_cauchy_schwarz(k1, k2, rho, which):
    phi = {"tanh": np.tanh, "relu": relu, "sin": np.sin}[which]
    c = rho * math.sqrt(k1 * k2)
    kc = float(gauss_hermite_kernel(phi, k1, k2, c))
    bound = math.sqrt(
        float(gauss_hermite_kernel(phi, k1, k1, k1)) * float(gauss_hermite_kernel(phi, k2, k2, k2))
    )
    assert abs(kc) <= bound * (1 + 1e-12) + 1e-14


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), d=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_tanh_kernel_matrix_is_psd(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    gram = x @ x.T
    kmat = gauss_hermite_kernel(np.tanh, 1.0, 1.0, gram)
    np.testing.assert_allclose(kmat, kmat.T, atol=1e-14)
    assert np.linalg.eigvalsh((kmat + kmat.T) / 2).min() >= -1e-10


# ----------------------------------------------------------------------------- Price


@pytest.mark.parametrize(
    ("phi", "dphi"),
    [
        (np.tanh, tanh_p),
        (special.erf, lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x)),
    ],
    ids=["tanh", "erf"],
)
@pytest.mark.parametrize(("k1", "k2", "rho"), [(1.0, 1.0, 0.2), (0.4, 2.2, -0.6), (1.5, 1.1, 0.9)])
def test_price_theorem(phi, dphi, k1, k2, rho):
    fd, quad = price_check(phi, dphi, k1, k2, rho * math.sqrt(k1 * k2), h=1e-4, order=200)
    # central difference: h² |∂³K/∂c³| / 6 ≲ 1e-9, rounding ε/h ≈ 1e-12
    assert abs(fd - quad) < 1e-8


def test_derivative_kernel_erf_closed_form():
    # ∂/∂c of the Williams form at a = 1: (2/π)·2 / sqrt((1+2k1)(1+2k2) - 4c²)
    dphi = lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x)  # noqa: E731
    got = derivative_kernel(dphi, K1, K2, C, order=200)
    want = 4 / np.pi / np.sqrt((1 + 2 * K1) * (1 + 2 * K2) - 4 * C**2)
    np.testing.assert_allclose(got, want, rtol=1e-10)


# ----------------------------------------------------------------------------- depth

Q = np.linspace(-1.0, 1.0, 11)


@pytest.mark.parametrize("depth", [0, 1, 2, 4])
def test_compose_linear_is_affine(depth):
    w2, b2 = 1.3, 0.2
    got = compose_depth(lambda x: x, depth, w2, b2, Q)
    want = w2 ** (depth + 1) * Q + b2 * sum(w2**l for l in range(depth + 1))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_compose_linear_per_layer_sequences():
    w2, b2 = [1.1, 0.7, 2.0], [0.1, 0.0, 0.3]
    got = compose_depth(lambda x: x, 2, w2, b2, Q)
    k = b2[0] + w2[0] * Q
    for l in (1, 2):
        k = b2[l] + w2[l] * k
    np.testing.assert_allclose(got, k, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_compose_relu_matches_arc_cosine_by_hand(depth):
    w2, b2 = 2.0, 0.1
    q = np.array([[-1.0, -0.4, 0.0], [0.5, 0.9, 1.0]])
    k, k1 = b2 + w2 * q, b2 + w2
    for _ in range(depth):
        k, k1 = b2 + w2 * relu_closed(k1, k1, k), b2 + w2 * relu_closed(k1, k1, k1)
    got = compose_depth(relu, depth, w2, b2, q, order=300)
    assert got.shape == q.shape
    # ReLU quadrature error ~1/order per layer (see above); observed max |got - k| / K(1):
    # 4.0e-4, 6.2e-4, 8.2e-4 at depth 1, 2, 3 (order 300); 3.2e-3 .. 4.2e-3 at order 64
    assert np.max(np.abs(got - k)) <= 1.5e-3 * k1
    np.testing.assert_allclose(got[1, 2], k[1, 2], rtol=1e-12)  # q = 1: exact (1-D moment)


def test_compose_derivatives_tanh_depth3_vs_finite_differences():
    w2, b2, depth = [1.5, 2.0, 1.2, 0.9], 0.05, 3
    q = np.array([-0.8, -0.3, 0.0, 0.4, 0.85])
    # order 128: quadrature error of (ξ, ξ', ξ'') observed 2e-11, 1e-10, 2e-9 (vs order 300)
    o = 128
    xi, d1, d2 = compose_depth_derivatives(np.tanh, tanh_p, tanh_pp, depth, w2, b2, q, order=o)
    xi_only = compose_depth(np.tanh, depth, w2, b2, q, order=o)
    np.testing.assert_allclose(xi, xi_only, rtol=0, atol=1e-15)
    h = 1e-4  # truncation h² ξ'''/6, rounding ε/h
    xp = compose_depth(np.tanh, depth, w2, b2, q + h, order=o)
    xm = compose_depth(np.tanh, depth, w2, b2, q - h, order=o)
    np.testing.assert_allclose(d1, (xp - xm) / (2 * h), rtol=0, atol=1e-8)
    h2 = 1e-3  # truncation h² ξ''''/12, rounding ε/h²
    xp2 = compose_depth(np.tanh, depth, w2, b2, q + h2, order=o)
    xm2 = compose_depth(np.tanh, depth, w2, b2, q - h2, order=o)
    np.testing.assert_allclose(d2, (xp2 - 2 * xi + xm2) / h2**2, rtol=0, atol=1e-6)


def test_compose_derivatives_linear_exact():
    _, d1, d2 = compose_depth_derivatives(lambda x: x, np.ones_like, np.zeros_like, 2, 1.3, 0.2, Q)
    np.testing.assert_allclose(d1, 1.3**3, rtol=1e-12)
    np.testing.assert_allclose(d2, 0.0, atol=1e-14)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("k1", "k2", "c"),
    [
        (0.0, 1.0, 0.0),
        (-1.0, 1.0, 0.0),
        (1.0, 1.0, 1.0 + 1e-9),
        (2.0, 0.5, -1.01),
        (np.nan, 1.0, 0.0),
        (1.0, 1.0, np.inf),
        ([1.0, 1.0], [1.0, 1.0], [0.5, 1.5]),
    ],
)
def test_bad_kernel_input(k1, k2, c):
    with pytest.raises(InvalidInputError):
        gauss_hermite_kernel(np.tanh, k1, k2, c)
    if np.ndim(c) == 0:
        with pytest.raises(InvalidInputError):
            monte_carlo_kernel(np.tanh, k1, k2, c, samples=100)


def test_violation_message_names_values():
    with pytest.raises(InvalidInputError, match=r"1\.5"):
        gauss_hermite_kernel(np.tanh, [1.0, 1.0], 1.0, [0.5, 1.5])


def test_rounding_in_covariance_is_accepted():
    out = gauss_hermite_kernel(np.tanh, 2.0, 2.0, 2.0 * (1 + 1e-14))
    assert np.isfinite(out)


@pytest.mark.parametrize("order", [0, -3, 2.5, True, 361, 10_000])
def test_bad_order(order):
    with pytest.raises(InvalidInputError):
        gauss_hermite_kernel(np.tanh, 1.0, 1.0, 0.0, order=order)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"q": 1.0 + 1e-9},
        {"q": -1.5},
        {"q": np.nan},
        {"depth": -1},
        {"depth": 1.5},
        {"sigma_w2": 0.0},
        {"sigma_w2": np.nan},
        {"sigma_b2": -0.1},
        {"sigma_w2": [1.0, 1.0]},  # wrong length for depth 2
    ],
)
def test_bad_depth_input(kwargs):
    args = {"depth": 2, "sigma_w2": 1.0, "sigma_b2": 0.1, "q": 0.3} | kwargs
    with pytest.raises(InvalidInputError):
        compose_depth(np.tanh, **args)


def test_non_elementwise_activation_rejected():
    with pytest.raises(InvalidInputError):
        gauss_hermite_kernel(lambda x: np.sum(x), 1.0, 1.0, 0.0)
