"""Block heat bath on a convolutional network: sparse convolution blocks vs the same
couplings densified.

Network: 1x28x28 -> Conv2d(1, 8, 3, padding 1) -> 8x28x28 -> Conv2d(8, 8, 3, stride 2,
padding 1) -> 8x14x14 -> Flatten -> Linear(1568, 10) (torch's default initialisation, seed
0, biases as fields), N = 784 + 6272 + 1568 + 10 = 8634 spins, read by
:func:`replicasolve.studies.descriptor.network_spin_model` (:mod:`replicasolve.tap.conv`).
One temperature (T = 1), R replicas, ``run_replicas_block`` with one BLAS / torch thread,
float64; each timed run is preceded by an untimed one-sweep warm-up and includes everything
the engine does (uniforms, a measurement of E, m and every Q_ab each sweep).

Figure: milliseconds per sweep with the convolutions as scipy CSR blocks (numpy backend).
Baseline (same run): the same couplings as dense matrices (``LayeredBonds`` of the
densified blocks, numpy BLAS GEMMs): ratio = baseline / figure. Also printed: the torch
backend (conv2d / conv_transpose2d), and the memory of the couplings each way.

Usage: ``python benchmarks/bench_block_conv.py`` (10 sweeps, best of 3) or ``--quick``
(3 sweeps, best of 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import add_quick, bench_name, print_result


def network() -> Any:
    import torch

    from replicasolve.studies.descriptor import network_spin_model

    torch.manual_seed(0)
    nn = torch.nn
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
    )
    return network_spin_model(cnn, input_shape=(1, 28, 28))


def best_ms_per_sweep(system: Any, backend: str, r: int, sweeps: int, repeat: int) -> float:
    from replicasolve.engines.block import run_replicas_block

    kw = dict(replicas=r, burn_in=0, backend=backend, threads=1, seed=0)
    run_replicas_block(system, 1.0, sweeps=1, **kw)  # warm-up (CSR build, torch)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run_replicas_block(system, 1.0, sweeps=sweeps, **kw)
        best = min(best, time.perf_counter() - t0)
    return best / sweeps * 1e3


def main() -> None:
    import numpy as np

    from replicasolve.engines.ising import IsingSystem
    from replicasolve.tap.bonds import LayeredBonds
    from replicasolve.tap.conv import ConvBlock

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_quick(parser)
    parser.add_argument("--replicas", type=int, default=16)
    args = parser.parse_args()
    sweeps, repeat = (3, 2) if args.quick else (10, 3)
    r = args.replicas

    sparse = network()
    blocks = sparse.bonds.weights
    dense_bonds = LayeredBonds(tuple(w.dense() if isinstance(w, ConvBlock) else w for w in blocks))
    dense = IsingSystem.layered(dense_bonds, sparse.h)
    nnz = sum(w.nnz if isinstance(w, ConvBlock) else w.size for w in blocks)
    entries = sum(w.shape[0] * w.shape[1] for w in blocks)
    print(f"N = {sparse.n} spins, layers {sparse.bonds.layer_shapes}, R = {r}")
    print(
        f"couplings: {nnz} stored sparse ({nnz * 12 / 1e6:.2f} MB as CSR float64), "
        f"{entries} dense ({entries * 8 / 1e6:.1f} MB)"
    )
    # the two systems are the same model: equal fields on random spins
    s = np.random.default_rng(0).choice([-1.0, 1.0], size=(sparse.n, 2))
    diff = float(np.abs(sparse.local_fields(s) - dense.local_fields(s)).max())
    print(f"max |field difference| sparse vs dense: {diff:.2e}")

    t_csr = best_ms_per_sweep(sparse, "numpy", r, sweeps, repeat)
    t_dense = best_ms_per_sweep(dense, "numpy", r, sweeps, repeat)
    t_torch = best_ms_per_sweep(sparse, "torch", r, sweeps, repeat)
    print(f"{'numpy, CSR convolutions':32s} {t_csr:9.2f} ms/sweep")
    print(f"{'numpy, dense (baseline)':32s} {t_dense:9.2f} ms/sweep")
    print(f"{'torch cpu, conv2d':32s} {t_torch:9.2f} ms/sweep")
    ratio = t_dense / t_csr
    print(f"ratio dense / CSR: {ratio:.2f}; dense / torch conv: {t_dense / t_torch:.2f}")
    print_result(
        bench_name(__file__),
        t_csr,
        "ms per sweep (CSR, numpy, 1 thread)",
        t_dense,
        "the same couplings densified (numpy BLAS, 1 thread)",
        ratio,
        "sparse convolution blocks at least as fast as dense ones",
        ratio >= 1.0,
    )


if __name__ == "__main__":
    main()
