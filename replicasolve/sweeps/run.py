"""Running a sweep: serially, on a local process pool, or on a Dask cluster — resumably.

Points are computed in chunks of warm chains (points along the spec's warm axis, each
seeded by the one before it: :meth:`SweepSpec.chains`; without warm starts every point is
its own chain); the parent process stores each finished chunk at once
(:class:`~replicasolve.sweeps.store.PointStore`), so interrupting a run and starting it
again computes only the missing points. Every executor calls the same pure function per
point and the store keeps each number's exact ``repr``, so serial, pool and Dask runs give
identical Datasets.

Scale: the points still to do are a bool mask, the chains are generated lazily from it
(:meth:`SweepSpec.iter_chains`) and handed out a few groups at a time, and finished points
go straight into flat arrays (:class:`~replicasolve.sweeps.store.ResultArrays`), so memory
is the output arrays (8 bytes a point and variable) plus 2 bytes a point, whatever the
number of points. Before any work a sweep is checked against this machine: the arrays must
fit in the available memory and the files on the disk, and a sweep of more than
:data:`PROBE_MIN_POINTS` points first computes a sample of its chains spread over the grid
(stored as ordinary results) and is refused if, at the measured time per point, it would
take more than ``max_hours`` (:data:`MAX_SWEEP_HOURS` by default).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExecutorError, InvalidInputError, ReplicaSolveError
from ..progress import Reporter
from .quantities import compute_point, compute_seeded
from .spec import SweepSpec, load_spec
from .store import PointStore, ResultArrays, load_sweep, save_dataset

__all__ = ["MAX_SWEEP_HOURS", "PROBE_MIN_POINTS", "SweepOutcome", "check_resources",
           "execute", "run_sweep", "shutdown_pool"]

_EXECUTORS = ("local", "dask")
DASK_CONNECT_TIMEOUT_S = 5.0

MAX_SWEEP_HOURS = 24.0  # a sweep estimated to take longer (wall clock) is refused
PROBE_MIN_POINTS = 1000  # larger sweeps time a sample of their chains before the rest
PROBE_CHAINS = 32  # at most this many sampled chains ...
PROBE_SECONDS = 1.0  # ... or this much time (after the chain in progress)
LOG_MIN_S, LOG_MAX_S = 10.0, 60.0  # the interval between progress lines off a terminal
MAX_GROUP = 256  # points handed out at once: also caps what a kill can lose


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`execute` did.

    Attributes:
        dataset: the complete sweep (``xarray.Dataset``).
        path: the netCDF file.
        status: ``"computed"`` (the file was written now) or ``"complete"`` (``out``
            already held this very sweep: nothing was computed or written).
        computed: points computed by this call.
        reused: points taken from an interrupted earlier run.
        failed: points whose computation raised (NaN in the file; see its ``errors``).
        executor: the outcome's label for how the points were run, not always the
            ``executor=`` asked for: ``"serial"`` for an ``executor="local"`` run done in
            this process (one worker asked for, one core, or a single chain of points; it is
            not an ``executor=`` value that :func:`execute` or :func:`run_sweep` accept),
            ``"local"`` (a process pool), ``"dask"``, or ``"none"`` (status ``"complete"``:
            nothing was run).
        workers: processes (or Dask workers) used.
    """

    dataset: Any
    path: Path
    status: str
    computed: int
    reused: int
    failed: int
    executor: str
    workers: int


def _compute_chunk(kind: str, quantity: str, solver: Mapping[str, Any],
                   items: Sequence[tuple[int, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Worker side: compute independent points (cold); see :func:`_compute_chains`."""
    return _compute_chains(kind, quantity, solver, [[item] for item in items])


def _compute_chains(kind: str, quantity: str, solver: Mapping[str, Any],
                    chains: Sequence[Sequence[tuple[int, Mapping[str, Any]]]],
                    warm: bool = False) -> list[dict[str, Any]]:
    """Worker side: compute chains of points in order; with ``warm`` each point is seeded
    by the state of the point before it in its chain (the first point, and a point after a
    failed one, start cold). A ReplicaSolveError at one point is recorded, not fatal (one
    non-converging corner must not end a long sweep).

    BLAS runs single-threaded here: points are the unit of parallelism, and OpenBLAS
    threads spinning against the other workers (and numpy's against scipy's pool) made a
    tiny eigenvalue problem cost milliseconds instead of microseconds.
    """
    from ..blas import blas_threads, refresh

    out = []
    with blas_threads(1):
        for chain in chains:
            state = None
            for i, params in chain:
                refresh()  # the first point may have loaded scipy's BLAS: limit it too
                try:
                    if warm:
                        value, state = compute_seeded(kind, quantity, params, solver, state)
                    else:
                        value = compute_point(kind, quantity, params, solver)
                    out.append({"i": i, "v": value, "e": None})
                except ReplicaSolveError as exc:
                    state = None
                    out.append({"i": i, "v": {}, "e": f"{type(exc).__name__}: {exc}"})
    return out


def _groups(chains: Iterable[list[Any]], size: int) -> Iterator[list[list[Any]]]:
    """Consecutive groups of whole ``chains`` of at least ``size`` points each (the last
    may be smaller), lazily."""
    cur: list[list[Any]] = []
    n = 0
    for c in chains:
        cur.append(c)
        n += len(c)
        if n >= size:
            yield cur
            cur, n = [], 0
    if cur:
        yield cur


def _group_size(points: int, workers: int) -> int:
    """Points per group: several groups per worker balances uneven point costs."""
    return max(1, min(MAX_GROUP, math.ceil(points / (8 * workers))))


def _check_args(executor: str, workers: int | None, scheduler: Any) -> None:
    if executor not in _EXECUTORS:
        raise InvalidInputError(f"executor must be one of {', '.join(_EXECUTORS)}, "
                                f"got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InvalidInputError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None and executor != "dask":
        raise InvalidInputError("a scheduler is only used with executor='dask'")
    if isinstance(scheduler, str) and "://" not in scheduler and ":" not in scheduler:
        raise InvalidInputError(
            f"a Dask scheduler address looks like tcp://host:port, got {scheduler!r}")


def _check_out(out: Path, spec: SweepSpec, force: bool) -> Any:
    """The existing Dataset if ``out`` already holds this sweep (and not ``force``)."""
    if out.is_dir():
        raise InvalidInputError(f"{out} is a directory; --out needs a file name")
    if not out.exists():
        return None
    try:
        ds = load_sweep(out)
    except InvalidInputError:
        ds = None
    same = ds is not None and ds.attrs.get("spec_key") == spec.key
    if force:
        return None
    if same:
        return ds
    what = "a different sweep" if ds is not None and "spec_key" in ds.attrs else \
        "not a sweep file"
    raise InvalidInputError(f"{out} already exists and holds {what} (use --force to "
                            "overwrite it)")


def execute(
    spec: SweepSpec | Mapping[str, Any] | str | os.PathLike,
    out: str | os.PathLike,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    force: bool = False,
    on_point: Callable[[int], None] | None = None,
    max_hours: float | None = MAX_SWEEP_HOURS,
) -> SweepOutcome:
    """Run (or resume) a sweep and write it to ``out`` (netCDF); see :func:`run_sweep`.

    Returns a :class:`SweepOutcome` with the Dataset and what was done.
    """
    spec = load_spec(spec)
    _check_args(executor, workers, scheduler)
    if max_hours is not None and (isinstance(max_hours, bool)
                                  or not isinstance(max_hours, (int, float))
                                  or not max_hours > 0):
        raise InvalidInputError(f"max_hours must be a number > 0 or None, got {max_hours!r}")
    out = Path(out)
    existing = _check_out(out, spec, force)
    if existing is not None:
        return SweepOutcome(existing, out, "complete", 0, 0,
                            int(existing.attrs.get("failed_points", 0)), "none", 0)
    check_resources(spec, out)  # with one variable: the least the sweep needs

    store = PointStore(out, spec)
    table = ResultArrays(spec)
    bar = Reporter("sweep", enabled=progress)
    with contextlib.ExitStack() as stack:
        # a Dask cluster is reached first: connection problems are one error, before work
        dask = stack.enter_context(_dask_session(workers, scheduler)) \
            if executor == "dask" else None
        stack.enter_context(bar)  # the status line ends even when the run does not
        lines = _Lines(bar, spec)
        if store.path.exists() and store.path.stat().st_size > (16 << 20):
            lines.note(f"reading {store.path.stat().st_size / 1e6:,.0f} MB of stored points")
        table.add(store.records())
        reused = table.n_done
        bar.base = reused
        todo = ~table.done  # the points this run computes (chains are made from it)
        left = spec.n_points - reused
        lines.start(reused)
        done = reused

        def finished(batch: list[dict[str, Any]]) -> None:
            nonlocal done
            store.append(batch)
            table.add(batch)
            done += len(batch)
            lines(done, reused)
            if on_point is not None:
                for rec in batch:
                    on_point(rec["i"])

        args = (spec.model, spec.quantity, dict(spec.solver))
        warm = spec.warm_axis is not None
        decide: Callable[[int], None] | None = None
        if max_hours is not None and left > PROBE_MIN_POINTS:
            # the first work is a sample of chains spread over the grid: its time per point
            # says whether the whole sweep can finish (the points are kept either way)
            lines.note(f"timing a sample of the {left:,} points to do")
            per_point, sampled = _probe(spec, args, warm, todo, finished)
            left -= sampled
            check_resources(spec, out, variables=len(table.values))

            def decide(n_workers: int) -> None:
                try:
                    _check_time(spec, per_point, sampled, left, n_workers, max_hours)
                except InvalidInputError:
                    if reused == 0:
                        store.clear()  # a refused sweep leaves nothing behind
                    raise

        # the unit of work is a chain: points along the warm axis that seed each other (a
        # single point without warm starts); chains depend on the spec and the stored points
        # only, so every executor computes the same numbers
        chains = ([(i, spec.params_at(i)) for i in c] for c in spec.iter_chains(todo))
        if executor == "dask":
            used, n_workers = "dask", _run_dask(dask, args, chains, left, warm, finished,
                                                decide)
        else:
            wanted = workers or os.cpu_count() or 1
            n_workers = max(1, min(wanted, _count_chains(spec, todo, wanted)))
            if decide is not None:
                decide(n_workers)
            if n_workers <= 1:
                # one worker (asked for, the machine's only core, or a single chain):
                # in-process
                used = "serial"
                for task in _groups(chains, _group_size(left, 1)):
                    finished(_compute_chains(*args, task, warm))
            else:
                used = "local"
                _run_pool(args, chains, left, warm, n_workers, finished)
        lines.note(f"all {spec.n_points:,} points done; writing {out}")

    ds = table.dataset()
    save_dataset(ds, out)
    store.clear()
    failed = int(ds.attrs["failed_points"])
    return SweepOutcome(ds, out, "computed", spec.n_points - reused, reused, failed, used,
                        n_workers)


def _count_chains(spec: SweepSpec, todo: Any, cap: int) -> int:
    """The number of chains in ``todo``, counted up to ``cap``."""
    import itertools

    return sum(1 for _ in itertools.islice(spec.iter_chains(todo), cap))


def _probe(spec: SweepSpec, args: tuple[Any, ...], warm: bool, todo: Any,
           finished: Callable[[list[dict[str, Any]]], None]) -> tuple[float, int]:
    """Compute, in this process, up to :data:`PROBE_CHAINS` whole chains of ``todo`` at
    points spread over the grid (a Latin hypercube over the axes: every axis sampled
    across its range, so a cost that grows along one axis is seen), stopping once
    :data:`PROBE_SECONDS` have passed; the chains are stored (``finished``) and taken off
    ``todo``. Returns ``(seconds a point, points computed)``."""
    import numpy as np

    from ..blas import blas_threads

    rng = np.random.default_rng(0)
    k = PROBE_CHAINS
    idx = tuple(((rng.permutation(k) + rng.random(k)) / k * n).astype(np.int64)
                for n in spec.shape)
    flats = np.ravel_multi_index(idx, spec.shape)
    t0 = time.perf_counter()
    spent, points = 0.0, 0
    with blas_threads(1):
        for flat in flats:
            if not todo[flat]:
                continue
            chain = spec.chain_at(int(flat), todo)
            t = time.perf_counter()
            batch = _compute_chains(*args, [[(i, spec.params_at(i)) for i in chain]], warm)
            spent += time.perf_counter() - t
            todo[chain] = False
            finished(batch)
            points += len(batch)
            if time.perf_counter() - t0 >= PROBE_SECONDS:
                break
    return spent / max(points, 1), points


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def _check_time(spec: SweepSpec, per_point: float, sampled: int, left: int, workers: int,
                max_hours: float) -> None:
    """Refuse a sweep whose remaining points would take more than ``max_hours``."""
    wall = per_point * left / max(1, workers)
    if wall > max_hours * 3600:
        name = f" {spec.name!r}" if spec.name else ""
        raise InvalidInputError(
            f"sweep{name} refused: {spec.n_points:,} points at about {_duration(per_point)} "
            f"a point (timed on {sampled} sampled point{'s' if sampled != 1 else ''}) would "
            f"take about {_duration(wall)} "
            f"on {workers} worker(s), more than the limit of {max_hours:g} h: make the axes "
            "coarser or split the sweep")


def _bytes(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else f"{n / 1e6:,.0f} MB"


def _available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _free_disk(path: Path) -> int | None:
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def check_resources(spec: SweepSpec, out: str | os.PathLike, *, variables: int = 1,
                    memory: int | None = None, disk: int | None = None) -> None:
    """Refuse a sweep whose arrays would not fit in memory, or whose files on disk.

    In memory a sweep holds 2 bytes a point (done and failed masks) and 8 bytes a point for
    each of its ``variables`` (float64), plus one more such array while the netCDF file is
    written; on disk it writes the netCDF file (8 bytes a point and variable) and, while it
    runs, the parts file of finished points (about 40 + 30 bytes a point and variable).
    ``memory`` and ``disk`` (bytes) default to what this machine has available now.

    Raises:
        InvalidInputError: one line with the points, what they need, and what there is.
    """
    n = spec.n_points
    need_memory = n * (2 + 8 * (variables + 1))
    memory = _available_memory() if memory is None else memory
    what = f"{n:,} points × {variables} variable(s)"
    if memory is not None and need_memory > memory:
        raise InvalidInputError(
            f"sweep refused: {what} needs about {_bytes(need_memory)} of memory, and "
            f"{_bytes(memory)} is available")
    need_disk = n * (8 * variables + 40 + 30 * variables)
    disk = _free_disk(Path(out)) if disk is None else disk
    if disk is not None and need_disk > disk:
        raise InvalidInputError(
            f"sweep refused: {what} needs about {_bytes(need_disk)} on disk for {out} and "
            f"its parts file, and {_bytes(disk)} is free there")


class _Lines:
    """The sweep's progress: :class:`Reporter`'s status line on a terminal; elsewhere (a
    file, a pipe) whole lines, written when another tenth of the points is done and at
    least every :data:`LOG_MIN_S` seconds, growing to :data:`LOG_MAX_S` in a long run
    (one tenth of the time elapsed). A sweep of more than :data:`PROBE_MIN_POINTS` points
    to do says what it does from the start; a smaller one writes lines (and notes) only
    once it has run :data:`LOG_MIN_S` seconds, so a quick run leaves stderr to its result.
    """

    def __init__(self, bar: Reporter, spec: SweepSpec) -> None:
        self.bar, self.total = bar, spec.n_points
        self.spec = spec
        self.lines = bar.enabled and not bar.live
        self.t0 = self.last = time.monotonic()
        self.tenth = 0
        self.base = 0
        self.big = False

    def _active(self) -> bool:
        return self.big or time.monotonic() - self.t0 >= LOG_MIN_S

    def note(self, text: str) -> None:
        if self._active():
            self.bar.log(f"sweep: {text}")

    def start(self, reused: int) -> None:
        self.t0 = self.last = time.monotonic()
        self.base = reused
        self.tenth = reused * 10 // max(1, self.total)
        self.big = self.total - reused > PROBE_MIN_POINTS
        dims = " x ".join(f"{n} {len(v)}" for n, v in self.spec.axes)
        self.note(f"{self.spec.model} {self.spec.quantity} over {dims}: "
                  f"{self.total:,} points, {reused:,} stored, {self.total - reused:,} to do")

    def __call__(self, done: int, reused: int) -> None:
        self.bar(done, self.total, f"points ({done - reused} computed, {reused} stored)")
        if not self.lines or not self._active():
            return
        now = time.monotonic()
        elapsed = now - self.t0
        tenth = done * 10 // max(1, self.total)
        interval = min(LOG_MAX_S, max(LOG_MIN_S, elapsed / 10))
        if tenth <= self.tenth and now - self.last < interval and done < self.total:
            return
        self.tenth, self.last = tenth, now
        text = (f"{done:,}/{self.total:,} points ({100 * done / self.total:.1f}%; "
                f"{done - reused:,} computed, {reused:,} stored) [{elapsed:.0f} s")
        work = done - self.base
        if 0 < work and done < self.total:
            text += f", about {_duration(elapsed / work * (self.total - done))} left"
        self.note(text + "]")


class _Schedule:
    """A guided schedule sized in time: each :meth:`take` hands out the next consecutive
    group of whole chains, of about ``remaining / (4 workers)`` points, so the groups shrink
    as the sweep ends and the workers finish close together, and of at most ~0.1 s of work
    by the running estimate of the time per point (:meth:`timed`), so an expensive corner
    (an Ising 2RSB point at low T and small field: ~1 s, against 30 ms elsewhere) is not
    handed out ten points at a time; until a time is known, at most 8 points."""

    GROUP_SECONDS = 0.1
    MAX_POINTS = MAX_GROUP

    def __init__(self, chains: Iterator[list[Any]], points: int, workers: int) -> None:
        self.chains, self.workers = chains, workers
        self.left = points
        self.per_point: float | None = None

    def timed(self, seconds: float, points: int) -> None:
        """Record that ``points`` points took ``seconds`` (a running mean of the recent)."""
        if points > 0:
            t = seconds / points
            self.per_point = t if self.per_point is None else 0.5 * (self.per_point + t)

    def take(self) -> list[Any]:
        cap = 8 if self.per_point is None else int(self.GROUP_SECONDS / max(self.per_point,
                                                                             1e-9))
        size = max(1, min(self.MAX_POINTS, cap, math.ceil(self.left / (4 * self.workers))))
        out: list[Any] = []
        n = 0
        while n < size:
            chain = next(self.chains, None)
            if chain is None:
                break
            out.append(chain)
            n += len(chain)
        self.left -= n
        return out


def _run_pool(args: tuple[Any, ...], chains: Iterator[list[tuple[int, dict[str, Any]]]],
              points: int, warm: bool, workers: int,
              finished: Callable[[list[dict[str, Any]]], None]) -> None:
    """Compute the chains on ``workers`` processes: this one and ``workers - 1`` spawned
    children.

    The children are kept for the next sweep of this process (:func:`_pool`). The parent
    is one of the workers because a spawned child first pays an interpreter start and the
    imports of the solver stack (≈ 0.5 s here, mostly sympy), which for a cheap sweep is a
    large part of the whole run; the parent has them loaded and computes from the first
    instant (with 2 workers: one start-up, overlapped with the parent's computing, instead
    of two the parent waits for). Children get groups of chains from a schedule sized in
    time (:class:`_Schedule`, timed on the parent's own groups) through a bounded queue;
    between its own groups the parent stores what the children finished.
    """
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    sched = _Schedule(chains, points, workers)
    take = sched.take
    children = workers - 1
    pool = _pool(children)
    ok = False
    try:
        pending: set[Any] = set()
        group = take()
        while group or pending:
            # a bounded queue: two groups per child waiting or running
            while group and len(pending) < 2 * children:
                pending.add(pool.submit(_compute_chains, *args, group, warm))
                group = take()
            if group:
                t0 = time.perf_counter()
                batch = _compute_chains(*args, group, warm)
                sched.timed(time.perf_counter() - t0, len(batch))
                finished(batch)
                group = take()
                done = {fut for fut in pending if fut.done()}
                pending -= done
            else:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    batch = fut.result()
                except BrokenProcessPool as exc:
                    # points record their own errors, so this is a child that died (killed,
                    # out of memory): stop cleanly, keeping what was stored
                    raise ExecutorError(
                        f"a worker process of the local pool died ({exc}); the finished "
                        "points are kept: run the same command again to compute only the "
                        "missing ones") from None
                finished(batch)
        ok = True
    finally:
        if not ok:
            # interrupted or failed: the children may be mid-task; stop them and start
            # afresh next time
            _drop_pool(cancel=True)


# The local pool's children outlive one sweep: a script or notebook that runs several
# sweeps pays the children's start-up (interpreter, imports: 0.3-1 s each) once, as
# joblib's reusable executor does. Idle children use no CPU; they are shut down at exit.
_POOL: dict[str, Any] = {"pool": None, "children": 0}


def _pool(children: int) -> Any:
    """The reusable process pool with ``children`` workers (a new one if the size differs
    or the last one broke)."""
    import atexit
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = _POOL["pool"]
    if pool is not None and _POOL["children"] == children and not getattr(pool, "_broken",
                                                                          False):
        return pool
    _drop_pool(cancel=True)
    # spawn, not fork: forking a parent that holds threads (BLAS, numba, a test runner) can
    # deadlock the child
    pool = ProcessPoolExecutor(max_workers=children,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(),))
    if not _POOL.get("atexit"):
        atexit.register(_drop_pool)
        _POOL["atexit"] = True
    _POOL["pool"], _POOL["children"] = pool, children
    return pool


PARENT_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    """Pool initializer, run in each child: exit as soon as the parent ``parent`` is gone.

    A parent killed with SIGKILL cannot stop its children, and a child waiting for work
    never notices (it holds both ends of the task queue itself), so without this the
    children lingered, computing, for minutes. A daemon thread compares ``os.getppid()``
    with the parent's pid (an orphan is adopted by init or a subreaper) every
    :data:`PARENT_POLL_S` seconds and ends the process with ``os._exit``: nothing of a
    child needs saving, as the parent stores every result.
    """
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    if os.getppid() != parent:  # died while this child started
        os._exit(1)
    threading.Thread(target=watch, name="replicasolve-parent-watch", daemon=True).start()


def _drop_pool(cancel: bool = False) -> None:
    """Shut the reusable pool down (waiting for running tasks unless ``cancel``)."""
    pool, _POOL["pool"], _POOL["children"] = _POOL["pool"], None, 0
    if pool is not None:
        pool.shutdown(wait=not cancel, cancel_futures=cancel)


def shutdown_pool() -> None:
    """Stop the local pool's worker processes now (they are otherwise kept for the next
    sweep of this process, and stopped at exit)."""
    _drop_pool()


def _dask_client(workers: int | None, scheduler: Any) -> tuple[Any, Any]:
    """``(client, cluster or None)``; connection problems are one clear error, before work."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InvalidInputError(
            "the Dask executor needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, None  # an existing distributed.Client
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot reach the Dask scheduler at {scheduler} within "
                f"{DASK_CONNECT_TIMEOUT_S:g} s: {type(exc).__name__}: {exc}"
            ) from None
        return client, None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                           processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _lost_cluster(exc: BaseException, done: int) -> ExecutorError:
    text = str(exc).strip()
    why = f"{type(exc).__name__}: {text.splitlines()[0] if text else 'no message'}"
    return ExecutorError(
        f"the Dask run stopped after {done} tasks ({why}); the finished points are kept: "
        "run the same command again to compute only the missing ones")


@contextlib.contextmanager
def _dask_session(workers: int | None, scheduler: Any) -> Iterator[Any]:
    """A Dask client (see :func:`_dask_client`), closed at the end with its cluster unless
    it was the caller's own."""
    client, cluster = _dask_client(workers, scheduler)
    owned = not (scheduler is not None and not isinstance(scheduler, str))
    try:
        yield client
    finally:
        # after a lost scheduler these calls fail too; the first error is the one to report
        if owned:
            with contextlib.suppress(Exception):
                client.close()
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close()


def _run_dask(client: Any, args: tuple[Any, ...],
              chains: Iterator[list[tuple[int, dict[str, Any]]]], points: int, warm: bool,
              finished: Callable[[list[dict[str, Any]]], None],
              decide: Callable[[int], None] | None = None) -> int:
    """Compute the chains on the cluster of ``client``, a bounded window of tasks at a time
    (four per worker: neither this process nor the scheduler holds the whole sweep);
    ``decide(workers)`` runs once the cluster's size is known, before any task."""
    from distributed import as_completed

    pending: set[Any] = set()
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        if decide is not None:
            decide(n_workers)
        groups = _groups(chains, _group_size(points, n_workers))
        queue = as_completed()

        def submit() -> None:
            group = next(groups, None)
            if group is not None:
                fut = client.submit(_compute_chains, *args, group, warm, pure=False)
                pending.add(fut)
                queue.add(fut)

        for _ in range(4 * n_workers):
            submit()
        done = 0
        for fut in queue:
            pending.discard(fut)
            try:
                batch = fut.result()
            except Exception as exc:
                # points record their own errors, so a task that raises means the scheduler
                # or a worker was lost: stop cleanly, keeping what was stored
                raise _lost_cluster(exc, done) from None
            finished(batch)
            done += 1
            try:
                submit()
            except Exception as exc:  # the client or scheduler went away meanwhile
                raise _lost_cluster(exc, done) from None
        return n_workers
    finally:
        with contextlib.suppress(Exception):
            if pending:
                client.cancel(list(pending))


def run_sweep(
    spec: SweepSpec | Mapping[str, Any] | str | os.PathLike,
    out: str | os.PathLike,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    force: bool = False,
    on_point: Callable[[int], None] | None = None,
    max_hours: float | None = MAX_SWEEP_HOURS,
) -> Any:
    """Compute a sweep (resuming an interrupted one) and save it to ``out`` as netCDF.

    Args:
        spec: a :class:`SweepSpec`, a dict, or the path of a TOML spec (validated first).
        out: the netCDF file. Finished points are kept in ``<out>.parts/`` until the file is
            written, so running the same call again after a kill computes only the missing
            points. If ``out`` already holds this very sweep nothing is computed and it is
            returned as is; a different file there is refused unless ``force``.
        executor: ``"local"`` (a process pool on this machine; ``workers=1`` runs serially
            in this process) or ``"dask"``.
        workers: processes (default ``os.cpu_count()``); with ``"dask"`` and no scheduler,
            the workers of the ``LocalCluster`` started for this call.
        scheduler: with ``"dask"``: ``None`` (start a LocalCluster), an address
            ``tcp://host:port`` (connected with a short timeout, before any work), or an
            existing ``distributed.Client``.
        progress: progress on stderr: a status line on a terminal; elsewhere (a file,
            a pipe) whole lines at every tenth of the points and every 10-60 s.
        force: replace an existing ``out``.
        on_point: called with each point's flat index after it is stored (an exception
            stops the run; the stored points stay).
        max_hours: a sweep of more than :data:`PROBE_MIN_POINTS` points to do is timed on a
            sample of its points first and refused (:class:`InvalidInputError`, nothing
            kept) if it would take longer than this on the workers used; ``None``: no limit.

    Returns:
        The ``xarray.Dataset``: dims = the axes in spec order, the quantity as a variable
        (with ``units``), attributes ``spec``, ``spec_key``, ``replicasolve_version``,
        ``seed``.
    """
    return execute(spec, out, executor=executor, workers=workers, scheduler=scheduler,
                   progress=progress, force=force, on_point=on_point,
                   max_hours=max_hours).dataset
