"""Ising replica Monte Carlo: each check against an independent route.

Golden values: exact Boltzmann sums over all 2^N states (N ≤ 12), fields recomputed from
scratch in float64 with numpy, the SK paramagnet (annealed E/N = -β/2, χ_SG = 1/(1 - β²)),
single-temperature runs for parallel tempering, and an AR(1) process with a known
autocorrelation time. Statistical tolerances are 5 standard errors, the errors coming from
independent runs (different seeds) unless stated otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from replicasolve.engines import ising
from replicasolve.engines.ising import (
    IsingSystem,
    check_equilibration,
    integrated_autocorrelation_time,
    parallel_tempering,
    run_replicas,
)
from replicasolve.errors import InvalidInputError
from replicasolve.tap.bonds import DenseBonds, random_layered

# ----------------------------------------------------------------------------- helpers


def exact_moments(J: np.ndarray, h: np.ndarray, T: float) -> dict[str, float]:
    """⟨E⟩/N, ⟨m⟩ and ⟨q²⟩ (two independent replicas) by summing over all 2^N states."""
    n = h.size
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ h
    w = np.exp(-(e - e.min()) / T)
    p = w / w.sum()
    corr = states.T @ (p[:, None] * states)  # ⟨s_i s_j⟩
    return {
        "E": float(p @ e) / n,
        "m": float(p @ states.mean(axis=1)),
        # ⟨q²⟩ = (1/N²) Σ_ij ⟨s_i s_j⟩²: replicas a, b independent given the couplings
        "q2": float(np.sum(corr**2)) / n**2,
    }


def small_sk(n: int = 10, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    J = DenseBonds.sk(n, seed=seed).J
    return J, rng.normal(0.0, 0.3, n)


def small_layered() -> tuple[object, np.ndarray]:
    bonds = random_layered([4, 4, 3], 2.0, seed=5)
    h = np.random.default_rng(7).normal(0.0, 0.3, bonds.n)
    return bonds, h


# ----------------------------------------------------------------------------- exact sums


CASES = [
    ("dense", 0.6, "metropolis"),
    ("dense", 0.6, "heatbath"),
    ("dense", 1.5, "metropolis"),
    ("dense", 1.5, "heatbath"),
    ("layered", 0.8, "metropolis"),
    ("layered", 0.8, "heatbath"),
    ("layered", 2.0, "metropolis"),
    ("layered", 2.0, "heatbath"),
]


@pytest.mark.parametrize(("kind", "T", "method"), CASES)
def test_exact_enumeration(kind: str, T: float, method: str) -> None:
    if kind == "dense":
        J, h = small_sk()
        system = IsingSystem.dense(J, h)
    else:
        bonds, h = small_layered()
        J = bonds.dense()
        system = IsingSystem.layered(bonds, h)
    exact = exact_moments(J, h, T)
    runs = []
    jack = []
    for seed in range(8):  # independent runs: their scatter is the standard error
        r = run_replicas(system, T, replicas=8, sweeps=3000, burn_in=200, method=method,
                         seed=seed)
        runs.append([r.energy.value, r.magnetization.value, r.q2.value])
        jack.append([r.energy.error, r.magnetization.error, r.q2.error])
    runs = np.array(runs)
    mean = runs.mean(axis=0)
    se = runs.std(axis=0, ddof=1) / math.sqrt(len(runs))
    for k, name in enumerate(["E", "m", "q2"]):
        assert se[k] > 0
        assert abs(mean[k] - exact[name]) < 5 * se[k], (name, mean[k], exact[name], se[k])
        # the jackknife error of one run must match the run-to-run scatter: with 8 runs
        # the scatter's own uncertainty is ~25%, so a factor 2.5 either way is a real miss
        ratio = np.mean(jack, axis=0)[k] / runs.std(axis=0, ddof=1)[k]
        assert 0.4 < ratio < 2.5, (name, ratio)


# ----------------------------------------------------------------------------- fields


@pytest.mark.parametrize("kind", ["dense", "layered"])
def test_incremental_fields_match_recomputed_float64(kind: str) -> None:
    if kind == "dense":
        J, h = small_sk(64, seed=11)
        system = IsingSystem.dense(J, h)
    else:
        bonds = random_layered([20, 16, 16, 12], 2.0, seed=2)
        system = IsingSystem.layered(bonds, np.linspace(-0.4, 0.4, bonds.n))
    r = run_replicas(system, 1.0, replicas=4, sweeps=3000, burn_in=0, resync_every=0, seed=1)
    assert r.max_field_drift == 0.0  # never resynchronised
    exact = system.local_fields(r.spins).T
    # ~0.3·N·3000 ≈ 6e4 updates per field, each rounding by ≤ 1.1e-16·|u| (|u| ≲ 5): even
    # the worst case (errors adding up linearly) stays below 4e-11
    np.testing.assert_allclose(r.fields, exact, rtol=0, atol=1e-10)
    # the reported energies are the energies of the configurations
    np.testing.assert_allclose(r.energies[-1], system.energy(r.spins), rtol=0, atol=1e-12)


def test_float32_field_drift_bound() -> None:
    J, h = small_sk(256, seed=4)
    system = IsingSystem.dense(J, h)
    r = run_replicas(system, 1.0, replicas=4, sweeps=200, burn_in=0, dtype="float32",
                     resync_every=0, seed=2)
    drift = np.abs(r.fields - system.local_fields(r.spins).T).max()
    # random-walk estimate: eps32·|u|·sqrt(updates per field) ≈ 6e-8·1.5·sqrt(0.3·256·200)
    # ≈ 1e-5 (the from-scratch float32 start adds ~eps32·sqrt(N)); bound: 20× that
    assert drift < 2e-4
    # with the default resync (every 100 sweeps) the drift found at resyncs is bounded the
    # same way and the final fields are within float32 rounding of the exact ones
    r = run_replicas(system, 1.0, replicas=4, sweeps=1000, burn_in=0, dtype="float32", seed=2)
    assert 0 < r.max_field_drift < 2e-4
    assert np.abs(r.fields - system.local_fields(r.spins).T).max() < 2e-4
    assert r.fields.dtype == np.float32


# ----------------------------------------------------------------------------- identity


@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layered_equals_densified_bitwise(method: str, dtype: str) -> None:
    bonds = random_layered([7, 5, 6, 3], 2.0, seed=9)
    h = np.random.default_rng(1).normal(0, 0.5, bonds.n)
    lay = IsingSystem.layered(bonds, h)
    den = IsingSystem.dense(bonds.dense(), h)
    kw = dict(replicas=4, sweeps=400, burn_in=50, method=method, seed=3, dtype=dtype,
              resync_every=37)
    a = run_replicas(lay, 1.1, **kw)
    b = run_replicas(den, 1.1, **kw)
    for name in ("energies", "magnetizations", "overlaps", "spins", "fields"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert a.acceptance == b.acceptance


# blocked dense sweeps (delayed field updates) against the per-flip reference kernel: the
# same decisions from the same field values, so every output must agree bit for bit.
# N = 150 is not a multiple of the blocks, and a tile of 64 columns (what a tiny tile
# budget gives) splits each row of J into 64 + 64 + 22.
BLOCKINGS = [(1, 1 << 20), (7, 1), (32, 1), (32, 128 * 1024), (200, 1)]


def _outputs_equal(a, b) -> None:
    for name in ("energies", "magnetizations", "overlaps", "spins", "fields"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert a.acceptance == b.acceptance
    assert a.max_field_drift == b.max_field_drift


@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blocked_dense_kernel_equals_per_flip_bitwise(monkeypatch: pytest.MonkeyPatch,
                                                      method: str, dtype: str) -> None:
    J, h = small_sk(150, seed=12)
    system = IsingSystem.dense(J, h)
    # T = 0.4: mostly large ΔE/T, where the cheap bound rejects without exp; T = 1: near
    # T_c (acceptance ≈ 0.3, both branches); T = 3: mostly ΔE/T small (heat-bath x < 1/2)
    for T in (0.4, 1.0, 3.0):
        kw = dict(replicas=5, sweeps=40, burn_in=0, method=method, seed=4, dtype=dtype,
                  resync_every=17)
        monkeypatch.setattr(ising, "_DENSE_BLOCK", 0)
        ref = run_replicas(system, T, **kw)
        assert ref.max_field_drift > 0  # the resyncs ran (and found rounding to compare)
        for block, tile_bytes in BLOCKINGS:
            monkeypatch.setattr(ising, "_DENSE_BLOCK", block)
            monkeypatch.setattr(ising, "_DENSE_TILE_BYTES", tile_bytes)
            _outputs_equal(run_replicas(system, T, **kw), ref)


def test_blocked_dense_parallel_tempering_and_cold_start_bitwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    J, h = small_sk(90, seed=8)
    system = IsingSystem.dense(J, h)
    kw = dict(replicas_per_T=3, sweeps=150, burn_in=10, seed=2, start="cold", swap_every=2)
    monkeypatch.setattr(ising, "_DENSE_BLOCK", 0)
    ref = parallel_tempering(system, [0.5, 0.8, 1.3], **kw)
    monkeypatch.setattr(ising, "_DENSE_BLOCK", 16)
    monkeypatch.setattr(ising, "_DENSE_TILE_BYTES", 1)
    got = parallel_tempering(system, [0.5, 0.8, 1.3], **kw)
    for ra, rb in zip(got.results, ref.results, strict=True):
        _outputs_equal(ra, rb)
    np.testing.assert_array_equal(got.swap_acceptance, ref.swap_acceptance)
    np.testing.assert_array_equal(got.round_trips_per_walker, ref.round_trips_per_walker)


# threads: the replicas are split into groups of columns swept side by side by several
# threads; each column's trajectory must be exactly that of the one-thread sweep. R = 5
# gives groups of 2 + 3 columns (R not divisible by the threads), R = 20 in float64
# cache-line-aligned groups of 8 + 12.
def _threads_available() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("replicas", [5, 20])
def test_threads_bitwise_equal_to_one_thread(method: str, dtype: str, replicas: int) -> None:
    J, h = small_sk(150, seed=12)
    system = IsingSystem.dense(J, h)
    kw = dict(replicas=replicas, sweeps=40, burn_in=7, method=method, seed=4, dtype=dtype,
              resync_every=17)
    ref = run_replicas(system, 1.0, threads=1, **kw)
    assert ref.settings.threads == 1
    for threads in (2, 3):
        got = run_replicas(system, 1.0, threads=threads, **kw)
        assert got.settings.threads == min(threads, _threads_available())
        _outputs_equal(got, ref)


def test_threads_parallel_tempering_cold_start_and_none() -> None:
    J, h = small_sk(90, seed=8)
    system = IsingSystem.dense(J, h)
    kw = dict(replicas_per_T=3, sweeps=150, burn_in=10, seed=2, start="cold", swap_every=2)
    ref = parallel_tempering(system, [0.5, 0.8, 1.3], threads=1, **kw)
    for threads in (2, None):
        got = parallel_tempering(system, [0.5, 0.8, 1.3], threads=threads, **kw)
        if threads == 2:
            assert got.settings.threads == min(2, _threads_available())
        for ra, rb in zip(got.results, ref.results, strict=True):
            _outputs_equal(ra, rb)
        np.testing.assert_array_equal(got.swap_acceptance, ref.swap_acceptance)
        np.testing.assert_array_equal(got.round_trips_per_walker, ref.round_trips_per_walker)


def test_threads_kernel_any_column_groups() -> None:
    # the threaded sweep with arbitrary column groups (more groups than threads, groups of
    # one column, unequal groups) against the one-thread sweep, at the kernel level, so it
    # runs the same on a machine with any number of cores
    from replicasolve.engines import _ising_kernels as kern

    n, ncol, bsize, tile = 70, 7, 16, 24
    system = IsingSystem.dense(small_sk(n, seed=5)[0])
    dense_j = system._segments(np.float64)[0].reshape(n, -1)
    rng = np.random.default_rng(0)
    spins0 = (2 * rng.integers(0, 2, (n, ncol)) - 1).astype(np.int8)
    rnd = rng.random((ncol, 6, n))
    beta = np.linspace(0.5, 2.0, ncol)
    temp_of_col = np.arange(ncol, dtype=np.int64)

    def run(bounds: list[int] | None) -> tuple[np.ndarray, ...]:
        spins = spins0.copy()
        fields = np.zeros((ncol, dense_j.shape[1]))
        rows = np.zeros((ncol, bsize), np.int64)
        sg = np.zeros((ncol, bsize))
        nf = np.zeros(ncol, np.int64)
        kern.fresh_fields_dense(dense_j, np.zeros(n), spins, fields, bsize, tile, rows, sg,
                                nf)
        pend, xs = np.zeros((bsize, ncol)), np.zeros((bsize, ncol))
        flips = np.zeros(ncol, np.int64)
        for t in range(rnd.shape[1]):
            if bounds is None:
                kern.sweep_dense(dense_j, spins, fields, beta, rnd, t, t % 2 == 1,
                                 temp_of_col, flips, True, bsize, tile, rows, sg, nf, pend,
                                 xs, np.zeros(ncol, np.int8), 0, ncol)
            else:
                g = len(bounds) - 1
                flips_g = np.zeros((g, ncol), np.int64)
                kern.sweep_dense_threads(dense_j, spins, fields, beta, rnd, t, t % 2 == 1,
                                         temp_of_col, flips_g, True, bsize, tile, rows, sg,
                                         np.zeros((g, ncol), np.int64), pend, xs,
                                         np.zeros((g, ncol), np.int8),
                                         np.array(bounds, np.int64))
                flips += flips_g.sum(axis=0)
        return spins, fields, flips

    ref = run(None)
    assert 0 < ref[2].sum() < n * ncol * rnd.shape[1]
    for bounds in ([0, 7], [0, 3, 7], [0, 1, 2, 3, 4, 5, 6, 7], [0, 6, 7]):
        got = run(bounds)
        for x, y in zip(got, ref, strict=True):
            assert x.tobytes() == y.tobytes(), bounds


def test_threads_layered_uses_one_thread() -> None:
    bonds, h = small_layered()
    system = IsingSystem.layered(bonds, h)
    kw = dict(replicas=4, sweeps=100, burn_in=5, seed=3)
    a = run_replicas(system, 1.0, **kw)
    b = run_replicas(system, 1.0, threads=2, **kw)
    assert b.settings.threads == 1
    _outputs_equal(a, b)


def test_layered_equals_densified_parallel_tempering_and_cold_start() -> None:
    bonds = random_layered([6, 8, 5], 1.0, seed=4)
    lay = IsingSystem.layered(bonds, [np.full(6, 0.1), np.zeros(8), np.full(5, -0.2)])
    den = IsingSystem.dense(bonds.dense(), lay.h)
    kw = dict(replicas_per_T=3, sweeps=300, burn_in=20, seed=8, start="cold")
    a = parallel_tempering(lay, [0.5, 0.8, 1.3], **kw)
    b = parallel_tempering(den, [0.5, 0.8, 1.3], **kw)
    for ra, rb in zip(a.results, b.results, strict=True):
        assert ra.energies.tobytes() == rb.energies.tobytes()
        assert ra.overlaps.tobytes() == rb.overlaps.tobytes()
    np.testing.assert_array_equal(a.swap_acceptance, b.swap_acceptance)
    np.testing.assert_array_equal(a.round_trips_per_walker, b.round_trips_per_walker)


def test_reproducibility_and_stream_independence(monkeypatch: pytest.MonkeyPatch) -> None:
    J, h = small_sk(24, seed=1)
    system = IsingSystem.dense(J, h)
    kw = dict(replicas=4, sweeps=300, burn_in=30)
    a = run_replicas(system, 0.9, seed=5, **kw)
    b = run_replicas(system, 0.9, seed=5, **kw)
    c = run_replicas(system, 0.9, seed=6, **kw)
    for name in ("energies", "magnetizations", "overlaps", "spins", "fields"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes()
    assert not np.array_equal(a.energies, c.energies)
    assert a.settings.seed_entropy == 5
    # replica 0 has its own stream: alone it follows exactly the same trajectory
    one = run_replicas(system, 0.9, seed=5, replicas=1, overlaps=False, sweeps=300, burn_in=30)
    assert one.energies[:, 0].tobytes() == a.energies[:, 0].tobytes()
    # cutting the run into many small chunks of uniforms changes nothing
    monkeypatch.setattr(ising, "_CHUNK_ELEMS", 7 * 4 * 24)
    d = run_replicas(system, 0.9, seed=5, **kw)
    assert d.energies.tobytes() == a.energies.tobytes()
    assert d.spins.tobytes() == a.spins.tobytes()
    # parallel tempering: the same
    p1 = parallel_tempering(system, [0.7, 1.0], replicas_per_T=2, sweeps=200, burn_in=0, seed=1)
    p2 = parallel_tempering(system, [0.7, 1.0], replicas_per_T=2, sweeps=200, burn_in=0, seed=1)
    assert p1[0].energies.tobytes() == p2[0].energies.tobytes()


# ----------------------------------------------------------------------------- SK paramagnet


def test_sk_high_temperature() -> None:
    n, T = 512, 2.0
    beta = 1 / T
    system = IsingSystem.dense(DenseBonds.sk(n, seed=21))
    r = run_replicas(system, T, replicas=16, sweeps=1000, burn_in=100, seed=4)
    # E/N: the annealed -β/2 is exact for T > 1 as N → ∞; one instance at finite N differs
    # by O(1/N) (fluctuation of Σ J_ij² and loop corrections). Measured over 16 instances
    # at N = 256 and 512: N(E/N + β/2) has mean ≈ 0.8 and std ≈ 0.6, so allow 4/N.
    e, de = r.energy
    assert abs(e + beta / 2) < 5 * de + 4 / n, (e, de)
    # paramagnet: χ_SG = N⟨q²⟩ → 1/(1 - β²) = 4/3; the same 16 instances gave a mean
    # 1.329 (N = 512) with instance spread 0.005, so allow 0.03 (2%) for finite N
    chi, dchi = r.chi_sg
    assert abs(chi - 1 / (1 - beta**2)) < 5 * dchi + 0.03, (chi, dchi)
    # Gaussian P(q) in the paramagnet: Binder g → 0 (corrections O(1/N))
    g, dg = r.binder
    assert abs(g) < 5 * dg + 0.02
    assert r.magnetization.value == pytest.approx(0.0, abs=5 * r.magnetization.error)
    assert 0.5 < r.tau_energy < 5  # far above T_c relaxation takes about one sweep
    centres, dens = r.overlap_histogram()
    assert np.sum(dens) * (centres[1] - centres[0]) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- PT


def test_parallel_tempering_matches_single_temperature_runs() -> None:
    J, _ = small_sk(32, seed=13)
    system = IsingSystem.dense(J)
    ladder = [0.8, 0.95, 1.13, 1.35, 1.6, 1.9]
    pt = parallel_tempering(system, ladder, replicas_per_T=8, sweeps=3000, burn_in=500,
                            seed=2)
    assert np.all((pt.swap_acceptance > 0) & (pt.swap_acceptance < 1))
    assert np.all(pt.swap_attempts == 8 * 3000)
    assert pt.round_trips > 0 and math.isfinite(pt.round_trip_time)
    np.testing.assert_array_equal(pt.temperatures, ladder)
    table = pt.observables()
    # errors: jackknife over the 8 independent copies of each run
    for k, T in enumerate(ladder):
        single = run_replicas(system, T, replicas=8, sweeps=3000, burn_in=500, seed=100 + k)
        for name in ("energy", "q2"):
            a, b = getattr(pt[k], name), getattr(single, name)
            assert abs(a.value - b.value) < 5 * math.hypot(a.error, b.error), (T, name, a, b)
        assert table["energy"][k] == pt[k].energy.value
    assert np.all(np.diff(table["energy"]) > 0)  # E rises with T


# ----------------------------------------------------------------------------- equilibration


def test_equilibration_check_hot_vs_cold() -> None:
    J, _ = small_sk(64, seed=17)
    system = IsingSystem.dense(J)
    chk = check_equilibration(system, 1.2, replicas=8, sweeps=1500, burn_in=300, seed=0)
    assert chk.cold.settings.start == "cold" and chk.hot.settings.start == "hot"
    assert chk.agrees, (chk.z_energy, chk.z_overlap)
    # far from equilibrium it is flagged: 5 sweeps without burn-in at T = 0.4, where the
    # hot start is still relaxing from E = 0 (E/N ≈ -0.59) and the quench starts low (-0.67)
    bad = check_equilibration(IsingSystem.dense(DenseBonds.sk(400, seed=17)), 0.4,
                              replicas=8, sweeps=5, burn_in=0, seed=0)
    assert not bad.agrees and bad.z_energy > 5


def test_aligned_start_ferromagnet() -> None:
    # Curie–Weiss J_ij = 1/N: T_c = 1. Above it the aligned start melts; below it the
    # aligned start and the greedy quench both sit in the magnetised state m ≈ tanh(m/T)
    n = 128
    J = np.full((n, n), 1.0 / n)
    np.fill_diagonal(J, 0.0)
    system = IsingSystem.dense(J)
    chk = check_equilibration(system, 2.0, replicas=8, sweeps=800, burn_in=200,
                              cold_start="aligned", seed=1)
    assert chk.agrees
    r = run_replicas(system, 0.5, replicas=4, sweeps=300, burn_in=50, start="aligned")
    m_mf = 0.9575  # root of m = tanh(2m); finite-N correction O(1/N)
    assert r.magnetization.value == pytest.approx(m_mf, abs=0.02)


# ----------------------------------------------------------------------------- statistics


def test_autocorrelation_time_of_ar1() -> None:
    phi = 0.8
    rng = np.random.default_rng(0)
    n, k = 200_000, 4
    x = np.zeros((n, k))
    noise = rng.standard_normal((n, k))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    # ρ(t) = φ^t: τ_int = 1/2 + φ/(1 - φ) = 4.5; statistical error of the estimate
    # ≈ τ sqrt(2(2W + 1)/(n k)) ≈ 0.6%, allow 5%
    assert integrated_autocorrelation_time(x) == pytest.approx(4.5, rel=0.05)
    assert integrated_autocorrelation_time(noise) == pytest.approx(0.5, abs=0.02)
    assert math.isnan(integrated_autocorrelation_time(np.ones(10)))


def test_autocorrelation_time_of_columns_frozen_at_inexact_values() -> None:
    # each column constant (a frozen replica's |q| or energy); 0.1 and 1/3 are not exact in
    # binary, so centring leaves rounding residue that must not read as a τ of the whole run
    frozen = np.tile(np.array([0.1, 1 / 3, 0.7]), (500, 1))
    assert math.isnan(integrated_autocorrelation_time(frozen))
    assert math.isnan(integrated_autocorrelation_time(np.full(300, 0.1)))
    # a series with real fluctuations of the same size range still gets a finite τ
    rng = np.random.default_rng(3)
    assert integrated_autocorrelation_time(0.1 + 1e-3 * rng.standard_normal(4000)) < 1.0


def test_pair_jackknife_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    r = 5
    pairs = [(a, b) for a in range(r) for b in range(a + 1, r)]
    vals = rng.random((len(pairs), 2))
    got = ising._pair_deleted_means(vals, r)
    for x in range(r):
        keep = [p for p, (a, b) in enumerate(pairs) if x not in (a, b)]
        np.testing.assert_allclose(got[x], vals[keep].mean(axis=0))


def test_observables_from_overlaps() -> None:
    J, h = small_sk(12, seed=2)
    r = run_replicas(IsingSystem.dense(J, h), 0.8, replicas=6, sweeps=500, burn_in=50)
    q = r.overlaps
    assert r.q_bar.value == pytest.approx(np.abs(q).mean())
    assert r.chi_sg.value == pytest.approx(12 * np.mean(q**2))
    assert r.binder.value == pytest.approx(0.5 * (3 - np.mean(q**4) / np.mean(q**2) ** 2))
    m = r.overlap_matrix
    assert m.shape == (6, 6) and np.allclose(np.diag(m), 1) and np.allclose(m, m.T)
    centres, dens = r.overlap_histogram()
    assert np.all(dens >= 0)
    # N = 12: one bin per possible q = -1, -5/6, ..., 1
    np.testing.assert_allclose(centres, np.linspace(-1, 1, 13), atol=1e-12)
    assert "q_bar" in r.summary()
    # two replicas: one pair, errors from time blocks
    r2 = run_replicas(IsingSystem.dense(J, h), 0.8, replicas=2, sweeps=500, burn_in=50)
    assert r2.q2.error > 0 and r2.binder.error > 0


# ----------------------------------------------------------------------------- bad input


def _sk4() -> np.ndarray:
    return DenseBonds.sk(4, seed=0).J


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: IsingSystem.dense(np.zeros((3, 4))), "square"),
        (lambda: IsingSystem.dense(np.triu(np.ones((4, 4)), 1)), "symmetric"),
        (lambda: IsingSystem.dense(np.eye(4)), "diagonal"),
        (lambda: IsingSystem.dense(np.full((4, 4), np.nan)), "NaN"),
        (lambda: IsingSystem.dense(_sk4(), h=np.ones(3)), "shape"),
        (lambda: IsingSystem.dense(_sk4(), h=[0, 0, np.inf, 0]), "NaN or infinite"),
        (lambda: IsingSystem.dense(_sk4(), diagonal="keep"), "diagonal must be"),
        (lambda: IsingSystem.layered(np.ones((3, 3))), "LayeredBonds"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 0.0), "positive"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), -1.0), "positive"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), math.nan), "positive and finite"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, replicas=1), "replicas must be"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, method="wolff"), "method"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, dtype="float16"), "dtype"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, sweeps=0), "sweeps"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, start="warm"), "start"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, start=np.zeros(4)), r"\+1 or -1"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, seed=-1), "seed"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, threads=0), "threads"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, threads=1.5), "threads"),
        (lambda: run_replicas(_sk4(), 1.0), "IsingSystem"),
        (lambda: run_replicas(IsingSystem.dense(_sk4()), 1.0, sweeps=5, measure_every=10),
         "measure_every"),
        (lambda: parallel_tempering(IsingSystem.dense(_sk4()), [1.0, 0.5]), "increasing"),
        (lambda: parallel_tempering(IsingSystem.dense(_sk4()), [1.0, 1.0]), "increasing"),
        (lambda: parallel_tempering(IsingSystem.dense(_sk4()), [1.0]), ">= 2"),
        (lambda: parallel_tempering(IsingSystem.dense(_sk4()), [0.0, 1.0]), "positive"),
    ],
)
def test_bad_input(make, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        make()


def test_dropped_diagonal_is_a_constant() -> None:
    J, h = small_sk(8, seed=6)
    d = np.diag(np.linspace(0.5, 1.5, 8))
    a = run_replicas(IsingSystem.dense(J, h), 1.0, replicas=2, sweeps=200, burn_in=0)
    b = run_replicas(IsingSystem.dense(J + d, h, diagonal="drop"), 1.0, replicas=2,
                     sweeps=200, burn_in=0)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_allclose(b.energies - a.energies, -0.5 * np.trace(d) / 8, atol=1e-12)


def test_ustat_variance_is_unbiased() -> None:
    # A_ab = g_a + g_b + e_ab: the mean over pairs has variance 4σ_g²/R + σ_e²/P exactly
    rng = np.random.default_rng(3)
    r = 8
    iu = np.triu_indices(r, 1)
    p = iu[0].size
    means, est = [], []
    for _ in range(4000):
        g = rng.normal(0, 0.3, r)
        a = g[iu[0]] + g[iu[1]] + rng.normal(0, 1.0, p)
        means.append(a.mean())
        est.append(ising._ustat_variance(a, r))
    true = 4 * 0.09 / r + 1 / p
    # 4000 draws: the mean estimate has ~2% relative error (its own spread ≈ 0.7·true)
    assert np.mean(est) == pytest.approx(true, rel=0.06)
    assert np.var(means) == pytest.approx(true, rel=0.1)
