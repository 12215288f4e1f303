"""Phase diagrams of random-MLP input landscapes (Gaussian limit) over depth × temperature.

For each depth the RS solution of the spherical model with ξ = K_{L+1} is found for *all*
temperatures at once: the RS saddle β² ξ'(q)(1 - q)² = q (Crisanti–Sommers) is bracketed on a
q-grid shared by every T (one vectorised evaluation of ξ'), every root is refined by
vectorised safeguarded Newton steps warm-started inside its bracket, and the root with the
lowest RS functional P(q) = ½[β²(ξ(1) - ξ(q)) + q/(1-q) + ln(1-q)] is kept (the Parisi
formula is an infimum). Its replicon 1 - β² ξ''(q)(1 - q)² decides local stability:
``phase`` is 0 (RS, replicon ≥ 0) or 1 (RSB, replicon < 0). With ``classify=True`` the RSB
points are further split into 1RSB (2) and FRSB (3) by :func:`replicasolve.solvers.phase`,
which compares the RS, 1RSB and 2RSB optima (slower; it also catches discontinuous
transitions at RS-stable points, which the replicon alone cannot). Those solves run along T
in the order given, each warm-started from the previous temperature's solutions
(:func:`replicasolve.solvers.classify.classify_detail`); the labels are those of cold
solves.

The result is an ``xarray.Dataset`` with dims ``(depth, T)`` carrying the package version
and settings; ``to_netcdf`` works with xarray's scipy backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["PHASE_LABELS", "landscape_phase_diagram", "landscape_variance_diagram",
           "rs_spherical_all_T"]

PHASE_LABELS = {0: "RS", 1: "RSB", 2: "1RSB", 3: "FRSB"}
_SCAN = 257  # q-grid of the root scan (brackets every sign change of the saddle equation)


def rs_spherical_all_T(xi: Any, temperatures: np.ndarray, newton_iter: int = 60
                       ) -> dict[str, np.ndarray]:
    """RS solution of the spherical model with covariance ``xi`` at every T (T > 0).

    Returns arrays over T: ``q``, ``replicon``, ``free_energy`` f = -T·inf_q P(q),
    ``energy`` e = -β(ξ(1) - ξ(q)), and ``residual`` |β²ξ'(q)(1-q)² - q|.
    """
    T = np.asarray(temperatures, dtype=float)
    if T.ndim != 1 or np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise InvalidInputError("temperatures must be a 1-D array of finite values > 0")
    beta = 1.0 / T
    qg = np.linspace(0.0, 1.0, _SCAN)[:-1]
    _x0g, x1g, _, _ = xi.derivatives(qg)
    x1_one = float(xi.derivatives(np.array([1.0]))[0][0])
    g = beta[:, None] ** 2 * x1g[None, :] * (1 - qg[None, :]) ** 2 - qg[None, :]
    # candidate roots: q = 0 when ξ'(0) = 0 (then g(0) = 0), and every sign change
    best_q = np.zeros(T.size)
    best_p = np.full(T.size, np.inf)

    def rs_p(q: np.ndarray, b: np.ndarray) -> np.ndarray:
        x0 = xi.derivatives(q)[0]
        return 0.5 * (b**2 * (x1_one - x0) + q / (1 - q) + np.log1p(-q))

    zero_root = np.abs(g[:, 0]) <= 1e-15
    if np.any(zero_root):
        p0 = rs_p(np.zeros(T.size), beta)
        best_q = np.where(zero_root, 0.0, best_q)
        best_p = np.where(zero_root, p0, best_p)
    sign = np.sign(g)
    for j in range(_SCAN - 2):
        change = (sign[:, j] * sign[:, j + 1] < 0)
        if not np.any(change):
            continue
        idx = np.nonzero(change)[0]
        lo = np.full(idx.size, qg[j])
        hi = np.full(idx.size, qg[j + 1])
        glo = g[idx, j]
        b = beta[idx]
        q = lo - glo * (hi - lo) / (g[idx, j + 1] - glo)  # secant start inside the bracket
        for _ in range(newton_iter):
            _, d1, d2, _ = xi.derivatives(q)
            val = b**2 * d1 * (1 - q) ** 2 - q
            der = b**2 * (d2 * (1 - q) ** 2 - 2 * d1 * (1 - q)) - 1
            # keep the bracket: a Newton step that leaves it is replaced by bisection
            pos = np.sign(val) == np.sign(glo)
            lo = np.where(pos, q, lo)
            hi = np.where(pos, hi, q)
            with np.errstate(divide="ignore", invalid="ignore"):
                qn = q - val / der
            bad = ~np.isfinite(qn) | (qn <= lo) | (qn >= hi)
            qn = np.where(bad, 0.5 * (lo + hi), qn)
            if np.all(np.abs(qn - q) <= 1e-15):
                q = qn
                break
            q = qn
        p = rs_p(q, b)
        better = p < best_p[idx]
        best_q[idx[better]] = q[better]
        best_p[idx[better]] = p[better]
    _, d1, d2, _ = xi.derivatives(best_q)
    replicon = 1 - beta**2 * d2 * (1 - best_q) ** 2
    x0 = xi.derivatives(best_q)[0]
    return {
        "q": best_q,
        "replicon": replicon,
        "free_energy": -T * best_p,
        "energy": -beta * (x1_one - x0),
        "residual": np.abs(beta**2 * d1 * (1 - best_q) ** 2 - best_q),
    }


def landscape_phase_diagram(activation: str, depths: Sequence[int],
                            temperatures: Sequence[float], sigma_w2: float = 1.0,
                            sigma_b2: float = 0.0, classify: bool = False) -> Any:
    """RS/RSB phase diagram over (depth, T) in the Gaussian limit, as an ``xarray.Dataset``.

    Variables (dims ``depth, T``): ``phase`` (codes in :data:`PHASE_LABELS`), ``replicon``,
    ``q_rs``, ``f_rs``, ``e_rs`` (RS free energy and energy per input dimension), and over
    ``depth``: ``rs_ground_state_stable`` (ξ''(1) ≤ ξ'(1)).
    """
    import xarray as xr

    from ..models.landscape import RandomMLPLandscape
    from ..version import __version__

    depths = [int(d) for d in depths]
    temps = np.asarray(temperatures, dtype=float)
    if not depths or temps.size == 0:
        raise InvalidInputError("need at least one depth and one temperature")
    shape = (len(depths), temps.size)
    out = {k: np.empty(shape) for k in ("replicon", "q_rs", "f_rs", "e_rs")}
    phase = np.zeros(shape, dtype=np.int8)
    gs_stable = np.zeros(len(depths), dtype=bool)
    for i, d in enumerate(depths):
        land = RandomMLPLandscape(activation, d, sigma_w2, sigma_b2)
        sol = rs_spherical_all_T(land.xi, temps)
        out["replicon"][i] = sol["replicon"]
        out["q_rs"][i] = sol["q"]
        out["f_rs"][i] = sol["free_energy"]
        out["e_rs"][i] = sol["energy"]
        phase[i] = np.where(sol["replicon"] >= 0, 0, 1)
        _, d1, d2, _ = land.xi.derivatives(np.array([1.0]))
        gs_stable[i] = bool(np.isfinite(d2[0]) and d2[0] <= d1[0])
        if classify:
            from ..solvers.classify import classify_detail

            # along T, each classified point warm-starts the 1RSB/2RSB solves of the next
            # one (the temperatures in the order given; a point not classified breaks the
            # chain, and the next one starts cold)
            prev = None
            for j, T in enumerate(temps):
                if phase[i, j] != 1:
                    prev = None
                    continue
                prev = classify_detail(land.model(float(T)), start=prev)
                phase[i, j] = {"RS": 1, "1RSB": 2, "FRSB": 3}[prev.label]
    ds = xr.Dataset(
        {k: (("depth", "T"), v) for k, v in out.items()}
        | {"phase": (("depth", "T"), phase),
           "rs_ground_state_stable": (("depth",), gs_stable)},
        coords={"depth": depths, "T": temps},
        attrs={
            "replicasolve_version": __version__,
            "activation": str(activation), "sigma_w2": float(sigma_w2),
            "sigma_b2": float(sigma_b2), "limit": "infinite width (Gaussian)",
            "phase_labels": ", ".join(f"{k}={v}" for k, v in PHASE_LABELS.items()),
            "classified": int(bool(classify)),
            "criterion": "RS replicon 1 - beta^2 xi''(q)(1-q)^2 >= 0 (Crisanti-Sommers)",
        },
    )
    return ds


def landscape_variance_diagram(activation: str, depth: int, sigma_w2s: Sequence[float],
                               sigma_b2s: Sequence[float], temperatures: Sequence[float],
                               classify: bool = False) -> Any:
    """RS/RSB phase diagram over (σ_w², σ_b², T) at fixed depth, Gaussian limit, as an
    ``xarray.Dataset`` with the variables of :func:`landscape_phase_diagram` on dims
    ``(sigma_w2, sigma_b2, T)``. Each (σ_w², σ_b²) is its own network kernel (built once,
    then cached on disk by :func:`replicasolve.kernels.compose.xi_function`)."""
    import xarray as xr

    sws = [float(v) for v in sigma_w2s]
    sbs = [float(v) for v in sigma_b2s]
    if not sws or not sbs:
        raise InvalidInputError("need at least one sigma_w2 and one sigma_b2")
    slices = []
    for sw in sws:
        row = [landscape_phase_diagram(activation, [depth], temperatures, sw, sb, classify)
               .isel(depth=0, drop=True) for sb in sbs]
        slices.append(xr.concat(row, dim="sigma_b2"))
    ds = xr.concat(slices, dim="sigma_w2")
    ds = ds.assign_coords(sigma_w2=sws, sigma_b2=sbs)
    ds.attrs.update(depth=int(depth), sigma_w2="see coordinate", sigma_b2="see coordinate")
    return ds
