"""The layer-parallel (block) heat-bath engine (replicasolve.engines.block).

Golden values: every reference number is computed in the test itself, by summing exp(-H/T)
over all 2^N states of a small layered network (N ≤ 11), or from the exact one-sweep
transition kernel of the even-then-odd layer heat bath (the product of the layers'
conditional laws P(s_l = +1 | rest) = 1/(1 + e^{-2βU_l})), or from the single-spin-flip
engine of replicasolve.engines.ising, itself tested against exact sums in test_mc_ising.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

import replicasolve as rs
from replicasolve.engines.block import (
    BlockSettings,
    check_backend,
    parallel_tempering_block,
    run_replicas_block,
)
from replicasolve.engines.ising import IsingSystem, MCResult, PTResult, run_replicas
from replicasolve.errors import InvalidInputError
from replicasolve.tap.bonds import DenseBonds, random_layered

BACKENDS = [("numpy", "float64"), ("numpy", "float32"), ("torch", "float32"),
            ("torch", "float64")]


def _needs(backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")


def all_states(n: int) -> np.ndarray:
    """All 2^n spin states, shape (2^n, n); state index = Σ_i 2^i (s_i + 1)/2."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0


def state_index(spins: np.ndarray) -> np.ndarray:
    """The index (as in :func:`all_states`) of each column of ±1 spins (N, R)."""
    bits = (np.asarray(spins) > 0).astype(np.int64)
    return (bits * (1 << np.arange(bits.shape[0]))[:, None]).sum(axis=0)


def exact_moments(J: np.ndarray, h: np.ndarray, T: float) -> dict[str, float]:
    """⟨E⟩/N, ⟨m⟩, ⟨|m|⟩ and ⟨q²⟩ (two independent replicas) from all 2^N states."""
    n = h.size
    states = all_states(n)
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ h
    w = np.exp(-(e - e.min()) / T)
    p = w / w.sum()
    corr = states.T @ (p[:, None] * states)
    return {"E": float(p @ e) / n, "m": float(p @ states.mean(axis=1)),
            "abs_m": float(p @ np.abs(states.mean(axis=1))),
            "q2": float(np.sum(corr**2)) / n**2}


def small_layered(sizes: tuple[int, ...] = (4, 4, 3), seed: int = 5
                  ) -> tuple[IsingSystem, np.ndarray, np.ndarray]:
    bonds = random_layered(list(sizes), 2.0, seed=seed)
    h = np.random.default_rng(7).normal(0.0, 0.3, bonds.n)
    return IsingSystem.layered(bonds, h), bonds.dense(), h


def sweep_kernel(system: IsingSystem, T: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact transition matrices P[x, y] of the even and of the odd half sweep of the
    layer heat bath (one sweep is their product)."""
    bonds = system.bonds
    n, off, nl = system.n, bonds.offsets, len(bonds.sizes)
    states = all_states(n)
    J = bonds.dense()

    def half(layers: list[int]) -> np.ndarray:
        # resample the spins of `layers` (no couplings among them) given the others
        rows = np.concatenate([np.arange(off[l], off[l + 1]) for l in layers])
        u = states @ J + system.h  # fields of every spin in every state (J symmetric)
        p_up = 1.0 / (1.0 + np.exp(-2.0 * u[:, rows] / T))  # (2^n, |rows|), x -> P(+1)
        other = np.setdiff1d(np.arange(n), rows)
        same = np.all(states[:, None, other] == states[None, :, other], axis=2)
        yr = states[:, rows]  # target spins of the resampled rows
        prob = np.prod(np.where(yr[None, :, :] > 0, p_up[:, None, :], 1 - p_up[:, None, :]),
                       axis=2)
        return np.where(same, prob, 0.0)

    return half(list(range(0, nl, 2))), half(list(range(1, nl, 2)))


# ----------------------------------------------------------------------------- exact sums


def test_sweep_kernel_preserves_boltzmann() -> None:
    # the sampler itself: each half sweep is a Gibbs step, so π P = π for the product
    system, J, h = small_layered((2, 3, 2))
    T = 0.7
    states = all_states(system.n)
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ h
    pi = np.exp(-(e - e.min()) / T)
    pi /= pi.sum()
    pe, po = sweep_kernel(system, T)
    P = pe @ po
    # rows sum to one and π is stationary, to rounding (128 states, sums of ≤ 128 terms of
    # size ≤ 1 in float64: ≲ 1e-14)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pi @ P, pi, rtol=0, atol=1e-12)
    # each half sweep (one Gibbs step) satisfies detailed balance π_x P_xy = π_y P_yx
    # (the whole sweep, a product of two, need not)
    for half in (pe, po):
        flow = pi[:, None] * half
        np.testing.assert_allclose(flow, flow.T, rtol=0, atol=1e-14)
    assert np.all(P > 0)  # irreducible and aperiodic in one sweep: π is the only limit


@pytest.mark.parametrize(("backend", "dtype"), BACKENDS)
def test_one_sweep_transition_law(backend: str, dtype: str) -> None:
    # the engine's own updates: 20000 independent replicas from one state x0, one sweep;
    # the empirical law of the result against the exact row P[x0, ·] (multinomial: the
    # replicas have independent streams), chi-square test at p = 1e-4 (a false alarm once
    # in 10^4 runs; a wrong conditional probability of 2% shifts the statistic by ≫ 100)
    _needs(backend)
    system, _, _ = small_layered((2, 3, 2))
    T = 0.7
    pe, po = sweep_kernel(system, T)
    P = pe @ po
    x0 = np.array([1, -1, 1, 1, -1, -1, 1])
    reps = 20000
    r = run_replicas_block(system, T, replicas=reps, sweeps=1, burn_in=0, seed=3,
                           start=x0, overlaps=False, backend=backend, dtype=dtype)
    counts = np.bincount(state_index(r.spins), minlength=2**system.n)
    expected = reps * P[state_index(x0[:, None])[0]]
    keep = expected > 5  # the chi-square approximation; the rest is pooled
    stat = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    rest_o, rest_e = counts[~keep].sum(), expected[~keep].sum()
    dof = int(keep.sum()) - 1
    if rest_e > 0:
        stat += (rest_o - rest_e) ** 2 / rest_e
        dof += 1
    assert stat < chi2.ppf(1 - 1e-4, dof), (stat, dof)


EXACT_CASES = [(b, d, T) for (b, d) in BACKENDS[:3] for T in (0.8, 2.0)]


@pytest.mark.parametrize(("backend", "dtype", "T"), EXACT_CASES)
def test_exact_enumeration(backend: str, dtype: str, T: float) -> None:
    # N = 11 with fields h; 8 independent runs (seeds 0..7): their scatter is the standard
    # error of the mean, and the mean must be within 5 of those errors of the exact value
    # (5σ: a false alarm about once in 10^6 per comparison; the t-distribution with 7 dof
    # makes it ~1e-3 per comparison, still rare over these 24 comparisons)
    _needs(backend)
    system, J, h = small_layered()
    exact = exact_moments(J, h, T)
    runs, errs = [], []
    for seed in range(8):
        r = run_replicas_block(system, T, replicas=8, sweeps=3000, burn_in=200, seed=seed,
                               backend=backend, dtype=dtype)
        runs.append([r.energy.value, r.magnetization.value, r.abs_magnetization.value,
                     r.q2.value])
        errs.append([r.energy.error, r.magnetization.error, r.abs_magnetization.error,
                     r.q2.error])
    runs = np.array(runs)
    mean = runs.mean(axis=0)
    se = runs.std(axis=0, ddof=1) / math.sqrt(len(runs))
    for k, name in enumerate(["E", "m", "abs_m", "q2"]):
        assert se[k] > 0
        assert abs(mean[k] - exact[name]) < 5 * se[k], (name, mean[k], exact[name], se[k])
        # one run's error bar must match the run-to-run scatter: with 8 runs the scatter's
        # own uncertainty is ~25%, so a factor 2.5 either way is a real miss
        ratio = np.mean(errs, axis=0)[k] / runs.std(axis=0, ddof=1)[k]
        assert 0.4 < ratio < 2.5, (name, ratio)


# ----------------------------------------------------------------------------- engines agree


def test_block_agrees_with_single_flip() -> None:
    # a larger network (N = 30, out of reach of enumeration) at T = 1.3 T_c of the MSK
    # theory for these sizes: both engines from hot starts, 16 replicas each; E, |m| and
    # ⟨q²⟩ must agree within 5 combined standard errors (independent runs, errors from
    # the replicas; 5σ: see test_exact_enumeration)
    sizes = [12, 10, 8]
    bonds = random_layered(sizes, 2.0, seed=11)
    h = np.random.default_rng(2).normal(0.0, 0.2, bonds.n)
    system = IsingSystem.layered(bonds, h)
    T = 1.3 * rs.solve(rs.MSK(sizes, variance=2.0)).T_c
    single = run_replicas(system, T, replicas=16, sweeps=4000, burn_in=1000,
                          method="heatbath", seed=1)
    block = run_replicas_block(system, T, replicas=16, sweeps=4000, burn_in=1000, seed=2)
    assert single.converged and block.converged
    for name in ("energy", "abs_magnetization", "q2"):
        a, b = getattr(single, name), getattr(block, name)
        assert abs(a.value - b.value) < 5 * math.hypot(a.error, b.error), (name, a, b)
    # the heat-bath "acceptance" of both engines is the fraction of updates that changed a
    # spin; at the same T they estimate the same number, up to a few 1e-3 (the per-replica
    # scatter of a rate over 4000 × 30 updates × 16 replicas; 0.02 is ≫ that)
    assert abs(single.acceptance - block.acceptance) < 0.02


def test_parallel_tempering_block() -> None:
    # the ladder against single-temperature block runs and against exact sums (N = 11):
    # 5 combined standard errors as above
    system, J, h = small_layered()
    temps = [0.8, 1.0, 1.3, 1.7]
    pt = parallel_tempering_block(system, temps, replicas_per_T=8, sweeps=3000,
                                  burn_in=300, seed=4)
    assert isinstance(pt, PTResult) and len(pt) == 4
    assert np.all((pt.swap_acceptance > 0) & (pt.swap_acceptance < 1))
    assert np.all(pt.swap_attempts == 8 * 3000)
    assert pt.round_trips > 0
    for k, T in enumerate(temps):
        one = run_replicas_block(system, T, replicas=8, sweeps=3000, burn_in=300,
                                 seed=10 + k)
        exact = exact_moments(J, h, T)
        for name, key in (("energy", "E"), ("q2", "q2")):
            a, b = getattr(pt[k], name), getattr(one, name)
            assert abs(a.value - b.value) < 5 * math.hypot(a.error, b.error), (T, name)
            assert abs(a.value - exact[key]) < 5 * a.error, (T, name, a, exact[key])


# ----------------------------------------------------------------------------- reproducible


@pytest.mark.parametrize(("backend", "dtype"), BACKENDS)
def test_reproducible_per_seed(backend: str, dtype: str) -> None:
    _needs(backend)
    system, _, _ = small_layered((6, 5, 4, 3))
    kw = dict(replicas=4, sweeps=50, burn_in=10, backend=backend, dtype=dtype)
    a = run_replicas_block(system, 1.0, seed=7, **kw)
    b = run_replicas_block(system, 1.0, seed=7, **kw)
    c = run_replicas_block(system, 1.0, seed=8, **kw)
    np.testing.assert_array_equal(a.energies, b.energies)
    np.testing.assert_array_equal(a.overlaps, b.overlaps)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert not np.array_equal(a.energies, c.energies)
    # the reported energies are those of the configurations (float32: products rounded
    # to ~6e-8 relative, |H/N| ≲ 3, so 1e-5 is ≫ the rounding)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(a.energies[-1], system.energy(a.spins), rtol=0, atol=tol)
    np.testing.assert_allclose(a.fields, system.local_fields(a.spins).T, rtol=0,
                               atol=tol)
    assert isinstance(a, MCResult) and isinstance(a.settings, BlockSettings)
    assert (a.settings.backend, a.settings.dtype, a.settings.method) == (backend, dtype,
                                                                         "heatbath")
    assert a.to_dict()["settings"]["engine"] == "block"
    pa = parallel_tempering_block(system, [1.0, 1.5], replicas_per_T=3, sweeps=30,
                                  burn_in=5, seed=2, backend=backend, dtype=dtype)
    pb = parallel_tempering_block(system, [1.0, 1.5], replicas_per_T=3, sweeps=30,
                                  burn_in=5, seed=2, backend=backend, dtype=dtype)
    for x, y in zip(pa.results, pb.results, strict=True):
        np.testing.assert_array_equal(x.energies, y.energies)
    np.testing.assert_array_equal(pa.round_trips_per_walker, pb.round_trips_per_walker)


def test_starts() -> None:
    system, _, _ = small_layered((6, 5, 4))
    cold = run_replicas_block(system, 1e-4, replicas=2, sweeps=1, burn_in=0, start="cold",
                              seed=0)
    # a zero-temperature layer descent ends in a local minimum: every spin along its field,
    # so no single flip lowers H; at T = 1e-4 one sweep from there keeps every spin with
    # probability ≥ 1 - N e^{-2 min|U| / T} = 1 - 15 e^{-20} for min |U| ≥ 1e-3 (checked)
    u = system.local_fields(cold.spins)
    assert np.abs(u).min() > 1e-3
    assert np.all(cold.spins * u > 0)
    aligned = run_replicas_block(system, 1.0, replicas=2, sweeps=1, burn_in=0,
                                 start="aligned", seed=0)
    assert aligned.settings.start == "aligned"
    with pytest.raises(InvalidInputError, match="start"):
        run_replicas_block(system, 1.0, replicas=2, sweeps=1, start="warm")
    with pytest.raises(InvalidInputError, match="shape"):
        run_replicas_block(system, 1.0, replicas=2, sweeps=1, start=np.ones(3))


# ----------------------------------------------------------------------------- refusals


def test_refuses_dense_couplings() -> None:
    sk = DenseBonds.sk(10, seed=0)
    with pytest.raises(InvalidInputError, match="layered couplings"):
        run_replicas_block(IsingSystem.dense(sk), 1.0, replicas=2, sweeps=1)
    with pytest.raises(InvalidInputError, match="layered couplings"):
        parallel_tempering_block(IsingSystem.dense(sk), [1.0, 2.0], replicas_per_T=2,
                                 sweeps=1)
    with pytest.raises(InvalidInputError, match="layered couplings"):
        rs.solve(sk, rs.MonteCarlo(T=1.0, engine="block", sweeps=1, burn_in=0))


def test_refuses_bad_backend_and_device() -> None:
    system, _, _ = small_layered()
    for kw, match in ((dict(backend="jax"), "backend"), (dict(device="gpu"), "device"),
                      (dict(device="cuda:x"), "device"),
                      (dict(backend="numpy", device="cuda"), "numpy backend")):
        with pytest.raises(InvalidInputError, match=match):
            run_replicas_block(system, 1.0, replicas=2, sweeps=1, **kw)
        with pytest.raises(InvalidInputError, match=match):
            rs.MonteCarlo(T=1.0, engine="block", **kw)
    with pytest.raises(InvalidInputError, match="engine"):
        rs.MonteCarlo(T=1.0, engine="blocked")
    with pytest.raises(InvalidInputError, match="engine='block'"):
        rs.MonteCarlo(T=1.0, backend="torch")
    assert check_backend("torch", "cuda:1") == ("torch", "cuda:1")


def test_refuses_absent_cuda() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: nothing to refuse")
    system, _, _ = small_layered()
    with pytest.raises(InvalidInputError, match="no CUDA device"):
        run_replicas_block(system, 1.0, replicas=2, sweeps=1, backend="torch", device="cuda")
    method = rs.MonteCarlo(T=1.0, engine="block", backend="torch", device="cuda", sweeps=1,
                           burn_in=0)
    with pytest.raises(InvalidInputError, match="no CUDA device"):
        rs.solve(system.bonds, method)


def test_solve_routes_to_block_engine() -> None:
    system, _, _ = small_layered()
    r = rs.solve(system.bonds, rs.MonteCarlo(T=1.0, engine="block", replicas=4, sweeps=20,
                                             burn_in=5))
    assert isinstance(r.settings, BlockSettings) and r.settings.couplings == "layered"
    pt = rs.solve(system, rs.MonteCarlo(T=[1.0, 1.4], engine="block", replicas=3,
                                        sweeps=20, burn_in=5))
    assert isinstance(pt, PTResult) and pt.settings.engine == "block"
