"""Atomic file writes: a result file is either the old complete one or the new complete one.

Everything is first written to a temporary name in the target's directory (a rename across
file systems is not atomic), flushed to disk, given the permissions a plain ``open`` would
give, and then renamed over the target with ``os.replace`` (atomic on POSIX). A failure or
a kill leaves the old file untouched and no temporary file behind (except after a hard kill,
whose ``.NAME.*.tmp`` leftovers readers ignore).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_target", "atomic_write"]


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


@contextmanager
def atomic_target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an exception the
    file written there is synced and renamed onto ``path``, otherwise it is removed.

    For writers that want a file name (e.g. ``xarray.Dataset.to_netcdf``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide results from a group
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> Path:
    """Write a file through ``write(binary_handle)`` and rename it into place atomically."""
    with atomic_target(path) as tmp, open(tmp, "wb") as handle:
        write(handle)
        handle.flush()
    return Path(path)
