"""Monte Carlo on the sphere for a finite random MLP's input landscape (the check of the
Gaussian-limit replica theory in :mod:`replicasolve.models.landscape`).

The network: input x with |x|² = N, hidden widths n_l, weights W_l ~ N(0, σ_w²/fan-in),
biases ~ N(0, σ_b²), a scalar linear read-out of the same law; H(x) = sqrt(N) f(x), so that
for infinite widths E H(x) H(x') = N ξ(x·x'/N) with ξ = K_{L+1}. Replicas are independent
Markov chains on the *same* network, sampled from exp(-βH) by Metropolis with great-circle
moves x' = cos θ x + sin θ u (u uniform on the tangent sphere; θ tuned during burn-in for an
acceptance near 1/2). Everything is vectorised over replicas with numpy (the cost is the
forward pass, a matrix product).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..blas import tap_blas
from ..errors import InvalidInputError

__all__ = ["MCResult", "PTResult", "SphereMLP", "parallel_tempering", "sample_sphere"]


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


@dataclass(frozen=True, eq=False)
class MCResult:
    """Samples of one network.

    Attributes:
        energies: (n_samples, R) energies per input dimension H/N after burn-in.
        overlaps: (n_samples, R(R-1)/2) replica overlaps x_a·x_b/N at the same times.
        acceptance: acceptance rate after burn-in.
        theta: the tuned move angle.
    """

    energies: np.ndarray
    overlaps: np.ndarray
    acceptance: float
    theta: float

    @property
    def mean_energy(self) -> float:
        return float(self.energies.mean())

    @property
    def mean_overlap(self) -> float:
        return float(self.overlaps.mean())


def _tangent_noise(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    g = rng.standard_normal(x.shape)
    g -= (np.sum(g * x, axis=1) / n)[:, None] * x
    return g * (math.sqrt(n) / np.linalg.norm(g, axis=1))[:, None]


@tap_blas  # small matrix products: one BLAS thread avoids two pools spinning on 2 cores
def sample_sphere(net: SphereMLP, beta: float, n_replicas: int = 16, n_steps: int = 4000,
                  burn_in: int = 2000, every: int = 20, seed: int | None = None) -> MCResult:
    """Metropolis sampling of exp(-β H(x)) on |x|² = N, ``n_replicas`` chains at once.

    ``n_steps`` proposals per chain after ``burn_in`` (during which θ adapts toward 50 %
    acceptance); a sample is recorded every ``every`` proposals.
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
    return MCResult(np.array(energies), np.array(overlaps),
                    accepted / (n_steps * n_replicas), theta)


@dataclass(frozen=True, eq=False)
class PTResult:
    """Parallel-tempering samples of one network.

    Attributes:
        betas: the inverse temperatures, increasing, shape (K,).
        energies: (n_samples, K, R) energies per input dimension H/N.
        overlaps: (n_samples, K, R(R-1)/2) overlaps between the R independent PT chains at
            each temperature (replicas a ≠ b of the same network).
        swap_rate: accepted fraction of swaps between neighbouring temperatures, shape (K-1,).
        acceptance: Metropolis acceptance per temperature after burn-in, shape (K,).
    """

    betas: np.ndarray
    energies: np.ndarray
    overlaps: np.ndarray
    swap_rate: np.ndarray
    acceptance: np.ndarray

    def overlap_histogram(self, k: int, bins: int = 41) -> tuple[np.ndarray, np.ndarray]:
        """P(q) at temperature index ``k``: (bin centres, density), over [-1, 1]."""
        h, edges = np.histogram(self.overlaps[:, k, :].ravel(), bins=bins, range=(-1, 1),
                                density=True)
        return 0.5 * (edges[1:] + edges[:-1]), h


@tap_blas
def parallel_tempering(net: SphereMLP, betas: Any, n_replicas: int = 8, n_sweeps: int = 3000,
                       burn_in: int = 1500, every: int = 20, swap_every: int = 5,
                       seed: int | None = None) -> PTResult:
    """Parallel tempering on |x|² = N: ``n_replicas`` independent PT chains, each holding
    one configuration per β in ``betas`` (increasing); Metropolis great-circle moves with a
    per-temperature angle tuned during burn-in, and swaps of neighbouring temperatures
    (accepted with min(1, e^{(β_{k+1} - β_k)(H_{k+1} - H_k)})) every ``swap_every`` sweeps.
    """
    b = np.asarray(betas, dtype=float)
    if b.ndim != 1 or b.size < 2 or np.any(~np.isfinite(b)) or np.any(b < 0) \
            or np.any(np.diff(b) <= 0):
        raise InvalidInputError("betas must be >= 2 finite, non-negative, increasing values")
    if n_replicas < 2 or n_sweeps < every or burn_in < 0 or every < 1 or swap_every < 1:
        raise InvalidInputError("need n_replicas >= 2, n_sweeps >= every >= 1, burn_in >= 0")
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
                theta = np.clip(theta * np.exp(acc / 50 - 0.5), 1e-4, math.pi / 2)
                acc[:] = 0
        else:
            acc_after += per_t
        if (sweep + 1) % swap_every == 0:
            swap_tries += 1
            hh = h.reshape(kk, n_replicas)
            xx = x.reshape(kk, n_replicas, n)
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
                swaps[k] += ok.mean()
            x = xx.reshape(kk * n_replicas, n)
            h = hh.reshape(-1)
        if sweep >= burn_in and (sweep - burn_in + 1) % every == 0:
            xx = x.reshape(kk, n_replicas, n)
            energies.append(h.reshape(kk, n_replicas) / n)
            overlaps.append(np.stack([(xx[k] @ xx[k].T / n)[iu] for k in range(kk)]))
    return PTResult(b, np.array(energies), np.array(overlaps),
                    swaps / max(swap_tries, 1), acc_after / n_sweeps)
