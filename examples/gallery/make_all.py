"""Regenerate every gallery figure in order and print one summary table.

    python examples/gallery/make_all.py [--out gallery_out] [--force] [--quick] [--workers N]

Runs, in order: msk_tc_depth (a), sk_at_line (b), activation_phases (c), training_tc (d),
descriptor_random_vs_trained (e); each prints its check against an independent reference.
Existing outputs are refused (before that script's work) unless ``--force``. Exit status: 0
all checks passed, 1 some check failed, 2 bad input or refused outputs.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # imported, not run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import entry, parse_args

from replicasolve.errors import InvalidInputError

SCRIPTS = ("msk_tc_depth", "sk_at_line", "activation_phases", "training_tc",
           "descriptor_random_vs_trained")


def load(name: str) -> Any:
    """The gallery script ``name`` as a module (its ``main(argv)`` returns its result)."""
    path = Path(__file__).resolve().parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"gallery_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every gallery script with the same options; return their results."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(__doc__, argv)  # the same options; bad ones fail here, before any work
    modules = [load(name) for name in SCRIPTS]
    existing = [str(Path(args.out) / o) for m in modules for o in m.OUTPUTS
                if (Path(args.out) / o).exists()]
    if existing and not args.force:  # refused before any script starts
        raise InvalidInputError(f"{', '.join(existing)} already exist(s) (use --force)")
    t0 = time.perf_counter()
    results = []
    for name, module in zip(SCRIPTS, modules, strict=True):
        print(f"\n=== {name} ===", flush=True)
        results.append(module.main(argv))
    print("\nsummary:")
    for r in results:
        print(f"  {r['name']:30s} {'PASS' if r['passed'] else 'FAIL'}  {r['seconds']:6.1f} s")
    total = time.perf_counter() - t0
    print(f"  {'total':30s}       {total:6.1f} s")
    return {"name": "make_all", "passed": all(r["passed"] for r in results),
            "results": results, "seconds": total}


if __name__ == "__main__":
    raise SystemExit(entry(main))
