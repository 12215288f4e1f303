"""Spectra and level statistics of the TAP matrix and of the bond matrix.

Observables of Barney, Winer & Galitski (arXiv 2408.06421, sections 3.3–3.4): the
normalised first level spacing of ``A(β_c)`` (gap between its two smallest eigenvalues over
the median level spacing of the bulk), ``λ_max(J)``, and the relative change of the
Onsager diagonal ``d`` during training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import InvalidInputError
from .bonds import DenseBonds, LayeredBonds
from .matrix import DENSE_MAX_N, tap_spectrum

__all__ = [
    "DiagonalChange",
    "LevelStats",
    "bond_lambda_max",
    "bond_spectrum",
    "diagonal_change",
    "level_stats",
    "tap_level_stats",
]

Bonds = LayeredBonds | DenseBonds


@dataclass(frozen=True)
class LevelStats:
    """Spacing statistics of a spectrum.

    Attributes:
        first_spacing: ``λ_2 - λ_1``.
        median_spacing: median of all nearest-neighbour spacings (the bulk's typical
            spacing; the median is insensitive to the few split-off levels).
        normalized_first_spacing: ``first_spacing / median_spacing``.
        lowest: the two smallest eigenvalues.
    """

    first_spacing: float
    median_spacing: float
    normalized_first_spacing: float
    lowest: tuple[float, float]

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        d = asdict(self)
        d["lowest"] = list(self.lowest)
        return d


def level_stats(eigenvalues: np.ndarray) -> LevelStats:
    """Level statistics of a spectrum (any order; sorted here), at least 3 levels."""
    ev = np.sort(np.asarray(eigenvalues, dtype=float).ravel())
    if ev.size < 3:
        raise InvalidInputError(f"need at least 3 eigenvalues, got {ev.size}")
    if not np.all(np.isfinite(ev)):
        raise InvalidInputError("eigenvalues contain NaN or infinity")
    gaps = np.diff(ev)
    med = float(np.median(gaps))
    if med <= 0:
        raise InvalidInputError("median level spacing is zero (degenerate spectrum)")
    first = float(gaps[0])
    return LevelStats(first, med, first / med, (float(ev[0]), float(ev[1])))


def tap_level_stats(bonds: Bonds, beta: float, *, allow_large: bool = False) -> LevelStats:
    """Level statistics of ``A(β)`` (dense diagonalisation, ``N ≤ 6000`` by default)."""
    return level_stats(tap_spectrum(bonds, beta, allow_large=allow_large))


def bond_spectrum(bonds: Bonds, *, allow_large: bool = False) -> np.ndarray:
    """All eigenvalues of ``J`` (ascending, shape ``(N,)``), dense LAPACK."""
    if bonds.n > DENSE_MAX_N and not allow_large:
        raise InvalidInputError(
            f"the spectrum of J needs a dense {bonds.n}x{bonds.n} matrix; "
            "pass allow_large=True, or use bond_lambda_max for the top eigenvalue"
        )
    return np.linalg.eigvalsh(bonds.dense())


def bond_lambda_max(bonds: Bonds) -> float:
    """``λ_max(J)``: dense for ``N ≤ 6000``, else matrix-free Lanczos (ARPACK)."""
    if bonds.n <= DENSE_MAX_N:
        import scipy.linalg

        return float(scipy.linalg.eigvalsh(bonds.dense(), subset_by_index=[bonds.n - 1] * 2)[0])
    from scipy.sparse.linalg import LinearOperator, eigsh

    op = LinearOperator((bonds.n, bonds.n), matvec=bonds.matvec, dtype=float)
    return float(eigsh(op, k=1, which="LA", tol=1e-12, return_eigenvectors=False)[0])


@dataclass(frozen=True)
class DiagonalChange:
    """How much the Onsager diagonal ``d`` moved relative to a reference instance.

    Attributes:
        max_relative: ``max_i |d_i - d_i^ref| / d_i^ref``.
        norm_relative: ``‖d - d^ref‖ / ‖d^ref‖``.
        mean_relative: ``|mean d - mean d^ref| / mean d^ref``.
    """

    max_relative: float
    norm_relative: float
    mean_relative: float

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return asdict(self)


def diagonal_change(bonds: Bonds, reference: Bonds) -> DiagonalChange:
    """Relative change of ``d_i = Σ_j J_ij²`` against ``reference`` (same architecture)."""
    d, d0 = bonds.d, reference.d
    if d.shape != d0.shape:
        raise InvalidInputError(
            f"reference has {d0.size} spins, the instance {d.size}: not the same architecture"
        )
    if np.any(d0 <= 0):
        raise InvalidInputError("reference has a spin with no couplings (d_i = 0)")
    return DiagonalChange(
        max_relative=float(np.max(np.abs(d - d0) / d0)),
        norm_relative=float(np.linalg.norm(d - d0) / np.linalg.norm(d0)),
        mean_relative=float(abs(d.mean() - d0.mean()) / d0.mean()),
    )
