"""Activations from a name, a formula string or a sympy expression, with their derivatives.

A name (``relu``, ``tanh``, ``sin``, ``erf``, ``gelu``, ``linear`` …) or a formula in ``x``
(``"x*erf(x) + 0.1*sin(3*x)"``) goes through the whitelist parser
(:func:`replicasolve.symbolic.parse.parse_formula`; never ``eval``/``sympify`` on user text),
sympy differentiates it, and the expressions become numpy callables for the numeric kernel
tiers (:mod:`replicasolve.kernels.numeric`). A derivative that contains a Dirac delta (a
kink or a jump) has no pointwise callable: it is reported as missing, never replaced by a
wrong function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["CHECK_SECONDS", "MAX_DEGREE", "Activation", "activation"]

# names that mean a formula other than "<name>(x)"
_ALIASES = {"linear": "x", "identity": "x", "step": "Heaviside(x)", "gaussian": "exp(-x^2/2)"}
# names with a numeric parameter, as written in the papers: leaky_relu(a), erf(a)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PARAMETRISED = re.compile(rf"^(leaky_relu|erf)\(\s*({_NUMBER})\s*\)$")


@dataclass(frozen=True, eq=False)
class Activation:
    """An activation φ(x) with numpy callables for φ, φ' and φ''.

    Attributes:
        name: what the user gave.
        expr: the sympy expression in ``x``.
        phi: vectorised φ.
        dphi: vectorised φ', or ``None`` when φ' contains a Dirac delta (e.g. sign, step).
        d2phi: vectorised φ'', or ``None`` when φ'' contains a Dirac delta (e.g. relu).
    """

    name: str
    expr: Any
    phi: Callable[[np.ndarray], np.ndarray]
    dphi: Callable[[np.ndarray], np.ndarray] | None
    d2phi: Callable[[np.ndarray], np.ndarray] | None


# a name called in code printed for lambdify: "erf(" in "x*erf(x)"
_CALLED = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\(")


def _lambdify(x: Any, expr: Any) -> Callable[..., Any]:
    """``sympy.lambdify`` of our own expression (built by the whitelist parser, never user
    text) to numpy, with scipy only where numpy lacks a function that it calls.

    lambdify looks a name up in numpy before scipy, so when numpy has every called name
    the function is the same with or without scipy, and importing ``scipy.special``
    (~1 s) is saved. Heaviside(0) = 1/2, the symmetric convention of the Gaussian
    integrals.
    """
    import sympy as sp
    from sympy.printing.numpy import SciPyPrinter

    heaviside = {"Heaviside": lambda t, h0=0.5: np.heaviside(t, h0)}
    # the settings lambdify itself gives its printer
    printer = SciPyPrinter(
        {
            "fully_qualified_modules": False,
            "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {"Heaviside": "Heaviside"},
        }
    )
    called = set(_CALLED.findall(printer.doprint(expr))) - {"Heaviside", "reduce"}
    if not all(hasattr(np, name) for name in called):
        return sp.lambdify(x, expr, modules=[heaviside, "numpy", "scipy"])
    # the module object, not the name "numpy": its namespace is numpy's own dict, where
    # the name runs "from numpy import *" once (~0.1 s: it imports numpy's lazy
    # submodules); the printer is the same (NumPyPrinter) and every called name resolves
    # to the same numpy function
    return sp.lambdify(x, expr, modules=[heaviside, np])


def _callable(expr: Any, x: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    import sympy as sp

    if expr.has(sp.DiracDelta):
        return None
    f = _lambdify(x, expr)

    def vectorised(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.broadcast_to(np.asarray(f(t), dtype=float), t.shape)  # constants too

    return vectorised


#: Largest degree bound (:func:`~replicasolve.symbolic.parse.degree_bound`) of an activation.
#: E[z^(2d)] = (2d-1)!! grows like (2d/e)^d (1e97 at d = 64, overflowing float64 beyond
#: d ~ 150 at unit variance), and the error check of the quadrature tier at half the
#: default order (100 nodes) integrates φ(u)φ(v) exactly only up to degree 2d <= 199.
MAX_DEGREE = 64
#: Seconds of sympy work allowed for each check below before falling back to numerics.
CHECK_SECONDS = 2.0
# points where the growth rate log|φ(x)|/x² is sampled (mpmath: no overflow)
_GROWTH_POINTS = (1e2, 1e3, 1e4, 1e5, 1e6)
# grid on which φ must be finite and real (covers the Gauss–Hermite nodes at unit variance,
# |z| < 27 at order 200, and contains 0 and every multiple of 1/64 in [-32, 32])
_GRID = np.linspace(-32.0, 32.0, 4097)


def _check_integrable(expr: Any, x: Any, name: str) -> None:
    """φ must grow slower than exp(a x²) for every a > 0, else E φ(u)² diverges at some k."""
    import mpmath
    import sympy as sp

    from ..symbolic.parse import SymbolicTimeout, time_limit

    if expr.is_polynomial(x):
        return
    # rate(x) = log|φ(x)|/x² in mpmath (no overflow) at |x| = 1e2 .. 1e6: it tends to a > 0
    # for growth like exp(a x²) and falls by ~10x or more per decade for anything slower
    # (polynomials, exp(b x)); only an unclear pattern goes to sympy's limit (~1 s)
    logabs = sp.lambdify(x, sp.log(sp.Abs(expr)), "mpmath")
    rates = []
    try:
        for side in (1, -1):
            rates.append(
                [float(mpmath.re(logabs(mpmath.mpf(side * v)))) / v**2 for v in _GROWTH_POINTS]
            )
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        rates = [[np.inf] * len(_GROWTH_POINTS)]
    decays = all(r[-1] <= 1e-9 or (r[-1] < 0.3 * r[-2] and r[-2] < 0.3 * r[-3]) for r in rates)
    if decays:
        return
    for side in (sp.oo, -sp.oo):
        try:
            with time_limit(CHECK_SECONDS, "the growth check"):
                rate = sp.limit(sp.log(sp.Abs(expr)) / x**2, x, side)
        except (NotImplementedError, ValueError, TypeError):  # sympy cannot decide: allow
            continue
        except SymbolicTimeout:
            # undecided in time: the sampled rates decide (a rate still above 1e-6 at
            # |x| = 1e6 is not seen for any sub-Gaussian formula of the whitelist in practice)
            rate = sp.oo if max(r[-1] for r in rates) > 1e-6 else sp.S.Zero
        if rate.is_extended_positive:
            raise InvalidInputError(
                f"activation {name!r} grows like exp(c x^2) as x -> {side}: its Gaussian "
                "moments diverge (not integrable)"
            )


def _conditions(expr: Any, x: Any) -> list[tuple[str, Any, Any]]:
    """(kind, b, piece): φ is real and finite on R iff b > 0, b >= 0 or b != 0 for all real x.

    Read off the tree: negative integer powers need a non-zero base, other non-integer
    powers a non-negative (positive, for negative exponents) base, log a positive argument,
    tan a non-zero cosine. Every other whitelisted function is real and finite for real
    finite arguments.
    """
    import sympy as sp

    out = []
    for node in sp.preorder_traversal(expr):
        if not node.has(x):
            continue
        if isinstance(node, sp.Pow):
            b, e = node.base, node.exp
            if e.has(x):
                if b.has(x) or not (b.is_positive or b == 0):
                    out.append(("pos", b, node))
            elif e.is_integer:
                if e.is_negative:
                    out.append(("nonzero", b, node))
            elif e.is_negative:
                out.append(("pos", b, node))
            else:
                out.append(("nonneg", b, node))
        elif isinstance(node, sp.log):
            out.append(("pos", node.args[0], node))
        elif isinstance(node, sp.tan):
            out.append(("nonzero", sp.cos(node.args[0]), node))
    return out


def _violation(kind: str, b: Any, x: Any) -> float | None:
    """A real x where the condition fails, or None when sympy proves it or no point is found.

    sympy decides first (assumptions, then ``solveset`` under a time limit); when it cannot,
    the condition is checked on a dense grid, with bisection of sign changes for b != 0.
    """
    import sympy as sp

    from ..symbolic.parse import SymbolicTimeout, time_limit

    proved = {
        "pos": b.is_positive,
        "nonneg": b.is_nonnegative,
        "nonzero": b.is_positive or b.is_negative or b.is_zero is False,
    }[kind]
    if proved:
        return None
    rel = {"pos": b <= 0, "nonneg": b < 0, "nonzero": sp.Eq(b, 0)}[kind]
    try:
        with time_limit(CHECK_SECONDS, "the domain check"):
            bad = sp.solveset(rel, x, sp.S.Reals)
            if bad is sp.S.EmptySet:
                return None
            if not isinstance(bad, sp.ConditionSet):
                witness = _witness(bad)
                if witness is not None:
                    return witness
                # a non-empty set (e.g. an ImageSet of tan's poles): the grid names a point
                found = _grid_violation(kind, b, x)
                return found if found is not None else float("nan")
    except (SymbolicTimeout, NotImplementedError, ValueError, TypeError):
        pass
    return _grid_violation(kind, b, x)


def _witness(bad: Any) -> float | None:
    """A point of a real set from solveset, nearest 0 where it is easy to tell, or None."""
    import sympy as sp

    points = []
    for part in bad.args if isinstance(bad, sp.Union) else (bad,):
        if isinstance(part, sp.FiniteSet):
            points += [float(v) for v in part if v.is_real]
        elif isinstance(part, sp.Interval):
            lo, hi = part.inf, part.sup
            if lo.is_finite and hi.is_finite:
                points.append(float((lo + hi) / 2))
            elif lo.is_finite:
                points.append(float(lo) + 1)
            elif hi.is_finite:
                points.append(float(hi) - 1)
            else:
                points.append(0.0)
        else:
            return None
    return min(points, key=abs) if points else None


def _grid_violation(kind: str, b: Any, x: Any) -> float | None:
    """The condition checked on the grid (sign changes bisected for b != 0), or None."""
    import sympy as sp

    f = sp.lambdify(x, b, modules=["numpy", "scipy"])
    with np.errstate(all="ignore"):
        try:
            vals = np.broadcast_to(np.asarray(f(_GRID), dtype=complex), _GRID.shape)
        except (OverflowError, ValueError, TypeError, ZeroDivisionError):
            return None  # reported by the finiteness check of φ itself
    re, im = vals.real, vals.imag
    fails = {"pos": re <= 0, "nonneg": re < 0, "nonzero": re == 0}[kind] & (im == 0)
    if kind == "nonzero":
        change = np.sign(re[:-1]) * np.sign(re[1:]) < 0
        fails[:-1] |= change & (im[:-1] == 0) & (im[1:] == 0)
    if fails.any():
        return float(_GRID[np.argmin(np.where(fails, np.abs(_GRID), np.inf))])
    return None


def _check_domain(expr: Any, x: Any, name: str) -> None:
    """φ must be real and finite at every real x (else E φ(u)² is not a finite real)."""
    for kind, b, piece in _conditions(expr, x):
        at = _violation(kind, b, x)
        if at is not None:
            need = {"pos": "> 0", "nonneg": ">= 0", "nonzero": "!= 0"}[kind]
            raise InvalidInputError(
                f"activation {name!r} is not real and finite on the whole real line: "
                f"{piece} needs {b} {need}, which fails "
                + (f"near x = {at:.6g}" if np.isfinite(at) else "at some real x")
            )


def _check_float64(expr: Any, x: Any, name: str) -> None:
    """Independent check of φ itself on a grid: finite and real in float64 (catches constants
    that overflow, like 9**999, and anything the structural domain check missed)."""
    f = _lambdify(x, expr)
    try:
        with np.errstate(all="ignore"):
            vals = np.broadcast_to(np.asarray(f(_GRID), dtype=complex), _GRID.shape)
    except (OverflowError, ValueError, TypeError, ZeroDivisionError) as exc:
        raise InvalidInputError(
            f"activation {name!r} cannot be evaluated in float64 ({exc}): a number in it "
            "overflows or it is not real and finite"
        ) from None
    bad = ~np.isfinite(vals) | (vals.imag != 0)
    if bad.any():
        at = float(_GRID[np.argmax(bad)])
        v = vals[np.argmax(bad)]
        what = "not finite in float64" if not np.isfinite(v) else "not real"
        raise InvalidInputError(
            f"activation {name!r} is {what} at x = {at:.6g} (value {v.real:.6g}"
            f"{'' if v.imag == 0 else f' + {v.imag:.3g}i'}): it must be real and finite on "
            "the whole real line"
        )


def activation(spec: str | Any) -> Activation:
    """Build an :class:`Activation` from a name, a formula string in ``x``, or a sympy expr.

    Raises:
        InvalidInputError: unknown name, a formula that uses anything but ``x`` or a
            non-whitelisted function, a degree bound above :data:`MAX_DEGREE`
            (``(1+x)**1000``), a φ that is not real and finite at every real x (``1/x``,
            ``log(x)``, ``x**(1/3)``, ``9**999*x`` overflowing float64) or a non-integrable
            activation such as ``exp(x^2)``.
    """
    import sympy as sp

    from ..symbolic.parse import ALLOWED_FUNCTIONS, parse_formula

    x = sp.Symbol("x", real=True)
    if isinstance(spec, str):
        text = spec.strip()
        param = _PARAMETRISED.match(text)
        if text in _ALIASES:
            text = _ALIASES[text]
        elif param:  # leaky_relu(0.1) means leaky_relu(x, 0.1); erf(2) means erf(2*x)
            fname, value = param.group(1), param.group(2)
            text = f"leaky_relu(x, {value})" if fname == "leaky_relu" else f"erf({value}*x)"
        elif text.isidentifier() and text != "x":
            if text not in ALLOWED_FUNCTIONS:
                raise InvalidInputError(
                    f"unknown activation {spec!r}: give a known name (relu, tanh, sin, erf, "
                    "gelu, ...) or a formula in x"
                )
            text = f"{text}(x)"
        expr = parse_formula(text, ("x",))
        name = spec
    elif isinstance(spec, sp.Expr):
        expr = spec
        if not expr.free_symbols <= {x}:
            names = sorted(str(s) for s in expr.free_symbols)
            raise InvalidInputError(
                f"activation must be a function of the real symbol x alone, has {names}"
            )
        name = str(spec)
    else:
        raise InvalidInputError(
            f"activation must be a name, a formula or sympy expr, not {type(spec).__name__}"
        )
    if not expr.free_symbols:
        raise InvalidInputError(f"activation {name!r} is a constant, not a function of x")
    from ..symbolic.parse import degree_bound

    degree = degree_bound(expr, x)
    if degree > MAX_DEGREE:
        raise InvalidInputError(
            f"activation {name!r} is of too high a degree: {degree} (limit {MAX_DEGREE}; "
            "a power of a function of x counts that power)"
        )
    _check_domain(expr, x, name)
    _check_integrable(expr, x, name)
    _check_float64(expr, x, name)
    d1 = sp.diff(expr, x)
    d2 = sp.diff(d1, x)
    phi = _callable(expr, x)
    if phi is None:
        raise InvalidInputError(f"activation {name!r} contains a Dirac delta")
    return Activation(name, expr, phi, _callable(d1, x), _callable(d2, x))
