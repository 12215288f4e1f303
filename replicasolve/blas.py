"""BLAS threading for the dense linear algebra of the TAP engine.

numpy and scipy wheels each bundle their own OpenBLAS with its own thread pool. When the
two alternate (numpy's ``@`` in a matvec, scipy's ``potrf`` in a factorisation), or when
another process holds a core, OpenBLAS's spinning threads starve each other: a 640×640
Cholesky that takes 4 ms alone took 0.3–1 s here. The engine therefore runs its heavy work
through scipy's LAPACK/BLAS with numpy's pool at one thread and scipy's pool at
``REPLICASOLVE_BLAS_THREADS`` threads (default 1: predictable on a shared machine; set it
to the number of idle cores for the large-N runs, where it buys up to ~1.6× on 2 cores).

Limits nest: an inner ``blas_threads()`` (a solver's own ``tap_blas``) never raises the
limit of an enclosing one (a sweep worker's ``blas_threads(1)``), and a library loaded
inside an open context (scipy's OpenBLAS arrives with the first ``scipy.optimize`` import)
is limited as soon as :func:`refresh` or the next context sees it. The limits are
process-wide (as threadpoolctl's are), so contexts are not meant to be entered from
several Python threads at once.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

__all__ = ["blas_threads", "refresh", "tap_blas"]

F = TypeVar("F", bound=Callable[..., Any])


# modules whose import loads numpy's or scipy's OpenBLAS (scipy itself does not)
_BLAS_USERS = ("numpy", "scipy.linalg", "scipy.optimize", "scipy.sparse.linalg",
               "scipy.integrate", "scipy.interpolate", "scipy.special")
_CACHE: dict[str, Any] = {}


def _pools() -> tuple[Any, Any] | None:
    """(numpy's pool, scipy's pool) among the libraries loaded now, either None if absent;
    None without threadpoolctl.

    The controller only sees the libraries loaded when it is built, so the cached pair is
    rebuilt while scipy's pool is missing and a new scipy module that loads it has been
    imported since (found: a sweep worker enters ``blas_threads(1)`` before its first solve
    imports scipy.optimize; with the pair cached then, scipy's OpenBLAS ran at the machine's
    thread count inside every later ``blas_threads(1)``, the Ising solves used 1.35 cores,
    and two workers ran slower than one).
    """
    seen = tuple(m for m in _BLAS_USERS if m in sys.modules)
    if "pools" in _CACHE:
        pools = _CACHE["pools"]
        if pools is None or None not in pools or seen == _CACHE["seen"]:
            return pools
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it results are the same, only slower
        _CACHE.update(pools=None, seen=seen)
        return None
    ctl = ThreadpoolController()
    numpy_libs = [lib.filepath for lib in ctl.lib_controllers if "numpy" in str(lib.filepath)]
    other = [
        lib.filepath
        for lib in ctl.lib_controllers
        if lib.user_api == "blas" and lib.filepath not in numpy_libs
    ]
    pools = (
        ctl.select(filepath=numpy_libs) if numpy_libs else None,
        ctl.select(filepath=other) if other else None,
    )
    old = _CACHE.get("pools") or (None, None)
    _CACHE.update(pools=pools, seen=seen)
    if _CEILING:
        # a pool that appeared inside an open blas_threads context could not be limited on
        # entry: limit it now, until the outermost context ends
        late = _CACHE.setdefault("late", [])
        if pools[0] is not None and old[0] is None:
            late.append(pools[0].limit(limits=1))
        if pools[1] is not None and old[1] is None:
            late.append(pools[1].limit(limits=_CEILING[0]))
    return pools


def refresh() -> None:
    """Bring numpy's and scipy's BLAS pools under the open :func:`blas_threads` limits if
    they were loaded since the context was entered (a few dictionary lookups when nothing
    changed; call it between units of work that may import scipy)."""
    _pools()


def _default_threads() -> int:
    raw = os.environ.get("REPLICASOLVE_BLAS_THREADS", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


_CEILING: list[int] = []  # the explicit limits of the enclosing blas_threads contexts


@contextmanager
def blas_threads(n: int | None = None) -> Iterator[None]:
    """numpy's BLAS at one thread and scipy's at ``n`` (default: the environment's, but
    never more than an enclosing ``blas_threads(n)`` set: a sweep worker's limit of 1 holds
    inside the solvers' own ``tap_blas``)."""
    limit = n or _default_threads()
    if _CEILING:
        limit = min(limit, _CEILING[-1])
    pools = _pools()
    if pools is None:
        yield
        return
    _CEILING.append(limit)
    try:
        with ExitStack() as stack:
            if pools[0] is not None:
                stack.enter_context(pools[0].limit(limits=1))
            if pools[1] is not None:
                stack.enter_context(pools[1].limit(limits=limit))
            yield
    finally:
        _CEILING.pop()
        if not _CEILING:
            for limiter in reversed(_CACHE.pop("late", [])):
                limiter.restore_original_limits()


def tap_blas(func: F) -> F:
    """Run ``func`` inside :func:`blas_threads` (nested calls are cheap no-ops)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with blas_threads():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
