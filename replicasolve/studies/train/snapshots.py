"""Per-epoch weight snapshots of a training run: one format, written atomically.

A run directory holds

- ``run.json``: the run's settings (program, widths, learning rate, seed, data source …)
  and the package version that wrote it;
- ``epoch_0000.npz``, ``epoch_0001.npz``, …: one snapshot per epoch (epoch 0 is the
  initialisation), readable by numpy alone (``allow_pickle=False``, no torch needed to
  scan a run);
- ``checkpoint.pt``: the resume state (model and optimiser) of the last finished epoch,
  owned by :mod:`replicasolve.studies.train.loop`.

A snapshot ``.npz`` holds ``weight_0 … weight_{L-1}`` (float32, shaped ``(out, in)`` like
``torch.nn.Linear.weight``), ``bias_0 … bias_{L-1}`` and ``meta``: a 0-d string array with
a JSON object (``format``, ``epoch``, ``layer_sizes``, ``train_error``, ``val_error``,
``train_loss``, ``seed``, ``program``, ``settings``, ``version``).

Every file is first written to a temporary name in the same directory, flushed to disk and
then renamed over the final name (``os.replace`` is atomic on POSIX), so a killed process
leaves either the old complete file or the new complete one, never half a file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InvalidInputError
from ...files import atomic_write, read_npz

__all__ = [
    "SNAPSHOT_FORMAT",
    "Snapshot",
    "SnapshotError",
    "atomic_write",
    "list_snapshots",
    "read_run_settings",
    "read_snapshot",
    "snapshot_from_arrays",
    "snapshot_path",
    "write_run_settings",
    "write_snapshot",
]

SNAPSHOT_FORMAT = "replicasolve-snapshot/1"
_NAME = re.compile(r"^epoch_(\d{4,})\.npz$")


class SnapshotError(InvalidInputError):
    """A snapshot file is missing, unreadable, or does not match its run (names the file)."""


@dataclass(frozen=True)
class Snapshot:
    """The weights of one epoch and what was measured then.

    Attributes:
        path: the file it was read from (``None`` before it is written).
        epoch: 0 for the initialisation, then 1, 2, ….
        weights: per layer, float32 arrays shaped ``(out, in)``.
        biases: per layer, float32 arrays shaped ``(out,)``.
        meta: the JSON metadata (errors, loss, seed, settings, version).
    """

    epoch: int
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Spins per layer, input first: ``(in_0, out_0, out_1, …)``."""
        return (int(self.weights[0].shape[1]), *(int(w.shape[0]) for w in self.weights))


def snapshot_path(run_dir: str | os.PathLike, epoch: int) -> Path:
    """``run_dir/epoch_XXXX.npz`` for an epoch ``>= 0``."""
    if int(epoch) != epoch or epoch < 0:
        raise InvalidInputError(f"epoch must be an integer >= 0, got {epoch!r}")
    return Path(run_dir) / f"epoch_{int(epoch):04d}.npz"


def write_snapshot(
    run_dir: str | os.PathLike,
    epoch: int,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write the snapshot of ``epoch`` atomically and return its path.

    Args:
        run_dir: the run directory (created if missing).
        epoch: 0 (initialisation) or the number of finished epochs.
        weights: per layer, arrays shaped ``(out, in)`` that chain (``in`` of layer l+1
            equals ``out`` of layer l).
        biases: per layer, arrays shaped ``(out,)``.
        meta: JSON-serialisable metadata; ``format``, ``epoch`` and ``layer_sizes`` are
            filled in here.

    Raises:
        InvalidInputError: shapes that do not chain, NaN/infinite values, or metadata
            that is not JSON.
    """
    ws = [np.asarray(w, dtype=np.float32) for w in weights]
    bs = [np.asarray(b, dtype=np.float32) for b in biases]
    if not ws or len(ws) != len(bs):
        raise InvalidInputError("a snapshot needs one bias per weight matrix (and >= 1 layer)")
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise InvalidInputError(f"layer {i}: weight {w.shape} and bias {b.shape} disagree")
        if i and w.shape[1] != ws[i - 1].shape[0]:
            raise InvalidInputError(
                f"layer {i}: input size {w.shape[1]} != output size {ws[i - 1].shape[0]} "
                "of the layer before"
            )
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise InvalidInputError(f"layer {i}: NaN or infinite parameters")
    info = dict(meta or {})
    info.update(
        format=SNAPSHOT_FORMAT,
        epoch=int(epoch),
        layer_sizes=[int(ws[0].shape[1]), *(int(w.shape[0]) for w in ws)],
    )
    try:
        text = json.dumps(info, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"snapshot metadata is not plain JSON: {exc}") from None
    arrays = {f"weight_{i}": w for i, w in enumerate(ws)}
    arrays.update({f"bias_{i}": b for i, b in enumerate(bs)})
    arrays["meta"] = np.array(text)
    return atomic_write(snapshot_path(run_dir, epoch), lambda h: np.savez(h, **arrays))


def read_snapshot(
    path: str | os.PathLike, *, layer_sizes: Sequence[int] | None = None
) -> Snapshot:
    """Read one snapshot file, checking it completely.

    Args:
        path: an ``epoch_XXXX.npz`` file.
        layer_sizes: if given, the architecture the snapshot must have (input first).

    Raises:
        SnapshotError: the file is missing, not a readable ``.npz``, lacks weights, biases
            or metadata, has NaN weights, or has another architecture (the message names
            the file).
    """
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"{path}: no such snapshot file")
    try:
        contents = read_npz(path, "snapshot")
    except InvalidInputError as exc:
        raise SnapshotError(str(exc)) from None
    return snapshot_from_arrays(path, contents, layer_sizes=layer_sizes)


def snapshot_from_arrays(
    path: str | os.PathLike, contents: dict[str, Any], *,
    layer_sizes: Sequence[int] | None = None
) -> Snapshot:
    """:func:`read_snapshot` of arrays already read from ``path`` (``{name: array}``, as
    :func:`replicasolve.files.read_npz` returns them): the same checks, no second read.

    Raises:
        SnapshotError: as :func:`read_snapshot`.
    """
    path = Path(path)
    try:
        meta = json.loads(str(contents["meta"]))
    except (KeyError, ValueError) as exc:
        raise SnapshotError(f"{path}: snapshot metadata missing or not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{path}: not a {SNAPSHOT_FORMAT} file")
    n = sum(1 for k in contents if k.startswith("weight_"))
    try:
        ws = tuple(contents[f"weight_{i}"] for i in range(n))
        bs = tuple(contents[f"bias_{i}"] for i in range(n))
    except KeyError as exc:
        raise SnapshotError(f"{path}: missing array {exc}") from None
    if n == 0:
        raise SnapshotError(f"{path}: no weights in the snapshot")
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        chained = i == 0 or w.shape[1:] == ws[i - 1].shape[:1]
        if w.ndim != 2 or b.shape != w.shape[:1] or not chained:
            raise SnapshotError(f"{path}: layer {i} has inconsistent shapes")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise SnapshotError(f"{path}: layer {i} has NaN or infinite parameters")
    snap = Snapshot(int(meta.get("epoch", -1)), ws, bs, meta, path)
    if list(snap.layer_sizes) != list(meta.get("layer_sizes", [])):
        raise SnapshotError(f"{path}: metadata layer sizes disagree with the arrays")
    if layer_sizes is not None and tuple(int(s) for s in layer_sizes) != snap.layer_sizes:
        raise SnapshotError(
            f"{path}: architecture {'-'.join(map(str, snap.layer_sizes))} differs from the "
            f"run's {'-'.join(map(str, layer_sizes))}"
        )
    m = _NAME.match(path.name)
    if m and int(m.group(1)) != snap.epoch:
        raise SnapshotError(f"{path}: holds epoch {snap.epoch}, not the one in its name")
    return snap


def list_snapshots(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of every ``epoch_XXXX.npz`` in a run directory, by epoch.

    Only names are inspected (reading is :func:`read_snapshot`'s job, so one corrupt file
    does not hide the others). Temporary files of an interrupted write are ignored.

    Raises:
        InvalidInputError: ``run_dir`` is not a directory.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InvalidInputError(f"{run_dir}: no such run directory")
    found = []
    for p in run_dir.iterdir():
        m = _NAME.match(p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)


def write_run_settings(run_dir: str | os.PathLike, settings: dict[str, Any]) -> Path:
    """Write ``run_dir/run.json`` atomically (settings plus the package version)."""
    from ...version import __version__

    info = {"version": __version__, **settings}
    try:
        text = json.dumps(info, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"run settings are not plain JSON: {exc}") from None
    return atomic_write(Path(run_dir) / "run.json", lambda h: h.write(text.encode()))


def read_run_settings(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The settings of a run (``run.json``); ``{}`` if the run has none.

    Raises:
        SnapshotError: ``run.json`` exists but is not a JSON object.
    """
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SnapshotError(f"{path}: unreadable run settings ({exc})") from None
    if not isinstance(info, dict):
        raise SnapshotError(f"{path}: run settings are not a JSON object")
    return info
