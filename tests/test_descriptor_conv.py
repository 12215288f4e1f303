"""Convolutional networks as layered spin models (``replicasolve.tap.conv``).

Independent routes:
- the sparse block (CSR built by index arithmetic) against the dense matrix obtained by
  applying ``torch.nn.functional.conv2d`` to every basis vector: each entry of either is one
  kernel weight or an exact zero, so they agree exactly (asserted to 1e-12);
- fields: sparse (CSR, conv2d / conv_transpose2d, and the block engine's own final fields)
  against the dense J s + h; sums of at most ~60 float64 products of O(1) numbers, so 1e-12
  bounds the rounding;
- Monte Carlo: exact Boltzmann sums over all 2^N states of tiny CNNs (``exact_q_bar_energy``
  of ``test_descriptor.py`` for q̄ and E; ⟨Q²⟩ = Σ_ij ⟨s_i s_j⟩² / N² from the exact
  correlation matrix), within 5 standard errors (the engines' error bars are checked to
  bound the scatter in ``test_mc_block.py`` / ``test_mc_ising.py``), and the single-spin-flip
  engine against the block engine within 5 combined standard errors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_descriptor import exact_q_bar_energy

from replicasolve.cli import main
from replicasolve.engines.block import run_replicas_block
from replicasolve.errors import InvalidInputError
from replicasolve.studies.descriptor import descriptor_curve, network_spin_model
from replicasolve.tap import conv
from replicasolve.tap.conv import (
    ConvBlock,
    ConvLayeredBonds,
    conv_network_of_module,
    read_conv_spec,
    save_conv_spec,
)

torch = pytest.importorskip("torch")
nn = torch.nn


def _dense_by_basis(kernel, in_shape, stride, padding, dilation):
    n = int(np.prod(in_shape))
    eye = torch.eye(n, dtype=torch.float64).reshape(n, *in_shape)
    out = torch.nn.functional.conv2d(eye, torch.tensor(kernel), None, stride, padding, dilation)
    return out.reshape(n, -1).T.numpy()  # column j = conv of basis vector j


def _cnn(c_in, c_out, k, stride, padding, n_out, flat, seed=0, bias=True):
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(flat, n_out),
    )
    with torch.no_grad():  # O(1) couplings, so that the tests see ordered and disordered T
        for p in net.parameters():
            p.mul_(2.0)
    return net


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize(("c_in", "c_out", "dilation"), [(1, 1, 1), (2, 3, 1), (3, 2, 2)])
def test_sparse_block_equals_conv_of_basis_vectors(stride, padding, c_in, c_out, dilation):
    rng = np.random.default_rng(stride + 10 * padding + 100 * c_in)
    kernel = rng.standard_normal((c_out, c_in, 3, 2))
    in_shape = (c_in, 7, 6)
    block = ConvBlock(kernel, in_shape, stride, padding, dilation)
    dense = _dense_by_basis(kernel, in_shape, stride, padding, dilation)
    assert dense.shape == block.shape
    csr = block.csr()
    assert np.max(np.abs(csr.toarray() - dense)) <= 1e-12
    # the nnz predicted from the geometry is the number of couplings (no kernel entry is 0)
    assert block.nnz == csr.nnz == np.count_nonzero(dense)
    assert csr.has_sorted_indices
    # the conv / transposed-conv operators of the torch backend are W and Wᵀ
    fwd, adj = block.torch_operators(torch.float64, "cpu")
    x = rng.standard_normal((block.shape[1], 3))
    y = rng.standard_normal((block.shape[0], 3))
    assert np.max(np.abs(fwd(torch.tensor(x)).numpy() - dense @ x)) <= 1e-12
    assert np.max(np.abs(adj(torch.tensor(y)).numpy() - dense.T @ y)) <= 1e-12


def test_fields_sparse_equal_dense():
    net = _cnn(2, 3, 3, 2, 1, 5, 27)
    system = network_spin_model(net, input_shape=(2, 6, 6))
    bonds = system.bonds
    assert isinstance(bonds, ConvLayeredBonds)
    assert bonds.layer_shapes == ((2, 6, 6), (3, 3, 3), (5,))
    # dense J from the basis-vector route, not from the CSR
    w1 = net[0].weight.detach().double().numpy()
    conv_dense = _dense_by_basis(w1, (2, 6, 6), 2, 1, 1)
    lin = net[3].weight.detach().double().numpy()
    n0, n1 = 72, 27
    assert system.n == n0 + n1 + 5
    J = np.zeros((system.n, system.n))
    J[n0 : n0 + n1, :n0] = conv_dense
    J[n0 + n1 :, n0 : n0 + n1] = lin
    J = J + J.T
    assert np.max(np.abs(bonds.dense() - J)) <= 1e-12
    h = np.concatenate(
        [
            np.zeros(n0),
            np.repeat(net[0].bias.detach().double().numpy(), 9),
            net[3].bias.detach().double().numpy(),
        ]
    )
    assert np.max(np.abs(system.h - h)) <= 1e-12
    rng = np.random.default_rng(1)
    s = rng.choice([-1.0, 1.0], size=(system.n, 4))
    assert np.max(np.abs(system.local_fields(s) - (J @ s + h[:, None]))) <= 1e-12
    assert np.max(np.abs(bonds.d - (J * J).sum(axis=1))) <= 1e-12
    # the block engine's final fields, recomputed from its final spins, both backends
    for backend in ("numpy", "torch"):
        res = run_replicas_block(
            system, 1.0, replicas=3, sweeps=5, burn_in=0, seed=2, backend=backend
        )
        u = J @ res.spins.astype(np.float64) + h[:, None]
        assert np.max(np.abs(res.fields.T - u)) <= 1e-12, backend


def _exact_q2_abs_m(J, h, T):
    n = h.size
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ h
    p = np.exp(-(e - e.min()) / T)
    p /= p.sum()
    corr = states.T @ (states * p[:, None])  # ⟨s_i s_j⟩
    return float((corr**2).sum()) / n**2, float(p @ np.abs(states.mean(axis=1)))


@pytest.mark.parametrize(
    ("shape", "args", "n_spins"),
    [
        ((1, 2, 3), (1, 2, 2, 1, 0, 2, 4), 12),  # stride 1, padding 0: q̄ exact too
        ((1, 3, 3), (1, 2, 2, 2, 1, 1, 8), 18),  # stride 2, padding 1, 1 -> 2 channels
    ],
)
def test_block_engine_matches_exact_enumeration(shape, args, n_spins):
    c_in, c_out, k, stride, padding, n_out, flat = args
    net = _cnn(c_in, c_out, k, stride, padding, n_out, flat, seed=n_spins)
    system = network_spin_model(net, input_shape=shape)
    assert system.n == n_spins
    J = system.bonds.dense()
    temps = [0.8, 2.0]
    ds = descriptor_curve(
        system,
        temps,
        replicas=16,
        sweeps=3000,
        burn_in=300,
        seed=5,
        equilibration="none",
        engine="block",
    )
    for k_t, t in enumerate(temps):
        q2, abs_m = _exact_q2_abs_m(J, system.h, t)
        checks = {"q2": q2, "abs_magnetization": abs_m}
        if n_spins <= 12:
            checks["q_bar"], checks["energy"] = exact_q_bar_energy(J, system.h, t)
        else:
            states = ((np.arange(2**n_spins)[:, None] >> np.arange(n_spins)) & 1) * 2.0 - 1.0
            e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ system.h
            p = np.exp(-(e - e.min()) / t)
            checks["energy"] = float(p @ e / p.sum()) / n_spins
        for name, exact in checks.items():
            v, err = float(ds[name][k_t]), float(ds[name + "_err"][k_t])
            assert abs(v - exact) < 5 * err, (t, name, v, err, exact)


def test_single_and_block_engines_agree():
    net = _cnn(2, 3, 3, 2, 1, 5, 27, seed=3)
    system = network_spin_model(net, input_shape=(2, 6, 6))  # N = 104
    temps = [1.0, 2.5]
    kw = dict(replicas=12, sweeps=2000, burn_in=300, equilibration="none", parallel_tempering=True)
    single = descriptor_curve(system, temps, seed=1, method="heatbath", **kw)
    block = descriptor_curve(system, temps, seed=2, engine="block", **kw)
    torch_run = descriptor_curve(system, temps, seed=4, engine="block", backend="torch", **kw)
    for other in (block, torch_run):
        for name in ("q_bar", "energy", "q2"):
            a, b = single[name].values, other[name].values
            err = np.hypot(single[name + "_err"].values, other[name + "_err"].values)
            assert np.all(np.abs(a - b) < 5 * err), (name, a, b, err)


def test_spec_round_trip(tmp_path):
    net = _cnn(2, 3, 3, 2, 1, 5, 27, seed=7)
    path = save_conv_spec(net, (2, 6, 6), tmp_path / "net.json")
    spec = json.loads(path.read_text())
    assert spec["format"] == conv.SPEC_FORMAT and spec["weights"] == "net.pt"
    a = conv_network_of_module(net, (2, 6, 6))
    b = read_conv_spec(path)
    assert a.layer_shapes == b.layer_shapes
    assert np.array_equal(a.bonds().dense(), b.bonds().dense())
    for x, y in zip(a.biases, b.biases, strict=True):
        assert np.array_equal(x, y)
    # an unsupported layer type in a description
    spec["layers"].insert(1, {"type": "maxpool2d"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(spec))
    with pytest.raises(InvalidInputError, match="maxpool2d"):
        read_conv_spec(bad)


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


@pytest.mark.parametrize(
    ("layers", "words"),
    [
        ([nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 2)], "MaxPool2d"),
        ([nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(32, 2)], "BatchNorm2d"),
        ([nn.Conv2d(1, 2, 3, groups=1), nn.Linear(4, 2)], "flatten first"),
        ([nn.Conv2d(2, 2, 3, groups=2), nn.Flatten(), nn.Linear(32, 2)], "groups"),
        # a batch norm on a batch of one fails in training mode: named as unsupported first
        ([nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(32, 4), nn.BatchNorm1d(4)], "BatchNorm1d"),
        (
            [nn.Conv2d(1, 2, 3, padding_mode="circular"), nn.Flatten(), nn.Linear(32, 2)],
            "padding_mode",
        ),
    ],
)
def test_unsupported_layers_are_named(layers, words):
    channels = layers[0].in_channels
    with pytest.raises(InvalidInputError, match=words):
        network_spin_model(nn.Sequential(*layers), input_shape=(channels, 6, 6))


def test_layers_kept_and_scaled():
    net = _cnn(2, 3, 3, 2, 1, 5, 27, seed=5)
    full = network_spin_model(net, input_shape=(2, 6, 6))
    part = network_spin_model(net, input_shape=(2, 6, 6), include_input=False, scale=0.5)
    assert part.n == 27 + 5 and part.construction.spin_layers == (1, 2)
    # the couplings among the kept layers, scaled: the corner of the full dense J
    assert np.max(np.abs(part.bonds.dense() - 0.5 * full.bonds.dense()[72:, 72:])) <= 1e-12
    assert np.max(np.abs(part.h - 0.5 * full.h[72:])) <= 1e-12


def test_bad_modules_and_shapes():
    with pytest.raises(InvalidInputError, match="residual"):
        network_spin_model(_Residual(), input_shape=(1, 5, 5))
    net = _cnn(2, 3, 3, 2, 1, 5, 27)
    with pytest.raises(InvalidInputError, match=r"input shape \(1, 6, 6\).*cannot take"):
        network_spin_model(net, input_shape=(1, 6, 6))  # one channel, the conv takes two
    with pytest.raises(InvalidInputError, match="input shape"):
        network_spin_model(net, input_shape=(2, 7, 7))  # the Linear gets 36, takes 27
    with pytest.raises(InvalidInputError, match="input_shape=\\(C, H, W\\)"):
        network_spin_model(net)
    with pytest.raises(InvalidInputError, match="layered"):
        network_spin_model(net, input_shape=(2, 6, 6), couplings="hebbian")
    with pytest.raises(InvalidInputError, match="input_shape must be"):
        network_spin_model(net, input_shape=(2, 0, 6))
    with pytest.raises(InvalidInputError, match="does not fit"):
        ConvBlock(np.ones((1, 1, 5, 5)), (1, 3, 3))


def test_memory_limits_are_checked_before_building(monkeypatch):
    # a dense copy (single-spin-flip engine) beyond MAX_DENSE_ENTRIES is refused
    big = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 48 * 48, 2))
    system = network_spin_model(big, input_shape=(1, 48, 48))
    assert (
        system.bonds.weights[0].shape[0] * system.bonds.weights[0].shape[1] > conv.MAX_DENSE_ENTRIES
    )
    with pytest.raises(InvalidInputError, match="engine='block'"):
        descriptor_curve(system, [1.0], replicas=2, sweeps=1, burn_in=0, equilibration="none")
    # the CSR of the numpy backend: nnz counted first, refused beyond the limit
    small = network_spin_model(_cnn(2, 3, 3, 2, 1, 5, 27), input_shape=(2, 6, 6))
    nnz = small.bonds.weights[0].nnz
    monkeypatch.setattr(conv, "MAX_BLOCK_NNZ", nnz - 1)
    with pytest.raises(InvalidInputError, match="backend='torch'"):
        run_replicas_block(small, 1.0, replicas=2, sweeps=1, burn_in=0)


def _one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_runs_a_cnn_and_refuses_unsafe_files(tmp_path, capsys):
    net = _cnn(1, 2, 3, 2, 1, 3, 18)
    spec = save_conv_spec(net, (1, 6, 6), tmp_path / "net.json")
    args = [
        "--T",
        "1,2",
        "--replicas",
        "4",
        "--sweeps",
        "100",
        "--burn-in",
        "10",
        "--equilibration",
        "none",
        "--engine",
        "block",
        "--json",
    ]
    assert main(["descriptor", str(spec), *args]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_spins"] == 36 + 18 + 3
    assert info["construction"]["network_sizes"] == [36, 18, 3]
    # the same shape given again is accepted; a different one is refused
    assert main(["descriptor", str(spec), *args, "--input-shape", "1,6,6"]) == 0
    capsys.readouterr()
    cases = []
    assert main(["descriptor", str(spec), *args, "--input-shape", "1,8,8"]) == 2
    cases.append((capsys.readouterr().err, "input shape"))
    # a whole pickled module: loading it would run arbitrary code
    pickled = tmp_path / "pickled.pt"
    torch.save(net, pickled)
    assert main(["descriptor", str(pickled), *args]) == 2
    cases.append((capsys.readouterr().err, "unsafe"))
    d = json.loads(spec.read_text())
    d["weights"] = "pickled.pt"
    (tmp_path / "pickled.json").write_text(json.dumps(d))
    assert main(["descriptor", str(tmp_path / "pickled.json"), *args]) == 2
    cases.append((capsys.readouterr().err, "unsafe"))
    # a state dict with convolution weights is not read as its Linear layers alone
    assert main(["descriptor", str(tmp_path / "net.pt"), *args]) == 2
    cases.append((capsys.readouterr().err, "convolution"))
    d["weights"] = "net.pt"
    d["layers"][0]["type"] = "avgpool2d"
    (tmp_path / "pool.json").write_text(json.dumps(d))
    assert main(["descriptor", str(tmp_path / "pool.json"), *args]) == 2
    cases.append((capsys.readouterr().err, "avgpool2d"))
    assert main(["descriptor", str(tmp_path / "net.pt"), *args, "--input-shape", "1,6,6"]) == 2
    cases.append((capsys.readouterr().err, "--input-shape"))
    assert main(["descriptor", str(spec), *args, "--input-shape", "1,x,6"]) == 2
    cases.append((capsys.readouterr().err, "--input-shape"))
    for err, words in cases:
        assert words in _one_line(err), (words, err)
