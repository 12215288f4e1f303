"""Numerics shared by the finite-width landscape modules.

:mod:`~replicasolve.solvers.finite_width.rs` (RS, any depth),
:mod:`~replicasolve.solvers.finite_width.replicon`, :mod:`~replicasolve.solvers.finite_width.rsb`
and :mod:`~replicasolve.solvers.finite_width.krsb` all integrate the same tilted single-site
measure: a field z = h + sqrt(s) ε with h ~ N(0, c0) (η) and ε ~ N(0, 1), weighted by
e^{ψ(z)} with ψ = a φ(z)² + b ζ φ(z), ζ ~ N(0, 1). This module holds the input checks, the
quadrature rules, the grid in the field with its Gaussian kernels and shift operators, the
entropy of a Parisi overlap matrix, and the two engines for the moments of that measure:

- :func:`_moments_hermite`: ``order``-point Gauss–Hermite in η and ε, the composite ζ rule
  (:func:`zeta_rule`). The reference for any φ; its ε and η rules converge slowly where
  the tilt is strong (low T, small α), because e^{ψ} is then sharply peaked in ε.
- :func:`_moments_grid`: φ sampled on a uniform grid in the field (one period for periodic
  φ, a line otherwise), the ε average a sum with the sampled Gaussian kernel (cut where the
  tilted weight is below e^{-60.5} of the largest) and the η average a sum with Gaussian
  weights on the same grid. Trapezoidal sums of smooth integrands that are periodic or
  decay converge spectrally, at any offset of the evaluation point, so the sharpness of
  e^{ψ} costs nothing until it varies on the grid scale. Kernels narrower than two grid
  steps use 40-point Gauss–Hermite offsets with φ evaluated exactly. This is the k = 0
  case of the grid engine of :mod:`~replicasolve.solvers.finite_width.krsb` (same grid and
  ζ rule). Kinked φ (ReLU) converge only algebraically here, as in Gauss–Hermite, and
  unbounded φ leave the grid's range at strong tilt: those use Gauss–Hermite.

Public helpers (the API the finite-width modules share; helpers that serve this module
alone keep a leading underscore). Conventions: the fields z, h are preactivations, in the
units of φ's argument, and c1, c0, s, var are their variances (c = σ_b² + σ_w² G,
dimensionless like G); a rule for E over N(0, 1) is a pair (nodes, weights) of 1-D arrays
of one length, the weights summing to 1.

- input checks: :func:`check_number`, :func:`check_positive`, :func:`check_growth`,
  :func:`check_alphas`, :func:`depth_alphas`, :func:`check_rule`, :func:`activation_shape`;
- rules (Gauss–Hermite itself is :func:`replicasolve.quadrature.gauss_hermite`):
  :func:`symmetric_hermite_rule`,
  :func:`zeta_rule`, :func:`zeta_nodes`, :func:`narrow_rule`, :func:`auto_rule`,
  :func:`finer_rule`;
- the grid: :class:`Grid`, :func:`make_grid`, :func:`gauss_lattice`, :func:`is_wide`,
  :func:`kernel_matrix`, :func:`shift_operator`, :func:`outer_nodes`, :func:`inner_kernels`
  and the constants :data:`KERNEL_CUT`, :data:`NARROW_NODES`, :data:`RANGE_MAX`,
  :data:`GRID_STEP`, :data:`LINE_STEP`;
- moments: :class:`TiltedMoments`, :func:`tilted_moments`, :class:`SiteMoments`,
  :func:`site_moments`, :func:`site_moments_hermite`;
- the k-RSB entropy term: :func:`entropy_term`.

References: Gaussian integration by parts (Stein, Ann. Stat. 9, 1135 (1981)) turns the
derivatives of ln E_ε e^ψ in the variances into the ε-moments returned here; spectral
convergence of the trapezoidal rule for periodic analytic integrands (Trefethen & Weideman,
SIAM Rev. 56, 385 (2014)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import ConvergenceError, InvalidInputError
from ...quadrature import gauss_hermite

__all__ = [
    "GRID_STEP", "KERNEL_CUT", "LINE_STEP", "NARROW_NODES", "RANGE_MAX", "Grid",
    "SiteMoments", "TiltedMoments", "activation_shape", "auto_rule", "check_alphas",
    "check_growth", "check_number", "check_positive", "check_rule", "depth_alphas",
    "entropy_term", "finer_rule", "gauss_lattice",
    "inner_kernels", "is_wide", "kernel_matrix", "make_grid", "narrow_rule", "outer_nodes",
    "shift_operator", "site_moments", "site_moments_hermite", "symmetric_hermite_rule",
    "tilted_moments", "zeta_nodes", "zeta_rule",
]

# Gaussian kernels are cut at KERNEL_CUT standard deviations, where the weight is
# e^{-60.5} ~ 5e-27 of its peak.
KERNEL_CUT = 11.0
# A kernel narrower than this many grid steps is applied by Gauss–Hermite offsets instead of
# the trapezoidal sum, whose error at 2 steps is e^{-2π²·4} = e^{-79} for the kernel's mass
# and e^{-2π²} times the Nyquist coefficient of the integrand (~1e-40 at G = 128 for sin).
_NARROW = 2.0
# Gauss–Hermite offsets for narrow kernels: exact for polynomials of degree 79 in the offset;
# the integrand varies on the grid scale there, so 40 nodes reach rounding level.
NARROW_NODES = 40
# e^{-700} is near the smallest normal double: a wider range of the exponent on one ζ row
# would underflow in the shifted exponentials of the k-RSB grid engine (only unbounded φ at
# strong tilt get there).
RANGE_MAX = 650.0
# Outer nodes per block of the kernel product (see _moments_grid).
_BLOCK = 64
# Default grid: 128 nodes per 2π (sin: the Fourier modes of e^{λζ sin} beyond 64 are below
# e^{-49} of the mean at λζ = 42, the largest tilt of α = 1, T = 0.3 with weight > 1e-18).
GRID_STEP = 2 * math.pi / 128
# Default step of a line grid (bounded, non-periodic φ): e^{λζ tanh} saturates instead of
# oscillating, and tanh at σ_w² = 2 was at rounding (error indicator ≤ 1e-12 in f, e, q at
# α = 2, T = 0.3) already at 0.15; 2π/64 keeps a margin at half the cost of 2π/128.
LINE_STEP = 2 * math.pi / 64


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------


def check_number(value: Any, name: str) -> float:
    """``value`` as a finite float; :class:`InvalidInputError` naming ``name`` otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InvalidInputError(f"{name} must be finite, got {value!r}")
    return v


def check_positive(value: Any, name: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (≥ 0 with ``allow_zero``; booleans refused);
    :class:`InvalidInputError` naming ``name`` otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise InvalidInputError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, "
                                f"got {value!r}")
    return v


def check_growth(act: Any) -> None:
    """Refuse φ with |φ(x)| ≳ x²: E_ε exp(sqrt(ĝ) ζ φ) then diverges for large ζ, and the
    action (integrated over the read-out weights) is infinite (e.g. φ = x², where the
    replica single-site term is -½ E_ζ ln(1 - 2λζ c) and undefined for ζ > 1/(2λc))."""
    x = np.array([40.0, -40.0, 400.0, -400.0])  # 400: e^x still finite (softplus)
    with np.errstate(all="ignore"):
        y = np.abs(np.asarray(act.phi(x), dtype=float))
    if not np.all(np.isfinite(y)):
        raise InvalidInputError(
            f"activation {act.name!r} overflows at |x| = 400: the finite-width action needs "
            "|phi(x)| = o(x^2)")
    r = y / x**2
    if np.any((r[2:] >= 0.5 * r[:2]) & (r[2:] > 1e-12)):
        raise InvalidInputError(
            f"activation {act.name!r} grows like x^2 or faster: the finite-width action "
            "diverges (it needs |phi(x)| = o(x^2))")


def check_alphas(alpha: float | Sequence[float]) -> tuple[float, ...]:
    """Width ratios α_l = N_l/N (dimensionless), one per hidden layer: a number (one layer)
    or a non-empty sequence, each finite and > 0 (α = inf is refused with a pointer to the
    Gaussian limit). Returns a tuple of floats, length L."""
    vals = [alpha] if np.ndim(alpha) == 0 else list(alpha)  # type: ignore[arg-type]
    if not vals:
        raise InvalidInputError("alpha must be one width ratio per hidden layer, got none")
    out = []
    for v in vals:
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInputError(f"width ratio alpha must be a number, got {v!r}") from None
        if math.isinf(fv) and fv > 0:
            raise InvalidInputError(
                "alpha = inf is the Gaussian limit: use "
                "replicasolve.solve(RandomMLPLandscape(..., T=T))")
        if not fv > 0 or not math.isfinite(fv):
            raise InvalidInputError(f"width ratio alpha must be finite and > 0, got {v!r}")
        out.append(fv)
    return tuple(out)


def depth_alphas(alpha: float | Sequence[float], depth: Any) -> tuple[float, ...]:
    """Width ratios for ``depth`` hidden layers: one ratio (repeated ``depth`` times) or
    exactly ``depth`` of them (:func:`check_alphas`). Returns a tuple, length ``depth``."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidInputError(f"depth must be a whole number >= 1, got {depth!r}")
    alphas = check_alphas(alpha)
    if len(alphas) == 1:
        return alphas * int(depth)
    if len(alphas) != depth:
        raise InvalidInputError(
            f"alpha has {len(alphas)} width ratios but depth is {depth}: give one ratio or "
            "one per hidden layer")
    return alphas


def check_rule(rule: dict[str, Any], max_order: int = 200) -> dict[str, Any]:
    """A checked quadrature rule: ``{"method": "hermite", "order"}`` (4 ≤ order ≤
    ``max_order``) or ``{"method": "grid", "grid_step", "zeta_points", "period", "odd"}``."""
    method = rule.get("method")
    if method == "hermite":
        order = rule.get("order")
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
                or not 4 <= order <= max_order:
            raise InvalidInputError(
                f"order must be a whole number in [4, {max_order}], got {order!r}")
        return {"method": "hermite", "order": int(order)}
    if method == "grid":
        zp = rule.get("zeta_points")
        if isinstance(zp, bool) or not isinstance(zp, (int, np.integer)) or not 2 <= zp <= 24:
            raise InvalidInputError(f"zeta_points must be a whole number in [2, 24], got {zp!r}")
        per = rule.get("period")
        return {"method": "grid", "grid_step": check_positive(rule.get("grid_step"), "grid_step"),
                "zeta_points": int(zp),
                "period": None if per is None else check_positive(per, "period"),
                "odd": bool(rule.get("odd", False))}
    raise InvalidInputError(f"method must be 'hermite' or 'grid', got {method!r}")


def activation_shape(act: Any) -> tuple[float | None, bool, bool]:
    """(period or None, odd, bounded) of an activation: the period and oddness from sympy
    (exact), boundedness numerically (|φ| on |x| ≤ 200 within twice its size on |x| ≤ 5)."""
    import sympy as sp

    expr = act.expr
    syms = sorted(expr.free_symbols, key=str)
    period: float | None = None
    odd = False
    if len(syms) == 1:
        x = syms[0]
        try:
            per = sp.periodicity(expr, x)
        except (NotImplementedError, ValueError, TypeError):
            per = None
        if per is not None and per.is_positive:
            period = float(per)
        odd = bool(sp.simplify(expr.subs(x, -x) + expr) == 0)
    with np.errstate(all="ignore"):
        near = np.abs(np.asarray(act.phi(np.linspace(-5, 5, 1001)), dtype=float))
        far = np.abs(np.asarray(act.phi(np.linspace(-200, 200, 40001)), dtype=float))
    bounded = bool(np.all(np.isfinite(far)) and far.max() <= 2.0 * max(near.max(), 1e-300))
    return period, odd, bounded


# --------------------------------------------------------------------------------------
# quadrature rules
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def symmetric_hermite_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite rule made exactly symmetric (mirror the positive half), so that the odd
    moments of the offsets vanish in floating point too."""
    x, w = gauss_hermite(n)
    half = n // 2
    xp, wp = x[n - half:], 0.5 * (w[n - half:] + w[:half][::-1])
    xs = np.concatenate([-xp[::-1], [0.0] * (n % 2), xp])
    ws = np.concatenate([wp[::-1], w[half:n - half], wp])
    return xs, ws / ws.sum()


@lru_cache(maxsize=8)
def zeta_rule(points: int) -> tuple[np.ndarray, np.ndarray]:
    """E over ζ ~ N(0, 1) by composite Gauss–Legendre, ``points`` nodes per panel.

    ζ multiplies φ by sqrt(ĝ), and at strong tilt (low T, small α) ln E_ε e^{sqrt(ĝ)ζφ}
    behaves like sqrt(ĝ)|ζ| max φ, rounded off only within |ζ| ≲ 1/sqrt(ĝ): Gauss–Hermite in ζ
    then converges slowly (80 → 160 nodes moved the energy by 3e-3 at α = 0.2, T = 0.2).
    Panels that halve toward ζ = 0 (down to 2⁻⁸) resolve that scale; unit panels out to
    |ζ| = 9 (density 3e-18 there) cover the tail.
    """
    edges = [0.0] + [2.0**-j for j in range(8, 0, -1)] + [float(k) for k in range(1, 10)]
    x, w = np.polynomial.legendre.leggauss(points)
    lo, hi = np.array(edges[:-1])[:, None], np.array(edges[1:])[:, None]
    nodes = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    wts = (0.5 * (hi - lo) * w).ravel() * np.exp(-0.5 * nodes**2)
    nodes = np.concatenate([-nodes[::-1], nodes])
    wts = np.concatenate([wts[::-1], wts])
    return nodes, wts / wts.sum()


@lru_cache(maxsize=16)
def zeta_nodes(points: int, odd: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`zeta_rule`, or its positive half with doubled weights when the integrand is
    even in ζ (odd φ: ζ → -ζ with h → -h leaves ψ and the symmetric η average unchanged)."""
    x, w = zeta_rule(points)
    if odd:
        keep = x > 0
        return x[keep], 2.0 * w[keep]
    return x, w


# --------------------------------------------------------------------------------------
# the grid in the field
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """A uniform grid in the field h (units of the preactivation field): ``h`` the nodes,
    shape (G,); ``dh`` the step; ``period`` the period of a periodic grid (one period of
    nodes) or None for a truncated line; ``zero`` the index of the node h = 0."""

    h: np.ndarray  # nodes
    dh: float
    period: float | None  # None: a truncated line
    zero: int  # index of h = 0

    @property
    def size(self) -> int:
        return self.h.size


def make_grid(period: float | None, step: float, radius: float) -> Grid:
    """One period of nodes (an even number, step rounded to divide the period) or the line
    [-radius, radius] with the given step; h = 0 is always a node."""
    if period is not None:
        n = max(16, 2 * math.ceil(period / (2.0 * step)))
        dh = period / n
        return Grid(np.arange(n) * dh, dh, period, 0)
    half = math.ceil(radius / step)
    return Grid(np.arange(-half, half + 1) * step, step, None, half)


def gauss_lattice(g: Grid, var: Any) -> np.ndarray:
    """Weights of the N(0, var) density at lattice offsets d·dh, d = 0..G-1 (periodic grid,
    periodised) or d = -(G-1)..G-1 (line), normalised to sum 1 (constants average exactly)."""
    sig = math.sqrt(var.real)
    n = g.size
    if g.period is not None:
        d = np.arange(n) * g.dh
        reach = math.ceil((KERNEL_CUT * sig) / g.period) + 1
        shifts = np.arange(-reach, reach + 1) * g.period
        kv = np.exp(-0.5 * (d[None, :] + shifts[:, None]) ** 2 / var).sum(axis=0)
        return kv / kv.sum()
    d = np.arange(-(n - 1), n) * g.dh
    inside = np.abs(d) <= KERNEL_CUT * sig
    kv = np.zeros(d.size, dtype=np.result_type(var, float))
    kv[inside] = np.exp(-0.5 * d[inside] ** 2 / var)
    return kv / kv.sum()


def is_wide(g: Grid, var: Any) -> bool:
    """Whether a Gaussian of variance ``var`` (real part) is at least 2 grid steps wide, so
    that the trapezoidal sum with the sampled kernel is accurate (else Gauss–Hermite offsets,
    :func:`narrow_rule`)."""
    return math.sqrt(var.real) >= _NARROW * g.dh


# --------------------------------------------------------------------------------------
# moments of the tilted single-site measure
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TiltedMoments:
    """Tilted ε-moments at every (η or h node, ζ node) and the product weights of the outer
    E_{η,ζ} (all arrays of one shape; the weights sum to 1)."""

    w: np.ndarray
    ln: np.ndarray  # ln E_ε e^ψ
    phi: np.ndarray  # ⟨φ⟩
    phi2: np.ndarray  # ⟨φ²⟩
    eps: np.ndarray  # ⟨ε⟩
    eps2_m1: np.ndarray  # ⟨ε² - 1⟩

    def mean(self, values: np.ndarray) -> float:
        """E_{η,ζ} of an array of the same shape."""
        return float((self.w * values).sum())


@dataclass(frozen=True)
class SiteMoments:
    """Moments of one layer's single-site problem (all E over η, ζ)."""

    t: float  # T_l = E ln E_ε e^ψ
    g_diag: float  # E⟨φ²⟩
    g_off: float  # E⟨φ⟩²
    eps_mean2: float  # E⟨ε⟩²
    eps2_m1: float  # E⟨ε² - 1⟩


def _tilt_failure(a: float) -> ConvergenceError:
    return ConvergenceError(
        "the single-site integral E_ε exp(ψ) is not finite at this (α, T): the tilt "
        f"ĝ_d - ĝ = {2 * a:.3g} is too strong for this activation")


def _rule_sums(p: np.ndarray, psi: np.ndarray, x: np.ndarray, w: np.ndarray
               ) -> tuple[np.ndarray, ...]:
    """ln E_ε e^ψ, ⟨φ⟩, ⟨φ²⟩, ⟨ε⟩, ⟨ε² - 1⟩ and the shifted mass, on a symmetric rule
    (x, w) along the last axis of ``psi``; ``p`` (φ at the same samples) broadcasts to it.

    Rows with small |ψ| sum expm1(ψ) (base = E_ε 1 = 1 added back), which keeps
    T = O(1/α) accurate at large α (the free energy multiplies it by α); the others are
    shifted by their max (log-sum-exp), which neither overflows nor loses the mass to
    rounding. E_ε ε = 0 and E_ε (ε² - 1) = 0 on the symmetric rule: their base terms drop.
    """
    small = np.abs(psi).max(axis=-1, keepdims=True) <= 1.0
    m = np.where(small, 0.0, psi.max(axis=-1, keepdims=True))
    ew = np.where(small, np.expm1(np.where(small, psi, 0.0)), np.exp(psi - m)) * w
    base = np.where(small[..., 0], 1.0, 0.0)
    sum0 = ew.sum(axis=-1)
    s0 = base + sum0  # E_ε e^{ψ-m}
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = m[..., 0] + np.where(small[..., 0], np.log1p(sum0), np.log(s0))
    mean_phi = ((ew * p).sum(axis=-1) + base * (p @ w)) / s0
    mean_phi2 = ((ew * (p * p)).sum(axis=-1) + base * ((p * p) @ w)) / s0
    return ln, mean_phi, mean_phi2, (ew @ x) / s0, (ew @ (x * x - 1.0)) / s0, s0


def _moments_hermite(phi: Any, c1: float, c0: float, a: float, b: float, order: int,
                     zeta_points: int) -> TiltedMoments:
    """The tilted moments by ``order``-point Gauss–Hermite in η and ε and :func:`zeta_rule`
    in ζ; z = sqrt(c0) η + sqrt(c1 - c0) ε, ψ = a φ(z)² + b ζ φ(z). Arrays (η, ζ)."""
    x, w = gauss_hermite(order)
    xz, wz = zeta_rule(zeta_points)
    s = c1 - c0
    z = math.sqrt(max(c0, 0.0)) * x[:, None] + math.sqrt(max(s, 0.0)) * x[None, :]
    p = np.asarray(phi(z), dtype=float)[:, None, :]  # (η, 1, ε)
    psi = a * p * p + b * xz[None, :, None] * p  # (η, ζ, ε)
    *mo, s0 = _rule_sums(p, psi, x, w)
    if not (np.all(np.isfinite(mo[0])) and np.all(np.isfinite(mo[2])) and np.all(s0 > 0)):
        raise _tilt_failure(a)
    return TiltedMoments(w[:, None] * wz[None, :], *mo)


def outer_nodes(g: Grid, c0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Nodes, weights and grid indices (None off the grid) of E over h ~ N(0, c0): the grid
    nodes with Gaussian weights (periodised on a periodic grid) when the Gaussian is wide,
    else symmetric Gauss–Hermite offsets (c0 = 0: h = 0, the node ``g.zero``)."""
    if c0 <= 0.0:
        return np.zeros(1), np.ones(1), np.array([g.zero])
    if not is_wide(g, c0):
        x, w = symmetric_hermite_rule(NARROW_NODES)
        return math.sqrt(c0) * x, w, None
    kv = gauss_lattice(g, c0)
    if g.period is None:
        n = g.size
        kv = kv[n - 1 - g.zero: 2 * n - 1 - g.zero]  # the weight of node i is K(h_i)
    idx = np.flatnonzero(kv > 0.0)
    return g.h[idx], kv[idx] / kv[idx].sum(), idx


def _kernel_rows(e: np.ndarray, period_images: np.ndarray | None, cut: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian kernel values and their ε and ε² - 1 moments at scaled offsets ``e``, zero
    beyond ``cut`` standard deviations (summed over the periodic images e + period_images
    when given)."""
    if period_images is not None:
        k0 = np.zeros_like(e)
        k1 = np.zeros_like(e)
        k2 = np.zeros_like(e)
        for shift in period_images:
            es = e + shift
            kern = np.where(np.abs(es) <= cut, np.exp(-0.5 * es * es), 0.0)
            k0 += kern
            k1 += kern * es
            k2 += kern * (es * es - 1.0)
        return k0, k1, k2
    k0 = np.where(np.abs(e) <= cut, np.exp(-0.5 * e * e), 0.0)
    return k0, k0 * e, k0 * (e * e - 1.0)


def inner_kernels(g: Grid, hs: np.ndarray, s: float, idx: np.ndarray | None = None,
                  cut: float = KERNEL_CUT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows j: the weights of the grid nodes h'_i in E_ε f(h_j + sqrt(s) ε) (sampled Gaussian
    kernel cut at ``cut`` standard deviations, periodised on a periodic grid, normalised to
    sum 1), and the same weights times ε = (h'_i - h_j)/sqrt(s) and times ε² - 1, for the
    ε-moments. ``idx``: the grid indices of the h_j when they are nodes (the kernel is then
    Toeplitz: built once per offset)."""
    sd = math.sqrt(s)
    images = None
    if g.period is not None:
        reach = math.ceil(cut * sd / g.period) + 1
        images = np.arange(-reach, reach + 1) * (g.period / sd)
    n = g.size
    if idx is not None:
        if g.period is not None:
            off = np.arange(n)
            d = np.where(off <= n // 2, off, off - n) * g.dh  # nearest image first
            vecs = _kernel_rows(d / sd, images, cut)
            take = (np.arange(n)[None, :] - idx[:, None]) % n
        else:
            vecs = _kernel_rows(np.arange(-(n - 1), n) * g.dh / sd, None, cut)
            take = np.arange(n)[None, :] - idx[:, None] + n - 1
        k0, k1, k2 = (v[take] for v in vecs)
    else:
        d = g.h[None, :] - hs[:, None]  # (n_h, G)
        if g.period is not None:
            d = (d + 0.5 * g.period) % g.period - 0.5 * g.period  # nearest image first
        k0, k1, k2 = _kernel_rows(d / sd, images, cut)
    norm = k0.sum(axis=1, keepdims=True)
    return k0 / norm, k1 / norm, k2 / norm


def _kernel_sums(p: np.ndarray, psi: np.ndarray, k0: np.ndarray, k1: np.ndarray,
                 k2: np.ndarray) -> np.ndarray:
    """:func:`_rule_sums` with the ε average a kernel product: row j of ``k0`` holds the
    weights of the sample nodes (φ = ``p``, tilt ``psi`` of shape (ζ, nodes)) for outer
    node j, ``k1``, ``k2`` the same times ε and ε² - 1. Returns shape (6, ζ, outer)."""
    small = np.abs(psi).max(axis=1, keepdims=True) <= 1.0
    top = np.where(small, 0.0, psi.max(axis=1, keepdims=True))
    ew = np.where(small, np.expm1(np.where(small, psi, 0.0)), np.exp(psi - top))
    base = np.where(small, 1.0, 0.0)  # (ζ, 1): E_ε 1 = 1 added back on small rows
    sum0 = ew @ k0.T  # (ζ, outer)
    s0 = base + sum0
    # a block whose mass underflows is split by the caller: no warnings for its 0/0
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = top + np.where(small, np.log1p(sum0), np.log(s0))
        mean_phi = ((ew * p) @ k0.T + base * (k0 @ p)[None, :]) / s0
        mean_phi2 = ((ew * (p * p)) @ k0.T + base * (k0 @ (p * p))[None, :]) / s0
        # E_ε ε = E_ε (ε² - 1) = 0 on the kernel to spectral accuracy: no base term
        eps, eps2_m1 = (ew @ k1.T) / s0, (ew @ k2.T) / s0
    return np.stack([ln, mean_phi, mean_phi2, eps, eps2_m1, s0])


def _moments_grid(phi: Any, c1: float, c0: float, a: float, b: float,
                  rule: dict[str, Any]) -> TiltedMoments:
    """The tilted moments on a grid in the field (module docstring); arrays (ζ, h node).

    ``rule`` is a checked ``"grid"`` rule (:func:`check_rule`). Where the ε kernel is wide
    the ε average is a sum over the grid with the sampled Gaussian kernel; all its terms are
    positive, so ln E_ε e^ψ has full relative precision whatever the dynamic range of e^ψ.
    The kernel reaches sqrt(11² + 2 span) standard deviations, span the largest range of ψ
    over the grid: a node where e^ψ is e^{span} larger than at the centre still carries
    < e^{-60.5} of the mass beyond that (11 would do for an untilted kernel).
    """
    s = max(c1 - c0, 0.0)
    c0 = max(c0, 0.0)
    step = rule["grid_step"]
    xz, wz = zeta_nodes(rule["zeta_points"], rule["odd"])
    g = make_grid(rule["period"], step, KERNEL_CUT * (math.sqrt(c0) + math.sqrt(s)) + 12.0 * step)
    p = np.asarray(phi(g.h), dtype=float)
    psi = a * (p * p)[None, :] + b * xz[:, None] * p[None, :]  # (ζ, G)
    span = float(np.max(psi.max(axis=1) - psi.min(axis=1)))
    if not math.isfinite(span):
        raise _tilt_failure(a)
    cut = math.sqrt(KERNEL_CUT**2 + 2.0 * span)
    if g.period is None and cut > KERNEL_CUT:  # a line: reach further for the tilted mass
        g = make_grid(None, step, KERNEL_CUT * math.sqrt(c0) + cut * math.sqrt(s) + 12.0 * step)
        p = np.asarray(phi(g.h), dtype=float)
        psi = a * (p * p)[None, :] + b * xz[:, None] * p[None, :]
    hs, wh, idx = outer_nodes(g, c0)
    if s > 0.0 and is_wide(g, s):
        k0, k1, k2 = inner_kernels(g, hs, s, idx, cut)
        out = np.empty((6, xz.size, hs.size))  # ln, ⟨φ⟩, ⟨φ²⟩, ⟨ε⟩, ⟨ε²-1⟩, shifted mass
        # blocks of outer nodes, each shifted by the max of ψ over the nodes its kernels
        # reach (a banded product). A block whose shifted mass underflows somewhere (ψ
        # spanning more than e^{±700} across it, at strong tilt) is halved; one outer node
        # cannot underflow (its max node has kernel weight ≥ e^{-cut²/2} and e^0 = 1)
        todo = [(j, min(j + _BLOCK, hs.size)) for j in range(0, hs.size, _BLOCK)]
        while todo:
            j0, j1 = todo.pop()
            cols = np.flatnonzero(k0[j0:j1].any(axis=0))
            sums = _kernel_sums(p[cols], psi[:, cols], k0[j0:j1, cols], k1[j0:j1, cols],
                                k2[j0:j1, cols])
            if not np.all(sums[5] > 1e-250) and j1 - j0 > 1:
                mid = (j0 + j1) // 2
                todo += [(j0, mid), (mid, j1)]
                continue
            out[:, :, j0:j1] = sums
        ln, mean_phi, mean_phi2, mean_eps, mean_eps2_m1, s0 = out
    else:  # a narrow ε kernel: Gauss–Hermite offsets, φ exact at each node h_j + sqrt(s) ε
        x, w = symmetric_hermite_rule(NARROW_NODES)
        p = np.asarray(phi(hs[:, None] + math.sqrt(s) * x[None, :]), dtype=float)[None]
        psi = a * p * p + b * xz[:, None, None] * p  # (ζ, h, ε)
        ln, mean_phi, mean_phi2, mean_eps, mean_eps2_m1, s0 = _rule_sums(p, psi, x, w)
    if not (np.all(np.isfinite(ln)) and np.all(np.isfinite(mean_phi2)) and np.all(s0 > 0)):
        raise _tilt_failure(a)
    return TiltedMoments(wz[:, None] * wh[None, :], ln, mean_phi, mean_phi2, mean_eps, mean_eps2_m1)


def tilted_moments(phi: Any, c1: float, c0: float, a: float, b: float,
                   rule: dict[str, Any]) -> TiltedMoments:
    """The tilted ε-moments of the single-site measure (module docstring) at variances
    c1 (diagonal) and c0 (off-diagonal) of the field, tilt ψ = a φ² + b ζ φ, by the engine
    that a checked rule names (:func:`check_rule`; ``"hermite"`` also needs
    ``zeta_points``). Arrays of :class:`TiltedMoments`: (η, ζ) for hermite, (ζ, h node) for
    grid."""
    if rule["method"] == "grid":
        return _moments_grid(phi, c1, c0, a, b, rule)
    return _moments_hermite(phi, c1, c0, a, b, rule["order"], rule["zeta_points"])


def _reduce(mo: TiltedMoments) -> SiteMoments:
    return SiteMoments(mo.mean(mo.ln), mo.mean(mo.phi2), mo.mean(mo.phi**2), mo.mean(mo.eps**2),
                       mo.mean(mo.eps2_m1))


def site_moments_hermite(phi: Any, c1: float, c0: float, a: float, b: float, order: int,
                         zeta_points: int) -> SiteMoments:
    """The layer term T(c1, c0; ĝ_d, ĝ) and its moments by 3-D quadrature.

    z = sqrt(c0) η + sqrt(c1 - c0) ε, ψ = a φ(z)² + b ζ φ(z) with a = (ĝ_d - ĝ)/2,
    b = sqrt(ĝ); η and ε by ``order``-point Gauss–Hermite, ζ by :func:`zeta_rule`.
    """
    return _reduce(_moments_hermite(phi, c1, c0, a, b, order, zeta_points))


def site_moments(phi: Any, c1: float, c0: float, a: float, b: float,
                 rule: dict[str, Any]) -> SiteMoments:
    """:func:`site_moments_hermite` by the engine that a checked rule names (``"grid"`` or
    ``"hermite"``; a hermite rule here also carries ``zeta_points``)."""
    return _reduce(tilted_moments(phi, c1, c0, a, b, rule))


def auto_rule(act: Any, method: str, order: int, grid_step: float | None,
              zeta_points: int) -> dict[str, Any]:
    """The quadrature rule for an activation: ``"grid"`` for periodic or bounded φ (where
    the tilt e^ψ stays within the grid engine's range), nested Gauss–Hermite otherwise,
    unless ``method`` names one. ``grid_step`` None: :data:`GRID_STEP` on a periodic grid,
    :data:`LINE_STEP` on a line. The returned dict is checked and carries ``zeta_points``."""
    if method not in ("auto", "grid", "hermite"):
        raise InvalidInputError(f"method must be 'auto', 'grid' or 'hermite', got {method!r}")
    period, odd, bounded = activation_shape(act)
    if method == "auto":
        method = "grid" if (period is not None or bounded) else "hermite"
    if method == "hermite":
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
                or not 16 <= order <= 240:
            raise InvalidInputError(f"order must be a whole number in [16, 240], got {order!r}")
        return {"method": "hermite", "order": int(order), "zeta_points": int(zeta_points)}
    if grid_step is None:
        grid_step = GRID_STEP if period is not None else LINE_STEP
    return check_rule({"method": "grid", "grid_step": grid_step, "zeta_points": zeta_points,
                        "period": period, "odd": odd})


def finer_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """The refinement used for a posteriori error estimates: half the grid step (grid) or
    1.5× the order (hermite, at most 240), and 4 more ζ points per panel."""
    if rule["method"] == "grid":
        return {**rule, "grid_step": 0.5 * rule["grid_step"],
                "zeta_points": min(24, rule["zeta_points"] + 4)}
    return {**rule, "order": min(240, rule["order"] + rule["order"] // 2),
            "zeta_points": rule["zeta_points"] + 4}


# --------------------------------------------------------------------------------------
# operators on the grid (the k-RSB levels) and the entropy of a Parisi matrix
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _offset_index(n: int, periodic: bool) -> np.ndarray:
    """Index into :func:`gauss_lattice`'s output of the offset i - i' (G × G)."""
    diff = np.arange(n)[None, :] - np.arange(n)[:, None]
    return diff % n if periodic else diff + n - 1


def kernel_matrix(g: Grid, var: Any) -> np.ndarray:
    """K[i', i] = weight of node i' in the average over N(0, ``var``) at node i, shape
    (G, G), symmetric, columns summing to 1 (``var`` real or complex for a complex step;
    used where :func:`is_wide`)."""
    return gauss_lattice(g, var)[_offset_index(g.size, g.period is not None)]


def _lagrange(t: np.ndarray) -> np.ndarray:
    """9-point Lagrange weights, shape (len(t), 9), at positions t ∈ [-½, ½] (complex near
    there for a complex step) between the nodes -4..4. The stencil is centred, so offsets ±δ
    use mirror-image weights and the odd orders of a symmetric Gaussian average cancel (an
    off-centre stencil leaves a term linear in the offset ~ sqrt(var), which swamps the
    complex-step derivative of a level of vanishing variance)."""
    nodes = np.arange(-4, 5, dtype=float)
    diff = np.asarray(t)[:, None] - nodes[None, :]  # t - x_i
    out = np.empty(diff.shape, dtype=diff.dtype)
    for j in range(9):
        others = np.delete(np.arange(9), j)
        out[:, j] = np.prod(diff[:, others], axis=1) / np.prod(nodes[j] - nodes[others])
    return out


def shift_operator(g: Grid, offsets: np.ndarray, rows: np.ndarray | None = None) -> Any:
    """Sparse S, shape (len(offsets)·R, G) with R = len(rows) (default: all G nodes), with
    (S @ f)[l·R + r] ≈ f(h_{rows[r]} + offsets[l]) for f sampled on the grid, by 9-point Lagrange
    interpolation (wrapping on a periodic grid, clamped at the ends of a line: clamped values
    lie beyond the reach of every later level and are never used)."""
    from scipy.sparse import csr_matrix

    n = g.size
    rows = np.arange(n) if rows is None else rows
    s = offsets / g.dh
    p = np.rint(s.real).astype(int)
    wts = _lagrange(s - p)  # (n_off, 9)
    idx = rows[None, :, None] + p[:, None, None] + np.arange(-4, 5)[None, None, :]
    idx = idx % n if g.period is not None else np.clip(idx, 0, n - 1)
    data = np.broadcast_to(wts[:, None, :], idx.shape).ravel()
    return csr_matrix((data, idx.ravel(), np.arange(0, idx.size + 1, 9)),
                      shape=(offsets.size * rows.size, n))


def narrow_rule(var: Any) -> tuple[np.ndarray, np.ndarray]:
    """E over N(0, ``var``) for a Gaussian too narrow for the grid: offsets sqrt(var) x and
    weights of the :data:`NARROW_NODES`-point :func:`symmetric_hermite_rule`, 1-D arrays."""
    x, w = symmetric_hermite_rule(NARROW_NODES)
    return np.sqrt(var) * x, w


def entropy_term(q: np.ndarray, m: np.ndarray) -> Any:
    """½ lim (1/n) ln det Q of the k-RSB Parisi matrix with unit diagonal (dimensionless,
    ≤ 0): ½ Ψ, Ψ = q_0/D_0 + Σ_j (1/m_j) ln(D_{j-1}/D_j) + ln(1 - q_k), D_k = 1 - q_k,
    D_{j-1} = D_j + m_j (q_j - q_{j-1}) (Crisanti & Sommers, Z. Phys. B 87, 341 (1992)).

    ``q`` shape (k + 1,), ``m`` shape (k,), real or complex (complex-step derivatives); no
    checks (:func:`replicasolve.solvers.finite_width.krsb.parisi_entropy` checks them)."""
    d = 1.0 - q[-1]
    psi = np.log1p(-q[-1])
    for j in range(m.size, 0, -1):
        inc = m[j - 1] * (q[j] - q[j - 1])
        psi = psi + np.log1p(inc / d) / m[j - 1]  # log1p: D_{j-1}/D_j → 1 as a level collapses
        d = d + inc
    return 0.5 * (psi + q[0] / d)
