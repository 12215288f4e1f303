"""Running a sweep: serially, on a local process pool, or on a Dask cluster — resumably.

Points are computed in chunks of warm chains (points along the spec's warm axis, each
seeded by the one before it: :meth:`SweepSpec.chains`; without warm starts every point is
its own chain); the parent process stores each finished chunk at once
(:class:`~replicasolve.sweeps.store.PointStore`), so interrupting a run and starting it
again computes only the missing points. Every executor calls the same pure function per
point and the store keeps each number's exact ``repr``, so serial, pool and Dask runs give
identical Datasets.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExecutorError, InvalidInputError, ReplicaSolveError
from ..progress import Reporter
from .quantities import compute_point, compute_seeded
from .spec import SweepSpec, load_spec
from .store import PointStore, assemble, load_sweep, save_dataset

__all__ = ["SweepOutcome", "execute", "run_sweep", "shutdown_pool"]

_EXECUTORS = ("local", "dask")
DASK_CONNECT_TIMEOUT_S = 5.0


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
        executor: ``"serial"``, ``"local"`` or ``"dask"``.
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
    from .._blas import blas_threads, refresh

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


def _chunks(items: list[Any], workers: int, size_of: Callable[[Any], int] = lambda c: 1
            ) -> list[list[Any]]:
    """Consecutive groups of ``items`` (points, or whole warm chains: never split) of about
    the same number of points each."""
    # several chunks per worker balances uneven point costs; 256 caps what a kill can lose
    total = sum(size_of(c) for c in items)
    size = max(1, min(256, math.ceil(total / (8 * workers))))
    out: list[list[Any]] = []
    cur: list[Any] = []
    n = 0
    for c in items:
        cur.append(c)
        n += size_of(c)
        if n >= size:
            out.append(cur)
            cur, n = [], 0
    if cur:
        out.append(cur)
    return out


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
) -> SweepOutcome:
    """Run (or resume) a sweep and write it to ``out`` (netCDF); see :func:`run_sweep`.

    Returns a :class:`SweepOutcome` with the Dataset and what was done.
    """
    spec = load_spec(spec)
    _check_args(executor, workers, scheduler)
    out = Path(out)
    existing = _check_out(out, spec, force)
    if existing is not None:
        return SweepOutcome(existing, out, "complete", 0, 0,
                            int(existing.attrs.get("failed_points", 0)), "none", 0)

    store = PointStore(out, spec)
    records = store.load()
    todo = [(i, p) for i, p in spec.points() if i not in records]
    reused = len(records)
    bar = Reporter("sweep", enabled=progress, base=reused)
    done = reused

    def finished(batch: list[dict[str, Any]]) -> None:
        store.append(batch)
        for rec in batch:
            records[rec["i"]] = rec
        nonlocal done
        done += len(batch)
        bar(done, spec.n_points, f"points ({done - reused} computed, {reused} stored)")
        if on_point is not None:
            for rec in batch:
                on_point(rec["i"])

    # the unit of work is a chain: points along the warm axis that seed each other (a single
    # point without warm starts); chains depend on the spec and the stored points only, so
    # every executor computes the same numbers
    params = dict(todo)
    chains = [[(i, params[i]) for i in chain] for chain in spec.chains(list(params))]
    args = (spec.model, spec.quantity, dict(spec.solver))
    warm = spec.warm_axis is not None
    with bar:  # the status line ends even when the run does not
        if executor == "dask":
            used, n_workers = "dask", _run_dask(args, chains, warm, workers, scheduler,
                                                finished)
        elif min(workers or os.cpu_count() or 1, len(chains)) <= 1:
            # one worker (asked for, the machine's only core, or a single chain): in-process
            used, n_workers = "serial", 1
            for task in _chunks(chains, 1, len):
                finished(_compute_chains(*args, task, warm))
        else:
            used = "local"
            n_workers = min(workers or os.cpu_count() or 1, len(chains))
            _run_pool(args, chains, warm, n_workers, finished)

    ds = assemble(spec, records)
    save_dataset(ds, out)
    store.clear()
    failed = int(ds.attrs["failed_points"])
    return SweepOutcome(ds, out, "computed", len(todo), reused, failed, used, n_workers)


class _Schedule:
    """A guided schedule sized in time: each :meth:`take` hands out the next consecutive
    group of whole chains, of about ``remaining / (4 workers)`` points, so the groups shrink
    as the sweep ends and the workers finish close together, and of at most ~0.1 s of work
    by the running estimate of the time per point (:meth:`timed`), so an expensive corner
    (an Ising 2RSB point at low T and small field: ~1 s, against 30 ms elsewhere) is not
    handed out ten points at a time; until a time is known, at most 8 points."""

    GROUP_SECONDS = 0.1
    MAX_POINTS = 256  # also caps what a kill can lose

    def __init__(self, chains: list[list[Any]], workers: int) -> None:
        self.chains, self.workers = chains, workers
        self.k = 0
        self.left = sum(len(c) for c in chains)
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
        while self.k < len(self.chains) and n < size:
            out.append(self.chains[self.k])
            n += len(self.chains[self.k])
            self.k += 1
        self.left -= n
        return out


def _run_pool(args: tuple[Any, ...], chains: list[list[tuple[int, dict[str, Any]]]],
              warm: bool, workers: int,
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

    sched = _Schedule(chains, workers)
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


def _run_dask(args: tuple[Any, ...], chains: list[list[tuple[int, dict[str, Any]]]],
              warm: bool, workers: int | None, scheduler: Any,
              finished: Callable[[list[dict[str, Any]]], None]) -> int:
    from distributed import as_completed

    client, cluster = _dask_client(workers, scheduler)
    owned = not (scheduler is not None and not isinstance(scheduler, str))
    futures: list[Any] = []
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        chunks = _chunks(chains, n_workers, len)
        futures = [client.submit(_compute_chains, *args, chunk, warm, pure=False)
                   for chunk in chunks]
        done = 0
        for fut in as_completed(futures):
            try:
                batch = fut.result()
            except Exception as exc:
                # points record their own errors, so a task that raises means the scheduler
                # or a worker was lost: stop cleanly, keeping what was stored
                text = str(exc).strip()
                why = f"{type(exc).__name__}: {text.splitlines()[0] if text else 'no message'}"
                raise ExecutorError(
                    f"the Dask run stopped after {done} of {len(futures)} tasks ({why}); the "
                    "finished points are kept: run the same command again to compute only "
                    "the missing ones") from None
            finished(batch)
            done += 1
        return n_workers
    finally:
        # after a lost scheduler these calls fail too; the first error is the one to report
        with contextlib.suppress(Exception):
            if futures:
                client.cancel(futures)
        if owned:
            with contextlib.suppress(Exception):
                client.close()
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close()


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
        progress: a progress line on stderr, when it is a terminal.
        force: replace an existing ``out``.
        on_point: called with each point's flat index after it is stored (an exception
            stops the run; the stored points stay).

    Returns:
        The ``xarray.Dataset``: dims = the axes in spec order, the quantity as a variable
        (with ``units``), attributes ``spec``, ``spec_key``, ``replicasolve_version``,
        ``seed``.
    """
    return execute(spec, out, executor=executor, workers=workers, scheduler=scheduler,
                   progress=progress, force=force, on_point=on_point).dataset
