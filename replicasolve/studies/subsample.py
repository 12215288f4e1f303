"""Neuron subsampling: the spin model of a random fraction of a network's neurons.

For a network whose whole spin model is too big to simulate, the descriptor q̄(T) (Jun Li,
arXiv 2508.07397, which proposes subsampling as future work) is measured on a smaller
model: a random fraction ``f`` of the neurons of every spin layer, with the couplings
between the kept neurons renormalised so that each kept neuron feels a local field of the
same size as in the whole model.

Spin model (:func:`~replicasolve.studies.descriptor.network_spin_model`, layered couplings;
Barney, Winer & Galitski, arXiv 2408.06421): spin layers ``l = 0..L`` of ``N_l`` spins,
weights ``W^l`` of shape ``(N_l, N_{l-1})``, fields ``h``,

    H(s) = -Σ_l Σ_{i∈l, j∈l-1} W^l_ij s_i s_j - Σ_i h_i s_i.

The local field of spin i of layer l is ``u_i = Σ_{j∈l-1} W^l_ij s_j + Σ_{k∈l+1}
W^{l+1}_ki s_k + h_i``: the couplings are symmetric, so a neuron feels the layer below
(its inputs) *and* the layer above (the neurons it feeds). With the neighbours independent
uniform ±1 spins (the paramagnet, T = ∞) its mean is h_i and its variance is

    d_i = Σ_j (W^l_ij)² + Σ_k (W^{l+1}_ki)²,

the Onsager diagonal of the TAP equations (:attr:`~replicasolve.tap.bonds.LayeredBonds.d`),
which sets the temperature scale at which the spins start to order.

The scheme. In every spin layer l, ``n_l = round(f N_l)`` neurons (half up) are kept,
drawn uniformly without replacement, independently per layer (kept fraction
``φ_l = n_l / N_l``); the kept block of every weight matrix is multiplied by
``1/sqrt(φ_{l-1})``, the kept fraction of its *input* layer::

    W'^l = W^l[S_l, S_{l-1}] / sqrt(φ_{l-1}),      h'_i = h_i  (i kept).

What is preserved, exactly. Each neuron j of layer l-1 is kept with probability φ_{l-1},
so for every kept neuron i of layer l

    E_S Σ_{j∈S_{l-1}} (W'^l_ij)² = Σ_j (W^l_ij)²:

the incoming (forward) part of d_i is unbiased for any weights (trained, structured or
random), not only on average over neurons. The outgoing part is
``E Σ_{k∈S_{l+1}} (W'^{l+1}_ki)² = (φ_{l+1}/φ_l) Σ_k (W^{l+1}_ki)²``: unbiased when the
layers above and below are subsampled alike. No single factor per matrix can preserve both
parts unless φ_{l+1} = φ_l (the factor a_l on W^l needs a_l² φ_{l-1} = 1 for the incoming
part of layer l and a_l² φ_l = 1 for the outgoing part of layer l-1). Hence the choice for
the input and output layers: **they are subsampled with the same fraction as the hidden
layers** (when they are spins at all; ``include_input`` / ``include_output`` of the spin
model decide that). Then φ_l = f up to the rounding of ``n_l`` (``|φ_l - f| ≤ 1/(2 N_l)``),
the whole field variance d_i of every kept neuron is preserved in expectation (exactly when
every ``f N_l`` is a whole number), and the layer-size ratios are kept. Keeping the input
layer whole would instead change the model's critical temperature (below), and it is
usually the largest layer (784 of the 1,050 spins of a 784-128-128-10 network), so it
would barely shrink the model. The fields are the kept neurons' own biases, one number per
neuron and not a sum over neighbours, so they are kept as they are.

What this means for a random network. With i.i.d. weights ``W^l_ij ~ N(0, C_l/N_{l-1})``
the subsample's weights are i.i.d. ``N(0, C_l/n_{l-1})``: the subsample *is* a multilayer SK
instance of sizes ``n_l`` with the same variance factors ``C_l``. Its paramagnet–spin-glass
temperature (:func:`~replicasolve.models.msk.msk_critical`: ``T_c² = λ_max(K)``,
``K_{l,l-1} = C_l sqrt(n_l/n_{l-1})``) equals the whole network's, because
``sqrt(n_l/n_{l-1}) = sqrt(N_l/N_{l-1}) sqrt(φ_l/φ_{l-1})`` and φ_l = φ_{l-1}. (With the
input layer kept whole, ``K_{1,0}`` would shrink by ``sqrt(f)``: for a Kaiming-normal
784-128-128-10 network, T_c = 1.4896, at f = 0.1 every layer subsampled gives 1.4903
(78-13-13-1, the rounding of the output layer), the input kept whole 1.4458, input and
output kept whole 1.6332.) What does change is the
finite-size part of q̄: its T = ∞ value ``≈ sqrt(2/(π N'))`` grows as ``N' = Σ n_l`` shrinks,
and the transition is rounded over a wider range of T.

What is not preserved. The *coherent* part of a field is not: with all neighbours aligned
a field ``Σ_j W_ij s_j`` sums its terms, not their squares, and shrinks by ``sqrt(φ)`` under
the renormalisation (e.g. a uniform weight a/N_{l-1} gives a field a in the whole model and
``a sqrt(φ)`` in the subsample). Low-rank, ordered structure that training adds to the
weights is therefore attenuated by ``sqrt(f)`` relative to the random bulk; q̄ of a
subsample of a trained network is a lower estimate of that structure's effect. Only the
layered couplings are subsampled: the Hebbian ``(W^l)ᵀW^l`` sums over the neurons of the
layer above, and its variance under subsampling is not a per-matrix factor.

Reproducibility: the kept neurons depend only on ``seed`` and the layer sizes
(numpy ``default_rng(seed)``, one ``choice`` per layer with ``φ_l < 1``, in layer order,
indices sorted); ``f = 1`` returns exactly the original model (the same arrays bit for
bit, no random draw).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from ..engines.ising import IsingSystem
from ..errors import InvalidInputError
from ..tap.bonds import LayeredBonds
from .descriptor import NetworkSystem, SpinModelConstruction, network_spin_model

__all__ = [
    "Subsample",
    "SubsampleConstruction",
    "kept_count",
    "subsample_network",
    "subsample_spin_model",
]


@dataclass(frozen=True)
class SubsampleConstruction(SpinModelConstruction):
    """The construction record of a subsampled spin model (stored with its descriptor curve).

    The fields of :class:`~replicasolve.studies.descriptor.SpinModelConstruction` describe
    the subsample as simulated (``spin_sizes``, ``n_spins``: the kept neurons;
    ``network_sizes``: the whole network), and these say how it was drawn.

    Attributes:
        subsample_fraction: f, the fraction asked for.
        subsample_seed: the seed of the draw.
        full_spin_sizes: the sizes of the whole spin model's layers, ``N_l``.
        kept_fractions: ``φ_l = n_l / N_l`` per spin layer (f up to rounding).
        coupling_factors: the factor ``1/sqrt(φ_{l-1})`` applied to each kept weight block.
    """

    subsample_fraction: float = 1.0
    subsample_seed: int = 0
    full_spin_sizes: tuple[int, ...] = ()
    kept_fractions: tuple[float, ...] = ()
    coupling_factors: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples as lists)."""
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    def __str__(self) -> str:
        base = super().__str__()
        full = sum(self.full_spin_sizes)
        return (
            f"{base}; subsample f = {self.subsample_fraction:g} (seed "
            f"{self.subsample_seed}): {self.n_spins} of {full} spins"
        )


@dataclass(frozen=True, eq=False)
class Subsample:
    """A subsampled spin model and which neurons it kept.

    Attributes:
        system: the subsample's :class:`~replicasolve.studies.descriptor.NetworkSystem`
            (layered, or dense without couplings when the model has one spin layer), ready
            for :func:`~replicasolve.studies.descriptor.descriptor_curve` with either
            engine; its ``construction`` is a :class:`SubsampleConstruction`.
        kept: one sorted int64 array per spin layer: the indices, within that network
            layer (``construction.spin_layers[k]``), of the kept neurons.
        fraction: f as asked.
        seed: the seed of the draw.
    """

    system: NetworkSystem
    kept: tuple[np.ndarray, ...]
    fraction: float
    seed: int

    @property
    def construction(self) -> SubsampleConstruction:
        """The subsample's construction record."""
        return self.system.construction  # type: ignore[return-value]

    @property
    def kept_flat(self) -> np.ndarray:
        """The kept spins as indices into the whole model's flat spin vector, shape ``(N',)``.

        ``whole.couplings()[np.ix_(k, k)]`` is the subsample's couplings before the
        per-block factors, ``whole.h[k]`` its fields.
        """
        c = self.construction
        off = np.concatenate([[0], np.cumsum(c.full_spin_sizes)])
        return np.concatenate([o + idx for o, idx in zip(off[:-1], self.kept, strict=True)])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: the construction record and the kept indices."""
        return {
            "construction": self.construction.to_dict(),
            "kept": [idx.tolist() for idx in self.kept],
        }


def _fraction(fraction: Any) -> float:
    if isinstance(fraction, (bool, np.bool_)) or not isinstance(
        fraction, (int, float, np.integer, np.floating)
    ):
        raise InvalidInputError(f"subsample fraction must be a number in (0, 1], got {fraction!r}")
    f = float(fraction)
    if not (math.isfinite(f) and 0.0 < f <= 1.0):
        raise InvalidInputError(f"subsample fraction must be in (0, 1], got {fraction!r}")
    return f


def _seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"subsample seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def kept_count(fraction: float, size: int) -> int:
    """``n = round(f · N)`` with halves rounded up: the neurons kept of a layer of ``size``.

    Args:
        fraction: f in (0, 1].
        size: N, the layer's neurons (>= 1).

    Returns:
        n in ``0..N``; ``N`` exactly when f = 1. (0 means the layer would be empty, which
        :func:`subsample_spin_model` refuses.)

    Raises:
        InvalidInputError: f not in (0, 1] or not finite, N not a whole number >= 1.
    """
    f = _fraction(fraction)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InvalidInputError(f"layer size must be a whole number >= 1, got {size!r}")
    return min(int(size), math.floor(f * int(size) + 0.5))


def subsample_spin_model(system: NetworkSystem, fraction: float, *, seed: int = 0) -> Subsample:
    """Keep a random fraction of every spin layer's neurons, couplings renormalised.

    The scheme and what it preserves are in the module docstring: ``n_l = round(f N_l)``
    neurons of every spin layer (input and output included when they are spins), drawn
    uniformly without replacement; kept weight block ``W^l`` times ``1/sqrt(φ_{l-1})``
    (``φ_l = n_l/N_l``), so that ``E Σ_j (W'^l_ij)² = Σ_j (W^l_ij)²`` for every kept neuron
    (the variance of its local field under random ±1 neighbours); fields kept.

    Args:
        system: a spin model from :func:`~replicasolve.studies.descriptor.network_spin_model`
            with layered couplings (the default).
        fraction: f in (0, 1]; 1 returns the same model (the same arrays bit for bit).
        seed: whole number >= 0; the same seed and sizes give the same neurons.

    Returns:
        A :class:`Subsample`: ``.system`` for
        :func:`~replicasolve.studies.descriptor.descriptor_curve`, ``.kept`` the indices.

    Raises:
        InvalidInputError: f outside (0, 1], NaN or not a number; a bad seed; a system
            that is not a network's spin model, or has Hebbian couplings; a fraction that
            keeps no neuron of some layer (the message names the layer and the smallest
            fraction that keeps one); a convolutional network's model (sparse blocks).
    """
    f = _fraction(fraction)
    s = _seed(seed)
    c = getattr(system, "construction", None)
    if not isinstance(system, IsingSystem) or not isinstance(c, SpinModelConstruction):
        raise InvalidInputError(
            f"subsampling needs a network's spin model (network_spin_model(...)), got "
            f"{type(system).__name__}"
        )
    if isinstance(c, SubsampleConstruction):
        raise InvalidInputError(
            "this spin model is already a subsample: subsample the whole "
            "model with the product of the fractions instead"
        )
    if c.couplings != "layered":
        raise InvalidInputError(
            f"subsampling renormalises layered couplings only, this model has {c.couplings} "
            "couplings (the Hebbian W^T W sums over the layer above and has no per-layer "
            "factor)"
        )
    if system.bonds is not None and not all(
        isinstance(w, np.ndarray) for w in system.bonds.weights
    ):
        raise InvalidInputError(
            "subsampling a convolutional network's spin model is not supported: its "
            "convolution blocks are kept sparse and weight-shared, and a random subset of "
            "their positions is neither"
        )
    sizes = tuple(int(n) for n in c.spin_sizes)
    counts = [kept_count(f, n) for n in sizes]
    for layer, n, k in zip(c.spin_layers, sizes, counts, strict=True):
        if k == 0:
            raise InvalidInputError(
                f"subsample fraction {f:g} keeps no neuron of network layer {layer} ({n} "
                f"neurons; round({f:g} x {n}) = 0): use a fraction >= {1 / n:.4g}"
                + (
                    ", or leave that layer out of the spin model"
                    if layer in (0, len(c.network_sizes) - 1)
                    else ""
                )
            )
    rng = np.random.default_rng(s)
    kept = []
    for n, k in zip(sizes, counts, strict=True):
        if k == n:
            kept.append(np.arange(n, dtype=np.int64))
        else:
            kept.append(np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64))
    phi = tuple(k / n for k, n in zip(counts, sizes, strict=True))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    h = np.concatenate([system.h[o + idx] for o, idx in zip(offsets[:-1], kept, strict=True)])
    factors: tuple[float, ...] = ()
    if system.bonds is not None:
        ws = []
        factors = tuple(1.0 / math.sqrt(p) for p in phi[:-1])
        for w, rows, cols, a in zip(
            system.bonds.weights, kept[1:], kept[:-1], factors, strict=True
        ):
            block = w[np.ix_(rows, cols)]
            # a factor of exactly 1 (a whole layer kept) leaves the weights untouched
            ws.append(block if a == 1.0 else block * a)
        sub = NetworkSystem.layered(LayeredBonds(tuple(ws)), h)
    else:
        # one spin layer: no couplings (network_spin_model builds a dense zero J then)
        if system.J is None or np.any(system.J != 0):
            raise InvalidInputError("subsampling expects layered couplings or none")
        sub = NetworkSystem.dense(np.zeros((h.size, h.size)), h)
    base = {fl.name: getattr(c, fl.name) for fl in fields(SpinModelConstruction)}
    base.update(spin_sizes=tuple(counts), n_spins=int(sum(counts)))
    construction = SubsampleConstruction(
        **base,
        subsample_fraction=f,
        subsample_seed=s,
        full_spin_sizes=sizes,
        kept_fractions=phi,
        coupling_factors=factors,
    )
    object.__setattr__(sub, "construction", construction)  # frozen: set once, here
    return Subsample(system=sub, kept=tuple(kept), fraction=f, seed=s)


def subsample_network(
    source: Any,
    fraction: float,
    *,
    seed: int = 0,
    biases: Any = True,
    include_input: bool = True,
    include_output: bool = True,
    scale: float = 1.0,
    epoch: int | None = None,
) -> Subsample:
    """The subsampled spin model of a network (its whole spin model, then
    :func:`subsample_spin_model`).

    Args:
        source: anything :func:`~replicasolve.studies.descriptor.network_spin_model` reads
            (torch module, ``.pt``/``.npz`` file, run directory, snapshot, arrays).
        fraction: f in (0, 1], the fraction of every spin layer's neurons kept.
        seed: the seed of the draw (whole number >= 0).
        biases, include_input, include_output, scale, epoch: as in
            :func:`~replicasolve.studies.descriptor.network_spin_model` (layered couplings).

    Returns:
        A :class:`Subsample`.

    Raises:
        InvalidInputError: anything
            :func:`~replicasolve.studies.descriptor.network_spin_model` or
            :func:`subsample_spin_model` refuses; the fraction and seed are checked first,
            before the network is read.
    """
    _fraction(fraction)
    _seed(seed)
    whole = network_spin_model(
        source,
        couplings="layered",
        biases=biases,
        include_input=include_input,
        include_output=include_output,
        scale=scale,
        epoch=epoch,
    )
    return subsample_spin_model(whole, fraction, seed=seed)
