"""When a Monte Carlo result is to be trusted: the one ``converged`` verdict of the engines.

Every result of :mod:`replicasolve.engines` (the Ising runs of :mod:`.ising`, the sphere runs
of :mod:`.sphere`) derives from :class:`MCRun` (one temperature) or :class:`PTRun` (a
parallel-tempering ladder), both on the library's :class:`~replicasolve.results.Result`
contract, and states ``converged`` by the same rules:

**One temperature** (:class:`MCRun`): the run is long against its own autocorrelation. The
integrated autocorrelation time τ (Sokal's windowed estimate,
:func:`integrated_autocorrelation_time`, in sweeps) of the energy and of the overlap
observable the result reports (|q| for Ising spins, whose P(q) is symmetric; q on the
sphere) must be finite and at most ``TAU_FRACTION`` = 1/50 of the measured span (the
production sweeps). Why 1/50:

- the τ estimate itself is only reliable for runs longer than about 50 τ (Sokal,
  "Monte Carlo methods in statistical mechanics", 1996, §3; the "N > 50 τ" rule of
  Foreman-Mackey et al., PASP 125, 306 (2013)); a shorter run cannot even tell its τ, and
  a run still relaxing from its start (a drift through the production run) shows a τ of
  the order of the span, which the rule rejects;
- the error bars assume many independent samples: per replica span/(2τ) ≥ 25 effectively
  independent measurements, so the per-replica time averages from which the replica
  jackknife and U-statistic errors are built are close to Gaussian, and the batch-means
  jackknife over 20 time blocks (used with two replicas) has blocks of length span/20 ≥
  2.5 τ, whose bias in the error variance, of relative size about τ/(block length),
  is at most 40 % (20 % in the error bar) and smaller the longer the run;
- the windowed estimate cannot report a τ of the order of the span: its window closes at
  W ≥ 5τ inside the series, so for a run far too short (still relaxing) it saturates near
  span/10 (measured τ/span = 0.06-0.10 for SK, N = 128, T = 0.3, 20 sweeps from random
  spins); a threshold meant to catch such runs must sit well below 1/10, and 1/50 leaves
  a factor of 3 to 5;
- a non-finite τ (a constant series: frozen spins, no fluctuation) says nothing about
  equilibrium, and is not taken as a pass.

**A temperature ladder** (:class:`PTRun`) additionally needs (with two or more
temperatures) that every walker has completed at least ``MIN_ROUND_TRIPS`` = 1 traversal of
the ladder between its ends after burn-in (a walker that never reached the hot end still
remembers its start, and the copies at the cold end are then not independent samples, as
the replica error bars assume), and that every neighbouring exchange acceptance is above
``SWAP_FLOOR`` = 0.02 (the floor of
:class:`~replicasolve.studies.theory_check.PTDiagnostics`: below it the ladder is
effectively cut in two, a walker crossing the gap once per ≥ 50 attempts). Every
temperature must also pass the one-temperature rule.

The rules are necessary conditions checked on the run's own data, not proofs of
equilibrium: slow modes that the energy and overlap do not see (a ferromagnet's sign, a
metastable state never left) pass unnoticed. ``message`` names the failed conditions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..results import Result, jsonable

__all__ = [
    "MIN_ROUND_TRIPS",
    "SWAP_FLOOR",
    "TAU_FRACTION",
    "MCRun",
    "PTRun",
    "autocorrelation_verdict",
    "integrated_autocorrelation_time",
    "ladder_verdict",
]

TAU_FRACTION = 1.0 / 50.0
SWAP_FLOOR = 0.02
MIN_ROUND_TRIPS = 1


def integrated_autocorrelation_time(x: Any, c: float = 5.0) -> float:
    """Sokal's integrated autocorrelation time with automatic windowing.

    τ_int = 1/2 + Σ_{t=1}^{W} ρ(t), with W the smallest window such that W ≥ c τ_int(W)
    (Madras & Sokal 1988; c = 5 by default, Sokal recommends 4-10). With this convention
    uncorrelated data give τ_int = 1/2 and the variance of a mean of n samples is
    2 τ_int σ²/n.

    Args:
        x: a series of shape ``(n,)``, or ``(n, k)`` for k independent series of the same
            process (their autocovariances are averaged before normalising).
        c: the window factor.

    Returns:
        τ_int in units of the sampling interval; NaN for a constant series (no fluctuation,
        no time scale).
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2:
        raise InvalidInputError("need a series of at least 2 samples, shape (n,) or (n, k)")
    n = a.shape[0]
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    a = a - a.mean(axis=0)
    # a series constant per column leaves only rounding after centring (e.g. 0.1 - mean);
    # its "correlation" would be 1 at every lag and τ the whole run: call it constant
    if float(np.max(np.abs(a))) <= 64 * np.finfo(np.float64).eps * scale:
        return math.nan
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(a, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n].sum(axis=1)
    if not acov[0] > 0:
        return math.nan
    rho = acov / acov[0]
    tau = 0.5 + np.cumsum(rho[1:])
    w = np.arange(1, n)
    ok = w >= c * tau
    if not np.any(ok):
        return float(tau[-1])  # window never closed: the series is too short for τ
    return float(tau[int(np.argmax(ok))])


def autocorrelation_verdict(taus: Mapping[str, float], span: float,
                            fraction: float = TAU_FRACTION) -> tuple[bool, str]:
    """The one-temperature rule: every τ finite and ≤ ``fraction`` × ``span``.

    Args:
        taus: integrated autocorrelation times by observable name, in sweeps.
        span: the measured production span, in sweeps.
        fraction: the largest allowed τ/span (module docstring: 1/50).

    Returns:
        (passed, the failed conditions as text, empty when passed).
    """
    problems = []
    for name, tau in taus.items():
        if not math.isfinite(tau):
            problems.append(f"tau_{name} not finite (no fluctuation to time)")
        elif tau > fraction * span:
            problems.append(f"tau_{name} = {tau:.3g} sweeps > {fraction:.3g} x span "
                            f"({span:g} sweeps)")
    return not problems, "; ".join(problems)


def ladder_verdict(swap_rates: Any, traversals: Any, floor: float = SWAP_FLOOR,
                   min_trips: int = MIN_ROUND_TRIPS) -> tuple[bool, str]:
    """The ladder rule: every exchange acceptance > ``floor`` and every walker ≥
    ``min_trips`` traversals (no condition for a single temperature).

    Args:
        swap_rates: acceptance of each neighbouring exchange, shape ``(K-1,)``.
        traversals: completed ladder traversals per walker.
        floor: the smallest allowed acceptance (module docstring: 0.02).
        min_trips: the fewest traversals a walker may have made.

    Returns:
        (passed, the failed conditions as text, empty when passed).
    """
    rates = np.asarray(swap_rates, dtype=np.float64).ravel()
    trips = np.asarray(traversals).ravel()
    if rates.size == 0:
        return True, ""
    problems = []
    if not np.all(rates > floor):  # NaN (never attempted) fails too
        if not np.all(np.isfinite(rates)):
            problems.append("an exchange was never attempted")
        else:
            problems.append(f"swap acceptance {float(rates.min()):.3g} <= floor {floor:g}")
    if trips.size == 0 or int(trips.min()) < min_trips:
        low = int(trips.min()) if trips.size else 0
        problems.append(f"a walker made {low} ladder traversals (< {min_trips})")
    return not problems, "; ".join(problems)


def _cell(value: Any) -> str | None:
    """A table cell for a value of a summary dict, or None for values that do not fit."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if value is None:
        return "nan"
    if isinstance(value, str):
        return value if "\n" not in value and len(value) <= 120 else None
    if isinstance(value, dict) and set(value) == {"value", "error"}:
        v, e = value["value"], value["error"]
        return f"{'nan' if v is None else f'{v:.8g}'} ± {'nan' if e is None else f'{e:.2g}'}"
    if isinstance(value, list) and 0 < len(value) <= 12 and all(
            isinstance(v, (int, float)) or v is None for v in value):
        return "[" + " ".join("nan" if v is None else f"{v:.6g}" for v in value) + "]"
    return None


class _Summarised(Result):
    """``to_dict`` from a compact summary (means with errors, shapes, diagnostics: never the
    raw series, which can be megabytes) and ``table`` from the same."""

    def _summary(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def message(self) -> str:
        """Why the result is not converged (empty when it is)."""
        return self.verdict[1]

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """Whether the run passes the rules of :mod:`replicasolve.engines.convergence`."""
        return self.verdict[0]

    @cached_property
    def verdict(self) -> tuple[bool, str]:
        """(converged, message)."""
        raise NotImplementedError

    @property
    def errors(self) -> dict[str, float]:
        """The error bars of the summary's estimates, as ``<name>_error`` (finite ones)."""
        out: dict[str, float] = {}
        for key, val in jsonable(self._summary()).items():
            if isinstance(val, dict) and set(val) == {"value", "error"}:
                err = val["error"]
                if isinstance(err, (int, float)) and math.isfinite(err):
                    out[f"{key}_error"] = float(err)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: ``kind``, the estimates as ``{"value", "error"}``, the
        diagnostics, the shapes of the stored series, ``settings``, ``converged`` and
        ``message`` (the raw series stay on the object)."""
        d: dict[str, Any] = {"kind": type(self).__name__}
        d.update(jsonable(self._summary()))
        d["converged"] = bool(self.converged)
        d["message"] = self.message
        return d

    def table(self) -> str:
        """A two-column summary of :meth:`to_dict` (what fits on one line), ``converged``
        last."""
        rows = [(type(self).__name__, "")]
        for key, val in self.to_dict().items():
            if key in ("kind", "converged", "message", "settings"):
                continue
            text = _cell(val)
            if text is not None:
                rows.append((key, text))
        if self.message:
            rows.append(("message", self.message))
        rows.append(("converged", str(bool(self.converged))))
        width = max(len(a) for a, _ in rows)
        return "\n".join(f"{a:<{width}}  {b}".rstrip() for a, b in rows)


class MCRun(_Summarised):
    """Base of the one-temperature Monte Carlo results (a mixin without fields).

    Subclasses provide :attr:`autocorrelation_times` (τ by observable, in sweeps) and
    :attr:`span` (the measured production sweeps); ``converged`` is then the
    one-temperature rule of the module docstring: every τ finite and ≤ span/50.
    """

    @property
    def autocorrelation_times(self) -> dict[str, float]:
        """Integrated autocorrelation times of the energy and the overlap, in sweeps."""
        raise NotImplementedError

    @property
    def span(self) -> float:
        """The measured production span, in sweeps."""
        raise NotImplementedError

    @cached_property
    def verdict(self) -> tuple[bool, str]:
        """(converged, message) by the one-temperature rule."""
        return autocorrelation_verdict(self.autocorrelation_times, self.span)


class PTRun(_Summarised):
    """Base of the parallel-tempering results (a mixin without fields).

    Subclasses provide :attr:`autocorrelation_times_by_T` (one dict per temperature),
    :attr:`span`, :attr:`swap_rates` and :attr:`traversals`; ``converged`` is the ladder
    rule of the module docstring: every temperature passes the one-temperature rule, every
    exchange acceptance > 0.02 and every walker made at least one traversal.
    """

    @property
    def autocorrelation_times_by_T(self) -> Sequence[dict[str, float]]:
        """Per temperature, the autocorrelation times (in sweeps) by observable."""
        raise NotImplementedError

    @property
    def span(self) -> float:
        """The measured production span, in sweeps."""
        raise NotImplementedError

    @property
    def swap_rates(self) -> np.ndarray:
        """Acceptance of the exchanges of neighbouring temperatures, shape ``(K-1,)``."""
        raise NotImplementedError

    @property
    def traversals(self) -> np.ndarray:
        """Completed ladder traversals per walker after burn-in."""
        raise NotImplementedError

    @cached_property
    def verdict(self) -> tuple[bool, str]:
        """(converged, message) by the ladder rule."""
        problems = []
        for k, taus in enumerate(self.autocorrelation_times_by_T):
            ok, why = autocorrelation_verdict(taus, self.span)
            if not ok:
                problems.append(f"T index {k}: {why}")
        ok, why = ladder_verdict(self.swap_rates, self.traversals)
        if not ok:
            problems.append(why)
        return not problems, "; ".join(problems)
