"""Figures of a training scan, like those of Barney, Winer & Galitski (arXiv 2408.06421).

Input: the ``xarray.Dataset`` of a TAP scan over the epochs of one training run (dimension
``epoch``; optional ``beta`` for ``lambda_min_curve`` and ``level`` for the spectra;
scalars ``threshold`` and ``beta_star_reference``; attributes ``beta_c_msk``, ``T_c_msk``,
``variance_factors`` and ``layer_sizes`` (JSON lists), ``definition``, ``settings``,
``version``, ``run_dir``). Every function draws one figure in the house style
(:func:`replicasolve.plot.style`) either into given axes or into a new figure that it saves
atomically (temporary name, then rename) as PNG, PDF and/or SVG. Existing files are
refused unless ``force=True``. Epoch series of TAP quantities leave out the epochs whose
``status`` is not ``"ok"``. matplotlib is imported inside the functions only, and new
figures are drawn on an Agg canvas without pyplot (no global backend switch, nothing to
close).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "FigureList",
    "plot_diagonal_change",
    "plot_errors",
    "plot_lambda_max_J",
    "plot_lambda_min_curves",
    "plot_level_spacing",
    "plot_spectra",
    "plot_tc",
    "training_figures",
]

log = logging.getLogger(__name__)

FORMATS = ("png", "pdf", "svg")
Target = str | os.PathLike | Any  # a file path, a path stem, or matplotlib Axes


class FigureList(list):
    """The written paths (a ``list[Path]``), plus ``skipped``: ``{figure: reason}``."""

    def __init__(self, paths: Sequence[Path] = (), skipped: Mapping[str, str] | None = None):
        super().__init__(paths)
        self.skipped: dict[str, str] = dict(skipped or {})


# ---------------------------------------------------------------- output handling


def _is_axes(obj: Any) -> bool:
    return hasattr(obj, "plot") and hasattr(obj, "figure")


def _targets(target: str | os.PathLike, formats: Sequence[str]) -> list[Path]:
    path = Path(target)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return [path]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidInputError(f"formats must be among {FORMATS}, got {tuple(formats)}")
    # a stem: one file per format (a dotted stem such as "run.1" keeps its dot)
    return [path.with_name(f"{path.name}.{f}") for f in formats]


def _check_free(paths: Sequence[Path], force: bool) -> None:
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise InvalidInputError(
            f"{', '.join(existing)} already exist(s) (use force=True to overwrite)"
        )
    for p in paths:
        if p.exists() and p.is_dir():
            raise InvalidInputError(f"{p} is a directory")


def _new_axes(ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from . import style

    style()
    if ncols == 1:
        fig = Figure()
    else:
        w, h = Figure().get_size_inches()
        fig = Figure(figsize=(w * ncols * 0.85, h))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _output(target: Target, formats: Sequence[str], force: bool, ncols: int = 1
            ) -> tuple[Any, Any, list[Path]]:
    """Axes to draw into and the files to write afterwards (checked before drawing)."""
    if _is_axes(target):
        if ncols != 1:
            raise InvalidInputError(f"this figure needs {ncols} axes, got one")
        return target.figure, target, []
    if isinstance(target, Sequence) and not isinstance(target, str) and target \
            and all(_is_axes(a) for a in target):
        if len(target) != ncols:
            raise InvalidInputError(f"this figure needs {ncols} axes, got {len(target)}")
        return target[0].figure, list(target), []
    if not isinstance(target, (str, os.PathLike)):
        raise InvalidInputError(
            f"target must be a file path or matplotlib Axes, got {type(target).__name__}"
        )
    paths = _targets(target, formats)
    _check_free(paths, force)
    fig, axes = _new_axes(ncols)
    return fig, axes, paths


def _save(fig: Any, paths: Sequence[Path]) -> list[Path]:
    from . import save_figure

    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        save_figure(fig, str(p))
    return list(paths)


# ---------------------------------------------------------------- dataset access


def _require(ds: Any, *names: str) -> None:
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise InvalidInputError(
            f"the scan Dataset has no {', '.join(repr(m) for m in missing)}"
        )


def _values(ds: Any, name: str) -> np.ndarray:
    return np.asarray(ds[name].values, dtype=float)


def _epochs(ds: Any) -> np.ndarray:
    if "epoch" not in ds.dims and "epoch" not in ds.variables:
        raise InvalidInputError("the scan Dataset has no 'epoch' dimension")
    return np.asarray(ds["epoch"].values, dtype=float)


def _series(ds: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and values of an epoch series where finite and the scan's status is "ok"."""
    t = _epochs(ds)
    y = _values(ds, name)
    keep = np.isfinite(y)
    if "status" in ds.variables:
        keep &= np.asarray(ds["status"].values).astype(str) == "ok"
    return t[keep], y[keep]


def _scalar(ds: Any, name: str) -> float | None:
    if name in ds.variables:
        v = float(np.asarray(ds[name].values).reshape(-1)[0])
    elif name in ds.attrs:
        try:
            v = float(ds.attrs[name])
        except (TypeError, ValueError):
            return None
    else:
        return None
    return v if np.isfinite(v) else None


def _json_list(ds: Any, name: str) -> list[float] | None:
    raw = ds.attrs.get(name)
    if raw is None:
        return None
    try:
        val = json.loads(raw) if isinstance(raw, str) else raw
        out = [float(v) for v in np.atleast_1d(np.asarray(val, dtype=float))]
    except (TypeError, ValueError):
        return None
    return out or None


def _caption(ds: Any) -> str:
    c = _json_list(ds, "variance_factors")
    cs = "?" if c is None else (f"{c[0]:g}" if len(set(c)) == 1 else
                                "[" + ", ".join(f"{v:g}" for v in c) + "]")
    definition = ds.attrs.get("definition")
    return f"C = {cs}" + (f", {definition} $\\beta_c$" if definition else "")


def _has_data(ds: Any, name: str) -> bool:
    return name in ds.variables and bool(np.any(np.isfinite(_values(ds, name))))


def _rows_with_data(ds: Any, name: str) -> list[int]:
    vals = _values(ds, name)
    vals = vals.reshape(vals.shape[0], -1)
    return [i for i in range(vals.shape[0]) if np.any(np.isfinite(vals[i]))]


def _pick_epochs(ds: Any, name: str, epochs: Sequence[int] | None) -> list[int]:
    """Row indices of ``epochs`` (default: the first and last epochs with data)."""
    ep = _epochs(ds)
    rows = _rows_with_data(ds, name)
    if not rows:
        raise InvalidInputError(f"{name!r} has no finite values at any epoch")
    if epochs is None:
        return sorted({rows[0], rows[-1]})
    out = []
    for e in epochs:
        hit = np.flatnonzero(ep == float(e))
        if hit.size == 0:
            raise InvalidInputError(f"epoch {e} is not in the scan (epochs {ep.astype(int)})")
        if int(hit[0]) not in rows:
            raise InvalidInputError(f"{name!r} was not computed at epoch {e}")
        out.append(int(hit[0]))
    return out


def _bulk(ds: Any) -> tuple[list[int], list[float]] | None:
    sizes = _json_list(ds, "layer_sizes")
    c = _json_list(ds, "variance_factors")
    if sizes is None or c is None or len(sizes) < 2:
        return None
    if len(c) == 1:
        c = c * (len(sizes) - 1)
    if len(c) != len(sizes) - 1:
        return None
    return [int(s) for s in sizes], c


# ---------------------------------------------------------------- figures


def plot_lambda_min_curves(
    ds: Any,
    target: Target,
    *,
    epochs: Sequence[int] | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """``λ_min(A(β))`` against ``β`` at chosen epochs, with the threshold ``θ`` marked.

    Args:
        ds: scan Dataset with ``lambda_min_curve`` (epoch, beta); ``threshold``,
            ``beta_c`` and the attribute ``beta_c_msk`` are marked when present.
        target: a file (``.png``/``.pdf``/``.svg``), a path stem (one file per format), or
            Axes to draw into (nothing is written).
        epochs: epoch values to draw (default: the first and last with a curve).
        formats: formats for a path stem.
        force: overwrite existing files.

    Returns:
        the written paths (empty for Axes).
    """
    _require(ds, "lambda_min_curve")
    if "beta" not in ds.variables:
        raise InvalidInputError("'lambda_min_curve' needs a 'beta' coordinate")
    rows = _pick_epochs(ds, "lambda_min_curve", epochs)
    fig, ax, paths = _output(target, formats, force)
    beta = _values(ds, "beta")
    curves = _values(ds, "lambda_min_curve")
    ep = _epochs(ds)
    beta_c = _values(ds, "beta_c") if "beta_c" in ds.variables else None
    for i in rows:
        line, = ax.plot(beta, curves[i], label=f"epoch {int(ep[i])}")
        if beta_c is not None and np.isfinite(beta_c[i]):
            ax.axvline(beta_c[i], color=line.get_color(), lw=0.8, ls=":")
    theta = _scalar(ds, "threshold")
    if theta is not None:
        ax.axhline(theta, color="k", lw=0.8, ls="--", label=rf"threshold $\theta$ = {theta:.4g}")
    bmsk = _scalar(ds, "beta_c_msk")
    if bmsk is not None:
        ax.axvline(bmsk, color="0.5", lw=0.8, ls="-.", label=rf"MSK $\beta_c$ = {bmsk:.4g}")
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel(r"$\lambda_{\min}(A(\beta))$")
    ax.set_title(_caption(ds), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, paths)


def _fit_baseline(fit: Any, first: float) -> float:
    b = getattr(fit, "baseline", None)
    if b is None:
        return 0.0
    if isinstance(b, str):
        if b == "first":
            return first
        raise InvalidInputError(f"fit baseline {b!r}: expected a number or 'first'")
    return float(b)


def _fit_curve(fit: Any, first: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``t`` and ``baseline + prefactor · t^exponent`` over the fit's window."""
    for attr in ("exponent", "prefactor"):
        if not hasattr(fit, attr):
            raise InvalidInputError(f"fit object has no {attr!r} attribute")
    window = getattr(fit, "window", None)
    tpos = t[t > 0]
    if tpos.size == 0:
        return np.empty(0), np.empty(0)
    t0, t1 = (float(tpos.min()), float(tpos.max())) if window is None else map(float, window)
    if t0 <= 0:  # a power law in t is drawn on t > 0 only (log axes)
        t0 = float(tpos.min())
    tt = np.geomspace(t0, t1, 200)
    return tt, _fit_baseline(fit, first) + float(fit.prefactor) * tt ** float(fit.exponent)


def _fit_label(fit: Any, what: str) -> str:
    err = getattr(fit, "exponent_err", getattr(fit, "exponent_stderr", None))
    b = f"{float(fit.exponent):.3g}"
    if err is not None and np.isfinite(float(err)):
        b += rf" $\pm$ {float(err):.2g}"
    return f"fit {what} $\\propto t^{{b}}$, b = {b}"


def plot_tc(
    ds: Any,
    target: Target,
    *,
    log: bool = True,
    fit: Any = None,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """The TAP critical temperature ``T_c(t)`` over training.

    With ``log=True`` (default) ``|T_c(t) - T_c(0)|`` against ``t > 0`` on log-log axes
    (the paper's power laws are straight lines there); with ``log=False`` ``T_c(t)`` itself
    with the replica (MSK) ``T_c`` as a horizontal line.

    Args:
        ds: scan Dataset with ``T_c`` (epoch).
        target: file, path stem or Axes (see :func:`plot_lambda_min_curves`).
        log: log-log of the change (default) or linear axes.
        fit: optional power-law fit to overlay, an object with attributes ``exponent``,
            ``prefactor``, ``window`` (``(t0, t1)`` epochs, or None for all) and
            ``baseline`` (a number, ``"first"`` for ``T_c(0)``, or None for 0); the model is
            ``T_c(t) = baseline + prefactor · t^exponent``.
        formats, force: as in :func:`plot_lambda_min_curves`.

    Returns:
        the written paths (empty for Axes). The first line of the axes is the data.
    """
    _require(ds, "T_c")
    t, tc = _series(ds, "T_c")
    if tc.size == 0:
        raise InvalidInputError("'T_c' has no finite values at an epoch with status 'ok'")
    fig, ax, paths = _output(target, formats, force)
    first = float(tc[0])
    if log:
        sel = t > 0
        dy = tc[sel] - first
        ax.plot(t[sel], np.abs(dy), "o-", ms=3, label="TAP (instance)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        if np.all(dy >= 0):
            ax.set_ylabel(r"$T_c(t) - T_c(0)$")
        elif np.all(dy <= 0):
            ax.set_ylabel(r"$T_c(0) - T_c(t)$")
        else:
            ax.set_ylabel(r"$|T_c(t) - T_c(0)|$")
    else:
        ax.plot(t, tc, "o-", ms=3, label="TAP (instance)")
        tmsk = _scalar(ds, "T_c_msk")
        if tmsk is not None:
            ax.axhline(tmsk, color="0.5", lw=0.8, ls="--", label=f"MSK $T_c$ = {tmsk:.4g}")
        ax.set_ylabel(r"$T_c(t)$")
    if fit is not None:
        tt, yy = _fit_curve(fit, first, t)
        if log:
            yy = np.abs(yy - first)
        ax.plot(tt, yy, "k--", lw=1.0, label=_fit_label(fit, r"$T_c - T_c(0)$"))
    ax.set_xlabel("epoch t")
    ax.set_title(_caption(ds), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, paths)


def plot_level_spacing(
    ds: Any,
    target: Target,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """Normalised first level spacing of ``A(β_c)`` against the epoch.

    ``(λ_2 - λ_1) / median spacing``: about 1 while the lowest level sits in the bulk; it
    grows when a level splits off (the paper's signature of learned structure).

    Args: as in :func:`plot_lambda_min_curves`; needs ``normalized_first_spacing``.
    """
    _require(ds, "normalized_first_spacing")
    t, s = _series(ds, "normalized_first_spacing")
    fig, ax, paths = _output(target, formats, force)
    ax.plot(t, s, "o-", ms=3)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("epoch t")
    ax.set_ylabel("first spacing / median spacing of $A(\\beta_c)$")
    ax.set_title(_caption(ds), fontsize="small")
    return _save(fig, paths)


def _hist(ax: Any, values: np.ndarray, label: str, bins: Any) -> None:
    v = values[np.isfinite(values)]
    ax.hist(v, bins=bins, density=True, histtype="step", lw=1.0, label=label)


def plot_spectra(
    ds: Any,
    target: Target,
    *,
    epochs: Sequence[int] | None = None,
    which: Sequence[str] = ("A", "J"),
    bins: int = 60,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """Histograms of the spectra of ``A(β_c)`` and of ``J`` at two (or more) epochs.

    The ``J`` panel carries the random-initialisation bulk: the ``N → ∞`` density of the
    layered random ``J`` (:func:`replicasolve.tap.bond_density.bond_density`, from the
    attributes ``layer_sizes`` and ``variance_factors``) and its edges ``±λ_edge``
    (:func:`~replicasolve.tap.bond_density.bond_support_edge`). Histograms are normalised
    to unit area over all ``N`` eigenvalues, the same normalisation as the bulk density
    (whose atom at 0, if any, is given in the legend). The ``A`` panel marks the threshold.

    Args:
        ds: scan Dataset with ``spectrum_A`` and/or ``spectrum_J`` (epoch, level), NaN
            rows where not computed.
        target: file, path stem, Axes (``len(which) == 1``) or a sequence of
            ``len(which)`` Axes.
        epochs: epoch values (default: first and last with a spectrum).
        which: panels, ``"A"`` and/or ``"J"``.
        bins: histogram bins.
        formats, force: as in :func:`plot_lambda_min_curves`.
    """
    which = tuple(which)
    if not which or any(w not in ("A", "J") for w in which):
        raise InvalidInputError(f"which must hold 'A' and/or 'J', got {which}")
    _require(ds, *(f"spectrum_{w}" for w in which))
    rows = {w: _pick_epochs(ds, f"spectrum_{w}", epochs) for w in which}
    fig, axes, paths = _output(target, formats, force, ncols=len(which))
    axes = list(np.atleast_1d(axes))
    ep = _epochs(ds)
    for w, ax in zip(which, axes, strict=True):
        spec = _values(ds, f"spectrum_{w}")
        sel = spec[rows[w]]
        finite = sel[np.isfinite(sel)]
        lo, hi = float(finite.min()), float(finite.max())
        edge = None
        bulk = _bulk(ds) if w == "J" else None
        if bulk is not None:
            from ..tap.bond_density import bond_support_edge

            edge = bond_support_edge(*bulk)
            lo, hi = min(lo, -edge), max(hi, edge)
        pad = 0.02 * (hi - lo or 1.0)
        edges_bins = np.linspace(lo - pad, hi + pad, bins + 1)
        for i in rows[w]:
            _hist(ax, spec[i], f"epoch {int(ep[i])}", edges_bins)
        if w == "J":
            if bulk is not None and edge is not None:
                from ..tap.bond_density import bond_density, bond_density_atom

                x = np.linspace(-edge, edge, 801)
                atom = bond_density_atom(*bulk)
                lab = "random init, $N\\to\\infty$"
                if atom > 0:
                    lab += f" (+ atom {atom:.3g} at 0)"
                ax.plot(x, bond_density(bulk[0], bulk[1], x), "k-", lw=1.0, label=lab)
                for s in (-edge, edge):
                    ax.axvline(s, color="k", lw=0.8, ls=":")
                ax.plot([], [], "k:", lw=0.8, label=f"random bulk edge $\\pm${edge:.4g}")
            else:
                log.info("spectra: no layer_sizes/variance_factors attrs: no bulk overlay")
            ax.set_xlabel("eigenvalue of $J$")
        else:
            theta = _scalar(ds, "threshold")
            if theta is not None:
                ax.axvline(theta, color="k", lw=0.8, ls="--",
                           label=rf"threshold $\theta$ = {theta:.3g}")
            ax.set_xlabel(r"eigenvalue of $A(\beta_c)$")
        ax.set_ylabel("density")
        ax.legend(frameon=False, fontsize="x-small")
    axes[0].set_title(_caption(ds), fontsize="small", loc="left")
    return _save(fig, paths)


def plot_lambda_max_J(
    ds: Any,
    target: Target,
    *,
    fit: Any = None,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """``λ_max(J)`` against the epoch, with the random bulk edge as a horizontal line.

    The edge is the ``N → ∞`` right edge of the spectrum of the random layered ``J`` with
    the run's ``layer_sizes`` and ``variance_factors``
    (:func:`~replicasolve.tap.bond_density.bond_support_edge`); a trained ``λ_max(J)`` above
    it is an outlier split from the bulk. ``fit`` (same attributes as in :func:`plot_tc`)
    is overlaid in data units.
    """
    _require(ds, "lambda_max_J")
    t, y = _series(ds, "lambda_max_J")
    if y.size == 0:
        raise InvalidInputError(
            "'lambda_max_J' has no finite values at an epoch with status 'ok'"
        )
    fig, ax, paths = _output(target, formats, force)
    ax.plot(t, y, "o-", ms=3, label=r"$\lambda_{\max}(J)$")
    bulk = _bulk(ds)
    if bulk is not None:
        from ..tap.bond_density import bond_support_edge

        edge = bond_support_edge(*bulk)
        ax.axhline(edge, color="k", lw=0.8, ls="--",
                   label=f"random bulk edge ($N\\to\\infty$) = {edge:.4g}")
    if fit is not None:
        tt, yy = _fit_curve(fit, float(y[0]), t)
        lab = _fit_label(fit, r"$\lambda_{\max} - \lambda_{\max}(0)$")
        ax.plot(tt, yy, "k:", lw=1.0, label=lab)
    ax.set_xlabel("epoch t")
    ax.set_ylabel(r"$\lambda_{\max}(J)$")
    ax.set_title(_caption(ds), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, paths)


def plot_errors(
    ds: Any,
    target: Target,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """Training and validation error (fractions) against the epoch (whichever exist)."""
    names = [n for n in ("train_error", "val_error") if n in ds.variables]
    if not names:
        raise InvalidInputError("the scan Dataset has no 'train_error' or 'val_error'")
    t = _epochs(ds)
    fig, ax, paths = _output(target, formats, force)
    for n, lab in (("train_error", "training"), ("val_error", "validation")):
        if n in names:
            y = _values(ds, n)
            ok = np.isfinite(y)
            ax.plot(t[ok], y[ok], "o-", ms=3, label=lab)
    ax.set_xlabel("epoch t")
    ax.set_ylabel("error")
    ax.set_title(_caption(ds), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, paths)


def plot_diagonal_change(
    ds: Any,
    target: Target,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
) -> list[Path]:
    """Relative change of the Onsager diagonal ``d_i = Σ_j J_ij²`` against the epoch.

    Draws ``d_change_max``, ``d_change_norm`` and ``d_change_mean`` (those present) in
    percent; the paper reports the maximum never above 1.2 %.
    """
    names = [n for n in ("d_change_max", "d_change_norm", "d_change_mean") if n in ds.variables]
    if not names:
        raise InvalidInputError("the scan Dataset has no 'd_change_*' variables")
    fig, ax, paths = _output(target, formats, force)
    for n in names:
        t, y = _series(ds, n)
        ax.plot(t, 100.0 * y, "o-", ms=3, label=n.replace("d_change_", ""))
    ax.set_xlabel("epoch t")
    ax.set_ylabel(r"relative change of $d_i$ (%)")
    ax.set_title(_caption(ds), fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, paths)


_FIGURES: tuple[tuple[str, tuple[str, ...], Any], ...] = (
    ("lambda_min_curves", ("lambda_min_curve",), plot_lambda_min_curves),
    ("tc", ("T_c",), plot_tc),
    ("level_spacing", ("normalized_first_spacing",), plot_level_spacing),
    ("spectra", ("spectrum_A", "spectrum_J"), plot_spectra),
    ("lambda_max_J", ("lambda_max_J",), plot_lambda_max_J),
    ("errors", ("train_error", "val_error"), plot_errors),
    ("diagonal_change", ("d_change_max", "d_change_norm", "d_change_mean"),
     plot_diagonal_change),
)


def training_figures(
    ds: Any,
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("png", "pdf"),
    force: bool = False,
    fits: Mapping[str, Any] | Any = None,
) -> FigureList:
    """Draw every figure the scan Dataset supports into ``out_dir``.

    Files: ``lambda_min_curves``, ``tc``, ``level_spacing``, ``spectra``,
    ``lambda_max_J``, ``errors``, ``diagonal_change``, each in every format. A figure
    whose variables are absent or all NaN is skipped, logged, and named with the reason in
    the result's ``skipped``. All target files are checked before anything is drawn, so a
    refusal (existing files without ``force``) writes nothing.

    Args:
        ds: the scan Dataset (see the module docstring).
        out_dir: folder (created if missing).
        formats: any of ``"png"``, ``"pdf"``, ``"svg"``.
        force: overwrite existing files.
        fits: power-law fits to overlay: ``{"T_c": fit, "lambda_max_J": fit}`` (either key
            optional), or one fit object for ``T_c``; see :func:`plot_tc` for the
            attributes.

    Returns:
        a :class:`FigureList`: the written paths, with ``.skipped`` = ``{name: reason}``.
    """
    formats = tuple(formats)
    if not formats or any(f not in FORMATS for f in formats):
        raise InvalidInputError(f"formats must be among {FORMATS}, got {formats}")
    _epochs(ds)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out} exists and is not a directory")
    if fits is not None and not isinstance(fits, Mapping):
        fits = {"T_c": fits}
    fits = dict(fits or {})
    todo, skipped = [], {}
    for name, needs, func in _FIGURES:
        have = [v for v in needs if _has_data(ds, v)]
        if name == "lambda_min_curves" and have and "beta" not in ds.variables:
            have = []
        if not have:
            skipped[name] = f"no data in {' / '.join(needs)}"
            continue
        todo.append((name, have, func))
    targets = [out / f"{name}.{f}" for name, _, _ in todo for f in formats]
    _check_free(targets, force)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, have, func in todo:
        kwargs: dict[str, Any] = {"formats": formats, "force": force}
        if name == "tc" and fits.get("T_c") is not None:
            kwargs["fit"] = fits["T_c"]
        if name == "lambda_max_J" and fits.get("lambda_max_J") is not None:
            kwargs["fit"] = fits["lambda_max_J"]
        if name == "spectra":
            kwargs["which"] = tuple(v.rsplit("_", 1)[1] for v in have)
        written += func(ds, out / name, **kwargs)
    for name, reason in skipped.items():
        log.info("training figures: skipped %s (%s)", name, reason)
    return FigureList(written, skipped)
