"""The frozen result object every Parisi solver returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ParisiResult"]


@dataclass(frozen=True, eq=False)
class ParisiResult:
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
        extrapolated, extrapolation_error: FRSB only: the k → ∞ value of ``free_energy``
            (the ground-state energy at T = 0) and an error estimate; else ``nan``.
        sequence: FRSB only: the k-step results used, in increasing k.
        settings: the options and grid actually used.
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

    @property
    def T(self) -> float:
        return float(self.model.T)

    @property
    def value(self) -> float:
        """The headline number: the extrapolated value for FRSB, else ``free_energy``."""
        return self.extrapolated if self.method == "FRSB" and math.isfinite(self.extrapolated) \
            else self.free_energy

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
        if self.method == "FRSB":
            label += f" (k = {self.k})"
        rows.append((label, f"{self.free_energy:.12f}"))
        if self.method == "FRSB":
            rows.append(("k -> inf extrapolation",
                         f"{self.extrapolated:.10f} +- {self.extrapolation_error:.1e}"))
            for r in self.sequence:
                rows.append((f"  k = {r.k}", f"{r.free_energy:.12f}"))
        if m.T > 0:
            rows.append(("energy e", f"{self.energy:.12f}"))
            rows.append(("entropy s", f"{self.entropy:.12f}"))
        rows.append(("q breakpoints", np.array2string(self.q, precision=6, max_line_width=200)))
        name = "x values" if m.T > 0 else "gamma values"
        vals = self.x if m.T > 0 else self.gamma
        rows.append((name, np.array2string(vals, precision=6, max_line_width=200)))
        if math.isfinite(self.L):
            rows.append(("L = (1-q_max)/T", f"{self.L:.10f}"))
        if m.field != 0:
            rows.append(("magnetization", f"{self.magnetization:.10f}"))
        if math.isfinite(self.replicon):
            rows.append(("replicon", f"{self.replicon:.6g} "
                         f"({'stable' if self.replicon >= 0 else 'unstable'})"))
        rows.append(("converged", f"{self.converged} ({self.iterations} iterations, "
                     f"residual {self.residual:.1e})"))
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b}" for a, b in rows)

    def __repr__(self) -> str:
        return (f"ParisiResult({self.method}, k={self.k}, T={self.T:g}, "
                f"free_energy={self.free_energy:.10g}, converged={self.converged})")
