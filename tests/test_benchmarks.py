"""The benchmark harness (run_all, the BENCH-RESULT line) and the independent baselines.

run_all is tested on fake benchmark scripts in a temporary folder (fast: each is a bare
python process); the independent peer codes are checked against the literature and against
the engine, two independent implementations of the same quantity.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import common  # noqa: E402
import peers  # noqa: E402
import run_all  # noqa: E402

GOOD = {
    "name": "fake",
    "figure": 1.5,
    "figure_unit": "s",
    "baseline": 30.0,
    "baseline_label": "a | pipe",
    "ratio": 20.0,
    "goal": "ratio >= 10",
    "met": True,
}


def _script(folder: Path, name: str, body: str) -> Path:
    path = folder / f"bench_{name}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------
# the result line
# ----------------------------------------------------------------------------------------


def test_result_line_round_trip(capsys):
    common.print_result(**GOOD)
    out = capsys.readouterr().out
    assert out.startswith("BENCH-RESULT {") and out.count("\n") == 1
    assert common.parse_result("noise\n" + out + "more noise\n") == GOOD


def test_result_line_rejects_bad_values():
    with pytest.raises(TypeError):
        common.result_dict(**{**GOOD, "met": "yes"})
    with pytest.raises(ValueError):
        common.result_dict(**{**GOOD, "ratio": float("nan")})
    with pytest.raises(TypeError):
        common.result_dict(**{**GOOD, "figure": None})
    with pytest.raises(ValueError, match="keys"):
        common.parse_result('BENCH-RESULT {"name": "x"}')
    with pytest.raises(ValueError, match="JSON"):
        common.parse_result("BENCH-RESULT {not json")
    assert common.parse_result("no result here") is None


# ----------------------------------------------------------------------------------------
# run_all on fake benchmarks
# ----------------------------------------------------------------------------------------


@pytest.fixture
def fake_benchmarks(tmp_path: Path) -> Path:
    line = json.dumps(GOOD)
    _script(
        tmp_path,
        "ok",
        f"""
        import sys
        # run_all must pass --quick unless --full
        mode = "quick" if "--quick" in sys.argv else "full"
        print("some output")
        print('BENCH-RESULT ' + {line!r}.replace('"fake"', '"ok-' + mode + '"'))
    """,
    )
    _script(
        tmp_path,
        "crash",
        """
        raise RuntimeError("boom in the benchmark")
    """,
    )
    _script(
        tmp_path,
        "slow",
        """
        import time
        print("started", flush=True)
        time.sleep(60)
    """,
    )
    _script(
        tmp_path,
        "silent",
        """
        print("finished, but forgot the result line")
    """,
    )
    return tmp_path


def test_run_all_table_marks_failures(fake_benchmarks: Path, capsys):
    out = fake_benchmarks / "RESULTS.md"
    js = fake_benchmarks / "results.json"
    code = run_all.main(["--dir", str(fake_benchmarks), "--timeout", "4", "--json", str(js)])
    assert code == 1  # not every benchmark succeeded
    text = out.read_text()
    assert "os.cpu_count()" in text and "load average" in text and "numpy" in text
    rows = {
        line.split("|")[1].strip(): line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| benchmark")
    }
    assert set(rows) == {"ok", "crash", "slow", "silent"}  # nothing silently dropped
    assert "1.5 s" in rows["ok"] and "30 s" in rows["ok"] and "20" in rows["ok"]
    assert "a \\| pipe" in rows["ok"] and "| yes |" in rows["ok"]
    assert "**FAILED**" in rows["crash"] and "boom in the benchmark" in rows["crash"]
    assert "**TIMEOUT**" in rows["slow"] and "timed out after 4 s" in rows["slow"]
    assert "**FAILED**" in rows["silent"] and "no BENCH-RESULT" in rows["silent"]
    data = json.loads(js.read_text())
    status = {r["name"]: r["status"] for r in data["rows"]}
    assert status == {"ok": "ok", "crash": "failed", "slow": "timeout", "silent": "failed"}
    ok = next(r for r in data["rows"] if r["name"] == "ok")
    assert ok["result"]["name"] == "ok-quick" and ok["mode"] == "quick"


def test_run_all_full_and_only(fake_benchmarks: Path):
    out = fake_benchmarks / "only.md"
    code = run_all.main(
        ["--dir", str(fake_benchmarks), "--only", "ok", "--full", "--out", str(out)]
    )
    assert code == 0
    text = out.read_text()
    assert "| ok | full |" in text and "crash" not in text
    row = run_all.run_one(fake_benchmarks / "bench_ok.py", quick=False, timeout=30)
    assert row.result is not None and row.result["name"] == "ok-full"


def test_run_all_refuses_bad_arguments(fake_benchmarks: Path, capsys):
    assert run_all.main(["--dir", str(fake_benchmarks), "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown benchmark(s) nope" in err
    assert run_all.main(["--dir", str(fake_benchmarks), "--timeout", "0"]) == 2
    assert run_all.main(["--dir", str(fake_benchmarks / "none")]) == 2


# ----------------------------------------------------------------------------------------
# every benchmark script follows the convention (static check: importing them is slow)
# ----------------------------------------------------------------------------------------

SCRIPTS = sorted(BENCH.glob("bench_*.py"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_benchmark_has_quick_and_result_line(path: Path):
    src = path.read_text(encoding="utf-8")
    assert re.search(r"add_quick\(|[\"']--quick[\"']", src), f"{path.name}: no --quick flag"
    assert "print_result(" in src or "BENCH-RESULT" in src, f"{path.name}: no BENCH-RESULT"


def test_the_scripts_are_all_found():
    assert len(SCRIPTS) >= 10 and (BENCH / "bench_tap_beta_c.py") in SCRIPTS


# ----------------------------------------------------------------------------------------
# the independent T = 0 Parisi code of the SK baseline
# ----------------------------------------------------------------------------------------


def test_sk_1rsb_ground_state_matches_literature_and_engine():
    r = peers.sk_t0_step(1)
    assert r.finished
    # Parisi's 1RSB ground state of SK, -0.7652… (Parisi 1979; quoted to four digits, as
    # in tests/test_parisi_ising.py)
    assert -0.76530 < r.energy < -0.76520
    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers import RSB, solve

    eng = solve(MixedPSpin("q**2/2", spins="ising", T=0.0), RSB(1))
    # two independent codes (spline + Gauss-Hermite here, the engine's grid PDE there) of a
    # smooth 2-parameter minimum; each is good to ~1e-9 (the peer's defaults: see the next
    # test), so 1e-8 leaves a margin of 10 and would catch any formula slip
    assert abs(r.energy - eng.free_energy) < 1e-8
    assert abs(r.q[0] - eng.q[0]) < 1e-4  # a flat minimum: q only to ~sqrt(1e-9)


def test_sk_t0_functional_against_nested_quadrature():
    from scipy import integrate

    q = np.array([0.3214, 0.8495])
    m = np.array([0.835, 2.74])
    got = peers.sk_t0_parisi(q, m)

    # the same 2-step functional by nested adaptive quadrature (no spline, no fixed nodes)
    def gauss(f):
        return integrate.quad(
            lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
            -12,
            12,
            epsabs=1e-14,
            epsrel=1e-13,
            limit=200,
        )[0]

    s2 = np.sqrt(q[1] - q[0])
    s_top = np.sqrt(1 - q[1])

    def psi1(x):
        return (
            np.log(
                gauss(lambda z: np.exp(m[0] * peers._top_level(np.array(x + s2 * z), s_top, m[1])))
            )
            / m[0]
        )

    want = gauss(lambda z: psi1(np.sqrt(q[0]) * z)) - 0.25 * (
        m[0] * (q[1] ** 2 - q[0] ** 2) + m[1] * (1 - q[1] ** 2)
    )
    # the peer's defaults (96 nodes, spline step 0.02) are good to ~1e-9 here (measured
    # against this quadrature: 6e-10); 48 nodes would be off by 1e-7 and fail
    assert abs(got - want) < 3e-9


def test_top_level_closed_form():
    # (1/m) log E exp(m|x + s z|) against quadrature, including x far out where the two
    # log-terms differ by many orders of magnitude
    from scipy import integrate

    for x, s, m in ((0.0, 0.7, 1.3), (2.5, 0.3, 4.0), (-9.0, 1.0, 0.4)):
        val = integrate.quad(
            lambda z, x=x, s=s, m=m: np.exp(m * abs(x + s * z) - z * z / 2),
            -40,
            40,
            points=[-x / s],
            epsrel=1e-13,
            epsabs=0,
        )[0]
        want = np.log(val / np.sqrt(2 * np.pi)) / m
        assert abs(float(peers._top_level(np.array(x), s, m)) - want) < 1e-11


# ----------------------------------------------------------------------------------------
# the other independent baselines agree with the engine
# ----------------------------------------------------------------------------------------


def test_tap_operator_and_brent_baseline():
    from replicasolve.tap.bonds import random_layered
    from replicasolve.tap.critical import tap_critical
    from replicasolve.tap.matrix import tap_matrix

    bonds = random_layered([60, 40, 30], 2.0, seed=3)
    x = np.random.default_rng(0).standard_normal(bonds.n)
    dense = tap_matrix(bonds, 0.7)
    op = peers.tap_operator(list(bonds.weights), 0.7)
    # a sum of ~100 products of O(1) numbers: rounding ~1e-14
    assert np.max(np.abs(dense @ x - op.matvec(x))) < 1e-12
    lam = np.linalg.eigvalsh(dense)[0]
    for solver in ("eigh", "eigsh"):
        assert abs(peers.smallest_eigenvalue(dense, solver)[0] - lam) < 1e-12
    with pytest.raises(ValueError, match="unknown solver"):
        peers.smallest_eigenvalue(dense, "magic")

    eng = tap_critical(bonds, rtol=1e-10)
    base = peers.beta_c_brent(
        lambda b: peers.tap_operator(list(bonds.weights), b), (0.3, 3.0), 1e-10, "eigsh"
    )
    assert base.converged
    # Brent on a minimum stops within ~2 sqrt(eps)|β| of it: 1e-8 relative is that bound
    assert abs(base.beta_c - eng.beta_c) / eng.beta_c < 1e-8


def test_xi_gauss_hermite_against_engine():
    from replicasolve.kernels.compose import xi_function

    def phi(x):
        return np.tanh(x)

    def dphi(x):
        return 1 - np.tanh(x) ** 2

    def d2phi(x):
        t = np.tanh(x)
        return -2 * t * (1 - t * t)

    q = np.linspace(-1, 1, 41)
    got = peers.xi_gauss_hermite(phi, dphi, d2phi, 3, 1.5, 0.1, q, 200, chunk=7)
    want = xi_function("tanh", 3, 1.5, 0.1).derivatives(q)
    # the tensor grid converges slowly for tanh (poles at ±iπ/2): against the engine, ξ''
    # is off by 3e-4 at order 64, 5e-7 at 128, and 5e-10 at 200 and at 300 alike (there the
    # engine's own ~1e-9 is what is left); 5e-9 is ten times that floor
    for g, w in zip(got, want[:3], strict=True):
        assert np.max(np.abs(g - w)) < 5e-9
