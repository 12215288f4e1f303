"""Atomic file writes: a result file is either the old complete one or the new complete one.

Everything is first written to a temporary name in the target's directory (a rename across
file systems is not atomic), flushed to disk, given the permissions a plain ``open`` would
give, and then renamed over the target with ``os.replace`` (atomic on POSIX). A failure or
a kill leaves the old file untouched and no temporary file behind (except after a hard kill,
whose ``.NAME.*.tmp`` leftovers readers ignore).

Also the machine's limits (physical memory, free disk space) that a request is measured
against before any work starts, so that one that cannot fit is refused up front with a
line that says how much it asked for (:func:`memory_limit`, :func:`free_disk`,
:func:`format_bytes`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_target", "atomic_write", "format_bytes", "free_disk", "memory_limit",
           "read_npz"]


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


def memory_limit() -> int | None:
    """Bytes of memory this process can use at most: the machine's physical memory
    (``SC_PAGE_SIZE * SC_PHYS_PAGES``), or a smaller address-space limit (``ulimit -v``);
    ``None`` where neither is known."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            limits.append(int(soft))
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    limits = [v for v in limits if v > 0]
    return min(limits) if limits else None


def free_disk(path: str | os.PathLike) -> int | None:
    """Bytes free to this user on the file system that holds ``path`` (or its nearest
    existing parent); ``None`` where unknown."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        st = os.statvfs(p)
    except (AttributeError, OSError):
        return None
    return int(st.f_bavail) * int(st.f_frsize)


def format_bytes(n: float) -> str:
    """``n`` bytes in decimal units, three digits: ``"800 GB"``, ``"1.2 TB"``."""
    try:
        n = float(n)
    except OverflowError:  # an int beyond floating point: say its order of magnitude
        return f"about 10^{len(str(int(n))) - 1} bytes"
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6),
                       ("kB", 1e3)):
        if n >= size:
            v = n / size
            if v >= 1e6:  # beyond exabytes: keep it one short number
                return f"{v:.2g} {unit}"
            return f"{v:.3g} {unit}"
    return f"{int(n)} bytes"


def read_npz(path: str | os.PathLike, what: str = ".npz file") -> dict[str, Any]:
    """Every array of an ``.npz`` archive, read without unpickling: ``{name: array}``.

    The file must start as a zip archive (``np.load`` would try to unpickle anything else)
    and hold no object arrays (``allow_pickle=False``).

    Raises:
        InvalidInputError: not a zip archive, or unreadable; the message names ``path`` and
            calls it ``what``.
    """
    import zipfile

    import numpy as np

    from .errors import InvalidInputError

    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        raise InvalidInputError(f"{path}: corrupt {what} (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        text = str(exc).strip()
        said = text.splitlines()[0] if text else type(exc).__name__
        raise InvalidInputError(f"{path}: corrupt or unreadable {what} ({said})") from None
