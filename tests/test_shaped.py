"""Shaped activations: the depth-continuum ODE vs the discrete kernel recursion."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.compose import xi_function
from replicasolve.kernels.shaped import (
    shaped_relu_ode,
    smooth_shaped_coefficients,
    smooth_shaped_ode,
)

Q = 0.3
DEPTHS = (8, 32, 128)


def _relu_rho(c_plus: float, c_minus: float, depth: int) -> float:
    sp_, sm = float(1 + c_plus / np.sqrt(depth)), float(1 + c_minus / np.sqrt(depth))
    sw = 2 / (sp_**2 + sm**2)  # keeps the variance at 1
    xf = xi_function(f"{sp_!r}*relu(x) - {sm!r}*relu(-x)", depth, [1.0] + [sw] * depth, 0.0)
    return float(xf(Q) / xf(1.0))


def test_shaped_relu_symmetric_converges_like_one_over_depth() -> None:
    # c_+ = -c_-: a = (s_+ + s_-)/2 = 1 exactly, one-step error O(L^-2) → O(1/L) overall
    ode = shaped_relu_ode(0.75, -0.75, Q).rho[-1]
    errs = [abs(_relu_rho(0.75, -0.75, d) - ode) for d in DEPTHS]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < errs[0] / 8  # ideal 16 for ×16 depth


def test_shaped_relu_general_converges() -> None:
    # c_+ + c_- ≠ 0: a² = 1 + (c_+ + c_-)/sqrt(L) + ... gives O(L^-3/2) per step → O(L^-1/2)
    ode = shaped_relu_ode(0.0, -1.5, Q).rho[-1]
    errs = [abs(_relu_rho(0.0, -1.5, d) - ode) for d in DEPTHS]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < errs[0] / 3  # ideal 4


@pytest.mark.parametrize("name", ["tanh(x)", "sin(x) + 1 - cos(x)"])
def test_smooth_shaping_converges_like_one_over_depth(name: str) -> None:
    a = 1.0
    sol = smooth_shaped_ode(name, a, 1.0, Q)
    errs = []
    for depth in DEPTHS:
        s = float(a * np.sqrt(depth))
        form = name.replace("x", f"(x/{s!r})")
        xf = xi_function(f"{s!r}*({form})", depth, 1.0, 0.0, order=40, degree=32)
        errs.append(max(abs(xf(Q) - sol.rho[-1] * sol.k[-1]), abs(xf(1.0) - sol.k[-1])))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < errs[0] / 10  # ideal 16


def test_tanh_shaping_closed_form() -> None:
    # α = 0, β = -1/(3a²): dk/dt = -2k²/a² → k = 1/(1 + 2t/a²), and ρ stays put
    a = 0.7
    assert smooth_shaped_coefficients("tanh", a) == pytest.approx((0.0, -1 / (3 * a * a)))
    t = np.linspace(0, 2, 5)
    sol = smooth_shaped_ode("tanh", a, 1.0, Q, t)
    np.testing.assert_allclose(sol.k, 1 / (1 + 2 * t / a**2), rtol=1e-10)
    np.testing.assert_allclose(sol.rho, Q, rtol=1e-10)


def test_relu_ode_properties() -> None:
    sol = shaped_relu_ode(1.0, -1.0, 0.0, np.linspace(0, 5, 6))
    assert np.all(np.diff(sol.rho) > 0) and sol.rho[-1] < 1  # ν > 0 below the fixed point
    assert shaped_relu_ode(1.0, -1.0, 1.0).rho[-1] == pytest.approx(1.0, abs=1e-12)
    assert shaped_relu_ode(0.5, 0.5, 0.2).rho[-1] == pytest.approx(0.2, abs=1e-14)  # c+=c-


def test_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="phi'\\(0\\) = 1"):
        smooth_shaped_coefficients("sin(2*x)")
    with pytest.raises(InvalidInputError, match="not smooth"):
        smooth_shaped_coefficients("relu")
    with pytest.raises(InvalidInputError, match="rho0"):
        shaped_relu_ode(0.0, -1.0, 1.5)
    with pytest.raises(InvalidInputError, match="positive"):
        smooth_shaped_coefficients("tanh", a=0.0)


def test_shaped_relu_xi_derivatives_two_ways():
    # ξ from the variational equations vs (i) the scalar ODE for ρ(1) and (ii) central
    # differences of ξ and ξ' (step 1e-5: error ~1e-10 · ξ''', far below the 1e-7 asked)
    import numpy as np

    from replicasolve.kernels.shaped import ShapedReLUXi, shaped_relu_ode

    x = ShapedReLUXi(0.3, -0.8)
    q = np.array([0.0, 0.4, 0.8, 0.97])
    xi, d1, d2, _ = x.derivatives(q)
    for qi, v in zip(q, xi, strict=True):
        assert v == pytest.approx(shaped_relu_ode(0.3, -0.8, qi).rho[-1], abs=1e-11)
    eps = 1e-5
    fd1 = (x.derivatives(q + eps)[0] - x.derivatives(q - eps)[0]) / (2 * eps)
    fd2 = (x.derivatives(q + eps)[1] - x.derivatives(q - eps)[1]) / (2 * eps)
    assert np.allclose(d1, fd1, atol=1e-7)
    assert np.allclose(d2, fd2, atol=1e-6)
    assert x.derivatives(np.array([1.0]))[2][0] == np.inf  # ν'' = c/sqrt(1-ρ²) at ρ = 1


def test_smooth_shaped_xi_two_ways():
    # ξ(q) = c(1) from the variational system vs smooth_shaped_ode (ρ·k), and ξ', ξ'' vs
    # central differences (step 1e-5)
    import numpy as np

    from replicasolve.kernels.shaped import SmoothShapedXi, smooth_shaped_ode

    x = SmoothShapedXi("tanh", 1.0)
    q = np.array([0.0, 0.3, 0.8, 1.0])
    xi, d1, d2, _ = x.derivatives(q)
    for qi, v in zip(q, xi, strict=True):
        sol = smooth_shaped_ode("tanh", 1.0, 1.0, qi)
        assert v == pytest.approx(sol.rho[-1] * sol.k[-1], abs=1e-11)
    eps = 1e-5
    qm = np.clip(q - eps, -1, 1)
    qp = np.clip(q + eps, -1, 1)
    fd1 = (x.derivatives(qp)[0] - x.derivatives(qm)[0]) / (qp - qm)
    fd2 = (x.derivatives(qp)[1] - x.derivatives(qm)[1]) / (qp - qm)
    assert np.allclose(d1, fd1, atol=1e-7)
    assert np.allclose(d2, fd2, atol=1e-6)
