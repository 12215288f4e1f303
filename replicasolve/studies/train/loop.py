"""The training loop: SGD on MNIST with a snapshot per epoch and exact resume.

Reproduces the training side of Barney, Winer & Galitski (arXiv 2408.06421, section 3):
the weights of every epoch are kept (``epoch_XXXX.npz``, the format of
:mod:`replicasolve.studies.train.snapshots`) so that the TAP analysis can follow β_c(t).

Determinism. The initialisation comes from the seed (:func:`.programs.build_network`); the
order of epoch ``e`` is the permutation drawn by numpy's ``default_rng`` on
``SeedSequence(seed, spawn_key=(1, e))``, a function of ``(seed, e)`` only, so no random
state has to be saved: a run that is killed and resumed gives, epoch by epoch, the same
weights bit for bit as an unbroken one (same machine, same torch and thread count).

Order of the files of an epoch: first the snapshot, then ``checkpoint.pt``. A process
killed between the two resumes from the previous checkpoint, recomputes the epoch and
rewrites the same snapshot.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...data.mnist import MNIST, load_mnist
from ...errors import ConvergenceError, InvalidInputError
from ...progress import Reporter
from ...version import __version__
from . import snapshots
from .programs import TrainSettings, build_network, hinge_loss

__all__ = ["CHECKPOINT_NAME", "TrainRun", "epoch_permutation", "train"]

CHECKPOINT_NAME = "checkpoint.pt"
_EVAL_BATCH = 1000  # images per forward pass when measuring errors (memory, not results)


@dataclass(frozen=True, eq=False)
class TrainRun:
    """What :func:`train` did.

    Attributes:
        out_dir: the run directory.
        settings: the settings trained with (``epochs`` the target reached).
        history: one dict per epoch on disk, from 0 (initialisation): ``epoch``,
            ``train_error`` and ``val_error`` (fractions misclassified, full sets, after the
            epoch), ``train_loss`` (epoch 0: hinge loss of the initial network on the full
            training set; later: mean over the epoch's SGD batches, weighted by batch size).
        resumed_from: the checkpoint's epoch when an existing run was continued, else None.
        finished: the run has reached ``settings.epochs`` (always True for a returned run:
            an interrupted or diverging one raises instead, leaving a resumable directory).
    """

    out_dir: Path
    settings: TrainSettings
    history: list[dict[str, Any]] = field(default_factory=list)
    resumed_from: int | None = None
    finished: bool = False


def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
    """Order of the ``n`` training images in epoch ``epoch`` (1-based) of a run seeded ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1, int(epoch))))
    return rng.permutation(int(n))


def train(
    settings: TrainSettings,
    out_dir: str | os.PathLike,
    *,
    resume: bool = True,
    progress: bool = True,
    data: MNIST | None = None,
    device: str | None = None,
) -> TrainRun:
    """Train ``settings``' program, writing a snapshot per epoch into ``out_dir``.

    Files: ``run.json`` (settings, learning rate in force, data source, version),
    ``epoch_0000.npz`` (the initialisation) … ``epoch_XXXX.npz`` and ``checkpoint.pt``
    (``{"epoch", "state_dict", "optimizer", "settings"}`` of the last finished epoch, so
    :func:`replicasolve.tap.load_weights` also reads it). Every file is written atomically.

    Args:
        settings: the program (see :class:`.programs.TrainSettings`).
        out_dir: a new or empty directory, or the directory of the same run to continue.
        resume: continue the run found in ``out_dir`` (its settings must equal these,
            except ``epochs``, which may be larger to extend it). ``False`` refuses to
            touch an existing run.
        progress: show a status line on stderr while it is a terminal (and one line per
            epoch wherever stderr goes).
        data: the MNIST sets to use; ``None`` loads ``settings.data``. ``settings.n_train``
            / ``n_val`` take the first images of either.
        device: torch device (default ``"cpu"``). Bitwise resume holds on one device.

    Returns:
        A :class:`TrainRun` with the per-epoch history (read back from the snapshots for
        the epochs done before a resume).

    Raises:
        InvalidInputError: ``out_dir`` holds other files, or a run with other settings
            (the differing keys are named), or a corrupt checkpoint; ``resume=False`` with
            an existing run; bad data.
        ConvergenceError: the loss became NaN or infinite (learning rate too large); the
            run stays resumable from the last finished epoch.
    """
    if not isinstance(settings, TrainSettings):
        raise InvalidInputError(f"settings must be a TrainSettings, got {type(settings).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{out}: exists and is not a directory")
    dev = torch.device(device or "cpu")
    existing = _existing_run(out, settings, resume)

    data = _select_data(settings, data)
    x_train = torch.from_numpy(np.array(data.train_images, dtype=np.float32)).to(dev)
    y_train = torch.from_numpy(np.array(data.train_labels, dtype=np.int64)).to(dev)
    x_val = torch.from_numpy(np.array(data.val_images, dtype=np.float32)).to(dev)
    y_val = torch.from_numpy(np.array(data.val_labels, dtype=np.int64)).to(dev)
    n_classes = 10

    model = build_network(settings, input_size=x_train.shape[1], n_classes=n_classes).to(dev)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=settings.learning_rate, momentum=settings.momentum
    )
    run_info = {
        **settings.to_dict(),
        "learning_rate": settings.learning_rate,
        "data_source": data.source,
        "data_name": data.name,
        "n_train_used": data.n_train,
        "n_val_used": data.n_val,
        "layer_sizes": [int(x_train.shape[1]), *settings.hidden, n_classes],
        "device": str(dev),
    }
    checkpoint = out / CHECKPOINT_NAME
    resumed_from: int | None = None
    if existing is not None and checkpoint.is_file():
        start = _load_checkpoint(checkpoint, model, optimizer, settings, dev)
        resumed_from = start
        if int(existing.get("epochs", -1)) < settings.epochs:
            snapshots.write_run_settings(out, run_info)  # extended: record the new target
    else:
        # a new run, or one killed before its first checkpoint: start from the seed
        snapshots.write_run_settings(out, run_info)
        start = 0
        measured = _measure(model, settings, x_train, y_train, x_val, y_val)
        _write_epoch(out, model, optimizer, settings, run_info, 0, **measured)

    history = _read_history(out, start)
    meter = Reporter(settings.program, enabled=progress)
    if resumed_from is not None:
        meter.log(f"{settings.program}: resumed from epoch {resumed_from} in {out}")
    try:
        for epoch in range(start + 1, settings.epochs + 1):
            train_loss = _train_epoch(model, optimizer, settings, x_train, y_train, epoch, meter)
            if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
                raise ConvergenceError(
                    f"epoch {epoch}: the weights became NaN or infinite (learning rate "
                    f"{settings.learning_rate} too large?); the run can be resumed from epoch "
                    f"{epoch - 1}"
                )
            measured = _measure(model, settings, x_train, y_train, x_val, y_val)
            measured["train_loss"] = train_loss
            _write_epoch(out, model, optimizer, settings, run_info, epoch, **measured)
            history.append({"epoch": epoch, **measured})
            meter.log(f"{settings.program} epoch {epoch}/{settings.epochs} loss "
                      f"{measured['train_loss']:.4f} train err {measured['train_error']:.4f} "
                      f"val err {measured['val_error']:.4f}")
    finally:
        meter.close()  # end the status line even when interrupted
    # a run returns only once it has reached its target (a kill or a divergence raises)
    return TrainRun(out, settings, history, resumed_from, finished=True)


# --------------------------------------------------------------------------- run directory


def _existing_run(out: Path, settings: TrainSettings, resume: bool) -> dict[str, Any] | None:
    """The run.json of a run to continue, None for a fresh directory; refuses the rest."""
    if not out.is_dir() or not any(out.iterdir()):
        return None
    if not (out / "run.json").is_file():
        raise InvalidInputError(
            f"{out}: not empty and holds no run.json (not a training run); "
            "choose a new or empty directory"
        )
    if not resume:
        raise InvalidInputError(
            f"{out}: already holds a training run; pass resume=True to continue it "
            "or choose another directory (nothing was deleted)"
        )
    old = snapshots.read_run_settings(out)
    new = {**settings.to_dict(), "learning_rate": settings.learning_rate}
    keys = [k for k in new if k != "epochs"]
    differ = [k for k in keys if _normalise(old.get(k, "<missing>")) != _normalise(new[k])]
    if differ:
        parts = ", ".join(
            f"{k} ({old.get(k, '<missing>')!r} there, {new[k]!r} here)" for k in differ
        )
        raise InvalidInputError(
            f"{out}: holds a run with other settings: {parts}; "
            "use another directory or the same settings (only epochs may change)"
        )
    return old


def _normalise(value: Any) -> Any:
    # run.json stores tuples as lists and ints that are floats (margin) as floats
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _select_data(settings: TrainSettings, data: MNIST | None) -> MNIST:
    if data is None:
        return load_mnist(settings.data, n_train=settings.n_train, n_val=settings.n_val)
    if not isinstance(data, MNIST):
        raise InvalidInputError(f"data must be an MNIST (load_mnist), got {type(data).__name__}")
    nt = data.n_train if settings.n_train is None else settings.n_train
    nv = data.n_val if settings.n_val is None else settings.n_val
    if nt > data.n_train or nv > data.n_val:
        raise InvalidInputError(
            f"settings ask for {nt} training and {nv} validation images; the data has "
            f"{data.n_train} and {data.n_val}"
        )
    if (nt, nv) == (data.n_train, data.n_val):
        return data
    return MNIST(
        data.train_images[:nt],
        data.train_labels[:nt],
        data.val_images[:nv],
        data.val_labels[:nv],
        f"{data.source}; first {nt} training and {nv} validation images",
        data.name,
    )


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``checkpoint.pt`` atomically (a seam for the tests' simulated kill)."""
    snapshots.atomic_write(path, lambda handle: torch.save(state, handle))


def _write_epoch(
    out: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    settings: TrainSettings,
    run_info: dict[str, Any],
    epoch: int,
    *,
    train_error: float,
    val_error: float,
    train_loss: float,
) -> None:
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    meta = {
        "train_error": train_error,
        "val_error": val_error,
        "train_loss": train_loss,
        "seed": settings.seed,
        "program": settings.program,
        "settings": settings.to_dict(),
        "learning_rate": settings.learning_rate,
        "init_gain2": settings.init_gain2,
        "version": __version__,
        "torch_version": torch.__version__,
        "data_source": run_info["data_source"],
    }
    snapshots.write_snapshot(
        out,
        epoch,
        [m.weight.detach().cpu().numpy() for m in linears],
        [m.bias.detach().cpu().numpy() for m in linears],
        meta,
    )
    # after the snapshot: a kill in between recomputes this epoch from the last checkpoint
    state = {
        "epoch": epoch,
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "settings": settings.to_dict(),
    }
    _save_checkpoint(out / CHECKPOINT_NAME, state)


def _load_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    settings: TrainSettings,
    device: torch.device,
) -> int:
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInputError(f"{path}: corrupt or unreadable checkpoint ({first})") from None
    if not isinstance(state, dict) or not {"epoch", "state_dict", "optimizer"} <= set(state):
        raise InvalidInputError(f"{path}: not a replicasolve training checkpoint")
    saved = state.get("settings")
    if isinstance(saved, dict):
        mine = settings.to_dict()
        differ = [
            k for k in mine if k != "epochs" and _normalise(saved.get(k)) != _normalise(mine[k])
        ]
        if differ:
            raise InvalidInputError(
                f"{path}: checkpoint of other settings ({', '.join(differ)}) than run.json"
            )
    try:
        epoch = int(state["epoch"])
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
    except Exception as exc:  # shape mismatch, missing keys, bad types: all "corrupt"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInputError(f"{path}: checkpoint does not fit the network ({first})") from None
    if epoch < 0:
        raise InvalidInputError(f"{path}: checkpoint epoch {epoch} < 0")
    return epoch


def _read_history(out: Path, upto: int) -> list[dict[str, Any]]:
    """Per-epoch records ``0..upto`` from the snapshots' metadata (missing files skipped)."""
    history = []
    for epoch, path in snapshots.list_snapshots(out):
        if epoch > upto:
            continue
        try:
            # only the small "meta" member is read, not the weights
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
        except Exception as exc:
            raise snapshots.SnapshotError(f"{path}: unreadable snapshot ({exc})") from None
        history.append(
            {"epoch": epoch, **{k: meta.get(k) for k in ("train_error", "val_error", "train_loss")}}
        )
    return history


# --------------------------------------------------------------------------- numerics


def _train_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    settings: TrainSettings,
    x: torch.Tensor,
    y: torch.Tensor,
    epoch: int,
    meter: Reporter,
) -> float:
    model.train()
    n = int(y.shape[0])
    order = torch.from_numpy(epoch_permutation(settings.seed, epoch, n)).to(x.device)
    bs = settings.batch_size
    n_batches = math.ceil(n / bs)
    # accumulated on the device, read only for the progress line (no sync per batch)
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    wrong = torch.zeros((), dtype=torch.int64, device=x.device)
    for b in range(n_batches):
        idx = order[b * bs : (b + 1) * bs]
        xb, yb = x[idx], y[idx]
        outputs = model(xb)
        loss = hinge_loss(outputs, yb, settings.margin)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach().double() * len(idx)
        wrong += (outputs.detach().argmax(dim=1) != yb).sum()
        if meter.due() or b == n_batches - 1:
            seen = min((b + 1) * bs, n)
            mean_loss = float(loss_sum) / seen
            if not math.isfinite(mean_loss):
                raise ConvergenceError(
                    f"epoch {epoch}, batch {b + 1}: the hinge loss is not finite "
                    f"(learning rate {settings.learning_rate} too large?); the run can be "
                    f"resumed from epoch {epoch - 1}"
                )
            meter.show(f"{settings.program} epoch {epoch}/{settings.epochs} batch "
                       f"{b + 1}/{n_batches} loss {mean_loss:.4f} train err "
                       f"{int(wrong) / seen:.4f}", force=True)
    return float(loss_sum) / n


@torch.no_grad()
def _measure(
    model: torch.nn.Module,
    settings: TrainSettings,
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
) -> dict[str, float]:
    """Errors on the full sets (eval mode); the training loss too (used for epoch 0)."""
    model.eval()
    out = {}
    for name, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
        wrong, loss_sum = 0, 0.0
        for i in range(0, int(y.shape[0]), _EVAL_BATCH):
            scores = model(x[i : i + _EVAL_BATCH])
            yb = y[i : i + _EVAL_BATCH]
            wrong += int((scores.argmax(dim=1) != yb).sum())
            loss_sum += float(hinge_loss(scores, yb, settings.margin)) * len(yb)
        out[f"{name}_error"] = wrong / int(y.shape[0])
        if name == "train":
            out["train_loss"] = loss_sum / int(y.shape[0])
    model.train()
    return out


