"""The descriptor with the layer-parallel (block) engine: the same q̄(T) as exact
enumeration and as the single-spin-flip engine, and the refusals.

Golden values: exact Boltzmann sums over all 2^12 states of a 4-5-3 network with biases
(``exact_q_bar_energy`` of ``test_descriptor.py``, an independent route). Statistical
tolerances: 5 standard errors (the descriptor's own error bar; that this bar bounds the
scatter is checked for the engines in ``test_mc_block.py`` and ``test_mc_ising.py``), and
for engine vs engine 5 combined standard errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from test_descriptor import exact_q_bar_energy, small_network

from replicasolve.cli import main
from replicasolve.engines.ising import IsingSystem
from replicasolve.errors import InvalidInputError
from replicasolve.studies.descriptor import descriptor_curve, network_spin_model
from replicasolve.studies.train.snapshots import write_snapshot
from replicasolve.tap.bonds import DenseBonds


@pytest.mark.parametrize("pt", [False, True])
def test_block_engine_matches_exact_enumeration(pt: bool) -> None:
    system = network_spin_model(small_network())  # 4-5-3, N = 12, biases as fields
    temps = [0.6, 1.2, 2.5]
    ds = descriptor_curve(system, temps, replicas=16, sweeps=4000, burn_in=500, seed=3,
                          parallel_tempering=pt, equilibration="none", engine="block")
    assert ds.attrs["engine"] == "block" and ds.attrs["method"] == "heatbath"
    J = system.couplings()
    for k, t in enumerate(temps):
        q_ex, e_ex = exact_q_bar_energy(J, system.h, t)
        q, qe = float(ds.q_bar[k]), float(ds.q_bar_err[k])
        e, ee = float(ds.energy[k]), float(ds.energy_err[k])
        assert abs(q - q_ex) < 5 * qe, (t, q, qe, q_ex)
        assert abs(e - e_ex) < 5 * ee, (t, e, ee, e_ex)


def test_block_and_single_agree() -> None:
    rng = np.random.default_rng(8)
    sizes = (20, 16, 12)
    net = {"weights": [rng.normal(0, math.sqrt(2 / sizes[k]), (sizes[k + 1], sizes[k]))
                       for k in range(2)],
           "biases": [rng.normal(0, 0.2, sizes[k + 1]) for k in range(2)]}
    system = network_spin_model(net)
    temps = [1.0, 2.0]
    kw = dict(replicas=16, sweeps=3000, burn_in=500, equilibration="none",
              parallel_tempering=True)
    single = descriptor_curve(system, temps, seed=1, method="heatbath", **kw)
    block = descriptor_curve(system, temps, seed=2, engine="block", **kw)
    for name in ("q_bar", "energy", "q2"):
        a, b = single[name].values, block[name].values
        err = np.hypot(single[name + "_err"].values, block[name + "_err"].values)
        assert np.all(np.abs(a - b) < 5 * err), (name, a, b, err)


def test_refusals() -> None:
    dense = IsingSystem.dense(DenseBonds.sk(8, seed=0).J)
    with pytest.raises(InvalidInputError, match="layered couplings"):
        descriptor_curve(dense, [1.0, 2.0], replicas=2, sweeps=10, burn_in=0, engine="block")
    layered = network_spin_model(small_network())
    with pytest.raises(InvalidInputError, match="engine must be"):
        descriptor_curve(layered, [1.0], replicas=2, sweeps=10, burn_in=0, engine="gpu")
    with pytest.raises(InvalidInputError, match="engine='block'"):
        descriptor_curve(layered, [1.0], replicas=2, sweeps=10, burn_in=0, backend="torch")
    with pytest.raises(InvalidInputError, match="device"):
        descriptor_curve(layered, [1.0], replicas=2, sweeps=10, burn_in=0, engine="block",
                         backend="torch", device="tpu")


def test_cli_engine_flag(tmp_path, capsys) -> None:
    net = small_network()
    run = tmp_path / "run"
    write_snapshot(run, 0, net["weights"], net["biases"])
    args = ["descriptor", str(run), "--T", "0.8,2", "--replicas", "4", "--sweeps", "200",
            "--burn-in", "20", "--equilibration", "none"]
    assert main([*args, "--engine", "block", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["settings"]["engine"] == "block" and info["settings"]["device"] == "cpu"
    assert main([*args, "--engine", "block"]) == 0
    assert "block engine" in capsys.readouterr().out
    for extra, words in ((["--device", "cuda"], "--engine block"),
                         (["--engine", "block", "--device", "tpu"], "device")):
        assert main([*args, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
