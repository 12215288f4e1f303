"""Limiting spectral density of the random layered bond matrix (vector Dyson equation).

References used as independent checks: the Marchenko–Pastur law (1967) written out here by
hand, the semicircle, sampled ``J`` from :func:`random_layered` (eigenvalues by LAPACK),
the exact trace ``(1/N) E Tr J² = (2/N) Σ_l N_l C_l`` and the rank of sampled ``J``.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate
from scipy.sparse.linalg import LinearOperator, eigsh

from replicasolve.blas import blas_threads
from replicasolve.errors import InvalidInputError
from replicasolve.tap.bond_density import (
    bond_density,
    bond_density_atom,
    bond_density_solve,
    bond_stieltjes,
    bond_support_edge,
    coupling_matrix,
)
from replicasolve.tap.bonds import random_layered

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # two shared cores: OpenBLAS threads fighting another process made a 2500² eigvalsh
    # take 18 s instead of 1 s
    with blas_threads(1):
        yield


def mp_bond_density(n0: int, n1: int, c: float, x: np.ndarray) -> np.ndarray:
    """Two layers by hand: ±singular values of W (N1×N0, variance c/N0), squares MP."""
    lam, s2 = n0 / n1, c * n1 / n0  # WᵀW = (1/N1) YᵀY, Y entries of variance c N1/N0
    a, b = s2 * (1 - np.sqrt(lam)) ** 2, s2 * (1 + np.sqrt(lam)) ** 2
    t = x * x
    out = np.zeros_like(x)
    inside = (t > a) & (t < b)
    # ρ_J(x) = (N0/N) 2|x| ρ_MP(x²), ρ_MP(t) = sqrt((b-t)(t-a)) / (2π s2 λ t)
    out[inside] = (n0 / (n0 + n1)) * np.sqrt((b - t[inside]) * (t[inside] - a)) / (
        np.pi * s2 * lam * np.abs(x[inside])
    )
    return out


def test_derivation_script_passes():
    out = subprocess.run([sys.executable, str(ROOT / "derivations" / "layered_bond_density.py")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout


@pytest.mark.parametrize("n0, n1, c", [(300, 100, 2.0), (100, 300, 1.0), (400, 390, 2.0),
                                       (7, 3, 0.5)])
def test_two_layers_match_marchenko_pastur(n0, n1, c):
    edge = np.sqrt(c) * (1 + np.sqrt(n1 / n0))
    # an even count keeps x = 0 out (0·∞ in the closed form for equal layers); the grid
    # crosses the inner and outer edges and a few points sit 1e-6 from the outer one
    x = np.concatenate([np.linspace(-1.2 * edge, 1.2 * edge, 600),
                        edge * np.array([1 - 1e-6, 1 + 1e-6, -1 + 1e-6])])
    got = bond_density((n0, n1), c, x)
    ref = mp_bond_density(n0, n1, c, x)
    # measured: ≤ 1.3e-12, the largest 1e-6 from an edge (Newton at η = 0 on the exact
    # equation)
    assert np.max(np.abs(got - ref)) < 1e-6
    assert bond_density_atom((n0, n1)) == pytest.approx(abs(n0 - n1) / (n0 + n1), abs=1e-15)
    assert bond_support_edge((n0, n1), c) == pytest.approx(edge, rel=1e-12)


def test_equal_two_layers_is_the_semicircle():
    c = 2.0
    x = np.linspace(-3.5, 3.5, 141)
    ref = np.sqrt(np.maximum(4 * c - x**2, 0)) / (2 * np.pi * c)
    assert np.max(np.abs(bond_density((50, 50), c, x) - ref)) < 1e-12


def test_deep_equal_chain_approaches_the_semicircle_of_variance_2c():
    # interior layers see two neighbours: -1/g = z + 2C g, the semicircle of variance 2C;
    # the two end layers make an O(1/L) correction
    c = 1.0
    x = np.linspace(0.5, 2.5, 21)
    ref = np.sqrt(8 * c - x**2) / (4 * np.pi * c)
    dev = [np.max(np.abs(bond_density((1,) * n, c, x) - ref)) for n in (5, 11, 41)]
    assert dev[0] > dev[1] > dev[2]
    assert dev[2] < 0.2 * dev[0]
    edges = [bond_support_edge((1,) * n, c) for n in (2, 5, 11, 41)]
    assert np.all(np.diff(edges) > 0) and edges[-1] < 2 * np.sqrt(2 * c)
    assert edges[-1] == pytest.approx(2 * np.sqrt(2 * c), rel=1e-3)


def _cdf_on(sizes, c, edge, n=8001):
    # x = e sin³θ clusters points at the edges (square roots) and at 0 (where an even
    # number of equal layers has an integrable |x|^{-1/3} singularity)
    theta = np.linspace(-np.pi / 2, np.pi / 2, n)
    x = edge * np.sin(theta) ** 3
    dxdt = 3 * edge * np.sin(theta) ** 2 * np.cos(theta)
    rho = bond_density(sizes, c, x)
    return x, theta, rho, dxdt


def _ks(sample: np.ndarray, sizes, c) -> float:
    edge = bond_support_edge(sizes, c)
    x, theta, rho, dxdt = _cdf_on(sizes, c, edge)
    cdf_ac = integrate.cumulative_trapezoid(rho * dxdt, theta, initial=0.0)
    atom = bond_density_atom(sizes, c)
    s = np.sort(sample)
    s[np.abs(s) < 1e-8] = 0.0  # exact zeros of J come out of LAPACK as ±1e-15
    # ties (the atom) count once: the empirical CDF jumps over all of them together
    u, first, count = np.unique(s, return_index=True, return_counts=True)
    base = np.interp(u, x, cdf_ac, left=0.0, right=cdf_ac[-1])
    right = np.max(np.abs((first + count) / s.size - (base + atom * (u >= 0))))
    left = np.max(np.abs(first / s.size - (base + atom * (u > 0))))
    return float(max(right, left))


@pytest.mark.parametrize("sizes, c", [((500,) * 5, 2.0), ((800, 400, 600, 300), [2.0, 1.0, 1.5]),
                                      ((600,) * 4, 2.0)])
def test_density_matches_sampled_spectrum(sizes, c):
    ev = np.linalg.eigvalsh(random_layered(sizes, c, seed=3).dense())
    ks = _ks(ev, sizes, c)
    # the 99% Kolmogorov bound for N iid draws, 1.63/√N ≈ 0.033, is loose here: eigenvalues
    # are rigid (fluctuations O(log N / N)), so the distance is the O(1/N) finite-size
    # correction; measured 1.2e-3..1.7e-3 (seeds 3, 4) → tight bound 5e-3
    n = ev.size
    assert ks < 1.63 / np.sqrt(n)
    assert ks < 5e-3
    # the tight bound can fail: the semicircle of the same variance is rejected by it
    m2 = float(np.mean(ev**2))
    xs = np.linspace(-2 * np.sqrt(m2), 2 * np.sqrt(m2), 4001)
    sc = np.sqrt(np.maximum(4 * m2 - xs**2, 0)) / (2 * np.pi * m2)
    cdf = integrate.cumulative_trapezoid(sc, xs, initial=0)
    s = np.sort(ev)
    ks_sc = np.max(np.abs(np.arange(1, n + 1) / n - np.interp(s, xs, cdf, left=0, right=1)))
    assert ks_sc > 0.02  # measured 0.03 (four equal layers) to 0.1


@pytest.mark.parametrize("sizes, c", [
    ((300, 100), 2.0),
    ((784, 512, 512, 512, 10), 2.0),
    ((3, 1, 2), [1.0, 3.0]),
    ((1, 10, 10, 1), 1.0),
    ((10, 1, 1, 10), 1.0),
    ((5,) * 4, 2.0),  # |x|^{-1/3} at 0
    ((5,) * 5, 1.0),
])
def test_normalisation_and_second_moment(sizes, c):
    edge = bond_support_edge(sizes, c)
    x, theta, rho, dxdt = _cdf_on(sizes, c, edge, n=4001)
    atom = bond_density_atom(sizes, c)
    mass = integrate.simpson(rho * dxdt, x=theta)
    second = integrate.simpson(x**2 * rho * dxdt, x=theta)
    cs = np.broadcast_to(np.asarray(c, dtype=float), (len(sizes) - 1,))
    exact_m2 = 2 * float(np.dot(sizes[1:], cs)) / sum(sizes)  # (1/N) E Tr J² = (2/N) Σ N_l C_l
    # quadrature: square-root kinks at interior gap edges limit Simpson to ~h^1.5 ≈ 3e-5;
    # measured |Δmass| ≤ 2.2e-5, |Δm2|/m2 ≤ 4e-5 (both worst for (10, 1, 1, 10))
    assert mass == pytest.approx(1 - atom, abs=1e-4)
    assert second == pytest.approx(exact_m2, rel=1e-4)
    # and the exact trace of one sampled instance agrees to sampling error
    k = max(1, 2000 // sum(sizes))
    j = random_layered(tuple(k * s for s in sizes), c, seed=1)
    tr = float(np.sum(j.d)) / j.n  # Σ_i d_i = Tr J²
    # Tr J² = 2 Σ W²: a sum of n_w squared Gaussians, relative spread about √(2/n_w)
    n_weights = sum(k * a * k * b for a, b in itertools.pairwise(sizes))
    assert tr == pytest.approx(exact_m2, rel=5 * np.sqrt(2 / n_weights))


@pytest.mark.parametrize("sizes", [(10, 1, 1, 10), (3, 1, 2), (5, 5, 5), (1, 10, 10, 1),
                                   (7, 2, 9, 4, 1)])
def test_atom_matches_rank_of_sampled_j_and_the_dyson_solution(sizes):
    atom = bond_density_atom(sizes)
    k = 20
    big = tuple(k * s for s in sizes)
    j = random_layered(big, 2.0, seed=0).dense()
    zeros = j.shape[0] - np.linalg.matrix_rank(j)
    assert zeros / j.shape[0] == pytest.approx(atom, abs=1e-12)
    # the Dyson solution: η Im m(iη) → atom (the rest is O(η) or smaller)
    eta = 1e-7
    g = bond_stieltjes(sizes, 2.0, np.array([1j * eta]))[0]
    frac = np.asarray(sizes) / sum(sizes)
    assert eta * float(np.dot(frac, g.imag)) == pytest.approx(atom, abs=1e-4)


def _lambda_max(bonds) -> float:
    # Lanczos on the matrix-free J: O(N²) per step instead of a dense O(N³) reduction
    op = LinearOperator((bonds.n, bonds.n), matvec=bonds.matvec, dtype=float)
    return float(eigsh(op, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0])


def test_edge_is_approached_by_sampled_lambda_max():
    sizes, c = (4, 2, 3, 2), 2.0
    edge = bond_support_edge(sizes, c)
    # consistent with the density: positive just inside, zero (to η_min) just outside
    rho = bond_density(sizes, c, [edge * (1 - 1e-4), edge * (1 + 1e-4)])
    assert rho[0] > 1e-4 and rho[1] < 1e-8
    gaps = []
    for k in (25, 100, 400):
        lmax = [_lambda_max(random_layered(tuple(k * s for s in sizes), c, seed=s))
                for s in range(2)]
        gaps.append(abs(float(np.mean(lmax)) - edge))
    # Tracy–Widom: λ_max - edge = O(N^{-2/3}); N = 275, 1100, 4400; measured gaps 0.099,
    # 0.027, 0.010 (edge 3.7307), each below the edge
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.01 * edge


def test_vectorised_and_symmetric():
    sizes, c = (784, 512, 512, 512, 10), 2.0
    x = np.linspace(-4, 4, 12).reshape(3, 4)
    d = bond_density(sizes, c, x)
    assert d.shape == (3, 4)
    assert np.allclose(d, bond_density(sizes, c, -x), atol=1e-13)
    assert np.allclose(d.ravel(), [bond_density(sizes, c, [v])[0] for v in x.ravel()],
                       atol=1e-13)
    r = bond_density_solve(sizes, c, x)
    frac = np.asarray(sizes) / sum(sizes)
    assert np.allclose(r.layer_density @ frac, r.density)
    assert r.converged and r.residual < 1e-10
    t = coupling_matrix(sizes, c)
    assert np.allclose(np.diag(sizes) @ t, (np.diag(sizes) @ t).T)


@pytest.mark.parametrize("call", [
    lambda: bond_density((0, 5), 2.0, [0.1]),
    lambda: bond_density((5,), 2.0, [0.1]),
    lambda: bond_density((5, 5), -1.0, [0.1]),
    lambda: bond_density((5, 5), float("nan"), [0.1]),
    lambda: bond_density((5, 5, 5), [1.0, 2.0, 3.0], [0.1]),
    lambda: bond_density((5, 5), 2.0, [0.1, float("nan")]),
    lambda: bond_density((5, 5), 2.0, [float("inf")]),
    lambda: bond_density((5, 5), 2.0, []),
    lambda: bond_density((5, 5), 2.0),
    lambda: bond_support_edge((5, -1), 2.0),
    lambda: bond_support_edge((5, 5), 0.0),
    lambda: bond_density_atom((2.5, 3)),
    lambda: bond_stieltjes((5, 5), 2.0, [0.5 + 0j]),
])
def test_bad_input(call):
    with pytest.raises(InvalidInputError):
        call()
