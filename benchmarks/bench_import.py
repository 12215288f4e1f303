"""Import cost of the facade: ``import replicasolve`` against ``import numpy``.

The facade imports nothing heavy and resolves its names on first use, so importing it
should cost less than numpy alone. Each figure is the median wall time of fresh interpreters
(``python -c``), measured in the same run as its baseline; the ratio is the figure
(target: ``import replicasolve`` below 1x ``import numpy``; the first facade name used
costs what its module costs, shown for ``rs.solve`` and ``rs.MixedPSpin``).

Run: python benchmarks/bench_import.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


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
    n = ap.parse_args().repeat
    empty = cold("pass", n)
    base = cold("import numpy", n) - empty
    rows = [
        ("import replicasolve", "import replicasolve"),
        ("rs.MixedPSpin", "import replicasolve as rs; rs.MixedPSpin"),
        ("rs.solve", "import replicasolve as rs; rs.solve"),
    ]
    print(f"interpreter start {empty * 1e3:.0f} ms (subtracted); import numpy "
          f"{base * 1e3:.0f} ms (baseline)")
    for label, code in rows:
        t = cold(code, n) - empty
        print(f"{label:<22} {t * 1e3:7.0f} ms   ratio to import numpy {t / base:5.2f}")


if __name__ == "__main__":
    main()
