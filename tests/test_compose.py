"""Tabulated depth composition (compiled ξ, ξ', ξ'', ξ''') vs closed forms and quadrature."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.activation import activation
from replicasolve.kernels.compose import xi_function
from replicasolve.kernels.numeric import compose_depth_derivatives

Q = np.linspace(-1.0, 1.0, 13)


@pytest.mark.parametrize("tier", ["auto", "quadrature"])
def test_sin_depth_one_all_derivatives(tier: str) -> None:
    w, b = 2.0, 0.3
    xf = xi_function("sin", 1, w, b, tier=tier)
    k, c = b + w, b + w * Q
    # E[sin u sin v] = e^{-(k1+k2)/2} sinh c (Gaussian m.g.f.); q-derivatives by hand
    exact = [b + w * np.exp(-k) * np.sinh(c), w**2 * np.exp(-k) * np.cosh(c),
             w**3 * np.exp(-k) * np.sinh(c), w**4 * np.exp(-k) * np.cosh(c)]
    got = xf.derivatives(Q)
    # tolerances: rounding of the Chebyshev series amplified ~n² per derivative (n ≈ 30)
    for g, e, tol in zip(got, exact, (1e-13, 1e-11, 1e-9, 1e-7), strict=True):
        np.testing.assert_allclose(g, e, atol=tol)


def test_linear_is_exact_affine() -> None:
    w, b = 1.5, 0.2
    xi, d1, d2, d3 = xi_function("linear", 3, w, b).derivatives(Q)
    np.testing.assert_allclose(xi, b * (1 + w + w**2 + w**3) + w**4 * Q, atol=1e-12)
    np.testing.assert_allclose(d1, w**4, rtol=1e-11)
    np.testing.assert_allclose(d2, 0.0, atol=1e-9)
    np.testing.assert_allclose(d3, 0.0, atol=1e-7)


def test_relu_matches_composed_arc_cosine() -> None:
    def arc(k, c):  # Cho-Saul arc-cosine kernel of degree 1, typed in as the reference
        th = np.arccos(np.clip(c / k, -1, 1))
        return k / (2 * np.pi) * (np.sin(th) + (np.pi - th) * np.cos(th))

    sw = 2.0
    k1, v1 = sw * Q, sw
    k2, v2 = sw * arc(v1, k1), sw * arc(v1, v1)
    xf = xi_function("relu", 2, sw, 0.0)
    assert xf.tiers == ("closed", "closed")
    # the map has a (1-ρ)^{3/2} singularity at ρ = 1: Chebyshev converges algebraically,
    # its tail (interpolation_error ~ 2e-9) × degree² bounds the error
    np.testing.assert_allclose(xf(Q), sw * arc(v2, k2), atol=1e-10)


def test_relu_depth_one_derivatives_exact() -> None:
    # depth 1 (w = σ_w², k = w, c = w q): ξ = w J1(k, c); by Price ξ' = w² (π - θ)/(2π)
    # and ξ'' = w³ / (2π sqrt(k² - c²)) (the delta-delta kernel), infinite at q = ±1
    sw = 2.0
    q = np.linspace(-1, 1, 41)
    _, d1, d2, _ = xi_function("relu", 1, sw, 0.0).derivatives(q)
    theta = np.arccos(q)
    np.testing.assert_allclose(d1, sw**2 * (np.pi - theta) / (2 * np.pi), atol=1e-8)
    inner = slice(1, -1)
    exact2 = sw**3 / (2 * np.pi * np.sqrt(sw**2 - (sw * q[inner]) ** 2))
    # cubic Hermite next to the 1/sqrt singularity: 1e-6 relative at |q| ≤ 0.95
    np.testing.assert_allclose(d2[inner], exact2, rtol=1e-6)
    assert np.isinf(d2[-1])


def test_kinked_quadrature_tier_derivatives_are_nan() -> None:
    xf = xi_function("relu", 2, 2.0, 0.0, tier="quadrature")
    xi, d1, d2, d3 = xf.derivatives(np.array([0.2]))
    assert np.isfinite(xi).all() and np.isfinite(d1).all()
    assert np.isnan(d2).all() and np.isnan(d3).all()


@pytest.mark.parametrize("name", ["tanh", "erf", "gelu"])
def test_smooth_against_quadrature_recursion(name: str) -> None:
    a = activation(name)
    xf = xi_function(a, 3, 1.5, 0.1)
    q = np.array([-0.7, 0.0, 0.4, 0.9])
    ref = compose_depth_derivatives(a.phi, a.dphi, a.d2phi, 3, 1.5, 0.1, q, order=300)
    got = xf.derivatives(q)
    # order-300 quadrature is good to ~1e-12 here; the tabulation to ~1e-12/1e-10/1e-8
    for g, r, tol in zip(got[:3], ref, (1e-11, 1e-9, 1e-7), strict=True):
        np.testing.assert_allclose(g, r, atol=tol)


def test_shapes_and_bad_input() -> None:
    xf = xi_function("tanh", 2, 1.5, 0.0)
    assert xf(np.zeros((2, 3))).shape == (2, 3)
    assert np.ndim(xf(0.3)) == 0
    with pytest.raises(InvalidInputError, match="q"):
        xf(1.5)
    with pytest.raises(InvalidInputError, match="depth"):
        xi_function("tanh", -1)
    with pytest.raises(InvalidInputError, match="sigma_w2"):
        xi_function("tanh", 2, [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="closed-form"):
        xi_function("tanh", 2, tier="closed")


def test_disk_cache_roundtrip_and_damage(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPLICASOLVE_CACHE_DIR", str(tmp_path))
    q = np.linspace(-1, 1, 7)
    first = xi_function("tanh(x) + 0.25*sin(x)", 2, 1.5, 0.1)
    files = list((tmp_path / "xi").glob("*.npz"))
    assert len(files) == 1
    again = xi_function("tanh(x) + 0.25*sin(x)", 2, 1.5, 0.1)  # served from the file
    np.testing.assert_array_equal(first.derivatives(q), again.derivatives(q))
    assert again.tiers == first.tiers and again.variances == first.variances
    files[0].write_bytes(b"damaged")  # a broken entry is rebuilt, never trusted
    rebuilt = xi_function("tanh(x) + 0.25*sin(x)", 2, 1.5, 0.1)
    np.testing.assert_array_equal(first.derivatives(q), rebuilt.derivatives(q))
    other = xi_function("tanh(x) + 0.25*sin(x)", 2, 1.5, 0.2)  # other settings, other key
    assert not np.allclose(other(q), first(q))


@pytest.mark.parametrize("v", [2.05, 1.37, 3.3])
def test_closed_form_end_values_relu(v):
    """At ρ = 1 the ReLU kernel's closed form is 0/0 in its derivative (terms in
    1/sqrt(1 - ρ²) cancel); the end values are the exact limits (Cho–Saul): f(1) = v/2 and
    f'(1) = v (π - arccos 1)/(2π) = v/2, for variances that are not dyadic numbers."""
    import numpy as np

    from replicasolve.kernels import compose
    from replicasolve.kernels.activation import activation

    funcs = compose._closed_form_maps(activation("relu"))
    assert float(funcs[0](v, np.array([1.0]))[0]) == pytest.approx(v / 2, rel=1e-14)
    assert float(funcs[1](v, np.array([1.0]))[0]) == pytest.approx(v / 2, rel=1e-14)
