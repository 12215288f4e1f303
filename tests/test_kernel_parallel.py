"""The tabulated composition of xi_function: every evaluation path gives the same bits.

An XiFunction is evaluated by one of three routes, picked by size and by whether numba is
loaded: numpy (a few overlaps in a fresh process), a serial numba loop, and numba's threads
(blocks of overlaps). Each is checked bit for bit against an independent pure-Python
transcription of the per-overlap recursion (cubic Hermite tables composed by Faà di Bruno,
written here from the formulas, one overlap at a time), against each other, and across
numba thread counts. Equality is exact (no tolerance): every step is one correctly rounded
IEEE operation in the same order on every route, so any difference is a bug.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError
from replicasolve.kernels.compose import xi_function

# overlaps that exercise the table's ends (t = 0 and t = 1 cells, ρ clipped to ±1), zero,
# and random interior points
_EDGES = [-1.0, 1.0, 0.0, math.nextafter(1.0, 0.0), math.nextafter(-1.0, 0.0), 0.5, -0.5]


def _overlaps(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([_EDGES, rng.uniform(-1.0, 1.0, n - len(_EDGES))])


def _hermite(tab, j: int, i: int, t: float, h: float) -> float:
    # cubic Hermite on one cell from the values of f^(j) and its slope f^(j+1); at the
    # cell's ends the node value itself, and linear where a slope is infinite (ReLU's
    # integrable singularity at ρ = ±1)
    y0, y1 = float(tab[j, i]), float(tab[j, i + 1])
    if t == 0.0:
        return y0
    if t == 1.0:
        return y1
    m0, m1 = float(tab[j + 1, i]) * h, float(tab[j + 1, i + 1]) * h
    if not (math.isfinite(m0) and math.isfinite(m1)):
        return y0 + t * (y1 - y0)
    t2 = t * t
    t3 = t2 * t
    return (
        (2 * t3 - 3 * t2 + 1) * y0
        + (t3 - 2 * t2 + t) * m0
        + (-2 * t3 + 3 * t2) * y1
        + (t3 - t2) * m1
    )


def _reference(xf, q: np.ndarray) -> np.ndarray:
    """(ξ, ξ', ξ'', ξ''') by the recursion K_{l+1} = b + w f_l(K_l / v_l), one q at a time
    in plain Python floats (the chain rule of Faà di Bruno for the derivatives)."""
    tables = xf._tables
    m = tables.shape[2]
    h = 2.0 / (m - 1)
    out = np.empty((4, q.size))
    for p, qp in enumerate(q):
        k = xf.sigma_b2[0] + xf.sigma_w2[0] * float(qp)
        d1, d2, d3 = xf.sigma_w2[0], 0.0, 0.0
        for layer, v in enumerate(xf.variances):
            rho = min(max(k / v, -1.0), 1.0)
            x = (rho + 1.0) / h
            i = min(int(x), m - 2)
            t = x - i
            f0, f1, f2, f3 = (_hermite(tables[layer], j, i, t, h) for j in range(4))
            a1, a2, a3 = d1 / v, d2 / v, d3 / v
            w = xf.sigma_w2[layer + 1]
            k = xf.sigma_b2[layer + 1] + w * f0
            d3 = w * (f3 * a1 * a1 * a1 + 3.0 * f2 * a1 * a2 + f1 * a3)
            d2 = w * (f2 * a1 * a1 + f1 * a2)
            d1 = w * f1 * a1
        out[:, p] = k, d1, d2, d3
    return out


@pytest.mark.parametrize(
    ("act", "depth"), [("erf", 3), ("relu", 3), ("relu", 10), ("sin", 2), ("erf", 0)]
)
def test_every_size_matches_the_python_recursion_bit_for_bit(act: str, depth: int) -> None:
    xf = xi_function(act, depth, 1.5, 0.1)
    q = _overlaps(300)
    ref = _reference(xf, q)
    # 300 overlaps: the small-input route (numpy or serial numba, whichever this process
    # uses); 300 × 12 = 3600: numba's threads, blocks of 512 with a ragged last block
    small = np.asarray(xf.derivatives(q))
    large = np.asarray(xf.derivatives(np.tile(q, 12)))
    np.testing.assert_array_equal(small, ref)
    for r in range(12):
        np.testing.assert_array_equal(large[:, r * q.size : (r + 1) * q.size], ref)


def test_quadrature_layers_blank_only_the_derivatives_a_kink_forbids() -> None:
    # relu by quadrature: φ'' has a Dirac delta, so ξ'' and ξ''' are NaN and ξ, ξ' are the
    # tables' values (the same recursion)
    xf = xi_function("relu", 2, 1.5, 0.1, tier="quadrature")
    q = _overlaps(100)
    got = np.asarray(xf.derivatives(np.tile(q, 30)))[:, : q.size]
    ref = _reference(xf, q)
    np.testing.assert_array_equal(got[:2], ref[:2])
    assert np.all(np.isnan(got[2:]))


def test_results_do_not_depend_on_the_thread_count() -> None:
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here (NUMBA_NUM_THREADS=1)")
    xf = xi_function("erf", 10, 1.5, 0.1)
    q = _overlaps(50_001, seed=3)
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = np.asarray(xf.derivatives(q))
        one_xi = xf(q)
        numba.set_num_threads(2)
        two = np.asarray(xf.derivatives(q))
        two_xi = xf(q)
    finally:
        numba.set_num_threads(saved)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one_xi, two_xi)
    np.testing.assert_array_equal(one_xi, one[0])


@pytest.mark.parametrize("n", [50, 5000])
def test_xi_alone_and_fewer_derivatives_are_the_same_numbers(n: int) -> None:
    xf = xi_function("relu", 4, 2.0, 0.05)
    q = _overlaps(n)
    full = np.asarray(xf.derivatives(q))
    np.testing.assert_array_equal(xf(q), full[0])
    for highest in range(4):
        part = xf.derivatives(q, highest=highest)
        assert len(part) == highest + 1
        np.testing.assert_array_equal(np.asarray(part), full[: highest + 1])
    with pytest.raises(InvalidInputError, match="highest"):
        xf.derivatives(q, highest=4)


@pytest.mark.parametrize("n", [20, 3000, 40_000])
@pytest.mark.parametrize("bad", [np.nan, 1.0 + 1e-15, -np.inf])
def test_bad_overlaps_are_refused_on_every_route(n: int, bad: float) -> None:
    xf = xi_function("erf", 2, 1.5, 0.1)
    for where in (0, n // 2, n - 1):  # first, inside a block, last
        q = _overlaps(n)
        q[where] = bad
        with pytest.raises(InvalidInputError, match=r"\|q\| <= 1"):
            xf.derivatives(q)
        with pytest.raises(InvalidInputError, match=r"\|q\| <= 1"):
            xf(q)


def test_shapes_are_kept() -> None:
    xf = xi_function("erf", 2, 1.5, 0.1)
    q = _overlaps(6000).reshape(60, 100)
    vals = xf.derivatives(q)
    assert all(v.shape == (60, 100) for v in vals)
    np.testing.assert_array_equal(vals[0].ravel(), xf(q.ravel()))
    assert all(v.shape == (0,) for v in xf.derivatives(np.empty(0)))
    assert np.asarray(xf(0.5)).shape == ()


_FRESH = """
import json, sys
import numpy as np
from replicasolve.kernels.compose import xi_function
q = np.array({q})
xf = xi_function({act!r}, {depth}, 1.5, 0.1)
small = np.asarray(xf.derivatives(q))
# one layer, sigma_b2 = 0: rho = q, so q = ±(1 - 2/4096) sits on the node next to the
# end (t = 0 beside ReLU's infinite slope) and q = ±1 on the end itself
one = xi_function({act!r}, 1, 1.0, 0.0)
ends = np.array([1 - 2 / 4096, 1.0, -1.0, -1 + 2 / 4096])
small_ends = np.asarray(one.derivatives(ends))
loaded = "numba" in sys.modules
large = np.asarray(xf.derivatives(np.tile(q, 70000 // q.size + 1)))[:, : q.size]
large_ends = np.asarray(one.derivatives(np.tile(ends, 20000)))[:, :4]
same = bool(np.array_equal(small, large, equal_nan=True)
            and np.array_equal(small_ends, large_ends, equal_nan=True))
print(json.dumps({{"numba_after_small": loaded, "same": same,
                   "numba_after_large": "numba" in sys.modules}}))
"""


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_numpy_route_of_a_fresh_process_gives_numbas_bits(act: str, tmp_path) -> None:
    # in a fresh process a few overlaps are composed in numpy (numba not even imported);
    # an input above the numpy route's size limit (65536) then loads numba: the two must
    # agree bit for bit
    q = _overlaps(200).tolist()
    env = dict(os.environ, REPLICASOLVE_CACHE_DIR=str(tmp_path))
    code = _FRESH.format(q=repr(q), act=act, depth=6)
    # -W error: the numpy route must not warn where the numba kernel is silent (ReLU's
    # infinite slopes at ρ = ±1)
    run = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got == {"numba_after_small": False, "same": True, "numba_after_large": True}


_CLI = """
import sys
from replicasolve.cli import main
code = main(["kernel", "erf", "--depth", "3", "--sigma-w2", "1.5", "--q=-1,0.25,1", "--json"])
heavy = sorted(m for m in ("sympy", "numba", "scipy.special") if m in sys.modules)
print("HEAVY", ",".join(heavy), code, file=sys.stderr)
"""


def test_cached_kernel_command_needs_neither_sympy_nor_numba(tmp_path) -> None:
    env = dict(os.environ, REPLICASOLVE_CACHE_DIR=str(tmp_path))

    def run() -> tuple[dict, str]:
        done = subprocess.run(
            [sys.executable, "-c", _CLI],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        heavy = [ln for ln in done.stderr.splitlines() if ln.startswith("HEAVY")][-1]
        return json.loads(done.stdout), heavy

    cold, heavy_cold = run()
    warm, heavy_warm = run()
    assert "sympy" in heavy_cold  # the first run derived the tables
    assert heavy_warm == "HEAVY  0"  # the second read them back: no sympy, numba, scipy
    assert warm == cold  # the same numbers and the same expression text
    assert warm["expression"] == "erf(x)"


@pytest.mark.parametrize(
    "formula",
    [
        "relu",
        "tanh",
        "silu",
        "softplus",
        "step",
        "leaky_relu(0.1)",
        "gaussian",
        "abs(x)",
        "tanh(x) + 0.3*sin(2*x)",
        "exp(-abs(x))*sqrt(1 + x**2)",
        "erf",
        "gelu",
        "x*erf(x) + 0.1*sin(3*x)",
    ],
)
def test_activation_callables_are_numpy_and_scipys_functions(formula: str) -> None:
    # the callables are lambdified against numpy alone where numpy has every function
    # they call (no scipy.special import): they must be the very functions that numpy +
    # scipy give, bit for bit, φ, φ' and φ'' on a wide grid
    import sympy as sp

    from replicasolve.kernels.activation import activation

    a = activation(formula)
    x = sp.Symbol("x", real=True)
    heaviside = {"Heaviside": lambda t, h0=0.5: np.heaviside(t, h0)}
    grid = np.linspace(-30.0, 30.0, 20001)
    d1 = sp.diff(a.expr, x)
    exprs = (a.expr, d1, sp.diff(d1, x))  # as activation() forms them
    for expr, got in zip(exprs, (a.phi, a.dphi, a.d2phi), strict=True):
        if got is None:  # a Dirac delta: no pointwise callable
            assert expr.has(sp.DiracDelta)
            continue
        ref = sp.lambdify(x, expr, modules=[heaviside, "numpy", "scipy"])
        with np.errstate(all="ignore"):
            want = np.broadcast_to(np.asarray(ref(grid), dtype=float), grid.shape)
            np.testing.assert_array_equal(got(grid), want)


_NEW = """
import sys
import numpy as np
from replicasolve.kernels.compose import xi_function
from replicasolve.kernels.numeric import compose_depth
from replicasolve.kernels.activation import activation
q = np.linspace(-1, 1, 9)
xi = xi_function("tanh(x) + 0.3*sin(2*x)", 2, 1.5, 0.1)(q)
heavy = sorted(m for m in ("numba", "scipy.special") if m in sys.modules)
ref = compose_depth(activation("tanh(x) + 0.3*sin(2*x)").phi, 2, 1.5, 0.1, q, order=200)
print("HEAVY|" + ",".join(heavy) + "|" + repr(float(np.max(np.abs(xi - ref)))))
"""


def test_a_new_activation_needs_neither_numba_nor_scipy_special(tmp_path) -> None:
    env = dict(os.environ, REPLICASOLVE_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", _NEW],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    _, heavy, diff = done.stdout.strip().splitlines()[-1].split("|")
    assert heavy == ""  # neither was imported for a first use with a few overlaps
    # and the numbers are the pointwise quadrature recursion's: both converge to ~1e-13
    # for this smooth φ at order 200 (1e-10 leaves room for the two methods' own error)
    assert float(diff) < 1e-10
