"""Cold starts of the kernel path: fresh processes, wall clock including Python's start-up.

Figures (best of ``--repeats`` fresh processes each):

1. ``import replicasolve`` (target < 0.3 s);
2. ``replicasolve kernel erf --depth 10 --q=0.5`` with the network's tables already in the
   cache (target < 1 s); the first run, which builds them, is printed as well;
3. first use of an activation never seen before (a formula with a random coefficient, a new
   one in every process, empty cache): ``xi_function(formula, 3, 1.5, 0.1)`` and ξ, ξ', ξ'',
   ξ''' on 10^4 overlaps (target < 1 s). The tabulated route compiles nothing per
   activation (one numba kernel, compiled once per install); this is sympy's parse and
   checks plus the quadrature of the layer maps.

Each process also reports whether it imported sympy, numba and scipy.special.

Baseline (same run): figure 2 in a process that first imports sympy and numba, what the
cached command cost while its path needed them. ``--before DIR`` also runs figures 1-3
with an older copy of the package (``DIR/replicasolve``, e.g. from ``git archive``) first
on ``PYTHONPATH``, for a before/after table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

_REPORT = (
    "import sys, json; print('MODULES ' + json.dumps("
    "[m for m in ('sympy', 'numba', 'scipy.special') if m in sys.modules]))"
)
_IMPORT = "import replicasolve\n" + _REPORT
_CLI = (
    "{pre}from replicasolve.cli import main\n"
    "main(['kernel', 'erf', '--depth', '10', '--q=0.5', '--json'])\n" + _REPORT
)
_NEW = (
    "import numpy as np\nfrom replicasolve.kernels.compose import xi_function\n"
    "xf = xi_function({formula!r}, 3, 1.5, 0.1)\n"
    "xf.derivatives(np.linspace(-1, 1, 10_000))\n" + _REPORT
)


def _run(code: str, env: dict) -> tuple[float, list[str]]:
    """Wall time of a fresh ``python -c code`` and the heavy modules it imported."""
    t0 = time.perf_counter()
    # run from a neutral folder: "python -c" puts the working directory first on
    # sys.path, which would shadow the package that PYTHONPATH names (--before)
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    wall = time.perf_counter() - t0
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("MODULES ")][-1]
    return wall, json.loads(line[len("MODULES ") :])


def _best(code, env, repeats: int) -> tuple[float, list[str]]:
    runs = [_run(code() if callable(code) else code, env) for _ in range(repeats)]
    return min(r[0] for r in runs), runs[-1][1]


def _measure(env: dict, repeats: int, rng) -> dict:
    out = {}
    out["import"] = _best(_IMPORT, env, repeats)
    with tempfile.TemporaryDirectory() as cache:
        cenv = dict(env, REPLICASOLVE_CACHE_DIR=cache)
        out["cli_first"] = _run(_CLI.format(pre=""), cenv)
        out["cli_cached"] = _best(_CLI.format(pre=""), cenv, repeats)
        out["cli_heavy"] = _best(_CLI.format(pre="import sympy, numba\n"), cenv, repeats)

    def new_formula() -> str:
        return _NEW.format(formula=f"tanh(x) + {rng.uniform(0.1, 0.9):.6f}*sin(2*x)")

    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            runs.append(_run(new_formula(), dict(env, REPLICASOLVE_CACHE_DIR=cache)))
    out["new_activation"] = (min(r[0] for r in runs), runs[-1][1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 processes per figure, not 5")
    ap.add_argument("--repeats", type=int, default=None, help="processes per figure")
    ap.add_argument(
        "--before",
        default=None,
        help="folder holding an older replicasolve package to compare with",
    )
    args = ap.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    if repeats < 1:
        print("error: --repeats must be >= 1", file=sys.stderr)
        sys.exit(2)
    if args.before and not os.path.isdir(os.path.join(args.before, "replicasolve")):
        print(f"error: --before {args.before}: no replicasolve package in it", file=sys.stderr)
        sys.exit(2)
    rng = np.random.default_rng()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    now = _measure(env, repeats, rng)
    then = None
    if args.before:
        then = _measure(dict(env, PYTHONPATH=os.path.abspath(args.before)), repeats, rng)

    labels = {
        "import": "import replicasolve (target < 0.3 s)",
        "cli_first": "kernel erf --depth 10, tables not cached (builds them)",
        "cli_cached": "kernel erf --depth 10, tables cached (target < 1 s)",
        "cli_heavy": "baseline: the same with sympy + numba imported first",
        "new_activation": "new activation, depth 3, 10^4 q, empty cache (target < 1 s)",
    }
    print(f"fresh processes, wall clock incl. Python start-up, best of {repeats}")
    for key, label in labels.items():
        wall, mods = now[key]
        mods_text = ", ".join(mods) if mods else "none of sympy/numba/scipy.special"
        line = f"  {label:<62} {wall:6.2f} s  imports {mods_text}"
        if then is not None:
            line += f"   (before: {then[key][0]:.2f} s, {', '.join(then[key][1]) or '-'})"
        print(line)
    cached, heavy = now["cli_cached"][0], now["cli_heavy"][0]
    met = bool(now["import"][0] < 0.3 and cached < 1.0 and now["new_activation"][0] < 1.0)
    print(f"RATIO baseline / cached command = {heavy / cached:.1f}")
    print(
        "BENCH-RESULT "
        + json.dumps(
            {
                "name": "kernel_cold",
                "figure": cached,
                "figure_unit": "s",
                "baseline": heavy,
                "baseline_label": "cached kernel command with sympy and numba imported first",
                "ratio": heavy / cached,
                "goal": "import < 0.3 s, cached kernel command < 1 s, new activation < 1 s",
                "met": met,
            }
        )
    )


if __name__ == "__main__":
    main()
