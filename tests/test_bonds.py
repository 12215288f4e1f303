"""Bonds of one instance: block layout, Onsager diagonal, loading, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.tap.bonds import DenseBonds, LayeredBonds, load_weights, random_layered


def test_dense_layout_matvec_and_diagonal(rng: np.random.Generator) -> None:
    b = random_layered([7, 5, 6, 3], [2.0, 1.0, 0.5], seed=3)
    j = b.dense()
    assert j.shape == (21, 21)
    assert np.array_equal(j, j.T)
    o = b.offsets
    for layer in range(4):  # zero diagonal blocks: no couplings inside a layer
        assert not np.any(j[o[layer] : o[layer + 1], o[layer] : o[layer + 1]])
    assert not np.any(j[o[0] : o[1], o[2] :])  # only adjacent layers couple
    x = rng.standard_normal((21, 3))
    np.testing.assert_allclose(b.matvec(x), j @ x, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(b.d, (j**2).sum(axis=1), rtol=1e-13)


def test_random_layered_reproducible_and_variance() -> None:
    a = random_layered([300, 200, 100], 2.0, seed=5)
    b = random_layered([300, 200, 100], 2.0, seed=5)
    c = random_layered([300, 200, 100], 2.0, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))
    assert not np.array_equal(a.weights[0], c.weights[0])
    # N_in * mean(W^2) estimates C with relative std sqrt(2/(N_out N_in)): 6 sigma
    for cf, w in zip(a.variance_factors(), a.weights, strict=True):
        assert cf == pytest.approx(2.0, abs=6 * 2.0 * np.sqrt(2.0 / w.size))


def test_npz_roundtrip(tmp_path) -> None:
    b = random_layered([6, 4, 2], 2.0, seed=1)
    path = tmp_path / "w.npz"
    b.save_npz(path)
    c = load_weights(path)
    assert c.sizes == (6, 4, 2)
    assert all(np.array_equal(x, y) for x, y in zip(b.weights, c.weights, strict=True))
    d = load_weights(str(path))
    assert d.sizes == c.sizes


def test_torch_module_and_state_dict(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(8, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3), torch.nn.ReLU(),
        torch.nn.Linear(3, 2),
    )
    from_module = load_weights(net)
    assert from_module.sizes == (8, 5, 3, 2)
    np.testing.assert_array_equal(from_module.weights[1], net[2].weight.detach().double().numpy())
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    from_file = load_weights(path)
    for x, y in zip(from_module.weights, from_file.weights, strict=True):
        np.testing.assert_array_equal(x, y)
    wrapped = tmp_path / "ckpt.pt"
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, wrapped)
    assert load_weights(wrapped).sizes == (8, 5, 3, 2)


def test_bad_weights(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="do not chain"):
        LayeredBonds((np.ones((3, 4)), np.ones((2, 5))))
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        LayeredBonds((np.array([[1.0, np.nan]]),))
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        LayeredBonds((np.array([[1.0, np.inf]]),))
    with pytest.raises(InvalidInputError, match="empty layer"):
        LayeredBonds((np.ones((0, 4)),))
    with pytest.raises(InvalidInputError, match="2-D"):
        LayeredBonds((np.ones(4),))
    with pytest.raises(InvalidInputError, match="at least one"):
        LayeredBonds(())
    with pytest.raises(InvalidInputError, match="no such file"):
        load_weights(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(InvalidInputError, match="not a readable"):
        load_weights(bad)
    other = tmp_path / "w.txt"
    other.write_text("1 2 3")
    with pytest.raises(InvalidInputError, match="unknown weight file type"):
        load_weights(other)
    with pytest.raises(InvalidInputError, match="chain"):
        load_weights([np.ones((3, 4)), np.ones((3, 4))])


def test_dense_bonds_checks() -> None:
    j = DenseBonds.sk(50, seed=2).J
    assert np.array_equal(j, j.T) and not np.any(np.diag(j))
    with pytest.raises(InvalidInputError, match="symmetric"):
        DenseBonds(np.triu(j))
    with pytest.raises(InvalidInputError, match="zero diagonal"):
        DenseBonds(j + np.eye(50))
    with pytest.raises(InvalidInputError, match="square"):
        DenseBonds(np.ones((2, 3)))
