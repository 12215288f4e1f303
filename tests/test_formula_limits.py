"""Formulas that could hang sympy or are not valid activations are refused quickly and clearly.

Each bad input must raise InvalidInputError (one message) within a time budget measured in
the test; good formulas keep working and agree with an independent evaluation.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import sympy

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.activation import activation
from replicasolve.kernels.compose import MAX_DEPTH, xi_function
from replicasolve.kernels.numeric import compose_depth
from replicasolve.models.pspin import covariance
from replicasolve.symbolic.parse import (
    SymbolicTimeout,
    expansion_terms,
    parse_formula,
    time_limit,
)

# generous for a loaded 2-core machine: each of these is refused in ~0.5 s unloaded
BUDGET_S = 10.0

BAD_ACTIVATIONS = [
    ("(1+x)**1000", "degree"),
    ("sin(x)**1000", "degree"),
    ("hermite(30, hermite(30, x))", "terms"),
    ("9**999*x", "float64"),
    ("1/x", "x = 0"),
    ("log(x)", "real"),
    ("x**(1/3)", "real"),
    ("tan(x)", "real"),
    ("sqrt(1 - x^2)", "real"),
    ("1/(x - pi)", "x = 3.14159"),
    ("exp(x^2)", "exp(c x^2)"),
    ("exp(1000)*x", "finite"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_ACTIVATIONS)
def test_bad_activation_refused_quickly(text: str, needle: str) -> None:
    start = time.monotonic()
    with pytest.raises(InvalidInputError) as info:
        activation(text)
    assert time.monotonic() - start < BUDGET_S
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "text", ["(1+q)**1000", "sin(q)**1000", "hermite(30, hermite(30, q))", "9**999*q"]
)
def test_bad_covariance_refused_quickly(text: str) -> None:
    start = time.monotonic()
    with pytest.raises(InvalidInputError):
        covariance(text)
    assert time.monotonic() - start < BUDGET_S


def test_kernel_cli_refuses_with_one_line() -> None:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "replicasolve", "kernel", "1/x"],
                          capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 2 * BUDGET_S  # + interpreter start-up
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not real and finite" in lines[0], proc.stderr


def test_depth_cap_is_stated() -> None:
    start = time.monotonic()
    with pytest.raises(InvalidInputError, match=str(MAX_DEPTH)):
        xi_function("tanh", 100_000)
    with pytest.raises(InvalidInputError, match=str(MAX_DEPTH)):
        compose_depth(np.tanh, MAX_DEPTH + 1, 1.0, 0.0, 0.5)
    assert time.monotonic() - start < BUDGET_S


def test_overflowing_network_is_refused() -> None:
    # x^20 at depth 2: K_2(1) = E z^40 = 39!! ≈ 3.2e23, then E[u^20 v^20] ~ 1e470
    with pytest.raises(InvalidInputError, match="float64"):
        xi_function("x**20", 2, 1.0, 0.0)


@pytest.mark.parametrize(
    ("text", "sample"),
    [
        ("tanh", np.tanh),
        ("relu", lambda x: np.maximum(x, 0.0)),
        ("x*erf(x) + 0.1*sin(3*x)", None),
        ("erf", None),
        ("sin", np.sin),
        ("sqrt(abs(x))", lambda x: np.sqrt(np.abs(x))),
        ("1/(1 + x^2)", lambda x: 1 / (1 + x * x)),
    ],
)
def test_good_formulas_still_work(text, sample) -> None:
    a = activation(text)
    x = np.linspace(-3, 3, 13)
    if sample is not None:
        np.testing.assert_allclose(a.phi(x), sample(x), rtol=1e-14, atol=1e-15)
    xf = xi_function(a, 1, 1.0, 0.0)
    q = np.array([-0.5, 0.5, 1.0])
    # against the direct quadrature recursion (no tables): within the reported error
    # (plus 1e-12 of order-300 quadrature error for the smooth φ; kinks: the error bound
    # itself is what is tested in test_kernel_error_bounds)
    direct = compose_depth(a.phi, 1, 1.0, 0.0, q, order=300)
    assert np.all(np.abs(xf(q) - direct) <= xf.error(q) + 1e-3 * (a.d2phi is None) + 1e-12)


def test_expansion_terms_counts_multinomials() -> None:
    x = sympy.Symbol("x", real=True)
    # (1+x)^n: n+1 monomials; (a+b+c)^n: C(n+2, 2)
    assert expansion_terms((1 + x) ** 1000) == 1001
    assert expansion_terms((1 + x + sympy.sin(x)) ** 10) == math.comb(12, 2)
    assert expansion_terms(parse_formula("sin(x)**1000")) == 1


def test_time_limit_interrupts_sympy_and_restores_the_timer() -> None:
    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here")
    x = sympy.Symbol("x", real=True)
    start = time.monotonic()
    with pytest.raises(SymbolicTimeout), time_limit(0.3):
        sympy.limit(sympy.log(sympy.Abs((1 + x) ** 1000)) / x**2, x, sympy.oo)
    assert time.monotonic() - start < 3.0
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0.0
    with time_limit(5.0):  # quick work is untouched
        assert sympy.expand((1 + x) ** 3) == x**3 + 3 * x**2 + 3 * x + 1
