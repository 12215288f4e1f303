"""Dual activation kernels of ReLU, erf and sin, derived with sympy and checked.

The derivations live in :mod:`replicasolve.symbolic.kernels` (Gaussian integrals done by
sympy: polar coordinates for the arc-cosine kernel, Cho & Saul 2009; Price's theorem for erf,
Williams 1997; direct Gaussian integration for sin). This script prints each kernel in LaTeX
and checks it numerically at several (k1, k2, c) against

  (a) the published, hand-typed formula, to 1e-12;
  (b) 2-D Gauss–Hermite quadrature in numpy (order 300) from
      :func:`replicasolve.kernels.numeric.gauss_hermite_kernel`, to 1e-10 for the smooth erf and
      sin and 2e-3 for ReLU (the kink makes the quadrature converge only like 1/order).

Run:  python derivations/activation_kernels.py
Exits with status 1 if any check fails; prints "all checks passed" otherwise.
"""

from __future__ import annotations

import math
import time

import numpy as np
import sympy
from scipy.special import erf as np_erf

from replicasolve.kernels.numeric import gauss_hermite_kernel
from replicasolve.symbolic.kernels import dual_kernel

POINTS = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.7), (2.0, 1.5, 1.2), (1.3, 0.8, 0.0), (1.0, 1.0, 0.99)]
A_ERF = 1.5


def _relu_published(k1: float, k2: float, c: float) -> float:
    theta = math.acos(max(-1.0, min(1.0, c / math.sqrt(k1 * k2))))
    return (
        math.sqrt(k1 * k2) / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * math.cos(theta))
    )


def _erf_published(k1: float, k2: float, c: float) -> float:
    a2 = 2 * A_ERF**2
    return 2 / math.pi * math.asin(a2 * c / math.sqrt((1 + a2 * k1) * (1 + a2 * k2)))


def _sin_published(k1: float, k2: float, c: float) -> float:
    return math.exp(-(k1 + k2) / 2) * math.sinh(c)


def main() -> None:
    start = time.perf_counter()
    x = sympy.Symbol("x", real=True)
    k1, k2 = sympy.symbols("k1 k2", positive=True)
    c = sympy.Symbol("c", real=True)
    a = sympy.Rational(3, 2)
    cases = [
        ("ReLU", sympy.Max(0, x), _relu_published, lambda t: np.maximum(t, 0.0), 2e-3),
        ("erf(3x/2)", sympy.erf(a * x), _erf_published, lambda t: np_erf(A_ERF * t), 1e-10),
        ("sin", sympy.sin(x), _sin_published, np.sin, 1e-10),
    ]
    failures = 0
    for name, phi, published, phi_np, gh_tol in cases:
        kernel = dual_kernel(phi, x, k1, k2, c)
        if kernel is None:
            print(f"FAIL {name}: no closed form derived")
            failures += 1
            continue
        print(f"{name}:  K = {sympy.latex(kernel)}")
        f = sympy.lambdify((k1, k2, c), kernel, modules="math")
        for p in POINTS:
            got = float(f(*p))
            ref = published(*p)
            gh = float(gauss_hermite_kernel(phi_np, *p, order=300))
            ok_pub = abs(got - ref) <= 1e-12 * max(1.0, abs(ref))
            ok_gh = abs(got - gh) <= gh_tol
            status = "ok  " if ok_pub and ok_gh else "FAIL"
            failures += not (ok_pub and ok_gh)
            print(
                f"  {status} (k1, k2, c) = {p}: sympy {got:.15g}, published {ref:.15g}, "
                f"Gauss-Hermite {gh:.15g} (|diff| {abs(got - gh):.1e} <= {gh_tol:g})"
            )
    print(f"({time.perf_counter() - start:.1f} s)")
    if failures:
        print(f"{failures} check(s) failed")
        raise SystemExit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
