"""Helpers shared by the benchmark scripts: BLAS thread limits, machine facts, result line.

Every ``bench_*.py`` ends by printing exactly one line

    BENCH-RESULT {"name": ..., "figure": ..., "figure_unit": ..., "baseline": ...,
                  "baseline_label": ..., "ratio": ..., "goal": ..., "met": ...}

(one line of JSON after the tag), which ``run_all.py`` collects into ``RESULTS.md``.
Use :func:`print_result` to write it and :func:`parse_result` to read it back.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

TAG = "BENCH-RESULT "
KEYS = ("name", "figure", "figure_unit", "baseline", "baseline_label", "ratio", "goal", "met")


@contextmanager
def same_blas_as_engine() -> Iterator[None]:
    """Run a baseline under exactly the BLAS thread limits the TAP engine runs under.

    The engine wraps its heavy work in :func:`replicasolve.blas.blas_threads` (numpy's
    OpenBLAS at one thread, scipy's at ``REPLICASOLVE_BLAS_THREADS``, default 1); a baseline
    timed outside that context would use every core's spinning threads and be slower for
    reasons that have nothing to do with its algorithm.
    """
    from replicasolve.blas import blas_threads, refresh

    with blas_threads():
        refresh()  # a scipy module imported since entry is limited too
        yield


def machine_info() -> dict[str, Any]:
    """Facts about this machine and run that change benchmark figures: date (UTC), core
    counts (``os.cpu_count()`` and the CPU affinity of this process), load averages
    (1, 5, 15 min), python and numpy versions."""
    import numpy as np

    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        affinity = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpu_count": os.cpu_count(),
        "affinity": affinity,
        "loadavg": load,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key} must be a number or None, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite, got {value!r}")
    return value


def result_dict(
    name: str,
    figure: float,
    figure_unit: str,
    baseline: float | None,
    baseline_label: str,
    ratio: float | None,
    goal: str,
    met: bool | None,
) -> dict[str, Any]:
    """The result of one benchmark as a checked dict with the keys of :data:`KEYS`.

    ``figure`` is the engine's measured figure in ``figure_unit``; ``baseline`` the
    baseline's in the same unit (None where there is none), ``ratio`` normally
    baseline/figure (None where there is no baseline), ``goal`` the target in words, ``met``
    whether it was met (None where it cannot be judged in this run).
    """
    fig = _number(figure, "figure")
    if fig is None:
        raise TypeError("figure must be a number")
    if met is not None and not isinstance(met, bool):
        raise TypeError(f"met must be True, False or None, got {met!r}")
    for key, text in (
        ("name", name),
        ("figure_unit", figure_unit),
        ("baseline_label", baseline_label),
        ("goal", goal),
    ):
        if not isinstance(text, str):
            raise TypeError(f"{key} must be a string, got {text!r}")
    return {
        "name": name,
        "figure": fig,
        "figure_unit": figure_unit,
        "baseline": _number(baseline, "baseline"),
        "baseline_label": baseline_label,
        "ratio": _number(ratio, "ratio"),
        "goal": goal,
        "met": met,
    }


def print_result(
    name: str,
    figure: float,
    figure_unit: str,
    baseline: float | None,
    baseline_label: str,
    ratio: float | None,
    goal: str,
    met: bool | None,
) -> dict[str, Any]:
    """Print the one ``BENCH-RESULT {json}`` line of a benchmark (arguments as in
    :func:`result_dict`) and return the dict."""
    res = result_dict(name, figure, figure_unit, baseline, baseline_label, ratio, goal, met)
    print(TAG + json.dumps(res), flush=True)
    return res


def parse_result(text: str) -> dict[str, Any] | None:
    """The last ``BENCH-RESULT`` line of a benchmark's output as a checked dict, or None
    where there is none. Raises ValueError on a line that is there but malformed."""
    found = None
    for line in text.splitlines():
        if line.startswith(TAG):
            found = line[len(TAG) :]
    if found is None:
        return None
    try:
        raw = json.loads(found)
    except json.JSONDecodeError as exc:
        raise ValueError(f"BENCH-RESULT line is not JSON: {exc}") from None
    if not isinstance(raw, dict) or set(raw) != set(KEYS):
        raise ValueError(f"BENCH-RESULT line must have exactly the keys {KEYS}")
    try:
        return result_dict(**raw)
    except TypeError as exc:
        raise ValueError(f"BENCH-RESULT line: {exc}") from None


def bench_name(file: str) -> str:
    """The benchmark's name from its file name (``bench_tap_beta_c.py`` -> ``tap_beta_c``)."""
    base = os.path.basename(file)
    return base.removeprefix("bench_").removesuffix(".py")


def add_quick(parser: Any) -> None:
    """Add the ``--quick`` flag every benchmark has (short settings, under ~60 s here)."""
    parser.add_argument(
        "--quick", action="store_true", help="short settings (a smoke run, under ~60 s on 2 cores)"
    )


if __name__ == "__main__":  # pragma: no cover
    json.dump(machine_info(), sys.stdout, indent=1)
