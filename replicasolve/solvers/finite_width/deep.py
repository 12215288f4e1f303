"""Stability (replicon eigenvalue) of the finite-width RS saddle of a random MLP landscape at
ANY depth L ≥ 1 (Hanin & Winer, arXiv 2503.23982; derivation and checks in
``derivations/finite_width_deep_replicon.py``).

The action (module docstring of :mod:`replicasolve.solvers.finite_width.rs`), per N::

    S = ½ ln det Q + β²/2 Σ_ab C^{L+1}_ab
        - Σ_l α_l [ ½ Σ_ab Ĝ^l_ab G^l_ab - W_l(C^l, Ĝ^l) ],
    W(C, Ĝ) = ln E_{z~N(0,C)} exp(½ Σ_ab Ĝ_ab φ(z_a)φ(z_b)),   C^{l+1} = σ_b² + σ_w² G^l,

C^1 = σ_b² + σ_w² Q, is a function of the input overlaps Q (the only thermal order
parameter: the hidden fields are Gaussian given the input, i.e. part of the disorder) and
of the large-deviation variables G^l, Ĝ^l. Its replicon sector (zero-row-sum off-diagonal
perturbations δQ, δG^l, δĜ^l of one common shape; diagonal and longitudinal modes decouple
by permutation symmetry) is a (2L+1)-square matrix per replicon mode::

    δQ δQ:           -1/(1-q)² + α_1 σ_w⁴ R^1_CC
    δG^{l-1} δG^{l-1}:  α_l σ_w⁴ R^l_CC            (l ≥ 2; G^0 ≡ Q)
    δG^{l-1} δĜ^l:      α_l σ_w² R^l_CĜ
    δĜ^l δĜ^l:          α_l R^l_ĜĜ
    δG^l δĜ^l:         -α_l                        (from -α_l ½ Σ Ĝ G)
    δG^L δG^L:          0                          (β²/2 Σ C^{L+1} is linear in G^L).

The per-layer blocks are the replicon projections M1 - 2M2 + M3 of the connected
second derivatives of W, in which every pair observable is a product of one single-replica
operator per replica (∂/∂C_ab → ∂_a∂_b by Gaussian integration by parts, ∂/∂Ĝ_ab →
φ_aφ_b); the disconnected parts cancel and, as n → 0::

    R_CC = E_{η,ζ} χ²,          χ = ∂_h² ln I = (Var^ψ(ε) - 1)/s,
    R_CĜ = E_{η,ζ} (∂_h⟨φ⟩)²,   ∂_h⟨φ⟩ = Cov^ψ(ε, φ)/sqrt(s),
    R_ĜĜ = E_{η,ζ} Var^ψ(φ)²,

with z = h + sqrt(s) ε, h = sqrt(c0) η, s = c1 - c0, I = E_ε e^ψ and ⟨·⟩, Var^ψ, Cov^ψ
the moments of the single-site measure tilted by e^ψ, ψ = ½(ĝ_d - ĝ)φ(z)² + sqrt(ĝ) ζ φ(z)
(exactly the measure of the RS equations). Integrating out δG^l, δĜ^l (the Schur complement
onto δQ, i.e. the replicon of the effective action S_eff[Q]) from the top layer down gives
a recursion for the curvature κ_l felt by δG^l::

    κ_L = 0,
    κ_{l-1} = α_l σ_w⁴ [ R^l_CC + (R^l_CĜ)² κ_l / (α_l - κ_l R^l_ĜĜ) ],   l = L..1,

and, normalised as the Gaussian-limit replicon (multiplied by -(1-q)²)::

    Λ = 1 - (1 - q)² κ_0.

Λ < 0: the RS saddle is unstable toward replica symmetry breaking. Λ > 0 is not enough at
L ≥ 2: integrating the conjugates Ĝ^l (imaginary contour) first leaves a real form in
(δQ, δG^1..δG^{L-1}) whose δG^l pivots (after the layers above are eliminated) are
-(α_l - κ_l R^l_ĜĜ)/R^l_ĜĜ; stability (a maximum in every replicon direction, as for δQ
and as in the α → ∞ limit, where the pivots → α_l > 0) needs all pivots α_l - κ_l R^l_ĜĜ
> 0 as well as Λ > 0. The form's eigenvalues can only cross zero where its determinant
(pivots × Schur complements) does, i.e. at Λ = 0 with positive pivots: a pivot through
zero is a pole of Λ, reached only after Λ has already crossed zero (the region beyond it,
where Λ > 0 again, is RS-unstable). :func:`replicon_boundary` looks for the Λ = 0
crossing with positive pivots.
At L = 1 it is 1 - α E(s χ)², the depth-1 replicon of
:mod:`replicasolve.solvers.finite_width.replicon`. As α → ∞ it tends to 1 - β² ξ''(q)(1-q)²
with ξ = K_{L+1} (the recursion becomes the chain rule for ξ'' of the composed kernel); for
φ = x the tilted ε is Gaussian, χ ≡ 0 and, at the saddle, ĝ_d = ĝ in every layer, so
κ ≡ 0 and Λ = 1 at every depth, width and temperature.

References: replicon of a replica-symmetric Hessian (de Almeida & Thouless, J. Phys. A 11,
983 (1978)); the spherical replicon 1 - β² ξ''(q)(1-q)² (Crisanti & Sommers, Z. Phys. B
87, 341 (1992)); Gaussian integration by parts (Stein, Ann. Stat. 9, 1135 (1981)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...blas import tap_blas
from ...errors import ConvergenceError, InvalidInputError
from ...quadrature import gauss_hermite
from ...results import Result
from .numerics import depth_alphas, zeta_rule
from .rs import FiniteWidthResult, finite_width_rs

__all__ = [
    "DeepRepliconResult",
    "RepliconBoundary",
    "finite_width_replicon_deep",
    "replicon_boundary",
    "replicon_from_blocks",
    "replicon_hessian",
]


@dataclass(frozen=True, eq=False)
class DeepRepliconResult(Result):
    """The replicon eigenvalue of the finite-width RS saddle at depth L.

    Attributes:
        replicon: Λ = 1 - (1-q)² κ_0 (dimensionless; < 0: RS unstable; > 0: stable if
            also every pivot is > 0, see :attr:`stable`).
        saddle: the RS solution (:class:`~replicasolve.solvers.finite_width.rs.FiniteWidthResult`)
            Λ was evaluated at.
        r_cc, r_cg, r_gg: shape (L,): the per-layer replicon blocks R^l_CC, R^l_CĜ, R^l_ĜĜ of
            W_l (module docstring; R_CC in units of 1/C², R_CĜ in 1/C, R_ĜĜ in G²).
        kappa: shape (L+1,): κ_0..κ_L, the replicon curvature felt by δQ (κ_0) and by δG^l
            after the layers above are integrated out (κ_L = 0).
        pivots: shape (L,): α_l - κ_l R^l_ĜĜ, l = 1..L (the L-th is α_L). The RS saddle is
            stable only if all are > 0 AND Λ > 0 (module docstring: after the imaginary Ĝ
            integrals the δG^l pivots are -pivot_l/R^l_ĜĜ and must be negative like δQ's).
        resolution: |ΔΛ| when the blocks are re-evaluated on finer rules at the same
            saddle, plus 2(1-Λ)/(1-q) (∂Λ/∂q at fixed κ_0) times the saddle's own
            quadrature indicator (a rough bound). Also readable as ``quadrature_error``
            (its former name, a read-only alias).
        converged: the RS saddle converged (its fixed-point residual below its tolerance)
            and Λ, κ, the pivots and the resolution are all finite. (An unconverged saddle
            is refused with ConvergenceError, so False here means non-finite blocks.)
        settings: quadrature rules.
        message: the verdict, or which pivot is non-positive.
    """

    replicon: float
    saddle: FiniteWidthResult
    r_cc: np.ndarray
    r_cg: np.ndarray
    r_gg: np.ndarray
    kappa: np.ndarray
    pivots: np.ndarray
    resolution: float
    converged: bool
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def quadrature_error(self) -> float:
        """Read-only alias of :attr:`resolution` (the former field name)."""
        return self.resolution

    @property
    def T(self) -> float:
        """Temperature of the saddle (energy units of H/N)."""
        return self.saddle.T

    @property
    def q(self) -> float:
        """Input overlap of the RS saddle."""
        return self.saddle.q

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.r_cc)

    @property
    def stable(self) -> bool:
        """The RS saddle is locally stable in the replicon sector: Λ ≥ 0 and every pivot
        α_l - κ_l R^l_ĜĜ > 0 (equivalently :meth:`real_hessian` negative semi-definite)."""
        return self.replicon >= 0.0 and bool(np.all(self.pivots > 0))

    def real_hessian(self) -> np.ndarray:
        """The replicon-sector form in the real directions (δQ, δG^1, ..., δG^{L-1}) after
        the Ĝ^l (imaginary contour) are integrated out and δG^L, δĜ^L eliminated
        (δĜ^L = 0 exactly): the Schur complement of :attr:`hessian` that removes the Ĝ
        rows. Stable iff negative definite; eliminating its δG rows leaves the δQ Schur
        complement -Λ/(1-q)² (shape (L, L))."""
        h = self.hessian
        L = self.depth
        keep = [0] + [2 * l + 1 for l in range(L - 1)]
        hats = [2 * l + 2 for l in range(L - 1)]
        a = h[np.ix_(keep, keep)]
        if not hats:
            return a
        b = h[np.ix_(keep, hats)]
        d = h[np.ix_(hats, hats)]
        return a - b @ np.linalg.solve(d, b.T)

    @property
    def hessian(self) -> np.ndarray:
        """The (2L+1)-square replicon-sector Hessian of the action (module docstring), in the
        order (δQ, δG^1, δĜ^1, ..., δG^L, δĜ^L); its Schur complement onto δQ is
        -1/(1-q)² + κ_0."""
        return replicon_hessian(self.saddle.q, self.saddle.alpha, self.saddle.sigma_w2,
                                self.r_cc, self.r_cg, self.r_gg)


@dataclass(frozen=True)
class RepliconBoundary(Result):
    """Where Λ(T) = 0 at fixed width ratios (the RS → RSB instability line).

    Attributes:
        T: the temperature with Λ = 0 (brentq), or None if Λ keeps one sign on the grid.
        found: whether a sign change was bracketed.
        T_grid, replicon_grid: the scan (T ascending) that located the bracket.
        message: how the search ended.
        converged: the search reached a definite answer: a zero of Λ with positive pivots
            (refined by brentq to ``xtol``, or on a scan point), or no boundary in the range
            (Λ of one sign on the scan, or a pivot already non-positive at its top). False
            where the scan was inconclusive (a sign change through a pole, or a vanishing
            pivot without a zero of Λ above it: the message says to refine the scan).
        T_error: error estimate of ``T`` (energy units of H/N): ``xtol`` plus the
            replicon's own resolution at T divided by |dΛ/dT| over the bracket; NaN (not
            estimated) when no zero was refined.
    """

    T: float | None
    found: bool
    T_grid: tuple[float, ...]
    replicon_grid: tuple[float, ...]
    message: str
    converged: bool = False
    T_error: float = math.nan


def _site_blocks(phi: Any, c1: float, c0: float, a: float, b: float, order: int,
                 zeta_points: int, n: float = 0.0) -> tuple[float, float, float]:
    """(R_CC, R_CĜ, R_ĜĜ) of one layer at its RS point (module docstring).

    z = sqrt(c0) η + sqrt(s) ε, s = c1 - c0, ψ = a φ(z)² + b ζ φ(z); η, ε by Gauss–Hermite,
    ζ by the composite rule of ``finite_width_numerics.zeta_rule``. ``n`` is the replica number of
    the E_n weight I^n / E I^n (n = 0: the physical limit; integer n only for the
    derivation's finite-n checks). Rows with small |ψ| sum expm1(ψ) so that Var^ψ(ε) - 1 =
    O(sqrt(ĝ)) keeps its relative precision at large α.
    """
    x, w = gauss_hermite(order)
    xz, wz = zeta_rule(zeta_points)
    s = c1 - c0
    if not s > 0:
        raise ConvergenceError(f"degenerate layer: c1 - c0 = {s:.3g} <= 0 at the RS saddle")
    z = math.sqrt(max(c0, 0.0)) * x[:, None] + math.sqrt(s) * x[None, :]
    p = np.asarray(phi(z), dtype=float)  # (η, ε)
    psi = (a * p * p)[:, None, :] + b * xz[None, :, None] * p[:, None, :]  # (η, ζ, ε)
    small = np.abs(psi).max(axis=2, keepdims=True) <= 1.0
    m = np.where(small, 0.0, psi.max(axis=2, keepdims=True))
    ew = np.where(small, np.expm1(np.where(small, psi, 0.0)), np.exp(psi - m)) * w
    base = np.where(small[..., 0], 1.0, 0.0)  # E_ε 1 added back on the expm1 rows
    s0 = base + ew.sum(axis=2)
    if not (np.all(np.isfinite(s0)) and np.all(s0 > 0)):
        raise ConvergenceError("the tilted single-site integral is not finite at this (α, T)")

    def mean(f: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """⟨f⟩ over ε; ``exact`` = E_ε f under the untilted rule (per η)."""
        return ((ew * f[:, None, :]).sum(axis=2) + base * exact[:, None]) / s0

    eps = np.broadcast_to(x[None, :], p.shape)
    zero = np.zeros(p.shape[0])
    m_eps = mean(eps, zero)  # E_ε ε = 0 on the symmetric rule
    m_eps2m1 = mean(eps * eps - 1.0, zero)  # E_ε (ε² - 1) = 0 likewise
    m_phi = mean(p, p @ w)
    m_phi2 = mean(p * p, (p * p) @ w)
    m_ephi = mean(eps * p, (eps * p) @ w)
    chi = (m_eps2m1 - m_eps**2) / s
    dphi = (m_ephi - m_eps * m_phi) / math.sqrt(s)
    var_phi = m_phi2 - m_phi**2
    w2 = w[:, None] * wz[None, :]
    if n != 0.0:
        ln_i = m[..., 0] + np.log(s0)
        e = np.exp(n * (ln_i - ln_i.max()))
        w2 = w2 * e / float((w2 * e).sum())
    out = (float((w2 * chi * chi).sum()), float((w2 * dphi * dphi).sum()),
           float((w2 * var_phi * var_phi).sum()))
    if not all(math.isfinite(v) for v in out):
        raise ConvergenceError("the replicon blocks are not finite at this (α, T)")
    return out


# grid engine for the blocks (bounded or periodic φ, where Gauss–Hermite converges slowly at
# strong tilt): φ sampled on a uniform grid in the field z, the ε average a sum with the
# sampled Gaussian kernel (normalised rows), the outer h = sqrt(c0) η average with Gaussian
# weights on the same grid; spectrally accurate for smooth φ however peaked e^ψ is.
_GRID_STEP = 2 * math.pi / 128
_CUT = 8.0  # Gaussian kernels cut at 8 standard deviations (weight e^-32 ≈ 1e-14)


def _site_blocks_grid(phi: Any, c1: float, c0: float, a: float, b: float, step: float,
                      zeta_points: int, n: float = 0.0) -> tuple[float, float, float]:
    """(R_CC, R_CĜ, R_ĜĜ) as :func:`_site_blocks`, on a grid of spacing ``step`` in z.

    Falls back to 96-point Gauss–Hermite in ε where sqrt(s) < 4 ``step`` (a kernel too
    narrow for the grid) and in η where sqrt(c0) < 4 ``step``.
    """
    s = c1 - c0
    if not s > 0:
        raise ConvergenceError(f"degenerate layer: c1 - c0 = {s:.3g} <= 0 at the RS saddle")
    sd = math.sqrt(s)
    if sd < 4 * step:
        return _site_blocks(phi, c1, c0, a, b, 96, zeta_points, n)
    c0 = max(c0, 0.0)
    if math.sqrt(c0) >= 4 * step:
        hs = np.arange(-math.ceil(_CUT * math.sqrt(c0) / step),
                       math.ceil(_CUT * math.sqrt(c0) / step) + 1) * step
        wh = np.exp(-0.5 * hs * hs / c0)
        wh /= wh.sum()
    else:
        x, w = gauss_hermite(96)
        hs, wh = math.sqrt(c0) * x, w
    reach = float(np.max(np.abs(hs))) + _CUT * sd
    zs = np.arange(-math.ceil(reach / step), math.ceil(reach / step) + 1) * step
    p = np.asarray(phi(zs), dtype=float)  # (Z,)
    e = (zs[None, :] - hs[:, None]) / sd  # (h, Z): ε of node z seen from h
    k0 = np.where(np.abs(e) <= _CUT, np.exp(-0.5 * e * e), 0.0)
    k0 /= k0.sum(axis=1, keepdims=True)
    k1, k2 = k0 * e, k0 * (e * e - 1.0)
    xz, wz = zeta_rule(zeta_points)
    psi = a * (p * p)[None, :] + b * xz[:, None] * p[None, :]  # (ζ, Z)
    small = np.abs(psi).max(axis=1, keepdims=True) <= 1.0
    top = np.where(small, 0.0, psi.max(axis=1, keepdims=True))
    ew = np.where(small, np.expm1(np.where(small, psi, 0.0)), np.exp(psi - top))
    base = np.where(small, 1.0, 0.0)  # (ζ, 1): the untilted E_ε added back on expm1 rows
    s0 = base + ew @ k0.T  # (ζ, h)
    if not (np.all(np.isfinite(s0)) and np.all(s0 > 0)):
        raise ConvergenceError("the tilted single-site integral is not finite at this (α, T)")

    def mean(f: np.ndarray | None, k: np.ndarray) -> np.ndarray:
        """⟨f · (kernel factor)⟩: f on the z grid (None: 1), k one of k0, k1, k2."""
        fz = np.ones_like(p) if f is None else f
        return ((ew * fz[None, :]) @ k.T + base * (k @ fz)[None, :]) / s0

    m_eps = mean(None, k1)
    m_eps2m1 = mean(None, k2)
    m_phi = mean(p, k0)
    m_phi2 = mean(p * p, k0)
    m_ephi = mean(p, k1)
    chi = (m_eps2m1 - m_eps**2) / s
    dphi = (m_ephi - m_eps * m_phi) / sd
    var_phi = m_phi2 - m_phi**2
    w2 = wz[:, None] * wh[None, :]
    if n != 0.0:
        ln_i = top + np.log(s0)
        ex = np.exp(n * (ln_i - ln_i.max()))
        w2 = w2 * ex / float((w2 * ex).sum())
    out = (float((w2 * chi * chi).sum()), float((w2 * dphi * dphi).sum()),
           float((w2 * var_phi * var_phi).sum()))
    if not all(math.isfinite(v) for v in out):
        raise ConvergenceError("the replicon blocks are not finite at this (α, T)")
    return out


def replicon_from_blocks(q: float, alpha: Sequence[float], sigma_w2: float,
                         r_cc: Sequence[float], r_cg: Sequence[float],
                         r_gg: Sequence[float]) -> tuple[float, np.ndarray]:
    """Λ and κ_0..κ_L from the per-layer blocks by the top-down recursion (module docstring).

    Args:
        q: input overlap of the RS saddle, in [0, 1).
        alpha: width ratios α_l, length L.
        sigma_w2: weight variance σ_w².
        r_cc, r_cg, r_gg: per-layer blocks R^l_CC, R^l_CĜ, R^l_ĜĜ, length L each.
        (sympy symbols are accepted too: the derivation checks the algebra with them.)

    Returns:
        (Λ, κ) with κ of shape (L+1,) (object arrays for symbolic input).
    """
    depth = len(alpha)
    kappa: list[Any] = [0.0] * (depth + 1)
    for l in range(depth - 1, -1, -1):  # layer l+1 in the 1-based notation
        k, a = kappa[l + 1], alpha[l]
        kappa[l] = a * sigma_w2**2 * (r_cc[l] + r_cg[l] ** 2 * k / (a - k * r_gg[l]))
    lam = 1 - (1 - q) ** 2 * kappa[0]
    return _as_float(lam), _as_array(kappa)


def _as_float(v: Any) -> Any:
    """float(v) for numbers; symbolic (sympy) values are passed through."""
    try:
        return float(v)
    except TypeError:
        return v


def _as_array(vals: Any) -> np.ndarray:
    try:
        return np.array(vals, dtype=float)
    except TypeError:
        return np.array(vals, dtype=object)


def replicon_hessian(q: float, alpha: Sequence[float], sigma_w2: float,
                     r_cc: Sequence[float], r_cg: Sequence[float],
                     r_gg: Sequence[float]) -> np.ndarray:
    """The (2L+1)-square replicon-sector Hessian (δQ, δG^1, δĜ^1, ..., δG^L, δĜ^L).

    Same arguments as :func:`replicon_from_blocks`; entries as in the module docstring.
    Returns a float array, or an object array for symbolic input.
    """
    depth = len(alpha)
    size = 2 * depth + 1
    h: list[list[Any]] = [[0.0] * size for _ in range(size)]
    h[0][0] = -1 / (1 - q) ** 2
    for l in range(depth):
        a = alpha[l]
        below = 0 if l == 0 else 2 * l - 1  # index of δG^{l-1} (δQ for the first layer)
        g, gh = 2 * l + 1, 2 * l + 2
        h[below][below] += a * sigma_w2**2 * r_cc[l]
        h[below][gh] = h[gh][below] = a * sigma_w2 * r_cg[l]
        h[gh][gh] = a * r_gg[l]
        h[g][gh] = h[gh][g] = -a
    return _as_array(h)


def _layer_inputs(sol: FiniteWidthResult) -> list[tuple[float, float, float, float]]:
    """(c1, c0, a, b) of each layer at the RS saddle."""
    sw2, sb2 = sol.sigma_w2, sol.sigma_b2
    out = []
    c1, c0 = sb2 + sw2, sb2 + sw2 * sol.q
    for l in range(sol.depth):
        gd, g = float(sol.ghat_diag[l]), float(sol.ghat_off[l])
        out.append((c1, c0, 0.5 * (gd - g), math.sqrt(max(g, 0.0))))
        c1, c0 = sb2 + sw2 * float(sol.g_diag[l]), sb2 + sw2 * float(sol.g_off[l])
    return out


def _blocks(phi: Any, sol: FiniteWidthResult, rule: tuple[str, float, int]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-layer blocks at the saddle; ``rule`` = ("grid", step, ζ points) or
    ("hermite", order, ζ points)."""
    kind, size, zp = rule
    if kind == "grid":
        vals = np.array([_site_blocks_grid(phi, *inp, float(size), zp)
                         for inp in _layer_inputs(sol)])
    else:
        vals = np.array([_site_blocks(phi, *inp, int(size), zp) for inp in _layer_inputs(sol)])
    return vals[:, 0], vals[:, 1], vals[:, 2]


@tap_blas
def finite_width_replicon_deep(activation: Any, sigma_w2: float, sigma_b2: float,
                               alpha: float | Sequence[float], T: float, depth: int, *,
                               method: str = "auto", blocks: str = "auto", order: int = 64,
                               zeta_points: int = 6,
                               saddle: FiniteWidthResult | None = None) -> DeepRepliconResult:
    """The replicon eigenvalue Λ of the finite-width RS saddle of an L-hidden-layer random MLP.

    Solves :func:`replicasolve.solvers.finite_width.rs.finite_width_rs` (or takes ``saddle``),
    evaluates each layer's replicon block (R_CC, R_CĜ, R_ĜĜ) on its tilted single-site
    measure (its own engines, since the blocks need ⟨εφ⟩: a grid in the field with the
    sampled Gaussian kernel, step 2π/128, when the saddle was solved on the grid, i.e. for
    bounded or periodic φ; ``order``-point Gauss–Hermite in η and ε otherwise; ζ by the
    composite rule; the error is estimated by re-evaluation on a finer rule) and integrates
    out the layer variables top-down (module docstring; derived and
    checked in ``derivations/finite_width_deep_replicon.py``). Normalisation: Λ → 1 -
    β² ξ''(q)(1-q)² (ξ = K_{L+1}) as α → ∞, and Λ equals
    :func:`~replicasolve.solvers.finite_width.replicon.finite_width_replicon` at L = 1.

    Args:
        activation: name, formula or Activation, as for ``finite_width_rs``.
        sigma_w2: weight variance σ_w² > 0 (every layer).
        sigma_b2: bias variance σ_b² ≥ 0 (every layer).
        alpha: width ratio α_l = N_l/N: one number (all layers) or one per hidden layer.
        T: temperature > 0 (energy units of H/N).
        depth: hidden layers L ≥ 1.
        method: quadrature engine of the RS solve (``"auto"``, ``"grid"``, ``"hermite"``,
            as ``finite_width_rs``).
        blocks: engine of the blocks: ``"auto"`` (the saddle's), ``"grid"`` or ``"hermite"``
            (``method="hermite"`` with ``blocks="hermite"`` reproduces the depth-1 module's
            rules exactly).
        order: Gauss–Hermite points in η and ε (16..240), for the blocks and a hermite solve.
        zeta_points: Gauss–Legendre points per ζ panel (4..12) for the blocks (the RS solve
            uses its own default).
        saddle: an RS solution with these parameters to reuse (skips the solve).

    Returns:
        :class:`DeepRepliconResult`.

    Raises:
        InvalidInputError: bad parameters (as ``finite_width_rs``), depth < 1, a width-ratio
            sequence whose length is not ``depth``, or a ``saddle`` of other parameters.
        ConvergenceError: the RS saddle does not converge or a tilted integral overflows.
    """
    from ...kernels.activation import Activation
    from ...kernels.activation import activation as make_activation

    alphas = depth_alphas(alpha, depth)
    for name, v, lo, hi in (("order", order, 16, 240), ("zeta_points", zeta_points, 4, 12)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            raise InvalidInputError(f"{name} must be a whole number in [{lo}, {hi}], got {v!r}")
    if blocks not in ("auto", "grid", "hermite"):
        raise InvalidInputError(f"blocks must be 'auto', 'grid' or 'hermite', got {blocks!r}")
    act = activation if isinstance(activation, Activation) else make_activation(activation)
    if saddle is None:
        sol = finite_width_rs(act, sigma_w2, sigma_b2, alphas, T, method=method,
                              order=order)
    else:
        sol = saddle
        same = (sol.alpha == alphas and sol.T == float(T) and sol.sigma_w2 == float(sigma_w2)
                and sol.sigma_b2 == float(sigma_b2))
        if not same:
            raise InvalidInputError("saddle was solved for other parameters than those given")
    if not sol.converged:
        raise ConvergenceError(f"the RS saddle did not converge: {sol.message}")
    kind = blocks if blocks != "auto" else (
        "grid" if sol.settings.get("method") == "grid" else "hermite")
    rule = (kind, _GRID_STEP if kind == "grid" else int(order), int(zeta_points))
    fine = (kind, 0.5 * _GRID_STEP if kind == "grid" else min(240, order + order // 2),
            int(zeta_points) + 4)
    r_cc, r_cg, r_gg = _blocks(act.phi, sol, rule)
    lam, kappa = replicon_from_blocks(sol.q, alphas, sol.sigma_w2, r_cc, r_cg, r_gg)
    lam_fine, _ = replicon_from_blocks(sol.q, alphas, sol.sigma_w2,
                                       *_blocks(act.phi, sol, fine))
    # sensitivity to the saddle's own quadrature error: Λ depends on q through (1-q)² κ_0
    dq = (1.0 - lam) * 2.0 / max(1.0 - sol.q, 1e-12)
    qerr = abs(lam_fine - lam) + abs(dq) * sol.resolution
    pivots = np.array([alphas[l] - kappa[l + 1] * r_gg[l] for l in range(len(alphas))])
    notes = []
    for l, piv in enumerate(pivots):
        if piv <= 0:
            notes.append(f"layer {l + 1}: pivot alpha - kappa R_GG = {piv:.4g} <= 0: the "
                         "hidden-overlap replicon direction is unstable (RS unstable whatever "
                         "the sign of Lambda)")
    if not notes:
        notes.append("stable (Lambda >= 0)" if lam >= 0 else "RS unstable (Lambda < 0)")
    return DeepRepliconResult(
        replicon=lam, saddle=sol, r_cc=r_cc, r_cg=r_cg, r_gg=r_gg, kappa=kappa, pivots=pivots,
        resolution=float(qerr),
        converged=bool(sol.converged and math.isfinite(lam) and math.isfinite(qerr)
                       and np.all(np.isfinite(kappa)) and np.all(np.isfinite(pivots))),
        settings={"blocks_rule": rule, "check_rule": fine,
                  "saddle_method": sol.settings.get("method", "hermite")},
        message="; ".join(notes))


def replicon_boundary(activation: Any, sigma_w2: float, sigma_b2: float,
                      alpha: float | Sequence[float], depth: int,
                      T_range: tuple[float, float], *, points: int = 5, method: str = "auto",
                      order: int = 64, zeta_points: int = 6,
                      xtol: float = 1e-5) -> RepliconBoundary:
    """The temperature where the finite-width replicon Λ(T) crosses zero, if it does in range.

    Λ is evaluated (:func:`finite_width_replicon_deep`) on ``points`` temperatures spaced
    geometrically over ``T_range``; the first sign change from the high-T end between two
    points with positive pivots is refined by Brent's method (scipy.optimize.brentq) to
    ``xtol`` and accepted if the pivots are positive and Λ ≈ 0 there (a sign change
    through a pole of the recursion is reported, not returned). Where a pivot turns
    negative between two scan points, its zero T_p is located first and Λ's zero is
    sought just above it (Λ → -∞ as T → T_p from above, module docstring).

    Args:
        activation, sigma_w2, sigma_b2, alpha, depth: as :func:`finite_width_replicon_deep`.
        T_range: (T_lo, T_hi) with 0 < T_lo < T_hi.
        points: scan points (≥ 2).
        method, order, zeta_points: quadrature, as :func:`finite_width_replicon_deep`.
        xtol: absolute tolerance on T.

    Returns:
        :class:`RepliconBoundary` (T None and ``found`` False if Λ has one sign on the scan).

    Raises:
        InvalidInputError: a bad range or scan size (and anything
            :func:`finite_width_replicon_deep` refuses).
    """
    from scipy.optimize import brentq

    try:
        lo, hi = (float(v) for v in T_range)
    except (TypeError, ValueError):
        raise InvalidInputError(f"T_range must be two numbers, got {T_range!r}") from None
    if not (0 < lo < hi and math.isfinite(hi)):
        raise InvalidInputError(f"T_range must satisfy 0 < T_lo < T_hi < inf, got {T_range!r}")
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
        raise InvalidInputError(f"points must be a whole number >= 2, got {points!r}")

    def run(t: float) -> DeepRepliconResult:
        return finite_width_replicon_deep(activation, sigma_w2, sigma_b2, alpha, t, depth,
                                          method=method, order=order,
                                          zeta_points=zeta_points)

    def lam(t: float) -> float:
        return run(t).replicon

    grid = np.geomspace(lo, hi, int(points))
    res = [run(float(t)) for t in grid]
    vals = [r.replicon for r in res]
    good = [bool(np.all(r.pivots > 0)) for r in res]
    scan = (tuple(map(float, grid)), tuple(vals))

    def refine(t_lo: float, t_hi: float, l_lo: float, l_hi: float, note: str
               ) -> RepliconBoundary:
        t = brentq(lam, t_lo, t_hi, xtol=xtol)
        at = run(t)
        # a genuine zero: |Λ| at most a few xtol times the bracket's slope, pivots positive
        # (through a pole |Λ| is large at the brentq point)
        slope = abs(l_hi - l_lo) / (t_hi - t_lo)
        if np.all(at.pivots > 0) and abs(at.replicon) <= 10 * xtol * slope + 1e-9:
            return RepliconBoundary(float(t), True, *scan, note + ", refined by brentq",
                                    converged=True,
                                    T_error=float(xtol + at.resolution / max(slope, 1e-300)))
        return RepliconBoundary(None, False, *scan,
                                f"Lambda changes sign in [{t_lo:.4g}, {t_hi:.4g}] through a "
                                "pole (pivot <= 0), not through zero: refine the scan",
                                converged=False)

    if not good[-1]:
        return RepliconBoundary(None, False, *scan,
                                f"a pivot alpha - kappa R_GG is <= 0 already at T = {hi:g}: "
                                "RS unstable at the top of the range", converged=True)
    for i in range(len(grid) - 1, 0, -1):
        if vals[i] == 0.0:
            return RepliconBoundary(float(grid[i]), True, *scan, "Lambda = 0 on a grid point",
                                    converged=True)
        t_lo, t_hi = float(grid[i - 1]), float(grid[i])
        if good[i - 1] and vals[i] * vals[i - 1] < 0:
            return refine(t_lo, t_hi, vals[i - 1], vals[i],
                          f"sign change bracketed in [{t_lo:.4g}, {t_hi:.4g}]")
        if not good[i - 1]:
            # a pivot reaches zero at T_p in between; coming from the stable side Λ must
            # cross zero above T_p (module docstring) and tends to -inf at T_p+
            def pivot(t: float) -> float:
                return float(np.min(run(t).pivots))

            t_p = brentq(pivot, t_lo, t_hi, xtol=xtol)
            t_a = t_p + max(10 * xtol, 1e-3 * (t_hi - t_p))
            l_a = lam(t_a) if t_a < t_hi else vals[i]
            if vals[i] > 0 and l_a < 0:
                return refine(t_a, t_hi, l_a, vals[i],
                              f"a pivot vanishes at T = {t_p:.5g}; Lambda crosses zero in "
                              f"[{t_a:.5g}, {t_hi:.4g}]")
            return RepliconBoundary(None, False, *scan,
                                    f"a pivot vanishes at T = {t_p:.5g} without a zero of "
                                    "Lambda above it on the scan: refine the scan",
                                    converged=False)
    sign = "positive (RS stable)" if vals[0] > 0 else "negative (RS unstable)"
    return RepliconBoundary(None, False, *scan,
                            f"Lambda is {sign} at all {len(grid)} scan temperatures in "
                            f"[{lo:g}, {hi:g}]: no RS/RSB boundary found there",
                            converged=True)
