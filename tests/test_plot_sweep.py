"""Figures of sweep results: what is drawn equals the data, files are never clobbered."""

from __future__ import annotations

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("matplotlib")

from replicasolve.cli import main  # noqa: E402
from replicasolve.errors import InvalidInputError  # noqa: E402
from replicasolve.plot import sweep as sweep_plot  # noqa: E402


def _sweep(values, dims, coords, quantity, **attrs):
    ds = xr.Dataset({quantity: (dims, values)}, coords=coords)
    ds.attrs.update(quantity=quantity, spec_key="k", title="t")
    ds[quantity].attrs.update(attrs)
    return ds


def _capture(monkeypatch):
    """Keep every figure that plot_sweep saves (it saves through plot.save_figure)."""
    import replicasolve.plot as plot_pkg

    figures = []

    original = plot_pkg.save_figure

    def keep(fig, path):
        figures.append(fig)
        original(fig, path)

    monkeypatch.setattr(plot_pkg, "save_figure", keep)
    return figures


def test_heat_map_draws_the_values(tmp_path, monkeypatch):
    figures = _capture(monkeypatch)
    depth = np.arange(1, 11)
    var = np.array([0.5, 1.0, 2.0])
    values = np.sqrt(np.outer(depth, var))
    ds = _sweep(values, ("depth", "variance"), {"depth": depth, "variance": var}, "T_c",
                units="J")
    paths = sweep_plot.plot_sweep(ds, tmp_path / "tc", formats=("png",))
    assert [p.name for p in paths] == ["tc.png"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mesh = figures[0].axes[0].collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).reshape(values.shape), values)
    with pytest.raises(InvalidInputError, match="already exist"):
        sweep_plot.plot_sweep(ds, tmp_path / "tc", formats=("png",))


def test_phase_map_labels_and_boundaries(tmp_path, monkeypatch):
    figures = _capture(monkeypatch)
    codes = np.array([[0, 0, 3], [0, 3, 3]])
    ds = _sweep(codes, ("depth", "T"), {"depth": [1, 2], "T": [0.1, 0.5, 0.9]}, "phase",
                flag_values=np.array([0, 1, 2, 3]), flag_meanings="RS RSB 1RSB FRSB")
    sweep_plot.plot_sweep(ds, tmp_path / "ph", formats=("png",))
    ax = figures[0].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RS", "FRSB"]
    # boundaries, counted independently: horizontal neighbours that differ + vertical ones
    expected = int(np.sum(codes[:, 1:] != codes[:, :-1]) + np.sum(codes[1:] != codes[:-1]))
    assert len(ax.lines) == expected == 3


def test_one_axis_is_a_curve_and_three_axes_are_refused(tmp_path, monkeypatch):
    figures = _capture(monkeypatch)
    t = np.linspace(0.2, 1.0, 5)
    ds = _sweep(-np.log(2) * t, ("T",), {"T": t}, "free_energy")
    sweep_plot.plot_sweep(ds, tmp_path / "f", formats=("png",))
    line = figures[0].axes[0].lines[0]
    np.testing.assert_array_equal(line.get_ydata(), -np.log(2) * t)
    cube = _sweep(np.zeros((2, 2, 2)), ("a", "b", "c"), {}, "x")
    with pytest.raises(InvalidInputError, match="3 axes"):
        sweep_plot.plot_sweep(cube, tmp_path / "c")


def test_cli_plots_a_sweep_file(tmp_path, capsys):
    spec = tmp_path / "msk.toml"
    spec.write_text(
        'quantity = "T_c"\n[model]\nkind = "msk"\nvariance = 2.0\n'
        "[axes]\ndepth = [1, 2, 3]\n"
    )
    out = tmp_path / "msk.nc"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["plot", str(out), "--format", "png,pdf"]) == 0
    assert (tmp_path / "msk.png").exists() and (tmp_path / "msk.pdf").exists()
    capsys.readouterr()
    assert main(["plot", str(out), "--format", "png"]) == 2
    assert "already exist" in capsys.readouterr().err
