"""Phase classification and replica-symmetric stability (replicon / de Almeida–Thouless).

``phase(model)`` compares the RS, 1RSB and 2RSB optima of the Parisi functional: the
functional is maximised over nested families (RS ⊂ 1RSB ⊂ 2RSB), so each extra level can only
raise f; a level that raises it by less than ``gain_tol`` has collapsed onto the one below.
This catches both continuous transitions (RS unstable: replicon < 0) and discontinuous ones
(RS locally stable but a 1RSB solution with higher f, as in p ≥ 3 models). Gains alone
cannot resolve full RSB near a continuous transition (SK just inside the AT line: the 2RSB
gain over 1RSB is ~1e-11 while 1RSB gains ~1e-6 over RS), so a 1RSB solution whose own
replicon (at its top breakpoint) is negative also counts as full RSB: it is unstable to
further breaking. This also labels the Gardner phase of p-spin models (1RSB unstable at
low T) FRSB. At T = 0 the Ising replicon is -∞ by construction and is not used.

``at_field`` / ``at_temperature`` locate the de Almeida–Thouless line, where the replicon of
the RS solution vanishes: for Ising spins 1 = β² ξ''(q) E sech⁴(β(h + sqrt(ξ'(q)) z)) with
q = E tanh²(β(h + sqrt(ξ'(q)) z)) (de Almeida–Thouless, J. Phys. A 11 (1978)); for spherical
spins 1 = β² ξ''(q)(1 - q)² (Crisanti–Sommers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConvergenceError, InvalidInputError
from ..results import Result
from .methods import RSB, Options, as_options
from .parisi import solve_parisi as solve
from .result import ParisiResult

__all__ = ["Classification", "at_field", "at_temperature", "classify", "classify_detail",
           "phase", "rs_replicon"]

_GAIN_TOL = 1e-9
# a replicon below -_REPLICON_TOL is unstable (the solvers' replicons are accurate to
# ~1e-12; the RS test below has always used this threshold)
_REPLICON_TOL = 1e-9


def rs_replicon(model: Any, options: Options | None = None) -> float:
    """The replicon eigenvalue of the RS solution at the model's state point (> 0: stable).

    Normalised as 1 - β² ξ''(q) E[(∂²_u Ψ / β)²...]: for Ising spins
    1 - β² ξ''(q) E sech⁴(β(h + sqrt(ξ'(q)) z)); for spherical spins 1 - β² ξ''(q)(1 - q)².
    At T = 0 it is -∞ for Ising spins (β² E sech⁴ diverges); spherical spins use
    1 - ξ''(1) L² with L = lim (1 - q)/T.
    """
    res = solve(model, RSB(0), options)
    if not res.converged:
        raise ConvergenceError(f"RS solution did not converge: {res.message}")
    return float(res.replicon)


@dataclass(frozen=True)
class Classification(Result):
    """The label of :func:`classify` with the solutions behind it.

    Attributes:
        label: ``"RS"``, ``"1RSB"`` or ``"FRSB"``.
        rs, one, two: the RS, 1RSB and 2RSB results (``two`` is ``None`` where the RS
            answer made it unnecessary).
        gain1, gain2: f(1RSB) - f(RS) and f(2RSB) - f(1RSB) (``nan`` where not solved).
    """

    label: str
    rs: ParisiResult
    one: ParisiResult
    two: ParisiResult | None
    gain1: float
    gain2: float

    @property
    def converged(self) -> bool:
        """Whether every solution behind the label converged."""
        return all(r.converged for r in (self.rs, self.one, self.two) if r is not None)


def classify_detail(model: Any, options: Options | None = None, gain_tol: float = _GAIN_TOL,
                    start: Classification | None = None) -> Classification:
    """:func:`classify` with its solutions; ``start`` (the :class:`Classification` of a
    neighbouring state point) warm-starts the 1RSB and 2RSB solves (see
    :func:`replicasolve.solvers.solve`; the labels agree with cold solves up to gains within
    the solver tolerance of ``gain_tol``).

    Raises:
        InvalidInputError: ``gain_tol <= 0`` or a ``start`` that is not a Classification.
    """
    if gain_tol <= 0:
        raise InvalidInputError("gain_tol must be > 0")
    if start is not None and not isinstance(start, Classification):
        raise InvalidInputError(
            f"start must be a Classification, got {type(start).__name__}")
    opts = options if options is not None else Options()
    s1 = start.one if start is not None else None
    s2 = (start.two or start.one) if start is not None else None
    r0 = solve(model, RSB(0), opts)
    r1 = solve(model, RSB(1), opts, start=s1)
    # f (E_GS at T = 0) is maximal over x, so each richer family can only raise it
    gain1 = r1.free_energy - r0.free_energy
    rs_unstable = math.isfinite(r0.replicon) and r0.replicon < -_REPLICON_TOL
    if gain1 <= gain_tol and not rs_unstable:
        # a discontinuous (spherical) transition: just below T_s the 1RSB gain ~ (1 - T/T_s)²
        # falls under any gain threshold; the static transition itself decides there
        from .transitions import below_static_transition

        if not below_static_transition(model):
            return Classification("RS", r0, r1, None, gain1, math.nan)
    r2 = solve(model, RSB(2), opts, start=s2)
    gain2 = r2.free_energy - r1.free_energy
    # a 1RSB solution with a negative replicon at its top is not the Parisi solution:
    # more breaking is needed, however small its gain (SK near the AT line: the 2RSB gain
    # is ~1e-11 at h = 0.75, T = 0.4, 5% inside the line, far below gain_tol)
    one_unstable = math.isfinite(r1.replicon) and r1.replicon < -_REPLICON_TOL
    label = "FRSB" if gain2 > gain_tol or one_unstable else "1RSB"
    return Classification(label, r0, r1, r2, gain1, gain2)


def classify(model: Any, options: Options | None = None, gain_tol: float = _GAIN_TOL) -> str:
    """``"RS"``, ``"1RSB"`` or ``"FRSB"`` at the model's state point (see the module doc).

    ``gain_tol`` is the smallest free-energy gain (per spin, energy units) that counts as a
    genuine extra level of breaking; it must sit well above the solver accuracy (~1e-12)
    and below the gains of the phase one wants to resolve (near a continuous transition at
    distance τ = 1 - T/T_c the 1RSB gain over RS scales like τ³...τ⁵, so very close to T_c the
    answer is RS by this criterion).
    """
    return classify_detail(model, options, gain_tol).label


def _bracket_root(fun, lo: float, hi: float, what: str) -> float:
    from scipy.optimize import brentq

    flo, fhi = fun(lo), fun(hi)
    if flo * fhi > 0:
        raise InvalidInputError(
            f"no AT crossing for {what} in [{lo:g}, {hi:g}] "
            f"(replicon {flo:.3g} and {fhi:.3g})"
        )
    return float(brentq(fun, lo, hi, xtol=1e-13, rtol=1e-13))


def at_field(model: Any, h_max: float = 5.0, options: Options | None = None) -> float:
    """The AT field h_AT(T) at the model's temperature: RS is stable for |h| > h_AT.

    Returns 0.0 when RS is already stable at zero field (above T_c).
    """
    if model.T <= 0:
        raise InvalidInputError("the AT line needs T > 0")
    fun = lambda h: rs_replicon(model.at(field=h), options)  # noqa: E731
    if fun(0.0) >= 0:
        return 0.0
    return _bracket_root(fun, 0.0, h_max, f"T = {model.T:g}")


def at_temperature(model: Any, T_max: float = 10.0, options: Options | None = None,
                   T_min: float = 1e-3) -> float:
    """The AT temperature T_AT(h) at the model's field: RS is stable for T > T_AT.

    The crossing is bracketed from above: the replicon is evaluated at ``T_max`` (where RS
    must be stable) and then at temperatures halved in turn until it turns negative, so the
    RS solutions are only ever asked for at temperatures comparable to T_AT (the RS solve
    at T ≪ T_AT is both needless and ill-conditioned: the field grid must resolve the scale
    T). Then Brent's method on the bracket (xtol 1e-13).

    Raises:
        InvalidInputError: RS is unstable already at ``T_max``, or stable down to ``T_min``
            (no AT line in [T_min, T_max]), or bad bounds.
        ConvergenceError: an RS solve on the way did not converge.
    """
    if not (0 < T_min < T_max and math.isfinite(T_max)):
        raise InvalidInputError(f"at_temperature needs 0 < T_min < T_max < inf, got "
                                f"T_min = {T_min!r}, T_max = {T_max!r}")
    fun = lambda T: rs_replicon(model.at(T=T), options)  # noqa: E731
    hi = float(T_max)
    f_hi = fun(hi)
    if f_hi < 0:
        raise InvalidInputError(
            f"no AT crossing for h = {model.field:g}: RS is unstable at T_max = {hi:g} "
            f"(replicon {f_hi:.3g}); raise T_max")
    while True:
        lo = max(hi / 2.0, T_min)
        f_lo = fun(lo)
        if f_lo < 0:
            break
        if lo <= T_min:
            raise InvalidInputError(
                f"no AT crossing for h = {model.field:g} in [{T_min:g}, {T_max:g}]: RS is "
                f"stable down to T_min (replicon {f_lo:.3g})")
        hi, f_hi = lo, f_lo
    from scipy.optimize import brentq

    return float(brentq(fun, lo, hi, xtol=1e-13, rtol=1e-13))


def phase(model: Any, options: Any = None) -> str:
    """Classify the model's state point as ``"RS"``, ``"1RSB"`` or ``"FRSB"``.

    RS if the replica-symmetric solution is stable (replicon >= 0) and no 1RSB solution
    has a higher free energy; else 1RSB if the 1RSB solution is stable (replicon >= 0 at
    its top) and the 2RSB solution does not improve on it beyond the solver tolerance (its
    extra step collapses), else FRSB (:func:`replicasolve.solvers.classify.classify`).
    """
    return classify(model, as_options(options))
