"""Fast ξ(q), ξ', ξ'', ξ''' of a deep random MLP: each layer a tabulated 1-D map.

For inputs on the sphere the variance ``v_l = K_l(1)`` of every layer does not depend on
the overlap ``q`` (SCIENCE.md B), so layer ``l`` acts on the covariance through one
function of ``ρ = K_l(q)/v_l ∈ [-1, 1]``::

    K_{l+1}(q) = σ_b² + σ_w² f_l(K_l(q) / v_l),   f_l(ρ) = E[φ(u)φ(v)], Var = v_l, Cov = v_l ρ.

Each ``f_l`` is built once — values at Chebyshev points from the closed-form tier when
sympy derives one (:mod:`replicasolve.symbolic.kernels`), else from 2-D Gauss–Hermite
quadrature (:mod:`replicasolve.kernels.numeric`) — as a Chebyshev series whose derivatives
give ``f', f'', f''', f''''``. These are tabulated on a uniform ρ grid and evaluated by
cubic Hermite interpolation (error ``h⁴/384 · max|f^{(j+4)}|``, ~1e-15 for smooth φ), and
the chain rule (Faà di Bruno) composes the layers in one numba loop over q. Building costs
a few hundred kernel evaluations per layer; evaluation is O(depth) per q.

Accuracy: the Chebyshev tail (the largest of the last few coefficients) is reported as
``interpolation_error``; for φ with a kink (ReLU) the maps are not analytic at ρ = ±1 and
the series converges algebraically there, which this number shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .activation import Activation, activation

__all__ = ["XiFunction", "xi_function"]

_TABLE_POINTS = 4097  # h = 2/4096: cubic Hermite error ~ h⁴/384 ≈ 1e-17 · |f⁽⁴⁾|


@dataclass(frozen=True, eq=False)
class XiFunction:
    """ξ(q) = K_{L+1}(q) of a random MLP, with derivatives, as a fast compiled callable.

    Attributes:
        activation: the activation as given.
        depth: hidden layers ``L``.
        sigma_w2, sigma_b2: per-layer variances, length ``L + 1``.
        variances: ``K_l(1)`` for ``l = 1..L`` (the input variance of each φ).
        tiers: per layer, ``"closed form"`` or ``"quadrature"``.
        degree: Chebyshev degree of each layer map.
        interpolation_error: per layer, the Chebyshev tail (estimate of the map's error;
            0 for closed-form layers, whose tables are exact to rounding).
        smooth_order: how many of φ', φ'', φ''' are ordinary functions (no Dirac
            delta). With a quadrature layer, ξ derivatives beyond it are returned as
            NaN: a Chebyshev series of a kinked kernel cannot be differentiated reliably.

    Where a kernel is singular (ReLU-type at ρ = ±1, e.g. ξ''(1) = ∞ for ReLU) the
    derivatives come out ±inf or NaN rather than a finite wrong number.
    """

    activation: str
    depth: int
    sigma_w2: tuple[float, ...]
    sigma_b2: tuple[float, ...]
    variances: tuple[float, ...]
    tiers: tuple[str, ...]
    degree: int
    interpolation_error: tuple[float, ...]
    smooth_order: int
    _tables: np.ndarray

    def derivatives(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (any shape, values in [-1, 1])."""
        from ._compose_jit import compose

        qa = np.asarray(q, dtype=float)
        if not np.all(np.isfinite(qa)) or np.any(np.abs(qa) > 1):
            raise InvalidInputError("overlap q must be finite with |q| <= 1")
        flat = np.ascontiguousarray(qa.ravel())
        out = np.empty((4, flat.size))
        compose(flat, np.asarray(self.sigma_w2), np.asarray(self.sigma_b2),
                np.asarray(self.variances), self._tables, out)
        if "quadrature" in self.tiers:
            out[1 + self.smooth_order :] = np.nan
        return tuple(o.reshape(qa.shape) for o in out)  # type: ignore[return-value]

    def __call__(self, q: Any) -> np.ndarray:
        """ξ(q)."""
        return self.derivatives(q)[0]


def _per_layer(value: float | Sequence[float], depth: int, name: str, zero_ok: bool):
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1:
        arr = np.full(depth + 1, arr[0])
    if arr.size != depth + 1:
        raise InvalidInputError(f"{name} needs 1 or {depth + 1} values, got {arr.size}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (not zero_ok and np.any(arr == 0)):
        raise InvalidInputError(f"{name} must be {'>= 0' if zero_ok else '> 0'}, got {value}")
    return tuple(float(v) for v in arr)


def _closed_form_maps(act: Activation):
    """``[f, f', ..., f^(4)]`` as numpy functions of ``(v, ρ)`` from the closed-form tier.

    The derivatives in ρ are taken by sympy on the closed form, so the tables are exact to
    rounding (no differentiation of an interpolant); ``None`` when no closed form is known.
    """
    import sympy as sp

    from ..symbolic.kernels import dual_kernel

    x = sp.Symbol("x", real=True)
    v, rho = sp.Symbol("v", positive=True), sp.Symbol("rho", real=True)
    try:
        expr = dual_kernel(act.expr, x, v, v, v * rho)
    except Exception:  # the closed-form tier is optional: fall back to quadrature
        return None
    if expr is None:
        return None
    funcs = []
    for j in range(5):
        dj = sp.diff(expr, rho, j)
        f = sp.lambdify((v, rho), dj, modules=["numpy", "scipy"])
        # at ρ = ±1 the closed form can be 0/0 (terms in sqrt(1-ρ²) that cancel): take
        # the one-sided limits there, by sympy, once per activation
        ends = {
            side: sp.lambdify(v, sp.limit(dj, rho, side, "-" if side > 0 else "+"), "numpy")
            for side in (1, -1)
        }

        def fj(vv: float, rr: np.ndarray, f=f, ends=ends) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.array(np.broadcast_to(np.asarray(f(vv, rr), dtype=float),
                                               np.shape(rr)))
            for side, lim in ends.items():
                at = (np.asarray(rr) == side) & ~np.isfinite(out)
                if np.any(at):
                    value = complex(lim(vv))
                    out[at] = value.real if value.imag == 0 else np.nan
            return out

        funcs.append(fj)
    return funcs


_CACHE_FORMAT = 1  # bump when the tables' meaning changes


def _cache_key(act: Any, depth: int, w2, b2, tier: str, degree: int, order: int) -> str:
    import hashlib

    if isinstance(act, str):
        # the text itself: a warm start then needs no sympy at all (another spelling of
        # the same function is only a cache miss)
        ident = ("text", act.strip())
    else:
        import sympy as sp

        ident = ("expr", sp.srepr(act.expr if isinstance(act, Activation) else act))
    blob = repr((_CACHE_FORMAT, ident, depth, w2, b2, tier, degree, order, _TABLE_POINTS,
                 np.__version__))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cache_file(key: str):
    from .._numba import cache_dir

    return cache_dir() / "xi" / f"{key}.npz"


def _load(key: str, name: str) -> XiFunction | None:
    path = _cache_file(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return XiFunction(
                activation=name, depth=int(f["depth"]),
                sigma_w2=tuple(map(float, f["sigma_w2"])),
                sigma_b2=tuple(map(float, f["sigma_b2"])),
                variances=tuple(map(float, f["variances"])),
                tiers=tuple(str(t) for t in f["tiers"]), degree=int(f["degree"]),
                interpolation_error=tuple(map(float, f["errors"])),
                smooth_order=int(f["smooth_order"]), _tables=f["tables"],
            )
    except (OSError, ValueError, KeyError):  # a damaged cache entry is rebuilt, not fatal
        return None


def _save(key: str, xf: XiFunction) -> None:
    import os
    import tempfile

    path = _cache_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, depth=xf.depth, sigma_w2=xf.sigma_w2, sigma_b2=xf.sigma_b2,
                     variances=np.asarray(xf.variances, dtype=float),
                     tiers=np.asarray(xf.tiers, dtype=str), degree=xf.degree,
                     errors=np.asarray(xf.interpolation_error, dtype=float),
                     smooth_order=xf.smooth_order, tables=xf._tables)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError:  # a read-only cache only costs speed
        if os.path.exists(tmp):
            os.unlink(tmp)


def _smooth_order(a: Activation) -> int:
    """How many of φ', φ'', φ''' are free of Dirac deltas (kinks and jumps)."""
    import sympy as sp

    x = sp.Symbol("x", real=True)
    for j in range(1, 4):
        if sp.diff(a.expr, x, j).has(sp.DiracDelta):
            return j - 1
    return 3


def xi_function(
    act: str | Activation | Any,
    depth: int,
    sigma_w2: float | Sequence[float] = 1.0,
    sigma_b2: float | Sequence[float] = 0.0,
    *,
    tier: str = "auto",
    degree: int = 96,
    order: int = 200,
) -> XiFunction:
    """Build the compiled ξ(q) of an MLP with ``depth`` hidden layers.

    Args:
        act: activation name, formula in x, sympy expression or :class:`Activation`.
        depth: hidden layers ``L ≥ 0`` (ξ = K_{L+1}).
        sigma_w2: weight variance, one or ``L + 1`` values (``W ~ N(0, σ_w²/fan_in)``).
        sigma_b2: bias variance, one or ``L + 1`` values.
        tier: ``"auto"`` (closed form where sympy derives one, else quadrature),
            ``"closed"`` or ``"quadrature"``.
        degree: Chebyshev degree of each layer map.
        order: Gauss–Hermite order of the quadrature tier.
    """
    from .numeric import gauss_hermite_kernel

    if int(depth) != depth or depth < 0:
        raise InvalidInputError(f"depth must be a whole number >= 0, got {depth}")
    if tier not in ("auto", "closed", "quadrature"):
        raise InvalidInputError(f"tier must be 'auto', 'closed' or 'quadrature', got {tier!r}")
    if int(degree) != degree or not 8 <= degree <= 1000:
        raise InvalidInputError(f"degree must be a whole number in [8, 1000], got {degree}")
    w2 = _per_layer(sigma_w2, depth, "sigma_w2", zero_ok=False)
    b2 = _per_layer(sigma_b2, depth, "sigma_b2", zero_ok=True)
    name = act.name if isinstance(act, Activation) else str(act)
    key = _cache_key(act, int(depth), w2, b2, tier, int(degree), int(order))
    cached = _load(key, name)
    if cached is not None:
        return cached
    a = act if isinstance(act, Activation) else activation(act)
    closed = None if tier == "quadrature" else _closed_form_maps(a)
    if tier == "closed" and closed is None:
        raise InvalidInputError(f"no closed-form kernel is known for {a.name!r}")
    cheb = np.polynomial.Chebyshev
    grid = np.linspace(-1.0, 1.0, _TABLE_POINTS)
    tables = np.empty((depth, 5, _TABLE_POINTS))
    variances, errors, tiers = [], [], []
    var = b2[0] + w2[0]  # K_1(1)
    for layer in range(depth):
        if var <= 0:
            raise InvalidInputError(f"layer {layer + 1} has zero input variance")
        variances.append(var)
        if closed is not None:
            tiers.append("closed form")
            errors.append(0.0)
            for j in range(5):
                tables[layer, j] = closed[j](var, grid)
            e_one = float(closed[0](var, np.array([1.0]))[0])
        else:
            tiers.append("quadrature")

            def fmap(r: np.ndarray, v: float = var) -> np.ndarray:
                return gauss_hermite_kernel(a.phi, v, v, v * r, order=order)

            coef = cheb.interpolate(fmap, degree).coef
            errors.append(float(np.max(np.abs(coef[-4:]))))
            # chop the rounding-noise tail: differentiating it (x n^2 per derivative)
            # turns 1e-16 noise into 1e-6 errors in the third derivative
            big = np.abs(coef) > 64 * np.finfo(float).eps * np.max(np.abs(coef))
            keep = np.nonzero(big)[0]
            series = cheb(coef[: keep[-1] + 1] if keep.size else coef[:1])
            for j in range(5):
                tables[layer, j] = (series.deriv(j) if j else series)(grid)
            e_one = float(fmap(np.array([1.0]))[0])
        var = b2[layer + 1] + w2[layer + 1] * e_one
    result = XiFunction(
        activation=a.name, depth=int(depth), sigma_w2=w2, sigma_b2=b2,
        variances=tuple(variances), tiers=tuple(tiers), degree=int(degree),
        interpolation_error=tuple(errors),
        smooth_order=_smooth_order(a), _tables=tables,
    )
    _save(key, result)
    return result
