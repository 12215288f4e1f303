"""One small API over the four tiers of the Gaussian dual kernel (neural-tangents style).

``dual_kernel(act, k1, k2, c, derivative=j, tier=...)`` returns E[φ^(j)(u) φ^(j)(v)] for
(u, v) ~ N(0, [[k1, c], [c, k2]]) — by Price's theorem the j-th derivative of the kernel in
c — with the tier that produced it and an error estimate:

1. ``"closed"``: the sympy-derived closed form (:mod:`replicasolve.symbolic.kernels`),
   differentiated j times in c; error = rounding.
2. ``"hermite"``: the Mehler series with exact coefficients (equal variances only), error
   = the Parseval tail bound.
3. ``"quadrature"``: 2-D Gauss–Hermite on φ^(j); error = 2 |order − order/2| difference
   (an upper bound whenever halving the order at least doubles the error: spectral
   convergence for smooth φ, 1/order for kinks, where the factor 2 is needed).
4. ``"monte-carlo"``: plain sampling; error = 4 standard errors (exceeded with probability
   6e-5 for a Gaussian sampling error; one standard error is exceeded a third of the time).

Every ``error`` is meant as an upper bound of |value − exact|, not a typical size.

``"auto"`` takes the first of closed → quadrature that applies. Each tier is tested
against the next one down (``tests/test_tier_agreement.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .activation import Activation, activation

__all__ = ["DualKernel", "dual_kernel"]

TIERS = ("auto", "closed", "hermite", "quadrature", "monte-carlo")
# Monte Carlo error = this many standard errors (see the module docstring)
_MC_SIGMAS = 4.0


@dataclass(frozen=True)
class DualKernel:
    """A dual-kernel value with its provenance.

    Attributes:
        value: the kernel (shape of the broadcast inputs; scalar inputs give 0-d arrays).
        error: the tier's error estimate, an upper bound in practice (same shape).
        tier: which tier produced it.
        derivative: j, the order of φ^(j) in E[φ^(j) φ^(j)].
    """

    value: np.ndarray
    error: np.ndarray
    tier: str
    derivative: int


def _closed(a: Activation, k1, k2, c, j: int):
    import sympy as sp

    from ..symbolic.kernels import dual_kernel as symbolic_dual
    from ..symbolic.parse import SymbolicTimeout, time_limit
    from .compose import CLOSED_FORM_SECONDS

    x = sp.Symbol("x", real=True)
    s1, s2 = sp.Symbol("k1", positive=True), sp.Symbol("k2", positive=True)
    cs = sp.Symbol("c", real=True)
    try:
        with time_limit(CLOSED_FORM_SECONDS, "the closed-form kernel"):
            expr = symbolic_dual(a.expr, x, s1, s2, cs)
            if expr is None:
                return None
            f = sp.lambdify((s1, s2, cs), sp.diff(expr, cs, j), modules=["numpy", "scipy"])
    except SymbolicTimeout:  # the closed form is optional: the numeric tiers take over
        return None
    eps = np.finfo(float).eps

    def at(cc):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(f(k1, k2, cc), dtype=float) + 0 * (k1 + k2 + cc)

    value = at(c)
    err = 8 * eps * np.abs(value)
    # on the edge |c| = sqrt(k1 k2) the closed forms take acos(1), sqrt(0): rounding can
    # step outside (NaN) and precision drops to ~sqrt(eps). Evaluate just inside, twice,
    # and let the difference be the error estimate (it is large where the kernel diverges)
    edge = np.abs(c) >= np.sqrt(k1 * k2) * (1 - 8 * eps)
    if np.any(edge):
        near, far = at(c * (1 - 4 * eps)), at(c * (1 - 64 * eps))
        value = np.where(edge, near, value)
        err = np.where(edge, np.abs(near - far) + 8 * eps * np.abs(near), err)
    return value, err


def dual_kernel(
    act: str | Any,
    k1: Any,
    k2: Any,
    c: Any,
    *,
    derivative: int = 0,
    tier: str = "auto",
    order: int = 200,
    samples: int = 400_000,
    seed: int = 0,
    n_max: int = 20,
) -> DualKernel:
    """E[φ^(j)(u) φ^(j)(v)], (u, v) ~ N(0, [[k1, c], [c, k2]]), from the chosen tier.

    Args:
        act: activation name (``relu``, ``leaky_relu(0.1)``, ``erf(2)``, …), formula in x,
            sympy expression, or :class:`~replicasolve.kernels.activation.Activation`.
        k1, k2: variances (> 0); c: covariance (|c| ≤ sqrt(k1 k2)); arrays broadcast.
        derivative: j ∈ {0, 1, 2} (Price: ∂^j K/∂c^j).
        tier: ``auto``, ``closed``, ``hermite``, ``quadrature`` or ``monte-carlo``.
        order: Gauss–Hermite order; samples, seed: Monte Carlo; n_max: Hermite truncation
            (exact sympy coefficients: ~2 s at 20, ~15 s at 60).

    Raises:
        InvalidInputError: bad activation or variances, a tier that does not apply (no
            closed form; Hermite with unequal variances; φ^(j) with a Dirac delta for the
            numeric tiers).
    """
    from .numeric import gauss_hermite_kernel, monte_carlo_kernel, validate_kcc

    a = act if isinstance(act, Activation) else activation(act)
    if tier not in TIERS:
        raise InvalidInputError(f"tier must be one of {', '.join(TIERS)}; got {tier!r}")
    if derivative not in (0, 1, 2):
        raise InvalidInputError(f"derivative must be 0, 1 or 2, got {derivative}")
    k1a, k2a, ca, _ = validate_kcc(k1, k2, c)
    if tier in ("auto", "closed"):
        found = _closed(a, k1a, k2a, ca, derivative)
        if found is not None:
            return DualKernel(found[0], found[1], "closed", derivative)
        if tier == "closed":
            raise InvalidInputError(f"no closed-form kernel is known for {a.name!r}")
    phi = (a.phi, a.dphi, a.d2phi)[derivative]
    if phi is None:
        raise InvalidInputError(
            f"phi^({derivative}) of {a.name!r} has a Dirac delta: only the closed-form tier "
            "evaluates this kernel"
        )
    if tier == "hermite":
        if derivative or np.any(k1a != k2a):
            raise InvalidInputError("the Hermite tier needs derivative=0 and k1 == k2")
        import sympy as sp

        from ..symbolic.kernels import hermite_kernel

        x = sp.Symbol("x", real=True)
        vals, errs = [], []
        for kk, cc in zip(np.ravel(k1a), np.ravel(ca), strict=True):
            v, b = hermite_kernel(a.expr, x, float(kk), float(cc / kk), n_max)
            vals.append(float(v))
            errs.append(float(b))
        shape = np.shape(ca)
        return DualKernel(np.reshape(vals, shape), np.reshape(errs, shape), "hermite", 0)
    if tier == "monte-carlo":
        vals, errs = [], []
        for a1, a2, cc in zip(np.ravel(k1a), np.ravel(k2a), np.ravel(ca), strict=True):
            m, se = monte_carlo_kernel(phi, float(a1), float(a2), float(cc), samples, seed)
            vals.append(m)
            errs.append(_MC_SIGMAS * se)
        shape = np.shape(ca)
        return DualKernel(np.reshape(vals, shape), np.reshape(errs, shape), "monte-carlo",
                          derivative)
    value = gauss_hermite_kernel(phi, k1a, k2a, ca, order=order)
    coarse = gauss_hermite_kernel(phi, k1a, k2a, ca, order=max(order // 2, 1))
    err = 2.0 * np.abs(value - coarse) + 16 * np.finfo(float).eps * np.abs(value)
    return DualKernel(value, err, "quadrature", derivative)
