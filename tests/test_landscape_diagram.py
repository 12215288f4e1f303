"""Phase diagrams of random-MLP landscapes (Gaussian limit)."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.models.landscape import RandomMLPLandscape
from replicasolve.solvers import solve
from replicasolve.studies.landscape_diagram import landscape_phase_diagram, rs_spherical_all_T

xr = pytest.importorskip("xarray")


@pytest.mark.parametrize("act,depth", [("tanh", 2), ("sin", 2), ("relu", 1), ("x", 1)])
def test_vectorised_rs_matches_general_solver(act, depth):
    # two independent routes to the RS saddle: shared root scan + vectorised Newton vs the
    # general Crisanti–Sommers optimiser, point by point (both converge to ~1e-12)
    land = RandomMLPLandscape(act, depth, 2.0, 0.05)
    temps = np.array([2.0, 1.0, 0.5, 0.3, 0.1])
    sol = rs_spherical_all_T(land.xi, temps)
    for i, T in enumerate(temps):
        r = solve(land.model(float(T)), "rs")
        assert sol["q"][i] == pytest.approx(r.q[0], abs=1e-9)
        assert sol["free_energy"][i] == pytest.approx(r.free_energy, abs=1e-12)
        assert sol["replicon"][i] == pytest.approx(r.replicon, abs=1e-9)
        assert sol["energy"][i] == pytest.approx(r.energy, abs=1e-9)
    assert np.all(sol["residual"] < 1e-12)


def test_linear_network_is_rs_everywhere():
    # ξ'' = 0 for a linear network: replicon 1 at every T (derivations/linear_mlp_landscape.py)
    ds = landscape_phase_diagram("x", [1, 3], np.linspace(0.1, 2, 5), 1.2, 0.1)
    assert int(ds.phase.sum()) == 0
    assert np.allclose(ds.replicon.values, 1.0)


def test_dataset_layout_and_netcdf_roundtrip(tmp_path):
    ds = landscape_phase_diagram("tanh", [1, 2, 6], [0.05, 0.5, 1.5], 1.5, 0.05, classify=True)
    assert ds.phase.dims == ("depth", "T")
    assert ds.attrs["activation"] == "tanh" and "replicasolve_version" in ds.attrs
    # where the replicon is negative the RS solution is unstable: never labelled RS
    assert np.all((ds.replicon.values >= 0) | (ds.phase.values > 0))
    # high temperature is RS (replicon → 1 as β → 0)
    assert np.all(ds.phase.sel(T=1.5).values == 0)
    path = tmp_path / "diagram.nc"
    ds.to_netcdf(path, engine="scipy")
    back = xr.load_dataset(path, engine="scipy")
    assert np.array_equal(back.phase.values, ds.phase.values)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        landscape_phase_diagram("tanh", [], [1.0])
    with pytest.raises(InvalidInputError):
        rs_spherical_all_T(RandomMLPLandscape("tanh", 1).xi, np.array([0.5, -1.0]))


def test_phase_diagram_figure(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from replicasolve.plot import phase_diagram

    ds = landscape_phase_diagram("relu", [1, 2, 3], [0.05, 0.2, 1.0], 2.0, 0.0)
    path = tmp_path / "diagram.png"
    ax = phase_diagram(ds, path=str(path))
    assert path.stat().st_size > 1000
    assert ax.get_xlabel() == "temperature T"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diagram.png"]  # no temp left


def test_variance_diagram_slices_match_depth_diagram():
    from replicasolve.studies.landscape_diagram import landscape_variance_diagram

    temps = [0.1, 0.5, 1.5]
    ds = landscape_variance_diagram("erf", 2, [1.0, 3.0], [0.0, 0.2], temps)
    assert ds.phase.dims == ("sigma_w2", "sigma_b2", "T")
    # every slice is the (depth, T) diagram of that network, computed independently
    for sw in (1.0, 3.0):
        for sb in (0.0, 0.2):
            one = landscape_phase_diagram("erf", [2], temps, sw, sb)
            assert np.array_equal(ds.replicon.sel(sigma_w2=sw, sigma_b2=sb).values,
                                  one.replicon.values[0])
