"""The trust-region subproblem shared by the Newton optimisers (the spherical Parisi solver
and the finite-width k-RSB optimiser): numpy only, so importing it stays light."""

from __future__ import annotations

import numpy as np

__all__ = ["trust_region_step"]


def trust_region_step(lam: np.ndarray, vec: np.ndarray, g: np.ndarray,
                      radius: float) -> np.ndarray:
    """Minimiser of g·s + s·H s/2 over |s| <= radius, H = vec diag(lam) vecᵀ (the
    trust-region subproblem, Moré–Sorensen; the "hard case" is absorbed by the shift floor).

    Args:
        lam: eigenvalues of H, ascending, shape (n,).
        vec: its eigenvectors as columns, shape (n, n).
        g: the gradient, shape (n,).
        radius: the trust radius (> 0).

    Returns: the step s, shape (n,); the shift μ ≥ max(0, -λ_min) is found by bisection to
    1e-3 relative (Moré & Sorensen, SIAM J. Sci. Stat. Comput. 4, 553 (1983)).
    """
    gc = vec.T @ g
    lo = max(0.0, -float(lam[0])) if lam.size else 0.0
    floor = 1e-12 * max(float(np.max(np.abs(lam), initial=0.0)), 1e-300)

    def size(mu: float) -> float:
        return float(np.linalg.norm(gc / np.maximum(lam + mu, floor)))

    mu = 0.0
    if lo > 0 or size(0.0) > radius:
        a, b = lo, lo + 1.0
        while size(b) > radius:
            b = lo + 4.0 * (b - lo)
        for _ in range(100):  # ||s(μ)|| is decreasing in μ: bisect to 1e-3 relative
            mid = 0.5 * (a + b)
            if size(mid) > radius:
                a = mid
            else:
                b = mid
            if b - a <= 1e-3 * b:
                break
        mu = b
    return -vec @ (gc / np.maximum(lam + mu, floor))
