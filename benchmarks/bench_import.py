"""Import cost of the facade: ``import replicasolve`` against ``import numpy``.

The facade imports nothing heavy and resolves its names on first use, so importing it
should cost less than numpy alone. Each figure is the median wall time of fresh interpreters
(``python -c``), measured in the same run as its baseline; the ratio is the figure
(target: ``import replicasolve`` below 1x ``import numpy``; the first facade name used
costs what its module costs, shown for ``rs.solve`` and ``rs.MixedPSpin``).

Run: python benchmarks/bench_import.py [--repeat N] [--quick]  (--quick: 3 repeats)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from common import add_quick, print_result


def cold(code: str, repeat: int) -> float:
    """Median seconds of ``python -c code`` in fresh interpreters."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    add_quick(ap)
    args = ap.parse_args()
    n = 3 if args.quick else args.repeat
    empty = cold("pass", n)
    base = cold("import numpy", n) - empty
    rows = [
        ("import replicasolve", "import replicasolve"),
        ("rs.MixedPSpin", "import replicasolve as rs; rs.MixedPSpin"),
        ("rs.solve", "import replicasolve as rs; rs.solve"),
    ]
    print(
        f"interpreter start {empty * 1e3:.0f} ms (subtracted); import numpy "
        f"{base * 1e3:.0f} ms (baseline)"
    )
    first = None
    for label, code in rows:
        t = cold(code, n) - empty
        first = t if first is None else first
        print(f"{label:<22} {t * 1e3:7.0f} ms   ratio to import numpy {t / base:5.2f}")
    # the result line uses the whole interpreter times (start included): the differences
    # above are within the noise of a shared machine when the facade costs almost nothing
    # (they can come out negative), while the totals are always positive and comparable
    rs_total, np_total = first + empty, base + empty
    print_result(
        "import",
        rs_total * 1e3,
        "ms",
        np_total * 1e3,
        "python -c 'import numpy' (totals incl. interpreter start)",
        np_total / rs_total,
        "ratio >= 1 (import replicasolve <= import numpy)",
        bool(rs_total <= np_total),
    )


if __name__ == "__main__":
    main()
