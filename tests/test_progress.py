"""The progress reporter (replicasolve.progress) and the callbacks that feed it."""

from __future__ import annotations

import io
import sys

import pytest

from replicasolve.progress import Reporter, is_terminal, reported


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Broken(FakeTTY):
    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def _drive(rep: Reporter) -> None:
    rep.show("starting", force=True)
    for i in range(1, 4):
        rep(i, 3, f"k = {i}")
    rep.close()


def test_nothing_off_a_terminal() -> None:
    out = io.StringIO()
    _drive(Reporter("job", stream=out))
    assert out.getvalue() == ""
    assert not is_terminal(out) and not is_terminal(object())


def test_nothing_when_quiet_even_on_a_terminal() -> None:
    out = FakeTTY()
    rep = Reporter("job", stream=out, enabled=False)
    _drive(rep)
    rep.log("a line that stays")
    assert out.getvalue() == ""


def test_terminal_status_line_ends_with_newline() -> None:
    out = FakeTTY()
    _drive(Reporter("job", stream=out, interval=0.0))
    text = out.getvalue()
    assert text.startswith("\rstarting")
    assert "\rjob: 3/3 k = 3 [" in text
    assert text.endswith("\n") and text.count("\n") == 1
    assert "left" in text.split("\r")[2]  # 1 of 3 done: a time-left estimate


def test_throttled_updates_still_end_on_the_last_count() -> None:
    out = FakeTTY()
    rep = Reporter("job", stream=out, interval=3600.0)
    rep(1, 10)  # drawn: the first
    rep(2, 10)  # throttled
    rep(10, 10)  # the final count is always drawn
    rep.close()
    text = out.getvalue()
    assert "job: 1/10" in text and "job: 2/10" not in text and "job: 10/10" in text
    assert text.endswith("\n")


def test_close_draws_the_last_throttled_text() -> None:
    out = FakeTTY()
    rep = Reporter("job", stream=out, interval=3600.0)
    rep(1, None)
    rep(5, None, "five")  # unknown total: throttled, drawn by close
    rep.close()
    assert "job: 5 five" in out.getvalue() and out.getvalue().endswith("\n")


def test_log_lines_are_whole_lines_off_a_terminal() -> None:
    out = io.StringIO()
    rep = Reporter("job", stream=out)
    rep(1, 2)
    rep.log("epoch 1 done")
    rep.close()
    assert out.getvalue() == "epoch 1 done\n"


def test_log_line_replaces_the_status_line_on_a_terminal() -> None:
    out = FakeTTY()
    rep = Reporter("job", stream=out, interval=0.0)
    rep(1, 2)
    rep.log("epoch 1 done")
    rep.close()  # nothing drawn since the log line: no extra newline
    text = out.getvalue()
    assert text.endswith("\repoch 1 done\n") and text.count("\n") == 1


def test_a_vanished_terminal_never_fails_the_run() -> None:
    rep = Reporter("job", stream=Broken(), interval=0.0)
    _drive(rep)
    rep.log("x")
    assert not rep.live


def test_reported_calls_after_each_item() -> None:
    calls: list[tuple] = []
    items = list(reported(iter("abc"), 3, lambda *a: calls.append(a), str.upper))
    assert items == ["a", "b", "c"]
    assert calls == [(1, 3, "A"), (2, 3, "B"), (3, 3, "C")]
    assert list(reported([1, 2], 2, None)) == [1, 2]


@pytest.mark.parametrize("spins, T, method, kmax", [
    ("spherical", 0.3, "full3", 3),  # FullRSB(ks=(1, 2, 3))
    ("spherical", 0.0, "2rsb", 2),
    ("ising", 0.5, "2rsb", 2),
])
def test_solver_calls_back_once_per_k(spins: str, T: float, method: str, kmax: int) -> None:
    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers import FullRSB, solve

    m = FullRSB(ks=(1, 2, 3)) if method == "full3" else method
    calls: list[tuple] = []
    r = solve(MixedPSpin("q**2/2 + q**4", spins=spins, T=T), m,
              progress=lambda *a: calls.append(a))
    assert r.k == kmax
    assert calls == [(k, kmax, f"k = {k}") for k in range(1, kmax + 1)]


def test_solver_without_callback_and_rs_call_nothing() -> None:
    from replicasolve.models.pspin import MixedPSpin
    from replicasolve.solvers import solve

    calls: list[tuple] = []
    solve(MixedPSpin("q**2/2", spins="spherical", T=2.0), "rs",
          progress=lambda *a: calls.append(a))
    assert calls == []


def _main(monkeypatch, stderr: io.StringIO, argv: list[str]) -> int:
    from replicasolve.cli import main

    monkeypatch.setattr(sys, "stderr", stderr)
    return main(argv)


PARISI = ["parisi", "--xi", "q**2/2 + q**4", "--spins", "spherical", "--T", "0.3",
          "--rsb", "full", "--ks", "1,2,3"]


def test_cli_parisi_progress_on_a_terminal(monkeypatch, capsys) -> None:
    err = FakeTTY()
    assert _main(monkeypatch, err, PARISI) == 0
    assert "\rparisi: 3/3 k = 3" in err.getvalue() and err.getvalue().endswith("\n")
    assert "free energy" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("stream, argv", [
    (FakeTTY(), [*PARISI, "--quiet"]),
    (io.StringIO(), PARISI),
])
def test_cli_parisi_silent_when_quiet_or_piped(monkeypatch, capsys, stream, argv) -> None:
    assert _main(monkeypatch, stream, argv) == 0
    assert stream.getvalue() == ""


def test_cli_tap_stages_are_erased(monkeypatch, capsys) -> None:
    err = FakeTTY()
    assert _main(monkeypatch, err, ["tap", "--sizes", "20,10,5", "--spectrum"]) == 0
    text = err.getvalue()
    assert "(1/3)" in text and "(2/3)" in text and "(3/3)" in text
    assert text.endswith("\r") and "\n" not in text  # erased: the result starts a clean line


def test_sweep_status_line(monkeypatch, tmp_path) -> None:
    from replicasolve.sweeps import run_sweep

    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    spec = {"name": "p", "quantity": "T_c", "model": {"kind": "msk"},
            "axes": {"depth": [1], "variance": [1.0, 2.0, 3.0]}}
    run_sweep(spec, tmp_path / "s.nc", workers=1, progress=True)
    text = err.getvalue()
    assert "\rsweep: 3/3 points (3 computed, 0 stored)" in text and text.endswith("\n")


def test_xi_function_reports_each_layer_of_both_chains(tmp_path, monkeypatch):
    """The kernel composition calls progress once per layer of the main and the check chain,
    with a rising count up to 2 * depth (fresh cache, so the layers are really built)."""
    from replicasolve.kernels.compose import xi_function

    monkeypatch.setenv("REPLICASOLVE_CACHE_DIR", str(tmp_path))
    calls = []
    xi_function("x*erf(x) + 0.05*sin(2*x)", 3, 1.3,
                progress=lambda d, t, label="": calls.append((d, t)))
    assert calls == [(i, 6) for i in range(1, 7)]
