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
from ..results import Result
from ..validation import finite_real

__all__ = ["FiniteWidthLandscape", "LandscapeCharacter", "RandomMLPLandscape",
           "linear_landscape"]


@dataclass(frozen=True)
class LandscapeCharacter(Result):
    """RS / 1RSB / FRSB at one temperature, and the criterion that decided it.

    On the library's result contract: ``converged`` when every solve behind the verdict
    converged — the RS solve whose replicon is ``value`` (T > 0) and the RS, 1RSB and 2RSB
    solves of the classification (:func:`~replicasolve.solvers.classify.classify_detail`)
    that chose ``label``. At T = 0 on the RS side (ξ'(1) ≥ ξ''(1)) the verdict is a closed
    form of ξ with no solve behind it, and ``converged`` is True. The default (True) is for
    verdicts built by hand from such closed forms.

    Attributes:
        label: ``"RS"``, ``"1RSB"`` or ``"FRSB"``.
        criterion: the local test in words, with its value.
        value: the test's number (replicon at T > 0, ξ'(1) − ξ''(1) at T = 0).
        converged: the solves' verdict (above); message: what failed, if any.
    """

    label: str
    criterion: str
    value: float
    converged: bool = True
    message: str = ""


@dataclass(frozen=True, eq=False)
class RandomMLPLandscape:
    """A random MLP's input landscape in the infinite-width limit.

    Attributes:
        activation: a name (``"relu"``, ``"tanh"``, ``"sin"``, ``"erf"``, ...) or a formula
            in x, as :func:`replicasolve.kernels.activation.activation` accepts.
        depth: hidden layers L ≥ 0.
        sigma_w2, sigma_b2: weight and bias variances (one value for all layers).
        widths_ratio: α = N_l/N; ``None`` (default) is the Gaussian limit α → ∞.
        T: the temperature :func:`replicasolve.solve` solves at (energy units of H/N,
            ``T >= 0``, 0 for the ground state); ``None`` (default) leaves it to each call
            of :meth:`solve`. :meth:`at` gives the same landscape at another T.
    """

    activation: str
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

    # ------------------------------------------------------------------ thermodynamics
    def solve(self, T: float | None = None, method: Any = "auto", options: Any = None,
              progress: Any = None) -> Any:
        """The Parisi solution at temperature T (default: the landscape's own ``T``), a
        ``ParisiResult``. ``method="auto"`` uses
        the RS solution where it is locally stable (replicon ≥ 0 at T > 0, ξ''(1) ≤ ξ'(1) at
        T = 0) and full RSB otherwise (a discontinuous 1RSB transition with a locally stable
        RS solution is caught by :meth:`character`, not here). ``progress``: an optional
        callback handed to :func:`replicasolve.solvers.solve` (once per k)."""
        from ..solvers.parisi import solve_parisi as solve

        if T is None:
            if self.T is None:
                raise InvalidInputError(
                    "no temperature: give T here or construct the landscape with T=...")
            T = self.T
        if T < 0 or not math.isfinite(T):
            raise InvalidInputError(f"temperature T must be finite and >= 0, got {T!r}")
        model = self.model(T)
        if method != "auto":
            return solve(model, method, options, progress=progress)
        rs = solve(model, "rs", options)
        if T > 0 and rs.replicon >= 0:
            return rs
        if T == 0:
            _, d1, d2, _ = self.xi.derivatives(np.array([1.0]))
            if np.isfinite(d2[0]) and d2[0] <= d1[0]:
                return rs
        return solve(model, "full", options, progress=progress)

    def character(self, T: float, rs: Any = None) -> LandscapeCharacter:
        """RS, 1RSB or FRSB at temperature T, with the criteria behind the label.

        The label is :func:`replicasolve.solvers.phase` (RS vs 1RSB vs 2RSB optima of the
        Crisanti–Sommers functional, which also catches discontinuous transitions). The
        criterion reports the local test: at T > 0 the replicon 1 - β² ξ''(q)(1 - q)² of the
        RS solution; at T = 0 ξ''(1) ≤ ξ'(1) (RS ground state); plus whether ξ''^{-1/2} is
        concave on (0, 1], the condition for full RSB at T = 0 (Subag; Chen–Sen)."""
        from ..solvers.classify import classify_detail
        from ..solvers.parisi import solve_parisi as solve

        def classified(T: float) -> tuple[str, list[str]]:
            det = classify_detail(self.model(T))
            failed = [f"{name} solve: {getattr(r, 'message', '')}".rstrip(": ")
                      for name, r in (("RS", det.rs), ("1RSB", det.one), ("2RSB", det.two))
                      if r is not None and not r.converged]
            return det.label, failed

        _, d1, d2, _ = self.xi.derivatives(np.array([1.0]))
        concave = self.frsb_concavity()
        tail = f"; xi''^(-1/2) {'is' if concave else 'is not'} concave on (0, 1]"
        if T == 0:
            margin = float(d1[0] - d2[0]) if np.isfinite(d2[0]) else -math.inf
            crit = f"xi'(1) - xi''(1) = {margin:.6g} at T = 0" + tail
            if margin >= 0:
                return LandscapeCharacter("RS", crit, margin)
            label, failed = classified(0.0)
            return LandscapeCharacter(label, crit, margin, not failed, "; ".join(failed))
        r = rs if rs is not None else solve(self.model(T), "rs")
        value = float(r.replicon)
        crit = f"RS replicon 1 - beta^2 xi''(q)(1-q)^2 = {value:.6g}" + tail
        label, failed = classified(T)
        if not r.converged:
            failed.insert(0, f"RS solve behind the replicon: {getattr(r, 'message', '')}")
        return LandscapeCharacter(label, crit, value, not failed, "; ".join(failed))

    def frsb_concavity(self, n: int = 401) -> bool:
        """Whether ξ''^{-1/2} is concave on (0, 1] (second differences on a grid)."""
        q = np.linspace(1e-3, 1.0, n)
        _, _, d2, _ = self.xi.derivatives(q)
        if np.any(d2 <= 0) or not np.all(np.isfinite(d2)):
            return False
        g = d2 ** -0.5
        second = g[2:] - 2 * g[1:-1] + g[:-2]
        return bool(np.all(second <= 1e-12 * np.max(np.abs(g))))

    def ground_state(self, options: Any = None, progress: Any = None) -> Any:
        """The ground-state energy (``ParisiResult`` at T = 0; ``.value`` is the number)."""
        return self.solve(0.0, options=options, progress=progress)

    def threshold_energy(self) -> float:
        """Energy of the marginal states (replicon zero on the 1RSB complexity curve).

        Raises InvalidInputError where the notion does not apply: an RS ground state
        (ξ'(1) ≥ ξ''(1)), or a landscape that is not 1RSB-like (negative complexity of the
        marginal states, e.g. full RSB, where the ground state itself is marginal)."""
        from ..solvers.spherical import threshold_energy

        return threshold_energy(self.model(0.0))

    def entropy_curve(self, betas: Any, options: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """The curve (E(β), S(β)) for β in ``betas`` (> 0): S = Φ(β) + βE with E = e(β), the
        parametric form of S(E) on its lower branch (E ≤ 0); the upper branch is its mirror
        image S(-E) = S(E). One Parisi solution per β (RS where stable, else full RSB)."""
        b = np.asarray(betas, dtype=float)
        if b.ndim != 1 or np.any(~np.isfinite(b)) or np.any(b <= 0):
            raise InvalidInputError("betas must be a 1-D array of finite values > 0")
        energies = np.empty(b.size)
        entropies = np.empty(b.size)
        for i, beta in enumerate(b):
            r = self.solve(1.0 / beta, options=options)
            energies[i] = r.energy
            entropies[i] = r.entropy
        return energies, entropies

    def entropy(self, E: float, options: Any = None, beta_max: float = 200.0,
                progress: Any = None) -> float:
        """S(E) = inf_β [Φ(β) + βE] with Φ(β) = -βf(β) (the Legendre transform of the
        Parisi free energy; both branches: Φ is even in β because -H has the law of H, so
        S(-E) = S(E)). ``E`` per input dimension; raises for |E| outside the support."""
        from scipy.optimize import brentq

        e = float(E)
        if not math.isfinite(e):
            raise InvalidInputError(f"energy must be finite, got {E!r}")
        if e == 0:
            return 0.0
        target = -abs(e)
        e_gs = self.ground_state(options, progress=progress).value
        if target <= e_gs:
            raise InvalidInputError(
                f"energy {E:g} is outside the support of S(E): |E| must be < {-e_gs:.6g}")

        def energy_at(beta: float) -> float:
            return self.solve(1.0 / beta, options=options).energy - target

        lo, hi = 1e-6, 1.0
        while energy_at(hi) > 0:
            lo, hi = hi, 2 * hi
            if hi > beta_max:
                raise InvalidInputError(
                    f"energy {E:g} needs β > {beta_max:g}: too close to the ground state "
                    f"{e_gs:.6g} for the positive-temperature solver")
        beta = brentq(energy_at, lo, hi, xtol=1e-12, rtol=1e-12)
        r = self.solve(1.0 / beta, options=options)
        return float(-beta * r.free_energy + beta * target)


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
        name = self.activation if isinstance(self.activation, str) else str(self.activation)
        return RandomMLPLandscape(name, self.depth, self.sigma_w2, self.sigma_b2, T=self.T)


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
