"""The gallery (examples/gallery): every script runs end to end and its printed check passes.

The default tests run each script with ``--quick`` (tiny axes) and assert on the numbers its
``main()`` returns; ``-m slow`` runs them at full size (the real figures) and ``make_all``.
Each check is also shown to fail when its reference is perturbed, so a pass means something.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from replicasolve.errors import InvalidInputError

pytest.importorskip("xarray")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "examples" / "gallery"
SCRIPTS = ("msk_tc_depth", "sk_at_line", "activation_phases", "training_tc",
           "descriptor_random_vs_trained")
NEEDS_TORCH = {"training_tc", "descriptor_random_vs_trained"}


def load(name: str) -> Any:
    """A gallery script as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"gallery_{name}", GALLERY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def registry(monkeypatch):
    """The descriptor model kind registered (script e does it itself if missing); restored
    afterwards either way."""
    from replicasolve.sweeps import quantities
    from replicasolve.sweeps.descriptor_model import DESCRIPTOR

    monkeypatch.setitem(quantities.MODELS, "descriptor", DESCRIPTOR)


def _files_exist(result: dict[str, Any]) -> None:
    for p in result["files"]:
        assert p.exists(), p
        if p.is_file():
            assert p.stat().st_size > 500, p  # a real figure / netCDF file, not a stub
    suffixes = {p.suffix for p in result["files"]}
    assert {".nc", ".png", ".pdf"} <= suffixes


# ----------------------------------------------------------------------------- quick runs


def test_msk_tc_depth_quick(tmp_path) -> None:
    r = load("msk_tc_depth").main(["--quick", "--out", str(tmp_path)])
    assert r["passed"]
    assert r["checks"]["max_deviation"] < 1e-10  # closed form sqrt(2C cos(pi/(L+2)))
    _files_exist(r)


def test_msk_check_can_fail(tmp_path, monkeypatch) -> None:
    mod = load("msk_tc_depth")
    true = mod.closed_form
    monkeypatch.setattr(mod, "closed_form", lambda L, C: true(L, C) * (1 + 1e-6))
    r = mod.main(["--quick", "--out", str(tmp_path)])
    assert not r["passed"] and r["checks"]["max_deviation"] > 1e-7


def test_sk_at_line_quick(tmp_path) -> None:
    r = load("sk_at_line").main(["--quick", "--out", str(tmp_path)])
    c = r["checks"]
    assert r["passed"] and c["disagree"] == 0 and c["agree"] >= 2 and c["failed"] == 0
    assert c["package_deviation"] < 1e-6
    _files_exist(r)


def test_sk_at_line_independent_solution() -> None:
    """The script's own AT line: T_AT(0) = 1 (SK, T_c = 1), the replicon vanishes on it,
    and it decreases with h; for small h, 1 - T_AT ≈ (3/4)^(1/3) h^(2/3) (de Almeida &
    Thouless 1978), checked at h = 1e-3 to 5 % (the next order is O(h^(4/3)), ~1 % here)."""
    mod = load("sk_at_line")
    assert mod.t_at(0.0) == 1.0
    for h in (0.2, 0.5):
        assert abs(mod.replicon(mod.t_at(h), h)) < 1e-9
    assert mod.t_at(0.2) > mod.t_at(0.5) > mod.t_at(0.9)
    h = 1e-3
    small = 0.75 ** (1 / 3) * h ** (2 / 3)
    assert abs((1 - mod.t_at(h)) / small - 1) < 0.05


def test_sk_cell_comparison_can_fail() -> None:
    """The cell check on a synthetic grid labelled by a known line: the same line finds no
    disagreement, a wrong line (or flipped labels) finds them; straddling cells are left out."""
    mod = load("sk_at_line")
    h = np.linspace(0.0, 1.0, 11)
    T = np.linspace(0.2, 1.3, 12)
    line = lambda x: 1.0 - 0.6 * x  # noqa: E731 - a stand-in for T_AT(h)
    codes = np.where(T[:, None] > line(h)[None, :], 0, 3)
    agree, disagree, straddle, failed, _ = mod.compare_cells(codes, h, T, line)
    assert disagree == failed == 0 and agree > 80 and straddle > 0
    assert agree + straddle == codes.size
    _, disagree, *_ = mod.compare_cells(codes, h, T, lambda x: 0.5 * line(x))
    assert disagree > 20
    _, disagree, *_ = mod.compare_cells(3 - codes, h, T, line)
    assert disagree == agree
    codes[0, 0] = -1
    assert mod.compare_cells(codes, h, T, line)[3] == 1


def test_activation_phases_quick(tmp_path) -> None:
    r = load("activation_phases").main(["--quick", "--out", str(tmp_path)])
    c = r["checks"]
    assert r["passed"] and c["mismatches"] == 0 and c["failed"] == 0
    for a in ("sin", "erf"):
        assert c["crosscheck"][a]["landscape"] == c["crosscheck"][a]["pspin"]
    assert set(c["findings"]) == {"relu", "tanh", "sin"}
    assert c["findings"]["sin"].startswith("AGREES")  # RSB at T = 0.1 in the Gaussian limit
    _files_exist(r)


def test_activation_closed_forms() -> None:
    """The cross-check's ξ strings equal the kernels' closed forms (Cho & Saul 2009;
    Williams 1996) at a few q, evaluated here with numpy: sin e^{-k} sinh c,
    erf (2/π) arcsin(2c/(1+2k))."""
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.models.pspin import covariance

    mod = load("activation_phases")
    for act, sw2, sb2 in (("sin", 2.0, 0.0), ("erf", 2.0, 0.05)):
        xi = covariance(mod.closed_form_xi(act, sw2, sb2))
        k = sb2 + sw2
        for q in (0.0, 0.3, 0.9):
            c = sb2 + sw2 * q
            e = np.exp(-k) * np.sinh(c) if act == "sin" else \
                2 / np.pi * np.arcsin(2 * c / (1 + 2 * k))
            assert float(xi(q)) == pytest.approx(sb2 + sw2 * e, rel=1e-12)
            # and the landscape model's own ξ (activation kernels, depth composition)
            land = RandomMLPLandscape(act, 1, sw2, sb2).xi
            assert float(land(q)) == pytest.approx(sb2 + sw2 * e, rel=1e-9)


@pytest.mark.usefixtures("registry")
def test_training_tc_quick(tmp_path) -> None:
    pytest.importorskip("torch")
    r = load("training_tc").main(["--quick", "--out", str(tmp_path)])
    c = r["checks"]
    assert r["passed"] and c["z_epoch0"] <= 4.0
    assert 0.7 < c["ratio_epoch0_msk"] < 1.3  # a random instance near the replica value
    assert (tmp_path / "training_tc_run" / "epoch_0001.npz").is_file()
    _files_exist(r)


@pytest.mark.usefixtures("registry")
def test_descriptor_quick(tmp_path) -> None:
    pytest.importorskip("torch")
    r = load("descriptor_random_vs_trained").main(["--quick", "--out", str(tmp_path)])
    c = r["checks"]
    assert r["passed"] and c["chi_ok"] and c["inf_ok"] and c["failed"] == 0
    assert c["T_c"] == pytest.approx(np.sqrt(2.0), rel=1e-12)  # bipartite SK, C = 2
    _files_exist(r)


def test_descriptor_paramagnet_formula() -> None:
    """χ_SG = 1/(1 − (T_c/T)²): 1 at T = ∞, diverging at T_c (Barney, Winer & Galitski,
    arXiv 2408.06421, Gaussian fluctuations of the overlap in the paramagnet)."""
    mod = load("descriptor_random_vs_trained")
    assert mod.chi_paramagnet([1e9], 1.0)[0] == pytest.approx(1.0)
    assert mod.chi_paramagnet([2.0], 1.0)[0] == pytest.approx(4 / 3)
    assert mod.chi_paramagnet([1.0001], 1.0)[0] > 1e3


# ----------------------------------------------------------------------------- files


def test_outputs_are_not_overwritten_without_force(tmp_path) -> None:
    mod = load("msk_tc_depth")
    mod.main(["--quick", "--out", str(tmp_path)])
    before = (tmp_path / "msk_tc_depth.nc").read_bytes()
    with pytest.raises(InvalidInputError, match="already exist"):
        mod.main(["--quick", "--out", str(tmp_path)])
    assert (tmp_path / "msk_tc_depth.nc").read_bytes() == before
    assert mod.main(["--quick", "--out", str(tmp_path), "--force"])["passed"]
    # the command line says it in one line, exit status 2
    out = subprocess.run([sys.executable, str(GALLERY / "msk_tc_depth.py"), "--quick", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 2 and "already exist" in out.stderr


def test_make_all_refuses_before_any_work(tmp_path) -> None:
    (tmp_path / "descriptor_run").mkdir()  # an output of the last script
    with pytest.raises(InvalidInputError, match="descriptor_run"):
        load("make_all").main(["--quick", "--out", str(tmp_path)])
    assert [p.name for p in tmp_path.iterdir()] == ["descriptor_run"]  # nothing written


def test_every_script_declares_its_outputs_and_sweep_files() -> None:
    from replicasolve.sweeps import load_spec

    for name in SCRIPTS:
        mod = load(name)
        assert mod.OUTPUTS and all(isinstance(o, str) for o in mod.OUTPUTS)
    # the TOML files that need no generated run folder are valid sweep specs as they stand
    for path in ("msk_tc_depth.toml", "sk_at_line.toml", "training_tc_random.toml",
                 *(f"activation_{a}.toml" for a in ("relu", "tanh", "sin", "erf"))):
        assert load_spec(GALLERY / path).n_points >= 8


# ----------------------------------------------------------------------------- full size


@pytest.mark.slow
@pytest.mark.parametrize("name", SCRIPTS)
def test_full_size_script(tmp_path, name, monkeypatch) -> None:
    if name in NEEDS_TORCH:
        pytest.importorskip("torch")
    from replicasolve.sweeps import quantities
    from replicasolve.sweeps.descriptor_model import DESCRIPTOR

    monkeypatch.setitem(quantities.MODELS, "descriptor", DESCRIPTOR)
    r = load(name).main(["--out", str(tmp_path)])
    assert r["passed"], r["checks"]
    _files_exist(r)
    assert r["seconds"] < 300  # "finishes in minutes on this machine"


@pytest.mark.slow
def test_make_all_command_line(tmp_path) -> None:
    pytest.importorskip("torch")
    out = subprocess.run([sys.executable, str(GALLERY / "make_all.py"), "--quick", "--out",
                          str(tmp_path)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert out.stdout.count("PASS") >= 5 and "FAIL" not in out.stdout
