"""k-step RSB of a random MLP's input landscape at finite width, one hidden layer.

At depth 1 the conjugate of the layer overlap is fixed exactly, Ĝ_ab = β²σ_w²/α for all a, b
(``derivations/finite_width_landscape.py``), and a Hubbard–Stratonovich variable ζ (the
normalised read-out weight of a hidden unit, shared by the replicas) linearises the rest::

    n Φ_n(Q) = ½ ln det Q + α ln E_ζ E_{z ~ N(0, C(Q))} Π_a exp(λ ζ φ(z_a)),
    C = σ_b² + σ_w² Q,   λ = β σ_w / sqrt(α).

Parisi matrix (convention of :mod:`replicasolve.solvers.spherical`): Q_aa = 1, overlaps
0 ≤ q_0 ≤ q_1 ≤ … ≤ q_k < 1 and block sizes n = p_0 ≥ p_1 ≥ … ≥ p_k ≥ p_{k+1} = 1, q_j
between replicas in the same p_j-block but in different p_{j+1}-blocks; after n → 0 the
sizes become 0 < m_1 ≤ m_2 ≤ … ≤ m_k ≤ 1 (m_j = p_j), i.e. the Parisi function
x(q) = 0 on [0, q_0), m_j on [q_{j-1}, q_j), 1 on [q_k, 1].

Derivation (each step is checked in ``derivations/finite_width_krsb.py``):

1. Q = (1 - q_k) I + Σ_{j=0}^k (q_j - q_{j-1}) B_{p_j} (q_{-1} = 0, B_p the block-diagonal
   all-ones matrix of block size p), whose eigenvalues are D_j = D_{j+1} + p_{j+1}(q_{j+1} - q_j)
   (D_k = 1 - q_k) with multiplicity n/p_{j+1} - n/p_j, and D_0 + n q_0 once. Hence::

       (1/n) ln det Q → Ψ = q_0/D_0 + Σ_{j=1}^k (1/m_j) ln(D_{j-1}/D_j) + ln D_k,
       D_k = 1 - q_k,   D_{j-1} = D_j + m_j (q_j - q_{j-1}),

   the Crisanti–Sommers entropy of the k-RSB matrix (Crisanti & Sommers, Z. Phys. B 87,
   341 (1992)).
2. The Gaussian z with covariance C(Q) is, in law::

       z_a = √c_0 η_0 + Σ_{j=1}^k √(c_j - c_{j-1}) η_j^{(b_j(a))} + √(c_d - c_k) ε_a,

   c_j = σ_b² + σ_w² q_j, c_d = σ_b² + σ_w², with one independent N(0, 1) variable η_j per
   p_j-block (b_j(a) the p_j-block of replica a) and one ε_a per replica.
3. Integrating from the inside out (Parisi, J. Phys. A 13, L115 (1980)), at fixed ζ::

       Z_k = E_ε e^{λ ζ φ(z)},   Z_{j-1} = (E_{η_j} Z_j^{m_j})^{1/m_j}  (j = k, …, 1),

   so that E_z Π_a e^{λζφ(z_a)} = E_{η_0} Z_0^n and ln E_ζ E_{η_0} Z_0^n = n E_{ζ,η_0} ln Z_0
   + O(n²).

Result (dimensionless, = -βf at the optimum; per input dimension)::

    Φ_k(q, m) = ½ Ψ(q, m) + α E_{ζ, η_0} ln Z_0(ζ, √c_0 η_0),

and -βf = inf over the ordered (q, m) (the n → 0 extremum is a minimum of Φ over
0 < m ≤ 1, as for the spherical functional). k = 1 is
:func:`replicasolve.solvers.finite_width.rsb.one_rsb_functional`; k = 0 (no m) the RS
functional of :mod:`replicasolve.solvers.finite_width.rs` at its G-saddle; q_j = q_{j+1},
m_j = m_{j+1} or m_k = 1 reduce k by one exactly (a zero-variance level is the identity; two
levels with one m are one Gaussian level; m_k = 1 merges η_k into ε); as α → ∞ Φ_k tends to
the Crisanti–Sommers k-RSB functional with ξ = σ_b² + σ_w² E[φφ] (cumulant expansion of each
(1/m) ln E e^{m X}), with an O(1/α) correction.

Two quadratures of the same formula:

- ``"hermite"``: nested Gauss–Hermite rules (``order`` nodes) in ζ, η_0, …, η_k and ε, as in
  the 1RSB module (reproduces it at k = 1); cost order^(k+3) exponentials, memory
  order^(k+1) (one η_0 node at a time). The reference for any φ; slow beyond k = 2.
- ``"grid"``: every Z_j depends on the η's only through the scalar field
  h_j = √c_0 η_0 + Σ_{i ≤ j} √(c_i - c_{i-1}) η_i, so each level is a Gaussian convolution of
  a function of one variable. ln Z_j is tabulated on a uniform grid in h (periodic for
  periodic φ, the period found by sympy; a truncated line otherwise) and each level::

      ln Z_{j-1} = (1/m_j) ln(K_{Δ_j} * e^{m_j ln Z_j}),  Δ_j = c_j - c_{j-1},

  is a product with the sampled (periodised) Gaussian kernel K. All its entries are positive,
  so the product has full relative precision at every point whatever the dynamic range of
  e^{mL} (an FFT would lose the small values to cancellation). Trapezoidal sums of smooth
  periodic integrands converge spectrally; kernels narrower than 2 grid steps use 40-point
  Gauss–Hermite offsets with centred 9-point Lagrange interpolation of ln Z instead. ζ uses
  the composite Gauss–Legendre rule ``zeta_rule`` (ζ ≥ 0 only for odd φ, where the
  integrand is even in ζ); it, the grid and the input checks live in
  :mod:`replicasolve.solvers.finite_width.numerics`, shared with the RS solver, whose grid
  engine is the k = 0 case of this one. A few milliseconds per
  evaluation for sin (128 nodes per period); the values move by ~1e-11 when the step is
  halved and ζ refined, and nested Gauss–Hermite converges to them (slowly at strong tilt:
  1.5e-6 off with 160 nodes at α = 2, T = 0.3, from its ε and η rules).

Optimisation (:func:`finite_width_krsb`): the chain RS → 1RSB → … → k-RSB, each level started
from the previous optimum with one breakpoint inserted (every interval of x(q) is tried), by a
projected trust-region Newton method in the ordered increments of (q, m), with gradients by
complex steps through the quadrature (exact to rounding for analytic φ; every routine here
accepts complex q, m). The optima of added levels sit in very flat valleys (Hessian
eigenvalues 1e-6 against 1), which defeat quasi-Newton line searches at the size of the
gains themselves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...blas import blas_threads, tap_blas
from ...errors import ConvergenceError, InvalidInputError
from ...quadrature import gauss_hermite
from ...results import Result
from ...trust_region import trust_region_step
from .numerics import (
    KERNEL_CUT,
    RANGE_MAX,
    Grid,
    activation_shape,
    check_growth,
    check_positive,
    check_rule,
    entropy_term,
    gauss_lattice,
    is_wide,
    kernel_matrix,
    make_grid,
    narrow_rule,
    shift_operator,
    zeta_nodes,
)

__all__ = ["FiniteWidthKRSB", "finite_width_krsb", "krsb_functional", "parisi_entropy"]

# Box of the optimiser: q_k ≤ _Q_HI, m_1 ≥ _M_LO ((1/m) ln E e^{m X} loses ~eps/m absolutely).
_Q_HI = 1.0 - 1e-6
_M_LO = 1e-3
# Newton steps given to every start before only the best one goes on.
_PROBE = 12


# --------------------------------------------------------------------------------------
# the entropic term
# --------------------------------------------------------------------------------------


def _check_qm(q: Any, m: Any) -> tuple[np.ndarray, np.ndarray]:
    qa = np.atleast_1d(np.asarray(q, dtype=float))
    ma = np.atleast_1d(np.asarray(m, dtype=float)) if np.size(m) else np.zeros(0)
    if qa.ndim != 1 or ma.ndim != 1 or qa.size != ma.size + 1:
        raise InvalidInputError(
            f"need k + 1 overlaps q_0..q_k and k sizes m_1..m_k, got {qa.size} and {ma.size}")
    if not (np.all(np.isfinite(qa)) and np.all(np.isfinite(ma))):
        raise InvalidInputError("q and m must be finite")
    if qa[0] < 0 or qa[-1] >= 1 or np.any(np.diff(qa) < 0):
        raise InvalidInputError(f"need 0 <= q_0 <= ... <= q_k < 1, got {qa.tolist()}")
    if ma.size and (ma[0] <= 0 or ma[-1] > 1 or np.any(np.diff(ma) < 0)):
        raise InvalidInputError(f"need 0 < m_1 <= ... <= m_k <= 1, got {ma.tolist()}")
    return qa, ma


def parisi_entropy(q: Sequence[float] | np.ndarray, m: Sequence[float] | np.ndarray) -> float:
    """½ lim (1/n) ln det Q of the k-RSB Parisi matrix with unit diagonal.

    ½ Ψ with Ψ = q_0/D_0 + Σ_j (1/m_j) ln(D_{j-1}/D_j) + ln(1 - q_k) (module docstring, step
    1; Crisanti & Sommers, Z. Phys. B 87, 341 (1992)): the entropy, relative to the uniform
    probability measure, of replicas on the sphere |x|² = N at these overlaps.

    Args:
        q: shape (k + 1,): 0 ≤ q_0 ≤ … ≤ q_k < 1.
        m: shape (k,): 0 < m_1 ≤ … ≤ m_k ≤ 1 (empty for RS).

    Returns:
        ½ Ψ (dimensionless, ≤ 0).
    """
    qa, ma = _check_qm(q, m)
    return float(entropy_term(qa, ma))


# --------------------------------------------------------------------------------------
# quadrature rules
#
# Every routine below also accepts complex q, m (hence complex variances and offsets): a
# complex step Im Φ(x + i h e_j)/h is the derivative ∂_j Φ to rounding, which the optimiser
# needs (the k-step optima sit in directions so flat that finite differences stall them).
# Branch decisions (wide or narrow kernel, the shift of the exponentials) use real parts only,
# so the real part of a complex evaluation is the real evaluation.
# --------------------------------------------------------------------------------------


def _log_mean_exp(y: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """ln Σ_i w_i e^{y_i} along ``axis`` (w ≥ 0), shifted by the max (never overflows)."""
    ymax = np.max(y.real, axis=axis, keepdims=True)
    s = np.tensordot(np.exp(y - ymax), w, axes=([axis], [0]))
    return np.squeeze(ymax, axis=axis) + np.log(s)


# --------------------------------------------------------------------------------------
# nested Gauss–Hermite
# --------------------------------------------------------------------------------------


def _layer_hermite(phi: Callable[[np.ndarray], np.ndarray], lam: float, sd: list[Any],
                   m: list[Any], order: int) -> Any:
    """E_{ζ,η_0} ln Z_0 by nested ``order``-point Gauss–Hermite rules.

    ``sd`` = (√c_0, √Δ_1, …, √Δ_k, √(c_d - c_k)) are the standard deviations of the η_0, η_j
    and ε parts of the field, ``m`` the sizes of the η_j levels (same length as the middle
    of ``sd``); zero-variance levels are dropped by the caller (they are the identity).
    """
    x, w = gauss_hermite(order)
    k = len(m)
    # field over (η_1, …, η_k, ε) for one η_0 node: memory order^(k+1)
    rest: Any = np.zeros((order,) * (k + 1))
    for ax, s in enumerate(sd[1:]):
        shape = [1] * (k + 1)
        shape[ax] = order
        rest = rest + s * x.reshape(shape)
    block = max(1, int(4e6 // rest.size))  # ζ nodes per block: ~4e6 values at a time
    total: Any = 0.0
    for i0 in range(order):
        p = np.asarray(phi(sd[0] * x[i0] + rest))
        for z0 in range(0, order, block):
            zb = x[z0:z0 + block].reshape((-1,) + (1,) * (k + 1))
            a = lam * zb * p  # (ζ, η_1, …, η_k, ε)
            a = _log_mean_exp(a, w, axis=a.ndim - 1)  # ln Z_k
            for j in range(k - 1, -1, -1):  # ln Z_j from ln Z_{j+1}
                a = _log_mean_exp(m[j] * a, w, axis=a.ndim - 1) / m[j]
            total = total + w[i0] * (w[z0:z0 + block] @ a)
    return total


# --------------------------------------------------------------------------------------
# grid in the field h
# --------------------------------------------------------------------------------------


def _derivatives(g: Grid, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L' and L'' along the grid (rows of L): spectral on a periodic grid, 8th-order central
    differences on a line (edge values are never used)."""
    if g.period is not None:
        n = g.size
        k = 2 * np.pi * np.fft.fftfreq(n, d=g.dh)
        F = np.fft.fft(L, axis=-1)
        k1 = k.copy()
        if n % 2 == 0:
            k1[n // 2] = 0.0  # the Nyquist mode has no odd derivative on the grid
        return np.fft.ifft(1j * k1 * F, axis=-1), np.fft.ifft(-k * k * F, axis=-1)
    c1 = np.array([4 / 5, -1 / 5, 4 / 105, -1 / 280])
    c2 = np.array([-205 / 72, 8 / 5, -1 / 5, 8 / 315, -1 / 560])
    P = np.pad(L, ((0, 0), (4, 4)), mode="edge")
    n = L.shape[-1]
    d1 = sum(c1[j - 1] * (P[:, 4 + j: 4 + j + n] - P[:, 4 - j: 4 - j + n]) for j in range(1, 5))
    d2 = c2[0] * L + sum(c2[j] * (P[:, 4 + j: 4 + j + n] + P[:, 4 - j: 4 - j + n])
                         for j in range(1, 5))
    return d1 / g.dh, d2 / g.dh**2


def _guard(y: np.ndarray) -> None:
    yr = y.real
    span = float(np.max(np.max(yr, axis=-1) - np.min(yr, axis=-1)))
    if not math.isfinite(span) or span > RANGE_MAX:
        raise ConvergenceError(
            f"the tilt m·ln Z spans {span:.3g} over the grid (limit {RANGE_MAX:g}): use "
            "method='hermite' for this unbounded activation at this (alpha, T)")


def _convolve(g: Grid, L: np.ndarray, var: Any, m: Any,
              exact: Callable[[np.ndarray], np.ndarray | None] | None = None) -> np.ndarray:
    """(1/m) ln E_y e^{m L(h + y)}, y ~ N(0, var), at every node; L has shape (n_ζ, G).

    ``exact(offsets)`` (values of L at h + offsets, shape (n_ζ, n_off, G), or None) replaces
    the interpolation where L is known in closed form (the innermost level). A purely
    imaginary variance (complex step at a collapsed level) takes the first order of the heat
    expansion, which is all a complex step sees."""
    if var.real == 0:  # an imaginary variance: a complex step at a collapsed level
        d1, d2 = _derivatives(g, L)  # (1/m) ln E e^{m L(h+y)} = L + var (L'' + m L'²)/2 + …
        return L + 0.5 * var * (d2 + m * d1 * d1)
    if is_wide(g, var):
        y = m * L
        _guard(y)
        ymax = y.real.max(axis=1, keepdims=True)
        s = np.exp(y - ymax) @ kernel_matrix(g, var)  # positive sums: full relative precision
        return (ymax + np.log(s)) / m
    offs, w = narrow_rule(var)
    vals = exact(offs) if exact is not None else None
    if vals is None:
        S = shift_operator(g, offs)
        vals = (S @ L.T).reshape(offs.size, g.size, -1).transpose(2, 0, 1)
    y = m * vals
    _guard(y.reshape(y.shape[0], -1))
    return _log_mean_exp(y, w, axis=1) / m


def _average_at_zero(g: Grid, L: np.ndarray, var: Any) -> np.ndarray:
    """E_y L(y), y ~ N(0, var), for each row of L (the η_0 average of ln Z_0)."""
    if var == 0:
        return L[:, g.zero]
    if var.real == 0:  # complex step at q_0 = 0 (σ_b = 0): E L(y) = L(0) + var L''(0)/2 + …
        return L[:, g.zero] + 0.5 * var * _derivatives(g, L)[1][:, g.zero]
    if is_wide(g, var):
        kv = gauss_lattice(g, var)
        if g.period is None:
            n = g.size
            kv = kv[n - 1 - g.zero: 2 * n - 1 - g.zero]  # the weight of node i is K(h_i)
        return L @ kv
    offs, w = narrow_rule(var)
    S = shift_operator(g, offs, rows=np.array([g.zero]))
    return (S @ L.T).T @ w


def _layer_grid(phi: Callable[[np.ndarray], np.ndarray], lam: float, c0: Any,
                deltas: list[Any], s2: Any, m: list[Any], *, period: float | None, odd: bool,
                step: float, zeta_points: int) -> Any:
    """E_{ζ,η_0} ln Z_0 on a grid in the field h (module docstring, ``"grid"``)."""
    xz, wz = zeta_nodes(zeta_points, odd)
    reach = math.sqrt(max(np.real(c0), 0.0)) + math.sqrt(np.real(s2)) \
        + sum(math.sqrt(max(np.real(d), 0.0)) for d in deltas)
    g = make_grid(period, step, KERNEL_CUT * reach + 12.0 * step)
    L = lam * xz[:, None] * np.asarray(phi(g.h))[None, :]  # ln of the innermost integrand

    def exact(offs: np.ndarray) -> np.ndarray | None:
        with np.errstate(all="ignore"):
            vals = np.asarray(phi(g.h[None, :] + offs[:, None]))
        if np.iscomplexobj(offs) and not np.iscomplexobj(vals):
            return None  # φ is real-only: interpolate instead
        return lam * xz[:, None, None] * vals[None, :, :]

    L = _convolve(g, L, s2, 1.0, exact)  # ln Z_k = ln E_ε e^{λζφ}
    for j in range(len(m) - 1, -1, -1):
        L = _convolve(g, L, deltas[j], m[j])
    F = _average_at_zero(g, L, c0)
    if not np.all(np.isfinite(F)):
        raise ConvergenceError("the grid quadrature produced a non-finite value")
    return wz @ F


# --------------------------------------------------------------------------------------
# the functional
# --------------------------------------------------------------------------------------


def _value(phi: Callable[[np.ndarray], np.ndarray], sw2: float, sb2: float, alpha: float,
           T: float, q: np.ndarray, m: np.ndarray, rule: dict[str, Any]) -> Any:
    """Φ_k for checked parameters and rule; q, m real or complex (complex step)."""
    c = sb2 + sw2 * q
    cd = sb2 + sw2
    lam = math.sqrt(sw2) / (T * math.sqrt(alpha))
    # zero-variance levels are exactly the identity: drop them (and their m)
    keep = [j for j in range(1, q.size) if c[j] - c[j - 1] != 0]
    dk = [c[j] - c[j - 1] for j in keep]
    mk = [m[j - 1] for j in keep]
    s2 = cd - c[-1]
    if rule["method"] == "hermite":
        sd = [np.sqrt(c[0])] + [np.sqrt(d) for d in dk] + [np.sqrt(s2)]
        layer = _layer_hermite(phi, lam, sd, mk, rule["order"])
    else:
        layer = _layer_grid(phi, lam, c[0], dk, s2, mk, period=rule["period"],
                            odd=rule["odd"], step=rule["grid_step"],
                            zeta_points=rule["zeta_points"])
    return entropy_term(q, m) + alpha * layer


@tap_blas
def krsb_functional(phi_fn: Callable[[np.ndarray], np.ndarray], sigma_w2: float,
                    sigma_b2: float, alpha: float, T: float, q: Sequence[float] | np.ndarray,
                    m: Sequence[float] | np.ndarray, *, method: str = "hermite",
                    order: int = 40, grid_step: float = 2 * math.pi / 128,
                    zeta_points: int = 6, period: float | None = None,
                    odd: bool = False) -> float:
    """Φ_k(q, m) of the module docstring (dimensionless; -βf at the optimum).

    Φ_k = ½ Ψ(q, m) + α E_{ζ,η_0} ln Z_0 with the Parisi recursion
    Z_k = E_ε e^{λζφ(z)}, Z_{j-1} = (E_{η_j} Z_j^{m_j})^{1/m_j}, λ = σ_w/(T sqrt(α)).

    Args:
        phi_fn: vectorised activation φ (numpy in, numpy out, any shape).
        sigma_w2: weight variance σ_w² > 0.
        sigma_b2: bias variance σ_b² ≥ 0.
        alpha: width ratio α = N_1/N > 0.
        T: temperature > 0 (energy units of H/N).
        q: shape (k + 1,): 0 ≤ q_0 ≤ … ≤ q_k < 1 (k = 0: the RS functional).
        m: shape (k,): 0 < m_1 ≤ … ≤ m_k ≤ 1 (x(q) = m_j on [q_{j-1}, q_j)).
        method: ``"hermite"`` (nested Gauss–Hermite, ``order`` nodes per variable; k = 1
            reproduces :func:`~replicasolve.solvers.finite_width.rsb.one_rsb_functional`) or
            ``"grid"`` (Gaussian convolutions on a grid in the field, step ``grid_step``;
            ζ by the composite rule with ``zeta_points`` per panel).
        order: Gauss–Hermite nodes (``"hermite"``), 4..200.
        grid_step: grid spacing in the field (``"grid"``); rounded to divide ``period``
            (default: 128 nodes per 2π).
        zeta_points: Gauss–Legendre points per ζ panel (``"grid"``), 2..24.
        period: the period of φ if it is periodic (``"grid"``: a periodic grid on one
            period), else None (a line reaching 11 standard deviations per level).
        odd: φ is odd (``"grid"``: the ζ integrand is then even; half the ζ nodes).

    Returns:
        Φ_k as a float.

    Raises:
        InvalidInputError: bad parameters or an unordered (q, m).
        ConvergenceError: the grid engine met an unbounded tilt (use ``"hermite"``) or a
            non-finite value.
    """
    sw2 = check_positive(sigma_w2, "sigma_w2")
    sb2 = check_positive(sigma_b2, "sigma_b2", allow_zero=True)
    a = check_positive(alpha, "alpha")
    temp = check_positive(T, "temperature T")
    qa, ma = _check_qm(q, m)
    rule = check_rule({"method": method, "order": order, "grid_step": grid_step,
                        "zeta_points": zeta_points, "period": period, "odd": odd})

    def real_phi(x: np.ndarray) -> np.ndarray:
        return np.asarray(phi_fn(x), dtype=float)

    return float(_value(real_phi, sw2, sb2, a, temp, qa, ma, rule))


# --------------------------------------------------------------------------------------
# the optimum
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FiniteWidthKRSB(Result):
    """Optimum of the depth-1 finite-width k-RSB functional (and of the chain below it).

    Attributes:
        k: RSB steps.
        phi: Φ_k = -βf at the optimum (dimensionless, per input dimension).
        free_energy: f = -T Φ_k.
        q: shape (k + 1,): q_0 ≤ … ≤ q_k.
        m: shape (k,): m_1 ≤ … ≤ m_k (x(q) = m_j on [q_{j-1}, q_j)).
        phi_rs: the RS optimum of the same functional and quadrature.
        phi_prev: the (k-1)-RSB optimum (= ``phi_rs`` for k = 1).
        gain: Φ_RS - Φ_k ≥ 0 (the library's name; also readable as ``gain_rs``, its
            former name, a read-only alias).
        gain_prev: Φ_{k-1} - Φ_k ≥ 0: what the k-th step adds.
        chain: Φ_0 (RS), Φ_1, …, Φ_k, shape (k + 1,).
        gains: chain[:-1] - chain[1:], shape (k,): the gain of each added step.
        resolution: |Φ_k(fine) - Φ_k| at the optimum, the finer rule being a halved grid step
            and 4 more ζ points per panel (``"grid"``) or 1.5× the order (``"hermite"``).
        gain_resolution: shape (k,): the same change of each entry of ``gains`` (at fixed
            order parameters): a gain below it is not resolved.
        T: temperature (energy units of H/N).
        converged: every optimiser run in the chain that produced a reported optimum ended
            with success (the bounded 1-D RS minimisation, and the projected gradient below
            ``gtol`` at every added level); False means at least one
            level stopped on the iteration limit or on the rounding of Φ first.
        residual: the largest projected gradient (increment coordinates, see
            :func:`_to_inc`) at the reported optima.
        evaluations: functional evaluations used.
        settings: quadrature and optimiser settings.
        message: how the last optimisation ended.
        levels: the (q, m) of every optimum of the chain, k = 0 (RS, m empty) to k.
    """

    k: int
    phi: float
    free_energy: float
    q: np.ndarray
    m: np.ndarray
    phi_rs: float
    phi_prev: float
    gain: float
    gain_prev: float
    chain: np.ndarray
    gains: np.ndarray
    resolution: float
    gain_resolution: np.ndarray
    T: float
    converged: bool
    residual: float
    evaluations: int
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    levels: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    @property
    def gain_rs(self) -> float:
        """Read-only alias of :attr:`gain` (Φ_RS - Φ_k; the former field name)."""
        return self.gain

    def table(self) -> str:
        """:meth:`Result.table <replicasolve.results.Result.table>` with the ragged
        ``levels`` (one (q, m) pair per level of the chain) as one row per level."""
        rows = Result.table(dataclasses.replace(self, levels=())).split("\n")
        rows = [r for r in rows if r.split(" ", 1)[0] != "levels"]
        width = max(len(r.split("  ", 1)[0]) for r in rows)

        def text(v: Any) -> str:
            return np.array2string(np.asarray(v, dtype=float), precision=6)

        extra = [f"{f'level {j}':<{width}}  q = {text(q)}, m = {text(m)}"
                 for j, (q, m) in enumerate(self.levels)]
        return "\n".join(rows[:-1] + extra + rows[-1:])


def _to_inc(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Natural (q, m) → increments y = (d_0..d_k, e_1..e_k) ≥ 0 with q_j = d_0 + … + d_j and
    m_j = 1 - (e_j + … + e_k). The map is linear, so it keeps the valleys of Φ straight
    (products of ratios bend them: measured 100× slower convergence at k = 2)."""
    d = np.diff(np.concatenate([[0.0], q]))
    e = np.diff(np.concatenate([m, [1.0]]))
    return np.maximum(np.concatenate([d, e]), 0.0)


def _from_inc(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Increments → natural (q, m) (inverse of :func:`_to_inc`; complex y passes through)."""
    q = np.cumsum(y[: k + 1])
    m = 1.0 - np.cumsum(y[k + 1:][::-1])[::-1]
    return q, m


def _feasible(y: np.ndarray, k: int) -> bool:
    q, m = _from_inc(y, k)
    return bool(np.all(y >= 0.0) and q[-1] <= _Q_HI and (k == 0 or m[0] >= _M_LO))


# complex step: Im f(x + i h)/h = f'(x) + O(h²), no cancellation, so h can be tiny
_CSTEP = 1e-20


def _gradient(value: Callable[[np.ndarray], Any], y: np.ndarray, analytic: bool,
              fd_step: float) -> np.ndarray:
    """∇ of ``value`` by complex steps if the quadrature is analytic in the parameters (it is
    for analytic φ), else by 4th-order finite differences (one-sided at y_i = 0, where the
    functional is not defined below)."""
    n = y.size
    g = np.empty(n)
    if analytic:
        for i in range(n):
            yc = y.astype(complex)
            yc[i] += 1j * _CSTEP
            g[i] = float(np.imag(value(yc))) / _CSTEP
        return g
    h = fd_step
    f0 = float(value(y))
    for i in range(n):
        def f(t: float, i: int = i) -> float:
            yy = y.copy()
            yy[i] += t
            return float(value(yy))

        if y[i] < 2 * h:
            g[i] = (-25 * f0 + 48 * f(h) - 36 * f(2 * h) + 16 * f(3 * h) - 3 * f(4 * h)) \
                / (12 * h)
        else:
            g[i] = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)
    return g


@dataclass
class _Run:
    y: np.ndarray
    f: float
    success: bool
    pg: float
    iterations: int
    message: str


def _minimise(value: Callable[[np.ndarray], Any], y0: np.ndarray, k: int, analytic: bool,
              fd_step: float, gtol: float, maxiter: int, refresh: int = 4) -> _Run:
    """Projected trust-region Newton on y ≥ 0 (plus q_k ≤ _Q_HI, m_1 ≥ _M_LO, which are
    never active at an optimum and are enforced by rejecting trial points).

    The Hessian on the free variables is a central difference of the exact (complex-step)
    gradient, step 1e-6, refreshed every ``refresh`` iterations, after a poor model
    prediction or a change of the free set, and updated by BFGS in between; the step solves
    the trust-region subproblem exactly (Moré–Sorensen,
    :func:`replicasolve.trust_region.trust_region_step`). Line-search quasi-Newton methods fail
    here: a new RSB level opens along valleys so flat (Hessian eigenvalues ~1e-6 against ~1)
    that the decrease per step falls below the rounding of Φ long before the optimum
    (L-BFGS-B stopped 2e-9 short of the 2RSB optimum of sin at α = 4, T = 0.5, the size of
    the gain itself). Variables at 0 with an outward gradient are held (projected Newton,
    Bertsekas, SIAM J. Control Optim. 20, 221 (1982))."""
    y = np.maximum(np.asarray(y0, dtype=float), 0.0)
    f = float(value(y))
    radius, hstep = 0.05, 1e-6
    message, it = "iteration limit", 0
    g = _gradient(value, y, analytic, fd_step)
    H: np.ndarray | None = None
    free_prev = np.zeros(0, dtype=int)
    age = 0
    noise = 64 * np.finfo(float).eps * max(1.0, abs(f))

    def pgrad(yy: np.ndarray, gg: np.ndarray) -> float:
        return float(np.max(np.abs(np.where((yy <= 0.0) & (gg > 0.0), 0.0, gg)), initial=0.0))

    def hessian(free: np.ndarray) -> np.ndarray:
        out = np.empty((free.size, free.size))
        for a_, i in enumerate(free):
            e = np.zeros_like(y)
            e[i] = hstep
            if y[i] >= hstep:
                out[:, a_] = (_gradient(value, y + e, analytic, fd_step)[free]
                              - _gradient(value, y - e, analytic, fd_step)[free]) / (2 * hstep)
            else:
                out[:, a_] = (_gradient(value, y + e, analytic, fd_step)[free] - g[free]) / hstep
        return 0.5 * (out + out.T)

    for it in range(1, maxiter + 1):  # noqa: B007 (the count is reported)
        held = (y <= 0.0) & (g > 0.0)
        if pgrad(y, g) <= gtol:
            message = "projected gradient below tolerance"
            break
        free = np.flatnonzero(~held)
        if H is None or age >= refresh or not np.array_equal(free, free_prev):
            H, age = hessian(free), 0
        free_prev = free
        lam, vec = np.linalg.eigh(H)
        while True:
            s = np.zeros_like(y)
            s[free] = trust_region_step(lam, vec, g[free], radius)
            yn = np.maximum(y + s, 0.0)
            s = yn - y
            pred = -(g[free] @ s[free] + 0.5 * s[free] @ H @ s[free])
            fn = float(value(yn)) if _feasible(yn, k) else math.inf
            rho = (f - fn) / pred if pred > 0 else -1.0
            gn = None
            if pred < noise and fn <= f + noise:
                # below the rounding of Φ the values cannot rank the points: accept the step
                # if the model says it is tiny and it shrinks the projected gradient
                gn = _gradient(value, yn, analytic, fd_step)
                if pgrad(yn, gn) < pgrad(y, g):
                    break
                gn = None
            if rho < 0.25 and age > 0:  # a quasi-Newton model failed: rebuild it first
                H, age = hessian(free), 0
                lam, vec = np.linalg.eigh(H)
                continue
            if rho < 0.25:
                radius *= 0.25
            elif rho > 0.75 and np.linalg.norm(s) > 0.8 * radius:
                radius = min(2.0 * radius, 1.0)
            if fn < f or radius < 1e-13:
                break
        if gn is None and not fn < f:  # no decrease at any radius
            message = "no decrease within the rounding of the functional"
            break
        if gn is None:
            gn = _gradient(value, yn, analytic, fd_step)
        sv, rv = s[free], gn[free] - g[free]
        hs = H @ sv
        shs = float(sv @ hs)
        sr = float(sv @ rv)
        if shs > 0:  # Powell-damped BFGS keeps H positive on the step
            th = 1.0 if sr >= 0.2 * shs else 0.8 * shs / (shs - sr)
            rv = th * rv + (1 - th) * hs
            H = H - np.outer(hs, hs) / shs + np.outer(rv, rv) / float(sv @ rv)
        y, f, g = yn, fn, gn
        age += 1
    pgn = pgrad(y, g)
    return _Run(y, min(f, float(value(y))), pgn <= gtol, pgn, it, message)


def _insertions(q: np.ndarray, m: np.ndarray) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """(k+1)-step starts from a k-step (q, m), in groups: one group per interval of x(q)
    ([0, q_0) at level 0, [q_{j-1}, q_j) at m_j, [q_k, 1) at 1) and side, each holding a new
    breakpoint at several places in that interval with a new level halfway to the
    neighbouring one on that side.

    The k-step optimum is a collapsed (k+1)-step point and often a local minimum or a KKT
    point of the (k+1)-step problem (measured for sin at α = 8, T = 0.3: every insertion
    with a small new step raises Φ, yet a 2RSB optimum 2.6e-7 lower exists): starts close to
    it fall back into it, so the new level starts halfway to its neighbour, and every
    interval gets a start (the best of its group), not only the best-ranked ones."""
    k = m.size
    ext_q = np.concatenate([[0.0], q, [1.0]])
    ext_m = np.concatenate([[0.0], m, [1.0]])  # x on [ext_q[j], ext_q[j+1])
    groups = []
    for j in range(k + 2):
        lo, hi = ext_q[j], ext_q[j + 1]
        if hi - lo <= 1e-9:
            continue
        fracs = (0.02, 0.1, 0.3) if j == k + 1 else (0.25, 0.5, 0.75, 0.95)
        if j == 0:  # x = 0 below the new q_0; the new level on [qn, q_0) lies below m_1
            targets = [(0.0, ext_m[1])]
        elif j == k + 1:  # x = 1 above the new q_k; the new level on [q_k, qn) above m_k
            targets = [(1.0, ext_m[k])]
        else:  # m_j on one side, a new level towards m_{j+1} or towards m_{j-1} on the other
            targets = [(ext_m[j], ext_m[j + 1]), (ext_m[j], ext_m[j - 1])]
        for base, other in targets:
            mu = float(np.clip(0.5 * (base + other), _M_LO, 1.0))
            group = []
            for frac in fracs:
                qs = np.sort(np.concatenate([q, [lo + frac * (hi - lo)]]))
                group.append((np.clip(qs, 0.0, _Q_HI), np.sort(np.concatenate([m, [mu]]))))
            groups.append(group)
    return groups


@tap_blas
def finite_width_krsb(activation: Any, sigma_w2: float, sigma_b2: float, alpha: float,
                      T: float, k: int, *, method: str = "auto", order: int = 32,
                      grid_step: float = 2 * math.pi / 128, zeta_points: int = 6,
                      start: FiniteWidthKRSB | tuple[Any, Any] | None = None,
                      n_starts: int = 8, gtol: float = 1e-10, maxiter: int = 200,
                      fd_step: float = 1e-4,
                      check_resolution: bool = True) -> FiniteWidthKRSB:
    """Minimise the depth-1 finite-width k-RSB functional (module docstring) over ordered
    (q, m), and the chain RS → 1RSB → … → (k-1)-RSB below it.

    Each level's optimum is split into next-level starts (a new breakpoint in each interval
    of x(q), on either side a new level halfway to its neighbour; :func:`_insertions`), the
    best start of each interval and side is probed by a few steps of a projected
    trust-region Newton method (:func:`_minimise`; at most ``n_starts`` probes), and the best
    probe goes on to convergence, in the ordered increments y = (q_0, q_1 - q_0, …,
    q_k - q_{k-1}, m_2 - m_1, …, 1 - m_k) ≥ 0. Gradients are complex steps through the
    quadrature (exact to rounding) when φ is analytic, else 4th-order finite differences;
    the Hessian is a difference of gradients. The (k-1)-step optimum is itself a k-step
    point (a collapsed level), so Φ_k ≤ Φ_{k-1}; a k-step optimum that collapses onto it
    means the k-th step buys nothing (a better one missed by every start cannot be excluded:
    the reported gains are lower bounds). Finally every optimum of the chain is re-evaluated
    on a finer rule, and the change of each gain is reported as its resolution.

    Args:
        activation: name, formula in x, or :class:`~replicasolve.kernels.activation.Activation`.
        sigma_w2: weight variance σ_w² > 0.
        sigma_b2: bias variance σ_b² ≥ 0.
        alpha: width ratio α = N_1/N > 0 (finite).
        T: temperature > 0.
        k: RSB steps ≥ 1.
        method: ``"grid"``, ``"hermite"`` or ``"auto"`` (grid for periodic or bounded φ,
            nested Gauss–Hermite otherwise); see :func:`krsb_functional`.
        order: Gauss–Hermite nodes for ``"hermite"`` (finer rule: 1.5×).
        grid_step, zeta_points: the ``"grid"`` rule (finer rule: half the step, 4 more ζ
            points per panel).
        start: a :class:`FiniteWidthKRSB` with the same rule (its chain is reused up to
            k, and continued if shorter), or a k-step ``(q, m)`` tried as an extra start.
        n_starts: at most this many probes per level (one per interval and side of x(q):
            2k + 2 of them at level k + 1).
        gtol: projected-gradient tolerance (increment coordinates).
        maxiter: Newton iterations per run.
        fd_step: finite-difference step (increment coordinates) for non-analytic φ.
        check_resolution: re-evaluate the optima on the finer rule.

    Returns:
        :class:`FiniteWidthKRSB`.

    Raises:
        InvalidInputError: unknown activation, σ_w² ≤ 0, σ_b² < 0, α ≤ 0, T ≤ 0, k < 1, bad
            settings.
        ConvergenceError: the quadrature failed (see :func:`krsb_functional`).
    """
    from scipy.optimize import minimize_scalar

    from ...kernels.activation import Activation
    from ...kernels.activation import activation as make_activation

    act = activation if isinstance(activation, Activation) else make_activation(activation)
    check_growth(act)
    sw2 = check_positive(sigma_w2, "sigma_w2")
    sb2 = check_positive(sigma_b2, "sigma_b2", allow_zero=True)
    a = check_positive(alpha, "alpha")
    temp = check_positive(T, "temperature T")
    for name, v, lo in (("k", k, 1), ("n_starts", n_starts, 1), ("maxiter", maxiter, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InvalidInputError(f"{name} must be a whole number >= {lo}, got {v!r}")
    check_positive(gtol, "gtol")
    check_positive(fd_step, "fd_step")
    period, odd, bounded = activation_shape(act)
    if method == "auto":
        method = "grid" if (period is not None or bounded) else "hermite"
    rule = check_rule({"method": method, "order": order, "grid_step": grid_step,
                        "zeta_points": zeta_points, "period": period, "odd": odd})
    fine = ({**rule, "order": min(200, rule["order"] + rule["order"] // 2)}
            if rule["method"] == "hermite"
            else {**rule, "grid_step": 0.5 * rule["grid_step"],
                  "zeta_points": min(24, rule["zeta_points"] + 4)})

    def phi_real(x: np.ndarray) -> np.ndarray:
        return np.asarray(act.phi(x), dtype=float)

    phi_c = _complex_phi(act)
    evals = [0]

    def value(q: np.ndarray, m: np.ndarray, r: dict[str, Any] = rule) -> Any:
        evals[0] += 1
        cplx = np.iscomplexobj(q) or np.iscomplexobj(m)
        return _value(phi_c if cplx else phi_real, sw2, sb2, a, temp, q, m, r)

    levels: list[tuple[np.ndarray, np.ndarray, float]] = []
    runs_ok, worst_pg, message = True, 0.0, ""
    prior = start if isinstance(start, FiniteWidthKRSB) else None
    if prior is not None:
        same = {"activation": act.name, "sigma_w2": sw2, "sigma_b2": sb2, "alpha": a, "T": temp}
        if any(prior.settings.get(key) != v for key, v in same.items()):
            raise InvalidInputError("start was solved for another activation or parameters")
        if prior.settings.get("rule") != rule:
            prior = None  # another quadrature: start afresh
    extra = None
    if isinstance(start, tuple):
        qs, ms = _check_qm(*start)
        if ms.size != k:
            raise InvalidInputError(f"start (q, m) must have k = {k} steps, got {ms.size}")
        extra = (qs, ms)

    with blas_threads():
        if prior is not None:
            levels = [(np.asarray(qq), np.asarray(mm), float(ph))
                      for (qq, mm), ph in zip(prior.levels, prior.chain, strict=True)][: k + 1]
            runs_ok, worst_pg = prior.converged, prior.residual
        else:  # RS: a 1-D minimisation over q (the k = 0 functional)
            rs = minimize_scalar(lambda t: float(value(np.array([t]), np.zeros(0))),
                                 bounds=(0.0, _Q_HI), method="bounded",
                                 options={"xatol": 1e-10})
            levels.append((np.array([float(rs.x)]), np.zeros(0), float(rs.fun)))
            runs_ok = bool(rs.success)
        for kk in range(len(levels), k + 1):
            qp, mp, fp = levels[-1]

            def inc(y: np.ndarray, kk: int = kk) -> Any:
                return value(*_from_inc(y, kk))

            groups = _insertions(qp, mp)
            if extra is not None and kk == k:
                groups.append([extra])
            # the best start of each group, then the n_starts best of those
            firsts = []
            for group in groups:
                vals = [float(inc(_to_inc(cq, cm))) for cq, cm in group]
                i = int(np.argmin(vals))
                firsts.append((vals[i], group[i]))
            firsts.sort(key=lambda t: t[0])
            # a few Newton steps from each start, then the best one to convergence: starts
            # that open a level at the wrong place wander along flat, degenerate directions
            # (a collapsed level makes its m irrelevant) and must not use up the budget
            runs = [_minimise(inc, _to_inc(*start_qm), kk, phi_c is not None, fd_step, gtol,
                              min(_PROBE, maxiter)) for _, start_qm in firsts[:n_starts]]
            best = min(runs, key=lambda r: r.f)
            if not best.success and maxiter > _PROBE:
                more = _minimise(inc, best.y, kk, phi_c is not None, fd_step, gtol,
                                 maxiter - _PROBE)
                more.iterations += best.iterations
                best = more if more.f <= best.f else best
            message = best.message
            if best.f <= fp:
                qk, mk = _from_inc(best.y, kk)
                levels.append((qk, mk, best.f))
                runs_ok &= best.success
                worst_pg = max(worst_pg, best.pg)
            else:  # the (k-1)-step optimum as a collapsed k-step point
                levels.append((np.concatenate([qp, [qp[-1]]]), np.concatenate([mp, [1.0]]),
                               fp))
                message = f"no {kk}-step point below the {kk - 1}-step optimum ({message})"

        chain = np.array([lv[2] for lv in levels])
        gains = chain[:-1] - chain[1:]
        res, gres = math.nan, np.full(k, math.nan)
        if check_resolution:
            fine_chain = np.array([float(value(lv[0], lv[1], fine)) for lv in levels])
            res = abs(fine_chain[-1] - chain[-1])
            gres = np.abs((fine_chain[:-1] - fine_chain[1:]) - gains)
    qk, mk, fk = levels[-1]
    return FiniteWidthKRSB(
        k=int(k), phi=fk, free_energy=-temp * fk, q=qk, m=mk, phi_rs=float(chain[0]),
        phi_prev=float(chain[-2]), gain=float(chain[0] - fk),
        gain_prev=float(chain[-2] - fk), chain=chain, gains=gains, resolution=float(res),
        gain_resolution=gres, T=temp, converged=bool(runs_ok), residual=float(worst_pg),
        evaluations=evals[0],
        settings={"rule": rule, "fine_rule": fine, "n_starts": int(n_starts), "gtol": gtol,
                  "maxiter": int(maxiter), "fd_step": fd_step,
                  "complex_step": phi_c is not None, "activation": act.name,
                  "sigma_w2": sw2, "sigma_b2": sb2, "alpha": a, "T": temp},
        message=message, levels=tuple((lv[0], lv[1]) for lv in levels))


def _complex_phi(act: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """φ as a complex-analytic numpy callable (sympy → numpy/scipy), or None where φ is not
    analytic (kinks, jumps) or its code does not take complex input: complex-step gradients
    are valid only for an analytic φ."""
    import sympy as sp

    expr = act.expr
    if expr.has(sp.Abs, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise, sp.sign):
        return None
    syms = sorted(expr.free_symbols, key=str)
    x = syms[0] if syms else sp.Symbol("x")
    try:
        f = sp.lambdify(x, expr, modules=["numpy", "scipy"])
        t = np.array([0.3 + 1e-12j, -1.7 + 0j, 2.5 - 2e-12j])
        with np.errstate(all="ignore"):
            out = np.asarray(f(t))
            real = np.asarray(act.phi(t.real), dtype=float)
        if not np.iscomplexobj(out) or not np.allclose(out.real, real, rtol=1e-6, atol=1e-9) \
                or not np.all(np.isfinite(out)):
            return None
    except Exception:  # sympy's printers raise many types for unsupported functions
        return None

    def phi_c(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z)
        return np.broadcast_to(np.asarray(f(z), dtype=np.result_type(z, float)), z.shape)

    return phi_c
