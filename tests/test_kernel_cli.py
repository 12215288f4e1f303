"""`replicasolve kernel` and activations from names/formulas: against closed forms."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from replicasolve.cli import main
from replicasolve.errors import InvalidInputError
from replicasolve.kernels.activation import activation


def _kernel(capsys, *argv: str) -> dict:
    assert main(["kernel", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_linear_is_affine_recursion(capsys) -> None:
    w, b = 1.5, 0.2
    out = _kernel(capsys, "linear", "--depth", "2", "--sigma-w2", str(w), "--sigma-b2", str(b),
                  "--q=-0.3,0.4")
    q = np.array(out["q"])
    # K1 = b + w q, K_{l+1} = b + w K_l (E[uv] = c): exact polynomial in q
    expect = b + w * (b + w * (b + w * q))
    np.testing.assert_allclose(out["xi"], expect, rtol=1e-13)
    np.testing.assert_allclose(out["xi_prime"], w**3, rtol=1e-13)
    np.testing.assert_allclose(out["xi_second"], 0.0, atol=1e-13)


def test_sin_depth_one_closed_form(capsys) -> None:
    w, b = 2.0, 0.3
    out = _kernel(capsys, "sin", "--sigma-w2", str(w), "--sigma-b2", str(b),
                  "--q=-0.9,0,0.5,1")
    q = np.array(out["q"])
    k, c = b + w, b + w * q
    # E[sin u sin v] = e^{-(k1+k2)/2} sinh(c) (Gaussian m.g.f.), differentiated by hand in q
    np.testing.assert_allclose(out["xi"], b + w * np.exp(-k) * np.sinh(c), rtol=1e-10)
    np.testing.assert_allclose(out["xi_prime"], w * w * np.exp(-k) * np.cosh(c), rtol=1e-10)
    np.testing.assert_allclose(out["xi_second"], w**3 * np.exp(-k) * np.sinh(c),
                               rtol=1e-9, atol=1e-12)


def test_relu_closed_form_tier(capsys) -> None:
    out = _kernel(capsys, "relu", "--sigma-w2", "2", "--q=-0.5,0,0.5,1")
    assert out["tiers"] == ["closed"]
    q = np.array(out["q"])
    w = k = 2.0
    c = w * q
    theta = np.arccos(c / k)
    # Cho-Saul arc-cosine kernel and its Price derivatives, typed in as the reference
    exact = w * k / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    np.testing.assert_allclose(out["xi"], exact, atol=1e-12)
    np.testing.assert_allclose(out["xi_prime"], w**2 * (np.pi - theta) / (2 * np.pi),
                               atol=1e-9)
    second = np.array(out["xi_second"][:3], dtype=float)
    np.testing.assert_allclose(second, w**3 / (2 * np.pi * np.sqrt(k**2 - c[:3] ** 2)),
                               rtol=1e-7)
    assert out["xi_second"][3] == "inf"  # ReLU: xi''(1) diverges


def test_quadrature_error_estimate_is_honest(capsys) -> None:
    from replicasolve.kernels.numeric import compose_depth_derivatives

    out = _kernel(capsys, "tanh", "--depth", "2", "--sigma-w2", "1.5", "--q=-0.5,0.3,0.9")
    assert out["tiers"] == ["quadrature", "quadrature"]
    a = activation("tanh")
    ref = compose_depth_derivatives(a.phi, a.dphi, a.d2phi, 2, 1.5, 0.0,
                                    np.array(out["q"]), order=300)
    for key, r in zip(("xi", "xi_prime", "xi_second"), ref, strict=True):
        # the printed estimate (|default - coarser build|) covers the true error
        assert np.all(np.abs(np.array(out[key]) - r) <= np.array(out[key + "_error"]) + 1e-11)


def test_kinked_formula_without_closed_form(capsys) -> None:
    out = _kernel(capsys, "relu(x) + 0.1*sin(x)", "--q", "0.3")
    assert out["tiers"] == ["quadrature"]
    assert out["xi_second"] is None and out["xi_third"] is None  # not faked
    assert out["xi_prime"] is not None


def test_formula_activation_runs(capsys) -> None:
    out = _kernel(capsys, "x*erf(x) + 0.1*sin(3*x)", "--depth", "2", "--q", "0.2")
    assert out["expression"] == "x*erf(x) + sin(3*x)/10"
    assert np.isfinite(out["xi"][0]) and out["xi_second"] is not None


def test_activation_objects() -> None:
    import sympy as sp

    x = sp.Symbol("x", real=True)
    a = activation(sp.tanh(x) + x / 3)
    t = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(a.dphi(t), 1 - np.tanh(t) ** 2 + 1 / 3, rtol=1e-14)
    assert activation("step").dphi is None  # φ' = δ
    assert activation("relu").d2phi is None and activation("relu").dphi is not None
    np.testing.assert_allclose(activation("linear").d2phi(t), 0.0)
    with pytest.raises(InvalidInputError, match="constant"):
        activation("3")
    with pytest.raises(InvalidInputError, match="x alone"):
        activation(sp.Symbol("y") * x)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["nosuchact"], "unknown activation"),
        (["exp(x^2)"], "not integrable"),
        (["x*y"], "unknown name 'y'"),
        (["__import__('os')"], "not allowed"),
        (["tanh", "--q", "1.5"], "|q| <= 1"),
        (["tanh", "--sigma-w2", "-1"], "sigma"),
        (["tanh", "--q", "a"], "comma list"),
    ],
)
def test_kernel_bad_input(argv: list[str], needle: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "replicasolve.cli", "kernel", *argv],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_latex_option(capsys) -> None:
    out = _kernel(capsys, "linear", "--depth", "1", "--sigma-w2", "2", "--sigma-b2", "1",
                  "--latex")
    assert out["latex"] == "4 q + 3"  # K1 = 1 + 2q, K2 = 1 + 2 K1 (exact rationals)
    assert _kernel(capsys, "tanh", "--latex")["latex"] is None

