"""The linearised TAP matrix ``A(β) = diag(1/β + β d) - J`` of one instance.

At small magnetizations the TAP equations (Thouless–Anderson–Palmer 1977, with the
Onsager reaction term) linearise to ``A(β) m = 0`` with ``d_i = Σ_j J_ij²``; the
paramagnet ``m = 0`` is stable while ``A(β)`` is positive definite
(Barney, Winer & Galitski, arXiv 2408.06421, eqs. 23–25).

For layered bonds ``A`` is block tridiagonal, so it is factorised by the block recurrence
``Δ_0 = A_00``, ``Δ_l = A_ll - A_{l,l-1} Δ_{l-1}^{-1} A_{l-1,l}`` with a Cholesky
factor of every ``Δ_l``: ``A`` is positive definite iff every ``Δ_l`` is, and
``det A = Π_l det Δ_l``. This costs ``O(Σ_l N_l³)`` instead of ``O(N³)`` and never
forms ``A``. The same factors solve ``(A - σ) x = b`` for shift-invert Lanczos.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.linalg import get_blas_funcs, get_lapack_funcs

from .. import validation
from ..blas import tap_blas
from ..errors import ConvergenceError, InvalidInputError
from .bonds import DenseBonds, LayeredBonds

__all__ = [
    "LambdaMin",
    "TapFactor",
    "factor_tap",
    "lambda_min",
    "lambda_min_curve",
    "tap_diagonal",
    "tap_matrix",
    "tap_preconditioner",
    "tap_spectrum",
]

Bonds = LayeredBonds | DenseBonds
DENSE_MAX_N = 6000  # above this a dense (N, N) float64 matrix passes ~290 MB: ask first


def tap_diagonal(bonds: Bonds, beta: float) -> np.ndarray:
    """Diagonal of ``A(β)``: ``1/β + β d_i``, shape ``(N,)``."""
    b = validation.positive_beta(beta)
    return 1.0 / b + b * bonds.d


def tap_matrix(bonds: Bonds, beta: float, *, allow_large: bool = False) -> np.ndarray:
    """Dense ``A(β)``, shape ``(N, N)``; refuses ``N > 6000`` unless ``allow_large``."""
    if bonds.n > DENSE_MAX_N and not allow_large:
        raise InvalidInputError(
            f"A(beta) would be a dense {bonds.n}x{bonds.n} matrix "
            f"({8 * bonds.n**2 / 1e9:.1f} GB); pass allow_large=True to build it anyway"
        )
    a = -bonds.dense()  # negation makes a new array: the bonds are not touched
    a[np.diag_indices_from(a)] += tap_diagonal(bonds, beta)
    return a


def tap_spectrum(bonds: Bonds, beta: float, *, allow_large: bool = False) -> np.ndarray:
    """All eigenvalues of ``A(β)`` in ascending order, shape ``(N,)`` (dense LAPACK)."""
    return np.linalg.eigvalsh(tap_matrix(bonds, beta, allow_large=allow_large))


@dataclass(frozen=True, eq=False)
class TapFactor:
    """Block Cholesky factorisation of ``A(β) - shift·I``.

    Attributes:
        beta: inverse temperature.
        shift: ``σ`` subtracted from the diagonal.
        positive_definite: whether ``A(β) - σ`` is positive definite (Cholesky succeeded).
        failed_layer: the first block ``Δ_l`` that was not positive definite, else ``None``.
        logdet: ``ln det(A - σ)`` when positive definite, else ``nan``.
    """

    beta: float
    shift: float
    positive_definite: bool
    failed_layer: int | None
    logdet: float
    _bonds: Bonds
    _factors: tuple[np.ndarray, ...]
    _weights: tuple[np.ndarray, ...] = ()  # float32 copies when the factor is float32

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(A(β) - σ)^{-1} rhs`` for ``rhs`` of shape ``(N,)`` or ``(N, k)``."""
        if not self.positive_definite:
            raise InvalidInputError(
                f"A(beta={self.beta:g}) - {self.shift:g} is not positive definite: cannot solve"
            )
        b = self._bonds
        rhs = np.asarray(rhs, dtype=np.float64)
        if isinstance(b, DenseBonds):
            return _chol_solve(self._factors[0], rhs)
        n_layers = b.n_layers
        # a float32 factor is a preconditioner: do the whole solve in float32, which
        # halves the memory traffic of the weights (the cost of a solve at large N)
        ws = self._weights or b.weights
        if self._weights:
            rhs = rhs.astype(np.float32)
        y = [b.layer(rhs, k).copy() for k in range(n_layers)]
        for k in range(1, n_layers):
            y[k] += ws[k - 1] @ _chol_solve(self._factors[k - 1], y[k - 1])
        x: list[np.ndarray] = [np.empty(0)] * n_layers
        x[-1] = _chol_solve(self._factors[-1], y[-1])
        for k in range(n_layers - 2, -1, -1):
            x[k] = _chol_solve(self._factors[k], y[k] + ws[k].T @ x[k + 1])
        return np.concatenate(x, axis=0).astype(np.float64, copy=False)


def _chol_solve(u: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``Uᵀ U x = rhs``; a 1-D ``u`` is a diagonal factor."""
    if u.ndim == 1:
        return rhs / (u * u if rhs.ndim == 1 else (u * u)[:, None])
    potrs = get_lapack_funcs("potrs", (u,))
    x, info = potrs(u, rhs.astype(u.dtype, copy=False), lower=0)
    if info != 0:  # pragma: no cover - LAPACK argument error, a bug if it happens
        raise RuntimeError(f"potrs failed with info={info}")
    return np.asarray(x, dtype=np.result_type(u.dtype, rhs.dtype))


def _potrf_upper(a: np.ndarray) -> tuple[np.ndarray, int]:
    potrf = get_lapack_funcs("potrf", (a,))
    u, info = potrf(a, lower=0, clean=1, overwrite_a=1)
    return u, int(info)


@tap_blas
def factor_tap(
    bonds: Bonds, beta: float, shift: float = 0.0, *, dtype: type = np.float64
) -> TapFactor:
    """Factorise ``A(β) - shift`` by the block recurrence (layered) or Cholesky (dense).

    Stops at the first block that is not positive definite, so a failing test is cheaper
    than a passing one.

    Args:
        bonds: the instance.
        beta: inverse temperature ``β > 0``.
        shift: ``σ``; ``A - σ`` positive definite ⇔ ``λ_min(A) > σ``.
        dtype: ``np.float64`` (default) or ``np.float32`` (twice as fast, ~1e-6 relative
            accuracy: for a preconditioner or a quick look, not for quoted digits).

    Returns:
        :class:`TapFactor`.
    """
    a = tap_diagonal(bonds, beta) - float(shift)
    dt = np.dtype(dtype)
    if dt not in (np.float64, np.float32):
        raise InvalidInputError(f"dtype must be float64 or float32, got {dt}")
    if isinstance(bonds, DenseBonds):
        m = np.asfortranarray(-bonds.J, dtype=dt)
        m[np.diag_indices_from(m)] += a.astype(dt)
        u, info = _potrf_upper(m)
        if info:
            return TapFactor(beta, shift, False, 0, float("nan"), bonds, ())
        return TapFactor(beta, shift, True, None, _logdet(u), bonds, (u,))
    factors: list[np.ndarray] = []
    weights32: list[np.ndarray] = []
    a0 = bonds.layer(a, 0)
    if np.any(a0 <= 0):
        return TapFactor(beta, shift, False, 0, float("nan"), bonds, ())
    factors.append(np.sqrt(a0).astype(dt))  # Δ_0 is diagonal: its Cholesky factor too
    syrk = get_blas_funcs("syrk", (np.empty(0, dtype=dt),))
    for k in range(1, bonds.n_layers):
        w = bonds.weights[k - 1]
        wt = w.T if dt == np.float64 else w.T.astype(dt)
        if dt == np.float32:
            weights32.append(wt.T)
        u_prev = factors[-1]
        if u_prev.ndim == 1:
            x = np.asfortranarray(wt / u_prev[:, None], dtype=dt)
        else:
            trtrs = get_lapack_funcs("trtrs", (u_prev,))
            x, info = trtrs(u_prev, np.asfortranarray(wt, dtype=dt), lower=0, trans=1)
            if info != 0:  # pragma: no cover - singular factor cannot come out of potrf
                raise RuntimeError(f"trtrs failed with info={info}")
        s = syrk(alpha=-1.0, a=x, trans=1)  # upper triangle of -Xᵀ X = -W Δ^{-1} Wᵀ
        s[np.diag_indices_from(s)] += bonds.layer(a, k).astype(dt)
        u, info = _potrf_upper(s)
        if info:
            return TapFactor(beta, shift, False, k, float("nan"), bonds, ())
        factors.append(u)
    logdet = float(sum(_logdet(u) for u in factors))
    return TapFactor(beta, shift, True, None, logdet, bonds, tuple(factors), tuple(weights32))


def _logdet(u: np.ndarray) -> float:
    diag = u if u.ndim == 1 else np.diag(u)
    return float(2.0 * np.sum(np.log(diag.astype(np.float64))))


@dataclass(frozen=True, eq=False)
class LambdaMin:
    """The least eigenvalue of ``A(β)`` with its eigenvector.

    Attributes:
        beta: inverse temperature.
        value: ``λ_min(A(β))``.
        vector: unit eigenvector, shape ``(N,)``.
        derivative: ``dλ_min/dβ = vᵀ (D - 1/β²) v`` (Hellmann–Feynman).
        residual: ``‖A v - λ v‖``.
        method: ``"dense"``, ``"shift-invert"``, ``"lobpcg"`` or ``"lanczos"``.
        iterations: eigensolver iterations (0 for dense).
    """

    beta: float
    value: float
    vector: np.ndarray
    derivative: float
    residual: float
    method: str
    iterations: int = 0


Method = Literal["auto", "dense", "shift-invert", "lobpcg", "lanczos"]


def _apply_a(bonds: Bonds, diag: np.ndarray, x: np.ndarray) -> np.ndarray:
    jx = bonds.matvec(x)
    return (diag * x.T).T - jx


@tap_blas
def lambda_min(
    bonds: Bonds,
    beta: float,
    *,
    method: Method = "auto",
    guess: float | None = None,
    v0: np.ndarray | None = None,
    preconditioner: TapFactor | None = None,
) -> LambdaMin:
    """Least eigenvalue and eigenvector of ``A(β)``.

    Args:
        bonds: the instance.
        beta: inverse temperature.
        method: ``"dense"`` (LAPACK ``eigh`` on the dense matrix, ``N ≤ 6000``);
            ``"shift-invert"`` (ARPACK Lanczos on ``(A - σ)^{-1}`` with the block
            Cholesky factors, ``σ`` just below ``λ_min``: fast and exact to rounding);
            ``"lobpcg"`` (Knyazev's LOBPCG on ``A(β)`` in float64, preconditioned by a
            float32 block Cholesky factor of ``A(β₀) - σ₀`` that can be reused across
            nearby β: one factorisation serves a whole β search, which is what makes
            N ~ 40,000 affordable); ``"lanczos"`` (plain Lanczos on ``A``, matrix-free,
            slow at a dense spectral edge); ``"auto"``: dense for N ≤ 64, else lobpcg.
        guess: an estimate of ``λ_min`` (e.g. from a neighbouring β) for the shift.
        v0: a starting vector (e.g. the eigenvector at a neighbouring β).
        preconditioner: for ``"lobpcg"``, a positive definite :class:`TapFactor` (from
            :func:`tap_preconditioner`); built at this β when not given.

    Returns:
        :class:`LambdaMin`.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    b = validation.positive_beta(beta)
    diag = tap_diagonal(bonds, b)
    n = bonds.n
    if method == "auto":
        method = "dense" if n <= 64 else "lobpcg"
    iterations = 0
    if method == "lobpcg":
        lam, vec, iterations = _lobpcg_min(bonds, b, diag, guess, v0, preconditioner)
    elif method == "dense":
        import scipy.linalg

        w, v = scipy.linalg.eigh(tap_matrix(bonds, b), subset_by_index=[0, 0])
        lam, vec = float(w[0]), v[:, 0]
    elif method in ("shift-invert", "lanczos"):
        a_op = LinearOperator((n, n), matvec=lambda x: _apply_a(bonds, diag, x), dtype=float)
        if v0 is not None and np.shape(v0) != (n,):
            raise InvalidInputError(f"v0 must have shape ({n},), got {np.shape(v0)}")
        if v0 is None:  # ARPACK's own start is random: fix it so results are reproducible
            v0 = np.random.default_rng(0).standard_normal(n)
        try:
            if method == "lanczos":
                w, v = eigsh(a_op, k=1, which="SA", tol=0, v0=v0, maxiter=50 * n)
            else:
                fac = _factor_below(bonds, b, guess)
                inv = LinearOperator((n, n), matvec=fac.solve, dtype=float)
                w, v = eigsh(a_op, k=1, sigma=fac.shift, which="LM", OPinv=inv, tol=0, v0=v0)
        except ArpackNoConvergence as exc:
            raise ConvergenceError(
                f"Lanczos for lambda_min(A(beta={b:g})) did not converge: {exc}"
            ) from None
        lam, vec = float(w[0]), v[:, 0]
    else:
        raise InvalidInputError(
            f"unknown method {method!r}: use 'auto', 'dense', 'shift-invert', 'lobpcg' or "
            "'lanczos'"
        )
    vec = vec / np.linalg.norm(vec)
    res = float(np.linalg.norm(_apply_a(bonds, diag, vec) - lam * vec))
    deriv = float(np.dot(vec * vec, bonds.d) - 1.0 / b**2)
    return LambdaMin(b, lam, vec, deriv, res, method, iterations)


def tap_preconditioner(
    bonds: Bonds, beta: float, guess: float | None = None, *, dtype: type = np.float32
) -> TapFactor:
    """A positive definite factor of ``A(β) - σ`` (σ below λ_min) to precondition LOBPCG."""
    return _factor_below(bonds, validation.positive_beta(beta), guess, dtype=dtype, margin=5e-3)


def _lobpcg_min(
    bonds: Bonds,
    beta: float,
    diag: np.ndarray,
    guess: float | None,
    v0: np.ndarray | None,
    prec: TapFactor | None,
) -> tuple[float, np.ndarray, int]:
    import warnings

    from scipy.sparse.linalg import LinearOperator, lobpcg

    n = bonds.n
    if prec is None or not prec.positive_definite:
        if guess is None or v0 is None:
            theta, ritz = lanczos_estimate(bonds, diag)
            guess = theta if guess is None else guess
            v0 = ritz if v0 is None else v0
        prec = tap_preconditioner(bonds, beta, guess)
    a_op = LinearOperator(
        (n, n), matvec=lambda x: _apply_a(bonds, diag, x),
        matmat=lambda x: _apply_a(bonds, diag, x), dtype=float,
    )
    p_op = LinearOperator((n, n), matvec=prec.solve, matmat=prec.solve, dtype=float)
    rng = np.random.default_rng(0)  # fixed start: reproducible results
    if v0 is None:
        x0 = rng.standard_normal((n, 2))  # a block of 2 converges ~2x faster from scratch
    else:  # one vector: LOBPCG stops only when every vector of the block has converged
        x0 = np.asarray(v0, dtype=float).reshape(n, 1)
    scale = float(np.max(np.abs(diag)))
    # residual 1e-12·‖A‖: λ is then exact to rounding and the Hellmann–Feynman derivative
    # (first order in the eigenvector error) to ~1e-12, which β_c at rtol 1e-10 needs
    tol = 1e-12 * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is checked below, not warned about
        w, v, hist = lobpcg(
            a_op, x0, M=p_op, largest=False, tol=tol, maxiter=400,
            retResidualNormsHistory=True,
        )
    vec = v[:, 0] / np.linalg.norm(v[:, 0])
    lam = float(w[0])
    res = float(np.linalg.norm(_apply_a(bonds, diag, vec) - lam * vec))
    if res > 1e-9 * scale:
        raise ConvergenceError(
            f"LOBPCG for lambda_min(A(beta={beta:g})) stalled at residual {res:.1e}"
        )
    return lam, vec, len(hist)


def _factor_below(
    bonds: Bonds,
    beta: float,
    guess: float | None,
    *,
    dtype: type = np.float64,
    margin: float = 1e-3,
) -> TapFactor:
    """A positive definite factorisation of ``A - σ`` with ``σ`` a little below λ_min.

    Starts from ``guess`` (or a crude estimate) and backs off geometrically; each miss
    costs one (partial) factorisation.
    """
    diag = tap_diagonal(bonds, beta)
    scale = float(np.max(np.abs(diag)))
    if guess is None:
        guess = lanczos_estimate(bonds, diag)[0]
    step = margin * scale
    for _ in range(60):
        fac = factor_tap(bonds, beta, guess - step, dtype=dtype)
        if fac.positive_definite:
            return fac
        step *= 4.0
    raise ConvergenceError(f"no shift makes A(beta={beta:g}) - sigma positive definite")


def lanczos_estimate(
    bonds: Bonds, diag: np.ndarray, steps: int = 30
) -> tuple[float, np.ndarray]:
    """A few Lanczos steps: the lowest Ritz value (≥ λ_min) and its Ritz vector.

    Cheap (``steps`` matvecs) and only an estimate: it places the shift of a
    preconditioner and starts LOBPCG; the back-off in :func:`_factor_below` makes it safe.
    """
    n = bonds.n
    m = min(steps, n)
    q = np.random.default_rng(1).standard_normal(n)
    q /= np.linalg.norm(q)
    basis = np.empty((m, n))
    alpha, beta = np.empty(m), np.empty(max(m - 1, 0))
    prev = np.zeros(n)
    for k in range(m):
        basis[k] = q
        w = _apply_a(bonds, diag, q)
        alpha[k] = q @ w
        w -= alpha[k] * q + (beta[k - 1] * prev if k else 0.0)
        w -= basis[: k + 1].T @ (basis[: k + 1] @ w)  # full re-orthogonalisation: m is small
        if k == m - 1:
            break
        beta[k] = np.linalg.norm(w)
        if beta[k] == 0:
            m = k + 1
            break
        prev, q = q, w / beta[k]
    import scipy.linalg

    theta, s = scipy.linalg.eigh_tridiagonal(alpha[:m], beta[: m - 1], select="i",
                                             select_range=(0, 0))
    vec = basis[:m].T @ s[:, 0]
    return float(theta[0]), vec / np.linalg.norm(vec)


@tap_blas
def lambda_min_curve(
    bonds: Bonds, betas: np.ndarray, *, method: Method = "auto"
) -> np.ndarray:
    """``λ_min(A(β))`` on a grid of β (shape ``(len(betas),)``), warm-started along it."""
    out = np.empty(len(betas))
    prev: LambdaMin | None = None
    for i, beta in enumerate(np.asarray(betas, dtype=float)):
        guess = None
        if prev is not None:
            guess = prev.value + prev.derivative * (beta - prev.beta) - abs(beta - prev.beta)
        prev = lambda_min(
            bonds,
            beta,
            method=method,
            guess=guess,
            v0=None if prev is None or method == "dense" else prev.vector,
        )
        out[i] = prev.value
    return out
