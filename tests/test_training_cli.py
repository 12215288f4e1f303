"""``replicasolve train / scan / plot``: end to end on tiny runs, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from replicasolve.cli import main
from replicasolve.studies.train.snapshots import list_snapshots, read_snapshot

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


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "std"
    assert main(["train", "--epochs", "3", "--out", str(out), *TINY]) == 0
    return out


def _copy_run(src, dst):
    import shutil

    shutil.copytree(src, dst)
    for extra in ("scan.nc", "figures"):
        p = dst / extra
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    return dst


def test_scan_then_plot_end_to_end(tiny_run, tmp_path, capsys):
    run = _copy_run(tiny_run, tmp_path / "run")
    assert main(["scan", str(run), "--json", "--spectra", "0,3", "--curve", "0.3:0.9:7"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [r["epoch"] for r in info["epochs"]] == [0, 1, 2, 3]
    assert all(r["status"] == "ok" for r in info["epochs"]) and info["failed"] == 0
    from replicasolve.studies.scan.epochs import load_scan
    from replicasolve.tap.bonds import LayeredBonds
    from replicasolve.tap.critical import tap_critical

    ds = load_scan(run / "scan.nc")
    # the CLI's numbers are the saved ones, and epoch 3 agrees with a direct TAP call
    # (corrected definition, epoch 0 as reference) to the scan's rtol (1e-8)
    np.testing.assert_allclose(ds["T_c"].values, [r["T_c"] for r in info["epochs"]], rtol=1e-12)
    w0 = read_snapshot(run / "epoch_0000.npz").weights
    w3 = read_snapshot(run / "epoch_0003.npz").weights
    direct = tap_critical(LayeredBonds(w3), reference=LayeredBonds(w0), rtol=1e-10)
    assert direct.beta_c == pytest.approx(float(ds["beta_c"].values[3]), rel=1e-7)
    # an existing scan is never overwritten without --force, and is left intact
    before = (run / "scan.nc").read_bytes()
    assert main(["scan", str(run), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (run / "scan.nc").read_bytes() == before
    assert main(["plot", str(run), "--format", "png", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)["written"]
    assert written and all(p.endswith(".png") for p in written)
    for p in written:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(run), "--format", "png"]) == 2  # figures exist: refused
    assert "error" in capsys.readouterr().err


def test_scan_reports_a_corrupt_epoch_and_scans_the_others(tiny_run, tmp_path, capsys):
    run = _copy_run(tiny_run, tmp_path / "run")
    bad = run / "epoch_0002.npz"
    bad.write_bytes(bad.read_bytes()[:500])
    assert main(["scan", str(run), "--json", "--quiet"]) == 3
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["epochs"]
    assert [r["status"] == "ok" for r in rows] == [True, True, False, True]
    assert "epoch_0002.npz" in rows[2]["status"] and rows[2]["T_c"] is None
    assert "epoch 2" in captured.err and "epoch_0002.npz" in captured.err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["scan", "{run}", "--curve", "0.5:0.2:3"], "--curve"),
        (["scan", "{run}", "--fit-window", "5:1"], "fit window"),
        (["scan", "{missing}"], "no such run directory"),
        (["plot", "{missing_nc}"], "no such file"),
        (["plot", "{run}", "--format", "gif"], "--format"),
    ],
)
def test_scan_and_plot_bad_input(tiny_run, tmp_path, capsys, args, fragment):
    run = _copy_run(tiny_run, tmp_path / "run")
    subs = {"run": str(run), "missing": str(tmp_path / "nope"),
            "missing_nc": str(tmp_path / "nope.nc")}
    argv = [a.format(**subs) for a in args]
    if argv[0] == "plot" and "--format" in argv:
        assert main(["scan", str(run), "--quiet"]) == 0
        capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and fragment in err


def test_train_with_a_folder_without_mnist_names_it(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "readme.txt").write_text("not mnist")
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out), "--data", str(data),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(data) in err and "train-images" in err
    assert not out.exists() or not any(out.glob("epoch_*.npz"))
