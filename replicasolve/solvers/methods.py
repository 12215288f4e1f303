"""How to solve: the level of replica symmetry breaking, and numerical options.

``solve(model, method=RSB(k=3), options=Options(tol=1e-10))``: the method says *which*
variational family the Parisi functional is minimised over, the options say how hard to
work. Strings are accepted where a theorist would type them: ``"rs"``, ``"1rsb"``,
``"3rsb"``, ``"full"``, or an integer k.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError

__all__ = ["RS", "RSB", "TAP", "FullRSB", "Options", "as_method", "as_options"]


@dataclass(frozen=True)
class RSB:
    """k steps of replica symmetry breaking: x(q) a step function with k steps strictly
    inside (0, 1) (k = 0 is replica symmetric, k = 1 is 1RSB). Breakpoints q_i and values
    x_i are all optimised."""

    k: int

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 0:
            raise InvalidInputError(
                f"number of RSB steps k must be an integer >= 0, got {self.k!r}")
        if self.k > 400:
            raise InvalidInputError(
                f"k = {self.k} RSB steps is beyond what the solvers support (400)")

    @property
    def name(self) -> str:
        return "RS" if self.k == 0 else f"{self.k}RSB"


def RS() -> RSB:
    """The replica-symmetric ansatz, ``RSB(0)``."""
    return RSB(0)


@dataclass(frozen=True)
class FullRSB:
    """Full RSB as the k → ∞ limit of k-step solutions.

    The k-step problems are solved for ``ks`` (each warm-started from the previous one) and
    the values extrapolated in 1/k (finite-k errors decay like k^{-3..-4} for SK's ground
    state; the fit exponent is fitted, not assumed). ``continuous=True`` (spherical models
    only) also solves for a continuous x(q) directly where the model allows it.
    """

    ks: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 12)
    continuous: bool = True

    def __post_init__(self) -> None:
        ks = tuple(self.ks)
        if len(ks) < 3:
            raise InvalidInputError("FullRSB needs at least three values of k to extrapolate")
        for k in ks:
            RSB(k)
            if k < 1:
                raise InvalidInputError("FullRSB's ks must be >= 1")
        if list(ks) != sorted(set(ks)):
            raise InvalidInputError(f"FullRSB's ks must be strictly increasing, got {ks}")
        object.__setattr__(self, "ks", ks)

    @property
    def name(self) -> str:
        return "FRSB"


@dataclass(frozen=True)
class Options:
    """Numerical options (defaults aim at ~1e-9 relative accuracy of the free energy).

    Attributes:
        tol: stationarity target: the projected-gradient residual ‖v - P(v - ∇G)‖∞ of the
            functional G in its variables (breakpoints q, and m = x-values at T > 0 or γ at
            T = 0). A result with a larger residual has ``converged=False``. A residual r
            moves the free energy by O(r²), so the default is far below what f needs.
        maxiter: optimiser iteration limit (a result past it has ``converged=False``).
        grid_step: Ising: field-grid spacing as a fraction of the smallest smoothing scale
            of the Parisi function (sqrt of the last variance step, or T).
        grid_width: Ising: half-width of the field grid in standard deviations sqrt(ξ'(1)).
        n_gauss: Ising: Gauss–Hermite nodes per Gaussian convolution.
        max_grid: Ising: cap on the number of grid points.
    """

    tol: float = 1e-6
    maxiter: int = 2000
    grid_step: float = 0.2
    grid_width: float = 9.0
    n_gauss: int = 48
    max_grid: int = 40001

    def __post_init__(self) -> None:
        checks = {
            "tol": self.tol > 0,
            "maxiter": isinstance(self.maxiter, int) and self.maxiter >= 1,
            "grid_step": 0 < self.grid_step <= 1.0,
            "grid_width": self.grid_width >= 4,
            "n_gauss": isinstance(self.n_gauss, int) and 8 <= self.n_gauss <= 200,
            "max_grid": isinstance(self.max_grid, int) and self.max_grid >= 101,
        }
        for name, ok in checks.items():
            if not ok:
                raise InvalidInputError(f"Options.{name} = {getattr(self, name)!r} is out of range")


_EIGENSOLVERS = ("auto", "dense", "shift-invert", "lobpcg", "lanczos")


@dataclass(frozen=True)
class TAP:
    """The TAP critical point of one network instance, from the smallest eigenvalue of its
    linearised TAP matrix A(β) (Barney–Winer–Galitski, arXiv 2408.06421, sec. 3.2;
    :mod:`replicasolve.tap.critical`): the method :func:`replicasolve.solve` uses for a
    :class:`~replicasolve.tap.bonds.LayeredBonds` or ``DenseBonds`` instance.

    Attributes:
        definition: ``"corrected"`` (the paper's finite-size correction: the first β where
            λ_min(A) reaches the minimum of the reference's), ``"plain"`` (A stops being
            positive definite) or ``"threshold"`` (λ_min(A) reaches ``threshold``).
        threshold: θ for ``"threshold"`` (and only then).
        reference: for ``"corrected"``, the instance that sets θ (e.g. the untrained
            network); ``None``: the instance itself.
        rtol: relative tolerance on β_c, in (0, 1e-2).
        eigensolver: the λ_min method: ``"auto"``, ``"dense"``, ``"shift-invert"``,
            ``"lobpcg"`` or ``"lanczos"`` (:func:`replicasolve.tap.matrix.lambda_min`).
    """

    definition: str = "corrected"
    threshold: float | None = None
    reference: Any = None
    rtol: float = 1e-10
    eigensolver: str = "auto"

    def __post_init__(self) -> None:
        if self.definition not in ("corrected", "plain", "threshold"):
            raise InvalidInputError(
                f"TAP definition must be 'corrected', 'plain' or 'threshold', got "
                f"{self.definition!r}")
        if (self.threshold is None) != (self.definition != "threshold"):
            raise InvalidInputError("TAP threshold is given with definition='threshold' only")
        if self.threshold is not None and not (
                isinstance(self.threshold, (int, float)) and not isinstance(self.threshold, bool)
                and math.isfinite(self.threshold)):
            raise InvalidInputError(f"TAP threshold must be a finite number, got "
                                    f"{self.threshold!r}")
        if isinstance(self.rtol, bool) or not (0 < self.rtol < 1e-2):
            raise InvalidInputError(f"TAP rtol must be in (0, 1e-2), got {self.rtol!r}")
        if self.eigensolver not in _EIGENSOLVERS:
            raise InvalidInputError(
                f"TAP eigensolver must be one of {_EIGENSOLVERS}, got {self.eigensolver!r}")


_K_RSB = re.compile(r"^(\d+)\s*-?\s*rsb$")


def as_method(method: Any) -> RSB | FullRSB:
    """Normalise ``"rs"``, ``"1rsb"``, ``"krsb"``, ``"full"``/``"frsb"``, an int k, or a
    method object."""
    if isinstance(method, (RSB, FullRSB)):
        return method
    if isinstance(method, bool):
        raise InvalidInputError(f"unknown method {method!r}")
    if isinstance(method, int):
        return RSB(method)
    if isinstance(method, str):
        m = method.strip().lower()
        if m in ("rs", "0", "0rsb"):
            return RSB(0)
        if m in ("full", "frsb", "fullrsb", "full-rsb", "inf"):
            return FullRSB()
        if m.isdigit():
            return RSB(int(m))
        match = _K_RSB.match(m)
        if match:
            return RSB(int(match.group(1)))
    raise InvalidInputError(
        f"unknown method {method!r}: use 'rs', '1rsb', '<k>rsb', an integer k, or 'full'"
    )


def as_options(options: Any) -> Options:
    """``None`` → defaults; a dict → ``Options(**dict)``; an :class:`Options` as is."""
    if options is None:
        return Options()
    if isinstance(options, Options):
        return options
    if isinstance(options, dict):
        try:
            return Options(**options)
        except TypeError as exc:
            raise InvalidInputError(f"bad solver options: {exc}") from None
    raise InvalidInputError(f"options must be an Options or a dict, got {type(options).__name__}")
