"""Fast ξ(q), ξ', ξ'', ξ''' of a deep random MLP: each layer a tabulated 1-D map.

:func:`xi_function` here is the one entry point for ξ of an activation at a depth, every
route included (``tier``: the tables below for ``"auto"``/``"quadrature"``, one symbolic
closed form for ``"closed"``, the shaped deep limit for ``"ode"`` with ``shape=``); each
returns a member of the family :class:`replicasolve.kernels.xi.XiResult`. The rest of this
docstring describes the tables, :class:`XiFunction`.

For inputs on the sphere the variance ``v_l = K_l(1)`` of every layer does not depend on
the overlap ``q`` (the recursion of :mod:`replicasolve.kernels.numeric`), so layer ``l``
acts on the covariance through one function of ``ρ = K_l(q)/v_l ∈ [-1, 1]``::

    K_{l+1}(q) = σ_b² + σ_w² f_l(K_l(q) / v_l),   f_l(ρ) = E[φ(u)φ(v)], Var = v_l, Cov = v_l ρ.

Each ``f_l`` is built once — values at Chebyshev points from the closed-form tier when
sympy derives one (:mod:`replicasolve.symbolic.kernels`), else from 2-D Gauss–Hermite
quadrature (:mod:`replicasolve.kernels.numeric`) — as a Chebyshev series whose derivatives
give ``f', f'', f''', f''''``. These are tabulated on a uniform ρ grid and evaluated by
cubic Hermite interpolation (error ``h⁴/384 · max|f^{(j+4)}|``, ~1e-15 for smooth φ), and
the chain rule (Faà di Bruno) composes the layers in one numba loop over q. Building costs
a few hundred kernel evaluations per layer; evaluation is O(depth) per q.

Accuracy: the whole chain of tables is built a second time at half the resolution in each
parameter (Gauss–Hermite order, Chebyshev degree, table points), and the two chains are
composed independently, so every layer's error (quadrature of the map, Chebyshev fit, table
interpolation) reaches ξ the way it really propagates: amplified or damped by the slopes
of the later layers, through both K_l(q) and the variance K_l(1).
:meth:`XiFunction.errors` is twice the difference of the two chains. That bounds the error
of the full-resolution chain whenever halving the resolution at least doubles the error:
spectral convergence for smooth φ, and 1/order for kinks (ReLU), where the factor 2 is
what makes it a bound. ``interpolation_error`` is the same comparison for each layer's map
on its own (local, not propagated).
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .activation import Activation, activation
from .numeric import MAX_DEPTH, per_layer
from .xi import XiResult

__all__ = ["CLOSED_FORM_SECONDS", "MAX_DEPTH", "XI_TIERS", "XiFunction", "xi_function"]

#: the ``tier`` values :func:`xi_function` accepts (module docstring)
XI_TIERS = ("auto", "closed", "quadrature", "ode")
# old spellings still accepted, mapped to the one vocabulary of kernels.dual.TIERS
_TIER_ALIASES = {"closed form": "closed", "closed-form": "closed", "shaped": "ode"}

_TABLE_POINTS = 4097  # h = 2/4096: cubic Hermite error ~ h⁴/384 ≈ 1e-17 · |f⁽⁴⁾|
# MAX_DEPTH (1000): each layer holds 2 × 5 tables of 4097 doubles (0.25 MB with the check
# chain) and a quadrature layer costs ~10⁷ evaluations of φ (0.1-1 s), so 1000 layers is
# minutes and 250 MB; deeper networks are refused rather than left running for hours.
#: Seconds of sympy work allowed to derive an activation's closed-form layer maps; past
#: that the layers are computed by quadrature (the closed form is only an optimisation).
CLOSED_FORM_SECONDS = 8.0
# each one-sided limit at ρ = ±1 (taken only where the closed form is 0/0 there)
_LIMIT_SECONDS = 2.0
# the error estimate is this many times |full-resolution chain - half-resolution chain|
_SAFETY = 2.0
# closed forms whose derivation ran out of time, by srepr: not tried again in this process
_CLOSED_FAILED: set[str] = set()
# overlaps from which the composition runs on numba's threads (4 blocks of the kernel)
_PARALLEL_MIN = 2048
# While numba is not loaded, compositions run in numpy (the same bits) until their
# estimated time reaches what loading numba and its cached kernel costs (~1 s), then numba
# is loaded: at most twice the time of the better choice made in hindsight (the
# ski-rental rule). At most _NUMPY_MAX overlaps per numpy call (~30 temporaries of that
# size: 16 MB).
_NUMPY_SECONDS = 1.0
_NUMPY_MAX = 65536
_numpy_seconds = 0.0


@dataclass(frozen=True, eq=False)
class XiFunction(XiResult):
    """ξ(q) = K_{L+1}(q) of a random MLP, with derivatives, as a fast compiled callable
    (a member of the ξ family, :class:`~replicasolve.kernels.xi.XiResult`).

    Attributes:
        activation: the activation as given.
        depth: hidden layers ``L``.
        sigma_w2, sigma_b2: per-layer variances, length ``L + 1``.
        variances: ``K_l(1)`` for ``l = 1..L`` (the input variance of each φ).
        tiers: per layer, ``"closed"`` (the layer map from its closed form) or
            ``"quadrature"`` (the words of :data:`replicasolve.kernels.dual.TIERS`; files
            cached with the old label ``"closed form"`` are read as ``"closed"``).
        degree: Chebyshev degree of each layer map.
        interpolation_error: per layer, an upper estimate of the error of that layer's map
            f_l on its own (quadrature, Chebyshev fit and table interpolation, from the
            half-resolution rebuild at the same variance; rounding for closed-form layers).
            It is local: the errors of earlier layers propagate and can grow through the
            depth, so the error of ξ itself is given by :meth:`errors`.
        smooth_order: how many of φ', φ'', φ''' are ordinary functions (no Dirac
            delta). With a quadrature layer, ξ derivatives beyond it are returned as
            NaN: a Chebyshev series of a kinked kernel cannot be differentiated reliably.
        expression: φ(x) as sympy prints it, kept so that a network read back from the
            cache needs no sympy to say what φ is (empty for tables cached before it
            was stored).

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
    _check_variances: tuple[float, ...] = ()
    _check_tables: np.ndarray | None = None
    _scale: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    expression: str = ""

    def _compose(self, q: Any, variances, tables, nout: int = 4) -> tuple[np.ndarray, np.ndarray]:
        qa = np.asarray(q, dtype=float)
        flat = np.ascontiguousarray(qa.ravel())
        out = np.empty((nout, flat.size))
        args = (
            flat,
            np.asarray(self.sigma_w2),
            np.asarray(self.sigma_b2),
            np.asarray(variances, dtype=float),
            tables,
            out,
            nout,
        )
        global _numpy_seconds
        # estimated numpy time of this call (measured: ~0.1 ms per layer and call, and
        # ~150 ns per overlap and layer)
        cost = (1e-4 + 1.5e-7 * flat.size) * max(len(variances), 1)
        if (
            "replicasolve.kernels._compose_jit" not in sys.modules
            and flat.size <= _NUMPY_MAX
            and _numpy_seconds + cost <= _NUMPY_SECONDS
        ):
            # numba is not loaded yet (a command line, a short script): numpy gives the
            # same bits without numba's start-up
            _numpy_seconds += cost
            if not (np.all(np.abs(flat) <= 1.0)):  # also NaN
                raise InvalidInputError("overlap q must be finite with |q| <= 1")
            _compose_numpy(*args)
            bad = 0
        elif flat.size >= _PARALLEL_MIN:
            from ._compose_jit import compose_parallel

            bad = compose_parallel(*args)
        else:
            # below a few blocks the threads' fork and join costs more than it saves
            from ._compose_jit import compose_serial

            bad = compose_serial(*args)
        if bad:  # counted by the kernel, in the same pass: NaN and |q| > 1
            raise InvalidInputError("overlap q must be finite with |q| <= 1")
        if "quadrature" in self.tiers:
            out[1 + self.smooth_order :] = np.nan
        return qa, out

    def __call__(self, q: Any) -> np.ndarray:
        """ξ(q) alone: the same numbers as ``derivatives(q)[0]``, without the work of the
        derivatives."""
        qa, out = self._compose(q, self.variances, self._tables, nout=1)
        return out[0].reshape(qa.shape)

    def derivatives(self, q: Any, *, highest: int = 3) -> tuple[np.ndarray, ...]:
        """(ξ, ξ', ξ'', ξ''') at ``q`` (any shape, values in [-1, 1]).

        ``highest`` (0 to 3): return ξ and its derivatives up to that order only, e.g.
        ``highest=2`` for (ξ, ξ', ξ''); the same numbers as the full call, with the
        work of the higher derivatives left out.
        """
        if highest not in (0, 1, 2, 3):
            raise InvalidInputError(f"highest must be 0, 1, 2 or 3, got {highest!r}")
        qa, out = self._compose(q, self.variances, self._tables, nout=highest + 1)
        return tuple(o.reshape(qa.shape) for o in out)

    def errors_at(self, q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Error estimates of (ξ, ξ', ξ'', ξ''') at ``q``, meant as upper bounds.

        Twice the difference of the full- and the half-resolution chains of layers (module
        docstring), and never less than rounding: 16·ε·(depth + 1) times the largest size
        of that derivative at q = -1, 0, 1. NaN where the value is NaN or infinite.
        """
        qa, main = self._compose(q, self.variances, self._tables)
        if self._check_tables is None:  # pragma: no cover - every builder sets it
            raise InvalidInputError("this XiFunction carries no error information")
        _, check = self._compose(q, self._check_variances, self._check_tables)
        floor = 16 * np.finfo(float).eps * (self.depth + 1) * np.asarray(self._scale)[:, None]
        with np.errstate(invalid="ignore"):
            err = np.maximum(_SAFETY * np.abs(main - check), floor)
        err[~np.isfinite(main)] = np.nan
        return tuple(e.reshape(qa.shape) for e in err)  # type: ignore[return-value]

    @property
    def tier(self) -> str:
        """``"closed"`` or ``"quadrature"`` when every layer used that tier, else the tiers
        used joined by ``"+"`` (``"closed"`` at depth 0, where ξ is affine in q)."""
        used = [t for t in ("closed", "quadrature") if t in self.tiers]
        return "+".join(used) or "closed"

    def _summary(self) -> dict[str, Any]:
        return {
            "sigma_w2": self.sigma_w2,
            "sigma_b2": self.sigma_b2,
            "variances": self.variances,
            "tiers": self.tiers,
            "degree": self.degree,
            "smooth_order": self.smooth_order,
            "interpolation_error": self.interpolation_error,
            "max_error": self.max_error(),
        }


def _compose_numpy(q, w2, b2, var, tables, out, nout: int) -> None:
    """The numba kernel :func:`replicasolve.kernels._compose_jit.compose_blocks` in numpy,
    vectorised over ``q`` (finite, |q| ≤ 1): the same operations in the same order, so the
    same bits (every step is one correctly rounded IEEE operation in both). For a few
    overlaps in a fresh process, where loading numba (~1.5 s) would cost far more than
    the evaluation (~0.1 ms per layer)."""
    depth = var.shape[0]
    m = tables.shape[2]
    h = 2.0 / (m - 1)
    exact = (m - 1) & (m - 2) == 0
    inv_h = (m - 1) / 2.0
    k = b2[0] + w2[0] * q
    d = [np.full_like(q, w2[0]), np.zeros_like(q), np.zeros_like(q)]
    # values the selects discard (inf·0 and inf - inf where ReLU's slope is infinite) and
    # infinite derivatives are results here, as in the numba kernel, which never warns
    with np.errstate(all="ignore"):
        for layer in range(depth):
            v = var[layer]
            w = w2[layer + 1]
            tab = tables[layer]
            rho = k / v
            rho = np.where(rho > 1.0, 1.0, np.where(rho < -1.0, -1.0, rho))
            x = (rho + 1.0) * inv_h if exact else (rho + 1.0) / h
            i = np.minimum(x.astype(np.int64), m - 2)  # truncation, as int() in the kernel
            t = x - i
            t2 = t * t
            t3 = t2 * t
            basis = (2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2)
            f = []
            for j in range(nout):
                y0, y1 = tab[j, i], tab[j, i + 1]
                m0, m1 = tab[j + 1, i] * h, tab[j + 1, i + 1] * h
                cub = basis[0] * y0 + basis[1] * m0 + basis[2] * y1 + basis[3] * m1
                lin = y0 + t * (y1 - y0)
                fj = np.where(np.isfinite(m0) & np.isfinite(m1), cub, lin)
                fj = np.where(t == 1.0, y1, fj)
                f.append(np.where(t == 0.0, y0, fj))
            k = b2[layer + 1] + w * f[0]
            a = [dj / v for dj in d]
            if nout > 3:
                d[2] = w * (f[3] * a[0] * a[0] * a[0] + 3.0 * f[2] * a[0] * a[1] + f[1] * a[2])
            if nout > 2:
                d[1] = w * (f[2] * a[0] * a[0] + f[1] * a[1])
            if nout > 1:
                d[0] = w * f[1] * a[0]
    out[0] = k
    for j in range(1, nout):
        out[j] = d[j - 1]


def _closed_form_maps(act: Activation):
    """``[f, f', ..., f^(4)]`` as numpy functions of ``(v, ρ)`` from the closed-form tier.

    The derivatives in ρ are taken by sympy on the closed form, so the tables are exact to
    rounding (no differentiation of an interpolant); ``None`` when no closed form is known
    or sympy does not derive one within :data:`CLOSED_FORM_SECONDS`.
    """
    import sympy as sp

    from ..symbolic.kernels import dual_kernel
    from ..symbolic.parse import SymbolicTimeout, time_limit

    key = sp.srepr(act.expr)
    if key in _CLOSED_FAILED:
        return None
    x = sp.Symbol("x", real=True)
    v, rho = sp.Symbol("v", positive=True), sp.Symbol("rho", real=True)
    try:
        with time_limit(CLOSED_FORM_SECONDS, "the closed-form kernel"):
            expr = dual_kernel(act.expr, x, v, v, v * rho)
            if expr is None:
                return None
            derivs = [sp.diff(expr, rho, j) for j in range(5)]
            lambdas = [sp.lambdify((v, rho), dj, modules=["numpy", "scipy"]) for dj in derivs]
    except SymbolicTimeout:
        _CLOSED_FAILED.add(key)
        return None
    except Exception:  # the closed-form tier is optional: fall back to quadrature
        return None
    funcs = []
    for dj, f in zip(derivs, lambdas, strict=True):
        # at ρ = ±1 the closed form can be 0/0 (terms in sqrt(1-ρ²) that cancel): take
        # the one-sided limit there, once per activation and only when needed
        ends: dict[tuple[int, float], float] = {}

        def end(side: int, vv: float, dj=dj, ends=ends) -> float:
            if (side, vv) not in ends:
                ends[(side, vv)] = _end_value(dj, v, rho, side, vv)
            return ends[(side, vv)]

        def fj(vv: float, rr: np.ndarray, f=f, end=end) -> np.ndarray:
            with np.errstate(all="ignore"):
                out = np.array(np.broadcast_to(np.asarray(f(vv, rr), dtype=float), np.shape(rr)))
                for side in (1, -1):
                    at = (np.asarray(rr) == side) & ~np.isfinite(out)
                    if np.any(at):
                        out[at] = end(side, float(vv))
            return out

        funcs.append(fj)
    return funcs


def _end_value(expr: Any, v: Any, rho: Any, side: int, vv: float) -> float:
    """lim_{ρ → side} expr(vv, ρ) from inside [-1, 1]: ±inf when it diverges, NaN if unknown.

    Evaluated in mpmath at 160 digits at ρ = side·(1 - δ), δ = 1e-40 and 1e-50: for the
    algebraic endpoint behaviour of these kernels ((1-ρ)^{k/2} terms) the two agree to far
    below float64 rounding when the limit is finite, and grow by 10^5 or more when it is
    infinite. Only an unclear pattern asks sympy for the limit (under a time limit).
    """
    import mpmath
    import sympy as sp

    from ..symbolic.parse import time_limit

    f = sp.lambdify((v, rho), expr, modules="mpmath")
    try:
        # 1 - ρ² at ρ = 1 - 1e-50 keeps only (digits - 50) significant digits, and terms
        # like ρv/sqrt(1 - ρ²) ~ 1e25 then cancel: 160 digits leave ~60 after both losses
        with mpmath.workdps(160):
            a, b = (f(mpmath.mpf(vv), side * (1 - mpmath.mpf(10) ** -e)) for e in (40, 50))
            a, b = complex(a), complex(b)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        a = b = complex(np.nan)
    if np.isfinite(a) and np.isfinite(b) and a.imag == 0 and b.imag == 0:
        if abs(a.real - b.real) <= 1e-14 * max(1.0, abs(b.real)):
            return b.real
        if abs(b.real) >= 1e4 * abs(a.real) > 0 or abs(b.real) > 1e4 * max(1.0, abs(a.real)):
            return float(np.sign(b.real) * np.inf)
    try:
        with time_limit(_LIMIT_SECONDS, "a limit of the closed form"):
            lim = sp.limit(expr.subs(v, sp.nsimplify(vv)), rho, side, "-" if side > 0 else "+")
        value = complex(lim)
    except Exception:  # no limit in time: that end stays NaN (not made up)
        return float("nan")
    return value.real if value.imag == 0 else float("nan")


def _closed_layer(closed, var: float, grid: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The five closed-form tables at variance ``var`` and f(1), or None where float64 fails.

    A closed form can be exact and still useless in float64 at a large variance
    (e^{1520 v}·e^{-1520 v}); then that layer is computed by quadrature instead.
    """
    try:
        tabs = np.array([closed[j](var, grid) for j in range(5)])
        e_one = float(closed[0](var, np.array([1.0]))[0])
    except (OverflowError, ValueError, TypeError, ZeroDivisionError):
        return None
    if not (np.all(np.isfinite(tabs[0])) and np.isfinite(e_one)):
        return None
    return tabs, e_one


def _check_variance(var: float, layer: int) -> None:
    if not np.isfinite(var):
        raise InvalidInputError(
            f"the variance K_{layer}(1) of layer {layer} overflows float64 ({var}): the "
            "activation or sigma_w2 makes the network's variances grow too fast"
        )
    if var <= 0:
        raise InvalidInputError(f"layer {layer} has zero input variance")


def _build(
    a: Activation,
    closed,
    depth: int,
    w2,
    b2,
    degree: int,
    order: int,
    points: int,
    tier: str,
    local_check: bool,
    progress=None,
    offset: int = 0,
    total: int = 0,
):
    """One chain of layer tables: (variances, tiers, local errors, tables).

    ``local_check``: also rebuild each quadrature map at half order and degree at the same
    variance, for the per-layer (local) error estimate. ``progress(offset + layer, total,
    label)`` (optional) after each layer.
    """
    from .numeric import gauss_hermite_kernel

    cheb = np.polynomial.Chebyshev
    grid = np.linspace(-1.0, 1.0, points)
    tables = np.empty((depth, 5, points))
    variances, errors, tiers = [], [], []
    var = b2[0] + w2[0]  # K_1(1)
    eps = np.finfo(float).eps

    def quad_series(v: float, n_order: int, n_degree: int):
        def fmap(r: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                return gauss_hermite_kernel(a.phi, v, v, v * r, order=n_order)

        with np.errstate(all="ignore"):  # overflow is reported just below
            coef = cheb.interpolate(fmap, n_degree).coef
        if not np.all(np.isfinite(coef)):
            raise InvalidInputError(
                f"the kernel of {a.name!r} at variance {v:.6g} is not finite in float64 "
                "(the network's variances grow too fast)"
            )
        tail = float(np.max(np.abs(coef[-4:])))
        # chop the rounding-noise tail: differentiating it (x n^2 per derivative)
        # turns 1e-16 noise into 1e-6 errors in the third derivative
        big = np.abs(coef) > 64 * eps * np.max(np.abs(coef))
        keep = np.nonzero(big)[0]
        return cheb(coef[: keep[-1] + 1] if keep.size else coef[:1]), tail, fmap

    for layer in range(depth):
        _check_variance(var, layer + 1)
        variances.append(var)
        found = _closed_layer(closed, var, grid) if closed is not None else None
        if found is not None:
            tiers.append("closed")
            tables[layer], e_one = found
            errors.append(16 * eps * float(np.max(np.abs(tables[layer, 0]))))
        else:
            tiers.append("quadrature")
            series, tail, fmap = quad_series(var, order, degree)
            for j in range(5):
                tables[layer, j] = (series.deriv(j) if j else series)(grid)
            local = tail
            if local_check:
                coarse, _, _ = quad_series(var, max(order // 2, 1), max(degree // 2, 8))
                local = max(tail, _SAFETY * float(np.max(np.abs(series(grid) - coarse(grid)))))
            errors.append(local + 16 * eps * float(np.max(np.abs(tables[layer, 0]))))
            e_one = float(fmap(np.array([1.0]))[0])
        var = b2[layer + 1] + w2[layer + 1] * e_one
        if progress is not None:
            progress(offset + layer + 1, total, f"layer {layer + 1}/{depth}")
    _check_variance(var, depth + 1)
    return tuple(variances), tuple(tiers), tuple(errors), tables


_CACHE_FORMAT = 2  # bump when the tables' meaning changes


def _cache_key(act: Any, depth: int, w2, b2, tier: str, degree: int, order: int) -> str:
    import hashlib

    if isinstance(act, str):
        # the text itself: a warm start then needs no sympy at all (another spelling of
        # the same function is only a cache miss)
        ident = ("text", act.strip())
    else:
        import sympy as sp

        ident = ("expr", sp.srepr(act.expr if isinstance(act, Activation) else act))
    blob = repr(
        (_CACHE_FORMAT, ident, depth, w2, b2, tier, degree, order, _TABLE_POINTS, np.__version__)
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cache_file(key: str):
    from ..jit import cache_dir

    return cache_dir() / "xi" / f"{key}.npz"


def _load(key: str, name: str) -> XiFunction | None:
    path = _cache_file(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            return XiFunction(
                activation=name,
                depth=int(f["depth"]),
                sigma_w2=tuple(map(float, f["sigma_w2"])),
                sigma_b2=tuple(map(float, f["sigma_b2"])),
                variances=tuple(map(float, f["variances"])),
                tiers=tuple(_TIER_ALIASES.get(str(t), str(t)) for t in f["tiers"]),
                degree=int(f["degree"]),
                interpolation_error=tuple(map(float, f["errors"])),
                smooth_order=int(f["smooth_order"]),
                _tables=f["tables"],
                _check_variances=tuple(map(float, f["check_variances"])),
                _check_tables=f["check_tables"],
                _scale=tuple(map(float, f["scale"])),
                # absent from files written before it was stored
                expression=str(f["expression"]) if "expression" in f.files else "",
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
            np.savez(
                fh,
                depth=xf.depth,
                sigma_w2=xf.sigma_w2,
                sigma_b2=xf.sigma_b2,
                variances=np.asarray(xf.variances, dtype=float),
                tiers=np.asarray(xf.tiers, dtype=str),
                degree=xf.degree,
                errors=np.asarray(xf.interpolation_error, dtype=float),
                smooth_order=xf.smooth_order,
                tables=xf._tables,
                check_variances=np.asarray(xf._check_variances, dtype=float),
                check_tables=xf._check_tables,
                scale=np.asarray(xf._scale, dtype=float),
                expression=np.asarray(xf.expression, dtype=str),
            )
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
    depth: int | float,
    sigma_w2: float | Sequence[float] = 1.0,
    sigma_b2: float | Sequence[float] = 0.0,
    *,
    tier: str = "auto",
    degree: int = 96,
    order: int = 200,
    progress: Any = None,
    shape: float | tuple[float, float] | None = None,
) -> XiResult:
    """ξ(q) = K_{L+1}(q) of a random MLP with ``depth`` hidden layers: the entry point.

    Whatever the route, the result is one family (:class:`~replicasolve.kernels.xi.XiResult`):
    callable on arrays, ``derivatives(q)``, ``errors_at(q)``, ``converged``, ``tier``,
    ``to_dict()``, ``table()``, and accepted by ``MixedPSpin(xi, ...)``.

    Args:
        act: activation name, formula in x, sympy expression or :class:`Activation`.
        depth: hidden layers ``0 ≤ L ≤`` :data:`MAX_DEPTH`, or ``math.inf`` for the shaped
            deep limit (with ``shape``).
        sigma_w2: weight variance, one or ``L + 1`` values (``W ~ N(0, σ_w²/fan_in)``).
        sigma_b2: bias variance, one or ``L + 1`` values.
        tier: the route, one of :data:`XI_TIERS`:

            - ``"auto"`` (default): an :class:`XiFunction`, the layer maps tabulated —
              each from its closed form where sympy derives one within
              :data:`CLOSED_FORM_SECONDS` and it is finite in float64 at the layer's
              variance, else from Gauss–Hermite quadrature; any depth up to
              :data:`MAX_DEPTH`, O(depth) per q;
            - ``"closed"``: a :class:`~replicasolve.kernels.closed_xi.ClosedXi`, ξ as one
              symbolic closed form composed through the depth (LaTeX in ``.latex``);
              InvalidInputError where some layer has none (tanh). Exact, but the
              expression grows with the depth: meant for a few layers;
            - ``"quadrature"``: an :class:`XiFunction` with every layer map from
              quadrature (the check of the closed-form layers, and the only tier for φ
              without a closed-form kernel);
            - ``"ode"``: the shaped deep limit (needs ``shape`` and ``depth=math.inf``;
              ``"auto"`` picks it whenever ``shape`` is given).
        degree: Chebyshev degree of each layer map (tables only).
        order: Gauss–Hermite order of the quadrature tier (tables only).
        progress: optional callback ``progress(done, total, label)`` (see
            :mod:`replicasolve.progress`), called after each layer of both chains.
        shape: asks for the shaped deep limit, L → ∞ at infinite width (Li, Nica & Roy,
            :mod:`replicasolve.kernels.shaped`): a pair ``(c_+, c_-)`` for ReLU (``act``
            must be ``"relu"``: slopes ``1 + c_±/sqrt(L)``) giving a
            :class:`~replicasolve.kernels.shaped.ShapedReLUXi`, or the number ``a`` for a
            smooth φ with φ(0) = 0, φ'(0) = 1 (``φ_L(x) = a sqrt(L) φ(x/(a sqrt(L)))``)
            giving a :class:`~replicasolve.kernels.shaped.SmoothShapedXi`. The shaping
            fixes σ_w² (→ 1) and σ_b² = 0: leave ``sigma_w2``, ``sigma_b2`` at their
            defaults.

    Old spellings of ``tier`` are accepted: ``"closed form"`` / ``"closed-form"`` for
    ``"closed"``, ``"shaped"`` for ``"ode"``. Before this entry point covered every route,
    ``tier="closed"`` built the tables from closed-form maps only; that is what ``"auto"``
    does whenever every layer has a closed form (same numbers).

    An :class:`XiFunction` carries a second chain of tables at half the resolution, whose
    difference from the first gives :meth:`XiFunction.errors` (about a quarter more work).
    The building blocks stay public: :func:`replicasolve.kernels.closed_xi.closed_xi`,
    :func:`replicasolve.kernels.numeric.compose_depth` (pointwise quadrature, the
    reference of the tables) and the classes of :mod:`replicasolve.kernels.shaped`.

    Raises:
        InvalidInputError: bad arguments, a depth above :data:`MAX_DEPTH`, variances that
            overflow float64, or a tier that does not apply.
    """
    tier = _TIER_ALIASES.get(tier, tier) if isinstance(tier, str) else tier
    if tier not in XI_TIERS:
        raise InvalidInputError(
            f"tier must be one of {', '.join(repr(t) for t in XI_TIERS)}, got {tier!r}"
        )
    if shape is not None or tier == "ode" or depth == math.inf:
        return _shaped(act, depth, sigma_w2, sigma_b2, tier, shape)
    if tier == "closed":
        return _closed_route(act, depth, sigma_w2, sigma_b2)
    return _tabulated(
        act, depth, sigma_w2, sigma_b2, tier=tier, degree=degree, order=order, progress=progress
    )


def _shaped(act: Any, depth: Any, sigma_w2: Any, sigma_b2: Any, tier: str, shape: Any) -> XiResult:
    """The shaped deep limit, after checking that the arguments ask for it consistently."""
    from .shaped import ShapedReLUXi, SmoothShapedXi, smooth_shaped_coefficients

    if tier not in ("auto", "ode"):
        raise InvalidInputError(f"the shaped deep limit is computed by tier 'ode', not {tier!r}")
    if shape is None:
        raise InvalidInputError(
            "the deep limit (depth = inf, tier 'ode') needs a shaped activation: pass shape="
            "(c_plus, c_minus) for relu or shape=a for a smooth activation (an unshaped "
            "network's kernel only tends to a fixed point)"
        )
    if depth != math.inf:
        raise InvalidInputError(f"shape= describes the limit depth = math.inf, got depth {depth}")
    if not (np.all(np.asarray(sigma_w2) == 1.0) and np.all(np.asarray(sigma_b2) == 0.0)):
        raise InvalidInputError(
            "the shaping fixes sigma_w2 (-> 1) and sigma_b2 = 0: leave them at their defaults"
        )
    a = act if isinstance(act, Activation) else activation(act)
    if isinstance(shape, (tuple, list)):
        if len(shape) != 2:
            raise InvalidInputError(f"shape for relu is (c_plus, c_minus), got {shape!r}")
        import sympy as sp

        if sp.simplify(a.expr - activation("relu").expr) != 0:
            raise InvalidInputError(
                f"shape=(c_plus, c_minus) shapes relu, not {a.name!r} "
                "(the shaping itself sets the two slopes)"
            )
        c_plus, c_minus = (float(c) for c in shape)
        if not (math.isfinite(c_plus) and math.isfinite(c_minus)):
            raise InvalidInputError(f"c_plus, c_minus must be finite, got {shape!r}")
        return ShapedReLUXi(c_plus, c_minus)
    try:
        scale = float(shape)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"shape must be (c_plus, c_minus) or a number a, got {shape!r}"
        ) from None
    name = act if isinstance(act, str) else str(a.expr)
    smooth_shaped_coefficients(name, scale)  # raises for a φ that cannot be shaped so
    return SmoothShapedXi(name, scale)


def _closed_route(act: Any, depth: Any, sigma_w2: Any, sigma_b2: Any) -> XiResult:
    """``tier="closed"``: :func:`closed_xi`, or InvalidInputError where it gives none."""
    from .closed_xi import closed_xi

    _check_depth(depth)
    found = closed_xi(act, int(depth), sigma_w2, sigma_b2)
    if found is None:
        name = act.name if isinstance(act, Activation) else str(act)
        raise InvalidInputError(
            f"no closed-form kernel is known for {name!r} through {int(depth)} layer(s)"
        )
    return found


def _check_depth(depth: Any) -> None:
    if int(depth) != depth or depth < 0:
        raise InvalidInputError(f"depth must be a whole number >= 0, got {depth}")
    if depth > MAX_DEPTH:
        raise InvalidInputError(f"depth must be <= {MAX_DEPTH} hidden layers, got {depth}")


def _tabulated(
    act: str | Activation | Any,
    depth: Any,
    sigma_w2: float | Sequence[float],
    sigma_b2: float | Sequence[float],
    *,
    tier: str,
    degree: int,
    order: int,
    progress: Any,
) -> XiFunction:
    """The :class:`XiFunction` of tiers ``"auto"`` and ``"quadrature"``."""
    from .numeric import check_order

    _check_depth(depth)
    if int(degree) != degree or not 8 <= degree <= 1000:
        raise InvalidInputError(f"degree must be a whole number in [8, 1000], got {degree}")
    order = check_order(order)
    depth, degree = int(depth), int(degree)
    w2 = per_layer(sigma_w2, depth, "sigma_w2", allow_zero=False)
    b2 = per_layer(sigma_b2, depth, "sigma_b2", allow_zero=True)
    name = act.name if isinstance(act, Activation) else str(act)
    key = _cache_key(act, depth, w2, b2, tier, degree, order)
    cached = _load(key, name)
    if cached is not None:
        return cached
    a = act if isinstance(act, Activation) else activation(act)
    closed = None if tier == "quadrature" else _closed_form_maps(a)
    variances, tiers, errors, tables = _build(
        a,
        closed,
        depth,
        w2,
        b2,
        degree,
        order,
        _TABLE_POINTS,
        tier,
        local_check=True,
        progress=progress,
        offset=0,
        total=2 * depth,
    )
    check_variances, _, _, check_tables = _build(
        a,
        closed,
        depth,
        w2,
        b2,
        max(degree // 2, 8),
        max(order // 2, 1),
        (_TABLE_POINTS - 1) // 2 + 1,
        tier,
        local_check=False,
        progress=progress,
        offset=depth,
        total=2 * depth,
    )
    result = XiFunction(
        activation=a.name,
        depth=depth,
        sigma_w2=w2,
        sigma_b2=b2,
        variances=variances,
        tiers=tiers,
        degree=degree,
        interpolation_error=errors,
        smooth_order=_smooth_order(a),
        _tables=tables,
        _check_variances=check_variances,
        _check_tables=check_tables,
        expression=str(a.expr),
    )
    # sizes of ξ, ξ', ξ'', ξ''' for the rounding floor of the error estimates
    with np.errstate(all="ignore"):
        vals = np.abs(np.asarray(result.derivatives(np.array([-1.0, 0.0, 1.0]))))
    scale = tuple(float(np.max(v[np.isfinite(v)], initial=0.0)) for v in vals)
    result = dataclasses.replace(result, _scale=scale)
    _save(key, result)
    return result
