"""Figures of a training scan, on synthetic Datasets with the scan's schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("matplotlib")

from replicasolve.errors import InvalidInputError  # noqa: E402
from replicasolve.plot.training import (  # noqa: E402
    plot_errors,
    plot_lambda_max_J,
    plot_lambda_min_curves,
    plot_level_spacing,
    plot_spectra,
    plot_tc,
    training_figures,
)
from replicasolve.tap.bond_density import bond_density, bond_support_edge  # noqa: E402
from replicasolve.tap.bonds import random_layered  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIZES = [60, 40, 30]
C = 2.0


def make_scan(*, curve: bool = True, spectra: bool = True) -> xr.Dataset:
    """A scan Dataset as the scan module writes it (values made up but plausible)."""
    epochs = np.array([0, 1, 2, 5, 10, 20, 50])
    ne = epochs.size
    rng = np.random.default_rng(7)
    tc = 1.6 + 0.02 * epochs**0.6 + 0.001 * rng.standard_normal(ne)
    tc[0] = 1.6
    data = {
        "beta_c": ("epoch", 1 / tc),
        "T_c": ("epoch", tc),
        "beta_c_plain": ("epoch", 1 / tc - 0.01),
        "crossed_plain": ("epoch", np.ones(ne, dtype=bool)),
        "lambda_max_J": ("epoch", 3.2 + 0.05 * np.log1p(epochs)),
        "first_spacing": ("epoch", 0.01 * (1 + epochs / 10)),
        "median_spacing": ("epoch", np.full(ne, 0.01)),
        "normalized_first_spacing": ("epoch", 1 + epochs / 10),
        "d_change_max": ("epoch", 0.0002 * epochs),
        "d_change_norm": ("epoch", 0.0001 * epochs),
        "d_change_mean": ("epoch", 0.00005 * epochs),
        "train_error": ("epoch", 0.5 / (1 + epochs)),
        "val_error": ("epoch", 0.55 / (1 + epochs) + 0.02),
        "train_loss": ("epoch", 5.0 / (1 + epochs)),
        "status": ("epoch", np.array(["ok"] * (ne - 1) + ["epoch_0050.npz: corrupt"])),
        "threshold": ((), 0.05),
        "beta_star_reference": ((), 1.0),
    }
    data["T_c"][1][-1] = np.nan  # the failed epoch
    coords = {"epoch": epochs}
    if curve:
        beta = np.linspace(0.3, 1.2, 25)
        coords["beta"] = beta
        curves = np.array([1 / beta + beta * 2.2 - 3.0 - 0.01 * e for e in epochs])
        curves[-1] = np.nan
        data["lambda_min_curve"] = (("epoch", "beta"), curves)
    if spectra:
        bonds = random_layered(SIZES, C, seed=1)
        n = bonds.n
        coords["level"] = np.arange(n)
        spec_j = np.full((ne, n), np.nan)
        spec_a = np.full((ne, n), np.nan)
        for i in (0, 4):  # computed at epochs 0 and 10 only
            ev = np.linalg.eigvalsh(bonds.dense()) * (1 + 0.05 * i)
            spec_j[i] = ev
            spec_a[i] = np.sort(1 / 0.6 + 0.6 * bonds.d.mean() - ev)
        data["spectrum_J"] = (("epoch", "level"), spec_j)
        data["spectrum_A"] = (("epoch", "level"), spec_a)
    attrs = {
        "beta_c_msk": 0.62,
        "T_c_msk": 1.61,
        "variance_factors": json.dumps([C] * (len(SIZES) - 1)),
        "layer_sizes": json.dumps(SIZES),
        "definition": "corrected",
        "settings": json.dumps({"rtol": 1e-8}),
        "version": "0.1.0",
        "run_dir": "/tmp/run",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _axes(ncols: int = 1):
    from matplotlib.figure import Figure

    return Figure().subplots(1, ncols)


def _check_file(p: Path) -> None:
    assert p.is_file() and p.stat().st_size > 0
    head = p.read_bytes()[:8]
    if p.suffix == ".png":
        assert head == PNG_MAGIC
    elif p.suffix == ".pdf":
        assert head.startswith(b"%PDF")


def test_training_figures_writes_every_figure(tmp_path):
    written = training_figures(make_scan(), tmp_path / "fig")
    names = {"lambda_min_curves", "tc", "level_spacing", "spectra", "lambda_max_J", "errors",
             "diagonal_change"}
    assert {p.stem for p in written} == names
    assert len(written) == 2 * len(names)
    assert written.skipped == {}
    for p in written:
        _check_file(p)
    assert not list((tmp_path / "fig").glob("tmp*"))  # no temporary left behind


def test_refuses_to_overwrite_unless_forced(tmp_path):
    ds = make_scan(curve=False, spectra=False)
    first = training_figures(ds, tmp_path, formats=("png",))
    stamp = {p: p.stat().st_mtime_ns for p in first}
    with pytest.raises(InvalidInputError, match="already exist"):
        training_figures(ds, tmp_path, formats=("png",))
    assert {p: p.stat().st_mtime_ns for p in first} == stamp
    again = training_figures(ds, tmp_path, formats=("png",), force=True)
    assert sorted(again) == sorted(first)
    # single figures too, with an explicit suffix
    target = tmp_path / "one.png"
    assert plot_errors(ds, target) == [target]
    _check_file(target)
    with pytest.raises(InvalidInputError):
        plot_errors(ds, target)
    plot_errors(ds, target, force=True)


def test_absent_variables_are_skipped_and_reported(tmp_path, caplog):
    ds = make_scan(curve=False, spectra=False).drop_vars(["normalized_first_spacing"])
    with caplog.at_level("INFO", logger="replicasolve.plot.training"):
        written = training_figures(ds, tmp_path, formats=("png",))
    assert set(written.skipped) == {"lambda_min_curves", "spectra", "level_spacing"}
    assert {p.stem for p in written} == {"tc", "lambda_max_J", "errors", "diagonal_change"}
    assert "skipped spectra" in caplog.text
    # a spectrum of J only: the spectra figure is drawn with the J panel alone
    only_j = make_scan(curve=False)[["spectrum_J", "status"]]
    w2 = training_figures(only_j, tmp_path / "j", formats=("png",))
    assert [p.name for p in w2] == ["spectra.png"]
    # all-NaN data counts as absent
    nan_curve = make_scan()[["lambda_min_curve", "T_c", "status"]]
    nan_curve["lambda_min_curve"][:] = np.nan
    w3 = training_figures(nan_curve, tmp_path / "n", formats=("png",))
    assert "lambda_min_curves" in w3.skipped
    assert [p.name for p in w3] == ["tc.png"]


def test_tc_axes_hold_the_dataset_values():
    ds = make_scan()
    t = ds["epoch"].values
    tc = ds["T_c"].values
    ok = np.isfinite(tc)
    ax = _axes()
    assert plot_tc(ds, ax, log=False) == []
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), t[ok])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), tc[ok])
    assert ax.lines[1].get_ydata()[0] == pytest.approx(ds.attrs["T_c_msk"])
    # log-log: the change from epoch 0 at t > 0, and the fit in the same units
    fit = SimpleNamespace(exponent=0.6, prefactor=0.02, window=(1, 20), baseline="first")
    ax = _axes()
    plot_tc(ds, ax, fit=fit)
    sel = ok & (t > 0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), tc[sel] - tc[0], rtol=0, atol=0)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    tt, yy = ax.lines[1].get_xdata(), ax.lines[1].get_ydata()
    assert tt[0] == pytest.approx(1) and tt[-1] == pytest.approx(20)
    np.testing.assert_allclose(yy, 0.02 * tt**0.6, rtol=1e-12)


def test_bulk_overlays_use_the_bond_density():
    ds = make_scan()
    edge = bond_support_edge(SIZES, C)
    ax = _axes()
    plot_lambda_max_J(ds, ax)
    assert ax.lines[1].get_ydata()[0] == pytest.approx(edge, rel=1e-12)
    # epoch 50 failed (status not "ok"): its finite value is not drawn
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), ds["epoch"].values[:-1])
    axes = _axes(2)
    plot_spectra(ds, list(axes))
    j_ax = axes[1]
    bulk = j_ax.lines[0]
    x = np.asarray(bulk.get_xdata())
    np.testing.assert_allclose(bulk.get_ydata(), bond_density(SIZES, C, x), rtol=1e-12)
    assert len(j_ax.patches) == 2  # one histogram per epoch with a spectrum (0 and 10)
    # λ_min curves: drawn at the first and last epochs that have one, threshold marked
    ax = _axes()
    plot_lambda_min_curves(ds, ax)
    labels = [ln.get_label() for ln in ax.lines]
    assert labels[0] == "epoch 0" and "epoch 20" in labels
    assert any(ln.get_ydata()[0] == pytest.approx(0.05) for ln in ax.lines[1:])


def test_level_spacing_and_single_files(tmp_path):
    ds = make_scan()
    out = plot_level_spacing(ds, tmp_path / "spacing", formats=("png", "svg"))
    assert [p.name for p in out] == ["spacing.png", "spacing.svg"]
    for p in out:
        _check_file(p)
    out = plot_spectra(ds, tmp_path / "spec.pdf", epochs=[10], which=("J",))
    _check_file(out[0])


def test_bad_input(tmp_path):
    ds = make_scan()
    with pytest.raises(InvalidInputError):
        training_figures(ds, tmp_path, formats=("jpg",))
    with pytest.raises(InvalidInputError):
        plot_tc(ds, 42)
    with pytest.raises(InvalidInputError, match="epoch 3"):
        plot_spectra(ds, tmp_path / "x.png", epochs=[3])
    with pytest.raises(InvalidInputError, match="not computed"):
        plot_spectra(ds, tmp_path / "x.png", epochs=[1])
    with pytest.raises(InvalidInputError):
        plot_lambda_min_curves(ds.drop_vars("lambda_min_curve"), tmp_path / "y.png")
    with pytest.raises(InvalidInputError):
        plot_spectra(ds, _axes(), which=("A", "J"))
    assert not list(tmp_path.iterdir())  # nothing written by a refused call


def test_import_stays_light():
    code = ("import sys, replicasolve.plot.training; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
