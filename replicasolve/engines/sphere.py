"""Monte Carlo on the sphere for a finite random MLP's input landscape (the check of the
replica theory in :mod:`replicasolve.models.landscape` and
:mod:`replicasolve.solvers.finite_width`).

The network: input x with |x|² = N, hidden widths n_l, weights W_l ~ N(0, σ_w²/fan-in),
biases ~ N(0, σ_b²), a scalar linear read-out of the same law; H(x) = sqrt(N) f(x), so that
for infinite widths E H(x) H(x') = N ξ(x·x'/N) with ξ = K_{L+1}. Replicas are independent
Markov chains on the *same* network, sampled from exp(-βH) by Metropolis.

One engine, two move sets:

- ``"great_circle"`` (:func:`sample_sphere`, and :func:`parallel_tempering` by default):
  global moves x' = cos θ x + sin θ u (u uniform on the tangent sphere; θ tuned during
  burn-in toward an acceptance of 1/2), vectorised over replicas with numpy (the cost is
  the forward pass, a matrix product). Any depth, any activation of
  :mod:`replicasolve.kernels.activation`. A step is one move of every configuration.
- ``"pair"`` (:func:`pt_sphere`, or ``parallel_tempering(..., moves="pair")``): *local*
  moves that rotate one random coordinate pair (x_i, x_j) by an angle θ uniform in
  [-δ, δ]; they keep |x|² = N exactly, map the uniform measure on the sphere to itself and
  are symmetric in θ, so Metropolis acceptance min(1, e^{-βΔH}) samples exp(-βH) on the
  sphere; rotations in coordinate planes generate SO(N), so the chain is irreducible. The
  preactivations h = W_1 x + b_1 are updated in O(N_1) per move (two columns of W_1), so a
  sweep (N/2 pair moves, every coordinate moved once on average) costs one forward pass,
  like one great-circle move, but decorrelates O(1) per coordinate instead of O(1/N) (the
  global move's angle must shrink like 1/sqrt(N)). One hidden layer and the activations
  the compiled kernel evaluates natively (sin, tanh, relu, erf, linear); everything runs in
  one numba kernel (:mod:`._sphere_kernels`), δ per temperature adapted during burn-in.

Both move sets run the same parallel tempering: R independent PT chains (replicas) on the
same network, each holding one configuration per temperature of an increasing β ladder;
neighbouring temperatures swap configurations with probability
min(1, e^{(β_{k+1} - β_k)(H_{k+1} - H_k)}). They are kept side by side, not merged into
one algorithm, because they sample with different random streams and move sizes: merging
would change the numbers the tests and studies pin (and drop depth > 1 or the other
activations from the great-circle path). Both return the one :class:`SpherePTResult`.

Results (:class:`SphereMCResult`, :class:`SpherePTResult`) are on the library's result
contract, with the ``converged`` rules of :mod:`replicasolve.engines.convergence`: the
integrated autocorrelation times of the energy and of the overlap q (in steps or sweeps)
at most 1/50 of the measured span; for PT also every neighbouring swap rate above 0.02 and
every PT chain at least one cold-to-hot traversal of the ladder after burn-in.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..blas import tap_blas
from ..errors import InvalidInputError
from .convergence import MCRun, PTRun, integrated_autocorrelation_time

__all__ = [
    "PT_ACTIVATIONS",
    "MCResult",
    "PTResult",
    "SphereMCResult",
    "SphereMLP",
    "SpherePT",
    "SpherePTResult",
    "kernel_activation_code",
    "parallel_tempering",
    "pt_sphere",
    "sample_sphere",
]

# activation names the pair-move kernel evaluates natively (see _sphere_kernels)
_ACT_CODES = {"x": 0, "linear": 0, "identity": 0, "sin": 1, "tanh": 2, "relu": 3, "erf": 4}
PT_ACTIVATIONS = tuple(sorted(_ACT_CODES))
_MOVES = ("great_circle", "pair")


@dataclass(frozen=True, eq=False)
class SphereMLP:
    """A random MLP with input dimension N; ``energy(X)`` is H(x) = sqrt(N) f(x) per row."""

    n_inputs: int
    widths: tuple[int, ...]
    activation: str
    sigma_w2: float
    sigma_b2: float
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    _phi: Any

    @classmethod
    def random(cls, n_inputs: int, widths: tuple[int, ...] | list[int], activation: str,
               sigma_w2: float = 1.0, sigma_b2: float = 0.0, seed: int | None = None
               ) -> SphereMLP:
        """Draw a network: ``widths`` are the hidden layer sizes (one per hidden layer)."""
        if n_inputs < 2 or any(int(w) < 1 for w in widths):
            raise InvalidInputError("n_inputs must be >= 2 and every width >= 1")
        if not sigma_w2 > 0 or sigma_b2 < 0:
            raise InvalidInputError("need sigma_w2 > 0 and sigma_b2 >= 0")
        from ..kernels.activation import activation as make_activation

        act = make_activation(activation)
        phi = act.phi
        rng = np.random.default_rng(seed)
        sizes = [int(n_inputs), *map(int, widths), 1]
        ws, bs = [], []
        for fan_in, fan_out in itertools.pairwise(sizes):
            ws.append(rng.normal(0.0, math.sqrt(sigma_w2 / fan_in), size=(fan_out, fan_in)))
            bs.append(rng.normal(0.0, math.sqrt(sigma_b2), size=fan_out) if sigma_b2 > 0
                      else np.zeros(fan_out))
        return cls(int(n_inputs), tuple(map(int, widths)), str(activation), float(sigma_w2),
                   float(sigma_b2), tuple(ws), tuple(bs), phi)

    def energy(self, x: np.ndarray) -> np.ndarray:
        """H(x) = sqrt(N) f(x) for each row of ``x`` (shape (R, N), rows on the sphere)."""
        h = x.T
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = w @ h + b[:, None]
            if i < len(self.weights) - 1:
                h = self._phi(h)
        return math.sqrt(self.n_inputs) * h[0]


def _mean_error(per_chain: np.ndarray) -> dict[str, float]:
    """Mean ± standard error of independent per-chain values."""
    v = np.asarray(per_chain, dtype=np.float64).ravel()
    err = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size >= 2 else math.nan
    return {"value": float(v.mean()), "error": err}


def _pair_mean_error(per_pair: np.ndarray, r: int) -> dict[str, float]:
    """Mean over replica pairs a < b (row-major) ± delete-one-replica jackknife error."""
    v = np.asarray(per_pair, dtype=np.float64).ravel()
    if r < 3:
        return {"value": float(v.mean()), "error": math.nan}
    m = np.zeros((r, r))
    iu = np.triu_indices(r, 1)
    m[iu] = v
    m = m + m.T
    keep = v.size - (r - 1)
    deleted = (v.sum() - m.sum(axis=1)) / keep
    err = math.sqrt((r - 1) / r * float(np.sum((deleted - deleted.mean()) ** 2)))
    return {"value": float(v.mean()), "error": err}


def _tau(series: np.ndarray, every: int) -> float:
    """τ_int of a sample series in steps (sweeps): samples × ``every``."""
    if series.shape[0] < 2:
        return math.nan
    return integrated_autocorrelation_time(series) * every


def _temperature_of(beta: float) -> float:
    return 1.0 / beta if beta > 0 else math.inf


@dataclass(frozen=True, eq=False)
class SphereMCResult(MCRun):
    """Samples of one network at one temperature (:func:`sample_sphere`).

    On the library's result contract (through
    :class:`~replicasolve.engines.convergence.MCRun`): ``converged`` is True when the
    integrated autocorrelation times of the energy and of the overlap q are finite and at
    most 1/50 of the measured span (:mod:`replicasolve.engines.convergence` gives the
    reasons); ``to_dict()`` is a JSON-ready summary (means with errors over the independent
    replicas, τ's, shapes: not the series), ``table()`` its text form.

    Attributes:
        energies: (n_samples, R) energies per input dimension H/N after burn-in.
        overlaps: (n_samples, R(R-1)/2) replica overlaps x_a·x_b/N at the same times.
        acceptance: acceptance rate after burn-in.
        theta: the tuned move angle.
        beta: the inverse temperature β (``T`` = 1/β).
        every: steps between samples.
        settings: the run's arguments.
    """

    energies: np.ndarray
    overlaps: np.ndarray
    acceptance: float
    theta: float
    beta: float = math.nan
    every: int = 1
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> float:
        """T = 1/β (inf at β = 0)."""
        return _temperature_of(self.beta)

    @property
    def replicas(self) -> int:
        """Number of replicas R."""
        return int(self.energies.shape[1])

    @property
    def mean_energy(self) -> float:
        """⟨H⟩/N over samples and replicas."""
        return float(self.energies.mean())

    @property
    def mean_overlap(self) -> float:
        """⟨q⟩ over samples and replica pairs."""
        return float(self.overlaps.mean())

    @property
    def autocorrelation_times(self) -> dict[str, float]:
        """τ of the energy and of the overlap q, in steps."""
        return {"energy": _tau(self.energies, self.every),
                "q": _tau(self.overlaps, self.every)}

    @property
    def span(self) -> float:
        """The measured production span in steps (samples × ``every``)."""
        return float(self.energies.shape[0] * self.every)

    def _summary(self) -> dict[str, Any]:
        taus = self.autocorrelation_times
        return {
            "T": self.T, "beta": self.beta, "replicas": self.replicas,
            "samples": int(self.energies.shape[0]),
            "energy": _mean_error(self.energies.mean(axis=0)),
            "q": _pair_mean_error(self.overlaps.mean(axis=0), self.replicas),
            "acceptance": self.acceptance, "theta": self.theta,
            "tau_energy": taus["energy"], "tau_q": taus["q"], "span": self.span,
            "shapes": {"energies": list(self.energies.shape),
                       "overlaps": list(self.overlaps.shape)},
            "settings": self.settings,
        }


@dataclass(frozen=True, eq=False)
class SpherePTResult(PTRun):
    """Parallel-tempering samples of one network (:func:`parallel_tempering`,
    :func:`pt_sphere`), whichever the move set.

    On the library's result contract (through
    :class:`~replicasolve.engines.convergence.PTRun`): ``converged`` is True when at every
    temperature the integrated autocorrelation times of the energy and of q are at most
    1/50 of the span, every neighbouring swap rate is above 0.02 and every PT chain made at
    least one cold-to-hot traversal of the ladder after burn-in (a single temperature: the
    first condition only); ``to_dict()`` is a JSON-ready summary, ``table()`` its text form.

    Attributes:
        betas: the inverse temperatures, increasing, shape (K,) (``T`` = 1/β).
        energies: (n_samples, K, R) energies per input dimension H/N.
        overlaps: (n_samples, K, R(R-1)/2) overlaps x_a·x_b/N of the R independent PT chains
            at each temperature (pairs a < b in row-major order).
        acceptance: Metropolis acceptance of the moves after burn-in, shape (K,).
        swap_rate: accepted fraction of neighbour swaps, shape (K-1,) (pair moves: after
            burn-in; great-circle moves: over the whole run, as it always was).
        round_trips: per PT chain, the cold-to-hot traversals of the whole ladder completed
            after burn-in, shape (R,).
        delta: the tuned move angle per temperature (radians): the half-angle δ of the pair
            rotations, or the great-circle angle θ; shape (K,).
        final_x: the configurations at each temperature at the end, shape (K, R, N).
        settings: the run's arguments (``moves``, ``every``, ...).
    """

    betas: np.ndarray
    energies: np.ndarray
    overlaps: np.ndarray
    acceptance: np.ndarray
    swap_rate: np.ndarray
    round_trips: np.ndarray
    delta: np.ndarray
    final_x: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> np.ndarray:
        """T_k = 1/β_k (inf at β = 0), decreasing."""
        with np.errstate(divide="ignore"):
            return np.where(self.betas > 0, 1.0 / self.betas, np.inf)

    @property
    def every(self) -> int:
        """Sweeps between samples."""
        return int(self.settings.get("every", 1))

    @property
    def autocorrelation_times_by_T(self) -> list[dict[str, float]]:
        """Per temperature, τ of the energy and of q, in sweeps."""
        return [{"energy": _tau(self.energies[:, k, :], self.every),
                 "q": _tau(self.overlaps[:, k, :], self.every)}
                for k in range(self.betas.size)]

    @property
    def span(self) -> float:
        """The measured production span in sweeps (samples × ``every``)."""
        return float(self.energies.shape[0] * self.every)

    @property
    def swap_rates(self) -> np.ndarray:
        """Alias of :attr:`swap_rate` (the name :class:`PTRun` reads)."""
        return self.swap_rate

    @property
    def traversals(self) -> np.ndarray:
        """Alias of :attr:`round_trips` (the name :class:`PTRun` reads)."""
        return self.round_trips

    def overlap_histogram(self, k: int, bins: int = 41) -> tuple[np.ndarray, np.ndarray]:
        """P(q) at temperature index ``k``: (bin centres, density), over [-1, 1]."""
        h, edges = np.histogram(self.overlaps[:, k, :].ravel(), bins=bins, range=(-1, 1),
                                density=True)
        return 0.5 * (edges[1:] + edges[:-1]), h

    def _summary(self) -> dict[str, Any]:
        r = self.energies.shape[2]
        kk = self.betas.size
        e = [_mean_error(self.energies[:, k, :].mean(axis=0)) for k in range(kk)]
        q = [_pair_mean_error(self.overlaps[:, k, :].mean(axis=0), r) for k in range(kk)]
        taus = self.autocorrelation_times_by_T
        return {
            "moves": self.settings.get("moves", ""), "betas": self.betas, "T": self.T,
            "replicas": r, "samples": int(self.energies.shape[0]),
            "energy": [x["value"] for x in e], "energy_err": [x["error"] for x in e],
            "q": [x["value"] for x in q], "q_err": [x["error"] for x in q],
            "acceptance": self.acceptance, "swap_rate": self.swap_rate,
            "round_trips": self.round_trips, "delta": self.delta,
            "tau_energy": [t["energy"] for t in taus], "tau_q": [t["q"] for t in taus],
            "span": self.span,
            "shapes": {"energies": list(self.energies.shape),
                       "overlaps": list(self.overlaps.shape),
                       "final_x": list(self.final_x.shape)},
            "settings": self.settings,
        }


# the names before the one result family (kept so that no caller breaks)
MCResult = SphereMCResult
PTResult = SpherePTResult
SpherePT = SpherePTResult


def kernel_activation_code(activation: str) -> int:
    """The code of ``activation`` in the pair-move kernel (:data:`PT_ACTIVATIONS`).

    Raises:
        InvalidInputError: an activation the kernel does not evaluate natively.
    """
    name = str(activation).strip().lower()
    if name not in _ACT_CODES:
        raise InvalidInputError(
            f"the sphere PT kernel evaluates {sorted(_ACT_CODES)} natively, not "
            f"{activation!r}")
    return _ACT_CODES[name]


def _whole(value: Any, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise InvalidInputError(f"{name} must be a whole number >= {lo}, got {value!r}")
    return int(value)


def _tangent_noise(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    g = rng.standard_normal(x.shape)
    g -= (np.sum(g * x, axis=1) / n)[:, None] * x
    return g * (math.sqrt(n) / np.linalg.norm(g, axis=1))[:, None]


@tap_blas  # small matrix products: one BLAS thread avoids two pools spinning on 2 cores
def sample_sphere(net: SphereMLP, beta: float, n_replicas: int = 16, n_steps: int = 4000,
                  burn_in: int = 2000, every: int = 20, seed: int | None = None) -> SphereMCResult:
    """Metropolis sampling of exp(-β H(x)) on |x|² = N, ``n_replicas`` chains at once.

    ``n_steps`` proposals per chain after ``burn_in`` (during which θ adapts toward 50 %
    acceptance); a sample is recorded every ``every`` proposals. Great-circle moves (module
    docstring): any depth and activation.

    Args:
        net: the network.
        beta: inverse temperature β ≥ 0.
        n_replicas: R ≥ 2 independent chains on the same network.
        n_steps: production steps (one move of every chain per step), ≥ ``every``.
        burn_in: steps before, where θ adapts.
        every: steps between samples.
        seed: seeds the start (uniform on the sphere) and the moves.

    Returns:
        :class:`SphereMCResult` (``converged``: module docstring).

    Raises:
        InvalidInputError: bad β or counts.
    """
    if not beta >= 0 or not math.isfinite(beta):
        raise InvalidInputError(f"beta must be finite and >= 0, got {beta!r}")
    if n_replicas < 2 or n_steps < every or burn_in < 0 or every < 1:
        raise InvalidInputError("need n_replicas >= 2, n_steps >= every >= 1, burn_in >= 0")
    rng = np.random.default_rng(seed)
    n = net.n_inputs
    x = rng.standard_normal((n_replicas, n))
    x *= (math.sqrt(n) / np.linalg.norm(x, axis=1))[:, None]
    h = net.energy(x)
    theta = 0.5
    acc_window = 0
    energies, overlaps = [], []
    iu = np.triu_indices(n_replicas, 1)
    accepted = 0
    for step in range(burn_in + n_steps):
        u = _tangent_noise(rng, x)
        prop = math.cos(theta) * x + math.sin(theta) * u
        hp = net.energy(prop)
        accept = np.log(rng.random(n_replicas)) < -beta * (hp - h)
        x[accept] = prop[accept]
        h[accept] = hp[accept]
        if step < burn_in:
            acc_window += int(accept.sum())
            if (step + 1) % 50 == 0:
                rate = acc_window / (50 * n_replicas)
                theta = float(np.clip(theta * math.exp(rate - 0.5), 1e-4, math.pi / 2))
                acc_window = 0
            continue
        accepted += int(accept.sum())
        if (step - burn_in + 1) % every == 0:
            energies.append(h / n)
            overlaps.append((x @ x.T / n)[iu])
    return SphereMCResult(np.array(energies), np.array(overlaps),
                          accepted / (n_steps * n_replicas), theta, beta=float(beta),
                          every=int(every),
                          settings={"n_replicas": int(n_replicas), "n_steps": int(n_steps),
                                    "burn_in": int(burn_in), "every": int(every),
                                    "seed": seed, "moves": "great_circle"})


def _ladder(betas: Any) -> np.ndarray:
    b = np.atleast_1d(np.asarray(betas, dtype=float))
    if b.ndim != 1 or b.size < 1 or np.any(~np.isfinite(b)) or np.any(b < 0) \
            or np.any(np.diff(b) <= 0):
        raise InvalidInputError("betas must be finite, non-negative and increasing")
    return b


@tap_blas  # small matrix products: one BLAS thread avoids two pools spinning on 2 cores
def _great_circle_pt(net: SphereMLP, b: np.ndarray, n_replicas: int, n_sweeps: int,
                     burn_in: int, every: int, swap_every: int, target: float,
                     seed: int | None) -> SpherePTResult:
    """Parallel tempering with great-circle moves (numpy, any depth and activation)."""
    rng = np.random.default_rng(seed)
    n = net.n_inputs
    kk = b.size
    x = rng.standard_normal((kk * n_replicas, n))
    x *= (math.sqrt(n) / np.linalg.norm(x, axis=1))[:, None]
    beta_rows = np.repeat(b, n_replicas)
    h = net.energy(x)
    theta = np.full(kk, 0.5)
    acc = np.zeros(kk)
    acc_after = np.zeros(kk)
    swaps = np.zeros(kk - 1)
    swap_tries = 0
    iu = np.triu_indices(n_replicas, 1)
    energies, overlaps = [], []
    # the walker (configuration) in each slot and its direction along the ladder, for the
    # cold-to-hot traversals (bookkeeping only: it draws no random numbers)
    walker = np.arange(kk * n_replicas)
    direction = np.zeros(kk * n_replicas, dtype=np.int64)
    trips = np.zeros(n_replicas, dtype=np.int64)
    for sweep in range(burn_in + n_sweeps):
        th = np.repeat(theta, n_replicas)[:, None]
        prop = np.cos(th) * x + np.sin(th) * _tangent_noise(rng, x)
        hp = net.energy(prop)
        accept = np.log(rng.random(x.shape[0])) < -beta_rows * (hp - h)
        x[accept] = prop[accept]
        h[accept] = hp[accept]
        per_t = accept.reshape(kk, n_replicas).mean(axis=1)
        if sweep < burn_in:
            acc += per_t
            if (sweep + 1) % 50 == 0:
                theta = np.clip(theta * np.exp(acc / 50 - target), 1e-4, math.pi / 2)
                acc[:] = 0
        else:
            acc_after += per_t
        if (sweep + 1) % swap_every == 0:
            swap_tries += 1
            hh = h.reshape(kk, n_replicas)
            xx = x.reshape(kk, n_replicas, n)
            ww = walker.reshape(kk, n_replicas)
            for k in range(kk - 1):
                delta = (b[k + 1] - b[k]) * (hh[k + 1] - hh[k])
                ok = np.log(rng.random(n_replicas)) < delta
                if np.any(ok):
                    tmp = xx[k, ok].copy()
                    xx[k, ok] = xx[k + 1, ok]
                    xx[k + 1, ok] = tmp
                    te = hh[k, ok].copy()
                    hh[k, ok] = hh[k + 1, ok]
                    hh[k + 1, ok] = te
                    tw = ww[k, ok].copy()
                    ww[k, ok] = ww[k + 1, ok]
                    ww[k + 1, ok] = tw
                swaps[k] += ok.mean()
            x = xx.reshape(kk * n_replicas, n)
            h = hh.reshape(-1)
            walker = ww.reshape(-1)
            if kk > 1:
                hot = ww[0]
                if sweep >= burn_in:
                    trips += direction[hot] == -1
                direction[hot] = 1
                direction[ww[kk - 1]] = -1
        if sweep >= burn_in and (sweep - burn_in + 1) % every == 0:
            xx = x.reshape(kk, n_replicas, n)
            energies.append(h.reshape(kk, n_replicas) / n)
            overlaps.append(np.stack([(xx[k] @ xx[k].T / n)[iu] for k in range(kk)]))
    return SpherePTResult(
        betas=b, energies=np.array(energies), overlaps=np.array(overlaps),
        acceptance=acc_after / n_sweeps, swap_rate=swaps / max(swap_tries, 1),
        round_trips=trips, delta=theta.copy(), final_x=x.reshape(kk, n_replicas, n).copy(),
        settings={"moves": "great_circle", "n_replicas": n_replicas, "n_sweeps": n_sweeps,
                  "burn_in": burn_in, "every": every, "swap_every": swap_every,
                  "target_acceptance": target, "seed": seed})


def _pair_pt(net: Any, b: np.ndarray, rr: int, n_sweeps: int, burn_in: int, every: int,
             swap_every: int, target: float, seed: int | None) -> SpherePTResult:
    """Parallel tempering with pair-rotation moves (the numba kernel, depth 1)."""
    from . import _sphere_kernels as kern  # compiled on first use only

    if len(net.weights) != 2:
        raise InvalidInputError("pt_sphere handles one hidden layer (depth 1) only")
    code = kernel_activation_code(net.activation)
    n = int(net.n_inputs)
    kk = b.size
    rng = np.random.default_rng(seed)
    kernel_seed = int(rng.integers(2**31 - 1))
    x = rng.standard_normal((kk * rr, n))
    x *= (math.sqrt(n) / np.linalg.norm(x, axis=1))[:, None]
    w1, w2 = net.weights
    wt = np.ascontiguousarray(w1.T, dtype=float)  # (N, N_1): a coordinate's column is a row
    b1 = np.ascontiguousarray(net.biases[0], dtype=float)
    v = np.ascontiguousarray(w2[0], dtype=float)
    b_out = float(net.biases[1][0])
    h = np.empty((kk * rr, wt.shape[1]))
    e = np.empty(kk * rr)
    kern.resync(x, h, e, wt, b1, v, b_out, code)
    perm = np.arange(kk * rr, dtype=np.int64).reshape(kk, rr)
    direction = np.zeros(kk * rr, dtype=np.int64)
    delta = np.full(kk, 0.5)
    n_out = n_sweeps // every
    pairs = rr * (rr - 1) // 2
    out_e = np.zeros((n_out, kk, rr))
    out_q = np.zeros((n_out, kk, pairs))
    acc = np.zeros(kk)
    swap_acc = np.zeros(max(kk - 1, 1), dtype=np.int64)
    swap_try = np.zeros(max(kk - 1, 1), dtype=np.int64)
    trips = np.zeros(rr, dtype=np.int64)
    kern.run_pt(x, h, e, wt, b1, v, b_out, code, b, delta, perm, direction, n_sweeps, burn_in,
                every, swap_every if kk > 1 else n_sweeps + burn_in + 1, 64, float(target),
                kernel_seed, out_e, out_q, acc, swap_acc, swap_try, trips)
    final = x[perm.ravel()].reshape(kk, rr, n)
    return SpherePTResult(
        betas=b, energies=out_e, overlaps=out_q, acceptance=acc / (n_sweeps * rr),
        swap_rate=(swap_acc / np.maximum(swap_try, 1))[: kk - 1],
        round_trips=trips, delta=delta.copy(), final_x=final,
        settings={"moves": "pair", "n_replicas": rr, "n_sweeps": n_sweeps,
                  "burn_in": burn_in, "every": every, "swap_every": swap_every,
                  "target_acceptance": float(target), "seed": seed})


def parallel_tempering(net: SphereMLP, betas: Sequence[float] | np.ndarray,
                       n_replicas: int = 8, n_sweeps: int = 3000, burn_in: int = 1500,
                       every: int = 20, swap_every: int = 5, seed: int | None = None, *,
                       moves: str = "great_circle",
                       target_acceptance: float | None = None) -> SpherePTResult:
    """Parallel tempering of exp(-β H(x)) on |x|² = N: ``n_replicas`` independent PT
    chains, each holding one configuration per β in ``betas``; Metropolis moves with a
    per-temperature angle tuned during burn-in, and swaps of neighbouring temperatures
    (accepted with min(1, e^{(β_{k+1} - β_k)(H_{k+1} - H_k)})) every ``swap_every`` sweeps.

    Args:
        net: the network (pair moves: one hidden layer, an activation of
            :data:`PT_ACTIVATIONS`).
        betas: inverse temperatures β, finite, ≥ 0, strictly increasing (the last is the
            coldest); a single value runs plain Metropolis (no swaps).
        n_replicas: R ≥ 2 independent PT chains on the same network.
        n_sweeps: production sweeps (≥ ``every``); burn_in: sweeps before (the angles
            adapt there).
        every: a sample every ``every`` sweeps; swap_every: swaps every so many sweeps.
        seed: seeds the initial configurations (uniform on the sphere) and the moves.
        moves: ``"great_circle"`` (one global move per configuration and sweep, numpy) or
            ``"pair"`` (N/2 coordinate-pair rotations per sweep, the numba kernel: module
            docstring). The two draw different random numbers: the same seed gives
            different (equally valid) samples.
        target_acceptance: acceptance the angles adapt toward, in (0, 1) (default 0.5 for
            great-circle moves, 0.4 for pair moves).

    Returns:
        :class:`SpherePTResult` (``converged``: module docstring).

    Raises:
        InvalidInputError: bad betas, counts, move set or target; for pair moves a deeper
            network or an activation the kernel lacks.
    """
    b = _ladder(betas)
    rr = _whole(n_replicas, "n_replicas", 2)
    every = _whole(every, "every", 1)
    n_sweeps = _whole(n_sweeps, "n_sweeps", every)
    burn_in = _whole(burn_in, "burn_in", 0)
    swap_every = _whole(swap_every, "swap_every", 1)
    if moves not in _MOVES:
        raise InvalidInputError(f"moves must be one of {_MOVES}, got {moves!r}")
    if target_acceptance is None:
        target = 0.5 if moves == "great_circle" else 0.4
    else:
        target = float(target_acceptance)
    if not 0.0 < target < 1.0:
        raise InvalidInputError(f"target_acceptance must lie in (0, 1), got "
                                f"{target_acceptance!r}")
    if moves == "pair":
        return _pair_pt(net, b, rr, n_sweeps, burn_in, every, swap_every, target, seed)
    return _great_circle_pt(net, b, rr, n_sweeps, burn_in, every, swap_every, target, seed)


def pt_sphere(net: Any, betas: Sequence[float] | np.ndarray, n_replicas: int = 8,
              n_sweeps: int = 4000, burn_in: int = 2000, every: int = 10,
              swap_every: int = 1, target_acceptance: float = 0.4,
              seed: int | None = None) -> SpherePTResult:
    """Parallel tempering with local pair-rotation moves for a one-hidden-layer network:
    :func:`parallel_tempering` with ``moves="pair"`` and the defaults of the landscape
    check (:mod:`replicasolve.studies.landscape_check`). A sweep is N/2 moves per
    configuration.

    Args:
        net: a :class:`SphereMLP` with one hidden layer and an activation among sin, tanh,
            relu, erf, linear (``x``).
        betas: inverse temperatures β (Gibbs weight e^{-βH}, T = 1/β in the units of H/N
            used by the theory), finite, ≥ 0, strictly increasing; the last is the coldest.
            A single value runs plain Metropolis (no swaps).
        n_replicas: R ≥ 2 independent PT chains on the same network.
        n_sweeps: production sweeps (≥ ``every``); burn_in: sweeps before (δ adapts there).
        every: a sample every ``every`` sweeps; swap_every: swaps every so many sweeps.
        target_acceptance: acceptance the angle δ is adapted toward, in (0, 1).
        seed: seeds the initial configurations (uniform on the sphere) and the kernel.

    Returns:
        :class:`SpherePTResult`.

    Raises:
        InvalidInputError: a deeper network, an activation the kernel lacks, bad betas or
            counts.
    """
    return parallel_tempering(net, betas, n_replicas, n_sweeps, burn_in, every, swap_every,
                              seed, moves="pair", target_acceptance=target_acceptance)
