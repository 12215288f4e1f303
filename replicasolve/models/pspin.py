"""Mixed p-spin models: a covariance ξ(q), Ising or spherical spins, a temperature, a field.

A mixed p-spin Hamiltonian H_N(σ) is a centred Gaussian process on configurations σ with

    E H_N(σ) H_N(σ') = N ξ(R(σ, σ')),   R = σ·σ'/N,

plus an external field term -h Σ_i σ_i. Gibbs weights are exp(-H/T). ξ(q) = Σ_p c_p q^p must
have non-negative power-series coefficients (Schoenberg: it is then a covariance on every
sphere and every hypercube), and ξ(1) - ξ(0) > 0. A constant c_0 is a random global energy
shift of mean zero: it does not enter the quenched free energy, and the solvers ignore it.

Examples: SK is ξ = q²/2 (H = Σ_{i<j} J_ij σ_i σ_j / sqrt(N), J ~ N(0, 1)); the pure
spherical p-spin of Auffinger–Ben Arous–Černý is ξ = q^p; the ξ of a random MLP over its
input is :func:`replicasolve.kernels.compose.xi_function` (any object with a
``derivatives(q) -> (ξ, ξ', ξ'', ξ''')`` method is accepted).

This module builds the model and validates ξ once, with sympy where ξ is a formula; the
solvers only ever call :meth:`Covariance.derivatives` (numpy in, numpy out).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..validation import finite_real

__all__ = ["Covariance", "MixedPSpin", "covariance", "frsb_concavity"]

_SPINS = ("ising", "spherical")

# Taylor coefficients of a non-polynomial ξ are computed by an FFT on the circle |q| = r:
# c_n r^n is then accurate to ~1e-15 · max|ξ| on the circle, so a coefficient is called
# negative only when c_n r^n < -_NEG_TOL · max|ξ(r e^{iθ})| (well above rounding).
_CIRCLE_R = 0.5
_CIRCLE_POINTS = 128
_NEG_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class Covariance:
    """A validated covariance function ξ(q) on [0, 1] with its first three derivatives.

    Attributes:
        text: how ξ reads (a formula, or a description of the object given).
        coefficients: ``{p: c_p}`` when ξ is a polynomial, else ``None``.
        xi0, xi1: ξ(0) and ξ(1).
    """

    text: str
    coefficients: Mapping[int, float] | None
    xi0: float
    xi1: float
    _evaluate: Callable[[np.ndarray], tuple[np.ndarray, ...]] = field(repr=False)

    def derivatives(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (array-like, values in [0, 1]), float64 arrays."""
        qa = np.asarray(q, dtype=float)
        out = self._evaluate(qa)
        return tuple(np.asarray(o, dtype=float).reshape(qa.shape) for o in out)  # type: ignore[return-value]

    def __call__(self, q: Any) -> np.ndarray:
        """ξ(q)."""
        return self.derivatives(q)[0]

    def theta(self, q: Any) -> np.ndarray:
        """θ(q) = q ξ'(q) - ξ(q), so dθ = q ξ''(q) dq: the Parisi penalty
        (1/2) ∫ γ(q) q ξ''(q) dq of a step function γ is (1/2) Σ γ_i Δθ_i."""
        x, d1, _, _ = self.derivatives(q)
        return np.asarray(q, dtype=float) * d1 - x

    def is_polynomial(self) -> bool:
        return self.coefficients is not None

    def __repr__(self) -> str:
        return f"Covariance({self.text!r})"


def _polynomial_covariance(coeffs: Mapping[int, float], text: str) -> Covariance:
    clean: dict[int, float] = {}
    for p, c in coeffs.items():
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0:
            raise InvalidInputError(f"xi: power {p!r} is not a non-negative integer")
        try:
            cf = float(c)
        except (TypeError, ValueError):
            raise InvalidInputError(f"xi: coefficient of q^{p} is not a number: {c!r}") from None
        if not math.isfinite(cf):
            raise InvalidInputError(f"xi: coefficient of q^{p} is not finite: {c!r}")
        if cf < 0:
            raise InvalidInputError(
                f"xi = {text} is not a covariance: coefficient of q^{p} is {cf:g} < 0 "
                "(every power-series coefficient must be >= 0)"
            )
        if cf != 0:
            clean[int(p)] = clean.get(int(p), 0.0) + cf
    if not any(p >= 1 for p in clean):
        raise InvalidInputError(
            f"xi = {text} does not depend on q: xi(1) - xi(0) must be > 0"
        )
    deg = max(clean)
    c = np.zeros(deg + 1)
    for p, v in clean.items():
        c[p] = v
    d = [c]
    for _ in range(3):
        d.append(np.polynomial.polynomial.polyder(d[-1]) if len(d[-1]) > 1 else np.zeros(1))

    def evaluate(q: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.polynomial.polynomial.polyval(q, di) for di in d)

    # the solvers use xi and its first three derivatives on [0, 1]; with non-negative
    # coefficients each is largest at q = 1, so finite there means finite everywhere
    # ((1+q)**1000: the third derivative at 1 is about 1e309)
    with np.errstate(over="ignore", invalid="ignore"):
        at_one = [float(np.sum(di)) for di in d]
    for j, value in enumerate(at_one):
        if not math.isfinite(value):
            raise InvalidInputError(
                f"xi = {text} overflows float64 on [0, 1]: its derivative of order {j} at "
                f"q = 1 is {value}"
            )

    return Covariance(
        text=text,
        coefficients=dict(sorted(clean.items())),
        xi0=float(c[0]),
        xi1=float(c.sum()),
        _evaluate=evaluate,
    )


def _expression_covariance(expr: Any, text: str) -> Covariance:
    import sympy

    from ..symbolic.parse import as_expression

    expr = as_expression(expr) if not isinstance(expr, sympy.Expr) else expr
    free = expr.free_symbols
    if len(free) > 1:
        names = ", ".join(sorted(s.name for s in free))
        raise InvalidInputError(f"xi must be a function of q alone, got symbols {names}")
    if not free:
        raise InvalidInputError(f"xi = {text} does not depend on q: xi(1) - xi(0) must be > 0")
    (sym,) = free
    q = sympy.Symbol("q", real=True)
    expr = expr.xreplace({sym: q})
    if expr.is_polynomial(q):
        poly = sympy.Poly(sympy.expand(expr), q)
        coeffs = {}
        for (p,), c in poly.terms():
            if not c.is_number:
                raise InvalidInputError(f"xi = {text}: coefficient {c} is not a number")
            coeffs[int(p)] = float(c)
        return _polynomial_covariance(coeffs, text)

    # Non-polynomial: Taylor coefficients by FFT on a circle inside the unit disk.
    f_complex = sympy.lambdify(q, expr, modules="numpy")
    theta = 2 * np.pi * np.arange(_CIRCLE_POINTS) / _CIRCLE_POINTS
    z = _CIRCLE_R * np.exp(1j * theta)
    with np.errstate(all="ignore"):
        vals = np.asarray(f_complex(z.astype(complex)), dtype=complex) * np.ones_like(z)
    if not np.all(np.isfinite(vals)):
        raise InvalidInputError(
            f"xi = {text} is not analytic on |q| <= {_CIRCLE_R} (a covariance must be a "
            "power series with non-negative coefficients converging on [0, 1])"
        )
    cr = np.fft.fft(vals).real / _CIRCLE_POINTS  # c_n r^n
    scale = float(np.max(np.abs(vals)))
    bad = np.nonzero(cr < -_NEG_TOL * max(scale, 1e-300))[0]
    if bad.size:
        n = int(bad[0])
        raise InvalidInputError(
            f"xi = {text} is not a covariance: its power-series coefficient of q^{n} is "
            f"{cr[n] / _CIRCLE_R**n:.3g} < 0 (every coefficient must be >= 0)"
        )
    from ..symbolic.codegen import compile_expressions

    derivs = [expr]
    for _ in range(3):
        derivs.append(sympy.diff(derivs[-1], q))
    compiled = compile_expressions(derivs, [q], name="xi")

    def evaluate(qa: np.ndarray) -> tuple[np.ndarray, ...]:
        return compiled(qa)

    grid = np.linspace(0.0, 1.0, 257)
    try:
        with np.errstate(all="ignore"):
            vals_real = compiled(grid)
    except (ZeroDivisionError, OverflowError, ValueError, FloatingPointError) as exc:
        raise InvalidInputError(
            f"xi = {text} cannot be evaluated on [0, 1] ({exc}): a covariance must be finite "
            "with two derivatives there"
        ) from None
    x0, x1 = float(vals_real[0][0]), float(vals_real[0][-1])
    if not all(np.all(np.isfinite(v)) for v in vals_real[:3]):
        raise InvalidInputError(f"xi = {text} is not finite with two derivatives on [0, 1]")
    if not x1 - x0 > 0:
        raise InvalidInputError(f"xi = {text}: xi(1) - xi(0) must be > 0")
    return Covariance(text=text, coefficients=None, xi0=x0, xi1=x1, _evaluate=evaluate)


def _object_covariance(obj: Any) -> Covariance:
    text = getattr(obj, "activation", None)
    depth = getattr(obj, "depth", None)
    label = f"xi of {text} network, depth {depth}" if text is not None else repr(obj)

    def evaluate(qa: np.ndarray) -> tuple[np.ndarray, ...]:
        return obj.derivatives(qa)

    grid = np.linspace(0.0, 1.0, 257)
    x, d1, d2, _ = evaluate(grid)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(d1))):
        raise InvalidInputError(f"{label}: xi or xi' is not finite on [0, 1]")
    if np.any(d1 < -1e-12) or np.any(np.nan_to_num(d2, nan=0.0) < -1e-12):
        raise InvalidInputError(f"{label}: xi' or xi'' is negative on [0, 1]: not a covariance")
    if not x[-1] - x[0] > 0:
        raise InvalidInputError(f"{label}: xi(1) - xi(0) must be > 0")
    return Covariance(text=label, coefficients=None, xi0=float(x[0]), xi1=float(x[-1]),
                      _evaluate=evaluate)


def covariance(xi: Any) -> Covariance:
    """Build and validate a :class:`Covariance` from what a user has.

    Parameters
    ----------
    xi
        A formula string in ``q`` (``"q**2/2"``, ``"q^3 + 0.1*q^4"``, ``"exp(q) - 1"``;
        parsed by the whitelist parser, never evaluated), a sympy expression in one symbol,
        a mapping ``{p: c_p}`` of powers to coefficients, a :class:`Covariance`, or an
        object with ``derivatives(q) -> (ξ, ξ', ξ'', ξ''')`` such as
        :func:`replicasolve.kernels.compose.xi_function`'s result.

    Raises
    ------
    InvalidInputError
        If ξ is not a function of q alone, has a negative power-series coefficient, is not
        analytic on the unit disk up to the checking radius, or has ξ(1) - ξ(0) <= 0.
    """
    if isinstance(xi, Covariance):
        return xi
    if isinstance(xi, str):
        from ..symbolic.parse import parse_formula

        expr = parse_formula(xi, ("q",))
        return _expression_covariance(expr, xi.strip())
    if isinstance(xi, Mapping):
        text = " + ".join(f"{c:g}*q^{p}" for p, c in sorted(xi.items()))
        return _polynomial_covariance(xi, text)
    if hasattr(xi, "derivatives"):
        return _object_covariance(xi)
    try:
        import sympy
    except ImportError:  # pragma: no cover
        sympy = None
    if sympy is not None and isinstance(xi, sympy.Basic):
        return _expression_covariance(xi, str(xi))
    raise InvalidInputError(
        f"xi must be a formula string, a sympy expression, a {{p: c_p}} mapping or a "
        f"kernel object, got {type(xi).__name__}"
    )


@dataclass(frozen=True)
class MixedPSpin:
    """A mixed p-spin model at a state point: what :func:`replicasolve.solvers.solve` solves.

    Attributes:
        xi: the covariance (anything :func:`covariance` accepts; stored validated).
        spins: ``"ising"`` (σ ∈ {±1}^N, counting measure: S(T=∞) = ln 2) or
            ``"spherical"`` (|σ|² = N, uniform probability measure: S(T=∞) = 0).
        T: temperature (energy units of H/N), ``T >= 0``; ``T = 0`` asks for the ground state.
        field: external field h (the term -h Σ σ_i).

    Use :meth:`at` for the same model at another temperature or field.
    """

    xi: Any
    spins: str = "ising"
    T: float = 1.0
    field: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "xi", covariance(self.xi))
        spins = str(self.spins).strip().lower() if isinstance(self.spins, str) else self.spins
        if spins not in _SPINS:
            raise InvalidInputError(f"spins must be one of {_SPINS}, got {self.spins!r}")
        object.__setattr__(self, "spins", spins)
        for name in ("T", "field"):
            object.__setattr__(self, name, finite_real(getattr(self, name), name))
        if self.T < 0:
            raise InvalidInputError(f"temperature T must be >= 0, got {self.T:g}")

    @property
    def beta(self) -> float:
        """1/T (``inf`` at T = 0)."""
        return math.inf if self.T == 0 else 1.0 / self.T

    def at(self, **changes: Any) -> MixedPSpin:
        """A copy with ``T`` and/or ``field`` (or ``spins``) changed."""
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        return (f"MixedPSpin(xi={self.xi.text!r}, spins={self.spins!r}, T={self.T:g}, "
                f"field={self.field:g})")


def frsb_concavity(xi: Covariance, n: int = 401) -> bool:
    """Whether ξ''^{-1/2} is concave on (0, 1]: for a spherical model, the condition for a
    full-RSB ground state (Subag 2017; Chen & Sen 2017). Checked by second differences on
    ``n`` points of [1e-3, 1]; False where ξ'' ≤ 0 or is not finite somewhere there."""
    q = np.linspace(1e-3, 1.0, n)
    _, _, d2, _ = xi.derivatives(q)
    if np.any(d2 <= 0) or not np.all(np.isfinite(d2)):
        return False
    g = d2 ** -0.5
    second = g[2:] - 2 * g[1:-1] + g[:-2]
    return bool(np.all(second <= 1e-12 * np.max(np.abs(g))))
