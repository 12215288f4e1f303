"""Monte Carlo checks of the replica theory: Binder crossings for T_c, the SK energy at T > 0.

Two checks, both on disorder averages over random finite instances simulated with
the parallel-tempering engine of :mod:`replicasolve.engines.ising`:

1. **T_c from Binder crossings** (:func:`binder_crossing`). For each size of a family of
   random instances (SK, or layered networks with block-tridiagonal couplings
   ``W^l_ij ~ N(0, C/N_{l-1})``) the overlap Binder cumulant

       g(T) = ½ (3 − [⟨q⁴⟩] / [⟨q²⟩]²)

   is measured over a temperature grid, where ⟨·⟩ is the thermal average (two or more
   independent replicas of the same instance, q = (1/N) Σ_i s_i^a s_i^b) and [·] the average
   over disorder samples. Convention: the disorder average is taken of the *moments*, and the
   ratio is formed afterwards, as in Katzgraber, Körner & Young, PRB 73, 224432 (2006)
   (Binder, Z. Phys. B 43, 119 (1981) for the cumulant); the alternative, the average of the
   per-instance ratio [⟨q⁴⟩/⟨q²⟩²], is a different function at finite N (and is not what
   :class:`BinderCurve` reports). g is dimensionless and, at T_c,
   independent of N up to corrections to scaling, so the curves of different sizes cross at
   T_c: below it the larger size has the larger g (g → 1 for a single pair of ±q* peaks), above
   it the smaller (g → 0 for a Gaussian q). The crossing temperature of each pair of
   consecutive sizes, with a bootstrap error over disorder samples, is compared with the
   replica theory (SK: T_c = sqrt(C); layered: :func:`replicasolve.models.msk.msk_critical`)
   and with the TAP T_c = 1/β_c of the same instances
   (:func:`replicasolve.tap.critical.tap_critical`, averaged over samples).

2. **SK energy at T = 0.5** (:func:`sk_energy_trend`). The disorder-averaged energy per spin
   e_N = [⟨H⟩]/N of SK (J_ij ~ N(0, 1/N), ξ = q²/2) is fitted as e_N = e_∞ + a N^(−ω) with
   ω = 2/3 by default, and e_∞ is compared with the full-RSB (Parisi 1980) energy from
   :func:`replicasolve.solvers.solve` and with the replica-symmetric one. The exponent 2/3 is
   the finite-size correction exponent of the SK ground-state energy (Boettcher, Eur. Phys.
   J. B 46, 501 (2005), arXiv:cond-mat/0407130, numerically ω = 2/3 within 1%; Aspelmeier,
   Billoire, Marinari & Moore, J. Phys. A 41, 324008 (2008)). At T > 0 in the spin-glass
   phase the leading correction of the energy is believed to be N^(−2/3) as well (the
   1/N^(1/3) scale of the critical and low-T finite-size scaling of SK); this is an
   assumption, not a theorem, and the finite-N energy also carries O(1/N) terms, so
   :func:`fit_energy_trend` can also fit ω.

Equilibration. Every instance runs parallel tempering (Hukushima & Nemoto 1996) over the
whole temperature grid. Three diagnostics are reported per size (:class:`PTDiagnostics`):
the smallest exchange acceptance and the walkers' round trips; a logarithmic-binning test
(the disorder-averaged [⟨q²⟩] of the measurement window's second quarter against its second
half: a drift means the first window was not equilibrated, Katzgraber, Palassini & Young,
PRB 63, 184422 (2001)); and for SK (Gaussian couplings of variance C/N) the exact identity

    [⟨H⟩]/N = −(β C / 2) (1 − [⟨q²⟩])

(integration by parts over the Gaussian couplings; the 1/N terms cancel exactly, so it holds
at every finite N). A hot start approaches it from opposite sides in E and q², which makes it
a sharp test (Katzgraber, Palassini & Young 2001 use its short-range analogue). For layered
couplings the analogous identity needs the layer overlaps q_l q_{l-1}, which the engine does
not record; only the first two diagnostics are available there.

Units: temperatures in the energy units of J (β = 1/T), energies per spin, overlaps per spin.
Errors are one standard error; disorder errors come from the spread over instances (delete-one
jackknife for g, bootstrap over instances for crossing temperatures).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import validation
from ..engines.ising import Estimate, IsingSystem, MCResult, PTResult, parallel_tempering
from ..engines.settings import ladder, whole_number
from ..errors import ConvergenceError, InvalidInputError
from ..results import Result, jsonable
from ..tap.bonds import DenseBonds, LayeredBonds, random_layered

__all__ = [
    "BinderCrossing",
    "BinderCurve",
    "Crossing",
    "EnergyFit",
    "EnergyTrend",
    "PTDiagnostics",
    "binder_crossing",
    "binder_curve",
    "disorder_binder",
    "exact_overlap_moments",
    "find_crossing",
    "fit_energy_trend",
    "make_instance",
    "parisi_energy",
    "sk_energy_trend",
    "thermal_moments",
]

SizeSpec = int | Sequence[int]

_SK_TAG = 0  # spawn-key tags keep SK and layered instances of equal N independent
_LAYERED_TAG = 1
_ENERGY_TAG = 2
_EXACT_MAX_N = 14  # 2^14 states: the pair sum over states is 2.7e8 products, about a second


# --------------------------------------------------------------------------- instances


def _size_spec(size: Any) -> tuple[str, tuple[int, ...]]:
    """("sk", (N,)) for an int, ("layered", (N_0..N_L)) for a sequence of layer sizes."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        if size < 2:
            raise InvalidInputError(f"an SK size needs N >= 2 spins, got {size}")
        return "sk", (int(size),)
    if isinstance(size, str) or not isinstance(size, Sequence | np.ndarray):
        raise InvalidInputError(
            f"a size is an int N (SK) or a sequence of layer sizes N_0..N_L, got {size!r}"
        )
    return "layered", validation.layer_sizes(list(size))


def _seeds(seed: Any, tag: int, n: int, sample: int) -> tuple[int, np.random.SeedSequence]:
    """(bond seed, MC seed) of one instance: keyed by (kind, N, sample) so an instance does
    not depend on which other sizes or how many samples run beside it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative int, got {seed!r}")
    root = np.random.SeedSequence(int(seed), spawn_key=(tag, int(n), int(sample)))
    bond_ss, mc_ss = root.spawn(2)
    return int(bond_ss.generate_state(1, np.uint64)[0]), mc_ss


def make_instance(size: SizeSpec, variance: float = 2.0,
                  seed: int = 0) -> DenseBonds | LayeredBonds:
    """One random instance: SK for an int ``size`` = N, a layered network for layer sizes.

    Args:
        size: N (SK: J_ij ~ N(0, C/N), i < j, T_c = sqrt(C)) or layer sizes ``N_0..N_L``
            (W^l_ij ~ N(0, C/N_{l-1})).
        variance: C (Kaiming normal is C = 2; SK in its usual units is C = 1).
        seed: seed of numpy's ``default_rng`` for the couplings.
    """
    kind, sizes = _size_spec(size)
    if kind == "sk":
        return DenseBonds.sk(sizes[0], seed=seed, variance=variance)
    return random_layered(sizes, variance, seed)


def _theory_tc(kind: str, sizes: tuple[int, ...], variance: float) -> float:
    if kind == "sk":
        return math.sqrt(variance)
    from ..models.msk import msk_critical

    return float(msk_critical(sizes, variance).T_c)


# --------------------------------------------------------------------------- statistics


def disorder_binder(q2: Any, q4: Any) -> tuple[np.ndarray, np.ndarray]:
    """Disorder-averaged Binder cumulant g = ½(3 − [⟨q⁴⟩]/[⟨q²⟩]²) with its jackknife error.

    Args:
        q2, q4: per-instance thermal moments ⟨q²⟩ and ⟨q⁴⟩, shape ``(samples,)`` or
            ``(samples, K)`` (K temperatures); the disorder average [·] is over axis 0.

    Returns:
        ``(g, error)``, each of shape ``()`` or ``(K,)``. The error is the delete-one-instance
        jackknife (Efron 1982), which accounts for the correlation of numerator and
        denominator; NaN with fewer than two instances.
    """
    a = np.asarray(q2, dtype=np.float64)
    b = np.asarray(q4, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] < 1:
        raise InvalidInputError(
            f"q2 and q4 must have the same shape (samples,) or (samples, K), got {a.shape} "
            f"and {b.shape}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or np.any(a <= 0):
        raise InvalidInputError("q2 must be positive and finite, q4 finite")
    s = a.shape[0]
    g = 0.5 * (3.0 - b.mean(axis=0) / a.mean(axis=0) ** 2)
    if s < 2:
        return g, np.full_like(g, np.nan)
    a_del = (a.sum(axis=0) - a) / (s - 1)
    b_del = (b.sum(axis=0) - b) / (s - 1)
    g_del = 0.5 * (3.0 - b_del / a_del**2)
    err = np.sqrt((s - 1) / s * np.sum((g_del - g_del.mean(axis=0)) ** 2, axis=0))
    return g, err


def _mean_sem(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    m = x.mean(axis=0)
    if x.shape[0] < 2:
        return m, np.full_like(m, np.nan)
    return m, x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])


def exact_overlap_moments(system: IsingSystem | DenseBonds | LayeredBonds | Any,
                          temperature: float) -> tuple[float, float]:
    """⟨q²⟩ and ⟨q⁴⟩ of two independent replicas by exact enumeration of all 2^N states.

    ⟨q^k⟩ = Σ_{s,t} p(s) p(t) (s·t / N)^k with p the Boltzmann weights exp(−H/T)/Z; used as the
    golden value of the Monte Carlo moments on tiny instances.

    Args:
        system: an :class:`IsingSystem` (fields included), bonds, or a dense J ``(N, N)``.
        temperature: T > 0.

    Raises:
        InvalidInputError: N > 14 (the double sum over states grows like 4^N), T ≤ 0.
    """
    if not isinstance(system, IsingSystem):
        system = IsingSystem.dense(system.dense() if hasattr(system, "dense") else system)
    n = system.n
    if n > _EXACT_MAX_N:
        raise InvalidInputError(f"exact enumeration needs N <= {_EXACT_MAX_N}, got {n}")
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise InvalidInputError(f"temperature must be positive and finite, got {temperature!r}")
    states = (((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2 - 1).astype(np.float64)
    e = system.energy(states.T) * n
    w = np.exp(-(e - e.min()) / t)
    p = w / w.sum()
    m2 = m4 = 0.0
    step = max(1, (1 << 22) // states.shape[0])  # rows per block: bounds the memory
    for i in range(0, states.shape[0], step):
        q = (states[i : i + step] @ states.T) / n
        q2 = q * q
        m2 += float(p[i : i + step] @ (q2 @ p))
        m4 += float(p[i : i + step] @ ((q2 * q2) @ p))
    return m2, m4


# --------------------------------------------------------------------------- crossings


def _sign_changes(d: np.ndarray) -> np.ndarray:
    s = np.sign(d)
    return np.flatnonzero((s[:-1] * s[1:] < 0) | ((s[:-1] == 0) & (s[1:] != 0)))


def _root_in_window(t: np.ndarray, d: np.ndarray, w: np.ndarray, i0: int, i1: int,
                    degree: int, near: float) -> float:
    """Root of a weighted polynomial fit of d(T) over indices i0..i1, the one nearest ``near``,
    allowed at most one grid step outside the window (else NaN)."""
    x = t[i0 : i1 + 1]
    y = d[i0 : i1 + 1]
    ww = w[i0 : i1 + 1]
    deg = min(degree, x.size - 1)
    centre = 0.5 * (x[0] + x[-1])
    scale = 0.5 * (x[-1] - x[0]) or 1.0
    coef = np.polynomial.polynomial.polyfit((x - centre) / scale, y, deg, w=np.sqrt(ww))
    roots = np.polynomial.polynomial.polyroots(coef)
    roots = roots[np.abs(roots.imag) < 1e-9].real * scale + centre
    step = float(np.max(np.diff(t[max(i0 - 1, 0) : i1 + 2]))) if t.size > 1 else 0.0
    roots = roots[(roots >= x[0] - step) & (roots <= x[-1] + step)]
    if roots.size == 0:
        return math.nan
    return float(roots[np.argmin(np.abs(roots - near))])


def _locate(t: np.ndarray, d: np.ndarray, err: np.ndarray | None, degree: int, window: int,
            search: tuple[float, float] | None, direction: str) -> tuple[float, int, int]:
    """(T*, i0, i1): the crossing and the index window of its fit."""
    idx = _sign_changes(d)
    if direction != "any":
        want = -1.0 if direction == "down" else 1.0
        idx = idx[np.sign(d[idx + 1] - d[idx]) == want]
    if search is not None:
        lo, hi = search
        idx = idx[(t[idx] >= lo) & (t[idx + 1] <= hi)]
    if idx.size == 0:
        return math.nan, -1, -1
    half = max(window // 2, 1)
    var = np.ones_like(d) if err is None else np.maximum(err, 1e-12) ** 2
    # several sign changes (noise where the curves merge, at the ends of the grid): keep the
    # one where the two curves pass each other most significantly, judged by the mean of d
    # over ``half`` points on each side (one noisy point cannot fake a crossing)
    score = np.empty(idx.size)
    for j, k in enumerate(idx):
        left = slice(max(0, k + 1 - half), k + 1)
        right = slice(k + 1, min(t.size, k + 1 + half))
        wl, wr = 1.0 / var[left], 1.0 / var[right]
        ml = float(np.sum(wl * d[left]) / np.sum(wl))
        mr = float(np.sum(wr * d[right]) / np.sum(wr))
        jump = (mr - ml) / math.sqrt(1.0 / np.sum(wl) + 1.0 / np.sum(wr))
        score[j] = abs(jump) if direction == "any" else (jump if direction == "up" else -jump)
    k = int(idx[np.argmax(score)])
    i0 = max(0, k + 1 - half)
    i1 = min(t.size - 1, k + half)
    dk, dk1 = d[k], d[k + 1]
    linear = t[k] + (t[k + 1] - t[k]) * dk / (dk - dk1) if dk != dk1 else t[k]
    root = _root_in_window(t, d, 1.0 / var, i0, i1, degree, linear)
    return (linear if math.isnan(root) else root), i0, i1


def _check_degree_window(degree: int, window: int, direction: str = "any") -> None:
    if direction not in ("any", "down", "up"):
        raise InvalidInputError(f"direction must be 'any', 'down' or 'up', got {direction!r}")
    if degree not in (1, 2, 3):
        raise InvalidInputError(f"degree must be 1, 2 or 3, got {degree!r}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 2:
        raise InvalidInputError(f"window must be a whole number >= 2, got {window!r}")


def find_crossing(temperatures: Any, g_a: Any, g_b: Any, err_a: Any = None, err_b: Any = None,
                  *, degree: int = 1, window: int = 4,
                  search: tuple[float, float] | None = None, direction: str = "any") -> float:
    """Temperature where two curves g_a(T), g_b(T) on the same grid cross.

    The difference d = g_b − g_a is located between two grid points where it changes sign
    (if several, the most significant change: the largest jump between the weighted means of
    d over ``window // 2`` points on either side, in units of its error); then a weighted
    polynomial of ``degree`` is fitted to d over those ``window`` grid points and its root
    nearest the linear interpolation inside the bracket is returned.

    Args:
        temperatures: increasing grid, shape ``(K,)``.
        g_a, g_b: the two curves, shape ``(K,)``.
        err_a, err_b: their standard errors (weights 1/(err_a² + err_b²)); None: equal weights.
        degree: 1 (local straight line, default) to 3.
        window: grid points of the fit (≥ 2; 4 = two on each side of the bracket).
        search: optional ``(T_lo, T_hi)``: only brackets inside it are considered.
        direction: ``"down"``: only crossings where d decreases through zero with T (Binder
            curves with b the larger size: below T_c the larger system is more ordered);
            ``"up"``; ``"any"`` (default).

    Returns:
        The crossing temperature, NaN if d does not change sign on the grid.
    """
    _check_degree_window(degree, window, direction)
    t = np.asarray(temperatures, dtype=np.float64)
    a = np.asarray(g_a, dtype=np.float64)
    b = np.asarray(g_b, dtype=np.float64)
    if t.ndim != 1 or t.size < 2 or a.shape != t.shape or b.shape != t.shape:
        raise InvalidInputError(
            f"temperatures, g_a, g_b must be 1-D of equal length >= 2, got {t.shape}, "
            f"{a.shape}, {b.shape}"
        )
    if np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
        raise InvalidInputError("temperatures must be finite and strictly increasing")
    err = None
    if err_a is not None or err_b is not None:
        ea = np.zeros_like(t) if err_a is None else np.asarray(err_a, dtype=np.float64)
        eb = np.zeros_like(t) if err_b is None else np.asarray(err_b, dtype=np.float64)
        if ea.shape != t.shape or eb.shape != t.shape:
            raise InvalidInputError("errors must have the shape of the temperatures")
        err = np.sqrt(ea**2 + eb**2)
        if not np.all(np.isfinite(err)):
            err = None  # one-instance curves: no errors, fall back to equal weights
    return _locate(t, b - a, err, degree, window, search, direction)[0]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PTDiagnostics(Result):
    """Equilibration diagnostics of the parallel-tempering runs of one size.

    On the library's result contract (:class:`~replicasolve.results.Result`): ``converged``
    is True when every parallel-tempering run behind it (one per instance) is converged by
    the engines' own rule (:class:`~replicasolve.engines.convergence.PTRun`: run long against
    its autocorrelation times, exchanges above 2 %, every walker traversed the ladder) AND
    the disorder-level tests of :attr:`passed` hold. Diagnostics without recorded run
    verdicts (``runs == 0``, e.g. built by hand) are not converged: nothing says the runs were.

    Attributes:
        min_swap_acceptance: the smallest exchange acceptance of any neighbouring pair of
            temperatures in any instance (≳ 0.1 wanted).
        mean_round_trips: round trips lowest → highest → lowest T per walker, averaged over
            walkers and instances (≥ a few wanted: each walker then visited the high-T end
            where memory is lost).
        z_logbin: per temperature, ([⟨q²⟩]_late − [⟨q²⟩]_early) / error, with "early" the
            measurements in the window's second quarter and "late" its second half (paired
            over instances), shape ``(K,)``.
        z_identity: SK only: ([⟨H⟩]/N + (βC/2)(1 − [⟨q²⟩])) / error per temperature, which
            vanishes in equilibrium (module notes); NaN for layered couplings.
        n_sigma: the threshold of :attr:`passed`.
        runs: parallel-tempering runs (instances) behind the diagnostics (0: not recorded).
        runs_converged: how many of them are ``converged`` by the engines' rule.
        run_message: the first failed run's ``message`` (empty when all passed).
    """

    min_swap_acceptance: float
    mean_round_trips: float
    z_logbin: np.ndarray
    z_identity: np.ndarray
    n_sigma: float = 4.0
    runs: int = 0
    runs_converged: int = 0
    run_message: str = ""

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """Every PT run converged (engines' rule) and :attr:`passed` (class docstring)."""
        return bool(self.runs > 0 and self.runs_converged == self.runs and self.passed)

    @property
    def message(self) -> str:
        """Why the diagnostics are not converged (empty when they are)."""
        problems = []
        if self.runs == 0:
            problems.append("no run verdicts recorded")
        elif self.runs_converged < self.runs:
            problems.append(f"{self.runs - self.runs_converged} of {self.runs} PT runs not "
                            f"converged (first: {self.run_message})")
        if not self.passed:
            problems.append(f"equilibration tests failed (max|z| = {self.max_z:.3g}, "
                            f"n_sigma = {self.n_sigma:g}; min swap acceptance "
                            f"{self.min_swap_acceptance:.3g}, floor 0.02)")
        return "; ".join(problems)

    def to_dict(self) -> dict[str, Any]:
        """The fields (the z arrays are one number per temperature), ``max_z``, ``passed``,
        ``converged`` and ``message``."""
        d = super().to_dict()
        d["max_z"] = jsonable(self.max_z)
        d["passed"] = bool(self.passed)
        d["message"] = self.message
        return d

    @property
    def max_z(self) -> float:
        """Largest |z| of the two tests over the temperatures (NaNs ignored)."""
        zs = np.concatenate([np.abs(self.z_logbin), np.abs(self.z_identity)])
        zs = zs[np.isfinite(zs)]
        return float(zs.max()) if zs.size else math.nan

    @property
    def passed(self) -> bool:
        """All |z| below ``n_sigma`` and every exchange accepted at least 2% of the time."""
        mz = self.max_z
        return (math.isnan(mz) or mz < self.n_sigma) and self.min_swap_acceptance > 0.02

    def __str__(self) -> str:
        zi = np.abs(self.z_identity)
        zi_txt = f"{np.nanmax(zi):.2f}" if np.any(np.isfinite(zi)) else "n/a"
        zl = float(np.nanmax(np.abs(self.z_logbin)))
        return (f"min swap acc {self.min_swap_acceptance:.2f}, round trips/walker "
                f"{self.mean_round_trips:.1f}, max|z| log-bin {zl:.2f}"
                f", identity {zi_txt} -> {'ok' if self.passed else 'NOT EQUILIBRATED'}")


@dataclass(frozen=True, eq=False)
class BinderCurve(Result):
    """Disorder-averaged overlap moments and Binder cumulant of one size over a T grid.

    On the library's result contract: ``converged`` is its :attr:`diagnostics`'
    ``converged`` (every instance's PT run converged by the engines' rule, and the
    equilibration tests passed). :meth:`to_dict` is a summary (disorder averages per
    temperature, not the per-instance arrays); :meth:`to_xarray` has everything on the
    coordinates ``T`` and ``sample``.

    Attributes:
        size: N (SK) or the layer sizes ``N_0..N_L``.
        kind: ``"sk"`` or ``"layered"``.
        n_spins: N.
        variance: C.
        temperatures: the grid (= the parallel-tempering ladder), shape ``(K,)``.
        sample_q2, sample_q4: per-instance thermal ⟨q²⟩, ⟨q⁴⟩, shape ``(samples, K)``.
        sample_energy: per-instance ⟨H⟩/N, shape ``(samples, K)``.
        sample_q2_early, sample_q2_late: ⟨q²⟩ over the second quarter and the second half of
            the measurements (for the log-binning test), shape ``(samples, K)``.
        instance_seeds: the couplings' seeds (:func:`make_instance`), shape ``(samples,)``.
        tap_T_c: per-instance TAP T_c = 1/β_c (``definition="corrected"``), shape
            ``(samples,)``, NaN where not computed.
        T_c_theory: the N → ∞ replica T_c (SK: sqrt(C); layered: multilayer SK).
        diagnostics: :class:`PTDiagnostics`.
        settings: the Monte Carlo settings used.
        wall_time: seconds.
    """

    size: int | tuple[int, ...]
    kind: str
    n_spins: int
    variance: float
    temperatures: np.ndarray
    sample_q2: np.ndarray
    sample_q4: np.ndarray
    sample_energy: np.ndarray
    sample_q2_early: np.ndarray
    sample_q2_late: np.ndarray
    instance_seeds: np.ndarray
    tap_T_c: np.ndarray
    T_c_theory: float
    diagnostics: PTDiagnostics
    settings: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def samples(self) -> int:
        """Number of disorder instances."""
        return int(self.sample_q2.shape[0])

    @property
    def binder(self) -> np.ndarray:
        """g(T), shape ``(K,)``."""
        return disorder_binder(self.sample_q2, self.sample_q4)[0]

    @property
    def binder_err(self) -> np.ndarray:
        """Jackknife error of g(T) over instances, shape ``(K,)``."""
        return disorder_binder(self.sample_q2, self.sample_q4)[1]

    @property
    def q2(self) -> np.ndarray:
        """[⟨q²⟩](T), shape ``(K,)``."""
        return self.sample_q2.mean(axis=0)

    @property
    def q2_err(self) -> np.ndarray:
        """Standard error of [⟨q²⟩] over instances."""
        return _mean_sem(self.sample_q2)[1]

    @property
    def energy(self) -> np.ndarray:
        """[⟨H⟩]/N (T), shape ``(K,)``."""
        return self.sample_energy.mean(axis=0)

    @property
    def energy_err(self) -> np.ndarray:
        """Standard error of the energy over instances."""
        return _mean_sem(self.sample_energy)[1]

    @property
    def tap(self) -> Estimate:
        """Mean TAP T_c of the instances ± its standard error (NaN if not computed)."""
        x = self.tap_T_c[np.isfinite(self.tap_T_c)]
        if x.size == 0:
            return Estimate(math.nan, math.nan)
        err = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
        return Estimate(float(x.mean()), err)

    def label(self) -> str:
        """``"SK N=64"`` or ``"32+32 (N=64)"``."""
        if self.kind == "sk":
            return f"SK N={self.n_spins}"
        return "+".join(map(str, self.size)) + f" (N={self.n_spins})"  # type: ignore[arg-type]

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """The diagnostics' verdict (class docstring)."""
        return bool(self.diagnostics.converged)

    @property
    def message(self) -> str:
        """Why the curve is not converged (empty when it is)."""
        return self.diagnostics.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the disorder averages per temperature with their errors,
        the mean TAP T_c, the diagnostics, settings, ``converged`` and ``message`` (the
        per-instance arrays stay on the object and in :meth:`to_xarray`)."""
        return {
            "kind": type(self).__name__, "label": self.label(),
            "size": jsonable(self.size), "model": self.kind, "n_spins": int(self.n_spins),
            "variance": jsonable(self.variance), "samples": self.samples,
            "temperatures": jsonable(self.temperatures),
            "binder": jsonable(self.binder), "binder_error": jsonable(self.binder_err),
            "q2": jsonable(self.q2), "q2_error": jsonable(self.q2_err),
            "energy": jsonable(self.energy), "energy_error": jsonable(self.energy_err),
            "T_c_tap": jsonable(self.tap), "T_c_theory": jsonable(self.T_c_theory),
            "diagnostics": self.diagnostics.to_dict(), "settings": jsonable(self.settings),
            "wall_time": jsonable(self.wall_time), "converged": bool(self.converged),
            "message": self.message,
        }

    def table(self) -> str:
        """g(T), [⟨q²⟩](T) and the energy per temperature, the diagnostics, ``converged``."""
        lines = [f"BinderCurve {self.label()}, C = {self.variance:g}, {self.samples} instances",
                 f"{'T':>8} {'g':>9} {'± err':>8} {'[<q^2>]':>9} {'± err':>8} {'E/N':>9} "
                 f"{'± err':>8}"]
        g, ge = disorder_binder(self.sample_q2, self.sample_q4)
        for k, tk in enumerate(self.temperatures):
            lines.append(f"{tk:>8.4f} {g[k]:>9.4f} {ge[k]:>8.4f} {self.q2[k]:>9.4f} "
                         f"{self.q2_err[k]:>8.4f} {self.energy[k]:>9.4f} "
                         f"{self.energy_err[k]:>8.4f}")
        lines.append(f"diagnostics: {self.diagnostics}")
        if self.message:
            lines.append(f"message: {self.message}")
        lines.append(f"converged: {self.converged}")
        return "\n".join(lines)

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` on the coordinates ``T`` (the grid) and ``sample`` (the
        instances): g, [⟨q²⟩], the energy with their errors and the z tests over ``T``; the
        per-instance moments over ``(sample, T)``; the TAP T_c and seeds over ``sample``."""
        import xarray as xr

        g, ge = disorder_binder(self.sample_q2, self.sample_q4)
        ts, ss = ("T",), ("sample", "T")
        data = {
            "binder": (ts, g), "binder_error": (ts, ge), "q2": (ts, self.q2),
            "q2_error": (ts, self.q2_err), "energy": (ts, self.energy),
            "energy_error": (ts, self.energy_err),
            "z_logbin": (ts, np.asarray(self.diagnostics.z_logbin, dtype=np.float64)),
            "z_identity": (ts, np.asarray(self.diagnostics.z_identity, dtype=np.float64)),
            "sample_q2": (ss, self.sample_q2), "sample_q4": (ss, self.sample_q4),
            "sample_energy": (ss, self.sample_energy),
            "tap_T_c": (("sample",), self.tap_T_c),
            "instance_seeds": (("sample",), self.instance_seeds),
        }
        attrs = {"label": self.label(), "model": self.kind, "n_spins": int(self.n_spins),
                 "variance": float(self.variance), "T_c_theory": float(self.T_c_theory),
                 "converged": int(self.converged), "message": self.message}
        return xr.Dataset(data, coords={"T": np.asarray(self.temperatures, dtype=np.float64),
                                        "sample": np.arange(self.samples)}, attrs=attrs)


@dataclass(frozen=True)
class Crossing(Result):
    """Crossing of the Binder curves of two consecutive sizes.

    On the library's result contract: ``converged`` means the crossing was located — ``T``
    is finite and the bootstrap gave it a finite ``error`` (at least 10 replicates found a
    root in the fit window, the rule of :func:`binder_crossing`). Whether the runs behind it
    were equilibrated is the :class:`BinderCurve`'s verdict, collected by
    :class:`BinderCrossing`.

    Attributes:
        n_spins: (N_a, N_b), N_a < N_b.
        T: crossing temperature (NaN when the curves do not cross on the grid).
        error: half-width of the central 68% bootstrap interval over disorder instances
            (resampled independently for each size).
        bootstrap_found: fraction of the bootstrap replicates with a crossing in the fit
            window (a low fraction means the crossing is not resolved).
        window: (T_lo, T_hi) of the grid points used in the fit.
    """

    n_spins: tuple[int, int]
    T: float
    error: float
    bootstrap_found: float
    window: tuple[float, float]

    @property
    def estimate(self) -> Estimate:
        """``Estimate(T, error)``."""
        return Estimate(self.T, self.error)

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """A crossing located with a bootstrap error (class docstring)."""
        return bool(math.isfinite(self.T) and math.isfinite(self.error))

    @property
    def message(self) -> str:
        """Why the crossing is not converged (empty when it is)."""
        if not math.isfinite(self.T):
            return f"no crossing of N = {self.n_spins[0]} and {self.n_spins[1]} on the grid"
        if not math.isfinite(self.error):
            return (f"crossing not resolved by the bootstrap (found in "
                    f"{self.bootstrap_found:.0%} of the replicates)")
        return ""

    def to_dict(self) -> dict[str, Any]:
        """The fields, ``converged`` and ``message``."""
        d = super().to_dict()
        d["message"] = self.message
        return d


@dataclass(frozen=True, eq=False)
class BinderCrossing(Result):
    """Result of :func:`binder_crossing`: T_c from Monte Carlo vs replica theory vs TAP.

    On the library's result contract: ``converged`` when every size's curve is converged
    (every PT run behind it converged by the engines' rule and its equilibration tests
    passed, :class:`BinderCurve`) and every crossing of consecutive sizes was located
    (:class:`Crossing`). :meth:`to_dict` summarises the curves through their own
    ``to_dict``; :meth:`to_xarray` stacks them on the coordinates ``N`` and ``T``.

    Attributes:
        curves: one :class:`BinderCurve` per size, increasing N.
        crossings: the crossings of consecutive sizes (len(curves) − 1 of them).
        T_c_theory: replica T_c at N → ∞ (SK: sqrt(C); layered: multilayer SK,
            :func:`~replicasolve.models.msk.msk_critical` of the largest size's proportions).
        theory: what ``T_c_theory`` is, in words.
        variance: C.
        settings: degree, window and bootstrap settings of the crossing fits.
        wall_time: seconds, all sizes.
    """

    curves: tuple[BinderCurve, ...]
    crossings: tuple[Crossing, ...]
    T_c_theory: float
    theory: str
    variance: float
    settings: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def T_c_mc(self) -> Estimate:
        """The crossing of the two largest sizes (the Monte Carlo T_c estimate)."""
        return self.crossings[-1].estimate

    @property
    def T_c_tap(self) -> Estimate:
        """Mean TAP T_c of the largest size's instances."""
        return self.curves[-1].tap

    @property
    def equilibrated(self) -> bool:
        """Every size passed its equilibration diagnostics."""
        return all(c.diagnostics.passed for c in self.curves)

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """Every curve converged and every crossing located (class docstring)."""
        return bool(all(c.converged for c in self.curves)
                    and all(x.converged for x in self.crossings))

    @property
    def message(self) -> str:
        """Why the result is not converged (empty when it is)."""
        parts = [f"{c.label()}: {c.message}" for c in self.curves if not c.converged]
        parts += [x.message for x in self.crossings if not x.converged]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the T_c's, the crossings, each curve's own summary,
        settings, ``converged`` and ``message``."""
        return {
            "kind": type(self).__name__, "theory": self.theory,
            "variance": jsonable(self.variance), "T_c_theory": jsonable(self.T_c_theory),
            "T_c_mc": jsonable(self.T_c_mc), "T_c_tap": jsonable(self.T_c_tap),
            "equilibrated": bool(self.equilibrated),
            "crossings": [x.to_dict() for x in self.crossings],
            "curves": [c.to_dict() for c in self.curves],
            "settings": jsonable(self.settings), "wall_time": jsonable(self.wall_time),
            "converged": bool(self.converged), "message": self.message,
        }

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` on the coordinates ``N`` (the sizes) and ``T`` (the shared
        grid): g, [⟨q²⟩] and the energy with their errors over ``(N, T)``, each size's
        ``converged`` and the crossing of each size with the next (NaN for the largest)
        over ``N``."""
        import xarray as xr

        n = np.array([c.n_spins for c in self.curves])
        dims = ("N", "T")

        def stack(name: str) -> tuple[tuple[str, str], np.ndarray]:
            return dims, np.stack([np.asarray(getattr(c, name), dtype=np.float64)
                                   for c in self.curves])

        cross = np.full(n.size, np.nan)
        cross_err = np.full(n.size, np.nan)
        for i, x in enumerate(self.crossings):
            cross[i], cross_err[i] = x.T, x.error
        data = {"binder": stack("binder"), "binder_error": stack("binder_err"),
                "q2": stack("q2"), "q2_error": stack("q2_err"), "energy": stack("energy"),
                "energy_error": stack("energy_err"),
                "curve_converged": (("N",), np.array([c.converged for c in self.curves])),
                "T_cross_next": (("N",), cross), "T_cross_next_error": (("N",), cross_err)}
        attrs = {"theory": self.theory, "T_c_theory": float(self.T_c_theory),
                 "variance": float(self.variance), "converged": int(self.converged),
                 "message": self.message}
        return xr.Dataset(data, coords={"N": n, "T": np.asarray(self.curves[0].temperatures,
                                                                 dtype=np.float64)},
                          attrs=attrs)

    def table(self) -> str:
        """Text tables: g(T) per size, the crossings, the comparison of the T_c's, and
        ``converged``."""
        t = self.curves[0].temperatures
        head = f"{'T':>7} " + " ".join(f"{c.label():>22}" for c in self.curves)
        lines = [f"Binder g(T) = (3 - [<q^4>]/[<q^2>]^2)/2, C = {self.variance:g}", head]
        for k, tk in enumerate(t):
            row = " ".join(f"{c.binder[k]:>13.4f} ± {c.binder_err[k]:<6.4f}" for c in self.curves)
            lines.append(f"{tk:>7.4f} {row}")
        lines.append("")
        lines.append(f"{'sizes':>14} {'T_cross':>9} {'± err':>7} {'boot ok':>8}  "
                     f"{'T_c theory':>10} {'TAP <T_c> (N_b)':>18}")
        for c, cur in zip(self.crossings, self.curves[1:], strict=True):
            tap = cur.tap
            lines.append(f"{c.n_spins[0]:>6} x {c.n_spins[1]:<5} {c.T:>9.4f} {c.error:>7.4f} "
                         f"{c.bootstrap_found:>8.2f}  {self.T_c_theory:>10.4f} "
                         f"{tap.value:>10.4f} ± {tap.error:.4f}")
        lines.append("")
        for c in self.curves:
            lines.append(f"  {c.label():>20}: {c.samples} instances, {c.diagnostics}")
        if self.message:
            lines.append(f"message: {self.message}")
        lines.append(f"converged: {self.converged}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- (1) Binder


def _variance(value: Any) -> float:
    try:
        c = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"variance must be a number, got {value!r}") from None
    if not math.isfinite(c) or c <= 0:
        raise InvalidInputError(f"variance must be positive and finite, got {value!r}")
    return c


def thermal_moments(run: PTResult | MCResult) -> dict[str, np.ndarray]:
    """Thermal moments of one instance from a parallel-tempering (or single-T) run.

    The overlaps of all replica pairs and all measurements are averaged; the mean over pairs
    of independent replicas is an unbiased estimate of ⟨q^k⟩ for any number R ≥ 2 of them.

    Args:
        run: a :class:`~replicasolve.engines.ising.PTResult` or an
            :class:`~replicasolve.engines.ising.MCResult` (one temperature), with overlaps.

    Returns:
        Arrays of shape ``(K,)`` (K temperatures, 1 for an MCResult): ``"q2"`` ⟨q²⟩,
        ``"q4"`` ⟨q⁴⟩, ``"energy"`` ⟨H⟩/N, and ``"q2_early"`` / ``"q2_late"``, ⟨q²⟩ over the
        second quarter and over the second half of the measurements (log-binning test).
    """
    results = [run] if isinstance(run, MCResult) else list(run.results)
    keys = ("q2", "q4", "energy", "q2_early", "q2_late")
    out = {k: np.empty(len(results)) for k in keys}
    for k, r in enumerate(results):
        q = r.overlaps
        if q.shape[1] == 0:
            raise InvalidInputError("the run has no overlaps (needs >= 2 replicas)")
        q2 = q * q
        m = q2.shape[0]
        out["q2"][k] = q2.mean()
        out["q4"][k] = (q2 * q2).mean()
        out["energy"][k] = r.energies.mean()
        # with fewer than 4 measurements the quarter is empty: fall back to the first half
        out["q2_early"][k] = q2[m // 4 : max(m // 2, 1)].mean()
        out["q2_late"][k] = q2[m // 2 :].mean()
    return out


def _z(diff: np.ndarray) -> np.ndarray:
    """Mean/sem over axis 0 of paired per-instance differences (0 where both vanish)."""
    m, s = _mean_sem(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, m / s, np.where(m == 0, 0.0, np.inf))
    return z


def binder_curve(size: SizeSpec, temperatures: Sequence[float] | np.ndarray, *,
                 variance: float = 2.0, samples: int = 16, sweeps: int = 2000,
                 burn_in: int | None = None, replicas_per_T: int = 2, swap_every: int = 1,
                 method: str = "metropolis", seed: int = 0, tap: bool = True,
                 n_sigma: float = 4.0) -> BinderCurve:
    """Disorder-averaged ⟨q²⟩, ⟨q⁴⟩, g and energy of one size, by parallel tempering.

    Each of ``samples`` instances (:func:`make_instance`, seeds keyed by (kind, N, sample))
    runs :func:`~replicasolve.engines.ising.parallel_tempering` over ``temperatures`` with
    ``replicas_per_T`` independent copies; the overlaps of the copies give the thermal
    moments. More copies reduce the thermal noise of one instance, more instances the
    disorder noise, which dominates near T_c: two copies and many instances is the cheapest
    (Katzgraber et al. 2006 use two).

    Args:
        size: N (SK, J ~ N(0, C/N)) or layer sizes ``N_0..N_L`` (W ~ N(0, C/N_{l-1})).
        temperatures: increasing ladder, shape ``(K,)``, in units of J; it is both the
            exchange ladder and the grid of g(T), so space it for exchanges (acceptance ≳ 0.2).
        variance: C.
        samples: disorder instances.
        sweeps: measured sweeps per instance (after ``burn_in``; default burn_in = sweeps).
        replicas_per_T: independent PT copies (≥ 2).
        swap_every, method: passed to the engine.
        seed: root seed (non-negative int).
        tap: also compute each instance's TAP T_c = 1/β_c (``definition="corrected"``).
        n_sigma: threshold of the equilibration tests.

    Returns:
        :class:`BinderCurve`.

    Raises:
        InvalidInputError: bad size, ladder, counts, variance or seed.
    """
    t0 = time.perf_counter()
    kind, sizes = _size_spec(size)
    temps = ladder(temperatures)
    c = _variance(variance)
    samples = whole_number(samples, "samples", 1)
    sweeps = whole_number(sweeps, "sweeps", 4)  # the log-binning quarter needs >= 1 measurement
    burn_in = sweeps if burn_in is None else whole_number(burn_in, "burn_in", 0)
    r = whole_number(replicas_per_T, "replicas_per_T", 2)
    n = int(sum(sizes))
    tag = _SK_TAG if kind == "sk" else _LAYERED_TAG
    nt = temps.size
    keys = ("q2", "q4", "energy", "q2_early", "q2_late")
    data = {k: np.empty((samples, nt)) for k in keys}
    seeds = np.empty(samples, dtype=np.uint64)
    tap_tc = np.full(samples, np.nan)
    min_acc, trips = math.inf, []
    runs_ok, run_message = 0, ""
    spec = sizes[0] if kind == "sk" else sizes
    for s in range(samples):
        bond_seed, mc_ss = _seeds(seed, tag, n, s)
        seeds[s] = bond_seed
        bonds = make_instance(spec, c, bond_seed)
        system = IsingSystem.dense(bonds) if kind == "sk" else IsingSystem.layered(bonds)
        res = parallel_tempering(system, temps, replicas_per_T=r, sweeps=sweeps,
                                 burn_in=burn_in, swap_every=swap_every, method=method,
                                 seed=mc_ss)
        mom = thermal_moments(res)
        for k in keys:
            data[k][s] = mom[k]
        if res.converged:
            runs_ok += 1
        elif not run_message:
            run_message = f"instance {s}: {res.message}"
        min_acc = min(min_acc, float(np.nanmin(res.swap_acceptance)))
        trips.append(res.round_trips / res.round_trips_per_walker.size)
        if tap:
            from ..tap.critical import tap_critical  # lazy: the TAP stack is only needed here

            try:
                tap_tc[s] = tap_critical(bonds).T_c
            except ConvergenceError:
                pass  # left NaN: BinderCurve.tap averages the instances that converged
    z_log = _z(data["q2_late"] - data["q2_early"])
    if kind == "sk":
        # [<H>]/N + (βC/2)(1 - [<q²>]) = 0 exactly for Gaussian couplings (module notes)
        z_id = _z(data["energy"] + 0.5 * c / temps * (1.0 - data["q2"]))
    else:
        z_id = np.full(nt, np.nan)
    diag = PTDiagnostics(min_swap_acceptance=min_acc, mean_round_trips=float(np.mean(trips)),
                         z_logbin=z_log, z_identity=z_id, n_sigma=float(n_sigma),
                         runs=samples, runs_converged=runs_ok, run_message=run_message)
    settings = dict(samples=samples, sweeps=sweeps, burn_in=burn_in, replicas_per_T=r,
                    swap_every=swap_every, method=method, seed=seed, tap_definition="corrected")
    return BinderCurve(
        size=spec, kind=kind, n_spins=n, variance=c, temperatures=temps,
        sample_q2=data["q2"], sample_q4=data["q4"], sample_energy=data["energy"],
        sample_q2_early=data["q2_early"], sample_q2_late=data["q2_late"],
        instance_seeds=seeds, tap_T_c=tap_tc, T_c_theory=_theory_tc(kind, sizes, c),
        diagnostics=diag, settings=settings, wall_time=time.perf_counter() - t0,
    )


def _crossing_of(a: BinderCurve, b: BinderCurve, *, degree: int, window: int,
                 search: tuple[float, float] | None, direction: str, n_boot: int,
                 rng: np.random.Generator) -> Crossing:
    t = a.temperatures
    ga, ea = disorder_binder(a.sample_q2, a.sample_q4)
    gb, eb = disorder_binder(b.sample_q2, b.sample_q4)
    err = np.sqrt(ea**2 + eb**2)
    if not np.all(np.isfinite(err)):
        err = None
    d = gb - ga
    tc, i0, i1 = _locate(t, d, err, degree, window, search, direction)
    pair = (a.n_spins, b.n_spins)
    if math.isnan(tc):
        return Crossing(pair, math.nan, math.nan, 0.0, (math.nan, math.nan))
    # bootstrap over instances, each size resampled on its own (they are independent); the
    # fit window stays where the full data put it, so a replicate measures the same crossing
    w = np.ones_like(d) if err is None else 1.0 / np.maximum(err, 1e-12) ** 2
    found = []
    for _ in range(n_boot):
        ia = rng.integers(0, a.samples, a.samples)
        ib = rng.integers(0, b.samples, b.samples)
        ga_b = 0.5 * (3.0 - a.sample_q4[ia].mean(0) / a.sample_q2[ia].mean(0) ** 2)
        gb_b = 0.5 * (3.0 - b.sample_q4[ib].mean(0) / b.sample_q2[ib].mean(0) ** 2)
        root = _root_in_window(t, gb_b - ga_b, w, i0, i1, degree, tc)
        if math.isfinite(root):
            found.append(root)
    if len(found) >= 10:
        lo, hi = np.percentile(found, [15.865, 84.135])
        error = 0.5 * float(hi - lo)
    else:
        error = math.nan
    return Crossing(pair, float(tc), error, len(found) / max(n_boot, 1),
                    (float(t[i0]), float(t[i1])))


def binder_crossing(sizes_family: Sequence[SizeSpec], temperatures: Sequence[float] | np.ndarray,
                    *, variance: float = 2.0, samples: int | Sequence[int] = 16,
                    sweeps: int | Sequence[int] = 2000, burn_in: int | None = None,
                    replicas_per_T: int = 2, seed: int = 0, tap: bool = True,
                    degree: int = 1, window: int = 4,
                    search: tuple[float, float] | None = None, direction: str = "down",
                    n_boot: int = 400,
                    method: str = "metropolis", progress: Any = None) -> BinderCrossing:
    """T_c of a family of random instances from the crossings of their Binder cumulants.

    Args:
        sizes_family: increasing sizes, all of one kind: ints N (SK) or layer-size tuples
            (layered networks, e.g. ``[(32, 32), (64, 64), (128, 128)]``: the proportions
            should be the same for every size so that they share one T_c).
        temperatures: the increasing temperature grid and PT ladder, shape ``(K,)``, in units
            of J; it should bracket the expected T_c with a few points on each side.
        variance: C (couplings of variance C/N, resp. C/N_{l-1}); SK's T_c is sqrt(C).
        samples: disorder instances, one number or one per size.
        sweeps: measured sweeps per instance, one number or one per size (larger N needs
            more); ``burn_in`` defaults to ``sweeps``.
        replicas_per_T: independent PT copies per instance (≥ 2).
        seed: root seed.
        tap: also compute the TAP T_c of every instance.
        degree, window, search: the crossing fit (:func:`find_crossing`).
        direction: which sign changes of g_larger − g_smaller count (:func:`find_crossing`);
            default ``"down"``: the larger size is the more ordered one below T_c.
        n_boot: bootstrap replicates of each crossing's error.
        method: ``"metropolis"`` or ``"heatbath"``.
        progress: optional callable receiving each finished :class:`BinderCurve`.

    Returns:
        :class:`BinderCrossing` (g(T) per size with jackknife errors, crossings of
        consecutive sizes with bootstrap errors, replica and TAP T_c, equilibration).

    Raises:
        InvalidInputError: fewer than two sizes, mixed kinds, sizes not increasing, layered
            sizes of different proportions, and the errors of :func:`binder_curve`.

    References: Binder, Z. Phys. B 43, 119 (1981); Katzgraber, Körner & Young, PRB 73,
    224432 (2006).
    """
    t0 = time.perf_counter()
    if isinstance(sizes_family, (str, bytes)) or not isinstance(sizes_family, Sequence):
        raise InvalidInputError("sizes_family must be a list of sizes")
    specs = [_size_spec(s) for s in sizes_family]
    if len(specs) < 2:
        raise InvalidInputError(f"need at least two sizes to cross, got {len(specs)}")
    kinds = {k for k, _ in specs}
    if len(kinds) != 1:
        raise InvalidInputError("sizes_family mixes SK sizes (ints) and layered sizes (tuples)")
    kind = kinds.pop()
    ns = [sum(sz) for _, sz in specs]
    if any(b <= a for a, b in itertools.pairwise(ns)):
        raise InvalidInputError(f"sizes must increase strictly in N, got N = {ns}")
    c = _variance(variance)
    if kind == "layered":
        shapes = {len(sz) for _, sz in specs}
        fr = [np.asarray(sz, float) / sum(sz) for _, sz in specs]
        if len(shapes) != 1 or any(np.max(np.abs(f - fr[-1])) > 0.05 for f in fr):
            raise InvalidInputError(
                "layered sizes must share one depth and (within 5%) one set of proportions"
            )
    _check_degree_window(degree, window, direction)
    n_boot = whole_number(n_boot, "n_boot", 0)

    def per_size(value: Any, name: str) -> list[Any]:
        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) != len(specs):
                raise InvalidInputError(f"{name}: need one value per size ({len(specs)})")
            return list(value)
        return [value] * len(specs)

    n_samples = per_size(samples, "samples")
    n_sweeps = per_size(sweeps, "sweeps")
    curves = []
    for (k, sz), ns_, sw in zip(specs, n_samples, n_sweeps, strict=True):
        cur = binder_curve(sz[0] if k == "sk" else sz, temperatures, variance=c, samples=ns_,
                           sweeps=sw, burn_in=burn_in, replicas_per_T=replicas_per_T,
                           method=method, seed=seed, tap=tap)
        curves.append(cur)
        if progress is not None:
            progress(cur)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(99,)))
    crossings = tuple(
        _crossing_of(a, b, degree=degree, window=window, search=search, direction=direction,
                     n_boot=n_boot, rng=rng)
        for a, b in itertools.pairwise(curves)
    )
    theory = ("SK: T_c = sqrt(C)" if kind == "sk"
              else f"multilayer SK (msk_critical) of sizes {specs[-1][1]}")
    return BinderCrossing(
        curves=tuple(curves), crossings=crossings, T_c_theory=curves[-1].T_c_theory,
        theory=theory, variance=c,
        settings=dict(degree=degree, window=window, search=search, direction=direction,
                      n_boot=n_boot,
                      convention="g = (3 - [<q^4>]/[<q^2>]^2)/2, moments disorder-averaged"),
        wall_time=time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------- (2) energy


@dataclass(frozen=True)
class EnergyFit(Result):
    """Weighted least-squares fit e_N = e_∞ + a N^(−ω).

    On the library's result contract: ``converged`` when the fit produced finite
    parameters and finite error bars (e_∞, a, ω and the errors of e_∞ and a). The fit's own
    criterion for a poor χ² is not a rejection but the error scaling of ``scaled`` (the
    errors are inflated by sqrt(χ²/dof) when χ²/dof > 1, so they stay honest); no further
    χ² threshold is imposed here.

    Attributes:
        e_inf, e_inf_err: the N → ∞ energy per spin and its standard error.
        amplitude, amplitude_err: a and its error.
        exponent: ω (given or fitted); exponent_err: its error (NaN when ω was fixed).
        chi2: χ² of the fit; dof: degrees of freedom.
        scaled: whether the errors were multiplied by sqrt(χ²/dof) (done when χ²/dof > 1,
            so that a poor fit does not claim its nominal precision).
    """

    e_inf: float
    e_inf_err: float
    amplitude: float
    amplitude_err: float
    exponent: float
    exponent_err: float
    chi2: float
    dof: int
    scaled: bool

    @property
    def estimate(self) -> Estimate:
        """``Estimate(e_inf, e_inf_err)``."""
        return Estimate(self.e_inf, self.e_inf_err)

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """Finite parameters and error bars (class docstring)."""
        vals = (self.e_inf, self.e_inf_err, self.amplitude, self.amplitude_err, self.exponent)
        return bool(all(math.isfinite(v) for v in vals))

    @property
    def errors(self) -> dict[str, float]:
        """The error bars (``e_inf_err``, ``amplitude_err``, ``exponent_err`` when ω was
        fitted), finite ones."""
        out = {}
        for name in ("e_inf_err", "amplitude_err", "exponent_err"):
            v = getattr(self, name)
            if math.isfinite(v):
                out[name] = float(v)
        return out


def fit_energy_trend(sizes: Any, energies: Any, errors: Any, *,
                     exponent: float | None = 2.0 / 3.0) -> EnergyFit:
    """Fit e_N = e_∞ + a N^(−ω) to energies per spin with standard errors.

    Args:
        sizes: N, shape ``(S,)``, S ≥ 2 (≥ 3 to have a χ², ≥ 4 when ω is fitted).
        energies: e_N, shape ``(S,)``.
        errors: their standard errors (> 0), shape ``(S,)``.
        exponent: ω (default 2/3, the SK ground-state exponent; see the module notes), or
            None to fit it too (non-linear least squares, started from the ω = 2/3 fit).

    Returns:
        :class:`EnergyFit`.
    """
    n = np.asarray(sizes, dtype=np.float64)
    e = np.asarray(energies, dtype=np.float64)
    s = np.asarray(errors, dtype=np.float64)
    if n.ndim != 1 or e.shape != n.shape or s.shape != n.shape:
        raise InvalidInputError("sizes, energies and errors must be 1-D of one length")
    need = 2 if exponent is not None else 4
    if n.size < need:
        raise InvalidInputError(f"need at least {need} sizes for this fit, got {n.size}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(e)) and np.all(np.isfinite(s))):
        raise InvalidInputError("sizes, energies and errors must be finite")
    if np.any(n <= 0) or np.any(s <= 0):
        raise InvalidInputError("sizes and errors must be positive")
    if exponent is not None:
        om = float(exponent)
        if not math.isfinite(om) or om <= 0:
            raise InvalidInputError(f"exponent must be positive, got {exponent!r}")
        a = np.stack([np.ones_like(n), n**-om], axis=1) / s[:, None]
        coef, *_ = np.linalg.lstsq(a, e / s, rcond=None)
        cov = np.linalg.inv(a.T @ a)
        chi2 = float(np.sum((a @ coef - e / s) ** 2))
        dof = n.size - 2
        scaled = dof > 0 and chi2 / dof > 1.0
        if scaled:
            cov = cov * chi2 / dof
        return EnergyFit(float(coef[0]), float(math.sqrt(cov[0, 0])), float(coef[1]),
                         float(math.sqrt(cov[1, 1])), om, math.nan, chi2, dof, bool(scaled))
    from scipy.optimize import curve_fit

    start = fit_energy_trend(n, e, s, exponent=2.0 / 3.0)

    def model(x: np.ndarray, e0: float, amp: float, om: float) -> np.ndarray:
        return e0 + amp * x**-om

    try:
        p, cov = curve_fit(model, n, e, p0=[start.e_inf, start.amplitude, 2.0 / 3.0], sigma=s,
                           absolute_sigma=True, bounds=([-np.inf, -np.inf, 0.05], [np.inf] * 3),
                           maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        raise InvalidInputError(f"the free-exponent fit failed: {exc}") from None
    chi2 = float(np.sum(((model(n, *p) - e) / s) ** 2))
    dof = n.size - 3
    scaled = dof > 0 and chi2 / dof > 1.0
    if scaled:
        cov = cov * chi2 / dof
    err = np.sqrt(np.diag(cov))
    return EnergyFit(float(p[0]), float(err[0]), float(p[1]), float(err[1]), float(p[2]),
                     float(err[2]), chi2, dof, bool(scaled))


@dataclass(frozen=True, eq=False)
class EnergyTrend(Result):
    """Result of :func:`sk_energy_trend`: SK's MC energy per spin vs N, and the theory.

    On the library's result contract: ``converged`` when every parallel-tempering run behind
    it (one per instance and size) is converged by the engines' rule
    (:class:`~replicasolve.engines.convergence.PTRun`), the equilibration tests of
    :attr:`equilibrated` pass, and the main fit is acceptable by its own criterion
    (:class:`EnergyFit`: finite values and error bars, errors scaled when χ²/dof > 1). A
    trend without recorded run verdicts (``runs_converged`` empty, built by hand) is not
    converged. :meth:`to_dict` is a summary (no per-instance arrays); :meth:`to_xarray` is
    on the coordinate ``N``.

    Attributes:
        T: temperature.
        sizes: N per size, shape ``(S,)``.
        sample_energy: per size, the instances' ⟨H⟩/N at T (tuple of arrays).
        sample_q2: per size, the instances' ⟨q²⟩ at T.
        energy, energy_err: [⟨H⟩]/N per size and its standard error over instances.
        z_identity: per size, ([⟨H⟩]/N + (β/2)(1 − [⟨q²⟩]))/error (0 in equilibrium).
        z_logbin: per size, (e_late − e_early)/error of the log-binning test.
        min_swap_acceptance: per size, the smallest exchange acceptance.
        ladders: per size, the PT ladder used.
        fit: the fit with ω = ``exponent`` (2/3 by default).
        fit_free: the fit with ω free (None with fewer than four sizes or if it failed).
        parisi_energy, parisi_error: full-RSB energy per spin at T (k → ∞ extrapolated in the
            k-step energies) and the extrapolation error; NaN when not computed.
        rs_energy: the replica-symmetric energy at T (NaN when not computed).
        settings: Monte Carlo settings; wall_time: seconds.
        runs_converged: per size, how many of its PT runs are ``converged`` by the engines'
            rule (empty: not recorded).
        run_message: the first failed run's ``message`` (empty when all passed).
    """

    T: float
    sizes: np.ndarray
    sample_energy: tuple[np.ndarray, ...]
    sample_q2: tuple[np.ndarray, ...]
    energy: np.ndarray
    energy_err: np.ndarray
    z_identity: np.ndarray
    z_logbin: np.ndarray
    min_swap_acceptance: np.ndarray
    ladders: tuple[np.ndarray, ...]
    fit: EnergyFit
    fit_free: EnergyFit | None
    parisi_energy: float
    parisi_error: float
    rs_energy: float
    settings: dict[str, Any] = field(default_factory=dict)
    wall_time: float = 0.0
    runs_converged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    run_message: str = ""

    def _z(self, ref: float, ref_err: float = 0.0) -> float:
        err = math.hypot(self.fit.e_inf_err, ref_err if math.isfinite(ref_err) else 0.0)
        return (self.fit.e_inf - ref) / err if err > 0 else math.nan

    @property
    def z_parisi(self) -> float:
        """(e_∞ − e_Parisi) / combined error."""
        return self._z(self.parisi_energy, self.parisi_error)

    @property
    def z_rs(self) -> float:
        """(e_∞ − e_RS) / error of e_∞."""
        return self._z(self.rs_energy)

    @property
    def equilibrated(self) -> bool:
        """All identity and log-binning |z| < 4 and exchanges accepted > 2%."""
        zs = np.abs(np.concatenate([self.z_identity, self.z_logbin]))
        return bool(np.all(zs[np.isfinite(zs)] < 4.0) and np.all(self.min_swap_acceptance > 0.02))

    @property
    def samples(self) -> np.ndarray:
        """Instances per size, shape ``(S,)``."""
        return np.array([e.size for e in self.sample_energy], dtype=np.int64)

    @property
    def converged(self) -> bool:  # type: ignore[override]
        """PT runs converged, equilibration tests passed, fit acceptable (class docstring)."""
        return not self.message

    @property
    def message(self) -> str:
        """Why the trend is not converged (empty when it is)."""
        problems = []
        rc = np.asarray(self.runs_converged)
        if rc.shape != self.samples.shape:
            problems.append("no run verdicts recorded")
        elif np.any(rc < self.samples):
            bad = int(np.sum(self.samples - rc))
            problems.append(f"{bad} of {int(self.samples.sum())} PT runs not converged "
                            f"(first: {self.run_message})")
        if not self.equilibrated:
            problems.append("equilibration tests failed (|z| >= 4 or a swap acceptance "
                            "<= 0.02)")
        if not self.fit.converged:
            problems.append("the energy fit has non-finite values or errors")
        return "; ".join(problems)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: per size the energy, its error, the diagnostics and the
        ladder length; the fits through their own ``to_dict``; the replica energies and
        their z-scores; settings, ``converged`` and ``message`` (no per-instance arrays)."""
        return {
            "kind": type(self).__name__, "T": jsonable(self.T), "sizes": jsonable(self.sizes),
            "samples": jsonable(self.samples), "energy": jsonable(self.energy),
            "energy_error": jsonable(self.energy_err), "z_identity": jsonable(self.z_identity),
            "z_logbin": jsonable(self.z_logbin),
            "min_swap_acceptance": jsonable(self.min_swap_acceptance),
            "ladder_sizes": [int(ld.size) for ld in self.ladders],
            "runs_converged": jsonable(self.runs_converged),
            "fit": self.fit.to_dict(),
            "fit_free": None if self.fit_free is None else self.fit_free.to_dict(),
            "parisi_energy": jsonable(self.parisi_energy),
            "parisi_error": jsonable(self.parisi_error), "rs_energy": jsonable(self.rs_energy),
            "z_parisi": jsonable(self.z_parisi), "z_rs": jsonable(self.z_rs),
            "equilibrated": bool(self.equilibrated), "settings": jsonable(self.settings),
            "wall_time": jsonable(self.wall_time), "converged": bool(self.converged),
            "message": self.message,
        }

    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` on the coordinate ``N`` (the sizes): the energy, its
        error, the diagnostics, instances and converged runs per size; the fit and the
        replica energies as attributes."""
        import xarray as xr

        rc = np.asarray(self.runs_converged)
        if rc.shape != self.samples.shape:
            rc = np.full(self.samples.shape, -1, dtype=np.int64)  # not recorded
        data = {"energy": (("N",), self.energy), "energy_error": (("N",), self.energy_err),
                "z_identity": (("N",), self.z_identity), "z_logbin": (("N",), self.z_logbin),
                "min_swap_acceptance": (("N",), self.min_swap_acceptance),
                "samples": (("N",), self.samples), "runs_converged": (("N",), rc)}
        attrs = {"T": float(self.T), "e_inf": float(self.fit.e_inf),
                 "e_inf_error": float(self.fit.e_inf_err), "exponent": float(self.fit.exponent),
                 "parisi_energy": float(self.parisi_energy), "rs_energy": float(self.rs_energy),
                 "converged": int(self.converged), "message": self.message}
        return xr.Dataset(data, coords={"N": np.asarray(self.sizes)}, attrs=attrs)

    def table(self) -> str:
        """Text table: e_N vs N, the extrapolations, and the replica values."""
        lines = [f"SK energy per spin at T = {self.T:g} (J_ij ~ N(0, 1/N), xi = q^2/2)",
                 f"{'N':>6} {'inst':>5} {'K':>3} {'E_N':>10} {'± err':>8} {'z_ident':>8} "
                 f"{'z_logbin':>8} {'min acc':>8}"]
        for i, n in enumerate(self.sizes):
            lines.append(f"{int(n):>6} {self.sample_energy[i].size:>5} {self.ladders[i].size:>3} "
                         f"{self.energy[i]:>10.5f} {self.energy_err[i]:>8.5f} "
                         f"{self.z_identity[i]:>8.2f} {self.z_logbin[i]:>8.2f} "
                         f"{self.min_swap_acceptance[i]:>8.2f}")
        f = self.fit
        lines.append(f"fit E_N = e_inf + a N^-{f.exponent:.4g}: e_inf = {f.e_inf:.5f} ± "
                     f"{f.e_inf_err:.5f}, a = {f.amplitude:.4f} ± {f.amplitude_err:.4f}, "
                     f"chi2/dof = {f.chi2:.2f}/{f.dof}" + (" (errors scaled)" if f.scaled else ""))
        if self.fit_free is not None:
            g = self.fit_free
            lines.append(f"free exponent: e_inf = {g.e_inf:.5f} ± {g.e_inf_err:.5f}, omega = "
                         f"{g.exponent:.3f} ± {g.exponent_err:.3f}, "
                         f"chi2/dof = {g.chi2:.2f}/{g.dof}")
        if math.isfinite(self.parisi_energy):
            lines.append(f"Parisi (full RSB) e = {self.parisi_energy:.6f} ± "
                         f"{self.parisi_error:.1e}: e_inf - e_Parisi = "
                         f"{f.e_inf - self.parisi_energy:+.5f} ({self.z_parisi:+.2f} sigma)")
        if math.isfinite(self.rs_energy):
            lines.append(f"replica symmetric e = {self.rs_energy:.6f}: e_inf - e_RS = "
                         f"{f.e_inf - self.rs_energy:+.5f} ({self.z_rs:+.2f} sigma)")
        if self.message:
            lines.append(f"message: {self.message}")
        lines.append(f"converged: {self.converged}")
        return "\n".join(lines)


def _default_ladder(n: int, t_low: float, t_high: float) -> np.ndarray:
    # exchange acceptance stays ~0.3 when Δln T ~ 1.6/sqrt(N) (energy fluctuations ∝ sqrt(N))
    k = max(8, math.ceil(math.log(t_high / t_low) / (1.6 / math.sqrt(n))) + 1)
    return np.geomspace(t_low, t_high, k)


def parisi_energy(T: float = 0.5) -> tuple[float, float, float]:
    """SK (ξ = q²/2, Ising) energy per spin at T from the Parisi solver.

    Returns:
        ``(e_FRSB, error, e_RS)``: the full-RSB energy extrapolated in k from the k-step
        solutions of :class:`~replicasolve.solvers.FullRSB` (the solver extrapolates the free
        energy; the energy is extrapolated here the same way, with
        :func:`~replicasolve.solvers.extrapolate.extrapolate_k`), its extrapolation error, and
        the replica-symmetric energy.
    """
    from ..models.pspin import MixedPSpin
    from ..solvers import FullRSB, solve
    from ..solvers.extrapolate import extrapolate_k

    model = MixedPSpin("q**2/2", spins="ising", T=T)
    full = solve(model, method=FullRSB())
    ks = [r.k for r in full.sequence]
    es = [r.energy for r in full.sequence]
    e_inf, err, _ = extrapolate_k(ks, es)
    rs = solve(model, method="rs")
    return float(e_inf), float(err), float(rs.energy)


def sk_energy_trend(sizes: Sequence[int], T: float = 0.5, *,
                    samples: int | Sequence[int] = 32, sweeps: int | Sequence[int] = 4000,
                    burn_in: int | None = None, replicas_per_T: int = 2, t_high: float = 1.6,
                    seed: int = 0, exponent: float = 2.0 / 3.0, theory: bool = True,
                    method: str = "metropolis", progress: Any = None) -> EnergyTrend:
    """Disorder-averaged SK energy per spin at T vs N, extrapolated and compared with Parisi.

    Each instance (J_ij ~ N(0, 1/N)) runs parallel tempering over a geometric ladder from T to
    ``t_high`` (its number of temperatures grows like sqrt(N) to keep the exchanges
    accepted); the energy at T is averaged over instances, fitted with
    :func:`fit_energy_trend` (ω = ``exponent`` and, with ≥ 4 sizes, ω free), and compared
    with the full-RSB and RS energies from :mod:`replicasolve.solvers`.

    Args:
        sizes: increasing N (≥ 2 of them; ≥ 3 for a χ²).
        T: temperature (default 0.5, well inside the spin-glass phase T < 1).
        samples: instances, one number or one per size.
        sweeps: measured sweeps, one number or one per size; ``burn_in`` defaults to sweeps.
        replicas_per_T: PT copies per instance (≥ 2: the identity test needs ⟨q²⟩).
        t_high: top of the ladder (above T_c = 1, where the walkers decorrelate).
        seed: root seed.
        exponent: ω of the main fit.
        theory: solve the Parisi (full RSB) and RS problems at T (about 10 s).
        method: ``"metropolis"`` or ``"heatbath"``.
        progress: optional callable ``progress(N, energy, error)`` after each size.

    Returns:
        :class:`EnergyTrend`.

    References: Sherrington & Kirkpatrick, PRL 35, 1792 (1975); Parisi, J. Phys. A 13, L115
    (1980); Boettcher, Eur. Phys. J. B 46, 501 (2005); Aspelmeier et al., J. Phys. A 41,
    324008 (2008).
    """
    t_start = time.perf_counter()
    try:
        sz = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise InvalidInputError(f"sizes must be whole numbers, got {sizes!r}") from None
    if len(sz) < 2 or any(n < 4 for n in sz) or any(b <= a for a, b in itertools.pairwise(sz)):
        raise InvalidInputError(f"need >= 2 strictly increasing sizes N >= 4, got {sizes!r}")
    t = float(T)
    if not math.isfinite(t) or t <= 0 or not (t_high > t):
        raise InvalidInputError(f"need 0 < T < t_high, got T = {T!r}, t_high = {t_high!r}")
    r = whole_number(replicas_per_T, "replicas_per_T", 2)

    def per_size(value: Any, name: str) -> list[int]:
        vals = list(value) if isinstance(value, Sequence) else [value] * len(sz)
        if len(vals) != len(sz):
            raise InvalidInputError(f"{name}: need one value per size ({len(sz)})")
        return [whole_number(v, name, 1) for v in vals]

    n_samples = per_size(samples, "samples")
    n_sweeps = per_size(sweeps, "sweeps")
    if any(s < 2 for s in n_samples):
        raise InvalidInputError("need >= 2 instances per size for a disorder error")
    e_all, q2_all, ladders = [], [], []
    energy, energy_err, z_id, z_log, min_acc = [], [], [], [], []
    runs_ok: list[int] = []
    run_message = ""
    for n, ns, sw in zip(sz, n_samples, n_sweeps, strict=True):
        sw = max(sw, 4)
        ladder = _default_ladder(n, t, float(t_high))
        e_s, q2_s, e_early, e_late = (np.empty(ns) for _ in range(4))
        acc = math.inf
        ok = 0
        for s in range(ns):
            bond_seed, mc_ss = _seeds(seed, _ENERGY_TAG, n, s)
            system = IsingSystem.dense(DenseBonds.sk(n, seed=bond_seed))
            res = parallel_tempering(system, ladder, replicas_per_T=r, sweeps=sw,
                                     burn_in=sw if burn_in is None else burn_in,
                                     method=method, seed=mc_ss)
            low = res[0]
            m = low.energies.shape[0]
            e_s[s] = low.energies.mean()
            q2_s[s] = np.mean(low.overlaps**2)
            e_early[s] = low.energies[m // 4 : m // 2].mean()
            e_late[s] = low.energies[m // 2 :].mean()
            acc = min(acc, float(np.nanmin(res.swap_acceptance)))
            if res.converged:
                ok += 1
            elif not run_message:
                run_message = f"N = {n}, instance {s}: {res.message}"
        runs_ok.append(ok)
        mean, sem = _mean_sem(e_s)
        energy.append(float(mean))
        energy_err.append(float(sem))
        z_id.append(float(_z(e_s + 0.5 / t * (1.0 - q2_s))))
        z_log.append(float(_z(e_late - e_early)))
        min_acc.append(acc)
        e_all.append(e_s)
        q2_all.append(q2_s)
        ladders.append(ladder)
        if progress is not None:
            progress(n, float(mean), float(sem))
    fit = fit_energy_trend(sz, energy, energy_err, exponent=exponent)
    fit_free = None
    if len(sz) >= 4:
        try:
            fit_free = fit_energy_trend(sz, energy, energy_err, exponent=None)
        except InvalidInputError:
            fit_free = None
    pe, perr, rs = (parisi_energy(t) if theory else (math.nan, math.nan, math.nan))
    return EnergyTrend(
        T=t, sizes=np.asarray(sz), sample_energy=tuple(e_all), sample_q2=tuple(q2_all),
        energy=np.asarray(energy), energy_err=np.asarray(energy_err),
        z_identity=np.asarray(z_id), z_logbin=np.asarray(z_log),
        min_swap_acceptance=np.asarray(min_acc), ladders=tuple(ladders), fit=fit,
        fit_free=fit_free, parisi_energy=pe, parisi_error=perr, rs_energy=rs,
        settings=dict(samples=n_samples, sweeps=n_sweeps, burn_in=burn_in,
                      replicas_per_T=r, t_high=float(t_high), seed=seed, method=method),
        wall_time=time.perf_counter() - t_start,
        runs_converged=np.asarray(runs_ok, dtype=np.int64), run_message=run_message,
    )
