"""Static and dynamical transitions of spherical mixed p-spin models without a field.

Conventions of :mod:`replicasolve.solvers.spherical`: E H(σ)H(σ') = N ξ(R), |σ|² = N,
temperatures in the energy units of H/N. In the Crisanti–Sommers functional (Z. Phys. B 87,
341 (1992)) of the paramagnet (x ≡ 1, q_0 = 0) the first variation of lowering x to m on
[0, q) is governed by

    φ(u) = β² ξ'(u) - u/(1 - u),     S(q) = ∫_0^q φ = β² (ξ(q) - ξ(0)) + q + ln(1 - q),

and the 1RSB functional with q_0 = 0, q_1 = q, x = m on [0, q) equals the RS one at m = 1 for
every q; near m = 1 it is P_RS - (1 - m) S(q)/2 + O((1 - m)²). Hence:

* Static transition T_s (the m = 1 end of the 1RSB solution: q-stationarity φ(q_s) = 0 and
  m-stationarity S(q_s) = 0 at m = 1). Equivalently, by convexity of the functional the
  paramagnet is the Parisi solution iff S(u) <= 0 for every u, so

      T_s² = sup_{0<q<1} (ξ(q) - ξ(0)) / (-q - ln(1 - q)),

  q_s the maximiser (its stationarity is φ(q_s) = 0 at β_s).
* Dynamical transition T_d (the m = 1 state at q_d becomes marginal: φ(q_d) = 0 and the
  replicon β² ξ''(q_d)(1 - q_d)² = 1, i.e. φ'(q_d) = 0): the highest T at which
  φ(q) = 0 has a root q > 0,

      T_d² = sup_{0<q<1} (1 - q) ξ'(q) / q.

Both ratios tend to ξ''(0) = T_c² as q → 0 (T_c: where the paramagnet's replicon
1 - β² ξ''(0) vanishes). The transition is discontinuous (q jumps from 0 to q_s > 0) when the
sup is reached at an interior q_s > 0 with T_s > T_c; otherwise it is continuous at T_c
(e.g. ξ''^{-1/2} concave near 0) and there is no T_s or T_d to report. For ξ = q^p/2:
T_d² = p (p-2)^{p-2} / (2 (p-1)^{p-1}), q_d = (p-2)/(p-1) (Crisanti–Sommers 1992;
Castellani–Cavagna, J. Stat. Mech. (2005) P05012 with their ξ = q^p/2), and q_s solves
q²/(p(1-q)) + q + ln(1-q) = 0 (p = 3: T_s = 0.58605..., T_d = sqrt(3/8)).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..results import Result

__all__ = ["SphericalTransitions", "below_static_transition", "spherical_transitions"]

# Below this q, -q - ln(1 - q) is summed from its series: the closed form loses ~eps/q of
# relative precision to cancellation (4e-14 at the switch).
_SERIES_BELOW = 1e-2
# A sup of the ratio within this relative distance of its q → 0 limit ξ''(0) is not a
# discontinuous transition (the ratios are accurate to ~1e-14 relative away from q = 0).
_FLAT_REL = 1e-9
# The two stationarity equations at the result must hold to this (they are O(1) expressions
# solved by Brent's method to xtol 1e-15 in q; 1e-10 leaves room for ill-conditioned ξ).
_RESIDUAL_TOL = 1e-10


@dataclass(frozen=True)
class SphericalTransitions(Result):
    """The static and dynamical transitions of a spherical model without a field.

    Attributes:
        T_s: static (Kauzmann) temperature, energy units of H/N: the 1RSB solution exists
            below it with m < 1 and reaches m = 1 at it; above it the paramagnet (RS, q = 0)
            is the Parisi solution.
        T_d: dynamical temperature: the highest T with a 1RSB m = 1 solution q > 0; at T_d
            that solution is marginal (replicon 0). T_d >= T_s.
        q_s, q_d: the overlap q_1 of the m = 1 solution at T_s and at T_d.
        T_c: sqrt(ξ''(0)), where the paramagnet's replicon vanishes (0 without a q² term);
            T_s > T_c for a discontinuous transition.
        residual_s: max |.| of φ(q_s) = β_s² ξ'(q_s)(1 - q_s) - q_s and
            S(q_s) = β_s² (ξ(q_s) - ξ(0)) + q_s + ln(1 - q_s) (the two Crisanti–Sommers
            equations at m = 1).
        residual_d: max |.| of β_d² ξ'(q_d)(1 - q_d) - q_d and β_d² ξ''(q_d)(1 - q_d)² - 1.
        converged: both residuals <= 1e-10.
        message: how the numbers were obtained.
    """

    T_s: float
    T_d: float
    q_s: float
    q_d: float
    T_c: float
    residual_s: float
    residual_d: float
    converged: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (floats, a bool and a str: JSON-ready)."""
        return asdict(self)


def _ramp(q: np.ndarray) -> np.ndarray:
    """-q - ln(1 - q) = Σ_{n>=2} q^n/n for 0 <= q < 1, without cancellation near 0."""
    q = np.asarray(q, dtype=float)
    series = np.zeros_like(q)
    term = q.copy()
    for n in range(2, 24):
        term = term * q
        series += term / n
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = -q - np.log1p(-q)
    return np.where(q < _SERIES_BELOW, series, closed)


def _grid() -> np.ndarray:
    """q in (0, 1): uniform in the bulk, geometric towards both ends (q_s → 1 as p grows,
    and a small q_s sits next to the continuous limit)."""
    return np.unique(np.concatenate([
        np.geomspace(1e-6, 0.05, 400),
        np.linspace(0.0, 1.0, 20001)[1:-1],
        1.0 - np.geomspace(1e-13, 0.05, 600),
    ]))


def _refine(ratio: Any, slope: Any, grid: np.ndarray, vals: np.ndarray) -> tuple[float, float]:
    """(q*, ratio(q*)) at the global maximum of ``ratio`` over (0, 1): the best grid point,
    refined by Brent's method on ``slope`` (of the sign of ratio', + before the maximum)."""
    from scipy import optimize  # lazily: a sweep worker solving k-step problems never needs it

    i = int(np.nanargmax(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    sa, sb = float(slope(a)), float(slope(b))
    if sa > 0 > sb:
        q = optimize.brentq(slope, a, b, xtol=1e-16, rtol=4 * np.finfo(float).eps)
    else:
        q = float(grid[i])
    return float(q), float(ratio(q))


def _analyse(cov: Any) -> SphericalTransitions | str:
    """The transitions of covariance ``cov``, or the reason why there is none."""
    def d(q: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, d1, d2, _ = cov.derivatives(np.asarray(q, dtype=float))
        return x, d1, d2

    x0, d1_0, d2_0 = (float(v) for v in d(0.0))
    if abs(d1_0) > 0.0:
        return (f"xi'(0) = {d1_0:g} != 0: a q^1 term is a field, the paramagnet has q_0 > 0 "
                "(transitions are computed here for q_0 = 0 only)")
    if not (math.isfinite(d2_0) and d2_0 >= 0):
        return f"xi''(0) = {d2_0!r} is not finite"
    t_c = math.sqrt(d2_0)
    grid = _grid()

    def ratio_s(q: Any) -> Any:
        return (d(q)[0] - x0) / _ramp(q)

    def slope_s(q: float) -> float:
        # sign of d/dq ln ratio_s: ξ' ramp - (ξ - ξ(0)) q/(1 - q)
        x, d1, _ = d(q)
        return float(d1 * _ramp(np.array(q)) - (x - x0) * q / (1.0 - q))

    def ratio_d(q: Any) -> Any:
        return (1.0 - np.asarray(q)) * d(q)[1] / np.asarray(q)

    def slope_d(q: float) -> float:
        # sign of d/dq ln ratio_d: q (1 - q) ξ'' - ξ'
        _, d1, d2 = d(q)
        return float(q * (1.0 - q) * d2 - d1)

    with np.errstate(all="ignore"):
        vs = ratio_s(grid)
        vd = ratio_d(grid)
    if not (np.all(np.isfinite(vs)) and np.all(np.isfinite(vd))):
        return "xi or xi' is not finite on (0, 1)"
    q_s, r_s = _refine(ratio_s, slope_s, grid, vs)
    if not r_s > d2_0 * (1.0 + _FLAT_REL) or q_s <= grid[0]:
        return (f"the transition is continuous: sup_q (xi(q) - xi(0))/(-q - ln(1-q)) is its "
                f"q -> 0 limit xi''(0) = {d2_0:g}, so the paramagnet loses stability at "
                f"T_c = sqrt(xi''(0)) = {t_c:g} before any 1RSB state with q_1 > 0 wins")
    q_d, r_d = _refine(ratio_d, slope_d, grid, vd)
    T_s, T_d = math.sqrt(r_s), math.sqrt(r_d)
    xs, d1s, _ = (float(v) for v in d(q_s))
    b2 = 1.0 / r_s
    res_s = max(abs(b2 * d1s * (1 - q_s) - q_s), abs(b2 * (xs - x0) + q_s + math.log1p(-q_s)))
    _, d1d, d2d = (float(v) for v in d(q_d))
    b2 = 1.0 / r_d
    res_d = max(abs(b2 * d1d * (1 - q_d) - q_d), abs(b2 * d2d * (1 - q_d) ** 2 - 1.0))
    ok = bool(res_s <= _RESIDUAL_TOL and res_d <= _RESIDUAL_TOL and T_d >= T_s)
    msg = ("T_s² = sup (xi - xi(0))/(-q - ln(1-q)), T_d² = sup (1-q) xi'/q: grid maximum "
           "refined by Brent's method on the stationarity equation")
    if not ok:
        msg += (f"; residuals {res_s:.1e} (static), {res_d:.1e} (dynamical) exceed "
                f"{_RESIDUAL_TOL:.0e}" if T_d >= T_s else "; T_d < T_s: inconsistent")
    return SphericalTransitions(T_s=T_s, T_d=T_d, q_s=q_s, q_d=q_d, T_c=t_c, residual_s=res_s,
                                residual_d=res_d, converged=ok, message=msg)


# analysed covariances: polynomials by their coefficients (a sweep that builds its model from
# the same formula at every T analyses it once), other ξ by identity (the entry holds the
# object, so its id cannot be reused while cached); oldest dropped beyond _CACHE_SIZE
_CACHE: dict[Any, tuple[Any, SphericalTransitions | str]] = {}
_CACHE_SIZE = 256


def _cached(cov: Any) -> SphericalTransitions | str:
    coeffs = getattr(cov, "coefficients", None)
    key = ("poly", tuple(sorted(coeffs.items()))) if coeffs is not None else ("id", id(cov))
    hit = _CACHE.get(key)
    if hit is not None and (coeffs is not None or hit[0] is cov):
        return hit[1]
    out = _analyse(cov)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (cov, out)
    return out


def transitions_of_covariance(cov: Any) -> SphericalTransitions | None:
    """The converged transitions of covariance ``cov`` (h = 0), or ``None`` where there is no
    discontinuous transition (no exception: what the solver asks near T_s)."""
    out = _cached(cov)
    return out if isinstance(out, SphericalTransitions) and out.converged else None


def spherical_transitions(model: Any) -> SphericalTransitions:
    """Static temperature T_s and dynamical temperature T_d of a spherical mixed p-spin model.

    ``model``: a spherical :class:`~replicasolve.models.pspin.MixedPSpin` (its temperature is
    not used; its field must be 0) or a covariance ξ (anything
    :func:`~replicasolve.models.pspin.covariance` accepts). Temperatures are in the energy
    units of H/N. T_s: the Crisanti–Sommers 1RSB solution at m = 1 has zero gain
    (q-stationarity β² ξ'(q)(1 - q) = q and m-stationarity β² (ξ(q) - ξ(0)) + q + ln(1 - q)
    = 0); T_d: the m = 1 solution is marginal (β² ξ'(q)(1 - q) = q and
    β² ξ''(q)(1 - q)² = 1). Crisanti–Sommers, Z. Phys. B 87, 341 (1992); the sup formulas
    of the module docstring make the choice of root unambiguous.

    Raises
    ------
    InvalidInputError
        For Ising models, a nonzero field or ξ'(0) != 0 (the paramagnet then has q_0 > 0,
        not handled here), and models whose transition is continuous (at T_c =
        sqrt(ξ''(0)), e.g. ξ = q²/2): the message says which.
    """
    from ..models.pspin import Covariance, MixedPSpin, covariance

    if isinstance(model, MixedPSpin):
        if model.spins != "spherical":
            raise InvalidInputError(
                f"spherical_transitions needs a spherical model, got {model.spins} spins")
        if model.field != 0:
            raise InvalidInputError(
                f"spherical_transitions: field h = {model.field:g} != 0 (the paramagnet has "
                "q_0 > 0; transitions are computed here for h = 0 only)")
        cov = model.xi
    else:
        cov = model if isinstance(model, Covariance) else covariance(model)
    out = _cached(cov)
    if isinstance(out, str):
        raise InvalidInputError(f"spherical_transitions: xi = {cov.text}: {out}")
    return out


def below_static_transition(model: Any) -> bool | None:
    """Whether ``model`` (a MixedPSpin) is below its static transition: ``True`` if T < T_s,
    ``False`` if T >= T_s, ``None`` where there is no discontinuous transition to compare
    with (Ising spins, a field, ξ'(0) != 0, a continuous transition, or T = 0).

    This is the RS/1RSB decision next to T_s, where the 1RSB gain ~ (T_s - T)² is below any
    gain threshold: above T_s the paramagnet is the Parisi solution exactly (the first
    variation S(q) of the module docstring is <= 0 for every q), below it the 1RSB solution
    continued from m = 1 beats it. Never raises.
    """
    if (getattr(model, "spins", None) != "spherical" or getattr(model, "field", 1.0) != 0
            or not getattr(model, "T", 0.0) > 0):
        return None
    tr = transitions_of_covariance(model.xi)
    return None if tr is None else bool(model.T < tr.T_s)
