"""TAP scan of a training run: every number against a direct call or a dense computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from replicasolve import __version__
from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import msk_critical
from replicasolve.studies.scan.epochs import load_scan, save_scan, scan_run
from replicasolve.studies.train.snapshots import (
    list_snapshots,
    read_snapshot,
    write_run_settings,
    write_snapshot,
)
from replicasolve.tap.bonds import LayeredBonds
from replicasolve.tap.critical import tap_critical, tap_minimum
from replicasolve.tap.matrix import tap_matrix
from replicasolve.tap.spectra import diagonal_change, tap_level_stats

SIZES = (60, 40, 40, 10)


def _kaiming(sizes, rng) -> list[np.ndarray]:
    return [
        rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2.0 / sizes[k])
        for k in range(len(sizes) - 1)
    ]


def _make_run(
    run_dir: Path,
    sizes=SIZES,
    strengths=(0.0, 0.75, 1.5, 2.25, 3.0),
    seed: int = 0,
    scales=None,
) -> list[list[np.ndarray]]:
    """A synthetic "training": Kaiming weights plus rank-one spikes growing with the epoch.

    Epoch t holds W_0 + s_t u vᵀ (unit u, v per layer), optionally times ``scales[t]``.
    Returns the float32 weights exactly as written (what the scan reads).
    """
    rng = np.random.default_rng(seed)
    w0 = _kaiming(sizes, rng)
    spikes = []
    for w in w0:
        u, v = rng.standard_normal(w.shape[0]), rng.standard_normal(w.shape[1])
        spikes.append(np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v)))
    write_run_settings(run_dir, {"program": "synthetic", "sizes": list(sizes), "seed": seed})
    written = []
    for t, s in enumerate(strengths):
        c = 1.0 if scales is None else scales[t]
        ws = [c * (w + s * p) for w, p in zip(w0, spikes, strict=True)]
        meta = {"train_error": 0.5 / (1 + t), "val_error": 0.6 / (1 + t), "train_loss": 2.0 - t}
        write_snapshot(run_dir, t, ws, [np.zeros(w.shape[0]) for w in ws], meta)
        written.append([w.astype(np.float32) for w in ws])
    return written


def _bonds(run_dir: Path) -> list[LayeredBonds]:
    return [LayeredBonds(read_snapshot(p).weights) for _, p in list_snapshots(run_dir)]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("run")
    _make_run(d)
    return d


@pytest.fixture(scope="module")
def scan(run):
    return scan_run(run, rtol=1e-10, curve_betas=[0.3, 0.45, 0.6, 0.75], spectra="all")


def test_scan_matches_direct_tap_calls(run, scan) -> None:
    bonds = _bonds(run)
    ref = bonds[0]
    mini = tap_minimum(ref, rtol=1e-10)
    theta = float(scan["threshold"])
    # the definition: θ and β* are the reference's minimum, and β_c(0) = β*
    assert theta == mini.value and float(scan["beta_star_reference"]) == mini.beta
    assert scan["beta_c"].values[0] == mini.beta
    assert list(scan["status"].values) == ["ok"] * len(bonds)
    for e, b in enumerate(bonds):
        row = scan.sel(epoch=e)
        beta_c = float(row["beta_c"])
        direct = tap_critical(b, definition="corrected", reference=ref, rtol=1e-10)
        assert direct.crossed and row["crossed"] == 1
        assert beta_c == pytest.approx(direct.beta_c, rel=4e-10)
        assert float(row["T_c"]) == pytest.approx(1 / beta_c, rel=1e-15)
        # independent route: dense LAPACK on the explicit matrices
        dense = np.linalg.eigvalsh(tap_matrix(b, beta_c))
        assert dense[0] == pytest.approx(theta, abs=1e-8)
        np.testing.assert_allclose(row["spectrum_A"].values, dense, rtol=0, atol=1e-12)
        ev_j = np.linalg.eigvalsh(b.dense())
        assert float(row["lambda_max_J"]) == pytest.approx(ev_j[-1], rel=1e-12)
        np.testing.assert_allclose(row["spectrum_J"].values, ev_j, rtol=0, atol=1e-12)
        ls = tap_level_stats(b, beta_c)
        assert float(row["first_spacing"]) == pytest.approx(ls.first_spacing, rel=1e-9)
        assert float(row["median_spacing"]) == pytest.approx(ls.median_spacing, rel=1e-9)
        assert float(row["normalized_first_spacing"]) == pytest.approx(
            ls.normalized_first_spacing, rel=1e-9
        )
        dc = diagonal_change(b, ref)
        assert float(row["d_change_max"]) == pytest.approx(dc.max_relative, abs=1e-15)
        assert float(row["d_change_norm"]) == pytest.approx(dc.norm_relative, abs=1e-15)
        assert float(row["d_change_mean"]) == pytest.approx(dc.mean_relative, abs=1e-15)
        plain = tap_critical(b, definition="plain", rtol=1e-10)
        assert int(row["crossed_plain"]) == int(plain.crossed)
        if plain.crossed:
            assert float(row["beta_c_plain"]) == pytest.approx(plain.beta_c, rel=4e-10)
            assert np.linalg.eigvalsh(tap_matrix(b, plain.beta_c))[0] == pytest.approx(
                0.0, abs=1e-8
            )
        else:
            assert np.isnan(float(row["beta_c_plain"]))
        for j, beta in enumerate(scan["beta"].values):
            lam = scipy.linalg.eigvalsh(tap_matrix(b, beta), subset_by_index=[0, 0])[0]
            assert float(row["lambda_min_curve"][j]) == pytest.approx(lam, abs=1e-10)
        assert float(row["train_error"]) == pytest.approx(0.5 / (1 + e))
        assert float(row["val_error"]) == pytest.approx(0.6 / (1 + e))
        assert float(row["train_loss"]) == pytest.approx(2.0 - e)
    # both plain outcomes occur in this run: NaN before the spikes are strong, then crossed
    assert scan["crossed_plain"].values[0] == 0 and scan["crossed_plain"].values[-1] == 1


def test_schema_and_provenance(run, scan) -> None:
    ref = _bonds(run)[0]
    names = {
        "beta_c", "T_c", "beta_c_plain", "crossed_plain", "lambda_max_J", "first_spacing",
        "median_spacing", "normalized_first_spacing", "d_change_max", "d_change_norm",
        "d_change_mean", "train_error", "val_error", "train_loss", "lambda_min_curve",
        "spectrum_A", "spectrum_J", "status", "threshold", "beta_star_reference",
    }
    assert names <= set(scan.data_vars)
    assert scan["epoch"].dtype == np.int64 and list(scan["epoch"].values) == [0, 1, 2, 3, 4]
    assert scan["crossed_plain"].dtype == np.int8
    assert scan["spectrum_A"].dims == ("epoch", "level") and scan.sizes["level"] == ref.n
    assert scan["lambda_min_curve"].dims == ("epoch", "beta")
    for name in scan.data_vars:
        assert "units" in scan[name].attrs and "long_name" in scan[name].attrs, name
    assert "1/energy" in scan["beta_c"].attrs["units"]
    c = ref.variance_factors()
    theory = msk_critical(SIZES, c)
    assert scan.attrs["beta_c_msk"] == theory.beta_c and scan.attrs["T_c_msk"] == theory.T_c
    assert scan.attrs["variance_factors"] == list(c)
    assert scan.attrs["layer_sizes"] == list(SIZES)
    assert scan.attrs["definition"] == "corrected" and scan.attrs["version"] == __version__
    assert scan.attrs["missing_epochs"] == []
    settings = json.loads(scan.attrs["settings"])
    assert settings["program"] == "synthetic" and settings["seed"] == 0
    assert Path(scan.attrs["run_dir"]) == run.resolve()


def test_beta_c_falls_monotonically_with_spike_strength(scan) -> None:
    # stronger learned outliers of J make the paramagnet unstable sooner: β_c falls, T_c
    # rises (Barney et al., section 3.2), and λ_max(J) grows
    assert np.all(np.diff(scan["beta_c"].values) < 0)
    assert np.all(np.diff(scan["T_c"].values) > 0)
    assert np.all(np.diff(scan["lambda_max_J"].values) > 0)
    assert np.all(scan["crossed"].values == 1)


def test_threshold_definition_equals_corrected(run) -> None:
    # the scan computes θ once and uses definition="threshold": the same computation as
    # definition="corrected" with the untrained network as reference
    bonds = _bonds(run)
    theta = tap_minimum(bonds[0], rtol=1e-8).value
    for b in bonds:
        a = tap_critical(b, definition="corrected", reference=bonds[0], rtol=1e-8)
        t = tap_critical(b, definition="threshold", threshold=theta, rtol=1e-8)
        assert a.threshold == t.threshold == theta
        assert a.beta_c == t.beta_c and a.crossed == t.crossed


def test_epoch0_against_replica_theory_finite_size_trend(tmp_path) -> None:
    # β_c(0) against msk_critical with the instance's own C_l: the mean error over seeds
    # falls with N (N = 150 → 1200); measured ≈ 1.1e-2 → 1.9e-3
    errs = {}
    for k in (1, 8):
        e = []
        for seed in range(4):
            d = tmp_path / f"k{k}s{seed}"
            _make_run(d, tuple(k * s for s in SIZES), strengths=(0.0,), seed=seed)
            ds = scan_run(d, plain=False)
            e.append(abs(ds["beta_c"].values[0] / ds.attrs["beta_c_msk"] - 1))
        errs[k] = float(np.mean(e))
    assert errs[1] < 0.05
    assert errs[8] < 0.5 * errs[1] and errs[8] < 5e-3


def test_rescaled_epochs_cross_or_not_as_the_scaling_law_says(tmp_path) -> None:
    # J → cJ gives A_c(β) = c A_1(cβ) exactly, so min λ_min = cθ: c > 1 never reaches θ
    # (β_c is the point of closest approach, β*/c) and c < 1 crosses on the left branch
    _make_run(tmp_path, strengths=(0.0, 0.0, 0.0), scales=(1.0, 1.1, 0.9))
    ds = scan_run(tmp_path, rtol=1e-10)
    bonds = _bonds(tmp_path)
    theta = float(ds["threshold"])
    beta_star = float(ds["beta_star_reference"])
    assert theta > 0
    assert ds["crossed"].values.tolist() == [1, 0, 1]
    # float32 storage: the rescaled weights are c·W to ~1e-7 relative
    assert ds["beta_c"].values[1] == pytest.approx(beta_star / 1.1, rel=1e-6)
    engine = tap_critical(bonds[1], definition="threshold", threshold=theta, rtol=1e-10)
    assert not engine.crossed
    assert ds["beta_c"].values[1] == pytest.approx(engine.beta_c, rel=4e-10)
    assert ds["beta_c"].values[2] < beta_star / 0.9
    lam = np.linalg.eigvalsh(tap_matrix(bonds[2], ds["beta_c"].values[2]))[0]
    assert lam == pytest.approx(theta, abs=1e-8)
    assert ds["crossed_plain"].values.tolist() == [0, 0, 0]
    assert np.all(np.isnan(ds["beta_c_plain"].values))


def test_epoch_selection_and_plain_definition(run, scan) -> None:
    part = scan_run(run, epochs=[4, 2], rtol=1e-10)  # epoch 0 is added: the reference
    assert list(part["epoch"].values) == [0, 2, 4]
    np.testing.assert_allclose(
        part["beta_c"].values, scan["beta_c"].sel(epoch=[0, 2, 4]).values, rtol=1e-9
    )
    plain = scan_run(run, definition="plain", rtol=1e-10)
    assert float(plain["threshold"]) == 0.0
    crossed = plain["crossed"].values == 1
    np.testing.assert_allclose(
        plain["beta_c"].values[crossed], scan["beta_c_plain"].values[crossed], rtol=1e-9
    )
    np.testing.assert_array_equal(plain["crossed_plain"].values, scan["crossed_plain"].values)
    # not crossed: β_c is the engine's point of closest approach, the plain column NaN
    b0 = _bonds(run)[0]
    assert plain["beta_c"].values[0] == pytest.approx(
        tap_critical(b0, definition="plain", rtol=1e-10).beta_c, rel=4e-10
    )
    assert np.isnan(plain["beta_c_plain"].values[0])


def test_bad_snapshots_are_reported_per_epoch(tmp_path) -> None:
    _make_run(tmp_path, strengths=(0.0, 0.4, 0.8, 1.2, 1.6, 2.0))
    (tmp_path / "epoch_0002.npz").write_bytes(b"this is not a zip archive")
    (tmp_path / "epoch_0003.npz").unlink()
    rng = np.random.default_rng(5)
    other = _kaiming((60, 40, 30, 10), rng)
    write_snapshot(tmp_path, 4, other, [np.zeros(w.shape[0]) for w in other])
    good = tmp_path / "epoch_0005.npz"  # a truncated archive: the zip's magic is right
    good.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    ds = scan_run(tmp_path, plain=False)
    status = list(ds["status"].values)
    assert status[0] == status[1] == "ok"
    assert "epoch_0002.npz" in status[2] and "corrupt" in status[2]
    assert "epoch_0003.npz" in status[3] and "missing" in status[3]
    assert "epoch_0004.npz" in status[4] and "differs" in status[4]
    assert "epoch_0005.npz" in status[5] and "corrupt" in status[5]
    assert ds.attrs["missing_epochs"] == [3]
    for e in (2, 3, 4, 5):
        assert np.isnan(ds["beta_c"].values[e]) and np.isnan(ds["lambda_max_J"].values[e])
    assert np.isfinite(ds["beta_c"].values[:2]).all()


def test_missing_or_corrupt_reference_and_empty_runs(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="no such run directory"):
        scan_run(tmp_path / "nope")
    with pytest.raises(InvalidInputError, match=r"no epoch_XXXX.npz"):
        scan_run(tmp_path)
    _make_run(tmp_path, strengths=(0.0, 1.0))
    (tmp_path / "epoch_0000.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(InvalidInputError, match=r"epoch_0000.npz.*reference"):
        scan_run(tmp_path)
    (tmp_path / "epoch_0000.npz").unlink()
    with pytest.raises(InvalidInputError, match=r"epoch_0000.npz: missing; epoch 0"):
        scan_run(tmp_path)


def test_bad_arguments(run) -> None:
    for kwargs, match in [
        ({"definition": "threshold"}, "definition"),
        ({"rtol": 0.0}, "rtol"),
        ({"curve_betas": [0.5, -1.0]}, "curve_betas"),
        ({"curve_betas": []}, "curve_betas"),
        ({"spectra": "some"}, "spectra"),
        ({"spectra": [99]}, "99"),
        ({"epochs": [-1]}, "epochs"),
        ({"threads": 0}, "threads"),
    ]:
        with pytest.raises(InvalidInputError, match=match):
            scan_run(run, **kwargs)


def test_progress_lines(run, capsys) -> None:
    scan_run(run, epochs=[0, 1], plain=False, progress=True)
    err = capsys.readouterr().err
    assert "epoch 0 (1/2): beta_c = " in err and "epoch 1 (2/2)" in err


def test_netcdf_round_trip(tmp_path) -> None:
    run_dir = tmp_path / "run"
    _make_run(run_dir, strengths=(0.0, 0.5, 1.0, 1.5))
    (run_dir / "epoch_0002.npz").unlink()
    (run_dir / "epoch_0003.npz").write_bytes(b"garbage")
    ds = scan_run(run_dir, curve_betas=[0.4, 0.6], spectra=[0, 1])
    path = save_scan(ds, tmp_path / "out" / "scan.nc")
    assert path.is_file() and not [p for p in path.parent.iterdir() if p.name != "scan.nc"]
    back = load_scan(path)
    assert set(back.data_vars) == set(ds.data_vars)
    for name in ds.data_vars:
        if name == "status":
            assert list(back[name].values) == list(ds[name].values)
        else:
            np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].dtype == ds[name].dtype, name
        assert back[name].attrs == ds[name].attrs, name
    assert back["epoch"].dtype == np.int64
    np.testing.assert_array_equal(back["epoch"].values, ds["epoch"].values)
    np.testing.assert_array_equal(back["beta"].values, ds["beta"].values)
    assert back.attrs == ds.attrs
    assert back.attrs["missing_epochs"] == [2] and back.attrs["layer_sizes"] == list(SIZES)
    assert "epoch_0003.npz" in back["status"].values[3]
    # spectra only for the epochs asked: NaN rows elsewhere
    assert np.isnan(back["spectrum_A"].values[2:]).all()
    assert np.isfinite(back["spectrum_A"].values[:2]).all()

    with pytest.raises(InvalidInputError, match="exists"):
        save_scan(ds, path)
    small = ds.isel(epoch=[0])
    save_scan(small, path, force=True)
    assert load_scan(path).sizes["epoch"] == 1
    with pytest.raises(InvalidInputError, match="no such scan file"):
        load_scan(tmp_path / "none.nc")
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"CDF\x01 but not really")
    with pytest.raises(InvalidInputError, match=r"bad.nc: not a readable netCDF"):
        load_scan(bad)
    with pytest.raises(InvalidInputError, match="Dataset"):
        save_scan({"a": 1}, tmp_path / "x.nc")  # type: ignore[arg-type]


def test_tiny_network_dense_paths(tmp_path) -> None:
    # N ≤ 64: λ_min and λ_max(J) by dense LAPACK (the engine's own choice there)
    sizes = (20, 15, 10, 5)
    _make_run(tmp_path, sizes, strengths=(0.0, 0.5, 1.0, 1.5))
    ds = scan_run(tmp_path, rtol=1e-10)
    bonds = _bonds(tmp_path)
    assert list(ds["status"].values) == ["ok"] * 4
    for e, b in enumerate(bonds):
        direct = tap_critical(b, reference=bonds[0], rtol=1e-10)
        assert ds["beta_c"].values[e] == pytest.approx(direct.beta_c, rel=4e-10)
        assert ds["crossed"].values[e] == int(direct.crossed)
        assert ds["lambda_max_J"].values[e] == pytest.approx(
            np.linalg.eigvalsh(b.dense())[-1], rel=1e-12
        )


@pytest.mark.slow
def test_wide_network_against_engine(tmp_path) -> None:
    # N = 1170 (half the MNIST widths): the warm-started searches against tap_critical
    sizes = (392, 256, 256, 256, 10)
    _make_run(tmp_path, sizes, strengths=(0.0, 0.5, 1.0, 2.0, 3.0, 4.0))
    ds = scan_run(tmp_path, rtol=1e-10)
    bonds = _bonds(tmp_path)
    theta = float(ds["threshold"])
    for e, b in enumerate(bonds):
        direct = tap_critical(b, definition="threshold", threshold=theta, rtol=1e-10)
        assert ds["beta_c"].values[e] == pytest.approx(direct.beta_c, rel=4e-10)
        plain = tap_critical(b, definition="plain", rtol=1e-10)
        assert ds["crossed_plain"].values[e] == int(plain.crossed)
        if plain.crossed:
            assert ds["beta_c_plain"].values[e] == pytest.approx(plain.beta_c, rel=4e-10)
        ls = tap_level_stats(b, ds["beta_c"].values[e])
        assert ds["median_spacing"].values[e] == pytest.approx(ls.median_spacing, rel=1e-9)
