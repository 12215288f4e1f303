"""BLAS threading for the dense linear algebra of the TAP engine.

numpy and scipy wheels each bundle their own OpenBLAS with its own thread pool. When the
two alternate (numpy's ``@`` in a matvec, scipy's ``potrf`` in a factorisation), or when
another process holds a core, OpenBLAS's spinning threads starve each other: a 640×640
Cholesky that takes 4 ms alone took 0.3–1 s here. The engine therefore runs its heavy work
through scipy's LAPACK/BLAS with numpy's pool at one thread and scipy's pool at
``REPLICASOLVE_BLAS_THREADS`` threads (default 1: predictable on a shared machine; set it
to the number of idle cores for the large-N runs, where it buys up to ~1.6× on 2 cores).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

__all__ = ["blas_threads", "tap_blas"]

F = TypeVar("F", bound=Callable[..., Any])


@functools.lru_cache(maxsize=1)
def _pools() -> tuple[Any, Any] | None:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it results are the same, only slower
        return None
    ctl = ThreadpoolController()
    numpy_libs = [lib.filepath for lib in ctl.lib_controllers if "numpy" in str(lib.filepath)]
    other = [
        lib.filepath
        for lib in ctl.lib_controllers
        if lib.user_api == "blas" and lib.filepath not in numpy_libs
    ]
    return (
        ctl.select(filepath=numpy_libs) if numpy_libs else None,
        ctl.select(filepath=other) if other else None,
    )


def _default_threads() -> int:
    raw = os.environ.get("REPLICASOLVE_BLAS_THREADS", "1")
    try:
        return max(1, int(raw))
    except ValueError:
        return 1


@contextmanager
def blas_threads(n: int | None = None) -> Iterator[None]:
    """numpy's BLAS at one thread and scipy's at ``n`` (default: the environment's)."""
    pools = _pools()
    if pools is None:
        yield
        return
    with ExitStack() as stack:
        if pools[0] is not None:
            stack.enter_context(pools[0].limit(limits=1))
        if pools[1] is not None:
            stack.enter_context(pools[1].limit(limits=n or _default_threads()))
        yield


def tap_blas(func: F) -> F:
    """Run ``func`` inside :func:`blas_threads` (nested calls are cheap no-ops)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with blas_threads():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
