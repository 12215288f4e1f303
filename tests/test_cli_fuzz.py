"""Fuzzing the command line: hostile formulas, numbers and files for ``kernel``, ``parisi``,
``landscape``, ``msk``, ``tap`` and ``derive``.

Whatever the input, a command ends within a time budget with exit status 0, 2 (bad input:
exactly one line on stderr) or 3 (did not converge), and never with a traceback. The quick
variant runs each command in-process under a CPU-time budget (derandomized: the same
examples on every run); the slow one (``-m slow``) runs more examples, each in a fresh
interpreter with a CPU-time limit, so a crash of compiled code or a hang inside it shows
as well.

Inputs known to break layers this file does not cover are left out of the strategies; the
commit that adds this file lists them.
"""

from __future__ import annotations

import io
import itertools
import signal
import subprocess
import sys
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from replicasolve.cli import main  # noqa: E402

# per invocation, in CPU seconds of this process (not wall-clock: under a parallel suite on
# a loaded machine a 20 s command takes minutes of wall time, and the budget is about the
# work a command does, not about the machine's load)
BUDGET_S = 20.0
QUICK = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# the subprocess variant is there for what in-process runs cannot see (a crash of compiled
# code, a hang inside it); each example pays an interpreter start (~1.5 s of CPU), so it
# runs fewer examples than the quick variant, whose 80 per command cover the input space
SLOW = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ------------------------------------------------------------------ strategies

NUMBER_WORDS = ["-1", "0", "-0.0", "nan", "inf", "-inf", "1e400", "-1e400", "1e12", "", "--",
                "1e-300", "5e-324", "0.5", "2", "3", "1e308", "0x10", "1_000", "one", " 1 ",
                "1e", "+", "9" * 400]
numbers = st.one_of(
    st.sampled_from(NUMBER_WORDS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)
small_numbers = st.one_of(st.sampled_from(NUMBER_WORDS),
                          st.floats(-10, 10, allow_nan=False).map(lambda v: f"{v:.4g}"))

LITERALS = ["0", "1", "2", "0.5", "-1", "3.25", "1e308", "1e-308", "1e400", "1e-400", "-3",
            "123456789012345678901234567890", "0.000001", "10"]
FUNCTIONS = ["sin", "tanh", "erf", "exp", "log", "sqrt", "abs"]
OPERATORS = ["+", "-", "*", "/", "**"]
JUNK = [*"()[]{};:'\"\\`$@#!?~^&|<>,_=.",
    "__import__('os')", "lambda", "\x00", "é", "x.y", "1e", "**-", "\n", "  ", "os.system",
    "q q", "x(1)", "sin()", "exp(1, 2)", "hermite(x, 2)", "[1, 2]", "{}", "𝑥", "∞", "1j",
]


def formulas(var: str) -> st.SearchStrategy[str]:
    """Formulas of the whitelist grammar in ``var``, sometimes with junk spliced in."""
    leaf = st.one_of(st.just(var), st.sampled_from(LITERALS))

    def extend(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(sub, st.sampled_from(OPERATORS), sub, st.booleans()).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})" if t[3] else f"{t[0]}{t[1]}{t[2]}"),
            st.tuples(st.sampled_from(FUNCTIONS), sub).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["0", "1", "3", "7", "30", "31", "-1", "2.5", "1e3"]),
                      sub).map(lambda t: f"hermite({t[0]}, {t[1]})"),
            sub.map(lambda s: f"-{s}"),
        )

    clean = st.recursive(leaf, extend, max_leaves=6)
    spliced = st.tuples(clean, st.sampled_from(JUNK), st.integers(0, 40)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2]:])
    return st.one_of(clean, clean, spliced, st.text(max_size=12))


activations = st.one_of(st.sampled_from(["relu", "tanh", "erf", "sin", "gelu", "linear",
                                         "RELU", "", "nope"]), formulas("x"))


def size_lists() -> st.SearchStrategy[str]:
    part = st.sampled_from(["0", "1", "2", "3", "7", "20", "-5", "1e12", "1e400", "nan", "",
                            "2.5", "1e3", "1_0", "x"])
    return st.lists(part, min_size=0, max_size=5).map(",".join)


def absent_or(*values: str) -> st.SearchStrategy[str | None]:
    """A sane value of an option (``None``: the option left out)."""
    return st.sampled_from([None, *values])


def command_argv(head: list[str],
                 options: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]],
                 flags: list[list[str]]) -> st.SearchStrategy[list[str]]:
    """``head`` + options: one or two of them (the targets) fuzzed, the others sane, so that
    most invocations get past the first check. ``options`` maps a name to (sane, fuzzed)
    strategies of its value; a name without dashes is positional. Values are passed as
    ``--name=value``, which lets "-1", "--" and "" through to the command's own checks."""

    names = list(options)

    def join(values: tuple) -> list[str]:
        argv = list(head)
        for name, value in zip(names, values[:-1], strict=True):
            argv += _arg(name, value)
        return argv + values[-1]

    def build(targets: frozenset[str]) -> st.SearchStrategy[list[str]]:
        parts = [options[k][1] if k in targets else options[k][0] for k in names]
        return st.tuples(*parts, st.sampled_from(flags)).map(join)

    return st.frozensets(st.sampled_from(sorted(options)), min_size=1, max_size=2).flatmap(build)


def _arg(name: str, value: str | None) -> list[str]:
    if value is None:
        return []
    return [f"{name}={value}"] if name.startswith("-") else [value]


# ------------------------------------------------------------------ files

_fresh = itertools.count()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    import numpy as np

    from replicasolve.tap.bonds import random_layered

    d = tmp_path_factory.mktemp("fuzz")
    good = d / "good.npz"
    random_layered([12, 6, 3], 2.0, 1).save_npz(good)
    out = {"good": good}
    (d / "empty.npz").write_bytes(b"")
    out["empty"] = d / "empty.npz"
    (d / "junk.npz").write_bytes(bytes(range(256)) * 7)
    out["junk"] = d / "junk.npz"
    (d / "junk.pt").write_bytes(b"\x80\x04junk" * 50)
    out["junk_pt"] = d / "junk.pt"
    whole = good.read_bytes()
    (d / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    out["truncated"] = d / "truncated.npz"
    with zipfile.ZipFile(d / "wrong.npz", "w") as zf:  # a zip of the wrong things
        zf.writestr("a.npy", b"not an array")
    out["wrong_zip"] = d / "wrong.npz"
    np.savez(d / "one_d.npz", w=np.arange(5.0))
    out["one_d"] = d / "one_d.npz"
    np.savez(d / "nan.npz", w1=np.full((3, 4), np.nan), w2=np.ones((2, 3)))
    out["nan"] = d / "nan.npz"
    (d / "adir").mkdir()
    out["dir"] = d / "adir"
    out["missing"] = d / "missing.npz"
    out["no_parent"] = d / "nowhere" / "w.npz"
    out["existing"] = d / "existing.json"
    out["existing"].write_text("{}")
    return {k: str(v) for k, v in out.items()}


file_kinds = st.sampled_from(["good", "empty", "junk", "junk_pt", "truncated", "wrong_zip",
                              "one_d", "nan", "dir", "missing", "no_parent"])
out_kinds = st.sampled_from(["fresh", "dir", "no_parent", "existing", "junk"])


# ------------------------------------------------------------------ running a command


class _OverBudget(BaseException):
    """Raised by the alarm: BaseException, so no ``except Exception`` swallows it."""


def run_in_process(argv: list[str], budget: float = BUDGET_S) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()

    def alarm(signum, frame):
        raise _OverBudget(f"{argv} ran over {budget} s")

    # SIGVTALRM counts this process's CPU time; SIGPROF belongs to the package's own
    # symbolic time limits, SIGALRM to pytest-timeout
    old = signal.signal(signal.SIGVTALRM, alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, budget)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except _OverBudget:
        pytest.fail(f"over the {budget} s budget: {argv!r}")
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)
    return code, out.getvalue(), err.getvalue()


def run_subprocess(argv: list[str], budget: float = BUDGET_S) -> tuple[int, str, str]:
    import resource

    def limit_cpu() -> None:  # the budget in CPU seconds (+ the interpreter's start)
        resource.setrlimit(resource.RLIMIT_CPU, (int(budget) + 10, int(budget) + 11))

    if any("\x00" in a for a in argv):
        # no operating system passes a NUL inside an argument: no user can type it either,
        # so the example runs in-process, where it still reaches the command's checks
        return run_in_process(argv)
    try:
        # the wall-clock timeout only catches a process that waits without computing
        p = subprocess.run([sys.executable, "-m", "replicasolve", *argv], capture_output=True,
                           text=True, timeout=10 * budget, preexec_fn=limit_cpu)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no end within {10 * budget} s of wall time: {argv!r}")
    if p.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        pytest.fail(f"over the {budget} s CPU budget: {argv!r}")
    return p.returncode, p.stdout, p.stderr


def check(argv: list[str], result: tuple[int, str, str]) -> None:
    code, _out, err = result
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2, 3), (argv, code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].strip(), (argv, err)


# ------------------------------------------------------------------ the commands

SANE_XI = ["q**2/2", "q**3", "q**2/2 + 0.1*q**4", "exp(q) - 1", "0.5*q**2 + q**3"]
SANE_ACT = ["relu", "tanh", "erf", "sin", "x*erf(x)", "tanh(x) + 0.1*x"]


def kernel_argv() -> st.SearchStrategy[list[str]]:
    return command_argv(["kernel"], {
        "activation": (st.sampled_from(SANE_ACT), activations),
        "--depth": (absent_or("0", "1", "2"),
                    st.sampled_from(["-1", "1e400", "nan", "", "--", "2.5", "1e12", "10001"])),
        "--sigma-w2": (absent_or("1", "2", "1.5,2"),
                       st.one_of(small_numbers, st.sampled_from(["1,2,3", "1,,2", ","]))),
        "--sigma-b2": (absent_or("0", "0.1"), small_numbers),
        "--q": (absent_or("0,0.5,1", "-1,0,1"),
                st.one_of(small_numbers, st.sampled_from(["0.5,2", "nan,0", ",", "1,,1"]))),
        "--order": (absent_or("16", "32"),
                    st.sampled_from(["0", "1", "2", "-3", "nan", "1e12", "", "3",
                                     "99999999999999999999"])),
    }, [[], ["--json"], ["--latex"]])


def parisi_argv(files: dict[str, str]) -> st.SearchStrategy[list[str]]:
    def out_path(kind: str) -> str:
        if kind == "fresh":
            return str(Path(files["dir"]) / f"r{next(_fresh)}.json")
        return files[kind]

    return command_argv(["parisi"], {
        "--xi": (st.sampled_from(SANE_XI), formulas("q")),
        "--T": (st.sampled_from(["0.3", "0.5", "1", "2", "0"]), numbers),
        # 0 < |h| < 1e-3 left out: the Ising grid is sized by h (listed with the commit)
        "--field": (absent_or("0", "0.3"), numbers.filter(_not_tiny)),
        "--spins": (st.sampled_from(["ising", "spherical"]),
                    st.sampled_from(["SPHERICAL", "potts", "", "--"])),
        "--rsb": (st.sampled_from(["rs", "1rsb", "2"]),
                  st.sampled_from(["-1", "zz", "1e400", "full", "0", "99999", "", "1.5"])),
        "--ks": (st.just(None), st.sampled_from(["1,2,3", "1,,2", "3,2,1", "0,1,2", "1",
                                                 "1,2,1e400", ""])),
        "--tol": (absent_or("1e-6", "1e-8"), numbers),
        "--maxiter": (absent_or("200", "2000"),
                      st.sampled_from(["0", "-1", "1", "1e3", "nan", "", "1e400"])),
        "--out": (st.just(None), out_kinds.map(out_path)),
    }, [[], [], ["--json"], ["--force"], ["--quiet"]])


def _not_tiny(text: str) -> bool:
    try:
        return not 0 < abs(float(text)) < 1e-3
    except ValueError:
        return True


# relu left out: its landscape entropy and ground state take ~25 s (over the budget)
LANDSCAPE_ACT = [a for a in SANE_ACT if a != "relu"]
landscape_activations = activations.filter(lambda a: a.strip().lower() != "relu")


def landscape_argv() -> st.SearchStrategy[list[str]]:
    return command_argv(["landscape"], {
        "action": (st.sampled_from(["solve", "solve", "entropy", "ground-state"]),
                   st.sampled_from(["melt", "", "--"])),
        "--activation": (st.sampled_from(LANDSCAPE_ACT), landscape_activations),
        "--depth": (st.sampled_from(["1", "2"]),
                    st.sampled_from(["0", "-1", "1e400", "nan", "", "1.5", "10001"])),
        "--T": (st.sampled_from(["0.5", "1", "2"]), numbers),
        "--E": (absent_or("-0.5", "-1"), numbers),
        "--sigma-w2": (absent_or("1", "2"), small_numbers),
        "--sigma-b2": (absent_or("0", "0.1"), small_numbers),
        "--alpha": (st.just(None), numbers),
    }, [[], ["--json"], ["--stability"], ["--quiet"]])


def msk_argv() -> st.SearchStrategy[list[str]]:
    return command_argv(["msk"], {
        "--sizes": (absent_or("20,10,5", "784,512,10"),
                    st.one_of(size_lists(), st.just("9" * 400 + ",2"))),
        "--variance": (absent_or("2", "1,2"),
                       st.one_of(numbers, st.sampled_from(["1,2,3", "2,2,2,2,2,2,2,2", ","]))),
    }, [[], ["--json"]])


def tap_argv(files: dict[str, str]) -> st.SearchStrategy[list[str]]:
    return command_argv(["tap"], {
        "weights": (st.just(None), file_kinds.map(lambda k: files[k])),
        "--sizes": (st.sampled_from(["12,6,3", "20,10"]), size_lists()),
        "--seed": (absent_or("0", "7"),
                   st.sampled_from(["-1", "1e400", "2.5", "nan", "", "99999999999999999999"])),
        "--variance": (absent_or("2", "1,2"), st.one_of(small_numbers, st.just("1,2,3"))),
        "--rtol": (absent_or("1e-8"), numbers),
        "--threshold": (st.just(None), numbers),
        "--reference": (st.just(None), file_kinds.map(lambda k: files[k])),
        "--definition": (st.just(None), st.sampled_from(["plain", "corrected", "odd"])),
    }, [[], ["--spectrum"], ["--json"], ["--quiet"]])


def derive_argv() -> st.SearchStrategy[list[str]]:
    return command_argv(["derive"], {
        "--xi": (st.sampled_from(SANE_XI), formulas("q")),
        "--spins": (st.sampled_from(["ising", "spherical"]),
                    st.sampled_from(["SPHERICAL", "potts", "", "--"])),
        "--ansatz": (st.sampled_from(["rs", "1rsb"]),
                     st.sampled_from(["-1", "zz", "0rsb", "99999rsb", "full", "", "1.5",
                                      "RS", "1e400rsb"])),
        "--check": (absent_or("T=0.6,h=0.1", "T=1"),
                    st.one_of(st.tuples(st.sampled_from(["T", "h", "x", "", "T=1,T"]),
                                        numbers).map(lambda t: f"{t[0]}={t[1]}"),
                              st.sampled_from(["", ",", "T==1", "h=0.1", "T=0.5,h=1e400",
                                               "T=-1", "T=0"]))),
    }, [[], ["--json"], ["--markdown"]])


COMMANDS = ["kernel", "parisi", "landscape", "msk", "tap", "derive"]


@pytest.mark.parametrize("argv", [
    ["kernel", "relu", "--depth=--"],  # argparse gave [] to the command
    ["tap", "--sizes=20,10", "--threshold=--"],
    ["msk", "--sizes=--"],
    ["parisi", "--xi=q**2/2", "--T=--"],
])
def test_found_by_fuzzing(argv: list[str]) -> None:
    code, _out, err = run_in_process(argv)
    check(argv, (code, _out, err))
    assert code == 2 and "expected one argument" in err



def _strategy(command: str, files: dict[str, str]) -> st.SearchStrategy[list[str]]:
    return {"kernel": kernel_argv, "landscape": landscape_argv, "msk": msk_argv,
            "derive": derive_argv,
            "parisi": lambda: parisi_argv(files), "tap": lambda: tap_argv(files)}[command]()


@pytest.mark.parametrize("command", COMMANDS)
def test_fuzz_cli(command: str, files: dict[str, str]) -> None:
    @QUICK
    @given(argv=_strategy(command, files))
    def run(argv: list[str]) -> None:
        check(argv, run_in_process(argv))

    run()


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_fuzz_cli_long(command: str, files: dict[str, str]) -> None:
    @SLOW
    @given(argv=_strategy(command, files))
    def run(argv: list[str]) -> None:
        check(argv, run_subprocess(argv))

    run()


def test_threshold_of_a_kinked_activation_is_refused() -> None:
    """``landscape ground-state --activation relu --depth 1`` ended in ZeroDivisionError:
    xi''(1) is infinite for ReLU, so the marginal-state formula divided by L = 0."""
    from replicasolve.errors import InvalidInputError
    from replicasolve.models.landscape import RandomMLPLandscape
    from replicasolve.solvers.spherical import threshold_energy

    with pytest.raises(InvalidInputError, match="infinite"):
        threshold_energy(RandomMLPLandscape("relu", 1, 1.0, 0.0).model(0.0))
