"""Persistence of a sweep: points as they finish, then one netCDF file.

While a sweep runs, every finished point is appended as one JSON line to
``<out>.parts/<spec key>.jsonl`` and the file is fsynced after each batch, so a killed run
loses at most the batch in flight. A torn last line (a kill in the middle of a write) is
cut off before the next append. The file name carries the spec's hash
(:attr:`SweepSpec.key`), so a changed spec never reuses old points. Only the parent process
writes (workers return their results), so no locking is needed.

When every point is there, :func:`assemble` builds an ``xarray.Dataset`` and
:func:`save_dataset` writes it atomically (scipy netCDF3 engine); the parts file is then
removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .quantities import MODELS
from .spec import SweepSpec

__all__ = ["PointStore", "assemble", "load_sweep", "save_dataset"]

_INT_FILL = -1  # an integer variable (phase, converged) at a failed point


class PointStore:
    """The append-only record of finished points of one spec.

    Each line is ``{"i": flat index, "v": {variable: number}, "e": error or null}``;
    the first line is ``{"spec": <canonical spec JSON>}``.
    """

    def __init__(self, out: str | os.PathLike, spec: SweepSpec) -> None:
        self.spec = spec
        self.folder = Path(str(out) + ".parts")
        self.path = self.folder / f"{spec.key}.jsonl"

    def load(self) -> dict[int, dict[str, Any]]:
        """The stored points ``{flat index: record}`` (unreadable lines are skipped: those
        points are computed again)."""
        if not self.path.exists():
            return {}
        records: dict[int, dict[str, Any]] = {}
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict) or "i" not in rec:
                    continue
                i = rec["i"]
                if isinstance(i, int) and 0 <= i < self.spec.n_points \
                        and isinstance(rec.get("v"), dict):
                    records[i] = rec
        return records

    def _repair(self) -> None:
        """Cut a torn last line so that the next append starts on a fresh line."""
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records and fsync (one call per finished batch)."""
        lines = [json.dumps(r, separators=(",", ":")) + "\n" for r in records]
        if not lines:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        if not fresh:
            self._repair()
        with open(self.path, "a", encoding="utf-8") as handle:
            if fresh:
                handle.write(json.dumps({"spec": json.loads(self.spec.to_json())}) + "\n")
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())

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


def assemble(spec: SweepSpec, records: Mapping[int, Mapping[str, Any]]) -> Any:
    """Build the ``xarray.Dataset`` of a complete sweep.

    Dims are the axes in spec order (coordinates with ``units``); the quantity is a variable
    of that shape (``float64``, or ``int32`` for integer quantities such as ``phase``, whose
    codes are named in the ``flag_values`` / ``flag_meanings`` attributes), plus any extra
    variables the quantity returns (``converged``). Attributes: ``spec`` (canonical JSON),
    ``spec_key``, ``replicasolve_version``, ``seed``, ``model``, ``quantity``,
    ``failed_points`` and ``errors`` (the first few messages).
    """
    import numpy as np
    import xarray as xr

    from .. import __version__

    missing = spec.n_points - len(records)
    if missing:
        raise InvalidInputError(f"sweep incomplete: {missing} of {spec.n_points} points missing")
    names: list[str] = []
    is_int: dict[str, bool] = {}
    for i in range(spec.n_points):
        for k, v in records[i]["v"].items():
            if k not in is_int:
                names.append(k)
                is_int[k] = True
            is_int[k] = is_int[k] and isinstance(v, int)
    if spec.quantity not in names:  # every point failed
        names.insert(0, spec.quantity)
        is_int[spec.quantity] = MODELS[spec.model].quantities[spec.quantity].labels is not None
    shape = spec.shape
    data = {k: np.full(shape, _INT_FILL if is_int[k] else np.nan,
                       dtype=np.int32 if is_int[k] else np.float64) for k in names}
    errors = []
    for i in range(spec.n_points):
        rec = records[i]
        idx = np.unravel_index(i, shape)
        if rec.get("e"):
            errors.append(f"point {dict(zip(spec.dims, _point(spec, idx), strict=True))}: "
                          f"{rec['e']}")
        for k, v in rec["v"].items():
            data[k][idx] = v
    q = MODELS[spec.model].quantities[spec.quantity]
    dims = spec.dims
    variables = {}
    for k in names:
        attrs: dict[str, Any] = {}
        if k == spec.quantity:
            attrs = {"units": q.unit, "long_name": q.description}
            if q.labels is not None:
                codes = sorted(q.labels)
                attrs["flag_values"] = np.array(codes, dtype=np.int32)
                attrs["flag_meanings"] = " ".join(q.labels[c] for c in codes)
                attrs["missing_value_code"] = _INT_FILL
        elif k == "converged":
            attrs = {"long_name": "1 if the solver converged, 0 if not, -1 if the point failed"}
        variables[k] = (dims, data[k], attrs)
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
        "failed_points": len(errors),
        "errors": "\n".join(errors[:10]),
    }
    for k, v in spec.fixed.items():
        if v is not None:
            attrs[f"param_{k}"] = v if not isinstance(v, list) else ",".join(map(str, v))
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _point(spec: SweepSpec, idx: tuple[Any, ...]) -> list[Any]:
    return [values[int(i)] for (_, values), i in zip(spec.axes, idx, strict=True)]


def save_dataset(ds: Any, out: str | os.PathLike) -> Path:
    """Write ``ds`` to netCDF at ``out`` atomically (scipy engine, netCDF3 64-bit offset)."""
    from .._files import atomic_target

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
