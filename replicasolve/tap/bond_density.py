"""Limiting eigenvalue density of the random layered bond matrix ``J`` at initialisation.

``J`` is symmetric block tridiagonal with zero diagonal blocks; block ``(l, l-1)`` is
``W^l`` with iid entries of mean 0 and variance ``C_l / N_{l-1}`` (Kaiming normal for
``C_l = 2``; Barney, Winer & Galitski, arXiv 2408.06421). For two layers the nonzero
eigenvalues are ``±`` the singular values of ``W``, whose squares follow the
Marchenko–Pastur law (Marchenko & Pastur 1967). For any number of layers the density as
``N → ∞`` at fixed layer fractions ``n_l = N_l / N`` is the solution of the vector Dyson
(quadratic vector) equation of a Wigner-type matrix with a variance profile (Girko 1988;
Ajanki, Erdős & Krüger, "Quadratic vector equations on complex upper half-plane",
Mem. AMS 261 (2019), arXiv:1506.05095)::

    -1/g_l(z) = z + Σ_k T_lk g_k(z),      l = 0..L,   Im z > 0,  Im g_l > 0,
    T_{l,l-1} = C_l,   T_{l,l+1} = C_{l+1} N_{l+1} / N_l,   all other T_lk = 0,

where ``g_l(z) = lim (1/N_l) Σ_{i∈l} [(J - z)^{-1}]_ii`` is the Stieltjes transform of
layer ``l``'s share of the spectrum (each ``g_l`` is the transform of a probability
measure). ``T_lk = N s_lk n_k`` with ``s_lk`` the variance of ``J_ij``, ``i∈l, j∈k``; its
row sums ``r_l = C_l + C_{l+1} N_{l+1}/N_l`` are ``Σ_j E J_ij²`` for ``i`` in layer ``l``.
The whole spectrum has ``m(z) = Σ_l n_l g_l(z)`` and density ``ρ(x) = Im m(x + i0) / π``
per unit ``x``, normalised so that ``∫ρ + atom = 1`` over all ``N`` eigenvalues.

The derivation and its sympy checks (reduction to Marchenko–Pastur and to the semicircle,
the moments, the two-layer edge) are in ``derivations/layered_bond_density.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import validation
from ..errors import ConvergenceError, InvalidInputError

__all__ = [
    "BondDensity",
    "bond_density",
    "bond_density_atom",
    "bond_density_solve",
    "bond_stieltjes",
    "bond_support_edge",
    "coupling_matrix",
]

Sizes = Sequence[int] | str
Variance = float | Sequence[float] | str

_ETA_MIN = 1e-10  # in units of the support radius bound: the η reached before η = 0
_X0 = 1e-8  # where ρ_ac(0+) is evaluated for x = 0 (units of the radius)
_NEWTON_TOL = 1e-13
_NEWTON_MAX = 30


def _setup(layer_sizes: Sizes, variance: Variance) -> tuple[tuple[int, ...], tuple[float, ...]]:
    sizes = validation.layer_sizes(layer_sizes)
    try:
        c = validation.variances(variance, len(sizes) - 1)
    except (TypeError, ValueError) as exc:  # e.g. a list holding a non-number
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"variance must be numbers, got {variance!r}") from None
    return sizes, c


def coupling_matrix(layer_sizes: Sizes, variance: Variance = 2.0) -> np.ndarray:
    """The matrix ``T`` of the vector Dyson equation, shape ``(L+1, L+1)``.

    ``T_{l,l-1} = C_l``, ``T_{l,l+1} = C_{l+1} N_{l+1} / N_l`` (dimensionless). Its row
    sums are the mean squared couplings ``Σ_j E J_ij²`` of a spin in layer ``l``;
    ``diag(N) T`` is the symmetric matrix ``M`` of the replica expansion.
    """
    sizes, c = _setup(layer_sizes, variance)
    return _coupling(sizes, c)


def _coupling(sizes: tuple[int, ...], c: tuple[float, ...]) -> np.ndarray:
    n = len(sizes)
    t = np.zeros((n, n))
    for l in range(1, n):
        t[l, l - 1] = c[l - 1]
        t[l - 1, l] = c[l - 1] * sizes[l] / sizes[l - 1]
    return t


def bond_density_atom(layer_sizes: Sizes, variance: Variance = 2.0) -> float:
    """Weight of the atom at ``x = 0`` in the limiting spectrum of ``J`` (fraction of ``N``).

    ``J = [[0, B], [Bᵀ, 0]]`` in the even/odd-layer split, so ``rank J = 2 rank B``. A
    Gaussian ``B`` with this block pattern has, almost surely, the largest rank the pattern
    allows: the size of a maximum matching between the layers (complete bipartite blocks
    between neighbours only). On a chain of layers matching greedily from layer 0 is
    optimal (a leaf layer's spins can only pair with the next layer). The atom is
    ``1 - 2 · matching / N``; it does not depend on the variances (all ``C_l > 0``).
    """
    sizes, _ = _setup(layer_sizes, variance)
    matched = 0
    free = sizes[0]  # spins of the current layer not yet matched to the previous one
    for nxt in sizes[1:]:
        pairs = min(free, nxt)
        matched += pairs
        free = nxt - pairs
    return 1.0 - 2.0 * matched / sum(sizes)


def _radius_bound(t: np.ndarray) -> float:
    # supp ρ ⊂ [-2‖T‖∞^{1/2}, 2‖T‖∞^{1/2}] (Ajanki–Erdős–Krüger, QVE paper): the natural
    # scale of the problem, used for η and for tolerances
    return 2.0 * float(np.sqrt(np.max(t.sum(axis=1))))


def _residual(g: np.ndarray, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    # polynomial form g ∘ (z + T g) + 1: no poles, so Newton is well defined everywhere
    return g * (z[:, None] + g @ t.T) + 1.0


def _scaled_residual(g: np.ndarray, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Backward error of ``g``: ``|F_l|`` over the size of the terms that make it, per row.

    Near ``z = 0`` and at an atom ``g`` is large and ``z + T g`` small; their product is
    only known to round-off relative to ``|g| (|z| + |T| |g|)``, not to 1.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        f = np.abs(_residual(g, z, t))
        size = 1.0 + np.abs(g) * (np.abs(z)[:, None] + np.abs(g) @ np.abs(t).T)
        return np.max(f / size, axis=1)


def _newton_step(g: np.ndarray, z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Newton correction for ``F(g) = g ∘ (z + T g) + 1`` (rows independent)."""
    f = _residual(g, z, t)
    diag = z[:, None] + g @ t.T  # ∂F_l/∂g_l (T has a zero diagonal)
    n = t.shape[0]
    if n == 1:  # pragma: no cover - at least two layers are enforced
        return -f / diag
    lower = g[:, 1:] * np.diag(t, -1)[None, :]  # ∂F_l/∂g_{l-1}, l = 1..n-1
    upper = g[:, :-1] * np.diag(t, 1)[None, :]  # ∂F_l/∂g_{l+1}, l = 0..n-2
    # Thomas algorithm, vectorised over the rows: the Jacobian is tridiagonal, so this is
    # O(rows · layers) instead of a batched dense solve's O(rows · layers³)
    cp = np.empty_like(upper)
    dp = np.empty_like(f)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = diag[:, 0]
        cp[:, 0] = upper[:, 0] / den
        dp[:, 0] = f[:, 0] / den
        for l in range(1, n):
            den = diag[:, l] - lower[:, l - 1] * cp[:, l - 1]
            if l < n - 1:
                cp[:, l] = upper[:, l] / den
            dp[:, l] = (f[:, l] - lower[:, l - 1] * dp[:, l - 1]) / den
        x = np.empty_like(f)
        x[:, -1] = dp[:, -1]
        for l in range(n - 2, -1, -1):
            x[:, l] = dp[:, l] - cp[:, l] * x[:, l + 1]
    bad = ~np.all(np.isfinite(x), axis=1)
    if np.any(bad):  # a zero pivot without pivoting: rare, so solve those rows densely
        jac = np.zeros((int(bad.sum()), n, n), dtype=complex)
        idx = np.arange(n)
        jac[:, idx, idx] = diag[bad]
        jac[:, idx[1:], idx[:-1]] = lower[bad]
        jac[:, idx[:-1], idx[1:]] = upper[bad]
        try:
            x[bad] = np.linalg.solve(jac, f[bad][..., None])[..., 0]
        except np.linalg.LinAlgError:
            x[bad] = np.nan
    return -x


def _newton(
    g: np.ndarray, z: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Newton iterations from ``g`` (rows independent); returns the solution and a mask of
    the rows that converged (relative step or backward error below 1e-13)."""
    g = g.copy()
    active = np.ones(g.shape[0], dtype=bool)
    done = np.zeros(g.shape[0], dtype=bool)
    for _ in range(_NEWTON_MAX):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        step = _newton_step(g[idx], z[idx], t)
        finite = np.all(np.isfinite(step), axis=1)
        active[idx[~finite]] = False  # cannot progress: left as not converged
        idx, step = idx[finite], step[finite]
        g[idx] += step
        size = np.max(np.abs(step), axis=1) / np.maximum(np.max(np.abs(g[idx]), axis=1), 1e-300)
        # a near-singular Jacobian (z ≈ 0, where even and odd layers can be rescaled
        # against each other) limits the attainable step size, not the backward error
        small = (size < _NEWTON_TOL) | (_scaled_residual(g[idx], z[idx], t) < _NEWTON_TOL)
        done[idx[small]] = True
        active[idx[small]] = False
    res = _scaled_residual(g, z, t)
    return g, done & np.isfinite(res) & (res < 1e-11)


def _walk_down(x: np.ndarray, t: np.ndarray, eta_min: float, eta0: float) -> np.ndarray:
    """``g(x + iη_min)`` by continuation in ``η`` from ``η0`` (adaptive, per point).

    At large ``η`` the solution is ``≈ -1/z`` and unique; following it down in small
    relative steps with Newton keeps it on the physical branch (``Im g > 0``). A step that
    fails to converge or leaves the upper half-plane is retried with a smaller ratio.
    """
    k = x.size
    n = t.shape[0]
    eta = np.full(k, eta0)
    ratio = np.full(k, 0.3)
    z0 = x + 1j * eta
    g = np.repeat((-1.0 / z0)[:, None], n, axis=1)
    g, conv = _newton(g, z0, t)
    if not np.all(conv):
        raise ConvergenceError("vector Dyson equation: no solution found at the starting η")
    for _ in range(100_000):
        active = eta > eta_min
        if not np.any(active):
            break
        idx = np.flatnonzero(active)
        new_eta = np.maximum(eta[idx] * ratio[idx], eta_min)
        z = x[idx] + 1j * new_eta
        g_old = g[idx]
        g_new, conv = _newton(g_old, z, t)
        # the solution with every Im g_l > 0 is unique (Ajanki–Erdős–Krüger, QVE paper), so
        # a converged Newton solve in the upper half-plane is the physical branch
        ok = conv & np.all(g_new.imag > 0, axis=1)
        acc, rej = idx[ok], idx[~ok]
        g[acc] = g_new[ok]
        eta[acc] = new_eta[ok]
        ratio[acc] = np.maximum(ratio[acc] ** 1.5, 0.05)  # grow the step after a success
        ratio[rej] = np.sqrt(ratio[rej])
        if np.any(ratio[rej] > 1 - 1e-9):
            raise ConvergenceError(
                "vector Dyson equation: the η continuation stalled at "
                f"x = {x[rej][ratio[rej] > 1 - 1e-9][0]!r}"
            )
    else:  # pragma: no cover - the step ratio guarantees progress
        raise ConvergenceError("vector Dyson equation: η continuation did not finish")
    return g


@dataclass(frozen=True, eq=False)
class BondDensity:
    """Limiting spectral density of the random layered ``J``, solved on a grid of ``x``.

    Attributes:
        x: evaluation points, shape ``(K,)`` (flattened input).
        density: absolutely continuous density ``ρ(x)`` per unit ``x``, shape ``(K,)``;
            ``∫ρ dx = 1 - atom``.
        layer_density: ``ρ_l(x) = Im g_l(x + i0) / π`` of each layer, shape ``(K, L+1)``;
            ``density = Σ_l n_l ρ_l``.
        stieltjes: ``g_l(x + i0)``, shape ``(K, L+1)`` (at ``x + iη_min`` where the
            ``η = 0`` polish was not accepted, see ``polished``).
        polished: whether the value at ``η = 0`` exactly was accepted, shape ``(K,)``;
            elsewhere (only within ``~η_min`` of an edge or of a zero of the Jacobian) the
            value at ``η_min`` is used.
        atom: weight of the atom at 0 (:func:`bond_density_atom`).
        eta_min: the smallest positive ``η`` of the continuation, in units of ``x``.
        residual: ``max |g ∘ (z + T g) + 1|`` over the grid.
        converged: whether every point converged (``False`` never escapes: an error is
            raised instead; kept for the record).
        layer_sizes: ``N_0..N_L``.
        variance: ``C_1..C_L``.
    """

    x: np.ndarray
    density: np.ndarray
    layer_density: np.ndarray
    stieltjes: np.ndarray
    polished: np.ndarray
    atom: float
    eta_min: float
    residual: float
    converged: bool
    layer_sizes: tuple[int, ...]
    variance: tuple[float, ...]


def _finite_x(x: object, name: str = "x") -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be real numbers, got {x!r}") from None
    if arr.size == 0:
        raise InvalidInputError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} has NaN or infinite entries")
    return arr


def bond_stieltjes(layer_sizes: Sizes, variance: Variance, z: object) -> np.ndarray:
    """Layer-resolved Stieltjes transforms ``g_l(z)`` for ``Im z > 0``.

    Args:
        layer_sizes: ``N_0..N_L`` (only the fractions ``N_l / N`` matter).
        variance: ``C`` or ``C_1..C_L`` (weights ``~ N(0, C_l / N_{l-1})``).
        z: complex points with positive imaginary part, any shape ``S``.

    Returns:
        complex array of shape ``S + (L+1,)``; ``m(z) = Σ_l (N_l/N) g_l(z)``.
    """
    sizes, c = _setup(layer_sizes, variance)
    zz = np.asarray(z, dtype=complex)
    if zz.size == 0 or not np.all(np.isfinite(zz)):
        raise InvalidInputError("z must be non-empty and finite")
    if np.any(zz.imag <= 0):
        raise InvalidInputError("z must have a positive imaginary part (use bond_density "
                                "for the real axis)")
    t = _coupling(sizes, c)
    flat = zz.ravel()
    radius = _radius_bound(t)
    out = np.empty((flat.size, len(sizes)), dtype=complex)
    # walk every point down in η from well above the spectrum to its own Im z
    for eta in np.unique(flat.imag):
        sel = flat.imag == eta
        g = _walk_down(flat.real[sel], t, eta, max(4.0 * radius, 2.0 * eta))
        out[sel] = g
    return out.reshape((*zz.shape, len(sizes)))


def bond_density_solve(
    layer_sizes: Sizes, variance: Variance, x: object
) -> BondDensity:
    """Solve the vector Dyson equation on the real axis; see :class:`BondDensity`.

    Method: for every ``x`` (vectorised), Newton's method on ``g ∘ (z + T g) + 1 = 0``
    along ``z = x + iη`` with ``η`` walked down adaptively from ``4R`` to ``η_min =
    1e-10 R`` (``R = 2‖T‖∞^{1/2}`` bounds the support), then one more Newton solve at
    ``η = 0`` exactly, accepted when it converges, stays in the closed upper half-plane and
    leads back to the ``η_min`` solution (same branch). ``x = 0`` is reported as the limit
    ``x → 0+`` (evaluated at ``x = 1e-8 R``): there the equation is degenerate, an atom may
    sit, and the density may diverge (``2k`` equal layers give ``ρ ~ |x|^{-(k-1)/(k+1)}``,
    integrable; found numerically for k = 2, 3, 20), in which case the value is large but finite.

    Raises:
        InvalidInputError: sizes < 1, non-positive or non-finite variance, non-finite x.
        ConvergenceError: Newton failed at some ``x`` (never silently).
    """
    sizes, c = _setup(layer_sizes, variance)
    xs = _finite_x(x).ravel()
    t = _coupling(sizes, c)
    radius = _radius_bound(t)
    atom = bond_density_atom(sizes, c)
    xe = xs.copy()
    # z = 0 is degenerate (even layers can be scaled against odd ones), and the density can
    # diverge there: report the limit x → 0+ instead (the density is even)
    xe[xe == 0] = _X0 * radius
    eta_min = _ETA_MIN * radius
    g_eta = _walk_down(xe, t, eta_min, 4.0 * radius)
    g0, conv = _newton(g_eta, xe.astype(complex), t)
    scale = np.max(np.abs(g_eta), axis=1)
    # η = 0 can have several roots with Im g ≥ 0 (outside the support, two real ones near
    # an edge); accept the polished one only if Newton at η_min leads from it back to the
    # unique upper-half-plane solution, i.e. it is the continuation of the physical branch
    g_back, back_conv = _newton(g0, xe + 1j * eta_min, t)
    accept = (
        conv
        & back_conv
        & np.all(g0.imag >= -1e-12 * scale[:, None], axis=1)
        & (np.max(np.abs(g_back - g_eta), axis=1) <= 1e-8 * scale)
    )
    g = np.where(accept[:, None], g0, g_eta)
    g = g.real + 1j * np.maximum(g.imag, 0.0)  # round-off below the axis is not density
    z = xe + 1j * np.where(accept, 0.0, eta_min)
    res = _scaled_residual(g, z, t)
    if not np.all(res < 1e-10):
        bad = xs[np.argmax(res)]
        raise ConvergenceError(
            f"vector Dyson equation not solved at x = {bad!r} (residual {res.max():.1e})"
        )
    frac = np.asarray(sizes, dtype=float) / sum(sizes)
    layer_rho = g.imag / np.pi
    rho = layer_rho @ frac
    if atom > 0:
        # at η_min the atom's Lorentzian adds atom·η/(π x²): remove it where η_min was kept
        kept = ~accept
        rho[kept] = np.maximum(
            rho[kept] - atom * eta_min / (np.pi * (xe[kept] ** 2 + eta_min**2)), 0.0
        )
    return BondDensity(
        x=xs,
        density=rho,
        layer_density=layer_rho,
        stieltjes=g,
        polished=accept,
        atom=atom,
        eta_min=eta_min,
        residual=float(res.max()),
        converged=True,
        layer_sizes=sizes,
        variance=c,
    )


def bond_density(
    layer_sizes: Sizes, variance: Variance = 2.0, x: object = None
) -> np.ndarray:
    """Limiting density of the eigenvalues of the random layered ``J`` (``N → ∞``).

    Args:
        layer_sizes: ``N_0..N_L`` (only the fractions ``N_l / N`` matter).
        variance: ``C`` or ``C_1..C_L``: weights into layer ``l`` have variance
            ``C_l / N_{l-1}`` (default 2, Kaiming normal).
        x: eigenvalue positions, any shape.

    Returns:
        ``ρ(x)`` per unit ``x``, same shape as ``x``: the absolutely continuous part,
        normalised over all ``N`` eigenvalues, so ``∫ρ dx = 1 - bond_density_atom(...)``
        (the atom at 0, present when the layers cannot all be matched, is *not* in it).
        Two layers: ``ρ(x) = (2 N_0 / N) |x| ρ_MP(x²)`` with ``ρ_MP`` the Marchenko–Pastur
        density of ``WᵀW``; two equal layers: the semicircle of variance ``C``.

    Raises:
        InvalidInputError: bad sizes, variances or ``x``.
        ConvergenceError: the solver failed (never silently).
    """
    if x is None:
        raise InvalidInputError("x is required: the points where the density is evaluated")
    arr = _finite_x(x)
    return bond_density_solve(layer_sizes, variance, arr).density.reshape(arr.shape)


def _feasible(t: np.ndarray, x: float, slack: float, max_iter: int) -> tuple[bool | None,
                                                                          np.ndarray]:
    """Is ``max_l (1/u_l + (T u)_l) ≤ x (1 + slack)`` solvable with ``u > 0``?

    Monotone iteration ``u ← 1/(x - T u)`` from ``u = 0``: the iterates increase, and
    ``h(u) = 1/u + T u`` equals ``x + T (u_k - u_{k-1})`` at each iterate; once that is
    within ``x · slack`` of ``x`` the iterate is a certificate (yes); a denominator
    reaching 0 means no solution for ``x`` (no). ``None`` if ``max_iter`` did not decide.
    """
    u = np.zeros(t.shape[0])
    for _ in range(max_iter):
        den = x - t @ u
        if np.any(den <= 0):
            return False, u
        new = 1.0 / den
        if np.max(t @ (new - u)) <= slack * x:
            return True, new
        u = new
    return None, u


def _fold_newton(t: np.ndarray, u: np.ndarray, x: float) -> tuple[np.ndarray, float, float]:
    """Newton's method on the edge conditions from ``(u, x)``.

    Unknowns ``u`` (n), ``λ`` (n), ``x``; equations ``1/u + T u - x = 0``,
    ``Tᵀλ - λ/u² = 0`` and ``Σ λ = 1``. At a square-root edge this system is regular, so
    Newton converges quadratically. Returns ``u``, ``x`` and the scaled residual.
    """
    n = t.shape[0]
    # starting λ: the null vector of Tᵀ - diag(1/u²) closest to singular
    w, vecs = np.linalg.eig(t.T - np.diag(1.0 / u**2))
    lam = np.abs(np.real(vecs[:, np.argmin(np.abs(w))]))
    lam = lam / lam.sum()
    idx = np.arange(n)
    res = np.inf
    for _ in range(50):
        f = np.concatenate([1.0 / u + t @ u - x, t.T @ lam - lam / u**2, [lam.sum() - 1.0]])
        res = float(np.max(np.abs(f[:n]) / x)) + float(np.max(np.abs(f[n:])))
        jac = np.zeros((2 * n + 1, 2 * n + 1))
        jac[:n, :n] = t
        jac[idx, idx] -= 1.0 / u**2
        jac[:n, 2 * n] = -1.0
        jac[n + idx, idx] = 2.0 * lam / u**3
        jac[n : 2 * n, n : 2 * n] = t.T
        jac[n + idx, n + idx] -= 1.0 / u**2
        jac[2 * n, n : 2 * n] = 1.0
        try:
            step = np.linalg.solve(jac, -f)
        except np.linalg.LinAlgError:
            break
        # damp so that u stays positive
        shrink = np.min(np.where(step[:n] < 0, -0.5 * u / np.minimum(step[:n], -1e-300), 1.0))
        a = min(1.0, float(shrink))
        u = u + a * step[:n]
        lam = lam + a * step[n : 2 * n]
        x = x + a * float(step[2 * n])
        if a == 1.0 and np.max(np.abs(step[:n]) / u) < 1e-15 and abs(step[2 * n]) < 1e-15 * x:
            break
    f = np.concatenate([1.0 / u + t @ u - x, t.T @ lam - lam / u**2])
    res = float(np.max(np.abs(f[:n]) / x)) + float(np.max(np.abs(f[n:]) * u**2 / lam.max()))
    return u, x, res


def bond_support_edge(layer_sizes: Sizes, variance: Variance = 2.0) -> float:
    """Right edge of the support of the limiting spectrum of ``J`` (``λ_max(J)``, ``N → ∞``).

    Same units as the eigenvalues of ``J``. For ``x`` above the spectrum the physical
    solution is real, ``g_l = -u_l`` with ``u_l > 0`` and ``x = 1/u_l + (T u)_l`` for every
    ``l``. Such a ``u`` exists iff ``max_l (1/u_l + (T u)_l) ≤ x`` has a solution
    (the monotone iteration ``u ← 1/(x - T u)`` from 0 then converges), so the edge is
    ``min_{u > 0} max_l (1/u_l + (T u)_l)``, a convex problem. Method: bisection on ``x``
    with the monotone iteration as the test (to 1e-4 relative), then Newton's method on the
    edge conditions (all terms equal, and ``diag(u²) T`` has Perron root 1: the stability
    operator of the Dyson equation turns singular, a square-root edge). The Newton result
    is accepted only inside the bisection bracket and with Perron root 1 to 1e-9, else
    :class:`ConvergenceError`.

    Two layers: ``√C (1 + √(N_1/N_0))`` (Marchenko–Pastur); many equal layers:
    ``→ 2√(2C)`` from below.

    Raises:
        InvalidInputError: bad sizes or variances.
        ConvergenceError: the edge conditions could not be solved.
    """
    sizes, c = _setup(layer_sizes, variance)
    t = _coupling(sizes, c)
    radius = _radius_bound(t)
    # lower bound: the edge is at least the root mean square of the spectrum,
    # √m2 = √(Σ_l n_l r_l), since m2 ≤ edge² (the density is supported in [-edge, edge])
    frac = np.asarray(sizes, dtype=float) / sum(sizes)
    lo, hi = float(np.sqrt(frac @ t.sum(axis=1))) * (1 - 1e-12), radius * (1 + 1e-12)
    # bisection only to 1e-4: the monotone iteration slows down like 1/√(distance) near the
    # edge, while Newton on the (regular) edge conditions converges from there
    u_hi = None
    while hi - lo > 1e-4 * hi:
        mid = 0.5 * (lo + hi)
        ok, u = _feasible(t, mid, 1e-6, 200_000)
        if ok is None:  # pragma: no cover - 200000 steps decide at 1e-4 from the edge
            raise ConvergenceError(f"edge of the bond spectrum: bisection stalled at {mid!r}")
        if ok:
            hi, u_hi = mid * (1 + 1e-6), u
        else:
            lo = mid
    if u_hi is None:
        _, u_hi = _feasible(t, hi, 1e-6, 200_000)
    u, x, res = _fold_newton(t, u_hi, hi)
    perron = float(np.max(np.abs(np.linalg.eigvals((u**2)[:, None] * t))))
    if not (np.all(u > 0) and res < 1e-10 and abs(perron - 1.0) < 1e-9
            and lo * (1 - 1e-9) <= x <= hi * (1 + 1e-9)):
        raise ConvergenceError(
            f"edge of the bond spectrum not found for sizes {sizes}, C = {c}: bracket "
            f"[{lo!r}, {hi!r}], Newton gave {x!r} (residual {res:.1e}, Perron root {perron!r})"
        )
    return float(x)
