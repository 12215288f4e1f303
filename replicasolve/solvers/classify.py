"""Phase classification and replica-symmetric stability (replicon / de Almeida–Thouless).

``phase(model)`` compares the RS, 1RSB and 2RSB optima of the Parisi functional: the
functional is maximised over nested families (RS ⊂ 1RSB ⊂ 2RSB), so each extra level can only
raise f; a level that raises it by less than ``gain_tol`` has collapsed onto the one below.
This catches both continuous transitions (RS unstable: replicon < 0) and discontinuous ones
(RS locally stable but a 1RSB solution with higher f, as in p ≥ 3 models).

``at_field`` / ``at_temperature`` locate the de Almeida–Thouless line, where the replicon of
the RS solution vanishes: for Ising spins 1 = β² ξ''(q) E sech⁴(β(h + sqrt(ξ'(q)) z)) with
q = E tanh²(β(h + sqrt(ξ'(q)) z)) (de Almeida–Thouless, J. Phys. A 11 (1978)); for spherical
spins 1 = β² ξ''(q)(1 - q)² (Crisanti–Sommers).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConvergenceError, InvalidInputError
from .methods import RSB, Options

__all__ = ["at_field", "at_temperature", "classify", "rs_replicon"]

_GAIN_TOL = 1e-9


def rs_replicon(model: Any, options: Options | None = None) -> float:
    """The replicon eigenvalue of the RS solution at the model's state point (> 0: stable).

    Normalised as 1 - β² ξ''(q) E[(∂²_u Ψ / β)²...]: for Ising spins
    1 - β² ξ''(q) E sech⁴(β(h + sqrt(ξ'(q)) z)); for spherical spins 1 - β² ξ''(q)(1 - q)².
    At T = 0 it is -∞ for Ising spins (β² E sech⁴ diverges); spherical spins use
    1 - ξ''(1) L² with L = lim (1 - q)/T.
    """
    from . import solve

    res = solve(model, RSB(0), options)
    if not res.converged:
        raise ConvergenceError(f"RS solution did not converge: {res.message}")
    return float(res.replicon)


def classify(model: Any, options: Options | None = None, gain_tol: float = _GAIN_TOL) -> str:
    """``"RS"``, ``"1RSB"`` or ``"FRSB"`` at the model's state point (see the module doc).

    ``gain_tol`` is the smallest free-energy gain (per spin, energy units) that counts as a
    genuine extra level of breaking; it must sit well above the solver accuracy (~1e-12)
    and below the gains of the phase one wants to resolve (near a continuous transition at
    distance τ = 1 - T/T_c the 1RSB gain over RS scales like τ³...τ⁵, so very close to T_c the
    answer is RS by this criterion).
    """
    from . import solve

    if gain_tol <= 0:
        raise InvalidInputError("gain_tol must be > 0")
    opts = options if options is not None else Options()
    r0 = solve(model, RSB(0), opts)
    r1 = solve(model, RSB(1), opts)
    # f (E_GS at T = 0) is maximal over x, so each richer family can only raise it
    gain1 = r1.free_energy - r0.free_energy
    rs_unstable = math.isfinite(r0.replicon) and r0.replicon < -1e-9
    if gain1 <= gain_tol and not rs_unstable:
        return "RS"
    r2 = solve(model, RSB(2), opts)
    gain2 = r2.free_energy - r1.free_energy
    if gain2 <= gain_tol:
        return "1RSB"
    return "FRSB"


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


def at_temperature(model: Any, T_max: float = 10.0, options: Options | None = None) -> float:
    """The AT temperature T_AT(h) at the model's field: RS is stable for T > T_AT."""
    fun = lambda T: rs_replicon(model.at(T=T), options)  # noqa: E731
    lo = 1e-3
    return _bracket_root(fun, lo, T_max, f"h = {model.field:g}")
