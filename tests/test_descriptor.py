"""The spin-glass descriptor of one network (Jun Li, arXiv 2508.07397).

Each check is against an independent route: coupling matrices built here element by element
from the weights, exact sums over all 2^N states (N = 12), the exact T = ∞ value of
E|Q_ab| from the binomial distribution, and a ferromagnet whose ordered state is known.
Statistical tolerances are 5 standard errors.
"""

from __future__ import annotations

import json
import math
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from replicasolve.cli import main
from replicasolve.errors import InvalidInputError
from replicasolve.plot.descriptor import plot_descriptor
from replicasolve.studies.descriptor import (
    NetworkSystem,
    descriptor_curve,
    load_descriptor,
    network_spin_model,
    paramagnet_q_bar,
    save_descriptor,
)
from replicasolve.studies.train.snapshots import read_snapshot, write_snapshot

# ----------------------------------------------------------------------------- helpers

# a hand-made 2-3-2 network; values exactly representable in float32 (snapshots are float32)
W1 = np.array([[0.5, -0.25], [1.0, 0.75], [-0.5, 0.125]])
W2 = np.array([[0.25, -1.0, 0.5], [0.75, 0.5, -0.25]])
B1 = np.array([0.125, -0.5, 0.25])
B2 = np.array([-0.75, 0.375])
SIZES = (2, 3, 2)


def expected_model(couplings: str, fields: bool, include_input: bool, include_output: bool,
                   scale: float) -> tuple[np.ndarray, np.ndarray]:
    """J and h of the 2-3-2 network, written out neuron by neuron."""
    ws = {1: W1, 2: W2}  # ws[l] couples layer l-1 (columns) to layer l (rows)
    bs = {1: B1, 2: B2}
    layers = [l for l in (0, 1, 2) if (l != 0 or include_input) and (l != 2 or include_output)]
    index = {}  # (layer, neuron) -> spin index
    for l in layers:
        for i in range(SIZES[l]):
            index[(l, i)] = len(index)
    n = len(index)
    J = np.zeros((n, n))
    h = np.zeros(n)
    for (l, i), a in index.items():
        if fields and l >= 1:
            h[a] = scale * bs[l][i]
        for (m, j), b in index.items():
            if couplings == "layered":
                if m == l - 1:
                    J[a, b] = scale * ws[l][i, j]
                elif m == l + 1:
                    J[a, b] = scale * ws[m][j, i]
            elif m == l and i != j and l + 1 in ws:
                w = ws[l + 1]  # patterns: the rows of the matrix that reads layer l
                J[a, b] = scale * sum(w[mu, i] * w[mu, j] for mu in range(w.shape[0]))
    return J, h


def exact_q_bar_energy(J: np.ndarray, h: np.ndarray, T: float) -> tuple[float, float]:
    """q̄ = Σ_{s,s'} p(s) p(s') |s·s'|/N and ⟨H⟩/N by enumerating all 2^N states."""
    n = h.size
    states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1) * 2.0 - 1.0
    e = -0.5 * np.einsum("si,ij,sj->s", states, J, states) - states @ h
    w = np.exp(-(e - e.min()) / T)
    p = w / w.sum()
    q_bar = 0.0
    for start in range(0, states.shape[0], 512):  # 512 x 4096 blocks of overlaps
        block = np.abs(states[start : start + 512] @ states.T) / n
        q_bar += float(p[start : start + 512] @ block @ p)
    return q_bar, float(p @ e) / n


def exact_paramagnet(n: int) -> float:
    """E|(1/N) Σ x_i| for N independent ±1, by the binomial sum (exact rationals)."""
    total = sum(Fraction(math.comb(n, k) * abs(2 * k - n), 2**n) for k in range(n + 1))
    return float(total / n)


def small_network(seed: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    sizes = (4, 5, 3)
    ws = [rng.normal(0, math.sqrt(2 / sizes[k]), (sizes[k + 1], sizes[k])) for k in range(2)]
    bs = [rng.normal(0, 0.3, sizes[k + 1]) for k in range(2)]
    return {"weights": ws, "biases": bs}


def one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0]


# ----------------------------------------------------------------------------- construction


@pytest.mark.parametrize("couplings", ["layered", "hebbian"])
@pytest.mark.parametrize("fields", [True, False])
@pytest.mark.parametrize("include_input,include_output",
                         [(True, True), (False, True), (True, False), (False, False)])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_construction_matches_hand_built_matrix(couplings, fields, include_input,
                                                include_output, scale):
    system = network_spin_model({"weights": [W1, W2], "biases": [B1, B2]}, couplings=couplings,
                                biases=fields, include_input=include_input,
                                include_output=include_output, scale=scale)
    J, h = expected_model(couplings, fields, include_input, include_output, scale)
    assert isinstance(system, NetworkSystem)
    assert system.n == h.size
    np.testing.assert_allclose(system.couplings(), J, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(system.h, h)
    assert system.energy_offset == 0.0  # the Hebbian diagonal is dropped, not kept as a constant
    c = system.construction
    assert c.couplings == couplings and c.scale == scale
    assert c.network_sizes == SIZES and c.n_spins == h.size
    assert c.fields == ("biases" if fields else "none")
    # the spin layers are the kept ones, and the layered couplings are never densified
    assert sum(c.spin_sizes) == system.n
    if couplings == "layered" and len(c.spin_layers) >= 2:
        assert system.kind == "layered"


def test_construction_given_biases_and_source_without_biases():
    s = network_spin_model([W1, W2], biases=[B1, B2])
    np.testing.assert_array_equal(s.h, np.concatenate([[0, 0], B1, B2]))
    assert s.construction.fields == "given biases"
    s = network_spin_model([W1, W2])  # a bare list has no biases: zero fields, recorded
    np.testing.assert_array_equal(s.h, np.zeros(7))
    assert s.construction.fields == "none (the source has no biases)"
    # the energy of a configuration is that of the written-out Hamiltonian
    J, h = expected_model("layered", True, True, True, 1.0)
    s = network_spin_model([W1, W2], biases=[B1, B2])
    spins = np.array([1, -1, 1, 1, -1, -1, 1])
    assert s.energy(spins) == pytest.approx((-0.5 * spins @ J @ spins - h @ spins) / 7,
                                            abs=1e-14)


def test_sources_agree(tmp_path):
    torch = pytest.importorskip("torch")
    ref = network_spin_model({"weights": [W1, W2], "biases": [B1, B2]})

    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        for lin, w, b in ((net[0], W1, B1), (net[2], W2, B2)):
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
    torch.save(net.state_dict(), tmp_path / "sd.pt")
    torch.save({"epoch": 3, "state_dict": net.state_dict()}, tmp_path / "ckpt.pt")
    np.savez(tmp_path / "plain.npz", W1=W1, b1=B1, W2=W2, b2=B2)
    run = tmp_path / "run"
    write_snapshot(run, 0, [W1 * 0, W2 * 0], [B1 * 0, B2 * 0])
    write_snapshot(run, 1, [W1, W2], [B1, B2])
    sources = [net, tmp_path / "sd.pt", str(tmp_path / "ckpt.pt"), tmp_path / "plain.npz",
               run / "epoch_0001.npz", run, read_snapshot(run / "epoch_0001.npz")]
    for src in sources:
        s = network_spin_model(src)
        np.testing.assert_array_equal(s.couplings(), ref.couplings(), err_msg=str(src))
        np.testing.assert_array_equal(s.h, ref.h, err_msg=str(src))
    assert network_spin_model(run).construction.epoch == 1  # default: the last epoch
    s0 = network_spin_model(run, epoch=0)
    assert s0.construction.epoch == 0 and not np.any(s0.couplings())


def test_bad_sources(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip archive at all")
    pt = tmp_path / "bad.pt"
    pt.write_bytes(b"\x00garbage")
    np.savez(tmp_path / "odd.npz", W1=W1, W2=W2, b1=B1)  # 1 bias for 2 layers
    cases = [
        (tmp_path / "missing.npz", {}, "no such file"),
        (bad, {}, "corrupt"),
        (tmp_path / "odd.npz", {}, "1-D arrays"),
        (str(tmp_path / "w.txt"), {}, "no such file"),
        ([W1, W1], {}, "chain"),
        ([W1, W2], {"biases": [B1]}, "one bias vector per weight"),
        ([W1, W2], {"biases": [B1, B1]}, "bias 2"),
        ([W1, W2], {"biases": [B1 * np.nan, B2]}, "NaN"),
        ([W1], {"include_input": False, "include_output": False}, "no spins left"),
        ([W1, W2], {"couplings": "hopfield"}, "couplings"),
        ([W1, W2], {"scale": 0.0}, "scale"),
        ([W1, W2], {"epoch": 1}, "run directory"),
        (tmp_path, {}, "no epoch_XXXX.npz"),
    ]
    (tmp_path / "w.txt").write_text("x")
    cases[3] = (str(tmp_path / "w.txt"), {}, "unknown weight file type")
    for src, kw, msg in cases:
        with pytest.raises(InvalidInputError, match=msg):
            network_spin_model(src, **kw)
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    with pytest.raises(InvalidInputError, match="not a readable torch"):
        network_spin_model(pt)


# ----------------------------------------------------------------------------- the descriptor


def test_paramagnet_value_is_the_binomial_mean():
    for n in [*range(1, 31), 101, 200]:
        assert paramagnet_q_bar(n) == pytest.approx(exact_paramagnet(n), rel=1e-12)
    assert paramagnet_q_bar(10**6) == pytest.approx(math.sqrt(2 / (math.pi * 10**6)), rel=1e-6)


def test_high_temperature_gives_independent_spins():
    # heat bath at T >> couplings: every sweep draws fresh, nearly independent spins
    rng = np.random.default_rng(1)
    ws = [rng.normal(0, math.sqrt(2 / 40), (30, 40)), rng.normal(0, math.sqrt(2 / 30), (30, 30))]
    system = network_spin_model(ws)
    ds = descriptor_curve(system, [1e4], replicas=16, sweeps=1500, burn_in=10,
                          method="heatbath", equilibration="none")
    value, err = float(ds.q_bar[0]), float(ds.q_bar_err[0])
    exact = exact_paramagnet(100)
    assert abs(value - exact) < 5 * err, (value, err, exact)
    assert err < 0.003
    assert abs(exact - math.sqrt(2 / (math.pi * 100))) < 0.002  # the large-N form, roughly
    assert ds.attrs["q_bar_paramagnet"] == pytest.approx(exact, rel=1e-12)


def test_ferromagnet_freezes_at_low_temperature():
    rng = np.random.default_rng(2)
    ws = [0.2 + np.abs(rng.normal(0, 0.2, (12, 10))), 0.2 + np.abs(rng.normal(0, 0.2, (8, 12)))]
    system = network_spin_model(ws)
    ds = descriptor_curve(system, [0.05, 50.0], replicas=8, sweeps=300, burn_in=200)
    assert float(ds.q_bar[0]) > 0.999
    assert float(ds.abs_magnetization[0]) > 0.999
    assert int(ds.equilibrated[0]) == 1
    assert float(ds.q_bar[1]) < 0.5  # and melts at high T


@pytest.mark.parametrize("pt", [False, True])
def test_exact_enumeration_of_a_tiny_network(pt):
    net = small_network()
    system = network_spin_model(net)  # 4-5-3: N = 12, biases as fields
    assert system.n == 12
    temps = [0.6, 1.2, 2.5]
    ds = descriptor_curve(system, temps, replicas=16, sweeps=4000, burn_in=500, seed=11,
                          parallel_tempering=pt, equilibration="none")
    J = system.couplings()
    for k, t in enumerate(temps):
        q_ex, e_ex = exact_q_bar_energy(J, system.h, t)
        q, qe = float(ds.q_bar[k]), float(ds.q_bar_err[k])
        e, ee = float(ds.energy[k]), float(ds.energy_err[k])
        assert abs(q - q_ex) < 5 * qe, (t, q, qe, q_ex)
        assert abs(e - e_ex) < 5 * ee, (t, e, ee, e_ex)
    if pt:
        assert np.all(np.isfinite(ds.swap_acceptance.values[:-1]))


def test_exact_enumeration_hebbian():
    system = network_spin_model(small_network(), couplings="hebbian", scale=0.5)
    ds = descriptor_curve(system, [0.8], replicas=16, sweeps=4000, burn_in=500, seed=5,
                          equilibration="none")
    q_ex, e_ex = exact_q_bar_energy(system.couplings(), system.h, 0.8)
    assert abs(float(ds.q_bar[0]) - q_ex) < 5 * float(ds.q_bar_err[0])
    assert abs(float(ds.energy[0]) - e_ex) < 5 * float(ds.energy_err[0])


def test_reproducible_and_independent_of_the_check():
    system = network_spin_model(small_network())
    kw = dict(replicas=6, sweeps=200, burn_in=50, pq_at=[1.0])
    a = descriptor_curve(system, [0.5, 1.0], seed=3, **kw)
    b = descriptor_curve(system, [0.5, 1.0], seed=3, **kw)
    c = descriptor_curve(system, [0.5, 1.0], seed=4, **kw)
    d = descriptor_curve(system, [0.5, 1.0], seed=3, equilibration="none", tau_factor=0, **kw)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert not np.array_equal(a.q_bar.values, c.q_bar.values)
    np.testing.assert_array_equal(a.q_bar.values, d.q_bar.values)
    assert list(d.equilibrated.values) == [-1, -1]
    assert a.attrs["seed_entropy"] == "3"


def test_dataset_contents_and_files(tmp_path):
    system = network_spin_model(small_network())
    ds = descriptor_curve(system, [0.5, 1.0, 2.0], replicas=4, sweeps=300, burn_in=50,
                          pq_at=[0.9, 2.2, 1.1])
    assert list(ds.T_pq.values) == [1.0, 2.0]  # nearest ladder temperatures, once each
    assert ds.attrs["pq_requested"] == [0.9, 2.2, 1.1]
    width = np.diff(ds.q_bin.values)
    assert np.allclose(width, width[0])
    np.testing.assert_allclose(ds.pq.sum("q_bin").values * width[0], 1.0, rtol=1e-12)
    assert ds.attrs["construction"]["network_sizes"] == [4, 5, 3]
    for name in ("energy", "chi_sg", "binder", "acceptance", "tau_energy", "tau_abs_q",
                 "equilibrated", "z_energy", "z_q2"):
        assert ds[name].dims == ("T",)
    np.testing.assert_allclose(ds.chi_sg.values, 12 * ds.q2.values, rtol=1e-12)
    path = tmp_path / "c.nc"
    save_descriptor(ds, path)
    back = load_descriptor(path)
    for name in ds.data_vars:
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    assert back.attrs["construction"] == ds.attrs["construction"]
    assert back.attrs["parallel_tempering"] is False
    before = path.read_bytes()
    with pytest.raises(InvalidInputError, match="already exists"):
        save_descriptor(ds, path)
    assert path.read_bytes() == before
    png = tmp_path / "c.png"
    plot_descriptor({"a": ds, "b": back}, png)
    assert png.stat().st_size > 1000
    with pytest.raises(InvalidInputError, match="already exists"):
        plot_descriptor(ds, png)


def test_input_validation():
    system = network_spin_model(small_network())
    bad = [
        ([1.0, 0.0], {}, "positive"),
        ([-1.0], {}, "positive"),
        ([1.0, float("nan")], {}, "positive"),
        ([2.0, 1.0], {}, "increasing"),
        ([1.0, 1.0], {}, "increasing"),
        ([1.0], {"parallel_tempering": True}, "at least 2"),
        ([1.0], {"replicas": 1}, "replicas"),
        ([1.0], {"method": "glauber"}, "method"),
        ([1.0], {"equilibration": "maybe"}, "equilibration"),
        ([1.0], {"seed": -1}, "seed"),
        ([1.0], {"pq_at": [0.0]}, "pq_at"),
    ]
    for temps, kw, msg in bad:
        with pytest.raises(InvalidInputError, match=msg):
            descriptor_curve(system, temps, **kw)
    with pytest.raises(InvalidInputError, match="IsingSystem"):
        descriptor_curve(small_network(), [1.0])


# ----------------------------------------------------------------------------- command line


def _run_dir(tmp_path: Path) -> Path:
    net = small_network()
    run = tmp_path / "run"
    write_snapshot(run, 0, net["weights"], [b * 0 for b in net["biases"]])
    write_snapshot(run, 1, net["weights"], net["biases"])
    return run


def test_cli_round_trip(tmp_path, capsys):
    run = _run_dir(tmp_path)
    out, png = tmp_path / "curve.nc", tmp_path / "curve.png"
    args = ["descriptor", str(run), "--epoch", "1", "--T", "0.5:2:3", "--replicas", "4",
            "--sweeps", "200", "--burn-in", "50", "--pq-at", "1", "--out", str(out),
            "--plot", str(png)]
    assert main([*args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    ds = load_descriptor(out)
    assert png.stat().st_size > 1000
    assert [r["T"] for r in info["rows"]] == [0.5, 1.25, 2.0]
    np.testing.assert_array_equal([r["q_bar"] for r in info["rows"]], ds.q_bar.values)
    assert info["construction"]["epoch"] == 1 and ds.attrs["construction"]["epoch"] == 1
    assert info["pq"]["T"] == [1.25]  # nearest to 1

    # the same command again: refused before running, nothing overwritten
    before, mtime = out.read_bytes(), os.stat(out).st_mtime_ns
    assert main(args) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err)
    assert "already exists" in captured.err and captured.out == ""
    assert out.read_bytes() == before and os.stat(out).st_mtime_ns == mtime

    # --force overwrites; the table names the columns; the same seed gives the same curve
    assert main([*args, "--force"]) == 0
    text = capsys.readouterr().out
    assert "q_bar" in text and "Binder" in text and "equilibrated" in text
    np.testing.assert_array_equal(load_descriptor(out).q_bar.values, ds.q_bar.values)


@pytest.mark.parametrize("extra,message", [
    (["--T", "2:1:5"], "increasing"),
    (["--T", "0:1:3"], "positive"),
    (["--T=-1,1"], "positive"),
    (["--T", "abc"], "TMIN:TMAX:COUNT"),
    (["--T", "1:2:0"], "temperatures"),
    (["--T", "1,1"], "increasing"),
    (["--pt", "--T", "1"], "at least 2"),
    (["--pq-at", "x"], "--pq-at"),
    (["--replicas", "1"], "replicas"),
])
def test_cli_bad_arguments(tmp_path, capsys, extra, message):
    run = _run_dir(tmp_path)
    out = tmp_path / "keep.nc"
    out.write_bytes(b"precious")
    rc = main(["descriptor", str(run), *extra, "--out", str(out), "--force"])
    captured = capsys.readouterr()
    assert rc == 2
    one_line_error(captured.err)
    assert message in captured.err and captured.out == ""
    assert out.read_bytes() == b"precious"


def test_cli_bad_models(tmp_path, capsys):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    run = _run_dir(tmp_path)
    cases = [[str(tmp_path / "missing.pt")], [str(corrupt)], [str(run), "--epoch", "7"],
             [str(corrupt), "--epoch", "1"]]
    try:
        import torch  # noqa: F401

        cases.append([str(junk)])
    except ImportError:
        pass
    for case in cases:
        assert main(["descriptor", *case, "--T", "1", "--sweeps", "10"]) == 2, case
        captured = capsys.readouterr()
        one_line_error(captured.err)
        assert captured.out == ""
    # a parse error of argparse is also one line and status 2
    with pytest.raises(SystemExit) as exc:
        main(["descriptor", str(run), "--replicas", "many"])
    assert exc.value.code == 2
    one_line_error(capsys.readouterr().err)


@pytest.mark.slow
def test_example_runs_end_to_end(tmp_path):
    import subprocess
    import sys

    pytest.importorskip("torch")
    script = Path(__file__).resolve().parents[1] / "examples" / "descriptor_experiments.py"
    args = [sys.executable, str(script), "--out", str(tmp_path), "--epochs", "3", "--nT", "4",
            "--sweeps", "100", "--burn-in", "50", "--replicas", "4", "--narrow", "16",
            "--wide", "32", "--n-train", "500", "--jobs", "1", "--seeds", "2"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    for head in ("1. random vs trained", "2. epochs 0 -> 1",
                 "3. true vs shuffled", "4a. narrow vs wide", "4b. narrow vs wide"):
        assert head in out.stdout, head
    # per seed: epochs 0, 1, 3 of the narrow net, shuffled at 3, wide at 0 and 3
    assert len(list((tmp_path / "curves").glob("*.nc"))) == 12
    # six comparisons (epochs 0->1->3), each a verdict or an explicit refusal
    verdicts = out.stdout.count("t-test p =")
    assert verdicts + out.stdout.count("equilibrated in every run: not compared") == 6
    assert verdicts >= 1
    assert len(list((tmp_path / "figures").glob("*.png"))) == 4
    again = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and again.stdout.count("(kept)") == 12


def test_cli_parallel_tempering_default(tmp_path, capsys):
    """A ladder runs with parallel tempering unless --no-pt; one temperature never does.

    The flag is read back from the saved file, and --no-pt must reproduce the API's
    independent-run curve at the same seed bit for bit (the CLI adds nothing of its own).
    """
    run = _run_dir(tmp_path)
    base = ["descriptor", str(run), "--epoch", "1", "--replicas", "4", "--sweeps", "40",
            "--burn-in", "10", "--equilibration", "none", "--json"]
    cases = [(["--T", "0.5:2:3"], True), (["--T", "0.5:2:3", "--no-pt"], False),
             (["--T", "1"], False)]
    for k, (extra, expected) in enumerate(cases):
        out = tmp_path / f"pt{k}.nc"
        assert main([*base, *extra, "--out", str(out)]) == 0
        capsys.readouterr()
        assert load_descriptor(out).attrs["parallel_tempering"] is expected, extra
    system = network_spin_model(run, epoch=1)
    api = descriptor_curve(system, [0.5, 1.25, 2.0], replicas=4, sweeps=40, burn_in=10,
                           seed=0, equilibration="none")
    np.testing.assert_array_equal(load_descriptor(tmp_path / "pt1.nc").q_bar.values,
                                  api.q_bar.values)
    with pytest.raises(SystemExit) as exc:  # argparse: one line, status 2
        main([*base, "--T", "0.5:2:3", "--pt", "--no-pt"])
    assert exc.value.code == 2
    one_line_error(capsys.readouterr().err)


def test_threads_do_not_change_the_curve() -> None:
    """Hebbian couplings give a dense system, whose sweeps can be split over threads; the
    engine promises bitwise-equal results for any thread count, and the descriptor passes
    ``threads`` through without storing it."""
    system = network_spin_model(small_network(), couplings="hebbian")
    kw = dict(replicas=6, sweeps=40, burn_in=10, seed=3, equilibration="none")
    one = descriptor_curve(system, [0.5, 1.5], threads=1, **kw)
    two = descriptor_curve(system, [0.5, 1.5], threads=2, **kw)
    for name in one.data_vars:
        np.testing.assert_array_equal(one[name].values, two[name].values, err_msg=name)
