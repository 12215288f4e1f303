"""Tests of the symbolic MSK derivation (replicasolve.symbolic.msk) and its script."""

from __future__ import annotations

import math
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from replicasolve.errors import InvalidInputError
from replicasolve.symbolic import msk

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "derivations" / "msk_critical_temperature.py"


def path_adjacency(n: int) -> np.ndarray:
    return np.eye(n, k=1) + np.eye(n, k=-1)


def numeric_subs(sym: msk.LayerSymbols, alpha, C, beta=None) -> dict:
    values = {**dict(zip(sym.alpha, alpha, strict=True)), **dict(zip(sym.C, C, strict=True))}
    if beta is not None:
        values[sym.beta] = beta
    return values


def to_array(matrix: sp.MatrixBase) -> np.ndarray:
    return np.array(matrix.tolist(), dtype=float)


# ---------------------------------------------------------------------------------------
# Step 1: disorder average
# ---------------------------------------------------------------------------------------


def test_disorder_average_is_gaussian_moment_generating_function():
    da = msk.disorder_average_exponent()
    expected = sp.exp(da.beta**2 * da.sigma**2 * da.x**2 / 2)
    assert sp.simplify(da.average - expected) == 0
    assert sp.simplify(da.pair_coefficient - da.beta**2 * da.C * da.alpha) == 0
    assert sp.simplify(da.annealed_per_replica - da.beta**2 * da.C * da.alpha / 2) == 0


def test_pair_coefficient_reproduces_brute_force_replica_sum(rng):
    # Independent numeric bookkeeping: for explicit replicated spins, the disorder-averaged
    # exponent β²σ²/2 Σ_ij x_ij² must equal N [n·annealed + Σ_{a<b} pair · q^l_ab q^{l-1}_ab].
    da = msk.disorder_average_exponent()
    n_rep, n_out, n_in, N = 4, 5, 7, 12
    beta, C = 0.8, 1.7
    alpha = n_out / N
    s_out = rng.choice([-1.0, 1.0], size=(n_out, n_rep))
    s_in = rng.choice([-1.0, 1.0], size=(n_in, n_rep))
    x = s_out @ s_in.T  # x[i, j] = Σ_a s_out[i, a] s_in[j, a]
    brute = beta**2 * (C / n_in) / 2 * np.sum(x**2)
    q_out, q_in = s_out.T @ s_out / n_out, s_in.T @ s_in / n_in
    values = {da.beta: beta, da.C: C, da.alpha: alpha}
    pair = float(da.pair_coefficient.subs(values))
    annealed = float(da.annealed_per_replica.subs(values))
    upper = np.triu_indices(n_rep, k=1)
    theory = N * (n_rep * annealed + pair * np.sum(q_out[upper] * q_in[upper]))
    assert brute == pytest.approx(theory, rel=1e-12)


# ---------------------------------------------------------------------------------------
# Step 2: entropy
# ---------------------------------------------------------------------------------------


def test_entropy_series_matches_independent_taylor_expansion():
    # (1+q)ln(1+q) + (1-q)ln(1-q) = Σ_{k≥1} q^{2k} / (k(2k-1)), so the q^{2k} coefficient of
    # s(q) is -1/(2k(2k-1)): -1/2, -1/12, -1/30, -1/56, -1/90.
    ent = msk.ising_overlap_entropy(order=10)
    for k in range(1, 6):
        assert ent.series.coeff(ent.q, 2 * k) == sp.Rational(-1, 2 * k * (2 * k - 1))
        assert ent.series.coeff(ent.q, 2 * k - 1) == 0
    assert msk.ising_overlap_entropy().series == -(ent.q**2) / 2 - ent.q**4 / 12


def test_entropy_exact_form_and_legendre_conjugate():
    ent = msk.ising_overlap_entropy()
    exact = sp.lambdify(ent.q, ent.exact, "math")
    conjugate = sp.lambdify(ent.q, ent.conjugate, "math")
    for q in (-0.95, -0.4, 1e-3, 0.3, 0.9):
        by_hand = -((1 + q) / 2 * math.log1p(q) + (1 - q) / 2 * math.log1p(-q))
        # sympy's form takes logs of numbers near 1 (absolute error ~ε) while s(q) ~ q²/2,
        # so near q = 0 only an absolute tolerance is meaningful.
        assert exact(q) == pytest.approx(by_hand, rel=1e-13, abs=1e-14)
        assert conjugate(q) == pytest.approx(math.atanh(q), rel=1e-13)


@pytest.mark.parametrize("order", [0, 1, 41, 2.0, True, "4"])
def test_entropy_rejects_bad_order(order):
    with pytest.raises(InvalidInputError):
        msk.ising_overlap_entropy(order=order)


# ---------------------------------------------------------------------------------------
# Steps 3-4: action, Hessian, K
# ---------------------------------------------------------------------------------------


def test_action_expression():
    action = msk.rs_quadratic_action(3)
    q, a, C, b = action.q, action.alpha, action.C, action.beta
    expected = -(a[0] * q[0] ** 2 + a[1] * q[1] ** 2 + a[2] * q[2] ** 2) / 2 + b**2 * (
        C[0] * a[1] * q[1] * q[0] + C[1] * a[2] * q[2] * q[1]
    )
    assert sp.expand(action.expr - expected) == 0


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_hessian_tridiagonal_entries_and_finite_difference(n, rng):
    action = msk.rs_quadratic_action(n)
    sym = action.symbols
    H = msk.rs_hessian(n)
    for i in range(n):
        assert sp.simplify(H[i, i] + sym.alpha[i]) == 0
        for j in range(n):
            if abs(i - j) > 1:
                assert H[i, j] == 0
            if i - j == 1:
                assert sp.simplify(H[i, j] - sym.beta**2 * sym.C[i - 1] * sym.alpha[i]) == 0
                assert H[j, i] == H[i, j]

    alpha = rng.uniform(0.2, 2.0, n)
    C = rng.uniform(0.5, 3.0, n - 1)
    beta = 0.9
    S = sp.lambdify([sym.q], action.expr.subs(numeric_subs(sym, alpha, C, beta)), "numpy")
    # The action is quadratic, so central differences are exact up to rounding,
    # ~ε|S|/h² ≈ 1e-10 with h = 1e-3.
    h = 1e-3
    q0 = rng.uniform(-0.3, 0.3, n)
    fd = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            fd[i, j] = (S(q0 + ei + ej) - S(q0 + ei - ej) - S(q0 - ei + ej) + S(q0 - ei - ej)) / (
                4 * h * h
            )
    exact = to_array(H.subs(numeric_subs(sym, alpha, C, beta)))
    np.testing.assert_allclose(fd, exact, rtol=0, atol=1e-7)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_critical_condition_matrix_entries_and_congruence(n, rng):
    sym = msk.layer_symbols(n)
    K = msk.critical_condition_matrix(n)
    for i in range(n):
        assert K[i, i] == 0
        for j in range(i + 2, n):
            assert K[i, j] == 0 and K[j, i] == 0
    for l in range(1, n):
        expected = sym.C[l - 1] * sp.sqrt(sym.alpha[l] / sym.alpha[l - 1])
        assert sp.simplify(K[l, l - 1] - expected) == 0
        assert K[l - 1, l] == K[l, l - 1]

    # diag(α)^{1/2} (I - β² K) diag(α)^{1/2} must give back -Hessian.
    alpha = rng.uniform(0.2, 2.0, n)
    C = rng.uniform(0.5, 3.0, n - 1)
    beta = 0.7
    Kn = to_array(K.subs(numeric_subs(sym, alpha, C)))
    Hn = to_array(msk.rs_hessian(n).subs(numeric_subs(sym, alpha, C, beta)))
    root = np.diag(np.sqrt(alpha))
    np.testing.assert_allclose(root @ (np.eye(n) - beta**2 * Kn) @ root, -Hn, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 6),
    alpha=st.lists(st.floats(0.05, 20.0), min_size=6, max_size=6),
    C=st.lists(st.floats(0.1, 5.0), min_size=5, max_size=5),
)
def test_lambda_max_of_K_is_generalized_eigenvalue_of_hessian(n, alpha, C):
    # β_c^{-2} from K must equal the largest μ with M v = μ diag(α) v, i.e. the first β at
    # which det(diag(α) - β² M) = 0, built here directly from the model.
    alpha, C = np.array(alpha[:n]), np.array(C[: n - 1])
    sym = msk.layer_symbols(n)
    Kn = to_array(msk.critical_condition_matrix(n).subs(numeric_subs(sym, alpha, C)))
    off = C * alpha[1:]
    M = np.diag(off, 1) + np.diag(off, -1)
    mu = linalg.eigh(M, np.diag(alpha), eigvals_only=True)[-1]
    assert np.linalg.eigvalsh(Kn)[-1] == pytest.approx(mu, rel=1e-10)


def test_bipartite_unequal_sizes():
    sym = msk.layer_symbols(2)
    K = msk.critical_condition_matrix(2)
    eigenvalues = list(K.eigenvals())
    expected = sym.C[0] * sp.sqrt(sym.alpha[1] / sym.alpha[0])
    assert any(sp.simplify(e - expected) == 0 for e in eigenvalues)
    assert any(sp.simplify(e + expected) == 0 for e in eigenvalues)
    for a0, a1, c in [(0.25, 0.75, 2.0), (2.0, 0.5, 1.0), (1.0, 3.0, 0.7)]:
        Kn = to_array(K.subs(numeric_subs(sym, (a0, a1), (c,))))
        assert np.linalg.eigvalsh(Kn)[-1] == pytest.approx(c * math.sqrt(a1 / a0), rel=1e-14)


@pytest.mark.parametrize("bad", [0, 1, -3, 2.0, True, "3", None])
def test_layer_count_validation(bad):
    for func in (msk.rs_quadratic_action, msk.rs_hessian, msk.critical_condition_matrix):
        with pytest.raises(InvalidInputError):
            func(bad)


def test_numpy_integer_layer_count_accepted():
    assert msk.rs_hessian(np.int64(3)).shape == (3, 3)


# ---------------------------------------------------------------------------------------
# Steps 5-6: identical layers
# ---------------------------------------------------------------------------------------


def test_identical_layer_eigenpairs_numerically():
    spec = msk.identical_layer_spectrum()
    vec = sp.lambdify((spec.L, spec.k, spec.l), spec.eigenvector, "numpy")
    val = sp.lambdify((spec.L, spec.k, spec.C), spec.eigenvalue, "numpy")
    C = 1.3
    for L in range(1, 9):
        K = C * path_adjacency(L + 1)
        found = []
        for k in range(1, L + 2):
            v = vec(L, k, np.arange(L + 1))
            np.testing.assert_allclose(K @ v, val(L, k, C) * v, atol=1e-13)
            found.append(val(L, k, C))
        # L + 1 distinct eigenvalues: the whole spectrum, not a subset.
        np.testing.assert_allclose(np.sort(found), np.linalg.eigvalsh(K), atol=1e-13)


def test_closed_form_tc_vs_eigvalsh():
    tc = msk.critical_temperature_identical()
    f = sp.lambdify((tc.L, tc.C), tc.T_c, "math")
    for C in (0.5, 1.0, 2.0, 3.0):
        for L in range(1, 9):
            # eigvalsh is backward stable: |Δλ| ≲ n ε ‖K‖ ≈ 9 · 2.2e-16 · 6 ≈ 1e-14, and the
            # square root halves the relative error, so 1e-12 leaves a wide margin while a
            # wrong formula (e.g. cos(π/(L+1))) misses by > 1e-2.
            lam_max = np.linalg.eigvalsh(C * path_adjacency(L + 1))[-1]
            assert abs(f(L, C) - math.sqrt(lam_max)) < 1e-12


def test_deep_limit_and_two_layers():
    tc = msk.critical_temperature_identical()
    assert sp.simplify(msk.deep_limit() - sp.sqrt(2 * tc.C)) == 0
    assert sp.simplify(tc.two_layers - sp.sqrt(tc.C)) == 0
    assert sp.simplify(tc.T_c.subs(tc.L, 2) - 2 ** sp.Rational(1, 4) * sp.sqrt(tc.C)) == 0
    for L, C in [(1, 2), (5, 0.5), (40, 3)]:
        assert float((tc.T_c * tc.beta_c).subs({tc.L: L, tc.C: C})) == pytest.approx(1, rel=1e-14)


@pytest.mark.parametrize("L", range(1, 7))
def test_explicit_determinant_root_matches_closed_form(L):
    res = msk.critical_temperature_explicit(L)
    C = sp.Symbol("C", positive=True)
    for c in (sp.Rational(1, 3), 2):
        diff = (res.T_c - sp.sqrt(2 * C * sp.cos(sp.pi / (L + 2)))).subs(C, c)
        assert abs(diff.evalf(50)) < 1e-45
    # The determinant polynomial is det(I - u A): compare with numpy at a few u.
    poly = sp.lambdify(res.u, res.polynomial, "math")
    A = path_adjacency(L + 1)
    for u in (0.1, 0.37, 0.8):
        assert poly(u) == pytest.approx(np.linalg.det(np.eye(L + 1) - u * A), abs=1e-12)


@pytest.mark.parametrize("bad", [0, -1, msk.MAX_EXPLICIT_L + 1, 1.5, True])
def test_explicit_rejects_bad_depth(bad):
    with pytest.raises(InvalidInputError):
        msk.critical_temperature_explicit(bad)


# ---------------------------------------------------------------------------------------
# Import cost and the derivation script
# ---------------------------------------------------------------------------------------


def test_symbolic_package_import_does_not_load_sympy():
    code = "import sys, replicasolve.symbolic; print('sympy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_derivation_script_runs_cleanly():
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
    assert "FAIL" not in out.stdout


def test_derivation_script_fails_loudly(monkeypatch, capsys):
    # A wrong deep limit must make main() exit with status 1 (the script is a real check).
    namespace = runpy.run_path(str(SCRIPT), run_name="derivation_under_test")
    C = sp.Symbol("C", positive=True)
    monkeypatch.setattr(msk, "deep_limit", lambda: sp.sqrt(3 * C))
    with pytest.raises(SystemExit) as excinfo:
        namespace["main"]()
    assert excinfo.value.code == 1
    assert "FAIL" in capsys.readouterr().out
