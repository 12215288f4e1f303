"""The spin-glass descriptor q̄(T) of one network (Jun Li, arXiv 2508.07397).

A feedforward network is turned into an Ising model (neurons → spins, weights → couplings,
biases → fields), R independent replicas of that model are simulated by Monte Carlo at
several temperatures, and the descriptor is the mean absolute off-diagonal replica overlap

    q̄(T) = 1/(R(R-1)) Σ_{a≠b} |Q_ab|,   Q_ab = (1/N) Σ_i s_i^a s_i^b,

averaged over the measurements of the run. q̄ is 1 in a frozen
(ordered or glassy) state and falls to the paramagnetic value E|Q_ab| of independent random
spins, ≈ sqrt(2/(πN)), at high temperature; where it leaves that value says at which
temperature, in the units of the weights, the network's couplings start to order the spins.

What the paper does not publish, and what is therefore an option here: the couplings
(``"layered"``: adjacent-layer W as in Barney, Winer & Galitski, arXiv 2408.06421, the
default; ``"hebbian"``: a Hopfield-type WᵀW within each layer), the fields (biases or none),
whether the input and output layers are spins, the Monte Carlo scheme (Metropolis or heat
bath, with or without parallel tempering), replica counts, sweeps and temperatures. Each
choice is recorded in the Dataset's attributes, so a curve says how it was made.

Two pieces:

- :func:`network_spin_model`: a network (torch module, ``.pt``/``.npz`` file, training
  snapshot, run directory, or arrays) → a :class:`NetworkSystem` (an
  :class:`~replicasolve.engines.ising.IsingSystem` that also carries its
  :class:`SpinModelConstruction`).
- :func:`descriptor_curve`: q̄(T) with error bars, energy, χ_SG, Binder cumulant, acceptance,
  autocorrelation times, a hot/cold equilibration flag and P(q) at chosen temperatures, as an
  ``xarray.Dataset`` over ``T`` (:func:`save_descriptor` / :func:`load_descriptor` for
  netCDF, :func:`replicasolve.plot.descriptor.plot_descriptor` for the figure).

Error bars are those of :class:`~replicasolve.engines.ising.MCResult`: the thermal-average errors
of this one network from the independent replicas (U-statistics for pair observables), not
a spread over networks.

xarray, torch and matplotlib are imported inside the functions that need them, and the
numba kernels only when a simulation starts.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engines.ising import IsingSystem
from ..engines.settings import whole_number
from ..errors import InvalidInputError
from ..files import read_npz
from ..netcdf import read_netcdf, write_netcdf
from ..tap.bonds import LayeredBonds, linear_params_of_module, read_torch_params
from ..tap.conv import ConvLayeredBonds, conv_network, is_conv_source

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "NetworkSystem",
    "SpinModelConstruction",
    "descriptor_curve",
    "load_descriptor",
    "network_spin_model",
    "paramagnet_q_bar",
    "save_descriptor",
]

COUPLINGS = ("layered", "hebbian")
EQUILIBRATION = ("hotcold", "none")
_REFERENCE = ("Jun Li, arXiv 2508.07397 (descriptor); Barney, Winer & Galitski, "
              "arXiv 2408.06421 (layered couplings)")
_SNAPSHOT_FORMAT = "replicasolve-snapshot/1"


# --------------------------------------------------------------------------- construction


@dataclass(frozen=True)
class SpinModelConstruction:
    """How a network was turned into a spin model (stored with every descriptor curve).

    A settings (provenance) record, not a result: it states choices made before anything is
    computed, has nothing to converge and no error estimates, so it does not derive from
    :class:`~replicasolve.results.Result` (the descriptor results carry it as their
    construction record; its :meth:`to_dict` is JSON-ready).

    Attributes:
        source: where the weights came from (a path, ``"torch module"``, ``"arrays"``...).
        epoch: the training epoch of a snapshot, else None.
        couplings: ``"layered"`` or ``"hebbian"`` (see :func:`network_spin_model`).
        fields: ``"biases"`` (the source's biases), ``"given biases"``, ``"none"``
            (``biases=False``) or ``"none (the source has no biases)"``.
        include_input: whether the input layer (layer 0) is part of the spin system.
        include_output: whether the output layer (layer L) is part of the spin system.
        scale: factor applied to every coupling and field (T is in the scaled units).
        network_sizes: ``N_0..N_L`` of the network (input first).
        spin_layers: the network layers that are spins, in the order of the spin vector.
        spin_sizes: their sizes.
        n_spins: N, the number of spins.
    """

    source: str
    epoch: int | None
    couplings: str
    fields: str
    include_input: bool
    include_output: bool
    scale: float
    network_sizes: tuple[int, ...]
    spin_layers: tuple[int, ...]
    spin_sizes: tuple[int, ...]
    n_spins: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        d = asdict(self)
        for k in ("network_sizes", "spin_layers", "spin_sizes"):
            d[k] = list(d[k])
        return d

    def __str__(self) -> str:
        sizes = "-".join(map(str, self.network_sizes))
        kept = ",".join(map(str, self.spin_layers))
        ep = f", epoch {self.epoch}" if self.epoch is not None else ""
        return (f"{self.source}{ep}: network {sizes}; {self.couplings} couplings, fields "
                f"{self.fields}; spin layers {kept} (N = {self.n_spins}), scale {self.scale:g}")


@dataclass(frozen=True, eq=False)
class NetworkSystem(IsingSystem):
    """An :class:`~replicasolve.engines.ising.IsingSystem` built from a network, with its recipe.

    Attributes:
        construction: the :class:`SpinModelConstruction` (None only if built by hand).
    """

    construction: SpinModelConstruction | None = None

    def layer_slice(self, k: int) -> slice:
        """The spins of the k-th spin layer (``construction.spin_layers[k]``)."""
        c = self.construction
        if c is None:
            raise InvalidInputError("this system has no construction record")
        off = np.concatenate([[0], np.cumsum(c.spin_sizes)])
        return slice(int(off[k]), int(off[k + 1]))


def _read_npz(path: Path) -> tuple[list[np.ndarray], list[np.ndarray] | None, int | None]:
    from .train.snapshots import snapshot_from_arrays

    contents = read_npz(path, "weights file")
    meta = contents.get("meta")
    if meta is not None and meta.ndim == 0 and _SNAPSHOT_FORMAT in str(meta):
        # a training snapshot: checked completely, biases included, from the arrays read
        snap = snapshot_from_arrays(path, contents)
        return list(snap.weights), list(snap.biases), snap.epoch
    ws = [v for v in contents.values() if v.ndim == 2]
    bs = [v for v in contents.values() if v.ndim == 1]
    if not ws:
        raise InvalidInputError(f"{path}: no 2-D arrays (weights) in the file")
    if bs and len(bs) != len(ws):
        raise InvalidInputError(
            f"{path}: {len(bs)} 1-D arrays (biases) for {len(ws)} weight matrices; store one "
            "bias per layer, or none"
        )
    return ws, (bs or None), None


def _read_source(source: Any, epoch: int | None
                 ) -> tuple[list[np.ndarray], list[np.ndarray] | None, str, int | None]:
    """(weights, biases or None, description, epoch) of any accepted source."""
    from .train.snapshots import Snapshot, list_snapshots, read_snapshot, snapshot_path

    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer))
                              or epoch < 0):
        raise InvalidInputError(f"epoch must be an integer >= 0, got {epoch!r}")
    is_path = isinstance(source, (str, os.PathLike))
    if epoch is not None and not (is_path and Path(source).is_dir()):
        raise InvalidInputError("an epoch can only be chosen from a training run directory")
    if isinstance(source, Snapshot):
        return list(source.weights), list(source.biases), f"snapshot {source.path}", source.epoch
    if is_path:
        path = Path(source)
        if path.is_dir():
            found = list_snapshots(path)
            if not found:
                raise InvalidInputError(f"{path}: no epoch_XXXX.npz snapshots in the directory")
            if epoch is None:
                snap_file = found[-1][1]
            else:
                snap_file = snapshot_path(path, int(epoch))
                if not snap_file.is_file():
                    have = f"{found[0][0]}..{found[-1][0]}"
                    raise InvalidInputError(f"{path}: no snapshot of epoch {epoch} (epochs {have})")
            snap = read_snapshot(snap_file)
            return list(snap.weights), list(snap.biases), str(snap_file), snap.epoch
        if not path.is_file():
            raise InvalidInputError(f"{path}: no such file")
        suffix = path.suffix.lower()
        try:
            if suffix == ".npz":
                ws, bs, ep = _read_npz(path)
                return ws, bs, str(path), ep
            if suffix in (".pt", ".pth"):
                ws, bs = read_torch_params(path)
                return ws, bs, str(path), None
        except OSError as exc:
            raise InvalidInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        raise InvalidInputError(f"{path}: unknown weight file type {suffix!r} (use .npz or .pt)")
    if hasattr(source, "modules") and hasattr(source, "parameters"):
        ws, bs = linear_params_of_module(source)
        return ws, bs, f"torch module {type(source).__name__}", None
    if isinstance(source, LayeredBonds):
        return list(source.weights), None, "LayeredBonds", None
    if isinstance(source, Mapping):
        if "weights" not in source:
            raise InvalidInputError("a mapping source needs 'weights' (and optional 'biases')")
        bs = source.get("biases")
        return list(source["weights"]), (None if bs is None else list(bs)), "arrays", None
    if isinstance(source, Iterable) and not isinstance(source, (bytes, np.ndarray)):
        return list(source), None, "arrays", None
    raise InvalidInputError(f"cannot read a network from a {type(source).__name__}")


def _check_biases(bs: Sequence[Any], sizes: Sequence[int]) -> list[np.ndarray]:
    if isinstance(bs, np.ndarray) or len(bs) != len(sizes) - 1:
        n = "an array" if isinstance(bs, np.ndarray) else f"{len(bs)}"
        raise InvalidInputError(
            f"need one bias vector per weight matrix ({len(sizes) - 1}), got {n}"
        )
    out = []
    for l, (b, n_out) in enumerate(zip(bs, sizes[1:], strict=True), start=1):
        try:
            arr = np.asarray(b, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise InvalidInputError(f"bias {l} must hold real numbers") from None
        if arr.size != n_out:
            raise InvalidInputError(f"bias {l} has {arr.size} entries, layer {l} has {n_out}")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"bias {l} has NaN or infinite entries")
        out.append(arr)
    return out


def network_spin_model(source: Any, *, couplings: str = "layered",
                       biases: bool | Sequence[Any] = True, include_input: bool = True,
                       include_output: bool = True, scale: float = 1.0,
                       epoch: int | None = None,
                       input_shape: Sequence[int] | None = None) -> NetworkSystem:
    """The Ising model of one feedforward network: neurons → spins, weights → couplings.

    The paper (Jun Li, arXiv 2508.07397) builds "a Hopfield-type spin glass model" from the
    network but does not publish the couplings, so both plausible constructions are offered.
    The network has layers ``l = 0..L`` (0 the input, L the output) of ``N_l`` neurons,
    weights ``W^l`` of shape ``(N_l, N_{l-1})`` (``torch.nn.Linear.weight`` layout) and biases
    ``b^l`` of shape ``(N_l,)``, l = 1..L. Every kept neuron is one spin s ∈ {±1}; spins
    are ordered layer by layer, input first, and

        H(s) = -1/2 Σ_ij J_ij s_i s_j - Σ_i h_i s_i.

    Couplings:

    - ``"layered"`` (default; Barney, Winer & Galitski, arXiv 2408.06421):
      J between layers l-1 and l is W^l (``J_ij = W^l_ij`` for i in layer l, j in layer
      l-1, and symmetric), no couplings within a layer: J is block tridiagonal and is kept
      as the list of weight matrices (:meth:`IsingSystem.layered`), never densified.
    - ``"hebbian"``: a Hopfield model within each layer, no couplings between layers. The
      rows of W^l (the receptive fields of the N_l neurons of layer l) are the stored
      patterns of layer l-1: ``J^{(l-1)} = (W^l)ᵀ W^l`` on the spins of layer l-1, i.e.
      ``J_jk = Σ_μ W^l_μj W^l_μk`` for j ≠ k, diagonal set to zero (the Hopfield convention:
      s_j² = 1 makes it a constant, and it is not added to the energy). No normalisation is
      applied (the 1/fan-in variance of the weights already makes a local field O(1)). Layers
      0..L-1 get such a block; the output layer L feeds no weight matrix, so its spins carry
      no couplings (they only feel their bias fields; drop them with
      ``include_output=False``). J is dense block-diagonal, ``8 N²`` bytes. The layers do
      not interact, so Q_ab is a sum of per-layer overlaps whose signs are independent:
      even with every layer frozen, q̄ < 1 unless fields fix the signs.

    Fields: with biases, the bias of a neuron is the field on its spin, ``h_i = b^l_i`` for i
    in layer l ≥ 1 (the layer it feeds, the same sign as in the pre-activation
    ``W^l a^{l-1} + b^l``); the input layer has no bias and gets zero field.

    Input and output layers (``include_input`` / ``include_output`` False) are *removed*, not
    clamped: their spins leave the system and every coupling that touches them is dropped
    (layered: W^1, resp. W^L; hebbian: the block (W^1)ᵀW^1 on the input layer, resp. the
    output layer's uncoupled spins), and their biases go with them. The remaining layers
    keep their own biases. (Clamping the input to a data image would make the descriptor
    depend on data; removing it keeps it a property of the weights alone.)

    Args:
        source: the network: a ``torch.nn.Module`` (its ``nn.Linear`` layers in order); a
            ``.pt``/``.pth`` state dict or checkpoint (``{"state_dict": ...}``): the 2-D
            ``*weight`` tensors in order with their ``*bias``; an ``.npz`` training snapshot
            (``epoch_XXXX.npz``, read with
            :func:`replicasolve.studies.train.snapshots.read_snapshot`, biases included); a plain
            ``.npz`` (2-D arrays = weights, 1-D arrays = biases, file order); a training run
            directory (the snapshot of ``epoch``, default the last); a
            :class:`~replicasolve.studies.train.snapshots.Snapshot`; a ``{"weights": [...],
            "biases": [...]}`` mapping; or a list of weight arrays.
        couplings: ``"layered"`` or ``"hebbian"`` (above).
        biases: True: the source's biases as fields (zero fields if it has none; recorded
            in :attr:`SpinModelConstruction.fields`); False: no fields; or a list of bias
            vectors ``b^1..b^L`` to use instead.
        include_input: keep the input layer as spins.
        include_output: keep the output layer as spins.
        scale: multiplies every coupling and field (equivalent to measuring T in units of
            ``1/scale``); > 0.
        epoch: with a run directory, the epoch to read.
        input_shape: the shape of one input without the batch dimension, ``(C, H, W)`` or
            ``(N,)``, for a convolutional network: a ``torch.nn.Module`` with ``Conv2d``
            layers (read by :func:`~replicasolve.tap.conv.conv_network_of_module`), or a
            ``.json`` description with a state dict
            (:func:`~replicasolve.tap.conv.read_conv_spec`; its own ``input_shape`` is used
            when this is None). Each
            ``Conv2d`` becomes a sparse coupling block between the flattened feature maps
            (:class:`~replicasolve.tap.conv.ConvBlock`, never densified by the block engine),
            a channel's bias the field of each of its spins; layered couplings only.

    Returns:
        A :class:`NetworkSystem` (an ``IsingSystem``; ``.construction`` says how it was built).

    Raises:
        InvalidInputError: a missing or corrupt file, weights that do not chain, NaN
            weights or biases, biases of the wrong shapes, bad options, or no spins left.
    """
    if couplings not in COUPLINGS:
        raise InvalidInputError(f"couplings must be one of {COUPLINGS}, got {couplings!r}")
    for name, flag in (("include_input", include_input), ("include_output", include_output)):
        if not isinstance(flag, (bool, np.bool_)):
            raise InvalidInputError(f"{name} must be True or False, got {flag!r}")
    try:
        sc = float(scale)
    except (TypeError, ValueError):
        raise InvalidInputError(f"scale must be a number, got {scale!r}") from None
    if not (math.isfinite(sc) and sc > 0) or isinstance(scale, bool):
        raise InvalidInputError(f"scale must be positive and finite, got {scale!r}")

    bonds: LayeredBonds
    if is_conv_source(source, input_shape):
        if epoch is not None:
            raise InvalidInputError("an epoch can only be chosen from a training run directory")
        if couplings != "layered":
            raise InvalidInputError("a convolutional network is read with couplings='layered' "
                                    f"only, got {couplings!r}")
        net = conv_network(source, input_shape)
        bonds, src_bs, desc, ep = net.bonds(), net.biases, net.describe(), None
    else:
        ws, src_bs, desc, ep = _read_source(source, epoch)
        bonds = LayeredBonds(tuple(ws))  # validates shapes, chaining and finiteness
    ws = list(bonds.weights)
    sizes = bonds.sizes
    n_w = len(ws)
    if biases is True:
        bs = None if src_bs is None else _check_biases(src_bs, sizes)
        fields = "biases" if bs is not None else "none (the source has no biases)"
    elif biases is False or biases is None:
        bs, fields = None, "none"
    elif isinstance(biases, Sequence) or isinstance(biases, np.ndarray):
        bs, fields = _check_biases(biases, sizes), "given biases"
    else:
        raise InvalidInputError(f"biases must be True, False or a list of arrays, got {biases!r}")

    first = 0 if include_input else 1
    last = n_w if include_output else n_w - 1
    if first > last:
        raise InvalidInputError(
            "no spins left: a network with one weight matrix has only an input and an output "
            "layer; keep at least one of them"
        )
    kept = tuple(range(first, last + 1))
    kept_sizes = tuple(sizes[l] for l in kept)
    n = int(sum(kept_sizes))
    # field of layer l >= 1 is b^l (bs[l-1]); the input layer has none
    h = np.concatenate([
        bs[l - 1] * sc if (bs is not None and l >= 1) else np.zeros(sizes[l]) for l in kept
    ])
    if couplings == "layered" and len(kept) >= 2:
        # W^l couples layers l-1 and l: kept pairs are W^{first+1}..W^{last}
        system = NetworkSystem.layered(type(bonds)(tuple(w * sc for w in ws[first:last])), h)
    else:
        j = np.zeros((n, n))
        if couplings == "hebbian":
            off = 0
            for l, nl in zip(kept, kept_sizes, strict=True):
                if l < n_w:  # layer l is the input of W^{l+1} = ws[l]
                    g = ws[l].T @ ws[l]
                    np.fill_diagonal(g, 0.0)
                    j[off : off + nl, off : off + nl] = g * sc
                off += nl
        system = NetworkSystem.dense(0.5 * (j + j.T), h)
    construction = SpinModelConstruction(
        source=desc, epoch=ep, couplings=couplings, fields=fields,
        include_input=bool(include_input), include_output=bool(include_output), scale=sc,
        network_sizes=tuple(int(s) for s in sizes), spin_layers=kept,
        spin_sizes=tuple(int(s) for s in kept_sizes), n_spins=n,
    )
    object.__setattr__(system, "construction", construction)  # frozen: set once, here
    return system


# --------------------------------------------------------------------------- the descriptor


def paramagnet_q_bar(n: int) -> float:
    """E|Q_ab| for two independent uniformly random configurations of ``n`` spins (T = ∞).

    Q = S/N with S a sum of N independent ±1; E|S_N| = 2m·C(2m, m)/4^m with m = ⌈N/2⌉
    (simple random walk; E|S_{2m-1}| = E|S_{2m}|), so E|Q| ≈ sqrt(2/(πN)) for large N.
    Exact (log-gamma), not the asymptotic form.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise InvalidInputError(f"n must be a whole number >= 1, got {n!r}")
    m = (int(n) + 1) // 2
    log_central = math.lgamma(2 * m + 1) - 2 * math.lgamma(m + 1) - 2 * m * math.log(2.0)
    return 2 * m * math.exp(log_central) / int(n)


def _temperatures(temperatures: Any, pt: bool) -> np.ndarray:
    try:
        t = np.asarray(temperatures, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("temperatures must be a list of numbers") from None
    t = t.reshape(-1) if t.ndim == 0 else t
    if t.ndim != 1 or t.size == 0:
        raise InvalidInputError(f"temperatures must be a 1-D list, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise InvalidInputError(f"temperatures must be positive and finite, got {t.tolist()}")
    if np.any(np.diff(t) <= 0):
        raise InvalidInputError(f"temperatures must be strictly increasing, got {t.tolist()}")
    if pt and t.size < 2:
        raise InvalidInputError("parallel tempering needs at least 2 temperatures")
    return t


def _pq_indices(pq_at: Any, temps: np.ndarray) -> tuple[list[int], list[float]]:
    if pq_at is None:
        return [], []
    try:
        req = np.atleast_1d(np.asarray(pq_at, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidInputError("pq_at must be a list of temperatures") from None
    if req.ndim != 1 or not np.all(np.isfinite(req)) or np.any(req <= 0):
        raise InvalidInputError(f"pq_at must be positive finite temperatures, got {pq_at!r}")
    idx = sorted({int(np.argmin(np.abs(temps - r))) for r in req})
    return idx, [float(r) for r in req]


def _z(a: Any, b: Any) -> float:
    diff = abs(a.value - b.value)
    # a frozen state has zero error bars, and the two runs' energies, summed in different
    # orders, may still differ in the last bits: equal to rounding is agreement
    if diff <= 1e-10 * max(1.0, abs(a.value), abs(b.value)):
        return 0.0
    err = math.hypot(a.error, b.error)
    return diff / err if err > 0 else math.inf


def _tau(series: np.ndarray, res: Any) -> float:
    """τ_int in sweeps; NaN for a frozen series (every replica or pair constant in time).

    A column that is constant to rounding is not centred exactly by its mean, and the
    leftover constant would read as a perfectly correlated series (τ = the whole run).
    """
    from ..engines.ising import integrated_autocorrelation_time

    scale = max(1.0, float(np.abs(series).max())) if series.size else 1.0
    if series.shape[0] < 2 or float(np.ptp(series, axis=0).max()) <= 1e-12 * scale:
        return math.nan
    return integrated_autocorrelation_time(series) * res.settings.measure_every


def descriptor_curve(system: IsingSystem, temperatures: Sequence[float] | np.ndarray, *,
                     replicas: int = 16, sweeps: int = 2000, burn_in: int = 1000,
                     seed: int | np.random.SeedSequence | None = 0,
                     method: str = "metropolis", parallel_tempering: bool = False,
                     pq_at: Sequence[float] | float | None = None,
                     equilibration: str = "hotcold", n_sigma: float = 5.0,
                     tau_factor: float = 50.0,
                     measure_every: int = 1, swap_every: int = 1, dtype: str = "float64",
                     pq_bins: int | None = None,
                     progress: Callable[[int, int | None, str], None] | None = None,
                     threads: int | None = 1, engine: str = "single",
                     backend: str = "numpy", device: str = "cpu") -> xr.Dataset:
    """The descriptor q̄(T) of one spin model, with error bars and diagnostics.

    At every temperature R replicas are simulated (:func:`~replicasolve.engines.ising.run_replicas`,
    or one :func:`~replicasolve.engines.ising.parallel_tempering` run over the ladder) from random
    ("hot") starts, and q̄ = mean over pairs a ≠ b and measurements of |Q_ab| is reported
    (Jun Li, arXiv 2508.07397) with the engine's standard error.

    Equilibration (``"hotcold"``, default): a second, independent run from a cold start
    (each replica quenched greedily to a local minimum of H) with the same settings. A
    temperature is flagged equilibrated when (a) E/N and ⟨q²⟩ of the two runs agree within
    ``n_sigma`` combined standard errors (as
    :func:`~replicasolve.engines.ising.check_equilibration`) and (b) the production run is at
    least ``tau_factor`` integrated autocorrelation times long, for both E and |Q_ab|. The
    second run doubles the cost. (a) alone is necessary, not sufficient: below the glass
    transition, independent hot and cold runs can be stuck alike, each replica in its own
    valley, and then agree on a q̄ that is far too small (seen on a random Kaiming
    784-64-64-10 network at T = 0.3: q̄ = 0.13 ± 0.015 from independent runs of 1000 sweeps
    with hot/cold z < 2, 0.52 ± 0.003 with parallel tempering; τ_|q| ≈ 60 sweeps there);
    (b) catches the slow cases that show up in τ. Below T_c use parallel tempering.
    ``"none"`` skips the second run: the flag is then 0 where (b) fails, else -1
    (not checked).

    Reproducibility: ``seed`` is spawned into one stream per temperature (parallel
    tempering: one per run), each split into the hot and the cold run, so the same seed
    gives the same values bit for bit (only ``attrs["wall_time_s"]`` differs), and a
    temperature's result does not depend on whether the equilibration check is on.

    Args:
        system: the spin model (:func:`network_spin_model`, or any ``IsingSystem``).
        temperatures: T_0 < T_1 < ..., all > 0 and finite, in the energy units of the
            couplings (β = 1/T). At least two for parallel tempering.
        replicas: R ≥ 2 independent replicas per temperature (≥ 4 for U-statistic errors).
        sweeps: production sweeps (one sweep = one flip attempt per spin).
        burn_in: sweeps discarded first.
        seed: int, ``SeedSequence`` or None (fresh entropy, recorded in the attributes).
        method: ``"metropolis"`` or ``"heatbath"``.
        parallel_tempering: one replica-exchange run over the whole ladder instead of
            independent runs per temperature.
        pq_at: temperatures at which to store P(q); each is replaced by the nearest ladder
            temperature (the requested values are kept in ``attrs["pq_requested"]``).
        equilibration: ``"hotcold"`` or ``"none"`` (above).
        n_sigma: the agreement threshold of the hot/cold check.
        tau_factor: production sweeps needed per autocorrelation time (τ of E and of
            |Q_ab|) for the flag; 0 disables this part of the check.
        measure_every: sweeps between measurements.
        swap_every: sweeps between replica exchanges (parallel tempering).
        dtype: ``"float64"`` or ``"float32"`` for the couplings and fields in the kernel.
        pq_bins: bins of P(q) on [-1, 1]; None: one per possible value for N ≤ 200, else 101.
        progress: ``progress(done, total, label)`` (:mod:`replicasolve.progress`), called
            after each temperature (``total`` = the number of temperatures), or with parallel
            tempering after each run (hot start, then cold start where checked).
        threads: threads sharing the replicas of a dense system (``None``: numba's count);
            the values do not depend on it (bitwise; see
            :func:`~replicasolve.engines.ising.run_replicas`), so it is not stored. With
            ``engine="block"``: the BLAS (or torch) threads of the layer products.
        engine: ``"single"`` (single-spin flips, :mod:`replicasolve.engines.ising`) or
            ``"block"`` (layer-parallel heat bath, :mod:`replicasolve.engines.block`: every
            spin of a layer resampled at once from one matrix product; layered couplings
            only; always heat bath, so ``method`` does not apply). Both sample the same
            Boltzmann distribution; their values differ within the error bars.
        backend, device: the block engine's array library (``"numpy"`` or ``"torch"``) and
            device (``"cpu"``, ``"cuda"``, ``"cuda:N"``; CUDA needs torch).

    Returns:
        ``xarray.Dataset`` with coordinate ``T`` and variables ``q_bar``, ``q_bar_err``,
        ``energy``, ``energy_err`` (per spin), ``q2``, ``q2_err``, ``chi_sg``, ``chi_sg_err``,
        ``binder``, ``binder_err``, ``abs_magnetization``, ``abs_magnetization_err``,
        ``acceptance``, ``tau_energy``, ``tau_abs_q`` (sweeps), ``equilibrated`` (int8: 1
        yes, 0 no, -1 not checked), ``z_energy``, ``z_q2`` and, with parallel tempering,
        ``swap_acceptance`` (between T_k and T_{k+1}, stored at k; NaN at the top); with
        ``pq_at``, ``pq`` (density) over ``(T_pq, q_bin)``. Attributes: the construction,
        the settings, the seed, ``q_bar_paramagnet`` (the exact T = ∞ value), the version.

    Raises:
        InvalidInputError: a bad system, ladder (T ≤ 0, not finite, not increasing),
            counts, method, seed or option; checked before any simulation starts.
    """
    import xarray as xr

    from ..engines.block import check_backend, parallel_tempering_block, run_replicas_block
    from ..engines.ising import parallel_tempering as run_pt
    from ..engines.ising import run_replicas
    from ..version import __version__

    t_start = time.perf_counter()
    if not isinstance(system, IsingSystem):
        raise InvalidInputError(
            f"system must be an IsingSystem (network_spin_model(...)), got "
            f"{type(system).__name__}"
        )
    pt = bool(parallel_tempering)
    temps = _temperatures(temperatures, pt)
    r = whole_number(replicas, "replicas", 2)
    sweeps = whole_number(sweeps, "sweeps", 1)
    burn_in = whole_number(burn_in, "burn_in", 0)
    measure_every = whole_number(measure_every, "measure_every", 1)
    swap_every = whole_number(swap_every, "swap_every", 1)
    if measure_every > sweeps:
        raise InvalidInputError(f"measure_every ({measure_every}) exceeds sweeps ({sweeps})")
    if method not in ("metropolis", "heatbath"):
        raise InvalidInputError(f"method must be 'metropolis' or 'heatbath', got {method!r}")
    if equilibration not in EQUILIBRATION:
        raise InvalidInputError(f"equilibration must be one of {EQUILIBRATION}, "
                                f"got {equilibration!r}")
    if dtype not in ("float64", "float32"):
        raise InvalidInputError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    try:
        n_sigma = float(n_sigma)
    except (TypeError, ValueError):
        raise InvalidInputError(f"n_sigma must be a number, got {n_sigma!r}") from None
    if not n_sigma > 0:
        raise InvalidInputError(f"n_sigma must be > 0, got {n_sigma}")
    try:
        tau_factor = float(tau_factor)
    except (TypeError, ValueError):
        raise InvalidInputError(f"tau_factor must be a number, got {tau_factor!r}") from None
    if not (tau_factor >= 0 and math.isfinite(tau_factor)):
        raise InvalidInputError(f"tau_factor must be >= 0 and finite, got {tau_factor}")
    if pq_bins is not None:
        pq_bins = whole_number(pq_bins, "pq_bins", 2)
    pq_idx, pq_req = _pq_indices(pq_at, temps)
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif seed is None:
        root = np.random.SeedSequence()
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    else:
        root = np.random.SeedSequence(int(seed))
    check = equilibration == "hotcold"
    if engine not in ("single", "block"):
        raise InvalidInputError(f"engine must be 'single' or 'block', got {engine!r}")
    backend, device = check_backend(backend, device)
    if engine == "single" and (backend, device) != ("numpy", "cpu"):
        raise InvalidInputError("backend and device choose the block engine's array library: "
                                "pass engine='block'")
    if engine == "single" and isinstance(system.bonds, ConvLayeredBonds):
        system.bonds.check_dense_blocks()  # the single-flip kernel copies blocks densely
    if engine == "block" and system.kind != "layered":
        raise InvalidInputError(
            "the block engine needs layered couplings (a feed-forward network's spin model); "
            f"this system is {system.kind}: use engine='single'")

    common: dict[str, Any] = dict(sweeps=sweeps, burn_in=burn_in,
                                  measure_every=measure_every, dtype=dtype, threads=threads)
    if engine == "block":
        common.update(backend=backend, device=device)
        run_one, run_ladder = run_replicas_block, parallel_tempering_block
    else:
        common["method"] = method
        run_one, run_ladder = run_replicas, run_pt
    hot: list[Any] = []
    cold: list[Any] = []
    swap = np.full(temps.size, np.nan)
    round_trips = None
    if pt:
        s_hot, s_cold = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 0)
                                               ).spawn(2)
        res = run_ladder(system, temps, replicas_per_T=r, swap_every=swap_every, seed=s_hot,
                         start="hot", **common)
        hot = list(res.results)
        swap[:-1] = res.swap_acceptance
        round_trips = res.round_trips
        runs = 2 if check else 1
        if progress:
            progress(1, runs, f"parallel tempering, hot start: {temps.size} temperatures "
                     f"in {res.wall_time:.1f} s")
        if check:
            resc = run_ladder(system, temps, replicas_per_T=r, swap_every=swap_every,
                              seed=s_cold, start="cold", **common)
            cold = list(resc.results)
            if progress:
                progress(2, runs, f"parallel tempering, cold start in {resc.wall_time:.1f} s")
    else:
        for k, t in enumerate(temps):
            # a child per temperature index, built afresh: SeedSequence.spawn is stateful
            child = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, k))
            s_hot, s_cold = child.spawn(2)
            hot.append(run_one(system, float(t), replicas=r, seed=s_hot, start="hot",
                               **common))
            if check:
                cold.append(run_one(system, float(t), replicas=r, seed=s_cold,
                                    start="cold", **common))
            if progress:
                progress(k + 1, int(temps.size), f"T = {t:.6g}: q_bar = {hot[-1].q_bar}")

    def series(name: str) -> tuple[np.ndarray, np.ndarray]:
        est = [getattr(res, name) for res in hot]
        return (np.array([e.value for e in est]), np.array([e.error for e in est]))

    data: dict[str, Any] = {}
    units = {
        "q_bar": ("1", "descriptor: mean |Q_ab| over replica pairs a != b (arXiv 2508.07397)"),
        "energy": ("energy per spin (units of J)", "<H>/N"),
        "q2": ("1", "<Q_ab^2>"),
        "chi_sg": ("1", "spin-glass susceptibility N <Q_ab^2>"),
        "binder": ("1", "Binder cumulant (3 - <q^4>/<q^2>^2)/2"),
        "abs_magnetization": ("1", "<|m|>, m = (1/N) sum_i s_i"),
    }
    for name, (unit, long) in units.items():
        v, e = series(name)
        data[name] = ("T", v, {"units": unit, "long_name": long})
        data[name + "_err"] = ("T", e, {"units": unit, "long_name": f"standard error of {name}"})
    data["acceptance"] = ("T", np.array([res.acceptance for res in hot]),
                          {"units": "1", "long_name": "accepted fraction of flip attempts"})
    data["tau_energy"] = ("T", np.array([_tau(res.energies, res) for res in hot]),
                          {"units": "sweeps", "long_name": "integrated autocorrelation time "
                           "of E (Sokal window)"})
    data["tau_abs_q"] = ("T", np.array([_tau(np.abs(res.overlaps), res) for res in hot]),
                         {"units": "sweeps", "long_name": "integrated autocorrelation time "
                          "of |Q_ab|"})
    taus = np.stack([data["tau_energy"][1], data["tau_abs_q"][1]])
    # a constant series (NaN τ: a frozen state) has no time scale to be short against
    long_enough = np.all(~(sweeps < tau_factor * taus), axis=0)
    if check:
        ze = np.array([_z(a.energy, b.energy) for a, b in zip(hot, cold, strict=True)])
        zq = np.array([_z(a.q2, b.q2) for a, b in zip(hot, cold, strict=True)])
        flag = ((ze < n_sigma) & (zq < n_sigma) & long_enough).astype(np.int8)
    else:
        ze = zq = np.full(temps.size, np.nan)
        flag = np.where(long_enough, -1, 0).astype(np.int8)
    data["equilibrated"] = ("T", flag, {"long_name": "hot and cold starts agree (E and <q^2> "
                                        "within n_sigma errors) and sweeps >= tau_factor * "
                                        "tau (E and |Q_ab|)",
                                        "flag_values": "1 yes, 0 no, -1 not checked"})
    data["z_energy"] = ("T", ze, {"units": "1", "long_name": "|E_hot - E_cold| / error"})
    data["z_q2"] = ("T", zq, {"units": "1", "long_name": "|q2_hot - q2_cold| / error"})
    if pt:
        data["swap_acceptance"] = ("T", swap, {"units": "1", "long_name": "exchange "
                                               "acceptance between T_k and T_k+1 (at k)"})
    coords: dict[str, Any] = {"T": ("T", temps, {"units": "energy (units of the couplings J)",
                                                 "long_name": "temperature, beta = 1/T"})}
    if pq_idx:
        hists = [hot[k].overlap_histogram(pq_bins) for k in pq_idx]
        coords["T_pq"] = ("T_pq", temps[pq_idx], {"units": "energy (units of J)",
                                                  "long_name": "ladder temperatures of P(q)"})
        coords["q_bin"] = ("q_bin", hists[0][0], {"units": "1", "long_name": "bin centre"})
        data["pq"] = (("T_pq", "q_bin"), np.stack([hh[1] for hh in hists]),
                      {"units": "1", "long_name": "P(q): density of Q_ab over pairs and "
                       "measurements"})

    construction = getattr(system, "construction", None)
    attrs = {
        "title": "spin-glass descriptor q_bar(T) of one network",
        "reference": _REFERENCE,
        "construction": None if construction is None else construction.to_dict(),
        "n_spins": int(system.n),
        "system_kind": system.kind,
        "q_bar_paramagnet": paramagnet_q_bar(system.n),
        "replicas": r,
        "sweeps": sweeps,
        "burn_in": burn_in,
        "measure_every": measure_every,
        "method": "heatbath" if engine == "block" else method,
        "engine": engine,
        "backend": backend,
        "device": device,
        "parallel_tempering": pt,
        "swap_every": swap_every,
        "dtype": dtype,
        "equilibration": equilibration,
        "n_sigma": n_sigma,
        "tau_factor": tau_factor,
        "seed_entropy": str(root.entropy),  # may exceed 64 bits: text
        "seed_spawn_key": list(root.spawn_key),
        "pq_requested": pq_req,
        "round_trips": round_trips,
        "temperature_units": "energy units of the couplings J (after scale); beta = 1/T",
        "errors": "one standard error of the thermal average of this instance (independent "
                  "replicas; U-statistics for pair observables)",
        "version": __version__,
        "wall_time_s": time.perf_counter() - t_start,
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


# --------------------------------------------------------------------------- files


def save_descriptor(ds: xr.Dataset, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a descriptor Dataset to netCDF atomically (temporary name, then rename).

    Attributes that are lists, dicts, booleans or None are stored as JSON text (netCDF has
    none of them) and restored by :func:`load_descriptor`.

    Raises:
        InvalidInputError: ``path`` exists and ``force`` is false, is a directory, or its
            directory does not exist; ``ds`` is not a Dataset.
    """
    return write_netcdf(ds, path, force=force)


def load_descriptor(path: str | os.PathLike) -> xr.Dataset:
    """Read a Dataset written by :func:`save_descriptor` (into memory; the file is closed).

    Raises:
        InvalidInputError: the file is missing, not readable netCDF, or not a descriptor.
    """
    ds = read_netcdf(path)
    if "q_bar" not in ds or "T" not in ds.dims:
        raise InvalidInputError(f"{path}: not a descriptor curve (no q_bar over T)")
    ds["equilibrated"] = ds["equilibrated"].astype(np.int8)
    # files written before the spelling settled on "magnetization"
    old = {v: v.replace("magnetisation", "magnetization") for v in ds.variables
           if "magnetisation" in v}
    return ds.rename(old) if old else ds
