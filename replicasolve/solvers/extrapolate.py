"""Extrapolation of k-step RSB values to k → ∞."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["extrapolate_k"]


def extrapolate_k(ks: Sequence[int], values: Sequence[float]) -> tuple[float, float, float]:
    """Extrapolate f_k → f_∞ assuming f_k = f_∞ + a k^{-p} (1 + b/k) for large k.

    The exponent p is fitted (the k-step Parisi values approach their limit like k^{-3..-4}
    for SK at T = 0, Oppermann–Schmidt–Sherrington, PRL 98 (2007)), from the last five
    points (with the 1/k correction when there are four or more); the error estimate is the
    larger of the spread between that fit and a three-point fit without the correction, and
    the change of the three-point fit when the largest k is dropped (with only three values,
    the distance from the last value to the extrapolation), and never less than the largest
    misfit of the five-point fit (the scatter of the values about the fitted trend). An
    extrapolation step larger than the variation of the fitted values is refused as noise:
    the last value is returned, with that variation as its error.

    Returns ``(f_inf, error, p)``. With values already converged to rounding, the last
    value is returned with its spread.
    """
    k = np.asarray(ks, dtype=float)
    f = np.asarray(values, dtype=float)
    if k.size < 3:
        raise ValueError("need three values to extrapolate")
    spread = float(np.max(np.abs(np.diff(f[-3:]))))
    if spread < 1e-13 * max(1.0, abs(f[-1])):
        return float(f[-1]), spread, math.nan

    def fit(kk: np.ndarray, ff: np.ndarray, correction: bool) -> tuple[float, float, float]:
        best = (math.inf, math.nan, math.nan, math.nan)
        for p in np.linspace(0.5, 8.0, 751):
            cols = [np.ones_like(kk), kk**-p]
            if correction:
                cols.append(kk ** (-p - 1))
            a = np.stack(cols, axis=1)
            coef, *_ = np.linalg.lstsq(a, ff, rcond=None)
            resid = a @ coef - ff
            res = float(np.sum(resid**2))
            if res < best[0] - 1e-30:
                best = (res, float(coef[0]), float(p), float(np.max(np.abs(resid))))
        return best[1], best[2], best[3]

    n_fit = min(5, k.size)
    f1, p1, misfit = fit(k[-n_fit:], f[-n_fit:], correction=k.size >= 4)
    f2, _, _ = fit(k[-3:], f[-3:], correction=False)
    # the values are not exactly on any curve of the family (each k-step optimum carries
    # the optimiser's own error): the largest misfit is a floor under the error (measured:
    # SK at h = 0.3, T = 0.5, k-step values scatter by ~1e-9 about a smooth trend while the
    # fits agree to 1e-9 among themselves)
    err = max(abs(f1 - f2), misfit)
    if k.size >= 4:
        f3, _, _ = fit(k[-4:-1], f[-4:-1], correction=False)
        err = max(err, abs(f2 - f3))
    else:
        # three values fix the three-parameter fit exactly: nothing is left to compare it
        # with, so the whole extrapolation step is the (conservative) error
        err = abs(f1 - float(f[-1]))
    # a k^{-p} tail from k_last on is smaller than the change over the fitted values for any
    # p the fit allows from their spacing; a step beyond that is the fit amplifying noise
    # (measured: k-step energies scattering by 2e-7 without a trend were "extrapolated" by
    # 9e-6): then the last value, with the whole variation as its error
    fitted = f[-n_fit:]
    variation = float(np.max(fitted) - np.min(fitted))
    if abs(f1 - float(f[-1])) > variation:
        return float(f[-1]), max(err, variation), p1
    return f1, err, p1
