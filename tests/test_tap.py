"""TAP engine: block factorisation, λ_min, β_c — each against an independent dense method."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import msk_critical
from replicasolve.tap.bonds import DenseBonds, random_layered
from replicasolve.tap.critical import tap_critical, tap_minimum
from replicasolve.tap.matrix import factor_tap, lambda_min, lambda_min_curve, tap_matrix
from replicasolve.tap.spectra import (
    bond_lambda_max,
    bond_spectrum,
    diagonal_change,
    level_stats,
    tap_level_stats,
)


def _dense_lmin(bonds, beta: float) -> float:
    return float(scipy.linalg.eigvalsh(tap_matrix(bonds, beta), subset_by_index=[0, 0])[0])


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=2, max_size=5),
    beta=st.floats(0.2, 3.0),
    offset=st.floats(-0.5, 0.5),
    seed=st.integers(0, 2**16),
)
def test_block_cholesky_matches_dense(sizes, beta, offset, seed) -> None:
    b = random_layered(sizes, 2.0, seed)
    a = tap_matrix(b, beta)
    ev = np.linalg.eigvalsh(a)
    shift = ev[0] + offset
    if abs(offset) < 1e-9 * max(1.0, abs(ev[0])):  # on the boundary the sign is rounding
        return
    f = factor_tap(b, beta, shift)
    assert f.positive_definite == (offset < 0)
    if f.positive_definite:
        sign, logdet = np.linalg.slogdet(a - shift * np.eye(b.n))
        assert sign == 1
        # both are backward-stable factorisations: agree to rounding times the condition
        assert f.logdet == pytest.approx(logdet, rel=1e-9, abs=1e-9 * b.n)
        rhs = np.random.default_rng(seed).standard_normal((b.n, 2))
        np.testing.assert_allclose(
            f.solve(rhs), np.linalg.solve(a - shift * np.eye(b.n), rhs), rtol=1e-7, atol=1e-9
        )
    else:
        assert f.failed_layer is not None


def test_dense_bonds_factor_matches_layered() -> None:
    b = random_layered([30, 20, 10], 2.0, 4)
    dense = DenseBonds(b.dense())
    for beta in (0.4, 0.7):
        f1, f2 = factor_tap(b, beta, -0.1), factor_tap(dense, beta, -0.1)
        assert f1.positive_definite and f2.positive_definite
        assert f1.logdet == pytest.approx(f2.logdet, rel=1e-12)


@pytest.mark.parametrize("method", ["dense", "shift-invert", "lanczos"])
def test_lambda_min_methods_and_hellmann_feynman(method: str) -> None:
    b = random_layered([60, 40, 50, 20], 2.0, 7)
    beta = 0.65
    ref = _dense_lmin(b, beta)
    r = lambda_min(b, beta, method=method)
    # all three are exact to rounding; 1e-10 is far above eps·‖A‖ ≈ 1e-15
    assert r.value == pytest.approx(ref, abs=1e-10)
    assert r.residual < 1e-9
    # Hellmann-Feynman derivative vs a central difference of the dense eigenvalue;
    # truncation error ~ h² λ''' ≈ 1e-10, rounding ~ eps/h ≈ 1e-11
    h = 1e-5
    fd = (_dense_lmin(b, beta + h) - _dense_lmin(b, beta - h)) / (2 * h)
    assert r.derivative == pytest.approx(fd, abs=1e-7)


def test_lambda_min_curve_matches_dense() -> None:
    b = random_layered([80, 60, 40], 2.0, 1)
    betas = np.linspace(0.3, 1.2, 7)
    curve = lambda_min_curve(b, betas)
    np.testing.assert_allclose(curve, [_dense_lmin(b, x) for x in betas], atol=1e-10)


def test_minimum_matches_derivative_free_dense_search() -> None:
    b = random_layered([90, 60, 60, 30], 2.0, 11)
    m = tap_minimum(b)
    assert m.converged and abs(m.derivative) < 1e-8
    ref = minimize_scalar(lambda x: _dense_lmin(b, x), bounds=(0.3, 1.0), method="bounded",
                          options={"xatol": 1e-9})
    # a derivative-free search locates a quadratic minimum only to ~sqrt(eps) in β
    assert m.beta == pytest.approx(ref.x, rel=1e-6)
    assert m.value == pytest.approx(ref.fun, abs=1e-12)
    assert m.value <= ref.fun + 1e-14


def test_threshold_crossing_matches_dense_bisection() -> None:
    b = random_layered([90, 60, 60, 30], 2.0, 11)
    m = tap_minimum(b)
    theta = m.value + 0.01
    r = tap_critical(b, definition="threshold", threshold=theta)
    assert r.crossed and r.converged and r.beta_c < r.beta_min
    lo, hi = 0.2, m.beta  # bisection on the sign of the dense λ_min - θ: independent
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _dense_lmin(b, mid) > theta else (lo, mid)
    assert r.beta_c == pytest.approx(0.5 * (lo + hi), rel=1e-9)
    # positive definite just before, not just after (the definition itself)
    assert factor_tap(b, r.beta_c * (1 - 1e-8), theta).positive_definite
    assert not factor_tap(b, r.beta_c * (1 + 1e-8), theta).positive_definite


def test_plain_definition_crossed_or_flagged() -> None:
    b = random_layered([90, 60, 60, 30], 2.0, 11)
    plain = tap_critical(b, definition="plain")
    assert plain.threshold == 0.0
    if plain.lambda_at_min > 0:
        assert not plain.crossed and plain.beta_c == plain.beta_min
    else:  # pragma: no cover - depends on the instance
        assert plain.crossed and plain.beta_c <= plain.beta_min
    # shifting θ below the minimum can never cross
    far = tap_critical(b, definition="threshold", threshold=plain.lambda_at_min - 1.0)
    assert not far.crossed


def test_reference_definition_equals_threshold() -> None:
    ref = random_layered([60, 40, 20], 2.0, 2)
    # training grows a few outliers of J (Barney et al. sec. 3.4): mimic with rank-one spikes
    rng = np.random.default_rng(0)
    spiked = []
    for w in ref.weights:
        u, v = rng.standard_normal(w.shape[0]), rng.standard_normal(w.shape[1])
        spiked.append(w + 1.5 * np.outer(u, v) / np.sqrt(w.size))
    trained = type(ref)(tuple(spiked))
    a = tap_critical(trained, reference=ref)
    b = tap_critical(trained, definition="threshold", threshold=tap_minimum(ref).value)
    assert a.beta_c == pytest.approx(b.beta_c, rel=1e-12)
    assert a.crossed and a.beta_c < tap_critical(ref).beta_c  # T_c rises


def test_sk_tap_matrix_limit() -> None:
    # SK: λ_min(A(β)) → 1/β + β - 2 as N → ∞ (bulk edge of the semicircle at 2 with d → 1);
    # finite-N corrections O(N^{-2/3}) at the edge: tolerance 0.05 at N = 1500.
    b = DenseBonds.sk(1500, seed=0)
    for beta in (0.5, 0.8, 1.0, 1.3):
        assert lambda_min(b, beta).value == pytest.approx(1 / beta + beta - 2, abs=0.05)
    m = tap_minimum(b)
    assert m.beta == pytest.approx(1.0, abs=0.02)


def _mean_error(sizes_fn, beta_theory_fn, seeds=range(5)) -> float:
    errs = []
    for s in seeds:
        bonds = sizes_fn(s)
        errs.append(abs(tap_critical(bonds).beta_c / beta_theory_fn(bonds) - 1))
    return float(np.mean(errs))


@pytest.mark.parametrize(("n0", "n1"), [(1, 1), (4, 1)])
def test_bipartite_limit_trend(n0: int, n1: int) -> None:
    # single layer pair: β_c² C sqrt(N_1/N_0) = 1 (bipartite SK; TAP tangency derivation
    # in test_msk); the finite-size error must shrink as N grows 16×
    def beta_theory(b):
        return 1 / np.sqrt(2.0 * np.sqrt(b.sizes[1] / b.sizes[0]))

    errs = [
        _mean_error(lambda s, k=k: random_layered([n0 * k, n1 * k], 2.0, s), beta_theory)
        for k in (50, 200, 800)
    ]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.3 * errs[0]
    assert errs[2] < 5e-3


def test_kaiming_network_trend_to_msk() -> None:
    # the MNIST architecture's proportions (3:2:2:2:1 here, so the theory is the same at
    # every N): mean |β_c(TAP)/β_c(MSK) - 1| over 5 instances shrinks with N, and the
    # soft mode's layer profile approaches the replica theory's unstable mode
    ratios = np.array([3, 2, 2, 2, 1])
    theory = msk_critical(list(ratios), 2.0)
    errs, mode_errs = [], []
    for k in (20, 80, 240):
        e, me = [], []
        for s in range(5):
            r = tap_critical(random_layered(list(ratios * k), 2.0, s))
            e.append(abs(r.beta_c / theory.beta_c - 1))
            me.append(np.linalg.norm(np.subtract(r.mode, theory.mode)))
        errs.append(np.mean(e))
        mode_errs.append(np.mean(me))
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.4 * errs[0] and errs[2] < 0.01
    assert mode_errs[0] > mode_errs[2]
    assert mode_errs[2] < 0.15


def test_level_stats_and_spectra() -> None:
    ls = level_stats(np.array([0.0, 3.0, 4.0, 5.0, 6.0]))
    assert ls.first_spacing == 3.0 and ls.median_spacing == 1.0
    assert ls.normalized_first_spacing == 3.0
    b = random_layered([40, 30, 20], 2.0, 0)
    ev = bond_spectrum(b)
    assert bond_lambda_max(b) == pytest.approx(ev[-1], rel=1e-12)
    # J is bipartite-like (block tridiagonal, zero diagonal blocks): spectrum symmetric
    np.testing.assert_allclose(np.sort(ev), np.sort(-ev), atol=1e-10)
    tl = tap_level_stats(b, 0.6)
    assert tl.lowest[0] == pytest.approx(_dense_lmin(b, 0.6), abs=1e-12)
    with pytest.raises(InvalidInputError):
        level_stats(np.array([1.0, 2.0]))


def test_diagonal_change_exact_for_scaled_weights() -> None:
    b = random_layered([30, 20, 10], 2.0, 0)
    eps = 0.01
    scaled = type(b)(tuple(w * (1 + eps) for w in b.weights))
    dc = diagonal_change(scaled, b)
    # every d_i scales by (1+eps)^2 exactly
    assert dc.max_relative == pytest.approx((1 + eps) ** 2 - 1, rel=1e-12)
    assert dc.norm_relative == pytest.approx((1 + eps) ** 2 - 1, rel=1e-12)
    assert diagonal_change(b, b).max_relative == 0.0
    with pytest.raises(InvalidInputError, match="architecture"):
        diagonal_change(b, random_layered([30, 20, 11], 2.0, 0))


def test_bad_tap_input() -> None:
    b = random_layered([10, 5], 2.0, 0)
    for beta in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError, match="beta"):
            lambda_min(b, beta)
        with pytest.raises(InvalidInputError, match="beta"):
            factor_tap(b, beta)
    with pytest.raises(InvalidInputError, match="definition"):
        tap_critical(b, definition="nope")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="threshold"):
        tap_critical(b, definition="threshold")
    with pytest.raises(InvalidInputError, match="rtol"):
        tap_critical(b, rtol=0.0)
    with pytest.raises(InvalidInputError, match="method"):
        lambda_min(b, 1.0, method="qr")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="not positive definite"):
        factor_tap(b, 1.0, 100.0).solve(np.ones(15))


@pytest.mark.slow
def test_large_network_lobpcg_matches_exact_shift_invert() -> None:
    # N ≈ 9,300 (the MNIST proportions at 4x width): the float32-preconditioned LOBPCG
    # path used by tap_critical against ARPACK shift-invert on float64 factors, and β_c
    # within the finite-size scale of the theory (the trend test puts N ~ 10^4 at ~2e-3)
    sizes = [3136, 2048, 2048, 2048, 40]
    b = random_layered(sizes, 2.0, 0)
    r = tap_critical(b, rtol=1e-10)
    exact = lambda_min(b, r.beta_c, method="shift-invert")
    fast = lambda_min(b, r.beta_c, method="lobpcg")
    assert fast.value == pytest.approx(exact.value, abs=1e-11)
    assert fast.derivative == pytest.approx(exact.derivative, abs=1e-8)
    assert abs(exact.derivative) < 1e-8  # r.beta_c is the minimiser
    assert abs(r.beta_c / msk_critical(sizes, 2.0).beta_c - 1) < 1e-2
