"""Persistence of a sweep: points as they finish, then one netCDF file.

While a sweep runs, every finished point is appended as one JSON line to
``<out>.parts/<spec key>.jsonl`` (flushed after each batch, so a killed run loses at most
the batch in flight; fsynced at most every :data:`FSYNC_S` seconds, so a crash of the
machine loses at most that much more). A torn last line (a kill in the middle of a write)
is cut off before the first append of the next run. The file name carries the spec's hash
(:attr:`SweepSpec.key`), so a changed spec never reuses old points. Only the parent process
writes (workers return their results), so no locking is needed.

In memory a running sweep holds :class:`ResultArrays`: a done mask and one flat
``float64`` array per variable (8 bytes a point), filled as points arrive, from the parts
file when resuming (read line by line) and from the workers' batches; no per-point Python
objects are kept, so a sweep of millions of points stays within the size of its output.
When every point is there, :meth:`ResultArrays.dataset` builds the ``xarray.Dataset`` and
:func:`save_dataset` writes it atomically (scipy netCDF3 engine); the parts file is then
removed.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .quantities import MODELS
from .spec import SweepSpec

__all__ = ["FSYNC_S", "MAX_ERRORS", "PointStore", "ResultArrays", "assemble", "load_sweep",
           "save_dataset"]

_INT_FILL = -1  # an integer variable (phase, converged) at a failed point
MAX_ERRORS = 10  # error messages kept in the file (the first, by point index)
FSYNC_S = 1.0  # the longest time between two fsyncs of the parts file


class PointStore:
    """The append-only record of finished points of one spec.

    Each line is ``{"i": flat index, "v": {variable: number}, "e": error or null}``;
    the first line is ``{"spec": <canonical spec JSON>}``.
    """

    def __init__(self, out: str | os.PathLike, spec: SweepSpec) -> None:
        self.spec = spec
        self.folder = Path(str(out) + ".parts")
        self.path = self.folder / f"{spec.key}.jsonl"
        self._repaired = False  # the file's end was checked (later appends end in newlines)
        self._synced = -math.inf  # time.monotonic() of the last fsync

    def load(self) -> dict[int, dict[str, Any]]:
        """The stored points ``{flat index: record}`` (unreadable lines are skipped: those
        points are computed again). One dict per point: for a large sweep use
        :meth:`records` into a :class:`ResultArrays` instead."""
        return {rec["i"]: rec for rec in self.records()}

    def records(self) -> Iterator[dict[str, Any]]:
        """The stored points one record at a time, in file order (unreadable lines are
        skipped; a later line for the same point replaces an earlier one)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict) or "i" not in rec:
                    continue
                i = rec["i"]
                if isinstance(i, int) and not isinstance(i, bool) \
                        and 0 <= i < self.spec.n_points and isinstance(rec.get("v"), dict):
                    yield rec

    def _repair(self) -> None:
        """Cut a torn last line so that the next append starts on a fresh line (reads only
        the end of the file)."""
        with open(self.path, "rb+") as handle:
            end = pos = handle.seek(0, os.SEEK_END)
            while pos > 0:
                step = min(pos, 1 << 16)
                handle.seek(pos - step)
                chunk = handle.read(step)
                if pos == end and chunk.endswith(b"\n"):
                    return
                k = chunk.rfind(b"\n")
                if k >= 0:
                    handle.truncate(pos - step + k + 1)
                    return
                pos -= step
            handle.truncate(0)

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records (one call per finished batch): flushed at once, fsynced at most
        every :data:`FSYNC_S` seconds."""
        lines = [json.dumps(r, separators=(",", ":")) + "\n" for r in records]
        if not lines:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        if not fresh and not self._repaired:
            self._repair()
        self._repaired = True
        with open(self.path, "a", encoding="utf-8") as handle:
            if fresh:
                handle.write(json.dumps({"spec": json.loads(self.spec.to_json())}) + "\n")
            handle.writelines(lines)
            handle.flush()
            now = time.monotonic()
            if now - self._synced >= FSYNC_S:
                os.fsync(handle.fileno())
                self._synced = now

    def clear(self) -> None:
        """Remove this spec's parts file (and the folder when nothing else is in it)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        try:
            self.folder.rmdir()
        except OSError:  # other specs' parts, or not there
            pass


class ResultArrays:
    """The finished points of one sweep as flat arrays (C order over the spec's axes).

    ``done`` and ``failed`` are bool masks; each variable a point returned is a ``float64``
    array (NaN where absent), allocated when the variable first appears; integer
    variables are recognised (every value an ``int``) and become ``int32`` in the Dataset.
    Error messages are kept for the first :data:`MAX_ERRORS` failed points only. Memory:
    2 bytes a point plus 8 per variable, whatever the number of records added.
    """

    def __init__(self, spec: SweepSpec) -> None:
        import numpy as np

        self.spec = spec
        n = spec.n_points
        self.done = np.zeros(n, dtype=bool)
        self.failed = np.zeros(n, dtype=bool)
        self.values: dict[str, Any] = {}
        self._is_int: dict[str, bool] = {}
        self._first: dict[str, tuple[int, int]] = {}  # (point, position): the names' order
        self.errors: dict[int, str] = {}  # the first MAX_ERRORS failed points by index

    @property
    def n_done(self) -> int:
        return int(self.done.sum())

    def add(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Enter finished points (records as :class:`PointStore` writes them; a point
        entered again is replaced); returns how many records were entered."""
        import numpy as np

        count = 0
        n = self.spec.n_points
        for rec in records:
            i = rec["i"]
            values = rec["v"]
            if self.done[i]:  # replaced: forget the old values
                for arr in self.values.values():
                    arr[i] = np.nan
            self.done[i] = True
            for pos, (k, v) in enumerate(values.items()):
                arr = self.values.get(k)
                if arr is None:
                    arr = self.values[k] = np.full(n, np.nan)
                    self._is_int[k] = True
                    self._first[k] = (i, pos)
                elif (i, pos) < self._first[k]:
                    self._first[k] = (i, pos)
                self._is_int[k] = self._is_int[k] and isinstance(v, int)
                arr[i] = v
            error = rec.get("e")
            self.failed[i] = bool(error)
            if error:
                self._note_error(i, str(error))
            else:
                self.errors.pop(i, None)
            count += 1
        return count

    def _note_error(self, i: int, error: str) -> None:
        if i in self.errors or len(self.errors) < MAX_ERRORS:
            self.errors[i] = error
            return
        last = max(self.errors)
        if i < last:
            del self.errors[last]
            self.errors[i] = error

    def dataset(self) -> Any:
        """The ``xarray.Dataset`` of the complete sweep (see :func:`assemble`).

        Raises:
            InvalidInputError: points are missing.
        """
        import numpy as np
        import xarray as xr

        from ..version import __version__

        spec = self.spec
        missing = spec.n_points - self.n_done
        if missing:
            raise InvalidInputError(
                f"sweep incomplete: {missing} of {spec.n_points} points missing")
        names = sorted(self.values, key=lambda k: self._first[k])
        is_int = dict(self._is_int)
        if spec.quantity not in names:  # every point failed
            names.insert(0, spec.quantity)
            is_int[spec.quantity] = \
                MODELS[spec.model].quantities[spec.quantity].labels is not None
        shape = spec.shape
        q = MODELS[spec.model].quantities[spec.quantity]
        dims = spec.dims
        variables = {}
        for k in names:
            flat = self.values.get(k)
            if flat is None:
                flat = np.full(spec.n_points, np.nan)
            if is_int[k]:
                data = np.full(spec.n_points, _INT_FILL, dtype=np.int32)
                present = ~np.isnan(flat)
                data[present] = flat[present]
                data = data.reshape(shape)
            else:
                data = flat.reshape(shape)
            attrs: dict[str, Any] = {}
            if k == spec.quantity:
                attrs = {"units": q.unit, "long_name": q.description}
                if q.labels is not None:
                    codes = sorted(q.labels)
                    attrs["flag_values"] = np.array(codes, dtype=np.int32)
                    attrs["flag_meanings"] = " ".join(q.labels[c] for c in codes)
                    attrs["missing_value_code"] = _INT_FILL
            elif k == "converged":
                attrs = {"long_name":
                         "1 if the solver converged, 0 if not, -1 if the point failed"}
            variables[k] = (dims, data, attrs)
        def where(i: int) -> dict:
            index = tuple(int(j) for j in np.unravel_index(i, shape))
            return dict(zip(spec.dims, _point(spec, index), strict=True))

        errors = [f"point {where(i)}: {self.errors[i]}"
                  for i in sorted(self.errors) if self.failed[i]]
        coords = {}
        for name, values in spec.axes:
            arr = np.array(values, dtype=object if isinstance(values[0], str) else None)
            if arr.dtype == np.int64:
                arr = arr.astype(np.int32)  # netCDF3 has no 64-bit integers
            if arr.dtype == object:
                arr = arr.astype(str)
            coords[name] = (name, arr, {"units": spec.units(name)})
        attrs = {
            "title": spec.name or f"{spec.model} {spec.quantity} sweep",
            "model": spec.model,
            "quantity": spec.quantity,
            "spec": spec.to_json(),
            "spec_key": spec.key,
            "replicasolve_version": __version__,
            "seed": spec.seed,
            "failed_points": int(self.failed.sum()),
            "errors": "\n".join(errors[:MAX_ERRORS]),
        }
        for k, v in spec.fixed.items():
            if v is not None:
                attrs[f"param_{k}"] = v if not isinstance(v, list) else ",".join(map(str, v))
        return xr.Dataset(variables, coords=coords, attrs=attrs)


def assemble(spec: SweepSpec, records: Mapping[int, Mapping[str, Any]]) -> Any:
    """Build the ``xarray.Dataset`` of a complete sweep from ``{flat index: record}``.

    Dims are the axes in spec order (coordinates with ``units``); the quantity is a variable
    of that shape (``float64``, or ``int32`` for integer quantities such as ``phase``, whose
    codes are named in the ``flag_values`` / ``flag_meanings`` attributes), plus any extra
    variables the quantity returns (``converged``). Attributes: ``spec`` (canonical JSON),
    ``spec_key``, ``replicasolve_version``, ``seed``, ``model``, ``quantity``,
    ``failed_points`` and ``errors`` (the first few messages).
    """
    table = ResultArrays(spec)
    table.add(records[i] for i in sorted(records))
    return table.dataset()




def _point(spec: SweepSpec, idx: tuple[Any, ...]) -> list[Any]:
    return [values[int(i)] for (_, values), i in zip(spec.axes, idx, strict=True)]


def save_dataset(ds: Any, out: str | os.PathLike) -> Path:
    """Write ``ds`` to netCDF at ``out`` atomically (scipy engine, netCDF3 64-bit offset)."""
    from ..files import atomic_target

    with atomic_target(out) as tmp:
        ds.to_netcdf(tmp, engine="scipy")
    return Path(out)


def load_sweep(path: str | os.PathLike) -> Any:
    """Read a sweep netCDF file fully into memory (the file is closed on return)."""
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    try:
        with xr.open_dataset(path, engine="scipy") as ds:
            return ds.load()
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInputError(f"{path}: not a readable netCDF file: {exc}") from None
