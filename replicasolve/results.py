"""The one result contract of the library.

Every solver, engine and study returns a small frozen dataclass that derives from
:class:`Result`. The contract, the same for all of them:

- ``converged``: a bool; ``False`` means the numbers are not to be trusted as stated (the
  ``message`` says why). A result never hides a failure behind a bare float.
- ``errors``: a dict of the error estimates the result carries (fields whose names end in
  ``_error`` or ``_resolution``, and ``resolution``), each an estimate of how far the value
  it belongs to may be from the exact one.
- ``settings``: the options that produced it, where it has any.
- ``to_dict()``: a JSON-ready dict (floats, ints, strings, lists, nested dicts; non-finite
  floats as ``None``), the form the CLI's ``--json`` prints and sweeps store.
- ``table()``: a human-readable two-column summary, the form the CLI prints.

Field names agree across results: ``free_energy``, ``energy``, ``entropy`` (per degree of
freedom, energy units of H/N), ``q``, ``x``, ``replicon``, ``gain``, ``resolution``, ``T``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["Result", "jsonable"]

# the fields that carry error estimates, by name: a common suffix keeps them recognisable
_ERROR_SUFFIXES = ("_error", "_resolution")
_ERROR_NAMES = ("resolution",)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars and arrays become floats, ints and lists;
    NaN becomes ``None`` and ±inf the strings ``"inf"``/``"-inf"`` (strict JSON has neither,
    and an infinite β_c or energy must stay distinguishable from a missing one); results
    and other objects with ``to_dict`` become dicts, dataclasses their field dicts, and
    anything else its ``str``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v):
            return v
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def _scalar_text(value: Any) -> str | None:
    """A short text for a table cell, or None for values that do not fit one line."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.10g}"
    if isinstance(value, str):
        return value if "\n" not in value and len(value) <= 120 else None
    if isinstance(value, (tuple, list, np.ndarray)):
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged (one row per level of different lengths)
            return None
        if arr.dtype.kind in "biuf" and arr.ndim == 1 and arr.size <= 12:
            return np.array2string(arr.astype(float), precision=6, max_line_width=200)
    return None


class Result:
    """Base of every result class (a mixin without fields: subclasses are frozen
    dataclasses that declare ``converged`` and their values).

    Subclasses may override :meth:`to_dict` and :meth:`table` where a better form exists
    (``ParisiResult`` prints its k → ∞ extrapolation); the defaults here serve the rest."""

    converged: bool

    @property
    def errors(self) -> dict[str, float]:
        """The error estimates this result carries, by field name (non-finite ones, meaning
        not estimated, left out)."""
        out: dict[str, float] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            name = f.name
            if name in _ERROR_NAMES or name.endswith(_ERROR_SUFFIXES):
                v = getattr(self, name)
                if isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v):
                    out[name] = float(v)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (see :func:`jsonable`), plus ``kind`` (the class
        name) and ``converged``."""
        d: dict[str, Any] = {"kind": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            d[f.name] = jsonable(getattr(self, f.name))
        d["converged"] = bool(self.converged)
        return d

    def table(self) -> str:
        """A two-column summary: every field that fits on one line, ``converged`` last."""
        rows = [(type(self).__name__, "")]
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name in ("converged", "settings", "message"):
                continue
            text = _scalar_text(getattr(self, f.name))
            if text is not None:
                rows.append((f.name, text))
        message = getattr(self, "message", "")
        if message:
            rows.append(("message", str(message)))
        rows.append(("converged", str(bool(self.converged))))
        width = max(len(a) for a, _ in rows)
        return "\n".join(f"{a:<{width}}  {b}".rstrip() for a, b in rows)
