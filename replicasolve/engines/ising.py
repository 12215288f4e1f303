"""Monte Carlo of Ising replicas on one coupling instance: the finite-N check of the theory.

The model, for spins s ∈ {±1}^N, couplings J (symmetric, zero diagonal) and fields h::

    H(s) = -1/2 Σ_ij J_ij s_i s_j - Σ_i h_i s_i

Temperatures T are in the energy units of J (β = 1/T); every reported energy is per spin,
H/N, and magnetizations and overlaps are per spin (in [-1, 1]). The couplings are either a
dense matrix (:meth:`IsingSystem.dense`, e.g. SK) or the block-tridiagonal couplings of a
layered network (:meth:`IsingSystem.layered`, from a
:class:`~replicasolve.tap.bonds.LayeredBonds`), which are never densified: the local field of
a spin in layer l reads W_l (from layer l-1) and W_{l+1}ᵀ (from layer l+1).

Dynamics. Single-spin-flip Metropolis (Metropolis et al., J. Chem. Phys. 21, 1087 (1953)) or
heat-bath (Glauber, J. Math. Phys. 4, 294 (1963)) in sequential order, spin 0..N-1 per sweep.
Each replica keeps its local fields u_i = Σ_j J_ij s_j + h_i and updates them after every
accepted flip (one row of J per flip), so ΔE = 2 s_i u_i costs O(1). Many replicas (and all
temperatures of a parallel-tempering run) are swept together, spin by spin: the flip of spin
i is decided for every replica, and the fields of the flipped replicas are updated from the
same row i of J, so J is brought from memory once per sweep for all replicas instead of once
per replica. For dense couplings the updates are delayed over blocks of spins (see
"Performance"); the trajectories are the same bit for bit.

Precision (``dtype``). ``"float64"`` (default) keeps J and the fields in double precision;
``"float32"`` halves the memory traffic of J and of the fields. The kept fields are
recomputed from scratch every ``resync_every`` sweeps (default 100 for float32, 1000 for
float64) so that the rounding of the incremental updates cannot drift; the largest drift
found is reported as :attr:`MCResult.max_field_drift`. The rounding errors of the updates
add up like a random walk, ≈ eps·|u|·sqrt(updates per field): measured on SK with N = 256
at T = 1, 2e-5 after 200 sweeps and 4e-5 after 1000 without a resync in float32 (eps ≈ 6e-8),
~1e-13 after 3000 sweeps in float64. Energies are accumulated in float64 from the kept
fields (in float32 runs they carry the fields' ~1e-6 relative rounding).

Randomness. A run's seed (an int or a ``numpy.random.SeedSequence``) is spawned into one
independent PCG64 stream per replica (per walker in parallel tempering) plus one for the
replica exchanges. The uniforms of each sweep are drawn outside the compiled kernel from
these streams, so the same seed gives a bitwise-identical trajectory on any machine, and
replica r's trajectory does not depend on how many replicas run beside it.

Parallel tempering (replica exchange: Swendsen & Wang, PRL 57, 2607 (1986); Hukushima &
Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996)): R independent copies, each with one
configuration per temperature of an increasing ladder; every ``swap_every`` sweeps each
copy attempts the exchanges of neighbouring temperatures k, k+1 (k = 0, 1, ..., in order),
accepted with min(1, exp[(β_k - β_{k+1})(E_k - E_{k+1})]).

Observables and errors. The replica overlap Q_ab = (1/N) Σ_i s_i^a s_i^b is measured between
independent replicas at the same temperature (different copies, same couplings); from it the
descriptor q̄(T) = mean |Q_ab| over a ≠ b (Jun Li, arXiv 2508.07397), P(q), the spin-glass
susceptibility χ_SG = N ⟨q²⟩ and the Binder cumulant g = ½(3 - ⟨q⁴⟩/⟨q²⟩²) (Binder, Z. Phys.
B 43, 119 (1981)). Error bars come from the independent replicas, which needs no assumption
about autocorrelations, only that each replica is equilibrated: for single-replica
observables (energy, magnetization) the standard error of the R per-replica time averages;
for pair observables (q̄, ⟨q²⟩, χ_SG, g), whose pairs share replicas, the unbiased variance of
a degree-2 U-statistic (Hoeffding 1948; nonlinear ones such as g by the delta method), for
R ≥ 4. With R = 3 the delete-one-replica jackknife is used (conservative), and with R = 2
(one pair) a jackknife over 20 consecutive time blocks (batch means; valid when a block is
much longer than the autocorrelation time). These are errors of the thermal averages of this
one instance; disorder averages need several instances. Integrated autocorrelation times use
Sokal's automatic window (Sokal, "Monte Carlo methods in statistical mechanics", 1996;
Madras & Sokal, J. Stat. Phys. 50, 109 (1988)).

Performance. A sweep costs acceptance × R × N² field additions whatever the scheme (each
accepted flip changes N fields) and one pass over J. Layered couplings add row i of J to the
fields of each replica that flipped spin i, right after deciding spin i. Dense couplings
(the big case: N = 2330 for the MNIST network) use delayed updates over blocks of B = 32
spins: within a block, the field of spin i is its field at the start of the block plus the
flips of the earlier spins of the block (a B-value correction per replica); at the end of
the block each replica adds its flipped rows of J to its fields, tile by tile of columns,
up to 8 rows per pass with the field element held in a register. The B rows of J come from
memory once per block and then serve every replica from cache. The rows of J and of the
fields are padded to whole 64-byte cache lines and aligned, so that no vector load
straddles two lines. Every field element still receives its terms one at a time in flip
order (each term ±2 J_ij is exact, nothing is reassociated), so the results are bitwise
those of the per-flip updates for any B, tile width or number of replicas. At R = 32 the
speed is then set by the rate at which one core adds rows of J held in its L2 cache (about
10¹⁰ float64 additions per second on a Zen 4 core, twice that in float32; the tile is
3/4 of the L2 cache, read from sysfs), not by memory;
at R = 8 by the memory stream of J. ``threads=T`` splits the replicas into T groups of
columns swept at the same time by T threads (numba ``prange``, one fork and join per
sweep), each group sweeping every block of J in the same order with no synchronisation
inside a sweep. Equal groups keep about the same pace, so a block of J that one thread
brings from memory is normally still in the shared last-level cache when the others reach
it: J comes from memory about once per sweep while the additions are shared out (more
groups than running threads would each stream J, which is why ``threads`` is capped).
Columns are independent (own uniforms, own fields), so the results are bitwise those of
one thread for any T.
``benchmarks/bench_mc_ising.py`` reports flips per second and the J traffic as a fraction
of the machine's streaming bandwidth, against the per-flip kernel, with 1 and 2 threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..results import Result
from ..tap.bonds import DenseBonds, LayeredBonds
from .convergence import MCRun, PTRun, integrated_autocorrelation_time
from .settings import dtype_of as _dtype
from .settings import ladder as _ladder
from .settings import seed_sequence as _seed_sequence
from .settings import temperature as _temperature
from .settings import thread_count as _threads
from .settings import update_rule as _method
from .settings import whole_number as _int_arg

__all__ = [
    "EquilibrationCheck",
    "Estimate",
    "IsingSystem",
    "MCResult",
    "MCSettings",
    "PTResult",
    "check_equilibration",
    "integrated_autocorrelation_time",
    "parallel_tempering",
    "run_replicas",
]

_CHUNK_ELEMS = 1 << 21  # uniforms per chunk (16 MB of float64): bounds memory, not results
_JACKKNIFE_BLOCKS = 20
_QUENCH_MAX_SWEEPS = 10_000
# Dense couplings: spins per block of delayed field updates (0: the unblocked per-flip
# kernel, kept as the reference the blocked one is tested against) and the bytes of J per
# tile of the update (block rows x tile columns): 3/4 of the core's L2 cache, so the
# block's rows stay in L2 next to the fields' tile; see "Performance" above. (Measured on
# Zen 5, 1 MB L2, N = 2330, R = 32: tiles of 128 KB / 768 KB gave 7.27 / 6.72 ms per sweep
# in float64 and 5.44 / 4.12 ms in float32; the results are the same bits for any tile.)
_DENSE_BLOCK = 32


def _l2_bytes(default: int = 512 * 1024) -> int:
    """The size of the level-2 data cache of CPU 0 (Linux sysfs), else ``default``."""
    import glob

    for idx in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            with open(f"{idx}/level", encoding="ascii") as fh:
                level = fh.read().strip()
            with open(f"{idx}/type", encoding="ascii") as fh:
                kind = fh.read().strip()
            with open(f"{idx}/size", encoding="ascii") as fh:
                size = fh.read().strip()
        except OSError:
            continue
        if level == "2" and kind in ("Data", "Unified") and size[:-1].isdigit():
            unit = {"K": 1024, "M": 1024**2}.get(size[-1], 0)
            if unit:
                return int(size[:-1]) * unit
    return default


_DENSE_TILE_BYTES = min(max(3 * _l2_bytes() // 4, 128 * 1024), 3 * 1024 * 1024 // 2)


def _dense_tile(bsize: int, dtype: Any) -> int:
    """Columns per tile of the blocked dense update: ``bsize`` rows of J in
    ``_DENSE_TILE_BYTES`` (at least 64)."""
    return max(64, _DENSE_TILE_BYTES // (max(bsize, 1) * np.dtype(dtype).itemsize))


# --------------------------------------------------------------------------- the system


@dataclass(frozen=True, eq=False)
class IsingSystem:
    """Couplings and fields of one Ising instance. Build with :meth:`dense` or :meth:`layered`.

    Attributes:
        n: number of spins N.
        h: fields h_i, shape ``(N,)`` (float64).
        J: the dense coupling matrix (float64, symmetric, zero diagonal), or None for a
            layered system.
        bonds: the layered couplings, or None for a dense system.
        energy_offset: constant added to H (total, not per spin): -1/2 Σ_i J_ii when a
            diagonal was dropped (s_i² = 1 makes it a constant), else 0.
    """

    n: int
    h: np.ndarray
    J: np.ndarray | None = None
    bonds: LayeredBonds | None = None
    energy_offset: float = 0.0
    _segments_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def kind(self) -> str:
        """``"dense"`` or ``"layered"``."""
        return "dense" if self.J is not None else "layered"

    @classmethod
    def dense(cls, J: Any, h: Any = None, *, diagonal: str = "error") -> IsingSystem:
        """A system with a dense symmetric coupling matrix.

        Args:
            J: shape ``(N, N)``, real, finite, symmetric (asymmetry up to 1e-12 max|J| is
                rounding and is symmetrised away), or a :class:`~replicasolve.tap.bonds.
                DenseBonds`.
            h: fields, shape ``(N,)`` (default zero).
            diagonal: ``"error"`` (default): a non-zero diagonal is refused; ``"drop"``:
                the diagonal is removed from the dynamics and its constant contribution
                -1/2 Σ J_ii added to every reported energy.

        Raises:
            InvalidInputError: J not square, not symmetric, non-finite, non-zero diagonal
                (with ``diagonal="error"``), or bad fields.
        """
        if isinstance(J, DenseBonds):
            J = J.J
        j = np.asarray(J)
        if j.ndim != 2 or j.shape[0] != j.shape[1] or j.shape[0] == 0:
            raise InvalidInputError(f"J must be a non-empty square matrix, got shape {j.shape}")
        if not (np.issubdtype(j.dtype, np.number) or j.dtype == bool) or np.iscomplexobj(j):
            raise InvalidInputError(f"J must hold real numbers, got dtype {j.dtype}")
        j = np.array(j, dtype=np.float64)  # a private copy: the caller's array may change
        if not np.all(np.isfinite(j)):
            bad = int(j.size - np.count_nonzero(np.isfinite(j)))
            raise InvalidInputError(f"J has {bad} NaN or infinite entries")
        scale = max(1.0, float(np.abs(j).max()))
        asym = float(np.abs(j - j.T).max())
        if asym > 1e-12 * scale:
            raise InvalidInputError(f"J must be symmetric: max |J - J^T| = {asym:.3g}")
        j = 0.5 * (j + j.T)  # exact symmetry: the kernel reads row i as column i
        diag = np.diag(j).copy()
        if diagonal not in ("error", "drop"):
            raise InvalidInputError(f"diagonal must be 'error' or 'drop', got {diagonal!r}")
        offset = 0.0
        if np.any(diag != 0):
            if diagonal == "error":
                k = int(np.count_nonzero(diag))
                raise InvalidInputError(
                    f"J has {k} non-zero diagonal entries (self-couplings); pass "
                    "diagonal='drop' to treat them as the constant -1/2 sum J_ii"
                )
            offset = -0.5 * float(diag.sum())
            np.fill_diagonal(j, 0.0)
        n = j.shape[0]
        return cls(n=n, h=_fields(h, n, None), J=j, energy_offset=offset)

    @classmethod
    def layered(cls, bonds: LayeredBonds | Sequence[Any], h: Any = None) -> IsingSystem:
        """A system with the block-tridiagonal couplings of a layered network.

        Args:
            bonds: a :class:`~replicasolve.tap.bonds.LayeredBonds`, or its weight matrices
                ``W^1..W^L`` shaped ``(N_l, N_{l-1})``.
            h: fields: ``(N,)`` in the flat spin order (layer 0 first), or one array per
                spin layer (``L + 1`` arrays of lengths ``N_0..N_L``); default zero.
        """
        if not isinstance(bonds, LayeredBonds):
            if isinstance(bonds, np.ndarray) or not isinstance(bonds, Sequence):
                raise InvalidInputError(
                    "layered couplings must be a LayeredBonds or a list of weight matrices"
                )
            bonds = LayeredBonds(tuple(bonds))
        return cls(n=bonds.n, h=_fields(h, bonds.n, bonds), bonds=bonds)

    def couplings(self) -> np.ndarray:
        """The dense J, shape ``(N, N)`` (for a layered system: densified, ``8 N²`` bytes)."""
        return self.J if self.J is not None else self.bonds.dense()  # type: ignore[union-attr]

    def local_fields(self, spins: Any) -> np.ndarray:
        """u = J s + h in float64 for spins of shape ``(N,)`` or ``(N, R)``."""
        s = _spin_array(spins, self.n).astype(np.float64)
        js = self.J @ s if self.J is not None else self.bonds.matvec(s)  # type: ignore[union-attr]
        return js + (self.h if s.ndim == 1 else self.h[:, None])

    def energy(self, spins: Any) -> float | np.ndarray:
        """H(s)/N in float64: a float for spins ``(N,)``, an array ``(R,)`` for ``(N, R)``."""
        s = _spin_array(spins, self.n).astype(np.float64)
        u = self.local_fields(s)
        hh = self.h if s.ndim == 1 else self.h[:, None]
        e = (-0.5 * np.sum(s * (u + hh), axis=0) + self.energy_offset) / self.n
        return float(e) if s.ndim == 1 else e

    def _segments(self, dtype: type) -> tuple[np.ndarray, ...]:
        """Row-segment arrays (data, seg_col, seg_len, seg_ptr) of J in ``dtype`` (cached)."""
        key = np.dtype(dtype).name
        if key not in self._segments_cache:
            if self.J is not None:
                # rows padded to whole 64-byte cache lines (zeros, never read) and the start
                # aligned, so that the vectorised row loops of the kernels never split a
                # load over two lines; row i starts at data[i * _padded(n, dtype)]
                n = self.n
                npad = _padded(n, dtype)
                data = _aligned_zeros((n, npad), dtype)
                data[:, :n] = self.J
                seg_col = np.zeros((n, 1), np.int64)
                seg_len = np.full((n, 1), n, np.int64)
                seg_ptr = (np.arange(n, dtype=np.int64) * npad)[:, None].copy()
                self._segments_cache[key] = (data.reshape(-1), seg_col, seg_len, seg_ptr)
            else:
                self._segments_cache[key] = _layered_segments(self.bonds, dtype)
        return self._segments_cache[key]


def _padded(n: int, dtype: Any) -> int:
    """n rounded up to a whole number of 64-byte cache lines of ``dtype``."""
    per_line = 64 // np.dtype(dtype).itemsize
    return -(-n // per_line) * per_line


def _aligned_zeros(shape: tuple[int, int], dtype: Any) -> np.ndarray:
    """A C-contiguous zero array whose first element starts a 64-byte cache line."""
    dt = np.dtype(dtype)
    nbytes = shape[0] * shape[1] * dt.itemsize
    buf = np.zeros(nbytes + 64, np.uint8)
    off = (-buf.ctypes.data) % 64
    return buf[off : off + nbytes].view(dt).reshape(shape)


def _layered_segments(bonds: Any, dtype: type) -> tuple[np.ndarray, ...]:
    # spin a of layer l: segment 0 = W^l[a, :] (layer l-1), segment 1 = W^{l+1}[:, a]
    # (layer l+1), stored side by side so each row is one contiguous block of memory
    sizes, off, ws = bonds.sizes, bonds.offsets, bonds.weights
    nl_max = len(sizes) - 1
    n = bonds.n
    seg_col = np.zeros((n, 2), np.int64)
    seg_len = np.zeros((n, 2), np.int64)
    seg_ptr = np.zeros((n, 2), np.int64)
    blocks = []
    ptr = 0
    for l in range(nl_max + 1):
        nl = sizes[l]
        wb = sizes[l - 1] if l >= 1 else 0
        wa = sizes[l + 1] if l < nl_max else 0
        block = np.empty((nl, wb + wa), dtype=dtype)
        if wb:
            block[:, :wb] = ws[l - 1]
        if wa:
            block[:, wb:] = ws[l].T
        rows = np.arange(off[l], off[l + 1])
        start = ptr + np.arange(nl, dtype=np.int64) * (wb + wa)
        seg_col[rows, 0] = off[l - 1] if wb else 0
        seg_len[rows, 0] = wb
        seg_ptr[rows, 0] = start
        seg_col[rows, 1] = off[l + 1] if wa else 0
        seg_len[rows, 1] = wa
        seg_ptr[rows, 1] = start + wb
        blocks.append(block.reshape(-1))
        ptr += block.size
    return np.concatenate(blocks), seg_col, seg_len, seg_ptr


def _fields(h: Any, n: int, bonds: LayeredBonds | None) -> np.ndarray:
    if h is None:
        return np.zeros(n)
    if bonds is not None and isinstance(h, (list, tuple)):
        if len(h) != bonds.n_layers:
            raise InvalidInputError(
                f"fields per layer: need {bonds.n_layers} arrays (one per spin layer), "
                f"got {len(h)}"
            )
        parts = []
        for l, (hl, nl) in enumerate(zip(h, bonds.sizes, strict=True)):
            arr = np.asarray(hl, dtype=np.float64).reshape(-1)
            if arr.size != nl:
                raise InvalidInputError(f"fields of layer {l}: need {nl} values, got {arr.size}")
            parts.append(arr)
        h = np.concatenate(parts)
    try:
        arr = np.array(h, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("fields h must be real numbers") from None
    if arr.shape != (n,):
        raise InvalidInputError(f"fields h must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("fields h have NaN or infinite entries")
    return arr + 0.0  # -0.0 -> +0.0: keeps dense and layered runs bitwise identical


def _spin_array(spins: Any, n: int) -> np.ndarray:
    s = np.asarray(spins)
    if s.ndim not in (1, 2) or s.shape[0] != n:
        raise InvalidInputError(f"spins must have shape ({n},) or ({n}, R), got {s.shape}")
    if not np.all((s == 1) | (s == -1)):
        raise InvalidInputError("spins must be +1 or -1")
    return s


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its one-standard-error bar (``value, error = est``)."""

    value: float
    error: float

    def __iter__(self) -> Iterator[float]:
        return iter((self.value, self.error))

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        return f"{self.value:.6g} ± {self.error:.2g}"


def _jackknife_error(deleted: np.ndarray) -> float:
    d = np.asarray(deleted, dtype=np.float64)
    k = d.shape[0]
    if k < 2 or not np.all(np.isfinite(d)):
        return math.nan
    return float(math.sqrt((k - 1) / k * np.sum((d - d.mean()) ** 2)))


def _ustat_variance(pair_values: np.ndarray, r: int) -> float:
    """Unbiased variance of the mean of a symmetric pair statistic over R ≥ 4 iid replicas.

    With kernel values A_ab (a < b, order of ``triu_indices``), the mean over pairs is a
    U-statistic of degree 2, whose variance is (2/(R(R-1))) [2(R-2) ζ₁ + ζ₂] with
    ζ₁ = Cov(A_ab, A_ac), ζ₂ = Var(A_ab) (Hoeffding, Ann. Math. Stat. 19, 293 (1948)).
    Unbiased estimates of ζ₂ + μ², ζ₁ + μ² and μ² are the means of A_ab², of A_ab A_ac over
    pairs sharing one replica, and of A_ab A_cd over disjoint pairs. (Deleting one replica
    at a time instead, the jackknife, overestimates this variance by up to 2R(R-1)/(R-2)²,
    about 2-3, when the pair-to-pair noise dominates: Efron–Stein.) May be ≤ 0 by chance.
    """
    a = np.asarray(pair_values, dtype=np.float64)
    iu = np.triu_indices(r, 1)
    m = np.zeros((r, r))
    m[iu] = a
    m = m + m.T
    rows = m.sum(axis=1)
    s, q, p = a.sum(), float(a @ a), a.size
    rr = float(rows @ rows)
    m2 = q / p
    m1 = (rr - 2 * q) / (r * (r - 1) * (r - 2))
    m0 = (s * s - rr + q) / (p * (r - 2) * (r - 3) / 2)
    return float(2 / (r * (r - 1)) * (2 * (r - 2) * (m1 - m0) + (m2 - m0)))


def _gradient(f: Any, x: np.ndarray) -> np.ndarray:
    # central differences: f is a smooth closed form (a moment or the Binder ratio)
    g = np.zeros(x.size)
    for j in range(x.size):
        step = 1e-6 * max(abs(x[j]), 1e-12)
        up, dn = x.copy(), x.copy()
        up[j] += step
        dn[j] -= step
        g[j] = (f(*up) - f(*dn)) / (2 * step)
    return g


def _pair_deleted_means(per_pair: np.ndarray, r: int) -> np.ndarray:
    """Means over pairs a<b with replica ``x`` deleted, for x = 0..R-1: shape (R, k)."""
    iu = np.triu_indices(r, 1)
    k = per_pair.shape[1]
    m = np.zeros((r, r, k))
    m[iu] = per_pair
    m = m + m.transpose(1, 0, 2)
    total = per_pair.sum(axis=0)
    keep = per_pair.shape[0] - (r - 1)
    return (total[None, :] - m.sum(axis=1)) / keep


def _block_deleted_means(series: np.ndarray, blocks: int = _JACKKNIFE_BLOCKS) -> np.ndarray:
    """Means with one time block deleted: series (n, k...) -> (blocks, k...)."""
    n = series.shape[0]
    b = max(2, min(blocks, n))
    edges = np.linspace(0, n, b + 1).astype(int)
    sums = np.stack([series[edges[i] : edges[i + 1]].sum(axis=0) for i in range(b)])
    lens = np.diff(edges).astype(float).reshape((b,) + (1,) * (series.ndim - 1))
    total = sums.sum(axis=0)
    return (total[None] - sums) / (n - lens)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MCSettings:
    """The settings a run used (for provenance).

    Attributes:
        method: ``"metropolis"`` or ``"heatbath"``.
        replicas: independent replicas (copies) per temperature.
        sweeps: production sweeps (one sweep = N single-spin-flip attempts per replica).
        burn_in: sweeps discarded before measuring.
        measure_every: sweeps between measurements.
        swap_every: sweeps between replica-exchange attempts (parallel tempering only).
        seed_entropy: entropy of the root ``SeedSequence`` (reproduces the run).
        seed_spawn_key: spawn key of the root ``SeedSequence``.
        dtype: ``"float32"`` or ``"float64"`` (J and local fields).
        resync_every: sweeps between recomputations of the fields from scratch (0: never).
        start: ``"hot"``, ``"cold"``, ``"aligned"`` or ``"given"``.
        couplings: ``"dense"`` or ``"layered"``.
        threads: threads that ran the dense sweeps (1 for layered couplings); the results
            do not depend on it.
    """

    method: str
    replicas: int
    sweeps: int
    burn_in: int
    measure_every: int
    swap_every: int
    seed_entropy: int
    seed_spawn_key: tuple[int, ...]
    dtype: str
    resync_every: int
    start: str
    couplings: str
    threads: int = 1


@dataclass(frozen=True, eq=False)
class MCResult(MCRun):
    """Measurements of R independent replicas at one temperature.

    On the library's result contract (:class:`~replicasolve.results.Result`, through
    :class:`~replicasolve.engines.convergence.MCRun`): ``converged`` is True when the
    integrated autocorrelation times of the energy and (where measured) of |Q_ab| are finite
    and at most 1/50 of the measured span (the conditions under which the error bars hold:
    :mod:`replicasolve.engines.convergence`), ``message`` says which failed; ``to_dict()``
    is a JSON-ready summary (estimates with errors, τ's, shapes; not the series), ``table()``
    its text form, ``errors`` the error bars as ``<name>_error``.

    Attributes:
        T: temperature, in the energy units of J (also as :attr:`temperature`).
        n_spins: N.
        energies: energy per spin H/N, shape ``(n_meas, R)``, one row per measurement.
        magnetizations: (1/N) Σ_i s_i, shape ``(n_meas, R)``.
        overlaps: Q_ab = (1/N) Σ_i s_i^a s_i^b for the pairs a < b (order of
            :attr:`pairs`), shape ``(n_meas, R(R-1)/2)``; zero columns when not measured.
        acceptance: accepted fraction of the flip attempts after burn-in.
        spins: final configurations, int8 ±1, shape ``(N, R)``.
        fields: final incrementally kept local fields u = J s + h, shape ``(R, N)``, in the
            run's dtype.
        max_field_drift: largest max |kept - recomputed| field difference found at a resync
            (0.0 if none was made).
        settings: the run's :class:`MCSettings`.
        wall_time: seconds the whole run took (burn-in and measurements included).
    """

    T: float
    n_spins: int
    energies: np.ndarray
    magnetizations: np.ndarray
    overlaps: np.ndarray
    acceptance: float
    spins: np.ndarray
    fields: np.ndarray
    max_field_drift: float
    settings: MCSettings
    wall_time: float

    @property
    def temperature(self) -> float:
        """Alias of :attr:`T` (the name before the library settled on ``T``)."""
        return self.T

    @property
    def beta(self) -> float:
        """β = 1/T."""
        return 1.0 / self.T

    @property
    def replicas(self) -> int:
        """Number of replicas R."""
        return int(self.energies.shape[1])

    @property
    def pairs(self) -> np.ndarray:
        """Replica index pairs (a, b), a < b, of the overlap columns: shape ``(P, 2)``."""
        return np.stack(np.triu_indices(self.replicas, 1), axis=1)

    def _need_overlaps(self) -> None:
        if self.overlaps.shape[1] == 0:
            raise InvalidInputError("overlaps were not measured (need >= 2 replicas)")

    def _replica_estimate(self, series: np.ndarray) -> Estimate:
        # per-replica time averages are independent: jackknife over replicas
        value = float(series.mean())
        if self.replicas >= 2:
            per = series.mean(axis=0)
            return Estimate(value, float(per.std(ddof=1) / math.sqrt(per.size)))
        return Estimate(value, _jackknife_error(_block_deleted_means(series).ravel()))

    def _overlap_estimate(self, f: Any) -> Estimate:
        """Estimate of f(⟨|q|⟩, ⟨q²⟩, ⟨q⁴⟩) with its error (see the module notes)."""
        self._need_overlaps()
        q = self.overlaps
        r = self.replicas
        moments = np.stack([np.abs(q), q**2, q**4], axis=-1)  # (n_meas, P, 3)
        per_pair = moments.mean(axis=0)
        mean = per_pair.mean(axis=0)
        value = float(f(*mean))
        if r >= 4:
            # delta method: the U-statistic of the linearised kernel ∇f · (|q|, q², q⁴)
            lin = per_pair @ _gradient(f, mean)
            var = _ustat_variance(lin, r)
            if var > 0:
                return Estimate(value, math.sqrt(var))
        if r >= 3:
            deleted = _pair_deleted_means(per_pair, r)
        else:
            deleted = _block_deleted_means(moments.mean(axis=1))
        return Estimate(value, _jackknife_error(np.array([f(*d) for d in deleted])))

    @cached_property
    def energy(self) -> Estimate:
        """⟨H⟩/N with its error (jackknife over replicas)."""
        return self._replica_estimate(self.energies)

    @cached_property
    def magnetization(self) -> Estimate:
        """⟨m⟩ = ⟨(1/N) Σ_i s_i⟩ with its error."""
        return self._replica_estimate(self.magnetizations)

    @cached_property
    def abs_magnetization(self) -> Estimate:
        """⟨|m|⟩ with its error."""
        return self._replica_estimate(np.abs(self.magnetizations))

    # the British spellings of the names above, kept for scripts written before the
    # library settled on "magnetization" (as ParisiResult spells it)
    @property
    def magnetisations(self) -> np.ndarray:
        """Alias of :attr:`magnetizations`."""
        return self.magnetizations

    @property
    def magnetisation(self) -> Estimate:
        """Alias of :attr:`magnetization`."""
        return self.magnetization

    @property
    def abs_magnetisation(self) -> Estimate:
        """Alias of :attr:`abs_magnetization`."""
        return self.abs_magnetization

    @cached_property
    def q_bar(self) -> Estimate:
        """The descriptor q̄ = ⟨|Q_ab|⟩, the mean over pairs a ≠ b and over measurements."""
        return self._overlap_estimate(lambda a, q2, q4: a)

    @cached_property
    def q2(self) -> Estimate:
        """⟨q²⟩ between independent replicas."""
        return self._overlap_estimate(lambda a, q2, q4: q2)

    @cached_property
    def q4(self) -> Estimate:
        """⟨q⁴⟩ between independent replicas."""
        return self._overlap_estimate(lambda a, q2, q4: q4)

    @cached_property
    def chi_sg(self) -> Estimate:
        """Spin-glass susceptibility χ_SG = N ⟨q²⟩."""
        n = self.n_spins
        return self._overlap_estimate(lambda a, q2, q4: n * q2)

    @cached_property
    def binder(self) -> Estimate:
        """Binder cumulant g = ½ (3 - ⟨q⁴⟩ / ⟨q²⟩²) (Binder 1981)."""
        return self._overlap_estimate(lambda a, q2, q4: 0.5 * (3.0 - q4 / q2**2))

    @cached_property
    def overlap_matrix(self) -> np.ndarray:
        """Time-averaged Q_ab, shape ``(R, R)``, ones on the diagonal."""
        r = self.replicas
        m = np.eye(r)
        if self.overlaps.shape[1]:
            iu = np.triu_indices(r, 1)
            m[iu] = self.overlaps.mean(axis=0)
            m[(iu[1], iu[0])] = m[iu]
        return m

    def overlap_histogram(self, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """P(q): (bin centres, probability density) over all pairs and measurements.

        Default bins: one per possible value q ∈ {-1, -1 + 2/N, ..., 1} when N ≤ 200 (each
        value centred in its bin), else 101 equal bins on [-1, 1].
        """
        self._need_overlaps()
        n = self.n_spins
        if bins is None and n <= 200:
            edges = np.linspace(-1 - 1 / n, 1 + 1 / n, n + 2)
        else:
            edges = np.linspace(-1.0, 1.0, (bins or 101) + 1)
        dens, edges = np.histogram(self.overlaps.ravel(), bins=edges, density=True)
        return 0.5 * (edges[1:] + edges[:-1]), dens

    @cached_property
    def tau_energy(self) -> float:
        """Integrated autocorrelation time of the energy, in sweeps (Sokal windowing over the
        measurement series, times ``measure_every``)."""
        return integrated_autocorrelation_time(self.energies) * self.settings.measure_every

    @cached_property
    def tau_abs_q(self) -> float:
        """Integrated autocorrelation time of |Q_ab|, in sweeps."""
        self._need_overlaps()
        return (integrated_autocorrelation_time(np.abs(self.overlaps))
                * self.settings.measure_every)

    @property
    def autocorrelation_times(self) -> dict[str, float]:
        """τ of the energy and, where overlaps were measured, of |Q_ab|, in sweeps."""
        out = {"energy": self.tau_energy}
        if self.overlaps.shape[1]:
            out["abs_q"] = self.tau_abs_q
        return out

    @property
    def span(self) -> float:
        """The measured production span in sweeps (measurements × ``measure_every``)."""
        return float(self.energies.shape[0] * self.settings.measure_every)

    def _summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "T": self.T, "n_spins": self.n_spins, "replicas": self.replicas,
            "measurements": int(self.energies.shape[0]),
            "energy": self.energy, "magnetization": self.magnetization,
            "abs_magnetization": self.abs_magnetization,
        }
        if self.overlaps.shape[1]:
            out.update(q_bar=self.q_bar, q2=self.q2, chi_sg=self.chi_sg, binder=self.binder)
        out.update(acceptance=self.acceptance, tau_energy=self.tau_energy)
        if self.overlaps.shape[1]:
            out["tau_abs_q"] = self.tau_abs_q
        out.update(span=self.span, max_field_drift=self.max_field_drift,
                   wall_time=self.wall_time,
                   shapes={"energies": list(self.energies.shape),
                           "overlaps": list(self.overlaps.shape),
                           "spins": list(self.spins.shape)},
                   settings=self.settings)
        return out

    def summary(self) -> str:
        """A few lines for a log or a notebook."""
        s = self.settings
        lines = [
            f"T = {self.T:.6g} (beta = {self.beta:.6g}), N = {self.n_spins}, "
            f"{self.replicas} replicas, {s.method}, {s.sweeps} sweeps after {s.burn_in}, "
            f"{s.couplings} couplings, {s.dtype}",
            f"  E/N = {self.energy}   m = {self.magnetization}   acceptance "
            f"{self.acceptance:.3f}   tau_E = {self.tau_energy:.3g} sweeps",
        ]
        if self.overlaps.shape[1]:
            lines.append(f"  q_bar = {self.q_bar}   <q^2> = {self.q2}   chi_SG = {self.chi_sg}"
                         f"   Binder g = {self.binder}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class PTResult(PTRun):
    """A parallel-tempering run: one :class:`MCResult` per temperature plus exchange stats.

    On the library's result contract (through
    :class:`~replicasolve.engines.convergence.PTRun`): ``converged`` is True when every
    temperature's :class:`MCResult` is converged (τ of the energy and of |Q_ab| at most 1/50
    of the span), every neighbouring exchange acceptance is above 0.02 and every walker
    completed at least one round trip (:mod:`replicasolve.engines.convergence` gives the
    reasons for these thresholds); ``to_dict()`` a JSON-ready summary, ``table()`` a text
    table over the ladder, :meth:`observables` the same numbers as arrays.

    Attributes:
        T: the ladder, increasing, shape ``(K,)`` (also as :attr:`temperatures`).
        results: per temperature, the R copies' measurements (same order as the ladder).
        swap_acceptance: accepted fraction of the exchanges between T_k and T_{k+1},
            shape ``(K-1,)`` (after burn-in).
        swap_attempts: attempted exchanges per neighbouring pair (after burn-in).
        round_trips_per_walker: completed round trips lowest T → highest T → lowest T of
            each walker (a configuration moving along the ladder) after burn-in,
            shape ``(K·R,)``.
        settings: the run's :class:`MCSettings`.
        wall_time: seconds the whole run took.
    """

    T: np.ndarray
    results: tuple[MCResult, ...]
    swap_acceptance: np.ndarray
    swap_attempts: np.ndarray
    round_trips_per_walker: np.ndarray
    settings: MCSettings
    wall_time: float

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, k: int) -> MCResult:
        return self.results[k]

    @property
    def temperatures(self) -> np.ndarray:
        """Alias of :attr:`T` (the name before the library settled on ``T``)."""
        return self.T

    @property
    def betas(self) -> np.ndarray:
        """β_k = 1/T_k (decreasing)."""
        return 1.0 / self.T

    @property
    def round_trips(self) -> int:
        """Round trips of all walkers together."""
        return int(self.round_trips_per_walker.sum())

    @property
    def round_trip_time(self) -> float:
        """Mean sweeps per round trip of one walker (inf if none was completed)."""
        rt = self.round_trips
        walkers = self.round_trips_per_walker.size
        return self.settings.sweeps * walkers / rt if rt else math.inf

    @property
    def autocorrelation_times_by_T(self) -> list[dict[str, float]]:
        """Per temperature, τ of the energy and of |Q_ab| (sweeps)."""
        return [r.autocorrelation_times for r in self.results]

    @property
    def span(self) -> float:
        """The measured production span in sweeps."""
        return self.results[0].span

    @property
    def swap_rates(self) -> np.ndarray:
        """Alias of :attr:`swap_acceptance` (the name :class:`PTRun` reads)."""
        return self.swap_acceptance

    @property
    def traversals(self) -> np.ndarray:
        """Alias of :attr:`round_trips_per_walker` (the name :class:`PTRun` reads)."""
        return self.round_trips_per_walker

    def _summary(self) -> dict[str, Any]:
        trips = self.round_trips_per_walker
        return {
            "T": self.T, "n_spins": self.results[0].n_spins,
            "replicas_per_T": self.results[0].replicas,
            "swap_acceptance": self.swap_acceptance, "swap_attempts": self.swap_attempts,
            "round_trips": self.round_trips,
            "round_trips_min": int(trips.min()) if trips.size else 0,
            "round_trip_time": self.round_trip_time, "span": self.span,
            "wall_time": self.wall_time,
            "per_T": [r.to_dict() for r in self.results],
            "settings": self.settings,
        }

    def table(self) -> str:
        """A text table over the ladder (T, E/N, ⟨q²⟩, Binder g with errors, acceptance,
        τ_E, exchange acceptance to the next T), then the round trips and ``converged``."""
        obs = self.observables()
        has_q = "q2" in obs
        head = f"{'T':>9} {'E/N':>22} " + (f"{'<q^2>':>22} {'g':>22} " if has_q else "") \
            + f"{'acc':>6} {'tau_E':>8} {'swap':>6}"
        lines = [type(self).__name__, head]
        for k, t in enumerate(obs["T"]):
            row = f"{t:>9.5g} {obs['energy'][k]:>12.7g} ± {obs['energy_err'][k]:<7.2g} "
            if has_q:
                row += (f"{obs['q2'][k]:>12.6g} ± {obs['q2_err'][k]:<7.2g} "
                        f"{obs['binder'][k]:>12.6g} ± {obs['binder_err'][k]:<7.2g} ")
            swap = (f"{self.swap_acceptance[k]:>6.3f}" if k < self.swap_acceptance.size
                    else f"{'':>6}")
            row += f"{obs['acceptance'][k]:>6.3f} {obs['tau_energy'][k]:>8.3g} {swap}"
            lines.append(row.rstrip())
        lines.append(f"round trips {self.round_trips} (min per walker "
                     f"{int(self.round_trips_per_walker.min())}), round-trip time "
                     f"{self.round_trip_time:.4g} sweeps")
        if self.message:
            lines.append(f"message  {self.message}")
        lines.append(f"converged  {self.converged}")
        return "\n".join(lines)

    def observables(self) -> dict[str, np.ndarray]:
        """Per-temperature observables and their errors, as arrays over the ladder (keys
        ``T``, ``energy``, ``energy_err``, ``magnetization``, ... ``acceptance``,
        ``tau_energy``; what ``table()`` returned before it became the text form)."""
        out: dict[str, list[float]] = {"T": list(self.T)}
        names = ["energy", "magnetization"]
        if self.results[0].overlaps.shape[1]:
            names += ["q_bar", "q2", "chi_sg", "binder"]
        for name in names:
            est = [getattr(r, name) for r in self.results]
            out[name] = [e.value for e in est]
            out[name + "_err"] = [e.error for e in est]
        out["acceptance"] = [r.acceptance for r in self.results]
        out["tau_energy"] = [r.tau_energy for r in self.results]
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


@dataclass(frozen=True, eq=False)
class EquilibrationCheck(Result):
    """Hot-start vs cold-start comparison (same couplings, same T, independent streams).

    On the library's result contract: ``converged`` is True when the two runs agree
    (:attr:`agrees`: both z-scores below ``n_sigma``) and each run is converged by the
    one-temperature rule of :mod:`replicasolve.engines.convergence`; ``to_dict()`` holds
    the z-scores and both runs' summaries.

    Attributes:
        hot: the run from random spins.
        cold: the run from the cold start.
        z_energy: |E_hot - E_cold| / combined error.
        z_overlap: the same for ⟨q²⟩ (NaN without overlaps).
        n_sigma: the agreement threshold.
    """

    hot: MCResult
    cold: MCResult
    z_energy: float
    z_overlap: float
    n_sigma: float

    @property
    def agrees(self) -> bool:
        """True when both z-scores are below ``n_sigma``."""
        zs = [self.z_energy] + ([] if math.isnan(self.z_overlap) else [self.z_overlap])
        return all(z < self.n_sigma for z in zs)

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """The starts agree and both runs are converged (see the class docstring)."""
        return self.agrees and self.hot.converged and self.cold.converged

    @property
    def message(self) -> str:
        """Why the check did not pass (empty when it did)."""
        parts = []
        if not self.agrees:
            parts.append(f"hot and cold starts differ: z_energy {self.z_energy:.3g}, "
                         f"z_overlap {self.z_overlap:.3g} (threshold {self.n_sigma:g})")
        for name, run in (("hot", self.hot), ("cold", self.cold)):
            if not run.converged:
                parts.append(f"{name} run: {run.message}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the z-scores, the threshold, both runs' summaries,
        ``converged`` and ``message``."""
        return {"kind": type(self).__name__, "T": self.hot.T, "z_energy": self.z_energy,
                "z_overlap": None if math.isnan(self.z_overlap) else self.z_overlap,
                "n_sigma": self.n_sigma, "agrees": self.agrees,
                "hot": self.hot.to_dict(), "cold": self.cold.to_dict(),
                "converged": bool(self.converged), "message": self.message}

    @property
    def errors(self) -> dict[str, float]:
        """The energy error bars of both runs."""
        return {"hot_energy_error": self.hot.energy.error,
                "cold_energy_error": self.cold.energy.error}


# --------------------------------------------------------------------------- the engine


def _simulate(system: IsingSystem, temps: np.ndarray, *, replicas: int, sweeps: int,
              burn_in: int, method: str, seed: Any, measure_every: int, swap_every: int,
              start: Any, dtype: Any, resync_every: int | None, overlaps: bool,
              threads: int | None = 1
              ) -> tuple[list[MCResult], dict[str, np.ndarray], MCSettings, float]:
    from . import _ising_kernels as kern  # compiled on first use only

    t_start = time.perf_counter()
    if not isinstance(system, IsingSystem):
        raise InvalidInputError(
            f"system must be an IsingSystem (IsingSystem.dense / .layered), got "
            f"{type(system).__name__}"
        )
    r = _int_arg(replicas, "replicas", 1)
    if overlaps and r < 2:
        raise InvalidInputError(
            f"replicas must be >= 2 to measure overlaps, got {r}; pass overlaps=False"
        )
    sweeps = _int_arg(sweeps, "sweeps", 1)
    burn_in = _int_arg(burn_in, "burn_in", 0)
    measure_every = _int_arg(measure_every, "measure_every", 1)
    if measure_every > sweeps:
        raise InvalidInputError(
            f"measure_every ({measure_every}) exceeds sweeps ({sweeps}): nothing would be measured"
        )
    swap_every = _int_arg(swap_every, "swap_every", 1)
    heatbath = _method(method)
    dname, dt = _dtype(dtype)
    if resync_every is None:
        resync_every = 100 if dname == "float32" else 1000
    resync_every = _int_arg(resync_every, "resync_every", 0)
    ss = _seed_sequence(seed)
    threads = _threads(threads)

    n = system.n
    nt = temps.size
    ncol = nt * r
    betas = 1.0 / temps
    children = ss.spawn(ncol + 1)
    gens = [np.random.Generator(np.random.PCG64(c)) for c in children[:ncol]]
    swap_gen = np.random.Generator(np.random.PCG64(children[ncol]))

    # every walker draws its random start first, whatever the start, so that the streams
    # of the sweeps do not depend on the kind of start
    spins = np.empty((n, ncol), dtype=np.int8)
    for c, g in enumerate(gens):
        spins[:, c] = 2 * g.integers(0, 2, size=n, dtype=np.int8) - 1
    start_name = start if isinstance(start, str) else "given"
    if isinstance(start, str):
        if start not in ("hot", "cold", "aligned"):
            raise InvalidInputError(
                f"start must be 'hot', 'cold', 'aligned' or an array of spins, got {start!r}"
            )
        if start == "aligned":
            spins[:] = 1
    else:
        given = _spin_array(start, n).astype(np.int8)
        if given.ndim == 1:
            spins[:] = given[:, None]
        elif given.shape[1] == ncol:
            spins[:] = given
        elif given.shape[1] == r:
            spins[:] = np.tile(given, (1, nt))
        else:
            raise InvalidInputError(
                f"start spins must have shape ({n},), ({n}, {r}) or ({n}, {ncol}), "
                f"got {given.shape}"
            )

    data, seg_col, seg_len, seg_ptr = system._segments(dt)
    h64 = system.h
    h = h64.astype(dt)
    # dense: fields rows padded and aligned like the rows of J (the padding stays zero)
    npad = _padded(n, dt) if system.J is not None else n
    fields = _aligned_zeros((ncol, npad), dt)
    scratch = _aligned_zeros((ncol, npad), dt)
    bsize = min(_DENSE_BLOCK, n) if system.J is not None else 0
    tile = _dense_tile(bsize, dt)
    if bsize > 0:
        dense_j = data.reshape(n, npad)  # a view: row i of J (= column i), then padding
    else:
        dense_j = np.zeros((0, 0), dt)
    bs = max(bsize, 1)  # scratch of the blocked kernels (unused, but typed, when bsize = 0)
    rows = np.zeros((ncol, bs), np.int64)
    sg = np.zeros((ncol, bs), dt)
    nf = np.zeros(ncol, np.int64)
    # threads: disjoint groups of columns swept side by side (dense couplings only); the
    # group boundaries fall on whole cache lines of ``pend`` where the columns allow it,
    # and the scratch each group writes per spin has a cache line of its own per group
    # (at most numba's thread count: a group streams all of J, so more groups than threads
    # would only add traffic)
    groups = min(threads, ncol, kern.numba.config.NUMBA_NUM_THREADS) if bsize > 0 else 1
    per_line = 64 // np.dtype(dt).itemsize
    unit = per_line if ncol >= per_line * groups else 1
    units = -(-ncol // unit)
    bounds = np.array([min(ncol, unit * (g * units // groups)) for g in range(groups + 1)],
                      np.int64)
    flips_g = _aligned_zeros((groups, _padded(nt, np.int64)), np.int64)
    nf_g = _aligned_zeros((groups, _padded(ncol, np.int64)), np.int64)
    code_g = _aligned_zeros((groups, _padded(ncol, np.int8)), np.int8)
    pend = _aligned_zeros((bs, ncol), dt)
    xs = _aligned_zeros((bs, ncol), np.float64)
    code = np.zeros(ncol, np.int8)

    def fresh() -> None:
        if bsize > 0:
            kern.fresh_fields_dense(dense_j, h, spins, fields, bsize, tile, rows, sg, nf)
        else:
            kern.fresh_fields(data, seg_col, seg_len, seg_ptr, h, spins, fields)

    fresh()
    if start_name == "cold":
        kern.quench(data, seg_col, seg_len, seg_ptr, spins, fields, _QUENCH_MAX_SWEEPS)
        fresh()

    col_beta = np.repeat(betas, r)
    temp_of_col = np.repeat(np.arange(nt, dtype=np.int64), r)
    col_of_slot = np.arange(ncol, dtype=np.int64).reshape(nt, r)
    n_meas = sweeps // measure_every
    npair = r * (r - 1) // 2 if overlaps else 0
    energies = np.zeros((n_meas, nt, r))
    mags = np.zeros((n_meas, nt, r))
    ovl = np.zeros((n_meas, nt, npair))
    flips_by_temp = np.zeros(nt, np.int64)
    swap_tries = np.zeros(max(nt - 1, 1), np.int64)
    swap_accepts = np.zeros(max(nt - 1, 1), np.int64)
    rt_state = (temp_of_col == 0).astype(np.int8)
    round_trips = np.zeros(ncol, np.int64)
    drift = np.zeros(1)
    idx = np.zeros(ncol, np.int64)
    dl = np.zeros(ncol, dtype=dt)
    buf = np.zeros((r, n), np.int8)

    total = burn_in + sweeps
    chunk = max(1, _CHUNK_ELEMS // (ncol * n))
    g0 = 0
    saved_threads = kern.numba.get_num_threads()
    if groups > 1:
        kern.numba.set_num_threads(groups)
    try:
        while g0 < total:
            m = min(chunk, total - g0)
            rnd = np.empty((ncol, m, n))
            for c, g in enumerate(gens):
                g.random(out=rnd[c])
            n_swap = (g0 + m) // swap_every - g0 // swap_every if nt > 1 else 0
            swap_rnd = swap_gen.random((n_swap, r, max(nt - 1, 1)))
            if groups > 1:
                used = kern.run_chunk_threads(
                    data, seg_col, seg_len, seg_ptr, h, h64, spins, fields, scratch,
                    betas, col_beta, temp_of_col, col_of_slot, rnd, swap_rnd, heatbath,
                    g0, m, burn_in, measure_every, swap_every, resync_every,
                    energies, mags, ovl, flips_by_temp, swap_tries, swap_accepts,
                    rt_state, round_trips, drift, buf,
                    dense_j, bsize, tile, rows, sg, nf, pend, xs, flips_g, nf_g, code_g,
                    bounds,
                )
            else:
                used = kern.run_chunk(
                    data, seg_col, seg_len, seg_ptr, h, h64, spins, fields, scratch,
                    betas, col_beta, temp_of_col, col_of_slot, rnd, swap_rnd, heatbath,
                    g0, m, burn_in, measure_every, swap_every, resync_every,
                    energies, mags, ovl, flips_by_temp, swap_tries, swap_accepts,
                    rt_state, round_trips, drift, idx, dl, buf,
                    dense_j, bsize, tile, rows, sg, nf, pend, xs, code,
                )
            assert used == n_swap  # the schedule above and the kernel's must agree
            g0 += m
    finally:
        kern.numba.set_num_threads(saved_threads)
    wall = time.perf_counter() - t_start

    settings = MCSettings(
        method=method, replicas=r, sweeps=sweeps, burn_in=burn_in, measure_every=measure_every,
        swap_every=swap_every, seed_entropy=int(ss.entropy), seed_spawn_key=tuple(ss.spawn_key),
        dtype=dname, resync_every=resync_every, start=start_name, couplings=system.kind,
        threads=groups,
    )
    offset = system.energy_offset / n
    results = []
    for k in range(nt):
        cols = col_of_slot[k]
        results.append(MCResult(
            T=float(temps[k]), n_spins=n,
            energies=energies[:, k, :] + offset, magnetizations=mags[:, k, :].copy(),
            overlaps=ovl[:, k, :].copy(),
            acceptance=float(flips_by_temp[k]) / (n * r * sweeps),
            spins=spins[:, cols].copy(), fields=fields[cols, :n].copy(),
            max_field_drift=float(drift[0]), settings=settings, wall_time=wall,
        ))
    stats = {"swap_tries": swap_tries[: nt - 1], "swap_accepts": swap_accepts[: nt - 1],
             "round_trips": round_trips}
    return results, stats, settings, wall


def run_replicas(system: IsingSystem, temperature: float, *, replicas: int = 32,
                 sweeps: int = 2000, burn_in: int = 1000, method: str = "metropolis",
                 seed: int | np.random.SeedSequence | None = 0, measure_every: int = 1,
                 start: str | np.ndarray = "hot", dtype: str = "float64",
                 resync_every: int | None = None, overlaps: bool = True,
                 threads: int | None = 1) -> MCResult:
    """Sample exp(-H/T) with R independent replicas at one temperature.

    Args:
        system: the couplings and fields (:class:`IsingSystem`).
        temperature: T > 0 in the energy units of J.
        replicas: R, independent Markov chains on the same couplings (≥ 2 for overlaps).
        sweeps: production sweeps (a sweep = one flip attempt per spin, in order 0..N-1).
        burn_in: sweeps discarded first.
        method: ``"metropolis"`` (accept with min(1, e^{-ΔE/T})) or ``"heatbath"``
            (Glauber: flip with probability 1/(1 + e^{ΔE/T})).
        seed: int, ``SeedSequence`` or None (fresh entropy, recorded in the settings).
        measure_every: sweeps between measurements (energy, magnetization, overlaps).
        start: ``"hot"`` (random spins), ``"cold"`` (each replica's random spins quenched
            greedily to a local minimum of H), ``"aligned"`` (all +1: the cold start of a
            ferromagnet), or spins of shape ``(N,)`` or ``(N, R)``.
        dtype: ``"float64"`` or ``"float32"`` for J and the local fields.
        resync_every: sweeps between recomputations of the local fields from scratch
            (default 100 for float32, 1000 for float64; 0 never).
        overlaps: measure the R(R-1)/2 overlaps Q_ab at each measurement.
        threads: threads for the sweeps of dense couplings (default 1; ``None``: numba's
            current thread count, ``numba.get_num_threads()``). The replicas are split
            into that many groups, swept side by side over the same blocks of J; the
            results are bitwise the same for any value. It is capped at the number of
            replicas (columns) and at numba's ``NUMBA_NUM_THREADS``; the number used is
            recorded in ``settings.threads``. Layered couplings always use one thread.
            With ``threads > 1``, do not start runs from several Python threads at once
            under numba's "workqueue" threading layer (the fallback when neither TBB nor
            OpenMP is available: it is not thread-safe).

    Returns:
        An :class:`MCResult` (energies per spin, magnetizations, overlaps, final spins).

    Raises:
        InvalidInputError: T ≤ 0 or not finite, replicas < 2 with overlaps, bad counts,
            method, dtype, start, seed or threads.
    """
    t = np.array([_temperature(temperature)])
    results, _, _, _ = _simulate(
        system, t, replicas=replicas, sweeps=sweeps, burn_in=burn_in, method=method,
        seed=seed, measure_every=measure_every, swap_every=1, start=start, dtype=dtype,
        resync_every=resync_every, overlaps=overlaps, threads=threads,
    )
    return results[0]


def parallel_tempering(system: IsingSystem, temperatures: Sequence[float] | np.ndarray, *,
                       replicas_per_T: int = 8, sweeps: int = 2000, burn_in: int = 1000,
                       swap_every: int = 1, method: str = "metropolis",
                       seed: int | np.random.SeedSequence | None = 0, measure_every: int = 1,
                       start: str | np.ndarray = "hot", dtype: str = "float64",
                       resync_every: int | None = None, overlaps: bool = True,
                       threads: int | None = 1) -> PTResult:
    """Parallel tempering (replica exchange) over an increasing temperature ladder.

    ``replicas_per_T`` independent copies each hold one configuration per temperature; all
    K·R configurations are swept together, and every ``swap_every`` sweeps each copy tries
    to exchange the configurations of neighbouring temperatures (Hukushima & Nemoto 1996).
    Overlaps are measured between the copies at each temperature.

    Args:
        system: the couplings and fields.
        temperatures: T_0 < T_1 < ... < T_{K-1}, all > 0 (K ≥ 2).
        replicas_per_T: R, independent copies (≥ 2 for overlaps).
        swap_every: sweeps between exchange attempts.
        Other arguments: as in :func:`run_replicas` (``start`` arrays may also have shape
            ``(N, K·R)``, column k·R + a for temperature k and copy a; ``threads`` splits
            all K·R configurations into groups).

    Returns:
        A :class:`PTResult` with one :class:`MCResult` per temperature, the exchange
        acceptance of each neighbouring pair and the walkers' round trips.

    Raises:
        InvalidInputError: a ladder that is not strictly increasing, has fewer than two
            entries or a T ≤ 0; and the errors of :func:`run_replicas`.
    """
    temps = _ladder(temperatures)
    results, stats, settings, wall = _simulate(
        system, temps, replicas=replicas_per_T, sweeps=sweeps, burn_in=burn_in,
        method=method, seed=seed, measure_every=measure_every, swap_every=swap_every,
        start=start, dtype=dtype, resync_every=resync_every, overlaps=overlaps,
        threads=threads,
    )
    tries = stats["swap_tries"]
    rate = np.where(tries > 0, stats["swap_accepts"] / np.maximum(tries, 1), np.nan)
    return PTResult(
        T=temps, results=tuple(results), swap_acceptance=rate,
        swap_attempts=tries.copy(), round_trips_per_walker=stats["round_trips"].copy(),
        settings=settings, wall_time=wall,
    )


def check_equilibration(system: IsingSystem, temperature: float, *, replicas: int = 16,
                        sweeps: int = 2000, burn_in: int = 1000, method: str = "metropolis",
                        seed: int | np.random.SeedSequence | None = 0,
                        cold_start: str = "cold", n_sigma: float = 5.0,
                        **options: Any) -> EquilibrationCheck:
    """Run from a hot (random) and a cold start and compare E/N and ⟨q²⟩.

    The two runs use independent streams (the seed is spawned in two), so their errors are
    independent and z = |a - b| / sqrt(err_a² + err_b²) is a fair test: both should be
    below ``n_sigma`` once ``burn_in`` exceeds the equilibration time.

    Args:
        cold_start: ``"cold"`` (greedy quench to a local minimum) or ``"aligned"`` (all +1).
        options: passed to :func:`run_replicas` (``measure_every``, ``dtype``, ...).
    """
    if cold_start not in ("cold", "aligned"):
        raise InvalidInputError(f"cold_start must be 'cold' or 'aligned', got {cold_start!r}")
    s_hot, s_cold = _seed_sequence(seed).spawn(2)
    common = dict(replicas=replicas, sweeps=sweeps, burn_in=burn_in, method=method, **options)
    hot = run_replicas(system, temperature, seed=s_hot, start="hot", **common)
    cold = run_replicas(system, temperature, seed=s_cold, start=cold_start, **common)

    def z(a: Estimate, b: Estimate) -> float:
        err = math.hypot(a.error, b.error)
        return abs(a.value - b.value) / err if err > 0 else (0.0 if a.value == b.value
                                                             else math.inf)

    zq = z(hot.q2, cold.q2) if hot.overlaps.shape[1] else math.nan
    return EquilibrationCheck(hot=hot, cold=cold, z_energy=z(hot.energy, cold.energy),
                              z_overlap=zq, n_sigma=float(n_sigma))
