"""Compiled numerical functions of expressions that contain Gaussian averages.

The code generator compiles closed-form sympy to numba but cannot compile an ``Integral``.
:class:`GaussianProgram` splits expressions with nested averages E_z[g] (built by
:func:`replicasolve.symbolic.replica_action.gaussian_average`) into levels: level 0 holds
the outer expressions with one placeholder per distinct average, level ℓ the integrands of
the averages at nesting depth ℓ (placeholders for the next level down). Each level is one
compiled module (:func:`replicasolve.symbolic.codegen.compile_expressions`, one CSE pass);
the variable of depth ℓ on array axis ℓ - 1, contracted from the deepest level up.

The rule. The integrands of replica theory at low temperature are sharp: tanh(a z),
ln 2cosh(a z) with a = β sqrt(ξ'(q)) of order several are analytic only in a strip
|Im z| < π/(2a) about the real axis, and a Gauss–Hermite rule converges slowly on them (for
the Ising RS equation at β = 2, ξ = q² + q³/2, 150 nodes leave a residual of 5e-5). Up to
two nested averages the default rule is therefore the trapezoidal rule on [-9, 9] (the
Gaussian tail beyond is below 1e-18), which converges geometrically, like
exp(-2π d / h), for an integrand analytic in a strip of half-width d: the step h is halved
until two successive results agree to :data:`TARGET` (relative to max(1, |value|)),
within :data:`MAX_GRID_POINTS` points in all; :attr:`GaussianProgram.error` holds that
difference, an estimate of the error (the finer result's error is far smaller still).
Deeper nestings, whose grids grow as nodes**depth, use Gauss–Hermite with
:func:`default_nodes` and report no estimate (NaN). An explicit ``nodes`` asks for
Gauss–Hermite with that many nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import InvalidInputError
from ..quadrature import gauss_hermite
from ..symbolic.codegen import CompiledFunctions, compile_expressions
from ..symbolic.replica_action import average_parts

__all__ = ["CUTOFF", "MAX_GRID_POINTS", "TARGET", "GaussianProgram", "default_nodes",
           "trapezoid_rule"]

#: the trapezoidal rule integrates over [-CUTOFF, CUTOFF]: the standard normal tail beyond 9
#: has mass 2e-19
CUTOFF = 9.0
#: the step is halved until two successive results differ by at most this, relative to
#: max(1, |value|)
TARGET = 1e-11
#: the most grid points (nodes**depth) the adaptive rule may use
MAX_GRID_POINTS = 4_000_000
# the first step of the adaptive rule (181 nodes on [-9, 9])
_FIRST_STEP = 0.1


def trapezoid_rule(h: float) -> tuple[np.ndarray, np.ndarray]:
    """The trapezoidal rule of step ``h`` on [-:data:`CUTOFF`, :data:`CUTOFF`] for the
    standard normal measure: nodes ``z`` (shape ``(2n + 1,)``, n = round(CUTOFF/h)) and
    weights proportional to the density, summing to 1."""
    n = round(CUTOFF / h)
    z = h * np.arange(-n, n + 1, dtype=float)
    w = np.exp(-0.5 * z * z)
    return z, w / w.sum()


def default_nodes(depth: int) -> int:
    """Gauss–Hermite nodes per average at nesting ``depth`` (the grid has nodes**depth
    points): 240, 160, 48, 20 for depths 1..4."""
    return {0: 1, 1: 240, 2: 160, 3: 48}.get(depth, 20)


def _is_average(e: sp.Basic) -> bool:
    return (isinstance(e, sp.Integral) and len(e.limits) == 1 and len(e.limits[0]) == 3
            and e.limits[0][1] == -sp.oo and e.limits[0][2] == sp.oo)


def _outermost_averages(expr: sp.Expr) -> list[sp.Integral]:
    found: list[sp.Integral] = []

    def walk(e: sp.Basic) -> None:
        if _is_average(e):
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)

    walk(expr)
    return found


@dataclass(frozen=True)
class _Level:
    compiled: CompiledFunctions | None
    exprs: tuple[sp.Expr, ...]
    args: tuple[sp.Symbol, ...]
    variables: tuple[sp.Symbol, ...]  # integration variables of this level (ℓ ≥ 1)
    n_out: int


class GaussianProgram:
    """Evaluate several expressions with (nested) Gaussian averages at one point.

    Args:
        exprs: name → sympy expression; free symbols among ``params`` (and integration
            variables inside their averages).
        params: the parameters, in the order the compiled functions take them.
        nodes: Gauss–Hermite nodes per average (default: :func:`default_nodes` of the
            deepest nesting).
        name: a label for the generated files.

    Calling ``program(**values)`` returns ``{name: float}``. Compilation happens on first
    call (numba, cached on disk by the code generator).
    """

    def __init__(self, exprs: Mapping[str, sp.Expr], params: Sequence[sp.Symbol], *,
                 nodes: int | None = None, name: str = "derive") -> None:
        self.names = tuple(exprs)
        self.params = tuple(params)
        self.name = name
        levels: list[tuple[tuple[sp.Expr, ...], tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]]
        levels = []
        current = [sp.sympify(exprs[k]) for k in self.names]
        scope = list(self.params)
        variables: tuple[sp.Symbol, ...] = ()
        seen_vars: set[sp.Symbol] = set()
        depth = 0
        while True:
            averages: list[sp.Integral] = []
            for e in current:
                for a in _outermost_averages(e):
                    if a not in averages:
                        averages.append(a)
            holders = [sp.Symbol(f"E_{depth}_{i}", real=True) for i in range(len(averages))]
            table = dict(zip(averages, holders, strict=True))
            reduced = tuple(e.xreplace(table) for e in current)
            levels.append((reduced, tuple(scope) + tuple(holders), variables))
            if not averages:
                break
            depth += 1
            nxt = []
            vs = []
            for a in averages:
                z, g = average_parts(a)
                if z in seen_vars:
                    raise InvalidInputError(
                        f"derivation step 'numerics': variable {z} is averaged at two depths")
                if z not in vs:
                    vs.append(z)
                nxt.append(g)
            seen_vars.update(vs)
            scope = scope + vs
            variables = tuple(vs)
            current = nxt
        self.depth = depth
        self.adaptive = nodes is None and 1 <= depth <= 2
        self.nodes = default_nodes(depth) if nodes is None else int(nodes)
        #: the last call's error estimate per expression (NaN where none was made)
        self.error: dict[str, float] = {k: float("nan") for k in self.names}
        self._spec = levels
        self._levels: list[_Level] | None = None

    def _compile(self) -> list[_Level]:
        if self._levels is None:
            out = []
            for ell, (exprs, args, variables) in enumerate(self._spec):
                compiled = compile_expressions(list(exprs), list(args),
                                               name=f"{self.name} level {ell}")
                out.append(_Level(compiled=compiled, exprs=exprs, args=args,
                                  variables=variables, n_out=len(exprs)))
            self._levels = out
        return self._levels

    def compile(self) -> GaussianProgram:
        """Compile every level now (otherwise on first call); returns ``self``."""
        self._compile()
        return self

    def __call__(self, **values: float) -> dict[str, float]:
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise InvalidInputError(f"missing values for {missing}")
        if not self.adaptive:
            z, w = gauss_hermite(self.nodes) if self.depth else (np.zeros(1), np.ones(1))
            return self._evaluate(values, z, w)
        h = _FIRST_STEP
        z, w = trapezoid_rule(h)
        coarse = self._evaluate(values, z, w)
        while True:
            h /= 2
            z, w = trapezoid_rule(h)
            fine = self._evaluate(values, z, w)
            self.nodes = len(z)
            self.error = {k: abs(fine[k] - coarse[k]) for k in self.names}
            done = all(e <= TARGET * max(1.0, abs(fine[k])) for k, e in self.error.items()
                       if np.isfinite(fine[k]))
            too_big = (2 * len(z)) ** self.depth > MAX_GRID_POINTS
            if done or too_big:
                return fine
            coarse = fine

    def _evaluate(self, values: Mapping[str, float], z: np.ndarray,
                  w: np.ndarray) -> dict[str, float]:
        """The expressions at ``values`` with the rule ``(z, w)`` on every average."""
        levels = self._compile()
        n = len(z)
        base = {p: np.float64(values[p.name]) for p in self.params}
        below: list[np.ndarray] = []  # placeholder values from the level beneath
        for ell in range(len(levels) - 1, -1, -1):
            level = levels[ell]
            env = dict(base)
            # the variable of depth j (1..ell) on axis j - 1 of an ell-dimensional grid
            for j in range(1, ell + 1):
                shape = [1] * ell
                shape[j - 1] = n
                for v in levels[j].variables:
                    env[v] = z.reshape(shape)
            arrays = [env[a] for a in level.args[:len(level.args) - len(below)]] + below
            outs = level.compiled(*arrays)
            if ell == 0:
                return {k: float(np.asarray(o)) for k, o in zip(self.names, outs, strict=True)}
            grid = (n,) * ell
            below = [np.sum(np.broadcast_to(o, grid) * w, axis=-1) for o in outs]
        raise AssertionError("unreachable")  # pragma: no cover

    def evaluate(self, values: Mapping[str, Any]) -> dict[str, float]:
        """``self(**values)`` for a mapping."""
        return self(**dict(values))
