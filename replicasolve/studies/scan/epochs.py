"""TAP scan of every snapshot of a training run (Barney, Winer & Galitski, arXiv 2408.06421,
section 3).

Each epoch's weights ``W^1..W^L`` are read as the couplings of an Ising model (biases are
not couplings) and measured with the TAP engine of :mod:`replicasolve.tap`:

- ``β_c`` by the finite-size corrected definition: ``θ = min_β λ_min(A_0(β))`` of the
  untrained network (epoch 0) and ``β_c(t)`` the first β where ``λ_min(A_t(β))`` reaches
  θ. This is ``tap_critical(bonds, definition="corrected", reference=epoch0)``, which is
  the same computation as ``definition="threshold", threshold=θ``; the scan computes θ
  once, not once per epoch.
- the plain ``β_c`` (``λ_min`` reaches 0), NaN where it never does;
- the level statistics of ``A(β_c)``, ``λ_max(J)``, the relative change of the Onsager
  diagonal ``d`` against epoch 0, and the errors and loss recorded with the snapshot.

Speed (the MNIST network 784-512-512-512-10, N = 2330, 61 snapshots): β_c is searched by
safeguarded Newton steps from the previous epochs' β_c (extrapolated), starting LOBPCG from
the previous epoch's soft mode (training moves the weights little per epoch), so a search
costs two or three LOBPCG solves; one dense eigenvalue solve of ``A(β_c)`` per epoch gives
the level statistics and also checks the last Newton iterate, and ``λ_max(J)`` is Lanczos
on the matvec of the bonds started from the previous epoch's top vector. Anything the warm
search cannot decide cleanly (a tangency, a search that does not bracket) is handed to
:func:`replicasolve.tap.critical.tap_critical`, so the answers are the engine's. On 2 cores
the scan of such a run takes ~55 s (``benchmarks/bench_scan_epochs.py``), three quarters
of it in the dense eigenvalue solves.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...blas import blas_threads
from ...errors import ConvergenceError, InvalidInputError, ReplicaSolveError
from ...models.msk import msk_critical
from ...netcdf import read_netcdf, write_netcdf
from ...progress import Reporter
from ...tap.bonds import LayeredBonds
from ...tap.critical import tap_critical, tap_minimum
from ...tap.matrix import (
    LambdaMin,
    TapFactor,
    factor_tap,
    lambda_min,
    tap_diagonal,
    tap_preconditioner,
)
from ...tap.spectra import diagonal_change, level_stats
from ...version import __version__
from ..train.snapshots import (
    SnapshotError,
    list_snapshots,
    read_run_settings,
    read_snapshot,
    snapshot_path,
)

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["load_scan", "save_scan", "scan_run"]

# variables of the Dataset, with their units and long names (other code depends on them)
_PER_EPOCH: dict[str, tuple[str, str]] = {
    "beta_c": (
        "1/energy (energy in units of the couplings J)",
        "TAP critical inverse temperature (definition in attrs['definition'])",
    ),
    "T_c": ("energy (units of the couplings J)", "TAP critical temperature 1/beta_c"),
    "crossed": (
        "1",
        "1 if lambda_min(A(beta)) reaches the threshold, 0 if not (beta_c is then the "
        "point of closest approach)",
    ),
    "beta_c_plain": (
        "1/energy (energy in units of the couplings J)",
        "first beta where lambda_min(A(beta)) = 0 (NaN where it never reaches 0)",
    ),
    "crossed_plain": ("1", "1 if lambda_min(A(beta)) reaches 0, else 0"),
    "lambda_min_at_beta_c": (
        "energy (units of the couplings J)",
        "lowest eigenvalue of A(beta_c) from the dense spectrum (= threshold when crossed)",
    ),
    "lambda_max_J": ("energy (units of the couplings J)", "largest eigenvalue of J"),
    "first_spacing": (
        "energy (units of the couplings J)",
        "gap between the two smallest eigenvalues of A(beta_c)",
    ),
    "median_spacing": (
        "energy (units of the couplings J)",
        "median nearest-neighbour spacing of the spectrum of A(beta_c)",
    ),
    "normalized_first_spacing": ("1", "first_spacing / median_spacing of A(beta_c)"),
    "d_change_max": ("1", "max_i |d_i - d_i(0)| / d_i(0), d_i = sum_j J_ij^2"),
    "d_change_norm": ("1", "||d - d(0)|| / ||d(0)||"),
    "d_change_mean": ("1", "|mean d - mean d(0)| / mean d(0)"),
    "train_error": ("1", "training error recorded with the snapshot"),
    "val_error": ("1", "validation error recorded with the snapshot"),
    "train_loss": ("1", "training loss recorded with the snapshot"),
}

Spectra = Literal["all"] | Sequence[int] | None


# --------------------------------------------------------------------------- λ_min search


class _Evaluator:
    """Memoised ``λ_min(A(β))`` of one epoch, warm-started from the nearest known point.

    Before the first evaluation of an epoch the nearest point is the previous epoch's
    answer (``hint``): its eigenvector starts LOBPCG and its value places the shift of the
    float32 preconditioner, which is factorised afresh for each epoch (one factorisation
    costs about one LOBPCG solve; the previous epoch's factor would double the iterations)
    and then serves every β of the epoch, as in the engine's own search.
    """

    _REBUILD_AFTER = 60

    def __init__(self, bonds: LayeredBonds, hint: LambdaMin | None = None) -> None:
        self.bonds = bonds
        self.dense = bonds.n <= 64  # the engine's own choice ("auto") for small instances
        self.cache: dict[float, LambdaMin] = {}
        self.prec: TapFactor | None = None
        self.hint = hint

    def _predict(self, beta: float) -> tuple[float | None, np.ndarray | None]:
        pool = list(self.cache.values()) or ([self.hint] if self.hint is not None else [])
        if not pool:
            return None, None
        near = min(pool, key=lambda r: abs(r.beta - beta))
        db = beta - near.beta
        # first-order prediction minus a margin: a preconditioner's shift must stay below
        return near.value + near.derivative * db - 4.0 * abs(db) - 1e-12, near.vector

    def __call__(self, beta: float) -> LambdaMin:
        beta = float(beta)
        if beta in self.cache:
            return self.cache[beta]
        guess, v0 = self._predict(beta)
        if self.dense:
            r = lambda_min(self.bonds, beta, method="dense")
        else:
            r = None
            if self.prec is not None:
                try:
                    r = lambda_min(
                        self.bonds, beta, method="lobpcg", v0=v0, preconditioner=self.prec
                    )
                except ConvergenceError:
                    r = None
                if r is not None and r.iterations > self._REBUILD_AFTER:
                    self.prec = None  # still a valid answer; refresh for the next β
            if r is None:
                if guess is None:
                    r = lambda_min(self.bonds, beta, method="lobpcg", v0=v0)
                    guess = r.value
                self.prec = tap_preconditioner(self.bonds, beta, guess)
                if r is None:
                    r = lambda_min(
                        self.bonds, beta, method="lobpcg", v0=v0, preconditioner=self.prec
                    )
        self.cache[beta] = r
        return r

    def nearest(self, beta: float) -> LambdaMin:
        """The evaluated point nearest to ``beta`` (there must be one)."""
        return min(self.cache.values(), key=lambda r: abs(r.beta - beta))


@dataclass(frozen=True)
class _Crossing:
    beta: float  # first crossing; NaN when not crossed
    crossed: bool
    # dλ_min/dβ near ``beta`` when the answer still has to be checked by the caller (a
    # provisional Newton iterate); NaN when it is certified by Cholesky factorisations
    slope: float = math.nan
    engine: bool = False  # whether the engine (tap_critical) had to decide


def _band(bonds: LayeredBonds, beta: float) -> float:
    """λ differences below this are rounding: the engine's tangency band (tap_critical)."""
    return 1e-11 * float(np.max(tap_diagonal(bonds, beta)))


def _warm_crossing(
    ev: _Evaluator,
    theta: float,
    beta0: float,
    rtol: float,
    *,
    want_min: bool,
    provisional: bool = False,
    max_steps: int = 60,
) -> _Crossing | None:
    """First β with ``λ_min(A(β)) = θ``, searched from ``beta0``.

    Assumes, as :func:`~replicasolve.tap.critical.tap_minimum` does, that ``λ_min(A(β))``
    has one minimum, so a point with ``λ > θ`` and ``dλ/dβ < 0`` lies left of the first
    crossing and a point with ``λ ≤ θ`` right of it. Uses ``λ'' ≤ 2/β³`` (second-order
    perturbation theory: ``A'' = 2/β³`` and the level-repulsion term is negative), which
    bounds the minimum from both sides without locating it.

    With ``provisional`` a Newton iterate whose last step was below ``0.1 sqrt(rtol) β``
    (so that its own error, quadratic in that step, is far below ``rtol β``) is returned
    unchecked, with its slope: the caller checks it against ``λ_min`` of the dense spectrum
    it computes there anyway, which saves the last λ_min solve and two factorisations.

    When ``λ_min`` stays above θ the result is not crossed, with ``beta`` the minimiser
    (to ``rtol``, as the engine reports it) if ``want_min``, else NaN (found sooner).
    Returns ``None`` when the answer is a tangency within rounding (``|min λ - θ|`` in the
    engine's band) or the search fails to bracket: the caller then asks the engine.
    """
    bonds = ev.bonds
    lo = hi = None  # lo: λ > θ and left of the first crossing; hi: λ ≤ θ
    gl = gr = None  # derivative bracket of the minimum: dλ/dβ < 0 at gl, ≥ 0 at gr
    beta = float(beta0)
    for _ in range(max_steps):
        r = ev(beta)
        f, g = r.value - theta, r.derivative
        if g < 0:
            gl = beta if gl is None else max(gl, beta)
        else:
            gr = beta if gr is None else min(gr, beta)
        if f <= 0:
            hi = beta if hi is None else min(hi, beta)
        elif g < 0 or (hi is not None and beta < hi):
            lo = beta if lo is None else max(lo, beta)
        if lo is not None and hi is not None and lo >= hi:
            return None  # not one minimum: let the engine look at it
        if lo is not None and hi is not None and hi - lo <= rtol * lo:
            return _certified(ev, theta, 0.5 * (lo + hi), lo)
        newton = beta - f / g if g < 0 else math.inf
        if provisional and g < 0 and abs(newton - beta) <= 0.1 * math.sqrt(rtol) * beta:
            res = _certified(ev, theta, newton, beta)
            return None if res is None else _Crossing(res.beta, True, slope=g)
        if g < 0 and abs(newton - beta) <= 0.25 * rtol * beta:
            # converged from either side: certify the sign change of A - θ by Cholesky
            below = factor_tap(bonds, newton * (1 - rtol / 4), theta).positive_definite
            above = not factor_tap(bonds, newton * (1 + rtol / 4), theta).positive_definite
            if below and above:
                return _certified(ev, theta, newton, beta)
        if lo is not None and hi is not None:
            beta = newton if lo < newton < hi else 0.5 * (lo + hi)
        elif lo is not None and gr is not None and gl is not None and gl < gr:
            # the minimum is in (gl, gr) and nothing there is ≤ θ yet: bound it from below
            # by λ(p) - λ* ≤ ½ max λ'' (p - β*)² ≤ (gr - gl)² / gl³ for p = gl, gr
            width = gr - gl
            lower = max(ev(gl).value, ev(gr).value) - width**2 / gl**3
            if lower - theta > 10 * _band(bonds, gr):
                if not want_min:
                    return _Crossing(math.nan, False)
                return _Crossing(_minimiser(ev, gl, gr, rtol), False)
            if width <= rtol * gl:
                return None  # a tangency (or nearly): the engine's rules decide
            if gl < newton < gr:
                beta = newton
            else:  # secant on the derivative, kept inside the middle of the bracket
                dl, dr = ev(gl).derivative, ev(gr).derivative
                s = gl - dl * width / (dr - dl) if dr != dl else gl + 0.5 * width
                beta = min(max(s, gl + 0.1 * width), gr - 0.1 * width)
        elif lo is not None:
            beta = min(newton, 1.5 * beta)  # Newton from the left; a flat λ: go on by 1.5
        else:  # nothing left of the crossing yet: go left
            if g < 0 and f <= 0 and 0.5 * beta < newton < beta:
                beta = newton
            else:
                beta = 0.8 * min(b for b in (hi, gr, beta) if b is not None)
        if not (beta > 0 and math.isfinite(beta)):
            return None
    return None


def _minimiser(ev: _Evaluator, lo: float, hi: float, rtol: float) -> float:
    """The root of ``dλ_min/dβ`` in ``(lo, hi)`` (a sign change), as the engine finds it."""
    from scipy.optimize import brentq

    return float(
        brentq(lambda b: ev(b).derivative, lo, hi, xtol=rtol * lo, rtol=4 * np.finfo(float).eps)
    )


def _certified(ev: _Evaluator, theta: float, root: float, near: float) -> _Crossing | None:
    """Accept ``root`` unless the crossing could be the engine's tangency case.

    With ``g`` the derivative at an evaluated point left of the root, ``λ'' ≤ 2/β³`` gives
    ``λ'(root) ≤ g + 2 (root - β)/β³ = -G``, hence ``min λ ≤ θ - G² root³ / 4``; when that
    is clearly below the engine's band the engine would not call it a tangency either.
    """
    r = ev.cache.get(near) or ev.nearest(near)
    steep = -(r.derivative + 2.0 * max(root - r.beta, 0.0) / r.beta**3)
    if steep <= 0 or steep**2 * root**3 / 4 <= 1e3 * _band(ev.bonds, 2 * root):
        return None
    return _Crossing(float(root), True)


def _crossing(
    ev: _Evaluator, theta: float, beta0: float, rtol: float, *, plain: bool,
    provisional: bool = False,
) -> _Crossing:
    """β_c for threshold θ as :func:`tap_critical` defines it.

    For ``plain`` a β that is not crossed is reported as NaN; otherwise (the scan's own
    definition) as the engine reports it: the point of closest approach.
    """
    res = _warm_crossing(ev, theta, beta0, rtol, want_min=not plain, provisional=provisional)
    if res is not None:
        return res
    if plain:
        tc = tap_critical(ev.bonds, definition="plain", rtol=rtol)
        return _Crossing(tc.beta_c if tc.crossed else math.nan, tc.crossed, engine=True)
    tc = tap_critical(ev.bonds, definition="threshold", threshold=theta, rtol=rtol)
    return _Crossing(tc.beta_c, tc.crossed, engine=True)


# --------------------------------------------------------------------------- dense pieces


@functools.lru_cache(maxsize=1)
def _two_stage() -> Any:
    """LAPACK's two-stage ``dsyev_2stage`` (eigenvalues only) from scipy's OpenBLAS, or None.

    scipy does not wrap it, but the OpenBLAS that scipy's wheels bundle exports its LAPACKE
    form (``scipy_LAPACKE_dsyev_2stage``, 32-bit integers: scipy's OpenBLAS is LP64). The
    first stage (full → band) is BLAS-3, so it runs 10–40% faster than ``dsyev`` at
    N ~ 2000 alone and up to 1.6× when another process competes for memory bandwidth. Any
    other BLAS setup (or a result that disagrees with ``scipy.linalg.eigvalsh`` on a test
    matrix) falls back to scipy.
    """
    import ctypes

    import scipy.linalg

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for lib in threadpool_info():
        path = str(lib.get("filepath", ""))
        if lib.get("internal_api") != "openblas" or "numpy" in path or "scipy" not in path:
            continue
        try:
            func = ctypes.CDLL(path).scipy_LAPACKE_dsyev_2stage
        except (OSError, AttributeError):
            continue
        func.restype = ctypes.c_int
        func.argtypes = [
            ctypes.c_int, ctypes.c_char, ctypes.c_char, ctypes.c_int,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
        ]
        m = np.random.default_rng(0).standard_normal((40, 40))
        m = np.asfortranarray(m + m.T)
        expect = scipy.linalg.eigvalsh(m)
        w = np.empty(40)
        if func(102, b"N", b"L", 40, m.ctypes.data, 40, w.ctypes.data) != 0:
            continue
        if np.allclose(np.sort(w), expect, rtol=0, atol=1e-12 * np.abs(expect).max()):
            return func
    return None


def _eigvalsh_lower(a: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of the symmetric matrix in the lower triangle of ``a``.

    ``a`` must be Fortran-ordered float64; it is overwritten.
    """
    import scipy.linalg

    func = _two_stage()
    if func is not None:
        n = a.shape[0]
        w = np.empty(n)
        # LAPACK_COL_MAJOR = 102: the Fortran-ordered array is passed as is, not copied
        info = func(102, b"N", b"L", n, a.ctypes.data, n, w.ctypes.data)
        if info == 0:
            return w
        raise np.linalg.LinAlgError(f"dsyev_2stage failed (info={info})")
    return scipy.linalg.eigvalsh(a, lower=True, overwrite_a=True, check_finite=False, driver="ev")


def _dense_eigvalsh(bonds: LayeredBonds, diagonal: np.ndarray | None) -> np.ndarray:
    """Eigenvalues of ``diag(a) - J`` (``a`` given) or of ``J`` (``diagonal`` None).

    Only the lower triangle is filled (LAPACK reads no more) and the array is built in
    Fortran order so that LAPACK works in place: no copy of the ``N × N`` matrix.
    """
    n, o = bonds.n, bonds.offsets
    sign = 1.0 if diagonal is None else -1.0
    a = np.zeros((n, n), order="F")
    for k, w in enumerate(bonds.weights):
        np.multiply(w, sign, out=a[o[k + 1] : o[k + 2], o[k] : o[k + 1]])
    if diagonal is not None:
        a[np.diag_indices(n)] = diagonal
    return _eigvalsh_lower(a)


def _lambda_max_j(bonds: LayeredBonds, v0: np.ndarray | None) -> tuple[float, np.ndarray | None]:
    """``λ_max(J)`` by Lanczos on the bonds' matvec (dense for tiny N), and its vector."""
    if bonds.n <= 64:
        return float(_dense_eigvalsh(bonds, None)[-1]), None
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    op = LinearOperator((bonds.n, bonds.n), matvec=bonds.matvec, dtype=float)
    if v0 is None:  # ARPACK's own start is random: fix it so results are reproducible
        v0 = np.random.default_rng(0).standard_normal(bonds.n)
    try:
        w, v = eigsh(op, k=1, which="LA", tol=1e-12, v0=v0)
    except ArpackNoConvergence as exc:
        raise ConvergenceError(f"Lanczos for lambda_max(J) did not converge: {exc}") from None
    return float(w[0]), v[:, 0]


# --------------------------------------------------------------------------- the scan


def _meta_float(meta: dict[str, Any], key: str) -> float:
    value = meta.get(key)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if isinstance(exc, ReplicaSolveError) else f"{type(exc).__name__}: {first}"


def _epoch_list(
    epochs: Sequence[int] | None, found: dict[int, Path]
) -> list[int]:
    if epochs is None:
        return list(range(max(found) + 1))
    try:
        wanted = sorted({int(e) for e in epochs} | {0})
    except (TypeError, ValueError):
        raise InvalidInputError(f"epochs must be whole numbers >= 0, got {epochs!r}") from None
    if any(int(e) != e for e in epochs) or wanted[0] < 0:
        raise InvalidInputError(f"epochs must be whole numbers >= 0, got {list(epochs)!r}")
    return wanted


def _spectra_epochs(spectra: Spectra, epochs: list[int]) -> set[int]:
    if spectra is None:
        return set()
    if isinstance(spectra, str):
        if spectra != "all":
            raise InvalidInputError(
                f"spectra must be 'all', a list of epochs or None, got {spectra!r}"
            )
        return set(epochs)
    try:
        wanted = {int(e) for e in spectra}
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"spectra must be 'all', a list of epochs or None, got {spectra!r}"
        ) from None
    extra = sorted(wanted - set(epochs))
    if extra:
        raise InvalidInputError(f"spectra asked for epochs {extra} that the scan does not cover")
    return wanted


def _curve_grid(curve_betas: Sequence[float] | np.ndarray | None) -> np.ndarray | None:
    if curve_betas is None:
        return None
    grid = np.asarray(curve_betas, dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise InvalidInputError(f"curve_betas must be a non-empty 1-D list, got shape {grid.shape}")
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise InvalidInputError("curve_betas must be positive and finite")
    if np.unique(grid).size != grid.size:
        raise InvalidInputError("curve_betas has repeated values")
    return grid


def scan_run(
    run_dir: str | os.PathLike,
    *,
    epochs: Sequence[int] | None = None,
    definition: Literal["corrected", "plain"] = "corrected",
    plain: bool = True,
    curve_betas: Sequence[float] | np.ndarray | None = None,
    spectra: Spectra = None,
    rtol: float = 1e-8,
    progress: bool = False,
    threads: int | None = None,
) -> xr.Dataset:
    """TAP observables of every snapshot of a training run, as an ``xarray.Dataset``.

    Barney, Winer & Galitski (arXiv 2408.06421, section 3): epoch 0 (the untrained
    network) is the reference. Its ``θ = min_β λ_min(A_0(β))`` and argmin ``β*`` set the
    finite-size corrected definition; every epoch ``t`` gets ``β_c(t)`` (first β with
    ``λ_min(A_t(β)) = θ``; at epoch 0 this is ``β*``), ``T_c = 1/β_c``, the plain ``β_c``
    (``λ_min = 0``), the level statistics of ``A(β_c)``, ``λ_max(J)``, the change of the
    Onsager diagonal ``d_i = Σ_j J_ij²`` against epoch 0, and the errors and loss recorded
    with the snapshot. ``β`` is in units of 1/energy with energies in units of the couplings
    ``J`` (the weights as stored).

    Args:
        run_dir: a run directory of :mod:`replicasolve.studies.train.snapshots`
            (``epoch_XXXX.npz`` files, optionally ``run.json``).
        epochs: the epochs to scan (epoch 0 is always added: it is the reference); default
            every epoch from 0 to the last snapshot, gaps included (reported as missing).
        definition: ``"corrected"`` (the paper's; threshold θ from epoch 0) or ``"plain"``
            (threshold 0) for ``beta_c``.
        plain: also compute the plain β_c (``beta_c_plain``, NaN where ``λ_min`` never
            reaches 0, and ``crossed_plain``).
        curve_betas: a β grid, shape ``(B,)``: adds ``lambda_min_curve`` ``(epoch, beta)``.
        spectra: ``"all"``, a list of epochs, or ``None``: the full spectra of ``A(β_c)``
            and ``J`` (``spectrum_A``, ``spectrum_J``, shape ``(epoch, level)``, NaN rows
            for the other epochs); costs one dense diagonalisation of ``J`` per epoch.
        rtol: relative tolerance on every β_c.
        progress: print one line per epoch on stderr.
        threads: BLAS threads of the dense eigen-solves (default ``REPLICASOLVE_BLAS_THREADS``,
            else 1). Two threads on an idle 2-core machine halve the eigen-solve time; when
            another process holds a core, OpenBLAS threads stall and it is ~10× slower.

    Returns:
        The Dataset (dims ``epoch``, and ``beta``/``level`` when asked for). Per epoch:
        ``beta_c``, ``T_c``, ``crossed``, ``beta_c_plain``, ``crossed_plain`` (int8),
        ``lambda_min_at_beta_c``, ``lambda_max_J``, ``first_spacing``, ``median_spacing``,
        ``normalized_first_spacing``, ``d_change_max``, ``d_change_norm``,
        ``d_change_mean``, ``train_error``, ``val_error``, ``train_loss``, ``status``
        (``"ok"`` or the one-line reason the epoch could not be scanned: its values are then
        NaN); scalars ``threshold`` (θ) and ``beta_star_reference`` (β* of epoch 0); attrs
        ``beta_c_msk``/``T_c_msk`` (:func:`~replicasolve.models.msk.msk_critical` for the
        architecture and the epoch-0 variance factors), ``variance_factors``,
        ``layer_sizes``, ``missing_epochs``, ``definition``, ``settings`` (run.json as
        JSON), ``version``, ``run_dir``, ``rtol``, ``engine_calls`` (epochs the warm
        search handed to ``tap_critical``). ``crossed`` is 0 where ``λ_min`` never reaches
        θ; ``beta_c`` is then the point of closest approach, as ``tap_critical`` reports it.

    Raises:
        InvalidInputError: no run directory, no snapshots, epoch 0 missing or unreadable
            (it is the reference), or bad arguments. A missing, corrupt or
            different-architecture snapshot of a later epoch is not an error: that epoch
            gets NaNs and its ``status`` names the file and the reason.
    """
    import xarray as xr

    if definition not in ("corrected", "plain"):
        raise InvalidInputError(
            f"unknown definition {definition!r}: use 'corrected' or 'plain'"
        )
    if not (0 < rtol < 1e-2):
        raise InvalidInputError(f"rtol must be in (0, 1e-2), got {rtol}")
    if threads is not None and (int(threads) != threads or threads < 1):
        raise InvalidInputError(f"threads must be a whole number >= 1, got {threads!r}")
    grid = _curve_grid(curve_betas)
    run_dir = Path(run_dir)
    found = dict(list_snapshots(run_dir))
    if not found:
        raise InvalidInputError(f"{run_dir}: no epoch_XXXX.npz snapshots in the run directory")
    settings = read_run_settings(run_dir)
    epoch_list = _epoch_list(epochs, found)
    want_spectra = _spectra_epochs(spectra, epoch_list)
    if 0 not in found:
        raise InvalidInputError(
            f"{snapshot_path(run_dir, 0)}: missing; epoch 0 (the untrained network) is the "
            "reference of the scan"
        )
    try:
        snap0 = read_snapshot(found[0])
    except SnapshotError as exc:
        raise InvalidInputError(
            f"{_one_line(exc)}; epoch 0 (the untrained network) is the reference of the scan"
        ) from None
    sizes = snap0.layer_sizes
    ref = LayeredBonds(snap0.weights)
    n = ref.n
    ne = len(epoch_list)
    out = {name: np.full(ne, np.nan) for name in _PER_EPOCH}
    out["crossed"] = np.zeros(ne, dtype=np.int8)
    out["crossed_plain"] = np.zeros(ne, dtype=np.int8)
    status = ["ok"] * ne
    curve = np.full((ne, grid.size), np.nan) if grid is not None else None
    spec_a = np.full((ne, n), np.nan) if want_spectra else None
    spec_j = np.full((ne, n), np.nan) if want_spectra else None
    missing = [e for e in epoch_list if e not in found]
    engine_calls = 0

    log = Reporter("scan", enabled=progress)
    with blas_threads(threads):
        ref_min = tap_minimum(ref, rtol=rtol)
        theta_ref = ref_min.value
        theta = theta_ref if definition == "corrected" else 0.0
        prev_hint: LambdaMin | None = None
        history: list[tuple[int, float]] = []  # (epoch, β_c) of the last good epochs
        prev_plain = math.nan
        top_vec: np.ndarray | None = None
        for i, epoch in enumerate(epoch_list):
            t_start = time.perf_counter()
            if epoch not in found:
                status[i] = f"{snapshot_path(run_dir, epoch)}: missing (no such snapshot file)"
                _report(log, epoch, epoch_list, status[i], t_start)
                continue
            try:
                snap = snap0 if epoch == 0 else read_snapshot(found[epoch], layer_sizes=sizes)
                bonds = ref if epoch == 0 else LayeredBonds(snap.weights)
                ev = _Evaluator(bonds, hint=prev_hint)
                if epoch == 0 and definition == "corrected":
                    beta_c, crossed = ref_min.beta, True  # θ is this instance's own minimum
                    spectrum = _dense_eigvalsh(bonds, tap_diagonal(bonds, beta_c))
                else:
                    start = _extrapolate(history, epoch, ref_min.beta)
                    beta_c, crossed, spectrum, used = _critical_with_spectrum(
                        ev, theta, start, rtol
                    )
                    engine_calls += used
                row: dict[str, float] = {"beta_c": beta_c, "T_c": 1.0 / beta_c}
                if plain or definition == "plain":
                    if definition == "plain":
                        res = _Crossing(beta_c if crossed else math.nan, crossed)
                    elif epoch == 0:
                        # the reference's minimum is known: it crosses 0 iff θ ≤ 0
                        res = (
                            _Crossing(math.nan, False)
                            if theta_ref > 10 * _band(bonds, ref_min.beta)
                            else _crossing(ev, 0.0, ref_min.beta, rtol, plain=True)
                        )
                    else:
                        start = prev_plain if math.isfinite(prev_plain) else beta_c
                        res = _crossing(ev, 0.0, start, rtol, plain=True)
                    bp, cp = res.beta, res.crossed
                    engine_calls += res.engine
                    row["beta_c_plain"] = bp
                    out["crossed_plain"][i] = int(cp)
                    prev_plain = bp
                if grid is not None and curve is not None:
                    for j in np.argsort(grid):
                        curve[i, j] = ev(grid[j]).value
                stats = level_stats(spectrum)
                row.update(
                    lambda_min_at_beta_c=float(spectrum[0]),
                    first_spacing=stats.first_spacing,
                    median_spacing=stats.median_spacing,
                    normalized_first_spacing=stats.normalized_first_spacing,
                )
                if epoch in want_spectra and spec_a is not None and spec_j is not None:
                    spec_a[i] = spectrum
                    spec_j[i] = _dense_eigvalsh(bonds, None)
                    row["lambda_max_J"] = float(spec_j[i, -1])
                else:
                    row["lambda_max_J"], top_vec = _lambda_max_j(bonds, top_vec)
                dc = diagonal_change(bonds, ref)
                row.update(
                    d_change_max=dc.max_relative,
                    d_change_norm=dc.norm_relative,
                    d_change_mean=dc.mean_relative,
                )
                for key in ("train_error", "val_error", "train_loss"):
                    row[key] = _meta_float(snap.meta, key)
            except (ReplicaSolveError, np.linalg.LinAlgError, ArithmeticError, OSError) as exc:
                status[i] = _one_line(exc)
                if not isinstance(exc, SnapshotError):
                    status[i] = f"{found[epoch].name}: {status[i]}"
                _report(log, epoch, epoch_list, status[i], t_start)
                continue
            for key, value in row.items():
                out[key][i] = value
            out["crossed"][i] = int(crossed)
            try:
                # seeds the next epoch's search (at epoch 0 nothing has been evaluated yet)
                prev_hint = ev.nearest(beta_c) if ev.cache else ev(beta_c)
            except (ReplicaSolveError, np.linalg.LinAlgError):
                prev_hint = None
            history = [*history[-1:], (epoch, beta_c)]
            _report(log, epoch, epoch_list, f"beta_c = {beta_c:.8f}", t_start)

    theory = msk_critical(sizes, ref.variance_factors())
    data_vars: dict[str, Any] = {}
    for name, (units, long_name) in _PER_EPOCH.items():
        if name in ("beta_c_plain", "crossed_plain") and not (plain or definition == "plain"):
            continue
        data_vars[name] = ("epoch", out[name], {"units": units, "long_name": long_name})
    data_vars["status"] = (
        "epoch",
        np.array(status, dtype=object),
        {"units": "1", "long_name": "'ok', or why the epoch could not be scanned"},
    )
    data_vars["threshold"] = (
        (),
        float(theta),
        {
            "units": "energy (units of the couplings J)",
            "long_name": "threshold theta of lambda_min(A(beta)) that defines beta_c "
            "(corrected: min over beta of lambda_min(A(beta)) of epoch 0; plain: 0)",
        },
    )
    data_vars["beta_star_reference"] = (
        (),
        float(ref_min.beta),
        {
            "units": "1/energy (energy in units of the couplings J)",
            "long_name": "argmin over beta of lambda_min(A(beta)) of epoch 0",
        },
    )
    coords: dict[str, Any] = {
        "epoch": ("epoch", np.asarray(epoch_list, dtype=np.int64), {"long_name": "epoch"}),
    }
    if grid is not None and curve is not None:
        coords["beta"] = (
            "beta",
            grid,
            {"units": "1/energy (energy in units of the couplings J)", "long_name": "beta"},
        )
        data_vars["lambda_min_curve"] = (
            ("epoch", "beta"),
            curve,
            {"units": "energy (units of the couplings J)", "long_name": "lambda_min(A(beta))"},
        )
    if want_spectra and spec_a is not None and spec_j is not None:
        coords["level"] = (
            "level",
            np.arange(n, dtype=np.int64),
            {"long_name": "eigenvalue index, ascending"},
        )
        data_vars["spectrum_A"] = (
            ("epoch", "level"),
            spec_a,
            {
                "units": "energy (units of the couplings J)",
                "long_name": "eigenvalues of A(beta_c), ascending (NaN: not requested)",
            },
        )
        data_vars["spectrum_J"] = (
            ("epoch", "level"),
            spec_j,
            {
                "units": "energy (units of the couplings J)",
                "long_name": "eigenvalues of J, ascending (NaN: not requested)",
            },
        )
    attrs = {
        "title": "TAP scan of a training run (Barney, Winer & Galitski, arXiv 2408.06421)",
        "definition": definition,
        "beta_c_msk": float(theory.beta_c),
        "T_c_msk": float(theory.T_c),
        "variance_factors": [float(c) for c in ref.variance_factors()],
        "layer_sizes": [int(s) for s in sizes],
        "missing_epochs": [int(e) for e in missing],
        "settings": json.dumps(settings, sort_keys=True),
        "version": __version__,
        "run_dir": str(run_dir.resolve()),
        "rtol": float(rtol),
        "engine_calls": int(engine_calls),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _critical_with_spectrum(
    ev: _Evaluator, theta: float, start: float, rtol: float
) -> tuple[float, bool, np.ndarray, int]:
    """``(β_c, crossed, spectrum of A(β_c), engine calls)`` for threshold θ.

    The dense spectrum is needed for the level statistics anyway; its lowest eigenvalue
    checks the provisional Newton iterate (``|λ_1 - θ| ≤ rtol β_c |dλ/dβ| / 4``: within
    ``rtol/4`` of the root) and that the warm search followed the lowest level.
    """
    bonds = ev.bonds
    res = _crossing(ev, theta, start, rtol, plain=False, provisional=True)
    used = int(res.engine)
    spectrum = _dense_eigvalsh(bonds, tap_diagonal(bonds, res.beta))
    if res.crossed and math.isfinite(res.slope):
        miss = abs(spectrum[0] - theta)
        if miss > 0.25 * rtol * res.beta * abs(res.slope):
            res = _crossing(ev, theta, res.beta, rtol, plain=False)
            used += res.engine
            spectrum = _dense_eigvalsh(bonds, tap_diagonal(bonds, res.beta))
    scale = float(np.max(np.abs(spectrum)))
    if res.crossed and abs(spectrum[0] - theta) > 1e-6 * scale:
        # the warm search followed a level that is not the lowest: ask the engine
        tc = tap_critical(bonds, definition="threshold", threshold=theta, rtol=rtol)
        res = _Crossing(tc.beta_c, tc.crossed, engine=True)
        used += 1
        spectrum = _dense_eigvalsh(bonds, tap_diagonal(bonds, res.beta))
    return res.beta, res.crossed, spectrum, used


def _extrapolate(history: list[tuple[int, float]], epoch: int, default: float) -> float:
    """Start of an epoch's β_c search: linear in the epoch through the last two answers."""
    if not history:
        return default
    e1, b1 = history[-1]
    if len(history) < 2:
        return b1
    e0, b0 = history[-2]
    guess = b1 + (b1 - b0) * (epoch - e1) / (e1 - e0)
    return float(min(max(guess, 0.5 * b1), 2.0 * b1))  # training may also turn around


def _report(log: Reporter, epoch: int, epochs: list[int], what: str, t_start: float
            ) -> None:
    log.log(f"epoch {epoch} ({epochs.index(epoch) + 1}/{len(epochs)}): {what}  "
            f"[{time.perf_counter() - t_start:.2f} s]")


# --------------------------------------------------------------------------- files

def save_scan(ds: xr.Dataset, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a scan to a netCDF file atomically and return its path.

    The file is written under a temporary name in the target directory and renamed into
    place (``os.replace``), so a killed process never leaves half a file. Engine: netCDF4
    or h5netcdf when importable, else scipy (netCDF3: strings and int8 survive; the epoch
    coordinate is stored as int32). Attributes that are lists, dicts, booleans or None are
    stored as JSON text and restored by :func:`load_scan`.

    Raises:
        InvalidInputError: ``path`` exists and ``force`` is false, or ``ds`` is not a
            Dataset.
    """
    return write_netcdf(ds, path, force=force, make_parents=True)


def load_scan(path: str | os.PathLike) -> xr.Dataset:
    """Read a scan written by :func:`save_scan` (into memory; the file is closed).

    Raises:
        InvalidInputError: the file is missing or not a readable netCDF file.
    """
    if not Path(path).is_file():
        raise InvalidInputError(f"{path}: no such scan file")
    ds = read_netcdf(path)
    if "epoch" in ds.coords:
        ds = ds.assign_coords(epoch=ds["epoch"].astype(np.int64))
    if "level" in ds.coords:
        ds = ds.assign_coords(level=ds["level"].astype(np.int64))
    for name in ("crossed", "crossed_plain"):
        if name in ds:
            ds[name] = ds[name].astype(np.int8)
    if "status" in ds:
        ds["status"] = ds["status"].astype(str).astype(object)
    return ds
