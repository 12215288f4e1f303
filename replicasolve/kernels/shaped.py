"""Shaped activations at large depth: the depth-continuum kernel ODE in t = l/L.

Li, Nica & Roy (arXiv 2206.02768) shape the activation with the depth L so that the
kernel of an L-layer network has a limit as L → ∞, described by an ODE in t = l/L
(the deterministic, infinite-width part of their covariance SDE). Derived here (and
checked against the discrete recursion of :mod:`replicasolve.kernels.compose`):

Shaped ReLU, slopes ``s_± = 1 + c_±/sqrt(L)`` and ``σ_w² = 2/(s_+² + s_-²)`` (the
variance stays 1): writing φ = a x + b|x|, one layer maps the correlation to
``(a² ρ + b² g(ρ))/(a² + b²)`` with ``g(ρ) = E|u||v| = (2/π)(sqrt(1-ρ²) + ρ asin ρ)``, and
``b² = (c_+ - c_-)²/(4L)``, so

    dρ/dt = ν(ρ) = (c_+ - c_-)²/(2π) · (sqrt(1 - ρ²) - ρ arccos ρ).

Smooth shaping ``φ_L(x) = a sqrt(L) φ(x/(a sqrt(L)))`` of a φ with φ(0) = 0, φ'(0) = 1:
``φ_L(x) = x + α x²/sqrt(L) + β x³/L + O(L^{-3/2})`` with α = φ''(0)/(2a),
β = φ'''(0)/(6a²); Gaussian moments (E[uv²] = 0, E[u²v²] = k₁k₂ + 2c², E[uv³] = 3k₂c)
give, with σ_w² = 1 and σ_b² = 0, for the variance k and covariance c,

    dk/dt = 3α² k² + 6β k²,     dc/dt = α² (k² + 2c²) + 6β k c,

with one-step errors O(L^{-2}), hence O(1/L) after L layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from .xi import XiResult

__all__ = ["ShapedReLUXi", "ShapedSolution", "SmoothShapedXi", "shaped_relu_ode",
           "smooth_shaped_coefficients", "smooth_shaped_ode"]

# integration tolerances of the kernel ODEs, and the looser ones whose difference from
# them is the error estimate of the ξ objects (DOP853's global error scales with the
# tolerance, so the tight solution is far closer to the exact one than that difference)
_RTOL, _ATOL = 1e-12, 1e-14
_CHECK_RTOL, _CHECK_ATOL = 1e-10, 1e-12


@dataclass(frozen=True)
class ShapedSolution:
    """Solution of a depth-continuum kernel ODE at ``t = 1`` (the network output).

    Attributes:
        t: the times at which the solution is given, shape ``(m,)``.
        rho: correlation ρ(t) (shape ``(m,)``).
        k: variance k(t) (ones for shaped ReLU, which keeps it fixed).
    """

    t: np.ndarray
    rho: np.ndarray
    k: np.ndarray


def _solve(rhs, y0, t_eval, rtol: float = _RTOL, atol: float = _ATOL):
    from scipy.integrate import solve_ivp

    sol = solve_ivp(rhs, (0.0, float(t_eval[-1])), y0, t_eval=t_eval, method="DOP853",
                    rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - smooth right-hand sides
        raise InvalidInputError(f"the kernel ODE could not be integrated: {sol.message}")
    return sol.y


def shaped_relu_ode(
    c_plus: float, c_minus: float, rho0: float, t: float | np.ndarray = 1.0
) -> ShapedSolution:
    """ρ(t) for shaped ReLU: dρ/dt = (c_+ - c_-)²/(2π)(sqrt(1-ρ²) - ρ arccos ρ), ρ(0) = ρ0.

    Li, Nica & Roy (arXiv 2206.02768), infinite-width limit; derived in the module docstring.
    """
    if not -1 <= rho0 <= 1:
        raise InvalidInputError(f"rho0 must be in [-1, 1], got {rho0}")
    t_eval = np.atleast_1d(np.asarray(t, dtype=float))
    if np.any(t_eval < 0) or np.any(np.diff(t_eval) < 0):
        raise InvalidInputError("times must be non-negative and increasing")
    nu = (c_plus - c_minus) ** 2 / (2 * np.pi)

    def rhs(_t, y):
        r = min(max(y[0], -1.0), 1.0)  # ρ = 1 is a fixed point; rounding must not pass it
        return [nu * (np.sqrt(1 - r * r) - r * np.arccos(r))]

    y = _solve(rhs, [float(rho0)], t_eval)
    return ShapedSolution(t_eval, y[0], np.ones_like(t_eval))


def smooth_shaped_coefficients(activation: str, a: float = 1.0) -> tuple[float, float]:
    """(α, β) = (φ''(0)/(2a), φ'''(0)/(6a²)) of an activation with φ(0) = 0, φ'(0) = 1."""
    import sympy as sp

    from .activation import activation as make

    if not np.isfinite(a) or a <= 0:
        raise InvalidInputError(f"shape parameter a must be positive, got {a}")
    act = make(activation)
    x = sp.Symbol("x", real=True)
    derivs = [sp.diff(act.expr, x, j).subs(x, 0) for j in range(4)]
    if any(d.has(sp.DiracDelta) or not d.is_finite for d in derivs):
        raise InvalidInputError(f"{activation!r} is not smooth at 0: shape it as ReLU instead")
    vals = [float(d) for d in derivs]
    if abs(vals[0]) > 1e-14 or abs(vals[1] - 1) > 1e-14:
        raise InvalidInputError(
            f"smooth shaping needs phi(0) = 0 and phi'(0) = 1; {activation!r} has "
            f"phi(0) = {vals[0]:g}, phi'(0) = {vals[1]:g}"
        )
    return vals[2] / (2 * a), vals[3] / (6 * a * a)


def smooth_shaped_ode(
    activation: str, a: float, k0: float, c0: float, t: float | np.ndarray = 1.0
) -> ShapedSolution:
    """(k(t), ρ(t)) for the smoothly shaped activation (module docstring), k(0)=k0, c(0)=c0."""
    alpha, beta = smooth_shaped_coefficients(activation, a)
    if not k0 > 0 or abs(c0) > k0:
        raise InvalidInputError(f"need k0 > 0 and |c0| <= k0, got k0={k0}, c0={c0}")
    t_eval = np.atleast_1d(np.asarray(t, dtype=float))

    def rhs(_t, y):
        k, c = y
        return [3 * alpha**2 * k * k + 6 * beta * k * k,
                alpha**2 * (k * k + 2 * c * c) + 6 * beta * k * c]

    k, c = _solve(rhs, [float(k0), float(c0)], t_eval)
    return ShapedSolution(t_eval, c / k, k)


def _overlaps(q) -> tuple[np.ndarray, np.ndarray]:
    """``q`` as an array and its flat view, checked to be finite with |q| ≤ 1."""
    qa = np.asarray(q, dtype=float)
    flat = qa.ravel()
    if not np.all(np.isfinite(flat)) or np.any(np.abs(flat) > 1):
        raise InvalidInputError("overlap q must be finite with |q| <= 1")
    return qa, flat


class _DeepLimit(XiResult):
    """What the L → ∞ kernels share: the depth label (reported by Covariance
    descriptions), the tier ``"ode"``, and error estimates from a second integration at
    looser tolerances. Members of the ξ family (:class:`~replicasolve.kernels.xi.XiResult`).

    The errors are those of the limit ξ itself; a network of finite depth L differs from
    it by O(1/L) (symmetric shaping) or O(L^{-1/2}) (module docstring)."""

    @property
    def depth(self) -> str:
        return "L -> inf"

    @property
    def tier(self) -> str:
        """``"ode"``: the depth-continuum kernel ODE."""
        return "ode"

    def _solution(self, q, rtol: float, atol: float) -> tuple[np.ndarray, ...]:
        raise NotImplementedError  # pragma: no cover - every subclass implements it

    def derivatives(self, q) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (|q| ≤ 1); ξ''' is not provided (NaN)."""
        return self._solution(q, _RTOL, _ATOL)  # type: ignore[return-value]

    def errors_at(self, q) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Error estimates of (ξ, ξ', ξ'', ξ''') at ``q``: the difference from a second
        integration at 100x looser tolerances, never below 16 ε |value| (NaN where the
        value is not finite, and for ξ''')."""
        main = self._solution(q, _RTOL, _ATOL)
        loose = self._solution(q, _CHECK_RTOL, _CHECK_ATOL)
        out = []
        for m, c in zip(main, loose, strict=True):
            with np.errstate(invalid="ignore"):
                e = np.maximum(np.abs(m - c), 16 * np.finfo(float).eps * np.abs(m))
            out.append(np.where(np.isfinite(m), e, np.nan))
        return tuple(out)  # type: ignore[return-value]


@dataclass(frozen=True)
class ShapedReLUXi(_DeepLimit):
    """ξ(q) = ρ(t = 1; ρ(0) = q) of a deep shaped-ReLU network (infinite width, L → ∞),
    with ξ' and ξ'' from the variational equations of the kernel ODE:

        dρ/dt = ν(ρ),  dρ'/dt = ν'(ρ) ρ',  dρ''/dt = ν''(ρ) ρ'² + ν'(ρ) ρ'',
        ν(ρ) = c (sqrt(1-ρ²) - ρ arccos ρ),  ν' = -c arccos ρ,  ν'' = c / sqrt(1-ρ²),

    c = (c_+ - c_-)²/(2π). ξ'' is infinite at q = 1 (ν'' is), as for ReLU itself. ξ''' is
    not provided (NaN). The variance is 1 at every depth, so ξ(1) = 1.
    """

    c_plus: float
    c_minus: float

    @property
    def activation(self) -> str:
        return f"shaped relu (c+ = {self.c_plus:g}, c- = {self.c_minus:g})"

    def _summary(self) -> dict:
        return {"c_plus": self.c_plus, "c_minus": self.c_minus}

    def _solution(self, q, rtol: float, atol: float) -> tuple[np.ndarray, ...]:
        qa, flat = _overlaps(q)
        c = (self.c_plus - self.c_minus) ** 2 / (2 * np.pi)
        m = flat.size
        at_one = flat >= 1.0
        # at q = -1, ν'' = c/sqrt(1-ρ²) starts infinite: integrable (ρ + 1 grows like t),
        # but the integrator crawls into it without end. ξ''(-1) is not provided (NaN) and
        # its equation is left out there (ξ and ξ' are unaffected: ν and ν' are finite)
        at_minus_one = flat <= -1.0

        def rhs(_t, y):
            r = np.clip(y[:m], -1.0, 1.0)
            r1, r2 = y[m:2 * m], y[2 * m:]
            s = np.sqrt(np.maximum(1 - r * r, 0.0))
            ac = np.arccos(r)
            with np.errstate(divide="ignore", invalid="ignore"):
                nu2 = np.where((s > 0) & ~at_minus_one, c / s, 0.0)
            return np.concatenate([c * (s - r * ac), -c * ac * r1, nu2 * r1 * r1 - c * ac * r2])

        y0 = np.concatenate([np.where(at_one, 1.0, flat), np.ones(m), np.zeros(m)])
        y = _solve(rhs, y0, np.array([1.0]), rtol, atol)[:, -1]
        xi, d1, d2 = y[:m], y[m:2 * m], y[2 * m:]
        d2 = np.where(at_one, np.inf, np.where(at_minus_one, np.nan, d2))
        shape = qa.shape
        return (xi.reshape(shape), d1.reshape(shape), d2.reshape(shape),
                np.full(shape, np.nan))


@dataclass(frozen=True)
class SmoothShapedXi(_DeepLimit):
    """ξ(q) = c(t = 1; k(0) = 1, c(0) = q) of a deep smoothly shaped network
    φ_L(x) = a sqrt(L) φ(x/(a sqrt(L))) (L → ∞, σ_w² = 1, σ_b² = 0), with ξ', ξ'' from the
    variational equations of the kernel ODE of the module docstring:

        dk/dt = (3α² + 6β) k²,   dc/dt = α²(k² + 2c²) + 6β k c,
        dc'/dt = (4α² c + 6β k) c',   dc''/dt = 4α² c'² + (4α² c + 6β k) c''

    (k does not depend on q). ξ''' is not provided (NaN).
    """

    activation_name: str
    a: float = 1.0

    @property
    def activation(self) -> str:
        return f"smooth-shaped {self.activation_name} (a = {self.a:g})"

    def _summary(self) -> dict:
        return {"a": self.a}

    def _solution(self, q, rtol: float, atol: float) -> tuple[np.ndarray, ...]:
        qa, flat = _overlaps(q)
        al, be = smooth_shaped_coefficients(self.activation_name, self.a)
        m = flat.size

        def rhs(_t, y):
            k = y[0]
            c, c1, c2 = y[1:1 + m], y[1 + m:1 + 2 * m], y[1 + 2 * m:]
            lin = 4 * al * al * c + 6 * be * k
            return np.concatenate([[(3 * al * al + 6 * be) * k * k],
                                   al * al * (k * k + 2 * c * c) + 6 * be * k * c,
                                   lin * c1, 4 * al * al * c1 * c1 + lin * c2])

        y0 = np.concatenate([[1.0], flat, np.ones(m), np.zeros(m)])
        y = _solve(rhs, y0, np.array([1.0]), rtol, atol)[:, -1]

        shape = qa.shape
        return (y[1:1 + m].reshape(shape), y[1 + m:1 + 2 * m].reshape(shape),
                y[1 + 2 * m:].reshape(shape), np.full(shape, np.nan))
