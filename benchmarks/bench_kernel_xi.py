"""ξ, ξ', ξ'' of a depth-10 tanh network on 10^6 overlaps q.

Figure: wall time of :func:`replicasolve.kernels.compose.xi_function` (build of the 10
layer maps by Gauss–Hermite quadrature + evaluation on 10^6 q) for tanh, depth 10,
σ_w² = 1.5, σ_b² = 0.1; the numba kernel is compiled (or loaded from the disk cache) in a
warm-up call on a different network, so the figure is build + evaluation.

Baselines (same run):
1. "scipy quadrature per point": the same recursion with ``scipy.integrate.dblquad`` for
   every layer's E[φφ], E[φ'φ'], E[φ''φ''] at each q, timed on 2 q values and scaled to 10^6.
2. the numpy Gauss–Hermite recursion (order 64) vectorised over q
   (:func:`replicasolve.kernels.numeric.compose_depth_derivatives`), timed on 10^4 q and
   scaled to 10^6.
The engine's values are compared with baseline 2 at order 300 on 200 points.

Targets: under 1 s, and ≥ 20× faster than baseline 1.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import integrate

from replicasolve.kernels.activation import activation
from replicasolve.kernels.compose import xi_function
from replicasolve.kernels.numeric import compose_depth_derivatives

DEPTH, SW, SB = 10, 1.5, 0.1


def _scipy_point(q: float) -> tuple[float, float, float]:
    def e(f, g, k, c):
        rho = c / k
        s = np.sqrt(max(1 - rho * rho, 0.0))

        def integrand(z2, z1):
            u = np.sqrt(k) * z1
            v = np.sqrt(k) * (rho * z1 + s * z2)
            return f(u) * g(v) * np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi)

        return integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-10)[0]

    phi = np.tanh

    def d1(x):
        return 1 - np.tanh(x) ** 2

    def d2(x):
        return -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)

    k, var, k1, k2 = SB + SW * q, SB + SW, SW, 0.0
    for _ in range(DEPTH):
        e0, e1, e2 = e(phi, phi, var, k), e(d1, d1, var, k), e(d2, d2, var, k)
        var_next = SB + SW * e(phi, phi, var, var)
        k, k1, k2 = SB + SW * e0, SW * e1 * k1, SW * (e2 * k1 * k1 + e1 * k2)
        var = var_next
    return k, k1, k2


def main() -> None:
    xi_function("tanh", 2, 1.0, 0.0)(np.linspace(-1, 1, 5))  # warm-up: numba load/compile
    q = np.linspace(-1.0, 1.0, 1_000_000)
    t0 = time.perf_counter()
    xf = xi_function("tanh", DEPTH, SW, SB)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    xi = xf.derivatives(q)[0]
    t_eval = time.perf_counter() - t0
    total = t_build + t_eval

    t0 = time.perf_counter()
    for qq in (0.3, 0.8):
        _scipy_point(qq)
    t_scipy = (time.perf_counter() - t0) / 2 * q.size

    a = activation("tanh")
    qs = np.linspace(-1, 1, 10_000)
    t0 = time.perf_counter()
    compose_depth_derivatives(a.phi, a.dphi, a.d2phi, DEPTH, SW, SB, qs, order=64)
    t_gh = (time.perf_counter() - t0) * q.size / qs.size

    check = np.linspace(-1, 1, 200)
    ref = compose_depth_derivatives(a.phi, a.dphi, a.d2phi, DEPTH, SW, SB, check, order=300)
    got = xf.derivatives(check)
    errs = [float(np.max(np.abs(g - r))) for g, r in zip(got[:3], ref, strict=True)]

    print(f"tanh, depth {DEPTH}, sigma_w2 {SW}, sigma_b2 {SB}; 10^6 values of q")
    print(f"engine: build {t_build:.3f} s + evaluate xi, xi', xi'', xi''' {t_eval:.3f} s "
          f"= {total:.3f} s (target < 1 s); tiers {set(xf.tiers)}")
    print(f"max |engine - Gauss-Hermite(order 300)| on 200 q: xi {errs[0]:.1e}, "
          f"xi' {errs[1]:.1e}, xi'' {errs[2]:.1e}; xi(0), xi(1) = {xi[500000]:.6f}, "
          f"{xi[-1]:.6f}")
    print(f"baseline 1, scipy dblquad per point: {t_scipy:.3g} s (2 points timed, scaled)")
    print(f"baseline 2, numpy Gauss-Hermite order 64 vectorised: {t_gh:.1f} s "
          "(10^4 points timed, scaled)")
    print(f"RATIO scipy / engine = {t_scipy / total:.2e} (target >= 20); "
          f"numpy GH / engine = {t_gh / total:.0f}")


if __name__ == "__main__":
    main()
