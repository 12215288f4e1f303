"""Multilayer Sherrington–Kirkpatrick model: the replica theory of a layered network.

Spins ``s ∈ {±1}`` in layers ``l = 0..L`` of sizes ``N_l``; couplings between adjacent
layers ``W^l_ij ~ N(0, C_l / N_{l-1})`` (Kaiming normal is ``C_l = 2``)::

    H(s) = - Σ_l Σ_{i∈l, j∈l-1} W^l_ij s^l_i s^{l-1}_j

Expanding the replica-symmetric action to second order in the layer overlaps ``q_l``
(derived in :mod:`replicasolve.symbolic.msk` and ``derivations/msk_critical_temperature.py``)
the paramagnet is stable while ``diag(N_l) - β² M`` is positive definite, which gives
``β_c^{-2} = λ_max(K)`` with ``K`` tridiagonal, ``K_{l,l-1} = C_l sqrt(N_l / N_{l-1})``.
Reference: Barney, Winer & Galitski, arXiv 2408.06421, section 2.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .. import validation
from ..reported import decimal
from ..results import Result

__all__ = ["MSK", "MSKCritical", "critical_matrix", "msk_critical", "msk_tc_identical"]


@dataclass(frozen=True)
class MSK:
    """The multilayer SK model of a layered network, in the limit N → ∞ at fixed ratios.

    Spins ``σ^l ∈ {±1}^{N_l}`` on ``L + 1`` layers, couplings only between neighbouring
    layers, weights into layer ``l`` i.i.d. ``N(0, C_l / N_{l-1})``; Gibbs weight
    ``exp(-βH)``. What :func:`replicasolve.solve` asks of it is the paramagnet–spin-glass
    transition: ``solve(MSK(...))`` returns an :class:`MSKCritical`.

    Attributes:
        sizes: layer sizes ``N_0..N_L`` (a sequence or a comma list such as
            ``"784,512,10"``), stored as a tuple of ints.
        variance: ``C`` for every weight matrix, or ``C_1..C_L``; stored as a tuple of
            ``L`` floats. Kaiming normal (ReLU gain) is ``C = 2``.

    Raises:
        InvalidInputError: sizes not positive integers (at least two layers), variances
            not positive normal floats, or of the wrong length.
    """

    sizes: Sequence[int] | str
    variance: float | Sequence[float] | str = 2.0

    def __post_init__(self) -> None:
        n = validation.layer_sizes(self.sizes)
        object.__setattr__(self, "sizes", tuple(n))
        object.__setattr__(self, "variance", validation.variances(self.variance, len(n) - 1))

    def critical(self) -> MSKCritical:
        """The transition: :func:`msk_critical` of these sizes and variances."""
        return msk_critical(self.sizes, self.variance)


@dataclass(frozen=True)
class MSKCritical(Result):
    """The paramagnet–spin-glass transition of the multilayer SK model.

    Attributes:
        sizes: layer sizes ``N_0..N_L``.
        variances: ``C_1..C_L`` (weights into layer ``l`` have variance ``C_l / N_{l-1}``).
        beta_c: critical inverse temperature.
        T_c: critical temperature ``1 / beta_c``.
        mode: the unstable direction in overlap space, ``q_l`` per layer (shape ``(L+1,)``,
            positive, unit norm): the overlaps that grow first below ``T_c``.
        mode_K: the same mode in the symmetrised basis ``sqrt(N_l) q_l`` (unit norm).
        lambda_max: largest eigenvalue of ``K`` (= ``T_c²``).
    """

    sizes: tuple[int, ...]
    variances: tuple[float, ...]
    beta_c: float
    T_c: float
    mode: tuple[float, ...]
    mode_K: tuple[float, ...]
    lambda_max: float

    @property
    def converged(self) -> bool:
        """Always ``True``: ``T_c`` is the top eigenvalue of a symmetric tridiagonal matrix,
        found by bisection to rounding (inputs whose eigenvalue would leave the floating-
        point range are refused before)."""
        return True

    def to_dict(self) -> dict:
        """Plain-JSON form (lists and floats), with ``converged``."""
        d = asdict(self)
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        out["converged"] = True
        return out

    def table(self) -> str:
        """The summary the CLI prints."""
        return str(self)

    def __str__(self) -> str:
        c = ",".join(f"{v:g}" for v in self.variances)
        mode = ", ".join(f"{v:.4f}" for v in self.mode)
        return (
            f"multilayer SK  sizes={','.join(map(str, self.sizes))}  C={c}\n"
            f"  beta_c = {decimal(self.beta_c, 10)}\n"
            f"  T_c    = {decimal(self.T_c, 10)}\n"
            f"  unstable mode q_l = [{mode}]"
        )


def critical_matrix(
    sizes: Sequence[int] | str, variance: float | Sequence[float] | str = 2.0
) -> np.ndarray:
    """The symmetric tridiagonal matrix ``K`` with ``β_c^{-2} = λ_max(K)``.

    Args:
        sizes: layer sizes ``N_0..N_L`` (``L+1`` spin layers).
        variance: ``C`` for all weight matrices, or one ``C_l`` per weight matrix.

    Returns:
        ``K``, shape ``(L+1, L+1)``, with ``K_{l,l-1} = K_{l-1,l} = C_l sqrt(N_l/N_{l-1})``.
    """
    n = validation.layer_sizes(sizes)
    c = validation.variances(variance, len(n) - 1)
    k = np.zeros((len(n), len(n)))
    for layer in range(1, len(n)):
        k[layer, layer - 1] = k[layer - 1, layer] = c[layer - 1] * np.sqrt(n[layer] / n[layer - 1])
    return k


def msk_critical(
    sizes: Sequence[int] | str, variance: float | Sequence[float] | str = 2.0
) -> MSKCritical:
    """Critical temperature and unstable overlap mode of the multilayer SK model.

    Exact at ``N → ∞`` with the ratios ``N_l / N`` fixed, for any sizes and variances.

    Args:
        sizes: layer sizes ``N_0..N_L``, e.g. ``(784, 512, 512, 512, 10)``.
        variance: ``C`` (one for all weight matrices) or ``C_1..C_L``; weights into layer
            ``l`` are ``N(0, C_l / N_{l-1})``. Kaiming normal (ReLU gain) is ``C = 2``.

    Returns:
        :class:`MSKCritical`; ``T_c = sqrt(λ_max(K))`` (Barney–Winer–Galitski, eq. for the
        paramagnetic instability; identical layers reduce to ``sqrt(2C cos(π/(L+2)))``).

    Raises:
        InvalidInputError: sizes or variances not positive, or of mismatched length.
    """
    n = validation.layer_sizes(sizes)
    c = validation.variances(variance, len(n) - 1)
    from scipy.linalg import eigh_tridiagonal

    # K is linear in the variances: solve for K / max(C) and scale back, so that variances
    # near the ends of floating point (1e-300, 1e300) keep their T_c and mode instead of
    # under- or overflowing inside LAPACK (stebz fails to converge at C = 1e300)
    scale = max(c)
    k = critical_matrix(n, tuple(v / scale for v in c))
    # K is tridiagonal: the top eigenpair alone costs O(L) (a dense eigh is O(L³): 2.8 s at
    # L = 3000 against 2 ms here, same value to rounding)
    evals, evecs = eigh_tridiagonal(np.diag(k).copy(), np.diag(k, 1).copy(), select="i",
                                    select_range=(len(n) - 1, len(n) - 1))
    lam_unit = float(evals[-1])
    with np.errstate(over="ignore"):
        lam = lam_unit * scale
        t_c = float(np.sqrt(lam_unit) * np.sqrt(scale))
        beta_c = float(1.0 / (np.sqrt(lam_unit) * np.sqrt(scale)))
    if not (np.isfinite(lam) and np.isfinite(beta_c) and lam > 0 and t_c > 0):
        raise validation.InvalidInputError(
            f"variances {min(c):g}..{max(c):g} with these sizes put lambda_max(K) beyond "
            "floating-point range"
        )
    u = evecs[:, -1]
    u = u * np.sign(u[np.argmax(np.abs(u))])  # Perron vector: choose the positive sign
    q = u / np.sqrt(np.asarray(n, dtype=float))
    q /= np.linalg.norm(q)
    return MSKCritical(
        sizes=n,
        variances=c,
        beta_c=beta_c,
        T_c=t_c,
        mode=tuple(float(v) for v in q),
        mode_K=tuple(float(v) for v in u),
        lambda_max=lam,
    )


def msk_tc_identical(n_weight_layers: int, variance: float = 2.0) -> float:
    """Closed form ``T_c = sqrt(2 C cos(π/(L+2)))`` for ``L`` identical weight layers.

    ``L + 1`` spin layers of equal size; published in Barney–Winer–Galitski
    (arXiv 2408.06421) and re-derived in ``derivations/msk_critical_temperature.py``.
    """
    if int(n_weight_layers) != n_weight_layers or n_weight_layers < 1:
        raise validation.InvalidInputError(
            f"number of weight layers must be a whole number >= 1, got {n_weight_layers}"
        )
    c = validation.variances(variance, 1)[0]
    return float(np.sqrt(2.0 * c * np.cos(np.pi / (n_weight_layers + 2))))
