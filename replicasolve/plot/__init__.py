"""Figures (matplotlib, imported lazily): one house style and the phase-diagram plot."""

from __future__ import annotations

from typing import Any

__all__ = ["entropy_curves", "phase_diagram", "style"]

_STYLE = {
    "figure.figsize": (5.0, 3.6),
    "figure.dpi": 120,
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "savefig.bbox": "tight",
}


def style() -> None:
    """Apply the house style to matplotlib's rcParams."""
    import matplotlib as mpl

    mpl.rcParams.update(_STYLE)


def save_figure(fig: Any, path: str) -> None:
    import os

    from ..files import atomic_write

    # the temporary name has no image suffix, so the format is given explicitly
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    atomic_write(path, lambda handle: fig.savefig(handle, format=fmt))


def entropy_curves(curves: dict[str, tuple[Any, Any]], ax: Any = None,
                   path: str | None = None) -> Any:
    """Plot S(E) curves ``{label: (E, S)}`` (e.g. from ``RandomMLPLandscape.entropy_curve``),
    both branches (S(-E) = S(E)); saves atomically to ``path`` when given."""
    import numpy as np

    if ax is None and path is not None:
        import matplotlib

        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    style()
    if ax is None:
        _, ax = plt.subplots()
    for label, (e, s) in curves.items():
        e = np.asarray(e)
        s = np.asarray(s)
        order = np.argsort(e)
        line, = ax.plot(e[order], s[order], label=label)
        ax.plot(-e[order], s[order], color=line.get_color())
    ax.set_xlabel("energy per input dimension E")
    ax.set_ylabel("entropy S(E)")
    ax.legend(frameon=False)
    if path is not None:
        save_figure(ax.figure, path)
    return ax


def phase_diagram(ds: Any, ax: Any = None, path: str | None = None) -> Any:
    """Draw a ``landscape_phase_diagram`` Dataset: phases as coloured cells over (depth, T),
    the replicon's zero contour on top. Saves to ``path`` (written to a temporary name, then
    renamed, so an interrupted save never leaves half a figure) when given; returns the axes.
    """
    import matplotlib

    if ax is None and path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from ..studies.landscape_diagram import PHASE_LABELS

    style()
    if ax is None:
        _, ax = plt.subplots()
    depth = ds["depth"].values
    temps = ds["T"].values
    codes = sorted(PHASE_LABELS)
    cmap = ListedColormap(["#d8e6f3", "#f4c7a1", "#e39b6b", "#b5533c"][: len(codes)])
    mesh = ax.pcolormesh(temps, depth, ds["phase"].values, cmap=cmap, vmin=-0.5,
                         vmax=len(codes) - 0.5, shading="nearest")
    if ds["replicon"].values.min() < 0 < ds["replicon"].values.max():
        ax.contour(temps, depth, ds["replicon"].values, levels=[0.0], colors="k",
                   linewidths=0.8)
    cbar = ax.figure.colorbar(mesh, ax=ax, ticks=codes)
    cbar.ax.set_yticklabels([PHASE_LABELS[c] for c in codes])
    ax.set_xlabel("temperature T")
    ax.set_ylabel("depth L")
    ax.set_title(f"{ds.attrs.get('activation', '')}: sigma_w2 = {ds.attrs.get('sigma_w2')}, "
                 f"sigma_b2 = {ds.attrs.get('sigma_b2')}")
    if path is not None:
        save_figure(ax.figure, path)
    return ax
