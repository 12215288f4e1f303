"""Figures of a sweep result (:func:`replicasolve.sweeps.run_sweep`): the quantity over one
axis (curves, one per value of a second axis) or over two axes (a heat map, or coloured
phase regions with their boundaries marked). matplotlib is imported only here, on the Agg
canvas, and files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["plot_sweep"]

FORMATS = ("png", "pdf", "svg")
_PHASE_COLOURS = ("#4c72b0", "#dd8452", "#c44e52", "#8172b3")  # RS, RSB, 1RSB, FRSB


def _label(ds: Any, name: str) -> str:
    var = ds[name]
    units = var.attrs.get("units", "")
    text = var.attrs.get("long_name", name)
    return f"{text} [{units}]" if units and units != "1" else text


def _numeric_axis(values: np.ndarray) -> bool:
    return np.issubdtype(np.asarray(values).dtype, np.number)


def _phase_labels(da: Any) -> dict[int, str]:
    codes = np.atleast_1d(da.attrs.get("flag_values", []))
    names = str(da.attrs.get("flag_meanings", "")).split()
    if len(codes) != len(names) or not names:
        raise InvalidInputError(f"{da.name!r} has no flag_values/flag_meanings to label phases")
    return {int(c): n for c, n in zip(codes, names, strict=True)}


def plot_sweep(
    ds: Any,
    stem: str | os.PathLike,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
    variable: str | None = None,
) -> list[Path]:
    """Draw a sweep Dataset and save ``<stem>.<format>`` for each format.

    Args:
        ds: a sweep result (dims = the sweep's axes, in order; the quantity as a variable;
            a phase quantity carries ``flag_values``/``flag_meanings``).
        stem: output path without suffix.
        formats: any of ``png``, ``pdf``, ``svg``.
        force: overwrite existing files (otherwise refused before drawing).
        variable: which data variable to draw (default: the sweep's quantity).

    Returns:
        The written paths.

    Raises:
        InvalidInputError: no such variable, more than two axes, unknown format, or files
            that exist without ``force``.
    """
    from . import save_figure, style

    name = variable or ds.attrs.get("quantity")
    if name not in ds.data_vars:
        raise InvalidInputError(f"the Dataset has no variable {name!r} to plot")
    da = ds[name]
    if da.ndim not in (1, 2):
        raise InvalidInputError(
            f"{name!r} has {da.ndim} axes {da.dims}; plot one or two (select the rest with "
            "ds.sel(...) first)"
        )
    if not formats or any(f not in FORMATS for f in formats):
        raise InvalidInputError(f"formats must be among {FORMATS}, got {tuple(formats)}")
    stem = Path(stem)
    paths = [stem.with_name(f"{stem.name}.{f}") for f in formats]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise InvalidInputError(f"{', '.join(existing)} already exist(s) (use --force)")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    style()
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    is_phase = "flag_meanings" in da.attrs
    x_dim = da.dims[-1]
    x = ds[x_dim].values
    if da.ndim == 1 or not is_phase:
        if da.ndim == 1:
            ax.plot(x, da.values, "o-", ms=3)
        elif not is_phase and _numeric_axis(ds[da.dims[0]].values) and da.shape[0] > 8:
            _heat_map(fig, ax, ds, da)
        else:
            for i, v in enumerate(ds[da.dims[0]].values):
                ax.plot(x, da.values[i], "o-", ms=3, label=f"{da.dims[0]} = {v}")
            ax.legend(frameon=False, fontsize="small")
        if not (da.ndim == 2 and not is_phase and da.shape[0] > 8):
            ax.set_xlabel(_label(ds, x_dim))
            ax.set_ylabel(_label(ds, name))
    else:
        _phase_map(ax, ds, da)
    ax.set_title(str(ds.attrs.get("title", name)), fontsize="small")
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, str(p))
    return paths


def _edges(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _heat_map(fig: Any, ax: Any, ds: Any, da: Any) -> None:
    y_dim, x_dim = da.dims
    mesh = ax.pcolormesh(_edges(ds[x_dim].values), _edges(ds[y_dim].values),
                         np.asarray(da.values, dtype=float), shading="flat")
    bar = fig.colorbar(mesh, ax=ax)
    bar.set_label(_label(ds, str(da.name)))
    ax.set_xlabel(_label(ds, x_dim))
    ax.set_ylabel(_label(ds, y_dim))


def _phase_map(ax: Any, ds: Any, da: Any) -> None:
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    labels = _phase_labels(da)
    codes = sorted(labels)
    y_dim, x_dim = da.dims
    values = np.asarray(da.values, dtype=float)
    values[values < 0] = np.nan  # failed points stay blank, never painted as a phase
    colours = [_PHASE_COLOURS[c % len(_PHASE_COLOURS)] for c in codes]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm([c - 0.5 for c in codes] + [codes[-1] + 0.5], cmap.N)
    xe, ye = _edges(ds[x_dim].values), _edges(ds[y_dim].values)
    ax.pcolormesh(xe, ye, np.ma.masked_invalid(values), cmap=cmap, norm=norm, shading="flat")
    # boundaries: a line on every cell edge where the phase changes
    for i in range(values.shape[0]):
        for j in range(values.shape[1] - 1):
            if values[i, j] != values[i, j + 1] and np.isfinite(values[i, j] + values[i, j + 1]):
                ax.plot([xe[j + 1]] * 2, [ye[i], ye[i + 1]], "k-", lw=1.2)
    for i in range(values.shape[0] - 1):
        for j in range(values.shape[1]):
            if values[i, j] != values[i + 1, j] and np.isfinite(values[i, j] + values[i + 1, j]):
                ax.plot([xe[j], xe[j + 1]], [ye[i + 1]] * 2, "k-", lw=1.2)
    present = [c for c in codes if np.any(values == c)]
    ax.legend(handles=[Patch(color=colours[codes.index(c)], label=labels[c]) for c in present],
              frameon=True, facecolor="white", framealpha=0.9, fontsize="small", loc="best")
    ax.set_xlabel(_label(ds, x_dim))
    ax.set_ylabel(_label(ds, y_dim))
