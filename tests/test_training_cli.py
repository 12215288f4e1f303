"""``replicasolve train / scan / plot``: end to end on tiny runs, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from replicasolve.cli import main
from replicasolve.train.snapshots import list_snapshots, read_snapshot

TINY = ["--hidden", "16,8", "--n-train", "200", "--n-val", "100", "--quiet"]


def _train(out, *extra):
    return main(["train", "--epochs", "2", "--out", str(out), *TINY, *extra])


def test_train_writes_every_epoch_and_a_rerun_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["epochs_done"] == 2 and info["settings"]["hidden"] == [16, 8]
    assert [e for e, _ in list_snapshots(out)] == [0, 1, 2]
    before = read_snapshot(out / "epoch_0002.npz").weights
    # the same command again: nothing to do, nothing rewritten
    assert _train(out, "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_from"] == 2
    for a, b in zip(before, read_snapshot(out / "epoch_0002.npz").weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # extending the run continues from the last checkpoint
    assert main(["train", "--epochs", "3", "--out", str(out), *TINY]) == 0
    assert [e for e, _ in list_snapshots(out)] == [0, 1, 2, 3]


def test_train_refuses_other_settings_and_foreign_folders(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    capsys.readouterr()
    assert _train(out, "--seed", "5") == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "seed" in err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert _train(foreign) == 2
    assert "error" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]
    assert (foreign / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize(
    "args",
    [
        ["--epochs", "-1"],
        ["--epochs", "2", "--hidden", "16,x"],
        ["--epochs", "2", "--variance", "-1"],
        ["--epochs", "2", "--lr", "-0.1"],
        ["--epochs", "2", "--n-train", "0"],
    ],
)
def test_train_bad_values_are_one_line_errors(tmp_path, capsys, args):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("replicasolve: error:") and err.count("\n") == 0
    assert not out.exists() or not any(out.glob("epoch_*.npz"))
