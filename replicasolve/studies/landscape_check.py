"""Monte Carlo check of the finite-width replica theory of a random MLP's input landscape,
in replica-symmetric and in replica-symmetry-broken phases (Hanin & Winer, arXiv 2503.23982).

The network is :class:`~replicasolve.engines.sphere.SphereMLP` with one hidden layer of width
N_1 = αN: weights N(0, σ_w²/fan-in), biases N(0, σ_b²), a scalar linear read-out of the same
law, H(x) = sqrt(N) f(x) on |x|² = N. These are exactly the conventions of
:mod:`replicasolve.solvers.finite_width.rs` (its module docstring), and the tests check the one
consequence the comparison rests on: E_θ H(x) H(x') = N [σ_b² + σ_w² E φ(z)φ(z')] with
(z, z') ~ N(0, [[c_d, c_q], [c_q, c_d]]), c = σ_b² + σ_w² q, for any width.

Sampling (:func:`~replicasolve.engines.sphere.pt_sphere`, the pair-move parallel tempering
of the sphere engine :mod:`replicasolve.engines.sphere`, re-exported here with its result
:class:`~replicasolve.engines.sphere.SpherePT`): parallel tempering on the sphere with
*local* moves that rotate one random coordinate pair by an angle uniform in [-δ, δ]; a sweep
(N/2 pair moves) costs one forward pass, like one global great-circle move, but
decorrelates O(1) per coordinate instead of O(1/N). R independent PT chains (replicas) run
on the same network, each holding one configuration per temperature of an increasing β
ladder. See the engine's module docstring for the algorithm and its ``converged`` rule.

Theory (:func:`overlap_theory`): the RS saddle (:func:`~replicasolve.solvers.finite_width.rs.
finite_width_rs`) and the k-RSB optima (:func:`~replicasolve.solvers.finite_width.krsb.
finite_width_krsb`, depth 1). In its convention x(q) = 0 on [0, q_0), m_j on
[q_{j-1}, q_j), 1 on [q_k, 1], so the disorder-averaged overlap distribution of two
replicas is P(q) = dx/dq:

    P(q) = m_1 δ(q - q_0) + Σ_{j=1}^{k-1} (m_{j+1} - m_j) δ(q - q_j) + (1 - m_k) δ(q - q_k),

(Parisi, Phys. Rev. Lett. 50, 1946 (1983); Mézard, Parisi & Virasoro, "Spin Glass Theory
and Beyond", ch. III), with mean Σ w_j q_j and variance Σ w_j q_j² - (Σ w_j q_j)², the
"breadth" that RSB predicts to stay O(1) as N → ∞ while it shrinks like 1/N in an RS phase.
At 1RSB the breadth within one network, E_J[⟨q²⟩_J - ⟨q⟩_J²] = E_J[Y(1 - Y)](q_1 - q_0)²
with Y = Σ_a w_a² the probability that two replicas share a state, is (2m/3)(1 - m)(q_1 -
q_0)², two thirds of the total, from E Y = 1 - m and E Y² = (1 - m)(3 - 2m)/3 (Mézard,
Parisi, Sourlas, Toulouse & Virasoro, J. Physique 45, 843 (1984)): P(q) does not
self-average. The energy per input dimension is e = -dΦ/dβ (Φ = -βf); by stationarity of
Φ in (q, m) it is the partial derivative at fixed order parameters, taken here by central
differences of :func:`~replicasolve.solvers.finite_width.krsb.krsb_functional` in β with a
Richardson error estimate (:func:`functional_energy`). Note that for an odd φ with σ_b² = 0,
H(-x) = -H(x): there is no q → -q symmetry, and q_0 ≥ 0 is not a restriction.

Measurement (:func:`overlap_check`): for each N and network draw, the target temperature's
energies and pair overlaps q_ab = x_a·x_b/N (all pairs a < b of the R replicas, every
``every`` sweeps after burn-in) give per network ⟨e⟩_J, ⟨q⟩_J, ⟨q²⟩_J and a histogram of q;
disorder averages and their errors are over networks (jackknife for the variances, which
are non-linear in the network means). Equilibration is checked by the drift between the two
halves of the production run (in standard errors), the PT swap rates and the number of
cold-to-hot traversals of the temperature ladder by each configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..blas import tap_blas
from ..engines.sphere import SpherePT, kernel_activation_code, pt_sphere
from ..errors import InvalidInputError
from ..results import Result

__all__ = [
    "OverlapTheory",
    "RSBLevel",
    "SpherePT",
    "finite_size_fit",
    "functional_energy",
    "merge_checks",
    "overlap_check",
    "overlap_theory",
    "parisi_weights",
    "pt_sphere",
    "summarise",
]


def _whole(value: Any, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise InvalidInputError(f"{name} must be a whole number >= {lo}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------
# the theory
# --------------------------------------------------------------------------------------


def parisi_weights(q: Sequence[float] | np.ndarray,
                   m: Sequence[float] | np.ndarray) -> np.ndarray:
    """Weights w_j of P(q) = Σ_j w_j δ(q - q_j) for a k-RSB Parisi function.

    Convention of :mod:`replicasolve.solvers.finite_width.krsb`: x(q) = 0 on [0, q_0), m_j
    on [q_{j-1}, q_j), 1 on [q_k, 1]; P = dx/dq gives w_0 = m_1, w_j = m_{j+1} - m_j
    (1 ≤ j < k), w_k = 1 - m_k (RS, k = 0: w_0 = 1).

    Args:
        q: shape (k + 1,), 0 ≤ q_0 ≤ … ≤ q_k < 1.
        m: shape (k,), 0 < m_1 ≤ … ≤ m_k ≤ 1.

    Returns:
        shape (k + 1,): non-negative weights summing to 1.

    Raises:
        InvalidInputError: wrong lengths or an unordered (q, m).
    """
    qa = np.atleast_1d(np.asarray(q, dtype=float))
    ma = np.atleast_1d(np.asarray(m, dtype=float)) if np.size(m) else np.zeros(0)
    if qa.ndim != 1 or ma.ndim != 1 or qa.size != ma.size + 1:
        raise InvalidInputError(f"need k + 1 overlaps and k sizes, got {qa.size} and "
                                f"{ma.size}")
    if not (np.all(np.isfinite(qa)) and np.all(np.isfinite(ma))) or np.any(np.diff(qa) < 0) \
            or (ma.size and (ma[0] <= 0 or ma[-1] > 1 or np.any(np.diff(ma) < 0))):
        raise InvalidInputError(f"need ordered q and 0 < m_1 <= ... <= m_k <= 1, got "
                                f"q = {qa.tolist()}, m = {ma.tolist()}")
    return np.diff(np.concatenate([[0.0], ma, [1.0]]))


def functional_energy(activation: Any, sigma_w2: float, sigma_b2: float, alpha: float,
                      T: float, q: Sequence[float] | np.ndarray,
                      m: Sequence[float] | np.ndarray, rule: dict[str, Any] | None = None,
                      rel_step: float = 2e-3) -> tuple[float, float]:
    """Energy e = -∂Φ_k/∂β at fixed (q, m), per input dimension (units of H/N).

    At an optimum of Φ_k in (q, m) this is the total derivative -dΦ/dβ = E⟨H⟩/N (envelope
    theorem). Central differences of
    :func:`~replicasolve.solvers.finite_width.krsb.krsb_functional` in β with steps
    h = ``rel_step``·β and 2h, combined by Richardson extrapolation (error O(h⁴)); the
    returned error is the |D(h) - D(2h)|/3 estimate of the O(h²) term that the
    extrapolation removes (an upper bound on the remaining error for smooth Φ) plus the
    rounding error 1e-13/h of the differences.

    Args:
        activation: name or formula (see :func:`~replicasolve.kernels.activation.activation`).
        sigma_w2, sigma_b2, alpha, T: the model (σ_w² > 0, σ_b² ≥ 0, α > 0, T > 0).
        q, m: the order parameters (k = 0: one q, empty m).
        rule: quadrature settings as in ``FiniteWidthKRSB.settings["rule"]`` (default: the
            rule :func:`~replicasolve.solvers.finite_width.krsb.finite_width_krsb` picks).
        rel_step: h/β.

    Returns:
        (energy, error estimate).
    """
    from ..kernels.activation import activation as make_activation
    from ..solvers.finite_width.krsb import krsb_functional
    from ..solvers.finite_width.numerics import activation_shape

    act = make_activation(activation)
    if rule is None:
        period, odd, bounded = activation_shape(act)
        rule = ({"method": "grid", "grid_step": 2 * math.pi / 128, "zeta_points": 6,
                 "period": period, "odd": odd, "order": 32}
                if (period is not None or bounded) else {"method": "hermite", "order": 32})
    if not (isinstance(rel_step, float) and 0.0 < rel_step < 0.1):
        raise InvalidInputError(f"rel_step must be a float in (0, 0.1), got {rel_step!r}")
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise InvalidInputError(f"temperature T must be finite and > 0, got {T!r}")
    kw = {key: rule[key] for key in ("method", "order", "grid_step", "zeta_points", "period",
                                     "odd") if key in rule}
    beta = 1.0 / T

    def phi_at(b: float) -> float:
        return krsb_functional(act.phi, sigma_w2, sigma_b2, alpha, 1.0 / b, q, m, **kw)

    h = rel_step * beta
    d1 = (phi_at(beta + h) - phi_at(beta - h)) / (2 * h)
    d2 = (phi_at(beta + 2 * h) - phi_at(beta - 2 * h)) / (4 * h)
    richardson = (4 * d1 - d2) / 3
    return -richardson, abs(d1 - d2) / 3 + 1e-13 / h


@dataclass(frozen=True, eq=False)
class RSBLevel(Result):
    """One k-RSB optimum and its overlap distribution.

    On the library's result contract: ``converged`` is the verdict of the k-RSB chain that
    produced the level (:func:`~replicasolve.solvers.finite_width.krsb.finite_width_krsb`'s
    ``converged``: every optimiser run of the chain ended with success; the chain reports
    one verdict for all its levels). A level built by hand without it is not converged.

    Attributes:
        k: RSB steps (0: RS).
        q: shape (k + 1,) the overlaps q_j; weights: shape (k + 1,) their P(q) weights
            (:func:`parisi_weights`).
        m: shape (k,) the Parisi sizes.
        phi: Φ_k = -βf (per input dimension).
        energy, energy_error: e = -dΦ_k/dβ and its error (:func:`functional_energy`).
        mean_q, var_q: mean and variance of P(q) (the breadth).
        var_q_within: for k = 1, E_J[⟨q²⟩_J - ⟨q⟩_J²] = (2m/3)(1 - m)(q_1 - q_0)² (module
            docstring); 0 for k = 0; NaN for k ≥ 2 (not derived here).
        converged: the chain's verdict (class docstring).
    """

    k: int
    q: np.ndarray
    m: np.ndarray
    weights: np.ndarray
    phi: float
    energy: float
    energy_error: float
    mean_q: float
    var_q: float
    var_q_within: float
    converged: bool = False


@dataclass(frozen=True, eq=False)
class OverlapTheory(Result):
    """Replica predictions at one (activation, σ_w², σ_b², α, T), depth 1.

    On the library's result contract: ``converged`` when the solves behind it converged —
    the RS saddle (:func:`~replicasolve.solvers.finite_width.rs.finite_width_rs`'s
    ``converged``: fixed-point residual below its tolerance) and the k-RSB chain
    (:func:`~replicasolve.solvers.finite_width.krsb.finite_width_krsb`'s ``converged``: every
    optimiser run ended with success). A theory built by hand without it is not converged.

    Attributes:
        activation, sigma_w2, sigma_b2, alpha, T: the model.
        rs_q, rs_energy: the RS saddle of
            :func:`~replicasolve.solvers.finite_width.rs.finite_width_rs` (its own energy formula
            e = -βσ_w²(g_d - g)).
        replicon: the RS stability Λ (> 0 stable) of
            :func:`~replicasolve.solvers.finite_width.replicon.finite_width_replicon`.
        levels: the chain k = 0 (RS of the k-RSB functional), 1, …, kmax.
        gains: Φ_{k-1} - Φ_k for k = 1..kmax; gain_resolution their quadrature resolution.
        converged: the solves' verdict (class docstring); message: what failed, if any.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    alpha: float
    T: float
    rs_q: float
    rs_energy: float
    replicon: float
    levels: tuple[RSBLevel, ...]
    gains: np.ndarray
    gain_resolution: np.ndarray
    converged: bool = False
    message: str = ""

    def level(self, k: int) -> RSBLevel:
        """The k-step level (k = 0 is RS)."""
        return self.levels[k]

    def table(self) -> str:
        """The model, the RS saddle and replicon, one row per level (q, m, Φ_k, e, mean
        and variance of P(q)), the gains, ``converged`` last."""
        lines = [f"OverlapTheory {self.activation}: sigma_w2 = {self.sigma_w2:g}, "
                 f"sigma_b2 = {self.sigma_b2:g}, alpha = {self.alpha:g}, T = {self.T:g}",
                 f"RS q = {self.rs_q:.6g}, e = {self.rs_energy:.6g}, replicon = "
                 f"{self.replicon:.6g}",
                 f"{'k':>2} {'phi':>12} {'energy':>12} {'± err':>9} {'<q>':>9} {'var q':>9}  q; m"]
        for lv in self.levels:
            qs = " ".join(f"{v:.4g}" for v in np.asarray(lv.q))
            ms = " ".join(f"{v:.4g}" for v in np.asarray(lv.m))
            lines.append(f"{lv.k:>2} {lv.phi:>12.8g} {lv.energy:>12.8g} {lv.energy_error:>9.2g} "
                         f"{lv.mean_q:>9.5g} {lv.var_q:>9.3g}  [{qs}]; [{ms}]")
        for k, (g, r) in enumerate(zip(self.gains, self.gain_resolution, strict=False), 1):
            lines.append(f"gain of step {k}: {g:.4g} (resolution {r:.2g})")
        if self.message:
            lines.append(f"message: {self.message}")
        lines.append(f"converged: {bool(self.converged)}")
        return "\n".join(lines)


def overlap_theory(activation: str, sigma_w2: float, sigma_b2: float, alpha: float, T: float,
                   kmax: int = 2) -> OverlapTheory:
    """RS and k-RSB (k ≤ ``kmax``) predictions for P(q), its mean and breadth, and e.

    Args:
        activation: name or formula of φ.
        sigma_w2: σ_w² > 0; sigma_b2: σ_b² ≥ 0; alpha: N_1/N > 0; T: temperature > 0.
        kmax: RSB steps ≥ 1 (k = 2 takes ~20 s for sin).

    Returns:
        :class:`OverlapTheory`.

    Raises:
        InvalidInputError: bad parameters (from the solvers).
    """
    from ..solvers.finite_width.krsb import finite_width_krsb
    from ..solvers.finite_width.replicon import finite_width_replicon
    from ..solvers.finite_width.rs import finite_width_rs

    lam, rs = finite_width_replicon(activation, sigma_w2, sigma_b2, alpha, T,
                                    return_solution=True)
    if not isinstance(rs.q, float):
        rs = finite_width_rs(activation, sigma_w2, sigma_b2, alpha, T)
    chain = finite_width_krsb(activation, sigma_w2, sigma_b2, alpha, T, kmax)
    rule = chain.settings["rule"]
    levels = []
    for k, (q, m) in enumerate(chain.levels):
        w = parisi_weights(q, m)
        mean = float(w @ q)
        var = float(max(w @ (q - mean) ** 2, 0.0))
        if k == 0:
            within = 0.0
        elif k == 1:
            within = float(2 * m[0] / 3 * (1 - m[0]) * (q[1] - q[0]) ** 2)
        else:
            within = math.nan
        e, err = functional_energy(activation, sigma_w2, sigma_b2, alpha, T, q, m, rule)
        levels.append(RSBLevel(k, np.asarray(q), np.asarray(m), w, float(chain.chain[k]), e,
                               err, mean, var, within, converged=bool(chain.converged)))
    problems = []
    if not rs.converged:
        problems.append(f"RS saddle: {rs.message}")
    if not chain.converged:
        problems.append(f"k-RSB chain: {chain.message}")
    return OverlapTheory(str(activation), float(sigma_w2), float(sigma_b2), float(alpha),
                         float(T), float(rs.q), float(rs.energy), float(lam), tuple(levels),
                         np.asarray(chain.gains), np.asarray(chain.gain_resolution),
                         converged=not problems, message="; ".join(problems))


# --------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------


def finite_size_fit(sizes: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray,
                    errors: Sequence[float] | np.ndarray, model: str = "linear",
                    exponent: float = 1.0, birge: bool = True) -> dict[str, float]:
    """Weighted least-squares finite-size fit of measured values y(N) ± σ(N).

    ``model="linear"``: y = a + b/N^ω with ω = ``exponent`` (default 1; a is the N → ∞
    extrapolation; ω = 2/3 is the finite-size law of free energies in the RSB phase of the
    SK model, Aspelmeier, Billoire, Marinari & Moore, J. Phys. A 41, 324008 (2008));
    ``model="power"``:
    ln y = ln c + p ln N with σ_ln = σ/y (p = -1 for an RS breadth ∝ 1/N). Parameter errors
    from the covariance (XᵀWX)⁻¹, multiplied by the Birge ratio sqrt(χ²/dof) when it
    exceeds 1 and ``birge`` is on (default): a fit worse than its error bars allow must not
    report the error bars' precision (Birge, Phys. Rev. 40, 207 (1932); the PDG's scale
    factor). χ², dof and the factor applied are returned.

    Returns:
        {"a", "a_err", "b", "b_err", "chi2", "dof", "scale"} for ``"linear"``,
        {"c", "c_err", "p", "p_err", "chi2", "dof", "scale"} for ``"power"`` (c_err
        relative).

    Raises:
        InvalidInputError: fewer than 2 sizes, non-positive errors, mismatched shapes, or
            non-positive values for the power law.
    """
    n = np.asarray(sizes, dtype=float)
    y = np.asarray(values, dtype=float)
    s = np.asarray(errors, dtype=float)
    if n.ndim != 1 or n.shape != y.shape or n.shape != s.shape or n.size < 2:
        raise InvalidInputError("need >= 2 sizes with one value and one error each")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s)) and np.all(s > 0)
            and np.all(n > 0)):
        raise InvalidInputError("sizes and errors must be > 0 and values finite")
    if model == "linear":
        if not (isinstance(exponent, (int, float)) and 0 < exponent <= 4):
            raise InvalidInputError(f"exponent must lie in (0, 4], got {exponent!r}")
        x = np.stack([np.ones_like(n), n ** (-float(exponent))], axis=1)
        yy, ss = y, s
    elif model == "power":
        if np.any(y <= 0):
            raise InvalidInputError("a power-law fit needs positive values")
        x = np.stack([np.ones_like(n), np.log(n)], axis=1)
        yy, ss = np.log(y), s / y
    else:
        raise InvalidInputError(f"model must be 'linear' or 'power', got {model!r}")
    w = 1.0 / ss**2
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    par = cov @ (x.T @ (w * yy))
    chi2 = float(np.sum(w * (yy - x @ par) ** 2))
    dof = n.size - 2
    scale = math.sqrt(chi2 / dof) if birge and dof > 0 and chi2 > dof else 1.0
    err = scale * np.sqrt(np.diag(cov))
    if model == "linear":
        return {"a": float(par[0]), "a_err": float(err[0]), "b": float(par[1]),
                "b_err": float(err[1]), "chi2": chi2, "dof": float(dof), "scale": scale}
    return {"c": float(math.exp(par[0])), "c_err": float(err[0]), "p": float(par[1]),
            "p_err": float(err[1]), "chi2": chi2, "dof": float(dof), "scale": scale}


def _jackknife(stat: Callable[[np.ndarray], float], data: np.ndarray) -> tuple[float, float]:
    """Bias-corrected jackknife estimate and standard error of stat over rows of data."""
    n = data.shape[0]
    full = stat(data)
    loo = np.array([stat(np.delete(data, i, axis=0)) for i in range(n)])
    est = n * full - (n - 1) * loo.mean()
    err = math.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    return float(est), float(err)


def _total_var(rows: np.ndarray) -> float:
    """Variance of the disorder-averaged P(q) from rows (⟨q⟩_J, ⟨q²⟩_J)."""
    return float(rows[:, 1].mean() - rows[:, 0].mean() ** 2)


def _mean_se(v: np.ndarray) -> tuple[float, float]:
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def _best_level(th: OverlapTheory) -> RSBLevel:
    """The highest k whose added step gains more than 10× its quadrature resolution (and
    1e-12, the rounding floor of Φ differences): the physical level of the chain."""
    best = th.levels[0]
    for k in range(1, len(th.levels)):
        if th.gains[k - 1] > max(10.0 * th.gain_resolution[k - 1], 1e-12):
            best = th.levels[k]
        else:
            break
    return best


def _default_temps(n: int) -> int:
    """PT ladder length: ~sqrt(N) temperatures keep neighbour swaps at 40–70 % for sin,
    α = 1..4, T = 0.3..1 (measured: 0.43–0.51 at N = 64 with 8 temperatures)."""
    return max(4, math.ceil(math.sqrt(n)))


@tap_blas
def overlap_check(activation: str, sigma_w2: float, sigma_b2: float, alpha: float, T: float,
                  sizes: Sequence[int], n_networks: int | Sequence[int], *,
                  T_max: float = 1.0, n_temps: int | Sequence[int] | None = None,
                  n_replicas: int = 8, n_sweeps: int = 4000, burn_in: int = 2000,
                  every: int = 10, bins: int = 80, kmax: int = 2, seed: int = 0,
                  theory: OverlapTheory | None = None,
                  theory_hot: OverlapTheory | None = None,
                  progress: Callable[[str], None] | None = None) -> Any:
    """Monte Carlo P(q) and energy of finite networks against the replica predictions.

    For each N in ``sizes``, ``n_networks`` one-hidden-layer networks (width round(αN),
    :meth:`~replicasolve.engines.sphere.SphereMLP.random`, seeds derived from ``seed``) are
    sampled by :func:`pt_sphere` on a geometric temperature ladder from T (the target) to
    ``T_max``; observables are taken at T.

    Args:
        activation: one of sin, tanh, relu, erf, x.
        sigma_w2, sigma_b2, alpha, T: the model (as :func:`overlap_theory`).
        sizes: input dimensions N ≥ 4.
        n_networks: networks per N (≥ 3; an int or one per size).
        T_max: hottest temperature of the ladder (> T).
        n_temps: ladder length (an int or one per size; default ~sqrt(N), ≥ 4).
        n_replicas, n_sweeps, burn_in, every: as :func:`pt_sphere`.
        bins: histogram bins of q on [-1, 1].
        kmax: RSB steps of the theory.
        seed: master seed.
        theory: a precomputed :func:`overlap_theory` for the same model (else computed).
        theory_hot: the same at ``T_max`` (kmax = 1 suffices; else computed).
        progress: called with one line per finished network size.

    Returns:
        ``xarray.Dataset`` with dimension ``N`` (and ``network``, ``q_bin``, ``k``,
        ``level``): ``energy``/``energy_err`` (mean e = ⟨H⟩/N over networks ± standard
        error), ``q_mean``/``q_mean_err``, ``q_var``/``q_var_err`` (variance of the
        disorder-averaged P(q), jackknife over networks), ``q_var_within``/``..._err``
        (E_J[⟨q²⟩_J - ⟨q⟩_J²]), ``pq`` (disorder-averaged density of q), per network
        ``energy_net``, ``q_net``, ``q2_net``; equilibration: ``energy_drift``,
        ``q_var_drift`` (second half minus first half of the production run) with errors,
        ``swap_rate_min``, ``round_trips_min`` (fewest cold-to-hot traversals of any chain),
        ``acceptance_min``; ``energy_hot`` (e at T_max) and ``energy_diff``/``..._err``
        (e(T) - e(T_max), network by network: the network-to-network spread of e, mostly
        the scale |v|² of the read-out, largely cancels; measured 3.6× smaller spread at
        α = 4, T = 0.3, N = 32); ``q_high_frac``, ``q_mean_hot``, ``q_var_hot`` (see
        :func:`summarise`); per network also ``q_hot_net``, ``q2_hot_net``, the half-run
        means ``half_*`` and the histograms ``pq_net``; theory: ``theory_energy``/``..._err``,
        ``theory_q_mean``, ``theory_q_var``, ``theory_q_var_within``, ``theory_phi`` over
        ``k`` (0 = RS) and ``theory_q``/``theory_weight`` over (``k``, ``level``); attrs:
        RS q and energy, replicon, the energy at T_max (``theory_energy_hot``: its
        physical level, see :func:`_best_level`) and its replicon, settings, package
        version.

    Raises:
        InvalidInputError: bad sizes, counts, temperatures or an activation the kernel lacks.
    """
    import xarray as xr

    from ..engines.sphere import SphereMLP
    from ..version import __version__

    ns = [_whole(int(v) if isinstance(v, (np.integer,)) else v, "N", 4) for v in sizes]
    if not ns:
        raise InvalidInputError("sizes must hold at least one N")
    nets = ([_whole(n_networks, "n_networks", 3)] * len(ns)
            if not isinstance(n_networks, (list, tuple, np.ndarray))
            else [_whole(int(v), "n_networks", 3) for v in n_networks])
    temps = ([_default_temps(n) for n in ns] if n_temps is None
             else [_whole(n_temps, "n_temps", 2)] * len(ns)
             if not isinstance(n_temps, (list, tuple, np.ndarray))
             else [_whole(int(v), "n_temps", 2) for v in n_temps])
    if len(nets) != len(ns) or len(temps) != len(ns):
        raise InvalidInputError("n_networks and n_temps need one entry per size")
    if not (isinstance(T, (int, float)) and math.isfinite(T) and T > 0):
        raise InvalidInputError(f"temperature T must be finite and > 0, got {T!r}")
    if not (isinstance(T_max, (int, float)) and math.isfinite(T_max) and T_max > T):
        raise InvalidInputError(f"T_max must be finite and > T = {T}, got {T_max!r}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise InvalidInputError(f"alpha must be finite and > 0, got {alpha!r}")
    bins = _whole(bins, "bins", 2)
    kernel_activation_code(activation)
    th = theory if theory is not None else overlap_theory(activation, sigma_w2, sigma_b2,
                                                          alpha, T, kmax)
    hot = theory_hot if theory_hot is not None else overlap_theory(
        activation, sigma_w2, sigma_b2, alpha, T_max, 1)
    for given, temp in ((th, T), (hot, T_max)):
        if (given.activation, given.sigma_w2, given.sigma_b2, given.alpha, given.T) != (
                str(activation), float(sigma_w2), float(sigma_b2), float(alpha), float(temp)):
            raise InvalidInputError(
                f"theory/theory_hot was computed for another model or temperature "
                f"({given.activation}, {given.sigma_w2}, {given.sigma_b2}, {given.alpha}, "
                f"T = {given.T}); expected T = {temp}")
    hot_level = _best_level(hot)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    ss = np.random.SeedSequence(seed)
    nmax = max(nets)
    shape = (len(ns), nmax)
    raw = {key: np.full(shape, np.nan) for key in (
        "energy_net", "energy_hot", "q_net", "q2_net", "q_hot_net", "q2_hot_net",
        "swap_rate_min_net",
        "round_trips_min_net", "acceptance_min_net", "n_temps_net")}
    halves = np.full((len(ns), nmax, 2, 3), np.nan)  # (e, q, q²) in each half of the run
    pq = np.full((len(ns), nmax, bins), np.nan)
    for i, (n, n_net, kk) in enumerate(zip(ns, nets, temps, strict=True)):
        betas = 1.0 / np.geomspace(T_max, T, kk)
        width = max(1, round(alpha * n))
        for j, child in enumerate(ss.spawn(n_net)):
            net_seed, run_seed = (int(s) for s in child.generate_state(2))
            net = SphereMLP.random(n, [width], activation, sigma_w2, sigma_b2, seed=net_seed)
            r = pt_sphere(net, betas, n_replicas=n_replicas, n_sweeps=n_sweeps,
                          burn_in=burn_in, every=every, seed=run_seed)
            e = r.energies[:, -1, :]
            q = r.overlaps[:, -1, :]
            raw["energy_net"][i, j] = e.mean()
            raw["energy_hot"][i, j] = r.energies[:, 0, :].mean()
            raw["q_net"][i, j] = q.mean()
            raw["q2_net"][i, j] = (q * q).mean()
            q_hot = r.overlaps[:, 0, :]
            raw["q_hot_net"][i, j] = q_hot.mean()
            raw["q2_hot_net"][i, j] = (q_hot * q_hot).mean()
            raw["swap_rate_min_net"][i, j] = r.swap_rate.min() if r.swap_rate.size else 1.0
            raw["round_trips_min_net"][i, j] = r.round_trips.min()
            raw["acceptance_min_net"][i, j] = r.acceptance.min()
            raw["n_temps_net"][i, j] = kk
            half = e.shape[0] // 2
            for h, sl in enumerate((slice(0, half), slice(half, None))):
                halves[i, j, h] = e[sl].mean(), q[sl].mean(), (q[sl] ** 2).mean()
            pq[i, j] = np.histogram(q.ravel(), bins=edges, density=True)[0]
        if progress is not None:
            e_i = raw["energy_net"][i, :n_net]
            v_i = _total_var(np.stack([raw["q_net"][i, :n_net], raw["q2_net"][i, :n_net]], 1))
            progress(f"N = {n}: {n_net} networks, e = {e_i.mean():.4f}, var q = {v_i:.5f}, "
                     f"min swap {np.nanmin(raw['swap_rate_min_net'][i]):.2f}, min round "
                     f"trips {int(np.nanmin(raw['round_trips_min_net'][i]))}")
    kk_levels = len(th.levels)
    tq = np.full((kk_levels, kk_levels), np.nan)
    tw = np.full((kk_levels, kk_levels), np.nan)
    for lv in th.levels:
        tq[lv.k, : lv.q.size] = lv.q
        tw[lv.k, : lv.q.size] = lv.weights
    data: dict[str, Any] = {key: (("N", "network"), val) for key, val in raw.items()}
    data.update({
        "half_energy": (("N", "network", "half"), halves[..., 0]),
        "half_q": (("N", "network", "half"), halves[..., 1]),
        "half_q2": (("N", "network", "half"), halves[..., 2]),
        "pq_net": (("N", "network", "q_bin"), pq),
        "theory_energy": ("k", np.array([lv.energy for lv in th.levels])),
        "theory_energy_err": ("k", np.array([lv.energy_error for lv in th.levels])),
        "theory_phi": ("k", np.array([lv.phi for lv in th.levels])),
        "theory_q_mean": ("k", np.array([lv.mean_q for lv in th.levels])),
        "theory_q_var": ("k", np.array([lv.var_q for lv in th.levels])),
        "theory_q_var_within": ("k", np.array([lv.var_q_within for lv in th.levels])),
        "theory_q": (("k", "level"), tq),
        "theory_weight": (("k", "level"), tw),
    })
    ds = xr.Dataset(
        data,
        coords={"N": np.array(ns), "network": np.arange(nmax), "half": [0, 1],
                "q_bin": 0.5 * (edges[1:] + edges[:-1]), "k": np.arange(kk_levels),
                "level": np.arange(kk_levels)},
        attrs={"activation": str(activation), "sigma_w2": float(sigma_w2),
               "sigma_b2": float(sigma_b2), "alpha": float(alpha), "T": float(T),
               "T_max": float(T_max), "rs_q": th.rs_q, "rs_energy": th.rs_energy,
               "replicon": th.replicon, "theory_energy_hot": hot_level.energy,
               "theory_energy_hot_err": hot_level.energy_error,
               "theory_hot_k": int(hot_level.k), "replicon_hot": hot.replicon,
               "n_replicas": int(n_replicas), "n_sweeps": int(n_sweeps),
               "burn_in": int(burn_in), "every": int(every), "seed": int(seed),
               "replicasolve_version": str(__version__), "energy_units": "H/N",
               "overlap": "x_a . x_b / N"})
    return summarise(ds)


_SUMMARY = ("energy", "energy_err", "energy_diff", "energy_diff_err", "q_mean", "q_mean_err",
            "q_var", "q_var_err", "q_var_within", "q_var_within_err", "energy_drift",
            "energy_drift_err", "q_var_drift", "q_var_drift_err", "q_high_frac",
            "q_high_frac_err", "n_networks",
            "swap_rate_min", "round_trips_min", "acceptance_min", "pq")


def summarise(ds: Any) -> Any:
    """Disorder averages of the per-network data of :func:`overlap_check` (recomputed, so
    that merged runs are summarised as one).

    Per N, over the networks present (non-NaN): means ± standard errors of e, e(T) -
    e(T_max), ⟨q⟩_J, E_J[⟨q²⟩_J - ⟨q⟩_J²] and of the half-run drift of e; bias-corrected
    jackknife estimates ± errors of the variance of the disorder-averaged P(q),
    E_J⟨q²⟩_J - (E_J⟨q⟩_J)², and of its half-run drift; the network-averaged histogram
    ``pq``; the fraction of pairs above the split q_s = (q_0 + q_1)/2 of the 1RSB level
    (``q_high_frac``, from each network's histogram with a flat density inside the bin
    that holds q_s; theory ``theory_q_high_frac``: the P(q) weight above q_s, 1 - m at
    1RSB); the worst swap rate, round-trip count and acceptance; where the runs stored
    them, ``q_mean_hot`` and ``q_var_hot`` (± errors): mean and breadth of P(q) at T_max,
    an RS control on the same networks.

    Args:
        ds: a Dataset from :func:`overlap_check` or :func:`merge_checks`.

    Returns:
        a copy of ``ds`` with the summary variables (see :func:`overlap_check`) replaced.

    Raises:
        InvalidInputError: fewer than 3 networks at some N.
    """
    out: dict[str, list[Any]] = {key: [] for key in _SUMMARY}
    split = _split_point(ds)
    q_bins = ds.q_bin.values
    half_width = 0.5 * (q_bins[1] - q_bins[0])
    # fraction of each bin above the split (the density is taken flat within a bin)
    above = np.clip((q_bins + half_width - split) / (2 * half_width), 0.0, 1.0)
    for n in ds.N.values:
        sub = ds.sel(N=n)
        ok = np.isfinite(sub.energy_net.values)
        if ok.sum() < 3:
            raise InvalidInputError(f"need >= 3 networks at N = {n}, have {int(ok.sum())}")
        e = sub.energy_net.values[ok]
        q = sub.q_net.values[ok]
        q2 = sub.q2_net.values[ok]
        halves = np.stack([sub.half_q.values[ok, 1], sub.half_q2.values[ok, 1],
                           sub.half_q.values[ok, 0], sub.half_q2.values[ok, 0]], axis=1)
        vals = (*_mean_se(e), *_mean_se(e - sub.energy_hot.values[ok]), *_mean_se(q),
                *_jackknife(_total_var, np.stack([q, q2], axis=1)),
                *_mean_se(q2 - q * q),
                *_mean_se(sub.half_energy.values[ok, 1] - sub.half_energy.values[ok, 0]),
                *_jackknife(lambda d: _total_var(d[:, :2]) - _total_var(d[:, 2:]), halves),
                *_mean_se(sub.pq_net.values[ok] @ above * 2 * half_width),
                int(ok.sum()), float(sub.swap_rate_min_net.values[ok].min()),
                float(sub.round_trips_min_net.values[ok].min()),
                float(sub.acceptance_min_net.values[ok].min()),
                sub.pq_net.values[ok].mean(axis=0))
        for key, val in zip(_SUMMARY, vals, strict=True):
            out[key].append(val)
    res = ds.drop_vars([key for key in (*_SUMMARY, "theory_q_high_frac") if key in ds])
    tq, tw = ds.theory_q.values, ds.theory_weight.values
    theory_high = np.nansum(np.where(tq > split, tw, 0.0), axis=1)
    res = res.assign({key: (("N", "q_bin") if key == "pq" else "N", np.array(val))
                      for key, val in out.items()})
    res["theory_q_high_frac"] = ("k", theory_high)
    res.attrs["q_split"] = split
    if "q_hot_net" in ds:  # the same statistics at T_max (the hot end of the same runs)
        hot = {"q_mean_hot": [], "q_mean_hot_err": [], "q_var_hot": [], "q_var_hot_err": []}
        for n in ds.N.values:
            sub = ds.sel(N=n)
            ok = np.isfinite(sub.q_hot_net.values)
            if ok.sum() < 3:
                for key in hot:
                    hot[key].append(math.nan)
                continue
            qh, q2h = sub.q_hot_net.values[ok], sub.q2_hot_net.values[ok]
            for key, val in zip(hot, (*_mean_se(qh), *_jackknife(_total_var,
                                                                 np.stack([qh, q2h], 1))),
                                strict=True):
                hot[key].append(val)
        res = res.assign({key: ("N", np.array(val)) for key, val in hot.items()})
    return res


def _split_point(ds: Any) -> float:
    """(q_0 + q_1)/2 of the 1RSB level (q_RS where it collapses): pairs above it are in the
    same state, of weight 1 - m at 1RSB."""
    if ds.sizes.get("k", 0) < 2:
        return float(ds.attrs["rs_q"])
    q = ds.theory_q.sel(k=1).values
    return float(0.5 * (q[0] + q[1]))


def merge_checks(datasets: Sequence[Any]) -> Any:
    """Pool the networks of several :func:`overlap_check` runs of the same model (e.g. one
    process per N or per seed, to keep each computation short) and re-summarise.

    Args:
        datasets: Datasets from :func:`overlap_check` with equal model attrs (activation,
            σ_w², σ_b², α, T, T_max) and equal ``q_bin``; sizes may differ.

    Returns:
        the pooled Dataset (:func:`summarise`d); its ``seed`` attr lists the seeds.

    Raises:
        InvalidInputError: no datasets or different models.
    """
    import xarray as xr

    if not datasets:
        raise InvalidInputError("merge_checks needs at least one dataset")
    keys = ("activation", "sigma_w2", "sigma_b2", "alpha", "T", "T_max")
    first = datasets[0]
    for d in datasets[1:]:
        if any(d.attrs.get(key) != first.attrs.get(key) for key in keys):
            raise InvalidInputError("merge_checks: the runs are of different models")
    # per-network variables of any run; a run without one (older runs lack the T_max
    # overlaps) contributes NaN there, which summarise skips
    per_net = sorted({name for d in datasets for name in d.data_vars
                      if "network" in d[name].dims})
    parts = []
    offset = 0
    for d in datasets:
        missing = {name: (("N", "network"), np.full((d.sizes["N"], d.sizes["network"]),
                                                    np.nan))
                   for name in per_net if name not in d}
        part = d.assign(missing)[per_net]
        part = part.assign_coords(network=np.arange(offset, offset + part.sizes["network"]))
        offset += part.sizes["network"]
        parts.append(part)
    pooled = xr.merge([xr.concat(parts, dim="network", join="outer"),
                       first.drop_vars([k for k in (*per_net, *_SUMMARY) if k in first])
                       .drop_dims(["N", "network"], errors="ignore")],
                      compat="override", combine_attrs="override")
    pooled.attrs = {**first.attrs, "seed": " ".join(str(d.attrs.get("seed")) for d in datasets)}
    # drop networks that are NaN at every N (padding) and summarise
    keep = np.isfinite(pooled.energy_net.values).any(axis=0)
    pooled = pooled.isel(network=np.flatnonzero(keep))
    return summarise(pooled)
