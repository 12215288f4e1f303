"""The figure of a descriptor curve: q̄(T) with error bars and P(q) panels
(:func:`replicasolve.studies.descriptor.descriptor_curve` makes the Dataset)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidInputError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["plot_descriptor"]


def plot_descriptor(curves: xr.Dataset | Mapping[str, xr.Dataset], path: str | os.PathLike
                    | None = None, *, force: bool = False) -> Any:
    """Draw q̄(T) with error bars and, where stored, P(q) panels; return the Figure.

    Args:
        curves: one descriptor Dataset, or ``{label: Dataset}`` to compare several (P(q)
            panels are drawn for the temperatures of the first that has them).
        path: where to save (PNG, PDF or SVG by the suffix), atomically; None: only draw.
        force: overwrite an existing file.

    Raises:
        InvalidInputError: ``path`` exists without ``force``, an unknown suffix, or a
            Dataset without ``q_bar``.
    """
    import xarray as xr
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from . import save_figure, style

    if isinstance(curves, xr.Dataset) or not isinstance(curves, Mapping):
        curves = {"": curves}  # a Dataset is itself a Mapping (of its variables)
    if not curves:
        raise InvalidInputError("nothing to plot")
    for label, ds in curves.items():
        if "q_bar" not in getattr(ds, "variables", {}):
            raise InvalidInputError(f"curve {label!r} is not a descriptor Dataset (no q_bar)")
    if path is not None:
        p = Path(path)
        if p.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise InvalidInputError(f"{p}: figure suffix must be .png, .pdf or .svg")
        if p.exists() and not force:
            raise InvalidInputError(f"{p} already exists (use --force / force=True)")
    style()
    with_pq = next((ds for ds in curves.values() if "pq" in ds.variables), None)
    n_pq = 0 if with_pq is None else int(with_pq.sizes["T_pq"])
    w, h = Figure().get_size_inches()
    cols = max(n_pq, 1)
    fig = Figure(figsize=(max(w, 2.6 * cols), h * (2 if n_pq else 1)))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2 if n_pq else 1, cols)
    ax = fig.add_subplot(grid[0, :])
    for label, ds in curves.items():
        t = np.asarray(ds["T"].values, dtype=float)
        line = ax.errorbar(t, ds["q_bar"].values, yerr=ds["q_bar_err"].values, marker="o",
                           ms=3, capsize=2, label=label or None)
        bad = np.asarray(ds["equilibrated"].values) == 0
        if np.any(bad):
            ax.plot(t[bad], ds["q_bar"].values[bad], "x", color=line[0].get_color(), ms=8)
        para = ds.attrs.get("q_bar_paramagnet")
        if para is not None:
            ax.axhline(float(para), ls=":", lw=0.8, color=line[0].get_color())
    ax.set_xlabel("temperature T (units of the couplings)")
    ax.set_ylabel(r"$\bar q(T)$ = mean $|Q_{ab}|$")
    ax.set_ylim(0, 1.02)
    ax.text(0.99, 0.99, "dotted: T = inf value; x: not equilibrated", transform=ax.transAxes,
            ha="right", va="top", fontsize=7)
    if any(curves):
        ax.legend(frameon=False, fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.93))
    for j in range(n_pq):
        axp = fig.add_subplot(grid[1, j])
        for label, ds in curves.items():
            if "pq" not in ds.variables or j >= ds.sizes["T_pq"]:
                continue
            axp.plot(ds["q_bin"].values, ds["pq"].values[j], lw=1, label=label or None)
        axp.set_title(f"T = {float(with_pq['T_pq'].values[j]):.3g}", fontsize=9)
        axp.set_xlabel("q")
        if j == 0:
            axp.set_ylabel("P(q)")
    fig.tight_layout()
    if path is not None:
        save_figure(fig, str(path))
    return fig
