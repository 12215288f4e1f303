"""sympy → numba code generation: values, derivatives, hashing, on-disk caching."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from replicasolve.errors import InvalidInputError
from replicasolve.symbolic.codegen import compile_expressions, value_gradient_hessian

q, x, y, z = sp.symbols("q x y z", real=True)
XI = q**2 / 2 + sp.Rational(3, 10) * q**3 + sp.exp(-q) * sp.sin(q)


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """One private cache directory for the whole module (compiled objects are reused)."""
    path = tmp_path_factory.mktemp("rs_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPLICASOLVE_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def xi_vgh():
    return value_gradient_hessian(XI, [q], name="xi")


def _cse_heavy():
    r = sp.sqrt(x**2 + y**2 + 1)
    g = sp.exp(-(r**2) / 2) * sp.erf(x * y / r)
    return {
        "a": g * sp.log(r) + sp.sin(r) ** 2,
        "b": g / r + sp.cos(r) * sp.erfc(z * r),
        "c": sp.tanh(g) + sp.atan2(y, x) + sp.gamma(1 + z**2),
    }


@pytest.fixture(scope="module")
def cse_funcs():
    return compile_expressions(_cse_heavy(), [x, y, z], name="cse")


@pytest.fixture(scope="module")
def vgh3():
    f = sp.exp(-x * y) * sp.sqrt(1 + z**2) + sp.erf(x + z) * y**3 + sp.log(1 + x**2 * y**2)
    return f, value_gradient_hessian(f, [x, y, z])


def _points(rng, n, k):
    return [rng.uniform(-1.5, 1.5, size=n) for _ in range(k)]


# --------------------------------------------------------------------------- values


def test_xi_value_and_derivatives_match_sympy(xi_vgh):
    qs = np.random.default_rng(0).uniform(-2, 2, size=50)
    f, g, h = xi_vgh(qs)
    assert f.shape == (50,) and g.shape == (50, 1) and h.shape == (50, 1, 1)
    ref = [sp.lambdify(q, e, "numpy") for e in (XI, XI.diff(q), XI.diff(q, 2))]
    np.testing.assert_allclose(f, ref[0](qs), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(g[:, 0], ref[1](qs), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(h[:, 0, 0], ref[2](qs), rtol=1e-13, atol=1e-14)
    # against arbitrary-precision evalf at one point
    q0 = 0.7310585786
    assert f[0] == pytest.approx(float(XI.subs(q, qs[0]).evalf(30)), rel=1e-14)
    assert xi_vgh.value(q0) == pytest.approx(float(XI.subs(q, q0).evalf(30)), rel=1e-14)


def test_xi_derivatives_match_finite_differences(xi_vgh):
    qs = np.linspace(-1.0, 1.5, 11)
    eps = 1e-5
    fp, gp, _ = xi_vgh(qs + eps)
    fm, gm, _ = xi_vgh(qs - eps)
    _, g, h = xi_vgh(qs)
    np.testing.assert_allclose(g[:, 0], (fp - fm) / (2 * eps), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(h[:, 0, 0], (gp - gm)[:, 0] / (2 * eps), rtol=1e-8, atol=1e-9)


def test_cse_heavy_mapping_matches_lambdify(cse_funcs):
    exprs = _cse_heavy()
    assert cse_funcs.names == ("a", "b", "c")
    assert cse_funcs.args == ("x", "y", "z")
    pts = _points(np.random.default_rng(1), 40, 3)
    out = cse_funcs(*pts)
    assert isinstance(out, dict) and set(out) == {"a", "b", "c"}
    for key, e in exprs.items():
        ref = sp.lambdify([x, y, z], e, modules=["numpy", "scipy"])
        np.testing.assert_allclose(out[key], ref(*pts), rtol=1e-12, atol=1e-14)
    source = cse_funcs.source_path.read_text()
    # the shared square root is computed once
    assert source.count("math.sqrt(") == 1
    assert "t0 = " in source


def test_gradient_hessian_match_sympy_and_finite_differences(vgh3):
    f, vgh = vgh3
    args = [x, y, z]
    pts = _points(np.random.default_rng(2), 30, 3)
    val, grad, hess = vgh(*pts)
    assert grad.shape == (30, 3) and hess.shape == (30, 3, 3)
    np.testing.assert_allclose(hess, np.swapaxes(hess, -1, -2))
    ref_f = sp.lambdify(args, f, modules=["numpy", "scipy"])
    np.testing.assert_allclose(val, ref_f(*pts), rtol=1e-12)
    for i, a in enumerate(args):
        ref_g = sp.lambdify(args, f.diff(a), modules=["numpy", "scipy"])
        np.testing.assert_allclose(grad[:, i], ref_g(*pts), rtol=1e-11, atol=1e-13)
        for j, b in enumerate(args):
            ref_h = sp.lambdify(args, f.diff(a, b), modules=["numpy", "scipy"])
            np.testing.assert_allclose(
                hess[:, i, j], np.broadcast_to(ref_h(*pts), (30,)), rtol=1e-11, atol=1e-13
            )
    eps = 1e-6
    for i in range(3):
        plus = [p + (eps if k == i else 0.0) for k, p in enumerate(pts)]
        minus = [p - (eps if k == i else 0.0) for k, p in enumerate(pts)]
        fp, gp, _ = vgh(*plus)
        fm, gm, _ = vgh(*minus)
        np.testing.assert_allclose(grad[:, i], (fp - fm) / (2 * eps), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(hess[:, :, i], (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-6)


def test_piecewise_max_min_heaviside_abs():
    exprs = [
        sp.Piecewise((x**2, x > 0), (-x, True)),
        sp.Max(x, y) + sp.Min(x, y, 0),
        sp.Heaviside(x) * y + sp.Abs(y) + sp.sign(x),
    ]
    fn = compile_expressions(exprs, [x, y])
    pts = [np.array([-1.3, -0.2, 0.4, 1.7]), np.array([0.5, -0.7, 1.1, -0.3])]
    out = fn(*pts)
    assert isinstance(out, tuple) and len(out) == 3
    xs, ys = pts
    np.testing.assert_allclose(out[0], np.where(xs > 0, xs**2, -xs))
    np.testing.assert_allclose(out[1], np.maximum(xs, ys) + np.minimum(np.minimum(xs, ys), 0))
    np.testing.assert_allclose(out[2], (xs > 0) * ys + np.abs(ys) + np.sign(xs))


def test_broadcasting_and_scalars(xi_vgh, cse_funcs):
    a = np.linspace(0.1, 1.0, 3)[:, None]
    b = np.linspace(-1.0, 1.0, 4)
    out = cse_funcs(a, b, 0.5)
    assert out["a"].shape == (3, 4)
    single = cse_funcs(float(a[2, 0]), float(b[1]), 0.5)
    assert single["b"].shape == ()
    assert single["b"] == pytest.approx(out["b"][2, 1], rel=1e-15)
    f, g, h = xi_vgh(0.25)
    assert f.shape == () and g.shape == (1,) and h.shape == (1, 1)
    empty = cse_funcs(np.zeros(0), 1.0, 2.0)
    assert empty["c"].shape == (0,)


# --------------------------------------------------------------------------- hashing, files


def test_same_expressions_same_hash_and_module(xi_vgh, cache):
    again = value_gradient_hessian(XI, [q])
    assert again.hash == xi_vgh.hash and len(again.hash) == 64
    assert again.source_path == xi_vgh.source_path
    assert again.compiled.kernel is xi_vgh.compiled.kernel  # memoised in-process
    assert xi_vgh.source_path.parent == cache / "codegen"
    assert xi_vgh.source_path.name == f"rs_{xi_vgh.hash}.py"
    other = value_gradient_hessian(XI + q**4, [q])
    assert other.hash != xi_vgh.hash and other.source_path != xi_vgh.source_path
    # argument order is part of the identity
    f1 = compile_expressions([x - y], [x, y])
    f2 = compile_expressions([x - y], [y, x])
    assert f1.hash != f2.hash
    assert f1(3.0, 1.0)[0] == 2.0 and f2(3.0, 1.0)[0] == -2.0
    # no temporary files are left behind by the atomic write
    assert not list((cache / "codegen").glob("*.tmp"))


def test_cache_dir_env(monkeypatch, tmp_path):
    from replicasolve.jit import cache_dir

    monkeypatch.setenv("REPLICASOLVE_CACHE_DIR", str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a" and (tmp_path / "a").is_dir()
    fn = compile_expressions([x + 1], [x])
    assert fn.source_path.parent == tmp_path / "a" / "codegen"
    assert fn(1.0)[0] == 2.0
    monkeypatch.delenv("REPLICASOLVE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "replicasolve"


_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numba  # noqa: F401  (import cost excluded from the timing)
    import sympy as sp
    from replicasolve.symbolic.codegen import value_gradient_hessian
    x, y, z = sp.symbols("x y z", real=True)
    f = sp.exp(-x * y * z) * sp.erf(x + y) + sp.sqrt(1 + x**2 + z**4) * sp.sin(x * z) ** 3
    t = time.perf_counter()
    vgh = value_gradient_hessian(f, [x, y, z])
    v = vgh(0.1, 0.2, 0.3)
    elapsed = time.perf_counter() - t
    stats = vgh.compiled.loop.stats
    print(json.dumps({"t": elapsed, "path": str(vgh.source_path),
                      "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values()),
                      "value": float(v[0])}))
    """
)


def test_second_process_reuses_numba_disk_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["REPLICASOLVE_CACHE_DIR"] = str(tmp_path)

    def run():
        res = subprocess.run(
            [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(res.stdout.strip().splitlines()[-1])

    first = run()
    pycache = tmp_path / "codegen" / "__pycache__"
    assert first["misses"] >= 1 and first["hits"] == 0
    assert list(pycache.glob("rs_*.kernel-*.nbi")) and list(pycache.glob("rs_*.kernel-*.nbc"))
    assert list(pycache.glob("rs_*.loop-*.nbi")) and list(pycache.glob("rs_*.loop-*.nbc"))
    second = run()
    assert second["path"] == first["path"]
    assert second["hits"] >= 1 and second["misses"] == 0
    assert second["value"] == first["value"]
    assert second["t"] < first["t"]


def test_import_replicasolve_does_not_import_numba():
    code = (
        "import sys, replicasolve, replicasolve.symbolic.codegen; "
        "assert 'numba' not in sys.modules, 'numba imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- errors


def test_free_symbol_not_in_args():
    with pytest.raises(InvalidInputError, match=r"not in args: y, z"):
        compile_expressions([x + y * z], [x])
    with pytest.raises(InvalidInputError, match="different assumptions"):
        compile_expressions([x], [sp.Symbol("x")])
    with pytest.raises(InvalidInputError, match="not in args: y"):
        value_gradient_hessian(x * y, [x])


def test_unsupported_functions_rejected():
    with pytest.raises(InvalidInputError, match="besselj"):
        compile_expressions([sp.besselj(0, x)], [x])
    with pytest.raises(InvalidInputError, match="not supported"):
        compile_expressions([sp.Function("g")(x)], [x])
    with pytest.raises(InvalidInputError, match="default"):
        compile_expressions([sp.Piecewise((x, x > 0))], [x])
    with pytest.raises(InvalidInputError, match="complex"):
        compile_expressions([sp.I * x], [x])
    with pytest.raises(InvalidInputError, match="Derivative"):
        compile_expressions([sp.Derivative(sp.sin(x) * sp.Function("h")(x), x)], [x])


def test_bad_arguments(cse_funcs):
    with pytest.raises(InvalidInputError, match="expected 3 arrays"):
        cse_funcs(1.0, 2.0)
    with pytest.raises(InvalidInputError, match="distinct"):
        compile_expressions([x], [x, sp.Symbol("x")])
    with pytest.raises(InvalidInputError, match="Symbols"):
        compile_expressions([x], [x + 1])
    with pytest.raises(InvalidInputError, match="broadcastable"):
        cse_funcs(np.zeros(2), np.zeros(3), 0.0)
