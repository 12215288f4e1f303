"""The command line under hostile conditions: closed pipes, missing extras, broken files,
requests too large to run, misleading messages, and a killed parent with pool children.

Every failure must be one line on stderr (no traceback) with the documented exit status.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from replicasolve.cli import build_parser, main
from replicasolve.tap.bonds import random_layered

ROOT = Path(__file__).resolve().parents[1]


def one_line(err: str) -> str:
    """The single stderr line of a failed or warned command."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def run_cli(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "replicasolve", *argv], capture_output=True,
                          text=True, timeout=120, cwd=kw.pop("cwd", None), **kw)


@pytest.fixture
def small_npz(tmp_path: Path) -> Path:
    path = tmp_path / "w.npz"
    random_layered([20, 10, 5], 2.0, 1).save_npz(path)
    return path


# ------------------------------------------------------------------ 1. a closed stdout pipe


class _ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_in_process_is_quiet(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["msk", "--json"]) == 141
    assert capsys.readouterr().err == ""


def test_broken_pipe_subprocess_is_quiet() -> None:
    # the reader is gone before the command writes: like `replicasolve ... | head -c 0`
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "replicasolve", "parisi", "--xi", "q**2/2", "--T", "0.5",
             "--rsb", "rs", "--json"],
            stdout=w, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert proc.returncode == 141
    assert proc.stderr == ""


def test_head_of_a_pipe_is_quiet() -> None:
    # the case of the report: `replicasolve parisi ... --json | head -c 5`
    cmd = (f"{sys.executable} -m replicasolve parisi --xi 'q**2/2' --T 0.5 --rsb rs --json "
           "| head -c 5")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout == '{"com'
    assert proc.stderr == ""
    assert proc.returncode in (0, 141)  # 0 when the output fitted the pipe before head left


# ------------------------------------------------------------------ 2. extras


def test_light_extras_are_core_dependencies() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in deps}
    assert {"xarray", "matplotlib"} <= names


def test_train_without_torch_fails_first(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "torch" in line and 'pip install "replicasolve[train]"' in line
    assert not out.exists()  # nothing was done


def test_pt_file_without_torch(tmp_path, monkeypatch, capsys) -> None:
    pt = tmp_path / "w.pt"
    pt.write_bytes(b"whatever")
    monkeypatch.setitem(sys.modules, "torch", None)
    assert main(["tap", str(pt)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "needs torch" in line and "replicasolve[torch]" in line


def test_dask_sweep_without_distributed(tmp_path, monkeypatch, capsys) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('quantity = "T_c"\nseed = 0\n[model]\nkind = "msk"\n[axes]\n'
                    'depth = [1, 2]\n')
    monkeypatch.setitem(sys.modules, "distributed", None)
    out = tmp_path / "s.nc"
    assert main(["sweep", str(spec), "--out", str(out), "--dask", "local"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "distributed" in line and 'pip install "replicasolve[dask]"' in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no .parts, no file


# ------------------------------------------------------------------ 3. files and seeds


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["empty.npz"] = tmp_path / "empty.npz"
    np.savez(files["empty.npz"])
    files["zipjunk.npz"] = tmp_path / "zipjunk.npz"
    files["zipjunk.npz"].write_bytes(b"PK\x03\x04" + os.urandom(200))
    files["member.npz"] = tmp_path / "member.npz"  # a real zip whose member is not .npy
    with zipfile.ZipFile(files["member.npz"], "w") as z:
        z.writestr("W1.npy", b"\x93NUMPY junk junk")
    files["biases.npz"] = tmp_path / "biases.npz"
    np.savez(files["biases.npz"], b=np.zeros(3))
    files["junk.pt"] = tmp_path / "junk.pt"
    files["junk.pt"].write_bytes(b"junk, not a torch file")
    files["missing.npz"] = tmp_path / "missing.npz"
    files["folder.npz"] = tmp_path / "folder.npz"
    files["folder.npz"].mkdir()
    files["weights.txt"] = tmp_path / "weights.txt"
    files["weights.txt"].write_text("1 2 3")
    return files


@pytest.mark.parametrize("name", ["empty.npz", "zipjunk.npz", "member.npz", "biases.npz",
                                  "junk.pt", "missing.npz", "folder.npz", "weights.txt"])
def test_tap_bad_file_is_one_line(tmp_path, capsys, name) -> None:
    if name.endswith(".pt"):
        pytest.importorskip("torch")
    path = _bad_files(tmp_path)[name]
    before = path.read_bytes() if path.is_file() else None
    assert main(["tap", str(path)]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert str(path) in line and captured.out == ""
    if before is not None:
        assert path.read_bytes() == before  # a user file is never touched
    assert main(["tap", "--sizes", "20,10", "--reference", str(path)]) == 2
    one_line(capsys.readouterr().err)


def test_tap_directory_and_missing_file_say_which(tmp_path, capsys) -> None:
    files = _bad_files(tmp_path)
    assert main(["tap", str(files["folder.npz"])]) == 2
    assert "is a directory" in one_line(capsys.readouterr().err)
    assert main(["tap", str(files["missing.npz"])]) == 2
    assert "no such file" in one_line(capsys.readouterr().err)


def test_npz_claiming_huge_arrays_is_refused_before_loading(tmp_path, capsys) -> None:
    # a 100-byte archive whose header claims a 10^6 x 10^6 matrix (8 TB): the header is read,
    # the array never is
    from numpy.lib import format as npy

    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                     "shape": (10**6, 10**6)})
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("W1.npy", buf.getvalue())
    assert main(["tap", str(path)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "of memory" in line and "TB" in line


def test_file_weights_beyond_memory_are_refused(small_npz, monkeypatch, capsys) -> None:
    import replicasolve.files as files

    monkeypatch.setattr(files, "memory_limit", lambda: 1000)
    assert main(["tap", str(small_npz)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "needs" in line or "need" in line
    assert "this machine has 1 kB" in line


@pytest.mark.parametrize("argv", [
    ["tap", "--sizes", "20,10", "--seed", "-1"],
    ["tap", "--sizes", "20,10", "--seed", "1.5"],
    ["tap", "--sizes", "20,10", "--seed", str(2**64)],
    ["descriptor", "MODEL", "--seed", "-1"],
    ["train", "--epochs", "1", "--out", "RUN", "--seed", "-7"],
])
def test_negative_or_bad_seed_is_one_line(tmp_path, small_npz, capsys, argv) -> None:
    argv = [str(small_npz) if a == "MODEL" else str(tmp_path / "run") if a == "RUN" else a
            for a in argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "--seed" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "run").exists()


def test_every_seed_option_checks_its_range() -> None:
    # any command that grows a --seed must use the checked type
    from replicasolve.cli.args import seed_type

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    seeded = {name: next(a for a in p._actions if "--seed" in a.option_strings)
              for name, p in sub.choices.items()
              if any("--seed" in a.option_strings for a in p._actions)}
    assert {"tap", "descriptor", "train"} <= set(seeded)
    assert all(a.type is seed_type for a in seeded.values())


def test_warnings_before_an_error_leave_one_line(monkeypatch, capsys) -> None:
    import replicasolve.tap.bonds as bonds
    from replicasolve.errors import InvalidInputError

    def noisy(source):
        warnings.warn("torch.load: something about storages", UserWarning, stacklevel=1)
        warnings.warn("numpy: overflow", RuntimeWarning, stacklevel=1)
        raise InvalidInputError(f"{source}: corrupt")

    monkeypatch.setattr(bonds, "load_weights", noisy)
    assert main(["tap", "w.npz"]) == 2
    assert one_line(capsys.readouterr().err) == "replicasolve: error: w.npz: corrupt"


def test_warnings_of_a_success_fold_into_one_line(monkeypatch, capsys) -> None:
    import replicasolve.models.msk as msk

    real = msk.msk_critical

    def noisy(*a, **kw):
        for k in range(3):
            warnings.warn(f"multi\nline warning {k}", RuntimeWarning, stacklevel=1)
        return real(*a, **kw)

    monkeypatch.setattr(msk, "msk_critical", noisy)
    assert main(["msk", "--json"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    line = one_line(captured.err)
    assert line.startswith("replicasolve: warning: RuntimeWarning: multi line warning 0")
    assert "2 more" in line


# ------------------------------------------------------------------ 4. sizes and work


@pytest.mark.parametrize(("argv", "words"), [
    (["tap", "--sizes", "10000000,10000000,10"], ["of memory", "this machine has"]),
    (["tap", "--sizes", "1e7,1e7,10"], ["of memory"]),
    (["tap", "--sizes", "3000,3000,10", "--spectrum"], ["--spectrum", "6000"]),
    (["train", "--epochs", "1", "--hidden", "10000000", "--out", "RUN"],
     ["parameters", "of memory"]),
    (["train", "--epochs", "1e12", "--hidden", "1", "--out", "RUN"], ["free"]),
    (["descriptor", "MODEL", "--sweeps", "1e12"], ["1e+12 sweeps", "single-spin updates"]),
    (["descriptor", "MODEL", "--sweeps", "100000000", "--T", "1,2", "--replicas", "1000"],
     ["of memory"]),
    (["msk", "--sizes", "1" + "0" * 400 + ",10"], ["floating-point"]),
    (["msk", "--sizes", "1" + "0" * 5000 + ",10"], ["characters"]),
])
def test_oversized_requests_are_refused_up_front(tmp_path, small_npz, capsys, argv,
                                                 words) -> None:
    if argv[0] == "train":
        pytest.importorskip("torch")
    argv = [str(small_npz) if a == "MODEL" else str(tmp_path / "run") if a == "RUN" else a
            for a in argv]
    t0 = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - t0 < 30  # refused, not attempted
    line = one_line(capsys.readouterr().err)
    assert len(line) < 400
    for w in words:
        assert w in line, line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("argv", "words"), [
    (["tap", "--sizes", "20,1e400"], ["about 10^", "of memory"]),
    (["kernel", "relu", "--depth", "1e30"], ["--depth", "<= 1000"]),
    (["landscape", "--activation", "tanh", "--depth", "100000", "--T", "1"], ["<= 1000"]),
    (["descriptor", "MODEL", "--sweeps", "1e400"], ["--sweeps", "<="]),
    (["train", "--epochs", "1", "--hidden", "1e400", "--out", "RUN"], ["--hidden"]),
])
def test_fuzzed_inputs_are_one_line(tmp_path, small_npz, capsys, argv, words) -> None:
    argv = [str(small_npz) if a == "MODEL" else str(tmp_path / "run") if a == "RUN" else a
            for a in argv]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own refusal
        rc = exc.code
    assert rc == 2
    line = one_line(capsys.readouterr().err)
    for w in words:
        assert w in line, line
    assert not (tmp_path / "run").exists()


def test_plot_of_a_scan_without_later_epochs_is_refused(tmp_path) -> None:
    xr = pytest.importorskip("xarray")
    from replicasolve.cli.training import require_epochs
    from replicasolve.errors import InvalidInputError

    ds = xr.Dataset({"T_c": ("epoch", [1.4]), "status": ("epoch", ["ok"])},
                    coords={"epoch": [0]})
    with pytest.raises(InvalidInputError, match="at least one later epoch"):
        require_epochs(ds, tmp_path / "scan.nc")
    ds2 = xr.Dataset({"T_c": ("epoch", [1.4, 1.5]), "status": ("epoch", ["ok", "ok"])},
                     coords={"epoch": [0, 3]})
    require_epochs(ds2, tmp_path / "scan.nc")


def test_descriptor_integer_options_read_scientific_notation() -> None:
    args = build_parser().parse_args(["descriptor", "m.npz", "--sweeps", "1e4",
                                      "--burn-in", "2.0e3"])
    assert args.sweeps == 10_000 and args.burn_in == 2000
    for bad in ("1.5", "nan", "inf", "", "1e5000000"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["descriptor", "m.npz", "--sweeps", bad])


def test_msk_huge_sizes_computed_in_floating_point(capsys) -> None:
    from replicasolve.models.msk import msk_critical

    assert main(["msk", "--sizes", "1000000000000000000000,10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["T_c"] == pytest.approx((2 * (10 / 1e21) ** 0.5) ** 0.5, rel=1e-12)  # sqrt(K_10)
    # only the ratios count: sizes near the float limit give the equal-layer value
    assert main(["msk", "--sizes", "1e300,1e300", "--json"]) == 0
    big = json.loads(capsys.readouterr().out)
    assert big["T_c"] == pytest.approx(msk_critical([5, 5], 2.0).T_c, rel=1e-14)


# ------------------------------------------------------------------ 5. messages and help


def test_demo_names_c_without_calling_c1_kaiming(capsys) -> None:
    assert main(["--variance", "1"]) == 0
    text = capsys.readouterr().out
    assert "C = 1,1,1,1" in text and "Kaiming" not in text and "kaiming" not in text


def test_tap_weights_without_reference_is_plain_and_says_so(small_npz, capsys) -> None:
    assert main(["tap", str(small_npz), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["definition"] == "plain"
    line = one_line(captured.err)
    assert "--reference" in line and "plain" in line
    # asked for explicitly: the same, silently
    assert main(["tap", str(small_npz), "--definition", "plain", "--json"]) == 0
    assert capsys.readouterr().err == ""
    # the corrected definition without a reference is refused, with a reference it is used
    assert main(["tap", str(small_npz), "--definition", "corrected"]) == 2
    assert "--reference" in one_line(capsys.readouterr().err)
    assert main(["tap", str(small_npz), "--reference", str(small_npz), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["definition"] == "corrected" and out["reference"] == str(small_npz)
    assert captured.err == ""


def test_tap_random_instance_is_its_own_reference(capsys) -> None:
    assert main(["tap", "--sizes", "30,20,10", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["definition"] == "corrected" and out["reference"].startswith("self")
    assert captured.err == ""


def test_descriptor_advice_does_not_suggest_what_is_on() -> None:
    from replicasolve.cli.descriptor import equilibration_advice

    on = equilibration_advice(True, 30)
    assert "(--pt)" not in on and "already on" in on
    assert "(--pt)" in equilibration_advice(False, 30)
    assert "ladder" in equilibration_advice(False, 1)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_help_shows_the_defaults(name) -> None:
    p = _subparsers()[name]
    text = " ".join(p.format_help().split())
    for action in p._actions:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            continue
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        helptext = " ".join((action.help or "").split())
        assert "default" in helptext.lower() or f"(default: {action.default})" in text, (
            name, action.option_strings)


def test_help_says_where_the_variance_defaults_differ() -> None:
    subs = _subparsers()
    for name in ("kernel", "landscape"):
        text = " ".join(subs[name].format_help().split())
        assert "default 1 here" in text and "C = 2" in text
    for name in ("msk", "tap"):
        text = " ".join(subs[name].format_help().split())
        assert "default 2" in text and "kaiming_normal_" in text and "sigma-w2" in text
    sweep = " ".join(subs["sweep"].format_help().split())
    assert "4 the Dask scheduler" in sweep


def test_docs_do_not_promise_the_self_reference() -> None:
    readme = (ROOT / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if ln.startswith("replicasolve tap weights"))
    assert "plain" in line and "--reference" in line


# ------------------------------------------------------------------ 6. a killed sweep


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sweep_pool_children_exit_when_the_parent_is_killed(tmp_path) -> None:
    spec = tmp_path / "slow.toml"
    spec.write_text('quantity = "free_energy"\nseed = 0\n[model]\nkind = "pspin"\n'
                    'xi = "q**2/2"\nspins = "ising"\n[solver]\nmethod = "3rsb"\n[axes]\n'
                    'field = {start = 0.0, stop = 1.0, num = 30}\n'
                    'T = {start = 0.2, stop = 1.2, num = 30}\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "replicasolve", "sweep", str(spec), "--out",
         str(tmp_path / "slow.nc"), "--workers", "2", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            kids = _children(proc.pid)
            if len(kids) >= 2:  # the pool's child (and multiprocessing's resource tracker)
                break
            time.sleep(0.2)
        assert kids, "the sweep started no pool children"
        time.sleep(1.0)  # let the child get going on its first points
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.2)
        left = [k for k in kids if _alive(k)]
        assert not left, f"children {left} outlived their killed parent"
    finally:  # whatever failed, leave no process of this test behind
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for k in kids:
            if _alive(k):
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
