"""CLI ``replicasolve landscape``."""

from __future__ import annotations

import json
import math

import pytest

from replicasolve.cli import main
from replicasolve.models.landscape import linear_landscape
from replicasolve.solvers.landscape import solve_landscape


def _status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return int(exc.code)


def test_entropy_of_linear_network(capsys) -> None:
    # S(E) = ½ ln(1 - E²/a) with a = σ_w^{2(L+1)} (derivations/linear_mlp_landscape.py)
    argv = ["landscape", "entropy", "--activation", "x", "--depth", "1", "--sigma-w2", "0.8",
            "--E", "-0.5", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["entropy"] == pytest.approx(linear_landscape(0.64, E=-0.5)["entropy_at_E"],
                                           abs=1e-8)


def test_solve_reports_character_and_criterion(capsys) -> None:
    argv = ["landscape", "--activation", "x", "--depth", "0", "--sigma-w2", "2", "--T", "1",
            "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["character"] == "RS"
    assert "replicon" in out["criterion"]
    assert out["result"]["free_energy"] == pytest.approx(
        linear_landscape(2.0, T=1.0)["free_energy"], abs=1e-10)
    assert math.isfinite(out["result"]["energy"])


@pytest.mark.parametrize("argv", [
    ["landscape", "--activation", "banana", "--depth", "1", "--T", "1"],
    ["landscape", "--activation", "tanh", "--depth", "-1", "--T", "1"],
    ["landscape", "--activation", "tanh", "--depth", "1", "--sigma-w2", "-1", "--T", "1"],
    ["landscape", "--activation", "tanh", "--depth", "1", "--T", "-1"],
    ["landscape", "--activation", "tanh", "--depth", "1"],
    ["landscape", "entropy", "--activation", "x", "--depth", "1", "--sigma-w2", "0.8",
     "--E", "-0.9"],
])
def test_bad_input_one_line(capsys, argv) -> None:
    assert _status(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1


def test_finite_width_solve(capsys) -> None:
    # the CLI routes --alpha to finite_width_rs; α = 1e6 must sit on the Gaussian limit
    # (O(1/α) correction, tests/test_finite_width.py)
    from replicasolve.models.landscape import RandomMLPLandscape

    argv = ["landscape", "--activation", "tanh", "--depth", "1", "--sigma-w2", "1.5",
            "--alpha", "1e6", "--T", "0.8", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    ref = solve_landscape(RandomMLPLandscape("tanh", 1, 1.5, 0.0), 0.8, method="rs")
    assert out["free_energy"] == pytest.approx(ref.free_energy, abs=1e-6)
    assert _status(["landscape", "entropy", "--activation", "tanh", "--depth", "1",
                    "--alpha", "2", "--E", "-0.3"]) == 2


def test_finite_width_stability(capsys) -> None:
    # sin, σ_w² = 2, α = 4, T = 0.5: replicon < 0 and a 1RSB gain (tests/test_finite_width_rsb)
    argv = ["landscape", "--activation", "sin", "--depth", "1", "--sigma-w2", "2",
            "--alpha", "4", "--T", "0.5", "--stability", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replicon"] < 0 and out["one_rsb_gain"] > 5e-5
    assert out["character"] == "RSB"
    assert _status(["landscape", "--activation", "sin", "--depth", "1", "--T", "0.5",
                    "--stability"]) == 2


@pytest.mark.parametrize("activation,alpha,T,expected", [
    # sin, L = 2, α = 1, T = 0.3: Λ > 0 but the first layer pivot < 0, so RS is unstable
    # (derivations/finite_width_deep_replicon.py); tanh, L = 2, α = 2, T = 0.3: stable
    ("sin", 1, 0.3, "RSB"),
    ("tanh", 2, 0.3, "RS"),
])
def test_finite_width_stability_at_depth_two(capsys, activation, alpha, T, expected) -> None:
    from replicasolve.solvers.finite_width.deep import finite_width_replicon_deep

    argv = ["landscape", "--activation", activation, "--depth", "2", "--sigma-w2", "2",
            "--alpha", str(alpha), "--T", str(T), "--stability", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    api = finite_width_replicon_deep(activation, 2.0, 0.0, alpha, T, 2)
    assert out["replicon"] == pytest.approx(api.replicon, abs=1e-12)
    assert out["pivots"] == pytest.approx(list(api.pivots), abs=1e-12)
    assert out["character"] == expected == ("RS" if api.stable else "RSB")
    assert "one_rsb_gain" not in out


def test_one_rsb_needs_stability_and_alpha() -> None:
    base = ["landscape", "--activation", "sin", "--depth", "2", "--sigma-w2", "2",
            "--T", "0.3"]
    assert _status([*base, "--alpha", "1", "--one-rsb"]) == 2
    assert _status([*base, "--one-rsb"]) == 2


@pytest.mark.slow
def test_one_rsb_at_depth_two_finds_the_pivot_only_instability(capsys, monkeypatch) -> None:
    # sin, L = 2, α = 1, T = 0.3: replicon +0.63 but pivot_1 < 0; the 1RSB optimum of the
    # CLI must be the API's (finite_width_1rsb_deep: gain 1.369e-3; and the witness point
    # of tests/test_finite_width_deep_rsb.py bounds it from below). The API is watched, not
    # solved a second time (the solve is deterministic): the CLI must call it with the
    # user's parameters and its defaults, and report what it returned
    from replicasolve.solvers.finite_width import deep_rsb as api

    calls = []
    real = api.finite_width_1rsb_deep

    def watched(*args, **kwargs):
        calls.append((args, sorted(kwargs), real(*args, **kwargs)))
        return calls[-1][2]

    monkeypatch.setattr(api, "finite_width_1rsb_deep", watched)
    argv = ["landscape", "--activation", "sin", "--depth", "2", "--sigma-w2", "2",
            "--alpha", "1", "--T", "0.3", "--stability", "--one-rsb", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    [(args, keywords, r)] = calls
    assert args == ("sin", 2.0, 0.0, 1.0, 0.3, 2) and keywords == ["progress"]
    assert out["replicon"] > 0 and min(out["pivots"]) < 0
    assert (out["one_rsb_gain"], out["one_rsb_q0"], out["one_rsb_q1"], out["one_rsb_m"]) == \
        (r.gain, r.q0, r.q1, r.m)
    assert out["one_rsb_gain"] > 1e-3 and out["character"] == "RSB"
