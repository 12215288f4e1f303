r"""Numeric tiers of the Gaussian dual activation kernel, for any vectorised activation φ.

The dual kernel of an activation φ (Cho & Saul 2009, "Kernel methods for deep learning";
Daniely, Frostig & Singer 2016) is

    K(k1, k2, c) = E[φ(u) φ(v)],   (u, v) ~ N(0, [[k1, c], [c, k2]]).

Tiers, in the style of neural-tangents' ``stax/elementwise.py`` (closed form → quadrature →
Monte Carlo, each tested against the next one down):

- :func:`gauss_hermite_kernel`: 2-D Gauss–Hermite quadrature with probabilists' nodes. With
  ρ = c / sqrt(k1 k2) and z1, z2 i.i.d. N(0, 1),

      u = sqrt(k1) z1,   v = sqrt(k2) (ρ z1 + sqrt(1 - ρ²) z2).

  Spectral convergence for entire φ (erf, tanh near the origin, sin, polynomials: exact for
  polynomials of degree < 2·order per variable), at a rate set by the distance of φ(sqrt(k) z)'s
  complex singularities from the real axis: tanh at k = 1 is good to 3e-9 at order 64 but at
  k = 5 only to 2e-4 (1e-9 needs order ~300), so raise ``order`` for large variances or steep
  φ. Only algebraic convergence, error ∝ 1/order, for φ with a kink (ReLU: about 2e-3
  absolute at order 64, 5e-4 at 256 for unit variances).
- :func:`monte_carlo_kernel`: plain Monte Carlo with its standard error (for tests).

Price's theorem (Price 1958, "A useful theorem for nonlinear devices having Gaussian
inputs") gives ∂K/∂c = E[φ'(u) φ'(v)] at fixed variances, so derivatives in c are the same
quadrature applied to φ' (:func:`derivative_kernel`, checked by :func:`price_check`).

Depth composition (Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli 2016, "Exponential
expressivity in deep neural networks through transient chaos"): for
inputs on the sphere (overlap q ∈ [-1, 1]) and L hidden layers,

    K_1(q)     = σ_b,0² + σ_w,0² q,
    K_{l+1}(q) = σ_b,l² + σ_w,l² E[φ(u) φ(v)],  (u, v) ~ N(0, [[K_l(1), K_l(q)], [K_l(q), K_l(1)]]),
    ξ(q)       = K_{L+1}(q).

Since the variance K_l(1) does not depend on q, the chain rule with Price's theorem gives

    K_{l+1}'(q)  = σ_w,l² E[φ'φ'] K_l'(q),
    K_{l+1}''(q) = σ_w,l² ( E[φ''φ''] K_l'(q)² + E[φ'φ'] K_l''(q) ),

with K_1' = σ_w,0², K_1'' = 0 and every expectation at (K_l(1), K_l(1), K_l(q)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import InvalidInputError
from ..quadrature import MAX_GAUSS_HERMITE, gauss_hermite

__all__ = [
    "MAX_DEPTH",
    "compose_depth",
    "compose_depth_derivatives",
    "derivative_kernel",
    "gauss_hermite_kernel",
    "monte_carlo_kernel",
    "price_check",
]

Activation = Callable[[np.ndarray], np.ndarray]

#: relative slack allowed on |c| <= sqrt(k1 k2) (rounding only; anything larger is an error)
COV_RTOL = 1e-12
#: largest Gauss–Hermite order accepted (numpy's weights are finite up to ~370)
MAX_ORDER = MAX_GAUSS_HERMITE
#: most hidden layers accepted by the depth recursions (and by compose.xi_function)
MAX_DEPTH = 1000
#: upper bound on batch elements × order² evaluated at once (memory guard)
_CHUNK_POINTS = 2_000_000


# ----------------------------------------------------------------------------- validation


def check_order(order: int) -> int:
    """A Gauss–Hermite order: an int in 1..MAX_ORDER, or InvalidInputError."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise InvalidInputError(f"quadrature order must be a positive int, got {order!r}")
    if order > MAX_ORDER:
        # numpy's hermegauss weights overflow beyond ~370 nodes (and it is slow there)
        raise InvalidInputError(f"quadrature order must be <= {MAX_ORDER}, got {order}")
    return int(order)


def _first_bad(mask: np.ndarray, *arrays: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    vals = ", ".join(f"{float(a[idx])!r}" for a in arrays)
    return f"{int(mask.sum())} entr{'y' if mask.sum() == 1 else 'ies'}, first at {idx}: {vals}"


def validate_kcc(k1, k2, c) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Broadcast (k1, k2, c), check them, and return them with ρ = c / sqrt(k1 k2)."""
    try:
        k1a, k2a, ca = np.broadcast_arrays(
            np.asarray(k1, dtype=float), np.asarray(k2, dtype=float), np.asarray(c, dtype=float)
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"k1, k2, c must be real arrays that broadcast: {exc}") from None
    bad = ~(np.isfinite(k1a) & np.isfinite(k2a) & np.isfinite(ca))
    if bad.any():
        raise InvalidInputError(
            "k1, k2, c must be finite; non-finite (k1, k2, c) in " + _first_bad(bad, k1a, k2a, ca)
        )
    bad = (k1a <= 0) | (k2a <= 0)
    if bad.any():
        raise InvalidInputError(
            "variances k1, k2 must be > 0; offending (k1, k2) in " + _first_bad(bad, k1a, k2a)
        )
    s = np.sqrt(k1a * k2a)
    bad = np.abs(ca) > s * (1.0 + COV_RTOL)
    if bad.any():
        raise InvalidInputError(
            "covariance must satisfy |c| <= sqrt(k1 k2) (not positive semidefinite); "
            "offending (k1, k2, c) in " + _first_bad(bad, k1a, k2a, ca)
        )
    # within COV_RTOL of ±1 is rounding: only that is clipped
    rho = np.clip(ca / s, -1.0, 1.0)
    return k1a, k2a, ca, rho


# ----------------------------------------------------------------------------- quadrature


def _apply(phi: Activation, x: np.ndarray) -> np.ndarray:
    y = np.asarray(phi(x), dtype=float)
    if y.shape != x.shape:
        raise InvalidInputError(
            f"activation must be elementwise (vectorised): input shape {x.shape} gave {y.shape}"
        )
    return y


def _gh_core(phi: Activation, k1, k2, rho, order: int) -> np.ndarray:
    """Quadrature on already-validated flat arrays k1, k2, ρ (same shape, 1-D)."""
    z, w = gauss_hermite(order)
    n = k1.size
    out = np.empty(n)
    chunk = max(1, _CHUNK_POINTS // (order * order))
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        s1 = np.sqrt(k1[sl])[:, None]
        s2 = np.sqrt(k2[sl])[:, None, None]
        r = rho[sl][:, None, None]
        r_perp = np.sqrt(np.maximum(0.0, 1.0 - r * r))
        fu = _apply(phi, s1 * z[None, :])  # (m, i)
        v = s2 * (r * z[None, :, None] + r_perp * z[None, None, :])  # (m, i, j)
        fv = _apply(phi, v) @ w  # (m, i)
        out[sl] = (fu * fv) @ w
    return out


def gauss_hermite_kernel(phi: Activation, k1, k2, c, order: int = 64) -> np.ndarray:
    """E[φ(u)φ(v)] for centred Gaussian (u, v), Var u = k1, Var v = k2, Cov = c.

    2-D Gauss–Hermite quadrature with ``order`` probabilists' nodes per axis; ``k1``, ``k2``,
    ``c`` broadcast together and the result has their broadcast shape.

    Raises:
        InvalidInputError: non-finite input, k1 or k2 <= 0, |c| > sqrt(k1 k2) by more than a
            relative 1e-12 (never clipped silently), order not a positive int, or a φ that is
            not elementwise.
    """
    order = check_order(order)
    k1a, k2a, _, rho = validate_kcc(k1, k2, c)
    shape = k1a.shape
    out = _gh_core(phi, k1a.ravel(), k2a.ravel(), rho.ravel(), order)
    return out.reshape(shape)


def derivative_kernel(phi_prime: Activation, k1, k2, c, order: int = 64) -> np.ndarray:
    """∂K/∂c = E[φ'(u)φ'(v)] (Price 1958): :func:`gauss_hermite_kernel` applied to φ'."""
    return gauss_hermite_kernel(phi_prime, k1, k2, c, order=order)


def price_check(
    phi: Activation,
    phi_prime: Activation,
    k1: float,
    k2: float,
    c: float,
    h: float = 1e-4,
    order: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """(central finite difference of K in c with step h, quadrature E[φ'φ']) for tests.

    The difference has error O(h² ∂³K/∂c³) + O(ε K / h); c ± h must be admissible.
    """
    if not (np.isfinite(h) and h > 0):
        raise InvalidInputError(f"step h must be finite and > 0, got {h!r}")
    c = np.asarray(c, dtype=float)
    kp = gauss_hermite_kernel(phi, k1, k2, c + h, order=order)
    km = gauss_hermite_kernel(phi, k1, k2, c - h, order=order)
    return (kp - km) / (2.0 * h), derivative_kernel(phi_prime, k1, k2, c, order=order)


# ----------------------------------------------------------------------------- Monte Carlo


def monte_carlo_kernel(
    phi: Activation, k1: float, k2: float, c: float, samples: int = 10**6, seed: int = 0
) -> tuple[float, float]:
    """Monte Carlo estimate of E[φ(u)φ(v)] and its standard error (scalar k1, k2, c)."""
    if any(np.ndim(x) != 0 for x in (k1, k2, c)):
        raise InvalidInputError("monte_carlo_kernel takes scalar k1, k2, c")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise InvalidInputError(f"samples must be an int >= 2, got {samples!r}")
    k1a, k2a, _, rho = validate_kcc(k1, k2, c)
    s1, s2, r = float(np.sqrt(k1a)), float(np.sqrt(k2a)), float(rho)
    rng = np.random.default_rng(seed)
    z1 = rng.standard_normal(int(samples))
    z2 = rng.standard_normal(int(samples))
    prod = _apply(phi, s1 * z1) * _apply(phi, s2 * (r * z1 + np.sqrt(max(0.0, 1 - r * r)) * z2))
    return float(prod.mean()), float(prod.std(ddof=1) / np.sqrt(samples))


# ----------------------------------------------------------------------------- depth


def per_layer(value: float | Sequence[float], depth: int, name: str,
              allow_zero: bool) -> tuple[float, ...]:
    """One variance per layer of a depth-``depth`` network: ``value`` is a scalar (every
    layer) or a sequence of length ``depth + 1`` (the ``depth`` hidden layers and the
    readout); each entry finite and > 0 (``>= 0`` with ``allow_zero``, as for biases).

    Raises:
        InvalidInputError: wrong length, or an entry out of range (named by index).
    """
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0 or arr.size == 1:
        arr = np.full(depth + 1, float(arr.reshape(-1)[0]))
    elif arr.ndim != 1 or arr.size != depth + 1:
        raise InvalidInputError(
            f"{name} must be a scalar or a sequence of length depth + 1 = {depth + 1}, "
            f"got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr) | ((arr < 0) if allow_zero else (arr <= 0))
    if bad.any():
        i = int(np.argmax(bad))
        rel = ">= 0" if allow_zero else "> 0"
        raise InvalidInputError(f"{name}[{i}] must be finite and {rel}, got {arr[i]!r}")
    return tuple(float(v) for v in arr)


def _check_depth_inputs(depth, sigma_w2, sigma_b2, q, order):
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise InvalidInputError(f"depth must be an int >= 0, got {depth!r}")
    if depth > MAX_DEPTH:
        raise InvalidInputError(f"depth must be <= {MAX_DEPTH} hidden layers, got {depth}")
    depth = int(depth)
    order = check_order(order)
    w2 = np.array(per_layer(sigma_w2, depth, "sigma_w2", allow_zero=False))
    b2 = np.array(per_layer(sigma_b2, depth, "sigma_b2", allow_zero=True))
    qa = np.asarray(q, dtype=float)
    bad = ~np.isfinite(qa) | (np.abs(qa) > 1.0)
    if bad.any():
        raise InvalidInputError("overlap q must be finite with |q| <= 1; " + _first_bad(bad, qa))
    return depth, w2, b2, qa, order


def _layer_stats(k_diag: float, kq: np.ndarray, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(flat variances, correlations) for the next layer's expectations."""
    if not (np.isfinite(k_diag) and k_diag > 0):
        raise InvalidInputError(
            f"layer {layer} variance K_{layer}(1) = {k_diag!r} is not finite and > 0 "
            "(activation vanishes or overflows)"
        )
    # |K_l(q)| <= K_l(1) holds exactly; the quadrature of earlier layers may break it by its
    # own error (up to ~1e-6 for ReLU at order 64), which is not an input error: clip ρ.
    rho = np.clip(kq / k_diag, -1.0, 1.0)
    return np.full(kq.shape, k_diag), rho


def compose_depth(
    phi: Activation,
    depth: int,
    sigma_w2: float | Sequence[float],
    sigma_b2: float | Sequence[float],
    q,
    order: int = 64,
) -> np.ndarray:
    """ξ(q) = K_{L+1}(q) of an MLP with L = ``depth`` hidden layers (inputs on the sphere).

    ``sigma_w2`` and ``sigma_b2`` are scalars or sequences of length depth + 1 (entry l is
    used in K_{l+1}); ``q`` is an array of overlaps in [-1, 1]. Returns an array of q's shape.
    """
    depth, w2, b2, qa, order = _check_depth_inputs(depth, sigma_w2, sigma_b2, q, order)
    # the last entry carries q = 1, i.e. the variance K_l(1)
    flat = np.append(qa.ravel(), 1.0)
    k = b2[0] + w2[0] * flat
    for layer in range(1, depth + 1):
        kv, rho = _layer_stats(float(k[-1]), k, layer)
        k = b2[layer] + w2[layer] * _gh_core(phi, kv, kv, rho, order)
    return k[:-1].reshape(qa.shape)


def compose_depth_derivatives(
    phi: Activation,
    phi_prime: Activation,
    phi_second: Activation,
    depth: int,
    sigma_w2: float | Sequence[float],
    sigma_b2: float | Sequence[float],
    q,
    order: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ξ, ξ', ξ'') at q by the chain rule with Price's theorem (see the module docstring).

    φ'' must be an ordinary function (smooth φ such as tanh or erf); for φ with a kink the
    second derivative involves a delta function and this quadrature does not apply.
    """
    depth, w2, b2, qa, order = _check_depth_inputs(depth, sigma_w2, sigma_b2, q, order)
    flat = np.append(qa.ravel(), 1.0)
    k = b2[0] + w2[0] * flat
    d1 = np.full(flat.shape, w2[0])
    d2 = np.zeros(flat.shape)
    for layer in range(1, depth + 1):
        kv, rho = _layer_stats(float(k[-1]), k, layer)
        e0 = _gh_core(phi, kv, kv, rho, order)
        e1 = _gh_core(phi_prime, kv, kv, rho, order)
        e2 = _gh_core(phi_second, kv, kv, rho, order)
        k, d1, d2 = (
            b2[layer] + w2[layer] * e0,
            w2[layer] * e1 * d1,
            w2[layer] * (e2 * d1 * d1 + e1 * d2),
        )
    shape = qa.shape
    return k[:-1].reshape(shape), d1[:-1].reshape(shape), d2[:-1].reshape(shape)
