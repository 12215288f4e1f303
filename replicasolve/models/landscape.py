"""A random MLP as a Hamiltonian over its input (Hanin & Winer, arXiv 2503.23982).

The input x lives on the sphere |x|² = N; the network f(x) has random weights of variance
σ_w²/fan-in and biases of variance σ_b², with ``depth`` hidden layers; the Hamiltonian is
H(x) = sqrt(N) f(x). At infinite width f is a Gaussian process in x with covariance
K_{L+1}(x·x'/N), so

    E H(x) H(x') = N ξ(x·x'/N),   ξ = K_{L+1}   (the kernel recursion of replicasolve.kernels),

a spherical mixed p-spin model: its free energy is the Crisanti–Sommers functional, solved by
:mod:`replicasolve.solvers.spherical`. Energies are per input dimension (H/N); entropies are
relative to the uniform probability measure on the sphere (S ≤ 0, S = 0 at E = 0).

This module is the infinite-width (Gaussian) limit. A finite width ratio α = N_l/N makes H
non-Gaussian: that problem is :class:`FiniteWidthLandscape` (the saddles of the
layer-overlap action, RS and k-step RSB), and :class:`RandomMLPLandscape` refuses a finite
``widths_ratio`` with a pointer there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..validation import finite_real

__all__ = ["FiniteWidthLandscape", "RandomMLPLandscape", "linear_landscape"]


@dataclass(frozen=True, eq=False)
class RandomMLPLandscape:
    """A random MLP's input landscape in the infinite-width limit.

    Attributes:
        activation: a name (``"relu"``, ``"tanh"``, ``"sin"``, ``"erf"``, ...), a formula
            in x, or an ``Activation``: what
            :func:`replicasolve.kernels.activation.activation` accepts.
        depth: hidden layers L ≥ 0.
        sigma_w2, sigma_b2: weight and bias variances (one value for all layers).
        widths_ratio: α = N_l/N; ``None`` (default) is the Gaussian limit α → ∞.
        T: the temperature :func:`replicasolve.solve` solves at (energy units of H/N,
            ``T >= 0``, 0 for the ground state); ``None`` (default) leaves it to each
            function of :mod:`replicasolve.solvers.landscape` that takes a T.
            :meth:`at` gives the same landscape at another T.

    This object says what is asked; :mod:`replicasolve.solvers.landscape` answers it
    (``replicasolve.solve(landscape)``, ``replicasolve.character(landscape)``, the ground
    state, the threshold energy and the entropy S(E)).
    """

    activation: Any
    depth: int
    sigma_w2: float = 1.0
    sigma_b2: float = 0.0
    widths_ratio: float | None = None
    T: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or not isinstance(self.depth, (int, np.integer)) \
                or self.depth < 0:
            raise InvalidInputError(f"depth must be an integer >= 0, got {self.depth!r}")
        for name in ("sigma_w2", "sigma_b2"):
            v = getattr(self, name)
            fv = finite_real(v, name)
            if fv < 0 or (name == "sigma_w2" and fv == 0):
                raise InvalidInputError(
                    f"{name} must be finite and {'> 0' if name == 'sigma_w2' else '>= 0'}, "
                    f"got {v!r}")
            object.__setattr__(self, name, fv)
        if self.widths_ratio is not None:
            a = float(self.widths_ratio)
            if not a > 0:
                raise InvalidInputError(f"widths_ratio α must be > 0, got {self.widths_ratio!r}")
            if math.isfinite(a):
                raise InvalidInputError(
                    "finite width ratio α: only the RS saddle of the layer-overlap action "
                    "is solved by FiniteWidthLandscape(activation, depth, sigma_w2, sigma_b2, "
                    "alpha, T); this class is the Gaussian limit (widths_ratio=None)")
        if self.T is not None:
            t = finite_real(self.T, "T")
            if t < 0:
                raise InvalidInputError(f"temperature T must be finite and >= 0, got {self.T!r}")
            object.__setattr__(self, "T", t)

    def at(self, **changes: Any) -> RandomMLPLandscape:
        """A copy with fields changed, e.g. ``landscape.at(T=0.3)``."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ the covariance
    @cached_property
    def xi(self) -> Any:
        """ξ(q) = K_{L+1}(q) as a validated :class:`~replicasolve.models.pspin.Covariance`."""
        from ..kernels.compose import xi_function
        from .pspin import covariance

        return covariance(xi_function(self.activation, self.depth, self.sigma_w2,
                                      self.sigma_b2))

    def model(self, T: float) -> Any:
        """The spherical mixed p-spin model at temperature T."""
        from .pspin import MixedPSpin

        return MixedPSpin(self.xi, spins="spherical", T=T)

    def frsb_concavity(self, n: int = 401) -> bool:
        """Whether ξ''^{-1/2} is concave on (0, 1]
        (:func:`~replicasolve.models.pspin.frsb_concavity`)."""
        from .pspin import frsb_concavity

        return frsb_concavity(self.xi, n)


@dataclass(frozen=True, eq=False)
class FiniteWidthLandscape:
    """A random MLP's input landscape at finite width: the saddles of the layer-overlap
    action (Hanin & Winer; the equations in ``derivations/finite_width_landscape.py``).

    The input x lives on the sphere |x|² = N, hidden layer l has N_l = α_l N units, weights
    have variance σ_w²/fan-in and biases σ_b²; H(x) = sqrt(N) f(x); Gibbs weight
    exp(-H/T). Energies and free energies are per input dimension (H/N), entropies relative
    to the uniform measure on the sphere. As α → ∞ it becomes :class:`RandomMLPLandscape`.

    :func:`replicasolve.solve` solves it with ``RS()`` (the RS saddle, any depth),
    ``RSB(k)`` (k-step RSB at depth 1; 1RSB at any depth).

    Attributes:
        activation: a name (``"tanh"``, ``"sin"``, ``"relu"``, ...) or a formula in x.
        depth: hidden layers L ≥ 1.
        sigma_w2: weight variance σ_w² > 0 (every layer).
        sigma_b2: bias variance σ_b² ≥ 0 (every layer).
        alpha: width ratio α = N_l/N > 0, one value for every hidden layer or one per
            hidden layer (stored as a tuple of L floats).
        T: temperature > 0 (energy units of H/N).
    """

    activation: Any
    depth: int
    sigma_w2: float
    sigma_b2: float
    alpha: float | Sequence[float]
    T: float

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or not isinstance(self.depth, (int, np.integer)) \
                or self.depth < 1:
            raise InvalidInputError(f"depth must be an integer >= 1, got {self.depth!r}")
        object.__setattr__(self, "depth", int(self.depth))
        w2 = finite_real(self.sigma_w2, "sigma_w2")
        b2 = finite_real(self.sigma_b2, "sigma_b2")
        if w2 <= 0 or b2 < 0:
            raise InvalidInputError(
                f"need sigma_w2 > 0 and sigma_b2 >= 0, got {self.sigma_w2!r}, {self.sigma_b2!r}")
        object.__setattr__(self, "sigma_w2", w2)
        object.__setattr__(self, "sigma_b2", b2)
        raw = self.alpha
        values = [raw] if np.ndim(raw) == 0 else list(raw)  # type: ignore[arg-type]
        alphas = tuple(finite_real(v, "alpha") for v in values)
        if len(alphas) == 1:
            alphas = alphas * self.depth
        if len(alphas) != self.depth or any(a <= 0 for a in alphas):
            raise InvalidInputError(
                f"alpha must be one value > 0 or {self.depth} values > 0 (one per hidden "
                f"layer), got {self.alpha!r}")
        object.__setattr__(self, "alpha", alphas)
        t = finite_real(self.T, "T")
        if t <= 0:
            raise InvalidInputError(f"temperature T must be finite and > 0, got {self.T!r}")
        object.__setattr__(self, "T", t)

    def at(self, **changes: Any) -> FiniteWidthLandscape:
        """A copy with fields changed, e.g. ``landscape.at(T=0.3)``."""
        return dataclasses.replace(self, **changes)

    def gaussian_limit(self) -> RandomMLPLandscape:
        """The same network at infinite width (α → ∞) and the same T."""
        return RandomMLPLandscape(self.activation, self.depth, self.sigma_w2, self.sigma_b2,
                                  T=self.T)


def linear_landscape(a: float, T: float | None = None, E: float | None = None) -> dict[str, float]:
    """Closed forms for a linear network (ξ(q) = c + a q): a random linear field of
    strength sqrt(a) on the sphere (derivation: ``derivations/linear_mlp_landscape.py``).

    ρ = (sqrt(1 + 4β²a) - 1)/(2β sqrt(a)) is the overlap with the field, and
    -βf = β sqrt(a) ρ + ½ ln(1 - ρ²), e = -sqrt(a) ρ, S(E) = ½ ln(1 - E²/a),
    E_GS = -sqrt(a); the model is RS at every T (ξ'' = 0).
    """
    if not a > 0:
        raise InvalidInputError(f"a = xi'(q) must be > 0, got {a!r}")
    out: dict[str, float] = {"ground_state": -math.sqrt(a)}
    if T is not None:
        if T <= 0:
            raise InvalidInputError("T must be > 0 for the thermal closed forms")
        beta = 1.0 / T
        rho = (math.sqrt(1 + 4 * beta * beta * a) - 1) / (2 * beta * math.sqrt(a))
        phi = beta * math.sqrt(a) * rho + 0.5 * math.log1p(-rho * rho)
        out.update(free_energy=-phi / beta, energy=-math.sqrt(a) * rho, overlap=rho * rho,
                   entropy=phi - beta * math.sqrt(a) * rho)
    if E is not None:
        if abs(E) >= math.sqrt(a):
            raise InvalidInputError(
                f"energy {E:g} is outside the support (|E| < sqrt(a) = {math.sqrt(a):.6g})")
        out["entropy_at_E"] = 0.5 * math.log1p(-E * E / a)
    return out
