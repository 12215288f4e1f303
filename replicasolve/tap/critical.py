"""β_c of one instance from the linearised TAP matrix, without a β grid.

Definitions (Barney, Winer & Galitski, arXiv 2408.06421, section 3.2):

``"plain"``
    the first β at which ``A(β)`` stops being positive definite, i.e. ``λ_min(A(β)) = 0``.
``"corrected"`` (finite-size corrected, the paper's choice)
    ``θ = min_β λ_min(A_ref(β))`` of a reference instance (the untrained network; by
    default the instance itself), and β_c the first β at which ``λ_min(A(β))`` reaches θ.
    For the reference itself this is the β that minimises ``λ_min`` — at finite N a random
    instance's ``λ_min`` touches zero only approximately (it does exactly for N → ∞).
``"threshold"``
    the first β at which ``λ_min(A(β))`` reaches a given ``θ``.

Algorithm: ``λ_min(A(β))`` and its eigenvector come from shift-invert Lanczos on the block
Cholesky factors (:func:`replicasolve.tap.matrix.lambda_min`); its β-derivative is exact by
Hellmann–Feynman, ``dλ/dβ = vᵀ(D - 1/β²)v``. The minimum is the root of that derivative
(Brent), the crossing is a safeguarded Newton iteration on ``λ_min(β) - θ`` from the
positive-definite side, and positive definiteness at the answer is certified by a Cholesky
factorisation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .. import validation
from ..blas import tap_blas
from ..errors import ConvergenceError, InvalidInputError
from ..models.msk import msk_critical
from ..results import Result
from .bonds import DenseBonds, LayeredBonds
from .matrix import (
    LambdaMin,
    TapFactor,
    factor_tap,
    lambda_min,
    lanczos_estimate,
    tap_diagonal,
    tap_preconditioner,
)

__all__ = ["TapCritical", "TapMinimum", "mode_profile", "tap_critical", "tap_minimum"]

Bonds = LayeredBonds | DenseBonds


@dataclass(frozen=True)
class TapMinimum(Result):
    """Where ``λ_min(A(β))`` is smallest.

    Attributes:
        beta: the minimiser ``β*``.
        value: ``λ* = λ_min(A(β*))``.
        derivative: ``dλ_min/dβ`` at ``β*`` (≈ 0 when converged).
        evaluations: number of ``λ_min`` evaluations.
        converged: whether ``β*`` met the requested relative tolerance.
    """

    beta: float
    value: float
    derivative: float
    evaluations: int
    converged: bool


@dataclass(frozen=True)
class TapCritical(Result):
    """The TAP critical point of one instance.

    Attributes:
        beta_c: critical inverse temperature (see ``crossed``).
        T_c: ``1 / beta_c``.
        definition: ``"plain"``, ``"corrected"`` or ``"threshold"``.
        threshold: θ, the value of ``λ_min`` that defines the transition.
        crossed: whether ``λ_min(A(β))`` reaches θ. When it does not (e.g. ``"plain"`` on
            a random finite instance whose ``λ_min`` stays just above 0), ``beta_c`` is the
            point of closest approach ``beta_min`` and this flag says so.
        beta_min: ``β*`` that minimises ``λ_min(A(β))``.
        lambda_at_min: ``λ_min(A(β*))``.
        rtol: relative tolerance on ``beta_c``.
        evaluations: ``λ_min`` evaluations used.
        converged: whether the iteration met ``rtol``.
        n: number of spins.
        sizes: layer sizes (empty for dense bonds).
        variance_factors: empirical ``C_l = N_{l-1} mean(W_l²)`` of the instance.
        mode: the soft mode at ``beta_c`` as layer overlaps, ``q_l ∝ mean_{i∈l} v_i²``
            (unit norm; comparable with :attr:`MSKCritical.mode`); empty for dense bonds.
    """

    beta_c: float
    T_c: float
    definition: str
    threshold: float
    crossed: bool
    beta_min: float
    lambda_at_min: float
    rtol: float
    evaluations: int
    converged: bool
    n: int
    sizes: tuple[int, ...] = ()
    variance_factors: tuple[float, ...] = field(default=())
    mode: tuple[float, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        from dataclasses import asdict

        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def mode_profile(bonds: LayeredBonds, vector: np.ndarray) -> tuple[float, ...]:
    """Layer overlaps ``q_l ∝ (1/N_l) Σ_{i∈l} v_i²`` of a spin vector, unit norm.

    A TAP state ``m`` has self-overlap ``q_l = mean_{i∈l} m_i²`` in layer ``l``; for the
    soft mode of ``A(β_c)`` this is the direction in which the replica theory's overlaps
    grow (compare :attr:`replicasolve.models.msk.MSKCritical.mode`).
    """
    v = np.asarray(vector, dtype=float)
    q = np.array([np.mean(bonds.layer(v, k) ** 2) for k in range(bonds.n_layers)])
    return tuple(float(x) for x in q / np.linalg.norm(q))


class _Evaluator:
    """Memoised ``λ_min(A(β))`` with warm starts from the nearest evaluated β.

    With the default method one float32 preconditioner (a block Cholesky factor of
    ``A(β₀) - σ₀``) serves every β of the search; it is rebuilt at the current β only when
    LOBPCG needs more than ``_REBUILD_AFTER`` iterations (β has wandered far from β₀).
    """

    _REBUILD_AFTER = 60

    def __init__(self, bonds: Bonds, method: str) -> None:
        self.bonds = bonds
        self.method = "lobpcg" if method == "auto" and bonds.n > 64 else method
        self.cache: dict[float, LambdaMin] = {}
        self.prec: TapFactor | None = None
        self.factorisations = 0

    def _predict(self, beta: float) -> tuple[float | None, np.ndarray | None]:
        if not self.cache:
            return None, None
        near = min(self.cache.values(), key=lambda r: abs(r.beta - beta))
        db = beta - near.beta
        # first-order prediction minus a margin for curvature: a shift must stay below λ_min
        return near.value + near.derivative * db - 4.0 * abs(db) - 1e-12, near.vector

    def __call__(self, beta: float) -> LambdaMin:
        if beta in self.cache:
            return self.cache[beta]
        guess, v0 = self._predict(beta)
        if self.method != "lobpcg":
            r = lambda_min(self.bonds, beta, method=self.method, guess=guess, v0=v0)  # type: ignore[arg-type]
        else:
            r = None
            if self.prec is not None:
                try:
                    r = lambda_min(self.bonds, beta, method="lobpcg", v0=v0,
                                   preconditioner=self.prec)
                except ConvergenceError:
                    r = None
                if r is not None and r.iterations > self._REBUILD_AFTER:
                    self.prec = None  # still a valid answer; refresh for the next β
            if r is None:
                if v0 is None or guess is None:
                    diag = tap_diagonal(self.bonds, beta)
                    theta, ritz = lanczos_estimate(self.bonds, diag)
                    guess = theta if guess is None else guess
                    v0 = ritz if v0 is None else v0
                self.prec = tap_preconditioner(self.bonds, beta, guess)
                self.factorisations += 1
                r = lambda_min(self.bonds, beta, method="lobpcg", v0=v0,
                               preconditioner=self.prec)
        self.cache[beta] = r
        return r


def _initial_beta(bonds: Bonds) -> float:
    if isinstance(bonds, LayeredBonds):
        # the replica theory with the instance's own weight scales: within finite-size
        # corrections of the answer for random networks
        return msk_critical(bonds.sizes, bonds.variance_factors()).beta_c
    # at the minimum vᵀDv = 1/β²; with v spread evenly this is the mean of d
    return float(1.0 / np.sqrt(np.mean(bonds.d)))


@tap_blas
def tap_minimum(
    bonds: Bonds,
    *,
    rtol: float = 1e-10,
    method: str = "auto",
    beta0: float | None = None,
    _ev: _Evaluator | None = None,
) -> TapMinimum:
    """The β that minimises ``λ_min(A(β))``, by Brent's method on ``dλ_min/dβ = 0``.

    Assumes ``λ_min(A(β))`` has one minimum (true for SK, ``1/β + β - 2``, and for every
    layered network we have checked against dense grids; ``A`` is ``I/β``-dominated at
    small β and ``βD``-dominated at large β).

    Args:
        bonds: the instance.
        rtol: relative tolerance on ``β*``.
        method: passed to :func:`~replicasolve.tap.matrix.lambda_min`.
        beta0: starting point (default ``1/sqrt(mean d)``).

    Couplings far from order 1 (scale outside [1e-8, 1e8]) are solved at J/s and mapped
    back (exact: A(β; sJ) = s A(sβ; J)), as in :func:`tap_critical`.
    """
    from scipy.optimize import brentq

    if _ev is None:
        # the coupling scale, as in tap_critical: λ(β; J) = s λ(sβ; J/s), so the minimiser
        # scales as 1/s, the minimum as s and dλ/dβ as s²
        s = bonds.coupling_scale()
        if s == 0:
            raise InvalidInputError("all couplings are zero: lambda_min(A) = 1/beta has no "
                                    "minimum")
        if not 1e-8 <= s <= 1e8:
            inv = 1.0 / s
            m = tap_minimum(bonds.scaled(inv), rtol=rtol, method=method,
                            beta0=None if beta0 is None else beta0 * s)
            with np.errstate(over="ignore", under="ignore"):
                return dataclasses.replace(m, beta=m.beta * inv, value=m.value * s,
                                           derivative=m.derivative * s * s)
    ev = _ev or _Evaluator(bonds, method)
    b0 = validation.positive_beta(beta0) if beta0 is not None else _initial_beta(bonds)
    r0 = ev(b0)
    # fixed-point step β = (vᵀDv)^{-1/2}: exact at the minimum, a good second point
    b1 = float(1.0 / np.sqrt(np.dot(r0.vector**2, bonds.d)))
    if abs(b1 - b0) < 1e-6 * b0:
        b1 = b0 * (1 + 1e-3)
    lo, hi = sorted((b0, b1))
    for _ in range(60):
        f_lo, f_hi = ev(lo).derivative, ev(hi).derivative
        if f_lo < 0 < f_hi:
            break
        # step past the secant root by 20% (at most ×1.5): usually one step brackets it
        root = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else np.nan
        if f_lo >= 0:
            new = root - 0.2 * (lo - root) if np.isfinite(root) and root < lo else lo / 1.5
            lo, hi = max(new, lo / 1.5), lo
        else:
            new = root + 0.2 * (root - hi) if np.isfinite(root) and root > hi else hi * 1.5
            lo, hi = hi, min(new, hi * 1.5)
    else:
        raise ConvergenceError("could not bracket the minimum of lambda_min(A(beta))")
    xtol = rtol * lo
    try:
        beta, info = brentq(
            lambda b: ev(b).derivative, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps,
            full_output=True,
        )
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - bracket is checked above
        raise ConvergenceError(f"minimising lambda_min(A(beta)) failed: {exc}") from None
    r = ev(beta)
    return TapMinimum(float(beta), r.value, r.derivative, len(ev.cache), bool(info.converged))


def _first_crossing(
    ev: _Evaluator, theta: float, beta_min: float, rtol: float
) -> tuple[float, bool]:
    """First β in (0, β*] with ``λ_min(A(β)) = θ``, given ``λ_min(β*) ≤ θ``."""
    bonds = ev.bonds
    lo = beta_min / 2
    for _ in range(60):
        if factor_tap(bonds, lo, theta).positive_definite:
            break
        lo /= 2
    else:
        raise ConvergenceError("no beta found where A(beta) - theta is positive definite")
    hi = beta_min
    beta = lo
    for _ in range(100):
        r = ev(beta)
        f = r.value - theta
        if f > 0:
            lo = beta
        else:
            hi = beta
        if hi - lo <= rtol * lo:
            break
        newton = beta - f / r.derivative if r.derivative < 0 else np.inf
        beta = newton if lo < newton < hi else 0.5 * (lo + hi)
        if abs(newton - r.beta) <= 0.25 * rtol * lo and lo < newton < hi:
            # Newton has converged from the left: certify the step by Cholesky
            lo_ok = factor_tap(bonds, newton * (1 - rtol / 4), theta).positive_definite
            hi_bad = not factor_tap(bonds, newton * (1 + rtol / 4), theta).positive_definite
            if lo_ok and hi_bad:
                return float(newton), True
    else:
        return float(hi), False
    return float(0.5 * (lo + hi)), True


Definition = Literal["corrected", "plain", "threshold"]


@tap_blas
def tap_critical(
    bonds: Bonds,
    *,
    definition: Definition = "corrected",
    threshold: float | None = None,
    reference: Bonds | None = None,
    rtol: float = 1e-10,
    method: str = "auto",
) -> TapCritical:
    """Critical inverse temperature of one instance from its linearised TAP matrix.

    Args:
        bonds: the instance (layered or dense couplings).
        definition: ``"corrected"`` (default; the paper's finite-size correction),
            ``"plain"`` (``A(β)`` stops being positive definite) or ``"threshold"``.
        threshold: θ for ``definition="threshold"``.
        reference: for ``"corrected"``, the instance that sets θ (e.g. the untrained
            network); default the instance itself.
        rtol: relative tolerance on ``beta_c``.
        method: ``λ_min`` method (see :func:`~replicasolve.tap.matrix.lambda_min`).

    Returns:
        :class:`TapCritical`.

    Raises:
        InvalidInputError: unknown definition, missing or extra threshold, bad rtol.
        ConvergenceError: the minimum or the crossing could not be bracketed.
    """
    if not (0 < rtol < 1e-2):
        raise InvalidInputError(f"rtol must be in (0, 1e-2), got {rtol}")
    # A(β; J) = s A(sβ; J/s) (each of 1/β, β d and J scales so): an instance whose couplings
    # are far from order 1 is solved at J/s, where β_c is of order 1, and mapped back. Without
    # this, C = 1e300 overflowed d = Σ J² and C = 1e-150 left LOBPCG at residuals of 1e-77.
    s = bonds.coupling_scale()
    if s == 0:
        raise InvalidInputError("all couplings are zero: there is no transition")
    if not 1e-8 <= s <= 1e8:
        inv = 1.0 / s
        r = tap_critical(
            bonds.scaled(inv), definition=definition,
            threshold=None if threshold is None else float(threshold) * inv,
            reference=None if reference is None else reference.scaled(inv),
            rtol=rtol, method=method)
        with np.errstate(over="ignore"):
            factors = tuple(c * s * s for c in r.variance_factors)
        return dataclasses.replace(
            r, beta_c=r.beta_c * inv, T_c=r.T_c * s, threshold=r.threshold * s,
            beta_min=r.beta_min * inv, lambda_at_min=r.lambda_at_min * s,
            variance_factors=factors)
    if definition not in ("corrected", "plain", "threshold"):
        raise InvalidInputError(
            f"unknown definition {definition!r}: use 'corrected', 'plain' or 'threshold'"
        )
    if (definition == "threshold") != (threshold is not None):
        raise InvalidInputError("give a threshold exactly when definition='threshold'")
    if reference is not None and definition != "corrected":
        raise InvalidInputError("a reference instance only goes with definition='corrected'")
    ev = _Evaluator(bonds, method)
    mini = tap_minimum(bonds, rtol=rtol, method=method, _ev=ev)
    self_reference = definition == "corrected" and reference is None
    if definition == "plain":
        theta = 0.0
    elif definition == "threshold":
        theta = float(threshold)  # type: ignore[arg-type]
        if not np.isfinite(theta):
            raise InvalidInputError(f"threshold must be finite, got {threshold}")
    elif self_reference:
        theta = mini.value
    else:
        theta = tap_minimum(reference, rtol=rtol, method=method).value  # type: ignore[arg-type]
    # within rounding of θ the crossing is a tangency: λ_min - θ ≈ c(β - β*)² locates β only
    # to sqrt(rounding) there, while β* itself is a clean root of dλ/dβ
    scale = float(np.max(tap_diagonal(bonds, mini.beta)))
    tangent = abs(mini.value - theta) <= 1e-11 * scale
    if self_reference or tangent:
        beta_c, crossed, converged = mini.beta, True, mini.converged
    elif mini.value > theta:
        beta_c, crossed, converged = mini.beta, False, mini.converged
    else:
        beta_c, converged = _first_crossing(ev, theta, mini.beta, rtol)
        crossed = True
    layered = isinstance(bonds, LayeredBonds)
    sizes = bonds.sizes if layered else ()
    cfac = bonds.variance_factors() if layered else ()
    mode = mode_profile(bonds, ev(beta_c).vector) if layered else ()
    return TapCritical(
        beta_c=float(beta_c),
        T_c=float(1.0 / beta_c),
        definition=definition,
        threshold=float(theta),
        crossed=crossed,
        beta_min=mini.beta,
        lambda_at_min=mini.value,
        rtol=rtol,
        evaluations=len(ev.cache),
        converged=bool(converged),
        n=bonds.n,
        sizes=sizes,
        variance_factors=cfac,
        mode=mode,
    )
