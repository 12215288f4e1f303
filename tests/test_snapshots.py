"""The per-epoch snapshot format: atomic writes, complete checks on read, clear errors."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.studies.train.snapshots import (
    SNAPSHOT_FORMAT,
    SnapshotError,
    atomic_write,
    list_snapshots,
    read_run_settings,
    read_snapshot,
    snapshot_path,
    write_run_settings,
    write_snapshot,
)
from replicasolve.tap.bonds import LayeredBonds, load_weights


def _layers(rng, sizes=(6, 5, 3)):
    ws = [rng.normal(size=(b, a)) for a, b in itertools.pairwise(sizes)]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    return ws, bs


def test_round_trip_keeps_float32_values_and_meta(tmp_path):
    rng = np.random.default_rng(0)
    ws, bs = _layers(rng)
    path = write_snapshot(tmp_path, 3, ws, bs, {"val_error": 0.25, "seed": 7})
    assert path == snapshot_path(tmp_path, 3) and path.name == "epoch_0003.npz"
    snap = read_snapshot(path, layer_sizes=(6, 5, 3))
    assert snap.epoch == 3 and snap.layer_sizes == (6, 5, 3)
    assert snap.meta["format"] == SNAPSHOT_FORMAT and snap.meta["val_error"] == 0.25
    for w, w0 in zip(snap.weights, ws, strict=True):
        assert w.dtype == np.float32
        # float32 storage: exact equality with the float32 rounding of the input
        np.testing.assert_array_equal(w, w0.astype(np.float32))
    # the same file is a valid weight source for the TAP engine (numpy only, no torch)
    bonds = load_weights(path)
    assert isinstance(bonds, LayeredBonds) and bonds.n == 14


def test_listing_sorts_by_epoch_and_ignores_temporaries(tmp_path):
    rng = np.random.default_rng(1)
    ws, bs = _layers(rng)
    for e in (10, 0, 2):
        write_snapshot(tmp_path, e, ws, bs)
    (tmp_path / ".epoch_0011.npz.abc.tmp").write_bytes(b"partial")
    (tmp_path / "notes.txt").write_text("user file")
    assert [e for e, _ in list_snapshots(tmp_path)] == [0, 2, 10]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")

    def boom(handle):
        handle.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["x.bin"]


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda p: p.write_bytes(b"junk"), "not an .npz"),
        (lambda p: p.write_bytes(p.read_bytes()[:200]), "corrupt"),
        (lambda p: p.unlink(), "no such snapshot"),
    ],
)
def test_damaged_files_name_the_file(tmp_path, damage, fragment):
    rng = np.random.default_rng(2)
    ws, bs = _layers(rng)
    path = write_snapshot(tmp_path, 1, ws, bs)
    damage(path)
    with pytest.raises(SnapshotError, match=fragment) as info:
        read_snapshot(path)
    assert str(path) in str(info.value)


def test_other_architecture_and_renamed_file_are_refused(tmp_path):
    rng = np.random.default_rng(3)
    ws, bs = _layers(rng)
    path = write_snapshot(tmp_path, 1, ws, bs)
    with pytest.raises(SnapshotError, match="differs from the run's 6-4-3"):
        read_snapshot(path, layer_sizes=(6, 4, 3))
    moved = path.with_name("epoch_0002.npz")
    path.rename(moved)
    with pytest.raises(SnapshotError, match="not the one in its name"):
        read_snapshot(moved)


def test_bad_layers_and_meta_are_refused_before_writing(tmp_path):
    rng = np.random.default_rng(4)
    ws, bs = _layers(rng)
    with pytest.raises(InvalidInputError, match=r"weight \(5, 3\) and bias"):
        write_snapshot(tmp_path, 0, [ws[0], ws[1].T], bs)
    bad = [w.copy() for w in ws]
    bad[1][0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        write_snapshot(tmp_path, 0, bad, bs)
    with pytest.raises(InvalidInputError, match="JSON"):
        write_snapshot(tmp_path, 0, ws, bs, {"x": object()})
    with pytest.raises(InvalidInputError, match="epoch"):
        write_snapshot(tmp_path, -1, ws, bs)
    assert list(tmp_path.iterdir()) == []


def test_run_settings_round_trip_and_errors(tmp_path):
    assert read_run_settings(tmp_path) == {}
    write_run_settings(tmp_path, {"program": "standard", "lr": 0.01})
    info = read_run_settings(tmp_path)
    assert info["program"] == "standard" and "version" in info
    (tmp_path / "run.json").write_text(json.dumps([1, 2]))
    with pytest.raises(SnapshotError, match="not a JSON object"):
        read_run_settings(tmp_path)
    with pytest.raises(InvalidInputError, match="no such run directory"):
        list_snapshots(tmp_path / "missing")
