"""netCDF files of result Datasets: atomic writes, attributes that survive the round trip.

netCDF attributes hold only numbers, strings and arrays, so lists, dicts, booleans and None
are stored as JSON text and their names listed in the ``_json_attrs`` attribute; reading
decodes them again. The engine is netCDF4 or h5netcdf when installed, else scipy (netCDF3,
always available with scipy). xarray is imported inside the functions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import InvalidInputError
from .files import atomic_target

__all__ = ["read_netcdf", "write_netcdf"]

_JSON_ATTRS = "_json_attrs"


def _engine() -> str:
    for module, engine in (("netCDF4", "netcdf4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
        except ImportError:
            continue
        return engine
    return "scipy"


def write_netcdf(ds: Any, path: str | os.PathLike, *, force: bool = False,
                 make_parents: bool = False) -> Path:
    """Write ``ds`` to ``path`` atomically; an existing file is refused unless ``force``.

    ``make_parents`` creates missing folders (for files inside a run folder); otherwise a
    missing folder is an error (it is usually a typo in a path the user gave).

    Raises:
        InvalidInputError: ``ds`` is not a Dataset, ``path`` is a directory, exists without
            ``force``, or its folder does not exist (and ``make_parents`` is false).
    """
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        raise InvalidInputError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"{path} is a directory")
    if path.exists() and not force:
        raise InvalidInputError(f"{path} already exists (use --force / force=True to overwrite)")
    if not path.parent.is_dir() and not make_parents:
        raise InvalidInputError(f"{path}: no such directory {path.parent}")
    out = ds.copy()
    encoded = []
    for key, value in list(out.attrs.items()):
        if isinstance(value, (list, tuple, dict, bool)) or value is None:
            out.attrs[key] = json.dumps(value)
            encoded.append(key)
    out.attrs[_JSON_ATTRS] = json.dumps(encoded)
    with atomic_target(path) as tmp:
        out.to_netcdf(tmp, engine=_engine())
    return path


def read_netcdf(path: str | os.PathLike) -> Any:
    """Read a Dataset fully into memory (the file is closed) and decode its JSON attributes.

    Raises:
        InvalidInputError: the file is missing, not readable netCDF, or its attributes are
            damaged (the message names the file).
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    try:
        with xr.open_dataset(path) as handle:
            ds = handle.load()
    except Exception as exc:  # netCDF backends raise many types for a corrupt file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"{path}: not a readable netCDF file ({first})") from None
    try:
        for key in json.loads(ds.attrs.pop(_JSON_ATTRS, "[]")):
            ds.attrs[key] = json.loads(ds.attrs[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{path}: damaged attributes ({exc})") from None
    return ds
