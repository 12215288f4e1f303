"""Finite-width random MLPs in torch: the empirical output covariance ξ(q).

The check of the kernel composition against real networks (the infinite-width construction
of Hanin & Winer, arXiv 2503.23982; ``replicasolve.kernels.numeric``): inputs on the
sphere ``|x|² = n_in`` with overlap ``q``, weights ``W_l ~ N(0, σ_w²/fan_in)``, biases
``N(0, σ_b²)``. Given the last hidden layer, the output covariance is exactly
``σ_b² + σ_w² φ(h_ref)·φ(h_q) / width``; it fluctuates from draw to draw by
``O(width^{-1/2})`` and its mean over draws tends to ``ξ(q) = K_{L+1}(q)`` with an
``O(1/width)`` bias. The standard error is taken across independent draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .. import validation
from ..errors import InvalidInputError

__all__ = ["empirical_xi"]


def empirical_xi(
    phi: Callable[[np.ndarray], np.ndarray],
    depth: int,
    sigma_w2: float,
    sigma_b2: float,
    q: Sequence[float] | np.ndarray,
    *,
    width: int = 4096,
    n_in: int = 256,
    draws: int = 8,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Mean over weight draws of a torch MLP's output covariance, and its standard error.

    Args:
        phi: vectorised numpy activation (e.g. ``activation("tanh").phi``).
        depth: hidden layers ``L`` (the output is layer ``L + 1``).
        sigma_w2: weight variance factor (``W ~ N(0, σ_w²/fan_in)``).
        sigma_b2: bias variance.
        q: overlaps in ``[-1, 1]``, shape ``(m,)``.
        width: hidden width.
        n_in: input dimension (does not enter ξ: the first pre-activations are Gaussian).
        draws: independent networks (≥ 2, for the standard error).
        seed: torch seed.
        device: torch device (``"cuda"`` where one is available).

    Returns:
        ``(mean, stderr)``, each shape ``(m,)``.
    """
    import torch

    qa = np.asarray(q, dtype=float).ravel()
    if qa.size == 0 or not np.all(np.isfinite(qa)) or np.any(np.abs(qa) > 1):
        raise InvalidInputError(f"overlaps q must be finite, non-empty, |q| <= 1; got {q}")
    if int(depth) != depth or depth < 0:
        raise InvalidInputError(f"depth must be a whole number >= 0, got {depth}")
    if draws < 2 or width < 1 or n_in < 2:
        raise InvalidInputError("need draws >= 2, width >= 1 and n_in >= 2")
    sw = validation.variances(sigma_w2, 1)[0]
    if not np.isfinite(sigma_b2) or sigma_b2 < 0:
        raise InvalidInputError(f"sigma_b2 must be >= 0 and finite, got {sigma_b2}")
    gen = torch.Generator(device=device).manual_seed(seed)
    dt = torch.float64
    estimates = np.empty((draws, qa.size))
    for k in range(draws):
        basis, _ = torch.linalg.qr(torch.randn(n_in, 2, generator=gen, device=device, dtype=dt))
        e1, e2 = basis[:, 0], basis[:, 1]
        qt = torch.as_tensor(qa, device=device, dtype=dt)[:, None]
        x = np.sqrt(n_in) * torch.vstack([e1[None], qt * e1 + torch.sqrt(1 - qt**2) * e2])
        h, fan_in = x, n_in
        for _ in range(depth):
            w = torch.randn(width, fan_in, generator=gen, device=device, dtype=dt)
            b = torch.randn(width, generator=gen, device=device, dtype=dt)
            h = h @ (w.T * np.sqrt(sw / fan_in)) + np.sqrt(sigma_b2) * b
            h = torch.tensor(np.array(phi(h.cpu().numpy()), dtype=float), device=device)
            fan_in = width
        if depth == 0:  # ξ = K_1 = σ_b² + σ_w² x·x'/n_in exactly
            est = sigma_b2 + sw * (h[1:] @ h[0]) / n_in
        else:
            est = sigma_b2 + sw * (h[1:] @ h[0]) / width
        estimates[k] = est.cpu().numpy()
    return estimates.mean(axis=0), estimates.std(axis=0, ddof=1) / np.sqrt(draws)
