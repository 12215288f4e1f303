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

__all__ = ["Activation", "activation"]

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


def _callable(expr: Any, x: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    import sympy as sp

    if expr.has(sp.DiracDelta):
        return None
    # lambdify compiles our own sympy expression (built by the whitelist parser), not user
    # text. Heaviside(0) = 1/2, the symmetric convention of the Gaussian integrals.
    f = sp.lambdify(x, expr, modules=[{"Heaviside": lambda t, h0=0.5: np.heaviside(t, h0)},
                                      "numpy", "scipy"])

    def vectorised(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.broadcast_to(np.asarray(f(t), dtype=float), t.shape)  # constants too

    return vectorised


def _check_integrable(expr: Any, x: Any, name: str) -> None:
    """φ must grow slower than exp(a x²) for every a > 0, else E φ(u)² diverges at some k."""
    import mpmath
    import sympy as sp

    # cheap screen first (sympy's limit costs ~1 s): log|φ|/x² at |x| = 100, 400 in
    # mpmath; sub-quadratic exponential growth makes it small, and only then is it skipped
    logabs = sp.lambdify(x, sp.log(sp.Abs(expr)), "mpmath")
    try:
        rates = [float(mpmath.re(logabs(mpmath.mpf(v)))) / v**2
                 for v in (100, -100, 400, -400)]
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        rates = [np.inf]
    if max(rates) < 1e-3:
        return
    for side in (sp.oo, -sp.oo):
        try:
            rate = sp.limit(sp.log(sp.Abs(expr)) / x**2, x, side)
        except (NotImplementedError, ValueError, TypeError):  # sympy cannot decide: allow
            continue
        if rate.is_extended_positive:
            raise InvalidInputError(
                f"activation {name!r} grows like exp(c x^2) as x -> {side}: its Gaussian "
                "moments diverge (not integrable)"
            )


def activation(spec: str | Any) -> Activation:
    """Build an :class:`Activation` from a name, a formula string in ``x``, or a sympy expr.

    Raises:
        InvalidInputError: unknown name, a formula that uses anything but ``x`` or a
            non-whitelisted function, or a non-integrable activation such as ``exp(x^2)``.
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
        raise InvalidInputError(f"activation must be a name, a formula or sympy expr, not "
                                f"{type(spec).__name__}")
    if not expr.free_symbols:
        raise InvalidInputError(f"activation {name!r} is a constant, not a function of x")
    _check_integrable(expr, x, name)
    d1 = sp.diff(expr, x)
    d2 = sp.diff(d1, x)
    phi = _callable(expr, x)
    if phi is None:
        raise InvalidInputError(f"activation {name!r} contains a Dirac delta")
    return Activation(name, expr, phi, _callable(d1, x), _callable(d2, x))
