"""ξ(q) as one closed-form sympy expression, where every layer's kernel has a closed form.

``K_1(q) = σ_b² + σ_w² q`` and ``K_{l+1}(q) = σ_b² + σ_w² K_φ(K_l(1), K_l(1), K_l(q))``
with ``K_φ`` the closed-form dual kernel derived by sympy
(:func:`replicasolve.symbolic.kernels.dual_kernel`). The nested expression is printed in
LaTeX and compiled, with its q-derivatives, through the one code-generation path
(:func:`replicasolve.symbolic.codegen.compile_expressions`: CSE, on-disk numba cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .xi import XiResult, rounding_errors

__all__ = ["ClosedXi", "closed_xi"]


@dataclass(frozen=True, eq=False)
class ClosedXi(XiResult):
    """A closed-form ξ(q) with its compiled value and derivatives (a member of the ξ
    family, :class:`~replicasolve.kernels.xi.XiResult`; ``tier`` is ``"closed"``).

    Attributes:
        expr: ξ as a sympy expression in the real symbol ``q``.
        q: that symbol.
        latex: ``sympy.latex(expr)``.
        activation: the activation (its name or formula).
        depth: hidden layers ``L``.
        sigma_w2, sigma_b2: per-layer variances, length ``L + 1`` (as floats).

    The expression is exact, so :meth:`errors` is float64 rounding only (16·ε·(L + 1)
    relative); where the compiled expression cancels catastrophically (derivatives at
    q = ±1) the value is NaN rather than a wrong number, and so is its error.
    """

    expr: Any
    q: Any
    latex: str
    _compiled: Any
    activation: str = ""
    depth: int = 0
    sigma_w2: tuple[float, ...] = ()
    sigma_b2: tuple[float, ...] = ()

    @property
    def tier(self) -> str:
        """``"closed"``: one symbolic closed form."""
        return "closed"

    def errors_at(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rounding-only error estimates of the four derivatives at ``q`` (class
        docstring)."""
        return rounding_errors(self.derivatives(q), self.depth)  # type: ignore[return-value]

    def _summary(self) -> dict[str, Any]:
        return {"sigma_w2": self.sigma_w2, "sigma_b2": self.sigma_b2, "latex": self.latex}

    def derivatives(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (any shape, |q| ≤ 1)."""
        qa = np.asarray(q, dtype=float)
        if not np.all(np.isfinite(qa)) or np.any(np.abs(qa) > 1):
            raise InvalidInputError("overlap q must be finite with |q| <= 1")
        with np.errstate(invalid="ignore", divide="ignore"):  # domain edge, handled below
            out = [np.array(o, dtype=float) for o in self._compiled(qa)]
        edge = np.abs(qa) == 1.0
        if np.any(edge):
            # at q = ±1 the nested kernels sit on the edge of their domain (acos(1),
            # sqrt(0)) and rounding can step outside: evaluate just inside, twice; a
            # derivative that changes between the two points is not trusted (NaN: the
            # expression cancels catastrophically there; xi_function's tables handle it)
            eps = np.finfo(float).eps
            near = [np.asarray(o, dtype=float) for o in self._compiled(qa[edge] * (1 - 4 * eps))]
            far = [np.asarray(o, dtype=float) for o in self._compiled(qa[edge] * (1 - 64 * eps))]
            out[0][edge] = near[0]
            for j in range(1, 4):
                same = np.abs(near[j] - far[j]) <= 1e-6 * np.maximum(1.0, np.abs(near[j]))
                out[j][edge] = np.where(same, near[j], np.nan)
        return tuple(out)  # type: ignore[return-value]

    def __call__(self, q: Any) -> np.ndarray:
        """ξ(q)."""
        return self.derivatives(q)[0]


def closed_xi(
    act: str | Any,
    depth: int,
    sigma_w2: float | Sequence[float] = 1.0,
    sigma_b2: float | Sequence[float] = 0.0,
) -> ClosedXi | None:
    """ξ(q) = K_{L+1}(q) in closed form, or ``None`` when a layer has no closed form.

    A building block: :func:`replicasolve.kernels.compose.xi_function` with
    ``tier="closed"`` calls it (and raises instead of returning ``None``).

    Args:
        act: activation name, formula in x, or sympy expression in the real symbol x.
        depth: hidden layers ``L ≥ 0``.
        sigma_w2, sigma_b2: one value or one per layer (``L + 1``); exact rationals are
            kept exact (pass strings like ``"3/2"`` through sympy yourself if you need it).
    """
    import sympy as sp

    from ..symbolic.codegen import compile_expressions
    from ..symbolic.kernels import dual_kernel
    from .activation import activation
    from .numeric import per_layer

    a = activation(act) if not hasattr(act, "expr") else act
    if int(depth) != depth or depth < 0:
        raise InvalidInputError(f"depth must be a whole number >= 0, got {depth}")
    w2_in = per_layer(sigma_w2, depth, "sigma_w2", allow_zero=False)
    b2_in = per_layer(sigma_b2, depth, "sigma_b2", allow_zero=True)
    w2 = [sp.nsimplify(v) for v in w2_in]
    b2 = [sp.nsimplify(v) for v in b2_in]
    x = sp.Symbol("x", real=True)
    q = sp.Symbol("q", real=True)
    k_q, k_1 = b2[0] + w2[0] * q, b2[0] + w2[0]
    for layer in range(1, depth + 1):
        cov = dual_kernel(a.expr, x, k_1, k_1, k_q)
        var = dual_kernel(a.expr, x, k_1, k_1, k_1)
        if cov is None or var is None:
            return None
        k_q = b2[layer] + w2[layer] * cov
        k_1 = sp.simplify(b2[layer] + w2[layer] * var)
    xi = k_q
    derivs = [xi, *(sp.diff(xi, q, j) for j in (1, 2, 3))]
    compiled = compile_expressions(derivs, [q], name="closed_xi")
    return ClosedXi(xi, q, sp.latex(xi), compiled, activation=str(a.name), depth=int(depth),
                    sigma_w2=tuple(float(v) for v in w2_in),
                    sigma_b2=tuple(float(v) for v in b2_in))
