"""Run every ``bench_*.py`` and write one table of their results to ``RESULTS.md``.

Each benchmark runs in its own subprocess (``--quick`` unless ``--full``) with a timeout and
ends by printing one ``BENCH-RESULT {json}`` line (see ``common.py``). A benchmark that
crashes, times out or prints no result line still gets a row, marked failed, with the reason.

Run: python benchmarks/run_all.py [--full] [--only NAME ...] [--timeout S] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import bench_name, machine_info, parse_result  # noqa: E402


@dataclass
class Row:
    """One benchmark's outcome: its name, mode, status (``ok``, ``failed``, ``timeout``),
    seconds of wall time, the parsed result (None unless ok) and, if failed, why."""

    name: str
    mode: str
    status: str
    seconds: float
    result: dict[str, Any] | None
    reason: str = ""


def discover(directory: Path, only: list[str] | None = None) -> list[Path]:
    """The ``bench_*.py`` files of ``directory`` in name order, restricted to ``only``
    (names without ``bench_`` and ``.py``); an unknown name is a ValueError."""
    files = sorted(directory.glob("bench_*.py"))
    if only:
        names = {bench_name(str(f)): f for f in files}
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(
                f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        files = [names[n] for n in only]
    return files


def _tail(text: str, lines: int = 3) -> str:
    kept = [x for x in text.strip().splitlines() if x.strip()][-lines:]
    return " / ".join(kept)[-300:]


def run_one(path: Path, quick: bool, timeout: float) -> Row:
    """Run one benchmark script in a subprocess and turn its output into a :class:`Row`."""
    name = bench_name(str(path))
    mode = "quick" if quick else "full"
    cmd = [sys.executable, str(path)] + (["--quick"] if quick else [])
    env = dict(os.environ)
    # the scripts import their helpers from the benchmarks folder and the package from here
    env["PYTHONPATH"] = os.pathsep.join(
        [str(path.parent), str(HERE.parent)] + ([env["PYTHONPATH"]] if "PYTHONPATH" in env else [])
    )
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(path.parent.parent),
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Row(
            name,
            mode,
            "timeout",
            time.perf_counter() - t0,
            None,
            f"timed out after {timeout:.0f} s" + (f"; last output: {_tail(out)}" if out else ""),
        )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return Row(
            name,
            mode,
            "failed",
            seconds,
            None,
            f"exit {proc.returncode}: {_tail(proc.stderr or proc.stdout)}",
        )
    try:
        result = parse_result(proc.stdout)
    except ValueError as exc:
        return Row(name, mode, "failed", seconds, None, str(exc))
    if result is None:
        return Row(name, mode, "failed", seconds, None, "no BENCH-RESULT line in its output")
    return Row(name, mode, "ok", seconds, result)


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    text = f"{x:.3g}" if abs(x) < 1e5 else f"{x:.2e}"
    return f"{text} {unit}".strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    """The Markdown table of ``rows``: benchmark, mode, figure, baseline, ratio, goal, met."""
    out = [
        "| benchmark | mode | figure | baseline | ratio | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.result is None:
            out.append(
                f"| {r.name} | {r.mode} | **{r.status.upper()}** | "
                f"{_cell(r.reason)} | — | — | {r.status} |"
            )
            continue
        res = r.result
        unit = res["figure_unit"]
        # a baseline stopped at a time cap says "lower bound" in its label: so is the ratio
        bound = "≥ " if "lower bound" in res["baseline_label"] else ""
        base = "—" if res["baseline"] is None else bound + _fmt(res["baseline"], unit)
        if res["baseline_label"]:
            base += f" ({_cell(res['baseline_label'])})"
        ratio = "—" if res["ratio"] is None else bound + _fmt(res["ratio"])
        met = {True: "yes", False: "**no**", None: "n/a"}[res["met"]]
        out.append(
            f"| {r.name} | {r.mode} | {_fmt(res['figure'], unit)} | {base} | "
            f"{ratio} | {_cell(res['goal'])} | {met} |"
        )
    return "\n".join(out) + "\n"


def header(before: dict[str, Any], after: dict[str, Any], modes: set[str]) -> str:
    """The machine and run facts that go above the table."""
    shared = ""
    if before.get("loadavg") and before.get("affinity"):
        if max(before["loadavg"][0], (after.get("loadavg") or [0])[0]) > 0.5:
            shared = (
                " The machine was shared with other work while these ran (see the load"
                " averages): the absolute figures are noisy; the ratios compare two"
                " codes measured in the same run, under the same load."
            )
    return (
        "# Benchmark results\n\n"
        f"Written by `benchmarks/run_all.py` on {before['date']} (finished {after['date']}), "
        f"mode: {', '.join(sorted(modes)) or 'none'}.\n\n"
        f"- machine: `os.cpu_count()` = {before['cpu_count']}, CPU affinity = "
        f"{before['affinity']} cores; {before['platform']}\n"
        f"- load average (1, 5, 15 min) before: {before['loadavg']}, after: "
        f"{after['loadavg']}\n"
        f"- python {before['python']}, numpy {before['numpy']}\n\n"
        "Figure: the engine's measured figure; baseline: the same task by the baseline code "
        "named beside it, measured in the same run; ratio: baseline / figure unless the "
        "label says otherwise (≥: the baseline was stopped at a time cap, so its time and "
        "the ratio are lower bounds; met n/a: the goal is for the full settings)." + shared + "\n\n"
    )


def write_results(
    rows: list[Row],
    before: dict[str, Any],
    after: dict[str, Any],
    path: Path,
    json_path: Path | None = None,
) -> str:
    """Write the header and table to ``path`` (and everything as JSON to ``json_path``)."""
    text = header(before, after, {r.mode for r in rows}) + table(rows)
    path.write_text(text, encoding="utf-8")
    if json_path is not None:
        json_path.write_text(
            json.dumps(
                {
                    "machine_before": before,
                    "machine_after": after,
                    "rows": [asdict(r) for r in rows],
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="full settings (default: --quick)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these (e.g. tap_beta_c)")
    ap.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per benchmark (default 300 quick, 1800 full)",
    )
    ap.add_argument("--dir", type=Path, default=HERE, help="folder of the bench_*.py files")
    ap.add_argument("--out", type=Path, default=None, help="default: DIR/RESULTS.md")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    timeout = args.timeout if args.timeout is not None else (1800.0 if args.full else 300.0)
    if not timeout > 0:
        print(f"run_all: --timeout must be positive, got {timeout}", file=sys.stderr)
        return 2
    try:
        files = discover(args.dir, args.only)
    except ValueError as exc:
        print(f"run_all: {exc}", file=sys.stderr)
        return 2
    if not files:
        print(f"run_all: no bench_*.py in {args.dir}", file=sys.stderr)
        return 2
    before = machine_info()
    rows = []
    for f in files:
        print(f"running {bench_name(str(f))} ({'full' if args.full else 'quick'}) ...", flush=True)
        row = run_one(f, not args.full, timeout)
        print(
            f"  {row.status} in {row.seconds:.1f} s" + (f": {row.reason}" if row.reason else ""),
            flush=True,
        )
        rows.append(row)
    after = machine_info()
    out = args.out or args.dir / "RESULTS.md"
    print(write_results(rows, before, after, out, args.json))
    return 0 if all(r.status == "ok" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
