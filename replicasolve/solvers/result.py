"""The frozen result object every Parisi solver returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import Result

__all__ = ["ParisiResult", "Seed", "warm_seeds"]


@dataclass(frozen=True, eq=False)
class ParisiResult(Result):
    """A solution of the Parisi variational problem for one model at one state point.

    Conventions (per spin, energy units of H/N, Gibbs weight exp(-H/T)): ``free_energy``
    f = -T lim E ln Z / N; ``energy`` e = lim E⟨H⟩/N (the ground-state energy at T = 0);
    ``entropy`` s = (e - f)/T (0 at T = 0 by definition). Ising entropy counts
    configurations (s = ln 2 at T = ∞); spherical entropy is relative to the uniform
    probability measure on the sphere (s = 0 at T = ∞, s < 0 otherwise).

    Order parameter: x(q) is a step function, ``x[i]`` on ``[q[i], q[i+1])``
    with ``x(q) = 0`` below ``q[0]`` and ``x(q) = 1`` above ``q[-1]`` at T > 0. At T = 0 the
    order parameter is γ(q) = lim x(q)/T: ``gamma[i]`` on ``[q[i], q[i+1])`` with
    ``q[-1] = 1`` for Ising spins; spherical spins also carry ``L = lim (1 - q_max)/T``.
    At T > 0 ``gamma = x / T``.

    Attributes:
        model: the :class:`~replicasolve.models.pspin.MixedPSpin` solved.
        method: ``"RS"``, ``"kRSB"`` or ``"FRSB"``.
        k: RSB steps of the solution reported (for FRSB, the largest k solved).
        free_energy, energy, entropy: see above.
        q, x, gamma: the order parameter (see above); arrays.
        L: spherical T = 0 only, else ``nan``.
        magnetization: m = E⟨σ_i⟩ (0 without a field).
        replicon: the replicon (de Almeida–Thouless) eigenvalue at the top of the solution,
            normalised so that > 0 is stable: 1 - β² ξ''(q) E[...] (Ising) or
            1 - β² ξ''(q_max)(1 - q_max)² (spherical). ``nan`` where not defined.
        converged: optimiser success and residual within tolerance.
        iterations: optimiser iterations (summed over k for FRSB).
        residual: norm of the projected gradient of the functional at the solution.
        extrapolated, extrapolation_error: FRSB only: the k → ∞ extrapolation of the k-step
            free energies (ground-state energies at T = 0) and its error; else ``nan``.
        free_energy_error, energy_error: FRSB only: the errors of the headline
            ``free_energy`` and ``energy``, which are the k → ∞ extrapolations (the best
            estimates; ``settings["headline"]`` says so); ``nan`` for RS and k-step results,
            whose values are exact for their ansatz up to the solver tolerance.
        sequence: FRSB only: the k-step results used, in increasing k (their own
            ``free_energy`` values are the per-k values).
        checks: the thermodynamic self-check (:mod:`replicasolve.solvers.selfcheck`) as a
            dict; a result that fails it has ``converged=False``.
        settings: the options and grid actually used; after a warm start
            (``solve(..., start=...)``) also ``warm_start`` (which k were seeded) and, for
            Ising spins, ``solver_iterations`` (every k-step solve counted).
        message: what the optimiser said.
    """

    model: Any
    method: str
    k: int
    free_energy: float
    energy: float
    entropy: float
    q: np.ndarray
    x: np.ndarray
    gamma: np.ndarray
    L: float = math.nan
    magnetization: float = 0.0
    replicon: float = math.nan
    converged: bool = True
    iterations: int = 0
    residual: float = 0.0
    extrapolated: float = math.nan
    extrapolation_error: float = math.nan
    sequence: tuple[ParisiResult, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    free_energy_error: float = math.nan
    energy_error: float = math.nan
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def T(self) -> float:
        return float(self.model.T)

    @property
    def value(self) -> float:
        """The headline number, ``free_energy`` (for FRSB the k → ∞ extrapolation)."""
        return self.free_energy

    def x_of_q(self, q: Any) -> np.ndarray:
        """x(q) (T > 0) or γ(q) (T = 0) evaluated at ``q``, as the step function above."""
        qa = np.asarray(q, dtype=float)
        vals = self.x if self.T > 0 else self.gamma
        idx = np.searchsorted(self.q, qa, side="right") - 1
        top = 1.0 if self.T > 0 else math.inf
        padded = np.concatenate([[0.0], vals, [top]])
        return padded[np.clip(idx + 1, 0, len(padded) - 1)]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (floats, lists, strings; the model as its description)."""
        m = self.model

        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        d = {
            "xi": m.xi.text, "spins": m.spins, "T": m.T, "field": m.field,
            "method": self.method, "k": self.k,
            "free_energy": num(self.free_energy), "energy": num(self.energy),
            "entropy": num(self.entropy),
            "q": [float(v) for v in self.q], "x": [float(v) for v in self.x],
            "gamma": [float(v) for v in self.gamma], "L": num(self.L),
            "magnetization": num(self.magnetization), "replicon": num(self.replicon),
            "converged": bool(self.converged), "iterations": int(self.iterations),
            "residual": num(self.residual),
            "extrapolated": num(self.extrapolated),
            "extrapolation_error": num(self.extrapolation_error),
            "free_energy_error": num(self.free_energy_error),
            "energy_error": num(self.energy_error),
            "headline": self.settings.get("headline", f"k = {self.k}"),
            "checks": self.checks,
            "sequence": [
                {"k": r.k, "free_energy": r.free_energy, "energy": r.energy,
                 "converged": bool(r.converged)} for r in self.sequence
            ],
            "settings": {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                         for k, v in self.settings.items()},
            "message": self.message,
        }
        return d

    def table(self) -> str:
        """A human-readable summary table."""
        m = self.model
        rows = [
            ("model", f"{m.spins} spins, xi(q) = {m.xi.text}, T = {m.T:g}, h = {m.field:g}"),
            ("method", f"{self.method} (k = {self.k})"),
        ]
        label = "ground-state energy" if m.T == 0 else "free energy f"
        frsb = self.method == "FRSB" and math.isfinite(self.free_energy_error)
        if frsb:
            rows.append((label, f"{self.free_energy:.10f} +- {self.free_energy_error:.1e}  "
                                f"(k -> inf extrapolation of the k-step values below)"))
            for r in self.sequence:
                rows.append((f"  k = {r.k}", f"{r.free_energy:.12f}"))
        else:
            rows.append((label, f"{self.free_energy:.12f}"))
        if m.T > 0:
            if frsb and math.isfinite(self.energy_error):
                rows.append(("energy e", f"{self.energy:.10f} +- {self.energy_error:.1e}  "
                                         "(k -> inf)"))
                rows.append(("entropy s", f"{self.entropy:.10f}  (k -> inf)"))
            else:
                rows.append(("energy e", f"{self.energy:.12f}"))
                rows.append(("entropy s", f"{self.entropy:.12f}"))
        # the order parameter with collapsed steps (zero width, equal levels) removed, so
        # that a k-step solution that is really 1RSB reads as 1RSB
        genuine = seed_of(self)
        q_show, v_show = self.q, (self.x if m.T > 0 else self.gamma)
        if genuine.k < self.k:
            q_show = genuine.q if m.T > 0 else np.append(genuine.q, 1.0)
            v_show = genuine.levels
            shape = "RS" if genuine.k == 0 else f"{genuine.k}RSB"
            rows.append(("order parameter", f"{shape}: the {self.k}-step solution collapses "
                                            f"onto {genuine.k} genuine step(s)"))
        elif self.method == "FRSB":
            rows.append(("order parameter", f"of the k = {self.k} solution"))
        rows.append(("q breakpoints", np.array2string(np.asarray(q_show), precision=6,
                                                      max_line_width=200)))
        name = "x values" if m.T > 0 else "gamma values"
        rows.append((name, np.array2string(np.asarray(v_show), precision=6,
                                           max_line_width=200)))
        if math.isfinite(self.L):
            rows.append(("L = (1-q_max)/T", f"{self.L:.10f}"))
        if m.field != 0:
            rows.append(("magnetization", f"{self.magnetization:.10f}"))
        if math.isfinite(self.replicon):
            if self.method == "FRSB" and genuine.k == self.k:
                # a k-step approximation of a continuous x(q) is marginal only as k → ∞:
                # its small negative replicon is the finite-k error, not an instability
                rows.append((f"replicon (k = {self.k})",
                             f"{self.replicon:.3g} (-> 0 as k -> inf: full RSB is marginal)"))
            else:
                rows.append(("replicon", f"{self.replicon:.6g} "
                             f"({'stable' if self.replicon >= 0 else 'unstable'})"))
        for note in self.checks.get("notes", ()):
            rows.append(("warning", note))
        if not self.converged and self.checks.get("failures"):
            rows.append(("self-check", "; ".join(self.checks["failures"])))
        rows.append(("converged", f"{self.converged} ({self.iterations} iterations, "
                     f"residual {self.residual:.1e})"))
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b}" for a, b in rows)

    def __repr__(self) -> str:
        return (f"ParisiResult({self.method}, k={self.k}, T={self.T:g}, "
                f"free_energy={self.free_energy:.10g}, converged={self.converged})")


# --------------------------------------------------------------------------- warm starts

# A step narrower than this (in q), or a level within this of its neighbour's (relative to
# max(1, |level|)), is a collapsed step: it carries no information for a warm start.
_SEED_WIDTH_TOL = 1e-8
_SEED_LEVEL_TOL = 1e-8


@dataclass(frozen=True)
class Seed:
    """A k-step order parameter read off a previous result, to start a solver from.

    Attributes:
        k: the number of genuine steps (collapsed steps removed).
        q: breakpoints: q_0..q_k at T > 0, q_0..q_{k-1} at T = 0 (q_k = 1 implied).
        levels: m_1..m_k (x values) at T > 0, γ_1..γ_k at T = 0.
        L: spherical T = 0 only (β(1 - q_max) limit), else ``nan``.
        free_energy: the value of the result it came from (for information).
    """

    k: int
    q: np.ndarray
    levels: np.ndarray
    L: float
    free_energy: float


def compress_steps(knots: list[float], levels: list[float], fixed_top: bool
              ) -> tuple[list[float], list[float]]:
    """Remove collapsed pieces of a step function: ``levels[j]`` on
    ``[knots[j], knots[j+1])``; piece 0 (level 0) and, if ``fixed_top``, the last piece
    (level 1) are fixed. Interior pieces of width <= _SEED_WIDTH_TOL are dropped (their
    neighbours meet at the midpoint); adjacent pieces with equal levels are merged."""
    knots, levels = list(knots), list(levels)
    changed = True
    while changed:
        changed = False
        last = len(levels) - 1
        for j in range(1, len(levels)):
            interior = j < last or not fixed_top
            if interior and knots[j + 1] - knots[j] <= _SEED_WIDTH_TOL and len(levels) > 2:
                mid = 0.5 * (knots[j] + knots[j + 1])
                del levels[j]
                del knots[j + 1]
                knots[j] = mid
                changed = True
                break
            scale = max(1.0, abs(levels[j]), abs(levels[j - 1]))
            if abs(levels[j] - levels[j - 1]) <= _SEED_LEVEL_TOL * scale:
                # the fixed pieces keep their exact level (0 at the bottom, 1 at the top)
                keep = levels[j] if (fixed_top and j == last) else levels[j - 1]
                del levels[j]
                del knots[j]
                levels[j - 1] = keep
                changed = True
                break
    return knots, levels


def seed_of(r: ParisiResult) -> Seed:
    T = r.T
    q = np.asarray(r.q, dtype=float)
    if T > 0:
        knots = [0.0, *q.tolist(), 1.0]
        levels = [0.0, *np.asarray(r.x, dtype=float).tolist(), 1.0]
        knots, levels = compress_steps(knots, levels, fixed_top=True)
        return Seed(len(levels) - 2, np.array(knots[1:-1]), np.array(levels[1:-1]),
                    math.nan, r.free_energy)
    gam = np.asarray(r.gamma, dtype=float)
    k = gam.size
    if k == 0:
        return Seed(0, np.zeros(0), np.zeros(0), r.L, r.free_energy)
    knots = [0.0, *q[:k].tolist(), 1.0]
    knots, levels = compress_steps(knots, [0.0, *gam.tolist()], fixed_top=False)
    return Seed(len(levels) - 1, np.array(knots[1:-1]), np.array(levels[1:]), r.L,
                r.free_energy)


def _coarsen(seed: Seed, k: int, T: float) -> Seed:
    """``seed`` with fewer steps: the two adjacent steps with the closest levels are merged
    (into their width-weighted mean level) until ``k`` are left."""
    knots = [0.0, *seed.q.tolist(), 1.0]
    levels = [0.0, *seed.levels.tolist(), 1.0] if T > 0 else [0.0, *seed.levels.tolist()]
    last_free = len(levels) - 2 if T > 0 else len(levels) - 1  # the last merge-able piece
    while (len(levels) - 2 if T > 0 else len(levels) - 1) > k:
        pairs = range(1, last_free)
        j = min(pairs, key=lambda i: abs(levels[i + 1] - levels[i]))
        wa, wb = knots[j + 1] - knots[j], knots[j + 2] - knots[j + 1]
        mean = (wa * levels[j] + wb * levels[j + 1]) / (wa + wb) if wa + wb > 0 else levels[j]
        levels[j:j + 2] = [mean]
        del knots[j + 1]
        last_free -= 1
    if T > 0:
        return Seed(k, np.array(knots[1:-1]), np.array(levels[1:-1]), seed.L, seed.free_energy)
    return Seed(k, np.array(knots[1:-1]), np.array(levels[1:]), seed.L, seed.free_energy)


def warm_seeds(start: ParisiResult | None, T: float) -> dict[int, Seed]:
    """The warm-start seeds a previous result offers to a solve at temperature ``T``.

    One :class:`Seed` per number of genuine steps, from ``start`` and the k-step results of
    its ``sequence`` (FRSB): a result whose steps collapsed (zero width, or equal levels)
    is read as the smaller k it really is, and where two results give the same k the one
    solved at that k is kept. Below the smallest k offered, seeds are that solution with
    its closest steps merged. (More steps than offered are not invented here: the solvers
    climb from the largest seed below by step splitting or insertion.)

    Unconverged results give no seed, nor does a start on the other side of T = 0 (the
    order parameters x(q) at T > 0 and γ(q) at T = 0 live in different coordinates), nor
    RS (k = 0: the RS solvers start from a global scan or a fixed-point iteration, which a
    seed on the wrong RS branch, e.g. q = 0, would defeat).
    """
    if start is None or (start.T > 0) != (T > 0):
        return {}
    seeds: dict[int, Seed] = {}
    exact: set[int] = set()
    for r in (start, *start.sequence):
        if not r.converged or r.method == "RS" or r.k == 0:
            continue
        seed = seed_of(r)
        if seed.k == 0 or not np.all(np.isfinite(seed.q)) or \
                not np.all(np.isfinite(seed.levels)):
            continue
        if seed.k not in seeds or (r.k == seed.k and seed.k not in exact):
            seeds[seed.k] = seed
            if r.k == seed.k:
                exact.add(seed.k)
    if seeds:
        # fewer steps than any result offers: the smallest one, coarsened
        smallest = seeds[min(seeds)]
        for k in range(1, smallest.k):
            seeds[k] = _coarsen(smallest, k, T)
    return seeds
