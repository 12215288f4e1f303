"""The package's single numba entry point (after quimb's ``quimb/core.py``).

Every compiled function in replicasolve is decorated with :data:`njit` from here, so the
compilation options live in one place:

- ``cache=True``: machine code is written to disk and reused by later processes;
- ``fastmath=False``: correctness first (no reassociation, NaN/inf respected);
- ``error_model="numpy"``: division by zero gives ``inf``/``nan`` as numpy does, instead of
  raising ``ZeroDivisionError`` from inside a loop;
- ``nogil=True``: compiled loops release the GIL.

``import replicasolve`` does not import numba, and neither does this module: numba
(~0.5 s) is imported on the first access to :data:`njit`, so :func:`cache_dir` serves
paths that only read cached files (the tables of
:func:`replicasolve.kernels.compose.xi_function`) without it.

Cache directory
---------------
:func:`cache_dir` is ``$REPLICASOLVE_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/replicasolve`` (``~/.cache/replicasolve`` when ``XDG_CACHE_HOME`` is
unset). Code generated from sympy (:mod:`replicasolve.symbolic.codegen`) is written there
as real module files, because numba cannot cache functions created by ``exec``.

``NUMBA_CACHE_DIR`` is deliberately *not* set: numba reads it once, when numba is first
imported, and it would redirect the caches of every other numba-using library of the
process. Numba's default already does the right thing: it caches next to the source file
(in a ``__pycache__`` folder) when that folder is writable, which for generated modules is
inside :func:`cache_dir`. A user who sets ``NUMBA_CACHE_DIR`` gets numba's caches there
instead, and everything still works.
"""

from __future__ import annotations

import functools
import os
import pathlib
from typing import Any

__all__ = ["CACHE_DIR_ENV", "NJIT_OPTIONS", "cache_dir", "njit"]

CACHE_DIR_ENV = "REPLICASOLVE_CACHE_DIR"

NJIT_OPTIONS: dict[str, object] = {
    "cache": True,
    "fastmath": False,
    "error_model": "numpy",
    "nogil": True,
}


#: ``numba.njit`` with the package's options (bound on first access: :func:`__getattr__`)
njit: Any


def __getattr__(name: str) -> Any:
    """``njit``: ``numba.njit`` with the package's options (use as ``@njit`` or
    ``@njit(parallel=True)``), made on first access so that numba loads only then."""
    if name == "njit":
        import numba

        value = functools.partial(numba.njit, **NJIT_OPTIONS)
        globals()["njit"] = value  # later accesses find it directly
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cache_dir() -> pathlib.Path:
    """The replicasolve cache directory (created if missing); read from the environment
    on every call, so it can be changed at run time (tests do)."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        path = pathlib.Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
        path = base / "replicasolve"
    path.mkdir(parents=True, exist_ok=True)
    return path
