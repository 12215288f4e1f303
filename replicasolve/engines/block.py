"""Layer-parallel (block) heat-bath Monte Carlo of Ising spins on layered couplings.

The model is the one of :mod:`replicasolve.engines.ising` restricted to the couplings of a
layered network (:class:`~replicasolve.tap.bonds.LayeredBonds`, weights W^l of shape
``(N_l, N_{l-1})``, l = 1..L, spin layers 0..L)::

    H(s) = -Σ_l Σ_ij W^l_ij s^l_i s^{l-1}_j - Σ_i h_i s_i,    s_i = ±1,

with temperatures T in the energy units of W (β = 1/T); energies are reported per spin
(H/N), magnetizations and overlaps per spin, exactly as the single-flip engine reports them.

Dynamics. The spins of one layer do not interact with each other, so given layers l-1 and
l+1 every spin of layer l is independent, with the conditional law
P(s^l_i = +1 | rest) = 1/(1 + exp(-2β U^l_i)) for the local fields

    U_l = W_l S_{l-1} + W_{l+1}ᵀ S_{l+1} + h_l

(one matrix product per neighbouring layer). S_l holds one column per configuration: every
replica and, in parallel tempering, every temperature of the ladder, so a whole layer of all
configurations is resampled exactly (heat bath, or Gibbs sampling: Geman & Geman, IEEE PAMI 6,
721 (1984); the layered form is the block Gibbs sampler of restricted Boltzmann machines,
Hinton, Neural Comput. 14, 1771 (2002)) from two GEMMs. One sweep resamples the even layers
(0, 2, ...) and then the odd layers (1, 3, ...): each half is an exact draw from a
conditional law of the target exp(-H/T), so every half sweep leaves that law invariant and
the sweep is a valid Markov chain for it (it is irreducible: every configuration has
positive probability after one sweep at T > 0). A sweep updates every spin once, as a sweep
of the single-flip engine does. The uniform u is turned into a spin as s = +1 if
2u - 1 < tanh(βU), else -1 (the same probability, without overflow).

Acceptance. A heat-bath update has no rejection; :attr:`MCResult.acceptance` reports the
fraction of spin updates after burn-in that changed the spin (the single-flip heat-bath
engine's acceptance means the same thing).

Energy. Every coupling joins an even and an odd layer, so after the odd layers were
resampled from fields U_odd computed with the final even layers,
H = -Σ_{l odd} s_l · U_l - Σ_{l even} h_l · s_l needs no further product. The column sums are
accumulated in float64 (in float32 runs the products carry float32 rounding, ~1e-7 relative).
Fields are recomputed from the spins at every half sweep, so nothing drifts:
``max_field_drift`` is 0.0 and ``fields`` holds the final fields u = J s + h, recomputed from
the final spins in the run's dtype.

Parallel tempering (Swendsen & Wang, PRL 57, 2607 (1986); Hukushima & Nemoto, J. Phys. Soc.
Jpn. 65, 1604 (1996)): R copies each hold one configuration per temperature; every
``swap_every`` sweeps each copy attempts the exchanges of neighbouring temperatures
k, k+1 (k = 0, 1, ... in order), accepted with min(1, exp[(β_k - β_{k+1})(E_k - E_{k+1})]),
as in :func:`~replicasolve.engines.ising.parallel_tempering`. An exchange moves the
temperatures, not the spins (each column keeps its configuration, its β changes). Round
trips are counted as there (lowest T → highest T → lowest T after burn-in).

Backends. ``backend="numpy"`` runs the products on numpy's BLAS (its thread count set to
``threads`` for the run with threadpoolctl, where installed); ``backend="torch"`` on torch,
on ``device="cpu"`` (``torch.set_num_threads(threads)`` for the run) or on a CUDA device
(``"cuda"``, ``"cuda:N"``). torch is imported only when that backend is used. Both run in
float64 or float32 (``dtype``).

Convolutions. A block may be a :class:`~replicasolve.tap.conv.ConvBlock` (the couplings of a
``Conv2d`` between two flattened feature maps, :class:`~replicasolve.tap.conv.ConvLayeredBonds`):
it is never densified. numpy applies it as a scipy CSR matrix (its transpose as the CSC
view of the same arrays; the entries are counted and refused up front beyond
:data:`~replicasolve.tap.conv.MAX_BLOCK_NNZ` or the machine's memory), torch as ``conv2d``
and ``conv_transpose2d`` (the adjoint of the same convolution), on the CPU or a GPU.

Randomness. The seed (int or ``SeedSequence``) is spawned into three streams: the random start
(numpy PCG64, drawn on the host, so every backend starts from the same spins), the uniforms of
the sweeps (numpy PCG64, or a torch generator on the run's device seeded from the stream) and
the exchanges (numpy PCG64). The same seed gives the same trajectory on the same backend,
dtype and device; different backends give statistically equivalent, not identical, runs.

Errors are those of :class:`~replicasolve.engines.ising.MCResult` (independent replicas; see
:mod:`replicasolve.engines.ising`), and ``converged`` the one verdict of
:mod:`replicasolve.engines.convergence`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..tap.conv import ConvBlock
from .ising import IsingSystem, MCResult, MCSettings, PTResult
from .settings import dtype_of, ladder, seed_sequence, thread_count, whole_number
from .settings import temperature as _temperature

__all__ = [
    "BACKENDS",
    "BlockSettings",
    "check_backend",
    "parallel_tempering_block",
    "run_replicas_block",
]

#: the array libraries the block engine runs on
BACKENDS = ("numpy", "torch")
_QUENCH_MAX_SWEEPS = 10_000


@dataclass(frozen=True)
class BlockSettings(MCSettings):
    """:class:`~replicasolve.engines.ising.MCSettings` of a block run, plus where it ran.

    Attributes:
        engine: ``"block"``.
        backend: ``"numpy"`` or ``"torch"``.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    engine: str = "block"
    backend: str = "numpy"
    device: str = "cpu"


def check_backend(backend: Any, device: Any) -> tuple[str, str]:
    """Check a backend and a device name without importing torch.

    Args:
        backend: one of :data:`BACKENDS`.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (N a whole number); numpy runs on
            ``"cpu"`` only.

    Returns:
        ``(backend, device)``.

    Raises:
        InvalidInputError: an unknown backend or device, or numpy asked for a GPU.
    """
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    ok = isinstance(device, str) and (
        device in ("cpu", "cuda")
        or (device.startswith("cuda:") and device[5:].isdigit() and device[5:].isascii())
    )
    if not ok:
        raise InvalidInputError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if backend == "numpy" and device != "cpu":
        raise InvalidInputError(
            f"the numpy backend runs on the CPU only (device {device!r}); pass backend='torch'"
        )
    return backend, device


# --------------------------------------------------------------------------- array backends


class _NumpyOps:
    """The few array operations of the sweep, on numpy (BLAS products, in-place updates)."""

    def __init__(self, dt: type, seed: np.random.SeedSequence) -> None:
        self.dt = dt
        self.gen = np.random.Generator(np.random.PCG64(seed))

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=self.dt)

    def host(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def block(self, w: Any) -> tuple[Any, Any]:
        # (W, Wᵀ): a convolution as a CSR matrix and its CSC transpose (a view), else dense
        if isinstance(w, ConvBlock):
            m = w.csr(self.dt)
            return m, m.T
        a = self.asarray(w)
        return a, a.T

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape, self.dt)

    def zeros_count(self, n: int) -> np.ndarray:
        return np.zeros(n, np.float64)

    def matmul(self, a: Any, b: Any, out: Any) -> None:
        if isinstance(a, np.ndarray):
            np.matmul(a, b, out=out)
        else:  # scipy sparse: its product allocates the result
            out[...] = a @ b

    def addmatmul(self, a: Any, b: Any, out: Any, tmp: Any) -> None:
        if isinstance(a, np.ndarray):
            np.matmul(a, b, out=tmp)
            out += tmp
        else:
            out += a @ b

    def add(self, out: Any, v: Any) -> None:
        out += v

    def fill(self, out: Any, v: Any) -> None:
        out[...] = v

    def heat_bath(self, s: Any, u: Any, beta: Any, work: Any, rnd: Any) -> Any:
        # s <- +1 where 2r - 1 < tanh(βU), else -1; returns the changed count per column
        np.multiply(u, beta, out=work)
        np.tanh(work, out=work)
        self.gen.random(out=rnd, dtype=self.dt)
        rnd *= 2
        rnd -= 1
        np.less(rnd, work, out=work, casting="unsafe")  # 1.0 / 0.0
        work *= 2
        work -= 1
        changed = np.count_nonzero(work != s, axis=0)
        s[...] = work
        return changed

    def quench(self, s: Any, u: Any) -> int:
        new = np.where(u > 0, 1, np.where(u < 0, -1, s)).astype(self.dt)
        changed = int(np.count_nonzero(new != s))
        s[...] = new
        return changed

    def coldot(self, a: Any, b: Any) -> np.ndarray:
        return np.einsum("ic,ic->c", a, b, dtype=np.float64)

    def vecdot(self, h: Any, s: Any) -> np.ndarray:
        return np.einsum("i,ic->c", h, s, dtype=np.float64)

    def colsum(self, s: Any) -> np.ndarray:
        return s.sum(axis=0, dtype=np.float64)

    def add_by_index(self, acc: Any, index: Any, values: Any) -> None:
        np.add.at(acc, index, values)

    def gram(self, s: Any, cols: np.ndarray) -> np.ndarray:
        # (K, R, R) overlaps Σ_i s_i^a s_i^b for the columns cols (K, R)
        nt, r = cols.shape
        x = np.take(s, cols.reshape(-1), axis=1)  # (N, K·R), temperature k in a slab
        out = np.empty((nt, r, r), np.float64)
        for k in range(nt):
            xk = x[:, k * r : (k + 1) * r]  # a strided view: BLAS reads it in place
            out[k] = xk.T @ xk
        return out

    def vector(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(v, dtype=self.dt)

    def index(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(v, dtype=np.int64)

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[None]:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # optional: without it numpy's BLAS keeps its own count
            yield
            return
        with threadpool_limits(limits=n, user_api="blas"):
            yield


class _TorchOps:
    """The same operations on torch tensors (CPU or CUDA)."""

    def __init__(self, dt: type, seed: np.random.SeedSequence, device: str) -> None:
        try:
            import torch
        except ImportError:
            raise InvalidInputError(
                "backend='torch' needs torch (pip install torch, or the [torch] extra)"
            ) from None
        if device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise InvalidInputError(
                    f"device {device!r} asked for, but no CUDA device is available to torch "
                    "(torch.cuda.is_available() is False); use device='cpu'"
                )
            k = int(device[5:]) if ":" in device else 0
            if k >= torch.cuda.device_count():
                raise InvalidInputError(
                    f"device {device!r} asked for, but torch sees "
                    f"{torch.cuda.device_count()} CUDA device(s)"
                )
        self.torch = torch
        self.device = torch.device(device)
        self.tdt = torch.float32 if dt is np.float32 else torch.float64
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(int(seed.generate_state(1, np.uint64)[0]))

    def asarray(self, a: np.ndarray) -> Any:
        return self.torch.as_tensor(
            np.ascontiguousarray(a), dtype=self.tdt, device=self.device
        ).contiguous()

    def host(self, a: Any) -> np.ndarray:
        return a.detach().cpu().numpy()

    def block(self, w: Any) -> tuple[Any, Any]:
        # (W, Wᵀ): a convolution as conv2d and conv_transpose2d (callables), else dense
        if isinstance(w, ConvBlock):
            return w.torch_operators(self.tdt, self.device)
        a = self.asarray(w)
        return a, a.T

    def empty(self, shape: tuple[int, ...]) -> Any:
        return self.torch.empty(shape, dtype=self.tdt, device=self.device)

    def zeros_count(self, n: int) -> Any:
        return self.torch.zeros(n, dtype=self.torch.float64, device=self.device)

    def matmul(self, a: Any, b: Any, out: Any) -> None:
        if callable(a):
            out.copy_(a(b))
        else:
            self.torch.matmul(a, b, out=out)

    def addmatmul(self, a: Any, b: Any, out: Any, tmp: Any) -> None:
        if callable(a):
            out.add_(a(b))
        else:
            out.addmm_(a, b)

    def add(self, out: Any, v: Any) -> None:
        out.add_(v)

    def fill(self, out: Any, v: Any) -> None:
        out.copy_(v.expand_as(out))

    def heat_bath(self, s: Any, u: Any, beta: Any, work: Any, rnd: Any) -> Any:
        torch = self.torch
        torch.mul(u, beta, out=work)
        torch.tanh(work, out=work)
        torch.rand(rnd.shape, generator=self.gen, dtype=self.tdt, device=self.device, out=rnd)
        rnd.mul_(2).sub_(1)
        new = torch.where(rnd < work, 1.0, -1.0).to(self.tdt)
        changed = (new != s).sum(dim=0)
        s.copy_(new)
        return changed

    def quench(self, s: Any, u: Any) -> int:
        torch = self.torch
        new = torch.where(u > 0, torch.ones_like(s), torch.where(u < 0, -torch.ones_like(s), s))
        changed = int((new != s).sum().item())
        s.copy_(new)
        return changed

    def coldot(self, a: Any, b: Any) -> Any:
        return (a * b).sum(dim=0, dtype=self.torch.float64)

    def vecdot(self, h: Any, s: Any) -> Any:
        return h.to(self.torch.float64) @ s.to(self.torch.float64)

    def colsum(self, s: Any) -> Any:
        return s.sum(dim=0, dtype=self.torch.float64)

    def add_by_index(self, acc: Any, index: Any, values: Any) -> None:
        acc.index_add_(0, index, values.to(self.torch.float64))

    def gram(self, s: Any, cols: np.ndarray) -> np.ndarray:
        idx = self.torch.as_tensor(cols.reshape(-1), device=self.device)
        x = s.index_select(1, idx).reshape(s.shape[0], cols.shape[0], cols.shape[1])
        x = x.permute(1, 0, 2)
        return self.host(self.torch.bmm(x.transpose(1, 2), x)).astype(np.float64)

    def vector(self, v: np.ndarray) -> Any:
        return self.torch.as_tensor(np.asarray(v), dtype=self.tdt, device=self.device)

    def index(self, v: np.ndarray) -> Any:
        return self.torch.as_tensor(np.asarray(v, dtype=np.int64), device=self.device)

    @contextlib.contextmanager
    def threads(self, n: int) -> Iterator[None]:
        saved = self.torch.get_num_threads()
        self.torch.set_num_threads(n)
        try:
            yield
        finally:
            self.torch.set_num_threads(saved)


# --------------------------------------------------------------------------- the engine


def _start_spins(
    start: Any, n: int, r: int, ncol: int, gen: np.random.Generator
) -> tuple[np.ndarray, str]:
    spins = (2 * gen.integers(0, 2, size=(n, ncol), dtype=np.int8) - 1).astype(np.int8)
    if isinstance(start, str):
        if start not in ("hot", "cold", "aligned"):
            raise InvalidInputError(
                f"start must be 'hot', 'cold', 'aligned' or an array of spins, got {start!r}"
            )
        if start == "aligned":
            spins[:] = 1
        return spins, start
    given = np.asarray(start)
    if given.ndim not in (1, 2) or given.shape[0] != n:
        raise InvalidInputError(f"spins must have shape ({n},) or ({n}, R), got {given.shape}")
    if not np.all((given == 1) | (given == -1)):
        raise InvalidInputError("spins must be +1 or -1")
    given = given.astype(np.int8)
    if given.ndim == 1:
        spins[:] = given[:, None]
    elif given.shape[1] == ncol:
        spins[:] = given
    elif given.shape[1] == r:
        spins[:] = np.tile(given, (1, ncol // r))
    else:
        raise InvalidInputError(
            f"start spins must have shape ({n},), ({n}, {r}) or ({n}, {ncol}), got {given.shape}"
        )
    return spins, "given"


def _simulate(
    system: IsingSystem,
    temps: np.ndarray,
    *,
    replicas: int,
    sweeps: int,
    burn_in: int,
    seed: Any,
    measure_every: int,
    swap_every: int,
    start: Any,
    dtype: Any,
    overlaps: bool,
    backend: str,
    device: str,
    threads: int | None,
) -> tuple[list[MCResult], dict[str, np.ndarray], BlockSettings, float]:
    t_start = time.perf_counter()
    if not isinstance(system, IsingSystem):
        raise InvalidInputError(
            f"system must be an IsingSystem (IsingSystem.layered), got {type(system).__name__}"
        )
    if system.bonds is None:
        raise InvalidInputError(
            "the block engine needs layered couplings (IsingSystem.layered / LayeredBonds): "
            "it resamples whole layers that do not interact within themselves; dense "
            "couplings have no such layers, use the single-flip engine (engine='single')"
        )
    backend, device = check_backend(backend, device)
    r = whole_number(replicas, "replicas", 1)
    if overlaps and r < 2:
        raise InvalidInputError(
            f"replicas must be >= 2 to measure overlaps, got {r}; pass overlaps=False"
        )
    sweeps = whole_number(sweeps, "sweeps", 1)
    burn_in = whole_number(burn_in, "burn_in", 0)
    measure_every = whole_number(measure_every, "measure_every", 1)
    if measure_every > sweeps:
        raise InvalidInputError(
            f"measure_every ({measure_every}) exceeds sweeps ({sweeps}): nothing would be measured"
        )
    swap_every = whole_number(swap_every, "swap_every", 1)
    dname, dt = dtype_of(dtype)
    if not isinstance(overlaps, bool):
        raise InvalidInputError(f"overlaps must be True or False, got {overlaps!r}")
    nthreads = thread_count(threads) if threads is not None else None
    ss = seed_sequence(seed)
    s_start, s_sweep, s_swap = ss.spawn(3)
    ops: Any = _NumpyOps(dt, s_sweep) if backend == "numpy" else _TorchOps(dt, s_sweep, device)

    bonds = system.bonds
    n = system.n
    nt = temps.size
    ncol = nt * r
    off = bonds.offsets
    nlay = len(bonds.sizes)
    betas = 1.0 / temps
    spins0, start_name = _start_spins(
        start, n, r, ncol, np.random.Generator(np.random.PCG64(s_start))
    )
    swap_gen = np.random.Generator(np.random.PCG64(s_swap))

    pairs = [ops.block(w) for w in bonds.weights]  # W^l, (N_l, N_{l-1}), l = 1..L
    ws = [p[0] for p in pairs]
    wts = [p[1] for p in pairs]  # dense: views, the GEMM reads them transposed
    h_all = ops.asarray(system.h.reshape(-1, 1))
    S = ops.asarray(spins0)  # (N, C), one column per configuration
    U = ops.empty((n, ncol))
    work = ops.empty((n, ncol))
    rnd = ops.empty((n, ncol))
    tmp = ops.empty((max(bonds.sizes), ncol))
    lay = [slice(off[l], off[l + 1]) for l in range(nlay)]
    even = list(range(0, nlay, 2))
    odd = list(range(1, nlay, 2))
    h_even = [h_all[lay[l], 0] for l in even]

    def fields(l: int) -> Any:
        # U_l = W_l S_{l-1} + W_{l+1}ᵀ S_{l+1} + h_l: the first product written in place
        u = U[lay[l]]
        if l >= 1:
            ops.matmul(ws[l - 1], S[lay[l - 1]], u)
            if l < nlay - 1:
                ops.addmatmul(wts[l], S[lay[l + 1]], u, tmp[: u.shape[0]])
        elif nlay > 1:
            ops.matmul(wts[l], S[lay[l + 1]], u)
        else:
            ops.fill(u, h_all[lay[l]] * 0)
        ops.add(u, h_all[lay[l]])
        return u

    col_beta_h = np.repeat(betas, r)
    temp_of_col = np.repeat(np.arange(nt, dtype=np.int64), r)
    col_of_slot = np.arange(ncol, dtype=np.int64).reshape(nt, r)
    n_meas = sweeps // measure_every
    iu = np.triu_indices(r, 1) if overlaps else (np.zeros(0, np.int64),) * 2
    npair = iu[0].size
    energies = np.zeros((n_meas, nt, r))
    mags = np.zeros((n_meas, nt, r))
    ovl = np.zeros((n_meas, nt, npair))
    changes = ops.zeros_count(nt)
    swap_tries = np.zeros(max(nt - 1, 1), np.int64)
    swap_accepts = np.zeros(max(nt - 1, 1), np.int64)
    rt_state = (temp_of_col == 0).astype(np.int8)
    round_trips = np.zeros(ncol, np.int64)

    def column_energies() -> np.ndarray:
        # H per column (total): -Σ_odd s·U - Σ_even h·s, with U_odd fresh (see the notes)
        e = None
        for l in odd:
            part = ops.coldot(S[lay[l]], U[lay[l]])
            e = part if e is None else e + part
        for hl, l in zip(h_even, even, strict=True):
            part = ops.vecdot(hl, S[lay[l]])
            e = part if e is None else e + part
        return -ops.host(e)

    nthr = nthreads if nthreads is not None else 0
    guard = ops.threads(nthr) if nthr else contextlib.nullcontext()
    with guard:
        beta_dev = ops.vector(col_beta_h[None, :])
        temp_dev = ops.index(temp_of_col)
        if start_name == "cold":  # zero-temperature layer descent to a local minimum
            for _ in range(_QUENCH_MAX_SWEEPS):
                moved = 0
                for l in even + odd:
                    moved += ops.quench(S[lay[l]], fields(l))
                if moved == 0:
                    break
        for g in range(burn_in + sweeps):
            prod = g >= burn_in
            for l in even + odd:
                u = fields(l)
                ch = ops.heat_bath(S[lay[l]], u, beta_dev, work[lay[l]], rnd[lay[l]])
                if prod:
                    ops.add_by_index(changes, temp_dev, ch)
            measure = prod and (g - burn_in + 1) % measure_every == 0
            swap = nt > 1 and (g + 1) % swap_every == 0
            if not (measure or swap):
                continue
            e_col = column_energies()
            if swap:
                u_sw = swap_gen.random((r, nt - 1))
                for k in range(nt - 1):
                    c1 = col_of_slot[k].copy()
                    c2 = col_of_slot[k + 1].copy()
                    x = (betas[k] - betas[k + 1]) * (e_col[c1] - e_col[c2])
                    ok = (x >= 0) | (u_sw[:, k] < np.exp(np.minimum(x, 0.0)))
                    if prod:
                        swap_tries[k] += r
                        swap_accepts[k] += int(ok.sum())
                    col_of_slot[k, ok] = c2[ok]
                    col_of_slot[k + 1, ok] = c1[ok]
                    temp_of_col[c1[ok]] = k + 1
                    temp_of_col[c2[ok]] = k
                    col_beta_h[c1[ok]] = betas[k + 1]
                    col_beta_h[c2[ok]] = betas[k]
                beta_dev = ops.vector(col_beta_h[None, :])
                temp_dev = ops.index(temp_of_col)
                # round trips: state 1 = last extreme visited was the lowest T, 2 = the
                # highest T was reached since then
                at_low = temp_of_col == 0
                if prod:
                    round_trips[at_low & (rt_state == 2)] += 1
                rt_state[at_low] = 1
                rt_state[(temp_of_col == nt - 1) & (rt_state == 1)] = 2
            if measure:
                row = (g - burn_in + 1) // measure_every - 1
                m_col = ops.host(ops.colsum(S)) / n
                energies[row] = e_col[col_of_slot] / n
                mags[row] = m_col[col_of_slot]
                if npair:
                    q = ops.gram(S, col_of_slot) / n  # (K, R, R)
                    ovl[row] = q[:, iu[0], iu[1]]
        for l in range(nlay):  # the final fields of every layer, from the final spins
            fields(l)
        final = ops.host(S).astype(np.int8)
        final_u = ops.host(U)
        changes_h = ops.host(changes)
    wall = time.perf_counter() - t_start

    settings = BlockSettings(
        method="heatbath",
        replicas=r,
        sweeps=sweeps,
        burn_in=burn_in,
        measure_every=measure_every,
        swap_every=swap_every,
        seed_entropy=int(ss.entropy),
        seed_spawn_key=tuple(ss.spawn_key),
        dtype=dname,
        resync_every=0,
        start=start_name,
        couplings="layered",
        threads=nthr,
        engine="block",
        backend=backend,
        device=device,
    )
    offset = system.energy_offset / n
    results = []
    for k in range(nt):
        cols = col_of_slot[k]
        sp = final[:, cols].copy()
        results.append(
            MCResult(
                T=float(temps[k]),
                n_spins=n,
                energies=energies[:, k, :] + offset,
                magnetizations=mags[:, k, :].copy(),
                overlaps=ovl[:, k, :].copy(),
                acceptance=float(changes_h[k]) / (n * r * sweeps),
                spins=sp,
                fields=final_u[:, cols].T.astype(dt),
                max_field_drift=0.0,
                settings=settings,
                wall_time=wall,
            )
        )
    stats = {
        "swap_tries": swap_tries[: nt - 1],
        "swap_accepts": swap_accepts[: nt - 1],
        "round_trips": round_trips,
    }
    return results, stats, settings, wall


def run_replicas_block(
    system: IsingSystem,
    temperature: float,
    *,
    replicas: int = 32,
    sweeps: int = 2000,
    burn_in: int = 1000,
    seed: int | np.random.SeedSequence | None = 0,
    measure_every: int = 1,
    start: str | np.ndarray = "hot",
    dtype: str = "float64",
    overlaps: bool = True,
    backend: str = "numpy",
    device: str = "cpu",
    threads: int | None = 1,
) -> MCResult:
    """Sample exp(-H/T) with R independent replicas at one temperature, layer by layer.

    The layer-parallel heat-bath counterpart of
    :func:`~replicasolve.engines.ising.run_replicas` (see the module notes): one sweep
    resamples the even and then the odd spin layers of all replicas at once.

    Args:
        system: a layered :class:`~replicasolve.engines.ising.IsingSystem`
            (:meth:`~replicasolve.engines.ising.IsingSystem.layered`).
        temperature: T > 0 in the energy units of the weights.
        replicas: R, independent chains on the same couplings (>= 2 for overlaps).
        sweeps: production sweeps (each resamples every spin once).
        burn_in: sweeps discarded first.
        seed: int, ``SeedSequence`` or None (fresh entropy, recorded in the settings).
        measure_every: sweeps between measurements.
        start: ``"hot"`` (random), ``"cold"`` (each replica's random spins descended to a
            local minimum of H by zero-temperature layer updates), ``"aligned"`` (all +1), or
            spins of shape ``(N,)`` or ``(N, R)``.
        dtype: ``"float64"`` or ``"float32"`` for the weights, spins and fields.
        overlaps: measure the R(R-1)/2 overlaps Q_ab at each measurement.
        backend: ``"numpy"`` (BLAS) or ``"torch"``.
        device: ``"cpu"``, or ``"cuda"`` / ``"cuda:N"`` with the torch backend.
        threads: BLAS (numpy) or intra-op (torch) threads for the run (default 1, as the
            single-flip engine; None: leave the library's current setting). Recorded in
            ``settings.threads`` (0 for None).

    Returns:
        An :class:`~replicasolve.engines.ising.MCResult` (energies per spin,
        magnetizations, overlaps, final spins, the fraction of updates that changed a spin
        as ``acceptance``), with :class:`BlockSettings`.

    Raises:
        InvalidInputError: dense couplings, T <= 0, bad counts, dtype, start, seed,
            backend or device, torch missing, or CUDA asked for and absent.
    """
    t = np.array([_temperature(temperature)])
    results, _, _, _ = _simulate(
        system,
        t,
        replicas=replicas,
        sweeps=sweeps,
        burn_in=burn_in,
        seed=seed,
        measure_every=measure_every,
        swap_every=1,
        start=start,
        dtype=dtype,
        overlaps=overlaps,
        backend=backend,
        device=device,
        threads=threads,
    )
    return results[0]


def parallel_tempering_block(
    system: IsingSystem,
    temperatures: Sequence[float] | np.ndarray,
    *,
    replicas_per_T: int = 8,
    sweeps: int = 2000,
    burn_in: int = 1000,
    swap_every: int = 1,
    seed: int | np.random.SeedSequence | None = 0,
    measure_every: int = 1,
    start: str | np.ndarray = "hot",
    dtype: str = "float64",
    overlaps: bool = True,
    backend: str = "numpy",
    device: str = "cpu",
    threads: int | None = 1,
) -> PTResult:
    """Parallel tempering with layer-parallel heat-bath sweeps over an increasing ladder.

    The block counterpart of :func:`~replicasolve.engines.ising.parallel_tempering`: all
    K·R configurations are columns of one matrix per layer, resampled together; every
    ``swap_every`` sweeps each copy tries the neighbouring exchanges (see the module notes).

    Args:
        system: a layered :class:`~replicasolve.engines.ising.IsingSystem`.
        temperatures: T_0 < T_1 < ... < T_{K-1}, all > 0 (K >= 2).
        replicas_per_T: R, independent copies (>= 2 for overlaps).
        swap_every: sweeps between exchange attempts.
        Other arguments: as in :func:`run_replicas_block` (``start`` arrays may also have
            shape ``(N, K·R)``, column k·R + a for temperature k and copy a).

    Returns:
        A :class:`~replicasolve.engines.ising.PTResult`: one ``MCResult`` per temperature,
        the exchange acceptance of each neighbouring pair, the walkers' round trips.

    Raises:
        InvalidInputError: a ladder that is not strictly increasing, has fewer than two
            entries or a T <= 0; and the errors of :func:`run_replicas_block`.
    """
    temps = ladder(temperatures)
    results, stats, settings, wall = _simulate(
        system,
        temps,
        replicas=replicas_per_T,
        sweeps=sweeps,
        burn_in=burn_in,
        seed=seed,
        measure_every=measure_every,
        swap_every=swap_every,
        start=start,
        dtype=dtype,
        overlaps=overlaps,
        backend=backend,
        device=device,
        threads=threads,
    )
    tries = stats["swap_tries"]
    rate = np.where(tries > 0, stats["swap_accepts"] / np.maximum(tries, 1), np.nan)
    return PTResult(
        T=temps,
        results=tuple(results),
        swap_acceptance=rate,
        swap_attempts=tries.copy(),
        round_trips_per_walker=stats["round_trips"].copy(),
        settings=settings,
        wall_time=wall,
    )
