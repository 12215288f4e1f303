"""BLAS thread limits: a pool loaded inside an open ``blas_threads`` context is limited too.

Run in a fresh interpreter, where numpy's and scipy's OpenBLAS are not loaded yet when the
context is entered (the situation of a sweep worker before its first point), on a machine
with at least 2 cores (where OpenBLAS's default is more than one thread).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, threadpoolctl
from replicasolve.blas import blas_threads, refresh

def info():
    out = {}
    for lib in threadpoolctl.threadpool_info():
        if lib["user_api"] == "blas":
            out["scipy" if "scipy.libs" in lib["filepath"] else "numpy"] = lib["num_threads"]
    return out

rec = {}
with blas_threads(1):
    rec["entered"] = info()
    import numpy, scipy.optimize  # loads both OpenBLAS libraries
    rec["loaded"] = info()
    refresh()
    rec["refreshed"] = info()
    with blas_threads():  # a solver's own tap_blas: must not raise the enclosing limit
        rec["nested"] = info()
    rec["after_nested"] = info()
rec["outside"] = info()
print(json.dumps(rec))
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS runs 1 thread anyway")
def test_late_loaded_pools_are_limited_and_restored() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "REPLICASOLVE_BLAS_THREADS")}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, check=True)
    rec = json.loads(out.stdout.strip().splitlines()[-1])
    default = rec["outside"]
    assert default["numpy"] > 1 and default["scipy"] > 1  # the libraries' own defaults
    assert rec["loaded"] == default  # loaded inside the context: not limited yet
    assert rec["refreshed"] == {"numpy": 1, "scipy": 1}
    assert rec["nested"] == {"numpy": 1, "scipy": 1}
    assert rec["after_nested"] == {"numpy": 1, "scipy": 1}
