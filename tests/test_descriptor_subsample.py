"""Neuron subsampling of a network's spin model (replicasolve.studies.subsample).

Each claim is checked against an independent route:

- f = 1 is the original model, bit for bit (arrays and a whole descriptor curve);
- the subsample's couplings against the whole model's dense J indexed by hand and scaled
  block by block;
- the renormalisation (E Σ_j W'_ij² = Σ_j W_ij², the field variance under random ±1
  neighbours) against the mean over many subsample draws (a statistical test at 5 standard
  errors of that mean), and the Onsager diagonal of one subsample against the sample
  variance of its local fields under random spins (5 standard errors of the variance);
- what is not preserved (a coherent field shrinks by sqrt(φ)) in closed form;
- the multilayer-SK critical temperature: the closed form on the subsample's sizes, and
  the finite-N TAP β_c of subsamples of i.i.d. Gaussian networks against the closed form
  and against fresh networks of the subsample's sizes (tolerances from the measured
  instance-to-instance spread, stated where used);
- q̄(T) of a 12-spin subsample from both Monte Carlo engines against exact enumeration.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_descriptor import exact_q_bar_energy

from replicasolve.engines.ising import IsingSystem
from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import msk_critical
from replicasolve.studies.descriptor import (
    descriptor_curve,
    load_descriptor,
    network_spin_model,
    save_descriptor,
)
from replicasolve.studies.subsample import (
    SubsampleConstruction,
    kept_count,
    subsample_network,
    subsample_spin_model,
)
from replicasolve.tap.bonds import LayeredBonds
from replicasolve.tap.critical import tap_critical

# ----------------------------------------------------------------------------- helpers


def gaussian_network(
    sizes: tuple[int, ...], seed: int, c: float = 2.0, biases: bool = False
) -> dict:
    """i.i.d. N(0, c/N_{l-1}) weights (the multilayer SK ensemble), optional biases."""
    rng = np.random.default_rng(seed)
    ws = [
        rng.normal(0, math.sqrt(c / sizes[k]), (sizes[k + 1], sizes[k]))
        for k in range(len(sizes) - 1)
    ]
    net: dict = {"weights": ws}
    if biases:
        net["biases"] = [rng.normal(0, 0.3, n) for n in sizes[1:]]
    return net


def structured_network(sizes: tuple[int, ...], seed: int) -> dict:
    """Weights that are neither Gaussian nor i.i.d. across rows: heavy tails, a rank-one
    part and row-dependent scales (what training may produce), so that the unbiasedness
    of the renormalisation is tested per neuron, not only on average."""
    rng = np.random.default_rng(seed)
    ws = []
    for k in range(len(sizes) - 1):
        n_out, n_in = sizes[k + 1], sizes[k]
        w = rng.standard_t(3, (n_out, n_in)) / math.sqrt(3 * n_in)
        w += np.outer(rng.normal(size=n_out), rng.normal(size=n_in)) / n_in
        w *= rng.uniform(0.2, 2.0, size=(n_out, 1))
        ws.append(w)
    return {"weights": ws, "biases": [rng.normal(0, 0.5, n) for n in sizes[1:]]}


def incoming_outgoing(bonds: LayeredBonds) -> tuple[np.ndarray, np.ndarray]:
    """Σ_j W^l_ij² (from the layer below) and Σ_k W^{l+1}_ki² (from the layer above) per
    spin, written out from the weights (the split of LayeredBonds.d)."""
    inc, out = np.zeros(bonds.n), np.zeros(bonds.n)
    for k, w in enumerate(bonds.weights):
        bonds.layer(inc, k + 1)[:] += (w * w).sum(axis=1)
        bonds.layer(out, k)[:] += (w * w).sum(axis=0)
    return inc, out


# ----------------------------------------------------------------------------- f = 1


@pytest.mark.parametrize(
    ("include_input", "include_output"),
    [(True, True), (False, True), (True, False), (False, False)],
)
def test_fraction_one_is_the_original_model_bitwise(include_input, include_output):
    net = gaussian_network((6, 5, 4, 3), seed=1, biases=True)
    kw = dict(include_input=include_input, include_output=include_output, scale=0.7)
    whole = network_spin_model(net, **kw)
    sub = subsample_network(net, 1.0, seed=9, **kw)
    s = sub.system
    assert s.kind == whole.kind and s.n == whole.n
    assert s.h.dtype == whole.h.dtype and s.h.tobytes() == whole.h.tobytes()
    assert len(s.bonds.weights) == len(whole.bonds.weights)
    for a, b in zip(s.bonds.weights, whole.bonds.weights, strict=True):
        assert a.shape == b.shape and a.tobytes() == b.tobytes()
    for idx, n in zip(sub.kept, whole.construction.spin_sizes, strict=True):
        assert np.array_equal(idx, np.arange(n))
    assert sub.construction.kept_fractions == (1.0,) * len(sub.kept)
    assert sub.construction.coupling_factors == (1.0,) * (len(sub.kept) - 1)
    # the same simulation, bit for bit
    kw_mc = dict(replicas=4, sweeps=60, burn_in=20, seed=5, equilibration="none")
    a = descriptor_curve(whole, [0.8, 2.0], **kw_mc)
    b = descriptor_curve(s, [0.8, 2.0], **kw_mc)
    for name in ("q_bar", "q_bar_err", "energy", "q2"):
        assert a[name].values.tobytes() == b[name].values.tobytes(), name


def test_fraction_one_of_a_single_spin_layer():
    # one weight matrix without its output layer: one spin layer, fields only
    net = gaussian_network((7, 3), seed=2, biases=True)
    whole = network_spin_model(net, include_output=False)
    assert whole.kind == "dense"
    sub = subsample_network(net, 1.0, include_output=False)
    assert sub.system.kind == "dense"
    assert sub.system.h.tobytes() == whole.h.tobytes()
    assert sub.system.J.tobytes() == whole.J.tobytes()
    half = subsample_network(net, 0.5, seed=3, include_output=False)  # round(3.5) = 4
    assert half.system.n == 4 and not np.any(half.system.J)
    assert np.array_equal(half.system.h, whole.h[half.kept[0]])


# ----------------------------------------------------------------------------- construction


def test_couplings_are_the_whole_model_indexed_and_scaled_by_hand():
    # sizes whose rounding differs per layer: 9 -> round(4.5) = 5, 7 -> 4, 4 -> 2, 3 -> 2
    net = structured_network((9, 7, 4, 3), seed=3)
    whole = network_spin_model(net, scale=1.3)
    sub = subsample_network(net, 0.5, seed=4, scale=1.3)
    c = sub.construction
    assert c.spin_sizes == (5, 4, 2, 2) and c.full_spin_sizes == (9, 7, 4, 3)
    assert c.n_spins == sub.system.n == 13
    assert c.kept_fractions == (5 / 9, 4 / 7, 2 / 4, 2 / 3)
    j_whole = whole.couplings()
    j_sub = sub.system.couplings()
    layer_of = np.repeat(np.arange(4), c.spin_sizes)
    phi = np.array(c.kept_fractions)
    k = sub.kept_flat
    expected = np.zeros_like(j_sub)
    for a in range(k.size):  # element by element: the factor of the lower layer of the pair
        for b in range(k.size):
            lower = min(layer_of[a], layer_of[b])
            if abs(layer_of[a] - layer_of[b]) == 1:
                expected[a, b] = j_whole[k[a], k[b]] / math.sqrt(phi[lower])
    np.testing.assert_allclose(j_sub, expected, rtol=1e-15, atol=0)
    assert np.array_equal(sub.system.h, whole.h[k])
    for idx, n in zip(sub.kept, c.full_spin_sizes, strict=True):
        assert np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < n


def test_kept_count_rounds_half_up_and_never_exceeds_the_layer():
    assert kept_count(0.5, 9) == 5 and kept_count(0.5, 8) == 4 and kept_count(0.25, 10) == 3
    assert kept_count(1.0, 784) == 784 and kept_count(0.04, 10) == 0
    assert kept_count(1e-300, 1) == 0 and kept_count(0.999999, 3) == 3


def test_reproducible_and_seed_dependent():
    net = gaussian_network((40, 30, 20), seed=5)
    a = subsample_network(net, 0.3, seed=11)
    b = subsample_network(net, 0.3, seed=11)
    c = subsample_network(net, 0.3, seed=12)
    assert all(np.array_equal(x, y) for x, y in zip(a.kept, b.kept, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a.kept, c.kept, strict=True))
    for x, y in zip(a.system.bonds.weights, b.system.bonds.weights, strict=True):
        assert x.tobytes() == y.tobytes()


def test_construction_is_recorded_with_the_curve(tmp_path):
    net = gaussian_network((10, 8, 6), seed=6, biases=True)
    sub = subsample_network(net, 0.5, seed=2)
    assert isinstance(sub.construction, SubsampleConstruction)
    assert "subsample f = 0.5 (seed 2): 12 of 24 spins" in str(sub.construction)
    ds = descriptor_curve(
        sub.system, [1.0, 2.0], replicas=4, sweeps=40, burn_in=10, equilibration="none"
    )
    rec = ds.attrs["construction"]
    assert rec["subsample_fraction"] == 0.5 and rec["subsample_seed"] == 2
    assert rec["spin_sizes"] == [5, 4, 3] and rec["full_spin_sizes"] == [10, 8, 6]
    assert ds.attrs["n_spins"] == 12
    back = load_descriptor(save_descriptor(ds, tmp_path / "c.nc"))
    assert back.attrs["construction"] == rec
    assert sub.to_dict()["kept"] == [idx.tolist() for idx in sub.kept]


# ----------------------------------------------------------------------------- what is preserved


def test_field_variance_is_unbiased_per_neuron():
    # Every f N_l is a whole number (φ_l = f on every layer), so the whole field variance
    # d_i = Σ_j J_ij² of every kept neuron is unbiased: its mean over the draws in which i
    # was kept equals the whole model's d_i. Checked at 5 standard errors of that mean
    # (the spread over the draws / sqrt(count)), per neuron, on non-Gaussian weights.
    net = structured_network((40, 20, 20, 10), seed=7)
    whole = network_spin_model(net)
    d_full = whole.bonds.d
    draws = 400
    total = np.zeros(whole.n)
    total2 = np.zeros(whole.n)
    count = np.zeros(whole.n)
    for s in range(draws):
        sub = subsample_network(net, 0.5, seed=s)
        k = sub.kept_flat
        d = sub.system.bonds.d
        total[k] += d
        total2[k] += d * d
        count[k] += 1
    assert count.min() > 150  # each neuron is kept in about half of the draws
    mean = total / count
    se = np.sqrt((total2 / count - mean**2) / (count - 1))
    z = np.abs(mean - d_full) / se
    assert z.max() < 5, (z.max(), int(z.argmax()))
    # a wrong factor (1/φ instead of 1/sqrt(φ) on the couplings, i.e. d doubled) or none
    # (d halved) would be off by far more than that
    assert np.all(np.abs(0.5 * d_full - mean) / se > 5)


def test_incoming_part_is_unbiased_with_unequal_rounding():
    # 17 -> round(8.5) = 9, 9 -> 5: the kept fractions differ (1/2, 9/17, 5/9). The
    # incoming part Σ_j W'^l_ij² is still unbiased; the outgoing part comes out times
    # φ_{l+1}/φ_l, as the module states. 5 standard errors of the mean over the draws
    # (per neuron: the draws in which it was kept; per layer: all draws).
    net = structured_network((30, 17, 9), seed=8)
    inc_full, out_full = incoming_outgoing(network_spin_model(net).bonds)
    n = inc_full.size
    acc = {name: (np.zeros(n), np.zeros(n)) for name in ("inc", "out")}
    count = np.zeros(n)
    ratio = np.zeros(n)  # φ_{l+1}/φ_l per spin (0 for the top layer: no layer above)
    # per draw and layer: Σ_{i kept} part'_i / Σ_{i kept} part_i. Given the kept neurons of
    # the layer, the numerator's mean is the denominator times 1 (incoming) or φ_{l+1}/φ_l
    # (outgoing), so the mean over draws of this ratio is that factor: a sharper test than
    # per neuron (it resolves a 5% error in a factor)
    layer_ratios = []
    starts = np.cumsum([0, 30, 17])
    for s in range(3000):  # heavy-tailed weights: a layer total scatters by ~30% per draw
        sub = subsample_network(net, 0.5, seed=s)
        k = sub.kept_flat
        inc, out = incoming_outgoing(sub.system.bonds)
        layer_of = np.searchsorted(starts, k, side="right") - 1
        layer_ratios.append(
            [
                inc[layer_of == 1].sum() / inc_full[k][layer_of == 1].sum(),
                inc[layer_of == 2].sum() / inc_full[k][layer_of == 2].sum(),
                out[layer_of == 0].sum() / out_full[k][layer_of == 0].sum(),
                out[layer_of == 1].sum() / out_full[k][layer_of == 1].sum(),
            ]
        )
        for name, v in (("inc", inc), ("out", out)):
            acc[name][0][k] += v
            acc[name][1][k] += v * v
        count[k] += 1
        phi = sub.construction.kept_fractions
        ratio[k] = np.repeat([phi[1] / phi[0], phi[2] / phi[1], 0.0], sub.construction.spin_sizes)
    for name, expected in (("inc", inc_full), ("out", ratio * out_full)):
        total, total2 = acc[name]
        mean = total / count
        se = np.sqrt(np.maximum(total2 / count - mean**2, 0) / (count - 1))
        exact = expected == 0  # input layer has no incoming part, top layer no outgoing
        assert np.all(mean[exact] == 0)
        z = np.abs(mean - expected)[~exact] / se[~exact]
        assert z.max() < 5, (name, z.max())
    lr = np.array(layer_ratios)
    expected = np.array([1.0, 1.0, (9 / 17) / (1 / 2), (5 / 9) / (9 / 17)])
    z = np.abs(lr.mean(axis=0) - expected) / (lr.std(axis=0, ddof=1) / math.sqrt(len(lr)))
    assert z.max() < 5, z
    # the outgoing factors differ from 1 by 6% and 5%, about 12 standard errors of the
    # mean over 3,000 draws: resolved, so a factor taken from the wrong layer would fail
    assert np.all(
        np.abs(lr.mean(axis=0)[2:] - 1) / (lr.std(axis=0, ddof=1)[2:] / math.sqrt(len(lr))) > 8
    )


def test_onsager_diagonal_is_the_variance_of_the_local_field_under_random_spins():
    # For one subsample: Var(u_i - h_i) over uniformly random ±1 spins is exactly d_i.
    # Estimated from 20,000 random configurations; tolerance 5 standard errors of the
    # sample variance (the spread of (u - mean)² / sqrt(M)), per spin.
    net = structured_network((40, 20, 20, 10), seed=9)
    sub = subsample_network(net, 0.5, seed=1)
    rng = np.random.default_rng(0)
    m = 20000
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(sub.system.n, m))
    u = sub.system.local_fields(spins) - sub.system.h[:, None]
    dev2 = (u - u.mean(axis=1, keepdims=True)) ** 2
    var = dev2.sum(axis=1) / (m - 1)
    se = dev2.std(axis=1) / math.sqrt(m)
    z = np.abs(var - sub.system.bonds.d) / se
    assert z.max() < 5, z.max()


def test_coherent_field_shrinks_by_sqrt_phi():
    # What the renormalisation does not preserve: with uniform weights a/N_0 and every
    # spin up, an output neuron's field is a in the whole model and a sqrt(φ_0) in the
    # subsample (n_0 terms of a/(N_0 sqrt(φ_0))). Closed form, to rounding.
    a = 0.8
    n0, n1 = 50, 10
    net = {"weights": [np.full((n1, n0), a / n0)]}
    whole = network_spin_model(net)
    up = np.ones(whole.n, dtype=np.int8)
    np.testing.assert_allclose(whole.local_fields(up)[n0:], a, rtol=1e-14)
    for f in (0.5, 0.2, 0.1):
        sub = subsample_network(net, f, seed=3)
        phi0 = sub.construction.kept_fractions[0]
        u = sub.system.local_fields(np.ones(sub.system.n, dtype=np.int8))
        np.testing.assert_allclose(
            u[sub.construction.spin_sizes[0] :], a * math.sqrt(phi0), rtol=1e-14
        )


# ----------------------------------------------------------------------------- critical temperature


def test_msk_critical_temperature_of_the_subsample_sizes():
    # The subsample of an i.i.d. network is an MSK instance of sizes n_l with the same C:
    # T_c is unchanged when every f N_l is whole (the ratios are kept), to rounding.
    sizes = (400, 200, 200, 40)
    t_full = msk_critical(sizes, 2.0).T_c
    for f in (0.5, 0.25, 0.1):
        sub = [kept_count(f, n) for n in sizes]
        assert msk_critical(sub, 2.0).T_c == pytest.approx(t_full, rel=1e-12)
    # with rounding (0.33 x 40 = 13.2 -> 13) the change is bounded by the rounding of the
    # ratios: K_{l,l-1} changes by sqrt(φ_l/φ_{l-1}), here at most sqrt(13.2/13) - 1 < 0.8%
    sub = [kept_count(0.33, n) for n in sizes]
    t_sub = msk_critical(sub, 2.0).T_c
    assert t_sub != t_full and abs(t_sub / t_full - 1) < math.sqrt(13.2 / 13) - 1
    # the rejected alternatives move T_c by far more than the rounding: at f = 0.1 the
    # input layer kept whole gives 1.493 (-6.7%), input and output kept whole 1.864 (+16%)
    hidden = [kept_count(0.1, n) for n in sizes[1:-1]]
    assert msk_critical([400, *hidden, 4], 2.0).T_c / t_full - 1 < -0.05
    assert msk_critical([400, *hidden, 40], 2.0).T_c / t_full - 1 > 0.1


def test_subsample_variance_factors_are_those_of_the_network():
    # C'_l = n_{l-1} mean(W'^l ²) estimates C = 2 from n_l n_{l-1} i.i.d. Gaussian squares:
    # relative standard error sqrt(2 / (n_l n_{l-1})); 5 of those.
    net = gaussian_network((400, 200, 200, 40), seed=10)
    for f in (0.5, 0.1):
        sub = subsample_network(net, f, seed=1)
        n = sub.construction.spin_sizes
        for l, cf in enumerate(sub.system.bonds.variance_factors(), start=1):
            rel = math.sqrt(2 / (n[l] * n[l - 1]))
            assert abs(cf / 2.0 - 1) < 5 * rel, (f, l, cf, rel)


def test_tap_critical_temperature_of_subsamples_matches_msk_and_fresh_networks():
    # Finite-N TAP T_c (the corrected definition) of 8 half-subsamples of i.i.d. Gaussian
    # 400-200-200-40 networks (N' = 420) against (a) the MSK value of the whole network,
    # 1.6001, and (b) 8 fresh Gaussian networks of the subsample's sizes 200-100-100-20.
    # Tolerances: 5 standard errors of the mean over the 8 instances (the measured
    # instance-to-instance spread at N' = 420 is about 2% of T_c; the finite-size bias of
    # the corrected definition is below that: 2.5e-3 at N = 2330 in the repository's TAP
    # finite-size study, and below 1% here in a trial of 6 instances).
    sizes = (400, 200, 200, 40)
    t_msk = msk_critical(sizes, 2.0).T_c
    sub_t, fresh_t = [], []
    for s in range(8):
        sub = subsample_network(gaussian_network(sizes, seed=100 + s), 0.5, seed=s)
        sub_t.append(tap_critical(sub.system.bonds).T_c)
        fresh = gaussian_network(sub.construction.spin_sizes, seed=200 + s)
        fresh_t.append(tap_critical(LayeredBonds(tuple(fresh["weights"]))).T_c)
    sub_t, fresh_t = np.array(sub_t), np.array(fresh_t)
    se_sub = sub_t.std(ddof=1) / math.sqrt(sub_t.size)
    se_fresh = fresh_t.std(ddof=1) / math.sqrt(fresh_t.size)
    assert 0 < se_sub < 0.02 * t_msk  # the spread is the finite-size one, not a blow-up
    assert abs(sub_t.mean() - t_msk) < 5 * se_sub, (sub_t.mean(), t_msk, se_sub)
    assert abs(sub_t.mean() - fresh_t.mean()) < 5 * math.hypot(se_sub, se_fresh)
    # without the renormalisation the kept weights have variance C f / n_{l-1}: T_c falls
    # by sqrt(f) = 0.71, some 40 standard errors away
    raw = LayeredBonds(tuple(w * math.sqrt(0.5) for w in sub.system.bonds.weights))
    assert abs(tap_critical(raw).T_c - t_msk) > 10 * se_sub


# ----------------------------------------------------------------------------- the descriptor


@pytest.mark.parametrize("engine", ["single", "block"])
def test_descriptor_of_a_subsample_matches_exact_enumeration(engine):
    # 8-10-6 network at f = 0.5: a 4-5-3 subsample (12 spins), enumerated over 2^12 states.
    # 5 standard errors of the descriptor's own error bar (as in test_descriptor_block.py).
    net = gaussian_network((8, 10, 6), seed=11, biases=True)
    sub = subsample_network(net, 0.5, seed=2)
    assert sub.system.n == 12
    temps = [0.7, 1.5]
    ds = descriptor_curve(
        sub.system,
        temps,
        replicas=16,
        sweeps=3000,
        burn_in=500,
        seed=4,
        parallel_tempering=True,
        equilibration="none",
        engine=engine,
        method="heatbath",
    )
    j = sub.system.couplings()
    for k, t in enumerate(temps):
        q_ex, e_ex = exact_q_bar_energy(j, sub.system.h, t)
        assert abs(float(ds.q_bar[k]) - q_ex) < 5 * float(ds.q_bar_err[k]), (t, q_ex)
        assert abs(float(ds.energy[k]) - e_ex) < 5 * float(ds.energy_err[k]), (t, e_ex)


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "fraction",
    [0, 0.0, -0.1, 1.0000001, 2, math.nan, math.inf, -math.inf, "0.5", None, True, [0.5], 1j],
)
def test_bad_fraction_is_refused(fraction):
    net = gaussian_network((6, 4, 2), seed=0)
    with pytest.raises(InvalidInputError, match="fraction"):
        subsample_network(net, fraction)
    with pytest.raises(InvalidInputError, match="fraction"):
        subsample_spin_model(network_spin_model(net), fraction)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", None])
def test_bad_seed_is_refused(seed):
    with pytest.raises(InvalidInputError, match="seed"):
        subsample_network(gaussian_network((6, 4, 2), seed=0), 0.5, seed=seed)


def test_a_fraction_that_empties_a_layer_is_refused():
    net = gaussian_network((100, 50, 10), seed=0)
    with pytest.raises(
        InvalidInputError,
        match=r"keeps no neuron of network layer 2 \(10 "
        r"neurons.*>= 0\.1, or leave that layer out",
    ):
        subsample_network(net, 0.04)
    # without the output layer the same fraction is fine (4 and 2 neurons)
    assert subsample_network(net, 0.04, include_output=False).construction.spin_sizes == (4, 2)
    with pytest.raises(InvalidInputError, match="keeps no neuron of network layer 1"):
        subsample_network(net, 0.005, include_output=False)


def test_other_systems_are_refused(tmp_path):
    net = gaussian_network((6, 4, 2), seed=0)
    with pytest.raises(InvalidInputError, match="hebbian"):
        subsample_spin_model(network_spin_model(net, couplings="hebbian"), 0.5)
    with pytest.raises(InvalidInputError, match="network's spin model"):
        subsample_spin_model(IsingSystem.dense(np.zeros((3, 3))), 0.5)
    with pytest.raises(InvalidInputError, match="network's spin model"):
        subsample_spin_model(net, 0.5)  # type: ignore[arg-type]
    sub = subsample_network(net, 0.5)
    with pytest.raises(InvalidInputError, match="already a subsample"):
        subsample_spin_model(sub.system, 0.5)
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 3))
    conv_model = network_spin_model(cnn, input_shape=(1, 4, 4))
    with pytest.raises(InvalidInputError, match="convolutional"):
        subsample_spin_model(conv_model, 0.5)
    # the fraction is checked before the network is read
    with pytest.raises(InvalidInputError, match="fraction"):
        subsample_network(tmp_path / "missing.npz", 0.0)
    with pytest.raises(InvalidInputError, match="no such file"):
        subsample_network(tmp_path / "missing.npz", 0.5)


# ----------------------------------------------------------------------------- the example

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "descriptor_subsample.py"


def test_example_refuses_to_overwrite_and_bad_fractions(tmp_path):
    (tmp_path / "subsample_table.csv").write_text("kept\n")
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().count("\n") == 0 and "exists" in out.stderr
    assert (tmp_path / "subsample_table.csv").read_text() == "kept\n"
    bad = subprocess.run(
        [sys.executable, str(EXAMPLE), "--fractions", "0.5,1.5", "--out", str(tmp_path / "new")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "--fractions" in bad.stderr


@pytest.mark.slow
def test_example_quick_run_passes_its_checks(tmp_path):
    # about 40 s on 2 shared cores
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    verdicts = re.findall(r"^  (PASS|FAIL): ", out.stdout, re.MULTILINE)
    assert verdicts == ["PASS"] * 6, out.stdout
    for name in ("subsample_curves.nc", "subsample_table.csv", "subsample.png"):
        assert (tmp_path / name).stat().st_size > 100
    with open(tmp_path / "subsample_table.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["fraction"]) for r in rows] == [0.1, 0.25, 0.5]
    # the table holds what was printed: max|Δq̄| falls with the fraction
    dq = [float(r["max_abs_dq"]) for r in rows]
    assert dq[0] > dq[-1]


def test_cli_subsample_runs_the_subsample_and_refuses_bad_fractions(tmp_path):
    # the command's --subsample is the API's subsample_spin_model: the spin count it reports
    # is the subsample's, and its construction record carries f and the seed
    rng = np.random.default_rng(0)
    path = tmp_path / "w.npz"
    np.savez(path, w0=rng.normal(size=(20, 30)) / 30**0.5, w1=rng.normal(size=(5, 20)) / 20**0.5)
    cmd = [sys.executable, "-m", "replicasolve", "descriptor", str(path), "--T", "1,2",
           "--sweeps", "60", "--burn-in", "30", "--replicas", "2", "--json"]
    out = subprocess.run([*cmd, "--subsample", "0.5", "--subsample-seed", "4"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    want = subsample_spin_model(network_spin_model(str(path)), 0.5, seed=4).system
    assert info["n_spins"] == want.construction.n_spins == 15 + 10 + 3
    assert info["construction"]["subsample_fraction"] == 0.5
    assert info["construction"]["subsample_seed"] == 4
    for bad, needle in (("0", "(0, 1]"), ("1.5", "(0, 1]"), ("nan", "(0, 1]"),
                        ("0.01", "keeps no neuron")):
        r = subprocess.run([*cmd, "--subsample", bad], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.splitlines()) == 1
    r = subprocess.run([*cmd, "--subsample-seed", "1"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "--subsample-seed only applies" in r.stderr
