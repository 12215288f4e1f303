"""ξ, ξ', ξ'' of a depth-10 tanh network on 10^6 overlaps q: engine vs numpy Gauss–Hermite.

Figure: wall time of :func:`replicasolve.kernels.compose.xi_function` (build of the 10
layer maps + evaluation of ξ, ξ', ξ'' on 10^6 q) for tanh, depth 10, σ_w² = 1.5,
σ_b² = 0.1; the numba kernel is compiled (or loaded from the disk cache) in a warm-up call
on a different network, so the figure is build + evaluation.

Accuracy: both are compared on 200 q in [-1, 1] with an independent reference, the same
numpy recursion at Gauss–Hermite order 300 (``peers.xi_gauss_hermite``; the error is the
largest over ξ, ξ', ξ'').

Baseline (same run, BLAS as the engine's): what a user would write, the layer recursion
with a fixed 2-D Gauss–Hermite tensor grid vectorised over q in numpy
(``peers.xi_gauss_hermite``), at the smallest order from 16, 24, ..., 256 that is as
accurate as the engine (if none is, the most accurate one, and the label says so: the
ratio is then a lower bound). It is timed on 10^4 q (250 with ``--quick``) and scaled
linearly to 10^6 (its cost is linear in the number of q: one chunk of q after another).
Extra line: ``scipy.integrate.dblquad`` per point (adaptive; a strawman kept for
comparison), timed on 2 q (``--full`` only) and scaled.

Targets: under 1 s, and ratio ≥ 20 against the Gauss–Hermite baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import add_quick, print_result, same_blas_as_engine
from peers import xi_gauss_hermite
from scipy import integrate

from replicasolve.kernels.compose import xi_function

DEPTH, SW, SB = 10, 1.5, 0.1
ORDERS = (16, 24, 32, 48, 64, 96, 128, 160, 192, 256)


def phi(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def dphi(x: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(x) ** 2


def d2phi(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return -2 * t * (1 - t * t)


def _scipy_point(q: float) -> tuple[float, float, float]:
    """The recursion with an adaptive ``dblquad`` for every expectation (the old baseline)."""

    def e(f, g, k, c):
        rho = c / k
        s = np.sqrt(max(1 - rho * rho, 0.0))

        def integrand(z2, z1):
            u = np.sqrt(k) * z1
            v = np.sqrt(k) * (rho * z1 + s * z2)
            return f(u) * g(v) * np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi)

        return integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-10)[0]

    k, var, k1, k2 = SB + SW * q, SB + SW, SW, 0.0
    for _ in range(DEPTH):
        e0, e1, e2 = e(phi, phi, var, k), e(dphi, dphi, var, k), e(d2phi, d2phi, var, k)
        var_next = SB + SW * e(phi, phi, var, var)
        k, k1, k2 = SB + SW * e0, SW * e1 * k1, SW * (e2 * k1 * k1 + e1 * k2)
        var = var_next
    return k, k1, k2


def max_error(got, ref) -> float:
    return max(float(np.max(np.abs(g - r))) for g, r in zip(got[:3], ref, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(ap)
    ap.add_argument("--full", action="store_true", help="also time the dblquad strawman")
    args = ap.parse_args()
    n_time = 250 if args.quick else 10_000

    xi_function("tanh", 2, 1.0, 0.0)(np.linspace(-1, 1, 5))  # warm-up: numba load/compile
    q = np.linspace(-1.0, 1.0, 1_000_000)
    t0 = time.perf_counter()
    xf = xi_function("tanh", DEPTH, SW, SB)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    xi = xf.derivatives(q)[0]
    t_eval = time.perf_counter() - t0
    total = t_build + t_eval

    check = np.linspace(-1, 1, 200)
    ref = xi_gauss_hermite(phi, dphi, d2phi, DEPTH, SW, SB, check, 300)
    err_engine = max_error(xf.derivatives(check), ref)

    errs = {}
    chosen = None
    for order in ORDERS:
        errs[order] = max_error(
            xi_gauss_hermite(phi, dphi, d2phi, DEPTH, SW, SB, check, order), ref
        )
        if errs[order] <= err_engine:
            chosen = order
            break
    as_accurate = chosen is not None
    if chosen is None:
        chosen = min(errs, key=errs.get)

    qs = np.linspace(-1, 1, n_time)
    with same_blas_as_engine():
        t0 = time.perf_counter()
        xi_gauss_hermite(phi, dphi, d2phi, DEPTH, SW, SB, qs, chosen)
        t_gh = (time.perf_counter() - t0) * q.size / qs.size
    ratio = t_gh / total

    print(f"tanh, depth {DEPTH}, sigma_w2 {SW}, sigma_b2 {SB}; 10^6 values of q")
    print(
        f"engine: build {t_build:.3f} s + evaluate xi, xi', xi'' {t_eval:.3f} s "
        f"= {total:.3f} s (target < 1 s); tiers {set(xf.tiers)}; xi(0), xi(1) = "
        f"{xi[500000]:.6f}, {xi[-1]:.6f}"
    )
    print(f"max error on 200 q against numpy Gauss-Hermite order 300: engine {err_engine:.1e}")
    print(
        "numpy Gauss-Hermite tensor grid, max error by order: "
        + ", ".join(f"{o}: {e:.1e}" for o, e in errs.items())
    )
    how = "as accurate as the engine" if as_accurate else "NOT as accurate as the engine (best)"
    print(
        f"baseline: numpy Gauss-Hermite order {chosen} ({how}), vectorised: {t_gh:.1f} s "
        f"({n_time} q timed, scaled to 10^6)"
    )
    if args.full:
        t0 = time.perf_counter()
        for qq in (0.3, 0.8):
            _scipy_point(qq)
        t_scipy = (time.perf_counter() - t0) / 2 * q.size
        print(
            f"extra (strawman, not the baseline): scipy dblquad per point {t_scipy:.3g} s "
            f"(2 points timed, scaled), ratio {t_scipy / total:.2e}"
        )
    met = bool(total < 1.0 and ratio >= 20)
    print(
        f"RATIO Gauss-Hermite / engine = {ratio:.0f} (targets < 1 s and ratio >= 20: "
        f"{'met' if met else 'NOT met'})"
    )
    print_result(
        "kernel_xi",
        total,
        "s",
        t_gh,
        f"numpy 2-D Gauss-Hermite order {chosen}, vectorised"
        + ("" if as_accurate else " (less accurate than the engine: lower bound)"),
        ratio,
        "< 1 s and ratio >= 20",
        met,
    )


if __name__ == "__main__":
    main()
