"""The one family of ξ(q) objects: what :func:`replicasolve.kernels.compose.xi_function`
returns, whatever the route.

Every ξ object derives from :class:`XiResult` (itself a :class:`replicasolve.results.Result`)
and offers the same interface:

- ``xi(q)``: ξ(q) on arrays (any shape, |q| ≤ 1);
- ``xi.derivatives(q)``: ``(ξ, ξ', ξ'', ξ''')`` at ``q``, the form
  :func:`replicasolve.models.pspin.covariance` takes, so any of them can be handed to
  ``MixedPSpin(xi, ...)``; a derivative a route does not provide is NaN;
- ``xi.errors_at(q)``: error estimates of ``(ξ, ξ', ξ'', ξ''')`` at ``q``, meant as upper
  bounds (NaN where the value is not finite or not provided), and ``xi.error(q)`` for ξ
  alone; ``xi.errors`` is the result contract's dict, ``{"xi_error": max_error()}``: the
  largest estimate of ξ's error on [-1, 1];
- ``converged``: ``False`` when the route's own error estimate of ξ exceeds
  :data:`XI_RTOL` relative to max(1, max |ξ|) somewhere on [-1, 1] (``message`` says so);
- ``tier``: the route that produced it, in the words of
  :data:`replicasolve.kernels.dual.TIERS` (``"closed"``, ``"quadrature"``, or both joined
  by ``"+"`` for a chain that mixes them), and ``"ode"`` for the shaped deep limit;
- ``activation`` (text) and ``depth`` (hidden layers, or ``"L -> inf"``);
- ``to_dict()`` and ``table()``: a summary, with ξ and its error on :data:`SUMMARY_Q`.

Members: :class:`~replicasolve.kernels.compose.XiFunction` (tabulated layer maps),
:class:`~replicasolve.kernels.closed_xi.ClosedXi` (one symbolic closed form),
:class:`~replicasolve.kernels.shaped.ShapedReLUXi` and
:class:`~replicasolve.kernels.shaped.SmoothShapedXi` (the shaped L → ∞ limit).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..results import Result, jsonable

__all__ = ["SUMMARY_Q", "XI_RTOL", "XiResult", "rounding_errors"]

#: ``converged`` is False when the estimated error of ξ exceeds this times max(1, max|ξ|)
#: on the check grid (a numerical route that cannot vouch for 5 significant digits)
XI_RTOL = 1e-5
#: the overlaps at which :meth:`XiResult.to_dict` and :meth:`XiResult.table` report ξ
SUMMARY_Q = (-1.0, -0.5, 0.0, 0.5, 1.0)
# the grid on which ``converged`` checks the error estimate of ξ
_CHECK_Q = np.linspace(-1.0, 1.0, 65)


def rounding_errors(values: Any, depth: int) -> tuple[np.ndarray, ...]:
    """Rounding-only error estimates of ``(ξ, ξ', ξ'', ξ''')`` values: 16·ε·(depth + 1)
    times each value's size (NaN where the value is not finite).

    For routes without truncation error (an exact expression evaluated in float64)."""
    out = []
    for v in values:
        va = np.asarray(v, dtype=float)
        with np.errstate(invalid="ignore"):
            e = 16 * np.finfo(float).eps * (depth + 1) * np.abs(va)
        out.append(np.where(np.isfinite(va), e, np.nan))
    return tuple(out)


class XiResult(Result):
    """Base of every ξ(q) object (module docstring). A mixin without fields: subclasses are
    frozen dataclasses that implement :meth:`derivatives`, :meth:`errors`, ``tier``,
    ``activation`` and ``depth``."""

    def derivatives(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (any shape, values in [-1, 1])."""
        raise NotImplementedError  # pragma: no cover - every member implements it

    def errors_at(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Error estimates of (ξ, ξ', ξ'', ξ''') at ``q``, meant as upper bounds."""
        raise NotImplementedError  # pragma: no cover - every member implements it

    @property
    def tier(self) -> str:
        """The route that produced this ξ (module docstring)."""
        raise NotImplementedError  # pragma: no cover - every member implements it

    def __call__(self, q: Any) -> np.ndarray:
        """ξ(q)."""
        return self.derivatives(q)[0]

    def error(self, q: Any) -> np.ndarray:
        """Error estimate of ξ(q): the first entry of :meth:`errors`."""
        return self.errors_at(q)[0]

    @functools.cached_property
    def _check(self) -> tuple[float, float]:
        """(largest error estimate of ξ, max(1, max |ξ|)) on the check grid, once."""
        err = np.asarray(self.error(_CHECK_Q), dtype=float)
        scale = max(1.0, float(np.max(np.abs(self(_CHECK_Q)))))
        return (float(np.max(err)) if np.all(np.isfinite(err)) else math.nan), scale

    @property
    def errors(self) -> dict[str, float]:
        """The contract's error dict: ``{"xi_error": max_error()}``, the largest error
        estimate of ξ on [-1, 1] (per-q estimates of ξ and its derivatives:
        :meth:`errors_at`)."""
        return {"xi_error": self.max_error()}

    def max_error(self) -> float:
        """The largest error estimate of ξ on a grid of 65 points in [-1, 1] (NaN if any is
        not finite)."""
        return self._check[0]

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """True when :meth:`max_error` is at most :data:`XI_RTOL` · max(1, max |ξ|)."""
        err, scale = self._check
        return bool(np.isfinite(err) and err <= XI_RTOL * scale)

    @property
    def message(self) -> str:
        """Why ``converged`` is False (empty when it is True)."""
        if self.converged:
            return ""
        return (f"the estimated error of xi ({self.max_error():.3g}) exceeds {XI_RTOL:g} "
                "relative to max(1, |xi|): raise order/degree or use another tier")

    def _summary(self) -> dict[str, Any]:
        """Route-specific entries of :meth:`to_dict` (settings and diagnostics)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``kind``, ``activation``, ``depth``, ``tier``, the route's
        own settings, ξ and its error estimate at :data:`SUMMARY_Q`, ``converged`` and
        ``message``."""
        q = np.asarray(SUMMARY_Q)
        d: dict[str, Any] = {"kind": type(self).__name__, "activation": str(self.activation),
                             "depth": jsonable(self.depth), "tier": self.tier}
        d.update({k: jsonable(v) for k, v in self._summary().items()})
        d["q"] = jsonable(q)
        d["xi"] = jsonable(self(q))
        d["xi_error"] = jsonable(self.error(q))
        d["converged"] = self.converged
        d["message"] = self.message
        return d

    def table(self) -> str:
        """A two-column summary: the route, ξ ± error at :data:`SUMMARY_Q`, ``converged``."""
        d = self.to_dict()
        rows = [(d["kind"], ""), ("activation", d["activation"]), ("depth", str(d["depth"])),
                ("tier", d["tier"])]
        for k, v in d.items():
            if k in ("kind", "activation", "depth", "tier", "q", "xi", "xi_error",
                     "converged", "message"):
                continue
            text = v if isinstance(v, str) else (
                f"{v:.10g}" if isinstance(v, float) else str(v))
            if len(text) <= 120:
                rows.append((k, text))
        for qi, x, e in zip(d["q"], d["xi"], d["xi_error"], strict=True):
            val = "nan" if x is None else f"{x:.12g}"
            err = "n/a" if e is None else f"{e:.1e}"
            rows.append((f"xi({qi:g})", f"{val} +- {err}"))
        if d["message"]:
            rows.append(("message", d["message"]))
        rows.append(("converged", str(d["converged"])))
        width = max(len(a) for a, _ in rows)
        return "\n".join(f"{a:<{width}}  {b}".rstrip() for a, b in rows)
