"""Tier 1 (sympy closed forms) and tier 2 (Mehler series) of the dual kernel, vs numerics."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy
from scipy.special import erf as np_erf

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.numeric import gauss_hermite_kernel, monte_carlo_kernel
from replicasolve.symbolic.kernels import (
    derivative_kernels,
    dual_kernel,
    hermite_coefficients,
    hermite_kernel,
)

X = sympy.Symbol("x", real=True)
K1, K2 = sympy.symbols("k1 k2", positive=True)
C = sympy.Symbol("c", real=True)
POINTS = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.7), (2.0, 1.5, 1.2), (1.0, 1.0, 0.99)]
ROOT = Path(__file__).resolve().parents[1]


def _num(expr, p):
    return float(sympy.lambdify((K1, K2, C), expr, modules="math")(*p))


SMOOTH = [
    (sympy.sin(X), np.sin, lambda k1, k2, c: math.exp(-(k1 + k2) / 2) * math.sinh(c)),
    (sympy.cos(X), np.cos, lambda k1, k2, c: math.exp(-(k1 + k2) / 2) * math.cosh(c)),
    (sympy.exp(X / 2), lambda t: np.exp(t / 2), lambda k1, k2, c: math.exp((k1 + k2 + 2 * c) / 8)),
    (X**3 - X, lambda t: t**3 - t, None),
    (X * sympy.sin(2 * X), lambda t: t * np.sin(2 * t), None),
    (sympy.exp(-(X**2)), lambda t: np.exp(-(t**2)), None),
    (
        sympy.erf(2 * X),
        lambda t: np_erf(2 * t),
        lambda k1, k2, c: 2 / math.pi * math.asin(8 * c / math.sqrt((1 + 8 * k1) * (1 + 8 * k2))),
    ),
]


@pytest.mark.parametrize(("phi", "phi_np", "published"), SMOOTH, ids=lambda v: str(v)[:20])
def test_smooth_closed_forms(phi, phi_np, published):
    kernel = dual_kernel(phi, X, K1, K2, C)
    assert kernel is not None
    for p in POINTS:
        got = _num(kernel, p)
        gh = float(gauss_hermite_kernel(phi_np, *p, order=300))
        assert abs(got - gh) <= 1e-10 * max(1.0, abs(gh)), (p, got, gh)
        if published is not None:
            assert abs(got - published(*p)) <= 1e-12 * max(1.0, abs(got))


def _relu_published(k1, k2, c):
    th = math.acos(c / math.sqrt(k1 * k2))
    return math.sqrt(k1 * k2) / (2 * math.pi) * (math.sin(th) + (math.pi - th) * math.cos(th))


NONSMOOTH = [
    (sympy.Max(0, X), lambda t: np.maximum(t, 0.0), _relu_published),
    (sympy.Abs(X), np.abs, None),
    (sympy.Max(X, X / 5), lambda t: np.maximum(t, t / 5), None),
    (2 * sympy.Max(0, X) - X, lambda t: 2 * np.maximum(t, 0) - t, None),  # = |x|
    (
        sympy.Heaviside(X),
        lambda t: (t > 0).astype(float),
        lambda k1, k2, c: (math.pi - math.acos(c / math.sqrt(k1 * k2))) / (2 * math.pi),
    ),
    (
        sympy.sign(X),
        np.sign,
        lambda k1, k2, c: 2 / math.pi * math.asin(c / math.sqrt(k1 * k2)),
    ),
    (sympy.Max(0, X) ** 2, lambda t: np.maximum(t, 0.0) ** 2, None),
]


@pytest.mark.parametrize(("phi", "phi_np", "published"), NONSMOOTH, ids=lambda v: str(v)[:20])
def test_nonsmooth_closed_forms_monte_carlo(phi, phi_np, published):
    kernel = dual_kernel(phi, X, K1, K2, C)
    assert kernel is not None
    for i, p in enumerate(POINTS):
        got = _num(kernel, p)
        mean, stderr = monte_carlo_kernel(phi_np, *p, samples=400_000, seed=11 + i)
        assert abs(got - mean) <= 5 * stderr, (p, got, mean, stderr)
        if published is not None:
            assert abs(got - published(*p)) <= 1e-12


def test_abs_forms_agree_symbolically():
    a = dual_kernel(sympy.Abs(X), X, K1, K2, C)
    b = dual_kernel(2 * sympy.Max(0, X) - X, X, K1, K2, C)
    for p in POINTS:
        assert _num(a, p) == pytest.approx(_num(b, p), abs=1e-13)


def test_polynomial_kernel_exact():
    # E[u^2 v^2] = k1 k2 + 2 c^2 (Isserlis)
    assert sympy.expand(dual_kernel(X**2, X, K1, K2, C) - (K1 * K2 + 2 * C**2)) == 0


@pytest.mark.parametrize(
    "phi", [sympy.sin(X), sympy.erf(X), sympy.Max(0, X), X**3, sympy.cos(2 * X)], ids=str
)
def test_price_route_matches_derivative_route(phi):
    kernel = dual_kernel(phi, X, K1, K2, C)
    d1, d2 = derivative_kernels(phi, X, K1, K2, C)
    via_c = [sympy.diff(kernel, C), sympy.diff(kernel, C, 2)]
    direct = [dual_kernel(sympy.diff(phi, X, j), X, K1, K2, C) for j in (1, 2)]
    for got, dc, dd in zip((d1, d2), via_c, direct, strict=True):
        assert got is not None
        for p in [(1.0, 1.0, 0.3), (0.5, 2.0, -0.7), (2.0, 1.5, 1.2)]:
            assert _num(got, p) == pytest.approx(_num(dc, p), rel=1e-11, abs=1e-12)
            if dd is not None:
                assert _num(dd, p) == pytest.approx(_num(dc, p), rel=1e-11, abs=1e-12)


def test_relu_second_derivative_kernel():
    _, d2 = derivative_kernels(sympy.Max(0, X), X, K1, K2, C)
    # E[δ(u)δ(v)] = 1 / (2π sqrt(k1 k2 - c²))
    assert sympy.simplify(d2 - 1 / (2 * sympy.pi * sympy.sqrt(K1 * K2 - C**2))) == 0


@pytest.mark.parametrize(("phi", "n_max"), [(sympy.sin(X), 14), (sympy.erf(X), 16)], ids=str)
def test_hermite_tier_vs_closed_form(phi, n_max):
    k = sympy.Rational(3, 2)
    closed = dual_kernel(phi, X, K1, K2, C)
    for rho in (sympy.Rational(1, 2), sympy.Rational(-9, 10), sympy.Integer(1)):
        value, bound = hermite_kernel(phi, X, k, rho, n_max)
        exact = float(closed.subs({K1: k, K2: k, C: rho * k}))
        assert abs(float(value) - exact) <= float(bound) + 1e-14
    # coefficients are exact sympy numbers
    assert all(a.is_number and not a.has(sympy.Float) for a in hermite_coefficients(phi, X, k, 5))


def test_hermite_bound_is_tight_enough():
    _, bound = hermite_kernel(sympy.sin(X), X, 1, sympy.Rational(1, 2), 12)
    assert float(bound) < 1e-12


def test_hermite_polynomial_exact():
    phi = X**3 - 2 * X**2 + X
    k = sympy.Rational(5, 4)
    rho = sympy.Rational(1, 3)
    closed = dual_kernel(phi, X, k, k, rho * k)
    for n_max in (3, 4, 6):
        value, bound = hermite_kernel(phi, X, k, rho, n_max)
        assert sympy.simplify(value - closed) == 0
        assert bound == 0


def test_hermite_relu_and_numeric_fallback():
    k, rho = sympy.Integer(1), sympy.Rational(1, 2)
    value, bound = hermite_kernel(sympy.Max(0, X), X, k, rho, 30)
    assert abs(float(value) - _relu_published(1.0, 1.0, 0.5)) <= float(bound) + 1e-14
    coeffs = hermite_coefficients(sympy.tanh(X), X, 1, 8)
    value, bound = hermite_kernel(sympy.tanh(X), X, 1, rho, 10)
    gh = float(gauss_hermite_kernel(np.tanh, 1.0, 1.0, 0.5, order=200))
    assert abs(float(value) - gh) <= float(bound) + 1e-12
    assert float(coeffs[0]) == pytest.approx(0.0, abs=1e-25)


def test_tanh_returns_none_quickly():
    start = time.perf_counter()
    others = (1 / (1 + sympy.exp(-X)), sympy.log(1 + sympy.exp(X)), sympy.erf(X) + X / 2)
    for phi in (sympy.tanh(X), *others):
        assert dual_kernel(phi, X, K1, K2, C) is None
    assert time.perf_counter() - start < 5


def test_numeric_arguments_and_strings():
    got = dual_kernel("relu(x)", X, 1, 1, sympy.Rational(1, 2))
    assert float(got) == pytest.approx(_relu_published(1.0, 1.0, 0.5), abs=1e-14)


@pytest.mark.parametrize(
    "args",
    [(sympy.sin(X), X, -1, 1, 0), (sympy.sin(X), X, 1, 1, 2), (sympy.sin(X), "x", 1, 1, 0)],
)
def test_invalid_input(args):
    with pytest.raises(InvalidInputError):
        dual_kernel(*args)


def test_invalid_hermite_input():
    with pytest.raises(InvalidInputError):
        hermite_coefficients(sympy.sin(X), X, 1, -1)
    with pytest.raises(InvalidInputError):
        hermite_kernel(sympy.sin(X), X, 1, 2, 3)


def test_derivation_script_passes():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "derivations" / "activation_kernels.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout
