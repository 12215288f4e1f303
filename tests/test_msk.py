"""Multilayer SK replica theory: general K-matrix solution vs closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicasolve.errors import InvalidInputError
from replicasolve.models.msk import critical_matrix, msk_critical, msk_tc_identical

# eigh of a small symmetric tridiagonal matrix is backward stable to ~1e-15 relative;
# 1e-12 leaves room for the sqrt and the cos of the closed form
TIGHT = 1e-12


@pytest.mark.parametrize("n_weights", range(1, 12))
@pytest.mark.parametrize("c", [0.5, 1.0, 2.0])
def test_identical_layers_match_closed_form(n_weights: int, c: float) -> None:
    # published closed form T_c = sqrt(2 C cos(pi/(L+2))) (Barney-Winer-Galitski)
    r = msk_critical([37] * (n_weights + 1), c)
    assert r.T_c == pytest.approx(np.sqrt(2 * c * np.cos(np.pi / (n_weights + 2))), rel=TIGHT)
    assert r.T_c == pytest.approx(msk_tc_identical(n_weights, c), rel=TIGHT)
    assert r.beta_c * r.T_c == pytest.approx(1.0, rel=TIGHT)


def test_two_layers_is_bipartite_sk() -> None:
    # bipartite SK with J ~ N(0, C/N_0): T_c^2 = C sqrt(N_1/N_0); for N_1 = N_0, T_c = sqrt(C).
    # Independent derivation: TAP tangency (1 - sqrt(r) beta^2 C)^2 = 0, see test_tap.
    assert msk_critical([50, 50], 3.0).T_c == pytest.approx(np.sqrt(3.0), rel=TIGHT)
    r = msk_critical([400, 100], 2.0)
    assert r.T_c**2 == pytest.approx(2.0 * np.sqrt(100 / 400), rel=TIGHT)


def test_deep_limit() -> None:
    c = 2.0
    deep = [msk_tc_identical(n, c) for n in (10, 100, 1000)]
    gaps = np.sqrt(2 * c) - np.array(deep)
    assert np.all(gaps > 0)
    assert np.all(np.diff(gaps) < 0)
    # cos(pi/(L+2)) = 1 - pi^2/(2(L+2)^2) + ...: the gap shrinks like (L+2)^-2
    assert gaps[2] == pytest.approx(np.sqrt(2 * c) * np.pi**2 / (4 * 1002**2), rel=1e-4)


def test_scale_invariance_and_variance_list() -> None:
    a = msk_critical([784, 512, 512, 512, 10], 2.0)
    b = msk_critical([7840, 5120, 5120, 5120, 100], [2.0, 2.0, 2.0, 2.0])
    c = msk_critical("784,512,512,512,10", "2")
    assert a.T_c == pytest.approx(b.T_c, rel=TIGHT)
    assert a.T_c == c.T_c
    assert a.variances == (2.0,) * 4


def test_gain_one_moves_tc_by_sqrt2() -> None:
    # C enters K linearly, so T_c scales like sqrt(C)
    assert msk_critical([784, 512, 10], 2.0).T_c / msk_critical([784, 512, 10], 1.0).T_c == (
        pytest.approx(np.sqrt(2.0), rel=TIGHT)
    )


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 2000), min_size=2, max_size=8),
    data=st.data(),
)
def test_mode_is_hessian_null_vector(sizes: list[int], data: st.DataObject) -> None:
    cs = data.draw(st.lists(st.floats(0.05, 10.0), min_size=len(sizes) - 1,
                            max_size=len(sizes) - 1))
    r = msk_critical(sizes, cs)
    n = np.asarray(sizes, dtype=float)
    # the replica Hessian in its unsymmetrised form, built from the definition
    m = np.zeros((len(n), len(n)))
    for layer in range(1, len(n)):
        m[layer, layer - 1] = m[layer - 1, layer] = cs[layer - 1] * n[layer]
    hess = np.diag(n) - r.beta_c**2 * m
    q = np.asarray(r.mode)
    assert np.all(q > 0)
    assert np.linalg.norm(q) == pytest.approx(1.0, rel=1e-12)
    # null vector to rounding, relative to the Hessian's size
    assert np.linalg.norm(hess @ q) <= 1e-9 * np.linalg.norm(hess)
    # the paramagnet is stable just above T_c: symmetrised Hessian positive definite
    dn = np.diag(n**-0.5)
    hot = dn @ (np.diag(n) - (0.99 * r.beta_c) ** 2 * m) @ dn
    assert np.linalg.eigvalsh(hot)[0] > 0


def test_critical_matrix_shape() -> None:
    k = critical_matrix([4, 9, 1], [1.0, 2.0])
    assert k[1, 0] == pytest.approx(1.0 * np.sqrt(9 / 4))
    assert k[2, 1] == pytest.approx(2.0 * np.sqrt(1 / 9))
    assert np.all(np.diag(k) == 0) and np.allclose(k, k.T)


@pytest.mark.parametrize(
    ("sizes", "variance", "match"),
    [
        ([784], 2.0, "at least two layers"),
        ([784, 0, 10], 2.0, "must be positive"),
        ([784, -5, 10], 2.0, "must be positive"),
        ([784, 2.5, 10], 2.0, "whole number"),
        ("784,x,10", 2.0, "comma list"),
        ([784, 512, 10], 0.0, "positive"),
        ([784, 512, 10], -1.0, "positive"),
        ([784, 512, 10], float("nan"), "positive"),
        ([784, 512, 10], [1.0, 2.0, 3.0], "3 variances for 2 weight"),
        ([784, 512, 10], "1,a", "comma list"),
    ],
)
def test_bad_input(sizes, variance, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        msk_critical(sizes, variance)


def test_bad_identical_depth() -> None:
    with pytest.raises(InvalidInputError):
        msk_tc_identical(0)


@pytest.mark.parametrize("c", [1e-300, 1e-150, 1.3407807929942597e154, 1e300])
def test_extreme_variances_keep_closed_form(c: float) -> None:
    # T_c = sqrt(2 C cos(pi/(L+2))) at every representable C: K is linear in C, so nothing
    # about the mode may change. At C = 1e300 LAPACK's stebz used not to converge, and at
    # 1.34e154 the mode came back NaN (found by the CLI fuzz test).
    r = msk_critical([37] * 4, c)
    assert r.T_c == pytest.approx(np.sqrt(2 * np.cos(np.pi / 5)) * np.sqrt(c), rel=TIGHT)
    assert r.beta_c * r.T_c == pytest.approx(1.0, rel=TIGHT)
    assert r.mode == pytest.approx(msk_critical([37] * 4, 2.0).mode, rel=TIGHT)


def test_subnormal_variance_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="smallest normal float"):
        msk_critical([5, 5], 1e-320)


def test_overflowing_lambda_is_refused() -> None:
    # lambda_max = 2 cos(pi/5) C = 1.618 C exceeds the largest float at C = 1.7e308
    with pytest.raises(InvalidInputError, match="beyond floating-point range"):
        msk_critical([37] * 4, 1.7e308)
