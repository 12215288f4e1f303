"""Power laws in the training time, and whether their exponent changes.

Barney, Winer & Galitski (arXiv 2408.06421, section 3.2) find that the TAP critical
temperature grows during training as a power law, ``T_c(t) - T_c(0) ∝ t^b``, with an
exponent that can change between an early and a late regime. Here:

- :func:`fit_power_law`: ``y - baseline = A t^b`` by (weighted) least squares on
  ``ln(y - baseline) = ln A + b ln t``, with standard errors.
- :func:`detect_exponent_change`: a continuous broken power law (two exponents meeting at a
  breakpoint scanned over the data) against the single power law, by an F-test and BIC.
- :func:`fit_scan`, :func:`scan_exponent_change`: the same on a Dataset of
  :func:`replicasolve.studies.scan.epochs.scan_run`.

Noise model: the fits are least squares in log-log, i.e. they assume multiplicative noise,
``y - baseline = A t^b (1 + ε)`` with ``ε`` of roughly constant size; the standard errors
are then calibrated (tested over many seeds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ...errors import InvalidInputError

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "ExponentChange",
    "PowerLawFit",
    "detect_exponent_change",
    "fit_power_law",
    "fit_scan",
    "scan_exponent_change",
]

Baseline = float | Literal["first"] | None
Window = tuple[float | None, float | None] | Sequence[float | None] | None


@dataclass(frozen=True, eq=False)
class PowerLawFit:
    """``y - baseline = A t^b`` fitted in log-log.

    Attributes:
        exponent: ``b``.
        prefactor: ``A`` (units of ``y`` over units of ``t^b``).
        exponent_err: standard error of ``b``.
        prefactor_err: standard error of ``A`` (delta method: ``A · se(ln A)``).
        covariance: 2×2 covariance of ``(b, A)`` (delta method for ``A``).
        n_points: points used (those with ``t`` in the window and ``t > 0``).
        residual_rms: root mean square of the residuals of ``ln(y - baseline)``
            (≈ the relative scatter about the power law).
        window: ``(t0, t1)``, the bounds of the window in force (the data's range when not
            given).
        baseline: the baseline subtracted (0 when none).
        weighted: whether ``sigma`` was given. Weighted fits take ``sigma`` as the true
            standard deviations (errors not rescaled by the scatter); unweighted fits
            estimate the scatter from the residuals (``n_points - 2`` degrees of freedom).
        chi2_reduced: ``Σ w r² / (n - 2)`` for weighted fits (≈ 1 when ``sigma`` is right),
            NaN for unweighted ones.
    """

    exponent: float
    prefactor: float
    exponent_err: float
    prefactor_err: float
    covariance: np.ndarray
    n_points: int
    residual_rms: float
    window: tuple[float, float]
    baseline: float
    weighted: bool
    chi2_reduced: float

    def predict(self, t: np.ndarray | float) -> np.ndarray:
        """``baseline + A t^b`` at ``t``."""
        return self.baseline + self.prefactor * np.asarray(t, dtype=float) ** self.exponent

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        return {
            "exponent": self.exponent,
            "prefactor": self.prefactor,
            "exponent_err": self.exponent_err,
            "prefactor_err": self.prefactor_err,
            "covariance": self.covariance.tolist(),
            "n_points": self.n_points,
            "residual_rms": self.residual_rms,
            "window": list(self.window),
            "baseline": self.baseline,
            "weighted": self.weighted,
            "chi2_reduced": self.chi2_reduced,
        }


@dataclass(frozen=True, eq=False)
class ExponentChange:
    """A broken power law against a single one.

    Model: ``ln(y - baseline) = c + b1 min(x - x_b, 0) + b2 max(x - x_b, 0)`` with
    ``x = ln t``: exponent ``b1`` before the breakpoint ``t_b = e^{x_b}`` and ``b2`` after,
    continuous at ``t_b``.

    Attributes:
        breakpoint: ``t_b`` (same units as ``t``).
        breakpoint_log_err: standard error of ``ln t_b``.
        exponent_before, exponent_after: ``b1``, ``b2``.
        exponent_before_err, exponent_after_err: their standard errors, from the asymptotic
            covariance of all four parameters ``(c, b1, b2, x_b)`` (least squares on the
            continuous model; the breakpoint's uncertainty is included).
        f_statistic: ``((RSS1 - RSS2) / 2) / (RSS2 / (n - 4))``.
        p_value: of the F-test with (2, n - 4) degrees of freedom: the broken model has two
            more parameters (the second exponent and the breakpoint). The breakpoint is
            chosen to minimise RSS2, so this nominal p-value is somewhat optimistic; the
            decision below also asks BIC and a 1% level to stay conservative.
        delta_bic: ``BIC(single) - BIC(broken)`` with ``BIC = n ln(RSS/n) + k ln n``
            (``k`` = 2 and 4); positive favours the change.
        changed: ``p_value < 0.01 and delta_bic > 0``.
        single: the single power law fitted to the same points.
        rss_single, rss_broken: residual sums of squares in ``ln(y - baseline)``.
        n_points: points used.
        min_points: the fewest points allowed on each side of the breakpoint.
    """

    breakpoint: float
    breakpoint_log_err: float
    exponent_before: float
    exponent_before_err: float
    exponent_after: float
    exponent_after_err: float
    f_statistic: float
    p_value: float
    delta_bic: float
    changed: bool
    single: PowerLawFit
    rss_single: float
    rss_broken: float
    n_points: int
    min_points: int

    def to_dict(self) -> dict:
        """Plain-JSON form."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "single"}
        out["single"] = self.single.to_dict()
        return out


def _window(win: Window, t_pos: np.ndarray) -> tuple[float, float]:
    if win is None:
        return float(t_pos.min()), float(t_pos.max())
    try:
        t0, t1 = win  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidInputError(f"window must be (t0, t1), got {win!r}") from None
    lo = float(t_pos.min()) if t0 is None else float(t0)
    hi = float(t_pos.max()) if t1 is None else float(t1)
    if math.isnan(lo) or math.isnan(hi) or not lo < hi:
        raise InvalidInputError(f"window ({t0}, {t1}) is empty: need t0 < t1")
    if hi <= 0:
        raise InvalidInputError(f"window ({t0}, {t1}) has no t > 0 (a power law needs t > 0)")
    return lo, hi


@dataclass(frozen=True)
class _Data:
    x: np.ndarray  # ln t
    z: np.ndarray  # ln(y - baseline)
    s: np.ndarray | None  # standard deviation of z (sigma / (y - baseline))
    window: tuple[float, float]
    baseline: float


def _prepare(
    t: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    window: Window,
    baseline: Baseline,
    sigma: float | Sequence[float] | np.ndarray | None,
    fewest: int,
) -> _Data:
    tt = np.asarray(t, dtype=float)
    yy = np.asarray(y, dtype=float)
    if tt.ndim != 1 or yy.shape != tt.shape:
        raise InvalidInputError(f"t and y must be 1-D of one length, got {tt.shape}, {yy.shape}")
    if tt.size == 0:
        raise InvalidInputError("no data points")
    if not np.all(np.isfinite(tt)):
        raise InvalidInputError("t has NaN or infinite values")
    if baseline is None:
        base = 0.0
    elif isinstance(baseline, str):
        if baseline != "first":
            raise InvalidInputError(f"baseline must be None, a number or 'first', got {baseline!r}")
        base = float(yy[np.argmin(tt)])
        if not math.isfinite(base):
            raise InvalidInputError("baseline 'first': y at the smallest t is NaN or infinite")
    else:
        base = float(baseline)
        if not math.isfinite(base):
            raise InvalidInputError(f"baseline must be finite, got {baseline!r}")
    if not np.any(tt > 0):
        raise InvalidInputError("no t > 0 in the data (a power law needs t > 0)")
    t0, t1 = _window(window, tt[tt > 0])
    mask = (tt > 0) & (tt >= t0) & (tt <= t1)
    n = int(mask.sum())
    if n < fewest:
        raise InvalidInputError(
            f"window [{t0:g}, {t1:g}] holds {n} point(s) with t > 0; need at least {fewest}"
        )
    if not np.all(np.isfinite(yy[mask])):
        bad = int(np.sum(~np.isfinite(yy[mask])))
        raise InvalidInputError(f"{bad} of {n} points in the window have NaN or infinite y")
    rise = yy[mask] - base
    if np.any(rise <= 0):
        bad = int(np.sum(rise <= 0))
        raise InvalidInputError(
            f"{bad} of {n} points in the window have y - baseline <= 0 (baseline {base:g}): "
            "a power law needs y > baseline there; change the baseline or the window"
        )
    s = None
    if sigma is not None:
        sig = np.broadcast_to(np.asarray(sigma, dtype=float), tt.shape)[mask]
        if not np.all(np.isfinite(sig)) or np.any(sig <= 0):
            raise InvalidInputError("sigma must be positive and finite in the window")
        s = sig / rise  # error propagation: δ ln(y - b) = δy / (y - b)
    order = np.argsort(tt[mask], kind="stable")
    return _Data(
        np.log(tt[mask])[order],
        np.log(rise)[order],
        None if s is None else s[order],
        (t0, t1),
        base,
    )


def _linear_fit(
    x: np.ndarray, z: np.ndarray, s: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """``z = c + b x``: coefficients ``(c, b)``, their covariance, RSS and reduced χ²."""
    design = np.column_stack([np.ones_like(x), x])
    w = np.ones_like(x) if s is None else 1.0 / s**2
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(design * sw[:, None], z * sw, rcond=None)
    resid = z - design @ coef
    n = x.size
    chi2 = float(np.sum(w * resid**2))
    inv = np.linalg.inv(design.T @ (design * w[:, None]))
    if s is None:
        cov = inv * chi2 / (n - 2)
        chi2_red = math.nan
    else:
        cov = inv
        chi2_red = chi2 / (n - 2)
    return coef, cov, float(np.sum(resid**2)), chi2_red


def fit_power_law(
    t: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    window: Window = None,
    baseline: Baseline = None,
    sigma: float | Sequence[float] | np.ndarray | None = None,
) -> PowerLawFit:
    """Fit ``y - baseline = A t^b`` over ``t`` in a window (Barney et al., arXiv 2408.06421).

    Least squares on ``ln(y - baseline) = ln A + b ln t`` (weighted by
    ``((y - baseline)/sigma)²`` when ``sigma`` is given).

    Args:
        t: times (e.g. epochs), shape ``(n,)``; only ``t > 0`` enter the fit.
        y: values, shape ``(n,)``.
        window: ``(t0, t1)``, inclusive; either end may be ``None`` (open). Default: all
            ``t > 0``.
        baseline: subtracted before the fit: ``None`` (0), a number, or ``"first"`` (``y``
            at the smallest ``t`` of the data, e.g. ``T_c(0)``; it may lie outside the
            window).
        sigma: standard deviation of ``y`` (a number or per point), taken as known: the
            standard errors are then not rescaled by the scatter.

    Returns:
        :class:`PowerLawFit`.

    Raises:
        InvalidInputError: fewer than 3 points in the window, ``y - baseline ≤ 0`` there
            (the message says how many), NaN values, an empty window.
    """
    return _power_law(_prepare(t, y, window, baseline, sigma, fewest=3))


def _power_law(data: _Data) -> PowerLawFit:
    coef, cov, rss, chi2_red = _linear_fit(data.x, data.z, data.s)
    log_a, b = float(coef[0]), float(coef[1])
    a = math.exp(log_a)
    # delta method: d A = A d ln A; order (b, A)
    jac = np.array([[0.0, 1.0], [a, 0.0]])
    cov_ba = jac @ cov @ jac.T
    return PowerLawFit(
        exponent=b,
        prefactor=a,
        exponent_err=float(math.sqrt(cov[1, 1])),
        prefactor_err=float(a * math.sqrt(cov[0, 0])),
        covariance=cov_ba,
        n_points=int(data.x.size),
        residual_rms=float(math.sqrt(rss / data.x.size)),
        window=data.window,
        baseline=data.baseline,
        weighted=data.s is not None,
        chi2_reduced=chi2_red,
    )


def _broken_design(x: np.ndarray, xb: float) -> np.ndarray:
    d = x - xb
    return np.column_stack([np.ones_like(x), np.minimum(d, 0.0), np.maximum(d, 0.0)])


def _broken_rss(x: np.ndarray, z: np.ndarray, xb: float) -> float:
    design = _broken_design(x, xb)
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    return float(np.sum((z - design @ coef) ** 2))


def detect_exponent_change(
    t: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    *,
    window: Window = None,
    baseline: Baseline = None,
    min_points: int = 4,
) -> ExponentChange:
    """Does the power-law exponent of ``y - baseline`` change inside the window?

    Fits a continuous broken power law in log-log, ``ln(y - b) = c + b1 min(x - x_b, 0) +
    b2 max(x - x_b, 0)`` (``x = ln t``), with the breakpoint scanned over the data points
    (at least ``min_points`` points on each side) and then refined between the neighbours
    of the best one, and compares it with the single power law: F-test of the nested models
    (2 extra parameters) and BIC. ``changed`` is ``p < 0.01 and ΔBIC > 0`` — both, at a
    strict level, because scanning the breakpoint makes the nominal p-value optimistic
    (on single power laws with multiplicative noise it fires in well under 5% of samples).

    Args:
        t, y: data, shape ``(n,)``; only ``t > 0`` in the window enter.
        window, baseline: as for :func:`fit_power_law`.
        min_points: fewest points on each side of the breakpoint (≥ 2).

    Returns:
        :class:`ExponentChange`.

    Raises:
        InvalidInputError: fewer than ``2 min_points`` (and 5) points in the window,
            ``y - baseline ≤ 0`` there, bad window or ``min_points``.
    """
    from scipy.optimize import minimize_scalar
    from scipy.stats import f as f_dist

    if isinstance(min_points, bool) or int(min_points) != min_points or min_points < 2:
        raise InvalidInputError(f"min_points must be a whole number >= 2, got {min_points!r}")
    m = int(min_points)
    data = _prepare(t, y, window, baseline, None, fewest=max(2 * m, 5))
    x, z = data.x, data.z
    n = x.size
    single = _power_law(data)
    rss1 = single.residual_rms**2 * n
    # breakpoint at x[k]: points x ≤ x[k] (k + 1 of them) before, x > x[k] after
    candidates = range(m - 1, n - m)
    rss_at = [_broken_rss(x, z, x[k]) for k in candidates]
    best = candidates[int(np.argmin(rss_at))]
    lo_x, hi_x = x[max(best - 1, m - 1)], x[min(best + 1, n - m)]
    xb = float(x[best])
    rss2 = float(np.min(rss_at))
    if hi_x > lo_x:
        refined = minimize_scalar(
            lambda v: _broken_rss(x, z, v), bounds=(lo_x, hi_x), method="bounded",
            options={"xatol": 1e-6 * max(1.0, abs(hi_x - lo_x))},
        )
        if refined.fun < rss2:
            xb, rss2 = float(refined.x), float(refined.fun)
    design = _broken_design(x, xb)
    coef, *_ = np.linalg.lstsq(design, z, rcond=None)
    dof2 = n - 4
    # exact data leave only rounding in the residuals: below that neither model is better
    floor = n * (64 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(z))))) ** 2
    r1, r2 = max(rss1, floor), max(rss2, floor)
    # asymptotic covariance of the nonlinear model (c, b1, b2, x_b): the breakpoint's own
    # uncertainty widens the exponents' errors (conditional ones are ~20% too small)
    d = x - xb
    jac = np.column_stack([design, -(coef[1] * (d < 0) + coef[2] * (d > 0))])
    try:
        var = np.diag(np.linalg.inv(jac.T @ jac)) * r2 / dof2
    except np.linalg.LinAlgError:
        var = np.full(4, np.nan)
    if not (np.all(np.isfinite(var)) and np.all(var >= 0)):
        # equal exponents leave x_b unidentified: the errors at the fitted breakpoint
        var = np.append(np.diag(np.linalg.pinv(design.T @ design)) * r2 / dof2, math.inf)
    f_stat = max((r1 - r2) / 2.0, 0.0) / (r2 / dof2)
    p = float(f_dist.sf(f_stat, 2, dof2))
    delta_bic = float(n * math.log(r1 / n) + 2 * math.log(n) - n * math.log(r2 / n)
                      - 4 * math.log(n))
    return ExponentChange(
        breakpoint=float(math.exp(xb)),
        exponent_before=float(coef[1]),
        exponent_before_err=float(math.sqrt(var[1])),
        exponent_after=float(coef[2]),
        exponent_after_err=float(math.sqrt(var[2])),
        breakpoint_log_err=float(math.sqrt(var[3])),
        f_statistic=float(f_stat),
        p_value=p,
        delta_bic=delta_bic,
        changed=bool(p < 0.01 and delta_bic > 0),
        single=single,
        rss_single=float(rss1),
        rss_broken=float(rss2),
        n_points=int(n),
        min_points=m,
    )


def _scan_series(ds: xr.Dataset, variable: str) -> tuple[np.ndarray, np.ndarray]:
    if variable not in ds.data_vars:
        raise InvalidInputError(
            f"the scan has no variable {variable!r}; it has {sorted(map(str, ds.data_vars))}"
        )
    da = ds[variable]
    if da.dims != ("epoch",):
        raise InvalidInputError(f"{variable!r} has dims {da.dims}; need ('epoch',)")
    t = np.asarray(ds["epoch"].values, dtype=float)
    y = np.asarray(da.values, dtype=float)
    keep = np.isfinite(y)
    if "status" in ds:
        keep &= np.asarray(ds["status"].values, dtype=str) == "ok"
    return t[keep], y[keep]


def fit_scan(
    ds: xr.Dataset,
    variable: str = "T_c",
    *,
    window: Window = None,
    baseline: Baseline = "first",
    sigma: float | Sequence[float] | np.ndarray | None = None,
) -> PowerLawFit:
    """:func:`fit_power_law` of one variable of a scan against the epoch.

    Default: ``T_c(t) - T_c(0) = A t^b`` (arXiv 2408.06421, section 3.2). Epochs whose
    ``status`` is not ``"ok"`` or whose value is NaN are left out; ``baseline="first"`` is
    the value at the first epoch kept (epoch 0 when it was scanned).
    """
    t, y = _scan_series(ds, variable)
    if sigma is not None and np.ndim(sigma) != 0:
        raise InvalidInputError("fit_scan takes a single sigma; use fit_power_law per point")
    return fit_power_law(t, y, window=window, baseline=baseline, sigma=sigma)


def scan_exponent_change(
    ds: xr.Dataset,
    variable: str = "T_c",
    *,
    window: Window = None,
    baseline: Baseline = "first",
    min_points: int = 4,
) -> ExponentChange:
    """:func:`detect_exponent_change` of one variable of a scan against the epoch."""
    t, y = _scan_series(ds, variable)
    return detect_exponent_change(t, y, window=window, baseline=baseline, min_points=min_points)
