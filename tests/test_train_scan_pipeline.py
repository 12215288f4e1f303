"""The trained-net pipeline at epoch 0 against the replica theory (its first check).

The epoch-0 snapshot of ``train`` is a Kaiming-normal network, so its TAP β_c must equal the
multilayer-SK value within the finite-size spread measured in the TAP issue:
``examples/tap_finite_size_trend.py`` found mean |β_TAP/β_MSK − 1| = 2.5e-3 over 8 random
instances at N = 2330 (MNIST proportions). A wrong layout (weights transposed, layers out of
order, biases read as couplings) moves β_c by far more than that.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from replicasolve.models.msk import msk_critical
from replicasolve.studies.scan.epochs import scan_run
from replicasolve.studies.train.loop import train
from replicasolve.studies.train.programs import TrainSettings, build_network
from replicasolve.tap.bonds import load_weights
from replicasolve.tap.critical import tap_critical

SIZES = [784, 512, 512, 512, 10]


@pytest.mark.parametrize("program", ["standard", "binarized"])
def test_epoch0_beta_c_is_the_msk_value(tmp_path, program):
    settings = TrainSettings(program=program, epochs=0, seed=3, n_train=64, n_val=64)
    train(settings, tmp_path / "run", progress=False)
    ds = scan_run(tmp_path / "run", plain=False)
    assert list(ds["epoch"].values) == [0]
    assert [int(s) for s in ds.attrs["layer_sizes"]] == SIZES
    theory = msk_critical(SIZES, 2.0).beta_c
    beta0 = float(ds["beta_c"].values[0])
    # 4x the measured mean finite-size deviation at this N (module docstring)
    assert abs(beta0 / theory - 1) < 1e-2
    # the same number from the torch module itself, without the snapshot files
    module = build_network(settings)
    direct = tap_critical(load_weights(module), rtol=1e-10)
    assert direct.beta_c == pytest.approx(beta0, rel=1e-7)
